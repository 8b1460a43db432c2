"""The house rules: the import contracts of pyproject.toml hold, bite on a wrong-way import, and cover every
module; functions and classes stay short enough to read."""

from __future__ import annotations

import ast
import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import qa_lib

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = {c["name"].split(":")[0]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]}
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache", "--no-logo"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    r = _lint(ROOT)
    assert r.returncode == 0 and "0 broken" in r.stdout, r.stdout + r.stderr


def test_a_wrong_way_import_breaks_the_contracts(tmp_path):
    """A statistic that imports the command line: every contract breaks but the database one (cli talks to the store only)."""
    shutil.copytree(ROOT / "qa_lib", tmp_path / "qa_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "qa_lib" / "stats" / "proportions.py"
    path.write_text(path.read_text(encoding="utf-8") + "\nfrom qa_lib import cli  # noqa\n", encoding="utf-8")
    r = _lint(tmp_path, env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert r.returncode == 1, r.stdout
    summary = " ".join(r.stdout.split("Broken contracts")[0].split())  # contract names wrap over lines
    assert "Contracts: 1 kept, 4 broken." in summary and "Only the store talks to the database KEPT" in summary
    assert "qa_lib.stats is not allowed to import qa_lib.cli" in r.stdout and "qa_lib.stats.proportions -> qa_lib.cli" in r.stdout


def test_every_module_is_under_the_rules():
    """A new top-level module must be placed in a layer (and listed for the statistics rule), or it escapes the checks."""
    top = {f"qa_lib.{m.name}" for m in pkgutil.iter_modules(qa_lib.__path__)} - {"qa_lib.migrations"}
    layers = {name.strip() for layer in CONTRACTS["Layers"]["layers"] for part in layer.split("|") for name in part.split(":")}
    assert top - layers == set(), "place these modules in a layer of pyproject.toml's import contract"
    forbidden = set(CONTRACTS["Statistics know no center, database or report"]["forbidden_modules"])
    assert top - forbidden == {"qa_lib.stats", "qa_lib.errors"}, "list these modules as forbidden to qa_lib.stats"
    no_db = set(CONTRACTS["Only the store talks to the database"]["source_modules"])
    assert top - no_db == {"qa_lib.store"}, "list these modules among those that may not import the database libraries"


def test_functions_and_classes_are_short_enough_to_read():
    """No function over 80 lines and no class over 400 in qa_lib."""
    long = set()
    for path in sorted((ROOT / "qa_lib").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            limit = 80 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else 400 if isinstance(node, ast.ClassDef) else None
            if limit and node.end_lineno - node.lineno + 1 > limit:
                long.add(f"{path.relative_to(ROOT).as_posix()}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert long == set(), "split these: no function over 80 lines, no class over 400"


@pytest.mark.parametrize("name", ["qa_lib.stats", "qa_lib.html"])
def test_lower_layers_import_alone(name):
    """A lower layer imports without the layers above it (nothing of the store, the reports or the command line)."""
    code = f"import sys, {name}; bad = sorted(m for m in sys.modules if m.startswith(('qa_lib.store', 'qa_lib.reports', 'qa_lib.cli'))); print(bad)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_evaluations_are_read_only_through_the_store_audience():
    """What counts and who sees it is decided in one place, ``Store.evaluations`` (audiences of qa_lib.lifecycle): no module
    outside qa_lib/store/ and the scoring workbench, and no notebook, reads the evaluations table directly."""
    import re

    direct = re.compile(r"""\.read(?:_month)?\(\s*(?:\\?["'])evaluations(?:\\?["'])""")
    allowed = {"qa_lib/workbench.py"}
    found = []
    for path in sorted([*(ROOT / "qa_lib").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb")]):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("qa_lib/store/") or rel in allowed:
            continue
        found += [f"{rel}: {m.group(0)}" for m in direct.finditer(path.read_text(encoding="utf-8"))]
    assert found == [], "read evaluations through store.evaluations(month, audience=...), which applies the lifecycle's audiences"
    assert direct.search('store.read_month("evaluations", p)') and direct.search('store.read( "evaluations")')


def test_nothing_in_qa_lib_knows_the_sample_center():
    """A real center, not the sample: no id, name, team, scorecard, item, topic, module or session of the sample center
    appears in qa_lib outside the sample generator (samples.py, its transcript templates, and the second center it
    re-codes from). Every such name comes from the center's own files."""
    import re

    import yaml

    samples = ROOT / "data" / "samples"
    names = set()
    for card in (samples / "scorecards").glob("*.yaml"):
        doc = yaml.safe_load(card.read_text(encoding="utf-8"))
        names |= {doc["id"], *(s["id"] for s in doc["sections"]), *(i["id"] for s in doc["sections"] for i in s["items"])}
    names |= {t["id"] for t in yaml.safe_load((samples / "voc_taxonomy.yaml").read_text(encoding="utf-8"))["topics"]}
    names |= {m["id"] for m in yaml.safe_load((samples / "training_modules.yaml").read_text(encoding="utf-8"))["modules"]}
    center = yaml.safe_load((samples / "center.yaml").read_text(encoding="utf-8"))
    teams = set(pd.read_csv(samples / "agents.csv")["team"])
    people = set(pd.read_csv(samples / "agents.csv")["agent_id"]) | set(pd.read_csv(samples / "inspectors.csv")["inspector_id"])
    # ids that are ordinary English words (opening, records, praise …) say nothing; team names only as quoted strings
    names = {n for n in names if "_" in n or re.match(r"TM\d", n)}
    pattern = re.compile("|".join(
        [rf"\b{re.escape(n)}\b" for n in sorted(names)] + [rf"""["']{re.escape(n)}["']""" for n in sorted(teams)]
        + [rf"\b{re.escape(p)}\b" for p in sorted(people)] + [re.escape(center["name"].split(" ")[0]), r"\bCAL-\d"]))
    generator = {"samples.py", "text_templates.py", "second_center.py"}
    found = []
    for path in sorted((ROOT / "qa_lib").rglob("*")):
        if path.suffix not in (".py", ".yaml", ".txt", ".md") or path.name in generator or "migrations" in path.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        found += [f"{nb.name}: {m.group(0)}" for m in pattern.finditer(nb.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)
