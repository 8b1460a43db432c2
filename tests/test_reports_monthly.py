"""The month's KPI and score tables written by qa demo."""

from __future__ import annotations

import pandas as pd

from qa_lib.reports.monthly import month_agent_scores, month_kpis, write_month_tables


def test_month_tables_on_the_samples(loaded_store, tmp_path):
    k = month_kpis(loaded_store, pd.Period("2026-10", freq="M"))
    assert set(k["level"]) == {"center", "team"} and set(k.loc[k["level"] == "team", "group"]) == {"East", "North", "South"}
    fcr = k[(k["kpi"] == "fcr")].set_index("group")
    assert fcr.loc["East", "status"] == "missed"  # the planted team
    assert (k["low"].isna() | (k["low"] <= k["value"])).all() and (k["high"].isna() | (k["value"] <= k["high"])).all()
    s = month_agent_scores(loaded_store, pd.Period("2026-10", freq="M"))
    assert s["agent_id"].is_unique and set(s["status"]) <= {"met", "missed", "not enough evidence"}
    assert (s["rank_low"] <= s["rank"]).all() and (s["rank"] <= s["rank_high"]).all()
    files = write_month_tables(loaded_store, pd.Period("2026-10", freq="M"), tmp_path)
    assert [f.name for f in files] == ["kpis.csv", "agent_scores.csv", "kpis.md"]
    md = (tmp_path / "kpis.md").read_text(encoding="utf-8")
    assert "not enough evidence" in md and "| fcr" in md
