"""Scorecards: the versioned YAML rubric format, answer validation and the scoring engine.

A scorecard (see ``docs/scorecards.md``) names its scoring style:

* ``weighted`` — each section's score is Σ item weight × credit / Σ applicable item
  weight; the total is Σ section weight × section score / Σ weight of sections with an
  applicable item, × 100. Credit: yes 1, partial ½, no 0, a scale value linearly between
  its ends, a fault count 1 − count / max_count.
* ``deduction`` — start at 100 and subtract each item's ``deduct`` points per fault
  (``no`` the full amount, ``partial`` half, a scale pro rata, a fault count × points);
  floor at 0 (seed 002's habit).

Both styles: a failed **critical** item zeroes the evaluation (``critical: evaluation``)
or its section (``critical: section``); **bonus** items add points on top; **conditional**
items (``when``) apply only when another answer or a contact flag says so; the **N/A
policy** of an item is explicit (``not_allowed``, ``exclude`` from the denominator, or
count as a ``pass``).

:func:`score` is vectorized over evaluations (one NumPy pass per item, no loop over
evaluations) and returns tidy tables.

>>> card = load_scorecard('''
... id: demo
... version: 1
... style: weighted
... name: {zh: 演示, en: Demo}
... sections:
...   - id: s
...     name: {zh: 全部, en: All}
...     items:
...       - {id: greet, kind: yes_no, weight: 1, label: {zh: 问候, en: Greeting}}
...       - {id: solve, kind: yes_partial_no, weight: 3, label: {zh: 解决, en: Solved}}
... ''')
>>> answers = pd.DataFrame({"evaluation_id": ["E1", "E1"], "item_id": ["greet", "solve"], "answer": ["no", "partial"]})
>>> score(card, answers).totals[["evaluation_id", "total"]].to_dict("records")
[{'evaluation_id': 'E1', 'total': 37.5}]
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .errors import ParameterError, Problem, ValidationError
from .ingest import safe_yaml, yaml_text

__all__ = [
    "Item", "Section", "Scorecard", "ScoreResult", "load_scorecard", "check_answers", "normalize_answers", "score",
    "rescore", "ranking_changes",
    "KINDS", "STYLES", "NA_POLICIES", "CONTACT_FLAGS",
]

STYLES = ("weighted", "deduction")
KINDS = ("yes_no", "yes_partial_no", "scale", "deduction")
NA_POLICIES = ("not_allowed", "exclude", "pass")
CRITICAL = ("evaluation", "section")
#: Boolean contact fields a condition may test (``when: {contact: [escalated]}``).
CONTACT_FLAGS = ("transferred", "escalated", "abandoned", "customer_opted_out")
DEFAULT_BANDS = (90, 80, 70, 60)

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CARD_KEYS = {"id", "version", "style", "name", "description", "applies_to", "bands", "sections"}
_SECTION_KEYS = {"id", "name", "weight", "items"}
_ITEM_KEYS = {"id", "kind", "label", "guidance", "skills", "weight", "deduct", "critical", "na", "bonus", "points",
              "scored", "when", "scale", "max_count", "auto"}
_WORDS = {
    "yes": {"yes", "y", "true", "1", "是", "合格", "pass", "ok"},
    "no": {"no", "n", "false", "0", "否", "不合格", "fail"},
    "partial": {"partial", "p", "部分", "部分合格", "0.5"},
    "na": {"na", "n/a", "不适用", "-"},
}
_ALIAS = {w: canon for canon, words in _WORDS.items() for w in words}


@dataclass(frozen=True)
class Item:
    id: str
    section: str
    kind: str
    label: dict
    guidance: dict = field(default_factory=dict)
    skills: tuple = ()
    weight: float = 1.0
    deduct: float = 0.0
    critical: str | None = None
    na: str = "not_allowed"
    bonus: bool = False
    points: float = 0.0
    scored: bool = True
    when: dict | None = None
    scale: tuple = (0.0, 5.0)
    max_count: int = 10
    #: The item's ``auto:`` mapping as written (rules for automatic answers; checked by ``qa_lib.autoqa.rules``), or None.
    auto: dict | None = field(default=None, hash=False)

    @property
    def options(self) -> tuple[str, ...]:
        """Answers an inspector can give (``na`` only where the policy or a condition allows)."""
        base = {"yes_no": ("yes", "no"), "yes_partial_no": ("yes", "partial", "no")}.get(self.kind)
        if base is None:
            lo, hi = self.scale if self.kind == "scale" else (0, self.max_count)
            base = tuple(str(v) for v in range(int(lo), int(hi) + 1)) if float(lo).is_integer() and float(hi).is_integer() else ()
        return base + (("na",) if self.na_allowed else ())

    @property
    def na_allowed(self) -> bool:
        return self.na != "not_allowed" or self.when is not None or self.bonus or not self.scored


@dataclass(frozen=True)
class Section:
    id: str
    name: dict
    weight: float
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Scorecard:
    id: str
    version: int
    style: str
    name: dict
    sections: tuple[Section, ...]
    bands: tuple = DEFAULT_BANDS
    text: str = ""
    applies_to: dict = field(default_factory=dict)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(it for s in self.sections for it in s.items)

    @property
    def item_ids(self) -> list[str]:
        return [it.id for it in self.items]

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise ParameterError(f"item_id must be one of {self.item_ids}; got {item_id!r}")

    def label(self, lang: str = "en") -> str:
        return self.name.get(lang) or self.name.get("en") or self.id

    def applies(self, contacts: pd.DataFrame) -> np.ndarray:
        """Which ``contacts`` this card applies to (its ``applies_to`` direction and contact types), a boolean array; a
        condition on a column the contact log does not have is not applied."""
        ok = np.ones(len(contacts), dtype=bool)
        spec = self.applies_to or {}
        if spec.get("direction") and "direction" in contacts.columns:
            ok &= (contacts["direction"] == spec["direction"]).to_numpy()
        if spec.get("contact_types") and "contact_type" in contacts.columns:
            ok &= contacts["contact_type"].isin(list(spec["contact_types"])).to_numpy()
        return ok


# ----------------------------------------------------------------------------- loading
def _lines(node, path: str = "", out: dict | None = None) -> dict:
    """Map YAML paths (``sections[0].items[1].weight``) to 1-based line numbers."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else "?"
            _lines(v, f"{path}.{key}" if path else key, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, f"{path}[{i}]", out)
    return out


def _read(source) -> tuple[str, str]:
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))):
        path = Path(source)
        if not path.is_file():
            raise ParameterError(f"scorecard path must be an existing YAML file; got {str(path)!r}")
        return path.name, yaml_text(path.read_bytes(), path.name)
    if not isinstance(source, str):
        raise ParameterError(f"source must be a YAML file path or YAML text; got {type(source).__name__}")
    return "<scorecard>", source


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


class _CardProblems:
    """The problems found while loading one scorecard, each at its YAML path and line."""

    def __init__(self, name: str, lines: dict) -> None:
        self.name = name
        self.lines = lines
        self.problems: list[Problem] = []

    def bad(self, path: str, msg: str) -> None:
        """Record a problem at a YAML path (its line, or the nearest enclosing node's)."""
        line = self.lines.get(path)
        probe = path
        while line is None and probe:
            shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
            if shorter == probe:  # a top-level key (no parent to fall back on): the document's first line
                break
            probe = shorter
            line = self.lines.get(probe)
        self.problems.append(Problem(self.name, line or 0, path, msg))

    def unknown(self, obj: dict, allowed: set, path: str) -> None:
        """Record every key of a mapping that is not allowed there."""
        for k in obj:
            if k not in allowed:
                self.bad(f"{path}.{k}" if path else str(k), f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def bilingual(self, obj, path: str, required: bool = True) -> dict:
        """A zh/en text mapping, or {} (recording a problem unless it is optional and absent)."""
        if obj is None and not required:
            return {}
        if not isinstance(obj, dict) or not all(isinstance(obj.get(lang), str) and obj.get(lang).strip() for lang in ("zh", "en")):
            self.bad(path, "needs both zh and en text, e.g. {zh: 问候, en: Greeting}")
            return {}
        return {k: str(v) for k, v in obj.items()}


def load_scorecard(source: str | os.PathLike) -> Scorecard:
    """Load and validate a scorecard from a YAML file path or YAML text.

    Raises :class:`ValidationError` listing every problem with the YAML path at fault (and
    its line as the row): duplicate ids, unknown kinds or keys, negative weights, a
    condition pointing at a missing item, missing labels, and so on.
    """
    name, text = _read(source)
    raw, node = safe_yaml(text, name, compose=True)  # refuses aliases ("billion laughs"), deep nesting, huge files
    lines = _lines(node) if node is not None else {}
    report = _CardProblems(name, lines)

    if not isinstance(raw, dict):
        raise ValidationError([Problem(name, 1, "", "a scorecard is a mapping with id, version, style, name and sections")], name)

    cid, version, style, cname, bands = _card_header(raw, report)
    sections, pending_when = _card_sections(raw, style, report)
    _check_conditions(sections, pending_when, report)
    if report.problems:
        raise ValidationError(report.problems, name)
    return Scorecard(
        id=cid, version=int(version), style=style, name=cname, sections=tuple(sections), bands=tuple(bands), text=text,
        applies_to=raw.get("applies_to") or {},
    )


def _card_header(raw: dict, report: _CardProblems) -> tuple:
    """The card's own keys checked: (id, version, style, name, bands), bad bands replaced by the defaults."""
    report.unknown(raw, _CARD_KEYS, "")
    for key in ("id", "version", "style", "name", "sections"):
        if key not in raw:
            report.bad(key, "missing")
    cid = raw.get("id")
    if "id" in raw and not (isinstance(cid, str) and _ID.match(cid)):
        report.bad("id", f"must be lower-case letters, digits and _; got {cid!r}")
    version = raw.get("version", 1)
    if not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
        report.bad("version", f"must be a whole number ≥ 1; got {version!r}")
    style = raw.get("style", "weighted")
    if style not in STYLES:
        report.bad("style", f"must be one of {', '.join(STYLES)}; got {style!r}")
    cname = report.bilingual(raw.get("name"), "name") if "name" in raw else {}
    bands = raw.get("bands", list(DEFAULT_BANDS))
    if not (isinstance(bands, list) and bands and all(_num(b) and 0 <= b <= 200 for b in bands) and bands == sorted(bands, reverse=True)):
        report.bad("bands", f"must be a list of descending numbers such as [90, 80, 70, 60]; got {bands!r}")
        bands = list(DEFAULT_BANDS)
    return cid, version, style, cname, bands


def _card_sections(raw: dict, style: str, report: _CardProblems) -> tuple[list[Section], list[tuple[str, str, dict]]]:
    """The card's sections checked, and its items' ``when`` conditions (path, item id, condition) left to check."""
    sections_raw = raw.get("sections")
    if "sections" in raw and (not isinstance(sections_raw, list) or not sections_raw):
        report.bad("sections", "must be a non-empty list of sections")
    sections_raw = sections_raw if isinstance(sections_raw, list) else []
    seen_items: dict[str, str] = {}
    seen_sections: set[str] = set()
    pending_when: list[tuple[str, str, dict]] = []
    sections: list[Section] = []
    for i, sec in enumerate(sections_raw):
        section = _card_section(i, sec, style, report, seen_items, seen_sections, pending_when)
        if section is not None:
            sections.append(section)
    return sections, pending_when


def _card_section(i: int, sec, style: str, report: _CardProblems, seen_items: dict[str, str], seen_sections: set[str],
                  pending_when: list[tuple[str, str, dict]]) -> Section | None:
    """One section checked with its items (None when it is not even a mapping)."""
    sp = f"sections[{i}]"
    if not isinstance(sec, dict):
        report.bad(sp, "a section is a mapping with id, name and items")
        return None
    report.unknown(sec, _SECTION_KEYS, sp)
    sid = sec.get("id")
    if not (isinstance(sid, str) and _ID.match(sid)):
        report.bad(f"{sp}.id", f"must be lower-case letters, digits and _; got {sid!r}")
        sid = f"section{i}"
    elif sid in seen_sections:
        report.bad(f"{sp}.id", f"duplicate section id {sid!r}")
    seen_sections.add(sid)
    sweight = sec.get("weight", 1)
    if not (_num(sweight) and sweight >= 0):
        report.bad(f"{sp}.weight", f"must be a number ≥ 0; got {sweight!r}")
        sweight = 1
    items_raw = sec.get("items")
    if not isinstance(items_raw, list) or not items_raw:
        report.bad(f"{sp}.items", "must be a non-empty list of items")
        items_raw = []
    items: list[Item] = []
    for j, it in enumerate(items_raw):
        item = _card_item(f"{sp}.items[{j}]", it, sid, style, report, seen_items, pending_when)
        if item is not None:
            items.append(item)
    return Section(sid, report.bilingual(sec.get("name"), f"{sp}.name"), float(sweight), tuple(items))


def _card_item(ip: str, it, sid: str, style: str, report: _CardProblems, seen_items: dict[str, str],
               pending_when: list[tuple[str, str, dict]]) -> Item | None:
    """One item checked (None when it is not a mapping or has no valid id); its ``when`` is queued for later."""
    if not isinstance(it, dict):
        report.bad(ip, "an item is a mapping with id, kind and label")
        return None
    report.unknown(it, _ITEM_KEYS, ip)
    iid = it.get("id")
    if not (isinstance(iid, str) and _ID.match(iid)):
        report.bad(f"{ip}.id", f"must be lower-case letters, digits and _; got {iid!r}")
        return None
    if iid in seen_items:
        report.bad(f"{ip}.id", f"duplicate item id {iid!r} (first at {seen_items[iid]})")
    seen_items.setdefault(iid, ip)
    kind = it.get("kind")
    if kind not in KINDS:
        report.bad(f"{ip}.kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
        kind = "yes_no"
    scored = it.get("scored", True)
    bonus = it.get("bonus", False)
    for flag, val in (("scored", scored), ("bonus", bonus)):
        if not isinstance(val, bool):
            report.bad(f"{ip}.{flag}", f"must be true or false; got {val!r}")
    settings = _item_settings(ip, it, kind, style, scored, bonus, report)
    skills = it.get("skills", [])
    if not (isinstance(skills, list) and all(isinstance(s, str) and s for s in skills)):
        report.bad(f"{ip}.skills", f"must be a list of skill tags; got {skills!r}")
        skills = []
    when = it.get("when")
    if when is not None:
        pending_when.append((ip, iid, when))
    return Item(
        id=iid, section=sid, kind=kind, label=report.bilingual(it.get("label"), f"{ip}.label"),
        guidance=report.bilingual(it.get("guidance"), f"{ip}.guidance", required=False), skills=tuple(skills),
        bonus=bonus is True, scored=scored is not False, when=when if isinstance(when, dict) else None,
        auto=it["auto"] if isinstance(it.get("auto"), dict) else None, **settings,
    )


def _item_settings(ip: str, it: dict, kind: str, style: str, scored, bonus, report: _CardProblems) -> dict:
    """An item's scoring settings checked (weight, deduct, points, critical, na, scale, max_count), bad ones defaulted."""
    weight = it.get("weight", 1)
    if not (_num(weight) and weight >= 0):
        report.bad(f"{ip}.weight", f"must be a number ≥ 0; got {weight!r}")
        weight = 1
    deduct = it.get("deduct", 0)
    if not (_num(deduct) and deduct >= 0):
        report.bad(f"{ip}.deduct", f"must be a number ≥ 0; got {deduct!r}")
        deduct = 0
    if style == "deduction" and scored is True and bonus is False and "deduct" not in it:
        report.bad(f"{ip}.deduct", "missing: a deduction-style item needs the points it deducts")
    points = it.get("points", 0)
    if not _num(points) or (bonus is True and points <= 0):  # not a number: refused on any item (float() would fail below)
        report.bad(f"{ip}.points", f"a bonus item needs points > 0; got {points!r}" if bonus is True else f"must be a number; got {points!r}")
        points = 0
    critical = it.get("critical")
    if critical is not None and critical not in CRITICAL:
        report.bad(f"{ip}.critical", f"must be one of {', '.join(CRITICAL)}; got {critical!r}")
        critical = None
    if critical and (bonus is True or scored is False):
        report.bad(f"{ip}.critical", "a bonus or unscored item cannot be critical")
    na = it.get("na", "not_allowed")
    if na not in NA_POLICIES:
        report.bad(f"{ip}.na", f"must be one of {', '.join(NA_POLICIES)}; got {na!r}")
        na = "not_allowed"
    scale = it.get("scale", [0, 5])
    if (kind == "scale" or "scale" in it) and not (isinstance(scale, list) and len(scale) == 2 and all(map(_num, scale)) and scale[0] < scale[1]):
        report.bad(f"{ip}.scale", f"must be [min, max] with min < max; got {scale!r}")
        scale = [0, 5]
    max_count = it.get("max_count", 10)
    if (kind == "deduction" or "max_count" in it) and not (isinstance(max_count, int) and not isinstance(max_count, bool) and max_count >= 1):
        report.bad(f"{ip}.max_count", f"must be a whole number ≥ 1; got {max_count!r}")
        max_count = 10
    return {
        "weight": float(weight), "deduct": float(deduct), "critical": critical, "na": na, "points": float(points),
        "scale": (float(scale[0]), float(scale[1])), "max_count": int(max_count),
    }


def _check_conditions(sections: list[Section], pending_when: list[tuple[str, str, dict]], report: _CardProblems) -> None:
    """Check the items' ``when`` conditions against the items the card has."""
    by_id = {it.id: it for s in sections for it in s.items}
    for ip, iid, when in pending_when:
        wp = f"{ip}.when"
        if not isinstance(when, dict) or len(set(when) & {"item", "contact"}) != 1:
            report.bad(wp, "must be {item: ID, in: [answers]} or {contact: [flags]}")
            continue
        if "item" in when:
            other = when.get("item")
            if set(when) - {"item", "in"}:
                report.bad(wp, "an item condition has only the keys item and in")
            if other == iid:
                report.bad(f"{wp}.item", "an item cannot depend on itself")
            elif other not in by_id:
                report.bad(f"{wp}.item", f"points at a missing item {other!r}")
            values = when.get("in", ["yes"])
            if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
                report.bad(f"{wp}.in", f"must be a list of answers; got {values!r}")
        else:
            flags = when.get("contact")
            if set(when) != {"contact"} or not (isinstance(flags, list) and flags and all(f in CONTACT_FLAGS for f in flags)):
                report.bad(f"{wp}.contact", f"must be a list of contact flags from {', '.join(CONTACT_FLAGS)}; got {flags!r}")


# --------------------------------------------------------------------------- answers
def _parse(item: Item, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Canonical answers of one item: (text, numeric value, is_na, is_bad). Blank stays None.

    Each distinct answer is parsed once (a month has many rows but few distinct spellings)."""
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=True)
    text, value, is_na, bad = _parse_values(item, np.append(np.asarray(uniques, dtype=object), None))
    codes = np.where(codes < 0, len(uniques), codes)  # missing answers: the appended None
    return text[codes], value[codes], is_na[codes], bad[codes]


def _parse_values(item: Item, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_parse` of each value of ``raw``."""
    text = np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "" else str(v).strip().lower() for v in raw], dtype=object)
    blank = np.array([t is None for t in text])
    is_na = np.array([t in _WORDS["na"] for t in text])
    value = np.full(text.size, np.nan)
    if item.kind in ("yes_no", "yes_partial_no"):
        canon = np.array([_ALIAS.get(t) if t is not None else None for t in text], dtype=object)
        allowed = {"yes", "no"} | ({"partial"} if item.kind == "yes_partial_no" else set())
        ok = np.array([c in allowed for c in canon])
        value = np.where(canon == "yes", 1.0, np.where(canon == "partial", 0.5, np.where(canon == "no", 0.0, np.nan)))
        text = np.where(ok | is_na, np.where(is_na, "na", canon), text)
    else:
        num = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce").to_numpy(dtype=float)
        lo, hi = item.scale if item.kind == "scale" else (0, item.max_count)
        ok = ~np.isnan(num) & (num >= lo) & (num <= hi)
        if item.kind == "deduction":
            ok &= np.isclose(num, np.round(num))
        value = np.where(ok, num, np.nan)
        text = np.where(is_na, "na", text)
    bad = ~blank & ~is_na & ~ok
    return text, value, is_na, bad


def _frame(answers: pd.DataFrame) -> pd.DataFrame:
    need = {"evaluation_id", "item_id", "answer"}
    if not isinstance(answers, pd.DataFrame) or not need <= set(answers.columns):
        got = sorted(answers.columns) if isinstance(answers, pd.DataFrame) else type(answers).__name__
        raise ParameterError(f"answers must be a DataFrame with columns evaluation_id, item_id, answer; got {got}")
    return answers


def _context_flags(card: Scorecard, context: pd.DataFrame | None, evals: pd.Index) -> pd.DataFrame | None:
    if context is None:
        return None
    if "evaluation_id" not in context.columns:
        raise ParameterError("context must have an evaluation_id column and contact flag columns")
    ctx = context.drop_duplicates("evaluation_id").set_index("evaluation_id").reindex(evals)
    return ctx


def _applicable(item: Item, wide_text: dict, ctx: pd.DataFrame | None, n: int) -> np.ndarray:
    """True where a conditional item applies; None-free boolean array (unknown context → True)."""
    if item.when is None:
        return np.ones(n, bool)
    if "item" in item.when:
        other = wide_text[item.when["item"]]
        values = {str(v).lower() for v in item.when.get("in", ["yes"])}
        return np.array([o in values for o in other])
    if ctx is None:
        return np.ones(n, bool)
    flags = [f for f in item.when["contact"] if f in ctx.columns]
    if not flags:
        return np.ones(n, bool)
    known = ctx[flags].notna().any(axis=1).to_numpy()
    on = ctx[flags].fillna(False).astype(bool).any(axis=1).to_numpy()
    return np.where(known, on, True)


def check_answers(card: Scorecard, answers: pd.DataFrame, *, source: str = "<answers>", context: pd.DataFrame | None = None,
                  rows: pd.Series | None = None, complete: bool = True, item_columns: bool = False) -> list[Problem]:
    """Problems with a set of answers against a scorecard, each naming the evaluation and item.

    Checks: unknown item, value out of range or not an allowed answer, N/A where the item
    does not allow it, a required item missing, an answer to an item whose condition is false.
    ``rows`` gives file row numbers for the answer rows (else 0). ``complete=False`` (a
    draft) does not require every item to be answered. ``item_columns=True`` names the
    item as the problem's column (a scoring sheet has one column per item).
    """
    _frame(answers)
    problems: list[Problem] = []
    row = (rows if rows is not None else pd.Series(0, index=answers.index)).to_numpy()
    known = set(card.item_ids)
    unk = ~answers["item_id"].isin(known).to_numpy()
    for r, e, i in zip(row[unk], answers["evaluation_id"].to_numpy()[unk], answers["item_id"].to_numpy()[unk]):
        problems.append(Problem(source, int(r), "item_id", f"evaluation {e}: item {i!r} is not in scorecard {card.id} v{card.version}"))
    ok = answers.loc[~unk]
    if ok.empty:
        return problems
    evals = pd.Index(pd.unique(ok["evaluation_id"]))
    wide = ok.pivot(index="evaluation_id", columns="item_id", values="answer").reindex(index=evals, columns=card.item_ids)
    rowmap = pd.Series(row[~unk], index=pd.MultiIndex.from_frame(ok[["evaluation_id", "item_id"]]))
    first_row = ok.assign(_r=row[~unk]).groupby("evaluation_id", sort=False)["_r"].min().reindex(evals).to_numpy()
    ctx = _context_flags(card, context, evals)
    parsed = {it.id: _parse(it, wide[it.id].to_numpy(dtype=object)) for it in card.items}
    texts = {k: v[0] for k, v in parsed.items()}
    for it in card.items:
        text, value, is_na, badv = parsed[it.id]
        blank = np.array([t is None for t in text])
        applies = _applicable(it, texts, ctx, len(evals))

        def report(mask, message):
            for k in np.flatnonzero(mask)[:200]:
                e = evals[k]
                r = rowmap.get((e, it.id), first_row[k])
                problems.append(Problem(source, int(r), it.id if item_columns else "answer", f"evaluation {e}: item {it.id}: {message(k)}"))

        allowed = "|".join(o for o in it.options if o != "na") or (f"{it.scale[0]:g}..{it.scale[1]:g}" if it.kind == "scale" else f"0..{it.max_count}")
        report(badv, lambda k: f"{wide[it.id].iloc[k]!r} is not an allowed answer ({allowed}{'|na' if it.na_allowed else ''})")
        report(is_na & ~it.na_allowed, lambda k: "N/A is not allowed for this item")
        required = applies & it.scored & ~it.bonus & (it.when is None) & complete
        report(blank & required, lambda k: "missing answer (required)")
        if it.when is not None and "item" in it.when:
            report(~applies & ~blank & ~is_na, lambda k: f"answered although its condition ({it.when['item']} in {it.when.get('in', ['yes'])}) is false")
    return problems


def normalize_answers(card: Scorecard, answers: pd.DataFrame) -> pd.Series:
    """Canonical spelling of each answer (``是`` → ``yes``, ``N/A`` → ``na``, ``3`` → ``3``)."""
    _frame(answers)
    out = answers["answer"].astype(object).copy()
    for it in card.items:
        m = (answers["item_id"] == it.id).to_numpy()
        if m.any():
            text = _parse(it, answers.loc[m, "answer"].to_numpy(dtype=object))[0]
            out[m] = text
    return out


# ---------------------------------------------------------------------------- scoring
@dataclass
class ScoreResult:
    """Tidy scoring output.

    ``items``: one row per evaluation × item — ``applicable``, ``credit`` (0–1, NaN when
    not counted), ``deducted`` points, ``bonus`` points, ``failed``, ``critical``.
    ``sections``: one row per evaluation × section — ``score`` (0–100, NaN when nothing
    applied), ``deducted``, ``critical_failed``.
    ``totals``: one row per evaluation — ``total``, ``band``, ``critical_failed``,
    ``failed_items`` (comma-separated).
    """

    items: pd.DataFrame
    sections: pd.DataFrame
    totals: pd.DataFrame


def _band(total: np.ndarray, bands: tuple) -> np.ndarray:
    edges = list(bands)
    labels = [f"≥{edges[0]:g}"] + [f"{lo:g}–{hi:g}" for hi, lo in zip(edges[:-1], edges[1:])] + [f"<{edges[-1]:g}"]
    idx = np.searchsorted(-np.asarray(edges, float), -total, side="right")
    return np.where(np.isnan(total), None, np.array(labels, dtype=object)[np.minimum(idx, len(labels) - 1)])


def _shares(card: Scorecard) -> dict[str, float]:
    """Each scored item's share of 100 points under the weighted style (for what-if deduction scoring)."""
    total_w = sum(s.weight for s in card.sections) or 1.0
    out = {}
    for s in card.sections:
        ws = [it.weight for it in s.items if it.scored and not it.bonus]
        for it in s.items:
            out[it.id] = 100 * (s.weight / total_w) * (it.weight / (sum(ws) or 1.0))
    return out


class _Tally:
    """Per-evaluation running sums of one scoring pass: the whole evaluation's and the current section's."""

    def __init__(self, n: int) -> None:
        self.total_num = np.zeros(n)
        self.total_den = np.zeros(n)
        self.deducted_total = np.zeros(n)
        self.bonus_total = np.zeros(n)
        self.crit_eval = np.zeros(n, bool)
        self.failed_names = [[] for _ in range(n)]
        self.start_section(n)

    def start_section(self, n: int) -> None:
        """Reset the section sums (numerator, denominator, deducted, maximum deduction, critical failure)."""
        self.s_num, self.s_den, self.s_ded, self.s_max = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
        self.s_crit = np.zeros(n, bool)


def score(card: Scorecard, answers: pd.DataFrame, *, context: pd.DataFrame | None = None, style: str | None = None) -> ScoreResult:
    """Score evaluations against a scorecard.

    Parameters
    ----------
    card : Scorecard
    answers : DataFrame
        Long answers: ``evaluation_id, item_id, answer``. Items the card does not have are
        ignored (use :func:`check_answers` to reject them); missing items count as not answered.
    context : DataFrame, optional
        ``evaluation_id`` plus contact flags (``transferred``, ``escalated`` …) for
        ``when: {contact: …}`` conditions. Without it such items apply when answered.
    style : {"weighted", "deduction"}, optional
        Score in another style than the card's (what-if): a weighted card scored by
        deduction deducts each item's share of 100 points; a deduction card scored as
        weighted uses each item's ``deduct`` as its weight.

    Returns
    -------
    ScoreResult
    """
    _frame(answers)
    style = style or card.style
    if style not in STYLES:
        raise ParameterError(f"style must be one of {', '.join(STYLES)}; got {style!r}")
    evals = pd.Index(pd.unique(answers["evaluation_id"]), name="evaluation_id")
    n = len(evals)
    known = answers[answers["item_id"].isin(card.item_ids)]
    wide = known.pivot(index="evaluation_id", columns="item_id", values="answer").reindex(index=evals, columns=card.item_ids)
    ctx = _context_flags(card, context, evals)
    parsed = {it.id: _parse(it, wide[it.id].to_numpy(dtype=object)) for it in card.items}
    texts = {k: v[0] for k, v in parsed.items()}
    item_rows, sec_rows = [], []
    tally = _Tally(n)
    shares = _shares(card)
    for sec in card.sections:
        tally.start_section(n)
        s_weight = sec.weight if card.style == "weighted" else sum(it.deduct for it in sec.items if it.scored and not it.bonus)
        for it in sec.items:
            applies = _applicable(it, texts, ctx, n)
            item_rows.append(_score_item(card, style, it, sec.id, parsed[it.id], applies, evals, shares, tally))
        sec_rows.append(_score_section(style, sec.id, s_weight, evals, tally))
    totals = _score_totals(card, style, evals, tally)
    return ScoreResult(pd.concat(item_rows, ignore_index=True), pd.concat(sec_rows, ignore_index=True), totals)


def _item_credit(it: Item, value: np.ndarray, is_na: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An item's credit (0–1, N/A counted as a pass where its policy says so) and where N/A passed."""
    lo, hi = it.scale if it.kind == "scale" else (0.0, 1.0)
    if it.kind == "deduction":
        credit = 1 - np.minimum(value, it.max_count) / it.max_count
    elif it.kind == "scale":
        credit = (value - lo) / (hi - lo)
    else:
        credit = value
    na_pass = is_na & (it.na == "pass")
    return np.where(na_pass, 1.0, credit), na_pass


def _score_item(card: Scorecard, style: str, it: Item, section: str, parsed: tuple, applies: np.ndarray, evals: pd.Index,
                shares: dict[str, float], tally: _Tally) -> pd.DataFrame:
    """Score one item for every evaluation, add it to the tally, and return its rows of the items table."""
    n = len(evals)
    text, value, is_na, badv = parsed
    answered = ~np.isnan(value)
    applies = applies & (answered | is_na)
    lo = it.scale[0] if it.kind == "scale" else 0.0
    credit, na_pass = _item_credit(it, value, is_na)
    counted = applies & (answered | na_pass) & it.scored
    failed = applies & answered & ((value == 0) if it.kind in ("yes_no", "yes_partial_no") else (value == lo) if it.kind == "scale" else (value > 0))
    crit = failed & (it.critical is not None)
    if it.bonus:
        bonus = np.where(counted, it.points * credit, 0.0)
        tally.bonus_total += np.nan_to_num(bonus)
        ded = np.zeros(n)
    else:
        bonus = np.zeros(n)
        if style == "weighted":
            w = it.weight if card.style == "weighted" else it.deduct
            tally.s_num += np.where(counted, w * np.nan_to_num(credit), 0.0)
            tally.s_den += np.where(counted, w, 0.0)
            ded = np.zeros(n)
        else:
            per_fault = it.deduct if card.style == "deduction" else shares[it.id]
            if it.kind == "deduction":
                ded = np.where(counted, per_fault * np.nan_to_num(np.minimum(value, it.max_count)), 0.0)
                tally.s_max += np.where(counted, per_fault * it.max_count, 0.0)
            else:
                ded = np.where(counted, per_fault * (1 - np.nan_to_num(credit)), 0.0)
                tally.s_max += np.where(counted, per_fault, 0.0)
            tally.s_ded += ded
    if it.critical == "evaluation":
        tally.crit_eval |= crit
    elif it.critical == "section":
        tally.s_crit |= crit
    for k in np.flatnonzero(failed & it.scored & ~it.bonus):
        tally.failed_names[k].append(it.id)
    return pd.DataFrame({
        "evaluation_id": evals, "item_id": it.id, "section": section, "answer": text, "applicable": applies,
        "credit": np.where(counted | (applies & it.bonus), credit, np.nan), "deducted": ded, "bonus": bonus,
        "failed": failed, "critical": crit,
    })


def _score_section(style: str, section: str, s_weight: float, evals: pd.Index, tally: _Tally) -> pd.DataFrame:
    """Close one section: its score from the tally, added to the evaluation's sums; its rows of the sections table."""
    n = len(evals)
    if style == "weighted":
        s_score = np.where(tally.s_den > 0, 100 * tally.s_num / np.where(tally.s_den > 0, tally.s_den, 1), np.nan)
        s_score = np.where(tally.s_crit & (tally.s_den > 0), 0.0, s_score)
        has = ~np.isnan(s_score)
        tally.total_num += np.where(has, s_weight * np.nan_to_num(s_score), 0.0)
        tally.total_den += np.where(has, s_weight, 0.0)
        s_ded_out = np.full(n, np.nan)
    else:
        s_ded = np.where(tally.s_crit, tally.s_max, tally.s_ded)
        s_score = np.where(tally.s_max > 0, 100 * (1 - s_ded / np.where(tally.s_max > 0, tally.s_max, 1)), np.nan)
        tally.deducted_total += s_ded
        s_ded_out = s_ded
    return pd.DataFrame({"evaluation_id": evals, "section": section, "score": s_score, "deducted": s_ded_out, "critical_failed": tally.s_crit})


def _score_totals(card: Scorecard, style: str, evals: pd.Index, tally: _Tally) -> pd.DataFrame:
    """The totals table: one row per evaluation with its total, band, critical failure and failed items."""
    if style == "weighted":
        base = np.where(tally.total_den > 0, tally.total_num / np.where(tally.total_den > 0, tally.total_den, 1), np.nan)
    else:
        base = np.maximum(0.0, 100.0 - tally.deducted_total)
    total = np.where(tally.crit_eval, 0.0, base + tally.bonus_total)
    return pd.DataFrame({
        "evaluation_id": evals, "scorecard_id": card.id, "scorecard_version": card.version, "style": style,
        "total": total, "band": _band(total, card.bands), "critical_failed": tally.crit_eval,
        "failed_items": [",".join(f) for f in tally.failed_names],
    })


# ----------------------------------------------------------------------------- what-if
def rescore(answers: pd.DataFrame, evaluations: pd.DataFrame, card: Scorecard, *, style: str | None = None,
            context: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score stored answers under another scorecard version or style, without touching them.

    Parameters
    ----------
    answers : DataFrame
        ``evaluation_id, item_id, answer`` as stored.
    evaluations : DataFrame
        ``evaluation_id, agent_id, total_score`` (the stored, original totals).
    card : Scorecard
        The scorecard to score with (items are matched by id; items the card lacks are
        ignored, items it adds count as not answered).
    style : {"weighted", "deduction"}, optional
        Score in another style than the card's.

    Returns
    -------
    DataFrame
        One row per evaluation: ``evaluation_id, agent_id, original, what_if, change``.
    """
    for col in ("evaluation_id", "agent_id", "total_score"):
        if col not in evaluations.columns:
            raise ParameterError(f"evaluations must have columns evaluation_id, agent_id, total_score; missing {col!r}")
    new = score(card, answers, context=context, style=style).totals.set_index("evaluation_id")["total"]
    out = evaluations[["evaluation_id", "agent_id", "total_score"]].rename(columns={"total_score": "original"}).copy()
    out["what_if"] = out["evaluation_id"].map(new).astype(float)
    out["change"] = out["what_if"] - out["original"]
    return out.reset_index(drop=True)


def ranking_changes(rescored: pd.DataFrame) -> pd.DataFrame:
    """Agents' mean score and rank (1 = best) before and after a what-if rescore.

    Returns one row per agent, sorted by the largest rank movement first:
    ``agent_id, n, original_mean, what_if_mean, original_rank, what_if_rank, rank_change``
    (positive ``rank_change`` = moves up).
    """
    g = rescored.groupby("agent_id").agg(n=("evaluation_id", "size"), original_mean=("original", "mean"), what_if_mean=("what_if", "mean"))
    g["original_rank"] = g["original_mean"].rank(ascending=False, method="min").astype(int)
    g["what_if_rank"] = g["what_if_mean"].rank(ascending=False, method="min").astype(int)
    g["rank_change"] = g["original_rank"] - g["what_if_rank"]
    g = g.reset_index()
    return g.reindex(g["rank_change"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)
