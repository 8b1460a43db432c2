"""The month's data summary: what the store holds for one month, as tables and Markdown.

This is the first of the month's outputs written by ``qa demo``; the report notebooks
of later work build on the same month selection.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from .errors import ParameterError

__all__ = ["parse_month", "month_summary", "summary_tables", "summary_headline", "summary_markdown", "write_summary"]


def parse_date(value, name: str) -> pd.Timestamp:
    """A day (midnight) from a date, datetime or text like 2026-10-31; a ParameterError naming ``name`` otherwise.

    >>> parse_date("2026/10/31 14:00", "as_of")
    Timestamp('2026-10-31 00:00:00')
    """
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        t = pd.NaT
    if pd.isna(t):
        raise ParameterError(f"{name} must be a date like 2026-10-31; got {value!r}")
    return t.normalize()


def parse_month(month: str) -> pd.Period:
    """Parse ``"2026-10"`` (or ``"2026/10"``, ``"202610"``) into a monthly Period.

    >>> parse_month("2026-10")
    Period('2026-10', 'M')
    """
    text = str(month).strip().replace("/", "-")
    if len(text) == 6 and text.isdigit():
        text = f"{text[:4]}-{text[4:]}"
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise ParameterError(f"month must look like 2026-10; got {month!r}")
    return pd.Period(text, freq="M")


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


_TABLES = {
    "by_channel": "Contacts by channel",
    "by_type": "Contacts by type",
    "by_team": "Contacts by team",
    "evaluations_by_arm": "Evaluations by arm",
}


def summary_tables(s: dict) -> dict[str, pd.DataFrame]:
    """The summary's small tables as DataFrames, for display."""
    return {k: pd.DataFrame(s[k]) for k in _TABLES}


def summary_headline(month: str, s: dict) -> str:
    """One Markdown paragraph with the month's totals."""
    return (
        f"**{month}**: {s['contacts']:,} contacts ({s['answered']:,} answered, {s['abandoned']:,} abandoned, "
        f"{s['with_transcript']:,} with a transcript) handled by {s['agents_with_contacts']} agents; "
        f"{s['evaluations']:,} evaluations; {s['voc']:,} VOC verbatims."
    )


def summary_markdown(month: str, s: dict) -> str:
    """The summary as a short Markdown page."""
    parts = [f"# Data summary {month}", "", summary_headline(month, s), ""]
    for key, title in _TABLES.items():
        parts += [f"## {title}", "", pd.DataFrame(s[key]).to_markdown(index=False) if s[key] else "(none)", ""]
    return "\n".join(parts)


def write_summary(folder: Path, month: str, s: dict) -> list[Path]:
    """Write ``data_summary.md`` and ``data_summary.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "data_summary.md", folder / "data_summary.json"
    md.write_text(summary_markdown(month, s), encoding="utf-8")
    js.write_text(json.dumps({"month": month, **s}, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return [md, js]
