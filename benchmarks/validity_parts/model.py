"""The quality model's agent and item verdicts (qa_lib.quality.fit_quality), judged on fresh draws from the generator.

The center is the sample center of ``qa samples`` (60 agents, 3 teams, 6 inspectors, 6 random inbound calls per agent
a month); each draw gives it fresh calls and fresh scorings (``qa_lib.samples.scoring_draw``) and the model is fitted on
the last three months, as the monthly reports do. The truth each verdict is judged against is the agent's expected
score this month with an inspector drawn as the center draws them (1,500 calls per agent scored on the card), and each
item's expected pass rate.

Two worlds: the sample center with every planted effect (``Effects()``: agents differ, a weak agent on one item, new
hires improving, a lenient and a strict inspector, an ambiguous item, coaching) and a null center (``NULL_EFFECTS``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qa_lib.quality import fit_quality
from qa_lib.rubric import score
from qa_lib.samples import NULL_EFFECTS, Effects, SampleSpec, _load_cards, planted, scoring_draw

SPEC = SampleSpec()
TARGET, ITEM_TARGET = 80.0, 0.85


def _card():
    return _load_cards()["inbound_service"]


def truth(effects: Effects, calls: int = 1500, seed: int = 10_000) -> tuple[pd.Series, pd.DataFrame]:
    """Each agent's expected score this month and each agent × item expected pass rate (yes among yes/partial/no)."""
    card = _card()
    d = scoring_draw(SPEC, effects, months=1, calls=calls, seed=seed, every_agent=True)
    tot = score(card, d["answers"]).totals.set_index("evaluation_id")["total"]
    ev = d["evaluations"].assign(total=lambda e: e["evaluation_id"].map(tot))
    scores = ev.groupby("agent_id")["total"].mean()
    a = d["answers"][d["answers"]["answer"].isin(["yes", "partial", "no"])].merge(ev[["evaluation_id", "agent_id"]], on="evaluation_id")
    items = a.assign(passed=a["answer"] == "yes").groupby(["agent_id", "item_id"])["passed"].mean().rename("true_rate").reset_index()
    return scores, items


def one_draw(effects: Effects, seed: int, months: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model's agent and item tables on one fresh draw."""
    card = _card()
    d = scoring_draw(SPEC, effects, months=months, seed=seed)
    ev = d["evaluations"].merge(d["agents"][["agent_id", "hire_date"]], on="agent_id")
    tot = score(card, d["answers"]).totals.set_index("evaluation_id")["total"]
    ev["total_score"] = ev["evaluation_id"].map(tot)
    fit = fit_quality(ev, d["answers"], card, target=TARGET, item_target=ITEM_TARGET, months=months, random_state=seed)
    return fit.agents, fit.items


def simulate(effects: Effects, draws: int, seed: int, months: int = 3) -> dict:
    """Coverage, false verdicts and power over ``draws`` fresh draws."""
    true_score, true_items = truth(effects)
    pl = planted(SPEC)
    cover, cover_below, any_false, false_missed, any_false_item, item_flags, item_false, fdp = [], [], [], [], [], 0, 0, []
    weak_found, width = [], []
    for r in range(draws):
        agents, items = one_draw(effects, seed * 100_000 + r, months)
        t = agents.assign(truth=agents["agent_id"].map(true_score))
        inside = (t["low"] <= t["truth"]) & (t["truth"] <= t["high"])
        cover.append(inside.to_numpy())
        cover_below.append(inside[t["truth"] < TARGET].to_numpy())
        wrong = (t["status"] == "missed") & (t["truth"] >= TARGET) | (t["status"] == "met") & (t["truth"] < TARGET)
        any_false.append(bool(wrong.any()))
        false_missed.append(int(((t["status"] == "missed") & (t["truth"] >= TARGET)).sum()))
        width.append((t["high"] - t["low"]).median())
        it = items.merge(true_items, on=["agent_id", "item_id"], how="left")
        flagged = it["status"] == "missed"
        false_flag = flagged & (it["true_rate"] >= ITEM_TARGET)
        item_flags += int(flagged.sum())
        item_false += int(false_flag.sum())
        fdp.append(false_flag.sum() / flagged.sum() if flagged.any() else 0.0)  # the month's false discovery proportion
        any_false_item.append(bool(false_flag.any()))
        weak = it[(it["agent_id"] == pl["weak_agent"]) & (it["item_id"] == pl["weak_item"])]
        weak_found.append(bool((weak["status"] == "missed").any()))
    cov = np.concatenate(cover)
    below = np.concatenate(cover_below) if any(len(c) for c in cover_below) else np.array([])
    return {"coverage": cov.mean(), "coverage_below": below.mean() if below.size else np.nan, "n_below": below.size / max(draws, 1),
            "any_false_agent": np.mean(any_false), "false_missed_per_month": np.mean(false_missed),
            "item_fdr": float(np.mean(fdp)), "item_flags_per_month": item_flags / draws,
            "any_false_item": np.mean(any_false_item), "weak_power": np.mean(weak_found), "width": float(np.median(width))}


#: Why a target is not met (docs/validity.md), keyed by the start of the row's measure.
WHY = {
    "coverage of 95 % intervals": (
        "In the planted center the intervals are a little too narrow for the agents who differ most from their team (the "
        "best ones most: their upper ends fall short); in the null center they are a little too wide. Both come from σ, "
        "the spread between agents: with 6 calls a month the data hold little of it (the agents' failure counts vary "
        "only ~1.5 times as much as pure chance would make them), σ's posterior is wide, and averaging over it shrinks "
        "real differences too much (planted) and keeps some room for differences that are not there (null: conservative, "
        "never too narrow). Measured in this session: the roll-up's Monte Carlo error, 0.6–2.1 points per agent with "
        "the same shift for every draw, is now removed by control variates (coverage 91.2 % → 92.2 % planted; the null "
        "rose from 97.0 % to 98.7 % because the random shifts had been spreading the intervals' centres); an additive "
        "slip term per inspector and per item fitted by EM was tried and dropped: at 6 calls it recovers 9–24 % of the "
        "planted slips (about 40 % of recorded failures) and lowered coverage (92.7 % against 93.8 % without it, 20 "
        "draws each). More calls per agent, or σ estimated from a longer history than the 3 months scored, is what "
        "would narrow the gap."),
    "coverage for agents truly below target": (
        "About one agent a month is truly below target (the late hire, 3 calls); the rate rests on that one agent's draws."),
    "planted weak agent flagged": (
        "Out of reach at 18 answers with any control of false flags. The weak agent fails the identity check about 48 % "
        "of the time over the 3 months (55 % planted, the lenient inspector and the coaching action in the last month "
        "take some away). A single one-sided exact test at 5 % with no correction would find it 93 % of the time; "
        "Benjamini–Hochberg over 540 agent × item cells with a few flags a month needs p ≈ 10⁻⁴, i.e. at least 10 "
        "failures in 18 answers: 34 % (binomial arithmetic; 43 % measured). 30 answers give 63–76 %, 36 give 72–82 %: "
        "6 months pooled, or extra calls for an agent whose cell straddles the target (`qa sample --adaptive`), is what "
        "buys 80 %. The training-needs page, whose list tests fewer cells, finds this agent in 87 % of draws."),
}

#: Draws for docs/validity.md (benchmarks/validity.py without --draws).
DRAWS = 100


def rows(draws: int = 200, seed: int = 0) -> list[dict]:
    out = []
    for name, effects in (("sample center (all effects)", Effects()), ("null center", NULL_EFFECTS)):
        r = simulate(effects, draws, seed)
        note = f"median interval width {r['width']:.1f} points"
        out += [
            dict(analysis="agent score interval", scenario=name, measure="coverage of 95 % intervals", target="93–97 %",
                 value=r["coverage"], ok=0.93 <= r["coverage"] <= 0.97, draws=draws, note=note),
            dict(analysis="agent verdict", scenario=name, measure="months with any wrong agent verdict (family-wise, Holm)",
                 target="≤ 5 %", value=r["any_false_agent"], ok=r["any_false_agent"] <= 0.05, draws=draws, note=""),
            dict(analysis="item verdict", scenario=name, measure="false discovery rate of 'missed' item flags (mean share false, 0 in a month without flags; BH)",
                 target="≤ 5 %", value=r["item_fdr"], ok=r["item_fdr"] <= 0.05, draws=draws,
                 note=f"{r['item_flags_per_month']:.1f} flags a month"),
        ]
        if effects == Effects():
            out.append(dict(analysis="agent score interval", scenario=name, measure="coverage for agents truly below target",
                            target="≥ 90 %", value=r["coverage_below"], ok=r["coverage_below"] >= 0.90, draws=draws,
                            note=f"{r['n_below']:.1f} agents below target a month"))
            out.append(dict(analysis="item verdict", scenario=name, measure="planted weak agent flagged on the weak item, 3 months pooled",
                            target="≥ 80 %", value=r["weak_power"], ok=r["weak_power"] >= 0.80, draws=draws, note=""))
    return out


if __name__ == "__main__":
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for name, eff in (("planted", Effects()), ("null", NULL_EFFECTS)):
        print(name, simulate(eff, n, 0))
