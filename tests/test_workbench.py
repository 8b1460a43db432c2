"""The scoring workbench, driven through qa_lib and its widgets without a browser."""

from __future__ import annotations

import pandas as pd
import pytest
from test_store import INBOUND_OK

from qa_lib.errors import ParameterError, ValidationError
from qa_lib.workbench import Workbench, build_ui

TRANSCRIPT = "坐席：您好，工号001。\n客户：我的手机13812345678，邮箱 li.na@example.com <script>alert(1)</script>"


@pytest.fixture
def bench(seeded):
    seeded.import_frame("contacts", pd.DataFrame({
        "contact_id": ["K3"], "start_time": ["2026-10-07 11:00:00"], "channel": ["hotline"], "direction": ["inbound"],
        "contact_type": ["service"], "agent_id": ["A1"], "answered": ["true"], "abandoned": ["false"], "talk_seconds": ["200"],
        "transcript": [TRANSCRIPT], "transcript_lang": ["zh"],
    }))
    return Workbench(seeded, "Q1", "2026-10", size=10)


def test_worklist_and_masked_escaped_transcript(bench):
    wl = bench.worklist()
    assert set(wl["contact_id"]) == {"K1", "K2", "K3"} and set(wl["scorecard_id"]) == {"inbound_service"}
    assert (wl["state"] == "new").all()
    html = bench.transcript_html("K3")
    assert "13812345678" not in html and "138****5678" in html
    assert "li.na@example.com" not in html and "l***@example.com" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert bench.contact("K3")["transcript"].startswith("坐席：")
    form = bench.form("inbound_service")
    assert form["item_id"].tolist()[:2] == ["greeting", "identity_check"] and form.loc[0, "label"] == "标准问候语并报工号"
    assert form.set_index("item_id").loc["escalation_handling", "options"] == ["yes", "no", "na"]


def test_draft_then_submit_through_the_api(bench):
    ev = bench.save("K1", "inbound_service", {"greeting": "yes", "closing": None})
    assert ev["status"] == "draft" and ev["answers"] == {"greeting": "yes"}
    wl = bench.worklist()
    assert wl.loc[wl["contact_id"] == "K1", "state"].item() == "draft"
    with pytest.raises(ValidationError, match="missing answer"):
        bench.save("K1", "inbound_service", {}, submit=True, evaluation_id=ev["evaluation_id"], expected_version=1)
    done = bench.save("K1", "inbound_service", INBOUND_OK, submit=True, evaluation_id=ev["evaluation_id"], expected_version=1)
    assert done["status"] == "submitted" and done["version"] == 2  # the failed submit stored nothing
    assert "K1" not in set(bench.worklist()["contact_id"])


def test_widgets_save_and_submit(bench):
    ui = build_ui(bench)
    assert ui.state["row"] is not None  # the first contact is open
    choices = ui.state["widgets"]
    choices["greeting"][0].value = "yes"
    choices["greeting"][1].value = "标准问候"
    ui.buttons[0].click()  # save draft
    assert "draft" in ui.status.value and "version 1" in ui.status.value
    ui.buttons[1].click()  # submit, incomplete: the error is shown, nothing stored
    assert "missing answer (required)" in ui.status.value
    for item, value in INBOUND_OK.items():
        choices[item][0].value = value
    ui.buttons[1].click()
    assert "submitted" in ui.status.value and "version 2" in ui.status.value
    eid = ui.picker.options[ui.picker.value][0].split()[1]
    stored = bench.store.read("evaluations")
    mine = stored[stored["contact_id"] == eid]
    assert mine["status"].tolist() == ["submitted"] and len(mine) == 1
    assert bench.store.evaluation(mine["evaluation_id"].item())["comments"]["greeting"] == "标准问候"


def test_bad_parameters(seeded):
    with pytest.raises(ParameterError, match="inspector_id must be one of \\['Q1'\\]; got 'Q7'"):
        Workbench(seeded, "Q7")
    with pytest.raises(ParameterError, match="lang must be one of zh, en"):
        Workbench(seeded, "Q1", lang="fr")


def test_critical_marks_match_the_scorecard(bench):
    """Only the items the scorecard marks critical carry the mark (a missing flag once read as NaN, which is true)."""
    import re

    card = bench.cards["inbound_service"]
    expected = {it.id: it.critical is not None for it in card.items}
    assert any(expected.values()) and not all(expected.values())
    form = bench.form("inbound_service").set_index("item_id")
    assert form["critical"].to_dict() == expected
    assert form["critical_scope"].to_dict() == {it.id: it.critical or "" for it in card.items}
    ui = build_ui(bench)
    shown = {}
    for row in ui.children[3].children:  # the form: one VBox per item, its first child the item's heading
        heading = row.children[0].value
        shown[re.search(r"<code>(.*?)</code>", heading).group(1)] = "致命项" in heading
    assert shown == expected
    crit = next(it for it in card.items if it.critical == "evaluation")
    heading = next(r.children[0].value for r in ui.children[3].children if f"<code>{crit.id}</code>" in r.children[0].value)
    assert "致命项（整张评估）" in heading


# ---------------------------------------------------------------- automatic answers as suggestions (issue #19)
HOSTILE_TURN = "[00:12] 客户：=HYPERLINK(\"http://x\") 我的手机13812345678 <script>alert(1)</script>"


def auto_frame(contact_ids, *, accepted=False):
    """An auto answers frame (the contract of issue #19): a rule hit on closing and a model answer on greeting, per contact."""
    rows = []
    for cid in contact_ids:
        rows.append(dict(contact_id=cid, item_id="greeting", answer="no", probability=0.83, source="model", rule_id=None,
                         evidence="", turn=-1, version="m-3f2a", scorecard_id="inbound_service", accepted=accepted))
        rows.append(dict(contact_id=cid, item_id="closing", answer="yes", probability=1.0, source="rule", rule_id="closing_phrase<b>",
                         evidence="turn 1 [00:12] 客户：「HYPERLINK」「13812345678」", turn=1, version="inbound_service@1",
                         scorecard_id="inbound_service", accepted=True))
        rows.append(dict(contact_id=cid, item_id="empathy", answer=None, probability=float("nan"), source="model", rule_id=None,
                         evidence="", turn=-1, version="m-3f2a", scorecard_id="inbound_service", accepted=False))  # abstained
    return pd.DataFrame(rows)


@pytest.fixture
def armed(seeded):
    """Contacts R1 (random arm) and T1 (targeted arm) of a saved plan, each with a hostile transcript and auto answers."""
    from test_store import save_test_plan

    seeded.import_frame("contacts", pd.DataFrame({
        "contact_id": ["R1", "T1"], "start_time": ["2026-10-07 11:00:00"] * 2, "channel": ["hotline"] * 2, "direction": ["inbound"] * 2,
        "contact_type": ["service"] * 2, "agent_id": ["A1", "A2"], "answered": ["true"] * 2, "abandoned": ["false"] * 2,
        "talk_seconds": ["200"] * 2, "transcript": ["[00:01] 坐席：您好，工号001\n\n" + HOSTILE_TURN] * 2, "transcript_lang": ["zh"] * 2,
    }))
    save_test_plan(seeded, {"R1": "random", "T1": "targeted"})
    return Workbench(seeded, "Q1", "2026-10", auto=auto_frame(["R1", "T1"]))


def test_random_arm_withholds_suggestions_until_the_answer_is_saved(armed):
    """The random arm is the ground truth of the gate and of PPI: an inspector must not see the machine's answer first."""
    sug = armed.suggestions("R1", "inbound_service").set_index("item_id")
    assert set(sug.index) == {"greeting", "closing"}  # the abstention has no row
    assert (sug["arm"] == "random").all() and (sug["shown"] == "withheld").all()
    from qa_lib.workbench import suggestion_html

    html = suggestion_html(sug.loc["greeting"].to_dict(), "zh")
    assert "qa-suggest-answer" not in html and "m-3f2a" not in html and "否" not in html and "保存你的答案后" in html
    ev = armed.save("R1", "inbound_service", {"greeting": "yes"})  # the inspector answers greeting only, and saves
    sug = armed.suggestions("R1", "inbound_service", ev["evaluation_id"]).set_index("item_id")
    assert sug.loc["greeting", "shown"] == "after_answer" and sug.loc["closing", "shown"] == "withheld"
    html = suggestion_html(sug.loc["greeting"].to_dict(), "zh")
    assert "供对照" in html and "<b class='qa-suggest-answer'>否</b>" in html and "模型 m-3f2a" in html and "83%" in html and "仅供参考" in html
    assert armed.store.evaluation(ev["evaluation_id"])["answers"] == {"greeting": "yes"}  # a suggestion is never stored


def test_targeted_arm_shows_suggestions_up_front_escaped_and_masked(armed):
    from qa_lib.workbench import suggestion_html

    sug = armed.suggestions("T1", "inbound_service").set_index("item_id")
    assert (sug["arm"] == "targeted").all() and (sug["shown"] == "up_front").all()
    html = suggestion_html(sug.loc["closing"].to_dict(), "en")
    assert "<b class='qa-suggest-answer'>yes</b>" in html and "rule closing_phrase&lt;b&gt;" in html and "100%" in html
    assert "qa-accepted'>accepted" in html and "13812345678" not in html and "138****5678" in html
    page = armed.transcript_html("T1", sug.reset_index())
    assert "<script>" not in page and "&lt;script&gt;" in page and "13812345678" not in page
    # turn 1 is the second non-empty line; its matched words are marked, the words of no other turn
    assert "<div class='qa-evidence' id='turn-1'>[00:12] 客户：=<mark>HYPERLINK</mark>(&quot;http://x&quot;) 我的手机<mark>138****5678</mark> &lt;script&gt;" in page
    assert page.count("<mark>") == 2 and page.count("qa-evidence'") == 1


def test_widgets_withhold_on_the_random_arm_and_show_after_saving(armed):
    ui = build_ui(armed)
    labels = [label for label, _ in ui.picker.options]
    ui.picker.value = next(i for label, i in ui.picker.options if label.startswith("[targeted] T1"))
    hints = {k: h.value for k, h in ui.state["suggest"].items()}
    assert "qa-suggest-answer'>否" in hints["greeting"] and "qa-suggest-answer'>是" in hints["closing"] and hints["empathy"] == ""
    assert "<mark>" in ui.transcript.value
    ui.picker.value = next(i for label, i in ui.picker.options if label.startswith("[random] R1"))
    hints = {k: h.value for k, h in ui.state["suggest"].items()}
    assert all("qa-suggest-answer" not in h for h in hints.values()) and "qa-withheld" in hints["greeting"]
    assert "<mark>" not in ui.transcript.value and "qa-evidence" not in ui.transcript.value.split("</style>")[1]
    ui.state["widgets"]["closing"][0].value = "no"  # picked, not saved yet: still withheld
    assert "qa-suggest-answer" not in ui.state["suggest"]["closing"].value
    ui.buttons[0].click()
    assert "draft" in ui.status.value
    assert "qa-suggest-answer'>是" in ui.state["suggest"]["closing"].value and "供对照" in ui.state["suggest"]["closing"].value
    assert "qa-suggest-answer" not in ui.state["suggest"]["greeting"].value  # not answered: still withheld
    assert "保存后才显示" in ui.children[0].value and "随机抽检和校准的来电" in ui.help.children[0].value
    assert len(labels) == 2


def test_calibration_scoring_withholds_and_without_auto_nothing_shows(armed, monkeypatch):
    ev = armed.save("T1", "inbound_service", {"greeting": "yes"})
    # a calibration scoring of a targeted call (its stored evaluation says calibration) withholds what it has not answered
    stored = armed.store.evaluation
    monkeypatch.setattr(armed.store, "evaluation", lambda eid: {**stored(eid), "arm": "calibration"})
    sug = armed.suggestions("T1", "inbound_service", ev["evaluation_id"]).set_index("item_id")
    assert (sug["arm"] == "calibration").all()
    assert sug.loc["greeting", "shown"] == "after_answer" and sug.loc["closing", "shown"] == "withheld"
    monkeypatch.undo()
    assert (armed.suggestions("T1", "inbound_service", ev["evaluation_id"])["shown"] == "up_front").all()
    armed.set_auto(None)
    assert armed.suggestions("T1", "inbound_service").empty
    with pytest.raises(ParameterError, match="auto must be an auto answers frame"):
        armed.set_auto(auto_frame(["T1"]).drop(columns="accepted"))


def test_the_rules_evidence_form_is_highlighted_in_its_turn():
    """qa_lib.autoqa.rules writes ``words — turn k [mm:ss] speaker：text`` (several rules joined by `` · ``)."""
    from qa_lib.sheets import evidence_text
    from qa_lib.workbench import highlight_transcript

    text = "[00:01] 坐席：您好，工号001\n[00:05] 客户：查一下话费\n\n[01:10] 坐席：感谢来电，再见"
    ev = pd.DataFrame({"evidence": ["您好 + 工号 — turn 0 [00:01] 坐席：您好，工号001 · 再见 — turn 2 [01:10] 坐席：感谢来电，再见"], "turn": [0]})
    page = highlight_transcript(text, ev).split("</style>")[1]
    assert "<div class='qa-evidence' id='turn-0'>[00:01] 坐席：<mark>您好</mark>，<mark>工号</mark>001</div>" in page
    assert "<div>[01:10] 坐席：感谢来电，再见</div>" in page  # another turn's words are marked only in their own turn's row
    assert evidence_text(ev["evidence"][0], 0) == ev["evidence"][0]  # it names its turn: kept as it is
