"""How many calls (qa_lib.sampling.month_gstudy, allocation="adaptive"), judged on fresh draws from the generator.

The center is the sample center of ``qa samples`` (60 agents, 3 teams, 6 inspectors scoring calls of other teams, a
lenient and a strict one, the generator's item failure rates, agent skill, new hires, coaching); each draw gives it
fresh calls and fresh scorings (``qa_lib.samples.scoring_draw``) scored on the inbound card.

1. Reliability. The G-study is fitted on a draw shaped like the audit's data (6 calls per agent a month, 3 months) and
   predicts the reliability of a month's mean over n = 3, 6, 12 calls. It is measured on a second, independent draw of
   2n calls per agent-month split in two halves of n: two parallel measurements of the same true month score, whose
   correlation across agent-months is the reliability (classical test theory's parallel forms).
2. Adaptive plan. Every agent had 6 calls a month; t intervals over the history (what ``agent_scores.csv`` gives)
   settle some agents (:func:`qa_lib.sampling.adaptive_split`, target 80). This month the even plan gives 6 each, the
   adaptive plan the same total through the plan's own allocation (:func:`qa_lib.sampling._adaptive_sizes`, floor 2).
   Decided = the interval over the decision's months clears the target; wrong = decided on the other side of the
   agent's true score over those months. Two histories (:data:`WINDOWS`): last month's calls settle and are kept in
   the decision, or three months settle and the decision reads a rolling three months (the oldest drops out).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import stats

from qa_lib.rubric import score
from qa_lib.samples import Effects, SampleSpec, _load_cards, scoring_draw
from qa_lib.sampling import _adaptive_sizes, adaptive_split, month_gstudy

SPEC = SampleSpec()
TARGET = 80.0
NS = (3, 6, 12)
PER_AGENT, FLOOR = 6, 2


def _scored(months: int, calls: int, seed: int) -> pd.DataFrame:
    """One fresh draw's evaluations with their total score and, per agent-month, the call's order (0, 1, …)."""
    d = scoring_draw(SPEC, Effects(), months=months, calls=calls, seed=seed)
    tot = score(_load_cards()["inbound_service"], d["answers"]).totals.set_index("evaluation_id")["total"]
    ev = d["evaluations"].assign(total_score=lambda e: e["evaluation_id"].map(tot))
    return ev.assign(k=ev.groupby(["agent_id", "month"]).cumcount())


def reliability_draw(seed: int) -> tuple[dict, pd.DataFrame]:
    """Predicted (G-study on 6 calls × 3 months) and measured (parallel halves, last 3 months) reliability for each n
    in NS, and the measurement draw (2 × max(NS) calls per agent-month, 4 months), which the adaptive comparison reuses."""
    g = month_gstudy(_scored(3, PER_AGENT, 2 * seed))
    ev = _scored(4, 2 * max(NS), 2 * seed + 1)
    out = {}
    last3 = ev["month"].isin(sorted(ev["month"].unique())[-3:]).to_numpy()
    for n in NS:
        half = np.where(ev["k"] < n, 0, np.where((ev["k"] >= max(NS)) & (ev["k"] < max(NS) + n), 1, -1))
        keep = (half >= 0) & last3
        m = ev[keep].assign(half=half[keep]).pivot_table(index=["agent_id", "month"], columns="half", values="total_score", aggfunc="mean")
        m = m.dropna()
        out[n] = (g.reliability(n), float(np.corrcoef(m[0], m[1])[0, 1]))
    return out, ev


def _interval(calls: pd.DataFrame) -> pd.DataFrame:
    """Per agent: mean and 95 % t interval with the pooled within-agent SD (as agent_scores.csv gives them)."""
    g = calls.groupby("agent_id")["total_score"]
    t = g.agg(n="size", mean="mean", var="var")
    ok = t["n"] >= 2
    sd = np.sqrt(((t.loc[ok, "n"] - 1) * t.loc[ok, "var"]).sum() / (t.loc[ok, "n"] - 1).sum())
    half = stats.t.ppf(0.975, np.maximum(t["n"] - 1, 1)) * sd / np.sqrt(t["n"])
    return pd.DataFrame({"agent_id": t.index, "low": t["mean"] - half, "high": t["mean"] + half, "mean": t["mean"]}).reset_index(drop=True)


#: The two ways the history is read: the months that settle agents and the months the decision reads, by index into
#: the measurement draw's four months (the fourth is this month).
WINDOWS = {
    "last month kept": ([2], [2, 3]),  # last month's 6 calls settle; the decision adds this month to them
    "rolling 3 months": ([0, 1, 2], [1, 2, 3]),  # the quality model's window: three months settle, the oldest then drops out
}


def adaptive_draw(ev: pd.DataFrame, truth: pd.Series, window: str) -> dict:
    """Shares decided and wrongly decided after this month, even plan and adaptive plan, on the same calls: history
    months have 6 calls per agent, this month (the draw's fourth) up to all its calls per agent."""
    months = sorted(ev["month"].unique())
    hist, decide = ([months[i] for i in idx] for idx in WINDOWS[window])
    past = ev[ev["month"].isin(months[:3]) & (ev["k"] < PER_AGENT)]
    this = ev[ev["month"] == months[3]]
    agents = np.array(sorted(set(past["agent_id"]) & set(this["agent_id"])))
    split = adaptive_split(_interval(past[past["month"].isin(hist)]), TARGET).set_index("agent_id").reindex(agents)
    available = this.groupby("agent_id").size().reindex(agents).to_numpy(dtype=float)
    sizes = {
        "even": np.minimum(float(PER_AGENT), available),
        "adaptive": _adaptive_sizes(available, (split["status"] != "open").to_numpy(), PER_AGENT, FLOOR),
    }
    true_above = truth[truth.index.get_level_values("month").isin(decide)].groupby("agent_id").mean().reindex(agents) >= TARGET
    out = {"settled_before": float((split["status"] != "open").mean())}
    for plan, n in sizes.items():
        take = this["k"].to_numpy() < this["agent_id"].map(pd.Series(n, index=agents)).to_numpy()
        both = pd.concat([past[past["agent_id"].isin(agents) & past["month"].isin(decide)], this[take]])
        iv = _interval(both).set_index("agent_id").reindex(agents)
        above, below = iv["low"] >= TARGET, iv["high"] < TARGET
        out[plan] = float((above | below).mean())
        out[plan + "_wrong"] = float(((above & ~true_above) | (below & true_above)).mean())
        out[plan + "_calls"] = float(n.sum())
    return out


@functools.cache
def truth(calls: int = 100, seed: int = 99_999) -> pd.Series:
    """Each agent's expected score in each of the last four months, from ``calls`` calls per agent-month (±1.7 points at
    the per-call SD of 17; a window of months averages them)."""
    ev = _scored(4, calls, seed)
    return ev.groupby(["agent_id", "month"])["total_score"].mean()


#: Draws for docs/validity.md (benchmarks/validity.py without --draws).
DRAWS = 100


def rows(draws: int, seed: int) -> list[dict]:
    """Lines of docs/validity.md: predicted vs measured reliability for n = 3, 6, 12, and adaptive vs even decisions."""
    true_score = truth()
    rel, ad = [], {w: [] for w in WINDOWS}
    for r in range(draws):
        one, ev = reliability_draw(seed * 100_000 + r)
        rel.append(one)
        for w in WINDOWS:
            ad[w].append(adaptive_draw(ev, true_score, w))
    out = []
    for n in NS:
        pred = np.array([r[n][0] for r in rel])
        meas = np.array([r[n][1] for r in rel])
        gap = float(pred.mean() - meas.mean())
        out.append({
            "analysis": "G-study reliability (qa plan)", "scenario": f"sample center, month mean of {n} calls",
            "measure": "predicted − measured reliability", "target": "within ±0.05", "value": round(gap, 3),
            "ok": bool(abs(gap) <= 0.05), "draws": draws,
            "note": f"predicted {pred.mean():.3f} (G-study on 6 calls × 3 months; 90 % of draws {np.quantile(pred, 0.05):.2f}–"
                    f"{np.quantile(pred, 0.95):.2f}), measured {meas.mean():.3f} (correlation of two independent {n}-call means).",
        })
    for w in WINDOWS:
        out += _adaptive_rows(ad[w], w, draws)
    return out


def _adaptive_rows(ad: list[dict], window: str, draws: int) -> list[dict]:
    """The two lines of one history window: decided share adaptive − even, and wrong decisions."""
    even, adapt = np.array([a["even"] for a in ad]), np.array([a["adaptive"] for a in ad])
    settled = np.mean([a["settled_before"] for a in ad])
    scenario = f"sample center, target 80, 6 calls per agent a month on average; history: {window}"
    wrong_e, wrong_a = np.mean([a["even_wrong"] for a in ad]), np.mean([a["adaptive_wrong"] for a in ad])
    return [{
        "analysis": "adaptive sampling plan (qa sample --adaptive)", "scenario": scenario,
        "measure": "share of agents decided, adaptive − even", "target": "> 0", "value": round(float((adapt - even).mean()), 3),
        "ok": bool((adapt - even).mean() > 0), "draws": draws,
        "note": f"decided: adaptive {adapt.mean():.1%}, even {even.mean():.1%} at equal calls "
                f"({np.mean([a['adaptive_calls'] for a in ad]):.0f} vs {np.mean([a['even_calls'] for a in ad]):.0f}); "
                f"{settled:.1%} of agents were settled and got {FLOOR} calls.",
    }, {
        "analysis": "adaptive sampling plan (qa sample --adaptive)", "scenario": scenario,
        "measure": "share of agents decided on the wrong side, adaptive", "target": "≤ even plan + 0.01", "value": round(float(wrong_a), 4),
        "ok": bool(wrong_a <= wrong_e + 0.01), "draws": draws,
        "note": f"even plan {wrong_e:.2%}; the truth is each agent's expected score over the decision's months (100 calls per agent-month).",
    }]
