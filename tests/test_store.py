"""The store: schema from migrations, all-or-nothing imports, idempotent re-imports.

Runs on SQLite, and on PostgreSQL too when ``QA_TEST_PG_URL`` is set (CI sets it).
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conftest import AGENTS, CONTACTS, PG_URL, write_csv
from qa_lib.config import samples_dir
from qa_lib.errors import NotFoundError, ParameterError, StoreError, ValidationError
from qa_lib.store import Store, metadata


def snapshot(store: Store) -> dict:
    """Every table's full content, to prove a rejected import changed nothing."""
    out = {}
    with store.engine.connect() as conn:
        for name, t in metadata.tables.items():
            out[name] = sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
    return out


def test_postgres_configured_in_ci():
    """CI must run the store tests on a real PostgreSQL: fail, don't skip, when it is missing."""
    if os.environ.get("CI") and not PG_URL:
        pytest.fail("CI is set but QA_TEST_PG_URL is not: .ci/run did not start PostgreSQL")


def test_migrations_match_the_model(store):
    assert store.revision() == store.head() == "0006"
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], "qa_lib/model.py changed without a migration: add one under qa_lib/store/migrations/versions"
    assert store.migrate() == "0006"  # idempotent


def test_upgrade_from_0001_keeps_evaluations_as_version_1(db_url):
    """A database made before the evaluation history gets version 1 of every stored evaluation."""
    from alembic import command

    s = Store(db_url)
    with s.engine.begin() as conn:
        command.upgrade(s._alembic(conn), "0001")
    md = sa.MetaData()
    with s.engine.begin() as conn:
        t = {n: sa.Table(n, md, autoload_with=conn) for n in ("agents", "inspectors", "contacts", "scorecards", "evaluations", "evaluation_items")}
        conn.execute(t["agents"].insert().values(agent_id="A1", name="王伟", team="North", hire_date=pd.Timestamp("2024-01-02").date()))
        conn.execute(t["inspectors"].insert().values(inspector_id="Q1", name="陈静"))
        conn.execute(t["contacts"].insert().values(contact_id="K1", start_time=pd.Timestamp("2026-10-05 09:00").to_pydatetime(), channel="hotline",
                                                   direction="inbound", contact_type="service", agent_id="A1", answered=True, abandoned=False))
        conn.execute(t["evaluations"].insert().values(evaluation_id="E1", contact_id="K1", agent_id="A1", inspector_id="Q1", scorecard_id="inbound_service",
                                                      scorecard_version=1, evaluated_at=pd.Timestamp("2026-10-06 10:00").to_pydatetime(), arm="random",
                                                      status="submitted", total_score=85.0))
        conn.execute(t["evaluation_items"].insert(), [{"evaluation_id": "E1", "item_id": "greeting", "answer": "yes", "item_comment": None},
                                                      {"evaluation_id": "E1", "item_id": "closing", "answer": "no", "item_comment": "未使用标准结束语"}])
    assert s.migrate() == "0006"
    h = s.history("E1")
    assert h[["version", "action", "status", "total_score", "actor"]].to_dict("records") == [
        {"version": 1, "action": "import", "status": "submitted", "total_score": 85.0, "actor": "Q1"}]
    assert json.loads(h.loc[0, "answers"]) == {"closing": ["no", "未使用标准结束语"], "greeting": ["yes", None]}
    assert s.evaluation("E1")["version"] == 1
    s.engine.dispose()


def test_unmigrated_database_is_refused(db_url):
    s = Store(db_url)
    with pytest.raises(StoreError, match="no QA schema yet: run `qa init`"):
        s.check_ready()


def test_bad_url_is_a_clear_error():
    with pytest.raises(StoreError, match="cannot use database URL"):
        Store("nosuchdialect://x/y")


def test_import_and_idempotent_reimport(seeded, tmp_path):
    path = write_csv(CONTACTS, tmp_path / "more.csv")
    before = snapshot(seeded)
    r = seeded.import_file("contacts", path)
    assert r.inserted == {"contacts": 0} and r.skipped == {"contacts": 2}
    after = snapshot(seeded)
    assert {k: v for k, v in after.items() if k != "imports"} == {k: v for k, v in before.items() if k != "imports"}
    assert len(after["imports"]) == len(before["imports"]) + 1  # the attempt is audited
    c = seeded.read("contacts")
    assert c.set_index("contact_id").loc["K2", "channel"] == "hotline"
    assert c.set_index("contact_id").loc["K2", "talk_seconds"] == 240.5


def test_bad_row_is_rejected_and_nothing_changes(seeded, tmp_path):
    bad = CONTACTS.assign(contact_id=["K3", "K4"])
    bad.loc[1, "talk_seconds"] = "-3"
    path = write_csv(bad, tmp_path / "bad.csv")
    before = snapshot(seeded)
    with pytest.raises(ValidationError) as info:
        seeded.import_file("contacts", path)
    assert [str(p) for p in info.value.problems] == ["bad.csv:3:talk_seconds: must not be negative; got '-3'"]
    assert snapshot(seeded) == before


def test_unknown_agent_is_rejected(seeded, tmp_path):
    bad = CONTACTS.assign(contact_id=["K3", "K4"], agent_id=["A1", "A999"])
    before = snapshot(seeded)
    with pytest.raises(ValidationError) as info:
        seeded.import_file("contacts", write_csv(bad, tmp_path / "c.csv"))
    assert [str(p) for p in info.value.problems] == ["c.csv:3:agent_id: unknown agent_id 'A999' (not in agents)"]
    assert snapshot(seeded) == before
    many = pd.DataFrame([CONTACTS.iloc[0]] * 450).assign(contact_id=[f"M{i}" for i in range(450)], agent_id=[f"X{i}" for i in range(450)])
    with pytest.raises(ValidationError) as info:
        seeded.import_file("contacts", write_csv(many, tmp_path / "m.csv"))
    assert info.value.total == 450 and "450 problems" in str(info.value)  # the true total, though 200 are listed
    assert "250 more rows, not listed one by one" in str(info.value.problems[-1])


def test_changed_values_under_a_stored_id_are_refused(seeded, tmp_path):
    changed = CONTACTS.copy()
    changed.loc[0, "talk_seconds"] = "181"
    before = snapshot(seeded)
    with pytest.raises(ValidationError) as info:
        seeded.import_file("contacts", write_csv(changed, tmp_path / "c.csv"))
    assert [str(p) for p in info.value.problems] == ["c.csv:2:talk_seconds: K1 is already stored with talk_seconds = '180', the file has '181'"]
    assert snapshot(seeded) == before


INBOUND_OK = {
    "greeting": "yes", "identity_check": "yes", "needs_analysis": "partial", "empathy": "yes", "correct_answer": "yes",
    "escalation_handling": "na", "info_logged": "yes", "confirmation": "yes", "closing": "no", "proactive_help": "no",
}


def _evaluation(evaluation_id="E1", contact_id="K1", agent_id="A1", answers=None, **over) -> list[dict]:
    head = {
        "evaluation_id": evaluation_id, "contact_id": contact_id, "agent_id": agent_id, "inspector_id": "Q1",
        "scorecard_id": "inbound_service", "scorecard_version": "1", "evaluated_at": "2026-10-06 10:00:00", "arm": "random",
    }
    head.update(over)
    return [dict(head, item_id=k, answer=v) for k, v in (answers or INBOUND_OK).items()]


def test_evaluations_are_scored_and_checked_against_contact_and_scorecard(seeded):
    rows = pd.DataFrame(_evaluation() + _evaluation("E2", "K2", "A2", answers={**INBOUND_OK, "greeting": "否", "correct_answer": "no"}))
    r = seeded.import_frame("evaluations", rows, source="e.csv")
    assert r.inserted == {"evaluations": 2, "evaluation_items": 20}
    ev = seeded.read("evaluations").set_index("evaluation_id")
    # weighted: opening 15·100, needs 20·(2·0.5+1)/3·100, solution 40·100 (escalation N/A), records 10·100, closing 15·50
    assert ev.loc["E1", "total_score"] == pytest.approx((1500 + 20 * 200 / 3 + 4000 + 1000 + 750) / 100)
    assert ev.loc["E2", "total_score"] == 0  # correct_answer is critical for the whole evaluation
    items = seeded.read("evaluation_items")
    assert items.loc[(items["evaluation_id"] == "E2") & (items["item_id"] == "greeting"), "answer"].item() == "no"  # 否 stored as no
    assert seeded.import_frame("evaluations", rows, source="e.csv").inserted == {"evaluations": 0, "evaluation_items": 0}
    before = snapshot(seeded)
    bad = pd.DataFrame(_evaluation("E3", agent_id="A2"))  # K1 was handled by A1
    with pytest.raises(ValidationError) as info:
        seeded.import_frame("evaluations", bad, source="e2.csv")
    assert [str(p) for p in info.value.problems] == ["e2.csv:2:agent_id: contact 'K1' was handled by 'A1', not 'A2'"]
    bad = pd.DataFrame(
        _evaluation("E4", "K2", "A2", answers={**INBOUND_OK, "smile": "yes"})
        + _evaluation("E5", "K2", "A2", scorecard_version="9")
        + _evaluation("E6", "K2", "A2", answers={**INBOUND_OK, "empathy": "7", "identity_check": "na"})
        + _evaluation("E7", "K2", "A2", total_score="99")
    )
    with pytest.raises(ValidationError) as info:
        seeded.import_frame("evaluations", bad, source="e2.csv")
    got = [str(p) for p in info.value.problems]
    assert "e2.csv:12:item_id: evaluation E4: item 'smile' is not in scorecard inbound_service v1" in got
    assert "e2.csv:13:scorecard_id: no scorecard 'inbound_service' version 9 is stored" in got
    assert "e2.csv:26:answer: evaluation E6: item empathy: '7' is not an allowed answer (yes|partial|no)" in got
    assert "e2.csv:24:answer: evaluation E6: item identity_check: N/A is not allowed for this item" in got
    assert "e2.csv:33:total_score: evaluation E7: total_score 99 in the file, the scorecard gives 85.83" in got
    assert snapshot(seeded) == before  # header rows were not written either


def test_scorecard_versions_are_immutable(store, tmp_path):
    card = samples_dir() / "scorecards" / "inbound_service.v1.yaml"
    assert store.add_scorecard(card) == ("inbound_service", 1, True)
    assert store.add_scorecard(card) == ("inbound_service", 1, False)
    edited = tmp_path / "edited.yaml"
    edited.write_text(card.read_text(encoding="utf-8").replace("weight: 15", "weight: 25", 1), encoding="utf-8")
    with pytest.raises(ValidationError, match="already stored with a different definition; bump the version"):
        store.add_scorecard(edited)
    assert store.scorecard("inbound_service").sections[0].weight == 15
    with pytest.raises(NotFoundError):
        store.scorecard("nope")


def test_gbk_file_imports(seeded, tmp_path):
    more = CONTACTS.assign(contact_id=["K7", "K8"])
    r = seeded.import_file("contacts", write_csv(more, tmp_path / "gbk.csv", "gbk"))
    assert r.inserted == {"contacts": 2}
    assert set(seeded.read("contacts")["contact_id"]) == {"K1", "K2", "K7", "K8"}


def test_read_month_and_latest_month(seeded):
    assert str(seeded.latest_month()) == "2026-10"
    assert len(seeded.read_month("contacts", "2026-10")) == 2
    assert len(seeded.read_month("contacts", "2026-09")) == 0
    with pytest.raises(ParameterError, match="table must be one of"):
        seeded.read_month("agents", "2026-10")


def test_transcripts_of_contacts(seeded):
    """The calibration report's excerpts: only the asked contacts that have a transcript, as stored."""
    import sqlalchemy as sa

    assert seeded.transcripts(["K1", "K2", "K9"]) == {} and seeded.transcripts([]) == {}
    with seeded.engine.begin() as c:
        c.execute(sa.update(seeded.table("contacts")).where(seeded.table("contacts").c.contact_id == "K1").values(transcript="坐席：您好 13812345678"))
    assert seeded.transcripts(["K1", "K2"]) == {"K1": "坐席：您好 13812345678"}
    assert seeded.transcripts(["K2"]) == {}


def test_latest_month_of_empty_store(store):
    with pytest.raises(NotFoundError, match="no contacts yet"):
        store.latest_month()


def test_agents_roundtrip_types(seeded):
    a = seeded.read("agents").set_index("agent_id")
    assert str(a.loc["A2", "hire_date"]) == "2025-07-15"
    assert a.loc["A2", "status"] == "active"
    assert len(AGENTS) == len(a)


def test_loaded_samples_counts(loaded_store):
    counts = loaded_store.counts()
    folder = samples_dir()
    assert counts["agents"] == len(pd.read_csv(folder / "agents.csv"))
    assert counts["contacts"] == len(pd.read_parquet(folder / "contacts.parquet"))
    assert counts["evaluation_items"] == len(pd.read_csv(folder / "evaluations.csv"))
    assert counts["voc_feedback"] == len(pd.read_csv(folder / "voc.csv"))
    assert counts["scorecards"] == 2


def test_coaching_action_recorded_and_closed(seeded):
    first = seeded.add_coaching_action("A1", "needs_analysis, confirmation", "跟听优秀录音3通；三天后复听。", "Q1",
                                       created_on="2026-10-05", due_on="2026-10-19")
    second = seeded.add_coaching_action("A2", ["closing"], "Close every call with the standard phrase.", "张敏", created_on="2026-10-06",
                                        recheck_after_days=0)
    assert (first, second) == ("CA0001", "CA0002")
    rows = seeded.read("coaching_actions").set_index("action_id")
    assert rows.loc["CA0001", "items"] == "needs_analysis,confirmation" and str(rows.loc["CA0001", "due_on"]) == "2026-10-19"
    assert rows.loc["CA0001", "status"] == "open" and rows.loc["CA0001", "recheck_after_days"] == 3
    assert rows.loc["CA0002", "due_on"] is None and rows.loc["CA0002", "recheck_after_days"] == 0
    seeded.close_coaching_action("CA0001", closed_on="2026-10-09")
    seeded.close_coaching_action("CA0002", status="cancelled", closed_on="2026-10-06")
    rows = seeded.read("coaching_actions").set_index("action_id")
    assert rows["status"].tolist() == ["done", "cancelled"] and str(rows.loc["CA0001", "closed_on"]) == "2026-10-09"
    before = snapshot(seeded)
    with pytest.raises(ParameterError, match=r"action_id 'CA0001' is already done \(closed on 2026-10-09\)"):
        seeded.close_coaching_action("CA0001")
    with pytest.raises(NotFoundError, match="no coaching action 'CA0099'"):
        seeded.close_coaching_action("CA0099")
    with pytest.raises(ParameterError, match="status must be one of done, cancelled; got 'open'"):
        seeded.close_coaching_action("CA0001", status="open")
    assert seeded.add_coaching_action("A1", "greeting", "x", "Q1", created_on="2026-10-10") == "CA0003"
    with pytest.raises(ParameterError, match=r"closed_on must be on or after the action's created_on \(2026-10-10\); got '2026-10-01'"):
        seeded.close_coaching_action("CA0003", closed_on="2026-10-01")
    after = snapshot(seeded)
    assert len(after["coaching_actions"]) == len(before["coaching_actions"]) + 1
    assert {k: v for k, v in after.items() if k != "coaching_actions"} == {k: v for k, v in before.items() if k != "coaching_actions"}


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("A9", "greeting"), {}, "agent_id must be a stored agent; got 'A9'"),
        (("A1", "greeting,smile"), {}, r"items must be items of one stored scorecard \(followup_call, inbound_service\); unknown \['smile'\]"),
        (("A1", "empathy,owner_confirmed"), {}, r"\['empathy', 'owner_confirmed'\] are not items of one scorecard"),
        (("A1", " , "), {}, "items must name at least one scorecard item"),
        (("A1", "greeting"), {"created_on": "2026-10-10", "due_on": "2026-10-09"}, r"due_on must be on or after created_on \(2026-10-10\); got '2026-10-09'"),
        (("A1", "greeting"), {"recheck_after_days": -1}, "recheck_after_days must be a whole number from 0 to 365; got -1"),
        (("A1", "greeting"), {"created_on": "2026-13-01"}, "created_on must be a date like 2026-10-31; got '2026-13-01'"),
        (("A1", "greeting"), {"coach": " "}, "coach must be a non-empty text; got ' '"),
    ],
)
def test_bad_coaching_action_writes_nothing(seeded, args, kwargs, message):
    before = snapshot(seeded)
    kwargs = {"coach": "Q1", **kwargs}
    with pytest.raises(ParameterError, match=message):
        seeded.add_coaching_action(args[0], args[1], "agreed", kwargs.pop("coach"), **kwargs)
    assert snapshot(seeded) == before


def test_demo_rebuilds_only_a_database_holding_nothing_but_the_samples(seeded):
    """``work_since_samples`` tells a sample database `qa demo` may rebuild from one holding someone's work."""
    from qa_lib.store import clear_database, mark_built_from_samples, work_since_samples

    lines = work_since_samples(seeded)
    assert "contacts: 2 rows, not built from the samples" in lines and "agents: 2 rows, not built from the samples" in lines
    mark_built_from_samples(seeded)
    assert work_since_samples(seeded) == []
    draft = seeded.create_evaluation("K1", "Q1", "inbound_service")
    assert [line.split(":")[0] for line in work_since_samples(seeded)] == ["evaluations", "evaluation_versions"]
    mark_built_from_samples(seeded)
    seeded.save_draft(draft, {"greeting": "yes"}, actor="Q1", expected_version=1)  # an edit adds a version (and here an answer)
    lines = work_since_samples(seeded)
    assert [line.split(":")[0] for line in lines] == ["evaluation_items", "evaluation_versions"] and lines[1].startswith("evaluation_versions: +1 rows")
    mark_built_from_samples(seeded)
    action = seeded.add_coaching_action("A1", "greeting", "复习开场白", "Q1", created_on="2026-10-06")
    mark_built_from_samples(seeded)
    seeded.close_coaching_action(action, closed_on="2026-10-09")  # no row count changes
    assert work_since_samples(seeded) == [work_since_samples(seeded)[0]] and work_since_samples(seeded)[0].startswith("coaching_actions: changed")
    url = seeded.url
    fresh = clear_database(seeded)
    assert fresh.url == url and fresh.revision() is None and work_since_samples(fresh) == []
    fresh.migrate()
    assert not any(fresh.counts().values())
    fresh.engine.dispose()


def test_an_empty_or_new_database_holds_no_work(db_url):
    from qa_lib.store import work_since_samples

    s = Store(db_url)
    assert work_since_samples(s) == []  # no schema
    s.migrate()
    assert work_since_samples(s) == []  # schema, no rows
    s.engine.dispose()


def test_the_demo_never_takes_another_applications_database_or_an_older_one(db_url):
    """A database with tables but no QA schema, or an older QA schema, is someone's: listed, and left as it was."""
    from alembic import command

    from qa_lib.store import work_since_samples

    s = Store(db_url)
    with s.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(sa.text("CREATE TABLE contacts (id INTEGER PRIMARY KEY)"))  # a name we use too
        conn.execute(sa.text("INSERT INTO customers (id, name) VALUES (1, '王伟')"))
    assert sorted(work_since_samples(s)) == ["contacts: 0 rows (not a QA table)", "customers: 1 rows (not a QA table)"]
    with s.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE customers"))
        conn.execute(sa.text("DROP TABLE contacts"))
        command.upgrade(s._alembic(conn), "0003")
    assert work_since_samples(s) == []  # an older schema with no rows: nothing to lose
    with s.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO inspectors (inspector_id, name, is_expert) VALUES ('Q1', '陈静', false)"))
    assert work_since_samples(s) == ["inspectors: 1 rows (schema 0003, not built by this version's `qa demo`)"]
    assert s.revision() == "0003"  # looked at, not upgraded
    s.engine.dispose()


def test_importing_the_same_file_again_is_no_work(seeded):
    from qa_lib.store import mark_built_from_samples, work_since_samples

    mark_built_from_samples(seeded)
    r = seeded.import_frame("contacts", CONTACTS.copy(), source="contacts.csv")
    assert r.inserted == {"contacts": 0} and work_since_samples(seeded) == []


# ---------------------------------------------------------------- class 6: imports obey the lifecycle's rules
#: Contacts no evaluation may score with the inbound card, and regular ones for a saved plan (K7 targeted, K8 random).
HOSTILE_CONTACTS = pd.DataFrame({
    "contact_id": ["K3", "K4", "K5", "K6", "K7", "K8"],
    "start_time": ["2026-10-05 11:00:00"] * 6,
    "channel": "hotline",
    "direction": ["inbound", "inbound", "inbound", "outbound", "inbound", "inbound"],
    "contact_type": ["non_regular", "service", "service", "service_quality", "service", "consultation"],
    "topic": ["misdial", None, None, None, None, None],
    "agent_id": ["A1", "A1", None, "A2", "A1", "A2"],
    "answered": ["true", "false", "false", "true", "true", "true"],
    "abandoned": ["false", "true", "true", "false", "false", "false"],
    "talk_seconds": ["5", "0", "0", "150", "200", "210"],
})
FOLLOWUP_OK = {"owner_confirmed": "yes", "introduction": "partial", "prepared_questions": "yes", "record_confirmed": "yes",
               "customer_complained": "no", "closing": "yes", "duration_ok": "yes", "courtesy_faults": "1"}


def save_test_plan(store: Store, arms: dict[str, str], inspector: str = "Q1") -> str:
    """Save a sampling plan through ``Store.save_plan`` that drew ``{contact_id: arm}``; return its id."""
    from qa_lib.sampling import DrawnPlan, PlanSpec

    agent = store.read("contacts").set_index("contact_id")["agent_id"]
    pc = pd.DataFrame({"contact_id": list(arms), "agent_id": agent.loc[list(arms)].to_numpy(), "arm": list(arms.values()), "stratum": "all",
                       "inclusion_prob": 0.5, "reason": ["" if a == "random" else "new_hire" for a in arms.values()],
                       "inspector_id": inspector, "second_inspector_id": None})
    cells = pd.DataFrame({"agent_id": sorted(set(pc["agent_id"])), "stratum": "all", "team": "North", "N": 4, "n": 1})
    return store.save_plan(DrawnPlan(PlanSpec(period="2026-10"), pc, cells))


def make_hostile(seeded: Store) -> Store:
    """The seeded store plus HOSTILE_CONTACTS, calibration session CAL1 (followup_call) and a saved plan that drew
    K7 as targeted and K8 as random (its id in ``.plan_id``)."""
    seeded.import_frame("contacts", HOSTILE_CONTACTS.copy(), source="hostile_contacts.csv")
    seeded.import_frame("calibration_sessions", pd.DataFrame({"session_id": ["CAL1"], "held_on": ["2026-10-20"], "scorecard_id": ["followup_call"]}))
    seeded.plan_id = save_test_plan(seeded, {"K7": "targeted", "K8": "random"})
    return seeded


@pytest.fixture
def hostile(seeded):
    return make_hostile(seeded)


#: name: (evaluation rows, (row, column, message excerpt)) — each a hostile evaluation file.
HOSTILE_CASES = {
    "misdial": (_evaluation("H1", "K3", "A1"), (2, "contact_id", "contact K3 is non_regular (a misdial")),
    "unanswered": (_evaluation("H2", "K4", "A1"), (2, "contact_id", "contact K4 was not answered")),
    "no_agent": (_evaluation("H3", "K5", "A1"), (2, "contact_id", "contact K5 has no agent")),
    "outbound_on_inbound_card": (_evaluation("H4", "K6", "A2"), (2, "scorecard_id", "scorecard inbound_service v1 applies to inbound contacts; contact K6 is outbound")),
    "outbound_type_on_inbound_card": (_evaluation("H4", "K6", "A2"), (2, "scorecard_id", "contact K6 is service_quality")),
    "evaluated_before_the_call": (_evaluation("H5", evaluated_at="2026-10-05 09:00:00"), (2, "evaluated_at", "evaluated at 2026-10-05 09:00:00, before contact K1 started (2026-10-05 09:15:00)")),
    "targeted_made_random": (_evaluation("H6", "K7", "A1"), (2, "arm", "arm random does not match sampling plan P2026-10-")),
    "random_made_targeted": (_evaluation("H7", "K8", "A2", arm="targeted"), (2, "arm", "which drew contact K8 as random")),
    "duplicate": (_evaluation("H8") + _evaluation("H9"), (12, "contact_id", "contact K1 is evaluated twice by Q1 in this input: also evaluation H8 (row 12)")),
    "wrong_agent": (_evaluation("H10", agent_id="A2"), (2, "agent_id", "contact 'K1' was handled by 'A1', not 'A2'")),
    "version_not_1": (_evaluation("H11", version="3"), (2, "version", "an evaluation starts at version 1")),
    "acknowledged_on_import": (_evaluation("H13", status="acknowledged"), (2, "status", "an evaluation starts as draft or submitted, not acknowledged")),
    "calibration_other_card": (_evaluation("H12", arm="calibration", calibration_session_id="CAL1"), (2, "scorecard_id", "calibration session CAL1 scores with followup_call, not inbound_service")),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CASES))
def test_hostile_evaluations_are_refused_located_and_store_nothing(hostile, tmp_path, name):
    rows, (row, column, excerpt) = HOSTILE_CASES[name]
    good = _evaluation("G1", "K2", "A2")  # a valid row in the same file: all or nothing
    path = write_csv(pd.DataFrame(good + rows), tmp_path / f"{name}.csv")
    row += len(good)
    before, counts = snapshot(hostile), hostile.counts()
    with pytest.raises(ValidationError) as info:
        hostile.import_file("evaluations", path)
    found = [p for p in info.value.problems if (p.source, p.row, p.column) == (path.name, row, column) and excerpt in p.message]
    assert found, [str(p) for p in info.value.problems]
    if name == "targeted_made_random":
        assert str(found[0]) == f"{name}.csv:{row}:arm: arm random does not match sampling plan {hostile.plan_id}, which drew contact K7 as targeted"
    assert hostile.counts() == counts and snapshot(hostile) == before
    # the command line says the same and stores nothing either
    from click.testing import CliRunner

    from qa_lib.cli import main

    r = CliRunner().invoke(main, ["import", "evaluations", str(path), "--db", hostile.url], catch_exceptions=False)
    assert r.exit_code == 2 and "nothing was stored" in r.output and f"{path.name}:{row}:{column}: " in r.output and excerpt in r.output, r.output
    assert hostile.counts() == counts


def test_valid_lifecycle_rows_are_accepted(hostile):
    rows = (_evaluation("V1") + _evaluation("V2", "K7", "A1", arm="targeted") + _evaluation("V3", "K8", "A2")
            + _evaluation("V4", "K6", "A2", answers=FOLLOWUP_OK, scorecard_id="followup_call")
            + _evaluation("V5", "K2", "A2", evaluated_at="2026-10-05 10:02:30")  # at the contact's start: not before it
            + _evaluation("V6", "K6", "A2", answers=FOLLOWUP_OK, scorecard_id="followup_call", arm="calibration", calibration_session_id="CAL1"))
    r = hostile.import_frame("evaluations", pd.DataFrame(rows), source="ok.csv")
    assert r.inserted["evaluations"] == 6
    ev = hostile.read("evaluations").set_index("evaluation_id")
    assert ev.loc["V2", "arm"] == "targeted" and ev.loc["V3", "arm"] == "random" and ev.loc["V4", "total_score"] == 100 - 5 - 2
    assert ev.loc["V6", "arm"] == "calibration"  # a calibration scoring of a planned contact's kind needs no plan arm
    assert hostile.import_frame("evaluations", pd.DataFrame(rows), source="ok.csv").inserted == {"evaluations": 0, "evaluation_items": 0}
