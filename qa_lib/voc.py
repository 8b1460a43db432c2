"""Voice of the customer: topics, trends, CSAT/NPS and emerging-issue alerts for a month of verbatims.

The pieces, each usable alone:

* :func:`load_taxonomy` — the center's topic list (YAML: id, zh/en labels, owning
  department, polarity) with an "other / unclassified" bucket.
* :class:`TopicClassifier` — TF-IDF on jieba/English tokens (:mod:`qa_lib.text`) and a
  linear SVM with sigmoid-calibrated probabilities (scikit-learn); a verbatim whose best
  probability is under ``threshold`` goes to ``other``. :func:`evaluate_classifier` gives the
  cross-validated macro-F1 and per-topic precision/recall.
* :func:`discover_topics` — NMF on TF-IDF when nothing (or not everything) is labelled:
  topics named by their top terms, with representative verbatims; the same seed gives the
  same topics. :func:`compare_discovered` lines discovered topics up with the taxonomy and
  marks the ones it does not cover (most of their verbatims are "other").
* :func:`topic_trends`, :func:`satisfaction_by_topic` (CSAT mean and NPS with intervals),
  :func:`emerging_issues` (p-chart on topic share with 3-sigma limits from the earlier
  periods, Western Electric run rules, month-over-month two-proportion test with
  Benjamini–Hochberg q-values) and :func:`alert_examples`.
* :func:`prepare_voc` runs all of it for a month from a store and writes the report's
  tables (Parquet) and the topic table (.xlsx); :func:`voc_view` reads them back for
  ``notebooks/voc_monthly.ipynb``.

Customer text is masked (:func:`qa_lib.privacy.mask_pii`) before any step sees it; HTML
escaping is the display's job (:func:`qa_lib.html.escape`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConfigError, NotFoundError, ParameterError
from .files import write_xlsx
from .html import escape, escape_code, month_axis
from .ingest import read_config_yaml
from .stats.proportions import nps_interval, wilson_interval
from .stats.spc import p_chart, two_proportion_test, western_electric_rules
from .text import Segmenter, prepare

__all__ = ["Taxonomy", "load_taxonomy", "TopicClassifier", "evaluate_classifier", "discover_topics", "compare_discovered",
           "net_promoter", "topic_trends", "satisfaction_by_topic", "emerging_issues", "alert_examples", "department_view",
           "prepare_voc", "voc_prepared", "texts", "reason_text", "voc_view", "topic_table", "actions", "headline", "charts", "alerts_html", "themes_html", "breakdown_table", "satisfaction_table", "department_table", "model_html", "html_table", "OTHER", "TEXT", "p_chart", "western_electric_rules"]

OTHER = "other"
DEPARTMENTS = ("after_sales", "sales", "product", "quality")


# ------------------------------------------------------------------ taxonomy
@dataclass(frozen=True)
class Taxonomy:
    """Topics (a DataFrame: topic, zh, en, department, polarity) and department labels."""

    name: str
    topics: pd.DataFrame
    departments: dict

    @property
    def ids(self) -> list[str]:
        return self.topics.loc[self.topics["topic"] != OTHER, "topic"].tolist()

    def label(self, topic: str, lang: str = "en") -> str:
        row = self.topics[self.topics["topic"] == topic]
        return str(row[lang].iloc[0]) if len(row) else str(topic)

    def department(self, dept: str, lang: str = "en") -> str:
        return str(self.departments.get(dept, {}).get(lang, dept))


def load_taxonomy(path: str | os.PathLike) -> Taxonomy:
    """Read a taxonomy YAML file (see ``data/samples/voc_taxonomy.yaml``); errors name the file and entry."""
    p, doc = read_config_yaml(path, "taxonomy")
    if not isinstance(doc, dict) or not isinstance(doc.get("topics"), list) or not doc["topics"]:
        raise ConfigError(f"{p}: needs a non-empty 'topics' list")
    depts = doc.get("departments") or {d: {"zh": d, "en": d} for d in DEPARTMENTS}
    rows, seen = [], set()
    for i, t in enumerate(doc["topics"]):
        where = f"{p}: topics[{i}]"
        if not isinstance(t, dict) or not isinstance(t.get("id"), str) or not t["id"]:
            raise ConfigError(f"{where}: needs an 'id'")
        if t["id"] in seen or t["id"] == OTHER:
            raise ConfigError(f"{where}: id {t['id']!r} is {'reserved' if t['id'] == OTHER else 'used twice'}")
        seen.add(t["id"])
        if t.get("department") not in depts:
            raise ConfigError(f"{where}: department must be one of {sorted(depts)}; got {t.get('department')!r}")
        if t.get("polarity", "negative") not in ("negative", "positive"):
            raise ConfigError(f"{where}: polarity must be 'negative' or 'positive'; got {t.get('polarity')!r}")
        rows.append({"topic": t["id"], "zh": str(t.get("zh", t["id"])), "en": str(t.get("en", t["id"])),
                     "department": t["department"], "polarity": t.get("polarity", "negative")})
    o = doc.get("other") or {}
    rows.append({"topic": OTHER, "zh": str(o.get("zh", "其他")), "en": str(o.get("en", "Other")),
                 "department": o.get("department", "quality"), "polarity": "negative"})
    return Taxonomy(str(doc.get("taxonomy", p.stem)), pd.DataFrame(rows), depts)


# ------------------------------------------------------------------ classification
def _vectorizer(min_df=2, max_df=1.0, ngram_range=(1, 2)):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=ngram_range, min_df=min_df, max_df=max_df,
                           sublinear_tf=True, dtype=np.float32)


def _pipeline(C: float, seed: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=C, class_weight="balanced", random_state=seed)
    return make_pipeline(_vectorizer(), CalibratedClassifierCV(svm, method="sigmoid", cv=3))


def _check_labelled(tokens, labels) -> tuple[list[str], np.ndarray]:
    tokens = list(tokens)
    labels = np.asarray(pd.Series(labels, dtype=object).astype(str))
    if len(tokens) != len(labels):
        raise ParameterError(f"tokens and labels must have the same length; got {len(tokens)} and {len(labels)}")
    counts = pd.Series(labels).value_counts()
    if len(counts) < 2:
        raise ParameterError(f"labels must hold at least 2 topics; got {list(counts.index)}")
    return tokens, labels


class TopicClassifier:
    """Taxonomy classifier: TF-IDF (word uni- and bigrams) + linear SVM, sigmoid-calibrated probabilities.

    Parameters
    ----------
    threshold : float
        A verbatim whose highest calibrated probability is below this goes to ``other``
        (``unsure``) instead of a taxonomy topic.
    min_coverage : float
        A verbatim goes to ``other`` as well when less than this share of its words was
        ever seen in training: the model has no evidence about it, however confident the
        calibrated probability (which then only reflects the class intercepts) looks. This
        is what lets a new theme collect in ``other`` instead of being forced into a topic.
    C : float
        SVM regularisation.
    seed : int
        Random state (the fit is deterministic for a seed).
    """

    def __init__(self, threshold: float = 0.5, C: float = 0.5, seed: int = 0, min_coverage: float = 0.5):
        if not 0 <= threshold < 1:
            raise ParameterError(f"threshold must be in [0, 1); got {threshold!r}")
        if not C > 0:
            raise ParameterError(f"C must be > 0; got {C!r}")
        if not 0 <= min_coverage <= 1:
            raise ParameterError(f"min_coverage must be in [0, 1]; got {min_coverage!r}")
        self.threshold, self.C, self.seed, self.min_coverage = threshold, C, seed, min_coverage
        self.model = None

    def fit(self, tokens, labels, min_per_topic: int = 5) -> TopicClassifier:
        """Fit on space-joined tokens and their topic labels; topics with fewer than
        ``min_per_topic`` examples are left out (they cannot be learnt or calibrated), and so are verbatims
        without a word (``-``, punctuation only): they teach nothing."""
        tokens, labels = _check_labelled(tokens, labels)
        worded = np.array([bool(str(t).strip()) for t in tokens], dtype=bool)
        counts = pd.Series(labels[worded]).value_counts()
        keep = worded & np.isin(labels, counts[counts >= min_per_topic].index)
        if len(set(labels[keep])) < 2:
            raise ParameterError(f"labels must hold at least 2 topics with {min_per_topic}+ examples with words each; got {counts.to_dict()}")
        self.__dict__.pop("_known", None)
        self.model = _pipeline(self.C, self.seed).fit([t for t, k in zip(tokens, keep) if k], labels[keep])
        self.classes_ = self.model.classes_
        return self

    def predict(self, tokens) -> pd.DataFrame:
        """Per verbatim: ``topic`` (``other`` when unsure, or without a word), ``best`` (the top taxonomy topic), ``probability``, ``coverage``."""
        if self.model is None:
            raise ParameterError("the classifier must be fitted first (TopicClassifier().fit(tokens, labels))")
        tokens = list(tokens)
        if not tokens:
            return pd.DataFrame({"topic": pd.Series(dtype=object), "best": pd.Series(dtype=object), "probability": pd.Series(dtype=float),
                                 "coverage": pd.Series(dtype=float)})
        proba = self.model.predict_proba(tokens)
        best = self.classes_[proba.argmax(axis=1)]
        pmax = proba.max(axis=1)
        cover = self.coverage(tokens)
        worded = np.array([bool(str(t).strip()) for t in tokens], dtype=bool)  # "-" or "！！！": nothing to classify
        sure = (pmax >= self.threshold) & (cover >= self.min_coverage) & worded
        return pd.DataFrame({"topic": np.where(sure, best, OTHER), "best": best, "probability": pmax, "coverage": cover})

    def coverage(self, tokens) -> np.ndarray:
        """Share of each verbatim's words that are in the fitted vocabulary (1.0 for an empty verbatim)."""
        from sklearn.feature_extraction.text import CountVectorizer

        if self.model is None:
            raise ParameterError("the classifier must be fitted first (TopicClassifier().fit(tokens, labels))")
        if not hasattr(self, "_known"):
            vocab = self.model[0].vocabulary_
            self._known = CountVectorizer(token_pattern=r"\S+", lowercase=False, vocabulary=sorted(w for w in vocab if " " not in w))
        tokens = list(tokens)
        known = np.asarray(self._known.transform(tokens).sum(axis=1)).ravel()
        total = np.array([t.count(" ") + 1 if t else 0 for t in tokens])
        return np.divide(known, total, out=np.ones(len(tokens)), where=total > 0)


def evaluate_classifier(tokens, labels, *, folds: int = 5, seed: int = 0, C: float = 0.5, max_rows: int | None = None) -> dict:
    """Stratified k-fold cross-validation of the taxonomy classifier (before the unsure threshold).

    Returns ``{"macro_f1", "macro_f1_sd", "folds", "n", "per_topic"}`` where ``per_topic``
    is a DataFrame of precision, recall, F1 and support from the out-of-fold predictions.
    ``max_rows`` draws a stratified subsample first (for very large months).
    """
    from sklearn.metrics import f1_score, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold, train_test_split

    tokens, labels = _check_labelled(tokens, labels)
    if not isinstance(folds, int) or folds < 2:
        raise ParameterError(f"folds must be an integer >= 2; got {folds!r}")
    worded = np.array([bool(str(t).strip()) for t in tokens], dtype=bool)  # verbatims without a word teach and test nothing
    counts = pd.Series(labels[worded]).value_counts()
    keep = worded & np.isin(labels, counts[counts >= folds].index)
    tokens = [t for t, k in zip(tokens, keep) if k]
    labels = labels[keep]
    if len(set(labels)) < 2:
        raise ParameterError(f"labels must hold at least 2 topics with {folds}+ examples with words each for {folds}-fold cross-validation; "
                             f"got {counts.to_dict()}")
    if max_rows is not None and len(labels) > max_rows:
        idx = np.arange(len(labels))
        idx, _ = train_test_split(idx, train_size=max_rows, stratify=labels, random_state=seed)
        tokens, labels = [tokens[i] for i in np.sort(idx)], labels[np.sort(idx)]
    pred = np.empty(len(labels), dtype=object)
    scores = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels):
        m = _pipeline(C, seed).fit([tokens[i] for i in train], labels[train])
        pred[test] = m.predict([tokens[i] for i in test])
        scores.append(f1_score(labels[test], pred[test].astype(str), average="macro"))
    classes = np.unique(labels)
    p, r, f, s = precision_recall_fscore_support(labels, pred.astype(str), labels=classes, zero_division=0)
    per = pd.DataFrame({"topic": classes, "precision": p, "recall": r, "f1": f, "support": s}).sort_values("f1", ignore_index=True)
    return {"macro_f1": float(np.mean(scores)), "macro_f1_sd": float(np.std(scores, ddof=1)), "folds": folds, "n": int(len(labels)), "per_topic": per}


# ------------------------------------------------------------------ discovery
@dataclass
class Discovered:
    """Discovered topics: ``topics`` (topic, label, terms, size, share) and per-verbatim ``assignments``
    (topic, weight; topic −1 when the verbatim loads on no topic)."""

    topics: pd.DataFrame
    assignments: pd.DataFrame


def discover_topics(tokens, n_topics: int = 10, *, seed: int = 0, top_terms: int = 6, min_df: int = 2, max_df: float = 0.5) -> Discovered:
    """Topic discovery without labels: NMF on TF-IDF of the tokens (scikit-learn).

    Each topic is named by its top three terms; ``terms`` holds ``top_terms`` of them. Each
    verbatim goes to the topic it loads on most. Initialisation is NNDSVD-A with
    ``random_state=seed``, so the same corpus and seed give the same topics. A verbatim without a
    word (``-``, punctuation only) takes no part and gets topic −1.
    """
    from sklearn.decomposition import NMF

    tokens = list(tokens)
    if not isinstance(n_topics, int) or n_topics < 2:
        raise ParameterError(f"n_topics must be an integer >= 2; got {n_topics!r}")
    worded = np.array([bool(str(t).strip()) for t in tokens], dtype=bool)
    if worded.sum() < n_topics:
        raise ParameterError(f"tokens must hold at least n_topics ({n_topics}) verbatims with words; got {int(worded.sum())} of {len(tokens)}")
    vec = _vectorizer(min_df=min_df, max_df=max_df, ngram_range=(1, 1))
    try:
        X = vec.fit_transform([t for t, w in zip(tokens, worded) if w])
    except ValueError:  # scikit-learn: no terms remain after min_df/max_df
        raise ParameterError(f"the corpus has no terms left after min_df={min_df}/max_df={max_df}; n_topics must be below that") from None
    if X.shape[1] < n_topics:
        raise ParameterError(f"the corpus has only {X.shape[1]} terms after min_df={min_df}/max_df={max_df}; n_topics must be below that")
    nmf = NMF(n_components=n_topics, init="nndsvda", random_state=seed, max_iter=400)
    W = np.zeros((len(tokens), n_topics))
    W[worded] = nmf.fit_transform(X)
    H = nmf.components_
    vocab = vec.get_feature_names_out()
    order = np.argsort(-H, axis=1)[:, :top_terms]
    terms = [[str(vocab[j]) for j in row] for row in order]
    top = W.argmax(axis=1)
    weight = W.max(axis=1)
    top = np.where(weight > 0, top, -1)
    size = np.bincount(top[top >= 0], minlength=n_topics)
    topics = pd.DataFrame({"topic": np.arange(n_topics), "label": [" / ".join(t[:3]) for t in terms], "terms": [", ".join(t) for t in terms],
                           "size": size, "share": size / max(len(tokens), 1)})
    return Discovered(topics.sort_values("size", ascending=False, ignore_index=True), pd.DataFrame({"topic": top, "weight": weight}))


def compare_discovered(found: Discovered, assigned, texts=None, examples: int = 3, min_size: int = 10, new_share: float = 0.5) -> pd.DataFrame:
    """Line discovered topics up with the taxonomy topic of each verbatim.

    For each discovered topic: the taxonomy topic most of its verbatims carry (``matches``) and
    that share (``purity``), the share of its verbatims that are ``other`` (``other_share``),
    ``new`` = at least ``min_size`` verbatims and ``other_share >= new_share`` — a topic the
    taxonomy does not cover — and up to ``examples`` representative verbatims (highest weight,
    distinct texts) when ``texts`` is given.
    """
    a = found.assignments.assign(assigned=np.asarray(pd.Series(assigned, dtype=object)))
    if texts is not None:
        a["text"] = np.asarray(pd.Series(texts, dtype=object))
    a = a[a["topic"] >= 0]
    rows = []
    for t in found.topics["topic"]:
        part = a[a["topic"] == t]
        counts = part["assigned"].value_counts()
        known = counts.drop(OTHER, errors="ignore")
        other = counts.get(OTHER, 0) / max(len(part), 1)
        ex = []
        if texts is not None and len(part):
            ex = part.sort_values("weight", ascending=False).drop_duplicates("text")["text"].head(examples).tolist()
        rows.append({"topic": t, "matches": known.index[0] if len(known) else OTHER, "purity": (known.iloc[0] / len(part)) if len(known) else 0.0,
                     "other_share": other, "new": bool(len(part) >= min_size and other >= new_share), "examples": ex})
    out = found.topics.merge(pd.DataFrame(rows, columns=["topic", "matches", "purity", "other_share", "new", "examples"]), on="topic")
    return out.astype({"purity": float, "other_share": float, "new": bool})


# ------------------------------------------------------------------ satisfaction
def net_promoter(scores, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """NPS = % promoters (9–10) − % detractors (0–6), with its score interval; returns (nps, low, high, n).

    The interval is :func:`qa_lib.stats.proportions.nps_interval` (trinomial score interval, Rocks 2016), which
    covers about 95 % even for 10 answers and an NPS near ±90, where the Wald interval covered 54 %; it stays
    within [−100, 100]. Missing answers are ignored.

    >>> [round(x, 1) for x in net_promoter([10, 9, 9, 8, 7, 6, 3, 10, 9, 0])]
    [20.0, -33.0, 62.8, 10]
    """
    s = pd.to_numeric(pd.Series(scores, dtype=object), errors="coerce").dropna().to_numpy(dtype=float)
    if ((s < 0) | (s > 10)).any():
        raise ParameterError(f"scores must be 0-10; got values from {s.min():g} to {s.max():g}")
    n = len(s)
    if n == 0:
        return (float("nan"), float("nan"), float("nan"), 0)
    pro, det = int((s >= 9).sum()), int((s <= 6).sum())
    lo, hi = nps_interval(pro, n - pro - det, det, confidence)
    return (float(100 * (pro - det) / n), float(100 * lo), float(100 * hi), int(n))


def _nps_by(df: pd.DataFrame, topic: str) -> pd.DataFrame:
    """NPS per ``topic`` group with its score interval, in one vectorised call: nps_n, nps, nps_low, nps_high."""
    s = pd.to_numeric(df["nps"], errors="coerce") if "nps" in df else pd.Series(np.nan, index=df.index)
    if ((s < 0) | (s > 10)).any():
        raise ParameterError(f"nps must be 0-10; got values from {s.min():g} to {s.max():g}")
    g = pd.DataFrame({"pro": s >= 9, "det": s <= 6, "ans": s.notna()}).groupby(df[topic], sort=True).sum()
    n = g["ans"].to_numpy(dtype=float)
    lo, hi = nps_interval(g["pro"].to_numpy(), (g["ans"] - g["pro"] - g["det"]).to_numpy(), g["det"].to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):
        nps = np.where(n > 0, 100 * (g["pro"] - g["det"]).to_numpy() / n, np.nan)
    return pd.DataFrame({"nps_n": n.astype(int), "nps": nps, "nps_low": 100 * np.asarray(lo), "nps_high": 100 * np.asarray(hi)}, index=g.index)


def satisfaction_by_topic(df: pd.DataFrame, topic: str = "topic") -> pd.DataFrame:
    """Per topic: verbatims, CSAT mean (1–5) with a t interval, share satisfied (CSAT 4–5, Wilson) and NPS with its interval."""
    from scipy.stats import t as tdist

    rows = []
    for name, g in df.groupby(topic, sort=True):
        c = pd.to_numeric(g["csat"], errors="coerce").dropna().to_numpy(dtype=float)
        n = len(c)
        mean = c.mean() if n else np.nan
        half = tdist.ppf(0.975, n - 1) * c.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        sat_lo, sat_hi = wilson_interval(int((c >= 4).sum()), n) if n else (np.nan, np.nan)
        rows.append({topic: name, "verbatims": len(g), "csat_n": n, "csat": mean, "csat_low": mean - half, "csat_high": mean + half,
                     "satisfied": (c >= 4).mean() if n else np.nan, "satisfied_low": sat_lo, "satisfied_high": sat_hi})
    if rows:
        return pd.DataFrame(rows).merge(_nps_by(df, topic), left_on=topic, right_index=True, how="left")
    # no verbatims (e.g. no month before): no rows, the same columns, numeric
    return pd.DataFrame({topic: pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in (
        "verbatims", "csat_n", "csat", "csat_low", "csat_high", "satisfied", "satisfied_low", "satisfied_high", "nps_n", "nps", "nps_low", "nps_high")}})


# ------------------------------------------------------------------ trends and alerts
def topic_trends(df: pd.DataFrame, *, freq: str = "M", by: str | None = None, topic: str = "topic", time: str = "received_at",
                 topics=None) -> pd.DataFrame:
    """Volume and share per period (and per ``by`` group) and topic, zero-filled: period, [by], topic, n, total, share.

    Months are named ``2026-10``, weeks (Monday to Sunday) by their Monday ``2026-10-05``.
    """
    if freq not in ("M", "W"):
        raise ParameterError(f"freq must be 'M' (months) or 'W' (weeks); got {freq!r}")
    if by is not None and by not in df:
        raise ParameterError(f"by must be a column of the verbatims ({sorted(df.columns)}); got {by!r}")
    t = pd.to_datetime(df[time])
    period = t.dt.to_period("M").astype(str) if freq == "M" else t.dt.to_period("W-SUN").dt.start_time.dt.strftime("%Y-%m-%d")  # weeks by their Monday
    keys = ["period"] + ([by] if by else [])
    d = df.assign(period=period)
    counts = d.groupby(keys + [topic]).size()
    topics = sorted(d[topic].dropna().unique()) if topics is None else list(topics)
    levels = [sorted(d["period"].unique())] + ([sorted(d[by].dropna().unique())] if by else []) + [topics]
    full = counts.reindex(pd.MultiIndex.from_product(levels, names=keys + [topic]), fill_value=0).rename("n").reset_index()
    full["total"] = full.groupby(keys)["n"].transform("sum")
    full["share"] = np.divide(full["n"], full["total"], out=np.full(len(full), np.nan), where=full["total"] > 0)
    return full.rename(columns={topic: "topic"})


def _topic_signals(trends: pd.DataFrame, periods: list, i: int) -> pd.DataFrame:
    """p-chart (center from the periods before ``i``; Laney's p′ when they are overdispersed), run rules and change vs
    the previous period, per topic."""
    rows = []
    for topic, g in trends.groupby("topic", sort=True):
        g = g.set_index("period").reindex(periods[: i + 1])
        counts, sizes = g["n"].fillna(0).to_numpy(), g["total"].fillna(0).to_numpy()
        chart = p_chart(counts, sizes, baseline=np.arange(len(counts)) < i, laney="auto")
        sd = chart["sigma"].to_numpy()
        rules = western_electric_rules(chart["p"].to_numpy(), chart["center"].to_numpy(), np.where(sd > 0, sd, np.nan))  # center 0: no spread
        last, rl = chart.iloc[-1], rules.iloc[-1]
        mom = two_proportion_test(counts[-2], sizes[-2], counts[-1], sizes[-1]).iloc[0]  # diff = this period − the previous
        rows.append({"topic": topic, "n": int(counts[-1]), "total": int(sizes[-1]), "share": last["p"], "previous_share": mom["p1"],
                     "center": last["center"], "lcl": last["lcl"], "ucl": last["ucl"], "sigma_z": last["sigma_z"], "chart_z": rl["z"],
                     "baseline_months": int((sizes[:-1] > 0).sum()),
                     "chart_direction": last["direction"] if last["out_of_control"] else "",
                     **{f"rule{k}": bool(rl[f"rule{k}"]) for k in range(1, 5)}, "rules_direction": rl["direction"],
                     "change": mom["diff"], "z": mom["z"], "p_value": mom["p_value"]})
    return pd.DataFrame(rows)


def _signal_p(out: pd.DataFrame, bad: np.ndarray) -> np.ndarray:
    """Per topic, one p-value for all its signals in the bad direction: Simes over three — the chart point and the change
    vs the previous period (one-sided, z over Laney's ``sigma_z``, Student t on the baseline months − 1 degrees of
    freedom from 3 baseline months on, since ``sigma_z`` is estimated from them), and run rules 2–4 (the smallest fired
    rule's in-control false-alarm rate, :data:`~qa_lib.stats.spc.RULE_FALSE_ALARM`, times 3); NaN without a usable signal."""
    from scipy.stats import norm, t

    from .stats.spc import RULE_FALSE_ALARM

    side = np.where(bad == "up", 1.0, -1.0)
    df = out["baseline_months"].to_numpy(dtype=float) - 1
    sf = lambda x: np.where(df >= 2, t.sf(x, np.maximum(df, 1)), norm.sf(x))  # noqa: E731
    sz = out["sigma_z"].to_numpy(dtype=float)
    rules_bad = (out["rules_direction"] == bad).to_numpy()
    rule_p = np.min([np.where(out[f"rule{k}"].to_numpy(dtype=bool) & rules_bad, RULE_FALSE_ALARM[f"rule{k}"], 1.0) for k in (2, 3, 4)], axis=0)
    P = np.column_stack([sf(side * out["chart_z"].to_numpy(dtype=float)), sf(side * out["z"].to_numpy(dtype=float) / sz),
                         np.minimum(3 * rule_p, 1.0)])
    P = np.where(np.isnan(P), 1.0, P)
    usable = np.isfinite(out["chart_z"].to_numpy(dtype=float)) | np.isfinite(out["z"].to_numpy(dtype=float))
    simes = np.min(np.sort(P, axis=1) * P.shape[1] / np.arange(1, P.shape[1] + 1), axis=1)
    return np.where(usable, np.minimum(simes, 1.0), np.nan)


def _decide(out: pd.DataFrame, polarity: dict, alpha: float, min_count: int) -> pd.DataFrame:
    """One p-value per topic over all its signals, Benjamini–Hochberg q-values across the topics, then alert / direction
    / reason per topic: a topic alerts when its q-value is below ``alpha`` (the list of alerts keeps its false discovery
    rate at ``alpha``)."""
    from scipy.stats import false_discovery_control

    out = out.copy()
    bad = np.where(out["topic"].map(lambda t: polarity.get(t, "negative")) == "positive", "down", "up")
    out["p_signal"] = _signal_p(out, bad)
    ok = out["p_signal"].notna().to_numpy()
    q = np.full(len(out), np.nan)
    if ok.any():
        q[ok] = false_discovery_control(out.loc[ok, "p_signal"].to_numpy(), method="bh")
    out["q_value"] = q
    chart_hit = (out["chart_direction"] == bad).to_numpy()
    rule_hit = ((out["rules_direction"] == bad) & out[[f"rule{k}" for k in range(1, 5)]].any(axis=1)).to_numpy()
    mom_hit = np.where(bad == "up", 1.0, -1.0) * out["z"].to_numpy(dtype=float) / out["sigma_z"].to_numpy(dtype=float) > 1.959964
    out["alert"] = (q < alpha) & ((bad == "down") | (out["n"] >= min_count).to_numpy())
    out["direction"] = bad
    out["chart_signal"], out["rules_signal"], out["change_signal"] = chart_hit, rule_hit, mom_hit
    out["reason"] = [_why(row, "en") for row in out.itertuples()]
    return out


def emerging_issues(trends: pd.DataFrame, period: str, *, polarity: dict | None = None, alpha: float = 0.05, min_count: int = 5) -> pd.DataFrame:
    """Signals for ``period`` from a monthly (or weekly) ``topic_trends`` table (no ``by``).

    Per topic: a p-chart of its share with the center estimated on the periods *before*
    ``period`` (so the period under test cannot widen its own limits) and 3-sigma limits
    for each period's n — Laney's p′ chart when those periods vary more than binomially
    (``p_chart(laney="auto")``: ``sigma_z`` > 1, column ``sigma_z``); the Western Electric rules on that chart (rule 1 = beyond 3 sigma,
    2 = 2 of 3 beyond 2 sigma, 3 = 4 of 5 beyond 1 sigma, 4 = 8 in a row on one side), each
    evaluated on the window ending at ``period``; and the two-proportion z-test against the
    previous period (its z divided by ``sigma_z`` too). Each signal gives a one-sided p-value in the topic's bad
    direction (up for negative topics, down for positive ones, from ``polarity``; Student t on the baseline
    months − 1 degrees of freedom, as ``sigma_z`` is estimated from them); Simes' test pools a topic's signals
    into one p-value (``p_signal``) and Benjamini–Hochberg turns those into q-values across the topics
    (``q_value``). A topic **alerts** when its q-value is below ``alpha`` — the list of alerts has a false
    discovery rate of at most ``alpha`` — and, going up, it has at least ``min_count`` verbatims in the period.

    Shares add up to one, so a surge in one topic pushes every other share down. A positive
    topic (praise) is therefore judged among the verbatims *outside* the topics that surge
    (column ``judged_without``): fewer compliments because there are more complaints about
    maps is not a fall in praise.
    """
    periods = sorted(trends["period"].unique())
    if period not in periods:
        raise ParameterError(f"period must be one of the trend's periods {periods}; got {period!r}")
    i = periods.index(period)
    if i == 0:
        raise ParameterError(f"period {period} is the first one: at least one earlier period is needed as a baseline")
    polarity = polarity or {}
    out = _decide(_topic_signals(trends, periods, i), polarity, alpha, min_count)
    out["judged_without"] = ""
    surging = out.loc[out["alert"] & (out["direction"] == "up"), "topic"].tolist()
    positive = [t for t in out["topic"] if polarity.get(t) == "positive" and t not in surging]
    if surging and positive:
        rest = trends[~trends["topic"].isin(surging)].copy()
        rest["total"] = rest.groupby("period")["n"].transform("sum")
        redo = _topic_signals(rest[rest["topic"].isin(positive)], periods, i).set_index("topic")
        out = out.set_index("topic")
        out.loc[redo.index, redo.columns] = redo
        out.loc[redo.index, "judged_without"] = ", ".join(surging)
        out = _decide(out.reset_index(), polarity, alpha, min_count)
    return out.sort_values(["alert", "z"], ascending=[False, False], ignore_index=True)


def alert_examples(df: pd.DataFrame, topics, k: int = 3, topic: str = "topic") -> pd.DataFrame:
    """Up to ``k`` distinct example verbatims per topic (most confident first, then most recent)."""
    d = df[df[topic].isin(list(topics))]
    conf = d["probability"] if "probability" in d else pd.Series(1.0, index=d.index)
    d = d.assign(_c=conf.fillna(1.0)).sort_values(["_c", "received_at"], ascending=[False, False])
    d = d.drop_duplicates([topic, "text"]).groupby(topic, sort=False).head(k)
    cols = [c for c in ("feedback_id", "received_at", "channel", "brand", "customer_tier", "csat", "nps", "lang", "text") if c in d]
    return d[[topic] + cols].reset_index(drop=True)


def department_view(df: pd.DataFrame, taxonomy: Taxonomy, alerts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per department: its topics' verbatims this period, share of all, CSAT, NPS, the largest topic and alerts."""
    d = df.assign(department=df["topic"].map(taxonomy.topics.set_index("topic")["department"]))
    sat = satisfaction_by_topic(d, topic="department")
    top = d.groupby("department")["topic"].agg(lambda s: s.value_counts().index[0]).rename("largest_topic")
    out = sat.merge(top, left_on="department", right_index=True, how="left")
    out["share"] = out["verbatims"] / max(len(d), 1)
    if alerts is not None and len(alerts):
        a = alerts[alerts["alert"]].assign(department=lambda x: x["topic"].map(taxonomy.topics.set_index("topic")["department"]))
        out["alerts"] = out["department"].map(a.groupby("department")["topic"].agg(", ".join)).astype(object).fillna("")
    else:
        out["alerts"] = ""
    return out.sort_values("verbatims", ascending=False, ignore_index=True)


# ------------------------------------------------------------------ the month's report tables
TEXT = {
    "en": {
        "title": "Voice of the customer — {month}", "headline": "Headline", "verbatims": "verbatims", "topics": "Topics this month",
        "trend": "Monthly share per topic", "weekly": "Weekly share per topic", "alerts": "Emerging issues", "no_alerts": "No topic moved beyond its normal range this month.",
        "fdr": "Alerts are corrected for testing every topic on several signals at once (Benjamini–Hochberg), so on average "
               "at most 5 % of the alerts listed are false alarms.",
        "satisfaction": "CSAT and NPS by topic", "departments": "By department", "discovered": "Themes found in the text (no labels used)",
        "new_theme": "not covered by the taxonomy", "act": "What to act on", "model": "How the topics were assigned", "examples": "Example verbatims",
        "topic": "topic", "n": "verbatims", "share": "share", "previous": "last month", "change": "change", "q": "q-value", "csat": "CSAT (1–5)",
        "nps": "NPS", "interval": "95 % interval", "alert": "alert", "reason": "why", "department": "department", "largest": "largest topic",
        "matches": "closest taxonomy topic", "purity": "purity", "other_share": "unclassified share", "terms": "top terms", "size": "verbatims",
        "channel": "By channel", "tier": "By customer tier", "brand": "By brand", "date": "received", "text": "verbatim",
        "missing_verbatims": "No VOC verbatims in {month}: there is nothing to report for this month yet. Import the month's verbatims "
                             "(`qa import voc FILE`), then run `qa report voc --month {month} --force`.",
        "no_survey": "No survey answers this month (no CSAT, no NPS). ", "no_csat": "No CSAT answers this month; ",
        "no_nps": "no NPS answers this month. ",
        "empty": "{n:,} verbatims have no words (e.g. “-”) and count as “other”. ",
        "no_model": "No topic classifier this month: it needs at least 2 topics with 5 labelled verbatims (with words) each, so {n:,} unlabelled "
                    "verbatims count as “other”. Label some in the category column and import them again. ",
        "no_cv": "Too few labelled verbatims for 5-fold cross-validation: the classifier's accuracy is not measured this month. ",
        "baseline": "No earlier month of verbatims: an alert compares a topic's share with the months before, so none can be raised. "
                    "Import earlier months (`qa import voc FILE`) to get alerts.",
        "themes_few": "Only {usable:,} verbatims with words this month: looking for themes needs at least {needed:,}, so none were fitted.",
        "themes_terms": "The month's verbatims share too few words to find themes.",
    },
    "zh": {
        "title": "客户之声（VOC）月报 — {month}", "headline": "本月概况", "verbatims": "条反馈", "topics": "本月话题",
        "trend": "各话题月度占比", "weekly": "各话题周度占比", "alerts": "新出现的问题（预警）", "no_alerts": "本月没有话题超出其正常波动范围。",
        "fdr": "预警已对所有话题、所有信号同时检验做了多重比较校正（Benjamini–Hochberg），列出的预警中平均误报不超过 5%。",
        "satisfaction": "各话题满意度（CSAT）与净推荐值（NPS）", "departments": "各部门视图", "discovered": "从文本中发现的主题（不依赖人工标注）",
        "new_theme": "现有分类未覆盖", "act": "建议行动", "model": "话题是如何归类的", "examples": "客户原话示例",
        "topic": "话题", "n": "反馈数", "share": "占比", "previous": "上月占比", "change": "变化", "q": "q 值", "csat": "满意度（1–5）",
        "nps": "NPS", "interval": "95% 区间", "alert": "预警", "reason": "原因", "department": "部门", "largest": "最大话题",
        "matches": "最接近的分类", "purity": "一致度", "other_share": "未归类占比", "terms": "关键词", "size": "反馈数",
        "channel": "按渠道", "tier": "按客户等级", "brand": "按品牌", "date": "时间", "text": "原话",
        "missing_verbatims": "{month} 没有客户反馈（VOC），本月暂无可报告的内容。请导入本月的反馈（`qa import voc 文件`），"
                             "然后运行 `qa report voc --month {month} --force`。",
        "no_survey": "本月没有满意度调查回答（无 CSAT、无 NPS）。", "no_csat": "本月没有 CSAT 回答；", "no_nps": "本月没有 NPS 回答。",
        "empty": "{n:,} 条反馈没有文字内容（如“-”），计入“其他”。",
        "no_model": "本月没有话题分类器：至少需要 2 个话题、每个 5 条有文字的人工标注，因此 {n:,} 条未标注反馈计入“其他”。请在 category 列标注一些反馈后重新导入。",
        "no_cv": "人工标注太少，无法做 5 折交叉验证：本月未评估分类器的准确度。",
        "baseline": "没有更早月份的反馈：预警需要与之前月份的占比比较，因此本月无法预警。导入更早月份的反馈（`qa import voc 文件`）即可获得预警。",
        "themes_few": "本月只有 {usable:,} 条有文字的反馈：发现主题至少需要 {needed:,} 条，因此未做主题发现。",
        "themes_terms": "本月反馈的共同词语太少，无法发现主题。",
    },
}

_VOC_TABLES = ("verbatims", "monthly", "weekly", "by_channel", "by_tier", "by_brand", "satisfaction", "alerts", "examples",
               "discovered", "departments", "department_labels", "model_topics", "taxonomy", "meta")


def _dept_labels(view: dict, lang: str) -> dict:
    d = view["department_labels"]
    return dict(zip(d["department"], d[lang]))


def _check_lang(lang: str) -> str:
    if lang not in TEXT:
        raise ParameterError(f"lang must be one of {sorted(TEXT)}; got {lang!r}")
    return lang


def texts(lang: str) -> dict:
    """The report's headings and column names in ``lang`` (``zh`` or ``en``)."""
    return TEXT[_check_lang(lang)]


def prepare_voc(store, month, folder: str | Path, *, history: int = 6, taxonomy: str | os.PathLike | None = None,
                domain_words: str | os.PathLike | None = None, n_topics: int | None = None, threshold: float = 0.5,
                seed: int = 0, cv_max_rows: int = 20000, min_theme: int = 10) -> Path:
    """Compute a month's VOC report tables into ``folder/_data/voc`` (Parquet) and ``folder/voc_topics_<month>.xlsx``
    (topic and department tables, a sheet per language).

    Reads ``history`` months of verbatims ending with ``month`` from the store, masks and
    tokenizes them, fits the taxonomy classifier on the labelled ones (its cross-validated
    macro-F1 goes into the report), assigns every unlabelled verbatim a topic (or ``other``),
    discovers themes in the month's text, and computes trends, satisfaction, alerts with
    examples and the department view. Returns ``folder``.

    A missing or degenerate part never stops the report; ``meta`` says what is missing and the report shows
    it: no verbatim this month (``missing = "verbatims"``: only ``meta`` is written, the page says what to
    import), no earlier month (``alerts_note = "baseline"``: no alerts), too few verbatims with words for
    themes (``themes_note``), too few labelled verbatims for a classifier or its cross-validation
    (``model_note``), verbatims without a word (``empty``: they count as ``other``), no survey answers.
    """
    from .config import voc_domain_words_path, voc_taxonomy_path

    if not isinstance(history, int) or history < 2:
        raise ParameterError(f"history must be an integer >= 2 (months, the report month included); got {history!r}")
    p = pd.Period(month, freq="M")
    folder = Path(folder)
    df, month_of = _read_verbatims(store, p, history)
    if not (month_of == p).any():  # nothing to analyse: a page that says so and what to import
        return _write_missing(folder, p, history, "verbatims")
    tax = load_taxonomy(taxonomy or voc_taxonomy_path())
    words = domain_words if domain_words is not None else voc_domain_words_path()
    seg = Segmenter(domain_words_file=words if Path(words).is_file() else None)
    prep = prepare(df["text"], seg, df.get("lang"))
    df["text"], df["lang"] = prep["text"], prep["lang"]
    labelled, cv, model_note = _assign_topics(df, prep, tax, threshold, seed, cv_max_rows)
    topics = tax.ids + [OTHER]
    polarity = tax.topics.set_index("topic")["polarity"].to_dict()

    cur = df[month_of == p].copy()
    discovered, notes = _month_themes(cur, prep, tax, n_topics, seed, min_theme)
    monthly = topic_trends(df, freq="M", topics=topics)
    alerts, notes["alerts_note"] = _month_alerts(monthly, str(p), polarity)
    examples = _voc_examples(cur, alerts, discovered)
    sat = satisfaction_by_topic(cur).merge(satisfaction_by_topic(df[month_of == p - 1])[["topic", "csat", "nps"]].rename(
        columns={"csat": "csat_previous", "nps": "nps_previous"}), on="topic", how="left")
    model_topics = cv.pop("per_topic")
    meta = pd.DataFrame([{"month": str(p), "history": history, "verbatims": len(cur), "verbatims_previous": int((month_of == p - 1).sum()),
                          "labelled": int(labelled[month_of == p].sum()), "model": int((cur["source"] == "model").sum()),
                          "unsure": int((cur["source"] == "unsure").sum()), "threshold": threshold, "seed": seed,
                          "taxonomy": tax.name, "trained_on": int(labelled.sum()), **{f"cv_{k2}": v for k2, v in cv.items()},
                          "csat": pd.to_numeric(cur["csat"], errors="coerce").mean(), **dict(zip(("nps", "nps_low", "nps_high", "nps_n"), net_promoter(cur["nps"]))),
                          "csat_n": int(pd.to_numeric(cur["csat"], errors="coerce").notna().sum()), "empty": int((cur["source"] == "empty").sum()),
                          "no_model": int((cur["source"] == "no model").sum()), "missing": "", "model_note": model_note, **notes}])
    tables = {
        "verbatims": cur.drop(columns=["category"]), "monthly": monthly, "weekly": topic_trends(df, freq="W", topics=topics),
        "by_channel": topic_trends(cur, by="channel", topics=topics), "by_tier": topic_trends(cur, by="customer_tier", topics=topics),
        "by_brand": topic_trends(cur, by="brand", topics=topics), "satisfaction": sat, "alerts": alerts, "examples": examples,
        "discovered": discovered.assign(examples=discovered["examples"].map(lambda x: "\n".join(x))),
        "departments": department_view(cur, tax, alerts), "model_topics": model_topics,
        "department_labels": pd.DataFrame([{"department": k, "zh": str(v.get("zh", k)), "en": str(v.get("en", k))} for k, v in tax.departments.items()]), "taxonomy": tax.topics, "meta": meta,
    }
    _write_voc(folder, p, tables, meta)
    return folder


def _read_verbatims(store, p: pd.Period, history: int) -> tuple[pd.DataFrame, pd.Series]:
    """The ``history`` months of verbatims ending with month ``p``, and each one's month (none in ``p``: the caller says so)."""
    t = store.table("voc_feedback")
    start = (p - (history - 1)).start_time
    df = store.read("voc_feedback", where=(t.c.received_at >= start.to_pydatetime()) & (t.c.received_at < (p + 1).start_time.to_pydatetime()))
    df["received_at"] = pd.to_datetime(df["received_at"])
    return df, df["received_at"].dt.to_period("M")


def _write_missing(folder: Path, p: pd.Period, history: int, missing: str) -> Path:
    """A month without what the report needs: only ``meta``, whose ``missing`` says what (the page says what to import)."""
    data = folder / "_data" / "voc"
    data.mkdir(parents=True, exist_ok=True)
    (data / "meta.parquet").unlink(missing_ok=True)
    pd.DataFrame([{"month": str(p), "history": int(history), "verbatims": 0, "missing": missing}]).to_parquet(data / "meta.parquet", index=False)
    return folder


def _assign_topics(df: pd.DataFrame, prep: pd.DataFrame, tax: Taxonomy, threshold: float, seed: int, cv_max_rows: int) -> tuple[pd.Series, dict, str]:
    """Add ``topic, source, probability`` to ``df`` (in place): the label, else the classifier's topic; return the labelled mask,
    the CV scores and why there is no classifier (``labels``) or no cross-validation (``cv``), else "".

    ``source``: ``label``, ``model``, ``unsure`` (the classifier was unsure), ``empty`` (no word to classify: ``-``,
    punctuation only) or ``no model`` (too few labelled verbatims to train one); all but the first two count as ``other``.
    """
    labelled = df["category"].isin(tax.ids)
    empty = (prep["tokens"].fillna("").str.strip() == "").to_numpy()
    unscored = {"macro_f1": np.nan, "macro_f1_sd": np.nan, "folds": 0, "n": 0,
                "per_topic": pd.DataFrame({"topic": pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in ("precision", "recall", "f1", "support")}})}
    try:
        clf = TopicClassifier(threshold=threshold, seed=seed).fit(prep.loc[labelled, "tokens"], df.loc[labelled, "category"])
    except ParameterError:  # fewer than 2 topics with 5 labelled verbatims (with words): no model, the labels still count
        df["topic"] = np.where(labelled, df["category"], OTHER)
        df["source"] = np.where(labelled, "label", np.where(empty, "empty", "no model"))
        df["probability"] = np.where(labelled, 1.0, np.nan)
        return labelled, unscored, "labels"
    pred = clf.predict(prep["tokens"])
    df["topic"] = np.where(labelled, df["category"], pred["topic"].to_numpy())
    df["source"] = np.where(labelled, "label", np.where(empty, "empty", np.where(pred["topic"].to_numpy() == OTHER, "unsure", "model")))
    df["probability"] = np.where(labelled, 1.0, pred["probability"].to_numpy())
    try:
        return labelled, evaluate_classifier(prep.loc[labelled, "tokens"], df.loc[labelled, "category"], seed=seed, max_rows=cv_max_rows), ""
    except ParameterError:  # enough labels to fit, too few to cross-validate: the accuracy is not measured (the report says so)
        return labelled, unscored, "cv"


def _month_alerts(monthly: pd.DataFrame, period: str, polarity: dict) -> tuple[pd.DataFrame, str]:
    """The month's alerts (:func:`emerging_issues`), or — in the first month with verbatims — every topic with no
    alert and the note ``baseline`` (a share can only be judged against earlier months)."""
    if sorted(monthly["period"].unique()).index(period) > 0:
        return emerging_issues(monthly, period, polarity=polarity), ""
    now = monthly[monthly["period"] == period].reset_index(drop=True)
    bad = np.where(now["topic"].map(polarity).fillna("negative") == "positive", "down", "up")
    out = pd.DataFrame({"topic": now["topic"], "n": now["n"].astype(int), "total": now["total"].astype(int), "share": now["share"].astype(float)})
    for col in ("previous_share", "center", "lcl", "ucl", "sigma_z", "chart_z", "baseline_months", "change", "z", "p_value", "p_signal", "q_value"):
        out[col] = np.nan
    for col in ("rule1", "rule2", "rule3", "rule4", "alert", "chart_signal", "rules_signal", "change_signal"):
        out[col] = False
    out = out.assign(chart_direction="", rules_direction="", direction=bad, reason="", judged_without="")
    return out, "baseline"


def _no_themes(n: int) -> Discovered:
    """No theme found: every one of the ``n`` verbatims on topic −1."""
    return Discovered(pd.DataFrame({"topic": pd.Series(dtype=int), "label": pd.Series(dtype=object), "terms": pd.Series(dtype=object),
                                    "size": pd.Series(dtype=int), "share": pd.Series(dtype=float)}),
                      pd.DataFrame({"topic": np.full(n, -1), "weight": np.zeros(n)}))


def _month_themes(cur: pd.DataFrame, prep: pd.DataFrame, tax: Taxonomy, n_topics: int | None, seed: int, min_theme: int) -> tuple[pd.DataFrame, dict]:
    """Themes discovered in the month's text (and among its ``other`` verbatims, numbered from 100); adds ``theme`` to ``cur`` (in place).

    Returns the themes and the notes for ``meta``: ``themes_usable`` (verbatims with words), ``themes_needed``
    (``min_theme`` per theme looked for) and ``themes_note``: ``few`` when fewer verbatims have words than that
    (nothing is fitted), ``terms`` when they share too few words, else "".
    """
    k = n_topics or len(tax.ids) + 3
    tokens = prep.loc[cur.index, "tokens"].fillna("")
    usable = int((tokens.str.strip() != "").sum())
    kk = min(k, max(2, usable // 20))
    notes = {"themes_note": "", "themes_usable": usable, "themes_needed": kk * min_theme}
    found = None
    if usable < kk * min_theme:  # too few verbatims with words to tell themes apart: say so, fit nothing
        notes["themes_note"] = "few"
    else:
        try:
            found = discover_topics(tokens, n_topics=kk, seed=seed)
        except ParameterError:  # the month's verbatims share too few words (or are all alike)
            notes["themes_note"] = "terms"
    found = found or _no_themes(len(cur))
    cur["theme"] = found.assignments["topic"].to_numpy()
    discovered = compare_discovered(found, cur["topic"], cur["text"]).assign(pool="all")
    pool = cur[cur["topic"] == OTHER]
    if int((prep.loc[pool.index, "tokens"].fillna("").str.strip() != "").sum()) >= 2 * min_theme:  # themes the taxonomy cannot place
        try:
            extra = discover_topics(prep.loc[pool.index, "tokens"], n_topics=max(2, min(3, len(pool) // min_theme)), seed=seed, min_df=2, max_df=0.9)
        except ParameterError:
            return discovered, notes
        themes = compare_discovered(extra, pool["topic"], pool["text"], min_size=min_theme).assign(pool=OTHER, topic=lambda d: d["topic"] + 100)
        cur.loc[pool.index, "theme"] = np.where(extra.assignments["topic"].to_numpy() >= 0, extra.assignments["topic"].to_numpy() + 100, -1)
        discovered = pd.concat([discovered, themes], ignore_index=True)
    return discovered, notes


def _voc_examples(cur: pd.DataFrame, alerts: pd.DataFrame, discovered: pd.DataFrame) -> pd.DataFrame:
    """Example verbatims of the alerted topics, then of the new themes (as topic ``theme:<n>``)."""
    alert_topics = alerts.loc[alerts["alert"], "topic"].tolist()
    examples = alert_examples(cur, alert_topics)
    new_themes = discovered[discovered["new"]]
    theme_examples = cur[cur["theme"].isin(new_themes["topic"])].assign(topic=lambda d: "theme:" + d["theme"].astype(str))
    return pd.concat([examples, alert_examples(theme_examples, theme_examples["topic"].unique())], ignore_index=True)


def _write_voc(folder: Path, p: pd.Period, tables: dict[str, pd.DataFrame], meta: pd.DataFrame) -> None:
    """Write the tables to ``folder/_data/voc`` (meta last: present means complete) and the topic workbook."""
    data = folder / "_data" / "voc"
    data.mkdir(parents=True, exist_ok=True)
    (data / "meta.parquet").unlink(missing_ok=True)  # meta is written last: present means complete
    for name, frame in tables.items():
        if name != "meta":
            frame.to_parquet(data / f"{name}.parquet", index=False)
    meta.to_parquet(data / "meta.parquet", index=False)
    view = dict(tables, meta=meta.iloc[0].to_dict())  # the tables just written, as voc_view would read them back
    sheets = {}
    for lg, sheet in (("zh", "话题 topics (zh)"), ("en", "topics (en)")):  # one sheet per report language
        sheets[sheet] = topic_table(view, lg)
        sheets[sheet.replace("topics", "departments").replace("话题", "部门")] = department_table(view, lg)
    write_xlsx(sheets, folder / f"voc_topics_{p}.xlsx")


def voc_prepared(folder: str | Path, month, history: int | None = None) -> bool:
    """True when ``folder`` holds the VOC tables of ``month`` (and of ``history`` months, if given).

    A month prepared without verbatims (``meta["missing"]``) is not prepared: it is looked at again each time,
    so the report follows as soon as the verbatims are imported.
    """
    meta = Path(folder) / "_data" / "voc" / "meta.parquet"
    if not meta.exists():
        return False
    m = pd.read_parquet(meta).iloc[0]
    return (m["month"] == str(pd.Period(month, freq="M")) and (history is None or int(m["history"]) == history)
            and not m.get("missing", ""))


def voc_view(folder: str | Path) -> dict:
    """The tables :func:`prepare_voc` wrote into ``folder``, as DataFrames (``meta`` as a dict).

    For a month without verbatims the view is only ``{"meta": ...}`` with ``meta["missing"]``: :func:`headline`
    says what to import and the notebook shows nothing else.
    """
    data = Path(folder) / "_data" / "voc"
    if (data / "meta.parquet").exists():
        meta = pd.read_parquet(data / "meta.parquet").iloc[0].to_dict()
        if meta.get("missing"):
            return {"meta": meta}
    missing = [n for n in _VOC_TABLES if not (data / f"{n}.parquet").exists()]
    if missing:
        raise NotFoundError(f"the VOC tables are not prepared in {data} (missing {missing}); run `qa report voc --month M`")
    view = {n: pd.read_parquet(data / f"{n}.parquet") for n in _VOC_TABLES}
    view["meta"] = view["meta"].iloc[0].to_dict()
    return view


def _why(row, lang: str) -> str:
    """The signals that fired for an alerts row, in ``lang`` (whether or not it alerts)."""
    zh = lang == "zh"
    why = []
    if row.chart_signal:
        laney = np.isfinite(getattr(row, "sigma_z", np.nan)) and getattr(row, "sigma_z", 1.0) > 1
        why.append(f"{'Laney p′' if laney else 'p'} 控制图：占比 {row.share:.1%} 超出 3σ 控制限 {row.lcl:.1%}–{row.ucl:.1%}" if zh
                   else f"{'Laney p′' if laney else 'p'}-chart: share {row.share:.1%} outside the 3-sigma limits {row.lcl:.1%}–{row.ucl:.1%}")
    if row.rules_signal:
        why.append(("西电判异规则 " if zh else "Western Electric rules ") + ", ".join(str(k) for k in range(1, 5) if getattr(row, f"rule{k}")))
    if row.change_signal:
        why.append(f"较上月 {row.previous_share:.1%} 显著变化" if zh else f"vs last month {row.previous_share:.1%}")
    if np.isfinite(row.q_value):
        why.append(f"多重比较校正后 q = {row.q_value:.2g}" if zh else f"q = {row.q_value:.2g} after correcting for all topics and signals")
    return "；".join(why) if zh else "; ".join(why)


def reason_text(row, lang: str = "zh") -> str:
    """Why a topic alerts, in ``lang``, from an alerts row (a namedtuple from ``itertuples``)."""
    if not row.alert:
        return ""
    zh = _check_lang(lang) == "zh"
    why = _why(row, lang)
    if row.judged_without:
        why += ("；" if zh else "; ") + (f"不计激增话题 {row.judged_without} 后计算" if zh else f"judged without the surging {row.judged_without}")
    return why


def topic_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """The month's topic table: verbatims, share, last month, change, q-value, CSAT, NPS, alert — headers in ``lang``."""
    T = TEXT[_check_lang(lang)]
    tax = view["taxonomy"].set_index("topic")
    a = view["alerts"].merge(view["satisfaction"], on="topic", how="left")
    depts = _dept_labels(view, lang)
    a = a.assign(label=a["topic"].map(tax[lang]), dept=a["topic"].map(tax["department"]).map(lambda d: depts.get(d, d)))
    out = pd.DataFrame({
        T["topic"]: a["label"], T["department"]: a["dept"], T["n"]: a["n"], T["share"]: a["share"].round(4), T["previous"]: a["previous_share"].round(4),
        T["change"]: a["change"].round(4), T["q"]: a["q_value"].round(4), T["csat"]: a["csat"].round(2), T["nps"]: a["nps"].round(1),
        f"{T['nps']} {T['interval']}": [f"{lo:.0f} – {hi:.0f}" if np.isfinite(lo) else "" for lo, hi in zip(a["nps_low"], a["nps_high"])],
        T["alert"]: np.where(a["alert"], "⚠", ""), T["reason"]: [reason_text(r, lang) for r in a.itertuples()],
    })
    return out.sort_values(T["n"], ascending=False, ignore_index=True)


def actions(view: dict, lang: str = "zh") -> list[str]:
    """What to act on, as HTML fragments (every name escaped; no customer text included)."""
    _check_lang(lang)
    tax = view["taxonomy"].set_index("topic")
    depts = _dept_labels(view, lang)
    dname = lambda d: escape(depts.get(d, d))  # noqa: E731
    out = []
    for r in view["alerts"][view["alerts"]["alert"]].itertuples():
        label, dept = escape(tax.loc[r.topic, lang]), dname(tax.loc[r.topic, "department"])
        if r.topic == OTHER:
            out.append(f"<b>{label}</b>：占比 {r.previous_share:.1%} → {r.share:.1%}，{r.n} 条无法归入现有分类；请审阅下面的新主题。" if lang == "zh"
                       else f"<b>{label}</b>: share {r.previous_share:.1%} → {r.share:.1%}; {r.n} verbatims fit no topic of the taxonomy — review the new themes below.")
        elif r.direction == "down":
            out.append(f"<b>{label}</b>（{dept}）：占比 {r.previous_share:.1%} → {r.share:.1%}，明显下降；请查明原因。" if lang == "zh"
                       else f"<b>{label}</b> ({dept}): share fell {r.previous_share:.1%} → {r.share:.1%}; find out why.")
        else:
            out.append(f"<b>{label}</b>（{dept}）：占比 {r.previous_share:.1%} → {r.share:.1%}，{r.n} 条；请负责部门查明原因并反馈改进措施，下月复查。" if lang == "zh"
                       else f"<b>{label}</b> ({dept}): share {r.previous_share:.1%} → {r.share:.1%}, {r.n} verbatims; the owning department should find the cause and report a fix; re-check next month.")
    for r in view["discovered"][view["discovered"]["new"]].itertuples():
        out.append(f"新主题 <b>{escape(r.label)}</b>（{r.size} 条，{r.other_share:.0%} 未归类）：现有分类未覆盖，请质量部审阅示例并决定是否加入分类。" if lang == "zh"
                   else f"New theme <b>{escape(r.label)}</b> ({r.size} verbatims, {r.other_share:.0%} unclassified): not in the taxonomy; quality should review the examples and decide whether to add it.")
    sat = view["satisfaction"]
    sat = sat[(sat["nps_n"] >= 30) & (sat["topic"] != OTHER)].sort_values("nps")
    if len(sat):
        r = sat.iloc[0]
        label = escape(tax.loc[r["topic"], lang])
        out.append(f"NPS 最低的话题是 <b>{label}</b>：{r['nps']:.0f}（{r['nps_low']:.0f} 至 {r['nps_high']:.0f}，{int(r['nps_n'])} 人回答）。" if lang == "zh"
                   else f"Lowest NPS: <b>{label}</b> at {r['nps']:.0f} ({r['nps_low']:.0f} to {r['nps_high']:.0f}, {int(r['nps_n'])} answers).")
    return out


def html_table(df: pd.DataFrame, percent=(), decimals: int = 1) -> str:
    """A DataFrame as an HTML table with every cell escaped (customer text renders as text)."""
    d = df.copy()
    for c in percent:
        if c in d:
            d[c] = [f"{v:.1%}" if isinstance(v, float) and np.isfinite(v) else "" for v in d[c]]
    return d.to_html(index=False, escape=True, na_rep="—", float_format=lambda v: f"{v:.{decimals}f}", border=0, classes="voc")


def charts(view: dict, lang: str = "zh") -> dict[str, str]:
    """The report's charts as HTML fragments (shared plotly.min.js): monthly and weekly share per topic,
    a p-chart per alerting topic, NPS by topic with intervals."""
    import plotly.graph_objects as go

    from .html import figure_html

    T = TEXT[_check_lang(lang)]
    label = view["taxonomy"].set_index("topic")[lang]
    out = {}
    for key in ("monthly", "weekly"):
        t = view[key]
        fig = go.Figure([go.Scatter(x=g["period"], y=g["share"], mode="lines+markers", name=label.get(tp, tp)) for tp, g in t.groupby("topic")])
        fig.update_layout(height=360, margin=dict(l=50, r=20, t=30, b=60), yaxis=dict(tickformat=".0%", title=T["share"]), legend=dict(orientation="h"))
        if key == "monthly":  # one month of history draws as one labelled month, not a time axis of milliseconds
            month_axis(fig, t["period"].astype(str))
        else:  # weeks by their Monday, as labels
            fig.update_xaxes(type="category", categoryorder="category ascending")
        out[key] = figure_html(fig)
    months = view["monthly"]
    for r in view["alerts"][view["alerts"]["alert"]].itertuples():
        g = months[months["topic"] == r.topic].sort_values("period")
        chart = p_chart(g["n"].to_numpy(), g["total"].to_numpy(), baseline=(g["period"] < view["meta"]["month"]).to_numpy(), laney="auto")
        fig = go.Figure([
            go.Scatter(x=g["period"], y=chart["p"], mode="lines+markers", name=T["share"],
                       marker=dict(color=np.where(chart["out_of_control"], "crimson", "steelblue"), size=10)),
            go.Scatter(x=g["period"], y=chart["ucl"], mode="lines", name="UCL", line=dict(dash="dash", color="gray")),
            go.Scatter(x=g["period"], y=chart["center"], mode="lines", name="center", line=dict(dash="dot", color="gray")),
            go.Scatter(x=g["period"], y=chart["lcl"], mode="lines", name="LCL", line=dict(dash="dash", color="gray")),
        ])
        month_axis(fig, g["period"].astype(str))
        fig.update_layout(title=str(label.get(r.topic, r.topic)), height=300, margin=dict(l=50, r=20, t=40, b=40), yaxis=dict(tickformat=".0%"), legend=dict(orientation="h"))
        out[f"pchart:{r.topic}"] = figure_html(fig)
    s = view["satisfaction"].dropna(subset=["nps"]).sort_values("nps")
    fig = go.Figure(go.Bar(y=[label.get(x, x) for x in s["topic"]], x=s["nps"], orientation="h", name=T["nps"],
                           error_x=dict(type="data", symmetric=False, array=(s["nps_high"] - s["nps"]).clip(lower=0), arrayminus=(s["nps"] - s["nps_low"]).clip(lower=0))))
    fig.update_layout(height=60 + 40 * len(s), margin=dict(l=160, r=20, t=30, b=40), xaxis=dict(range=[-100, 100], title=f"{T['nps']} ({T['interval']})"))
    out["nps"] = figure_html(fig)
    return out


# ------------------------------------------------------------------ report blocks (HTML, every value escaped)
def headline(view: dict, lang: str = "zh") -> str:
    """The opening paragraph: volume, change, CSAT, NPS with interval, alerts, how topics were assigned."""
    _check_lang(lang)
    T, m = TEXT[lang], view["meta"]
    if m.get("missing"):
        return "<p>" + escape_code(T["missing_" + m["missing"]].format(month=m["month"])) + "</p>"
    n_alert = int(view["alerts"]["alert"].sum())
    new = int(view["discovered"]["new"].sum())
    notes = escape((T["empty"].format(n=int(m["empty"])) if m.get("empty") else "")
                   + (T["no_model"].format(n=int(m["no_model"])) if m.get("model_note") == "labels" else ""))
    if lang == "zh":
        return (f"<p>本月共收到 <b>{m['verbatims']:,}</b> 条客户反馈（上月 {m['verbatims_previous']:,} 条）。{_survey(m, lang)}"
                f"预警话题 <b>{n_alert}</b> 个，新主题 <b>{new}</b> 个。其中 {m['labelled']:,} 条有人工标注，{m['model']:,} 条由模型归类，"
                f"{m['unsure']:,} 条模型无法确定（计入“其他”）。{notes}</p>")
    return (f"<p><b>{m['verbatims']:,}</b> verbatims this month ({m['verbatims_previous']:,} last month). {_survey(m, lang)}"
            f"<b>{n_alert}</b> topic alerts, <b>{new}</b> new themes. {m['labelled']:,} verbatims were labelled by people, {m['model']:,} "
            f"assigned by the model, {m['unsure']:,} left as “other” because the model was unsure. {notes}</p>")


def _survey(m: dict, lang: str) -> str:
    """The headline's CSAT and NPS sentence (HTML), or what is missing: never a "nan/5" or "NPS nan"."""
    T, zh = TEXT[lang], lang == "zh"
    has_csat = np.isfinite(m.get("csat", np.nan)) if isinstance(m.get("csat"), (int, float, np.number)) else False
    has_nps = int(m.get("nps_n") or 0) > 0
    if not has_csat and not has_nps:
        return T["no_survey"]
    csat = (f"平均满意度 <b>{m['csat']:.2f}</b>/5；" if zh else f"Mean CSAT <b>{m['csat']:.2f}</b>/5; ") if has_csat else T["no_csat"]
    if not has_nps:
        return csat + T["no_nps"]
    return csat + (f"NPS <b>{m['nps']:.0f}</b>（95% 区间 {m['nps_low']:.0f} 至 {m['nps_high']:.0f}，{int(m['nps_n'])} 人回答）。" if zh
                   else f"NPS <b>{m['nps']:.0f}</b> (95 % interval {m['nps_low']:.0f} to {m['nps_high']:.0f}, {int(m['nps_n'])} answers). ")


def alerts_html(view: dict, figures: dict, lang: str = "zh") -> str:
    """Each alert: why it fired, its p-chart and example verbatims (masked, escaped)."""
    T = TEXT[_check_lang(lang)]
    tax = view["taxonomy"].set_index("topic")
    a = view["alerts"][view["alerts"]["alert"]]
    if view["meta"].get("alerts_note"):  # the first month with verbatims: nothing to compare with
        return f"<p>{escape(T[view['meta']['alerts_note']])}</p>"
    fdr = f"<p class='meta'>{escape(T['fdr'])}</p>"
    if not len(a):
        return f"<p>{escape(T['no_alerts'])}</p>{fdr}"
    ex = view["examples"]
    parts = []
    for r in a.itertuples():
        rows = ex[ex["topic"] == r.topic]
        items = "".join(f"<li><span class='meta'>{escape(str(x.received_at)[:10])} · {escape(x.channel)} · CSAT {escape(x.csat)}</span> {escape(x.text)}</li>"
                        for x in rows.itertuples())
        parts.append(f"<h3>{escape(tax.loc[r.topic, lang])} — {r.share:.1%} ({escape(T['previous'])} {r.previous_share:.1%})</h3>"
                     f"<p>{escape(reason_text(r, lang))}</p>"
                     + figures.get(f"pchart:{r.topic}", "") + f"<p><b>{escape(T['examples'])}</b></p><ul>{items}</ul>")
    return fdr + "".join(parts)


def themes_html(view: dict, lang: str = "zh") -> str:
    """Discovered themes (top terms, size, closest taxonomy topic) with examples; new themes first."""
    T = TEXT[_check_lang(lang)]
    tax = view["taxonomy"].set_index("topic")[lang]
    d = view["discovered"].sort_values(["new", "size"], ascending=[False, False])
    rows = "".join(
        f"<tr><td>{'🆕 ' + escape(T['new_theme']) if r.new else ''}</td><td>{escape(r.label)}</td><td>{r.size}</td><td>{escape(tax.get(r.matches, r.matches))}</td>"
        f"<td>{r.purity:.0%}</td><td>{r.other_share:.0%}</td><td>{'<br>'.join(escape(x) for x in str(r.examples).splitlines())}</td></tr>"
        for r in d.itertuples())
    head = "".join(f"<th>{escape(h)}</th>" for h in ("", T["terms"], T["size"], T["matches"], T["purity"], T["other_share"], T["examples"]))
    m = view["meta"]
    note = (f"<p>{escape(T['themes_' + m['themes_note']].format(usable=int(m['themes_usable']), needed=int(m['themes_needed'])))}</p>"
            if m.get("themes_note") else "")
    return f"{note}<table class='voc'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def breakdown_table(view: dict, key: str, lang: str = "zh") -> pd.DataFrame:
    """Topic share by channel, customer tier or brand this month (rows: topics; columns: groups)."""
    T = TEXT[_check_lang(lang)]
    if key not in ("by_channel", "by_tier", "by_brand"):
        raise ParameterError(f"key must be one of ['by_brand', 'by_channel', 'by_tier']; got {key!r}")
    t = view[key]
    col = [c for c in t.columns if c not in ("period", "topic", "n", "total", "share")][0]
    label = view["taxonomy"].set_index("topic")[lang]
    wide = t.pivot_table(index="topic", columns=col, values="share", aggfunc="sum").rename(index=lambda x: label.get(x, x))
    wide = wide.map(lambda v: f"{v:.1%}" if np.isfinite(v) else "—").astype(object)
    wide.loc[T["n"]] = t.groupby(col)["total"].first().map(lambda v: f"{int(v):,}")
    return wide.rename_axis(index=T["topic"], columns=None).reset_index()


def satisfaction_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """CSAT and NPS per topic with intervals and last month's values."""
    T = TEXT[_check_lang(lang)]
    s = view["satisfaction"]
    label = view["taxonomy"].set_index("topic")[lang]
    fmt = lambda lo, hi: [f"{a:.1f} – {b:.1f}" if np.isfinite(a) else "" for a, b in zip(lo, hi)]  # noqa: E731
    return pd.DataFrame({T["topic"]: s["topic"].map(lambda x: label.get(x, x)), T["n"]: s["verbatims"], T["csat"]: s["csat"].round(2),
                         f"CSAT {T['interval']}": fmt(s["csat_low"], s["csat_high"]), f"CSAT {T['previous']}": s["csat_previous"].round(2),
                         T["nps"]: s["nps"].round(0), f"NPS {T['interval']}": fmt(s["nps_low"], s["nps_high"]), "NPS n": s["nps_n"],
                         f"NPS {T['previous']}": s["nps_previous"].round(0)}).sort_values(T["nps"], ignore_index=True)


def department_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """Per department (after-sales, sales, product, quality): volume, share, CSAT, NPS, largest topic, alerts."""
    T = TEXT[_check_lang(lang)]
    d = view["departments"]
    label = view["taxonomy"].set_index("topic")[lang]
    depts = _dept_labels(view, lang)
    return pd.DataFrame({T["department"]: d["department"].map(lambda x: depts.get(x, x)), T["n"]: d["verbatims"], T["share"]: d["share"],
                         T["csat"]: d["csat"].round(2), T["nps"]: d["nps"].round(0),
                         f"NPS {T['interval']}": [f"{a:.0f} – {b:.0f}" if np.isfinite(a) else "" for a, b in zip(d["nps_low"], d["nps_high"])],
                         T["largest"]: d["largest_topic"].map(lambda x: label.get(x, x)),
                         T["alert"]: d["alerts"].map(lambda s: ", ".join(str(label.get(x, x)) for x in s.split(", ") if x))})


def model_html(view: dict, lang: str = "zh") -> str:
    """How topics were assigned: the classifier's cross-validated macro-F1 and its weakest topics."""
    m = view["meta"]
    if m.get("model_note") == "labels":
        return f"<p>{escape(TEXT[_check_lang(lang)]['no_model'].format(n=int(m.get('no_model') or 0)))}</p>"
    if m.get("model_note") == "cv":
        return f"<p>{escape(TEXT[_check_lang(lang)]['no_cv'])}</p>"
    per = view["model_topics"].sort_values("f1").head(5)
    label = view["taxonomy"].set_index("topic")[lang]
    worst = ", ".join(f"{escape(label.get(r.topic, r.topic))} {r.f1:.2f}" for r in per.itertuples())
    if lang == "zh":
        return (f"<p>话题分类器（TF-IDF + 线性 SVM，概率经 sigmoid 校准）用本期及前 {int(m['history']) - 1} 个月的 {int(m['trained_on']):,} 条人工标注训练；"
                f"{int(m['cv_folds'])} 折交叉验证 macro-F1 = <b>{m['cv_macro_f1']:.3f}</b>（±{m['cv_macro_f1_sd']:.3f}，{int(m['cv_n']):,} 条）。"
                f"最高概率低于 {m['threshold']:.0%}、或词语多半未在训练中出现的反馈归为“其他”。F1 最低的话题：{worst}。</p>")
    return (f"<p>The topic classifier (TF-IDF + linear SVM, sigmoid-calibrated probabilities) was trained on {int(m['trained_on']):,} labelled verbatims "
            f"of this month and the {int(m['history']) - 1} before; {int(m['cv_folds'])}-fold cross-validated macro-F1 = <b>{m['cv_macro_f1']:.3f}</b> "
            f"(±{m['cv_macro_f1_sd']:.3f}, {int(m['cv_n']):,} verbatims). A verbatim whose best probability is under {m['threshold']:.0%}, or most of whose "
            f"words were never seen in training, goes to “other”. Weakest topics by F1: {worst}.</p>")
