"""Honest agent scores: shrinkage validated on Efron & Morris (1975), verdicts by interval, the planted effects.

Source: Efron B, Morris C (1975). Data analysis using Stein's estimator and its generalizations.
JASA 70:311-319, Table 1: hits in the first 45 at-bats of the 1970 season and the rest-of-season average.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qa_lib.errors import ParameterError
from qa_lib.scores import agent_scores, item_pass_rates, verdict
from qa_lib.stats import beta_binomial_shrinkage, normal_shrinkage

EFRON_MORRIS = [  # player, hits in 45 at-bats, rest-of-season batting average
    ("Clemente", 18, 0.346), ("F. Robinson", 17, 0.298), ("F. Howard", 16, 0.276), ("Johnstone", 15, 0.222),
    ("Berry", 14, 0.273), ("Spencer", 14, 0.270), ("Kessinger", 13, 0.263), ("L. Alvarado", 12, 0.210),
    ("Santo", 11, 0.269), ("Swoboda", 11, 0.230), ("Unser", 10, 0.264), ("Williams", 10, 0.256),
    ("Scott", 10, 0.303), ("Petrocelli", 10, 0.264), ("E. Rodriguez", 10, 0.226), ("Campaneris", 9, 0.286),
    ("Munson", 8, 0.316), ("Alvis", 7, 0.200),
]


def test_shrinkage_beats_raw_averages_on_efron_morris():
    hits = np.array([h for _, h, _ in EFRON_MORRIS], dtype=float)
    season = np.array([s for *_, s in EFRON_MORRIS])
    raw = hits / 45
    pooled = raw.mean()
    post, _, mu, _ = normal_shrinkage(raw, np.full(18, 45), within_var=pooled * (1 - pooled))
    sse_raw, sse_eb = ((raw - season) ** 2).sum(), ((post - season) ** 2).sum()
    assert mu == pytest.approx(0.2654, abs=1e-4)  # Efron & Morris's grand mean .265
    assert sse_eb < sse_raw / 2.5  # they report a ratio of about 3.5 (0.022 vs 0.077)
    bb, a, b = beta_binomial_shrinkage(hits, np.full(18, 45))
    assert ((bb - season) ** 2).sum() < sse_raw / 2.5
    assert np.all(np.diff(post[np.argsort(raw)]) >= -1e-12)  # shrinkage keeps the order


def test_verdict_is_decided_by_the_interval():
    assert verdict(81, 90, 80) == "met" and verdict(60, 79.9, 80) == "missed" and verdict(70, 85, 80) == "not enough evidence"
    assert verdict(80, 85, 80) == "met"  # the boundary counts as met
    assert verdict(1, 2, 3, higher_is_better=False) == "met" and verdict(4, 5, 3, higher_is_better=False) == "missed"


def test_few_calls_shrink_more_and_cannot_decide():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(12):
        n = 3 if i == 0 else 30
        mean = 65 if i == 0 else 85
        rows += [{"agent_id": f"A{i}", "team": "T", "total_score": v} for v in rng.normal(mean, 10, n)]
    res = agent_scores(pd.DataFrame(rows), target=80).set_index("agent_id")
    new = res.loc["A0"]
    assert new["shrunk"] > new["mean"] and new["status"] == "not enough evidence" and new["n_to_decide"] > 3
    assert new["shrunk_sd"] > res.drop("A0")["shrunk_sd"].max()  # three calls leave the most uncertainty
    assert new["rank_low"] <= new["rank"] <= new["rank_high"] and new["p_below_target"] > 0.5
    with pytest.raises(ParameterError, match="missing \\['team'\\]"):
        agent_scores(pd.DataFrame(rows).drop(columns="team"), target=80)


def test_planted_agents_on_the_sample_data(loaded_store):
    ev = loaded_store.evaluations()  # what counts: every status from submitted on
    agents = loaded_store.read("agents").set_index("agent_id")
    rnd = ev[(ev["arm"] == "random") & (ev["scorecard_id"] == "inbound_service")].assign(team=lambda d: d["agent_id"].map(agents["team"]))
    items = loaded_store.read("evaluation_items").merge(rnd[["evaluation_id", "agent_id"]], on="evaluation_id")
    rates = item_pass_rates(items, target=0.85).set_index(["item_id", "agent_id"])
    weak = rates.loc[("identity_check", "A017")]  # PLANTED.md: weak on identity_check
    others = rates.loc["identity_check"].drop("A017")
    assert weak["high"] < others["rate"].median() and weak["shrunk"] < others["shrunk"].min()
    assert weak["status"] == "missed"  # below the 85 % target pass rate with confidence
    assert (others["status"] == "missed").mean() < 0.2
    oct_ = loaded_store.evaluations("2026-10")
    late = oct_[oct_["agent_id"] == "A060"]  # PLANTED.md: the late hire has 3 evaluations
    month = oct_[oct_["arm"] == "random"].assign(team=lambda d: d["agent_id"].map(agents["team"]))
    res = agent_scores(month, target=80).set_index("agent_id")
    assert len(late) == 3 and res.loc["A060", "status"] == "not enough evidence"


def test_scale_items_mean_interval_and_distribution():
    """Scale and fault-count answers: the mean with its t interval (scipy by hand) and the count per value, ``na`` left
    out; an answer that is not a number names the item and what was received."""
    from scipy import stats

    from qa_lib.scores import scale_distribution, scale_item_means

    a = pd.DataFrame({"agent_id": ["A"] * 5 + ["B"], "item_id": ["tone"] * 6, "answer": ["-2", "1", "2", "na", "1", "0"]})
    res = scale_item_means(a, by=["item_id", "agent_id"]).set_index("agent_id")
    v = np.array([-2.0, 1, 2, 1])
    half = stats.t.ppf(0.975, 3) * v.std(ddof=1) / 2
    assert (res.loc["A", "n"], res.loc["A", "mean"]) == (4, 0.5) and res.loc["A", "high"] == pytest.approx(0.5 + half)
    assert res.loc["B", "n"] == 1 and np.isnan(res.loc["B", "low"])  # one answer: no interval yet
    d = scale_distribution(a, by=["agent_id"]).query("agent_id == 'A'").set_index("value")
    assert d["count"].to_dict() == {-2.0: 1, 1.0: 2, 2.0: 1} and d["share"].sum() == pytest.approx(1)
    with pytest.raises(ParameterError, match="answer of a scale item must be a number on its scale or na; got 'yes' \\(item_id 'tone'\\)"):
        scale_item_means(a.assign(answer=["yes"] + list(a["answer"][1:])), by=["item_id"])
    with pytest.raises(ParameterError, match="missing \\['answer'\\]"):
        scale_distribution(a.drop(columns="answer"), by=["item_id"])
