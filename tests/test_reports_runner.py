"""The report runner: warm kernels, HTML without code or external scripts, one agent per report, failures isolated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa_lib.config import project_root
from qa_lib.errors import ParameterError
from qa_lib.reports.runner import ReportJob, check_parameters, month_reports, run_reports

NB = project_root() / "notebooks"


@pytest.fixture(scope="module")
def month_run(loaded_store, tmp_path_factory):
    """One team's agent and team pages on a private copy of the samples (the last tests of this module change it), in a
    folder named like the month's, so that `qa report` with QA_REPORTS_DIR=<its parent> writes into it."""
    from conftest import store_copy

    tmp = tmp_path_factory.mktemp("reports")
    store = store_copy(loaded_store, tmp)
    folder, results = month_reports(store, "2026-10", team="East", folder=tmp / "2026-10", workers=2, progress=False)
    return folder, results, store


def test_reports_and_index_are_written(month_run):
    folder, results, store = month_run
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    agents = [r for r in results if "/agents/" in r.job.output]
    assert len(agents) == 20 and (folder / "teams" / "East_zh.html").exists() and (folder / "agents" / "A003_zh.html").exists()
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert all(f'href="agents/{Path(r.job.output).name}"' in index for r in agents) and 'href="teams/East_zh.html"' in index
    assert (folder / "plotly.min.js").stat().st_size > 1_000_000


def test_html_has_no_code_no_external_script_and_only_its_agent(month_run):
    folder, results, store = month_run
    all_ids = set(store.read("agents")["agent_id"])
    names = store.read("agents").set_index("agent_id")["name"]
    for r in results:
        if "/agents/" not in r.job.output:
            continue
        me = r.job.parameters["agent_id"]
        page = open(r.job.output, encoding="utf-8").read()
        assert "agent_view(" not in page and "import " not in page  # code hidden, setup cells removed
        assert not re.search(r"<script[^>]+src=[\"']https?://", page)  # nothing from a CDN
        assert '<script src="../plotly.min.js"></script>' in page and page.count("Plotly.newPlot") >= 2  # trend and items per scorecard, scale items
        others = {a for a in all_ids - {me} if re.search(rf"\b{a}\b", page)}
        assert not others, f"{me}'s report mentions {others}"
        assert not any(names[a] in page for a in all_ids - {me} if len(names[a]) > 1)
        assert not re.search(r"(?<![0-9A-Za-z-])1[3-9]\d{9}(?![0-9A-Za-z])", page)  # no unmasked mobile number (element ids are hex: not one)


def test_a_failing_report_does_not_stop_the_others(loaded_store, tmp_path):
    base = {"month": "2026-10", "db_url": loaded_store.url, "data_dir": str(tmp_path / "_data")}
    from qa_lib.reports import prepare_month

    prepare_month(loaded_store, "2026-10", tmp_path / "_data")
    jobs = [ReportJob(str(NB / "agent_qa_report.ipynb"), dict(base, agent_id=a), str(tmp_path / f"{a}.html"), a) for a in ("A404", "A001")]
    res = run_reports(jobs, workers=1, progress=False)
    assert [r.ok for r in res] == [False, True] and "A404" in res[0].error
    assert not (tmp_path / "A404.html").exists() and (tmp_path / "A001.html").exists()
    again = run_reports(jobs, workers=1, progress=False)
    assert again[1].skipped and not again[0].ok  # finished reports are not redone


@pytest.mark.parametrize("params, message", [
    ({"agent": "A001"}, "unknown \\['agent'\\]"),
    ({"agent_id": ["A001"]}, "must be None, a bool, a finite number or a text"),
    ({"agent_id": "A001\x00"}, "without NUL"),
    ({"agent_id": "x" * 10_001}, "at most 10,000"),
    ({"db_url": float("nan")}, "finite number"),
])
def test_parameters_are_checked_before_papermill(params, message):
    with pytest.raises(ParameterError, match=message):
        check_parameters(NB / "agent_qa_report.ipynb", params)


@pytest.mark.parametrize("value", ["华东一组", "A003/../A001", "postgresql+psycopg://qa:p@ss:w/rd@db:5432/qa", "C:\\数据 (2)\\qa.sqlite",
                                   "x\"); import os; os.system('touch pwned') #", "line\nbreak\\"])
def test_any_text_is_a_valid_parameter(value):
    assert check_parameters(NB / "agent_qa_report.ipynb", {"agent_id": value}) == {"agent_id": value}


def test_parameters_reach_the_kernel_as_data(tmp_path):
    """The injected cell holds only a job file's path; the values (and the password) are in the file, read once and deleted."""
    import json

    import nbformat

    from qa_lib.reports.runner import inject_parameters, load_job

    nb = nbformat.read(NB / "agent_qa_report.ipynb", as_version=4)
    params = {"agent_id": "A003/../A001\"\n", "db_url": "postgresql+psycopg://qa:s3cret@db/qa"}
    inject_parameters(nb, params, tmp_path)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    at = next(i for i, t in enumerate(tags) if "injected-parameters" in t)
    assert "parameters" in tags[at - 1] and "remove-cell" in tags[at]
    source = nb.cells[at].source
    assert "s3cret" not in source and "A003" not in source
    (job,) = tmp_path.glob("job-*.json")
    assert job.stat().st_mode & 0o077 == 0  # readable by its owner only
    ns: dict = {}
    exec(compile(source, "<injected>", "exec"), ns)  # the cell itself, as the kernel runs it
    assert {k: ns[k] for k in params} == params and json.loads("{}") == {}
    assert not job.exists()  # read once, then gone
    assert load_job.__module__ == "qa_lib.reports.runner"


def test_customer_and_inspector_text_is_escaped_and_masked(tmp_path):
    """A comment with a script tag and a phone number shows as masked text, never as markup."""
    import sqlalchemy as sa

    from conftest import sample_store

    store = sample_store(tmp_path)
    ev = store.read_month("evaluations", "2026-10")
    target = ev[(ev["agent_id"] == "A001") & (ev["arm"] == "random")]["evaluation_id"].iloc[0]
    t = store.table("evaluations")
    with store.engine.begin() as conn:  # test-only: plant hostile text where an inspector's comment goes
        conn.execute(sa.update(t).where(t.c.evaluation_id == target).values(comment='<script>alert("x")</script> 回电13812345678'))
    from qa_lib.reports import prepare_month

    prepare_month(store, "2026-10", tmp_path / "_data")
    base = {"month": "2026-10", "db_url": store.url, "data_dir": str(tmp_path / "_data"), "agent_id": "A001"}
    results = run_reports([ReportJob(str(NB / "agent_qa_report.ipynb"), base, str(tmp_path / "A001.html"), "A001")], workers=1, progress=False)
    page = (tmp_path / "A001.html").read_text(encoding="utf-8")
    assert all(r.ok for r in results)
    assert '<script>alert("x")</script>' not in page and "&lt;script&gt;alert" in page
    assert "13812345678" not in page and "138****5678" in page


def test_executor_is_configuration(monkeypatch, loaded_store, tmp_path):
    """The fan-out runs on the executor QA_EXECUTOR names; a bad setting fails before any work; Dask needs its package."""
    from concurrent.futures import ProcessPoolExecutor

    from qa_lib.errors import ConfigError
    from qa_lib.reports.runner import executor_spec, report_executor

    assert executor_spec(None) == "local"
    with report_executor("local", 1) as pool:
        assert isinstance(pool, ProcessPoolExecutor)
    monkeypatch.setenv("QA_EXECUTOR", "spark://cluster")
    with pytest.raises(ConfigError, match="must be 'local' or 'dask:<scheduler address>'; got 'spark://cluster'"):
        month_reports(loaded_store, "2026-10", kinds=("teams",), folder=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("QA_EXECUTOR", "dask:")
    with pytest.raises(ConfigError):
        executor_spec()
    try:
        import distributed  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="needs the Dask 'distributed' package"):
            with report_executor("dask:tcp://127.0.0.1:1", 1):
                pass


def test_a_killed_run_finishes_the_rest_without_redoing(loaded_store, tmp_path):
    """Kill `qa report agents` midway (SIGKILL to its process group, kernels included), run it again: the finished
    reports are kept byte for byte, the rest are written, none is half-written."""
    import hashlib
    import os
    import signal
    import subprocess
    import sys
    import time

    from click.testing import CliRunner

    from qa_lib.cli import main

    env = dict(os.environ, QA_REPORTS_DIR=str(tmp_path))
    folder = tmp_path / "2026-10" / "agents"
    # one team's agents (20 reports): enough to kill the run midway, and a third of the time of the whole center
    cmd = [sys.executable, "-m", "qa_lib.cli", "report", "agents", "--team", "East", "--month", "2026-10", "--db", loaded_store.url, "--workers", "2", "-q"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while len(list(folder.glob("*.html"))) < 6:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no reports after 240 s"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = sorted(folder.glob("*.html"))
    agents = loaded_store.read("agents").query("team == 'East'")["agent_id"]
    ev = loaded_store.read_month("evaluations", "2026-10").query("arm == 'random' and scorecard_id == 'inbound_service'")
    n_agents = len(set(ev["agent_id"]) & set(agents))
    assert 6 <= len(done) < n_agents
    before = {p.name: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()) for p in done}
    assert all(p.read_text(encoding="utf-8").rstrip().endswith("</html>") for p in done)  # complete or absent
    r = CliRunner().invoke(main, ["report", "agents", "--team", "East", "--month", "2026-10", "--db", loaded_store.url, "--workers", "2", "-q"],
                           env={"QA_REPORTS_DIR": str(tmp_path)}, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert f"{n_agents - len(done)} written: agents/" in r.output and f"; {len(done)} up to date; 0 failed" in r.output
    after = {p.name: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()) for p in folder.glob("*.html")}
    assert len(after) == n_agents and all(after[k] == v for k, v in before.items())
    assert all(p.read_text(encoding="utf-8").rstrip().endswith("</html>") for p in folder.glob("*.html"))


def test_agent_and_team_pages_show_every_scorecard_csat_and_scale_items(month_run):
    """The sample's agent and team pages: both scorecards (the headline first, each with its own n), the follow-up card's
    fault count as a distribution, CSAT with its interval and n, the trend on a month axis; Chinese headings beside English."""
    folder, results, store = month_run
    page = (folder / "agents" / "A003_zh.html").read_text(encoding="utf-8")
    assert page.index("呼入服务/咨询来电质检表") < page.index("回访电话质检表")
    assert '"type":"category"' in page and "2026-10" in page
    team = (folder / "teams" / "East_zh.html").read_text(encoding="utf-8")
    assert team.index("呼入服务/咨询来电质检表") < team.index("回访电话质检表")


def test_a_center_with_contacts_and_no_evaluations_gets_its_kpi_pages(seeded, tmp_path):
    """`report all` on a store with agents, scorecards and contacts only: every agent and team page is written with the
    KPIs and one plain line saying the evaluations are missing; the VOC and training pages say what is not there."""
    folder, results = month_reports(seeded, "2026-10", kinds=("agents", "teams", "voc", "training"), folder=tmp_path / "r", workers=2, progress=False)
    assert all(r.ok for r in results), [(r.job.title, r.error, r.missing) for r in results if not r.ok]
    written = sorted(str(Path(r.job.output).relative_to(folder)) for r in results)
    assert written == ["agents/A1_zh.html", "agents/A2_zh.html", "teams/North_zh.html", "teams/South_zh.html", "training/North_zh.html",
                       "training/South_zh.html", "training/all_zh.html", "voc_zh.html"]
    team = (folder / "teams" / "North_zh.html").read_text(encoding="utf-8")
    from qa_lib.reports.tables import texts

    T = texts("zh")  # the pages' own words (the page language is the center's, zh)
    none = T["no_evals"].format(month="2026-10").split("：")[0]
    assert none in team and T["csat_none"].split("：")[1] in team and "answer_rate" not in team
    agent = (folder / "agents" / "A1_zh.html").read_text(encoding="utf-8")
    assert none in agent and not re.search(r"\bA2\b", agent)  # only its agent
    assert "没有客户反馈" in (folder / "voc_zh.html").read_text(encoding="utf-8")
    assert "未生成的报告" not in (folder / "index.html").read_text(encoding="utf-8")


def test_a_center_without_voc_coaching_or_calibration_gets_every_other_report(loaded_store, tmp_path):
    """No VOC feedback, no coaching action, no calibration session: the team, training and VOC pages are all written;
    the VOC page is one plain line, the team page says there are no linked surveys."""
    import sqlalchemy as sa

    from conftest import store_copy

    store = store_copy(loaded_store, tmp_path)
    t = store.table
    cal = sa.select(t("evaluations").c.evaluation_id).where(t("evaluations").c.arm == "calibration")
    with store.engine.begin() as conn:  # test-only: take the optional parts away
        for name in ("evaluation_items", "evaluation_versions", "evaluation_disputes"):
            conn.execute(sa.delete(t(name)).where(t(name).c.evaluation_id.in_(cal)))
        conn.execute(sa.delete(t("evaluations")).where(t("evaluations").c.arm == "calibration"))
        for name in ("calibration_sessions", "voc_feedback", "coaching_actions"):
            conn.execute(sa.delete(t(name)))
    folder, results = month_reports(store, "2026-10", kinds=("teams", "voc", "training"), team="East", folder=tmp_path / "r", workers=2, progress=False)
    assert all(r.ok for r in results) and len(results) == 3, [(r.job.title, r.error, r.missing) for r in results if not r.ok]
    assert "没有客户反馈" in (folder / "voc_zh.html").read_text(encoding="utf-8")
    team = (folder / "teams" / "East_zh.html").read_text(encoding="utf-8")
    from qa_lib.reports.tables import texts

    assert texts("zh")["csat_none"].split("：")[1] in team and "回访电话质检表" in team
    store.engine.dispose()


# ---------------------------------------------------------------- the month's dashboard and fresh reports
def _dashboard(folder, lang="zh"):
    return (folder / ("index.html" if lang == "zh" else f"index_{lang}.html")).read_text(encoding="utf-8")


def test_the_index_is_the_months_dashboard(month_run):
    """KPIs against targets with their status, what needs attention with links, the agents with their names, both
    languages linked to each other; self-contained (no script)."""
    folder, results, store = month_run
    zh, en = _dashboard(folder), _dashboard(folder, "en")
    lead = re.search(r'<p class="lead">(.*?)</p>', zh).group(1)
    assert lead.startswith("2026-10：中心") and "首次解决率 93.7%（目标 95.0%）" in lead and "项未达标" in lead  # the month's state first
    assert "<th>目标</th>" in zh and "未达标" in zh and "达标" in zh and "0.936" not in zh  # formatted, with status words
    assert "首次解决率" in zh and "87.6%" in zh  # East's FCR in its column
    for heading in ("可靠地低于目标的坐席", "客户之声预警", "逾期的辅导行动", "校准会要讨论的质检项"):
        assert heading in zh
    assert "倾听与同理心" in zh and "empathy" not in zh  # the overdue action's item by its label
    assert "CAL-2026-10" in zh and "qa calibrate --session CAL-2026-10" in zh  # the meeting report is not there yet: how to write it
    names = store.read("agents").set_index("agent_id")["name"]
    assert f'<a href="agents/A003_zh.html">{names["A003"]} A003</a>' in zh
    assert 'href="index_en.html"' in zh and 'href="index.html"' in en
    assert "first-contact resolution" in en and "below target" in en and "Needs attention" in en and "首次解决率" not in en
    assert "<script" not in zh and "<script" not in en and "nan" not in re.sub(r"<[^>]+>", " ", zh).lower().split()


def test_the_dashboard_links_every_kind_in_the_folder(month_run, tmp_path):
    """Whatever the folder holds is linked: VOC, training, case library, calibration, digest, worklists, downloads."""
    import shutil

    from qa_lib.reports.dashboard import write_dashboard

    folder, _, store = month_run
    copy = tmp_path / "2026-10"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("_data", "*.js"))
    shutil.copytree(folder / "_data", copy / "_data")
    for name in ("voc_zh.html", "voc_en.html", "training/all_zh.html", "training/East_zh.html", "cases/index.html",
                 "calibration/calibration_CAL-2026-10_zh.html", "worklists/Q01.xlsx", "voc_topics_2026-10.xlsx", "kpis.csv", "../digest/digest_2026-11-03.html"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text("<html></html>", encoding="utf-8")
    zh = _dashboard(copy) if write_dashboard(store, "2026-10", copy) else ""
    for href in ("voc_zh.html", "training/all_zh.html", "training/East_zh.html", "cases/index.html", "calibration/calibration_CAL-2026-10_zh.html",
                 "worklists/Q01.xlsx", "voc_topics_2026-10.xlsx", "kpis.csv", "../digest/digest_2026-11-03.html", "teams/East_zh.html"):
        assert f'href="{href}"' in zh, href
    assert 'href="voc_en.html"' not in zh and 'href="voc_en.html"' in _dashboard(copy, "en")
    assert "qa calibrate --session" not in zh  # the meeting report is linked instead


def test_one_kind_run_never_shrinks_the_dashboard(month_run):
    """`report team` after the agents: the index still links every agent page (it scans the folder), and nothing is
    rewritten because nothing changed."""
    folder, _, store = month_run
    before = _dashboard(folder).count('href="agents/')
    _, results = month_reports(store, "2026-10", kinds=("teams",), team="East", folder=folder, progress=False)
    assert [r.skipped for r in results] == [True]
    assert before == 20 and _dashboard(folder).count('href="agents/') == 20


def test_hostile_names_are_escaped_on_the_dashboard(month_run, tmp_path):
    import shutil

    import sqlalchemy as sa

    from conftest import store_copy
    from qa_lib.reports.dashboard import write_dashboard

    folder, _, store = month_run
    hostile = store_copy(store, tmp_path)
    t = hostile.table("agents")
    with hostile.engine.begin() as conn:  # test-only: a hostile name where a name goes
        conn.execute(sa.update(t).where(t.c.agent_id == "A003").values(name='<img src=x onerror=alert(1)>"&'))
    copy = tmp_path / "2026-10"
    shutil.copytree(folder, copy)
    write_dashboard(hostile, "2026-10", copy)
    for lang in ("zh", "en"):
        page = _dashboard(copy, lang)
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;&quot;&amp; A003" in page
    hostile.engine.dispose()


def test_only_reports_whose_inputs_changed_are_rebuilt(month_run):
    """Nothing changed: nothing written. A003 acknowledges an evaluation: A003's page is written again (its content hash
    changed), the team's other agents' pages are left byte for byte. A new released evaluation of A003: the East team's
    page and (`qa report agent --agent A003`) A003's page are written again, marked changed; run again, up to date;
    --force writes it anyway. (The quality model borrows strength across agents, so a new score moves every estimate a
    little: a full run then rebuilds every page that shows a changed number.)"""
    import hashlib

    from click.testing import CliRunner

    from qa_lib.cli import main
    from qa_lib.reports.runner import report_hash

    folder, results, store = month_run
    pages = sorted((folder / "agents").glob("*_zh.html"))
    assert len(pages) == 20 and all(report_hash(p) for p in pages)
    _, again = month_reports(store, "2026-10", team="East", folder=folder, workers=2, progress=False)
    assert all(r.skipped for r in again)  # nothing changed: nothing written

    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in pages}
    eid = store.evaluations("2026-10", audience="agent").query("agent_id == 'A003'")["evaluation_id"].iloc[0]
    store.acknowledge(eid, agent_id="A003")
    _, after = month_reports(store, "2026-10", team="East", folder=folder, workers=2, progress=False)
    written = {Path(r.job.output).name for r in after if not r.skipped}
    assert "A003_zh.html" in written and written <= {"A003_zh.html", "East_zh.html"}, written
    assert all(r.changed for r in after if not r.skipped)
    assert all(hashlib.sha256((folder / "agents" / n).read_bytes()).hexdigest() == h for n, h in before.items() if n != "A003_zh.html")

    card = store.scorecard("inbound_service", 1)
    contact = store.unscored_contacts(card, "2026-10").query("agent_id == 'A003'")["contact_id"].iloc[0]
    answers = {i.id: "yes" for i in card.items}
    c = store.read("contacts", store.table("contacts").c.contact_id == contact).iloc[0]
    answers.update(correct_answer="no", escalation_handling="yes" if c["escalated"] else "na")
    new = store.create_evaluation(contact, "Q02", "inbound_service", answers, arm="random", submit=True)
    store.release(new, actor="SUP1")
    _, after = month_reports(store, "2026-10", kinds=("teams",), team="East", folder=folder, progress=False)
    assert [(Path(r.job.output).name, r.skipped, r.changed) for r in after] == [("East_zh.html", False, True)]

    env = {"QA_REPORTS_DIR": str(folder.parent)}

    def run(*extra):
        return CliRunner().invoke(main, ["report", "agent", "--agent", "A003", "--month", "2026-10", "--db", store.url, "-q", "--lang", "zh", *extra],
                                  env=env, catch_exceptions=False)

    r = run()
    assert r.exit_code == 0 and r.output.startswith("1 written: agents/A003_zh.html (changed); 0 up to date; 0 failed"), r.output
    r = run()
    assert r.exit_code == 0 and r.output.startswith("0 written; 1 up to date; 0 failed"), r.output
    r = run("--force")
    assert r.exit_code == 0 and r.output.startswith("1 written: agents/A003_zh.html; 0 up to date; 0 failed"), r.output
    assert _dashboard(folder).count('href="agents/') == 20  # the one-agent run left the dashboard whole
    r = CliRunner().invoke(main, ["report", "agent", "--month", "2026-10", "--db", store.url, "-q"], env=env)
    assert r.exit_code != 0 and "needs --agent" in r.output
