"""Notebook templates: thin, stripped, parameterized — and they run under papermill on the samples."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import papermill as pm
import pytest

from qa_lib.config import project_root, samples_dir

FOLDER = project_root() / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))


def code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no templates"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_template_conventions(path):
    cells = code_cells(path)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in cells), "commit notebooks stripped"
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert tagged == [0], "exactly one parameters cell, the first code cell"
    names = set()
    for line in "".join(cells[0]["source"]).splitlines():
        node = ast.parse(line).body[0]
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant), f"literal parameter: {line}"
        assert "#" in line, f"parameter without help text: {line}"
        names.add(node.target.id)
    for c in cells:
        tree = ast.parse("".join(c["source"]))
        assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda)) for n in ast.walk(tree)), "no def/class in notebooks"
    # papermill must see every parameter (it cannot parse a line with a second "=", e.g. in the help text)
    assert set(pm.inspect_notebook(str(path))) == names


def test_data_overview_runs_on_a_database(tmp_path, loaded_store):
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(FOLDER / "data_overview.ipynb"), str(out),
        parameters={"month": "2026-09", "db_url": loaded_store.url}, kernel_name="python3", progress_bar=False,
    )
    text = out.read_text(encoding="utf-8")
    assert "**2026-09**" in text and "North" in text


def test_data_overview_defaults_run_on_the_samples(tmp_path, monkeypatch):
    """Default parameters use the default database, built from data/samples when missing (as nbval runs the template)."""
    home = tmp_path / "home"
    shutil.copytree(samples_dir(), home / "data" / "samples")
    monkeypatch.setenv("QA_HOME", str(home))
    monkeypatch.delenv("QA_DB_URL", raising=False)
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(FOLDER / "data_overview.ipynb"), str(out), kernel_name="python3", progress_bar=False)
    assert (home / "data" / "qa.sqlite").exists()
    assert "**2026-10**" in out.read_text(encoding="utf-8")


def test_scoring_workbench_runs(tmp_path, loaded_store):
    """The workbench notebook builds the worklist and the form on the samples (it stores nothing by itself)."""
    out = tmp_path / "wb.ipynb"
    before = loaded_store.counts()
    pm.execute_notebook(str(FOLDER / "scoring_workbench.ipynb"), str(out), parameters={"db_url": loaded_store.url, "month": "2026-10", "size": 3},
                        kernel_name="python3", progress_bar=False)
    text = out.read_text(encoding="utf-8")
    assert "Scoring workbench" in text and "application/vnd.jupyter.widget-view+json" in text
    assert loaded_store.counts() == before


def test_sampling_plan_notebook(tmp_path, loaded_store):
    out = tmp_path / "sp.ipynb"
    before = loaded_store.counts()
    pm.execute_notebook(str(FOLDER / "sampling_plan.ipynb"), str(out), parameters={"db_url": loaded_store.url, "period": "2026-10", "per_agent": 6},
                        kernel_name="python3", progress_bar=False)
    text = out.read_text(encoding="utf-8")
    assert "n = 6 per agent buys ±" in text and "Preview only" in text
    assert loaded_store.counts() == before  # save=False stores nothing


def test_calibration_notebook_names_the_planted_effects(tmp_path, loaded_store):
    out = tmp_path / "cal.ipynb"
    pm.execute_notebook(str(FOLDER / "calibration_session.ipynb"), str(out), parameters={"db_url": loaded_store.url, "n_boot": 100, "lang": "en"},
                        kernel_name="python3", progress_bar=False)
    text = out.read_text(encoding="utf-8")
    assert "Calibration meeting CAL-2026-10" in text  # the latest session by default
    assert "To discuss: 1) the item 'Customer's need understood'" in text.replace("&#x27;", "'").replace("\\'", "'")  # PLANTED.md
    pooled = text.split("All 6 sessions pooled")[1]
    assert pooled.index("(Q03)") < pooled.index("lenient") < pooled.index("(Q05)") < pooled.index("strict")  # planted, across sessions


def test_voc_notebook_prepares_from_the_database_and_flags_the_surge(tmp_path, loaded_store):
    """Plain papermill, nothing prepared beforehand: the notebook computes the month's VOC tables itself."""
    out = tmp_path / "voc.ipynb"
    before = loaded_store.counts()
    pm.execute_notebook(str(FOLDER / "voc_monthly.ipynb"), str(out),
                        parameters={"db_url": loaded_store.url, "month": "2026-10", "months_of_history": 6, "lang": "zh", "data_dir": str(tmp_path / "r")},
                        kernel_name="python3", progress_bar=False)
    text = out.read_text(encoding="utf-8")
    assert "客户之声（VOC）月报 — 2026-10" in text and "地图升级 — 25." in text  # PLANTED.md: map_update surge in 2026-10
    assert (tmp_path / "r" / "voc_topics_2026-10.xlsx").exists()
    assert loaded_store.counts() == before


def test_case_library_notebook_shows_one_skill_masked(tmp_path, loaded_store):
    """The training lead's view: counts per skill, then the chosen skill's cases with masked excerpts; it writes nothing."""
    from qa_lib.privacy import PATTERNS

    out = tmp_path / "cases.ipynb"
    before = loaded_store.counts()
    pm.execute_notebook(str(FOLDER / "case_library.ipynb"), str(out),
                        parameters={"db_url": loaded_store.url, "month": "2026-10", "months": 1, "skill": "compliance", "lang": "zh", "per_skill": 3},
                        kernel_name="python3", progress_bar=False)
    text = out.read_text(encoding="utf-8")
    assert "案例库 — 2026-10" in text and "各技能案例数" in text and "合规与身份核实" in text
    assert "核实客户身份" in text and 'data-skill=\\"compliance\\"' in text and 'data-skill=\\"empathy\\"' not in text
    assert "****" in text and not any(PATTERNS[k].search(text) for k in ("mobile", "id_card", "email"))
    assert loaded_store.counts() == before


def test_training_notebook_for_one_team_names_the_planted_gap(tmp_path, loaded_store):
    """Plain papermill, nothing prepared: the training-needs notebook computes its tables and shows team South's needs."""
    out = tmp_path / "training.ipynb"
    before = loaded_store.counts()
    pm.execute_notebook(str(FOLDER / "training_needs.ipynb"), str(out),
                        parameters={"db_url": loaded_store.url, "month": "2026-10", "months": 3, "team": "South", "lang": "zh",
                                    "data_dir": str(tmp_path / "r")}, kernel_name="python3", progress_bar=False)
    text = out.read_text(encoding="utf-8")
    assert "培训需求分析 2026-10（近 3 个月）" in text and "A017" in text and "核实客户身份" in text  # PLANTED.md: A017 × identity_check
    assert "TM02 客户身份核验与信息安全" in text and "入职批次" in text
    assert (tmp_path / "r" / "training_plan_2026-10.xlsx").exists()
    assert loaded_store.counts() == before
