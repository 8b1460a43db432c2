"""One effect in a logistic model with offsets, many problems at once: estimate, profile-likelihood interval, one-sided p.

* :func:`profile_logit` — for each problem (a batch of independent data sets of the same shape), the model
  ``logit P(success) = offset + X·beta + theta·treated`` on binomial rows (``successes`` of ``trials``); the
  maximum-likelihood ``theta``, its profile-likelihood interval (Venzon & Moolgavkar 1988: the ``theta`` whose
  profile deviance is within the χ²₁ quantile of the minimum) and the signed-root one-sided p-value for
  ``theta < 0``. The deviance is divided by a dispersion estimated from the untreated rows (Pearson χ² / df,
  never below 1: McCullagh & Nelder 1989, §4.5), so extra-binomial variation widens the interval.

Profile intervals stay honest where Wald intervals break: a treated group with no successes (the estimate runs off
to −∞) still gets a finite upper bound. Checked against statsmodels' ``GLM(Binomial)`` in
``tests/test_stats_profile_logit.py``, with a seeded coverage simulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import ParameterError
from ._checks import _confidence

__all__ = ["profile_logit"]

_RIDGE = 1e-8


def _deviance(y: np.ndarray, n: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Binomial deviance per problem (rows summed), 0·log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = special.xlogy(y, y / (n * mu)) + special.xlogy(n - y, (n - y) / (n * (1 - mu)))
    return 2 * np.where(n > 0, d, 0.0).sum(axis=1)


def _fit(y, n, off, X, beta, fixed_last: float | None = None, bound: float = 10.0, iters: int = 50):
    """Newton–Raphson for every problem at once; the last column's coefficient is kept in [−bound, bound]."""
    K = X.shape[2]
    beta = beta.copy()
    cols = [np.ascontiguousarray(X[..., k]) for k in range(K)]  # a few columns: plain sums beat batched tiny matmuls
    for _ in range(iters):
        mu = special.expit(off + _lin(cols, beta))
        w = n * mu * (1 - mu)
        r = y - n * mu
        g = np.stack([(c * r).sum(axis=1) for c in cols], axis=1)
        H = np.empty((X.shape[0], K, K))
        for i in range(K):
            for j in range(i, K):
                H[:, i, j] = H[:, j, i] = (cols[i] * cols[j] * w).sum(axis=1) + (_RIDGE if i == j else 0.0)
        step = np.linalg.solve(H, g[..., None])[..., 0]
        step = np.clip(step, -3.0, 3.0)
        beta = beta + step
        if fixed_last is not None:
            beta[:, -1] = np.clip(beta[:, -1], -bound, bound)
        if np.nanmax(np.abs(step), initial=0.0) < 1e-9:
            break
    mu = np.clip(special.expit(off + _lin(cols, beta)), 1e-300, 1 - 1e-16)
    return beta, mu


def _lin(cols: list[np.ndarray], beta: np.ndarray) -> np.ndarray:
    """The linear predictor ``X·beta`` per problem and row, from X's columns."""
    out = cols[0] * beta[:, :1]
    for k in range(1, len(cols)):
        out = out + cols[k] * beta[:, k:k + 1]
    return out


def _profile(y, n, off, X, t, theta, beta):
    """Deviance with ``theta`` fixed (one value per problem), nuisance coefficients refitted from ``beta``."""
    b, mu = _fit(y, n, off + theta[:, None] * t, X, beta)
    return _deviance(y, n, mu), b


def _arrays(successes, trials, offset, covariates, treated):
    """Validated float arrays: (P, R) counts, offset and treated, (P, R, K) covariates; rows without trials zeroed."""
    try:
        y, n, off, t = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (successes, trials, offset, treated))
        X = np.asarray(covariates, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("successes, trials, offset, covariates and treated must be numbers") from None
    if X.ndim == 2 and y.shape[0] == 1:
        X = X[None]
    if X.ndim != 3 or not (y.shape == n.shape == off.shape == t.shape == X.shape[:2]):
        raise ParameterError(f"successes, trials, offset and treated must have one shape (problems, rows) and covariates "
                             f"(problems, rows, k); got {y.shape}, {n.shape}, {off.shape}, {t.shape} and {X.shape}")
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(y) & np.isfinite(n)) | (n < 0) | (y < 0) | (y > n) | (y != np.round(y)) | (n != np.round(n))
    if bad.any():
        p, r = (int(v[0]) for v in np.nonzero(bad))
        raise ParameterError(f"successes and trials must be whole numbers with 0 ≤ successes ≤ trials; got {y[p, r]:g} of {n[p, r]:g} "
                             f"(problem {p}, row {r})")
    if not set(np.unique(t)) <= {0.0, 1.0}:
        raise ParameterError(f"treated must be 0 or 1 (False or True); got {sorted(set(np.unique(t)) - {0.0, 1.0})[:3]}")
    live = n > 0
    if not (np.isfinite(off[live]).all() and np.isfinite(X[live]).all()):
        raise ParameterError("offset and covariates must be finite on every row with trials")
    return y, n, np.where(live, off, 0.0), np.where(live[..., None], X, 0.0), np.where(live, t, 0.0)


def profile_logit(successes, trials, offset, covariates, treated, *, confidence: float = 0.95, bound: float = 10.0) -> pd.DataFrame:
    """The treated effect ``theta`` of ``logit p = offset + covariates·beta + theta·treated``, per problem.

    Parameters
    ----------
    successes, trials, offset, treated : array (problems, rows)
        Binomial rows of each problem; rows with 0 trials are padding and count for nothing. ``treated`` is 0/1.
    covariates : array (problems, rows, k)
        The nuisance columns (an intercept column included by the caller).
    confidence : float
        Level of the profile-likelihood interval.
    bound : float
        ``|theta|`` beyond this is reported as infinite (``exp(10)`` ≈ 22,000 times the odds).

    Returns
    -------
    DataFrame, one row per problem
        ``estimate`` (maximum likelihood, ±``bound`` when it runs off), ``low``, ``high`` (−inf / inf when the profile
        never leaves the interval within ``bound``), ``p_negative`` (one-sided p-value for ``theta < 0``: Φ of the
        signed root of the deviance difference at 0), ``dispersion`` (≥ 1) and ``ok`` (False, and NaN numbers, when
        the problem has no treated row with trials or no more untreated rows with trials than covariates), and
        ``beta_0`` … ``beta_{k-1}``: the nuisance coefficients at the maximum.

    >>> r = profile_logit([[3, 30, 10]], [[40, 300, 100]], [[0, 0, 0]], [[[1], [1], [1]]], [[1, 0, 0]])
    >>> round(float(r["estimate"][0]), 3)  # log odds ratio of 3/40 against 40/400
    -0.315
    """
    c = _confidence(confidence)
    if not isinstance(bound, (int, float)) or isinstance(bound, bool) or not 0 < bound <= 50:
        raise ParameterError(f"bound must be a number between 0 and 50; got {bound!r}")
    y, n, off, X, t = _arrays(successes, trials, offset, covariates, treated)
    P, R, K = X.shape
    ok = ((t > 0) & (n > 0)).any(axis=1) & (((t == 0) & (n > 0)).sum(axis=1) > K)
    q = stats.chi2.ppf(c, 1)
    XT = np.concatenate([X, t[..., None]], axis=2)
    beta_t, mu = _fit(y, n, off, XT, np.zeros((P, K + 1)), fixed_last=0.0, bound=bound)
    theta = beta_t[:, -1]
    dev_min = _deviance(y, n, mu)
    resid = np.where((t == 0) & (n > 0), (y - n * mu) ** 2 / np.maximum(n * mu * (1 - mu), 1e-12), 0.0)
    df = np.maximum(((t == 0) & (n > 0)).sum(axis=1) - K, 1)
    phi = np.maximum(resid.sum(axis=1) / df, 1.0)
    beta = beta_t[:, :-1]
    dev0, _ = _profile(y, n, off, X, t, np.zeros(P), beta)
    root = np.sign(theta) * np.sqrt(np.clip(dev0 - dev_min, 0, None) / phi)
    low = _endpoint(y, n, off, X, t, theta, beta, dev_min, phi, q, -bound)
    high = _endpoint(y, n, off, X, t, theta, beta, dev_min, phi, q, bound)
    nan = np.where(ok, 1.0, np.nan)
    out = pd.DataFrame({"estimate": theta * nan, "low": low * nan, "high": high * nan, "p_negative": stats.norm.cdf(root) * nan,
                        "dispersion": phi * nan, "ok": ok})
    for j in range(K):
        out[f"beta_{j}"] = beta_t[:, j] * nan
    return out


def _endpoint(y, n, off, X, t, theta, beta, dev_min, phi, q, edge: float, steps: int = 40) -> np.ndarray:
    """The ``theta`` between the estimate and ``edge`` where the scaled profile deviance rises by ``q`` (Illinois regula falsi);
    each step refits only the problems not yet settled."""
    far = np.full(theta.shape, float(edge))
    d_far, _ = _profile(y, n, off, X, t, far, beta)
    f_b = (d_far - dev_min) / phi - q
    inside = f_b < 0
    a, b, f_a = theta.copy(), far, np.full(theta.shape, -q)
    side = np.zeros(theta.shape)
    beta = beta.copy()
    live = np.nonzero(~inside)[0]
    for _ in range(steps):
        if not live.size:
            break
        A, B, FA, FB = a[live], b[live], f_a[live], f_b[live]
        with np.errstate(divide="ignore", invalid="ignore"):
            m = B - FB * (B - A) / (FB - FA)
        m = np.where(np.isfinite(m) & ((m - A) * (m - B) <= 0), m, (A + B) / 2)
        d, beta[live] = _profile(y[live], n[live], off[live], X[live], t[live], m, beta[live])
        f_m = (d - dev_min[live]) / phi[live] - q
        up = f_m >= 0  # the root lies between a and m: m replaces b
        FA = np.where(up & (side[live] == 1), FA / 2, FA)
        FB = np.where(~up & (side[live] == -1), FB / 2, FB)
        side[live] = np.where(up, 1, -1)
        a[live], f_a[live] = np.where(up, A, m), np.where(up, FA, f_m)
        b[live], f_b[live] = np.where(up, m, B), np.where(up, f_m, FB)
        live = live[~((np.abs(f_m) < 1e-8) | (np.abs(b[live] - a[live]) < 1e-9))]
    return np.where(inside, np.sign(edge) * np.inf, np.where(np.abs(f_a) < np.abs(f_b), a, b))
