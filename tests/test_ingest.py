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
    with pytest.raises(ValidationError, match=r"t\.csv:\d+::.*cannot read file"):
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
