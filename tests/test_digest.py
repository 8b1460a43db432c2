"""The daily digest on the sample data: exactly the day's failures, critical first, one team only, masked, escaped."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from qa_lib.config import samples_dir
from qa_lib.digest import build_digest, default_day, excerpts, md_escape, parse_day, render_html, render_markdown, write_digest
from qa_lib.errors import ParameterError

DAY = "2026-10-21"  # the day of October's calibration session: calibration, random and targeted evaluations
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
AGENT_ID = re.compile(r"\bA\d{3}\b")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _day_frames(store, day: str):
    """The day's inputs read independently of qa_lib.digest (whole tables, cut with pandas)."""
    ev = store.read("evaluations")
    ev = ev[pd.to_datetime(ev["evaluated_at"]).dt.date == dt.date.fromisoformat(day)].reset_index(drop=True)
    items = store.read("evaluation_items")
    items = items[items["evaluation_id"].isin(ev["evaluation_id"])].reset_index(drop=True)
    c = store.table("contacts")
    contacts = store.read("contacts", c.c.contact_id.in_(ev["contact_id"].tolist()), columns=["contact_id", "contact_type", "topic", "transcript"])
    cards = [store.scorecard(s, int(v)) for s, v in ev[["scorecard_id", "scorecard_version"]].drop_duplicates().itertuples(index=False)]
    return ev, items, contacts.reset_index(drop=True), cards, store.read("agents")


@pytest.fixture(scope="module")
def frames(loaded_store):
    return _day_frames(loaded_store, DAY)


def _expected(frames) -> pd.DataFrame:
    """The day's failed items computed with pandas straight from the store and the scorecard YAML files."""
    ev, items, _, _, agents = frames
    ev = ev[(ev["status"] != "draft") & (ev["arm"] != "calibration")]
    meta = []
    for path in (samples_dir() / "scorecards").glob("*.yaml"):
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
        for sec in card["sections"]:
            for it in sec["items"]:
                meta.append({"scorecard_id": card["id"], "item_id": it["id"], "kind": it["kind"], "critical": bool(it.get("critical")),
                             "counts": it.get("scored", True) and not it.get("bonus", False)})
    meta = pd.DataFrame(meta)
    a = items.merge(ev[["evaluation_id", "scorecard_id", "agent_id"]], on="evaluation_id").merge(meta, on=["scorecard_id", "item_id"])
    faults = pd.to_numeric(a["answer"], errors="coerce")
    full = (a["answer"] == "no") | ((a["kind"] == "deduction") & (faults > 0))
    a["failed"] = (full | (a["answer"] == "partial")) & a["counts"]
    a["is_critical"] = full & a["critical"] & a["counts"]
    a["team"] = a["agent_id"].map(agents.set_index("agent_id")["team"])
    return a[a["failed"]]


@pytest.fixture(scope="module")
def day_digest(loaded_store, tmp_path_factory):
    return write_digest(loaded_store, DAY, tmp_path_factory.mktemp("digest"))


def test_lists_exactly_the_days_failures_critical_first(loaded_store, frames, day_digest):
    d = day_digest
    f = d.failures
    exp = _expected(frames)
    assert len(exp) > 10 and exp["is_critical"].sum() >= 2  # the test has something to find
    assert set(zip(f["evaluation_id"], f["item_id"])) == set(zip(exp["evaluation_id"], exp["item_id"]))
    assert len(f) == len(exp)
    assert set(zip(f.loc[f["critical"], "evaluation_id"], f.loc[f["critical"], "item_id"])) == set(zip(exp.loc[exp["is_critical"], "evaluation_id"], exp.loc[exp["is_critical"], "item_id"]))
    # calibration scorings of that day are left out, the targeted ones are in and marked
    ev, *_ = frames
    calib = set(ev.loc[ev["arm"] == "calibration", "evaluation_id"])
    assert calib and not calib & set(f["evaluation_id"])
    assert f["targeted"].any() and (f["targeted"] == (f["arm"] == "targeted")).all()
    # critical errors first within each team
    for _, part in f.groupby("team"):
        crit = part["critical"].to_numpy()
        assert (np.diff(crit.astype(int)) <= 0).all()
    # the summary agrees with the independent count
    s = d.summary.set_index("team")
    assert (s["failed_items"] == exp.groupby("team").size().reindex(s.index, fill_value=0)).all()
    assert (s["critical_errors"] == exp.groupby("team")["is_critical"].sum().reindex(s.index, fill_value=0)).all()
    counted = ev[ev["arm"] != "calibration"].assign(team=lambda x: x["agent_id"].map(loaded_store.read("agents").set_index("agent_id")["team"]))
    assert (s["evaluations"] == counted.groupby("team").size().reindex(s.index, fill_value=0)).all()
    assert d.drill.groupby("team")["failures"].sum().reindex(s.index, fill_value=0).tolist() == s["failed_items"].tolist()
    assert set(d.critical_agents["agent_id"]) == set(exp.loc[exp["is_critical"], "agent_id"])
    # every failure is a row of the HTML and of the Markdown
    html, md = (p.read_text(encoding="utf-8") for p in d.paths)
    assert html.count("<td class='b'>") == len(f)
    assert md.count(f"\n| **{'严重'}") == int(f["critical"].sum())
    assert [p.name for p in d.paths] == [f"digest_{DAY}.html", f"digest_{DAY}.md"]


def test_same_digest_whatever_the_row_order(frames, day_digest):
    ev, items, contacts, cards, agents = frames
    rng = np.random.default_rng(5)
    shuffled = build_digest(ev.sample(frac=1, random_state=rng), items.sample(frac=1, random_state=rng), cards[::-1],
                            contacts.sample(frac=1, random_state=rng), agents.sample(frac=1, random_state=rng), date=DAY)
    pd.testing.assert_frame_equal(shuffled.failures, day_digest.failures)
    pd.testing.assert_frame_equal(shuffled.summary, day_digest.summary)


def test_drafts_excluded_and_labels_follow_the_language(frames, day_digest):
    ev, items, contacts, cards, agents = frames
    target = day_digest.failures["evaluation_id"].iloc[0]
    drafted = ev.assign(status=np.where(ev["evaluation_id"] == target, "draft", ev["status"]))
    d = build_digest(drafted, items, cards, contacts, agents, date=DAY, lang="en")
    assert target not in set(d.failures["evaluation_id"])
    assert len(d.failures) == len(day_digest.failures) - int((day_digest.failures["evaluation_id"] == target).sum())
    labels = {(c.id, it.id): it.label["en"] for c in cards for it in c.items}  # "closing" is in both cards, with two labels
    assert d.failures["item"].tolist() == [labels[k] for k in zip(d.failures["scorecard_id"], d.failures["item_id"])]


def test_team_filter_shows_only_that_teams_agents(loaded_store, day_digest, tmp_path):
    agents = loaded_store.read("agents")
    east = set(agents.loc[agents["team"] == "East", "agent_id"])
    d = write_digest(loaded_store, DAY, tmp_path, team="East", lang="en")
    assert [p.name for p in d.paths] == [f"digest_{DAY}_East.html", f"digest_{DAY}_East.md"]
    assert d.summary["team"].tolist() == ["East"] and len(d.failures) > 0
    whole = day_digest.failures[day_digest.failures["team"] == "East"]
    assert d.failures["evaluation_id"].tolist() == whole["evaluation_id"].tolist()  # the same rows as in the centre's digest
    others = agents.loc[agents["team"] != "East"]
    for path in d.paths:
        text = path.read_text(encoding="utf-8")
        ids = set(AGENT_ID.findall(text))
        assert ids and ids <= east, ids - east
        assert not [n for n in others["name"] if n in text]


def test_transcripts_are_masked(frames, day_digest):
    contacts = frames[2]
    raw = contacts.loc[contacts["contact_id"].isin(day_digest.failures["contact_id"]), "transcript"].dropna()
    pii = {m for t in raw for m in PHONE.findall(t) + EMAIL.findall(t)}
    assert pii  # the day's transcripts carry phone numbers and e-mails
    assert day_digest.failures["excerpt"].str.contains(r"\*\*\*\*", regex=True).any()  # and some excerpts show them masked
    for path in day_digest.paths:
        text = path.read_text(encoding="utf-8")
        assert not PHONE.search(text) and not EMAIL.search(text)
        assert not [p for p in pii if p in text]


def test_script_in_a_comment_is_text_masked_and_keeps_the_table(frames, day_digest):
    ev, items, contacts, cards, agents = frames
    row = day_digest.failures.iloc[0]
    evil = '<script>alert("x")</script> | 客户电话13812345678\n第二行 **粗体** wang88@example.com'
    hit = (items["evaluation_id"] == row["evaluation_id"]) & (items["item_id"] == row["item_id"])
    items = items.assign(item_comment=np.where(hit, evil, items["item_comment"].astype(object)))
    d = build_digest(ev, items, cards, contacts, agents, date=DAY)
    html, md = render_html(d), render_markdown(d)
    assert "<script" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "13812345678" not in html + md and "wang88@" not in html + md and "138****5678" in html
    line = next(x for x in md.splitlines() if "alert" in x)
    header = next(x for x in md.splitlines() if x.startswith("|   |"))
    assert len(UNESCAPED_PIPE.findall(line)) == len(UNESCAPED_PIPE.findall(header)) == 9
    assert "\\<script\\>" in line and "<br>第二行" in line and "\\*\\*粗体\\*\\*" in line


def test_bad_date_or_team_is_a_clear_error_and_writes_nothing(loaded_store, tmp_path):
    out = tmp_path / "digest"
    with pytest.raises(ParameterError, match=r"date must be a day such as 2026-10-14; got '2026-13-40'"):
        write_digest(loaded_store, "2026-13-40", out)
    with pytest.raises(ParameterError, match=r"team must be one of East, North, South; got 'West'"):
        write_digest(loaded_store, DAY, out, team="West")
    with pytest.raises(ParameterError, match=r"lang must be one of zh, en; got 'fr'"):
        write_digest(loaded_store, DAY, out, lang="fr")
    assert not out.exists()


def test_a_day_without_evaluations_says_so(loaded_store, tmp_path):
    d = write_digest(loaded_store, "2026-12-25", tmp_path)
    assert d.evaluations == 0 and d.failures.empty and d.summary["evaluations"].tolist() == [0, 0, 0]
    assert all("2026-12-25 没有质检记录" in p.read_text(encoding="utf-8") for p in d.paths)
    d = write_digest(loaded_store, "2026-12-25", tmp_path, team="North", lang="en")
    assert all("No evaluations of team North on 2026-12-25" in p.read_text(encoding="utf-8") for p in d.paths)


def test_default_day_is_the_day_before_the_latest_evaluation(loaded_store):
    last = pd.to_datetime(loaded_store.read("evaluations")["evaluated_at"]).max().date()
    assert default_day(loaded_store) == last - dt.timedelta(days=1)


@pytest.mark.parametrize("text", ["2026-10-14", "2026/10/14", "20261014", " 2026-10-14 ", dt.date(2026, 10, 14), dt.datetime(2026, 10, 14, 9), pd.Timestamp("2026-10-14 23:59")])
def test_parse_day(text):
    assert parse_day(text) == dt.date(2026, 10, 14)


@pytest.mark.parametrize("text", ["2026-02-30", "14.10.2026", "", "yesterday", None, "2026-10"])
def test_parse_day_rejects(text):
    with pytest.raises(ParameterError, match="date must be a day such as 2026-10-14"):
        parse_day(text)


ITEMS = pd.DataFrame({
    "scorecard_id": "demo", "scorecard_version": 1,
    "item_id": ["greeting", "identity_check", "needs_analysis", "empathy", "closing"],
    "order": [0, 1, 2, 3, 4], "cue_text": "",
})
CALL = "\n".join([
    "坐席：您好，欢迎致电客服中心，工号007。",
    "客户：导航一直定位不准。我的手机13812345678，邮箱wang88@example.com。",
    "坐席：请问这个情况是从什么时候开始的？",
    "客户：希望你们理解一下，我很着急。",  # a cue word of empathy, but a customer turn: never the anchor
    "坐席：这个不是我们这边的问题。",
    "坐席：" + "请您在设置里打开辅助定位" * 6 + "，有问题请拨打13912345678",
    "坐席：请问还有其他可以帮您的吗？再见。",
])


def test_excerpt_finds_the_turn_or_where_a_missing_step_belonged():
    targets = pd.DataFrame({"contact_id": ["K1", "K1", "K1", "K2"], "scorecard_id": "demo", "scorecard_version": 1,
                            "item_id": ["empathy", "identity_check", "closing", "greeting"]}, index=[10, 11, 12, 13])
    out = excerpts(targets, pd.Series({"K1": CALL}), ITEMS)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert "这个不是我们这边的问题" in out[10].splitlines()[1]  # the agent's bad turn, in the middle of 3 lines
    lines = out[11].splitlines()  # no identity check in the call: the turns right after the greeting
    assert len(lines) == 3 and lines[0].startswith("坐席：您好") and "138****5678" in lines[1] and "w***@example.com" in lines[1]
    assert out[12].splitlines()[-1].endswith("再见。") and len(out[12].splitlines()) == 2
    assert out[13] == ""  # no transcript
    assert all(len(x) <= 80 for v in out for x in v.splitlines())


def test_a_center_without_a_cue_file_anchors_on_label_words(tmp_path, monkeypatch):
    """No case_cues in the center's center.yaml: no cue phrases, so an item's label and guidance words find its turn."""
    from qa_lib.digest import default_cues

    assert default_cues()  # the sample center names its cue file
    (tmp_path / "center.yaml").write_text("name: 华东客服中心\nlang: zh\n", encoding="utf-8")
    monkeypatch.setenv("QA_CENTER", str(tmp_path / "center.yaml"))
    assert default_cues() == {}
    items = ITEMS.assign(cue_text=["", "", "", "", "礼貌道别，说再见"])
    targets = pd.DataFrame({"contact_id": ["K1", "K1"], "scorecard_id": "demo", "scorecard_version": 1, "item_id": ["closing", "empathy"]})
    out = excerpts(targets, pd.Series({"K1": CALL}), items)
    assert out.equals(excerpts(targets, pd.Series({"K1": CALL}), items, cues={}))
    assert out.iloc[0].splitlines()[-1].endswith("再见。") and len(out.iloc[0].splitlines()) == 2
    assert len(out.iloc[1].splitlines()) == 3 and "138****5678" not in out.iloc[1]  # by position: turns 4-6 of 7


def test_excerpt_masks_before_cutting():
    targets = pd.DataFrame({"contact_id": ["K1"], "scorecard_id": "demo", "scorecard_version": 1, "item_id": ["needs_analysis"]})
    cut = excerpts(targets, pd.Series({"K1": "坐席：" + "嗯" * 66 + "电话13812345678"}), ITEMS, line_chars=78).iloc[0]
    assert len(cut) == 78 and cut.endswith("电话138***…")  # cut first, "电话138123…" would escape the mask


def test_md_escape():
    assert md_escape("a|b\nc") == "a\\|b<br>c"
    assert md_escape("<b>*x*</b> [l](u) `c` _u_ ~s~ &amp;") == "\\<b\\>\\*x\\*\\</b\\> \\[l\\](u) \\`c\\` \\_u\\_ \\~s\\~ \\&amp;"
    assert md_escape(None) == "" and md_escape(float("nan")) == ""
