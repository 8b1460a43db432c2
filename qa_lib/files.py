"""Writing output files safely: names made from ids, spreadsheet cells that cannot run, files complete or absent.

Every .csv and .xlsx the product writes goes through :func:`write_csv` / :func:`write_xlsx` (or, for a
workbook built cell by cell, :func:`safe_cell`); every file name made from an id (agent, team,
inspector, scorecard) goes through :func:`file_stem`. Three rules:

* **Names.** An id is data, not a path: ``GH1003/../GH1001`` or ``/etc/x`` name a file *inside* the
  output folder, never another agent's report or a file elsewhere; two different ids never share a
  file (a name that had to change carries a short hash of the id).
* **Cells.** Text that a spreadsheet would read as a formula (starting with ``= + - @``, a tab or a
  carriage return, or their full-width forms) is stored with a leading ``'`` (the OWASP rule for CSV
  injection); control characters a workbook cannot hold are dropped; personal data in free text is
  masked (:func:`qa_lib.privacy.mask_pii`). Numbers, dates and booleans stay typed.
* **Complete or absent.** A file is written to a temporary name beside it and renamed when complete
  (:func:`atomic_path`), so a failure never leaves half a file.

>>> file_stem("GH1001"), file_stem("华东一组")
('GH1001', '华东一组')
>>> file_stem("GH1003/../GH1001")
'GH1003_.._GH1001-67246eb0'
>>> safe_cell("=HYPERLINK(\\"http://x\\")"), safe_cell("-3 points"), safe_cell(-3), safe_cell("13812345678")
('\\'=HYPERLINK("http://x")', "'-3 points", -3, '138****5678')
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError
from .privacy import mask_pii

__all__ = ["file_stem", "output_path", "safe_cell", "safe_frame", "is_id_column", "write_csv", "write_xlsx", "atomic_path", "FORMULA_START"]

#: First characters that make a spreadsheet read a cell as a formula (ASCII and full-width), and tab / CR.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_FORMULA = re.compile("^[" + re.escape("".join(FORMULA_START)) + "]")
# what an .xlsx cannot hold (openpyxl refuses it) and what a CSV reader would take as a line or record break
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAME_UNSAFE = re.compile(r"[^\w\-.]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_MAX_STEM = 80


def file_stem(value) -> str:
    """A file name stem for an id: letters (any script), digits, ``- _ .`` kept; anything else ``_``.

    When the id had to change (a separator, ``..``, a leading dot, a reserved Windows name, too long),
    an 8-hex hash of the id is appended, so distinct ids never map to the same file.
    """
    text = unicodedata.normalize("NFC", str(value))
    stem = _NAME_UNSAFE.sub("_", text).strip("._ ")[:_MAX_STEM]
    if stem != text or not stem or stem.split(".")[0].upper() in _RESERVED:
        stem = f"{stem or 'id'}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"
    return stem


def output_path(folder: str | os.PathLike, *parts: str) -> Path:
    """``folder/part/…`` for names the product chose (after :func:`file_stem`), refused if it would leave ``folder``."""
    base = Path(folder).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise ParameterError(f"output file must be inside {base}; got {path}")
    return path


def safe_cell(value, *, mask: bool = True):
    """One spreadsheet cell: text stripped of control characters and defused, and masked unless ``mask=False``
    (an id column: masking would break the id); anything else unchanged."""
    if not isinstance(value, str):
        return value
    text = _ILLEGAL.sub("", mask_pii(value) if mask else value)
    return "'" + text if _FORMULA.match(text) else text


def is_id_column(name) -> bool:
    """Columns holding ids or references, never masked: ``*_id``, ``id``, ``*_ref`` (a masked id would name nothing)."""
    n = str(name).lower()
    return n == "id" or n.endswith(("_id", "_ref", "_ids"))


def safe_frame(df: pd.DataFrame, *, ids=None) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (in object and string columns) went through :func:`safe_cell`; the id
    columns (``ids``, default :func:`is_id_column`) defused but not masked; column names defused too."""
    out = df.copy()
    ids = {c for c in out.columns if is_id_column(c)} if ids is None else set(ids)
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            is_text = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
            if is_text.any():
                vals = s.to_numpy(dtype=object, copy=True)
                keep = col in ids
                vals[is_text] = [safe_cell(v, mask=not keep) for v in vals[is_text]]
                out[col] = pd.Series(vals, index=s.index, dtype=object)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on failure remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(df: pd.DataFrame, path: str | os.PathLike, *, encoding: str = "utf-8-sig", ids=None) -> Path:
    """Write ``df`` as CSV (UTF-8 with BOM, which Excel opens as Unicode) through :func:`safe_frame`, atomically."""
    with atomic_path(path) as tmp:
        safe_frame(df, ids=ids).to_csv(tmp, index=False, encoding=encoding, lineterminator="\n")
    return Path(path)


def _sheet_name(name: str, taken: set) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", _ILLEGAL.sub("", str(name))).strip("'") or "sheet"
    clean = clean[:31]
    k = 2
    while clean.lower() in taken:
        clean = f"{clean[:28]}~{k}"
        k += 1
    taken.add(clean.lower())
    return clean


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike, *, ids=None) -> Path:
    """Write one sheet per frame through :func:`safe_frame`, atomically; sheet names made valid (31 characters,
    no ``[]:*?/\\``). Floats are written as they are; round them for people before calling."""
    if not sheets:
        raise ParameterError("sheets must hold at least one table; got none")
    taken: set = set()
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name, frame in sheets.items():
                frame = frame.replace([np.inf, -np.inf], np.nan)
                safe_frame(frame, ids=ids).to_excel(xl, sheet_name=_sheet_name(name, taken), index=False)
    return Path(path)
