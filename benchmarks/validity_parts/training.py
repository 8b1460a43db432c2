"""Training needs and trend labels (issue #17 part 3): false flags, false-discovery rate and power, by simulation.

The world is the sample generator's (``qa_lib/samples.py``): 60 agents dealt round-robin into 3 teams, 6 random-arm
inbound calls per agent per month, each answering the inbound scorecard's items, which fail with the generator's base
rates ``ITEM_FAIL`` (``escalation_handling`` applies to the 6.8 % of calls escalated or transferred, as in the sample
evaluations). Recorded answers are the true ones (unbiased inspectors). Two centers:

* **null**: every agent equal, nothing planted — every flag is a false alarm, every trend label spurious (six months:
  the last three are the period, the three before give the trends);
* **planted**: the generator's weak agent (A017 fails ``identity_check``, base 0.07, at 0.55) and a team-wide
  weakness (the third team fails ``empathy`` twice as often, 0.20 instead of 0.10); all other agents equal. A flag is
  false when the unit's true failure rate is not above the true rate of the rest of the center.

The real functions judge each draw: :func:`qa_lib.training.failure_gaps` (individual: agent × item; team-wide:
team × item) and :func:`qa_lib.training.with_trend`. "Old" is the rule before issue #17 (a need when the shrunk
posterior ``p_gap ≥ 0.95``; a trend label when the row's own p < 0.05), computed from the same output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qa_lib import training as tr
from qa_lib.samples import ITEM_FAIL
from qa_lib.stats.fdr import exceed_test, q_values

ITEMS = ("greeting", "identity_check", "needs_analysis", "empathy", "correct_answer", "escalation_handling", "info_logged",
         "confirmation", "closing")
APPLIES = {"escalation_handling": 0.068}  # share of inbound calls an item applies to (others: every call)
AGENTS, TEAMS, CALLS = 60, 3, 6
WEAK_AGENT, WEAK_ITEM, WEAK_RATE = 16, "identity_check", 0.55  # A017, as samples.planted()
WEAK_TEAM, TEAM_ITEM, TEAM_FACTOR = 2, "empathy", 2.0

_IDS = np.array([f"A{i + 1:03d}" for i in range(AGENTS)])
_TEAM_NAMES = np.array([f"T{j + 1}" for j in range(TEAMS)])
_TEAM_OF = np.arange(AGENTS) % TEAMS


def truth(planted: bool) -> np.ndarray:
    """True failure probability per agent × item."""
    p = np.tile([ITEM_FAIL[i] for i in ITEMS], (AGENTS, 1)).astype(float)
    if planted:
        p[_TEAM_OF == WEAK_TEAM, ITEMS.index(TEAM_ITEM)] *= TEAM_FACTOR
        p[WEAK_AGENT, ITEMS.index(WEAK_ITEM)] = WEAK_RATE
    return p


def counts(rng: np.random.Generator, p: np.ndarray, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Answers and failures per agent × item × month."""
    share = np.array([APPLIES.get(i, 1.0) for i in ITEMS])
    n = rng.binomial(CALLS, np.broadcast_to(share[None, :, None], (AGENTS, len(ITEMS), months)))
    return n, rng.binomial(n, p[:, :, None])


def answers(n: np.ndarray, k: np.ndarray) -> pd.DataFrame:
    """One row per answer (``agent_id, team, item_id, skill, failed``) from agent × item counts, as fail_flags gives them."""
    a, i = np.meshgrid(np.arange(AGENTS), np.arange(len(ITEMS)), indexing="ij")
    a, i, n, k = a.ravel(), i.ravel(), n.ravel(), k.ravel()
    cell = np.repeat(np.arange(n.size), n)
    pos = np.arange(cell.size) - np.repeat(np.cumsum(n) - n, n)
    item = np.array(ITEMS)[i[cell]]
    return pd.DataFrame({"agent_id": _IDS[a[cell]], "team": _TEAM_NAMES[_TEAM_OF[a[cell]]], "item_id": item, "skill": item,
                         "failed": pos < k[cell]})


def summary(n: np.ndarray, k: np.ndarray, unit: str) -> pd.DataFrame:
    """Failures and answers per unit × item (what with_trend reads of the previous period)."""
    if unit == "team":
        n = np.stack([n[_TEAM_OF == j].sum(axis=0) for j in range(TEAMS)])
        k = np.stack([k[_TEAM_OF == j].sum(axis=0) for j in range(TEAMS)])
        ids = _TEAM_NAMES
    else:
        ids = _IDS
    u, i = np.meshgrid(np.arange(len(ids)), np.arange(len(ITEMS)), indexing="ij")
    return pd.DataFrame({unit: ids[u.ravel()], "item_id": np.array(ITEMS)[i.ravel()], "failures": k.ravel(), "n": n.ravel()})


def null_true(g: pd.DataFrame, p: np.ndarray, unit: str) -> np.ndarray:
    """Rows whose unit's true rate is not above the rest of the center's (a flag there is false)."""
    item = g["item_id"].map({x: j for j, x in enumerate(ITEMS)}).to_numpy()
    if unit == "agent_id":
        own = p[pd.Index(_IDS).get_indexer(g["agent_id"]), item]
        rest = (p[:, item].sum(axis=0) - own) / (AGENTS - 1)
    else:
        team = pd.Index(_TEAM_NAMES).get_indexer(g["team"])
        means = np.stack([p[_TEAM_OF == j].mean(axis=0) for j in range(TEAMS)])
        size = AGENTS // TEAMS
        own = means[team, item]
        rest = (p.mean(axis=0)[item] * AGENTS - own * size) / (AGENTS - size)
    return own <= rest + 1e-12


def old_need(g: pd.DataFrame) -> np.ndarray:
    """The rule before issue #17: the shrunk posterior P(gap real) ≥ 0.95."""
    return ((g["p_gap"] >= 0.95) & (g["gap"] > 0) & (g["failures"] > 0)).to_numpy(dtype=bool)


def _flags(g: pd.DataFrame, method: str = "bh", mid: bool = False) -> np.ndarray:
    """The need rule with another test or correction (for the comparison notes)."""
    rest = (g["center"] * g["center_n"]).round().to_numpy()
    q = q_values(exceed_test(g["failures"], g["n"], rest, g["center_n"], mid=mid), method)
    return ((q <= 0.05) & (g["rate"] > g["center"]) & (g["failures"] > 0)).to_numpy(dtype=bool)


def _null_draw(rng: np.random.Generator, acc: dict) -> None:
    """Six months of a null center: false needs (last three months) and spurious trend labels (against the three before)."""
    p = truth(False)
    n, k = counts(rng, p, 6)
    cur = answers(n[:, :, 3:].sum(axis=2), k[:, :, 3:].sum(axis=2))
    for unit, name in (("agent_id", "agent"), ("team", "team")):
        g = tr.failure_gaps(cur, unit=unit, level="item")
        t = tr.with_trend(g, summary(n[:, :, :3].sum(axis=2), k[:, :, :3].sum(axis=2), unit), unit=unit, key="item_id")
        seen = (t["prev_n"] > 0).to_numpy()
        _add(acc, f"null {name} new", g["need"].sum(), len(g))
        _add(acc, f"null {name} old", old_need(g).sum(), len(g))
        _add(acc, f"null {name} any new", float(g["need"].any()), 1)
        _add(acc, "trend new", t["trend"].isin(["improving", "worsening"]).sum(), seen.sum())
        _add(acc, "trend old", ((t["trend_p"] < 0.05) & seen).sum(), seen.sum())


def _planted_draw(rng: np.random.Generator, acc: dict) -> None:
    """Three months of the planted center: the share of false flags among the flags, and power on the planted needs."""
    p = truth(True)
    n, k = counts(rng, p, 3)
    flags = {"new": [], "old": [], "by": [], "mid": []}
    false = []
    for unit in ("agent_id", "team"):
        g = tr.failure_gaps(answers(n.sum(axis=2), k.sum(axis=2)), unit=unit, level="item")
        false.append(null_true(g, p, unit))
        for rule, f in (("new", g["need"].to_numpy(dtype=bool)), ("old", old_need(g)), ("by", _flags(g, "by")), ("mid", _flags(g, mid=True))):
            flags[rule].append(f)
            hit = (g[unit] == (_IDS[WEAK_AGENT] if unit == "agent_id" else _TEAM_NAMES[WEAK_TEAM])).to_numpy() \
                & (g["item_id"] == (WEAK_ITEM if unit == "agent_id" else TEAM_ITEM)).to_numpy()
            _add(acc, f"power {unit} 3 {rule}", float(f[hit].any()), 1)
    false = np.concatenate(false)
    for rule, f in flags.items():
        f = np.concatenate(f)
        _add(acc, f"fdr {rule}", (f & false).sum() / max(f.sum(), 1), 1)
    one = tr.failure_gaps(answers(n[:, :, 0], k[:, :, 0]), unit="agent_id", level="item")
    hit = ((one["agent_id"] == _IDS[WEAK_AGENT]) & (one["item_id"] == WEAK_ITEM)).to_numpy()
    _add(acc, "power agent_id 1 new", float(one["need"].to_numpy(dtype=bool)[hit].any()), 1)
    _add(acc, "power agent_id 1 old", float(old_need(one)[hit].any()), 1)


def _add(acc: dict, key: str, num: float, den: float) -> None:
    a = acc.setdefault(key, [0.0, 0.0])
    a[0] += float(num)
    a[1] += float(den)


#: Draws for docs/validity.md (benchmarks/validity.py without --draws).
DRAWS = 200


def rows(draws: int, seed: int) -> list[dict]:
    """The lines of docs/validity.md for training needs and trend labels (``draws`` simulated centers of each kind)."""
    rng = np.random.default_rng([seed, 17, 3])
    acc: dict = {}
    for _ in range(draws):
        _null_draw(rng, acc)
        _planted_draw(rng, acc)
    v = {key: a[0] / a[1] for key, a in acc.items()}

    def row(analysis, scenario, measure, target, value, ok, note=""):
        return {"analysis": analysis, "scenario": scenario, "measure": measure, "target": target, "value": float(value),
                "ok": ok, "draws": int(draws), "note": note}

    null, planted = "null center (all agents equal), 3 months", "weak agent + weak team, 3 months"
    return [
        row("team-wide training needs", null, "false flags per team × item check", "≤ 5 %", v["null team new"],
            bool(v["null team new"] <= 0.05), f"Before (posterior P(gap real) ≥ 0.95): {v['null team old']:.1%} of checks."),
        row("team-wide training needs", null, "centers with any false team-wide flag", "", v["null team any new"], None,
            "In a null center every flag is false, so this is the family-wise rate BH keeps at about 5 %."),
        row("individual training needs", null, "false flags per agent × item check", "", v["null agent new"], None,
            f"Before: {v['null agent old']:.2%} of checks ({v['null agent old'] * AGENTS * len(ITEMS):.1f} false needs a "
            f"period); now {v['null agent new'] * AGENTS * len(ITEMS):.2f}."),
        row("training needs (both lists)", planted, "share of flags that are false (FDR)", "≤ 5 %", v["fdr new"],
            bool(v["fdr new"] <= 0.05), f"Before: {v['fdr old']:.1%}. Benjamini–Yekutieli would give {v['fdr by']:.1%}, "
            f"BH on mid-p values {v['fdr mid']:.1%}."),
        row("individual training needs", "weak agent (0.55 vs 0.07), 1 month", "power: the weak agent flagged", "",
            v["power agent_id 1 new"], None, f"Before: {v['power agent_id 1 old']:.0%} (with many more false flags). "
            "6 answers are rarely enough evidence among 540 checks."),
        row("individual training needs", "weak agent (0.55 vs 0.07), 3 months", "power: the weak agent flagged", "",
            v["power agent_id 3 new"], None, f"Before: {v['power agent_id 3 old']:.0%}. Benjamini–Yekutieli: "
            f"{v['power agent_id 3 by']:.0%}; BH on mid-p values: {v['power agent_id 3 mid']:.0%} (not chosen: no guarantee)."),
        row("team-wide training needs", "weak team (0.20 vs 0.10), 3 months", "power: the weak team flagged", "",
            v["power team 3 new"], None, f"Before: {v['power team 3 old']:.0%}."),
        row("trend labels", "null center, 3 months vs the 3 before", "spurious improving / worsening labels per row", "≤ 5 %",
            v["trend new"], bool(v["trend new"] <= 0.05), f"Before (each row at p < 0.05): {v['trend old']:.1%} of rows."),
    ]
