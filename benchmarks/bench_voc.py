"""Benchmark: a month of 100,000 Chinese verbatims through masking, classification, topics, trends and alerts.

Run: .venv/bin/python benchmarks/bench_voc.py [n]
The verbatims come from the sample generator scaled up (qa_lib.samples, the VOC part only):
three months, the report month holding about ``n`` Chinese verbatims (default 100,000), 70 %
labelled. Stages are timed one by one in this process on the report month. The two earlier
months are the baseline of the trends and alerts; they are classified by the same model first,
untimed (in production they are the stored results of earlier runs, not recomputed).
Two ratios against the obvious alternative, same process, same data:
masking with one compiled pass per text vs a chain of pandas ``Series.str.replace`` calls,
segmentation with rjieba (jieba-rs, what :class:`qa_lib.text.Segmenter` uses) vs the Python jieba package
(the test extra installs it as the reference), and the taxonomy classifier (:mod:`qa_lib.textmodel`: hashed n-grams + logistic SGD) vs the
TF-IDF + sigmoid-calibrated linear SVM it replaced — fit time only.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from qa_lib import voc
from qa_lib.privacy import PATTERNS, mask_pii
from qa_lib.samples import SampleSpec, _voc, planted
from qa_lib.text import Segmenter, prepare


def verbatims(n: int) -> pd.DataFrame:
    """Three months of generated verbatims, the last with about ``n`` Chinese ones."""
    spec = SampleSpec(voc_per_month=int(n / 0.85 / 1.05), months=3)
    contacts = pd.DataFrame({"contact_id": pd.Series(dtype=object), "start_time": pd.Series(dtype="datetime64[ns]"),
                             "answered": pd.Series(dtype=bool), "customer_id": pd.Series(dtype=object)})
    v = _voc(spec, planted(spec), contacts)
    v = v[v["lang"] == "zh"].reset_index(drop=True)
    v["received_at"] = pd.to_datetime(v["received_at"])
    return v


def clock(label: str, t0: float, times: dict) -> float:
    t = time.perf_counter()
    times[label] = t - t0
    print(f"  {label:<44}{t - t0:7.2f} s", flush=True)
    return t


def main(n: int = 100_000) -> None:
    t0 = time.perf_counter()
    v = verbatims(n)
    month = v["received_at"].dt.to_period("M")
    last = month.max()
    cur = v[month == last].reset_index(drop=True)
    print(f"generated {len(v):,} Chinese verbatims in {time.perf_counter() - t0:.1f} s; report month {last}: {len(cur):,}")
    tax = voc.load_taxonomy("data/samples/voc_taxonomy.yaml")
    times: dict[str, float] = {}
    t = time.perf_counter()
    seg = Segmenter(domain_words_file="data/samples/voc_domain_words.txt")
    t = clock("segmenter (rjieba dictionary + domain words)", t, times)
    prep = prepare(cur["text"], seg, cur["lang"])
    t = clock("masking + language + rjieba tokens", t, times)
    lab = cur["category"].notna().to_numpy()
    clf = voc.TopicClassifier().fit(prep.loc[lab, "tokens"], cur.loc[lab, "category"])
    t = clock(f"classifier fit ({lab.sum():,} labelled)", t, times)
    pred = clf.predict(prep["tokens"])
    cur["topic"] = np.where(lab, cur["category"], pred["topic"])
    t = clock(f"classifier predict ({len(cur):,})", t, times)
    cv = voc.evaluate_classifier(prep.loc[lab, "tokens"], cur.loc[lab, "category"], max_rows=20000)
    t = clock("5-fold CV macro-F1 (20,000 drawn)", t, times)
    found = voc.discover_topics(prep["tokens"], n_topics=len(tax.ids) + 3)
    t = clock("topic discovery (NMF, all verbatims)", t, times)
    themes = voc.compare_discovered(found, cur["topic"], cur["text"])
    pool = cur["topic"] == voc.OTHER
    if pool.sum() >= 20:
        voc.discover_topics(prep.loc[pool, "tokens"], n_topics=3, max_df=0.9)
    t = clock("themes vs taxonomy, discovery in 'other'", t, times)
    hist = v[month < last].reset_index(drop=True)
    t_hist = time.perf_counter()
    hp = prepare(hist["text"], seg, hist["lang"])
    hist["topic"] = np.where(hist["category"].notna(), hist["category"], clf.predict(hp["tokens"])["topic"])
    print(f"  (untimed: earlier months, {len(hist):,} verbatims, classified in {time.perf_counter() - t_hist:.1f} s)")
    t = time.perf_counter()
    both = pd.concat([hist[["received_at", "topic", "channel", "csat", "nps"]], cur[["received_at", "topic", "channel", "csat", "nps"]]])
    monthly = voc.topic_trends(both, topics=tax.ids + [voc.OTHER])
    voc.topic_trends(both, freq="W", topics=tax.ids + [voc.OTHER])
    voc.topic_trends(cur, by="channel")
    sat = voc.satisfaction_by_topic(cur)
    t = clock("trends (monthly, weekly, channel), CSAT/NPS", t, times)
    alerts = voc.emerging_issues(monthly, str(last), polarity=tax.topics.set_index("topic")["polarity"].to_dict())
    voc.alert_examples(cur.assign(probability=pred["probability"]), alerts.loc[alerts["alert"], "topic"])
    t = clock("alerts (p-chart, run rules, z-test) + examples", t, times)
    total = sum(times.values())
    print(f"total {total:.1f} s for {len(cur):,} verbatims (budget 20 s); CV macro-F1 {cv['macro_f1']:.3f}; "
          f"alerts: {alerts.loc[alerts['alert'], 'topic'].tolist()}; new themes: {int(themes['new'].sum())}; topics {len(sat)}")

    # ratios against the obvious alternative
    s = cur["text"].head(20000)
    t = time.perf_counter()
    ours = [mask_pii(x) for x in s]
    a = time.perf_counter() - t
    t = time.perf_counter()
    chain = s
    for pat in PATTERNS.values():
        chain = chain.str.replace(pat, "*", regex=True)
    b = time.perf_counter() - t
    print(f"masking 20,000 texts: mask_pii {a:.2f} s vs Series.str.replace chain {b:.2f} s → {b / a:.2f}× ({len(ours)} texts)")
    import logging

    import jieba

    lowered = [t.lower() for t in cur["text"].head(20000)]
    t = time.perf_counter()
    ours = [seg._jieba.cut(x) for x in lowered]
    a = time.perf_counter() - t
    jieba.setLogLevel(logging.WARNING)
    ref = jieba.Tokenizer()
    ref.initialize()
    for w in seg.domain_words:
        ref.add_word(w.strip().lower(), freq=100000)
    t = time.perf_counter()
    theirs = [ref.lcut(x) for x in lowered]
    b = time.perf_counter() - t
    same = sum(x == y for x, y in zip(ours, theirs))
    print(f"segmenting 20,000 texts: rjieba {a:.2f} s vs jieba {b:.2f} s → {b / a:.1f}× ({same:,} segmented identically)")
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    toks, labels = prep.loc[lab, "tokens"].tolist(), cur.loc[lab, "category"].to_numpy()
    t = time.perf_counter()
    voc.TopicClassifier().fit(toks, labels)
    a = time.perf_counter() - t
    t = time.perf_counter()
    old = CalibratedClassifierCV(LinearSVC(C=0.5, class_weight="balanced", random_state=0), method="sigmoid", cv=3)
    make_pipeline(voc._vectorizer(), old).fit(toks, labels)
    b = time.perf_counter() - t
    print(f"classifier fit on {len(toks):,}: TopicClassifier (qa_lib.textmodel) {a:.2f} s vs the old TF-IDF + calibrated LinearSVC {b:.2f} s → {b / a:.1f}× faster")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
