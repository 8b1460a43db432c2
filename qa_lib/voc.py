"""Voice of the customer: topics, trends, CSAT/NPS and emerging-issue alerts for a month of verbatims.

The pieces, each usable alone:

* :func:`load_taxonomy` — the center's topic list (YAML: id, zh/en labels, owning
  department, polarity) with an "other / unclassified" bucket.
* :class:`TopicClassifier` — the project's one text model (:mod:`qa_lib.textmodel`: hashed
  character and word n-grams of the jieba/English tokens of :mod:`qa_lib.text`, TF-IDF, logistic
  regression by SGD, calibrated probabilities); a verbatim whose best
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
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConfigError, NotFoundError, ParameterError
from .files import write_xlsx
from .fmt import DASH, glossary, missing, num, pct, points
from .html import escape, escape_code, month_axis
from .ingest import read_config_yaml
from .stats.proportions import nps_interval, wilson_interval
from .stats.spc import p_chart, two_proportion_test, western_electric_rules
from .text import Segmenter, prepare

__all__ = ["Taxonomy", "load_taxonomy", "TopicClassifier", "evaluate_classifier", "discover_topics", "compare_discovered",
           "net_promoter", "topic_trends", "satisfaction_by_topic", "emerging_issues", "alert_examples", "department_view",
           "prepare_voc", "voc_prepared", "texts", "reason_text", "voc_view", "topic_table", "new_issues", "theme_issues", "glossary_html", "actions", "headline", "charts", "alerts_html", "themes_html", "breakdown_table", "satisfaction_table", "department_table", "model_html", "html_table", "OTHER", "TEXT", "p_chart", "western_electric_rules"]

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
    """TF-IDF on space-joined tokens (topic discovery; the classifier hashes, :mod:`qa_lib.textmodel`)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=ngram_range, min_df=min_df, max_df=max_df,
                           sublinear_tf=True, dtype=np.float32)


def _pipeline(alpha: float, seed: int, n: int = 100_000):
    """The taxonomy classifier's model: :class:`qa_lib.textmodel.TextModel` (hashed character 1–2-grams of the tokens
    plus word 1–2-grams, TF-IDF, logistic SGD). On the 62,586 real Chinese reviews with words (5-fold, seed 0) it scores
    macro-F1 0.875 vs 0.868 for the calibrated linear SVM it replaced, in a fifth of the fit time (docs/autoqa.md).

    A small corpus (``n`` < 20,000 training verbatims) gets more SGD passes (``ceil(150,000 / n)``, at most 20) and
    classes weighted "balanced" (as the SVM's were): on the 1,526 English complaints macro-F1 0.557 → 0.626 with both;
    on the 50,000-verbatim folds of the reviews "balanced" cost 0.009 (0.875 → 0.866), so large corpora go without."""
    from .textmodel import TextModel

    small = n < 20_000
    epochs = int(min(20, max(5, np.ceil(150_000 / max(n, 1)))))
    return TextModel(words=True, alpha=alpha, calibrate="none", class_weight="balanced" if small else None, epochs=epochs, seed=seed)


def _worded(tokens: list[str]) -> np.ndarray:
    """Verbatims with at least one token ("-" or "！！！" have none: nothing to classify)."""
    return pd.Series(tokens, dtype=object).fillna("").astype(str).str.strip().ne("").to_numpy(dtype=bool)


def _check_labelled(tokens, labels) -> tuple[list[str], np.ndarray]:
    tokens = pd.Series(list(tokens), dtype=object).fillna("").astype(str).tolist()
    labels = np.asarray(pd.Series(labels, dtype=object).astype(str))
    if len(tokens) != len(labels):
        raise ParameterError(f"tokens and labels must have the same length; got {len(tokens)} and {len(labels)}")
    counts = pd.Series(labels).value_counts()
    if len(counts) < 2:
        raise ParameterError(f"labels must hold at least 2 topics; got {list(counts.index)}")
    return tokens, labels


def _seen_hasher():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(token_pattern=r"\S+", lowercase=False, n_features=2**22, alternate_sign=False, norm=None, dtype=np.float32)


class TopicClassifier:
    """Taxonomy classifier on :class:`qa_lib.textmodel.TextModel` (hashed character and word n-grams of the tokens,
    TF-IDF, logistic regression by SGD; its probabilities are calibrated as they come: expected calibration error
    0.02 on the real reviews, docs/autoqa.md).

    Parameters
    ----------
    threshold : float
        A verbatim whose highest probability is below this goes to ``other``
        (``unsure``) instead of a taxonomy topic.
    min_coverage : float
        A verbatim goes to ``other`` as well when less than this share of its words was
        ever seen in training: the model has no evidence about it, however confident the
        probability (which then only reflects the class intercepts) looks. This
        is what lets a new theme collect in ``other`` instead of being forced into a topic.
        (Words seen are kept as a hashed set of 2**22 buckets: an unseen word counts as seen only on a collision.)
    alpha : float
        L2 penalty of the logistic fit.
    seed : int
        Random state (the fit is deterministic for a seed).
    """

    def __init__(self, threshold: float = 0.5, alpha: float = 1e-6, seed: int = 0, min_coverage: float = 0.5):
        if not 0 <= threshold < 1:
            raise ParameterError(f"threshold must be in [0, 1); got {threshold!r}")
        if not alpha > 0:
            raise ParameterError(f"alpha must be > 0; got {alpha!r}")
        if not 0 <= min_coverage <= 1:
            raise ParameterError(f"min_coverage must be in [0, 1]; got {min_coverage!r}")
        self.threshold, self.alpha, self.seed, self.min_coverage = threshold, alpha, seed, min_coverage
        self.model = None

    def fit(self, tokens, labels, min_per_topic: int = 5) -> TopicClassifier:
        """Fit on space-joined tokens and their topic labels; topics with fewer than
        ``min_per_topic`` examples are left out (they cannot be learnt), and so are verbatims
        without a word (``-``, punctuation only): they teach nothing."""
        tokens, labels = _check_labelled(tokens, labels)
        worded = _worded(tokens)
        counts = pd.Series(labels[worded]).value_counts()
        keep = worded & np.isin(labels, counts[counts >= min_per_topic].index)
        if len(set(labels[keep])) < 2:
            raise ParameterError(f"labels must hold at least 2 topics with {min_per_topic}+ examples with words each; got {counts.to_dict()}")
        train = [t for t, k in zip(tokens, keep) if k]
        self.model = _pipeline(self.alpha, self.seed, len(train)).fit(train, labels[keep])
        self.classes_ = self.model.classes_
        self._seen = np.asarray(_seen_hasher().transform(train).sum(axis=0)).ravel() > 0
        return self

    def predict(self, tokens) -> pd.DataFrame:
        """Per verbatim: ``topic`` (``other`` when unsure, or without a word), ``best`` (the top taxonomy topic), ``probability``, ``coverage``."""
        if self.model is None:
            raise ParameterError("the classifier must be fitted first (TopicClassifier().fit(tokens, labels))")
        tokens = pd.Series(list(tokens), dtype=object).fillna("").astype(str).tolist()
        if not tokens:
            return pd.DataFrame({"topic": pd.Series(dtype=object), "best": pd.Series(dtype=object), "probability": pd.Series(dtype=float),
                                 "coverage": pd.Series(dtype=float)})
        out = self.model.predict(tokens)
        best, pmax = out["label"].to_numpy(dtype=object), out["probability"].to_numpy()
        cover = self.coverage(tokens)
        sure = (pmax >= self.threshold) & (cover >= self.min_coverage) & _worded(tokens)
        return pd.DataFrame({"topic": np.where(sure, best, OTHER), "best": best, "probability": pmax, "coverage": cover})

    def coverage(self, tokens) -> np.ndarray:
        """Share of each verbatim's words that were seen in training (1.0 for an empty verbatim)."""
        if self.model is None:
            raise ParameterError("the classifier must be fitted first (TopicClassifier().fit(tokens, labels))")
        tokens = pd.Series(list(tokens), dtype=object).fillna("").astype(str).tolist()
        X = _seen_hasher().transform(tokens).tocsr()  # counts: a word said twice counts twice, as in ``total``
        X.data[~self._seen[X.indices]] = 0
        known = np.asarray(X.sum(axis=1)).ravel()
        total = np.array([len(t.split()) for t in tokens])
        return np.divide(known, total, out=np.ones(len(tokens)), where=total > 0)


def evaluate_classifier(tokens, labels, *, folds: int = 5, seed: int = 0, alpha: float = 1e-6, max_rows: int | None = None) -> dict:
    """Stratified k-fold cross-validation of the taxonomy classifier (before the unsure threshold).

    Returns ``{"macro_f1", "macro_f1_sd", "folds", "n", "per_topic"}`` where ``per_topic``
    is a DataFrame of precision, recall, F1 and support from the out-of-fold predictions.
    ``max_rows`` draws a stratified subsample first (for very large months); the folds then fit the model with the
    settings the whole labelled corpus gets (passes, class weights: :func:`_pipeline`), so the estimate is of the model
    the month is classified with.
    """
    from sklearn.metrics import f1_score, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold, train_test_split

    tokens, labels = _check_labelled(tokens, labels)
    if not isinstance(folds, int) or folds < 2:
        raise ParameterError(f"folds must be an integer >= 2; got {folds!r}")
    worded = _worded(tokens)  # verbatims without a word teach and test nothing
    counts = pd.Series(labels[worded]).value_counts()
    keep = worded & np.isin(labels, counts[counts >= folds].index)
    tokens = [t for t, k in zip(tokens, keep) if k]
    labels = labels[keep]
    if len(set(labels)) < 2:
        raise ParameterError(f"labels must hold at least 2 topics with {folds}+ examples with words each for {folds}-fold cross-validation; "
                             f"got {counts.to_dict()}")
    n_all = len(labels)
    if max_rows is not None and len(labels) > max_rows:
        idx = np.arange(len(labels))
        idx, _ = train_test_split(idx, train_size=max_rows, stratify=labels, random_state=seed)
        tokens, labels = [tokens[i] for i in np.sort(idx)], labels[np.sort(idx)]
    pred = np.empty(len(labels), dtype=object)
    scores = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels):
        # the model's settings follow the corpus it is fitted on in production (all labelled rows), not the subsample
        m = _pipeline(alpha, seed, len(train) if n_all == len(labels) else n_all).fit([tokens[i] for i in train], labels[train])
        pred[test] = m.predict([tokens[i] for i in test])["label"].to_numpy(dtype=object)
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
        "topic": "topic", "n": "verbatims", "share": "share", "previous": "last month", "change": "change in share", "q": "q-value", "csat": "CSAT (1–5)",
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
        "alert_word": "alert", "share_pct": "share (%)", "previous_pct": "last month (%)", "change_pts": "change (points)",
        "csat_previous": "CSAT last month", "nps_previous": "NPS last month", "nps_n": "NPS answers", "new_badge": "new",
        "no_attention": "Nothing needs action this month: no topic moved beyond its normal range and no new issue appeared.",
        "glossary": "What the words mean", "ucl": "upper limit", "lcl": "lower limit", "center_line": "normal level",
        "channels": {"hotline": "Hotline", "online": "Online chat", "email": "E-mail"},
        "tiers": {"diamond": "Diamond card", "gold": "Gold card", "silver": "Silver card", "none": "No tier"},
    },
    "zh": {
        "title": "客户之声（VOC）月报 — {month}", "headline": "本月概况", "verbatims": "条反馈", "topics": "本月话题",
        "trend": "各话题月度占比", "weekly": "各话题周度占比", "alerts": "新出现的问题（预警）", "no_alerts": "本月没有话题超出其正常波动范围。",
        "fdr": "预警已对所有话题、所有信号同时检验做了多重比较校正（Benjamini–Hochberg），列出的预警中平均误报不超过 5%。",
        "satisfaction": "各话题满意度（CSAT）与净推荐值（NPS）", "departments": "各部门视图", "discovered": "从文本中发现的主题（不依赖人工标注）",
        "new_theme": "现有分类未覆盖", "act": "建议行动", "model": "话题是如何归类的", "examples": "客户原话示例",
        "topic": "话题", "n": "反馈数", "share": "占比", "previous": "上月占比", "change": "占比变化", "q": "q 值", "csat": "满意度（1–5）",
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
        "alert_word": "预警", "share_pct": "占比（%）", "previous_pct": "上月占比（%）", "change_pts": "变化（百分点）",
        "csat_previous": "上月满意度", "nps_previous": "上月 NPS", "nps_n": "NPS 回答数", "new_badge": "新",
        "no_attention": "本月没有需要处理的事项：没有话题超出正常波动范围，也没有新问题出现。",
        "glossary": "名词解释", "ucl": "上控制限", "lcl": "下控制限", "center_line": "正常水平",
        "channels": {"hotline": "热线", "online": "在线", "email": "邮件"},
        "tiers": {"diamond": "钻石卡", "gold": "金卡", "silver": "银卡", "none": "无等级"},
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
            extra = None
        if extra is not None:
            themes = compare_discovered(extra, pool["topic"], pool["text"], min_size=min_theme).assign(pool=OTHER, topic=lambda d: d["topic"] + 100)
            cur.loc[pool.index, "theme"] = np.where(extra.assignments["topic"].to_numpy() >= 0, extra.assignments["topic"].to_numpy() + 100, -1)
            discovered = pd.concat([discovered, themes], ignore_index=True)
    discovered["issue"] = theme_issues(discovered, cur, tokens)
    notes["new_issues"] = int(discovered.loc[discovered["new"], "issue"].nunique())
    return discovered, notes


def _words(tokens: str) -> set:
    """The words of a verbatim's tokens, lower case, with the Latin word inside a mixed token as a word too
    (``手机app`` also counts as ``app``: the segmenter keeps some mixed words whole)."""
    low = str(tokens).lower().split()
    return set(low) | {w for t in low for w in re.findall(r"[a-z0-9]{2,}", t)}


def theme_issues(discovered: pd.DataFrame, cur: pd.DataFrame, tokens: pd.Series, *, cover: float = 0.5, elsewhere: float = 0.05) -> np.ndarray:
    """One emerging issue per group of new themes: new themes found among the unclassified verbatims that share a
    distinctive word — one in at least ``cover`` of each theme's verbatims and in under ``elsewhere`` of the month's
    classified ones — are facets of one issue (NMF splits a pool of a few dozen verbatims into several themes by
    their phrasing). Returns per theme row its issue: the smallest theme id of its group (a theme's own id otherwise)."""
    issue = discovered["topic"].to_numpy().copy()
    new = discovered.index[discovered["new"].to_numpy(dtype=bool) & (discovered.get("pool", pd.Series("all", index=discovered.index)) == OTHER).to_numpy()]
    if len(new) < 2 or "theme" not in cur:
        return issue
    words = tokens.reindex(cur.index).fillna("").map(_words)
    classified = words[(cur["topic"] != OTHER).to_numpy()]
    n_known = max(len(classified), 1)
    marks = {}
    for i in new:
        w = words[(cur["theme"] == discovered.at[i, "topic"]).to_numpy()]
        counts = pd.Series([x for s in w for x in s], dtype=object).value_counts()
        common = counts.index[counts >= cover * max(len(w), 1)]
        marks[i] = {x for x in common if sum(x in s for s in classified) < elsewhere * n_known}
    parent = {i: i for i in new}

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i
    for a in new:
        for b in new:
            if a < b and marks[a] & marks[b]:
                parent[root(b)] = root(a)
    for i in new:
        group = [j for j in new if root(j) == root(i)]
        issue[discovered.index.get_loc(i)] = min(discovered.at[j, "topic"] for j in group)
    return issue


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
        sheets[sheet] = topic_table(view, lg, formatted=False)
        sheets[sheet.replace("topics", "departments").replace("话题", "部门")] = department_table(view, lg, formatted=False)
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
            and not m.get("missing", "") and "new_issues" in m)  # tables from before themes were grouped into issues: again


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


_RULES = {
    "zh": {1: "单点超出 3σ", 2: "连续 3 点中 2 点超出 2σ", 3: "连续 5 点中 4 点超出 1σ", 4: "连续 8 点在中心线同一侧"},
    "en": {1: "one point beyond 3 sigma", 2: "2 of 3 points beyond 2 sigma", 3: "4 of 5 points beyond 1 sigma", 4: "8 points in a row on one side"},
}


def _why(row, lang: str) -> str:
    """The signals that fired for an alerts row, in ``lang`` (whether or not it alerts), in plain words."""
    zh = lang == "zh"
    why = []
    if row.chart_signal:
        why.append(f"占比 {pct(row.share)} 超出正常波动范围 {pct(max(row.lcl, 0.0))}–{pct(row.ucl)}（控制图 3σ 控制限）" if zh
                   else f"share {pct(row.share)} outside its normal range {pct(max(row.lcl, 0.0))}–{pct(row.ucl)} (3-sigma control limits)")
    if row.rules_signal:
        fired = [_RULES[lang][k] for k in range(1, 5) if getattr(row, f"rule{k}")]
        why.append(("西电判异规则：" if zh else "Western Electric rules: ") + ("、" if zh else ", ").join(fired))
    if row.change_signal:
        why.append(f"较上月 {pct(row.previous_share)} 显著变化" if zh else f"a clear change vs last month's {pct(row.previous_share)}")
    if np.isfinite(row.q_value):
        q = "< 0.001" if row.q_value < 0.001 else f"= {row.q_value:.3f}"
        why.append(f"q 值 {q}（已校正多重比较）" if zh else f"q {q} (corrected for testing every topic)")
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


def _nps(x) -> str:
    """NPS as the page shows it everywhere: a whole number (−100 to 100)."""
    return num(x, 0)


def _csat(x) -> str:
    """Mean CSAT (1–5) as the page shows it everywhere: two decimals."""
    return num(x, 2)


def _range(lo, hi, lang: str, digits: int = 0, scale=(-100, 100)) -> str:
    """An interval on its scale, in words: ``−89 至 −76`` / ``−89 to −76``."""
    if missing(lo) or missing(hi):
        return DASH
    a, b = min(max(float(lo), scale[0]), scale[1]), min(max(float(hi), scale[0]), scale[1])
    return f"{num(a, digits)} {'至' if lang == 'zh' else 'to'} {num(b, digits)}"


def _code(kind: str, code, lang: str) -> str:
    """A channel or customer-tier code as a word of the page's language (the code itself when the center uses another)."""
    return TEXT[lang][kind].get(str(code), str(code))


def topic_table(view: dict, lang: str = "zh", formatted: bool = True) -> pd.DataFrame:
    """The month's topic table: verbatims, share, last month, change (percentage points), q-value, CSAT, NPS, alert —
    headers in ``lang``. ``formatted`` gives text for the page; ``False`` numbers for the workbook (shares in %,
    the change in points, NPS whole, CSAT two decimals)."""
    T = TEXT[_check_lang(lang)]
    tax = view["taxonomy"].set_index("topic")
    a = view["alerts"].merge(view["satisfaction"], on="topic", how="left")
    depts = _dept_labels(view, lang)
    a = a.assign(label=a["topic"].map(tax[lang]), dept=a["topic"].map(tax["department"]).map(lambda d: depts.get(d, d)))
    if formatted:
        cols = {T["share"]: a["share"].map(pct), T["previous"]: a["previous_share"].map(pct), T["change"]: a["change"].map(lambda v: points(v, lang)),
                T["q"]: a["q_value"].map(lambda v: DASH if missing(v) else "< 0.001" if v < 0.001 else f"{v:.3f}"),
                T["csat"]: a["csat"].map(_csat), T["nps"]: a["nps"].map(_nps), f"{T['nps']} {T['interval']}": [_range(lo, hi, lang) for lo, hi in zip(a["nps_low"], a["nps_high"])]}
    else:
        cols = {T["share_pct"]: (100 * a["share"]).round(1), T["previous_pct"]: (100 * a["previous_share"]).round(1),
                T["change_pts"]: (100 * a["change"]).round(1), T["q"]: a["q_value"].round(3), T["csat"]: a["csat"].round(2), T["nps"]: a["nps"].round(0),
                f"{T['nps']} {T['interval']}": [_range(lo, hi, lang) for lo, hi in zip(a["nps_low"], a["nps_high"])]}
    out = pd.DataFrame({T["topic"]: a["label"], T["department"]: a["dept"], T["n"]: a["n"], **cols,
                        T["alert"]: np.where(a["alert"], T["alert_word"], ""), T["reason"]: [reason_text(r, lang) for r in a.itertuples()]})
    return out.sort_values(T["n"], ascending=False, ignore_index=True)


def new_issues(view: dict) -> pd.DataFrame:
    """The month's emerging issues not covered by the taxonomy: new themes grouped by issue (:func:`theme_issues`).

    One row per issue: ``issue``, ``label`` (its themes' names), ``size``, ``other_share``, ``themes``, ``examples``
    (one per theme first, then the rest; at most 4), ``pool``."""
    d = view["discovered"]
    d = d[d["new"].astype(bool)]
    if "issue" not in d:  # tables prepared before themes were grouped: each theme its own issue
        d = d.assign(issue=d["topic"])
    rows = []
    for issue, g in d.sort_values("size", ascending=False).groupby("issue", sort=False):
        ex = [str(x).splitlines() for x in g["examples"]]
        firsts = [e[0] for e in ex if e]
        rest = [x for e in ex for x in e[1:]]
        rows.append({"issue": issue, "label": " ｜ ".join(g["label"].astype(str)), "size": int(g["size"].sum()),
                     "other_share": float((g["other_share"] * g["size"]).sum() / max(g["size"].sum(), 1)), "themes": len(g),
                     "examples": list(dict.fromkeys(firsts + rest))[:4], "pool": str(g["pool"].iloc[0]) if "pool" in g else "all"})
    out = pd.DataFrame(rows, columns=["issue", "label", "size", "other_share", "themes", "examples", "pool"])
    return out.sort_values("size", ascending=False, ignore_index=True)


def _attention(view: dict, lang: str, short: bool = False) -> list[str]:
    """What needs attention, as HTML fragments: each alerting topic once, each new issue once (the unclassified
    share's rise is the new issue's, not a second item); ``short``: a few words each, for the headline."""
    tax = view["taxonomy"].set_index("topic")
    depts = _dept_labels(view, lang)
    zh = lang == "zh"
    issues = new_issues(view)
    a = view["alerts"][view["alerts"]["alert"]]
    other = a[a["topic"] == OTHER]
    out = []
    if short:
        out = [(f"<b>{escape(tax.loc[r.topic, lang])}</b>占比{'下降' if r.direction == 'down' else '上升'}（{pct(r.previous_share)} → {pct(r.share)}）" if zh else
                f"<b>{escape(tax.loc[r.topic, lang])}</b> {'down' if r.direction == 'down' else 'up'} ({pct(r.previous_share)} → {pct(r.share)})")
               for r in a[a["topic"] != OTHER].itertuples()]
        for r in issues.itertuples():
            name = escape(r.label.split(" ｜ ")[0]) + ("等" if zh and r.themes > 1 else " …" if r.themes > 1 else "")
            out.append(f"现有分类未覆盖的新问题 <b>{name}</b>（{num(r.size)} 条）" if zh else f"a new issue the taxonomy does not cover, <b>{name}</b> ({num(r.size)} verbatims)")
        if len(other) and not len(issues):
            out.append(f"<b>{escape(tax.loc[OTHER, lang])}</b>上升（{num(other.iloc[0]['n'])} 条）" if zh else f"<b>{escape(tax.loc[OTHER, lang])}</b> up ({num(other.iloc[0]['n'])} verbatims)")
        return out
    for r in a[a["topic"] != OTHER].itertuples():
        label, dept = escape(tax.loc[r.topic, lang]), escape(depts.get(tax.loc[r.topic, "department"], tax.loc[r.topic, "department"]))
        if r.direction == "down":
            out.append(f"<b>{label}</b>（{dept}）：占比从 {pct(r.previous_share)} 降至 {pct(r.share)}，明显下降；请查明原因。" if zh
                       else f"<b>{label}</b> ({dept}): share fell from {pct(r.previous_share)} to {pct(r.share)}; find out why.")
        else:
            out.append(f"<b>{label}</b>（{dept}）：占比从 {pct(r.previous_share)} 升至 {pct(r.share)}（{num(r.n)} 条）；请负责部门查明原因并反馈改进措施，下月复查。" if zh
                       else f"<b>{label}</b> ({dept}): share rose from {pct(r.previous_share)} to {pct(r.share)} ({num(r.n)} verbatims); "
                            f"the owning department should find the cause and report a fix; re-check next month.")
    rise = ""
    if len(other):
        o = other.iloc[0]
        rise = (f"；未归类反馈占比从 {pct(o['previous_share'])} 升至 {pct(o['share'])}" if zh
                else f"; the unclassified share rose from {pct(o['previous_share'])} to {pct(o['share'])}")
    for i, r in enumerate(issues.itertuples()):
        out.append(f"现有分类未覆盖的新问题 <b>{escape(r.label)}</b>：{num(r.size)} 条{rise if i == 0 else ''}；请质量部审阅下面的示例，决定是否加入分类。" if zh
                   else f"A new issue the taxonomy does not cover, <b>{escape(r.label)}</b>: {num(r.size)} verbatims{rise if i == 0 else ''}; "
                        f"quality should review the examples below and decide whether to add it.")
    if len(other) and not len(issues):
        o = other.iloc[0]
        out.append(f"<b>{escape(tax.loc[OTHER, lang])}</b>：占比从 {pct(o['previous_share'])} 升至 {pct(o['share'])}，{num(o['n'])} 条无法归入现有分类；请审阅这些反馈。" if zh
                   else f"<b>{escape(tax.loc[OTHER, lang])}</b>: share rose from {pct(o['previous_share'])} to {pct(o['share'])}; {num(o['n'])} verbatims fit no topic — review them.")
    return out


def actions(view: dict, lang: str = "zh") -> list[str]:
    """What to act on, as HTML fragments (every name escaped; no customer text included)."""
    _check_lang(lang)
    tax = view["taxonomy"].set_index("topic")
    out = _attention(view, lang)
    sat = view["satisfaction"]
    sat = sat[(sat["nps_n"] >= 30) & (sat["topic"] != OTHER)].sort_values("nps")
    if len(sat):
        r = sat.iloc[0]
        label = escape(tax.loc[r["topic"], lang])
        out.append(f"NPS 最低的话题是 <b>{label}</b>：{_nps(r['nps'])}（95% 区间 {_range(r['nps_low'], r['nps_high'], lang)}，{num(r['nps_n'])} 人回答）。" if lang == "zh"
                   else f"Lowest NPS: <b>{label}</b> at {_nps(r['nps'])} (95 % interval {_range(r['nps_low'], r['nps_high'], lang)}, {num(r['nps_n'])} answers).")
    return out


def html_table(df: pd.DataFrame, percent=(), decimals: int = 1) -> str:
    """A DataFrame as an HTML table with every cell escaped (customer text renders as text); ``percent`` columns of
    shares shown as %, other numbers with ``decimals`` and thousands separators, a dash where there is none."""
    d = df.copy()
    for c in percent:
        if c in d:
            d[c] = [pct(v) if isinstance(v, (float, np.floating)) else v for v in d[c]]
    for c in d.columns:
        if pd.api.types.is_float_dtype(d[c]):
            d[c] = d[c].map(lambda v: num(v, decimals))
        elif pd.api.types.is_integer_dtype(d[c]):
            d[c] = d[c].map(num)
    return d.to_html(index=False, escape=True, na_rep=DASH, border=0, classes="voc")


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
            go.Scatter(x=g["period"], y=chart["ucl"], mode="lines", name=T["ucl"], line=dict(dash="dash", color="gray")),
            go.Scatter(x=g["period"], y=chart["center"], mode="lines", name=T["center_line"], line=dict(dash="dot", color="gray")),
            go.Scatter(x=g["period"], y=chart["lcl"], mode="lines", name=T["lcl"], line=dict(dash="dash", color="gray")),
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
# ------------------------------------------------------------------ report blocks (HTML, every value escaped)
def headline(view: dict, lang: str = "zh") -> str:
    """The opening paragraph: first what needs attention (each alert and new issue once), then volume, CSAT, NPS
    with its interval (or that there are no survey answers), how topics were assigned."""
    _check_lang(lang)
    T, m = TEXT[lang], view["meta"]
    if m.get("missing"):
        return "<p>" + escape_code(T["missing_" + m["missing"]].format(month=m["month"])) + "</p>"
    zh = lang == "zh"
    attention = _attention(view, lang, short=True)
    if attention:
        first = (f"<p>本月有 <b>{len(attention)}</b> 件事需要处理：" + "；".join(attention) + "。详见“建议行动”。</p>" if zh else
                 f"<p><b>{len(attention)}</b> {'thing needs' if len(attention) == 1 else 'things need'} action this month: " + "; ".join(attention)
                 + " — see “What to act on”.</p>")
    else:
        first = f"<p>{escape(T['no_attention'])}</p>"
    notes = escape((T["empty"].format(n=int(m["empty"])) if m.get("empty") else "")
                   + (T["no_model"].format(n=int(m["no_model"])) if m.get("model_note") == "labels" else ""))
    if zh:
        return first + (f"<p>本月共收到 <b>{num(m['verbatims'])}</b> 条客户反馈（上月 {num(m['verbatims_previous'])} 条）。{_survey(m, lang)}"
                        f"其中 {num(m['labelled'])} 条有人工标注，{num(m['model'])} 条由模型归类，"
                        f"{num(m['unsure'])} 条模型无法确定（计入“其他”）。{notes}</p>")
    return first + (f"<p><b>{num(m['verbatims'])}</b> verbatims this month ({num(m['verbatims_previous'])} last month). {_survey(m, lang)}"
                    f"{num(m['labelled'])} verbatims were labelled by people, {num(m['model'])} "
                    f"assigned by the model, {num(m['unsure'])} left as “other” because the model was unsure. {notes}</p>")


def _survey(m: dict, lang: str) -> str:
    """The headline's CSAT and NPS sentence (HTML), or what is missing: never a "nan/5" or "NPS nan"."""
    T, zh = TEXT[lang], lang == "zh"
    has_csat = not missing(m.get("csat")) and int(m.get("csat_n") or 0) > 0 if "csat_n" in m else not missing(m.get("csat"))
    has_nps = int(m.get("nps_n") or 0) > 0 and not missing(m.get("nps"))
    if not has_csat and not has_nps:
        return T["no_survey"]
    csat = (f"平均满意度 <b>{_csat(m['csat'])}</b>/5；" if zh else f"Mean CSAT <b>{_csat(m['csat'])}</b>/5; ") if has_csat else T["no_csat"]
    if not has_nps:
        return csat + T["no_nps"]
    return csat + (f"NPS <b>{_nps(m['nps'])}</b>（95% 区间 {_range(m['nps_low'], m['nps_high'], lang)}，{num(m['nps_n'])} 人回答）。" if zh
                   else f"NPS <b>{_nps(m['nps'])}</b> (95 % interval {_range(m['nps_low'], m['nps_high'], lang)}, {num(m['nps_n'])} answers). ")


def _example_li(x, lang: str) -> str:
    csat = DASH if missing(pd.to_numeric(pd.Series([x.csat]), errors="coerce").iloc[0]) else str(x.csat)
    return (f"<li><span class='meta'>{escape(str(x.received_at)[:10])} · {escape(_code('channels', x.channel, lang))} · "
            f"CSAT {escape(csat)}</span> {escape(x.text)}</li>")


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
        items = "".join(_example_li(x, lang) for x in rows.itertuples())
        parts.append(f"<h3>{escape(tax.loc[r.topic, lang])} — {pct(r.share)}（{escape(T['previous'])} {pct(r.previous_share)}）</h3>" if lang == "zh" else
                     f"<h3>{escape(tax.loc[r.topic, lang])} — {pct(r.share)} ({escape(T['previous'])} {pct(r.previous_share)})</h3>")
        parts[-1] += (f"<p>{escape(reason_text(r, lang))}</p>"
                      + figures.get(f"pchart:{r.topic}", "") + f"<p><b>{escape(T['examples'])}</b></p><ul>{items}</ul>")
    return fdr + "".join(parts)


def themes_html(view: dict, lang: str = "zh") -> str:
    """New issues first (one row each, its themes' names together, with a text badge), then the other themes found
    in the text (top terms, size, closest taxonomy topic) with examples."""
    T = TEXT[_check_lang(lang)]
    tax = view["taxonomy"].set_index("topic")[lang]
    badge = f"<span class='badge'>{escape(T['new_badge'])}</span> {escape(T['new_theme'])}"
    rows = "".join(
        f"<tr class='new'><td>{badge}</td><td>{escape(r.label)}</td><td>{num(r.size)}</td><td>{escape(tax.get(OTHER, OTHER))}</td>"
        f"<td>{DASH}</td><td>{pct(r.other_share, 0)}</td><td>{'<br>'.join(escape(x) for x in r.examples)}</td></tr>"
        for r in new_issues(view).itertuples())
    d = view["discovered"]
    d = d[~d["new"].astype(bool)].sort_values("size", ascending=False)
    rows += "".join(
        f"<tr><td></td><td>{escape(r.label)}</td><td>{num(r.size)}</td><td>{escape(tax.get(r.matches, r.matches))}</td>"
        f"<td>{pct(r.purity, 0)}</td><td>{pct(r.other_share, 0)}</td><td>{'<br>'.join(escape(x) for x in str(r.examples).splitlines())}</td></tr>"
        for r in d.itertuples())
    head = "".join(f"<th>{escape(h)}</th>" for h in ("", T["terms"], T["size"], T["matches"], T["purity"], T["other_share"], T["examples"]))
    m = view["meta"]
    note = (f"<p>{escape(T['themes_' + m['themes_note']].format(usable=int(m['themes_usable']), needed=int(m['themes_needed'])))}</p>"
            if m.get("themes_note") else "")
    return f"{note}<table class='voc'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def breakdown_table(view: dict, key: str, lang: str = "zh") -> pd.DataFrame:
    """Topic share by channel, customer tier or brand this month (rows: topics; columns: groups, as words of ``lang``)."""
    T = TEXT[_check_lang(lang)]
    if key not in ("by_channel", "by_tier", "by_brand"):
        raise ParameterError(f"key must be one of ['by_brand', 'by_channel', 'by_tier']; got {key!r}")
    t = view[key]
    col = [c for c in t.columns if c not in ("period", "topic", "n", "total", "share")][0]
    label = view["taxonomy"].set_index("topic")[lang]
    wide = t.pivot_table(index="topic", columns=col, values="share", aggfunc="sum").rename(index=lambda x: label.get(x, x))
    wide = wide.map(pct).astype(object)
    wide.loc[T["n"]] = t.groupby(col)["total"].first().map(num)
    kind = {"by_channel": "channels", "by_tier": "tiers"}.get(key)
    if kind:
        wide = wide.rename(columns=lambda c: _code(kind, c, lang))
    return wide.rename_axis(index=T["topic"], columns=None).reset_index()


def satisfaction_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """CSAT and NPS per topic with intervals and last month's values (the same rounding as every other NPS and CSAT)."""
    T = TEXT[_check_lang(lang)]
    s = view["satisfaction"].sort_values("nps", ignore_index=True)
    label = view["taxonomy"].set_index("topic")[lang]
    return pd.DataFrame({T["topic"]: s["topic"].map(lambda x: label.get(x, x)), T["n"]: s["verbatims"].map(num), T["csat"]: s["csat"].map(_csat),
                         f"CSAT {T['interval']}": [_range(a, b, lang, 2, (1, 5)) for a, b in zip(s["csat_low"], s["csat_high"])],
                         T["csat_previous"]: s["csat_previous"].map(_csat),
                         T["nps"]: s["nps"].map(_nps), f"NPS {T['interval']}": [_range(a, b, lang) for a, b in zip(s["nps_low"], s["nps_high"])],
                         T["nps_n"]: s["nps_n"].map(num), T["nps_previous"]: s["nps_previous"].map(_nps)})


def department_table(view: dict, lang: str = "zh", formatted: bool = True) -> pd.DataFrame:
    """Per department (after-sales, sales, product, quality): volume, share, CSAT, NPS, largest topic, alerts."""
    T = TEXT[_check_lang(lang)]
    d = view["departments"]
    label = view["taxonomy"].set_index("topic")[lang]
    depts = _dept_labels(view, lang)
    nums = ({T["n"]: d["verbatims"].map(num), T["share"]: d["share"].map(pct), T["csat"]: d["csat"].map(_csat), T["nps"]: d["nps"].map(_nps)} if formatted else
            {T["n"]: d["verbatims"], T["share_pct"]: (100 * d["share"]).round(1), T["csat"]: d["csat"].round(2), T["nps"]: d["nps"].round(0)})
    return pd.DataFrame({T["department"]: d["department"].map(lambda x: depts.get(x, x)), **nums,
                         f"NPS {T['interval']}": [_range(a, b, lang) for a, b in zip(d["nps_low"], d["nps_high"])],
                         T["largest"]: d["largest_topic"].map(lambda x: label.get(x, x)),
                         T["alert"]: d["alerts"].map(lambda s: ("、" if lang == "zh" else ", ").join(str(label.get(x, x)) for x in s.split(", ") if x))})


def model_html(view: dict, lang: str = "zh") -> str:
    """How topics were assigned: the classifier's agreement with the people's labels (macro-F1, in plain words) and its weakest topics."""
    m = view["meta"]
    if m.get("model_note") == "labels":
        return f"<p>{escape(TEXT[_check_lang(lang)]['no_model'].format(n=int(m.get('no_model') or 0)))}</p>"
    if m.get("model_note") == "cv":
        return f"<p>{escape(TEXT[_check_lang(lang)]['no_cv'])}</p>"
    per = view["model_topics"].sort_values("f1").head(3)
    label = view["taxonomy"].set_index("topic")[lang]
    worst = ("、" if lang == "zh" else ", ").join(f"{escape(label.get(r.topic, r.topic))} {r.f1:.2f}" for r in per.itertuples())
    if lang == "zh":
        return (f"<p>没有人工标注的反馈由模型归入话题。模型从本月及前 {int(m['history']) - 1} 个月的 {num(m['trained_on'])} 条人工标注中学习；"
                f"用它没见过的人工标注反馈检验，模型归类与人工一致的程度（macro-F1，0 到 1，1 表示完全一致）为 <b>{m['cv_macro_f1']:.2f}</b>。"
                f"模型没有把握（最高概率低于 {pct(m['threshold'], 0)}，或多数词语从未在标注中出现）的反馈计入“其他”，不会被硬塞进某个话题。"
                f"一致程度最低的话题：{worst}。</p>")
    return (f"<p>Verbatims nobody labelled were put into topics by a model, which learnt from {num(m['trained_on'])} labelled verbatims of this "
            f"month and the {int(m['history']) - 1} before. Tested on labelled verbatims it had not seen, it agreed with the people's labels at "
            f"<b>{m['cv_macro_f1']:.2f}</b> (macro-F1, 0 to 1, 1 = always the same topic). A verbatim the model is unsure of (best probability under "
            f"{pct(m['threshold'], 0)}, or mostly words never seen in the labels) goes to “other” instead of being forced into a topic. "
            f"Lowest agreement: {worst}.</p>")


_VOC_GLOSSARY = {
    "zh": (("控制图与 3σ 控制限", "根据前几个月的占比算出一个话题“正常波动”的上下限；本月占比超出这个范围，说明变化不太可能只是随机波动。"),
           ("西电判异规则", "控制图上的四条判异规则（Western Electric）：1 单点超出 3σ；2 连续 3 点中 2 点超出 2σ；3 连续 5 点中 4 点超出 1σ；"
                          "4 连续 8 点在中心线同一侧。触发任何一条，都提示占比出现了真实的变化。"),
           ("q 值", "同时检查很多话题时，难免有几个纯属偶然“看起来异常”。q 值是校正了这一点之后的误报可能：q 值低于 0.05 才列为预警，"
                   "列出的预警中平均误报不超过 5%。越小越可靠。"),
           ("macro-F1", "模型归类与人工标注一致的程度，先按话题分别计算再取平均（小话题与大话题同等重要）；0 到 1，1 表示完全一致。")),
    "en": (("control chart and 3-sigma limits", "From the earlier months' shares, the range a topic's share normally moves in; a share outside it is "
                                               "unlikely to be chance alone."),
           ("Western Electric rules", "Four rules read on the control chart: 1 one point beyond 3 sigma; 2 two of three points beyond 2 sigma; "
                                      "3 four of five beyond 1 sigma; 4 eight in a row on one side of the center line. Any of them points to a real change."),
           ("q value", "Checking many topics at once, a few look unusual by chance. The q value is the chance of a false alarm after correcting for "
                       "that: a topic alerts when its q value is under 0.05, so on average at most 5 % of the alerts are false alarms. Smaller is surer."),
           ("macro-F1", "How often the model's topic matches the people's label, computed per topic and averaged (small topics count as much as "
                        "large ones); 0 to 1, 1 = always the same.")),
}


def glossary_html(lang: str = "zh") -> str:
    """The page's glossary: the shared words (interval, points, FDR) and the VOC page's own (control chart, Western
    Electric rules, q value, macro-F1), in plain words."""
    _check_lang(lang)
    base = glossary(lang, ["interval", "points", "fdr"])
    extra = "".join(f"<dt><b>{escape(a)}</b></dt><dd>{escape(b)}</dd>" for a, b in _VOC_GLOSSARY[lang])
    return base.replace("</dl></details>", extra + "</dl></details>").replace("<details class=", "<details open class=")
