"""Benchmark: the quality model's fit (qa_lib.quality.fit_quality) on the sample center and on 1,000 agents × 12 months.

Run: .venv/bin/python benchmarks/bench_model.py [--agents 1000]
Draws the random-arm scorings of the generator's center (qa_lib.samples.scoring_draw: 6 calls per agent a month) and
times one fit of the last three months, as the monthly reports run it, beside the obvious alternative — the plain
per-agent mean with a t interval (qa_lib.scores.mean_interval) — in the same process. Budgets (issue #17): the sample
center ≤ 5 s, 1,000 agents ≤ 60 s on 2 cores. The figures go into docs/model.md.
"""

from __future__ import annotations

import argparse
import time

from qa_lib.quality import fit_quality
from qa_lib.rubric import score
from qa_lib.samples import SampleSpec, _load_cards, scoring_draw
from qa_lib.scores import mean_interval


def run(agents: int, teams: int, months: int = 12) -> dict:
    card = _load_cards()["inbound_service"]
    spec = SampleSpec(agents=agents, teams=teams, months=months)
    d = scoring_draw(spec, months=3, seed=1)
    ev = d["evaluations"].merge(d["agents"][["agent_id", "hire_date"]], on="agent_id")
    ev["total_score"] = ev["evaluation_id"].map(score(card, d["answers"]).totals.set_index("evaluation_id")["total"])
    t = time.perf_counter()
    fit_quality(ev, d["answers"], card, target=80, item_target=0.85)
    model = time.perf_counter() - t
    t = time.perf_counter()
    mean_interval(ev[ev["month"] == ev["month"].max()], "total_score", ["agent_id"])
    plain = time.perf_counter() - t
    return {"agents": agents, "evaluations": len(ev), "answers": len(d["answers"]), "model_s": model, "plain_s": plain}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=1000)
    args = ap.parse_args()
    for agents, teams in ((60, 3), (args.agents, 20)):
        r = run(agents, teams)
        print(f"{r['agents']:>5} agents, {r['evaluations']:,} evaluations ({r['answers']:,} answers): model {r['model_s']:.2f} s, "
              f"plain mean {r['plain_s']:.3f} s (ratio {r['model_s'] / r['plain_s']:.0f}×)")


if __name__ == "__main__":
    main()
