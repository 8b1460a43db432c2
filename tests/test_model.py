"""The data model is consistent: keys exist, references point at keys, docs cover every column."""

from __future__ import annotations

import pytest

from qa_lib.errors import ParameterError
from qa_lib.model import ENTITIES, IMPORT_KINDS, entity, markdown


def test_keys_and_references_are_consistent():
    names = {e.name for e in ENTITIES}
    for e in ENTITIES:
        cols = e.columns
        assert len(cols) == len(set(cols)), e.name
        assert set(e.key) <= set(cols), e.name
        for f in e.fields:
            if f.references:
                table, column = f.references.split(".")
                assert table in names and entity(table).key == (column,), f"{e.name}.{f.name}"
            if f.choices:
                aliases = [a.lower() for k, v in f.choices.items() for a in (k, *v)]
                assert len(aliases) == len(set(aliases)), f"ambiguous alias in {e.name}.{f.name}"


def test_import_kinds_cover_the_data_files():
    assert set(IMPORT_KINDS) == {"agents", "inspectors", "contacts", "calibration_sessions", "evaluations", "voc", "info_checks", "coaching"}


def test_markdown_documents_every_column():
    md = markdown()
    for e in ENTITIES:
        assert f"## `{e.name}`" in md
        for f in e.fields:
            assert f"| `{f.name}` |" in md


def test_unknown_entity():
    with pytest.raises(ParameterError, match=r"entity must be one of \[.*\]; got 'calls'"):
        entity("calls")
