"""qa_lib.stats.profile_logit against statsmodels' GLM(Binomial): the maximum, the profile-likelihood interval (the
deviance rises by the χ²₁ quantile at its ends), separation, padding, batches, the dispersion, a seeded coverage check.

Reference: statsmodels.api.GLM(family=Binomial()) with the same offset; Venzon DJ, Moolgavkar SH (1988), A method for
computing profile-likelihood-based confidence intervals, Applied Statistics 37:87-94.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from qa_lib.errors import ParameterError
from qa_lib.stats.profile_logit import profile_logit

sm = pytest.importorskip("statsmodels.api", reason="statsmodels is the reference package")


def _data(seed=1, rows=40, theta=-0.4, treated=4):
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 60, rows)
    x = rng.normal(size=rows)
    off = rng.normal(0, 0.3, rows)
    t = (np.arange(rows) < treated).astype(float)
    y = rng.binomial(n, 1 / (1 + np.exp(-(-1.5 + 0.5 * x + off + theta * t))))
    return y, n, off, np.c_[np.ones(rows), x], t


def _dev(y, n, X, off):
    return sm.GLM(np.c_[y, n - y], X, family=sm.families.Binomial(), offset=off).fit().deviance


def test_matches_statsmodels_and_the_profile_deviance():
    y, n, off, X, t = _data()
    r = profile_logit(y[None], n[None], off[None], X[None], t[None]).iloc[0]
    ref = sm.GLM(np.c_[y, n - y], np.c_[X, t], family=sm.families.Binomial(), offset=off).fit()
    assert r["estimate"] == pytest.approx(ref.params[-1], abs=1e-7)
    assert [r["beta_0"], r["beta_1"]] == pytest.approx(ref.params[:2], abs=1e-7)
    assert r["dispersion"] == 1.0  # Pearson χ² / df below 1: never shrinks the interval
    for end in (r["low"], r["high"]):  # the deviance with theta fixed at each end is the minimum + χ²₁(0.95)
        assert _dev(y, n, X, off + end * t) - ref.deviance == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-5)
    # the signed root at 0 is the likelihood-ratio test of theta = 0
    lr = _dev(y, n, X, off) - ref.deviance
    assert r["p_negative"] == pytest.approx(stats.norm.cdf(np.sign(r["estimate"]) * np.sqrt(lr)), abs=1e-7)
    assert profile_logit(y[None], n[None], off[None], X[None], t[None], confidence=0.8).iloc[0]["high"] < r["high"]


def test_separation_gives_a_finite_upper_bound():
    y, n, off, X, t = _data()
    y = np.where(t > 0, 0, y)  # the treated rows never succeed: the maximum runs off to −∞
    r = profile_logit(y[None], n[None], off[None], X[None], t[None]).iloc[0]
    assert r["estimate"] == -10 and r["low"] == -np.inf and np.isfinite(r["high"]) and r["p_negative"] < 1e-6
    assert _dev(y, n, X, off + r["high"] * t) - _dev(y, n, X, off - 10 * t) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-4)


def test_padding_batches_and_dispersion():
    y, n, off, X, t = _data()
    one = profile_logit(y[None], n[None], off[None], X[None], t[None])
    pad = lambda a, v=0.0: np.concatenate([a, np.full((5, *a.shape[1:]), v)])  # noqa: E731
    padded = profile_logit(pad(y)[None], pad(n)[None], pad(off, np.nan)[None], pad(X, np.nan)[None], pad(t)[None])
    assert np.allclose(one[["estimate", "low", "high", "p_negative"]], padded[["estimate", "low", "high", "p_negative"]])
    y2, n2, off2, X2, t2 = _data(seed=2)
    both = profile_logit(np.stack([y, y2]), np.stack([n, n2]), np.stack([off, off2]), np.stack([X, X2]), np.stack([t, t2]))
    alone = profile_logit(y2[None], n2[None], off2[None], X2[None], t2[None])
    assert np.allclose(both.iloc[1][["estimate", "low", "high"]].to_numpy(dtype=float), alone.iloc[0][["estimate", "low", "high"]].to_numpy(dtype=float))
    # overdispersed untreated rows widen the interval by their Pearson χ² / df
    rng = np.random.default_rng(3)
    yo = np.where(t > 0, y, rng.binomial(n, rng.beta(2, 10, len(n))))
    r = profile_logit(yo[None], n[None], off[None], X[None], t[None]).iloc[0]
    ref = sm.GLM(np.c_[yo, n - yo], np.c_[X, t], family=sm.families.Binomial(), offset=off).fit()
    assert r["dispersion"] == pytest.approx(ref.pearson_chi2 / ref.df_resid, rel=0.1) and r["dispersion"] > 1.5
    # nothing to judge: no treated row with trials
    none = profile_logit(np.where(t > 0, 0, y)[None], np.where(t > 0, 0, n)[None], off[None], X[None], t[None]).iloc[0]
    assert not none["ok"] and np.isnan(none["estimate"])


def test_coverage_seeded():
    """500 data sets with theta = −0.4: the 95 % profile interval covers it 93–97 % of the time."""
    sets = [_data(seed=s) for s in range(500)]
    y, n, off, X, t = (np.stack(a) for a in zip(*sets))
    r = profile_logit(y, n, off, X, t)
    cover = ((r["low"] <= -0.4) & (r["high"] >= -0.4)).mean()
    assert 0.93 <= cover <= 0.97


@pytest.mark.parametrize("change, message", [
    (dict(successes=[[5, 1]]), r"successes and trials must be whole numbers with 0 ≤ successes ≤ trials; got 5 of 4 \(problem 0, row 0\)"),
    (dict(treated=[[2, 0]]), "treated must be 0 or 1"),
    (dict(offset=[[np.nan, 0]]), "offset and covariates must be finite on every row with trials"),
    (dict(covariates=[[[1], [1], [1]]]), "must have one shape"),
    (dict(confidence=95), "confidence must be a number between 0 and 1"),
    (dict(bound=0), "bound must be a number between 0 and 50; got 0"),
])
def test_bad_input(change, message):
    args = dict(successes=[[1, 2]], trials=[[4, 4]], offset=[[0, 0]], covariates=[[[1], [1]]], treated=[[1, 0]]) | change
    with pytest.raises(ParameterError, match=message):
        profile_logit(**args)
