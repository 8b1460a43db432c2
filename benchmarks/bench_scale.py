"""Benchmark: what one machine handles — a 1,000-agent center over 12 months, end to end.

Run: .venv/bin/python benchmarks/bench_scale.py [--agents 1000] [--months 12] [--teams 20] [--reports all|N]
In one process, timed stage by stage: generate the center (qa samples), load it into a SQLite file (every
evaluation validated and scored on the way in), the month's shared report tables (prepare_month), the VOC and
training-needs tables, and the report fan-out (every agent's and team's HTML report through the warm-kernel
runner, or the first N agents). Prints the sizes (contacts per month, evaluations, verbatims) and seconds per
stage, and reports per second for the fan-out. The figures go into docs/scaling.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from qa_lib.config import project_root
from qa_lib.reports.runner import month_reports
from qa_lib.samples import SampleSpec, write_samples
from qa_lib.store import Store, load_samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--teams", type=int, default=20)
    ap.add_argument("--reports", default="all", help="all, or the number of agent reports to run")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-scale-"))
    samples = work / "samples"
    shutil.copytree(project_root() / "data" / "samples" / "scorecards", samples / "scorecards")
    times = {}
    t = time.perf_counter()
    write_samples(samples, replace(SampleSpec(), agents=args.agents, teams=args.teams, months=args.months))
    times["generate"] = time.perf_counter() - t
    t = time.perf_counter()
    store = Store(work / "qa.sqlite")
    store.migrate()
    load_samples(store, samples)
    times["load (validate + score)"] = time.perf_counter() - t
    counts = store.counts()
    month = store.latest_month()
    contacts_month = len(store.read_month("contacts", month))
    out = work / "reports" / str(month)
    from qa_lib.reports import prepare_month
    from qa_lib.training import prepare_training
    from qa_lib.voc import prepare_voc

    t = time.perf_counter()
    prepare_month(store, month, out / "_data")
    times["month tables (scores, KPIs, trends)"] = time.perf_counter() - t
    t = time.perf_counter()
    prepare_voc(store, month, out)
    times["VOC tables (6 months)"] = time.perf_counter() - t
    t = time.perf_counter()
    prepare_training(store, month, out)
    times["training tables (3 months)"] = time.perf_counter() - t
    agents = pd.read_parquet(out / "_data" / "scores.parquet")
    kinds = ("agents", "teams")
    team = None
    t = time.perf_counter()
    if args.reports == "all":
        _, results = month_reports(store, month, kinds=kinds, folder=out, progress=False)
    else:  # the first N agents' reports: run one team's at a time until N
        results = []
        for team in sorted(agents["team"].unique()):
            _, r = month_reports(store, month, kinds=("agents",), team=team, folder=out, progress=False)
            results += r
            if len(results) >= int(args.reports):
                break
    times["report fan-out"] = time.perf_counter() - t
    ok = sum(r.ok and not r.skipped for r in results)
    print(f"center: {args.agents} agents in {args.teams} teams, {args.months} months; {counts['contacts']:,} contacts "
          f"({contacts_month:,} in {month}), {counts['evaluations']:,} evaluations, {counts['evaluation_items']:,} item answers, "
          f"{counts['voc_feedback']:,} VOC verbatims; database {(work / 'qa.sqlite').stat().st_size / 2**20:.0f} MiB")
    for name, s in times.items():
        print(f"  {name:<38}{s:>8.1f} s")
    print(f"  reports written: {ok} ({ok / times['report fan-out']:.2f} per second), failed: {sum(not r.ok for r in results)}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
