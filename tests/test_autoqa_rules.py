"""Rules declared in the scorecard (qa_lib.autoqa.rules): each kind, combination, N/A, validation, the sample, JDDC."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import shared_path
from qa_lib.autoqa.rules import ANSWER_COLUMNS, apply_rules, auto_answers, check_rules, compile_rules, rule_precision
from qa_lib.errors import ParameterError
from qa_lib.rubric import load_scorecard
from qa_lib.samples import transcript_steps
from qa_lib.scorecard_files import scorecard_from_xlsx, scorecard_to_xlsx

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples"

CARD = """\
id: card_x
version: 3
style: weighted
name: {zh: 测试, en: Test}
sections:
  - id: s
    name: {zh: 全部, en: All}
    items:
      - id: item_a
        kind: yes_no
        label: {zh: 问候, en: Greeting}
        auto:
          rules:
            - {id: 问候.词, kind: require, within_turns: 2, within_seconds: 5, phrases: {zh: [您好, 你好], en: [hello, good morning]}}
      - id: item_b
        kind: yes_no
        label: {zh: 结束, en: Closing}
        auto:
          rules:
            - {id: b.order, kind: require, ordered: true, last_turns: 3, all: [{zh: [还有其他], en: [anything else]}, {zh: [再见], en: [goodbye]}]}
      - id: item_c
        kind: yes_no
        label: {zh: 禁语, en: Forbidden}
        auto:
          rules:
            - {id: c.words, kind: forbid, categories: {辱骂: [神经病, stupid], 推诿: {zh: [自己去查], en: [yourself]}}}
      - id: item_d
        kind: yes_partial_no
        label: {zh: 需求, en: Need}
        auto:
          rules:
            - {id: d.full, kind: require, same_turn: true, all: [[车型], [版本]]}
          partial:
            - {id: d.part, kind: regex, pattern: '^嗯+[。，]?$'}
      - id: item_e
        kind: yes_no
        label: {zh: 静音, en: Silence}
        auto:
          rules:
            - {id: e.silence, kind: silence, max_seconds: 20}
            - {id: e.over, kind: overtalk, max_count: 0}
            - {id: e.hold, kind: holds, phrases: [请您稍等, please hold], gap_seconds: 10, max_count: 1}
      - id: item_f
        kind: yes_no
        when: {contact: [escalated]}
        label: {zh: 升级, en: Escalation}
        auto:
          rules:
            - {id: f.callback, kind: require, phrases: [回电, call you back]}
      - id: item_g
        kind: yes_no
        label: {zh: 时长, en: Duration}
        auto:
          rules:
            - {id: g.talk, kind: contact, field: talk_seconds, between: [120, 180]}
      - id: item_h
        kind: yes_no
        when: {item: item_c, in: ["no"]}
        label: {zh: 道歉, en: Apology}
        auto:
          rules:
            - {id: h.sorry, kind: require, phrases: [抱歉, sorry]}
      - id: item_i
        kind: yes_no
        label: {zh: 正确, en: Correct}
"""

CALLS = pd.DataFrame({
    "contact_id": ["Z1", "Z2", "Z3", "Z4", "Z5", "Z6"],
    "transcript": [
        "[00:01] 坐席：您好，工号001\n[00:05] 客户：我的车型是A，版本2\n[00:08] 坐席：您的车型和版本是？\n[00:40] 坐席：请问还有其他问题吗？再见",
        "[00:01] 坐席：喂\n[00:02] 客户：您好\n[00:06] 坐席：嗯。\n[00:30] 坐席：再见\n[00:31] 坐席：还有其他吗",
        "[00:00] Agent: Good morning <b>Z</b> =cmd|' /C calc'!A0\n[00:02] Customer: hi\n[00:04] Agent: look it up yourself, stupid\n"
        "[00:09] Agent: Sorry. Anything else? Goodbye",
        None,
        "坐席：你好\n客户：嗯\n坐席：神经病，还有其他事吗？再见",
        "[00:00] 坐席：请您稍等\n[00:30] 坐席：好了，您好\n[00:31] 坐席：请您稍等\n[00:50] 客户：嗯\n[00:51] 坐席：给您回电",
    ],
    "transcript_lang": ["zh", "zh", "en", "zh", "zh", None],
    "escalated": [False, True, None, False, False, True],
    "talk_seconds": [150, 200, 120, np.nan, 160, 60],
})


@pytest.fixture(scope="module")
def answers():
    card = load_scorecard(CARD)
    return apply_rules(compile_rules(card), CALLS).set_index(["contact_id", "item_id"])


def test_columns_and_version(answers):
    assert list(answers.reset_index().columns) == ANSWER_COLUMNS
    assert set(answers["source"]) == {"rule"} and set(answers["version"]) == {"card_x.v3"}
    assert "item_i" not in answers.index.get_level_values("item_id")  # no auto block, no answer


def test_required_phrases_within_turns_and_seconds(answers):
    a = answers["answer"]
    assert a["Z1", "item_a"] == "yes" and answers.loc[("Z1", "item_a"), "turn"] == 0
    assert a["Z2", "item_a"] == "no"  # 您好 said by the customer, not the agent
    assert a["Z3", "item_a"] == "yes"  # English, case-insensitive
    assert a["Z5", "item_a"] == "yes"  # no stamps: within_turns decides alone
    assert answers.loc[("Z1", "item_a"), "evidence"] == "您好 — turn 0 [00:01] 坐席：您好，工号001"
    assert answers.loc[("Z1", "item_a"), "rule_id"] == "问候.词"


def test_order_last_turns_and_same_turn(answers):
    a = answers["answer"]
    assert a["Z1", "item_b"] == "yes" and a["Z3", "item_b"] == "yes" and a["Z5", "item_b"] == "yes"
    assert a["Z2", "item_b"] == "no"  # 再见 before 还有其他: wrong order
    assert answers.loc[("Z2", "item_b"), "evidence"].startswith("not found")
    assert a["Z1", "item_d"] == "yes"  # 车型 and 版本 in one agent turn (the customer's turn has both too, but is not the agent's)
    assert a["Z2", "item_d"] == "partial"  # a bare 嗯。 by the agent
    assert a["Z5", "item_d"] == "no"  # the 嗯 is the customer's


def test_forbidden_words_by_category_and_hostile_text_kept(answers):
    a = answers["answer"]
    assert a["Z1", "item_c"] == "yes" and a["Z3", "item_c"] == "no" and a["Z5", "item_c"] == "no"
    assert answers.loc[("Z5", "item_c"), "evidence"] == "辱骂: 神经病 — turn 2 坐席：神经病，还有其他事吗？再见"
    ev = answers.loc[("Z3", "item_c"), "evidence"]
    assert ev.startswith("推诿: yourself — turn 2 [00:04] Agent: look it up yourself")
    good = answers.loc[("Z3", "item_a"), "evidence"]
    assert "<b>Z</b> =cmd|' /C calc'!A0" in good  # escaping is the page's job


def test_timing_rules(answers):
    a = answers["answer"]
    assert a["Z1", "item_e"] == "no"  # 32 s silence before the closing
    assert answers.loc[("Z1", "item_e"), "rule_id"] == "e.silence"
    assert a["Z6", "item_e"] == "no" and answers.loc[("Z6", "item_e"), "rule_id"] == "e.silence"
    assert a["Z5", "item_e"] is None  # no stamps: timing undecided
    assert a["Z3", "item_e"] == "yes"


def test_timing_holds_and_overtalk_alone():
    card = load_scorecard(CARD.replace("- {id: e.silence, kind: silence, max_seconds: 20}", "- {id: e.silence, kind: silence, max_seconds: 60}"))
    a = apply_rules(compile_rules(card), CALLS).set_index(["contact_id", "item_id"])
    assert a.loc[("Z6", "item_e"), "answer"] == "no" and a.loc[("Z6", "item_e"), "rule_id"] == "e.hold"
    assert a.loc[("Z6", "item_e"), "evidence"] == "2 hold(s)"
    over = pd.DataFrame({"contact_id": ["Z9"], "transcript": ["[00:00] 坐席：一二三四五六七八九十一二三四五\n[00:01] 客户：等一下"]})
    b = apply_rules(compile_rules(card), over).set_index("item_id")
    assert b.loc["item_e", "answer"] == "no" and b.loc["item_e", "rule_id"] == "e.over"


def test_na_by_contact_flag_and_item_condition_and_missing_transcript(answers):
    a = answers["answer"]
    assert a["Z1", "item_f"] == "na" and a["Z5", "item_f"] == "na"
    assert a["Z2", "item_f"] == "no" and a["Z6", "item_f"] == "yes"
    assert a["Z3", "item_f"] == "no"  # flag unknown: the rule answers
    assert a["Z4", "item_a"] is None and answers.loc[("Z4", "item_a"), "evidence"] == "no transcript"
    assert np.isnan(answers.loc[("Z4", "item_a"), "probability"]) and answers.loc[("Z1", "item_a"), "probability"] == 1.0
    assert a["Z3", "item_h"] == "yes" and a["Z1", "item_h"] == "na"  # item_c answered no on Z3 only
    assert a["Z4", "item_h"] is None


def test_contact_field_rule(answers):
    a = answers["answer"]
    assert [a[c, "item_g"] for c in ("Z1", "Z2", "Z3", "Z4", "Z5", "Z6")] == ["yes", "no", "yes", None, "yes", "no"]
    assert a["Z4", "item_g"] is None  # no talk_seconds; a contact rule does not need a transcript


def test_chunks_give_the_same_answers():
    card = load_scorecard(CARD)
    whole = auto_answers(card, CALLS, chunk_size=100)
    pieces = auto_answers(card, CALLS, chunk_size=2)
    key = ["contact_id", "item_id"]
    pd.testing.assert_frame_equal(whole.sort_values(key, ignore_index=True), pieces.sort_values(key, ignore_index=True))


def test_validation_errors_are_located():
    bad = CARD.replace("within_turns: 2, within_seconds: 5", "within_turns: x, within_seconds: 5").replace(
        "{id: d.part, kind: regex, pattern: '^嗯+[。，]?$'}", "{id: d.part, kind: regex, pattern: '([a'}").replace(
        "{id: g.talk, kind: contact, field: talk_seconds, between: [120, 180]}", "{id: g.talk, kind: contact, field: talk_seconds, between: [180, 120], colour: red}")
    card = load_scorecard(bad)
    probs = {p.column: p for p in check_rules(card, "card.yaml")}
    p = probs["sections[0].items[0].auto.rules[0].within_turns"]
    assert str(p) == "card.yaml:14:sections[0].items[0].auto.rules[0].within_turns: must be a positive integer; got 'x'"
    assert "not a valid regular expression" in probs["sections[0].items[3].auto.partial[0].pattern"].message
    assert "lo ≤ hi" in probs["sections[0].items[6].auto.rules[0].between"].message
    assert "unknown key" in probs["sections[0].items[6].auto.rules[0].colour"].message
    with pytest.raises(ParameterError, match="within_turns: must be a positive integer"):
        compile_rules(card)


@pytest.mark.parametrize("auto, where, what", [
    ({"rules": [{"kind": "requires", "phrases": ["x"]}]}, "auto.rules[0].kind", "must be one of"),
    ({"rules": []}, "auto.rules", "non-empty list"),
    ({"rules": [{"kind": "require", "phrases": ["x"]}], "partial": [{"kind": "require", "phrases": ["y"]}]}, "auto.partial", "only a yes_partial_no"),
    ({"rules": [{"kind": "require", "phrases": {"fr": ["x"]}}]}, "auto.rules[0].phrases.fr", "language must be one of"),
    ({"rules": [{"kind": "require", "phrases": ["x"], "all": [["y"]]}]}, "auto.rules[0]", "exactly one of phrases"),
    ({"rules": [{"kind": "forbid", "words": ["x"], "speaker": "bot"}]}, "auto.rules[0].speaker", "must be one of agent"),
    ({"rules": [{"kind": "silence"}]}, "auto.rules[0].max_seconds", "seconds > 0"),
    ({"rules": [{"kind": "speech_rate", "range": {"zh": [300, 100]}}]}, "auto.rules[0].range.zh", "min < max"),
    ({"rules": [{"id": "a b", "kind": "require", "phrases": ["x"]}]}, "auto.rules[0].id", "without spaces"),
    ({"rules": [{"kind": "require", "phrases": ["x"]}], "extra": 1}, "auto.extra", "unknown key"),
])
def test_validation_each_check(auto, where, what):
    raw = yaml.safe_load(CARD)
    raw["sections"][0]["items"][0]["auto"] = auto
    card = load_scorecard(yaml.safe_dump(raw, allow_unicode=True))
    probs = check_rules(card)
    assert any(p.column == f"sections[0].items[0].{where}" and what in p.message for p in probs), probs


def test_duplicate_rule_ids_and_scale_items_refused():
    raw = yaml.safe_load(CARD)
    raw["sections"][0]["items"][1]["auto"]["rules"][0]["id"] = "问候.词"
    raw["sections"][0]["items"][8].update(kind="scale", scale=[0, 5], auto={"rules": [{"kind": "require", "phrases": ["x"]}]})
    probs = check_rules(load_scorecard(yaml.safe_dump(raw, allow_unicode=True)))
    assert any("duplicate rule id '问候.词'" in p.message for p in probs)
    assert any("yes_no and yes_partial_no items only" in p.message for p in probs)


def test_auto_round_trips_through_excel(tmp_path):
    for name in ("inbound_service.v1.yaml", "followup_call.v1.yaml"):
        card = load_scorecard(SAMPLE / "scorecards" / name)
        back = load_scorecard(scorecard_from_xlsx(scorecard_to_xlsx(card, tmp_path / f"{name}.xlsx")))
        assert [it.auto for it in back.items] == [it.auto for it in card.items]
        assert sum(it.auto is not None for it in back.items) >= 8
    card = load_scorecard(CARD)
    back = load_scorecard(scorecard_from_xlsx(scorecard_to_xlsx(card, tmp_path / "x.xlsx")))
    assert [it.auto for it in back.items] == [it.auto for it in card.items] and check_rules(back) == []


def test_rule_precision_wilson_and_exact_by_month():
    # Newcombe (1998) Table I: 81/263 → Wilson (0.2553, 0.3662), Clopper–Pearson (0.2527, 0.3676); 15/148 → CP (0.0578, 0.1617)
    r = pd.DataFrame({"rule_id": ["r1"] * 263 + ["r2"] * 148,
                      "verdict": ["confirmed"] * 81 + ["rejected"] * 182 + ["confirmed"] * 15 + ["rejected"] * 133,
                      "reviewed_at": ["2026-05-03"] * 200 + ["2026-06-01"] * 63 + ["2026-06-02"] * 148})
    p = rule_precision(r).set_index("rule_id")
    assert p.loc["r1", ["low", "high"]].round(4).tolist() == [0.2553, 0.3662]
    e = rule_precision(r, method="exact").set_index("rule_id")
    assert e.loc["r1", ["low", "high"]].round(4).tolist() == [0.2527, 0.3676] and e.loc["r2", ["low", "high"]].round(4).tolist() == [0.0578, 0.1617]
    m = rule_precision(r, by_month=True)
    assert m[["rule_id", "month", "n"]].values.tolist() == [["r1", "2026-05", 200], ["r1", "2026-06", 63], ["r2", "2026-06", 148]]
    with pytest.raises(ParameterError, match="confirmed or rejected"):
        rule_precision(r.assign(verdict="maybe"))


# --------------------------------------------------------------------------------------------------- the sample center
@pytest.fixture(scope="module")
def sample_answers():
    c = pd.read_parquet(SAMPLE / "contacts.parquet")
    c = c[c["transcript"].notna()].reset_index(drop=True)
    out = []
    for cid, direction in (("inbound_service", "inbound"), ("followup_call", "outbound")):
        out.append(auto_answers(load_scorecard(SAMPLE / "scorecards" / f"{cid}.v1.yaml"), c[c["direction"] == direction]))
    return c, pd.concat(out, ignore_index=True)


def test_sample_rules_match_the_transcripts(sample_answers):
    c, a = sample_answers
    truth = transcript_steps(c)
    m = a.merge(truth[truth["shown"].notna()], on=["contact_id", "item_id"])
    assert len(m) > 100_000 and m["answer"].notna().all()
    assert (m["answer"] == m["shown"]).mean() == 1.0  # every rendered step read right, in zh and en


def test_sample_rules_agree_with_the_inspectors(sample_answers):
    # measured on the committed sample: agreement 0.773 (needs_analysis, the planted ambiguous item) to 1.0, κ 0.38 to 1.0
    _, a = sample_answers
    ev = pd.read_csv(SAMPLE / "evaluations.csv", dtype=str)
    ev = ev[ev["calibration_session_id"].isna()].drop_duplicates(["contact_id", "item_id"])
    m = a.merge(ev[["contact_id", "item_id", "answer"]].rename(columns={"answer": "human"}), on=["contact_id", "item_id"])
    per = m.groupby("item_id").apply(lambda g: pd.Series({"n": len(g), "agree": (g["answer"] == g["human"]).mean()}), include_groups=False)
    assert per["n"].min() >= 700
    assert per["agree"].min() >= 0.75 and per["agree"].median() >= 0.93


# ------------------------------------------------------------------------------------------------------ JDDC (real chat)
JD_CARD = """\
id: ecommerce_chat
version: 1
style: weighted
name: {zh: 电商在线客服, en: E-commerce chat}
sections:
  - id: s
    name: {zh: 全部, en: All}
    items:
      - id: greeting
        kind: yes_no
        label: {zh: 问候, en: Greeting}
        auto: {rules: [{kind: require, within_turns: 3, phrases: [您好, 你好, 有什么问题我可以帮您, 有什么可以帮您, 很高兴为您服务]}]}
      - id: closing
        kind: yes_no
        label: {zh: 结束语, en: Closing}
        auto: {rules: [{kind: require, last_turns: 3, phrases: [再见, 祝您生活愉快, 感谢您对京东的支持, 感谢您的支持, 欢迎再次光临]}]}
      - id: no_deflection
        kind: yes_no
        label: {zh: 无推诿, en: No deflection}
        auto: {rules: [{kind: forbid, categories: {推诿: [没办法, 不归我们管, 您自己去], 辱骂: [神经病, 滚蛋]}}]}
"""


def _jddc() -> pd.DataFrame:
    path = shared_path("dialogues", "jddc_chat_sample.txt")
    raw = pd.read_csv(path, sep="\t", header=None, dtype=str, quoting=3, keep_default_na=False)
    raw["line"] = np.where(raw[2] == "1", "客服：", "顾客：") + raw[6].str.replace("\n", " ")
    return raw.groupby(0, sort=False)["line"].agg("\n".join).rename("transcript").rename_axis("contact_id").reset_index()


def test_jddc_chat_hand_labelled_sessions():
    s = _jddc()
    a = auto_answers(load_scorecard(JD_CARD), s.assign(transcript_lang="zh")).set_index(["contact_id", "item_id"])["answer"]
    expected = {
        # agent's first turn "有什么问题我可以帮您处理或解决呢?"; ends "是的， 用新地址重新下单的" (no goodbye)
        "0000b82c62117aa4497508bb1bdfb53a": ("yes", "no", "yes"),
        # ends "感谢您对京东的支持，祝您生活愉快，再见!"
        "0032cff78a24ccc6de0d596725a3b11c": ("yes", "yes", "yes"),
        # greets at turn 1; ends asking "请问还有其他的问题需要帮助的吗" without goodbye
        "0043bbac54706e682fd82480fb0674d4": ("yes", "no", "yes"),
        # the agent opens with the product name, no greeting in the first three turns; no goodbye
        "0064fd" : None,
        # "您好!我这边是没办法修改价格的哦": greets, and deflects (没办法)
        "1c9bf682": ("yes", None, "no"),
    }
    full = {k: next(c for c in s["contact_id"] if c.startswith(k)) for k in expected}
    for k, exp in expected.items():
        if exp is None:
            assert a[full[k], "greeting"] == "no" and a[full[k], "closing"] == "no"
            continue
        for item, want in zip(("greeting", "closing", "no_deflection"), exp):
            if want is not None:
                assert a[full[k], item] == want, (k, item)
    share = (a.xs("greeting", level="item_id") == "yes").mean()
    assert len(s) == 994 and 0.45 < share < 0.55  # measured 0.495 (492 of 994): half the sessions open with a greeting
