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
