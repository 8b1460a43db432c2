"""The evaluation lifecycle: create, save, submit, correct, release, acknowledge, dispute, resolve — every change a new
version, checked against the version the caller read; scoring sheets imported again and again as they are filled."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import ingest
from ..config import settings
from ..errors import NotFoundError, ParameterError, Problem, ValidationError
from ..ingest import ROW
from ..lifecycle import (
    AGENT_ACTIONS,
    CORRECTION_ROUTES,
    EDIT_ACTIONS,
    OUTCOMES,
    REASON_ACTIONS,
    TRANSITIONS,
    ConflictError,
    TransitionError,
    edit_action,
    next_status,
)
from ..rubric import Scorecard, check_answers, normalize_answers, score
from .imports import ImportResult, _card_from_text
from .schema import _CHUNK, _now, tables

#: Statuses an evaluation starts in, created or imported; the later ones are reached only through the lifecycle's
#: actions (release, acknowledge, dispute, resolve), each a version with its actor (an import cannot forge them).
START_STATUSES = ("draft", "submitted")
#: Arms a saved sampling plan draws; calibration evaluations belong to a calibration session, never to a plan.
PLAN_ARMS = ("random", "targeted")
_MAX_PER_RULE = 200


@dataclass
class SheetImport(ImportResult):
    """What importing a scoring sheet did, per evaluation (a row of the sheet): ``new`` rows stored, rows ``unchanged``
    since they were stored, rows ``corrected`` (a new version with the row's reason) and stored drafts ``updated`` (saved
    or submitted: a new version). ``inserted`` and ``skipped`` count table rows, as for any import."""

    new: int = 0
    unchanged: int = 0
    corrected: int = 0
    updated: int = 0

    def __str__(self) -> str:
        drafts, drafts_zh = (f", {self.updated} draft(s) updated (new version)", f"，草稿更新 {self.updated}") if self.updated else ("", "")
        return (f"{self.source}: {self.new} new, {self.unchanged} unchanged, {self.corrected} corrected (new version){drafts}, 0 refused"
                f"（新增 {self.new}，未变 {self.unchanged}，更正 {self.corrected}（新版本）{drafts_zh}，拒绝 0）")


class _Evaluations:
    """Evaluations and their history (part of :class:`qa_lib.store.Store`)."""

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

    def _lifecycle_problems(self, conn, head: pd.DataFrame, source: str, *, exported_arm: str | None = None) -> list[Problem]:
        """:func:`evaluation_rules` for evaluation headers, joined here with their contacts, scorecards, calibration
        sessions and the saved plans that drew their contacts."""
        c, pc, cs = tables["contacts"], tables["plan_contacts"], tables["calibration_sessions"]
        ids = [v for v in pd.unique(head["contact_id"]) if isinstance(v, str)]
        contacts = _read_in(conn, sa.select(c.c.contact_id, c.c.agent_id.label("contact_agent_id"), c.c.answered.label("contact_answered"),
                                            c.c.contact_type, c.c.direction.label("contact_direction"), c.c.start_time.label("contact_start")), c.c.contact_id, ids)
        plans = _read_in(conn, sa.select(pc.c.contact_id, pc.c.plan_id, pc.c.arm), pc.c.contact_id, ids)
        sessions = [v for v in pd.unique(head["calibration_session_id"]) if isinstance(v, str)]
        cal = _read_in(conn, sa.select(cs.c.session_id.label("calibration_session_id"), cs.c.scorecard_id.label("session_scorecard_id")), cs.c.session_id, sessions)
        frame = (head.merge(contacts.assign(contact_found=True), on="contact_id", how="left")
                 .merge(self._applies_to(conn, head), on=["scorecard_id", "scorecard_version"], how="left")
                 .merge(cal, on="calibration_session_id", how="left")
                 .assign(exported_arm=exported_arm))
        return evaluation_rules(frame, plans, source=source)

    def _applies_to(self, conn, head: pd.DataFrame) -> pd.DataFrame:
        """``card_direction`` and ``card_types`` (None: any) of each stored scorecard version ``head`` names."""
        t = tables["scorecards"]
        wanted = head[["scorecard_id", "scorecard_version"]].dropna().drop_duplicates()
        rows = []
        for sid, ver in zip(wanted["scorecard_id"], wanted["scorecard_version"]):  # one per scorecard version, not per row
            text = conn.execute(sa.select(t.c.definition).where(t.c.scorecard_id == sid, t.c.version == int(ver))).scalar_one_or_none()
            applies = _card_from_text(text).applies_to if text is not None else {}
            rows.append((sid, ver, applies.get("direction") or None, tuple(applies.get("contact_types") or ()) or None))
        out = pd.DataFrame(rows, columns=["scorecard_id", "scorecard_version", "card_direction", "card_types"])
        return out.astype({"scorecard_version": head["scorecard_version"].dtype}) if len(out) else out

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
        checked against the scorecard version and stored in canonical form. The contact and the
        arm obey the rules an import obeys (:func:`evaluation_rules`), else :class:`ValidationError`.
        """
        if arm not in ("random", "targeted"):
            raise ParameterError(f"arm must be one of random, targeted (calibration evaluations belong to a session); got {arm!r}")
        answers, comments = dict(answers or {}), dict(comments or {})
        with self.engine.begin() as conn:
            c = tables["contacts"]
            contact = conn.execute(sa.select(c.c.contact_id, c.c.agent_id).where(c.c.contact_id == contact_id)).mappings().one_or_none()
            if contact is None:
                raise NotFoundError(f"no contact {contact_id!r}")
            if not conn.execute(sa.select(sa.func.count()).select_from(tables["inspectors"]).where(tables["inspectors"].c.inspector_id == inspector_id)).scalar_one():
                raise NotFoundError(f"no inspector {inspector_id!r}")
            card = self._card_for(conn, scorecard_id, scorecard_version)
            eid = evaluation_id or f"E-{uuid.uuid4().hex[:12]}"
            status = "submitted" if submit else "draft"
            now = _now()
            head = pd.DataFrame({ROW: [0], "evaluation_id": [eid], "contact_id": [contact_id], "agent_id": [contact["agent_id"]],
                                 "inspector_id": [inspector_id], "scorecard_id": [card.id], "scorecard_version": [card.version],
                                 "evaluated_at": [pd.Timestamp(now)], "arm": [arm], "calibration_session_id": [None], "status": [status], "version": [1]})
            problems = self._lifecycle_problems(conn, head, eid)  # the same rules as an import
            if problems:
                raise ValidationError(problems, f"evaluation of contact {contact_id}")
            answers = _canonical(card, answers)
            total = self._checked_total(conn, card, eid, contact_id, answers, complete=submit)
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
             outcome: str | None = None, remove: tuple = ()) -> int:
        if not actor or not str(actor).strip():
            raise ParameterError(f"actor must name who acts (an inspector, agent or supervisor id); got {actor!r}")
        if action in REASON_ACTIONS and (not isinstance(reason, str) or not reason.strip()):
            raise ParameterError(f"reason must say why the answers of a submitted evaluation change (kept in its history); got {reason!r}")
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
            new_answers = {k: v for k, v in {**cur_answers, **_canonical(card, answers or {})}.items() if k not in remove}
            new_comments = {k: v for k, v in {**cur_comments, **(comments or {})}.items() if k in new_answers}
            complete = action != "save"
            total = head["total_score"]
            if action in ("save", "submit", "correct") or (action == "resolve" and outcome == "rescored"):
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

    def edit(self, evaluation_id: str, answers: dict, *, actor: str, reason: str | None = None, expected_version: int | None = None,
             comment: str | None = None) -> int:
        """An inspector changes an evaluation's answers (merged over the stored ones; None or "" removes one); the new version.

        A draft is saved; a submitted evaluation is corrected (action ``correct``: ``reason`` required, kept in its
        history); a released or later one is refused with the way its answers change
        (:data:`qa_lib.lifecycle.CORRECTION_ROUTES`). ``actor`` must be an inspector. A change that changes nothing is refused.
        """
        if not isinstance(answers, dict) or not answers:
            raise ParameterError(f"answers must map item ids to their new answers (None removes one); got {answers!r}")
        with self.engine.connect() as conn:
            known = conn.execute(sa.select(sa.func.count()).select_from(tables["inspectors"]).where(tables["inspectors"].c.inspector_id == actor)).scalar_one()
        if not known:
            raise NotFoundError(f"no inspector {actor!r}: actor must be the inspector who makes the change")
        head = self.evaluation(evaluation_id)
        action = edit_action(head["status"])
        card = self.scorecard(head["scorecard_id"], int(head["scorecard_version"]))
        drop = tuple(k for k, v in answers.items() if v is None or str(v).strip() == "")
        unknown = sorted(set(drop) - set(card.item_ids))
        if unknown:
            raise ParameterError(f"answers to remove must be items of scorecard {card.id} v{card.version}; got {unknown}")
        keep = {k: v for k, v in answers.items() if k not in drop}
        after = {k: v for k, v in {**head["answers"], **_canonical(card, keep)}.items() if k not in drop}
        if after == head["answers"] and (comment is None or comment == head["comment"]):
            raise ParameterError(f"the answers given are the ones evaluation {evaluation_id} holds (version {head['version']}): nothing to change")
        version = int(head["version"]) if expected_version is None else expected_version
        return self._act(evaluation_id, action, actor, version, answers=keep, remove=drop, comment=comment, reason=reason)

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

    # ---- scoring sheets, imported again and again as they are filled ------------------------------------------
    def import_scoring_sheet(self, path: str | os.PathLike, *, status: str = "submitted") -> SheetImport:
        """Import a filled scoring sheet (:mod:`qa_lib.sheets`), again as often as it is filled further: all rows or none.

        A row not stored yet is a new evaluation, checked like ``qa import evaluations``. A row stored before is
        compared by its answers and comment (never by the workbook's save time, which changes on every save): the
        same, it is ``unchanged``; changed, it becomes a new version of its evaluation with the sheet's inspector as
        actor — a draft is saved (submitted unless ``status`` is draft), a submitted one corrected, which needs the
        row's ``reason`` (改分原因; without one the row is refused, asking for it), a released one refused with the
        way its answers change (:data:`qa_lib.lifecycle.CORRECTION_ROUTES`). The arm on the sheet is not trusted: it
        must be the arm of the saved sampling plan that drew the contact or, for a contact in no plan, the arm the
        sheet was exported with (:data:`qa_lib.sheets.EXPORT_ARM`); a blank arm cell takes that arm (a stored row: its
        stored arm). Rows stored before keep their ``evaluated_at``.
        """
        from ..sheets import read_scoring_sheet

        if status not in START_STATUSES:
            raise ParameterError(f"status must be one of {', '.join(START_STATUSES)}; got {status!r}")
        path = Path(path)
        card = self._sheet_card(path)
        long = read_scoring_sheet(path, card, status=status, blank_arm=None)
        reasons = _sheet_reasons(long)
        long = long.drop(columns=["reason"], errors="ignore")
        result = SheetImport("scoring sheet", path.name, int(long["evaluation_id"].nunique()))
        try:
            with self.engine.begin() as conn:
                return self._import_sheet(conn, card, long, reasons, result, hashlib.sha256(path.read_bytes()).hexdigest())
        except sa.exc.IntegrityError as exc:  # a concurrent writer got there first
            raise ConflictError(f"{path.name}: someone stored these evaluations while the sheet was imported, nothing was stored: "
                                f"import the sheet again ({exc.orig})") from None

    def _sheet_card(self, path: Path) -> Scorecard:
        """The stored scorecard version a scoring sheet names in its hidden meta sheet (the file guarded first)."""
        from openpyxl import load_workbook

        ingest.guard_file(path, source=path.name, limits=settings())  # before openpyxl unpacks anything
        try:
            wb = load_workbook(path, read_only=True)
            meta = {str(r[0]): r[1] for r in wb["meta"].iter_rows(values_only=True)}
            wb.close()
        except Exception:
            meta = {}
        if not meta.get("scorecard_id"):
            raise ValidationError([Problem(path.name, 0, "", "not a scoring sheet written by `qa score export` (no meta sheet)")], path.name)
        return self.scorecard(str(meta["scorecard_id"]), int(meta["scorecard_version"]))

    def _import_sheet(self, conn, card: Scorecard, long: pd.DataFrame, reasons: pd.Series, result: SheetImport, sha256: str) -> SheetImport:
        """New rows imported, stored rows compared and changed ones versioned, in the caller's transaction; all or none."""
        from ..sheets import EXPORT_ARM

        source = result.source
        stored, stored_items = self._stored_sheet_rows(conn, list(pd.unique(long["evaluation_id"])))
        long = _sheet_against_store(conn, long, stored, EXPORT_ARM)
        frames = ingest.validate_kind("evaluations", long, source, settings().timezone)
        head, items = frames["evaluations"], frames["evaluation_items"]
        again, again_items = head["evaluation_id"].isin(stored["evaluation_id"]), items["evaluation_id"].isin(stored["evaluation_id"])
        plan, answers, problems = _sheet_changes(card, head[again], items[again_items], stored, stored_items, reasons, source)
        if len(plan):
            totals, found = self._sheet_totals(conn, card, plan, answers, source)
            plan, problems = plan.assign(total=totals), problems + found
        refused = {p.row for p in problems}
        result.new = int((~again & ~head[ROW].isin(refused)).sum())
        result.unchanged = int((again & ~head["evaluation_id"].isin(plan["evaluation_id"]) & ~head[ROW].isin(refused)).sum())
        ok = plan[~plan[ROW].isin(refused)]
        result.corrected, result.updated = int((ok["action"] == "correct").sum()), int((ok["action"] != "correct").sum())
        fresh = {"evaluations": head[~again], "evaluation_items": items[~again_items]}
        try:
            self._import_frames(conn, "evaluations", fresh, result, sha256=sha256, exported_arm=EXPORT_ARM, problems=problems)
        except ValidationError as exc:
            n = len({p.row for p in exc.problems})
            raise ValidationError(exc.problems, f"{source} ({result.new} new, {result.unchanged} unchanged, {result.corrected} corrected, "
                                                f"{n} refused)") from None
        result.skipped = {"evaluations": int(again.sum()), "evaluation_items": int(again_items.sum())}  # stored before: compared above
        _write_sheet_versions(conn, plan, answers)
        return result

    def _stored_sheet_rows(self, conn, ids: list) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The evaluations of ``ids`` already stored (locked on PostgreSQL until the import commits) and their answers."""
        ev, it = tables["evaluations"], tables["evaluation_items"]
        query = sa.select(ev.c.evaluation_id, ev.c.contact_id, ev.c.agent_id, ev.c.arm, ev.c.status, ev.c.version, ev.c.comment,
                          ev.c.evaluated_at)
        if self.engine.dialect.name != "sqlite":
            query = query.with_for_update()
        head = _read_in(conn, query, ev.c.evaluation_id, ids)
        items = _read_in(conn, sa.select(it.c.evaluation_id, it.c.item_id, it.c.answer, it.c.item_comment), it.c.evaluation_id, list(head["evaluation_id"]))
        return head, items

    def _sheet_totals(self, conn, card: Scorecard, plan: pd.DataFrame, answers: pd.DataFrame, source: str) -> tuple[pd.Series, list[Problem]]:
        """Each new version's total, its answers checked with its contact's flags (conditional items) at the sheet's row."""
        context = plan[["evaluation_id", "contact_id"]].merge(self._contact_flags(conn, plan["contact_id"]), on="contact_id", how="left")
        rows = answers["evaluation_id"].map(plan.set_index("evaluation_id")[ROW])
        problems = check_answers(card, answers, source=source, context=context, rows=rows, item_columns=True)
        totals = score(card, answers, context=context).totals.set_index("evaluation_id")["total"]
        return plan["evaluation_id"].map(totals).astype(float).round(4).to_numpy(), problems


def _read_in(conn, query, column, values: list) -> pd.DataFrame:
    """``query`` for the rows whose ``column`` is one of ``values`` (in chunks)."""
    parts = [pd.read_sql(query.where(column.in_(values[i : i + _CHUNK])), conn) for i in range(0, max(len(values), 1), _CHUNK)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


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


# ------------------------------------------------------------------------ a scoring sheet's rows stored before
def _sheet_reasons(long: pd.DataFrame) -> pd.Series:
    """Each evaluation's ``reason`` cell on a sheet (why a row stored before changed), cleaned like any free text."""
    if "reason" not in long.columns:
        return pd.Series(dtype=object)
    first = long.drop_duplicates("evaluation_id").set_index("evaluation_id")["reason"].dropna().astype(str).str.strip()
    return ingest.clean_free_text(first[first != ""])


def _sheet_against_store(conn, long: pd.DataFrame, stored: pd.DataFrame, exported_arm: str) -> pd.DataFrame:
    """A sheet's blank arms (a stored row's own, else the saved plan's, else ``exported_arm``); a stored row's ``evaluated_at``."""
    pc = tables["plan_contacts"]
    arm_of = stored.set_index("evaluation_id")["arm"]
    long = long.assign(arm=long["arm"].astype(object).where(long["arm"].notna(), long["evaluation_id"].map(arm_of).astype(object)))
    blank = long["arm"].isna()
    if blank.any():
        planned = _read_in(conn, sa.select(pc.c.contact_id, pc.c.arm), pc.c.contact_id, list(pd.unique(long.loc[blank, "contact_id"].astype(str))))
        plan_arm = planned.drop_duplicates("contact_id").set_index("contact_id")["arm"]
        long.loc[blank, "arm"] = long.loc[blank, "contact_id"].map(plan_arm).astype(object).fillna(exported_arm).to_numpy()
    if len(stored):
        at = pd.to_datetime(stored.set_index("evaluation_id")["evaluated_at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
        long["evaluated_at"] = long["evaluation_id"].map(at).fillna(long["evaluated_at"])
    return long


def _write_sheet_versions(conn, plan: pd.DataFrame, answers: pd.DataFrame) -> None:
    """The new versions of a sheet's changed rows, in bulk: each evaluation's state (only if still at the version
    read, else :class:`ConflictError`), its answers and its history row."""
    if plan.empty:
        return
    ev, items, versions = tables["evaluations"], tables["evaluation_items"], tables["evaluation_versions"]
    b, now = sa.bindparam, _now()
    plan = plan.astype(object).where(plan.notna(), None)
    state = [{"b_id": e, "b_cur": int(v), "b_new": int(v) + 1, "b_status": s, "b_total": t, "b_comment": c}
             for e, v, s, t, c in zip(plan["evaluation_id"], plan["version"], plan["status"], plan["total"], plan["comment"])]
    res = conn.execute(ev.update().where(ev.c.evaluation_id == b("b_id"), ev.c.version == b("b_cur"))
                       .values(version=b("b_new"), status=b("b_status"), total_score=b("b_total"), comment=b("b_comment")), state)
    if res.rowcount != len(state):  # another writer changed one of them since it was read: roll back the whole sheet
        raise ConflictError("someone changed an evaluation of this sheet while it was imported, nothing was stored: import the sheet again")
    ids = plan["evaluation_id"].tolist()
    for i in range(0, len(ids), _CHUNK):
        conn.execute(items.delete().where(items.c.evaluation_id.in_(ids[i : i + _CHUNK])))
    rows = answers.astype(object).where(answers.notna(), None)
    conn.execute(items.insert(), rows[["evaluation_id", "item_id", "answer", "item_comment"]].to_dict("records"))
    js = {e: _answers_json(dict(zip(g["item_id"], g["answer"])), dict(zip(g["item_id"], g["item_comment"]))) for e, g in rows.groupby("evaluation_id")}
    conn.execute(versions.insert(), [
        {"evaluation_id": e, "version": int(v) + 1, "action": a, "status": s, "total_score": t, "answers": js[e], "comment": c,
         "actor": who, "at": now, "reason": r}
        for e, v, a, s, t, c, who, r in zip(plan["evaluation_id"], plan["version"], plan["action"], plan["status"], plan["total"],
                                           plan["comment"], plan["inspector_id"], plan["reason"])])


_PLAN = ["evaluation_id", "contact_id", "inspector_id", "action", "status", "version", "comment", "reason", ROW]


def _sheet_changes(card: Scorecard, head: pd.DataFrame, items: pd.DataFrame, stored: pd.DataFrame, stored_items: pd.DataFrame,
                   reasons: pd.Series, source: str) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """A sheet's rows stored before (validated ``head`` and ``items``), against their stored version.

    Returns ``plan``, one row per evaluation that gets a new version (``evaluation_id``, ``contact_id``, ``inspector_id``,
    ``action``, ``status`` after it, the ``version`` read, the sheet's ``comment`` and ``reason``, its ``_row``); the new
    versions' answers (the sheet's, with the stored item comments); and a located problem per change not allowed: an
    evaluation past submitted (:data:`qa_lib.lifecycle.CORRECTION_ROUTES`), a correction without a reason, another arm
    or agent than the stored one.
    """
    if head.empty:
        return pd.DataFrame(columns=_PLAN), pd.DataFrame(columns=["evaluation_id", "item_id", "answer", "item_comment"]), []
    sheet = items[["evaluation_id", "item_id"]].assign(answer=normalize_answers(card, items).to_numpy())
    both = sheet.merge(stored_items, on=["evaluation_id", "item_id"], how="outer", suffixes=("", "_stored"))
    both = both[both["evaluation_id"].isin(head["evaluation_id"])]
    d = both[both["answer"].fillna("").astype(str) != both["answer_stored"].fillna("").astype(str)]
    diff = (_text(d["item_id"]) + ": " + _text(d["answer_stored"]).replace("", "—") + " → " + _text(d["answer"]).replace("", "—")).groupby(d["evaluation_id"]).agg("; ".join)
    h = head.merge(stored, on="evaluation_id", suffixes=("", "_stored")).reset_index(drop=True)
    comment_changed = (_text(h["comment"]) != _text(h["comment_stored"])).to_numpy()
    what = _text(h["evaluation_id"].map(diff))
    what = what.where(~comment_changed, what + np.where(what != "", "; ", "") + "comment")
    was = h["status_stored"]
    submit = ((was == "draft") & (h["status"] == "submitted")).to_numpy()
    touched = (what != "").to_numpy() | submit
    action = was.map(EDIT_ACTIONS).where(~submit, "submit")
    h = h.assign(what=what, action=action, reason=h["evaluation_id"].map(reasons), version=h["version_stored"],
                 column=_text(h["evaluation_id"].map(d.groupby("evaluation_id")["item_id"].first())).replace("", "comment"))
    eid = h["evaluation_id"]
    checks = [
        ((_text(h["arm"]) != _text(h["arm_stored"])).to_numpy(), "arm", lambda x: eid[x] + " is stored with arm " + _text(h["arm_stored"][x])
         + ", the sheet has " + _text(h["arm"][x]) + ": an evaluation keeps the arm its contact was sampled in"),
        (h["agent_id"].notna().to_numpy() & (_text(h["agent_id"]) != _text(h["agent_id_stored"])).to_numpy(), "agent_id",
         lambda x: eid[x] + " is stored for agent " + _text(h["agent_id_stored"][x]) + ", the sheet has " + _text(h["agent_id"][x])
         + ": the agent is the contact's and does not change"),
        (touched & action.isna().to_numpy(), None, lambda x: eid[x] + " is " + was[x] + " and this row changes it (" + what[x] + "), which a sheet "
         "cannot do: " + was[x].map(CORRECTION_ROUTES) + "; undo the change on the sheet"),
        (touched & (action == "correct").to_numpy() & h["reason"].isna().to_numpy(), "reason", lambda x: eid[x] + " is already stored (submitted, version "
         + _text(h["version"][x]) + ") and this row changes it (" + what[x] + "): write why in the reason column (改分原因) to store the change "
         "as a correction (a new version; the old one stays in the history), or undo the change"),
    ]
    problems = [Problem(source, int(r), c, m) for mask, column, message in checks if mask.any()
                for r, c, m in zip(h.loc[mask, ROW], h.loc[mask, "column"] if column is None else [column] * int(mask.sum()), message(mask))]
    plan = h[touched & action.notna().to_numpy()]
    plan = plan.assign(status=pd.Series(list(zip(plan["status_stored"], plan["action"])), index=plan.index, dtype=object).map(TRANSITIONS),
                       comment=plan["comment"].astype(object).where(plan["comment"].notna(), None))
    plan = plan[_PLAN].reset_index(drop=True)
    answers = both[both["evaluation_id"].isin(plan["evaluation_id"]) & both["answer"].notna()][["evaluation_id", "item_id", "answer", "item_comment"]]
    return plan, answers.reset_index(drop=True), problems


# ------------------------------------------------------------------------ the rules every new evaluation obeys
def evaluation_rules(frame: pd.DataFrame, plans: pd.DataFrame | None = None, *, source: str) -> list[Problem]:
    """Every rule a new evaluation obeys, created (:meth:`~_Evaluations.create_evaluation`) or imported
    (``qa import evaluations``, ``qa score import``): one :class:`Problem` per broken rule, at the row and column at fault.

    ``frame`` has one row per evaluation header (``_row``, ``evaluation_id``, ``contact_id``, ``agent_id``,
    ``inspector_id``, ``scorecard_id``, ``scorecard_version``, ``evaluated_at``, ``arm``, ``calibration_session_id``,
    ``status``, ``version``) joined with its contact (``contact_found``, ``contact_agent_id``, ``contact_answered``,
    ``contact_type``, ``contact_direction``, ``contact_start``), its scorecard's ``applies_to`` (``card_direction``,
    ``card_types``: None = any), its calibration session's ``session_scorecard_id`` and, for a scoring sheet, the
    ``exported_arm`` its contacts were exported with (None = any). ``plans`` lists the saved sampling plans'
    contacts (``contact_id``, ``plan_id``, ``arm``). Vectorised: pandas masks over all rows at once.
    """
    f = frame.reset_index(drop=True)
    checks = _contact_checks(f) + _card_checks(f) + _start_checks(f) + _arm_checks(f, plans) + _batch_checks(f)
    problems: list[Problem] = []
    for bad, column, message in checks:
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            hit = f.loc[bad].head(_MAX_PER_RULE)
            problems += [Problem(source, int(r), column, m) for r, m in zip(hit[ROW].to_numpy(), message(hit).to_numpy())]
    return problems


def _text(s: pd.Series) -> pd.Series:
    """Values as text for a message ('' for a missing one)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    return s.astype(object).where(s.notna(), "").astype(str)


def _member(values: pd.Series, lists: pd.Series) -> np.ndarray:
    """True where ``values[i]`` is in the list ``lists[i]`` (a missing list holds nothing)."""
    long = lists.explode()
    hit = pd.Series(long.to_numpy() == values.loc[long.index].to_numpy(), index=long.index)
    return hit.groupby(level=0).any().reindex(values.index, fill_value=False).to_numpy(dtype=bool)


def _contact_checks(f: pd.DataFrame) -> list:
    """The contact exists, is regular, was answered and has the agent the evaluation names."""
    found = f["contact_found"].fillna(False).to_numpy(dtype=bool)
    answered = f["contact_answered"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    agent, handled = f["agent_id"], f["contact_agent_id"]
    no_agent = found & handled.isna().to_numpy()
    c = lambda d: "contact " + _text(d["contact_id"])  # noqa: E731
    return [
        (~found, "contact_id", lambda d: "unknown contact_id '" + _text(d["contact_id"]) + "' (not in contacts)"),
        (found & (f["contact_type"] == "non_regular").to_numpy(), "contact_id",
         lambda d: c(d) + " is non_regular (a misdial, one-ring hang-up, silent or harassing call): non-regular contacts are never evaluated"),
        (found & ~answered, "contact_id", lambda d: c(d) + " was not answered: only answered contacts are evaluated"),
        (no_agent, "contact_id", lambda d: c(d) + " has no agent (abandoned before an agent took it): only contacts an agent handled are evaluated"),
        (found & ~no_agent & agent.notna().to_numpy() & (agent.astype(object) != handled.astype(object)).to_numpy(), "agent_id",
         lambda d: "contact '" + _text(d["contact_id"]) + "' was handled by '" + _text(d["contact_agent_id"]) + "', not '" + _text(d["agent_id"]) + "'"),
    ]


def _card_checks(f: pd.DataFrame) -> list:
    """The scorecard applies to the contact (its ``applies_to`` direction and contact types); a calibration
    evaluation uses its session's scorecard."""
    found = f["contact_found"].fillna(False).to_numpy(dtype=bool)
    card = lambda d: "scorecard " + _text(d["scorecard_id"]) + " v" + _text(d["scorecard_version"]) + " applies to "  # noqa: E731
    direction = f["card_direction"]
    wrong_way = found & direction.notna().to_numpy() & (f["contact_direction"] != direction).to_numpy()
    types = f["card_types"]
    wrong_type = found & types.notna().to_numpy() & ~_member(f["contact_type"], types)
    session = f["session_scorecard_id"]
    other_card = session.notna().to_numpy() & (session != f["scorecard_id"]).to_numpy()
    return [
        (wrong_way, "scorecard_id", lambda d: card(d) + _text(d["card_direction"]) + " contacts; contact " + _text(d["contact_id"])
         + " is " + _text(d["contact_direction"])),
        (wrong_type, "scorecard_id", lambda d: card(d) + "contact types " + d["card_types"].map(", ".join) + "; contact "
         + _text(d["contact_id"]) + " is " + _text(d["contact_type"])),
        (other_card, "scorecard_id", lambda d: "calibration session " + _text(d["calibration_session_id"]) + " scores with "
         + _text(d["session_scorecard_id"]) + ", not " + _text(d["scorecard_id"])),
    ]


def _start_checks(f: pd.DataFrame) -> list:
    """Not evaluated before the contact started; starts as a draft or submitted, at version 1 (as create does)."""
    at, start = pd.to_datetime(f["evaluated_at"]), pd.to_datetime(f["contact_start"])
    early = (at.notna() & start.notna() & (at < start)).to_numpy()
    status = f["status"].fillna("submitted")
    version = pd.to_numeric(f["version"], errors="coerce").fillna(1)
    return [
        (early, "evaluated_at", lambda d: "evaluated at " + _text(pd.to_datetime(d["evaluated_at"])) + ", before contact " + _text(d["contact_id"])
         + " started (" + _text(pd.to_datetime(d["contact_start"])) + ")"),
        (~status.isin(START_STATUSES).to_numpy(), "status", lambda d: "an evaluation starts as draft or submitted, not " + _text(d["status"])
         + ": later statuses are reached through the lifecycle (release, acknowledge, dispute, resolve), each a version with its actor"),
        ((version != 1).to_numpy(), "version", lambda d: "an evaluation starts at version 1 (one version in its history), not " + _text(d["version"])),
    ]


def _arm_checks(f: pd.DataFrame, plans: pd.DataFrame | None) -> list:
    """A contact a saved plan drew keeps the plan's arm; one in no plan, a sheet's export arm."""
    planned = f[["contact_id", "arm"]].reset_index().merge(
        plans if plans is not None else pd.DataFrame(columns=["contact_id", "plan_id", "arm"]), on="contact_id", suffixes=("", "_plan"))
    same = (planned["arm"] == planned["arm_plan"]).to_numpy()
    matched = planned.loc[same, "index"].unique()
    other = planned.loc[~same].groupby("index")[["plan_id", "arm_plan"]].first().reindex(f.index)
    in_plan = f.index.isin(planned["index"].unique())
    own = f["arm"].isin(PLAN_ARMS).to_numpy()
    bad_plan = own & in_plan & ~f.index.isin(matched)
    exported = f["exported_arm"]
    bad_export = own & ~in_plan & exported.notna().to_numpy() & (f["arm"] != exported).to_numpy()
    return [
        (bad_plan, "arm", lambda d: "arm " + _text(d["arm"]) + " does not match sampling plan " + _text(other.loc[d.index, "plan_id"])
         + ", which drew contact " + _text(d["contact_id"]) + " as " + _text(other.loc[d.index, "arm_plan"])),
        (bad_export, "arm", lambda d: "arm " + _text(d["arm"]) + " does not match the arm the sheet was exported with ("
         + _text(d["exported_arm"]) + "): contact " + _text(d["contact_id"]) + " is in no sampling plan"),
    ]


def _batch_checks(f: pd.DataFrame) -> list:
    """One evaluation of a contact per inspector (and calibration session) in one input."""
    key = pd.DataFrame({"c": f["contact_id"], "i": f["inspector_id"], "s": f["calibration_session_id"].astype(object).fillna("")})
    dup = key.duplicated(keep="first").to_numpy()
    group = key.groupby(["c", "i", "s"], sort=False, dropna=False).ngroup()
    first = f.groupby(group)[["evaluation_id", ROW]].first()
    first_id, first_row = group.map(first["evaluation_id"]), group.map(first[ROW])
    return [
        (dup, "contact_id", lambda d: "contact " + _text(d["contact_id"]) + " is evaluated twice by " + _text(d["inspector_id"])
         + " in this input: also evaluation " + _text(first_id.loc[d.index]) + " (row " + _text(first_row.loc[d.index]) + ")"),
    ]
