"""Benchmark: drawing a month's plan over 1,000,000 contacts vs a plain pandas groupby().sample().

Run: .venv/bin/python benchmarks/bench_sampling.py
Both run in this one process on the same frame. The baseline draws n per agent with
`groupby("agent_id").sample(n)` and nothing else; qa_lib's plan also applies the exclusion
rules, stratifies, spreads each agent's picks over the month (systematic sampling in time
order), records inclusion probabilities and draws the targeted arm.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from qa_lib.sampling import PlanSpec, draw_plan


def contacts(n: int = 1_000_000, n_agents: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    month = pd.Period("2026-10", freq="M")
    agent = rng.integers(0, n_agents, n)
    df = pd.DataFrame({
        "contact_id": np.char.add("K", np.arange(n).astype(str)),
        "start_time": month.start_time + pd.to_timedelta(rng.integers(0, 31 * 86400, n), unit="s"),
        "agent_id": np.char.add("A", agent.astype(str)),
        "answered": rng.random(n) > 0.05,
        "contact_type": rng.choice(["service", "consultation", "after_sales", "non_regular"], n, p=[0.3, 0.3, 0.3, 0.1]),
        "talk_seconds": rng.lognormal(5.3, 0.5, n),
        "hold_seconds": rng.exponential(20, n),
        "customer_opted_out": rng.random(n) < 0.03,
        "customer_tier": rng.choice(["diamond", "gold", "silver"], n, p=[0.05, 0.25, 0.7]),
        "customer_id": np.char.add("C", rng.integers(0, n // 3, n).astype(str)),
        "queue": rng.choice(["service", "consult", "after_sales"], n),
        "direction": "inbound",
    })
    agents = pd.DataFrame({"agent_id": [f"A{i}" for i in range(n_agents)], "team": [f"T{i % 10}" for i in range(n_agents)],
                           "hire_date": "2022-01-01", "status": "active"})
    return df, agents


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    df, agents = contacts()
    spec = PlanSpec(period="2026-10", per_agent=8, seed=1, targeted_per_agent=1)
    ours = best_of(lambda: draw_plan(df, agents, spec))
    baseline = best_of(lambda: df.groupby("agent_id").sample(n=8, random_state=1))
    ours_no_target = best_of(lambda: draw_plan(df, agents, PlanSpec(period="2026-10", per_agent=8, seed=1, targeted_per_agent=0)))
    print(f"contacts: {len(df):,}, agents: {agents.shape[0]:,}")
    print(f"qa_lib draw_plan (random + targeted arm): {ours:.2f} s")
    print(f"qa_lib draw_plan (random arm only):       {ours_no_target:.2f} s")
    print(f"pandas groupby().sample(n=8) baseline:     {baseline:.2f} s")
    print(f"ratio draw_plan / baseline: {ours / baseline:.2f}x (random arm only: {ours_no_target / baseline:.2f}x)")


if __name__ == "__main__":
    main()
