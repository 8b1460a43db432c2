"""Imports, all or nothing: files and frames validated in full, checked against the database, written in one transaction; scorecards. (Scoring sheets: :mod:`.evaluations`.)"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import ingest
from ..config import settings
from ..errors import Problem, StoreError, ValidationError
from ..model import Entity, entity
from ..rubric import Scorecard, check_answers, load_scorecard, normalize_answers, score
from .schema import _CHUNK, imports_table, tables


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


class _Imports:
    """File and frame imports and scorecards (part of :class:`qa_lib.store.Store`)."""

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
        df = ingest.read_table(path, encoding=encoding, limits=settings())
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return self.import_frame(kind, df, source=path.name, sha256=digest)

    def import_frame(self, kind: str, df: pd.DataFrame, *, source: str = "<frame>", sha256: str = "",
                     exported_arm: str | None = None) -> ImportResult:
        """Validate and import a raw DataFrame of import ``kind`` (all or nothing).

        Evaluations obey the rules of :meth:`create_evaluation` (:func:`qa_lib.store.evaluations.evaluation_rules`);
        ``exported_arm`` is the arm a scoring sheet's contacts in no saved plan must have (None: any).
        """
        frames = ingest.validate_kind(kind, df, source, settings().timezone)
        try:
            with self.engine.begin() as conn:
                return self._import_frames(conn, kind, frames, ImportResult(kind, source, len(df)), sha256=sha256, exported_arm=exported_arm)
        except sa.exc.IntegrityError as exc:  # a concurrent writer got there first
            raise StoreError(f"{source}: the database refused the rows, nothing was stored: {exc.orig}") from None

    def _import_frames(self, conn, kind: str, frames: dict, result: ImportResult, *, sha256: str = "", exported_arm: str | None = None,
                       problems: list[Problem] | None = None) -> ImportResult:
        """Check validated ``frames`` against the database and write them in the caller's transaction, all or none;
        ``problems`` found before by the caller are raised with the ones found here."""
        source, problems = result.source, list(problems or [])
        new: dict[str, pd.DataFrame] = {}
        for name, frame in frames.items():
            problems += self._check_references(conn, name, frame, frames, source)
        if not problems and "evaluations" in frames:  # references known: the lifecycle's rules, then the answers
            problems += self._lifecycle_problems(conn, frames["evaluations"], source, exported_arm=exported_arm)
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
                import_id=uuid.uuid4().hex, kind=kind, source=source[:500], sha256=sha256, rows=result.rows,
                inserted=sum(result.inserted.values()), skipped=sum(result.skipped.values()),
                imported_at=datetime.now().replace(microsecond=0),
            )
        )
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
            rows = frame.loc[bad, ingest.ROW].to_numpy()
            for row, v in zip(rows[:200], vals[bad].to_numpy()):
                problems.append(Problem(source, int(row), f.name, f"unknown {rcol} {v!r} (not in {rtable})"))
            if len(rows) > 200:  # the true total, in one line
                problems.append(Problem(source, int(rows[200]), f.name, f"unknown {rcol} (not in {rtable}): {len(rows) - 200:,} more rows, "
                                        "not listed one by one", count=len(rows) - 200))
        return problems

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
        if "evaluation_items" not in frames or frames["evaluation_items"].empty:
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
        if len(rows) > 200:
            problems.append(Problem(source, int(rows[200]), "", f"already stored with other values: {len(rows) - 200:,} more rows, not listed "
                                    "one by one", count=len(rows) - 200))
        return frame.loc[~is_stored], problems


@functools.lru_cache(maxsize=64)
def _card_from_text(text: str) -> Scorecard:
    """Parsed scorecard of a stored definition (versions never change, so the parse is cached)."""
    return load_scorecard(text)


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
