"""Reading files in every supported format and encoding, and locating every kind of bad value."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import CONTACTS, write_csv
from qa_lib.errors import ParameterError, ValidationError
from qa_lib.ingest import ROW, read_table, validate, validate_kind


def problems(exc: ValidationError) -> list[str]:
    return [str(p) for p in exc.problems]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_detected(tmp_path, encoding):
    path = write_csv(CONTACTS, tmp_path / "contacts.csv", encoding)
    df = read_table(path)
    assert list(df.columns) == list(CONTACTS.columns)  # no BOM left in the first header
    assert df.loc[1, "channel"] == "热线"
    out = validate("contacts", df, "contacts.csv")
    assert list(out["channel"]) == ["hotline", "hotline"]
    assert list(out["contact_type"]) == ["service", "consultation"]


def test_declared_wrong_encoding_is_located(tmp_path):
    path = write_csv(CONTACTS, tmp_path / "c.csv", "gbk")
    # the first non-ASCII byte is in the second data row (line 3)
    with pytest.raises(ValidationError, match=r"c\.csv:3::.*not valid utf-8"):
        read_table(path, encoding="utf-8")
    with pytest.raises(ParameterError, match="encoding must be a codec name"):
        read_table(path, encoding="no-such-codec")


def test_excel_and_parquet_read(tmp_path):
    CONTACTS.to_excel(tmp_path / "c.xlsx", index=False)
    a = validate("contacts", read_table(tmp_path / "c.xlsx"))
    typed = validate("contacts", CONTACTS)
    typed.drop(columns=[ROW]).to_parquet(tmp_path / "c.parquet")
    b = validate("contacts", read_table(tmp_path / "c.parquet"))
    pd.testing.assert_frame_equal(a.drop(columns=[ROW]), b.drop(columns=[ROW]), check_dtype=False)
    assert a["start_time"].iloc[1] == pd.Timestamp("2026-10-05 10:02:30")


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ParameterError, match="file type must be one of"):
        read_table(tmp_path / "x.json")
    with pytest.raises(ParameterError, match="existing file"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValidationError, match="file is empty"):
        read_table(tmp_path / "empty.csv")


def test_truncated_csv_is_located(tmp_path):
    text = CONTACTS.to_csv(index=False)
    (tmp_path / "t.csv").write_text(text + 'K3,"2026-10-05 11:00:00,hotline\n')
    with pytest.raises(ValidationError, match=r"t\.csv:4:start_time: a quoted value is never closed"):
        read_table(tmp_path / "t.csv")


def test_every_problem_is_listed_with_row_and_column():
    bad = CONTACTS.copy()
    bad.loc[0, "start_time"] = "yesterday-ish"
    bad.loc[1, "talk_seconds"] = "-5"
    bad.loc[1, "channel"] = "fax"
    bad.loc[0, "wait_seconds"] = "abc"
    bad.loc[1, "answered"] = "maybe"
    with pytest.raises(ValidationError) as info:
        validate("contacts", bad, "contacts.csv")
    got = problems(info.value)
    assert "contacts.csv:2:start_time: unparseable time: 'yesterday-ish'" in got
    assert "contacts.csv:3:talk_seconds: must not be negative; got '-5'" in got
    assert "contacts.csv:3:channel: must be one of hotline, online, email; got 'fax'" in got
    assert "contacts.csv:2:wait_seconds: not a number: 'abc'" in got
    assert "contacts.csv:3:answered: must be true/false (yes/no, 1/0); got 'maybe'" in got
    assert "rejected, nothing was stored: 5 problems" in str(info.value)


def test_missing_column_missing_value_unknown_column_duplicate_id():
    bad = CONTACTS.drop(columns=["direction"]).assign(colour="red")
    bad = pd.concat([bad, bad.iloc[[0]]], ignore_index=True)
    bad.loc[1, "agent_id"] = ""
    bad.loc[1, "start_time"] = " "
    with pytest.raises(ValidationError) as info:
        validate("contacts", bad, "f.csv")
    got = problems(info.value)
    assert "f.csv:1:direction: missing column" in got
    assert any(p.startswith("f.csv:1:colour: unknown column; allowed:") for p in got)
    assert "f.csv:3:start_time: missing value" in got
    assert "f.csv:4:contact_id: duplicate contact_id 'K1' (first on row 2)" in got
    # answered without an agent breaks a cross-column rule
    assert "f.csv:3:agent_id: an answered contact needs the agent who answered it" in got


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("csat", "7", "csat: must be ≤ 5; got '7'"),
        ("csat", "0", "csat: must be ≥ 1; got '0'"),
        ("csat", "3.5", "csat: must be a whole number; got '3.5'"),
        ("nps", "11", "nps: must be ≤ 10; got '11'"),
        ("received_at", "2999-01-01", "received_at: is in the future: '2999-01-01'"),
    ],
)
def test_out_of_range_values(column, value, message):
    voc = pd.DataFrame({"feedback_id": ["V1"], "received_at": ["2026-10-01 08:00"], "channel": ["online"], "text": ["好"], "csat": ["4"], "nps": ["9"]})
    voc.loc[0, column] = value
    with pytest.raises(ValidationError) as info:
        validate("voc_feedback", voc, "voc.csv")
    assert problems(info.value) == [f"voc.csv:2:{message}"]


def test_rules_answered_and_abandoned():
    bad = CONTACTS.copy()
    bad.loc[0, "abandoned"] = "true"
    with pytest.raises(ValidationError, match="cannot be both answered and abandoned"):
        validate("contacts", bad)
    ab = CONTACTS.copy()
    ab.loc[0, ["answered", "abandoned", "agent_id", "talk_seconds"]] = ["false", "true", "", "30"]
    with pytest.raises(ValidationError, match="not answered has no talk time"):
        validate("contacts", ab)


def test_times_with_offsets_are_converted_to_center_time():
    c = CONTACTS.copy()
    c.loc[0, "start_time"] = "2026-10-05T01:15:00Z"
    c.loc[1, "start_time"] = "2026-10-05T10:02:30+08:00"
    out = validate("contacts", c)
    assert list(out["start_time"]) == [pd.Timestamp("2026-10-05 09:15:00"), pd.Timestamp("2026-10-05 10:02:30")]


def test_defaults_and_optional_columns():
    out = validate("contacts", CONTACTS)
    assert out["customer_tier"].tolist() == ["none", "none"]
    assert out["transferred"].tolist() == [False, False]
    assert out["fcr"].isna().all()
    assert out[ROW].tolist() == [2, 3]


def test_evaluations_long_format_split_and_header_consistency():
    rows = pd.DataFrame(
        {
            "evaluation_id": ["E1", "E1", "E2"],
            "contact_id": ["K1", "K1", "K2"],
            "agent_id": ["A1", "A1", "A2"],
            "inspector_id": ["Q1", "Q1", "Q1"],
            "scorecard_id": ["inbound_service"] * 3,
            "scorecard_version": ["1", "1", "1"],
            "evaluated_at": ["2026-10-06 10:00"] * 3,
            "arm": ["random", "random", "targeted"],
            "item_id": ["greeting", "closing", "greeting"],
            "answer": ["yes", "no", "yes"],
        }
    )
    frames = validate_kind("evaluations", rows, "e.csv")
    assert len(frames["evaluations"]) == 2 and len(frames["evaluation_items"]) == 3
    rows.loc[1, "inspector_id"] = "Q9"
    rows.loc[2, "item_id"] = "greeting"
    with pytest.raises(ValidationError) as info:
        validate_kind("evaluations", rows, "e.csv")
    assert "e.csv:3:inspector_id: differs from row 2 of the same evaluation" in problems(info.value)
    dup = pd.concat([rows.iloc[[0]], rows.iloc[[0]]]).assign(inspector_id="Q1")
    with pytest.raises(ValidationError, match="duplicate evaluation_id\\+item_id 'E1/greeting'"):
        validate_kind("evaluations", dup, "e.csv")


def test_unknown_kind():
    with pytest.raises(ParameterError, match=r"kind must be one of \[.*'contacts'.*\]; got 'calls'"):
        validate_kind("calls", CONTACTS)


def test_problem_list_is_capped_in_message():
    many = pd.concat([CONTACTS] * 60, ignore_index=True)
    many["contact_id"] = [f"K{i}" for i in range(len(many))]
    many["channel"] = "fax"
    with pytest.raises(ValidationError) as info:
        validate("contacts", many, "m.csv")
    assert len(info.value.problems) == 120
    assert "... and 70 more" in str(info.value)


def test_problem_message_gives_the_true_total_per_check_and_overall():
    """4,054 bad rows and 300 duplicates: the message counts them all, though only 200 lines per check are kept."""
    many = pd.concat([CONTACTS] * 2200, ignore_index=True)
    many["contact_id"] = [f"K{i}" for i in range(len(many))]
    many.loc[:4053, "talk_seconds"] = "00:02:23"
    many.loc[4100:4399, "contact_id"] = "K0"
    with pytest.raises(ValidationError) as info:
        validate("contacts", many, "m.csv")
    err, text = info.value, str(info.value)
    assert err.total == 4054 + 300 and len(err.problems) == 402
    assert text.startswith("m.csv rejected, nothing was stored: 4,354 problems in 2 checks:\n"
                           "  talk_seconds: not a number: 4,054 rows (first: row 2)\n"
                           "  contact_id: duplicate contact_id: 300 rows (first: row 4102)\nthe first 50 listed:")
    assert "m.csv:202:talk_seconds: not a number: 3,854 more rows, not listed one by one" in problems(err)
    assert text.endswith("... and 4,304 more")


# ----------------------------------------------------------------------------- hostile and broken files
# tests/data/bad/: every file is either rejected cleanly (exit 2, file:row:column named, no traceback,
# the database unchanged) or imported correctly. Regenerate with tests/data/bad/make_corpus.py;
# docs/bad-input.md lists what each gives.
import sqlite3  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from qa_lib.cli import main  # noqa: E402
from qa_lib.store import Store  # noqa: E402

BAD = Path(__file__).parent / "data" / "bad"

#: (file, --encoding) -> (row, column, message excerpt) of the expected problem.
REJECTED = {
    ("truncated_mid_row.csv", None): (3, "direction", "the last row has 3 of 15 values: the file looks cut off"),
    ("truncated_mid_quote.csv", None): (3, "transcript", "a quoted value is never closed"),
    ("ragged_row.csv", None): (2, "column P", "line 2 has 16 values but the header names 15 columns"),
    ("gbk.csv", "utf-8"): (2, "", "declared utf-8, but byte 200 (b'\\xc8') is not valid utf-8; the file is GBK"),
    ("utf8.csv", "gbk"): (2, "", "declared gbk, but the file is UTF-8"),
    ("duplicate_id_in_file.csv", None): (4, "contact_id", "duplicate contact_id 'KBAD0031' (first on row 2)"),
    ("duplicate_id_in_db.csv", None): (3, "contact_type", "K0000001 is already stored with contact_type = 'service', the file has 'consultation'"),
    ("duplicate_header.csv", None): (1, "contact_id", "column appears twice (columns A and C)"),
    ("negative_duration.csv", None): (3, "talk_seconds", "must not be negative; got '-30'"),
    ("absurd_duration.csv", None): (2, "talk_seconds", "must be ≤ 21600; got '144000'"),
    ("future_date.csv", None): (3, "start_time", "is in the future: '2099-01-01 09:00:00'"),
    ("eval_answer_not_in_options.csv", None): (5, "answer", "item empathy: 'excellent' is not an allowed answer (yes|partial|no)"),
    ("eval_total_500.csv", None): (2, "total_score", "must be ≤ 200; got '500'"),
    ("eval_total_mismatch.csv", None): (2, "total_score", "total_score 95 in the file, the scorecard gives 100.00"),
    ("empty.csv", None): (0, "", "file is empty"),
    ("header_only.csv", None): (2, "", "no data rows below the header"),
    ("binary_renamed.csv", None): (3, "", "binary data (a NUL byte at byte 8), not CSV text"),
    ("xlsx_renamed.csv", None): (0, "", "this is a zip archive (an .xlsx workbook?), not CSV text"),
    ("junk_zip.xlsx", None): (0, "", "not a valid .xlsx workbook"),
    ("csv_renamed.xlsx", None): (0, "", "not a valid .xlsx workbook (another file renamed .xlsx?): File is not a zip file"),
    ("merged_header.xlsx", None): (1, "column F", "empty header cell above values (merged or blank header cells?)"),
    ("merged_title_row.xlsx", None): (1, "column B-O", "the first row must name every column, with no title rows above it"),
}
TRANSCRIPT = "坐席:您好，请问有什么可以帮您？\n客户:导航地图不更新了。"
#: importable files -> expected stored values by contact_id
IMPORTED = {
    name: {"KBAD0001": {"start_time": pd.Timestamp("2026-10-05 09:15:00"), "channel": "hotline", "direction": "inbound",
                        "contact_type": "consultation", "answered": True, "talk_seconds": 180.0, "transcript": TRANSCRIPT},
           "KBAD0002": {"start_time": pd.Timestamp("2026-10-05 10:02:30"), "channel": "online", "transcript": None}}
    for name in ("gbk.csv", "utf8.csv", "utf8_bom.csv", "utf16_bom.csv")
}
# +08:00, Z and naive in one column: all converted to the center's local time (Asia/Shanghai, UTC+8)
IMPORTED["mixed_timezones.csv"] = {k: {"start_time": pd.Timestamp("2026-10-05 09:15:00")} for k in ("KBAD0011", "KBAD0012", "KBAD0013")}


def _kind(name: str) -> str:
    return "evaluations" if name.startswith("eval_") else "contacts"


def _copy_db(store: Store, folder: Path) -> Path:
    """A private copy of a SQLite store (the sqlite3 backup API, so a WAL is included)."""
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / "qa.sqlite"
    with sqlite3.connect(store.engine.url.database) as src, sqlite3.connect(dst) as out:
        src.backup(out)
    return dst


@pytest.fixture(scope="module")
def bad_db(loaded_store, tmp_path_factory) -> Path:
    """The samples, copied once for the rejected files (which must not change it)."""
    return _copy_db(loaded_store, tmp_path_factory.mktemp("bad"))


def _cli_import(name: str, db: Path, encoding: str | None = None, path: Path | None = None):
    args = ["import", _kind(name), str(path or BAD / name), "--db", str(db)] + (["--encoding", encoding] if encoding else [])
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _assert_rejected(db: Path, name: str, row: int, column: str, excerpt: str, encoding: str | None = None, path: Path | None = None):
    store = Store(f"sqlite:///{db}")
    try:
        before = store.counts()
        r = _cli_import(name, db, encoding, path)
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output and "nothing was stored" in r.output
        assert f"{name}:{row}:{column}: " in r.output and excerpt in r.output, r.output
        with pytest.raises(ValidationError) as info:
            store.import_file(_kind(name), path or BAD / name, encoding=encoding)
        assert any(str(p).startswith(f"{name}:{row}:{column}: ") and excerpt in p.message for p in info.value.problems), problems(info.value)
        assert store.counts() == before
    finally:
        store.engine.dispose()


def test_bad_corpus_is_complete():
    """Every file in tests/data/bad is covered by a case here (YAML ones by tests/test_rubric.py)."""
    files = {p.name for p in BAD.iterdir() if p.suffix not in (".py", ".md", ".yaml")}
    assert files == {n for n, _ in REJECTED} | set(IMPORTED)


@pytest.mark.parametrize("name, encoding", sorted(REJECTED, key=str), ids=lambda v: str(v))
def test_bad_corpus_rejected_cleanly(bad_db, name, encoding):
    _assert_rejected(bad_db, name, *REJECTED[name, encoding], encoding=encoding)


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_bad_corpus_importable_files_import_correctly(loaded_store, tmp_path, name):
    expected = IMPORTED[name]
    dbs = [_copy_db(loaded_store, tmp_path / way) for way in ("cli", "store")]
    r = _cli_import(name, dbs[0])
    assert r.exit_code == 0 and f"contacts: {len(expected)} added, 0 already stored" in r.output, r.output
    s = Store(f"sqlite:///{dbs[1]}")
    before = s.counts()
    assert s.import_file("contacts", BAD / name).inserted == {"contacts": len(expected)}
    assert s.counts()["contacts"] == before["contacts"] + len(expected)
    s.engine.dispose()
    for db in dbs:
        s = Store(f"sqlite:///{db}")
        got = s.read("contacts", s.table("contacts").c.contact_id.in_(list(expected))).set_index("contact_id").loc[list(expected)]
        for cid, values in expected.items():
            for col, want in values.items():
                v = got.loc[cid, col]
                assert (v is None or pd.isna(v)) if want is None else v == want, (db, cid, col, v)
        s.engine.dispose()


def test_huge_text_cell_is_refused_with_its_location(bad_db, tmp_path):
    """A 5 MB transcript cell: rejected (limit 100,000 characters per text cell), quickly, nothing stored."""
    text = (BAD / "utf8.csv").read_text(encoding="utf-8")
    big = text.replace("客户:导航地图不更新了。", "客户:" + "导航地图不更新了。" * 600_000, 1)  # 5.4 M characters, 16 MB of UTF-8
    path = tmp_path / "huge_cell.csv"
    path.write_text(big, encoding="utf-8")
    t0 = time.perf_counter()
    _assert_rejected(bad_db, "huge_cell.csv", 2, "transcript", "longer than 100000 characters", path=path)
    assert time.perf_counter() - t0 < 20


def test_tomorrow_plus_is_future_but_today_is_not(bad_db, tmp_path):
    """Times after now + 1 day are refused (contacts cannot start in the future); today is fine."""
    text = (BAD / "utf8.csv").read_text(encoding="utf-8")
    soon = (datetime.now() + timedelta(days=1, hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    path = tmp_path / "soon.csv"
    path.write_text(text.replace("2026-10-05 10:02:30", soon), encoding="utf-8")
    _assert_rejected(bad_db, "soon.csv", 3, "start_time", f"is in the future: '{soon}'", path=path)
    today = datetime.now().strftime("%Y-%m-%d 00:00:01")
    out = validate("contacts", read_table(path).assign(start_time=[today, today]), "ok.csv")
    assert (out["start_time"] == pd.Timestamp(today)).all()


def test_rows_already_stored_with_the_same_values_are_skipped(loaded_store, tmp_path):
    """A duplicate of a stored contact with identical values is not an error: it is skipped (re-import is idempotent)."""
    db = _copy_db(loaded_store, tmp_path / "db")
    row = loaded_store.read("contacts", loaded_store.table("contacts").c.contact_id == "K0000001")
    path = tmp_path / "again.csv"
    row.to_csv(path, index=False)
    r = _cli_import("again.csv", db, path=path)
    assert r.exit_code == 0 and "contacts: 0 added, 1 already stored" in r.output, r.output
    after, before = Store(f"sqlite:///{db}").counts(), loaded_store.counts()
    assert after.pop("imports") == before.pop("imports") + 1  # the import itself is logged
    assert after == before


def test_mixed_offsets_convert_and_bad_offsets_are_located():
    c = CONTACTS.copy()
    c["start_time"] = ["2026-10-05T09:15:00+08:00", "2026-10-05 01:15:00Z"]
    assert (validate("contacts", c)["start_time"] == pd.Timestamp("2026-10-05 09:15:00")).all()
    c["start_time"] = ["2026-10-05T09:15:00+25:00", "2026-10-05 09:15:00"]
    with pytest.raises(ValidationError) as info:
        validate("contacts", c, "tz.csv")
    assert problems(info.value) == ["tz.csv:2:start_time: unparseable time: '2026-10-05T09:15:00+25:00'"]


# ----------------------------------------------------------------------------- unbounded input: refused before parsing
# A few-KB Parquet or workbook can unpack to millions of rows; guard_file measures it from metadata and streams
# (the footer, the zip directory, the sheet XML, the CSV bytes) and refuses it before pandas or openpyxl build anything.
import re  # noqa: E402
import tracemalloc  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from qa_lib import config  # noqa: E402
from qa_lib.ingest import ImportLimits, guard_file  # noqa: E402

SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"


def _peak_mb(fn) -> tuple[float, object]:
    """Run ``fn``; the peak of Python-tracked memory (NumPy and pandas buffers included) in MB, and its result or exception."""
    tracemalloc.start()
    try:
        result = fn()
    except ValidationError as exc:
        result = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20, result


def _parquet_bomb(path: Path, rows: int) -> Path:
    """``rows`` copies of the first contact, dictionary-encoded: 2 M rows are ~90 KB on disk."""
    batch = 200_000
    one = CONTACTS.iloc[0]
    table = pa.table({c: pa.DictionaryArray.from_arrays(pa.array(np.zeros(batch, dtype=np.int8)), pa.array([str(one[c])])) for c in CONTACTS.columns})
    with pq.ParquetWriter(path, table.schema) as w:
        for _ in range(rows // batch):
            w.write_table(table)
    return path


def _workbook(path: Path, sheet_xml: bytes, tmp_path: Path) -> Path:
    """A real workbook (written by pandas) whose first sheet's XML is replaced by ``sheet_xml``."""
    template = tmp_path / "template.xlsx"
    CONTACTS.head(1).to_excel(template, index=False)
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, sheet_xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info.filename))
    return path


def _rows_xml(n: int, cells: int = 13, refs: bool = False, ns: str = "") -> bytes:
    """Sheet XML of a header and ``n`` identical rows (with or without ``r`` references), elements prefixed ``ns:``."""
    p = f"{ns}:" if ns else ""

    def row(r: int) -> bytes:
        ref = (lambda where: f' r="{where}"') if refs else (lambda where: "")
        cs = "".join(f'<{p}c{ref(f"{chr(65 + i)}{r}")} t="inlineStr"><{p}is><{p}t>v</{p}t></{p}is></{p}c>' for i in range(cells))
        return f"<{p}row{ref(r)}>{cs}</{p}row>".encode()

    xmlns = f"xmlns:{ns}" if ns else "xmlns"
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{p}worksheet {xmlns}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><{p}sheetData>'
    body = b"".join(row(r) for r in range(1, n + 2)) if refs else row(1) * (n + 1)
    return head.encode() + body + f"</{p}sheetData></{p}worksheet>".encode()


def test_a_parquet_bomb_is_refused_from_its_footer(bad_db, tmp_path):
    """2,000,000 identical rows in ~90 KB: refused from the footer (it took 262 s and 5.9 GB of RSS before)."""
    path = _parquet_bomb(tmp_path / "bomb.parquet", 2_000_000)
    assert path.stat().st_size < 200_000
    peak, exc = _peak_mb(lambda: read_table(path))
    assert isinstance(exc, ValidationError), exc
    assert problems(exc) == ["bomb.parquet:0:: 2,000,000 rows is over the import limit of 1,500,000 rows (QA_MAX_ROWS): "
                             "split the file (by week or team), or raise QA_MAX_ROWS if the file is genuine"]
    assert peak < 50, f"{peak:.1f} MB"
    _assert_rejected(bad_db, "bomb.parquet", 0, "", "2,000,000 rows is over the import limit", path=path)


def test_an_xlsx_bomb_is_refused_from_its_zip_directory(bad_db, tmp_path):
    """100,000 identical rows compress ~200:1 (a sheet of real data ~10:1): refused from the zip directory, unread
    (it took 137 s and 433 MB of RSS before)."""
    path = _workbook(tmp_path / "bomb.xlsx", _rows_xml(100_000), tmp_path)
    peak, exc = _peak_mb(lambda: read_table(path))
    assert isinstance(exc, ValidationError), exc
    msg = problems(exc)[0]
    assert msg.startswith("bomb.xlsx:0:: xl/worksheets/sheet1.xml is compressed ") and "over the import limit of 100:1 (QA_MAX_ZIP_RATIO)" in msg, msg
    assert peak < 50, f"{peak:.1f} MB"
    _assert_rejected(bad_db, "bomb.xlsx", 0, "", "this looks like a zip bomb", path=path)


@pytest.mark.parametrize("name, xml, limits, message", [
    # two cells far apart: openpyxl fills the gap, pandas would build 1,048,575 × 16,384 cells from a 5 KB file
    ("gap.xlsx", SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>contact_id</t></is></c></row>'
     b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>' + SHEET_TAIL, ImportLimits(),
     r"xl/worksheets/sheet1\.xml: (at least )?1,048,575 rows × 16,384 columns = 17,179,852,800 cells is over the import limit of 40,000,000 cells \(QA_MAX_CELLS\)"),
    # the same behind 100 KB of comment (every XML part is scanned, whatever its start, name or prefixes)
    ("padded.xlsx", SHEET_HEAD.replace(b"<sheetData>", b"<!--" + b"x" * 100_000 + b"--><sheetData>") +
     b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>' + SHEET_TAIL, ImportLimits(), r"16,384 columns = 17,179,852,800 cells is over the import limit"),
    ("dtd.xlsx", b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY r "<row/><row/>">]>' + SHEET_HEAD[SHEET_HEAD.index(b"<worksheet"):] + b"&r;" + SHEET_TAIL,
     ImportLimits(), r"xl/worksheets/sheet1\.xml declares a DTD \(<!DOCTYPE>\), which workbooks never do"),
    # the scan stops at the first limit crossed: "at least" the rows read so far
    ("rows.xlsx", _rows_xml(2_000, refs=True), ImportLimits(max_rows=1_000),
     r"xl/worksheets/sheet1\.xml: at least [12],\d{3} rows is over the import limit of 1,000 rows \(QA_MAX_ROWS\)"),
    ("plain.xlsx", _rows_xml(2_000), ImportLimits(max_rows=1_000), r"at least [12],\d{3} rows is over the import limit of 1,000 rows"),  # no references
    ("prefixed.xlsx", _rows_xml(2_000, refs=True, ns="x"), ImportLimits(max_rows=1_000), r"at least [12],\d{3} rows is over the import limit"),
    ("wide.xlsx", _rows_xml(100, cells=26), ImportLimits(max_cells=2_000), r"\d+ rows × 26 columns = [\d,]+ cells is over the import limit of 2,000 cells"),
    ("big.xlsx", _rows_xml(100), ImportLimits(max_expanded_mb=0.01), r"the workbook unpacks to 0 MB, which is over the import limit of 0\.01 MB \(QA_MAX_EXPANDED_MB\)"),
], ids=lambda v: v if isinstance(v, str) and v.endswith(".xlsx") else "")
def test_workbooks_over_the_limits_are_refused_before_openpyxl(tmp_path, name, xml, limits, message):
    path = _workbook(tmp_path / name, xml, tmp_path)
    peak, exc = _peak_mb(lambda: guard_file(path, limits=limits))
    assert isinstance(exc, ValidationError) and re.search(message, problems(exc)[0]), exc
    assert peak < 50, f"{peak:.1f} MB"


def test_a_workbook_under_the_limits_is_measured_like_openpyxl_reads_it(tmp_path):
    CONTACTS.to_excel(tmp_path / "c.xlsx", index=False)
    assert guard_file(tmp_path / "c.xlsx")["rows"] == len(CONTACTS)
    found = guard_file(_workbook(tmp_path / "p.xlsx", _rows_xml(2_000, refs=True, ns="x"), tmp_path))
    assert (found["rows"], found["columns"]) == (2_000, 13)


def test_a_zip_of_ten_thousand_parts_is_no_workbook(tmp_path):
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(10_001):
            z.writestr(f"p{i}", b"")
    with pytest.raises(ValidationError, match=r"parts\.xlsx:0:: not a valid \.xlsx workbook .*: it has 10,001 parts, a workbook has a few dozen"):
        read_table(path)


def test_csv_rows_are_records_not_lines(tmp_path):
    """Newlines inside quoted transcripts are not records; UTF-16 text whose bytes include 0x0A / 0x22 counts right."""
    c = pd.concat([CONTACTS] * 10, ignore_index=True).assign(contact_id=[f"K{i}" for i in range(20)], transcript="坐席:您好\n客户:\"上\"网\n" * 3)
    write_csv(c, tmp_path / "t.csv")
    assert guard_file(tmp_path / "t.csv", limits=ImportLimits(max_rows=20))["rows"] == 20  # 140 lines
    c.to_csv(tmp_path / "u16.csv", index=False, encoding="utf-16")  # 上 is U+4E0A: its UTF-16 bytes hold a newline byte
    assert guard_file(tmp_path / "u16.csv", limits=ImportLimits(max_rows=20)) == {"bytes": (tmp_path / "u16.csv").stat().st_size, "rows": 20,
                                                                                    "columns": 14, "cells": 280}
    with pytest.raises(ValidationError, match=r"t\.csv:0:: 20 rows is over the import limit of 19 rows \(QA_MAX_ROWS\)"):
        read_table(tmp_path / "t.csv", limits=ImportLimits(max_rows=19))
    with pytest.raises(ValidationError, match=r"t\.csv:0:: 20 rows × 14 columns = 280 cells is over the import limit of 279 cells \(QA_MAX_CELLS\)"):
        read_table(tmp_path / "t.csv", limits=ImportLimits(max_cells=279))
    with pytest.raises(ValidationError, match=r"t\.csv:0:: the file is 0 MB, which is over the import limit of 0.001 MB \(QA_MAX_FILE_MB\)"):
        read_table(tmp_path / "t.csv", limits=ImportLimits(max_file_mb=0.001))


def test_parquet_unpacked_size_is_limited(tmp_path):
    validate("contacts", CONTACTS).drop(columns=[ROW]).to_parquet(tmp_path / "c.parquet")
    with pytest.raises(ValidationError, match=r"c\.parquet:0:: 2 rows unpacking to 0 MB is over the import limit of 1e-05 MB \(QA_MAX_EXPANDED_MB\)"):
        read_table(tmp_path / "c.parquet", limits=ImportLimits(max_expanded_mb=1e-5))


def test_the_limits_come_from_the_settings(monkeypatch, tmp_path):
    """The defaults are Settings' defaults, QA_MAX_* raise them, and a real month passes (the samples: 85,791 contacts)."""
    assert ImportLimits() == ImportLimits(**{k: getattr(config.settings(), k) for k in ImportLimits.__dataclass_fields__})
    path = _parquet_bomb(tmp_path / "calls.parquet", 2_000_000)
    monkeypatch.setenv("QA_MAX_ROWS", "2,000,000")
    monkeypatch.setenv("QA_MAX_CELLS", "30000000")
    assert guard_file(path, limits=config.settings())["rows"] == 2_000_000
    monkeypatch.setenv("QA_MAX_ROWS", "1000000")
    with pytest.raises(ValidationError, match=r"calls\.parquet:0:: 2,000,000 rows is over the import limit of 1,000,000 rows \(QA_MAX_ROWS\)"):
        guard_file(path, limits=config.settings())
    assert guard_file(config.samples_dir() / "contacts.parquet")["rows"] == 85_791
    assert guard_file(config.samples_dir() / "evaluations.csv")["rows"] > 30_000


# ----------------------------------------------------------------------------- characters that break or deceive
# Ids, codes and names holding a control, bidirectional, invisible, private-use or unassigned character are refused
# with file:row:column; free text (comments, verbatims, transcripts) is cleaned of them. Parquet keeps every
# character as written, so the hostile files are Parquet (a CSV cannot even carry some of them unquoted).
from qa_lib.ingest import UNSAFE_CHARS, UNSAFE_TEXT_CHARS, bad_id_chars, clean_free_text, describe_unsafe  # noqa: E402

#: One hostile character of each class, with how it is described.
HOSTILE = {
    "\x00": "a control character U+0000", "\x07": "a control character U+0007", "\x1b": "a control character U+001B",
    "\t": "a control character U+0009", "\r": "a control character U+000D", "\n": "a control character U+000A",
    "\x85": "a control character U+0085", "\x9b": "a control character U+009B",
    "\u200e": "a bidirectional-text control U+200E (LEFT-TO-RIGHT MARK)", "\u200f": "a bidirectional-text control U+200F",
    "\u202a": "a bidirectional-text control U+202A", "\u202e": "a bidirectional-text control U+202E (RIGHT-TO-LEFT OVERRIDE)",
    "\u2066": "a bidirectional-text control U+2066", "\u2069": "a bidirectional-text control U+2069", "\u061c": "a bidirectional-text control U+061C",
    "\u200b": "an invisible character U+200B (ZERO WIDTH SPACE)", "\u200c": "an invisible character U+200C", "\u200d": "an invisible character U+200D",
    "\u2060": "an invisible character U+2060 (WORD JOINER)", "\ufeff": "an invisible character U+FEFF", "\u00ad": "an invisible character U+00AD (SOFT HYPHEN)",
    "\u180e": "an invisible character U+180E", "\u3164": "an invisible character U+3164 (HANGUL FILLER)", "\U000e0041": "an invisible character U+E0041",
    "\ufe0f": "a variation selector U+FE0F", "\u2028": "a line separator U+2028", "\ue000": "a private-use character U+E000",
    "\U000f0001": "a private-use character U+F0001", "\u0378": "an unassigned code point U+0378",
}


def _agents(agent_ids, names) -> pd.DataFrame:
    n = len(agent_ids)
    return pd.DataFrame({"agent_id": agent_ids, "name": names, "team": ["华东一组"] * n, "hire_date": ["2024-03-01"] * n})


def _voc(texts) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame({"feedback_id": [f"V{i}" for i in range(n)], "received_at": ["2026-10-01 08:00"] * n, "channel": ["online"] * n, "text": texts})


def test_the_character_classes():
    for ch, what in HOSTILE.items():
        assert describe_unsafe(f"A{ch}1").startswith(what) and describe_unsafe(f"A{ch}1").endswith(" at position 2"), (repr(ch), describe_unsafe(f"A{ch}1"))
        assert UNSAFE_CHARS.search(f"A{ch}1")
    for ok in ("A001", "客服001", "王伟", "華東一組", "José", "Zoë O'Brien-Smith", "北京 二组", "王\u3000伟", "𠀀𰀀", "😀", "№ 5 (A/B) #1"):
        assert describe_unsafe(ok) is None and not UNSAFE_CHARS.search(ok), ok
    s = pd.Series(["A1", "王伟", None, "x\x07y", "a\u202eb", "𠀀"], dtype="string")
    assert bad_id_chars(s).tolist() == [False, False, False, True, True, False]
    assert bad_id_chars(s.astype(object)).tolist() == [False, False, False, True, True, False]
    assert UNSAFE_TEXT_CHARS.search("\x1b[2J") and not UNSAFE_TEXT_CHARS.search("a\tb\nc 👨‍👩‍👧 \ue000")
    assert clean_free_text("\x1b[2J\x1b[1;1H总分 100\r\n") == "[2J[1;1H总分 100\n"


def test_every_text_field_of_every_import_kind_follows_the_rule():
    """Fields of kind id / str (ids, codes, names) refuse; kind text (free text) is cleaned — in every import kind."""
    from qa_lib.ingest import _Collector, _field
    from qa_lib.model import ENTITIES

    checked = 0
    for e in ENTITIES:
        if not e.import_kind and e.name != "evaluation_items":
            continue
        for f in e.fields:
            if f.kind not in ("id", "str", "text"):
                continue
            df = pd.DataFrame({f.name: ["ok", "a\x1b[2Jb\u202e"], ROW: [2, 3]})
            col = _Collector("f.parquet", df[ROW])
            out = _field(df, f, col)
            if f.kind == "text":
                assert (out.tolist(), col.problems, col.cleaned) == (["ok", "a[2Jb"], [], {f.name: 1}), (e.name, f.name)
            else:
                assert [str(p) for p in col.problems][:1] == [f"f.parquet:3:{f.name}: contains a control character U+001B at position 2 of "
                                                              "'a\\x1b[2Jb\\u202e': ids, codes and names must be visible text without control, "
                                                              "bidirectional or invisible characters; correct it in the source file"], (e.name, f.name)
            checked += 1
    assert checked > 40


def test_hostile_ids_and_names_are_refused_with_their_place_and_nothing_is_stored(store, tmp_path):
    """Every class of hostile character in an id and in a name: one located problem each, the store unchanged
    (NUL included: it never reaches the driver, SQLite's or PostgreSQL's)."""
    chars = list(HOSTILE)
    ids = [f"A{ch}{i}" for i, ch in enumerate(chars)] + ["客服001", "A2"]
    names = [f"王{ch}伟" for ch in chars] + ["王伟", "Jose\u0301"]  # decomposed é: stored NFC
    path = tmp_path / "agents.parquet"
    _agents(ids, names).to_parquet(path)
    before = store.counts()
    with pytest.raises(ValidationError) as info:
        store.import_file("agents", path)
    got = problems(info.value)
    assert len(got) == 2 * len(chars), got
    for row, (ch, what) in enumerate(HOSTILE.items(), start=2):
        assert any(p.startswith(f"agents.parquet:{row}:agent_id: contains {what}") and "at position 2" in p for p in got), (row, repr(ch), got)
        assert any(p.startswith(f"agents.parquet:{row}:name: contains {what}") and "at position 2" in p for p in got), (row, repr(ch), got)
    assert not UNSAFE_CHARS.search(str(info.value).replace("\n", " "))  # the message itself is safe to print
    assert store.counts() == before
    _agents(ids[-2:], names[-2:]).to_parquet(path)  # Chinese ids and names pass; names are NFC
    assert store.import_file("agents", path).inserted == {"agents": 2}
    stored = store.read("agents").set_index("agent_id")["name"].to_dict()
    assert stored == {"客服001": "王伟", "A2": "José"}


def test_free_text_is_cleaned_on_import(store, tmp_path):
    """Escape sequences, bidi overrides, zero-width characters and NUL are removed from free text on SQLite and
    PostgreSQL alike; newlines, tabs, Chinese and emoji (with their zero-width joiners) stay."""
    texts = {
        "\x1b[2J\x1b[H总分: 100 \x07": "[2J[H总分: 100",  # the escape sequence loses its ESC: harmless text
        "评价\u202e001 tnuocca": "评价001 tnuocca",
        "NUL\x00在这里": "NUL在这里",
        "138\u200b1234\u200c5678": "13812345678",  # zero-width characters cannot hide a phone number from masking
        "坐席:您好\r\n客户:你好\r再见": "坐席:您好\n客户:你好\n再见",
        "全家 👨‍👩‍👧 满意 ❤️ 👍🏽": "全家 👨‍👩‍👧 满意 ❤️ 👍🏽",
        "a\u200db\u2060c\ufeffd\u00ade\U000e0041": "abcde",
        "tab\tkept\nline kept": "tab\tkept\nline kept",
        "\x85\x9b\u2066bidi\u2069\u061c": "bidi",
        "plain text": "plain text",
    }
    path = tmp_path / "voc.parquet"
    _voc(list(texts)).to_parquet(path)
    frames = validate_kind("voc", read_table(path), "voc.parquet")
    assert frames["voc_feedback"].attrs["cleaned_cells"] == {"text": sum(k != v for k, v in texts.items())}
    assert store.import_file("voc", path).inserted == {"voc_feedback": len(texts)}
    stored = store.read("voc_feedback").sort_values("feedback_id", key=lambda s: s.str[1:].astype(int))["text"].tolist()
    assert stored == list(texts.values())
    _voc(["\x07\u200b"]).assign(feedback_id="V99").to_parquet(path)  # nothing left of a required text: missing
    with pytest.raises(ValidationError, match=r"voc\.parquet:2:text: missing value \(nothing but control or invisible characters\)"):
        store.import_file("voc", path)


def test_hostile_characters_never_reach_the_terminal(tmp_path):
    """`qa import` prints the problems of a file with escape sequences in a header, an id and a value without them."""
    db = tmp_path / "qa.sqlite"
    Store(f"sqlite:///{db}").migrate()
    path = tmp_path / "agents.parquet"
    _agents(["A\x1b[2J1"], ["王伟"]).assign(**{"\x1b[31mcolour": "red"}).to_parquet(path)
    r = CliRunner().invoke(main, ["import", "agents", str(path), "--db", str(db)], catch_exceptions=False)
    assert r.exit_code == 2 and "nothing was stored" in r.output, r.output
    assert "agents.parquet:2:agent_id: contains a control character U+001B at position 2 of 'A\\x1b[2J1'" in r.output
    assert "agents.parquet:1:'\\x1b[31mcolour': unknown column" in r.output
    assert "\x1b" not in r.output and not UNSAFE_CHARS.search(r.output.replace("\n", "")), repr(r.output)
