"""The one place that reads configuration: the center's settings, built from the environment and the center file.

:func:`settings` builds a validated, read-only :class:`Settings` from the environment variables below and the
center file (``center.yaml``); nothing else in ``qa_lib`` reads the environment. The path helpers
(:func:`project_root`, :func:`reports_dir`, :func:`database_url` …) are short ways to one field of it.

======================== ============================================ ==========================================
Variable                 Setting                                      Default
======================== ============================================ ==========================================
``QA_HOME``              ``home``: the project folder                 the folder holding ``qa_lib``
``QA_DB_URL``            ``db_url``: SQLAlchemy URL or SQLite file    ``<home>/data/qa.sqlite``
``QA_REPORTS_DIR``       ``reports_dir``                              ``<home>/reports``
``QA_CENTER``            ``center_file``: the center's settings file  ``<home>/center.yaml``, else
                                                                      ``<home>/data/samples/center.yaml``
``QA_VOC_TAXONOMY``      ``voc_taxonomy``                             ``<home>/data/samples/voc_taxonomy.yaml``
``QA_VOC_DOMAIN_WORDS``  ``voc_domain_words``                         ``<home>/data/samples/voc_domain_words.txt``
``QA_TRAINING_MODULES``  ``training_modules``                         ``<home>/data/samples/training_modules.yaml``
``QA_EXECUTOR``          ``executor``: ``local`` or ``dask:<address>`` ``local``
``QA_CHROMIUM``          ``chromium``: the browser for screenshots    found on the PATH
``QA_SQLITE_BUSY_SECONDS`` ``sqlite_busy_seconds``                    30
``QA_MAX_ROWS``          ``max_rows``: data rows of an imported file  1,500,000
``QA_MAX_CELLS``         ``max_cells``: its rows × columns            40,000,000
``QA_MAX_FILE_MB``       ``max_file_mb``: its size on disk            1,024 MB
``QA_MAX_EXPANDED_MB``   ``max_expanded_mb``: Parquet or workbook     2,048 MB
                         unpacked
``QA_MAX_ZIP_RATIO``     ``max_zip_ratio``: compression of a workbook 100 (:1)
                         part
======================== ============================================ ==========================================

The ``QA_MAX_*`` limits refuse a file before it is parsed (:func:`qa_lib.ingest.guard_file`): a few-KB Parquet or
workbook can unpack to millions of rows and gigabytes. The defaults pass a large center's month of contacts (about
a million rows, 25 columns: 1,000 seats at ~45 contacts a day) with half as much again to spare; real workbook
sheets compress about 10:1.

The center file holds what belongs to a center rather than to a machine: ``name``, ``lang`` (``zh`` or ``en``),
``headline_scorecard`` (the scorecard whose random-arm scores are the agents' headline), ``score_target`` (the
headline score an agent should reach) and ``item_target`` (the pass rate an item should reach). ``qa samples``
writes the sample center's file beside its data.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import ConfigError, ParameterError

__all__ = ["Settings", "settings", "project_root", "notebooks_dir", "samples_dir", "reports_dir", "lab_dir", "models_dir", "default_db_path",
           "database_url", "sqlite_url", "voc_taxonomy_path", "voc_domain_words_path", "training_modules_path", "CENTER_KEYS",
           "redact", "safe_url", "new_center", "find_center", "use_center_folder", "KPI_UNITS", "RECORDED_FIELDS"]

#: The keys a center file may hold, with what each must be.
CENTER_KEYS = {
    "name": "the center's name (text)",
    "lang": "zh or en: the language of its pages",
    "timezone": "an IANA time zone, e.g. Asia/Shanghai: the local time of its contacts",
    "headline_scorecard": "a scorecard id, or a mapping from direction, channel or channel/direction to scorecard ids",
    "score_target": "a number from 0 to 100",
    "item_target": "a number between 0 and 1",
    "answer_within_seconds": "a number of seconds > 0: the service level's answer time",
    "kpis": "a mapping from KPI names to {target, higher_is_better}",
    "records": "a mapping from hold, after_call_work, fcr, csat to true or false",
    "voc_taxonomy": "a file (relative to the center file)",
    "voc_domain_words": "a file (relative to the center file)",
    "training_modules": "a file (relative to the center file)",
    "reports": "a mapping: trend_months, voc_history, training_months",
    "labels": "a mapping: skills, topics -> {id: {zh: label, en: label}} (how the center's tags read on pages)",
    "case_cues": "a file (relative to the center file): cue phrases per item for case-library excerpts",
}

#: The KPIs a center may set a target for: whether each is a rate (0–1) or a duration in seconds.
KPI_UNITS = {
    "answer_rate": "rate", "abandon_rate": "rate", "personal_abandon_rate": "rate", "information_accuracy": "rate",
    "service_standard": "rate", "fcr": "rate", "csat_satisfied": "rate",
    "aht_seconds": "seconds", "avg_talk_seconds": "seconds", "avg_hold_seconds": "seconds", "avg_acw_seconds": "seconds",
}
#: Which way is better, per KPI (a center may say otherwise).
KPI_HIGHER_IS_BETTER = {"answer_rate": True, "abandon_rate": False, "personal_abandon_rate": False, "information_accuracy": True,
                        "service_standard": True, "fcr": True, "csat_satisfied": True, "aht_seconds": False,
                        "avg_talk_seconds": False, "avg_hold_seconds": False, "avg_acw_seconds": False}
#: The optional fields of a contact log and the KPIs that need them; ``records: {hold: false}`` says the center does
#: not record hold time, and its KPIs read "not recorded" instead of 0.
RECORDED_FIELDS = {"hold": ("hold_seconds", ("avg_hold_seconds",)), "after_call_work": ("acw_seconds", ("avg_acw_seconds",)),
                   "fcr": ("fcr", ("fcr",)), "csat": ("csat", ("csat_satisfied",))}
#: Report options and their defaults.
REPORT_OPTIONS = {"trend_months": 6, "voc_history": 6, "training_months": 3}


@dataclass(frozen=True)
class Settings:
    """A center's settings, validated (see the module's table for where each comes from)."""

    home: Path
    db_url: str
    reports_dir: Path
    samples_dir: Path
    voc_taxonomy: Path
    voc_domain_words: Path
    training_modules: Path
    executor: str = "local"
    chromium: str | None = None
    sqlite_busy_seconds: float = 30.0
    max_rows: int = 1_500_000
    max_cells: int = 40_000_000
    max_file_mb: float = 1024.0
    max_expanded_mb: float = 2048.0
    max_zip_ratio: float = 100.0
    center_file: Path | None = None
    db_from_env: bool = False
    name: str = ""
    lang: str = "zh"
    timezone: str = "Asia/Shanghai"
    headline_scorecard: str | None = None
    headline_scorecards: tuple = ()
    score_target: float | None = None
    item_target: float = 0.85
    answer_within_seconds: float = 10.0
    kpi_targets: dict = field(default_factory=dict, compare=False)
    records: dict = field(default_factory=lambda: dict.fromkeys(RECORDED_FIELDS, True), compare=False)
    report_options: dict = field(default_factory=lambda: dict(REPORT_OPTIONS), compare=False)
    labels: dict = field(default_factory=lambda: {"skills": {}, "topics": {}}, compare=False)
    case_cues: Path | None = None

    def label(self, kind: str, key, lang: str) -> str:
        """How the center's tag ``key`` of ``kind`` (``skills`` or ``topics``) reads in ``lang``: its label from
        ``labels`` in center.yaml, else the tag itself (a center that writes its tags in its own language needs none)."""
        entry = self.labels.get(kind, {}).get(key)
        return str(entry.get(lang) or entry.get("zh") or entry.get("en")) if isinstance(entry, dict) else str(key)
    sources: dict = field(default_factory=dict, compare=False, repr=False)

    def need_score_target(self) -> float:
        """The headline score target, or a :class:`ConfigError` saying where to set it."""
        if self.score_target is None:
            where = self.center_file or self.home / "center.yaml"
            raise ConfigError(f"no score target is set: add `score_target: 80` (your center's target) to {where}")
        return self.score_target

    def targets(self) -> dict:
        """The KPI targets as :func:`qa_lib.kpi.load_targets` gives them: ``answer_within_seconds`` and, per KPI,
        ``target`` (``None`` when the center set none), ``higher_is_better`` and ``recorded`` (``False`` for a KPI on a
        field the center does not record)."""
        not_recorded = {k for f, (_, kpis) in RECORDED_FIELDS.items() if not self.records.get(f, True) for k in kpis}
        kpis = {}
        for name in KPI_UNITS:
            spec = dict(self.kpi_targets.get(name, {}))
            kpis[name] = {"target": spec.get("target"), "higher_is_better": spec.get("higher_is_better", KPI_HIGHER_IS_BETTER[name]),
                          "recorded": name not in not_recorded, **({"pass_score": spec["pass_score"]} if "pass_score" in spec else {})}
        if "pass_score" not in kpis["service_standard"] and self.score_target is not None:
            kpis["service_standard"]["pass_score"] = self.score_target
        return {"answer_within_seconds": self.answer_within_seconds, "kpis": kpis}

    def scorecard_for(self, channel: str | None = None, direction: str | None = None) -> str | None:
        """The headline scorecard of contacts of this channel and direction (``channel/direction``, then the direction,
        then the channel, then the first one set)."""
        table = dict(self.headline_scorecards)
        for key in (f"{channel}/{direction}", direction, channel):
            if key in table:
                return table[key]
        return self.headline_scorecard


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _path(name: str, default: Path) -> Path:
    value = _env(name)
    return Path(value).expanduser() if value else default


def _number(value, what: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high or isinstance(value, bool):
        raise ConfigError(f"{what} must be a number from {low:g} to {high:g}; got {value!r}")
    return number


def _center(path: Path | None) -> dict:
    """The center file's settings, checked key by key (unknown keys are refused, naming the allowed ones).

    Parsed once per version of the file (its modification time): :func:`settings` is called on every new
    database connection, and re-reading the YAML there is work for nothing.
    """
    if path is None:
        return {}
    return copy.deepcopy(_parsed_center(str(path), path.stat().st_mtime_ns))  # the cached parse is never handed out to be changed


@functools.lru_cache(maxsize=8)
def _parsed_center(name: str, mtime_ns: int) -> dict:
    from .ingest import read_config_yaml

    path, data = read_config_yaml(name, "center settings")
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of settings ({', '.join(CENTER_KEYS)}); got {type(data).__name__}")
    unknown = sorted(set(data) - set(CENTER_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; allowed: {', '.join(CENTER_KEYS)}")
    out = {}
    if data.get("name") is not None:
        out["name"] = str(data["name"])
    if "lang" in data:
        if data["lang"] not in ("zh", "en"):
            raise ConfigError(f"{path}: lang must be zh or en; got {data['lang']!r}")
        out["lang"] = data["lang"]
    if data.get("timezone") is not None:
        out["timezone"] = _timezone(data["timezone"], path)
    if data.get("headline_scorecard") is not None:
        out["headline_scorecards"] = _headline(data["headline_scorecard"], path)
        out["headline_scorecard"] = out["headline_scorecards"][0][1]
    if data.get("score_target") is not None:
        out["score_target"] = _number(data["score_target"], f"{path}: score_target", 0, 100)
    if data.get("item_target") is not None:
        out["item_target"] = _number(data["item_target"], f"{path}: item_target", 0, 1)
    if data.get("answer_within_seconds") is not None:
        out["answer_within_seconds"] = _number(data["answer_within_seconds"], f"{path}: answer_within_seconds", 1e-9, 86400)
    out["kpi_targets"] = _kpis(data.get("kpis"), path)
    out["records"] = _records(data.get("records"), path)
    out["report_options"] = _report_options(data.get("reports"), path)
    out["labels"] = _labels(data.get("labels"), path)
    for key in ("voc_taxonomy", "voc_domain_words", "training_modules", "case_cues"):
        if data.get(key) is not None:
            if not isinstance(data[key], str) or not data[key].strip():
                raise ConfigError(f"{path}: {key} must be a file name (relative to {path.parent}); got {data[key]!r}")
            out[key] = (path.parent / Path(data[key].strip()).expanduser()).resolve()
    return out


def _mapping(value, key: str, path: Path) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key} must be a mapping; got {value!r}")
    return value


def _timezone(value, path: Path) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: timezone must be an IANA time zone such as Asia/Shanghai or Europe/London; got {value!r}") from None
    return str(value)


def _headline(value, path: Path) -> tuple:
    """``headline_scorecard``: one id, or ``{inbound: id, outbound: id}`` / ``{hotline/inbound: id, online: id}``."""
    from .model import CHANNELS, DIRECTIONS

    if not isinstance(value, (str, dict)):
        raise ConfigError(f"{path}: headline_scorecard must be a scorecard id, or a mapping such as {{inbound: ID, outbound: ID}}; got {value!r}")
    pairs = [("*", value)] if isinstance(value, str) else list(value.items())
    if not pairs:
        raise ConfigError(f"{path}: headline_scorecard must name at least one scorecard")
    out = []
    for key, card in pairs:
        if key != "*":
            parts = str(key).split("/")
            ok = (len(parts) == 1 and parts[0] in (*CHANNELS, *DIRECTIONS)) or (len(parts) == 2 and parts[0] in CHANNELS and parts[1] in DIRECTIONS)
            if not ok:
                raise ConfigError(f"{path}: headline_scorecard keys must be a direction ({', '.join(DIRECTIONS)}), a channel "
                                  f"({', '.join(CHANNELS)}) or channel/direction; got {key!r}")
        if not isinstance(card, str) or not card.strip():
            raise ConfigError(f"{path}: headline_scorecard{'' if key == '*' else '.' + str(key)} must be a scorecard id; got {card!r}")
        out.append((str(key), card.strip()))
    return tuple(out)


def _kpis(value, path: Path) -> dict:
    out = {}
    for name, spec in _mapping(value, "kpis", path).items():
        where = f"{path}: kpis.{name}"
        if name not in KPI_UNITS:
            raise ConfigError(f"{where}: unknown KPI; allowed: {', '.join(KPI_UNITS)}")
        spec = {"target": spec} if spec is None or isinstance(spec, (int, float)) and not isinstance(spec, bool) else spec
        if not isinstance(spec, dict) or set(spec) - {"target", "higher_is_better", "pass_score"}:
            raise ConfigError(f"{where}: must be a number or a mapping of target, higher_is_better{', pass_score' if name == 'service_standard' else ''}; got {spec!r}")
        entry = {}
        if spec.get("target") is not None:
            rate = KPI_UNITS[name] == "rate"
            entry["target"] = _number(spec["target"], f"{where}.target ({'a rate' if rate else 'seconds'})", 0, 1 if rate else 86400)
        if "higher_is_better" in spec:
            if not isinstance(spec["higher_is_better"], bool):
                raise ConfigError(f"{where}.higher_is_better must be true or false; got {spec['higher_is_better']!r}")
            entry["higher_is_better"] = spec["higher_is_better"]
        if spec.get("pass_score") is not None:
            if name != "service_standard":
                raise ConfigError(f"{where}: pass_score belongs to service_standard only")
            entry["pass_score"] = _number(spec["pass_score"], f"{where}.pass_score", 0, 100)
        out[name] = entry
    return out


def _records(value, path: Path) -> dict:
    out = dict.fromkeys(RECORDED_FIELDS, True)
    for key, flag in _mapping(value, "records", path).items():
        if key not in RECORDED_FIELDS:
            raise ConfigError(f"{path}: records.{key} is unknown; allowed: {', '.join(RECORDED_FIELDS)}")
        if not isinstance(flag, bool):
            raise ConfigError(f"{path}: records.{key} must be true or false; got {flag!r}")
        out[key] = flag
    return out


def _labels(value, path: Path) -> dict:
    out = {"skills": {}, "topics": {}}
    for kind, table in _mapping(value, "labels", path).items():
        if kind not in out:
            raise ConfigError(f"{path}: labels.{kind} is unknown; allowed: skills, topics")
        for key, entry in _mapping(table, f"labels.{kind}", path).items():
            if not isinstance(entry, dict) or not entry or set(entry) - {"zh", "en"} or not all(isinstance(v, str) for v in entry.values()):
                raise ConfigError(f"{path}: labels.{kind}.{key} must be {{zh: text, en: text}}; got {entry!r}")
            out[kind][str(key)] = dict(entry)
    return out


def _report_options(value, path: Path) -> dict:
    out = dict(REPORT_OPTIONS)
    limits = {"trend_months": (1, 36), "voc_history": (2, 36), "training_months": (1, 12)}
    for key, v in _mapping(value, "reports", path).items():
        if key not in REPORT_OPTIONS:
            raise ConfigError(f"{path}: reports.{key} is unknown; allowed: {', '.join(REPORT_OPTIONS)}")
        low, high = limits[key]
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise ConfigError(f"{path}: reports.{key} must be a whole number from {low} to {high}; got {v!r}")
        out[key] = v
    return out


def new_center(path: str | os.PathLike, *, name: str | None = None, lang: str = "zh", timezone: str = "Asia/Shanghai") -> list[Path]:
    """Create a center's project folder at ``path`` (``qa new``): ``center.yaml`` (every setting, commented; targets
    left empty for the center to set), a starter ``voc_taxonomy.yaml``, and the folders ``data/``, ``reports/`` and
    ``mappings/`` (with a README on mapping files). Refuses a folder that already holds a ``center.yaml`` or other
    files, so nothing of a center is ever overwritten. Returns the files written.

    >>> import tempfile; folder = Path(tempfile.mkdtemp()) / "华东中心"
    >>> [p.name for p in new_center(folder, name="华东客服中心")]
    ['center.yaml', 'voc_taxonomy.yaml', 'README.md']
    >>> settings(home=folder).lang, _center(folder / "center.yaml")["name"]
    ('zh', '华东客服中心')
    """
    import json
    from importlib.resources import files

    folder = Path(path).expanduser()
    if lang not in ("zh", "en"):
        raise ParameterError(f"lang must be zh or en; got {lang!r}")
    try:
        _timezone(timezone, Path("qa new"))
    except ConfigError as exc:
        raise ParameterError(str(exc)) from None
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        what = "already holds a center (center.yaml)" if (folder / "center.yaml").exists() else "is not empty"
        raise ParameterError(f"{folder} {what}: choose a new or empty folder; nothing was written")
    template = files("qa_lib") / "resources" / "center"
    center_text = template.joinpath("center.yaml").read_text(encoding="utf-8").format(
        name=json.dumps(name or folder.resolve().name, ensure_ascii=False), lang=lang, timezone=timezone)
    for sub in ("data", "reports", "mappings"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    written = [folder / "center.yaml", folder / "voc_taxonomy.yaml", folder / "mappings" / "README.md"]
    written[0].write_text(center_text, encoding="utf-8")
    written[1].write_text(template.joinpath("voc_taxonomy.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    written[2].write_text(template.joinpath("mappings_README.md").read_text(encoding="utf-8"), encoding="utf-8")
    _center(written[0])  # the template must be a valid center file
    return written


def find_center(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest folder, from ``start`` (the current folder) upwards, holding a ``center.yaml``: the center's
    project folder, as ``git`` finds its repository. ``None`` when there is none."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "center.yaml").is_file():
            return folder
    return None


def use_center_folder() -> Path | None:
    """Called once by the ``qa`` command: with no ``QA_HOME``, a ``center.yaml`` found from the current folder upwards
    makes that folder the project, for this process and the report kernels it starts (exported as ``QA_HOME``)."""
    if _env("QA_HOME"):
        return None
    found = find_center()
    if found is not None:
        os.environ["QA_HOME"] = str(found)
    return found


def settings(**overrides) -> Settings:
    """The center's settings from the environment and the center file; ``overrides`` replace fields (e.g. in tests).

    Built afresh on each call (the environment is read here and nowhere else), so a changed variable takes effect;
    the center file is parsed again only when it changes.
    """
    env_home = _env("QA_HOME")
    home = Path(env_home).expanduser() if env_home else Path(__file__).resolve().parents[1]
    if not home.is_dir():
        raise ConfigError(f"QA_HOME={env_home!r} is not a folder")
    samples = home / "data" / "samples"
    center_env = _env("QA_CENTER")
    if center_env:
        center_file = Path(center_env).expanduser()
        if not center_file.is_file():
            raise ConfigError(f"QA_CENTER={center_env!r} is not a file")
    else:
        center_file = next((p for p in (home / "center.yaml", samples / "center.yaml") if p.is_file()), None)
    busy = _env("QA_SQLITE_BUSY_SECONDS")
    try:
        busy_seconds = float(busy) if busy is not None else 30.0
    except ValueError:
        raise ConfigError(f"QA_SQLITE_BUSY_SECONDS must be a number of seconds; got {busy!r}") from None
    limits = {}
    for var, key in (("QA_MAX_ROWS", "max_rows"), ("QA_MAX_CELLS", "max_cells"), ("QA_MAX_FILE_MB", "max_file_mb"),
                     ("QA_MAX_EXPANDED_MB", "max_expanded_mb"), ("QA_MAX_ZIP_RATIO", "max_zip_ratio")):
        raw, default = _env(var), Settings.__dataclass_fields__[key].default
        if raw is None:
            continue
        try:
            value = float(raw.replace(",", "").replace("_", ""))
        except ValueError:
            value = float("nan")
        if not value > 0 or (isinstance(default, int) and not value.is_integer()):
            raise ConfigError(f"{var} must be a positive {'whole ' if isinstance(default, int) else ''}number; got {raw!r}")
        limits[key] = type(default)(value)
    center = _center(center_file)
    # a center's own files sit beside its center.yaml; the sample files are the default of the sample center only
    beside = samples if center_file is None or center_file.parent == samples else center_file.parent
    base = Settings(
        home=home,
        db_url=_env("QA_DB_URL") or sqlite_url(home / "data" / "qa.sqlite"),
        reports_dir=_path("QA_REPORTS_DIR", home / "reports"),
        samples_dir=samples,
        voc_taxonomy=_path("QA_VOC_TAXONOMY", center.pop("voc_taxonomy", beside / "voc_taxonomy.yaml")),
        voc_domain_words=_path("QA_VOC_DOMAIN_WORDS", center.pop("voc_domain_words", beside / "voc_domain_words.txt")),
        training_modules=_path("QA_TRAINING_MODULES", center.pop("training_modules", beside / "training_modules.yaml")),
        executor=_env("QA_EXECUTOR") or "local",
        chromium=_env("QA_CHROMIUM"),
        sqlite_busy_seconds=max(0.0, busy_seconds),
        center_file=center_file,
        db_from_env=_env("QA_DB_URL") is not None,
        **limits,
        **center,
    )
    return replace(base, **overrides) if overrides else base


def project_root() -> Path:
    """The project folder: ``$QA_HOME`` if set, else the folder holding ``qa_lib``."""
    return settings().home


def notebooks_dir() -> Path:
    """The notebook templates: they ship with the code, so they are found beside ``qa_lib`` (not under ``$QA_HOME``)."""
    return Path(__file__).resolve().parents[1] / "notebooks"


def samples_dir() -> Path:
    """``data/samples`` of the project: generated sample data and scorecards."""
    return settings().samples_dir


def reports_dir() -> Path:
    """Where generated reports go: ``$QA_REPORTS_DIR`` or ``reports/``."""
    return settings().reports_dir


def lab_dir() -> Path:
    """Where ``qa lab`` runs notebooks: ``lab/`` of the project (working copies of the templates; not committed)."""
    return project_root() / "lab"


def models_dir() -> Path:
    """Where ``qa autoqa train`` keeps the learned scorers, one folder per scorecard and version (``models/`` of the
    project; generated, not committed: a model is rebuilt from the database by the same command)."""
    return project_root() / "models"


def default_db_path() -> Path:
    """The embedded SQLite database used when no URL is given: the one database of the CLI, the notebooks,
    the workbench and ``qa demo`` (which rebuilds it only while it holds nothing but the samples)."""
    return project_root() / "data" / "qa.sqlite"


def database_url(url: str | os.PathLike | None = None) -> str:
    """Resolve a database URL.

    Order: the ``url`` argument (an SQLAlchemy URL, or a path to a SQLite file), then
    ``$QA_DB_URL``, then the default SQLite file :func:`default_db_path`. A SQLite file is always named by its
    absolute path (a relative ``sqlite:///x.sqlite`` is the file in the current folder), escaped by :func:`sqlite_url`.

    >>> database_url("sqlite:////srv/qa/x.sqlite")
    'sqlite:////srv/qa/x.sqlite'
    >>> database_url("postgresql+psycopg://qa@db/qa")
    'postgresql+psycopg://qa@db/qa'
    >>> database_url("/tmp/qa.sqlite")
    'sqlite:////tmp/qa.sqlite'
    """
    if url is None:
        url = settings().db_url
    url = os.fspath(url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and len(url) > len("sqlite:///"):
        return sqlite_url(Path(url[len("sqlite:///"):]))  # a relative path: the same file from any folder (kernels run in lab/)
    if "://" in url:
        return url
    return sqlite_url(Path(url))


def sqlite_url(path: str | os.PathLike) -> str:
    """The URL of a SQLite file: absolute, with ``%``, ``?`` and ``#`` escaped (SQLAlchemy would read them as escapes,
    a query or a fragment and open another file).

    >>> sqlite_url("/tmp/we?ird #1/qa.sqlite")
    'sqlite:////tmp/we%3Fird %231/qa.sqlite'
    """
    text = str(Path(path).expanduser().resolve())
    return "sqlite:///" + text.replace("%", "%25").replace("?", "%3F").replace("#", "%23")


def voc_taxonomy_path() -> Path:
    """The VOC topic taxonomy: ``$QA_VOC_TAXONOMY`` or ``data/samples/voc_taxonomy.yaml``."""
    return settings().voc_taxonomy


def voc_domain_words_path() -> Path:
    """Domain words for Chinese segmentation: ``$QA_VOC_DOMAIN_WORDS`` or ``data/samples/voc_domain_words.txt``."""
    return settings().voc_domain_words


def training_modules_path() -> Path:
    """Training modules (id, title, skills, hours): ``$QA_TRAINING_MODULES`` or ``data/samples/training_modules.yaml``."""
    return settings().training_modules


_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*):(?P<password>[^/\s]*)@")


def _passwords(url: str) -> set[str]:
    try:
        raw = urlsplit(url).password
    except ValueError:
        return set()
    return {p for p in (raw, unquote(raw) if raw else None) if p}


def redact(text: str, *urls: str) -> str:
    """``text`` with no database password in it: every ``scheme://user:password@`` loses its password, and the
    passwords of ``urls`` and of the configured database (``QA_DB_URL``) are replaced wherever they appear.

    Every message the CLI prints and every report error goes through this.

    >>> redact("cannot connect to postgresql+psycopg://qa:s3cr%40t@db:5432/qa")
    'cannot connect to postgresql+psycopg://qa:***@db:5432/qa'
    >>> redact("login failed (password 's3cr@t')", "postgresql://qa:s3cr%40t@db/qa")
    "login failed (password '***')"
    """
    text = _USERINFO.sub(lambda m: m.group("head") + ":***@", str(text))
    try:
        configured = settings().db_url
    except ConfigError:
        configured = ""
    secrets = set().union(*(_passwords(u) for u in (*urls, configured) if u))
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:  # a one- or two-letter password would blank out ordinary text; it is no secret anyway
            text = text.replace(secret, "***")
    return text


def safe_url(url: str) -> str:
    """A database URL as it may be shown: without its password.

    >>> safe_url("postgresql+psycopg://qa:pw%2Fx@127.0.0.1:5432/qa")
    'postgresql+psycopg://qa:***@127.0.0.1:5432/qa'
    """
    return redact(url, url)
