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
    # the calibration-meeting report
    "answer_word", "item_labels", "session_grid", "grid_wide", "person", "call_excerpt", "meeting_summary", "reliability_table",
    "bias_table", "item_bias_matrix", "grid_html", "table_html", "page_words", "write_session_xlsx", "drift_table", "DIFF_MARK", "GRID_CSS",
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
    """Each inspector's leniency effect in points, with an interval from a bootstrap over calls.

    Least squares on score = call effect + inspector effect, from calls scored by two or more inspectors; the
    effects sum to zero (against the average inspector) or, with ``expert``, are measured against the expert (the
    expert's is 0). Resampling whole calls keeps the interval honest about how few calls a session has; the interval
    is the effect ± t(calls − 1) × the bootstrap standard error — the percentile interval it replaced excluded 0 for
    9.6 % of exchangeable inspectors on a 48-call session (score differences are mostly 0 with rare large jumps from
    critical items), this one for 4.0 % (``docs/validity.md``). Columns:
    ``inspector_id, calls, effect, ci_low, ci_high``. Subtract an effect only beside the raw score, never instead of
    it: :func:`adjusted_agent_scores` carries the interval into each agent's adjustment.
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1; got {confidence!r}")
    point, draws, names = _effect_draws(scores, unit, rater, value, expert, n_boot, random_state)
    multi = scores[scores.groupby(unit)[rater].transform("nunique") >= 2]
    calls = multi.groupby(rater)[unit].nunique().reindex(names).to_numpy()
    q = stats.t.ppf(1 - (1 - confidence) / 2, max(multi[unit].nunique() - 1, 1))
    with np.errstate(all="ignore"):
        se = np.nanstd(draws, axis=0, ddof=1)
    return pd.DataFrame({"inspector_id": names, "calls": calls, "effect": point, "ci_low": point - q * se, "ci_high": point + q * se})


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
    multi = calibration[calibration.groupby(unit)[rater].transform("nunique") >= 2]
    q = stats.t.ppf(1 - (1 - confidence) / 2, max(multi[unit].nunique() - 1, 1))  # as leniency_adjustment's intervals
    se = adj_draws.std(axis=1, ddof=1)
    lo, hi = adj - q * se, adj + q * se
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


# ------------------------------------------------------------------ the calibration-meeting report
#: What the meeting report shows, in Chinese and English.
_PAGE = {
    "zh": {
        "yes": "是", "partial": "部分", "no": "否", "na": "不适用", "expert": "专家", "consensus": "共识", "no_majority": "无多数",
        "call": "通话", "agent": "坐席", "section": "环节", "item": "质检项", "differs": "不一致数", "inspector": "质检员",
        "calls": "通话数", "agreement": "一致率", "measure": "系数", "interval": "95% 区间", "reading": "解读",
        "mean_difference": "总分差（分）", "verdict": "结论", "transcript": "通话节选", "no_transcript": "（无通话文本）",
        "lenient": "偏松", "strict": "偏严", "within tolerance": "在容差内", "unclear": "尚不确定",
        "ordinal": "顺序权重", "quadratic": "二次权重", "strong": "高度一致", "tentative": "基本一致", "weak": "不一致",
        "sheet_grid": "答案对照", "sheet_items": "质检项一致性", "sheet_bias": "质检员偏差", "sheet_calls": "通话",
        "lines_more": "（另有 {n} 行未显示）",
    },
    "en": {
        "yes": "yes", "partial": "partial", "no": "no", "na": "N/A", "expert": "expert", "consensus": "consensus", "no_majority": "no majority",
        "call": "call", "agent": "agent", "section": "section", "item": "item", "differs": "answers differing", "inspector": "inspector",
        "calls": "calls", "agreement": "agreement", "measure": "measure", "interval": "95 % interval", "reading": "reading",
        "mean_difference": "total score difference (points)", "verdict": "verdict", "transcript": "Transcript excerpt",
        "no_transcript": "(no transcript)", "lenient": "lenient", "strict": "strict", "within tolerance": "within tolerance",
        "unclear": "unclear", "ordinal": "ordinal weights", "quadratic": "quadratic weights", "strong": "strong agreement",
        "tentative": "tentative agreement", "weak": "poor agreement", "sheet_grid": "Answers", "sheet_items": "Item reliability",
        "sheet_bias": "Inspector bias", "sheet_calls": "Calls", "lines_more": "({n} more lines not shown)",
    },
}
#: The mark beside an answer that differs from the reference: visible in print and without colour.
DIFF_MARK = "≠"
_NA_WORDS = {"na", "n/a", "not applicable", "不适用"}
_GRID_COLUMNS = ["contact_id", "agent_id", "section", "item_id", "item", "inspector_id", "answer", "word", "reference_word", "reference",
                 "is_reference", "differs", "split"]


def page_words(lang: str) -> dict:
    """The words of the calibration-meeting report in ``lang`` (zh or en)."""
    from .fmt import check_lang

    return _PAGE[check_lang(lang)]


def answer_word(answer, lang: str = "zh") -> str:
    """An item answer as a word: yes/partial/no/na → 是/部分/否/不适用 or yes/partial/no/N/A; a number as a number;
    a missing answer as —."""
    from .fmt import DASH, missing

    w = page_words(lang)
    if answer is None or (not isinstance(answer, str) and missing(answer)):
        return DASH
    text = str(answer).strip()
    low = text.lower()
    if low in ("yes", "partial", "no"):
        return w[low]
    if low in _NA_WORDS or not text:
        return w["na"] if text else DASH
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def _label(mapping, lang: str, fallback: str) -> str:
    """A scorecard label in ``lang``, else the other language, else ``fallback`` (the id)."""
    if not mapping:
        return fallback
    other = "en" if lang == "zh" else "zh"
    return mapping.get(lang) or mapping.get(other) or fallback


def item_labels(card, lang: str = "zh") -> pd.DataFrame:
    """Per item of ``card`` in scorecard order: ``item_id, item`` (its label in ``lang``), ``section`` (the section's name), ``order``."""
    page_words(lang)
    rows = []
    if card is not None:
        names = {s.id: _label(s.name, lang, s.id) for s in card.sections}
        rows = [{"item_id": it.id, "item": _label(it.label, lang, it.id), "section": names.get(it.section, it.section or ""), "order": k}
                for k, it in enumerate(card.items)]
    return pd.DataFrame(rows, columns=["item_id", "item", "section", "order"])


def _majority(words: pd.Series):
    """The one most common answer, or None when two answers tie for most common."""
    n = words.value_counts()
    return n.index[0] if len(n) and (len(n) == 1 or n.iloc[0] > n.iloc[1]) else None


def session_grid(evaluations: pd.DataFrame, items: pd.DataFrame, card=None, *, expert: str | None = None, lang: str = "zh") -> pd.DataFrame:
    """The call × item grid of a calibration session: every inspector's answer beside the reference, as words.

    The reference of a call's item is the ``expert``'s answer when the expert answered it, else the consensus (the
    one most common answer of the inspectors; none when two answers tie: ``split``). One row per call × item ×
    inspector: ``contact_id, agent_id, section, item_id, item`` (labels from ``card`` in ``lang``), ``inspector_id,
    answer, word, reference_word, reference`` ("expert" / "consensus"), ``is_reference`` (the expert's own row),
    ``differs`` (the answer is not the reference), ``split``. Items in scorecard order; calls with the most
    differing answers first.
    """
    need = {"evaluations": (evaluations, ["evaluation_id", "contact_id", "inspector_id"]), "items": (items, ["evaluation_id", "item_id", "answer"])}
    for name, (df, cols) in need.items():
        gone = [c for c in cols if c not in df.columns]
        if gone:
            raise ParameterError(f"{name} must have columns {cols}; missing {gone}")
    head = evaluations[[c for c in ("evaluation_id", "contact_id", "agent_id", "inspector_id") if c in evaluations.columns]]
    long = items[["evaluation_id", "item_id", "answer"]].merge(head, on="evaluation_id")
    if "agent_id" not in long.columns:
        long["agent_id"] = None
    long = long.drop_duplicates(["contact_id", "item_id", "inspector_id"]).drop(columns="evaluation_id")
    long["word"] = [answer_word(a, lang) for a in long["answer"]]
    key = ["contact_id", "item_id"]
    cons = long.groupby(key)["word"].agg(_majority).rename("consensus")
    exp = long.loc[long["inspector_id"].eq(expert) if expert is not None else np.zeros(len(long), bool)].set_index(key)["word"].rename("expert")
    long = long.join(cons, on=key).join(exp[~exp.index.duplicated()], on=key)
    has_exp = long["expert"].notna()
    long["reference_word"] = long["expert"].where(has_exp, long["consensus"])
    long["reference"] = np.where(has_exp, "expert", "consensus")
    long["is_reference"] = has_exp & (long["inspector_id"] == expert)
    long["split"] = long["reference_word"].isna()
    long["differs"] = ~long["is_reference"] & ~long["split"] & (long["word"] != long["reference_word"])
    labels = item_labels(card, lang)
    long = long.merge(labels, on="item_id", how="left")
    long["item"] = long["item"].fillna(long["item_id"])
    long["section"] = long["section"].fillna("")
    long["order"] = long["order"].fillna(len(labels))
    per_call = long.groupby("contact_id")["differs"].sum().rename("_n")
    long = long.join(per_call, on="contact_id").sort_values(["_n", "contact_id", "order", "item_id", "inspector_id"],
                                                            ascending=[False, True, True, True, True], kind="stable")
    return long[_GRID_COLUMNS].reset_index(drop=True)


def person(pid, names=None, lang: str = "zh") -> str:
    """A person's name beside their id: ``陈静（Q9）`` / ``陈静 (Q9)``; the id alone without a name."""
    name = (names or {}).get(pid)
    if name is None or (isinstance(name, float) and name != name) or not str(name).strip():
        return str(pid)
    return f"{name}（{pid}）" if lang == "zh" else f"{name} ({pid})"


def grid_wide(grid: pd.DataFrame, lang: str = "zh", *, names=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The grid of :func:`session_grid` one row per call × item: the reference's answer, then each inspector's.

    Returns (words, differs): ``words`` has ``contact_id, agent_id, section, item`` and one column per person (the
    reference first: the expert, named, or 共识 / consensus), ``differs`` the same shape, True where an answer differs
    from the reference (the reference column True where there is no majority). Row and column order follow the grid.
    """
    w = page_words(lang)
    keys = ["contact_id", "agent_id", "section", "item"]
    g = grid.assign(_row=grid.groupby(["contact_id", "item_id"], sort=False).ngroup())
    rows = g.drop_duplicates("_row").set_index("_row")[keys + ["reference_word", "split"]]
    expert_rows = g[g["is_reference"]]
    expert = expert_rows["inspector_id"].iloc[0] if len(expert_rows) else None
    ref_col = f"{w['expert']} {person(expert, names, lang)}" if expert is not None else w["consensus"]
    others = [i for i in dict.fromkeys(g["inspector_id"]) if i != expert]
    cols = {i: person(i, names, lang) for i in sorted(others, key=str)}
    words = g[~g["is_reference"]].pivot(index="_row", columns="inspector_id", values="word").reindex(columns=list(cols))
    diff = g[~g["is_reference"]].pivot(index="_row", columns="inspector_id", values="differs").reindex(columns=list(cols))
    words, diff = words.reindex(rows.index), diff.reindex(rows.index)
    from .fmt import DASH

    ref = rows["reference_word"].where(~rows["split"], w["no_majority"])
    out_w = pd.concat([rows[keys], ref.rename(ref_col), words.rename(columns=cols).fillna(DASH)], axis=1).reset_index(drop=True)
    out_d = pd.concat([rows[keys].assign(**{k: False for k in keys}), rows["split"].rename(ref_col),
                       diff.rename(columns=cols).astype(object).fillna(False).astype(bool)], axis=1).reset_index(drop=True)
    return out_w, out_d


def call_excerpt(transcript, max_lines: int = 14, max_chars: int = 120) -> tuple[list[str], int]:
    """The opening lines of a call's transcript, personal data masked (:func:`qa_lib.privacy.mask_pii`) before any cut;
    returns (lines, how many more lines the transcript has). No transcript: ([], 0)."""
    from .privacy import mask_pii

    if transcript is None or (isinstance(transcript, float) and transcript != transcript) or not str(transcript).strip():
        return [], 0
    lines = [ln.strip() for ln in mask_pii(str(transcript)).splitlines() if ln.strip()]
    cut = [ln if len(ln) <= max_chars else ln[: max_chars - 1] + "…" for ln in lines[:max_lines]]
    return cut, max(0, len(lines) - max_lines)


def _ac_words(ac: float, lang: str) -> str:
    w = page_words(lang)
    return w["strong"] if ac >= AGREE else w["tentative"] if ac >= _ALPHA_LOW else w["weak"]


def meeting_summary(grid: pd.DataFrame, report: dict, lang: str = "zh", *, names=None, session: str = "", top: int = 3) -> tuple[str, list[str]]:
    """The report's first sentence — how well the inspectors agreed and the 1–3 things to discuss — and those things.

    Agreement: the share of the inspectors' answers equal to the reference, and Gwet's AC1 over all item answers
    (chance-corrected; α is not used here because it collapses when almost every answer is 'yes'). To discuss, in
    this order, each only when something differs: the item with the most answers differing from the reference, the
    inspector with the most (with their total-score difference), the call with the most.
    """
    from .fmt import num, pct

    zh = lang == "zh"
    page_words(lang)
    compared = grid[~grid["is_reference"] & ~grid["split"]]
    share = float((~compared["differs"]).mean()) if len(compared) else float("nan")
    ov = report["overall"].set_index("measure")["alpha"]
    ac1 = ov.get("item answers (Gwet AC1)", float("nan"))
    ref = "专家" if (grid["reference"] == "expert").any() else "多数意见"
    ref_en = "the expert's" if (grid["reference"] == "expert").any() else "the majority's"
    calls, insp = grid["contact_id"].nunique(), grid["inspector_id"].nunique()
    points: list[str] = []
    d = grid[grid["differs"]]
    if len(d):
        by_item = d.groupby(["item_id", "item"]).size().sort_values(ascending=False, kind="stable")
        (iid, label), n = by_item.index[0], int(by_item.iloc[0])
        row = report["items"].set_index("item_id")
        ac = f"{row.at[iid, 'measure'].split(' ')[0]} {num(row.at[iid, 'ac'], 2)}" if iid in row.index and not np.isnan(row.at[iid, "ac"]) else ""
        points.append(f"质检项“{label}”：{n} 个答案与{ref}不同" + (f"（{ac}）" if ac else "") if zh
                      else f"the item '{label}': {n} answers differ from {ref_en}" + (f" ({ac})" if ac else ""))
        by_insp = d.groupby("inspector_id").size().sort_values(ascending=False, kind="stable")
        who, n = by_insp.index[0], int(by_insp.iloc[0])
        b = report["bias"].set_index("inspector_id")["mean_difference"] if len(report["bias"]) else pd.Series(dtype=float)
        md = b.get(who, float("nan"))
        tail = "" if np.isnan(md) else (f"，总分平均比{ref}{'高' if md > 0 else '低'} {num(abs(md), 1)} 分" if zh
                                         else f", total score {num(abs(md), 1)} points {'above' if md > 0 else 'below'} {ref_en} on average")
        points.append(f"质检员{person(who, names, lang)}：{n} 个答案不同{tail}" if zh else f"inspector {person(who, names, lang)}: {n} answers differ{tail}")
        by_call = d.groupby("contact_id").size().sort_values(ascending=False, kind="stable")
        points.append(f"通话 {by_call.index[0]}：{int(by_call.iloc[0])} 个答案不同" if zh else f"call {by_call.index[0]}: {int(by_call.iloc[0])} answers differ")
    points = points[:top]
    head = (f"本次校准{('（' + session + '）') if session else ''}{insp} 名质检员共评 {calls} 通电话，{pct(share)} 的答案与{ref}一致"
            if zh else f"In this session{(' (' + session + ')') if session else ''} {insp} inspectors scored {calls} calls and {pct(share)} of the answers matched {ref_en}")
    if not np.isnan(ac1):
        head += f"（AC1 {num(ac1, 2)}，{_ac_words(ac1, lang)}）" if zh else f" (AC1 {num(ac1, 2)}, {_ac_words(ac1, lang)})"
    if not points:
        return head + ("；没有需要讨论的分歧。" if zh else "; no disagreement to discuss."), points
    listed = ("；".join(f"{k}）{p}" for k, p in enumerate(points, 1)) if zh else "; ".join(f"{k}) {p}" for k, p in enumerate(points, 1)))
    return head + ("。建议讨论：" + listed + "。" if zh else ". To discuss: " + listed + "."), points


def _measure_words(measure: str, lang: str) -> str:
    """``AC2 (ordinal)`` → ``AC2（顺序权重）`` / ``AC2 (ordinal weights)``; ``AC1`` stays."""
    w = page_words(lang)
    if "(" not in str(measure):
        return str(measure)
    name, kind = str(measure).split(" (", 1)
    kind = w.get(kind.rstrip(")"), kind.rstrip(")"))
    return f"{name}（{kind}）" if lang == "zh" else f"{name} ({kind})"


def _span(low, high, lo: float, hi: float, digits: int) -> str:
    """:func:`qa_lib.fmt.interval` with a typographic minus (``−0.17–0.04``), like :func:`qa_lib.fmt.num`."""
    from .fmt import interval

    return interval(low, high, lo, hi, digits).replace("-", "−")


def _signed(v, digits: int = 1) -> str:
    """A signed difference for people: ``+12.5``, ``−7.2``, ``0.0`` (never ``−0.0``), — when missing."""
    from .fmt import DASH, missing, num

    if missing(v):
        return DASH
    r = round(float(v), digits) + 0.0
    return ("+" if r > 0 else "") + num(r, digits)


def reliability_table(items: pd.DataFrame, card=None, lang: str = "zh", *, min_calls: int = MIN_CALLS_TO_RANK) -> pd.DataFrame:
    """The item table of :func:`session_report` for people: the item's label, calls, agreement, AC1/AC2 and α with their
    intervals (clipped to −1…1, two decimals), the reading; least agreement first (``min_calls`` is kept for the
    callers' note that an order from fewer calls is indicative only). Every value is text; missing values are —."""
    from .fmt import DASH, num, pct

    w = page_words(lang)
    labels = item_labels(card, lang).set_index("item_id")["item"]
    df = items.sort_values(["ac", "alpha", "item_id"], na_position="last", kind="stable")
    out = pd.DataFrame({
        w["item"]: [labels.get(i, i) for i in df["item_id"]],
        w["calls"]: df["calls"].map(num),
        w["agreement"]: df["percent_agreement"].map(pct),
        w["measure"]: df["measure"].map(lambda m: _measure_words(m, lang)),
        "AC": df["ac"].map(lambda v: num(v, 2)),
        f"AC {w['interval']}": [_span(a, b, -1.0, 1.0, 2) for a, b in zip(df["ac_low"], df["ac_high"])],
        "α": df["alpha"].map(lambda v: num(v, 2)),
        f"α {w['interval']}": [_span(a, b, -1.0, 1.0, 2) for a, b in zip(df["alpha_low"], df["alpha_high"])],
        w["reading"]: df["reading"].fillna(DASH).replace("", DASH),
    })
    return out.reset_index(drop=True)


def bias_table(bias: pd.DataFrame, lang: str = "zh", *, names=None) -> pd.DataFrame:
    """:func:`inspector_bias` for people: the inspector (name and id), calls, the mean total-score difference in points
    (signed, one decimal), its interval, the verdict in words."""
    from .fmt import num

    w = page_words(lang)
    return pd.DataFrame({
        w["inspector"]: [person(i, names, lang) for i in bias["inspector_id"]],
        w["calls"]: bias["units"].map(num),
        w["mean_difference"]: bias["mean_difference"].map(_signed),
        w["interval"]: [_span(a, b, -100.0, 100.0, 1) for a, b in zip(bias["ci_low"], bias["ci_high"])],
        w["verdict"]: bias["verdict"].map(lambda v: w.get(v, v)),
    })


def item_bias_matrix(item_bias_frame: pd.DataFrame, card=None, lang: str = "zh", *, names=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`item_bias` as items × inspectors: each cell the inspector's credit difference on the item in percentage
    points (``+12.5``), ``偏松``/``偏严`` (lenient/strict) beside it when the interval says so; items by label in
    scorecard order. Returns (text, verdicts) of the same shape."""
    from .fmt import DASH

    w = page_words(lang)
    labels = item_labels(card, lang)
    ib = item_bias_frame.copy()
    if ib.empty:
        return pd.DataFrame(columns=[w["item"]]), pd.DataFrame(columns=[w["item"]])
    ib["_text"] = [_signed(100 * v) + (f" {w[k]}" if k in ("lenient", "strict") and v == v else "")
                   for v, k in zip(ib["mean_difference"], ib["verdict"])]
    order = [i for i in labels["item_id"] if i in set(ib["item_id"])] + sorted(set(ib["item_id"]) - set(labels["item_id"]))
    cols = sorted(set(ib["inspector_id"]), key=str)
    text = ib.pivot(index="item_id", columns="inspector_id", values="_text").reindex(index=order, columns=cols).fillna(DASH)
    verdict = ib.pivot(index="item_id", columns="inspector_id", values="verdict").reindex(index=order, columns=cols).fillna("")
    lab = labels.set_index("item_id")["item"]
    names_of = {c: person(c, names, lang) for c in cols}
    text = text.rename(columns=names_of).rename_axis(columns=None)
    verdict = verdict.rename(columns=names_of).rename_axis(columns=None)
    text.insert(0, w["item"], [lab.get(i, i) for i in order])
    verdict.insert(0, w["item"], "")
    return text.reset_index(drop=True), verdict.reset_index(drop=True)


#: The report's styles: a differing answer is coloured and marked (≠, bold, a border) so it survives printing in grey.
GRID_CSS = """<style>
.qa-cal{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei",sans-serif;font-size:14px;
  -webkit-print-color-adjust:exact;print-color-adjust:exact}
.qa-cal table{border-collapse:collapse;margin:4px 0 12px}
.qa-cal th,.qa-cal td{border:1px solid #c8cdd3;padding:3px 8px;text-align:left !important;vertical-align:top}
.qa-cal th{background:#f1f3f5}
.qa-call{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;break-inside:avoid;page-break-inside:avoid;margin-bottom:8px}
.qa-call h3{flex-basis:100%;margin:14px 0 0;font-size:15px}
.qa-grid th.qa-who{max-width:5.5em;white-space:normal;text-align:center !important}
.qa-grid td.qa-ans{text-align:center !important;min-width:3.5em}
.qa-grid td.qa-ref{background:#e8f0fb;font-weight:bold;text-align:center !important}
.qa-grid td.qa-diff{background:#fde0dc;color:#8a1c12;font-weight:bold;border:2px solid #c0392b}
.qa-grid td.qa-split{background:#fff3cd;font-weight:bold;border:2px dashed #b7791f;text-align:center}
.qa-transcript{flex:1 1 300px;max-width:520px;font-size:13px;line-height:1.5;background:#fafafa;border:1px solid #e1e4e8;padding:6px 10px}
.qa-transcript .qa-more{color:#666}
.qa-lenient{background:#fde0dc;font-weight:bold}.qa-strict{background:#dce8fd;font-weight:bold}
.qa-lead{font-size:16px;line-height:1.6}
</style>"""


def table_html(df: pd.DataFrame, *, classes: pd.DataFrame | None = None, caption: str = "") -> str:
    """A table of text as HTML, every header and cell escaped; ``classes`` (same shape) gives each cell a CSS class."""
    from .html import escape

    head = "".join(f"<th>{escape(c)}</th>" for c in df.columns)
    rows = []
    for r in range(len(df)):
        cells = []
        for c in range(df.shape[1]):
            cls = str(classes.iat[r, c]) if classes is not None and classes.iat[r, c] else ""
            cells.append(f'<td class="{escape(cls)}">{escape(df.iat[r, c])}</td>' if cls else f"<td>{escape(df.iat[r, c])}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<table class="qa-table">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _grid_cell(word: str, differs: bool, ref_col: bool) -> str:
    from .html import escape

    if ref_col:
        return f'<td class="qa-split">{DIFF_MARK} {escape(word)}</td>' if differs else f'<td class="qa-ref">{escape(word)}</td>'
    return f'<td class="qa-ans qa-diff">{DIFF_MARK} {escape(word)}</td>' if differs else f'<td class="qa-ans">{escape(word)}</td>'


def grid_html(grid: pd.DataFrame, lang: str = "zh", *, names=None, agents=None, transcripts=None) -> str:
    """The call × item grid as HTML, one block per call (most disagreement first): a table of each item (section,
    label) with the reference's answer and every inspector's, differing answers marked ``≠`` and coloured, and the
    call's masked transcript excerpt beside it (``transcripts``: contact id → text; none given: no excerpt column).
    Every text is escaped."""
    from .html import escape

    w = page_words(lang)
    words, diff = grid_wide(grid, lang, names=names)
    people = list(words.columns[4:])
    head = "".join(f"<th>{escape(c)}</th>" for c in [w["section"], w["item"]]) + "".join(f'<th class="qa-who">{escape(c)}</th>' for c in people)
    blocks = []
    for cid, idx in words.groupby("contact_id", sort=False).groups.items():
        rows, last = [], None
        for r in idx:
            sec = words.at[r, "section"]
            cells = "".join(_grid_cell(words.at[r, p], bool(diff.at[r, p]), k == 0) for k, p in enumerate(people))
            rows.append(f"<tr><td>{escape(sec if sec != last else '')}</td><td>{escape(words.at[r, 'item'])}</td>{cells}</tr>")
            last = sec
        n = int(diff.loc[idx, people[1:]].to_numpy().sum())
        agent = words.at[idx[0], "agent_id"]
        who = f" · {w['agent']} {person(agent, agents, lang)}" if agent is not None and agent == agent else ""
        count = f"{n} 个答案不同" if lang == "zh" else f"{n} answer{'s' if n != 1 else ''} differ{'s' if n == 1 else ''}"
        title = f"<h3>{escape(w['call'])} {escape(cid)}{escape(who)} · {escape(count)}</h3>"
        table = f'<table class="qa-grid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        excerpt = ""
        if transcripts is not None:
            lines, more = call_excerpt(transcripts.get(cid))
            body = "".join(f"<div>{escape(ln)}</div>" for ln in lines) or f"<div>{escape(w['no_transcript'])}</div>"
            if more:
                body += f'<div class="qa-more">{escape(w["lines_more"].format(n=more))}</div>'
            excerpt = f'<div class="qa-transcript"><b>{escape(w["transcript"])}</b>{body}</div>'
        blocks.append(f'<section class="qa-call">{title}{table}{excerpt}</section>')
    return '<div class="qa-cal">' + "".join(blocks) + "</div>"


def _xlsx_sheets(grid, report, card, lang, names, agents, transcripts) -> tuple[dict, list]:
    """The workbook's sheets (the grid with ≠ marks, item reliability, inspector bias, calls) and its id columns."""
    from .fmt import DASH

    w = page_words(lang)
    words, diff = grid_wide(grid, lang, names=names)
    people = list(words.columns[4:])
    marked = words.copy()
    for p in people:
        marked[p] = [f"{DIFF_MARK} {v}" if d else v for v, d in zip(words[p], diff[p])]
    marked = marked.rename(columns={"contact_id": w["call"], "agent_id": w["agent"], "section": w["section"], "item": w["item"]})
    marked[w["agent"]] = [person(a, agents, lang) for a in marked[w["agent"]]]
    marked[w["differs"]] = diff[people[1:]].sum(axis=1).astype(int)
    items = report["items"]
    rel = reliability_table(items, card, lang)
    ib = report["item_bias"].copy()
    labels = item_labels(card, lang).set_index("item_id")["item"]
    bias_sheet = pd.DataFrame({
        w["item"]: [labels.get(i, i) for i in ib["item_id"]], w["inspector"]: [person(i, names, lang) for i in ib["inspector_id"]],
        w["calls"]: ib["calls"].astype(int),
        ("得分率差（百分点）" if lang == "zh" else "credit difference (points)"): (100 * ib["mean_difference"]).round(1),
        w["interval"]: [_span(100 * a, 100 * b, -100.0, 100.0, 1) for a, b in zip(ib["ci_low"], ib["ci_high"])],
        w["verdict"]: ib["verdict"].map(lambda v: w.get(v, v)),
    })
    calls = words.drop_duplicates("contact_id")[["contact_id", "agent_id"]]
    excerpt = [("\n".join(call_excerpt((transcripts or {}).get(c))[0]) or DASH) for c in calls["contact_id"]]
    call_sheet = pd.DataFrame({w["call"]: calls["contact_id"], w["agent"]: [person(a, agents, lang) for a in calls["agent_id"]],
                               w["differs"]: [int(marked.loc[marked[w["call"]] == c, w["differs"]].sum()) for c in calls["contact_id"]],
                               w["transcript"]: excerpt})
    sheets = {w["sheet_grid"]: marked, w["sheet_items"]: rel, w["sheet_bias"]: bias_sheet, w["sheet_calls"]: call_sheet}
    return sheets, [w["call"]]


def write_session_xlsx(path, grid: pd.DataFrame, report: dict, card=None, lang: str = "zh", *, names=None, agents=None, transcripts=None):
    """The calibration-meeting workbook: one sheet per part of the report (the answers grid, item reliability,
    inspector bias per item, the calls with their masked excerpts), headers in ``lang``, every cell through
    :func:`qa_lib.files.write_xlsx` (formula-like text defused, personal data masked), numbers rounded; differing
    answers carry ``≠`` and a red fill. Returns the path."""
    from openpyxl import load_workbook
    from openpyxl.styles import Font, PatternFill

    from .files import atomic_path, write_xlsx

    sheets, ids = _xlsx_sheets(grid, report, card, lang, names, agents, transcripts)
    path = write_xlsx(sheets, path, ids=ids)
    wb = load_workbook(path)
    fill, bold = PatternFill("solid", fgColor="FDE0DC"), Font(bold=True, color="8A1C12")
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(DIFF_MARK):
                    cell.fill, cell.font = fill, bold
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(60, max(8, 1.6 * width))
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


_NOTE_ZH = [
    (r"needs ≥ 2 inspectors: only (.*) scored", r"至少需要 2 名质检员：只有 \1 评分"),
    (r"needs ≥ (\d+) calls scored by 2\+ inspectors: (\d+) so far", r"至少需要 \1 通由 2 名以上质检员评分的通话：目前 \2 通"),
    (r"no variation: α undefined \(all (\d+) total scores agree\)", r"无差异：全部 \1 个总分一致，α 无定义"),
    (r"expert (.*) did not score this session: no bias", r"专家 \1 未参加本次校准：无偏差"),
]


def drift_table(trend: pd.DataFrame, lang: str = "zh", *, names=None) -> pd.DataFrame:
    """:func:`drift` for people: per session its calls, inspectors, α on the total (two decimals) and each inspector's
    mean difference in points (signed, one decimal, named), the note in ``lang``; — where a session has no value."""
    import re

    from .fmt import DASH, num

    w = page_words(lang)
    zh = lang == "zh"
    out = pd.DataFrame({("校准场次" if zh else "session"): trend["calibration_session_id"], w["calls"]: trend["units"].map(num),
                        (w["inspector"] + "数" if zh else "inspectors"): trend["inspectors"].map(num),
                        ("总分 α" if zh else "α on totals"): trend["alpha_total"].map(lambda v: num(v, 2))})
    for col in sorted(c for c in trend.columns if str(c).startswith("bias_")):
        out[person(col[len("bias_"):], names, lang)] = trend[col].map(_signed)
    notes = trend["note"].fillna("")
    if zh:
        for pat, rep in _NOTE_ZH:
            notes = notes.map(lambda t, pat=pat, rep=rep: re.sub(pat, rep, t))
    out[("说明" if zh else "note")] = notes.replace("", DASH)
    return out
