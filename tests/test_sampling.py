"""Sampling statistics against published values, and the plan's promises (minimums, exclusions, spread, seed).

Sources:
- Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of seven methods.
  Statistics in Medicine 17:857-872, Table I (method 3 = Wilson score, method 5 = Clopper-Pearson).
- Cochran WG (1977). Sampling Techniques, 3rd ed., eqs. 4.2-4.3 (n0 = 384.16 -> 385; N = 1000 -> 278).
- ISO 2859-1:1999 / GB/T 2828.1-2012 Table 1 (code letters) and Table 2-A (single sampling, normal inspection).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qa_lib.errors import ParameterError
from qa_lib.sampling import PlanSpec, assign_inspectors, draw_plan, precision_table, within_agent_sd
from qa_lib.stats import (
    clopper_pearson_interval,
    cochran_sample_size,
    ht_estimate,
    iso2859_code_letter,
    iso2859_plan,
    mean_margin,
    mean_sample_size,
    proportion_margin,
    wilson_interval,
)

NEWCOMBE = [  # successes, n, Wilson (method 3), Clopper-Pearson (method 5)
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0000, 0.1611), (0.0000, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize("k, n, wilson, exact", NEWCOMBE)
def test_intervals_match_newcombe_1998(k, n, wilson, exact):
    assert wilson_interval(k, n) == pytest.approx(wilson, abs=5e-5)
    assert clopper_pearson_interval(k, n) == pytest.approx(exact, abs=5e-5)


def test_intervals_vectorized_and_edge_cases():
    k, n = np.array([81, 15, 0, 1]), np.array([263, 148, 20, 29])
    lo, hi = wilson_interval(k, n)
    assert lo.shape == (4,) and np.allclose([lo[0], hi[0]], NEWCOMBE[0][2], atol=5e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0) and clopper_pearson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(20, 20)[1] == 1.0 and clopper_pearson_interval(20, 20)[1] == 1.0
    lo90, hi90 = wilson_interval(81, 263, confidence=0.90)
    assert lo90 > 0.2553 and hi90 < 0.3662
    # swapping successes and failures mirrors the interval
    a, b = clopper_pearson_interval(15, 148), clopper_pearson_interval(133, 148)
    assert a == pytest.approx((1 - b[1], 1 - b[0]))


@pytest.mark.parametrize("args, message", [((5, 3), "0 ≤ successes ≤ n"), ((-1, 3), "0 ≤ successes ≤ n"), ((1.5, 3), "whole numbers")])
def test_interval_errors(args, message):
    with pytest.raises(ParameterError, match=message):
        wilson_interval(*args)
    with pytest.raises(ParameterError, match="confidence must be a number between 0 and 1"):
        clopper_pearson_interval(1, 3, confidence=95)


def test_cochran_textbook_values():
    assert cochran_sample_size(0.05) == 385
    assert cochran_sample_size(0.05, population=1000) == 278
    assert cochran_sample_size(0.03) == 1068
    assert cochran_sample_size(0.05, p=0.95) == 73  # FCR near its 95 % target needs far fewer lines
    assert cochran_sample_size(0.05, population=50) == 45
    with pytest.raises(ParameterError, match="margin must be a proportion"):
        cochran_sample_size(5)
    with pytest.raises(ParameterError, match="population must be a whole number"):
        cochran_sample_size(0.05, population=0)


def test_mean_margin_is_the_t_interval():
    sd, n = 12.0, np.array([3, 4, 8, 30])
    expected = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    assert np.allclose(mean_margin(n, sd), expected)
    assert mean_margin(8, 12, population=8) == 0.0  # every call scored: no sampling error
    n_needed = mean_sample_size(5, 12)
    assert mean_margin(n_needed, 12) <= 5 < mean_margin(n_needed - 1, 12)
    with pytest.raises(ParameterError, match="n must be at least 2"):
        mean_margin(1, 10)
    assert proportion_margin(100, 0.9) == pytest.approx(np.diff(wilson_interval(90, 100))[0] / 2)


@pytest.mark.parametrize(
    "lot, level, letter",
    [(2, "II", "A"), (8, "II", "A"), (9, "II", "B"), (1000, "II", "J"), (1200, "II", "J"), (1201, "II", "K"), (2000, "I", "H"),
     (600000, "III", "R"), (600000, "II", "Q"), (5, "S-1", "A"), (600000, "S-4", "K"), (100, "S-3", "C"), (100000, "S-2", "E")],
)
def test_iso2859_code_letters(lot, level, letter):
    assert iso2859_code_letter(lot, level) == letter


@pytest.mark.parametrize(
    "lot, aql, expected",
    [
        (1000, 2.5, ("J", 80, 5, 6)),
        (500, 1.0, ("H", 50, 1, 2)),
        (10000, 0.65, ("L", 200, 3, 4)),
        (3000, 4.0, ("K", 125, 10, 11)),
        (1000, 0.15, ("J", 80, 0, 1)),
        (150, 1.0, ("E", 13, 0, 1)),  # F's cell points up: use E
        (50, 0.65, ("F", 20, 0, 1)),  # D's cell points down: follow to F
        (1000, 0.25, ("H", 50, 0, 1)),  # J at 0.25: up arrow to H
        (1000, 0.40, ("K", 125, 1, 2)),  # J at 0.40: down arrow
        (12, 6.5, ("A", 2, 0, 1)),  # B at 6.5: up to A
    ],
)
def test_iso2859_level_ii_plans(lot, aql, expected):
    p = iso2859_plan(lot, aql)
    assert (p["code_letter"], p["n"], p["accept"], p["reject"]) == expected


def test_iso2859_table_is_diagonal_and_errors():
    # one code letter down and one AQL step tighter gives the same acceptance number (the table's diagonal)
    a = iso2859_plan(1000, 2.5)  # J
    b = iso2859_plan(2000, 1.5)  # K
    assert (a["accept"], a["reject"]) == (b["accept"], b["reject"])
    assert iso2859_plan(3, 10)["n"] == 3  # the plan's n (5) reaches the lot: inspect all
    with pytest.raises(ParameterError, match="aql must be one of the standard's values"):
        iso2859_plan(1000, 3.0)
    with pytest.raises(ParameterError, match="level must be one of"):
        iso2859_plan(1000, 2.5, level="IV")
    with pytest.raises(ParameterError, match="lot_size must be a whole number ≥ 2"):
        iso2859_plan(1, 2.5)


# ------------------------------------------------------------------------------ plans
def population(n_agents=12, per_agent=120, seed=1, month="2026-10"):
    rng = np.random.default_rng(seed)
    p = pd.Period(month, freq="M")
    n = n_agents * per_agent
    agent = np.repeat([f"A{i:02d}" for i in range(n_agents)], per_agent)
    start = p.start_time + pd.to_timedelta(rng.integers(0, p.days_in_month * 86400, n), unit="s")
    c = pd.DataFrame({
        "contact_id": [f"K{i:05d}" for i in range(n)], "start_time": start, "agent_id": agent,
        "answered": True, "contact_type": rng.choice(["service", "consultation", "non_regular"], n, p=[0.45, 0.45, 0.1]),
        "talk_seconds": rng.uniform(10, 600, n), "customer_opted_out": rng.random(n) < 0.03, "queue": rng.choice(["a", "b"], n),
        "customer_tier": rng.choice(["diamond", "gold"], n, p=[0.05, 0.95]), "hold_seconds": rng.exponential(30, n),
        "customer_id": [f"C{v}" for v in rng.integers(0, n // 2, n)], "direction": "inbound", "channel": "hotline",
    })
    agents = pd.DataFrame({"agent_id": [f"A{i:02d}" for i in range(n_agents)], "team": ["North", "South", "East"] * (n_agents // 3),
                           "hire_date": ["2020-01-01"] * (n_agents - 1) + ["2026-09-20"], "status": "active"})
    return c, agents


def test_plan_honours_minimums_exclusions_and_seed():
    c, agents = population()
    agents.loc[3, "status"] = "leave"
    evaluated = set(c["contact_id"].iloc[:50])
    spec = PlanSpec(period="2026-10", seed=5, per_agent=6)
    plan = draw_plan(c, agents, spec, evaluated=evaluated)
    r = plan.contacts[plan.contacts["arm"] == "random"]
    counts = r.groupby("agent_id").size()
    assert set(counts.index) == set(agents["agent_id"]) - {"A03"} and (counts == 6).all()
    chosen = c.set_index("contact_id").loc[plan.contacts["contact_id"]]
    assert (chosen["contact_type"] != "non_regular").all() and (chosen["talk_seconds"] >= 30).all()
    assert not chosen["customer_opted_out"].any() and not set(plan.contacts["contact_id"]) & evaluated
    assert plan.excluded["agent_on_leave"] > 0 and plan.excluded["already_evaluated"] > 0
    assert not plan.contacts["contact_id"].duplicated().any()  # arms are disjoint
    again = draw_plan(c, agents, spec, evaluated=evaluated)
    pd.testing.assert_frame_equal(plan.contacts, again.contacts)
    other = draw_plan(c, agents, PlanSpec(period="2026-10", seed=6, per_agent=6), evaluated=evaluated)
    assert set(other.contacts["contact_id"]) != set(plan.contacts["contact_id"])
    # inclusion probability = n / N of the contact's cell
    cells = plan.cells.set_index("agent_id")
    ip = r.set_index("agent_id")["inclusion_prob"]
    assert np.allclose(ip, (cells["n"] / cells["N"]).reindex(ip.index))


def test_plan_spreads_each_agent_over_the_month():
    c, agents = population(per_agent=300)
    plan = draw_plan(c, agents, PlanSpec(period="2026-10", per_agent=8, seed=2))
    r = plan.contacts[plan.contacts["arm"] == "random"]
    weeks = r.groupby("agent_id")["start_time"].agg(lambda s: s.dt.isocalendar().week.nunique())
    assert (weeks >= 4).all()  # 8 systematic picks over ~31 days never bunch into a few days
    days = r.groupby("agent_id")["start_time"].agg(lambda s: s.dt.normalize().nunique())
    assert (days >= 7).all()


def test_strata_and_allocations():
    c, agents = population()
    plan = draw_plan(c, agents, PlanSpec(period="2026-10", per_agent=10, strata=("queue",)))
    per = plan.contacts[plan.contacts["arm"] == "random"].groupby(["agent_id", "stratum"]).size().unstack()
    assert (per.sum(axis=1) == 10).all() and (per.min(axis=1) >= 3).all()
    prec = draw_plan(c, agents, PlanSpec(period="2026-10", allocation="precision", margin=8, sd=15))
    n = prec.contacts[prec.contacts["arm"] == "random"].groupby("agent_id").size()
    assert (n >= mean_sample_size(8, 15, population=int(prec.cells["N"].min()))).all()
    prop = draw_plan(c, agents, PlanSpec(period="2026-10", allocation="proportional", per_agent=6))
    assert prop.contacts[prop.contacts["arm"] == "random"].shape[0] == pytest.approx(6 * 12, abs=6)


def test_targeted_arm_follows_rules_and_stays_apart():
    c, agents = population()
    plan = draw_plan(c, agents, PlanSpec(period="2026-10", per_agent=4, targeted_per_agent=2), complaints={"K00010"})
    t = plan.contacts[plan.contacts["arm"] == "targeted"]
    assert set(t["reason"]) <= {"new_hire", "complaint", "diamond", "long_hold", "repeat_caller"}
    assert (t.groupby("agent_id").size() <= 2).all()
    assert set(t.loc[t["agent_id"] == "A11", "reason"]) == {"new_hire"}  # hired 2026-09-20
    assert (t["inclusion_prob"] <= 1).all() and t["stratum"].eq("").all()


@pytest.mark.parametrize(
    "spec, message",
    [
        (dict(per_agent=-1), "per_agent must be a whole number ≥ 0; got -1"),
        (dict(strata=("colour",)), r"strata must be contact columns .* unknown \['colour'\]"),
        (dict(allocation="random"), "allocation must be one of equal, proportional, precision"),
        (dict(allocation="precision"), "needs margin > 0 and sd > 0"),
        (dict(rules=("vip",)), "rules must be among"),
    ],
)
def test_bad_plan_parameters(spec, message):
    c, agents = population(n_agents=3, per_agent=20)
    with pytest.raises(ParameterError, match=message):
        draw_plan(c, agents, PlanSpec(period="2026-10", **spec))


def test_period_with_no_contacts():
    c, agents = population(n_agents=3, per_agent=20)
    with pytest.raises(ParameterError, match="period 2026-11 has no contacts"):
        draw_plan(c.iloc[:0], agents, PlanSpec(period="2026-11"))


def test_horvitz_thompson_covers_the_true_rate():
    """Across 100 seeded draws the 95 % interval holds the population's true rate at least 93 times."""
    rng = np.random.default_rng(0)
    c, agents = population(n_agents=30, per_agent=0)
    sizes = rng.integers(60, 400, 30)
    rows = []
    for i, size in enumerate(sizes):
        rows.append(pd.DataFrame({"agent_id": f"A{i:02d}", "contact_id": [f"K{i:02d}-{j}" for j in range(size)],
                                  "start_time": pd.Timestamp("2026-10-01") + pd.to_timedelta(rng.integers(0, 30 * 86400, size), unit="s")}))
    pop = pd.concat(rows, ignore_index=True).assign(answered=True, contact_type="service", talk_seconds=200.0, customer_opted_out=False,
                                                     customer_tier="gold", hold_seconds=0.0, customer_id=None, direction="inbound")
    agent_rate = rng.uniform(0.75, 0.99, 30)  # agents differ: an unweighted mean of agent means would be biased
    pop["fcr"] = rng.random(len(pop)) < agent_rate[pop["agent_id"].str[1:].astype(int)]
    truth = pop["fcr"].mean()
    agents = pd.DataFrame({"agent_id": [f"A{i:02d}" for i in range(30)], "team": "T", "hire_date": "2020-01-01", "status": "active"})
    covered = 0
    for seed in range(100):
        plan = draw_plan(pop, agents, PlanSpec(period="2026-10", per_agent=10, seed=seed, targeted_per_agent=0))
        s = plan.contacts.merge(pop[["contact_id", "fcr"]], on="contact_id")
        s["stratum"] = s["agent_id"]
        est = ht_estimate(s, "fcr", stratum="stratum", population=plan.cells.set_index("agent_id")["N"])
        covered += bool(est["ci_low"].item() <= truth <= est["ci_high"].item())
    assert covered >= 93


def test_ht_refuses_targeted_rows():
    s = pd.DataFrame({"y": [1, 0], "inclusion_prob": [0.5, np.nan]})
    with pytest.raises(ParameterError, match="targeted-arm rows have none"):
        ht_estimate(s, "y")


def test_inspectors_balanced_never_own_team_and_double_scoring():
    c, agents = population(n_agents=12, per_agent=100)
    plan = draw_plan(c, agents, PlanSpec(period="2026-10", per_agent=8))
    inspectors = pd.DataFrame({"inspector_id": ["Q1", "Q2", "Q3", "Q4"], "home_team": ["North", "South", "", ""], "active": True})
    out = assign_inspectors(plan.contacts, inspectors, seed=1, double_share=0.25)
    home = inspectors.set_index("inspector_id")["home_team"]
    assert not (out["inspector_id"].map(home) == out["team"]).any()
    assert not (out["second_inspector_id"].map(home) == out["team"]).any()
    both = pd.concat([out["inspector_id"], out["second_inspector_id"].dropna()]).value_counts()
    assert both.max() - both.min() <= 2
    doubles = out[out["second_inspector_id"].notna()]
    assert len(doubles) == round(0.25 * (out["arm"] == "random").sum()) and (doubles["second_inspector_id"] != doubles["inspector_id"]).all()
    assert set(doubles["arm"]) == {"random"}


def test_precision_table_and_within_agent_sd():
    c, agents = population()
    plan = draw_plan(c, agents, PlanSpec(period="2026-10", per_agent=4))
    t = precision_table(plan, sd=10)
    assert np.allclose(t["score_margin"], mean_margin(4, 10, population=t["N"].to_numpy()))
    teams = precision_table(plan, sd=10, by="team")
    assert (teams["score_margin"] < t["score_margin"].min()).all()
    ev = pd.DataFrame({"agent_id": ["A", "A", "B", "B"], "total_score": [80, 90, 50, 60]})
    assert within_agent_sd(ev) == pytest.approx(np.sqrt(50))  # between-agent differences do not count


# ---------------------------------------------------------------------- coaching re-checks
def test_rechecks_added_for_open_actions():
    c, agents = population()
    spec = PlanSpec(period="2026-10", seed=5, per_agent=6)
    rechecks = pd.DataFrame({"action_id": ["CA1", "CA2", "CA3"], "agent_id": ["A01", "A02", "A05"],
                             "recheck_on": ["2026-10-20", "2026-10-01", "2026-11-03"]})
    old = draw_plan(c, agents, spec)
    plan = draw_plan(c, agents, spec, rechecks=rechecks)
    rc = plan.contacts[plan.contacts["reason"].str.startswith("recheck:")]
    assert rc.groupby("reason").size().to_dict() == {"recheck:CA1": 2, "recheck:CA2": 2}  # CA3 re-checks after the period
    assert (rc["arm"] == "targeted").all() and (rc["stratum"] == "").all()
    on = rc["reason"].str[8:].map(rechecks.set_index("action_id")["recheck_on"]).pipe(pd.to_datetime)
    assert (rc["start_time"] >= on).all() and (rc["agent_id"] == rc["reason"].str[8:].map(rechecks.set_index("action_id")["agent_id"])).all()
    assert not plan.contacts["contact_id"].duplicated().any()
    chosen = c.set_index("contact_id").loc[rc["contact_id"]]
    assert (chosen["contact_type"] != "non_regular").all() and not chosen["customer_opted_out"].any()
    # the random and targeted arms are exactly the plan without re-checks
    rest = plan.contacts[~plan.contacts["reason"].str.startswith("recheck:")].reset_index(drop=True)
    pd.testing.assert_frame_equal(rest, old.contacts)
    pd.testing.assert_frame_equal(draw_plan(c, agents, spec, rechecks=rechecks).contacts, plan.contacts)  # reproducible
    off = draw_plan(c, agents, PlanSpec(period="2026-10", seed=5, per_agent=6, recheck_per_action=0), rechecks=rechecks)
    pd.testing.assert_frame_equal(off.contacts, old.contacts)
    pd.testing.assert_frame_equal(draw_plan(c, agents, spec, rechecks=rechecks.iloc[:0]).contacts, old.contacts)
    other = draw_plan(c, agents, PlanSpec(period="2026-10", seed=6, per_agent=6), rechecks=rechecks)
    assert set(other.contacts.loc[other.contacts["reason"] == "recheck:CA1", "contact_id"]) != set(rc.loc[rc["reason"] == "recheck:CA1", "contact_id"])


def test_rechecks_only_on_contacts_their_scorecard_applies_to():
    c, agents = population()
    c["scorecard_id"] = np.where(c["queue"] == "a", "inbound_service", "other_card")
    rechecks = pd.DataFrame({"action_id": ["CA1"], "agent_id": ["A01"], "recheck_on": ["2026-10-01"], "scorecard_id": ["inbound_service"]})
    plan = draw_plan(c, agents, PlanSpec(period="2026-10", recheck_per_action=5), rechecks=rechecks)
    rc = plan.contacts[plan.contacts["reason"] == "recheck:CA1"]
    assert len(rc) == 5 and (c.set_index("contact_id").loc[rc["contact_id"], "queue"] == "a").all()
    with pytest.raises(ParameterError, match="contacts need a scorecard_id column"):
        draw_plan(c.drop(columns="scorecard_id"), agents, PlanSpec(period="2026-10"), rechecks=rechecks)
    with pytest.raises(ParameterError, match=r"rechecks must have columns .* missing \['recheck_on'\]"):
        draw_plan(c, agents, PlanSpec(period="2026-10"), rechecks=rechecks.drop(columns="recheck_on"))
    with pytest.raises(ParameterError, match="recheck_per_action must be a whole number ≥ 0; got -1"):
        draw_plan(c, agents, PlanSpec(period="2026-10", recheck_per_action=-1))


def test_new_parameter_keeps_old_plan_ids():
    """recheck_per_action is saved only when it is not the default, so plans drawn as before keep their ids."""
    assert "recheck_per_action" not in PlanSpec(period="2026-10").to_dict()
    assert PlanSpec(period="2026-10", recheck_per_action=0).to_dict()["recheck_per_action"] == 0
    saved = PlanSpec(period="2026-10").to_dict()
    assert PlanSpec(**saved).recheck_per_action == 2 and PlanSpec(**saved).to_dict() == saved


# ------------------------------------------------------------------- how many calls (G-study, adaptive plan)
def test_adaptive_split_reads_any_interval_table():
    from qa_lib.sampling import adaptive_split

    est = pd.DataFrame({"agent_id": ["A1", "A2", "A3", "A4"], "low": [82.0, 60.0, 70.0, None], "high": [95.0, 79.9, 90.0, None]})
    split = adaptive_split(est, 80)
    assert split["status"].tolist() == ["met", "missed", "open", "open"]  # no interval: not settled
    per_row = adaptive_split(est.assign(target=[96.0, 50.0, 60.0, 80.0]))
    assert per_row["status"].tolist() == ["missed", "met", "met", "open"]


@pytest.mark.parametrize("change, message", [
    (lambda e: e.drop(columns="high"), r"missing \['high'\]"),
    (lambda e: e.assign(low=["82", "x", "70"]), "column 'low' must hold numbers; row 3 has 'x'"),
    (lambda e: e.assign(low=[96.0, 60.0, 70.0]), "row 2: low 96.0 is above high 95.0"),
    (lambda e: e.assign(agent_id=["A1", "A1", "A3"]), "row 3 is blank or repeats 'A1'"),
])
def test_adaptive_split_errors(change, message):
    from qa_lib.sampling import adaptive_split

    est = pd.DataFrame({"agent_id": ["A1", "A2", "A3"], "low": [82.0, 60.0, 70.0], "high": [95.0, 79.0, 90.0]})
    with pytest.raises(ParameterError, match=message):
        adaptive_split(change(est), 80)
    with pytest.raises(ParameterError, match="no target column"):
        adaptive_split(est)


def test_adaptive_plan_keeps_the_total_and_the_probability_sample():
    c, agents = population(n_agents=12, per_agent=120)
    settled = ("A00", "A01", "A02", "A03", "A04", "A05")
    even = draw_plan(c, agents, PlanSpec(period="2026-10", per_agent=6, seed=3))
    spec = PlanSpec(period="2026-10", per_agent=6, seed=3, allocation="adaptive", settled=settled, min_per_agent=2)
    plan = draw_plan(c, agents, spec)
    n = plan.cells.groupby("agent_id")["n"].sum()
    assert n.sum() == even.cells["n"].sum() == 72  # same inspector hours
    assert (n[list(settled)] == 2).all() and (n.drop(list(settled)) == 10).all()  # 6 × 4 freed calls over 6 open agents
    r = plan.contacts[plan.contacts["arm"] == "random"]
    cells = plan.cells.set_index("agent_id")
    assert np.allclose(r.set_index("agent_id")["inclusion_prob"], (cells["n"] / cells["N"]).reindex(r["agent_id"]))
    assert spec.to_dict()["settled"] == list(settled) and "settled" not in PlanSpec(period="2026-10").to_dict()
    with pytest.raises(ParameterError, match="settled agents are only used by allocation='adaptive'"):
        draw_plan(c, agents, PlanSpec(period="2026-10", settled=settled))


def test_adaptive_sizes_respect_what_each_agent_has():
    from qa_lib.sampling import _adaptive_sizes

    N = np.array([100.0, 100.0, 5.0, 100.0, 3.0])
    settled = np.array([True, True, False, False, True])
    n = _adaptive_sizes(N, settled, 6, 2)
    assert n.sum() == 30 and n.tolist() == [2, 2, 5, 19, 2]  # the open agent short of contacts passes its share on
    assert _adaptive_sizes(N, np.zeros(5, bool), 6, 2).tolist() == [6, 6, 5, 6, 3]  # nobody settled: the even plan
    tight = _adaptive_sizes(np.array([4.0, 4.0, 50.0]), np.array([False, False, True]), 6, 2)
    assert tight.tolist() == [4, 4, 10]  # open agents full: what is left goes back to the settled


def gstudy_frame(seed=0, agents=60, months=3, calls=6, sd=(4.0, 2.0, 6.0, 16.0)):
    """Random-arm scores: agent, agent × month, inspector and call effects of known size."""
    rng = np.random.default_rng(seed)
    a = np.repeat(np.arange(agents), months * calls)
    m = np.tile(np.repeat(np.arange(months), calls), agents)
    r = rng.integers(0, 6, a.size)
    y = (85 + sd[0] * rng.standard_normal(agents)[a] + sd[1] * rng.standard_normal((agents, months))[a, m]
         + sd[2] * rng.standard_normal(6)[r] + sd[3] * rng.standard_normal(a.size))
    return pd.DataFrame({"agent_id": [f"A{i:02d}" for i in a], "month": [f"2026-0{k + 1}" for k in m],
                         "inspector_id": [f"Q{i}" for i in r], "total_score": y, "evaluation_id": np.arange(a.size)})


def test_month_gstudy_finds_the_components_and_what_n_buys():
    from qa_lib.sampling import month_gstudy

    est = [month_gstudy(gstudy_frame(s)) for s in range(25)]
    universe, error = np.mean([g.universe for g in est]), np.mean([g.error for g in est])
    assert universe == pytest.approx(16 + 4, rel=0.25) and error == pytest.approx(36 + 256, rel=0.15)
    g = est[0]
    assert g.months == 3 and g.calls == 6 and list(g.components["component"]) == ["agent", "agent×month", "inspector", "residual"]
    t = g.table([6, 24])
    assert (t["reliability"] == g.reliability(np.array([6.0, 24.0]))).all() and (t["reliability_no_inspector"] > t["reliability"]).all()
    assert g.reliability(g.calls_for(0.8)) >= 0.8 > g.reliability(g.calls_for(0.8) - 1)
    one = month_gstudy(gstudy_frame(months=1))
    assert "agent×month" not in set(one.components["component"])
    with pytest.raises(ParameterError, match=r"missing \['inspector_id'\]"):
        month_gstudy(gstudy_frame().drop(columns="inspector_id"))


def test_item_gstudy_separates_items_calls_and_agents():
    from qa_lib.sampling import item_gstudy

    rng = np.random.default_rng(4)
    ev = gstudy_frame(agents=40, calls=4)
    skill = rng.normal(0, 0.08, 40)[ev["agent_id"].str[1:].astype(int)]
    rows = [ev.assign(item_id=f"i{k}", credit=(rng.random(len(ev)) > 0.1 * (k + 1) - skill).astype(float)) for k in range(5)]
    vc = item_gstudy(pd.concat(rows, ignore_index=True)).set_index("component")["variance"]
    assert list(vc.index) == ["agent", "agent×month", "agent×item", "inspector", "call", "residual"]
    assert vc["agent"] == pytest.approx(0.08 ** 2, rel=0.5) and vc["residual"] > 10 * vc["agent"]


def test_precision_table_shows_the_reliability_n_buys():
    from qa_lib.sampling import month_gstudy

    c, agents = population()
    plan = draw_plan(c, agents, PlanSpec(period="2026-10", per_agent=6))
    g = month_gstudy(gstudy_frame())
    t = precision_table(plan, 15.0, gstudy=g)
    assert np.allclose(t["reliability"], g.reliability(6))
    with pytest.raises(ParameterError, match="reliability is per agent"):
        precision_table(plan, 15.0, by="team", gstudy=g)


def test_validity_part_runs_and_predicts_reliability():
    """The validity harness part on one seeded draw: rows of the contract, predicted near measured, totals equal."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.validity_parts import sampling as part

    rows = part.rows(draws=1, seed=3)
    assert all(set(r) == {"analysis", "scenario", "measure", "target", "value", "ok", "draws", "note"} for r in rows)
    rel = [r for r in rows if r["measure"] == "predicted − measured reliability"]
    assert len(rel) == 3 and all(abs(r["value"]) < 0.3 for r in rel)
    adaptive = next(r for r in rows if r["measure"].startswith("share of agents decided, adaptive"))
    assert "at equal calls" in adaptive["note"] and -0.2 < adaptive["value"] < 0.3
    calls = adaptive["note"].split("at equal calls (")[1].split(")")[0].split(" vs ")
    assert calls[0] == calls[1]


def test_qa_plan_and_adaptive_sample_on_the_samples(loaded_store, tmp_path):
    """`qa plan` prints the G-study and D-study of the samples' random arm; `qa sample --adaptive` keeps the total."""
    from click.testing import CliRunner

    from conftest import store_copy
    from qa_lib.cli import main

    url = str(loaded_store.engine.url)
    res = CliRunner().invoke(main, ["plan", "--db", url, "--month", "2026-10", "--lang", "en", "--items"])
    assert res.exit_code == 0, res.output
    assert "G-study: " in res.output and "reliability of a month's mean over 6 calls: 0." in res.output
    assert "agent×item" in res.output and "calls per agent a month for reliability 0.7" in res.output
    zh = CliRunner().invoke(main, ["plan", "--db", url, "--month", "2026-10"])
    assert "可靠度 0.7 需每人每月" in zh.output
    bad = CliRunner().invoke(main, ["plan", "--db", url, "--month", "2020-01"])
    assert bad.exit_code == 1 and "no random-arm evaluations in the 3 months before 2020-01" in bad.output
    est = pd.DataFrame({"agent_id": ["A001", "A002", "A003"], "low": [85.0, 60.0, 70.0], "high": [99.0, 75.0, 90.0]})
    est.to_csv(tmp_path / "scores.csv", index=False)
    copy = store_copy(loaded_store, tmp_path)
    res = CliRunner().invoke(main, ["sample", "--db", str(copy.engine.url), "--month", "2026-10", "--per-agent", "6", "--adaptive",
                                    str(tmp_path / "scores.csv"), "--target", "80", "--out", str(tmp_path / "wl")])
    assert res.exit_code == 0, res.output
    assert "adaptive: 2 agents settled last month get ≤ 2 calls" in res.output and "median 0." in res.output
    plan = copy.plan_contacts(copy.latest_plan("2026-10"))
    n = plan[plan["arm"] == "random"].groupby("agent_id").size()
    assert n[["A001", "A002"]].tolist() == [2, 2] and n.sum() == 6 * len(n)


# ------------------------------------------------------------------- targeted rule: low automatic score (issue #19)
def auto_scores_for(c, seed=3, share_missing=0.3):
    """Automatic scores of a population: 0–100, NaN for a share of contacts (no transcript, or every item abstained)."""
    rng = np.random.default_rng(seed)
    s = pd.Series(np.round(rng.uniform(20, 100, len(c)), 1), index=c["contact_id"].to_numpy())
    return s.where(rng.random(len(c)) >= share_missing)


def test_low_auto_score_leaves_the_random_arm_unchanged():
    """Automatic scores only add targeted candidates: same seed, same random arm and inclusion probabilities."""
    c, agents = population()
    scores = auto_scores_for(c)
    for seed in (0, 7):
        spec = PlanSpec(period="2026-10", seed=seed, per_agent=6, targeted_per_agent=3)
        without, with_auto = draw_plan(c, agents, spec), draw_plan(c, agents, spec, auto_scores=scores)
        r0, r1 = (p.contacts[p.contacts["arm"] == "random"].reset_index(drop=True) for p in (without, with_auto))
        pd.testing.assert_frame_equal(r0, r1)
        pd.testing.assert_frame_equal(without.cells, with_auto.cells)
        t1 = with_auto.contacts[with_auto.contacts["arm"] == "targeted"]
        assert (t1["reason"] == "low_auto_score").sum() > 0 and "low_auto_score" not in set(without.contacts["reason"])


def test_low_auto_score_picks_only_low_scored_contacts():
    c, agents = population()
    scores = auto_scores_for(c)
    only = PlanSpec(period="2026-10", seed=2, per_agent=6, targeted_per_agent=4, rules=("low_auto_score",), low_auto_share=0.1)
    plan = draw_plan(c, agents, only, auto_scores=scores)
    r, t = (plan.contacts[plan.contacts["arm"] == a] for a in ("random", "targeted"))
    picked = scores.reindex(t["contact_id"])
    assert len(t) > 0 and picked.notna().all() and (t["reason"] == "low_auto_score").all()  # never a contact without a score
    # the cut is the 10 % quantile of the eligible contacts' scores (excluded contacts do not move it)
    eligible = draw_plan(c, agents, PlanSpec(period="2026-10", per_agent=10**6, targeted_per_agent=0)).contacts["contact_id"]
    s = np.sort(scores.reindex(eligible).dropna().to_numpy())
    cut = s[int(np.ceil(0.1 * s.size)) - 1]
    assert (picked <= cut).all() and cut < np.quantile(scores.dropna(), 0.2)
    assert not set(t["contact_id"]) & set(r["contact_id"])
    # a fixed threshold instead of a share: only scores below it
    below = PlanSpec(period="2026-10", seed=2, per_agent=6, targeted_per_agent=4, rules=("low_auto_score",), low_auto_share=0, low_auto_below=30)
    t = draw_plan(c, agents, below, auto_scores=scores).contacts.query("arm == 'targeted'")
    assert len(t) > 0 and (scores.reindex(t["contact_id"]) < 30).all()
    # without scores (or with none known) the rule flags nothing
    assert draw_plan(c, agents, only).contacts.query("arm == 'targeted'").empty
    assert draw_plan(c, agents, only, auto_scores=scores * np.nan).contacts.query("arm == 'targeted'").empty


def test_low_auto_score_keeps_old_plan_ids_and_validates():
    saved = PlanSpec(period="2026-10").to_dict()
    assert "low_auto_score" not in saved["rules"] and "low_auto_share" not in saved and "low_auto_below" not in saved
    assert saved["rules"] == ["new_hire", "complaint", "diamond", "long_hold", "repeat_caller"]  # as saved before #19
    assert PlanSpec(period="2026-10", low_auto_share=0.2).to_dict()["low_auto_share"] == 0.2
    c, agents = population(n_agents=3, per_agent=20)
    for kwargs, message in [(dict(low_auto_share=1.5), "low_auto_share must be a share between 0 and 1"),
                            (dict(low_auto_below=120), "low_auto_below must be None or a score between 0 and 100"),
                            (dict(low_auto_share="10%"), "low_auto_share must be a share")]:
        with pytest.raises(ParameterError, match=message):
            draw_plan(c, agents, PlanSpec(period="2026-10", **kwargs))
    scores = auto_scores_for(c)
    with pytest.raises(ParameterError, match="auto_scores must be scores between 0 and 100"):
        draw_plan(c, agents, PlanSpec(period="2026-10"), auto_scores=scores.fillna(150))
    with pytest.raises(ParameterError, match="one score per contact"):
        draw_plan(c, agents, PlanSpec(period="2026-10"), auto_scores=pd.concat([scores, scores.iloc[:1]]))
