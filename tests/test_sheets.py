"""Scoring sheets: export blank, fill like an inspector in Excel, import with the same validation."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook
from test_store import INBOUND_OK, snapshot

from qa_lib.errors import ParameterError, ValidationError
from qa_lib.sheets import read_scoring_sheet, write_scoring_sheet


def fill(path, answers_by_row: dict[int, dict], out=None):
    wb = load_workbook(path)
    ws = wb["score"]
    header = [c.value for c in ws[1]]
    for row, answers in answers_by_row.items():
        for item, value in answers.items():
            ws.cell(row=row, column=header.index(item) + 1).value = value
    wb.save(out or path)
    return out or path


@pytest.fixture
def sheet(seeded, tmp_path):
    card = seeded.scorecard("inbound_service")
    contacts = seeded.unscored_contacts(card, "2026-10")
    assert list(contacts["contact_id"]) == ["K1", "K2"]
    return write_scoring_sheet(tmp_path / "q1.xlsx", card, contacts, inspector_id="Q1", sheet_id="S1")


def test_blank_sheet_has_dropdowns_notes_and_guide(sheet):
    wb = load_workbook(sheet)
    ws = wb["score"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["contact_id", "agent_id"] and "greeting" in header and header[-1] == "comment"
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    col = chr(ord("A") + header.index("needs_analysis"))
    assert rules[f"{col}2:{col}3"].formula1 == '"yes,partial,no"'
    col = chr(ord("A") + header.index("escalation_handling"))
    assert rules[f"{col}2:{col}3"].formula1 == '"yes,no,na"'  # conditional: N/A allowed
    assert ws.cell(row=1, column=header.index("identity_check") + 1).comment.text.startswith("核实客户身份")
    assert "(critical)" in ws.cell(row=1, column=header.index("correct_answer") + 1).comment.text
    assert [r[0] for r in wb["guide"].iter_rows(min_row=2, values_only=True)][:2] == ["greeting", "identity_check"]
    assert wb["meta"].sheet_state == "hidden"


def test_round_trip_and_idempotent_reimport(seeded, sheet):
    # K1 is scored in Chinese spellings, K2 left blank (not scored yet)
    fill(sheet, {2: {**INBOUND_OK, "greeting": "是", "comment": "整体不错"}})
    r = seeded.import_scoring_sheet(sheet)
    assert r.inserted == {"evaluations": 1, "evaluation_items": 10}
    ev = seeded.evaluation("S1-K1")
    assert ev["answers"]["greeting"] == "yes" and ev["inspector_id"] == "Q1" and ev["comment"] == "整体不错"
    assert ev["total_score"] == pytest.approx(85.8333, abs=1e-3)
    assert seeded.history("S1-K1")["action"].tolist() == ["import"]
    assert seeded.import_scoring_sheet(sheet).inserted == {"evaluations": 0, "evaluation_items": 0}
    assert list(seeded.unscored_contacts(seeded.scorecard("inbound_service"), "2026-10")["contact_id"]) == ["K2"]


def test_bad_cells_are_located_and_nothing_is_stored(seeded, sheet):
    fill(sheet, {2: {**INBOUND_OK, "empathy": "great"}, 3: {"greeting": "yes"}})
    before = snapshot(seeded)
    with pytest.raises(ValidationError) as info:
        seeded.import_scoring_sheet(sheet)
    got = [str(p) for p in info.value.problems]
    assert "q1.xlsx:2:empathy: evaluation S1-K1: item empathy: 'great' is not an allowed answer (yes|partial|no)" in got
    assert "q1.xlsx:3:closing: evaluation S1-K2: item closing: missing answer (required)" in got
    assert snapshot(seeded) == before


def test_sheets_that_cannot_be_imported(seeded, sheet, tmp_path):
    card = seeded.scorecard("inbound_service")
    with pytest.raises(ValidationError, match="no row has answers"):
        read_scoring_sheet(sheet, card)
    other = seeded.scorecard("followup_call")
    with pytest.raises(ValidationError, match="sheet is for scorecard inbound_service v1, not followup_call v1"):
        read_scoring_sheet(sheet, other)
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(ValidationError, match="cannot read workbook"):
        read_scoring_sheet(tmp_path / "x.xlsx", card)
    with pytest.raises(ValidationError, match="not a scoring sheet"):
        seeded.import_scoring_sheet(tmp_path / "x.xlsx")
    with pytest.raises(ParameterError, match="contacts is empty"):
        write_scoring_sheet(tmp_path / "e.xlsx", card, pd.DataFrame(columns=["contact_id", "agent_id"]), inspector_id="Q1")
