"""The report runner: the one module that runs notebooks.

Notebook templates declare their parameters in a cell tagged ``parameters`` (papermill's
convention, read with ``papermill.inspect_notebook``). Parameter values are passed **as data,
never as code**: the worker writes them to a private JSON job file (a fresh 0700 folder, file
0600, deleted as soon as the kernel has read it) and the only code injected after the
parameters cell is ``globals().update(load_job(<that file's path>))`` — so any Unicode id,
a SQLite path with ``()\\`` or a PostgreSQL URL with ``+@:`` reaches the notebook as it is, and
the database password is in no notebook cell, no HTML and no error message (errors are passed
through :func:`qa_lib.config.redact`). Notebooks are executed by nbclient in **warm kernels**: each worker
process starts one IPython kernel, imports the report stack once, and runs report after
report in it, clearing the kernel's namespace (``%reset -f``) before each, so nothing of
one agent can leak into the next. Executed notebooks become self-contained HTML with the
code hidden (nbconvert ``exclude_input``, cells tagged ``remove-cell`` dropped), no
external script (CDN tags removed), and plotly.js from one shared ``plotly.min.js`` beside
the reports. A failing report is recorded and never stops the others.

**Fresh, not stale**: each report carries, in a ``<meta name="qa-inputs">`` of its HTML, a content hash of what it
was made from (:func:`job_hash`): the notebook template, the parameters, a fingerprint of the data it reads
(``ReportJob.inputs``: the agent's or team's view of the month's prepared tables, the VOC or training tables) and the
report code. A report whose hash is unchanged is skipped; one whose inputs changed is written again; ``force`` redoes
every one. The month's ``index.html`` is the dashboard (:mod:`qa_lib.reports.dashboard`), rebuilt from the whole folder
on every run.
"""

from __future__ import annotations

import functools
import hashlib
import html as html_lib
import json
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..errors import ConfigError, ParameterError

__all__ = ["ReportJob", "ReportResult", "run_reports", "report_executor", "executor_spec", "render_html", "check_parameters", "write_index", "install_plotly_js", "plain_papermill",
           "month_reports", "load_job", "inject_parameters", "job_hash", "report_hash", "data_fingerprint"]

_MAX_TEXT = 10_000  # a parameter is an id, a month, a path or a URL: anything longer is a mistake
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.I)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^\"']*[\"'][^>]*>", re.I)
_INPUTS_META = re.compile(r'<meta name="qa-inputs" content="([0-9a-f]{64})">')


@dataclass(frozen=True)
class ReportJob:
    """One report: a notebook template, its parameters, and the HTML file to write."""

    template: str
    parameters: dict
    output: str
    title: str = ""
    inputs: str = ""  # a fingerprint of the data the report reads (part of its hash, :func:`job_hash`)


@dataclass
class ReportResult:
    job: ReportJob
    ok: bool
    seconds: float = 0.0
    skipped: bool = False
    error: str = ""
    missing: str = ""  # a kind not prepared because its inputs are missing: what to import (not a failure)
    changed: bool = False  # written again because its inputs changed (it was there, with another hash)


def check_parameters(template: str | os.PathLike, parameters: dict) -> dict:
    """Reject unknown parameters and values that are not plain data before any notebook runs.

    Values must be ``None``, a bool, a finite number or a string (any Unicode, at most 10,000
    characters); they are passed to the kernel as JSON data, never as code (see
    :func:`inject_parameters`), so quotes, backslashes, ``..`` or ``@`` in a value cannot run.
    """
    import math

    import papermill as pm

    declared = pm.inspect_notebook(str(template))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ParameterError(f"parameters must be among {sorted(declared)} for {Path(template).name}; unknown {unknown}")
    for name, value in parameters.items():
        if value is None or isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value)):
            continue
        if not isinstance(value, str) or len(value) > _MAX_TEXT or "\x00" in value:
            shown = type(value).__name__ if not isinstance(value, str) else f"a text of {len(value):,} characters" + (" with a NUL" if "\x00" in value else "")
            raise ParameterError(f"parameter {name} must be None, a bool, a finite number or a text of at most {_MAX_TEXT:,} characters without NUL; got {shown}")
    return parameters


def load_job(path: str | os.PathLike) -> dict:
    """Read (and delete) a job file written by :func:`inject_parameters`: the parameters as a dict.

    This is what the injected cell of every report calls; the file holds the database URL, so
    it is removed as soon as it is read.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    finally:
        path.unlink(missing_ok=True)


def inject_parameters(nb, parameters: dict, folder: str | os.PathLike):
    """Put ``parameters`` into ``nb`` as data: a 0600 JSON file in ``folder`` and one injected cell that loads it.

    The injected cell (tagged ``injected-parameters`` and ``remove-cell``, placed after the cell
    tagged ``parameters``, or first) holds only the job file's path, written with ``repr`` of a
    path this function chose — so the cell is valid Python whatever the values are.
    """
    fd, name = tempfile.mkstemp(prefix="job-", suffix=".json", dir=folder)  # created 0600
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(parameters, fh, ensure_ascii=False)
    cell = nbformat.v4.new_code_cell(f"from qa_lib.reports.runner import load_job as _qa_load_job\n"
                                     f"globals().update(_qa_load_job({name!r}))\ndel _qa_load_job")
    cell.metadata["tags"] = ["injected-parameters", "remove-cell"]
    at = next((i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0)
    nb.cells.insert(at, cell)
    return nb


def install_plotly_js(folder: str | os.PathLike) -> Path:
    """Copy the installed plotly.min.js beside the reports (once), so every report works offline."""
    import plotly

    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    dst = Path(folder) / "plotly.min.js"
    if not dst.exists() or dst.stat().st_size != src.stat().st_size:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return dst


_EXPORTER = None


def render_html(nb, title: str = "", plotly_src: str = "plotly.min.js", inputs_hash: str = "") -> str:
    """Executed notebook → HTML: no code, no prompts, no setup cells, no external scripts, shared plotly.js; with
    ``inputs_hash`` (:func:`job_hash`) in a ``<meta name="qa-inputs">`` right after ``<head>``."""
    global _EXPORTER
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    if _EXPORTER is None:
        c = Config()
        c.TagRemovePreprocessor.remove_cell_tags = ("remove-cell",)
        c.TagRemovePreprocessor.enabled = True
        c.HTMLExporter.exclude_input = True
        c.HTMLExporter.exclude_output_prompt = True
        c.HTMLExporter.exclude_input_prompt = True
        _EXPORTER = HTMLExporter(config=c)
        _EXPORTER.register_preprocessor("nbconvert.preprocessors.TagRemovePreprocessor", enabled=True)
    body, _ = _EXPORTER.from_notebook_node(nb, resources={"metadata": {"name": title or "QA report"}})
    body = _EXTERNAL_SCRIPT.sub("", body)
    body = _EXTERNAL_LINK.sub("", body)
    head = (f'<meta name="qa-inputs" content="{inputs_hash}">' if inputs_hash else "") + f'<meta charset="utf-8"><script src="{html_lib.escape(plotly_src)}"></script>'
    return body.replace("<head>", "<head>" + head, 1)


# ---------------------------------------------------------------- worker processes
_KM = None


def _warm_kernel():
    """Start this worker's kernel and import the report stack in it once."""
    global _KM
    from jupyter_client.manager import KernelManager

    _KM = KernelManager(kernel_name="python3")
    _KM.start_kernel(extra_arguments=["--HistoryManager.enabled=False", "--log-level=ERROR"])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import pandas, plotly.graph_objects, IPython.display\nimport qa_lib.reports, qa_lib.store, qa_lib.config, qa_lib.summary")])
    _execute(nb)


def _execute(nb):
    from nbclient import NotebookClient

    client = NotebookClient(nb, km=_KM, timeout=600, allow_errors=False, kernel_name="python3")
    return client.execute()


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """A hash of the package's Python sources: a new version of the report code makes every report out of date."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def job_hash(job: ReportJob) -> str:
    """The content hash a report is made from: its notebook template, its parameters, the fingerprint of the data it
    reads (``job.inputs``) and the report code. Equal hash, equal report: :func:`run_reports` skips it."""
    h = hashlib.sha256()
    h.update(Path(job.template).read_bytes())
    h.update(json.dumps(job.parameters, sort_keys=True, ensure_ascii=False, default=str).encode())
    h.update(b"\0" + job.inputs.encode() + b"\0" + _code_fingerprint().encode())
    return h.hexdigest()


def report_hash(path: str | os.PathLike) -> str | None:
    """The content hash written into a report (``<meta name="qa-inputs">``), or None (no report, or one from before hashes)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return None
    m = _INPUTS_META.search(head)
    return m.group(1) if m else None


def data_fingerprint(obj) -> str:
    """A stable hash of what a report reads: DataFrames (values, floats rounded to 6 decimals, and columns), dicts,
    lists, numbers and text, nested. Rounding keeps a model's last-digit noise from rebuilding a page that shows the
    same numbers."""
    import numpy as np
    import pandas as pd

    h = hashlib.sha256()

    def walk(x):
        if isinstance(x, pd.DataFrame):
            df = x.reset_index(drop=True)
            for col in df.columns:
                v = df[col]
                if pd.api.types.is_float_dtype(v):
                    v = v.round(6)
                h.update(f"[{col}]".encode())
                h.update(pd.util.hash_pandas_object(v.astype(object).where(v.notna(), None).astype(str), index=False).to_numpy().tobytes())
        elif isinstance(x, pd.Series):
            walk(x.to_frame())
        elif isinstance(x, dict):
            for k in sorted(x, key=str):
                h.update(f"<{k}>".encode())
                walk(x[k])
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
            h.update(b"|")
        elif isinstance(x, (float, np.floating)):
            h.update(repr(round(float(x), 6)).encode())
        else:
            h.update(repr(x).encode())

    walk(obj)
    return h.hexdigest()


def _run_one(job: ReportJob, plotly_src: str, inputs_hash: str = "") -> ReportResult:
    from ..config import redact

    t0 = time.perf_counter()
    jobs = tempfile.mkdtemp(prefix="qa-job-")  # 0700: the job file holds the database URL
    try:
        if _KM is None or not _KM.is_alive():
            _warm_kernel()
        nb = inject_parameters(nbformat.read(job.template, as_version=4), job.parameters, jobs)
        reset = nbformat.v4.new_code_cell("%reset -f")
        reset.metadata["tags"] = ["remove-cell"]
        nb.cells.insert(0, reset)  # a fresh namespace: nothing of the previous report survives
        _execute(nb)
        out = Path(job.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        if os.path.isabs(plotly_src):  # one shared copy: each report links it relative to its own folder
            plotly_src = Path(os.path.relpath(plotly_src, out.parent)).as_posix()
        tmp.write_text(render_html(nb, job.title, plotly_src, inputs_hash), encoding="utf-8")
        os.replace(tmp, out)  # a report is either complete or absent, never half-written
        return ReportResult(job, True, time.perf_counter() - t0)
    except Exception as exc:  # isolated: recorded, reported at the end, the others go on
        msg = _ANSI.sub("", str(exc)).strip().splitlines()
        urls = [v for v in job.parameters.values() if isinstance(v, str) and "://" in v]
        return ReportResult(job, False, time.perf_counter() - t0, error=redact((msg[-1] if msg else type(exc).__name__)[:500], *urls))
    finally:
        shutil.rmtree(jobs, ignore_errors=True)


@contextmanager
def report_executor(spec: str | None = None, workers: int = 2):
    """The executor the report fan-out runs on, chosen by configuration: a :class:`concurrent.futures.Executor`.

    ``spec`` (default ``$QA_EXECUTOR``, else ``local``):

    * ``local`` — worker processes on this machine, each with its warm kernel (``workers`` of them);
    * ``dask:<scheduler address>`` (e.g. ``dask:tcp://10.0.0.5:8786``) — an existing Dask distributed
      cluster through its ``concurrent.futures`` interface (``Client.get_executor()``). Each Dask worker
      starts its own warm kernel on its first report; the workers must see the same notebooks, database
      URL and report folder (a shared file system), and need the ``distributed`` package.

    Switching executors is configuration only: the jobs, the checks before papermill and the results
    are the same.
    """
    spec = executor_spec(spec)
    if spec == "local":
        with ProcessPoolExecutor(max_workers=workers, initializer=_warm_kernel) as pool:
            yield pool
        return
    try:  # dask:<address>, the only other form executor_spec admits
        from distributed import Client
    except ImportError:
        raise ConfigError(f"executor {spec!r} needs the Dask 'distributed' package on this machine and the workers; it is not installed") from None
    client = Client(spec[len("dask:"):])
    try:
        yield client.get_executor()
    finally:
        client.close()


def executor_spec(spec: str | None = None) -> str:
    """The executor setting (``spec``, else ``$QA_EXECUTOR``, else ``local``), checked: ``local`` or ``dask:<address>``."""
    from ..config import settings

    spec = (spec if spec is not None else settings().executor).strip() or "local"
    if spec == "local" or (spec.startswith("dask:") and len(spec) > len("dask:")):
        return spec
    raise ConfigError(f"executor (QA_EXECUTOR) must be 'local' or 'dask:<scheduler address>'; got {spec!r}")


def run_reports(jobs: list[ReportJob], *, workers: int | None = None, force: bool = False, progress: bool = True,
                plotly_src: str = "plotly.min.js", executor: str | None = None) -> list[ReportResult]:
    """Run report jobs on the configured executor (:func:`report_executor`); return one result per job.

    A report whose HTML exists with the same content hash (:func:`job_hash`: template, parameters, data fingerprint,
    code) is skipped unless ``force``; one whose hash changed is written again (``changed``). A run that was stopped
    midway finishes the rest when run again (each report is written to a temporary file and renamed, so a
    report is complete or absent, never half-written). A failure in one report is recorded in its
    result and the others continue. ``plotly_src`` is the script URL written into each report; an
    absolute path to a shared ``plotly.min.js`` is linked relative to each report's folder.
    """
    executor_spec(executor)
    for job in jobs:
        check_parameters(job.template, job.parameters)
    hashes = {j.output: job_hash(j) for j in jobs}
    there = {j.output: report_hash(j.output) if Path(j.output).exists() else None for j in jobs}
    todo = [j for j in jobs if force or there[j.output] != hashes[j.output]]
    results = [ReportResult(j, True, skipped=True) for j in jobs if not (force or there[j.output] != hashes[j.output])]
    if not todo:
        return results
    workers = max(1, min(len(todo), workers or os.cpu_count() or 2))  # never more warm kernels than reports
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="reports", unit="report", disable=not progress)
    with report_executor(executor, workers) as pool:
        futures = [pool.submit(_run_one, j, plotly_src, hashes[j.output]) for j in todo]
        for fut in as_completed(futures):
            r = fut.result()
            r.changed = r.ok and there[r.job.output] is not None and there[r.job.output] != hashes[r.job.output]
            results.append(r)
            bar.update(1)
    bar.close()
    order = {j.output: i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order[r.job.output])


def write_index(folder: str | os.PathLike, results: list[ReportResult], store, month, *, lang: str | None = None) -> Path:
    """The month's dashboard (:func:`qa_lib.reports.dashboard.write_dashboard`): ``index.html`` in the center's language
    and ``index_<other>.html``, built from the whole month folder — every report already there, not only this run's —
    with the reports this run could not write listed."""
    from .dashboard import write_dashboard

    failed = [(r.job.title, r.missing or r.error) for r in results if not r.ok]
    return write_dashboard(store, month, folder, failed=failed, lang=lang)[0]


def plain_papermill(job: ReportJob, plotly_src: str = "plotly.min.js") -> float:
    """The baseline: one papermill run (a new kernel) plus the same HTML export; returns seconds."""
    import papermill as pm

    t0 = time.perf_counter()
    tmp = Path(job.output).with_suffix(".ipynb")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(job.template, str(tmp), parameters=job.parameters, kernel_name="python3", progress_bar=False)
    Path(job.output).write_text(render_html(nbformat.read(tmp, as_version=4), job.title, plotly_src), encoding="utf-8")
    tmp.unlink()
    return time.perf_counter() - t0


KINDS = ("agents", "teams", "voc", "training", "autoqa")


def _team_stem(team: str) -> str:
    """A team's file name stem; a team called ``all`` never takes the center-wide page's name."""
    from .dashboard import team_stem

    return team_stem(team)


def _guarded(build, group, kinds, out: Path, unprepared: list, *, isolate: bool) -> list[ReportJob]:
    """One kind's jobs; when several kinds are asked for (``isolate``), a kind that cannot be prepared is recorded in
    ``unprepared`` (missing inputs: what to import; anything else: a failure) and the others go on."""
    if not isolate:
        return build()
    try:
        return build()
    except ParameterError:
        raise  # bad input: nothing runs
    except Exception as exc:  # noqa: BLE001  recorded in the results and on the index page
        from ..config import redact
        from ..errors import NotFoundError

        job = ReportJob("", {}, str(out / group[0]), " and ".join(k for k in group if k in kinds))
        if isinstance(exc, NotFoundError):
            unprepared.append(ReportResult(job, False, missing=redact(str(exc))))
        else:
            unprepared.append(ReportResult(job, False, error=redact(f"{type(exc).__name__}: {exc}")))
        return []


def _files_fingerprint(folder: Path) -> str:
    """A hash of every file's name and bytes in ``folder`` (the prepared tables a page reads)."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _store_fingerprint(store, tables_months: list, extra: tuple = ()) -> str:
    """A fingerprint of the store's rows a kind's tables are prepared from: ``(table, month)`` pairs, every table of
    ``extra`` whole."""
    import pandas as pd

    parts = []
    for table, month in tables_months:
        if table == "evaluations":
            parts.append(store.evaluations_state(month))
        else:
            df = store.read_month(table, month)
            parts.append(data_fingerprint(df))
    for table in extra:
        parts.append(data_fingerprint(store.read(table)))
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest() + f":{pd.__version__}"


def _prepare_when_changed(marker: Path, fingerprint: str, ready: bool, force: bool, prepare) -> None:
    """Prepare a kind's tables when asked (``force``), missing (not ``ready``), or prepared from other store rows than
    now (``marker`` holds the fingerprint they were prepared from)."""
    if force or not ready or not marker.exists() or marker.read_text(encoding="utf-8") != fingerprint:
        prepare()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(fingerprint, encoding="utf-8")


def _voc_jobs(store, p, out: Path, lang: str, history: int, force: bool) -> list[ReportJob]:
    from ..config import notebooks_dir
    from ..voc import prepare_voc, voc_prepared

    state = _store_fingerprint(store, [("voc_feedback", p - i) for i in range(history)], ("agents",))
    _prepare_when_changed(out / "_data" / "voc_inputs.txt", state, voc_prepared(out, p, history), force,
                          lambda: prepare_voc(store, p, out, history=history))
    inputs = _files_fingerprint(out / "_data" / "voc")
    return [ReportJob(str(notebooks_dir() / "voc_monthly.ipynb"), {"month": str(p), "months_of_history": history, "lang": lang, "db_url": store.url,
                                                                   "data_dir": str(out)}, str(out / f"voc_{lang}.html"), f"VOC {p} ({lang})", inputs)]


def _autoqa_jobs(store, p, out: Path, lang: str, force: bool) -> list[ReportJob]:
    """The auto-QA page of the month (``autoqa_<lang>.html``), its tables prepared again when the automatic answers, the
    gate's decisions or the evaluations changed."""
    from ..autoqa.pipeline import autoqa_prepared, prepare_autoqa
    from ..config import models_dir, notebooks_dir
    from ..errors import NotFoundError

    if not store.has_auto_answers(p):
        raise NotFoundError(f"no automatic answers for {p}: run `qa autoqa run --month {p}` (and `qa autoqa validate`)")
    state = f"{store.auto_answers_state(p)}|{store.evaluations_state(p)}|{_files_fingerprint(models_dir())}"
    _prepare_when_changed(out / "_data" / "autoqa_inputs.txt", state, autoqa_prepared(out, p), force,
                          lambda: prepare_autoqa(store, p, out, models=models_dir()))
    inputs = _files_fingerprint(out / "_data" / "autoqa")
    return [ReportJob(str(notebooks_dir() / "autoqa.ipynb"), {"month": str(p), "db_url": store.url, "data_dir": str(out), "lang": lang},
                      str(out / f"autoqa_{lang}.html"), f"Auto-QA {p} ({lang})", inputs)]


def _training_jobs(store, p, out: Path, lang: str, months: int, force: bool, teams: list, *, center: bool) -> list[ReportJob]:
    """The center's page (``center``) and one per team of ``teams``; a team called ``all`` gets its own file name."""
    from ..config import notebooks_dir
    from ..training import prepare_training, training_prepared

    if store.read("scorecards", columns=["scorecard_id"]).empty:  # a center keeping only its contact log
        from ..errors import NotFoundError

        raise NotFoundError("no scorecards and no evaluations: training needs come from scored evaluations")
    state = _store_fingerprint(store, [("evaluations", p - i) for i in range(2 * months)], ("agents", "coaching_actions"))
    _prepare_when_changed(out / "_data" / "training_inputs.txt", state, training_prepared(out, p, months), force,
                          lambda: prepare_training(store, p, out, months=months))
    inputs = _files_fingerprint(out / "_data" / "training")
    pages = ([("all", "all")] if center else []) + [(t, _team_stem(t)) for t in teams]
    return [ReportJob(str(notebooks_dir() / "training_needs.ipynb"), {"month": str(p), "months": months, "team": t, "lang": lang,
                                                                      "db_url": store.url, "data_dir": str(out)},
                      str(out / "training" / f"{stem}_{lang}.html"), f"Training needs {p} {t} ({lang})", inputs) for t, stem in pages]


@functools.lru_cache(maxsize=16)
def _declared(template: str, mtime_ns: int) -> frozenset:
    import papermill as pm

    return frozenset(pm.inspect_notebook(template))


def _with_lang(template: str, params: dict, lang: str) -> dict:
    """``params`` with ``lang`` when the notebook declares a ``lang`` parameter."""
    return dict(params, lang=lang) if "lang" in _declared(template, Path(template).stat().st_mtime_ns) else params


def _agent_team_jobs(store, p, out: Path, kinds, team: str | None, force: bool = False, lang: str = "zh", agent: str | None = None) -> list[ReportJob]:
    """Agent and team pages of the month's roster (``agents/<id>_<lang>.html``, ``teams/<team>_<lang>.html``); the month's
    tables prepared again when the evaluations changed, or always with ``force`` (new contacts or VOC feedback do not
    change the evaluations' fingerprint). Each job's ``inputs`` is the fingerprint of its view of those tables (and of
    the agent's coaching actions), so a page is rebuilt exactly when what it shows changed; ``agent``: that agent's
    page only."""
    import pandas as pd

    from ..config import notebooks_dir
    from ..files import file_stem
    from .tables import agent_view, ensure_month, prepare_month, team_view

    nbdir = notebooks_dir()
    data = prepare_month(store, p, out / "_data") if force else ensure_month(store, p, out / "_data")
    agents = pd.read_parquet(data / "roster.parquet")[["agent_id", "team"]]  # scored on a scorecard or handling contacts this month
    agents = agents[agents["team"].notna()]
    if agents.empty:
        from ..errors import NotFoundError

        raise NotFoundError(f"no agent of a team handled a contact or was scored in {p}: no agent or team page")
    names = store.read("agents").set_index("agent_id")["name"]
    if agent is not None:
        if agent not in set(agents["agent_id"]):
            raise ParameterError(f"agent must be one of the {len(agents)} agents with contacts or evaluations in {p} "
                                 f"({', '.join(sorted(agents['agent_id'])[:8])}…); got {agent!r}")
        agents = agents[agents["agent_id"] == agent]
    if team is not None:
        if team not in set(agents["team"]):
            raise ParameterError(f"team must be one of {sorted(set(agents['team']))}; got {team!r}")
        agents = agents[agents["team"] == team]
    base = {"month": str(p), "db_url": store.url, "data_dir": str(data)}
    coaching = store.read("coaching_actions")
    jobs = []
    if "agents" in kinds:
        nb = str(nbdir / "agent_qa_report.ipynb")
        jobs += [ReportJob(nb, _with_lang(nb, dict(base, agent_id=a), lang), str(out / "agents" / f"{file_stem(a)}_{lang}.html"),
                           f"{a} {names.get(a, '')}", data_fingerprint([agent_view(data, a), coaching[coaching["agent_id"] == a]]))
                 for a in sorted(agents["agent_id"])]
    if "teams" in kinds:
        nb = str(nbdir / "team_overview.ipynb")
        jobs += [ReportJob(nb, _with_lang(nb, dict(base, team=t), lang), str(out / "teams" / f"{_team_stem(t)}_{lang}.html"), f"Team {t}",
                           data_fingerprint(team_view(data, t)))
                 for t in sorted(agents["team"].unique())]
    return jobs


def month_reports(store, month, *, kinds=("agents", "teams"), team: str | None = None, folder: str | os.PathLike | None = None,
                  workers: int | None = None, force: bool = False, progress: bool = True, lang: str = "zh",
                  history: int = 6, training_months: int = 3, executor: str | None = None, agent: str | None = None) -> tuple[Path, list[ReportResult]]:
    """A month's reports — per agent, per team, the VOC report and the training-needs reports (``kinds``) — plus the
    month's dashboard ``index.html`` (:mod:`qa_lib.reports.dashboard`, from the whole folder); returns (folder, results).

    ``lang`` is the language of every page (``agents/<id>_<lang>.html``, ``teams/<team>_<lang>.html``,
    ``voc_<lang>.html``, ``training/<team>_<lang>.html``); ``history`` the months of verbatims
    behind the VOC trends and baselines; ``training_months`` the period of the training-needs
    analysis (the month included). Training writes ``training/all_<lang>.html`` and one per team (or only
    ``team``'s), with ``training_plan_<month>.xlsx``. ``agent``: only that agent's page (kind ``agents``).
    A report whose content hash (:func:`job_hash`) did not change is skipped unless ``force``.
    """
    import pandas as pd

    from ..config import reports_dir
    from ..fmt import check_lang

    executor_spec(executor)  # a bad executor setting fails before any work
    check_lang(lang)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise ParameterError(f"kinds must be a non-empty selection of {list(KINDS)}; got {list(kinds)}")
    if agent is not None and set(kinds) != {"agents"}:
        raise ParameterError(f"agent is for the agents kind only; got kinds {list(kinds)}")
    from ..summary import parse_month

    p = month if isinstance(month, pd.Period) else parse_month(month)  # a bad month is a ParameterError, before any work
    out = Path(folder) if folder else reports_dir() / str(p)
    install_plotly_js(out)
    if "autoqa" in kinds and len(kinds) > 1 and not store.has_auto_answers(p):
        kinds = tuple(k for k in kinds if k != "autoqa")  # `all` in a center without auto-QA: no page, nothing "not written"
    groups = [g for g in (("voc",), ("training",), ("autoqa",), ("agents", "teams")) if set(g) & set(kinds)]
    unprepared: list[ReportResult] = []
    # bad input fails here, before any work: the language, the team
    if "voc" in kinds:
        from ..voc import texts

        texts(lang)
    if "training" in kinds:
        from ..training import texts as training_texts

        training_texts(lang)
        teams = sorted(store.read("agents")["team"].dropna().unique())
        if team is not None and team not in teams:
            raise ParameterError(f"team must be one of {teams}; got {team!r}")
    builders = {
        "voc": lambda: _voc_jobs(store, p, out, lang, history, force),
        "training": lambda: _training_jobs(store, p, out, lang, training_months, force, [team] if team is not None else teams, center=team is None),
        "autoqa": lambda: _autoqa_jobs(store, p, out, lang, force),
        "agents": lambda: _agent_team_jobs(store, p, out, kinds, team, force, lang, agent),
    }
    jobs = []
    for group in groups:
        jobs += _guarded(builders[group[0]], group, kinds, out, unprepared, isolate=len(groups) > 1)
    results = run_reports(jobs, workers=workers, force=force, progress=progress, plotly_src=str(out / "plotly.min.js"), executor=executor) if jobs else []
    results += unprepared
    write_index(out, results, store, p)
    return out, results
