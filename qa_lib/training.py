"""Training needs (培训需求分析): which skills and items fail, for whom, how sure we are, and what to schedule.

A training lead plans from evidence, not from a handful of averages. For every agent and
team, and for every skill (the scorecard items' ``skills`` tags) and item, this module gives:

* the **failure rate** over the period's random-arm evaluations (targeted reviews are chosen
  for risk and would inflate it) with its Wilson interval, beside the **center** — the rate of
  everyone else, so a unit is never compared with itself;
* a **shrunk** rate (beta–binomial empirical Bayes across the units, see
  :func:`qa_lib.stats.beta_binomial_shrinkage`) and the **evidence strength**
  ``p_gap = P(true rate > center)`` under that posterior, which ranks the needs;
* the **need** flag: a one-sided exact test against the rest of the center, controlled for the many checks of the
  list (Benjamini–Hochberg q ≤ 5 %: at most about 1 in 20 flags is expected to be a false alarm);
* the **trend**: the same rate in the previous period of equal length, the change and a
  two-proportion test (:func:`qa_lib.stats.two_proportion_test`), its labels controlled the same way.

On top: a ranked list of needs per team, separating what the whole team needs (team-wide
training) from what single agents need (individual coaching); agents **grouped** by their gap
profile (k-means on shrunk item gaps, seeded, k chosen by silhouette) so training can be given
to groups; needs mapped to **training modules** from a small YAML file; and **new hires**
compared with the veterans over their tenure.

The statistics are pure functions of tidy frames; :func:`prepare_training` reads the store and
writes the report tables, :func:`training_view` reads them back for the notebook.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .calibration import counted_once
from .errors import ConfigError, NotFoundError, ParameterError
from .files import atomic_path, write_xlsx
from .fmt import DASH, check_lang, glossary, missing, num, pct, pct_interval, points
from .html import escape
from .ingest import read_config_yaml
from .stats.fdr import exceed_test, q_values
from .stats.proportions import wilson_interval
from .stats.shrinkage import beta_binomial_shrinkage, p_above
from .stats.spc import two_proportion_test

__all__ = [
    "item_catalog", "fail_flags", "failure_gaps", "p_above", "with_trend", "team_needs", "gap_matrix", "group_agents",
    "load_modules", "schedule_modules", "tenure_curve", "progress", "prepare_training", "training_prepared", "training_view",
    "texts", "headline", "needs_table", "groups_table", "schedule_table", "tenure_table", "progress_table", "charts", "html_table", "escape", "coaching_table", "open_table", "glossary_html", "plan_sheets",
]

#: Units a gap table can be computed for.
UNITS = ("agent_id", "team")
LEVELS = ("item", "skill")


def _need(df: pd.DataFrame, cols, name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ParameterError(f"{name} must have columns {list(cols)}; missing {missing}")


# ----------------------------------------------------------------------------- items and answers
def item_catalog(cards) -> pd.DataFrame:
    """One row per (scorecard, item, skill) for the pass/fail items of ``cards``.

    Bonus items and context questions (``scored: false``) are left out: they are not failures.
    An item without skill tags gets the skill ``other``. Columns: ``scorecard_id, item_id, skill,
    kind, critical, label_zh, label_en, scale_max``.
    """
    rows = []
    for card in cards:
        for it in card.items:
            if not it.scored or it.bonus:
                continue
            for skill in it.skills or ("other",):
                rows.append({
                    "scorecard_id": card.id, "item_id": it.id, "skill": skill, "kind": it.kind, "critical": bool(it.critical),
                    "label_zh": it.label.get("zh") or it.label.get("en") or it.id, "label_en": it.label.get("en") or it.id,
                    "scale_max": float(it.scale[1]) if it.kind == "scale" else np.nan,
                })
    if not rows:
        raise ParameterError("cards must contain at least one scored pass/fail item; got none")
    return pd.DataFrame(rows).drop_duplicates(["scorecard_id", "item_id", "skill"], ignore_index=True)


def fail_flags(answers: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """The answers that can pass or fail, with a boolean ``failed`` and the item's ``skill`` (one row per skill tag).

    ``yes`` passes, ``partial`` and ``no`` fail; a deduction item fails with a fault count above 0;
    a scale item fails below 60 % of its maximum. ``na``, empty answers and items not in
    ``catalog`` are dropped. ``answers`` needs ``scorecard_id, item_id, answer``.

    >>> from types import SimpleNamespace as N
    >>> it = N(id="greeting", kind="yes_no", scored=True, bonus=False, skills=("etiquette",), critical=None,
    ...        label={"en": "Greeting"}, scale=(0, 5))
    >>> cat = item_catalog([N(id="card", items=(it,))])
    >>> a = pd.DataFrame({"scorecard_id": "card", "item_id": "greeting", "answer": ["yes", "no", "na"]})
    >>> fail_flags(a, cat)[["answer", "failed", "skill"]]
      answer  failed      skill
    0    yes   False  etiquette
    1     no    True  etiquette
    """
    _need(answers, ["scorecard_id", "item_id", "answer"], "answers")
    _need(catalog, ["scorecard_id", "item_id", "skill", "kind", "scale_max"], "catalog")
    a = answers.merge(catalog[["scorecard_id", "item_id", "skill", "kind", "scale_max"]], on=["scorecard_id", "item_id"], how="inner")
    ans = a["answer"].fillna("").astype(str).str.strip().str.lower()
    num = pd.to_numeric(ans, errors="coerce").to_numpy(dtype=float)
    kind = a["kind"].to_numpy(dtype=object)
    yes_no = np.isin(kind, ["yes_no", "yes_partial_no"])
    decided = np.where(yes_no, ans.isin(["yes", "no", "partial"]).to_numpy(dtype=bool), np.isfinite(num))
    with np.errstate(invalid="ignore"):
        failed = np.select(
            [yes_no, kind == "deduction", kind == "scale"],
            [ans.isin(["no", "partial"]).to_numpy(dtype=bool), num > 0, num < 0.6 * a["scale_max"].to_numpy(dtype=float)],
            False,
        )
    out = a.assign(failed=failed.astype(bool))[decided]
    return out.drop(columns=["kind", "scale_max"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- gaps
def failure_gaps(failed: pd.DataFrame, *, unit: str = "agent_id", level: str = "item", confidence: float = 0.95,
                 fdr: float = 0.05, max_prior: float = 100.0) -> pd.DataFrame:
    """Failure rate per unit and item (or skill) against the rest of the center, with the evidence that the gap is real.

    Parameters
    ----------
    failed : DataFrame
        One row per answer: ``unit``, ``item_id``, ``skill``, ``failed`` (bool), as from :func:`fail_flags`.
        An item tagged with two skills appears twice; ``level="item"`` counts it once.
    unit : {"agent_id", "team"}
    level : {"item", "skill"}
    confidence : float
        For the Wilson interval of the raw rate.
    fdr : float
        The false-discovery rate of the list of needs: ``need`` is True when ``q <= fdr`` (Benjamini–Hochberg across
        every row of the table, i.e. every unit × key checked) and the unit's rate is above the center. With the
        default 0.05, at most about 1 in 20 needs flagged is expected to be a false alarm.
    max_prior : float
        The fitted prior is worth at most this many answers. When the units' rates spread no more than binomial
        noise, the method-of-moments prior becomes near-certain that every unit sits at the pooled rate, and
        tiny differences between the pooled rate and the rest-of-center rate would read as certain gaps; the cap
        keeps a unit with a few hundred answers judged mostly on its own record.

    Returns
    -------
    DataFrame
        ``unit, key, failures, n, rate, low, high, center, center_n, shrunk, gap, p_gap, p_value, q, excess, need``:
        ``center`` is the failure rate of every *other* unit on the key; ``shrunk`` the beta–binomial posterior
        mean (prior fitted across the units of the key; with fewer than 3 units a Jeffreys prior); ``gap = shrunk −
        center``; ``p_gap`` = P(true rate > center); ``excess`` = expected extra failures per 100 answers
        (``max(gap, 0) × 100``); ``p_value`` the one-sided exact test (mid-p) that the unit fails more often than the
        rest of the center (:func:`qa_lib.stats.fdr.exceed_test`), ``q`` its Benjamini–Hochberg adjusted value across the
        table. Sorted by unit, then ``p_gap × excess`` descending.
    """
    if unit not in failed.columns:
        raise ParameterError(f"unit must be a column of failed, e.g. one of {list(UNITS)}; got {unit!r}")
    if level not in LEVELS:
        raise ParameterError(f"level must be one of {list(LEVELS)}; got {level!r}")
    if isinstance(fdr, bool) or not isinstance(fdr, (int, float)) or not 0 < fdr < 1:
        raise ParameterError(f"fdr must be a number between 0 and 1 (e.g. 0.05); got {fdr!r}")
    _need(failed, [unit, "item_id", "skill", "failed"], "failed")
    key = "item_id" if level == "item" else "skill"
    f = failed
    if level == "item":  # an answer appears once per skill tag of its item: count it once
        f = f[(f["skill"] == f.groupby("item_id")["skill"].transform("min")).to_numpy(dtype=bool)]
    t = f.groupby([unit, key], sort=True)["failed"].agg(failures="sum", n="size").reset_index()
    t = t.rename(columns={key: "key"})
    if t.empty:
        raise NotFoundError("no pass/fail answers to compute failure rates from")
    t["failures"] = t["failures"].astype(int)
    tot = t.groupby("key")[["failures", "n"]].transform("sum")
    t["center_n"] = tot["n"] - t["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        t["rate"] = t["failures"] / t["n"]
        t["center"] = (tot["failures"] - t["failures"]) / t["center_n"]
    lo, hi = wilson_interval(t["failures"].to_numpy(), t["n"].to_numpy(), confidence)
    t["low"], t["high"] = lo, hi
    a = np.full(len(t), 0.5)
    b = np.full(len(t), 0.5)
    for _, idx in t.groupby("key").groups.items():  # one prior per item / skill (a handful of groups)
        part = t.loc[idx]
        if len(part) >= 3 and part["failures"].sum() > 0 and (part["failures"] < part["n"]).any():
            _, pa, pb = beta_binomial_shrinkage(part["failures"], part["n"])
            cap = min(1.0, max_prior / (pa + pb))  # no spread detected ≠ certainty that there is none
            a[t.index.get_indexer(idx)], b[t.index.get_indexer(idx)] = pa * cap, pb * cap
    t["shrunk"] = (t["failures"] + a) / (t["n"] + a + b)
    t["gap"] = t["shrunk"] - t["center"]
    t["p_gap"] = p_above(t["failures"], t["n"], a, b, t["center"].fillna(1.0))
    t["p_value"] = exceed_test(t["failures"], t["n"], tot["failures"] - t["failures"], t["center_n"])
    t["q"] = q_values(t["p_value"])  # one family: every unit × key of this table
    t["excess"] = np.clip(t["gap"].fillna(0), 0, None) * 100
    t["need"] = ((t["q"] <= fdr) & (t["rate"] > t["center"]) & (t["failures"] > 0)).astype(bool)
    t = t.rename(columns={"key": key})
    order = (t["p_gap"] * t["excess"]).rename("_o")
    t = t.assign(_o=order).sort_values([unit, "_o"], ascending=[True, False], kind="stable").drop(columns="_o")
    cols = [unit, key, "failures", "n", "rate", "low", "high", "center", "center_n", "shrunk", "gap", "p_gap", "p_value", "q", "excess", "need"]
    return t[cols].reset_index(drop=True)


def with_trend(current: pd.DataFrame, previous: pd.DataFrame, *, unit: str, key: str, alpha: float = 0.05) -> pd.DataFrame:
    """``current`` gap rows with the previous period's rate, the change and a two-proportion test.

    ``trend_p`` is the test's two-sided p-value, ``trend_q`` its Benjamini–Hochberg adjusted value across every row
    with a previous period (the list of trend labels is one family). ``trend`` is ``improving`` (fewer failures,
    ``trend_q ≤ alpha``), ``worsening``, ``no clear change``, or ``new`` when the previous period had no answers for
    the row: at most about ``alpha`` of the improving / worsening labels are expected to be false alarms.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be a number between 0 and 1 (the false-discovery rate, e.g. 0.05); got {alpha!r}")
    prev = previous[[unit, key, "failures", "n"]].rename(columns={"failures": "prev_failures", "n": "prev_n"})
    t = current.merge(prev, on=[unit, key], how="left")
    t["prev_failures"] = t["prev_failures"].fillna(0).astype(int)
    t["prev_n"] = t["prev_n"].fillna(0).astype(int)
    seen = (t["prev_n"] > 0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        t["prev_rate"] = np.where(seen, t["prev_failures"] / t["prev_n"].where(seen, 1), np.nan)
    test = two_proportion_test(t["prev_failures"].to_numpy(), np.maximum(t["prev_n"].to_numpy(), 1), t["failures"].to_numpy(), t["n"].to_numpy())
    t["change"] = np.where(seen, t["rate"] - t["prev_rate"], np.nan)
    t["trend_p"] = np.where(seen, test["p_value"].to_numpy(), np.nan)
    t["trend_q"] = q_values(t["trend_p"])
    sig = seen & (t["trend_q"].fillna(1).to_numpy() <= alpha)
    t["trend"] = np.select([~seen, sig & (t["change"] < 0), sig & (t["change"] > 0)], ["new", "improving", "worsening"], "no clear change")
    return t


def team_needs(agent_gaps: pd.DataFrame, team_gaps: pd.DataFrame, agents: pd.DataFrame, *, key: str = "item_id",
               top: int = 10) -> pd.DataFrame:
    """Ranked needs per team: team-wide needs (the team above the rest of the center) and individual ones.

    ``agent_gaps`` / ``team_gaps`` come from :func:`failure_gaps` (optionally :func:`with_trend`) at the same level
    (``key``); ``agents`` maps ``agent_id`` to ``team``. A row's ``scope`` is ``team`` (give the whole team the
    training) or ``agent`` (coach this agent). Only rows with ``need`` are kept; within a team they are ranked by
    ``p_gap × excess`` (evidence times size), and at most ``top`` per team are returned.
    """
    _need(agents, ["agent_id", "team"], "agents")
    a = agent_gaps[agent_gaps["need"]].drop(columns="team", errors="ignore").merge(agents[["agent_id", "team"]], on="agent_id", how="left")
    a = a.assign(scope="agent", who=a["agent_id"])
    t = team_gaps[team_gaps["need"]].assign(scope="team", who=lambda d: d["team"])
    both = pd.concat([t, a], ignore_index=True, sort=False)
    if both.empty:  # no need anywhere: no rows, but every column a table of needs has (trend columns included)
        front = ["team", "rank", "scope", "who", key]
        return pd.DataFrame(columns=front + [c for c in both.columns if c not in front + ["agent_id", "need"]])
    both["_score"] = both["p_gap"] * both["excess"]
    both = both.sort_values(["team", "_score", "scope"], ascending=[True, False, False], kind="stable")
    both["rank"] = (both.groupby("team").cumcount() + 1).astype(int)
    both = both[both["rank"] <= top]
    front = ["team", "rank", "scope", "who", key]
    rest = [c for c in both.columns if c not in front + ["_score", "agent_id", "need"]]
    return both[front + rest].reset_index(drop=True)


# ----------------------------------------------------------------------------- groups
def gap_matrix(agent_gaps: pd.DataFrame, *, key: str = "item_id", min_median_n: float = 10) -> pd.DataFrame:
    """Agents × items (or skills) of shrunk gaps to the center, the input of :func:`group_agents`.

    Items answered fewer than ``min_median_n`` times for the median agent are left out (with two
    follow-up calls a month per agent their gaps are mostly noise and would dominate the distances);
    an agent without answers on a kept item gets 0 (the center).
    """
    med = agent_gaps.groupby(key)["n"].median()
    keep = med.index[med >= min_median_n]
    if len(keep) == 0:
        raise ParameterError(f"no {key} has a median of {min_median_n} answers per agent; lower min_median_n (got {min_median_n!r})")
    g = agent_gaps[agent_gaps[key].isin(keep)]
    return g.pivot_table(index="agent_id", columns=key, values="gap", aggfunc="first").fillna(0.0).sort_index().sort_index(axis=1)


def group_agents(matrix: pd.DataFrame, *, k: int | None = None, k_range=(2, 6), seed: int = 0, min_gap: float = 0.02, max_focus: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agents grouped by their gap profile (k-means on the shrunk gaps), so training can be given to groups.

    ``k=None`` chooses k in ``k_range`` by the silhouette score. Groups are numbered by how far
    above the center they are (group 1 needs the most). Returns ``(members, profiles)``:
    ``members`` has ``agent_id, group, distance`` (to the group's center); ``profiles`` has
    ``group, size, silhouette, focus`` (up to ``max_focus`` items whose mean gap in the group is ≥ ``min_gap``,
    largest first; empty means no group training needed) and the group's mean gap per column.

    Reproducible: the same matrix and seed give the same groups whatever the row order.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_samples, silhouette_score

    if matrix.shape[0] < 3:
        raise ParameterError(f"matrix must hold at least 3 agents to group; got {matrix.shape[0]}")
    m = matrix.sort_index().sort_index(axis=1)
    x = m.to_numpy(dtype=float)
    lo, hi = k_range
    if k is not None:
        if not isinstance(k, (int, np.integer)) or not 1 <= k < len(m):
            raise ParameterError(f"k must be an integer from 1 to {len(m) - 1}; got {k!r}")
        ks = [int(k)]
    else:
        if not (isinstance(lo, int) and isinstance(hi, int) and 2 <= lo <= hi):
            raise ParameterError(f"k_range must be two integers 2 <= low <= high; got {k_range!r}")
        ks = list(range(lo, min(hi, len(m) - 1) + 1))
    best = None
    for kk in ks:  # a handful of candidate k
        km = KMeans(n_clusters=kk, n_init=20, random_state=seed).fit(x)
        s = silhouette_score(x, km.labels_) if kk > 1 and len(set(km.labels_)) > 1 else 0.0
        if best is None or s > best[0] + 1e-12:
            best = (s, kk, km)
    score, kk, km = best
    labels = km.labels_
    centers = km.cluster_centers_
    # number groups by how much they need: sum of positive mean gaps, largest first
    need = np.clip(centers, 0, None).sum(axis=1)
    order = np.argsort(-need, kind="stable")
    rename = np.empty(kk, dtype=int)
    rename[order] = np.arange(1, kk + 1)
    group = rename[labels]
    dist = np.linalg.norm(x - centers[labels], axis=1)
    members = pd.DataFrame({"agent_id": m.index.to_numpy(dtype=object), "group": group, "distance": dist})
    sil = silhouette_samples(x, labels) if kk > 1 else np.zeros(len(m))
    prof = pd.DataFrame(centers[order], columns=m.columns)
    prof.insert(0, "group", np.arange(1, kk + 1))
    prof.insert(1, "size", np.bincount(group, minlength=kk + 1)[1:])
    prof.insert(2, "silhouette", [float(sil[group == g].mean()) for g in range(1, kk + 1)])
    cols = list(m.columns)
    c = centers[order]
    prof.insert(3, "focus", [", ".join([cols[j] for j in np.argsort(-row, kind="stable") if row[j] >= min_gap][:max_focus]) for row in c])
    prof.attrs["silhouette"] = float(score)
    members = members.sort_values(["group", "agent_id"], ignore_index=True)
    return members, prof


# ----------------------------------------------------------------------------- modules
#: The modules of a center that keeps no course list (``training_modules`` not set in its center.yaml).
NO_MODULES = pd.DataFrame({"module_id": pd.Series(dtype=object), "title_zh": pd.Series(dtype=object), "title_en": pd.Series(dtype=object),
                           "skills": pd.Series(dtype=object), "hours": pd.Series(dtype=float), "format_zh": pd.Series(dtype=object),
                           "format_en": pd.Series(dtype=object)})


def load_modules(path: str | os.PathLike) -> pd.DataFrame:
    """Training modules from YAML: ``modules: [{id, title: {zh, en}, skills: [...], hours, format?}]``.

    Errors name the file and the entry. Returns ``module_id, title_zh, title_en, skills (tuple), hours, format_zh, format_en``.
    """
    p, doc = read_config_yaml(path, "training modules")
    if not isinstance(doc, dict) or not isinstance(doc.get("modules"), list) or not doc["modules"]:
        raise ConfigError(f"{p}: expected a top-level 'modules:' list with at least one module")
    rows, seen = [], set()
    for i, m in enumerate(doc["modules"]):
        where = f"{p}: modules[{i}]"
        if not isinstance(m, dict):
            raise ConfigError(f"{where}: must be a mapping with id, title, skills, hours; got {m!r}")
        unknown = set(m) - {"id", "title", "skills", "hours", "format"}
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (allowed: id, title, skills, hours, format)")
        mid = m.get("id")
        if not isinstance(mid, str) or not mid:
            raise ConfigError(f"{where}.id: must be a non-empty string; got {mid!r}")
        if mid in seen:
            raise ConfigError(f"{where}.id: {mid!r} is used twice")
        seen.add(mid)
        title = m.get("title")
        if isinstance(title, str):
            title = {"zh": title, "en": title}
        if not isinstance(title, dict) or not (title.get("zh") or title.get("en")):
            raise ConfigError(f"{where}.title: must be text or {{zh: ..., en: ...}}; got {title!r}")
        skills = m.get("skills")
        if not (isinstance(skills, list) and skills and all(isinstance(s, str) and s for s in skills)):
            raise ConfigError(f"{where}.skills: must be a non-empty list of skill tags; got {skills!r}")
        hours = m.get("hours")
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 200:
            raise ConfigError(f"{where}.hours: must be a number of hours in (0, 200]; got {hours!r}")
        fmt = m.get("format") or {}
        if isinstance(fmt, str):
            fmt = {"zh": fmt, "en": fmt}
        rows.append({"module_id": mid, "title_zh": title.get("zh") or title.get("en"), "title_en": title.get("en") or title.get("zh"),
                     "skills": tuple(skills), "hours": float(hours), "format_zh": fmt.get("zh", ""), "format_en": fmt.get("en", "")})
    return pd.DataFrame(rows)


def schedule_modules(needs: pd.DataFrame, members: pd.DataFrame, profiles: pd.DataFrame, modules: pd.DataFrame,
                     skill_of: pd.Series) -> pd.DataFrame:
    """The modules to schedule: for each team-wide need the team, for each group with a focus the group's members,
    and for individual needs not covered by a group the agent (coaching).

    ``skill_of`` maps item ids to a skill. Returns one row per (module, audience): ``module_id, title_zh, title_en,
    hours, audience_kind`` (team / group / agent), ``audience, agents, n_agents, items, skills``; items
    without a module are listed with ``module_id`` empty so nothing is dropped silently.
    """
    by_skill = {s: r for r in modules.itertuples() for s in r.skills}
    rows = []

    def add(kind, audience, agent_ids, items):
        skills = sorted({skill_of.get(i, "other") for i in items})
        found = {}
        for s in skills:
            mod = by_skill.get(s)
            key = mod.module_id if mod is not None else ""
            found.setdefault(key, (mod, []))[1].extend(i for i in items if skill_of.get(i, "other") == s)
        for key, (mod, its) in found.items():
            rows.append({"module_id": key, "title_zh": mod.title_zh if mod is not None else "", "title_en": mod.title_en if mod is not None else "",
                         "hours": mod.hours if mod is not None else np.nan, "audience_kind": kind, "audience": audience,
                         "agents": ", ".join(sorted(agent_ids)), "n_agents": len(agent_ids), "items": ", ".join(dict.fromkeys(its)),
                         "skills": ", ".join(sorted({skill_of.get(i, "other") for i in its}))})

    team_rows = needs[needs["scope"] == "team"]
    for team, part in team_rows.groupby("team", sort=True):
        ids = sorted(members.loc[members["team"] == team, "agent_id"]) if "team" in members else []
        add("team", team, ids, list(part["item_id"]))
    grouped = set()
    for prof in profiles.itertuples():
        if prof.focus:
            ids = sorted(members.loc[members["group"] == prof.group, "agent_id"])
            grouped.update((a, i) for a in ids for i in prof.focus.split(", "))
            add("group", f"G{prof.group}", ids, prof.focus.split(", "))
    for r in needs[needs["scope"] == "agent"].itertuples():
        if (r.who, r.item_id) not in grouped:
            add("agent", r.who, [r.who], [r.item_id])
    out = pd.DataFrame(rows, columns=["module_id", "title_zh", "title_en", "hours", "audience_kind", "audience", "agents", "n_agents", "items", "skills"])
    kind_order = out["audience_kind"].map({"team": 0, "group": 1, "agent": 2})
    return out.assign(_k=kind_order).sort_values(["_k", "audience", "module_id"], kind="stable").drop(columns="_k").reset_index(drop=True)


# ----------------------------------------------------------------------------- new hires
def tenure_curve(failed: pd.DataFrame, agents: pd.DataFrame, *, new_hire_days: int = 183, as_of=None,
                 confidence: float = 0.95) -> pd.DataFrame:
    """New-hire cohorts against the veterans, month by month over tenure.

    ``failed`` needs ``agent_id, start_time, failed`` (one row per answer); ``agents`` ``agent_id,
    hire_date``. A new hire was hired within ``new_hire_days`` before ``as_of`` (default: the last
    answer); a cohort is the month of hiring. For each cohort and calendar month: the cohort's failure
    rate with its Wilson interval, the tenure in months at mid-month, the veterans' rate in the same
    month (so a hard month does not look like a weak cohort), the ratio and a two-proportion test.
    """
    _need(failed, ["agent_id", "start_time", "failed"], "failed")
    _need(agents, ["agent_id", "hire_date"], "agents")
    if not isinstance(new_hire_days, (int, np.integer)) or new_hire_days < 1:
        raise ParameterError(f"new_hire_days must be a positive integer; got {new_hire_days!r}")
    hire = pd.to_datetime(agents.set_index("agent_id")["hire_date"])
    when = pd.to_datetime(failed["start_time"])
    as_of = pd.Timestamp(as_of) if as_of is not None else when.max()
    h = failed["agent_id"].map(hire)
    new = (h > as_of - pd.Timedelta(days=int(new_hire_days))).to_numpy(dtype=bool)
    d = pd.DataFrame({"month": when.dt.to_period("M").astype(str), "failed": failed["failed"].to_numpy(dtype=bool),
                      "cohort": np.where(new, h.dt.to_period("M").astype(str), "veterans"), "agent": failed["agent_id"]})
    d = d[when <= as_of]
    g = d.groupby(["cohort", "month"])["failed"].agg(failures="sum", n="size").reset_index()
    vet = g[g["cohort"] == "veterans"].set_index("month")
    out = g[g["cohort"] != "veterans"].copy()
    if out.empty:
        return pd.DataFrame(columns=["cohort", "month", "tenure_months", "agents", "failures", "n", "rate", "low", "high",
                                     "veteran_rate", "ratio", "p_value"])
    out["failures"] = out["failures"].astype(int)
    out["rate"] = out["failures"] / out["n"]
    out["low"], out["high"] = wilson_interval(out["failures"].to_numpy(), out["n"].to_numpy(), confidence)
    mid = pd.PeriodIndex(out["month"], freq="M").start_time + pd.Timedelta(days=15)
    first = pd.PeriodIndex(out["cohort"], freq="M").start_time
    out["tenure_months"] = ((mid - first).days / 30.4).round(1).to_numpy()
    heads = d.groupby(["cohort", "month"])["agent"].nunique()
    out["agents"] = heads.reindex(pd.MultiIndex.from_frame(out[["cohort", "month"]])).to_numpy()
    vf, vn = vet["failures"].reindex(out["month"]).to_numpy(dtype=float), vet["n"].reindex(out["month"]).to_numpy(dtype=float)
    out["veteran_rate"] = vf / vn
    out["ratio"] = out["rate"] / out["veteran_rate"]
    ok = np.isfinite(vn) & (vn > 0)
    test = two_proportion_test(np.where(ok, vf, 0).astype(int), np.where(ok, vn, 1).astype(int), out["failures"].to_numpy(), out["n"].to_numpy())
    out["p_value"] = np.where(ok, test["p_value"].to_numpy(), np.nan)
    return out.sort_values(["cohort", "month"], ignore_index=True)


def progress(current: pd.DataFrame, previous: pd.DataFrame, *, by: str = "team", key: str = "skill", alpha: float = 0.05) -> pd.DataFrame:
    """Failure rate per ``by`` and ``key`` in this period against the previous one: change, test and verdict.

    Both frames are answer-level (``by``, ``key``, ``failed``). ``verdict``: ``improved`` / ``worse``
    (p < ``alpha``), ``no clear change``, or ``new``.
    """
    agg = lambda f: f.groupby([by, key])["failed"].agg(failures="sum", n="size").reset_index()  # noqa: E731
    cur = agg(current)
    cur["rate"] = cur["failures"] / cur["n"]
    t = with_trend(cur, agg(previous), unit=by, key=key, alpha=alpha)
    t["verdict"] = t["trend"].map({"improving": "improved", "worsening": "worse"}).fillna(t["trend"])
    return t.drop(columns="trend")


# ----------------------------------------------------------------------------- store → report tables
_TABLES = ("meta", "catalog", "agent_items", "agent_skills", "team_items", "team_skills", "needs", "members", "profiles",
           "schedule", "tenure", "progress", "agents", "coaching", "open_actions")


def _period_answers(store, months: list[pd.Period], agents: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for p in months:
        ev = store.evaluations(p)
        if ev.empty:
            continue
        ev = counted_once(ev)[lambda d: d["arm"] == "random"]  # each double-scored call once, calibration out
        it = store.read_month("evaluation_items", p)
        c = store.read_month("contacts", p)[["contact_id", "start_time"]]
        frames.append(it.merge(ev[["evaluation_id", "contact_id", "agent_id", "scorecard_id", "status"]], on="evaluation_id")
                      .merge(c, on="contact_id", how="left").assign(month=str(p)))
    if not frames:
        return pd.DataFrame(columns=["evaluation_id", "item_id", "answer", "agent_id", "scorecard_id", "start_time", "month", "team", "skill", "failed"])
    a = pd.concat(frames, ignore_index=True)
    a = a[a["status"] != "draft"]
    a["team"] = a["agent_id"].map(agents.set_index("agent_id")["team"])
    return fail_flags(a, catalog)


def prepare_training(store, month, folder: str | os.PathLike, *, months: int = 3, modules: str | os.PathLike | None = None,
                     fdr: float = 0.05, seed: int = 0, new_hire_days: int = 183, top: int = 10, lang: str | None = None) -> Path:
    """Compute the training-needs tables for the ``months`` months ending with ``month`` into ``folder/_data/training``
    (Parquet) and ``folder/training_plan_<month>.xlsx``; returns ``folder``.

    The previous period (the ``months`` months before) gives the trends and the progress table;
    new hires are followed over the last 12 months. ``fdr`` is the false-discovery rate of each list of flags (individual
    needs, team-wide needs, trend labels), see :func:`failure_gaps`. A missing part never stops the report: with no
    random-arm evaluation in the period only ``meta`` (``missing = "evaluations"``) and ``agents`` are written,
    and the report says what to import; too few agents or answers to group them leave the groups empty with
    ``meta["groups_note"]`` saying why; no coaching action gives empty coaching tables (with their columns).
    """
    from .config import settings, training_modules_path

    if lang is not None:
        check_lang(lang)

    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or not 1 <= months <= 12:
        raise ParameterError(f"months must be an integer from 1 to 12; got {months!r}")
    p = pd.Period(month, freq="M")
    modules = modules or training_modules_path()
    # a center without a course list still gets its needs; each is listed "(no module)" in the schedule
    mods = load_modules(modules) if modules is not None and Path(modules).is_file() else NO_MODULES
    folder = Path(folder)
    data = folder / "_data" / "training"
    agents = store.read("agents")
    cards_tab = store.read("scorecards")
    cards = [store.scorecard(sid, int(v)) for sid, v in cards_tab.sort_values("version").drop_duplicates("scorecard_id", keep="last")[["scorecard_id", "version"]].itertuples(index=False)]
    if not cards:  # a center with a call log only: no scorecard, nothing scored; the page says what to import
        return _write_missing(folder, p, months, [p - k for k in range(months - 1, -1, -1)], [p - k - months for k in range(months - 1, -1, -1)],
                              agents, fdr, seed, "evaluations")
    catalog = item_catalog(cards)
    center = settings()
    for lg in ("zh", "en"):  # how the skill tags read on the pages: the center's taxonomy (labels: skills: in center.yaml)
        catalog[f"skill_{lg}"] = catalog["skill"].map(lambda s, lg=lg: center.label("skills", s, lg))
    period = [p - k for k in range(months - 1, -1, -1)]
    before = [q - months for q in period]
    history = [p - k for k in range(11, -1, -1)]
    hist = _period_answers(store, history, agents, catalog)
    if hist.empty or not hist["month"].isin([str(q) for q in period]).any():
        return _write_missing(folder, p, months, period, before, agents, fdr, seed, "evaluations")
    cur = hist[hist["month"].isin([str(q) for q in period])]
    prev = hist[hist["month"].isin([str(q) for q in before])]
    tables = {}
    for unit, name in (("agent_id", "agent"), ("team", "team")):
        for level, key in (("item", "item_id"), ("skill", "skill")):
            now = failure_gaps(cur, unit=unit, level=level, fdr=fdr)
            then = failure_gaps(prev, unit=unit, level=level, fdr=fdr) if len(prev) and prev[unit].nunique() >= 1 else now.iloc[:0]
            tables[f"{name}_{level}s"] = with_trend(now, then, unit=unit, key=key, alpha=fdr)
    tables["agent_items"]["team"] = tables["agent_items"]["agent_id"].map(agents.set_index("agent_id")["team"])
    tables["agent_skills"]["team"] = tables["agent_skills"]["agent_id"].map(agents.set_index("agent_id")["team"])
    needs = team_needs(tables["agent_items"], tables["team_items"], agents, key="item_id", top=top)
    skill_of = catalog.drop_duplicates("item_id").set_index("item_id")["skill"]
    needs["skill"] = needs["item_id"].map(skill_of)
    tables["needs"] = needs
    members, profiles, groups_note = _groups(tables["agent_items"], seed)
    members["team"] = members["agent_id"].map(agents.set_index("agent_id")["team"])
    tables["members"], tables["profiles"] = members, profiles
    tables["schedule"] = schedule_modules(needs, members, profiles, mods, skill_of)
    tables["tenure"] = tenure_curve(hist, agents, new_hire_days=new_hire_days, as_of=(p + 1).start_time - pd.Timedelta(seconds=1))
    tables["progress"] = progress(cur, prev, by="team", key="skill", alpha=fdr)
    tables["catalog"] = catalog
    tables["coaching"], tables["open_actions"] = _coaching_tables(store, agents, p)
    tables["agents"] = _agents_table(agents)
    data.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_parquet(data / f"{name}.parquet", index=False)
    teams = sorted(agents["team"].dropna().unique())
    _write_plan(folder / f"training_plan_{p}.xlsx", dict(tables, modules=mods, team="all", teams=teams), lang or settings().lang)
    meta = pd.DataFrame([{"month": str(p), "months": int(months), "first": str(period[0]), "previous": f"{before[0]}…{before[-1]}",
                          "fdr": float(fdr), "seed": int(seed), "silhouette": profiles.attrs.get("silhouette", np.nan),
                          "answers": int(len(cur.drop_duplicates(["evaluation_id", "item_id"]))),
                          "evaluations": int(cur["evaluation_id"].nunique()), "failures": int(cur.drop_duplicates(["evaluation_id", "item_id"])["failed"].sum()),
                          "new_hire_days": int(new_hire_days), "missing": "", "groups_note": groups_note}])
    meta.to_parquet(data / "meta.parquet", index=False)  # written last: its presence means the tables are complete
    return folder


#: Columns of the coaching tables, so that a period without coaching actions still has them (empty).
_COACHING_COLS = ["level", "programme", "action_id", "agent_id", "coach", "items", "created_on", "recheck_on", "actions", "agents",
                  "before_n", "before_pass", "before_rate", "after_n", "after_pass", "after_rate", "diff", "diff_low", "diff_high",
                  "others_before_rate", "others_after_rate", "comparison_agents", "expected_after_rate", "effect", "effect_low",
                  "effect_high", "fail_ratio", "ratio_low", "ratio_high", "p_improved", "q_improved", "verdict", "team"]
_OPEN_COLS = ["supervisor", "team", "agent_id", "action_id", "coach", "items", "agreed_action", "created_on", "recheck_on", "recheck_due",
              "due_on", "overdue", "days_overdue", "days_open"]


def _agents_table(agents: pd.DataFrame) -> pd.DataFrame:
    """The agents as the report shows them (hire date as text)."""
    return agents[["agent_id", "name", "team", "hire_date", "status"]].assign(hire_date=lambda d: d["hire_date"].astype(str))


def _coaching_tables(store, agents: pd.DataFrame, p: pd.Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The coaching loop at the month's end: before/after per action and programme, and the actions still open (both
    empty, with their columns, when no coaching action was recorded by then)."""
    from .coaching import before_after, load_evidence, open_actions

    month_end = (p + 1).start_time - pd.Timedelta(days=1)
    actions = store.read("coaching_actions")
    actions = actions[pd.to_datetime(actions["created_on"]) <= month_end]
    team_of = agents.set_index("agent_id")["team"]
    if actions.empty:
        return pd.DataFrame(columns=_COACHING_COLS), pd.DataFrame(columns=_OPEN_COLS)
    review = before_after(actions, load_evidence(store), agents=agents, as_of=month_end.date())  # every agent: the comparison
    listing = open_actions(actions, agents, month_end.date())
    return review.assign(team=review["agent_id"].map(team_of)), listing.assign(team=listing["agent_id"].map(team_of))


def _groups(agent_items: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Agents grouped by gap profile, or empty groups and why not: ``answers`` (no item has enough answers per agent,
    e.g. a one-month period) or ``agents`` (fewer than 3 agents to group)."""
    try:
        matrix = gap_matrix(agent_items)
    except ParameterError:
        why = "answers"
    else:
        why = "agents" if matrix.shape[0] < 3 else ""
    if not why:
        members, profiles = group_agents(matrix, seed=seed)
        return members, profiles, ""
    empty = pd.DataFrame({"agent_id": pd.Series(dtype=object), "group": pd.Series(dtype=int), "distance": pd.Series(dtype=float)})
    return empty, pd.DataFrame({"group": pd.Series(dtype=int), "size": pd.Series(dtype=int), "silhouette": pd.Series(dtype=float),
                                "focus": pd.Series(dtype=object)}), why


def _write_missing(folder: Path, p: pd.Period, months: int, period: list, before: list, agents: pd.DataFrame, fdr: float, seed: int,
                   missing: str) -> Path:
    """A period without what the analysis needs: ``meta`` saying what is ``missing`` and the agents (for the teams' pages)."""
    data = folder / "_data" / "training"
    data.mkdir(parents=True, exist_ok=True)
    (data / "meta.parquet").unlink(missing_ok=True)
    _agents_table(agents).to_parquet(data / "agents.parquet", index=False)
    meta = pd.DataFrame([{"month": str(p), "months": int(months), "first": str(period[0]), "previous": f"{before[0]}…{before[-1]}",
                          "fdr": float(fdr), "seed": int(seed), "silhouette": np.nan, "answers": 0, "evaluations": 0, "failures": 0,
                          "new_hire_days": 0, "missing": missing, "groups_note": ""}])
    meta.to_parquet(data / "meta.parquet", index=False)
    return folder


def _write_plan(path: Path, view: dict, lang: str) -> None:
    """The .xlsx training plan in ``lang``: schedule, needs, groups, new hires, progress, the coaching loop, open actions
    and modules, one sheet each (:func:`plan_sheets`), shares with a percent format, changes in points."""
    from openpyxl import load_workbook

    sheets = plan_sheets(view, lang)
    write_xlsx({name: frame for name, (frame, _) in sheets.items()}, path)
    wb = load_workbook(path)
    for ws, (frame, formats) in zip(wb.worksheets, sheets.values()):
        heads = {cell.value: cell.column for cell in ws[1]}
        for col, kind in formats.items():
            if col in heads:
                for (cell,) in ws.iter_rows(min_row=2, min_col=heads[col], max_col=heads[col]):
                    cell.number_format = _NUMBER_FORMATS[kind]
        for cell in ws[1]:  # headers readable: the column as wide as its header or its longest value (capped)
            longest = max([len(str(cell.value or ""))] + [len(str(v)) for v in frame.iloc[:200, cell.column - 1]] if len(frame.columns) >= cell.column else [8])
            ws.column_dimensions[cell.column_letter].width = min(60, max(8, 1.6 * longest))
    with atomic_path(path) as tmp:
        wb.save(tmp)


def training_prepared(folder: str | os.PathLike, month, months: int | None = None) -> bool:
    """True when ``folder`` holds the training tables of ``month`` (and of a ``months``-month period, if given).

    A period prepared without its evaluations (``meta["missing"]``) is not prepared: it is looked at again each
    time, so the report follows as soon as the evaluations are imported.
    """
    meta = Path(folder) / "_data" / "training" / "meta.parquet"
    if not meta.exists():
        return False
    m = pd.read_parquet(meta).iloc[0]
    return (m["month"] == str(pd.Period(month, freq="M")) and (months is None or int(m["months"]) == months)
            and not m.get("missing", "") and "fdr" in m)  # tables from before the false-discovery control are prepared again


def training_view(folder: str | os.PathLike, team: str = "all") -> dict:
    """The tables :func:`prepare_training` wrote into ``folder``, filtered to ``team`` (``"all"`` = the center).

    For a period without evaluations the view holds only ``meta`` (whose ``missing`` says what), ``agents``,
    ``team`` and ``teams``: :func:`headline` says what to import, and the notebook shows nothing else.
    """
    data = Path(folder) / "_data" / "training"
    if (data / "meta.parquet").exists() and (data / "agents.parquet").exists():
        meta = pd.read_parquet(data / "meta.parquet").iloc[0].to_dict()
        if meta.get("missing"):
            agents = pd.read_parquet(data / "agents.parquet")
            teams = sorted(agents["team"].dropna().unique())
            if team != "all" and team not in teams:
                raise ParameterError(f"team must be 'all' or one of {teams}; got {team!r}")
            return {"meta": meta, "agents": agents, "team": team, "teams": teams}
    missing = [n for n in _TABLES if not (data / f"{n}.parquet").exists()]
    if missing:
        raise NotFoundError(f"the training tables are not prepared in {data} (missing {missing}); run `qa report training --month M`")
    v = {n: pd.read_parquet(data / f"{n}.parquet") for n in _TABLES}
    v["meta"] = v["meta"].iloc[0].to_dict()
    teams = sorted(v["agents"]["team"].dropna().unique())
    if team != "all":
        if team not in teams:
            raise ParameterError(f"team must be 'all' or one of {teams}; got {team!r}")
        for name in ("agent_items", "agent_skills", "needs", "members", "open_actions"):
            if name in v and "team" in v[name]:
                v[name] = v[name][v[name]["team"] == team].reset_index(drop=True)
        coached = v["coaching"]  # action rows of the team's agents, and programmes any of them took part in
        if coached.empty or "programme" not in coached:  # no coaching action recorded: nothing to filter
            v["coaching"] = coached.iloc[:0]
        else:
            mine = coached[(coached["level"] == "action") & (coached["team"] == team)]
            v["coaching"] = coached[(coached["level"] == "action") & (coached["team"] == team)
                                    | (coached["level"] != "action") & coached["programme"].isin(set(mine["programme"]))].reset_index(drop=True)
        for name in ("progress",):  # team_items / team_skills stay whole: the heat map compares the teams
            v[name] = v[name][v[name]["team"] == team].reset_index(drop=True)
        ids = set(v["agents"].loc[v["agents"]["team"] == team, "agent_id"])  # (the groups may be empty: too few answers to group)
        v["schedule"] = v["schedule"][(v["schedule"]["audience"] == team) | v["schedule"]["agents"].map(lambda s: bool(ids & set(s.split(", "))))].reset_index(drop=True)
    v["team"] = team
    v["teams"] = teams
    return v


# ----------------------------------------------------------------------------- display texts
_TEXTS = {
    "zh": {"title": "培训需求分析 {month}（近 {months} 个月）", "scope_all": "全中心", "needs": "重点培训需求（按证据与差距排序）",
           "groups": "按差距画像分组", "schedule": "建议安排的培训模块", "tenure": "新员工与老员工对比（按在职月数）",
           "progress": "与上一周期相比", "skills": "各技能失误率（团队 vs 其他团队）", "team": "团队", "agent": "坐席",
           "rate": "失误率", "center": "中心其余", "gap": "差距", "p_gap": "差距为真的概率", "n": "样本数", "trend": "趋势",
           "item": "质检项", "skill": "技能", "scope": "范围", "who": "对象", "group": "组", "size": "人数", "focus": "重点项",
           "members": "成员", "module": "模块", "hours": "学时", "audience": "对象", "items": "相关质检项", "verdict": "结论",
           "previous": "上期", "change": "变化", "cohort": "入职批次", "month": "月份", "tenure_months": "在职月数",
           "veterans": "老员工", "ratio": "倍数", "none": "无", "interval": "95% 区间",
           "individual": "个人辅导", "teamwide": "全组培训", "no_module": "（无对应模块）",
           "coaching": "辅导闭环：与对照比较", "expected": "预期（无辅导）", "vs_comparison": "相对对照的改善（95% 区间）",
           "coaching_note": "结论只看“相对对照的改善”：复查后被辅导项目的失误，与该坐席自己未辅导的项目、以及基线和在职时长相近的未辅导坐席相比"
                            "（在职时长、整体变化和均值回归都算在对照里）。“辅导前/复查后”仅作描述。"
                            "同一页上判定的多项辅导中，“已改善”里误判的预期比例不超过 2.5%（Benjamini–Hochberg 错误发现率控制）。",
           "open": "未关闭的辅导任务（月末）", "before": "辅导前", "after": "复查后",
           "action": "任务", "level": "层级", "programme": "批次合计", "due": "截止", "overdue_days": "逾期天数", "supervisor": "主管",
           "coach": "辅导人", "no_actions": "本期没有记录辅导任务（用 `qa coaching add` 记录）。",
           "missing_evaluations": "{first} 至 {month} 没有随机抽样评估，暂无可分析的培训需求。请导入已评分的评估（`qa import evaluations 文件`）"
                                  "或完成抽样计划的评分，然后运行 `qa report training --month {month} --force`。",
           "no_failures": "本期没有任何失误的质检项答案：无培训需求。",
           "one_team": "仅有一个团队：全组需求要与其他团队比较，因此只列出个人需求。",
           "groups_note": {"answers": "未分组：每位坐席在各质检项上的答案太少（某项需每人中位数 10 个答案）；更长的周期（`--period 3`）可提供更多数据。",
                           "agents": "未分组：本期有答案的坐席少于 3 人。"},
           "no_new_hires": "近 {days} 天内没有新入职坐席。",
           "verdicts": {"improved": "已改善", "not yet": "尚未改善", "not enough evidence": "证据不足"},
           "trends": {"improving": "改善", "worsening": "变差", "no clear change": "无明显变化", "new": "新增", "improved": "改善", "worse": "变差"},
           "task": "任务 / 批次", "no_needs": "没有坐席或团队的失误率可靠地高于中心其余：本期没有列入清单的需求。", "vs_veterans": "与老员工相比", "vs": {"higher": "明显更高", "lower": "明显更低", "same": "无明显差异"},
           "glossary": "名词解释", "low": "区间下限", "high": "区间上限", "change_pts": "变化（百分点）", "before_n": "辅导前样本数",
           "after_n": "复查后样本数", "gain_pts": "相对对照的改善（百分点）", "gain_low": "改善下限（百分点）", "gain_high": "改善上限（百分点）",
           "agreed": "约定的改进措施", "module_title": "名称",
           "sheets": {"schedule": "培训安排", "needs": "培训需求", "groups": "分组", "new_hires": "新员工", "progress": "进度",
                      "coaching": "辅导闭环", "open_actions": "未关闭辅导", "modules": "培训模块"},
           "q": "q 值", "fdr": "本页的需求清单与趋势标签已做多重比较控制（Benjamini–Hochberg 错误发现率 {t:.0%}）：清单上每 {k} 条标记中，预计至多约 1 条是误报。",
           "method": "仅用随机抽样评估（定向抽检不计入）。需求：单侧精确检验（Fisher）比较该坐席或团队与中心其余的失误率，在同一清单的全部检查中"
                     "按 Benjamini–Hochberg 校正后 q ≤ {t:.0%} 才列为需求；“差距为真的概率”是收缩后的后验概率 P(真实失误率 > 中心其余)，用于排序。"},
    "en": {"title": "Training needs {month} (last {months} months)", "scope_all": "whole center", "needs": "Top training needs (ranked by evidence × gap)",
           "groups": "Agents grouped by gap profile", "schedule": "Modules to schedule", "tenure": "New hires vs veterans over tenure",
           "progress": "Progress since the previous period", "skills": "Failure rate per skill (team vs the other teams)", "team": "team", "agent": "agent",
           "rate": "failure rate", "center": "rest of center", "gap": "gap", "p_gap": "P(gap is real)", "n": "n", "trend": "trend",
           "item": "item", "skill": "skill", "scope": "scope", "who": "who", "group": "group", "size": "size", "focus": "focus items",
           "members": "members", "module": "module", "hours": "hours", "audience": "audience", "items": "items", "verdict": "verdict",
           "previous": "previous", "change": "change", "cohort": "hire cohort", "month": "month", "tenure_months": "tenure (months)",
           "veterans": "veterans", "ratio": "ratio", "none": "none", "interval": "95% interval",
           "individual": "individual coaching", "teamwide": "team-wide training", "no_module": "(no module)",
           "coaching": "Coaching loop: judged against a comparison", "expected": "expected without coaching",
           "vs_comparison": "gain vs comparison (95% interval)",
           "coaching_note": "The verdict reads only the gain against the comparison: after the re-check, the coached items' failures against the "
                            "agent's own uncoached items and uncoached agents with a similar baseline and tenure (tenure, general change and "
                            "regression to the mean are in the comparison). Before / after are shown as a description. Across the actions "
                            "judged on this page, the expected share of false \"improved\" verdicts among them is at most 2.5 % "
                            "(Benjamini–Hochberg false discovery rate).",
           "open": "Open coaching actions (month end)", "before": "before", "after": "after re-check",
           "action": "action", "level": "level", "programme": "programme (pooled)", "due": "due", "overdue_days": "days overdue", "supervisor": "supervisor",
           "coach": "coach", "no_actions": "No coaching actions recorded in this period (record one with `qa coaching add`).",
           "missing_evaluations": "No random-arm evaluations from {first} to {month}: there is nothing to analyse for training needs yet. "
                                  "Import scored evaluations (`qa import evaluations FILE`) or score the sampling plan's contacts, "
                                  "then run `qa report training --month {month} --force`.",
           "no_failures": "No failed answer in the period: no training need.",
           "one_team": "One team only: a team-wide need compares a team with the other teams, so only individual needs are listed.",
           "groups_note": {"answers": "Agents not grouped: too few answers per agent on every item (an item needs a median of 10 per agent); "
                                      "a longer period (`--period 3`) gives more.",
                           "agents": "Agents not grouped: fewer than 3 agents have answers in the period."},
           "no_new_hires": "No new hires (hired in the last {days} days).",
           "verdicts": {"improved": "improved", "not yet": "not yet", "not enough evidence": "not enough evidence"},
           "trends": {"improving": "improving", "worsening": "worsening", "no clear change": "no clear change", "new": "new", "improved": "improved", "worse": "worse"},
           "task": "action / programme", "no_needs": "No agent or team fails reliably more often than the rest of the center: no need on the list this period.", "vs_veterans": "vs veterans", "vs": {"higher": "clearly higher", "lower": "clearly lower", "same": "no clear difference"},
           "glossary": "What the words mean", "low": "interval low", "high": "interval high", "change_pts": "change (points)", "before_n": "answers before",
           "after_n": "answers after", "gain_pts": "gain vs comparison (points)", "gain_low": "gain low (points)", "gain_high": "gain high (points)",
           "agreed": "agreed action", "module_title": "title",
           "sheets": {"schedule": "schedule", "needs": "needs", "groups": "groups", "new_hires": "new hires", "progress": "progress",
                      "coaching": "coaching", "open_actions": "open actions", "modules": "modules"},
           "q": "q", "fdr": "The needs and trend labels on this page are controlled for many comparisons (Benjamini–Hochberg, false-discovery rate {t:.0%}): "
                            "at most about 1 in {k} flags on this list is expected to be a false alarm.",
           "method": "Random-arm evaluations only (targeted reviews excluded). A need: a one-sided exact (Fisher) test of the agent or team against the "
                     "rest of the center, q ≤ {t:.0%} after the Benjamini–Hochberg adjustment across every check of the list; P(gap is real), the "
                     "posterior probability after shrinkage that the true failure rate is above the rest of the center, ranks them."},
}


def texts(lang: str = "zh") -> dict:
    """Display strings of the training report in ``lang`` (zh or en)."""
    if lang not in _TEXTS:
        raise ParameterError(f"lang must be one of {sorted(_TEXTS)}; got {lang!r}")
    return _TEXTS[lang]


def _label(view: dict, lang: str) -> pd.Series:
    """Item id → the scorecard's label in ``lang``."""
    col = "label_zh" if lang == "zh" else "label_en"
    return view["catalog"].drop_duplicates("item_id").set_index("item_id")[col]


def _skill(view: dict, lang: str):
    """Skill tag → its label from the center's taxonomy (``labels: skills:`` in center.yaml; stored with the catalog
    when the tables were prepared), else the tag."""
    cat = view.get("catalog")
    col = f"skill_{lang}"
    stored = (cat.drop_duplicates("skill").set_index("skill")[col].to_dict()
              if cat is not None and col in cat else {})

    def f(s) -> str:
        if missing(s) or s == "":
            return DASH
        if s in stored:
            return str(stored[s])
        from .config import settings

        return settings().label("skills", s, lang)
    return f


def _items(view: dict, lang: str):
    """A list of item ids (``a,b`` or ``a, b``) → their labels, joined the page's way."""
    lab = _label(view, lang)
    sep = "、" if lang == "zh" else ", "
    return lambda s: sep.join(str(lab.get(i.strip(), i.strip())) for i in str(s or "").split(",") if i.strip()) or DASH


def _who(view: dict):
    """Agent id → ``Z001 张三`` (the name beside the id), else the value as it is (a team, a group)."""
    a = view.get("agents")
    names = a.set_index("agent_id")["name"].to_dict() if a is not None and "name" in a else {}
    return lambda x: f"{x} {names[x]}" if isinstance(x, str) and names.get(x) else ("" if missing(x) else str(x))


def _pct(v) -> str:
    return pct(v)


def _p(v) -> str:
    """A q- or p-value, or — when there is none (a new row: no previous period)."""
    if missing(v):
        return DASH
    return "< 0.001" if float(v) < 0.001 else f"{float(v):.3f}"


def _pts_interval(d, lo, hi, lang: str) -> str:
    """A change of a rate in points with its interval: ``+9.4 个百分点（+0.7 至 +15.5）``."""
    if missing(d):
        return DASH
    inner = f"{points(lo, lang).split(' ')[0]} {'至' if lang == 'zh' else 'to'} {points(hi, lang).split(' ')[0]}"
    return f"{points(d, lang)}（{inner}）" if lang == "zh" else f"{points(d, lang)} ({inner})"


def headline(view: dict, lang: str = "zh") -> str:
    """What a training lead reads first (HTML, values escaped): the needs found (or that none is reliable), the
    largest one, the modules to schedule; then the period and how the list is controlled."""
    T, m = texts(lang), view["meta"]
    if m.get("missing"):
        return "<p>" + escape(T["missing_" + m["missing"]].format(first=m["first"], month=m["month"])) + "</p>"
    needs = view["needs"]
    lab = _label(view, lang)
    who = _who(view)
    zh = lang == "zh"
    scope = T["scope_all"] if view["team"] == "all" else view["team"]
    scope = scope[:1].upper() + scope[1:]
    team_n, agent_n = int((needs["scope"] == "team").sum()), int((needs["scope"] == "agent").sum())
    fdr = float(m["fdr"])
    parts = []
    if len(needs):
        parts.append(f"{scope}：{team_n} 项全组培训需求、{agent_n} 项个人辅导需求。" if zh
                     else f"{scope}: {team_n} team-wide training {'need' if team_n == 1 else 'needs'} and {agent_n} individual coaching {'need' if agent_n == 1 else 'needs'}. ")
        top = needs.iloc[int((needs["p_gap"] * needs["excess"]).to_numpy().argmax())]
        item = lab.get(top["item_id"], top["item_id"])
        parts.append(f"最突出：{who(top['who'])} 的“{item}”失误率 {_pct(top['rate'])}（中心其余 {_pct(top['center'])}，差距为真的概率 {pct(top['p_gap'], 0)}）。" if zh
                     else f"Largest: {who(top['who'])} on “{item}”, failure rate {_pct(top['rate'])} vs {_pct(top['center'])} for the rest of the center (P(gap real) {pct(top['p_gap'], 0)}). ")
    else:
        parts.append(f"{scope}：没有坐席或团队的失误率可靠地高于中心其余，本期无需专项培训或个人辅导。" if zh
                     else f"{scope}: no agent or team fails reliably more often than the rest of the center: no training or coaching need this period. ")
    n_mod = int((view["schedule"]["module_id"] != "").sum()) if len(view["schedule"]) else 0
    if n_mod:
        parts.append(f"建议安排 {n_mod} 个培训模块（见下表）。" if zh else f"{n_mod} training {'module' if n_mod == 1 else 'modules'} to schedule (table below). ")
    parts.append(f"依据：{m['first']} 至 {m['month']} 共 {num(m['evaluations'])} 次随机抽样评估、{num(m['answers'])} 个质检项答案。" if zh
                 else f"From {num(m['evaluations'])} random-arm evaluations ({num(m['answers'])} item answers), {m['first']} to {m['month']}. ")
    parts.append(T["fdr"].format(t=fdr, k=round(1 / fdr)) + ("" if zh else " "))
    for note, show in (("no_failures", m.get("failures", 1) == 0), ("one_team", len(view["teams"]) == 1)):
        if show:
            parts.append(T[note] + ("" if zh else " "))
    return "<p>" + escape("".join(parts).strip()) + "</p><p class='meta'>" + escape(T["method"].format(t=fdr)) + "</p>"


def html_table(df: pd.DataFrame) -> str:
    """A table with every cell escaped (text from the data renders as text); numbers with thousands separators."""
    d = df.copy()
    for c in d.columns:
        if pd.api.types.is_integer_dtype(d[c]):
            d[c] = d[c].map(num)
        elif pd.api.types.is_float_dtype(d[c]):
            d[c] = d[c].map(lambda v: num(v, 1))
    return d.to_html(index=False, escape=True, na_rep=DASH, border=0, classes="tr")


def needs_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """The ranked needs, readable: who (name beside the id), item and skill labels, rate with interval, center,
    P(gap real), n, trend."""
    T, lab, sk, who = texts(lang), _label(view, lang), _skill(view, lang), _who(view)
    n = view["needs"]
    return pd.DataFrame({
        T["team"]: n["team"], "#": n["rank"], T["scope"]: n["scope"].map({"team": T["teamwide"], "agent": T["individual"]}),
        T["who"]: n["who"].map(who), T["item"]: n["item_id"].map(lab).fillna(n["item_id"]), T["skill"]: n["skill"].map(sk),
        T["rate"]: n["rate"].map(_pct), T["interval"]: [pct_interval(lo, hi) for lo, hi in zip(n["low"], n["high"])],
        T["center"]: n["center"].map(_pct), T["p_gap"]: n["p_gap"].map(lambda v: pct(v, 0)), T["q"]: n["q"].map(_p), T["n"]: n["n"],
        T["previous"]: n["prev_rate"].map(_pct), T["trend"]: n["trend"].map(T["trends"]),
    })


def groups_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """One row per group: size, focus items (labels), members."""
    T, lab = texts(lang), _label(view, lang)
    prof, mem = view["profiles"], view["members"]
    if prof.empty:
        note = view["meta"].get("groups_note") or ""
        return pd.DataFrame({T["groups"]: [T["groups_note"].get(note, T["none"])]})
    members = mem.groupby("group")["agent_id"].agg(lambda s: ", ".join(sorted(s)))
    focus = prof["focus"].map(lambda f: "、".join(lab.get(i, i) for i in f.split(", ")) if f else T["none"])
    out = pd.DataFrame({T["group"]: "G" + prof["group"].astype(str), T["size"]: prof["group"].map(mem.groupby("group").size()).fillna(0).astype(int),
                        T["focus"]: focus, T["members"]: prof["group"].map(members).fillna("")})
    return out[out[T["size"]] > 0].reset_index(drop=True)


def schedule_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """Modules to schedule with audience, items (labels) and hours."""
    T, items, who = texts(lang), _items(view, lang), _who(view)
    sc = view["schedule"]
    title = sc["title_zh" if lang == "zh" else "title_en"].where(sc["module_id"] != "", T["no_module"])
    kind = sc["audience_kind"].map({"team": T["teamwide"], "group": T["group"], "agent": T["individual"]})
    return pd.DataFrame({
        T["module"]: (sc["module_id"] + " " + title).str.strip(), T["hours"]: sc["hours"].map(lambda v: num(v, 1)), T["scope"]: kind,
        T["audience"]: sc["audience"].map(who), T["size"]: sc["n_agents"], T["items"]: sc["items"].map(items),
    })


def _vs_veterans(p, ratio, lang: str) -> str:
    """The new hires against the veterans in words (two-sided test at 5 %)."""
    T = texts(lang)
    if missing(p) or missing(ratio):
        return DASH
    return T["vs"]["higher"] if p < 0.05 and ratio > 1 else T["vs"]["lower"] if p < 0.05 and ratio < 1 else T["vs"]["same"]


def tenure_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """New-hire cohorts month by month against the veterans."""
    T, t = texts(lang), view["tenure"]
    if t.empty:
        return pd.DataFrame({T["tenure"]: [T["no_new_hires"].format(days=int(view["meta"].get("new_hire_days") or 183))]})
    return pd.DataFrame({
        T["cohort"]: t["cohort"], T["month"]: t["month"], T["tenure_months"]: t["tenure_months"].map(lambda v: num(v, 1)), T["size"]: t["agents"],
        T["rate"]: t["rate"].map(_pct), T["interval"]: [pct_interval(lo, hi) for lo, hi in zip(t["low"], t["high"])],
        T["veterans"]: t["veteran_rate"].map(_pct), T["ratio"]: t["ratio"].map(lambda v: num(v, 2)),
        T["vs_veterans"]: [_vs_veterans(p, r, lang) for p, r in zip(t["p_value"], t["ratio"])],
    })


def progress_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """Per team and skill (labels): this period against the previous one, the change in percentage points, its q-value."""
    T, g, sk = texts(lang), view["progress"], _skill(view, lang)
    return pd.DataFrame({
        T["team"]: g["team"], T["skill"]: g["skill"].map(sk), T["rate"]: g["rate"].map(_pct), T["n"]: g["n"], T["previous"]: g["prev_rate"].map(_pct),
        T["change"]: g["change"].map(lambda v: points(v, lang)), T["q"]: g["trend_q"].map(_p),
        T["verdict"]: g["verdict"].map(T["trends"]),
    })


def charts(view: dict, lang: str = "zh") -> dict[str, str]:
    """Report charts (shared plotly.min.js): team × skill failure-rate heat map (skill labels) and the new-hire tenure curve."""
    import plotly.graph_objects as go

    from .html import figure_html

    T, sk = texts(lang), _skill(view, lang)
    ts = view["team_skills"]
    z = ts.pivot_table(index="team", columns="skill", values="rate")
    heat = go.Figure(go.Heatmap(z=z.to_numpy(), x=[sk(c) for c in z.columns], y=list(z.index), colorscale="Reds", zmin=0,
                                text=[[_pct(v) for v in row] for row in z.to_numpy()], texttemplate="%{text}",
                                hovertemplate="%{y} · %{x}: %{text}<extra></extra>", colorbar=dict(tickformat=".0%")))
    heat.update_layout(height=120 + 40 * len(z), margin=dict(l=60, r=20, t=30, b=40), title=T["skills"])
    t = view["tenure"]
    curve = go.Figure()
    for cohort, part in t.groupby("cohort", sort=True):
        curve.add_trace(go.Scatter(x=part["tenure_months"], y=part["rate"], mode="lines+markers", name=f"{T['cohort']} {cohort}",
                                   error_y=dict(type="data", symmetric=False, array=part["high"] - part["rate"], arrayminus=part["rate"] - part["low"])))
        curve.add_trace(go.Scatter(x=part["tenure_months"], y=part["veteran_rate"], mode="lines", line=dict(dash="dot"),
                                   name=f"{T['veterans']} ({cohort})"))
    curve.update_layout(height=360, margin=dict(l=60, r=20, t=30, b=40), xaxis_title=T["tenure_months"], yaxis_title=T["rate"],
                        yaxis_tickformat=".0%", title=T["tenure"])
    return {"skills": figure_html(heat), "tenure": figure_html(curve) if len(t) else ""}  # no new hires: the table says so


def _task(c: pd.DataFrame, T: dict) -> pd.Series:
    """The coaching table's first column: the action id, or "programme (pooled) <ISO week>" on a programme row."""
    pooled = (c["level"] != "action").to_numpy()
    week = c["programme"].fillna("").astype(str).map(lambda s: s.split(" · ")[-1] if " · " in s else s)
    return pd.Series(np.where(pooled, T["programme"] + " " + week, c["action_id"].fillna("").astype(str)), index=c.index)


def coaching_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """The coaching loop per action and pooled per programme: before/after pass rates (described), the changes in
    percentage points, the gain against the comparison and the verdict."""
    T, c, items, who = texts(lang), view["coaching"], _items(view, lang), _who(view)
    if c.empty:
        return pd.DataFrame({T["coaching"]: [T["no_actions"]]})
    pooled = c["level"] != "action"
    return pd.DataFrame({
        T["task"]: _task(c, T), T["who"]: c["agent_id"].map(who).where(~pooled, c["agents"].astype(str) + (" 人" if lang == "zh" else " agents")),
        T["coach"]: c["coach"].map(who), T["items"]: c["items"].map(items),
        T["before"]: [f"{_pct(r)} (n={num(n)})" for r, n in zip(c["before_rate"], c["before_n"])],
        T["after"]: [f"{_pct(r)} (n={num(n)})" for r, n in zip(c["after_rate"], c["after_n"])],
        T["change"]: [_pts_interval(d, lo, hi, lang) for d, lo, hi in zip(c["diff"], c["diff_low"], c["diff_high"])],
        T["expected"]: c["expected_after_rate"].map(_pct),
        T["vs_comparison"]: [_pts_interval(d, lo, hi, lang) for d, lo, hi in zip(c["effect"], c["effect_low"], c["effect_high"])],
        T["verdict"]: c["verdict"].map(T["verdicts"]).fillna(c["verdict"]),
    })


def open_table(view: dict, lang: str = "zh") -> pd.DataFrame:
    """Coaching actions open at the month's end, per supervisor, most overdue first (item labels, names beside ids)."""
    T, o, items, who = texts(lang), view["open_actions"], _items(view, lang), _who(view)
    if o.empty:
        return pd.DataFrame({T["open"]: [T["none"]]})
    return pd.DataFrame({T["supervisor"]: o["supervisor"], T["agent"]: o["agent_id"].map(who), T["action"]: o["action_id"], T["coach"]: o["coach"].map(who),
                         T["items"]: o["items"].map(items), T["due"]: o["due_on"].astype(str), T["overdue_days"]: o["days_overdue"]})


_TR_GLOSSARY = {
    "zh": (("失误率", "该项答案为“否”或“部分”的比例（扣分项：有扣分；量表项：低于满分的 60%）。"),
           ("差距为真的概率", "把每个人的少量样本向整体水平收缩后，真实失误率高于中心其余的概率；用于给需求排序，不单独作为结论。"),
           ("q 值", "同时检查很多人、很多项时，校正偶然“看起来差”之后的误报可能；q 值不超过 5% 才列为需求。")),
    "en": (("failure rate", "The share of answers “no” or “partial” (a deduction item: any deduction; a scale item: under 60 % of its maximum)."),
           ("P(gap is real)", "After pulling each person's few answers toward the overall level, the probability that the true failure rate is above "
                              "the rest of the center; it ranks the needs and is not a verdict on its own."),
           ("q value", "The chance of a false alarm after correcting for checking many people and items at once; a need is listed only at q ≤ 5 %.")),
}


def glossary_html(lang: str = "zh") -> str:
    """The page's glossary: shared words (interval, points, FDR) and the training page's own, in plain words."""
    texts(lang)  # checks lang
    extra = "".join(f"<dt><b>{escape(a)}</b></dt><dd>{escape(b)}</dd>" for a, b in _TR_GLOSSARY[lang])
    return (glossary(lang, ["interval", "points", "fdr"]).replace("</dl></details>", extra + "</dl></details>").replace("<details class=", "<details open class="))


# ----------------------------------------------------------------------------- the plan workbook
def plan_sheets(view: dict, lang: str = "zh") -> dict:
    """The training plan as workbook sheets in ``lang``: ``{sheet name: (frame, formats)}``, headers in ``lang``,
    labels for items, skills and agents, shares as numbers with a percent format (``pct``), changes as percentage
    points (``pts``), counts (``int``), one or two decimals (``dec1``, ``dec2``)."""
    T, lab, sk, who, items = texts(lang), _label(view, lang), _skill(view, lang), _who(view), _items(view, lang)
    S = T["sheets"]
    n, sc, t, g, c, o = (view[k] for k in ("needs", "schedule", "tenure", "progress", "coaching", "open_actions"))
    kinds = {"team": T["teamwide"], "group": T["group"], "agent": T["individual"]}
    out = {}
    title = sc["title_zh" if lang == "zh" else "title_en"].where(sc["module_id"] != "", T["no_module"]) if len(sc) else sc.get("module_id", pd.Series(dtype=object))
    out[S["schedule"]] = (pd.DataFrame({T["module"]: (sc["module_id"] + " " + title).str.strip() if len(sc) else [], T["hours"]: sc["hours"].round(1),
                                        T["scope"]: sc["audience_kind"].map(kinds), T["audience"]: sc["audience"].map(who), T["size"]: sc["n_agents"],
                                        T["items"]: sc["items"].map(items), T["members"]: sc["agents"]}), {T["hours"]: "dec1", T["size"]: "int"})
    out[S["needs"]] = (pd.DataFrame({T["team"]: n["team"], "#": n["rank"], T["scope"]: n["scope"].map({"team": T["teamwide"], "agent": T["individual"]}),
                                     T["who"]: n["who"].map(who), T["item"]: n["item_id"].map(lab).fillna(n["item_id"]), T["skill"]: n["skill"].map(sk),
                                     T["rate"]: n["rate"], T["low"]: n["low"], T["high"]: n["high"], T["center"]: n["center"], T["p_gap"]: n["p_gap"],
                                     T["q"]: n["q"].round(4), T["n"]: n["n"], T["previous"]: n["prev_rate"], T["trend"]: n["trend"].map(T["trends"])}),
                       {T["rate"]: "pct", T["low"]: "pct", T["high"]: "pct", T["center"]: "pct", T["p_gap"]: "pct", T["q"]: "dec3", T["n"]: "int", T["previous"]: "pct"})
    mem = view["members"].merge(view["profiles"][["group", "focus"]], on="group") if len(view["profiles"]) else view["members"].assign(focus="")
    out[S["groups"]] = (pd.DataFrame({T["group"]: "G" + mem["group"].astype(str), T["agent"]: mem["agent_id"].map(who), T["team"]: mem.get("team", ""),
                                      T["focus"]: mem["focus"].map(lambda f: "、".join(str(lab.get(i, i)) for i in str(f).split(", ") if i) or T["none"])}), {})
    out[S["new_hires"]] = (pd.DataFrame({T["cohort"]: t["cohort"], T["month"]: t["month"], T["tenure_months"]: t["tenure_months"], T["size"]: t["agents"],
                                         T["rate"]: t["rate"], T["low"]: t["low"], T["high"]: t["high"], T["veterans"]: t["veteran_rate"],
                                         T["ratio"]: t["ratio"].astype(float).round(2), T["vs_veterans"]: [_vs_veterans(p, r, lang) for p, r in zip(t["p_value"], t["ratio"])]}),
                           {T["tenure_months"]: "dec1", T["size"]: "int", T["rate"]: "pct", T["low"]: "pct", T["high"]: "pct", T["veterans"]: "pct", T["ratio"]: "dec2"})
    out[S["progress"]] = (pd.DataFrame({T["team"]: g["team"], T["skill"]: g["skill"].map(sk), T["rate"]: g["rate"], T["n"]: g["n"], T["previous"]: g["prev_rate"],
                                        T["change_pts"]: (100 * g["change"]).round(1), T["q"]: g["trend_q"].round(4), T["verdict"]: g["verdict"].map(T["trends"])}),
                          {T["rate"]: "pct", T["n"]: "int", T["previous"]: "pct", T["change_pts"]: "pts", T["q"]: "dec3"})
    if len(c):
        pooled = c["level"] != "action"
        cf = pd.DataFrame({T["task"]: _task(c, T), T["who"]: c["agent_id"].map(who).where(~pooled, c["agents"].astype(str)), T["coach"]: c["coach"].map(who),
                           T["items"]: c["items"].map(items), T["before"]: c["before_rate"], T["before_n"]: c["before_n"], T["after"]: c["after_rate"],
                           T["after_n"]: c["after_n"], T["change_pts"]: (100 * c["diff"].astype(float)).round(1), T["expected"]: c["expected_after_rate"],
                           T["gain_pts"]: (100 * c["effect"].astype(float)).round(1), T["gain_low"]: (100 * c["effect_low"].astype(float)).round(1),
                           T["gain_high"]: (100 * c["effect_high"].astype(float)).round(1), T["verdict"]: c["verdict"].map(T["verdicts"]).fillna(c["verdict"])})
    else:
        cf = pd.DataFrame({T["coaching"]: [T["no_actions"]]})
    out[S["coaching"]] = (cf, {T["before"]: "pct", T["after"]: "pct", T["expected"]: "pct", T["before_n"]: "int", T["after_n"]: "int",
                               T["change_pts"]: "pts", T["gain_pts"]: "pts", T["gain_low"]: "pts", T["gain_high"]: "pts"})
    of = (pd.DataFrame({T["supervisor"]: o["supervisor"], T["agent"]: o["agent_id"].map(who), T["action"]: o["action_id"], T["coach"]: o["coach"].map(who),
                        T["items"]: o["items"].map(items), T["agreed"]: o["agreed_action"], T["due"]: o["due_on"].astype(str), T["overdue_days"]: o["days_overdue"]})
          if len(o) else pd.DataFrame({T["open"]: [T["none"]]}))
    out[S["open_actions"]] = (of, {T["overdue_days"]: "int"})
    mods = view.get("modules")
    if mods is not None:
        out[S["modules"]] = (pd.DataFrame({T["module"]: mods["module_id"], T["module_title"]: mods["title_zh" if lang == "zh" else "title_en"],
                                           T["skill"]: mods["skills"].map(lambda s: ("、" if lang == "zh" else ", ").join(sk(x) for x in s)),
                                           T["hours"]: mods["hours"]}), {T["hours"]: "dec1"})
    digits = {"pct": 4, "pts": 1, "dec1": 1, "dec2": 2, "dec3": 3}
    for frame, formats in out.values():  # the cell holds the rounded value too, not 0.6096657120978346 under a format
        for col, kind in formats.items():
            if col in frame and kind in digits:
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float).round(digits[kind])
    return out


_NUMBER_FORMATS = {"pct": "0.0%", "pts": '+0.0;-0.0;0.0', "int": "#,##0", "dec1": "0.0", "dec2": "0.00", "dec3": "0.000"}
