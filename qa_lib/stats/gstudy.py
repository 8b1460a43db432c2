"""Generalizability theory: variance components of an unbalanced design (the G-study) and what n buys (the D-study).

:func:`variance_components` estimates, for any set of crossed or nested random factors (and an optional fixed
factor), how much of the variance of a score each one carries: MINQUE(0) (Rao 1971), the quadratic unbiased
estimator that needs no iteration. It equates, for each factor, the sum over its levels of the squared sums of the
residuals (after the fixed effects) to its expectation; for balanced data it gives the ANOVA estimates, which
equal REML when none is negative. Checked against lme4's REML fit of the Penicillin data (Bates 2010, ch. 2:
plate 0.7169, sample 3.7311, residual 0.3024) and against statsmodels' REML on an unbalanced design.

The D-study functions read a G-study as two numbers: ``universe``, the variance of the true scores between the
objects measured (agents), and ``error``, the variance one call adds to an object's mean (every source that
changes from call to call: the call itself, its inspector, the residual). A mean over ``n`` calls has error
variance ``error / n`` and reliability (generalizability coefficient) ``universe / (universe + error / n)``
(Brennan 2001, eq. 4.4 with ``n`` calls per object).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from ..errors import ParameterError
from ._checks import _confidence

__all__ = ["variance_components", "g_coefficient", "calls_for_reliability", "calls_for_decision", "d_study"]

RESIDUAL = "residual"


def _factor_codes(data: pd.DataFrame, name: str, cols: tuple[str, ...]) -> np.ndarray:
    """Level codes (0..L-1) of one random factor: a column or the combination of several."""
    for col in cols:
        if col not in data.columns:
            raise ParameterError(f"random factor {name!r} needs column {col!r}; the data has {list(data.columns)}")
        blank = data[col].isna().to_numpy()
        if blank.any():
            row = int(np.flatnonzero(blank)[0])
            raise ParameterError(f"column {col!r} of random factor {name!r} is blank in {int(blank.sum())} rows (first: row {row}); "
                                 "every row needs a level")
    if len(cols) == 1:
        return pd.factorize(data[cols[0]], sort=True)[0]
    return data.groupby(list(cols), sort=True).ngroup().to_numpy()


def _incidence(codes: np.ndarray) -> sparse.csr_matrix:
    """N × L 0/1 matrix: row r has a 1 in the column of its level."""
    n = codes.size
    return sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, int(codes.max()) + 1))


def _random_spec(random) -> dict[str, tuple[str, ...]]:
    """The random factors as ``{name: columns}``; a bare column name stands for itself."""
    if isinstance(random, str) or not isinstance(random, (Mapping, Sequence)) or not len(random):
        raise ParameterError(f"random must name at least one factor: a list of columns or a mapping name -> column(s); got {random!r}")
    items = random.items() if isinstance(random, Mapping) else ((r if isinstance(r, str) else "×".join(r), r) for r in random)
    spec = {}
    for name, cols in items:
        cols = (cols,) if isinstance(cols, str) else tuple(cols)
        if not cols or not all(isinstance(c, str) for c in cols):
            raise ParameterError(f"random factor {name!r} must be a column name or a tuple of column names; got {cols!r}")
        if name == RESIDUAL or name in spec:
            raise ParameterError(f"random factor names must be unique and not {RESIDUAL!r}; got {name!r} twice or reserved")
        spec[str(name)] = cols
    return spec


def variance_components(data: pd.DataFrame, value: str, random, *, fixed: str | None = None) -> pd.DataFrame:
    """MINQUE(0) variance components of ``value`` for the random factors ``random`` plus a residual.

    ``random``: a list of columns (a tuple of columns is their interaction, e.g. ``("agent_id", "item_id")``) or a
    mapping ``{name: column or tuple}``. ``fixed``: a column whose levels are fixed effects (e.g. the items of a
    scorecard, when each row is one item's credit), removed before the random parts are estimated.

    Returns one row per component, the residual last: ``component``, ``variance`` (the estimate, a negative one
    set to 0 as in Brennan 2001, §3.4), ``estimate`` (before that), ``levels`` and ``share`` of the total.

    >>> d = pd.DataFrame({"g": list("aabbcc"), "y": [1.0, 3.0, 4.0, 6.0, 7.0, 9.0]})
    >>> variance_components(d, "y", ["g"])[["component", "variance"]].round(2).to_dict("list")
    {'component': ['g', 'residual'], 'variance': [8.0, 2.0]}
    """
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"data must be a DataFrame; got {type(data).__name__}")
    if value not in data.columns:
        raise ParameterError(f"data has no column {value!r} (the value to analyse); columns: {list(data.columns)}")
    spec = _random_spec(random)
    y_all = pd.to_numeric(data[value], errors="coerce")
    d = data.loc[y_all.notna()].reset_index(drop=True)
    y = y_all.dropna().to_numpy(dtype=float)
    if fixed is not None and fixed not in d.columns:
        raise ParameterError(f"fixed must be a column of data; got {fixed!r}")
    codes = {name: _factor_codes(d, name, cols) for name, cols in spec.items()}
    fcodes = np.zeros(y.size, np.int64) if fixed is None else pd.factorize(d[fixed].astype(str), sort=True)[0]
    n, p = y.size, int(fcodes.max()) + 1 if y.size else 0
    if n - p < 2:
        raise ParameterError(f"{value!r} needs at least {p + 2} numeric values for a residual; got {n}")
    _check_separable(codes, n)
    return _minque0(y, codes, fcodes, p)


def _check_separable(codes: dict[str, np.ndarray], n: int) -> None:
    """Refuse a factor with one level, or one that is the residual (one row per level) or the same partition as another."""
    seen = {}
    for name, c in codes.items():
        levels = int(c.max()) + 1
        if levels < 2:
            raise ParameterError(f"random factor {name!r} has a single level: its variance cannot be estimated")
        if levels == n:
            raise ParameterError(f"random factor {name!r} has one row per level: it cannot be told apart from the residual; leave it out")
        key = (levels, pd.factorize(c)[0].tobytes())
        if key in seen:
            raise ParameterError(f"random factors {seen[key]!r} and {name!r} group the rows the same way: keep one")
        seen[key] = name


def _minque0(y: np.ndarray, codes: dict[str, np.ndarray], fcodes: np.ndarray, p: int) -> pd.DataFrame:
    """Solve Σ_l ‖Z_k'QZ_l‖² σ²_l = ‖Z_k'Qy‖² (Z_0 = I the residual), Q the projection off the fixed effects."""
    n = y.size
    F = _incidence(fcodes)
    N_f = np.asarray(F.sum(axis=0)).ravel()
    r = y - (F.T @ y / N_f)[fcodes]  # Qy: each value minus its fixed level's mean
    names = list(codes)
    Z = [_incidence(codes[k]) for k in names]
    U = [(z.T @ F).toarray() for z in Z]  # Z_k'X: level × fixed-level counts
    G = [u.T @ u for u in U]
    K = len(names)
    S = np.empty((K + 1, K + 1))
    q = np.empty(K + 1)
    for i in range(K):
        for j in range(i, K):
            B = (Z[i].T @ Z[j]).tocsr()
            cross = float(np.sum(U[i] * (B @ U[j]) / N_f[None, :]))
            low_rank = float(np.sum((G[i] / N_f[:, None] / N_f[None, :]) * G[j].T))
            S[i, j] = S[j, i] = B.multiply(B).sum() - 2 * cross + low_rank
        S[i, K] = S[K, i] = n - float(np.sum(U[i] ** 2 / N_f[None, :]))  # tr(Z_k'QZ_k)
        q[i] = float(np.sum((Z[i].T @ r) ** 2))
    S[K, K], q[K] = n - p, float(r @ r)
    if np.linalg.matrix_rank(S) < K + 1:
        raise ParameterError(f"the design cannot separate the components {names + [RESIDUAL]}: some are confounded; leave one out")
    est = np.linalg.solve(S, q)
    var = np.maximum(est, 0.0)
    total = var.sum()
    return pd.DataFrame({
        "component": names + [RESIDUAL], "variance": var, "estimate": est,
        "levels": [int(codes[k].max()) + 1 for k in names] + [n], "share": var / total if total > 0 else np.nan,
    })


# --------------------------------------------------------------------------- D-study
def _variance(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not v >= 0 or not math.isfinite(v):
        raise ParameterError(f"{name} must be a variance: a finite number ≥ 0; got {v!r}")
    return float(v)


def _calls(n) -> np.ndarray:
    m = np.asarray(n, dtype=float)
    if m.size == 0 or np.any(~np.isfinite(m)) or np.any(m < 1):
        raise ParameterError(f"n must be a number of calls ≥ 1; got {n!r}")
    return m


def g_coefficient(universe: float, error: float, n):
    """Reliability (generalizability coefficient) of a mean over ``n`` calls: universe / (universe + error / n).

    With the audit's reading of the sample center (universe 11, error 480 points² per call) 6 calls give 0.12:

    >>> round(g_coefficient(11.0, 480.0, 6), 2)
    0.12
    """
    u, e, m = _variance("universe", universe), _variance("error", error), _calls(n)
    if u + e == 0:
        raise ParameterError("universe and error are both 0: nothing varies, reliability is undefined")
    rel = u / (u + e / m)
    return rel if rel.ndim else float(rel)


def calls_for_reliability(universe: float, error: float, reliability: float = 0.8) -> int:
    """Fewest calls whose mean reaches ``reliability``: n = ρ/(1 − ρ) · error / universe, rounded up.

    >>> calls_for_reliability(20.0, 80.0, 0.8), calls_for_reliability(20.0, 80.0, 0.7)
    (16, 10)
    """
    u, e = _variance("universe", universe), _variance("error", error)
    if isinstance(reliability, bool) or not isinstance(reliability, (int, float)) or not 0 < reliability < 1:
        raise ParameterError(f"reliability must be between 0 and 1 (e.g. 0.8); got {reliability!r}")
    if u == 0:
        raise ParameterError("universe is 0: agents do not differ, no number of calls tells them apart")
    return max(1, math.ceil(round(reliability / (1 - reliability) * e / u, 9)))


def calls_for_decision(error: float, distance: float, confidence: float = 0.95, power: float = 0.8) -> int:
    """Calls an agent needs so that, when its true score is ``distance`` points from the target, its interval
    (two-sided ``confidence``) clears the target with probability ``power``: n = ((z₁₋α/₂ + z_power) σ / d)².

    >>> calls_for_decision(400.0, 10.0), calls_for_decision(400.0, 10.0, power=0.5)
    (32, 16)
    """
    e = _variance("error", error)
    c = _confidence(confidence)
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 < power < 1:
        raise ParameterError(f"power must be between 0 and 1 (e.g. 0.8); got {power!r}")
    if isinstance(distance, bool) or not isinstance(distance, (int, float)) or not distance > 0:
        raise ParameterError(f"distance must be a positive number of points from the target; got {distance!r}")
    z = stats.norm.ppf(0.5 + c / 2) + stats.norm.ppf(power)
    return max(1, math.ceil(round((z * math.sqrt(e) / distance) ** 2, 9)))


def d_study(universe: float, error: float, n=(1, 2, 3, 4, 6, 8, 12, 16, 24), confidence: float = 0.95) -> pd.DataFrame:
    """What n calls buy: per n, ``reliability``, ``sem`` (the error SD of the mean, √(error / n)) and ``margin``
    (the normal half-width of an interval for the mean at ``confidence``).

    >>> d_study(20.0, 80.0, n=[4, 16]).round(3).to_dict("list")
    {'n': [4, 16], 'reliability': [0.5, 0.8], 'sem': [4.472, 2.236], 'margin': [8.765, 4.383]}
    """
    c = _confidence(confidence)
    m = _calls(n)
    rel = np.atleast_1d(g_coefficient(universe, error, m))
    sem = np.sqrt(_variance("error", error) / m)
    out = pd.DataFrame({"n": m.astype(int) if np.all(m == np.round(m)) else m, "reliability": rel,
                        "sem": sem, "margin": stats.norm.ppf(0.5 + c / 2) * sem})
    return out
