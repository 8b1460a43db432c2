"""The generated reports as a reader's browser shows them: hostile text stays text, parameters cannot
inject code, no other agent and no unmasked PII in a report, plotly drew, Chinese glyphs render.

One month of reports (every kind) is generated once for the module from the samples with hostile
text planted in an agent's name, inspector comments, transcripts and VOC verbatims; each page is
opened once in headless Chromium (DOM after scripts + a screenshot in the same run).

Chromium: the browser tests skip when it is missing, unless ``QA_TEST_CHROMIUM`` is set (``.ci/run``
sets it), in which case a missing browser fails them.
"""

from __future__ import annotations

import html as html_lib
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from qa_lib.errors import ParameterError
from qa_lib.privacy import PATTERNS
from qa_lib.reports import browser
from qa_lib.reports.runner import ReportJob, month_reports, run_reports

MONTH = "2026-10"
AGENT = "A017"  # team South; random and targeted evaluations in 2026-10
SCRIPT = "<script>document.title='PWNED'</script>"
IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
LINK = '<a href="javascript:alert(1)">点我</a>'
SVG = "\"><svg onload=\"document.body.setAttribute('data-pwned','svg')\">"
MD = "[链接](javascript:alert(2))"  # Markdown link syntax: the agent headline is Markdown
NAME = "王" + SCRIPT + SVG + MD + LINK  # also a plotly axis label in the team report: plotly has its own <a href> markup
COMMENT = IMG + LINK + " 回电13812345678 邮箱wang88@example.com"
ITEM_COMMENT = SCRIPT + SVG + " 身份证11010519491231002X"
LINE = IMG  # every transcript line starts with it
SUPERVISOR = "张" + IMG + LINK  # the training report lists open coaching actions with the supervisor and the coach
COACH = "Q01" + SCRIPT + SVG
VERBATIM = " " + SCRIPT + IMG + LINK + SVG + " 电话13912345678"
PII = ("mobile", "id_card", "email")
AGENT_ID = re.compile(r"(?<![A-Za-z0-9])A\d{3}(?![0-9])")  # the samples' agent ids: A001 … A060
KINDS = ("agents", "teams", "voc", "training", "cases", "digest")


def _chromium() -> str:
    exe = browser.find_chromium(os.environ.get("QA_TEST_CHROMIUM") or None)
    if exe is None:
        if os.environ.get("QA_TEST_CHROMIUM"):
            pytest.fail(f"QA_TEST_CHROMIUM={os.environ['QA_TEST_CHROMIUM']!r} but no Chromium is installed (CI must install it)")
        pytest.skip("Chromium is not installed (set QA_TEST_CHROMIUM to require it)")
    return exe


def test_chromium_configured_in_ci():
    """In CI (QA_TEST_CHROMIUM set) the browser and a CJK font must be there: the browser tests never skip."""
    if not os.environ.get("QA_TEST_CHROMIUM"):
        pytest.skip("not in CI (QA_TEST_CHROMIUM unset)")
    assert browser.find_chromium(os.environ["QA_TEST_CHROMIUM"]), "QA_TEST_CHROMIUM names no executable"
    assert _zh_fonts(), "no CJK font installed (fc-list :lang=zh is empty)"


def _zh_fonts() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    return subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout.split("\n")[:-1]


def _plant(store) -> dict:
    """Test-only writes straight into the tables: hostile text where names, comments, transcripts and verbatims go."""
    ev = store.read_month("evaluations", MONTH)
    month_ev = ev["evaluation_id"].tolist()
    contacts = sorted(set(ev["contact_id"]))
    t = {n: store.table(n) for n in ("agents", "evaluations", "evaluation_items", "contacts", "voc_feedback", "coaching_actions")}
    voc = store.read_month("voc_feedback", MONTH)
    surge = voc.loc[voc["category"] == "map_update", "feedback_id"].tolist()
    nl = sa.literal("\n")
    with store.engine.begin() as conn:
        conn.execute(sa.update(t["agents"]).where(t["agents"].c.agent_id == AGENT).values(name=NAME, supervisor=SUPERVISOR))
        ca = t["coaching_actions"]
        conn.execute(sa.update(ca).where(ca.c.agent_id == AGENT).values(coach=COACH))
        conn.execute(sa.update(t["evaluations"]).where(t["evaluations"].c.evaluation_id.in_(month_ev)).values(comment=COMMENT))
        it = t["evaluation_items"]
        conn.execute(sa.update(it).where(it.c.evaluation_id.in_(month_ev)).values(item_comment=ITEM_COMMENT))
        c = t["contacts"]
        conn.execute(sa.update(c).where(c.c.contact_id.in_(contacts) & c.c.transcript.is_not(None))
                     .values(transcript=sa.literal(LINE) + sa.func.replace(c.c.transcript, nl, nl + sa.literal(LINE))))
        v = t["voc_feedback"]
        conn.execute(sa.update(v).where(v.c.feedback_id.in_(surge)).values(text=v.c.text + sa.literal(VERBATIM)))
    mine = ev[(ev["agent_id"] == AGENT) & (ev["arm"] == "random")]
    return {"digest_day": str(mine["evaluated_at"].max())[:10], "surge": len(surge)}


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """Every kind of report for 2026-10 from the planted store: ({kind: page}, folder, store, info)."""
    import time

    from conftest import sample_store
    from qa_lib.cases import build_library
    from qa_lib.digest import write_digest

    tmp = tmp_path_factory.mktemp("browser")
    store = sample_store(tmp)
    info = _plant(store)
    t0 = time.perf_counter()
    build_library(store, MONTH, tmp / "r")
    folder, results = month_reports(store, MONTH, kinds=("agents", "teams", "voc", "training"), folder=tmp / "r", progress=False)
    assert all(r.ok for r in results), [(r.job.title, r.error) for r in results if not r.ok]
    write_digest(store, info["digest_day"], tmp / "r" / "digest")
    info["seconds"] = time.perf_counter() - t0
    info["results"] = results
    team = store.read("agents").set_index("agent_id").loc[AGENT, "team"]
    named = lambda sub, stem: next((p for p in (folder / sub / f"{stem}_zh.html", folder / sub / f"{stem}.html") if p.is_file()),  # noqa: E731
                                   folder / sub / f"{stem}_zh.html")  # pages are named <id>_<lang>.html (issue #18)
    pages = {"agents": named("agents", AGENT), "teams": named("teams", team), "voc": folder / "voc_zh.html",
             "training": folder / "training" / "all_zh.html", "cases": folder / "cases" / "index.html",
             "digest": folder / "digest" / f"digest_{info['digest_day']}.html"}
    assert all(p.is_file() for p in pages.values()), {k: p for k, p in pages.items() if not p.is_file()}
    return pages, folder, store, info


@pytest.fixture(scope="module")
def rendered(month, tmp_path_factory):
    """Each kind's page opened once in Chromium: {kind: (dom, screenshot)}."""
    exe = _chromium()
    pages = month[0]
    shots = tmp_path_factory.mktemp("shots")
    return {k: (browser.render(p, screenshot=shots / f"{k}.png", chromium=exe), shots / f"{k}.png") for k, p in pages.items()}


class _Dom(HTMLParser):
    """Links, event-handler attributes, script bodies and visible text of a dumped DOM."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs, self.handlers, self.scripts, self.text, self._in = [], [], [], [], None

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "xlink:href") and tag == "a":
                self.hrefs.append(v or "")
            if k.startswith("on"):
                self.handlers.append((tag, k, v))
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        (self.scripts if self._in == "script" else self.text if self._in is None else []).append(data)


def _parse(dom: str) -> _Dom:
    p = _Dom()
    p.feed(dom)
    return p


# ------------------------------------------------------------------ hostile text
@pytest.mark.parametrize("kind", KINDS)
def test_hostile_text_does_not_run_and_shows_as_text(rendered, kind):
    dom, _ = rendered[kind]
    d = _parse(dom)
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is None or title.group(1).strip() != "PWNED", "an injected script set the title"
    # a handler that ran leaves the attribute on an element; the words of the text may still show as text (the VOC
    # themes list "data-pwned" as a word of the hostile verbatim: rjieba keeps it whole)
    assert not re.search(r"<[a-zA-Z][^<>]*\sdata-pwned\s*=", re.sub(r"<script\b.*?</script>", "", dom, flags=re.S)), "an injected handler ran"
    assert not re.search(r"<body[^>]*data-pwned", dom)
    assert not [h for h in d.hrefs if h.strip().lower().startswith("javascript:")], "a javascript: link is live"
    assert not [h for h in d.handlers if "pwned" in (h[2] or "").lower()], "an injected event handler is an attribute"
    assert not [s for s in d.scripts if "document.title='PWNED'" in s and "\\u003c" not in s and "<\\/" not in s], "an injected script is a script"
    text = "".join(d.text)
    expected = {"agents": [NAME, COMMENT[:40], ITEM_COMMENT[:40], LINE], "teams": [NAME], "voc": [SCRIPT + IMG + LINK + SVG],
                "training": [SUPERVISOR, COACH], "cases": [ITEM_COMMENT[:40], LINE], "digest": [NAME, ITEM_COMMENT[:40], LINE]}[kind]
    missing = [s for s in expected if s not in text]
    assert not missing, f"{kind}: hostile text not shown as text: {missing}"


def test_planted_pii_is_masked_in_the_browser(rendered):
    text = browser.visible_text(None, dom=rendered["agents"][0])
    assert "138****5678" in text and "w***@example.com" in text and "110105********002X" in text
    text = re.sub(r"\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d)?)?", " ", text)  # dates side by side (due, re-check) are no ID number
    assert not {k: m.group(0) for k in PII if (m := PATTERNS[k].search(text))}


# ------------------------------------------------------------------ parameters
def _touch(marker: Path) -> str:
    return f'{AGENT}"; import os; os.system("touch {marker}") #'


def test_hostile_parameters_are_data_never_code(month, tmp_path):
    """Code in an agent id or a month reaches the notebook as a value (it names no agent / no month): the report fails
    with a clear message, nothing runs, nothing is written; a bad team or month is refused before any notebook runs."""
    from click.testing import CliRunner

    from qa_lib.cli import main
    from qa_lib.config import notebooks_dir

    _, folder, store, _ = month
    marker = tmp_path / "pwned"
    nb = str(notebooks_dir() / "agent_qa_report.ipynb")
    base = {"month": MONTH, "db_url": store.url, "data_dir": str(folder / "_data")}
    quoted = 'A017\\"\n__import__("os").system("touch ' + str(marker) + '")\n#'
    jobs = [ReportJob(nb, dict(base, agent_id=_touch(marker)), str(tmp_path / "a.html")),
            ReportJob(nb, dict(base, agent_id=quoted), str(tmp_path / "b.html")),
            ReportJob(nb, dict(base, agent_id=AGENT, month=_touch(marker)), str(tmp_path / "c.html"))]
    results = run_reports(jobs, workers=1, progress=False)
    assert [r.ok for r in results] == [False, False, False]
    assert "os.system" in results[0].error and "month" in results[2].error, [r.error for r in results]
    with pytest.raises(ParameterError, match="team must be one of"):
        month_reports(store, MONTH, kinds=("agents",), team=_touch(marker), folder=tmp_path / "r", progress=False)
    with pytest.raises(ParameterError):
        month_reports(store, _touch(marker), kinds=("agents",), folder=tmp_path / "r", progress=False)
    for args in (["--team", _touch(marker)], ["--month", _touch(marker)]):
        res = CliRunner().invoke(main, ["report", "agents", "--db", store.url, "-q", *args])
        assert res.exit_code != 0 and "touch" in res.output, res.output
    assert not marker.exists() and not list(tmp_path.rglob("*.html"))


def test_an_agent_id_from_the_data_is_a_name_not_code_or_a_path(month, tmp_path):
    """An agent id holding code and a path (``A001/../../x"; os.system(…)``) from the data: its report is written
    inside agents/ under a safe name, shows the id as text, runs nothing, and replaces no other agent's report."""
    import sqlite3

    from qa_lib.files import file_stem
    from qa_lib.store import Store

    src = month[2]
    copy = tmp_path / "copy.sqlite"
    with sqlite3.connect(src.engine.url.database) as a, sqlite3.connect(copy) as b:
        a.backup(b)  # the module's store stays as it is
    store = Store(f"sqlite:///{copy}")
    marker = tmp_path / "pwned"
    bad = "A001/../../" + _touch(marker)
    with store.engine.begin() as conn:  # test-only: the id changed everywhere it is referenced
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for table in ("agents", "contacts", "evaluations"):
            t = store.table(table)
            conn.execute(sa.update(t).where(t.c.agent_id == "A001").values(agent_id=bad))
        agents = store.table("agents")  # a team of three, named in Chinese: a short run
        conn.execute(sa.update(agents).where(agents.c.agent_id.in_([bad, "A002", "A003"])).values(team="华东一组"))
    team = "华东一组"
    out = tmp_path / "r"
    _, results = month_reports(store, MONTH, kinds=("agents",), team=team, folder=out, progress=False)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    page = next((p for p in (out / "agents" / f"{file_stem(bad)}_zh.html", out / "agents" / f"{file_stem(bad)}.html") if p.exists()), None)
    assert page is not None and "/" not in file_stem(bad), sorted(p.name for p in (out / "agents").glob("*.html"))
    assert {p.parent for p in out.rglob("*.html")} <= {out, out / "agents"}
    assert not marker.exists() and not (tmp_path / "x").exists()
    assert html_lib.escape(bad, quote=False).split("/")[0] in page.read_text(encoding="utf-8")
    store.engine.dispose()


# ------------------------------------------------------------------ privacy scan
def _pii(page: str) -> dict[str, list[str]]:
    """Unmasked PII in a page; digits inside a number (a chart's float like 0.13812345678) or a hex element id are not a
    phone number — plotly's random div ids (uuid4) start with 8 digits and a hyphen often enough to look like one
    ("16490321-999a-…"), so a match inside a uuid is not one either."""
    found = {}
    uuids = [m.span() for m in re.finditer(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", page)]

    def inside(m, k) -> bool:
        before = page[m.start() - 1] if m.start() else " "
        return (before in ".eE-+" or (k != "email" and before.isascii() and before.isalnum())
                or any(a <= m.start() < b for a, b in uuids))

    for k in PII:
        hits = [m.group(0) for m in PATTERNS[k].finditer(page) if not inside(m, k)]
        if hits:
            found[k] = hits[:3]
    return found


def test_privacy_scan_of_every_generated_report(month):
    """Every agent report shows that agent only; no generated page (any kind) holds unmasked phone, ID-card or e-mail."""
    pages, folder, store, info = month
    agents = store.read("agents").set_index("agent_id")["name"]
    reports = [Path(r.job.output) for r in info["results"]]
    agent_pages = [p for p in reports if p.parent.name == "agents"]
    assert len(agent_pages) >= 55  # every agent with a scored call this month
    offenders = {}
    for p in agent_pages:
        page = p.read_text(encoding="utf-8")
        me = re.sub(r"_(zh|en)$", "", p.stem)
        others = sorted(set(AGENT_ID.findall(page)) & set(agents.index) - {me})  # (the page's CSS holds colours like A100)
        others += [agents[a] for a in agents.index if a != me and len(agents[a]) > 1 and agents[a] in page]
        if others:
            offenders[me] = others[:5]
    assert not offenders, f"agent reports mention other agents: {offenders}"
    everything = sorted(set(reports) | set(pages.values()) | set(folder.glob("*.html")) | set(folder.glob("*/*.html")))
    leaks = {str(p.relative_to(folder)): hits for p in everything if (hits := _pii(p.read_text(encoding="utf-8")))}
    assert not leaks, f"unmasked PII: {leaks}"
    assert len(everything) >= len(agent_pages) + 6


# ------------------------------------------------------------------ charts and CJK
@pytest.mark.parametrize("kind", ["agents", "teams", "voc", "training"])
def test_plotly_drew_the_charts(rendered, kind):
    dom, _ = rendered[kind]
    svgs = re.findall(r'<svg class="main-svg".*?</svg>', dom, re.S)
    assert svgs, f"{kind}: plotly drew nothing"
    paths = re.findall(r'<path[^>]*\bd="M[^"]+"', " ".join(svgs))
    assert len(paths) >= 3, f"{kind}: plotly drew only {len(paths)} non-empty paths"


def test_cjk_font_installed_and_glyphs_render(rendered):
    assert _zh_fonts(), "no CJK font: apt-get install fonts-wqy-microhei"
    assert browser.cjk_renders(_chromium()), "Chinese text renders as tofu or nothing"
    for kind, (_dom, shot) in rendered.items():
        top = browser.png_pixels(shot, rows=300)
        assert top.shape[1] == 1200 and not browser.is_blank(top), f"{kind}: the top of the page (its zh title) is blank"
    assert re.search(r"[\u4e00-\u9fff]", rendered["voc"][0]) and re.search(r"[\u4e00-\u9fff]", rendered["agents"][0])


def test_screenshots_one_per_kind(month, tmp_path):
    """``screenshots`` finds one page per kind; run here on the two self-contained kinds (the others were shot by ``rendered``)."""
    exe = _chromium()
    pages, folder, _, _ = month
    assert {k: p.resolve() for k, p in browser.report_pages(folder).items() if k in ("voc", "cases", "digest")} == \
        {k: pages[k].resolve() for k in ("voc", "cases", "digest")} and set(browser.report_pages(folder)) == set(KINDS)
    small = tmp_path / "month"
    for kind in ("cases", "digest"):
        (small / kind).mkdir(parents=True)
        shutil.copy(pages[kind], small / kind / pages[kind].name)
    shots = browser.screenshots(small, tmp_path / "screenshots", chromium=exe, window=(1000, 1400))
    assert set(shots) == {"cases", "digest"} and all(p.parent == tmp_path / "screenshots" for p in shots.values())
    for kind, png in shots.items():
        px = browser.png_pixels(png, rows=200)
        assert px.shape[1] == 1000 and not browser.is_blank(px), kind
    with pytest.raises(ParameterError, match="folder must hold generated reports"):
        browser.screenshots(tmp_path / "empty", tmp_path / "s")


# ------------------------------------------------------------------ the visible-text scan (issue #18, part 7)
def _rules(text: str, **kw) -> list[str]:
    return [f.rule for f in browser.scan_text(text, **kw)]


@pytest.mark.parametrize("text", ["平均 nan/5，NPS 0", "NPS NaN", "教练：None", "到期 NaT", "value <NA>", "均值 inf", "−inf", "undefined",
                                  "9\tNone\t3", "3\tnull\t4"])
def test_scan_missing_values_fire(text):
    assert "missing" in _rules(text)


@pytest.mark.parametrize("text", ["None of the agents is below target", "Nanjing 南京", "nano", "information", "banana", "N/A", "—",
                                  "Infinite patience", "NaNa", "no variation: α undefined (all 48 answers agree)", "null hypothesis"])
def test_scan_missing_values_pass(text):
    assert "missing" not in _rules(text)


@pytest.mark.parametrize("text", ["0.6096657120978346", "rate 0.876543 vs 0.950000", "p 1.6e-08", "q = 3E+05", "失误率 12.34567%"])
def test_scan_long_decimals_fire(text):
    assert "long_decimal" in _rules(text)


@pytest.mark.parametrize("text", ["87.6%", "0.8761", "电话 138****5678", "K0000037", "2026-10-06 09:30:57", "v1.2.3", "12,345,678 通",
                                  "E00001 GH1001", "来电 LS0009868 · EX-8423e953", "1e5"])
def test_scan_long_decimals_pass(text):
    assert "long_decimal" not in _rules(text)


@pytest.mark.parametrize("text", ["(95 % interval 79.7 to 117.8)", "+120.0–+130.0 pts", "区间 84.5–104.2", "[79.7, 117.8]", "71.0%–104.0%", "−5.0%–12.0%",
                                  "80.0–75.0", "79.7 至 117.8 分", "79.7-117.8", "区间 [-3.2%, 45.0%]", "96 ~ 101"])
def test_scan_intervals_outside_their_scale_fire(text):
    assert "out_of_scale" in _rules(text)


@pytest.mark.parametrize("text", ["84.5–91.6", "0.0–100.0", "71.0%–100.0%", "NPS −30.5–−8.9", "−89 – −76", "变化 −3.2–+1.5 个百分点",
                                  "−12.0–+3.0 pts", "240–300 秒", "5 to 180 calls", "2026-08–2026-10", "09:15–10:00", "2019–2026",
                                  "满意 (4–5)", "13.4% -3.3% 0.36", "−0.5–+0.8 个百分点", "6%–79%", "第 3–17 名", "1–5 分", "[0.0, 100.0]"])
def test_scan_intervals_inside_their_scale_pass(text):
    assert "out_of_scale" not in _rules(text)


def test_scan_ids_where_a_label_exists():
    labels = {"identity_check", "empathy", "fcr"}
    assert _rules("项目 identity_check 通过率 61%", labels=labels) == ["id"]
    assert _rules("项目\tempathy\t83%", labels=labels) == ["id"]  # a plain-word id as a whole cell (a table, a tick label)
    assert _rules("fcr\n87.6%", labels=labels) == ["id"]
    assert _rules("focus items\nnone", labels={"none"}) == []  # an id that is also a value's word
    assert _rules("核实客户身份 61%；共情 83%", labels=labels) == []
    assert _rules("The agent showed empathy on most calls", labels=labels) == []  # a word in a sentence is English
    assert _rules("下载 identity_check_plan_2026-10.xlsx", labels=labels) == []  # a file name
    assert _rules("identity_check 61%", labels=()) == ["snake_case"]  # any other snake_case word is a column name shown as it is
    assert _rules("identity_check 61%", labels=(), columns=False) == []
    assert sorted(_rules("team_rate p_below_target", labels={"p_below_target"})) == ["id", "snake_case"]


@pytest.mark.parametrize("text", ["新主题 🆕", "\ufffd 乱码", "\ue000", "✅ 达标"])
def test_scan_tofu_fires(text):
    assert "tofu" in _rules(text)


@pytest.mark.parametrize("text", ["新主题（新）", "⚠ 注意", "✓ met", "−3.2 · 87.6% · 达标"])
def test_scan_tofu_passes(text):
    assert "tofu" not in _rules(text)


def test_scan_bilingual_pairs():
    assert _rules("Personal QA report / 个人质检报告") == ["bilingual"]
    assert _rules("各质检表得分 / Your scores per scorecard\n下一行") == ["bilingual"]
    for one_language in ("个人质检报告", "Personal QA report", "手机app / 连不上 / 失灵", "A / B test", "廖建 (A017), team South",
                         "A new issue the taxonomy does not cover, 手机app / 连不上 / 失灵", "地图升级 / 地址 / 清空 249 Map updates 45%"):
        assert _rules(one_language) == [], one_language


def test_scan_code_output_and_excerpts():
    assert _rules("Traceback (most recent call last):") == ["code_output"]
    assert _rules("FutureWarning: the default will change") == ["code_output"]
    assert _rules("Name: rate, dtype: float64") == ["code_output"]
    assert _rules("Error rate 5% · 达标") == []
    (f,) = browser.scan_text("前文" * 40 + " nan " + "后文" * 40)
    assert f.rule == "missing" and "nan" in f.excerpt and len(f.excerpt) < 100 and f.excerpt.startswith("…")
    with pytest.raises(ParameterError, match="text must be a str"):
        browser.scan_text(None)


def test_visible_text_is_what_a_reader_sees():
    dom = """<html><head><title>T_title</title><style>.x{}</style><script>var nan_in_script = NaN;</script></head><body>
    <h1>质检报告</h1><p>均分 <b>88.5</b><a class="anchor-link" href="#x">¶</a></p><div hidden>hidden_attr</div>
    <span style="display: none">nan</span><span style="visibility:hidden">NaN</span><span aria-hidden="true">None</span>
    <table><tr><th>项目</th><th>通过率</th></tr><tr><td>12</td><td>3.4</td></tr></table>
    <details><summary>术语</summary><p>区间：可能的范围</p></details>
    <div class="js-plotly-plot"><div class="modebar-container"><a data-title="Zoom">modebar_text</a></div>
    <svg class="main-svg"><defs><style>.y{}</style></defs><g class="xtick"><text>核实客户身份</text></g><g class="xtick"><text>2026-10</text></g>
    <g class="hoverlayer"><text>hover_text</text></g></svg></div><br>末行</body></html>"""
    text = browser.visible_text(None, dom=dom)
    for seen in ("质检报告", "88.5", "项目", "通过率", "术语", "区间：可能的范围", "核实客户身份", "2026-10", "末行"):
        assert seen in text, seen
    for unseen in ("T_title", "nan_in_script", "hidden_attr", "nan", "NaN", "None", "modebar_text", "hover_text", "¶", ".x{}", ".y{}"):
        assert unseen not in text, unseen
    assert "12\t3.4" in text and "核实客户身份\n2026-10" in text  # cells and SVG texts stay apart
    assert browser.scan_text(text) == []


def test_missing_glyphs_names_what_no_font_draws(monkeypatch):
    monkeypatch.setattr(browser, "_CHARSET", {ord("中")})
    found = browser.missing_glyphs("中文 🆕")
    assert [f.rule for f in found] == ["glyph"] and "U+6587" in found[0].excerpt  # 文; the emoji is the tofu rule's
    monkeypatch.setattr(browser, "_CHARSET", None)
    if shutil.which("fc-list") and _zh_fonts():
        assert browser.missing_glyphs("质检报告客户之声 87.6% — · “”") == []


# ------------------------------------------------------------------ the month's pages read as their readers see them
def _month_pages(store, folder: Path, agents: dict, langs=("zh", "en")) -> list[str]:
    """The pages the scan reads, both languages: the two agents, their team, VOC, training, the case library, the
    digest, the calibration meeting (when ``qa calibrate --out`` exists) and the dashboard."""
    import inspect

    from click.testing import CliRunner

    from qa_lib.autoqa.pipeline import headline_card, run_month, validate
    from qa_lib.cases import build_library
    from qa_lib.cli import main
    from qa_lib.digest import default_day, write_digest

    card = headline_card(store)
    if any(it.auto for it in card.items) and store.auto_answers_state(MONTH).startswith("0:"):  # the auto-QA page and the PPI lines
        run_month(store, card, MONTH)
        validate(store, card, n_boot=300)
    roster = store.read("agents").set_index("agent_id")["team"]
    team = roster[agents["weak"]]
    one_agent = "agent" in inspect.signature(month_reports).parameters
    skipped: list[str] = []
    for lang in sorted(langs, key=lambda x: x == "zh"):  # zh last: the case library and the digest name no language
        build_library(store, MONTH, folder, lang=lang)
        digest = write_digest(store, default_day(store), folder / "digest", lang=lang).paths
        if lang != "zh":  # kept beside the zh ones under a name that says the language
            (folder / "cases" / "index.html").replace(folder / "cases" / f"index_{lang}.html")
            for p in digest:
                p.replace(p.with_name(f"{p.stem}_{lang}{p.suffix}"))
        results = month_reports(store, MONTH, kinds=("voc", "training", "autoqa"), folder=folder, lang=lang, progress=False, workers=2)[1]
        if one_agent:
            for aid in agents.values():
                results += month_reports(store, MONTH, kinds=("agents",), agent=aid, folder=folder, lang=lang, progress=False, workers=2)[1]
            results += month_reports(store, MONTH, kinds=("teams",), team=team, folder=folder, lang=lang, progress=False, workers=2)[1]
        else:
            results += month_reports(store, MONTH, kinds=("agents", "teams"), team=team, folder=folder, lang=lang, progress=False, workers=2)[1]
        assert all(r.ok or r.missing for r in results), [(r.job.title, r.error) for r in results if not r.ok]
        skipped += [f"{r.job.title}: {r.missing}" for r in results if r.missing]
        sessions = store.read("calibration_sessions")
        held = sessions[sessions["held_on"].astype(str).str.startswith(MONTH)]
        if len(held) and "--out" in CliRunner().invoke(main, ["calibrate", "--help"]).output:
            res = CliRunner().invoke(main, ["calibrate", "--session", held["session_id"].iloc[0], "--out", str(folder / "calibration"),
                                            "--lang", lang, "--db", store.url, "--boot", "100"])
            assert res.exit_code == 0, res.output
    return skipped


@pytest.fixture(scope="module")
def sample_scan(tmp_path_factory):
    """The sample center's month, read in Chromium: (scans, folder, seconds)."""
    import time

    from conftest import sample_store
    from qa_lib.samples import planted

    exe = _chromium()
    tmp = tmp_path_factory.mktemp("scan")
    store = sample_store(tmp)
    pl = planted()
    agents = {"weak": pl["weak_agent"], "new_hire": sorted(pl["new_hires"])[0]}
    folder = tmp / "reports" / MONTH
    _month_pages(store, folder, agents)
    t0 = time.perf_counter()
    scans = browser.scan_month(folder, agents=agents, chromium=exe)
    store.engine.dispose()
    return scans, folder, time.perf_counter() - t0


def test_the_scan_reads_one_page_per_kind_in_both_languages(sample_scan):
    scans, folder, seconds = sample_scan
    kinds = {s.kind for s in scans.values()}
    assert kinds >= {"landing", "agent_weak", "agent_new_hire", "team", "voc", "training", "cases", "digest", "autoqa"}, sorted(scans)
    assert {s.lang for s in scans.values() if s.kind in ("voc", "training", "autoqa")} == {"zh", "en"}, sorted(scans)
    assert "A017" in str(scans[next(k for k in scans if k.startswith("agent_weak"))].page)
    for key, s in scans.items():
        assert s.screenshot == folder / "screenshots" / f"{key}.png" and s.screenshot.is_file(), key
        assert not any(f.rule == "blank" for f in s.findings), key
    assert seconds < 240, f"the scan took {seconds:.0f} s"


def test_the_sample_center_reads_clean(sample_scan):
    """No nan/None, no raw float, no interval outside its scale, no id where a label exists, no tofu, every glyph drawn."""
    scans, folder, _ = sample_scan
    dirty = {k: s for k, s in scans.items() if s.findings}
    assert not dirty, "what readers see that they should not:\n" + browser.scan_summary(dirty, root=folder)


def test_the_scan_cli(sample_scan, tmp_path):
    from click.testing import CliRunner

    from qa_lib.cli import main

    scans, folder, _ = sample_scan
    res = CliRunner().invoke(main, ["pages", "check", "--folder", str(folder), "--out", str(tmp_path / "shots"), "--agent", "weak=A017",
                                    "--only", "cases"])
    assert res.exit_code == (1 if scans["cases"].findings else 0), res.output
    assert "cases" in res.output and (tmp_path / "shots" / "cases.png").is_file()
    res = CliRunner().invoke(main, ["pages", "check", "--folder", str(tmp_path / "none")])
    assert res.exit_code != 0 and "no reports in" in res.output, res.output


# The second center of the own-center issue (#16), built through `qa` commands only: its fixture, reused.
from test_second_center import center  # noqa: E402, F401  (a module-scoped fixture: the center is built once here)


def test_the_second_center_reads_clean(center, tmp_path_factory):  # noqa: F811  (the fixture imported above)
    """The same scan on a center that is not the samples: its own scorecard (deduction, scale items), Chinese team
    names, no VOC, no coaching; the agents read are its lowest-scoring one and its latest hire."""
    exe = _chromium()
    _, store, _ = center
    folder = tmp_path_factory.mktemp("second_scan") / "reports" / MONTH
    ev = store.evaluations(MONTH)
    hired = store.read("agents").set_index("agent_id")["hire_date"].astype(str)
    agents = {"weak": str(ev.groupby("agent_id")["total_score"].mean().idxmin()),
              "new_hire": str(hired[hired.index.isin(ev["agent_id"])].sort_values().index[-1])}
    skipped = _month_pages(store, folder, agents)
    scans = browser.scan_month(folder, agents=agents, chromium=exe)
    assert {s.kind for s in scans.values()} >= {"landing", "agent_weak", "agent_new_hire", "team", "training"}, (sorted(scans), skipped)
    dirty = {k: s for k, s in scans.items() if s.findings}
    assert not dirty, "what readers see that they should not:\n" + browser.scan_summary(dirty, root=folder)
