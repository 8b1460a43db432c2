"""The store: the one module that talks to the database.

SQLAlchemy 2 Core on a SQLite file by default, any SQLAlchemy URL (PostgreSQL with
``postgresql+psycopg://...``) through ``$QA_DB_URL`` or the ``url`` argument. Tables are
built from :mod:`qa_lib.model`; the schema is created and upgraded by the package's
Alembic migrations (``qa_lib/migrations``), never by hand.

Imports are all-or-nothing: a file is validated in full (:mod:`qa_lib.ingest`), then
checked against the database (unknown references, ids stored before with other values),
then written in one transaction. Re-importing the same file stores nothing new.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from . import ingest
from .config import database_url
from .errors import ConfigError, NotFoundError, ParameterError, Problem, StoreError, ValidationError
from .lifecycle import AGENT_ACTIONS, OUTCOMES, ConflictError, TransitionError, next_status
from .model import ENTITIES, Entity, entity
from .rubric import Scorecard, check_answers, load_scorecard, normalize_answers, score
from .summary import parse_date

__all__ = ["Store", "ImportResult", "metadata", "tables", "IMPORT_ORDER", "load_samples", "open_store", "mark_built_from_samples",
           "work_since_samples", "clear_database", "remove_sqlite"]

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


@dataclass
class ImportResult:
    """What an import did: rows in the file, rows added and rows already stored, per table."""

    kind: str
    source: str
    rows: int
    inserted: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        parts = ", ".join(f"{t}: {self.inserted[t]} added, {self.skipped[t]} already stored" for t in self.inserted)
        return f"{self.source} ({self.kind}, {self.rows} rows) — {parts}"


def _records(df: pd.DataFrame, e: Entity) -> list[dict]:
    """Rows as DB-ready dicts: None for missing, Python date / datetime / bool / int / float.

    Whole columns are converted at once (``tolist``); the per-value work is a plain
    list comprehension, no pandas call per value.
    """
    cols = {}
    for f in e.fields:
        s = df[f.name]
        missing = s.isna().to_numpy()
        if f.kind == "datetime":
            vals = list(s.dt.to_pydatetime())
        elif f.kind == "date":
            vals = list(s.dt.date)
        elif f.kind == "bool":
            vals = s.fillna(False).to_numpy(dtype=bool).tolist()
        elif f.kind == "int":
            vals = [int(v) for v in s.to_numpy(dtype=float, na_value=0.0)]
        elif f.kind == "float":
            vals = s.to_numpy(dtype=float, na_value=np.nan).tolist()
        else:
            vals = s.astype(object).tolist()
        if missing.any():
            vals = [None if m else v for v, m in zip(vals, missing.tolist())]
        cols[f.name] = vals
    names = list(cols)
    return [dict(zip(names, row)) for row in zip(*cols.values())]


def _canon(df: pd.DataFrame, e: Entity) -> pd.DataFrame:
    """A string form of each value, identical for a file value and its stored copy."""
    out = {}
    for f in e.fields:
        s = df[f.name]
        if f.kind in ("date", "datetime"):
            t = pd.to_datetime(s, errors="coerce")
            out[f.name] = t.dt.strftime("%Y-%m-%d" if f.kind == "date" else "%Y-%m-%dT%H:%M:%S.%f").fillna("")
        elif f.kind in ("int", "float"):
            v = pd.to_numeric(s, errors="coerce").astype(float)
            out[f.name] = pd.Series(np.where(np.isnan(v), "", np.char.mod("%.9g", np.nan_to_num(v))), index=s.index)
        elif f.kind == "bool":
            b = s.astype("boolean")
            out[f.name] = b.map({True: "1", False: "0"}).astype(object).fillna("")
        else:
            out[f.name] = s.astype(object).where(s.notna(), "").astype(str)
    return pd.DataFrame(out, index=df.index)


class Store:
    """A QA database.

    Parameters
    ----------
    url : str or path, optional
        SQLAlchemy URL or SQLite file path; default ``$QA_DB_URL`` or ``data/qa.sqlite``.

    Examples
    --------
    >>> s = Store("sqlite://")          # in memory
    >>> s.migrate()
    '0004'
    >>> s.counts()["contacts"]
    0
    """

    def __init__(self, url: str | os.PathLike | None = None):
        self.url = database_url(url)
        try:
            self.engine: Engine = sa.create_engine(self.url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database URL {self._safe_url()!r}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            if self.url.startswith("sqlite:///") and self.url != "sqlite://":
                Path(self.url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)

    def _safe_url(self) -> str:
        try:
            return sa.engine.make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "<unparseable url>"

    def __repr__(self) -> str:
        return f"Store({self._safe_url()!r})"

    # ---- schema -------------------------------------------------------------------
    def _alembic(self, conn: Connection):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        cfg.attributes["connection"] = conn
        return cfg

    def migrate(self) -> str:
        """Create or upgrade the schema to the newest migration; return its revision."""
        from alembic import command

        try:
            with self.engine.begin() as conn:
                command.upgrade(self._alembic(conn), "head")
        except sa.exc.DatabaseError as exc:
            raise StoreError(f"cannot create or upgrade the schema of {self._safe_url()}: {exc.orig}") from None
        return self.revision()

    def revision(self) -> str | None:
        """The schema revision stored in the database (None for an empty database)."""
        from alembic.runtime.migration import MigrationContext

        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except sa.exc.DatabaseError as exc:
            raise StoreError(f"cannot open database {self._safe_url()}: {exc.orig}") from None

    def head(self) -> str:
        """The newest migration the package knows."""
        from alembic.script import ScriptDirectory

        with self.engine.connect() as conn:
            return ScriptDirectory.from_config(self._alembic(conn)).get_current_head()

    def check_ready(self) -> None:
        """Raise :class:`StoreError` unless the schema is at the newest migration."""
        rev = self.revision()
        if rev is None:
            raise StoreError(f"database {self._safe_url()} has no QA schema yet: run `qa init` to create it with the sample "
                             "center (`qa init --no-samples` for an empty one for your own data), or `qa demo`")
        if rev != self.head():
            raise StoreError(f"database {self._safe_url()} is at schema {rev}, the package needs {self.head()}: run `qa init` to upgrade")

    # ---- reading ------------------------------------------------------------------
    def read(self, table: str, where: sa.ColumnElement | None = None, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Read a table (optionally filtered with an SQLAlchemy expression) into a DataFrame."""
        t = self._table(table)
        cols = [t.c[c] for c in columns] if columns else [t]
        q = sa.select(*cols)
        if where is not None:
            q = q.where(where)
        with self.engine.connect() as conn:
            return pd.read_sql(q, conn)

    def table(self, name: str) -> sa.Table:
        """The SQLAlchemy table ``name`` (for building ``where`` clauses)."""
        return self._table(name)

    def _table(self, name: str) -> sa.Table:
        if name not in tables:
            raise ParameterError(f"table must be one of {sorted(tables)}; got {name!r}")
        return tables[name]

    def counts(self) -> dict[str, int]:
        """Number of rows in each table."""
        with self.engine.connect() as conn:
            return {n: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for n, t in tables.items()}

    _MONTH_COLUMN = {"contacts": "start_time", "voc_feedback": "received_at", "info_checks": "checked_on", "coaching_actions": "created_on"}

    def read_month(self, table: str, month) -> pd.DataFrame:
        """Rows of ``table`` that fall in ``month`` (a ``pd.Period`` or ``"2026-10"``).

        Evaluations (and their items) belong to the month of the contact they score.
        """
        p = pd.Period(month, freq="M")
        lo, hi = p.start_time.to_pydatetime(), (p + 1).start_time.to_pydatetime()
        c = tables["contacts"]
        if table in ("evaluations", "evaluation_items"):
            e = tables["evaluations"]
            ids = sa.select(e.c.evaluation_id).join(c, c.c.contact_id == e.c.contact_id).where(c.c.start_time >= lo, c.c.start_time < hi)
            t = tables[table]
            return self.read(table, t.c.evaluation_id.in_(ids))
        if table not in self._MONTH_COLUMN:
            raise ParameterError(f"table must be one of {sorted(self._MONTH_COLUMN) + ['evaluation_items', 'evaluations']}; got {table!r}")
        col = tables[table].c[self._MONTH_COLUMN[table]]
        if table in ("info_checks", "coaching_actions"):
            lo, hi = lo.date(), hi.date()
        return self.read(table, (col >= lo) & (col < hi))

    def latest_month(self) -> pd.Period:
        """The newest calendar month with contacts."""
        c = tables["contacts"]
        with self.engine.connect() as conn:
            last = conn.execute(sa.select(sa.func.max(c.c.start_time))).scalar_one()
        if last is None:
            raise NotFoundError("the database holds no contacts yet: run `qa init` or `qa import contacts FILE`")
        return pd.Timestamp(last).to_period("M")


    def scored_evaluations(self, scorecard_id: str, *, month=None, arms: tuple[str, ...] = ("random",)) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Current evaluations of a scorecard (optionally one month, by default the random arm only).

        Returns ``(evaluations, answers, context)``: headers, long answers, and the contacts'
        flags per evaluation — the inputs of :func:`qa_lib.rubric.rescore`.
        """
        e = tables["evaluations"]
        where = (e.c.scorecard_id == scorecard_id) & e.c.arm.in_(list(arms))
        if month is not None:
            ids = set(self.read_month("evaluations", month)["evaluation_id"])
            head = self.read("evaluations", where)
            head = head[head["evaluation_id"].isin(ids)].reset_index(drop=True)
        else:
            head = self.read("evaluations", where)
        if head.empty:
            raise NotFoundError(f"no {'/'.join(arms)} evaluations of scorecard {scorecard_id!r}" + (f" in {month}" if month is not None else ""))
        items = tables["evaluation_items"]
        answers = self.read("evaluation_items", items.c.evaluation_id.in_(sa.select(e.c.evaluation_id).where(where)))
        answers = answers[answers["evaluation_id"].isin(set(head["evaluation_id"]))].reset_index(drop=True)
        with self.engine.connect() as conn:
            flags = self._contact_flags(conn, head["contact_id"])
        context = head[["evaluation_id", "contact_id"]].merge(flags, on="contact_id", how="left")
        return head, answers, context

    def unscored_contacts(self, card: Scorecard, month) -> pd.DataFrame:
        """Contacts of ``month`` that ``card`` applies to (its ``applies_to``) and nobody has evaluated yet."""
        c, e = tables["contacts"], tables["evaluations"]
        p = pd.Period(month, freq="M")
        where = (
            (c.c.start_time >= p.start_time.to_pydatetime()) & (c.c.start_time < (p + 1).start_time.to_pydatetime())
            & c.c.answered.is_(True) & c.c.agent_id.is_not(None) & (c.c.contact_type != "non_regular")
            & c.c.contact_id.not_in(sa.select(e.c.contact_id))
        )
        applies = card.applies_to or {}
        if applies.get("direction"):
            where &= c.c.direction == applies["direction"]
        if applies.get("contact_types"):
            where &= c.c.contact_type.in_(list(applies["contact_types"]))
        return self.read("contacts", where).sort_values("start_time", ignore_index=True)

    def import_scoring_sheet(self, path: str | os.PathLike, *, status: str = "submitted") -> ImportResult:
        """Import a filled scoring sheet (see :mod:`qa_lib.sheets`): all rows or none, idempotent."""
        from openpyxl import load_workbook

        from .sheets import read_scoring_sheet

        path = Path(path)
        try:
            meta = {str(r[0]): r[1] for r in load_workbook(path, read_only=True)["meta"].iter_rows(values_only=True)}
        except Exception:
            meta = {}
        if not meta.get("scorecard_id"):
            raise ValidationError([Problem(path.name, 0, "", "not a scoring sheet written by `qa score export` (no meta sheet)")], path.name)
        card = self.scorecard(str(meta["scorecard_id"]), int(meta["scorecard_version"]))
        long = read_scoring_sheet(path, card, status=status)
        return self.import_frame("evaluations", long, source=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest())

    def evaluated_answers(self, agent_ids=None) -> pd.DataFrame:
        """Every non-draft evaluation's item answers (of ``agent_ids``, or all agents), with the contact's start
        time (``handled_at``) and the re-check reason a saved plan gave the contact (``recheck:<action>``, else "")."""
        e = tables["evaluations"]
        where = e.c.status != "draft"
        if agent_ids is not None:
            where = where & e.c.agent_id.in_(sorted(set(agent_ids)))
        head = self.read("evaluations", where, columns=["evaluation_id", "contact_id", "agent_id", "arm"])
        cols = ["evaluation_id", "contact_id", "agent_id", "item_id", "answer", "arm", "reason", "handled_at"]
        if head.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        ids = sa.select(e.c.evaluation_id).where(where)
        items = self.read("evaluation_items", tables["evaluation_items"].c.evaluation_id.in_(ids), columns=["evaluation_id", "item_id", "answer"])
        c = tables["contacts"]
        when = self.read("contacts", c.c.contact_id.in_(sa.select(e.c.contact_id).where(where)), columns=["contact_id", "start_time"])
        rechecks = self.read("plan_contacts", tables["plan_contacts"].c.reason.like("recheck:%"), columns=["contact_id", "reason"])
        reason = rechecks.drop_duplicates("contact_id").set_index("contact_id")["reason"]
        out = items.merge(head, on="evaluation_id", how="inner")
        out["handled_at"] = out["contact_id"].map(when.set_index("contact_id")["start_time"])
        out["reason"] = out["contact_id"].map(reason).astype(object).fillna("")
        return out[cols]

    def calibration_data(self, session_id: str | None = None, month=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Calibration evaluations (one session, a month's sessions, or all), their item answers, and the sessions."""
        sessions = self.read("calibration_sessions")
        if session_id is not None:
            sessions = sessions[sessions["session_id"] == session_id]
            if sessions.empty:
                raise NotFoundError(f"no calibration session {session_id!r}")
        elif month is not None:
            held = pd.to_datetime(sessions["held_on"]).dt.to_period("M")
            sessions = sessions[held == pd.Period(month, freq="M")]
            if sessions.empty:
                raise NotFoundError(f"no calibration session held in {month}")
        e = tables["evaluations"]
        ev = self.read("evaluations", e.c.calibration_session_id.in_(sessions["session_id"].tolist()))
        items = tables["evaluation_items"]
        it = self.read("evaluation_items", items.c.evaluation_id.in_(ev["evaluation_id"].tolist())) if len(ev) else pd.DataFrame(columns=["evaluation_id", "item_id", "answer"])
        return ev, it, sessions.reset_index(drop=True)

    # ---- sampling plans -------------------------------------------------------------
    def save_plan(self, plan, *, created_by: str | None = None) -> str:
        """Store a drawn plan (:class:`qa_lib.sampling.DrawnPlan` with inspectors assigned); return its id.

        The id hashes the period, every parameter and the drawn contacts: saving the same
        plan again changes nothing.
        """
        spec = plan.spec
        pc = plan.contacts
        if "inspector_id" not in pc.columns:
            raise ParameterError("assign inspectors before saving the plan (qa_lib.sampling.assign_inspectors)")
        params = json.dumps(spec.to_dict(), sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256((params + "|" + ",".join(sorted(pc["contact_id"])) + "|" + ",".join(pc["inspector_id"].astype(str))).encode()).hexdigest()[:10]
        plan_id = f"P{spec.period}-{digest}"
        t = tables["sampling_plans"]
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.c.plan_id).where(t.c.plan_id == plan_id)).first() is not None:
                return plan_id
            conn.execute(t.insert().values(
                plan_id=plan_id, period=str(spec.period), created_at=_now(), created_by=created_by, seed=int(spec.seed), params=params,
                eligible=int(plan.cells["N"].sum()), excluded=json.dumps(plan.excluded, sort_keys=True),
                n_random=int((pc["arm"] == "random").sum()), n_targeted=int((pc["arm"] == "targeted").sum()),
            ))
            rows = pc.assign(plan_id=plan_id)[["plan_id", "contact_id", "agent_id", "arm", "stratum", "inclusion_prob", "reason", "inspector_id", "second_inspector_id"]]
            rows = rows.astype(object).where(rows.notna(), None)
            rows["inclusion_prob"] = rows["inclusion_prob"].astype(float)
            for i in range(0, len(rows), _CHUNK):
                conn.execute(tables["plan_contacts"].insert(), rows.iloc[i : i + _CHUNK].to_dict("records"))
            cells = plan.cells.rename(columns={"N": "population", "n": "sampled"}).assign(plan_id=plan_id)
            cells = cells[["plan_id", "agent_id", "stratum", "team", "population", "sampled"]].astype(object)
            for i in range(0, len(cells), _CHUNK):
                conn.execute(tables["plan_cells"].insert(), [{k: (int(v) if k in ("population", "sampled") else v) for k, v in r.items()} for r in cells.iloc[i : i + _CHUNK].to_dict("records")])
        return plan_id

    def latest_plan(self, period) -> str | None:
        """Id of the newest saved plan for a period (``"2026-10"``), or None."""
        t = tables["sampling_plans"]
        with self.engine.connect() as conn:
            return conn.execute(sa.select(t.c.plan_id).where(t.c.period == str(period)).order_by(t.c.created_at.desc(), t.c.plan_id).limit(1)).scalar_one_or_none()

    def plan_contacts(self, plan_id: str) -> pd.DataFrame:
        """The contacts of a saved plan with their arm, inclusion probability and inspectors."""
        t = tables["plan_contacts"]
        df = self.read("plan_contacts", t.c.plan_id == plan_id)
        if df.empty:
            raise NotFoundError(f"no plan {plan_id!r}")
        return df

    # ---- evaluation lifecycle -------------------------------------------------------
    def evaluation(self, evaluation_id: str) -> dict:
        """The current version of an evaluation: header fields plus ``answers`` {item: answer} and ``comments``."""
        with self.engine.connect() as conn:
            head = self._evaluation_row(conn, evaluation_id)
            items = conn.execute(sa.select(tables["evaluation_items"]).where(tables["evaluation_items"].c.evaluation_id == evaluation_id)).mappings().all()
        out = dict(head)
        out["answers"] = {r["item_id"]: r["answer"] for r in items}
        out["comments"] = {r["item_id"]: r["item_comment"] for r in items if r["item_comment"]}
        return out

    def history(self, evaluation_id: str) -> pd.DataFrame:
        """Every version of an evaluation, oldest first (who, when, action, status, score, why)."""
        t = tables["evaluation_versions"]
        df = self.read("evaluation_versions", t.c.evaluation_id == evaluation_id).sort_values("version", ignore_index=True)
        if df.empty:
            raise NotFoundError(f"no evaluation {evaluation_id!r}")
        return df

    def disputes(self, evaluation_id: str | None = None) -> pd.DataFrame:
        """Disputed items (all, or of one evaluation)."""
        t = tables["evaluation_disputes"]
        return self.read("evaluation_disputes", None if evaluation_id is None else t.c.evaluation_id == evaluation_id)

    def _evaluation_row(self, conn, evaluation_id: str, lock: bool = False):
        t = tables["evaluations"]
        q = sa.select(t).where(t.c.evaluation_id == evaluation_id)
        if lock and self.engine.dialect.name != "sqlite":
            q = q.with_for_update()
        row = conn.execute(q).mappings().one_or_none()
        if row is None:
            raise NotFoundError(f"no evaluation {evaluation_id!r}")
        return row

    def _card_for(self, conn, scorecard_id: str, version: int | None) -> Scorecard:
        t = tables["scorecards"]
        q = sa.select(t.c.definition).where(t.c.scorecard_id == scorecard_id)
        q = q.where(t.c.version == version) if version is not None else q.order_by(t.c.version.desc()).limit(1)
        text = conn.execute(q).scalar_one_or_none()
        if text is None:
            raise NotFoundError(f"no scorecard {scorecard_id!r}" + (f" version {version}" if version else ""))
        return _card_from_text(text)

    def _checked_total(self, conn, card: Scorecard, evaluation_id: str, contact_id: str, answers: dict, complete: bool) -> float | None:
        frame = pd.DataFrame({"evaluation_id": evaluation_id, "item_id": list(answers), "answer": list(answers.values())})
        context = self._contact_flags(conn, [contact_id]).assign(evaluation_id=evaluation_id)
        problems = check_answers(card, frame, source=evaluation_id, context=context, complete=complete)
        if problems:
            raise ValidationError(problems, f"evaluation {evaluation_id}")
        if frame.empty:
            return None
        total = score(card, frame, context=context).totals["total"].iloc[0]
        return None if np.isnan(total) else round(float(total), 4)

    def _write_version(self, conn, head, action: str, status: str, actor: str, expected_version: int | None,
                       answers: dict, comments: dict, comment, total, reason=None) -> int:
        """Bump the version (optimistic lock), mirror the current state, append the history row."""
        ev, items = tables["evaluations"], tables["evaluation_items"]
        eid, current = head["evaluation_id"], int(head["version"] or 1)
        _check_version(eid, current, expected_version)
        new = current + 1
        res = conn.execute(
            ev.update().where(ev.c.evaluation_id == eid, ev.c.version == current).values(version=new, status=status, total_score=total, comment=comment)
        )
        if res.rowcount != 1:  # SQLite reads without a row lock: another writer committed since `head` was read
            now = conn.execute(sa.select(ev.c.version).where(ev.c.evaluation_id == eid)).scalar_one()
            _check_version(eid, int(now), current if expected_version is None else expected_version)
            raise ConflictError(f"evaluation {eid} was changed by someone else just now: reload it and apply your change again")
        conn.execute(items.delete().where(items.c.evaluation_id == eid))
        if answers:
            conn.execute(items.insert(), [{"evaluation_id": eid, "item_id": k, "answer": str(v), "item_comment": comments.get(k)} for k, v in answers.items()])
        conn.execute(tables["evaluation_versions"].insert().values(
            evaluation_id=eid, version=new, action=action, status=status, total_score=total,
            answers=_answers_json(answers, comments), comment=comment, actor=actor, at=_now(), reason=reason,
        ))
        return new

    def create_evaluation(self, contact_id: str, inspector_id: str, scorecard_id: str, answers: dict | None = None, *,
                          scorecard_version: int | None = None, comments: dict | None = None, comment: str | None = None,
                          arm: str = "random", submit: bool = False, evaluation_id: str | None = None) -> str:
        """Start an evaluation (a draft, or submitted at once with ``submit=True``); return its id.

        A draft may be incomplete; submitting requires every required item. Answers are
        checked against the scorecard version and stored in canonical form.
        """
        if arm not in ("random", "targeted"):
            raise ParameterError(f"arm must be one of random, targeted (calibration evaluations belong to a session); got {arm!r}")
        answers, comments = dict(answers or {}), dict(comments or {})
        with self.engine.begin() as conn:
            c = tables["contacts"]
            contact = conn.execute(sa.select(c.c.contact_id, c.c.agent_id, c.c.answered, c.c.contact_type).where(c.c.contact_id == contact_id)).mappings().one_or_none()
            if contact is None:
                raise NotFoundError(f"no contact {contact_id!r}")
            if not contact["answered"] or contact["agent_id"] is None or contact["contact_type"] == "non_regular":
                raise ParameterError(f"contact {contact_id} cannot be evaluated: only answered, regular contacts with an agent are scored")
            if not conn.execute(sa.select(sa.func.count()).select_from(tables["inspectors"]).where(tables["inspectors"].c.inspector_id == inspector_id)).scalar_one():
                raise NotFoundError(f"no inspector {inspector_id!r}")
            card = self._card_for(conn, scorecard_id, scorecard_version)
            eid = evaluation_id or f"E-{uuid.uuid4().hex[:12]}"
            answers = _canonical(card, answers)
            total = self._checked_total(conn, card, eid, contact_id, answers, complete=submit)
            status = "submitted" if submit else "draft"
            now = _now()
            conn.execute(tables["evaluations"].insert().values(
                evaluation_id=eid, contact_id=contact_id, agent_id=contact["agent_id"], inspector_id=inspector_id,
                scorecard_id=card.id, scorecard_version=card.version, evaluated_at=now, arm=arm, status=status,
                total_score=total, comment=comment, version=1,
            ))
            if answers:
                conn.execute(tables["evaluation_items"].insert(), [{"evaluation_id": eid, "item_id": k, "answer": v, "item_comment": comments.get(k)} for k, v in answers.items()])
            conn.execute(tables["evaluation_versions"].insert().values(
                evaluation_id=eid, version=1, action="create", status=status, total_score=total,
                answers=_answers_json(answers, comments), comment=comment, actor=inspector_id, at=now,
            ))
        return eid

    def _act(self, evaluation_id: str, action: str, actor: str, expected_version: int | None, *, answers: dict | None = None,
             comments: dict | None = None, comment=None, reason: str | None = None, disputed: dict | None = None,
             outcome: str | None = None) -> int:
        if not actor or not str(actor).strip():
            raise ParameterError(f"actor must name who acts (an inspector, agent or supervisor id); got {actor!r}")
        with self.engine.begin() as conn:
            head = self._evaluation_row(conn, evaluation_id, lock=True)
            _check_version(evaluation_id, int(head["version"] or 1), expected_version)  # a stale read is a conflict, before any other check
            status = next_status(head["status"] or "submitted", action)
            if action in AGENT_ACTIONS and actor != head["agent_id"]:
                raise TransitionError(f"only the evaluated agent ({head['agent_id']}) can {action} evaluation {evaluation_id}; got {actor!r}")
            items = tables["evaluation_items"]
            rows = conn.execute(sa.select(items).where(items.c.evaluation_id == evaluation_id)).mappings().all()
            cur_answers = {r["item_id"]: r["answer"] for r in rows}
            cur_comments = {r["item_id"]: r["item_comment"] for r in rows if r["item_comment"]}
            card = self._card_for(conn, head["scorecard_id"], head["scorecard_version"])
            new_answers = {**cur_answers, **_canonical(card, answers or {})}
            new_comments = {**cur_comments, **(comments or {})}
            complete = action != "save"
            total = head["total_score"]
            if action in ("save", "submit") or (action == "resolve" and outcome == "rescored"):
                total = self._checked_total(conn, card, evaluation_id, head["contact_id"], new_answers, complete=complete)
            if action == "dispute":
                unknown = [k for k in disputed if k not in card.item_ids]
                if unknown:
                    raise ParameterError(f"disputed items must be items of scorecard {card.id} v{card.version}; got {unknown}")
            version = self._write_version(conn, head, action, status, actor, expected_version, new_answers, new_comments,
                                          head["comment"] if comment is None else comment, total, reason)
            d = tables["evaluation_disputes"]
            if action == "dispute":
                conn.execute(d.insert(), [{"evaluation_id": evaluation_id, "item_id": k, "raised_version": version, "reason": v,
                                           "raised_by": actor, "raised_at": _now()} for k, v in disputed.items()])
            if action == "resolve":
                conn.execute(d.update().where(d.c.evaluation_id == evaluation_id, d.c.outcome.is_(None)).values(
                    outcome=outcome, resolved_by=actor, resolved_at=_now(), note=reason))
            return version

    def save_draft(self, evaluation_id: str, answers: dict, *, actor: str, expected_version: int | None = None,
                   comments: dict | None = None, comment: str | None = None) -> int:
        """Change a draft's answers (merged over the stored ones); return the new version."""
        return self._act(evaluation_id, "save", actor, expected_version, answers=answers, comments=comments, comment=comment)

    def submit(self, evaluation_id: str, *, actor: str, expected_version: int | None = None, answers: dict | None = None,
               comments: dict | None = None, comment: str | None = None) -> int:
        """Submit a draft, with last changes to its answers if given (one version, all or nothing).

        Every required item must then be answered."""
        return self._act(evaluation_id, "submit", actor, expected_version, answers=answers, comments=comments, comment=comment)

    def release(self, evaluation_id: str, *, actor: str, expected_version: int | None = None) -> int:
        """Release a submitted evaluation to the agent."""
        return self._act(evaluation_id, "release", actor, expected_version)

    def acknowledge(self, evaluation_id: str, *, agent_id: str, expected_version: int | None = None) -> int:
        """The agent acknowledges a released evaluation."""
        return self._act(evaluation_id, "acknowledge", agent_id, expected_version)

    def dispute(self, evaluation_id: str, items: dict[str, str], *, agent_id: str, expected_version: int | None = None) -> int:
        """The agent disputes items of a released evaluation: ``{item_id: reason}``."""
        if not isinstance(items, dict) or not items or not all(isinstance(v, str) and v.strip() for v in items.values()):
            raise ParameterError(f"items must map each disputed item id to the agent's reason; got {items!r}")
        return self._act(evaluation_id, "dispute", agent_id, expected_version, disputed=items, reason="; ".join(f"{k}: {v}" for k, v in items.items()))

    def resolve(self, evaluation_id: str, outcome: str, *, actor: str, note: str, answers: dict | None = None,
                expected_version: int | None = None) -> int:
        """Resolve a dispute: ``upheld`` (scores stand) or ``rescored`` with corrected ``answers``."""
        if outcome not in OUTCOMES:
            raise ParameterError(f"outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}")
        if not note or not str(note).strip():
            raise ParameterError("note must say why the dispute was upheld or rescored")
        if outcome == "rescored" and not answers:
            raise ParameterError("a rescored resolution needs the corrected answers")
        if outcome == "upheld" and answers:
            raise ParameterError("an upheld resolution keeps the answers: pass no answers, or use outcome='rescored'")
        return self._act(evaluation_id, "resolve", actor, expected_version, answers=answers, reason=note, outcome=outcome)

    # ---- writing ------------------------------------------------------------------
    def add_scorecard(self, source: str | os.PathLike) -> tuple[str, int, bool]:
        """Store a scorecard version from a YAML file or text.

        Returns ``(scorecard_id, version, inserted)``; storing the same text again is a
        no-op, a different text under a stored id and version is refused (versions are
        immutable: bump the version).
        """
        card = load_scorecard(source)
        sid, ver, text, name = card.id, card.version, card.text, card.label("en")
        t = tables["scorecards"]
        with self.engine.begin() as conn:
            old = conn.execute(sa.select(t.c.definition).where(t.c.scorecard_id == sid, t.c.version == ver)).scalar_one_or_none()
            if old is not None:
                if old == text:
                    return sid, ver, False
                raise ValidationError([Problem(str(source) if "\n" not in str(source) else "<scorecard>", 0, "version", f"scorecard {sid} version {ver} is already stored with a different definition; bump the version")], "scorecard")
            conn.execute(t.insert().values(scorecard_id=sid, version=ver, name=name, style=card.style, definition=text, created_at=datetime.now().replace(microsecond=0)))
        return sid, ver, True

    def scorecard(self, scorecard_id: str, version: int | None = None) -> Scorecard:
        """A stored scorecard version (newest when ``version`` is None), parsed."""
        with self.engine.connect() as conn:
            return self._card_for(conn, scorecard_id, version)

    def import_file(self, kind: str, path: str | os.PathLike, *, encoding: str | None = None) -> ImportResult:
        """Validate and import a CSV / Excel / Parquet file of ``kind`` (see ``qa import --help``).

        Raises :class:`ValidationError` listing every problem as ``file:row:column:
        message``; nothing is written then.
        """
        path = Path(path)
        df = ingest.read_table(path, encoding=encoding)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return self.import_frame(kind, df, source=path.name, sha256=digest)

    def import_frame(self, kind: str, df: pd.DataFrame, *, source: str = "<frame>", sha256: str = "") -> ImportResult:
        """Validate and import a raw DataFrame of import ``kind`` (all or nothing)."""
        frames = ingest.validate_kind(kind, df, source)
        result = ImportResult(kind, source, len(df))
        try:
            with self.engine.begin() as conn:
                problems: list[Problem] = []
                new: dict[str, pd.DataFrame] = {}
                for name, frame in frames.items():
                    problems += self._check_references(conn, name, frame, frames, source)
                if not problems:
                    problems += self._score_evaluations(conn, frames, source)
                for name, frame in frames.items():
                    fresh, conflicts = self._split_existing(conn, name, frame, source)
                    problems += conflicts
                    new[name] = fresh
                    result.inserted[name] = len(fresh)
                    result.skipped[name] = len(frame) - len(fresh)
                if problems:
                    raise ValidationError(problems, source)
                if "evaluation_items" in new:
                    new["evaluation_versions"] = _first_versions(new["evaluations"], frames["evaluation_items"])
                for name, fresh in new.items():
                    e = entity(name)
                    for i in range(0, len(fresh), _CHUNK):
                        conn.execute(tables[name].insert(), _records(fresh.iloc[i : i + _CHUNK], e))
                conn.execute(
                    imports_table.insert().values(
                        import_id=uuid.uuid4().hex, kind=kind, source=source[:500], sha256=sha256, rows=len(df),
                        inserted=sum(result.inserted.values()), skipped=sum(result.skipped.values()),
                        imported_at=datetime.now().replace(microsecond=0),
                    )
                )
        except sa.exc.IntegrityError as exc:  # a concurrent writer got there first
            raise StoreError(f"{source}: the database refused the rows, nothing was stored: {exc.orig}") from None
        return result

    def _existing(self, conn: Connection, table: str, column: str, values: np.ndarray) -> set:
        t = tables[table]
        found: set = set()
        vals = [v for v in pd.unique(values) if v is not None and not (isinstance(v, float) and np.isnan(v))]
        for i in range(0, len(vals), _CHUNK):
            found.update(conn.execute(sa.select(t.c[column]).where(t.c[column].in_(vals[i : i + _CHUNK]))).scalars())
        return found

    def _check_references(self, conn, name: str, frame: pd.DataFrame, frames: dict, source: str) -> list[Problem]:
        problems: list[Problem] = []
        for f in entity(name).fields:
            if not f.references:
                continue
            rtable, rcol = f.references.split(".")
            vals = frame[f.name]
            present = vals.notna().to_numpy()
            if not present.any():
                continue
            known = set(frames[rtable][rcol]) if rtable in frames else set()
            todo = vals[present & ~vals.isin(known).to_numpy()]
            known |= self._existing(conn, rtable, rcol, todo.to_numpy())
            bad = present & ~vals.isin(known).to_numpy()
            for row, v in zip(frame.loc[bad, ingest.ROW].to_numpy()[:200], vals[bad].to_numpy()):
                problems.append(Problem(source, int(row), f.name, f"unknown {rcol} {v!r} (not in {rtable})"))
        if name == "evaluations" and not problems:
            problems += self._check_evaluation_agents(conn, frame, source)
        return problems

    def _check_evaluation_agents(self, conn, frame: pd.DataFrame, source: str) -> list[Problem]:
        t = tables["contacts"]
        ids = list(pd.unique(frame["contact_id"]))
        agent_of: dict = {}
        for i in range(0, len(ids), _CHUNK):
            agent_of.update(conn.execute(sa.select(t.c.contact_id, t.c.agent_id).where(t.c.contact_id.in_(ids[i : i + _CHUNK]))).all())
        expected = frame["contact_id"].map(agent_of)
        bad = (expected.astype(object) != frame["agent_id"].astype(object)).to_numpy()
        return [
            Problem(source, int(r), "agent_id", f"contact {c!r} was handled by {e!r}, not {a!r}")
            for r, c, e, a in zip(frame.loc[bad, ingest.ROW], frame.loc[bad, "contact_id"], expected[bad], frame.loc[bad, "agent_id"])
        ][:200]

    def _contact_flags(self, conn, contact_ids) -> pd.DataFrame:
        c = tables["contacts"]
        ids = list(pd.unique(pd.Series(contact_ids)))
        parts = [
            pd.read_sql(sa.select(c.c.contact_id, c.c.transferred, c.c.escalated, c.c.abandoned, c.c.customer_opted_out).where(c.c.contact_id.in_(ids[i : i + _CHUNK])), conn)
            for i in range(0, len(ids), _CHUNK)
        ]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["contact_id"])

    def _score_evaluations(self, conn, frames: dict, source: str) -> list[Problem]:
        """Check each answer against its scorecard version, then store canonical answers and totals."""
        if "evaluation_items" not in frames:
            return []
        head, items = frames["evaluations"], frames["evaluation_items"]
        t = tables["scorecards"]
        flags = self._contact_flags(conn, head["contact_id"])
        context = head[["evaluation_id", "contact_id"]].merge(flags, on="contact_id", how="left")
        card_of = head.set_index("evaluation_id")[["scorecard_id", "scorecard_version"]]
        key = items["evaluation_id"].map(card_of["scorecard_id"]) + "\x00" + items["evaluation_id"].map(card_of["scorecard_version"]).astype(str)
        problems: list[Problem] = []
        totals = []
        for k, idx in items.groupby(key, sort=False).groups.items():
            sid, ver = k.split("\x00")
            text = conn.execute(sa.select(t.c.definition).where(t.c.scorecard_id == sid, t.c.version == int(ver))).scalar_one_or_none()
            part = items.loc[idx]
            if text is None:
                problems.append(Problem(source, int(part[ingest.ROW].min()), "scorecard_id", f"no scorecard {sid!r} version {ver} is stored"))
                continue
            card = _card_from_text(text)
            found = check_answers(card, part, source=source, context=context, rows=part[ingest.ROW])
            problems += found
            items.loc[idx, "answer"] = normalize_answers(card, part).to_numpy()
            totals.append(score(card, items.loc[idx], context=context).totals[["evaluation_id", "total"]])
        if not totals:
            return problems
        computed = pd.concat(totals).set_index("evaluation_id")["total"].reindex(head["evaluation_id"])
        # a total is only compared where the evaluation's answers had no problem
        bad_rows = {p.row for p in problems}
        bad_evals = set(items.loc[items[ingest.ROW].isin(bad_rows), "evaluation_id"])
        computed = computed.where(~computed.index.isin(bad_evals)).to_numpy()
        given = head["total_score"].to_numpy(dtype=float)
        differs = ~np.isnan(given) & ~np.isnan(computed) & ~np.isclose(given, computed, atol=0.05)
        for r, e, g, c in zip(head.loc[differs, ingest.ROW], head.loc[differs, "evaluation_id"], given[differs], computed[differs]):
            problems.append(Problem(source, int(r), "total_score", f"evaluation {e}: total_score {g:g} in the file, the scorecard gives {c:.2f}"))
        head["total_score"] = np.round(computed, 4)
        return problems

    def _split_existing(self, conn, name: str, frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[Problem]]:
        """Rows not yet stored, and a problem for each stored row whose values differ."""
        e = entity(name)
        first = e.key[0]
        stored_keys = self._existing(conn, name, first, frame[first].to_numpy())
        if not stored_keys:
            return frame, []
        t = tables[name]
        keys = list(stored_keys)
        parts = []
        for i in range(0, len(keys), _CHUNK):
            parts.append(pd.read_sql(sa.select(t).where(t.c[first].in_(keys[i : i + _CHUNK])), conn))
        stored = pd.concat(parts, ignore_index=True)
        key = list(e.key)
        mine = _canon(frame, e)
        theirs = _canon(stored, e).set_index(key)
        idx = pd.MultiIndex.from_frame(mine[key]) if len(key) > 1 else pd.Index(mine[key[0]])
        is_stored = idx.isin(theirs.index)
        if not is_stored.any():
            return frame, []
        problems = []
        other = theirs.reindex(idx[is_stored])
        mine_s = mine.loc[is_stored].set_index(key)
        diff = mine_s.ne(other)
        changed = diff.any(axis=1).to_numpy()
        rows = frame.loc[is_stored, ingest.ROW].to_numpy()[changed]
        for r, (k, drow) in zip(rows[:200], diff[changed].iterrows()):
            c = drow.index[drow.to_numpy()][0]
            label = "/".join(map(str, k if isinstance(k, tuple) else (k,)))
            problems.append(Problem(source, int(r), c, f"{label} is already stored with {c} = {other.loc[k, c]!r}, the file has {mine_s.loc[k, c]!r}"))
        return frame.loc[~is_stored], problems

    # ---- coaching actions (督办闭环) ----------------------------------------------------
    def add_coaching_action(self, agent_id: str, items, agreed_action: str, coach: str, *, created_on=None, due_on=None,
                            recheck_after_days: int = 3) -> str:
        """Record a coaching action agreed with an agent (status ``open``); return its id, ``CA`` + the next number.

        ``items`` (a list, or comma-separated text) must all be items of one stored scorecard;
        ``created_on`` defaults to today, ``due_on`` (optional) must not be before it, and the
        re-check comes ``recheck_after_days`` (0–365) days after ``created_on``. Checked first,
        written in one transaction: a refused action writes nothing.
        """
        from .coaching import split_items

        item_list = split_items(items)
        if not item_list:
            raise ParameterError(f"items must name at least one scorecard item (e.g. needs_analysis,confirmation); got {items!r}")
        for name, v in (("agreed_action", agreed_action), ("coach", coach)):
            if not isinstance(v, str) or not v.strip():
                raise ParameterError(f"{name} must be a non-empty text; got {v!r}")
        if not isinstance(recheck_after_days, (int, np.integer)) or isinstance(recheck_after_days, bool) or not 0 <= recheck_after_days <= 365:
            raise ParameterError(f"recheck_after_days must be a whole number from 0 to 365; got {recheck_after_days!r}")
        created = parse_date(created_on, "created_on").date() if created_on is not None else _now().date()
        due = parse_date(due_on, "due_on").date() if due_on is not None else None
        if due is not None and due < created:
            raise ParameterError(f"due_on must be on or after created_on ({created}); got {due_on!r}")
        t, a = tables["coaching_actions"], tables["agents"]
        for attempt in range(5):  # two people recording at the same moment may draw the same next id: the loser retries
            try:
                with self.engine.begin() as conn:
                    if conn.execute(sa.select(a.c.agent_id).where(a.c.agent_id == agent_id)).first() is None:
                        raise ParameterError(f"agent_id must be a stored agent; got {agent_id!r}")
                    cards = [_card_from_text(d) for d in conn.execute(sa.select(tables["scorecards"].c.definition)).scalars()]
                    if not any(set(item_list) <= set(c.item_ids) for c in cards):
                        known = sorted({i for c in cards for i in c.item_ids})
                        unknown = [i for i in item_list if i not in known]
                        what = f"unknown {unknown}" if unknown else f"{item_list} are not items of one scorecard"
                        raise ParameterError(f"items must be items of one stored scorecard ({', '.join(sorted({c.id for c in cards})) or 'none stored'}); {what}")
                    taken = conn.execute(sa.select(t.c.action_id).where(t.c.action_id.like("CA%"))).scalars().all()
                    nums = [int(x[2:]) for x in taken if x[2:].isdigit()]
                    action_id = f"CA{max(nums, default=0) + 1:04d}"
                    conn.execute(t.insert().values(
                        action_id=action_id, agent_id=agent_id, coach=coach.strip(), created_on=created, items=",".join(item_list),
                        agreed_action=agreed_action.strip(), due_on=due, recheck_after_days=int(recheck_after_days), status="open", closed_on=None,
                    ))
            except sa.exc.IntegrityError:
                if attempt == 4:
                    raise StoreError("could not record the coaching action: others kept taking the next action id; try again") from None
                continue
            break
        return action_id

    def close_coaching_action(self, action_id: str, *, status: str = "done", closed_on=None) -> None:
        """Close an open coaching action as ``done`` or ``cancelled`` on ``closed_on`` (default today)."""
        if status not in ("done", "cancelled"):
            raise ParameterError(f"status must be one of done, cancelled; got {status!r}")
        closed = parse_date(closed_on, "closed_on").date() if closed_on is not None else _now().date()
        t = tables["coaching_actions"]
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.c.status, t.c.created_on, t.c.closed_on).where(t.c.action_id == action_id)).mappings().one_or_none()
            if row is None:
                raise NotFoundError(f"no coaching action {action_id!r}")
            if row["status"] != "open":
                raise ParameterError(f"action_id {action_id!r} is already {row['status']}" + (f" (closed on {row['closed_on']})" if row["closed_on"] else "") + ": only open actions can be closed")
            if closed < row["created_on"]:
                raise ParameterError(f"closed_on must be on or after the action's created_on ({row['created_on']}); got {closed_on!r}")
            res = conn.execute(t.update().where(t.c.action_id == action_id, t.c.status == "open").values(status=status, closed_on=closed))
            if res.rowcount != 1:
                raise ConflictError(f"coaching action {action_id} was changed by someone else just now: reload it")


@functools.lru_cache(maxsize=64)
def _card_from_text(text: str) -> Scorecard:
    """Parsed scorecard of a stored definition (versions never change, so the parse is cached)."""
    return load_scorecard(text)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _check_version(evaluation_id: str, current: int, expected_version: int | None) -> None:
    """ConflictError naming the evaluation and both versions when the caller edited an older version."""
    if expected_version is not None and int(expected_version) != current:
        raise ConflictError(f"evaluation {evaluation_id} is at version {current}, you edited version {expected_version}: reload it and apply your change again")


def _answers_json(answers: dict, comments: dict) -> str:
    return json.dumps({k: [v, comments.get(k)] for k, v in answers.items()}, ensure_ascii=False, sort_keys=True)


def _canonical(card: Scorecard, answers: dict) -> dict:
    if not answers:
        return {}
    frame = pd.DataFrame({"evaluation_id": "_", "item_id": list(answers), "answer": [None if v is None else str(v) for v in answers.values()]})
    canon = normalize_answers(card, frame)
    return {k: v for k, v in zip(frame["item_id"], canon) if v is not None}


def _first_versions(head: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Version 1 of each imported evaluation, with its answers as JSON."""
    grouped: dict = {}
    for e, i, a, c in zip(items["evaluation_id"], items["item_id"], items["answer"], items["item_comment"]):
        grouped.setdefault(e, {})[i] = [a, c]
    return pd.DataFrame({
        "evaluation_id": head["evaluation_id"].to_numpy(),
        "version": 1,
        "action": "import",
        "status": head["status"].to_numpy(),
        "total_score": head["total_score"].to_numpy(dtype=float),
        "answers": [json.dumps(grouped.get(e, {}), ensure_ascii=False, sort_keys=True) for e in head["evaluation_id"]],
        "comment": head["comment"].to_numpy(),
        "actor": head["inspector_id"].to_numpy(),
        "at": head["evaluated_at"].to_numpy(),
        "reason": None,
    })


def _busy_ms() -> int:
    """How long a SQLite writer waits for another's lock: ``$QA_SQLITE_BUSY_SECONDS`` (default 30 s)."""
    raw = os.environ.get("QA_SQLITE_BUSY_SECONDS", "30")
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"QA_SQLITE_BUSY_SECONDS must be a number of seconds; got {raw!r}") from None
    return max(0, int(seconds * 1000))


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={_busy_ms()}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def busy_error(exc: BaseException) -> StoreError | None:
    """The error to show for ``exc`` when it is SQLite's lock held past the busy timeout, else None."""
    if isinstance(exc, sa.exc.OperationalError) and "database is locked" in str(exc):
        return StoreError("the database is busy: another import or scoring session held it longer than "
                          "QA_SQLITE_BUSY_SECONDS (default 30 s). Nothing was changed; try again in a moment.")
    return None


def load_samples(store: Store, folder: str | os.PathLike, progress=None) -> list[ImportResult]:
    """Load a samples folder (scorecards, then each file of ``SAMPLE_FILES``) into ``store``.

    ``progress`` is an optional callable taking a step name, called before each step.
    Loading the same folder twice stores nothing new the second time.
    """
    from .samples import SAMPLE_FILES

    folder = Path(folder)
    if not folder.is_dir():
        raise NotFoundError(f"samples folder {str(folder)!r} does not exist; run `qa samples` to generate it")
    step = progress or (lambda name: None)
    step("scorecards")
    for card in sorted((folder / "scorecards").glob("*.yaml")):
        store.add_scorecard(card)
    results = []
    for kind, name in SAMPLE_FILES:
        path = folder / name
        if not path.exists():
            raise NotFoundError(f"sample file {str(path)!r} is missing; run `qa samples --out {folder}` to regenerate the samples")
        step(kind)
        results.append(store.import_file(kind, path))
    return results


def remove_sqlite(path: str | os.PathLike) -> None:
    """Delete a SQLite database file with its WAL and shared-memory companions (to rebuild it)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{os.fspath(path)}{suffix}").unlink(missing_ok=True)


_SAMPLES_KEY = "built_from_samples"


def _fingerprint(store: Store) -> dict:
    """Row counts of every table plus a digest of the coaching actions' states (closing one changes no count)."""
    ca = tables["coaching_actions"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(ca.c.action_id, ca.c.status, ca.c.closed_on).order_by(ca.c.action_id)).all()
    digest = hashlib.sha256(json.dumps([[str(v) for v in r] for r in rows]).encode()).hexdigest()
    return {"counts": store.counts(), "coaching": digest}


def mark_built_from_samples(store: Store) -> None:
    """Record that ``store`` now holds exactly what was built from the samples (by ``qa demo`` or a first notebook run).

    :func:`work_since_samples` compares the database with this record, so ``qa demo`` can tell a
    sample database it may rebuild from one holding someone's work.
    """
    value = json.dumps({"at": _now().isoformat(timespec="seconds"), **_fingerprint(store)})
    with store.engine.begin() as conn:
        conn.execute(meta_table.delete().where(meta_table.c.key == _SAMPLES_KEY))
        conn.execute(meta_table.insert().values(key=_SAMPLES_KEY, value=value, updated_at=_now()))


def work_since_samples(store: Store) -> list[str]:
    """What ``store`` holds beyond a build from the samples, one line a table; empty when rebuilding loses nothing.

    Empty for a database with no QA schema or no rows. A database with rows that no sample build recorded
    (someone's own center) lists every table with rows; one built from the samples lists each table whose
    row count changed since (an evaluation scored, edited, released or disputed adds rows to
    ``evaluation_versions``; a plan, an import, a coaching action added or closed).
    """
    rev = store.revision()
    if rev is None:
        return []
    if rev != store.head():
        store.migrate()
    now = _fingerprint(store)
    if not any(now["counts"].values()):
        return []
    with store.engine.connect() as conn:
        raw = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == _SAMPLES_KEY)).scalar_one_or_none()
    if raw is None:
        return [f"{table}: {n:,} rows, not built from the samples" for table, n in now["counts"].items() if n]
    then = json.loads(raw)
    lines = [f"{table}: {n - then['counts'].get(table, 0):+,} rows since the samples were loaded on {then['at']}"
             for table, n in now["counts"].items() if n != then["counts"].get(table, 0)]
    if now["coaching"] != then["coaching"] and not any(line.startswith("coaching_actions:") for line in lines):
        lines.append(f"coaching_actions: changed since the samples were loaded on {then['at']}")
    return lines


def clear_database(store: Store) -> Store:
    """Remove every QA table of ``store`` (a SQLite file is deleted) and return a store on the emptied database.

    Only for rebuilding a database that :func:`work_since_samples` found holding nothing but the samples.
    """
    url = sa.engine.make_url(store.url)
    store.engine.dispose()
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        remove_sqlite(url.database)
        return Store(store.url)
    with store.engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    store.engine.dispose()
    return Store(store.url)


def open_store(url: str | os.PathLike | None = None, progress=None) -> Store:
    """A ready store for notebooks and reports.

    With a ``url`` (or ``$QA_DB_URL``): that database, which must be initialised. Without one: the
    default database ``data/qa.sqlite`` (the one ``qa demo``, ``qa status`` and every command use),
    built from ``data/samples`` first if it does not exist or is empty, upgraded if its schema is
    older — so a notebook's default parameters run as-is on a fresh clone.
    """
    from .config import samples_dir

    if url or os.environ.get("QA_DB_URL"):
        store = Store(url or None)
        store.check_ready()
        return store
    store = Store(None)
    rev = store.revision()
    if rev is not None and rev != store.head():
        store.migrate()
    if rev is not None and any(store.counts().values()):
        return store
    store.migrate()
    load_samples(store, samples_dir(), progress)
    mark_built_from_samples(store)
    return store
