"""Sampling plans and coaching actions: saving, reading, closing."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import NotFoundError, ParameterError, StoreError
from ..lifecycle import ConflictError
from ..summary import parse_date
from .imports import _card_from_text
from .schema import _CHUNK, _now, tables


class _PlansAndCoaching:
    """Sampling plans and coaching actions (part of :class:`qa_lib.store.Store`)."""

    # ---- sampling plans
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

    # ---- coaching actions (督办闭环) ----------------------------------------------------
    def add_coaching_action(self, agent_id: str, items, agreed_action: str, coach: str, *, created_on=None, due_on=None,
                            recheck_after_days: int = 3) -> str:
        """Record a coaching action agreed with an agent (status ``open``); return its id, ``CA`` + the next number.

        ``items`` (a list, or comma-separated text) must all be items of one stored scorecard;
        ``created_on`` defaults to today, ``due_on`` (optional) must not be before it, and the
        re-check comes ``recheck_after_days`` (0–365) days after ``created_on``. Checked first,
        written in one transaction: a refused action writes nothing.
        """
        from ..coaching import split_items

        item_list = split_items(items)
        if not item_list:
            raise ParameterError(f"items must name at least one scorecard item (e.g. greet,verify); got {items!r}")
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
