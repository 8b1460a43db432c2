"""Regenerate the hostile-input corpus in this folder: ``.venv/bin/python tests/data/bad/make_corpus.py``.

Every file is small and is fed through ``qa import`` and ``Store.import_file`` by
``tests/test_ingest.py::test_bad_corpus_*`` (YAML files by ``tests/test_rubric.py``). The rows
refer to the committed samples (agent A001/A005, contact K0000037, scorecard inbound_service v1).
What each file must give is listed in the test (``BAD_CASES``) and in docs/bad-input.md.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

HEADER = ["contact_id", "start_time", "channel", "direction", "contact_type", "agent_id", "customer_id", "wait_seconds",
          "answered", "abandoned", "talk_seconds", "hold_seconds", "acw_seconds", "transcript", "transcript_lang"]


def contact(cid: str, start: str = "2026-10-05 09:15:00", **kw) -> dict:
    row = dict(zip(HEADER, [cid, start, "热线", "呼入", "咨询", "A001", "C9000001", "4.5", "是", "否", "180", "0", "20",
                            "坐席:您好，请问有什么可以帮您？\n客户:导航地图不更新了。", "zh"]))
    row.update(kw)
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=HEADER)


def csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


def write(name: str, data: str | bytes, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


def evaluation(eid: str, **header) -> pd.DataFrame:
    """The 11 answer rows of sample evaluation E00001 (contact K0000037, agent A005) under a new id."""
    items = ["greeting", "identity_check", "needs_analysis", "empathy", "correct_answer", "escalation_handling",
             "info_logged", "confirmation", "closing", "proactive_help"]
    answers = ["yes", "yes", "yes", "yes", "yes", "na", "yes", "yes", "yes", "no"]
    df = pd.DataFrame({"evaluation_id": eid, "contact_id": "K0000037", "agent_id": "A005", "inspector_id": "Q02",
                       "scorecard_id": "inbound_service", "scorecard_version": "1", "evaluated_at": "2026-05-05 09:42:20",
                       "arm": "targeted", "item_id": items, "answer": answers})
    for k, v in header.items():
        df[k] = v
    return df


def main() -> None:
    two = frame(contact("KBAD0001"), contact("KBAD0002", "2026-10-05 10:02:30", channel="online", transcript_lang="", transcript=""))
    text = csv_text(two)
    # importable: encodings
    write("gbk.csv", text, "gbk")
    write("utf8.csv", text)
    write("utf8_bom.csv", "\ufeff" + text)
    write("utf16_bom.csv", "\ufeff" + text, "utf-16-le")
    # importable: one column with +08:00, Z and naive times (converted to the center's local time, Asia/Shanghai)
    write("mixed_timezones.csv", csv_text(frame(contact("KBAD0011", "2026-10-05T09:15:00+08:00"),
                                                contact("KBAD0012", "2026-10-05T01:15:00Z"),
                                                contact("KBAD0013", "2026-10-05 09:15:00"))))
    # truncated
    full = csv_text(frame(contact("KBAD0021"), contact("KBAD0022")))
    write("truncated_mid_row.csv", full[: full.rindex("KBAD0022") + len("KBAD0022,2026-10-05 09:15:00,热线")])
    write("truncated_mid_quote.csv", full[: full.rindex("坐席:您好") + 4])
    write("ragged_row.csv", text.replace("KBAD0001,", "KBAD0001,extra,", 1))
    # duplicates
    write("duplicate_id_in_file.csv", csv_text(frame(contact("KBAD0031"), contact("KBAD0032"), contact("KBAD0031", talk_seconds="200"))))
    write("duplicate_id_in_db.csv", csv_text(frame(contact("KBAD0041"), contact("K0000001", channel="email", agent_id="A027", start_time="2026-05-01 00:12:45"))))
    write("duplicate_header.csv", "contact_id,start_time,contact_id\nKBAD0051,2026-10-05 09:15:00,KBAD0051\n")
    # values out of range
    write("negative_duration.csv", csv_text(frame(contact("KBAD0061"), contact("KBAD0062", talk_seconds="-30"))))
    write("absurd_duration.csv", csv_text(frame(contact("KBAD0071", talk_seconds="144000"))))  # 40 h of talk
    write("future_date.csv", csv_text(frame(contact("KBAD0081"), contact("KBAD0082", "2099-01-01 09:00:00"))))
    # evaluations: answers outside the scorecard, total_score out of range
    ev = evaluation("EBAD0001")
    ev.loc[ev["item_id"] == "empathy", "answer"] = "excellent"
    write("eval_answer_not_in_options.csv", csv_text(ev))
    write("eval_total_500.csv", csv_text(evaluation("EBAD0002", total_score="500")))
    write("eval_total_mismatch.csv", csv_text(evaluation("EBAD0003", total_score="95")))
    # empty and header-only
    write("empty.csv", b"")
    write("header_only.csv", ",".join(HEADER) + "\n")
    # binary and misnamed files
    write("binary_renamed.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)))
    buf = io.BytesIO()
    two.to_excel(buf, index=False)
    write("xlsx_renamed.csv", buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("junk.bin", bytes(range(256)) * 4)
    write("junk_zip.xlsx", buf.getvalue())
    write("csv_renamed.xlsx", text)
    # Excel with a merged title row over the header, and with a header cell merged over two columns
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["2026年10月 通话记录"] + [None] * (len(HEADER) - 1))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(HEADER)
    for r in two.itertuples(index=False):
        ws.append(list(r))
    wb.save(HERE / "merged_title_row.xlsx")
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER[:5] + [None] + HEADER[6:])  # "contact_type" merged over E1:F1, agent_id's header lost
    ws.merge_cells("E1:F1")
    for r in two.itertuples(index=False):
        ws.append(list(r))
    wb.save(HERE / "merged_header.xlsx")
    # YAML bombs (tests/test_rubric.py)
    laughs = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    write("billion_laughs.yaml", "id: bomb\nversion: 1\nstyle: weighted\nname: {zh: 炸弹, en: Bomb}\nsections: []\n" + "\n".join(laughs) + "\n")
    write("deep_nesting.yaml", "id: deep\nsections: " + "[" * 5000 + "]" * 5000 + "\n")
    write("python_tag.yaml", "id: !!python/object/apply:os.system [\"echo pwned\"]\nversion: 1\n")


if __name__ == "__main__":
    main()
