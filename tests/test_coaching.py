"""The coaching loop: Newcombe's interval against the published table, the verdict against a comparison (tenure drift,
regression to the mean and a real effect in constructed centers, the planted coaching effect in the samples, the
validity harness part on a small seeded run), invariances, which evaluations count as evidence, and the open/overdue
list per supervisor.

Source:
- Newcombe RG (1998). Interval estimation for the difference between independent proportions: comparison of
  eleven methods. Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score, no continuity correction).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qa_lib.coaching import COLUMNS, FDR_SENTENCE, before_after, load_evidence, open_actions, open_summary, split_items
from qa_lib.errors import ParameterError
from qa_lib.samples import planted
from qa_lib.stats import newcombe_interval

NEWCOMBE_TABLE_II = [  # (a) .. (h): successes1, n1, successes2, n2, method 10 interval for p1 - p2
    (56, 70, 48, 80, (0.0524, 0.3339)),
    (9, 10, 3, 10, (0.1705, 0.8090)),
    (6, 7, 2, 7, (0.0582, 0.8062)),
    (5, 56, 0, 29, (-0.0381, 0.1926)),
    (0, 10, 0, 20, (-0.1611, 0.2775)),
    (0, 10, 0, 10, (-0.2775, 0.2775)),
    (10, 10, 0, 20, (0.6791, 1.0000)),
    (10, 10, 0, 10, (0.6075, 1.0000)),
]


@pytest.mark.parametrize("k1, n1, k2, n2, expected", NEWCOMBE_TABLE_II)
def test_newcombe_matches_published_table(k1, n1, k2, n2, expected):
    assert newcombe_interval(k1, n1, k2, n2) == pytest.approx(expected, abs=5e-5)


def test_newcombe_vectorized_mirrored_and_empty():
    k1, n1, k2, n2, _ = map(np.array, zip(*NEWCOMBE_TABLE_II))
    lo, hi = newcombe_interval(k1, n1, k2, n2)
    assert np.allclose(np.c_[lo, hi], [e for *_, e in NEWCOMBE_TABLE_II], atol=5e-5)
    lo2, hi2 = newcombe_interval(k2, n2, k1, n1)  # swapping the groups mirrors the interval
    assert np.allclose(lo2, -hi) and np.allclose(hi2, -lo)
    assert newcombe_interval(0, 0, 2, 5) == (-1.0, 1.0)  # no evidence on one side
    assert newcombe_interval(56, 70, 48, 80, confidence=0.9)[0] > 0.0524
    with pytest.raises(ParameterError, match="confidence must be a number between 0 and 1"):
        newcombe_interval(1, 2, 1, 2, confidence=95)


# --------------------------------------------------------------------------- on the sample data
@pytest.fixture(scope="module")
def loop(loaded_store):
    actions = loaded_store.read("coaching_actions")
    evidence = load_evidence(loaded_store)
    return actions, evidence, before_after(actions, evidence)


def test_planted_coaching_programme_improves(loop):
    actions, evidence, res = loop
    nh = planted()["new_hires"]
    per = res[(res["level"] == "action") & res["agent_id"].isin(nh)]
    prog = res[(res["level"] == "programme") & (res["programme"] == per["programme"].iloc[0])].iloc[0]
    assert prog["agents"] == len(nh) == prog["actions"] and prog["items"] == "confirmation,needs_analysis"
    assert prog["verdict"] == "improved" and prog["diff_low"] > 0
    # judged against the comparison: the agents' own other items and the ~50 uncoached agents
    assert prog["comparison_agents"] >= 40 and prog["ratio_high"] < 1 and prog["effect_low"] > 0 and prog["q_improved"] <= 0.025
    assert prog["effect"] < prog["diff"]  # part of the plain before/after gain was tenure
    # the pooled counts are the sums of the actions' counts
    assert prog["before_n"] == per["before_n"].sum() and prog["after_pass"] == per["after_pass"].sum()
    # ~12 answers before each action: most single agents honestly have not enough evidence
    assert (per["before_n"] == 12).all()
    verdicts = per["verdict"].value_counts()
    assert verdicts.get("not enough evidence", 0) >= 3 and set(verdicts.index) <= {"improved", "not enough evidence"}
    # the planted effect is on the coached items: they gain more than the same agents' other items (tenure)
    assert prog["diff"] > prog["others_after_rate"] - prog["others_before_rate"] + 0.05
    # the open actions of the last month: far too little evidence yet
    late = res[(res["level"] == "action") & res["action_id"].isin(["CA0007", "CA0008"])]
    assert set(late["verdict"]) == {"not enough evidence"} and (late["after_n"] < 10).all()


def test_only_random_and_recheck_evaluations_count(loop):
    actions, evidence, res = loop
    assert set(evidence["arm"]) == {"random", "targeted", "calibration"}
    unbiased = before_after(actions, evidence[evidence["arm"] == "random"])
    pd.testing.assert_frame_equal(res, unbiased)  # targeted and calibration rows change nothing
    # a targeted evaluation counts once a plan selected its contact for a re-check
    a = actions[actions["action_id"] == "CA0001"]
    after = pd.Timestamp(a["created_on"].iloc[0]) + pd.Timedelta(days=10)
    extra = pd.DataFrame({"evaluation_id": ["X1", "X2", "X3"], "contact_id": ["KX1", "KX2", "KX3"], "agent_id": a["agent_id"].iloc[0],
                          "item_id": "confirmation", "answer": "yes", "arm": ["targeted", "targeted", "calibration"],
                          "reason": ["recheck:CA0001", "diamond", ""], "handled_at": after})
    got = before_after(a, pd.concat([evidence, extra], ignore_index=True))
    base = res[res["action_id"] == "CA0001"].iloc[0]
    row = got[got["level"] == "action"].iloc[0]
    assert row["after_n"] == base["after_n"] + 1 and row["after_pass"] == base["after_pass"] + 1


def test_permuting_rows_changes_nothing(loop):
    actions, evidence, res = loop
    rng = np.random.default_rng(4)
    shuffled = before_after(actions.sample(frac=1, random_state=1), evidence.iloc[rng.permutation(len(evidence))])
    pd.testing.assert_frame_equal(res, shuffled)
    # a contact scored twice (double scoring) is one observation, whichever row comes first
    twice = pd.concat([evidence, evidence[evidence["arm"] == "random"].assign(evaluation_id=lambda d: d["evaluation_id"] + "b")])
    pd.testing.assert_frame_equal(res, before_after(actions, twice.iloc[rng.permutation(len(twice))]))


def test_as_of_replays_the_loop(loop):
    actions, evidence, res = loop
    then = before_after(actions, evidence, as_of="2026-06-20")
    assert set(then["action_id"].dropna()) == {f"CA000{i}" for i in range(1, 7)}  # later actions did not exist yet
    now = res[res["action_id"].isin(then["action_id"].dropna())].set_index("action_id")
    t = then[then["level"] == "action"].set_index("action_id")
    assert (t["before_n"] == now["before_n"]).all() and (t["after_n"] < now["after_n"]).all()


# ------------------------------------------------------------------------------ synthetic checks
def _synthetic(before: list[str], after: list[str], created="2026-06-01", recheck=3):
    actions = pd.DataFrame({"action_id": ["CA1"], "agent_id": ["A1"], "coach": ["Q1"], "created_on": [created],
                            "items": ["greeting"], "recheck_after_days": [recheck]})
    t0 = pd.Timestamp(created)
    when = [t0 - pd.Timedelta(days=1 + i % 50) for i in range(len(before))] + [t0 + pd.Timedelta(days=recheck + i % 50) for i in range(len(after))]
    answers = pd.DataFrame({"contact_id": [f"K{i}" for i in range(len(when))], "agent_id": "A1", "item_id": "greeting",
                            "answer": before + after, "arm": "random", "handled_at": when})
    return actions, answers


def test_swapping_before_and_after_flips_the_sign():
    b, a = ["yes"] * 5 + ["no"] * 6 + ["partial"], ["yes"] * 18 + ["no"] * 2 + ["na"] * 3
    r = before_after(*_synthetic(b, a)).iloc[0]
    s = before_after(*_synthetic(a, b)).iloc[0]
    assert (r["before_n"], r["before_pass"], r["after_n"], r["after_pass"]) == (12, 5, 20, 18)  # na ignored, partial fails
    assert s["diff"] == pytest.approx(-r["diff"]) and (s["diff_low"], s["diff_high"]) == pytest.approx((-r["diff_high"], -r["diff_low"]))
    assert (r["diff_low"], r["diff_high"]) == pytest.approx(newcombe_interval(18, 20, 5, 12))
    # one agent alone: nothing to compare with, so no verdict either way however large the plain change
    assert r["comparison_agents"] == 0 and np.isnan(r["effect"]) and {r["verdict"], s["verdict"]} == {"not enough evidence"}


def test_windows_and_verdicts():
    # the re-check days themselves count for neither window
    actions, answers = _synthetic(["no"] * 3, ["yes"] * 3, recheck=5)
    answers.loc[len(answers)] = ["KR", "A1", "greeting", "yes", "random", pd.Timestamp("2026-06-03")]
    r = before_after(actions, answers).iloc[0]
    assert (r["before_n"], r["after_n"]) == (3, 3) and str(r["recheck_on"]) == "2026-06-06"
    assert before_after(*_synthetic(["yes"] * 8 + ["no"] * 2, ["yes"] * 8 + ["no"] * 2)).iloc[0]["verdict"] == "not enough evidence"
    none = before_after(*_synthetic(["yes"] * 8, [])).iloc[0]
    assert none["after_n"] == 0 and np.isnan(none["after_rate"]) and none["verdict"] == "not enough evidence"


# ------------------------------------------------------------------------- against a comparison
CREATED = pd.Timestamp("2026-06-01")


def _centre(counts: dict, coached=("A00",), items="x"):
    """A center from exact counts: per agent, per (window, item), (failures, answers), spread over the window's days."""
    rows = []
    for agent, cells in counts.items():
        for (window, item), (fails, n) in cells.items():
            start = CREATED - pd.Timedelta(days=59) if window == "before" else CREATED + pd.Timedelta(days=3)
            rows.append(pd.DataFrame({"agent_id": agent, "item_id": item, "answer": ["no"] * fails + ["yes"] * (n - fails),
                                      "handled_at": start + pd.to_timedelta(np.arange(n) % 55, unit="D"), "arm": "random"}))
    answers = pd.concat(rows, ignore_index=True)
    actions = pd.DataFrame({"action_id": [f"CA{i}" for i in range(len(coached))], "agent_id": list(coached), "coach": "Q1",
                            "created_on": str(CREATED.date()), "items": items, "recheck_after_days": 3})
    return actions, answers


def _steady(n_agents=30, baseline=lambda j: 10):
    """Uncoached agents: item x fails ``baseline(j)`` of 100 before and 10 of 100 after; item y 10 of 100 in both windows."""
    return {f"B{j:02d}": {("before", "x"): (baseline(j), 100), ("after", "x"): (10, 100), ("before", "y"): (10, 100),
                          ("after", "y"): (10, 100)} for j in range(n_agents)}


def _judge(coached_cells, n_agents=30, baseline=lambda j: 10, **kw):
    counts = {"A00": coached_cells, **_steady(n_agents, baseline)}
    return before_after(*_centre(counts), **kw).iloc[0]


def test_tenure_drift_is_not_coaching():
    """A new agent improving on every item (tenure): the plain before/after says improved, the comparison does not."""
    r = _judge({("before", "x"): (160, 400), ("after", "x"): (40, 400), ("before", "y"): (160, 400), ("after", "y"): (40, 400)})
    assert r["diff_low"] > 0.2  # the old rule's "improved"
    assert r["fail_ratio"] == pytest.approx(1, abs=0.05) and r["ratio_low"] < 1 < r["ratio_high"] and r["verdict"] != "improved"
    assert r["comparison_agents"] == 30 and r["expected_after_rate"] == pytest.approx(0.9, abs=0.01)
    # the same drift plus coaching that halves the coached item's failures: found, with the size of the effect
    r = _judge({("before", "x"): (160, 400), ("after", "x"): (20, 400), ("before", "y"): (160, 400), ("after", "y"): (40, 400)})
    assert r["verdict"] == "improved" and r["fail_ratio"] == pytest.approx(0.5, abs=0.05) and r["ratio_high"] < 1
    assert r["effect"] == pytest.approx(0.05, abs=0.005) and r["effect_low"] > 0


def test_regression_to_the_mean_is_in_the_comparison():
    """Chosen for a bad spell on x (40 of 100), back to the usual 10 after: uncoached agents with high baselines come back
    too, so the baseline-adjusted comparison sees no effect; the plain before/after calls it improved."""
    spread = lambda j: 4 + 3 * (j % 13)  # noqa: E731  baselines 4 … 40 of 100, all back to 10 of 100 after
    cells = {("before", "x"): (40, 100), ("after", "x"): (10, 100), ("before", "y"): (10, 100), ("after", "y"): (10, 100)}
    r = _judge(cells, baseline=spread)
    assert r["diff_low"] > 0 and r["verdict"] != "improved"
    assert r["fail_ratio"] == pytest.approx(1, abs=0.1) and r["p_improved"] > 0.3
    # a real effect from that bad spell is still seen when it is large enough
    r = _judge({**cells, ("after", "x"): (15, 400), ("after", "y"): (40, 400)}, baseline=spread)
    assert r["verdict"] == "improved" and r["ratio_high"] < 1


def test_the_tenure_band_is_matched_when_it_can_be():
    """After the re-check new hires fail x twice as often relative to y as veterans do (their baseline showed nothing); a
    coached new hire like the uncoached new hires is no change once the band is matched, a worsening when it is not."""
    counts = {"A00": {("before", "x"): (10, 100), ("after", "x"): (20, 100), ("before", "y"): (10, 100), ("after", "y"): (10, 100)},
              **_steady()}
    counts.update({f"N{j}": counts["A00"] for j in range(5)})
    actions, answers = _centre(counts)
    hired = pd.DataFrame({"agent_id": sorted(counts), "hire_date": ["2026-05-04" if a[0] in "AN" else "2020-01-01" for a in sorted(counts)]})
    matched = before_after(actions, answers, agents=hired).iloc[0]
    unmatched = before_after(actions, answers).iloc[0]
    assert matched["fail_ratio"] == pytest.approx(1, abs=0.05) and unmatched["fail_ratio"] > 1.4
    assert matched["comparison_agents"] == unmatched["comparison_agents"] == 35
    # fewer than MIN_BAND uncoached new hires: the band is not adjusted for
    few = hired[~hired["agent_id"].isin(["N0", "N1", "N2"])]
    two = answers[~answers["agent_id"].isin(["N0", "N1", "N2"])]
    assert before_after(actions, two, agents=few).iloc[0]["fail_ratio"] == pytest.approx(before_after(actions, two).iloc[0]["fail_ratio"])
    with pytest.raises(ParameterError, match=r"agents must have columns \['agent_id', 'hire_date'\]; missing \['hire_date'\]"):
        before_after(actions, answers, agents=hired.drop(columns="hire_date"))
    with pytest.raises(ParameterError, match="agents.hire_date must hold dates like 2026-10-31; got 'soon'"):
        before_after(actions, answers, agents=hired.assign(hire_date="soon"))


def test_many_actions_share_one_false_discovery_rate():
    """Several actions on one page: Benjamini–Hochberg q-values, "improved" only at q ≤ 2.5 %, a programme of one action
    is that action's judgement; coached agents are never each other's comparison."""
    counts = _steady()
    for j in range(6):  # six coached agents, the first three with a real effect
        after_x = (12, 600) if j < 3 else (60, 600)
        counts[f"A{j:02d}"] = {("before", "x"): (60, 600), ("after", "x"): after_x, ("before", "y"): (60, 600), ("after", "y"): (60, 600)}
    actions, answers = _centre(counts, coached=[f"A{j:02d}" for j in range(6)])
    actions["coach"] = [f"Q{j}" for j in range(6)]  # six programmes of one action each
    res = before_after(actions, answers)
    per, prog = res[res["level"] == "action"], res[res["level"] == "programme"]
    assert (per["q_improved"] >= per["p_improved"] - 1e-12).all() and (per["comparison_agents"] == 30).all()
    assert list(per["verdict"]) == ["improved"] * 3 + ["not yet"] * 3
    assert (per["verdict"] == "improved").eq(per["q_improved"] <= 0.025).all()
    assert prog.set_index("programme")["q_improved"].equals(per.set_index("programme")["q_improved"].reindex(prog["programme"]))
    assert list(res.columns) == COLUMNS
    assert "2.5%" in FDR_SENTENCE["zh"].format(rate=0.025) and "2.5%" in FDR_SENTENCE["en"].format(rate=0.025)


def test_validity_part_small_seeded_run():
    """The harness part (benchmarks/validity_parts/coaching.py) on 3 simulated centers per scenario: the contract's keys,
    the old rule fooled by tenure drift, the comparison not."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.validity_parts import coaching as part

    rows = part.rows(draws=3, seed=7)
    assert all(set(r) == {"analysis", "scenario", "measure", "target", "value", "ok", "draws", "note"} for r in rows)
    get = {(r["scenario"], r["measure"]): r["value"] for r in rows}
    tenure = "no effect, tenure drift, new hires coached"
    assert get[tenure, "share declared improved, programmes, old before/after"] >= 0.5
    assert get[tenure, "share declared improved, programmes, against the comparison"] == 0
    nulls = [r for r in rows if r["target"] == "≤ 5 %"]
    assert len(nulls) >= 5 and all(r["value"] <= 0.1 for r in nulls)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(before_days=0), "before_days must be a whole number ≥ 1; got 0"),
        (dict(meaningful=5), "meaningful must be a pass-rate difference between 0 and 1"),
        (dict(as_of="soon"), "as_of must be a date like 2026-10-31; got 'soon'"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        before_after(*_synthetic(["yes"], ["no"]), **kwargs)


def test_bad_frames():
    actions, answers = _synthetic(["yes"], ["no"])
    with pytest.raises(ParameterError, match=r"answers must have columns .* missing \['arm'\]"):
        before_after(actions, answers.drop(columns="arm"))
    with pytest.raises(ParameterError, match="actions.items must name at least one item; empty for \\['CA1'\\]"):
        before_after(actions.assign(items=" , "), answers)
    with pytest.raises(ParameterError, match="one row per action_id; repeated: \\['CA1'\\]"):
        before_after(pd.concat([actions, actions]), answers)
    assert split_items(" needs_analysis, confirmation,needs_analysis ") == ["needs_analysis", "confirmation"]


# ------------------------------------------------------------------------------- open actions
def test_open_and_overdue_per_supervisor(loaded_store):
    actions, agents = loaded_store.read("coaching_actions"), loaded_store.read("agents")
    pl = planted()
    end = open_actions(actions, agents, "2026-10-31")
    assert list(end["action_id"]) == ["CA0008", "CA0007"]  # most overdue first
    sup = agents.set_index("agent_id")["supervisor"]
    assert (end["supervisor"] == end["agent_id"].map(sup)).all()
    late = end.iloc[0]
    assert late["agent_id"] == pl["overdue_action_agent"] and late["overdue"] and late["days_overdue"] == 19
    assert end.iloc[1]["agent_id"] == pl["open_action_agent"] and not end.iloc[1]["overdue"] and end.iloc[1]["recheck_due"]
    summary = open_summary(end)
    assert summary[summary["by"] == "supervisor"][["open", "overdue", "max_days_overdue"]].sum().tolist() == [2, 1, 19]
    assert set(summary.loc[summary["by"] == "coach", "name"]) == set(end["coach"])
    # replayed for a past day: the new hires' actions were open (closed on 06-18), overdue after 06-15
    june = open_actions(actions, agents, "2026-06-16")
    assert set(june["agent_id"]) == set(pl["new_hires"]) and (june["days_overdue"] == 1).all()
    assert open_actions(actions, agents, "2026-05-31").empty
    assert open_actions(actions, agents, "2026-12-01")["overdue"].all()
    with pytest.raises(ParameterError, match="as_of must be a date"):
        open_actions(actions, agents, "next week")
