"""Transcripts to turns and the timing features (qa_lib.autoqa.transcript)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qa_lib.autoqa.transcript import RATE, detect_lang, hold_count, parse_turns, timing_features, turn_timing
from qa_lib.errors import ParameterError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples"


@pytest.fixture(scope="module")
def samples():
    return {"contacts": pd.read_parquet(SAMPLE / "contacts.parquet", columns=["contact_id", "transcript", "transcript_lang", "hold_seconds"])}


def test_parse_turns_speakers_colons_stamps_and_index_labels():
    s = pd.Series({
        "Z001": "[00:01] 坐席：您好\n[00:05] 客户: 我的导航坏了\n\n[1:02:03] 客服：好的\n[00:09] 顾客：谢谢",
        "Z002": "Agent: hello\nCustomer： hi there\nSystem: call recorded\nno speaker at all",
        "Z003": None,
        "Z004": "",
    })
    tr = parse_turns(s)
    assert tr["row"].tolist() == ["Z001"] * 4 + ["Z002"] * 4  # blank lines and empty transcripts give no turn
    assert tr["turn"].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert tr["t"].tolist()[:4] == [1.0, 5.0, 3723.0, 9.0] and tr["t"].iloc[4:].isna().all()
    assert tr["speaker"].tolist() == ["agent", "customer", "agent", "customer", "agent", "customer", "other", "other"]
    assert tr["text"].tolist() == ["您好", "我的导航坏了", "好的", "谢谢", "hello", "hi there", "call recorded", "no speaker at all"]


def test_parse_turns_keeps_hostile_text_and_refuses_non_text():
    tr = parse_turns(pd.Series(["[00:01] 坐席：<script>alert(1)</script> =cmd|' /C calc'!A0"]))
    assert tr["text"].iloc[0] == "<script>alert(1)</script> =cmd|' /C calc'!A0"
    with pytest.raises(ParameterError, match="transcripts must hold text"):
        parse_turns(pd.Series([3.5, "x"]).astype(object).where([False, True], 3.5))
    with pytest.raises(ParameterError, match="pandas Series"):
        parse_turns(["a"])


def test_parse_turns_on_the_sample_matches_its_line_count(samples):
    c = samples["contacts"]
    t = c.loc[c["transcript"].notna(), "transcript"].iloc[:2000]
    tr = parse_turns(t)
    assert len(tr) == int(t.str.count("\n").sum() + len(t))
    assert tr["t"].notna().all() and set(tr["speaker"]) == {"agent", "customer"}


def test_turn_timing_silence_overtalk_by_the_stated_rate():
    # 10 characters at 4.5 chars/s end at 2.22 s; the customer starts at 1 s: more than 1 s early, an overtalk
    tr = parse_turns(pd.Series(["[00:00] 坐席：一二三四五六七八九十\n[00:01] 客户：好\n[00:30] 坐席：好的"]))
    tt = turn_timing(tr, "zh")
    assert tt["est_end"].round(3).tolist() == [round(10 / RATE["zh"], 3), round(1 + 1 / RATE["zh"], 3), round(30 + 2 / RATE["zh"], 3)]
    assert tt["overtalk"].tolist() == [True, False, False]
    assert tt["gap"].iloc[1] == pytest.approx(30 - (1 + 1 / 4.5))
    assert not turn_timing(tr, "zh", tolerance=2.0)["overtalk"].iloc[0]


def test_timing_features_counts_and_untimed_transcripts():
    s = pd.Series({"Z1": "[00:00] Agent: hello there\n[00:10] Customer: hi\n[00:11] Agent: one two three four five six\n[00:20] Customer: ok",
                   "Z2": "Agent: no stamps\nCustomer: none"})
    f = timing_features(parse_turns(s), "en", silence_seconds=5)
    assert f.loc["Z1", "silences"] == 2 and f.loc["Z1", "overtalks"] == 0
    assert not f.loc["Z2", "timed"] and np.isnan(f.loc["Z2", "silences"])
    # agent rate: only turns followed within 3 s of their estimated end; "hello there" (2 words) took 10 s → left out,
    # "one two … six" (6 words, 29 chars: ends 12.9 s) is followed at 20 s → left out too: no rate
    assert np.isnan(f.loc["Z1", "agent_rate"])
    g = timing_features(parse_turns(pd.Series({"Z3": "[00:00] Agent: one two three four five six\n[00:03] Customer: ok"})), "en")
    assert g.loc["Z3", "agent_rate"] == pytest.approx(6 / 3 * 60) and g.loc["Z3", "rate_unit"] == "words/min"


def test_hold_count_needs_the_gap():
    tr = parse_turns(pd.Series({"Z1": "[00:00] 坐席：请您稍等\n[00:40] 坐席：感谢等待\n[00:41] 坐席：请您稍等\n[00:43] 客户：好"}))
    is_hold = tr["text"].str.contains("稍等").to_numpy()
    assert hold_count(tr, is_hold, "zh", gap_seconds=10).tolist() == [1.0]
    assert hold_count(tr, is_hold, "zh", gap_seconds=0).tolist() == [2.0]
    with pytest.raises(ParameterError, match="is_hold"):
        hold_count(tr, is_hold[:2], "zh")


def test_detect_lang():
    assert detect_lang(pd.Series(["坐席：您好，请问", "Agent: hello", None])).tolist() == ["zh", "en", "en"]


def test_sample_timing_reflects_its_holds(samples):
    # the generator renders a hold as a silent gap of hold_seconds before the thanks for holding: a silence rule sees it
    c = samples["contacts"]
    c = c[c["transcript"].notna() & (c["transcript_lang"] == "zh")].iloc[:3000]
    f = timing_features(parse_turns(c.set_index("contact_id")["transcript"]), "zh", silence_seconds=60)
    held = (c.set_index("contact_id")["hold_seconds"].fillna(0) > 90).reindex(f.index)
    assert f.loc[held.to_numpy(), "max_silence"].min() > 60
