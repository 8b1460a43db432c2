"""Benchmark: qa_lib's Krippendorff α and ICC against the reference packages, in one process.

Run: .venv/bin/python benchmarks/bench_calibration.py
- krippendorff_alpha on 20 raters x 5,000 units (interval and nominal) vs the `krippendorff` package: time ratio
  and the largest difference in value.
- icc on 100,000 long rows (10,000 targets x 10 raters) vs pingouin.intraclass_corr: time ratio and values.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from qa_lib.stats import icc, krippendorff_alpha


def best(fn, repeat=5):
    out, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    import krippendorff
    import pingouin as pg

    rng = np.random.default_rng(0)
    truth = rng.integers(1, 6, 5000)
    data = np.where(rng.random((20, 5000)) < 0.8, truth, rng.integers(1, 6, (20, 5000))).astype(float)
    data[rng.random(data.shape) < 0.1] = np.nan
    for level in ("nominal", "interval"):
        ours_t, ours = best(lambda: krippendorff_alpha(data, level))
        ref_t, ref = best(lambda: krippendorff.alpha(reliability_data=data, level_of_measurement=level))
        print(f"alpha {level:8s} 20x5000: qa_lib {ours_t * 1000:.1f} ms, krippendorff {ref_t * 1000:.1f} ms, "
              f"ratio {ours_t / ref_t:.2f}x, |diff| {abs(ours - ref):.1e}")
    n_t, k = 10_000, 10
    target = rng.normal(50, 10, n_t)
    long = pd.DataFrame({"target": np.repeat(np.arange(n_t), k), "rater": np.tile(np.arange(k), n_t)})
    long["score"] = target[long["target"]] + rng.normal(0, 5, len(long)) + long["rater"] * 0.3
    ours_t, ours = best(lambda: icc(long, "target", "rater", "score"), repeat=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_t, ref = best(lambda: pg.intraclass_corr(long, "target", "rater", "score"), repeat=3)
    diff = np.abs(ours["ICC"].to_numpy() - ref["ICC"].to_numpy()).max()
    print(f"icc 100,000 rows, integer ids: qa_lib {ours_t * 1000:.2f} ms, pingouin {ref_t * 1000:.1f} ms, pingouin/qa_lib {ref_t / ours_t:.0f}x, max |diff| {diff:.1e}")
    named = long.assign(target="K" + long["target"].astype(str), rater="Q" + long["rater"].astype(str))
    ours_t, ours = best(lambda: icc(named, "target", "rater", "score"), repeat=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_t, ref = best(lambda: pg.intraclass_corr(named, "target", "rater", "score"), repeat=3)
    diff = np.abs(ours["ICC"].to_numpy() - ref["ICC"].to_numpy()).max()
    print(f"icc 100,000 rows, text ids (contact and inspector ids): qa_lib {ours_t * 1000:.2f} ms, pingouin {ref_t * 1000:.1f} ms, "
          f"pingouin/qa_lib {ref_t / ours_t:.0f}x, max |diff| {diff:.1e}")


if __name__ == "__main__":
    main()
