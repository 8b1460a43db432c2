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

Automatic answers (auto-QA, ``auto=``) are written as suggestions beside the items: per item a column ``auto:<item>``
(the answer word and whether the item's scorer passed the acceptance gate) and one ``auto_evidence`` column (the matched
words and turn of each suggestion). They are withheld on random-arm and calibration rows (and on rows whose arm is
blank, which import as random): those rows are the ground truth the acceptance gate and the prediction-powered
estimates compare the machine with, and an inspector who reads the machine's answer first is anchored by it, which
biases agreement and the estimates upward. A sheet cannot show a suggestion only after the inspector has answered, so
random-arm rows never carry one (the workbench shows them after the answer is saved). :func:`read_scoring_sheet`
ignores these columns: an answer is read only from the item's own column.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
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

__all__ = ["write_scoring_sheet", "read_scoring_sheet", "CONTACT_COLUMNS", "EXPORT_ARM", "REASON_COLUMN", "SUGGESTION_PREFIX",
           "EVIDENCE_COLUMN", "SHOWN_UP_FRONT", "AUTO_COLUMNS", "pick_suggestions", "answer_word", "evidence_text"]

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


#: Header of an item's suggestion column (``auto:item_a``) and of the row's one evidence column; never read back.
SUGGESTION_PREFIX = "auto:"
EVIDENCE_COLUMN = "auto_evidence"
#: Arms whose contacts may show the automatic answer before the inspector answers. Every other arm (random,
#: calibration, blank or unknown) withholds it: those calls are the ground truth the machine is judged against.
SHOWN_UP_FRONT = ("targeted",)
#: Columns of the auto answers frame (the contract of issue #19) a suggestion needs.
AUTO_COLUMNS = ["contact_id", "item_id", "answer", "probability", "source", "rule_id", "evidence", "turn", "version", "accepted"]
_ANSWER_WORDS = {"zh": {"yes": "是", "no": "否", "partial": "部分", "na": "不适用"},
                 "en": {"yes": "yes", "no": "no", "partial": "partly", "na": "N/A"}}
_STATUS_WORDS = {"zh": ("已验收", "仅供参考"), "en": ("accepted", "suggestion only")}
_TURN_WORDS = {"zh": "第 {n} 轮", "en": "turn {n}"}
_AUTO_NOTE = {
    "zh": "自动评分建议（规则或模型给出的答案，不是你的评分）。“已验收”表示该项的自动评分已通过验收（与专家的一致性不低于质检员之间的一致性）；"
          "“仅供参考”表示尚未通过。随机抽检和校准的来电不显示建议：这些来电是检验自动评分的标准答案，先看到机器的答案会影响判断，"
          "使一致性和估计偏高；表格无法做到“先评分、后显示”，所以随机抽检的行一律不带建议（评分工作台会在你保存答案后再显示）。"
          "导入时只读取各评分项本身那一列，建议列和证据列一律忽略。",
    "en": "Automatic suggestions (what the rules or the model answered; not your answer). 'accepted' means the item's automatic "
          "answers passed the acceptance gate (agreement with the expert not worse than the inspectors' with each other); "
          "'suggestion only' means they have not. Random-arm and calibration calls carry no suggestion: they are the ground "
          "truth the automatic answers are checked against, and seeing the machine's answer first anchors the inspector and "
          "biases agreement and the estimates upward. A sheet cannot show a suggestion only after you answered, so random-arm "
          "rows never carry one (the scoring workbench shows it once your answer is saved). Importing reads each item's own "
          "column only; the suggestion and evidence columns are ignored.",
}


def answer_word(answer, lang: str = "zh") -> str:
    """An automatic answer (``yes``/``partial``/``no``/``na``) in the reader's language; "" for none.

    >>> answer_word("no"), answer_word("na", "en"), answer_word(None)
    ('否', 'N/A', '')
    """
    if answer is None or (isinstance(answer, float) and pd.isna(answer)):
        return ""
    return _ANSWER_WORDS[lang].get(str(answer), str(answer))


def evidence_text(evidence, turn, lang: str = "zh") -> str:
    """The evidence of an automatic answer as plain text: the turn (1-based for people) and the matched words; an evidence
    that names its turn already (the rules write ``words — turn k …``) is kept as it is.

    Raw text, neither escaped nor masked: a caller writing it anywhere masks and escapes it for that medium.

    >>> evidence_text("您好", 0), evidence_text("turn 3 [00:37] 坐席：您好", 3, "en"), evidence_text("", -1)
    ('第 1 轮：您好', 'turn 3 [00:37] 坐席：您好', '')
    """
    return str(_evidence_texts(pd.Series([evidence], dtype=object), pd.Series([turn], dtype=object), lang).iloc[0])


def _evidence_texts(evidence: pd.Series, turn: pd.Series, lang: str) -> pd.Series:
    """:func:`evidence_text` over Series (vectorised)."""
    text = evidence.astype(object).where(evidence.notna(), "").astype(str).str.strip()
    t = pd.to_numeric(turn, errors="coerce").fillna(-1).astype(int)
    where = _TURN_WORDS[lang].split("{n}")
    label = where[0] + (t + 1).astype(str) + where[1]
    keep = (t < 0) | text.str.lower().str.startswith(("turn", "第")) | text.str.contains(r"(?:^|\s)turn \d", regex=True)  # it says its turn
    return text.where(keep, label.where(text == "", label + "：" + text))


def pick_suggestions(auto: pd.DataFrame) -> pd.DataFrame:
    """One automatic answer per contact and item: the sources that answered (abstentions dropped), accepted first,
    then a rule (it has evidence) before the model, then the more probable; with ``scorecard_id`` when given.

    ``auto`` is the auto answers frame of issue #19 (:data:`AUTO_COLUMNS`; ``accepted`` = the item's scorer passed the
    acceptance gate).
    """
    missing = [c for c in AUTO_COLUMNS if c not in auto.columns]
    if missing:
        raise ParameterError(f"auto must be an auto answers frame with columns {AUTO_COLUMNS}; missing {missing}")
    a = auto[auto["answer"].notna() & (auto["answer"].astype(str) != "")].copy()
    a["accepted"] = a["accepted"].fillna(False).astype(bool)
    a["contact_id"], a["item_id"] = a["contact_id"].astype(str), a["item_id"].astype(str)
    keys = ["contact_id", "item_id"] + (["scorecard_id"] if "scorecard_id" in a.columns else [])
    a = a.assign(_rule=(a["source"] == "rule"), _p=pd.to_numeric(a["probability"], errors="coerce").fillna(-1.0))
    a = a.sort_values(["accepted", "_rule", "_p"], ascending=False, kind="stable").drop_duplicates(keys)
    return a.drop(columns=["_rule", "_p"]).reset_index(drop=True)


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or str(v).strip() == ""


def write_scoring_sheet(path: str | os.PathLike, card: Scorecard, contacts: pd.DataFrame, *, inspector_id: str,
                        sheet_id: str | None = None, lang: str = "zh", auto: pd.DataFrame | None = None) -> Path:
    """Write a blank scoring sheet for ``contacts`` and return its path.

    ``sheet_id`` names the sheet (evaluation ids are ``<sheet_id>-<contact_id>``, so
    importing the same sheet twice stores nothing new); default: a timestamp.

    ``auto``: automatic answers (the auto answers frame of issue #19, with ``accepted``) shown as suggestions: a column
    ``auto:<item>`` per item (answer word · accepted / suggestion only) and one ``auto_evidence`` column (per item its
    turn and matched words), after the items; PII-masked and defused as spreadsheet text like every text cell. Only
    rows whose ``arm`` is targeted carry them: random-arm, calibration and blank-arm rows never do (the inspectors'
    random arm is the ground truth for the acceptance gate and the prediction-powered estimates, and a suggestion seen
    before answering anchors the answer; a sheet cannot withhold it until the inspector has answered). A sheet with
    ``auto`` also gets an ``auto`` sheet saying so in Chinese and English. :func:`read_scoring_sheet` ignores these columns.
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
    words, evidence = _suggestion_cells(contacts, card, auto, lang) if auto is not None else (None, None)
    extra_cols = [] if words is None else [SUGGESTION_PREFIX + it.id for it in items] + [EVIDENCE_COLUMN]
    header = shown + [it.id for it in items] + extra_cols + ["comment", REASON_COLUMN]
    _write_header(ws, header, len(shown), items, len(extra_cols), lang)
    first_extra = len(shown) + len(items) + 1
    for k, rec in enumerate(contacts[shown].astype(object).where(contacts[shown].notna(), None).itertuples(index=False)):
        row = [v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "strftime") else safe_cell(v, mask=not is_id_column(c)) for c, v in zip(shown, rec)]
        if words is not None:
            row += [None] * len(items) + [safe_cell(w) for w in words[k]] + [safe_cell(evidence[k])]
        ws.append(row)
    if words is not None:
        italic = Font(italic=True, color="7F6000")
        for r in range(2, len(contacts) + 2):
            for j in range(first_extra, first_extra + len(extra_cols)):
                ws.cell(row=r, column=j).font = italic
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
    if auto is not None:
        info = wb.create_sheet("auto")
        info.append(["lang", "note"])
        for k in ("zh", "en"):
            info.append([k, _AUTO_NOTE[k]])
    meta = wb.create_sheet(_META)
    for k, v in (("sheet_id", sheet_id), ("scorecard_id", card.id), ("scorecard_version", card.version),
                 ("inspector_id", inspector_id), ("exported_at", datetime.now().strftime("%Y-%m-%d %H:%M:%S"))):
        meta.append([k, v])
    meta.sheet_state = "hidden"
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def _write_header(ws, header: list, n_shown: int, items: list, n_extra: int, lang: str) -> None:
    """The header row: contact columns grey, items blue with their label and guidance as notes, suggestion columns
    pale yellow with what they are, and the reason column's note."""
    ws.append(header)
    bold, grey, blue, pale = Font(bold=True), PatternFill("solid", fgColor="EEEEEE"), PatternFill("solid", fgColor="DDEBF7"), PatternFill("solid", fgColor="FFF2CC")
    first_extra = n_shown + len(items) + 1
    for j in range(1, len(header) + 1):
        cell = ws.cell(row=1, column=j)
        cell.font = bold
        cell.fill = grey if j <= n_shown else pale if first_extra <= j < first_extra + n_extra else blue
    for j, it in enumerate(items, start=n_shown + 1):
        note = f"{it.label.get(lang, it.id)}\n{it.guidance.get(lang, '')}".strip()
        extra = " (critical)" if it.critical else " (bonus)" if it.bonus else " (not scored)" if not it.scored else ""
        ws.cell(row=1, column=j).comment = Comment(note + extra, "qa")
    for j in range(first_extra, first_extra + n_extra):
        ws.cell(row=1, column=j).comment = Comment(_AUTO_NOTE[lang], "qa")
    ws.cell(row=1, column=len(header)).comment = Comment(_REASON_NOTE[lang], "qa")


def _suggestion_cells(contacts: pd.DataFrame, card: Scorecard, auto: pd.DataFrame, lang: str) -> tuple[list, list]:
    """Per contact row: the suggestion word of each item ("" where none or withheld) and the row's evidence text."""
    items = list(card.items)
    picked = pick_suggestions(auto)
    if "scorecard_id" in picked.columns:
        picked = picked[picked["scorecard_id"].astype(str) == card.id]
    ids = contacts["contact_id"].astype(str).to_numpy()
    arm = contacts["arm"].astype(object).where(contacts["arm"].notna(), "").astype(str).str.strip().to_numpy() if "arm" in contacts.columns else None
    up_front = set(ids[pd.Series(arm).isin(SHOWN_UP_FRONT).to_numpy()]) if arm is not None else set()
    picked = picked[picked["contact_id"].isin(up_front) & picked["item_id"].isin([it.id for it in items])]
    status = _STATUS_WORDS[lang]
    words = picked["answer"].astype(str).map(_ANSWER_WORDS[lang]).fillna(picked["answer"].astype(str))
    picked = picked.assign(word=words + " · " + np.where(picked["accepted"].to_numpy(dtype=bool), status[0], status[1]),
                           ev=picked["item_id"] + ": " + _evidence_texts(picked["evidence"], picked["turn"], lang))
    grid = picked.pivot(index="contact_id", columns="item_id", values="word").reindex(index=ids, columns=[it.id for it in items])
    grid = grid.astype(object).where(grid.notna(), "")
    order = {it.id: k for k, it in enumerate(items)}
    with_ev = picked[_evidence_texts(picked["evidence"], picked["turn"], lang).to_numpy() != ""]  # a line only where there is evidence
    ev = with_ev.assign(_o=with_ev["item_id"].map(order)).sort_values("_o", kind="stable").groupby("contact_id")["ev"].agg("\n".join)
    return grid.to_numpy(dtype=object).tolist(), ev.reindex(ids).fillna("").tolist()


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
    # automatic suggestions are never an inspector's answer: drop their columns before anything reads the row
    df = df.loc[:, [not (h.startswith(SUGGESTION_PREFIX) or h == EVIDENCE_COLUMN) for h in header]]
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
