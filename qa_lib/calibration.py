"""Calibration sessions: how far inspectors agree, item by item, who is lenient or strict, and drift.

Tidy functions over evaluation frames (one row per evaluation or item answer) that return tidy
frames; the agreement coefficients they use (Krippendorff's α, Gwet's AC1, κ, ICC, bootstrap
intervals) are array-level functions in :mod:`qa_lib.stats.agreement`.

Reading α (Krippendorff 2004): ≥ 0.800 reliable; 0.667–0.800 tentative conclusions only;
below 0.667 not reliable.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ParameterError
from .stats.agreement import (
    bootstrap_ci,
    gwet_ac1,
    gwet_ac2,
    interpret_alpha,
    krippendorff_alpha,
    percent_agreement,
    undefined_reason,
)

__all__ = [
    "reliability_matrix", "item_reliability", "item_scales", "inspector_bias", "item_bias", "widest_disagreement",
    "leniency_adjustment", "adjusted_agent_scores", "counted_once", "drift", "session_report", "session_check", "why_no_alpha",
    "MIN_CALLS_TO_RANK", "DOMINANT_SHARE", "AGREE",
]

#: A session (or an item) is computed from at least this many calls scored by two or more inspectors.
MIN_CALLS = 2


# ------------------------------------------------------------------ tidy wrappers
#: Numeric codes of item answers for ordinal statistics (yes > partial > no).
ANSWER_SCALE = {"no": 0.0, "partial": 0.5, "yes": 1.0}


def _answer_values(answers: pd.Series) -> pd.Series:
    """yes/partial/no → 1/0.5/0, numbers stay, N/A and blank → NaN."""
    mapped = answers.map(ANSWER_SCALE)
    numeric = pd.to_numeric(answers.where(mapped.isna()), errors="coerce")
    return mapped.fillna(numeric)


def why_no_alpha(mat, noun: str = "answers") -> str:
    """Why α cannot be read from an inspectors × calls matrix, in words a calibration lead can act on; "" when it can.

    ``needs ≥ 2 inspectors`` / ``needs ≥ 2 calls scored by 2+ inspectors`` (more scoring is the fix), or
    ``no variation: α undefined (all N answers agree)`` — everyone gave the same answer, which is agreement,
    not a lack of data.
    """
    why = undefined_reason(mat, min_units=MIN_CALLS)
    if why is None:
        return ""
    kind, n = why
    if kind == "raters":
        return f"needs ≥ 2 inspectors ({n} scored)"
    if kind == "units":
        return f"needs ≥ {MIN_CALLS} calls scored by 2+ inspectors ({n} so far)"
    return f"no variation: α undefined (all {n} {noun} agree)"


def session_check(evaluations: pd.DataFrame, *, unit: str = "contact_id", rater: str = "inspector_id") -> str:
    """Why a session's agreement cannot be computed (``needs ≥ 2 inspectors: only ZJ01 scored``…); "" when it can."""
    if evaluations.empty:
        return "no calibration evaluation"
    inspectors = sorted(evaluations[rater].dropna().unique())
    if len(inspectors) < 2:
        return f"needs ≥ 2 inspectors: only {', '.join(map(str, inspectors)) or 'nobody'} scored"
    shared = int((evaluations.groupby(unit)[rater].nunique() >= 2).sum())
    if shared < MIN_CALLS:
        return f"needs ≥ {MIN_CALLS} calls scored by 2+ inspectors: {shared} so far"
    return ""


def reliability_matrix(frame: pd.DataFrame, unit: str, rater: str, value: str) -> pd.DataFrame:
    """Pivot a tidy frame into the raters × units matrix the array functions take."""
    for col in (unit, rater, value):
        if col not in frame.columns:
            raise ParameterError(f"frame has no column {col!r}; columns: {list(frame.columns)}")
    return _wide(frame, [rater], unit, value, "first")


def _wide(frame: pd.DataFrame, index: list[str], column: str, value: str, how: str) -> pd.DataFrame:
    """``pivot_table(index, column, value, aggfunc=how)`` ("first" or "mean" of the non-missing values) by codes.

    Rows and columns with no value are dropped, as pivot_table does; ten times faster on small frames.
    """
    vals = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    levels = [pd.factorize(frame[c], sort=True) for c in index]
    combined, bad = np.zeros(len(frame), dtype=np.int64), np.zeros(len(frame), dtype=bool)
    for codes, names in levels:
        combined, bad = combined * max(names.size, 1) + codes, bad | (codes < 0)
    r_codes, uniq = pd.factorize(np.where(bad, -1, combined), sort=True)
    r_codes = np.where(bad, -1, r_codes)
    uniq, parts = np.asarray(uniq), []
    for _codes, names in reversed(levels):
        uniq, part = np.divmod(uniq, max(names.size, 1))
        parts.insert(0, np.asarray(names)[part])
    r_names = pd.MultiIndex.from_arrays(parts, names=index) if len(index) > 1 else pd.Index(parts[0], name=index[0])
    if bad.any():  # the -1 group of rows with a missing key is not a row of the table
        r_codes = np.where(bad, -1, r_codes - 1)
        r_names = r_names[1:]
    c_codes, c_names = pd.factorize(frame[column], sort=True)
    ok = (r_codes >= 0) & (c_codes >= 0) & ~np.isnan(vals)
    flat = r_codes[ok] * c_names.size + c_codes[ok]
    size = r_names.size * c_names.size
    if how == "first":
        out = np.full(size, np.nan)
        out[flat[::-1]] = vals[ok][::-1]  # the first value of a cell is written last
    else:
        with np.errstate(invalid="ignore"):
            out = np.bincount(flat, weights=vals[ok], minlength=size) / np.bincount(flat, minlength=size)
    out = out.reshape(r_names.size, c_names.size)
    keep_r, keep_c = ~np.isnan(out).all(axis=1), ~np.isnan(out).all(axis=0)
    return pd.DataFrame(out[keep_r][:, keep_c], index=r_names[keep_r], columns=pd.Index(c_names[keep_c], name=column))


#: Items scored in fewer calls than this (by two or more inspectors) are listed last, not ranked (``min_calls``).
MIN_CALLS_TO_RANK = 10
#: "α is low only because one answer dominates": α below Krippendorff's 0.667, the most common answer at least
#: this share of the item's answers, and the prevalence-robust coefficient (AC1/AC2) at least :data:`AGREE`.
#: On the sample center's 8 routine items (3 % recording noise, 88–97 % 'yes') AC1 is 0.86–0.94 while α is
#: 0.34–0.70; on the planted ambiguous item AC is about 0.5 — the rule separates them (docs/calibration.md).
DOMINANT_SHARE = 0.85
AGREE = 0.80
_ALPHA_LOW = 0.667
_ZH_ANSWER = {"yes": "是", "no": "否", "partial": "部分"}
_ITEM_COLUMNS = ["item_id", "rank", "calls", "inspectors", "percent_agreement", "top_answer", "top_share", "measure", "ac",
                 "ac_low", "ac_high", "alpha", "alpha_low", "alpha_high", "reading"]


def item_scales(card=None) -> dict[str, tuple]:
    """Per scored item of ``card``: (AC weights, declared values on the :data:`ANSWER_SCALE` codes, α level).

    yes/no → AC1 (nominal); yes/partial/no → AC2 with Gwet's ordinal weights; a scale or a fault count → AC2 with
    quadratic weights over its declared values, α interval. Bonus and unscored items are left out.
    """
    if card is None:
        return {}
    out = {}
    for it in card.items:
        if not it.scored or it.bonus:
            continue
        if it.kind == "yes_no":
            out[it.id] = (None, [0.0, 1.0], "nominal")
        elif it.kind == "yes_partial_no":
            out[it.id] = ("ordinal", [0.0, 0.5, 1.0], "ordinal")
        else:
            lo, hi = it.scale if it.kind == "scale" else (0, it.max_count)
            whole = float(lo).is_integer() and float(hi).is_integer()
            out[it.id] = ("quadratic", [float(v) for v in range(int(lo), int(hi) + 1)] if whole else None, "interval")
    return out


def _inferred_scale(raw: pd.Series, values: pd.Series) -> tuple:
    """The scale of an item without a scorecard, from its answers: yes/no, yes/partial/no, or numbers."""
    words = set(raw.dropna().astype(str).str.lower()) - {"na", "n/a", ""}
    if words and words <= {"yes", "no"}:
        return None, [0.0, 1.0], "nominal"
    if words and words <= {"yes", "no", "partial"}:
        return "ordinal", [0.0, 0.5, 1.0], "ordinal"
    seen = np.unique(values.dropna().to_numpy(dtype=float))
    return "quadratic", list(seen) if seen.size >= 2 else None, "interval"


def _answer_name(v: float, scale: tuple, lang: str) -> str:
    """A coded answer back in words: 1 → yes / 是, 0.5 → partial / 部分, 0 → no / 否, numbers as numbers."""
    if scale[2] != "interval":
        word = {1.0: "yes", 0.5: "partial", 0.0: "no"}.get(float(v), str(v))
        return _ZH_ANSWER.get(word, word) if lang == "zh" else word
    return f"{v:g}"


def item_reliability(evaluations: pd.DataFrame, *, unit: str = "contact_id", rater: str = "inspector_id", item: str = "item_id",
                     answer: str = "answer", card=None, min_calls: int = MIN_CALLS_TO_RANK, n_boot: int = 500, random_state=0,
                     confidence: float = 0.95, lang: str = "en") -> pd.DataFrame:
    """Agreement per scorecard item, ranked least reliable first by a prevalence-robust coefficient.

    The rank uses Gwet's AC1 (yes/no) or AC2 (yes/partial/no: ordinal weights; scales and fault counts: quadratic),
    over the item's declared answers (``card``, else read from the answers); Krippendorff's α stands beside it. Both
    have a percentile bootstrap interval over calls (``n_boot`` 0: none). ``calls`` counts calls scored by two or
    more inspectors; an item with fewer than ``min_calls`` is listed last, unranked ("too few calls to rank").
    ``reading`` (``lang`` zh or en) says what to do, and says so when α is low only because one answer dominates
    (:data:`DOMINANT_SHARE`, :data:`AGREE`) — α then punishes agreement on a near-constant item.
    """
    missing = [c for c in (unit, rater, item, answer) if c not in evaluations.columns]
    if missing:
        raise ParameterError(f"evaluations must have columns {unit}, {rater}, {item}, {answer}; missing {missing}")
    if not isinstance(min_calls, (int, np.integer)) or isinstance(min_calls, bool) or min_calls < 2:
        raise ParameterError(f"min_calls must be an integer ≥ 2; got {min_calls!r}")
    if lang not in ("zh", "en"):
        raise ParameterError(f"lang must be 'zh' or 'en'; got {lang!r}")
    if n_boot and (not isinstance(n_boot, (int, np.integer)) or n_boot < 10):
        raise ParameterError(f"n_boot must be 0 (no intervals) or an integer ≥ 10; got {n_boot!r}")
    df = evaluations[[unit, rater, item, answer]].copy()
    df["_v"] = _answer_values(df[answer].astype(object))
    scales = item_scales(card)
    rows = []
    for item_id, sel, mat in _item_matrices(df, item, unit, rater, "_v"):
        scale = scales.get(item_id) or _inferred_scale(df[answer][sel], df["_v"][sel])
        rows.append(_item_row(item_id, mat, scale, min_calls, n_boot, random_state, confidence, lang))
    out = pd.DataFrame(rows, columns=_ITEM_COLUMNS)
    return _ranked(out, min_calls, lang)


def _item_matrices(df: pd.DataFrame, item: str, unit: str, rater: str, value: str):
    """Per item (sorted): its rows (a mask) and its raters × units matrix (first value per cell), ids coded once."""
    i_codes, i_names = pd.factorize(df[item], sort=True)
    r_codes, r_names = pd.factorize(df[rater], sort=True)
    u_codes, u_names = pd.factorize(df[unit], sort=True)
    v = df[value].to_numpy(dtype=float)
    ok = (r_codes >= 0) & (u_codes >= 0) & ~np.isnan(v)
    for k, item_id in enumerate(i_names):
        sel = i_codes == k
        on = np.flatnonzero(sel & ok)[::-1]  # the first value of a cell is written last
        mat = np.full((r_names.size, u_names.size), np.nan)
        mat[r_codes[on], u_codes[on]] = v[on]
        mat = mat[~np.isnan(mat).all(axis=1)][:, ~np.isnan(mat).all(axis=0)]
        yield item_id, sel, mat if mat.shape[0] else np.full((1, 0), np.nan)


def _item_row(item_id, mat: np.ndarray, scale: tuple, min_calls: int, n_boot: int, random_state, confidence: float, lang: str) -> dict:
    """One item's numbers: calls, percent agreement, the dominant answer, AC1/AC2 and α with their intervals."""
    weights, labels, level = scale
    pair = np.sum(~np.isnan(mat), axis=0) >= 2
    calls = int(pair.sum())
    seen = mat[:, pair][~np.isnan(mat[:, pair])]
    measure = "AC1" if weights is None else f"AC2 ({weights})"
    row = {"item_id": item_id, "calls": calls, "inspectors": int((~np.isnan(mat)).any(axis=1).sum()), "measure": measure,
           "percent_agreement": np.nan, "top_answer": "", "top_share": np.nan, "ac": np.nan, "ac_low": np.nan, "ac_high": np.nan,
           "alpha": np.nan, "alpha_low": np.nan, "alpha_high": np.nan}
    why = undefined_reason(mat, min_units=1) if mat.shape[0] >= 1 else ("raters", 0)
    if why is not None and why[0] != "no variation":
        return row | {"reading": _why_words(why, lang)}
    vals, n = np.unique(seen, return_counts=True)
    row |= {"percent_agreement": percent_agreement(mat), "top_answer": _answer_name(vals[n.argmax()], scale, lang),
            "top_share": float(n.max() / n.sum())}
    stat, kw = (gwet_ac1, {"labels": labels}) if weights is None else (gwet_ac2, {"weights": weights, "labels": labels})
    row["ac"] = stat(mat, **kw)
    if n_boot and row["ac"] == row["ac"]:
        row["ac_low"], row["ac_high"] = bootstrap_ci(stat, mat, n_boot=n_boot, confidence=confidence, random_state=random_state, **kw)
    if why is None:
        row["alpha"] = krippendorff_alpha(mat, level)
        if n_boot:
            row["alpha_low"], row["alpha_high"] = bootstrap_ci(krippendorff_alpha, mat, n_boot=n_boot, confidence=confidence,
                                                               random_state=random_state, level=level)
    return row | {"reading": _item_reading(row, why, min_calls, lang)}


def _why_words(why: tuple, lang: str, noun: str = "answers") -> str:
    """:func:`undefined_reason` in words (zh or en)."""
    kind, n = why
    if lang == "zh":
        noun_zh = {"answers": "个答案", "total scores": "个总分"}.get(noun, noun)
        return {"raters": f"至少需要 2 名质检员（{n} 名评分）", "units": f"至少需要 {MIN_CALLS} 通由 2 名以上质检员评分的通话（目前 {n} 通）",
                "no variation": f"无差异：全部 {n} {noun_zh}一致，α 无定义"}[kind]
    return {"raters": f"needs ≥ 2 inspectors ({n} scored)", "units": f"needs ≥ {MIN_CALLS} calls scored by 2+ inspectors ({n} so far)",
            "no variation": f"no variation: α undefined (all {n} {noun} agree)"}[kind]


def _item_reading(row: dict, why, min_calls: int, lang: str) -> str:
    """What the numbers of one item mean, in one sentence (zh or en)."""
    zh = lang == "zh"
    ac, a, m = row["ac"], row["alpha"], row["measure"]
    if row["calls"] < min_calls:
        return (f"校准通话太少，不排名（{row['calls']} < {min_calls} 通）" if zh
                else f"too few calls to rank ({row['calls']} < {min_calls})")
    if why is not None:
        return _why_words(why, lang)
    if a < _ALPHA_LOW and ac >= AGREE and row["top_share"] >= DOMINANT_SHARE:
        share = f"{row['top_share'] * 100:.0f} %"
        return (f"α 偏低只因 {share} 的答案都是“{row['top_answer']}”；{m} {ac:.2f} 表明质检员意见一致" if zh
                else f"α is low because {share} of answers are '{row['top_answer']}'; {m} {ac:.2f} says inspectors agree")
    if ac >= AGREE:
        return f"质检员意见一致（{m} {ac:.2f}）" if zh else f"inspectors agree ({m} {ac:.2f})"
    if ac >= _ALPHA_LOW:
        return f"基本一致，结论需谨慎（{m} {ac:.2f}）" if zh else f"tentative agreement ({m} {ac:.2f})"
    return (f"质检员意见不一致（{m} {ac:.2f}）：需改写评分说明" if zh
            else f"inspectors disagree ({m} {ac:.2f}): rewrite the guidance")


def _ranked(out: pd.DataFrame, min_calls: int, lang: str) -> pd.DataFrame:
    """Least reliable first by AC (then α); items below ``min_calls`` or without a coefficient last, unranked."""
    rankable = (out["calls"] >= min_calls) & out["ac"].notna()
    head = out[rankable].sort_values(["ac", "alpha", "item_id"], na_position="last", kind="stable")
    tail = out[~rankable].sort_values(["calls", "item_id"], ascending=[False, True], kind="stable")
    res = pd.concat([head, tail], ignore_index=True)
    res["rank"] = pd.array(list(range(1, len(head) + 1)) + [None] * len(tail), dtype="Int64")
    return res[_ITEM_COLUMNS]


def inspector_bias(scores: pd.DataFrame, *, unit: str = "contact_id", rater: str = "inspector_id", value: str = "total_score",
                   expert: str | None = None, tolerance: float = 5.0, confidence: float = 0.95) -> pd.DataFrame:
    """Each inspector's mean difference from the expert (or, without one, the consensus of the others).

    For every unit an inspector scored: difference = their score − the expert's score (or
    − the mean of the other inspectors). Reported with a t interval and a verdict:
    ``lenient`` (mean above +tolerance and the interval above 0), ``strict`` (mean below
    −tolerance and the interval below 0), ``within tolerance`` (the whole interval inside
    ±tolerance) or ``unclear`` (not enough evidence either way).
    """
    if tolerance < 0:
        raise ParameterError(f"tolerance must be ≥ 0 points; got {tolerance!r}")
    wide = _wide(scores, [unit], rater, value, "mean")
    if expert is not None and expert not in wide.columns:
        raise ParameterError(f"expert {expert!r} scored none of these units; inspectors: {list(wide.columns)}")
    rows = []
    for insp in wide.columns:
        if insp == expert:
            continue
        mine = wide[insp]
        if expert is not None:
            ref = wide[expert]
        else:
            others = wide.drop(columns=[insp])
            ref = others.mean(axis=1).where(others.notna().sum(axis=1) >= 1)
        d = (mine - ref).dropna()
        n = int(d.size)
        mean = float(d.mean()) if n else float("nan")
        if n >= 2:
            half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
        else:
            half = float("nan")
        lo, hi = mean - half, mean + half
        if n < 2:
            verdict = "unclear"
        elif mean > tolerance and lo > 0:
            verdict = "lenient"
        elif mean < -tolerance and hi < 0:
            verdict = "strict"
        elif -tolerance <= lo and hi <= tolerance:
            verdict = "within tolerance"
        else:
            verdict = "unclear"
        rows.append({"inspector_id": insp, "units": n, "mean_difference": mean, "ci_low": lo, "ci_high": hi, "verdict": verdict})
    cols = ["inspector_id", "units", "mean_difference", "ci_low", "ci_high", "verdict"]  # no one to compare: no rows, same columns
    return pd.DataFrame(rows, columns=cols).sort_values("mean_difference", ascending=False, ignore_index=True)


def widest_disagreement(scores: pd.DataFrame, *, unit: str = "contact_id", rater: str = "inspector_id", value: str = "total_score", top: int = 5) -> pd.DataFrame:
    """The units whose scores differ most between inspectors (to discuss in the meeting)."""
    g = scores.groupby(unit)[value]
    out = pd.DataFrame({"inspectors": g.size(), "lowest": g.min(), "highest": g.max(), "range": g.max() - g.min(), "sd": g.std(ddof=1)})
    return out[out["inspectors"] >= 2].sort_values("range", ascending=False).head(top).reset_index()


def _credit(long: pd.DataFrame, item: str, values: str, card) -> pd.Series:
    """Answers as credit 0–1 (yes 1, partial ½, no 0; a scale between its ends; a fault count 1 − count / max)."""
    v = long[values].astype(float)
    if card is None:
        return v
    for it in card.items:
        if it.kind in ("scale", "deduction"):
            lo, hi = it.scale if it.kind == "scale" else (0, it.max_count)
            on = long[item] == it.id
            v = v.where(~on, (v - lo) / (hi - lo) if it.kind == "scale" else 1 - v / hi)
    return v


def _verdicts(mean: pd.Series, lo: pd.Series, hi: pd.Series, n: pd.Series, tolerance: float) -> np.ndarray:
    """lenient / strict / within tolerance / unclear, as :func:`inspector_bias` reads an interval."""
    return np.select(
        [n < 2, (mean > tolerance) & (lo > 0), (mean < -tolerance) & (hi < 0), (lo >= -tolerance) & (hi <= tolerance)],
        ["unclear", "lenient", "strict", "within tolerance"], "unclear")


def item_bias(evaluations: pd.DataFrame, *, unit: str = "contact_id", rater: str = "inspector_id", item: str = "item_id",
              answer: str = "answer", card=None, expert: str | None = None, tolerance: float = 0.10, confidence: float = 0.95) -> pd.DataFrame:
    """Each inspector's bias on each item: mean credit given minus the expert's (or the other inspectors' mean), same calls.

    Credit is 0–1 (yes 1, partial ½, no 0; with ``card`` scales and fault counts too), so +0.10 means the inspector
    gives 10 points of credit more per call on that item. A t interval over calls and the verdict of
    :func:`inspector_bias` with ``tolerance`` in credit (default 0.10). Rows: ``item_id, inspector_id, calls,
    mean_difference, ci_low, ci_high, verdict``, the most lenient first within each item.
    """
    missing = [c for c in (unit, rater, item, answer) if c not in evaluations.columns]
    if missing:
        raise ParameterError(f"evaluations must have columns {unit}, {rater}, {item}, {answer}; missing {missing}")
    if not 0 <= tolerance <= 1:
        raise ParameterError(f"tolerance must be between 0 and 1 (credit); got {tolerance!r}")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1; got {confidence!r}")
    long = evaluations[[unit, rater, item, answer]].copy()
    long["_v"] = _answer_values(long[answer].astype(object))
    long["_c"] = _credit(long, item, "_v", card)
    wide = _wide(long, [item, unit], rater, "_c", "mean")
    cols = ["item_id", "inspector_id", "calls", "mean_difference", "ci_low", "ci_high", "verdict"]
    if expert is not None and expert not in wide.columns:
        raise ParameterError(f"expert {expert!r} scored none of these calls; inspectors: {list(wide.columns)}")
    if wide.shape[1] < 2:
        return pd.DataFrame(columns=cols)
    if expert is not None:
        diff = wide.drop(columns=[expert]).sub(wide[expert], axis=0)
    else:
        total, count = wide.sum(axis=1), wide.notna().sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            others = (total.to_numpy()[:, None] - wide.to_numpy()) / (count.to_numpy()[:, None] - 1)
        others = np.where(count.to_numpy()[:, None] >= 2, others, np.nan)
        diff = wide - pd.DataFrame(others, index=wide.index, columns=wide.columns)
    d = diff.stack().rename("d").reset_index().rename(columns={item: "item_id", rater: "inspector_id"})
    g = d.groupby(["item_id", "inspector_id"])["d"]
    out = g.agg(calls="size", mean_difference="mean", sd="std").reset_index()
    tq = stats.t.ppf(0.5 + confidence / 2, np.maximum(out["calls"] - 1, 1))
    half = np.where(out["calls"] >= 2, tq * out["sd"].fillna(0) / np.sqrt(out["calls"]), np.nan)
    out["ci_low"], out["ci_high"] = out["mean_difference"] - half, out["mean_difference"] + half
    out["verdict"] = _verdicts(out["mean_difference"], out["ci_low"], out["ci_high"], out["calls"], tolerance)
    return out.sort_values(["item_id", "mean_difference"], ascending=[True, False], ignore_index=True)[cols]


def _effect_design(scores: pd.DataFrame, unit: str, rater: str, value: str):
    """Per call, the inspector-effect normal equations of score = call effect + inspector effect (within-call form)."""
    multi = scores[scores.groupby(unit)[rater].transform("nunique") >= 2]
    if multi.empty:
        raise ParameterError("no unit was scored by two or more inspectors: inspector effects cannot be estimated")
    u_codes, _ = pd.factorize(multi[unit])
    r_codes, r_names = pd.factorize(multi[rater], sort=True)
    y = multi[value].to_numpy(dtype=float)
    n_u, r = u_codes.max() + 1, r_names.size
    size = np.bincount(u_codes, minlength=n_u).astype(float)
    yd = y - (np.bincount(u_codes, weights=y, minlength=n_u) / size)[u_codes]
    X = np.zeros((y.size, r))
    X[np.arange(y.size), r_codes] = 1.0
    share = np.zeros((n_u, r))
    np.add.at(share, u_codes, X)
    Xd = X - (share / size[:, None])[u_codes]
    A = np.zeros((n_u, r, r))
    np.add.at(A, u_codes, Xd[:, :, None] * Xd[:, None, :])
    b = np.zeros((n_u, r))
    np.add.at(b, u_codes, Xd * yd[:, None])
    return A, b, share > 0, r_names


def _solve_effects(A: np.ndarray, b: np.ndarray, present: np.ndarray, mult: np.ndarray, expert_at: int | None) -> np.ndarray:
    """Inspector effects for every row of call weights ``mult`` (sum to zero, or 0 for the expert); NaN if absent."""
    r = A.shape[1]
    Ab = (mult @ A.reshape(len(A), r * r)).reshape(-1, r, r) + 1.0  # + 1 1ᵀ: the effects sum to zero
    bb = mult @ b
    eff = np.einsum("bij,bj->bi", np.linalg.pinv(Ab), bb)
    seen = (mult @ present) > 0
    eff = np.where(seen, eff, np.nan)
    return eff - eff[:, [expert_at]] if expert_at is not None else eff


def _effect_draws(scores, unit, rater, value, expert, n_boot, random_state):
    """Point inspector effects, bootstrap draws over calls (n_boot × inspectors) and the inspectors' names."""
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 10:
        raise ParameterError(f"n_boot must be an integer ≥ 10; got {n_boot!r}")
    A, b, present, names = _effect_design(scores, unit, rater, value)
    if expert is not None and expert not in set(names):
        raise ParameterError(f"expert {expert!r} scored none of the calls scored by two or more inspectors; inspectors: {list(names)}")
    at = None if expert is None else int(np.flatnonzero(names == expert)[0])
    n_u = len(A)
    point = _solve_effects(A, b, present, np.ones((1, n_u)), at)[0]
    idx = np.random.default_rng(random_state).integers(0, n_u, (n_boot, n_u))
    mult = np.zeros((n_boot, n_u))
    np.add.at(mult, (np.repeat(np.arange(n_boot), n_u), idx.ravel()), 1.0)
    return point, _solve_effects(A, b, present, mult, at), names


def leniency_adjustment(scores: pd.DataFrame, *, unit: str = "contact_id", rater: str = "inspector_id", value: str = "total_score",
                        expert: str | None = None, n_boot: int = 1000, confidence: float = 0.95, random_state=0) -> pd.DataFrame:
    """Each inspector's leniency effect in points, with a bootstrap interval over calls.

    Least squares on score = call effect + inspector effect, from calls scored by two or more inspectors; the
    effects sum to zero (against the average inspector) or, with ``expert``, are measured against the expert (the
    expert's is 0). Resampling whole calls keeps the interval honest about how few calls a session has. Columns:
    ``inspector_id, calls, effect, ci_low, ci_high``. Subtract an effect only beside the raw score, never instead of
    it: :func:`adjusted_agent_scores` carries the interval into each agent's adjustment.
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1; got {confidence!r}")
    point, draws, names = _effect_draws(scores, unit, rater, value, expert, n_boot, random_state)
    a = (1 - confidence) / 2
    with np.errstate(all="ignore"):
        lo, hi = np.nanquantile(draws, [a, 1 - a], axis=0)
    multi = scores[scores.groupby(unit)[rater].transform("nunique") >= 2]
    calls = multi.groupby(rater)[unit].nunique().reindex(names).to_numpy()
    return pd.DataFrame({"inspector_id": names, "calls": calls, "effect": point, "ci_low": lo, "ci_high": hi})


def adjusted_agent_scores(evaluations: pd.DataFrame, calibration: pd.DataFrame, *, agent: str = "agent_id", rater: str = "inspector_id",
                          value: str = "total_score", unit: str = "contact_id", expert: str | None = None, n_boot: int = 1000,
                          confidence: float = 0.95, random_state=0) -> pd.DataFrame:
    """Each agent's raw mean score beside the leniency-adjusted mean, the adjustment with its interval.

    The inspector effects come from the ``calibration`` scorings (:func:`leniency_adjustment`, same ``expert``);
    each agent's adjustment is minus the mean effect of the inspectors who scored their ``evaluations``, and its
    interval comes from the same bootstrap draws, so an adjustment whose interval spans 0 is not a correction to make.
    Inspectors without an estimated effect are left unadjusted (effect 0). The raw score stays the score of record.
    """
    missing = [c for c in (agent, rater, value) if c not in evaluations.columns]
    if missing:
        raise ParameterError(f"evaluations must have columns {agent}, {rater}, {value}; missing {missing}")
    point, draws, names = _effect_draws(calibration, unit, rater, value, expert, n_boot, random_state)
    ev = evaluations[evaluations[value].notna()]
    codes = pd.Index(names).get_indexer(ev[rater])
    a_codes, agents = pd.factorize(ev[agent], sort=True)
    share = np.zeros((agents.size, names.size + 1))  # last column: inspectors without an effect
    np.add.at(share, (a_codes, np.where(codes < 0, names.size, codes)), 1.0)
    n = share.sum(axis=1)
    share /= n[:, None]
    adj = -share[:, :-1] @ point
    adj_draws = -share[:, :-1] @ np.nan_to_num(draws).T
    a = (1 - confidence) / 2
    lo, hi = np.quantile(adj_draws, [a, 1 - a], axis=1)
    raw = ev.groupby(agent)[value].mean().reindex(agents).to_numpy()
    out = pd.DataFrame({agent: agents, "n": n.astype(int), "raw_mean": raw, "adjusted_mean": raw + adj, "adjustment": adj,
                        "adjustment_low": lo, "adjustment_high": hi})
    out["clear"] = (out["adjustment_low"] > 0) | (out["adjustment_high"] < 0)
    return out.sort_values("adjustment", key=np.abs, ascending=False, ignore_index=True)


def counted_once(evaluations: pd.DataFrame, *, experts=()) -> pd.DataFrame:
    """The one evaluation of each contact that counts in scores, training needs and KPIs; calibration scorings never.

    Rows of a calibration session (``arm`` "calibration" or a ``calibration_session_id``) are dropped. Of the
    remaining evaluations of a contact, the one kept is the random-arm one (``arm`` "random") before any other arm;
    among several, the one by an inspector in ``experts``; then the earliest ``evaluated_at``; then the smallest
    ``evaluation_id``. Needs ``contact_id``; the other columns are used when present. Rows keep their order.
    """
    if "contact_id" not in evaluations.columns:
        raise ParameterError(f"evaluations must have a contact_id column; columns: {list(evaluations.columns)}")
    ev = evaluations
    cal = pd.Series(False, index=ev.index)
    if "arm" in ev.columns:
        cal |= ev["arm"].astype(object).eq("calibration")
    if "calibration_session_id" in ev.columns:
        cal |= ev["calibration_session_id"].notna() & ev["calibration_session_id"].astype(str).str.strip().ne("")
    keys = pd.DataFrame({"_c": ev["contact_id"]}, index=ev.index)
    keys["_arm"] = ev["arm"].astype(object).ne("random").astype(int) if "arm" in ev.columns else 0
    keys["_exp"] = (~ev["inspector_id"].isin(list(experts))).astype(int) if "inspector_id" in ev.columns else 0
    keys["_at"] = pd.to_datetime(ev["evaluated_at"], errors="coerce") if "evaluated_at" in ev.columns else pd.NaT
    keys["_id"] = ev["evaluation_id"].astype(str) if "evaluation_id" in ev.columns else ""
    keys["_pos"] = np.arange(len(ev))
    keep = keys[~cal.to_numpy()].sort_values(["_c", "_arm", "_exp", "_at", "_id", "_pos"], na_position="last", kind="stable")
    first = keep.drop_duplicates("_c", keep="first")["_pos"].sort_values().to_numpy()
    return ev.iloc[first]


def drift(sessions: pd.DataFrame, *, session: str = "calibration_session_id", unit: str = "contact_id", rater: str = "inspector_id",
          value: str = "total_score", expert: str | None = None) -> pd.DataFrame:
    """Agreement and bias per calibration session over time: α (interval) on the total and each inspector's mean difference.

    A session that cannot be computed (one inspector, one shared call: :func:`session_check`) gets its row with
    the reason in ``note`` and no numbers, and every other session is computed; a session where every score
    agrees has ``note`` "no variation: α undefined (…)"; one the ``expert`` did not score has no bias columns.
    """
    rows = []
    for sid, part in sessions.groupby(session, sort=True):
        row = {session: sid, "units": int(part[unit].nunique()), "inspectors": int(part[rater].nunique()), "alpha_total": np.nan, "note": ""}
        why = session_check(part, unit=unit, rater=rater)
        if why:
            rows.append(row | {"note": why})
            continue
        mat = reliability_matrix(part, unit, rater, value).to_numpy(dtype=float)
        row["note"] = why_no_alpha(mat, "total scores")
        row["alpha_total"] = np.nan if row["note"] else krippendorff_alpha(mat, "interval")
        if expert is not None and expert not in set(part[rater]):
            row["note"] = "; ".join(x for x in (row["note"], f"expert {expert} did not score this session: no bias") if x)
        else:
            bias = inspector_bias(part, unit=unit, rater=rater, value=value, expert=expert)
            row.update({f"bias_{r.inspector_id}": r.mean_difference for r in bias.itertuples()})
        rows.append(row)
    out = pd.DataFrame(rows)
    return out[[c for c in out.columns if c != "note"] + ["note"]] if len(out) else out


def session_report(evaluations: pd.DataFrame, items: pd.DataFrame, card=None, *, expert: str | None = None, tolerance: float = 5.0,
                   n_boot: int = 500, random_state=0, min_calls: int = MIN_CALLS_TO_RANK, lang: str = "en") -> dict[str, pd.DataFrame]:
    """Everything a calibration meeting needs, from the session's evaluations and their item answers.

    ``evaluations``: ``evaluation_id, contact_id, inspector_id, total_score``; ``items``:
    ``evaluation_id, item_id, answer``. With a scorecard ``card``, unscored context and bonus items
    are left out, each item's declared answers are used, and critical items are also reported on their own.
    Returns tables: ``items`` (:func:`item_reliability`: ranked least reliable first, items under ``min_calls``
    last), ``critical``, ``overall`` (α on the totals and on all item answers), ``bias`` (per inspector on the total,
    against ``expert`` or the consensus), ``item_bias`` (:func:`item_bias`), ``discuss`` (the widest
    disagreements). A session that cannot be computed (one inspector, one shared call) still gives every table: the
    rows say why in ``reading`` (:func:`why_no_alpha`), with no numbers.
    """
    long = items.merge(evaluations[["evaluation_id", "contact_id", "inspector_id"]], on="evaluation_id")
    if card is not None:
        scored = {it.id for it in card.items if it.scored and not it.bonus}
        long = long[long["item_id"].isin(scored)]
    per_item = item_reliability(long, card=card, min_calls=min_calls, n_boot=n_boot, random_state=random_state, lang=lang)
    critical = per_item[per_item["item_id"].isin({it.id for it in card.items if it.critical})] if card is not None else per_item.iloc[:0]
    totals = reliability_matrix(evaluations, "contact_id", "inspector_id", "total_score").to_numpy(dtype=float)
    all_answers = long.assign(_v=_answer_values(long["answer"].astype(object)), unit=long["contact_id"] + "|" + long["item_id"])
    mat_items = reliability_matrix(all_answers, "unit", "inspector_id", "_v").to_numpy(dtype=float)
    overall = pd.DataFrame([
        _overall_row("total score (interval α)", totals, "interval", "total scores", n_boot, random_state),
        _overall_row("item answers (ordinal α)", mat_items, "ordinal", "answers", 0, random_state),
        {"measure": "item answers (Gwet AC1)", "alpha": np.nan if why_no_alpha(mat_items) else gwet_ac1(mat_items), "ci_low": np.nan, "ci_high": np.nan,
         "reading": ""},
    ])
    if expert is not None and expert not in set(evaluations["inspector_id"]):
        expert = None  # the expert did not score these calls: against the consensus (the caller says so)
    return {
        "items": per_item, "critical": critical.reset_index(drop=True), "overall": overall,
        "bias": inspector_bias(evaluations, expert=expert, tolerance=tolerance),
        "item_bias": item_bias(long, card=card, expert=expert), "discuss": widest_disagreement(evaluations),
    }


def _overall_row(measure: str, mat: np.ndarray, level: str, noun: str, n_boot: int, random_state) -> dict:
    """One row of the overall table: α with its bootstrap interval (``n_boot`` 0: none), or why there is none."""
    why = why_no_alpha(mat, noun)
    if why:
        return {"measure": measure, "alpha": np.nan, "ci_low": np.nan, "ci_high": np.nan, "reading": why}
    a = krippendorff_alpha(mat, level)
    lo, hi = bootstrap_ci(krippendorff_alpha, mat, n_boot=n_boot, random_state=random_state, level=level) if n_boot else (np.nan, np.nan)
    return {"measure": measure, "alpha": a, "ci_low": lo, "ci_high": hi, "reading": interpret_alpha(a)}
