"""Opening a database, its schema revision, and reading: tables, months, scored evaluations, calibration data."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..config import database_url
from ..errors import NotFoundError, ParameterError, StoreError
from ..lifecycle import statuses
from ..rubric import Scorecard
from .schema import _sqlite_pragmas, tables


class _Database:
    """Connection, schema and reading (the base of :class:`qa_lib.store.Store`)."""

    def __init__(self, url: str | os.PathLike | None = None):
        self.url = database_url(url)
        try:
            self.engine: Engine = sa.create_engine(self.url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database URL {self._safe_url()!r}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
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

        sqlite = self.engine.dialect.name == "sqlite"
        try:
            with self.engine.connect() as conn:
                if sqlite:  # SQLite alters a column by copying its table: referencing rows must not block the copy
                    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                    conn.commit()
                try:
                    with conn.begin():
                        command.upgrade(self._alembic(conn), "head")
                        if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                            raise StoreError(f"upgrading {self._safe_url()} would leave rows pointing at nothing; nothing was changed")
                finally:
                    if sqlite:
                        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                        conn.commit()
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

        Evaluations (and their items) belong to the month of the contact they score. This reads them whatever their
        status, drafts included: reports and scores read evaluations through :meth:`evaluations`, which applies
        what each audience counts and sees.
        """
        p = pd.Period(month, freq="M")
        lo, hi = p.start_time.to_pydatetime(), (p + 1).start_time.to_pydatetime()
        if table in ("evaluations", "evaluation_items"):
            return self.read(table, tables[table].c.evaluation_id.in_(self._month_evaluation_ids(p)))
        if table not in self._MONTH_COLUMN:
            raise ParameterError(f"table must be one of {sorted(self._MONTH_COLUMN) + ['evaluation_items', 'evaluations']}; got {table!r}")
        col = tables[table].c[self._MONTH_COLUMN[table]]
        if table in ("info_checks", "coaching_actions"):
            lo, hi = lo.date(), hi.date()
        return self.read(table, (col >= lo) & (col < hi))

    def _month_evaluation_ids(self, month) -> sa.Select:
        """The ids of the evaluations of ``month``'s contacts (a subquery)."""
        p = pd.Period(month, freq="M")
        c, e = tables["contacts"], tables["evaluations"]
        lo, hi = p.start_time.to_pydatetime(), (p + 1).start_time.to_pydatetime()
        return sa.select(e.c.evaluation_id).join(c, c.c.contact_id == e.c.contact_id).where(c.c.start_time >= lo, c.c.start_time < hi)

    def _audience_filter(self, audience: str) -> sa.ColumnElement:
        """The evaluations ``audience`` counts and sees (:func:`qa_lib.lifecycle.statuses`); an empty status is ``submitted``."""
        e = tables["evaluations"]
        allowed = statuses(audience)
        where = e.c.status.in_(allowed)
        return (where | e.c.status.is_(None)) if "submitted" in allowed else where

    def evaluations(self, month=None, *, audience: str = "team", where: sa.ColumnElement | None = None,
                    columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Evaluation headers ``audience`` may count and see: the one way reports and scores read evaluations.

        ``audience``: ``team`` (default; every status from ``submitted`` on, for team, manager and KPI
        pages, scores, training, cases, calibration, sampling history), ``agent`` (``released`` and
        after: an agent's own page) or ``inspector`` (drafts too: the scoring workbench, releasing,
        not drawing a contact someone is scoring). Drafts never reach ``team`` or ``agent``.
        ``month``: only the evaluations of that month's contacts; ``where``: a further SQLAlchemy
        condition on the evaluations table; ``columns``: only these columns.
        """
        e = tables["evaluations"]
        cond = self._audience_filter(audience)
        if month is not None:
            cond = cond & e.c.evaluation_id.in_(self._month_evaluation_ids(month))
        if where is not None:
            cond = cond & where
        return self.read("evaluations", cond, columns)

    def evaluation_items(self, month=None, *, audience: str = "team") -> pd.DataFrame:
        """The item answers of the evaluations :meth:`evaluations` gives ``audience`` (of ``month``'s contacts, or all)."""
        e = tables["evaluations"]
        ids = sa.select(e.c.evaluation_id).where(self._audience_filter(audience))
        if month is not None:
            ids = ids.where(e.c.evaluation_id.in_(self._month_evaluation_ids(month)))
        return self.read("evaluation_items", tables["evaluation_items"].c.evaluation_id.in_(ids))

    def evaluations_state(self, month) -> str:
        """A fingerprint of ``month``'s evaluations: their number and the sum of their versions. Every lifecycle action
        adds a version, so it changes when an evaluation is added, submitted, released, disputed…"""
        e = tables["evaluations"]
        q = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(e.c.version), 0)).where(e.c.evaluation_id.in_(self._month_evaluation_ids(month)))
        with self.engine.connect() as conn:
            n, versions = conn.execute(q).one()
        return f"{int(n)}:{int(versions)}"

    def awaiting_release(self, month) -> pd.DataFrame:
        """Per agent, how many of ``month``'s evaluations count but are not yet released to them (``agent_id``,
        ``arm``, ``awaiting``): a count for the agent's page, never their content."""
        e = tables["evaluations"]
        hidden = self._audience_filter("team") & ~self._audience_filter("agent") & e.c.evaluation_id.in_(self._month_evaluation_ids(month))
        q = sa.select(e.c.agent_id, e.c.arm, sa.func.count().label("awaiting")).where(hidden).group_by(e.c.agent_id, e.c.arm)
        with self.engine.connect() as conn:
            out = pd.read_sql(q, conn)
        return out.astype({"awaiting": int}).sort_values(["agent_id", "arm"], ignore_index=True)

    def latest_month(self) -> pd.Period:
        """The newest calendar month with contacts."""
        c = tables["contacts"]
        with self.engine.connect() as conn:
            last = conn.execute(sa.select(sa.func.max(c.c.start_time))).scalar_one()
        if last is None:
            raise NotFoundError("the database holds no contacts yet: run `qa init` or `qa import contacts FILE`")
        return pd.Timestamp(last).to_period("M")


    def scored_evaluations(self, scorecard_id: str, *, month=None, arms: tuple[str, ...] = ("random",)) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Current counted evaluations of a scorecard (no drafts; optionally one month, by default the random arm only).

        Returns ``(evaluations, answers, context)``: headers, long answers, and the contacts'
        flags per evaluation — the inputs of :func:`qa_lib.rubric.rescore`.
        """
        e = tables["evaluations"]
        where = (e.c.scorecard_id == scorecard_id) & e.c.arm.in_(list(arms))
        head = self.evaluations(month, where=where)
        where = where & self._audience_filter("team")
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

    def evaluated_answers(self, agent_ids=None) -> pd.DataFrame:
        """Every counted (non-draft) evaluation's item answers (of ``agent_ids``, or all agents), with the contact's start
        time (``handled_at``) and the re-check reason a saved plan gave the contact (``recheck:<action>``, else "")."""
        e = tables["evaluations"]
        where = self._audience_filter("team")
        if agent_ids is not None:
            where = where & e.c.agent_id.in_(sorted(set(agent_ids)))
        head = self.evaluations(where=where, columns=["evaluation_id", "contact_id", "agent_id", "arm"])
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

    def transcripts(self, contact_ids: Iterable[str]) -> dict[str, str]:
        """The stored transcripts of ``contact_ids`` (contact id → text, as stored: not masked); contacts without one are left out."""
        ids = sorted({str(c) for c in contact_ids})
        if not ids:
            return {}
        c = tables["contacts"].c
        got = self.read("contacts", c.contact_id.in_(ids) & c.transcript.isnot(None), columns=["contact_id", "transcript"])
        return {k: v for k, v in zip(got["contact_id"], got["transcript"]) if isinstance(v, str) and v.strip()}

    def calibration_data(self, session_id: str | None = None, month=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Calibration evaluations (one session, a month's sessions, or all; no drafts), their item answers, and the sessions."""
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
        ev = self.evaluations(where=e.c.calibration_session_id.in_(sessions["session_id"].tolist()))
        items = tables["evaluation_items"]
        it = self.read("evaluation_items", items.c.evaluation_id.in_(ev["evaluation_id"].tolist())) if len(ev) else pd.DataFrame(columns=["evaluation_id", "item_id", "answer"])
        return ev, it, sessions.reset_index(drop=True)
