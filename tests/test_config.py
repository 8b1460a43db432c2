"""Path and database-URL resolution."""

from __future__ import annotations

import pytest

from qa_lib import config
from qa_lib.errors import ConfigError


def test_database_url_order(monkeypatch, tmp_path):
    monkeypatch.delenv("QA_DB_URL", raising=False)
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    assert config.database_url() == f"sqlite:///{tmp_path / 'data' / 'qa.sqlite'}"
    monkeypatch.setenv("QA_DB_URL", "postgresql+psycopg://u@localhost/qa")
    assert config.database_url() == "postgresql+psycopg://u@localhost/qa"
    assert config.database_url("sqlite:////srv/x.sqlite") == "sqlite:////srv/x.sqlite"
    monkeypatch.chdir(tmp_path)
    assert config.database_url("sqlite:///x.sqlite") == f"sqlite:///{tmp_path / 'x.sqlite'}"  # the same file from any folder
    assert config.database_url(str(tmp_path / "we?ird #1" / "qa.sqlite")).endswith("/we%3Fird %231/qa.sqlite")


def test_paths_follow_qa_home(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    monkeypatch.delenv("QA_REPORTS_DIR", raising=False)
    assert config.samples_dir() == tmp_path / "data" / "samples"
    assert config.reports_dir() == tmp_path / "reports"
    monkeypatch.setenv("QA_REPORTS_DIR", str(tmp_path / "out"))
    assert config.reports_dir() == tmp_path / "out"
    monkeypatch.setenv("QA_HOME", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="is not a folder"):
        config.project_root()


def test_settings_come_from_the_environment_and_the_center_file(monkeypatch, tmp_path):
    """One object: machine settings from the environment, the center's from center.yaml in the project folder."""
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    s = config.settings()
    assert (s.center_file, s.headline_scorecard, s.score_target, s.lang) == (None, None, None, "zh")
    with pytest.raises(ConfigError, match="no score target is set: add `score_target: 80`"):
        s.need_score_target()
    (tmp_path / "center.yaml").write_text("name: 华东客服中心\nlang: en\nheadline_scorecard: 来电服务\nscore_target: 85\nitem_target: 0.9\n",
                                          encoding="utf-8")
    monkeypatch.setenv("QA_EXECUTOR", "dask:tcp://10.0.0.5:8786")
    monkeypatch.setenv("QA_SQLITE_BUSY_SECONDS", "2.5")
    s = config.settings()
    assert (s.name, s.lang, s.headline_scorecard, s.need_score_target(), s.item_target) == ("华东客服中心", "en", "来电服务", 85.0, 0.9)
    assert (s.executor, s.sqlite_busy_seconds, s.center_file) == ("dask:tcp://10.0.0.5:8786", 2.5, tmp_path / "center.yaml")
    assert config.settings(score_target=70).score_target == 70  # overrides, e.g. for a what-if


def test_the_repository_default_is_the_sample_center(monkeypatch):
    monkeypatch.delenv("QA_HOME", raising=False)
    s = config.settings()
    assert s.center_file == config.samples_dir() / "center.yaml" and s.headline_scorecard and s.score_target is not None


@pytest.mark.parametrize("text, message", [
    ("colour: blue\n", r"unknown setting\(s\) \['colour'\]; allowed: name, lang"),
    ("lang: fr\n", "lang must be zh or en; got 'fr'"),
    ("score_target: high\n", "score_target must be a number from 0 to 100; got 'high'"),
    ("score_target: 180\n", "score_target must be a number from 0 to 100; got 180"),
    ("item_target: 85\n", "item_target must be a number from 0 to 1; got 85"),
    ("- a list\n", "must be a mapping of settings"),
    ("headline_scorecard: [a, b]\n", "headline_scorecard must be a scorecard id"),
    ("headline_scorecard: {sideways: a}\n", "headline_scorecard keys must be a direction"),
    ("timezone: Mars/Olympus\n", "timezone must be an IANA time zone"),
    ("kpis: {answer_rates: 0.8}\n", r"kpis.answer_rates: unknown KPI; allowed: answer_rate"),
    ("kpis: {answer_rate: 80}\n", r"kpis.answer_rate.target \(a rate\) must be a number from 0 to 1; got 80"),
    ("kpis: {fcr: {target: 0.9, pass_score: 80}}\n", "pass_score belongs to service_standard only"),
    ("records: {hold: no_idea}\n", "records.hold must be true or false"),
    ("records: {wrap: false}\n", r"records.wrap is unknown; allowed: hold, after_call_work, fcr, csat"),
    ("reports: {trend_months: 0}\n", "reports.trend_months must be a whole number from 1 to 36; got 0"),
    ("training_modules: ''\n", "training_modules must be a file name"),
])
def test_a_bad_center_file_is_refused_naming_the_setting(monkeypatch, tmp_path, text, message):
    (tmp_path / "center.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match=message):
        config.settings()


def test_bad_environment_settings_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    monkeypatch.setenv("QA_CENTER", str(tmp_path / "nowhere.yaml"))
    with pytest.raises(ConfigError, match="QA_CENTER=.*nowhere.yaml' is not a file"):
        config.settings()
    monkeypatch.delenv("QA_CENTER")
    monkeypatch.setenv("QA_SQLITE_BUSY_SECONDS", "soon")
    with pytest.raises(ConfigError, match="QA_SQLITE_BUSY_SECONDS must be a number of seconds; got 'soon'"):
        config.settings()


def test_nothing_else_reads_the_environment():
    """qa_lib reads settings in config.py only (the CLI passes QA_DB_URL on to JupyterLab's kernels: a write)."""
    import re
    from pathlib import Path

    root = Path(config.__file__).parent
    readers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                     if p.name != "config.py" and re.search(r"os\.environ(\.get|\[|\.setdefault)|os\.getenv", p.read_text(encoding="utf-8")))
    assert readers == [], readers


def test_import_size_limits_come_from_the_environment(monkeypatch, tmp_path):
    """QA_MAX_* raise (or lower) the limits qa_lib.ingest.guard_file applies before parsing a file."""
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    s = config.settings()
    assert (s.max_rows, s.max_cells, s.max_file_mb, s.max_expanded_mb, s.max_zip_ratio) == (1_500_000, 40_000_000, 1024.0, 2048.0, 100.0)
    for var, value in (("QA_MAX_ROWS", "2,000,000"), ("QA_MAX_CELLS", "60_000_000"), ("QA_MAX_FILE_MB", "4096"),
                       ("QA_MAX_EXPANDED_MB", "8192.5"), ("QA_MAX_ZIP_RATIO", "250")):
        monkeypatch.setenv(var, value)
    s = config.settings()
    assert (s.max_rows, s.max_cells, s.max_file_mb, s.max_expanded_mb, s.max_zip_ratio) == (2_000_000, 60_000_000, 4096.0, 8192.5, 250.0)
    assert isinstance(s.max_rows, int) and isinstance(s.max_cells, int)


@pytest.mark.parametrize("var, value, message", [
    ("QA_MAX_ROWS", "lots", "QA_MAX_ROWS must be a positive whole number; got 'lots'"),
    ("QA_MAX_ROWS", "1.5", "QA_MAX_ROWS must be a positive whole number; got '1.5'"),
    ("QA_MAX_CELLS", "-1", "QA_MAX_CELLS must be a positive whole number; got '-1'"),
    ("QA_MAX_FILE_MB", "0", "QA_MAX_FILE_MB must be a positive number; got '0'"),
    ("QA_MAX_ZIP_RATIO", "nan", "QA_MAX_ZIP_RATIO must be a positive number; got 'nan'"),
])
def test_bad_import_limits_are_refused(monkeypatch, tmp_path, var, value, message):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=message):
        config.settings()


def test_a_center_file_sets_everything_a_center_decides(monkeypatch, tmp_path):
    """Scorecards per direction, KPI targets, the fields it records, its files (beside center.yaml), report options."""
    (tmp_path / "center.yaml").write_text(
        "name: 华南客服中心\ntimezone: Asia/Hong_Kong\nheadline_scorecard: {inbound: 呼入质检, hotline/outbound: 回访质检}\n"
        "score_target: 90\nkpis: {fcr: 0.9, service_standard: {target: 0.8}}\nrecords: {hold: false, csat: false}\n"
        "training_modules: 课程/modules.yaml\nreports: {trend_months: 12}\n", encoding="utf-8")
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    s = config.settings()
    assert s.timezone == "Asia/Hong_Kong" and s.headline_scorecard == "呼入质检"
    assert (s.scorecard_for("hotline", "outbound"), s.scorecard_for("online", "inbound"), s.scorecard_for("email", "outbound")) == ("回访质检", "呼入质检", "呼入质检")
    t = s.targets()["kpis"]
    assert t["fcr"]["target"] == 0.9 and t["service_standard"] == {"target": 0.8, "higher_is_better": True, "recorded": True, "pass_score": 90.0}
    assert not t["avg_hold_seconds"]["recorded"] and not t["csat_satisfied"]["recorded"] and t["avg_acw_seconds"]["recorded"]
    assert s.training_modules == tmp_path / "课程" / "modules.yaml" and s.voc_taxonomy == tmp_path / "voc_taxonomy.yaml"
    assert s.report_options == {"trend_months": 12, "voc_history": 6, "training_months": 3}
    monkeypatch.setenv("QA_TRAINING_MODULES", str(tmp_path / "other.yaml"))
    assert config.settings().training_modules == tmp_path / "other.yaml"  # the environment still overrides


def test_qa_new_makes_a_center_the_commands_find_from_its_folder(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from qa_lib.cli import main

    monkeypatch.setenv("QA_HOME", "")  # unset for the test (and restored after it: use_center_folder exports it)
    folder = tmp_path / "华东中心"
    r = CliRunner().invoke(main, ["new", str(folder), "--name", 'x: "quoted" # name', "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in folder.iterdir()) == ["center.yaml", "data", "mappings", "reports", "voc_taxonomy.yaml"]
    (folder / "data" / "sub").mkdir()
    monkeypatch.chdir(folder / "data" / "sub")
    assert config.find_center() == folder.resolve()
    assert config.use_center_folder() == folder.resolve()
    s = config.settings()
    assert (s.home, s.name, s.lang, s.timezone, s.score_target) == (folder.resolve(), 'x: "quoted" # name', "en", "Asia/Shanghai", None)
    assert s.db_url.endswith("华东中心/data/qa.sqlite") and s.reports_dir == folder.resolve() / "reports"
    assert all(v["target"] is None for v in s.targets()["kpis"].values())  # no target is assumed for a center
    r = CliRunner().invoke(main, ["new", str(folder)])
    assert r.exit_code == 2 and "already holds a center" in r.output and "nothing was written" in r.output
    r = CliRunner().invoke(main, ["init"])  # a center's own database: the schema, no sample data
    assert r.exit_code == 0 and (folder / "data" / "qa.sqlite").is_file()
    from qa_lib.store import Store

    assert not any(Store(s.db_url).counts().values())
