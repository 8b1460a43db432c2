"""The month's data summary: what the store holds for one month, as tables and Markdown.

This is the first of the month's outputs written by ``qa demo``; the report notebooks
of later work build on the same month selection.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .errors import ParameterError

__all__ = ["parse_month", "month_summary", "summary_markdown", "write_summary"]


def parse_month(month: str) -> pd.Period:
    """Parse ``"2026-10"`` (or ``"2026/10"``, ``"202610"``) into a monthly Period.

    >>> parse_month("2026-10")
    Period('2026-10', 'M')
    """
    text = str(month).strip().replace("/", "-")
    if len(text) == 6 and text.isdigit():
        text = f"{text[:4]}-{text[4:]}"
    try:
        p = pd.Period(text, freq="M")
    except (ValueError, TypeError):
        p = None
    if p is None or len(text) != 7:
        raise ParameterError(f"month must look like 2026-10; got {month!r}")
    return p


def month_summary(contacts: pd.DataFrame, evaluations: pd.DataFrame, voc: pd.DataFrame, agents: pd.DataFrame) -> dict:
    """Counts for one month's contacts, evaluations and VOC (frames already cut to the month).

    Returns a dict of plain numbers and small tables (lists of records), JSON-ready.
    """
    team = contacts["agent_id"].map(agents.set_index("agent_id")["team"])
    by_channel = contacts.groupby(["channel", "direction"]).size().rename("contacts").reset_index()
    by_type = contacts.groupby("contact_type").size().rename("contacts").reset_index()
    by_team = (
        contacts.assign(team=team.fillna("(queue, no agent)"))
        .groupby("team")
        .agg(contacts=("contact_id", "size"), answered=("answered", "sum"), abandoned=("abandoned", "sum"))
        .reset_index()
    )
    arms = evaluations.groupby("arm").size().rename("evaluations").reset_index()
    return {
        "contacts": int(len(contacts)),
        "answered": int(contacts["answered"].sum()),
        "abandoned": int(contacts["abandoned"].sum()),
        "with_transcript": int(contacts["transcript"].notna().sum()),
        "agents_with_contacts": int(contacts["agent_id"].nunique()),
        "evaluations": int(len(evaluations)),
        "voc": int(len(voc)),
        "by_channel": by_channel.to_dict("records"),
        "by_type": by_type.to_dict("records"),
        "by_team": by_team.astype({"answered": int, "abandoned": int}).to_dict("records"),
        "evaluations_by_arm": arms.to_dict("records"),
    }


def _md_table(records: list[dict]) -> str:
    if not records:
        return "(none)\n"
    cols = list(records[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in records]
    return "\n".join(lines) + "\n"


def summary_markdown(month: str, s: dict) -> str:
    """The summary as a short Markdown page."""
    return (
        f"# Data summary {month}\n\n"
        f"- contacts: {s['contacts']:,} ({s['answered']:,} answered, {s['abandoned']:,} abandoned, "
        f"{s['with_transcript']:,} with a transcript), handled by {s['agents_with_contacts']} agents\n"
        f"- evaluations: {s['evaluations']:,}\n- VOC verbatims: {s['voc']:,}\n\n"
        f"## Contacts by channel\n\n{_md_table(s['by_channel'])}\n"
        f"## Contacts by type\n\n{_md_table(s['by_type'])}\n"
        f"## Contacts by team\n\n{_md_table(s['by_team'])}\n"
        f"## Evaluations by arm\n\n{_md_table(s['evaluations_by_arm'])}"
    )


def write_summary(folder: Path, month: str, s: dict) -> list[Path]:
    """Write ``data_summary.md`` and ``data_summary.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "data_summary.md", folder / "data_summary.json"
    md.write_text(summary_markdown(month, s), encoding="utf-8")
    js.write_text(json.dumps({"month": month, **s}, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return [md, js]
