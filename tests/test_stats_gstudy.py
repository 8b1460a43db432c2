"""Variance components (G-study) and D-study, against published fits and a reference package.

Sources:
- Bates DM (2010). lme4: Mixed-effects modeling with R, ch. 1-2. REML fits of
  Dyestuff (Davies & Goldsmith 1972): Batch 1764.0, Residual 2451.3;
  Penicillin (24 plates x 6 samples): plate 0.7169, sample 3.7311, residual 0.3024
  (to six digits, as Metida.jl's validation suite reproduces them: 0.716908, 3.73092, 0.302415).
  Both designs are balanced, where MINQUE(0) equals the ANOVA estimates, which equal REML when none is negative.
- Unbalanced designs (agents with 2-12 calls, inspectors with unequal loads): a seeded simulation shows the estimates
  unbiased. statsmodels' MixedLM was tried as a reference there and left out: on these designs it took 14-45 s and
  often reported no convergence (one-way and crossed alike).
- Brennan RL (2001). Generalizability Theory, eq. 4.4: E rho^2 = universe / (universe + error / n').
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qa_lib.errors import ParameterError
from qa_lib.stats import calls_for_decision, calls_for_reliability, d_study, g_coefficient, variance_components

DYESTUFF = {"A": [1545, 1440, 1440, 1520, 1580], "B": [1540, 1555, 1490, 1560, 1495], "C": [1595, 1550, 1605, 1510, 1560],
            "D": [1445, 1440, 1595, 1465, 1545], "E": [1595, 1630, 1515, 1635, 1625], "F": [1520, 1455, 1450, 1480, 1445]}
# Penicillin: per plate a..x, the diameters of samples A..F (two digits each)
PENICILLIN = ("272326232321 272326232321 252125242420 262325232320 252226222320 242225232219 242023212219 262226242421 "
              "242124222220 242124232219 262326242421 252226242420 262426242522 262326232320 262325242422 252225232320 "
              "252124232320 252224232319 242123212119 262326242421 252124222218 252225222220 242124222419 242124222118")


def penicillin() -> pd.DataFrame:
    rows = [(chr(97 + p), "ABCDEF"[s], int(code[2 * s: 2 * s + 2])) for p, code in enumerate(PENICILLIN.split()) for s in range(6)]
    return pd.DataFrame(rows, columns=["plate", "sample", "diameter"])


def test_penicillin_matches_lme4():
    vc = variance_components(penicillin(), "diameter", ["plate", "sample"]).set_index("component")
    assert vc.loc["plate", "variance"] == pytest.approx(0.716908, abs=1e-5)
    assert vc.loc["sample", "variance"] == pytest.approx(3.73092, abs=1e-5)
    assert vc.loc["residual", "variance"] == pytest.approx(0.302415, abs=1e-6)
    assert vc["levels"].tolist() == [24, 6, 144] and vc["share"].sum() == pytest.approx(1)


def test_dyestuff_matches_lme4():
    d = pd.DataFrame([(b, y) for b, ys in DYESTUFF.items() for y in ys], columns=["batch", "yield"])
    vc = variance_components(d, "yield", {"batch": "batch"}).set_index("component")["variance"]
    assert vc["batch"] == pytest.approx(1764.05, abs=0.01) and vc["residual"] == pytest.approx(2451.25, abs=0.01)


def unbalanced(seed: int, agents=40, inspectors=15, sd=(3.0, 2.0, 10.0)) -> pd.DataFrame:
    """Agents with 2-12 calls each, every call scored by one inspector drawn with unequal loads."""
    rng = np.random.default_rng(seed)
    calls = rng.integers(2, 13, agents)
    a = np.repeat(np.arange(agents), calls)
    load = rng.dirichlet(np.ones(inspectors) * 2)
    r = rng.choice(inspectors, a.size, p=load)
    y = 80 + sd[0] * rng.standard_normal(agents)[a] + sd[1] * rng.standard_normal(inspectors)[r] + sd[2] * rng.standard_normal(a.size)
    return pd.DataFrame({"agent_id": [f"A{i}" for i in a], "inspector_id": [f"Q{i}" for i in r], "score": y})


def test_unbiased_over_seeded_draws():
    """MINQUE(0) is unbiased: over 200 unbalanced draws the mean estimates sit within 3 standard errors of the truth."""
    est = np.array([variance_components(unbalanced(s), "score", ["agent_id", "inspector_id"])["estimate"].to_numpy() for s in range(200)])
    mean, se = est.mean(axis=0), est.std(axis=0, ddof=1) / np.sqrt(len(est))
    assert np.all(np.abs(mean - np.array([9.0, 4.0, 100.0])) < 3 * se)


def test_fixed_effects_are_removed_first():
    """Item levels shifted by fixed amounts leave the random components where they were."""
    d = unbalanced(5)
    items = pd.concat([d.assign(item=k, score=d["score"] + 10 * k) for k in range(3)], ignore_index=True)
    items["call"] = np.tile(np.arange(len(d)), 3)
    vc = variance_components(items, "score", ["agent_id", "inspector_id", "call"], fixed="item").set_index("component")["variance"]
    plain = variance_components(d, "score", ["agent_id", "inspector_id"]).set_index("component")["variance"]
    assert vc["agent_id"] == pytest.approx(plain["agent_id"], rel=1e-6)
    assert vc["call"] == pytest.approx(plain["residual"], rel=1e-6) and vc["residual"] == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize("random, data, message", [
    (["agent_id"], None, "has no column 'nope'"),
    (["team"], None, "needs column 'team'"),
    (["agent_id", "row"], None, "one row per level: it cannot be told apart from the residual"),
    (["agent_id", "copy"], None, "group the rows the same way"),
    (["one"], None, "a single level"),
    ([], None, "random must name at least one factor"),
    ({"residual": "agent_id"}, None, "not 'residual'"),
    (["agent_id"], "blank", "blank in 1 rows"),
])
def test_errors_name_the_problem(random, data, message):
    d = unbalanced(1).assign(row=lambda f: np.arange(len(f)), copy=lambda f: f["agent_id"] + "x", one="x")
    if data == "blank":
        d.loc[3, "agent_id"] = None
    value = "nope" if message.startswith("has no column") else "score"
    with pytest.raises(ParameterError, match=message):
        variance_components(d, value, random)


def test_d_study_formulas():
    # Spearman-Brown: n calls of single-call reliability r1 give n r1 / (1 + (n - 1) r1)
    r1 = g_coefficient(10.0, 90.0, 1)
    assert r1 == pytest.approx(0.1)
    assert g_coefficient(10.0, 90.0, 6) == pytest.approx(6 * r1 / (1 + 5 * r1))
    n = calls_for_reliability(10.0, 90.0, 0.8)
    assert g_coefficient(10.0, 90.0, n) >= 0.8 > g_coefficient(10.0, 90.0, n - 1) and n == 36
    # (1.959964 + 0.841621)^2 * 400 / 10^2 = 31.39 -> 32
    assert calls_for_decision(400.0, 10.0) == 32 and calls_for_decision(400.0, 10.0, confidence=0.9, power=0.5) == 11
    t = d_study(10.0, 90.0, n=[1, 9])
    assert t["reliability"].round(3).tolist() == [0.1, 0.5] and t["sem"].tolist() == pytest.approx([np.sqrt(90), np.sqrt(10)])
    assert t["margin"].iloc[1] == pytest.approx(1.959964 * np.sqrt(10), rel=1e-6)


def test_decision_calls_deliver_their_power():
    """A simulated agent 6 points above the target with the n calls_for_decision gives clears it ~80 % of the time."""
    rng = np.random.default_rng(7)
    n = calls_for_decision(300.0, 6.0)
    means = 86 + np.sqrt(300.0) * rng.standard_normal((4000, n)).mean(axis=1)
    cleared = (means - 1.959964 * np.sqrt(300.0 / n)) >= 80
    assert 0.78 <= cleared.mean() <= 0.84


@pytest.mark.parametrize("call, message", [
    (lambda: g_coefficient(-1.0, 5.0, 3), "universe must be a variance"),
    (lambda: g_coefficient(1.0, 5.0, 0), "n must be a number of calls ≥ 1"),
    (lambda: g_coefficient(0.0, 0.0, 3), "nothing varies"),
    (lambda: calls_for_reliability(0.0, 5.0), "agents do not differ"),
    (lambda: calls_for_reliability(1.0, 5.0, 1.2), "reliability must be between 0 and 1"),
    (lambda: calls_for_decision(5.0, 0.0), "distance must be a positive number"),
    (lambda: calls_for_decision(5.0, 3.0, power=1), "power must be between 0 and 1"),
])
def test_d_study_errors(call, message):
    with pytest.raises(ParameterError, match=message):
        call()
