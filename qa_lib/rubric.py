"""Scorecards: reading the versioned YAML rubrics of ``data/samples/scorecards``.

A scorecard names its scoring style (``weighted`` or ``deduction``), and lists sections
of items with stable ids. See ``docs/scorecards.md`` for the format.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .errors import Problem, ValidationError

__all__ = ["load_scorecard", "item_ids", "items"]

_STYLES = ("weighted", "deduction")


def load_scorecard(source: str | os.PathLike) -> dict:
    """Load a scorecard from a YAML file path or YAML text and check its structure.

    Returns the parsed mapping with its original text under ``"_text"``.
    Raises :class:`ValidationError` naming the YAML path of each problem.
    """
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))):
        path = Path(source)
        name = path.name
        text = path.read_text(encoding="utf-8")
    else:
        name, text = "<scorecard>", str(source)
    try:
        card = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ValidationError([Problem(name, (mark.line + 1) if mark else 0, "", f"not valid YAML: {exc}")], name) from None
    problems: list[Problem] = []

    def bad(path: str, msg: str) -> None:
        problems.append(Problem(name, 0, path, msg))

    if not isinstance(card, dict):
        raise ValidationError([Problem(name, 0, "", "a scorecard is a mapping with id, version, style and sections")], name)
    for key in ("id", "version", "name", "style", "sections"):
        if key not in card:
            bad(key, "missing")
    if not isinstance(card.get("version", 1), int) or isinstance(card.get("version"), bool) or card.get("version", 1) < 1:
        bad("version", f"must be a whole number ≥ 1; got {card.get('version')!r}")
    if card.get("style", "weighted") not in _STYLES:
        bad("style", f"must be one of {', '.join(_STYLES)}; got {card.get('style')!r}")
    seen: set[str] = set()
    sections = card.get("sections") or []
    if not isinstance(sections, list) or not sections:
        bad("sections", "must be a non-empty list")
        sections = []
    for i, sec in enumerate(sections):
        if not isinstance(sec, dict) or "id" not in sec:
            bad(f"sections[{i}]", "a section needs an id")
            continue
        for j, item in enumerate(sec.get("items") or []):
            where = f"sections[{i}].items[{j}]"
            if not isinstance(item, dict) or "id" not in item:
                bad(where, "an item needs an id")
                continue
            if item["id"] in seen:
                bad(f"{where}.id", f"duplicate item id {item['id']!r}")
            seen.add(item["id"])
    if problems:
        raise ValidationError(problems, name)
    card["_text"] = text
    return card


def items(card: dict) -> list[dict]:
    """All items of a scorecard, in order, each with its section id under ``"section"``."""
    return [dict(item, section=sec["id"]) for sec in card["sections"] for item in sec.get("items") or []]


def item_ids(card: dict) -> list[str]:
    """The item ids of a scorecard, in order."""
    return [it["id"] for it in items(card)]
