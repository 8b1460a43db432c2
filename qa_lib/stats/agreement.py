"""Agreement between raters: chance-corrected coefficients, the ICC, and bootstrap intervals.

Array-level functions take ``reliability_data`` shaped **raters × units** (the
orientation of the ``krippendorff`` package); NaN or None marks a missing rating. They are
vectorized: category counts per unit are built with one ``bincount``, never a loop over
units. (Tidy wrappers over evaluation frames are in :mod:`qa_lib.calibration`.)

Reading α (Krippendorff 2004): ≥ 0.800 reliable; 0.667–0.800 tentative conclusions only;
below 0.667 not reliable.

>>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
...         [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan]]
>>> round(krippendorff_alpha(data, "nominal"), 3), round(krippendorff_alpha(data, "interval"), 3)
(0.743, 0.849)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ..errors import ParameterError

__all__ = [
    "percent_agreement", "krippendorff_alpha", "fleiss_kappa", "cohen_kappa", "gwet_ac1", "gwet_ac2", "brennan_prediger",
    "icc", "bootstrap_ci", "LEVELS", "interpret_alpha", "undefined_reason",
]

LEVELS = ("nominal", "ordinal", "interval", "ratio")


# --------------------------------------------------------------------------- helpers
def _matrix(reliability_data) -> np.ndarray:
    """raters × units as an object-free float array of values (labels are coded)."""
    arr = np.asarray(reliability_data, dtype=object) if not isinstance(reliability_data, np.ndarray) else reliability_data
    if arr.ndim != 2:
        raise ParameterError(f"reliability_data must be 2-D, raters × units; got {arr.ndim} dimension(s)")
    if arr.shape[0] < 2:
        raise ParameterError(f"reliability_data needs at least 2 raters (rows); got {arr.shape[0]}")
    if arr.dtype.kind in "fiub":
        return arr.astype(float)
    flat = pd.Series(arr.ravel(), dtype=object)
    missing = flat.isna()
    try:
        out = pd.to_numeric(flat, errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError):
        codes, _ = pd.factorize(flat.where(~missing), sort=True)
        out = np.where(codes < 0, np.nan, codes).astype(float)
    return out.reshape(arr.shape)


def _counts(data: np.ndarray, domain: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Units × categories count table and the category values."""
    values = data[~np.isnan(data)]
    if values.size == 0:
        raise ParameterError("reliability_data has no ratings (all missing)")
    cats = np.unique(values) if domain is None else np.asarray(domain, dtype=float)
    if domain is not None and not np.isin(values, cats).all():
        raise ParameterError(f"value_domain must contain every rated value; missing {sorted(set(np.unique(values)) - set(cats))}")
    n_units = data.shape[1]
    idx = np.searchsorted(cats, data)
    ok = ~np.isnan(data)
    unit = np.broadcast_to(np.arange(n_units), data.shape)
    flat = unit[ok] * cats.size + idx[ok]
    counts = np.bincount(flat, minlength=n_units * cats.size).reshape(n_units, cats.size).astype(float)
    return counts, cats


def _pairable(counts: np.ndarray) -> np.ndarray:
    return counts[counts.sum(axis=1) >= 2]


def interpret_alpha(alpha: float) -> str:
    """Krippendorff's reading of α: reliable (≥ 0.800), tentative (≥ 0.667), not reliable."""
    if alpha != alpha:
        return "not enough data"
    return "reliable" if alpha >= 0.8 else "tentative" if alpha >= 0.667 else "not reliable"


def undefined_reason(reliability_data, *, min_units: int = 1) -> tuple[str, int] | None:
    """Why α (and the other chance-corrected coefficients) cannot be read from ``reliability_data``; None when it can.

    The cases are told apart because they call for different actions: ``("raters", r)`` — fewer than 2 raters
    rated anything (r did); ``("units", u)`` — fewer than ``min_units`` units have two or more ratings (u do);
    ``("no variation", n)`` — every one of the n pairable ratings is the same value, so the expected
    disagreement is 0 and α is 0/0: undefined because everyone agrees, not for want of data. The last is the
    case where :func:`krippendorff_alpha` returns NaN.

    >>> undefined_reason([[1, 1, 1], [1, 1, 1]])
    ('no variation', 6)
    >>> undefined_reason([[1, 2, np.nan]]), undefined_reason([[1, np.nan], [np.nan, 2]])
    (('raters', 1), ('units', 0))
    >>> undefined_reason([[1, 2], [1, 2]]) is None
    True
    """
    if not isinstance(min_units, (int, np.integer)) or isinstance(min_units, bool) or min_units < 1:
        raise ParameterError(f"min_units must be an integer ≥ 1; got {min_units!r}")
    arr = np.asarray(reliability_data, dtype=object)
    if arr.ndim != 2:
        raise ParameterError(f"reliability_data must be 2-D, raters × units; got {arr.ndim} dimension(s)")
    if arr.shape[0] < 2 or arr.shape[1] == 0:
        rated = 0 if arr.shape[1] == 0 else int(pd.DataFrame(arr).notna().any(axis=1).sum())
        return ("raters", min(rated, arr.shape[0])) if arr.shape[0] < 2 else ("units", 0)
    data = _matrix(reliability_data)
    rated = int((~np.isnan(data)).any(axis=1).sum())
    if rated < 2:
        return ("raters", rated)
    counts = _pairable(_counts(data)[0])
    if counts.shape[0] < min_units:
        return ("units", int(counts.shape[0]))
    if int((counts.sum(axis=0) > 0).sum()) < 2:
        return ("no variation", int(counts.sum()))
    return None


# ---------------------------------------------------------------------- agreement
def percent_agreement(reliability_data) -> float:
    """Share of agreeing rater pairs, averaged over units with at least two ratings (not chance-corrected).

    >>> percent_agreement([[1, 1, 2], [1, 2, 2]])
    0.6666666666666666
    """
    counts = _pairable(_counts(_matrix(reliability_data))[0])
    if counts.shape[0] == 0:
        return float("nan")
    m = counts.sum(axis=1)
    return float(np.mean((counts * (counts - 1)).sum(axis=1) / (m * (m - 1))))


def _delta2(level: str, cats: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    if level == "nominal":
        return 1.0 - np.eye(cats.size)
    if level == "interval":
        return (cats[:, None] - cats[None, :]) ** 2
    if level == "ratio":
        s = cats[:, None] + cats[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            d = ((cats[:, None] - cats[None, :]) / s) ** 2
        return np.nan_to_num(d)
    # ordinal: (Σ_{g between c and k} n_g − (n_c + n_k)/2)²
    cum = np.cumsum(n_c)
    lo = np.minimum.outer(np.arange(cats.size), np.arange(cats.size))
    hi = np.maximum.outer(np.arange(cats.size), np.arange(cats.size))
    between = cum[hi] - cum[lo] + n_c[lo]
    return (between - (n_c[:, None] + n_c[None, :]) / 2) ** 2


def krippendorff_alpha(reliability_data, level: str = "nominal", value_domain=None) -> float:
    """Krippendorff's α for any number of raters, missing ratings, and four levels of measurement.

    Units with fewer than two ratings are ignored (Krippendorff 2011). ``value_domain``
    lists the possible values (for ordinal data, categories nobody used still count).
    Returns NaN when there is no variation at all (a single category used).

    Checked against Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
    the 4 observers × 12 units example: nominal 0.743, ordinal 0.815, interval 0.849,
    ratio 0.797; and against the ``krippendorff`` package to 1e-9.
    """
    if level not in LEVELS:
        raise ParameterError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    data = _matrix(reliability_data)
    counts, cats = _counts(data, value_domain)
    counts = _pairable(counts)
    if counts.shape[0] == 0:
        raise ParameterError("no unit has two or more ratings: α needs pairable values")
    m = counts.sum(axis=1)
    w = counts / (m - 1)[:, None]
    o = w.T @ counts - np.diag(w.sum(axis=0))  # coincidence matrix
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d2 = _delta2(level, cats, n_c)
    d_o = (o * d2).sum()
    d_e = (np.outer(n_c, n_c) * d2).sum() / (n - 1)
    if d_e == 0:
        return float("nan")
    return float(1 - d_o / d_e)


def fleiss_kappa(reliability_data=None, *, counts=None, weights=None) -> float:
    """Fleiss' κ for many raters, from raw ratings (raters × units) or a subjects × categories ``counts`` table.

    With different numbers of ratings per subject this is Fleiss' generalized κ as Gwet defines it (Handbook of
    Inter-Rater Reliability, 4th ed., ch. 2; R irrCAC ``fleiss.kappa.raw``): the observed agreement p_a is averaged
    over subjects with two or more ratings, and chance agreement Σ π_k² uses π_k, the share of category k *within
    each subject* averaged over the subjects rated at all — not the pooled share of all ratings, which over-weights
    subjects with many ratings. With a constant number of ratings both are the same, Fleiss (1971).
    ``weights`` (None, "linear", "quadratic", "ordinal") gives the weighted form (irrCAC's ``weights=``).

    Checked against Fleiss (1971): the 30 patients × 6 psychiatrists diagnoses give κ = 0.430 (R irr::kappam.fleiss);
    and against irrCAC on its raw_4raters example (κ = 0.76117, each unit rated by 1 to 4 raters).
    """
    if (reliability_data is None) == (counts is None):
        raise ParameterError("give reliability_data (raters × units) or counts (subjects × categories), not both")
    if counts is None:
        table, cats = _counts(_matrix(reliability_data))
    else:
        table = np.asarray(counts, dtype=float)
        if table.ndim != 2 or np.any(table < 0) or not np.isfinite(table).all():
            raise ParameterError("counts must be a 2-D table of non-negative counts, subjects × categories")
        cats = None
    q = table.shape[1]
    w = _weights(weights, q, None if weights is None or weights == "ordinal" else cats)
    r = table.sum(axis=1)
    if not (r >= 2).any():
        raise ParameterError("no subject has two or more ratings")
    pa, pi, _ = _unit_parts(table, w)
    pe = float(pi @ w @ pi)
    if pe == 1:
        return float("nan")
    return float((pa - pe) / (1 - pe))


def _unit_parts(table: np.ndarray, w: np.ndarray, mult: np.ndarray | None = None) -> tuple:
    """Gwet's per-unit pieces, averaged: p_a over units with ≥ 2 ratings, π_k over units with ≥ 1 (ch. 2 and 4).

    ``mult`` (resamples × units, how often each unit is drawn) gives one value per resample; without it, one value.
    """
    r = table.sum(axis=1)
    pair, rated = r >= 2, r >= 1
    with np.errstate(invalid="ignore", divide="ignore"):
        pa_u = np.where(pair, (table * (table @ w.T - 1)).sum(axis=1) / (r * (r - 1)), 0.0)
        p_u = np.where(rated[:, None], table / r[:, None], 0.0)
        if mult is None:
            return float(pa_u[pair].mean()), p_u[rated].mean(axis=0), None
        pa = (mult @ pa_u) / (mult @ pair)
        pi = (mult @ p_u) / (mult @ rated)[:, None]
    return pa, pi, mult


def _weights(kind, q: int, cats: np.ndarray | None = None) -> np.ndarray:
    """Agreement weights (1 on the diagonal): identity, linear, quadratic (by ``cats`` spacing) or ordinal (by rank).

    ``ordinal`` is Gwet's / irrCAC's: 1 − M(k, l) / max M with M(k, l) = C(|k − l| + 1, 2).
    """
    idx = np.arange(q, dtype=float) if cats is None else np.asarray(cats, dtype=float)
    span = (idx.max() - idx.min()) or 1.0
    diff = np.abs(idx[:, None] - idx[None, :]) / span
    if kind is None or kind == "identity":
        return np.eye(q)
    if kind == "linear":
        return 1 - diff
    if kind == "quadratic":
        return 1 - diff**2
    if kind == "ordinal":
        n = np.abs(np.arange(q)[:, None] - np.arange(q)[None, :]) + 1.0
        m = n * (n - 1) / 2
        return 1 - m / (m.max() or 1.0)
    raise ParameterError(f"weights must be None, 'linear', 'quadratic' or 'ordinal'; got {kind!r}")


def cohen_kappa(rater_a, rater_b, *, weights=None, labels=None) -> float:
    """Cohen's κ for two raters, unweighted or with linear / quadratic / ordinal weights.

    With ``labels`` the categories (and the weights' spacing) follow that declared list, so
    a category nobody used still counts. Pairs with a missing rating are dropped. Checked
    against scikit-learn's ``cohen_kappa_score``; on vcd's Mammograms table (Kundel &
    Polansky 2003) the unweighted κ is 0.3713.
    """
    a = pd.Series(np.asarray(rater_a, dtype=object))
    b = pd.Series(np.asarray(rater_b, dtype=object))
    if len(a) != len(b):
        raise ParameterError(f"rater_a and rater_b must be the same length; got {len(a)} and {len(b)}")
    keep = a.notna() & b.notna()
    a, b = a[keep], b[keep]
    if len(a) == 0:
        raise ParameterError("no unit has ratings from both raters")
    cats = list(labels) if labels is not None else sorted(set(a) | set(b), key=lambda v: (str(type(v)), v))
    lookup = {c: i for i, c in enumerate(cats)}
    unknown = (set(a) | set(b)) - set(lookup)
    if unknown:
        raise ParameterError(f"labels must include every rated value; missing {sorted(map(str, unknown))}")
    q = len(cats)
    ia, ib = a.map(lookup).to_numpy(dtype=int), b.map(lookup).to_numpy(dtype=int)
    o = np.bincount(ia * q + ib, minlength=q * q).reshape(q, q) / len(a)
    e = np.outer(o.sum(axis=1), o.sum(axis=0))
    w = 1 - _weights(weights, q)  # disagreement weights
    denom = (w * e).sum()
    if denom == 0:
        return float("nan")
    return float(1 - (w * o).sum() / denom)


def _label_codes(reliability_data, labels) -> np.ndarray:
    """raters × units as codes 0..q−1 of the declared ``labels`` (NaN = missing), one vectorised look-up."""
    raw = np.asarray(reliability_data, dtype=object) if not isinstance(reliability_data, np.ndarray) else reliability_data
    if raw.ndim != 2:
        raise ParameterError(f"reliability_data must be 2-D, raters × units; got {raw.ndim} dimension(s)")
    if raw.shape[0] < 2:
        raise ParameterError(f"reliability_data needs at least 2 raters (rows); got {raw.shape[0]}")
    flat = pd.Series(raw.ravel(), dtype=float if raw.dtype.kind in "fiub" else object)
    missing = flat.isna().to_numpy()
    codes = pd.Index(list(labels)).get_indexer(flat.where(~missing).to_numpy())
    if ((codes < 0) & ~missing).any():
        bad = sorted({str(v) for v in flat[(codes < 0) & ~missing]})
        raise ParameterError(f"labels must include every rated value; missing {bad[:10]}")
    return np.where(missing, np.nan, codes).reshape(raw.shape).astype(float)


def _gwet(reliability_data, weights, labels):
    """The units × categories counts (units rated at all), the weights and q; None when fewer than 2 categories."""
    if labels is not None:
        data = _label_codes(reliability_data, labels)
        counts, cats = _counts(data, np.arange(len(labels), dtype=float))
    else:
        counts, cats = _counts(_matrix(reliability_data))
    q = cats.size
    if q < 2:
        return None
    w = _weights(weights, q, None if labels is not None or weights in (None, "ordinal") else cats)
    counts = counts[counts.sum(axis=1) >= 1]
    if not (counts.sum(axis=1) >= 2).any():
        raise ParameterError("no unit has two or more ratings")
    return counts, w, q


def _ac(counts: np.ndarray, w: np.ndarray, q: int, mult: np.ndarray | None = None):
    """AC1/AC2 from Gwet's pieces: p_e = Σw / (q(q−1)) · Σ π_k(1 − π_k); one value, or one per resample row of ``mult``."""
    pa, pi, _ = _unit_parts(counts, w, mult)
    pe = w.sum() / (q * (q - 1)) * (pi * (1 - pi)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pa - pe) / (1 - pe)


def gwet_ac1(reliability_data, labels=None) -> float:
    """Gwet's AC1 for any number of raters and missing ratings (Gwet 2014, ch. 4).

    Stable where κ collapses on skewed categories (almost every call passes an item). With ``labels`` the
    categories are the declared ones (irrCAC ``categ.labels``): a yes/no item where everyone said yes has AC1 = 1.
    Checked against R irrCAC ``gwet.ac1.raw`` on its cac.raw4raters example (0.7754).
    """
    out = _gwet(reliability_data, None, labels)
    return float("nan") if out is None else float(_ac(*out))


def gwet_ac2(reliability_data, weights="quadratic", labels=None) -> float:
    """Gwet's AC2: AC1 with agreement weights for ordered categories (Gwet 2014, ch. 4).

    ``weights``: "linear", "quadratic" (by the categories' spacing) or "ordinal" (by rank, Gwet's ordinal weights);
    None gives AC1. With ``labels`` the categories and their spacing follow that declared order. Checked against
    irrCAC on raw_4raters: quadratic 0.9140, ordinal 0.8989.
    """
    out = _gwet(reliability_data, weights, labels)
    return float("nan") if out is None else float(_ac(*out))


def brennan_prediger(reliability_data) -> float:
    """Brennan & Prediger's (1981) κ_n: chance agreement 1/q for q categories used."""
    out = _gwet(reliability_data, None, None)
    if out is None:
        return float("nan")
    counts, w, q = out
    pa = _unit_parts(counts, w)[0]
    return float((pa - 1 / q) / (1 - 1 / q))


# -------------------------------------------------------------------------------- ICC
def icc(data: pd.DataFrame, targets: str, raters: str, ratings: str, confidence: float = 0.95) -> pd.DataFrame:
    """Intraclass correlations, the six forms of Shrout & Fleiss (1979), from a tidy long frame.

    Targets with a missing rating are dropped (complete two-way layout needed). Returns one
    row per form — index ``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k`` — with columns
    ``ICC, F, df1, df2, pval, ci_low, ci_high`` (confidence intervals of Shrout & Fleiss /
    McGraw & Wong, as in pingouin). Checked against Shrout & Fleiss (1979) Table 4 (.17,
    .29, .71, .44, .62, .91) and ``pingouin.intraclass_corr``.
    """
    for col in (targets, raters, ratings):
        if col not in data.columns:
            raise ParameterError(f"data has no column {col!r}; columns: {list(data.columns)}")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1; got {confidence!r}")
    wide, rs, k = _icc_layout(data, targets, raters, ratings)
    n = wide.shape[0]
    if n < 2:
        raise ParameterError("icc needs at least 2 targets rated by every rater")
    msb, msw, msj, mse = _icc_mean_squares(wide, rs, n, k)
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb
    alpha = 1 - confidence
    df1, df2w, df2e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    f1, f3 = msb / msw, msb / mse
    # scipy.special's F distribution directly (fdtrc = survival function, fdtri = quantile): same values as scipy.stats.f, far less overhead
    q = 1 - alpha / 2
    p1, p3 = special.fdtrc(df1, df2w, f1), special.fdtrc(df1, df2e, f3)
    f1l, f1u = f1 / special.fdtri(df1, df2w, q), f1 * special.fdtri(df2w, df1, q)
    f3l, f3u = f3 / special.fdtri(df1, df2e, q), f3 * special.fdtri(df2e, df1, q)
    ci1 = ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1))
    ci1k = (1 - 1 / f1l, 1 - 1 / f1u)
    ci3 = ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1))
    ci3k = (1 - 1 / f3l, 1 - 1 / f3u)
    ci2, ci2k = _icc2_intervals(n, k, msb, msj, mse, icc2, q)
    rows = [
        ("ICC1", icc1, f1, df1, df2w, p1, ci1), ("ICC2", icc2, f3, df1, df2e, p3, ci2), ("ICC3", icc3, f3, df1, df2e, p3, ci3),
        ("ICC1k", icc1k, f1, df1, df2w, p1, ci1k), ("ICC2k", icc2k, f3, df1, df2e, p3, ci2k), ("ICC3k", icc3k, f3, df1, df2e, p3, ci3k),
    ]
    cols = list(zip(*rows))
    return pd.DataFrame(
        {"ICC": cols[1], "F": cols[2], "df1": cols[3], "df2": cols[4], "pval": cols[5],
         "ci_low": [c[0] for c in cols[6]], "ci_high": [c[1] for c in cols[6]]},
        index=pd.Index(cols[0], name="Type"),
    )


def _icc_layout(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> tuple[np.ndarray, np.ndarray, int]:
    """The ratings as a targets × raters matrix of the complete targets, its row sums, and the number of raters."""
    t_codes, t_count = _codes(data[targets], gaps_ok=True)
    r_codes, k = _codes(data[raters])
    col = data[ratings]
    y = col.to_numpy(dtype=float) if col.dtype.kind in "iuf" else pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    if k < 2:
        raise ParameterError(f"icc needs at least 2 raters; got {k}")
    flat = t_codes * k + r_codes
    if y.size == t_count * k and np.array_equal(flat, np.arange(y.size)):
        wide = y.reshape(t_count, k)  # already in target-major order and complete: no scatter needed
    else:
        wide = np.full(t_count * k, np.nan)
        wide[flat] = y
        wide = wide.reshape(t_count, k)
    rs = wide @ np.ones(k)  # BLAS matrix-vector products: far faster than sum(axis=...) over short rows
    complete = ~np.isnan(rs)
    if not complete.all():
        wide, rs = wide[complete], rs[complete]
    return wide, rs, k


def _icc_mean_squares(wide: np.ndarray, rs: np.ndarray, n: int, k: int) -> tuple[float, float, float, float]:
    """The two-way ANOVA mean squares: between targets, within targets, between raters, and error."""
    cs = np.ones(n) @ wide
    big_n = n * k
    corr = rs.sum() ** 2 / big_n
    flat = wide.ravel()
    ss_total = float(flat @ flat) - corr
    ssb = float(rs @ rs) / k - corr
    ssj = float(cs @ cs) / n - corr
    msb = ssb / (n - 1)
    msw = (ss_total - ssb) / (n * (k - 1))
    msj = ssj / (k - 1)
    mse = (ss_total - ssb - ssj) / ((n - 1) * (k - 1))
    return msb, msw, msj, mse


def _icc2_intervals(n: int, k: int, msb: float, msj: float, mse: float, icc2: float, q: float) -> tuple[tuple, tuple]:
    """Confidence intervals of ICC2 and ICC2k (McGraw & Wong, Satterthwaite degrees of freedom), ``q`` the upper quantile."""
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u, f2l = special.fdtri(n - 1, v, q), special.fdtri(v, n - 1, q)
    lb2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    ub2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    ci2 = (lb2, ub2)
    ci2k = (lb2 * k / (1 + lb2 * (k - 1)), ub2 * k / (1 + ub2 * (k - 1)))
    return ci2, ci2k


def _codes(s: pd.Series, gaps_ok: bool = False) -> tuple[np.ndarray, int]:
    """Integer codes of a column and the number of codes (a fast path for compact integer ids).

    With ``gaps_ok`` non-negative integer ids are used as they are (an id that does not
    occur gives an empty row, which the caller drops as incomplete).
    """
    if s.dtype.kind in "iu" and len(s):  # check the dtype first: to_numpy() on text columns builds Python strings
        v = s.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if gaps_ok and lo >= 0 and hi < 4 * v.size + 16:
            return v, hi + 1
        if hi - lo < 4 * v.size + 16:
            shifted = v if lo == 0 else v - lo
            present = np.zeros(hi - lo + 1, bool)
            present[shifted] = True
            if present.all():  # ids are already 0..m-1 after the shift
                return shifted, hi - lo + 1
            remap = np.cumsum(present) - 1
            return remap[shifted], int(present.sum())
    codes, names = pd.factorize(s)  # the order of targets and raters does not matter to the ICC: no sort
    if (codes < 0).any():
        raise ParameterError(f"column {s.name!r} has missing values")
    return codes, names.size


# -------------------------------------------------------------------------- bootstrap
def bootstrap_ci(statistic, reliability_data, n_boot: int = 1000, confidence: float = 0.95, random_state=None, **kwargs) -> tuple[float, float]:
    """Percentile bootstrap interval of an agreement ``statistic``, resampling units (columns).

    ``statistic`` is one of this module's array-level functions (e.g. ``krippendorff_alpha``);
    ``kwargs`` pass through (``level="ordinal"``). Resamples whose statistic is undefined
    (no variation) are dropped. Seeded with ``random_state``. For ``krippendorff_alpha``, ``gwet_ac1`` and
    ``gwet_ac2`` (with ``labels``) all resamples are computed at once from per-unit pieces (same values as
    calling the statistic on each resample, to rounding); other statistics are called once per resample.
    """
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 10:
        raise ParameterError(f"n_boot must be an integer ≥ 10; got {n_boot!r}")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1; got {confidence!r}")
    rng = np.random.default_rng(random_state)
    if statistic in (gwet_ac1, gwet_ac2) and kwargs.get("labels") is not None:
        data = _label_codes(reliability_data, kwargs["labels"])
    else:
        data = _matrix(reliability_data)
    n_units = data.shape[1]
    idx = rng.integers(0, n_units, (n_boot, n_units))
    values = _resampled(statistic, data, idx, kwargs)
    if values is None:
        values = np.empty(n_boot)
        for b in range(n_boot):
            try:
                values[b] = statistic(data[:, idx[b]], **kwargs)
            except ParameterError:
                values[b] = np.nan
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    a = (1 - confidence) / 2
    lo, hi = np.quantile(values, [a, 1 - a])
    return float(lo), float(hi)


def _resampled(statistic, data: np.ndarray, idx: np.ndarray, kwargs: dict) -> np.ndarray | None:
    """The statistic on every resample ``idx`` (resamples × units drawn) at once, or None when there is no fast path."""
    if not (~np.isnan(data)).any():
        return None
    n_boot, n_units = idx.shape
    mult = np.zeros((n_boot, n_units))
    np.add.at(mult, (np.repeat(np.arange(n_boot), n_units), idx.ravel()), 1.0)
    if statistic is krippendorff_alpha and set(kwargs) <= {"level", "value_domain"}:
        return _alpha_resampled(data, mult, kwargs.get("level", "nominal"), kwargs.get("value_domain"))
    labels = kwargs.get("labels")
    if statistic is gwet_ac1 and set(kwargs) <= {"labels"}:
        weights = None
    elif statistic is gwet_ac2 and labels is not None and set(kwargs) <= {"labels", "weights"}:
        weights = kwargs.get("weights", "quadratic")
    else:
        return None
    if labels is not None:  # data are already codes of the declared labels: q is fixed
        counts, _ = _counts(data, np.arange(len(labels), dtype=float))
        q = len(labels)
        if q < 2:
            return np.full(n_boot, np.nan)
        return _ac(counts, _weights(weights, q), q, mult)
    counts, _ = _counts(data)  # AC1 on the categories each resample used (as gwet_ac1 on the resample)
    used = (mult @ counts) > 0
    q_b = used.sum(axis=1).astype(float)
    pa, pi, _ = _unit_parts(counts, np.eye(counts.shape[1]), mult)
    with np.errstate(invalid="ignore", divide="ignore"):
        pe = (pi * (1 - pi)).sum(axis=1) / (q_b - 1)
        out = (pa - pe) / (1 - pe)
    return np.where(q_b >= 2, out, np.nan)


def _alpha_resampled(data: np.ndarray, mult: np.ndarray, level: str, value_domain) -> np.ndarray:
    """Krippendorff's α of every resample: the coincidence matrix is a sum of per-unit matrices, weighted by draws."""
    if level not in LEVELS:
        raise ParameterError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    counts, cats = _counts(data, value_domain)
    m = counts.sum(axis=1)
    pair = m >= 2
    q = cats.size
    per_unit = np.zeros((counts.shape[0], q, q))
    c = counts[pair]
    per_unit[pair] = (c[:, :, None] * c[:, None, :] - np.einsum("uk,kl->ukl", c, np.eye(q))) / (m[pair] - 1)[:, None, None]
    o = (mult @ per_unit.reshape(len(m), q * q)).reshape(-1, q, q)
    n_c = o.sum(axis=2)
    n = n_c.sum(axis=1)
    if level == "ordinal":
        cum = np.cumsum(n_c, axis=1)
        lo = np.minimum.outer(np.arange(q), np.arange(q))
        hi = np.maximum.outer(np.arange(q), np.arange(q))
        d2 = (cum[:, hi] - cum[:, lo] + n_c[:, lo] - (n_c[:, :, None] + n_c[:, None, :]) / 2) ** 2
    else:
        d2 = _delta2(level, cats, n_c[0])[None]
    d_o = (o * d2).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        d_e = (n_c[:, :, None] * n_c[:, None, :] * d2).sum(axis=(1, 2)) / (n - 1)
        out = 1 - d_o / d_e
    return np.where((d_e > 0) & (n > 0), out, np.nan)
