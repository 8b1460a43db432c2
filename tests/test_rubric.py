"""Scorecard YAML loading: the two sample scorecards, and located structural errors."""

from __future__ import annotations

import pytest

from qa_lib.config import samples_dir
from qa_lib.errors import ValidationError
from qa_lib.rubric import item_ids, items, load_scorecard


def test_sample_scorecards_load():
    inbound = load_scorecard(samples_dir() / "scorecards" / "inbound_service.v1.yaml")
    assert inbound["style"] == "weighted" and inbound["version"] == 1
    assert item_ids(inbound)[:2] == ["greeting", "identity_check"]
    follow = load_scorecard(samples_dir() / "scorecards" / "followup_call.v1.yaml")
    assert follow["style"] == "deduction"
    assert {it["section"] for it in items(follow)} == {"opening", "survey", "closing"}
    for card in (inbound, follow):
        for it in items(card):
            assert set(it["label"]) == {"zh", "en"} and set(it["guidance"]) == {"zh", "en"}


def test_structural_problems_name_their_yaml_path():
    text = """
id: x
version: 0
style: points
sections:
  - id: s
    items:
      - {id: a}
      - {id: a}
      - {kind: yes_no}
"""
    with pytest.raises(ValidationError) as info:
        load_scorecard(text)
    got = [str(p) for p in info.value.problems]
    assert "<scorecard>:0:name: missing" in got
    assert "<scorecard>:0:version: must be a whole number ≥ 1; got 0" in got
    assert "<scorecard>:0:style: must be one of weighted, deduction; got 'points'" in got
    assert "<scorecard>:0:sections[0].items[1].id: duplicate item id 'a'" in got
    assert "<scorecard>:0:sections[0].items[2]: an item needs an id" in got


def test_invalid_yaml_and_non_mapping():
    with pytest.raises(ValidationError, match="not valid YAML"):
        load_scorecard("id: [unclosed\n")
    with pytest.raises(ValidationError, match="a scorecard is a mapping"):
        load_scorecard("- just\n- a list\n")
