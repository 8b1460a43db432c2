"""The month's KPI and score tables written by qa demo."""

from __future__ import annotations

import pandas as pd
import pytest

from qa_lib.reports.monthly import month_agent_scores, month_kpis, write_month_tables


def test_month_tables_on_the_samples(loaded_store, tmp_path):
    k = month_kpis(loaded_store, pd.Period("2026-10", freq="M"))
    assert set(k["level"]) == {"center", "team"} and set(k.loc[k["level"] == "team", "group"]) == {"East", "North", "South"}
    fcr = k[(k["kpi"] == "fcr")].set_index("group")
    assert fcr.loc["East", "status"] == "missed"  # the planted team
    assert (k["low"].isna() | (k["low"] <= k["value"])).all() and (k["high"].isna() | (k["value"] <= k["high"])).all()
    s = month_agent_scores(loaded_store, pd.Period("2026-10", freq="M"))
    assert s["agent_id"].is_unique and set(s["status"]) <= {"met", "missed", "not enough evidence"}
    assert (s["rank_low"] <= s["rank"]).all() and (s["rank"] <= s["rank_high"]).all()
    files = write_month_tables(loaded_store, pd.Period("2026-10", freq="M"), tmp_path)
    assert [f.name for f in files] == ["kpis.csv", "agent_scores.csv", "kpis.md"]
    md = (tmp_path / "kpis.md").read_text(encoding="utf-8")
    assert "not enough evidence" in md and "| fcr" in md


# ---------------------------------------------------------------- what counts and what an agent sees (qa_lib.lifecycle)
MONTH = "2026-10"
AGENT = "A010"
SECRET = "草稿里的评语 DRAFT-ONLY"


def _answers(store, contact_id: str) -> dict:
    """A complete inbound answer set that fails the critical item (total 0), valid for the contact."""
    c = store.read("contacts", store.table("contacts").c.contact_id == contact_id).iloc[0]
    answers = {i.id: "yes" for i in store.scorecard("inbound_service", 1).items}
    answers.update(correct_answer="no", proactive_help="no", escalation_handling="yes" if c["escalated"] else "na")
    return answers


def _all_text(folder) -> str:
    """Every text cell of every table prepared in ``folder``."""
    import pandas as pd

    parts = []
    for path in sorted(folder.glob("*.parquet")):
        df = pd.read_parquet(path)
        parts += [str(v) for col in df.columns if pd.api.types.is_string_dtype(df[col]) for v in df[col].dropna()]
    return "\n".join(parts)


def _look(store, folder, manager: bool = False):
    """The month's tables in ``folder`` as the report runner gets them (``ensure_month``: prepared again when the
    month's evaluations changed) and (the agent's row of the team scores, the agent's view); with ``manager``, check the
    managers' monthly score table agrees with the team scores."""
    from qa_lib.reports import agent_view, ensure_month

    ensure_month(store, MONTH, folder)
    team = pd.read_parquet(folder / "scores.parquet").set_index("agent_id").loc[AGENT]
    if manager:
        monthly = month_agent_scores(store, MONTH).set_index("agent_id").loc[AGENT]
        assert (monthly["n"], monthly["mean"]) == (team["n"], team["mean"])
    return team, agent_view(folder, AGENT)


def test_drafts_never_count_submitted_count_for_the_team_released_reach_the_agent(loaded_store, tmp_path):
    """The issue's case: a draft (one failing the critical item) leaves the agent's n and mean unchanged everywhere and its
    comment is in no table; submitted, it counts on the team tables but not on the agent's, which only say one more awaits
    release; released, it is on the agent's page too; disputed, it still counts there, flagged."""
    from conftest import store_copy
    from qa_lib.reports import agent_headline

    store = store_copy(loaded_store, tmp_path)
    card = store.scorecard("inbound_service", 1)
    contact = store.unscored_contacts(card, MONTH).query("agent_id == @AGENT")["contact_id"].iloc[0]
    team0, view0 = _look(store, tmp_path / "tables")
    mine0 = view0["score"].iloc[0]
    eid = store.create_evaluation(contact, "Q02", "inbound_service", _answers(store, contact), comment=SECRET,
                                  comments={"correct_answer": SECRET}, arm="random")
    assert store.evaluation(eid)["status"] == "draft" and store.evaluation(eid)["total_score"] == 0

    team1, view1 = _look(store, tmp_path / "tables", manager=True)  # a draft: nowhere
    assert (team1["n"], team1["mean"]) == (team0["n"], team0["mean"])
    assert (view1["score"].iloc[0]["n"], view1["score"].iloc[0]["mean"]) == (mine0["n"], mine0["mean"]) and view1["awaiting"] == view0["awaiting"]
    assert SECRET not in _all_text(tmp_path / "tables") and "整体规范" in _all_text(tmp_path / "tables")  # other comments are there
    assert eid not in set(store.evaluations(MONTH)["evaluation_id"]) | set(store.evaluations(MONTH, audience="agent")["evaluation_id"])
    assert eid in set(store.evaluations(MONTH, audience="inspector")["evaluation_id"])

    store.submit(eid, actor="Q02")  # submitted: the team counts it, the agent does not see it
    team2, view2 = _look(store, tmp_path / "tables", manager=True)
    assert team2["n"] == team0["n"] + 1 and team2["mean"] < team0["mean"]
    assert (view2["score"].iloc[0]["n"], view2["score"].iloc[0]["mean"]) == (mine0["n"], mine0["mean"])
    assert view2["awaiting"] == view0["awaiting"] + 1 and "awaiting release" in agent_headline(view2, "en")
    assert eid not in set(view2["evaluations"]["evaluation_id"]) and SECRET not in view2["evaluations"].to_string()
    assert SECRET in _all_text(tmp_path / "tables")  # on the team's tables

    store.release(eid, actor="SUP1")  # released: on the agent's page and in the agent's score
    team3, view3 = _look(store, tmp_path / "tables")
    assert team3["n"] == team2["n"] and view3["score"].iloc[0]["n"] == mine0["n"] + 1 and view3["score"].iloc[0]["mean"] < mine0["mean"]
    assert view3["awaiting"] == view0["awaiting"]
    mine = view3["evaluations"].set_index("evaluation_id")
    assert mine.loc[eid, "comment"] == SECRET and SECRET in mine.loc[eid, "item_notes"]

    store.dispute(eid, {"correct_answer": "我的回答是正确的"}, agent_id=AGENT)  # disputed: still counted, flagged
    team4, view4 = _look(store, tmp_path / "tables")
    assert team4["n"] == team3["n"] and view4["score"].iloc[0]["n"] == view3["score"].iloc[0]["n"]
    assert view4["disputed"] == 1 and "under dispute" in agent_headline(view4, "en")
    store.engine.dispose()


def test_each_audience_reads_its_statuses(seeded):
    """Store.evaluations: team = submitted and after, agent = released and after, inspector = drafts too; drafts reach no
    score (scored_evaluations, evaluated_answers) and no month's KPI table."""
    from qa_lib.errors import ParameterError

    answers = {"greeting": "yes", "identity_check": "yes", "needs_analysis": "yes", "empathy": "yes", "correct_answer": "yes",
               "escalation_handling": "na", "info_logged": "yes", "confirmation": "yes", "closing": "yes", "proactive_help": "no"}
    draft = seeded.create_evaluation("K1", "Q1", "inbound_service", answers)
    sent = seeded.create_evaluation("K2", "Q1", "inbound_service", answers, submit=True)
    ids = lambda audience: set(seeded.evaluations(MONTH, audience=audience)["evaluation_id"])  # noqa: E731
    assert ids("inspector") == {draft, sent} and ids("team") == {sent} and ids("agent") == set()
    assert set(seeded.evaluated_answers()["evaluation_id"]) == {sent}
    assert set(seeded.scored_evaluations("inbound_service", month=MONTH)[0]["evaluation_id"]) == {sent}
    assert set(seeded.awaiting_release(MONTH)["agent_id"]) == {"A2"}
    seeded.release(sent, actor="SUP1")
    assert ids("agent") == {sent} and seeded.awaiting_release(MONTH).empty
    with pytest.raises(ParameterError, match="audience must be one of team, agent, inspector; got 'everyone'"):
        seeded.evaluations(audience="everyone")
