"""The month's report tables and page pieces (qa_lib.reports.tables) for any center: scale and fault-count items, CSAT
linked to contacts, several scorecards side by side, a one-month trend, and a center that keeps only its contact log.

The small centers here are built through the store's own methods (scorecards, imports, create_evaluation, release),
so every number can be checked against a pandas computation by hand.
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qa_lib.config import settings
from qa_lib.reports import agent_charts, agent_view, prepare_month, team_view
from qa_lib.reports.tables import (
    agent_cards_html,
    agent_headline,
    agent_sections_html,
    csat_line,
    kpi_table_html,
    team_cards_html,
    team_headline,
    team_kpis_html,
    texts,
)
from qa_lib.store import Store

MONTH = "2026-10"
CHAT = """
id: chat_care
version: 1
style: weighted
name: {zh: "在线服务质检表", en: "Chat care"}
sections:
  - id: all
    name: {zh: "全部", en: "All"}
    items:
      - {id: greet, kind: yes_no, weight: 1, label: {zh: "问候", en: "Greeting"}}
      - {id: tone, kind: scale, scale: [-2, 2], weight: 2, na: exclude, label: {zh: "语气", en: "Tone"}}
      - {id: lapses, kind: deduction, max_count: 3, weight: 1, label: {zh: "失误次数", en: "Lapses"}}
"""
CALLBACK = """
id: callback
version: 1
style: deduction
name: {zh: "回电质检表", en: "Call-back"}
sections:
  - id: all
    name: {zh: "全部", en: "All"}
    items:
      - {id: confirm, kind: yes_no, deduct: 30, label: {zh: "确认", en: "Confirmed"}}
      - {id: courtesy, kind: scale, scale: [1, 5], deduct: 20, label: {zh: "礼貌", en: "Courtesy"}}
"""
AGENTS = pd.DataFrame({"agent_id": ["B1", "B2", "B3", "B4"], "name": ["赵一", "钱二", "孙三", "李四"], "team": ["T1", "T1", "T1", "T2"],
                       "supervisor": ["S"] * 4, "hire_date": ["2024-01-01"] * 4, "status": ["active"] * 4})
TONES = {"B1": ["-2", "-1", "-2", "0", "-1", "1"], "B2": ["2", "1", "2", "1", "0", "2"], "B3": ["0", "1", "na", "1", "0", "2"],
         "B4": ["1", "1", "2", "2", "1", "0"]}
LAPSES = {"B1": ["2", "3", "1", "2", "2", "1"], "B2": ["0", "0", "1", "0", "0", "0"], "B3": ["1", "0", "0", "1", "0", "0"],
          "B4": ["0", "1", "0", "0", "0", "0"]}
CSAT = {"B1": [1, 2, 5, 4], "B2": [5, 5, 4, 3, 4], "B3": [], "B4": [2, 4, 5]}


def _contacts(months=(MONTH,)) -> pd.DataFrame:
    """Six answered hotline calls per agent in each month (two more on the call-back card's days for B1-B3)."""
    rows = []
    for m in months:
        for a in AGENTS["agent_id"]:
            for k in range(8):
                rows.append({"contact_id": f"{a}-{m}-{k}", "start_time": f"{m}-{k + 3:02d} 09:{k:02d}:00", "channel": "hotline",
                             "direction": "inbound", "contact_type": "service", "agent_id": a, "customer_id": f"C{a}{k}",
                             "wait_seconds": str(4 + k), "answered": "true", "abandoned": "false", "talk_seconds": str(200 + 10 * k),
                             "hold_seconds": "10", "acw_seconds": "20", "fcr": "true" if k % 3 else "false"})
    return pd.DataFrame(rows)


def build_center(folder, *, months=(MONTH,), evaluations=True, voc=True) -> Store:
    """A four-agent center: two scorecards (scale and fault-count items), released evaluations, linked CSAT answers."""
    store = Store(f"sqlite:///{folder / 'small.sqlite'}")
    store.migrate()
    store.import_frame("agents", AGENTS.copy(), source="agents.csv")
    store.import_frame("inspectors", pd.DataFrame({"inspector_id": ["Q1"], "name": ["质检员"], "is_expert": ["yes"]}), source="inspectors.csv")
    store.import_frame("contacts", _contacts(months), source="contacts.csv")
    if not evaluations:
        return store
    store.add_scorecard(CHAT)
    store.add_scorecard(CALLBACK)
    for m in months:
        for a in AGENTS["agent_id"]:
            for k in range(6):
                answers = {"greet": "yes" if k % 2 else "no", "tone": TONES[a][k], "lapses": LAPSES[a][k]}
                eid = store.create_evaluation(f"{a}-{m}-{k}", "Q1", "chat_care", answers, submit=True)
                store.release(eid, actor="SUP")
            if a != "B4":  # the call-back card: three agents, two calls each
                for k in (6, 7):
                    eid = store.create_evaluation(f"{a}-{m}-{k}", "Q1", "callback", {"confirm": "yes", "courtesy": str(3 + k - 6)}, submit=True)
                    store.release(eid, actor="SUP")
    if voc:
        rows = [{"feedback_id": f"F{a}{i}", "received_at": f"{MONTH}-20 10:00:00", "channel": "hotline", "contact_id": f"{a}-{MONTH}-{i}",
                 "text": "还行", "csat": str(v)} for a, vs in CSAT.items() for i, v in enumerate(vs)]
        rows.append({"feedback_id": "FX", "received_at": f"{MONTH}-21 10:00:00", "channel": "hotline", "contact_id": "", "text": "没有关联", "csat": "1"})
        store.import_frame("voc", pd.DataFrame(rows), source="voc.csv")
    return store


def center_settings(headline="chat_care"):
    """The sample settings with this center's headline scorecard (nothing in qa_lib knows it)."""
    return dataclasses.replace(settings(), headline_scorecard=headline, headline_scorecards=(("*", headline),), score_target=80.0)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    store = build_center(folder)
    data = prepare_month(store, MONTH, folder / "_data", settings=center_settings())
    yield store, data
    store.engine.dispose()


def test_scale_items_get_their_distribution_and_mean_on_their_own_scale(small):
    """Scale (-2..2) and fault-count (0..3) items: per agent and team, the count per value and the mean with its t
    interval, equal to a pandas computation by hand; yes/no items keep their pass rates."""
    store, data = small
    view = agent_view(data, "B1")
    mine = view["scale"].set_index(["scorecard_id", "item_id", "who"])
    tone = pd.to_numeric(pd.Series(TONES["B1"]))
    row = mine.loc[("chat_care", "tone", "mine")]
    half = stats.t.ppf(0.975, len(tone) - 1) * tone.std() / np.sqrt(len(tone))
    assert (row["n"], row["mean"]) == (6, pytest.approx(tone.mean())) and row["low"] == pytest.approx(tone.mean() - half)
    team = pd.to_numeric(pd.Series(TONES["B1"] + TONES["B2"] + TONES["B3"]), errors="coerce").dropna()  # B3's na is left out
    assert mine.loc[("chat_care", "tone", "other"), "n"] == 17 and mine.loc[("chat_care", "tone", "other"), "mean"] == pytest.approx(team.mean())
    counts = view["scale_values"].query("item_id == 'lapses' and who == 'mine'").set_index("value")["count"].to_dict()
    assert counts == pd.Series(LAPSES["B1"]).astype(float).value_counts().to_dict()
    courtesy = mine.loc[("callback", "courtesy", "mine")]
    assert (courtesy["n"], courtesy["mean"]) == (2, 3.5)  # on the 1..5 scale of its own card
    assert set(view["items"]["item_id"]) == {"greet", "confirm"}  # yes/no items as before, one scorecard each
    html = agent_cards_html(view, "en")
    assert "Scale and fault-count items" in html and "-2 to 2" in html and "0 to 3" in html and "1 to 5" in html
    charts = agent_charts(view, "en")
    assert {"scale:chat_care", "scale:callback", "items:chat_care", "items:callback"} <= set(charts)
    assert "Lapses (fewer is better" in charts["scale:chat_care"] and json.dumps("失误次数（越少越好）")[1:-1] in agent_charts(view, "zh")["scale:chat_care"]
    tv = team_view(data, "T1")
    assert set(tv["scale"]["who"]) == {"mine", "other"} and "（中心）" in team_cards_html(tv, "zh") and "(center)" in team_cards_html(tv, "en")


def test_csat_per_agent_and_team_matches_a_hand_computation(small):
    """CSAT of the feedback linked to the month's contacts: mean with its t interval and the share of 4–5 with its Wilson
    interval, n; unlinked feedback counts nowhere; an agent without linked surveys says so."""
    store, data = small
    k = agent_view(data, "B1")["kpis"].set_index("kpi")
    v = pd.Series(CSAT["B1"], dtype=float)
    half = stats.t.ppf(0.975, len(v) - 1) * v.std() / np.sqrt(len(v))
    assert k.loc["csat_mean", "value"] == pytest.approx(v.mean()) and k.loc["csat_mean", "high"] == pytest.approx(min(5.0, v.mean() + half))
    assert k.loc["csat_mean", "low"] == pytest.approx(max(1.0, v.mean() - half))  # cut to the 1–5 scale
    sat, n, z = (v >= 4).sum(), len(v), stats.norm.ppf(0.975)
    p = sat / n
    centre, width = (p + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert k.loc["csat_satisfied", "value"] == pytest.approx(p) and k.loc["csat_satisfied", "n"] == 4
    assert (k.loc["csat_satisfied", "low"], k.loc["csat_satisfied", "high"]) == (pytest.approx(centre - width), pytest.approx(centre + width))
    team = team_view(data, "T1")["kpis"].set_index("kpi")
    t1 = pd.Series(CSAT["B1"] + CSAT["B2"] + CSAT["B3"], dtype=float)
    assert team.loc["csat_mean", "n"] == 9 and team.loc["csat_mean", "value"] == pytest.approx(t1.mean())
    assert (team.loc["csat_mean", "low"] >= 1) and (team.loc["csat_mean", "high"] <= 5)
    assert team.loc["csat_satisfied", "value"] == pytest.approx((t1 >= 4).mean())
    assert "CSAT (mean)" in kpi_table_html(team_view(data, "T1")["kpis"], lang="en") and "客户满意度（均分）" in kpi_table_html(team_view(data, "T1")["kpis"], lang="zh")
    assert "4 linked surveys" in csat_line(agent_view(data, "B1"), "en") and "no survey linked" in csat_line(agent_view(data, "B3"), "en")
    assert "4 份关联调查" in csat_line(agent_view(data, "B1"), "zh")


def test_every_scorecard_side_by_side_headline_first(small, tmp_path):
    """Each scorecard with its own n and scale, the center's headline first; the others have no target. The headline
    follows the settings (another center, another order)."""
    store, data = small
    view = agent_view(data, "B1")
    assert list(view["cards"]["scorecard_id"]) == ["chat_care", "callback"]
    by_card = view["card_scores"].set_index("scorecard_id")
    assert (by_card.loc["chat_care", "n"], by_card.loc["callback", "n"]) == (6, 2)
    assert by_card.loc["callback", "status"] == "no target" and np.isnan(view["cards"].set_index("scorecard_id").loc["callback", "target"])
    html = agent_cards_html(view, "zh")
    assert html.index("在线服务质检表") < html.index("回电质检表") and "在线服务质检表（主质检表）" in html
    lo, hi = by_card.loc["callback", "low"], by_card.loc["callback", "high"]
    assert 0 <= lo <= hi <= 100 and f"{lo:.1f}–{hi:.1f}" in html  # the model's interval lies on the scale by construction
    other = prepare_month(store, MONTH, tmp_path / "other", settings=center_settings("callback"))
    assert list(agent_view(other, "B1")["cards"]["scorecard_id"]) == ["callback", "chat_care"]
    assert json.loads((other / "headline.json").read_text())["scorecard_id"] == "callback"
    tv = team_view(data, "T2")  # one agent on chat_care in T2, none on callback
    assert list(tv["card_scores"]["agent_id"]) == ["B4"]
    assert team_cards_html(tv, "en").count("No agent of the team has randomly sampled calls scored on this scorecard") == 1  # callback only


def test_a_one_month_trend_is_one_labelled_month(small):
    """With one month of history the trend's x axis is a category axis holding "2026-10", not a date axis (which plotly
    would label 23:59:59.999 … 00:00:00.0005); gaps between months stay as empty slots."""
    store, data = small
    view = agent_view(data, "B1")
    assert list(view["trend"]["month"].unique()) == [MONTH]
    trend = agent_charts(view)["trend"]
    assert '"type":"category"' in trend and '"categoryarray":["2026-10"]' in trend
    import plotly.graph_objects as go

    from qa_lib.html import month_axis

    fig = month_axis(go.Figure(go.Scatter(x=["2026-10", "2026-07"], y=[1, 2])), ["2026-10", "2026-07"])
    assert fig.layout.xaxis.categoryarray == ("2026-07", "2026-08", "2026-09", "2026-10")


def test_a_center_with_only_its_contact_log_gets_its_kpis(tmp_path):
    """Agents and contacts, no scorecard, no evaluation, no VOC: the KPI tables are prepared, every agent who handled
    contacts and every team has a page with a plain line saying the QA scores are missing."""
    store = build_center(tmp_path, evaluations=False)
    data = prepare_month(store, MONTH, tmp_path / "_data", settings=center_settings())
    head = json.loads((data / "headline.json").read_text())
    assert head["has_evaluations"] is False and head["scorecard_id"] is None
    assert set(pd.read_parquet(data / "roster.parquet")["agent_id"]) == {"B1", "B2", "B3", "B4"}
    tv = team_view(data, "T1")
    assert {"answer_rate", "abandon_rate", "aht_seconds", "fcr"} <= set(tv["kpis"]["kpi"]) and tv["scores"].empty
    assert "No evaluations in 2026-10" in team_headline(tv, "en") and team_cards_html(tv) == "" and "2026-10 没有质检评估" in team_headline(tv, "zh")
    av = agent_view(data, "B2")
    assert "No evaluations in 2026-10" in agent_headline(av, "en") and "no survey linked" in csat_line(av, "en")
    fcr = tv["kpis"].set_index("kpi").loc["fcr"]
    assert fcr["value"] == pytest.approx(_contacts().query("agent_id in ['B1', 'B2', 'B3']")["fcr"].eq("true").mean())
    with pytest.raises(Exception, match="team must be one of \\['T1', 'T2'\\]"):
        team_view(data, "T9")
    store.engine.dispose()


# ------------------------------------------------------------------------------------ the sample center's pages


SAMPLE_MONTH = "2026-10"


def visible(html: str) -> str:
    """The text a reader sees: scripts (chart data) and tags removed, entities decoded."""
    import html as _html

    return _html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S)))


@pytest.fixture(scope="module")
def sample(loaded_store, tmp_path_factory):
    return loaded_store, prepare_month(loaded_store, SAMPLE_MONTH, tmp_path_factory.mktemp("sample") / "_data")


def agent_page(data, agent_id, lang):
    v = agent_view(data, agent_id, lang)
    return v, agent_headline(v) + csat_line(v) + agent_cards_html(v) + agent_sections_html(v)


def team_page(view):
    return team_headline(view) + csat_line(view) + team_cards_html(view) + team_kpis_html(view)


def test_both_languages_have_every_text():
    assert set(texts("zh")) == set(texts("en")) and texts("zh")["h_items"] == "各质检项通过率" and texts("en")["h_items"] == "Pass rate per item"
    with pytest.raises(Exception, match="lang must be one of"):
        texts("fr")


@pytest.mark.parametrize("lang, label, evidence, action", [
    ("zh", "核实客户身份", "近 3 个月 18 次作答中通过 11 次（61.1%", "辅导措施 CA0007 进行中"),
    ("en", "Customer identity verified", "passed 11 of 18 answers over the last 3 months (61.1%", "coaching action CA0007 is open"),
])
def test_the_weak_agent_sees_its_weak_item_and_its_open_coaching(sample, lang, label, evidence, action):
    """A017 (the sample's planted weak agent): the opening names the identity check by its label with the three months'
    evidence and the open coaching action; the page answers with the model's estimate and interval beside this month's
    mean; no item id shows where the scorecard has a label; numbers are formatted."""
    store, data = sample
    view, html = agent_page(data, "A017", lang)
    head = visible(agent_headline(view))
    r = view["score"].iloc[0]
    assert label in head and evidence in head and action in head
    assert f"{r['shrunk']:.1f}" in head and f"{max(r['low'], 0):.1f}–{min(r['high'], 100):.1f}" in head and f"{r['mean']:.1f}" in head
    text = visible(html)
    ids = {i for i in view["card_items"]["item_id"] if "_" in i}  # snake_case ids (a one-word id may be an English word of a label)
    assert "identity_check" in ids
    assert not [i for i in ids if re.search(rf"\b{i}\b", text)], "an item id shows where a label exists"
    assert not re.search(r"\d\.\d{4,}", text) and not re.search(r"\b(nan|None|NaT|inf)\b", text)
    assert ("复听日期" if lang == "zh" else "re-check on") in text and "2026-10-24" in text  # the open action's re-check date
    assert ("申诉" if lang == "zh" else "disputed") in text and view["supervisor"] in text  # how to dispute, to whom
    assert ("名词解释" if lang == "zh" else "What the words mean") in text
    other = "Customer identity verified" if lang == "zh" else "核实客户身份"
    assert other not in head  # one language per page


def test_only_released_evaluations_are_listed_and_the_rest_counted(sample):
    store, data = sample
    view, html = agent_page(data, "A017", "zh")
    released = set(store.evaluations(SAMPLE_MONTH, audience="agent").query("agent_id == 'A017'")["evaluation_id"])
    listed = set(re.findall(r"E\d{5}", visible(agent_sections_html(view))))
    assert listed and listed <= released
    if view["awaiting"]:
        assert f"另有 {view['awaiting']} 条评估还在审核中" in visible(html)


@pytest.mark.parametrize("lang, words", [("zh", "本月是入职第"), ("en", "this is your month")])
def test_a_new_hire_sees_the_tenure_context(sample, lang, words):
    store, data = sample
    view, _ = agent_page(data, "A055", lang)
    assert words in visible(agent_headline(view)) and "2026-05-04" in visible(agent_headline(view))
    assert words not in visible(agent_headline(agent_view(data, "A017", lang)))  # an agent hired years ago: no tenure line


def test_the_charts_draw_the_texts_numbers(sample):
    """The trend's whisker for this month is the model's interval given in the opening; an item's bar is the model's
    estimate and its whisker that estimate's interval (never a bar outside its whisker); the item target is a line."""
    from qa_lib.reports import tables

    store, data = sample
    view = agent_view(data, "A017", "en")
    r = _on_scale_row(view)
    card = view["cards"].iloc[0]
    est_row = view["card_scores"].set_index("scorecard_id").loc[card["scorecard_id"]]
    trend = view["trend"][view["trend"]["scorecard_id"] == card["scorecard_id"]]
    fig = tables._trend_figure(trend, card["target"], tables._on_scale(est_row.to_frame().T).iloc[0], view["month"], "en")
    est = next(t for t in fig.data if t.name == "best estimate, 95 % interval")
    assert est.y[0] == pytest.approx(r["shrunk"]) and est.y[0] + est.error_y.array[0] == pytest.approx(r["high"])
    assert est.y[0] - est.error_y.arrayminus[0] == pytest.approx(r["low"]) and f"{r['low']:.1f}–{r['high']:.1f}" in agent_headline(view)
    it = view["items"][view["items"]["scorecard_id"] == card["scorecard_id"]].copy()
    it.loc[it.index[0], "low"] = it["shrunk"].iloc[0] + 0.01  # an interval that misses its estimate is widened to hold it
    fig = tables._items_figure(it, tables._item_labels(view, "en"), 0.85, "en")
    bar = next(t for t in fig.data if t.type == "bar")
    assert min(bar.error_y.array) >= 0 and min(bar.error_y.arrayminus) >= 0 and "Customer identity verified" in bar.x
    assert any(getattr(s, "y0", None) == 0.85 for s in fig.layout.shapes)
    assert "item target 85%" in agent_charts(view)["items"]


def _on_scale_row(view):
    r = view["score"].iloc[0]
    return {"shrunk": r["shrunk"], "low": max(r["low"], 0.0), "high": min(r["high"], 100.0)}


@pytest.mark.parametrize("lang, capped, below, fw, queue", [
    ("zh", "超过 200", "确定低于目标", "Holm 校正", "不属于任何团队"),
    ("en", "more than 200", "reliably below", "Holm correction", "belong to no team"),
])
def test_the_team_page_caps_calls_to_decide_and_says_whose_abandons_they_are(sample, lang, capped, below, fw, queue):
    """Who is reliably below (named) or above, who needs more calls — past 200 said so, never 4096 or inf —, the
    family-wise verdict in plain words, intervals inside 0–100, the team's KPIs with targets, and the queue's abandons
    (no agent reached) said to belong to no team, counted as in the contact log."""
    store, data = sample
    view = team_view(data, "South", lang)
    s = view["scores"].copy()
    s.loc[s.index[0], ["status", "n_to_decide"]] = ["not enough evidence", np.inf]
    s.loc[s.index[1], ["status", "n_to_decide"]] = ["not enough evidence", 4096.0]
    view["scores"] = s
    cs = view["card_scores"].copy()
    cs.loc[cs["agent_id"] == s["agent_id"].iloc[0], ["status", "n_to_decide", "high"]] = ["not enough evidence", np.inf, 117.8]
    view["card_scores"] = cs
    html = team_page(view)
    text = visible(html)
    assert capped in visible(team_headline(view)) and capped in visible(team_cards_html(view)) and "4096" not in text and "4,096" not in text
    assert below in text and fw in text and queue in text
    assert not re.search(r"\d\.\d{4,}", text) and not re.search(r"\b(nan|None|NaT|inf)\b", text)
    highs = [float(b) for a, b in re.findall(r"(\d+\.\d)–(\d+\.\d)(?!%)", text)]
    assert highs and max(highs) <= 100.0
    c = store.read_month("contacts", pd.Period(SAMPLE_MONTH, freq="M"))
    q = int(((c["channel"] == "hotline") & (c["direction"] == "inbound") & c["abandoned"].fillna(False).astype(bool) & c["agent_id"].isna()).sum())
    assert f"{q:,}" in text
    assert ("放弃率" if lang == "zh" else "abandon rate") in text and "0.95" not in text and "≥ 95.0%" in text  # fcr's target, formatted
    assert not re.search(r"\b(A0\d\d)\b(?![)）])", visible(team_headline(view)))  # agents named beside their ids
