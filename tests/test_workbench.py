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
