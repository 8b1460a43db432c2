"""The daily digest for the team leaders' morning review of yesterday's errors (seed 002).

"Every morning team leaders go through yesterday's errors; teams study cases together and
drill the standard scripts." For one day ``D`` and each team, the digest lists

* the **failed items** of the day's evaluations — answer ``no`` or ``partial``, a fault count
  above 0 on a deduction item, or the bottom of a scale item; context questions
  (``scored: false``) and bonus items never count as failures;
* among them the **critical errors**, listed first: items marked ``critical`` in the
  scorecard answered so that the critical rule fires (``no``, a fault count > 0, the scale
  minimum) — exactly the answers that zero the evaluation or its section in
  :func:`qa_lib.rubric.score`. A ``partial`` on a critical item is a failed item, not a
  critical error;

each with the agent (id and name; a team's digest holds that team's agents only), the item
label from the scorecard (zh / en), the inspector's comment and a short transcript excerpt
around the turn that bears on the item (both PII-masked, the transcript masked before it is
cut), the contact type and topic, and the total score. A compact summary gives per team the
evaluations of the day, the failure count per item (the scripts to drill) and the agents
with a critical error.

Which evaluations: those whose ``evaluated_at`` falls on ``D`` (what the inspectors found
that day, whenever the call was), drafts and calibration-session scorings excluded,
targeted reviews included and marked (they are for coaching, never for headline numbers).

:func:`build_digest` is the pure part (frames in, tables out, vectorized);
:func:`write_digest` reads the store and writes ``digest_<date>[_<team>].html`` and ``.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError
from .html import escape
from .model import CONTACT_TYPES
from .privacy import mask_pii
from .rubric import Scorecard

__all__ = ["Digest", "default_cues", "LANGS", "parse_day", "default_day", "build_digest", "excerpts", "write_digest", "digest_paths", "render_html", "render_markdown", "md_escape"]

LANGS = ("zh", "en")
#: Longest transcript line kept in an excerpt (characters, after masking).
LINE_CHARS = 80

def default_cues() -> dict[str, tuple[str, ...]]:
    """Cue phrases (zh and en) of the turn that bears on each item: the ``find`` phrases of the center's cue file
    (``case_cues`` in center.yaml, :func:`qa_lib.cases.load_cues`) — one list of the center's scripts for the digest
    and the case library; ``{}`` for a center without one. Items without cues fall back to words of their label and
    guidance, then to their position in the scorecard (opening items near the start of the call, closing items near
    the end)."""
    from .cases import load_cues

    return {item: tiers["find"] for item, tiers in load_cues().items() if "." not in item and tiers.get("find")}

_STOP = {"客户", "坐席", "您的", "是否", "the", "and", "with", "customer", "agent", "before", "after"}
#: A turn's speaker label, after an optional ``[mm:ss]`` offset (the sample transcripts' format).
_STAMP = r"^\s*\[\d{1,3}:\d{2}(?::\d{2})?\]"
_SPEAKER = r"^\s*(?:\[\d{1,3}:\d{2}(?::\d{2})?\])?\s*[^：:\s]{1,12}\s*[：:]\s*"
#: Speaker labels of customer turns: the anchor turn is never one of them (items judge the agent).
_CUSTOMER = ("客户", "顾客", "用户", "来电人", "customer", "caller")

_TEXT = {
    "zh": {
        "title": "每日质检复盘", "all_teams": "全部班组", "team": "班组",
        "scope": ("{date} 完成的质检（按质检完成的日期计，不论通话日期）；不含草稿和校准会评分；"
                  "定向抽检已列入并标注“定向”（仅用于辅导，不计入考核指标）。失分项：答“否”或“部分”、扣分项次数大于 0；"
                  "严重错误：评分表中标为 critical 且判“否”（或扣分次数大于 0）的项目，会使整通或整段得零分。"),
        "overview": "概览", "none": "{date} 没有质检记录。", "none_team": "{team} 组 {date} 没有质检记录。",
        "drill": "需要演练的项目（按失分次数）", "critical_agents": "有严重错误的坐席", "failures": "失分明细（严重错误在前）",
        "no_failures": "当天的质检没有失分项。", "no_critical": "没有坐席出现严重错误。",
        "s_cols": ["班组", "质检数", "随机", "定向", "有失分的质检", "失分项", "严重错误", "有严重错误的坐席"],
        "d_cols": ["项目", "失分次数", "其中严重错误", "涉及坐席"],
        "c_cols": ["坐席", "严重错误", "项目"],
        "f_cols": ["", "坐席", "项目", "答案", "质检评语", "通话摘录", "来电类型 / 主题", "总分"],
        "critical": "严重", "targeted": "定向", "answer": {"no": "否", "partial": "部分"}, "faults": "{n} 次",
        "evaluations": "{team}：{n} 条质检，{f} 个失分项，{c} 个严重错误。", "overall": "（总评）",
    },
    "en": {
        "title": "Daily QA review", "all_teams": "all teams", "team": "Team",
        "scope": ("Evaluations made on {date} (by the day the evaluation was made, whenever the call was); drafts and calibration sessions "
                  "excluded; targeted reviews included and marked 'targeted' (coaching only, never in headline numbers). "
                  "Failed item: answer no or partial, or a fault count above 0. Critical error: an item marked critical in "
                  "the scorecard answered no (or with faults) — it zeroes the call or its section."),
        "overview": "Overview", "none": "No evaluations on {date}.", "none_team": "No evaluations of team {team} on {date}.",
        "drill": "Items to drill (by failures)", "critical_agents": "Agents with a critical error", "failures": "Failed items (critical errors first)",
        "no_failures": "No failed item in the day's evaluations.", "no_critical": "No agent had a critical error.",
        "s_cols": ["Team", "Evaluations", "Random", "Targeted", "With a failure", "Failed items", "Critical errors", "Agents with a critical error"],
        "d_cols": ["Item", "Failures", "of which critical", "Agents"],
        "c_cols": ["Agent", "Critical errors", "Items"],
        "f_cols": ["", "Agent", "Item", "Answer", "Inspector's comment", "Transcript excerpt", "Contact type / topic", "Score"],
        "critical": "critical", "targeted": "targeted", "answer": {"no": "no", "partial": "partial"}, "faults": "{n} fault(s)",
        "evaluations": "{team}: {n} evaluations, {f} failed items, {c} critical errors.", "overall": "(overall) ",
    },
}

_FAILURE_COLUMNS = ["team", "agent_id", "name", "evaluation_id", "contact_id", "arm", "status", "targeted", "critical", "scorecard_id",
                    "item_id", "item", "answer", "comment", "excerpt", "contact_type", "topic", "total_score"]


@dataclass
class Digest:
    """One day's digest: the tables, and the files once written.

    ``summary``: one row per team in scope — ``evaluations, random, targeted, with_failures, failed_items,
    critical_errors, agents_with_critical``. ``drill``: failures per team and item, most failed first —
    ``team, scorecard_id, item_id, item, failures, critical, agents``. ``critical_agents``: ``team, agent_id,
    name, critical_errors, items``. ``failures``: one row per failed item, critical errors first within a team
    (``team, agent_id, name, evaluation_id, contact_id, arm, status, targeted, critical, scorecard_id, item_id, item,
    answer, comment, excerpt, contact_type, topic, total_score``); ``comment`` and ``excerpt`` are PII-masked, not
    HTML-escaped.
    """

    date: dt.date
    team: str | None
    lang: str
    summary: pd.DataFrame
    drill: pd.DataFrame
    critical_agents: pd.DataFrame
    failures: pd.DataFrame
    paths: list[Path] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"summary": self.summary, "drill": self.drill, "critical_agents": self.critical_agents, "failures": self.failures}

    @property
    def evaluations(self) -> int:
        return int(self.summary["evaluations"].sum()) if len(self.summary) else 0


# ----------------------------------------------------------------------------- inputs
def parse_day(value) -> dt.date:
    """The day to review from ``"2026-10-14"`` (or ``2026/10/14``, ``20261014``), a date or a timestamp.

    >>> parse_day("2026/10/14")
    datetime.date(2026, 10, 14)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    text = str(value).strip().replace("/", "-")
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        try:
            return dt.date(*map(int, text.split("-")))
        except ValueError:
            pass
    raise ParameterError(f"date must be a day such as 2026-10-14; got {value!r}")


def _check_lang(lang) -> str:
    if lang not in LANGS:
        raise ParameterError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang


def _check_team(team, teams: Iterable[str]) -> str | None:
    known = sorted({str(t) for t in teams if isinstance(t, str) and t})
    if team is None:
        return None
    if team not in known:
        raise ParameterError(f"team must be one of {', '.join(known) or '(no team: no agents are stored)'}; got {team!r}")
    return team


def _need(df: pd.DataFrame, name: str, cols: Iterable[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"{name} must be a DataFrame; got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ParameterError(f"{name} must have columns {list(cols)}; missing {missing}")


def _card_map(cards) -> dict[tuple[str, int], Scorecard]:
    if isinstance(cards, Mapping):
        cards = cards.values()
    out = {}
    for card in cards:
        if not isinstance(card, Scorecard):
            raise ParameterError(f"cards must be Scorecard objects (or a mapping of them); got {type(card).__name__}")
        out[(card.id, int(card.version))] = card
    return out


def _item_meta(cards: dict[tuple[str, int], Scorecard], lang: str) -> pd.DataFrame:
    """One row per scorecard version × item: kind, critical, scored, bonus, labels, position in the card."""
    rows = []
    for (sid, ver), card in cards.items():
        items = card.items
        last = max(len(items) - 1, 1)
        for k, it in enumerate(items):
            rows.append({
                "scorecard_id": sid, "scorecard_version": ver, "item_id": it.id, "kind": it.kind, "critical_rule": it.critical or "",
                "counts": bool(it.scored and not it.bonus), "scale_low": float(it.scale[0]), "item": it.label.get(lang) or it.id,
                "cue_text": " ".join([it.label.get("zh", ""), it.label.get("en", ""), it.guidance.get("zh", ""), it.guidance.get("en", "")]),
                "position": k / last, "order": k,
            })
    cols = ["scorecard_id", "scorecard_version", "item_id", "kind", "critical_rule", "counts", "scale_low", "item", "cue_text", "position", "order"]
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------- excerpts
def _fallback_cues(text: str) -> tuple[str, ...]:
    """Words of an item's label and guidance to look for when it has no cue phrases: CJK bigrams, English words of 5+ letters."""
    zh = {run[i:i + 2] for run in re.findall(r"[\u4e00-\u9fff]+", text) for i in range(len(run) - 1)}
    en = {w.lower() for w in re.findall(r"[A-Za-z]{5,}", text)}
    return tuple(sorted((zh | en) - _STOP))


def _cue_pattern(item_id: str, cue_text: str, cues: Mapping[str, tuple[str, ...]]) -> str | None:
    words = cues[item_id] if item_id in cues else _fallback_cues(cue_text)
    words = sorted({w.lower() for w in words if w}, key=len, reverse=True)
    # English cues match whole words ("free" must not match "freezes"); Chinese has no word boundaries
    return "|".join((r"\b" if re.match(r"[a-z0-9]", w) else "") + re.escape(w) + (r"\b" if re.search(r"[a-z0-9]$", w) else "") for w in words) or None


def excerpts(targets: pd.DataFrame, transcripts: pd.Series, items: pd.DataFrame, *, cues: Mapping[str, tuple[str, ...]] | None = None,
             width: int = 1, line_chars: int = LINE_CHARS) -> pd.Series:
    """A short masked transcript excerpt for each target row: the turn that bears on the item and its neighbours.

    The anchor turn is found in three steps: (1) the turn with the most hits of the item's cue phrases
    (:func:`default_cues`; for an item without cues, words of its label and guidance), the earliest on a tie;
    (2) a failed step is often simply missing from the call, so without a hit the turn right after the
    nearest earlier item of the scorecard that was found (where the missing step belonged); (3) else the
    turn at the item's relative position in the scorecard.

    Parameters
    ----------
    targets : DataFrame
        ``contact_id, scorecard_id, scorecard_version, item_id``.
    transcripts : Series
        Transcript text indexed by ``contact_id`` (one turn per line); missing = no excerpt.
    items : DataFrame
        The scorecards' items: ``scorecard_id, scorecard_version, item_id, order`` (0 = first item of the
        card) and ``cue_text`` (label and guidance words, for items without cue phrases).
    cues : mapping, optional
        Cue phrases per item id (default :func:`default_cues`).
    width : int
        Turns on each side of the anchor (default 1: up to 3 lines).
    line_chars : int
        Each line is cut to this many characters (after masking) with "…".

    Returns
    -------
    Series of str, aligned with ``targets.index``: the lines joined by newlines, masked with
    :func:`qa_lib.privacy.mask_pii` **before** they are cut; "" where the contact has no transcript.
    """
    card = ["scorecard_id", "scorecard_version"]
    _need(targets, "targets", ["contact_id", *card, "item_id"])
    _need(items, "items", [*card, "item_id", "order", "cue_text"])
    if not isinstance(width, (int, np.integer)) or isinstance(width, bool) or width < 0:
        raise ParameterError(f"width must be a whole number ≥ 0; got {width!r}")
    if not isinstance(line_chars, (int, np.integer)) or isinstance(line_chars, bool) or line_chars < 8:
        raise ParameterError(f"line_chars must be a whole number ≥ 8; got {line_chars!r}")
    cues = default_cues() if cues is None else cues
    out = pd.Series("", index=targets.index, dtype=object)
    tr = transcripts[~transcripts.index.duplicated()]
    tr = tr[tr.index.isin(targets["contact_id"]) & tr.notna()]
    tr = tr[tr.astype(str).str.strip() != ""]
    if targets.empty or tr.empty:
        return out
    lines = _transcript_lines(tr)
    found = _cue_hits(targets, items, lines, cues)
    t, anchor = _anchor_turns(targets, items, lines, found)
    joined = _cut_excerpts(t, lines, anchor, width, line_chars)
    out.iloc[joined.index.to_numpy()] = joined.to_numpy()
    return out


def _transcript_lines(tr: pd.Series) -> pd.DataFrame:
    """The non-empty turns of the masked transcripts: ``contact_id, line, line_no`` (0 = first turn)."""
    masked = tr.astype(str).map(mask_pii)  # the whole transcript is masked before anything is cut
    lines = masked.str.split("\n").explode().rename("line").rename_axis("contact_id").reset_index()
    lines["line"] = lines["line"].astype(str).str.strip()
    lines = lines[lines["line"] != ""].reset_index(drop=True)
    lines["line_no"] = lines.groupby("contact_id").cumcount()
    return lines


def _cue_hits(targets: pd.DataFrame, items: pd.DataFrame, lines: pd.DataFrame, cues: Mapping[str, tuple[str, ...]]) -> pd.DataFrame:
    """Step (1): for each contact and item of its card, the agent turn with the most cue hits (the earliest on a tie)."""
    card = ["scorecard_id", "scorecard_version"]
    # (1) cue hits of every item of the card on every turn of the contact
    probe = targets[["contact_id", *card]].drop_duplicates().merge(items[[*card, "item_id", "order", "cue_text"]], on=card)
    probe = probe.merge(lines, on="contact_id")
    speaker = probe["line"].str.extract(f"({_SPEAKER})", expand=False).fillna("").str.replace(_STAMP, "", regex=True).str.strip(" ：:").str.lower()
    body = probe["line"].str.replace(_SPEAKER, "", regex=True).str.lower()
    hits = np.zeros(len(probe))
    for (item_id, cue_text), idx in probe.groupby(["item_id", "cue_text"], sort=False).indices.items():
        pattern = _cue_pattern(item_id, cue_text, cues)
        if pattern:
            hits[idx] = body.iloc[idx].str.count(pattern).to_numpy()
    hits[speaker.isin(_CUSTOMER).to_numpy()] = 0
    return (probe[hits > 0].assign(hits=hits[hits > 0]).sort_values(["hits", "line_no"], ascending=[False, True])
            .drop_duplicates(["contact_id", *card, "item_id"])[["contact_id", *card, "item_id", "order", "line_no"]])


def _anchor_turns(targets: pd.DataFrame, items: pd.DataFrame, lines: pd.DataFrame, found: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The target rows that have a transcript (``_row`` = position in ``targets``) and each one's anchor turn, by steps (1)–(3)."""
    card = ["scorecard_id", "scorecard_version"]
    n_lines = lines.groupby("contact_id")["line_no"].size()
    t = targets[["contact_id", *card, "item_id"]].assign(_row=np.arange(len(targets)))
    t = t.merge(items[[*card, "item_id", "order"]], on=[*card, "item_id"], how="left")
    t = t[t["contact_id"].isin(n_lines.index)]
    t["n"] = t["contact_id"].map(n_lines)
    own = t.merge(found.drop(columns="order"), on=["contact_id", *card, "item_id"], how="left").set_index("_row")["line_no"]
    # (2) the turn after the nearest earlier item that was found
    before = t.merge(found.rename(columns={"item_id": "prev", "order": "prev_order"}), on=["contact_id", *card])
    before = before[before["prev_order"] < before["order"]].sort_values("prev_order", ascending=False).drop_duplicates("_row")
    after_prev = pd.Series(np.minimum(before["line_no"].to_numpy() + 1, before["n"].to_numpy() - 1), index=before["_row"].to_numpy(), dtype=float)
    # (3) the item's relative position in the scorecard
    last = items.groupby(card)["order"].max().clip(lower=1).rename("last").reset_index()
    t = t.merge(last, on=card, how="left")
    position = pd.Series(np.round(t["order"].to_numpy(dtype=float) / t["last"].to_numpy(dtype=float) * (t["n"].to_numpy() - 1)), index=t["_row"].to_numpy())
    anchor = own.reindex(position.index).fillna(after_prev.reindex(position.index)).fillna(position).fillna(0)
    return t, anchor


def _cut_excerpts(t: pd.DataFrame, lines: pd.DataFrame, anchor: pd.Series, width: int, line_chars: int) -> pd.Series:
    """The turns within ``width`` of each anchor, cut to ``line_chars`` and joined by newlines, indexed by ``_row``."""
    near = t[["_row", "contact_id"]].merge(lines, on="contact_id")
    near = near[(near["line_no"] - near["_row"].map(anchor)).abs() <= width].sort_values(["_row", "line_no"])
    cut = near["line"].where(near["line"].str.len() <= line_chars, near["line"].str.slice(0, line_chars - 1) + "…")
    return cut.groupby(near["_row"]).agg("\n".join)


# ------------------------------------------------------------------------------- pure part
def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def build_digest(evaluations: pd.DataFrame, answers: pd.DataFrame, cards, contacts: pd.DataFrame, agents: pd.DataFrame, *,
                 date, team: str | None = None, lang: str = "zh", cues: Mapping[str, tuple[str, ...]] | None = None) -> Digest:
    """Build one day's digest from evaluation headers, item answers, scorecards, contacts and agents.

    Parameters
    ----------
    evaluations : DataFrame
        Evaluation headers (``evaluation_id, contact_id, agent_id, scorecard_id, scorecard_version, evaluated_at,
        arm, status, total_score, comment``); rows of other days are ignored.
    answers : DataFrame
        Item answers ``evaluation_id, item_id, answer, item_comment``.
    cards : iterable or mapping of Scorecard
        Every scorecard version the day's evaluations use.
    contacts : DataFrame
        ``contact_id, contact_type, topic, transcript`` of the evaluated contacts.
    agents : DataFrame
        ``agent_id, name, team`` (the team an agent belongs to now).
    date : str or date
        The day to review; an evaluation belongs to it by its ``evaluated_at`` date.
    team : str, optional
        Only this team's agents; an unknown team is a :class:`ParameterError` naming the teams.
    lang : {"zh", "en"}
        Language of item labels and contact-type names.
    cues : mapping, optional
        Cue phrases per item for the excerpts (default :func:`default_cues`).

    Returns
    -------
    Digest
        Its tables (no files written).
    """
    day = parse_day(date)
    _check_lang(lang)
    _need(evaluations, "evaluations", ["evaluation_id", "contact_id", "agent_id", "scorecard_id", "scorecard_version", "evaluated_at", "arm", "status", "total_score", "comment"])
    _need(answers, "answers", ["evaluation_id", "item_id", "answer", "item_comment"])
    _need(contacts, "contacts", ["contact_id", "contact_type", "topic", "transcript"])
    _need(agents, "agents", ["agent_id", "name", "team"])
    team = _check_team(team, agents["team"])
    card_of = _card_map(cards)

    ev, teams = _day_evaluations(evaluations, agents, day, team)
    meta = _used_items(ev, card_of, lang)
    f = _failed_answers(answers, ev, meta)
    _describe_failures(f, ev, contacts, meta, lang, cues)
    f, drill = _drill_items(f)
    failures = f[_FAILURE_COLUMNS] if len(f) else _empty(_FAILURE_COLUMNS)
    drill = drill[["team", "scorecard_id", "item_id", "item", "failures", "critical", "agents"]]

    crit = f[f["critical"]]
    critical_agents = _critical_agents(crit, lang)
    summary = _summary(ev, f, crit, teams)
    return Digest(day, team, lang, summary, drill, critical_agents.reset_index(drop=True), failures.reset_index(drop=True))


def _day_evaluations(evaluations: pd.DataFrame, agents: pd.DataFrame, day: dt.date, team: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The day's evaluations in scope (no drafts, no calibration, the teams asked for) with their agent's team and name; and those teams."""
    ev = evaluations.copy()
    when = pd.to_datetime(ev["evaluated_at"], errors="coerce")
    status = ev["status"].astype(object).where(ev["status"].notna(), "submitted")
    keep = (when.dt.date == day).fillna(False).astype(bool) & (status != "draft").astype(bool) & (ev["arm"] != "calibration").astype(bool)
    ev = ev[keep.to_numpy()].assign(status=status[keep.to_numpy()])
    who = agents.drop_duplicates("agent_id").set_index("agent_id")
    ev["team"] = ev["agent_id"].map(who["team"])
    ev["name"] = ev["agent_id"].map(who["name"])
    teams = [team] if team else sorted({t for t in agents["team"] if isinstance(t, str) and t})
    ev = ev[ev["team"].isin(teams).astype(bool)].reset_index(drop=True)
    ev["scorecard_version"] = ev["scorecard_version"].astype(int)
    return ev, teams


def _used_items(ev: pd.DataFrame, card_of: dict[tuple[str, int], Scorecard], lang: str) -> pd.DataFrame:
    """The items of every scorecard version the evaluations use (:func:`_item_meta`); a missing version is a ParameterError."""
    used = set(zip(ev["scorecard_id"], ev["scorecard_version"]))
    missing = sorted(used - set(card_of))
    if missing:
        raise ParameterError(f"cards must include every scorecard version the day's evaluations use; missing {[f'{s} v{v}' for s, v in missing]}")
    return _item_meta({k: card_of[k] for k in used}, lang)


def _failed_answers(answers: pd.DataFrame, ev: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """The evaluations' failed answers with their item's details, ``critical`` where the critical rule fires."""
    a = answers.merge(ev[["evaluation_id", "scorecard_id", "scorecard_version"]], on="evaluation_id", how="inner")
    a = a.merge(meta, on=["scorecard_id", "scorecard_version", "item_id"], how="inner")
    text = a["answer"].astype(object).where(a["answer"].notna(), "").astype(str).str.strip().str.lower()
    num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    choice = a["kind"].isin(["yes_no", "yes_partial_no"]).to_numpy(dtype=bool)
    count = (a["kind"] == "deduction").to_numpy(dtype=bool)
    scale = (a["kind"] == "scale").to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        fully = (choice & (text == "no").to_numpy(dtype=bool)) | (count & (num > 0)) | (scale & (num <= a["scale_low"].to_numpy(dtype=float)))
    failed = (fully | (choice & (text == "partial").to_numpy(dtype=bool))) & a["counts"].to_numpy(dtype=bool)
    f = a[failed].copy()
    f["critical"] = (fully[failed] & (f["critical_rule"] != "").to_numpy(dtype=bool)).astype(bool)
    f["answer"] = text[failed].to_numpy()
    return f


def _describe_failures(f: pd.DataFrame, ev: pd.DataFrame, contacts: pd.DataFrame, meta: pd.DataFrame, lang: str,
                       cues: Mapping[str, tuple[str, ...]] | None) -> None:
    """Add to the failures (in place) their evaluation's header, the contact, the masked comment and the transcript excerpt."""
    head = ev.set_index("evaluation_id")
    for col in ("team", "agent_id", "name", "contact_id", "arm", "status", "total_score", "comment"):
        f[col] = f["evaluation_id"].map(head[col])
    f["targeted"] = (f["arm"] == "targeted").astype(bool)
    c = contacts.drop_duplicates("contact_id").set_index("contact_id")
    f["contact_type"] = f["contact_id"].map(c["contact_type"])
    f["topic"] = f["contact_id"].map(c["topic"])
    # the item's own comment; without one, the evaluation's overall comment, marked as such
    has_note = (f["item_comment"].notna() & (f["item_comment"].astype(str).str.strip() != "")).to_numpy(dtype=bool)
    has_overall = (f["comment"].notna() & (f["comment"].astype(str).str.strip() != "")).to_numpy(dtype=bool)
    overall = _TEXT[lang]["overall"] + f["comment"].astype(object).where(pd.Series(has_overall, index=f.index), "").astype(str)
    note = pd.Series(np.where(has_note, f["item_comment"].astype(object), np.where(has_overall, overall, "")), index=f.index, dtype=object)
    f["comment"] = note.map(mask_pii)
    f["excerpt"] = excerpts(f, c["transcript"], meta, cues=cues)


def _drill_items(f: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The failures sorted (critical errors first, then by the item's drill rank) and the drill table with its ``rank``."""
    # the items to drill: failures per team and item, most failed first
    drill = (f.groupby(["team", "scorecard_id", "item_id"], sort=False)
             .agg(item=("item", "first"), failures=("evaluation_id", "size"), critical=("critical", "sum"), agents=("agent_id", "nunique"),
                  order=("order", "first"))
             .reset_index())
    drill = drill.sort_values(["team", "failures", "critical", "scorecard_id", "order"], ascending=[True, False, False, True, True], ignore_index=True)
    drill["rank"] = drill.groupby("team").cumcount()
    f = f.merge(drill[["team", "scorecard_id", "item_id", "rank"]], on=["team", "scorecard_id", "item_id"], how="left")
    f = f.sort_values(["team", "critical", "rank", "agent_id", "evaluation_id"], ascending=[True, False, True, True, True], ignore_index=True)
    return f, drill


def _critical_agents(crit: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The agents with a critical error: ``team, agent_id, name, critical_errors, items``, most errors first."""
    critical_agents = (crit.groupby(["team", "agent_id"]).agg(name=("name", "first"), critical_errors=("item_id", "size"),
                                                               items=("item", lambda s: "、".join(dict.fromkeys(s)) if lang == "zh" else ", ".join(dict.fromkeys(s))))
                       .reset_index().sort_values(["team", "critical_errors", "agent_id"], ascending=[True, False, True], ignore_index=True))
    if critical_agents.empty:
        critical_agents = _empty(["team", "agent_id", "name", "critical_errors", "items"])
    return critical_agents


def _summary(ev: pd.DataFrame, f: pd.DataFrame, crit: pd.DataFrame, teams: list[str]) -> pd.DataFrame:
    """One row per team in scope: evaluations (random, targeted), those with failures, failed items and critical errors."""
    idx = pd.Index(teams, name="team")
    return pd.DataFrame({
        "evaluations": ev.groupby("team").size().reindex(idx, fill_value=0),
        "random": ev[ev["arm"] == "random"].groupby("team").size().reindex(idx, fill_value=0),
        "targeted": ev[ev["arm"] == "targeted"].groupby("team").size().reindex(idx, fill_value=0),
        "with_failures": f.groupby("team")["evaluation_id"].nunique().reindex(idx, fill_value=0),
        "failed_items": f.groupby("team").size().reindex(idx, fill_value=0),
        "critical_errors": crit.groupby("team").size().reindex(idx, fill_value=0),
        "agents_with_critical": crit.groupby("team")["agent_id"].nunique().reindex(idx, fill_value=0),
    }, index=idx).astype(int).reset_index()


# ------------------------------------------------------------------------------ rendering
def md_escape(value) -> str:
    """Free text for a Markdown table cell: Markdown and HTML specials backslash-escaped, newlines as ``<br>``.

    >>> md_escape("a|b <script>\\n**x**")
    'a\\\\|b \\\\<script\\\\><br>\\\\*\\\\*x\\\\*\\\\*'
    """
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    text = re.sub(r"([\\`*_\[\]<>|~&#])", r"\\\1", text)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def _type_labels(types: pd.Series, lang: str) -> pd.Series:
    """Contact types as the page shows them: the Chinese name from the data model in zh, words in en."""
    raw = types.astype(object).where(types.notna(), "").astype(str)
    if lang == "zh":
        names = {k: v[0] for k, v in CONTACT_TYPES.items() if v}
        return raw.map(names).fillna(raw)
    return raw.str.replace("_", " ", regex=False)


def _answer_labels(answers: pd.Series, lang: str) -> pd.Series:
    """``no`` / ``partial`` in the page's language, fault counts as "2 次" / "2 fault(s)"."""
    raw = answers.astype(str)
    count = raw.str.fullmatch(r"\d+(\.\d+)?").fillna(False).astype(bool)
    faults = _TEXT[lang]["faults"].split("{n}")
    return raw.map(_TEXT[lang]["answer"]).fillna(raw.where(~count, faults[0] + raw + faults[1]))


def _score(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{float(v):.1f}"


def _cells(d: Digest) -> pd.DataFrame:
    """The failure rows as display strings (unescaped): badges, agent, answer, contact."""
    t = _TEXT[d.lang]
    f = d.failures
    if f.empty:
        return pd.DataFrame(columns=["team", "badge", "agent", "item", "answer", "comment", "excerpt", "contact", "score", "critical"])
    badge = np.where(f["critical"].astype(bool), t["critical"], "")
    badge = pd.Series(badge, index=f.index).str.cat(pd.Series(np.where(f["targeted"].astype(bool), t["targeted"], ""), index=f.index), sep=" ").str.strip()
    from .config import settings

    center = settings()
    topics = {t: center.label("topics", t, d.lang) for t in f["topic"].dropna().astype(str).unique()}
    contact = _type_labels(f["contact_type"], d.lang) + " / " + f["topic"].astype(object).map(topics).astype(object).fillna("").astype(str)
    return pd.DataFrame({
        "team": f["team"], "badge": badge, "agent": f["agent_id"].astype(str) + " " + f["name"].astype(object).where(f["name"].notna(), "").astype(str),
        "item": f["item"], "answer": _answer_labels(f["answer"], d.lang), "comment": f["comment"], "excerpt": f["excerpt"],
        "contact": contact, "score": f["total_score"].map(_score), "critical": f["critical"].astype(bool),
    })


_CSS = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif;font-size:13px;margin:16px;color:#222}
h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;border-bottom:2px solid #444;margin:16px 0 6px}h3{font-size:13px;margin:10px 0 4px}
p.scope{color:#555;font-size:11px;margin:2px 0 8px}table{border-collapse:collapse;width:100%;margin:2px 0 8px}
th,td{border:1px solid #bbb;padding:2px 5px;vertical-align:top;text-align:left}th{background:#eee;font-weight:600}
table.s{width:auto;min-width:40%}td.n{text-align:right;white-space:nowrap}tr.crit td{background:#fde8e8}.b{font-size:11px;font-weight:600;color:#a40000;white-space:nowrap}
.x{white-space:pre-wrap;font-size:11px;color:#333}.empty{color:#555;font-style:italic}
@media print{body{margin:0;font-size:10px}.x{font-size:9px}tr{break-inside:avoid}h2,h3{break-after:avoid}@page{size:A4 landscape;margin:10mm}}
"""


def _title(d: Digest) -> str:
    t = _TEXT[d.lang]
    return f"{t['title']} · {d.date.isoformat()} · {d.team or t['all_teams']}"


def _none_text(d: Digest, team: str | None = None) -> str:
    t = _TEXT[d.lang]
    return t["none_team"].format(team=team, date=d.date.isoformat()) if team else t["none"].format(date=d.date.isoformat())


_CRIT_ROW = ' class="crit"'


def render_html(d: Digest) -> str:
    """The digest as one self-contained, printable HTML page (inline CSS, no scripts; all text escaped)."""
    t = _TEXT[d.lang]
    e = escape
    out = [f'<!DOCTYPE html><html lang="{"zh-CN" if d.lang == "zh" else "en"}"><head><meta charset="utf-8">',
           f"<title>{e(_title(d))}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(_title(d))}</h1>", f'<p class="scope">{e(t["scope"].format(date=d.date.isoformat()))}</p>']
    if d.evaluations == 0:
        out += [f'<p class="empty">{e(_none_text(d, d.team))}</p>', "</body></html>"]
        return "\n".join(out)
    out.append(f"<h2>{e(t['overview'])}</h2><table class='s'><tr>" + "".join(f"<th>{e(c)}</th>" for c in t["s_cols"]) + "</tr>")
    for r in d.summary.itertuples(index=False):
        out.append(f"<tr><td>{e(r.team)}</td>" + "".join(f'<td class="n">{int(v)}</td>' for v in r[1:]) + "</tr>")
    out.append("</table>")
    cells = _cells(d)
    for r in d.summary.itertuples(index=False):
        team = r.team
        out.append(f"<h2>{e(t['team'])} {e(team)}</h2>")
        if r.evaluations == 0:
            out.append(f'<p class="empty">{e(_none_text(d, team))}</p>')
            continue
        out.append(f"<p>{e(t['evaluations'].format(team=team, n=r.evaluations, f=r.failed_items, c=r.critical_errors))}</p>")
        dr = d.drill[d.drill["team"] == team]
        if len(dr):
            out.append(f"<h3>{e(t['drill'])}</h3><table class='s'><tr>" + "".join(f"<th>{e(c)}</th>" for c in t["d_cols"]) + "</tr>")
            out += [f"<tr><td>{e(x.item)}</td><td class='n'>{int(x.failures)}</td><td class='n'>{int(x.critical)}</td><td class='n'>{int(x.agents)}</td></tr>"
                    for x in dr.itertuples(index=False)]
            out.append("</table>")
        ca = d.critical_agents[d.critical_agents["team"] == team]
        out.append(f"<h3>{e(t['critical_agents'])}</h3>")
        if len(ca):
            out.append("<table class='s'><tr>" + "".join(f"<th>{e(c)}</th>" for c in t["c_cols"]) + "</tr>")
            out += [f"<tr><td>{e(x.agent_id)} {e(x.name)}</td><td class='n'>{int(x.critical_errors)}</td><td>{e(x.items)}</td></tr>" for x in ca.itertuples(index=False)]
            out.append("</table>")
        else:
            out.append(f'<p class="empty">{e(t["no_critical"])}</p>')
        out.append(f"<h3>{e(t['failures'])}</h3>")
        rows = cells[cells["team"] == team]
        if rows.empty:
            out.append(f'<p class="empty">{e(t["no_failures"])}</p>')
            continue
        out.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in t["f_cols"]) + "</tr>")
        out += [f"<tr{_CRIT_ROW if x.critical else ''}><td class='b'>{e(x.badge)}</td><td>{e(x.agent)}</td><td>{e(x.item)}</td><td>{e(x.answer)}</td>"
                f"<td>{e(x.comment)}</td><td class='x'>{e(x.excerpt)}</td><td>{e(x.contact)}</td><td class='n'>{e(x.score)}</td></tr>"
                for x in rows.itertuples(index=False)]
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def _md_row(values) -> str:
    return "| " + " | ".join(values) + " |"


def render_markdown(d: Digest) -> str:
    """The digest as Markdown: free text escaped (pipes, Markdown and HTML specials), newlines as ``<br>``."""
    t = _TEXT[d.lang]
    m = md_escape
    out = [f"# {m(_title(d))}", "", m(t["scope"].format(date=d.date.isoformat())), ""]
    if d.evaluations == 0:
        return "\n".join(out + [m(_none_text(d, d.team)), ""])
    out += [f"## {m(t['overview'])}", "", _md_row(map(m, t["s_cols"])), _md_row(["---"] * len(t["s_cols"]))]
    out += [_md_row([m(r.team)] + [str(int(v)) for v in r[1:]]) for r in d.summary.itertuples(index=False)]
    cells = _cells(d)
    for r in d.summary.itertuples(index=False):
        team = r.team
        out += ["", f"## {m(t['team'])} {m(team)}", ""]
        if r.evaluations == 0:
            out.append(m(_none_text(d, team)))
            continue
        out += [m(t["evaluations"].format(team=team, n=r.evaluations, f=r.failed_items, c=r.critical_errors)), ""]
        dr = d.drill[d.drill["team"] == team]
        if len(dr):
            out += [f"### {m(t['drill'])}", "", _md_row(map(m, t["d_cols"])), _md_row(["---"] * 4)]
            out += [_md_row([m(x.item), str(int(x.failures)), str(int(x.critical)), str(int(x.agents))]) for x in dr.itertuples(index=False)]
            out.append("")
        ca = d.critical_agents[d.critical_agents["team"] == team]
        out += [f"### {m(t['critical_agents'])}", ""]
        if len(ca):
            out += [_md_row(map(m, t["c_cols"])), _md_row(["---"] * 3)]
            out += [_md_row([m(f"{x.agent_id} {x.name}"), str(int(x.critical_errors)), m(x.items)]) for x in ca.itertuples(index=False)]
        else:
            out.append(m(t["no_critical"]))
        out += ["", f"### {m(t['failures'])}", ""]
        rows = cells[cells["team"] == team]
        if rows.empty:
            out.append(m(t["no_failures"]))
            continue
        out += [_md_row(m(c) or " " for c in t["f_cols"]), _md_row(["---"] * len(t["f_cols"]))]
        out += [_md_row([f"**{m(x.badge)}**" if x.badge else "", m(x.agent), m(x.item), m(x.answer), m(x.comment), m(x.excerpt), m(x.contact), m(x.score)])
                for x in rows.itertuples(index=False)]
    out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------------- store part
def default_day(store) -> dt.date:
    """The day before the latest ``evaluated_at`` date in the store (the meeting reviews "yesterday")."""
    from .errors import NotFoundError

    ev = store.evaluations(audience="inspector", columns=["evaluated_at"])  # the last day anyone scored, drafts too
    last = pd.to_datetime(ev["evaluated_at"], errors="coerce").max()
    if pd.isna(last):
        raise NotFoundError("the database holds no evaluations yet: import evaluations first (qa import evaluations FILE)")
    return (last - pd.Timedelta(days=1)).date()


def digest_paths(folder: str | Path, date, team: str | None = None) -> tuple[Path, Path]:
    """``folder/digest_<date>[_<team>].html`` and ``.md``."""
    from .files import file_stem

    stem = f"digest_{parse_day(date).isoformat()}" + (f"_{file_stem(team)}" if team else "")
    folder = Path(folder)
    return folder / f"{stem}.html", folder / f"{stem}.md"


def write_digest(store, date, folder: str | Path | None = None, *, team: str | None = None, lang: str = "zh",
                 cues: Mapping[str, tuple[str, ...]] | None = None) -> Digest:
    """Read one day's evaluations from the store and write the digest as HTML and Markdown.

    Parameters
    ----------
    store : Store
        Read through ``read`` only (evaluations by ``evaluated_at``, their items, contacts, agents, scorecards).
    date : str or date
        The day to review.
    folder : path, optional
        Where to write (default ``reports/digest/``).
    team : str, optional
        Only this team (its agents only); an unknown team is a :class:`ParameterError` naming the teams.
    lang : {"zh", "en"}
        Language of the page.

    Returns
    -------
    Digest
        The tables, with ``paths`` = [HTML, Markdown]. A day without evaluations writes a digest saying so.
        Bad input raises before anything is written.
    """
    day = parse_day(date)
    _check_lang(lang)
    agents = store.read("agents", columns=["agent_id", "name", "team"])
    team = _check_team(team, agents["team"])
    if folder is None:
        from .config import reports_dir

        folder = reports_dir() / "digest"
    e = store.table("evaluations")
    start = dt.datetime.combine(day, dt.time())
    ev = store.evaluations(where=(e.c.evaluated_at >= start) & (e.c.evaluated_at < start + dt.timedelta(days=1)))
    ids = ev["evaluation_id"].tolist()
    if ids:
        items = store.read("evaluation_items", store.table("evaluation_items").c.evaluation_id.in_(ids))
        c = store.table("contacts")
        contacts = store.read("contacts", c.c.contact_id.in_(sorted(set(ev["contact_id"]))), columns=["contact_id", "contact_type", "topic", "transcript"])
        pairs = ev[["scorecard_id", "scorecard_version"]].drop_duplicates()
        cards = [store.scorecard(s, int(v)) for s, v in zip(pairs["scorecard_id"], pairs["scorecard_version"])]
    else:
        items = _empty(["evaluation_id", "item_id", "answer", "item_comment"])
        contacts = _empty(["contact_id", "contact_type", "topic", "transcript"])
        cards = []
    d = build_digest(ev, items, cards, contacts, agents, date=day, team=team, lang=lang, cues=cues)
    html_path, md_path = digest_paths(folder, day, team)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(d), encoding="utf-8")
    md_path.write_text(render_markdown(d), encoding="utf-8")
    d.paths = [html_path, md_path]
    return d
