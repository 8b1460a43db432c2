"""`qa` end to end through click's runner and, once, as the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from conftest import CONTACTS, write_csv
from qa_lib.cli import main
from qa_lib.config import samples_dir
from qa_lib.store import Store


def run(*args, env=None):
    return CliRunner().invoke(main, list(map(str, args)), env=env, catch_exceptions=False)


def test_help_lists_commands():
    r = run("--help")
    assert r.exit_code == 0
    for cmd in ("demo", "import", "init", "samples", "status", "docs"):
        assert f"  {cmd} " in r.output


def test_console_script_installed():
    exe = Path(sys.executable).with_name("qa")
    r = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "qa, version 0.1.0"


def test_init_import_status_and_a_rejected_file(tmp_path):
    db = tmp_path / "qa.sqlite"
    r = run("init", "--db", db, "--no-samples")
    assert r.exit_code == 0 and "schema at revision 0006" in r.output
    agents = pd.DataFrame({"agent_id": ["A1", "A2"], "name": ["王伟", "李娜"], "team": ["North", "South"], "hire_date": ["2024-03-01", "2025-07-15"]})
    assert run("import", "agents", write_csv(agents, tmp_path / "agents.csv"), "--db", db).exit_code == 0
    r = run("import", "contacts", write_csv(CONTACTS, tmp_path / "c.csv", "gbk"), "--db", db)
    assert r.exit_code == 0 and "contacts: 2 added, 0 already stored" in r.output
    bad = CONTACTS.assign(contact_id=["K3", "K4"], start_time=["2026-10-05 09:00", "not a time"])
    r = run("import", "contacts", write_csv(bad, tmp_path / "bad.csv"), "--db", db)
    assert r.exit_code == 2
    assert "bad.csv:3:start_time: unparseable time: 'not a time'" in r.output
    assert "nothing was stored" in r.output and "Traceback" not in r.output
    assert Store(db).counts()["contacts"] == 2
    r = run("status", "--db", db)
    assert r.exit_code == 0 and "contacts" in r.output and "2" in r.output


def test_import_into_uninitialised_db_is_refused(tmp_path):
    path = write_csv(CONTACTS, tmp_path / "c.csv")
    r = run("import", "contacts", path, "--db", tmp_path / "empty.sqlite")
    assert r.exit_code == 1 and "run `qa init`" in r.output


def test_import_unknown_kind():
    r = CliRunner().invoke(main, ["import", "calls", __file__])
    assert r.exit_code == 2 and "'calls'" in r.output and "contacts" in r.output  # refused, naming the value and the kinds


def test_samples_to_another_folder(tmp_path):
    out = tmp_path / "s"
    r = run("samples", "--out", out, "--agents", 24, "--teams", 2, "--months", 3, "-q")
    assert r.exit_code == 0, r.output
    assert (out / "contacts.parquet").exists() and (out / "PLANTED.md").exists()
    assert (out / "scorecards" / "inbound_service.v1.yaml").exists()
    r = run("samples", "--out", out, "--agents", 3, "-q")
    assert r.exit_code == 2 and "agents must be an integer ≥ 12; got 3" in r.output


def test_demo_builds_db_and_writes_month(tmp_path, monkeypatch):
    """`qa demo` on a copy of the project tree: database from the samples, reports in reports/<month>/."""
    home = tmp_path / "home"
    shutil.copytree(samples_dir(), home / "data" / "samples")
    monkeypatch.setenv("QA_HOME", str(home))
    r = run("demo", "-q")
    assert r.exit_code == 0, r.output
    assert ", 0 failed;" in r.output and (home / "reports" / "2026-10" / "autoqa_zh.html").is_file()  # every page, auto-QA's too
    assert (home / "data" / "qa.sqlite").exists()  # the one default database: every command works on it at once
    status = run("status")
    assert status.exit_code == 0 and "contacts" in status.output and "qa.sqlite" in status.output, status.output
    summary = json.loads((home / "reports" / "2026-10" / "data_summary.json").read_text(encoding="utf-8"))
    contacts = pd.read_parquet(home / "data" / "samples" / "contacts.parquet")
    in_month = contacts["start_time"].dt.to_period("M").astype(str) == "2026-10"
    assert summary["contacts"] == int(in_month.sum())
    assert summary["evaluations"] > 0 and summary["voc"] > 0
    for name in ("kpis.md", "kpis.csv", "agent_scores.csv", "worklists/Q01.csv", "training/all_zh.html", "training/South_zh.html",
                 "training_plan_2026-10.xlsx", "cases/index.html", "cases/cases_2026-10.xlsx"):
        assert (home / "reports" / "2026-10" / name).exists(), name
    index = (home / "reports" / "2026-10" / "index.html").read_text(encoding="utf-8")
    assert 'href="cases/index.html">案例库<' in index and 'href="training/all_zh.html"' in index and 'href="agents/A017_zh.html"' in index
    assert 'href="../digest/digest_2026-11-03.html"' in index and "首次解决率" in index  # the month's dashboard, the digest linked
    assert "morning digest for 2026-11-03" in r.output and (home / "reports" / "digest" / "digest_2026-11-03.html").exists()
    from qa_lib.reports.browser import find_chromium

    if find_chromium():  # one screenshot per report kind, for people to look at
        shots = {p.stem for p in (home / "reports" / "2026-10" / "screenshots").glob("*.png")}
        assert shots == {"agents", "teams", "voc", "training", "cases", "digest"}, shots
    r = run("demo", "-q", "--month", "Oct")
    assert r.exit_code == 2 and "month must look like 2026-10; got 'Oct'" in r.output
    # a second run rebuilds the database from scratch: here from a smaller sample center generated into the same folder
    assert run("samples", "--out", home / "data" / "samples", "--agents", 12, "--teams", 2, "--months", 3, "-q").exit_code == 0
    r = run("demo", "-q", "--no-screenshots")
    assert r.exit_code == 0, r.output
    from qa_lib.store import Store

    store = Store(None)
    small = pd.read_parquet(home / "data" / "samples" / "contacts.parquet")
    assert store.counts()["contacts"] == len(small) < len(contacts) and store.counts()["agents"] == 12
    # an inspector's work in the default database: the demo refuses to rebuild it, and changes nothing
    action = store.read("coaching_actions").query("status == 'open'")["action_id"].iloc[0]
    store.close_coaching_action(action, closed_on="2026-11-05")  # changes no row count
    before = store.counts()
    r = run("demo", "-q", "--no-screenshots")
    assert r.exit_code == 1 and "not from the samples" in r.output and "coaching_actions: changed" in r.output, r.output
    assert "Nothing was changed" in r.output and "qa demo --db" in r.output and Store(None).counts() == before


def test_demo_with_missing_samples_says_so(tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(samples_dir() / "scorecards", home / "data" / "samples" / "scorecards")
    monkeypatch.setenv("QA_HOME", str(home))
    r = run("demo", "-q")
    assert r.exit_code == 1 and "agents.csv' is missing; run `qa samples" in r.output


def test_docs_are_current(tmp_path, monkeypatch):
    r = run("docs", "--check")
    assert r.exit_code == 0, "docs/data-model.md is stale: run `qa docs`"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "data-model.md").write_text("# old\n")
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    r = run("docs", "--check")
    assert r.exit_code == 1 and "out of date" in r.output


def test_rescore_what_if_leaves_scores_alone(loaded_store, tmp_path):
    card = (samples_dir() / "scorecards" / "inbound_service.v1.yaml").read_text(encoding="utf-8")
    # v2 doubles the weight of the opening section, where identity_check is critical for the section
    v2 = card.replace("version: 1", "version: 2", 1).replace("    weight: 15\n    items:\n      - id: greeting", "    weight: 30\n    items:\n      - id: greeting")
    assert v2 != card
    (tmp_path / "v2.yaml").write_text(v2, encoding="utf-8")
    before = loaded_store.read("evaluations")
    out = tmp_path / "ranks.csv"
    r = run("rescore", "--db", loaded_store.url, "--scorecard", "inbound_service", "--card", tmp_path / "v2.yaml", "--out", out)
    assert r.exit_code == 0, r.output
    assert "Stored scores are unchanged" in r.output
    ranks = pd.read_csv(out).set_index("agent_id")
    # the planted agent weak on identity_check (PLANTED.md) drops when that item weighs more
    assert ranks.loc["A017", "rank_change"] < 0
    pd.testing.assert_frame_equal(before, loaded_store.read("evaluations"))
    r = run("rescore", "--db", loaded_store.url, "--scorecard", "inbound_service")
    assert r.exit_code == 2 and "give --version, --card or --style" in r.output


def test_score_export_and_import(tmp_path):
    db = tmp_path / "qa.sqlite"
    assert run("init", "--db", db, "-q").exit_code == 0
    out = tmp_path / "q2.xlsx"
    r = run("score", "export", "--db", db, "--scorecard", "followup_call", "--inspector", "Q02", "--month", "2026-10", "-n", 3, "--out", out)
    assert r.exit_code == 0, r.output
    assert "3 contacts of" in r.output
    from openpyxl import load_workbook

    wb = load_workbook(out)
    ws = wb["score"]
    header = [c.value for c in ws[1]]
    answers = {"owner_confirmed": "yes", "introduction": "partial", "prepared_questions": "yes", "record_confirmed": "yes",
               "customer_complained": "no", "closing": "yes", "duration_ok": "yes", "courtesy_faults": 1}
    for item, value in answers.items():
        ws.cell(row=2, column=header.index(item) + 1).value = value
    wb.save(out)
    r = run("score", "import", out, "--db", db, "--draft")
    assert r.exit_code == 0 and "1 new, 0 unchanged, 0 corrected (new version), 0 refused" in r.output, r.output
    ev = Store(db).read("evaluations")
    mine = ev[ev["evaluation_id"].str.endswith(ws.cell(row=2, column=1).value)]
    assert mine["status"].tolist() == ["draft"] and mine["total_score"].tolist() == [100 - 5 - 2]
    r = run("score", "export", "--db", db, "--scorecard", "inbound_service", "--inspector", "Q99", "--month", "2026-10", "--out", out)
    assert r.exit_code == 2 and "no inspector 'Q99'" in r.output


def test_evaluation_show_and_release(tmp_path):
    db = tmp_path / "qa.sqlite"
    assert run("init", "--db", db, "-q").exit_code == 0
    store = Store(db)
    ev = store.read_month("evaluations", "2026-10")
    eid = ev.loc[(ev["arm"] == "random") & (ev["status"] == "submitted"), "evaluation_id"].iloc[0]  # awaiting release in the samples
    r = run("evaluation", "release", eid, "--actor", "SUP1", "--db", db)
    assert r.exit_code == 0 and "released 1" in r.output
    r = run("evaluation", "release", eid, "--actor", "SUP1", "--db", db)
    assert r.exit_code == 2 and "cannot release an evaluation that is released" in r.output
    r = run("evaluation", "show", eid, "--db", db)
    assert r.exit_code == 0 and "import" in r.output and "release" in r.output and "SUP1" in r.output
    r = run("evaluation", "release", "--month", "2026-10", "--actor", "SUP1", "--db", db)
    assert r.exit_code == 0 and f"released {int((ev['status'] == 'submitted').sum()) - 1} " in r.output
    r = run("evaluation", "show", "E404", "--db", db)
    assert r.exit_code == 1 and "no evaluation 'E404'" in r.output


def test_sample_command_prints_precision_and_writes_worklists(tmp_path):
    db = tmp_path / "qa.sqlite"
    assert run("init", "--db", db, "-q").exit_code == 0
    out = tmp_path / "wl"
    r = run("sample", "--month", "2026-10", "--per-agent", 4, "--db", db, "--out", out)
    assert r.exit_code == 0, r.output
    assert "n = 4 buys ±" in r.output and "measured on the previous 3 months" in r.output
    assert (out / "Q01.csv").exists()
    r = run("sample", "--month", "2026-10", "--strata", "colour", "--db", db, "--out", out)
    assert r.exit_code == 2 and "unknown ['colour']" in r.output


def test_calibrate_prints_the_meeting_tables(loaded_store):
    r = run("calibrate", "--db", loaded_store.url, "--boot", 50)
    assert r.exit_code == 0, r.output
    assert "needs_analysis" in r.output.split("Per item, least reliable first")[1].splitlines()[2]
    bias = r.output.split("Inspector bias")[1]
    assert "Q03" in bias and "lenient" in bias and "strict" in bias
    r = run("calibrate", "--db", loaded_store.url, "--session", "CAL-1999-01")
    assert r.exit_code == 1 and "no calibration session 'CAL-1999-01'" in r.output


def test_cases_build_writes_the_library_and_prints_counts(loaded_store, tmp_path):
    import re

    out = tmp_path / "month"
    r = run("cases", "build", "--month", "2026-10", "--db", loaded_store.url, "--out", out, "--per-skill", 3)
    assert r.exit_code == 0, r.output
    assert "case library 2026-10: 48 cases (24 exemplary, 24 failures)" in r.output
    for skill in ("questioning", "etiquette", "empathy", "accuracy", "compliance", "efficiency", "product_knowledge", "process"):
        assert re.search(rf"^  {skill} +\d+ +\d+ +3 +3  ", r.output, re.M), skill
    assert f"wrote {out / 'cases' / 'index.html'}" in r.output and (out / "cases" / "cases_2026-10.xlsx").exists()
    assert not re.findall(r"\bA\d{3}\b", (out / "cases" / "index.html").read_text(encoding="utf-8"))  # agents not named by default
    r = run("cases", "build", "--month", "2026-10", "--db", loaded_store.url, "--out", out, "--per-skill", 1, "--with-agents")
    assert r.exit_code == 0 and re.findall(r"\bA\d{3}\b", (out / "cases" / "index.html").read_text(encoding="utf-8"))


def test_cases_build_default_folder_and_bad_input(loaded_store, tmp_path):
    r = run("cases", "build", "--month", "2026-10", "--months", 2, "--lang", "en", "--db", loaded_store.url, env={"QA_REPORTS_DIR": str(tmp_path)})
    assert r.exit_code == 0, r.output
    assert (tmp_path / "2026-10" / "cases" / "index.html").exists() and (tmp_path / "2026-10" / "cases" / "cases_2026-09_2026-10.xlsx").exists()
    r = run("cases", "build", "--month", "2026-13", "--db", loaded_store.url, "--out", tmp_path / "bad")
    assert r.exit_code == 2 and "month must look like 2026-10; got '2026-13'" in r.output and not (tmp_path / "bad").exists()
    r = run("cases", "build", "--month", "2026-10", "--per-skill", 0, "--db", loaded_store.url, "--out", tmp_path / "bad")
    assert r.exit_code == 2 and "per_skill must be a whole number ≥ 1; got 0" in r.output and not (tmp_path / "bad").exists()
    r = run("cases", "build", "--month", "2025-01", "--db", loaded_store.url, "--out", tmp_path / "bad")
    assert r.exit_code == 1 and "no evaluations in 2025-01" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["cases", "build", "--month", "2026-10", "--lang", "fr"])
    assert r.exit_code == 2 and "--lang" in r.output and "'fr'" in r.output and "zh" in r.output  # the option, the value, the choices


def test_digest_writes_the_mornings_pages(loaded_store, tmp_path):
    ev = loaded_store.read("evaluations")
    day = (ev["evaluated_at"].max() - pd.Timedelta(days=1)).date()  # default: the day before the latest evaluation date
    n = int(((ev["evaluated_at"].dt.date == day) & (ev["arm"] != "calibration") & (ev["status"] != "draft")).sum())  # drafts are left out
    r = run("digest", "--db", loaded_store.url, "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert n > 0 and r.output.startswith(f"{day}: {n} evaluations")
    assert (tmp_path / f"digest_{day}.html").exists() and (tmp_path / f"digest_{day}.md").exists()
    east = ev[(ev["evaluated_at"].dt.date == pd.Timestamp("2026-10-14").date()) & (ev["arm"] != "calibration")
              & ev["agent_id"].isin(loaded_store.read("agents").query("team == 'East'")["agent_id"])]
    r = run("digest", "--db", loaded_store.url, "--out", tmp_path, "--date", "2026-10-14", "--team", "East", "--lang", "en")
    assert r.exit_code == 0 and f"  East: {len(east)} evaluations" in r.output and "North" not in r.output
    assert "Daily QA review" in (tmp_path / "digest_2026-10-14_East.html").read_text(encoding="utf-8")
    r = run("digest", "--db", loaded_store.url, "--out", tmp_path / "no", "--team", "West")
    assert r.exit_code == 2 and "team must be one of East, North, South; got 'West'" in r.output
    r = run("digest", "--db", loaded_store.url, "--out", tmp_path / "no", "--date", "2026-02-30")
    assert r.exit_code == 2 and "date must be a day such as 2026-10-14" in r.output and not (tmp_path / "no").exists()


def test_coaching_add_list_close(tmp_path):
    db = tmp_path / "qa.sqlite"
    assert run("init", "--db", db, "--no-samples").exit_code == 0
    store = Store(db)
    for card in sorted((samples_dir() / "scorecards").glob("*.yaml")):
        store.add_scorecard(card)
    agents = pd.DataFrame({"agent_id": ["A1", "A2"], "name": ["王伟", "李娜"], "team": ["North", "South"], "supervisor": ["张敏", "刘洋"],
                           "hire_date": ["2024-03-01", "2025-07-15"]})
    assert run("import", "agents", write_csv(agents, tmp_path / "agents.csv"), "--db", db).exit_code == 0
    r = run("coaching", "add", "--agent", "A1", "--items", "needs_analysis,confirmation", "--action", "跟听优秀录音3通；三天后复听。",
            "--coach", "Q01", "--created", "2026-10-05", "--due", "2026-10-12", "--db", db)
    assert r.exit_code == 0, r.output
    assert "recorded CA0001: agent A1, items needs_analysis,confirmation, coach Q01, created 2026-10-05, re-check from 2026-10-08, due 2026-10-12" in r.output
    r = run("coaching", "add", "--agent", "A2", "--items", "closing", "--action", "x", "--coach", "刘洋", "--created", "2026-10-20", "--db", db)
    assert r.exit_code == 0 and "CA0002" in r.output and "no due date" in r.output
    r = run("coaching", "add", "--agent", "A1", "--items", "smile", "--action", "x", "--coach", "Q01", "--db", db)
    assert r.exit_code == 2 and "unknown ['smile']" in r.output and "Traceback" not in r.output
    r = run("coaching", "add", "--agent", "A1", "--items", "greeting", "--action", "x", "--coach", "Q01", "--created", "2026-10-10", "--due", "2026-10-01", "--db", db)
    assert r.exit_code == 2 and "due_on must be on or after created_on (2026-10-10)" in r.output
    assert Store(db).counts()["coaching_actions"] == 2
    r = run("coaching", "list", "--as-of", "2026-10-31", "--db", db)
    assert r.exit_code == 0, r.output
    assert "2 open coaching action(s) on 2026-10-31, 1 overdue" in r.output
    assert "supervisor 张敏: 1 open, 1 overdue" in r.output and "supervisor 刘洋: 1 open, 0 overdue" in r.output
    assert r.output.split("supervisor 张敏")[1].splitlines()[2].split()[-1] == "19"  # days overdue
    assert run("coaching", "close", "CA0001", "--on", "2026-10-30", "--db", db).exit_code == 0
    r = run("coaching", "close", "CA0001", "--db", db)
    assert r.exit_code == 2 and "is already done (closed on 2026-10-30)" in r.output
    r = run("coaching", "list", "--as-of", "2026-10-31", "--db", db)
    assert "1 open coaching action(s)" in r.output and "CA0001" not in r.output


def test_coaching_review_on_the_samples(loaded_store):
    r = run("coaching", "review", "--db", loaded_store.url)
    assert r.exit_code == 0, r.output
    per_action, per_programme = r.output.split("per programme")
    rows = [line for line in per_action.splitlines() if line.strip().startswith("CA00")]
    assert len(rows) == len(loaded_store.read("coaching_actions"))
    nh = [line for line in per_programme.splitlines() if "confirmation,needs_analysis" in line]
    assert len(nh) == 1 and "improved" in nh[0] and " 6 " in nh[0]
    r = run("coaching", "list", "--as-of", "2026-10-31", "--db", loaded_store.url)
    assert r.exit_code == 0 and "CA0008" in r.output and "CA0007" in r.output and "1 overdue" in r.output
    r = run("coaching", "review", "--before-days", 0, "--db", loaded_store.url)
    assert r.exit_code == 2 and "before_days must be a whole number ≥ 1; got 0" in r.output


def test_report_training_for_one_team(loaded_store, tmp_path):
    r = run("report", "training", "--month", "2026-10", "--team", "South", "--lang", "en", "--db", loaded_store.url, "-q",
            env={"QA_REPORTS_DIR": str(tmp_path)})
    assert r.exit_code == 0, r.output
    assert "1 written: training/South_en.html; 0 up to date; 0 failed" in r.output
    html = (tmp_path / "2026-10" / "training" / "South_en.html").read_text(encoding="utf-8")
    assert "Training needs 2026-10 (last 3 months)" in html and "A017" in html and "Customer identity verified" in html
    assert (tmp_path / "2026-10" / "training_plan_2026-10.xlsx").exists()
    r = run("report", "training", "--month", "2026-10", "--team", "West", "--db", loaded_store.url, "-q", env={"QA_REPORTS_DIR": str(tmp_path)})
    assert r.exit_code != 0 and "team must be one of" in r.output


def test_a_corrupt_database_file_gives_a_clear_message(tmp_path, loaded_store):
    """Junk or a truncated copy where the database should be: a one-line error naming the file, no traceback."""
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database, just junk bytes " * 64)
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(Path(loaded_store.url.removeprefix("sqlite:///")).read_bytes()[:3000])
    for path in (junk, truncated):
        for args in (["status"], ["report", "agents", "--month", "2026-10", "-q"]):
            r = CliRunner().invoke(main, [*args, "--db", str(path)])
            assert r.exit_code == 1, (args, r.output)
            assert str(path) in r.output and "Traceback" not in r.output, r.output


def test_a_database_locked_too_long_is_a_clear_message(tmp_path, monkeypatch):
    """Another process holds SQLite's write lock past the busy timeout: a one-line message, nothing changed, no traceback."""
    import sqlite3

    db = tmp_path / "qa.sqlite"
    assert run("init", "--db", db, "--no-samples").exit_code == 0
    agents = write_csv(pd.DataFrame({"agent_id": ["A9"], "name": ["王芳"], "team": ["East"], "hire_date": ["2025-01-06"]}), tmp_path / "agents.csv")
    monkeypatch.setenv("QA_SQLITE_BUSY_SECONDS", "0.2")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        r = CliRunner().invoke(main, ["import", "agents", str(agents), "--db", str(db)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.exit_code == 1 and "the database is busy" in r.output and "Traceback" not in r.output, r.output
    assert Store(db).counts()["agents"] == 0
    monkeypatch.setenv("QA_SQLITE_BUSY_SECONDS", "soon")
    r = CliRunner().invoke(main, ["status", "--db", str(db)])
    assert r.exit_code == 1 and "QA_SQLITE_BUSY_SECONDS must be a number of seconds; got 'soon'" in r.output


def test_lab_opens_jupyterlab_on_working_copies_with_the_database(tmp_path, loaded_store):
    """`qa lab` starts a real JupyterLab server on lab/ (copies of the templates) with QA_DB_URL set for the kernels."""
    import socket
    import subprocess
    import sys
    import urllib.request

    home = tmp_path / "home"
    home.mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, QA_HOME=str(home), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"))
    env.pop("QA_DB_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "qa_lib.cli", "lab", "--db", loaded_store.url, "--no-browser", "--port", str(port), "--",
                             "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=t0ken", "--allow-root"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        listing = None
        for _ in range(120):
            time.sleep(0.5)
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token=t0ken", timeout=5) as resp:
                    listing = json.loads(resp.read())
                break
            except OSError:
                continue
        assert listing is not None, proc.communicate(timeout=10)[0] if proc.poll() is not None else "no answer in 60 s"
        names = {c["name"] for c in listing["content"]}
        templates = {p.name for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb")}
        assert templates and templates <= names and templates <= {p.name for p in (home / "lab").iterdir()}
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        assert f"QA_DB_URL={loaded_store.url}".encode() in environ  # the kernels it starts inherit it
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "database sqlite:///" in out and "notebook(s) copied" in out


def test_lab_refuses_a_database_without_schema(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    r = run("lab", "--db", tmp_path / "empty.sqlite", "--no-browser")
    assert r.exit_code == 1 and "no QA schema yet" in r.output
    assert not (tmp_path / "lab").exists()  # refused before anything was set up


def _writable_copy(store, folder: Path) -> Path:
    """A private copy of the loaded samples (the sqlite3 backup API), to take parts away from."""
    import sqlite3

    dst = folder / "copy.sqlite"
    with sqlite3.connect(store.engine.url.database) as src, sqlite3.connect(dst) as out:
        src.backup(out)
    return dst


def _sql(db: Path, *statements: str) -> None:
    import sqlite3

    with sqlite3.connect(db) as c:
        for s in statements:
            c.execute(s)


def test_calibrate_leaves_out_a_one_inspector_session_and_never_prints_nan(loaded_store, tmp_path):
    import re

    db = _writable_copy(loaded_store, tmp_path)
    others = "SELECT evaluation_id FROM evaluations WHERE calibration_session_id = 'CAL-2026-07' AND inspector_id != 'Q02'"
    agree = "SELECT evaluation_id FROM evaluations WHERE calibration_session_id = 'CAL-2026-08'"
    _sql(db, *(f"DELETE FROM {t} WHERE evaluation_id IN ({others})" for t in ("evaluation_items", "evaluation_versions", "evaluation_disputes")),
         f"DELETE FROM evaluations WHERE evaluation_id IN ({others})", f"UPDATE evaluations SET total_score = 100 WHERE evaluation_id IN ({agree})")
    r = run("calibrate", "--db", db, "--boot", 20)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("CAL-2026-07: needs ≥ 2 inspectors: only Q02 scored — left out")
    assert "sessions: CAL-2026-05, CAL-2026-06, CAL-2026-08, CAL-2026-09, CAL-2026-10;" in r.output  # every other session is computed
    drift = r.output.split("Drift across sessions")[1]
    assert re.search(r"CAL-2026-07 .* needs ≥ 2 inspectors: only Q02 scored", drift)
    assert re.search(r"CAL-2026-08 .* no variation: α undefined \(all 48 total scores agree\)", drift)
    assert not re.search(r"\bnan\b|<NA>", r.output, re.I) and ("无" in r.output or "n/a" in r.output)  # a word where no number exists
    r = run("calibrate", "--db", db, "--session", "CAL-2026-07", "--boot", 20)
    assert r.exit_code == 0 and "no session of this selection can be computed" in r.output and "CAL-2026-10" in r.output.split("Drift")[1]


def test_report_all_without_the_months_verbatims_writes_the_rest(loaded_store, tmp_path):
    """No VOC verbatims and no coaching action in the month: every other report is written, the VOC page says what to import."""
    db = _writable_copy(loaded_store, tmp_path)
    _sql(db, "DELETE FROM voc_feedback WHERE received_at >= '2026-10-01'", "DELETE FROM coaching_actions",
         "UPDATE agents SET team = 'North' WHERE team = 'East' AND agent_id NOT IN "
         "(SELECT agent_id FROM agents WHERE team = 'East' ORDER BY agent_id LIMIT 2)")  # two East agents: a short run
    env = {"QA_REPORTS_DIR": str(tmp_path / "reports")}
    r = run("report", "all", "--month", "2026-10", "--team", "East", "--lang", "en", "--db", db, "-q", env=env)
    assert r.exit_code == 0, r.output
    assert "5 written: " in r.output and "; 0 up to date; 0 failed" in r.output
    out = tmp_path / "reports" / "2026-10"
    page = (out / "voc_en.html").read_text(encoding="utf-8")
    assert "No VOC verbatims in 2026-10" in page and "qa import voc" in page
    assert len(list((out / "agents").glob("*_en.html"))) == 2 and (out / "teams" / "East_en.html").exists()
    assert "No coaching actions recorded in this period" in (out / "training" / "East_en.html").read_text(encoding="utf-8")
    index = (out / "index_en.html").read_text(encoding="utf-8")
    assert 'href="voc_en.html"' in index and 'href="training/East_en.html"' in index and "Reports not written" not in index


def test_report_all_for_a_month_without_evaluations_skips_only_the_agent_reports(loaded_store, tmp_path):
    """A month with no evaluations (nor verbatims): the agent and team reports are skipped with a line saying why and what to
    import; the VOC and training pages are written and say what is missing; the exit status is 0 (nothing failed)."""
    env = {"QA_REPORTS_DIR": str(tmp_path / "reports")}
    r = run("report", "all", "--month", "2026-11", "--period", 1, "--team", "East", "--lang", "en", "--db", loaded_store.url, "-q", env=env)
    assert r.exit_code == 0, r.output
    assert "2 written: " in r.output and "; 0 up to date; 0 failed" in r.output
    assert "skipped agents and teams: no contacts and no evaluations in 2026-11" in r.output and "qa import contacts" in r.output
    nov = tmp_path / "reports" / "2026-11"
    assert "No VOC verbatims in 2026-11" in (nov / "voc_en.html").read_text(encoding="utf-8")
    assert "No random-arm evaluations from 2026-11 to 2026-11" in (nov / "training" / "East_en.html").read_text(encoding="utf-8")
    assert 'href="voc_en.html"' in (nov / "index.html").read_text(encoding="utf-8") and not (nov / "agents").exists()


def test_stored_text_cannot_drive_the_terminal(loaded_store, tmp_path):
    """A comment holding an escape sequence (stored before imports cleaned text, or written by another tool) prints as
    visible <U+001B>, never as a sequence that clears the screen; so do bidi overrides."""
    import sqlalchemy as sa

    from conftest import store_copy

    store = store_copy(loaded_store, tmp_path)
    eid = store.evaluations(audience="team")["evaluation_id"].iloc[0]
    t = store.table("evaluation_items")
    with store.engine.begin() as conn:
        conn.execute(sa.update(t).where(t.c.evaluation_id == eid).values(item_comment="好\x1b[2J\x1b[Htotal 100\u202e"))
    r = CliRunner().invoke(main, ["evaluation", "show", eid, "--db", store.url], color=True)  # color: click keeps escapes, as on a terminal
    assert r.exit_code == 0, r.output
    assert "\x1b" not in r.output and "\u202e" not in r.output and "<U+001B>[2J" in r.output
    store.engine.dispose()


# ---------------------------------------------------------------------------- qa scorecard (issue #16, part 4)
def _scorecards(db) -> list:
    """The stored scorecard versions as (id, version, definition) — to prove a command stored nothing."""
    s = Store(db)
    rows = s.read("scorecards").sort_values(["scorecard_id", "version"])[["scorecard_id", "version", "definition"]].values.tolist()
    s.engine.dispose()
    return rows


def _edit_card(src: Path, dst: Path, sheet: str, **cells) -> Path:
    from openpyxl import load_workbook

    wb = load_workbook(src)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(dst)
    return dst


def test_scorecard_list_show_export_and_add_of_a_new_version(loaded_store, tmp_path):
    db = _writable_copy(loaded_store, tmp_path)
    r = run("scorecard", "list", "--db", db)
    assert r.exit_code == 0, r.output
    used = loaded_store.evaluations(audience="inspector").groupby("scorecard_id").size()
    lines = {line.split()[0]: line.split() for line in r.output.splitlines()[1:]}
    assert lines["inbound_service"][-1] == str(used["inbound_service"]) and lines["followup_call"][-1] == str(used["followup_call"])
    assert "呼入服务/咨询来电质检表" in r.output and "deduction" in r.output
    r = run("scorecard", "show", "followup_call", "--db", db)
    assert r.exit_code == 0 and "回访电话质检表" in r.output and "扣分" in r.output and "最多 5 次" in r.output
    r = run("scorecard", "show", "inbound_service", "--lang", "en", "--db", db)
    assert r.exit_code == 0 and "opening Opening, weight 15" in r.output and "Customer identity verified" in r.output and "bonus +2" in r.output
    # export to Excel and YAML; the workbook of the stored version adds nothing
    assert run("scorecard", "export", "inbound_service", "--out", tmp_path / "in.yaml", "--db", db).exit_code == 0
    assert (tmp_path / "in.yaml").read_text(encoding="utf-8") == (samples_dir() / "scorecards" / "inbound_service.v1.yaml").read_text(encoding="utf-8")
    r = run("scorecard", "export", "inbound_service", "--version", 1, "--out", tmp_path / "in.xlsx", "--db", db)
    assert r.exit_code == 0 and "wrote" in r.output and "inbound_service v1" in r.output
    before = _scorecards(db)
    r = run("scorecard", "add", tmp_path / "in.xlsx", "--db", db)
    assert r.exit_code == 0 and "already stored with this definition: nothing changed" in r.output
    assert _scorecards(db) == before
    # version 2 with one weight changed: stored; list and show see it, diff names the change
    v2 = _edit_card(tmp_path / "in.xlsx", tmp_path / "in_v2.xlsx", "表头", B3=2)
    v2 = _edit_card(v2, v2, "评分项", K3=3)
    r = run("scorecard", "add", v2, "--db", db)
    assert r.exit_code == 0 and "stored scorecard inbound_service v2 (weighted, 6 sections, 10 items) from in_v2.xlsx" in r.output
    assert len(_scorecards(db)) == len(before) + 1
    r = run("scorecard", "add", v2, "--db", db)
    assert r.exit_code == 0 and "nothing changed" in r.output and len(_scorecards(db)) == len(before) + 1
    r = run("scorecard", "list", "--db", db)
    assert [line.split()[-1] for line in r.output.splitlines() if line.split()[:2] == ["inbound_service", "2"]] == ["0"]
    r = run("scorecard", "show", "inbound_service", "--lang", "en", "--db", db)
    assert "inbound_service v2" in r.output
    r = run("scorecard", "diff", "inbound_service:1", "inbound_service", "--db", db)
    assert r.exit_code == 0, r.output
    assert "items: 0 added, 0 removed, 1 changed; 1 change(s) can alter scores" in r.output
    assert "identity_check" in r.output and "weight: 2 → 3" in r.output and "version: 1 → 2" in r.output
    r = run("scorecard", "diff", tmp_path / "in.xlsx", "inbound_service:1", "--db", db)
    assert r.exit_code == 0 and "same definition" in r.output
    r = run("scorecard", "diff", samples_dir() / "scorecards" / "inbound_service.v1.yaml", v2)  # two files: no database needed
    assert r.exit_code == 0 and "weight: 2 → 3" in r.output


def test_scorecard_add_and_check_refuse_without_storing(loaded_store, tmp_path):
    db = _writable_copy(loaded_store, tmp_path)
    before = _scorecards(db)
    assert run("scorecard", "export", "followup_call", "--out", tmp_path / "f.xlsx", "--db", db).exit_code == 0
    changed = _edit_card(tmp_path / "f.xlsx", tmp_path / "f_changed.xlsx", "评分项", L2=25)  # owner_confirmed deducts 25, same version
    r = run("scorecard", "add", changed, "--db", db)
    assert r.exit_code == 2 and "already stored with a different definition (item owner_confirmed changed (deduct))" in r.output
    assert "bump the version" in r.output and "Traceback" not in r.output
    r = run("scorecard", "check", changed, "--db", db)
    assert r.exit_code == 2 and "f_changed.xlsx: ok" in r.output and "bump the version" in r.output
    bad = _edit_card(tmp_path / "f.xlsx", tmp_path / "bad.xlsx", "评分项", J3="yes_noo")
    for cmd in ("check", "add"):
        r = run("scorecard", cmd, bad, "--db", db)
        assert r.exit_code == 2, r.output
        assert "bad.xlsx:3:评分项!J3: must be one of yes_no, yes_partial_no, scale, deduction; got 'yes_noo'" in r.output
    yaml_bad = tmp_path / "bad.yaml"
    yaml_bad.write_text((samples_dir() / "scorecards" / "followup_call.v1.yaml").read_text(encoding="utf-8").replace("kind: yes_no", "kind: yes_noo", 1),
                        encoding="utf-8")
    r = run("scorecard", "check", yaml_bad)
    assert r.exit_code == 2 and "bad.yaml:13:sections[0].items[0].kind: must be one of" in r.output
    new = _edit_card(tmp_path / "f.xlsx", tmp_path / "f_v2.xlsx", "表头", B3=2)
    r = run("scorecard", "check", new, "--db", db)
    assert r.exit_code == 0 and "not stored yet" in r.output and "2 critical" not in r.output and "1 conditional" in r.output
    r = run("scorecard", "check", new)
    assert r.exit_code == 0 and "ok — scorecard followup_call v2 (deduction, 3 sections, 9 items)" in r.output
    assert _scorecards(db) == before  # check never stores; a refused add stores nothing
    r = run("scorecard", "export", "followup_call", "--out", tmp_path / "f.csv", "--db", db)
    assert r.exit_code == 2 and "out must end in .xlsx, .yaml or .yml" in r.output
    r = run("scorecard", "show", "nope", "--db", db)
    assert r.exit_code == 1 and "no scorecard 'nope'" in r.output
    r = run("scorecard", "diff", "followup_call", "not a card", "--db", db)
    assert r.exit_code == 2 and "ID / ID:VERSION" in r.output
    empty = tmp_path / "empty.sqlite"
    assert run("init", "--db", empty, "--no-samples").exit_code == 0
    r = run("scorecard", "list", "--db", empty)
    assert r.exit_code == 0 and "no scorecard is stored" in r.output


def test_autoqa_run_validate_review_and_the_page(loaded_store, tmp_path, monkeypatch):
    """`qa autoqa run` answers the month's transcripts with the card's rules, `validate` prints the gate in the asked
    language, `review` stores inspectors' verdicts on rule hits (Chinese words too) and prints each rule's precision,
    `qa report autoqa` writes the page."""
    db = _writable_copy(loaded_store, tmp_path)
    monkeypatch.setenv("QA_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("QA_HOME", str(tmp_path))  # models/ here: no scorer trained, rules only
    r = run("autoqa", "run", "--db", db, "--month", "2026-10")
    assert r.exit_code == 0 and "inbound_service 2026-10:" in r.output and "rule answers" in r.output, r.output
    assert "qa autoqa train" in r.output  # no learned scorer yet: says how to get one
    r = run("autoqa", "validate", "--db", db, "--boot", "200", "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "Standard greeting with agent number" in r.output and "accepted" in r.output and "nan" not in r.output.lower(), r.output
    store = Store(f"sqlite:///{db}")
    hits = store.auto_answers(scorecard_id="inbound_service", month="2026-10")
    hits = hits[(hits["rule_id"].notna()) & (hits["answer"] == "no")].head(3)
    reviews = hits[["contact_id", "scorecard_id", "item_id", "rule_id"]].assign(verdict=["确认", "驳回", "confirmed"], inspector_id="Q01")
    write_csv(reviews, tmp_path / "reviews.csv", encoding="gbk")
    r = run("autoqa", "review", tmp_path / "reviews.csv", "--db", db)
    assert r.exit_code == 0 and "3 new review(s)" in r.output, r.output
    assert run("autoqa", "review", tmp_path / "reviews.csv", "--db", db).output.startswith("0 new review(s)")
    r = run("report", "autoqa", "--db", db, "--month", "2026-10", "-q", "--lang", "zh")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "reports" / "2026-10" / "autoqa_zh.html").read_text(encoding="utf-8")
    assert "自动质检" in page and "通过验收" in page and "规则命中的复核" in page
    store.engine.dispose()


def test_autoqa_needs_answers_first_and_scorecard_check_locates_a_bad_rule(loaded_store, tmp_path, monkeypatch):
    db = _writable_copy(loaded_store, tmp_path)
    cards = samples_dir() / "scorecards"
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    r = run("autoqa", "validate", "--db", db, "--boot", "200")
    assert r.exit_code == 1 and "qa autoqa run" in r.output, r.output
    text = (cards / "inbound_service.v1.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "card.yaml"
    bad.write_text(text.replace("within_turns: 2, within_seconds: 5", "within_turns: two, within_seconds: 5", 1), encoding="utf-8")
    for cmd in (("scorecard", "check", bad), ("scorecard", "add", bad, "--db", db)):
        r = CliRunner().invoke(main, list(map(str, cmd)))
        assert r.exit_code == 2 and "card.yaml" in r.output and "within_turns" in r.output, r.output
    ok = run("scorecard", "check", cards / "inbound_service.v1.yaml")
    assert ok.exit_code == 0 and "with auto-QA rules" in ok.output, ok.output
