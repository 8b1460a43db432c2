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
import functools
import io
import os
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError, Problem, ValidationError
from .model import CENTER_TZ, IMPORT_KINDS, Entity, Field, entity

__all__ = ["read_table", "guard_file", "ImportLimits", "validate", "validate_kind", "bad_id_chars", "clean_free_text", "describe_unsafe",
           "UNSAFE_CHARS", "UNSAFE_TEXT_CHARS", "safe_yaml", "yaml_text", "ROW", "ABSENT_STAYS_MISSING", "column_letter"]

#: Column added to validated frames: the spreadsheet row number of each record.
ROW = "_row"
#: ``frame.attrs`` key: when true, an optional value the frame does not have (no column, or a blank cell) is stored
#: missing (NULL), not as the model's default (``hold_seconds`` 0, ``customer_tier`` none ...): a center's own file
#: mapped by :mod:`qa_lib.mapping`, where a blank means "not recorded".
ABSENT_STAYS_MISSING = "absent_stays_missing"

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


def column_letter(i: int) -> str:
    """Spreadsheet column letters of a 0-based column index (0 → A, 26 → AA), as openpyxl names them.

    >>> column_letter(0), column_letter(26)
    ('A', 'AA')
    """
    from openpyxl.utils import get_column_letter  # only when a problem is located: openpyxl is slow to import

    return get_column_letter(i + 1)


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
        col = header[len(last) - 1] if len(last) <= n else f"column {column_letter(len(last) - 1)}"
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
            where = column_letter(blank_run[0]) + (f"-{column_letter(blank_run[-1])}" if len(blank_run) > 1 else "")
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
            problems.append(Problem(source, 1, _safe_label(name), f"column appears twice (columns {column_letter(seen[name])} and {column_letter(i)})"))
        seen.setdefault(name, i)
        keep.append(i)
    df = df[keep]
    df.columns = [header[i] for i in keep]
    return df, problems


def _first_record(text: str, sep: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text[: 1 << 16]), delimiter=sep), [])
    return [c.strip().lower() for c in first]


# ----------------------------------------------------------------------------- size limits, checked before parsing
@dataclass(frozen=True)
class ImportLimits:
    """How big an input file may be; the defaults of the ``QA_MAX_*`` settings of :mod:`qa_lib.config`.

    A :class:`qa_lib.config.Settings` has the same fields, so either can be passed as ``limits``.
    Rows: a large center's month of contacts (1,000 seats, ~45 contacts a seat a day) is about a
    million rows; half as much again is allowed. Cells: that many rows of the widest import
    (contacts, 25 columns) plus a margin. File: a month's contact log as CSV is 200-300 MB without
    transcripts. Expanded: unpacked Parquet pages or workbook XML (a contacts sheet is ~1.2 KB of
    XML a row, so Excel's 1,048,576 rows fit). Ratio: real sheets compress about 10:1.
    """

    max_rows: int = 1_500_000
    max_cells: int = 40_000_000
    max_file_mb: float = 1024.0
    max_expanded_mb: float = 2048.0
    max_zip_ratio: float = 100.0


#: The setting (environment variable) that raises each limit.
LIMIT_VARS = {"max_rows": "QA_MAX_ROWS", "max_cells": "QA_MAX_CELLS", "max_file_mb": "QA_MAX_FILE_MB",
              "max_expanded_mb": "QA_MAX_EXPANDED_MB", "max_zip_ratio": "QA_MAX_ZIP_RATIO"}
_MB = 1 << 20
_MAX_ZIP_PARTS = 10_000  # a workbook has a few dozen parts (sheets, styles, drawings)
_RATIO_FROM = _MB  # parts smaller than this unpack to nothing worth refusing, whatever their ratio
_MAX_PARQUET_FOOTER = 64 * _MB  # a real file's metadata is KBs (MBs with thousands of row groups)
_CHUNK_BYTES = 4 * _MB


def _over(source: str, measured: str, limit, key: str, unit: str, advice: str = "") -> ValidationError:
    """The refusal of a file over one limit: what was measured, the limit, and the variable that raises it."""
    var = LIMIT_VARS[key]
    shown = f"{limit:,.0f}" if float(limit).is_integer() else f"{limit:,}"
    advice = advice or "split the file"
    return ValidationError([Problem(source, 0, "", f"{measured} is over the import limit of {shown}{unit} ({var}): "
                                    f"{advice}, or raise {var} if the file is genuine")], source)


def guard_file(path: str | os.PathLike, *, source: str | None = None, limits=None) -> dict:
    """Refuse a file too big to import, before anything is parsed or unpacked (a "decompression bomb").

    Measured cheaply: the size on disk (every format); for Parquet only the footer (rows, columns,
    unpacked bytes of the row groups); for .xlsx / .xlsm the zip directory (unpacked bytes, the
    compression ratio of each part) and a streaming scan of each worksheet's XML (the rows and the
    width openpyxl would build, stopping at the first limit crossed); for CSV the records (newlines
    outside quotes) times the header's columns. ``limits`` is a :class:`qa_lib.config.Settings` or an
    :class:`ImportLimits` (default: :class:`ImportLimits`'s defaults).

    Returns the measurements (``bytes``, ``rows``, ``cells``, ``expanded_bytes`` where known). Raises
    :class:`ValidationError` naming the file, the quantity, the limit and the variable that raises it,
    e.g. ``calls.parquet:0:: 2,000,000 rows is over the import limit of 1,500,000 rows ... (QA_MAX_ROWS)``.
    """
    path = Path(path)
    source = source or path.name
    limits = limits if limits is not None else ImportLimits()
    if not path.is_file():
        raise ParameterError(f"path must be an existing file; got {str(path)!r}")
    size = path.stat().st_size
    if size > limits.max_file_mb * _MB:
        raise _over(source, f"the file is {size / _MB:,.0f} MB, which", limits.max_file_mb, "max_file_mb", " MB")
    suffix = path.suffix.lower()
    found = {"bytes": size}
    if suffix in _PARQUET:
        found.update(_guard_parquet(path, source, limits))
    elif suffix in _EXCEL:
        found.update(_guard_xlsx(path, source, limits))
    elif suffix in _CSV:
        found.update(_guard_csv(path, source, limits, sep="\t" if suffix == ".tsv" else ","))
    _check_counts(source, found, limits)
    return found


def _check_counts(source: str, found: dict, limits, where: str = "") -> None:
    """Refuse ``found`` rows or cells over the limits (``where``: the worksheet, in a workbook)."""
    if found.get("rows", 0) > limits.max_rows:
        raise _over(source, f"{where}{found['rows']:,} rows", limits.max_rows, "max_rows", " rows", "split the file (by week or team)")
    if found.get("cells", 0) > limits.max_cells:
        raise _over(source, f"{where}{found['rows']:,} rows × {found['columns']:,} columns = {found['cells']:,} cells",
                    limits.max_cells, "max_cells", " cells", "split the file or drop the columns nobody imports")


def _guard_parquet(path: Path, source: str, limits) -> dict:
    """Rows, columns and unpacked bytes of a Parquet file, from its footer only."""
    import pyarrow.parquet as pq

    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 8))
        tail = fh.read(8)
    if len(tail) == 8 and tail[4:] == b"PAR1" and struct.unpack("<I", tail[:4])[0] > _MAX_PARQUET_FOOTER:
        raise ValidationError([Problem(source, 0, "", f"the Parquet metadata is {struct.unpack('<I', tail[:4])[0] / _MB:,.0f} MB "
                                       "(a real file's is a few KB): not a table this tool imports")], source)
    try:
        meta = pq.read_metadata(path)
    except Exception as exc:  # pyarrow raises its own types for a file that is not Parquet
        raise ValidationError([Problem(source, 0, "", f"cannot read file: {type(exc).__name__}: {exc}")], source) from None
    expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if expanded > limits.max_expanded_mb * _MB:
        raise _over(source, f"{meta.num_rows:,} rows unpacking to {expanded / _MB:,.0f} MB", limits.max_expanded_mb, "max_expanded_mb", " MB")
    return {"rows": meta.num_rows, "columns": meta.num_columns, "cells": meta.num_rows * meta.num_columns, "expanded_bytes": expanded}


def _guard_csv(path: Path, source: str, limits, sep: str) -> dict:
    """Data rows (records after the header) and cells of a CSV, counted on the bytes without decoding."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    unit = np.dtype("<u2") if head.startswith(b"\xff\xfe") else np.dtype(">u2") if head.startswith(b"\xfe\xff") else np.dtype(np.uint8)
    text = head.decode("utf-16", "replace") if unit.itemsize == 2 else head.decode("latin-1")  # separators and quotes are ASCII
    try:
        columns = max(1, len(next(csv.reader(io.StringIO(text, newline=""), delimiter=sep), [""])))
    except csv.Error:  # not CSV text (read_table says why)
        columns = text.split("\n", 1)[0].count(sep) + 1
    lines, last = {10: 0, 13: 0}, 10
    for chunk in _chunks(path, unit.itemsize):
        arr = np.frombuffer(chunk, dtype=unit)
        for b in lines:
            lines[b] += int(np.count_nonzero(arr == b))
        last = int(arr[-1]) if arr.size else last
    newline = max(lines, key=lines.get)  # \n, or \r in an old Mac file
    breaks = lines[newline]
    if breaks - 1 > limits.max_rows or (breaks - 1) * columns > limits.max_cells:  # newlines in quoted values are no records: count exactly
        breaks = _csv_records(path, unit, newline)
    rows = max(0, breaks + (last not in lines) - 1)  # a last line without a newline is a record too; less the header
    return {"rows": rows, "columns": columns, "cells": rows * columns}


def _chunks(path: Path, itemsize: int):
    """The file's bytes in chunks of whole code units."""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            yield chunk[: len(chunk) - len(chunk) % itemsize]


def _csv_records(path: Path, unit: np.dtype, newline: int) -> int:
    """Record breaks of a CSV: line breaks outside double quotes (quote parity, chunk by chunk)."""
    records, inside = 0, 0
    for chunk in _chunks(path, unit.itemsize):
        arr = np.frombuffer(chunk, dtype=unit)
        parity = np.bitwise_xor.accumulate((arr == 34).view(np.uint8)) ^ inside
        records += int(np.count_nonzero((arr == newline) & (parity == 0)))
        inside = int(parity[-1]) if parity.size else inside
    return records


def _zip_parts(path: Path) -> int | None:
    """The number of parts a zip's end record declares (None when there is no end record: zipfile will say why)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        fh.seek(max(0, end - (1 << 16) - 22))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    parts = struct.unpack("<H", tail[at + 10: at + 12])[0]
    loc = tail.rfind(b"PK\x06\x07", 0, at)  # zip64: the count is in the zip64 end record
    if parts == 0xFFFF and loc >= 0:
        with open(path, "rb") as fh:
            fh.seek(struct.unpack("<Q", tail[loc + 8: loc + 16])[0] + 32)
            parts = struct.unpack("<Q", fh.read(8).ljust(8, b"\xff"))[0]
    return parts


def _guard_xlsx(path: Path, source: str, limits) -> dict:
    """Unpacked size, compression ratio and the largest worksheet of a workbook, without unpacking it into memory."""
    bad = f"not a valid {path.suffix.lower()} workbook (another file renamed {path.suffix.lower()}?)"
    parts = _zip_parts(path)
    if parts is not None and parts > _MAX_ZIP_PARTS:
        raise ValidationError([Problem(source, 0, "", f"{bad}: it has {parts:,} parts, a workbook has a few dozen")], source)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            expanded = sum(i.file_size for i in infos)
            if expanded > limits.max_expanded_mb * _MB:
                raise _over(source, f"the workbook unpacks to {expanded / _MB:,.0f} MB, which", limits.max_expanded_mb, "max_expanded_mb", " MB")
            for i in infos:
                ratio = i.file_size / max(i.compress_size, 1)
                if i.file_size > _RATIO_FROM and ratio > limits.max_zip_ratio:
                    raise _over(source, f"{_safe_label(i.filename)} is compressed {ratio:,.0f}:1 ({i.compress_size / _MB:,.1f} MB unpacking to "
                                f"{i.file_size / _MB:,.0f} MB), which", limits.max_zip_ratio, "max_zip_ratio", ":1",
                                "sheets of real data compress about 10:1, this looks like a zip bomb")
            found = {"rows": 0, "columns": 0, "cells": 0, "expanded_bytes": expanded}
            for i in infos:
                if i.filename.lower().endswith(".xml"):
                    extent = _sheet_extent(zf, i, limits, source)
                    if extent:
                        sheet = {"rows": extent[0], "columns": extent[1], "cells": extent[0] * extent[1]}
                        _check_counts(source, sheet, limits, where=f"{_safe_label(i.filename)}: " + ("at least " if extent[2] else ""))
                        if sheet["cells"] >= found["cells"]:
                            found.update(sheet)
    except ValidationError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError, ValueError, KeyError, zlib.error) as exc:
        why = str(exc).strip('"') or type(exc).__name__
        raise ValidationError([Problem(source, 0, "", f"{bad}: {why}")], source) from None
    return found


#: A row or cell start tag, any namespace prefix, with its ``r`` reference if any: (b"row" or b"c", column letters, row number).
_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s>/])(?:\s[^>]*?\br\s*=\s*[\"']([A-Za-z]{0,4})(\d{0,9}))?")
_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row(?=[\s>/])(?:\s[^>]*?\br\s*=\s*[\"'](\d{1,9}))?")  # its row number, or b""
_CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c(?=[\s>/])(?:\s[^>]*?\br\s*=\s*[\"']([A-Za-z]{1,4})\d)?")  # its column letters, or b""


def _sheet_extent(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits, source: str) -> tuple[int, int, bool] | None:
    """(data rows, columns, stopped early) openpyxl would build from a part's rows and cells, streamed; None without any.

    Rows are the highest row number (``<row r="N">``; openpyxl fills the gaps with empty rows), less the
    header; columns the widest row (its last cell's column). Every XML part is scanned, whatever its name
    or namespace prefix. Stops as soon as the rows or the cells are over the limits (the counts are then
    those read so far). A part declaring a DTD (entities that expand to rows) is refused.
    """
    state = [0, 0, 0, 0]  # highest row number, widest row, current row's column, tags seen
    buf = b""
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(_MB)
            buf += chunk
            cut = buf.rfind(b"<") if chunk else len(buf)  # never split a tag
            if cut <= 0 and chunk:
                continue
            part, buf = buf[:cut], buf[cut:]
            if b"<!DOCTYPE" in part or b"<!ENTITY" in part:
                raise ValidationError([Problem(source, 0, "", f"{_safe_label(info.filename)} declares a DTD (<!DOCTYPE>), which workbooks "
                                               "never do: its entities could expand to any number of rows")], source)
            _scan_tags(part, state)
            rows, width = max(0, state[0] - 1), max(state[1], state[2])
            if rows > limits.max_rows or rows * width > limits.max_cells or not chunk:
                return (rows, width, bool(chunk)) if state[3] else None


def _scan_tags(part: bytes, state: list[int]) -> None:
    """Update ``state`` (highest row, widest row, current row's column, tags seen) with the rows and cells of a piece of XML."""
    rows, cells = _ROW_TAG.findall(part), _CELL_TAG.findall(part)
    state[3] += len(rows) + len(cells)
    if b"" not in cells:  # every cell names its column (Excel, openpyxl, LibreOffice): no need to follow the order
        state[0] = max(state[0] + rows.count(b""), max(map(int, filter(None, rows)), default=0))
        state[1] = max(state[1], state[2], max(map(_column_number, set(cells)), default=0))
        state[2] = 0
        return
    for kind, letters, number in _SHEET_TAG.findall(part):  # cells without a reference follow the previous one
        if kind == b"row":
            state[0] = int(number) if number else state[0] + 1
            state[1], state[2] = max(state[1], state[2]), 0
        else:
            state[2] = _column_number(letters) if letters else state[2] + 1
            state[1] = max(state[1], state[2])


def _column_number(letters: bytes) -> int:
    """1-based column of a cell reference's letters (A = 1, XFD = 16,384)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def read_table(path: str | os.PathLike, *, encoding: str | None = None, sheet: str | int = 0, limits=None) -> pd.DataFrame:
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
    column named twice, a file over the size limits (:func:`guard_file`, checked first, with
    ``limits``: a :class:`qa_lib.config.Settings` or :class:`ImportLimits`). See docs/bad-input.md.
    """
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise ParameterError(f"path must be an existing file; got {str(path)!r}")
    guard_file(path, source=source, limits=limits)
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
            raise ValidationError([Problem(source, row, f"column {column_letter(n)}", f"line {row} has {k} values but the header names {n} columns "
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


# ----------------------------------------------------------------------------- characters that break or deceive
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
#: Invisible letters and marks (default-ignorable code points that are not format characters): Hangul fillers,
#: the combining grapheme joiner, Khmer and Mongolian invisible signs. Blank-looking names are made of them.
_FILLERS = [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0]
_VARIATION = [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
_ZWJ = 0x200D
#: Characters an emoji ZWJ sequence (👨‍👩‍👧, 🏳️‍🌈) joins: pictographs, symbols, VS16, skin tones.
_EMOJI = "[\u00a9\u00ae\u203c-\u2bff\u3030\u303d\u3297\u3299\ufe0f\U0001f000-\U0001faff]"
_ASTRAL = "(?=[\U00010000-\U0010ffff])"  # keeps the big BMP class a fast bitmap: supplementary ranges are tried only for them


def _class(mask: np.ndarray, *, re2: bool = False) -> str:
    """A regex character class of the code points set in ``mask``, as ranges (Python ``re`` escapes, or RE2's ``\\x{...}``)."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.view(np.int8), 0]))
    starts, ends = edges[::2], edges[1::2] - 1

    def esc(c: int) -> str:
        return f"\\x{{{c:x}}}" if re2 else f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}"

    return "[" + "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in zip(starts.tolist(), ends.tolist())) + "]"


def _split(mask: np.ndarray) -> str:
    """A Python pattern for ``mask``: the Basic Multilingual Plane as one class, the supplementary planes behind a guard."""
    low, high = mask.copy(), mask.copy()
    low[0x10000:], high[:0x10000] = False, False
    return _class(low) + (f"|{_ASTRAL}{_class(high)}" if high.any() else "")


def _mask(*codes) -> np.ndarray:
    """A mask over every code point with ``codes`` (ints, lists, arrays or ranges) set."""
    mask = np.zeros(0x110000, dtype=bool)
    for c in codes:
        mask[np.asarray(list(c) if isinstance(c, range) else c, dtype=np.int64)] = True
    return mask


@functools.lru_cache(maxsize=1)
def _char_sets() -> dict:
    """The character classes, from this Python's Unicode database (built once, on first use)."""
    top = 0x40000  # planes 4-13 are unassigned, 14 holds tags and variation selectors, 15-16 are private use
    printable = "".join(filter(str.isprintable, map(chr, range(top))))  # not printable = categories C* and Z*
    ids = np.ones(0x110000, dtype=bool)
    ids[np.frombuffer(printable.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)] = False
    codes = np.flatnonzero(ids[:top])
    ids[[c for c in codes[codes <= 0x3000].tolist() if unicodedata.category(chr(c)) == "Zs"]] = False  # spaces pass
    ids |= _mask(_FILLERS, _VARIATION)
    formats = [c for c in [*codes[(codes < 0xD800) | (codes > 0xF8FF)].tolist(), *range(0xE0000, 0xE1000)]
               if unicodedata.category(chr(c)) == "Cf" and c != _ZWJ]
    controls = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]  # tab and newline stay; \r becomes \n first
    text = _mask(controls, formats, range(0xD800, 0xE000), [0x2028, 0x2029], _FILLERS)
    utf8 = ~_mask(range(0xD800, 0xE000))  # pyarrow strings are UTF-8: they never hold a surrogate
    return {
        "id": re.compile(_split(ids)),
        "text": re.compile(f"{_split(text)}|(?<!{_EMOJI})\u200d|\u200d(?!{_EMOJI})"),
        "id_re2": _class(ids & utf8, re2=True),
        "text_re2": _class((text | _mask([_ZWJ, 0x0D])) & utf8, re2=True),  # the values that may need cleaning
    }


def __getattr__(name: str):
    """``UNSAFE_CHARS`` and ``UNSAFE_TEXT_CHARS`` are built on first use (reading the Unicode database takes ~0.2 s)."""
    if name == "UNSAFE_CHARS":
        return _char_sets()["id"]
    if name == "UNSAFE_TEXT_CHARS":
        return _char_sets()["text"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


UNSAFE_CHARS: re.Pattern
"""Characters refused in ids, codes and names: every control (C0, C1: NUL, ESC, BEL, tab, CR, LF), format character
(bidirectional controls U+200E/F, U+202A-E, U+2066-9, U+061C; zero-width U+200B-D, U+2060, U+FEFF; soft hyphen, U+180E,
tags), surrogate, private-use and unassigned code point (categories Cc, Cf, Cs, Co, Cn), line and paragraph
separators, invisible fillers and variation selectors. Letters of every script (Chinese ids and names) and
spaces pass. Also for output: a value matching it should not be printed raw to a terminal."""

UNSAFE_TEXT_CHARS: re.Pattern
"""What :func:`clean_free_text` removes from free text: controls but tab and newline, format characters
(bidirectional controls, zero-width characters; a zero-width joiner only outside an emoji sequence), surrogates,
line separators and invisible fillers. Private-use and unassigned code points stay (newer emoji are unassigned
in an older Python)."""


def _contains(s: pd.Series, kind: str) -> np.ndarray:
    """True where a value holds a character of class ``kind`` (NA: False), by one vectorised regex match."""
    try:
        arrow = s.astype(pd.StringDtype("pyarrow"))
    except (UnicodeError, ValueError, TypeError):  # lone surrogates (a frame built in Python): the slower Python regex
        return s.astype(object).str.contains(_char_sets()[kind], na=False).to_numpy(dtype=bool)
    return arrow.str.contains(_char_sets()[f"{kind}_re2"], regex=True).fillna(False).to_numpy(dtype=bool)


def bad_id_chars(s: pd.Series) -> np.ndarray:
    """True where a value holds a character refused in ids, codes and names (:data:`UNSAFE_CHARS`); NA is False."""
    return _contains(s, "id")


def clean_free_text(s: pd.Series | str) -> pd.Series | str:
    """Free text without the characters that break or deceive (:data:`UNSAFE_TEXT_CHARS`), line ends as ``\\n``.

    ``\\r\\n``, ``\\r`` and the line / paragraph separators become ``\\n``; tabs, newlines, letters of every
    script and emoji (with their zero-width joiners) stay. An escape sequence loses its ESC, so ``"\\x1b[2J"``
    is stored as the harmless text ``"[2J"``. Takes a Series (vectorised; values with nothing to clean are
    returned untouched) or one string.
    """
    pattern = _char_sets()["text"]
    if isinstance(s, str):
        return pattern.sub("", _NEWLINES.sub("\n", s))
    need = _contains(s, "text")
    if not need.any():
        return s
    out = s.copy()
    out[need] = s[need].astype(object).str.replace(_NEWLINES, "\n", regex=True).str.replace(pattern, "", regex=True)
    return out


_NEWLINES = re.compile("\r\n?|[\u2028\u2029]")
_CHAR_KINDS = {"Cc": "a control character", "Cs": "a surrogate", "Co": "a private-use character", "Cn": "an unassigned code point",
               "Zl": "a line separator", "Zp": "a paragraph separator"}


def describe_unsafe(value: str) -> str | None:
    """What the first character of ``value`` refused in ids is and where, e.g. ``a control character U+0007 at position 3``."""
    m = _char_sets()["id"].search(value)
    if m is None:
        return None
    ch = m.group()
    cp, cat = ord(ch), unicodedata.category(ch)
    what = ("a bidirectional-text control" if cp in _BIDI else "a variation selector" if cp in _VARIATION
            else _CHAR_KINDS.get(cat, "an invisible character"))
    name = unicodedata.name(ch, "")
    return f"{what} U+{cp:04X}{f' ({name})' if name else ''} at position {m.start() + 1}"


def _escaped(value: str) -> str:
    """``repr(value)`` with every refused character escaped (repr leaves invisible letters such as U+3164 as they are)."""
    return _char_sets()["id"].sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) < 0x10000 else f"\\U{ord(m.group()):08x}", repr(value))


def _unsafe_message(value: str) -> str:
    """The problem of an id, code or name holding a refused character."""
    shown = _escaped(value if len(value) <= 40 else value[:40] + "…")
    return (f"contains {describe_unsafe(value)} of {shown}: ids, codes and names must be visible text without control, "
            "bidirectional or invisible characters; correct it in the source file")


def _safe_label(name: str) -> str:
    """A column name as it may be printed: itself, or escaped when it holds a refused character (an escape sequence)."""
    return _escaped(name) if _char_sets()["id"].search(name) else name


class _Collector:
    """Collects problems; turns boolean masks into located problems (capped per check)."""

    def __init__(self, source: str, rows: pd.Series, tz: str = CENTER_TZ):
        self.source = source
        self.tz = tz  # the center's time zone: values with a UTC offset are converted to it
        self.rows = rows.to_numpy()
        self.problems: list[Problem] = []
        self.cleaned: dict[str, int] = {}  # free-text cells cleaned of unsafe characters, by column

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
            self.more(self.rows[idx[shown.size]], column, self.problems[-1], idx.size - shown.size)

    def more(self, row: int, column: str, like: Problem, count: int) -> None:
        """One line standing for ``count`` more rows with the problem of ``like`` (the error message counts them all)."""
        self.problems.append(Problem(self.source, int(row), column, f"{like.check[1]}: {count:,} more rows, not listed one by one", count=int(count)))


def _blank(raw: pd.Series) -> np.ndarray:
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        return (raw.isna() | (raw.astype("string").str.strip() == "")).to_numpy(dtype=bool)
    return raw.isna().to_numpy(dtype=bool)


def _text(raw: pd.Series) -> pd.Series:
    return raw.astype("string").str.strip()


def _safe_text(s: pd.Series, f: Field, col: _Collector, blank: np.ndarray) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """The character rule: free text (``text`` fields) cleaned; ids, codes and names refused when they hold an
    unsafe character, else NFC-normalised. Returns the values, the mask of refused ones and of blanks (text cleaned to nothing)."""
    s, unsafe = _char_rule(s, f, col)
    return s, unsafe, blank | s.isna().to_numpy() | (s == "").fillna(False).to_numpy(dtype=bool)


def _char_rule(s: pd.Series, f: Field, col: _Collector) -> tuple[pd.Series, np.ndarray]:
    """:func:`_safe_text` without the blanks."""
    if f.kind == "text":
        clean = clean_free_text(s)
        if clean is not s:
            changed = (clean != s).fillna(False).to_numpy(dtype=bool)
            col.cleaned[f.name] = col.cleaned.get(f.name, 0) + int(changed.sum())
            clean = clean.str.strip()
            if f.required:
                col.mask(changed & (clean == "").fillna(False).to_numpy(dtype=bool), f.name, "missing value (nothing but control or invisible characters)")
        return clean, np.zeros(len(s), dtype=bool)
    unsafe = bad_id_chars(s)
    col.mask(unsafe, f.name, _unsafe_message, s)
    wide = ~s.str.isascii().fillna(True).to_numpy(dtype=bool) & ~unsafe  # NFC: one spelling of é, 﨑 … (ASCII is NFC already)
    if wide.any():
        s = s.copy()
        s[wide] = s[wide].str.normalize("NFC")
    return s, unsafe


def _fmt_choices(f: Field) -> str:
    return ", ".join(f.choices or ())


def _parse_datetime(raw: pd.Series, blank: np.ndarray, tz: str = CENTER_TZ) -> pd.Series:
    """Parse to naive local datetimes; values with a UTC offset are converted to the center's time zone."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        out = raw
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(tz).dt.tz_localize(None)
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
        out[has_tz] = parsed.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[us]")
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
        s, unsafe, blank = _safe_text(_text(raw), f, col, blank)
        if f.choices:
            alias = {}
            for canon, names in f.choices.items():
                alias[canon.lower()] = canon
                for a in names:
                    alias[a.lower()] = canon
            mapped = s.str.lower().map(alias)
            bad = ~blank & ~unsafe & mapped.isna().to_numpy()
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
        parsed = _parse_datetime(raw, blank, col.tz)
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
    every = np.flatnonzero(rows != firsts)
    later = every[:_MAX_PROBLEMS_PER_CHECK]  # labels only for the rows shown (a file of copies has millions)
    vals = keyframe.loc[dup].iloc[later].astype(str).agg("/".join, axis=1).to_numpy()
    for r, f0, v in zip(rows[later], firsts[later], vals):
        col.add(r, key[-1], f"duplicate {label} {v!r} (first on row {f0})")
    if every.size > later.size:
        col.more(rows[every[later.size]], key[-1], col.problems[-1], every.size - later.size)


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
    mapped = bool(df.attrs.get(ABSENT_STAYS_MISSING))  # a mapped file (qa_lib.mapping): what it does not record stays unknown, not the default
    out = pd.DataFrame({f.name: _field(df, replace(f, default=None) if mapped and not f.required and not f.always_default else f, col) for f in e.fields}, index=df.index)
    out[ROW] = df[ROW].to_numpy()
    return out


def _with_cleaned(frame: pd.DataFrame, col: _Collector) -> pd.DataFrame:
    """``frame`` with ``attrs["cleaned_cells"]``: free-text cells of the file cleaned of unsafe characters, by column."""
    frame.attrs["cleaned_cells"] = {k: v for k, v in col.cleaned.items() if v}
    return frame


def validate(name: str, df: pd.DataFrame, source: str = "<data>", tz: str = CENTER_TZ) -> pd.DataFrame:
    """Validate a frame against entity ``name`` and return it typed and canonical.

    Parameters
    ----------
    name : str
        An entity of :mod:`qa_lib.model` (table name, e.g. ``"contacts"``).
    df : DataFrame
        Raw data as read by :func:`read_table`.
    source : str
        File name used in problem locations.
    tz : str
        The center's time zone (its center.yaml ``timezone``): times with a UTC offset are converted to it.

    Returns
    -------
    DataFrame
        One column per model field plus ``_row`` (spreadsheet row number). Free text is cleaned of
        control, bidirectional and invisible characters (:func:`clean_free_text`); ``attrs["cleaned_cells"]``
        counts the cells cleaned, by column. Ids, codes and names are NFC-normalised.

    Raises
    ------
    ValidationError
        Listing every problem found (missing column, unparseable value, out-of-range
        value, unknown choice, duplicate key, broken cross-column rule, an id, code or
        name holding a control, bidirectional or invisible character: :data:`UNSAFE_CHARS`).
    """
    e = entity(name)
    df = _with_rows(df)
    col = _Collector(source, df[ROW], tz)
    _unknown_columns(df, set(e.columns), col)
    out = _frame(e, df, col)
    _duplicates(out, e.key, col)
    _rules(e.name, out, col)
    if col.problems:
        raise ValidationError(col.problems, source)
    return _with_cleaned(out, col)


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
            col.add(1, _safe_label(c), f"unknown column; allowed: {', '.join(sorted(allowed))}")
    seen: set[str] = set()
    for c in df.columns:
        if c in seen:
            col.add(1, _safe_label(c), "column appears twice")
        seen.add(c)


def validate_kind(kind: str, df: pd.DataFrame, source: str = "<data>", tz: str = CENTER_TZ) -> dict[str, pd.DataFrame]:
    """Validate a file of import ``kind``; return ``{table: frame}`` ready for the store.

    ``evaluations`` files are long: one row per scorecard item, the evaluation's header
    columns repeated on each row. They are split into ``evaluations`` and
    ``evaluation_items`` and the header must be identical within an evaluation.
    """
    if kind not in IMPORT_KINDS:
        raise ParameterError(f"kind must be one of {sorted(IMPORT_KINDS)}; got {kind!r}")
    table = IMPORT_KINDS[kind]
    if table != "evaluations":
        return {table: validate(table, df, source, tz)}
    head, items = entity("evaluations"), entity("evaluation_items")
    df = _with_rows(df)
    col = _Collector(source, df[ROW], tz)
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
    return {"evaluations": _with_cleaned(h, col), "evaluation_items": _with_cleaned(it.reset_index(drop=True), col)}


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
