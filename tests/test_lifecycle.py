"""The evaluation lifecycle: legal and illegal transitions, and the audit trail it leaves in the store."""

from __future__ import annotations

import json

import pytest
from test_store import INBOUND_OK, snapshot

from qa_lib.errors import NotFoundError, ParameterError, ValidationError
from qa_lib.lifecycle import TRANSITIONS, ConflictError, TransitionError, allowed_actions, next_status


def test_transition_table():
    assert next_status("draft", "submit") == "submitted"
    assert allowed_actions("released") == ["acknowledge", "dispute"]
    assert allowed_actions("acknowledged") == [] and allowed_actions("resolved") == []
    finals = {"acknowledged", "resolved"}
    assert {to for to in TRANSITIONS.values()} - {s for s, _ in TRANSITIONS} == finals


@pytest.mark.parametrize("status, action", [("draft", "acknowledge"), ("draft", "release"), ("submitted", "dispute"), ("acknowledged", "dispute"), ("resolved", "resolve")])
def test_illegal_transitions(status, action):
    with pytest.raises(TransitionError, match=f"cannot {action} an evaluation that is {status}"):
        next_status(status, action)
    with pytest.raises(TransitionError, match="action must be one of"):
        next_status(status, "delete")


def test_full_lifecycle_with_dispute_and_rescore(seeded):
    s = seeded
    eid = s.create_evaluation("K1", "Q1", "inbound_service", {"greeting": "yes", "identity_check": "是"}, comment="draft")
    ev = s.evaluation(eid)
    assert ev["status"] == "draft" and ev["version"] == 1 and ev["answers"]["identity_check"] == "yes"
    with pytest.raises(ValidationError, match="item closing: missing answer"):
        s.submit(eid, actor="Q1", expected_version=1)  # incomplete drafts cannot be submitted
    v = s.save_draft(eid, {**INBOUND_OK, "closing": "no"}, comments={"closing": "未使用标准结束语"}, actor="Q1", expected_version=1)
    assert v == 2
    with pytest.raises(TransitionError, match="cannot acknowledge an evaluation that is draft"):
        s.acknowledge(eid, agent_id="A1", expected_version=2)
    v = s.submit(eid, actor="Q1", expected_version=2)
    v = s.release(eid, actor="Q1", expected_version=v)
    before = s.evaluation(eid)["total_score"]
    assert before == pytest.approx(85.8333, abs=1e-3)
    with pytest.raises(TransitionError, match=r"only the evaluated agent \(A1\) can dispute"):
        s.dispute(eid, {"closing": "I did close properly"}, agent_id="A2", expected_version=v)
    v = s.dispute(eid, {"closing": "我说了“感谢来电，再见”", "needs_analysis": "问题已在开头问清"}, agent_id="A1", expected_version=v)
    assert s.evaluation(eid)["status"] == "disputed"
    open_items = s.disputes(eid)
    assert set(open_items["item_id"]) == {"closing", "needs_analysis"} and open_items["outcome"].isna().all()
    v = s.resolve(eid, "rescored", answers={"closing": "yes"}, note="复听录音：结束语完整", actor="SUP1", expected_version=v)
    ev = s.evaluation(eid)
    assert ev["status"] == "resolved" and ev["answers"]["closing"] == "yes" and ev["total_score"] > before
    assert ev["comments"]["closing"] == "未使用标准结束语"  # comments kept unless changed
    resolved = s.disputes(eid)
    assert set(resolved["outcome"]) == {"rescored"} and set(resolved["resolved_by"]) == {"SUP1"}
    h = s.history(eid)
    assert h["action"].tolist() == ["create", "save", "submit", "release", "dispute", "resolve"]
    assert h["version"].tolist() == [1, 2, 3, 4, 5, 6]
    assert h["actor"].tolist() == ["Q1", "Q1", "Q1", "Q1", "A1", "SUP1"]
    assert h.loc[4, "reason"].startswith("closing: ")
    # the history keeps the score before the rescore: nothing was overwritten
    assert h.loc[3, "total_score"] == pytest.approx(before) and h.loc[5, "total_score"] == pytest.approx(ev["total_score"])
    assert json.loads(h.loc[3, "answers"])["closing"] == ["no", "未使用标准结束语"]
    with pytest.raises(TransitionError, match="cannot acknowledge an evaluation that is resolved; allowed now: nothing"):
        s.acknowledge(eid, agent_id="A1")


def test_upheld_dispute_keeps_the_score(seeded):
    s = seeded
    eid = s.create_evaluation("K2", "Q1", "inbound_service", INBOUND_OK, submit=True)
    s.release(eid, actor="Q1")
    s.dispute(eid, {"closing": "不同意"}, agent_id="A2")
    total = s.evaluation(eid)["total_score"]
    with pytest.raises(ParameterError, match="an upheld resolution keeps the answers"):
        s.resolve(eid, "upheld", answers={"closing": "yes"}, note="x", actor="SUP1")
    with pytest.raises(ParameterError, match="note must say why"):
        s.resolve(eid, "upheld", note=" ", actor="SUP1")
    s.resolve(eid, "upheld", note="录音确认未使用结束语", actor="SUP1")
    assert s.evaluation(eid)["total_score"] == total
    assert s.disputes(eid)["outcome"].tolist() == ["upheld"]


def test_stale_version_is_a_conflict_and_changes_nothing(seeded):
    s = seeded
    eid = s.create_evaluation("K1", "Q1", "inbound_service", {"greeting": "yes"})
    s.save_draft(eid, {"closing": "yes"}, actor="Q1", expected_version=1)  # someone else saved first
    before = snapshot(s)
    with pytest.raises(ConflictError, match="is at version 2, you edited version 1"):
        s.save_draft(eid, {"closing": "no"}, actor="Q9", expected_version=1)
    assert snapshot(s) == before


def test_bad_requests_change_nothing(seeded):
    s = seeded
    before = snapshot(s)
    with pytest.raises(NotFoundError, match="no contact 'K404'"):
        s.create_evaluation("K404", "Q1", "inbound_service")
    with pytest.raises(NotFoundError, match="no inspector 'Q9'"):
        s.create_evaluation("K1", "Q9", "inbound_service")
    with pytest.raises(ValidationError, match="item empathy: '9' is not an allowed answer"):
        s.create_evaluation("K1", "Q1", "inbound_service", {"empathy": "9"})
    with pytest.raises(ParameterError, match="arm must be one of random, targeted"):
        s.create_evaluation("K1", "Q1", "inbound_service", arm="calibration")
    with pytest.raises(NotFoundError, match="no evaluation 'E404'"):
        s.submit("E404", actor="Q1")
    assert snapshot(s) == before


def test_imported_evaluations_have_version_1(loaded_store):
    ev = loaded_store.read("evaluations")
    assert (ev["version"] == 1).all()
    one = ev["evaluation_id"].iloc[0]
    h = loaded_store.history(one)
    assert h["action"].tolist() == ["import"] and h.loc[0, "total_score"] == pytest.approx(ev["total_score"].iloc[0])
    assert loaded_store.counts()["evaluation_versions"] == len(ev)
