"""The evaluation lifecycle: create, save, submit, release, acknowledge, dispute, resolve — every change a new version, checked against the version the caller read."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import NotFoundError, ParameterError, Problem, ValidationError
from ..ingest import ROW
from ..lifecycle import AGENT_ACTIONS, OUTCOMES, ConflictError, TransitionError, next_status
from ..rubric import Scorecard, check_answers, normalize_answers, score
from .imports import _card_from_text
from .schema import _CHUNK, _now, tables

#: Statuses an evaluation starts in, created or imported; the later ones are reached only through the lifecycle's
#: actions (release, acknowledge, dispute, resolve), each a version with its actor (an import cannot forge them).
START_STATUSES = ("draft", "submitted")
#: Arms a saved sampling plan draws; calibration evaluations belong to a calibration session, never to a plan.
PLAN_ARMS = ("random", "targeted")
_MAX_PER_RULE = 200


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
