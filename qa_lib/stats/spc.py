"""Statistical process control for topic shares: p-charts, Western Electric rules, two-period z-tests.

Pure and vectorized (no loop over periods). Every user error raises :class:`~qa_lib.errors.ParameterError`
naming the parameter, what is allowed and what was received; inputs are never modified.

References: Montgomery DC, *Introduction to Statistical Quality Control* (p-chart, trial limits, varying n);
Western Electric Co. (1956) *Statistical Quality Control Handbook* (zone tests 1-4); Laney DB (2002) "Improved
control charts for attributes", *Quality Engineering* 14(4):531-537 (the p′ chart for overdispersed shares).
"""

from __future__ import annotations

import reprlib

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ParameterError

__all__ = ["p_chart", "two_proportion_test", "western_electric_rules", "RULE_FALSE_ALARM"]

_WE_RULES = (("rule1", 1, 1, 3.0), ("rule2", 3, 2, 2.0), ("rule3", 5, 4, 1.0), ("rule4", 8, 8, 0.0))


def _one_side(width: int, need: int, limit: float) -> float:
    """Chance that ``need`` of ``width`` independent standard-normal points lie beyond ``limit`` on one given side."""
    return float(stats.binom.sf(need - 1, width, stats.norm.sf(limit)))


#: Per rule, the chance an in-control point (independent normal z) fires it on one given side: rule 1 0.00135,
#: rule 2 0.00153, rule 3 0.00277, rule 4 0.00391 — a fired rule's p-value when signals are pooled for a
#: false-discovery-rate decision.
RULE_FALSE_ALARM = {name: _one_side(width, need, limit) for name, width, need, limit in _WE_RULES}


def _vector(x, name: str, *, allow_nan: bool = False, scalar_ok: bool = False) -> np.ndarray:
    """``x`` as a new 1-D float array (a scalar as length 1 if ``scalar_ok``), or ParameterError."""
    if x is None:
        raise ParameterError(f"{name} is required; got None")
    try:
        a = np.array([x] if scalar_ok and np.ndim(x) == 0 else x, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be numbers in a 1-D sequence; got {reprlib.repr(x)}") from None
    if a.ndim != 1:
        raise ParameterError(f"{name} must be 1-D; got an array of shape {a.shape}")
    bad = np.isinf(a) if allow_nan else ~np.isfinite(a)
    if bad.any():
        what = "infinite" if allow_nan else "missing or infinite"
        raise ParameterError(f"{name} must not contain {what} values; got one at position {int(np.argmax(bad))}")
    return a


def _counts(x, n, names: tuple[str, str]) -> None:
    """Check non-negative counts with 0 <= x <= n, element-wise."""
    for a, nm in ((x, names[0]), (n, names[1])):
        if (a < 0).any():
            raise ParameterError(f"{nm} must be >= 0; got {a[a < 0].flat[0]:g}")
    over = np.broadcast_to(x > n, np.broadcast_shapes(x.shape, n.shape))
    if over.any():
        i = int(np.argmax(over.ravel()))
        raise ParameterError(f"{names[0]} must be <= {names[1]} element-wise; not so at position {i}")


def _real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _baseline_mask(baseline, n: int) -> np.ndarray:
    if isinstance(baseline, slice):
        mask = np.zeros(n, dtype=bool)
        mask[baseline] = True
        return mask
    mask = np.asarray(baseline)
    if mask.dtype != bool or mask.shape != (n,):
        raise ParameterError(f"baseline must be None, a slice or a boolean mask of length {n}; "
                             f"got {type(baseline).__name__} of dtype {mask.dtype} and shape {mask.shape}")
    return mask.copy()


def p_chart(counts, sizes, *, center=None, baseline=None, sigma: float = 3.0, laney: bool | str = False) -> pd.DataFrame:
    """Shewhart p-chart with per-period limits (sample sizes may vary), or Laney's p′ chart for overdispersed shares.

    Parameters
    ----------
    counts : array-like of int, shape (m,)
        Items of the topic in each period (nonconforming units ``D_i``).
    sizes : array-like of int, shape (m,)
        Items inspected in each period, ``n_i >= counts``. A size of 0 gives a NaN share, never out of control.
    center : float in [0, 1], optional
        Known or standard share (phase II). Default: estimate ``pbar`` from the data (phase I).
    baseline : slice or boolean mask of length m, optional
        Periods used to estimate ``pbar = sum(D_i) / sum(n_i)`` (default all), e.g. to keep the month under
        test out of its own limits. Not allowed together with ``center``.
    sigma : float > 0, default 3
        Width of the limits in standard errors.
    laney : False, True or "auto", default False
        ``True``: Laney's p′ chart — the binomial standard error times ``sigma_z``, the average moving range of the
        baseline periods' ``z_i = (p_i - pbar) / sqrt(pbar (1 - pbar) / n_i)`` over 1.128 (Laney 2002; the same
        as R qicharts2 ``qic(chart = "pp")``); ``sigma_z²`` is the ratio of the between-period variation to the
        binomial. ``"auto"``: ``sigma_z`` at least 1 — the p′ chart when the periods vary more than binomially
        (overdispersion, ``sigma_z > 1``), the p-chart otherwise (never narrower than the p-chart).

    Returns
    -------
    pandas.DataFrame
        One row per period (index of ``counts`` if it is a Series) with ``count, size, p, center, sigma``
        (standard error ``sqrt(pbar (1 - pbar) / n_i)``, times ``sigma_z`` for a p′ chart), ``sigma_z`` (1 for a
        p-chart), ``lcl`` (clipped at 0), ``ucl`` (clipped at 1), ``out_of_control`` (strictly beyond a limit) and
        ``direction`` (``"up"``, ``"down"`` or ``""``).

    Examples
    --------
    >>> chart = p_chart([2, 3, 12, 4], [50, 60, 40, 50], baseline=[True, True, False, True])
    >>> float(chart["center"].iloc[0])  # (2 + 3 + 4) / (50 + 60 + 50), period 2 kept out
    0.05625
    >>> chart[["p", "lcl", "ucl", "direction"]].round(4)
          p  lcl     ucl direction
    0  0.04  0.0  0.1540
    1  0.05  0.0  0.1455
    2  0.30  0.0  0.1655        up
    3  0.08  0.0  0.1540
    """
    d, n = _vector(counts, "counts"), _vector(sizes, "sizes")
    if d.shape != n.shape:
        raise ParameterError(f"counts and sizes must have the same length; got {d.size} and {n.size}")
    _counts(d, n, ("counts", "sizes"))
    if isinstance(counts, pd.Series) and isinstance(sizes, pd.Series) and not counts.index.equals(sizes.index):
        raise ParameterError("counts and sizes are Series with different indexes; align them first")
    if not (_real(sigma) and np.isfinite(sigma) and sigma > 0):
        raise ParameterError(f"sigma must be a finite number > 0; got {sigma!r}")
    if center is not None:
        if baseline is not None:
            raise ParameterError("give center (phase II) or baseline (phase I), not both; got both")
        if not (_real(center) and 0 <= center <= 1):
            raise ParameterError(f"center must be a share in [0, 1]; got {center!r}")
        pbar = float(center)
    else:
        mask = np.ones(d.size, dtype=bool) if baseline is None else _baseline_mask(baseline, d.size)
        if n[mask].sum() <= 0:
            raise ParameterError(f"baseline must select periods with a positive total size; got {n[mask].sum():g}")
        pbar = d[mask].sum() / n[mask].sum()
    if laney not in (False, True, "auto"):
        raise ParameterError(f"laney must be False, True or 'auto'; got {laney!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, d / n, np.nan)
        se = np.where(n > 0, np.sqrt(pbar * (1 - pbar) / n), np.nan)
    sigma_z = 1.0
    if laney is not False:
        base = (np.ones(d.size, dtype=bool) if center is not None or baseline is None else mask) & (n > 0)
        sigma_z = _laney_sigma_z(p[base], se[base], pbar, auto=laney == "auto")
        se = se * sigma_z
    lcl, ucl = np.maximum(pbar - sigma * se, 0.0), np.minimum(pbar + sigma * se, 1.0)
    up, down = p > ucl, p < lcl
    index = counts.index if isinstance(counts, pd.Series) else pd.RangeIndex(d.size)
    return pd.DataFrame({"count": np.asarray(counts).copy(), "size": np.asarray(sizes).copy(), "p": p,
                         "center": pbar, "sigma": se, "sigma_z": sigma_z, "lcl": lcl, "ucl": ucl, "out_of_control": up | down,
                         "direction": np.where(up, "up", np.where(down, "down", ""))}, index=index)


def _laney_sigma_z(p: np.ndarray, se: np.ndarray, pbar: float, *, auto: bool) -> float:
    """Laney's sigma_z of the baseline points (average moving range of z over 1.128), at least 1 with ``auto``;
    1 without two points or without spread (``pbar`` 0 or 1)."""
    if p.size < 2 or not 0 < pbar < 1:
        return 1.0
    sz = float(np.mean(np.abs(np.diff((p - pbar) / se))) / 1.128)
    return max(sz, 1.0) if auto else sz


def _window_count(flags: np.ndarray, width: int) -> np.ndarray:
    """Number of True in the window of ``width`` points ending at each point (missing points before the start count False)."""
    c = np.concatenate(([0], np.cumsum(flags)))
    end = np.arange(1, flags.size + 1)
    return c[end] - c[np.maximum(end - width, 0)]


def western_electric_rules(values, center, sigma) -> pd.DataFrame:
    """Western Electric (1956) run rules on a control-chart statistic.

    With ``z = (value - center) / sigma``, a point is flagged when the window ENDING at it satisfies:

    * rule1: the point is beyond 3 sigma (``|z| > 3``);
    * rule2: 2 of 3 consecutive points beyond 2 sigma on the same side;
    * rule3: 4 of 5 consecutive points beyond 1 sigma on the same side;
    * rule4: 8 consecutive points on the same side of the center (``z > 0`` or ``z < 0``).

    The flagged point is the last of the window and need not itself be beyond. Points before the first
    one count as not beyond (rule 4 needs 8 real points). A NaN value (or NaN center/sigma) is never beyond:
    it counts as not beyond in the windows of rules 2-3, breaks rule-4 runs, and is itself never flagged.

    Parameters
    ----------
    values : array-like of float, shape (m,)
        The plotted statistic (e.g. the ``p`` column of :func:`p_chart`); NaN allowed.
    center : float or array-like of shape (m,)
        Center line, one value or one per point.
    sigma : float or array-like of shape (m,)
        One standard deviation of the statistic (e.g. the p-chart ``sigma`` column), > 0; NaN marks a missing point.

    Returns
    -------
    pandas.DataFrame
        ``z``, booleans ``rule1`` ... ``rule4`` and ``any``, and ``direction``: ``"up"``/``"down"`` for the side of
        the satisfied rule (the lowest-numbered one if rules on both sides hold), ``""`` when no rule holds.

    Examples
    --------
    >>> rules = western_electric_rules([0.5, 2.5, 0.2, 2.4, -3.5], center=0, sigma=1)
    >>> rules[["rule1", "rule2", "any", "direction"]]
       rule1  rule2    any direction
    0  False  False  False
    1  False  False  False
    2  False  False  False
    3  False   True   True        up
    4   True  False   True      down
    """
    x = _vector(values, "values", allow_nan=True)
    params = []
    for arg, name in ((center, "center"), (sigma, "sigma")):
        a = _vector(arg, name, allow_nan=True, scalar_ok=True)
        if a.size not in (1, x.size):
            raise ParameterError(f"{name} must be a scalar or have the length of values ({x.size}); got length {a.size}")
        params.append(np.broadcast_to(a, x.shape))
    mu, sd = params
    if (sd <= 0).any():
        raise ParameterError(f"sigma must be > 0 (NaN marks a missing point); got {sd[sd <= 0][0]:g}")
    z = (x - mu) / sd
    valid = ~np.isnan(z)
    out = {"z": z}
    side = np.zeros(x.size, dtype=int)
    for name, width, need, limit in _WE_RULES:
        hits = [(_window_count(s * z > limit, width) >= need) & valid for s in (1, -1)]
        out[name] = hits[0] | hits[1]
        side = np.where(side == 0, np.where(hits[0], 1, np.where(hits[1], -1, 0)), side)
    out["any"] = side != 0
    out["direction"] = np.where(side > 0, "up", np.where(side < 0, "down", ""))
    index = values.index if isinstance(values, pd.Series) else pd.RangeIndex(x.size)
    return pd.DataFrame(out, index=index)


def two_proportion_test(x1, n1, x2, n2) -> pd.DataFrame:
    """Two-sided pooled z-test for a change of share between two periods, element-wise.

    ``p1 = x1/n1``, ``p2 = x2/n2``, ``diff = p2 - p1``, pooled ``p = (x1 + x2) / (n1 + n2)``,
    ``z = diff / sqrt(p (1 - p) (1/n1 + 1/n2))`` and ``p_value = 2 * (1 - Phi(|z|))``. ``z**2`` equals Pearson's
    chi-square on the 2x2 table without continuity correction. Use it for large counts (expected counts >= 5).

    Parameters
    ----------
    x1, n1 : int or array-like
        Topic count and total of the first (reference) period, ``0 <= x1 <= n1``.
    x2, n2 : int or array-like
        The same for the second period. All four broadcast together to at most one dimension.

    Returns
    -------
    pandas.DataFrame
        Columns ``p1, p2, diff, z, p_value``, one row per comparison (index of ``x1`` if it is a Series of the
        right length). ``n = 0`` gives NaN shares; a pooled share of 0 or 1 (no variance) gives NaN ``z``.

    Examples
    --------
    >>> two_proportion_test(30, 200, 50, 200).round(4)
         p1    p2  diff      z  p_value
    0  0.15  0.25   0.1  2.5   0.0124
    """
    arrs = [_vector(arg, name, scalar_ok=True) for arg, name in ((x1, "x1"), (n1, "n1"), (x2, "x2"), (n2, "n2"))]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrs))
    except ValueError:
        raise ParameterError(f"x1, n1, x2, n2 must broadcast together; got lengths {[a.size for a in arrs]}") from None
    a1, m1, a2, m2 = (np.broadcast_to(a, shape) for a in arrs)
    _counts(a1, m1, ("x1", "n1"))
    _counts(a2, m2, ("x2", "n2"))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(m1 > 0, a1 / m1, np.nan)
        p2 = np.where(m2 > 0, a2 / m2, np.nan)
        pooled = (a1 + a2) / (m1 + m2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / m1 + 1 / m2))
        z = np.where(se > 0, (p2 - p1) / se, np.nan)
    index = x1.index if isinstance(x1, pd.Series) and len(x1) == shape[0] else pd.RangeIndex(shape[0])
    return pd.DataFrame({"p1": p1, "p2": p2, "diff": p2 - p1, "z": z, "p_value": 2 * stats.norm.sf(np.abs(z))},
                        index=index)
