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
    assert config.database_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


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
