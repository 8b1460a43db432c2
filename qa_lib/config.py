"""Where things are: project folders and the database URL, resolved in one place.

Notebooks, the CLI and tests resolve paths only through these functions, so a notebook
run by nbval (working directory = ``notebooks/``) and one run by papermill (working
directory = the caller's) find the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError

__all__ = ["project_root", "notebooks_dir", "samples_dir", "reports_dir", "lab_dir", "default_db_path", "database_url", "voc_taxonomy_path", "voc_domain_words_path", "training_modules_path"]


def project_root() -> Path:
    """The project folder: ``$QA_HOME`` if set, else the folder holding ``qa_lib``."""
    env = os.environ.get("QA_HOME")
    root = Path(env).expanduser() if env else Path(__file__).resolve().parents[1]
    if not root.is_dir():
        raise ConfigError(f"QA_HOME={env!r} is not a folder")
    return root


def notebooks_dir() -> Path:
    """The notebook templates: they ship with the code, so they are found beside ``qa_lib`` (not under ``$QA_HOME``)."""
    return Path(__file__).resolve().parents[1] / "notebooks"


def samples_dir() -> Path:
    """``data/samples`` of the project: generated sample data and scorecards."""
    return project_root() / "data" / "samples"


def reports_dir() -> Path:
    """Where generated reports go: ``$QA_REPORTS_DIR`` or ``reports/``."""
    env = os.environ.get("QA_REPORTS_DIR")
    return Path(env).expanduser() if env else project_root() / "reports"


def lab_dir() -> Path:
    """Where ``qa lab`` runs notebooks: ``lab/`` of the project (working copies of the templates; not committed)."""
    return project_root() / "lab"


def default_db_path() -> Path:
    """The embedded SQLite database used when no URL is given: the one database of the CLI, the notebooks,
    the workbench and ``qa demo`` (which rebuilds it only while it holds nothing but the samples)."""
    return project_root() / "data" / "qa.sqlite"


def database_url(url: str | os.PathLike | None = None) -> str:
    """Resolve a database URL.

    Order: the ``url`` argument (an SQLAlchemy URL, or a path to a SQLite file), then
    ``$QA_DB_URL``, then the default SQLite file :func:`default_db_path`.

    >>> database_url("sqlite:///x.sqlite")
    'sqlite:///x.sqlite'
    >>> database_url("/tmp/qa.sqlite")
    'sqlite:////tmp/qa.sqlite'
    """
    if url is None:
        url = os.environ.get("QA_DB_URL") or None
    if url is None:
        return f"sqlite:///{default_db_path()}"
    url = os.fspath(url)
    if "://" in url:
        return url
    return f"sqlite:///{Path(url).expanduser().resolve()}"


def voc_taxonomy_path() -> Path:
    """The VOC topic taxonomy: ``$QA_VOC_TAXONOMY`` or ``data/samples/voc_taxonomy.yaml``."""
    env = os.environ.get("QA_VOC_TAXONOMY")
    return Path(env).expanduser() if env else samples_dir() / "voc_taxonomy.yaml"


def voc_domain_words_path() -> Path:
    """Domain words for Chinese segmentation: ``$QA_VOC_DOMAIN_WORDS`` or ``data/samples/voc_domain_words.txt``."""
    env = os.environ.get("QA_VOC_DOMAIN_WORDS")
    return Path(env).expanduser() if env else samples_dir() / "voc_domain_words.txt"


def training_modules_path() -> Path:
    """Training modules (id, title, skills, hours): ``$QA_TRAINING_MODULES`` or ``data/samples/training_modules.yaml``."""
    env = os.environ.get("QA_TRAINING_MODULES")
    return Path(env).expanduser() if env else samples_dir() / "training_modules.yaml"
