"""The store: the one package that talks to the database.

SQLAlchemy 2 Core on a SQLite file by default, any SQLAlchemy URL (PostgreSQL with
``postgresql+psycopg://...``) through ``$QA_DB_URL`` or the ``url`` argument. Tables are
built from :mod:`qa_lib.model`; the schema is created and upgraded by the package's
Alembic migrations (``qa_lib/store/migrations``), never by hand.

Imports are all-or-nothing: a file is validated in full (:mod:`qa_lib.ingest`), then
checked against the database (unknown references, ids stored before with other values),
then written in one transaction. Re-importing the same file stores nothing new.
"""

from __future__ import annotations

from .core import Store
from .imports import ImportResult
from .schema import IMPORT_ORDER, metadata, tables
from .setup import busy_error, clear_database, load_samples, mark_built_from_samples, open_store, remove_sqlite, work_since_samples

__all__ = ["Store", "ImportResult", "metadata", "tables", "IMPORT_ORDER", "load_samples", "open_store", "mark_built_from_samples",
           "work_since_samples", "clear_database", "remove_sqlite", "busy_error"]
