"""Scoring sheets: the spreadsheet path many centers use today.

:func:`write_scoring_sheet` writes a blank .xlsx for an inspector — one row per contact,
one column per scorecard item with a dropdown of the allowed answers, the item's label
and guidance as the header's note, and a guide sheet in Chinese and English.
:func:`read_scoring_sheet` reads a filled sheet back into the long evaluations format of
``qa import evaluations``, so it gets exactly the same validation (all rows or none,
every problem located as ``file:row:column``). Rows with no answer at all are skipped
(not scored yet). A sheet filled over several days is imported again and again: rows stored
before are recognised, and a changed one needs a ``reason`` cell (改分原因), which the store
keeps in the evaluation's history. No database here: :mod:`qa_lib.store` imports the result.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import ParameterError, Problem, ValidationError
from .files import atomic_path, is_id_column, safe_cell
from .ingest import ROW
from .model import CENTER_TZ
from .rubric import Scorecard, check_answers

__all__ = ["write_scoring_sheet", "read_scoring_sheet", "CONTACT_COLUMNS", "EXPORT_ARM", "REASON_COLUMN"]

#: Contact columns shown left of the items (read-only context for the inspector).
CONTACT_COLUMNS = ["contact_id", "agent_id", "arm", "start_time", "channel", "queue", "topic", "talk_seconds", "recording_ref"]
_META = "meta"
#: The arm of a sheet's contacts that no saved sampling plan drew: ``qa score export`` draws unscored contacts at
#: random and writes no arm (a worklist sheet writes each contact's plan arm). The store refuses any other.
EXPORT_ARM = "random"
_SHEET = "score"
#: The column saying why a row imported before was changed (read under this name or its Chinese one, 改分原因).
REASON_COLUMN = "reason"
_REASON_HEADERS = (REASON_COLUMN, "改分原因")
_REASON_NOTE = {
    "zh": "改分原因：只在修改已经导入过的行时填写（为什么改）；修改会成为该评估的新版本，原版本保留在历史中。新行不用填。",
    "en": "Reason: fill in only when you change a row imported before (why); the change becomes a new version of the "
          "evaluation and the old one stays in its history. New rows need none.",
}


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or str(v).strip() == ""


def write_scoring_sheet(path: str | os.PathLike, card: Scorecard, contacts: pd.DataFrame, *, inspector_id: str,
                        sheet_id: str | None = None, lang: str = "zh") -> Path:
    """Write a blank scoring sheet for ``contacts`` and return its path.

    ``sheet_id`` names the sheet (evaluation ids are ``<sheet_id>-<contact_id>``, so
    importing the same sheet twice stores nothing new); default: a timestamp.
    """
    if lang not in ("zh", "en"):
        raise ParameterError(f"lang must be one of zh, en; got {lang!r}")
    missing = [c for c in ("contact_id", "agent_id") if c not in contacts.columns]
    if missing:
        raise ParameterError(f"contacts must have columns contact_id and agent_id; missing {missing}")
    if contacts.empty:
        raise ParameterError("contacts is empty: there is nothing to score")
    sheet_id = sheet_id or datetime.now().strftime("S%Y%m%d%H%M%S")
    wb = Workbook()
    ws = wb.active
    ws.title = _SHEET
    shown = [c for c in CONTACT_COLUMNS if c in contacts.columns]
    items = list(card.items)
    header = shown + [it.id for it in items] + ["comment", REASON_COLUMN]
    ws.append(header)
    bold, grey, blue = Font(bold=True), PatternFill("solid", fgColor="EEEEEE"), PatternFill("solid", fgColor="DDEBF7")
    for j in range(1, len(header) + 1):
        cell = ws.cell(row=1, column=j)
        cell.font = bold
        cell.fill = grey if j <= len(shown) else blue
    for j, it in enumerate(items, start=len(shown) + 1):
        note = f"{it.label.get(lang, it.id)}\n{it.guidance.get(lang, '')}".strip()
        extra = " (critical)" if it.critical else " (bonus)" if it.bonus else " (not scored)" if not it.scored else ""
        ws.cell(row=1, column=j).comment = Comment(note + extra, "qa")
    ws.cell(row=1, column=len(header)).comment = Comment(_REASON_NOTE[lang], "qa")
    for rec in contacts[shown].astype(object).where(contacts[shown].notna(), None).itertuples(index=False):
        ws.append([v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "strftime") else safe_cell(v, mask=not is_id_column(c)) for c, v in zip(shown, rec)])
    last = len(contacts) + 1
    for j, it in enumerate(items, start=len(shown) + 1):
        col = get_column_letter(j)
        if it.kind == "deduction":
            dv = DataValidation(type="whole", operator="between", formula1="0", formula2=str(it.max_count), allow_blank=True)
        elif it.options:
            dv = DataValidation(type="list", formula1='"' + ",".join(it.options) + '"', allow_blank=True)
        else:
            dv = DataValidation(type="decimal", operator="between", formula1=f"{it.scale[0]:g}", formula2=f"{it.scale[1]:g}", allow_blank=True)
        dv.error = f"{it.id}: " + ("/".join(it.options) if it.options else f"{it.scale[0]:g}..{it.scale[1]:g}")
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
        dv.add(f"{col}2:{col}{last}")
    ws.freeze_panes = ws.cell(row=2, column=len(shown) + 1)
    for j, name in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(22, len(name) + 2))
    guide = wb.create_sheet("guide")
    guide.append(["item_id", "section", "kind", "answers", "critical", "label_zh", "label_en", "guidance_zh", "guidance_en"])
    for it in items:
        guide.append([safe_cell(it.id, mask=False)] + [safe_cell(v) for v in (it.section, it.kind, "/".join(it.options) or f"{it.scale[0]:g}..{it.scale[1]:g}", it.critical or "",
                      it.label.get("zh"), it.label.get("en"), it.guidance.get("zh", ""), it.guidance.get("en", ""))])
    meta = wb.create_sheet(_META)
    for k, v in (("sheet_id", sheet_id), ("scorecard_id", card.id), ("scorecard_version", card.version),
                 ("inspector_id", inspector_id), ("exported_at", datetime.now().strftime("%Y-%m-%d %H:%M:%S"))):
        meta.append([k, v])
    meta.sheet_state = "hidden"
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def read_scoring_sheet(path: str | os.PathLike, card: Scorecard, *, status: str = "submitted",
                       evaluated_at: str | None = None, blank_arm: str | None = EXPORT_ARM) -> pd.DataFrame:
    """Read a filled scoring sheet into the long format of ``qa import evaluations``.

    The answers are checked against ``card`` here, so problems name the sheet's own row and
    the item's column; the store then checks references and the arm against the saved plan, and
    writes all rows or none. ``evaluated_at`` defaults to when the workbook was last saved (center
    time). ``blank_arm`` is the arm of a row whose arm cell is blank (or of every row when the sheet
    has no arm column); None leaves it empty for the caller to fill (the store takes the plan's arm).
    A ``reason`` column (:data:`REASON_COLUMN`, or ``改分原因``) is returned as ``reason``: why a row stored
    before was changed; the store takes it out before the import's validation.
    """
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise ParameterError(f"path must be an existing .xlsx file; got {str(path)!r}")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not a workbook
        raise ValidationError([Problem(source, 0, "", f"cannot read workbook: {type(exc).__name__}: {exc}")], source) from None
    if _SHEET not in wb.sheetnames or _META not in wb.sheetnames:
        raise ValidationError([Problem(source, 0, "", f"not a scoring sheet: needs the sheets {_SHEET!r} and {_META!r} written by `qa score export`")], source)
    meta = {str(r[0]): r[1] for r in wb[_META].iter_rows(values_only=True) if r and r[0] is not None}
    # when the inspector last saved the workbook (stored in UTC by Excel and openpyxl): stable across re-imports
    saved = wb.properties.modified or wb.properties.created
    saved_at = (pd.Timestamp(saved, tz="UTC").tz_convert(CENTER_TZ).tz_localize(None).floor("s").strftime("%Y-%m-%d %H:%M:%S")
                if saved else str(meta.get("exported_at")))
    if meta.get("scorecard_id") != card.id or int(meta.get("scorecard_version", 0)) != card.version:
        raise ValidationError([Problem(source, 0, "", f"sheet is for scorecard {meta.get('scorecard_id')} v{meta.get('scorecard_version')}, not {card.id} v{card.version}")], source)
    rows = list(wb[_SHEET].iter_rows(values_only=True))
    wb.close()
    if not rows:
        raise ValidationError([Problem(source, 0, "", "the score sheet is empty")], source)
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    header = [REASON_COLUMN if h in _REASON_HEADERS else h for h in header]
    df = pd.DataFrame(rows[1:], columns=header, dtype=object)
    df[ROW] = range(2, len(df) + 2)
    problems = [Problem(source, 1, it.id, "missing item column") for it in card.items if it.id not in df.columns]
    if "contact_id" not in df.columns:
        problems.append(Problem(source, 1, "contact_id", "missing column"))
    if problems:
        raise ValidationError(problems, source)
    item_cols = [it.id for it in card.items]
    blank = df[item_cols].map(_blank)
    df = df.loc[~blank.all(axis=1)].copy()
    if df.empty:
        raise ValidationError([Problem(source, 0, "", "no row has answers: nothing to import")], source)
    twice = df["contact_id"].duplicated(keep="first").to_numpy()  # one evaluation per contact and sheet (its id is sheet + contact)
    if twice.any():
        first = df.groupby("contact_id", sort=False)[ROW].transform("first")
        raise ValidationError([Problem(source, int(r), "contact_id", f"contact {c} is scored twice on this sheet (first on row {f})")
                               for r, c, f in zip(df.loc[twice, ROW], df.loc[twice, "contact_id"], first[twice])], source)
    sid = str(meta.get("sheet_id") or path.stem)
    df["evaluation_id"] = sid + "-" + df["contact_id"].astype(str)
    if "arm" not in df.columns:
        df["arm"] = None
    df["arm"] = df["arm"].where(df["arm"].map(lambda v: not _blank(v)), blank_arm)
    text = [c for c in ("comment", REASON_COLUMN) if c in df.columns]
    if text:
        df[text] = df[text].where(~df[text].map(_blank), None)
    long = df.melt(id_vars=["evaluation_id", "contact_id", "agent_id", "arm", ROW] + text, value_vars=item_cols, var_name="item_id", value_name="answer")
    long["answer"] = long["answer"].map(lambda v: None if _blank(v) else (f"{v:g}" if isinstance(v, float) else str(v).strip()))
    found = check_answers(card, long, source=source, rows=long[ROW], item_columns=True)
    if found:
        raise ValidationError(found, source)
    long = long[long["answer"].notna()]
    long = long.assign(
        inspector_id=str(meta.get("inspector_id")), scorecard_id=card.id, scorecard_version=card.version,
        evaluated_at=evaluated_at or saved_at, status=status,
    )
    cols = ["evaluation_id", "contact_id", "agent_id", "inspector_id", "scorecard_id", "scorecard_version", "evaluated_at", "arm", "status", "item_id", "answer", ROW]
    cols[-3:-3] = text
    return long[cols].sort_values([ROW, "item_id"], kind="stable").reset_index(drop=True)
