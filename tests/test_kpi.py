"""KPI formulas on hand-made contacts, interval-based status at the boundaries, the real bank call log, the planted team."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from qa_lib.errors import ParameterError
from qa_lib.kpi import accuracy_kpi, contact_kpis, fcr_kpi, load_targets, rate_rows, service_standard_kpi
from qa_lib.stats import wilson_interval


def contact(**kw):
    row = {"channel": "hotline", "direction": "inbound", "answered": True, "abandoned": False, "wait_seconds": 5.0, "talk_seconds": 100.0,
           "hold_seconds": 0.0, "acw_seconds": 20.0, "contact_type": "service", "agent_id": "A1", "fcr": None}
    row.update(kw)
    return row


def test_formulas_on_hand_made_contacts():
    c = pd.DataFrame([
        contact(),  # answered in 5 s
        contact(wait_seconds=30.0, hold_seconds=40.0),  # answered late, with hold
        contact(answered=False, abandoned=True, agent_id=None, talk_seconds=0, acw_seconds=0, wait_seconds=60.0),  # abandoned in queue
        contact(answered=False, abandoned=True, talk_seconds=0, acw_seconds=0, wait_seconds=8.0),  # abandoned ringing at A1
        contact(contact_type="non_regular", talk_seconds=5.0, acw_seconds=0.0),  # misdial: offered, not in handling time
        contact(direction="outbound", wait_seconds=np.nan, talk_seconds=150.0),  # outbound: not offered traffic
        contact(transferred=True, talk_seconds=300.0, acw_seconds=60.0),
    ])
    k = contact_kpis(c).set_index("kpi")
    assert k.loc["answer_rate", "n"] == 6 and k.loc["answer_rate", "value"] == pytest.approx(3 / 6)  # rows 1, 5, 7
    assert k.loc["abandon_rate", "value"] == pytest.approx(2 / 6)
    assert k.loc["personal_abandon_rate", "value"] == pytest.approx(1 / 5)  # A1: 4 answered inbound + 1 abandoned at the agent
    handled = [(100, 0, 20), (100, 40, 20), (150, 0, 20), (300, 0, 60)]
    assert k.loc["aht_seconds", "value"] == pytest.approx(np.mean([sum(h) for h in handled]))
    assert k.loc["aht_seconds", "value"] == pytest.approx(k.loc["avg_talk_seconds", "value"] + k.loc["avg_hold_seconds", "value"] + k.loc["avg_acw_seconds", "value"])
    assert k.loc["aht_seconds", "n"] == 4


def test_status_is_decided_by_the_interval():
    t = load_targets()
    rows = rate_rows(pd.Series({"a": 99, "b": 950, "c": 880, "d": 0}), pd.Series({"a": 100, "b": 1000, "c": 1000, "d": 0}), "fcr", t).set_index("group")
    assert rows.loc["a", "status"] == "not enough evidence"  # 99 % of 100 lines: the interval still reaches below 95 %
    assert rows.loc["b", "status"] == "not enough evidence"  # exactly on target
    assert rows.loc["c", "status"] == "missed" and rows.loc["d", "status"] == "not enough evidence" and np.isnan(rows.loc["d", "value"])
    big = rate_rows(pd.Series({"x": 9800}), pd.Series({"x": 10000}), "fcr", t)
    assert big["status"].item() == "met"
    with pytest.raises(ParameterError, match="targets file"):
        load_targets("/nonexistent/targets.yaml")


def bank_contacts() -> pd.DataFrame:
    d = pd.read_csv(shared_path("call_center", "anonymous_bank_1999_08_calls.csv"), dtype={"call_id": str})
    d = d[d["outcome"] != "PHANTOM"]
    offered = (d["outcome"] == "AGENT") | (d["q_time"] > 0)  # calls that reached the queue (README of the data)
    d = d[offered]
    served = d["outcome"] == "AGENT"
    return pd.DataFrame({
        "channel": "hotline", "direction": "inbound", "answered": served, "abandoned": ~served, "wait_seconds": d["q_time"].astype(float),
        "talk_seconds": np.where(served, d["ser_time"], np.nan).astype(float), "hold_seconds": np.nan, "acw_seconds": np.nan,  # not recorded
        "contact_type": "service", "agent_id": np.where(served, d["server"], None), "fcr": None,
    })


def test_real_bank_call_log():
    c = bank_contacts()
    center = contact_kpis(c).set_index("kpi")
    served = c["answered"]
    assert center.loc["answer_rate", "value"] == pytest.approx((served & (c["wait_seconds"] <= 10)).sum() / len(c))
    assert center.loc["abandon_rate", "value"] == pytest.approx((~served).sum() / len(c))
    assert center.loc["aht_seconds", "value"] == pytest.approx(c.loc[served, "talk_seconds"].mean())
    assert center.loc["abandon_rate", "value"] == pytest.approx(7260 / (31402 + 7260))  # 7,260 hang-ups after queueing, 31,402 served
    # this center records no hold and no after-call work: "not recorded", never "0.0 s [0, 0]"
    for kpi in ("avg_hold_seconds", "avg_acw_seconds"):
        assert center.loc[kpi, "status"] == "not recorded" and np.isnan(center.loc[kpi, "value"]) and center.loc[kpi, "n"] == 0
    assert fcr_kpi(c.assign(fcr=None))[["kpi", "status", "n"]].values.tolist() == [["fcr", "not recorded", 0]]
    per_agent = contact_kpis(c[served], by="agent_id")
    aht = per_agent[per_agent["kpi"] == "aht_seconds"]
    assert aht["group"].nunique() >= 30
    two = aht[aht["n"] >= 2]  # one call (agent DAVID) gives no interval
    assert (two["low"] < two["value"]).all() and (two["value"] < two["high"]).all() and aht.loc[aht["n"] == 1, "low"].isna().all()


def test_planted_team_misses_fcr_and_accuracy_on_samples(loaded_store):
    agents = loaded_store.read("agents").set_index("agent_id")
    c = loaded_store.read_month("contacts", "2026-10")
    c["team"] = c["agent_id"].map(agents["team"])
    fcr = fcr_kpi(c, by="team").set_index("group")
    assert fcr.loc["East", "status"] == "missed"  # PLANTED.md: East resolves about 88 % at first contact
    assert (fcr.drop("East")["status"] != "missed").all()
    checks = loaded_store.read_month("info_checks", "2026-10")
    acc = accuracy_kpi(checks).set_index("group")
    assert acc.loc["center", "n"] == len(checks)
    ev = loaded_store.read_month("evaluations", "2026-10")
    ss = service_standard_kpi(ev).set_index("group")
    assert ss.loc["center", "n"] == int(((ev["arm"] == "random") & ev["total_score"].notna()).sum())


def test_contacts_per_staffed_hour():
    from qa_lib.kpi import contacts_per_hour

    c = pd.DataFrame([
        contact(start_time=pd.Timestamp("2026-10-05 09:00"), talk_seconds=600.0, acw_seconds=0.0),
        contact(start_time=pd.Timestamp("2026-10-05 10:50"), talk_seconds=600.0, acw_seconds=0.0),  # day span 09:00-11:00 = 2 h
        contact(start_time=pd.Timestamp("2026-10-06 14:00"), talk_seconds=1800.0, acw_seconds=1800.0),  # 1 h
        contact(start_time=pd.Timestamp("2026-10-06 15:00"), answered=False, abandoned=True, talk_seconds=0.0, acw_seconds=0.0),
    ])
    r = contacts_per_hour(c).set_index("group")
    assert r.loc["A1", "staffed_hours"] == pytest.approx(3.0) and r.loc["A1", "value"] == pytest.approx(3 / 3.0)
    given = contacts_per_hour(c, staffed_hours=pd.Series({"A1": 6.0})).set_index("group")
    assert given.loc["A1", "value"] == pytest.approx(0.5) and given.loc["A1", "hours_source"] == "given"


def test_fields_a_center_does_not_record_are_not_recorded_not_zero():
    """Missing is missing: a blank hold time is no figure; a center that says it does not record a field gets
    "not recorded" even where its export fills the column with zeros, and AHT adds up only the recorded parts."""
    c = pd.DataFrame([contact(hold_seconds=np.nan, acw_seconds=np.nan), contact(talk_seconds=200.0, hold_seconds=np.nan, acw_seconds=np.nan)])
    k = contact_kpis(c).set_index("kpi")
    assert k.loc["aht_seconds", "value"] == pytest.approx(150.0) and k.loc["aht_seconds", "status"] == "no target"
    assert (k.loc[["avg_hold_seconds", "avg_acw_seconds"], "status"] == "not recorded").all()
    targets = load_targets()
    targets["kpis"]["avg_acw_seconds"]["recorded"] = False  # what `records: {after_call_work: false}` gives
    zeros = pd.DataFrame([contact(acw_seconds=0.0), contact(talk_seconds=200.0, acw_seconds=0.0, hold_seconds=30.0)])
    z = contact_kpis(zeros, targets=targets).set_index("kpi")
    assert z.loc["avg_acw_seconds", "status"] == "not recorded" and np.isnan(z.loc["avg_acw_seconds", "value"])
    assert z.loc["aht_seconds", "value"] == pytest.approx((100 + 230) / 2)  # talk + hold; the zeros of acw are no figure
    targets["kpis"]["fcr"]["recorded"] = False
    assert fcr_kpi(zeros.assign(fcr=True), targets=targets)["status"].tolist() == ["not recorded"]


def test_targets_come_from_the_center_file(monkeypatch, tmp_path):
    (tmp_path / "center.yaml").write_text("kpis: {answer_rate: 0.9, aht_seconds: {target: 300}}\nanswer_within_seconds: 20\n"
                                          "records: {hold: false}\n", encoding="utf-8")
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    t = load_targets()
    assert t["answer_within_seconds"] == 20 and t["kpis"]["answer_rate"] == {"target": 0.9, "higher_is_better": True, "recorded": True}
    assert t["kpis"]["aht_seconds"]["higher_is_better"] is False and t["kpis"]["avg_hold_seconds"]["recorded"] is False
    assert t["kpis"]["abandon_rate"]["target"] is None  # a KPI the center set no target for: its figure, no status
    c = pd.DataFrame([contact(wait_seconds=15.0)] * 50 + [contact(wait_seconds=25.0)] * 50)
    k = contact_kpis(c).set_index("kpi")
    assert k.loc["answer_rate", "value"] == pytest.approx(0.5) and k.loc["answer_rate", "status"] == "missed"
    assert k.loc["abandon_rate", "status"] == "no target" and k.loc["avg_hold_seconds", "status"] == "not recorded"


# ------------------------------------------------------------------ intervals that respect the design (issue #17)
def days_of_calls(rates, per_day=200, agent="A1"):
    """Inbound calls over consecutive days, answered within 10 s at each day's own rate (exact counts, no randomness)."""
    frames = []
    for i, r in enumerate(rates):
        fast = int(round(r * per_day))
        frames.append(pd.DataFrame([contact(agent_id=agent, start_time=pd.Timestamp("2026-10-01 09:00") + pd.Timedelta(days=i),
                                            wait_seconds=5.0 if j < fast else 30.0) for j in range(per_day)]))
    return pd.concat(frames, ignore_index=True)


def test_answer_rate_interval_widens_when_days_differ():
    """Ten days at 60 % and ten at 95 %: 4,000 calls, but the month's rate rests on 20 days (deff ≫ 1); the same calls
    on identical days keep deff 1. Without a start time the calls count as independent (the columns say so)."""
    uneven = contact_kpis(days_of_calls([0.60, 0.95] * 10)).set_index("kpi").loc["answer_rate"]
    even = contact_kpis(days_of_calls([0.775] * 20)).set_index("kpi").loc["answer_rate"]
    assert uneven["value"] == pytest.approx(0.775) and uneven["n"] == 4000
    resid = 200 * 0.175  # each day is 35 calls off the month's rate: v = 20/19 · 20 · 35² / 4000², binomial 0.775·0.225/4000
    assert uneven["deff"] == pytest.approx((20 / 19 * 20 * resid**2 / 4000**2) / (0.775 * 0.225 / 4000), rel=1e-6)
    assert uneven["n_eff"] == pytest.approx(4000 / uneven["deff"])
    assert uneven["high"] - uneven["low"] > 5 * (even["high"] - even["low"]) and even["deff"] == 1.0
    plain = contact_kpis(days_of_calls([0.60, 0.95] * 10).drop(columns="start_time")).set_index("kpi").loc["answer_rate"]
    assert plain["deff"] == 1.0 and plain["n_eff"] == 4000
    assert (plain["low"], plain["high"]) == pytest.approx(wilson_interval(3100, 4000))


def test_per_agent_rates_cluster_by_agent_day():
    two = pd.concat([days_of_calls([0.5, 1.0] * 5, per_day=20, agent="A1"), days_of_calls([0.75] * 10, per_day=20, agent="A2")], ignore_index=True)
    k = contact_kpis(two, by="agent_id")
    r = k[k["kpi"] == "answer_rate"].set_index("group")
    assert r.loc["A1", "deff"] > 5 and r.loc["A2", "deff"] == 1.0 and r.loc["A1", "value"] == r.loc["A2", "value"] == 0.75
    assert {"deff", "n_eff"} <= set(k.columns)


def evaluations(rows):
    return pd.DataFrame(rows, columns=["evaluation_id", "agent_id", "arm", "total_score", "inclusion_prob"])


def test_service_standard_uses_the_random_arm_and_its_weights():
    """Agent A: 8 of 40 calls sampled (π = 0.2), all pass; agent B: 8 of 400 (π = 0.02), all fail. The unweighted share is
    50 %; the Horvitz–Thompson share weighs each call by 1/π: 8·5 / (8·5 + 8·50) = 9.1 %. Targeted reviews and
    calibration sessions (failing or passing) do not move it."""
    t = load_targets()
    rnd = [(f"a{i}", "A", "random", 90.0, 0.2) for i in range(8)] + [(f"b{i}", "B", "random", 50.0, 0.02) for i in range(8)]
    head = service_standard_kpi(evaluations(rnd), targets=t).iloc[0]
    assert head["value"] == pytest.approx(40 / 440) and head["n"] == 16
    assert head["deff"] == pytest.approx(16 * (8 * 25 + 8 * 2500) / (8 * 5 + 8 * 50) ** 2)  # Kish: n Σw² / (Σw)²
    unweighted = service_standard_kpi(evaluations(rnd).drop(columns="inclusion_prob"), targets=t).iloc[0]
    assert unweighted["value"] == pytest.approx(0.5) and unweighted["deff"] == 1.0
    noise = [(f"t{i}", "B", "targeted", 95.0, 0.5) for i in range(30)] + [(f"c{i}", "A", "calibration", 10.0, None) for i in range(5)]
    mixed = service_standard_kpi(evaluations(rnd + noise), targets=t).iloc[0]
    assert mixed[["value", "low", "high", "n"]].tolist() == head[["value", "low", "high", "n"]].tolist()
    with pytest.raises(ParameterError, match="'arm' column"):
        service_standard_kpi(evaluations(rnd).drop(columns="arm"), targets=t)
    with pytest.raises(ParameterError, match=r"inclusion_prob must be in \(0, 1\].*'b0'"):
        service_standard_kpi(evaluations([r if r[0] != "b0" else ("b0", "B", "random", 50.0, 0.0) for r in rnd]), targets=t)


def test_validity_part_rates_small_seeded_run():
    """benchmarks/validity_parts/rates.py on a small seeded run: the contract's keys, the old intervals and alerts
    failing where the audit said, the new ones holding."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.validity_parts import rates

    rows = rates.rows(draws=60, seed=4)
    assert all(set(r) == {"analysis", "scenario", "measure", "target", "value", "ok", "draws", "note"} for r in rows)
    got = {(r["analysis"], r["scenario"], r["measure"]): r["value"] for r in rows}
    kpi = {k: v for k, v in got.items() if "SD 1 " in k[1] and "center" in k[1]}
    assert kpi[next(k for k in kpi if "old" in k[0])] < 0.5 and kpi[next(k for k in kpi if "new" in k[0])] >= 0.9
    nps = {(k[0], k[2]): v for k, v in got.items() if k[0].startswith("NPS")}
    assert nps[("NPS interval (old: Wald)", "worst-cell coverage")] < 0.6 < 0.92 <= nps[("NPS interval (new: trinomial score)", "worst-cell coverage")]
    false = {k: v for k, v in got.items() if k[2].startswith("months with any") and "overdispersed" in k[1]}
    assert false[next(k for k in false if "old" in k[0])] > 0.3 and false[next(k for k in false if "new" in k[0])] <= 0.1
