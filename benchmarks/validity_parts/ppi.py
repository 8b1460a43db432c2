"""Prediction-powered team estimates (qa_lib.stats.ppi), the auto-QA acceptance gate and its drift check
(qa_lib.autoqa.gate), judged on simulated months of a center.

**PPI.** One simulated month: 3 teams of 6–10 agents, each agent with 150–450 inbound calls (so the inclusion
probabilities of the human arm differ 3-fold between agents), every call answered on the sample scorecard
``inbound_service`` (its 10 items; ``escalation_handling`` applies on 10 % of calls, N/A elsewhere). The true outcome
of a call follows the agent's skill (item base pass rates 0.70–0.95, agent logit shift sd 0.5); the human answer is
the outcome recorded by an inspector with 5 % random answers; the automatic answer comes from one of three scorers —
*good* (the outcome with 10 % random answers: ~88 % agreement with the human), *useless* (a random answer drawn from
the item's overall answer shares, independent of the call), *biased* (the good scorer, then 60 % of its non-yes
answers turned into yes). The human arm is 6 calls per agent drawn at random (stratified by agent, inclusion
probability 6 / N_a; weight N_a / 6). Targets: the team × item pass rate (share "yes" among the calls where the item
applies) and the team mean score (``qa_lib.rubric.score`` on the card), the mean over all the team's calls of the
human answer each call would get. Coverage of the 95 % PPI intervals, their width against the human-only (weighted)
interval, and the effective n.

**Gate.** One item, yes/no, 85 % yes; inspectors and the expert record the truth with a random answer 10 % (expert
2 %) of the time; 48 calibration calls scored by 5 inspectors + the expert (6 months of the sample's sessions); a
held-out random arm of n calls each scored by one inspector. The scorer answers at random ``e`` of the time: *as
good as an inspector* (e = 0.10) or *worse by exactly the margin* (e chosen so that the population AC1 of scorer vs
inspector is 0.10 below inspector vs inspector). **Drift**: an accepted item's AC1 level from a 300-call acceptance
sample (with its bootstrap sd), then 6 months × 8 items × 360 random-arm calls; nothing changes (false flags per
item-month) or one item's scorer breaks from month 4 (e 0.10 → 0.40; detection per month).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from qa_lib.autoqa.gate import _auto_side, drift, gate
from qa_lib.rubric import score
from qa_lib.samples import _load_cards
from qa_lib.stats.ppi import ppi_means

#: Draws for docs/validity.md (benchmarks/validity.py without --draws): PPI months per scorer; the gate's acceptance
#: rates use 2.5 × this many draws, its false-acceptance rate 5 × (500), the drift check ½ × (months of 8 items).
DRAWS = 100
WHY: dict[str, str] = {
    "coverage of 95 % intervals": (
        "Too wide, not too narrow (team mean score, useless scorer: PPI++ sets λ ≈ 0, so this is the weighted human-only "
        "interval, 99.0 % here). ppi_py's weighted standard error sd(w·Y)/√n is the with-replacement variance of a "
        "Horvitz–Thompson total: with design weights that differ 3-fold between agents it counts the spread of the "
        "weights times the mean score (~80 points). The location-invariant (Hájek) form was tried: at n ≈ 48 a team with "
        "skewed scores (critical items zero a call) its normal intervals covered 90–93 % (40 draws) — too narrow, so the "
        "conservative form was kept. A stratified (per-agent) variance with a small-sample t correction is the fix to try."),
    "share accepted": (
        "The inspectors' side is the bottleneck: 48 calibration calls (6 months of 8) give their AC1 a bootstrap sd of "
        "about 0.03–0.04, so the difference's one-sided bound sits ~0.07 below the estimate even with many held-out "
        "calls (300 held-out calls: 69.6 %, 500: 78.4 %). More calibration calls per month, or pooling a longer "
        "calibration history, buys the power; the false-acceptance rate at the margin is 4.0 % (500 draws)."),
}

SCORERS = ("good", "useless", "biased")
CALLS_PER_AGENT = 6


def _card():
    return _load_cards()["inbound_service"]


# ----------------------------------------------------------------------------------------------- PPI month
def center_month(scorer: str, seed: int) -> dict[str, pd.DataFrame]:
    """One month of a simulated center: every call's human answer (as if scored), automatic answer, team and agent,
    and the random arm (6 calls per agent, weight N_a / 6). Returns ``calls`` (long: contact_id, item_id, human, auto,
    applies), ``totals`` (contact_id, team, human_total, auto_total, sampled, weight)."""
    if scorer not in SCORERS:
        raise ValueError(f"scorer must be one of {SCORERS}; got {scorer!r}")
    card = _card()
    rng = np.random.default_rng([seed, 7])
    n_agents = rng.integers(6, 11, size=3)
    team = np.repeat(np.array(["T1", "T2", "T3"]), n_agents)
    volume = rng.integers(150, 451, size=team.size)
    agent = np.repeat(np.arange(team.size), volume)
    n = agent.size
    shift = rng.normal(0, 0.5, team.size)[agent]
    cid = np.char.add("C", np.arange(n).astype(str))
    escal = rng.random(n) < 0.10
    items = [it for it in card.items]
    base = np.linspace(0.70, 0.95, len(items))
    rng.shuffle(base)
    truth, human, auto = {}, {}, {}
    for k, it in enumerate(items):
        opts = np.array([o for o in it.options if o != "na"], dtype=object)
        p = 1 / (1 + np.exp(-(np.log(base[k] / (1 - base[k])) + shift)))
        if it.bonus:
            p = 1 / (1 + np.exp(-(np.log(0.15 / 0.85) + shift)))
        u = rng.random(n)
        t = np.where(u < p, "yes", np.where((opts.size == 3) & (u < p + (1 - p) / 2), "partial", "no")).astype(object)
        rand_h = rng.choice(opts, n)
        h = np.where(rng.random(n) < 0.05, rand_h, t)
        if scorer == "useless":
            shares = pd.Series(h).value_counts(normalize=True)
            a = rng.choice(shares.index.to_numpy(dtype=object), n, p=shares.to_numpy())
        else:
            a = np.where(rng.random(n) < 0.10, rng.choice(opts, n), t)
            if scorer == "biased":
                a = np.where((a != "yes") & (rng.random(n) < 0.6), "yes", a)
        if it.when is not None:
            h, a = np.where(escal, h, "na"), np.where(escal, a, "na")
        truth[it.id], human[it.id], auto[it.id] = t, h, a
    ids = np.repeat(cid, len(items))
    long = pd.DataFrame({"contact_id": ids, "item_id": np.tile([it.id for it in items], n),
                         "human": np.stack([human[it.id] for it in items], axis=1).ravel(),
                         "auto": np.stack([auto[it.id] for it in items], axis=1).ravel()})
    tot_h = score(card, long.rename(columns={"contact_id": "evaluation_id", "human": "answer"})).totals.set_index("evaluation_id")["total"]
    tot_a = score(card, long.rename(columns={"contact_id": "evaluation_id", "auto": "answer"})).totals.set_index("evaluation_id")["total"]
    # the random arm: 6 calls per agent without replacement (a random key, the 6 smallest per agent)
    key = rng.random(n)
    order = np.lexsort((key, agent))
    rank = np.empty(n, int)
    rank[order] = np.arange(n) - np.searchsorted(agent[order], agent[order])
    sampled = rank < CALLS_PER_AGENT
    totals = pd.DataFrame({"contact_id": cid, "team": team[agent], "agent": agent, "human_total": tot_h.reindex(cid).to_numpy(),
                           "auto_total": tot_a.reindex(cid).to_numpy(), "sampled": sampled,
                           "weight": volume[agent] / CALLS_PER_AGENT})
    long = long.merge(totals[["contact_id", "team", "sampled", "weight"]], on="contact_id")
    long["applies"] = long["human"] != "na"
    return {"calls": long, "totals": totals}


def ppi_month(scorer: str, seed: int) -> pd.DataFrame:
    """PPI and human-only estimates of one month with the truth: team × item pass rates and team mean scores."""
    d = center_month(scorer, seed)
    c = d["calls"][d["calls"]["applies"] & (d["calls"]["item_id"] != "escalation_handling")]
    c = c.assign(y=(c["human"] == "yes").astype(float), yhat=(c["auto"] == "yes").astype(float))
    rates = ppi_means(c[c["sampled"]], c, value="y", prediction="yhat", by=["team", "item_id"], weight="weight")
    rates = rates.merge(c.groupby(["team", "item_id"])["y"].mean().rename("truth").reset_index(), on=["team", "item_id"])
    t = d["totals"]
    scores = ppi_means(t[t["sampled"]], t, value="human_total", prediction="auto_total", by="team", weight="weight")
    scores = scores.merge(t.groupby("team")["human_total"].mean().rename("truth").reset_index(), on="team")
    return pd.concat([rates.assign(kind="pass rate"), scores.assign(kind="mean score", item_id="")], ignore_index=True)


def ppi_sim(scorer: str, draws: int, seed: int) -> dict:
    """Coverage and width over ``draws`` months."""
    res = pd.concat([ppi_month(scorer, seed * 100_000 + r) for r in range(draws)], ignore_index=True)
    out = {}
    for kind, g in res.groupby("kind"):
        cover = ((g["lo"] <= g["truth"]) & (g["truth"] <= g["hi"])).mean()
        c_cover = ((g["classical_lo"] <= g["truth"]) & (g["truth"] <= g["classical_hi"])).mean()
        out[kind] = {"coverage": float(cover), "classical_coverage": float(c_cover), "width_ratio": float(g["width_ratio"].median()),
                     "n_eff_gain": float((g["n_effective"] / g["n"]).median()), "n": float(g["n"].median()), "N": float(g["N"].median()),
                     "rows": len(g)}
    return out


# ----------------------------------------------------------------------------------------------- gate
P_YES, E_INSPECTOR, E_EXPERT, CAL_CALLS, CAL_INSPECTORS = 0.85, 0.10, 0.02, 48, 5


def _pop_ac1(e1: float, e2: float, p: float = P_YES) -> float:
    """Population AC1 of two raters on a yes/no item who answer at random (50/50) with probabilities e1, e2."""
    s1, s2 = 1 - e1 / 2, 1 - e2 / 2
    pa = s1 * s2 + (1 - s1) * (1 - s2)
    pi = (p * s1 + (1 - p) * (1 - s1) + p * s2 + (1 - p) * (1 - s2)) / 2
    pe = 2 * pi * (1 - pi)
    return (pa - pe) / (1 - pe)


def e_worse(margin: float = 0.10) -> float:
    """The scorer's random-answer rate that puts AC1(scorer, inspector) exactly ``margin`` below AC1(inspector, inspector)."""
    target = _pop_ac1(E_INSPECTOR, E_INSPECTOR) - margin
    return float(optimize.brentq(lambda e: _pop_ac1(e, E_INSPECTOR) - target, E_INSPECTOR, 1.0))


def _record(truth: np.ndarray, e: float, rng) -> np.ndarray:
    return np.where(rng.random(truth.size) < e, rng.choice(np.array(["yes", "no"], dtype=object), truth.size), truth)


def gate_draw(e_auto: float, n: int, seed: int, *, n_boot: int = 1000, margin: float = 0.10) -> pd.Series:
    """One gate verdict on a fresh draw (inspector reference: the held-out calls are scored by single inspectors)."""
    rng = np.random.default_rng([seed, 19])
    yes = np.array(["yes", "no"], dtype=object)
    truth = yes[(rng.random(n) >= P_YES).astype(int)]
    ids = np.char.add("H", np.arange(n).astype(str))
    insp = rng.choice(np.array([f"I{j}" for j in range(1, CAL_INSPECTORS + 1)], dtype=object), n)
    human = pd.DataFrame({"contact_id": ids, "item_id": "item_a", "answer": _record(truth, E_INSPECTOR, rng), "inspector_id": insp})
    auto = pd.DataFrame({"contact_id": ids, "item_id": "item_a", "answer": _record(truth, e_auto, rng)})
    ct = yes[(rng.random(CAL_CALLS) >= P_YES).astype(int)]
    cids = np.char.add("K", np.arange(CAL_CALLS).astype(str))
    cal = pd.concat([pd.DataFrame({"contact_id": cids, "item_id": "item_a", "inspector_id": f"I{j}",
                                   "answer": _record(ct, E_INSPECTOR if j else E_EXPERT, rng)}) for j in range(CAL_INSPECTORS + 1)],
                    ignore_index=True).replace({"inspector_id": {"I0": "X"}})
    return gate(auto, human, cal, expert="X", margin=margin, n_boot=n_boot, random_state=seed).iloc[0]


def gate_sim(e_auto: float, n: int, draws: int, seed: int) -> float:
    """Share of ``draws`` fresh draws in which the item is accepted."""
    return float(np.mean([bool(gate_draw(e_auto, n, seed * 100_000 + r)["accepted"]) for r in range(draws)]))


def drift_sim(draws: int, seed: int, *, break_at: int = 3, e_broken: float = 0.40, months: int = 6, items: int = 8,
              n_month: int = 360, n_accept: int = 300) -> dict:
    """False drift flags per item-month when nothing changes, and the detection rate of one broken item."""
    yes = np.array(["yes", "no"], dtype=object)
    false_flags, tested, detected, broken_months = 0, 0, 0, 0
    for r in range(draws):
        rng = np.random.default_rng([seed, 23, r])
        level, se = {}, {}
        for j in range(items):  # the acceptance sample gives each item its level and the level's sd
            truth = yes[(rng.random(n_accept) >= P_YES).astype(int)]
            ids = np.char.add(f"A{j}_", np.arange(n_accept).astype(str))
            h = pd.DataFrame({"contact_id": ids, "item_id": f"item_{j}", "answer": _record(truth, E_INSPECTOR, rng), "inspector_id": "I1"})
            a = pd.DataFrame({"contact_id": ids, "item_id": f"item_{j}", "answer": _record(truth, E_INSPECTOR, rng)})
            lk = pd.Index(["yes", "no"])
            s = _auto_side(lk.get_indexer(a["answer"]), lk.get_indexer(h["answer"]), ids, 2, 500, rng)
            level[f"item_{j}"], se[f"item_{j}"] = s["ac1"], float(np.std(s["b_ac1"], ddof=1))
        mon_h, mon_a, mon = [], [], {}
        for m in range(months):
            for j in range(items):
                truth = yes[(rng.random(n_month) >= P_YES).astype(int)]
                ids = np.char.add(f"M{m}_{j}_", np.arange(n_month).astype(str))
                e = e_broken if (j == 0 and m >= break_at) else E_INSPECTOR
                mon_h.append(pd.DataFrame({"contact_id": ids, "item_id": f"item_{j}", "answer": _record(truth, E_INSPECTOR, rng)}))
                mon_a.append(pd.DataFrame({"contact_id": ids, "item_id": f"item_{j}", "answer": _record(truth, e, rng)}))
                mon.update(dict.fromkeys(ids, f"2026-{m + 1:02d}"))
        out = drift(pd.concat(mon_a), pd.concat(mon_h), pd.Series(mon), accepted_level=level, accepted_se=se)
        mi = out["month"].str[-2:].astype(int) - 1
        healthy = ~((out["item_id"] == "item_0") & (mi >= break_at))
        false_flags += int(out.loc[healthy, "drifted"].sum())
        tested += int(healthy.sum())
        br = out[~healthy]
        detected += int(br["drifted"].sum())
        broken_months += len(br)
    return {"false_flag_rate": false_flags / tested, "detection": detected / broken_months if broken_months else np.nan,
            "item_months": tested}


# ----------------------------------------------------------------------------------------------- rows
def rows(draws: int = 200, seed: int = 0) -> list[dict]:
    out = []
    for scorer in SCORERS:
        r = ppi_sim(scorer, draws, seed)
        for kind, what in (("pass rate", "team × item pass rate"), ("mean score", "team mean score")):
            v = r[kind]
            note = (f"human-only (weighted) coverage {v['classical_coverage']:.1%}; median PPI/human-only width {v['width_ratio']:.2f}, "
                    f"effective n × {v['n_eff_gain']:.2f} (median n {v['n']:.0f} of N {v['N']:.0f} calls); {v['rows']} intervals")
            out.append(dict(analysis=f"prediction-powered {what}", scenario=f"{scorer} scorer", measure="coverage of 95 % intervals",
                            target="93–97 %", value=v["coverage"], ok=0.93 <= v["coverage"] <= 0.97, draws=draws, note=note))
            if scorer == "good":
                out.append(dict(analysis=f"prediction-powered {what}", scenario="good scorer", measure="median width, PPI / human-only",
                                target="< 100 %", value=v["width_ratio"], ok=v["width_ratio"] < 1.0, draws=draws,
                                note=f"effective sample size × {v['n_eff_gain']:.2f}"))
            if scorer == "useless":
                out.append(dict(analysis=f"prediction-powered {what}", scenario="useless scorer", measure="median width, PPI / human-only",
                                target="≤ 105 %", value=v["width_ratio"], ok=v["width_ratio"] <= 1.05, draws=draws,
                                note="PPI++ tunes λ toward 0: a useless scorer costs (almost) nothing"))
    g_draws, fa_draws, d_draws = int(2.5 * draws), 5 * draws, max(draws // 2, 4)
    for n in (300, 500):
        acc = gate_sim(E_INSPECTOR, n, g_draws, seed)
        out.append(dict(analysis="auto-QA acceptance gate", scenario=f"scorer as good as an inspector, {n} held-out calls, 48 calibration calls",
                        measure="share accepted", target="≥ 80 %" if n == 500 else "", value=acc, ok=acc >= 0.80 if n == 500 else None,
                        draws=g_draws, note="margin 0.10 in AC1; inspector reference"))
    e_w = e_worse()
    fa = gate_sim(e_w, 500, fa_draws, seed + 1)
    out.append(dict(analysis="auto-QA acceptance gate", scenario="scorer worse by exactly the margin (0.10 AC1), 500 held-out calls",
                    measure="share accepted (false acceptance)", target="≤ 5 %", value=fa, ok=fa <= 0.05, draws=fa_draws,
                    note=f"scorer answers at random {e_w:.0%} of the time, inspectors 10 %"))
    d = drift_sim(d_draws, seed)
    out.append(dict(analysis="auto-QA drift check", scenario="nothing changes (8 items × 6 months, 360 calls a month)",
                    measure="false drift flags per item-month", target="≤ 5 %", value=d["false_flag_rate"], ok=d["false_flag_rate"] <= 0.05,
                    draws=d_draws, note=f"{d['item_months']} item-months tested; BH across items per month"))
    out.append(dict(analysis="auto-QA drift check", scenario="one scorer breaks (random answers 10 % → 40 %)",
                    measure="broken item-months flagged", target="≥ 80 %", value=d["detection"], ok=d["detection"] >= 0.80,
                    draws=d_draws, note="the item falls back to suggestions from its first flagged month"))
    return out


if __name__ == "__main__":
    import sys

    k = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for s in SCORERS:
        print(s, ppi_sim(s, k, 0))
