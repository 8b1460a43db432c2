"""Rates and their intervals (qa_lib.stats.proportions): published values, hand-worked design effects, coverage.

Sources:
- Newcombe RG (1998), Stat Med 17:857, Table I (Wilson, method 3): 81/263 → (0.2553, 0.3662).
- Kish L (1965), *Survey Sampling*: the ratio-estimator variance of a rate from clusters (§6.4) and the design effect
  of unequal weights, n_eff = (Σw)² / Σw² (§11.7). The expected values below are worked by hand in the tests.
- Rocks B (2016), "Interval estimation for the net promoter score", The American Statistician 70:365: the Wald
  interval under-covers at small n; the iterative score interval holds its level. Coverage here is exact (every
  trinomial outcome weighed by its probability).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from qa_lib.errors import ParameterError
from qa_lib.stats.proportions import clustered_wilson_interval, nps_interval, weighted_wilson_interval, wilson_interval


def test_wilson_published_values_still_hold():
    assert [round(v, 4) for v in wilson_interval(81, 263)] == [0.2553, 0.3662]
    assert [round(v, 4) for v in wilson_interval(0, 20)] == [0.0, 0.1611]


def test_clustered_design_effect_worked_by_hand():
    """Two days of 100 calls, 10 and 50 answered: p = 0.3; residuals 10 − 30 = −20 and 50 − 30 = 20;
    v = 2/1 · 800 / 200² = 0.04; binomial 0.3·0.7/200 = 0.00105; deff = 38.095, n_eff = 5.25; t on 1 df."""
    r = clustered_wilson_interval([10, 50], [100, 100], ["a", "a"]).loc["a"]
    assert r["deff"] == pytest.approx(0.04 / 0.00105) and r["n_eff"] == pytest.approx(200 / (0.04 / 0.00105))
    z = stats.t.ppf(0.975, 1)
    p, m = 0.3, r["n_eff"]
    centre, half = (p + z * z / (2 * m)) / (1 + z * z / m), z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / (1 + z * z / m)
    assert (r["low"], r["high"]) == pytest.approx((max(centre - half, 0), min(centre + half, 1)))
    same = clustered_wilson_interval([30, 30], [100, 100], ["b", "b"]).loc["b"]
    assert same["deff"] == 1.0 and same["n_eff"] == 200  # no spread between days: floored at 1, never more precise than iid


def test_clustered_one_cluster_and_groups():
    out = clustered_wilson_interval([3, 5, 7], [10, 10, 10], ["x", "y", "y"])
    assert list(out.index) == ["x", "y"] and np.isnan(out.loc["x", "deff"]) and out.loc["x", "n_eff"] == 10
    assert (out.loc["x", "low"], out.loc["x", "high"]) == pytest.approx(wilson_interval(3, 10))  # one day: nothing to measure
    assert out.loc["y", "successes"] == 12 and out.loc["y", "clusters"] == 2
    with pytest.raises(ParameterError, match="one length"):
        clustered_wilson_interval([1, 2], [3, 4], ["a"])
    with pytest.raises(ParameterError, match="successes and n must be whole numbers"):
        clustered_wilson_interval([5], [3], ["a"])


def test_clustered_interval_covers_when_days_differ():
    """A month of 30 days × ~500 calls whose daily answer rate varies (logit SD 0.5): seeded, 400 months."""
    rng = np.random.default_rng(11)
    R, C = 400, 30
    m = rng.poisson(500, (R, C))
    y = rng.binomial(m, special.expit(special.logit(0.8) + 0.5 * rng.standard_normal((R, C))))
    x, w = np.polynomial.hermite_e.hermegauss(60)
    truth = (special.expit(special.logit(0.8) + 0.5 * x) * w).sum() / w.sum()
    new = clustered_wilson_interval(y.ravel(), m.ravel(), np.repeat(np.arange(R), C))
    lo, hi = wilson_interval(y.sum(1), m.sum(1))
    assert 0.92 <= ((new["low"] <= truth) & (truth <= new["high"])).mean() <= 0.985
    assert ((lo <= truth) & (truth <= hi)).mean() < 0.5  # the iid interval: far too narrow
    assert new["deff"].median() > 5


def test_weighted_rate_and_kish_effective_n():
    """y = 1, 0, 1, 1 with weights 1, 1, 3, 3: value (1 + 3 + 3) / 8 = 0.875; n_eff = 8² / 20 = 3.2, deff = 1.25."""
    r = weighted_wilson_interval([1, 0, 1, 1], [1, 1, 3, 3], ["a"] * 4).loc["a"]
    assert r["value"] == pytest.approx(0.875) and r["n_eff"] == pytest.approx(3.2) and r["deff"] == pytest.approx(1.25)
    equal = weighted_wilson_interval([1, 0, 1, 1], [2.0] * 4, ["a"] * 4).loc["a"]
    assert (equal["low"], equal["high"]) == pytest.approx(wilson_interval(3, 4)) and equal["deff"] == pytest.approx(1.0)
    with pytest.raises(ParameterError, match="weights must be finite and > 0"):
        weighted_wilson_interval([1, 0], [1, 0], ["a", "a"])
    with pytest.raises(ParameterError, match="outcomes must be 0 or 1"):
        weighted_wilson_interval([2, 0], [1, 1], ["a", "a"])


def _exact_coverage(interval, n, shares):
    xp, xd = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = xp + xd <= n
    xp, xd = xp[keep], xd[keep]
    xn = n - xp - xd
    lo, hi = interval(xp, xn, xd)
    pmf = stats.multinomial.pmf(np.c_[xp, xn, xd], n, shares)
    d = shares[0] - shares[2]
    return pmf[(lo - 1e-9 <= d) & (d <= hi + 1e-9)].sum()


def _wald(xp, xn, xd):
    n = xp + xn + xd
    pp, pd_ = xp / n, xd / n
    h = 1.959964 * np.sqrt(np.maximum(pp + pd_ - (pp - pd_) ** 2, 0) / n)
    return pp - pd_ - h, pp - pd_ + h


@pytest.mark.parametrize("shares", [(0.025, 0.05, 0.925), (0.925, 0.05, 0.025), (0.3, 0.4, 0.3), (0.1, 0.6, 0.3)])
def test_nps_interval_covers_at_ten_answers(shares):
    """The audit: the Wald interval covered 55 % at n = 10 for a strongly negative NPS; the score interval ≥ 92 %."""
    cov = _exact_coverage(lambda a, b, c: nps_interval(a, b, c), 10, shares)
    assert 0.92 <= cov <= 0.995
    if shares[1] == 0.05:
        assert _exact_coverage(_wald, 10, shares) < 0.6


def test_nps_interval_shape_and_errors():
    lo, hi = nps_interval([5, 0, 10, 0], [2, 0, 0, 10], [3, 10, 0, 0])
    assert np.all(lo >= -1) and np.all(hi <= 1) and np.all(lo <= hi)
    assert lo[1] == -1.0 and hi[2] == 1.0 and lo[3] == pytest.approx(-hi[3])  # all detractors / promoters / passives
    single = nps_interval(5, 2, 3)
    assert single == pytest.approx((lo[0], hi[0])) and single[0] < 0.2 < single[1]
    assert np.isnan(nps_interval(0, 0, 0)[0])
    narrow = nps_interval(50, 20, 30)
    assert narrow[1] - narrow[0] < single[1] - single[0]  # ten times the answers, a narrower interval
    with pytest.raises(ParameterError, match="promoters must be whole numbers"):
        nps_interval(-1, 2, 3)
    with pytest.raises(ParameterError, match="confidence"):
        nps_interval(1, 2, 3, confidence=95)


def test_inputs_are_not_modified():
    k, m, g = np.array([1, 2]), np.array([5, 5]), pd.Series(["a", "a"])
    clustered_wilson_interval(k, m, g)
    assert k.tolist() == [1, 2] and m.tolist() == [5, 5] and g.tolist() == ["a", "a"]
