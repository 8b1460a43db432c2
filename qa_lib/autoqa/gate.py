"""The acceptance gate of automatic answers, item by item, and the monthly drift check of accepted items.

An automatic item (a rule or the learned scorer answering one scorecard item) is **accepted** — its answers may score
agents — only when, on held-out human-scored calls, it agrees with the human reference no worse than inspectors agree
with the same kind of reference in calibration sessions, by more than a stated ``margin`` (0.10 in Gwet's AC1), and
enough calls back the verdict. Until then its answers only pick calls for the targeted arm and are shown to inspectors
as suggestions with evidence; they never score an agent.

**The fair comparison.** The human answer on a held-out call is one inspector's, with that inspector's noise; an
inspector's agreement with the expert in calibration has no such noise on the reference side. Comparing
AC1(auto, inspector) with AC1(inspector, expert) would ask the scorer to be as good as the expert. The gate therefore
matches the reference on both sides (``reference``):

* ``"inspector"`` — the held-out answers are single inspectors' (the random arm): the scorer's AC1 with them is
  compared with the AC1 of *pairs of different inspectors* on the same calibration calls, the pairs drawn from the
  inspectors who gave the held-out answers (all calibration inspectors when fewer than two of them calibrated). Both
  sides carry one inspector's noise on the reference side, so a scorer whose errors are an inspector's has, in
  expectation, the same AC1 as the inspector pairs; a scorer as good as the expert has more.
* ``"expert"`` — the held-out answers are the expert's (calibration calls, an expert re-score): compared with each
  inspector's AC1 with the expert on the calibration calls.
* ``"auto"`` (default) — ``"expert"`` when every held-out answer is by ``expert``, else ``"inspector"``.

The test: bootstrap the held-out calls and the calibration calls independently (resampling calls, so the several
inspector pairs of one calibration call stay together), ``n_boot`` times; the one-sided lower 1 − ``alpha`` bound of
AC1(auto) − AC1(inspectors) is ``diff_lo``; accepted when ``diff_lo > −margin``, at least ``min_n`` answered calls
and ``min_calibration`` calibration calls back it, and the scorer abstains on at most ``max_abstain`` of the calls.
Abstentions (``answer`` None) are not agreement: AC1 and κ are computed on the answered calls and the abstention
rate is reported apart. The held-out and calibration calls must be different calls (the two bootstraps are
independent).

Categories: an item's declared answers — ``yes``/``no`` (yes_no), ``yes``/``partial``/``no`` (yes_partial_no: partial
is a category of its own, a partial against a yes or a no is a disagreement; the nominal AC1 and κ) — plus ``na``
where the item allows N/A or an answer says N/A. The confusion matrix (:func:`confusion`) is human rows × automatic
columns over those categories plus an ``abstain`` column; N/A errors are counted apart (``na_auto_only``: the scorer
said N/A where the human answered; ``na_human_only``: the reverse).

The simulation check of the gate (acceptance rate when the scorer is as good as inspectors, false acceptance when it is
worse by the margin) and of :func:`drift` is in ``benchmarks/validity_parts/ppi.py`` and docs/autoqa.md.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from ..errors import ParameterError
from ..stats.agreement import cohen_kappa, gwet_ac1
from ..stats.fdr import q_values

__all__ = ["gate", "confusion", "drift", "ac1_se", "GATE_COLUMNS", "DRIFT_COLUMNS", "ANSWER_ORDER"]

#: The answer categories in display order (yes_no items use yes, no; N/A only where it occurs or is allowed).
ANSWER_ORDER = ("yes", "partial", "no", "na")
GATE_COLUMNS = ["item_id", "source", "reference", "n", "answered", "abstain_rate", "agree", "kappa", "kappa_lo", "kappa_hi", "ac1",
                "ac1_lo", "ac1_hi", "inspectors_ac1", "inspectors_lo", "inspectors_hi", "calibration_calls", "diff", "diff_lo",
                "margin", "accepted", "reason_zh", "reason_en", "n_needed", "na_auto_only", "na_human_only"]
DRIFT_COLUMNS = ["item_id", "month", "n", "agree", "ac1", "ac1_lo", "ac1_hi", "accepted_level", "p_value", "q_value", "drifted",
                 "falls_back"]
_NA_WORDS = {"na", "n/a", "不适用", "-"}
_REFERENCES = ("auto", "inspector", "expert")


# ------------------------------------------------------------------------------------------------ inputs
def _answers(s: pd.Series) -> pd.Series:
    """Answers as the vocabulary: lower-case, N/A spellings → ``na``; None / NaN stay missing."""
    vals = s.to_numpy(dtype=object)
    ok = pd.notna(vals)
    txt = pd.Series(vals[ok]).astype(str).str.strip().str.lower()
    vals = vals.copy()
    vals[ok] = np.where(txt.isin(_NA_WORDS), "na", txt).astype(object)
    vals[~ok] = None
    out = pd.Series(vals, index=s.index, dtype=object)
    return out


def _check_frame(frame, name: str, cols: list[str]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{name} must be a DataFrame; got {type(frame).__name__}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ParameterError(f"{name} must have columns {cols}; missing {missing}")
    return frame


def _labels(item_id, card, seen) -> list[str]:
    """The item's categories: its declared answers (``card``) or the vocabulary answers seen, in :data:`ANSWER_ORDER`."""
    base: set[str] = {"yes", "no"}
    if card is not None and item_id in card.item_ids:
        it = card.item(item_id)
        base |= {o for o in it.options if o in ANSWER_ORDER}
    base |= {str(v) for v in seen if v is not None}
    unknown = base - set(ANSWER_ORDER)
    if unknown:
        raise ParameterError(f"answers must be one of {list(ANSWER_ORDER)} (or None for an abstention); item {item_id!r} has {sorted(unknown)}")
    return [a for a in ANSWER_ORDER if a in base]


def _gated_items(card) -> set[str] | None:
    """yes_no and yes_partial_no items of ``card`` (scales and fault counts are out of scope); None: no card."""
    if card is None:
        return None
    return {it.id for it in card.items if it.kind in ("yes_no", "yes_partial_no")}


def _int(v, name: str, lo: int) -> int:
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
        raise ParameterError(f"{name} must be an integer ≥ {lo}; got {v!r}")
    return int(v)


def _prob(v, name: str, lo: float = 0.0, hi: float = 1.0, open_lo: bool = True) -> float:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and (lo < v if open_lo else lo <= v) and v < hi
    if not ok:
        raise ParameterError(f"{name} must be a number {'>' if open_lo else '≥'} {lo:g} and < {hi:g}; got {v!r}")
    return float(v)


# ------------------------------------------------------------------------------------- pair statistics
# Agreement of pooled rater pairs, per call: agreeing pairs, pairs, and how often each category occurs among the
# pairs' ratings (each pair counts two ratings). AC1 of the stacked pairs (one unit per pair, Gwet 2014 ch. 2):
# pa = Σ agree / Σ pairs, π_k = Σ count_k / (2 Σ pairs), pe = Σ π_k (1 − π_k) / (q − 1) — the same value as
# qa_lib.stats.agreement.gwet_ac1 on a 2 × pairs matrix (tests check it). Sums over a bootstrap resample of calls are
# a matrix product with the calls' multiplicities, so every resample is computed at once.
def _ac1(agree, pairs, cnt, q: int):
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = agree / pairs
        pi = cnt / (2 * pairs)[..., None]
        pe = (pi * (1 - pi)).sum(axis=-1) / (q - 1)
        return (pa - pe) / (1 - pe)


def _kappa(agree, pairs, cnt_a, cnt_h):
    with np.errstate(invalid="ignore", divide="ignore"):
        po = agree / pairs
        pe = (cnt_a * cnt_h).sum(axis=-1) / pairs**2
        return (po - pe) / (1 - pe)


def _multiplicities(n_calls: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """How often each call is drawn in each of ``n_boot`` bootstrap resamples (resamples × calls)."""
    return rng.multinomial(n_calls, np.full(n_calls, 1.0 / n_calls), size=n_boot).astype(float)


def _by_call(call_codes: np.ndarray, n_calls: int, *cols: np.ndarray) -> list[np.ndarray]:
    """Per-call sums of per-row columns (1-D or rows × q)."""
    out = []
    for c in cols:
        if c.ndim == 1:
            out.append(np.bincount(call_codes, weights=c, minlength=n_calls))
        else:
            out.append(np.stack([np.bincount(call_codes, weights=c[:, k], minlength=n_calls) for k in range(c.shape[1])], axis=1))
    return out


def _auto_side(a: np.ndarray, h: np.ndarray, calls: np.ndarray, q: int, n_boot: int, rng) -> dict:
    """Agreement of the scorer with the reference on answered rows: point values and bootstrap draws (by call)."""
    eye = np.eye(q)
    oa, oh = eye[a], eye[h]
    codes, uniq = pd.factorize(calls)
    n_calls = uniq.size
    agree, pairs, cnt_a, cnt_h = _by_call(codes, n_calls, (a == h).astype(float), np.ones(a.size), oa, oh)
    tot = lambda x: x.sum(axis=0)  # noqa: E731
    ac1 = float(_ac1(tot(agree), tot(pairs), tot(cnt_a) + tot(cnt_h), q))
    kappa = float(_kappa(tot(agree), tot(pairs), tot(cnt_a), tot(cnt_h)))
    mult = _multiplicities(n_calls, n_boot, rng)
    b_ac1 = _ac1(mult @ agree, mult @ pairs, mult @ (cnt_a + cnt_h), q)
    b_kappa = _kappa(mult @ agree, mult @ pairs, mult @ cnt_a, mult @ cnt_h)
    return {"ac1": ac1, "kappa": kappa, "b_ac1": b_ac1, "b_kappa": b_kappa, "agree": float(tot(agree) / tot(pairs))}


def _inspector_pairs(cal: pd.DataFrame, labels: list[str], mode: str, expert, pool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per calibration call: agreeing pairs, pairs, category counts among the pairs' ratings (``mode`` inspector/expert)."""
    q = len(labels)
    cal = cal[cal["answer"].isin(labels)]
    if mode == "inspector" and pool is not None and cal["inspector_id"].isin(pool).any():
        in_pool = cal[cal["inspector_id"].isin(pool)]
        if in_pool["inspector_id"].nunique() >= 2:
            cal = in_pool
    if cal.empty:
        return None
    c_codes, c_names = pd.factorize(cal["contact_id"], sort=True)
    r_codes, r_names = pd.factorize(cal["inspector_id"], sort=True)
    mat = np.full((c_names.size, r_names.size), -1)
    mat[c_codes[::-1], r_codes[::-1]] = pd.Index(labels).get_indexer(cal["answer"])[::-1]  # first answer of a cell wins
    onehot = (mat[:, :, None] == np.arange(q)).astype(float)  # calls × raters × q
    if mode == "inspector":
        n_ck = onehot.sum(axis=1)
        m = n_ck.sum(axis=1)
        pairs = m * (m - 1) / 2
        agree = (n_ck * (n_ck - 1) / 2).sum(axis=1)
        cnt = n_ck * (m - 1)[:, None]
    else:
        if expert not in set(r_names):
            return None
        e = int(np.flatnonzero(r_names == expert)[0])
        others = np.delete(onehot, e, axis=1)
        ex = onehot[:, e, :]
        has_e = ex.sum(axis=1) > 0
        n_ck = others.sum(axis=1) * has_e[:, None]
        pairs = n_ck.sum(axis=1)
        agree = (n_ck * ex).sum(axis=1)
        cnt = n_ck + pairs[:, None] * ex
    keep = pairs > 0
    return agree[keep], pairs[keep], cnt[keep]


# ---------------------------------------------------------------------------------------------- the gate
def gate(auto: pd.DataFrame, human: pd.DataFrame, calibration: pd.DataFrame | None = None, *, card=None, expert: str | None = None,
         reference: str = "auto", margin: float = 0.10, min_n: int = 50, min_calibration: int = 10, max_abstain: float = 0.5,
         width: float = 0.10, alpha: float = 0.05, n_boot: int = 2000, random_state=0) -> pd.DataFrame:
    """Accept or not each automatic item, per item and source, on held-out human-scored calls (see the module text).

    Parameters
    ----------
    auto : DataFrame
        The auto answers frame: ``contact_id, item_id, answer`` (None = abstained), optionally ``source``
        (rule / model: gated separately).
    human : DataFrame
        Held-out human answers ``contact_id, item_id, answer, inspector_id`` on the same calls (not calibration calls).
    calibration : DataFrame, optional
        Raw calibration scorings ``contact_id, item_id, answer, inspector_id`` (several inspectors and the expert on the
        same calls; :meth:`Store.calibration_data` joined to its item answers), or an
        :func:`qa_lib.calibration.item_reliability` table (``item_id, ac, ac_low, ac_high``: its multi-inspector AC, a
        normal approximation from its interval; inspector reference only). None: nothing to compare with, nothing
        accepted.
    card : Scorecard, optional
        Gives each item's declared answers (N/A allowed or not) and leaves scales and fault counts out.
    expert : str, optional
        The expert's inspector id (``reference="expert"``, and ``"auto"`` to recognise expert-scored held-out calls).
    reference : {"auto", "inspector", "expert"}
        What the held-out answers are, hence the fair inspector benchmark (module text).
    margin : float
        Non-inferiority margin in AC1 (default 0.10).
    min_n, min_calibration : int
        Answered held-out calls, and calibration calls with a pair, needed before an item can be accepted.
    max_abstain : float
        Largest abstention rate an accepted item may have.
    width : float
        Full width of the 95 % AC1 interval wanted: ``n_needed`` is the number of answered validation calls that gives
        it, from the bootstrap standard error scaled by √n (sd × √n per call, n = (2 · 1.96 · sd √n / width)²).
    alpha : float
        One-sided level of the non-inferiority test (the lower bound is the ``alpha`` bootstrap quantile).
    n_boot, random_state :
        Bootstrap resamples (≥ 200) and seed.

    Returns
    -------
    DataFrame, one row per item (and source): :data:`GATE_COLUMNS`. κ and AC1 intervals are 95 % percentile bootstrap
    intervals over calls; ``inspectors_*`` the inspectors' AC1 with its interval; ``diff`` and ``diff_lo`` the
    difference and its one-sided lower bound. ``attrs["confusion"]`` holds the confusion counts (long:
    ``item_id, source, human, auto, calls``), read with :func:`confusion`.

    The coefficients are :func:`qa_lib.stats.agreement.gwet_ac1` and :func:`~qa_lib.stats.agreement.cohen_kappa`
    (the vectorised resampling gives the same value on the full sample; tests check it).
    """
    _check_frame(auto, "auto", ["contact_id", "item_id", "answer"])
    _check_frame(human, "human", ["contact_id", "item_id", "answer", "inspector_id"])
    if reference not in _REFERENCES:
        raise ParameterError(f"reference must be one of {list(_REFERENCES)}; got {reference!r}")
    margin = _prob(margin, "margin", 0.0, 1.0)
    alpha = _prob(alpha, "alpha", 0.0, 0.5)
    width = _prob(width, "width", 0.0, 2.0)
    max_abstain = _prob(max_abstain, "max_abstain", 0.0, 1.0 + 1e-12, open_lo=False)
    min_n, min_calibration = _int(min_n, "min_n", 1), _int(min_calibration, "min_calibration", 2)
    n_boot = _int(n_boot, "n_boot", 200)
    if reference == "expert" and expert is None:
        raise ParameterError("expert must name the expert's inspector_id when reference='expert'")
    rng = np.random.default_rng(random_state)
    pairs, cal_kind, cal = _pairs(auto, human, calibration, card)
    mode = reference
    if mode == "auto":
        mode = "expert" if expert is not None and len(pairs) and (pairs["inspector_id"] == expert).all() else "inspector"
    if mode == "expert" and cal_kind == "table":
        raise ParameterError("calibration must be raw scorings (contact_id, item_id, answer, inspector_id) for reference='expert'")
    rows, conf = _gate_rows(pairs, card, cal_kind, cal, mode, expert, margin, min_n, min_calibration, max_abstain, width, alpha, n_boot, rng)
    out = pd.DataFrame(rows, columns=GATE_COLUMNS)
    out["accepted"] = out["accepted"].astype(bool)
    out.attrs["confusion"] = (pd.concat(conf, ignore_index=True) if conf
                              else pd.DataFrame(columns=["item_id", "source", "human", "auto", "calls"]))
    return out


def _gate_rows(pairs, card, cal_kind, cal, mode, expert, margin, min_n, min_calibration, max_abstain, width, alpha, n_boot, rng):
    """Per source and item: the confusion counts and the verdict row."""
    pool = set(pairs["inspector_id"].dropna())
    rows, conf = [], []
    for (source, item_id), g in pairs.groupby(["source", "item_id"], sort=True):
        labels = _labels(item_id, card, set(g["answer_auto"].dropna()) | set(g["answer_human"]))
        q = len(labels)
        lk = pd.Index(labels)
        hc = lk.get_indexer(g["answer_human"])
        ac = np.where(g["answer_auto"].isna(), -1, lk.get_indexer(g["answer_auto"].fillna("yes")))
        answered = ac >= 0
        n, n_ans = len(g), int(answered.sum())
        cm = np.zeros((q, q + 1), int)
        np.add.at(cm, (hc, np.where(answered, ac, q)), 1)
        conf.append(pd.DataFrame({"item_id": item_id, "source": source, "human": np.repeat(labels, q + 1),
                                  "auto": np.tile(labels + ["abstain"], q), "calls": cm.ravel()}))
        na = labels.index("na") if "na" in labels else None
        row = {"item_id": item_id, "source": source, "reference": mode, "n": n, "answered": n_ans,
               "abstain_rate": 1 - n_ans / n if n else np.nan, "margin": margin,
               "na_auto_only": int(cm[:, na].sum() - cm[na, na]) if na is not None else 0,
               "na_human_only": int(cm[na, :q].sum() - cm[na, na]) if na is not None else 0}
        row |= _item_verdict(ac[answered], hc[answered], g["contact_id"].to_numpy()[answered], labels, cal_kind,
                             cal if cal_kind else None, item_id, mode, expert, pool, margin, min_n, min_calibration,
                             max_abstain, row["abstain_rate"], width, alpha, n_boot, rng)
        rows.append(row)
    return rows, conf


def _pairs(auto: pd.DataFrame, human: pd.DataFrame, calibration, card) -> tuple[pd.DataFrame, str | None, pd.DataFrame | None]:
    """The automatic and human answers side by side per call and item (human N/A kept, human blanks dropped; only the
    card's gated items), and the calibration input with its kind: ``"table"`` (item_reliability), ``"raw"`` or None."""
    a = auto.assign(answer=_answers(auto["answer"]), source=auto["source"] if "source" in auto.columns else "")
    h = human.assign(answer=_answers(human["answer"]))
    h = h[h["answer"].notna()]
    cal_kind, cal = None, None
    if calibration is not None:
        if isinstance(calibration, pd.DataFrame) and {"item_id", "ac", "ac_low", "ac_high"} <= set(calibration.columns):
            cal_kind, cal = "table", calibration.set_index("item_id")
        else:
            cal = _check_frame(calibration, "calibration", ["contact_id", "item_id", "answer", "inspector_id"])
            cal_kind, cal = "raw", cal.assign(answer=_answers(cal["answer"]))
    pairs = a[["contact_id", "item_id", "answer", "source"]].merge(
        h[["contact_id", "item_id", "answer", "inspector_id"]], on=["contact_id", "item_id"], suffixes=("_auto", "_human"))
    items = _gated_items(card)
    if items is not None:
        pairs = pairs[pairs["item_id"].isin(items)]
    return pairs, cal_kind, cal


def _item_verdict(ac, hc, calls, labels, cal_kind, cal, item_id, mode, expert, pool, margin, min_n, min_calibration,
                  max_abstain, abstain_rate, width, alpha, n_boot, rng) -> dict:
    """One item's agreement numbers, the inspectors' benchmark, the non-inferiority bound and the verdict in words."""
    q = len(labels)
    nan = float("nan")
    out = dict.fromkeys(["agree", "kappa", "kappa_lo", "kappa_hi", "ac1", "ac1_lo", "ac1_hi", "inspectors_ac1", "inspectors_lo",
                         "inspectors_hi", "diff", "diff_lo", "n_needed"], nan) | {"calibration_calls": 0}
    n_ans = int(ac.size)
    if n_ans >= 2:
        s = _auto_side(ac, hc, calls, q, n_boot, rng)
        out["agree"] = s["agree"]
        out["ac1"] = gwet_ac1(np.vstack([np.asarray(labels, dtype=object)[hc], np.asarray(labels, dtype=object)[ac]]), labels=labels)
        out["kappa"] = cohen_kappa(np.asarray(labels)[hc], np.asarray(labels)[ac], labels=labels)
        for k in ("ac1", "kappa"):
            b = s[f"b_{k}"][np.isfinite(s[f"b_{k}"])]
            if b.size:
                out[f"{k}_lo"], out[f"{k}_hi"] = (float(v) for v in np.quantile(b, [0.025, 0.975]))
        b_ac1 = s["b_ac1"]
        sd = float(np.nanstd(b_ac1, ddof=1))
        if sd > 0:
            out["n_needed"] = int(math.ceil((2 * 1.959964 * sd * math.sqrt(n_ans) / width) ** 2))
        insp = _inspector_side(cal_kind, cal, item_id, labels, mode, expert, pool, n_boot, rng)
        if insp is not None:
            out["inspectors_ac1"], b_insp, out["calibration_calls"] = insp
            bi = b_insp[np.isfinite(b_insp)]
            if bi.size:
                out["inspectors_lo"], out["inspectors_hi"] = (float(v) for v in np.quantile(bi, [0.025, 0.975]))
            d = b_ac1 - b_insp
            d = d[np.isfinite(d)]
            out["diff"] = out["ac1"] - out["inspectors_ac1"]
            if d.size:
                out["diff_lo"] = float(np.quantile(d, alpha))
    accepted, (zh, en) = _reason(out, n_ans, min_n, min_calibration, max_abstain, abstain_rate, margin, mode)
    return out | {"accepted": accepted, "reason_zh": zh, "reason_en": en}


def _inspector_side(cal_kind, cal, item_id, labels, mode, expert, pool, n_boot, rng):
    """The inspectors' AC1 on the calibration calls, its bootstrap draws (by call) and the number of calls; None if none."""
    q = len(labels)
    if cal_kind is None:
        return None
    if cal_kind == "table":
        if item_id not in cal.index or not np.isfinite(cal.loc[item_id, "ac"]):
            return None
        r = cal.loc[item_id]
        se = (r["ac_high"] - r["ac_low"]) / (2 * 1.959964) if np.isfinite(r["ac_high"] - r["ac_low"]) else 0.0
        calls = int(r["calls"]) if "calls" in cal.columns else 0
        return float(r["ac"]), float(r["ac"]) + se * rng.standard_normal(n_boot), calls
    sub = cal[cal["item_id"] == item_id]
    parts = _inspector_pairs(sub, labels, mode, expert, pool)
    if parts is None or parts[1].size == 0:
        return None
    agree, pairs, cnt = parts
    point = float(_ac1(agree.sum(), pairs.sum(), cnt.sum(axis=0), q))
    mult = _multiplicities(pairs.size, n_boot, rng)
    return point, _ac1(mult @ agree, mult @ pairs, mult @ cnt, q), int(pairs.size)


def _reason(r: dict, n_ans: int, min_n: int, min_cal: int, max_abstain: float, abstain_rate: float, margin: float, mode: str):
    """accepted, and why, in Chinese and English."""
    ref_zh, ref_en = ("专家", "the expert") if mode == "expert" else ("质检员", "inspectors")
    bench_zh, bench_en = ("质检员与专家之间", "inspectors with the expert") if mode == "expert" else ("质检员彼此之间", "inspectors with each other")
    fallback_zh, fallback_en = "自动判断只用于挑选定向抽检通话和提示质检员，不计入坐席成绩", "automatic answers only pick targeted calls and are suggestions; they never score an agent"
    if n_ans < min_n:
        return False, (f"可用的验证通话太少（{n_ans} < {min_n} 通），未通过验收；{fallback_zh}",
                       f"too few answered validation calls ({n_ans} < {min_n}): not accepted; {fallback_en}")
    if abstain_rate > max_abstain:
        return False, (f"自动判断弃答过多（{abstain_rate:.0%} > {max_abstain:.0%}），未通过验收；{fallback_zh}",
                       f"abstains on too many calls ({abstain_rate:.0%} > {max_abstain:.0%}): not accepted; {fallback_en}")
    if not np.isfinite(r["inspectors_ac1"]):
        return False, (f"没有该项目的校准数据，无法与质检员比较，未通过验收；{fallback_zh}",
                       f"no calibration data for this item: nothing to compare with, not accepted; {fallback_en}")
    if r["calibration_calls"] and r["calibration_calls"] < min_cal:
        return False, (f"校准通话太少（{r['calibration_calls']} < {min_cal} 通），未通过验收；{fallback_zh}",
                       f"too few calibration calls ({r['calibration_calls']} < {min_cal}): not accepted; {fallback_en}")
    a, b, lo = r["ac1"], r["inspectors_ac1"], r["diff_lo"]
    if np.isfinite(lo) and lo > -margin:
        return True, (f"自动判断与{ref_zh}的一致性（AC1 {a:.2f}）不低于{bench_zh}（{b:.2f}）减 {margin:.2f}"
                      f"（差值的单侧下限 {lo:+.2f}），通过验收",
                      f"automatic answers agree with {ref_en} (AC1 {a:.2f}) no worse than {bench_en} ({b:.2f}) less {margin:.2f} "
                      f"(one-sided lower bound of the difference {lo:+.2f}): accepted")
    return False, (f"自动判断与{ref_zh}的一致性（AC1 {a:.2f}）可能比{bench_zh}（{b:.2f}）低 {margin:.2f} 以上"
                   f"（差值的单侧下限 {lo:+.2f}），未通过验收；{fallback_zh}",
                   f"automatic answers (AC1 {a:.2f} with {ref_en}) may be more than {margin:.2f} below {bench_en} ({b:.2f}) "
                   f"(one-sided lower bound of the difference {lo:+.2f}): not accepted; {fallback_en}")


def confusion(result: pd.DataFrame, item_id: str, source: str | None = None) -> pd.DataFrame:
    """The confusion matrix of one item from a :func:`gate` result: human answers (rows) × automatic answers (columns,
    with ``abstain``), counts of calls. ``source`` picks the scorer when the result has several."""
    long = result.attrs.get("confusion") if isinstance(result, pd.DataFrame) else None
    if long is None:
        raise ParameterError("result must be the DataFrame gate() returned (its attrs['confusion'] holds the matrices)")
    sel = long[long["item_id"] == item_id]
    if sel.empty:
        raise ParameterError(f"item_id must be one of {sorted(long['item_id'].unique())}; got {item_id!r}")
    sources = sorted(sel["source"].unique())
    if source is None and len(sources) > 1:
        raise ParameterError(f"source must be one of {sources} for item {item_id!r}; got None")
    if source is not None:
        if source not in sources:
            raise ParameterError(f"source must be one of {sources}; got {source!r}")
        sel = sel[sel["source"] == source]
    rows = list(dict.fromkeys(sel["human"]))
    cols = list(dict.fromkeys(sel["auto"]))
    out = sel.pivot(index="human", columns="auto", values="calls").reindex(index=rows, columns=cols).astype(int)
    out.index.name, out.columns.name = "human", "auto"
    return out


# ---------------------------------------------------------------------------------------------- drift
def ac1_se(table) -> float:
    """Gwet's (2008) large-sample standard error of AC1 for two raters from a q × q table of counts (rows one rater,
    columns the other): v = [pa(1 − pa) − 4(1 − γ)(Σ p_kk(1 − π_k)/(q − 1) − pa·pe)
    + 4(1 − γ)²(Σ_kl p_kl(1 − (π_k + π_l)/2)²/(q − 1)² − pe²)] / (n (1 − pe)²)
    (Gwet, *Br. J. Math. Stat. Psychol.* 61, 2008, eq. 30; irrCAC's ``gwet.ac1.table``, without the finite-population factor).

    >>> round(ac1_se([[40, 5], [3, 52]]), 4)  # checked against a 20,000-resample bootstrap (0.0529) in the tests
    0.0537
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] < 2 or np.any(t < 0):
        raise ParameterError(f"table must be a square q × q table of counts, q ≥ 2; got shape {t.shape}")
    n = t.sum()
    if n < 2:
        return float("nan")
    q = t.shape[0]
    p = t / n
    pa = np.trace(p)
    pi = (p.sum(axis=0) + p.sum(axis=1)) / 2
    pe = float((pi * (1 - pi)).sum() / (q - 1))
    if pe >= 1:
        return float("nan")
    g = (pa - pe) / (1 - pe)
    term2 = (np.diag(p) * (1 - pi)).sum() / (q - 1) - pa * pe
    term3 = (p * (1 - (pi[:, None] + pi[None, :]) / 2) ** 2).sum() / (q - 1) ** 2 - pe**2
    v = (pa * (1 - pa) - 4 * (1 - g) * term2 + 4 * (1 - g) ** 2 * term3) / (n * (1 - pe) ** 2)
    return float(math.sqrt(max(v, 0.0)))


def _levels(x, name: str) -> pd.Series:
    if isinstance(x, pd.DataFrame):
        raise ParameterError(f"{name} must be a number, a dict or a Series item_id → value; got a DataFrame")
    try:
        return pd.Series(x, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, a dict or a Series item_id → value; got {type(x).__name__}") from None


def drift(auto: pd.DataFrame, human: pd.DataFrame, months, *, accepted_level, accepted_se=None, alpha: float = 0.05, card=None,
          min_n: int = 20, confidence: float = 0.95) -> pd.DataFrame:
    """Monthly agreement of accepted automatic items with the random arm, and whether an item drifted.

    ``auto`` and ``human`` as in :func:`gate` (``human`` the month's random-arm answers; abstentions are left out);
    ``months`` gives each call's month: a Series contact_id → month, or a DataFrame with ``contact_id, month``.
    ``accepted_level`` is the AC1 each item was accepted at (a dict / Series item_id → AC1, or one number for every
    item; items without a level are not tested), ``accepted_se`` its standard error (the gate's bootstrap sd) or None
    to treat the level as known.

    Per item × month: AC1 with Gwet's large-sample interval (:func:`ac1_se`), and the one-sided z-test of "this month's
    AC1 is below the accepted level" with z = (AC1 − level) / √(se² + accepted_se²); p-values are adjusted by
    Benjamini–Hochberg across the items of each month and the item ``drifted`` when q ≤ ``alpha``. A month with fewer
    than ``min_n`` answered calls is not tested (NaN). ``falls_back`` is True from an item's first drifted month on:
    its answers go back to suggestions until it is accepted again. Rows: :data:`DRIFT_COLUMNS`.
    """
    _check_frame(auto, "auto", ["contact_id", "item_id", "answer"])
    _check_frame(human, "human", ["contact_id", "item_id", "answer"])
    alpha = _prob(alpha, "alpha", 0.0, 1.0)
    conf = _prob(confidence, "confidence", 0.0, 1.0)
    min_n = _int(min_n, "min_n", 2)
    if isinstance(months, pd.DataFrame):
        _check_frame(months, "months", ["contact_id", "month"])
        months = months.drop_duplicates("contact_id").set_index("contact_id")["month"]
    if not isinstance(months, pd.Series):
        raise ParameterError(f"months must be a Series contact_id → month or a DataFrame with contact_id, month; got {type(months).__name__}")
    scalar = isinstance(accepted_level, (int, float)) and not isinstance(accepted_level, bool)
    level = None if scalar else _levels(accepted_level, "accepted_level")
    se_acc = None if accepted_se is None else (float(accepted_se) if isinstance(accepted_se, (int, float)) else _levels(accepted_se, "accepted_se"))
    a = auto.assign(answer=_answers(auto["answer"]))
    h = human.assign(answer=_answers(human["answer"]))
    pairs = a[a["answer"].notna()][["contact_id", "item_id", "answer"]].merge(
        h[h["answer"].notna()][["contact_id", "item_id", "answer"]], on=["contact_id", "item_id"], suffixes=("_auto", "_human"))
    pairs["month"] = pairs["contact_id"].map(months)
    if pairs["month"].isna().any():
        raise ParameterError(f"months has no month for {int(pairs['month'].isna().sum())} scored call(s), e.g. {pairs.loc[pairs['month'].isna(), 'contact_id'].iloc[0]!r}")
    z = -special.ndtri((1 - conf) / 2)
    rows = []
    for item_id, g in pairs.groupby("item_id", sort=True):
        labels = _labels(item_id, card, set(g["answer_auto"]) | set(g["answer_human"]))
        q = len(labels)
        lk = pd.Index(labels)
        hc, ac = lk.get_indexer(g["answer_human"]), lk.get_indexer(g["answer_auto"])
        m_codes, m_names = pd.factorize(g["month"], sort=True)
        tables = np.zeros((m_names.size, q, q))
        np.add.at(tables, (m_codes, hc, ac), 1)
        lev = float(accepted_level) if scalar else float(level.get(item_id, np.nan))
        s_acc = 0.0 if se_acc is None else float(se_acc) if isinstance(se_acc, float) else float(se_acc.get(item_id, 0.0))
        for k, month in enumerate(m_names):
            t = tables[k]
            n = int(t.sum())
            p = t / n
            pa = float(np.trace(p))
            pi = (p.sum(axis=0) + p.sum(axis=1)) / 2
            pe = float((pi * (1 - pi)).sum() / (q - 1))
            ac1 = (pa - pe) / (1 - pe) if pe < 1 else np.nan
            se = ac1_se(t)
            pval = np.nan
            if n >= min_n and np.isfinite(lev) and np.isfinite(ac1):
                tot_se = math.sqrt(se**2 + s_acc**2)
                pval = float(special.ndtr((ac1 - lev) / tot_se)) if tot_se > 0 else (0.0 if ac1 < lev - 1e-9 else 1.0)  # no spread: below is certain
            rows.append({"item_id": item_id, "month": month, "n": n, "agree": pa, "ac1": ac1, "ac1_lo": ac1 - z * se,
                         "ac1_hi": ac1 + z * se, "accepted_level": lev, "p_value": pval})
    out = pd.DataFrame(rows, columns=DRIFT_COLUMNS[:9])
    out["q_value"] = np.nan
    for _, idx in out.groupby("month").groups.items():
        out.loc[idx, "q_value"] = q_values(out.loc[idx, "p_value"].to_numpy())
    out["drifted"] = (out["q_value"] <= alpha).to_numpy()
    out = out.sort_values(["item_id", "month"], ignore_index=True)
    out["falls_back"] = out.groupby("item_id")["drifted"].cummax().astype(bool)
    return out[DRIFT_COLUMNS]
