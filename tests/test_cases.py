"""The case library: which calls become cases, what a case shows, and the page and index it is written to."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from qa_lib import cases as cl
from qa_lib.errors import ParameterError
from qa_lib.privacy import PATTERNS, mask_pii
from qa_lib.store import Store

MONTH = "2026-10"
PII = {k: PATTERNS[k] for k in ("mobile", "landline", "id_card", "email")}


@pytest.fixture(scope="module")
def inputs(loaded_store):
    return cl.load_inputs(loaded_store, MONTH)


def select(inputs, **kw):
    args = {k: inputs[k] for k in ("disputes", "inspectors")}
    args.update(kw)
    frames = {k: args.pop(k, inputs[k]) for k in ("evaluations", "items", "contacts")}
    return cl.select_cases(frames["evaluations"], frames["items"], frames["contacts"], inputs["cards"], **args)


@pytest.fixture(scope="module")
def chosen(inputs):
    return select(inputs)


@pytest.fixture(scope="module")
def library(loaded_store, tmp_path_factory):
    return cl.build_library(loaded_store, MONTH, tmp_path_factory.mktemp("library"))


@pytest.fixture
def writable(loaded_store, tmp_path):
    """A private copy of the loaded samples (SQLite backup: fast, and consistent with the WAL)."""
    dst = tmp_path / "copy.sqlite"
    src = sqlite3.connect(loaded_store.url[len("sqlite:///"):])
    out = sqlite3.connect(dst)
    src.backup(out)
    src.close()
    out.close()
    s = Store(dst)
    yield s
    s.engine.dispose()


def pii_found(text: str) -> dict:
    return {k: p.findall(text) for k, p in PII.items() if p.search(text)}


def xlsx_text(path) -> str:
    wb = load_workbook(path, read_only=True)
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None)


# ------------------------------------------------------------------------------- choice
def test_every_skill_with_failures_gets_both_kinds_with_real_excerpts(inputs, chosen):
    graded = cl.grade_answers(inputs["evaluations"], inputs["items"], inputs["cards"])
    failing = set(graded.loc[graded["fault"], "skill"])
    assert failing == {"questioning", "etiquette", "empathy", "accuracy", "compliance", "efficiency", "product_knowledge", "process"}
    kinds = chosen.groupby("skill")["kind"].agg(set)
    for skill in failing:
        assert kinds[skill] == {"exemplary", "failure"}, skill
    assert (chosen.groupby(["skill", "kind"]).size() <= 5).all()
    assert "agent_id" not in chosen.columns
    # excerpts are real lines of the (masked) transcript, around the moment the item bears on
    transcripts = inputs["contacts"].set_index("contact_id")["transcript"]
    for r in chosen.itertuples():
        lines = r.excerpt.split("\n")
        assert 1 <= len(lines) <= 2 * cl.CONTEXT_LINES + 1
        assert set(lines) <= {ln.strip() for ln in mask_pii(transcripts[r.contact_id]).splitlines()}
    found = chosen["excerpt_source"].isin(["cue", "near"])
    assert found.mean() >= 0.8, chosen.loc[~found, "item_id"].value_counts()
    assert chosen["case_id"].is_unique


def test_cases_keep_their_promises(inputs, chosen):
    """Failures are no/partial answers with a clear comment; exemplary calls are top-scored and clean for the skill."""
    ans = inputs["items"].set_index(["evaluation_id", "item_id"])
    head = inputs["evaluations"].set_index("evaluation_id")
    fl = chosen[chosen["kind"] == "failure"]
    stored = ans.loc[list(zip(fl["evaluation_id"], fl["item_id"]))]
    assert (stored["answer"].isin(["no", "partial"]) | (pd.to_numeric(stored["answer"], errors="coerce") > 0)).all()
    assert (cl.comment_weight(stored["item_comment"]) >= cl.MIN_COMMENT_WEIGHT).all()
    assert fl["item_comment"].str.len().gt(0).all()
    # on a double-scored call the reference failed it too: the session's expert, else more than half of the inspectors
    named = inputs["sessions"].set_index("session_id")["expert_inspector_id"]
    boss = fl["evaluation_id"].map(head["calibration_session_id"]).map(named)
    by_boss = boss.notna().to_numpy()
    assert (fl.loc[~by_boss, "agreement"] > 0.5).all()
    boss_eval = head.reset_index().set_index(["contact_id", "inspector_id"])["evaluation_id"]
    for cid, item, who in zip(fl.loc[by_boss, "contact_id"], fl.loc[by_boss, "item_id"], boss[by_boss]):
        assert ans.loc[(boss_eval[(cid, who)], item), "answer"] in ("no", "partial")
    ex = chosen[chosen["kind"] == "exemplary"]
    top = inputs["evaluations"].groupby("scorecard_id")["total_score"].quantile(cl.TOP_QUANTILE)
    assert (ex["total_score"].to_numpy() >= ex["scorecard_id"].map(top).to_numpy()).all()
    assert (ex["agreement"] == 1).all() and (ex["answer"] == "yes").all()
    graded = cl.grade_answers(inputs["evaluations"], inputs["items"], inputs["cards"])
    faults = graded[graded["fault"]].set_index(["evaluation_id", "skill"]).index
    assert not pd.MultiIndex.from_frame(ex[["evaluation_id", "skill"]]).isin(faults).any()
    # double-scored calls (the calibration sessions) are preferred and their agreement recorded
    double = chosen[chosen["n_evaluations"] >= 2]
    assert len(double) and double["tags"].str.contains("double_scored").all()
    assert (ex.groupby("skill")["n_evaluations"].max() >= 2).sum() >= 4
    agreed = ex[ex["n_evaluations"] >= 2]
    assert (agreed.groupby("skill")["rank"].min() == 1).all()  # an agreed double-scored call heads its skill
    # spread: no agent twice among a skill's five exemplary cases; among its failures only while confirmed ones
    # (the expert's, or double-scored) last, which come before any other agent's unconfirmed failure
    agents = inputs["evaluations"].set_index("evaluation_id")["agent_id"]
    assert ex.assign(agent=ex["evaluation_id"].map(agents)).groupby("skill")["agent"].apply(lambda s: s.is_unique).all()
    experts = set(inputs["inspectors"].loc[inputs["inspectors"]["is_expert"].astype(bool), "inspector_id"])
    sure = fl["evaluation_id"].map(head["inspector_id"]).isin(experts) | (fl["n_evaluations"] >= 2)
    repeat = fl.assign(agent=fl["evaluation_id"].map(agents)).duplicated(["skill", "agent"])
    assert sure[repeat].all()
    assert (sure.groupby(fl["skill"]).cummin() == sure).all()  # confirmed failures first in every skill
    assert set(head.loc[chosen["evaluation_id"], "status"]) <= {"submitted", "released", "acknowledged", "resolved"}


def test_drafts_are_never_used(inputs, chosen):
    ev = inputs["evaluations"].copy()
    ev.loc[ev["evaluation_id"].isin(chosen["evaluation_id"]), "status"] = "draft"
    again = select(inputs, evaluations=ev)
    assert len(again) and not set(again["evaluation_id"]) & set(chosen["evaluation_id"])


def test_open_dispute_row_alone_keeps_an_evaluation_out(inputs, chosen):
    eid = chosen.loc[chosen["kind"] == "failure", "evaluation_id"].iloc[0]
    row = {"evaluation_id": eid, "item_id": "greeting", "raised_version": 2, "reason": "x", "raised_by": "A001", "raised_at": pd.Timestamp("2026-11-01")}
    open_ = pd.DataFrame([{**row, "outcome": None}])
    assert eid not in set(select(inputs, disputes=open_)["evaluation_id"])
    assert eid not in set(select(inputs, disputes=open_.assign(outcome=""))["evaluation_id"])
    assert eid in set(select(inputs, disputes=open_.assign(outcome="upheld"))["evaluation_id"])


def test_disputed_evaluation_leaves_the_library_until_resolved(writable):
    def current():
        inp = cl.load_inputs(writable, MONTH)
        return cl.select_cases(inp["evaluations"], inp["items"], inp["contacts"], inp["cards"], disputes=inp["disputes"], inspectors=inp["inspectors"])

    before = current()
    fl = before[(before["kind"] == "failure") & (before["n_evaluations"] == 1) & before["answer"].isin(["no", "partial"])]
    target, other = fl.iloc[0], fl.iloc[1]
    for case in (target, other):
        ev = writable.evaluation(case["evaluation_id"])
        if ev["status"] == "submitted":  # most of the month's sample evaluations are released already
            writable.release(case["evaluation_id"], actor="SUP1")
        writable.dispute(case["evaluation_id"], {case["item_id"]: "我做到了，请复听录音"}, agent_id=ev["agent_id"])
    during = current()
    assert not {target["evaluation_id"], other["evaluation_id"]} & set(during["evaluation_id"])
    same = during["skill"] == target["skill"]
    assert same.sum() == (before["skill"] == target["skill"]).sum()  # other calls take their places
    writable.resolve(target["evaluation_id"], "upheld", actor="SUP1", note="复听确认扣分成立")
    writable.resolve(other["evaluation_id"], "rescored", answers={other["item_id"]: "yes"}, actor="SUP1", note="复听：已做到")
    after = current()
    back = after[after["case_id"] == target["case_id"]]
    assert len(back) == 1 and "resolved" in back["tags"].iloc[0]
    # a rescored dispute counts with the stored (latest) answers: that failure is no failure any more
    gone = after[(after["evaluation_id"] == other["evaluation_id"]) & (after["item_id"] == other["item_id"]) & (after["kind"] == "failure")]
    assert gone.empty


def test_permuting_rows_changes_nothing(inputs, chosen):
    rng = np.random.default_rng(7)
    shuffled = {k: inputs[k].iloc[rng.permutation(len(inputs[k]))].reset_index(drop=True) for k in ("evaluations", "items", "contacts")}
    again = cl.select_cases(shuffled["evaluations"], shuffled["items"], shuffled["contacts"], list(reversed(inputs["cards"])),
                            disputes=inputs["disputes"], inspectors=inputs["inspectors"].iloc[::-1])
    pd.testing.assert_frame_equal(again, chosen)


def test_seed_only_breaks_ties(inputs, chosen):
    other = select(inputs, seed=12345)
    pd.testing.assert_series_equal(other.groupby(["skill", "kind"]).size(), chosen.groupby(["skill", "kind"]).size())
    assert not other["case_id"].equals(chosen["case_id"])  # some ties fall the other way


# ------------------------------------------------------------------------------ excerpts
def test_excerpt_finds_the_moment_and_masks_before_cutting():
    cues = {"empathy": {"find": ("抱歉",), "near": ("车型",)}, "x.empathy": {"find": ("不存在",)}}
    text = "坐席：您好。\n客户：手机13812345678，邮箱 wang88@example.com\n坐席：请问车型？\n坐席：非常抱歉。\n客户：好。\n坐席：再见。\n坐席：拜拜。"
    ex, focus, source = cl.find_excerpt(text, "empathy", cues=cues, context=2)
    assert source == "cue" and ex.split("\n")[focus] == "坐席：非常抱歉。" and len(ex.split("\n")) == 5
    assert "138****5678" in ex and "w***@example.com" in ex and not pii_found(ex)
    assert cl.find_excerpt(text.replace("非常抱歉", "嗯"), "empathy", cues=cues, context=0) == ("坐席：请问车型？", 0, "near")
    assert cl.find_excerpt(text, "empathy", "x", cues=cues, context=1) == ("坐席：您好。\n客户：手机138****5678，邮箱 w***@example.com\n坐席：请问车型？", -1, "opening")
    assert cl.find_excerpt(None, "empathy", cues=cues) == ("", -1, "none")
    # a phone number across the cut is masked first, so no digits of it survive the cut
    long = "客户：" + "啊" * (cl.MAX_LINE_CHARS - 10) + "13812345678 后面还有"
    cut, _, _ = cl.find_excerpt(long, "greeting", cues={})
    assert len(cut) == cl.MAX_LINE_CHARS and cut.endswith("…") and "1381" not in cut and "138*" in cut


def test_cue_file_covers_the_sample_scorecards(inputs):
    cues = cl.load_cues()
    tagged = {it.id for card in inputs["cards"] for it in card.items if it.skills}
    assert tagged <= set(cues), tagged - set(cues)
    assert all(p == p.lower() for v in cues.values() for ps in v.values() for p in ps)


def test_cues_and_labels_come_from_the_center_file(tmp_path, monkeypatch, chosen):
    """The sample center's center.yaml names its cue file and labels its skills; a cue file it names but lacks means
    no cues; a path given to load_cues must exist."""
    assert (chosen["skill_label_zh"] != chosen["skill"]).all() and (chosen["skill_label_en"] != chosen["skill"]).all()
    assert chosen["excerpt_source"].eq("cue").any()
    (tmp_path / "center.yaml").write_text("name: 华东客服中心\nlang: zh\ncase_cues: gone.txt\n", encoding="utf-8")
    monkeypatch.setenv("QA_CENTER", str(tmp_path / "center.yaml"))
    assert cl.load_cues() == {}
    with pytest.raises(ParameterError, match=r"cues must be an existing cue file; got '.*gone.txt'"):
        cl.load_cues(tmp_path / "gone.txt")


def test_a_center_without_cues_or_labels_gets_opening_lines_and_its_own_tags(inputs, tmp_path, monkeypatch):
    """Another center: no case_cues and no labels in its center.yaml, its items tagged in Chinese (礼仪 …)."""
    (tmp_path / "center.yaml").write_text("name: 华东客服中心\nlang: zh\n", encoding="utf-8")
    monkeypatch.setenv("QA_CENTER", str(tmp_path / "center.yaml"))
    assert cl.load_cues() == {}
    own = {s: ("礼仪" if i == 0 else f"技能{i}") for i, s in enumerate(sorted({t for c in inputs["cards"] for it in c.items for t in it.skills}))}
    cards = [replace(c, sections=tuple(replace(sec, items=tuple(replace(it, skills=tuple(own[t] for t in it.skills)) for it in sec.items))
                                       for sec in c.sections)) for c in inputs["cards"]]
    got = cl.select_cases(inputs["evaluations"], inputs["items"], inputs["contacts"], cards,
                          disputes=inputs["disputes"], inspectors=inputs["inspectors"])
    assert len(got) and "礼仪" in set(got["skill"]) and set(got["skill"]) <= set(own.values())
    assert (got["skill_label_zh"] == got["skill"]).all() and (got["skill_label_en"] == got["skill"]).all()
    assert cl.skill_label("礼仪", "en") == "礼仪" and cl.topic_label(None) == "" and cl.topic_label("退款", "en") == "退款"
    # no cues: every excerpt is the opening lines of the masked transcript
    assert set(got["excerpt_source"]) <= {"opening", "none"} and (got["excerpt_focus"] == -1).all()
    transcripts = inputs["contacts"].set_index("contact_id")["transcript"]
    for cid, excerpt in zip(got["contact_id"], got["excerpt"]):
        lines = [ln.strip() for ln in mask_pii(str(transcripts[cid])).splitlines() if ln.strip()][:2 * cl.CONTEXT_LINES + 1]
        assert excerpt == "\n".join(lines)
    counts = cl.skill_counts(inputs["evaluations"], inputs["items"], cards, got, disputes=inputs["disputes"])
    html = cl.library_html(got, counts, period=MONTH)
    assert "<option value=\"礼仪\">礼仪</option>" in html and "未定位到相关语句" in html
    topic = got["topic"].dropna().iloc[0]
    assert f"· {topic} ·" in html and cl.cases_table(got)["主题"].tolist() == got["topic"].fillna("").tolist()


# ------------------------------------------------------------------------------- output
def test_library_is_masked_escaped_and_offline(inputs, chosen, library):
    html = library.html.read_text(encoding="utf-8")
    xlsx = xlsx_text(library.xlsx)
    assert library.html.name == "index.html" and library.html.parent.name == "cases"
    assert len(pd.read_excel(library.xlsx, sheet_name=0)) == len(library.cases) == len(chosen)
    # the chosen calls' transcripts do hold phone numbers: the library shows them masked
    raw = inputs["contacts"].set_index("contact_id").loc[chosen["contact_id"], "transcript"]
    assert raw.map(lambda t: bool(PATTERNS["mobile"].search(t))).any() and "****" in html and "****" in xlsx
    assert not pii_found(html) and not pii_found(xlsx)
    # self-contained: no external script, style, image or link
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert html.count("<script") == 1 and "<style>" in html
    # agents are not named by default
    agents = set(inputs["evaluations"]["agent_id"])
    assert not agents & set(re.findall(r"\bA\d{3}\b", html)) and not agents & set(re.findall(r"\bA\d{3}\b", xlsx))
    for skill in library.counts["skill"]:
        assert f'data-skill="{skill}"' in html
    assert "案例库 — 2026-10" in html and "优秀案例" in html and "问题案例" in html


def test_comment_and_transcript_injection_render_as_text(inputs, chosen, tmp_path):
    case = chosen[chosen["kind"] == "failure"].iloc[0]
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> 电话13812345678 身份证11010519491231002X mail wang88@example.com'
    items = inputs["items"].copy()
    hit = (items["evaluation_id"] == case["evaluation_id"]) & (items["item_id"] == case["item_id"])
    items.loc[hit, "item_comment"] = evil
    contacts = inputs["contacts"].copy()
    at = contacts["contact_id"] == case["contact_id"]
    focus = case["excerpt"].split("\n")[case["excerpt_focus"]]
    text = contacts.loc[at, "transcript"].iloc[0]
    contacts.loc[at, "transcript"] = text.replace(focus, focus + '</div><svg onload=alert(2)>"quoted"', 1)
    assert contacts.loc[at, "transcript"].iloc[0] != text
    again = select(inputs, items=items, contacts=contacts, per_skill=50)
    mine = again[again["case_id"] == case["case_id"]]
    assert len(mine) == 1 and "<script>" in mine["item_comment"].iloc[0]
    html_path, xlsx_path = cl.write_library(again, cl.skill_counts(inputs["evaluations"], items, inputs["cards"], again), tmp_path, period=MONTH)
    html = html_path.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<script") == 1 and not re.search(r"<[^>]*\bon(error|load)\s*=", html) and "<svg" not in html
    assert not pii_found(html) and not pii_found(xlsx_text(xlsx_path))
    assert "110105********002X" in html and "&lt;/div&gt;&lt;svg onload=alert(2)&gt;&quot;quoted&quot;" in html


def test_same_inputs_give_identical_html(loaded_store, library, tmp_path):
    again = cl.build_library(loaded_store, MONTH, tmp_path)
    assert again.html.read_bytes() == library.html.read_bytes()
    pd.testing.assert_frame_equal(again.cases, library.cases)


def test_english_with_agents_for_supervisors(loaded_store, tmp_path):
    lib = cl.build_library(loaded_store, MONTH, tmp_path, lang="en", months=2, per_skill=2, include_agent=True)
    html = lib.html.read_text(encoding="utf-8")
    assert lib.period == "2026-09 – 2026-10" and lib.xlsx.name == "cases_2026-09_2026-10.xlsx"
    assert "Case library — 2026-09 – 2026-10" in html and "Instructive failure" in html and 'lang="en"' in html
    assert lib.cases["agent_id"].notna().all() and all(f"Agent {a}" in html for a in lib.cases["agent_id"])
    assert set(lib.cases["month"]) == {"2026-09", "2026-10"}
    assert (lib.cases.groupby(["skill", "kind"]).size() <= 2).all()


@pytest.mark.parametrize("kw, message", [
    ({"month": "2026-13"}, "month must look like 2026-10; got '2026-13'"),
    ({"month": "Oct 2026"}, "month must look like 2026-10"),
    ({"per_skill": 0}, "per_skill must be a whole number ≥ 1; got 0"),
    ({"per_skill": 2.5}, "per_skill must be a whole number ≥ 1; got 2.5"),
    ({"per_skill": True}, "per_skill must be a whole number"),
    ({"lang": "fr"}, "lang must be one of zh, en; got 'fr'"),
    ({"months": 0}, "months must be a whole number between 1 and 24; got 0"),
    ({"seed": -1}, "seed must be a whole number ≥ 0; got -1"),
])
def test_bad_parameters_are_refused_and_write_nothing(loaded_store, tmp_path, kw, message):
    folder = tmp_path / "out"
    args = {"month": MONTH, **kw}
    month = args.pop("month")
    with pytest.raises(ParameterError, match=re.escape(message)):
        cl.build_library(loaded_store, month, folder, **args)
    assert not folder.exists()


def test_bad_skill_and_frames(chosen, inputs):
    with pytest.raises(ParameterError, match=r"skill must be 'all' or one of accuracy, compliance, .*; got 'singing'"):
        cl.cases_html(chosen, skill="singing")
    assert 'data-skill="empathy"' in cl.cases_html(chosen, "en", skill="empathy") and 'data-skill="process"' not in cl.cases_html(chosen, skill="empathy")
    with pytest.raises(ParameterError, match="evaluations must have the columns .*; missing total_score"):
        select(inputs, evaluations=inputs["evaluations"].drop(columns="total_score"))
    with pytest.raises(ParameterError, match="cards must be a non-empty list"):
        cl.select_cases(inputs["evaluations"], inputs["items"], inputs["contacts"], [])


# --------------------------------------------------------------- how sure a failure is
CARD = """
id: desk
version: 1
style: weighted
name: {zh: 服务台来电, en: Desk call}
sections:
  - id: main
    name: {zh: 主要, en: Main}
    weight: 100
    items:
      - id: verify_caller
        kind: yes_no
        weight: 1
        skills: [safety]
        label: {zh: 核实来电人, en: Caller verified}
        guidance: {zh: 先核实来电人身份。, en: Verify the caller first.}
      - id: farewell
        kind: yes_no
        weight: 1
        skills: [manners]
        label: {zh: 礼貌道别, en: Polite farewell}
        guidance: {zh: 结束时礼貌道别。, en: Say goodbye politely.}
"""
CUES = {"verify_caller": {"find": ("for your security",), "near": ("customer:",)}, "farewell": {"find": ("goodbye",)}}
#: c1: the agent does the check (a cue line); c2 and c3: the check never happens (the excerpt is the customer's first turn)
TRANSCRIPTS = {
    "c1": "Agent: Hello.\nCustomer: My car will not start.\nAgent: For your security, your registered phone?\nCustomer: 13812345678\nAgent: Goodbye.",
    "c2": "Agent: Hello.\nCustomer: My map is out of date.\nAgent: Let me update it.\nAgent: Goodbye.",
    "c3": "Agent: Hello.\nCustomer: The screen is black.\nAgent: Please restart it.\nAgent: Goodbye.",
}
COMMENT = "未核实来电人身份"  # weight 16: a clear comment


def tiny(rows, *, session=None):
    """Frames for select_cases: ``rows`` = (evaluation, contact, inspector, verify_caller answer)."""
    from qa_lib.rubric import load_scorecard

    ev = pd.DataFrame([{"evaluation_id": e, "contact_id": c, "agent_id": f"A{c}", "inspector_id": i, "scorecard_id": "desk",
                        "scorecard_version": 1, "arm": "calibration" if session else "random", "status": "released",
                        "total_score": 50.0 if a == "no" else 100.0, "calibration_session_id": session} for e, c, i, a in rows])
    items = pd.DataFrame([r for e, _, _, a in rows for r in (
        {"evaluation_id": e, "item_id": "verify_caller", "answer": a, "item_comment": COMMENT if a == "no" else None},
        {"evaluation_id": e, "item_id": "farewell", "answer": "yes", "item_comment": None})])
    contacts = pd.DataFrame({"contact_id": list(TRANSCRIPTS), "start_time": pd.Timestamp("2026-10-05 10:00"), "contact_type": "service",
                             "topic": "t", "channel": "hotline", "transcript": list(TRANSCRIPTS.values())})
    return ev, items, contacts, [load_scorecard(CARD)]


def failure(got):
    return got[got["kind"] == "failure"].reset_index(drop=True)


def test_a_failure_is_the_surest_answer_not_the_one_whose_transcript_shows_the_step():
    """A strict inspector's `no` on a call that shows the check (c1) loses to the expert's `no` on a call without it (c2)."""
    ev, items, contacts, cards = tiny([("e1", "c1", "STRICT", "no"), ("e2", "c2", "EXPERT", "no")])
    inspectors = pd.DataFrame({"inspector_id": ["STRICT", "EXPERT"], "is_expert": [False, True]})
    got = cl.select_cases(ev, items, contacts, cards, inspectors=inspectors, cues=CUES, per_skill=1)
    fl = failure(got)
    assert fl[["evaluation_id", "excerpt_source"]].values.tolist() == [["e2", "near"]]
    assert fl["excerpt"].iloc[0].split("\n")[fl["excerpt_focus"].iloc[0]] == "Customer: My map is out of date."
    # both are candidates: with room for two the strict inspector's comes second
    assert failure(cl.select_cases(ev, items, contacts, cards, inspectors=inspectors, cues=CUES))["evaluation_id"].tolist() == ["e2", "e1"]
    # an exemplary call still prefers the line that shows the step (the farewell cue)
    ex = got[got["kind"] == "exemplary"]
    assert ex["excerpt_source"].tolist() == ["cue"] and ex["excerpt"].iloc[0].endswith("Agent: Goodbye.")


def test_without_an_expert_the_more_reliable_inspector_and_an_upheld_dispute_win():
    ev, items, contacts, cards = tiny([("e1", "c1", "STRICT", "no"), ("e2", "c2", "CAREFUL", "no")])
    reliability = pd.DataFrame({"inspector_id": ["STRICT", "CAREFUL"], "reliability": [0.3, 0.9]})
    pick = lambda **kw: failure(cl.select_cases(ev, items, contacts, cards, cues=CUES, per_skill=1, **kw))["evaluation_id"].tolist()  # noqa: E731
    assert pick(reliability=reliability) == ["e2"]
    assert pick(reliability=reliability.assign(reliability=[0.9, 0.3])) == ["e1"]
    # a failure upheld after the agent disputed it outranks an unconfirmed one; an open dispute keeps it out
    upheld = pd.DataFrame({"evaluation_id": ["e1"], "item_id": ["verify_caller"], "outcome": ["upheld"]})
    assert pick(reliability=reliability, disputes=upheld) == ["e1"]
    assert pick(reliability=reliability, disputes=upheld.assign(outcome=None)) == ["e2"]
    assert pick(reliability=reliability, disputes=upheld.assign(item_id="farewell")) == ["e2"]  # upheld on another item
    with pytest.raises(ParameterError, match="reliability must have the columns inspector_id, reliability; missing reliability"):
        pick(reliability=reliability.drop(columns="reliability"))


def test_a_calibration_call_fails_when_the_session_expert_failed_it():
    """Four inspectors score c3 in a session that names EXPERT: the expert's answer decides, not the majority."""
    sessions = pd.DataFrame({"session_id": ["CAL-1"], "expert_inspector_id": ["EXPERT"]})
    majority_no = [("e1", "c3", "EXPERT", "yes"), ("e2", "c3", "S", "no"), ("e3", "c3", "T", "no"), ("e4", "c3", "U", "no")]
    ev, items, contacts, cards = tiny(majority_no, session="CAL-1")
    assert failure(cl.select_cases(ev, items, contacts, cards, cues=CUES, sessions=sessions)).empty
    assert len(failure(cl.select_cases(ev, items, contacts, cards, cues=CUES)))  # no named expert: the majority
    expert_no = [("e1", "c3", "EXPERT", "no"), ("e2", "c3", "S", "yes"), ("e3", "c3", "T", "yes"), ("e4", "c3", "U", "no")]
    ev, items, contacts, cards = tiny(expert_no, session="CAL-1")
    fl = failure(cl.select_cases(ev, items, contacts, cards, cues=CUES, sessions=sessions))
    assert fl[["evaluation_id", "agreement", "n_evaluations"]].values.tolist() == [["e1", 0.5, 4]]
    assert "calibration" in fl["tags"].iloc[0] and "double_scored" in fl["tags"].iloc[0]
    assert failure(cl.select_cases(ev, items, contacts, cards, cues=CUES)).empty  # 2 of 4 is no majority


def test_inspector_reliability_counts_failures_the_reference_upholds():
    sessions = pd.DataFrame({"session_id": ["CAL-1"], "expert_inspector_id": ["EXPERT"]})
    rows = [("e1", "c3", "EXPERT", "no"), ("e2", "c3", "S", "no"), ("e3", "c3", "T", "yes"), ("e4", "c3", "U", "no"),
            ("e5", "c1", "EXPERT", "yes"), ("e6", "c1", "S", "no"), ("e7", "c1", "T", "yes"), ("e8", "c1", "U", "yes")]
    ev, items, _, cards = tiny(rows, session="CAL-1")
    got = cl.inspector_reliability(ev, items, cards, sessions=sessions).set_index("inspector_id")
    assert got.loc["EXPERT", ["failed", "confirmed", "reliability"]].tolist() == [0, 0, 1.0] and got.loc["EXPERT", "expert"]
    assert got.loc["S", ["failed", "confirmed"]].tolist() == [2, 1] and got.loc["S", "reliability"] == pytest.approx(2 / 4)
    assert got.loc["U", ["failed", "confirmed"]].tolist() == [1, 1] and got.loc["U", "reliability"] == pytest.approx(2 / 3)
    assert got.loc["T", "reliability"] == 0.5 and got.index.tolist() == ["EXPERT", "U", "S", "T"]  # no failure: no evidence
    # without a named expert: the majority of the other inspectors (c3: S's `no` against EXPERT no, T yes, U no)
    plain = cl.inspector_reliability(ev, items, cards).set_index("inspector_id")
    assert plain.loc["S", ["failed", "confirmed"]].tolist() == [2, 1] and not plain["expert"].any()
    assert plain.loc["EXPERT", ["failed", "confirmed"]].tolist() == [1, 1]  # c3: S and U failed it too
    # the calibration expert of the inspectors table is the reference too
    flagged = cl.inspector_reliability(ev, items, cards, inspectors=pd.DataFrame({"inspector_id": ["T"], "is_expert": [True]}))
    assert flagged.set_index("inspector_id").loc["T", "reliability"] == 1.0


def test_sample_failures_agree_with_their_transcripts(loaded_store, inputs):
    """On the samples (planted inspector noise: strict Q05 marks 15 % of true `yes` down) few chosen failures are calls
    whose transcript shows the step done; before the fix 13 of the 40 in 2026-10 did, 4 of 4 identity checks."""
    from qa_lib.samples import transcript_steps

    cases, _ = cl._select(inputs, 5, 0, False)
    steps = transcript_steps(inputs["contacts"])
    fl = cases[cases["kind"] == "failure"].merge(steps, on=["contact_id", "item_id"], how="left")
    shown_done = fl["shown"].astype(str).isin(["yes", "0"])
    assert len(fl) == 40 and shown_done.sum() <= 10, fl.loc[shown_done, ["item_id", "evaluation_id"]]
    assert not shown_done[fl["item_id"] == "identity_check"].any()
    rel = cl.inspector_reliability(inputs["calibration"]["evaluations"], inputs["calibration"]["items"], inputs["cards"],
                                   sessions=inputs["sessions"], inspectors=inputs["inspectors"])
    assert rel["inspector_id"].iloc[0] == "Q01" and rel["inspector_id"].iloc[-1] == "Q05"  # the expert; the strict inspector
    # the reliability comes from the sessions of the six months up to the period, never from later ones
    assert set(inputs["calibration"]["evaluations"]["calibration_session_id"]) == {f"CAL-2026-{m:02d}" for m in range(5, 11)}
    early = cl.load_inputs(loaded_store, "2026-06")["calibration"]
    assert set(early["evaluations"]["calibration_session_id"]) == {"CAL-2026-05", "CAL-2026-06"}
    assert set(early["items"]["evaluation_id"]) == set(early["evaluations"]["evaluation_id"])
