"""Month parsing and the month's data summary."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from qa_lib.errors import ParameterError
from qa_lib.summary import month_summary, parse_month, summary_markdown


@pytest.mark.parametrize("text", ["2026-10", "2026/10", "202610", " 2026-10 "])
def test_parse_month(text):
    assert parse_month(text) == pd.Period("2026-10", freq="M")


@pytest.mark.parametrize("text", ["Oct", "October", "2026-13", "2026-10-05", "", "26-10"])
def test_parse_month_rejects(text):
    with pytest.raises(ParameterError, match="month must look like 2026-10"):
        parse_month(text)


def test_month_summary_on_the_samples(loaded_store):
    p = parse_month("2026-10")
    c = loaded_store.read_month("contacts", p)
    e = loaded_store.read_month("evaluations", p)
    v = loaded_store.read_month("voc_feedback", p)
    s = month_summary(c, e, v, loaded_store.read("agents"))
    assert s["contacts"] == len(c) == sum(r["contacts"] for r in s["by_team"])
    assert s["answered"] + s["abandoned"] == s["contacts"]
    assert sum(r["evaluations"] for r in s["evaluations_by_arm"]) == s["evaluations"]
    # every evaluation of the month scores a contact of the month
    assert set(e["contact_id"]) <= set(c["contact_id"])
    assert c["start_time"].min() >= pd.Timestamp("2026-10-01") and c["start_time"].max() < pd.Timestamp("2026-11-01")
    md = summary_markdown("2026-10", s)
    assert md.startswith("# Data summary 2026-10") and re.search(r"\| North +\| +\d+ \|", md)
