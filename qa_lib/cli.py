"""The ``qa`` command line: ``qa --help`` lists the commands.

Every error a user can cause is a :class:`~qa_lib.errors.QAError`; the CLI prints its
message (no traceback) and exits with status 2 (bad input) or 1 (other failures).
"""

from __future__ import annotations

import functools
import re
import sys
import time
from pathlib import Path

import click

from . import __version__
from .errors import QAError, StoreError, ValidationError
from .model import IMPORT_KINDS

_DB = click.option("--db", "db", default=None, metavar="URL", help="SQLAlchemy URL or SQLite file (default: $QA_DB_URL, else data/qa.sqlite).")


class _Steps:
    """A tqdm progress bar over named steps, on stderr; silent with --quiet."""

    def __init__(self, steps: list[str], desc: str, quiet: bool = False):
        from tqdm import tqdm

        self.bar = tqdm(total=len(steps), desc=desc, unit="step", disable=quiet, file=sys.stderr, leave=True)
        self.started = False

    def __call__(self, name: str) -> None:
        if self.started:
            self.bar.update(1)
        self.started = True
        self.bar.set_postfix_str(name)

    def close(self) -> None:
        if self.started:
            self.bar.update(1)
        self.bar.close()


@functools.lru_cache(maxsize=1)
def _unprintable():
    """What must not reach a terminal raw: the characters imports remove from free text (:data:`qa_lib.ingest.UNSAFE_TEXT_CHARS`:
    controls but tab and newline — ESC starts the sequences that clear a screen —, bidi and zero-width characters …)
    and the carriage return, which redraws a line."""
    from .ingest import UNSAFE_TEXT_CHARS

    return re.compile(f"\r|{UNSAFE_TEXT_CHARS.pattern}")


def _printable(text: str) -> str:
    r"""``text`` safe for a terminal: every control, bidi or zero-width character shown as a visible ``<U+001B>``.

    >>> _printable("total 98\x1b[2J\u202e\r")
    'total 98<U+001B>[2J<U+202E><U+000D>'
    """
    return _unprintable().sub(lambda m: "".join(f"<U+{ord(c):04X}>" for c in m.group()), text)


class _TerminalSafe:
    """stdout for the duration of a command: what a command prints passes through :func:`_printable`
    (customer and inspector text can hold escape sequences; nothing a command prints may drive the terminal)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(_printable(text) if isinstance(text, str) else text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _fail(exc: QAError) -> None:
    from .config import redact

    click.echo(f"qa: error: {_printable(redact(str(exc)))}", err=True)
    sys.exit(2 if isinstance(exc, (ValidationError, ValueError)) else 1)


class _Group(click.Group):
    def invoke(self, ctx):
        from .config import use_center_folder

        stdout = sys.stdout
        sys.stdout = _TerminalSafe(stdout)
        try:
            use_center_folder()  # run inside a center's folder (one holding center.yaml): that center, as git finds its repository
            return super().invoke(ctx)
        except QAError as exc:
            _fail(exc)
        except Exception as exc:  # a SQLite lock held past the busy timeout: say so, without a trace
            from .store import busy_error

            busy = busy_error(exc)
            if busy is not None:
                _fail(busy)
            raise
        finally:
            sys.stdout = stdout


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qa")
def main() -> None:
    """QA and coaching suite for customer-service centers.

    \b
    A new center: `qa new FOLDER`, then run the commands inside FOLDER (or set QA_HOME=FOLDER).
    Inspectors: `qa import`, sampling and scoring (more commands as they are added).
    Everyone: `qa demo` builds the sample center and writes the month's reports into reports/.
    """


@main.command("new")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="The center's name (default: the folder's name).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the center's pages.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True, help="Local time zone of the contacts (IANA name).")
def new(folder, name, lang, timezone):
    """Create a center's project FOLDER: center.yaml (its settings: scorecards, targets, the fields it records...),
    a starter VOC taxonomy, and data/, reports/, mappings/. Every command run inside FOLDER uses that center."""
    from .config import new_center

    written = new_center(folder, name=name, lang=lang, timezone=timezone)
    click.echo(f"Created the center {folder}:")
    for path in written:
        click.echo(f"  {path}")
    click.echo("Next, inside that folder:\n"
               "  0. qa init                   (the database: data/qa.sqlite, or QA_DB_URL / --db for PostgreSQL)\n"
               "  1. edit center.yaml: targets, the fields your call log has, the headline scorecard\n"
               "  2. qa scorecard add YOUR_CARD.yaml       (or .xlsx; `qa scorecard check` first)\n"
               "  3. qa import agents AGENTS.csv --map mappings/agents.yaml   (`--suggest-map` drafts a mapping)\n"
               "  4. qa import contacts CALLS.csv --map mappings/contacts.yaml\n"
               "  5. qa report all")


def _load(store, folder: Path, quiet: bool) -> list:
    from .model import SAMPLE_FILES
    from .store import load_samples

    steps = _Steps(["scorecards"] + [k for k, _ in SAMPLE_FILES], "loading samples", quiet)
    try:
        return load_samples(store, folder, progress=steps)
    finally:
        steps.close()


@main.command()
@_DB
@click.option("--samples", "samples", type=click.Path(path_type=Path), default=None, help="Samples folder to load (default: data/samples).")
@click.option("--no-samples", is_flag=True, help="Only create or upgrade the schema.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def init(db, samples, no_samples, quiet):
    """Create (or upgrade) the database schema and load the sample data (in a center made by `qa new`, which has no
    sample data, only the schema)."""
    from .config import samples_dir
    from .store import Store, mark_built_from_samples

    store = Store(db)
    rev = store.migrate()
    click.echo(f"schema at revision {rev} in {store!r}")
    if not no_samples and (samples is not None or samples_dir().is_dir()):
        empty = not any(store.counts().values())
        for r in _load(store, samples or samples_dir(), quiet):
            click.echo(str(r))
        if empty and samples is None:
            mark_built_from_samples(store)  # `qa demo` may rebuild it until someone's work is stored in it


@main.command("import")
@click.argument("kind", type=click.Choice(sorted(IMPORT_KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DB
@click.option("--encoding", default=None, help="CSV encoding (default: detect UTF-8, UTF-8 with BOM, GBK/GB18030).")
@click.option("--map", "map_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Mapping YAML that turns the center's own columns into ours (docs/import.md).")
@click.option("--suggest-map", is_flag=True, help="Store nothing: propose a mapping from FILE's header and values.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="With --suggest-map: write the mapping here (default: print it).")
def import_(kind, file, db, encoding, map_file, suggest_map, out):
    """Import a CSV / Excel / Parquet FILE of KIND (all rows or none).

    A file with problems is rejected as a whole, each problem listed as file:row:column: message,
    and nothing is stored. Importing the same file again stores nothing new. A center's own file
    (its own headers, 是/否, 00:02:23 ...) imports with --map mapping.yaml; --suggest-map proposes one.
    """
    if suggest_map or out:
        return _suggest_map(kind, file, encoding, map_file, suggest_map, out)
    from .store import Store

    store = Store(db)
    store.check_ready()
    if map_file is None:
        click.echo(str(store.import_file(kind, file, encoding=encoding)))
        return
    import hashlib

    from .config import settings
    from .ingest import read_table
    from .mapping import apply_mapping, load_mapping

    mapping = load_mapping(map_file, kind=kind)
    raw = read_table(file, encoding=encoding, limits=settings())
    frame = apply_mapping(raw, mapping, kind=kind, source=file.name)
    left = [f"{n:,} by drop rule {i + 1} ({rule})" for i, (rule, n) in enumerate(frame.attrs["dropped"].items())]
    if frame.attrs["duplicates_removed"]:
        left.append(f"{frame.attrs['duplicates_removed']:,} repeated rows (distinct: true)")
    click.echo(f"{file.name}: {len(raw):,} rows read through {map_file.name}, {len(frame):,} to import" + (f"; left out: {'; '.join(left)}" if left else ""))
    digest = hashlib.sha256(file.read_bytes() + b"\0" + map_file.read_bytes()).hexdigest()
    click.echo(str(store.import_frame(kind, frame, source=file.name, sha256=digest)))


def _suggest_map(kind: str, file: Path, encoding, map_file, suggest_map: bool, out) -> None:
    """`qa import KIND FILE --suggest-map [--out mapping.yaml]`: propose a mapping; nothing is stored."""
    from .config import settings
    from .errors import ParameterError
    from .files import atomic_path
    from .ingest import read_table
    from .mapping import suggest_mapping

    if not suggest_map or map_file is not None:
        raise ParameterError("--out goes with --suggest-map, and --suggest-map without --map: "
                             "qa import KIND FILE --suggest-map --out mapping.yaml, then qa import KIND FILE --map mapping.yaml")
    text, lacking = suggest_mapping(read_table(file, encoding=encoding, limits=settings()), kind, source=file.name)
    if out is None:
        click.echo(text, nl=False)
    else:
        with atomic_path(out) as tmp:
            tmp.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}: edit it, then run qa import {kind} {file.name} --map {out.name}")
    if lacking:
        click.echo(f"required fields not found in {file.name}: {', '.join(lacking)} (give a column or a constant value: in the mapping)", err=True)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder to write (default: data/samples).")
@click.option("--seed", type=int, default=None, help="Random seed (default 20261031).")
@click.option("--agents", type=int, default=None, help="Number of agents (default 60).")
@click.option("--teams", type=int, default=None, help="Number of teams (default 3).")
@click.option("--inspectors", type=int, default=None, help="Number of inspectors, ≥ 5 (default 6).")
@click.option("--months", type=int, default=None, help="Months of data (default 6).")
@click.option("--end-month", default=None, help="Last month, e.g. 2026-10 (default).")
@click.option("--second-center", is_flag=True, help="Instead: the exports of another, imaginary center (its own scorecard, Chinese "
              "headers and teams, GB18030 call log, no VOC or coaching) with its mapping files, into --out.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def samples(out, seed, agents, teams, inspectors, months, end_month, second_center, quiet):
    """Generate the sample center (deterministic for a seed) with its planted effects.

    The defaults give the committed data/samples; `--agents 1000 --months 12` makes a large center for benchmarks.
    `--second-center --out FOLDER` writes a different center's raw exports, to try `qa new` and `qa import --map` on.
    """
    from dataclasses import replace

    from .config import samples_dir
    from .samples import SampleSpec, write_samples

    if second_center:
        from .second_center import SECOND_SPEC, write_second_center

        if out is None:
            raise click.UsageError("--second-center needs --out FOLDER")
        given = {"seed": seed, "agents": agents, "teams": teams, "inspectors": inspectors, "months": months, "end_month": end_month}
        for p in write_second_center(out, replace(SECOND_SPEC, **{k: v for k, v in given.items() if v is not None})):
            click.echo(f"{p}  {p.stat().st_size / 1e6:.2f} MB")
        return

    given = {"seed": seed, "agents": agents, "teams": teams, "inspectors": inspectors, "months": months, "end_month": end_month}
    spec = replace(SampleSpec(), **{k: v for k, v in given.items() if v is not None})
    out = out or samples_dir()
    if out.resolve() != samples_dir().resolve():
        import shutil

        out.mkdir(parents=True, exist_ok=True)
        shutil.copytree(samples_dir() / "scorecards", out / "scorecards", dirs_exist_ok=True)
        for name in ("voc_taxonomy.yaml", "voc_domain_words.txt", "training_modules.yaml", "case_cues.txt"):  # files its center.yaml names
            shutil.copy2(samples_dir() / name, out / name)
    steps = _Steps(["agents", "contacts", "evaluations", "transcripts", "voc", "checks"], "generating", quiet)
    t0 = time.perf_counter()
    try:
        paths = write_samples(out, spec, progress=steps)
    finally:
        steps.close()
    for p in paths:
        click.echo(f"{p}  {p.stat().st_size / 1e6:.2f} MB")
    click.echo(f"generated in {time.perf_counter() - t0:.1f} s")


@main.command()
@_DB
def status(db):
    """Show the schema revision and the number of rows in each table."""
    from .store import Store

    store = Store(db)
    store.check_ready()
    click.echo(f"{store!r}: schema {store.revision()}")
    for name, n in store.counts().items():
        click.echo(f"  {name:<22}{n:>10,}")


@main.command()
@click.option("--db", "db", default=None, metavar="URL",
              help="Database to build (default: $QA_DB_URL, else data/qa.sqlite); never one holding work not from the samples.")
@click.option("--month", default=None, help="Month to report, e.g. 2026-10 (default: the latest month in the data).")
@click.option("--screenshots/--no-screenshots", default=True, show_default=True,
              help="Screenshot one report of each kind into reports/<month>/screenshots (when Chromium is installed).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def demo(db, month, screenshots, quiet):
    """The main job: build the database from data/samples and write the month's reports into reports/<month>/.

    It builds the default database (the one every command and notebook uses), and rebuilds it on the
    next run, unless the database holds work not from the samples (evaluations scored or changed,
    imports, plans, coaching actions): then it stops and changes nothing. The exit status is 1 when a
    report failed (the others are still written, and the failure is named).
    """
    from .config import reports_dir, samples_dir
    from .store import Store, clear_database, mark_built_from_samples, work_since_samples
    from .summary import month_summary, parse_month, write_summary

    t0 = time.perf_counter()
    asked = parse_month(month) if month else None  # a bad month is refused before anything is rebuilt
    store = Store(db)
    work = work_since_samples(store)
    if work:
        shown = "\n".join(f"  {line}" for line in work[:12]) + (f"\n  … and {len(work) - 12} more" if len(work) > 12 else "")
        raise StoreError(
            f"{store._safe_url()} holds work that is not from the samples, so `qa demo` will not rebuild it:\n{shown}\n"
            "Nothing was changed. Build the demo into another database (`qa demo --db data/demo.sqlite`, then point "
            "commands at it with --db or QA_DB_URL), or move that database away first.")
    store = clear_database(store)
    store.migrate()
    _load(store, samples_dir(), quiet)
    mark_built_from_samples(store)  # now, so that a run stopped below can still be rebuilt
    p = asked or store.latest_month()
    frames = {t: store.evaluations(p) if t == "evaluations" else store.read_month(t, p) for t in ("contacts", "evaluations", "voc_feedback")}
    s = month_summary(frames["contacts"], frames["evaluations"], frames["voc_feedback"], store.read("agents"))
    out = reports_dir() / str(p)
    written = write_summary(out, str(p), s)
    from .reports.monthly import write_month_tables
    from .sampling import PlanSpec
    from .worklists import plan_period, write_worklists

    written += write_month_tables(store, p, out)
    aq = _demo_autoqa(store, p)
    mark_built_from_samples(store)  # the demo's automatic answers and gate decisions are part of the samples build

    plan_id, plan = plan_period(store, PlanSpec(period=str(p)), created_by="qa demo")
    mark_built_from_samples(store)  # the demo's own plan is part of the samples build, not someone's work
    lists = write_worklists(store, plan_id, out / "worklists")
    written.append(out / "worklists")
    from .cases import build_library
    from .config import settings
    from .digest import default_day, write_digest
    from .reports.runner import month_reports

    library = build_library(store, p, out)  # before the reports, so index.html links it
    written += [library.html, library.xlsx]
    day = default_day(store)
    written += list(write_digest(store, day).paths)  # before the reports too: the dashboard links the digest
    lang = settings().lang
    _, results = month_reports(store, p, kinds=("agents", "teams", "voc", "training", "autoqa"), force=True, progress=not quiet, lang=lang)
    failed = [r for r in results if not r.ok and not r.missing]  # a kind without its inputs (a small center's auto-QA) is skipped, not failed
    written += [out / f"voc_{lang}.html", out / f"voc_topics_{p}.xlsx", out / "agents", out / "teams", out / "training", out / f"training_plan_{p}.xlsx",
                out / "index.html", out / f"index_{'en' if lang == 'zh' else 'zh'}.html"] + [q for q in [out / f"autoqa_{lang}.html"] if q.is_file()]
    click.echo(f"{sum(r.ok for r in results)} HTML reports (agents, teams, VOC, training needs, auto-QA), {len(failed)} failed; "
               f"the month's dashboard: {out / 'index.html'}")
    for r in results:
        if r.missing:
            click.echo(f"  skipped {r.job.title}: {r.missing}")
    click.echo(aq)
    for r in failed:
        click.echo(f"  failed: {r.job.title}: {r.error}", err=True)
    click.echo(f"case library: {len(library.cases)} cases over {library.cases['skill'].nunique()} skills; morning digest for {day}")
    if screenshots:
        written += _demo_screenshots(out)
    click.echo(f"sampling plan {plan_id}: {len(plan.contacts):,} contacts for the inspectors, {len(lists)} worklist files")
    click.echo(f"database: {store!r}")
    for w in written:
        click.echo(f"wrote {w}")
    click.echo(f"{p}: {s['contacts']:,} contacts, {s['evaluations']:,} evaluations, {s['voc']:,} VOC verbatims; done in {time.perf_counter() - t0:.1f} s")
    if failed:
        click.echo(f"{len(failed)} report(s) failed: " + "; ".join(f"{r.job.title}: {r.error}" for r in failed), err=True)
        sys.exit(1)


def _demo_screenshots(out: Path) -> list[Path]:
    """One screenshot per report kind in headless Chromium (when installed); the folder written, if any."""
    from .reports.browser import find_chromium
    from .reports.browser import screenshots as take_screenshots

    if not find_chromium():
        click.echo("screenshots skipped: Chromium is not installed")
        return []
    shots = take_screenshots(out, out / "screenshots")
    click.echo(f"screenshots in headless Chromium: {', '.join(sorted(shots))}")
    return [out / "screenshots"]


def _demo_autoqa(store, p) -> str:
    """The demo's auto-QA: train the learned scorer, answer the last three months' transcripts (rules and scorer), run
    the acceptance gate; one line saying what it found."""
    from .autoqa.pipeline import headline_card, run_month, train, validate
    from .config import models_dir

    try:
        card = headline_card(store)
        bundle, _ = train(store, card, models_dir(), seed=0, folds=3)
        n = sum(run_month(store, card, m, scorer=bundle).contacts for m in (p - 2, p - 1, p))
        gate = validate(store, card, scorer=bundle, n_boot=500)
    except QAError as exc:  # a small generated center may have too few scored transcripts: the rest of the demo goes on
        return f"auto-QA skipped: {exc}"
    acc = gate[gate["accepted"].astype(bool)]
    return (f"auto-QA: {n:,} transcripts answered by {card.id}'s rules and scorer {bundle.version}; "
            f"{acc['item_id'].nunique()} of {gate['item_id'].nunique()} items accepted by the gate (`qa autoqa validate`)")


@main.command()
@click.option("--month", "--period", "period", required=True, help="Month (2026-10) or ISO week (2026-W41) to sample.")
@click.option("--per-agent", type=int, default=8, show_default=True, help="Random-arm evaluations per agent (allocation equal).")
@click.option("--allocation", type=click.Choice(["equal", "proportional", "precision"]), default="equal", show_default=True, help="How the random arm is shared between agents.")
@click.option("--adaptive", "adaptive_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Last month's agent intervals (agent_id, low, high[, target]; e.g. agent_scores.csv): same total as --per-agent, "
                   "fewer calls (--floor) for agents whose interval cleared the target, more for the rest.")
@click.option("--target", type=float, default=None, help="--adaptive: the score target (default: the file's target column, else the center's score_target).")
@click.option("--floor", "min_per_agent", type=int, default=2, show_default=True, help="--adaptive: calls an agent settled last month still gets (proportional: the minimum).")
@click.option("--margin", type=float, default=None, help="allocation=precision: target ± points for an agent's mean score.")
@click.option("--sd", type=float, default=None, help="Per-call score SD (default: measured on the previous 3 months' random arm).")
@click.option("--strata", default="", help="Contact columns to stratify by inside each agent, comma-separated (e.g. queue,channel).")
@click.option("--targeted", "targeted_per_agent", type=int, default=1, show_default=True, help="Targeted-arm contacts per agent (risk rules).")
@click.option("--min-talk", "min_talk_seconds", type=float, default=30, show_default=True, help="Exclude contacts shorter than this (seconds).")
@click.option("--double-share", type=float, default=0.1, show_default=True, help="Share of the random arm scored by a second inspector.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (saved with the plan).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder for the worklists (default: reports/<period>/worklists).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the scoring sheets.")
@_DB
def sample(period, per_agent, allocation, adaptive_file, target, min_per_agent, margin, sd, strata, targeted_per_agent, min_talk_seconds,
           double_share, seed, out, lang, db):
    """Draw and save the period's sampling plan and write each inspector's worklist (.csv and .xlsx).

    The random arm is stratified per agent and spread evenly over the period; the targeted arm
    (new hires, complaints, diamond customers, long holds, repeat callers) is kept apart and
    never feeds headline numbers. Prints what precision (and reliability, `qa plan`) the plan buys.
    With --adaptive, agents settled last month get --floor calls and the others share the rest.
    """
    from .config import reports_dir
    from .sampling import PlanSpec, precision_table
    from .store import Store
    from .worklists import historical_sd, parse_period, plan_period, workload, write_worklists

    store = Store(db)
    store.check_ready()
    p = parse_period(period)
    measured = historical_sd(store, p)
    use_sd = sd if sd is not None else (measured if measured == measured else 15.0)
    settled = _settled_agents(adaptive_file, target, allocation) if adaptive_file is not None else ()
    spec = PlanSpec(period=period, seed=seed, per_agent=per_agent, min_per_agent=min_per_agent, allocation="adaptive" if adaptive_file else allocation,
                    margin=margin, sd=use_sd if allocation == "precision" else sd, strata=tuple(x for x in strata.split(",") if x),
                    targeted_per_agent=targeted_per_agent, min_talk_seconds=min_talk_seconds, double_share=double_share, settled=settled)
    plan_id, plan = plan_period(store, spec)
    pc = plan.contacts
    click.echo(f"plan {plan_id}: {int((pc['arm'] == 'random').sum()):,} random + {int((pc['arm'] == 'targeted').sum()):,} targeted contacts "
               f"from {int(plan.cells['N'].sum()):,} eligible; excluded {plan.excluded}")
    g = _history_gstudy(store, p)
    agents = precision_table(plan, use_sd, gstudy=g)
    teams = precision_table(plan, use_sd, by="team")
    if adaptive_file is not None:
        n, others = agents["n"], agents.loc[~agents["agent_id"].isin(settled), "n"]
        click.echo(f"adaptive: {len(settled)} agents settled last month get ≤ {min_per_agent} calls; the others {others.min()}–{others.max()} "
                   f"(median {others.median():.0f}), {int(n.sum()):,} in all")
    if g is not None:
        click.echo(f"reliability of an agent's month score (G-study of the previous {g.months} months, `qa plan`): median {agents['reliability'].median():.2f} "
                   f"(n = {agents['n'].median():.0f}); 0.8 needs {g.calls_for(0.8)} calls")
    click.echo(f"per-call score SD {use_sd:.1f} points ({'given' if sd is not None else 'measured on the previous 3 months' if measured == measured else 'assumed: no history'})")
    click.echo(f"per agent: median n = {agents['n'].median():.0f} buys ±{agents['score_margin'].median():.1f} points on the mean score "
               f"and ±{100 * agents['rate_margin'].median():.0f} points on a ~90 % item pass rate (95 %)")
    click.echo(teams.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    click.echo("workload: " + ", ".join(f"{k} {v}" for k, v in workload(pc).items()))
    files = write_worklists(store, plan_id, out or reports_dir() / str(period) / "worklists", lang=lang)
    click.echo(f"wrote {len(files)} worklist files into {files[0].parent}")


def _settled_agents(path: Path, target: float | None, allocation: str) -> tuple[str, ...]:
    """The agents whose interval in ``path`` (agent_id, low, high[, target]) cleared the target: they get the floor."""
    from .config import settings
    from .errors import ParameterError
    from .ingest import read_table
    from .sampling import adaptive_split

    if allocation != "equal":
        raise ParameterError(f"--adaptive replaces --allocation: leave it at equal; got {allocation!r}")
    table = read_table(path, limits=settings())
    if target is None and "target" not in table.columns:
        target = settings().need_score_target()
    split = adaptive_split(table, target)
    return tuple(sorted(split.loc[split["status"] != "open", "agent_id"].astype(str)))


def _history_gstudy(store, before, months: int = 3, scorecard_id: str | None = None):
    """The G-study of the random arm in the ``months`` before ``before`` (None without history or with too little)."""
    from .errors import NotFoundError, ParameterError
    from .sampling import load_random_scores, month_gstudy

    try:
        ev, _, _ = load_random_scores(store, before, months=months, scorecard_id=scorecard_id)
        return month_gstudy(ev)
    except (NotFoundError, ParameterError):
        return None


_PLAN_TEXT = {
    "zh": {"head": "G 研究（概化理论）：{first}–{last} 随机抽样 {n:,} 条评估，评分表 {card}，{agents} 名坐席，每人每月中位 {calls:.0f} 通",
           "comp": "方差分量（分²）", "rel": "每月 {n} 通电话的月均分可靠度 {r:.2f}（去除质检员宽严差异后 {r0:.2f}）",
           "need": "可靠度 0.7 需每人每月 {a} 通，0.8 需 {b} 通", "decide": "距目标 {d:g} 分时，区间以 80% 把握越过目标所需通数：{n}",
           "d": "D 研究：n 通电话买到的可靠度和 95% 误差范围（± 分）", "items": "题目层面（得分 0/0.5/1，题目为固定效应）"},
    "en": {"head": "G-study: {n:,} random-arm evaluations {first}–{last}, scorecard {card}, {agents} agents, median {calls:.0f} calls per agent a month",
           "comp": "variance components (points²)", "rel": "reliability of a month's mean over {n} calls: {r:.2f} ({r0:.2f} without inspector leniency)",
           "need": "calls per agent a month for reliability 0.7: {a}; for 0.8: {b}",
           "decide": "calls for the interval to clear the target with 80 % power, {d:g} points from it: {n}",
           "d": "D-study: what n calls buy (reliability, ± points at 95 %)", "items": "item level (credit 0/0.5/1, items fixed)"},
}


@main.command("plan")
@click.option("--month", "--period", "period", default=None, help="Month to plan; the G-study reads the months before it (default: after the latest data).")
@click.option("--months", type=int, default=3, show_default=True, help="Months of random-arm history the G-study reads.")
@click.option("--scorecard", "scorecard_id", default=None, help="Scorecard (default: the center's headline scorecard).")
@click.option("--per-agent", type=int, default=6, show_default=True, help="Calls per agent a month to report the reliability of.")
@click.option("--distance", "distances", type=float, multiple=True, default=(5.0, 10.0, 15.0), show_default=True,
              help="Points from the target for the calls-to-decide line (repeat the option for several).")
@click.option("--items", is_flag=True, help="Also the item-level G-study (agent × item, call, residual).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the output.")
@_DB
def plan_cmd(period, months, scorecard_id, per_agent, distances, items, lang, db):
    """How many calls: variance components of the random arm (G-study) and the calls per agent a decision needs (D-study).

    The reliability of an agent's month score for n calls, the calls for reliability 0.7 and 0.8, and the calls
    for an interval to clear the target at a given distance. Nothing is written.
    """
    from .sampling import item_gstudy, load_random_scores, month_gstudy
    from .store import Store
    from .worklists import parse_period

    store = Store(db)
    store.check_ready()
    p = parse_period(period) if period else store.latest_month() + 1
    ev, credits, card = load_random_scores(store, p, months=months, scorecard_id=scorecard_id, items=items)
    g = month_gstudy(ev)
    t = _PLAN_TEXT[lang]
    click.echo(t["head"].format(first=ev["month"].min(), last=ev["month"].max(), n=len(ev), card=card, agents=ev["agent_id"].nunique(), calls=g.calls))
    click.echo(t["comp"])
    click.echo(g.components.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    r0 = g.table([per_agent])["reliability_no_inspector"].iloc[0]
    click.echo(t["rel"].format(n=per_agent, r=g.reliability(per_agent), r0=r0))
    click.echo(t["need"].format(a=g.calls_for(0.7), b=g.calls_for(0.8)))
    for d in distances:
        click.echo(t["decide"].format(d=d, n=g.calls_to_decide(d)))
    click.echo(t["d"])
    click.echo(g.table().to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if items:
        click.echo(t["items"])
        click.echo(item_gstudy(credits).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


@main.command()
@click.option("--session", "session_id", default=None, help="Calibration session id (e.g. JZ-2026-10).")
@click.option("--month", default=None, help="Or the sessions held in this month (default: every session, pooled).")
@click.option("--tolerance", type=float, default=5.0, show_default=True, help="Points within which an inspector counts as calibrated.")
@click.option("--boot", "n_boot", type=int, default=500, show_default=True, help="Bootstrap resamples for the intervals.")
@click.option("--min-calls", type=int, default=10, show_default=True, help="Items scored in fewer calls by 2+ inspectors are listed last, not ranked.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language of the readings (default: the center's `lang`).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Write the session's meeting report here: calibration_<session>_<lang>.html and .xlsx (needs --session).")
@_DB
def calibrate(session_id, month, tolerance, n_boot, min_calls, lang, out, db):
    """Calibration meeting tables: reliability per item, inspector bias against the expert, calls to discuss, drift.

    A session that cannot be computed (one inspector, or fewer than 2 calls scored by two inspectors) is named
    with the reason and left out; every other session is computed. A number that does not exist prints as — or
    as a word ("n/a" / "无") and the reading says why. Items are ranked by Gwet's AC1/AC2 with α beside it.
    With --out, writes the meeting report of --session instead (the call × item grid of every inspector's answer
    beside the expert's, the transcripts, item reliability and inspector bias) as HTML and .xlsx.
    """
    from .calibration import drift, leniency_adjustment, session_check, session_report
    from .config import settings
    from .store import Store
    from .summary import parse_month

    store = Store(db)
    store.check_ready()
    ev, items, sessions = store.calibration_data(session_id, parse_month(month) if month else None)
    if ev.empty:
        raise click.ClickException("no calibration evaluation is stored")
    lang = lang or settings().lang
    if out is not None:
        return _calibration_pages(store, session_id, out, lang, tolerance=tolerance, n_boot=n_boot, min_calls=min_calls)
    na = "无" if lang == "zh" else "n/a"
    table = lambda df, fmt: df.assign(**{c: df[c].astype("string").fillna(na) for c in df.columns if str(df[c].dtype) == "Int64"}).to_string(  # noqa: E731
        index=False, float_format=fmt, na_rep=na)  # never "nan" / "<NA>"
    fmt = lambda v: f"{v:.3f}"  # noqa: E731
    expert = sessions["expert_inspector_id"].dropna().iloc[0] if sessions["expert_inspector_id"].notna().any() else None
    left_out = {sid: session_check(part) for sid, part in ev.groupby("calibration_session_id", sort=True)}
    left_out = {sid: why for sid, why in left_out.items() if why}
    for sid, why in left_out.items():
        click.echo(f"{sid}: {why} — left out; score it with a second inspector to include it")
    ev = ev[~ev["calibration_session_id"].isin(list(left_out))]
    if ev.empty:
        click.echo("no session of this selection can be computed")
    else:
        items = items[items["evaluation_id"].isin(ev["evaluation_id"])]
        reference = expert if expert in set(ev["inspector_id"]) else None
        card = store.scorecard(ev["scorecard_id"].iloc[0], int(ev["scorecard_version"].iloc[0]))
        rep = session_report(ev, items, card, expert=reference, tolerance=tolerance, n_boot=n_boot, min_calls=min_calls, lang=lang)
        done = sorted(set(ev["calibration_session_id"]))
        click.echo(f"sessions: {', '.join(done)}; {ev['contact_id'].nunique()} calls, {ev['inspector_id'].nunique()} inspectors; "
                   f"reference: {'expert ' + reference if reference else 'consensus' + (f' (expert {expert} scored none of these calls)' if expert else '')}")
        click.echo("\nOverall agreement (Krippendorff: ≥ 0.800 reliable, 0.667–0.800 tentative, below not reliable)")
        click.echo(table(rep["overall"], fmt))
        click.echo(f"\nPer item, least reliable first by AC1/AC2 (α beside it); under {min_calls} calls: last, not ranked")
        click.echo(table(rep["items"][["rank", "item_id", "calls", "percent_agreement", "measure", "ac", "ac_low", "ac_high", "alpha", "alpha_low",
                                       "alpha_high", "reading"]], fmt))
        click.echo(f"\nInspector bias in points (tolerance ±{tolerance:g})")
        click.echo(table(rep["bias"], lambda v: f"{v:.2f}") if len(rep["bias"]) else "no inspector to compare")
        flagged = rep["item_bias"][rep["item_bias"]["verdict"].isin(["lenient", "strict"])]
        click.echo("\nInspector bias per item (credit 0–1 against the reference; only lenient/strict shown)")
        click.echo(table(flagged, lambda v: f"{v:+.2f}") if len(flagged) else "no inspector is lenient or strict on any item")
        effects = leniency_adjustment(ev, expert=reference, n_boot=max(n_boot, 10))
        click.echo(f"\nLeniency effect in points against {'expert ' + reference if reference else 'the average inspector'} (95 % bootstrap interval over calls)")
        click.echo(table(effects, lambda v: f"{v:+.2f}"))
        click.echo("\nCalls to discuss (widest disagreement)")
        click.echo(table(rep["discuss"], lambda v: f"{v:.1f}") if len(rep["discuss"]) else "no call scored by two inspectors")
    all_ev, _, _ = store.calibration_data()
    click.echo(f"\nDrift across sessions (α on totals; bias per inspector; {na} where a session has no value, note says why)")
    click.echo(table(drift(all_ev, expert=expert), lambda v: f"{v:.2f}"))


def _calibration_pages(store, session_id, out, lang: str, **parameters) -> None:
    """``qa calibrate --out``: the session's meeting report, run through the report runner (the one place that runs
    notebooks), written as DIR/calibration_<session>_<lang>.html and .xlsx."""
    from .config import notebooks_dir
    from .files import file_stem, output_path
    from .reports.runner import ReportJob, install_plotly_js, run_reports

    if not session_id:
        raise click.UsageError("--out writes one session's report: give --session ID")
    stem = f"calibration_{file_stem(session_id)}_{lang}"
    html, xlsx = output_path(out, stem + ".html"), output_path(out, stem + ".xlsx")
    install_plotly_js(html.parent)
    job = ReportJob(str(notebooks_dir() / "calibration_session.ipynb"), dict(parameters, session_id=session_id, lang=lang, db_url=store.url,
                                                                             xlsx_path=str(xlsx)), str(html), f"{session_id} ({lang})")
    [result] = run_reports([job], workers=1, force=True, progress=False)
    if not result.ok:
        raise click.ClickException(f"the calibration report of {session_id} failed: {result.error}")
    click.echo(f"wrote {html} and {xlsx}")


@main.command()
@click.argument("kind", type=click.Choice(["agents", "agent", "team", "voc", "training", "autoqa", "all"]))
@click.option("--month", default=None, help="Month, e.g. 2026-10 (default: the latest month in the data).")
@click.option("--team", default=None, help="Only this team's agents (and its team report).")
@click.option("--agent", "agent", default=None, help="`agent` (or `agents`): only this agent's page, e.g. --agent Z001.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language of every report written (agents, teams, VOC, training; default: the center's `lang`). index.html is always in the center's language, index_<other>.html in the other.")
@click.option("--history", type=int, default=None, help="VOC: months of verbatims behind trends and baselines, the report month included (default: the center's reports.voc_history, 6).")
@click.option("--period", "training_months", type=click.IntRange(1, 12), default=None, help="Training: months analysed, the report month included (default: the center's reports.training_months, 3); the months before give the trends.")
@click.option("--workers", type=int, default=None, help="Worker processes with warm kernels (default: the number of cores).")
@click.option("--force", is_flag=True, help="Redo every report, even those whose inputs did not change.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_DB
def report(kind, month, team, agent, lang, history, training_months, workers, force, quiet, db):
    """Per-agent QA reports, team overviews, the VOC report and the training-needs reports as self-contained HTML,
    with the month's dashboard reports/<month>/index.html (KPIs against targets, what needs attention, links to every
    report in the folder).

    Pages are reports/<month>/agents/<id>_<lang>.html and teams/<team>_<lang>.html; `qa report agent --agent Z001`
    rebuilds one agent's page. A report is written again when what it is made from changed (its notebook, parameters,
    data or the report code: a content hash kept in the page) and skipped when not; --force redoes every one.

    The VOC report (reports/<month>/voc_<lang>.html) comes with reports/<month>/voc_topics_<month>.xlsx; the
    training-needs reports (reports/<month>/training/all_<lang>.html and one per team, or only --team's) with the
    training plan reports/<month>/training_plan_<month>.xlsx. The auto-QA page (reports/<month>/autoqa_<lang>.html)
    needs `qa autoqa run` (and `qa autoqa validate`) first.
    A failing report is listed at the end and never stops the others.
    With `all`, a kind whose inputs are missing never stops the others: the VOC and training pages say what to
    import, and a kind that cannot be prepared (e.g. no evaluations this month) is skipped with a line saying why.
    The exit status is 1 only when a report (or a kind's preparation) failed.
    """
    from .config import settings
    from .reports.runner import month_reports
    from .store import Store
    from .summary import parse_month

    center = settings()
    lang = lang or center.lang
    history = history if history is not None else center.report_options["voc_history"]
    training_months = training_months or center.report_options["training_months"]
    store = Store(db)
    store.check_ready()
    p = parse_month(month) if month else store.latest_month()
    from .errors import ParameterError

    if kind == "agent" and not agent:
        raise ParameterError("`qa report agent` needs --agent ID (e.g. --agent Z001); `qa report agents` writes every agent's page")
    if agent and kind not in ("agent", "agents"):
        raise ParameterError(f"--agent is for `qa report agent`; got kind {kind!r}")
    kinds = {"agents": ("agents",), "agent": ("agents",), "team": ("teams",), "voc": ("voc",), "training": ("training",), "autoqa": ("autoqa",),
             "all": ("agents", "teams", "voc", "training", "autoqa")}[kind]
    t0 = time.perf_counter()
    hints = {"agents": "import the month's evaluations (`qa import evaluations FILE`) or score its sampling plan",
             "voc": "import the month's verbatims (`qa import voc FILE`)", "training": "import evaluations (`qa import evaluations FILE`)",
             "autoqa": "run `qa autoqa run` on the month's transcripts"}
    out, results = month_reports(store, p, kinds=kinds, team=team, workers=workers, force=force, progress=not quiet, lang=lang,
                                 history=history, training_months=training_months, agent=agent)
    click.echo(_report_summary(out, results, time.perf_counter() - t0))
    unprepared = [r for r in results if r.missing]
    failed = [r for r in results if not r.ok and not r.missing]
    for r in unprepared:
        kind_ = Path(r.job.output).name
        hint = "" if "qa import" in r.missing else f" — {hints.get(kind_, 'import its inputs')}"  # the reason may already say
        click.echo(f"  skipped {r.job.title}: {r.missing}{hint}")
    for r in failed:
        click.echo(f"  failed: {r.job.title}: {r.error}", err=True)
    if failed:
        sys.exit(1)


def _report_summary(out: Path, results, seconds: float, shown: int = 5) -> str:
    """One line naming what was written: "3 written: agents/Z001_zh.html, …; 64 up to date; 0 failed, in 4.2 s: index.html"."""
    done = [r for r in results if r.ok and not r.skipped]
    skipped = [r for r in results if r.skipped]
    failed = [r for r in results if not r.ok and not r.missing]

    def name(r):
        try:
            return Path(r.job.output).relative_to(out).as_posix()
        except ValueError:
            return Path(r.job.output).name

    names = ", ".join(name(r) + (" (changed)" if r.changed else "") for r in done[:shown]) + (f", … {len(done) - shown} more" if len(done) > shown else "")
    return (f"{len(done)} written" + (f": {names}" if done else "") + f"; {len(skipped)} up to date; {len(failed)} failed, "
            f"in {seconds:.1f} s: {out / 'index.html'}")


@main.group()
def cases():
    """The case library (案例库): exemplary calls and instructive failures per skill, for training."""


@cases.command("build")
@click.option("--month", required=True, help="Last month of the period, e.g. 2026-10.")
@click.option("--months", type=int, default=1, show_default=True, help="Months in the period, ending with --month.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the headings and labels.")
@click.option("--per-skill", type=int, default=5, show_default=True, help="At most this many cases per skill and kind.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the tie-breaks.")
@click.option("--with-agents", is_flag=True, help="Show each case's agent (for supervisors; left out by default).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Output folder; the library goes into OUT/cases/ (default: reports/<month>).")
@_DB
def cases_build(month, months, lang, per_skill, seed, with_agents, out, db):
    """Pick the period's exemplary calls and instructive failures per skill and write the library.

    Writes <out>/cases/index.html (one self-contained page: filters and search work offline) and
    <out>/cases/cases_<period>.xlsx (one row per case). Customer details are masked; drafts and
    evaluations disputed and not yet resolved are never used.
    """
    from .cases import build_library
    from .config import reports_dir
    from .store import Store
    from .summary import parse_month

    p = parse_month(month)
    store = Store(db)
    store.check_ready()
    t0 = time.perf_counter()
    lib = build_library(store, p, out or reports_dir() / str(p), months=months, lang=lang, per_skill=per_skill, seed=seed, include_agent=with_agents)
    c = lib.counts
    click.echo(f"case library {lib.period}: {len(lib.cases)} cases ({int(c['exemplary'].sum())} exemplary, {int(c['failure'].sum())} failures) "
               f"in {time.perf_counter() - t0:.1f} s")
    click.echo(f"  {'skill':<20}{'evaluations':>12}{'with fault':>12}{'exemplary':>11}{'failure':>9}")
    for r in c.to_dict("records"):
        click.echo(f"  {r['skill']:<20}{r['evaluations']:>12}{r['with_fault']:>12}{r['exemplary']:>11}{r['failure']:>9}  {r['skill_label_' + lang]}")
    click.echo(f"wrote {lib.html}")
    click.echo(f"wrote {lib.xlsx}")


@main.group()
def score():
    """Scoring sheets (.xlsx) for inspectors who score in Excel: export blank sheets, import filled ones."""


@score.command("export")
@click.option("--scorecard", "scorecard_id", required=True, help="Scorecard to score with, e.g. my_inbound_card.")
@click.option("--version", "card_version", type=int, default=None, help="Scorecard version (default: newest stored).")
@click.option("--inspector", "inspector_id", required=True, help="Inspector the sheet is for.")
@click.option("--month", required=True, help="Month whose unscored contacts go on the sheet, e.g. 2026-10.")
@click.option("-n", "--n", "n", type=int, default=20, show_default=True, help="How many contacts (drawn at random).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the draw.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the item notes.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .xlsx to write.")
@_DB
def score_export(scorecard_id, card_version, inspector_id, month, n, seed, lang, out, db):
    """Write a blank scoring sheet: one row per contact, a dropdown per item."""
    from .sheets import write_scoring_sheet
    from .store import Store
    from .summary import parse_month

    if n < 1:
        raise click.BadParameter(f"must be ≥ 1; got {n}", param_hint="--n")
    store = Store(db)
    store.check_ready()
    if inspector_id not in set(store.read("inspectors")["inspector_id"]):
        raise click.BadParameter(f"no inspector {inspector_id!r}", param_hint="--inspector")
    card = store.scorecard(scorecard_id, card_version)
    pool = store.unscored_contacts(card, parse_month(month))
    if pool.empty:
        raise click.ClickException(f"no unscored contacts for {card.id} in {month}")
    pick = pool.sample(n=min(n, len(pool)), random_state=seed).sort_values("start_time")
    path = write_scoring_sheet(out, card, pick, inspector_id=inspector_id, lang=lang)
    click.echo(f"wrote {path}: {len(pick)} contacts of {len(pool):,} unscored in {month}, scorecard {card.id} v{card.version}")


@score.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--draft", is_flag=True, help="Store new rows as drafts (and save changed drafts) instead of submitting them.")
@_DB
def score_import(file, draft, db):
    """Import a filled scoring sheet, again each time it is filled further (all rows or none; rows with no answers are skipped).

    \b
    New rows are stored; rows stored before and unchanged are left alone; a changed row becomes a new version of its
    evaluation (a submitted one needs a reason in the sheet's `reason` column, 改分原因, kept in its history; a released
    one is refused: its answers change through the agent's dispute). Prints: N new, N unchanged, N corrected, N refused.
    """
    from .store import Store

    store = Store(db)
    store.check_ready()
    click.echo(str(store.import_scoring_sheet(file, status="draft" if draft else "submitted")))


@main.group()
def scorecard():
    """Scorecards (质检评分表): store a version from YAML or Excel, list, show, compare, check, export."""


def _wide(table) -> str:
    """A table as text, Chinese columns aligned."""
    import pandas as pd

    with pd.option_context("display.unicode.east_asian_width", True, "display.width", 250, "display.max_colwidth", 60):
        return table.to_string(index=False)


def _card_in(source: str, db):
    """The card a command-line argument names: a .yaml/.yml/.xlsx file, or ID / ID:VERSION of a stored version."""
    from .scorecard_files import is_card_file, read_scorecard, split_reference
    from .store import Store

    if is_card_file(source):
        return read_scorecard(source), Path(source).name
    sid, version = split_reference(source)
    store = Store(db)
    store.check_ready()
    card = store.scorecard(sid, version)
    return card, "the database"


def _stored_twin(store, card, source: str):
    """The stored card of ``card``'s id and version (None when not stored); refused when its definition differs."""
    from .errors import NotFoundError, Problem
    from .scorecard_files import diff_scorecards, same_definition

    try:
        old = store.scorecard(card.id, card.version)
    except NotFoundError:
        return None
    if not same_definition(old, card):
        d = diff_scorecards(old, card)
        what = "; ".join(f"{r.level} {r.id} {r.change}" + (f" ({r.keys})" if r.keys else "") for r in d.head(6).itertuples())
        raise ValidationError([Problem(source, 0, "version", f"scorecard {card.id} version {card.version} is already stored with a different "
                                       f"definition ({what}{'; …' if len(d) > 6 else ''}): bump the version to store this one "
                                       f"(`qa scorecard diff {source} {card.id}:{card.version}` lists every change)")], "scorecard")
    return old


def _card_line(card) -> str:
    n = len(card.items)
    return f"{card.id} v{card.version} ({card.style}, {len(card.sections)} sections, {n} items)"


@scorecard.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DB
def scorecard_add(file, db):
    """Store a new scorecard version from a .yaml or .xlsx file.

    A stored version never changes: the same definition again stores nothing; a different one under a stored id and
    version is refused (bump `version`). Problems are named by YAML line or by sheet!cell; nothing is stored then.
    """
    from .autoqa.rules import check_rules
    from .scorecard_files import read_scorecard
    from .store import Store

    card = read_scorecard(file)
    problems = check_rules(card, file.name)
    if problems:
        raise ValidationError(problems, "scorecard")
    store = Store(db)
    store.check_ready()
    if _stored_twin(store, card, file.name) is not None:
        click.echo(f"scorecard {card.id} v{card.version} is already stored with this definition: nothing changed")
        return
    store.add_scorecard(card.text)
    click.echo(f"stored scorecard {_card_line(card)} from {file.name}")


@scorecard.command("list")
@_DB
def scorecard_list(db):
    """Stored scorecard versions: names, style, items, when stored and how many evaluations (drafts too) use each."""
    from .scorecard_files import scorecard_catalog
    from .store import Store

    store = Store(db)
    store.check_ready()
    stored = store.read("scorecards")
    if stored.empty:
        click.echo("no scorecard is stored: add one with `qa scorecard add FILE` (.yaml or .xlsx)")
        return
    used = store.evaluations(audience="inspector", columns=["scorecard_id", "scorecard_version"])
    click.echo(_wide(scorecard_catalog(stored, used)))


@scorecard.command("show")
@click.argument("card_id", metavar="ID")
@click.option("--version", "card_version", type=int, default=None, help="Version (default: the newest stored).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the names and labels.")
@_DB
def scorecard_show(card_id, card_version, lang, db):
    """A stored scorecard's sections and items as a table (ID may also be a .yaml or .xlsx file)."""
    from .scorecard_files import scorecard_table

    card, _ = _card_in(card_id if card_version is None else f"{card_id}:{card_version}", db)
    applies = card.applies_to or {}
    click.echo(f"{_card_line(card)}: {card.label(lang)}")
    click.echo(f"  applies to: {applies.get('direction') or 'any direction'}, {', '.join(applies.get('contact_types') or []) or 'any contact type'}; "
               f"bands {' / '.join(f'{b:g}' for b in card.bands)}")
    table = scorecard_table(card, lang)
    for s in card.sections:
        share = f", weight {s.weight:g}" if card.style == "weighted" else ""
        click.echo(f"\n{s.id} {s.name.get(lang) or s.name.get('en', '')}{share}")
        click.echo(_wide(table[table["section"] == s.id].drop(columns="section")))


@scorecard.command("diff")
@click.argument("a")
@click.argument("b")
@_DB
def scorecard_diff(a, b, db):
    """What changes from scorecard A to B, before re-scoring: items added, removed and changed, with the keys.

    A and B are each a .yaml or .xlsx file, or ID:VERSION of a stored version (ID alone: the newest).
    """
    from .scorecard_files import diff_scorecards, same_definition

    (ca, na), (cb, nb) = _card_in(a, db), _card_in(b, db)
    d = diff_scorecards(ca, cb)
    click.echo(f"A: {_card_line(ca)} from {na}\nB: {_card_line(cb)} from {nb}")
    if d.empty and same_definition(ca, cb):
        click.echo("same definition: scores are the same under both")
        return
    n = d[d["level"] == "item"]["change"].value_counts()
    click.echo(f"items: {n.get('added', 0)} added, {n.get('removed', 0)} removed, {n.get('changed', 0)} changed; "
               f"{int(d['scoring'].sum())} change(s) can alter scores")
    for r in d.itertuples(index=False):
        effect = "can alter scores" if r.scoring else "wording or order only"
        if r.change == "changed":
            click.echo(f"  {r.level} {r.id}: changed ({r.keys}), {effect}")
            click.echo("".join(f"      {line}\n" for line in re.split(r"; (?=[a-z_ ]+: )", r.detail)), nl=False)
        else:
            click.echo(f"  {r.level} {r.id}: {r.change}, {effect} — {r.detail}")


@scorecard.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", "db", default=None, metavar="URL", help="Also compare with this database: would `qa scorecard add` store it?")
def scorecard_check(file, db):
    """Validate a .yaml or .xlsx scorecard without storing it: every problem named by YAML line or sheet!cell (exit 2)."""
    from .autoqa.rules import check_rules
    from .scorecard_files import read_scorecard
    from .store import Store

    card = read_scorecard(file)
    problems = check_rules(card, file.name)
    if problems:
        raise ValidationError(problems, "scorecard")
    flags = [("critical", sum(it.critical is not None for it in card.items)), ("conditional", sum(it.when is not None for it in card.items)),
             ("bonus", sum(it.bonus for it in card.items)), ("not scored", sum(not it.scored for it in card.items)),
             ("with auto-QA rules", sum(bool(it.auto) for it in card.items))]
    click.echo(f"{file.name}: ok — scorecard {_card_line(card)}" + "".join(f", {n} {w}" for w, n in flags if n))
    if db:
        store = Store(db)
        store.check_ready()
        same = _stored_twin(store, card, file.name) is not None
        click.echo("already stored with this definition: `qa scorecard add` would change nothing" if same
                   else f"version {card.version} of {card.id} is not stored yet: `qa scorecard add {file.name}` stores it")


@scorecard.command("export")
@click.argument("card_id", metavar="ID")
@click.option("--version", "card_version", type=int, default=None, help="Version (default: the newest stored).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.xlsx (to edit in Excel) or FILE.yaml (the stored text).")
@_DB
def scorecard_export(card_id, card_version, out, db):
    """Write a stored scorecard version to an Excel workbook or a YAML file."""
    from .scorecard_files import export_scorecard
    from .store import Store

    store = Store(db)
    store.check_ready()
    card = store.scorecard(card_id, card_version)
    click.echo(f"wrote {export_scorecard(card, out)}: scorecard {_card_line(card)}")


@main.group()
def coaching():
    """The coaching loop (督办闭环): record agreed actions, list open and overdue ones, judge whether they worked."""


@coaching.command("add")
@click.option("--agent", "agent_id", required=True, help="The agent coached.")
@click.option("--items", required=True, help="Scorecard item ids the action is about, comma-separated (e.g. greet,verify).")
@click.option("--action", "agreed_action", required=True, help="What was agreed, in words.")
@click.option("--coach", required=True, help="Who coached (supervisor or inspector).")
@click.option("--created", "created_on", default=None, help="Day it was agreed (default: today).")
@click.option("--due", "due_on", default=None, help="Due date, on or after the day it was agreed (default: none).")
@click.option("--recheck-days", "recheck_after_days", type=int, default=3, show_default=True, help="Re-check after this many days: the next sampling plan adds the agent's contacts from then.")
@_DB
def coaching_add(agent_id, items, agreed_action, coach, created_on, due_on, recheck_after_days, db):
    """Record a coaching action agreed with an agent (status open)."""
    from datetime import timedelta

    from .store import Store

    store = Store(db)
    store.check_ready()
    action_id = store.add_coaching_action(agent_id, items, agreed_action, coach, created_on=created_on, due_on=due_on,
                                          recheck_after_days=recheck_after_days)
    row = store.read("coaching_actions", store.table("coaching_actions").c.action_id == action_id).iloc[0]
    recheck = row["created_on"] + timedelta(days=int(row["recheck_after_days"]))
    click.echo(f"recorded {action_id}: agent {row['agent_id']}, items {row['items']}, coach {row['coach']}, created {row['created_on']}, "
               f"re-check from {recheck}" + (f", due {row['due_on']}" if row["due_on"] is not None else ", no due date"))


@coaching.command("close")
@click.argument("action_id")
@click.option("--cancel", is_flag=True, help="Cancelled rather than done.")
@click.option("--on", "closed_on", default=None, help="Day it was closed (default: today).")
@_DB
def coaching_close(action_id, cancel, closed_on, db):
    """Close an open coaching action as done (or cancelled)."""
    from .store import Store

    store = Store(db)
    store.check_ready()
    store.close_coaching_action(action_id, status="cancelled" if cancel else "done", closed_on=closed_on)
    click.echo(f"{action_id}: {'cancelled' if cancel else 'done'}")


@coaching.command("list")
@click.option("--as-of", "as_of", default=None, help="Day to list for (default: today).")
@_DB
def coaching_list(as_of, db):
    """Open coaching actions per supervisor, overdue first, with the counts per supervisor and per coach."""
    from datetime import date

    from .coaching import open_actions, open_summary
    from .store import Store

    store = Store(db)
    store.check_ready()
    day = as_of or str(date.today())
    listing = open_actions(store.read("coaching_actions"), store.read("agents"), day)
    if listing.empty:
        click.echo(f"no coaching action is open on {day}")
        return
    click.echo(f"{len(listing)} open coaching action(s) on {day}, {int(listing['overdue'].sum())} overdue")
    cols = ["action_id", "agent_id", "team", "coach", "items", "created_on", "recheck_on", "due_on", "days_overdue"]
    for sup, part in listing.groupby("supervisor", sort=True):
        click.echo(f"\nsupervisor {sup}: {len(part)} open, {int(part['overdue'].sum())} overdue")
        click.echo(part[cols].assign(due_on=part["due_on"].astype(object).where(part["due_on"].notna(), "—")).to_string(index=False))
    click.echo("\nper supervisor and coach")
    click.echo(open_summary(listing).to_string(index=False))


@coaching.command("review")
@click.option("--as-of", "as_of", default=None, help="Only contacts handled up to this day (default: everything stored).")
@click.option("--before-days", type=int, default=60, show_default=True, help="Days before the action that make the 'before' window.")
@click.option("--after-days", type=int, default=60, show_default=True, help="Days from the re-check date that make the 'after' window.")
@click.option("--meaningful", type=float, default=0.05, show_default=True, help="Smallest pass-rate gain worth having ('not yet' = the interval lies below it).")
@_DB
def coaching_review(as_of, before_days, after_days, meaningful, db):
    """Did coaching work? Judged against a comparison, per action and pooled per programme.

    Evidence: random-arm and re-check evaluations only. After the re-check date, the coached items' failures are
    compared with what the agent's own other items and the uncoached agents (same baseline, same tenure band) predict;
    verdicts from that 95 % interval: improved (gain above 0, false-discovery controlled across the page), not yet (gain
    below --meaningful), not enough evidence. The plain before/after is shown beside it.
    """
    from .coaching import FDR_SENTENCE, before_after, load_evidence
    from .store import Store

    store = Store(db)
    store.check_ready()
    actions = store.read("coaching_actions")
    if actions.empty:
        click.echo("no coaching action is stored: record one with `qa coaching add`")
        return
    res = before_after(actions, load_evidence(store), agents=store.read("agents"), before_days=before_days, after_days=after_days,
                       meaningful=meaningful, as_of=as_of)
    if res.empty:
        click.echo(f"no coaching action was agreed by {as_of}")
        return
    pct = lambda v: "—" if v != v else f"{100 * v:.0f}%"  # noqa: E731
    pts = lambda v: f"{100 * v:+.1f}"  # noqa: E731
    t = res.assign(
        before=[f"{pct(r)} of {n}" if n else "none" for r, n in zip(res["before_rate"], res["before_n"])],
        after=[f"{pct(r)} of {n}" if n else "none" for r, n in zip(res["after_rate"], res["after_n"])],
        change=["—" if d != d else f"{pts(d)} [{pts(lo)}, {pts(hi)}]" for d, lo, hi in zip(res["diff"], res["diff_low"], res["diff_high"])],
        other_items=[f"{pct(b)} → {pct(a)}" for b, a in zip(res["others_before_rate"], res["others_after_rate"])],
        expected=[pct(v) for v in res["expected_after_rate"]],
        vs_comparison=["—" if d != d else f"{pts(d)} [{pts(lo)}, {pts(hi)}]" for d, lo, hi in zip(res["effect"], res["effect_low"], res["effect_high"])],
    )
    click.echo(f"coaching review: {before_days} days before each action vs {after_days} days from its re-check date; "
               "pass rate on the action's items (random-arm and re-check evaluations). 'expected': the pass rate the comparison "
               "(the agent's other items, uncoached agents with the same baseline and tenure band) predicts without coaching; "
               "'vs_comparison': after − expected in points with its 95 % interval; the verdict reads that interval")
    click.echo(FDR_SENTENCE["en"].format(rate=0.025))
    click.echo("\nper action")
    click.echo(t[t["level"] == "action"][["action_id", "agent_id", "coach", "items", "created_on", "before", "after", "change", "expected",
                                          "vs_comparison", "verdict"]].to_string(index=False))
    click.echo("\nper programme (same coach, items and week, pooled)")
    click.echo(t[t["level"] == "programme"][["coach", "items", "created_on", "agents", "before", "after", "other_items", "expected",
                                             "vs_comparison", "verdict"]].to_string(index=False))


@main.group()
def evaluation():
    """One evaluation's answers and history; correcting its answers; releasing submitted evaluations to agents."""


@evaluation.command("show")
@click.argument("evaluation_id")
@_DB
def evaluation_show(evaluation_id, db):
    """Show an evaluation's current answers and its full history (who, when, why)."""
    from .privacy import mask_frame, mask_pii
    from .store import Store

    store = Store(db)
    store.check_ready()
    ev = store.evaluation(evaluation_id)
    click.echo(f"{ev['evaluation_id']}: contact {ev['contact_id']}, agent {ev['agent_id']}, inspector {ev['inspector_id']}, "
               f"{ev['scorecard_id']} v{ev['scorecard_version']}, {ev['status']} (version {ev['version']}), total {ev['total_score']}")
    for item, answer in ev["answers"].items():
        note = mask_pii(ev["comments"].get(item))
        click.echo(f"  {item:<22}{answer:<10}{note or ''}")
    hist = store.history(evaluation_id)[["version", "action", "status", "total_score", "actor", "at", "reason"]]
    click.echo(mask_frame(hist, ["reason"]).to_string(index=False))
    disputes = store.disputes(evaluation_id)
    if not disputes.empty:
        click.echo(mask_frame(disputes[["item_id", "reason", "raised_by", "outcome", "resolved_by", "note"]], ["reason", "note"]).to_string(index=False))


@evaluation.command("edit")
@click.argument("evaluation_id")
@click.option("--answer", "answers", multiple=True, required=True, metavar="ITEM=VALUE",
              help="A new answer, e.g. closing=yes; repeat for more items. ITEM= (empty) removes an optional answer.")
@click.option("--reason", default=None, help="Why the answers change (required once submitted); kept in the history.")
@click.option("--actor", required=True, help="The inspector who makes the change.")
@click.option("--version", "expected_version", type=int, default=None, help="The version you read (`qa evaluation show`): refused if it changed since.")
@_DB
def evaluation_edit(evaluation_id, answers, reason, actor, expected_version, db):
    """Change an evaluation's answers: a new version with who and why (`qa evaluation show` lists it).

    \b
    A draft is saved; a submitted evaluation is corrected (--reason required); a released one is refused with the way
    its answers change (the agent's dispute and its resolution). Nothing is overwritten: the history keeps every version.
    """
    from .privacy import mask_pii
    from .store import Store

    parsed: dict[str, str] = {}
    for a in answers:
        item, eq, value = a.partition("=")
        if not eq or not item.strip():
            raise click.BadParameter(f"must be ITEM=VALUE, e.g. closing=yes; got {a!r}", param_hint="--answer")
        if item.strip() in parsed:
            raise click.BadParameter(f"item {item.strip()!r} is given twice", param_hint="--answer")
        parsed[item.strip()] = value.strip()
    store = Store(db)
    store.check_ready()
    before = store.evaluation(evaluation_id)
    version = store.edit(evaluation_id, parsed, actor=actor, reason=reason, expected_version=expected_version)
    ev = store.evaluation(evaluation_id)
    action = store.history(evaluation_id)["action"].iloc[-1]
    total = lambda v: "—" if v is None or v != v else f"{v:.2f}"  # noqa: E731  (a draft may have no total yet)
    click.echo(f"{evaluation_id}: {action} → version {version} ({ev['status']}), total {total(before['total_score'])} → {total(ev['total_score'])}"
               + (f"; reason: {mask_pii(reason)}" if reason else ""))


@evaluation.command("release")
@click.argument("evaluation_ids", nargs=-1)
@click.option("--month", default=None, help="Release every submitted evaluation of this month's contacts.")
@click.option("--actor", required=True, help="Who releases (QA supervisor id).")
@_DB
def evaluation_release(evaluation_ids, month, actor, db):
    """Release submitted evaluations to their agents (by id, or all of a month)."""
    from .store import Store
    from .summary import parse_month

    store = Store(db)
    store.check_ready()
    ids = list(evaluation_ids)
    if month:
        ev = store.evaluations(parse_month(month))
        ids += ev.loc[ev["status"] == "submitted", "evaluation_id"].tolist()
    if not ids:
        raise click.UsageError("name evaluation ids or give --month")
    for eid in ids:
        store.release(eid, actor=actor)
    click.echo(f"released {len(ids)} evaluation(s)")


@main.command()
@click.option("--scorecard", "scorecard_id", required=True, help="Scorecard whose stored evaluations are rescored, e.g. my_inbound_card.")
@click.option("--version", "to_version", type=int, default=None, help="Stored scorecard version to score with.")
@click.option("--card", "card_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="Or a scorecard YAML file not yet stored (a draft of the next version).")
@click.option("--style", type=click.Choice(["weighted", "deduction"]), default=None, help="Score in this style instead of the card's.")
@click.option("--month", default=None, help="Only evaluations of contacts in this month, e.g. 2026-10.")
@click.option("--top", type=int, default=15, show_default=True, help="Agents to list (largest rank changes first).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write every agent's ranks to this CSV.")
@_DB
def rescore(scorecard_id, to_version, card_file, style, month, top, out, db):
    """What-if: score stored evaluations under another scorecard version or style and show how agent rankings change.

    Only the random arm is used (targeted reviews never feed rankings). Nothing stored is changed.
    """
    from .rubric import load_scorecard, ranking_changes
    from .rubric import rescore as what_if
    from .store import Store
    from .summary import parse_month

    if to_version is None and card_file is None and style is None:
        raise click.UsageError("give --version, --card or --style: what should the evaluations be rescored with?")
    store = Store(db)
    store.check_ready()
    head, answers, context = store.scored_evaluations(scorecard_id, month=parse_month(month) if month else None)
    card = load_scorecard(card_file) if card_file else store.scorecard(scorecard_id, to_version)
    res = what_if(answers, head, card, style=style, context=context)
    ranks = ranking_changes(res)
    moved = int((ranks["rank_change"] != 0).sum())
    click.echo(f"{len(res):,} random-arm evaluations of {scorecard_id} rescored with {card.id} v{card.version}"
               f"{' as ' + style if style else ''}: mean {res['original'].mean():.2f} -> {res['what_if'].mean():.2f}; "
               f"{moved} of {len(ranks)} agents change rank. Stored scores are unchanged.")
    click.echo(ranks.head(top).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if out:
        from .files import write_csv

        write_csv(ranks, out)
        click.echo(f"wrote {out}")


@main.command()
@click.option("--date", "day", default=None, help="Day to review, e.g. 2026-10-14: evaluations made that day (default: the day before the latest evaluation date in the data).")
@click.option("--team", default=None, help="Only this team's agents (default: every team, one section each).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the page and the item labels.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder to write (default: reports/digest).")
@_DB
def digest(day, team, lang, out, db):
    """The morning meeting's digest of a day's errors: failed items and critical errors per team (HTML and Markdown).

    Each failed item comes with the agent, the item, the inspector's comment and a short masked transcript excerpt;
    critical errors first. Drafts and calibration sessions are left out; targeted reviews are in, marked.
    """
    from .digest import default_day, write_digest
    from .store import Store

    store = Store(db)
    store.check_ready()
    d = write_digest(store, day or default_day(store), out, team=team, lang=lang)
    s = d.summary
    click.echo(f"{d.date}: {d.evaluations} evaluations, {int(s['failed_items'].sum())} failed items, {int(s['critical_errors'].sum())} critical errors"
               + ("" if d.evaluations else " — the digest says there were no evaluations"))
    for r in s.itertuples(index=False):
        click.echo(f"  {r.team}: {r.evaluations} evaluations ({r.targeted} targeted), {r.failed_items} failed items, {r.critical_errors} critical errors, "
                   f"{r.agents_with_critical} agent(s) with a critical error")
    for p in d.paths:
        click.echo(f"wrote {p}")


@main.command(context_settings={"ignore_unknown_options": True})
@_DB
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: JupyterLab's, 8888 or the next free one).")
@click.option("--no-browser", is_flag=True, help="Do not open a web browser (print the address instead).")
@click.argument("jupyter_args", nargs=-1, type=click.UNPROCESSED)
def lab(db, port, no_browser, jupyter_args):
    """Open JupyterLab on the project's notebooks, with the database configured.

    The entry point for inspectors (scoring_workbench, calibration_session, sampling_plan) and training
    leads (training_needs, case_library). Notebooks run in lab/: each template of notebooks/ is copied
    there once, so the templates stay clean and your runs and edits are kept. Every notebook's empty
    db_url means the database chosen here (--db, else $QA_DB_URL, else data/qa.sqlite — built from the
    samples if it does not exist yet). Arguments after -- go to JupyterLab.
    """
    import os
    import shutil

    from .config import lab_dir, notebooks_dir
    from .store import open_store

    store = open_store(db)  # ready, or a clear error before any server starts
    work = lab_dir()
    work.mkdir(parents=True, exist_ok=True)
    copied = []
    for nb in sorted(notebooks_dir().glob("*.ipynb")):
        if not (work / nb.name).exists():
            shutil.copyfile(nb, work / nb.name)
            copied.append(nb.name)
    env = dict(os.environ, QA_DB_URL=store.url)
    store.engine.dispose()
    click.echo(f"JupyterLab in {work} ({len(copied)} notebook(s) copied from {notebooks_dir()}); database {store._safe_url()}")
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={work}"]
    cmd += [f"--ServerApp.port={port}"] * (port is not None) + ["--no-browser"] * no_browser + list(jupyter_args)
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)  # JupyterLab takes over this process (Ctrl-C stops it)


@main.group()
def pages():
    """The generated pages as their readers see them (headless Chromium)."""


@pages.command("check")
@click.option("--month", default=None, help="Month folder of reports/ to check, e.g. 2026-10 (default: the latest there).")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None, help="Or this month's report folder.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder for the screenshots (default: <month folder>/screenshots).")
@click.option("--agent", "agents", multiple=True, metavar="ROLE=ID", help="An agent page to read, e.g. weak=Z001 or new_hire=Z002 (default: picked from the month's tables).")
@click.option("--only", multiple=True, metavar="KEY", help="Only these pages or kinds (landing, agent_weak, team, voc_en, …).")
@click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True, help="Pages rendered at once.")
def pages_check(month, folder, out, agents, only, workers):
    """Open one page per kind (zh and en) in headless Chromium and scan what a reader sees.

    \b
    Flags nan/None/NaT, numbers with 5+ decimals, intervals outside 0–100, ids or column names where a label exists,
    emoji and characters no installed font draws; writes one screenshot per page. Exit status 1 when anything is found.
    """
    from .config import reports_dir
    from .errors import ParameterError
    from .reports import browser

    if folder is None:
        root = reports_dir()
        months = sorted(p.name for p in root.glob("*") if p.is_dir() and re.fullmatch(r"\d{4}-\d\d", p.name))
        if month is None and not months:
            raise ParameterError(f"no month of reports in {root}: run `qa report all` (or `qa demo`) first, or give --folder")
        folder = root / (month or months[-1])
    roles = {}
    for a in agents:
        role, eq, aid = a.partition("=")
        if not eq or not role.strip() or not aid.strip():
            raise click.BadParameter(f"must be ROLE=ID, e.g. weak=Z001; got {a!r}", param_hint="--agent")
        roles[role.strip()] = aid.strip()
    if not folder.is_dir():
        raise ParameterError(f"no reports in {folder}: run `qa report all --month {folder.name}` first")
    scans = browser.scan_month(folder, agents=roles or None, out=out, workers=workers, only=only or None)
    click.echo(browser.scan_summary(scans, root=folder))
    dirty = sum(bool(s.findings) for s in scans.values())
    shots = Path(out) if out else folder / "screenshots"
    click.echo(f"{len(scans)} page(s) read, {dirty} with findings; screenshots in {shots}")
    if dirty:
        sys.exit(1)


@main.group()
def autoqa():
    """Auto-QA (自动质检): rules and a learned scorer on every transcript, the acceptance gate, reviews of rule hits.

    \b
    Automatic answers are suggestions to inspectors and pick calls for the targeted arm; an item the gate has not
    accepted never scores an agent. Team and center estimates combine them with the human random arm
    (prediction-powered, valid whatever the scorer's quality). docs/autoqa.md says more.
    """


def _autoqa_card(store, scorecard_id):
    """The scorecard a `qa autoqa` command works on: --scorecard, else the center's headline scorecard, else the one with
    the most random-arm evaluations."""
    from .autoqa.pipeline import headline_card

    return store.scorecard(scorecard_id) if scorecard_id else headline_card(store)


@autoqa.command("run")
@click.option("--month", default=None, help="Month whose transcripts to answer, e.g. 2026-10 (default: the latest month).")
@click.option("--scorecard", "scorecard_id", default=None, help="Scorecard (default: the center's headline scorecard).")
@click.option("--no-model", is_flag=True, help="Rules only, even when a learned scorer is trained.")
@click.option("--chunk", type=click.IntRange(100, 1_000_000), default=20_000, show_default=True, help="Transcripts held in memory at once.")
@_DB
def autoqa_run(month, scorecard_id, no_model, chunk, db):
    """Answer every transcript of a month with the scorecard's rules and the newest learned scorer; store the answers."""
    from .autoqa.pipeline import latest_scorer, run_month
    from .config import models_dir
    from .store import Store
    from .summary import parse_month

    store = Store(db)
    store.check_ready()
    p = parse_month(month) if month else store.latest_month()
    card = _autoqa_card(store, scorecard_id)
    scorer = None if no_model else latest_scorer(models_dir(), card.id)
    summary = run_month(store, card, p, scorer=scorer, chunk=chunk)
    click.echo(summary.line() + ("" if scorer is not None or no_model else f"; no learned scorer yet (`qa autoqa train --scorecard {card.id}`)"))


@autoqa.command("train")
@click.option("--scorecard", "scorecard_id", default=None, help="Scorecard (default: the center's headline scorecard).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the folds and the model (the same data and seed give the same model).")
@_DB
def autoqa_train(scorecard_id, seed, db):
    """Train the learned item scorer on every human-scored call with a transcript; save it under models/ with its manifest."""
    import pandas as pd

    from .autoqa.pipeline import train
    from .config import models_dir, settings
    from .store import Store

    store = Store(db)
    store.check_ready()
    card = _autoqa_card(store, scorecard_id)
    bundle, path = train(store, card, models_dir(), seed=seed)
    a = bundle.agreement
    click.echo(f"scorer {bundle.version} of {card.id} v{card.version}: {len(bundle.models)} item(s) trained on "
               f"{int(a['n'].max()) if len(a) else 0:,} calls, {len(bundle.skipped)} skipped; saved in {path}")
    if len(a):
        from .fmt import num, pct

        rows = a.assign(item=[(card.item(i).label.get(settings().lang) or i) for i in a["item_id"]])
        click.echo(_wide(pd.DataFrame({"item": rows["item"], "calls": rows["n"].map(lambda v: f"{int(v):,}"),
                                       "AC1 (cross-validated)": rows["ac1"].map(lambda v: num(v, 2)),
                                       "abstained": rows["abstain"].map(pct)})))
    for r in bundle.skipped.itertuples():
        click.echo(f"  not trained: {r.item_id}: {r.reason}")
    click.echo("next: `qa autoqa run` answers the month's transcripts, `qa autoqa validate` runs the acceptance gate")


@autoqa.command("validate")
@click.option("--scorecard", "scorecard_id", default=None, help="Scorecard (default: the center's headline scorecard).")
@click.option("--margin", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.10, show_default=True,
              help="Non-inferiority margin in AC1: accepted when not worse than the inspectors' agreement by more.")
@click.option("--boot", "n_boot", type=click.IntRange(200, 100_000), default=2000, show_default=True, help="Bootstrap resamples.")
@click.option("--drift-months", type=click.IntRange(1, 36), default=6, show_default=True, help="Months of the random arm the drift check reads.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language of the reasons (default: the center's).")
@_DB
def autoqa_validate(scorecard_id, margin, n_boot, drift_months, lang, db):
    """The acceptance gate per item and source on the human random arm, then the drift check of accepted items."""
    from .autoqa.pipeline import drift_check, latest_scorer, validate
    from .config import models_dir, settings
    from .store import Store

    store = Store(db)
    store.check_ready()
    lang = lang or settings().lang
    card = _autoqa_card(store, scorecard_id)
    res = validate(store, card, scorer=latest_scorer(models_dir(), card.id), margin=margin, n_boot=n_boot)
    click.echo(_gate_text(res, card, lang))
    d = drift_check(store, card, months=drift_months)
    fell = d[d["drifted"].fillna(False).astype(bool)] if len(d) else d
    if len(fell):
        click.echo(("漂移，退回建议：" if lang == "zh" else "drifted, back to suggestions: ")
                   + ", ".join(f"{(card.item(i).label.get(lang) or i)} ({s}, {m})" for i, s, m in zip(fell["item_id"], fell["source"], fell["month"])))
    else:
        click.echo("已通过验收的质检项本期未见漂移。" if lang == "zh" else "no accepted item drifted.")


def _gate_text(res, card, lang: str) -> str:
    import pandas as pd

    from .fmt import num

    zh = lang == "zh"
    rows = pd.DataFrame({
        ("质检项" if zh else "item"): [(card.item(i).label.get(lang) or i) for i in res["item_id"]],
        ("来源" if zh else "source"): res["source"].map({"rule": "规则" if zh else "rule", "model": "模型" if zh else "model"}),
        ("通数" if zh else "calls"): res["answered"].map(lambda v: f"{int(v):,}"),
        "AC1": [f"{num(a, 2)} ({num(lo, 2)}–{num(hi, 2)})" for a, lo, hi in zip(res["ac1"], res["ac1_lo"], res["ac1_hi"])],
        ("质检员间 AC1" if zh else "inspectors' AC1"): res["inspectors_ac1"].map(lambda v: num(v, 2)),
        ("结论" if zh else "verdict"): res["accepted"].map({True: "通过验收" if zh else "accepted", False: "仅作建议" if zh else "suggestion only"}),
        ("原因" if zh else "why"): res["reason_zh" if zh else "reason_en"],
    })
    return _wide(rows)


@autoqa.command("review")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DB
def autoqa_review(file, db):
    """Store inspectors' reviews of rule hits (复核) from a CSV/Excel file: contact_id, scorecard_id, item_id, rule_id,
    verdict (confirmed/确认 or rejected/驳回), inspector_id[, reviewed_at, note]; print each rule's precision."""
    from .autoqa.rules import rule_precision
    from .ingest import read_table
    from .store import Store

    store = Store(db)
    store.check_ready()
    df = read_table(file)
    n = store.save_rule_reviews(df)
    click.echo(f"{n} new review(s) stored from {file.name}")
    prec = rule_precision(store.rule_reviews())
    click.echo(_wide(prec))


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 if docs/data-model.md is not current, instead of writing it.")
def docs(check):
    """Regenerate docs/data-model.md from the data model."""
    from .config import project_root
    from .model import markdown

    path = project_root() / "docs" / "data-model.md"
    text = markdown()
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            click.echo(f"{path} is out of date: run `qa docs`", err=True)
            sys.exit(1)
        click.echo(f"{path} is current")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
