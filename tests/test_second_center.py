"""Issue #16's acceptance: a second generated center that is not the samples goes through `qa new`, its scorecard,
imports with mapping files, and `qa report all`, on PostgreSQL when the suite has one (CI does) — without a line of
Python, and without any of the sample center's names reaching its pages."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from conftest import PG_URL
from qa_lib.cli import main
from qa_lib.second_center import CENTER, SCORECARD, TEAMS, write_second_center


def _qa(*args) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == 0, f"qa {' '.join(map(str, args))}:\n{r.output}"
    return r.output


@pytest.fixture(scope="module")
def center(tmp_path_factory):
    """The second center, built only through `qa` commands; yields (folder, store, exports folder)."""
    import sqlalchemy as sa

    from qa_lib.store import Store

    root = tmp_path_factory.mktemp("second")
    exports = root / "given"
    write_second_center(exports)
    folder = root / "华信中心"
    url = None
    if PG_URL:
        name = f"qa_second_{os.getpid()}"
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    saved = {k: os.environ.get(k) for k in ("QA_HOME", "QA_DB_URL")}
    try:
        _qa("new", folder, "--name", CENTER["name"])
        settings = yaml.safe_load((folder / "center.yaml").read_text(encoding="utf-8"))
        settings.update(yaml.safe_load((exports / "center_settings.yaml").read_text(encoding="utf-8")))
        settings["voc_taxonomy"] = None  # a center with no VOC keeps no taxonomy
        (folder / "center.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
        (folder / "voc_taxonomy.yaml").unlink()
        os.environ["QA_HOME"] = str(folder)
        if url:
            os.environ["QA_DB_URL"] = url
        else:
            os.environ.pop("QA_DB_URL", None)
        _qa("init")
        _qa("scorecard", "check", exports / "hotline_check.yaml")
        _qa("scorecard", "add", exports / "hotline_check.yaml")
        for kind, file in (("agents", "坐席名单.csv"), ("inspectors", "质检员.csv"), ("contacts", "通话记录.csv"),
                           ("calibration_sessions", "校准场次.csv"), ("evaluations", "质检明细.csv")):
            _qa("import", kind, exports / "exports" / file, "--map", exports / "mappings" / f"{kind}.yaml")
        _qa("evaluation", "release", "--month", "2026-10", "--actor", "ZJ01")
        store = Store()
        yield folder, store, exports
        store.engine.dispose()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if url:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_the_exports_are_the_centers_own_not_ours(center):
    _, _, exports = center
    calls = pd.read_csv(exports / "exports" / "通话记录.csv", encoding="gb18030", dtype=str, nrows=50, keep_default_na=False)
    assert "通话时长" in calls and calls["通话时长"].str.match(r"^(\d\d:\d\d:\d\d)?$").all() and "hold_seconds" not in calls
    assert not any("hold" in c or "保持" in c for c in calls.columns)  # this center records no hold time
    card = yaml.safe_load((exports / "hotline_check.yaml").read_text(encoding="utf-8"))
    assert card["style"] == "deduction" and {i["kind"] for s in card["sections"] for i in s["items"]} >= {"scale", "deduction", "yes_no"}
    assert not (exports / "exports" / "voc.csv").exists() and not list((exports / "exports").glob("*coaching*"))


def test_imported_without_a_line_of_python_missing_stays_missing(center):
    folder, store, _ = center
    if PG_URL:
        assert store.engine.dialect.name == "postgresql"
    counts = store.counts()
    assert counts["agents"] == 18 and counts["contacts"] > 10_000 and counts["evaluations"] > 300
    assert counts["voc_feedback"] == 0 and counts["coaching_actions"] == 0
    c = store.read("contacts")
    assert c["hold_seconds"].isna().all()  # not recorded: NULL, never 0
    assert c.loc[c["answered"], "talk_seconds"].notna().all() and c["acw_seconds"].notna().any()
    assert set(store.read("agents")["team"]) == set(TEAMS[:3])
    ev = store.evaluations("2026-10")
    assert set(ev["scorecard_id"]) == {SCORECARD["id"]} and ev["total_score"].between(0, 100).all()
    from qa_lib.reports.monthly import month_kpis

    k = month_kpis(store, "2026-10").set_index(["group", "kpi"])
    assert k.loc[("center", "avg_hold_seconds"), "status"] == "not recorded"
    assert k.loc[("center", "answer_rate"), "target"] == CENTER["kpis"]["answer_rate"]


def test_report_all_writes_every_kind_that_has_data(center):
    folder, store, _ = center
    out = _qa("report", "all", "--month", "2026-10", "--quiet", "--workers", "2")
    assert "0 failed" in out, out
    month = folder / "reports" / "2026-10"
    scored = set(store.evaluations("2026-10", audience="agent")["agent_id"])
    pages = {p.stem.removesuffix("_zh") for p in (month / "agents").glob("*_zh.html")}
    assert scored <= pages
    assert {p.stem.removesuffix("_zh") for p in (month / "teams").glob("*_zh.html")} == set(TEAMS[:3])
    assert (month / "training" / "all_zh.html").is_file() and (month / "index.html").is_file()
    voc = (month / "voc_zh.html").read_text(encoding="utf-8")
    assert "qa import voc" in voc  # no VOC: the page says what to import, and nothing else broke
    agent = (month / "agents" / f"{sorted(scored)[0]}_zh.html").read_text(encoding="utf-8")
    labels = [i["label"]["zh"] for s in SCORECARD["sections"] for i in s["items"] if i["kind"] == "scale"]
    assert all(label.split("（")[0] in agent for label in labels)  # the scale items are on the agent's page, by their labels
    team = (month / "teams" / f"{TEAMS[0]}_zh.html").read_text(encoding="utf-8")
    sample_names = re.compile(r"inbound_service|followup_call|identity_check|\bNorth\b|\bSouth\b|\bA0\d\d\b|\bQ0\d\b|示例客服中心")
    for text in (agent, team, (month / "index.html").read_text(encoding="utf-8"), (month / "index_en.html").read_text(encoding="utf-8")):
        assert not sample_names.search(text), sample_names.search(text)


def test_suggested_mappings_need_only_the_scorecard_named(center):
    """`qa import KIND FILE --suggest-map` on the center's five exports: every column found, every value of every coded
    column mapped; what it cannot know from a header is which scorecard the evaluations and sessions use."""
    from qa_lib.ingest import read_table
    from qa_lib.mapping import load_mapping, suggest_mapping

    _, _, exports = center
    lacking_by_kind = {}
    for kind, file in (("agents", "坐席名单.csv"), ("inspectors", "质检员.csv"), ("contacts", "通话记录.csv"),
                       ("calibration_sessions", "校准场次.csv"), ("evaluations", "质检明细.csv")):
        text, lacking = suggest_mapping(read_table(exports / "exports" / file), kind, source=file)
        assert ": ?" not in text, text  # no value left unrecognised
        lacking_by_kind[kind] = lacking
        filled = text.replace("# scorecard_id: {value: ...}", "scorecard_id: {value: hotline_check}").replace(
            "# scorecard_version: {value: ...}", "scorecard_version: {value: 1}")
        load_mapping(filled, kind=kind)  # a valid mapping once the scorecard is named
    assert lacking_by_kind == {"agents": [], "inspectors": [], "contacts": [], "calibration_sessions": ["scorecard_id"],
                               "evaluations": ["scorecard_id", "scorecard_version"]}
