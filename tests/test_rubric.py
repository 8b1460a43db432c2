"""Scorecards: format validation with YAML paths, answer validation, and scoring both styles.

The expected totals below are worked by hand in the comments (weighted: section = Σ w·credit / Σ applicable w,
total = Σ W·section / Σ W of sections with an applicable item; deduction: 100 − Σ deductions, floor 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qa_lib.config import samples_dir
from qa_lib.errors import ParameterError, ValidationError
from qa_lib.rubric import check_answers, load_scorecard, normalize_answers, ranking_changes, rescore, score

WEIGHTED = """
id: hand
version: 1
style: weighted
name: {zh: 手算, en: Hand worked}
sections:
  - id: a
    name: {zh: 甲, en: A}
    weight: 2
    items:
      - {id: a1, kind: yes_no, weight: 1, label: {zh: 一, en: one}}
      - {id: a2, kind: yes_partial_no, weight: 3, label: {zh: 二, en: two}}
      - {id: a3, kind: scale, scale: [0, 4], weight: 2, label: {zh: 三, en: three}}
      - {id: a4, kind: yes_no, weight: 1, na: exclude, label: {zh: 四, en: four}}
      - {id: a5, kind: yes_no, weight: 1, na: pass, label: {zh: 五, en: five}}
  - id: b
    name: {zh: 乙, en: B}
    weight: 1
    items:
      - {id: b1, kind: yes_no, critical: section, label: {zh: 六, en: six}}
      - {id: b2, kind: yes_no, label: {zh: 七, en: seven}}
  - id: c
    name: {zh: 丙, en: C}
    weight: 1
    items:
      - {id: c1, kind: yes_no, critical: evaluation, label: {zh: 八, en: eight}}
      - {id: complained, kind: yes_no, scored: false, label: {zh: 抱怨, en: complained}}
      - {id: c2, kind: yes_no, when: {item: complained, in: ["yes"]}, label: {zh: 九, en: nine}}
      - {id: esc, kind: yes_no, when: {contact: [escalated]}, label: {zh: 升级, en: escalation}}
  - id: x
    name: {zh: 加分, en: Bonus}
    weight: 0
    items:
      - {id: x1, kind: yes_no, bonus: true, points: 3, label: {zh: 加分, en: bonus}}
"""

BASE = {"a1": "yes", "a2": "partial", "a3": "3", "a4": "na", "a5": "na", "b1": "yes", "b2": "no", "c1": "yes", "complained": "no", "x1": "yes"}


def long(**evals) -> pd.DataFrame:
    rows = [(e, i, a) for e, ans in evals.items() for i, a in ans.items()]
    return pd.DataFrame(rows, columns=["evaluation_id", "item_id", "answer"])


@pytest.fixture(scope="module")
def card():
    return load_scorecard(WEIGHTED)


def totals(card, answers, **kw):
    return score(card, answers, **kw).totals.set_index("evaluation_id")["total"]


def test_weighted_hand_worked(card):
    answers = long(
        E1=BASE,
        E2={**BASE, "b1": "no"},  # critical: section -> section b scores 0
        E3={**BASE, "c1": "no"},  # critical: evaluation -> 0, bonus does not rescue
        E4={**BASE, "complained": "yes", "c2": "no"},  # conditional item now applies
        E5={**BASE, "a4": "no", "x1": "no"},  # N/A exclude vs a real answer; no bonus
    )
    got = totals(card, answers)
    # A: (1·1 + 3·0.5 + 2·0.75 + 1·1[a5 N/A counts as pass]) / (1+3+2+1) = 5/7; a4 N/A excluded
    a = 100 * 5 / 7
    assert got["E1"] == pytest.approx((2 * a + 1 * 50 + 1 * 100) / 4 + 3)  # 76.2142857
    assert got["E2"] == pytest.approx((2 * a + 0 + 100) / 4 + 3)  # 63.7142857
    assert got["E3"] == 0
    assert got["E4"] == pytest.approx((2 * a + 50 + 50) / 4 + 3)  # C = (1 + 0) / 2
    a5 = 100 * 5 / 8  # a4 answered "no": weight 1 joins the denominator
    assert got["E5"] == pytest.approx((2 * a5 + 50 + 100) / 4)
    res = score(card, answers)
    t = res.totals.set_index("evaluation_id")
    assert t.loc["E3", "critical_failed"] and not t.loc["E1", "critical_failed"]
    assert t.loc["E1", "band"] == "70–80" and t.loc["E3", "band"] == "<60"
    assert t.loc["E1", "failed_items"] == "b2"
    sec = res.sections.set_index(["evaluation_id", "section"])["score"]
    assert sec["E2", "b"] == 0 and sec["E1", "b"] == 50 and np.isnan(sec["E1", "x"])
    items = res.items.set_index(["evaluation_id", "item_id"])
    assert not items.loc[("E1", "c2"), "applicable"] and items.loc[("E4", "c2"), "applicable"]
    assert items.loc[("E1", "a3"), "credit"] == 0.75 and np.isnan(items.loc[("E1", "a4"), "credit"])


def test_contact_conditions_use_the_context(card):
    answers = long(E1={**BASE, "esc": "no"}, E2={**BASE, "esc": "no"})
    ctx = pd.DataFrame({"evaluation_id": ["E1", "E2"], "escalated": [True, False]})
    got = totals(card, answers, context=ctx)
    assert got["E1"] == pytest.approx((2 * 100 * 5 / 7 + 50 + 50) / 4 + 3)  # esc counts: C = (1 + 0) / 2
    assert got["E2"] == pytest.approx((2 * 100 * 5 / 7 + 50 + 100) / 4 + 3)  # not escalated: esc ignored


DEDUCTION = """
id: ded
version: 2
style: deduction
name: {zh: 扣分, en: Deduction}
sections:
  - id: s1
    name: {zh: 一, en: one}
    items:
      - {id: d1, kind: yes_no, deduct: 20, critical: section, label: {zh: 一, en: one}}
      - {id: d2, kind: yes_partial_no, deduct: 10, label: {zh: 二, en: two}}
  - id: s2
    name: {zh: 二, en: two}
    items:
      - {id: d3, kind: deduction, deduct: 2, max_count: 5, label: {zh: 三, en: three}}
      - {id: d4, kind: scale, scale: [0, 10], deduct: 10, label: {zh: 四, en: four}}
      - {id: d5, kind: yes_no, deduct: 5, na: exclude, label: {zh: 五, en: five}}
      - {id: bonus, kind: yes_no, bonus: true, points: 5, label: {zh: 加, en: plus}}
"""


def test_deduction_hand_worked():
    card = load_scorecard(DEDUCTION)
    ok = {"d1": "yes", "d2": "partial", "d3": "3", "d4": "7", "d5": "na", "bonus": "yes"}
    answers = long(E1=ok, E2={**ok, "d1": "no", "d2": "no", "d3": "5", "d4": "0", "d5": "no", "bonus": "no"}, E3={k: "yes" for k in ok} | {"d3": "0", "d4": "10"})
    res = score(card, answers)
    got = res.totals.set_index("evaluation_id")["total"]
    assert got["E1"] == pytest.approx(100 - 5 - 6 - 3 + 5)  # partial = half of 10; 3 faults × 2; (10−7)/10 × 10; +5 bonus = 91
    assert got["E2"] == pytest.approx(100 - 30 - 25)  # d1 critical: section s1 loses its whole 30; s2: 10 + 10 + 5 = 45
    assert got["E3"] == pytest.approx(105)  # no faults, bonus on top of 100 (seed 002: 110 or more earns a bonus)
    sec = res.sections.set_index(["evaluation_id", "section"])
    assert sec.loc[("E2", "s1"), "deducted"] == 30 and sec.loc[("E2", "s1"), "score"] == 0
    assert sec.loc[("E1", "s2"), "score"] == pytest.approx(100 * (1 - 9 / 20))  # 9 of a possible 10 + 10 (d5 N/A)


def test_deduction_floors_at_zero():
    card = load_scorecard(DEDUCTION.replace("deduct: 2, max_count: 5", "deduct: 20, max_count: 5"))
    answers = long(E1={"d1": "yes", "d2": "no", "d3": "5", "d4": "0", "d5": "no"})  # 100 − 10 − 100 − 10 − 5 < 0
    assert totals(card, answers)["E1"] == 0


def test_what_if_style_switch(card):
    answers = long(E1={**BASE, "b2": "yes", "a2": "yes", "a3": "4"}, E2={**BASE, "b2": "yes", "a2": "yes", "a3": "4", "a1": "no"})
    ded = totals(card, answers, style="deduction")
    # a1's share of 100: section a is 2/4 of the total, a1 is 1/8 of section a's item weight -> 6.25 points
    assert ded["E1"] == pytest.approx(100 + 3) and ded["E2"] == pytest.approx(100 - 6.25 + 3)
    with pytest.raises(ParameterError, match="style must be one of weighted, deduction; got 'points'"):
        score(card, answers, style="points")


def test_order_of_rows_and_evaluations_does_not_matter(card):
    answers = long(E1=BASE, E2={**BASE, "b1": "no"}, E3={**BASE, "a2": "no"})
    a = totals(card, answers)
    shuffled = answers.sample(frac=1, random_state=3).reset_index(drop=True)
    pd.testing.assert_series_equal(a.sort_index(), totals(card, shuffled).sort_index())


def test_answer_validation_names_evaluation_and_item(card):
    bad = long(
        E1={**BASE, "a3": "5"},  # out of the 0-4 scale
        E2={**BASE, "b1": "na"},  # N/A not allowed
        E3={k: v for k, v in BASE.items() if k != "a1"},  # required item missing
        E4={**BASE, "c2": "yes"},  # condition false (complained = no)
        E5={**BASE, "zz": "yes", "a2": "maybe"},
    )
    got = [p.message for p in check_answers(card, bad)]
    assert "evaluation E1: item a3: '5' is not an allowed answer (0|1|2|3|4)" in got
    assert "evaluation E2: item b1: N/A is not allowed for this item" in got
    assert "evaluation E3: item a1: missing answer (required)" in got
    assert "evaluation E4: item c2: answered although its condition (complained in ['yes']) is false" in got
    assert "evaluation E5: item 'zz' is not in scorecard hand v1" in got
    assert "evaluation E5: item a2: 'maybe' is not an allowed answer (yes|partial|no)" in got
    assert check_answers(card, long(E1=BASE)) == []


def test_answers_are_normalized(card):
    answers = long(E1={**BASE, "a1": "是", "a2": "部分", "b2": "N/A"})
    assert normalize_answers(card, answers).tolist()[:2] == ["yes", "partial"]
    assert card.item("a4").options == ("yes", "no", "na") and card.item("a1").options == ("yes", "no")
    assert card.item("a3").options == ("0", "1", "2", "3", "4")


@pytest.mark.parametrize(
    "change, path, line, message",
    [
        (("kind: yes_no, weight: 1, label: {zh: 一", "kind: yesno, weight: 1, label: {zh: 一"), "sections[0].items[0].kind", 11, "must be one of yes_no, yes_partial_no, scale, deduction; got 'yesno'"),
        (("id: a2,", "id: a1,"), "sections[0].items[1].id", 12, "duplicate item id 'a1' (first at sections[0].items[0])"),
        (("weight: 3", "weight: -3"), "sections[0].items[1].weight", 12, "must be a number ≥ 0; got -3"),
        (("item: complained", "item: complaint"), "sections[2].items[2].when.item", 28, "points at a missing item 'complaint'"),
        (("scale: [0, 4]", "scale: [4, 0]"), "sections[0].items[2].scale", 13, "must be [min, max] with min < max; got [4, 0]"),
        (("critical: section", "critical: team"), "sections[1].items[0].critical", 20, "must be one of evaluation, section; got 'team'"),
        (("na: pass", "na: maybe"), "sections[0].items[4].na", 15, "must be one of not_allowed, exclude, pass; got 'maybe'"),
        (("points: 3", "points: 0"), "sections[3].items[0].points", 34, "a bonus item needs points > 0; got 0"),
        (("label: {zh: 七, en: seven}", "label: {zh: 七}"), "sections[1].items[1].label", 21, "needs both zh and en text, e.g. {zh: 问候, en: Greeting}"),
        (("when: {contact: [escalated]}", "when: {contact: [angry]}"), "sections[2].items[3].when.contact", 29, "must be a list of contact flags from transferred, escalated, abandoned, customer_opted_out; got ['angry']"),
        (("{id: b2, kind: yes_no,", "{id: b2, kind: yes_no, wieght: 2,"), "sections[1].items[1].wieght", 21, None),
    ],
)
def test_format_errors_name_the_yaml_path_and_line(change, path, line, message):
    text = WEIGHTED.replace(*change)
    with pytest.raises(ValidationError) as info:
        load_scorecard(text)
    got = {(p.column, p.row): p.message for p in info.value.problems}
    assert (path, line) in got, got
    if message:
        assert got[(path, line)] == message
    else:
        assert got[(path, line)].startswith("unknown key; allowed:")


def test_deduction_items_need_points_and_yaml_errors():
    with pytest.raises(ValidationError, match="sections\\[0\\].items\\[0\\].deduct: missing"):
        load_scorecard(DEDUCTION.replace("deduct: 20, ", ""))
    with pytest.raises(ValidationError, match="not valid YAML"):
        load_scorecard("id: [unclosed\n")
    with pytest.raises(ValidationError, match="a scorecard is a mapping"):
        load_scorecard("- just\n- a list\n")
    with pytest.raises(ParameterError, match="existing YAML file"):
        load_scorecard("missing.yaml")


def test_sample_scorecards_load_and_score_the_generated_evaluations():
    ev = pd.read_csv(samples_dir() / "evaluations.csv", dtype=str, keep_default_na=False)
    for name, style in (("inbound_service", "weighted"), ("followup_call", "deduction")):
        card = load_scorecard(samples_dir() / "scorecards" / f"{name}.v1.yaml")
        assert card.style == style
        for it in card.items:
            assert set(it.label) == {"zh", "en"} and set(it.guidance) == {"zh", "en"}
        part = ev[ev["scorecard_id"] == name]
        ctx = None
        assert check_answers(card, part, context=ctx) == []
        t = score(card, part).totals
        assert len(t) == part["evaluation_id"].nunique()
        assert t["total"].between(0, 110).all() and t["total"].median() > 80


def test_rescore_and_ranking_changes(card):
    answers = long(E1=BASE, E2={**BASE, "a1": "no"}, E3={**BASE, "b2": "yes"})
    head = pd.DataFrame({"evaluation_id": ["E1", "E2", "E3"], "agent_id": ["A", "B", "C"]})
    head["total_score"] = head["evaluation_id"].map(totals(card, answers))
    heavier = load_scorecard(WEIGHTED.replace("version: 1", "version: 2").replace("id: a1, kind: yes_no, weight: 1", "id: a1, kind: yes_no, weight: 20"))
    res = rescore(answers, head, heavier)
    assert (res.loc[res["evaluation_id"] != "E2", "change"] > 0).all() and res.loc[res["evaluation_id"] == "E2", "change"].item() < 0
    ranks = ranking_changes(res).set_index("agent_id")
    assert ranks.loc["C", "original_rank"] == 1 and ranks.loc["B", "what_if_rank"] == 3
    assert ranks["rank_change"].sum() == 0
    same = rescore(answers, head, card)
    assert (same["change"].abs() < 1e-9).all()
    with pytest.raises(ParameterError, match="missing 'total_score'"):
        rescore(answers, head.drop(columns="total_score"), card)


# ----------------------------------------------------------------------------- hostile YAML
# tests/data/bad/*.yaml (see make_corpus.py). PyYAML's safe_load refuses Python objects but keeps
# aliases as shared references: the 656-byte "billion laughs" loads in milliseconds as a graph
# that expands to 9**10 strings when walked, which the scorecard validator (and any JSON dump)
# does. qa_lib.ingest.safe_yaml refuses aliases, deep nesting and huge files before loading.
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

from qa_lib import training, voc  # noqa: E402
from qa_lib.errors import ConfigError  # noqa: E402
from qa_lib.ingest import MAX_YAML_BYTES, safe_yaml  # noqa: E402

BAD = Path(__file__).parent / "data" / "bad"
HOSTILE = {  # file: (line, what the refusal must say: its meaning, not a library's wording)
    "billion_laughs.yaml": (7, r"alias"),
    "deep_nesting.yaml": (2, r"nest"),
    "python_tag.yaml": (1, r"python/object/apply:os\.system"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yaml_is_refused_by_every_loader(name, tmp_path):
    """Each loader names the file and the line and refuses the document; nothing is built from it."""
    line, meaning = HOSTILE[name]
    path = BAD / name
    with pytest.raises(ValidationError) as info:
        load_scorecard(path)
    [problem] = info.value.problems
    assert (problem.source, problem.row) == (name, line) and re.search(meaning, problem.message, re.I), problem
    with pytest.raises(ValidationError, match="nothing was stored"):
        load_scorecard(path.read_text(encoding="utf-8"))  # the same as YAML text
    for loader in (voc.load_taxonomy, training.load_modules):
        with pytest.raises(ConfigError) as info:
            loader(path)
        text = str(info.value)
        assert text.startswith(f"{path}: line {line}: ") and re.search(meaning, text, re.I), text


def test_store_refuses_a_yaml_bomb_scorecard(store):
    before = store.counts()
    with pytest.raises(ValidationError, match=r"billion_laughs\.yaml:7:: YAML aliases are not allowed"):
        store.add_scorecard(BAD / "billion_laughs.yaml")
    assert store.counts() == before


def test_safe_yaml_limits_and_sample_files(tmp_path):
    for p in [*sorted((samples_dir() / "scorecards").glob("*.yaml")), samples_dir() / "voc_taxonomy.yaml", samples_dir() / "training_modules.yaml"]:
        assert safe_yaml(p.read_bytes(), p.name) == yaml.safe_load(p.read_text(encoding="utf-8-sig"))
    data, node = safe_yaml("a: [1, {b: 2}]\n", "x.yaml", compose=True)
    assert data == {"a": [1, {"b": 2}]} and isinstance(node, yaml.MappingNode)
    big = tmp_path / "big.yaml"
    big.write_text("modules:\n" + "  - {id: M, title: x, skills: [a], hours: 1}\n" * (MAX_YAML_BYTES // 40), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"big\.yaml: line 0: YAML file too large: 1,\d{3},\d{3} bytes \(at most 1,000,000\)"):
        training.load_modules(big)
    many = "[" + ",".join(["1"] * 100_001) + "]"
    with pytest.raises(ValidationError, match=r"YAML document too big \(more than 100,000 values\)"):
        safe_yaml(many, "many.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"id: x\n\xff\xfe\x00\x01")
    with pytest.raises(ValidationError, match=r"bin\.yaml:2:: binary data"):
        load_scorecard(binary)
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("name: {zh: 问候}\n".encode("gbk"))
    with pytest.raises(ValidationError, match=r"gbk\.yaml:1:: not UTF-8 text \(byte 11\): save the YAML file as UTF-8"):
        load_scorecard(gbk)
    # an anchor without an alias is harmless and allowed
    assert safe_yaml("a: &x 1\nb: 2\n", "a.yaml") == {"a": 1, "b": 2}


@pytest.mark.parametrize("key", ["id", "version", "style", "name"])
def test_a_missing_top_level_key_is_named_and_refused_at_once(key):
    """A scorecard without a top-level key is refused naming it (the line search once looped forever on it)."""
    import signal

    def too_long(*_):
        raise TimeoutError("load_scorecard did not return within 10 s")

    text = "\n".join(line for line in WEIGHTED.splitlines() if not line.startswith(f"{key}:"))
    assert text != WEIGHTED
    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(10)
    try:
        with pytest.raises(ValidationError) as info:
            load_scorecard(text)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert any(p.column == key and "missing" in p.message for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("key, value, message", [
    ("points", "abc", "sections[0].items[0].points: must be a number; got 'abc'"),
    ("scale", "[x]", "sections[0].items[0].scale: must be [min, max] with min < max; got ['x']"),
    ("max_count", "abc", "sections[0].items[0].max_count: must be a whole number ≥ 1; got 'abc'"),
])
def test_a_setting_the_kind_does_not_use_is_still_checked(key, value, message):
    """A non-number ``points`` (not a bonus item), ``scale`` (not a scale item) or ``max_count`` (not a fault count) is a
    located problem, not a crash of the loader."""
    text = WEIGHTED.replace("{id: a1, kind: yes_no, weight: 1,", f"{{id: a1, kind: yes_no, weight: 1, {key}: {value},")
    with pytest.raises(ValidationError, match=re.escape(message)):
        load_scorecard(text)


def test_applies_reads_direction_and_contact_types_and_skips_a_missing_column():
    card = load_scorecard(samples_dir() / "scorecards" / "followup_call.v1.yaml")
    contacts = pd.DataFrame({"direction": ["outbound", "outbound", "inbound", "outbound"],
                             "contact_type": ["service_quality", "service", "relationship", "relationship"]})
    assert card.applies(contacts).tolist() == [True, False, False, True]
    # a contact log without contact types: only the direction is checked
    assert card.applies(contacts[["direction"]]).tolist() == [True, True, False, True]
    assert card.applies(contacts.iloc[:0]).tolist() == []
