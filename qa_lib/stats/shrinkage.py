"""Empirical Bayes: borrowing strength across agents for means (normal–normal) and rates (beta–binomial).

Checked on Efron & Morris (1975): shrinking the 18 players' first-45-at-bat averages predicts their
rest-of-season averages with about a third of the squared error of the raw averages (tests/test_scores.py).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import ParameterError

__all__ = ["normal_shrinkage", "beta_binomial_shrinkage", "p_above"]


def normal_shrinkage(means, n, within_var: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Normal–normal empirical Bayes for group means (James–Stein / Efron–Morris).

    Each group's mean ȳ_i of n_i observations has sampling variance σ²/n_i. The prior
    N(μ, τ²) is fitted by the method of moments (τ² = var(ȳ) − mean(σ²/n), floored at 0).
    Returns (posterior means, posterior SDs, μ, τ²).
    """
    y, m = np.asarray(means, dtype=float), np.asarray(n, dtype=float)
    if y.size < 3:
        raise ParameterError(f"shrinkage needs at least 3 groups; got {y.size}")
    if within_var <= 0 or not np.isfinite(within_var):
        raise ParameterError(f"within_var must be a positive number; got {within_var!r}")
    if np.any(m < 1):
        raise ParameterError("every group needs at least one observation")
    s2 = within_var / m
    w_prec = 1 / s2
    mu = float(np.sum(w_prec * y) / np.sum(w_prec)) if np.ptp(m) else float(y.mean())
    tau2 = max(float(np.var(y, ddof=1) - np.mean(s2)), 0.0)
    shrink = tau2 / (tau2 + s2)
    post = mu + shrink * (y - mu)
    # posterior variance with the uncertainty of the estimated prior mean (Morris 1983, first order):
    # without it a small τ² makes everyone look precisely average
    var_mu = 1.0 / np.sum(1.0 / (tau2 + s2))
    post_sd = np.sqrt(shrink * s2 + (1 - shrink) ** 2 * var_mu)
    return post, post_sd, mu, tau2


def beta_binomial_shrinkage(successes, n) -> tuple[np.ndarray, float, float]:
    """Beta–binomial empirical Bayes for rates: posterior means (k + a) / (n + a + b).

    The Beta(a, b) prior is fitted by the method of moments on the observed rates,
    correcting their variance for binomial noise. With no excess variance the prior is
    taken very tight around the pooled rate (everything shrinks to it). Returns
    (posterior means, a, b).
    """
    k, m = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    keep = m > 0
    if keep.sum() < 3:
        raise ParameterError("beta-binomial shrinkage needs at least 3 groups with observations")
    p = k[keep] / m[keep]
    pooled = k[keep].sum() / m[keep].sum()
    pooled = min(max(pooled, 1e-6), 1 - 1e-6)
    binom_var = np.mean(pooled * (1 - pooled) / m[keep])
    var = max(float(np.var(p, ddof=1)) - binom_var, 1e-9)
    common = pooled * (1 - pooled) / var - 1
    common = min(max(common, 1e-3), 1e6)
    a, b = pooled * common, (1 - pooled) * common
    return (k + a) / (m + a + b), float(a), float(b)


def p_above(failures, n, a, b, center) -> np.ndarray:
    """Posterior probability that a true failure rate is above ``center``: ``P(θ > c)`` for θ ~ Beta(a + k, b + n − k).

    >>> round(float(p_above(9, 20, 1, 1, 0.25)), 4)  # Beta(10, 12): P(θ > 0.25) — scipy.stats.beta(10, 12).sf(0.25)
    0.9794
    """
    k, m = np.asarray(failures, dtype=float), np.asarray(n, dtype=float)
    return stats.beta.sf(np.asarray(center, dtype=float), np.asarray(a, dtype=float) + k, np.asarray(b, dtype=float) + m - k)
