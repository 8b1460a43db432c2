"""The month's KPI and score tables for managers, from the store (used by ``qa demo``).

Glue: reads the month through :mod:`qa_lib.store` (the evaluations a manager counts: every status from
``submitted`` on, no drafts), computes with :mod:`qa_lib.kpi` and :mod:`qa_lib.scores`, and writes tidy CSV
plus a short Markdown page. The report notebooks
of later work present the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import settings as center_settings
from ..kpi import accuracy_kpi, contact_kpis, contacts_per_hour, fcr_kpi, load_targets, service_standard_kpi
from ..scores import agent_scores, headline_scorecard

__all__ = ["month_kpis", "month_agent_scores", "write_month_tables"]


def month_kpis(store, month, targets: dict | None = None) -> pd.DataFrame:
    """Every KPI for the center and each team in ``month`` (tidy: level, group, kpi, value, low, high, n, target, status)."""
    targets = targets or load_targets()
    team = store.read("agents").set_index("agent_id")["team"]
    c = store.read_month("contacts", month)
    c["team"] = c["agent_id"].map(team)
    checks = store.read_month("info_checks", month)
    checks["team"] = checks["agent_id"].map(team)
    ev = store.evaluations(month)
    ev["team"] = ev["agent_id"].map(team)
    parts = []
    for level, by in (("center", None), ("team", "team")):
        for frame in (contact_kpis(c, by=by, targets=targets), fcr_kpi(c, by=by, targets=targets), contacts_per_hour(c, by=by).iloc[:, :9],
                      accuracy_kpi(checks, by=by, targets=targets), service_standard_kpi(ev, by=by, targets=targets)):
            parts.append(frame.assign(level=level))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["group"] != "(none)"]  # queue-abandoned calls have no agent, hence no team
    return out[["level", "group", "kpi", "value", "low", "high", "n", "target", "status", "unit"]]


def month_agent_scores(store, month, target: float | None = None, scorecard_id: str | None = None, *, settings=None) -> pd.DataFrame:
    """Agents' random-arm scores for ``month``: raw mean with interval, shrunk estimate, status, rank interval.

    ``scorecard_id`` and ``target`` default to the center's headline scorecard and score target (``settings``).
    """
    s = settings or center_settings()
    team = store.read("agents").set_index("agent_id")["team"]
    ev = store.evaluations(month)
    card = scorecard_id or headline_scorecard(ev, s.headline_scorecard)
    ev = ev[(ev["arm"] == "random") & (ev["scorecard_id"] == card)].assign(team=lambda d: d["agent_id"].map(team))
    return agent_scores(ev, target=s.need_score_target() if target is None else target).assign(scorecard_id=card)


def write_month_tables(store, month, folder: Path) -> list[Path]:
    """Write ``kpis.csv``, ``agent_scores.csv`` and ``kpis.md`` for ``month`` into ``folder``."""
    from ..files import write_csv

    folder.mkdir(parents=True, exist_ok=True)
    kpis = month_kpis(store, month)
    scores = month_agent_scores(store, month)
    write_csv(kpis, folder / "kpis.csv")
    write_csv(scores, folder / "agent_scores.csv")
    show = kpis[kpis["kpi"].isin(["answer_rate", "abandon_rate", "fcr", "information_accuracy", "service_standard", "aht_seconds"])].copy()
    fmt = show.apply(lambda r: f"{r.value:.1%} ({r.low:.1%}–{r.high:.1%})" if r.unit == "rate" else f"{r.value:.0f} s ({r.low:.0f}–{r.high:.0f})", axis=1)
    show["value (95 % CI)"] = fmt
    table = show.pivot_table(index="kpi", columns="group", values="value (95 % CI)", aggfunc="first")
    status = show.pivot_table(index="kpi", columns="group", values="status", aggfunc="first")
    counts = scores["status"].value_counts()
    md = [
        f"# KPIs {month}", "",
        "Every figure with its 95 % interval; the status against target is decided by the interval: `met`, `missed`,",
        "or `not enough evidence` (targets in qa_lib/targets.yaml).", "",
        table.to_markdown(), "", "## Status against target", "", status.to_markdown(), "",
        f"## Agents' QA scores (random arm, scorecard {scores['scorecard_id'].iloc[0] if len(scores) else '-'}, target {center_settings().need_score_target():g})", "",
        f"{len(scores)} agents: " + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f". Median evaluations per agent: {scores['n'].median():.0f}. Shrunk estimates, P(below target) and rank intervals: agent_scores.csv.",
        "",
    ]
    (folder / "kpis.md").write_text("\n".join(md), encoding="utf-8")
    return [folder / "kpis.csv", folder / "agent_scores.csv", folder / "kpis.md"]
