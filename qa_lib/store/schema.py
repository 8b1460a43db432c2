"""The tables (built from :mod:`qa_lib.model`), the import log and the meta table; SQLite connection settings.

The schema is created and upgraded by the Alembic migrations in ``qa_lib/store/migrations``, never by hand.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..model import ENTITIES, Entity

__all__ = ["metadata", "tables", "imports_table", "meta_table", "IMPORT_ORDER"]

_SA_TYPES = {
    "id": lambda f: sa.String(f.sql_length),
    "str": lambda f: sa.String(f.sql_length),
    "text": lambda f: sa.Text(),
    "int": lambda f: sa.Integer(),
    "float": lambda f: sa.Float(),
    "bool": lambda f: sa.Boolean(),
    "date": lambda f: sa.Date(),
    "datetime": lambda f: sa.DateTime(),
}

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
    }
)


def _build_table(e: Entity) -> sa.Table:
    cols = []
    for f in e.fields:
        args = []
        if f.references:
            args.append(sa.ForeignKey(f.references))
        index = bool(f.references) or f.kind in ("date", "datetime") or f.name in ("team",)
        cols.append(
            sa.Column(
                f.name,
                _SA_TYPES[f.kind](f),
                *args,
                primary_key=f.name in e.key,
                nullable=not (f.required or f.name in e.key),
                index=index and f.name not in e.key,
            )
        )
    return sa.Table(e.name, metadata, *cols)


tables: dict[str, sa.Table] = {e.name: _build_table(e) for e in ENTITIES}

imports_table = sa.Table(
    "imports",
    metadata,
    sa.Column("import_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("skipped", sa.Integer, nullable=False),
    sa.Column("imported_at", sa.DateTime, nullable=False),
)
tables["imports"] = imports_table

#: Facts about the database itself, one row a key (not a data table: not in ``tables`` nor in ``counts()``).
meta_table = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

#: Order in which sample files are loaded (referenced tables first).
IMPORT_ORDER = ("agents", "inspectors", "contacts", "calibration_sessions", "evaluations", "voc", "info_checks", "coaching")

_CHUNK = 5000


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _busy_ms() -> int:
    """How long a SQLite writer waits for another's lock: ``$QA_SQLITE_BUSY_SECONDS`` (default 30 s)."""
    from ..config import settings

    return int(settings().sqlite_busy_seconds * 1000)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={_busy_ms()}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()
