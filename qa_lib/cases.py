"""The case library (案例库): exemplary calls and instructive failures per skill, for training.

Training leads turn monitored calls into case analyses (seed 000) and study them with their teams
(seed 002). This module picks those cases from the stored evaluations and writes them as one
static, searchable HTML page plus an .xlsx index.

Selection is pure, on tidy frames (:func:`select_cases`); only :func:`load_inputs` reads the store.
Per skill (the scorecard items' ``skills`` tags) and item it chooses:

* **exemplary** calls: the item passed, no scored item of that skill failed, no critical item
  failed, and the total is in the top of the period (at least the scorecard's upper quartile,
  :data:`TOP_QUANTILE`, among the period's usable evaluations). When the contact was scored by
  several inspectors (calibration sessions, double-scored random arm) every one of them must
  agree the skill passed; agreed double-scored calls are preferred.
* **instructive failures**: the item answered ``no`` / ``partial`` (a fault count above 0, a scale
  answer below its midpoint) with a clear inspector comment (:func:`comment_weight` at least
  :data:`MIN_COMMENT_WEIGHT`); on a double-scored contact the reference must have failed the item
  too: the session's expert where the calibration session names one, else more than half of the
  inspectors. Failures are ranked by how sure the answer is: confirmed ones first (a double-scored
  consensus, the calibration expert's own evaluation), then those upheld after a dispute, then the
  rest by the inspector's calibration reliability (:func:`inspector_reliability`). A cue phrase found in the
  transcript ranks a failure no higher than a call where none is found: for a step that fails by
  being missing, the phrase can show the step done.

Drafts and evaluations disputed and not yet resolved (status ``disputed``, or an
``evaluation_disputes`` row without an outcome) are never used; a resolved evaluation counts with its
stored (latest) answers. Ties are broken by a seeded hash of the evaluation and item, so the same
inputs in any row order give the same cases. At most ``per_skill`` cases per skill and kind are
kept, spread over items, agents and topics where the candidates allow.

Each case carries a transcript excerpt: a few lines around the turn that bears on the item, found
with the cue phrases of the center's cue file (``case_cues`` in center.yaml; the opening lines when
none matches or the center has none), PII-masked before anything is cut. Skills and topics read as the
center's ``labels`` say (else as tagged). Agent ids are left out unless asked for (``include_agent``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .config import settings
from .errors import NotFoundError, ParameterError
from .files import is_id_column, write_xlsx
from .html import escape
from .model import CHANNELS, CONTACT_TYPES
from .privacy import mask_pii
from .rubric import Scorecard
from .summary import parse_month

__all__ = [
    "KINDS", "LANGS", "TOP_QUANTILE", "MIN_COMMENT_WEIGHT", "CaseLibrary",
    "load_cues", "item_table", "usable_evaluations", "comment_weight", "find_excerpt", "grade_answers", "inspector_reliability",
    "select_cases", "skill_counts", "load_inputs", "library_view", "texts", "skill_label", "topic_label", "counts_table",
    "cases_table", "cases_html", "library_html", "write_library", "build_library",
]

KINDS = ("exemplary", "failure")
LANGS = ("zh", "en")
#: Exemplary calls score at least this quantile of their scorecard's totals in the period.
TOP_QUANTILE = 0.75
#: A "clear" inspector comment weighs at least this much (a Chinese character counts 2, a Latin letter or digit 1).
MIN_COMMENT_WEIGHT = 8
#: Statuses never used for a case (plus evaluations with an open dispute).
EXCLUDED_STATUSES = ("draft", "disputed")
#: Lines shown before and after the focus line of an excerpt.
CONTEXT_LINES = 2
#: Longest line kept in an excerpt (after masking).
MAX_LINE_CHARS = 200
MAX_MONTHS = 24
#: Calibration sessions of this many months, ending with the period, measure the inspectors' reliability.
CALIBRATION_MONTHS = 6

_EV_COLUMNS = ("evaluation_id", "contact_id", "agent_id", "inspector_id", "scorecard_id", "scorecard_version", "arm", "status", "total_score")
_IT_COLUMNS = ("evaluation_id", "item_id", "answer")
_CT_COLUMNS = ("contact_id",)
_SOURCE_RANK = {"cue": 0, "near": 1, "opening": 2, "none": 3}
_TAG_ORDER = ("passed", "failed", "partial", "critical", "bonus", "double_scored", "agreed", "calibration", "targeted", "resolved")

_TAGS = {
    "passed": ("通过", "passed"), "failed": ("未通过", "failed"), "partial": ("部分做到", "partly done"),
    "critical": ("关键项失分", "critical failure"), "bonus": ("加分项", "bonus"), "double_scored": ("多人评分", "double-scored"),
    "agreed": ("评分一致", "inspectors agree"), "calibration": ("校准会议", "calibration session"),
    "targeted": ("定向抽检", "targeted review"), "resolved": ("申诉已处理", "dispute resolved"),
}
_TEXTS = {
    "zh": {
        "title": "案例库 — {period}", "intro": "从质检评分中挑选的优秀案例与问题案例，按技能归类，用于培训与话术演练。"
        "客户信息已脱敏；默认不显示坐席身份。",
        "counts": "各技能案例数", "cases": "案例", "skill": "技能", "kind": "类型", "tag": "标签", "contact_type": "来电类型",
        "search": "搜索", "search_hint": "搜索评语、通话内容、评分项…", "all": "全部", "exemplary": "优秀案例", "failure": "问题案例",
        "item": "评分项", "scorecard": "评分表", "topic": "主题", "channel": "渠道", "total": "总分", "agreement": "评分一致",
        "item_comment": "质检评语", "comment": "总体评语", "excerpt": "通话节选", "no_transcript": "（无通话文本）",
        "opening": "（未定位到相关语句，显示开头几句）", "shown": "显示 {n} / {total} 个案例", "none": "没有符合条件的案例。",
        "agent": "坐席", "contact": "来电", "month": "月份", "answer": "评分", "evaluations": "有效评分",
        "with_fault": "有失分的评分", "case_id": "案例编号", "tags": "标签", "focus": "相关语句",
        "empty": "本期没有可用的案例。",
    },
    "en": {
        "title": "Case library — {period}", "intro": "Exemplary calls and instructive failures picked from the QA evaluations, "
        "by skill, for training and script drills. Customer details are masked; agents are not named by default.",
        "counts": "Cases per skill", "cases": "Cases", "skill": "Skill", "kind": "Kind", "tag": "Tag", "contact_type": "Contact type",
        "search": "Search", "search_hint": "Search comments, transcripts, items…", "all": "all", "exemplary": "Exemplary",
        "failure": "Instructive failure", "item": "Item", "scorecard": "Scorecard", "topic": "Topic", "channel": "Channel",
        "total": "Total", "agreement": "Agreement", "item_comment": "Inspector's comment", "comment": "Overall comment",
        "excerpt": "Transcript excerpt", "no_transcript": "(no transcript)", "opening": "(no matching line found: the opening lines)",
        "shown": "{n} of {total} cases shown", "none": "No case matches.", "agent": "Agent", "contact": "Contact",
        "month": "Month", "answer": "Answer", "evaluations": "usable evaluations", "with_fault": "evaluations with a fault",
        "case_id": "Case", "tags": "Tags", "focus": "relevant line", "empty": "No usable case in this period.",
    },
}


# ----------------------------------------------------------------------------- labels
def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ParameterError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang


def texts(lang: str = "zh") -> dict:
    """The library's headings and words in ``lang`` (``zh`` or ``en``)."""
    return _TEXTS[_check_lang(lang)]


def skill_label(skill: str, lang: str = "zh") -> str:
    """A skill tag's name in ``lang``: the center's label (``labels.skills`` in center.yaml), else the tag itself."""
    return settings().label("skills", skill, _check_lang(lang))


def topic_label(topic, lang: str = "zh") -> str:
    """A contact topic's name in ``lang``: the center's label (``labels.topics``), else the topic itself; "" for none."""
    return _center_labels("topics", [topic], _check_lang(lang))[0]


def _center_labels(kind: str, keys, lang: str) -> list[str]:
    """The center's labels of ``keys`` (``skills`` or ``topics``), reading the settings once; "" for a missing key."""
    s = pd.Series(list(keys), dtype=object)
    st = settings()
    table = {k: st.label(kind, k, lang) for k in s.dropna().unique()}
    return s.map(table).astype(object).where(s.notna(), "").astype(str).tolist()


def _pair_label(table: dict, key, lang: str) -> str:
    if key is None or (isinstance(key, float) and np.isnan(key)):
        return ""
    pair = table.get(key)
    return pair[LANGS.index(lang)] if pair else str(key).replace("_", " ")


def _choice_label(choices: dict, key, lang: str) -> str:
    """Chinese label of a coded value from the data model's aliases (the first CJK alias), the code in English."""
    if key is None or (isinstance(key, float) and np.isnan(key)):
        return ""
    if lang == "zh":
        zh = [a for a in choices.get(key, ()) if any("\u3400" <= ch <= "\u9fff" for ch in a)]
        if zh:
            return zh[0]
    return str(key).replace("_", " ")


# ------------------------------------------------------------------------------- cues
@lru_cache(maxsize=8)
def _read_cues(path: str, mtime_ns: int) -> dict:
    cues: dict[str, dict[str, tuple[str, ...]]] = {}
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or parts[1] not in ("find", "near"):
            raise ParameterError(f"{path}:{n}: a cue line is 'ITEM_ID find|near phrase | phrase'; got {raw!r}")
        phrases = tuple(p.strip().lower() for p in parts[2].split("|") if p.strip())
        cues.setdefault(parts[0], {}).setdefault(parts[1], ())
        cues[parts[0]][parts[1]] += phrases
    return cues


def load_cues(path: str | os.PathLike | None = None) -> dict[str, dict[str, tuple[str, ...]]]:
    """The cue phrases per item: ``{item_id: {"find": (...), "near": (...)}}`` (phrases lower-cased).

    Keys are item ids or ``scorecard_id.item_id``. Default: the center's cue file (``case_cues`` in center.yaml);
    a center without one, or whose file is missing, has no cues (``{}``: excerpts show the opening lines).
    A ``path`` given here must be a file.
    """
    if path is None:
        p = settings().case_cues
        return _read_cues(str(p), p.stat().st_mtime_ns) if p is not None and p.is_file() else {}
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"cues must be an existing cue file; got {str(p)!r}")
    return _read_cues(str(p), p.stat().st_mtime_ns)


def find_excerpt(transcript, item_id: str, scorecard_id: str | None = None, cues: dict | None = None,
                 context: int = CONTEXT_LINES) -> tuple[str, int, str]:
    """A few masked transcript lines around the turn that bears on ``item_id``.

    The transcript is PII-masked first, then split into turns. The focus line is the first line
    holding the item's earliest-listed ``find`` cue, else its ``near`` cue; with neither, the
    opening lines are shown. Lines longer than :data:`MAX_LINE_CHARS` are cut after masking.

    Returns
    -------
    (excerpt, focus, source)
        ``excerpt``: the lines joined by newlines; ``focus``: index of the focus line in it (-1
        when there is none); ``source``: ``cue``, ``near``, ``opening`` or ``none`` (no transcript).

    >>> find_excerpt("坐席：您好，工号007。\\n客户：我的手机是13812345678。\\n坐席：请问车型？", "verify",
    ...              cues={"verify": {"near": ("客户：",)}}, context=1)
    ('坐席：您好，工号007。\\n客户：我的手机是138****5678。\\n坐席：请问车型？', 1, 'near')
    """
    if transcript is None or (isinstance(transcript, float) and np.isnan(transcript)) or not str(transcript).strip():
        return "", -1, "none"
    cues = load_cues() if cues is None else cues
    lines = [ln.strip() for ln in mask_pii(str(transcript)).splitlines() if ln.strip()]
    lines = [ln if len(ln) <= MAX_LINE_CHARS else ln[: MAX_LINE_CHARS - 1] + "…" for ln in lines]
    lower = [ln.lower() for ln in lines]
    mine = cues.get(f"{scorecard_id}.{item_id}") or cues.get(item_id) or {}
    for tier, source in (("find", "cue"), ("near", "near")):
        for phrase in mine.get(tier, ()):
            hit = next((i for i, ln in enumerate(lower) if phrase in ln), None)
            if hit is not None:
                lo, hi = max(0, hit - context), min(len(lines), hit + context + 1)
                return "\n".join(lines[lo:hi]), hit - lo, source
    return "\n".join(lines[: 2 * context + 1]), -1, "opening"


# --------------------------------------------------------------------------- selection
def _cards(cards) -> list[Scorecard]:
    vals = list(cards.values()) if isinstance(cards, dict) else list(cards)
    if not vals or not all(isinstance(c, Scorecard) for c in vals):
        raise ParameterError("cards must be a non-empty list (or dict) of Scorecard objects, e.g. from Store.scorecard")
    return vals


def item_table(cards) -> pd.DataFrame:
    """One row per scorecard version × item × skill tag: the facts a case needs about its item.

    Items without a skill tag keep one row with ``skill`` None (they count for critical failures only).
    """
    rows = []
    for card in _cards(cards):
        for it in card.items:
            for skill in it.skills or (None,):
                rows.append({
                    "scorecard_id": card.id, "scorecard_version": int(card.version), "item_id": it.id, "skill": skill,
                    "item_kind": it.kind, "critical": it.critical is not None, "scored": bool(it.scored), "bonus": bool(it.bonus),
                    "scale_lo": float(it.scale[0]), "scale_hi": float(it.scale[1]),
                    "item_label_zh": it.label.get("zh", it.id), "item_label_en": it.label.get("en", it.id),
                    "scorecard_label_zh": card.label("zh"), "scorecard_label_en": card.label("en"),
                })
    return pd.DataFrame(rows).drop_duplicates(["scorecard_id", "scorecard_version", "item_id", "skill"], ignore_index=True)


def _require(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"{name} must be a DataFrame; got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ParameterError(f"{name} must have the columns {', '.join(columns)}; missing {', '.join(missing)}")


def usable_evaluations(evaluations: pd.DataFrame, disputes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Evaluations a case may come from: scored, not a draft, not disputed and unresolved.

    An evaluation is left out when its status is ``draft`` or ``disputed``, or when ``disputes``
    (rows of ``evaluation_disputes``) holds a row for it with an empty ``outcome``.
    """
    _require(evaluations, _EV_COLUMNS, "evaluations")
    status = evaluations["status"].astype(object).where(evaluations["status"].notna(), "submitted")
    ok = ~status.isin(EXCLUDED_STATUSES).to_numpy(dtype=bool) & evaluations["total_score"].notna().to_numpy(dtype=bool)
    if disputes is not None and len(disputes):
        _require(disputes, ("evaluation_id", "outcome"), "disputes")
        outcome = disputes["outcome"].astype(object)
        open_ = outcome.isna() | (outcome.astype(str).str.strip() == "")
        ok &= ~evaluations["evaluation_id"].isin(set(disputes.loc[open_.to_numpy(dtype=bool), "evaluation_id"])).to_numpy(dtype=bool)
    return evaluations[ok].reset_index(drop=True)


def comment_weight(comments: pd.Series) -> pd.Series:
    """How much a comment says: Chinese characters count 2, Latin letters and digits 1 (vectorized).

    >>> comment_weight(pd.Series(["未使用标准结束语", "ok", None, "no greeting"])).tolist()
    [16, 2, 0, 10]
    """
    s = pd.Series(comments, dtype=object).where(pd.Series(comments, dtype=object).notna(), "").astype(str)
    return (2 * s.str.count(r"[\u3400-\u9fff\uf900-\ufaff]") + s.str.count(r"[A-Za-z0-9]")).astype(int)


def grade_answers(evaluations: pd.DataFrame, items: pd.DataFrame, cards, *, disputes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The usable evaluations' answers, one row per evaluation × item × skill, graded.

    Adds ``passed`` (yes, no faults, top of the scale), ``fault`` (no / partial, a fault count, a scale
    answer below the midpoint; scored non-bonus items only), ``critical_fail``, ``skill_fault`` (any
    fault of the same skill in the evaluation), ``eval_critical`` (any critical failure in the evaluation)
    and ``threshold`` (the scorecard's :data:`TOP_QUANTILE` total among the usable evaluations).
    """
    _require(items, _IT_COLUMNS, "items")
    ev = usable_evaluations(evaluations, disputes)
    facts = item_table(cards)
    keep = [c for c in (*_EV_COLUMNS, "comment", "calibration_session_id") if c in ev.columns]
    head = ev[keep].copy()
    head["scorecard_version"] = pd.to_numeric(head["scorecard_version"], errors="coerce").astype("Int64")
    facts["scorecard_version"] = facts["scorecard_version"].astype("Int64")
    cols = ["evaluation_id", "item_id", "answer"] + (["item_comment"] if "item_comment" in items.columns else [])
    it = items.loc[items["evaluation_id"].isin(set(head["evaluation_id"])), cols]
    it = it.merge(head, on="evaluation_id", how="inner").merge(facts, on=["scorecard_id", "scorecard_version", "item_id"], how="inner")
    if "item_comment" not in it.columns:
        it["item_comment"] = None
    ans = it["answer"].astype(object).where(it["answer"].notna(), "").astype(str).str.strip().str.lower()
    num = pd.to_numeric(ans, errors="coerce").to_numpy(dtype=float)
    kind = it["item_kind"].to_numpy(dtype=object)
    yn = np.isin(kind, ["yes_no", "yes_partial_no"])
    ded, scl = kind == "deduction", kind == "scale"
    lo, hi = it["scale_lo"].to_numpy(dtype=float), it["scale_hi"].to_numpy(dtype=float)
    a = ans.to_numpy(dtype=object)
    scored = it["scored"].to_numpy(dtype=bool)
    bonus = it["bonus"].to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        passed = (yn & (a == "yes")) | (ded & (num == 0)) | (scl & (num >= hi))
        fault = (yn & np.isin(a, ["no", "partial"])) | (ded & (num > 0)) | (scl & (num < (lo + hi) / 2))
        crit = (yn & (a == "no")) | (ded & (num > 0)) | (scl & (num <= lo))
    it["answer"] = ans.to_numpy(dtype=object)
    it["passed"] = passed & (scored | bonus)
    it["fault"] = fault & scored & ~bonus
    it["critical_fail"] = it["fault"].to_numpy(dtype=bool) & crit & it["critical"].to_numpy(dtype=bool)
    it["answered"] = ~np.isin(a, ["", "na"])
    it["eval_critical"] = it.groupby("evaluation_id")["critical_fail"].transform("any").astype(bool)
    it = it[it["skill"].notna()].reset_index(drop=True)
    it["skill_fault"] = it.groupby(["evaluation_id", "skill"])["fault"].transform("any").astype(bool)
    thr = head.groupby("scorecard_id")["total_score"].quantile(TOP_QUANTILE)
    it["threshold"] = it["scorecard_id"].map(thr).astype(float)
    it["comment_weight"] = comment_weight(it["item_comment"]).to_numpy()
    return it


def _check_int(value, name: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo or (hi is not None and value > hi):
        rng = f"between {lo} and {hi}" if hi is not None else f"≥ {lo}"
        raise ParameterError(f"{name} must be a whole number {rng}; got {value!r}")
    return int(value)


def select_cases(evaluations: pd.DataFrame, items: pd.DataFrame, contacts: pd.DataFrame, cards, *,
                 disputes: pd.DataFrame | None = None, inspectors: pd.DataFrame | None = None, per_skill: int = 5,
                 seed: int = 0, include_agent: bool = False, cues: dict | None = None, sessions: pd.DataFrame | None = None,
                 reliability: pd.DataFrame | None = None) -> pd.DataFrame:
    """Choose the library's cases from tidy frames (no database).

    Parameters
    ----------
    evaluations : DataFrame
        Evaluation headers (``evaluation_id, contact_id, agent_id, inspector_id, scorecard_id,
        scorecard_version, arm, status, total_score``; ``comment`` if present).
    items : DataFrame
        Their answers (``evaluation_id, item_id, answer``; ``item_comment`` if present), latest version.
    contacts : DataFrame
        The contacts (``contact_id``; ``start_time, contact_type, topic, channel, transcript`` used when present).
    cards : list or dict of Scorecard
        Every scorecard version the evaluations use.
    disputes : DataFrame, optional
        ``evaluation_disputes`` rows; an evaluation with an open one (no ``outcome``) is never used, a
        failure ``upheld`` on its item counts as confirmed.
    inspectors : DataFrame, optional
        ``inspector_id, is_expert``: the expert's evaluation represents a double-scored contact, and the
        expert's failures count as confirmed.
    per_skill : int
        At most this many cases per skill and kind.
    seed : int
        Seed of the tie-break hash.
    include_agent : bool
        Add the ``agent_id`` column (for supervisors; the library leaves agents out by default).
    cues : dict, optional
        Cue phrases (:func:`load_cues`); default the center's cue file (none: the opening lines).
    sessions : DataFrame, optional
        ``calibration_sessions`` rows (``session_id, expert_inspector_id``): on a session's calls the
        named expert's answer is the reference.
    reliability : DataFrame, optional
        :func:`inspector_reliability` (``inspector_id, reliability``) ranks the unconfirmed failures;
        default: measured on the contacts of these evaluations that several inspectors scored.

    Returns
    -------
    DataFrame
        One row per case: ``case_id, kind, skill, skill_label_zh, skill_label_en, item_id,
        item_label_zh, item_label_en, scorecard_id, scorecard_version, scorecard_label_zh,
        scorecard_label_en, month, contact_id, evaluation_id, contact_type, topic, channel, arm,
        answer, tags, total_score, agreement, n_evaluations, item_comment, comment, excerpt,
        excerpt_focus, excerpt_source, rank`` (+ ``agent_id``), skills with the most faults first,
        exemplary before failure, best first.
    """
    per_skill = _check_int(per_skill, "per_skill", 1)
    seed = _check_int(seed, "seed", 0)
    _require(contacts, _CT_COLUMNS, "contacts")
    cues = load_cues() if cues is None else cues
    g = grade_answers(evaluations, items, cards, disputes=disputes)
    skill_order = _skill_order(g)
    out_cols = _case_columns(include_agent)
    if g.empty:
        return pd.DataFrame(columns=out_cols)

    experts = _experts(inspectors)
    cand = _candidates(g, sessions)
    if cand.empty:
        return pd.DataFrame(columns=out_cols)
    if reliability is None:
        reliability = _reliability(g.drop_duplicates(["evaluation_id", "item_id"], ignore_index=True), sessions, experts)
    cand = _with_contact_and_excerpt(cand, contacts, cues)
    cand = _trust(cand, reliability, experts, sessions, disputes)
    cand = _best_calls(cand, seed)
    cand = _spread(cand)
    cases = cand[cand["rank"] <= per_skill].copy()
    return _finish(cases, g, skill_order, include_agent)


def _candidates(g: pd.DataFrame, sessions: pd.DataFrame | None) -> pd.DataFrame:
    """Exemplary and failure candidates with ``case_kind, agreement, merit``; adds the inspectors' agreement columns to ``g``."""
    key = ["contact_id", "scorecard_id", "item_id", "skill"]
    grp = g.groupby(key, sort=False)
    g["n_evaluations"] = grp["evaluation_id"].transform("nunique").astype(int)
    clean = g["passed"] & ~g["skill_fault"]
    g["agree_ex"] = clean.astype(float).groupby([g[k] for k in key]).transform("mean")
    answered = g["answered"].to_numpy(dtype=bool)
    fails = pd.Series(np.where(answered, g["fault"].to_numpy(dtype=float), np.nan), index=g.index)
    g["agree_fail"] = fails.groupby([g[k] for k in key]).transform("mean")

    ex = g[(clean & ~g["eval_critical"] & (g["total_score"] >= g["threshold"]) & (g["agree_ex"] >= 1.0)).to_numpy(dtype=bool)]
    ex = ex.assign(case_kind="exemplary", agreement=ex["agree_ex"], merit=ex["total_score"].astype(float))
    ref_fault = _reference(g, sessions, key)[0]
    fl = g[g["fault"].to_numpy(dtype=bool) & (g["comment_weight"] >= MIN_COMMENT_WEIGHT).to_numpy(dtype=bool) & ref_fault]
    severity = np.where(fl["critical_fail"], 2.0, np.where(fl["answer"] == "partial", 0.0, 1.0))
    fl = fl.assign(case_kind="failure", agreement=fl["agree_fail"], merit=severity)
    return pd.concat([ex, fl], ignore_index=True)


def _with_contact_and_excerpt(cand: pd.DataFrame, contacts: pd.DataFrame, cues: dict) -> pd.DataFrame:
    """The candidates with their contact's facts and the transcript excerpt of their item."""
    ccols = [c for c in ("contact_id", "start_time", "contact_type", "topic", "channel", "transcript") if c in contacts.columns]
    ct = contacts[ccols].drop_duplicates("contact_id")
    cand = cand.merge(ct, on="contact_id", how="left")
    for c in ("start_time", "contact_type", "topic", "channel", "transcript"):
        if c not in cand.columns:
            cand[c] = None
    # excerpts: once per contact and item (the transcript is masked inside find_excerpt, before any cut)
    pairs = cand[["contact_id", "scorecard_id", "item_id", "transcript"]].drop_duplicates(["contact_id", "scorecard_id", "item_id"])
    found = [find_excerpt(t, i, s, cues) for t, i, s in zip(pairs["transcript"], pairs["item_id"], pairs["scorecard_id"])]
    pairs = pairs.drop(columns="transcript").assign(
        excerpt=[f[0] for f in found], excerpt_focus=[f[1] for f in found], excerpt_source=[f[2] for f in found])
    return cand.drop(columns="transcript").merge(pairs, on=["contact_id", "scorecard_id", "item_id"], how="left")


def _experts(inspectors: pd.DataFrame | None) -> set:
    """The calibration experts (``inspectors.is_expert``)."""
    if inspectors is None or not len(inspectors) or not {"inspector_id", "is_expert"} <= set(inspectors.columns):
        return set()
    return set(inspectors.loc[inspectors["is_expert"].fillna(False).astype(bool).to_numpy(dtype=bool), "inspector_id"])


def _session_expert(ev: pd.DataFrame, sessions: pd.DataFrame | None) -> pd.Series:
    """Per row of ``ev``: the expert its calibration session names (None outside a session or where it names none)."""
    none = pd.Series(None, index=ev.index, dtype=object)
    if sessions is None or not len(sessions) or "calibration_session_id" not in ev.columns:
        return none
    _require(sessions, ("session_id", "expert_inspector_id"), "sessions")
    named = sessions.drop_duplicates("session_id").set_index("session_id")["expert_inspector_id"].astype(object)
    named = named[named.notna() & (named.astype(str).str.strip() != "")]
    return ev["calibration_session_id"].map(named).astype(object).where(ev["calibration_session_id"].notna(), None)


def _reference(g: pd.DataFrame, sessions: pd.DataFrame | None, key: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference verdict on each row's call and item: did it fail? (whole group, leave-one-out, leave-one-out defined).

    The reference is the answer of the expert the row's calibration session names, where that expert answered the
    item; else more than half of the inspectors who answered it (leave-one-out: of the others; a tie gives none).
    """
    by = [g[k] for k in key]
    answered = g["answered"].to_numpy(dtype=bool)
    fault = np.where(answered, g["fault"].to_numpy(dtype=float), np.nan)
    f = pd.Series(fault, index=g.index)
    n, total = f.groupby(by).transform("count").to_numpy(dtype=float), f.groupby(by).transform("sum").to_numpy(dtype=float)
    boss = answered & (g["inspector_id"].astype(object) == _session_expert(g, sessions)).to_numpy(dtype=bool)
    e_ans = pd.Series(boss, index=g.index).groupby(by).transform("any").to_numpy(dtype=bool)
    e_fault = pd.Series(np.where(boss, fault, 0.0), index=g.index).groupby(by).transform("max").to_numpy(dtype=float) > 0
    ref = np.where(e_ans, e_fault, total > n / 2)
    others_n = n - answered
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (total - np.nan_to_num(fault)) / others_n
    loo = np.where(e_ans, e_fault, share > 0.5)
    defined = np.where(e_ans, ~boss, (others_n > 0) & (share != 0.5))
    return ref.astype(bool), loo.astype(bool), defined.astype(bool)


def _reliability(g: pd.DataFrame, sessions: pd.DataFrame | None, experts: set) -> pd.DataFrame:
    """:func:`inspector_reliability` on graded answers, one row per evaluation and item."""
    _, loo, defined = _reference(g, sessions, ["contact_id", "scorecard_id", "item_id"])
    own = g["fault"].to_numpy(dtype=bool) & g["answered"].to_numpy(dtype=bool) & defined
    part = pd.DataFrame({"inspector_id": g["inspector_id"].to_numpy(dtype=object)[own], "confirmed": loo[own].astype(int)})
    named = set(_session_expert(g, sessions).dropna())
    ids = pd.Index(sorted({str(i) for i in g["inspector_id"].dropna()} | {str(i) for i in experts | named}), name="inspector_id")
    out = part.groupby("inspector_id")["confirmed"].agg(["size", "sum"]).reindex(ids, fill_value=0)
    out = pd.DataFrame({"failed": out["size"].astype(int), "confirmed": out["sum"].astype(int)}, index=ids)
    out["expert"] = out.index.isin(experts | named)
    out["reliability"] = np.where(out["expert"], 1.0, (out["confirmed"] + 1) / (out["failed"] + 2))
    out = out.reset_index()[["inspector_id", "failed", "confirmed", "reliability", "expert"]]
    return out.sort_values(["reliability", "failed", "inspector_id"], ascending=[False, False, True], kind="mergesort", ignore_index=True)


def inspector_reliability(evaluations: pd.DataFrame, items: pd.DataFrame, cards, *, sessions: pd.DataFrame | None = None,
                          inspectors: pd.DataFrame | None = None) -> pd.DataFrame:
    """How far each inspector's failed answers hold up on calls several inspectors scored (calibration, double scoring).

    For each item an inspector failed on such a call, the reference is the answer of the expert the calibration
    session names (``sessions.expert_inspector_id``) where that expert answered the item, else more than half of
    the other inspectors (a tie gives none). ``reliability`` = ``(confirmed + 1) / (failed + 2)``: the share of the
    inspector's failures the reference failed too, pulled towards 0.5 when there are few (0.5 with none). The
    calibration experts (``inspectors.is_expert``) and the experts sessions name are the reference: 1.

    Returns ``inspector_id, failed, confirmed, reliability, expert``, most reliable first.
    """
    experts = _experts(inspectors)
    g = grade_answers(evaluations, items, cards).drop_duplicates(["evaluation_id", "item_id"], ignore_index=True)
    return _reliability(g, sessions, experts)


def _trust(cand: pd.DataFrame, reliability: pd.DataFrame, experts: set, sessions: pd.DataFrame | None,
           disputes: pd.DataFrame | None) -> pd.DataFrame:
    """How sure each candidate's answer is: ``is_expert``, ``trust_tier`` and ``trust`` (within the tier).

    Failures: tier 0 on a call several inspectors scored (the reference failed it too, see :func:`_candidates`) or
    in the expert's own evaluation (the calibration expert, or the expert of the call's session), trust 1; tier 1
    when a dispute on the item was ``upheld``, tier 2 otherwise, both with the inspector's reliability as trust
    (0.5 when unmeasured). Exemplary calls (every inspector agreed): tier 0, trust 1.
    """
    _require(reliability, ("inspector_id", "reliability"), "reliability")
    cand["is_expert"] = cand["inspector_id"].isin(experts).to_numpy(dtype=bool) | (
        cand["inspector_id"].astype(object) == _session_expert(cand, sessions)).to_numpy(dtype=bool)
    upheld = pd.Series(False, index=cand.index)
    if disputes is not None and len(disputes) and "item_id" in disputes.columns:
        up = disputes.loc[disputes["outcome"].astype(object).astype(str).str.strip().str.lower().eq("upheld").to_numpy(dtype=bool)]
        pairs = pd.MultiIndex.from_frame(up[["evaluation_id", "item_id"]].astype(str))
        upheld = pd.Series(pd.MultiIndex.from_frame(cand[["evaluation_id", "item_id"]].astype(str)).isin(pairs), index=cand.index)
    failure = (cand["case_kind"] == "failure").to_numpy(dtype=bool)
    confirmed = ~failure | (cand["n_evaluations"] >= 2).to_numpy(dtype=bool) | cand["is_expert"].to_numpy(dtype=bool)
    table = reliability.assign(inspector_id=reliability["inspector_id"].astype(str)).drop_duplicates("inspector_id")
    rel = cand["inspector_id"].astype(str).map(table.set_index("inspector_id")["reliability"])
    rel = pd.to_numeric(rel, errors="coerce").fillna(0.5).to_numpy(dtype=float)
    cand["trust"] = np.where(confirmed, 1.0, rel)
    cand["trust_tier"] = np.where(confirmed, 0, np.where(upheld.to_numpy(dtype=bool), 1, 2))
    return cand


def _best_calls(cand: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One candidate per call, skill and kind, the calls in order of preference within each kind and skill.

    Failures come in order of trust (:func:`_trust`); for them a cue phrase found ranks no higher than a nearby or
    an opening excerpt (for a missing step, the phrase may show the step done). Exemplary calls prefer the cue.
    """
    cand["kind_order"] = cand["case_kind"].map({k: i for i, k in enumerate(KINDS)}).astype(int)
    cand["agreed_double"] = (cand["n_evaluations"] >= 2) & (cand["agreement"] >= 1.0)
    cand["has_text"] = cand["excerpt_source"] != "none"
    rank = cand["excerpt_source"].map(_SOURCE_RANK).astype(int)
    cand["source_rank"] = np.where(cand["case_kind"] == "failure", 0, rank)
    ids = cand[["case_kind", "skill", "evaluation_id", "item_id"]].astype(str)
    cand["tie"] = pd.util.hash_pandas_object(ids, index=False, hash_key=f"{seed % 10**16:016d}").to_numpy()
    # one case per call, skill and kind: the surest answer (failures), the item best found, the expert's evaluation
    first = ["kind_order", "skill", "contact_id", "trust_tier", "trust", "has_text", "source_rank", "is_expert", "merit", "tie", "evaluation_id", "item_id"]
    cand = cand.sort_values(first, ascending=[True, True, True, True, False, False, True, False, False, True, True, True], kind="mergesort", ignore_index=True)
    cand = cand.drop_duplicates(["case_kind", "skill", "contact_id"], keep="first", ignore_index=True)
    # then the calls: the surest tier, agreed double-scored, the most inspectors agreeing, the surest, a transcript moment,
    # the best score (worst fault)
    order = ["kind_order", "skill", "trust_tier", "agreed_double", "agreement", "trust", "has_text", "source_rank", "merit", "tie",
             "evaluation_id", "item_id"]
    return cand.sort_values(order, ascending=[True, True, True, False, False, False, False, True, False, True, True, True],
                            kind="mergesort", ignore_index=True)


def _spread(cand: pd.DataFrame) -> pd.DataFrame:
    """Reorder the preferred calls to spread agents, items and topics (confirmed failures still first); number them (``rank``)."""
    # spread: first each agent's best call (agent round 0), then their second ...; inside an agent round,
    # calls whose item and topic no better call of that round has come first
    by = ["case_kind", "skill"]
    cand["topic_key"] = cand["topic"].astype(object).where(cand["topic"].notna(), "")
    cand["agent_key"] = cand["agent_id"].astype(object).where(cand["agent_id"].notna(), "")
    cand["agent_round"] = cand.groupby(by + ["agent_key"], sort=False).cumcount()
    rounds = [cand.groupby(by + ["agent_round", c], sort=False).cumcount().to_numpy() for c in ("item_id", "topic_key")]
    cand["round"] = np.maximum.reduce(rounds)
    cand["pref"] = np.arange(len(cand))
    cand = cand.sort_values(["kind_order", "skill", "trust_tier", "agent_round", "round", "pref"], kind="mergesort", ignore_index=True)
    cand["rank"] = cand.groupby(by, sort=False).cumcount() + 1
    return cand


def _skill_order(g: pd.DataFrame) -> list[str]:
    """Skills with the most evaluations holding a fault first, then by name."""
    if g.empty:
        return []
    faults = g[g["fault"].to_numpy(dtype=bool)].groupby("skill")["evaluation_id"].nunique()
    skills = pd.DataFrame({"skill": sorted(set(g["skill"]))})
    skills["n"] = skills["skill"].map(faults).fillna(0).astype(int)
    return skills.sort_values(["n", "skill"], ascending=[False, True], kind="mergesort")["skill"].tolist()


def _case_columns(include_agent: bool) -> list[str]:
    cols = ["case_id", "kind", "skill", "skill_label_zh", "skill_label_en", "item_id", "item_label_zh", "item_label_en",
            "scorecard_id", "scorecard_version", "scorecard_label_zh", "scorecard_label_en", "month", "contact_id",
            "evaluation_id", "contact_type", "topic", "channel", "arm", "answer", "tags", "total_score", "agreement",
            "n_evaluations", "item_comment", "comment", "excerpt", "excerpt_focus", "excerpt_source", "rank"]
    return cols + (["agent_id"] if include_agent else [])


def _finish(cases: pd.DataFrame, g: pd.DataFrame, skill_order: list[str], include_agent: bool) -> pd.DataFrame:
    """Case ids, labels, tags, the masked comments of every agreeing inspector; the final order."""
    c = cases.rename(columns={"case_kind": "kind"})
    c["skill_label_zh"] = _center_labels("skills", c["skill"], "zh")
    c["skill_label_en"] = _center_labels("skills", c["skill"], "en")
    start = pd.to_datetime(c["start_time"], errors="coerce")
    c["month"] = start.dt.to_period("M").astype(str).where(start.notna(), "")
    # comments: the representative evaluation's first, then other inspectors' distinct ones on the same call and item
    key = ["contact_id", "scorecard_id", "item_id"]
    notes = g.loc[g["item_comment"].notna() & (g["item_comment"].astype(str).str.strip() != ""), key + ["evaluation_id", "item_comment"]]
    notes = notes.drop_duplicates(key + ["item_comment"])
    others = c[key + ["evaluation_id", "item_comment", "kind"]].merge(notes.rename(columns={"evaluation_id": "_e", "item_comment": "_n"}), on=key)
    others = others[(others["_n"] != others["item_comment"]) & (others["kind"] == "failure")]
    extra = others.groupby(key)["_n"].agg(lambda s: " / ".join(sorted(set(s.astype(str)))))
    own = c["item_comment"].astype(object).where(c["item_comment"].notna(), "").astype(str).str.strip()
    more = pd.Series(list(zip(*[c[k] for k in key])), index=c.index).map(extra).fillna("") if len(extra) else pd.Series("", index=c.index)
    joined = np.where((own != "") & (more != ""), own + " / " + more, own + more)
    c["item_comment"] = [mask_pii(v) if v else "" for v in joined]
    comment = c["comment"] if "comment" in c.columns else pd.Series("", index=c.index)
    c["comment"] = [mask_pii(str(v)) if isinstance(v, str) and v.strip() else "" for v in comment]
    # outcome tags
    exem = (c["kind"] == "exemplary").to_numpy()
    tags = {
        "passed": exem, "failed": ~exem & (c["answer"] != "partial").to_numpy(), "partial": ~exem & (c["answer"] == "partial").to_numpy(),
        "critical": c["critical_fail"].to_numpy(dtype=bool), "bonus": c["bonus"].to_numpy(dtype=bool),
        "double_scored": (c["n_evaluations"] >= 2).to_numpy(), "agreed": c["agreed_double"].to_numpy(dtype=bool),
        "calibration": (c["arm"] == "calibration").to_numpy(), "targeted": (c["arm"] == "targeted").to_numpy(),
        "resolved": (c["status"] == "resolved").to_numpy(),
    }
    flags = np.column_stack([tags[t] for t in _TAG_ORDER])
    names = np.array(_TAG_ORDER, dtype=object)
    c["tags"] = [" ".join(names[row]) for row in flags]
    digest = [hashlib.sha1(f"{k}|{s}|{e}|{i}".encode()).hexdigest()[:8] for k, s, e, i in zip(c["kind"], c["skill"], c["evaluation_id"], c["item_id"])]
    c["case_id"] = [("EX-" if k == "exemplary" else "FL-") + d for k, d in zip(c["kind"], digest)]
    c["skill_pos"] = c["skill"].map({s: i for i, s in enumerate(skill_order)}).fillna(len(skill_order)).astype(int)
    c = c.sort_values(["skill_pos", "kind_order", "rank"], kind="mergesort", ignore_index=True)
    c["scorecard_version"] = c["scorecard_version"].astype(int)
    c["total_score"] = c["total_score"].astype(float)
    c["agreement"] = c["agreement"].astype(float)
    return c[_case_columns(include_agent)]


def skill_counts(evaluations: pd.DataFrame, items: pd.DataFrame, cards, cases: pd.DataFrame, *,
                 disputes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per skill: usable evaluations that answered one of its items, those with a fault, and the cases chosen.

    Columns ``skill, skill_label_zh, skill_label_en, evaluations, with_fault, exemplary, failure``;
    skills with the most faults first (the order of :func:`select_cases`).
    """
    g = grade_answers(evaluations, items, cards, disputes=disputes)
    order = _skill_order(g)
    ans = g[g["answered"].to_numpy(dtype=bool)]
    n = ans.groupby("skill")["evaluation_id"].nunique()
    f = g[g["fault"].to_numpy(dtype=bool)].groupby("skill")["evaluation_id"].nunique()
    k = cases.groupby(["skill", "kind"]).size().unstack(fill_value=0).reindex(columns=list(KINDS), fill_value=0) if len(cases) else None
    out = pd.DataFrame({"skill": order})
    out["skill_label_zh"] = _center_labels("skills", order, "zh")
    out["skill_label_en"] = _center_labels("skills", order, "en")
    out["evaluations"] = out["skill"].map(n).fillna(0).astype(int)
    out["with_fault"] = out["skill"].map(f).fillna(0).astype(int)
    for kind in KINDS:
        out[kind] = out["skill"].map(k[kind]).fillna(0).astype(int) if k is not None else 0
    return out


# ----------------------------------------------------------------------------- store
def _window(month, months: int) -> list[pd.Period]:
    p = parse_month(month) if not isinstance(month, pd.Period) else month
    months = _check_int(months, "months", 1, MAX_MONTHS)
    return [p - k for k in range(months - 1, -1, -1)]


def load_inputs(store, month, *, months: int = 1) -> dict:
    """The frames :func:`select_cases` needs for the ``months`` months ending with ``month``, via the Store API.

    Returns ``{"evaluations", "items", "contacts", "cards", "disputes", "inspectors", "sessions", "calibration",
    "period"}``: ``sessions`` every calibration session, ``calibration`` the ``evaluations`` and ``items`` of the
    sessions held in the :data:`CALIBRATION_MONTHS` months ending with the period (for :func:`inspector_reliability`).
    :class:`NotFoundError` when the period holds no evaluation.
    """
    periods = _window(month, months)
    ev = pd.concat([store.evaluations(p) for p in periods], ignore_index=True)
    label = str(periods[0]) if len(periods) == 1 else f"{periods[0]} – {periods[-1]}"
    if ev.empty:
        raise NotFoundError(f"no evaluations in {label}: nothing to put in the case library")
    items = pd.concat([store.read_month("evaluation_items", p) for p in periods], ignore_index=True)
    ids = set(ev["contact_id"])
    contacts = pd.concat([store.read_month("contacts", p) for p in periods], ignore_index=True)
    contacts = contacts[contacts["contact_id"].isin(ids)].reset_index(drop=True)
    cal_ev, cal_items, sessions = store.calibration_data()
    held = pd.to_datetime(sessions["held_on"], errors="coerce").dt.to_period("M")
    recent = set(sessions.loc[((held > periods[-1] - CALIBRATION_MONTHS) & (held <= periods[-1])).to_numpy(dtype=bool), "session_id"])
    cal_ev = cal_ev[cal_ev["calibration_session_id"].isin(recent)].reset_index(drop=True)
    cal_items = cal_items[cal_items["evaluation_id"].isin(set(cal_ev["evaluation_id"]))].reset_index(drop=True)
    pairs = pd.concat([ev, cal_ev])[["scorecard_id", "scorecard_version"]].drop_duplicates().sort_values(["scorecard_id", "scorecard_version"])
    cards = [store.scorecard(s, int(v)) for s, v in zip(pairs["scorecard_id"], pairs["scorecard_version"])]
    return {"evaluations": ev, "items": items, "contacts": contacts, "cards": cards, "disputes": store.disputes(),
            "inspectors": store.read("inspectors"), "sessions": sessions,
            "calibration": {"evaluations": cal_ev, "items": cal_items}, "period": label}


def _select(inputs: dict, per_skill: int, seed: int, include_agent: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    cal = inputs["calibration"]
    reliability = inspector_reliability(cal["evaluations"], cal["items"], inputs["cards"], sessions=inputs["sessions"],
                                        inspectors=inputs["inspectors"])
    cases = select_cases(inputs["evaluations"], inputs["items"], inputs["contacts"], inputs["cards"], disputes=inputs["disputes"],
                         inspectors=inputs["inspectors"], per_skill=per_skill, seed=seed, include_agent=include_agent,
                         sessions=inputs["sessions"], reliability=reliability)
    counts = skill_counts(inputs["evaluations"], inputs["items"], inputs["cards"], cases, disputes=inputs["disputes"])
    return cases, counts


def library_view(db_url: str = "", month: str = "", *, months: int = 1, per_skill: int = 5, seed: int = 0,
                 include_agent: bool = False) -> dict:
    """Everything the case-library notebook shows: ``{"period", "cases", "counts"}``.

    ``db_url`` empty means the default database (``$QA_DB_URL``, else ``data/qa.sqlite``, built from ``data/samples`` if missing), as the other notebooks;
    ``month`` empty means the latest month with contacts.
    """
    from .store import open_store

    if month:
        parse_month(month)
    _check_int(months, "months", 1, MAX_MONTHS)
    _check_int(per_skill, "per_skill", 1)
    store = open_store(db_url or None)
    p = parse_month(month) if month else store.latest_month()
    inputs = load_inputs(store, p, months=months)
    cases, counts = _select(inputs, per_skill, seed, include_agent)
    return {"period": inputs["period"], "cases": cases, "counts": counts}


# ---------------------------------------------------------------------------- output
def counts_table(counts: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The per-skill counts with headings in ``lang`` (for the notebook and the .xlsx)."""
    T = texts(lang)
    return pd.DataFrame({
        T["skill"]: counts[f"skill_label_{lang}"].to_numpy(),
        T["evaluations"]: counts["evaluations"].to_numpy(), T["with_fault"]: counts["with_fault"].to_numpy(),
        T["exemplary"]: counts["exemplary"].to_numpy(), T["failure"]: counts["failure"].to_numpy(),
    })


def cases_table(cases: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """One row per case with headings and labels in ``lang`` (the .xlsx index)."""
    T = texts(lang)
    agent = {T["agent"]: cases["agent_id"]} if "agent_id" in cases.columns else {}
    out = pd.DataFrame({
        T["case_id"]: cases["case_id"], T["kind"]: [T[k] for k in cases["kind"]], T["skill"]: cases[f"skill_label_{lang}"],
        "skill": cases["skill"], T["item"]: cases[f"item_label_{lang}"], "item_id": cases["item_id"],
        T["scorecard"]: cases[f"scorecard_label_{lang}"], T["month"]: cases["month"], T["contact"]: cases["contact_id"],
        T["contact_type"]: [_choice_label(CONTACT_TYPES, v, lang) for v in cases["contact_type"]],
        T["topic"]: _center_labels("topics", cases["topic"], lang),
        T["channel"]: [_choice_label(CHANNELS, v, lang) for v in cases["channel"]],
        T["answer"]: cases["answer"], T["tags"]: [", ".join(_pair_label(_TAGS, t, lang) for t in s.split()) for s in cases["tags"]],
        T["total"]: cases["total_score"], T["agreement"]: cases["agreement"], "n": cases["n_evaluations"],
        T["item_comment"]: cases["item_comment"], T["comment"]: cases["comment"], T["excerpt"]: cases["excerpt"],
        **agent,
    })
    return out.reset_index(drop=True)


_STYLE = """<style>
.qa-cases{font-family:system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#222;line-height:1.45;max-width:1100px}
.qa-cases h1{font-size:24px;margin:8px 0}.qa-cases h2{font-size:18px;margin:18px 0 8px}
.qa-cases .meta{color:#666;font-size:13px}
.qa-cases table.counts{border-collapse:collapse;font-size:13px}
.qa-cases table.counts td,.qa-cases table.counts th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}
.qa-cases table.counts td.n{text-align:right}
.qa-cases .filters{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;background:#f6f6f6;padding:8px 10px;border-radius:6px;position:sticky;top:0}
.qa-cases .filters input{min-width:240px}
.qa-cases article.case{border:1px solid #ddd;border-left:5px solid #999;border-radius:6px;padding:8px 12px;margin:10px 0}
.qa-cases article.exemplary{border-left-color:#2e7d32}.qa-cases article.failure{border-left-color:#c62828}
.qa-cases article h3{font-size:15px;margin:2px 0 4px}.qa-cases article h3 small{color:#888;font-weight:normal}
.qa-cases .badge{display:inline-block;font-size:12px;padding:1px 6px;border-radius:4px;color:#fff;background:#999;margin-right:6px}
.qa-cases .exemplary .badge{background:#2e7d32}.qa-cases .failure .badge{background:#c62828}
.qa-cases .tag{display:inline-block;font-size:11px;padding:0 5px;border:1px solid #bbb;border-radius:8px;margin-right:4px;color:#555}
.qa-cases dl{margin:4px 0;font-size:13px}.qa-cases dt{color:#666;float:left;clear:left;margin-right:8px}.qa-cases dd{margin:0 0 2px 0}
.qa-cases .excerpt{font-size:13px;background:#fafafa;border:1px solid #eee;border-radius:4px;padding:4px 8px;margin-top:6px}
.qa-cases .excerpt .line{white-space:pre-wrap;padding:1px 0}.qa-cases .excerpt .focus{background:#fff3c4;font-weight:600}
.qa-cases .note{color:#888;font-size:12px}
</style>"""

_SCRIPT = """<script>
(function () {
  var root = document.getElementById("qa-cases");
  if (!root) { return; }
  var cases = root.querySelectorAll("article.case");
  var ids = ["f-skill", "f-kind", "f-tag", "f-type"];
  var attrs = ["skill", "kind", "tags", "type"];
  var search = document.getElementById("f-q");
  var counter = document.getElementById("f-count");
  var none = document.getElementById("f-none");
  function apply() {
    var want = ids.map(function (id) { return document.getElementById(id).value; });
    var terms = search.value.toLowerCase().split(/\\s+/).filter(function (t) { return t.length > 0; });
    var shown = 0;
    for (var i = 0; i < cases.length; i++) {
      var el = cases[i], ok = true;
      for (var k = 0; k < attrs.length && ok; k++) {
        if (!want[k]) { continue; }
        var have = (el.getAttribute("data-" + attrs[k]) || "").split(" ");
        ok = have.indexOf(want[k]) >= 0;
      }
      if (ok && terms.length) {
        var text = el.textContent.toLowerCase();
        for (var j = 0; j < terms.length && ok; j++) { ok = text.indexOf(terms[j]) >= 0; }
      }
      el.hidden = !ok;
      if (ok) { shown++; }
    }
    counter.textContent = counter.getAttribute("data-template").replace("{n}", shown).replace("{total}", cases.length);
    none.hidden = shown > 0;
  }
  ids.forEach(function (id) { document.getElementById(id).addEventListener("change", apply); });
  search.addEventListener("input", apply);
  apply();
})();
</script>"""


def _num(v, fmt: str) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, fmt)


#: An answer as the page's reader says it (a fault count stays a number).
_ANSWER_WORDS = {"zh": {"yes": "是", "no": "否", "partial": "部分", "na": "不适用"}, "en": {"yes": "yes", "no": "no", "partial": "partly", "na": "N/A"}}


def _article(r: dict, lang: str, topic: str) -> str:
    T = texts(lang)
    kind = str(r["kind"])
    tags = str(r["tags"]).split()
    meta = [escape(r[f"scorecard_label_{lang}"]), escape(_choice_label(CONTACT_TYPES, r["contact_type"], lang)),
            escape(topic), escape(_choice_label(CHANNELS, r["channel"], lang)),
            escape(r["month"]), f"{T['total']} {_num(r['total_score'], '.1f')}"]
    if int(r["n_evaluations"]) >= 2:
        agree = round(float(r["agreement"]) * int(r["n_evaluations"]))
        meta.append(f"{T['agreement']} {agree}/{int(r['n_evaluations'])}")
    if "agent_id" in r:
        meta.append(f"{T['agent']} {escape(r['agent_id'])}")
    meta.append(f"{T['contact']} {escape(r['contact_id'])} · {escape(r['case_id'])}")
    lines = str(r["excerpt"]).split("\n") if r["excerpt"] else []
    focus = int(r["excerpt_focus"])
    body = "".join(f'<div class="line{" focus" if i == focus else ""}">{escape(ln)}</div>' for i, ln in enumerate(lines))
    note = {"none": T["no_transcript"], "opening": T["opening"]}.get(str(r["excerpt_source"]), "")
    notes = ""
    if r["item_comment"]:
        notes += f"<dt>{T['item_comment']}</dt><dd>{escape(r['item_comment'])}</dd>"
    if r["comment"]:
        notes += f"<dt>{T['comment']}</dt><dd>{escape(r['comment'])}</dd>"
    return (
        f'<article class="case {escape(kind)}" data-skill="{escape(r["skill"])}" data-kind="{escape(kind)}" '
        f'data-tags="{escape(" ".join(tags))}" data-type="{escape(r["contact_type"])}">'
        f'<h3><span class="badge">{T[kind]}</span>{escape(r[f"skill_label_{lang}"])} · {escape(r[f"item_label_{lang}"])} '
        f'<small>{escape(_ANSWER_WORDS[lang].get(str(r["answer"]), str(r["answer"])))}</small></h3>'
        f'<p class="meta">{" · ".join(m for m in meta if m)}</p>'
        f'<p>{"".join(f"<span class=tag>{escape(_pair_label(_TAGS, t, lang))}</span>" for t in tags)}</p>'
        + (f"<dl>{notes}</dl>" if notes else "")
        + f'<div class="excerpt"><div class="note">{T["excerpt"]} {escape(note)}</div>{body}</div></article>'
    )


def cases_html(cases: pd.DataFrame, lang: str = "zh", *, skill: str = "all", style: bool = True) -> str:
    """The cases as HTML articles (all, or one ``skill``): every customer and inspector text escaped.

    Raises :class:`ParameterError` for a skill that has no case in the table.
    """
    T = texts(lang)
    part = cases
    if skill != "all":
        known = sorted(set(cases["skill"]))
        if skill not in known:
            raise ParameterError(f"skill must be 'all' or one of {', '.join(known) or '(no skill has cases)'}; got {skill!r}")
        part = cases[cases["skill"] == skill]
    topics = _center_labels("topics", part["topic"], lang)
    body = "".join(_article(r, lang, t) for r, t in zip(part.to_dict("records"), topics)) or f"<p>{T['empty']}</p>"
    return (_STYLE if style else "") + f'<div class="qa-cases">{body}</div>'


def _options(values: list[tuple[str, str]], all_label: str) -> str:
    return f'<option value="">{escape(all_label)}</option>' + "".join(f'<option value="{escape(v)}">{escape(lbl)}</option>' for v, lbl in values)


def library_html(cases: pd.DataFrame, counts: pd.DataFrame, *, period: str, lang: str = "zh") -> str:
    """The whole library as one self-contained HTML page: inline CSS and script, no external request.

    Filters by skill, kind, tag and contact type and a free-text search run in the page (vanilla
    JavaScript that only shows and hides the cases); without JavaScript every case is shown.
    """
    T = texts(lang)
    title = T["title"].format(period=period)
    head = "".join(f"<th>{h}</th>" for h in (T["skill"], T["evaluations"], T["with_fault"], T["exemplary"], T["failure"]))
    rows = "".join(
        f"<tr><td>{escape(r[f'skill_label_{lang}'])}</td><td class=n>{int(r['evaluations'])}</td>"
        f"<td class=n>{int(r['with_fault'])}</td><td class=n>{int(r['exemplary'])}</td><td class=n>{int(r['failure'])}</td></tr>"
        for r in counts.to_dict("records"))
    skills = [(s, lbl) for s, lbl in zip(counts["skill"], counts[f"skill_label_{lang}"]) if s in set(cases["skill"])]
    kinds = [(k, T[k]) for k in KINDS]
    present = {t for s in cases["tags"] for t in str(s).split()}
    tags = [(t, _pair_label(_TAGS, t, lang)) for t in _TAG_ORDER if t in present]
    types = [(t, _choice_label(CONTACT_TYPES, t, lang)) for t in sorted({str(v) for v in cases["contact_type"].dropna()})]
    filters = (
        f'<div class="filters">'
        f'<label>{T["skill"]} <select id="f-skill">{_options(skills, T["all"])}</select></label>'
        f'<label>{T["kind"]} <select id="f-kind">{_options(kinds, T["all"])}</select></label>'
        f'<label>{T["tag"]} <select id="f-tag">{_options(tags, T["all"])}</select></label>'
        f'<label>{T["contact_type"]} <select id="f-type">{_options(types, T["all"])}</select></label>'
        f'<label>{T["search"]} <input id="f-q" type="search" placeholder="{escape(T["search_hint"])}"></label>'
        f'<span id="f-count" class="meta" data-template="{escape(T["shown"])}"></span></div>'
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>{_STYLE}</head>\n'
        f'<body><div class="qa-cases" id="qa-cases"><h1>{escape(title)}</h1><p class="meta">{T["intro"]}</p>'
        f'<h2>{T["counts"]}</h2><table class="counts"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        f'<h2>{T["cases"]}</h2>{filters}<p id="f-none" hidden>{T["none"]}</p>\n'
        + cases_html(cases, lang, style=False).replace('<div class="qa-cases">', '<div class="case-list">', 1)
        + f"\n</div>{_SCRIPT}</body></html>\n"
    )


def write_library(cases: pd.DataFrame, counts: pd.DataFrame, folder: str | os.PathLike, *, period: str, lang: str = "zh") -> tuple[Path, Path]:
    """Write ``<folder>/cases/index.html`` and ``<folder>/cases/cases_<period>.xlsx``; return both paths.

    Each file is written to a temporary name first and then renamed, so a failure leaves no half file.
    """
    T = texts(lang)
    out = Path(folder) / "cases"
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "index.html"
    xlsx_path = out / f"cases_{period.replace(' – ', '_')}.xlsx"
    tmp_html = html_path.with_suffix(".html.tmp")
    tmp_html.write_text(library_html(cases, counts, period=period, lang=lang), encoding="utf-8")
    table = cases_table(cases, lang)
    ids = [c for c in table.columns if is_id_column(c) or c in (T["case_id"], T["contact"], T["agent"])]
    write_xlsx({T["cases"]: table, T["counts"]: counts_table(counts, lang)}, xlsx_path, ids=ids)
    tmp_html.replace(html_path)
    return html_path, xlsx_path


@dataclass
class CaseLibrary:
    """What :func:`build_library` wrote: the HTML page, the .xlsx index, the cases and the per-skill counts."""

    html: Path
    xlsx: Path
    cases: pd.DataFrame
    counts: pd.DataFrame
    period: str


def build_library(store, month, folder: str | os.PathLike, *, months: int = 1, lang: str = "zh", per_skill: int = 5,
                  seed: int = 0, include_agent: bool = False) -> CaseLibrary:
    """Choose the period's cases and write the browsable library into ``<folder>/cases/``.

    Parameters
    ----------
    store : Store
        Read through its API only (``read_month``, ``scorecard``, ``disputes``, ``read``).
    month : str or Period
        The last month of the period, e.g. ``"2026-10"``.
    folder : path
        The month's output folder; the library goes into its ``cases/`` subfolder.
    months : int
        Months in the period (1–24), ending with ``month``.
    lang : {"zh", "en"}
        Language of the headings and labels.
    per_skill : int
        At most this many cases per skill and kind (≥ 1).
    seed : int
        Seed of the tie-breaks (≥ 0).
    include_agent : bool
        Show the agent of each case (for supervisors); off by default.

    Returns
    -------
    CaseLibrary

    Every parameter is checked before anything is read or written; a bad one raises
    :class:`ParameterError` and writes nothing.
    """
    p = parse_month(month) if not isinstance(month, pd.Period) else month
    _check_int(months, "months", 1, MAX_MONTHS)
    _check_lang(lang)
    _check_int(per_skill, "per_skill", 1)
    _check_int(seed, "seed", 0)
    if folder is None or str(folder).strip() == "":
        raise ParameterError(f"folder must name the output folder; got {folder!r}")
    inputs = load_inputs(store, p, months=months)
    cases, counts = _select(inputs, per_skill, seed, include_agent)
    html_path, xlsx_path = write_library(cases, counts, folder, period=inputs["period"], lang=lang)
    return CaseLibrary(html_path, xlsx_path, cases, counts, inputs["period"])
