"""Benchmark: the month's per-agent reports for a 300-agent center, warm-kernel runner vs a plain papermill loop.

Run: .venv/bin/python benchmarks/bench_runner.py [--agents 300] [--plain 12]
Generates the center (qa samples --agents 300 --months 3), loads it into a SQLite file, then in this one process:
- the runner: every agent's report (warm kernels, one per core, %reset between reports);
- the baseline: papermill.execute_notebook (a new kernel per report) plus the same HTML export, sequentially,
  on the first --plain agents; its per-report time is what a full sequential loop would take per agent.
Both write the same HTML content per agent (same template, same parameters, same exporter).
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from qa_lib.config import project_root
from qa_lib.reports.runner import ReportJob, install_plotly_js, month_reports, plain_papermill
from qa_lib.samples import SampleSpec, write_samples
from qa_lib.store import Store, load_samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=300)
    ap.add_argument("--plain", type=int, default=12)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    samples = work / "samples"
    shutil.copytree(project_root() / "data" / "samples" / "scorecards", samples / "scorecards")
    t = time.perf_counter()
    write_samples(samples, replace(SampleSpec(), agents=args.agents, teams=10, months=3))
    store = Store(work / "qa.sqlite")
    store.migrate()
    load_samples(store, samples)
    print(f"center: {args.agents} agents, 3 months, generated and loaded in {time.perf_counter() - t:.0f} s")
    month = store.latest_month()
    out = work / "reports"
    t = time.perf_counter()
    folder, results = month_reports(store, month, kinds=("agents",), folder=out, progress=False)
    runner_s = time.perf_counter() - t
    ok = [r for r in results if r.ok]
    print(f"runner: {len(ok)} agent reports ({len(results) - len(ok)} failed) in {runner_s:.1f} s = {runner_s / len(ok):.3f} s per report "
          f"(including the month's shared tables)")
    for r in results:
        if not r.ok:
            print(f"  failed: {r.job.title}: {r.error}")
    plain_dir = work / "plain"
    install_plotly_js(plain_dir)
    times = []
    for r in ok[: args.plain]:
        job = ReportJob(r.job.template, r.job.parameters, str(plain_dir / Path(r.job.output).name), r.job.title)
        times.append(plain_papermill(job, plotly_src="plotly.min.js"))
    per_plain = sum(times) / len(times)
    print(f"plain papermill: {len(times)} reports sequentially, {per_plain:.2f} s per report -> {per_plain * len(ok):.0f} s for all {len(ok)}")
    print(f"ratio: plain / runner = {per_plain * len(ok) / runner_s:.1f}x")
    a = Path(ok[0].job.output).read_text(encoding="utf-8")
    b = (plain_dir / Path(ok[0].job.output).name).read_text(encoding="utf-8")
    # random ids aside: plotly's div ids, pandas Styler's table ids, papermill's injected cell id
    ids = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|T_[0-9a-f]{5}|cell-id=[0-9a-f]{8}")
    strip = lambda s: ids.sub("ID", s.replace("../plotly.min.js", "plotly.min.js"))  # noqa: E731
    print("same HTML for the first agent (random element ids aside):", strip(a) == strip(b))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
