"""Scoring sheets: export blank, fill like an inspector in Excel, import with the same validation."""

from __future__ import annotations

import json

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
    assert header[:2] == ["contact_id", "agent_id"] and "greeting" in header and header[-2:] == ["comment", "reason"]
    assert ws.cell(row=1, column=len(header)).comment.text.startswith("改分原因")
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


def cli_run(store, *args):
    """``qa ARGS --db <store>`` through click's CliRunner."""
    from click.testing import CliRunner

    from qa_lib.cli import main

    return CliRunner().invoke(main, [*map(str, args), "--db", store.url], catch_exceptions=False)


def cli_score_import(store, path):
    return cli_run(store, "score", "import", path)


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
    fill(sheet, {2: {"closing": "yes"}})  # a changed answer needs a reason: a correction is a new version, with who and why
    with pytest.raises(ValidationError) as info:
        seeded.import_scoring_sheet(sheet)
    assert [str(p) for p in info.value.problems] == [
        "q1.xlsx:2:reason: S1-K1 is already stored (submitted, version 1) and this row changes it (closing: no → yes): write why in the "
        "reason column (改分原因) to store the change as a correction (a new version; the old one stays in the history), or undo the change"]
    assert str(info.value).startswith("q1.xlsx (0 new, 1 unchanged, 0 corrected, 1 refused) rejected, nothing was stored")
    assert snapshot(seeded) == before


# ---------------------------------------------------------------- issue #16: a sheet filled over several days, imported again
FIVE = pd.DataFrame({  # three more answered inbound service calls, so a sheet has five rows
    "contact_id": ["K11", "K12", "K13"], "start_time": ["2026-10-06 09:00:00", "2026-10-06 10:00:00", "2026-10-06 11:00:00"],
    "channel": "hotline", "direction": "inbound", "contact_type": "service", "agent_id": ["A1", "A2", "A1"],
    "answered": "true", "abandoned": "false", "talk_seconds": "200",
})


@pytest.fixture
def five(seeded, tmp_path):
    """A blank sheet of five contacts (K1, K2, K11, K12, K13), and each contact's row on it."""
    seeded.import_frame("contacts", FIVE.copy(), source="five.csv")
    card = seeded.scorecard("inbound_service")
    contacts = seeded.unscored_contacts(card, "2026-10")
    assert sorted(contacts["contact_id"]) == ["K1", "K11", "K12", "K13", "K2"]
    path = write_scoring_sheet(tmp_path / "q5.xlsx", card, contacts, inspector_id="Q1", sheet_id="D1")
    return path, rows_of(path)


def test_sheet_filled_over_days_new_unchanged_and_corrected_rows(seeded, five):
    """Day 1: three rows. Day 2: two more rows and one of the first three changed; without a reason the whole file is refused
    (nothing stored), with one the change is a new version of that evaluation, its reason in the history."""
    path, row = five
    fill(path, {row[c]: INBOUND_OK for c in ("K1", "K2", "K11")})
    r = seeded.import_scoring_sheet(path)
    assert (r.new, r.unchanged, r.corrected, r.inserted["evaluations"]) == (3, 0, 0, 3)
    total_before = seeded.evaluation("D1-K11")["total_score"]
    fill(path, {row["K12"]: INBOUND_OK, row["K13"]: INBOUND_OK, row["K11"]: {"closing": "yes"}})
    saved_at(path, "2026-11-21T03:00:00Z")  # saved again on another day
    before = snapshot(seeded)
    with pytest.raises(ValidationError) as info:
        seeded.import_scoring_sheet(path)
    assert [(p.row, p.column) for p in info.value.problems] == [(row["K11"], "reason")]
    assert "D1-K11 is already stored (submitted, version 1) and this row changes it (closing: no → yes)" in str(info.value)
    assert "(2 new, 2 unchanged, 0 corrected, 1 refused) rejected, nothing was stored" in str(info.value)
    assert snapshot(seeded) == before  # the two new rows were not stored either
    fill(path, {row["K11"]: {"reason": "复听录音：结束语其实说了 (re-listened: the closing was said)"}})
    r = seeded.import_scoring_sheet(path)
    assert (r.new, r.unchanged, r.corrected, r.updated) == (2, 2, 1, 0)
    assert str(r).startswith("q5.xlsx: 2 new, 2 unchanged, 1 corrected (new version), 0 refused（新增 2，未变 2，更正 1")
    ev = seeded.evaluation("D1-K11")
    assert ev["answers"]["closing"] == "yes" and ev["version"] == 2 and ev["status"] == "submitted"
    assert ev["total_score"] > total_before
    hist = seeded.history("D1-K11")
    assert hist["action"].tolist() == ["import", "correct"] and hist["actor"].tolist() == ["Q1", "Q1"]
    assert hist["reason"].iloc[-1].startswith("复听录音") and json.loads(hist["answers"].iloc[0])["closing"][0] == "no"
    assert [seeded.evaluation(f"D1-{c}")["version"] for c in ("K1", "K2", "K12")] == [1, 1, 1]
    again = seeded.import_scoring_sheet(path)  # the same file once more: nothing new, no new version
    assert (again.new, again.unchanged, again.corrected) == (0, 5, 0) and len(seeded.history("D1-K11")) == 2
    shown = cli_run(seeded, "evaluation", "show", "D1-K11")
    assert shown.exit_code == 0 and "correct" in shown.output and "复听录音" in shown.output, shown.output


def test_a_released_row_changed_on_the_sheet_is_refused_with_the_way_to_correct_it(seeded, five):
    path, row = five
    fill(path, {row["K1"]: INBOUND_OK, row["K2"]: INBOUND_OK})
    seeded.import_scoring_sheet(path)
    seeded.release("D1-K1", actor="SUP1")
    assert seeded.import_scoring_sheet(path).unchanged == 2  # released and unchanged: left alone
    fill(path, {row["K1"]: {"empathy": "no", "reason": "复核"}})
    before = snapshot(seeded)
    with pytest.raises(ValidationError) as info:
        seeded.import_scoring_sheet(path)
    (problem,) = info.value.problems
    assert (problem.row, problem.column) == (row["K1"], "empathy")
    assert problem.message.startswith("D1-K1 is released and this row changes it (empathy: yes → no), which a sheet cannot do: "
                                      "it is released to the agent") and "dispute" in problem.message
    assert snapshot(seeded) == before


def test_drafts_on_a_sheet_are_saved_then_submitted_without_a_reason(seeded, five):
    """Imported as drafts, a sheet's rows stay the inspector's work in progress: changed, they are saved; imported without
    --draft they are submitted. A sheet exported before the reason column existed takes one named 改分原因 added by hand."""
    path, row = five
    fill(path, {row["K1"]: INBOUND_OK})
    assert seeded.import_scoring_sheet(path, status="draft").new == 1
    fill(path, {row["K1"]: {"greeting": "no"}})
    r = seeded.import_scoring_sheet(path, status="draft")
    assert (r.updated, r.corrected) == (1, 0) and "1 draft(s) updated" in str(r)
    r = seeded.import_scoring_sheet(path)  # not as draft: the draft is submitted
    assert r.updated == 1 and seeded.evaluation("D1-K1")["status"] == "submitted"
    assert seeded.history("D1-K1")["action"].tolist() == ["import", "save", "submit"]
    wb = load_workbook(path)
    ws = wb["score"]
    ws.cell(row=1, column=ws.max_column).value = "改分原因"
    wb.save(path)
    fill(path, {row["K1"]: {"greeting": "yes", "改分原因": "问候语听错了"}})
    assert seeded.import_scoring_sheet(path).corrected == 1
    assert seeded.history("D1-K1")["reason"].iloc[-1] == "问候语听错了"
    with pytest.raises(ParameterError, match="status must be one of draft, submitted; got 'released'"):
        seeded.import_scoring_sheet(path, status="released")


def test_sheet_marks_critical_only_where_the_card_does(seeded, sheet):
    """The header notes and the guide sheet mark an item critical only where the scorecard sets ``critical``."""
    card = seeded.scorecard("inbound_service")
    wb = load_workbook(sheet)
    ws = wb["score"]
    header = [c.value for c in ws[1]]
    noted = {it.id: "(critical)" in ws.cell(row=1, column=header.index(it.id) + 1).comment.text for it in card.items}
    assert noted == {it.id: it.critical is not None for it in card.items} and any(noted.values()) and not all(noted.values())
    guide = {r[0]: r[4] for r in wb["guide"].iter_rows(min_row=2, values_only=True)}
    assert guide == {it.id: it.critical for it in card.items}  # evaluation / section, empty (None) where not critical


# ---------------------------------------------------------------- automatic suggestions (issue #19)
def auto_for(contact_ids):
    """An auto answers frame: a rule hit with hostile evidence on greeting, a model answer on closing, an abstention."""
    rows = []
    for cid in contact_ids:
        rows += [dict(contact_id=cid, item_id="greeting", answer="no", probability=1.0, source="rule", rule_id="greet_phrase",
                      evidence="=HYPERLINK(\"http://x\") 手机13812345678", turn=0, version="inbound_service@1", scorecard_id="inbound_service", accepted=True),
                 dict(contact_id=cid, item_id="closing", answer="yes", probability=0.7, source="model", rule_id=None, evidence="", turn=-1,
                      version="m1", scorecard_id="inbound_service", accepted=False),
                 dict(contact_id=cid, item_id="empathy", answer=None, probability=float("nan"), source="model", rule_id=None, evidence="", turn=-1,
                      version="m1", scorecard_id="inbound_service", accepted=False),
                 dict(contact_id=cid, item_id="greeting", answer="yes", probability=0.9, source="model", rule_id=None, evidence="", turn=-1,
                      version="m1", scorecard_id="other_card", accepted=True)]  # another scorecard's answer: not on this sheet
    return pd.DataFrame(rows)


def test_suggestions_only_on_targeted_rows_defused_and_never_read_back(hostile, tmp_path):
    card = hostile.scorecard("inbound_service")
    contacts = hostile.unscored_contacts(card, "2026-10")
    contacts = contacts[contacts["contact_id"].isin(["K1", "K7", "K8"])].assign(arm=lambda d: d["contact_id"].map({"K1": None, "K7": "targeted", "K8": "random"}))
    path = write_scoring_sheet(tmp_path / "w.xlsx", card, contacts, inspector_id="Q1", sheet_id="W1", auto=auto_for(["K1", "K7", "K8"]))
    wb = load_workbook(path)
    ws = wb["score"]
    header = [c.value for c in ws[1]]
    assert header[-2:] == ["comment", "reason"] and "auto:greeting" in header and header.count("auto_evidence") == 1
    assert header.index("auto:greeting") > max(header.index(it.id) for it in card.items)  # after every answer column
    cells = {r[0].value: {h: c.value for h, c in zip(header, r)} for r in ws.iter_rows(min_row=2)}
    k7 = cells["K7"]
    assert k7["auto:greeting"] == "否 · 已验收" and k7["auto:closing"] == "是 · 仅供参考" and k7["auto:empathy"] is None
    ev = k7["auto_evidence"]
    assert ev.startswith("'greeting: 第 1 轮：=HYPERLINK") or ev.startswith("greeting: 第 1 轮：=HYPERLINK")
    assert "13812345678" not in ev and "138****5678" in ev and "closing: " not in ev  # no evidence, no line
    assert k7["greeting"] is None  # the answer column stays blank
    for cid in ("K1", "K8"):  # random arm, and a blank arm (imported as random): no suggestion at all
        assert all(cells[cid][h] is None for h in header if h.startswith("auto"))
    assert "随机抽检" in ws.cell(row=1, column=header.index("auto:greeting") + 1).comment.text
    notes = {r[0]: r[1] for r in wb["auto"].iter_rows(min_row=2, values_only=True)}
    assert "随机抽检的行一律不带建议" in notes["zh"] and "random-arm rows never carry one" in notes["en"]
    # a suggestion whose text starts like a formula is stored as text
    bad = auto_for(["K7"]).assign(evidence="", answer=lambda d: d["answer"].where(d["item_id"] != "closing", "=1+1"))
    ws2 = load_workbook(write_scoring_sheet(tmp_path / "f.xlsx", card, contacts, inspector_id="Q1", sheet_id="W2", auto=bad))["score"]
    h2 = [c.value for c in ws2[1]]
    assert [r[h2.index("auto:closing")] for r in ws2.iter_rows(min_row=2, values_only=True) if r[0] == "K7"] == ["'=1+1 · 仅供参考"]
    # read back: only the item columns are answers; suggestions on a row with no answer do not make it scored
    with pytest.raises(ValidationError, match="no row has answers"):
        read_scoring_sheet(path, card)
    row = {cid: r for r, cid in enumerate(cells, start=2)}
    fill(path, {row["K7"]: {**INBOUND_OK, "greeting": "yes", "auto:greeting": "no"}})
    long = read_scoring_sheet(path, card, blank_arm=None)
    assert set(long["contact_id"]) == {"K7"} and long.set_index("item_id").loc["greeting", "answer"] == "yes"
    assert not any(c.startswith("auto") for c in long.columns) and set(long["item_id"]) == set(INBOUND_OK)


def test_no_auto_no_suggestion_columns_and_bad_auto(seeded, sheet, tmp_path):
    header = [c.value for c in load_workbook(sheet)["score"][1]]
    assert not any(str(h).startswith("auto") for h in header) and "auto" not in load_workbook(sheet).sheetnames
    card = seeded.scorecard("inbound_service")
    contacts = seeded.unscored_contacts(card, "2026-10")
    with pytest.raises(ParameterError, match="auto must be an auto answers frame .* missing \\['accepted'\\]"):
        write_scoring_sheet(tmp_path / "x.xlsx", card, contacts, inspector_id="Q1", auto=auto_for(["K1"]).drop(columns="accepted"))
