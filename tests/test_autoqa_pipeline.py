"""Auto-QA over the sample center's store: rules on every transcript, the gate on the random arm, drift, automatic
scores, prediction-powered estimates, the page's tables (qa_lib.autoqa.pipeline)."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from conftest import store_copy
from qa_lib.autoqa import pipeline as P
from qa_lib.errors import NotFoundError, ParameterError


@pytest.fixture(scope="module")
def aq(loaded_store, tmp_path_factory):
    """A copy of the sample store with the rules run on the last two months and the gate run on them."""
    folder = tmp_path_factory.mktemp("aq")
    s = store_copy(loaded_store, folder)
    card = P.headline_card(s)
    p = s.latest_month()
    runs = [P.run_month(s, card, m, chunk=2500) for m in (p - 1, p)]
    gate = P.validate(s, card, n_boot=300)
    return {"store": s, "card": card, "month": p, "runs": runs, "gate": gate, "folder": folder}


def test_every_transcript_the_card_applies_to_is_answered_once_per_item(aq):
    s, card, p = aq["store"], aq["card"], aq["month"]
    run = aq["runs"][-1]
    contacts = pd.concat(list(s.transcript_contacts(p)))
    assert run.contacts == int(card.applies(contacts).sum()) > 1000
    auto = s.auto_answers(scorecard_id=card.id, month=p)
    with_rules = [it.id for it in card.items if it.auto]
    assert auto.groupby("item_id")["contact_id"].nunique().reindex(with_rules).eq(run.contacts).all()
    assert set(auto["source"]) == {"rule"} and set(auto["answer"].dropna()) <= {"yes", "partial", "no", "na"}
    # running again replaces: the same number of rows
    again = P.run_month(s, card, p, chunk=5000)
    assert again.rule_answers == run.rule_answers and len(s.auto_answers(scorecard_id=card.id, month=p)) == len(auto)


def test_a_card_without_rules_and_no_scorer_is_refused(aq):
    card = aq["store"].scorecard("followup_call")
    bare = card.__class__(**{**card.__dict__, "sections": tuple(
        sec.__class__(**{**sec.__dict__, "items": tuple(it.__class__(**{**it.__dict__, "auto": None}) for it in sec.items)}) for sec in card.sections)})
    with pytest.raises(ParameterError, match="declares no rules"):
        P.run_month(aq["store"], bare, aq["month"])


def test_the_gate_compares_rules_with_the_random_arm_and_stores_its_decisions(aq):
    g, s, card = aq["gate"], aq["store"], aq["card"]
    assert set(g["source"]) == {"rule"} and g["n"].min() >= 50
    human = P.human_answers(s, card)
    assert set(human["arm"]) == {"random"} and not human.duplicated(["contact_id", "item_id"]).any()
    stored = s.gate_decisions(card.id)
    assert set(stored["item_id"]) == set(g["item_id"]) and stored["confusion"].map(lambda t: isinstance(json.loads(t), dict)).all()
    # the planted ambiguous item is the one inspectors agree on least (calibration); the rules' AC1 is in [−1, 1]
    assert stored.set_index("item_id")["inspectors_ac1"].idxmin() == "needs_analysis"
    assert g["ac1"].between(-1, 1).all() and (g["ac1_lo"] <= g["ac1"]).all() and (g["ac1"] <= g["ac1_hi"]).all()
    # accepted answers are flagged so on read
    acc = set(stored.loc[stored["accepted"], "item_id"])
    auto = s.auto_answers(scorecard_id=card.id, month=aq["month"])
    assert set(auto.loc[auto["accepted"], "item_id"]) == acc


def test_drift_check_flags_nothing_when_nothing_changed(aq):
    d = P.drift_check(aq["store"], aq["card"], save=False)
    assert len(d) and not d["drifted"].any()


def test_automatic_scores_are_the_cards_own_roll_up(aq):
    s, card, p = aq["store"], aq["card"], aq["month"]
    auto = s.auto_answers(scorecard_id=card.id, month=p)
    contacts = pd.concat(list(s.transcript_contacts(p))).drop(columns="transcript")
    scores = P.auto_scores(card, auto, contacts)
    bonus = sum(it.points for it in card.items if it.bonus)
    assert scores.between(0, 100 + bonus).all() and len(scores) == auto["contact_id"].nunique()
    # a call whose every automatic answer is a pass, without the bonus, scores what the card gives a perfect call: 100
    bonus_ids = {it.id for it in card.items if it.bonus}
    plain = auto[~auto["item_id"].isin(bonus_ids)].groupby("contact_id")["answer"].agg(lambda a: set(a.dropna()) <= {"yes", "na"})
    no_bonus = auto[auto["item_id"].isin(bonus_ids)].groupby("contact_id")["answer"].agg(lambda a: (a == "no").all())
    perfect = plain[plain & no_bonus.reindex(plain.index, fill_value=True)].index
    assert len(perfect) > 100 and scores[perfect].eq(100).all()
    assert scores.max() == 100 + bonus  # a perfect call with the bonus


def test_prediction_powered_estimates_are_narrower_than_the_human_ones(aq):
    """Measured on the sample's October: the center's mean-score interval is ~0.80 of the human-only width."""
    ppi = P.prediction_powered(aq["store"], aq["card"], aq["month"])
    center = ppi[(ppi["group"] == "") & (ppi["metric"] == "score")].iloc[0]
    assert center["lo"] < center["estimate"] < center["hi"] and center["n"] > 300 and center["N"] > 5000
    assert (center["hi"] - center["lo"]) < (center["classical_hi"] - center["classical_lo"])
    assert center["n_effective"] > 1.2 * center["n"]
    assert set(ppi["group"]) == {"", *aq["store"].read("agents")["team"].unique()}
    rates = ppi[ppi["metric"] == "pass_rate"]
    assert rates["estimate"].between(0, 1).all() and set(rates["item_id"]) <= {it.id for it in aq["card"].items}
    # every always-applicable item takes part, accepted or not, and says which it is (the gate's decision)
    stored = aq["store"].gate_decisions(aq["card"].id)
    acc = set(stored.loc[stored["accepted"].astype(bool), "item_id"])
    flags = rates.drop_duplicates("item_id").set_index("item_id")["accepted"]
    assert flags.map(type).eq(bool).all() and set(flags[flags].index) == acc & set(flags.index)
    assert ppi.loc[ppi["metric"] == "score", "accepted"].isna().all()


def test_the_team_section_marks_unaccepted_items_and_names_the_official_figure(aq):
    from qa_lib.reports.tables import team_autoqa_html

    ppi = P.prediction_powered(aq["store"], aq["card"], aq["month"])
    team = sorted(set(ppi["group"]) - {""})[0]
    rows = ppi[ppi["group"].isin([team, ""])].copy()
    items = sorted(rows["item_id"].dropna().unique())
    assert len(items) >= 2
    rows["accepted"] = rows["item_id"].map({i: k % 2 == 0 for k, i in enumerate(items)}).astype(object)
    view = {"team": team, "lang": "zh", "ppi": rows, "card_items": pd.DataFrame(columns=["scorecard_id", "item_id", "label_zh", "label_en"])}
    zh = team_autoqa_html(view, "zh")
    assert "未通过验收" in zh and "已通过验收" in zh and "正式口径仍是仅用人工随机抽检的数字" in zh and "质检项" in zh and "题目" not in zh
    en = team_autoqa_html(view, "en")
    assert "not accepted" in en and "The official figure remains the human-only one" in en
    # a table prepared before the flag existed says nothing rather than "not accepted" for an accepted item
    old = team_autoqa_html({**view, "ppi": rows.drop(columns="accepted")}, "zh")
    assert "已通过验收" not in old and "<td>未通过验收</td>" not in old and "<td>—</td>" in old


def test_no_automatic_answers_is_a_clear_error(loaded_store):
    card = P.headline_card(loaded_store)
    with pytest.raises(NotFoundError, match="qa autoqa run"):
        P.prediction_powered(loaded_store, card, loaded_store.latest_month())
    with pytest.raises(NotFoundError, match="qa autoqa run"):
        P.validate(loaded_store, card, n_boot=200, save=False)


def _manifests(models, card_id):
    for name, n, when in (("old", 2402, 1), ("new", 100, 2)):
        d = models / card_id / name
        d.mkdir(parents=True)
        (d / "manifest.json").write_text(json.dumps({"version": name, "trained_at": f"2026-11-2{when}",
                                                     "n_per_item": {"a": {"yes": n - 40, "no": 40}, "b": {"yes": n - 5}}}), encoding="utf-8")
        os.utime(d / "manifest.json", (when * 1e9, when * 1e9))


def test_the_page_names_the_scorer_that_answered_the_month(aq, tmp_path):
    """Not the newest model on disk: the one whose answers the month holds (a retrain after the run, a past month)."""
    models = tmp_path / "models"
    _manifests(models, aq["card"].id)
    s = store_copy(aq["store"], tmp_path)
    contacts = s.auto_answers(scorecard_id=aq["card"].id, month=aq["month"])["contact_id"].unique()[:50]
    fake = pd.DataFrame({"contact_id": contacts, "item_id": "closing", "source": "model", "answer": "yes", "probability": 0.9, "version": "old"})
    s.save_auto_answers(fake, scorecard_id=aq["card"].id)
    out = P.prepare_autoqa(s, aq["month"], tmp_path / "month", models=models)
    assert json.loads((out / "meta.json").read_text(encoding="utf-8"))["scorer"] == {"version": "old", "trained_at": "2026-11-21", "n_train": 2402}


def test_the_page_tables_are_prepared(aq):
    models = aq["folder"] / "models"
    _manifests(models, aq["card"].id)
    out = P.prepare_autoqa(aq["store"], aq["month"], aq["folder"] / "month", models=models)
    assert json.loads((out / "meta.json").read_text(encoding="utf-8"))["scorer"] == {}  # rules only answered: no scorer named
    assert P.autoqa_prepared(aq["folder"] / "month", aq["month"])
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["answered_contacts"] == aq["runs"][-1].contacts == meta["transcripts"]
    cov = pd.read_parquet(out / "coverage.parquet")
    assert cov[[c for c in ("yes", "partial", "no", "na", "abstain") if c in cov.columns]].sum(axis=1).eq(meta["transcripts"]).all()
    assert not P.autoqa_prepared(aq["folder"] / "month", aq["month"] - 1)
    assert np.isfinite(pd.read_parquet(out / "ppi.parquet")["estimate"]).any()


def test_the_scorer_answers_its_own_training_calls_with_held_out_answers(aq):
    """A model answering the calls it learnt from agrees with their human answers better than it ever will on new
    calls; stored answers on those calls are its cross-validated ones, so drift and PPI see honest agreement."""
    from qa_lib.autoqa.scorer import train_scorers

    s, card = aq["store"], aq["card"]
    human = P.human_answers(s, card)
    calls = human["contact_id"].drop_duplicates().sample(600, random_state=0)
    texts = pd.Series(s.transcripts(calls)).sort_index()
    train = human[human["contact_id"].isin(texts.index[:400]) & human["item_id"].isin(["identity_check", "confirmation"])]
    bundle = train_scorers(texts[:400], train[["contact_id", "item_id", "answer"]], card, folds=3, seed=0, min_per_class=5)
    raw = bundle.predict(texts)
    fixed = P.held_out_where_trained(bundle, raw)
    assert len(fixed) == len(raw) and fixed["contact_id"].tolist() == raw["contact_id"].tolist()
    both = fixed.merge(bundle.cv_predictions[["contact_id", "item_id", "answer"]], on=["contact_id", "item_id"], suffixes=("", "_cv"))
    assert len(both) == len(train) and both["answer"].fillna("-").astype(str).eq(both["answer_cv"].fillna("-").astype(str)).all()
    new = ~fixed["contact_id"].isin(train["contact_id"])
    assert fixed.loc[new, "answer"].fillna("-").astype(str).eq(raw.loc[new, "answer"].fillna("-").astype(str)).all()  # untouched elsewhere

    def agree(frame):
        m = frame.merge(train, on=["contact_id", "item_id"], suffixes=("", "_h"))
        m = m[m["answer"].notna()]
        return (m["answer"] == m["answer_h"]).mean()

    assert agree(raw) > agree(fixed)  # in-sample answers look better than they are
