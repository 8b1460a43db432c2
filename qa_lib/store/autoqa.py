"""Auto-QA in the database: automatic answers, reviews of rule hits, the acceptance gate's decisions (issue #19)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import NotFoundError, ParameterError, Problem, ValidationError
from ..model import entity
from .schema import _CHUNK, _now, tables

SOURCES = ("rule", "model")
ANSWERS = ("yes", "partial", "no", "na")
#: The contact columns auto-QA reads with a transcript: the rules' contact conditions and the items' ``when`` flags.
CONTACT_COLUMNS = ("contact_id", "start_time", "agent_id", "channel", "direction", "contact_type", "talk_seconds", "hold_seconds",
                   "transferred", "escalated", "transcript", "transcript_lang")


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


class _AutoQA:
    """Automatic answers, rule-hit reviews and gate decisions (part of :class:`qa_lib.store.Store`)."""

    # ---- transcripts to score -----------------------------------------------------------------------------
    def transcript_contacts(self, month=None, *, contact_ids: Iterable[str] | None = None, chunk: int = 20_000,
                            text: bool = True) -> Iterator[pd.DataFrame]:
        """The contacts with a transcript (of ``month``, or of ``contact_ids``), ``chunk`` at a time, in contact-id order,
        with the columns :data:`CONTACT_COLUMNS`: what the rules and the learned scorer read. Memory stays bounded by
        ``chunk`` whatever the month's size. ``text=False`` leaves out the transcript itself (for counting and
        weighting the calls that have one)."""
        if not isinstance(chunk, int | np.integer) or chunk < 1:
            raise ParameterError(f"chunk must be a positive integer; got {chunk!r}")
        if not isinstance(text, bool):
            raise ParameterError(f"text must be True or False; got {text!r}")
        c = tables["contacts"]
        where = c.c.transcript.is_not(None)
        if month is not None:
            p = pd.Period(month, freq="M")
            where &= (c.c.start_time >= p.start_time.to_pydatetime()) & (c.c.start_time < (p + 1).start_time.to_pydatetime())
        if contact_ids is not None:
            ids = sorted({str(x) for x in contact_ids})
            if not ids:
                return
            where &= c.c.contact_id.in_(ids)
        after = None
        cols = [c.c[name] for name in CONTACT_COLUMNS if text or name != "transcript"]
        with self.engine.connect() as conn:
            while True:
                q = sa.select(*cols).where(where if after is None else where & (c.c.contact_id > after)).order_by(c.c.contact_id).limit(int(chunk))
                df = pd.read_sql(q, conn)
                if df.empty:
                    return
                after = df["contact_id"].iloc[-1]
                yield df
                if len(df) < chunk:
                    return

    # ---- automatic answers --------------------------------------------------------------------------------
    def save_auto_answers(self, answers: pd.DataFrame, *, scorecard_id: str) -> int:
        """Store automatic answers of ``scorecard_id`` (the frame of :mod:`qa_lib.autoqa`: ``contact_id, item_id, source,
        answer, probability, rule_id, evidence, turn, version``). A contact × item × source answered again replaces its
        earlier answer (re-running a month is idempotent). Checked in full first: nothing is written when a row is bad.
        Returns the rows written."""
        need = ["contact_id", "item_id", "source", "answer", "version"]
        missing = [c for c in need if c not in answers.columns]
        if missing:
            raise ParameterError(f"answers must have the columns {need}; missing {missing}")
        df = answers.copy()
        for col in ("probability", "rule_id", "evidence", "turn"):
            if col not in df.columns:
                df[col] = None
        df["scorecard_id"] = str(scorecard_id)
        problems: list[Problem] = []
        bad_source = ~df["source"].isin(SOURCES)
        if bad_source.any():
            problems.append(Problem("<auto answers>", 0, "source", f"must be one of {', '.join(SOURCES)}; got {sorted(set(df.loc[bad_source, 'source'].astype(str)))[:5]}"))
        bad_answer = df["answer"].notna() & ~df["answer"].isin(ANSWERS)
        if bad_answer.any():
            problems.append(Problem("<auto answers>", 0, "answer", f"must be one of {', '.join(ANSWERS)} or empty; got {sorted(set(df.loc[bad_answer, 'answer'].astype(str)))[:5]}"))
        prob = pd.to_numeric(df["probability"], errors="coerce")
        if ((prob < 0) | (prob > 1)).any():
            problems.append(Problem("<auto answers>", 0, "probability", "must be between 0 and 1"))
        if df.duplicated(["contact_id", "item_id", "source"]).any():
            problems.append(Problem("<auto answers>", 0, "contact_id", "a contact × item × source appears twice"))
        if problems:
            raise ValidationError(problems)
        if df.empty:
            return 0
        self._refuse_unknown(df["contact_id"], "contacts", "contact_id", "<auto answers>")
        df["probability"] = prob.astype(float)
        df["turn"] = pd.to_numeric(df["turn"], errors="coerce").astype("Int64")
        df["scored_at"] = _now()
        cols = entity("auto_answers").columns
        rows = df[cols]
        t = tables["auto_answers"]
        with self.engine.begin() as conn:
            for source in rows["source"].unique():
                sub = rows[rows["source"] == source]
                sids = sorted(set(sub["contact_id"]))
                for i in range(0, len(sids), _CHUNK):
                    conn.execute(t.delete().where((t.c.scorecard_id == str(scorecard_id)) & (t.c.source == source) & t.c.contact_id.in_(sids[i:i + _CHUNK])))
            recs = _records(rows)
            for r in recs:
                if r["turn"] is not None:
                    r["turn"] = int(r["turn"])
            for i in range(0, len(recs), _CHUNK):
                conn.execute(t.insert(), recs[i:i + _CHUNK])
        return len(rows)

    def _refuse_unknown(self, values: pd.Series, table: str, col: str, source: str) -> None:
        """Raise a located ValidationError naming ids of ``values`` not stored in ``table.col`` (looked up in slices)."""
        ids = sorted(set(values.astype(str)))
        with self.engine.connect() as conn:
            known = self._existing(conn, table, col, np.asarray(ids, dtype=object))
        unknown = [x for x in ids if x not in known]
        if unknown:
            raise ValidationError([Problem(source, 0, col, f"{len(unknown)} unknown {col}(s), e.g. {unknown[:3]}")])

    def auto_answers(self, *, scorecard_id: str | None = None, month=None, contact_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Stored automatic answers (of a scorecard, ``month``'s contacts, or ``contact_ids``), each with ``accepted``: the
        acceptance gate's latest decision for that item, source and version says accepted and not drifted."""
        t = tables["auto_answers"]
        where = sa.true()
        if scorecard_id is not None:
            where &= t.c.scorecard_id == str(scorecard_id)
        if month is not None:
            p = pd.Period(month, freq="M")
            c = tables["contacts"]
            where &= t.c.contact_id.in_(sa.select(c.c.contact_id).where((c.c.start_time >= p.start_time.to_pydatetime()) & (c.c.start_time < (p + 1).start_time.to_pydatetime())))
        if contact_ids is not None:  # read in slices: a long IN list would pass the databases' bound-parameter limits
            ids = sorted({str(x) for x in contact_ids})
            parts = [self.read("auto_answers", where & t.c.contact_id.in_(ids[i:i + _CHUNK])) for i in range(0, len(ids), _CHUNK)]
            out = pd.concat(parts, ignore_index=True) if parts else self.read("auto_answers", sa.false())
        else:
            out = self.read("auto_answers", where)
        gate = self.gate_decisions(scorecard_id=scorecard_id)
        if gate.empty:
            out["accepted"] = False
            return out
        ok = gate.assign(accepted=gate["accepted"].astype(bool) & ~gate["drifted"].fillna(False).astype(bool))
        ok = ok[["scorecard_id", "item_id", "source", "version", "accepted"]]
        out = out.merge(ok, on=["scorecard_id", "item_id", "source", "version"], how="left")
        out["accepted"] = out["accepted"].fillna(False).astype(bool)
        return out

    def has_auto_answers(self, month) -> bool:
        """Whether any of ``month``'s contacts has an automatic answer (the count in :meth:`auto_answers_state`)."""
        return not self.auto_answers_state(month).startswith("0:")

    def auto_answers_state(self, month) -> str:
        """A fingerprint of ``month``'s automatic answers and of the gate's decisions (their number and newest time): it
        changes when `qa autoqa run` or `validate` ran, so pages showing them are prepared again."""
        t, g, c = tables["auto_answers"], tables["autoqa_gate"], tables["contacts"]
        p = pd.Period(month, freq="M")
        ids = sa.select(c.c.contact_id).where((c.c.start_time >= p.start_time.to_pydatetime()) & (c.c.start_time < (p + 1).start_time.to_pydatetime()))
        with self.engine.connect() as conn:
            n, last = conn.execute(sa.select(sa.func.count(), sa.func.max(t.c.scored_at)).where(t.c.contact_id.in_(ids))).one()
            m, glast, drifted = conn.execute(sa.select(sa.func.count(), sa.func.max(g.c.validated_at),
                                                       sa.func.count().filter(g.c.drifted.is_(True)))).one()
        return f"{int(n)}:{last}:{int(m)}:{glast}:{int(drifted)}"

    # ---- reviews of rule hits -----------------------------------------------------------------------------
    def save_rule_reviews(self, reviews: pd.DataFrame) -> int:
        """Store inspectors' reviews of rule hits (``contact_id, scorecard_id, item_id, rule_id, verdict, inspector_id``,
        optional ``reviewed_at``, ``note``). The review id hashes the hit and the reviewer: the same review again is stored
        once. Returns the new reviews."""
        need = ["contact_id", "scorecard_id", "item_id", "rule_id", "verdict", "inspector_id"]
        missing = [c for c in need if c not in reviews.columns]
        if missing:
            raise ParameterError(f"reviews must have the columns {need}; missing {missing}")
        df = reviews.copy()
        aliases = {a.lower(): k for k, al in entity("rule_reviews").field("verdict").choices.items() for a in (k, *al)}
        verdict = df["verdict"].astype(str).str.strip().str.lower().map(aliases)
        if verdict.isna().any():
            bad = sorted(set(df.loc[verdict.isna(), "verdict"].astype(str)))[:5]
            raise ValidationError([Problem("<rule reviews>", 0, "verdict", f"must be confirmed/确认 or rejected/驳回; got {bad}")])
        df["verdict"] = verdict
        for table, col in (("contacts", "contact_id"), ("inspectors", "inspector_id")):
            self._refuse_unknown(df[col], table, col, "<rule reviews>")
        df["reviewed_at"] = pd.to_datetime(df["reviewed_at"]) if "reviewed_at" in df.columns else pd.Timestamp(_now())
        df["note"] = df["note"] if "note" in df.columns else None
        key = df[["contact_id", "scorecard_id", "item_id", "rule_id", "inspector_id"]].astype(str).agg("|".join, axis=1)
        df["review_id"] = "R" + key.map(lambda k: hashlib.sha256(k.encode()).hexdigest()[:16])
        df = df.drop_duplicates("review_id", keep="last")
        t = tables["rule_reviews"]
        with self.engine.begin() as conn:
            have = self._existing(conn, "rule_reviews", "review_id", df["review_id"].to_numpy())
            new = df[~df["review_id"].isin(have)][entity("rule_reviews").columns]
            recs = _records(new)
            for i in range(0, len(recs), _CHUNK):
                conn.execute(t.insert(), recs[i:i + _CHUNK])
        return len(new)

    def rule_reviews(self, scorecard_id: str | None = None) -> pd.DataFrame:
        """Every stored review of a rule hit (of one scorecard, or all)."""
        t = tables["rule_reviews"]
        return self.read("rule_reviews", None if scorecard_id is None else t.c.scorecard_id == str(scorecard_id))

    # ---- the acceptance gate ----------------------------------------------------------------------------
    def save_gate(self, decisions: pd.DataFrame, *, scorecard_id: str, source: str, version: str) -> int:
        """Store the acceptance gate's decisions (one row per item: :func:`qa_lib.autoqa.gate.agreement_table`) for a
        scorecard, source and version; validating the same version again replaces its rows."""
        if source not in SOURCES:
            raise ParameterError(f"source must be one of {SOURCES}; got {source!r}")
        cols = entity("autoqa_gate").columns
        df = decisions.copy()
        conf = decisions.attrs.get("confusion")
        if "confusion" not in df.columns and isinstance(conf, pd.DataFrame) and len(conf):
            c = conf[conf["source"] == source] if "source" in conf.columns and (conf["source"] == source).any() else conf
            as_json = {item: json.dumps({h: dict(zip(gh["auto"].tolist(), gh["calls"].astype(int).tolist())) for h, gh in g.groupby("human", sort=False)},
                                        ensure_ascii=False) for item, g in c.groupby("item_id")}
            df["confusion"] = df["item_id"].map(as_json)
        df["scorecard_id"], df["source"], df["version"], df["validated_at"] = str(scorecard_id), source, str(version), _now()
        if "drifted" not in df.columns:
            df["drifted"] = False
        for col in cols:
            if col not in df.columns:
                df[col] = None
        rows = df[cols]
        t = tables["autoqa_gate"]
        with self.engine.begin() as conn:
            conn.execute(t.delete().where((t.c.scorecard_id == str(scorecard_id)) & (t.c.source == source) & (t.c.version == str(version))))
            recs = _records(rows)
            for r in recs:
                r["accepted"] = bool(r["accepted"])
                r["drifted"] = bool(r["drifted"]) if r["drifted"] is not None else False
                for k in ("n", "answered", "n_needed", "na_auto_only", "na_human_only"):
                    if r[k] is not None:
                        r[k] = int(r[k])
            if recs:
                conn.execute(t.insert(), recs)
        return len(rows)

    def mark_drifted(self, scorecard_id: str, source: str, version: str, items: Iterable[str]) -> None:
        """An accepted item whose random-arm agreement drifted falls back: its automatic answers stop counting."""
        t = tables["autoqa_gate"]
        items = sorted({str(i) for i in items})
        if not items:
            return
        with self.engine.begin() as conn:
            conn.execute(t.update().where((t.c.scorecard_id == str(scorecard_id)) & (t.c.source == source) & (t.c.version == str(version))
                                          & t.c.item_id.in_(items)).values(drifted=True))

    def gate_decisions(self, scorecard_id: str | None = None) -> pd.DataFrame:
        """The newest gate decision per scorecard × item × source (and the version it validated)."""
        t = tables["autoqa_gate"]
        df = self.read("autoqa_gate", None if scorecard_id is None else t.c.scorecard_id == str(scorecard_id))
        if df.empty:
            return df
        return df.sort_values("validated_at").drop_duplicates(["scorecard_id", "item_id", "source"], keep="last").reset_index(drop=True)

    def require_gate(self, scorecard_id: str) -> pd.DataFrame:
        """:meth:`gate_decisions` of a scorecard, or a clear error saying to run the gate first."""
        df = self.gate_decisions(scorecard_id)
        if df.empty:
            raise NotFoundError(f"no acceptance-gate decision for scorecard {scorecard_id!r}: run `qa autoqa validate --scorecard {scorecard_id}`")
        return df
