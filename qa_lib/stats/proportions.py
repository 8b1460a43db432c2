"""Intervals for a rate and for the difference of two rates; the margin a sample of n buys.

* :func:`wilson_interval`, :func:`clopper_pearson_interval` — a rate from k of n;
* :func:`newcombe_interval` — the difference of two independent rates (hybrid score);
* :func:`proportion_margin` — the ± a sample of n buys for a rate.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._checks import _confidence, _counts, _out

__all__ = ["wilson_interval", "clopper_pearson_interval", "proportion_margin", "newcombe_interval"]


def wilson_interval(successes, n, confidence=0.95):
    """Wilson score interval for a proportion (no continuity correction).

    Checked against Newcombe (1998), Stat Med 17:857, Table I, method 3: 81/263 gives
    (0.2553, 0.3662); 15/148 gives (0.0624, 0.1605); 0/20 gives (0, 0.1611).
    ``n = 0`` gives (0, 1): no evidence either way.

    >>> [round(v, 4) for v in wilson_interval(81, 263)]
    [0.2553, 0.3662]
    """
    c = _confidence(confidence)
    k, m = _counts(successes, n)
    z = stats.norm.ppf(0.5 + c / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(m > 0, k / np.where(m > 0, m, 1), 0.0)
        denom = 1 + z * z / m
        centre = (p + z * z / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denom
        low = np.where(m > 0, np.clip(centre - half, 0, 1), 0.0)
        high = np.where(m > 0, np.clip(centre + half, 0, 1), 1.0)
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == m, np.where(m > 0, 1.0, high), high)
    return _out(low, high)


def clopper_pearson_interval(successes, n, confidence=0.95):
    """Clopper–Pearson ("exact") interval for a proportion, from the beta distribution.

    Checked against Newcombe (1998), Table I, method 5: 81/263 gives (0.2527, 0.3676);
    15/148 gives (0.0578, 0.1617); 0/20 gives (0, 0.1684).

    >>> [round(v, 4) for v in clopper_pearson_interval(15, 148)]
    [0.0578, 0.1617]
    """
    c = _confidence(confidence)
    k, m = _counts(successes, n)
    a = (1 - c) / 2
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.beta.ppf(a, k, m - k + 1), 0.0)
        high = np.where(k < m, stats.beta.ppf(1 - a, k + 1, m - k), 1.0)
    return _out(np.nan_to_num(low), np.where(np.isnan(high), 1.0, high))


def proportion_margin(n, p=0.5, confidence=0.95):
    """Half-width of the Wilson interval at rate ``p`` with ``n`` observations (what n buys for a rate)."""
    _confidence(confidence)
    m = np.asarray(n, dtype=float)
    lo, hi = wilson_interval(np.round(np.asarray(p) * m), m, confidence)
    return (np.asarray(hi) - np.asarray(lo)) / 2


def newcombe_interval(successes1, n1, successes2, n2, confidence: float = 0.95):
    """Newcombe's hybrid score interval for p1 − p2 of two independent proportions.

    The Wilson interval (l_i, u_i) of each proportion gives
    L = d − √((p1 − l1)² + (u2 − p2)²) and U = d + √((u1 − p1)² + (p2 − l2)²), d = p1 − p2
    (Newcombe 1998, Stat Med 17:873, method 10, no continuity correction). Vectorized over
    arrays of counts. Where either n is 0 there is no evidence: (−1, 1).

    Checked against Newcombe (1998) Table II: 56/70 − 48/80 gives (0.0524, 0.3339);
    9/10 − 3/10 gives (0.1705, 0.8090); 10/10 − 0/20 gives (0.6791, 1).

    >>> [round(v, 4) for v in newcombe_interval(56, 70, 48, 80)]
    [0.0524, 0.3339]
    """
    c = _confidence(confidence)
    k1, m1 = np.asarray(successes1, dtype=float), np.asarray(n1, dtype=float)
    k2, m2 = np.asarray(successes2, dtype=float), np.asarray(n2, dtype=float)
    l1, u1 = (np.asarray(v, dtype=float) for v in wilson_interval(k1, m1, c))
    l2, u2 = (np.asarray(v, dtype=float) for v in wilson_interval(k2, m2, c))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = np.where(m1 > 0, k1 / np.where(m1 > 0, m1, 1), 0.0)
        p2 = np.where(m2 > 0, k2 / np.where(m2 > 0, m2, 1), 0.0)
    d = p1 - p2
    low = np.clip(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), -1, 1)
    high = np.clip(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), -1, 1)
    empty = (m1 == 0) | (m2 == 0)
    low, high = np.where(empty, -1.0, low), np.where(empty, 1.0, high)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
