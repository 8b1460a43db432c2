"""Input checks shared by the statistics (one message style: the parameter, what is allowed, what was received)."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError


def _confidence(confidence: float) -> float:
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool) or not 0 < confidence < 1:
        raise ParameterError(f"confidence must be a number between 0 and 1 (e.g. 0.95); got {confidence!r}")
    return float(confidence)


def _counts(successes, n):
    k, m = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    if np.any(np.isnan(k)) or np.any(np.isnan(m)) or np.any(m < 0) or np.any(k < 0) or np.any(k > m) \
            or np.any(k != np.round(k)) or np.any(m != np.round(m)):
        raise ParameterError(f"successes and n must be whole numbers with 0 ≤ successes ≤ n; got successes={successes!r}, n={n!r}")
    return k, m


def _out(low, high):
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high
