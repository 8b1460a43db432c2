"""The month's sampling plan, end to end: draw from the store, assign inspectors, save, write worklists.

Glue between :mod:`qa_lib.sampling` (pure statistics and drawing), :mod:`qa_lib.store`
and :mod:`qa_lib.sheets`; used by ``qa sample``, ``qa demo`` and the sampling notebook.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .errors import ParameterError
from .files import file_stem, write_csv
from .rubric import Scorecard
from .sampling import DrawnPlan, PlanSpec, assign_inspectors, draw_plan, within_agent_sd
from .scores import headline_scorecard
from .sheets import write_scoring_sheet

__all__ = ["parse_period", "plan_period", "draw_period", "period_auto_scores", "historical_sd", "card_for", "write_worklists", "workload"]


def parse_period(text: str) -> pd.Period:
    """A month (``2026-10``) or an ISO week (``2026-W41``) as a Period."""
    t = str(text).strip()
    if "W" in t.upper():
        try:
            year, week = t.upper().split("-W")
            start = pd.Timestamp.fromisocalendar(int(year), int(week), 1)
            return pd.Period(start, freq="W-SUN")
        except (ValueError, TypeError):
            raise ParameterError(f"period must look like 2026-10 or 2026-W41; got {text!r}") from None
    from .summary import parse_month

    try:
        return parse_month(t)
    except ParameterError:
        raise ParameterError(f"period must look like 2026-10 or 2026-W41; got {text!r}") from None


def _period_contacts(store, period: pd.Period) -> pd.DataFrame:
    if period.freqstr.startswith("M"):
        return store.read_month("contacts", period)
    c = store.table("contacts")
    end = (period + 1).start_time.to_pydatetime()
    return store.read("contacts", (c.c.start_time >= period.start_time.to_pydatetime()) & (c.c.start_time < end))


def historical_sd(store, before: pd.Period, scorecard_id: str | None = None, months: int = 3) -> float:
    """Pooled within-agent SD of random-arm scores in the ``months`` before ``before`` (NaN without history), on
    ``scorecard_id`` (default: the center's headline scorecard, or the most used one)."""
    start = pd.Period(before.start_time, freq="M") - months
    frames = [store.evaluations(start + k) for k in range(months)]
    ev = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if ev.empty:
        return float("nan")
    if not (ev["arm"] == "random").any():
        return float("nan")
    if scorecard_id is None:
        from .config import settings

        scorecard_id = headline_scorecard(ev, settings().headline_scorecard)
    ev = ev[(ev["arm"] == "random") & (ev["scorecard_id"] == scorecard_id)]
    return within_agent_sd(ev)


def plan_period(store, spec: PlanSpec, *, created_by: str | None = None) -> tuple[str, DrawnPlan]:
    """Draw, assign and save the plan for ``spec.period``; return ``(plan_id, plan)``."""
    plan = draw_period(store, spec)
    return store.save_plan(plan, created_by=created_by), plan


def draw_period(store, spec: PlanSpec) -> DrawnPlan:
    """Draw the plan for ``spec.period`` from the store and assign inspectors, without saving it."""
    period = parse_period(spec.period)
    contacts = _period_contacts(store, period)
    if contacts.empty:
        raise ParameterError(f"period {spec.period} has no contacts in the database")
    ev = store.evaluations(audience="inspector", columns=["contact_id"])  # drafts too: a contact being scored is taken
    voc = store.read("voc_feedback", None, columns=["contact_id", "csat"])
    complaints = set(voc.loc[voc["contact_id"].notna() & (voc["csat"] <= 2), "contact_id"])
    rechecks = None
    if spec.recheck_per_action > 0:
        rechecks, contacts = _rechecks(store, period, contacts)
    plan = draw_plan(contacts, store.read("agents"), spec, evaluated=set(ev["contact_id"]), complaints=complaints, rechecks=rechecks,
                     auto_scores=period_auto_scores(store, contacts))
    plan.contacts = assign_inspectors(plan.contacts, store.read("inspectors"), seed=spec.seed,
                                      avoid_home_team=spec.avoid_home_team, double_share=spec.double_share)
    return plan


def period_auto_scores(store, contacts: pd.DataFrame) -> pd.Series | None:
    """Each contact's automatic score (its scorecard's roll-up of the stored automatic answers,
    :func:`qa_lib.autoqa.pipeline.auto_scores`; NaN without one), for the targeted rule ``low_auto_score``; None when
    no contact of the period has an automatic answer."""
    from .autoqa.pipeline import auto_scores

    auto = store.auto_answers(contact_ids=contacts["contact_id"])
    if auto.empty:
        return None
    parts = [auto_scores(store.scorecard(sid), part, contacts) for sid, part in auto.groupby("scorecard_id")]
    scores = pd.concat(parts).clip(upper=100.0)  # a bonus item can lift a card's total over 100; the rule only ranks the lowest
    return scores[~scores.index.duplicated()].reindex(contacts["contact_id"].unique())


def _rechecks(store, period: pd.Period, contacts: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Open coaching actions whose re-check date falls on or before the period's end, one row per
    scorecard holding all the action's items; and the contacts with the scorecard that applies to each."""
    from .coaching import DEFAULT_RECHECK_DAYS, split_items

    t = store.table("coaching_actions")
    actions = store.read("coaching_actions", t.c.status == "open")
    if actions.empty:
        return None, contacts
    days = pd.to_numeric(actions["recheck_after_days"], errors="coerce").fillna(DEFAULT_RECHECK_DAYS).astype(int)
    actions = actions.assign(recheck_on=pd.to_datetime(actions["created_on"]) + pd.to_timedelta(days, unit="D"))
    actions = actions[actions["recheck_on"] <= period.end_time]
    if actions.empty:
        return None, contacts
    cards = {sid: store.scorecard(sid) for sid in store.read("scorecards", columns=["scorecard_id"])["scorecard_id"].unique()}
    items = actions.assign(item_id=actions["items"].map(split_items))[["action_id", "item_id"]].explode("item_id")
    held = pd.DataFrame([(sid, i) for sid, card in cards.items() for i in card.item_ids], columns=["scorecard_id", "item_id"])
    hits = items.merge(held, on="item_id").groupby(["action_id", "scorecard_id"]).size().rename("hits").reset_index()
    hits = hits[hits["hits"].to_numpy() == hits["action_id"].map(items.groupby("action_id").size()).to_numpy()]
    rechecks = actions[["action_id", "agent_id", "recheck_on"]].merge(hits[["action_id", "scorecard_id"]], on="action_id")
    return rechecks, contacts.assign(scorecard_id=card_for(contacts, cards))


def card_for(contacts: pd.DataFrame, cards: dict[str, Scorecard]) -> pd.Series:
    """The scorecard id that applies to each contact (by the cards' ``applies_to``); None if none does."""
    out = pd.Series(None, index=contacts.index, dtype=object)
    for sid, card in cards.items():
        needs = [c for k, c in (("direction", "direction"), ("contact_types", "contact_type")) if (card.applies_to or {}).get(k)]
        if set(needs) - set(contacts.columns):  # without them every contact would look like this card's
            raise ParameterError(f"contacts must have the columns {needs} that scorecard {sid!r} applies by; got {sorted(contacts.columns)}")
        out = out.where(out.notna() | ~card.applies(contacts), sid)
    return out


def write_worklists(store, plan_id: str, folder: str | os.PathLike, *, lang: str = "zh") -> list[Path]:
    """Per inspector: a CSV of everything assigned, and a scoring sheet (.xlsx) per scorecard."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pc = store.plan_contacts(plan_id)
    c = store.table("contacts")
    contacts = store.read("contacts", c.c.contact_id.in_(pc["contact_id"].tolist())).set_index("contact_id")
    cards = {sid: store.scorecard(sid) for sid in store.read("scorecards")["scorecard_id"].unique()}
    rows = pd.concat([
        pc.assign(role="first"),
        pc[pc["second_inspector_id"].notna()].assign(inspector_id=lambda d: d["second_inspector_id"], role="second (double scoring)"),
    ], ignore_index=True)
    info = contacts.loc[rows["contact_id"]].reset_index()
    rows = pd.concat([rows.reset_index(drop=True), info.drop(columns=["contact_id", "agent_id"]).reset_index(drop=True)], axis=1)
    rows["scorecard_id"] = card_for(rows, cards)
    auto = store.auto_answers(contact_ids=rows["contact_id"].unique())  # suggestions: only the targeted rows get them (sheets)
    # every file is written to a hidden temporary folder first and moved in only when all are complete
    tmp = Path(tempfile.mkdtemp(prefix=".worklists-", dir=folder))
    try:
        staged = []
        for inspector, part in rows.groupby("inspector_id", sort=True):
            stem = file_stem(inspector)
            cols = ["plan_id", "contact_id", "agent_id", "arm", "reason", "role", "scorecard_id", "start_time", "channel", "queue", "topic", "talk_seconds", "recording_ref"]
            staged.append(write_csv(part.sort_values("start_time")[cols], tmp / f"{stem}.csv"))
            for sid, sub in part.groupby("scorecard_id"):
                staged.append(write_scoring_sheet(tmp / f"{stem}_{file_stem(sid)}.xlsx", cards[sid], sub.sort_values("start_time"), inspector_id=inspector,
                                                  sheet_id=f"{plan_id}-{inspector}", lang=lang, auto=auto[auto["scorecard_id"] == sid] if len(auto) else None))
        written = []
        for path in staged:
            os.replace(path, folder / path.name)
            written.append(folder / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def workload(plan_contacts: pd.DataFrame) -> pd.Series:
    """Contacts per inspector, double-scored contacts counted for both inspectors."""
    return pd.concat([plan_contacts["inspector_id"], plan_contacts["second_inspector_id"].dropna()]).value_counts().sort_index()
