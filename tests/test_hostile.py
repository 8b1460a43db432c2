"""A hostile center, run through the real commands: every file they write is scanned.

The sample generator builds a small center; before it is loaded, its ids and texts are made hostile the way a
real center's data or a hostile user could make them: agent, team and inspector ids holding ``/``, ``..`` or an
absolute path, Chinese team names, names, queues and comments that start like spreadsheet formulas, and personal
data (``tests/pii_oracle.py``: phone numbers in every spelling, ID cards, bank cards, e-mails, QQ) in the free
text. Then ``qa init``, ``qa sample``, ``qa score export``, ``qa report all``, ``qa cases build``, ``qa digest``,
``qa calibrate``, ``qa rescore`` and ``qa evaluation show`` run as a user runs them (subprocesses), on PostgreSQL
with a password in its URL when the suite has one (``.ci/run`` does), else on SQLite. Every file written is
scanned for: a path outside its output folder, a live formula in a .csv or .xlsx cell, unmasked personal data in
HTML (visible text), Markdown, CSV and every .xlsx cell, and the database password (also in every command's
output).
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest
import sqlalchemy as sa
from pii_oracle import PII_SAMPLES, unmasked

from conftest import PG_URL
from qa_lib.files import FORMULA_START, file_stem

MONTH = "2026-10"
HOSTILE_AGENTS = {"A002": "A003/../A001", "A004": "/tmp/qa-abs-A004", "A005": "..", "A006": "坐席 六号"}
HOSTILE_TEAMS = {"North": "华东一组", "South": "@南区/../组"}
HOSTILE_INSPECTORS = {"Q02": "../../Q02"}
FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(1,1)", "\t=1", "＝1+1"]
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def _hostile_samples(folder: Path) -> Path:
    """Generate a small center into ``folder`` and make its ids and texts hostile (the files stay valid imports)."""
    r = subprocess.run([sys.executable, "-m", "qa_lib.cli", "samples", "--out", str(folder), "--agents", "12", "--teams", "2",
                        "--inspectors", "5", "--months", "3", "--end-month", MONTH, "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ids = {**HOSTILE_AGENTS, **HOSTILE_TEAMS, **HOSTILE_INSPECTORS}
    pii = iter(PII_SAMPLES * 50)
    formulas = iter(FORMULAS * 1000)
    for path in sorted(folder.glob("*.csv")) + sorted(folder.glob("*.parquet")):
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=object, keep_default_na=False)
        for col in df.columns:
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col].dtype):
                df[col] = df[col].astype(object).replace(ids)
        if path.name == "agents.csv":
            df.loc[0, "name"] = FORMULAS[0]
            df.loc[1, "name"] = "<img src=x onerror=alert(1)>"
        if path.name == "evaluations.csv":  # every evaluation's comment: a formula, personal data, or both
            first = ~df["evaluation_id"].duplicated()
            comments = [f"{next(formulas)} {next(pii)}" for _ in range(int(first.sum()))]
            df.loc[first, "comment"] = comments
            df["comment"] = df.groupby("evaluation_id")["comment"].transform("first")
            df.loc[df.index[::7], "item_comment"] = [f"{next(pii)} {next(formulas)}" for _ in df.index[::7]]
        if path.name == "voc.csv":
            df.loc[df.index[::3], "text"] = [f"{t} 联系我{next(pii)}" for t in df.loc[df.index[::3], "text"]]
            df.loc[df.index[1::11], "text"] = [f"{next(formulas)}{t}" for t in df.loc[df.index[1::11], "text"]]
        if path.name == "coaching.csv":
            df["agreed_action"] = [f"{next(formulas)} 回访 {next(pii)}" for _ in df.index]
        if path.name == "contacts.parquet":
            df["queue"] = df["queue"].where(df.index % 5 != 0, "=1+2")
            has = df["transcript"].notna()
            df.loc[has, "transcript"] = df.loc[has, "transcript"] + " 客户：我的卡号" + pd.Series(list(PII_SAMPLES) * (int(has.sum()) // len(PII_SAMPLES) + 1))[: int(has.sum())].to_numpy()
        if path.suffix == ".parquet":
            df.to_parquet(path, index=False)
        else:
            df.to_csv(path, index=False, encoding="utf-8-sig" if path.name == "voc.csv" else "utf-8")
    return folder


@pytest.fixture(scope="module")
def center(tmp_path_factory):
    """(database URL, password or "", output folder, {command: CompletedProcess}) after every command ran once."""
    tmp = tmp_path_factory.mktemp("hostile")
    samples = _hostile_samples(tmp / "samples")
    name = f"qa_hostile_{uuid.uuid4().hex[:10]}"
    if PG_URL:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp / 'qa.sqlite'}"
    password = unquote(urlsplit(url).password or "")
    out = tmp / "out"
    env = dict(os.environ, QA_REPORTS_DIR=str(out / "reports"), PYTHONWARNINGS="ignore")
    qa = [sys.executable, "-m", "qa_lib.cli"]

    def run(*args):
        return subprocess.run([*qa, *args], capture_output=True, text=True, env=env, timeout=900)

    runs = {"init": run("init", "--db", url, "--samples", str(samples), "-q")}
    assert runs["init"].returncode == 0, runs["init"].stderr
    runs["sample"] = run("sample", "--month", MONTH, "--per-agent", "2", "--db", url, "--out", str(out / "worklists"))
    runs["score export"] = run("score", "export", "--scorecard", "inbound_service", "--inspector", HOSTILE_INSPECTORS["Q02"], "--month", MONTH,
                               "-n", "5", "--out", str(out / "sheets" / "sheet.xlsx"), "--db", url)
    runs["report all"] = run("report", "all", "--month", MONTH, "--db", url, "-q", "--workers", "2")
    runs["cases"] = run("cases", "build", "--month", MONTH, "--months", "2", "--out", str(out / "cases"), "--db", url)
    runs["digest"] = run("digest", "--out", str(out / "digest"), "--db", url)
    runs["calibrate"] = run("calibrate", "--db", url)
    runs["rescore"] = run("rescore", "--scorecard", "inbound_service", "--style", "deduction", "--out", str(out / "ranks.csv"), "--db", url)
    store_ev = sa.create_engine(url)
    with store_ev.connect() as c:
        eid = c.execute(sa.text("select evaluation_id from evaluations where comment is not null order by evaluation_id limit 1")).scalar_one()
    store_ev.dispose()
    runs["evaluation show"] = run("evaluation", "show", eid, "--db", url)
    wrong = url.replace(name, name + "_missing") if PG_URL else url
    runs["status on a missing database"] = run("status", "--db", wrong)
    yield url, password, out, runs
    if PG_URL:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _written(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file())


def _cells(path: Path) -> list[str]:
    """Every text cell of a .csv or .xlsx (sheet names and header cells included)."""
    if path.suffix == ".csv":
        return [c for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))) for c in row]
    from openpyxl import load_workbook

    wb = load_workbook(path)
    cells = list(wb.sheetnames)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cells.append("=<formula cell>")
                elif isinstance(cell.value, str):
                    cells.append(cell.value)
    return cells


def _visible(path: Path) -> str:
    """What a reader sees or copies: the HTML's text (tags dropped, entities decoded) and its scripts' data."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        text = re.sub(r"<[^>]+>", " ", text)
        return html.unescape(text)
    return text


def test_every_command_ran(center):
    _, _, out, runs = center
    failed = {k: r.stderr[-1500:] for k, r in runs.items() if r.returncode != 0 and k != "status on a missing database"}
    assert not failed, failed
    assert runs["status on a missing database"].returncode != 0 or not PG_URL


def test_every_file_stays_inside_its_folder(center):
    _, _, out, runs = center
    files = _written(out)
    assert len(files) > 30, [str(p) for p in files]
    assert all(out.resolve() in p.resolve().parents for p in files)
    assert not Path("/tmp/qa-abs-A004.html").exists()
    reports = out / "reports" / MONTH
    agents = {p.name for p in (reports / "agents").glob("*.html")}
    assert {f"{file_stem(a)}_zh.html" for a in HOSTILE_AGENTS.values()} <= agents, agents
    own = (reports / "agents" / "A001_zh.html").read_text(encoding="utf-8")
    assert "A003/../A001" not in html.unescape(own)  # A003/../A001 did not replace A001's page
    index = (reports / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', index.split('<div class="links">', 1)[1])  # the list of every report (attention items link some again)
    assert len(hrefs) == len(set(hrefs)), "a page is listed twice"
    worklists = {p.name for p in (out / "worklists").iterdir()}
    assert any(n.startswith(file_stem(HOSTILE_INSPECTORS["Q02"])) for n in worklists), worklists


def test_no_live_formula_in_any_spreadsheet(center):
    _, _, out, _ = center
    sheets = [p for p in _written(out) if p.suffix in (".csv", ".xlsx")]
    assert {p.suffix for p in sheets} == {".csv", ".xlsx"}
    live = {str(p.relative_to(out)): bad for p in sheets
            if (bad := [c for c in _cells(p) if c.startswith(FORMULA_START) and not _NUMBER.match(c)][:3])}
    assert not live, live


def test_no_personal_data_in_any_output(center):
    _, _, out, _ = center
    texts = [p for p in _written(out) if p.suffix in (".html", ".md", ".csv", ".xlsx")]
    leaks = {}
    for p in texts:
        text = "\n".join(_cells(p)) if p.suffix in (".csv", ".xlsx") else _visible(p)
        if found := unmasked(text):
            leaks[str(p.relative_to(out))] = found[:3]
    assert not leaks, leaks


def test_the_database_password_appears_nowhere(center):
    url, password, out, runs = center
    if not PG_URL:
        pytest.skip("no PostgreSQL URL with a password (QA_TEST_PG_URL); .ci/run sets one")
    assert password and len(password) >= 6
    forms = {password, urlsplit(url).password}
    for p in _written(out):
        data = p.read_bytes()
        assert not any(f.encode() in data for f in forms), p
    for k, r in runs.items():
        assert not any(f in r.stdout + r.stderr for f in forms), k
    assert "***" in runs["status on a missing database"].stderr or "qa_hostile" in runs["status on a missing database"].stderr


def test_terminal_output_cannot_drive_the_terminal(center):
    _, _, _, runs = center
    for k, r in runs.items():
        assert "\x1b" not in r.stdout, k
