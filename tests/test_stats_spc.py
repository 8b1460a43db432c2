"""SPC for topic shares against published examples and hand-worked expectations.

Sources:
- Montgomery DC, Introduction to Statistical Quality Control (2nd ed. 1991, pp. 152-155, and later editions):
  frozen orange-juice cans, 30 samples of n = 50. pbar = 0.2313, UCL = 0.4102, LCL = 0.0524, samples 15 and 23 out
  of control. The counts are R qcc's ``orangejuice`` (trial == TRUE rows), checked against
  github.com/luca-scr/qcc data/orangejuice.txt (man/orangejuice.Rd cites Montgomery 1991 pp. 152-155). The
  NIST/SEMATECH e-Handbook p-chart example (pmc/section3/pmc332.htm, 30 wafers x 50 chips) reports the same
  pbar, .2313 (seen quoted in an exercise, the handbook page itself was not read).
- Laney DB (2002), Improved control charts for attributes, Quality Engineering 14(4):531-537: the p′ chart, limits
  pbar ± 3 sigma_z sqrt(pbar (1 - pbar) / n_i) with sigma_z = mean |z_i - z_(i-1)| / 1.128. The reference
  implementation followed is R qicharts2 (github.com/anhoej/qicharts2, R/qic.charts.R, ``qic.pprime``): z over the
  baseline points, moving ranges of consecutive z, no floor; the expected values below are worked by hand from it.
- Pyzdek T, Keller P, The Handbook for Quality Management, 2nd ed. (McGraw-Hill 2013), Table 9.6 "Raw Data for
  p Chart": bruised peaches in 25 shipments, 250 peaches per crate, one or two crates sampled (n = 250 or 500);
  totals 8000 peaches, 1544 bruised, and the printed p column. Only the data table could be verified, not the
  book's limits: the limits asserted here are computed by hand from the formula written in the test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qa_lib.errors import ParameterError
from qa_lib.stats import spc

# qcc::orangejuice, samples 1-30 (trial == TRUE), n = 50 each.
ORANGE_JUICE = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]
# Pyzdek & Keller Table 9.6: bruised peaches and peaches inspected per shipment.
PEACH_BRUISED = [47, 42, 55, 51, 46, 61, 39, 44, 41, 51, 88, 101, 101, 40, 48, 47, 50, 48, 57, 45, 43, 105, 98, 100, 96]
PEACH_SIZE = [250] * 10 + [500] * 3 + [250] * 8 + [500] * 4
PEACH_P = [0.188, 0.168, 0.220, 0.204, 0.184, 0.244, 0.156, 0.176, 0.164, 0.204, 0.176, 0.202, 0.202,
           0.160, 0.192, 0.188, 0.200, 0.192, 0.228, 0.180, 0.172, 0.210, 0.196, 0.200, 0.192]


# ---------------------------------------------------------------- p_chart


def test_p_chart_montgomery_orange_juice():
    chart = spc.p_chart(ORANGE_JUICE, [50] * 30)
    assert list(chart.columns) == ["count", "size", "p", "center", "sigma", "sigma_z", "lcl", "ucl", "out_of_control", "direction"]
    assert sum(ORANGE_JUICE) == 347
    assert chart["center"].iloc[0] == pytest.approx(0.2313, abs=5e-5)
    assert chart["ucl"].iloc[0] == pytest.approx(0.4102, abs=5e-5)
    assert chart["lcl"].iloc[0] == pytest.approx(0.0524, abs=5e-5)
    assert list(np.flatnonzero(chart["out_of_control"]) + 1) == [15, 23]
    assert list(chart.loc[chart["out_of_control"], "direction"]) == ["up", "up"]
    assert chart["sigma"].iloc[0] == pytest.approx(np.sqrt(347 / 1500 * (1 - 347 / 1500) / 50))


def test_p_chart_baseline_excludes_assignable_causes():
    # Montgomery's revision drops samples 15 and 23 (assignable causes) from the center. Expected values are
    # computed by hand: pbar = (347 - 22 - 24) / 1400 = 0.2150, limits 0.2150 -/+ 3 sqrt(0.215 * 0.785 / 50)
    # = 0.0407 / 0.3893, so sample 21 (p = 0.40) is now above the UCL too.
    keep = np.ones(30, dtype=bool)
    keep[[14, 22]] = False
    chart = spc.p_chart(ORANGE_JUICE, [50] * 30, baseline=keep)
    assert chart["center"].iloc[0] == pytest.approx(301 / 1400)
    assert chart["ucl"].iloc[0] == pytest.approx(0.3893, abs=5e-5)
    assert chart["lcl"].iloc[0] == pytest.approx(0.0407, abs=5e-5)
    assert list(np.flatnonzero(chart["out_of_control"]) + 1) == [15, 21, 23]
    sliced = spc.p_chart(ORANGE_JUICE, [50] * 30, baseline=slice(0, 14))
    assert sliced["center"].iloc[0] == pytest.approx(sum(ORANGE_JUICE[:14]) / 700)


def test_p_chart_varying_n_pyzdek_peaches():
    chart = spc.p_chart(PEACH_BRUISED, PEACH_SIZE)
    assert (sum(PEACH_BRUISED), sum(PEACH_SIZE)) == (1544, 8000)
    np.testing.assert_allclose(chart["p"], PEACH_P, atol=5e-4)  # the published p column, 3 decimals
    assert chart["center"].iloc[0] == pytest.approx(0.193)  # 1544 / 8000
    # By hand: LCL/UCL = 0.193 -/+ 3 sqrt(0.193 * 0.807 / n).
    # n = 250: 3 * 0.024960 = 0.074879 -> 0.1181 / 0.2679;  n = 500: 3 * 0.017649 = 0.052947 -> 0.1401 / 0.2459.
    one, two = chart.iloc[0], chart.iloc[10]
    assert (one["size"], two["size"]) == (250, 500)
    assert one["lcl"] == pytest.approx(0.1181, abs=5e-5) and one["ucl"] == pytest.approx(0.2679, abs=5e-5)
    assert two["lcl"] == pytest.approx(0.1401, abs=5e-5) and two["ucl"] == pytest.approx(0.2459, abs=5e-5)
    np.testing.assert_allclose(chart["sigma"], np.sqrt(0.193 * 0.807 / np.array(PEACH_SIZE)))
    assert not chart["out_of_control"].any()


def test_p_chart_phase_two_center_clipping_and_sigma():
    chart = spc.p_chart([0, 5, 1], [10, 5, 10], center=0.9)
    assert (chart["center"] == 0.9).all()
    assert chart["ucl"].max() == 1.0  # 0.9 + 3 sqrt(0.09 / 5) > 1, clipped
    assert chart.loc[0, "direction"] == "down" and chart.loc[1, "direction"] == ""
    low = spc.p_chart([0, 1, 2], [100, 100, 100])
    assert (low["lcl"] == 0).all() and not low["out_of_control"].any()  # p = 0 at a clipped LCL is not beyond it
    narrow = spc.p_chart(ORANGE_JUICE, [50] * 30, sigma=2.0)
    assert narrow["ucl"].iloc[0] == pytest.approx(347 / 1500 + 2 * np.sqrt(347 / 1500 * (1 - 347 / 1500) / 50))


def test_p_chart_size_zero_period_and_series_index():
    months = pd.Index(["2024-01", "2024-02", "2024-03"], name="month")
    chart = spc.p_chart(pd.Series([3, 0, 5], index=months), pd.Series([30, 0, 50], index=months))
    assert chart.index.equals(months)
    assert np.isnan(chart.loc["2024-02", "p"]) and np.isnan(chart.loc["2024-02", "sigma"])
    assert not chart.loc["2024-02", "out_of_control"] and chart.loc["2024-02", "direction"] == ""
    assert chart["center"].iloc[0] == pytest.approx(8 / 80)


def test_p_chart_permuting_periods_permutes_rows():
    rng = np.random.default_rng(0)
    sizes = rng.integers(20, 200, 40)
    counts = rng.binomial(sizes, 0.2)
    order = rng.permutation(40)
    chart = spc.p_chart(counts, sizes)
    permuted = spc.p_chart(counts[order], sizes[order])
    pd.testing.assert_frame_equal(permuted.reset_index(drop=True), chart.iloc[order].reset_index(drop=True))


@pytest.mark.parametrize("kwargs, name", [
    ({"counts": [1, 2], "sizes": [10]}, "same length"),
    ({"counts": [-1, 2], "sizes": [10, 10]}, "counts"),
    ({"counts": [1, 2], "sizes": [-10, 10]}, "sizes"),
    ({"counts": [11, 2], "sizes": [10, 10]}, "counts must be <= sizes"),
    ({"counts": [1, np.nan], "sizes": [10, 10]}, "counts"),
    ({"counts": [[1, 2]], "sizes": [[10, 10]]}, "counts must be 1-D"),
    ({"counts": ["a", "b"], "sizes": [10, 10]}, "counts"),
    ({"counts": [1, 2], "sizes": [10, 10], "sigma": 0}, "sigma"),
    ({"counts": [1, 2], "sizes": [10, 10], "sigma": "3"}, "sigma"),
    ({"counts": [1, 2], "sizes": [10, 10], "center": 1.5}, "center"),
    ({"counts": [1, 2], "sizes": [10, 10], "center": 0.1, "baseline": [True, True]}, "not both"),
    ({"counts": [0, 2], "sizes": [0, 10], "baseline": [True, False]}, "baseline"),
    ({"counts": [1, 2], "sizes": [10, 10], "baseline": [1, 0]}, "baseline"),
    ({"counts": [1, 2], "sizes": [10, 10], "baseline": [True]}, "baseline"),
])
def test_p_chart_rejects_bad_input(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        spc.p_chart(**kwargs)


def test_p_chart_misaligned_series_and_inputs_untouched():
    counts, sizes = pd.Series([1, 2], index=["a", "b"]), pd.Series([10, 10], index=["b", "a"])
    with pytest.raises(ParameterError, match="indexes"):
        spc.p_chart(counts, sizes)
    c, n, mask = np.array([1, 2, 30]), np.array([10, 10, 40]), np.array([True, True, False])
    before = (c.copy(), n.copy(), mask.copy())
    spc.p_chart(c, n, baseline=mask)
    with pytest.raises(ParameterError):
        spc.p_chart(c, n, sigma=-1)
    for a, b in zip((c, n, mask), before):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- Western Electric rules


def _flags(values, center=0.0, sigma=1.0):
    return spc.western_electric_rules(values, center, sigma)


def test_we_rule1_only_at_known_index():
    r = _flags([0.5, -0.5, 0.3, -3.0, 3.2])
    assert list(r.columns) == ["z", "rule1", "rule2", "rule3", "rule4", "any", "direction"]
    assert list(np.flatnonzero(r["rule1"])) == [4]  # exactly 3 sigma is not beyond
    assert not r[["rule2", "rule3", "rule4"]].any().any()
    assert list(r["direction"]) == ["", "", "", "", "up"]


def test_we_rule2_only_at_known_index():
    r = _flags([0.5, -0.5, 2.5, 0.1, 2.4])
    assert list(np.flatnonzero(r["rule2"])) == [4]
    assert not r[["rule1", "rule3", "rule4"]].any().any()
    assert r.loc[4, "direction"] == "up"
    assert not _flags([2.5, -2.5, 0.0])["any"].any()  # beyond 2 sigma on opposite sides


def test_we_rule3_only_at_known_index():
    r = _flags([-1.5, -1.5, 0.5, -1.5, -1.5])
    assert list(np.flatnonzero(r["rule3"])) == [4]
    assert not r[["rule1", "rule2", "rule4"]].any().any()
    assert r.loc[4, "direction"] == "down"


def test_we_rule4_needs_eight_real_points():
    assert not _flags([0.5] * 7)["any"].any()  # the start of the series does not count as a run
    r = _flags([0.5] * 8 + [-0.2])
    assert list(np.flatnonzero(r["rule4"])) == [7]
    assert not r[["rule1", "rule2", "rule3"]].any().any()
    assert _flags([-0.5] * 8).loc[7, "direction"] == "down"
    assert not _flags([0.5] * 4 + [0.0] + [0.5] * 4)["rule4"].any()  # a point on the center line breaks the run


def test_we_flagged_point_need_not_be_beyond():
    r = _flags([2.5, 2.5, 0.0])
    assert list(r["rule2"]) == [False, True, True]


def test_we_nan_breaks_runs_and_is_never_flagged():
    assert not _flags([0.5] * 4 + [np.nan] + [0.5] * 4)["rule4"].any()
    r = _flags([0.5] * 4 + [np.nan] + [0.5] * 8)
    assert list(np.flatnonzero(r["rule4"])) == [12]
    r = _flags([2.5, np.nan, 2.5])  # NaN counts as not beyond inside a 2-of-3 window
    assert list(r["rule2"]) == [False, False, True]
    assert list(_flags([2.5, 2.5, np.nan])["rule2"]) == [False, True, False]
    assert not _flags([5.0, 1.0], sigma=[np.nan, 1.0])["any"].any()


def test_we_array_center_and_sigma_from_varying_n_p_chart():
    chart = spc.p_chart([5, 5, 20, 20], [100, 100, 100, 400], center=0.05)
    r = spc.western_electric_rules(chart["p"], chart["center"], chart["sigma"])
    np.testing.assert_allclose(r["z"], (chart["p"] - 0.05) / np.sqrt(0.05 * 0.95 / np.array([100, 100, 100, 400])))
    assert list(r["rule1"]) == list(chart["out_of_control"]) == [False, False, True, False]
    assert r.index.equals(chart.index)
    # the same share 0.08 is within 3 sigma at n = 100 (z = 1.38) but beyond at n = 2000 (z = 6.2)
    r = spc.western_electric_rules([0.08, 0.08], center=[0.05, 0.05], sigma=np.sqrt(0.05 * 0.95 / np.array([100, 2000])))
    assert list(r["rule1"]) == [False, True]


def test_we_direction_priority_when_sides_disagree():
    r = _flags([-1.5, -1.5, -1.5, -1.5, 3.5])
    assert r.loc[4, "rule1"] and r.loc[4, "rule3"]  # rule 1 up, rule 3 down
    assert r.loc[4, "direction"] == "up"


@pytest.mark.parametrize("args, name", [
    (([1.0, 2.0], 0.0, 0.0), "sigma"),
    (([1.0, 2.0], 0.0, [1.0, -1.0]), "sigma"),
    (([1.0, 2.0], [0.0, 0.0, 0.0], 1.0), "center"),
    (([1.0, 2.0], 0.0, None), "sigma"),
    (([1.0, np.inf], 0.0, 1.0), "values"),
    (([[1.0, 2.0]], 0.0, 1.0), "values"),
])
def test_we_rejects_bad_input(args, name):
    with pytest.raises(ParameterError, match=name):
        spc.western_electric_rules(*args)


# ---------------------------------------------------------------- two-proportion test


def test_two_proportion_hand_worked():
    # 30/200 then 50/200: pooled 80/400 = 0.2, se = sqrt(0.2 * 0.8 * (1/200 + 1/200)) = 0.04, z = 0.10 / 0.04 = 2.5,
    # two-sided p = 2 (1 - Phi(2.5)) = 0.01242.
    row = spc.two_proportion_test(30, 200, 50, 200).iloc[0]
    assert (row["p1"], row["p2"]) == (0.15, 0.25)
    assert row["diff"] == pytest.approx(0.10)
    assert row["z"] == pytest.approx(2.5)
    assert row["p_value"] == pytest.approx(0.012419, abs=1e-6)


def test_two_proportion_matches_chi_square_without_correction():
    rng = np.random.default_rng(1)
    n1, n2 = rng.integers(50, 500, 25), rng.integers(50, 500, 25)
    x1, x2 = rng.binomial(n1, 0.3), rng.binomial(n2, 0.35)
    res = spc.two_proportion_test(x1, n1, x2, n2)
    assert len(res) == 25
    for i in range(25):
        table = [[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]]
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        assert res["z"].iloc[i] ** 2 == pytest.approx(chi2)
        assert res["p_value"].iloc[i] == pytest.approx(p)
    assert np.array_equal(np.sign(res["z"]), np.sign(x2 / n2 - x1 / n1))


def test_two_proportion_broadcast_zero_sizes_and_index():
    res = spc.two_proportion_test(pd.Series([3, 0, 5], index=list("abc")), [30, 0, 50], 10, 100)
    assert list(res.index) == list("abc")
    assert np.isnan(res.loc["b", "p1"]) and np.isnan(res.loc["b", "z"]) and np.isnan(res.loc["b", "p_value"])
    assert res.loc["a", "p2"] == 0.1
    none = spc.two_proportion_test(0, 100, 0, 100).iloc[0]  # no events in either period: no variance
    assert none["diff"] == 0 and np.isnan(none["z"])


@pytest.mark.parametrize("args, name", [
    ((11, 10, 1, 10), "x1 must be <= n1"),
    ((1, 10, 5, 4), "x2 must be <= n2"),
    ((-1, 10, 1, 10), "x1"),
    ((1, 10, 1, np.nan), "n2"),
    (([1, 2], [10, 10, 10], 1, 10), "broadcast"),
    ((1, "ten", 1, 10), "n1"),
])
def test_two_proportion_rejects_bad_input(args, name):
    with pytest.raises(ParameterError, match=name):
        spc.two_proportion_test(*args)


# ---------------------------------------------------------------- Laney p′


def test_laney_p_prime_worked_by_hand():
    """5, 35, 5, 35 of 100: pbar 0.2, se 0.04, z = ∓3.75, moving ranges 7.5 → sigma_z = 7.5 / 1.128 = 6.649;
    sigma = 0.04 · 6.649 = 0.26596, UCL = 0.2 + 3 · 0.26596 = 0.9979 (qicharts2 qic.pprime gives the same formula)."""
    chart = spc.p_chart([5, 35, 5, 35], [100] * 4, laney=True)
    assert chart["sigma_z"].iloc[0] == pytest.approx(7.5 / 1.128)
    assert chart["sigma"].iloc[0] == pytest.approx(0.26596, abs=1e-5) and chart["ucl"].iloc[0] == pytest.approx(0.9979, abs=1e-4)
    assert chart["lcl"].iloc[0] == 0.0 and not chart["out_of_control"].any()
    plain = spc.p_chart([5, 35, 5, 35], [100] * 4)
    assert plain["out_of_control"].all() and (plain["sigma_z"] == 1.0).all()  # the p-chart calls every month out of control


def test_laney_varying_n_and_baseline():
    """z uses each period's own binomial se; the moving ranges come from the baseline periods only."""
    d, n = np.array([20, 45, 18, 60, 90]), np.array([200, 300, 150, 400, 300])
    chart = spc.p_chart(d, n, laney=True, baseline=np.arange(5) < 4)
    pbar = d[:4].sum() / n[:4].sum()
    z = (d[:4] / n[:4] - pbar) / np.sqrt(pbar * (1 - pbar) / n[:4])
    sz = np.mean(np.abs(np.diff(z))) / 1.128
    assert chart["sigma_z"].iloc[0] == pytest.approx(sz)
    assert chart["sigma"].to_numpy() == pytest.approx(np.sqrt(pbar * (1 - pbar) / n) * sz)


def test_laney_auto_is_the_p_chart_without_overdispersion():
    """Binomial months (seeded): sigma_z of at most 1 is floored at 1, so "auto" draws the plain p-chart; months that
    vary more get the wider p′ limits."""
    rng = np.random.default_rng(3)
    d = rng.binomial(900, 0.11, 12)
    raw = spc.p_chart(d, [900] * 12, laney=True)["sigma_z"].iloc[0]
    auto = spc.p_chart(d, [900] * 12, laney="auto")
    assert auto["sigma_z"].iloc[0] == max(raw, 1.0)
    over = rng.binomial(900, rng.beta(0.11 * 100, 0.89 * 100, 12))
    assert spc.p_chart(over, [900] * 12, laney="auto")["sigma_z"].iloc[0] > 1.3
    with pytest.raises(ParameterError, match="laney must be False, True or 'auto'"):
        spc.p_chart(d, [900] * 12, laney="yes")


def test_rule_false_alarm_rates():
    """One side: rule 1 = Φ(−3) = 0.00135; rule 4 = 2⁻⁸; rule 2 = 3q²(1 − q) + q³ with q = Φ(−2)."""
    q = stats.norm.sf(2)
    assert spc.RULE_FALSE_ALARM["rule1"] == pytest.approx(stats.norm.sf(3))
    assert spc.RULE_FALSE_ALARM["rule2"] == pytest.approx(3 * q * q * (1 - q) + q**3)
    assert spc.RULE_FALSE_ALARM["rule4"] == pytest.approx(1 / 256)
