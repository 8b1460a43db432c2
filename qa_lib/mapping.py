"""Column mappings: a center's own file turned into one of our import kinds, without Python.

A mapping is a small YAML file (docs/import.md): for each of our fields, where its value comes from in
the center's file (a column, a constant, two columns joined, the first non-empty of several) and how it
is read (a value map, a duration unit, a date format, a source time zone, a condition). :func:`load_mapping`
checks the file and names the YAML key of every mistake; :func:`apply_mapping` turns a frame as read by
:func:`qa_lib.ingest.read_table` into our columns, whole columns at a time, raising
:class:`~qa_lib.errors.ValidationError` with every located problem (an unmapped value, a bad duration);
:func:`suggest_mapping` proposes a commented mapping from the header and a sample of the values.

What the file does not record and the mapping does not give stays missing (NULL), never the model's
default: the frame carries :data:`qa_lib.ingest.ABSENT_STAYS_MISSING`.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from .config import settings
from .errors import ParameterError, Problem, ValidationError
from .ingest import _FALSE, _TRUE, ABSENT_STAYS_MISSING, ROW, _Collector, safe_yaml
from .model import IMPORT_KINDS, Field, entity

__all__ = ["Mapping", "load_mapping", "check_mapping", "apply_mapping", "suggest_mapping", "UNITS", "SPEC_KEYS", "TOP_KEYS"]

#: Top-level keys of a mapping file.
TOP_KEYS = ("kind", "fields", "drop", "distinct", "note")
#: Where a field's value comes from: exactly one of these per field.
SOURCES = ("column", "value", "join", "first_of")
#: Every key a field may have.
SPEC_KEYS = (*SOURCES, "sep", "skip_empty", "missing", "map", "other", "unit", "format", "tz", "when", "else")
#: Duration units: seconds per unit, or a clock layout.
UNITS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "milliseconds": 0.001, "hh:mm:ss": "hms", "h:mm:ss": "hms", "mm:ss": "ms"}
_OPS = ("not", "gt", "ge", "lt", "le")
_CLOCK = {"hms": r"^(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$", "ms": r"^()(\d+):(\d{1,2}(?:\.\d+)?)$"}
_YAML_TRUE, _YAML_FALSE = ("true", "yes", "on"), ("false", "no", "off")  # what PyYAML reads as a boolean key


@dataclass(frozen=True)
class Mapping:
    """A checked mapping: the import kind, each field's spec, the drop rules, and where each key is in the file."""

    kind: str
    fields: dict
    drop: tuple = ()
    distinct: bool = False
    source: str = "<mapping>"
    lines: dict = field(default_factory=dict, repr=False)
    drop_text: tuple = ()  # each drop rule as written, for messages

    def columns(self) -> list[tuple[str, str]]:
        """Every column of the center's file the mapping reads, as (YAML key, column)."""
        out = []
        for name, spec in self.fields.items():
            out += [(f"fields.{name}.{k}", c) for k, c in _spec_columns(spec)]
            out += [(f"fields.{name}.when", c) for c in spec.get("when", {})]
        for i, rule in enumerate(self.drop):
            out += [(f"drop.{i}", c) for c in rule]
        return out


# ----------------------------------------------------------------------------- reading and checking a mapping file
def load_mapping(path_or_text: str | os.PathLike, *, kind: str | None = None) -> Mapping:
    """Read and check a mapping file (or YAML text); ``kind`` (the KIND of ``qa import``) must agree with its ``kind:``.

    Raises :class:`ValidationError` naming the file, the line and the YAML key of every mistake, e.g.
    ``bank.yaml:7:fields.agnet_id: not a field of contacts (did you mean agent_id?)``.
    """
    text = path_or_text
    source = "<mapping>"
    if isinstance(path_or_text, os.PathLike) or (isinstance(path_or_text, str) and "\n" not in path_or_text and Path(path_or_text).suffix in (".yaml", ".yml")):
        path = Path(path_or_text)
        if not path.is_file():
            raise ParameterError(f"mapping must be an existing YAML file; got {str(path)!r}")
        text, source = path.read_bytes(), path.name
    data, node = safe_yaml(text, source, compose=True)
    return check_mapping(data, kind=kind, source=source, lines=_key_lines(node))


def _key_lines(node, path: str = "") -> dict[str, int]:
    """The line of every key of a composed YAML document, by its dotted path (``fields.agent_id.column``)."""
    out: dict[str, int] = {}
    if node is None:
        return out
    kind = type(node).__name__
    if kind == "MappingNode":
        for k, v in node.value:
            p = f"{path}.{k.value}" if path else str(k.value)
            out[p] = k.start_mark.line + 1
            out.update(_key_lines(v, p))
    elif kind == "SequenceNode":
        for i, v in enumerate(node.value):
            p = f"{path}.{i}" if path else str(i)
            out[p] = v.start_mark.line + 1
            out.update(_key_lines(v, p))
    return out


class _Checker:
    """Collects the mistakes of a mapping, each at its YAML key and line."""

    def __init__(self, source: str, lines: dict):
        self.source, self.lines, self.problems = source, lines, []

    def add(self, key: str, message: str) -> None:
        probe = key
        while probe and probe not in self.lines:
            probe = probe.rpartition(".")[0]
        self.problems.append(Problem(self.source, self.lines.get(probe, 0), key, message))

    def unknown(self, key: str, got, allowed) -> None:
        near = difflib.get_close_matches(str(got), list(allowed), n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]}?)" if near else ""
        self.add(f"{key}.{got}" if key else str(got), f"unknown key {str(got)!r}{hint}; allowed: {', '.join(allowed)}")


def targets(kind: str) -> dict[str, Field]:
    """Our fields of import ``kind``, by name (``evaluations``: the header's and the items' fields)."""
    if kind not in IMPORT_KINDS:
        raise ParameterError(f"kind must be one of {sorted(IMPORT_KINDS)}; got {kind!r}")
    table = IMPORT_KINDS[kind]
    ents = [entity("evaluations"), entity("evaluation_items")] if table == "evaluations" else [entity(table)]
    out: dict[str, Field] = {}
    for e in ents:
        for f in e.fields:
            out.setdefault(f.name, f)
    return out


def check_mapping(data, *, kind: str | None = None, source: str = "<mapping>", lines: dict | None = None) -> Mapping:
    """Check a loaded mapping (a dict as YAML gives it) and return it as a :class:`Mapping`; see :func:`load_mapping`."""
    ck = _Checker(source, lines or {})
    if not isinstance(data, dict):
        ck.add("", f"a mapping file is a YAML mapping with the keys {', '.join(TOP_KEYS)}; got {type(data).__name__}")
        raise ValidationError(ck.problems, source)
    for k in data:
        if k not in TOP_KEYS:
            ck.unknown("", k, TOP_KEYS)
    kind = _check_kind(data.get("kind"), kind, ck)
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        ck.add("fields", "fields must be a mapping of our field names to where their values come from, e.g. agent_id: 工号")
        fields = {}
    specs = {}
    if kind is not None:
        ours = targets(kind)
        for name, spec in fields.items():
            if name not in ours:
                near = difflib.get_close_matches(str(name), list(ours), n=1, cutoff=0.6)
                ck.add(f"fields.{name}", f"not a field of {kind}" + (f" (did you mean {near[0]}?)" if near else "") + f"; fields: {', '.join(ours)}")
                continue
            specs[name] = _check_spec(spec, ours[name], f"fields.{name}", ck)
        lacking = [n for n, f in ours.items() if f.required and n not in fields]
        if lacking and fields:
            ck.add("fields", f"required field{'s' * (len(lacking) > 1)} of {kind} not mapped: {', '.join(lacking)} "
                   "(give each a column of the file, or a constant with value:)")
    drop = data.get("drop") or []
    if not isinstance(drop, list):
        ck.add("drop", "drop must be a list of conditions, e.g. - {outcome: PHANTOM}")
        drop = []
    rules = tuple(_check_condition(rule, f"drop.{i}", ck) for i, rule in enumerate(drop))
    shown = tuple(_rule_text(rule) for rule in drop if isinstance(rule, dict))
    distinct = data.get("distinct", False)
    if not isinstance(distinct, bool):
        ck.add("distinct", f"distinct must be true or false; got {distinct!r}")
    if ck.problems:
        raise ValidationError(ck.problems, source)
    return Mapping(kind, specs, rules, bool(distinct), source, dict(lines or {}), shown)


def _check_kind(declared, given: str | None, ck: _Checker) -> str | None:
    """The import kind: the file's ``kind:`` and the command's KIND must agree; one of them is needed."""
    for k in (declared, given):
        if k is not None and k not in IMPORT_KINDS:
            ck.add("kind", f"kind must be one of {', '.join(sorted(IMPORT_KINDS))}; got {k!r}")
            return None
    if declared is not None and given is not None and declared != given:
        ck.add("kind", f"this mapping is for {declared!r}, the import is of {given!r}")
        return None
    if declared is None and given is None:
        ck.add("kind", f"say which import kind the mapping is for: kind: one of {', '.join(sorted(IMPORT_KINDS))}")
    return declared or given


def _check_spec(spec, f: Field, key: str, ck: _Checker) -> dict:
    """One field's spec, normalised (a bare string is a column name), its mistakes added to ``ck``."""
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        ck.add(key, f"give a column name, or a mapping with one of {', '.join(SOURCES)}; got {spec!r}")
        return {}
    for k in spec:
        if k not in SPEC_KEYS:
            ck.unknown(key, k, SPEC_KEYS)
    given = [s for s in SOURCES if s in spec]
    if len(given) != 1:
        ck.add(key, f"give exactly one of {', '.join(SOURCES)}; got {', '.join(given) or 'none'}")
        return {}
    spec = dict(spec)
    _check_source(spec, key, ck)
    _check_reading(spec, f, key, ck)
    if "when" in spec:
        spec["when"] = _check_condition(spec["when"], f"{key}.when", ck)
    for k in ("value", "other", "else"):
        if spec.get(k) is not None:
            _check_value(spec[k], f, f"{key}.{k}", ck)
    return spec


def _check_source(spec: dict, key: str, ck: _Checker) -> None:
    """``column`` a name, ``join`` two or more names, ``first_of`` names or joins; names normalised like read_table's header."""
    if "column" in spec:
        if not isinstance(spec["column"], (str, int)) or not str(spec["column"]).strip():
            ck.add(f"{key}.column", f"column must be a column name of the file; got {spec['column']!r}")
        spec["column"] = _col(spec["column"])
    if "join" in spec:
        spec.update(_check_join(spec, f"{key}.join", ck))
    if "first_of" in spec:
        items = spec["first_of"]
        if not isinstance(items, list) or not items:
            ck.add(f"{key}.first_of", "first_of must be a list of column names (or {join: [...]} items), the first non-empty wins")
            items = []
        spec["first_of"] = [_check_join(it, f"{key}.first_of.{i}", ck) if isinstance(it, dict) else {"column": _col(it)} for i, it in enumerate(items)]
    if "sep" in spec and not isinstance(spec["sep"], str):
        ck.add(f"{key}.sep", f"sep must be text, e.g. ' ' or '-'; got {spec['sep']!r}")
    if "skip_empty" in spec and not isinstance(spec["skip_empty"], bool):
        ck.add(f"{key}.skip_empty", f"skip_empty must be true or false; got {spec['skip_empty']!r}")


def _check_join(spec: dict, key: str, ck: _Checker) -> dict:
    """A ``join`` (columns glued with ``sep``), checked; returns its normalised keys."""
    cols = spec.get("join")
    extra = set(spec) - {"join", "sep", "skip_empty"} if key.split(".")[-2] == "first_of" else set()
    for k in sorted(extra, key=str):
        ck.unknown(key, k, ("join", "sep", "skip_empty"))
    if not isinstance(cols, list) or len(cols) < 2 or not all(isinstance(c, (str, int)) for c in cols):
        ck.add(key, f"join must be a list of two or more column names, e.g. [日期, 时间]; got {cols!r}")
        cols = []
    return {"join": [_col(c) for c in cols], "sep": spec.get("sep", " "), "skip_empty": spec.get("skip_empty", False)}


def _check_reading(spec: dict, f: Field, key: str, ck: _Checker) -> None:
    """``missing``, ``map``, ``unit``, ``format`` and ``tz``: each allowed for this field, with a sound value."""
    if "missing" in spec:
        m = spec["missing"]
        spec["missing"] = [_fold(v) for v in (m if isinstance(m, list) else [m])]
    if "map" in spec:
        if not isinstance(spec["map"], dict) or not spec["map"]:
            ck.add(f"{key}.map", "map must be a mapping of the file's values to ours, e.g. {是: true, 否: false}")
            spec["map"] = {}
        spec["map"] = _check_map(spec["map"], f, f"{key}.map", ck)
    if "unit" in spec and (f.kind not in ("int", "float") or spec["unit"] not in UNITS):
        what = f"unit must be one of {', '.join(UNITS)}" if f.kind in ("int", "float") else f"unit is for durations and numbers; {f.name} is a {f.kind}"
        ck.add(f"{key}.unit", f"{what}; got {spec['unit']!r}")
    if "format" in spec and (f.kind not in ("date", "datetime") or not isinstance(spec["format"], str) or "%" not in spec["format"]):
        ck.add(f"{key}.format", f"format is a date layout such as '%Y/%m/%d' or '%Y-%m-%d %H:%M:%S', for dates and times; got {spec['format']!r} for a {f.kind}")
    if "tz" in spec:
        if f.kind != "datetime":
            ck.add(f"{key}.tz", f"tz (the file's time zone) is for date-times; {f.name} is a {f.kind}")
        else:
            try:
                ZoneInfo(str(spec["tz"]))
            except (ZoneInfoNotFoundError, ValueError):
                ck.add(f"{key}.tz", f"tz must be a time zone name such as Asia/Shanghai or Europe/London; got {spec['tz']!r}")


def _check_map(mp: dict, f: Field, key: str, ck: _Checker) -> dict:
    """A value map with its keys folded (case-insensitive, stripped); YAML's yes/no/on/off keys match those words."""
    out: dict = {}
    for k, v in mp.items():
        if v is not None:
            _check_value(v, f, f"{key}.{k}", ck)
        words = (_YAML_TRUE if k else _YAML_FALSE) if isinstance(k, bool) else (_fold(k),)
        for w in words:
            if w in out and out[w] != v:
                ck.add(f"{key}.{k}", f"{k!r} is mapped twice (keys are compared without case and spaces)")
            out[w] = v
    return out


def _check_value(v, f: Field, key: str, ck: _Checker) -> None:
    """A constant or a map's value must be one the field accepts."""
    text = str(v).strip().lower()
    if f.choices:
        allowed = {c.lower() for c in f.choices} | {a.lower() for names in f.choices.values() for a in names}
        if text not in allowed:
            ck.add(key, f"{f.name} must be one of {', '.join(f.choices)}; got {v!r}")
    elif f.kind == "bool" and not isinstance(v, bool) and text not in _TRUE | _FALSE:
        ck.add(key, f"{f.name} is true or false; got {v!r}")
    elif f.kind in ("int", "float") and not isinstance(v, bool) and pd.isna(pd.to_numeric(pd.Series([text]), errors="coerce")[0]):
        ck.add(key, f"{f.name} is a number; got {v!r}")


def _check_condition(rule, key: str, ck: _Checker) -> dict:
    """A condition: ``{column: test}``, all must hold; a test is a value, a list of values, or {not|gt|ge|lt|le: ...}."""
    if not isinstance(rule, dict) or not rule:
        ck.add(key, f"a condition is a mapping of columns to values, e.g. {{outcome: HANG}} or {{q_time: {{gt: 0}}}}; got {rule!r}")
        return {}
    out = {}
    for col, test in rule.items():
        if isinstance(test, dict):
            if len(test) != 1 or next(iter(test)) not in _OPS:
                ck.add(f"{key}.{col}", f"a test is a value, a list of values, or one of {', '.join(_OPS)}; got {test!r}")
                continue
            op, arg = next(iter(test.items()))
            if op != "not" and (isinstance(arg, bool) or not isinstance(arg, (int, float))):
                ck.add(f"{key}.{col}.{op}", f"{op} compares with a number; got {arg!r}")
                continue
            test = {op: [_fold(a) for a in (arg if isinstance(arg, list) else [arg])] if op == "not" else float(arg)}
        else:
            test = [_fold(a) for a in (test if isinstance(test, list) else [test])]
        out[_col(col)] = test
    return out


def _col(name) -> str:
    """A column name as :func:`qa_lib.ingest.read_table` gives it: stripped, lower-cased."""
    return str(name).strip().lower()


def _fold(v) -> str:
    """A value as compared with the file's: text, stripped, without case; an empty or null value is ''."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v).strip().casefold()


def _spec_columns(spec: dict) -> list[tuple[str, str]]:
    """(key, column) of every column a field spec reads."""
    if "column" in spec:
        return [("column", spec["column"])]
    if "join" in spec:
        return [(f"join.{i}", c) for i, c in enumerate(spec["join"])]
    out = []
    for i, it in enumerate(spec.get("first_of", [])):
        out += [(f"first_of.{i}", c) for _, c in _spec_columns(it)]
    return out


# ----------------------------------------------------------------------------- applying a mapping
def apply_mapping(frame: pd.DataFrame, mapping: Mapping | dict, *, kind: str | None = None, source: str = "<data>") -> pd.DataFrame:
    """The center's ``frame`` (as :func:`qa_lib.ingest.read_table` reads it) in our columns for import ``kind``.

    Returns a frame with one column per mapped field and ``_row`` (the spreadsheet row of each record in the
    original file), ready for :meth:`qa_lib.store.Store.import_frame`, which validates it. ``attrs`` holds
    ``dropped`` (rows left out by each drop rule), ``duplicates_removed`` (with ``distinct: true``) and
    :data:`qa_lib.ingest.ABSENT_STAYS_MISSING`. Pure: the frame is not changed.

    Raises :class:`ValidationError`: at the mapping's keys for a column the file does not have; at the file's
    rows for a value the map does not know (one line per value, with its number of rows), a duration or a
    date that does not read in the given unit or format, a local time that does not exist in ``tz``.
    """
    m = mapping if isinstance(mapping, Mapping) else check_mapping(mapping, kind=kind)
    if kind is not None and kind != m.kind:
        raise ParameterError(f"kind must be the mapping's kind {m.kind!r}; got {kind!r}")
    df = frame.copy()
    df.columns = [_col(c) for c in df.columns]
    rows = df[ROW] if ROW in df.columns else pd.Series(np.arange(2, len(df) + 2), index=df.index)
    _check_columns(df, m, source)
    col = _Collector(source, rows)
    drop = np.zeros(len(df), dtype=bool)
    dropped = {}
    for i, rule in enumerate(m.drop):
        hit = _condition(df, rule, col) & ~drop
        dropped[m.drop_text[i] if i < len(m.drop_text) else _rule_text(rule)] = int(hit.sum())
        drop |= hit
    if col.problems:
        raise ValidationError(col.problems, source)
    df, rows = df.loc[~drop], rows.loc[~drop]
    col = _Collector(source, rows)
    ours = targets(m.kind)
    out = pd.DataFrame({name: _values(df, name, spec, ours[name], col) for name, spec in m.fields.items()}, index=df.index)
    if col.problems:
        raise ValidationError(col.problems, source)
    out[ROW] = rows.to_numpy()
    removed = 0
    if m.distinct:
        before = len(out)
        out = out.loc[~out.drop(columns=ROW).astype(str).duplicated()]
        removed = before - len(out)
    out = out.reset_index(drop=True)
    out.attrs.update({ABSENT_STAYS_MISSING: True, "dropped": dropped, "duplicates_removed": removed})
    return out


def _check_columns(df: pd.DataFrame, m: Mapping, source: str) -> None:
    """Every column the mapping reads must be in the file; the mistake is the mapping's, at its key."""
    ck = _Checker(m.source, m.lines)
    have = [c for c in df.columns if c != ROW]
    for key, c in m.columns():
        if c not in df.columns:
            near = difflib.get_close_matches(c, have, n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            shown = ", ".join(map(repr, have[:40])) + (" ..." if len(have) > 40 else "")
            ck.add(key, f"no column {c!r} in {source}{hint}; its columns: {shown}")
    if ck.problems:
        raise ValidationError(ck.problems, m.source)


def _rule_text(rule: dict) -> str:
    """A drop rule as written, for people: ``outcome = AGENT and server = NO_SERVER``."""
    def one(c, t):
        if isinstance(t, dict) and len(t) == 1:
            op, arg = next(iter(t.items()))
            return f"{c} {dict(gt='>', ge='≥', lt='<', le='≤', **{'not': 'is not'}).get(op, op)} {arg}"
        return f"{c} = {t}" if not isinstance(t, list) else f"{c} in {t}"
    return " and ".join(one(c, t) for c, t in rule.items())


def _text(df: pd.DataFrame, column: str) -> pd.Series:
    """A column as stripped text, <NA> where blank."""
    s = df[column].astype("string").str.strip()
    return s.mask((s == "").fillna(True))


def _condition(df: pd.DataFrame, rule: dict, col: _Collector) -> np.ndarray:
    """Rows where every test of ``rule`` holds (a blank value is '' for value tests and never passes a comparison)."""
    hit = np.ones(len(df), dtype=bool)
    for c, test in rule.items():
        s = _text(df, c)
        if isinstance(test, dict) and "not" not in test:
            op, arg = next(iter(test.items()))
            num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            col.mask(s.notna().to_numpy() & np.isnan(num), c, lambda v: f"not a number, compared ({op} {arg:g}) by the mapping: {v!r}", s)
            with np.errstate(invalid="ignore"):
                hit &= {"gt": num > arg, "ge": num >= arg, "lt": num < arg, "le": num <= arg}[op]
            continue
        folded = s.fillna("").str.casefold()
        inside = folded.isin(test["not"] if isinstance(test, dict) else test).to_numpy(dtype=bool)
        hit &= ~inside if isinstance(test, dict) else inside
    return hit


def _source(df: pd.DataFrame, spec: dict) -> tuple[pd.Series, str]:
    """A field's raw text (``column``, ``join`` or ``first_of``) and the column named in its problems."""
    if "column" in spec:
        return _text(df, spec["column"]), spec["column"]
    if "join" in spec:
        parts = [_text(df, c) for c in spec["join"]]
        out = parts[0]
        for p in parts[1:]:
            if spec.get("skip_empty"):
                out = out.where(p.isna(), out + spec.get("sep", " ") + p).fillna(p)
            else:
                out = out + spec.get("sep", " ") + p  # a missing part leaves the whole value missing
        return out, "+".join(spec["join"])
    firsts = [_source(df, it) for it in spec["first_of"]]
    out = firsts[0][0]
    for s, _ in firsts[1:]:
        out = out.fillna(s)
    return out, firsts[0][1]


def _values(df: pd.DataFrame, name: str, spec: dict, f: Field, col: _Collector) -> pd.Series:
    """One of our fields from the center's frame, read as its spec says."""
    if "value" in spec:
        s = pd.Series([spec["value"]] * len(df), index=df.index, dtype=object)
    else:
        s, where = _source(df, spec)
        if spec.get("missing"):
            s = s.mask(s.str.casefold().isin(spec["missing"]).fillna(False).to_numpy(dtype=bool))
        if "map" in spec:
            s = _mapped(s, spec, name, where, col)
        elif "unit" in spec:
            s = _duration(s, spec["unit"], name, where, col)
        elif f.kind in ("date", "datetime") and ("format" in spec or "tz" in spec):
            s = _datetime(s, spec, name, where, col)
        else:
            s = s.astype(object).where(s.notna(), None)
    if "when" in spec:
        held = _condition(df, spec["when"], col)
        s = s.where(held, spec.get("else")) if spec.get("else") is not None else s.where(held)
    return s


def _mapped(s: pd.Series, spec: dict, name: str, where: str, col: _Collector) -> pd.Series:
    """Values through the map; one problem per value the map does not know (unless ``other`` is given)."""
    mp = spec["map"]
    folded = s.fillna("").str.casefold()  # a key "" maps the blanks
    known = folded.isin(list(mp)).to_numpy(dtype=bool)
    out = folded.astype(object).map(mp).astype(object)
    out = out.where(known, None)
    unknown = s.notna().to_numpy() & ~known
    if unknown.any() and "other" in spec:
        out[unknown] = spec["other"]
    elif unknown.any():
        seen = pd.DataFrame({"value": s[unknown].to_numpy(dtype=object), "row": col.rows[unknown]})
        g = seen.groupby("value", sort=False)["row"].agg(["size", "min"]).sort_values("min")
        for v, n, first in zip(g.index[:200], g["size"].to_numpy()[:200], g["min"].to_numpy()[:200]):
            n = int(n)
            col.problems.append(Problem(col.source, int(first), where, f"value not in fields.{name}.map: {v!r} ({n:,} row{'s' * (n != 1)}, "
                                        "the first here): add it to the map, or give other:", count=n))
    return out


def _duration(s: pd.Series, unit: str, name: str, where: str, col: _Collector) -> pd.Series:
    """Seconds from durations in ``unit`` (``hh:mm:ss``, ``mm:ss``, or a number of seconds, minutes ...)."""
    layout = UNITS[unit]
    if isinstance(layout, float):
        num = pd.to_numeric(s, errors="coerce").astype(float)
        bad = s.notna().to_numpy() & num.isna().to_numpy()
        col.mask(bad, where, lambda v: f"not a number of {unit} for {name}: {v!r}", s)
        return num * layout
    parts = s.str.extract(_CLOCK[layout])
    h = pd.to_numeric(parts[0], errors="coerce").fillna(0).astype(float)
    mnt, sec = (pd.to_numeric(parts[i], errors="coerce").astype(float) for i in (1, 2))
    ok = (sec < 60) & ((mnt < 60) if layout == "hms" else mnt.notna())
    bad = s.notna().to_numpy() & ~ok.fillna(False).to_numpy(dtype=bool)
    rule = "minutes and seconds 00-59" if layout == "hms" else "seconds 00-59"
    col.mask(bad, where, lambda v: f"not a duration in {unit} for {name} ({rule}): {v!r}", s)
    return (h * 3600 + mnt * 60 + sec).where(ok.fillna(False))


def _datetime(s: pd.Series, spec: dict, name: str, where: str, col: _Collector) -> pd.Series:
    """Dates or times read with ``format`` and, given ``tz``, moved from that zone to the center's local time."""
    fmt = spec.get("format")
    raw = s.astype(object).where(s.notna(), None)
    parsed = pd.to_datetime(raw, format=fmt, errors="coerce") if fmt else pd.to_datetime(raw, format="mixed", errors="coerce")
    bad = s.notna().to_numpy() & parsed.isna().to_numpy()
    how = f"does not match the format {fmt!r}" if fmt else "not a date or time"
    col.mask(bad, where, lambda v: f"{how} for {name}: {v!r}", s)
    tz = spec.get("tz")
    if tz is None:
        return parsed
    if getattr(parsed.dt, "tz", None) is None:
        local = parsed.dt.tz_localize(str(tz), ambiguous="NaT", nonexistent="NaT")
        gap = parsed.notna().to_numpy() & local.isna().to_numpy()
        col.mask(gap, where, lambda v: f"{v!r} does not exist or happens twice in {tz} (a daylight-saving change) for {name}: "
                 "give the time with its UTC offset", s)
        parsed = local
    return parsed.dt.tz_convert(settings().timezone).dt.tz_localize(None)


# ----------------------------------------------------------------------------- proposing a mapping from a file's header
#: Header names (Chinese and English, compared without case, spaces, _ - / and brackets) that usually hold each field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "contact_id": ("contact_id", "call_id", "callid", "通话id", "通话编号", "呼叫id", "呼叫编号", "流水号", "会话id", "会话编号", "session_id", "ticket_id", "工单编号"),
    "agent_id": ("agent_id", "agentid", "agent", "坐席工号", "座席工号", "工号", "座席号", "坐席号", "坐席id", "客服工号", "员工编号", "server", "employee_id", "staff_id"),
    "name": ("name", "姓名", "坐席姓名", "客服姓名", "员工姓名", "agent_name"),
    "team": ("team", "班组", "组别", "团队", "小组", "team_name"),
    "supervisor": ("supervisor", "组长", "班长", "主管", "team_leader"),
    "hire_date": ("hire_date", "入职日期", "入职时间", "hired"),
    "status": ("status", "状态", "在职状态"),
    "language": ("language", "languages", "语言", "服务语种"),
    "start_time": ("start_time", "来电时间", "开始时间", "呼入时间", "通话开始时间", "开始", "call_start", "starttime", "begin_time", "arrival_time"),
    "channel": ("channel", "渠道", "来源渠道", "submitted_via", "via"),
    "direction": ("direction", "呼叫方向", "呼入呼出", "方向", "call_direction", "inout"),
    "contact_type": ("contact_type", "来电类型", "业务类型", "服务类型", "call_type", "type"),
    "topic": ("topic", "主题", "业务小类", "子类", "subject"),
    "queue": ("queue", "队列", "技能组", "skill", "skill_group"),
    "customer_id": ("customer_id", "客户编号", "客户id", "客户号", "会员号", "cust_id", "customer"),
    "wait_seconds": ("wait_seconds", "排队时长", "等待时长", "排队时间", "等待时间", "queue_time", "q_time", "wait_time", "wait"),
    "answered": ("answered", "是否接通", "接通", "是否应答", "应答"),
    "abandoned": ("abandoned", "是否放弃", "放弃", "abandon"),
    "talk_seconds": ("talk_seconds", "通话时长", "通话时间", "talk_time", "talk", "ser_time", "service_time"),
    "hold_seconds": ("hold_seconds", "保持时长", "保持时间", "hold_time", "hold"),
    "acw_seconds": ("acw_seconds", "话后处理时长", "话后处理", "事后处理时长", "话后时长", "整理时长", "后处理时长", "acw", "wrap_time", "wrap_up_time", "after_call_work"),
    "transferred": ("transferred", "是否转接", "转接"),
    "escalated": ("escalated", "是否升级", "升级"),
    "fcr": ("fcr", "是否解决", "解决状态", "一次解决", "首次解决", "一次性解决", "first_contact_resolution", "resolved"),
    "recording_ref": ("recording_ref", "录音", "录音地址", "录音文件", "recording", "recording_url"),
    "transcript": ("transcript", "转写文本", "通话文本", "对话内容", "聊天记录"),
    "customer_tier": ("customer_tier", "客户等级", "会员等级", "卡级别", "tier"),
    "brand": ("brand", "品牌"),
    "csat": ("csat", "满意度", "满意度评分", "satisfaction"),
    "nps": ("nps", "推荐度", "推荐意愿"),
    "feedback_id": ("feedback_id", "反馈编号", "投诉编号", "complaint_id", "工单号"),
    "received_at": ("received_at", "收到时间", "反馈时间", "投诉时间", "date_received", "received"),
    "text": ("text", "内容", "反馈内容", "投诉内容", "评价内容", "verbatim", "narrative", "consumer_complaint_narrative", "comment"),
    "category": ("category", "分类", "类别", "投诉类别", "product"),
    "lang": ("lang", "language", "语言"),
    "inspector_id": ("inspector_id", "质检员工号", "质检工号", "质检员", "质检员编号", "评分人", "inspector"),
    "home_team": ("home_team", "原班组", "来源班组", "原组别"),
    "is_expert": ("is_expert", "校准专家", "是否专家", "专家", "expert"),
    "active": ("active", "是否在岗", "在岗"),
    "evaluation_id": ("evaluation_id", "质检单号", "质检编号", "评估编号", "评分单号", "质检id", "evaluation"),
    "scorecard_id": ("scorecard_id", "质检表", "质检表编号", "评分表", "scorecard"),
    "scorecard_version": ("scorecard_version", "质检表版本", "评分表版本", "版本", "version"),
    "evaluated_at": ("evaluated_at", "质检时间", "评分时间", "评估时间", "质检日期", "evaluation_time"),
    "arm": ("arm", "抽检方式", "抽样方式", "抽检类型", "sample_type"),
    "calibration_session_id": ("calibration_session_id", "校准场次", "校准会议", "校准编号", "calibration_session"),
    "item_id": ("item_id", "质检项编号", "质检项", "评分项", "评分项编号", "考核项", "item"),
    "answer": ("answer", "结果", "评分结果", "得分结果", "答案", "result"),
    "item_comment": ("item_comment", "评语", "项目备注", "扣分说明"),
    "session_id": ("session_id", "场次编号", "校准场次", "会议编号"),
    "held_on": ("held_on", "校准日期", "会议日期", "日期", "date"),
    "expert_inspector_id": ("expert_inspector_id", "专家", "校准专家", "专家工号"),
    "note": ("note", "说明", "备注", "notes"),
}
#: Header words of an outcome column (接通 / 放弃 as values), and the values read as answered or abandoned.
_OUTCOME = ("outcome", "结果", "通话结果", "呼叫结果", "call_result", "disposition", "result")
_ANSWERED_WORDS = ("agent", "answered", "answer", "served", "接通", "已接通", "应答", "已应答")
_ABANDONED_WORDS = ("hang", "abandoned", "abandon", "放弃", "未接通", "挂断", "呼损")
_YES = {"是", "y", "yes", "true", "1", "已解决", "解决", "已接通", "接通", "有", "√"}
_NO = {"否", "n", "no", "false", "0", "未解决", "没解决", "未接通", "无", "×"}
_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE_ONLY = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$")
_STARTS = ("start", "entry", "begin", "arriv", "开始", "来电", "呼入")


def _norm(name) -> str:
    """A header as compared with the synonyms: lower-cased, without spaces, _ - / ? and brackets."""
    return re.sub(r"[\s_\-/?？()（）\[\]【】:：.]", "", str(name).strip().lower())


def _q(v) -> str:
    """A value of the file as a YAML double-quoted scalar (safe in comments too: line breaks and controls escaped)."""
    text = json.dumps(str(v)[:60], ensure_ascii=False)
    return re.sub(r"[\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", lambda m: f"\\u{ord(m.group()):04x}", text)


def suggest_mapping(frame: pd.DataFrame, kind: str, *, source: str = "FILE", sample: int = 2000) -> tuple[str, list[str]]:
    """A commented mapping for ``frame`` (a center's file) as import ``kind``, and the required fields it could not find.

    Header names are matched against Chinese and English synonyms (:data:`SYNONYMS`); a sample of the values
    guesses duration units (``00:02:23`` → hh:mm:ss), date formats (``2020/3/18`` → ``%Y/%m/%d``), a date column
    and a time column to join, and value maps for yes/no and choice fields. The text is for a person to check
    and edit; :func:`load_mapping` reads it once edited.
    """
    ours = targets(kind)
    df = frame.head(sample).copy()
    df.columns = [_col(c) for c in df.columns]
    headers = [c for c in df.columns if c != ROW]
    found = _match_headers(headers, ours)
    lines = [f"# Mapping proposed by `qa import {kind} {source} --suggest-map`: check every line, then run", f"#   qa import {kind} {source} --map THIS_FILE",
             "# A field is `ours: their column`, or {column: ..., map: {...}, unit: ..., format: ...}; docs/import.md has every key.",
             f"kind: {kind}", "fields:"]
    keys = set(entity(IMPORT_KINDS[kind]).key) if kind != "evaluations" else set()  # evaluations: one row per item, ids repeat
    whole = frame.copy(deep=False)
    whole.columns = df.columns
    for name, f in ours.items():
        if name in found:  # a value map lists every value of the whole file (a rare one, e.g. 草稿, may come late)
            lines += _suggest_field(whole if f.kind == "bool" or f.choices else df, name, f, found[name], name in keys)
    if "start_time" in ours and "start_time" not in found:
        joined = _date_and_time(df, headers)
        if joined:
            found["start_time"] = joined
            lines.append(f"  start_time: {{join: [{_q(joined[0])}, {_q(joined[1])}], sep: \" \"}}   # a date column and a time column joined: check which time")
    lacking = [n for n, f in ours.items() if f.required and n not in found]
    for name in lacking:
        f = ours[name]
        hint = f"one of {', '.join(f.choices)}" if f.choices else f"{'an' if f.kind[0] in 'aeiou' else 'a'} {f.kind}"
        lines.append(f"  # {name}: {{value: ...}}   # REQUIRED, not found in the file: a column of the file, or a constant ({hint})")
    used = {c for v in found.values() for c in (v if isinstance(v, tuple) else (v,))}
    rest = [c for c in headers if c not in used]
    if rest:
        lines.append("# Columns of the file not used: " + ", ".join(_q(c) for c in rest))
    return "\n".join(lines) + "\n", lacking


def _match_headers(headers: list[str], ours: dict) -> dict[str, str]:
    """Our field → the file's column: exact synonyms first, then a synonym inside a header; each column used once."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    norm = {h: _norm(h) for h in headers}
    for exact in (True, False):
        for name in ours:
            if name in found:
                continue
            syns = [_norm(s) for s in SYNONYMS.get(name, (name,))]
            for h in headers:
                hit = norm[h] in syns if exact else any(len(s) >= 2 and s in norm[h] for s in syns if not s.isascii() or len(s) >= 5)
                if h not in taken and hit:
                    found[name] = h
                    taken.add(h)
                    break
    for name in ("answered", "abandoned"):
        if name in ours and name not in found:
            outcome = next((h for h in headers if norm[h] in {_norm(w) for w in _OUTCOME}), None)
            if outcome:
                found[name] = outcome
    return found


def _suggest_field(df: pd.DataFrame, name: str, f: Field, column: str, is_key: bool = False) -> list[str]:
    """The line(s) proposing ``name`` from ``column``, with the reading its sample values suggest."""
    s = _text(df, column).dropna()
    values = list(pd.unique(s.to_numpy(dtype=object)))
    example = ", ".join(_q(v) for v in values[:4])
    head = f"  {name}: {{column: {_q(column)}"
    note = f"   # values like {example}" if example else "   # no values in the sample"
    if f.kind in ("int", "float") and f.unit == "s":
        unit = _guess_unit(s, column)
        return [f"{head}, unit: {unit}}}{note}"]
    if f.kind in ("date", "datetime"):
        fmt = _guess_format(s)
        return [f"{head}{', format: ' + _q(fmt) if fmt else ''}}}{note}"]
    if f.kind == "bool" or f.choices:
        return _suggest_map(head, name, f, values, note)
    if is_key and s.duplicated().any():
        note += "   # NOT unique in the sample: join it with another column ({join: [a, b], sep: \"-\"}), or for a list made from a log, distinct: true"
    return [f"{head}}}{note}"]


def _guess_unit(s: pd.Series, column: str) -> str:
    """The duration unit of a sample: a clock layout, else a number whose unit the header may name (seconds by default)."""
    if len(s) and s.str.fullmatch(r"\d+:\d{1,2}:\d{1,2}(\.\d+)?").all():
        return "hh:mm:ss"
    if len(s) and s.str.fullmatch(r"\d+:\d{1,2}(\.\d+)?").all():
        return "mm:ss"
    h = column.lower()
    if "毫秒" in h or re.search(r"(^|[^a-z])ms($|[^a-z])", h):
        return "milliseconds"
    if "分钟" in h or re.search(r"(^|[^a-z])min", h):
        return "minutes"
    return "seconds"


def _guess_format(s: pd.Series) -> str | None:
    """A date format for values that are not ISO (2020/3/18 → %Y/%m/%d); None when the default reading will do."""
    if not len(s):
        return None
    for pattern, fmt in ((r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d"), (r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}", "%Y/%m/%d %H:%M:%S"),
                         (r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}", "%Y/%m/%d %H:%M"), (r"\d{4}年\d{1,2}月\d{1,2}日", "%Y年%m月%d日"),
                         (r"\d{8}", "%Y%m%d")):
        if s.str.fullmatch(pattern).all():
            return fmt
    if s.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").all():
        return "%m/%d/%Y"  # or %d/%m/%Y: the note says to check
    return None


def _suggest_map(head: str, name: str, f: Field, values: list, note: str) -> list[str]:
    """A value map for a yes/no or choice field from the sample's values; values it cannot read are left as comments."""
    if len(values) > 30:
        return [f"{head}}}{note}   (too many different values for a map)"]
    guess = {v: _guess_value(v, name, f) for v in values}
    if f.choices and all(g is not None and str(v).strip().lower() == g for v, g in guess.items()):
        return [f"{head}}}{note}"]  # already our values: no map needed
    out = [f"  {name}:", f"    column: {head.split('column: ', 1)[1]}{note}", "    map:"]
    for v, g in guess.items():
        if g is None and f.kind == "bool":
            out.append(f"      # {_q(v)}: ?        # not recognised: true or false?")
        elif g is None:
            out.append(f"      # {_q(v)}: ?        # not recognised: one of {', '.join(f.choices or ())}")
        else:
            out.append(f"      {_q(v)}: {json.dumps(g) if isinstance(g, bool) else g}")
    return out


def _guess_value(v: str, name: str, f: Field):
    """Our value for one of the file's values: True / False, a choice, or None (not recognised)."""
    low = str(v).strip().lower()
    if f.kind == "bool":
        if name in ("answered", "abandoned") and low not in _YES | _NO:
            words = _ANSWERED_WORDS if name == "answered" else _ABANDONED_WORDS
            other = _ABANDONED_WORDS if name == "answered" else _ANSWERED_WORDS
            return True if any(w in low for w in words) else False if any(w in low for w in other) else None
        return True if low in _YES else False if low in _NO else None
    for canon, aliases in (f.choices or {}).items():
        if low == canon.lower() or low in (a.lower() for a in aliases):
            return canon
    return None


def _date_and_time(df: pd.DataFrame, headers: list[str]) -> tuple[str, str] | None:
    """A date-only column and a time-of-day column (one named like a start) that together give a start time."""
    sample = {h: _text(df, h).dropna() for h in headers}
    dates = [h for h, s in sample.items() if len(s) and s.str.fullmatch(_DATE_ONLY).all()]
    times = [h for h, s in sample.items() if len(s) and s.str.fullmatch(_TIME_OF_DAY).all()]
    if not dates or not times:
        return None
    starts = [h for h in times if any(w in h for w in _STARTS)]
    return dates[0], (starts or times)[0]
