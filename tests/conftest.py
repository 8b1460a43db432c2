"""Shared fixtures.

``db_url`` runs a test on every database backend available: SQLite always, PostgreSQL
when ``QA_TEST_PG_URL`` points at a server (``.ci/run`` starts one and sets it; a CI run
without it fails rather than skips, see ``test_store.py::test_postgres_configured_in_ci``).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from qa_lib.config import samples_dir
from qa_lib.store import Store, load_samples

#: The suite never touches a person's own settings: their database, project folder, reports or center files.
for _name in ("QA_DB_URL", "QA_HOME", "QA_REPORTS_DIR", "QA_CENTER", "QA_VOC_TAXONOMY", "QA_VOC_DOMAIN_WORDS", "QA_TRAINING_MODULES",
              "QA_EXECUTOR", "QA_SQLITE_BUSY_SECONDS", "QA_MAX_ROWS", "QA_MAX_CELLS", "QA_MAX_FILE_MB", "QA_MAX_EXPANDED_MB", "QA_MAX_ZIP_RATIO"):
    os.environ.pop(_name, None)

PG_URL = os.environ.get("QA_TEST_PG_URL")
#: The real public datasets: ``$QA_SHARED_DATA``, else ``../shared/data`` beside the repository.
SHARED_DATA = Path(os.environ.get("QA_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
#: Set by ``.ci/run``: a missing dataset is then a failure, not a skip (CI has ``../shared``; a clone alone does not).
REQUIRE_DATA = os.environ.get("QA_TEST_REQUIRE_DATA", "") not in ("", "0")


def shared_path(*parts: str) -> Path:
    """A file or folder of the real datasets; skip the test when it is missing (fail under ``QA_TEST_REQUIRE_DATA``).

    The reason names what is missing and where it was looked for, so a person with only the repository
    knows what they did not run.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        what = f"{path} (the real datasets in ../shared/data; set QA_SHARED_DATA to their folder)"
        if REQUIRE_DATA:
            pytest.fail(f"QA_TEST_REQUIRE_DATA is set but {what} is missing")
        pytest.skip(f"missing {what}")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets' folder (``../shared/data``); see :func:`shared_path` for when it is missing."""
    return shared_path()


BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'qa.sqlite'}"
        return
    name = f"qa_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    sa.create_engine(url).dispose()
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.migrate()
    yield s
    s.engine.dispose()


def sample_store(folder: Path) -> Store:
    """A new SQLite store in ``folder`` with the committed samples loaded."""
    s = Store(f"sqlite:///{folder / 'qa.sqlite'}")
    s.migrate()
    load_samples(s, samples_dir())
    return s


def store_copy(store: Store, folder: Path) -> Store:
    """A private, writable copy of a SQLite store (the sqlite3 backup API): faster than loading the samples again."""
    import sqlite3

    dst = folder / "copy.sqlite"
    with sqlite3.connect(store.engine.url.database) as src, sqlite3.connect(dst) as out:
        src.backup(out)
    return Store(f"sqlite:///{dst}")


@pytest.fixture(scope="session")
def loaded_store(tmp_path_factory):
    """The samples loaded once for the session (shared: tests must not write to it)."""
    return sample_store(tmp_path_factory.mktemp("loaded"))


@pytest.fixture
def seeded(store):
    """A store with scorecards, two agents, one inspector and two contacts."""
    for card in sorted((samples_dir() / "scorecards").glob("*.yaml")):
        store.add_scorecard(card)
    store.import_frame("agents", AGENTS.copy(), source="agents.csv")
    store.import_frame("inspectors", INSPECTORS.copy(), source="inspectors.csv")
    store.import_frame("contacts", CONTACTS.copy(), source="contacts.csv")
    return store


AGENTS = pd.DataFrame(
    {
        "agent_id": ["A1", "A2"],
        "name": ["王伟", "李娜"],
        "team": ["North", "South"],
        "supervisor": ["张敏", "刘洋"],
        "hire_date": ["2024-03-01", "2025/7/15"],
        "status": ["active", "在岗"],
    }
)
INSPECTORS = pd.DataFrame({"inspector_id": ["Q1"], "name": ["陈静"], "is_expert": ["yes"]})
CONTACTS = pd.DataFrame(
    {
        "contact_id": ["K1", "K2"],
        "start_time": ["2026-10-05 09:15:00", "2026-10-05 10:02:30"],
        "channel": ["hotline", "热线"],
        "direction": ["inbound", "呼入"],
        "contact_type": ["service", "咨询"],
        "agent_id": ["A1", "A2"],
        "customer_id": ["C1", "C2"],
        "wait_seconds": ["4.5", "12"],
        "answered": ["true", "1"],
        "abandoned": ["false", "0"],
        "talk_seconds": ["180", "240.5"],
        "hold_seconds": ["0", "30"],
        "acw_seconds": ["20", "35"],
    }
)


def write_csv(df: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    df.to_csv(path, index=False, encoding=encoding)
    return path
