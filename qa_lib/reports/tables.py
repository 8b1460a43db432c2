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
from ..html import escape, figure_html, md_text, month_axis
from ..kpi import contact_kpis, contacts_per_hour, fcr_kpi, load_targets, rate_rows
from ..privacy import mask_pii
from ..quality import MODEL_MONTHS, model_scores
from ..scores import headline_scorecard, item_pass_rates, mean_interval, scale_distribution, scale_item_means

__all__ = ["prepare_month", "ensure_month", "report_folder", "agent_headline", "agent_view", "voc_folder", "training_folder", "team_view", "agent_charts", "team_chart", "figure_html", "escape",
           "agent_cards_html", "team_cards_html", "team_headline", "csat_line", "no_evaluations_line", "kpi_table_html", "rows_html"]

_TABLES = ("agent_kpis", "team_kpis", "targeted", "agents", "cards", "card_items", "roster")
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
               "total_score", "comment", "item_notes", "excerpt"]
_KPI_COLUMNS = ["group", "kpi", "value", "low", "high", "n", "target", "status", "unit"]
_RATE_COLUMNS = ["scorecard_id", "item_id", "agent_id", "passes", "n", "rate", "low", "high", "shrunk", "status", "team"]


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
    state = store.evaluations_state(p)  # before reading: a change while preparing makes the next ensure_month prepare again
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
    _write(folder, "agents", agents[["agent_id", "name", "team", "hire_date", "status"]])
    _write(folder, "cards", cards)
    _write(folder, "card_items", card_items)
    scored = pd.read_parquet(folder / "card_scores.parquet")["agent_id"]
    on_page = agents[agents["agent_id"].isin(set(scored) | set(handled["agent_id"]))]
    _write(folder, "roster", on_page[["agent_id", "team"]].reset_index(drop=True))
    head = {"scorecard_id": cards["scorecard_id"].iloc[0] if len(cards) else None, "target": target, "has_evaluations": bool(len(cards)),
            "csat_recorded": csat_recorded}
    (folder / "headline.json").write_text(json.dumps(head), encoding="utf-8")
    (folder / "state.txt").write_text(state, encoding="utf-8")
    (folder / "month.txt").write_text(str(p), encoding="utf-8")  # last: marks the tables complete
    return folder


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
    _write(folder, prefix + "items", _item_rates(it_rnd[~scale], item_target, team, model_items))
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


def _item_rates(answers: pd.DataFrame, item_target: float, team: pd.Series, model_items: pd.DataFrame | None = None) -> pd.DataFrame:
    """Agent × item pass rates per scorecard (an item id may be on two scorecards), with ``scorecard_id`` and ``team``:
    the quality model's (``model_items``) where it was fitted, :func:`item_pass_rates` for the other scorecards."""
    modelled = set(model_items["scorecard_id"]) if model_items is not None else set()
    frames = [item_pass_rates(g, target=item_target).assign(scorecard_id=cid) for cid, g in answers.groupby("scorecard_id") if cid not in modelled]
    if model_items is not None:
        frames.append(model_items)
    rates = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_RATE_COLUMNS)
    rates["team"] = rates["agent_id"].map(team)
    return rates[_RATE_COLUMNS]


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


def agent_view(folder: str | Path, agent_id: str) -> dict:
    """Everything one agent's report shows: only that agent's rows, plus team aggregates — all from released
    evaluations (the ``released_*`` tables), with the number of the agent's evaluations awaiting release (``awaiting``)
    and under dispute (``disputed``). ``cards`` lists the month's scorecards (headline first) and ``card_scores`` the
    agent's score on each (n 0 where none of the agent's calls was scored on it)."""
    folder = Path(folder)
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
    return {
        "agent_id": agent_id, "name": me["name"], "team": team, "month": (folder / "month.txt").read_text(encoding="utf-8"), **_headline(folder),
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


def team_view(folder: str | Path, team: str) -> dict:
    """A team's report: the distribution of its agents with intervals, who is reliably below target, KPIs — from every
    counted evaluation; ``unreleased`` says how many of the team's random-arm ones the agents do not see yet. Every
    scorecard of the month (``cards``, headline first) with the team's agents on it (``card_scores``), and the scale
    items of the team beside the center's."""
    folder = Path(folder)
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
    return { **_headline(folder),
        "team": team, "month": (folder / "month.txt").read_text(encoding="utf-8"), "unreleased": int(waiting["awaiting"].sum()),
        "scores": part.sort_values("shrunk").reset_index(drop=True),
        "below": part[part["status"] == "missed"].reset_index(drop=True),
        "unclear": part[part["status"] == "not enough evidence"].reset_index(drop=True),
        "kpis": kpis[kpis["group"] == team].drop(columns="group").reset_index(drop=True),
        **_card_part(folder, "", ("team", team), ("center", "center")),
    }


def ensure_month(store, month, folder: str | Path) -> Path:
    """The month's shared tables in ``folder``, prepared now if they are not there yet or the month's evaluations changed
    since (one added, submitted, released, disputed…: what each page counts and shows may have changed)."""
    folder = Path(folder)
    p = pd.Period(month, freq="M")
    state = folder / "state.txt"
    fresh = _prepared(folder, p) and state.exists() and state.read_text(encoding="utf-8") == store.evaluations_state(p)
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


#: Page labels, Chinese first (the pages' readers), English beside.
_T = {
    "scorecard": "质检表 Scorecard", "n": "评估数 n", "mean": "平均 mean", "interval": "95 % 区间 interval", "shrunk": "综合估计 estimate",
    "target": "目标 target", "status": "结论 status", "headline": "（主质检表 headline）", "none": "本月无评分 no scored call",
    "trend": "分数趋势 / Score over the months (mean with its 95 % interval, and the team)",
    "items": "是/否项目：通过率 / Yes-no items: pass rates (shrunk, with the 95 % interval; the team beside)",
    "scale": "量表与扣分次数项目 / Scale and fault-count items: how often each value was given, and the mean with its 95 % interval",
    "agents": "坐席得分 / Agents: mean with 95 % interval, and the estimate that borrows strength from the team",
    "item": "项目 item", "label": "名称 label", "range": "量表 scale",
}


def _fmt_interval(low, high, digits: int = 1) -> str:
    """``low–high``, or ``—`` when there is no interval (one value)."""
    return f"{low:.{digits}f}–{high:.{digits}f}" if np.isfinite(low) and np.isfinite(high) else "—"


def _on_scale(scores: pd.DataFrame) -> pd.DataFrame:
    """Score intervals cut to what a score can be (0 to 100, or the mean when bonus points took it above): with two or
    three calls a t interval reaches far past both ends, and the part outside holds no possible mean."""
    top = np.maximum(100.0, scores["mean"].fillna(100.0))
    return scores.assign(low=scores["low"].clip(lower=0.0), high=np.minimum(scores["high"], top))


def _table_html(df: pd.DataFrame, formats: dict | None = None) -> str:
    """A display table: text cells HTML-escaped, numbers formatted, blanks as ``—``."""
    text = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    return df.style.format(formats or {}, na_rep="—").format(escape="html", subset=text).hide(axis="index").to_html()


def _card_name(card) -> str:
    """A scorecard's name for a page (plain text: escape it for HTML): Chinese and English, and whether it is the headline one."""
    return card.name_zh + ("" if card.name_en == card.name_zh else f" / {card.name_en}") + (_T["headline"] if card.headline else "")


def _trend_figure(t: pd.DataFrame, target: float, team_label: str = "team mean"):
    """Monthly means with their 95 % interval and the team's, on a month axis (one month draws as one labelled point)."""
    import plotly.graph_objects as go

    t = t.sort_values("month")
    half = (t["sd"].fillna(0) * 1.96 / np.sqrt(t["n"].clip(lower=1))).where(t["n"] >= 2)
    band = _on_scale(t.assign(low=t["mean"] - half, high=t["mean"] + half))
    fig = go.Figure([
        go.Scatter(x=t["month"], y=t["mean"], mode="lines+markers", name="mean 平均",
                   error_y=dict(type="data", symmetric=False, array=band["high"] - t["mean"], arrayminus=t["mean"] - band["low"], visible=True)),
        go.Scatter(x=t["month"], y=t["team_mean"], mode="lines+markers", name=f"{team_label} 团队平均", line=dict(dash="dot")),
    ])
    if np.isfinite(target):
        fig.add_hline(y=target, line_dash="dash", annotation_text="target 目标")
    fig.update_layout(height=300, margin=dict(l=40, r=20, t=30, b=40), yaxis_title="score 分数", legend=dict(orientation="h"))
    return month_axis(fig, t["month"])


def _items_figure(it: pd.DataFrame):
    """Yes/no items: the agent's shrunk pass rate with its interval, the team's rate beside."""
    import plotly.graph_objects as go

    fig = go.Figure([
        go.Bar(x=it["item_id"], y=it["shrunk"], name="your pass rate 你的通过率 (shrunk)",
               error_y=dict(type="data", symmetric=False, array=(it["high"] - it["shrunk"]).clip(lower=0), arrayminus=(it["shrunk"] - it["low"]).clip(lower=0))),
        go.Scatter(x=it["item_id"], y=it["team_rate"], mode="markers", name="team 团队", marker=dict(symbol="diamond", size=10)),
    ])
    fig.update_layout(height=340, margin=dict(l=40, r=20, t=30, b=80), yaxis=dict(range=[0, 1.05], tickformat=".0%"), legend=dict(orientation="h"))
    return fig


def _scale_figure(stats: pd.DataFrame, values: pd.DataFrame, meta: pd.DataFrame, labels: dict):
    """One panel per scale or fault-count item: the share of answers per value (``labels``: mine / other), and each
    side's mean with its 95 % interval drawn on the item's own scale above the bars."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    meta = meta.set_index("item_id")
    ids = [i for i in meta.index if i in set(stats["item_id"])]
    titles = [f"{i}{' (fewer is better 越少越好)' if meta.loc[i, 'lower_is_better'] else ''}" for i in ids]
    fig = make_subplots(rows=len(ids), cols=1, subplot_titles=titles, vertical_spacing=min(0.5 / len(ids), 0.12))
    colors = {"mine": "#636efa", "other": "#ef553b"}
    for row, item in enumerate(ids, start=1):
        lo, hi = meta.loc[item, "scale_low"], meta.loc[item, "scale_high"]
        for who, y_mean in (("mine", 1.12), ("other", 1.24)):
            v = values[(values["item_id"] == item) & (values["who"] == who)]
            m = stats[(stats["item_id"] == item) & (stats["who"] == who)]
            fig.add_trace(go.Bar(x=v["value"], y=v["share"], name=labels[who], marker_color=colors[who], showlegend=row == 1, legendgroup=who,
                                 offsetgroup=who, hovertemplate="%{x}: %{y:.0%}"), row=row, col=1)
            if len(m):
                label = f"{labels[who]} 平均 mean {m['mean'].iloc[0]:.2f} (n={int(m['n'].iloc[0])})"
                fig.add_trace(go.Scatter(x=[m[["mean", "high"]].max(axis=1).iloc[0]], y=[y_mean], mode="text", text=[label], textposition="middle right",
                                         textfont=dict(size=11, color=colors[who]), cliponaxis=False, showlegend=False, hoverinfo="skip"), row=row, col=1)
                fig.add_trace(go.Scatter(x=m["mean"], y=[y_mean], mode="markers", marker=dict(color=colors[who], symbol="diamond", size=10),
                                         error_x=dict(type="data", symmetric=False, array=(m["high"] - m["mean"]).fillna(0), arrayminus=(m["mean"] - m["low"]).fillna(0)),
                                         name=f"{labels[who]} mean", showlegend=False, legendgroup=who,
                                         hovertemplate=f"{labels[who]} mean %{{x:.2f}} (n={int(m['n'].iloc[0])})"), row=row, col=1)
        fig.update_xaxes(range=[lo - 0.6, hi + 0.6], dtick=1 if hi - lo <= 20 else None, row=row, col=1)
        fig.update_yaxes(range=[0, 1.32], tickvals=[0, 0.25, 0.5, 0.75, 1], tickformat=".0%", row=row, col=1)
    fig.update_layout(height=120 + 230 * len(ids), margin=dict(l=50, r=20, t=40, b=40), barmode="group", legend=dict(orientation="h"))
    return fig


def agent_charts(view: dict) -> dict[str, str]:
    """The agent report's charts as HTML fragments, per scorecard of ``view["cards"]``: ``trend:<id>`` (the agent's
    monthly mean against the team's), ``items:<id>`` (yes/no items: pass rates against the team's), ``scale:<id>``
    (scale and fault-count items: the agent's answers per value beside the team's, with the means); a chart is left out
    when it has nothing to draw. ``trend`` and ``items`` are the headline scorecard's."""
    out = {}
    for card in view["cards"].itertuples():
        cid = card.scorecard_id
        t = view["trend"][view["trend"]["scorecard_id"] == cid]
        if len(t):
            out[f"trend:{cid}"] = figure_html(_trend_figure(t, card.target))
        it = view["items"][view["items"]["scorecard_id"] == cid]
        if len(it):
            out[f"items:{cid}"] = figure_html(_items_figure(it))
        st = view["scale"][view["scale"]["scorecard_id"] == cid]
        if (st["who"] == "mine").any():
            meta = view["card_items"][view["card_items"]["scorecard_id"] == cid]
            out[f"scale:{cid}"] = figure_html(_scale_figure(st, view["scale_values"][view["scale_values"]["scorecard_id"] == cid], meta,
                                                            {"mine": "you 你", "other": "team 团队"}))
    head = view["cards"]["scorecard_id"].iloc[0] if len(view["cards"]) else None
    for key in ("trend", "items"):
        if f"{key}:{head}" in out:
            out[key] = out[f"{key}:{head}"]
    return out


def _scale_table(view: dict, cid: str, labels: dict) -> str:
    """The scale items of one scorecard as a table: each side's n, mean and interval on the item's own scale."""
    st = view["scale"][view["scale"]["scorecard_id"] == cid]
    meta = view["card_items"][view["card_items"]["scorecard_id"] == cid][["item_id", "label_zh", "label_en", "scale_low", "scale_high"]]
    wide = st.pivot_table(index="item_id", columns="who", values=["n", "mean", "low", "high"], aggfunc="first")
    rows = meta.set_index("item_id").loc[[i for i in meta["item_id"] if i in wide.index]]
    get = lambda col, who: wide[col][who].reindex(rows.index) if (col, who) in wide.columns else pd.Series(np.nan, index=rows.index)  # noqa: E731
    table = pd.DataFrame({
        _T["item"]: rows.index, _T["label"]: rows["label_zh"] + " / " + rows["label_en"],
        _T["range"]: [f"{lo:g} … {hi:g}" for lo, hi in zip(rows["scale_low"], rows["scale_high"])],
        f"n {labels['mine']}": get("n", "mine"), f"{_T['mean']} {labels['mine']}": get("mean", "mine"),
        f"{_T['interval']} {labels['mine']}": [_fmt_interval(lo, hi, 2) for lo, hi in zip(get("low", "mine"), get("high", "mine"))],
        f"n {labels['other']}": get("n", "other"), f"{_T['mean']} {labels['other']}": get("mean", "other"),
        f"{_T['interval']} {labels['other']}": [_fmt_interval(lo, hi, 2) for lo, hi in zip(get("low", "other"), get("high", "other"))],
    })
    return _table_html(table, {c: "{:.0f}" for c in table.columns if c.startswith("n ")} | {c: "{:.2f}" for c in table.columns if c.startswith(_T["mean"])})


def agent_cards_html(view: dict) -> str:
    """The agent's scorecards side by side (headline first): a summary table (n, mean, interval, estimate, status per
    scorecard, each on its own scale), then per scorecard its trend, its yes/no items and its scale items."""
    cards = view["cards"]
    if cards.empty:
        return ""  # the opening paragraph says there are no evaluations
    charts = agent_charts(view)
    s = _on_scale(cards.merge(view["card_scores"], on="scorecard_id", how="left"))
    summary = pd.DataFrame({
        _T["scorecard"]: [_card_name(c) for c in cards.itertuples()], _T["n"]: s["n"].fillna(0).astype(int), _T["mean"]: s["mean"],
        _T["interval"]: [_fmt_interval(lo, hi) for lo, hi in zip(s["low"], s["high"])], _T["shrunk"]: s["shrunk"], _T["target"]: cards["target"],
        _T["status"]: s["status"].where(s["n"].fillna(0) > 0, _T["none"]).fillna("fewer than 3 agents scored 少于 3 名坐席有评分"),
    })
    fmt = {_T["mean"]: "{:.1f}", _T["shrunk"]: "{:.1f}", _T["target"]: "{:.0f}"}
    html = [f"<h2>各质检表得分 / Your scores per scorecard</h2>{_table_html(summary, fmt)}"]
    for card in cards.itertuples():
        cid = card.scorecard_id
        html.append(f"<h2>{escape(_card_name(card))}</h2>")
        if f"trend:{cid}" in charts:
            html.append(f"<h3>{_T['trend']}</h3>{charts[f'trend:{cid}']}")
        if f"items:{cid}" in charts:
            it = view["items"][view["items"]["scorecard_id"] == cid]
            cols = ["item_id", "passes", "n", "rate", "low", "high", "shrunk", "team_rate", "status"]
            pct = {c: "{:.0%}" for c in ("rate", "low", "high", "shrunk", "team_rate")}
            html.append(f"<h3>{_T['items']}</h3>{charts[f'items:{cid}']}{_table_html(it[cols], pct)}")
        if f"scale:{cid}" in charts:
            html.append(f"<h3>{_T['scale']}</h3>{charts[f'scale:{cid}']}{_scale_table(view, cid, {'mine': '你 you', 'other': '团队 team'})}")
        if not any(k.endswith(f":{cid}") for k in charts):
            html.append(f"<p>{_T['none']}</p>")
    return "\n".join(html)


def team_chart(view: dict, scorecard_id: str | None = None) -> str:
    """Team report chart for one scorecard (default the headline): each agent's mean with its interval, the shrunk
    estimate, and the target when the scorecard has one."""
    import plotly.graph_objects as go

    cid = scorecard_id or (view["cards"]["scorecard_id"].iloc[0] if len(view.get("cards", [])) else None)
    s = view["card_scores"][view["card_scores"]["scorecard_id"] == cid] if "card_scores" in view else view["scores"]
    s = _on_scale(s.sort_values("shrunk"))
    label = s["agent_id"] + " " + s["name"].fillna("")
    fig = go.Figure([
        go.Scatter(y=label, x=s["mean"], mode="markers", name="mean 平均 (95 % interval 区间)",
                   error_x=dict(type="data", symmetric=False, array=(s["high"] - s["mean"]).clip(lower=0), arrayminus=(s["mean"] - s["low"]).clip(lower=0))),
        go.Scatter(y=label, x=s["shrunk"], mode="markers", name="shrunk estimate 综合估计", marker=dict(symbol="diamond", size=9)),
    ])
    cards = view.get("cards")
    target = cards.set_index("scorecard_id")["target"].get(cid, np.nan) if cards is not None and len(cards) else view["target"]
    if target is not None and np.isfinite(target):
        fig.add_vline(x=target, line_dash="dash", annotation_text="target 目标")
    fig.update_layout(height=max(300, 22 * len(s) + 120), margin=dict(l=120, r=20, t=30, b=40), xaxis=dict(range=[0, 110]), legend=dict(orientation="h"))
    return figure_html(fig)


def team_cards_html(view: dict) -> str:
    """The team's scorecards side by side (headline first), each on its own scale with its own n: the agents' means
    with intervals and estimates, who is below its target, and the scale items of the team beside the center's."""
    cards = view["cards"]
    if cards.empty:
        return ""  # the opening paragraph says there are no evaluations
    html = []
    cols = ["agent_id", "name", "n", "mean", "low", "high", "shrunk", "p_below_target", "status", "n_to_decide", "rank", "rank_low", "rank_high"]
    fmt = {"mean": "{:.1f}", "low": "{:.1f}", "high": "{:.1f}", "shrunk": "{:.1f}", "p_below_target": "{:.0%}", "n": "{:.0f}",
           "n_to_decide": "{:.0f}", "rank": "{:.0f}", "rank_low": "{:.0f}", "rank_high": "{:.0f}"}
    for card in cards.itertuples():
        cid = card.scorecard_id
        s = _on_scale(view["card_scores"][view["card_scores"]["scorecard_id"] == cid].sort_values("shrunk"))
        html.append(f"<h2>{escape(_card_name(card))}</h2>")
        if s.empty:
            html.append("<p>本月本组没有坐席在此质检表上有随机抽样评分（或全中心不足 3 名坐席） / No agent of the team has randomly sampled "
                        "calls scored on this scorecard this month (or fewer than 3 agents of the center have).</p>")
        else:
            calls = int(s["n"].sum())
            line = f"{len(s)} 名坐席、{calls} 通评估 / {len(s)} agents, {calls} evaluations"
            if np.isfinite(card.target):
                line += (f"；目标 {card.target:.0f}：{int((s['status'] == 'missed').sum())} 名确定低于目标 / target {card.target:.0f}: "
                         f"{int((s['status'] == 'missed').sum())} reliably below it, {int((s['status'] == 'not enough evidence').sum())} not yet decided")
            else:
                line += "；此表没有目标 / this scorecard has no target (only the center's headline scorecards do)"
            html.append(f"<h3>{_T['agents']}</h3><p>{escape(line)}.</p>{team_chart(view, cid)}{_table_html(s[cols], fmt)}")
        st = view["scale"][view["scale"]["scorecard_id"] == cid]
        if (st["who"] == "mine").any():
            meta = view["card_items"][view["card_items"]["scorecard_id"] == cid]
            fig = _scale_figure(st, view["scale_values"][view["scale_values"]["scorecard_id"] == cid], meta, {"mine": "team 团队", "other": "center 中心"})
            html.append(f"<h3>{_T['scale']}</h3>{figure_html(fig)}{_scale_table(view, cid, {'mine': '团队 team', 'other': '中心 center'})}")
    return "\n".join(html)


def no_evaluations_line(view: dict) -> str:
    """One plain line for a month without evaluations (a center keeping only its contact log), else ""."""
    if view.get("has_evaluations", True):
        return ""
    return (f"{view['month']} 没有质检评估：本页只有话务指标（来自通话记录）。 / No evaluations in {view['month']}: this page shows the KPIs "
            "from the contact log only; import evaluations (`qa import evaluations FILE`) for QA scores.")


def csat_line(view: dict) -> str:
    """The page's CSAT in one line (Markdown): the mean (1–5) with its t interval, the share satisfied (4–5) with its
    Wilson interval, and n; or that there are no linked surveys, or that the center does not record CSAT."""
    if not view.get("csat_recorded", True):
        return "**客户满意度 CSAT**：本中心不记录 / not recorded by this center."
    k = view["kpis"].set_index("kpi")
    if "csat_mean" not in k.index:
        return "**客户满意度 CSAT**：本月没有关联到通话的满意度调查 / no linked surveys this month (no VOC feedback with a contact_id and a CSAT)."
    m, r = k.loc["csat_mean"], k.loc["csat_satisfied"]
    return (f"**客户满意度 CSAT**：平均 mean **{m['value']:.2f}** / 5（95 % 区间 interval {_fmt_interval(m['low'], m['high'], 2)}）；"
            f"满意 satisfied (4–5) **{r['value']:.0%}**（95 % {r['low']:.0%}–{r['high']:.0%}）；n = {int(m['n'])} 份关联调查 linked surveys"
            + (f"；目标 target {r['target']:.0%}: **{r['status']}**" if pd.notna(r["target"]) else "") + ".")


def rows_html(rows: pd.DataFrame, columns: list[str], formats: dict | None = None) -> str:
    """``columns`` of ``rows`` as a display table (text escaped), or one line saying there are none this month."""
    if rows.empty:
        return "<p>本月没有 / None this month.</p>"
    return _table_html(rows[columns], formats)


def kpi_table_html(kpis: pd.DataFrame) -> str:
    """A KPI table for a page: rates as percentages, durations in seconds, CSAT on 1–5, blanks (not recorded) as ``—``."""
    k = kpis.copy()
    fmt = {"rate": "{:.1%}", "seconds": "{:,.0f}", "1-5": "{:.2f}", "per hour": "{:.2f}"}
    cols = [c for c in ("value", "low", "high", "target", "team_value") if c in k.columns]
    for c in cols:
        k[c] = [("—" if v is None or pd.isna(v) else fmt.get(u, "{:.3g}").format(float(v))) for v, u in zip(k[c], k["unit"])]
    k["n"] = k["n"].fillna(0).astype(int)
    return _table_html(k)


def agent_headline(view: dict) -> str:
    """The agent report's opening paragraph (Markdown): score, interval, shrunk estimate, verdict, what would settle it."""
    s = view["score"]
    head = f"## {md_text(view['name'])} ({md_text(view['agent_id'])}), team {md_text(view['team'])}, {md_text(view['month'])}\n\n"
    waiting, disputed = int(view.get("awaiting", 0)), int(view.get("disputed", 0))
    tail = ""
    if disputed:
        tail += (f"\n\n{disputed} of your evaluations {'is' if disputed == 1 else 'are'} under dispute: "
                 f"{'it counts' if disputed == 1 else 'they count'} as scored until the dispute is resolved.")
    if waiting:
        tail += (f"\n\n{waiting} more evaluation{'' if waiting == 1 else 's'} {'is' if waiting == 1 else 'are'} awaiting release: "
                 "shown here once released, when the randomly sampled ones also count in your score.")
    if not view.get("has_evaluations", True):
        return head + no_evaluations_line(view)
    if not len(s):
        return head + ("No randomly sampled call of yours has been released to you yet this month." if waiting
                       else "No randomly sampled call of yours was scored this month.") + tail
    r = _on_scale(s).iloc[0]
    months = int(r["months"]) if "months" in r and pd.notna(r["months"]) else 1
    text = (f"Your mean score this month is **{r['mean']:.1f}** from {int(r['n'])} randomly sampled calls released to you. "
            f"Taking your last {months} months into account (recent ones weighing more), which inspectors scored them and your "
            f"team, the best estimate of your score is **{r['shrunk']:.1f}** (95 % interval {r['low']:.1f} to {r['high']:.1f}). "
            f"Against the target of {view['target']:.0f}: **{r['status']}**")
    if r["status"] == "not enough evidence":
        n = r["n_to_decide"]
        text += (f" — about {int(n)} scored calls would settle it." if np.isfinite(n)
                 else " — your mean sits right on the target, so more calls will not settle it either way.")
    else:
        text += "."
    return head + text + tail


def team_headline(view: dict) -> str:
    """The team report's opening paragraph (Markdown): agents scored on the headline scorecard, how many are reliably
    below its target or undecided, what is not released yet; for a month without evaluations, a line saying so."""
    head = f"## 团队 Team {md_text(view['team'])}, {md_text(view['month'])}\n\n"
    if not view.get("has_evaluations", True):
        return head + no_evaluations_line(view)
    card = view["cards"].iloc[0] if len(view.get("cards", [])) else None
    name = f" on the headline scorecard {md_text(card['name_en'])} ({md_text(card['name_zh'])})" if card is not None else ""
    if view["scores"].empty:
        return head + f"No agent of the team has randomly sampled calls scored{name} this month (at least 3 agents of the center are needed)."
    return head + (
        f"{len(view['scores'])} agents scored{name}. "
        f"**{len(view['below'])}** reliably below the target of {view['target']:.0f} (a verdict for the whole list: at most a 5 % chance that "
        "any agent of the center is wrongly called below or above it); "
        f"**{len(view['unclear'])}** without enough evidence either way — a low average from a handful of calls is not yet a verdict. "
        f"The scores count every submitted evaluation, drafts never; {view['unreleased']} of the team's randomly sampled evaluations are not yet "
        "released to its agents.")
