"""Rates that respect the design (issue #17 part 7): KPI intervals under day clustering, the NPS interval at small n,
and false VOC alerts in a world where no topic changes.

* **KPI intervals.** ``qa_lib/samples.py`` draws waits and outcomes independently per contact; real days differ (the
  anonymous bank's August 1999 log in ``../shared/data``: the daily answer rate within 10 s has a logit SD of 1.0 and a
  design effect of ~350 on the month's rate). The simulated month adds a day effect on the logit scale (SD 0.3, and
  1.0 as in the bank) to the center's answer rate (30 days of ~1,000 calls, 80 %) and to one agent's FCR (20
  agent-days of ~8 known outcomes, 90 %). The truth is the process rate (the mean over day effects, by quadrature).
  Old: Wilson on all calls as independent; new: :func:`qa_lib.stats.proportions.clustered_wilson_interval`.
* **NPS.** Exact coverage (every trinomial outcome weighed by its probability, no simulation noise) over n = 5…200,
  NPS −90…+90 and passive shares 5–60 %: the Wald interval ``net_promoter`` used against the score interval it now uses.
* **VOC alerts.** Eight topics with ``samples.py``'s shares (its seven VOC topics; the rest is "other") and volume
  (900 verbatims a month), six months, nothing changes: shares constant (binomial world) or drawn each month from a
  Dirichlet around them (overdispersed world, about 4× the binomial variance between months). Old: any of the
  plain p-chart, Western Electric rules or the BH-corrected month-over-month test; new: :func:`qa_lib.voc.emerging_issues`
  (Laney p′ when the months vary more than binomially, t on the baseline months' degrees of freedom, all signals
  pooled per topic by Simes, Benjamini–Hochberg across topics). In a world where
  nothing changes every alert is false, so the false discovery rate equals the share of months with any alert.
  Power: the share of months in which ``samples.py``'s planted surge (one topic's share × 2.6), and a moderate one
  (× 1.6), alerts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from qa_lib.stats.proportions import clustered_wilson_interval, nps_interval, wilson_interval
from qa_lib.stats.spc import p_chart, two_proportion_test, western_electric_rules
from qa_lib.voc import emerging_issues

#: samples.py ``_voc``: the base shares of its seven VOC topics (text_templates.VOC_TOPICS order); "other" is added here.
VOC_BASE = {"navigation": 0.17, "map_update": 0.11, "device_fault": 0.19, "billing": 0.11, "delivery_delay": 0.11,
            "rude_service": 0.06, "praise": 0.25}
VOC_PER_MONTH = 900
SURGE = 2.6
NEW_VOC = "VOC alerts (new: Laney p′, t on the baseline, BH over all signals)"


def _row(analysis, scenario, measure, target, value, ok, draws, note=""):
    return {"analysis": analysis, "scenario": scenario, "measure": measure, "target": target, "value": float(value), "ok": ok,
            "draws": int(draws), "note": note}


# ------------------------------------------------------------------ KPI intervals under day clustering
def _process_rate(p0: float, sd: float) -> float:
    """Mean of expit(logit(p0) + sd·u) over u ~ N(0, 1) (Gauss–Hermite)."""
    x, w = np.polynomial.hermite_e.hermegauss(80)
    return float((special.expit(special.logit(p0) + sd * x) * w).sum() / w.sum())


def _kpi_coverage(rng, draws: int, p0: float, sd: float, days: int, per_day: float) -> tuple[float, float, float]:
    """Coverage of the old (iid Wilson) and new (day-clustered) 95 % intervals, and the mean design effect."""
    m = np.maximum(rng.poisson(per_day, (draws, days)), 1)
    y = rng.binomial(m, special.expit(special.logit(p0) + sd * rng.standard_normal((draws, days))))
    truth = _process_rate(p0, sd)
    lo, hi = wilson_interval(y.sum(1), m.sum(1))
    old = np.mean((lo <= truth) & (truth <= hi))
    new = clustered_wilson_interval(y.ravel(), m.ravel(), np.repeat(np.arange(draws), days))
    cover = (new["low"] <= truth) & (truth <= new["high"])
    return float(old), float(cover.mean()), float(new["deff"].mean())


def _kpi_rows(rng, draws: int) -> list[dict]:
    rows = []
    for label, p0, days, per_day in (("center answer rate, 30 days × ~1,000 calls", 0.80, 30, 1000),
                                     ("one agent's FCR, 20 agent-days × ~8 outcomes", 0.90, 20, 8)):
        for sd in (0.0, 0.3, 1.0):
            old, new, deff = _kpi_coverage(rng, draws, p0, sd, days, per_day)
            scen = f"{label}, day effect SD {sd:g} (logit)"
            rows.append(_row("KPI rate interval (old: iid Wilson)", scen, "coverage of 95 % interval", "93–97 %", old, 0.93 <= old <= 0.97, draws))
            rows.append(_row("KPI rate interval (new: day-clustered Wilson)", scen, "coverage of 95 % interval", "93–97 %", new,
                             0.93 <= new <= 0.97 or (sd == 0 and 0.93 <= new <= 0.99), draws,
                             f"mean design effect {deff:.1f}" + ("; deff floored at 1 and t quantile: a little wide without clustering" if sd == 0 else "")))
    return rows


# ------------------------------------------------------------------ NPS at small n
def _wald(xp, xn, xd):
    """The Wald interval net_promoter used before (variance of a difference of multinomial shares, clipped)."""
    z = stats.norm.ppf(0.975)
    n = xp + xn + xd
    pp, pd_ = xp / n, xd / n
    h = z * np.sqrt(np.maximum(pp + pd_ - (pp - pd_) ** 2, 0) / n)
    return np.clip(pp - pd_ - h, -1, 1), np.clip(pp - pd_ + h, -1, 1)


def _nps_grid() -> list[tuple[float, float, float]]:
    """(promoters, passives, detractors) shares: NPS −90…+90 by 10, passives 5/20/40/60 % where possible."""
    cells = []
    for d in np.round(np.arange(-0.9, 0.91, 0.1), 2):
        for pa in (0.05, 0.2, 0.4, 0.6):
            if pa <= 1 - abs(d) - 0.02:
                pd_ = (1 - pa - d) / 2
                cells.append((pd_ + d, pa, pd_))
    return cells


def _nps_rows(draws: int) -> list[dict]:
    ns = (5, 10, 20, 30, 50, 100, 200) if draws >= 200 else (5, 10, 20)
    grid = np.array(_nps_grid())
    cov = {"old": [], "new": []}
    for n in ns:
        xp, xd = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        keep = xp + xd <= n
        xp, xd = xp[keep].astype(float), xd[keep].astype(float)
        xn = n - xp - xd
        pmf = stats.multinomial.pmf(np.c_[xp, xn, xd][None, :, :].astype(int), n, grid[:, None, :])  # cells × outcomes
        d = (grid[:, 0] - grid[:, 2])[:, None]
        for key, (lo, hi) in (("old", _wald(xp, xn, xd)), ("new", nps_interval(xp, xn, xd))):
            inside = (lo[None, :] - 1e-9 <= d) & (d <= hi[None, :] + 1e-9)
            cov[key].append((pmf * inside).sum(1))
    rows = []
    scen = f"n = {', '.join(map(str, ns))}; NPS −90…+90; passives 5–60 % ({len(grid)} shares × {len(ns)} n)"
    for key, name in (("old", "NPS interval (old: Wald)"), ("new", "NPS interval (new: trinomial score)")):
        c = np.concatenate(cov[key])
        worst = int(np.argmin(c))
        cell, n_w = grid[worst % len(grid)], ns[worst // len(grid)]
        rows.append(_row(name, scen, "worst-cell coverage", "≥ 92 %", c.min(), bool(c.min() >= 0.92), c.size,
                         f"worst at n = {n_w}, NPS {100 * (cell[0] - cell[2]):+.0f} (exact coverage, no simulation)"))
        rows.append(_row(name, scen, "mean coverage over the grid", "94–96 %", c.mean(), bool(0.94 <= c.mean() <= 0.96), c.size,
                         f"{np.mean(c < 0.93):.1%} of cells below 93 %"))
    return rows


# ------------------------------------------------------------------ VOC alerts in a null world
def _voc_months(rng, months: int, concentration: float | None, surge: float | None) -> pd.DataFrame:
    """A monthly topic_trends table (period, topic, n, total, share) of the null world (or with the planted surge)."""
    topics = list(VOC_BASE) + ["other"]
    base = np.array(list(VOC_BASE.values()) + [0.0])
    base = np.where(base == 0, 0.05, base * 0.95)
    frames = []
    for i in range(months):
        share = base if concentration is None else rng.dirichlet(concentration * base)
        if surge and i == months - 1:
            share = share.copy()
            share[topics.index("map_update")] *= surge
            share = share / share.sum()
        n = rng.multinomial(rng.poisson(VOC_PER_MONTH), share)
        frames.append(pd.DataFrame({"period": f"2026-{i + 1:02d}", "topic": topics, "n": n, "total": n.sum()}))
    t = pd.concat(frames, ignore_index=True)
    return t.assign(share=t["n"] / t["total"])


def _old_alerts(trends: pd.DataFrame, period: str, polarity: dict, alpha: float = 0.05, min_count: int = 5) -> pd.Series:
    """The decision emerging_issues made before this change: plain p-chart, run rules, BH only on the month-over-month test."""
    from scipy.stats import false_discovery_control

    periods = sorted(trends["period"].unique())
    i = periods.index(period)
    rows = []
    for topic, g in trends.groupby("topic", sort=True):
        g = g.set_index("period").reindex(periods[: i + 1])
        d, n = g["n"].to_numpy(), g["total"].to_numpy()
        chart = p_chart(d, n, baseline=np.arange(len(d)) < i)
        sd = chart["sigma"].to_numpy()
        rl = western_electric_rules(chart["p"].to_numpy(), chart["center"].to_numpy(), np.where(sd > 0, sd, np.nan)).iloc[-1]
        mom = two_proportion_test(d[-2], n[-2], d[-1], n[-1]).iloc[0]
        rows.append({"topic": topic, "n": d[-1], "chart": chart["direction"].iloc[-1], "rules": rl["direction"] if rl["any"] else "",
                     "p": mom["p_value"], "up": mom["diff"] > 0})
    o = pd.DataFrame(rows)
    q = false_discovery_control(o["p"].fillna(1.0).to_numpy(), method="bh")
    bad = np.where(o["topic"].map(polarity).fillna("negative") == "positive", "down", "up")
    mom_hit = (q < alpha) & (np.where(o["up"], "up", "down") == bad)
    hit = (o["chart"] == bad) | (o["rules"] == bad) | mom_hit
    return pd.Series(hit.to_numpy() & ((bad == "down") | (o["n"] >= min_count).to_numpy()), index=o["topic"])


def _voc_rows(rng, draws: int) -> list[dict]:
    polarity = {"praise": "positive"}
    rows = []
    for scen, conc in (("binomial months (shares constant)", None), ("overdispersed months (Dirichlet, ~4× binomial variance)", 300.0)):
        old_any = new_any = 0
        for _ in range(draws):
            t = _voc_months(rng, 6, conc, surge=None)
            old_any += bool(_old_alerts(t, "2026-06", polarity).any())
            new_any += bool(emerging_issues(t, "2026-06", polarity=polarity)["alert"].any())
        for name, hits in (("VOC alerts (old: plain p-chart, rules, BH on change only)", old_any), (NEW_VOC, new_any)):
            rate = hits / draws
            rows.append(_row(name, f"no topic changes, 8 topics × 6 months, 900/month; {scen}", "months with any (false) alert = FDR",
                             "≤ 5 %", rate, rate <= 0.05, draws, "nothing changes, so every alert is false and FDR = P(any alert)"))
    for scen, conc in (("binomial months", None), ("overdispersed months", 300.0)):
        for surge, target in ((SURGE, "≥ 90 %" if conc is None else ""), (1.6, "")):
            found = sum(bool(emerging_issues(_voc_months(rng, 6, conc, surge=surge), "2026-06", polarity=polarity)
                             .set_index("topic").loc["map_update", "alert"]) for _ in range(draws))
            rows.append(_row(NEW_VOC, f"map_update share × {surge} in the last month" + (" (samples.py's planted surge)" if surge == SURGE else "")
                             + f"; {scen}", "months the surge alerts (power)", target or "—", found / draws,
                             (found / draws >= 0.9) if target else None, draws,
                             "" if target else "the price of FDR control with 5 baseline months: a smaller or noisier surge often waits "
                             "for a second month"))
    return rows


#: Why a target is not met (docs/validity.md), keyed by the start of the row's analysis or measure.
WHY = {
    "KPI rate interval (new: day-clustered Wilson)": (
        "Above the band, not below it: with 20 agent-days of ~8 outcomes the design effect is floored at 1 and the t quantile "
        "on 19 degrees of freedom widens the interval a little — conservative, never too narrow."),
}

#: Draws for docs/validity.md (benchmarks/validity.py without --draws).
DRAWS = 1000


def rows(draws: int, seed: int) -> list[dict]:
    """The part's rows: KPI coverage (old vs new), NPS coverage (old vs new), VOC false alerts and power."""
    rng = np.random.default_rng(seed)
    return _kpi_rows(rng, draws) + _nps_rows(draws) + _voc_rows(rng, max(draws // 5, 20))
