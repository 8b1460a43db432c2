"""KPIs of seed 000, per agent / team / center, each with its interval, its n, and a status against target.

Rates carry a Wilson interval that respects the design: contacts of one day share that day's
staffing and volume, so a rate's interval is Wilson's at the effective n after the design effect
of day clusters (per agent: agent-days), with columns ``deff`` and ``n_eff``
(:func:`qa_lib.stats.proportions.clustered_wilson_interval`); service-standard attainment weighs
the random arm by its inclusion probabilities (Horvitz–Thompson). Durations carry a t interval on
the mean. The status against a target is decided by the interval (``met``, ``missed``, ``not
enough evidence``), never by the point value alone. Non-regular calls (misdial, one-ring hang-up, silence,
harassment) are counted as offered traffic but never in handling times.

Formulas (DOMAIN.md):

* answer rate = inbound hotline calls answered within T s (default 10) / inbound hotline calls offered;
* abandon rate = abandoned / offered; personal abandon rate = calls abandoned while ringing
  at the agent / calls connected to the agent (answered + abandoned at the agent);
* AHT = mean talk + mean hold + mean after-call work (answered regular calls);
* FCR = resolved at first contact among sampled lines whose resolution is known;
* information accuracy = (records checked − records with errors) / records checked;
* service-standard attainment = share of random-arm evaluations at or above the pass score;
* contacts per staffed hour = contacts handled / staffed hours. The data model has no
  schedule, so staffed hours are taken from the contacts themselves: per agent and day,
  from the start of the first contact to the end of the last (a lower bound of the real
  staffed time, hence an upper bound of the rate; pass real hours with ``staffed_hours``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from .calibration import counted_once
from .errors import ParameterError
from .scores import verdict
from .stats.proportions import clustered_wilson_interval, weighted_wilson_interval, wilson_interval

__all__ = ["load_targets", "contact_kpis", "accuracy_kpi", "service_standard_kpi", "fcr_kpi", "rate_rows", "contacts_per_hour", "aht_basis",
           "not_recorded_row", "NOT_RECORDED"]

_COLUMNS = ["group", "kpi", "value", "low", "high", "n", "target", "status", "unit", "deff", "n_eff"]


def load_targets(path: str | os.PathLike | None = None) -> dict:
    """The KPI targets: the center's (``kpis``, ``answer_within_seconds`` and ``records`` of its ``center.yaml``, see
    :meth:`qa_lib.config.Settings.targets`), or those of the YAML file given (``answer_within_seconds`` and a ``kpis``
    mapping of ``{target, higher_is_better}``). A KPI with no target gets the status ``no target``; one on a field the
    center does not record, ``not recorded``."""
    if path is None:
        from .config import settings

        return settings().targets()
    p = Path(path)
    try:
        cfg = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"targets file {str(p)!r} cannot be read: {exc}") from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("kpis"), dict):
        raise ParameterError(f"targets file {str(p)!r} must have a 'kpis' mapping")
    return cfg


NOT_RECORDED = "not recorded"


def _status(low, high, spec: dict) -> list[str]:
    target = spec.get("target")
    if not spec.get("recorded", True):
        return [NOT_RECORDED] * len(low)
    if target is None:
        return ["no target"] * len(low)
    return [verdict(lo, hi, target, spec.get("higher_is_better", True)) if n_ok else "not enough evidence"
            for lo, hi, n_ok in zip(low, high, ~(np.isnan(np.asarray(low, dtype=float))))]


def rate_rows(successes: pd.Series, n: pd.Series, kpi: str, targets: dict, confidence: float = 0.95, *,
              design: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy rows for a rate KPI per group (index = group) with its Wilson interval and status.

    ``design``: per group (index) the ``low, high, deff, n_eff`` of a clustered or weighted interval
    (:mod:`qa_lib.stats.proportions`), and ``value`` when the estimate is weighted; without it the events count as
    independent (``deff`` 1, ``n_eff`` = n).
    """
    spec = targets["kpis"].get(kpi, {"target": None})
    k, m = successes.to_numpy(dtype=float), n.to_numpy(dtype=float)
    if design is None:
        lo, hi = wilson_interval(k, m, confidence)
        deff, n_eff = np.ones_like(m), m.copy()
    else:
        d = design.reindex(n.index)
        lo, hi, deff, n_eff = (d[c].to_numpy(dtype=float) for c in ("low", "high", "deff", "n_eff"))
    lo, hi = np.where(m > 0, lo, np.nan), np.where(m > 0, hi, np.nan)
    value = np.where(m > 0, k / np.where(m > 0, m, 1), np.nan)
    if design is not None and "value" in design.columns:
        value = np.where(m > 0, design["value"].reindex(n.index).to_numpy(dtype=float), np.nan)
    return pd.DataFrame({"group": n.index, "kpi": kpi, "value": value, "low": lo, "high": hi, "n": m.astype(int),
                         "target": spec.get("target"), "status": _status(lo, hi, spec), "unit": "rate",
                         "deff": np.where(m > 0, deff, np.nan), "n_eff": np.where(m > 0, n_eff, 0.0)})


def _day(frame: pd.DataFrame, column: str) -> pd.Series | None:
    """The calendar day of each row from ``column`` (a missing time is a day of its own), or None without the column."""
    if column not in frame.columns:
        return None
    t = pd.to_datetime(frame[column], errors="coerce")
    return t.dt.normalize().fillna(pd.Timestamp("1900-01-01"))


def _clustered_rows(ok: pd.Series, base: pd.Series, key: pd.Series, day: pd.Series | None, kpi: str, targets: dict,
                    confidence: float, groups: pd.Index | None = None) -> pd.DataFrame:
    """Rate rows of ``ok`` among the ``base`` rows per group, its interval from the group's day clusters (by agent: agent-days)."""
    b = base.to_numpy(dtype=bool)
    k = ok[b].astype(bool).groupby(key[b]).sum()
    m = key[b].groupby(key[b]).size()
    index = groups if groups is not None else m.index
    k, m = k.reindex(index, fill_value=0), m.reindex(index, fill_value=0)
    if day is None or not b.any():
        return rate_rows(k, m, kpi, targets, confidence)
    cl = pd.DataFrame({"g": key[b].to_numpy(), "d": day[b].to_numpy(), "k": ok[b].astype(bool).to_numpy()}).groupby(["g", "d"])["k"].agg(["sum", "size"])
    design = clustered_wilson_interval(cl["sum"].to_numpy(), cl["size"].to_numpy(), cl.index.get_level_values("g"), confidence)
    return rate_rows(k, m, kpi, targets, confidence, design=design)


def _mean_rows(g, kpi: str, targets: dict, confidence: float) -> pd.DataFrame:
    spec = targets["kpis"].get(kpi, {"target": None})
    a = g.agg(["mean", "std", "count"])
    n = a["count"].to_numpy(dtype=float)
    half = np.where(n >= 2, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * a["std"].to_numpy() / np.sqrt(np.maximum(n, 1)), np.nan)
    lo, hi = a["mean"].to_numpy() - half, a["mean"].to_numpy() + half
    status = np.where(n == 0, NOT_RECORDED, _status(lo, hi, spec))  # a field blank on every contact is not recorded, not 0
    return pd.DataFrame({"group": a.index, "kpi": kpi, "value": a["mean"].to_numpy(), "low": lo, "high": hi, "n": n.astype(int),
                         "target": spec.get("target"), "status": status, "unit": "seconds", "deff": np.nan, "n_eff": np.nan})


def _key(df: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("center", index=df.index)
    if by not in df.columns:
        raise ParameterError(f"by must be a column of the frame (e.g. agent_id or team) or None; got {by!r}")
    return df[by].fillna("(none)")


def contact_kpis(contacts: pd.DataFrame, *, by: str | None = None, targets: dict | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Answer rate, abandon rates, hold, talk, wrap-up and AHT from contact records, per group.

    ``contacts`` has the store's contact columns (and ``by``, e.g. ``team``, merged in).
    Returns one tidy row per group and KPI: ``group, kpi, value, low, high, n, target, status, unit``.
    """
    targets = targets or load_targets()
    need = ["channel", "direction", "answered", "abandoned", "wait_seconds", "talk_seconds", "hold_seconds", "acw_seconds", "contact_type", "agent_id"]
    missing = [c for c in need if c not in contacts.columns]
    if missing:
        raise ParameterError(f"contacts must have columns {need}; missing {missing}")
    within = float(targets.get("answer_within_seconds", 10))
    c = contacts
    key = _key(c, by)
    inbound = (c["channel"] == "hotline") & (c["direction"] == "inbound")
    answered = c["answered"].fillna(False).astype(bool)
    abandoned = c["abandoned"].fillna(False).astype(bool)
    fast = answered & (c["wait_seconds"].fillna(np.inf) <= within)
    groups = pd.Index(key.unique()).sort_values()
    day = _day(c, "start_time")
    rows = [
        _clustered_rows(fast, inbound, key, day, "answer_rate", targets, confidence, groups),
        _clustered_rows(abandoned, inbound, key, day, "abandon_rate", targets, confidence, groups),
    ]
    at_agent = inbound & c["agent_id"].notna()
    rows.append(_clustered_rows(abandoned, at_agent & (answered | abandoned), key, day, "personal_abandon_rate", targets, confidence, groups))
    handled = answered & (c["contact_type"] != "non_regular") & (c["channel"] == "hotline")
    parts = _recorded_parts(c.loc[handled], targets)
    h = c.loc[handled].assign(_k=key[handled], _aht=c.loc[handled, parts].fillna(0).sum(axis=1).where(c.loc[handled, parts].notna().any(axis=1)))
    for col, kpi in (("hold_seconds", "avg_hold_seconds"), ("acw_seconds", "avg_acw_seconds")):
        if not targets["kpis"].get(kpi, {}).get("recorded", True):
            h[col] = np.nan  # the center says it does not record it: whatever the log holds is not shown as a figure
    gk = h.groupby("_k")
    rows += [
        _mean_rows(gk["_aht"], "aht_seconds", targets, confidence),
        _mean_rows(gk["talk_seconds"], "avg_talk_seconds", targets, confidence),
        _mean_rows(gk["hold_seconds"], "avg_hold_seconds", targets, confidence),
        _mean_rows(gk["acw_seconds"], "avg_acw_seconds", targets, confidence),
    ]
    out = pd.concat([r for r in rows if len(r)], ignore_index=True)
    return out[_COLUMNS].sort_values(["group", "kpi"], ignore_index=True)


def _recorded_parts(handled: pd.DataFrame, targets: dict) -> list[str]:
    """The parts of the handling time the center records: talk, and hold and after-call work unless the center says it
    does not record them or they are blank on every handled contact (AHT is then the sum of the recorded parts)."""
    parts = ["talk_seconds"]
    for col, kpi in (("hold_seconds", "avg_hold_seconds"), ("acw_seconds", "avg_acw_seconds")):
        if targets["kpis"].get(kpi, {}).get("recorded", True) and handled[col].notna().any():
            parts.append(col)
    return parts


def aht_basis(contacts: pd.DataFrame, targets: dict | None = None) -> list[str]:
    """Which duration fields the AHT of these contacts adds up (``talk_seconds`` and those of hold and after-call work
    the center records), for a report to say what its AHT is made of."""
    targets = targets or load_targets()
    answered = contacts["answered"].fillna(False).astype(bool) & (contacts["contact_type"] != "non_regular") & (contacts["channel"] == "hotline")
    return _recorded_parts(contacts.loc[answered], targets)


def not_recorded_row(kpi: str, group: str = "center", targets: dict | None = None) -> pd.DataFrame:
    """One tidy row saying a KPI is ``not recorded`` (no value, no interval, n = 0)."""
    targets = targets or load_targets()
    spec = targets["kpis"].get(kpi, {})
    return pd.DataFrame({"group": [group], "kpi": kpi, "value": np.nan, "low": np.nan, "high": np.nan, "n": 0,
                         "target": spec.get("target"), "status": NOT_RECORDED, "unit": "rate", "deff": np.nan, "n_eff": 0.0})


def fcr_kpi(contacts: pd.DataFrame, *, by: str | None = None, targets: dict | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """First-contact resolution among contacts whose resolution is known (sampled lines)."""
    targets = targets or load_targets()
    known = contacts[contacts["fcr"].notna()] if targets["kpis"].get("fcr", {}).get("recorded", True) else contacts.iloc[:0]
    if known.empty:
        return not_recorded_row("fcr", targets=targets) if by is None else pd.DataFrame(columns=_COLUMNS)
    key = _key(known, by)
    ok = known["fcr"].astype(bool)
    return _clustered_rows(ok, pd.Series(True, index=known.index), key, _day(known, "start_time"), "fcr", targets, confidence)[_COLUMNS]


def accuracy_kpi(checks: pd.DataFrame, *, by: str | None = None, targets: dict | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Information accuracy: (records checked − records with errors) / records checked."""
    targets = targets or load_targets()
    key = _key(checks, by)
    ok = ~checks["has_error"].astype(bool)
    return _clustered_rows(ok, pd.Series(True, index=checks.index), key, _day(checks, "checked_on"), "information_accuracy", targets,
                           confidence)[_COLUMNS]


def service_standard_kpi(evaluations: pd.DataFrame, *, by: str | None = None, targets: dict | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Service-standard attainment: share of random-arm evaluations scoring at least the pass score.

    Only the random arm counts: targeted reviews and calibration sessions never move the headline. With an
    ``inclusion_prob`` column (the plan's, per contact) each evaluation weighs 1/π — the Horvitz–Thompson (Hájek)
    share, so an agent sampled 8 of 40 calls does not count as much as one sampled 8 of 400 — and the interval is
    Wilson's at Kish's effective n (``deff`` = the weighting's design effect); without it the share is unweighted.
    """
    targets = targets or load_targets()
    spec = targets["kpis"].get("service_standard", {})
    pass_score = float(spec.get("pass_score", 80))
    if "arm" not in evaluations.columns:
        raise ParameterError("evaluations must have an 'arm' column (random, targeted or calibration): without it targeted "
                             f"reviews would mix into the headline; got columns {list(evaluations.columns)}")
    ev = counted_once(evaluations) if "contact_id" in evaluations else evaluations  # each double-scored call once (calibration.py)
    ev = ev[(ev["arm"] == "random") & ev["total_score"].notna()]
    key = _key(ev, by)
    ok = ev["total_score"] >= pass_score
    if "inclusion_prob" not in ev.columns:
        return rate_rows(ok.groupby(key).sum(), ok.groupby(key).size(), "service_standard", targets, confidence)[_COLUMNS]
    design = weighted_wilson_interval(ok.to_numpy(), 1 / _inclusion(ev), key.to_numpy(), confidence)
    return rate_rows(ok.groupby(key).sum(), ok.groupby(key).size(), "service_standard", targets, confidence, design=design)[_COLUMNS]


def _inclusion(ev: pd.DataFrame) -> np.ndarray:
    """The random arm's inclusion probabilities, each in (0, 1]; a ParameterError names the first row that is not."""
    pi = pd.to_numeric(ev["inclusion_prob"], errors="coerce").to_numpy(dtype=float)
    bad = ~((pi > 0) & (pi <= 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise ParameterError(f"inclusion_prob must be in (0, 1] for every random-arm evaluation; got {ev['inclusion_prob'].iloc[i]!r} "
                             f"at evaluation {ev['evaluation_id'].iloc[i] if 'evaluation_id' in ev else ev.index[i]!r}")
    return pi


def contacts_per_hour(contacts: pd.DataFrame, *, by: str | None = "agent_id", staffed_hours: pd.Series | None = None) -> pd.DataFrame:
    """Contacts handled (inbound and outbound, all channels) per staffed hour, per group.

    ``staffed_hours`` (hours per ``by`` group) when the center has them; otherwise the
    span from each agent-day's first contact to the end of its last, summed.
    """
    need = ["agent_id", "start_time", "answered", "talk_seconds", "hold_seconds", "acw_seconds"]
    missing = [c for c in need if c not in contacts.columns]
    if missing:
        raise ParameterError(f"contacts must have columns {need}; missing {missing}")
    h = contacts[contacts["answered"].fillna(False).astype(bool) & contacts["agent_id"].notna()].copy()
    h["_key"] = _key(h, by)
    if staffed_hours is None:
        end = h["start_time"] + pd.to_timedelta(h[["talk_seconds", "hold_seconds", "acw_seconds"]].fillna(0).sum(axis=1), unit="s")
        day = h.assign(_end=end, _day=h["start_time"].dt.normalize()).groupby(["_key", "agent_id", "_day"]).agg(first=("start_time", "min"), last=("_end", "max"))
        span = (day["last"] - day["first"]).dt.total_seconds() / 3600
        hours = span.groupby(level="_key").sum()
        source = "contact span"
    else:
        hours = staffed_hours.astype(float)
        source = "given"
    n = h.groupby("_key").size()
    hours = hours.reindex(n.index)
    return pd.DataFrame({"group": n.index, "kpi": "contacts_per_staffed_hour", "value": (n / hours).to_numpy(), "low": np.nan, "high": np.nan,
                         "n": n.to_numpy(), "target": None, "status": "no target", "unit": "per hour",
                         "staffed_hours": hours.to_numpy(), "hours_source": source})
