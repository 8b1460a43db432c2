"""The auto-QA page's parts (qa_lib.reports.autoqa_page): the answer first, labels not ids, every text escaped."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from qa_lib.errors import NotFoundError
from qa_lib.reports import autoqa_page as A

HOSTILE = "<script>alert(1)</script>=HYPERLINK(\"x\")"


def _folder(tmp_path, *, gate=True, drifted=False):
    d = tmp_path / "_data" / "autoqa"
    d.mkdir(parents=True)
    items = pd.DataFrame({"item_id": ["item_a", "item_b"], "label_zh": ["开场问候", "核实身份"], "label_en": ["Greeting", "Identity check"],
                          "kind": ["yes_no", "yes_no"], "has_rules": [True, False]})
    g = pd.DataFrame({"scorecard_id": "card_x", "item_id": ["item_a", "item_b"], "source": ["rule", "model"], "version": ["card_x.v1", "m1"],
                      "n": [300, 300], "answered": [300, 240], "abstain_rate": [0.0, 0.2], "ac1": [0.93, 0.7], "ac1_lo": [0.9, 0.62],
                      "ac1_hi": [0.95, 0.77], "kappa": [0.7, 0.4], "kappa_lo": [0.6, 0.3], "kappa_hi": [0.8, 0.5], "inspectors_ac1": [0.9, 0.9],
                      "inspectors_lo": [0.85, 0.85], "inspectors_hi": [0.94, 0.94], "diff_lo": [-0.02, -0.3], "margin": 0.1,
                      "accepted": [True, False], "drifted": [drifted, False], "n_needed": [95, 400], "na_auto_only": [0, 2], "na_human_only": [0, 1],
                      "reason_zh": ["通过验收", HOSTILE], "reason_en": ["accepted", HOSTILE],
                      "confusion": [json.dumps({"yes": {"yes": 250, "no": 10, "abstain": 0}, "no": {"yes": 5, "no": 35, "abstain": 0}}), None]})
    tables = {"items": items, "gate": g if gate else g.iloc[:0], "drift": pd.DataFrame(), "coverage": pd.DataFrame(),
              "precision": pd.DataFrame(), "ppi": pd.DataFrame()}
    for name, df in tables.items():
        df.to_parquet(d / f"{name}.parquet", index=False)
    meta = {"month": "2026-10", "scorecard_id": "card_x", "version": 1, "name_zh": "呼入质检表", "name_en": "Inbound card", "transcripts": 9044,
            "answered_contacts": 9000, "rule_items": 1, "scorer": {}}
    (d / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("lang, first, label", [("zh", "本月 9,044 通", "开场问候"), ("en", "9,044 calls with a transcript", "Greeting")])
def test_the_first_sentence_answers_and_items_read_as_labels(tmp_path, lang, first, label):
    view = A.autoqa_view(_folder(tmp_path), lang)
    head = A.autoqa_headline(view)
    assert first in head and label in head and "item_a" not in head
    table = A.gate_html(view)
    assert label in table and "item_a" not in table and "nan" not in table.lower()
    assert "<script>" not in table and "&lt;script&gt;" in table  # a reason (or any text) is escaped
    conf = A.confusion_html(view)
    assert label in conf and "250" in conf
    assert A.drift_html(view) and A.autoqa_glossary(view).startswith("<details")


def test_the_first_sentence_names_the_learned_scorer_or_says_rules_only(tmp_path):
    folder = _folder(tmp_path)
    view = A.autoqa_view(folder, "zh")
    assert "只用规则" in A.autoqa_headline(view)
    meta_path = folder / "_data" / "autoqa" / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["scorer"] = {"version": "ab12cd34ef56", "trained_at": "2026-11-30T08:00:00", "n_train": 2402}
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    zh, en = A.autoqa_headline(A.autoqa_view(folder, "zh")), A.autoqa_headline(A.autoqa_view(folder, "en"))
    assert "学习模型 ab12cd34ef56（2026-11-30 用 2,402 通人工评分过的电话训练）" in zh and "只用规则" not in zh
    assert "Learned scorer ab12cd34ef56 (trained 2026-11-30 on 2,402 human-scored calls)" in en
    meta["scorer"] = {"version": "ab12cd34ef56"}  # its manifest is gone: the version alone, never "rules only"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    zh = A.autoqa_headline(A.autoqa_view(folder, "zh"))
    assert "学习模型 ab12cd34ef56。" in zh and "只用规则" not in zh


def test_a_drifted_item_is_not_counted_as_accepted(tmp_path):
    view = A.autoqa_view(_folder(tmp_path, drifted=True), "en")
    assert "No item is accepted yet" in A.autoqa_headline(view)
    assert "drifted: back to suggestions" in A.gate_html(view)


def test_without_a_gate_the_page_says_what_to_run(tmp_path):
    view = A.autoqa_view(_folder(tmp_path, gate=False), "zh")
    assert "qa autoqa validate" in A.autoqa_headline(view) and "qa autoqa validate" in A.gate_html(view)
    assert A.ppi_html(view).count("<p>") == 1


def test_missing_tables_are_a_clear_error(tmp_path):
    with pytest.raises(NotFoundError, match="qa report autoqa"):
        A.autoqa_view(tmp_path, "zh")
