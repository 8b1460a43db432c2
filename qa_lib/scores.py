"""Agent QA scores that are honest about small samples.

Commercial tools rank agents on 3–10 scored calls as if those averages were exact. Here
every agent's mean comes with its interval, and beside it an **empirical-Bayes** estimate
that borrows strength from the team: normal–normal shrinkage for mean scores, beta–binomial
for item pass rates. With few calls an agent's estimate moves toward the team; with many it
stays near the agent's own mean. From the posterior: the probability the agent is below
target, a rank with its interval, and the number of calls needed to decide.

Only random-arm evaluations belong here (targeted reviews are chosen for risk and would
bias the estimates).

Checked on Efron & Morris (1975): shrinking the 18 players' first-45-at-bat averages
predicts their rest-of-season averages with about a third of the squared error of the raw
averages (see tests/test_scores.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ParameterError
from .stats.shrinkage import beta_binomial_shrinkage, normal_shrinkage

__all__ = ["agent_scores", "item_pass_rates", "verdict", "headline_scorecard", "scale_item_means", "scale_distribution", "mean_interval"]


def _need(df: pd.DataFrame, cols) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ParameterError(f"frame must have columns {list(cols)}; missing {missing}")


def verdict(low: float, high: float, target: float, higher_is_better: bool = True) -> str:
    """"met", "missed" or "not enough evidence": decided by the interval, not the point value."""
    if higher_is_better:
        return "met" if low >= target else "missed" if high < target else "not enough evidence"
    return "met" if high <= target else "missed" if low > target else "not enough evidence"


def agent_scores(evaluations: pd.DataFrame, *, target: float, group: str = "team", value: str = "total_score",
                 confidence: float = 0.95, n_draws: int = 4000, random_state=0) -> pd.DataFrame:
    """Per agent: raw mean with its t interval, the shrunk estimate, P(below target), rank with its interval.

    ``rank`` is the posterior median rank (1 = best) over draws from each agent's
    posterior; ``rank_low``/``rank_high`` its 95 % interval.

    ``evaluations`` (random arm only): ``agent_id``, ``group`` (team) and ``value``. Shrinkage
    is toward each team's mean. ``status`` compares the interval with ``target``;
    ``n_to_decide`` is how many evaluations would make the interval clear the target at the
    agent's current mean and the pooled per-call SD.
    """
    _need(evaluations, ["agent_id", group, value])
    df = evaluations.dropna(subset=[value])
    g = df.groupby(["agent_id", group])[value]
    t = g.agg(n="size", mean="mean", var="var").reset_index()
    if len(t) < 3:
        raise ParameterError(f"need evaluations of at least 3 agents; got {len(t)}")
    ok = t["n"] >= 2
    pooled_var = float(((t.loc[ok, "n"] - 1) * t.loc[ok, "var"]).sum() / (t.loc[ok, "n"] - 1).sum()) if ok.any() else float(df[value].var())
    sd = np.sqrt(pooled_var)
    z = stats.t.ppf(0.5 + confidence / 2, np.maximum(t["n"] - 1, 1))
    half = np.where(t["n"] >= 2, z * sd / np.sqrt(t["n"]), np.inf)
    t["low"], t["high"] = t["mean"] - half, t["mean"] + half
    t["shrunk"], t["shrunk_sd"] = np.nan, np.nan
    for _, idx in t.groupby(group).groups.items():
        part = t.loc[idx]
        if len(part) >= 3:
            post, post_sd, _, _ = normal_shrinkage(part["mean"], part["n"], pooled_var)
        else:  # too few agents in the team to estimate its spread: no shrinkage
            post, post_sd = part["mean"].to_numpy(), sd / np.sqrt(part["n"].to_numpy())
        t.loc[idx, "shrunk"], t.loc[idx, "shrunk_sd"] = post, post_sd
    t["p_below_target"] = stats.norm.cdf((target - t["shrunk"]) / np.maximum(t["shrunk_sd"], 1e-12))
    t["status"] = [verdict(lo, hi, target) for lo, hi in zip(t["low"], t["high"])]
    from .stats.sample_size import mean_sample_size

    gap = np.abs(t["mean"] - target).to_numpy()
    undecided = (t["status"] == "not enough evidence").to_numpy()
    t["n_to_decide"] = [
        (mean_sample_size(float(gp), float(sd), confidence) if gp > 0 else np.inf) if u else 0 for gp, u in zip(gap, undecided)
    ]
    rng = np.random.default_rng(random_state)
    draws = rng.normal(t["shrunk"].to_numpy(), t["shrunk_sd"].to_numpy(), size=(n_draws, len(t)))
    ranks = (-draws).argsort(axis=1).argsort(axis=1) + 1
    # rank = posterior median rank (1 = best), with its 95 % interval from the same draws
    t["rank"] = np.median(ranks, axis=0).round().astype(int)
    t["rank_low"], t["rank_high"] = np.floor(np.quantile(ranks, 0.025, axis=0)).astype(int), np.ceil(np.quantile(ranks, 0.975, axis=0)).astype(int)
    return t.drop(columns="var").sort_values(["rank", "shrunk"], ascending=[True, False], ignore_index=True)


def item_pass_rates(answers: pd.DataFrame, *, target: float, confidence: float = 0.95) -> pd.DataFrame:
    """Per agent and item: pass rate (yes = pass; partial and no = not) with its Wilson interval and the shrunk rate.

    ``answers``: ``agent_id, item_id, answer`` (random arm; N/A rows are ignored).
    Shrinkage is beta–binomial per item across agents. ``status`` compares the interval
    with the target pass rate (``met``, ``missed``, ``not enough evidence``).
    """
    from .stats.proportions import wilson_interval

    _need(answers, ["agent_id", "item_id", "answer"])
    a = answers[answers["answer"].isin(["yes", "partial", "no"])]
    t = a.assign(passed=(a["answer"] == "yes")).groupby(["item_id", "agent_id"])["passed"].agg(passes="sum", n="size").reset_index()
    t["rate"] = t["passes"] / t["n"]
    lo, hi = wilson_interval(t["passes"].to_numpy(), t["n"].to_numpy(), confidence)
    t["low"], t["high"] = lo, hi
    t["shrunk"] = np.nan
    for _, idx in t.groupby("item_id").groups.items():
        part = t.loc[idx]
        if len(part) >= 3:
            t.loc[idx, "shrunk"] = beta_binomial_shrinkage(part["passes"], part["n"])[0]
        else:
            t.loc[idx, "shrunk"] = part["rate"]
    t["status"] = [verdict(lo, hi, target) for lo, hi in zip(t["low"], t["high"])]
    return t


def headline_scorecard(evaluations: pd.DataFrame, preferred: str | None = None) -> str:
    """The scorecard whose random-arm scores are the agents' headline: ``preferred`` (the center's setting) when the
    evaluations use it, else the one most of them use (ties: the first id in order).

    >>> ev = pd.DataFrame({"scorecard_id": ["b", "a", "a", "b", "b"], "arm": ["random"] * 4 + ["targeted"]})
    >>> headline_scorecard(ev), headline_scorecard(ev, "b"), headline_scorecard(ev, "zz")
    ('a', 'b', 'a')
    """
    _need(evaluations, ["scorecard_id", "arm"])
    counts = evaluations.loc[evaluations["arm"] == "random", "scorecard_id"].value_counts()
    if counts.empty:
        raise ParameterError("no random-arm evaluations: no scorecard to report agents' scores on")
    if preferred is not None and preferred in counts.index:
        return preferred
    return str(counts.sort_index().idxmax())


def mean_interval(frame: pd.DataFrame, value: str, by: list[str], *, confidence: float = 0.95) -> pd.DataFrame:
    """Per ``by`` group of ``frame``: ``n``, ``mean``, ``sd`` of the numbers in column ``value`` (blanks left out) and
    the t interval ``low``/``high`` of the mean (NaN with one value: no interval yet).

    >>> f = pd.DataFrame({"g": ["a", "a", "a", "b"], "v": [1.0, 2.0, 3.0, 5.0]})
    >>> mean_interval(f, "v", ["g"]).round(3).to_dict("records")
    [{'g': 'a', 'n': 3, 'mean': 2.0, 'sd': 1.0, 'low': -0.484, 'high': 4.484}, {'g': 'b', 'n': 1, 'mean': 5.0, 'sd': nan, 'low': nan, 'high': nan}]
    """
    _need(frame, [*by, value])
    if not isinstance(confidence, float) or not 0 < confidence < 1:
        raise ParameterError(f"confidence must be a number between 0 and 1 (e.g. 0.95); got {confidence!r}")
    num = pd.to_numeric(frame[value], errors="coerce")
    if (num.isna() & frame[value].notna()).any():
        raise ParameterError(f"{value} must hold numbers; got {frame.loc[num.isna() & frame[value].notna(), value].iloc[0]!r}")
    t = frame[by].assign(_v=num).groupby(by)["_v"].agg(n="count", mean="mean", sd="std").reset_index()
    t = t[t["n"] > 0].reset_index(drop=True)
    n = t["n"].to_numpy(dtype=float)
    half = np.where(n >= 2, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * t["sd"].fillna(0).to_numpy() / np.sqrt(np.maximum(n, 1)), np.nan)
    t["low"], t["high"] = t["mean"] - half, t["mean"] + half
    return t.astype({"n": int})


def scale_item_means(answers: pd.DataFrame, *, by: list[str], confidence: float = 0.95) -> pd.DataFrame:
    """Scale and fault-count items (answers that are numbers on the item's own scale, e.g. -2..2, 1..5, 0..5 faults):
    per ``by`` group (e.g. ``["scorecard_id", "item_id", "agent_id"]``) the number of answers, their mean, SD and the
    t interval of the mean. ``na`` and empty answers are left out; any other answer that is not a number is an error.

    >>> a = pd.DataFrame({"item_id": ["tone"] * 4, "answer": ["-2", "1", "2", "na"]})
    >>> scale_item_means(a, by=["item_id"])[["item_id", "n", "mean"]].to_dict("records")
    [{'item_id': 'tone', 'n': 3, 'mean': 0.3333333333333333}]
    """
    _need(answers, [*by, "answer"])
    a = answers[answers["answer"].notna() & ~answers["answer"].astype(str).str.strip().str.lower().isin(["na", ""])]
    num = pd.to_numeric(a["answer"], errors="coerce")
    if num.isna().any():
        row = a[num.isna()].iloc[0]
        where = ", ".join(f"{k} {row[k]!r}" for k in by)
        raise ParameterError(f"answer of a scale item must be a number on its scale or na; got {row['answer']!r} ({where})")
    return mean_interval(a.assign(value=num), "value", by, confidence=confidence)


def scale_distribution(answers: pd.DataFrame, *, by: list[str]) -> pd.DataFrame:
    """How often each value of a scale or fault-count item was given, per ``by`` group: ``value``, ``count`` and
    ``share`` (of the group's numeric answers); ``na`` left out.

    >>> a = pd.DataFrame({"item_id": ["tone"] * 4, "answer": ["1", "1", "2", "na"]})
    >>> scale_distribution(a, by=["item_id"]).to_dict("records")
    [{'item_id': 'tone', 'value': 1.0, 'count': 2, 'share': 0.6666666666666666}, {'item_id': 'tone', 'value': 2.0, 'count': 1, 'share': 0.3333333333333333}]
    """
    _need(answers, [*by, "answer"])
    num = pd.to_numeric(answers["answer"], errors="coerce")
    a = answers.assign(value=num)[num.notna()]
    out = a.groupby([*by, "value"]).size().rename("count").reset_index()
    out["share"] = out["count"] / out.groupby(by)["count"].transform("sum")
    return out.astype({"count": int})
