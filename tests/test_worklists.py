"""The month's plan end to end on the sample data: saved, reproducible, written as worklists, read by the workbench."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import sample_store
from qa_lib.errors import ParameterError
from qa_lib.sampling import PlanSpec
from qa_lib.workbench import Workbench
from qa_lib.worklists import card_for, draw_period, parse_period, plan_period, workload, write_worklists


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The samples in a store of this module's own: these tests save plans."""
    return sample_store(tmp_path_factory.mktemp("plan"))


def test_plan_saved_reproducible_and_honest(store):
    spec = PlanSpec(period="2026-10", seed=3)
    plan_id, plan = plan_period(store, spec)
    again_id, _ = plan_period(store, spec)
    assert again_id == plan_id and store.counts()["sampling_plans"] == 1  # same inputs, same plan, stored once
    pc = store.plan_contacts(plan_id)
    assert len(pc) == len(plan.contacts)
    evaluated = set(store.read("evaluations")["contact_id"])
    assert not set(pc["contact_id"]) & evaluated
    leave = store.read("agents").query("status == 'leave'")["agent_id"]
    assert not pc["agent_id"].isin(leave).any()
    home = store.read("inspectors").set_index("inspector_id")["home_team"].replace("", None)
    assert not (pc["inspector_id"].map(home) == pc["agent_id"].map(store.read("agents").set_index("agent_id")["team"])).any()
    assert store.latest_plan("2026-10") == plan_id
    cells = store.read("plan_cells")
    assert cells["sampled"].sum() == (pc["arm"] == "random").sum()


def test_worklists_written_per_inspector(store, tmp_path):
    plan_id, plan = plan_period(store, PlanSpec(period="2026-10", seed=3))
    files = write_worklists(store, plan_id, tmp_path)
    names = {f.name for f in files}
    load = workload(store.plan_contacts(plan_id))
    assert {f"{i}.csv" for i in load.index} <= names and any(n.endswith("_inbound_service.xlsx") for n in names)
    q = pd.read_csv(tmp_path / f"{load.index[0]}.csv")
    assert len(q) == load.iloc[0] and set(q["arm"]) <= {"random", "targeted"}
    ws = load_workbook(tmp_path / f"{load.index[0]}_inbound_service.xlsx")["score"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["contact_id", "agent_id", "arm"]


def test_workbench_reads_the_plan(store):
    plan_id, _ = plan_period(store, PlanSpec(period="2026-10", seed=3))
    pc = store.plan_contacts(plan_id)
    bench = Workbench(store, "Q02", "2026-10")
    wl = bench.worklist()
    mine = pc[(pc["inspector_id"] == "Q02") | (pc["second_inspector_id"] == "Q02")]
    planned = wl[wl["state"] != "draft"]  # the inspector's own drafts (the samples have a few) come first
    assert set(planned["contact_id"]) == set(mine["contact_id"]) and set(wl["state"]) <= {"draft", "random", "targeted"}
    assert wl["scorecard_id"].notna().all()
    targeted = mine.loc[mine["arm"] == "targeted", "contact_id"]
    if len(targeted):
        assert bench._arm(targeted.iloc[0]) == "targeted"


def test_card_for_and_periods(store):
    cards = {sid: store.scorecard(sid) for sid in ("inbound_service", "followup_call")}
    c = pd.DataFrame({"direction": ["inbound", "outbound", "inbound"], "contact_type": ["service", "service_quality", "non_regular"]})
    got = card_for(c, cards)
    assert got.iloc[:2].tolist() == ["inbound_service", "followup_call"] and pd.isna(got.iloc[2])
    with pytest.raises(ParameterError, match="contacts must have the columns \\['direction', 'contact_type'\\]"):
        card_for(c[["direction"]], cards)  # without the types every inbound contact would look like the first card's
    assert str(parse_period("2026-W41")) == "2026-10-05/2026-10-11"
    with pytest.raises(ParameterError, match="period must look like 2026-10 or 2026-W41"):
        parse_period("October")
    plan = draw_period(store, PlanSpec(period="2026-W41", per_agent=2))
    assert plan.contacts["start_time"].between("2026-10-05", "2026-10-12").all()
    with pytest.raises(ParameterError, match="period 2027-01 has no contacts"):
        draw_period(store, PlanSpec(period="2027-01"))


def test_next_plan_rechecks_the_open_coaching_actions(store):
    """The planted open action (A017 on identity_check, re-check 2026-10-24) gets re-check contacts in 2026-10."""
    from qa_lib.sampling import assign_inspectors, draw_plan

    plan = draw_period(store, PlanSpec(period="2026-10", seed=3))
    pc = plan.contacts
    rc = pc[pc["reason"].str.startswith("recheck:")]
    assert rc.groupby("reason").size().to_dict() == {"recheck:CA0007": 2, "recheck:CA0008": 2}
    assert (rc["arm"] == "targeted").all() and not pc["contact_id"].duplicated().any()
    a017 = rc[rc["reason"] == "recheck:CA0007"]
    assert (a017["agent_id"] == "A017").all() and (a017["start_time"] >= "2026-10-24").all()
    cards = {sid: store.scorecard(sid) for sid in ("inbound_service", "followup_call")}
    c = store.read("contacts", store.table("contacts").c.contact_id.in_(rc["contact_id"].tolist())).set_index("contact_id").loc[rc["contact_id"]]
    assert (card_for(c, cards) == "inbound_service").all()  # identity_check and empathy are inbound items
    assert (rc.loc[rc["reason"] == "recheck:CA0008", "start_time"] >= "2026-10-08").all()
    # recheck_per_action = 0 gives exactly the plan drawn as before re-checks existed
    off = draw_period(store, PlanSpec(period="2026-10", seed=3, recheck_per_action=0))
    contacts = store.read_month("contacts", "2026-10")
    voc = store.read("voc_feedback")
    old = draw_plan(contacts, store.read("agents"), PlanSpec(period="2026-10", seed=3), evaluated=set(store.read("evaluations")["contact_id"]),
                    complaints=set(voc.loc[voc["contact_id"].notna() & (voc["csat"] <= 2), "contact_id"]))
    old.contacts = assign_inspectors(old.contacts, store.read("inspectors"), seed=3, double_share=0.1)
    pd.testing.assert_frame_equal(off.contacts, old.contacts)
    assert set(pc["contact_id"]) - set(rc["contact_id"]) == set(off.contacts["contact_id"])


def test_recheck_evaluation_feeds_the_coaching_loop(store):
    """Score a saved plan's re-check contact (arm targeted): the loop counts it, the headline numbers never do."""
    from qa_lib.coaching import before_after, load_evidence

    plan_id, _ = plan_period(store, PlanSpec(period="2026-10", seed=3))
    pc = store.plan_contacts(plan_id)
    contact = pc.loc[pc["reason"] == "recheck:CA0007", "contact_id"].iloc[0]
    row = store.read("contacts", store.table("contacts").c.contact_id == contact).iloc[0]
    answers = {"greeting": "yes", "identity_check": "yes", "needs_analysis": "yes", "empathy": "yes", "correct_answer": "yes",
               "escalation_handling": "yes" if row["escalated"] or row["transferred"] else "na", "info_logged": "yes",
               "confirmation": "yes", "closing": "yes", "proactive_help": "no"}
    actions = store.read("coaching_actions")
    before = before_after(actions, load_evidence(store, ["A017"])).set_index("action_id").loc["CA0007"]
    store.create_evaluation(contact, "Q02", "inbound_service", answers, arm="targeted", submit=True)
    ev = load_evidence(store, ["A017"])
    assert set(ev.loc[ev["contact_id"] == contact, "reason"]) == {"recheck:CA0007"}
    after = before_after(actions, ev).set_index("action_id").loc["CA0007"]
    assert (after["after_n"], after["after_pass"]) == (before["after_n"] + 1, before["after_pass"] + 1)
    head, _, _ = store.scored_evaluations("inbound_service")
    assert contact not in set(head["contact_id"])  # random arm only: re-checks never feed headline numbers
