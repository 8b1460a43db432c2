"""The report runner: the one module that runs notebooks.

Notebook templates are parameterized with papermill (its parameter injection, after the
parameters are checked here) and executed by nbclient in **warm kernels**: each worker
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
import os
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..errors import ConfigError, ParameterError

__all__ = ["ReportJob", "ReportResult", "run_reports", "report_executor", "executor_spec", "render_html", "check_parameters", "write_index", "install_plotly_js", "plain_papermill",
           "month_reports"]

_SAFE = re.compile(r"^[A-Za-z0-9_.:/\- ]{0,200}$")
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


def check_parameters(template: str | os.PathLike, parameters: dict) -> dict:
    """Reject unknown parameters and unsafe values before papermill injects them as code."""
    import papermill as pm

    declared = pm.inspect_notebook(str(template))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ParameterError(f"parameters must be among {sorted(declared)} for {Path(template).name}; unknown {unknown}")
    for name, value in parameters.items():
        if isinstance(value, bool) or isinstance(value, (int, float)):
            continue
        if not isinstance(value, str) or not _SAFE.match(value):
            raise ParameterError(f"parameter {name} must be plain text (letters, digits, - _ . : / and spaces); got {value!r}")
    return parameters


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
    from papermill.parameterize import parameterize_notebook

    t0 = time.perf_counter()
    try:
        if _KM is None or not _KM.is_alive():
            _warm_kernel()
        from papermill.iorw import load_notebook_node

        nb = parameterize_notebook(load_notebook_node(job.template), job.parameters)  # papermill's loader adds the tag lists it expects
        reset = nbformat.v4.new_code_cell("%reset -f")
        reset.metadata["tags"] = ["remove-cell"]
        nb.cells.insert(0, reset)  # a fresh namespace: nothing of the previous report survives
        _execute(nb)
        out = Path(job.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        if os.path.isabs(plotly_src):  # one shared copy: each report links it relative to its own folder
            plotly_src = Path(os.path.relpath(plotly_src, out.parent)).as_posix()
        tmp.write_text(render_html(nb, job.title, plotly_src), encoding="utf-8")
        os.replace(tmp, out)  # a report is either complete or absent, never half-written
        return ReportResult(job, True, time.perf_counter() - t0)
    except Exception as exc:  # isolated: recorded, reported at the end, the others go on
        msg = _ANSI.sub("", str(exc)).strip().splitlines()
        return ReportResult(job, False, time.perf_counter() - t0, error=(msg[-1] if msg else type(exc).__name__)[:500])


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
    failed = "".join(f"<li>{html_lib.escape(r.job.title)}: {html_lib.escape(r.error)}</li>" for r in bad)
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html_lib.escape(title)}</title></head><body>'
            f"<h1>{html_lib.escape(title)}</h1><ul>{items}</ul>" + (f"<h2>Failed</h2><ul>{failed}</ul>" if bad else "") + "</body></html>")
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

    from ..config import notebooks_dir, reports_dir
    from .tables import ensure_month

    executor_spec(executor)  # a bad executor setting fails before any work
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise ParameterError(f"kinds must be a non-empty selection of {list(KINDS)}; got {list(kinds)}")
    from ..summary import parse_month

    p = month if isinstance(month, pd.Period) else parse_month(month)  # a bad month is a ParameterError, before any work
    out = Path(folder) if folder else reports_dir() / str(p)
    install_plotly_js(out)
    nbdir = notebooks_dir()
    jobs = []
    if "voc" in kinds:
        from ..voc import prepare_voc, texts, voc_prepared

        texts(lang)  # a bad language fails here, before any work
        if force or not voc_prepared(out, p, history):
            prepare_voc(store, p, out, history=history)
        jobs.append(ReportJob(str(nbdir / "voc_monthly.ipynb"), {"month": str(p), "months_of_history": history, "lang": lang, "db_url": store.url,
                                                                 "data_dir": str(out)}, str(out / f"voc_{lang}.html"), f"VOC {p} ({lang})"))
    if "training" in kinds:
        from ..training import prepare_training, training_prepared
        from ..training import texts as training_texts

        training_texts(lang)
        if force or not training_prepared(out, p, training_months):
            prepare_training(store, p, out, months=training_months)
        teams = sorted(store.read("agents")["team"].dropna().unique())
        if team is not None and team not in teams:
            raise ParameterError(f"team must be one of {teams}; got {team!r}")
        for t in ([team] if team is not None else ["all"] + teams):
            jobs.append(ReportJob(str(nbdir / "training_needs.ipynb"), {"month": str(p), "months": training_months, "team": t, "lang": lang,
                                                                        "db_url": store.url, "data_dir": str(out)},
                                  str(out / "training" / f"{t}_{lang}.html"), f"Training needs {p} {t} ({lang})"))
    if "agents" in kinds or "teams" in kinds:
        data = ensure_month(store, p, out / "_data")
        agents = pd.read_parquet(data / "scores.parquet")[["agent_id", "team"]]
        names = store.read("agents").set_index("agent_id")["name"]
        if team is not None:
            if team not in set(agents["team"]):
                raise ParameterError(f"team must be one of {sorted(set(agents['team']))}; got {team!r}")
            agents = agents[agents["team"] == team]
        base = {"month": str(p), "db_url": store.url, "data_dir": str(data)}
        if "agents" in kinds:
            jobs += [ReportJob(str(nbdir / "agent_qa_report.ipynb"), dict(base, agent_id=a), str(out / "agents" / f"{a}.html"), f"{a} {names.get(a, '')}")
                     for a in sorted(agents["agent_id"])]
        if "teams" in kinds:
            jobs += [ReportJob(str(nbdir / "team_overview.ipynb"), dict(base, team=t), str(out / "teams" / f"{t}.html"), f"Team {t}")
                     for t in sorted(agents["team"].unique())]
    results = run_reports(jobs, workers=workers, force=force, progress=progress, plotly_src=str(out / "plotly.min.js"), executor=executor)
    write_index(out, results, f"QA reports {p}")
    return out, results
