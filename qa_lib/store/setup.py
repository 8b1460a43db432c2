"""Building and opening databases: the samples, the default database for notebooks, telling a sample database from someone's work."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from ..errors import NotFoundError, StoreError
from ..lifecycle import AGENT_ACTIONS, HISTORY_FILE, TRANSITIONS
from ..model import entity
from .core import Store
from .imports import ImportResult, _records
from .schema import _CHUNK, _now, imports_table, meta_table, metadata, tables


def busy_error(exc: BaseException) -> StoreError | None:
    """The error to show for ``exc`` when it is SQLite's lock held past the busy timeout, else None."""
    if isinstance(exc, sa.exc.OperationalError) and "database is locked" in str(exc):
        return StoreError("the database is busy: another import or scoring session held it longer than "
                          "QA_SQLITE_BUSY_SECONDS (default 30 s). Nothing was changed; try again in a moment.")
    return None


def load_samples(store: Store, folder: str | os.PathLike, progress=None) -> list[ImportResult]:
    """Load a samples folder (scorecards, then each file of ``SAMPLE_FILES``, then the lifecycle actions of
    :data:`qa_lib.lifecycle.HISTORY_FILE` if the folder has it) into ``store``.

    ``progress`` is an optional callable taking a step name, called before each step.
    Loading the same folder twice stores nothing new the second time.
    """
    from ..model import SAMPLE_FILES

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
        done = _imported_before(store, kind, path) if kind == "evaluations" and (folder / HISTORY_FILE).exists() else None
        results.append(done or store.import_file(kind, path))
    if (folder / HISTORY_FILE).exists():
        step("lifecycle")
        apply_sample_history(store, pd.read_csv(folder / HISTORY_FILE, dtype=str, keep_default_na=False))
    return results


def _imported_before(store: Store, kind: str, path: Path) -> ImportResult | None:
    """The result of importing ``path`` again when the same file (by its SHA-256) was imported before, else None: its
    evaluations have moved on through the lifecycle since, and the file's starting statuses are not news."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(imports_table.c.rows).where(imports_table.c.kind == kind, imports_table.c.sha256 == digest).limit(1)).scalar_one_or_none()
    return None if rows is None else ImportResult(kind, path.name, int(rows), {"evaluation_items": 0}, {"evaluation_items": int(rows)})


def apply_sample_history(store: Store, history: pd.DataFrame) -> int:
    """Apply the samples' lifecycle actions (``evaluation_id, action, actor, at, item_id, reason, outcome``, in order) to
    their evaluations, in bulk and in one transaction; return the versions added.

    Each action is a version, as :meth:`Store.release` and the other lifecycle methods write it (the same answers, a new
    status), checked against :data:`qa_lib.lifecycle.TRANSITIONS`; an agent's action must be the evaluated agent's; a
    dispute names its item and is stored with its resolution. Only evaluations still at their imported version 1 are
    touched, so applying the same history twice changes nothing. For the generated samples only: one action at a time,
    with the version the caller read, goes through the lifecycle methods.
    """
    h = history.replace("", None)
    e, v = tables["evaluations"], tables["evaluation_versions"]
    ids = list(pd.unique(h["evaluation_id"]))
    with store.engine.begin() as conn:
        head = _read_chunks(conn, sa.select(e.c.evaluation_id, e.c.agent_id, e.c.status, e.c.total_score, e.c.comment).where(e.c.version == 1), e.c.evaluation_id, ids)
        first = _read_chunks(conn, sa.select(v.c.evaluation_id, v.c.answers).where(v.c.version == 1), v.c.evaluation_id, ids)
        h = h[h["evaluation_id"].isin(set(head["evaluation_id"]))].reset_index(drop=True)
        if h.empty:
            return 0
        versions = _history_versions(h, head.merge(first, on="evaluation_id"))
        for i in range(0, len(versions), _CHUNK):
            conn.execute(v.insert(), _records(versions.iloc[i : i + _CHUNK], entity("evaluation_versions")))
        final = versions.drop_duplicates("evaluation_id", keep="last")
        for (status, version), part in final.groupby(["status", "version"]):
            for i in range(0, len(part), _CHUNK):
                conn.execute(e.update().where(e.c.evaluation_id.in_(part["evaluation_id"].iloc[i : i + _CHUNK].tolist())).values(status=status, version=int(version)))
        disputes = _history_disputes(versions)
        if len(disputes):
            conn.execute(tables["evaluation_disputes"].insert(), _records(disputes, entity("evaluation_disputes")))
    return len(versions)


def _read_chunks(conn, query, column, values: list) -> pd.DataFrame:
    """``query`` for the rows whose ``column`` is one of ``values``, in chunks."""
    parts = [pd.read_sql(query.where(column.in_(values[i : i + _CHUNK])), conn) for i in range(0, max(len(values), 1), _CHUNK)]
    return pd.concat(parts, ignore_index=True)


def _history_versions(h: pd.DataFrame, head: pd.DataFrame) -> pd.DataFrame:
    """The version each action of ``h`` adds (status after it, the evaluation's answers, score and comment); a
    :class:`StoreError` naming the first action the lifecycle does not allow."""
    h = h.assign(version=h.groupby("evaluation_id").cumcount() + 2, at=pd.to_datetime(h["at"]))
    current = head.set_index("evaluation_id")["status"].fillna("submitted").to_dict()
    agent = h["evaluation_id"].map(head.set_index("evaluation_id")["agent_id"])
    status = pd.Series(None, index=h.index, dtype=object)
    for k in sorted(h["version"].unique()):
        rows = h.index[h["version"] == k]
        before = h.loc[rows, "evaluation_id"].map(current)
        after = pd.Series(list(zip(before, h.loc[rows, "action"])), index=rows).map(TRANSITIONS)
        wrong = after.isna() | (h.loc[rows, "action"].isin(AGENT_ACTIONS) & (h.loc[rows, "actor"] != agent[rows]))
        if wrong.any():
            r = h.loc[wrong[wrong].index[0]]
            raise StoreError(f"sample history: cannot {r['action']} evaluation {r['evaluation_id']} (status {current.get(r['evaluation_id'])}) as {r['actor']}")
        status[rows] = after
        current.update(zip(h.loc[rows, "evaluation_id"], after))
    out = h.assign(status=status).merge(head.drop(columns=["status", "agent_id"]), on="evaluation_id", how="left")
    return out[["evaluation_id", "version", "action", "status", "total_score", "answers", "comment", "actor", "at", "reason", "item_id", "outcome"]]


def _history_disputes(versions: pd.DataFrame) -> pd.DataFrame:
    """Each dispute of the history (its item, reason, agent and version) with the resolution that followed it, if any."""
    raised = versions[versions["action"] == "dispute"]
    resolved = versions.loc[versions["action"] == "resolve", ["evaluation_id", "version", "actor", "at", "reason", "outcome"]]
    d = raised.merge(resolved, on="evaluation_id", how="left", suffixes=("", "_r"))
    d = d[d["version_r"].isna() | (d["version_r"] > d["version"])].sort_values("version_r").drop_duplicates(["evaluation_id", "version"])
    return pd.DataFrame({"evaluation_id": d["evaluation_id"], "item_id": d["item_id"], "raised_version": d["version"], "reason": d["reason"],
                         "raised_by": d["actor"], "raised_at": d["at"], "outcome": d["outcome_r"], "resolved_by": d["actor_r"],
                         "resolved_at": pd.to_datetime(d["at_r"]), "note": d["reason_r"]}).reset_index(drop=True)


def remove_sqlite(path: str | os.PathLike) -> None:
    """Delete a SQLite database file with its WAL and shared-memory companions (to rebuild it)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{os.fspath(path)}{suffix}").unlink(missing_ok=True)


_SAMPLES_KEY = "built_from_samples"


#: Tables whose rows carry no one's work: the import log (a re-import of the same file adds a row, stores nothing).
_NOT_WORK = ("imports",)


def _fingerprint(store: Store) -> dict:
    """Row counts of every table (but the import log) plus a digest of the coaching actions' states (closing one
    changes no count)."""
    ca = tables["coaching_actions"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(ca.c.action_id, ca.c.status, ca.c.closed_on).order_by(ca.c.action_id)).all()
    digest = hashlib.sha256(json.dumps([[str(v) for v in r] for r in rows]).encode()).hexdigest()
    counts = {t: n for t, n in store.counts().items() if t not in _NOT_WORK}
    return {"counts": counts, "coaching": digest}


def _rows_per_table(store: Store) -> dict[str, int]:
    """Rows in every table the database has (QA's or not), without changing anything."""
    with store.engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        md = sa.MetaData()
        return {n: conn.execute(sa.select(sa.func.count()).select_from(sa.Table(n, md))).scalar_one()
                for n in names if n not in ("alembic_version", *_NOT_WORK)}


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

    Empty for an empty database, or one at the current schema with no rows. Nothing is changed (no migration).
    Listed: every table of a database without the QA schema (another application's: never ours to drop) or at
    an older one; every table with rows when no sample build was recorded (someone's own center); and, for a
    database built from the samples, each table whose row count changed since (an evaluation scored, edited,
    released or disputed adds rows to ``evaluation_versions``; a plan, imported data, a coaching action added or
    closed). The import log does not count: importing the same file again stores nothing.
    """
    rev = store.revision()
    if rev != store.head():  # no QA schema, an older one, or another application's: look, change nothing
        found = _rows_per_table(store)
        what = "not a QA table" if rev is None else f"schema {rev}, not built by this version's `qa demo`"
        return [f"{table}: {n:,} rows ({what})" for table, n in found.items() if n or rev is None]
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
    from ..config import samples_dir
    from ..config import settings as center_settings

    if url or center_settings().db_from_env:
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
