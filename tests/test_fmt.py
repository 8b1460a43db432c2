"""qa_lib.fmt: the numbers and words every page shows."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from qa_lib import fmt
from qa_lib.errors import ParameterError


def test_doctests():
    assert doctest.testmod(fmt).failed == 0


@pytest.mark.parametrize("x", [None, np.nan, float("inf"), pd.NA, pd.NaT])
def test_missing_values_show_a_dash(x):
    assert {fmt.pct(x), fmt.num(x), fmt.score(x), fmt.points(x), fmt.seconds(x), fmt.status(x)} == {fmt.DASH}
    assert fmt.interval(x, 3) == fmt.DASH and fmt.pct_interval(0.1, x) == fmt.DASH


def test_numbers_for_people():
    assert fmt.pct(0.6096657120978346) == "61.0%"
    assert fmt.pct(-0.05) == "−5.0%" and fmt.pct(0.051, signed=True) == "+5.1%"
    assert fmt.points(0.0, "en") == "0.0 pts" and fmt.points(0.1234, "zh") == "+12.3 个百分点"
    assert fmt.num(1234567) == "1,234,567" and fmt.score(98.76) == "98.8"
    assert fmt.seconds(65, "en") == "65 s"


def test_intervals_stay_on_their_scale():
    assert fmt.interval(79.66, 117.8) == "79.7–100.0"
    assert fmt.interval(-1, 4, lo=0, hi=5) == "0.0–4.0"
    assert fmt.pct_interval(-0.1, 1.3) == "0.0%–100.0%"


def test_words_and_glossary_in_both_languages():
    assert fmt.status("met", "zh") == "达标" and fmt.status("met", "en") == "met"
    assert fmt.word("calls_to_decide", "zh") == "还需抽检通数"
    zh, en = fmt.glossary("zh"), fmt.glossary("en")
    assert "借力估计" in zh and "FDR" in zh and "borrowed strength" in en and "<details" in en
    assert fmt.glossary("en", ["fdr"]).count("<dt>") == 1
    assert "AC1 / AC2" in fmt.glossary("zh", ["ac1", "alpha"]) and "Krippendorff" in fmt.glossary("en", ["alpha"])  # the calibration page's words


def test_format_frame_formats_columns_and_leaves_the_rest():
    df = pd.DataFrame({"rate": [0.876, np.nan], "n": [1200, 3], "status": ["missed", "met"], "id": ["a", "b"]})
    out = fmt.format_frame(df, {"rate": "pct", "n": "num", "status": "status"}, lang="en")
    assert out["rate"].tolist() == ["87.6%", "—"] and out["n"].tolist() == ["1,200", "3"]
    assert out["status"].tolist() == ["below target", "met"] and out["id"].tolist() == ["a", "b"]
    assert df["rate"].iloc[0] == 0.876  # the input is not changed


def test_kpi_labels_and_values():
    assert fmt.kpi_label("fcr", "zh") == "首次解决率" and fmt.kpi_label("fcr", "en") == "first-contact resolution"
    assert fmt.kpi_label("new_kpi", "en") == "new_kpi"
    assert fmt.kpi_value(0.9366, "rate") == "93.7%" and fmt.kpi_value(302.6, "seconds", "en") == "303 s"
    assert fmt.kpi_value(0.9988, "per hour") == "1.0" and fmt.kpi_value(float("nan"), "rate") == "—"


@pytest.mark.parametrize("call, message", [
    (lambda: fmt.check_lang("fr"), "lang must be one of"),
    (lambda: fmt.word("nope"), "word must be one of"),
    (lambda: fmt.glossary("zh", ["nope"]), "terms must be among"),
    (lambda: fmt.format_frame(pd.DataFrame({"a": [1]}), {"b": "pct"}), "column 'b'"),
    (lambda: fmt.format_frame(pd.DataFrame({"a": [1]}), {"a": "weird"}), "must be one of pct"),
])
def test_bad_input_is_refused_by_name(call, message):
    with pytest.raises(ParameterError, match=message):
        call()
