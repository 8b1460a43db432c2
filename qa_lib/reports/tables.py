"""Per-agent and team report content: the month's shared tables, computed once, filtered per report.

:func:`prepare_month` computes everything the month's reports share (scores, item pass
rates, KPIs, trends, the month's evaluations with masked comments) and writes it as
Parquet under ``reports/<month>/_data``; each report notebook then reads only its slice
(:func:`agent_view`, :func:`team_view`), which keeps a report to a fraction of a second.
An agent's view holds that agent's rows and team aggregates only — never another agent's
id or name. Customer text is PII-masked here; HTML escaping is the display's job.

What counts follows :mod:`qa_lib.lifecycle`, through :meth:`qa_lib.store.Store.evaluations`: the
team tables (``scores``, ``items``, ``trend``, ``evaluations`` …) count every evaluation from
``submitted`` on; the agent's own page reads the ``released_*`` tables, computed the same way
from released evaluations only (``released``, ``acknowledged``, ``disputed``, ``resolved``), and
``awaiting``, the number of the agent's evaluations not yet released (a count, no content).
Drafts are in no table.

Every scorecard the month's evaluations use is reported on its own scale and with its own n (``cards``: the headline
scorecard first, then the center's other headline scorecards, then the rest); yes/no items get pass rates, scale and
fault-count items (``scale_items``, ``scale_values``) the distribution of their answers and their mean with its t
interval. CSAT of the VOC feedback linked to the month's contacts is a KPI of each agent and team (``csat_mean``,
``csat_satisfied``). A month with contacts and no evaluations (a center keeping only its contact log) gets its KPI tables
and empty score tables (``has_evaluations`` false).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..calibration import counted_once
from ..errors import NotFoundError, ParameterError
from ..fmt import DASH, check_lang, glossary, kpi_label, missing, num, pct, pct_interval, score, seconds
from ..fmt import interval as fmt_interval
from ..fmt import status as status_word
from ..html import escape, figure_html, month_axis
from ..kpi import contact_kpis, contacts_per_hour, fcr_kpi, load_targets, rate_rows
from ..privacy import mask_pii
from ..quality import MODEL_MONTHS, model_scores
from ..scores import headline_scorecard, item_pass_rates, mean_interval, scale_distribution, scale_item_means

__all__ = ["prepare_month", "ensure_month", "report_folder", "agent_headline", "agent_view", "voc_folder", "training_folder", "team_view", "agent_charts", "team_chart", "figure_html", "escape",
           "agent_cards_html", "team_cards_html", "team_headline", "csat_line", "no_evaluations_line", "kpi_table_html", "rows_html", "texts", "page_lang",
           "agent_sections_html", "team_kpis_html", "glossary_html", "dispute_html", "team_autoqa_html", "ppi_lines", "ppi_official"]

_TABLES = ("agent_kpis", "team_kpis", "targeted", "agents", "cards", "card_items", "roster", "inspectors", "coaching_actions", "ppi")
#: Prediction-powered estimates of the headline scorecard (qa_lib.autoqa.pipeline.prediction_powered); empty without auto-QA.
_PPI_COLUMNS = ["scorecard_id", "group", "metric", "item_id", "estimate", "lo", "hi", "classical_estimate", "classical_lo", "classical_hi",
                "n", "N", "n_effective", "accepted"]
#: Scored from what each audience counts (:data:`qa_lib.lifecycle.AUDIENCES`): the team tables, and the same with this
#: prefix from released evaluations only, for the agent's own page.
_SCORED = ("scores", "card_scores", "items", "team_items", "scale_items", "scale_values", "trend", "evaluations")
#: Item kinds answered with a number on the item's own scale (a scale, or a count of faults).
SCALE_KINDS = ("scale", "deduction")
_AUDIENCES = (("", "team"), ("released_", "agent"))
#: Every table prepare_month writes.
_ALL_TABLES = _TABLES + tuple(f"released_{t}" for t in _SCORED) + ("awaiting",)
_SCORE_COLUMNS = ["agent_id", "team", "n", "mean", "low", "high", "shrunk", "shrunk_sd", "p_below_target", "status", "n_to_decide",
                  "rank", "rank_low", "rank_high", "n_window", "months"]
_EV_COLUMNS = ["evaluation_id", "contact_id", "agent_id", "team", "inspector_id", "scorecard_id", "arm", "status", "start_time", "topic",
               "total_score", "comment", "item_notes", "notes", "excerpt"]
_KPI_COLUMNS = ["group", "kpi", "value", "low", "high", "n", "target", "status", "unit"]
_RATE_COLUMNS = ["scorecard_id", "item_id", "agent_id", "passes", "n", "rate", "low", "high", "shrunk", "status", "team", "window_passes", "window_n"]
_ACTION_COLUMNS = ["agent_id", "action_id", "coach", "items", "agreed_action", "created_on", "recheck_on", "recheck_due", "due_on", "overdue",
                   "days_overdue"]


def _write(folder: Path, name: str, df: pd.DataFrame) -> None:
    df.to_parquet(folder / f"{name}.parquet", index=False)


def prepare_month(store, month, folder: str | Path, *, months_of_trend: int = 6, settings=None) -> Path:
    """Compute the month's shared report tables into ``folder`` (Parquet); return the folder.

    The agents' headline scores are the random-arm scores of the center's headline scorecard (``settings``, default
    :func:`qa_lib.config.settings`; the most used scorecard when it sets none) against its score target; every other
    scorecard of the month is scored too (``card_scores``), against the target only when it is one of the center's
    headline scorecards. Scores, item rates, trends and evaluations are written twice: for the team (every counted
    evaluation) and, prefixed ``released_``, for the agent's own page (released evaluations only); ``awaiting`` counts
    the rest per agent. A month with contacts but no evaluations gets the KPI tables and empty score tables.
    """
    from ..config import settings as center_settings

    s = settings or center_settings()
    p = pd.Period(month, freq="M")
    folder = Path(folder)
    state = _month_state(store, p)  # before reading: a change while preparing makes the next ensure_month prepare again
    agents = store.read("agents")
    team = agents.set_index("agent_id")["team"]
    ev = store.evaluations(p)
    c = store.read_month("contacts", p)
    if ev.empty and c.empty:
        raise NotFoundError(f"no contacts and no evaluations in {p}: nothing to report (import the month's contacts with `qa import contacts FILE`)")
    cards, card_items = _cards(store, ev, s)
    target = s.need_score_target() if len(cards) else s.score_target
    folder.mkdir(parents=True, exist_ok=True)
    c["team"] = c["agent_id"].map(team)
    for prefix, audience in _AUDIENCES:
        _write_scored(store, p, folder, prefix, audience, cards=cards, card_items=card_items, team=team, target=target,
                      item_target=s.item_target, contacts=c, months_of_trend=months_of_trend)
    _write(folder, "awaiting", store.awaiting_release(p))
    targets = load_targets()
    csat, csat_recorded = _linked_csat(store, c, targets)
    handled = c[c["agent_id"].notna()]
    for name, by in (("agent_kpis", "agent_id"), ("team_kpis", "team")):
        _write(folder, name, _kpis(handled, csat, by, targets))
    plan_id = store.latest_plan(str(p))
    targeted = store.plan_contacts(plan_id) if plan_id else pd.DataFrame(columns=["contact_id", "agent_id", "arm", "reason"])
    targeted = targeted[targeted["arm"] == "targeted"][["contact_id", "agent_id", "reason"]]
    _write(folder, "targeted", targeted)
    _write(folder, "agents", agents.reindex(columns=["agent_id", "name", "team", "supervisor", "hire_date", "status"]))
    _write(folder, "inspectors", store.read("inspectors").reindex(columns=["inspector_id", "name"]))
    _write(folder, "coaching_actions", _open_actions(store, agents, p))
    _write(folder, "cards", cards)
    _write(folder, "card_items", card_items)
    _write(folder, "ppi", _ppi(store, p, cards))
    scored = pd.read_parquet(folder / "card_scores.parquet")["agent_id"]
    on_page = agents[agents["agent_id"].isin(set(scored) | set(handled["agent_id"]))]
    _write(folder, "roster", on_page[["agent_id", "team"]].reset_index(drop=True))
    head = {"scorecard_id": cards["scorecard_id"].iloc[0] if len(cards) else None, "target": target, "has_evaluations": bool(len(cards)),
            "csat_recorded": csat_recorded, "item_target": s.item_target, **_queue_abandons(c, targets),
            "lower_is_better": sorted(k for k, v in targets.get("kpis", {}).items() if isinstance(v, dict) and v.get("higher_is_better") is False)}
    (folder / "headline.json").write_text(json.dumps(head), encoding="utf-8")
    (folder / "state.txt").write_text(state, encoding="utf-8")
    (folder / "month.txt").write_text(str(p), encoding="utf-8")  # last: marks the tables complete
    return folder


#: Bumped when a table gains a column the pages read: tables prepared by an older version are prepared again.
_TABLES_FORMAT = 2  # 2: ppi.accepted


def _month_state(store, p: pd.Period) -> str:
    """What the month's tables are prepared from: the evaluations and the automatic answers / gate decisions (and the
    tables' format)."""
    return f"v{_TABLES_FORMAT}|{store.evaluations_state(p)}|{store.auto_answers_state(p)}"


def _ppi(store, p: pd.Period, cards: pd.DataFrame) -> pd.DataFrame:
    """The headline scorecard's prediction-powered team and center estimates of ``p`` (empty without automatic answers)."""
    from ..autoqa.pipeline import prediction_powered

    empty = pd.DataFrame({c: pd.Series(dtype=float if c in ("estimate", "lo", "hi", "classical_estimate", "classical_lo", "classical_hi", "n_effective")
                                       else object) for c in _PPI_COLUMNS})
    if not len(cards) or not store.has_auto_answers(p):  # no auto-QA this month: read no transcript
        return empty
    card = store.scorecard(cards["scorecard_id"].iloc[0], int(cards["version"].iloc[0]))
    try:
        out = prediction_powered(store, card, p)
    except NotFoundError:
        return empty
    return out.assign(scorecard_id=card.id).reindex(columns=_PPI_COLUMNS)


def _cards(store, ev: pd.DataFrame, s) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The month's scorecards (``cards``: the headline first, then the center's other headline scorecards, then the most
    used) and their items (``card_items``: kind, labels, the scale's ends, whether it counts, which way is better)."""
    used = ev.loc[ev["arm"] != "calibration", "scorecard_id"].dropna()
    card_cols = ["scorecard_id", "version", "name_zh", "name_en", "style", "headline", "target"]
    item_cols = ["scorecard_id", "item_id", "section", "kind", "label_zh", "label_en", "scale_low", "scale_high", "counted", "lower_is_better"]
    if used.empty:
        return pd.DataFrame(columns=card_cols), pd.DataFrame(columns=item_cols)
    counts = ev.loc[ev["arm"] == "random", "scorecard_id"].value_counts()
    first = headline_scorecard(ev, s.headline_scorecard) if len(counts) else (s.headline_scorecard if s.headline_scorecard in set(used) else sorted(set(used))[0])
    heads = [first] + [cid for _, cid in getattr(s, "headline_scorecards", ()) if cid != first and cid in set(used)]
    order = list(dict.fromkeys(heads)) + sorted(set(used) - set(heads), key=lambda cid: (-counts.get(cid, 0), cid))
    versions = store.read("scorecards").sort_values("version").drop_duplicates("scorecard_id", keep="last").set_index("scorecard_id")["version"]
    loaded = [store.scorecard(cid, int(versions[cid])) for cid in order]
    cards = pd.DataFrame({"scorecard_id": order, "version": [k.version for k in loaded], "name_zh": [k.label("zh") for k in loaded],
                          "name_en": [k.label("en") for k in loaded], "style": [k.style for k in loaded],
                          "headline": [cid in heads for cid in order], "target": [float(s.score_target) if cid in heads and s.score_target is not None
                                                                                  else np.nan for cid in order]})
    rows = [(k.id, i.id, i.section, i.kind, i.label.get("zh") or i.id, i.label.get("en") or i.id,
             float(i.scale[0]) if i.kind == "scale" else 0.0, float(i.scale[1]) if i.kind == "scale" else float(i.max_count),
             bool(i.scored and not i.bonus), i.kind == "deduction") for k in loaded for i in k.items]
    return cards, pd.DataFrame(rows, columns=item_cols)


def _write_scored(store, p: pd.Period, folder: Path, prefix: str, audience: str, *, cards: pd.DataFrame, card_items: pd.DataFrame,
                  team: pd.Series, target: float | None, item_target: float, contacts: pd.DataFrame, months_of_trend: int) -> None:
    """Scores, item pass rates, scale items, the trend and the month's evaluations from what ``audience`` counts, as
    ``<prefix><table>``."""
    ev = store.evaluations(p, audience=audience)
    ev["team"] = ev["agent_id"].map(team)
    window, window_items = model_window(store, p, audience, team)
    card_scores, model_items = _card_scores(window, window_items, store, cards, target, item_target, p)
    headline = cards["scorecard_id"].iloc[0] if len(cards) else None
    _write(folder, prefix + "scores", card_scores[card_scores["scorecard_id"] == headline].drop(columns="scorecard_id").reset_index(drop=True))
    _write(folder, prefix + "card_scores", card_scores)
    it = store.evaluation_items(p, audience=audience).merge(ev[["evaluation_id", "agent_id", "team", "arm", "scorecard_id"]], on="evaluation_id")
    it_rnd = it[it["arm"] == "random"].merge(card_items[["scorecard_id", "item_id", "kind", "counted"]], on=["scorecard_id", "item_id"], how="left")
    it_rnd = it_rnd[it_rnd["counted"].astype("boolean").fillna(True).astype(bool)]  # context questions and bonus items are not pass/fail
    scale = it_rnd["kind"].isin(SCALE_KINDS)
    _write(folder, prefix + "items", _item_rates(it_rnd[~scale], item_target, team, model_items, _window_evidence(window, window_items, card_items)))
    t_items = it_rnd[~scale & it_rnd["answer"].isin(["yes", "partial", "no"])].assign(passed=lambda d: d["answer"] == "yes")
    _write(folder, prefix + "team_items", t_items.groupby(["scorecard_id", "team", "item_id"])["passed"].agg(team_rate="mean", team_n="size").reset_index())
    stats, values = _scale_tables(it_rnd[scale])
    _write(folder, prefix + "scale_items", stats)
    _write(folder, prefix + "scale_values", values)
    _write(folder, prefix + "trend", _trend(store, p, audience, list(cards["scorecard_id"]), team, months_of_trend))
    _write(folder, prefix + "evaluations", _month_evaluations(ev, it, contacts))


def model_window(store, p: pd.Period, audience: str, team: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The random-arm evaluations (each contact once, :func:`qa_lib.calibration.counted_once`) and their answers of the
    quality model's months up to ``p``, with ``month``, ``team`` and ``hire_date``."""
    agents = store.read("agents").set_index("agent_id")
    frames, items = [], []
    for k in range(MODEL_MONTHS - 1, -1, -1):
        m = p - k
        e = store.evaluations(m, audience=audience)
        e = e[e["arm"] == "random"]
        if len(e):
            frames.append(e.assign(month=str(m)))
            items.append(store.evaluation_items(m, audience=audience))
    if not frames:
        return pd.DataFrame(columns=["evaluation_id", "agent_id", "team", "inspector_id", "month", "scorecard_id"]), pd.DataFrame(columns=["evaluation_id", "item_id", "answer"])
    inspectors = store.read("inspectors")
    experts = inspectors.loc[inspectors["is_expert"].astype("boolean").fillna(False).astype(bool), "inspector_id"] if "is_expert" in inspectors.columns else []
    ev = counted_once(pd.concat(frames, ignore_index=True), experts=list(experts))
    ev["team"] = ev["agent_id"].map(team)
    ev["hire_date"] = ev["agent_id"].map(agents["hire_date"]) if "hire_date" in agents.columns else pd.NaT
    it = pd.concat(items, ignore_index=True)
    return ev, it[it["evaluation_id"].isin(ev["evaluation_id"])]


def _card_scores(window: pd.DataFrame, window_items: pd.DataFrame, store, cards: pd.DataFrame, target: float | None, item_target: float,
                 p: pd.Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`qa_lib.quality.model_scores` of each scorecard (the month's, from its last ``MODEL_MONTHS`` months of
    random-arm evaluations), with ``scorecard_id``; and the model's agent × item pass rates. A scorecard that is not a
    headline one has no target (status ``no target``); one with fewer than 3 agents scored this month has no rows."""
    frames, item_frames = [], []
    for cid, version in zip(cards["scorecard_id"], cards["version"]):
        part = window[window["scorecard_id"] == cid]
        if part.loc[part["month"] == str(p)].dropna(subset=["total_score"])["agent_id"].nunique() < 3:
            continue
        card = store.scorecard(cid, int(version))
        scores, rates = model_scores(part, window_items[window_items["evaluation_id"].isin(part["evaluation_id"])], card, month=p,
                                     target=target, item_target=item_target, months=MODEL_MONTHS)
        frames.append(scores.assign(scorecard_id=cid))
        item_frames.append(rates.assign(scorecard_id=cid))
    empty = pd.DataFrame({col: pd.Series(dtype=object if col in ("agent_id", "team", "status", "scorecard_id") else float)
                          for col in _SCORE_COLUMNS + ["scorecard_id"]})
    out = pd.concat([empty, *frames], ignore_index=True) if frames else empty
    free = out["scorecard_id"].isin(set(cards.loc[~cards["headline"].astype(bool), "scorecard_id"]))
    out.loc[free, "status"] = "no target"
    out.loc[free, ["p_below_target", "n_to_decide"]] = np.nan
    items = pd.concat(item_frames, ignore_index=True) if item_frames else None
    return out, items


def _item_rates(answers: pd.DataFrame, item_target: float, team: pd.Series, model_items: pd.DataFrame | None = None,
                evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """Agent × item pass rates per scorecard (an item id may be on two scorecards), with ``scorecard_id`` and ``team``:
    the quality model's (``model_items``) where it was fitted, :func:`item_pass_rates` for the other scorecards; and the
    answers of the model's months (``window_passes`` of ``window_n``, from ``evidence``)."""
    modelled = set(model_items["scorecard_id"]) if model_items is not None else set()
    frames = [item_pass_rates(g, target=item_target).assign(scorecard_id=cid) for cid, g in answers.groupby("scorecard_id") if cid not in modelled]
    if model_items is not None:
        frames.append(model_items)
    rates = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_RATE_COLUMNS)
    rates["team"] = rates["agent_id"].map(team)
    rates = rates.drop(columns=["window_passes", "window_n"], errors="ignore")
    if evidence is not None and len(rates):
        rates = rates.merge(evidence, on=["scorecard_id", "agent_id", "item_id"], how="left")
    return rates.reindex(columns=_RATE_COLUMNS)


def _window_evidence(window: pd.DataFrame, window_items: pd.DataFrame, card_items: pd.DataFrame) -> pd.DataFrame:
    """Per scorecard, agent and yes/no item: the answers of the quality model's months (random arm, each contact once),
    ``window_passes`` (``yes``) of ``window_n`` (``yes``, ``partial`` or ``no``) — the evidence an item's verdict rests on."""
    cols = ["scorecard_id", "agent_id", "item_id", "window_passes", "window_n"]
    if window.empty or window_items.empty:
        return pd.DataFrame(columns=cols)
    a = window_items.merge(window[["evaluation_id", "agent_id", "scorecard_id"]], on="evaluation_id")
    a = a[a["answer"].isin(["yes", "partial", "no"])].merge(card_items[["scorecard_id", "item_id", "kind"]], on=["scorecard_id", "item_id"])
    a = a[~a["kind"].isin(SCALE_KINDS)]
    g = a.assign(passed=a["answer"] == "yes").groupby(["scorecard_id", "agent_id", "item_id"])["passed"]
    return g.agg(window_passes="sum", window_n="size").reset_index().astype({"window_passes": int, "window_n": int})[cols]


def _open_actions(store, agents: pd.DataFrame, p: pd.Period) -> pd.DataFrame:
    """The coaching actions open on the month's last day (:func:`qa_lib.coaching.open_actions`), the agreed action masked."""
    from ..coaching import open_actions

    actions = store.read("coaching_actions")
    if actions.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _ACTION_COLUMNS})
    out = open_actions(actions, agents.assign(supervisor=agents.get("supervisor", pd.Series(None, index=agents.index))), p.end_time.date())
    out["agreed_action"] = out["agreed_action"].map(lambda v: mask_pii(v) if isinstance(v, str) else v)
    for col in ("created_on", "recheck_on", "due_on"):
        out[col] = out[col].map(lambda d: str(d) if d is not None and d == d else None).astype(object)
    return out.reindex(columns=_ACTION_COLUMNS).reset_index(drop=True)


def _queue_abandons(contacts: pd.DataFrame, targets: dict) -> dict:
    """The center's inbound hotline calls offered and abandoned, and those abandoned in the queue before any agent was
    reached (no agent: they belong to no team), with the center's abandon rate target."""
    need = {"channel", "direction", "abandoned", "agent_id"}
    if contacts.empty or not need <= set(contacts.columns):
        return {}
    inbound = (contacts["channel"] == "hotline") & (contacts["direction"] == "inbound")
    abandoned = inbound & contacts["abandoned"].fillna(False).astype(bool)
    spec = targets.get("kpis", {}).get("abandon_rate") or {}
    return {"inbound_offered": int(inbound.sum()), "abandoned": int(abandoned.sum()), "queue_abandoned": int((abandoned & contacts["agent_id"].isna()).sum()),
            "abandon_target": spec.get("target") if isinstance(spec, dict) else spec}


def _scale_tables(answers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scale and fault-count items: the mean with its t interval (``scale_items``) and how often each value was given
    (``scale_values``), per agent, team and the center (``level``, ``group``)."""
    base = ["scorecard_id", "item_id"]
    a = answers.assign(center="center")
    stats, values = [], []
    for level, col in (("agent", "agent_id"), ("team", "team"), ("center", "center")):
        stats.append(scale_item_means(a, by=[*base, col]).rename(columns={col: "group"}).assign(level=level))
        values.append(scale_distribution(a, by=[*base, col]).rename(columns={col: "group"}).assign(level=level))
    cols = ["level", "group", *base]
    return (pd.concat(stats, ignore_index=True)[[*cols, "n", "mean", "sd", "low", "high"]],
            pd.concat(values, ignore_index=True)[[*cols, "value", "count", "share"]])


def _trend(store, p: pd.Period, audience: str, cards: list, team: pd.Series, months: int) -> pd.DataFrame:
    """Each agent's monthly mean score per scorecard (with SD and n) over ``months`` months, and the team's mean."""
    frames = [store.evaluations(p - k, audience=audience).assign(month=str(p - k)) for k in range(months)]
    hist = pd.concat(frames, ignore_index=True)
    hist = hist[(hist["arm"] == "random") & hist["scorecard_id"].isin(cards)].dropna(subset=["total_score"])
    hist["team"] = hist["agent_id"].map(team)
    cols = ["scorecard_id", "agent_id", "month", "mean", "sd", "n", "team", "team_mean"]
    if hist.empty:
        return pd.DataFrame({col: pd.Series(dtype=float if col in ("mean", "sd", "n", "team_mean") else object) for col in cols})
    a = hist.groupby(["scorecard_id", "agent_id", "month"])["total_score"].agg(mean="mean", sd="std", n="size").reset_index()
    a["team"] = a["agent_id"].map(team)
    tm = hist.groupby(["scorecard_id", "team", "month"])["total_score"].mean().rename("team_mean").reset_index()
    return a.merge(tm, on=["scorecard_id", "team", "month"], how="left")[cols]


def _linked_csat(store, contacts: pd.DataFrame, targets: dict) -> tuple[pd.DataFrame, bool]:
    """CSAT answers (1–5) of the VOC feedback linked to the month's contacts, with the contact's agent and team; and
    whether the center records CSAT (``records: {csat: false}`` gives no figure)."""
    recorded = bool(targets["kpis"].get("csat_satisfied", {}).get("recorded", True))
    t = store.table("voc_feedback")
    fb = store.read("voc_feedback", where=t.c.contact_id.is_not(None) & t.c.csat.is_not(None), columns=["feedback_id", "contact_id", "csat"])
    linked = fb.merge(contacts[["contact_id", "agent_id", "team"]], on="contact_id", how="inner")
    linked = linked[linked["agent_id"].notna()]
    return (linked if recorded else linked.iloc[:0]), recorded


def _kpis(handled: pd.DataFrame, csat: pd.DataFrame, by: str, targets: dict) -> pd.DataFrame:
    """The contact KPIs of each ``by`` group (agent or team) and its CSAT: the mean (1–5, t interval) and the share of
    4s and 5s (``csat_satisfied``, Wilson interval, the center's target)."""
    frames = []
    if len(handled):
        frames += [contact_kpis(handled, by=by, targets=targets), fcr_kpi(handled, by=by, targets=targets),
                   contacts_per_hour(handled, by=by)[_KPI_COLUMNS]]
    if len(csat):
        sat = (csat["csat"] >= 4).groupby(csat[by])
        frames.append(rate_rows(sat.sum(), sat.size(), "csat_satisfied", targets)[_KPI_COLUMNS])
        m = mean_interval(csat, "csat", [by]).rename(columns={by: "group", "mean": "value"})
        m[["low", "high"]] = m[["low", "high"]].clip(1, 5)  # the t interval of few answers reaches past the 1–5 scale: never shown past it
        frames.append(m.assign(kpi="csat_mean", target=None, status="no target", unit="1-5")[_KPI_COLUMNS])
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True)[_KPI_COLUMNS] if frames else pd.DataFrame(columns=_KPI_COLUMNS)


def _month_evaluations(ev: pd.DataFrame, it: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """The month's evaluations with their item comments, masked comments and a masked transcript excerpt."""
    months_ev = ev.merge(contacts[["contact_id", "start_time", "topic", "transcript"]], on="contact_id", how="left")
    comments = it.loc[it["item_comment"].notna() & (it["item_comment"] != ""), ["evaluation_id", "item_id", "item_comment"]]
    notes = comments.assign(note=comments["item_id"] + ": " + comments["item_comment"]).groupby("evaluation_id")["note"].agg("; ".join)
    months_ev["item_notes"] = months_ev["evaluation_id"].map(notes).astype(object).fillna("")
    pairs = comments.assign(pair=[[i, mask_pii(t)] for i, t in zip(comments["item_id"], comments["item_comment"])]).groupby("evaluation_id")["pair"].agg(list)
    months_ev["notes"] = months_ev["evaluation_id"].map(lambda e: json.dumps(pairs.get(e, []), ensure_ascii=False))
    for col in ("comment", "item_notes"):
        months_ev[col] = months_ev[col].map(lambda v: mask_pii(v) if isinstance(v, str) else v)
    months_ev["excerpt"] = months_ev["transcript"].map(lambda v: mask_pii(v)[:160] + "…" if isinstance(v, str) else None)
    return months_ev[_EV_COLUMNS]


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = Path(folder) / f"{name}.parquet"
    if not path.exists():
        raise NotFoundError(f"{path} is missing: run prepare_month for this month first")
    return _cached(str(path), path.stat().st_mtime_ns).copy()


@functools.lru_cache(maxsize=32)
def _cached(path: str, mtime_ns: int) -> pd.DataFrame:
    """The month's tables stay in the warm kernel's module state (never in a report's namespace) between reports."""
    return pd.read_parquet(path)


def report_folder(db_url: str, month: str, data_dir: str) -> Path:
    """The folder of the month's shared tables; the database is opened only if they must be prepared."""
    from ..config import reports_dir
    from ..store import open_store
    from ..summary import parse_month

    if month and data_dir and _prepared(Path(data_dir), parse_month(month)):
        return Path(data_dir)
    store = open_store(db_url or None)
    period = parse_month(month) if month else store.latest_month()
    return ensure_month(store, period, data_dir or reports_dir() / str(period) / "_data")


def _tables_folder(db_url: str, month: str, folder: str, prepared, prepare) -> Path:
    """The month's report folder once ``prepared(folder, period)`` holds; else ``prepare(store, period, folder)`` from the
    database (opened only then). An empty ``month`` means the latest month, an empty ``folder`` reports/<month>."""
    from ..config import reports_dir
    from ..store import open_store
    from ..summary import parse_month

    if month and folder and prepared(folder, parse_month(month)):
        return Path(folder)
    store = open_store(db_url or None)
    period = parse_month(month) if month else store.latest_month()
    out = Path(folder) if folder else reports_dir() / str(period)
    return out if prepared(out, period) else prepare(store, period, out)


def voc_folder(db_url: str, month: str, folder: str, history: int = 6) -> Path:
    """The month's report folder holding the VOC tables (``_data/voc``); prepared from the database if missing."""
    from ..voc import prepare_voc, voc_prepared

    return _tables_folder(db_url, month, folder, lambda f, p: voc_prepared(f, p, history),
                          lambda store, p, out: prepare_voc(store, p, out, history=history))


def training_folder(db_url: str, month: str, folder: str, months: int = 3) -> Path:
    """The month's report folder holding the training tables (``_data/training``); prepared from the database if missing."""
    from ..training import prepare_training, training_prepared

    return _tables_folder(db_url, month, folder, lambda f, p: training_prepared(f, p, months),
                          lambda store, p, out: prepare_training(store, p, out, months=months))


def page_lang(lang: str = "") -> str:
    """The language of a page: ``lang`` (zh or en), or the center's (:func:`qa_lib.config.settings`) when empty."""
    if not lang:
        from ..config import settings

        lang = settings().lang
    return check_lang(lang)


def agent_view(folder: str | Path, agent_id: str, lang: str = "") -> dict:
    """Everything one agent's report shows: only that agent's rows, plus team aggregates — all from released
    evaluations (the ``released_*`` tables), with the number of the agent's evaluations awaiting release (``awaiting``)
    and under dispute (``disputed``). ``cards`` lists the month's scorecards (headline first) and ``card_scores`` the
    agent's score on each (n 0 where none of the agent's calls was scored on it). ``actions``: the agent's coaching
    actions open at the month's end; ``lang``: the page's language (empty: the center's)."""
    folder = Path(folder)
    lang = page_lang(lang)
    agents = _read(folder, "agents").set_index("agent_id")
    if agent_id not in agents.index:
        raise ParameterError(f"agent_id {agent_id!r} is not an agent of this center")
    me = agents.loc[agent_id]
    team = me["team"]
    scores = _read(folder, "released_scores")
    mine = scores[scores["agent_id"] == agent_id]
    team_scores = scores[scores["team"] == team]
    items = _read(folder, "released_items")
    team_items = _read(folder, "released_team_items")
    my_items = items[items["agent_id"] == agent_id].merge(team_items[team_items["team"] == team][["scorecard_id", "item_id", "team_rate", "team_n"]],
                                                          on=["scorecard_id", "item_id"], how="left")
    my_items = my_items.drop(columns=["agent_id", "team"]).sort_values("shrunk")
    kpis = _read(folder, "agent_kpis")
    team_kpis = _read(folder, "team_kpis")
    k = kpis[kpis["group"] == agent_id].drop(columns="group").merge(
        team_kpis[team_kpis["group"] == team][["kpi", "value"]].rename(columns={"value": "team_value"}), on="kpi", how="left")
    trend = _read(folder, "released_trend")
    my_trend = trend[trend["agent_id"] == agent_id].drop(columns=["agent_id"])
    ev = _read(folder, "released_evaluations")
    my_ev = ev[ev["agent_id"] == agent_id].drop(columns=["agent_id", "team"]).sort_values("start_time")
    tg = _read(folder, "targeted")
    my_targeted = my_ev[my_ev["arm"] == "targeted"]
    waiting = _read(folder, "awaiting")
    waiting = waiting[(waiting["agent_id"] == agent_id) & waiting["arm"].isin(["random", "targeted"])]  # calibration scorings are the inspectors'
    actions = _read(folder, "coaching_actions")
    inspectors = _read(folder, "inspectors").set_index("inspector_id")["name"]
    return {
        "agent_id": agent_id, "name": me["name"], "team": team, "month": (folder / "month.txt").read_text(encoding="utf-8"), **_headline(folder),
        "lang": lang, "hire_date": me.get("hire_date"), "supervisor": me.get("supervisor"),
        "actions": actions[actions["agent_id"] == agent_id].drop(columns="agent_id").reset_index(drop=True),
        "inspector_names": inspectors.to_dict(),
        "awaiting": int(waiting["awaiting"].sum()), "disputed": int((my_ev["status"] == "disputed").sum()),
        "score": mine.drop(columns=["agent_id"]).reset_index(drop=True),
        "team_summary": pd.DataFrame([{"agents": len(team_scores), "team_mean": team_scores["mean"].mean(),
                                       "team_shrunk_mean": team_scores["shrunk"].mean()}]),
        "items": my_items.reset_index(drop=True), "kpis": k, "trend": my_trend.reset_index(drop=True),
        "evaluations": my_ev[my_ev["arm"] == "random"].reset_index(drop=True),
        "coaching": my_targeted.reset_index(drop=True), "planned_reviews": tg[tg["agent_id"] == agent_id].drop(columns="agent_id").reset_index(drop=True),
        **_card_part(folder, "released_", ("agent", agent_id), ("team", team)),
    }


def _card_part(folder: Path, prefix: str, mine: tuple[str, str], other: tuple[str, str]) -> dict:
    """The scorecards and the per-scorecard rows of one page: ``card_scores`` of ``mine`` (an agent: the agent's
    row per scorecard; a team: its agents' rows), the scale items of ``mine`` and ``other`` (the comparison level)."""
    cards = _read(folder, "cards")
    card_items = _read(folder, "card_items")
    scores = _read(folder, prefix + "card_scores")
    level, group = mine
    if level == "agent":
        own = cards[["scorecard_id"]].merge(scores[scores["agent_id"] == group], on="scorecard_id", how="left")
        own["n"] = own["n"].fillna(0)
    else:
        names = _read(folder, "agents").set_index("agent_id")["name"]
        own = scores[scores["team"] == group].assign(name=lambda d: d["agent_id"].map(names))
    stats, values = _read(folder, prefix + "scale_items"), _read(folder, prefix + "scale_values")
    pick = lambda d: d[((d["level"] == level) & (d["group"] == group)) | ((d["level"] == other[0]) & (d["group"] == other[1]))]  # noqa: E731
    who = {level: "mine", other[0]: "other"}
    return {"cards": cards, "card_items": card_items, "card_scores": own.reset_index(drop=True),
            "scale": pick(stats).assign(who=lambda d: d["level"].map(who)).drop(columns=["level", "group"]).reset_index(drop=True),
            "scale_values": pick(values).assign(who=lambda d: d["level"].map(who)).drop(columns=["level", "group"]).reset_index(drop=True)}


def team_view(folder: str | Path, team: str, lang: str = "") -> dict:
    """A team's report: the distribution of its agents with intervals, who is reliably below target, KPIs — from every
    counted evaluation; ``unreleased`` says how many of the team's random-arm ones the agents do not see yet. Every
    scorecard of the month (``cards``, headline first) with the team's agents on it (``card_scores``), and the scale
    items of the team beside the center's; ``center_agents``: how many agents of the center each scorecard ranks."""
    folder = Path(folder)
    lang = page_lang(lang)
    roster = _read(folder, "roster")
    teams = sorted(roster["team"].dropna().unique())
    if team not in teams:
        raise ParameterError(f"team must be one of {teams} (teams with agents scored or contacts handled this month); got {team!r}")
    scores = _read(folder, "scores")
    part = scores[scores["team"] == team]
    agents = _read(folder, "agents").set_index("agent_id")["name"]
    part = part.assign(name=part["agent_id"].map(agents))
    kpis = _read(folder, "team_kpis")
    waiting = _read(folder, "awaiting")
    waiting = waiting[waiting["agent_id"].map(_read(folder, "agents").set_index("agent_id")["team"]).eq(team) & (waiting["arm"] == "random")]
    ranked = _read(folder, "card_scores").groupby("scorecard_id").size().to_dict()
    return { **_headline(folder), "lang": lang, "center_agents": ranked,
        "team": team, "month": (folder / "month.txt").read_text(encoding="utf-8"), "unreleased": int(waiting["awaiting"].sum()),
        "scores": part.sort_values("shrunk").reset_index(drop=True),
        "below": part[part["status"] == "missed"].reset_index(drop=True),
        "unclear": part[part["status"] == "not enough evidence"].reset_index(drop=True),
        "kpis": kpis[kpis["group"] == team].drop(columns="group").reset_index(drop=True),
        "ppi": _team_ppi(folder, team),
        **_card_part(folder, "", ("team", team), ("center", "center")),
    }


def _team_ppi(folder: Path, team: str) -> pd.DataFrame:
    """The team's and the center's (``group`` "") prediction-powered rows."""
    ppi = _read(folder, "ppi")
    return ppi[ppi["group"].isin([team, ""])].reset_index(drop=True)


def ensure_month(store, month, folder: str | Path) -> Path:
    """The month's shared tables in ``folder``, prepared now if they are not there yet or the month's evaluations changed
    since (one added, submitted, released, disputed…: what each page counts and shows may have changed)."""
    folder = Path(folder)
    p = pd.Period(month, freq="M")
    state = folder / "state.txt"
    fresh = _prepared(folder, p) and state.exists() and state.read_text(encoding="utf-8") == _month_state(store, p)
    return folder if fresh else prepare_month(store, month, folder)


def _prepared(folder: Path, period: pd.Period) -> bool:
    """True when ``folder`` already holds the shared tables of ``period`` (prepare_month writes month.txt last), every one
    of them (tables prepared before the agent's released-only tables existed are prepared again)."""
    done = folder / "month.txt"
    return (done.exists() and (folder / "headline.json").exists() and done.read_text(encoding="utf-8") == str(period)
            and all((folder / f"{name}.parquet").exists() for name in _ALL_TABLES))


def _headline(folder: Path) -> dict:
    """The month's headline scorecard and score target, as prepared (``scorecard_id``, ``target``)."""
    return json.loads((Path(folder) / "headline.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------ page texts
_TEXTS = {
    "zh": {
        "agent_title": "{name}（{id}）· {team} 组 · {month} 个人质检报告",
        "head_score": "你在「{card}」上的得分最佳估计为 <b>{est}</b> 分（95% 区间 {lo}–{hi}），依据近 {months} 个月 {n_window} 通随机抽检，"
                      "近月权重更大；本月 {n} 通随机抽检的平均分为 {mean}。",
        "verdict_met": "对照目标 {target} 分：<b>达标</b>——即使同时判断全中心所有坐席，也能确定高于目标。",
        "verdict_missed": "对照目标 {target} 分：<b>未达标</b>——即使同时判断全中心所有坐席，也能确定低于目标。",
        "verdict_unclear": "对照目标 {target} 分：<b>证据不足</b>——目前的抽检还不能确定高于或低于目标，再抽检约 {k} 通可以判断。",
        "verdict_level": "对照目标 {target} 分：<b>证据不足</b>——你的估计与目标非常接近，需要超过 200 通抽检才能分出高低，可视为与目标持平。",
        "verdict_none": "此质检表没有得分目标。",
        "weak_intro": "需要关注：", "weak_sep": "；",
        "weak_item": "{label}——近 {months} 个月 {n} 次作答中通过 {k} 次（{rate}，质检项目标 {target}）",
        "weak_coached": "，辅导措施 {action} 进行中，{recheck} 复听",
        "weak_none": "近 {months} 个月没有通过率低于质检项目标 {target} 的项目。",
        "tenure": "你于 {hire} 入职，本月是入职第 {m} 个月。模型按入职阶段（第 1、2、3 个月，3–6 个月，6 个月以上）分别估计新人的学习进度："
                  "早几个月的记录按当时所处的阶段计入，不会直接算作你本月的水平；和你比较的是同一阶段的新人。",
        "awaiting": "另有 {k} 条评估还在审核中：发布后才会在这里显示，随机抽检的也才计入你的得分。",
        "disputed": "你有 {k} 条评估在申诉中：处理之前按原分数计入。",
        "no_released": "本月还没有发布给你的随机抽检评估。", "no_scored": "本月没有你的随机抽检评分。",
        "no_evals": "{month} 没有质检评估：本页只有话务指标（来自通话记录）。导入评估（`qa import evaluations 文件`）后才有质检得分。",
        "h_scores": "各质检表得分", "h_trend": "得分趋势", "h_items": "各质检项通过率", "h_scale": "量表与扣分次数项目",
        "trend_note": "圆点：每月随机抽检的平均分；本月的菱形和竖线：模型的最佳估计和 95% 区间（与开头相同）。",
        "items_note": "柱：模型估计的通过率，竖线为其 95% 区间；圆点：本月实际通过率；虚线：质检项目标 {target}。",
        "h_kpis": "本月话务指标", "h_evals": "本月已发布给你的评估", "h_targeted": "辅导复听的通话（定向抽检，不计入得分）",
        "h_actions": "进行中的辅导措施", "h_dispute": "如何确认或申诉", "h_agents": "坐席得分", "h_team_kpis": "团队话务指标与目标",
        "none_month": "本月没有。", "no_actions": "目前没有进行中的辅导措施。",
        "dispute": "每条发布给你的评估，你可以<b>确认</b>，或对其中的具体项目<b>申诉</b>（每个项目写明理由）。请向你的主管{sup}提出，"
                   "由其在系统中记录（评估编号见上表）。申诉期间这条评估按原分数计入，并标为“申诉中”；主管复核后处理为“维持原判”或“改分”，并写明理由，"
                   "改分后按新分数计入，你能看到处理结果。确认之后评估即为最终结果，不能再申诉。系统本身不设申诉期限，以中心的规定为准。",
        "col_scorecard": "质检表", "col_n": "本月通数", "col_mean": "本月平均", "col_est": "最佳估计（近 {m} 个月）", "col_interval": "95% 区间",
        "col_target": "目标", "col_status": "结论", "col_item": "质检项", "col_month_pass": "本月 通过/作答", "col_window_pass": "近 {m} 个月 通过/作答",
        "col_team_rate": "团队本月通过率", "col_agent": "坐席", "col_need": "还需抽检通数", "col_rank": "全中心排名范围", "col_kpi": "指标",
        "col_value": "数值", "col_size": "样本量", "col_team": "团队", "col_note": "说明", "col_date": "日期", "col_eval": "评估编号",
        "col_topic": "话题", "col_inspector": "质检员", "col_score": "得分", "col_state": "状态", "col_comment": "评语", "col_item_notes": "项目评语",
        "col_excerpt": "通话摘录", "col_action": "措施编号", "col_coach": "辅导人", "col_items": "项目", "col_agreed": "约定内容",
        "col_created": "约定日期", "col_recheck": "复听日期", "col_due": "截止日期", "col_overdue": "是否逾期", "col_scale": "量表",
        "col_mean_scale": "平均", "more_than_200": "超过 200", "rank": "第 {a}–{b} 名（共 {n} 人）", "overdue": "逾期 {d} 天", "not_overdue": "未逾期",
        "fewer_better": "（越少越好）", "mine_agent": "你", "other_agent": "团队", "mine_team": "本组", "other_team": "中心",
        "c_month_mean": "每月平均", "c_team_mean": "团队平均", "c_estimate": "最佳估计与 95% 区间", "c_target": "目标", "c_score": "得分",
        "c_item_est": "模型估计通过率（95% 区间）", "c_item_month": "本月通过率", "c_item_target": "质检项目标", "c_share": "占比",
        "c_below": "确定低于目标", "c_above": "确定高于目标", "c_unclear": "证据不足", "c_none": "无目标",
        "headline_card": "（主质检表）", "no_score_card": "本月无评分", "few_agents": "全中心少于 3 名坐席有评分",
        "eval_status": {"released": "已发布", "acknowledged": "已确认", "disputed": "申诉中", "resolved": "已处理"},
        "kpi_status": {"not recorded": "未记录"},
        "csat_none_recorded": "<b>客户满意度</b>：本中心不记录。", "csat_none": "<b>客户满意度</b>：本月没有关联到通话的满意度调查。",
        "csat": "<b>客户满意度</b>：平均 <b>{mean}</b> / 5（95% 区间 {lo}–{hi}）；满意（4–5 分）<b>{sat}</b>（95% 区间 {sat_int}），{n} 份关联调查{target}。",
        "csat_target": "；目标 {t}：<b>{status}</b>",
        "team_title": "{team} 组 · {month} 团队质检概览",
        "team_first": "本组 {n} 名坐席在「{card}」上有随机抽检评分，对照目标 {target} 分：",
        "team_below": "<b>确定低于目标</b> {k} 人：{names}", "team_below_none": "<b>没有人确定低于目标</b>",
        "team_above": "<b>确定高于目标</b> {k} 人", "team_unclear": "<b>证据不足</b> {k} 人，还需抽检：{names}",
        "team_unclear_none": "没有证据不足的人", "need_item": "{name} 约 {k} 通", "need_many": "{name} 超过 200 通（与目标几乎持平）",
        "list_sep": "、", "clause_sep": "；", "end": "。",
        "fw_note": "“确定”是对全中心所有坐席同时判断的结论：把任何一个人判错的概率合计不超过 5%（Holm 校正），所以比只看一个人的区间更严格。",
        "team_kpi_missed": "团队话务指标确定未达标：{list}。", "team_kpi_ok": "有目标的团队话务指标中，没有确定未达标的。",
        "kpi_vs": "{kpi} {value}（目标 {target}）",
        "unreleased": "得分计入所有已提交的评估（草稿除外）；其中 {k} 条随机抽检评估尚未发布给坐席。",
        "team_no_card": "本月本组没有坐席在此质检表上有随机抽检评分（或全中心不足 3 名坐席有评分）。",
        "team_none": "本月本组没有坐席在主质检表「{card}」上有随机抽检评分（全中心至少需要 3 名坐席有评分）。",
        "card_line": "{n} 名坐席、本月 {calls} 通随机抽检。", "card_no_target": "此质检表没有得分目标（只有中心的主质检表有）。",
        "agents_note": "菱形：模型的最佳估计（近 {m} 个月，借力估计），横线：95% 区间；竖虚线：目标。",
        "abandon_note": "只计接入本组坐席的来电。在排队中、尚未接通任何坐席就挂断的来电不属于任何团队：本月全中心 {q} 通，占全部放弃来电的 {share}，"
                        "只计入中心放弃率 {center}{target}。",
        "center_target": "（目标 {t}）", "lower_better": "≤ {t}", "higher_better": "≥ {t}",
        "scale_range": "{lo} 至 {hi}",
    },
    "en": {
        "agent_title": "{name} ({id}) · team {team} · QA report {month}",
        "head_score": "Your best estimate on “{card}” is <b>{est}</b> (95 % interval {lo}–{hi}), from {n_window} randomly sampled calls over "
                      "the last {months} months, recent ones weighing more; this month's {n} randomly sampled calls average {mean}.",
        "verdict_met": "Against the target of {target}: <b>met</b> — above it even when every agent of the center is judged at once.",
        "verdict_missed": "Against the target of {target}: <b>below target</b> — below it even when every agent of the center is judged at once.",
        "verdict_unclear": "Against the target of {target}: <b>not enough evidence</b> — the calls so far cannot tell above from below; about {k} "
                           "more scored calls would decide it.",
        "verdict_level": "Against the target of {target}: <b>not enough evidence</b> — your estimate is so close to the target that more than 200 "
                         "calls would be needed to tell: treat it as level with the target.",
        "verdict_none": "This scorecard has no score target.",
        "weak_intro": "To work on: ", "weak_sep": "; ",
        "weak_item": "{label} — passed {k} of {n} answers over the last {months} months ({rate}; item target {target})",
        "weak_coached": ", coaching action {action} is open, re-check on {recheck}",
        "weak_none": "No item's pass rate was below the item target of {target} over the last {months} months.",
        "tenure": "You joined on {hire}; this is your month {m}. The model follows new hires' learning by tenure band (months 1, 2, 3, 3–6, "
                  "6+): evidence from earlier months counts at the band you were in then, not as this month's level, and you are compared "
                  "with hires at the same stage.",
        "awaiting": "{k} more evaluation(s) are awaiting release (still in review): they appear here, and the randomly sampled ones count in "
                    "your score, once released.",
        "disputed": "{k} of your evaluations are under dispute: they count as scored until the dispute is resolved.",
        "no_released": "No randomly sampled call of yours has been released to you yet this month.",
        "no_scored": "No randomly sampled call of yours was scored this month.",
        "no_evals": "No evaluations in {month}: this page shows the KPIs from the contact log only; import evaluations "
                    "(`qa import evaluations FILE`) for QA scores.",
        "h_scores": "Your score on each scorecard", "h_trend": "Score over the months", "h_items": "Pass rate per item",
        "h_scale": "Scale and fault-count items",
        "trend_note": "Dots: each month's plain mean of randomly sampled calls; this month's diamond and whisker: the model's best estimate "
                      "and 95 % interval (the same as above).",
        "items_note": "Bars: the model's estimated pass rate, whiskers its 95 % interval; dots: this month's actual pass rate; dashed line: "
                      "the item target of {target}.",
        "h_kpis": "Your KPIs this month", "h_evals": "Evaluations released to you this month",
        "h_targeted": "Calls to review in coaching (targeted reviews, not part of your score)", "h_actions": "Open coaching actions",
        "h_dispute": "How to acknowledge or dispute", "h_agents": "Agents' scores", "h_team_kpis": "Team KPIs against targets",
        "none_month": "None this month.", "no_actions": "No open coaching action.",
        "dispute": "Each evaluation released to you can be <b>acknowledged</b>, or <b>disputed</b> on particular items (a reason for each item). "
                   "Tell your supervisor{sup}, who records it (the evaluation number is in the table above). While disputed, the evaluation "
                   "counts with its score and is flagged “under dispute”; the supervisor reviews it and resolves it as upheld or rescored, "
                   "with a note; a rescored evaluation counts with its new score, and you see the outcome. Once acknowledged an evaluation is "
                   "final and can no longer be disputed. The system sets no deadline for disputes: your center's rules do.",
        "col_scorecard": "scorecard", "col_n": "calls this month", "col_mean": "this month's mean", "col_est": "best estimate ({m} months)",
        "col_interval": "95 % interval", "col_target": "target", "col_status": "verdict", "col_item": "item",
        "col_month_pass": "this month passed/answered", "col_window_pass": "last {m} months passed/answered", "col_team_rate": "team this month",
        "col_agent": "agent", "col_need": "calls still needed", "col_rank": "rank range in the center", "col_kpi": "KPI", "col_value": "value",
        "col_size": "n", "col_team": "team", "col_note": "note", "col_date": "date", "col_eval": "evaluation", "col_topic": "topic",
        "col_inspector": "inspector", "col_score": "score", "col_state": "status", "col_comment": "comment", "col_item_notes": "item comments",
        "col_excerpt": "transcript excerpt", "col_action": "action", "col_coach": "coach", "col_items": "items", "col_agreed": "agreed",
        "col_created": "agreed on", "col_recheck": "re-check on", "col_due": "due", "col_overdue": "overdue", "col_scale": "scale",
        "col_mean_scale": "mean", "more_than_200": "more than 200", "rank": "{a}–{b} of {n}", "overdue": "{d} days overdue", "not_overdue": "no",
        "fewer_better": " (fewer is better)", "mine_agent": "you", "other_agent": "team", "mine_team": "team", "other_team": "center",
        "c_month_mean": "monthly mean", "c_team_mean": "team mean", "c_estimate": "best estimate, 95 % interval", "c_target": "target",
        "c_score": "score", "c_item_est": "estimated pass rate (95 % interval)", "c_item_month": "this month's pass rate",
        "c_item_target": "item target", "c_share": "share", "c_below": "reliably below", "c_above": "reliably above", "c_unclear": "not enough evidence",
        "c_none": "no target", "headline_card": " (headline)", "no_score_card": "no scored call this month", "few_agents": "fewer than 3 agents of the center scored",
        "eval_status": {"released": "released", "acknowledged": "acknowledged", "disputed": "under dispute", "resolved": "resolved"},
        "kpi_status": {"not recorded": "not recorded"},
        "csat_none_recorded": "<b>CSAT</b>: not recorded by this center.",
        "csat_none": "<b>CSAT</b>: no survey linked to a call this month.",
        "csat": "<b>CSAT</b>: mean <b>{mean}</b> / 5 (95 % interval {lo}–{hi}); satisfied (4–5) <b>{sat}</b> (95 % interval {sat_int}), "
                "{n} linked surveys{target}.",
        "csat_target": "; target {t}: <b>{status}</b>",
        "team_title": "Team {team} · QA overview {month}",
        "team_first": "{n} agents of the team were scored on randomly sampled calls on “{card}”; against the target of {target}: ",
        "team_below": "<b>reliably below</b>: {k} — {names}", "team_below_none": "<b>no one is reliably below</b>",
        "team_above": "<b>reliably above</b>: {k}", "team_unclear": "<b>not enough evidence</b>: {k}, calls still needed: {names}",
        "team_unclear_none": "no one without enough evidence", "need_item": "{name} about {k}",
        "need_many": "{name} more than 200 (level with the target)",
        "list_sep": ", ", "clause_sep": "; ", "end": ".",
        "fw_note": "“Reliably” is a verdict on the whole center at once: the chance that anyone at all is wrongly called below or above is "
                   "at most 5 % (Holm correction), stricter than one person's interval.",
        "team_kpi_missed": "Team KPIs reliably below target: {list}.", "team_kpi_ok": "No team KPI with a target is reliably below it.",
        "kpi_vs": "{kpi} {value} (target {target})",
        "unreleased": "Scores count every submitted evaluation (drafts never); {k} of the team's randomly sampled evaluations are not yet "
                      "released to its agents.",
        "team_no_card": "No agent of the team has randomly sampled calls scored on this scorecard this month (or fewer than 3 agents of "
                        "the center have).",
        "team_none": "No agent of the team has randomly sampled calls scored on the headline scorecard “{card}” this month (at least 3 "
                     "agents of the center are needed).",
        "card_line": "{n} agents, {calls} randomly sampled calls this month.", "card_no_target": "This scorecard has no score target (only the center's headline scorecards do).",
        "agents_note": "Diamonds: the model's best estimate (last {m} months, borrowing strength); bars: 95 % interval; dashed line: the target.",
        "abandon_note": "Counts only calls that reached an agent of the team. Calls abandoned in the queue before any agent answered belong "
                        "to no team: {q} this month, {share} of all abandoned calls, counted only in the center's abandon rate of {center}{target}.",
        "center_target": " (target {t})", "lower_better": "≤ {t}", "higher_better": "≥ {t}",
        "scale_range": "{lo} to {hi}",
    },
}


#: The pages' table style: text left, short cells on one line, long ones wrapped.
_CSS = ("<style>table.qa-table td,table.qa-table th{text-align:left !important;white-space:nowrap;padding:2px 8px !important}"
        "table.qa-table td.qa-wrap{white-space:normal;min-width:12em}.qa-note{color:#555}</style>")


def texts(lang: str = "") -> dict:
    """The agent and team pages' words in ``lang`` (zh or en; empty: the center's language)."""
    return _TEXTS[page_lang(lang)]


def _lang(view: dict, lang: str | None) -> str:
    return page_lang(lang or view.get("lang") or "")


def _html_table(header: list[str], rows: list[list], cls: str = "qa-table") -> str:
    """A display table of text cells, every cell escaped (a cell passed as ``("html", s)`` is trusted markup)."""
    def cell(v):
        return v[1] if isinstance(v, tuple) and v and v[0] == "html" else escape(DASH if v is None or (isinstance(v, float) and v != v) else v)

    def td(v):
        text = cell(v)
        return f'<td class="qa-wrap">{text}</td>' if len(text) > 24 else f"<td>{text}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(td(v) for v in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _card_name(card, lang: str, mark: bool = True) -> str:
    """A scorecard's name in ``lang`` (plain text), marked when it is the headline one."""
    name = (card.name_zh if lang == "zh" else card.name_en) or card.scorecard_id
    return name + (_TEXTS[lang]["headline_card"] if mark and card.headline else "")


def _item_labels(view: dict, lang: str) -> dict:
    """(scorecard_id, item_id) → the item's label in ``lang`` (its id only when the scorecard has no label)."""
    ci = view["card_items"]
    col = "label_zh" if lang == "zh" else "label_en"
    return {(c, i): (lab if isinstance(lab, str) and lab else i) for c, i, lab in zip(ci["scorecard_id"], ci["item_id"], ci[col])}


def _label_of(labels: dict, item_id: str) -> str:
    """An item's label when only its id is known (the first scorecard that has it)."""
    return next((lab for (c, i), lab in labels.items() if i == item_id), item_id)


def _months(view: dict, row=None) -> int:
    m = row.get("months") if row is not None else None
    return int(m) if m is not None and not missing(m) else MODEL_MONTHS


def _target_text(t) -> str:
    return DASH if missing(t) else f"{float(t):g}"


def _rate_interval(low, high, est) -> tuple[float, float]:
    """The model's interval of a pass rate, widened to hold its own estimate (bar and whisker from one estimate)."""
    return min(low, est), max(high, est)


def _weak_items(view: dict, lang: str) -> list[dict]:
    """The agent's items to work on: the headline and other scorecards' yes/no items whose pass rate over the model's months
    is below the item target (at least 10 answers), or the model calls below target, or an open coaching action names."""
    it = view["items"]
    target = view.get("item_target") or 0.85
    coached = {}
    for a in view.get("actions", pd.DataFrame()).itertuples():
        for item in str(a.items).split(","):
            coached.setdefault(item.strip(), a)
    labels = _item_labels(view, lang)
    out = []
    for r in it.itertuples():
        wn = getattr(r, "window_n", np.nan)
        wp = getattr(r, "window_passes", np.nan)
        low_rate = not missing(wn) and wn >= 10 and wp / wn < target
        if low_rate or r.status == "missed" or r.item_id in coached:
            out.append({"label": labels.get((r.scorecard_id, r.item_id), r.item_id), "k": wp, "n": wn, "action": coached.get(r.item_id),
                        "rate": wp / wn if not missing(wn) and wn else np.nan, "order": (0 if r.status == "missed" else 1, wp / wn if wn else 1)})
    return sorted(out, key=lambda d: d["order"])


def _tenure_months(view: dict) -> int | None:
    """Which month since hire the report's month is (1 = the month of hire's first 30 days), or None without a hire date."""
    hire = pd.to_datetime(view.get("hire_date"), errors="coerce")
    if hire is None or pd.isna(hire):
        return None
    mid = pd.Period(view["month"], freq="M").start_time + pd.Timedelta(days=14)
    days = (mid - hire).days
    return None if days < 0 else int(days // 30.44) + 1


def agent_headline(view: dict, lang: str | None = None) -> str:
    """The agent page's opening (HTML): how am I doing (the model's estimate and interval beside this month's plain mean),
    the verdict and what it means, what to work on (items below their target over the model's months, with open coaching),
    a new hire's tenure, and what is still in review or under dispute."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    head = _CSS + f"<h2>{escape(T['agent_title'].format(name=view['name'], id=view['agent_id'], team=view['team'], month=view['month']))}</h2>"
    tail = []
    if int(view.get("disputed", 0)):
        tail.append(T["disputed"].format(k=int(view["disputed"])))
    if int(view.get("awaiting", 0)):
        tail.append(T["awaiting"].format(k=int(view["awaiting"])))
    tenure = _tenure_months(view)
    if tenure is not None and tenure <= 6:
        tail.append(T["tenure"].format(hire=str(pd.to_datetime(view["hire_date"]).date()), m=tenure))
    tail_html = "".join(f"<p>{escape(t)}</p>" for t in tail)
    if not view.get("has_evaluations", True):
        return head + f"<p>{escape(no_evaluations_line(view, lang))}</p>" + tail_html
    s = view["score"]
    if not len(s):
        return head + f"<p>{escape(T['no_released'] if view.get('awaiting') else T['no_scored'])}</p>" + tail_html
    r = _on_scale(s).iloc[0]
    card = view["cards"].iloc[0]
    months = _months(view, r)
    text = T["head_score"].format(card=escape(_card_name(card, lang, mark=False)), est=score(r["shrunk"]), lo=score(r["low"]), hi=score(r["high"]),
                                  months=months, n_window=num(r.get("n_window")), n=int(r["n"]), mean=score(r["mean"]))
    target = view.get("target")
    text += " " if lang == "en" else ""
    if missing(target):
        text += T["verdict_none"]
    elif r["status"] == "not enough evidence":
        text += T["verdict_level"].format(target=_target_text(target)) if missing(r["n_to_decide"]) else T["verdict_unclear"].format(
            target=_target_text(target), k=num(r["n_to_decide"]))
    else:
        text += T["verdict_met" if r["status"] == "met" else "verdict_missed"].format(target=_target_text(target))
    weak = _weak_items(view, lang)
    item_target = pct(view.get("item_target") or 0.85, 0)
    if weak:
        parts = []
        for w in weak[:3]:
            p = escape(T["weak_item"].format(label=w["label"], months=months, n=num(w["n"]), k=num(w["k"]), rate=pct(w["rate"]), target=item_target))
            if w["action"] is not None:
                p += escape(T["weak_coached"].format(action=w["action"].action_id, recheck=w["action"].recheck_on or DASH))
            parts.append(p)
        text += f"</p><p><b>{escape(T['weak_intro'])}</b>" + T["weak_sep"].join(parts) + T["end"]
    else:
        text += "</p><p>" + escape(T["weak_none"].format(months=months, target=item_target))
    return head + f"<p>{text}</p>" + tail_html


def no_evaluations_line(view: dict, lang: str | None = None) -> str:
    """One plain line for a month without evaluations (a center keeping only its contact log), else ""."""
    if view.get("has_evaluations", True):
        return ""
    return _TEXTS[_lang(view, lang)]["no_evals"].format(month=view["month"])


def csat_line(view: dict, lang: str | None = None) -> str:
    """The page's CSAT in one line (HTML): the mean (1–5) with its interval, the share satisfied (4–5) with its interval,
    n and the target; or that there are no linked surveys, or that the center does not record CSAT."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    if not view.get("csat_recorded", True):
        return f"<p>{T['csat_none_recorded']}</p>"
    k = view["kpis"].set_index("kpi")
    if "csat_mean" not in k.index or "csat_satisfied" not in k.index:
        return f"<p>{T['csat_none']}</p>"
    m, r = k.loc["csat_mean"], k.loc["csat_satisfied"]
    target = T["csat_target"].format(t=pct(r["target"], 0), status=escape(_kpi_status(r["status"], lang))) if not missing(r["target"]) else ""
    return "<p>" + T["csat"].format(mean=num(m["value"], 2), lo=fmt_interval(m["low"], m["high"], 1, 5, 2).split("–")[0],
                                    hi=fmt_interval(m["low"], m["high"], 1, 5, 2).split("–")[-1], sat=pct(r["value"]),
                                    sat_int=pct_interval(r["low"], r["high"]), n=num(m["n"]), target=target) + "</p>"


def _kpi_status(value, lang: str) -> str:
    extra = _TEXTS[lang]["kpi_status"]
    return extra[value] if value in extra else status_word(value, lang)


def _kpi_value(value, unit: str, lang: str) -> str:
    if unit == "rate":
        return pct(value)
    if unit == "seconds":
        return seconds(value, lang)
    return num(value, 2)


def _kpi_target(view: dict, kpi: str, target, unit: str, lang: str) -> str:
    if missing(target):
        return DASH
    lower = kpi in set(view.get("lower_is_better") or ("abandon_rate", "personal_abandon_rate", "aht_seconds"))
    return _TEXTS[lang]["lower_better" if lower else "higher_better"].format(t=_kpi_value(target, unit, lang))


def kpi_table_html(kpis: pd.DataFrame, view: dict | None = None, lang: str | None = None, notes: dict | None = None) -> str:
    """A KPI table: the KPI's name, its value (%, seconds), interval, n, target (≥ or ≤), verdict, the team's value when
    given (``team_value``) and a note per KPI (``notes``: kpi → text)."""
    view = view or {}
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    notes = notes or {}
    has_team = "team_value" in kpis.columns
    header = [T["col_kpi"], T["col_value"], T["col_interval"], T["col_size"], T["col_target"], T["col_status"]] + ([T["col_team"]] if has_team else [])
    if notes:
        header.append(T["col_note"])
    rows = []
    for r in kpis.itertuples():
        lo, hi = _kpi_value(r.low, r.unit, lang), _kpi_value(r.high, r.unit, lang)
        row = [kpi_label(r.kpi, lang), _kpi_value(r.value, r.unit, lang), DASH if DASH in (lo, hi) else f"{lo}–{hi}", num(r.n),
               _kpi_target(view, r.kpi, r.target, r.unit, lang), _kpi_status(r.status, lang)]
        if has_team:
            row.append(_kpi_value(r.team_value, r.unit, lang))
        if notes:
            row.append(notes.get(r.kpi, ""))
        rows.append(row)
    return _html_table(header, rows, "qa-table qa-kpis")


def rows_html(rows: pd.DataFrame, columns: list[str], formats: dict | None = None, lang: str = "") -> str:
    """``columns`` of ``rows`` as a display table (text escaped), or one line saying there are none this month."""
    if rows.empty:
        return f"<p>{escape(texts(lang)['none_month'])}</p>"
    return _table_html(rows[columns], formats)


def _table_html(df: pd.DataFrame, formats: dict | None = None) -> str:
    """A display table: text cells HTML-escaped, numbers formatted, blanks as ``—``."""
    text = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    return df.style.format(formats or {}, na_rep=DASH).format(escape="html", subset=text).hide(axis="index").to_html()


def _on_scale(scores: pd.DataFrame) -> pd.DataFrame:
    """Score intervals cut to what a score can be (0 to 100, or the mean when bonus points took it above)."""
    top = np.maximum(100.0, scores["mean"].fillna(100.0))
    return scores.assign(low=scores["low"].clip(lower=0.0), high=np.minimum(scores["high"], top))


def _trend_figure(t: pd.DataFrame, target: float, est: pd.Series | None, month: str, lang: str):
    """Each month's plain mean (dots, no whisker) and the team's, and this month's model estimate with its interval
    (the whisker is the interval the page's text gives)."""
    import plotly.graph_objects as go

    T = _TEXTS[lang]
    t = t.sort_values("month")
    fig = go.Figure([
        go.Scatter(x=t["month"], y=t["mean"], mode="lines+markers", name=T["c_month_mean"], customdata=t["n"],
                   hovertemplate="%{x}: %{y:.1f} (n=%{customdata})<extra></extra>"),
        go.Scatter(x=t["month"], y=t["team_mean"], mode="lines+markers", name=T["c_team_mean"], line=dict(dash="dot"),
                   hovertemplate="%{x}: %{y:.1f}<extra></extra>"),
    ])
    if est is not None and not missing(est.get("shrunk")):
        lo, hi = min(est["low"], est["shrunk"]), max(est["high"], est["shrunk"])
        fig.add_trace(go.Scatter(x=[month], y=[est["shrunk"]], mode="markers", name=T["c_estimate"], marker=dict(symbol="diamond", size=12, color="#d62728"),
                                 error_y=dict(type="data", symmetric=False, array=[hi - est["shrunk"]], arrayminus=[est["shrunk"] - lo], visible=True),
                                 hovertemplate=f"%{{y:.1f}} ({lo:.1f}–{hi:.1f})<extra></extra>"))
    if not missing(target):
        fig.add_hline(y=target, line_dash="dash", annotation_text=T["c_target"])
    fig.update_layout(height=300, margin=dict(l=40, r=20, t=30, b=40), yaxis_title=T["c_score"], legend=dict(orientation="h"))
    return month_axis(fig, list(t["month"]) + [month])


def _items_figure(it: pd.DataFrame, labels: dict, item_target: float, lang: str):
    """Yes/no items: the model's pass rate as the bar with its own interval as the whisker, this month's rate as a dot,
    the item target as a line; items by their labels."""
    import plotly.graph_objects as go

    T = _TEXTS[lang]
    x = [labels.get((c, i), i) for c, i in zip(it["scorecard_id"], it["item_id"])]
    lo = np.minimum(it["low"], it["shrunk"])
    hi = np.maximum(it["high"], it["shrunk"])
    fig = go.Figure([
        go.Bar(x=x, y=it["shrunk"], name=T["c_item_est"], marker_color="#8fa8d8",
               error_y=dict(type="data", symmetric=False, array=hi - it["shrunk"], arrayminus=it["shrunk"] - lo),
               hovertemplate="%{x}: %{y:.0%}<extra></extra>"),
        go.Scatter(x=x, y=it["rate"], mode="markers", name=T["c_item_month"], marker=dict(symbol="circle", size=10, color="#333"),
                   customdata=np.stack([it["passes"], it["n"]], axis=1), hovertemplate="%{x}: %{customdata[0]}/%{customdata[1]}<extra></extra>"),
    ])
    if not missing(item_target):
        fig.add_hline(y=item_target, line_dash="dash", line_color="#d62728", annotation_text=f"{T['c_item_target']} {pct(item_target, 0)}")
    fig.update_layout(height=380, margin=dict(l=40, r=20, t=30, b=120), yaxis=dict(range=[0, 1.05], tickformat=".0%"), legend=dict(orientation="h", y=1.12))
    return fig


def _scale_figure(stats: pd.DataFrame, values: pd.DataFrame, meta: pd.DataFrame, labels: dict, lang: str):
    """One panel per scale or fault-count item (titled by its label): the share of answers per value (``labels``: mine /
    other), and each side's mean with its 95 % interval on the item's own scale above the bars."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    T = _TEXTS[lang]
    col = "label_zh" if lang == "zh" else "label_en"
    meta = meta.set_index("item_id")
    ids = [i for i in meta.index if i in set(stats["item_id"])]
    titles = [f"{meta.loc[i, col] or i}{T['fewer_better'] if meta.loc[i, 'lower_is_better'] else ''}" for i in ids]
    fig = make_subplots(rows=len(ids), cols=1, subplot_titles=titles, vertical_spacing=min(0.5 / len(ids), 0.12))
    colors = {"mine": "#636efa", "other": "#ef553b"}
    for row, item in enumerate(ids, start=1):
        lo, hi = meta.loc[item, "scale_low"], meta.loc[item, "scale_high"]
        for who, y_mean in (("mine", 1.12), ("other", 1.24)):
            v = values[(values["item_id"] == item) & (values["who"] == who)]
            m = stats[(stats["item_id"] == item) & (stats["who"] == who)]
            fig.add_trace(go.Bar(x=v["value"], y=v["share"], name=labels[who], marker_color=colors[who], showlegend=row == 1, legendgroup=who,
                                 offsetgroup=who, hovertemplate="%{x}: %{y:.0%}<extra></extra>"), row=row, col=1)
            if len(m):
                mlo, mhi = np.clip(m["low"].fillna(m["mean"]), lo, hi), np.clip(m["high"].fillna(m["mean"]), lo, hi)
                label = f"{labels[who]} {T['col_mean_scale']} {m['mean'].iloc[0]:.2f} (n={int(m['n'].iloc[0])})"
                fig.add_trace(go.Scatter(x=[max(m["mean"].iloc[0], mhi.iloc[0])], y=[y_mean], mode="text", text=[label], textposition="middle right",
                                         textfont=dict(size=11, color=colors[who]), cliponaxis=False, showlegend=False, hoverinfo="skip"), row=row, col=1)
                fig.add_trace(go.Scatter(x=m["mean"], y=[y_mean], mode="markers", marker=dict(color=colors[who], symbol="diamond", size=10),
                                         error_x=dict(type="data", symmetric=False, array=(mhi - m["mean"]).clip(lower=0), arrayminus=(m["mean"] - mlo).clip(lower=0)),
                                         showlegend=False, legendgroup=who, hoverinfo="skip"), row=row, col=1)
        fig.update_xaxes(range=[lo - 0.6, hi + 0.6], dtick=1 if hi - lo <= 20 else None, row=row, col=1)
        fig.update_yaxes(range=[0, 1.32], tickvals=[0, 0.25, 0.5, 0.75, 1], tickformat=".0%", row=row, col=1)
    fig.update_layout(height=120 + 230 * len(ids), margin=dict(l=50, r=20, t=40, b=40), barmode="group", legend=dict(orientation="h"))
    return fig


def agent_charts(view: dict, lang: str | None = None) -> dict[str, str]:
    """The agent report's charts as HTML fragments, per scorecard of ``view["cards"]``: ``trend:<id>`` (monthly means,
    the team's, and this month's model estimate with its interval), ``items:<id>`` (yes/no items: the model's pass rate
    and interval, this month's rate, the item target), ``scale:<id>`` (scale and fault-count items); ``trend`` and
    ``items`` are the headline scorecard's."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    labels = _item_labels(view, lang)
    scores = view["card_scores"].set_index("scorecard_id") if len(view["card_scores"]) else pd.DataFrame()
    out = {}
    for card in view["cards"].itertuples():
        cid = card.scorecard_id
        t = view["trend"][view["trend"]["scorecard_id"] == cid]
        est = scores.loc[cid] if cid in scores.index and scores.loc[cid, "n"] > 0 else None
        if len(t):
            out[f"trend:{cid}"] = figure_html(_trend_figure(t, card.target, est, view["month"], lang))
        it = view["items"][view["items"]["scorecard_id"] == cid]
        if len(it):
            out[f"items:{cid}"] = figure_html(_items_figure(it, labels, view.get("item_target") or 0.85, lang))
        st = view["scale"][view["scale"]["scorecard_id"] == cid]
        if (st["who"] == "mine").any():
            meta = view["card_items"][view["card_items"]["scorecard_id"] == cid]
            out[f"scale:{cid}"] = figure_html(_scale_figure(st, view["scale_values"][view["scale_values"]["scorecard_id"] == cid], meta,
                                                            {"mine": T["mine_agent"], "other": T["other_agent"]}, lang))
    head = view["cards"]["scorecard_id"].iloc[0] if len(view["cards"]) else None
    for key in ("trend", "items"):
        if f"{key}:{head}" in out:
            out[key] = out[f"{key}:{head}"]
    return out


def _scale_table(view: dict, cid: str, who: dict, lang: str) -> str:
    """The scale items of one scorecard as a table: each side's n, mean and interval on the item's own scale."""
    T = _TEXTS[lang]
    col = "label_zh" if lang == "zh" else "label_en"
    st = view["scale"][view["scale"]["scorecard_id"] == cid].set_index(["item_id", "who"])
    meta = view["card_items"][view["card_items"]["scorecard_id"] == cid]
    rows = []
    for m in meta.itertuples():
        if (m.item_id, "mine") not in st.index and (m.item_id, "other") not in st.index:
            continue
        row = [getattr(m, col) or m.item_id, T["scale_range"].format(lo=f"{m.scale_low:g}", hi=f"{m.scale_high:g}")]
        for side in ("mine", "other"):
            if (m.item_id, side) in st.index:
                r = st.loc[(m.item_id, side)]
                row += [num(r["n"]), num(r["mean"], 2), fmt_interval(r["low"], r["high"], m.scale_low, m.scale_high, 2)]
            else:
                row += [DASH, DASH, DASH]
        rows.append(row)
    header = [T["col_item"], T["col_scale"]] + [f"{h}（{who[s]}）" if lang == "zh" else f"{h} ({who[s]})" for s in ("mine", "other")
                                                for h in ("n", T["col_mean_scale"], T["col_interval"])]
    return _html_table(header, rows)


def _score_cells(r, lang: str) -> list[str]:
    """n, this month's mean, the model's estimate, its interval (on the scale), the verdict of one score row."""
    if r is None or missing(r.get("n")) or r["n"] == 0:
        return ["0", DASH, DASH, DASH, _TEXTS[lang]["no_score_card"]]
    return [num(r["n"]), score(r["mean"]), score(r["shrunk"]), fmt_interval(r["low"], r["high"]), status_word(r["status"], lang)]


def agent_cards_html(view: dict, lang: str | None = None) -> str:
    """The agent's scorecards (headline first): a summary (this month's calls and plain mean, the model's estimate and
    interval, target, verdict), then per scorecard its trend, its yes/no items with the model's rate, this month's and
    the model months' answers and the team's rate, and its scale items."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    cards = view["cards"]
    if cards.empty:
        return ""  # the opening paragraph says there are no evaluations
    charts = agent_charts(view, lang)
    labels = _item_labels(view, lang)
    s = _on_scale(cards.merge(view["card_scores"], on="scorecard_id", how="left"))
    m = MODEL_MONTHS
    rows = []
    for card, r in zip(cards.itertuples(), s.to_dict("records")):
        cells = _score_cells(r, lang)
        rows.append([_card_name(card, lang)] + cells[:4] + [_target_text(card.target), cells[4]])
    html = [f"<h2>{escape(T['h_scores'])}</h2>",
            _html_table([T["col_scorecard"], T["col_n"], T["col_mean"], T["col_est"].format(m=m), T["col_interval"], T["col_target"], T["col_status"]], rows)]
    item_target = view.get("item_target") or 0.85
    for card in cards.itertuples():
        cid = card.scorecard_id
        html.append(f"<h2>{escape(_card_name(card, lang))}</h2>")
        if f"trend:{cid}" in charts:
            html.append(f"<h3>{escape(T['h_trend'])}</h3><p class='qa-note'>{escape(T['trend_note'])}</p>{charts[f'trend:{cid}']}")
        if f"items:{cid}" in charts:
            it = view["items"][view["items"]["scorecard_id"] == cid]
            rows = []
            for r in it.itertuples():
                wn, wp = getattr(r, "window_n", np.nan), getattr(r, "window_passes", np.nan)
                lo, hi = _rate_interval(r.low, r.high, r.shrunk)
                rows.append([labels.get((cid, r.item_id), r.item_id), f"{num(r.passes)}/{num(r.n)}",
                             DASH if missing(wn) else f"{num(wp)}/{num(wn)}（{pct(wp / wn)}）" if lang == "zh" else f"{num(wp)}/{num(wn)} ({pct(wp / wn)})",
                             pct(r.shrunk), pct_interval(lo, hi), pct(getattr(r, "team_rate", np.nan)), status_word(r.status, lang)])
            header = [T["col_item"], T["col_month_pass"], T["col_window_pass"].format(m=m), T["col_est"].format(m=m), T["col_interval"],
                      T["col_team_rate"], T["col_status"]]
            html.append(f"<h3>{escape(T['h_items'])}</h3><p class='qa-note'>{escape(T['items_note'].format(target=pct(item_target, 0)))}</p>"
                        f"{charts[f'items:{cid}']}{_html_table(header, rows)}")
        if f"scale:{cid}" in charts:
            html.append(f"<h3>{escape(T['h_scale'])}</h3>{charts[f'scale:{cid}']}"
                        f"{_scale_table(view, cid, {'mine': T['mine_agent'], 'other': T['other_agent']}, lang)}")
        if not any(k.endswith(f":{cid}") for k in charts):
            html.append(f"<p>{escape(T['no_score_card'])}</p>")
    return "\n".join(html)


def _topic(value, lang: str) -> str:
    if not isinstance(value, str) or not value:
        return DASH
    from ..config import settings

    return settings().label("topics", value, lang)


def agent_sections_html(view: dict, lang: str | None = None) -> str:
    """The rest of the agent page: KPIs (the team's beside), the evaluations released to the agent (with the item
    comments under the items' labels), the targeted calls to review, open coaching actions, how to acknowledge or
    dispute, and the glossary."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    labels = _item_labels(view, lang)
    names = {c.scorecard_id: _card_name(c, lang, mark=False) for c in view["cards"].itertuples()}
    inspectors = view.get("inspector_names", {})
    html = [f"<h2>{escape(T['h_kpis'])}</h2>", kpi_table_html(view["kpis"], view, lang) if len(view["kpis"]) else f"<p>{escape(T['none_month'])}</p>"]

    def ev_rows(ev: pd.DataFrame, excerpt: bool) -> list[list]:
        rows = []
        for r in ev.itertuples():
            notes = json.loads(r.notes) if isinstance(getattr(r, "notes", None), str) and r.notes else []
            note = "；".join(f"{labels.get((r.scorecard_id, i), i)}：{c}" for i, c in notes) if lang == "zh" else "; ".join(
                f"{labels.get((r.scorecard_id, i), i)}: {c}" for i, c in notes)
            who = inspectors.get(r.inspector_id)
            row = [str(r.start_time)[:10], r.evaluation_id, names.get(r.scorecard_id, r.scorecard_id), _topic(r.topic, lang),
                   f"{who}（{r.inspector_id}）" if who and lang == "zh" else f"{who} ({r.inspector_id})" if who else r.inspector_id,
                   score(r.total_score), T["eval_status"].get(r.status, r.status), r.comment if isinstance(r.comment, str) else DASH, note or DASH]
            if excerpt:
                row.append(r.excerpt if isinstance(r.excerpt, str) else DASH)
            rows.append(row)
        return rows

    header = [T["col_date"], T["col_eval"], T["col_scorecard"], T["col_topic"], T["col_inspector"], T["col_score"], T["col_state"], T["col_comment"],
              T["col_item_notes"]]
    html.append(f"<h2>{escape(T['h_evals'])}</h2>")
    extra = []
    if int(view.get("awaiting", 0)):
        extra.append(T["awaiting"].format(k=int(view["awaiting"])))
    html += [f"<p>{escape(e)}</p>" for e in extra]
    html.append(_html_table(header, ev_rows(view["evaluations"], False)) if len(view["evaluations"]) else f"<p>{escape(T['none_month'])}</p>")
    html.append(f"<h2>{escape(T['h_targeted'])}</h2>")
    html.append(_html_table(header + [T["col_excerpt"]], ev_rows(view["coaching"], True)) if len(view["coaching"]) else f"<p>{escape(T['none_month'])}</p>")
    html.append(f"<h2>{escape(T['h_actions'])}</h2>")
    acts = view.get("actions", pd.DataFrame())
    if len(acts):
        rows = [[a.action_id, "、".join(_label_of(labels, i.strip()) for i in str(a.items).split(",")) if lang == "zh" else
                 ", ".join(_label_of(labels, i.strip()) for i in str(a.items).split(",")), a.agreed_action if isinstance(a.agreed_action, str) else DASH,
                 inspectors.get(a.coach, a.coach), a.created_on or DASH, a.recheck_on or DASH, a.due_on or DASH,
                 T["overdue"].format(d=int(a.days_overdue)) if a.overdue else T["not_overdue"]] for a in acts.itertuples()]
        html.append(_html_table([T["col_action"], T["col_items"], T["col_agreed"], T["col_coach"], T["col_created"], T["col_recheck"], T["col_due"],
                                 T["col_overdue"]], rows))
    else:
        html.append(f"<p>{escape(T['no_actions'])}</p>")
    html.append(dispute_html(view, lang))
    html.append(glossary_html(lang, ("interval", "not_enough_evidence", "borrowed_strength", "family_wise")))
    return "\n".join(html)


def dispute_html(view: dict, lang: str | None = None) -> str:
    """How the agent acknowledges or disputes an evaluation (:mod:`qa_lib.lifecycle`: released → acknowledged, or
    disputed → resolved as upheld or rescored), to whom (the agent's supervisor)."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    sup = view.get("supervisor")
    sup = "" if not isinstance(sup, str) or not sup else (f" {sup} " if lang == "zh" else f" ({sup})")
    return f"<h2>{escape(T['h_dispute'])}</h2><p>{T['dispute'].format(sup=escape(sup))}</p>"


def glossary_html(lang: str, terms) -> str:
    """The page's glossary (:func:`qa_lib.fmt.glossary`), open at the end of the page."""
    return glossary(check_lang(lang), terms).replace("<details class", "<details open class", 1)


def _agent_name(r, lang: str) -> str:
    name = r.get("name") if isinstance(r, dict) else getattr(r, "name", None)
    aid = r["agent_id"] if isinstance(r, dict) else r.agent_id
    return f"{name}（{aid}）" if lang == "zh" and isinstance(name, str) else f"{name} ({aid})" if isinstance(name, str) else aid


def _need_text(n, lang: str) -> str:
    T = _TEXTS[lang]
    return T["more_than_200"] if missing(n) or n > 200 else num(n)


def team_chart(view: dict, scorecard_id: str | None = None, lang: str | None = None) -> str:
    """Team report chart for one scorecard (default the headline): each agent's model estimate with its 95 % interval
    (on the 0–100 scale), coloured by verdict, and the target when the scorecard has one."""
    import plotly.graph_objects as go

    lang = _lang(view, lang)
    T = _TEXTS[lang]
    cid = scorecard_id or (view["cards"]["scorecard_id"].iloc[0] if len(view.get("cards", [])) else None)
    s = view["card_scores"][view["card_scores"]["scorecard_id"] == cid] if "card_scores" in view else view["scores"]
    s = _on_scale(s.sort_values("shrunk"))
    s = s.assign(label=[_agent_name(r, lang) for r in s.to_dict("records")])
    fig = go.Figure()
    for st, name, color in (("missed", T["c_below"], "#d62728"), ("not enough evidence", T["c_unclear"], "#7f7f7f"), ("met", T["c_above"], "#2ca02c"),
                            ("no target", T["c_none"], "#1f77b4")):
        part = s[s["status"] == st]
        if part.empty:
            continue
        lo, hi = np.minimum(part["low"], part["shrunk"]), np.maximum(part["high"], part["shrunk"])
        fig.add_trace(go.Scatter(y=part["label"], x=part["shrunk"], mode="markers", name=name, marker=dict(symbol="diamond", size=10, color=color),
                                 error_x=dict(type="data", symmetric=False, array=hi - part["shrunk"], arrayminus=part["shrunk"] - lo),
                                 hovertemplate="%{y}: %{x:.1f}<extra></extra>"))
    cards = view.get("cards")
    target = cards.set_index("scorecard_id")["target"].get(cid, np.nan) if cards is not None and len(cards) else view.get("target")
    if not missing(target):
        fig.add_vline(x=target, line_dash="dash", annotation_text=T["c_target"])
    left = max(0.0, float(np.nanmin(s["low"])) - 5) if len(s) else 0.0
    fig.update_layout(height=max(300, 26 * len(s) + 120), margin=dict(l=160, r=20, t=30, b=40), xaxis=dict(range=[left, 100.5], title=T["c_score"]),
                      yaxis=dict(categoryorder="array", categoryarray=list(s["label"])), legend=dict(orientation="h"))
    return figure_html(fig)


def team_cards_html(view: dict, lang: str | None = None) -> str:
    """The team's scorecards (headline first), each on its own scale with its own n: the agents' model estimates with
    intervals in a chart and a table (this month's calls and mean, verdict, calls still needed — "more than 200" past
    200 —, rank range in the center in words), and the team's scale items beside the center's."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    cards = view["cards"]
    if cards.empty:
        return ""  # the opening paragraph says there are no evaluations
    html = []
    total = view.get("center_agents", {})
    for card in cards.itertuples():
        cid = card.scorecard_id
        s = _on_scale(view["card_scores"][view["card_scores"]["scorecard_id"] == cid].sort_values("shrunk"))
        html.append(f"<h2>{escape(_card_name(card, lang))}</h2>")
        if s.empty:
            html.append(f"<p>{escape(T['team_no_card'])}</p>")
        else:
            line = T["card_line"].format(n=len(s), calls=num(s["n"].sum()))
            if missing(card.target):
                line += T["card_no_target"]
            rows = []
            for r in s.to_dict("records"):
                need = _need_text(r["n_to_decide"], lang) if r["status"] == "not enough evidence" else DASH
                rank = T["rank"].format(a=num(r["rank_low"]), b=num(r["rank_high"]), n=num(total.get(cid))) if not missing(r["rank_low"]) else DASH
                rows.append([_agent_name(r, lang), num(r["n"]), score(r["mean"]), score(r["shrunk"]), fmt_interval(r["low"], r["high"]),
                             status_word(r["status"], lang), need, rank])
            header = [T["col_agent"], T["col_n"], T["col_mean"], T["col_est"].format(m=MODEL_MONTHS), T["col_interval"], T["col_status"],
                      T["col_need"], T["col_rank"]]
            html.append(f"<h3>{escape(T['h_agents'])}</h3><p>{escape(line)}</p><p class='qa-note'>{escape(T['agents_note'].format(m=MODEL_MONTHS))}</p>"
                        f"{team_chart(view, cid, lang)}{_html_table(header, rows)}")
        st = view["scale"][view["scale"]["scorecard_id"] == cid]
        if (st["who"] == "mine").any():
            meta = view["card_items"][view["card_items"]["scorecard_id"] == cid]
            who = {"mine": T["mine_team"], "other": T["other_team"]}
            fig = _scale_figure(st, view["scale_values"][view["scale_values"]["scorecard_id"] == cid], meta, who, lang)
            html.append(f"<h3>{escape(T['h_scale'])}</h3>{figure_html(fig)}{_scale_table(view, cid, who, lang)}")
    return "\n".join(html)


def _abandon_note(view: dict, lang: str) -> str:
    T = _TEXTS[lang]
    q, ab, offered = view.get("queue_abandoned"), view.get("abandoned"), view.get("inbound_offered")
    if q is None or not offered:
        return ""
    t = view.get("abandon_target")
    return T["abandon_note"].format(q=num(q), share=pct(q / ab if ab else np.nan), center=pct(ab / offered),
                                    target=T["center_target"].format(t=pct(t)) if not missing(t) else "")


def team_kpis_html(view: dict, lang: str | None = None) -> str:
    """The team's KPIs against their targets, with what is not the team's to answer for beside the abandon rate."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    if not len(view["kpis"]):
        return f"<h2>{escape(T['h_team_kpis'])}</h2><p>{escape(T['none_month'])}</p>"
    note = _abandon_note(view, lang)
    return (f"<h2>{escape(T['h_team_kpis'])}</h2>" + kpi_table_html(view["kpis"], view, lang, {"abandon_rate": note} if note else None)
            + glossary_html(lang, ("interval", "not_enough_evidence", "borrowed_strength", "rank_range", "family_wise")))


def team_headline(view: dict, lang: str | None = None) -> str:
    """The team page's opening (HTML): who is reliably below the target (named) or above it, who needs more calls and
    how many (more than 200 said so), in plain words about the family-wise verdict; the team's KPIs reliably below
    their targets; what is not yet released."""
    lang = _lang(view, lang)
    T = _TEXTS[lang]
    head = _CSS + f"<h2>{escape(T['team_title'].format(team=view['team'], month=view['month']))}</h2>"
    if not view.get("has_evaluations", True):
        return head + f"<p>{escape(no_evaluations_line(view, lang))}</p>" + _kpi_sentence(view, lang)
    card = view["cards"].iloc[0] if len(view.get("cards", [])) else None
    cname = _card_name(card, lang, mark=False) if card is not None else ""
    s = view["scores"]
    if s.empty:
        return head + f"<p>{escape(T['team_none'].format(card=cname))}</p>" + _kpi_sentence(view, lang)
    s = s.sort_values("shrunk")
    below = s[s["status"] == "missed"]
    above = s[s["status"] == "met"]
    unclear = s[s["status"] == "not enough evidence"].assign(_k=lambda d: d["n_to_decide"].fillna(np.inf)).sort_values("_k")
    parts = [T["team_below"].format(k=len(below), names=escape(T["list_sep"].join(
        f"{_agent_name(r, lang)} {score(r['shrunk'])}（{fmt_interval(r['low'], r['high'])}）" if lang == "zh" else
        f"{_agent_name(r, lang)} {score(r['shrunk'])} ({fmt_interval(r['low'], r['high'])})" for r in below.to_dict("records"))))
             if len(below) else T["team_below_none"]]
    parts.append(T["team_above"].format(k=len(above)))
    if len(unclear):
        needs = [T["need_item"].format(name=_agent_name(r, lang), k=num(r["n_to_decide"])) if not missing(r["n_to_decide"]) and r["n_to_decide"] <= 200
                 else T["need_many"].format(name=_agent_name(r, lang)) for r in unclear.to_dict("records")]
        parts.append(T["team_unclear"].format(k=len(unclear), names=escape(T["list_sep"].join(needs))))
    else:
        parts.append(T["team_unclear_none"])
    first = escape(T["team_first"].format(n=len(s), card=cname, target=_target_text(view.get("target")))) + T["clause_sep"].join(parts) + T["end"]
    return (head + f"<p>{first}</p><p class='qa-note'>{escape(T['fw_note'])}</p>" + _kpi_sentence(view, lang)
            + f"<p>{escape(T['unreleased'].format(k=int(view.get('unreleased', 0))))}</p>")


def _kpi_sentence(view: dict, lang: str) -> str:
    """The team's KPIs reliably below their targets, in one sentence."""
    T = _TEXTS[lang]
    k = view["kpis"]
    missed = k[(k["status"] == "missed")] if len(k) else k
    if not len(k) or not k["target"].notna().any():
        return ""
    if not len(missed):
        return f"<p>{escape(T['team_kpi_ok'])}</p>"
    items = [T["kpi_vs"].format(kpi=kpi_label(r.kpi, lang), value=_kpi_value(r.value, r.unit, lang), target=_kpi_target(view, r.kpi, r.target, r.unit, lang))
             for r in missed.itertuples()]
    return f"<p><b>{escape(T['team_kpi_missed'].format(list=T['list_sep'].join(items)))}</b></p>"


_PPI_TEXTS = {
    "zh": {"title": "结合自动质检的估计", "score": "本组均分", "center": "全中心均分",
           "line": "{who} {est}（{lo_hi}），仅用人工随机抽检 {h_est}（{h_lo_hi}）；{n} 通人工评分加上 {N:,} 通电话的自动评分，"
                   "精度相当于人工评 {eff:,} 通。",
           "worse": "{who} {est}（{lo_hi}）：自动评分对本组帮助不大，区间与仅用人工抽检（{h_est}，{h_lo_hi}）相当。",
           "note": "预测增强估计（PPI++）：用全部有转写电话的自动评分，再以人工随机抽检纠正其偏差；区间无论自动评分好坏都有效，"
                   "自动评分越准，区间越窄。各质检项的自动判断都参与，未通过验收的也一样（其偏差同样由人工抽检纠正）。",
           "official": "正式口径仍是仅用人工随机抽检的数字；结合自动质检的估计是同一数字更精确的参考。自动评分不用于给个人打分。",
           "item": "质检项", "human": "仅人工", "both": "结合自动质检", "calls": "相当于人工评（通）", "rates": "各质检项通过率",
           "gate": "自动判断", "accepted": "已通过验收", "not_accepted": "未通过验收"},
    "en": {"title": "Estimates with auto-QA", "score": "Team mean score", "center": "Center mean score",
           "line": "{who} {est} ({lo_hi}); from the human random sample alone {h_est} ({h_lo_hi}). {n} scored calls plus the "
                   "automatic answers on {N:,} calls are as precise as {eff:,} scored calls.",
           "worse": "{who} {est} ({lo_hi}): the automatic answers add little here; the interval is like the human sample's alone "
                    "({h_est}, {h_lo_hi}).",
           "note": "Prediction-powered estimate (PPI++): the automatic answers on every call with a transcript, corrected for their "
                   "bias by the human random sample. The interval is valid however good the automatic answers are; the better "
                   "they are, the narrower it is. Every item's automatic answers take part, accepted or not (the human sample "
                   "corrects their bias just the same).",
           "official": "The official figure remains the human-only one; the estimate with auto-QA is a more precise reading of the "
                       "same quantity. Automatic answers never score an individual agent.",
           "item": "Item", "human": "Human only", "both": "With auto-QA", "calls": "Worth scored calls", "rates": "Item pass rates",
           "gate": "Automatic answers", "accepted": "accepted", "not_accepted": "not accepted"},
}


def ppi_official(lang: str) -> str:
    """The sentence (HTML) that says which figure is official: the human-only one."""
    return f"<p class='qa-note'>{escape(_PPI_TEXTS[lang]['official'])}</p>"


def ppi_lines(rows: pd.DataFrame, group: str, who: str, lang: str) -> str:
    """One sentence (HTML) on ``group``'s prediction-powered mean score beside the human-only one; "" without it."""
    T = _PPI_TEXTS[lang]
    r = rows[(rows["group"] == group) & (rows["metric"] == "score")]
    if r.empty or missing(r["estimate"].iloc[0]):
        return ""
    r = r.iloc[0]
    args = {"who": who, "est": score(r["estimate"]), "lo_hi": fmt_interval(r["lo"], r["hi"]), "h_est": score(r["classical_estimate"]),
            "h_lo_hi": fmt_interval(r["classical_lo"], r["classical_hi"]), "n": int(r["n"]), "N": int(r["N"]),
            "eff": int(round(float(r["n_effective"])))}
    key = "line" if float(r["n_effective"]) >= 1.1 * float(r["n"]) else "worse"
    return f"<p>{escape(T[key].format(**args))}</p>"


def team_autoqa_html(view: dict, lang: str | None = None) -> str:
    """The team's prediction-powered estimates (auto-QA on every call corrected by the random arm) beside the human-only
    ones: the mean score in a sentence, the always-applicable items' pass rates in a table; "" without auto-QA."""
    lang = _lang(view, lang)
    T = _PPI_TEXTS[lang]
    rows = view.get("ppi")
    if rows is None or rows.empty or not rows["estimate"].notna().any():
        return ""
    team = view["team"]
    out = [f"<h3>{escape(T['title'])}</h3>", ppi_lines(rows, team, T["score"], lang)]
    items = rows[(rows["group"] == team) & (rows["metric"] == "pass_rate") & rows["estimate"].notna()]
    if len(items):
        labels = _item_labels(view, lang)
        body = [[_label_of(labels, r["item_id"]), f"{pct(r['classical_estimate'])}（{pct_interval(r['classical_lo'], r['classical_hi'])}）"
                 if lang == "zh" else f"{pct(r['classical_estimate'])} ({pct_interval(r['classical_lo'], r['classical_hi'])})",
                 f"{pct(r['estimate'])}（{pct_interval(r['lo'], r['hi'])}）" if lang == "zh" else f"{pct(r['estimate'])} ({pct_interval(r['lo'], r['hi'])})",
                 num(r["n_effective"]), DASH if not isinstance(r.get("accepted"), (bool, np.bool_)) else T["accepted"] if r["accepted"] else T["not_accepted"]]
                for r in items.to_dict("records")]
        out.append(f"<p>{escape(T['rates'])}</p>" + _html_table([T["item"], T["human"], T["both"], T["calls"], T["gate"]], body))
    out.append(f"<p class='qa-note'>{escape(T['note'])}</p>" + ppi_official(lang))
    return "".join(out)
