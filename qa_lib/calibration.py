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
    interpret_alpha,
    krippendorff_alpha,
    percent_agreement,
    undefined_reason,
)

__all__ = [
    "reliability_matrix", "item_reliability", "inspector_bias", "widest_disagreement", "leniency_adjustment",
    "adjusted_agent_scores", "drift", "session_report", "session_check", "why_no_alpha",
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
    return frame.pivot_table(index=rater, columns=unit, values=value, aggfunc="first")


def item_reliability(evaluations: pd.DataFrame, *, unit: str = "contact_id", rater: str = "inspector_id", item: str = "item_id",
                     answer: str = "answer", n_boot: int = 500, random_state=0, confidence: float = 0.95) -> pd.DataFrame:
    """Agreement per scorecard item, least reliable first.

    For each item: units scored by ≥ 2 inspectors, percent agreement, Krippendorff's α
    (ordinal on yes > partial > no, or on the scale) with a bootstrap interval over units,
    Gwet's AC1 (robust when nearly every call passes), and the plain-language reading of α — or why there
    is none (:func:`why_no_alpha`: too few inspectors or calls, or no variation because everyone agreed).
    """
    missing = [c for c in (unit, rater, item, answer) if c not in evaluations.columns]
    if missing:
        raise ParameterError(f"evaluations must have columns {unit}, {rater}, {item}, {answer}; missing {missing}")
    df = evaluations[[unit, rater, item, answer]].copy()
    df["_v"] = _answer_values(df[answer].astype(object))
    rows = []
    for item_id, part in df.groupby(item, sort=True):
        mat = reliability_matrix(part, unit, rater, "_v").to_numpy(dtype=float)
        units = int((np.sum(~np.isnan(mat), axis=0) >= 2).sum())
        row = {"item_id": item_id, "units": units, "raters": int(mat.shape[0])}
        why = why_no_alpha(mat)
        if why:  # everyone agreeing is perfect agreement in percent, with α undefined; too little data is neither
            agree = 1.0 if why.startswith("no variation") else np.nan
            rows.append(row | {"percent_agreement": agree, "alpha": np.nan, "alpha_low": np.nan, "alpha_high": np.nan, "ac1": np.nan, "reading": why})
            continue
        a = krippendorff_alpha(mat, "ordinal")
        lo, hi = bootstrap_ci(krippendorff_alpha, mat, n_boot=n_boot, confidence=confidence, random_state=random_state, level="ordinal")
        rows.append(row | {"percent_agreement": percent_agreement(mat), "alpha": a, "alpha_low": lo, "alpha_high": hi,
                           "ac1": gwet_ac1(mat), "reading": interpret_alpha(a)})
    out = pd.DataFrame(rows)
    return out.sort_values(["alpha", "ac1"], na_position="last", ignore_index=True)


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
    wide = scores.pivot_table(index=unit, columns=rater, values=value, aggfunc="mean")
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


def leniency_adjustment(scores: pd.DataFrame, *, unit: str = "contact_id", rater: str = "inspector_id", value: str = "total_score") -> pd.Series:
    """Each inspector's additive effect, estimated from units scored by two or more inspectors.

    Least squares on score = unit effect + inspector effect (inspector effects sum to
    zero). Subtract the effect to get a leniency-adjusted score; report it beside the raw
    score, never instead of it.
    """
    multi = scores[scores.groupby(unit)[rater].transform("nunique") >= 2]
    if multi.empty:
        raise ParameterError("no unit was scored by two or more inspectors: inspector effects cannot be estimated")
    u_codes, _ = pd.factorize(multi[unit])
    r_codes, r_names = pd.factorize(multi[rater], sort=True)
    y = multi[value].to_numpy(dtype=float)
    # demean within units, then solve for inspector effects with a sum-to-zero constraint
    u_mean = np.bincount(u_codes, weights=y) / np.bincount(u_codes)
    yd = y - u_mean[u_codes]
    X = np.zeros((y.size, r_names.size))
    X[np.arange(y.size), r_codes] = 1.0
    Xd = X - (np.stack([np.bincount(u_codes, weights=X[:, j]) for j in range(r_names.size)], axis=1) / np.bincount(u_codes)[:, None])[u_codes]
    A = np.vstack([Xd, np.ones((1, r_names.size))])
    b = np.r_[yd, 0.0]
    effect = np.linalg.lstsq(A, b, rcond=None)[0]
    return pd.Series(effect, index=pd.Index(r_names, name=rater), name="effect")


def adjusted_agent_scores(evaluations: pd.DataFrame, effects: pd.Series, *, agent: str = "agent_id", rater: str = "inspector_id",
                          value: str = "total_score") -> pd.DataFrame:
    """Each agent's raw mean score beside the leniency-adjusted mean (score − the inspector's effect).

    Inspectors without an estimated effect are left unadjusted (effect 0). The raw score
    stays the score of record; the adjusted one shows how much the luck of the inspector draw moved it.
    """
    eff = evaluations[rater].map(effects).fillna(0.0)
    df = evaluations.assign(_adj=evaluations[value] - eff)
    out = df.groupby(agent).agg(n=(value, "size"), raw_mean=(value, "mean"), adjusted_mean=("_adj", "mean")).reset_index()
    out["adjustment"] = out["adjusted_mean"] - out["raw_mean"]
    return out.sort_values("adjustment", key=np.abs, ascending=False, ignore_index=True)


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
                   n_boot: int = 500, random_state=0) -> dict[str, pd.DataFrame]:
    """Everything a calibration meeting needs, from the session's evaluations and their item answers.

    ``evaluations``: ``evaluation_id, contact_id, inspector_id, total_score``; ``items``:
    ``evaluation_id, item_id, answer``. With a scorecard ``card``, unscored context items
    are left out and critical items are also reported on their own. Returns tables:
    ``items`` (per-item reliability, least reliable first), ``critical``, ``overall``
    (α on the totals and on all item answers), ``bias`` (per inspector, against ``expert``
    or the consensus), ``discuss`` (the widest disagreements). A session that cannot be computed (one inspector,
    one shared call) still gives every table: the rows say why in ``reading`` (:func:`why_no_alpha`), with no numbers.
    """
    long = items.merge(evaluations[["evaluation_id", "contact_id", "inspector_id"]], on="evaluation_id")
    if card is not None:
        scored = {it.id for it in card.items if it.scored and not it.bonus}
        long = long[long["item_id"].isin(scored)]
    per_item = item_reliability(long, n_boot=n_boot, random_state=random_state)
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
        "bias": inspector_bias(evaluations, expert=expert, tolerance=tolerance), "discuss": widest_disagreement(evaluations),
    }


def _overall_row(measure: str, mat: np.ndarray, level: str, noun: str, n_boot: int, random_state) -> dict:
    """One row of the overall table: α with its bootstrap interval (``n_boot`` 0: none), or why there is none."""
    why = why_no_alpha(mat, noun)
    if why:
        return {"measure": measure, "alpha": np.nan, "ci_low": np.nan, "ci_high": np.nan, "reading": why}
    a = krippendorff_alpha(mat, level)
    lo, hi = bootstrap_ci(krippendorff_alpha, mat, n_boot=n_boot, random_state=random_state, level=level) if n_boot else (np.nan, np.nan)
    return {"measure": measure, "alpha": a, "ci_low": lo, "ci_high": hi, "reading": interpret_alpha(a)}
