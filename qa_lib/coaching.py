"""The coaching loop (督办闭环): did an agreed coaching action work, and which actions are still open.

A supervisor or inspector agrees an action with an agent on some scorecard items ("listen to three
model calls, drill the standard questions; re-check in three days", seed 001) and stores it
(:meth:`qa_lib.store.Store.add_coaching_action`). The next sampling plan adds re-check contacts for
it (reason ``recheck:<action_id>``, see :func:`qa_lib.sampling.draw_plan`). This module judges it:

* :func:`before_after` — per action, and pooled per programme (same coach, same items, created in
  the same ISO week: a cohort coached together is judged together), the agent's pass rate on the
  action's items before the action and after its re-check date (described, with Newcombe's interval),
  and the verdict ``improved``, ``not yet`` or ``not enough evidence`` judged against a comparison:
  after the re-check date, the coached items' share of the agent's failures against the share the
  agent's own uncoached items and the uncoached agents (adjusted for their baseline on those items and
  their tenure band) predict — so tenure, a general change and regression to the mean are in the
  comparison, not in the effect;
* :func:`newcombe_interval` — the interval for a difference of two independent proportions
  (Newcombe 1998, method 10), vectorized;
* :func:`open_actions`, :func:`open_summary` — open and overdue actions per supervisor and coach;
* :func:`load_evidence` — the tidy answers :func:`before_after` needs, read through a Store.

Only unbiased evidence is used: random-arm evaluations and re-check evaluations (contacts a saved
plan selected with reason ``recheck:…``, chosen by agent and date only). Targeted-by-risk and
calibration evaluations are left out: contacts picked because they looked risky would make any
agent look worse, and calibration calls are chosen for discussion.

Statistics are pure and vectorized; the only database access is :func:`load_evidence`, through a
:class:`~qa_lib.store.Store` passed in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ParameterError
from .stats._checks import _confidence
from .stats.fdr import q_values
from .stats.profile_logit import profile_logit
from .stats.proportions import newcombe_interval
from .summary import parse_date as _day

__all__ = [
    "VERDICTS", "PASS", "FAIL", "COLUMNS", "FDR_SENTENCE", "newcombe_interval", "split_items", "programme_of", "before_after", "open_actions",
    "open_summary", "load_evidence",
]

#: The verdicts of :func:`before_after`, best first.
VERDICTS = ("improved", "not yet", "not enough evidence")
#: Answers that count as a pass and as a fail; every other answer (``na``, fault counts, scale values) is ignored.
PASS, FAIL = ("yes",), ("no", "partial")
#: Re-check after this many days when an action does not say (the model's default).
DEFAULT_RECHECK_DAYS = 3
#: Tenure band of the comparison: agents hired within this many days before an action are matched with each other.
NEW_HIRE_DAYS = 183
#: Fewest comparison agents in a band for the band to be matched on (fewer: the band is not adjusted for).
MIN_BAND = 3
#: The page's rule for many verdicts at once, in the report's languages.
FDR_SENTENCE = {
    "zh": "同一页上判定的多项辅导中，“已改善”里误判的预期比例不超过 {rate:.1%}（Benjamini–Hochberg 错误发现率控制）。",
    "en": "Across the actions judged on this page, the expected share of false \"improved\" verdicts among them is at most {rate:.1%} "
          "(Benjamini–Hochberg false discovery rate).",
}


# ---------------------------------------------------------------------------------- inputs
def split_items(items) -> list[str]:
    """``"greet, verify"`` (or a list) as a clean list of item ids, in order, without repeats."""
    if items is None or (isinstance(items, float) and np.isnan(items)):
        return []
    parts = items.split(",") if isinstance(items, str) else list(items)
    out: list[str] = []
    for p in (str(x).strip() for x in parts):
        if p and p not in out:
            out.append(p)
    return out


def _need(df: pd.DataFrame, name: str, cols) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"{name} must be a DataFrame; got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ParameterError(f"{name} must have columns {list(cols)}; missing {missing}")


def _dates(s: pd.Series, name: str) -> pd.Series:
    out = pd.to_datetime(s, errors="coerce")
    bad = out.isna() & s.notna()
    if bad.any():
        raise ParameterError(f"{name} must hold dates like 2026-10-31; got {s[bad].iloc[0]!r}")
    return out.dt.normalize()


def _whole(value, name: str, low: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise ParameterError(f"{name} must be a whole number ≥ {low}; got {value!r}")
    return int(value)


def programme_of(coach: pd.Series, items: pd.Series, created: pd.Series) -> pd.Series:
    """The programme label of actions: coach · items (sorted) · ISO week of creation, e.g. ``ZJ01 · greet,verify · 2026-W23``."""
    week = created.dt.strftime("%G-W%V").astype(str)
    keys = items.map(lambda s: ",".join(sorted(split_items(s)))).astype(str)
    return coach.astype(str) + " · " + keys + " · " + week


def _actions(actions: pd.DataFrame) -> pd.DataFrame:
    _need(actions, "actions", ["action_id", "agent_id", "coach", "created_on", "items"])
    a = actions.reset_index(drop=True).copy()
    if a["action_id"].duplicated().any():
        raise ParameterError(f"actions must have one row per action_id; repeated: {sorted(set(a.loc[a['action_id'].duplicated(), 'action_id']))[:5]}")
    a["created"] = _dates(a["created_on"], "actions.created_on")
    if a["created"].isna().any():
        raise ParameterError(f"actions.created_on is empty for {a.loc[a['created'].isna(), 'action_id'].tolist()[:5]}")
    days = pd.to_numeric(a["recheck_after_days"], errors="coerce") if "recheck_after_days" in a.columns else pd.Series(np.nan, index=a.index)
    if (days < 0).any():
        raise ParameterError(f"actions.recheck_after_days must be ≥ 0; got {days[days < 0].iloc[0]!r}")
    a["recheck_days"] = days.fillna(DEFAULT_RECHECK_DAYS).astype(int)
    a["recheck"] = a["created"] + pd.to_timedelta(a["recheck_days"], unit="D")
    a["item_list"] = a["items"].map(split_items)
    empty = a["item_list"].map(len) == 0
    if empty.any():
        raise ParameterError(f"actions.items must name at least one item; empty for {a.loc[empty, 'action_id'].tolist()[:5]}")
    a["items_key"] = a["item_list"].map(lambda v: ",".join(sorted(v)))
    a["programme"] = programme_of(a["coach"], a["items"], a["created"])
    return a


def _evidence(answers: pd.DataFrame, as_of) -> pd.DataFrame:
    """Unbiased, scored answers: random arm or re-check contacts, yes/partial/no only, one per contact and item."""
    _need(answers, "answers", ["agent_id", "item_id", "answer", "handled_at", "arm"])
    ev = answers
    reason = ev["reason"].astype(object).fillna("").astype(str) if "reason" in ev.columns else pd.Series("", index=ev.index)
    keep = ((ev["arm"] == "random").to_numpy(dtype=bool) | reason.str.startswith("recheck:").to_numpy(dtype=bool)) \
        & ev["answer"].isin(PASS + FAIL).to_numpy(dtype=bool)
    cols = [c for c in ("evaluation_id", "contact_id") if c in ev.columns]
    ev = ev.loc[keep, ["agent_id", "item_id", "answer", "handled_at", *cols]].copy()
    ev["handled"] = pd.to_datetime(ev["handled_at"], errors="coerce")
    if ev["handled"].isna().any():
        raise ParameterError(f"answers.handled_at must hold the contacts' times; got {ev.loc[ev['handled'].isna(), 'handled_at'].iloc[0]!r}")
    if as_of is not None:
        ev = ev[ev["handled"] < _day(as_of, "as_of") + pd.Timedelta(days=1)]
    if "contact_id" in ev.columns:  # a contact scored twice (double scoring) is one observation
        order = ["contact_id", "item_id"] + (["evaluation_id"] if "evaluation_id" in ev.columns else []) + ["answer"]
        ev = ev.sort_values(order, kind="stable").drop_duplicates(["contact_id", "item_id"])
    ev["passed"] = ev["answer"].isin(PASS).to_numpy(dtype=bool)
    return ev[["agent_id", "item_id", "handled", "passed"]]


# -------------------------------------------------------------------------------- the loop
def before_after(actions: pd.DataFrame, answers: pd.DataFrame, *, agents: pd.DataFrame | None = None, before_days: int = 60,
                 after_days: int = 60, meaningful: float = 0.05, confidence: float = 0.95, as_of=None) -> pd.DataFrame:
    """Did each coaching action work? Judged against a comparison, per action and pooled per programme.

    Parameters
    ----------
    actions : DataFrame
        One row per action: ``action_id, agent_id, coach, created_on, items`` (comma-separated item
        ids), optionally ``recheck_after_days`` (default 3). Status is not used: open, done and
        cancelled actions are all judged.
    answers : DataFrame
        One row per evaluated item, of every agent (the uncoached agents are the comparison):
        ``agent_id, item_id, answer, handled_at`` (when the contact was handled), ``arm``; optionally
        ``reason`` (the plan's reason for the contact), ``contact_id`` and ``evaluation_id``. Evidence
        is random-arm rows plus rows whose reason starts with ``recheck:``; answer ``yes`` passes,
        ``partial`` and ``no`` fail, anything else is ignored. A contact scored twice counts once per
        item (the lowest evaluation id).
    agents : DataFrame, optional
        ``agent_id, hire_date``: agents hired within :data:`NEW_HIRE_DAYS` before an action are
        compared with the uncoached agents of that band when there are at least :data:`MIN_BAND` of them.
    before_days : int
        The "before" window: contacts handled in the ``before_days`` days before ``created_on``.
    after_days : int
        The "after" window: contacts handled from the re-check date (``created_on`` +
        ``recheck_after_days``) for ``after_days`` days.
    meaningful : float
        The smallest gain of the pass rate worth having (0.05 = 5 points). ``not yet`` means the
        whole interval of the gain beyond the comparison lies below it.
    confidence : float
        Level of the intervals.
    as_of : date, optional
        Ignore contacts handled and actions agreed after this day (to replay the loop as it looked then).

    Returns
    -------
    DataFrame
        ``level`` (``action`` rows first, then ``programme`` rows), ``programme``, ``action_id``,
        ``agent_id`` (empty on programme rows), ``coach``, ``items``, ``created_on``, ``recheck_on``,
        ``actions``, ``agents``; the plain description ``before_n``, ``before_pass``, ``before_rate``,
        ``after_n``, ``after_pass``, ``after_rate``, ``diff`` (after − before) with ``diff_low``,
        ``diff_high`` (Newcombe), ``others_before_rate``, ``others_after_rate`` (the same agents' other
        items); and the judgement: ``comparison_agents`` (uncoached agents compared with),
        ``expected_after_rate`` (the pass rate the comparison predicts for the coached items after the
        re-check, without coaching), ``effect`` (``after_rate`` − that, in pass-rate points) with
        ``effect_low``, ``effect_high``, ``fail_ratio`` (coached items' failure rate ÷ the predicted
        one) with ``ratio_low``, ``ratio_high``, ``p_improved`` (one-sided), ``q_improved``
        (Benjamini–Hochberg across the action rows, and across the programme rows of more than one
        action; a programme of one action has that action's) and ``verdict``.

    Notes
    -----
    The comparison and the model: :func:`_fit_units` and docs/coaching.md. ``improved``: ``q_improved`` ≤
    (1 − confidence) / 2 (:data:`FDR_SENTENCE`). ``not yet``: the interval of ``effect`` lies below ``meaningful``.
    ``not enough evidence``: anything else, e.g. a single agent's dozen answers in a month.
    """
    before_days = _whole(before_days, "before_days", 1)
    after_days = _whole(after_days, "after_days", 1)
    if not isinstance(meaningful, (int, float)) or isinstance(meaningful, bool) or not 0 < meaningful < 1:
        raise ParameterError(f"meaningful must be a pass-rate difference between 0 and 1 (0.05 = 5 points); got {meaningful!r}")
    c = _confidence(confidence)
    hired = _hire_dates(agents)
    a = _actions(actions)
    if as_of is not None:  # actions agreed later did not exist yet
        a = a[a["created"] <= _day(as_of, "as_of")].reset_index(drop=True)
    ev = _evidence(answers, as_of)

    per = _window_counts(a, ev, before_days, after_days)
    pooled = _pool_programmes(per)
    act_cmp, prog_cmp = _comparison(a, ev, hired, before_days, after_days, c)
    per = pd.concat([per, act_cmp], axis=1)
    pooled = pd.concat([pooled, prog_cmp.reindex(pooled["programme"]).reset_index(drop=True)], axis=1)
    per = per.sort_values(["programme", "created", "action_id"], kind="stable")
    out = pd.concat([per.assign(level="action"), pooled.assign(level="programme")], ignore_index=True)
    _describe(out, c)
    _judge(out, c, meaningful)
    out["created_on"] = out["created"].dt.date
    out["recheck_on"] = out["recheck"].dt.date
    out = out.rename(columns={"items_key": "items"})
    return out[COLUMNS]


#: The columns of :func:`before_after`, in order.
COLUMNS = ["level", "programme", "action_id", "agent_id", "coach", "items", "created_on", "recheck_on", "actions", "agents",
           "before_n", "before_pass", "before_rate", "after_n", "after_pass", "after_rate", "diff", "diff_low", "diff_high",
           "others_before_rate", "others_after_rate", "comparison_agents", "expected_after_rate", "effect", "effect_low",
           "effect_high", "fail_ratio", "ratio_low", "ratio_high", "p_improved", "q_improved", "verdict"]


def _hire_dates(agents) -> pd.Series | None:
    """Hire dates by agent id, or None when no agents frame is given."""
    if agents is None:
        return None
    _need(agents, "agents", ["agent_id", "hire_date"])
    ag = agents.drop_duplicates("agent_id")
    return pd.Series(_dates(ag["hire_date"], "agents.hire_date").to_numpy(), index=ag["agent_id"].astype(str).to_numpy())


def _window_counts(a: pd.DataFrame, ev: pd.DataFrame, before_days: int, after_days: int) -> pd.DataFrame:
    """One row per action: answers and passes before and after it, on its items and (``o_``) on the agent's other items."""
    # every action against every evidence row of its agent: coached items and the others
    pairs = a[["action_id", "agent_id", "created", "recheck", "item_list"]].merge(ev, on="agent_id", how="inner")
    own = a[["action_id", "item_list"]].explode("item_list")
    coached = pd.MultiIndex.from_arrays([pairs["action_id"], pairs["item_id"]]).isin(
        pd.MultiIndex.from_arrays([own["action_id"], own["item_list"]]))
    h = pairs["handled"]
    before = ((h >= pairs["created"] - pd.Timedelta(days=before_days)) & (h < pairs["created"])).to_numpy(dtype=bool)
    after = ((h >= pairs["recheck"]) & (h < pairs["recheck"] + pd.Timedelta(days=after_days))).to_numpy(dtype=bool)
    ok = pairs["passed"].to_numpy(dtype=bool)
    flags = pd.DataFrame({
        "action_id": pairs["action_id"].to_numpy(dtype=object),
        "before_n": before & coached, "before_pass": before & coached & ok,
        "after_n": after & coached, "after_pass": after & coached & ok,
        "o_before_n": before & ~coached, "o_before_pass": before & ~coached & ok,
        "o_after_n": after & ~coached, "o_after_pass": after & ~coached & ok,
    })
    counts = flags.groupby("action_id", sort=False).sum().reindex(a["action_id"], fill_value=0).astype(int).reset_index(drop=True)
    per = pd.concat([a[["programme", "action_id", "agent_id", "coach", "items_key", "created", "recheck"]], counts], axis=1)
    per["actions"], per["agents"] = 1, 1
    return per


def _pool_programmes(per: pd.DataFrame) -> pd.DataFrame:
    """The per-action counts summed per programme (first coach and items, earliest dates, distinct agents)."""
    sums = ["before_n", "before_pass", "after_n", "after_pass", "o_before_n", "o_before_pass", "o_after_n", "o_after_pass", "actions"]
    g = per.groupby("programme", sort=True)
    pooled = g[sums].sum()
    pooled["agents"] = g["agent_id"].nunique()
    first = g[["coach", "items_key"]].first()
    pooled["created"], pooled["recheck"] = g["created"].min(), g["recheck"].min()
    pooled = pd.concat([first, pooled], axis=1).reset_index()
    pooled["action_id"], pooled["agent_id"] = None, None
    return pooled


# --------------------------------------------------------------------------- the comparison
_CMP = ["comparison_agents", "expected_after_rate", "effect", "effect_low", "effect_high", "fail_ratio", "ratio_low", "ratio_high",
        "p_improved"]


def _comparison(a: pd.DataFrame, ev: pd.DataFrame, hired, before_days: int, after_days: int, c: float):
    """The comparison-based effect per action (rows in ``a``'s order) and per programme (indexed by programme)."""
    g = a.groupby("programme", sort=True)
    units = {
        "action": pd.DataFrame({"created": a["created"], "recheck": a["recheck"], "items": a["item_list"]}),
        "programme": pd.DataFrame({"created": g["created"].min(), "recheck": g["recheck"].min(),
                                   "items": g["item_list"].first()}),
    }
    agent_ids = np.array(sorted({str(v) for v in ev["agent_id"].unique()} | {str(v) for v in a["agent_id"].unique()}), dtype=object)
    if a.empty or ev.empty:
        return (pd.DataFrame(np.nan, index=a.index, columns=_CMP).assign(comparison_agents=0),
                pd.DataFrame(np.nan, index=units["programme"].index, columns=_CMP).assign(comparison_agents=0))
    grid = _grid(ev, agent_ids, [u for k in units.values() for u in _edges(k, before_days, after_days)])
    who = pd.Index(agent_ids).get_indexer(a["agent_id"].astype(str))
    counts = {k: _unit_counts(grid, u, before_days, after_days) for k, u in units.items()}
    # the coached rows of a programme: each member action's own windows
    prog = pd.Index(units["programme"].index).get_indexer(a["programme"])
    treated = {"action": np.zeros((len(a), len(agent_ids)), bool), "programme": np.zeros((len(units["programme"]), len(agent_ids)), bool)}
    treated["action"][np.arange(len(a)), who] = True
    treated["programme"][prog, who] = True
    for name, arr in counts["programme"].items():
        arr[treated["programme"]] = 0
        np.add.at(arr, (prog, who), counts["action"][name][np.arange(len(a)), who])
    busy = _busy(a, who, len(agent_ids), before_days, after_days)
    out = {}
    for k, u in units.items():
        band = _band(hired, agent_ids, u["created"])
        out[k] = _fit_units(counts[k], treated[k], busy(u), band, c)
    return out["action"].set_axis(a.index), out["programme"].set_axis(units["programme"].index)


def _edges(u: pd.DataFrame, before_days: int, after_days: int):
    """A unit's window edges: before window [created − before_days, created), after window [recheck, recheck + after_days)."""
    return (u["created"] - pd.Timedelta(days=before_days), u["created"], u["recheck"], u["recheck"] + pd.Timedelta(days=after_days))


def _grid(ev: pd.DataFrame, agent_ids: np.ndarray, edges: list) -> dict:
    """Failures and answers per agent and item handled before each window edge (cumulative over the sorted edges)."""
    e = np.unique(np.concatenate([pd.to_datetime(pd.Series(x)).to_numpy(dtype="datetime64[ns]") for x in edges]))
    g_codes, g_names = pd.factorize(ev["agent_id"])  # codes first: converting a million strings is the slow part
    i_codes, i_names = pd.factorize(ev["item_id"])
    items = np.array(sorted({str(v) for v in i_names}), dtype=object)
    g = pd.Index(agent_ids).get_indexer([str(v) for v in g_names])[g_codes]
    i = pd.Index(items).get_indexer([str(v) for v in i_names])[i_codes]
    b = np.searchsorted(e, ev["handled"].to_numpy(dtype="datetime64[ns]"), side="right")
    shape = (len(agent_ids), len(items), len(e) + 1)
    flat = np.ravel_multi_index((g, i, b), shape)
    size = int(np.prod(shape))
    n = np.bincount(flat, minlength=size).reshape(shape).cumsum(axis=2)
    f = np.bincount(flat, weights=~ev["passed"].to_numpy(dtype=bool), minlength=size).reshape(shape).cumsum(axis=2)
    return {"edges": e, "items": pd.Index(items), "n": n, "f": f, "n_all": n.sum(axis=1), "f_all": f.sum(axis=1)}


def _unit_counts(grid: dict, u: pd.DataFrame, before_days: int, after_days: int) -> dict[str, np.ndarray]:
    """Per unit and agent: failures and answers on the unit's items (``S``) and on all items (``T``), before and after."""
    ix = [np.searchsorted(grid["edges"], pd.to_datetime(pd.Series(x)).to_numpy(dtype="datetime64[ns]")) for x in _edges(u, before_days, after_days)]
    pairs = pd.DataFrame({"unit": np.arange(len(u)), "item": u["items"].to_numpy()}).explode("item")
    pairs["i"] = grid["items"].get_indexer(pairs["item"].astype(str))
    pairs = pairs[pairs["i"] >= 0]
    unit, item = pairs["unit"].to_numpy(dtype=int), pairs["i"].to_numpy(dtype=int)
    out = {}
    for w, (lo, hi) in {"B": (ix[0], ix[1]), "A": (ix[2], ix[3])}.items():
        for kind in ("f", "n"):
            cum, tot = grid[kind], grid[f"{kind}_all"]
            out[f"{kind}{w}T"] = (tot[:, hi] - tot[:, lo]).T.astype(float)
            s = np.zeros((len(u), cum.shape[0]))
            np.add.at(s, unit, (cum[:, item, hi[unit]] - cum[:, item, lo[unit]]).T)
            out[f"{kind}{w}S"] = s
    return out


def _busy(a: pd.DataFrame, who: np.ndarray, n_agents: int, before_days: int, after_days: int):
    """A function of units: (unit, agent) True where the agent had an action changing its items within the unit's windows."""
    def busy(u: pd.DataFrame) -> np.ndarray:
        start = (u["created"] - pd.Timedelta(days=before_days)).to_numpy(dtype="datetime64[ns]")[:, None]
        end = (u["recheck"] + pd.Timedelta(days=after_days)).to_numpy(dtype="datetime64[ns]")[:, None]
        hit = (a["recheck"].to_numpy(dtype="datetime64[ns]")[None, :] > start) & (a["created"].to_numpy(dtype="datetime64[ns]")[None, :] < end)
        out = np.zeros((len(u), n_agents), bool)
        rows, cols = np.nonzero(hit)
        out[rows, who[cols]] = True
        return out
    return busy


def _band(hired, agent_ids: np.ndarray, created: pd.Series):
    """(unit, agent) 1.0 for agents hired within :data:`NEW_HIRE_DAYS` before the unit's creation; None without hire dates."""
    if hired is None:
        return None
    h = hired.reindex(agent_ids).to_numpy(dtype="datetime64[ns]")[None, :]
    day = created.to_numpy(dtype="datetime64[ns]")[:, None]
    return ((h > day - np.timedelta64(NEW_HIRE_DAYS, "D")) & ~np.isnat(h)).astype(float)


def _fit_units(k: dict, treated: np.ndarray, busy: np.ndarray, band, c: float) -> pd.DataFrame:
    """The comparison model per unit: the coached items' failures among each agent's failures after the re-check.

    Of each agent's failures after the re-check, how many fall on the unit's items, given how many of its answers
    are on them (the offset): the agent's own uncoached items carry its tenure and any general change; the
    uncoached agents (not ``busy``) say what share to expect, adjusted for each agent's share in the "before"
    window (so a coached agent chosen for a bad spell is predicted to regress as uncoached agents with that
    baseline do) and for the tenure ``band``. A logistic regression (the conditional form of a Poisson model with a
    term per agent) with a profile-likelihood interval scaled by the uncoached agents' extra-binomial variation.
    """
    fAO, nAO, fBO, nBO = k["fAT"] - k["fAS"], k["nAT"] - k["nAS"], k["fBT"] - k["fBS"], k["nBT"] - k["nBS"]
    fAS, nAS, fBS, nBS = k["fAS"], k["nAS"], k["fBS"], k["nBS"]
    use = (treated | ~busy) & (nAS > 0) & (nAO > 0)
    comp = use & ~treated
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(use, np.log(nAS / nAO), 0.0)
        base = np.where((nBS > 0) & (nBO > 0), np.log((fBS + 0.5) / (nBS + 0.5)) - np.log((fBO + 0.5) / (nBO + 0.5)), np.nan)
        has = comp & np.isfinite(base)
        mean = np.where(has, base, 0.0).sum(axis=1, keepdims=True) / np.maximum(has.sum(axis=1, keepdims=True), 1)
    base = np.where(np.isnan(base), 0.0, base - mean)
    cols = [np.ones_like(offset), base]
    if band is not None:  # match on the tenure band where both bands have enough uncoached agents
        inside = (comp & (band > 0)).sum(axis=1)
        enough = (inside >= MIN_BAND) & ((comp & (band == 0)).sum(axis=1) >= MIN_BAND)
        cols.append(np.where(enough[:, None], band, 0.0))
    X = np.stack(cols, axis=2)
    trials = np.where(use, fAS + fAO, 0.0)
    fit = profile_logit(np.where(use, fAS, 0.0), trials, offset, X, treated.astype(float), confidence=c)
    beta = fit[[f"beta_{j}" for j in range(X.shape[2])]].to_numpy()
    eta = np.einsum("urk,uk->ur", X, np.nan_to_num(beta))
    tu = treated & use
    with np.errstate(divide="ignore", invalid="ignore"):
        rate0 = np.where(tu, nAS * (fAO / nAO) * np.exp(eta), 0.0).sum(axis=1) / np.where(tu, nAS, 0.0).sum(axis=1)
    f0 = np.where(fit["ok"], np.clip(rate0, 0, 1), np.nan)
    ratio, low, high = (np.exp(fit[x].to_numpy()) for x in ("estimate", "low", "high"))
    with np.errstate(invalid="ignore"):  # no judgement (NaN) times an unbounded ratio
        return pd.DataFrame({
            "comparison_agents": (comp & (trials > 0)).sum(axis=1), "expected_after_rate": 1 - f0,
            "effect": f0 - np.minimum(f0 * ratio, 1), "effect_low": f0 - np.minimum(f0 * high, 1),
            "effect_high": f0 - np.minimum(f0 * low, 1), "fail_ratio": ratio, "ratio_low": low, "ratio_high": high,
            "p_improved": fit["p_negative"].to_numpy(),
        })


def _describe(out: pd.DataFrame, c: float) -> None:
    """Add the plain before/after pass rates and their difference with its Newcombe interval to ``out`` (in place)."""
    bn, bp = out["before_n"].to_numpy(dtype=float), out["before_pass"].to_numpy(dtype=float)
    an, ap = out["after_n"].to_numpy(dtype=float), out["after_pass"].to_numpy(dtype=float)
    on_b, on_a = out["o_before_n"].to_numpy(dtype=float), out["o_after_n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["before_rate"] = np.where(bn > 0, bp / bn, np.nan)
        out["after_rate"] = np.where(an > 0, ap / an, np.nan)
        out["others_before_rate"] = np.where(on_b > 0, out["o_before_pass"] / np.maximum(on_b, 1), np.nan)
        out["others_after_rate"] = np.where(on_a > 0, out["o_after_pass"] / np.maximum(on_a, 1), np.nan)
    out["diff"] = out["after_rate"] - out["before_rate"]
    out["diff_low"], out["diff_high"] = newcombe_interval(ap, an, bp, bn, c)


def _judge(out: pd.DataFrame, c: float, meaningful: float) -> None:
    """``q_improved`` (Benjamini–Hochberg within each level) and the verdict from the comparison's interval (in place)."""
    q = np.full(len(out), np.nan)
    action = (out["level"] == "action").to_numpy()
    pooled = ~action & (out["actions"] > 1).to_numpy()  # a programme of one action is that action's judgement, not another
    for on in (action, pooled):
        q[on] = q_values(out.loc[on, "p_improved"].to_numpy(dtype=float)) if on.any() else q[on]
    single = ~action & ~pooled
    own = pd.Series(q[action], index=out.loc[action, "programme"].to_numpy())
    q[single] = out.loc[single, "programme"].map(own[~own.index.duplicated()]).to_numpy(dtype=float)
    out["q_improved"] = q
    judged = np.isfinite(out["effect_high"].to_numpy(dtype=float)) & (out["after_n"].to_numpy() > 0)
    improved = judged & (q <= (1 - c) / 2)
    not_yet = judged & ~improved & (out["effect_high"].to_numpy(dtype=float) < meaningful)
    out["verdict"] = np.select([improved, not_yet], list(VERDICTS[:2]), VERDICTS[2])


# ------------------------------------------------------------------------------ open actions
def open_actions(actions: pd.DataFrame, agents: pd.DataFrame, as_of) -> pd.DataFrame:
    """Actions open on ``as_of``, per supervisor, most overdue first.

    An action is open on a day when it was created on or before it and is still ``open`` — or was
    closed (done or cancelled) only after it, so the list can be replayed for a past day. It is
    overdue when its ``due_on`` is before ``as_of``; an action without a due date is never overdue.

    Parameters
    ----------
    actions : DataFrame
        ``action_id, agent_id, coach, created_on, items, due_on, status``; optionally
        ``recheck_after_days`` (default 3), ``closed_on``, ``agreed_action``.
    agents : DataFrame
        ``agent_id, supervisor``; optionally ``team``, ``name``.
    as_of : date

    Returns
    -------
    DataFrame
        ``supervisor`` (``(none)`` when the agent has none), ``team``, ``agent_id``, ``action_id``,
        ``coach``, ``items``, ``agreed_action``, ``created_on``, ``recheck_on``, ``recheck_due``
        (re-check date reached), ``due_on``, ``overdue``, ``days_overdue`` (0 unless overdue),
        ``days_open``; sorted by supervisor, days overdue (most first), action id.
    """
    day = _day(as_of, "as_of")
    _need(actions, "actions", ["action_id", "agent_id", "coach", "created_on", "items", "due_on", "status"])
    _need(agents, "agents", ["agent_id", "supervisor"])
    a = actions.reset_index(drop=True)
    created = _dates(a["created_on"], "actions.created_on")
    due = _dates(a["due_on"], "actions.due_on")
    closed = _dates(a["closed_on"], "actions.closed_on") if "closed_on" in a.columns else pd.Series(pd.NaT, index=a.index)
    status = a["status"].astype(object).fillna("open")
    bad = ~status.isin(["open", "done", "cancelled"])
    if bad.any():
        raise ParameterError(f"actions.status must be one of open, done, cancelled; got {status[bad].iloc[0]!r}")
    was_open = (status == "open") | (closed.notna() & (closed > day))
    live = ((created <= day) & was_open).to_numpy(dtype=bool)
    a = a.loc[live].copy()
    created, due = created[live], due[live]
    days = pd.to_numeric(a["recheck_after_days"], errors="coerce") if "recheck_after_days" in a.columns else pd.Series(np.nan, index=a.index)
    recheck = created + pd.to_timedelta(days.fillna(DEFAULT_RECHECK_DAYS).astype(int), unit="D")
    ag = agents.drop_duplicates("agent_id").set_index("agent_id")
    sup = a["agent_id"].map(ag["supervisor"]).astype(object)
    team = a["agent_id"].map(ag["team"]).astype(object) if "team" in ag.columns else pd.Series(None, index=a.index, dtype=object)
    overdue = (due.notna() & (due < day)).to_numpy(dtype=bool)
    late = np.where(overdue, (day - due).dt.days.fillna(0).to_numpy(), 0).astype(int)
    out = pd.DataFrame({
        "supervisor": sup.where(sup.notna() & (sup.astype(str).str.strip() != ""), "(none)").to_numpy(dtype=object),
        "team": team.to_numpy(dtype=object),
        "agent_id": a["agent_id"].to_numpy(dtype=object),
        "action_id": a["action_id"].to_numpy(dtype=object),
        "coach": a["coach"].to_numpy(dtype=object),
        "items": a["items"].map(lambda s: ",".join(split_items(s))).to_numpy(dtype=object),
        "agreed_action": a["agreed_action"].to_numpy(dtype=object) if "agreed_action" in a.columns else None,
        "created_on": created.dt.date.to_numpy(dtype=object),
        "recheck_on": recheck.dt.date.to_numpy(dtype=object),
        "recheck_due": (recheck <= day).to_numpy(dtype=bool),
        "due_on": due.dt.date.to_numpy(dtype=object),
        "overdue": overdue,
        "days_overdue": late,
        "days_open": (day - created).dt.days.to_numpy(dtype=int),
    })
    return out.sort_values(["supervisor", "days_overdue", "action_id"], ascending=[True, False, True], ignore_index=True, kind="stable")


def open_summary(listing: pd.DataFrame) -> pd.DataFrame:
    """Counts of an :func:`open_actions` listing per supervisor and per coach.

    Returns ``by`` (``supervisor`` or ``coach``), ``name``, ``open``, ``overdue``, ``max_days_overdue``.
    """
    _need(listing, "listing", ["supervisor", "coach", "overdue", "days_overdue"])
    parts = []
    for by in ("supervisor", "coach"):
        g = listing.groupby(by, sort=True)
        t = pd.DataFrame({"open": g.size(), "overdue": g["overdue"].sum().astype(int), "max_days_overdue": g["days_overdue"].max().astype(int)})
        parts.append(t.rename_axis("name").reset_index().assign(by=by))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return out[["by", "name", "open", "overdue", "max_days_overdue"]]


# ------------------------------------------------------------------------------- evidence
def load_evidence(store, agent_ids=None) -> pd.DataFrame:
    """The answers :func:`before_after` needs, read through ``store``: one row per evaluated item.

    Columns ``evaluation_id, contact_id, agent_id, item_id, answer, arm, reason, handled_at``:
    every non-draft evaluation of the agents (all agents when ``agent_ids`` is None), the
    contact's start time, and the reason a saved plan gave for the contact where one selected it
    for a re-check (``recheck:<action_id>``; empty otherwise). :func:`before_after` keeps the
    unbiased rows itself. The query is the store's (:meth:`qa_lib.store.Store.evaluated_answers`).
    """
    return store.evaluated_answers(agent_ids)
