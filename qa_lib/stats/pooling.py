"""Partial pooling of rate factors with a heavy-tailed prior, on a grid: the array-level core of :mod:`qa_lib.quality`.

Unit ``j`` (an agent, an agent × item cell) has ``O_j`` observed failures where ``E_j`` were expected from everything
else the model knows; its own factor multiplies the expectation: ``O_j ~ Poisson(E_j · exp(u_j))``. The log factors
``u_j`` follow a Student-t prior (``df`` degrees of freedom, scale σ) centred on 0, and σ — how much units really
differ — gets a uniform prior on :data:`SCALE_GRID` (uniform on the scale, as Gelman 2006 recommends for a
hierarchical SD). Everything is computed on a grid of ``u`` (:data:`LOG_GRID`): the marginal likelihood of each σ,
σ's posterior, and each unit's posterior averaged over it.

Why not the textbook Poisson–gamma (or normal) empirical Bayes: its point estimate of σ is often 0 with a few calls per
agent (everyone shrinks to the mean, intervals far too narrow), and its light tails pull a truly weak agent most of the
way back to the mean — the agents the verdict is for. Carrying σ's uncertainty fixes the first; the t prior's heavy
tails let a unit with strong evidence stand out, which fixes the second (measured in ``docs/validity.md``). Checked
against direct numerical integration with :func:`scipy.integrate.quad` (tests/test_stats_pooling.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from ..errors import ParameterError

__all__ = ["FactorPosterior", "pooled_factors", "LOG_GRID", "SCALE_GRID"]

#: Grid of log factors: factors from 0.05 to 33 (a unit failing 33 times as often as expected still fits).
LOG_GRID = np.linspace(-3.0, 3.5, 131)
#: Grid of σ, the SD-like scale of the log factors' t prior: 0.01 (units alike) to 1.5.
SCALE_GRID = np.concatenate([[0.01, 0.02, 0.035], np.linspace(0.05, 1.5, 59)])


@dataclass
class FactorPosterior:
    """Each unit's posterior over :data:`LOG_GRID` (``prob``: units × grid), σ's posterior (``scale_prob`` over
    :data:`SCALE_GRID`), and each unit's posterior mean factor (``mean``)."""

    prob: np.ndarray
    scale_prob: np.ndarray
    mean: np.ndarray

    @property
    def scale(self) -> float:
        """σ's posterior mean."""
        return float(np.sum(self.scale_prob * SCALE_GRID))

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of every unit's factor (n × units): a grid point by its posterior, jittered within its step."""
        cdf = np.cumsum(self.prob, axis=1)
        cdf /= cdf[:, -1:]
        J, U = cdf.shape
        r = rng.random((n, J))
        offset = np.arange(J, dtype=float)
        idx = np.searchsorted((cdf + offset[:, None]).ravel(), (r + offset[None, :]).ravel()).reshape(n, J) - (np.arange(J) * U)[None, :]
        step = LOG_GRID[1] - LOG_GRID[0]
        return np.exp(LOG_GRID[np.clip(idx, 0, U - 1)] + (rng.random((n, J)) - 0.5) * step)


def _prior(df: float) -> np.ndarray:
    """t density of each grid point under each scale (scales × grid), normalised over the grid."""
    dens = stats.t.pdf(LOG_GRID[None, :] / SCALE_GRID[:, None], df) / SCALE_GRID[:, None]
    return dens / dens.sum(axis=1, keepdims=True)


def pooled_factors(observed, expected, *, trials=None, df: float = 4.0) -> FactorPosterior:
    """Posterior of every unit's factor under the heavy-tailed pooled prior.

    ``observed`` and ``expected`` may be weighted (fractional) counts. Units with nothing expected get the prior.
    With ``trials`` (answers behind each unit) the failures are binomial — ``O ~ Binomial(n, min(E/n · factor, 1))``
    — which is sharper than Poisson when failure is common (a weak agent failing half the time).

    >>> fp = pooled_factors([0, 1, 2, 10, 3, 2], [3, 3, 3, 3, 3, 3])
    >>> fp.mean.round(2).tolist()  # the unit with 10 failures where 3 were expected stands out
    [0.45, 0.64, 0.83, 2.8, 1.03, 0.83]
    """
    o, e = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    if o.shape != e.shape or o.ndim != 1:
        raise ParameterError(f"observed and expected must be 1-d and the same length; got {o.shape} and {e.shape}")
    if not (np.all(np.isfinite(o)) and np.all(o >= 0) and np.all(np.isfinite(e)) and np.all(e >= 0)):
        raise ParameterError("observed and expected must hold numbers ≥ 0")
    if not df > 0:
        raise ParameterError(f"df must be a positive number; got {df!r}")
    if trials is None:
        loglik = special.xlogy(o[:, None], np.exp(LOG_GRID)[None, :]) - e[:, None] * np.exp(LOG_GRID)[None, :]  # units × grid
    else:
        n = np.asarray(trials, dtype=float)
        if n.shape != o.shape or np.any(n < o - 1e-9):
            raise ParameterError("trials must be as long as observed and never smaller")
        p = np.clip(np.where(n > 0, e / np.where(n > 0, n, 1), 0)[:, None] * np.exp(LOG_GRID)[None, :], 1e-12, 1 - 1e-6)
        loglik = special.xlogy(o[:, None], p) + special.xlogy(np.maximum(n - o, 0)[:, None], 1 - p)
    loglik -= loglik.max(axis=1, keepdims=True)
    lik = np.exp(loglik)
    prior = _prior(df)  # scales × grid
    marg = lik @ prior.T  # units × scales
    log_scale = np.sum(np.log(np.maximum(marg, 1e-300)), axis=0)
    scale_prob = np.exp(log_scale - log_scale.max())
    scale_prob /= scale_prob.sum()
    # unit posterior: Σ_s p(s | data) · prior(u | s) · lik(u) / marg(s)
    prob = lik * ((scale_prob[None, :] / np.maximum(marg, 1e-300)) @ prior)
    prob /= prob.sum(axis=1, keepdims=True)
    return FactorPosterior(prob=prob, scale_prob=scale_prob, mean=prob @ np.exp(LOG_GRID))
