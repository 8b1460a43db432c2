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
the reports. A failing report is recorded and never stops the others; finished reports
are skipped unless ``force``.
"""

from __future__ import annotations

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
           "month_reports", "load_job", "inject_parameters"]

_MAX_TEXT = 10_000  # a parameter is an id, a month, a path or a URL: anything longer is a mistake
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.I)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^\"']*[\"'][^>]*>", re.I)


@dataclass(frozen=True)
class ReportJob:
    """One report: a notebook template, its parameters, and the HTML file to write."""

    template: str
    parameters: dict
    output: str
    title: str = ""


@dataclass
class ReportResult:
    job: ReportJob
    ok: bool
    seconds: float = 0.0
    skipped: bool = False
    error: str = ""
    missing: str = ""  # a kind not prepared because its inputs are missing: what to import (not a failure)


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


def render_html(nb, title: str = "", plotly_src: str = "plotly.min.js") -> str:
    """Executed notebook → HTML: no code, no prompts, no setup cells, no external scripts, shared plotly.js."""
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
    head = f'<meta charset="utf-8"><script src="{html_lib.escape(plotly_src)}"></script>'
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


def _run_one(job: ReportJob, plotly_src: str) -> ReportResult:
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
        tmp.write_text(render_html(nb, job.title, plotly_src), encoding="utf-8")
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

    Reports whose HTML already exists are skipped unless ``force``: a run that was stopped midway
    finishes the rest when run again (each report is written to a temporary file and renamed, so a
    report is complete or absent, never half-written). A failure in one report is recorded in its
    result and the others continue. ``plotly_src`` is the script URL written into each report; an
    absolute path to a shared ``plotly.min.js`` is linked relative to each report's folder.
    """
    executor_spec(executor)
    for job in jobs:
        check_parameters(job.template, job.parameters)
    todo = [j for j in jobs if force or not Path(j.output).exists()]
    results = [ReportResult(j, True, skipped=True) for j in jobs if not (force or not Path(j.output).exists())]
    if not todo:
        return results
    workers = max(1, min(len(todo), workers or os.cpu_count() or 2))  # never more warm kernels than reports
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="reports", unit="report", disable=not progress)
    with report_executor(executor, workers) as pool:
        futures = [pool.submit(_run_one, j, plotly_src) for j in todo]
        for fut in as_completed(futures):
            results.append(fut.result())
            bar.update(1)
    bar.close()
    order = {j.output: i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order[r.job.output])


def write_index(folder: str | os.PathLike, results: list[ReportResult], title: str) -> Path:
    """``index.html`` linking every report of the month — this run's and those already in the folder — and listing the failed ones."""
    folder = Path(folder)
    ok = [r for r in results if r.ok]
    bad = [r for r in results if not r.ok]
    links = [(os.path.relpath(r.job.output, folder), r.job.title or Path(r.job.output).stem) for r in ok]
    seen = {Path(r.job.output).resolve() for r in results}
    top = (folder / "index.html").resolve()
    earlier = sorted(p for p in [*folder.glob("*.html"), *folder.glob("*/*.html")] if p.resolve() != top and p.resolve() not in seen)
    # a folder's own index page (the case library's cases/index.html) is named by its folder
    links += [(os.path.relpath(p, folder), p.parent.name if p.name == "index.html" else p.stem) for p in earlier]
    items = "".join(f'<li><a href="{html_lib.escape(Path(href).as_posix())}">{html_lib.escape(title)}</a></li>' for href, title in sorted(links))
    failed = "".join(f"<li>{html_lib.escape(r.job.title)}: {html_lib.escape(r.missing or r.error)}</li>" for r in bad)
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html_lib.escape(title)}</title></head><body>'
            f"<h1>{html_lib.escape(title)}</h1><ul>{items}</ul>" + (f"<h2>Not written</h2><ul>{failed}</ul>" if bad else "") + "</body></html>")
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


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


KINDS = ("agents", "teams", "voc", "training")


def _team_stem(team: str) -> str:
    """A team's file name stem; a team called ``all`` never takes the center-wide page's name."""
    from ..files import file_stem

    stem = file_stem(team)
    return stem if stem.lower() != "all" else file_stem(f"team {team}")


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


def _voc_jobs(store, p, out: Path, lang: str, history: int, force: bool) -> list[ReportJob]:
    from ..config import notebooks_dir
    from ..voc import prepare_voc, voc_prepared

    if force or not voc_prepared(out, p, history):
        prepare_voc(store, p, out, history=history)
    return [ReportJob(str(notebooks_dir() / "voc_monthly.ipynb"), {"month": str(p), "months_of_history": history, "lang": lang, "db_url": store.url,
                                                                   "data_dir": str(out)}, str(out / f"voc_{lang}.html"), f"VOC {p} ({lang})")]


def _training_jobs(store, p, out: Path, lang: str, months: int, force: bool, teams: list, *, center: bool) -> list[ReportJob]:
    """The center's page (``center``) and one per team of ``teams``; a team called ``all`` gets its own file name."""
    from ..config import notebooks_dir
    from ..training import prepare_training, training_prepared

    if store.read("scorecards", columns=["scorecard_id"]).empty:  # a center keeping only its contact log
        from ..errors import NotFoundError

        raise NotFoundError("no scorecards and no evaluations: training needs come from scored evaluations")
    if force or not training_prepared(out, p, months):
        prepare_training(store, p, out, months=months)
    pages = ([("all", "all")] if center else []) + [(t, _team_stem(t)) for t in teams]
    return [ReportJob(str(notebooks_dir() / "training_needs.ipynb"), {"month": str(p), "months": months, "team": t, "lang": lang,
                                                                      "db_url": store.url, "data_dir": str(out)},
                      str(out / "training" / f"{stem}_{lang}.html"), f"Training needs {p} {t} ({lang})") for t, stem in pages]


def _agent_team_jobs(store, p, out: Path, kinds, team: str | None, force: bool = False) -> list[ReportJob]:
    """Agent and team pages of the month's roster; the month's tables prepared again when the evaluations changed, or
    always with ``force`` (new contacts or VOC feedback do not change the evaluations' fingerprint)."""
    import pandas as pd

    from ..config import notebooks_dir
    from ..files import file_stem
    from .tables import ensure_month, prepare_month

    nbdir = notebooks_dir()
    data = prepare_month(store, p, out / "_data") if force else ensure_month(store, p, out / "_data")
    agents = pd.read_parquet(data / "roster.parquet")[["agent_id", "team"]]  # scored on a scorecard or handling contacts this month
    agents = agents[agents["team"].notna()]
    if agents.empty:
        from ..errors import NotFoundError

        raise NotFoundError(f"no agent of a team handled a contact or was scored in {p}: no agent or team page")
    names = store.read("agents").set_index("agent_id")["name"]
    if team is not None:
        if team not in set(agents["team"]):
            raise ParameterError(f"team must be one of {sorted(set(agents['team']))}; got {team!r}")
        agents = agents[agents["team"] == team]
    base = {"month": str(p), "db_url": store.url, "data_dir": str(data)}
    jobs = []
    if "agents" in kinds:
        jobs += [ReportJob(str(nbdir / "agent_qa_report.ipynb"), dict(base, agent_id=a), str(out / "agents" / f"{file_stem(a)}.html"), f"{a} {names.get(a, '')}")
                 for a in sorted(agents["agent_id"])]
    if "teams" in kinds:
        jobs += [ReportJob(str(nbdir / "team_overview.ipynb"), dict(base, team=t), str(out / "teams" / f"{file_stem(t)}.html"), f"Team {t}")
                 for t in sorted(agents["team"].unique())]
    return jobs


def month_reports(store, month, *, kinds=("agents", "teams"), team: str | None = None, folder: str | os.PathLike | None = None,
                  workers: int | None = None, force: bool = False, progress: bool = True, lang: str = "zh",
                  history: int = 6, training_months: int = 3, executor: str | None = None) -> tuple[Path, list[ReportResult]]:
    """A month's reports — per agent, per team, the VOC report and the training-needs reports (``kinds``) — plus
    ``index.html``; returns (folder, results).

    ``lang`` is the language of the VOC and training reports; ``history`` the months of verbatims
    behind the VOC trends and baselines; ``training_months`` the period of the training-needs
    analysis (the month included). Training writes ``training/all.html`` and one per team (or only
    ``team``'s), with ``training_plan_<month>.xlsx``.
    """
    import pandas as pd

    from ..config import reports_dir

    executor_spec(executor)  # a bad executor setting fails before any work
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise ParameterError(f"kinds must be a non-empty selection of {list(KINDS)}; got {list(kinds)}")
    from ..summary import parse_month

    p = month if isinstance(month, pd.Period) else parse_month(month)  # a bad month is a ParameterError, before any work
    out = Path(folder) if folder else reports_dir() / str(p)
    install_plotly_js(out)
    groups = [g for g in (("voc",), ("training",), ("agents", "teams")) if set(g) & set(kinds)]
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
        "agents": lambda: _agent_team_jobs(store, p, out, kinds, team, force),
    }
    jobs = []
    for group in groups:
        jobs += _guarded(builders[group[0]], group, kinds, out, unprepared, isolate=len(groups) > 1)
    results = run_reports(jobs, workers=workers, force=force, progress=progress, plotly_src=str(out / "plotly.min.js"), executor=executor) if jobs else []
    results += unprepared
    write_index(out, results, f"QA reports {p}")
    return out, results
