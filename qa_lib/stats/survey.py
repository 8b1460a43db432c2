"""Estimates from a probability sample: Horvitz–Thompson, stratified."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ParameterError
from ._checks import _confidence

__all__ = ["ht_estimate"]


def ht_estimate(sample: pd.DataFrame, value: str, inclusion_prob: str = "inclusion_prob", stratum: str | None = None,
                population: pd.Series | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Horvitz–Thompson estimate of a population mean (or rate, for 0/1 values) from a probability sample.

    Estimate = Σ y / π / N, with N = Σ 1/π unless ``population`` (sizes N_h per stratum)
    is given. Variance: stratified simple random sampling without replacement within each
    ``stratum`` (N_h² (1 − n_h/N_h) s_h² / n_h, summed, / N²); a normal interval, clipped
    to [0, 1] for 0/1 values. Only random-arm rows belong in ``sample``.

    Returns a one-row DataFrame: ``estimate, se, ci_low, ci_high, n, population``.
    """
    c = _confidence(confidence)
    for col in [value, inclusion_prob] + ([stratum] if stratum else []):
        if col not in sample.columns:
            raise ParameterError(f"sample has no column {col!r}; columns: {list(sample.columns)}")
    pi = sample[inclusion_prob].to_numpy(dtype=float)
    if np.any(~(pi > 0)) or np.any(pi > 1):
        raise ParameterError("inclusion probabilities must be in (0, 1]: targeted-arm rows have none and cannot be used")
    y = sample[value].to_numpy(dtype=float)
    h = sample[stratum].to_numpy() if stratum else np.zeros(len(sample))
    df = pd.DataFrame({"h": h, "y": y, "w": 1 / pi})
    g = df.groupby("h")
    n_h = g.size()
    N_h = population.reindex(n_h.index).astype(float) if population is not None else g["w"].sum()
    N = float(N_h.sum())
    est = float((df["y"] * df["w"]).sum() / N) if population is None else float((g.apply(lambda s: s["y"].mean(), include_groups=False) * N_h).sum() / N)
    s2 = g["y"].var(ddof=1).fillna(0.0)
    var = float((N_h**2 * (1 - n_h / N_h) * s2 / n_h).sum() / N**2)
    se = math.sqrt(max(var, 0.0))
    z = stats.norm.ppf(0.5 + c / 2)
    lo, hi = est - z * se, est + z * se
    if set(np.unique(y)) <= {0.0, 1.0}:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return pd.DataFrame([{"estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "n": int(len(sample)), "population": N}])
