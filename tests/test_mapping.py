"""Column mappings (qa_lib.mapping): each feature, hostile input, --suggest-map, and the real bank log and
complaints imported end to end through `qa import --map` with the shipped mapping files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from conftest import shared_path
from qa_lib.cli import main
from qa_lib.errors import ParameterError, ValidationError
from qa_lib.ingest import ABSENT_STAYS_MISSING, ROW, validate_kind
from qa_lib.mapping import apply_mapping, check_mapping, load_mapping, suggest_mapping
from qa_lib.model import entity
from qa_lib.store import Store

MAPPINGS = Path(__file__).resolve().parents[1] / "docs" / "mappings"

#: A center's own call log: Chinese headers, 是/否, 呼入/呼出, durations as 00:02:23, date and time apart.
CALLS = pd.DataFrame({
    "通话编号": ["C1", "C2", "C3"],
    "日期": ["2026/10/05", "2026/10/05", "2026/10/06"],
    "时间": ["9:00:00", "13:30:15", "8:05:00"],
    "坐席工号": ["1001", "", "1002"],
    "呼叫方向": ["呼入", "呼入", "呼出"],
    "结果": ["接通", "放弃", "接通"],
    "排队时长": ["5", "40", "0"],
    "通话时长": ["00:02:23", "", "1:00:05"],
    "是否解决": ["是", "", "否"],
})
CALLS_MAP = {
    "kind": "contacts",
    "fields": {
        "contact_id": "通话编号",
        "start_time": {"join": ["日期", "时间"], "format": "%Y/%m/%d %H:%M:%S"},
        "channel": {"value": "hotline"},
        "direction": {"column": "呼叫方向", "map": {"呼入": "inbound", "呼出": "outbound"}},
        "contact_type": {"value": "service"},
        "agent_id": "坐席工号",
        "wait_seconds": {"column": "排队时长", "unit": "seconds"},
        "answered": {"column": "结果", "map": {"接通": True, "放弃": False}},
        "abandoned": {"column": "结果", "map": {"接通": False, "放弃": True}},
        "talk_seconds": {"column": "通话时长", "unit": "hh:mm:ss"},
        "fcr": {"column": "是否解决", "map": {"是": True, "否": False}},
    },
}


def mapped(frame: pd.DataFrame, fields: dict, kind: str = "contacts", **top) -> pd.DataFrame:
    return apply_mapping(frame, {"kind": kind, "fields": fields, **top}, kind=kind, source="f.csv")


def problems(exc: ValidationError) -> list[str]:
    return [str(p) for p in exc.problems]


def write_yaml(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ----------------------------------------------------------------------------- each feature
def test_a_chinese_call_log_maps_and_validates():
    out = apply_mapping(CALLS, CALLS_MAP, kind="contacts", source="calls.csv")
    assert list(out[ROW]) == [2, 3, 4] and out.attrs[ABSENT_STAYS_MISSING]
    c = validate_kind("contacts", out, "calls.csv")["contacts"]
    assert list(c["contact_id"]) == ["C1", "C2", "C3"]
    assert list(c["start_time"].astype(str)) == ["2026-10-05 09:00:00", "2026-10-05 13:30:15", "2026-10-06 08:05:00"]
    assert list(c["direction"]) == ["inbound", "inbound", "outbound"] and set(c["channel"]) == {"hotline"}
    assert c["talk_seconds"].tolist()[0] == 143 and c["talk_seconds"].tolist()[2] == 3605
    assert np.isnan(c["talk_seconds"].tolist()[1])  # blank stays unknown, not the model's 0
    assert list(c["answered"]) == [True, False, True] and list(c["abandoned"]) == [False, True, False]
    assert c["fcr"].tolist()[0] is True and c["fcr"].isna().tolist() == [False, True, False]
    assert c["agent_id"].tolist()[1] is None


def test_fields_not_given_stay_missing_never_the_default():
    c = validate_kind("contacts", apply_mapping(CALLS, CALLS_MAP, source="calls.csv"), "calls.csv")["contacts"]
    assert c["hold_seconds"].isna().all() and c["acw_seconds"].isna().all()
    defaulted = [f.name for f in entity("contacts").fields if f.default is not None and f.name not in CALLS_MAP["fields"]]
    assert {"customer_tier", "transferred", "customer_opted_out"} <= set(defaulted)
    assert all(c[f].isna().all() for f in defaulted)  # not "none" / False: the file does not say
    given = ("contact_id", "start_time", "channel", "direction", "contact_type", "agent_id", "answered", "abandoned")
    plain = validate_kind("contacts", pd.DataFrame({f: c[f] for f in given}), "x.csv")["contacts"]
    assert all(plain[f].notna().all() for f in defaulted)  # a file in our own columns keeps the model's defaults


def test_value_map_unmapped_value_is_a_located_problem_with_its_count():
    calls = pd.concat([CALLS] * 3, ignore_index=True)
    calls["通话编号"] = [f"C{i}" for i in range(len(calls))]
    calls.loc[[1, 4, 7], "结果"] = "转接"
    with pytest.raises(ValidationError) as info:
        apply_mapping(calls, CALLS_MAP, source="calls.csv")
    got = problems(info.value)
    assert "calls.csv:3:结果: value not in fields.answered.map: '转接' (3 rows, the first here): add it to the map, or give other:" in got
    assert any(p.startswith("calls.csv:3:结果: value not in fields.abandoned.map: '转接'") for p in got)
    assert info.value.total == 6 and "6 problems" in str(info.value)


def test_other_maps_every_value_not_listed():
    m = {**CALLS_MAP["fields"], "answered": {"column": "结果", "map": {"接通": True}, "other": False}}
    out = mapped(CALLS.assign(结果=["接通", "挂机", "接通"]), {**m, "abandoned": {"value": False}})
    assert list(out["answered"]) == [True, False, True]


def test_yes_no_keys_read_by_yaml_as_booleans_still_match(tmp_path):
    text = "kind: contacts\nfields:\n  fcr: {column: solved, map: {Yes: true, No: false}}\n" + "".join(
        f"  {k}: {{value: {v}}}\n" for k, v in (("contact_id", "K"), ("start_time", "2026-10-05"), ("channel", "hotline"), ("direction", "inbound"),
                                              ("contact_type", "service"), ("answered", "true"), ("abandoned", "false")))
    m = load_mapping(write_yaml(tmp_path, text), kind="contacts")
    out = apply_mapping(pd.DataFrame({"solved": ["YES", "no", "Yes"]}), m)
    assert list(out["fcr"]) == [True, False, True]


def test_a_field_computed_from_another_columns_value():
    f = {"answered": {"column": "outcome", "map": {"AGENT": True, "HANG": False}},
         "abandoned": {"value": True, "when": {"outcome": "HANG", "q_time": {"gt": 0}}, "else": False}}
    raw = pd.DataFrame({"outcome": ["AGENT", "HANG", "HANG"], "q_time": ["30", "12", "0"]})
    with pytest.raises(ValidationError, match=r"required fields of contacts not mapped: contact_id, start_time"):
        check_mapping({"kind": "contacts", "fields": f})
    out = mapped(raw.assign(id=["a", "b", "c"]), {**_base(), **f})
    assert list(out["answered"]) == [True, False, False] and list(out["abandoned"]) == [False, True, False]


def _base() -> dict:
    """The required contact fields as constants and an id column, for tests of one feature."""
    return {"contact_id": "id", "start_time": {"value": "2026-10-05 09:00"}, "channel": {"value": "hotline"}, "direction": {"value": "inbound"},
            "contact_type": {"value": "service"}, "answered": {"value": True}, "abandoned": {"value": False}}


def test_first_non_empty_of_several_columns_and_a_join_of_labels():
    raw = pd.DataFrame({"id": ["1", "2", "3"], "narrative": ["my card was charged twice", "", ""], "issue": ["Fees", "Billing", ""], "sub": ["", "Late fee", ""]})
    out = mapped(raw, {"feedback_id": "id", "received_at": {"value": "2026-10-05"}, "channel": {"value": "online"},
                       "text": {"first_of": ["narrative", {"join": ["issue", "sub"], "sep": " / ", "skip_empty": True}]}}, kind="voc")
    assert out["text"].tolist() == ["my card was charged twice", "Billing / Late fee", None]


def test_join_of_a_date_and_a_missing_time_is_missing_not_midnight():
    raw = pd.DataFrame({"id": ["a", "b"], "d": ["2026-10-05", "2026-10-05"], "t": ["09:30:00", ""]})
    out = mapped(raw, {**_base(), "start_time": {"join": ["d", "t"]}})
    assert out["start_time"].tolist() == ["2026-10-05 09:30:00", None]
    with pytest.raises(ValidationError, match="f.csv:3:start_time: missing value"):
        validate_kind("contacts", out, "f.csv")


@pytest.mark.parametrize("unit, values, seconds", [
    ("hh:mm:ss", ["00:02:23", "1:00:05", "25:00:00", "0:00:01.5"], [143, 3605, 90000, 1.5]),
    ("h:mm:ss", ["0:02:23"], [143]),
    ("mm:ss", ["02:23", "75:00"], [143, 4500]),
    ("seconds", ["143", "0.5"], [143, 0.5]),
    ("minutes", ["1.5", "2"], [90, 120]),
    ("hours", ["0.5"], [1800]),
    ("milliseconds", ["1500", "143000"], [1.5, 143]),
])
def test_duration_units(unit, values, seconds):
    raw = pd.DataFrame({"id": [f"k{i}" for i in range(len(values))], "d": values})
    out = mapped(raw, {**_base(), "talk_seconds": {"column": "d", "unit": unit}})
    assert out["talk_seconds"].tolist() == pytest.approx(seconds)


def test_bad_durations_are_located():
    raw = pd.DataFrame({"id": list("abcd"), "通话时长": ["00:02:23", "1:75:00", "2:23", "1:00:60"]})
    with pytest.raises(ValidationError) as info:
        mapped(raw, {**_base(), "talk_seconds": {"column": "通话时长", "unit": "hh:mm:ss"}})
    got = problems(info.value)
    assert got == ["f.csv:3:通话时长: not a duration in hh:mm:ss for talk_seconds (minutes and seconds 00-59): '1:75:00'",
                   "f.csv:4:通话时长: not a duration in hh:mm:ss for talk_seconds (minutes and seconds 00-59): '2:23'",
                   "f.csv:5:通话时长: not a duration in hh:mm:ss for talk_seconds (minutes and seconds 00-59): '1:00:60'"]
    with pytest.raises(ValidationError, match=r"f.csv:2:d: not a number of seconds for wait_seconds: '3 min'"):
        mapped(pd.DataFrame({"id": ["a"], "d": ["3 min"]}), {**_base(), "wait_seconds": {"column": "d", "unit": "seconds"}})


def test_true_problem_total_when_thousands_of_rows_are_bad():
    """4,054 bad rows: the message says 4,054 (per check and overall), listing only a capped number of lines."""
    raw = pd.DataFrame({"id": [f"k{i}" for i in range(4100)], "d": ["1:75:00"] * 4000 + ["00:01:00"] * 46 + ["x"] * 54})
    with pytest.raises(ValidationError) as info:
        mapped(raw, {**_base(), "talk_seconds": {"column": "d", "unit": "hh:mm:ss"}})
    err = info.value
    assert err.total == 4054 and len(err.problems) == 201  # 200 listed one by one, one line for the other 3,854
    text = str(err)
    assert text.startswith("f.csv rejected, nothing was stored: 4,054 problems in 1 check:")
    assert "\n  d: not a duration in hh:mm:ss for talk_seconds: 4,054 rows (first: row 2)\nthe first 50 listed:" in text
    assert "3,854 more rows, not listed one by one" in " ".join(problems(err))
    assert text.count("\n  f.csv:") == 50 and text.endswith("... and 4,004 more")


def test_date_format_and_source_time_zone_to_the_center():
    raw = pd.DataFrame({"id": ["a", "b"], "t": ["2026/10/05 09:00", "2026/1/5 09:00"]})
    out = mapped(raw, {**_base(), "start_time": {"column": "t", "format": "%Y/%m/%d %H:%M", "tz": "Europe/London"}})
    assert out["start_time"].astype(str).tolist() == ["2026-10-05 16:00:00", "2026-01-05 17:00:00"]  # BST +1, GMT +0 → Shanghai +8
    with pytest.raises(ValidationError) as info:
        mapped(pd.DataFrame({"id": ["a", "b"], "t": ["2026-03-29 01:30", "2026-13-01 00:00"]}),
               {**_base(), "start_time": {"column": "t", "format": "%Y-%m-%d %H:%M", "tz": "Europe/London"}})
    got = problems(info.value)
    assert "f.csv:2:t: '2026-03-29 01:30' does not exist or happens twice in Europe/London (a daylight-saving change) for start_time: give the time with its UTC offset" in got
    assert "f.csv:3:t: does not match the format '%Y-%m-%d %H:%M' for start_time: '2026-13-01 00:00'" in got


def test_drop_rules_and_their_counts():
    raw = pd.DataFrame({"id": list("abcde"), "outcome": ["AGENT", "PHANTOM", "HANG", "AGENT", "phantom"], "server": ["A", "NO_SERVER", "NO_SERVER", "NO_SERVER", "B"]})
    out = mapped(raw, _base(), drop=[{"outcome": "PHANTOM"}, {"outcome": "AGENT", "server": "NO_SERVER"}])
    assert out["contact_id"].tolist() == ["a", "c"] and out[ROW].tolist() == [2, 4]
    assert out.attrs["dropped"] == {"outcome = PHANTOM": 2, "outcome = AGENT and server = NO_SERVER": 1}


def test_a_numeric_condition_on_text_is_a_located_problem():
    raw = pd.DataFrame({"id": ["a", "b"], "q": ["5", "n/a"]})
    with pytest.raises(ValidationError, match=r"f.csv:3:q: not a number, compared \(gt 0\) by the mapping: 'n/a'"):
        mapped(raw, {**_base(), "abandoned": {"value": True, "when": {"q": {"gt": 0}}, "else": False}})


def test_distinct_derives_a_roster_from_a_call_log():
    log = pd.DataFrame({"server": ["AVI", "NO_SERVER", "DANA", "AVI", "DANA", "AVI"], "x": range(6)})
    out = mapped(log, {"agent_id": "server", "name": "server", "team": {"value": "全体"}},
                 kind="agents", drop=[{"server": "NO_SERVER"}], distinct=True)
    assert out["agent_id"].tolist() == ["AVI", "DANA"] and out[ROW].tolist() == [2, 4] and out.attrs["duplicates_removed"] == 3
    agents = validate_kind("agents", out, "log.csv")["agents"]
    assert agents["language"].isna().all() and agents["hire_date"].isna().all()  # not "zh", no date: the log does not say
    assert (agents["status"] == "active").all()  # bookkeeping (Field.always_default): an agent on the roster is active


def test_missing_values_listed_in_the_mapping():
    out = mapped(pd.DataFrame({"id": ["a", "b"], "cust": ["0", "C9"]}), {**_base(), "customer_id": {"column": "cust", "missing": [0]}})
    assert out["customer_id"].tolist() == [None, "C9"]


# ----------------------------------------------------------------------------- mistakes in the mapping: errors name the YAML key
def test_key_typos_are_named_with_their_line(tmp_path):
    text = ("kind: contacts\n"
            "feilds:\n  contact_id: id\n")
    with pytest.raises(ValidationError) as info:
        load_mapping(write_yaml(tmp_path, text))
    assert "m.yaml:2:feilds: unknown key 'feilds' (did you mean fields?); allowed: kind, fields, drop, distinct, note" in problems(info.value)
    base = "".join(f"  {k}: {{value: {v}}}\n" for k, v in (("start_time", "2026-10-05"), ("channel", "hotline"), ("direction", "inbound"),
                                                          ("contact_type", "service"), ("answered", "true"), ("abandoned", "false")))
    text = "kind: contacts\nfields:\n  contact_id: id\n  agnet_id: {colum: 工号}\n  talk_seconds: {column: t, unit: hhmmss}\n" + base
    with pytest.raises(ValidationError) as info:
        load_mapping(write_yaml(tmp_path, text))
    got = problems(info.value)
    assert got[0].startswith("m.yaml:4:fields.agnet_id: not a field of contacts (did you mean agent_id?); fields: contact_id, start_time")
    assert got[1].startswith("m.yaml:5:fields.talk_seconds.unit: unit must be one of seconds, minutes, hours, milliseconds, hh:mm:ss, h:mm:ss, mm:ss; got 'hhmmss'")
    text = "kind: contacts\nfields:\n  contact_id: id\n  agent_id: {colum: 工号}\n" + base
    with pytest.raises(ValidationError, match=r"m.yaml:4:fields.agent_id.colum: unknown key 'colum' \(did you mean column\?\)"):
        load_mapping(write_yaml(tmp_path, text))


@pytest.mark.parametrize("fields, expected", [
    ({"direction": {"column": "d", "map": {"呼入": "inbond"}}}, "fields.direction.map.呼入: direction must be one of inbound, outbound; got 'inbond'"),
    ({"start_time": {"column": "t", "tz": "Mars/Olympus"}}, "fields.start_time.tz: tz must be a time zone name"),
    ({"start_time": {"column": "t", "unit": "seconds"}}, "fields.start_time.unit: unit is for durations and numbers; start_time is a datetime"),
    ({"talk_seconds": {"column": "t", "value": 3}}, "fields.talk_seconds: give exactly one of column, value, join, first_of; got column, value"),
    ({"start_time": {"join": ["d"]}}, "fields.start_time.join: join must be a list of two or more column names"),
    ({"answered": {"value": "maybe"}}, "fields.answered.value: answered is true or false; got 'maybe'"),
    ({"abandoned": {"value": True, "when": {"q": {"over": 3}}}}, "fields.abandoned.when.q: a test is a value, a list of values, or one of not, gt, ge, lt, le"),
])
def test_spec_mistakes_name_the_key(fields, expected):
    with pytest.raises(ValidationError) as info:
        check_mapping({"kind": "contacts", "fields": {**_base(), **fields}}, source="m.yaml")
    assert any(expected in p for p in problems(info.value)), problems(info.value)


def test_a_column_the_file_does_not_have_is_named_at_its_key(tmp_path):
    m = load_mapping(write_yaml(tmp_path, yaml.safe_dump({"kind": "contacts", "fields": {**_base(), "agent_id": "坐席号"}}, allow_unicode=True)))
    with pytest.raises(ValidationError) as info:
        apply_mapping(CALLS.rename(columns={"通话编号": "id"}), m, source="calls.csv")
    (p,) = info.value.problems
    assert p.source == "m.yaml" and p.row > 0 and p.column == "fields.agent_id.column"
    assert p.message.startswith("no column '坐席号' in calls.csv (did you mean '坐席工号'?); its columns: 'id', '日期'")


def test_kind_must_agree_and_hostile_yaml_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="this mapping is for 'voc', the import is of 'contacts'"):
        check_mapping({"kind": "voc", "fields": {"feedback_id": "id"}}, kind="contacts")
    with pytest.raises(ValidationError, match="YAML aliases are not allowed"):
        load_mapping(write_yaml(tmp_path, "kind: contacts\nfields: &a {contact_id: id}\nnote: *a\n"))
    with pytest.raises(ValidationError, match="a mapping file is a YAML mapping"):
        load_mapping(write_yaml(tmp_path, "- just\n- a list\n"))
    with pytest.raises(ParameterError, match="mapping must be an existing YAML file"):
        load_mapping(tmp_path / "nope.yaml")


# ----------------------------------------------------------------------------- --suggest-map
def test_suggest_map_on_chinese_headers():
    zh = CALLS.rename(columns={"日期": "来电时间", "结果": "是否接通"}).assign(来电时间=["2026/10/5 9:00:00", "2026/10/5 9:05:00", "2026/10/6 8:00:00"],
                                                                            是否接通=["是", "否", "是"])
    text, lacking = suggest_mapping(zh, "contacts", source="calls.xlsx")
    assert lacking == ["channel", "contact_type", "abandoned"]
    assert '  agent_id: {column: "坐席工号"}' in text
    assert '  talk_seconds: {column: "通话时长", unit: hh:mm:ss}' in text
    assert '  wait_seconds: {column: "排队时长", unit: seconds}' in text
    assert '  start_time: {column: "来电时间", format: "%Y/%m/%d %H:%M:%S"}' in text
    assert '  fcr:\n    column: "是否解决"   # values like "是", "否"\n    map:\n      "是": true\n      "否": false' in text
    assert '  direction:\n    column: "呼叫方向"' in text and '      "呼入": inbound\n      "呼出": outbound' in text
    assert "# channel: {value: ...}   # REQUIRED, not found in the file" in text
    data = yaml.safe_load(text)  # valid YAML as written: the user adds the constants it could not find
    data["fields"].update({"channel": {"value": "hotline"}, "contact_type": {"value": "service"}, "abandoned": {"value": False}})
    out = apply_mapping(zh, data, kind="contacts", source="calls.xlsx")
    assert out["talk_seconds"].tolist()[0] == 143 and out["fcr"].tolist() == [True, None, False]


def test_suggest_map_on_the_bank_header():
    raw = pd.read_csv(shared_path("call_center", "anonymous_bank_1999_08_calls.csv"), dtype=str, keep_default_na=False, nrows=3000)
    text, lacking = suggest_mapping(raw, "contacts", source="bank.csv")
    assert lacking == ["channel", "direction"]
    assert '  agent_id: {column: "server"}' in text and '  wait_seconds: {column: "q_time", unit: seconds}' in text
    assert '  talk_seconds: {column: "ser_time", unit: seconds}' in text
    assert '  start_time: {join: ["date", "vru_entry"], sep: " "}' in text
    assert '  contact_id: {column: "call_id"}' in text and "NOT unique in the sample" in text
    assert '      "AGENT": true' in text and '      # "PHANTOM": ?' in text  # an outcome it cannot read is left to the user


def test_suggest_map_survives_hostile_headers_and_values():
    raw = pd.DataFrame({"agent\nfields: {x: 1}": ["a"], "满意度\u2028kind: voc": ["5\n- x"], "通话时长": ["00:02:23"]})
    text, _ = suggest_mapping(raw, "contacts")
    data = yaml.safe_load(text)  # still one document with our keys: a header cannot add YAML
    assert set(data) == {"kind", "fields"} and data["kind"] == "contacts" and set(data["fields"]) == {"agent_id", "talk_seconds"}
    assert data["fields"]["agent_id"] == {"column": "agent\nfields: {x: 1}"}  # the header as it is, quoted


def test_cli_suggest_map_writes_the_file(tmp_path):
    src = tmp_path / "calls.csv"
    CALLS.to_csv(src, index=False, encoding="utf-8-sig")
    out = tmp_path / "mapping.yaml"
    r = CliRunner().invoke(main, ["import", "contacts", str(src), "--suggest-map", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and "required fields not found in calls.csv: channel, contact_type" in r.output
    assert "agent_id: {column: \"坐席工号\"}" in out.read_text(encoding="utf-8")
    r = CliRunner().invoke(main, ["import", "contacts", str(src), "--out", str(out)])
    assert r.exit_code == 2 and "--out goes with --suggest-map" in r.output


def test_cli_map_rejects_bad_rows_and_stores_nothing(tmp_path):
    db = tmp_path / "qa.sqlite"
    assert CliRunner().invoke(main, ["init", "--db", str(db), "--no-samples"]).exit_code == 0
    src = tmp_path / "calls.csv"
    CALLS.assign(通话时长=["00:02:23", "", "1:75:00"]).to_csv(src, index=False, encoding="gbk")
    m = write_yaml(tmp_path, yaml.safe_dump({**CALLS_MAP, "fields": {**CALLS_MAP["fields"], "agent_id": {"value": None}}}, allow_unicode=True))
    r = CliRunner().invoke(main, ["import", "contacts", str(src), "--map", str(m), "--db", str(db)])
    assert r.exit_code == 2 and "calls.csv:4:通话时长: not a duration in hh:mm:ss for talk_seconds" in r.output and "Traceback" not in r.output
    assert Store(db).counts()["contacts"] == 0


# ----------------------------------------------------------------------------- the real logs, end to end
def _cli(*args) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.output


def test_bank_log_imported_through_the_cli_with_the_shipped_mappings(tmp_path):
    src = shared_path("call_center", "anonymous_bank_1999_08_calls.csv")
    raw = pd.read_csv(src, dtype=str, keep_default_na=False)
    db = tmp_path / "qa.sqlite"
    _cli("init", "--db", db, "--no-samples")
    out = _cli("import", "agents", src, "--map", MAPPINGS / "bank_agents.yaml", "--db", db)  # the shipped files, no Python
    served = raw["server"] != "NO_SERVER"
    assert f"agents: {raw.loc[served, 'server'].nunique()} added" in out  # 31 agents
    assert Store(db).read("agents")["hire_date"].isna().all()  # the log does not say: unknown, never invented
    out = _cli("import", "contacts", src, "--map", MAPPINGS / "bank_contacts.yaml", "--db", db)
    kept = raw[(raw["outcome"] != "PHANTOM") & ~((raw["outcome"] == "AGENT") & ~served)]
    assert "left out: 310 by drop rule 1 (outcome = PHANTOM); 391 by drop rule 2 (outcome = AGENT and server = NO_SERVER)" in out
    store = Store(db)
    c = store.read("contacts")
    assert len(c) == len(kept) == 41377
    assert int(c["answered"].sum()) == int((kept["outcome"] == "AGENT").sum()) == 31011
    assert int(c["abandoned"].sum()) == int(((kept["outcome"] == "HANG") & (kept["q_time"].astype(int) > 0)).sum()) == 7260
    assert c["hold_seconds"].isna().all() and c["acw_seconds"].isna().all() and c["fcr"].isna().all()
    assert c["customer_tier"].isna().all() and c["transferred"].isna().all()
    served_talk = kept.loc[(kept["outcome"] == "AGENT") & (kept["ser_time"].astype(int) <= 21600), "ser_time"].astype(float)
    assert c["talk_seconds"].sum() == pytest.approx(served_talk.sum()) and c["talk_seconds"].notna().sum() == len(served_talk)
    assert c["wait_seconds"].sum() == pytest.approx(kept["q_time"].astype(float).sum())
    assert int(c["agent_id"].notna().sum()) == int((kept["server"] != "NO_SERVER").sum())
    first = c.set_index("contact_id").loc["AA0204-43678"]
    assert str(first["start_time"]) == "1999-08-01 00:10:10" and first["contact_type"] == "service" and pd.isna(first["customer_id"])


def test_complaints_imported_as_voc(tmp_path):
    src = shared_path("complaints", "cfpb_complaints_sample.csv")
    raw = pd.read_csv(src, dtype=str, keep_default_na=False)
    db = tmp_path / "qa.sqlite"
    _cli("init", "--db", db, "--no-samples")
    out = _cli("import", "voc", src, "--map", MAPPINGS / "cfpb_voc.yaml", "--db", db)
    kept = raw[raw["Submitted via"] != "Referral"]
    assert f"voc_feedback: {len(kept)} added" in out and "627 by drop rule 1 (Submitted via = Referral)" in out
    v = Store(db).read("voc_feedback").set_index("feedback_id")
    assert len(v) == len(kept) == 5996
    assert (v["channel"] == "online").sum() == (kept["Submitted via"] == "Web").sum()
    assert (v["channel"] == "email").sum() == kept["Submitted via"].isin(["Email", "Postal mail", "Fax"]).sum()
    assert set(v["lang"]) == {"en"} and v["category"].nunique() == kept["Product"].nunique() and v["customer_tier"].isna().all()
    row = kept[kept["Consumer complaint narrative"] == ""].iloc[0]
    want = row["Issue"] + (f" / {row['Sub-issue']}" if row["Sub-issue"] else "")
    assert v.loc[row["Complaint ID"], "text"] == want
    assert str(v.loc[row["Complaint ID"], "received_at"])[:10] == pd.Timestamp(row["Date received"].replace("/", "-")).strftime("%Y-%m-%d")


def test_times_land_in_the_centers_own_time_zone(monkeypatch, tmp_path):
    """A center in London: a source zone and a UTC offset are both converted to its `timezone`, not to Shanghai."""
    (tmp_path / "center.yaml").write_text("timezone: Europe/London\n", encoding="utf-8")
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    raw = pd.DataFrame({"id": ["a", "b"], "t": ["2026/10/05 09:00", "2026/10/05 09:00"]})
    out = mapped(raw, {**_base(), "start_time": {"column": "t", "format": "%Y/%m/%d %H:%M", "tz": "Asia/Shanghai"}})
    assert out["start_time"].astype(str).tolist() == ["2026-10-05 02:00:00"] * 2  # +8 → BST +1
    from qa_lib.ingest import validate

    agents = pd.DataFrame({"agent_id": ["a"], "name": ["n"], "team": ["t"], "hire_date": ["2026-10-05T23:30:00+00:00"]})
    assert str(validate("agents", agents, tz="Asia/Shanghai")["hire_date"].iloc[0])[:10] == "2026-10-06"  # a UTC offset → the zone given
