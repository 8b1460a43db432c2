"""The sample generator: deterministic, matches the committed files, plants what PLANTED.md says."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from qa_lib.config import samples_dir
from qa_lib.errors import ParameterError
from qa_lib.ingest import read_table, validate_kind
from qa_lib.lifecycle import HISTORY_FILE
from qa_lib.samples import CENTER_YAML, SAMPLE_FILES, SampleSpec, final_statuses, generate, planted, planted_markdown

SMALL = SampleSpec(agents=24, teams=2, months=3, seed=7, contacts_per_agent_day=4.0, voc_per_month=200)


@pytest.fixture(scope="module")
def default_frames():
    return generate(SampleSpec())


def test_same_seed_same_tables_other_seed_other_tables():
    a, b = generate(SMALL), generate(SMALL)
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])
    c = generate(replace(SMALL, seed=8))
    assert not a["contacts"]["start_time"].equals(c["contacts"]["start_time"])


def test_committed_samples_are_the_generator_output(default_frames):
    """data/samples holds exactly what `qa samples` with the defaults writes."""
    folder = samples_dir()
    for kind, name in SAMPLE_FILES:
        on_disk = validate_kind(kind, read_table(folder / name), name)
        fresh = validate_kind(kind, default_frames[kind], name)
        for table, frame in on_disk.items():
            pd.testing.assert_frame_equal(frame.reset_index(drop=True), fresh[table].reset_index(drop=True), check_dtype=False, obj=f"{name}:{table}")
    history = pd.read_csv(folder / HISTORY_FILE, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(history, default_frames["evaluation_history"].astype(object).fillna("").astype(str), obj=HISTORY_FILE)
    assert (folder / "PLANTED.md").read_text(encoding="utf-8") == planted_markdown(SampleSpec(), default_frames)
    assert (folder / "center.yaml").read_text(encoding="utf-8") == CENTER_YAML


def test_every_generated_table_passes_validation():
    frames = generate(SMALL)
    for kind, _ in SAMPLE_FILES:
        validate_kind(kind, frames[kind], kind)


def test_bad_specs_are_rejected():
    with pytest.raises(ParameterError, match="agents must be an integer ≥ 12; got 5"):
        generate(replace(SMALL, agents=5))
    with pytest.raises(ParameterError, match="end_month must look like 2026-10; got 'soon'"):
        generate(replace(SMALL, end_month="soon"))
    with pytest.raises(ParameterError, match="inspectors must be an integer ≥ 5"):
        planted(replace(SMALL, inspectors=3))


def test_planted_effects_are_in_the_data(default_frames):
    pl = planted()
    f = default_frames
    ev, c, agents = f["evaluations"], f["contacts"], f["agents"].set_index("agent_id")
    scored = ev[ev["arm"] != "calibration"]
    # weak agent on the weak item: far above everyone else
    item = scored[(scored["item_id"] == pl["weak_item"])]
    weak = (item.loc[item["agent_id"] == pl["weak_agent"], "answer"] == "no").mean()
    rest = (item.loc[item["agent_id"] != pl["weak_agent"], "answer"] == "no").mean()
    assert weak > 0.3 and rest < 0.15
    # lenient and strict inspectors against the expert, on the same calibration calls
    cal = ev[(ev["arm"] == "calibration") & ev["answer"].isin(["yes", "no", "partial"])]
    yes = cal.groupby("inspector_id")["answer"].apply(lambda s: (s == "yes").mean())
    assert yes[pl["lenient_inspector"]] == yes.max() and yes[pl["strict_inspector"]] == yes.min()
    assert f["inspectors"].set_index("inspector_id").loc[pl["expert_inspector"], "is_expert"]
    # FCR: the planted team is under 95 %, the others above
    known = c[c["fcr"].notna()]
    fcr = known.groupby(known["agent_id"].map(agents["team"]))["fcr"].mean()
    assert fcr[pl["low_fcr_team"]] < 0.92 and (fcr.drop(pl["low_fcr_team"]) > 0.95).all()
    # VOC surge in the planted month only
    v = f["voc"].dropna(subset=["category"])
    share = v.groupby(v["received_at"].str[:7])["category"].apply(lambda s: (s == pl["surge_topic"]).mean())
    assert share.idxmax() == pl["surge_month"] and share[pl["surge_month"]] > 2 * share.drop(pl["surge_month"]).mean()
    # new hires improve: first month clearly worse than the last
    month = c.set_index("contact_id")["start_time"].dt.to_period("M").astype(str)
    nh = scored[scored["agent_id"].isin(pl["new_hires"]) & scored["answer"].isin(["yes", "no", "partial"])]
    by_month = nh.groupby(nh["contact_id"].map(month))["answer"].apply(lambda s: (s == "yes").mean())
    assert by_month.iloc[0] + 0.08 < by_month.iloc[-1]
    assert (agents.loc[pl["new_hires"], "hire_date"] == pl["new_hire_date"]).all()
    # late hire: exactly 3 evaluations; agent on leave: no contacts in the last month
    assert ev.loc[ev["agent_id"] == pl["late_hire"], "evaluation_id"].nunique() == 3
    last = c["start_time"].dt.to_period("M").astype(str) == pl["leave_month"]
    assert not ((c["agent_id"] == pl["agent_on_leave"]) & last).any()
    assert agents.loc[pl["agent_on_leave"], "status"] == "leave"


def test_realistic_shapes(default_frames):
    c = default_frames["contacts"]
    inbound_hot = c[(c["channel"] == "hotline") & (c["direction"] == "inbound")]
    answered = inbound_hot[inbound_hot["answered"]]
    within_10 = (answered["wait_seconds"] <= 10).mean()
    assert 0.6 < within_10 < 0.9
    assert 0.04 < inbound_hot["abandoned"].mean() < 0.1
    follow = c[(c["contact_type"] == "service_quality") & c["answered"]]
    assert 0.7 < follow["talk_seconds"].between(120, 180).mean() < 0.95  # seed 003: 2-3 minutes
    by_dow = c.groupby(c["start_time"].dt.day_of_week).size()
    assert by_dow[0] > by_dow[6] * 1.4  # Mondays busier than Sundays
    hours = c.loc[c["channel"] == "hotline", "start_time"].dt.hour
    assert hours.between(8, 19).all()
    assert (c.loc[c["contact_type"] == "non_regular", "transcript"].isna()).all()
    ev = default_frames["evaluations"]
    evaluated = set(ev["contact_id"])
    has_tr = set(c.loc[c["transcript"].notna(), "contact_id"])
    assert evaluated <= has_tr
    langs = c["transcript_lang"].value_counts()
    assert langs["zh"] > langs["en"] > 0


def test_no_inspector_scores_their_home_team(default_frames):
    ev = default_frames["evaluations"]
    home = default_frames["inspectors"].set_index("inspector_id")["home_team"]
    team = default_frames["agents"].set_index("agent_id")["team"]
    one = ev[ev["arm"] != "calibration"].drop_duplicates("evaluation_id")
    assert not (one["inspector_id"].map(home) == one["agent_id"].map(team)).any()


def test_scales_up():
    """A larger center (more agents than the id width of the default) generates and validates."""
    spec = SampleSpec(agents=1200, teams=6, months=3, contacts_per_agent_day=0.5, voc_per_month=20)
    f = generate(spec)
    assert f["agents"]["agent_id"].str.len().eq(5).all()
    assert f["contacts"]["agent_id"].nunique() > 1000
    assert np.all(np.diff(f["contacts"]["start_time"].to_numpy()) >= np.timedelta64(0))


def test_coaching_effect_changes_only_the_coached_rows(monkeypatch):
    """After a coaching action's re-check date the coached items fail less; every other row is as without coaching."""
    import qa_lib.samples as S

    with_coaching = generate(SMALL)
    real = S._coaching
    monkeypatch.setattr(S, "_coaching", lambda spec, pl, agents: real(spec, pl, agents).iloc[:0])
    without = generate(SMALL)
    for kind in ("agents", "inspectors", "calibration_sessions", "voc", "info_checks"):
        pd.testing.assert_frame_equal(with_coaching[kind], without[kind])
    ca = with_coaching["coaching"]
    since = ca.assign(item_id=ca["items"].str.split(",")).explode("item_id").assign(
        since=lambda d: pd.to_datetime(d["created_on"]) + pd.to_timedelta(d["recheck_after_days"], unit="D"))
    since = since.groupby(["agent_id", "item_id"])["since"].min()
    a, b = with_coaching["evaluations"], without["evaluations"]
    when = a["contact_id"].map(with_coaching["contacts"].set_index("contact_id")["start_time"])
    start = pd.MultiIndex.from_frame(a[["agent_id", "item_id"]]).map(since.to_dict().get)
    coached = (pd.Series(start, index=a.index).notna() & (when >= pd.Series(start, index=a.index))).to_numpy()
    differs = lambda x, y: x.ne(y) & ~(x.isna() & y.isna())  # noqa: E731
    changed = (differs(a["answer"], b["answer"]) | differs(a["item_comment"], b["item_comment"])).to_numpy()
    assert changed.any() and not (changed & ~coached).any()
    assert (a["answer"][changed] == "yes").mean() > 0.5  # coaching turns failures into passes
    # only the overall comment of an evaluation with a coached change may differ elsewhere
    rest_a, rest_b = a.drop(columns=["answer", "item_comment"]), b.drop(columns=["answer", "item_comment"])
    other = differs(rest_a, rest_b).any(axis=1).to_numpy()
    assert set(a.loc[other, "evaluation_id"]) <= set(a.loc[changed, "evaluation_id"])
    # contacts: only the transcripts of coached agents' calls after a re-check date (evaluated or not) follow their new outcomes
    ca_, cb = with_coaching["contacts"], without["contacts"]
    pd.testing.assert_frame_equal(ca_.drop(columns="transcript"), cb.drop(columns="transcript"))
    tr = differs(ca_["transcript"], cb["transcript"])
    first = since.groupby(level="agent_id").min()
    after = (ca_["start_time"] >= ca_["agent_id"].map(first)).to_numpy()
    assert tr.any() and not (tr & ~after).any()
    assert set(a.loc[coached, "contact_id"]) & set(ca_.loc[tr, "contact_id"])


def test_open_coaching_actions_are_planted(default_frames):
    pl = planted()
    ca = default_frames["coaching"].set_index("action_id")
    open_ = ca[ca["status"] == "open"]
    end = pd.Period(pl["months"][-1], freq="M")
    weak = open_[open_["agent_id"] == pl["weak_agent"]].iloc[0]
    assert weak["items"] == pl["weak_item"] and pd.Timestamp(weak["created_on"]).to_period("M") == end
    assert pd.Timestamp(weak["due_on"]) > end.end_time
    late = open_[open_["agent_id"] == pl["overdue_action_agent"]].iloc[0]
    assert pd.Timestamp(late["due_on"]) < end.end_time.normalize()
    assert set(ca.loc[ca["agent_id"].isin(pl["new_hires"]), "status"]) == {"done"}


def test_the_lifecycle_is_realistic_and_leaves_the_planted_agents_counted(default_frames):
    """Earlier months released and mostly acknowledged (a few disputed and resolved); the last month mostly released, about
    15 % awaiting release and a few drafts, never of a planted agent; calibration scorings never released; every evaluation
    starts as submitted or draft (what an import may start as) and its history follows the lifecycle."""
    pl = planted()
    ev, h = default_frames["evaluations"].drop_duplicates("evaluation_id"), default_frames["evaluation_history"]
    assert set(ev["status"]) == {"submitted", "draft"}
    final = ev["evaluation_id"].map(final_statuses(default_frames["evaluations"], h))
    month = ev["contact_id"].map(default_frames["contacts"].set_index("contact_id")["start_time"]).dt.to_period("M").astype(str)
    cal = ev["arm"] == "calibration"
    assert set(final[cal]) == {"submitted"}
    before = final[~cal & (month != pl["months"][-1])].value_counts(normalize=True)
    assert before["acknowledged"] > 0.8 and 0.02 < before["resolved"] < 0.08 and 0.02 < before["released"] < 0.1 and len(before) == 3
    last = final[~cal & (month == pl["months"][-1])].value_counts(normalize=True)
    assert last["released"] > 0.75 and 0.1 < last["submitted"] < 0.2 and 0 < last["draft"] < 0.05 and len(last) == 3
    drafts = ev.loc[final == "draft", "agent_id"]
    assert not drafts.isin([pl["weak_agent"], pl["late_hire"], pl["overdue_action_agent"], *pl["new_hires"]]).any()
    at = pd.to_datetime(h["at"])
    assert (at.to_numpy() >= pd.to_datetime(h["evaluation_id"].map(ev.set_index("evaluation_id")["evaluated_at"])).to_numpy()).all()
    assert (h.groupby("evaluation_id")["at"].apply(lambda s: s.is_monotonic_increasing)).all()
    agents_act = h[h["action"].isin(["acknowledge", "dispute"])]
    assert (agents_act["actor"] == agents_act["evaluation_id"].map(ev.set_index("evaluation_id")["agent_id"])).all()


def test_loading_the_samples_applies_their_history_once(tmp_path):
    """A small generated center: the history becomes versions (release, acknowledge, dispute, resolve) and disputes; loading
    the folder again stores nothing new."""
    import shutil

    from qa_lib.samples import write_samples
    from qa_lib.store import Store, load_samples

    write_samples(tmp_path / "s", SMALL)
    shutil.copytree(samples_dir() / "scorecards", tmp_path / "s" / "scorecards")
    store = Store(f"sqlite:///{tmp_path / 'qa.sqlite'}")
    store.migrate()
    load_samples(store, tmp_path / "s")
    frames = generate(SMALL)
    ev = store.read("evaluations").set_index("evaluation_id")
    expected = final_statuses(frames["evaluations"], frames["evaluation_history"])
    assert ev["status"].sort_index().equals(expected.sort_index().rename("status"))
    counts = store.counts()
    assert counts["evaluation_versions"] == len(ev) + len(frames["evaluation_history"])
    assert counts["evaluation_disputes"] == int((frames["evaluation_history"]["action"] == "dispute").sum()) > 0
    resolved = ev.index[ev["status"] == "resolved"][0]
    assert store.history(resolved)["action"].tolist() == ["import", "release", "dispute", "resolve"]
    assert store.disputes(resolved)["outcome"].tolist() == ["upheld"]
    load_samples(store, tmp_path / "s")
    assert store.counts() == {**counts, "imports": store.counts()["imports"]}
    store.engine.dispose()


# ------------------------------------------------------------------------------ transcripts
def _pipeline(spec):
    """The generator's steps up to the transcripts, with the true outcomes each transcribed contact is rendered from."""
    import qa_lib.samples as S

    pl, cards = planted(spec), S._load_cards()
    agents, inspectors = S._agents(spec, pl), S._inspectors(spec, pl)
    contacts = S._contacts(spec, pl, agents, S._customers(spec))
    coaching = S._coaching(spec, pl, agents)
    _, _, ev, truth, _ = S._evaluations(spec, pl, agents, inspectors, contacts, cards, coaching)
    rows, outcomes = S._transcribed(S._rng(spec, 9), spec, pl, cards, ev, truth, contacts, agents, coaching)
    S._transcripts(spec, pl, cards, ev, truth, contacts, agents, coaching)
    return contacts, ev, truth, rows, outcomes


def test_transcripts_show_what_happened_in_the_call():
    """Every scorecard step a transcript renders shows the call's true outcome (a failed identity check skipped, a partial
    step half done), evaluated or not; evaluated calls are rendered from the outcomes their evaluations were scored from."""
    from qa_lib.samples import transcript_steps

    contacts, ev, truth, rows, outcomes = _pipeline(SMALL)
    shown = transcript_steps(contacts)
    assert set(shown["contact_id"]) == set(rows["contact_id"]) == set(contacts.loc[contacts["transcript"].notna(), "contact_id"])
    true = outcomes.rename_axis("contact_id").reset_index().melt("contact_id", var_name="item_id", value_name="truth")
    m = shown.merge(true, on=["contact_id", "item_id"], how="left")
    assert m["shown"].notna().all()
    assert (m["shown"] == m["truth"]).all(), m[m["shown"] != m["truth"]].head()
    assert {"yes", "partial", "no"} <= set(m.loc[m["item_id"] == "correct_answer", "shown"])
    scored = pd.DataFrame({k: v for k, v in truth.items() if not k.startswith("_")}, index=ev["contact_id"].to_numpy())
    pd.testing.assert_frame_equal(outcomes.loc[scored.index].astype(object), scored.astype(object), check_names=False)


def test_a_changed_outcome_changes_only_its_own_transcript():
    """Breaking one step of one call (the parser notices) and re-rendering: the other calls' transcripts stay as they were."""
    import qa_lib.samples as S

    contacts, ev, truth, rows, outcomes = _pipeline(SMALL)
    j = int(np.flatnonzero(truth["identity_check"] == "yes")[0])
    flipped = {k: v.copy() for k, v in truth.items()}
    flipped["identity_check"][j] = "no"
    spec, pl = SMALL, planted(SMALL)
    agents, again = S._agents(spec, pl), contacts.copy()
    S._transcripts(spec, pl, S._load_cards(), ev, flipped, again, agents, S._coaching(spec, pl, agents))
    changed = again["transcript"].ne(contacts["transcript"]) & again["transcript"].notna()
    assert changed.sum() == 1 and again.loc[changed, "contact_id"].iloc[0] == ev["contact_id"].iloc[j]
    step = S.transcript_steps(again.loc[changed])
    assert step.set_index("item_id").loc["identity_check", "shown"] == "no"


def test_transcript_lines_carry_speaker_and_offset_within_the_call(default_frames):
    """`[mm:ss] 坐席：…` / `[mm:ss] 客户：…` (English: Agent / Customer) per line; offsets never go back and stay within
    talk + hold seconds; where the customer was held, the hold shows as a gap of at least hold_seconds."""
    c = default_frames["contacts"]
    t = c[c["transcript"].notna()]
    lines = t.set_index("contact_id")["transcript"].str.split("\n").explode()
    form = lines.str.extract(r"^\[(\d{2,}):(\d{2})\] (坐席：|客户：|Agent: |Customer: )\S")
    assert form.notna().all(axis=None), lines[form.isna().any(axis=1)].head()
    sec = (form[0].astype(int) * 60 + form[1].astype(int)).rename("sec")
    assert (form[1].astype(int) < 60).all()
    by = sec.groupby(level=0)
    assert by.apply(lambda s: s.is_monotonic_increasing).all()
    call = t.set_index("contact_id")
    assert (by.max() < call["talk_seconds"] + call["hold_seconds"]).all()
    no_hold = call["hold_seconds"] == 0
    assert (by.max()[no_hold] < call.loc[no_hold, "talk_seconds"]).all()
    held = lines.str.contains("感谢您的耐心等待|Thank you for holding", regex=True).to_numpy()
    gap = (sec - by.shift(1)).to_numpy()[held]
    hold = call["hold_seconds"].reindex(lines.index[held]).to_numpy()
    assert len(hold) > 100 and (gap >= np.floor(hold) - 1).all()
    assert held.sum() == (call["hold_seconds"] > 0).sum()
    en = call["transcript_lang"] == "en"
    assert (call.loc[en, "queue"] == "en_line").all() and call.loc[en, "transcript"].str.contains("Agent: ").all()
    assert not call.loc[~en, "transcript"].str.contains("Agent: ").any()


def test_every_contact_a_plan_can_draw_in_the_last_month_has_a_transcript(default_frames):
    """The month `qa demo` plans: every contact of the plan but e-mails has a transcript (the next month back only some)."""
    from qa_lib.sampling import PlanSpec, draw_plan

    f, pl = default_frames, planted()
    c = f["contacts"]
    month = c["start_time"].dt.to_period("M").astype(str)
    for m, full in ((pl["months"][-1], True), (pl["months"][-2], False)):
        plan = draw_plan(c[month == m], f["agents"], PlanSpec(period=m), evaluated=set(f["evaluations"]["contact_id"]))
        drawn = plan.contacts.merge(c[["contact_id", "channel", "transcript"]], on="contact_id")
        speech = drawn["channel"].isin(["hotline", "online"])
        assert speech.sum() > 300 and (drawn.loc[~speech, "channel"] == "email").all()
        has = drawn.loc[speech, "transcript"].notna().mean()
        assert has == 1.0 if full else has < 0.1


def test_unevaluated_transcripts_carry_the_planted_effects(default_frames):
    """The weak agent skips the identity check in the last month's unevaluated calls far more often than the others."""
    from qa_lib.samples import transcript_steps

    f, pl = default_frames, planted()
    c = f["contacts"]
    last = c[(c["start_time"].dt.to_period("M").astype(str) == pl["months"][-1]) & ~c["contact_id"].isin(f["evaluations"]["contact_id"])]
    s = transcript_steps(last)
    s = s[s["item_id"] == pl["weak_item"]].assign(agent_id=lambda d: d["contact_id"].map(c.set_index("contact_id")["agent_id"]))
    skipped = (s["shown"] == "no").groupby(s["agent_id"] == pl["weak_agent"]).mean()
    assert skipped[True] > 0.3 and skipped[False] < 0.15


def test_recorded_answers_differ_from_the_transcript_by_the_planted_noise_only(default_frames):
    """The expert's answers follow the transcripts (1 % noise; the ambiguous item 12 %); the strict inspector's `no` on the
    weak item are mostly calls whose transcript shows the check done — what PLANTED.md reports."""
    from qa_lib.samples import transcript_steps

    f, pl = default_frames, planted()
    m = f["evaluations"].merge(transcript_steps(f["contacts"]), on=["contact_id", "item_id"])
    differs = m["answer"].astype(object).fillna("") != m["shown"]
    clear = m["item_id"] != pl["ambiguous_item"]
    rate = differs[clear].groupby(m.loc[clear, "inspector_id"]).mean()
    assert rate[pl["expert_inspector"]] < 0.01 and rate[pl["strict_inspector"]] == rate.max() and rate[pl["strict_inspector"]] > 0.05
    weak_no = m[(m["item_id"] == pl["weak_item"]) & (m["answer"] == "no")]
    done = (weak_no["shown"] == "yes").groupby(weak_no["inspector_id"]).mean()
    assert done[pl["strict_inspector"]] > 0.5 and done[pl["expert_inspector"]] < 0.1
    md = planted_markdown(SampleSpec(), f)
    assert "| transcripts and inspector noise |" in md and f"expert {rate[pl['expert_inspector']]:.1%}" in md


def test_transcript_steps_needs_its_columns():
    from qa_lib.samples import transcript_steps

    with pytest.raises(ParameterError, match=r"contacts must have the columns contact_id, direction, transcript; missing \['direction'\]"):
        transcript_steps(pd.DataFrame({"contact_id": ["K1"], "transcript": ["[00:01] 坐席：您好"]}))
