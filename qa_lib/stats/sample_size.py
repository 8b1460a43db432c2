"""How many to sample: a rate or a mean to ±margin (finite-population corrected, Student t for means), and
GB/T 2828.1 / ISO 2859-1 single sampling plans for lots."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..errors import ParameterError
from ._checks import _confidence

__all__ = ["cochran_sample_size", "mean_margin", "mean_sample_size", "iso2859_code_letter", "iso2859_plan"]


def cochran_sample_size(margin, confidence=0.95, p=0.5, population=None) -> int:
    """Sample size for estimating a proportion to ±``margin`` (Cochran 1977, eq. 4.2 and 4.3).

    n0 = z² p (1 − p) / margin²; with a finite population N, n = n0 / (1 + (n0 − 1) / N);
    rounded up once, at the end. Cochran's textbook values: margin 0.05, 95 %, p = 0.5
    gives 385 (n0 = 384.16); with N = 1000, 278.

    >>> cochran_sample_size(0.05), cochran_sample_size(0.05, population=1000)
    (385, 278)
    """
    c = _confidence(confidence)
    if not isinstance(margin, (int, float)) or isinstance(margin, bool) or not 0 < margin < 1:
        raise ParameterError(f"margin must be a proportion between 0 and 1 (e.g. 0.05 for ±5 points); got {margin!r}")
    if not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ParameterError(f"p must be between 0 and 1; got {p!r}")
    if population is not None and (not isinstance(population, (int, np.integer)) or population < 1):
        raise ParameterError(f"population must be a whole number ≥ 1 or None; got {population!r}")
    z = stats.norm.ppf(0.5 + c / 2)
    n0 = z * z * p * (1 - p) / (margin * margin)
    n = n0 if population is None else n0 / (1 + (n0 - 1) / population)
    n = math.ceil(round(n, 9))
    return int(min(n, population) if population is not None else n)


def mean_margin(n, sd, confidence=0.95, population=None):
    """Half-width of the t interval for a mean score from ``n`` evaluations with per-call SD ``sd``.

    margin = t(1 − α/2, n − 1) · sd / √n · √((N − n) / (N − 1)) with a finite population N.
    This is what "n = 4 per agent" actually buys, and it is wide: with sd = 10 points,
    n = 4 gives ±15.9 points.

    >>> round(float(mean_margin(4, 10)), 1)
    15.9
    """
    c = _confidence(confidence)
    m = np.asarray(n, dtype=float)
    if np.any(m < 2):
        raise ParameterError(f"n must be at least 2 to estimate a margin for a mean; got {n!r}")
    if not np.all(np.asarray(sd, dtype=float) >= 0):
        raise ParameterError(f"sd must be ≥ 0; got {sd!r}")
    t = stats.t.ppf(0.5 + c / 2, m - 1)
    e = t * np.asarray(sd, dtype=float) / np.sqrt(m)
    if population is not None:
        N = np.asarray(population, dtype=float)
        if np.any(N < m):
            raise ParameterError("population must be at least n")
        e = e * np.sqrt(np.where(N > 1, (N - m) / np.maximum(N - 1, 1), 0.0))
    return e if e.ndim else float(e)


def mean_sample_size(margin, sd, confidence=0.95, population=None) -> int:
    """Smallest n whose :func:`mean_margin` is ≤ ``margin`` points (capped at the population).

    >>> mean_sample_size(5, 10), mean_sample_size(5, 10, population=30)
    (18, 13)
    """
    _confidence(confidence)
    if not isinstance(margin, (int, float)) or isinstance(margin, bool) or margin <= 0:
        raise ParameterError(f"margin must be a positive number of points; got {margin!r}")
    if not isinstance(sd, (int, float)) or sd < 0:
        raise ParameterError(f"sd must be a number ≥ 0; got {sd!r}")
    cap = 100_000 if population is None else int(population)
    if cap < 2:
        return cap
    # the margin falls as n grows (t quantile, 1/√n and the finite-population factor all fall): bisect
    def fits(n: int) -> bool:
        return bool(np.all(mean_margin(np.array([n]), sd, confidence, None if population is None else np.array([population])) <= margin))

    if not fits(cap):
        return cap
    lo, hi = 2, cap  # fits(hi) holds; find the smallest such n
    if fits(lo):
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


# ----------------------------------------------------------------------- ISO 2859-1
_LOT_EDGES = [8, 15, 25, 50, 90, 150, 280, 500, 1200, 3200, 10000, 35000, 150000, 500000]
#: Table 1 of ISO 2859-1 (GB/T 2828.1): code letter per lot-size range (2–8, 9–15, …, ≥ 500 001) and level.
_CODE_LETTERS = {
    "S-1": "AAAABBBBCCCCDDD",
    "S-2": "AAABBBCCCDDDEEE",
    "S-3": "AABBCCDDEEFFGGH",
    "S-4": "AABCCDEEFGGHJJK",
    "I": "AABCCDEFGHJKLMN",
    "II": "ABCDEFGHJKLMNPQ",
    "III": "BCDEFGHJKLMNPQR",
}
_LETTERS = "ABCDEFGHJKLMNPQR"
_SIZES = [2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000]
_AQLS = [0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10, 15, 25, 40, 65, 100, 150, 250, 400, 650, 1000]
# Table 2-A is diagonal: the plan depends on d = letter index + AQL index only.
_DIAGONAL = {14: (0, 1), 17: (1, 2), 18: (2, 3), 19: (3, 4), 20: (5, 6), 21: (7, 8), 22: (10, 11), 23: (14, 15), 24: (21, 22), 25: (30, 31), 26: (44, 45)}


def iso2859_code_letter(lot_size: int, level: str = "II") -> str:
    """Sample-size code letter of ISO 2859-1 Table 1 for a lot size and inspection level."""
    if level not in _CODE_LETTERS:
        raise ParameterError(f"level must be one of {', '.join(_CODE_LETTERS)}; got {level!r}")
    if not isinstance(lot_size, (int, np.integer)) or isinstance(lot_size, bool) or lot_size < 2:
        raise ParameterError(f"lot_size must be a whole number ≥ 2; got {lot_size!r}")
    return _CODE_LETTERS[level][int(np.searchsorted(_LOT_EDGES, lot_size, side="left"))]


def _cell(i: int, j: int):
    """Table 2-A cell: (Ac, Re), or "down" / "up" for the arrows."""
    d = i + j
    if d <= 13:
        return "down"
    if d in (15,):
        return "up" if i > 0 else "down"  # row A has nothing above: the plan below applies
    if d == 16:
        return "down" if i < len(_LETTERS) - 1 else "right"  # row R has nothing below
    if d >= 25 and j < 21:  # Ac 30 and 44 exist only for AQL ≥ 150 (nonconformities per 100 units)
        return "up"
    return _DIAGONAL.get(d, "up")


def iso2859_plan(lot_size: int, aql: float, level: str = "II") -> dict:
    """Single sampling plan, normal inspection, from ISO 2859-1 (GB/T 2828.1) Tables 1 and 2-A.

    The arrows of Table 2-A are followed: where the cell points to another plan, that
    plan is returned (its code letter and sample size). Where the sample size reaches the
    lot size, every item is inspected (``n`` = lot size), as the standard instructs.

    Returns a dict with ``code_letter`` (of the plan used), ``table_letter`` (from Table 1),
    ``n``, ``accept`` (Ac) and ``reject`` (Re).

    Checked against Table 2-A: lot 1 000 at level II and AQL 2.5 → J, n = 80, Ac 5, Re 6.

    >>> iso2859_plan(1000, 2.5)
    {'code_letter': 'J', 'table_letter': 'J', 'n': 80, 'accept': 5, 'reject': 6}
    """
    letter = iso2859_code_letter(lot_size, level)
    matches = [j for j, a in enumerate(_AQLS) if math.isclose(a, float(aql), rel_tol=1e-9)]
    if not matches:
        raise ParameterError(f"aql must be one of the standard's values {', '.join(f'{a:g}' for a in _AQLS)}; got {aql!r}")
    i, j = _LETTERS.index(letter), matches[0]
    for _ in range(2 * len(_LETTERS) + len(_AQLS)):
        cell = _cell(i, j)
        if cell == "down":
            i += 1
        elif cell == "up":
            i -= 1
        elif cell == "right":
            j += 1
        else:
            n = _SIZES[i]
            return {"code_letter": _LETTERS[i], "table_letter": letter, "n": int(min(n, lot_size)), "accept": cell[0], "reject": cell[1]}
    raise AssertionError("Table 2-A arrows did not lead to a plan")  # unreachable: every arrow leads to a plan
