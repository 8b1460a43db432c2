"""qa_lib.stats.pooling checked against direct numerical integration (scipy.integrate.quad) of the same model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from qa_lib.errors import ParameterError
from qa_lib.stats.pooling import LOG_GRID, SCALE_GRID, pooled_factors


def _reference_means(o, e, df):
    """The posterior mean factor of each unit by adaptive quadrature (scipy.integrate.quad_vec over every scale and unit
    at once): σ's posterior on SCALE_GRID (uniform prior), u on the grid's range, the t prior truncated to it."""
    lo, hi = LOG_GRID[0], LOG_GRID[-1]
    s = SCALE_GRID[:, None]

    def parts(u):  # prior · likelihood and its product with the factor, scales × units; and the prior alone
        prior = stats.t.pdf(u / s, df) / s
        lik = stats.poisson.pmf(o[None, :], e[None, :] * np.exp(u))
        return np.concatenate([(prior * lik).ravel(), (prior * lik * np.exp(u)).ravel(), prior.ravel()])

    total = integrate.quad_vec(parts, lo, hi, points=[0.0], epsabs=1e-14, epsrel=1e-10)[0]
    S, J = len(SCALE_GRID), len(o)
    marg, first, z = total[: S * J].reshape(S, J), total[S * J: 2 * S * J].reshape(S, J), total[2 * S * J:].reshape(S, 1)
    log_s = np.log(marg / z).sum(1)
    post_s = np.exp(log_s - log_s.max())
    post_s /= post_s.sum()
    return (post_s[:, None] * first / marg).sum(0)


@pytest.mark.parametrize("df", [1.0, 4.0])
def test_posterior_means_match_quadrature(df):
    o, e = np.array([0.0, 1, 2, 10, 3]), np.array([3.0, 3, 3, 3, 3])
    fp = pooled_factors(o, e, df=df)
    # the grid and quadrature agree to the grid's resolution (steps of 0.05 in log factor)
    ref = _reference_means(o, e, df)
    assert np.allclose(fp.mean, ref, rtol=0.03), (fp.mean, ref)


def test_no_spread_pools_everyone_and_an_outlier_stands_out():
    rng = np.random.default_rng(0)
    e = np.full(60, 4.0)
    alike = pooled_factors(rng.poisson(e).astype(float), e)
    assert alike.scale < 0.15 and np.ptp(alike.mean) < 0.5
    o = rng.poisson(e).astype(float)
    o[0] = 20  # five times the expected failures
    fp = pooled_factors(o, e, df=1.0)
    assert fp.mean[0] > 3 and np.median(fp.mean[1:]) == pytest.approx(1, abs=0.15)


def test_binomial_trials_sharpen_common_failures():
    """Half of 18 answers failed where 1.3 were expected: binomial puts the factor near 9/1.3, Poisson more loosely."""
    o, e, n = np.r_[9.0, np.full(30, 1.0)], np.r_[1.3, np.full(30, 1.3)], np.full(31, 18.0)
    b, p = pooled_factors(o, e, trials=n, df=1.0), pooled_factors(o, e, df=1.0)
    draws_b, draws_p = b.draw(4000, np.random.default_rng(1))[:, 0], p.draw(4000, np.random.default_rng(1))[:, 0]
    assert np.std(np.log(draws_b)) < np.std(np.log(draws_p))


def test_draws_follow_the_posterior():
    fp = pooled_factors([0.0, 6, 2, 3], [3.0, 3, 3, 3])
    d = fp.draw(20000, np.random.default_rng(2))
    assert np.allclose(d.mean(0), fp.mean, rtol=0.03)


@pytest.mark.parametrize("kw, message", [
    (dict(observed=[1, 2], expected=[1]), "same length"),
    (dict(observed=[-1, 2], expected=[1, 1]), "≥ 0"),
    (dict(observed=[1, 2], expected=[1, 1], df=0), "df must be"),
    (dict(observed=[3, 2], expected=[1, 1], trials=[2, 2]), "never smaller"),
])
def test_bad_input(kw, message):
    with pytest.raises(ParameterError, match=message):
        pooled_factors(**kw)
