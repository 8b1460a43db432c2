"""qa_lib.stats.fdr: Benjamini–Hochberg / Yekutieli q-values and the one-sided exact test, against published values and
reference packages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from qa_lib.errors import ParameterError
from qa_lib.stats.fdr import exceed_test, q_values

#: Benjamini & Hochberg (1995), JRSS B 57(1), §4.2: the 15 p-values of the myocardial-infarction trial (Neuhaus et al.
#: 1992). At q = 0.05 the step-up procedure rejects the four smallest (Bonferroni only three).
BH_1995 = [0.0201, 0.7590, 0.0004, 0.0278, 0.6528, 0.0095, 0.0298, 0.0459, 0.3240, 0.0001, 0.4262, 1.0, 0.0019, 0.0344, 0.5719]


def test_bh_rejects_the_four_of_the_published_example():
    q = q_values(BH_1995)
    assert sorted(np.array(BH_1995)[q <= 0.05]) == [0.0001, 0.0004, 0.0019, 0.0095]
    assert (np.array(BH_1995) <= 0.05 / 15).sum() == 3  # Bonferroni, as the paper says


@pytest.mark.parametrize("method, ref", [("bh", "fdr_bh"), ("by", "fdr_by")])
def test_q_values_equal_statsmodels_and_keep_nan_out_of_the_count(method, ref):
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.002, size=5)])
    assert q_values(p, method) == pytest.approx(multipletests(p, method=ref)[1])
    with_nan = np.insert(p, [0, 10], np.nan)  # not tests: left out of m, NaN in the result
    q = q_values(with_nan, method)
    assert np.isnan(q[[0, 11]]).all() and q[~np.isnan(with_nan)] == pytest.approx(multipletests(p, method=ref)[1])
    assert np.isnan(q_values([np.nan, np.nan])).all() and q_values([]).size == 0


def test_exceed_test_is_fishers_one_sided_exact_test():
    rng = np.random.default_rng(0)
    n1, n2 = rng.integers(1, 30, 50), rng.integers(1, 400, 50)
    k1, k2 = rng.binomial(n1, 0.3), rng.binomial(n2, 0.15)
    ref = [stats.fisher_exact([[a, n - a], [b, m - b]], alternative="greater").pvalue for a, n, b, m in zip(k1, n1, k2, n2)]
    assert exceed_test(k1, n1, k2, n2) == pytest.approx(ref, rel=1e-9)
    # the mid-p counts half the observed table: exact − ½ P(X = k1) under the hypergeometric null
    pmf = stats.hypergeom(n1 + n2, k1 + k2, n1).pmf(k1)
    assert exceed_test(k1, n1, k2, n2, mid=True) == pytest.approx(np.array(ref) - 0.5 * pmf, rel=1e-9, abs=1e-15)
    assert np.isnan(exceed_test([0, 1], [0, 3], [2, 0], [10, 0])).all()  # nothing to compare
    assert exceed_test(0, 5, 3, 10) == 1.0  # no failure: no evidence at all


def test_exact_p_values_are_never_too_small_when_nothing_differs():
    """Seeded: 20,000 null comparisons of a few answers against a large center: P(p ≤ a) ≤ a for the exact test, which
    Benjamini–Hochberg's guarantee needs; the mid-p's rate is nearer a (and may exceed it)."""
    rng = np.random.default_rng(11)
    n1, n2 = np.full(20_000, 18), np.full(20_000, 1000)
    k1, k2 = rng.binomial(n1, 0.07), rng.binomial(n2, 0.07)
    exact, mid = exceed_test(k1, n1, k2, n2), exceed_test(k1, n1, k2, n2, mid=True)
    for a in (0.001, 0.01, 0.05, 0.1):
        assert (exact <= a).mean() <= a + 2 * np.sqrt(a / 20_000)
        assert (mid <= a).mean() >= (exact <= a).mean()


@pytest.mark.parametrize("call, message", [
    (lambda: q_values([0.2, 1.5]), r"p must be p-values between 0 and 1; got 1.5 at position 1"),
    (lambda: q_values(["a"]), r"p must be numbers"),
    (lambda: q_values([0.1], method="holm"), r"method must be one of \['bh', 'by'\]; got 'holm'"),
    (lambda: exceed_test(3, 2, 1, 10), r"counts must satisfy k1 ≤ n1 element-wise; not so at position 0"),
    (lambda: exceed_test(1, 2, 1.5, 10), r"k2 must be whole numbers ≥ 0"),
    (lambda: exceed_test(1, [2, 3], 1, [10, 10, 10]), r"must broadcast together"),
])
def test_bad_inputs_are_named(call, message):
    with pytest.raises(ParameterError, match=message):
        call()
