"""Auto-QA throughput (issue #19): rules and the learned scorer over 1,000,000 generated transcripts.

Transcripts: the committed sample's transcripts (``data/samples/contacts.parquet``, 15,254, zh and en, inbound and
follow-up) **resampled with replacement** (seed 0) under fresh contact ids ``Z0000001…`` — the generator's own renderings,
so every phrase and failure rendering occurs at the sample's rates. Processed in chunks of ``--chunk`` (default 20,000):
each chunk is drawn, checked by the card of its direction and dropped, so memory stays bounded; peak RSS from
``resource.getrusage``.

Baseline: a plain per-transcript Python loop of ``re.search`` calls, one compiled alternation per rule phrase group (the
same phrases, speaker and position constraints ignored — it only does less work), timed on a 20,000 subset and
extrapolated to the full count.

The learned scorer of each card is trained first (untimed, 3-fold, on the sample's human-scored calls with a transcript),
then timed on every chunk: hashed character n-grams computed once per chunk and shared by the card's item models.

    python benchmarks/bench_autoqa.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_lib.autoqa.rules import apply_rules, compile_rules  # noqa: E402
from qa_lib.rubric import load_scorecard  # noqa: E402

CARDS = {"inbound": "inbound_service", "outbound": "followup_call"}


_SCORERS: dict = {}


def train_scorer(card_id: str):
    """The learned scorer of ``card_id`` trained (untimed, 3-fold) on the sample's human-scored calls with a transcript."""
    from qa_lib.autoqa.scorer import train_scorers

    ev = pd.read_csv(ROOT / "data" / "samples" / "evaluations.csv", dtype=str, keep_default_na=False)
    ev = ev[(ev["scorecard_id"] == card_id) & (ev["arm"] != "calibration") & (ev["answer"] != "")]
    src = source().set_index("contact_id")["transcript"]
    ev = ev[ev["contact_id"].isin(src.index)]
    card = load_scorecard(ROOT / "data" / "samples" / "scorecards" / f"{card_id}.v1.yaml")
    return train_scorers(src[src.index.isin(ev["contact_id"])], ev[["contact_id", "item_id", "answer"]], card, folds=3, seed=0)


def scorer_stage(contacts: pd.DataFrame, card_id: str):
    """The learned scorer's answers on one chunk (trained once per card by :func:`train_scorer` before the timing)."""
    return _SCORERS[card_id].predict(contacts.set_index("contact_id")["transcript"])


def source() -> pd.DataFrame:
    c = pd.read_parquet(ROOT / "data" / "samples" / "contacts.parquet",
                        columns=["contact_id", "direction", "transcript", "transcript_lang", "talk_seconds", "hold_seconds", "transferred", "escalated"])
    return c[c["transcript"].notna()].reset_index(drop=True)


def regex_loop(src: pd.DataFrame, compiled: dict, n: int, rng) -> float:
    """Seconds for a per-transcript loop of re.search over the same rules' phrase groups, on n transcripts."""
    pats = {}
    for d, cr in compiled.items():
        pats[d] = [re.compile("|".join(re.escape(w) for w in sorted({w for g in r.spec["groups"] for lg in g.values() for w in lg}, key=len, reverse=True)), re.I)
                   for r in cr.rules if r.spec.get("groups")]
    pick = src.iloc[rng.integers(0, len(src), n)]
    texts, dirs = pick["transcript"].tolist(), pick["direction"].tolist()
    t0 = time.perf_counter()
    hits = 0
    for text, d in zip(texts, dirs):
        for p in pats[d]:
            if p.search(text):
                hits += 1
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--loop-n", type=int, default=20_000)
    ap.add_argument("--out", type=str, default="")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    src = source()
    compiled = {d: compile_rules(load_scorecard(ROOT / "data" / "samples" / "scorecards" / f"{cid}.v1.yaml")) for d, cid in CARDS.items()}
    t0 = time.perf_counter()
    for cid in CARDS.values():
        _SCORERS[cid] = train_scorer(cid)
    print(f"scorers trained in {time.perf_counter() - t0:.1f} s (untimed below)", flush=True)
    t_rules = t_scorer = 0.0
    answers = abstain = 0
    wired = True
    t_all = time.perf_counter()
    for start in range(0, a.n, a.chunk):
        m = min(a.chunk, a.n - start)
        chunk = src.iloc[rng.integers(0, len(src), m)].reset_index(drop=True)
        chunk["contact_id"] = [f"Z{start + i + 1:07d}" for i in range(m)]
        for d, cr in compiled.items():
            part = chunk[chunk["direction"] == d]
            t0 = time.perf_counter()
            out = apply_rules(cr, part)
            t_rules += time.perf_counter() - t0
            answers += len(out)
            abstain += int(out["answer"].isna().sum())
            t0 = time.perf_counter()
            s = scorer_stage(part, CARDS[d])
            t_scorer += time.perf_counter() - t0
            wired &= s is not None
    wall = time.perf_counter() - t_all
    loop = regex_loop(src, compiled, a.loop_n, rng)
    loop_full = loop / a.loop_n * a.n
    res = {
        "transcripts": a.n, "chunk": a.chunk, "rules_seconds": round(t_rules, 1), "rules_per_second": round(a.n / t_rules),
        "scorer_seconds": round(t_scorer, 1) if wired else None, "scorer_per_second": round(a.n / t_scorer) if wired else None,
        "rules_and_scorer_per_second": round(a.n / (t_rules + t_scorer)), "wall_seconds": round(wall, 1), "answers": answers, "abstained": abstain,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "regex_loop_subset": a.loop_n,
        "regex_loop_seconds_subset": round(loop, 2), "regex_loop_seconds_extrapolated": round(loop_full, 1),
        "loop_over_rules_ratio": round(loop_full / t_rules, 2), "budget_per_second": 1700,
    }
    print(json.dumps(res, indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
