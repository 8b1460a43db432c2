"""The quality model (qa_lib.quality): fitted on fresh draws of the generator's center, planted effects on and off.

The full simulation (coverage, error rates, power over hundreds of draws) is benchmarks/validity.py → docs/validity.md;
these are single seeded draws that must come out right and bad input that must be refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qa_lib.errors import ParameterError
from qa_lib.quality import fit_quality, model_scores
from qa_lib.rubric import score
from qa_lib.samples import NULL_EFFECTS, Effects, SampleSpec, _load_cards, planted, scoring_draw

CARD = _load_cards()["inbound_service"]


def _draw(effects, seed, months=3):
    d = scoring_draw(SampleSpec(), effects, months=months, seed=seed)
    ev = d["evaluations"].merge(d["agents"][["agent_id", "hire_date"]], on="agent_id")
    ev["total_score"] = ev["evaluation_id"].map(score(CARD, d["answers"]).totals.set_index("evaluation_id")["total"])
    return ev, d["answers"]


@pytest.fixture(scope="module")
def planted_fit():
    ev, answers = _draw(Effects(), seed=7)
    return fit_quality(ev, answers, CARD, target=80, item_target=0.85, random_state=1)


def test_intervals_lie_on_the_scale_and_hold_the_estimate(planted_fit):
    a = planted_fit.agents
    assert ((a["low"] >= 0) & (a["high"] <= 100) & (a["low"] <= a["estimate"]) & (a["estimate"] <= a["high"])).all()
    assert (a["rank_low"] <= a["rank"]).all() and (a["rank"] <= a["rank_high"]).all()
    assert set(a["status"]) <= {"met", "missed", "not enough evidence"}


def test_inspector_severity_found_from_the_crossed_design(planted_fit):
    """The planted lenient inspector records fewer failures than the others, the strict one more."""
    pl = planted(SampleSpec())
    sev = planted_fit.inspectors.set_index("inspector_id")["severity"]
    assert sev[pl["lenient_inspector"]] < 0.8 < 1.25 < sev[pl["strict_inspector"]]


def test_new_hires_first_months_are_a_tenure_effect():
    """Six months from the new hires' first: their first month fails far more often than veterans', by the third less."""
    ev, answers = _draw(Effects(), seed=8, months=6)
    ten = fit_quality(ev, answers, CARD, target=80, months=6).components["tenure_factors"]
    assert ten["0-1"] > 1.8 and ten["0-1"] > ten["2-3"]


def test_the_roll_up_matches_calls_simulated_at_the_rates():
    """The score of a set of failure rates, from a few hundred re-used calls with control variates, agrees with the plain
    mean of 40,000 fresh calls at those rates to a few tenths of a point (without the control variates the error was
    0.6–2.1 points, measured in the session that added them, and shifted whole intervals)."""
    from qa_lib import quality

    ev, answers = _draw(Effects(), seed=3)
    ev = ev.assign(month=pd.PeriodIndex(ev["month"], freq="M"))
    a = answers.assign(answer=quality.normalize_answers(CARD, answers).to_numpy())
    f = quality._failure_counts(CARD, a).merge(ev[["evaluation_id", "agent_id", "team", "inspector_id", "month"]], on="evaluation_id")
    m = quality._Model(ev, f[f["answered"]], CARD, ev["month"].max(), 1.0)
    m.backfit()
    p_fail = m.draw_rates(50, np.random.default_rng(0))[0][:, :8, :]
    agents = m.agents[:8]
    fast = quality._score_draws(CARD, f, agents, m.items, m.kinds, p_fail, np.random.default_rng(1), 400)
    one = p_fail.mean(0, keepdims=True)  # at the posterior-mean rates the simulated calls are drawn at exactly those rates
    ref = quality._score_draws(CARD, f, agents, m.items, m.kinds, one, np.random.default_rng(2), 40_000)[0]
    fast_at_mean = quality._score_draws(CARD, f, agents, m.items, m.kinds, one, np.random.default_rng(3), 400)[0]
    assert np.abs(fast_at_mean - ref).max() < 0.35
    assert np.all(np.isfinite(fast)) and fast.shape == (50, 8)


def test_the_late_hire_with_three_calls_is_not_declared_above_target(planted_fit):
    """The audit's case: a new hire with a low mean on 3 calls was shown 'best estimate 84.8', above target."""
    late = planted_fit.agents.set_index("agent_id").loc[planted(SampleSpec())["late_hire"]]
    assert late["n"] == 3 and late["status"] != "met" and late["low"] < 80


def test_null_center_no_agent_missed_and_spread_small():
    ev, answers = _draw(NULL_EFFECTS, seed=3)
    fit = fit_quality(ev, answers, CARD, target=80, item_target=0.85)
    assert (fit.agents["status"] != "missed").all()
    assert fit.items["status"].eq("missed").sum() == 0
    assert fit.agents["estimate"].std() < 1.5  # everyone alike: estimates close together


def test_an_agent_failing_a_critical_item_two_calls_in_three_is_flagged():
    """A planted effect strong enough to be certain with 3 months: the agent and the item are both called."""
    ev, answers = _draw(NULL_EFFECTS, seed=5)
    who = ev.loc[ev["agent_id"] == "A010", "evaluation_id"]
    hit = answers["evaluation_id"].isin(who) & (answers["item_id"] == "correct_answer")
    answers = answers.copy()
    answers.loc[hit, "answer"] = np.where(np.arange(hit.sum()) % 3 < 2, "no", "yes")
    ev["total_score"] = ev["evaluation_id"].map(score(CARD, answers).totals.set_index("evaluation_id")["total"])
    fit = fit_quality(ev, answers, CARD, target=80, item_target=0.85)
    me = fit.agents.set_index("agent_id").loc["A010"]
    assert me["status"] == "missed" and me["high"] < 80
    item = fit.items.set_index(["agent_id", "item_id"]).loc[("A010", "correct_answer")]
    assert item["status"] == "missed" and item["high"] < 0.85


def test_model_scores_report_tables():
    ev, answers = _draw(Effects(), seed=11)
    scores, items = model_scores(ev, answers, CARD, month="2026-10", target=80, item_target=0.85)
    assert {"agent_id", "team", "n", "mean", "low", "high", "shrunk", "p_below_target", "status", "n_to_decide", "n_window", "months"} <= set(scores.columns)
    assert (scores["n"] > 0).all() and scores["agent_id"].is_unique
    assert set(items["item_id"]) <= set(CARD.item_ids) and (items["n"] > 0).all()


@pytest.mark.parametrize("change, message", [
    (lambda ev: ev.drop(columns="inspector_id"), "missing \\['inspector_id'\\]"),
    (lambda ev: pd.concat([ev, ev.head(1)]), "each evaluation once"),
    (lambda ev: ev[ev["agent_id"].isin(["A001", "A002"])], "at least 3 agents"),
])
def test_bad_input_is_refused_by_name(change, message):
    ev, answers = _draw(NULL_EFFECTS, seed=2, months=1)
    with pytest.raises(ParameterError, match=message):
        fit_quality(change(ev), answers, CARD, target=80)


@pytest.mark.parametrize("kw, message", [({"months": 0}, "months must be"), ({"half_life": -1}, "half_life"), ({"alpha": 0.7}, "alpha")])
def test_bad_parameters_are_refused_by_name(kw, message):
    ev, answers = _draw(NULL_EFFECTS, seed=2, months=1)
    with pytest.raises(ParameterError, match=message):
        fit_quality(ev, answers, CARD, target=80, **kw)


def test_validity_part_runs_seeded_on_a_null_center():
    """The harness part behind docs/validity.md on two fresh draws of a null center: intervals cover, no verdict errs."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.validity_parts import model as part

    r = part.simulate(NULL_EFFECTS, draws=2, seed=1)
    assert r["coverage"] >= 0.85 and r["any_false_agent"] == 0 and r["item_flags_per_month"] <= 1
    assert part.simulate(NULL_EFFECTS, draws=2, seed=1)["coverage"] == r["coverage"]  # seeded
