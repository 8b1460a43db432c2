"""Scorecards as files: read from YAML or an Excel workbook, written to Excel, compared, listed and shown.

The workbook (:func:`scorecard_to_xlsx`) has three sheets: ``表头`` (the card: one row per key — id, version,
style, names, applies_to, bands), ``评分项`` (the items: one row per item, its section repeated on each row) and
``说明`` (what each column holds). :func:`scorecard_from_xlsx` turns such a workbook back into YAML text and
validates it with :func:`qa_lib.rubric.load_scorecard`; every problem is located as ``sheet!cell``
(``card.xlsx:5:评分项!J5: must be one of yes_no, …; got 'yes_noo'``). YAML → workbook → YAML gives a card whose
definition compares equal (:func:`same_definition`) and so scores identically.

>>> card = read_scorecard('''
... id: demo
... version: 1
... style: weighted
... name: {zh: 演示, en: Demo}
... sections:
...   - id: s
...     name: {zh: 全部, en: All}
...     items:
...       - {id: greet, kind: yes_no, label: {zh: 问候, en: Greeting}}
... ''')
>>> split_reference("my_inbound_card:2"), split_reference("demo")
(('my_inbound_card', 2), ('demo', None))
>>> diff_scorecards(card, card).empty
True
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .errors import ParameterError, Problem, ValidationError
from .files import FORMULA_START, atomic_path, write_xlsx
from .ingest import ImportLimits, column_letter, guard_file, safe_yaml
from .rubric import Scorecard, load_scorecard

__all__ = [
    "CARD_SHEET", "ITEM_SHEET", "GUIDE_SHEET", "CARD_ROWS", "ITEM_COLUMNS", "REQUIRED_ITEM_COLUMNS", "CARD_FILE_SUFFIXES",
    "read_scorecard", "scorecard_from_xlsx", "scorecard_to_xlsx", "export_scorecard", "same_definition", "diff_scorecards",
    "scorecard_table", "scorecard_catalog", "split_reference",
]

CARD_SHEET, ITEM_SHEET, GUIDE_SHEET = "表头", "评分项", "说明"
_SHEET_ALIASES = {CARD_SHEET: (CARD_SHEET, "card"), ITEM_SHEET: (ITEM_SHEET, "items")}
CARD_FILE_SUFFIXES = (".yaml", ".yml", ".xlsx")

#: The card sheet's rows: key, Chinese name, what the value is.
CARD_ROWS = (
    ("id", "编号", "lower-case letters, digits and _, e.g. my_inbound_card"),
    ("version", "版本", "whole number ≥ 1; a stored version never changes"),
    ("style", "计分方式", "weighted | deduction"),
    ("name_zh", "名称", "the card's name in Chinese"),
    ("name_en", "英文名称", "the card's name in English"),
    ("description", "描述", "optional free text"),
    ("description_zh", "中文描述", "optional, with description_en instead of description"),
    ("description_en", "英文描述", "optional, with description_zh"),
    ("direction", "适用方向", "applies_to.direction: inbound | outbound; blank: any"),
    ("contact_types", "适用联络类型", "applies_to.contact_types, comma-separated; blank: any"),
    ("bands", "分档", "descending numbers, comma-separated, e.g. 90, 80, 70, 60"),
)
#: The items sheet's columns: key, Chinese header, what the cell holds.
ITEM_COLUMNS = (
    ("section_id", "环节编号", "section id (lower-case letters, digits, _); blank: the section of the row above"),
    ("section_name_zh", "环节名称", "section name in Chinese (first row of the section is enough)"),
    ("section_name_en", "环节英文名称", "section name in English"),
    ("section_weight", "环节权重", "weighted style: the section's share of the total (default 1)"),
    ("item_id", "评分项编号", "item id (lower-case letters, digits, _), unique in the card"),
    ("label_zh", "评分项", "the item's label in Chinese"),
    ("label_en", "评分项英文", "the item's label in English"),
    ("guidance_zh", "评分说明", "guidance for the inspector in Chinese (optional, with guidance_en)"),
    ("guidance_en", "评分说明英文", "guidance in English"),
    ("kind", "类型", "yes_no | yes_partial_no | scale | deduction"),
    ("weight", "权重", "weighted style: weight inside the section, number ≥ 0 (default 1)"),
    ("deduct", "扣分", "deduction style: points per fault, number ≥ 0 (required there)"),
    ("scale_min", "量表最小值", "kind scale: lowest value"),
    ("scale_max", "量表最大值", "kind scale: highest value"),
    ("max_count", "最多次数", "kind deduction: most faults counted, whole number ≥ 1 (default 10)"),
    ("critical", "致命", "evaluation | section | blank"),
    ("na", "不适用", "N/A policy: not_allowed | exclude | pass (default not_allowed)"),
    ("skills", "技能", "skill tags, comma-separated"),
    ("bonus", "加分项", "TRUE for a bonus item (default FALSE)"),
    ("points", "加分", "bonus item: points > 0"),
    ("scored", "计分", "FALSE for a context question, recorded but not scored (default TRUE)"),
    ("when", "条件", "{item: ID, in: [answers]} or {contact: [transferred, escalated, abandoned, customer_opted_out]}"),
    ("auto", "自动规则", "optional: the item's auto-QA rules, the YAML text of its auto mapping (docs/autoqa.md, Rules)"),
)
REQUIRED_ITEM_COLUMNS = ("section_id", "section_name_zh", "section_name_en", "item_id", "label_zh", "label_en", "kind")
_REQUIRED_NOTE = {"weight": " (column required in the weighted style)", "section_weight": " (column required in the weighted style)",
                  "deduct": " (column required in the deduction style)"}
_NUMBER_COLUMNS = ("section_weight", "weight", "deduct", "scale_min", "scale_max", "max_count", "points")
_CHOICE_COLUMNS = ("section_id", "item_id", "kind", "critical", "na")
_FLAG_COLUMNS = ("bonus", "scored")
_TRUE = {"true", "yes", "y", "1", "是", "对", "√"}
_FALSE = {"false", "no", "n", "0", "否", "不", "×"}
#: A scorecard workbook is small: far below the import limits (a card of 20,000 items is not a scorecard).
_LIMITS = ImportLimits(max_rows=20_000, max_cells=1_000_000, max_file_mb=50.0, max_expanded_mb=200.0)
_REF = re.compile(r"^([a-z][a-z0-9_]{0,63})(?::(\d+))?$")
_PATH = re.compile(r"sections\[\d+\](?:\.items\[\d+\])?")
#: Item keys whose change alters scores (the others change wording, training tags or nothing a score depends on).
_ITEM_KEYS = ("section", "kind", "weight", "deduct", "critical", "na", "bonus", "points", "scored", "when", "scale", "max_count",
              "label", "guidance", "skills", "auto")
_WORDING = {"label", "guidance", "skills", "auto", "name", "applies_to", "id", "version", "order", "description"}


# ------------------------------------------------------------------------------ reading any source
def split_reference(text: str) -> tuple[str, int | None]:
    """``ID`` or ``ID:VERSION`` of a stored scorecard as ``(id, version or None)``."""
    m = _REF.match(str(text).strip())
    if not m:
        raise ParameterError(f"a scorecard must be a .yaml, .yml or .xlsx file, or ID / ID:VERSION of a stored one "
                             f"(e.g. my_inbound_card:2); got {str(text)!r}")
    return m.group(1), int(m.group(2)) if m.group(2) else None


def is_card_file(text) -> bool:
    """True when ``text`` names a scorecard file by its extension (.yaml, .yml, .xlsx)."""
    return isinstance(text, os.PathLike) or (isinstance(text, str) and "\n" not in text and text.lower().endswith(CARD_FILE_SUFFIXES))


def read_scorecard(source) -> Scorecard:
    """A validated scorecard from a .yaml/.yml or .xlsx file, YAML text, or a :class:`Scorecard` (returned as is)."""
    if isinstance(source, Scorecard):
        return source
    if is_card_file(source):
        path = Path(source)
        if path.suffix.lower() == ".xlsx":
            return load_scorecard(scorecard_from_xlsx(path))
        if path.suffix.lower() in (".yaml", ".yml"):
            return load_scorecard(path)
        raise ParameterError(f"scorecard file must end in {', '.join(CARD_FILE_SUFFIXES)}; got {path.name!r}")
    if isinstance(source, str) and "\n" in source:
        return load_scorecard(source)
    raise ParameterError(f"source must be a scorecard file ({', '.join(CARD_FILE_SUFFIXES)}), YAML text or a Scorecard; got {source!r}")


def same_definition(a: Scorecard, b: Scorecard) -> bool:
    """True when two cards define the same scorecard (everything but the YAML's layout and comments)."""
    return dataclasses.replace(a, text="") == dataclasses.replace(b, text="")


# ------------------------------------------------------------------------------ writing
def _plain(v):
    """A number as people write it: 15 rather than 15.0."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _bilingual(d: dict, what: str) -> tuple:
    """The zh and en texts of a label or name (None when absent), refusing languages a workbook has no column for."""
    extra = sorted(set(d) - {"zh", "en"})
    if extra:
        raise ParameterError(f"{what} may hold only zh and en text to go into a workbook; got also {extra}")
    return d.get("zh"), d.get("en")


def _flow(value) -> str:
    """A small mapping or list as one line of YAML flow text."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10**9).strip()


def _card_frame(card: Scorecard, raw: dict) -> pd.DataFrame:
    """The card sheet: one row per key of the card (optional keys only when the card has them)."""
    zh, en = _bilingual(card.name, "name")
    applies = dict(card.applies_to or {})
    extra = sorted(set(applies) - {"direction", "contact_types"})
    types = applies.get("contact_types")
    if extra or not (types is None or (isinstance(types, list) and all(isinstance(t, str) for t in types))):
        raise ParameterError(f"applies_to may hold only direction and a list of contact_types to go into a workbook; got {applies!r}")
    values = {"id": card.id, "version": card.version, "style": card.style, "name_zh": zh, "name_en": en,
              "direction": applies.get("direction"), "contact_types": ", ".join(types) if types else None,
              "bands": ", ".join(f"{_plain(float(b))}" for b in card.bands)}
    desc = raw.get("description")
    if isinstance(desc, dict):
        values["description_zh"], values["description_en"] = _bilingual(desc, "description")
    elif desc is not None:
        values["description"] = str(desc)
    rows = [(f"{name} ({key})", values[key]) for key, name, _ in CARD_ROWS if key in values and (values[key] is not None or key in ("direction", "contact_types"))]
    return pd.DataFrame(rows, columns=["字段 (key)", "值 (value)"], dtype=object)


def _item_row(card: Scorecard, section, it) -> dict:
    """One row of the items sheet: every setting that differs from the loader's default or matters for the kind and style."""
    weighted, ded = card.style == "weighted", card.style == "deduction"
    lz, le = _bilingual(it.label, f"item {it.id} label")
    gz, ge = _bilingual(it.guidance, f"item {it.id} guidance")
    sz, se = _bilingual(section.name, f"section {section.id} name")
    return {
        "section_id": section.id, "section_name_zh": sz, "section_name_en": se,
        "section_weight": _plain(section.weight) if weighted or section.weight != 1.0 else None,
        "item_id": it.id, "label_zh": lz, "label_en": le, "guidance_zh": gz, "guidance_en": ge, "kind": it.kind,
        "weight": _plain(it.weight) if weighted or it.weight != 1.0 else None,
        "deduct": _plain(it.deduct) if ded or it.deduct != 0.0 else None,
        "scale_min": _plain(it.scale[0]) if it.kind == "scale" or it.scale != (0.0, 5.0) else None,
        "scale_max": _plain(it.scale[1]) if it.kind == "scale" or it.scale != (0.0, 5.0) else None,
        "max_count": it.max_count if it.kind == "deduction" or it.max_count != 10 else None,
        "critical": it.critical, "na": it.na, "skills": ", ".join(it.skills) or None, "bonus": it.bonus,
        "points": _plain(it.points) if it.bonus or it.points != 0.0 else None, "scored": it.scored,
        "when": _flow(it.when) if it.when is not None else None,
        "auto": yaml.safe_dump(it.auto, allow_unicode=True, sort_keys=False, width=10**9).strip() if it.auto is not None else None,
    }


def _header(key: str, name: str) -> str:
    return f"{name} ({key})"


def scorecard_to_xlsx(card_or_yaml, path: str | os.PathLike) -> Path:
    """Write a scorecard (a :class:`Scorecard`, a YAML file or YAML text) as a workbook that
    :func:`scorecard_from_xlsx` reads back to the same definition.

    Goes through :func:`qa_lib.files.write_xlsx` (formula-like text gets a leading ``'``, written atomically). A
    scorecard holds no customer data, so its text is not PII-masked: masking would change the definition.
    """
    card = read_scorecard(card_or_yaml)
    raw = safe_yaml(card.text, "<scorecard>") if card.text else {}
    rows = [_item_row(card, s, it) for s in card.sections for it in s.items]
    items = pd.DataFrame(rows, columns=[k for k, _, _ in ITEM_COLUMNS], dtype=object)
    items.columns = [_header(k, n) for k, n, _ in ITEM_COLUMNS]
    guide = pd.DataFrame(
        [(f"{CARD_SHEET}!A", _header(k, n), what) for k, n, what in CARD_ROWS]
        + [(f"{ITEM_SHEET}!{column_letter(i)}", _header(k, n), what + _REQUIRED_NOTE.get(k, " (required)" if k in REQUIRED_ITEM_COLUMNS else ""))
           for i, (k, n, what) in enumerate(ITEM_COLUMNS)],
        columns=["位置 (where)", "列 (column)", "含义 (meaning)"])
    sheets = {CARD_SHEET: _card_frame(card, raw if isinstance(raw, dict) else {}), ITEM_SHEET: items, GUIDE_SHEET: guide}
    keep = {c for f in sheets.values() for c in f.columns}  # defused, never masked: masking would change the definition
    return write_xlsx(sheets, path, ids=keep)


def export_scorecard(card: Scorecard, path: str | os.PathLike) -> Path:
    """Write ``card`` to ``path``: a workbook for .xlsx, its YAML text (as stored, comments kept) for .yaml/.yml."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return scorecard_to_xlsx(card, path)
    if suffix not in (".yaml", ".yml"):
        raise ParameterError(f"out must end in .xlsx, .yaml or .yml; got {path.name!r}")
    with atomic_path(path) as tmp:
        tmp.write_text(card.text if card.text.endswith("\n") else card.text + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ reading a workbook
def _key(text) -> str:
    """The key of a header or a card-sheet row: the English in brackets (``类型 (kind)`` → ``kind``), else the text."""
    s = str(text).strip()
    m = re.search(r"[(（]\s*([A-Za-z_.]+)\s*[)）]\s*$", s)
    return (m.group(1) if m else s).lower()


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _undefused(v):
    """Text as it was before :func:`qa_lib.files.safe_cell` defused it (the leading ``'`` before ``= + - @`` dropped)."""
    if isinstance(v, str) and len(v) > 1 and v[0] == "'" and v[1] in FORMULA_START:
        return v[1:]
    return v


def _workbook(path: Path, source: str) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """The card and items sheets as (values, is-formula) frames, row 0 being spreadsheet row 1."""
    from openpyxl import load_workbook

    try:
        guard_file(path, source=source, limits=_LIMITS)  # before openpyxl unpacks anything
    except ValidationError as exc:  # the import limits' advice (raise QA_MAX_…) does not apply to a scorecard's fixed limits
        why = re.sub(r" is over the import limit of ([\d,.]+)(.*?) \(QA_MAX_\w+\).*$", r" is over the \1\2 a scorecard workbook may have",
                     exc.problems[0].message)
        raise ValidationError([Problem(source, 0, "", why)], source) from None
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises several types for a file that is not a workbook
        raise ValidationError([Problem(source, 0, "", f"not a readable .xlsx workbook: {type(exc).__name__}: {exc}")], source) from None
    try:
        names = {_key(n): n for n in wb.sheetnames}
        out = {}
        for sheet, aliases in _SHEET_ALIASES.items():
            found = next((names[a] for a in aliases if a in names), None)
            if found is None:
                raise ValidationError([Problem(source, 0, sheet, f"the workbook has no sheet {sheet} ({aliases[1]}); its sheets: "
                                               f"{', '.join(wb.sheetnames)}")], source)
            ws = wb[found]
            ws.reset_dimensions()  # the rows and cells the sheet holds, not a declared <dimension> that could be A1:XFD1048576
            cells = [[(c.value, c.data_type == "f") for c in row] for row in ws.iter_rows()]
            width = max((len(r) for r in cells), default=0)
            values = pd.DataFrame([[v for v, _ in r] + [None] * (width - len(r)) for r in cells], dtype=object)
            formulas = pd.DataFrame([[f for _, f in r] + [False] * (width - len(r)) for r in cells], dtype=bool)
            out[sheet] = (values, formulas)
        return out
    finally:
        wb.close()


class _Located:
    """Problems of one workbook, each at a sheet!cell; and where each YAML path of the card it becomes came from."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self.where: dict[str, tuple[int, str]] = {}

    def bad(self, sheet: str, row: int, col: int, message: str) -> None:
        """A problem at a cell (row and column 0-based as in the frames)."""
        self.problems.append(Problem(self.source, row + 1, f"{sheet}!{column_letter(col)}{row + 1}", message))

    def at(self, path: str, sheet: str, row: int, col: int) -> None:
        """Record that YAML ``path`` comes from a cell."""
        self.where[path] = (row + 1, f"{sheet}!{column_letter(col)}{row + 1}")

    def locate(self, p: Problem) -> Problem:
        """A rubric problem (its column a YAML path) moved to the cell the path came from."""
        probe = p.column
        while probe not in self.where and probe:
            shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
            probe = "" if shorter == probe else shorter
        message = _PATH.sub(lambda m: self.where[m.group()][1] if m.group() in self.where else m.group(), p.message)
        if probe in self.where:
            row, cell = self.where[probe]
            return Problem(self.source, row, cell, message)
        what = {k: _header(k, n) for k, n, _ in CARD_ROWS}.get(f"{p.column}_zh" if p.column == "name" else p.column, p.column)
        return Problem(self.source, 0, CARD_SHEET, f"missing row {what}" if message == "missing" else f"{what}: {message}")


def _cell_values(values: pd.DataFrame, formulas: pd.DataFrame, sheet: str, loc: _Located) -> pd.DataFrame:
    """Cell values with formulas refused (located) and blanked, and defused text restored."""
    for r, c in np.argwhere(formulas.to_numpy()):
        loc.bad(sheet, int(r), int(c), f"a formula ({str(values.iat[r, c])[:40]}) is not allowed in a scorecard: type the value")
    return values.mask(formulas).map(_undefused)


def _number(v):
    """A number cell or numeric text as int or float; None when blank; anything else returned unchanged."""
    if _blank(v):
        return None
    if isinstance(v, str):
        try:
            v = float(v.strip().replace("，", ","))
        except ValueError:
            return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _plain(float(v)) if np.isfinite(v) else v
    return v


def _flag(v):
    """A TRUE/FALSE cell (or 是/否, yes/no, 1/0); None when blank; anything else returned unchanged."""
    if _blank(v) or isinstance(v, bool):
        return None if _blank(v) else v
    s = str(_plain(v) if isinstance(v, float) else v).strip().lower()
    return True if s in _TRUE else False if s in _FALSE else v


def _text(v, *, choice: bool = False):
    """A text cell (numbers as written, 15 not 15.0); ids and choices trimmed and lower-cased; None when blank."""
    if _blank(v):
        return None
    s = str(_plain(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
    return s.strip().lower() if choice else s


def _tags(v):
    """Skill tags from a comma-separated cell."""
    if _blank(v):
        return None
    return [t for t in re.split(r"[,，、;；\s]+", str(v)) if t]


def _card_part(values: pd.DataFrame, loc: _Located) -> dict:
    """The card's keys from the card sheet (row 1 is a header, then one key and its value per row)."""
    keys = {k: k for k, _, _ in CARD_ROWS} | {n.lower(): k for k, n, _ in CARD_ROWS}
    raw: dict = {}
    seen: dict[str, int] = {}
    for r in range(1, len(values)):
        label, value = values.iat[r, 0], values.iat[r, 1] if values.shape[1] > 1 else None
        if _blank(label):
            if not _blank(value):
                loc.bad(CARD_SHEET, r, 0, "a value without a key: name the row (e.g. 版本 (version))")
            continue
        key = keys.get(_key(label))
        if key is None:
            loc.bad(CARD_SHEET, r, 0, f"unknown key {str(label)!r}; allowed: {', '.join(_header(k, n) for k, n, _ in CARD_ROWS)}")
        elif key in seen:
            loc.bad(CARD_SHEET, r, 0, f"key {key} given twice (first in row {seen[key] + 1})")
        elif not _blank(value):
            seen[key] = r
            raw[key] = value
    card: dict = {}
    for key in ("id", "version", "style"):
        if key in raw:
            card[key] = _number(raw[key]) if key == "version" else _text(raw[key], choice=True)
    name = {lang: _text(raw.get(f"name_{lang}")) for lang in ("zh", "en") if f"name_{lang}" in raw}
    if name:
        card["name"] = name
    if "description" in raw:
        card["description"] = _text(raw["description"])
    elif "description_zh" in raw or "description_en" in raw:
        card["description"] = {lang: _text(raw[f"description_{lang}"]) for lang in ("zh", "en") if f"description_{lang}" in raw}
    applies = {k: v for k, v in (("direction", _text(raw.get("direction"), choice=True)), ("contact_types", _tags(raw.get("contact_types")))) if v}
    if applies:
        card["applies_to"] = applies
    if "bands" in raw:
        card["bands"] = [_number(b) for b in re.split(r"[,，、;；\s]+", str(_plain(raw["bands"])).strip()) if b]
    for key, r in seen.items():
        path = {"name_zh": "name", "name_en": "name", "direction": "applies_to", "contact_types": "applies_to"}.get(key, key)
        if path not in loc.where or key == "name_zh":
            loc.at(path, CARD_SHEET, r, 1)
    return card


def _item_columns(values: pd.DataFrame, style, loc: _Located) -> dict[str, int]:
    """The items sheet's header: column index of each key; unknown, repeated and missing columns refused at once (the
    style's amount column, weight or deduct, is required too: without it every item would silently get the default)."""
    known = {k: k for k, _, _ in ITEM_COLUMNS} | {n.lower(): k for k, n, _ in ITEM_COLUMNS}
    cols: dict[str, int] = {}
    before = len(loc.problems)
    header = values.iloc[0] if len(values) else pd.Series(dtype=object)
    data = values.iloc[1:]
    for c, label in enumerate(header):
        if _blank(label):
            if data.iloc[:, c].map(lambda v: not _blank(v)).any():
                loc.bad(ITEM_SHEET, 0, c, "a column without a header holds values: name it (see the 说明 sheet)")
            continue
        key = known.get(_key(label))
        if key is None:
            loc.bad(ITEM_SHEET, 0, c, f"unknown column {str(label)!r}; allowed: {', '.join(_header(k, n) for k, n, _ in ITEM_COLUMNS)}")
        elif key in cols:
            loc.bad(ITEM_SHEET, 0, c, f"column {_header(key, dict((k, n) for k, n, _ in ITEM_COLUMNS)[key])} given twice "
                                     f"(first in column {column_letter(cols[key])})")
        else:
            cols[key] = c
    amount = {"weighted": ("weight", "section_weight"), "deduction": ("deduct",)}.get(style, ())
    missing = [_header(k, n) for k, n, _ in ITEM_COLUMNS if (k in REQUIRED_ITEM_COLUMNS or k in amount) and k not in cols]
    if missing:
        loc.problems.append(Problem(loc.source, 1, f"{ITEM_SHEET}!1:1", f"missing column{'s' * (len(missing) > 1)} {', '.join(missing)}"))
    if len(loc.problems) > before:
        raise ValidationError(loc.problems, loc.source)
    return cols


def _item_frame(values: pd.DataFrame, cols: dict[str, int], loc: _Located) -> pd.DataFrame:
    """One row per item with typed values (``_row`` the 0-based sheet row); blank rows dropped, sections filled down."""
    data = values.iloc[1:]
    data = data[~data.map(_blank).all(axis=1)]
    if data.empty:
        loc.bad(ITEM_SHEET, 1, 0, "no items below the header")
        raise ValidationError(loc.problems, loc.source)
    f = pd.DataFrame({k: data.iloc[:, c] for k, c in cols.items()}, index=data.index).astype(object)
    for k in f.columns:
        conv = (lambda v: _text(v, choice=True)) if k in _CHOICE_COLUMNS else _number if k in _NUMBER_COLUMNS else _flag if k in _FLAG_COLUMNS \
            else _tags if k == "skills" else _text
        f[k] = pd.Series([conv(v) for v in f[k]], index=f.index, dtype=object)  # map() would turn None into NaN
    for k in _NUMBER_COLUMNS:
        if k in f.columns:
            bad = f[k].map(lambda v: v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)))
            for r in f.index[bad.to_numpy()]:
                loc.bad(ITEM_SHEET, r, cols[k], f"must be a number; got {f.at[r, k]!r}")
            f.loc[bad, k] = None
    f["_row"] = f.index
    if f["section_id"].iloc[0] is None:
        loc.bad(ITEM_SHEET, int(f.index[0]), cols["section_id"], "the first item needs a section id")
    f["section_id"] = f["section_id"].ffill().fillna("section")
    starts = f["section_id"].ne(f["section_id"].shift())
    again = starts & f["section_id"].duplicated()
    for r in f.index[again.to_numpy()]:
        first = int(f.index[(f["section_id"] == f.at[r, "section_id"]).to_numpy()][0]) + 1
        loc.bad(ITEM_SHEET, r, cols["section_id"], f"section {f.at[r, 'section_id']!r} started in row {first}: keep a section's rows together")
    return f


def _section_value(part: pd.DataFrame, key: str, cols: dict[str, int], loc: _Located):
    """A section's name or weight: the first non-blank cell of its rows, and a problem at any other that differs."""
    if key not in part.columns:
        return None, int(part["_row"].iloc[0])
    given = part[part[key].map(lambda v: v is not None)]
    if given.empty:
        return None, int(part["_row"].iloc[0])
    first = given[key].iloc[0]
    for r, v in zip(given["_row"].iloc[1:], given[key].iloc[1:]):
        if v != first:
            loc.bad(ITEM_SHEET, int(r), cols[key], f"section {part['section_id'].iloc[0]!r} has {first!r} in row {int(given['_row'].iloc[0]) + 1}; got {v!r}")
    return first, int(given["_row"].iloc[0])


def _when(v, r: int, col: int, loc: _Located):
    """A condition cell parsed as YAML flow text (unquoted yes/no in ``in`` read as answers)."""
    if not isinstance(v, str):
        return v
    try:
        out = safe_yaml(v, f"{ITEM_SHEET}!{column_letter(col)}{r + 1}")
    except ValidationError as exc:
        loc.bad(ITEM_SHEET, r, col, f"not a condition such as {{item: complained, in: [yes]}}: {exc.problems[0].message}")
        return None
    if isinstance(out, dict) and isinstance(out.get("in"), list):
        out["in"] = ["yes" if a is True else "no" if a is False else a for a in out["in"]]
    return out


def _auto(v, r: int, col: int, loc: _Located):
    """An auto-rules cell parsed as YAML text (the rules themselves are checked by ``qa_lib.autoqa.rules``)."""
    if not isinstance(v, str):
        return v
    try:
        return safe_yaml(v, f"{ITEM_SHEET}!{column_letter(col)}{r + 1}")
    except ValidationError as exc:
        loc.bad(ITEM_SHEET, r, col, f"not the YAML of an auto mapping such as {{rules: [{{kind: require, phrases: [您好]}}]}}: {exc.problems[0].message}")
        return None


def _item_dict(rec: dict, path: str, cols: dict[str, int], loc: _Located) -> dict:
    """One item of the YAML from its row; records where each of its keys came from."""
    r = rec["_row"]
    here = lambda k: cols.get(k, cols["item_id"])  # noqa: E731  a key without a column: the item's id cell
    item: dict = {"id": rec["item_id"], "kind": rec["kind"]}
    for k in ("weight", "deduct", "max_count", "critical", "na", "skills", "bonus", "points", "scored"):
        if rec.get(k) is not None and (k, rec[k]) not in (("bonus", False), ("scored", True)):  # the defaults need no key
            item[k] = rec[k]
    lo, hi = rec.get("scale_min"), rec.get("scale_max")
    if lo is not None or hi is not None:
        if lo is None or hi is None:
            loc.bad(ITEM_SHEET, r, cols["scale_min" if lo is None else "scale_max"], "a scale needs both its lowest and highest value")
        else:
            item["scale"] = [lo, hi]
    if rec.get("when") is not None:
        item["when"] = _when(rec["when"], r, cols["when"], loc)
    if rec.get("auto") is not None:
        item["auto"] = _auto(rec["auto"], r, cols["auto"], loc)
    for key in ("label", "guidance"):
        texts = {lang: rec.get(f"{key}_{lang}") for lang in ("zh", "en")}
        if key == "label" or any(t is not None for t in texts.values()):
            item[key] = {lang: t for lang, t in texts.items() if t is not None}
            blank = next((lang for lang, t in texts.items() if t is None), "zh")
            loc.at(f"{path}.{key}", ITEM_SHEET, r, here(f"{key}_{blank}"))
    loc.at(path, ITEM_SHEET, r, cols["item_id"])
    for k in ("id", "kind", "weight", "deduct", "max_count", "critical", "na", "skills", "bonus", "points", "scored", "when", "auto"):
        loc.at(f"{path}.{k}", ITEM_SHEET, r, here("item_id" if k == "id" else k))
    loc.at(f"{path}.scale", ITEM_SHEET, r, here("scale_min"))
    return item


def _sections(f: pd.DataFrame, cols: dict[str, int], loc: _Located) -> list[dict]:
    """The card's sections, in sheet order, each with its items."""
    out = []
    for i, (sid, part) in enumerate(f.groupby("section_id", sort=False)):
        sp = f"sections[{i}]"
        names = {lang: _section_value(part, f"section_name_{lang}", cols, loc) for lang in ("zh", "en")}
        weight, wrow = _section_value(part, "section_weight", cols, loc)
        sec: dict = {"id": sid, "name": {lang: v for lang, (v, _) in names.items() if v is not None}}
        if weight is not None:
            sec["weight"] = weight
        sec["items"] = [_item_dict(rec, f"{sp}.items[{j}]", cols, loc) for j, rec in enumerate(part.to_dict("records"))]
        first = int(part["_row"].iloc[0])
        loc.at(sp, ITEM_SHEET, first, cols["section_id"])
        loc.at(f"{sp}.id", ITEM_SHEET, first, cols["section_id"])
        blank = next((lang for lang, (v, _) in names.items() if v is None), "zh")
        loc.at(f"{sp}.name", ITEM_SHEET, names[blank][1], cols[f"section_name_{blank}"])
        loc.at(f"{sp}.weight", ITEM_SHEET, wrow, cols.get("section_weight", cols["section_id"]))
        out.append(sec)
    return out


def scorecard_from_xlsx(path: str | os.PathLike) -> str:
    """The YAML text of a scorecard workbook (see :func:`scorecard_to_xlsx`), validated.

    Raises :class:`ValidationError` listing every problem at its ``sheet!cell`` (row = the sheet's row): a missing
    sheet or column, an unknown column, a formula, a number that is not one, a section split over the sheet, and
    every problem :func:`qa_lib.rubric.load_scorecard` finds (an unknown kind, a missing label, a condition on a
    missing item …).
    """
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise ParameterError(f"path must be an existing .xlsx file; got {str(path)!r}")
    sheets = _workbook(path, source)
    loc = _Located(source)
    card_values = _cell_values(*sheets[CARD_SHEET], CARD_SHEET, loc)
    item_values = _cell_values(*sheets[ITEM_SHEET], ITEM_SHEET, loc)
    card = _card_part(card_values, loc)
    cols = _item_columns(item_values, card.get("style"), loc)
    card["sections"] = _sections(_item_frame(item_values, cols, loc), cols, loc)
    text = yaml.safe_dump(card, allow_unicode=True, sort_keys=False, default_flow_style=None, width=10**9)
    problems = list(loc.problems)
    try:
        load_scorecard(text)
    except ValidationError as exc:
        taken = {p.column for p in problems}
        problems += [q for q in map(loc.locate, exc.problems) if q.column not in taken]
    if problems:
        raise ValidationError(problems, source)
    return text


# ------------------------------------------------------------------------------ comparing, listing, showing
def _fmt(v) -> str:
    """A setting's value for a diff line."""
    if v is None or v == {} or v == ():
        return "—"
    if isinstance(v, dict) and set(v) <= {"zh", "en"}:
        return " / ".join(str(v[k]) for k in ("zh", "en") if k in v)
    if isinstance(v, dict):
        return _flow(v)
    if isinstance(v, tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _changes(a, b, keys) -> list[tuple[str, str]]:
    """(key, 'old → new') for each of ``keys`` whose value differs between two objects."""
    return [(k, f"{k}: {_fmt(getattr(a, k))} → {_fmt(getattr(b, k))}") for k in keys if getattr(a, k) != getattr(b, k)]


def _row(level: str, ident: str, change: str, diffs: list[tuple[str, str]] | None = None, detail: str = "") -> dict:
    keys = [k for k, _ in diffs or []]
    return {"level": level, "id": ident, "change": change, "keys": ", ".join(keys),
            "detail": "; ".join(d for _, d in diffs or []) or detail, "scoring": change != "changed" or bool(set(keys) - _WORDING)}


def diff_scorecards(a: Scorecard, b: Scorecard) -> pd.DataFrame:
    """What changes from scorecard ``a`` to ``b``: one row per changed card, section or item.

    Columns: ``level`` (card, section, item), ``id``, ``change`` (added, removed, changed), ``keys`` (the keys that
    changed), ``detail`` (``weight: 1 → 2; …``) and ``scoring`` (True when the change can alter a score or band;
    False for wording, skill tags, applies_to or order). Items are matched by id, wherever their section.
    """
    rows = []
    card = _changes(a, b, ("id", "version", "style", "name", "bands", "applies_to"))
    common = [s.id for s in a.sections if s.id in {t.id for t in b.sections}]
    if common != [s.id for s in b.sections if s.id in set(common)]:
        card.append(("order", "section order: " + ", ".join(common) + " → " + ", ".join(s.id for s in b.sections if s.id in set(common))))
    if card:
        rows.append(_row("card", b.id, "changed", card))
    sa_, sb = {s.id: s for s in a.sections}, {s.id: s for s in b.sections}
    for sid in [*sa_, *(s for s in sb if s not in sa_)]:
        if sid not in sb or sid not in sa_:
            s = sa_.get(sid) or sb[sid]
            rows.append(_row("section", sid, "removed" if sid not in sb else "added", detail=f"{_fmt(s.name)}, {len(s.items)} items"))
            continue
        diffs = _changes(sa_[sid], sb[sid], ("name", "weight"))
        ia = [it.id for it in sa_[sid].items if it.id in {x.id for x in sb[sid].items}]
        ib = [it.id for it in sb[sid].items if it.id in set(ia)]
        if ia != ib:
            diffs.append(("order", "item order: " + ", ".join(ia) + " → " + ", ".join(ib)))
        if diffs:
            rows.append(_row("section", sid, "changed", diffs))
    ia, ib = {it.id: it for it in a.items}, {it.id: it for it in b.items}
    for iid in [*ia, *(i for i in ib if i not in ia)]:
        if iid not in ib or iid not in ia:
            it = ia.get(iid) or ib[iid]
            rows.append(_row("item", iid, "removed" if iid not in ib else "added", detail=f"{it.section}: {_fmt(it.label)} ({it.kind})"))
        elif ia[iid] != ib[iid]:
            rows.append(_row("item", iid, "changed", _changes(ia[iid], ib[iid], _ITEM_KEYS)))
    return pd.DataFrame(rows, columns=["level", "id", "change", "keys", "detail", "scoring"])


_TABLE_HEAD = {
    "zh": {"item": "编号", "label": "评分项", "kind": "类型", "weight": "权重", "deduct": "扣分", "critical": "致命", "na": "不适用",
           "skills": "技能", "notes": "备注"},
    "en": {"item": "item", "label": "label", "kind": "kind", "weight": "weight", "deduct": "deduct", "critical": "critical", "na": "N/A",
           "skills": "skills", "notes": "notes"},
}
_NOTES = {
    "zh": {"bonus": "加分 +{p}", "unscored": "不计分", "when": "条件 {w}", "scale": "量表 {lo}–{hi}", "count": "最多 {n} 次"},
    "en": {"bonus": "bonus +{p}", "unscored": "not scored", "when": "when {w}", "scale": "scale {lo}–{hi}", "count": "at most {n} faults"},
}


def _notes(it, lang: str) -> str:
    """What else an item's row needs to say: bonus, unscored, condition, scale ends, most faults."""
    t = _NOTES[lang]
    out = [t["bonus"].format(p=_fmt(it.points))] * it.bonus + [t["unscored"]] * (not it.scored)
    out += [t["when"].format(w=_flow(it.when))] * (it.when is not None)
    out += [t["scale"].format(lo=_fmt(it.scale[0]), hi=_fmt(it.scale[1]))] * (it.kind == "scale")
    out += [t["count"].format(n=it.max_count)] * (it.kind == "deduction")
    return "; ".join(out)


def scorecard_table(card: Scorecard, lang: str = "zh") -> pd.DataFrame:
    """One row per item for reading: ``section`` plus the item's id, label, kind, weight (weighted style) or deduct
    (deduction style), critical, N/A policy, skills and notes, headed in ``lang`` (zh or en)."""
    if lang not in _TABLE_HEAD:
        raise ParameterError(f"lang must be one of zh, en; got {lang!r}")
    amount = "weight" if card.style == "weighted" else "deduct"
    rows = [{"section": s.id, "item": it.id, "label": it.label.get(lang) or it.label.get("en", ""), "kind": it.kind,
             amount: _fmt(getattr(it, amount)), "critical": it.critical or "—", "na": it.na, "skills": ", ".join(it.skills) or "—",
             "notes": _notes(it, lang) or "—"}
            for s in card.sections for it in s.items]
    return pd.DataFrame(rows).rename(columns=_TABLE_HEAD[lang])


def scorecard_catalog(stored: pd.DataFrame, evaluations: pd.DataFrame) -> pd.DataFrame:
    """The stored scorecard versions, one row each: ``id, version, name_zh, name_en, style, sections, items, stored_at,
    evaluations`` (how many evaluations, drafts included, were scored with that version).

    ``stored``: the scorecards table (``scorecard_id, version, definition, created_at``); ``evaluations``:
    ``scorecard_id, scorecard_version`` of every evaluation.
    """
    for frame, cols, what in ((stored, ("scorecard_id", "version", "definition", "created_at"), "stored"),
                              (evaluations, ("scorecard_id", "scorecard_version"), "evaluations")):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ParameterError(f"{what} must have columns {', '.join(cols)}; missing {missing}")
    cards = [load_scorecard(text) for text in stored["definition"]]  # one per stored version, not per data row
    out = pd.DataFrame({
        "id": stored["scorecard_id"].to_numpy(), "version": stored["version"].astype(int).to_numpy(),
        "name_zh": [c.name.get("zh", "") for c in cards], "name_en": [c.name.get("en", "") for c in cards],
        "style": [c.style for c in cards], "sections": [len(c.sections) for c in cards], "items": [len(c.items) for c in cards],
        "stored_at": pd.to_datetime(stored["created_at"]).to_numpy(),
    })
    used = evaluations.groupby(["scorecard_id", "scorecard_version"]).size()
    key = pd.MultiIndex.from_arrays([out["id"], out["version"]])
    out["evaluations"] = used.reindex(key, fill_value=0).to_numpy().astype(int) if len(used) else 0
    return out.sort_values(["id", "version"], kind="stable").reset_index(drop=True)
