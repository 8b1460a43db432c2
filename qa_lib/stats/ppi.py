"""Prediction-powered means: automatic answers on every call, corrected by a human-scored random sample.

Prediction-powered inference (Angelopoulos, Bates, Fannjiang, Jordan & Zrnic, *Science* 382, 2023) estimates a mean
θ of human labels Y from a small labelled sample (n calls with Y and a prediction f(X)) and a large unlabelled set
(N calls with f(X̃) only)::

    θ̂ = mean(f(X̃)) − mean(f(X) − Y)            variance  σ²_f / N + σ²_Δ / n,   Δ = f(X) − Y

The first term is the machine's answer on all calls, the second removes its bias as measured on the human sample, so
θ̂ is unbiased however bad the predictions are; its interval is narrow when Δ varies little (a good scorer). PPI++
(Angelopoulos, Duchi & Zrnic 2023, arXiv:2311.01453) multiplies the predictions by a tuned λ ∈ [0, 1]
(``θ̂ = mean(λ f(X̃)) + mean(Y − λ f(X))``) chosen to minimise the variance: λ = 0 gives back the human-only mean,
so a useless scorer costs (almost) nothing. The computation is the ``ppi_py`` package's (``ppi_mean_pointestimate``,
``ppi_mean_ci``; imported only when called: it pulls numba).

Weights. ``ppi_py`` rescales ``w`` to sum to n and estimates with ``mean(w·(Y − λŶ))``: for the human arm of a QA
plan — a random sample stratified by agent, n_a of agent a's N_a calls — pass ``w = 1 / inclusion_prob = N_a / n_a``
and the unlabelled set as every call of the group, once (``w_unlabeled`` None); the estimate then targets the mean over
all calls, not over the sampled ones (which over-weight small agents). ``ppi_py``'s weighted standard error,
``sd(w·(Y − λŶ)) / √n``, is the with-replacement variance of a Horvitz–Thompson total: it ignores the
stratification gain and counts the spread of the weights times the mean, so it errs on the wide side, the more so for
values far from zero (scores). Measured on the simulated center of ``benchmarks/validity_parts/ppi.py`` (3-fold range
of weights, n ≈ 48 a team): see docs/autoqa.md. The location-invariant (Hájek, linearised) form of the same error was
tried and dropped: at n ≈ 48 with skewed scores its normal intervals covered only 90–93 %.

* :func:`ppi_mean` — arrays in, a dict out (PPI++ estimate and interval beside the human-only one, effective n).
* :func:`ppi_means` — tidy: one row per group (team × item pass rate, team mean score …).
"""

from __future__ import annotations

import reprlib

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["ppi_mean", "ppi_means", "PPI_COLUMNS"]

PPI_COLUMNS = ["estimate", "lo", "hi", "classical_estimate", "classical_lo", "classical_hi", "n", "N", "n_effective", "lam",
               "width_ratio"]


def _vector(x, name: str, *, min_len: int = 2) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be numbers; got {reprlib.repr(x)}") from None
    if a.ndim != 1:
        raise ParameterError(f"{name} must be 1-D (one value per call); got shape {a.shape}")
    if a.size < min_len:
        raise ParameterError(f"{name} needs at least {min_len} values; got {a.size}")
    if not np.isfinite(a).all():
        i = int(np.argmax(~np.isfinite(a)))
        raise ParameterError(f"{name} must be finite numbers (drop or fill missing answers first); got {a[i]} at position {i}")
    return a


def _weights(w, size: int, name: str) -> np.ndarray | None:
    if w is None:
        return None
    a = _vector(w, name, min_len=1)
    if a.size != size:
        raise ParameterError(f"{name} must have one weight per call ({size}); got {a.size}")
    if np.any(a <= 0):
        raise ParameterError(f"{name} must be positive (design weights 1 / inclusion probability); got {a.min():g}")
    return a


def ppi_mean(y, yhat, yhat_unlabeled, *, w=None, w_unlabeled=None, alpha: float = 0.05, lam: float | None = None) -> dict:
    """Prediction-powered (PPI++) estimate of the mean of ``y`` with a 1 − ``alpha`` interval, beside the human-only one.

    Parameters
    ----------
    y, yhat : array
        The human value (a pass 0/1, a score) and the automatic prediction, on the n human-scored calls.
    yhat_unlabeled : array
        The automatic prediction on the N calls the estimate is about (every call of the group; it may include the
        human-scored ones).
    w, w_unlabeled : array, optional
        Design weights (1 / inclusion probability) of the human-scored calls, and of the others (None: equal).
    alpha : float
        1 − confidence level of the two-sided interval.
    lam : float, optional
        Power tuning: None estimates λ (PPI++, clipped to [0, 1]); 1 is the original PPI; 0 the human-only mean.

    Returns
    -------
    dict with ``estimate, lo, hi`` (PPI), ``classical_estimate, classical_lo, classical_hi`` (human-only, the
    ``ppi_py.classical_mean_ci`` CLT interval with the same weights), ``n, N``, ``n_effective`` — the number of
    human-scored calls a human-only interval would need to be as narrow as the PPI one, n × (classical width / PPI
    width)² — ``lam`` (the λ used) and ``width_ratio`` (PPI width / classical width).

    With λ = 1 the estimate and interval are the hand formula of Angelopoulos et al. (2023):

    >>> y, f = np.array([1., 0, 1, 1, 0, 1]), np.array([1., 0, 1, 0, 0, 1])
    >>> fu = np.array([1., 1, 0, 1, 1, 1, 0, 1, 1, 1])
    >>> r = ppi_mean(y, f, fu, lam=1)
    >>> theta = fu.mean() - (f - y).mean()
    >>> se = np.sqrt(fu.var() / fu.size + (f - y).var() / y.size)
    >>> bool(np.isclose(r["estimate"], theta)), bool(np.isclose(r["hi"] - r["lo"], 2 * 1.959964 * se))
    (True, True)
    >>> round(r["estimate"], 4), round(r["lo"], 4), round(r["hi"], 4)
    (0.9667, 0.5789, 1.3545)
    """
    y = _vector(y, "y")
    yhat = _vector(yhat, "yhat")
    yu = _vector(yhat_unlabeled, "yhat_unlabeled")
    if yhat.size != y.size:
        raise ParameterError(f"yhat must have one prediction per value of y ({y.size}); got {yhat.size}")
    w = _weights(w, y.size, "w")
    wu = _weights(w_unlabeled, yu.size, "w_unlabeled")
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be a number between 0 and 1 (e.g. 0.05); got {alpha!r}")
    if lam is not None and (not isinstance(lam, (int, float)) or isinstance(lam, bool) or not 0 <= lam <= 1):
        raise ParameterError(f"lam must be None (tuned) or a number from 0 to 1; got {lam!r}")
    from ppi_py import classical_mean_ci, ppi_mean_ci, ppi_mean_pointestimate  # lazy: numba takes seconds to import

    est = float(np.squeeze(ppi_mean_pointestimate(y, yhat, yu, lam=lam, w=w, w_unlabeled=wu)))
    wn = np.ones(y.size) if w is None else w / w.sum() * y.size
    wun = np.ones(yu.size) if wu is None else wu / wu.sum() * yu.size
    c_est = float(np.mean(wn * y))
    if lam is None:  # the λ ppi_py chose: the estimate is linear in λ
        slope = float(np.mean(wun * yu) - np.mean(wn * yhat))
        used = (est - c_est) / slope if abs(slope) > 1e-12 else 0.0
        used = float(np.clip(used, 0.0, 1.0))
    else:
        used = float(lam)
    lo, hi = (float(np.squeeze(v)) for v in ppi_mean_ci(y, yhat, yu, alpha=alpha, lam=used, w=w, w_unlabeled=wu))
    c_lo, c_hi = (float(np.squeeze(v)) for v in classical_mean_ci(y, w=w, alpha=alpha))
    width, c_width = hi - lo, c_hi - c_lo
    ratio = width / c_width if c_width > 0 else float("nan")
    n_eff = y.size / ratio**2 if ratio == ratio and ratio > 0 else float("nan")
    return {"estimate": est, "lo": lo, "hi": hi, "classical_estimate": c_est, "classical_lo": c_lo, "classical_hi": c_hi,
            "n": int(y.size), "N": int(yu.size), "n_effective": float(n_eff), "lam": used, "width_ratio": float(ratio)}


def ppi_means(labeled: pd.DataFrame, unlabeled: pd.DataFrame, *, value: str, prediction: str, by=None, weight: str | None = None,
              alpha: float = 0.05, min_n: int = 2) -> pd.DataFrame:
    """:func:`ppi_mean` per group: one row per value of ``by`` (e.g. team × item pass rate, team mean score).

    ``labeled`` holds the human-scored calls: the human ``value`` (0/1 pass, a score) and the automatic ``prediction``
    on the same call, the ``by`` columns and optionally ``weight`` (the design weight 1 / inclusion probability of the
    random arm; only random-arm calls belong here). ``unlabeled`` holds every call the estimate is about (human-scored
    ones included) with ``prediction`` and the ``by`` columns. A labelled row whose ``value`` is missing (the item did
    not apply) is dropped; so must ``unlabeled`` leave out calls where the item does not apply. A missing
    ``prediction`` (the scorer abstained) is an error: fill it (any fixed value keeps the estimate unbiased — the
    human arm corrects it — e.g. the item's human pass rate) or leave the group to the human-only estimate.
    Groups with fewer than ``min_n`` labelled calls get NaN numbers (and their ``n``).

    Returns the ``by`` columns, then ``estimate, lo, hi, classical_estimate, classical_lo, classical_hi, n, N,
    n_effective, lam, width_ratio``.
    """
    by = [] if by is None else [by] if isinstance(by, str) else list(by)
    for frame, name, cols in ((labeled, "labeled", [value, prediction, *by] + ([weight] if weight else [])),
                              (unlabeled, "unlabeled", [prediction, *by])):
        if not isinstance(frame, pd.DataFrame):
            raise ParameterError(f"{name} must be a DataFrame; got {type(frame).__name__}")
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ParameterError(f"{name} has no column(s) {missing}; columns: {list(frame.columns)}")
    if not isinstance(min_n, (int, np.integer)) or isinstance(min_n, bool) or min_n < 2:
        raise ParameterError(f"min_n must be an integer ≥ 2; got {min_n!r}")
    for frame, name in ((labeled, "labeled"), (unlabeled, "unlabeled")):
        if frame[prediction].isna().any():
            raise ParameterError(f"{name}[{prediction!r}] has {int(frame[prediction].isna().sum())} missing predictions "
                                 "(abstentions): fill them (e.g. with the human pass rate) before ppi_means")
    lab = labeled[labeled[value].notna()]
    key = (lambda f: [0] * len(f)) if not by else (lambda f: [f[c] for c in by])
    groups_u = dict(list(unlabeled.groupby(key(unlabeled), sort=True, dropna=False))) if by else {0: unlabeled}
    groups_l = dict(list(lab.groupby(key(lab), sort=True, dropna=False))) if by else {0: lab}
    rows = []
    for k in sorted(set(groups_u) | set(groups_l), key=str):
        gl, gu = groups_l.get(k), groups_u.get(k)
        row = dict(zip(by, k if isinstance(k, tuple) else (k,))) if by else {}
        n = 0 if gl is None else len(gl)
        big_n = 0 if gu is None else len(gu)
        if n < min_n or big_n < 2:
            rows.append(row | dict.fromkeys(PPI_COLUMNS, np.nan) | {"n": n, "N": big_n})
            continue
        w = gl[weight].to_numpy(dtype=float) if weight else None
        rows.append(row | ppi_mean(gl[value].to_numpy(dtype=float), gl[prediction].to_numpy(dtype=float),
                                   gu[prediction].to_numpy(dtype=float), w=w, alpha=alpha))
    out = pd.DataFrame(rows, columns=[*by, *PPI_COLUMNS])
    out[["n", "N"]] = out[["n", "N"]].astype(int)
    return out

