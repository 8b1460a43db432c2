"""The store's auto-QA tables: automatic answers, rule-hit reviews, gate decisions (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import pandas as pd
import pytest

from qa_lib.errors import NotFoundError, ParameterError, ValidationError


def answers(**over) -> pd.DataFrame:
    df = pd.DataFrame({
        "contact_id": ["K1", "K2", "K1"], "item_id": ["item_a", "item_a", "item_b"], "source": ["rule", "rule", "model"],
        "answer": ["yes", "no", None], "probability": [1.0, 1.0, 0.42], "rule_id": ["r1", "r1", None],
        "evidence": ["turn 0 [00:01] 坐席：您好", "<script>alert(1)</script>", ""], "turn": [0, -1, None], "version": ["card_x@1", "card_x@1", "m1"],
    })
    return df.assign(**over)


def test_answers_are_stored_replaced_and_read_back_with_acceptance(seeded):
    assert seeded.save_auto_answers(answers(), scorecard_id="card_x") == 3
    got = seeded.auto_answers(scorecard_id="card_x").sort_values(["contact_id", "item_id"], ignore_index=True)
    assert got[["contact_id", "item_id", "answer"]].astype(object).where(got[["contact_id", "item_id", "answer"]].notna(), None).values.tolist() == [
        ["K1", "item_a", "yes"], ["K1", "item_b", None], ["K2", "item_a", "no"]]
    assert got["evidence"].tolist()[2] == "<script>alert(1)</script>"  # stored as given; escaping is the page's job
    assert not got["accepted"].any()  # no gate decision yet
    # answering again replaces, never duplicates
    seeded.save_auto_answers(answers(answer=["no", "no", "yes"]), scorecard_id="card_x")
    again = seeded.auto_answers(scorecard_id="card_x")
    assert len(again) == 3 and set(again["answer"]) == {"no", "yes"}
    # the gate accepts item_a's rule at this version: its answers become accepted, the model's are not
    gate = pd.DataFrame({"item_id": ["item_a"], "n": [120], "ac1": [0.9], "margin": [0.1], "accepted": [True], "reason_en": ["ok"]})
    seeded.save_gate(gate, scorecard_id="card_x", source="rule", version="card_x@1")
    acc = seeded.auto_answers(scorecard_id="card_x").set_index(["contact_id", "item_id"])["accepted"]
    assert acc[("K1", "item_a")] and acc[("K2", "item_a")] and not acc[("K1", "item_b")]
    # drift makes it fall back
    seeded.mark_drifted("card_x", "rule", "card_x@1", ["item_a"])
    assert not seeded.auto_answers(scorecard_id="card_x")["accepted"].any()
    assert seeded.require_gate("card_x")["drifted"].tolist() == [True]


def test_bad_answers_are_refused_whole(seeded):
    with pytest.raises(ValidationError, match="answer"):
        seeded.save_auto_answers(answers(answer=["yes", "maybe", None]), scorecard_id="card_x")
    with pytest.raises(ValidationError, match="unknown contact"):
        seeded.save_auto_answers(answers(contact_id=["K1", "K9", "K1"]), scorecard_id="card_x")
    with pytest.raises(ValidationError, match="twice"):
        seeded.save_auto_answers(answers(item_id=["item_a", "item_a", "item_a"], source=["rule"] * 3, contact_id=["K1", "K2", "K1"]), scorecard_id="card_x")
    with pytest.raises(ParameterError, match="missing"):
        seeded.save_auto_answers(answers().drop(columns="version"), scorecard_id="card_x")
    assert seeded.auto_answers().empty
    with pytest.raises(NotFoundError, match="qa autoqa validate"):
        seeded.require_gate("card_x")


def test_rule_reviews_take_chinese_verdicts_and_are_stored_once(seeded):
    rev = pd.DataFrame({"contact_id": ["K1", "K2"], "scorecard_id": ["card_x"] * 2, "item_id": ["item_a"] * 2, "rule_id": ["r1"] * 2,
                        "verdict": ["确认", "rejected"], "inspector_id": ["Q1", "Q1"], "note": ["对", None]})
    assert seeded.save_rule_reviews(rev) == 2
    assert seeded.save_rule_reviews(rev) == 0
    got = seeded.rule_reviews("card_x").sort_values("contact_id")
    assert got["verdict"].tolist() == ["confirmed", "rejected"]
    with pytest.raises(ValidationError, match="verdict"):
        seeded.save_rule_reviews(rev.assign(verdict=["yes", "maybe"]))
    with pytest.raises(ValidationError, match="unknown inspector_id"):
        seeded.save_rule_reviews(rev.assign(inspector_id=["Q1", "<script>"]))
    with pytest.raises(ValidationError, match="unknown contact_id"):
        seeded.save_rule_reviews(rev.assign(contact_id=["K1", "K404"]))
    assert len(seeded.rule_reviews()) == 2  # nothing more stored


def test_transcripts_come_in_bounded_chunks(loaded_store):
    month = loaded_store.latest_month()
    chunks = list(loaded_store.transcript_contacts(month, chunk=400))
    assert len(chunks) > 1 and all(len(c) <= 400 for c in chunks)
    ids = pd.concat(chunks)["contact_id"]
    assert ids.is_unique and ids.is_monotonic_increasing
    assert pd.concat(chunks)["transcript"].notna().all()
    with pytest.raises(ParameterError, match="chunk"):
        next(loaded_store.transcript_contacts(month, chunk=0))
    # without the text: the same calls, every other column
    bare = pd.concat(list(loaded_store.transcript_contacts(month, chunk=100_000, text=False)))
    assert "transcript" not in bare.columns and bare["contact_id"].tolist() == ids.tolist()
    assert set(bare.columns) == set(chunks[0].columns) - {"transcript"}
    with pytest.raises(ParameterError, match="text must be True or False"):
        next(loaded_store.transcript_contacts(month, text="no"))


def test_a_long_list_of_contacts_is_read_in_slices(seeded):
    """12,000 ids: more than SQLite's and PostgreSQL's bound-parameter limits allow in one IN list on some builds."""
    seeded.save_auto_answers(answers(), scorecard_id="card_x")
    ids = [f"X{i}" for i in range(12_000)] + ["K2", "K1"]
    got = seeded.auto_answers(contact_ids=ids)
    assert sorted(got["contact_id"]) == ["K1", "K1", "K2"]
    assert seeded.auto_answers(contact_ids=[]).empty
