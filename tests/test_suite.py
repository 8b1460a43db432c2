"""The suite's own rules: a clone alone skips the tests that need the real datasets, naming what is missing,
and CI (``QA_TEST_REQUIRE_DATA``, set by ``.ci/run``) turns those skips into failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REQUIRE_DATA, SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
NEEDS_DATA = ["tests/test_kpi.py::test_real_bank_call_log", "tests/test_calibration.py::test_fleiss_1971_diagnoses_and_counts_table"]


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Run two tests that read ../shared/data with the datasets pointed at a folder that does not exist."""
    full = {k: v for k, v in os.environ.items() if k != "QA_TEST_REQUIRE_DATA"}
    full.update(QA_SHARED_DATA=str(tmp_path / "absent"), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", *NEEDS_DATA], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=300)


def test_missing_datasets_skip_and_say_what_is_missing(tmp_path):
    r = _pytest(tmp_path)
    assert r.returncode == 0 and "2 skipped" in r.stdout, r.stdout
    assert f"missing {tmp_path / 'absent' / 'call_center' / 'anonymous_bank_1999_08_calls.csv'}" in r.stdout
    assert "set QA_SHARED_DATA" in r.stdout


def test_ci_turns_a_missing_dataset_into_a_failure(tmp_path):
    r = _pytest(tmp_path, QA_TEST_REQUIRE_DATA="1")
    assert r.returncode == 1 and "2 failed" in r.stdout, r.stdout
    assert "QA_TEST_REQUIRE_DATA is set but" in r.stdout


def test_required_datasets_are_there():
    """Under QA_TEST_REQUIRE_DATA (CI) the datasets' folder must exist; on a clone alone this says nothing."""
    assert not REQUIRE_DATA or SHARED_DATA.is_dir(), f"QA_TEST_REQUIRE_DATA is set but {SHARED_DATA} does not exist"
