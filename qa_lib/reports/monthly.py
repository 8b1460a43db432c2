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
from ..kpi import NOT_RECORDED, accuracy_kpi, contact_kpis, contacts_per_hour, fcr_kpi, load_targets, service_standard_kpi
from ..quality import model_scores
from ..scores import headline_scorecard
from .tables import model_window

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
    """Agents' random-arm scores for ``month`` from the quality model (:func:`qa_lib.quality.model_scores`): this month's
    plain mean, the model's estimate with its interval, P(below target), the family-wise verdict, rank interval.

    ``scorecard_id`` and ``target`` default to the center's headline scorecard and score target (``settings``).
    """
    s = settings or center_settings()
    team = store.read("agents").set_index("agent_id")["team"]
    p = pd.Period(month, freq="M")
    ev = store.evaluations(p)
    card = scorecard_id or headline_scorecard(ev, s.headline_scorecard)
    window, items = model_window(store, p, "team", team)
    window = window[window["scorecard_id"] == card]
    version = int(window.loc[window["month"] == str(p), "scorecard_version"].max())
    scores, _ = model_scores(window, items[items["evaluation_id"].isin(window["evaluation_id"])], store.scorecard(card, version), month=p,
                             target=s.need_score_target() if target is None else target, item_target=s.item_target)
    return scores.assign(scorecard_id=card)


def _cell(r) -> str:
    if r.status == NOT_RECORDED:
        return "not recorded"
    if pd.isna(r.value):
        return "–"
    if r.unit == "rate":
        return f"{r.value:.1%}" + ("" if pd.isna(r.low) else f" ({r.low:.1%}–{r.high:.1%})")
    return f"{r.value:,.0f} s" + ("" if pd.isna(r.low) else f" ({r.low:,.0f}–{r.high:,.0f})")


def write_month_tables(store, month, folder: Path) -> list[Path]:
    """Write ``kpis.csv``, ``agent_scores.csv`` (when the month has evaluations) and ``kpis.md`` for ``month``.

    A KPI on a field the center does not record reads ``not recorded`` in the table and is left out of the status
    lines; a center that keeps only a contact log (no evaluations) gets its KPIs and a line saying scores are missing.
    """
    from ..files import write_csv

    folder.mkdir(parents=True, exist_ok=True)
    s = center_settings()
    kpis = month_kpis(store, month)
    write_csv(kpis, folder / "kpis.csv")
    written = [folder / "kpis.csv"]
    has_scores = not store.evaluations(month, columns=["evaluation_id"]).empty
    scores = month_agent_scores(store, month) if has_scores and s.score_target is not None else None
    if scores is not None:
        write_csv(scores, folder / "agent_scores.csv")
        written.append(folder / "agent_scores.csv")
    show = kpis[kpis["kpi"].isin(["answer_rate", "abandon_rate", "fcr", "information_accuracy", "service_standard", "aht_seconds",
                                  "avg_hold_seconds", "avg_acw_seconds"])].copy()
    show = show[(show["n"] > 0) | (show["status"] == NOT_RECORDED)]
    show["value (95 % CI)"] = [_cell(r) for r in show.itertuples()] if len(show) else []
    table = show.pivot_table(index="kpi", columns="group", values="value (95 % CI)", aggfunc="first") if len(show) else pd.DataFrame()
    judged = show[show["status"] != NOT_RECORDED]
    status = judged.pivot_table(index="kpi", columns="group", values="status", aggfunc="first") if len(judged) else pd.DataFrame()
    unrecorded = sorted(show.loc[show["status"] == NOT_RECORDED, "kpi"].unique())
    where = s.center_file or "center.yaml"
    md = [
        f"# KPIs {month}", "",
        "Every figure with its 95 % interval; the status against target is decided by the interval: `met`, `missed`,",
        f"or `not enough evidence` (targets: `kpis` in {where}).", "",
        table.to_markdown() if len(table) else "No contact in this month.", "", "## Status against target", "",
        status.to_markdown() if len(status) else "No KPI to judge.", "",
    ]
    if unrecorded:
        md += [f"Not recorded by this center (no figure, no status): {', '.join(unrecorded)}.", ""]
    if scores is not None:
        counts = scores["status"].value_counts()
        md += [f"## Agents' QA scores (random arm, scorecard {scores['scorecard_id'].iloc[0] if len(scores) else '-'}, target {s.score_target:g})", "",
               f"{len(scores)} agents: " + ", ".join(f"{v} {k}" for k, v in counts.items())
               + f". Median evaluations per agent this month: {scores['n'].median():.0f}. The estimates come from the quality model "
               "(this month and the two before, recent months weighing more, inspectors' severity taken out; docs/model.md); a verdict "
               "`met` or `missed` holds with at most a 5 % chance of any wrong verdict among all agents listed (family-wise, Holm). "
               "Estimates, intervals, P(below target), rank intervals and calls still needed: agent_scores.csv.", ""]
    elif not has_scores:
        md += ["## Agents' QA scores", "", "No evaluation in this month: import evaluations (`qa import evaluations FILE`) or score "
               "the month's plan to see agents' scores.", ""]
    else:
        md += ["## Agents' QA scores", "", f"No score target is set: add `score_target: 80` (your center's target) to {where}.", ""]
    (folder / "kpis.md").write_text("\n".join(md), encoding="utf-8")
    return [*written, folder / "kpis.md"]
