"""The evaluation lifecycle: create, save, submit, release, acknowledge, dispute, resolve — every change a new version, checked against the version the caller read."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import NotFoundError, ParameterError, ValidationError
from ..lifecycle import AGENT_ACTIONS, OUTCOMES, ConflictError, TransitionError, next_status
from ..rubric import Scorecard, check_answers, normalize_answers, score
from .imports import _card_from_text
from .schema import _now, tables


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
