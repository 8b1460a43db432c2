"""Prediction-powered means (qa_lib.stats.ppi): the hand formula of Angelopoulos et al. (2023), PPI++ against the
classical interval, the design weights of a stratified human arm, the tidy wrapper, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qa_lib.errors import ParameterError
from qa_lib.stats.ppi import PPI_COLUMNS, ppi_mean, ppi_means

Z = 1.959963984540054


def test_hand_formula_without_power_tuning():
    """λ = 1: θ̂ = mean(f(X̃)) − mean(f(X) − Y), var = σ²_f / N + σ²_Δ / n (Angelopoulos et al., Science 2023, eq. for the mean)."""
    rng = np.random.default_rng(3)
    y = rng.normal(70, 10, 40)
    f = y + rng.normal(2, 4, 40)
    fu = rng.normal(72, 10, 900)
    r = ppi_mean(y, f, fu, lam=1, alpha=0.1)
    theta = fu.mean() - (f - y).mean()
    se = np.sqrt(fu.var() / fu.size + (f - y).var() / y.size)
    assert r["estimate"] == pytest.approx(theta, rel=1e-12)
    assert (r["lo"], r["hi"]) == pytest.approx((theta - 1.6448536 * se, theta + 1.6448536 * se), rel=1e-7)
    assert r["lam"] == 1 and r["n"] == 40 and r["N"] == 900


def test_hand_formula_with_weights():
    """Weights are rescaled to sum to n (N): θ̂ = Σ w_u f_u / Σ w_u − Σ w (f − y) / Σ w, se from sd(w·…) (ppi_py's form)."""
    y = np.array([1.0, 0, 1, 1, 0, 1, 1, 0])
    f = np.array([1.0, 0, 1, 0, 0, 1, 1, 1])
    w = np.array([4.0, 4, 2, 2, 1, 1, 1, 1])
    fu = np.tile([1.0, 0, 1, 1, 1], 20)
    r = ppi_mean(y, f, fu, w=w, lam=1)
    wn = w / w.sum() * w.size
    theta = fu.mean() - (wn * (f - y)).mean()
    se = np.sqrt(fu.var() / fu.size + (wn * (y - f)).var() / y.size)
    assert r["estimate"] == pytest.approx(theta)
    assert r["hi"] - r["lo"] == pytest.approx(2 * Z * se)
    assert r["classical_estimate"] == pytest.approx(np.sum(w * y) / w.sum())


def test_lambda_zero_is_the_classical_interval():
    from ppi_py import classical_mean_ci

    rng = np.random.default_rng(0)
    y = rng.binomial(1, 0.8, 60).astype(float)
    r = ppi_mean(y, rng.random(60), rng.random(500), lam=0)
    lo, hi = classical_mean_ci(y, alpha=0.05)
    assert (r["lo"], r["hi"]) == pytest.approx((float(lo), float(hi)))
    assert (r["classical_lo"], r["classical_hi"]) == pytest.approx((float(lo), float(hi)))
    assert r["estimate"] == pytest.approx(y.mean()) and r["n_effective"] == pytest.approx(60)


def test_useless_predictions_cost_almost_nothing():
    """Predictions independent of y: PPI++ tunes λ toward 0. Over 200 seeded draws (n = 48, N = 2,400) the PPI++ interval
    was never wider than the classical one (λ clipped at 0 gives it exactly; measured maximum ratio 1.000); the test
    allows 2 %. Original PPI (λ = 1) is far wider."""
    ratios, ratios_1 = [], []
    for s in range(200):
        rng = np.random.default_rng(s)
        y = rng.binomial(1, 0.8, 48).astype(float)
        r = ppi_mean(y, rng.binomial(1, 0.5, 48).astype(float), rng.binomial(1, 0.5, 2400).astype(float))
        ratios.append(r["width_ratio"])
        if s < 20:
            ratios_1.append(ppi_mean(y, rng.binomial(1, 0.5, 48).astype(float), rng.binomial(1, 0.5, 2400).astype(float), lam=1)["width_ratio"])
    assert max(ratios) <= 1.02
    assert np.median(ratios) <= 1.0 + 1e-9
    assert np.median(ratios_1) > 1.2


def test_good_predictions_narrow_the_interval():
    rng = np.random.default_rng(5)
    truth = rng.binomial(1, 0.85, 3000).astype(float)
    pred = np.where(rng.random(3000) < 0.9, truth, 1 - truth)
    lab = rng.choice(3000, 60, replace=False)
    r = ppi_mean(truth[lab], pred[lab], pred)
    assert r["width_ratio"] < 0.8 and r["n_effective"] > 60 / 0.8**2 - 1e-9
    assert r["n_effective"] == pytest.approx(60 / r["width_ratio"] ** 2)


def _stratified_draw(rng, volumes, truth, pred, per_agent=6):
    """Six calls per agent without replacement; weight N_a / 6."""
    agent = np.repeat(np.arange(volumes.size), volumes)
    key = rng.random(agent.size)
    order = np.lexsort((key, agent))
    rank = np.empty(agent.size, int)
    rank[order] = np.arange(agent.size) - np.searchsorted(agent[order], agent[order])
    s = rank < per_agent
    return truth[s], pred[s], (volumes / per_agent)[agent[s]]


def test_design_weights_target_the_all_calls_mean():
    """A stratified human arm with unequal inclusion probabilities: small agents (weak ones here) are over-sampled.
    Weighted, the PPI estimate is unbiased for the all-calls mean and its interval covers; unweighted it is biased.
    400 seeded draws: weighted mean error +0.006 (sd of the mean 0.002; coverage 96.8 %), unweighted −0.026 (91.0 %)."""
    rng = np.random.default_rng(11)
    volumes = np.array([80, 100, 120, 400, 450, 500, 600, 700])
    rate = np.array([0.55, 0.6, 0.65, 0.9, 0.9, 0.92, 0.94, 0.95])
    agent = np.repeat(np.arange(volumes.size), volumes)
    err_w, err_u, cover_w = [], [], []
    for _ in range(400):
        truth = (rng.random(agent.size) < rate[agent]).astype(float)
        pred = np.where(rng.random(agent.size) < 0.9, truth, 1 - truth)
        y, f, w = _stratified_draw(rng, volumes, truth, pred)
        target = truth.mean()
        rw, ru = ppi_mean(y, f, pred, w=w), ppi_mean(y, f, pred)
        err_w.append(rw["estimate"] - target)
        err_u.append(ru["estimate"] - target)
        cover_w.append(rw["lo"] <= target <= rw["hi"])
    assert abs(np.mean(err_w)) < 0.01
    assert np.mean(err_u) < -0.02
    assert 0.93 <= np.mean(cover_w) <= 0.98


def test_tidy_wrapper_groups_and_small_groups():
    rng = np.random.default_rng(2)
    n_all = 600
    calls = pd.DataFrame({"team": np.repeat(["Z1", "Z2", "Z3"], n_all // 3), "pred": rng.binomial(1, 0.8, n_all).astype(float)})
    lab = calls.iloc[np.r_[0:30, 200:230, 400:401]].assign(y=lambda d: d["pred"], w=1.0)
    out = ppi_means(lab, calls, value="y", prediction="pred", by="team", weight="w")
    assert list(out.columns) == ["team", *PPI_COLUMNS]
    assert out["team"].tolist() == ["Z1", "Z2", "Z3"]
    z1 = ppi_mean(lab["y"].iloc[:30], lab["pred"].iloc[:30], calls["pred"].iloc[:200])
    assert out.loc[0, "estimate"] == pytest.approx(z1["estimate"]) and out.loc[0, "hi"] == pytest.approx(z1["hi"])
    assert out.loc[2, "n"] == 1 and np.isnan(out.loc[2, "estimate"]) and out.loc[2, "N"] == 200
    # a missing human value (the item did not apply) is dropped
    lab2 = lab.copy()
    lab2.loc[lab2.index[0], "y"] = np.nan
    assert ppi_means(lab2, calls, value="y", prediction="pred", by=["team"]).loc[0, "n"] == 29
    whole = ppi_means(lab, calls, value="y", prediction="pred")
    assert len(whole) == 1 and whole.loc[0, "n"] == 61


@pytest.mark.parametrize("call, word", [
    (lambda: ppi_mean([1, 0, 1], [1, 0], [1, 1, 0]), "yhat"),
    (lambda: ppi_mean([1, 0, 1], [1, 0, 1], [1, 1, 0], w=[1, -1, 1]), "w"),
    (lambda: ppi_mean([1, 0, 1], [1, 0, 1], [1, 1, 0], w=[1, 1]), "w"),
    (lambda: ppi_mean([1, 0, 1], [1, 0, 1], [1, 1, 0], w_unlabeled=[0, 1, 1]), "w_unlabeled"),
    (lambda: ppi_mean([1, 0, np.nan], [1, 0, 1], [1, 1, 0]), "y"),
    (lambda: ppi_mean([1, 0, 1], [1, 0, 1], [1]), "yhat_unlabeled"),
    (lambda: ppi_mean([1, 0, 1], [1, 0, 1], [1, 1, 0], alpha=1.5), "alpha"),
    (lambda: ppi_mean([1, 0, 1], [1, 0, 1], [1, 1, 0], lam=2), "lam"),
    (lambda: ppi_mean([[1, 0], [1, 1]], [1, 0], [1, 1, 0]), "y"),
    (lambda: ppi_mean(["a", "b"], [1, 0], [1, 1, 0]), "y"),
])
def test_bad_input_names_the_parameter(call, word):
    with pytest.raises(ParameterError, match=rf"^{word}\b"):
        call()


def test_tidy_bad_input():
    lab = pd.DataFrame({"y": [1.0, 0.0], "p": [1.0, np.nan], "g": ["a", "a"]})
    unl = pd.DataFrame({"p": [1.0, 0.0, 1.0], "g": ["a"] * 3})
    with pytest.raises(ParameterError, match="labeled"):
        ppi_means(lab, unl, value="y", prediction="p", by="g")
    with pytest.raises(ParameterError, match=r"^labeled has no column"):
        ppi_means(lab.fillna(1.0), unl, value="y", prediction="p", by="team")
    with pytest.raises(ParameterError, match="min_n"):
        ppi_means(lab.fillna(1.0), unl, value="y", prediction="p", min_n=1)
    with pytest.raises(ParameterError, match="labeled must be a DataFrame"):
        ppi_means([1, 2], unl, value="y", prediction="p")
