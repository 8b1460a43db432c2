"""Scoring sheets: export blank, fill like an inspector in Excel, import with the same validation."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook
from test_store import INBOUND_OK, make_hostile, snapshot

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
    with pytest.raises(ValidationError) as info:  # ingest.guard_file refuses it before openpyxl opens it
        seeded.import_scoring_sheet(tmp_path / "x.xlsx")
    assert [(p.source, p.row) for p in info.value.problems] == [("x.xlsx", 0)]
    from openpyxl import Workbook

    Workbook().save(tmp_path / "plain.xlsx")
    with pytest.raises(ValidationError, match="not a scoring sheet"):
        seeded.import_scoring_sheet(tmp_path / "plain.xlsx")
    with pytest.raises(ParameterError, match="contacts is empty"):
        write_scoring_sheet(tmp_path / "e.xlsx", card, pd.DataFrame(columns=["contact_id", "agent_id"]), inspector_id="Q1")


@pytest.fixture
def hostile(seeded):
    """Contacts no evaluation may score, and a saved plan (test_store.make_hostile)."""
    return make_hostile(seeded)


# ---------------------------------------------------------------- class 6: the sheet's arm is checked, not trusted
def rows_of(path) -> dict[str, int]:
    """Sheet row of each contact."""
    ws = load_workbook(path)["score"]
    return {r[0].value: r[0].row for r in ws.iter_rows(min_row=2)}


def arm_sheet(store, path, arms: dict[str, str]):
    """A sheet with an arm column, as a worklist writes it (``qa sample``): the contacts of ``arms``."""
    card = store.scorecard("inbound_service")
    contacts = store.unscored_contacts(card, "2026-10")
    contacts = contacts[contacts["contact_id"].isin(list(arms))].assign(arm=lambda d: d["contact_id"].map(arms))
    return write_scoring_sheet(path, card, contacts, inspector_id="Q1", sheet_id="W1")


def saved_at(path, when: str):
    """Set the workbook's last-saved time (docProps/core.xml) as a later save in Excel would."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + when.encode(), data)
            z.writestr(info, data)


def cli_score_import(store, path):
    from click.testing import CliRunner

    from qa_lib.cli import main

    return CliRunner().invoke(main, ["score", "import", str(path), "--db", store.url], catch_exceptions=False)


def test_arm_edited_on_a_sheet_is_refused_and_a_blank_one_takes_the_plans(hostile, tmp_path):
    """The plan drew K7 as targeted: a sheet that says random is refused whole; a blank arm cell takes the plan's arm."""
    path = arm_sheet(hostile, tmp_path / "w.xlsx", {"K7": "targeted", "K8": "random"})
    row = rows_of(path)
    fill(path, {row["K7"]: {**INBOUND_OK, "arm": "random"}, row["K8"]: INBOUND_OK})
    before, counts = snapshot(hostile), hostile.counts()
    with pytest.raises(ValidationError) as info:
        hostile.import_scoring_sheet(path)
    assert [str(p) for p in info.value.problems] == [
        f"w.xlsx:{row['K7']}:arm: arm random does not match sampling plan {hostile.plan_id}, which drew contact K7 as targeted"]
    assert snapshot(hostile) == before
    r = cli_score_import(hostile, path)
    assert r.exit_code == 2 and "nothing was stored" in r.output and f"w.xlsx:{row['K7']}:arm: arm random does not match" in r.output, r.output
    assert hostile.counts() == counts
    fill(path, {row["K7"]: {"arm": None}})  # blank: the plan's arm
    assert hostile.import_scoring_sheet(path).inserted == {"evaluations": 2, "evaluation_items": 20}
    ev = hostile.read("evaluations").set_index("contact_id")
    assert ev.loc["K7", "arm"] == "targeted" and ev.loc["K8", "arm"] == "random"


def test_arm_of_a_contact_in_no_plan_is_the_export_arm(hostile, tmp_path):
    """K2 is in no plan: the sheet's contacts were exported at random (``qa score export``), so targeted is refused."""
    path = arm_sheet(hostile, tmp_path / "n.xlsx", {"K1": "random", "K2": "random"})
    row = rows_of(path)
    fill(path, {row["K1"]: INBOUND_OK, row["K2"]: {**INBOUND_OK, "arm": "targeted"}})
    before = snapshot(hostile)
    with pytest.raises(ValidationError) as info:
        hostile.import_scoring_sheet(path)
    assert [str(p) for p in info.value.problems] == [
        f"n.xlsx:{row['K2']}:arm: arm targeted does not match the arm the sheet was exported with (random): contact K2 is in no sampling plan"]
    assert snapshot(hostile) == before
    r = cli_score_import(hostile, path)
    assert r.exit_code == 2 and f"n.xlsx:{row['K2']}:arm: arm targeted" in r.output, r.output
    assert snapshot(hostile) == before


def test_sheet_rows_refused_by_the_lifecycle_rules(hostile, tmp_path):
    """A sheet goes through the same rules as a file: a contact added by hand that cannot be evaluated is refused."""
    path = arm_sheet(hostile, tmp_path / "h.xlsx", {"K1": "random"})
    wb = load_workbook(path)
    ws = wb["score"]
    header = [c.value for c in ws[1]]
    for contact, agent in (("K3", "A1"), ("K6", "A2")):  # a misdial, an outbound call
        ws.append([{"contact_id": contact, "agent_id": agent, "arm": "random"}.get(h, INBOUND_OK.get(h)) for h in header])
    wb.save(path)
    fill(path, {2: INBOUND_OK})
    before = snapshot(hostile)
    with pytest.raises(ValidationError) as info:
        hostile.import_scoring_sheet(path)
    got = [str(p) for p in info.value.problems]
    assert any(g.startswith("h.xlsx:3:contact_id: contact K3 is non_regular") for g in got), got
    assert "h.xlsx:4:scorecard_id: scorecard inbound_service v1 applies to inbound contacts; contact K6 is outbound" in got
    assert snapshot(hostile) == before
    wb = load_workbook(path)
    wb["score"].append([{"contact_id": "K1", "agent_id": "A1", "arm": "random"}.get(h, INBOUND_OK.get(h)) for h in header])  # K1 again
    wb.save(path)
    with pytest.raises(ValidationError) as info:
        hostile.import_scoring_sheet(path)
    assert "h.xlsx:5:contact_id: contact K1 is scored twice on this sheet (first on row 2)" in [str(p) for p in info.value.problems]
    assert snapshot(hostile) == before


def test_sheet_saved_again_with_more_rows_imports_the_new_ones(seeded, sheet):
    """Rows stored before are compared by their answers, not by the workbook's save time (which changes on every save)."""
    fill(sheet, {2: INBOUND_OK})
    assert seeded.import_scoring_sheet(sheet).inserted == {"evaluations": 1, "evaluation_items": 10}
    first = seeded.evaluation("S1-K1")["evaluated_at"]
    fill(sheet, {3: INBOUND_OK})
    saved_at(sheet, "2026-11-20T02:00:00Z")
    r = seeded.import_scoring_sheet(sheet)
    assert r.inserted == {"evaluations": 1, "evaluation_items": 10} and r.skipped == {"evaluations": 1, "evaluation_items": 10}
    assert seeded.evaluation("S1-K1")["evaluated_at"] == first
    assert str(seeded.evaluation("S1-K2")["evaluated_at"]) == "2026-11-20 10:00:00"  # the save time, in center time
    before = snapshot(seeded)
    fill(sheet, {2: {"closing": "yes"}})  # a changed answer is still a conflict: stored evaluations change through the lifecycle
    with pytest.raises(ValidationError, match="S1-K1/closing is already stored with answer = 'no', the file has 'yes'"):
        seeded.import_scoring_sheet(sheet)
    assert snapshot(seeded) == before
