"""Reading and validating input files against the data model — no database here.

:func:`read_table` reads CSV (UTF-8, UTF-8 with BOM, GBK / GB18030), Excel and Parquet
into a DataFrame. :func:`validate` checks a frame against an entity of
:mod:`qa_lib.model` in whole-column (vectorized) steps and returns the typed, canonical
frame, or raises :class:`~qa_lib.errors.ValidationError` listing every problem as
``file:row:column: message``. Checks that need the database (unknown agent, an id
stored before with other values) are done by :mod:`qa_lib.store` on the result.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError, Problem, ValidationError
from .model import CENTER_TZ, IMPORT_KINDS, Entity, Field, entity

__all__ = ["read_table", "validate", "validate_kind", "safe_yaml", "yaml_text", "ROW"]

#: Column added to validated frames: the spreadsheet row number of each record.
ROW = "_row"

_MAX_TEXT = 100_000
_MAX_PROBLEMS_PER_CHECK = 200
_TRUE = {"true", "t", "yes", "y", "1", "是", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "否", "0.0"}
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")

_CSV = {".csv", ".txt", ".tsv"}
_EXCEL = {".xlsx", ".xlsm"}
_PARQUET = {".parquet", ".pq"}


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _line_of(raw: bytes, pos: int) -> int:
    return raw[:pos].count(b"\n") + 1


def _not_text(raw: bytes, source: str, encoding: str | None) -> None:
    """Refuse binary files renamed .csv (a zip / xlsx, or anything with NUL bytes) with a clear message."""
    if raw.startswith(b"PK\x03\x04"):
        raise ValidationError([Problem(source, 0, "", "this is a zip archive (an .xlsx workbook?), not CSV text: save it with the .xlsx extension or export it as CSV")], source)
    wide = (encoding or "").lower().replace("_", "-").startswith(("utf-16", "utf16", "utf-32", "utf32")) or raw.startswith(_UTF16_BOMS)
    nul = raw.find(b"\x00", 0, 1 << 16)
    if nul >= 0 and not wide:
        raise ValidationError([Problem(source, _line_of(raw, nul), "", f"binary data (a NUL byte at byte {nul}), not CSV text: is it another file type renamed .csv?")], source)


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _decode(raw: bytes, source: str, encoding: str | None) -> str:
    _not_text(raw, source, encoding)
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise ParameterError(f"encoding must be a codec name such as 'utf-8' or 'gbk'; got {encoding!r}") from None
        if name not in ("utf-8", "utf-8-sig") and not raw.isascii() and not raw.startswith(_UTF16_BOMS) and _decodes(raw, "utf-8"):
            # valid UTF-8 with non-ASCII text is (almost) never meant as GBK / Latin-1: decoding it so would garble it
            first = re.search(rb"[\x80-\xff]", raw).start()
            raise ValidationError([Problem(source, _line_of(raw, first), "", f"declared {encoding}, but the file is UTF-8: its Chinese text would be garbled; "
                                           "drop --encoding (or pass utf-8)")], source)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            hint = "the file is GBK: drop --encoding (or pass gbk)" if name.startswith("utf") and _decodes(raw, "gb18030") else "drop --encoding to detect UTF-8 / GBK"
            raise ValidationError([Problem(source, _line_of(raw, exc.start), "", f"declared {encoding}, but byte {exc.start} ({raw[exc.start:exc.start + 1]!r}) "
                                           f"is not valid {encoding}; {hint}")], source) from None
        return text.removeprefix("\ufeff")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith(_UTF16_BOMS):
        try:
            return raw.decode("utf-16").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise ValidationError([Problem(source, 0, "", f"starts with a UTF-16 byte-order mark but is not valid UTF-16: {exc.reason}")], source) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValidationError([Problem(source, _line_of(raw, exc.start), "", "cannot decode as UTF-8 or GBK/GB18030; pass the encoding explicitly")], source) from None


def _column_letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _truncation(text: str, sep: str, source: str, header: list[str]) -> list[Problem]:
    """Problems for a CSV cut off at the end: an unclosed quote, or a last row with too few values."""
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=sep))
    except csv.Error:  # e.g. a field over the csv module's size limit: leave it to pandas
        return []
    while records and not records[-1]:
        records.pop()
    if len(records) < 2:
        return []
    last, row, n = records[-1], len(records), len(header)
    if text.count('"') % 2 == 1 and last:  # quotes inside a quoted value are doubled, so an odd count = one left open
        col = header[len(last) - 1] if len(last) <= n else f"column {_column_letter(len(last) - 1)}"
        return [Problem(source, row, col, "a quoted value is never closed: the file ends inside it (cut off, or a missing closing quote)")]
    if len(last) < n:
        return [Problem(source, row, header[len(last)], f"the last row has {len(last)} of {n} values: the file looks cut off")]
    return []


def _split_header(raw: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Take the first row as the header (stripped, lower-cased); drop unnamed empty columns.

    Problems for a blank header cell above values (merged header cells, a title row above
    the header) and for a name used twice.
    """
    header = [str(v).strip().lower() for v in raw.iloc[0]]
    df = raw.iloc[1:].reset_index(drop=True)
    df.columns = range(df.shape[1])
    problems: list[Problem] = []
    keep, seen = [], {}
    blank_run: list[int] = []  # consecutive blank header cells above values, reported as one problem
    for i, name in enumerate(header + ["<end>"]):
        if blank_run and (name or i != blank_run[-1] + 1):
            where = _column_letter(blank_run[0]) + (f"-{_column_letter(blank_run[-1])}" if len(blank_run) > 1 else "")
            problems.append(Problem(source, 1, f"column {where}", "empty header cell above values (merged or blank header cells?): "
                                    "the first row must name every column, with no title rows above it"))
            blank_run = []
        if i == len(header):
            break
        if not name:
            if _blank(df[i]).all():
                continue
            blank_run.append(i)
        elif name in seen:
            problems.append(Problem(source, 1, name, f"column appears twice (columns {_column_letter(seen[name])} and {_column_letter(i)})"))
        seen.setdefault(name, i)
        keep.append(i)
    df = df[keep]
    df.columns = [header[i] for i in keep]
    return df, problems


def _first_record(text: str, sep: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text[: 1 << 16]), delimiter=sep), [])
    return [c.strip().lower() for c in first]


def read_table(path: str | os.PathLike, *, encoding: str | None = None, sheet: str | int = 0) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file into a DataFrame.

    CSV and Excel cells are read as text (parsing is :func:`validate`'s job, so a bad cell
    becomes a located problem, not an exception); Parquet keeps its types. CSV encoding
    is detected (UTF-8 with or without BOM, UTF-16 with BOM, else GB18030, a superset of
    GBK) unless ``encoding`` is given; a declared encoding that does not fit the bytes is
    refused with the likely right one. Column names are stripped and lower-cased; empty
    unnamed columns are dropped.

    Raises :class:`ValidationError` (``file:row:column: message``) for a file that cannot be
    read as a table: empty, header only, binary or a zip renamed .csv, a corrupt workbook,
    a CSV cut off (last row short, quote never closed) or with a row longer than the
    header, a blank header cell above values (merged header cells, a title row), a
    column named twice. See docs/bad-input.md.
    """
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise ParameterError(f"path must be an existing file; got {str(path)!r}")
    suffix = path.suffix.lower()
    problems: list[Problem] = []
    try:
        if suffix in _CSV:
            text = _decode(path.read_bytes(), source, encoding)
            if not text.strip():
                raise ValidationError([Problem(source, 0, "", "file is empty")], source)
            sep = "\t" if suffix == ".tsv" else ","
            try:  # header=None: a first data row longer than the header is an error, not a silent index column
                df = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False, na_filter=False, engine="c")
            except pd.errors.ParserError as exc:
                cut = _truncation(text, sep, source, _first_record(text, sep)) if "EOF inside string" in str(exc) else []
                if cut:
                    raise ValidationError(cut, source) from None
                raise
            df, problems = _split_header(df, source)
            if not text.endswith(("\n", "\r")):
                problems += _truncation(text, sep, source, list(df.columns))
        elif suffix in _EXCEL:
            df = pd.read_excel(path, sheet_name=sheet, header=None, dtype=str, keep_default_na=False, na_filter=False, engine="openpyxl")
            if df.empty:
                raise ValidationError([Problem(source, 0, "", f"sheet {sheet!r} is empty" if not isinstance(sheet, int) else "the sheet is empty")], source)
            df, problems = _split_header(df, source)
        elif suffix in _PARQUET:
            df = pd.read_parquet(path)
        else:
            raise ParameterError(f"file type must be one of {sorted(_CSV | _EXCEL | _PARQUET)}; got {suffix or 'no extension'!r} ({source})")
    except (ValidationError, ParameterError):
        raise
    except (zipfile.BadZipFile, KeyError) as exc:
        if suffix not in _EXCEL:
            raise ValidationError([Problem(source, 0, "", f"cannot read file: {type(exc).__name__}: {exc}")], source) from None
        why = str(exc).strip('"')
        raise ValidationError([Problem(source, 0, "", f"not a valid {suffix} workbook (another file renamed {suffix}?): {why}")], source) from None
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[0].removeprefix("Error tokenizing data. C error: ")
        line = re.search(r"line (\d+)", msg)  # a 1-based file line
        record = re.search(r"row (\d+)", msg)  # a 0-based record, the header being record 0
        row = int(line.group(1)) if line else int(record.group(1)) + 1 if record else 0
        more = re.match(r"Expected (\d+) fields in line \d+, saw (\d+)", msg)
        if more:
            n, k = int(more.group(1)), int(more.group(2))
            raise ValidationError([Problem(source, row, f"column {_column_letter(n)}", f"line {row} has {k} values but the header names {n} columns "
                                           "(a value with an unquoted comma?)")], source) from None
        raise ValidationError([Problem(source, row, "", f"cannot read file: {msg}")], source) from None
    except (pd.errors.EmptyDataError, ValueError, OSError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        m = re.search(r"line (\d+)", msg)
        raise ValidationError([Problem(source, int(m.group(1)) if m else 0, "", f"cannot read file: {msg}")], source) from None
    except Exception as exc:  # openpyxl / pyarrow raise their own types for corrupt files
        raise ValidationError([Problem(source, 0, "", f"cannot read file: {type(exc).__name__}: {exc}")], source) from None
    if problems:
        raise ValidationError(problems, source)
    if len(df) == 0:
        raise ValidationError([Problem(source, 2, "", "no data rows below the header: nothing to import")], source)
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


class _Collector:
    """Collects problems; turns boolean masks into located problems (capped per check)."""

    def __init__(self, source: str, rows: pd.Series):
        self.source = source
        self.rows = rows.to_numpy()
        self.problems: list[Problem] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(self.source, int(row), column, message))

    def mask(self, mask, column: str, message, values=None) -> None:
        """Add a problem for each True in ``mask``; ``message`` may be a callable of the value."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if idx.size == 0:
            return
        shown = idx[:_MAX_PROBLEMS_PER_CHECK]
        vals = None if values is None else np.asarray(values, dtype=object)
        for i in shown:
            text = message(vals[i]) if callable(message) else message
            self.add(self.rows[i], column, text)
        if idx.size > shown.size:
            self.add(self.rows[idx[shown.size]], column, f"... {idx.size - shown.size} more rows with the same problem")


def _blank(raw: pd.Series) -> np.ndarray:
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        return (raw.isna() | (raw.astype("string").str.strip() == "")).to_numpy(dtype=bool)
    return raw.isna().to_numpy(dtype=bool)


def _text(raw: pd.Series) -> pd.Series:
    return raw.astype("string").str.strip()


def _fmt_choices(f: Field) -> str:
    return ", ".join(f.choices or ())


def _parse_datetime(raw: pd.Series, blank: np.ndarray) -> pd.Series:
    """Parse to naive local datetimes; values with a UTC offset are converted to CENTER_TZ."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        out = raw
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(CENTER_TZ).dt.tz_localize(None)
        return out.astype("datetime64[us]")
    s = _text(raw).where(~blank)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    has_tz = s.str.contains(_OFFSET, na=False).to_numpy()
    plain = ~has_tz & ~blank
    if plain.any():
        sub = s[plain].str.replace("/", "-", regex=False)
        parsed = pd.to_datetime(sub, errors="coerce", format="ISO8601")
        retry = parsed.isna()
        if retry.any():
            parsed[retry] = pd.to_datetime(sub[retry], errors="coerce", format="mixed")
        out[plain] = parsed.astype("datetime64[us]")
    if has_tz.any():
        parsed = pd.to_datetime(s[has_tz], errors="coerce", utc=True, format="ISO8601")
        out[has_tz] = parsed.dt.tz_convert(CENTER_TZ).dt.tz_localize(None).astype("datetime64[us]")
    return out


def _field(df: pd.DataFrame, f: Field, col: _Collector) -> pd.Series:
    """Validate and convert one column; return the canonical Series."""
    n = len(df)
    if f.name in df.columns:
        raw = df[f.name]
        blank = _blank(raw)
        if f.required:
            col.mask(blank, f.name, "missing value")
    else:
        if f.required:
            col.add(1, f.name, "missing column")
        raw = pd.Series([""] * n, index=df.index, dtype=object)  # absent = all blank: defaults apply
        blank = np.ones(n, dtype=bool)
    kind = f.kind
    if kind in ("id", "str", "text"):
        s = _text(raw)
        if f.choices:
            alias = {}
            for canon, names in f.choices.items():
                alias[canon.lower()] = canon
                for a in names:
                    alias[a.lower()] = canon
            mapped = s.str.lower().map(alias)
            bad = ~blank & mapped.isna().to_numpy()
            col.mask(bad, f.name, lambda v: f"must be one of {_fmt_choices(f)}; got {v!r}", s)
            s = mapped
        limit = _MAX_TEXT if kind == "text" else f.sql_length
        too_long = ~blank & (s.str.len().fillna(0).to_numpy() > limit)
        col.mask(too_long, f.name, f"longer than {limit} characters")
        out = s.astype(object).where(~blank, f.default)
        return out.where(pd.notna(out), None)
    if kind in ("int", "float"):
        num = pd.to_numeric(raw if pd.api.types.is_numeric_dtype(raw) else _text(raw), errors="coerce")
        num = num.astype("Float64")
        bad = ~blank & num.isna().to_numpy()
        col.mask(bad, f.name, lambda v: f"not a number: {v!r}", raw)
        ok = ~blank & ~bad
        vals = num.to_numpy(dtype=float, na_value=np.nan)
        if kind == "int":
            frac = ok & (np.abs(vals - np.round(vals)) > 1e-9)
            col.mask(frac, f.name, lambda v: f"must be a whole number; got {v!r}", raw)
        if f.min is not None:
            low = ok & (vals < f.min)
            what = "must not be negative" if f.min == 0 else f"must be ≥ {f.min:g}"
            col.mask(low, f.name, lambda v: f"{what}; got {v!r}", raw)
        if f.max is not None:
            high = ok & (vals > f.max)
            col.mask(high, f.name, lambda v: f"must be ≤ {f.max:g}; got {v!r}", raw)
        vals = np.where(blank, np.nan if f.default is None else float(f.default), vals)
        if kind == "int":
            return pd.Series(np.round(vals), index=df.index).astype("Int64")
        return pd.Series(vals, index=df.index, dtype=float)
    if kind == "bool":
        if pd.api.types.is_bool_dtype(raw):
            out = raw.astype("boolean")
        else:
            s = _text(raw).str.lower()
            out = pd.Series(pd.NA, index=df.index, dtype="boolean")
            out[s.isin(_TRUE).fillna(False).to_numpy()] = True
            out[s.isin(_FALSE).fillna(False).to_numpy()] = False
            bad = ~blank & out.isna().to_numpy()
            col.mask(bad, f.name, lambda v: f"must be true/false (yes/no, 1/0); got {v!r}", raw)
        if f.default is not None:
            out = out.fillna(bool(f.default))
        return out
    if kind in ("date", "datetime"):
        parsed = _parse_datetime(raw, blank)
        bad = ~blank & parsed.isna().to_numpy()
        what = "date" if kind == "date" else "time"
        col.mask(bad, f.name, lambda v: f"unparseable {what}: {v!r}", raw)
        ok = ~blank & ~bad
        vals = parsed.to_numpy()
        future = ok & (vals > np.datetime64(datetime.now() + timedelta(days=1)))
        col.mask(future, f.name, lambda v: f"is in the future: {v!r}", raw)
        old = ok & (vals < np.datetime64("1970-01-01"))
        col.mask(old, f.name, lambda v: f"implausibly early: {v!r}", raw)
        if kind == "date":
            parsed = parsed.dt.normalize()
        return parsed
    raise AssertionError(f"unhandled kind {kind}")  # model.py only uses the kinds above


def _duplicates(out: pd.DataFrame, key: tuple[str, ...], col: _Collector) -> None:
    keyframe = out[list(key)]
    if keyframe.isna().any(axis=1).all():
        return
    dup = keyframe.duplicated(keep=False).to_numpy() & keyframe.notna().all(axis=1).to_numpy()
    if not dup.any():
        return
    first = out.loc[dup].groupby(list(key), sort=False)[ROW].transform("min")
    rows = out.loc[dup, ROW].to_numpy()
    firsts = first.to_numpy()
    label = "+".join(key)
    vals = keyframe.loc[dup].astype(str).agg("/".join, axis=1).to_numpy()
    for r, f0, v in zip(rows[:_MAX_PROBLEMS_PER_CHECK], firsts, vals):
        if r != f0:
            col.add(r, key[-1], f"duplicate {label} {v!r} (first on row {f0})")


def _rules(name: str, out: pd.DataFrame, col: _Collector) -> None:
    """Cross-column rules of an entity."""
    if name == "contacts":
        both = (out["answered"].fillna(False) & out["abandoned"].fillna(False)).to_numpy(dtype=bool)
        col.mask(both, "abandoned", "a contact cannot be both answered and abandoned")
        no_agent = (out["answered"].fillna(False).to_numpy(dtype=bool)) & out["agent_id"].isna().to_numpy()
        col.mask(no_agent, "agent_id", "an answered contact needs the agent who answered it")
        talk_unanswered = (~out["answered"].fillna(True).to_numpy(dtype=bool)) & (out["talk_seconds"].fillna(0).to_numpy() > 0)
        col.mask(talk_unanswered, "talk_seconds", "a contact that was not answered has no talk time")
    elif name == "evaluations":
        cal = (out["arm"] == "calibration").fillna(False).to_numpy(dtype=bool)
        no_session = cal & out["calibration_session_id"].isna().to_numpy()
        col.mask(no_session, "calibration_session_id", "arm = calibration needs the calibration_session_id")
        stray = ~cal & out["calibration_session_id"].notna().to_numpy() & out["arm"].notna().to_numpy()
        col.mask(stray, "calibration_session_id", "a calibration_session_id needs arm = calibration")


def _frame(e: Entity, df: pd.DataFrame, col: _Collector) -> pd.DataFrame:
    out = pd.DataFrame({f.name: _field(df, f, col) for f in e.fields}, index=df.index)
    out[ROW] = df[ROW].to_numpy()
    return out


def validate(name: str, df: pd.DataFrame, source: str = "<data>") -> pd.DataFrame:
    """Validate a frame against entity ``name`` and return it typed and canonical.

    Parameters
    ----------
    name : str
        An entity of :mod:`qa_lib.model` (table name, e.g. ``"contacts"``).
    df : DataFrame
        Raw data as read by :func:`read_table`.
    source : str
        File name used in problem locations.

    Returns
    -------
    DataFrame
        One column per model field plus ``_row`` (spreadsheet row number).

    Raises
    ------
    ValidationError
        Listing every problem found (missing column, unparseable value, out-of-range
        value, unknown choice, duplicate key, broken cross-column rule).
    """
    e = entity(name)
    df = _with_rows(df)
    col = _Collector(source, df[ROW])
    _unknown_columns(df, set(e.columns), col)
    out = _frame(e, df, col)
    _duplicates(out, e.key, col)
    _rules(e.name, out, col)
    if col.problems:
        raise ValidationError(col.problems, source)
    return out


def _with_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Copy with clean column names and a row-number column (kept if the caller set it, e.g. a sheet's own rows)."""
    df = df.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    df = df.reset_index(drop=True)
    if ROW not in df.columns:
        df[ROW] = np.arange(2, len(df) + 2)
    return df


def _unknown_columns(df: pd.DataFrame, allowed: set[str], col: _Collector) -> None:
    for c in df.columns:
        if c != ROW and c not in allowed:
            col.add(1, c, f"unknown column; allowed: {', '.join(sorted(allowed))}")
    seen: set[str] = set()
    for c in df.columns:
        if c in seen:
            col.add(1, c, "column appears twice")
        seen.add(c)


def validate_kind(kind: str, df: pd.DataFrame, source: str = "<data>") -> dict[str, pd.DataFrame]:
    """Validate a file of import ``kind``; return ``{table: frame}`` ready for the store.

    ``evaluations`` files are long: one row per scorecard item, the evaluation's header
    columns repeated on each row. They are split into ``evaluations`` and
    ``evaluation_items`` and the header must be identical within an evaluation.
    """
    if kind not in IMPORT_KINDS:
        raise ParameterError(f"kind must be one of {sorted(IMPORT_KINDS)}; got {kind!r}")
    table = IMPORT_KINDS[kind]
    if table != "evaluations":
        return {table: validate(table, df, source)}
    head, items = entity("evaluations"), entity("evaluation_items")
    df = _with_rows(df)
    col = _Collector(source, df[ROW])
    _unknown_columns(df, set(head.columns) | set(items.columns), col)
    h = _frame(head, df, col)
    it = _frame(items, df, col)
    _duplicates(it, items.key, col)
    _rules("evaluations", h, col)
    # header identical within an evaluation
    hcols = [c for c in head.columns if c != "evaluation_id"]
    canon = h[hcols].astype(object)
    canon = canon.where(canon.notna(), "").astype(str)
    first = canon.groupby(h["evaluation_id"], sort=False, dropna=False).transform("first")
    differs = canon.ne(first)
    if differs.to_numpy().any():
        first_row = h.groupby("evaluation_id", sort=False, dropna=False)[ROW].transform("min").to_numpy()
        for c in hcols:
            bad = differs[c].to_numpy()
            col.mask(bad, c, lambda r: f"differs from row {r} of the same evaluation", first_row)
    if col.problems:
        raise ValidationError(col.problems, source)
    h = h.drop_duplicates("evaluation_id", keep="first").reset_index(drop=True)
    return {"evaluations": h, "evaluation_items": it.reset_index(drop=True)}


# ----------------------------------------------------------------------------- YAML
#: Largest YAML file accepted (scorecards, the VOC taxonomy and training modules are a few KB).
MAX_YAML_BYTES = 1_000_000
#: Deepest nesting of mappings / lists accepted (a scorecard needs 5).
MAX_YAML_DEPTH = 32
#: Most YAML nodes (scalars, lists, mappings) accepted in one document.
MAX_YAML_NODES = 100_000

_YAML_START = ("SequenceStartEvent", "MappingStartEvent")
_YAML_END = ("SequenceEndEvent", "MappingEndEvent")


def _yaml_fail(error: type[Exception], source: str, line: int, message: str) -> Exception:
    if issubclass(error, ValidationError):
        return ValidationError([Problem(source, line, "", message)], source)
    return error(f"{source}: line {line}: {message}")


def yaml_text(raw: bytes, source: str, *, error: type[Exception] = ValidationError) -> str:
    """Decode a YAML file's bytes as UTF-8 (BOM allowed), refusing files over :data:`MAX_YAML_BYTES` and binary data."""
    if len(raw) > MAX_YAML_BYTES:
        raise _yaml_fail(error, source, 0, f"YAML file too large: {len(raw):,} bytes (at most {MAX_YAML_BYTES:,})")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise _yaml_fail(error, source, _line_of(raw, nul), f"binary data (a NUL byte at byte {nul}), not a YAML text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _yaml_fail(error, source, _line_of(raw, exc.start), f"not UTF-8 text (byte {exc.start}): save the YAML file as UTF-8") from None


def read_config_yaml(path, what: str):
    """A settings file (VOC taxonomy, training modules) read through :func:`safe_yaml`; ``ConfigError`` naming ``what``
    and the file when it is missing or unsafe. Returns ``(path, document)``."""
    from .errors import ConfigError

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} file not found: {p}")
    return p, safe_yaml(p.read_bytes(), str(p), error=ConfigError)  # refuses aliases ("billion laughs"), deep nesting, huge files


def safe_yaml(text: str | bytes, source: str, *, compose: bool = False, error: type[Exception] = ValidationError):
    """Parse one YAML document from an untrusted file, refusing "YAML bombs" before building anything.

    PyYAML's ``safe_load`` refuses arbitrary Python objects but still accepts anchors and
    aliases: a "billion laughs" document of a few hundred bytes loads as a small graph of
    shared lists, which every consumer that walks it (validation, line-number maps, JSON)
    expands exponentially; deeply nested flow lists overflow the Python stack. So the
    event stream is checked first, stopping at the first offence, and the document is
    refused when it uses an alias (``*name``), is larger than :data:`MAX_YAML_BYTES`,
    nests deeper than :data:`MAX_YAML_DEPTH` or holds more than :data:`MAX_YAML_NODES`
    nodes. Our YAML files never need aliases: repeat the values instead.

    Parameters
    ----------
    text : str or bytes
        The document; bytes are decoded as UTF-8 (a BOM is allowed).
    source : str
        File name used in error messages.
    compose : bool
        Also return the node tree (for line numbers), as ``(data, node)``.
    error : type
        Exception raised: :class:`ValidationError` (one :class:`Problem` with the line as its
        row) or another :class:`~qa_lib.errors.QAError` class, given ``"source: line N: message"``.

    Returns
    -------
    object or tuple
        The loaded data, or ``(data, node)`` with ``compose=True``.
    """
    import yaml

    text = yaml_text(text, source, error=error) if isinstance(text, bytes) else text
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_YAML_BYTES:
        raise _yaml_fail(error, source, 0, f"YAML file too large: {size:,} bytes (at most {MAX_YAML_BYTES:,})")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: linear even on hostile input
    depth = nodes = 0
    try:
        for ev in yaml.parse(text, Loader=loader):
            kind = type(ev).__name__
            line = ev.start_mark.line + 1
            if kind == "AliasEvent":
                raise _yaml_fail(error, source, line, f"YAML aliases are not allowed (*{ev.anchor}): write the values out instead of using &anchors")
            if kind in _YAML_START:
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise _yaml_fail(error, source, line, f"YAML nested too deeply (more than {MAX_YAML_DEPTH} levels)")
            elif kind in _YAML_END:
                depth -= 1
            if kind in _YAML_START or kind == "ScalarEvent":
                nodes += 1
                if nodes > MAX_YAML_NODES:
                    raise _yaml_fail(error, source, line, f"YAML document too big (more than {MAX_YAML_NODES:,} values)")
        data = yaml.load(text, Loader=loader)
        node = yaml.compose(text, Loader=loader) if compose else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or exc)
        if "nesting depth" in problem:  # PyYAML ≥ 6.0.4 has a depth limit of its own: say it as we do
            problem = f"YAML nested too deeply (more than {MAX_YAML_DEPTH} levels)"
        else:
            problem = f"not valid YAML: {problem}"
        raise _yaml_fail(error, source, (mark.line + 1) if mark else 0, problem) from None
    return (data, node) if compose else data
