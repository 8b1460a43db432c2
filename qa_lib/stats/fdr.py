"""Many verdicts on one page: one-sided exact tests for "this unit fails more than the rest" and false-discovery control.

* :func:`exceed_test` — the one-sided conditional (Fisher) test that a unit's failure rate is above the rest's. The
  exact p-value is valid (never below uniform under no difference), which is what the false-discovery guarantee needs;
  ``mid=True`` gives the mid-p (Lancaster 1961; Agresti, *Categorical Data Analysis*, 3rd ed., §1.4.5), closer to
  uniform for a few answers but without that guarantee.
* :func:`q_values` — Benjamini–Hochberg (1995) adjusted p-values (q-values): flagging every row with ``q ≤ 0.05`` keeps
  the expected share of false flags among the flags at 5 % or less; ``method="by"`` is Benjamini–Yekutieli (2001), valid
  under any dependence, at a cost in power.
"""

from __future__ import annotations

import reprlib

import numpy as np
from scipy import stats

from ..errors import ParameterError

__all__ = ["exceed_test", "q_values"]

METHODS = ("bh", "by")


def q_values(p, method: str = "bh") -> np.ndarray:
    """Adjusted p-values for false-discovery control across the finite entries of ``p``; NaN stays NaN (not a test).

    ``method``: ``"bh"`` (Benjamini & Hochberg 1995, independent or positively dependent tests) or ``"by"``
    (Benjamini & Yekutieli 2001, any dependence). Flag the entries with ``q ≤ fdr``.

    >>> q_values([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()  # m = 3 tests
    [0.03, 0.04, 0.04, nan]
    """
    if method not in METHODS:
        raise ParameterError(f"method must be one of {list(METHODS)}; got {method!r}")
    try:
        a = np.array(p, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ParameterError(f"p must be numbers (p-values); got {reprlib.repr(p)}") from None
    ok = ~np.isnan(a)  # NaN: not a test; an infinite value is an error below
    bad = ok & ((a < 0) | (a > 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise ParameterError(f"p must be p-values between 0 and 1; got {float(a[i]):g} at position {i}")
    out = np.full(a.shape, np.nan)
    if ok.any():
        out[ok] = stats.false_discovery_control(a[ok], method=method)
    return out


def exceed_test(k1, n1, k2, n2, *, mid: bool = False) -> np.ndarray:
    """One-sided p-value that group 1 (``k1`` failures in ``n1``) fails more often than group 2 (``k2`` in ``n2``).

    Conditional on the total failures, group 1's count is hypergeometric under no difference:
    ``p = P(X ≥ k1)`` (Fisher's exact test, one-sided; default) or ``P(X > k1) + ½ P(X = k1)`` (``mid=True``).
    Element-wise and vectorised; ``n1 = 0`` or ``n2 = 0`` gives NaN (nothing to compare).

    >>> float(exceed_test(7, 18, 100, 1000).round(6))  # scipy.stats.fisher_exact([[7, 11], [100, 900]], "greater")
    0.001398
    """
    arrs = []
    for x, name in ((k1, "k1"), (n1, "n1"), (k2, "k2"), (n2, "n2")):
        try:
            a = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"{name} must be whole numbers; got {reprlib.repr(x)}") from None
        if not np.isfinite(a).all() or (a < 0).any() or (a != np.round(a)).any():
            raise ParameterError(f"{name} must be whole numbers ≥ 0; got {reprlib.repr(x)}")
        arrs.append(a)
    try:
        a1, m1, a2, m2 = np.broadcast_arrays(*arrs)
    except ValueError:
        raise ParameterError(f"k1, n1, k2, n2 must broadcast together; got shapes {[a.shape for a in arrs]}") from None
    for k, n, names in ((a1, m1, "k1 ≤ n1"), (a2, m2, "k2 ≤ n2")):
        if (k > n).any():
            i = int(np.argmax((k > n).ravel()))
            raise ParameterError(f"counts must satisfy {names} element-wise; not so at position {i}")
    total, fails = m1 + m2, a1 + a2
    x = stats.hypergeom(total.astype(np.int64), fails.astype(np.int64), m1.astype(np.int64))
    p = x.sf(a1) + 0.5 * x.pmf(a1) if mid else x.sf(a1 - 1)
    return np.where((m1 > 0) & (m2 > 0), np.clip(p, 0.0, 1.0), np.nan)
