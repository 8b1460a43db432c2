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
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import NotFoundError, ParameterError
from ..html import escape, figure_html, md_text
from ..kpi import contact_kpis, contacts_per_hour, fcr_kpi, load_targets
from ..privacy import mask_pii
from ..scores import agent_scores, headline_scorecard, item_pass_rates

__all__ = ["prepare_month", "ensure_month", "report_folder", "agent_headline", "agent_view", "voc_folder", "training_folder", "team_view", "agent_charts", "team_chart", "figure_html", "escape"]

_TABLES = ("scores", "items", "team_items", "agent_kpis", "team_kpis", "trend", "evaluations", "targeted", "agents")
#: Scored from what each audience counts (:data:`qa_lib.lifecycle.AUDIENCES`): the team tables, and the same with this
#: prefix from released evaluations only, for the agent's own page.
_SCORED = ("scores", "items", "team_items", "trend", "evaluations")
_AUDIENCES = (("", "team"), ("released_", "agent"))
#: Every table prepare_month writes.
_ALL_TABLES = _TABLES + tuple(f"released_{t}" for t in _SCORED) + ("awaiting",)
_SCORE_COLUMNS = ["agent_id", "team", "n", "mean", "low", "high", "shrunk", "shrunk_sd", "p_below_target", "status", "n_to_decide",
                  "rank", "rank_low", "rank_high"]
_EV_COLUMNS = ["evaluation_id", "contact_id", "agent_id", "team", "inspector_id", "arm", "status", "start_time", "topic", "total_score",
               "comment", "item_notes", "excerpt"]


def _write(folder: Path, name: str, df: pd.DataFrame) -> None:
    df.to_parquet(folder / f"{name}.parquet", index=False)


def prepare_month(store, month, folder: str | Path, *, months_of_trend: int = 6, settings=None) -> Path:
    """Compute the month's shared report tables into ``folder`` (Parquet); return the folder.

    The agents' headline scores are the random-arm scores of the center's headline scorecard (``settings``, default
    :func:`qa_lib.config.settings`; the most used scorecard when it sets none) against its score target. Scores, item
    rates, trends and evaluations are written twice: for the team (every counted evaluation) and, prefixed
    ``released_``, for the agent's own page (released evaluations only); ``awaiting`` counts the rest per agent.
    """
    from ..config import settings as center_settings

    s = settings or center_settings()
    target = s.need_score_target()
    p = pd.Period(month, freq="M")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = store.evaluations_state(p)  # before reading: a change while preparing makes the next ensure_month prepare again
    agents = store.read("agents")
    team = agents.set_index("agent_id")["team"]
    ev = store.evaluations(p)
    if ev.empty:
        raise NotFoundError(f"no evaluations in {p}: nothing to report")
    card = headline_scorecard(ev, s.headline_scorecard)
    cards = store.read("scorecards").sort_values("version").drop_duplicates("scorecard_id", keep="last")
    not_scored = {i.id for sid, v in zip(cards["scorecard_id"], cards["version"]) for i in store.scorecard(sid, int(v)).items if not i.scored or i.bonus}
    c = store.read_month("contacts", p)
    c["team"] = c["agent_id"].map(team)
    for prefix, audience in _AUDIENCES:
        _write_scored(store, p, folder, prefix, audience, card=card, team=team, target=target, item_target=s.item_target,
                      not_scored=not_scored, contacts=c, months_of_trend=months_of_trend)
    _write(folder, "awaiting", store.awaiting_release(p))
    targets = load_targets()
    handled = c[c["agent_id"].notna()]
    cols = ["group", "kpi", "value", "low", "high", "n", "target", "status", "unit"]
    for name, by in (("agent_kpis", "agent_id"), ("team_kpis", "team")):
        frames = [contact_kpis(handled, by=by, targets=targets), fcr_kpi(handled, by=by, targets=targets), contacts_per_hour(handled, by=by)[cols]]
        _write(folder, name, pd.concat(frames, ignore_index=True))
    plan_id = store.latest_plan(str(p))
    targeted = store.plan_contacts(plan_id) if plan_id else pd.DataFrame(columns=["contact_id", "agent_id", "arm", "reason"])
    targeted = targeted[targeted["arm"] == "targeted"][["contact_id", "agent_id", "reason"]]
    _write(folder, "targeted", targeted)
    _write(folder, "agents", agents[["agent_id", "name", "team", "hire_date", "status"]])
    (folder / "headline.json").write_text(json.dumps({"scorecard_id": card, "target": target}), encoding="utf-8")
    (folder / "state.txt").write_text(state, encoding="utf-8")
    (folder / "month.txt").write_text(str(p), encoding="utf-8")  # last: marks the tables complete
    return folder


def _write_scored(store, p: pd.Period, folder: Path, prefix: str, audience: str, *, card: str, team: pd.Series, target: float,
                  item_target: float, not_scored: set, contacts: pd.DataFrame, months_of_trend: int) -> None:
    """Scores, item pass rates, the trend and the month's evaluations from what ``audience`` counts, as ``<prefix><table>``."""
    ev = store.evaluations(p, audience=audience)
    ev["team"] = ev["agent_id"].map(team)
    rnd = ev[(ev["arm"] == "random") & (ev["scorecard_id"] == card)]
    _write(folder, prefix + "scores", _scores(rnd, target, required=audience == "team"))
    it = store.evaluation_items(p, audience=audience).merge(ev[["evaluation_id", "agent_id", "team", "arm", "scorecard_id"]], on="evaluation_id")
    it_rnd = it[(it["arm"] == "random") & ~it["item_id"].isin(not_scored)]  # context questions and bonus items are not pass/fail
    rates = item_pass_rates(it_rnd, target=item_target) if len(it_rnd) else pd.DataFrame(
        columns=["item_id", "agent_id", "passes", "n", "rate", "low", "high", "shrunk", "status"])
    rates["team"] = rates["agent_id"].map(team)
    _write(folder, prefix + "items", rates)
    t_items = it_rnd[it_rnd["answer"].isin(["yes", "partial", "no"])].assign(passed=lambda d: d["answer"] == "yes")
    _write(folder, prefix + "team_items", t_items.groupby(["team", "item_id"])["passed"].agg(team_rate="mean", team_n="size").reset_index())
    _write(folder, prefix + "trend", _trend(store, p, audience, card, team, months_of_trend))
    _write(folder, prefix + "evaluations", _month_evaluations(ev, it, contacts))


def _scores(rnd: pd.DataFrame, target: float, *, required: bool) -> pd.DataFrame:
    """:func:`agent_scores` of the random-arm evaluations; an empty table when fewer than 3 agents have one and ``required`` is false
    (nothing released yet)."""
    if not required and rnd.dropna(subset=["total_score"])["agent_id"].nunique() < 3:
        return pd.DataFrame({col: pd.Series(dtype=object if col in ("agent_id", "team", "status") else float) for col in _SCORE_COLUMNS})
    return agent_scores(rnd, target=target)


def _trend(store, p: pd.Period, audience: str, card: str, team: pd.Series, months: int) -> pd.DataFrame:
    """Each agent's monthly mean headline score (with SD and n) over ``months`` months, and the team's mean."""
    frames = [store.evaluations(p - k, audience=audience).assign(month=str(p - k)) for k in range(months)]
    hist = pd.concat(frames, ignore_index=True)
    hist = hist[(hist["arm"] == "random") & (hist["scorecard_id"] == card)]
    hist["team"] = hist["agent_id"].map(team)
    a = hist.groupby(["agent_id", "month"])["total_score"].agg(mean="mean", sd="std", n="size").reset_index()
    a["team"] = a["agent_id"].map(team)
    tm = hist.groupby(["team", "month"])["total_score"].mean().rename("team_mean").reset_index()
    return a.merge(tm, on=["team", "month"], how="left")


def _month_evaluations(ev: pd.DataFrame, it: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """The month's evaluations with their item comments, masked comments and a masked transcript excerpt."""
    months_ev = ev.merge(contacts[["contact_id", "start_time", "topic", "transcript"]], on="contact_id", how="left")
    comments = it.loc[it["item_comment"].notna() & (it["item_comment"] != ""), ["evaluation_id", "item_id", "item_comment"]]
    notes = comments.assign(note=comments["item_id"] + ": " + comments["item_comment"]).groupby("evaluation_id")["note"].agg("; ".join)
    months_ev["item_notes"] = months_ev["evaluation_id"].map(notes).fillna("")
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
    and under dispute (``disputed``)."""
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
    my_items = items[items["agent_id"] == agent_id].merge(team_items[team_items["team"] == team][["item_id", "team_rate", "team_n"]], on="item_id", how="left")
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
    }


def team_view(folder: str | Path, team: str) -> dict:
    """A team's report: the distribution of its agents with intervals, who is reliably below target, KPIs — from every
    counted evaluation; ``unreleased`` says how many of the team's random-arm ones the agents do not see yet."""
    folder = Path(folder)
    scores = _read(folder, "scores")
    part = scores[scores["team"] == team]
    if part.empty:
        raise ParameterError(f"team {team!r} has no scored agents this month")
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


def agent_charts(view: dict) -> dict[str, str]:
    """The agent report's charts as HTML fragments: score trend against the team, item pass rates against the team."""
    import plotly.graph_objects as go

    t = view["trend"].sort_values("month")
    half = 1.96 * t["sd"].fillna(0) / np.sqrt(t["n"].clip(lower=1))
    trend = go.Figure([
        go.Scatter(x=t["month"], y=t["mean"], mode="lines+markers", name="your mean score", error_y=dict(type="data", array=half, visible=True)),
        go.Scatter(x=t["month"], y=t["team_mean"], mode="lines", name="team mean", line=dict(dash="dot")),
    ])
    trend.add_hline(y=view["target"], line_dash="dash", annotation_text="target")
    trend.update_layout(height=320, margin=dict(l=40, r=20, t=30, b=40), yaxis_title="score (95 % interval)", legend=dict(orientation="h"))
    it = view["items"]
    items = go.Figure([
        go.Bar(x=it["item_id"], y=it["shrunk"], name="your pass rate (shrunk)",
               error_y=dict(type="data", symmetric=False, array=(it["high"] - it["shrunk"]).clip(lower=0), arrayminus=(it["shrunk"] - it["low"]).clip(lower=0))),
        go.Scatter(x=it["item_id"], y=it["team_rate"], mode="markers", name="team", marker=dict(symbol="diamond", size=10)),
    ])
    items.update_layout(height=340, margin=dict(l=40, r=20, t=30, b=80), yaxis=dict(range=[0, 1.05], tickformat=".0%"), legend=dict(orientation="h"))
    return {"trend": figure_html(trend), "items": figure_html(items)}


def team_chart(view: dict) -> str:
    """Team report chart: each agent's mean with its interval, the shrunk estimate, and the target."""
    import plotly.graph_objects as go

    s = view["scores"].sort_values("shrunk")
    label = s["agent_id"] + " " + s["name"].fillna("")
    fig = go.Figure([
        go.Scatter(y=label, x=s["mean"], mode="markers", name="mean (95 % interval)",
                   error_x=dict(type="data", symmetric=False, array=(s["high"] - s["mean"]).clip(lower=0), arrayminus=(s["mean"] - s["low"]).clip(lower=0))),
        go.Scatter(y=label, x=s["shrunk"], mode="markers", name="shrunk estimate", marker=dict(symbol="diamond", size=9)),
    ])
    fig.add_vline(x=view["target"], line_dash="dash", annotation_text="target")
    fig.update_layout(height=max(300, 22 * len(s)), margin=dict(l=120, r=20, t=30, b=40), xaxis=dict(range=[0, 110]), legend=dict(orientation="h"))
    return figure_html(fig)


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
    if not len(s):
        return head + ("No randomly sampled call of yours has been released to you yet this month." if waiting
                       else "No randomly sampled call of yours was scored this month.") + tail
    r = s.iloc[0]
    text = (f"Your mean score is **{r['mean']:.1f}** from {int(r['n'])} randomly sampled calls released to you"
            + (f" (95 % interval {r['low']:.1f} to {r['high']:.1f})" if np.isfinite(r["low"]) else " (one call: no interval yet)")
            + f"; taking your team into account, the best estimate is **{r['shrunk']:.1f}**. "
            f"Against the target of {view['target']:.0f}: **{r['status']}**")
    if r["status"] == "not enough evidence":
        n = r["n_to_decide"]
        text += (f" — about {int(n)} scored calls would settle it." if np.isfinite(n)
                 else " — your mean sits right on the target, so more calls will not settle it either way.")
    else:
        text += "."
    return head + text + tail
