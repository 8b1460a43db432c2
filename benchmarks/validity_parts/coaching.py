"""Coaching verdicts (issue #17 part 5): how often "improved" is declared when coaching does nothing, and when it works.

A center of 60 agents (the sample generator's truth model: item failure rates ``ITEM_FAIL`` on the inbound card,
each agent's lognormal skill factor with σ = 0.35 as ``_agent_skill`` draws it, new hires failing
``_tenure_factor`` times as often) gets 6 random-arm evaluations per agent per month, April to August 2026. On
2026-06-01 coaching actions are agreed (re-check after 3 days) and judged with :func:`qa_lib.coaching.before_after`
(60 days before, 60 days from the re-check) by the old rule (Newcombe interval of after − before above 0) and by the
comparison the verdict now comes from. Designs:

* new hires: six agents hired 2026-05-04 (four weeks before), coached together on ``confirmation, needs_analysis``
  (one programme) — their tenure drift lowers every failure rate;
* worst six: the six agents with the highest failure rate in May, each coached on its two most-failed items of May
  (ties: the items failing more often at the center) — regression to the mean;
* worst six, one programme: the same six coached together on ``confirmation, needs_analysis``.

Effects: none, or the generator's planted one (from the re-check date the coached agent fails the action's items
half as often).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qa_lib.coaching import before_after
from qa_lib.samples import ITEM_FAIL, _tenure_factor

AGENTS = 60
CALLS_PER_MONTH = 6
MONTHS = pd.period_range("2026-04", "2026-08", freq="M")
#: The inbound card's items (the sample's ``inbound_service``); escalation handling applies to escalated calls only.
ITEMS = ["greeting", "identity_check", "needs_analysis", "empathy", "correct_answer", "escalation_handling", "info_logged",
         "confirmation", "closing"]
ESCALATED = 0.15
SKILL_SIGMA = 0.35  # qa_lib.samples._agent_skill
HIRE = pd.Timestamp("2026-05-04")
CREATED = pd.Timestamp("2026-06-01")
RECHECK_DAYS = 3
PROGRAMME_ITEMS = ["confirmation", "needs_analysis"]
EFFECT = 0.5  # the planted coaching_factor

SCENARIOS = [  # (scenario, design, coaching factor)
    ("no effect, tenure drift, new hires coached", "new_hires", 1.0),
    ("no effect, worst six coached on their worst items", "worst_six", 1.0),
    ("no effect, worst six coached as one programme", "worst_six_programme", 1.0),
    ("coaching halves failures, new hires coached", "new_hires", EFFECT),
    ("coaching halves failures, worst six coached on their worst items", "worst_six", EFFECT),
]


def _calls(rng: np.random.Generator, hire: np.ndarray) -> pd.DataFrame:
    """Six random-arm calls per agent and month, uniformly in the month (from the hire date on)."""
    rows = []
    for m in MONTHS:
        start = np.maximum(np.datetime64(m.start_time, "s"), hire)
        end = np.datetime64(m.end_time.floor("s"), "s")
        span = (end - start).astype(float)
        agent = np.repeat(np.arange(AGENTS), CALLS_PER_MONTH)
        ok = span[agent] > 0
        when = start[agent] + (rng.random(agent.size) * np.clip(span[agent], 0, None)).astype("timedelta64[s]")
        rows.append(pd.DataFrame({"agent": agent[ok], "when": when[ok]}))
    calls = pd.concat(rows, ignore_index=True)
    calls["contact_id"] = [f"K{i}" for i in range(len(calls))]
    return calls


def _world(rng: np.random.Generator, design: str):
    """One center: its answers (with the uniform draws and failure probabilities), hire dates and skill."""
    hire = np.full(AGENTS, np.datetime64("2023-01-01", "s"))
    if design == "new_hires":
        hire[-6:] = np.datetime64(HIRE, "s")
    skill = np.exp(SKILL_SIGMA * rng.standard_normal(AGENTS))
    calls = _calls(rng, hire)
    escalated = rng.random(len(calls)) < ESCALATED
    ans = calls.loc[calls.index.repeat(len(ITEMS))].reset_index(drop=True)
    ans["item_id"] = np.tile(ITEMS, len(calls))
    keep = (ans["item_id"] != "escalation_handling").to_numpy() | np.repeat(escalated, len(ITEMS))
    ans = ans[keep].reset_index(drop=True)
    base = ans["item_id"].map(ITEM_FAIL).to_numpy()
    tenure = _tenure_factor(hire[ans["agent"].to_numpy()].astype("datetime64[ns]"), ans["when"].to_numpy(dtype="datetime64[ns]"))
    ans["p"] = np.clip(base * skill[ans["agent"].to_numpy()] * tenure, 0, 0.9)
    ans["u"] = rng.random(len(ans))
    return ans, hire


def _actions(rng: np.random.Generator, ans: pd.DataFrame, design: str) -> pd.DataFrame:
    """The coaching actions of the design, agreed on 2026-06-01 from what was known then."""
    if design == "new_hires":
        who, items = list(range(AGENTS - 6, AGENTS)), [PROGRAMME_ITEMS] * 6
    else:
        may = ans[(ans["when"] >= pd.Timestamp("2026-05-01")) & (ans["when"] < CREATED)].assign(failed=lambda d: d["u"] < d["p"])
        rate = may.groupby("agent")["failed"].mean()
        jitter = pd.Series(rng.random(len(rate)) * 1e-9, index=rate.index)  # ties broken at random
        who = list((rate + jitter).sort_values(ascending=False).index[:6])
        if design == "worst_six_programme":
            items = [PROGRAMME_ITEMS] * 6
        else:
            per = may[may["agent"].isin(who)].groupby(["agent", "item_id"])["failed"].sum().reset_index()
            per["base"] = per["item_id"].map(ITEM_FAIL)
            per = per.sort_values(["agent", "failed", "base"], ascending=[True, False, False])
            top = per.groupby("agent").head(2).groupby("agent")["item_id"].agg(list)
            items = [top[a] for a in who]
    return pd.DataFrame({"action_id": [f"CA{i + 1:04d}" for i in range(6)], "agent_id": [f"A{a + 1:03d}" for a in who],
                         "coach": "Q01", "created_on": str(CREATED.date()), "items": [",".join(sorted(v)) for v in items],
                         "recheck_after_days": RECHECK_DAYS, "agent": who, "item_list": items})


def _draw(rng: np.random.Generator, design: str, factor: float) -> pd.DataFrame:
    """One simulated center judged: the action and programme rows of :func:`before_after`."""
    ans, hire = _world(rng, design)
    acts = _actions(rng, ans, design)
    coached = pd.MultiIndex.from_arrays([ans["agent"], ans["item_id"]]).isin(
        pd.MultiIndex.from_arrays([acts["agent"].repeat(acts["item_list"].map(len)), np.concatenate(acts["item_list"].to_list())]))
    after = (ans["when"] >= CREATED + pd.Timedelta(days=RECHECK_DAYS)).to_numpy()
    p = np.where(coached & after, ans["p"] * factor, ans["p"])
    answers = pd.DataFrame({"contact_id": ans["contact_id"], "agent_id": [f"A{a + 1:03d}" for a in ans["agent"]], "item_id": ans["item_id"],
                            "answer": np.where(ans["u"] < p, "no", "yes"), "handled_at": ans["when"], "arm": "random"})
    agents = pd.DataFrame({"agent_id": [f"A{a + 1:03d}" for a in range(AGENTS)], "hire_date": pd.to_datetime(hire).date})
    return before_after(acts.drop(columns=["agent", "item_list"]), answers, agents=agents)


def _judged(draws: int, seed: int) -> dict[str, list[pd.DataFrame]]:
    """Every scenario simulated ``draws`` times (one stream per scenario and draw)."""
    root = np.random.SeedSequence(seed)
    out = {}
    for (name, design, factor), ss in zip(SCENARIOS, root.spawn(len(SCENARIOS))):
        out[name] = [_draw(np.random.default_rng(s), design, factor) for s in ss.spawn(draws)]
    return out


#: Draws for docs/validity.md (benchmarks/validity.py without --draws).
DRAWS = 100


def rows(draws: int, seed: int) -> list[dict]:
    """docs/validity.md rows: share declared improved (old before/after vs the comparison), per action and per programme of
    two or more actions, and the coverage of the comparison's 95 % interval for the true failure-rate ratio."""
    res = []
    for (name, _design, factor), frames in zip(SCENARIOS, _judged(draws, seed).values()):
        allr = pd.concat(frames, ignore_index=True)
        null = factor == 1.0
        for level in ("action", "programme"):
            r = allr[(allr["level"] == level) & ((allr["level"] == "action") | (allr["actions"] > 1))]
            if r.empty:
                continue  # programmes of one action repeat the action rows
            old = float((r["diff_low"] > 0).mean())
            new = float((r["verdict"] == "improved").mean())
            what = "share declared improved" if null else "power: share declared improved"
            res.append(_row(name, f"{what}, {level}s, old before/after", "— (replaced rule)", old, None, draws,
                            f"{len(r)} {level}s; Newcombe interval of after − before above 0, the rule before issue 17"))
            ok = (new <= 0.05) if null else None
            res.append(_row(name, f"{what}, {level}s, against the comparison", "≤ 5 %" if null else "", new, ok, draws,
                            f"{len(r)} {level}s; q_improved ≤ 2.5 % (Benjamini–Hochberg across the page's {level}s)"))
        act = allr[allr["level"] == "action"]
        a = act[act["ratio_low"].notna()]
        cover = float(((a["ratio_low"] <= factor) & (a["ratio_high"] >= factor)).mean())
        res.append(_row(name, "coverage of the 95 % interval of the failure-rate ratio, actions", "≥ 93 %", cover, cover >= 0.93, draws,
                        f"true ratio {factor:g}; {len(a)} actions judged, {len(act) - len(a)} without a judgement left out"))
    return res


def _row(scenario, measure, target, value, ok, n, note) -> dict:
    return {"analysis": "coaching verdict", "scenario": scenario, "measure": measure, "target": target, "value": value, "ok": ok,
            "draws": int(n), "note": note}
