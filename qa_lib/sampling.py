"""Sampling plans: how many contacts to score, which ones, and what precision that buys.

The statistics behind it (intervals, sample sizes, ISO 2859-1 lot plans, Horvitz–Thompson
estimates) are in :mod:`qa_lib.stats`.

Planning: :func:`draw_plan` draws the month's **random arm** — per agent, stratified,
spread evenly over the period by systematic sampling in time order, every contact with
its inclusion probability — and a **targeted arm** kept apart (risk rules; never used
for headline numbers). :func:`assign_inspectors` balances the worklists.

How many calls: :func:`month_gstudy` splits the variance of the month's random-arm scores
into agent, agent × month, inspector and call (a G-study; :func:`item_gstudy` goes down to
the items), and its :class:`GStudy` says what n calls per agent buy (a D-study).
:func:`adaptive_split` reads last month's intervals for ``allocation="adaptive"``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .errors import ParameterError, require_columns
from .stats._checks import _confidence
from .stats.gstudy import calls_for_decision, calls_for_reliability, d_study, g_coefficient, variance_components
from .stats.proportions import proportion_margin
from .stats.sample_size import mean_margin, mean_sample_size

__all__ = ["PlanSpec", "DrawnPlan", "draw_plan", "precision_table", "within_agent_sd", "assign_inspectors", "EXCLUSIONS", "TARGET_RULES",
           "ALLOCATIONS", "GStudy", "month_gstudy", "item_gstudy", "adaptive_split"]


# --------------------------------------------------------------------------- planning
#: Exclusion rules of the random and targeted arms, in the order they are applied.
EXCLUSIONS = {
    "not_answered": "not answered or no agent (nothing to score)",
    "non_regular": "non-regular call (misdial, one-ring hang-up, silence, harassment): logged, never evaluated",
    "too_short": "shorter than min_talk_seconds",
    "opted_out": "the customer asked not to be contacted",
    "already_evaluated": "already evaluated",
    "agent_on_leave": "the agent is on leave or has left",
}
#: Risk rules of the targeted arm.
TARGET_RULES = {
    "new_hire": "agent in the first new_hire_days of tenure",
    "complaint": "linked to a complaint (VOC with CSAT ≤ 2)",
    "diamond": "diamond-tier customer",
    "long_hold": "hold longer than long_hold_seconds",
    "repeat_caller": "the customer contacted the center again within 7 days",
    "low_auto_score": "the automatic score is among the lowest: below low_auto_below points, or in the lowest low_auto_share "
                      "of the eligible contacts that have one (needs auto_scores)",
}
#: Target rules added after plans were first saved: left out of a saved plan's ``rules`` (see :meth:`PlanSpec.to_dict`).
_LATER_RULES = ("low_auto_score",)


@dataclass(frozen=True)
class PlanSpec:
    """Everything that defines a plan; saved with it so the same inputs give the same plan.

    ``allocation``: ``equal`` (``per_agent`` each), ``proportional`` (``per_agent`` × agents
    shared by volume, at least ``min_per_agent`` each), ``precision`` (each agent gets the
    n whose t-interval half-width for the mean score is ≤ ``margin`` points, given ``sd``) or
    ``adaptive`` (the same total as ``equal``; the agents in ``settled``, whose previous
    interval cleared the target, get ``min_per_agent`` and the others share the rest: see
    :func:`adaptive_split`).
    ``strata``: contact columns to stratify by inside each agent (e.g. ``["queue"]``),
    allocated proportionally. ``recheck_per_action``: re-check contacts added per open
    coaching action (0 disables; see :func:`draw_plan`).
    ``low_auto_share`` / ``low_auto_below``: the targeted rule ``low_auto_score`` flags a contact whose automatic score
    (``auto_scores`` of :func:`draw_plan`) is in the lowest ``low_auto_share`` (0–1; default 0.1, 0 turns the share
    off) of the eligible contacts that have one — ties at the cut all in — or below ``low_auto_below`` points (0–100;
    default None: no fixed threshold). A contact without an automatic score is never flagged by it.
    """

    period: str
    seed: int = 0
    per_agent: int = 8
    min_per_agent: int = 2
    allocation: str = "equal"
    margin: float | None = None
    sd: float | None = None
    confidence: float = 0.95
    strata: tuple[str, ...] = ()
    min_talk_seconds: float = 30.0
    targeted_per_agent: int = 1
    rules: tuple[str, ...] = tuple(TARGET_RULES)
    new_hire_days: int = 60
    long_hold_seconds: float = 120.0
    double_share: float = 0.1
    avoid_home_team: bool = True
    recheck_per_action: int = 2
    settled: tuple[str, ...] = ()
    low_auto_share: float = 0.1
    low_auto_below: float | None = None

    def validate(self, columns) -> None:
        if self.allocation not in ALLOCATIONS:
            raise ParameterError(f"allocation must be one of {', '.join(ALLOCATIONS)}; got {self.allocation!r}")
        if self.settled and self.allocation != "adaptive":
            raise ParameterError(f"settled agents are only used by allocation='adaptive'; got allocation={self.allocation!r}")
        for name in ("per_agent", "min_per_agent", "targeted_per_agent", "new_hire_days", "recheck_per_action"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ParameterError(f"{name} must be a whole number ≥ 0; got {v!r}")
        if self.allocation == "precision" and not (self.margin and self.margin > 0 and self.sd and self.sd > 0):
            raise ParameterError(f"allocation='precision' needs margin > 0 and sd > 0 (points); got margin={self.margin!r}, sd={self.sd!r}")
        _confidence(self.confidence)
        if not 0 <= self.double_share <= 1:
            raise ParameterError(f"double_share must be between 0 and 1; got {self.double_share!r}")
        unknown = [s for s in self.strata if s not in columns]
        if unknown:
            raise ParameterError(f"strata must be contact columns such as queue, contact_type, channel; unknown {unknown}")
        bad = [r for r in self.rules if r not in TARGET_RULES]
        if bad:
            raise ParameterError(f"rules must be among {', '.join(TARGET_RULES)}; got {bad}")
        share = self.low_auto_share
        if isinstance(share, bool) or not isinstance(share, (int, float, np.integer, np.floating)) or not 0 <= share <= 1:
            raise ParameterError(f"low_auto_share must be a share between 0 and 1 (0.1 = the lowest 10 %); got {share!r}")
        below = self.low_auto_below
        if below is not None and (isinstance(below, bool) or not isinstance(below, (int, float, np.integer, np.floating))
                                  or not 0 <= below <= 100):
            raise ParameterError(f"low_auto_below must be None or a score between 0 and 100 points; got {below!r}")

    def to_dict(self) -> dict:
        """Every parameter, as saved with the plan (and hashed into its id).

        Fields added later (``recheck_per_action``, ``settled``, ``low_auto_share``, ``low_auto_below``) are written
        only when they differ from their default, and rules added later (``low_auto_score``) are left out of ``rules``,
        so a plan drawn as before keeps the id it had before. The automatic scores themselves are data, like the
        complaints: the plan records where the rule acted in each targeted contact's ``reason``.
        """
        d = asdict(self)
        d["strata"], d["settled"] = list(self.strata), list(self.settled)
        d["rules"] = [r for r in self.rules if r not in _LATER_RULES]
        for name, default in _LATER_FIELDS.items():
            if d[name] == default:
                del d[name]
        return d


#: Parameters added after plans were first saved, with their defaults (see :meth:`PlanSpec.to_dict`).
_LATER_FIELDS = {"recheck_per_action": 2, "settled": [], "low_auto_share": 0.1, "low_auto_below": None}
#: How the random arm is shared between agents (:class:`PlanSpec`).
ALLOCATIONS = ("equal", "proportional", "precision", "adaptive")


def _exclusion_codes(c: pd.DataFrame, agent_status: np.ndarray, agent_codes: np.ndarray, evaluated: set, spec: PlanSpec) -> np.ndarray:
    """Index (1-based) into EXCLUSIONS of the first rule removing each contact; 0 = eligible."""
    on_leave = np.isin(agent_status, ["leave", "left"])
    masks = [
        ~c["answered"].fillna(False).to_numpy(dtype=bool) | (agent_codes < 0),
        (c["contact_type"] == "non_regular").to_numpy(dtype=bool),
        c["talk_seconds"].to_numpy(dtype=float) < spec.min_talk_seconds,  # an unknown length is not excluded
        c["customer_opted_out"].fillna(False).to_numpy(dtype=bool),
        c["contact_id"].isin(evaluated).to_numpy(dtype=bool) if evaluated else np.zeros(len(c), bool),
        np.where(agent_codes >= 0, on_leave[np.maximum(agent_codes, 0)], False),
    ]
    return np.select(masks, np.arange(1, len(masks) + 1), 0)


def _systematic(order_key: np.ndarray, cell: np.ndarray, n_cell: np.ndarray, N_cell: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Systematic selection in time order inside each cell: positions ⌊(u + k) N / n⌋, k < n.

    Spreads the sample evenly over the period (one bad day cannot dominate) and gives every
    contact of a cell the same inclusion probability n / N.
    """
    order = np.lexsort((order_key, cell))
    cs = cell[order]
    start = np.r_[0, np.flatnonzero(cs[1:] != cs[:-1]) + 1]
    rank = np.arange(cs.size) - np.repeat(start, np.diff(np.r_[start, cs.size]))
    n, N, uu = n_cell[cs], N_cell[cs], u[cs]
    step = np.where(n > 0, N / np.maximum(n, 1), np.inf)
    # contact at rank r is chosen when some k satisfies ⌊(u + k)·step⌋ = r
    k = np.ceil(rank / step - uu)
    chosen = (k >= 0) & (k < n) & (np.floor((uu + k) * step) == rank)
    out = np.zeros(cell.size, bool)
    out[order] = chosen
    return out


@dataclass
class DrawnPlan:
    """A drawn plan: ``contacts`` (one row per sampled contact), ``cells`` (eligible N and
    sampled n per agent × stratum: the design, needed for Horvitz–Thompson estimates) and
    ``excluded`` (contacts removed per exclusion rule)."""

    spec: PlanSpec
    contacts: pd.DataFrame
    cells: pd.DataFrame
    excluded: dict = field(default_factory=dict)


def draw_plan(contacts: pd.DataFrame, agents: pd.DataFrame, spec: PlanSpec, *, evaluated: set | None = None,
              complaints: set | None = None, rechecks: pd.DataFrame | None = None, auto_scores: pd.Series | None = None) -> DrawnPlan:
    """Draw the random and the targeted arm for a period's contacts, and re-checks of open coaching actions.

    Parameters
    ----------
    contacts : DataFrame
        The period's contacts (store columns).
    agents : DataFrame
        ``agent_id, team, hire_date, status``.
    spec : PlanSpec
    evaluated : set, optional
        Contact ids already evaluated (excluded).
    complaints : set, optional
        Contact ids linked to a complaint (targeted rule ``complaint``).
    rechecks : DataFrame, optional
        Open coaching actions to re-check: ``action_id, agent_id, recheck_on`` (the re-check
        date) and optionally ``scorecard_id`` — one row per scorecard holding the action's items;
        then ``contacts`` needs a ``scorecard_id`` column too (the card that applies to each
        contact) and only contacts of those cards qualify. For each action, up to
        ``spec.recheck_per_action`` of the agent's eligible contacts handled on or after the
        re-check date and not already in the plan are added, drawn from a stream of their own
        (seeded by ``spec.seed``): arm ``targeted``, reason ``recheck:<action_id>``. With none
        (or ``recheck_per_action = 0``) the plan is exactly the plan without re-checks.
    auto_scores : Series, optional
        Each contact's automatic score (index ``contact_id``; 0–100, what the scorecard's ``rubric.score`` gives the
        automatic answers; NaN when it has none), for the targeted rule ``low_auto_score`` (see :class:`PlanSpec`).
        It only adds candidates to the targeted arm: the random arm and its inclusion probabilities are the same with
        or without it (the random arm is drawn first, from its own draws of the seeded stream), and the targeted arm
        never feeds headline numbers. A contact without a score is never flagged by the rule.

    Returns
    -------
    DrawnPlan
        ``contacts``: one row per sampled contact — ``contact_id, agent_id, team, arm,
        stratum, inclusion_prob, reason`` (the targeted rule, or ``recheck:<action_id>``),
        ``start_time``.
    """
    spec.validate(contacts.columns)
    if contacts.empty:
        raise ParameterError(f"period {spec.period} has no contacts")
    evaluated = evaluated or set()
    rng = np.random.default_rng(spec.seed)
    c = contacts.reset_index(drop=True)
    agent_codes, agent_names = pd.factorize(c["agent_id"], sort=True)
    a = agents.set_index("agent_id").reindex(agent_names)
    status = a["status"].fillna("active").to_numpy(dtype=object)
    excl = _exclusion_codes(c, status, agent_codes, evaluated, spec)
    ok_idx = np.flatnonzero(excl == 0)
    if ok_idx.size == 0:
        counts = {name: int(v) for name, v in zip(EXCLUSIONS, np.bincount(excl, minlength=len(EXCLUSIONS) + 1)[1:]) if v}
        raise ParameterError(f"period {spec.period}: every contact is excluded ({counts})")
    cells = _design_cells(c, ok_idx, agent_codes, spec, agent_names.isin(spec.settled))
    times = c["start_time"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    r_pos, r_prob, r_stratum, pick = _random_arm(cells, ok_idx, times, spec, rng)
    # targeted arm: risk rules, among eligible contacts not in the random arm
    rest = ok_idx[~pick]
    low_auto = _low_auto(c, ok_idx, auto_scores, spec)
    t_pos, t_prob, t_reason = _targeted_arm(c, rest, a, agent_codes, agent_names.size, times, spec, complaints, rng, low_auto)
    if rechecks is not None and len(rechecks) and spec.recheck_per_action > 0:
        taken = np.zeros(len(c), bool)
        taken[np.r_[r_pos, t_pos].astype(np.int64)] = True
        pool = ok_idx[~taken[ok_idx]]
        k_pos, k_prob, k_reason = _recheck_arm(c, pool, times, rechecks, spec)
        t_pos, t_prob, t_reason = np.r_[t_pos, k_pos].astype(np.int64), np.r_[t_prob, k_prob], np.r_[t_reason, k_reason]
    team = a["team"].to_numpy(dtype=object)
    plan = _plan_contacts(c, agent_codes, agent_names, team, (r_pos, r_prob, r_stratum), (t_pos, t_prob, t_reason))
    design = pd.DataFrame({
        "team": team[cells.agent], "agent_id": agent_names.to_numpy(dtype=object)[cells.agent], "stratum": cells.stratum_names[cells.stratum],
        "N": cells.N.astype(int), "n": cells.n.astype(int),
    })
    counts = np.bincount(excl, minlength=len(EXCLUSIONS) + 1)[1:]
    excluded = {name: int(v) for name, v in zip(EXCLUSIONS, counts) if v}
    return DrawnPlan(spec, plan, design, excluded)


@dataclass
class _Cells:
    """The random arm's design: the agent × stratum cells of the eligible contacts, their sizes N and sample sizes n."""

    codes: np.ndarray  # each eligible contact's cell
    agent: np.ndarray  # each cell's agent code
    stratum: np.ndarray  # each cell's stratum code
    stratum_names: np.ndarray
    N: np.ndarray
    n: np.ndarray


def _design_cells(c: pd.DataFrame, ok_idx: np.ndarray, agent_codes: np.ndarray, spec: PlanSpec, settled: np.ndarray) -> _Cells:
    """Cells agent × stratum among the eligible contacts, with the sample size of each agent shared out over its cells."""
    # cells: agent × stratum, among eligible contacts
    if spec.strata:
        st = c[list(spec.strata)].iloc[ok_idx].astype(str).fillna("")
        combined = st.iloc[:, 0] if len(spec.strata) == 1 else st.agg("|".join, axis=1)
        s_codes, s_uniques = pd.factorize(combined, sort=True)
        s_names = np.asarray(s_uniques, dtype=object)
    else:
        s_codes, s_names = np.zeros(ok_idx.size, dtype=np.int64), np.array(["all"])
    key = agent_codes[ok_idx].astype(np.int64) * len(s_names) + s_codes
    cell_ids, cell_codes = np.unique(key, return_inverse=True)
    cell_agent, cell_stratum = cell_ids // len(s_names), cell_ids % len(s_names)
    N_cell = np.bincount(cell_codes).astype(float)
    agents_present, agent_of_cell = np.unique(cell_agent, return_inverse=True)
    N_agent = np.bincount(agent_of_cell, weights=N_cell)
    n_agent = _agent_sample_sizes(N_agent, spec, settled[agents_present])
    n_cell = _cell_sample_sizes(N_cell, N_agent, n_agent, agent_of_cell)
    return _Cells(cell_codes, cell_agent, cell_stratum, s_names, N_cell, n_cell)


def _agent_sample_sizes(N_agent: np.ndarray, spec: PlanSpec, settled: np.ndarray) -> np.ndarray:
    """Contacts to sample per agent under the spec's allocation, at most the agent's eligible contacts."""
    if spec.allocation == "adaptive":
        return _adaptive_sizes(N_agent, settled, spec.per_agent, spec.min_per_agent)
    if spec.allocation == "equal":
        n_agent = np.full(N_agent.size, float(spec.per_agent))
    elif spec.allocation == "proportional":
        total = spec.per_agent * N_agent.size
        n_agent = np.maximum(spec.min_per_agent, np.round(total * N_agent / N_agent.sum()))
    else:
        n_agent = np.array([mean_sample_size(spec.margin, spec.sd, spec.confidence, int(N)) for N in N_agent], dtype=float)
    return np.minimum(n_agent, N_agent)


def _adaptive_sizes(N_agent: np.ndarray, settled: np.ndarray, per_agent: int, floor: int) -> np.ndarray:
    """``per_agent`` × agents in all: the settled get ``floor``, the open share the rest evenly (more volume first for the
    odd ones); what an agent cannot take (too few eligible contacts) goes to the other open agents, then to the settled."""
    floor = min(floor, per_agent)
    if not settled.any() or settled.all():
        return np.minimum(float(per_agent), N_agent)
    n = np.minimum(np.where(settled, float(floor), 0.0), N_agent)
    rest = per_agent * N_agent.size - n.sum()
    by_volume = np.lexsort((np.arange(N_agent.size), -N_agent))
    for group in (~settled, settled):
        for _ in range(N_agent.size):  # rounds of sharing, each fills at least one agent or spends everything
            room = group & (n < N_agent)
            k = int(room.sum())
            if rest <= 0 or k == 0:
                break
            share = np.zeros(N_agent.size)
            share[room] = rest // k
            odd = by_volume[room[by_volume]][: int(rest % k)]
            share[odd] += 1
            add = np.minimum(share, N_agent - n)
            n += add
            rest -= add.sum()
    return n


def _cell_sample_sizes(N_cell: np.ndarray, N_agent: np.ndarray, n_agent: np.ndarray, agent_of_cell: np.ndarray) -> np.ndarray:
    """Each agent's sample size shared over its cells in proportion to their size, by largest remainder."""
    raw = N_cell / N_agent[agent_of_cell] * n_agent[agent_of_cell]
    n_cell = np.floor(raw)
    short = n_agent - np.bincount(agent_of_cell, weights=n_cell, minlength=n_agent.size)
    order = np.lexsort((-(raw - n_cell), agent_of_cell))
    first = np.r_[0, np.flatnonzero(np.diff(agent_of_cell[order]) != 0) + 1]
    pos = np.arange(order.size) - np.repeat(first, np.diff(np.r_[first, order.size]))
    n_cell[order] += (pos < short[agent_of_cell[order]]).astype(float)
    return np.minimum(n_cell, N_cell)


def _random_arm(cells: _Cells, ok_idx: np.ndarray, times: np.ndarray, spec: PlanSpec,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The random arm, systematic in time order within each cell: positions, inclusion probabilities, strata, and the picked mask."""
    u = rng.random(cells.agent.size)
    pick = _systematic(times[ok_idx], cells.codes, cells.n, cells.N, u)
    r_pos = ok_idx[pick]
    r_prob = (cells.n / cells.N)[cells.codes[pick]]
    r_stratum = cells.stratum_names[cells.stratum[cells.codes[pick]]] if spec.strata else np.full(r_pos.size, "all", dtype=object)
    return r_pos, r_prob, r_stratum, pick


def _low_auto(c: pd.DataFrame, ok_idx: np.ndarray, auto_scores: pd.Series | None, spec: PlanSpec) -> np.ndarray:
    """Per contact: whether the rule ``low_auto_score`` flags it (see :class:`PlanSpec`); all False without scores."""
    out = np.zeros(len(c), bool)
    if auto_scores is None or "low_auto_score" not in spec.rules:
        return out
    if not isinstance(auto_scores, pd.Series):
        raise ParameterError(f"auto_scores must be a Series of automatic scores indexed by contact_id; got {type(auto_scores).__name__}")
    if auto_scores.index.has_duplicates:
        dup = auto_scores.index[auto_scores.index.duplicated()][0]
        raise ParameterError(f"auto_scores must have one score per contact; {dup!r} has more than one")
    values = pd.to_numeric(auto_scores, errors="coerce")
    bad = values.isna() & auto_scores.notna() | (values < 0) | (values > 100)
    if bad.any():
        raise ParameterError(f"auto_scores must be scores between 0 and 100 (NaN: none); {bad.idxmax()!r} has {auto_scores[bad.idxmax()]!r}")
    score = np.full(len(c), np.nan)
    score[ok_idx] = values.reindex(c["contact_id"].to_numpy()[ok_idx]).to_numpy(dtype=float)  # eligible contacts only
    has = ~np.isnan(score)
    if spec.low_auto_below is not None:
        out |= has & (score < spec.low_auto_below)
    k = int(np.ceil(spec.low_auto_share * has.sum()))
    if k > 0:
        cut = np.sort(score[has])[k - 1]
        out |= has & (score <= cut)
    return out


def _targeted_arm(c: pd.DataFrame, rest: np.ndarray, a: pd.DataFrame, agent_codes: np.ndarray, n_agents: int, times: np.ndarray,
                  spec: PlanSpec, complaints: set | None, rng: np.random.Generator,
                  low_auto: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Up to ``spec.targeted_per_agent`` of each agent's flagged contacts, in random order: positions, probabilities, rules."""
    t_pos, t_prob, t_reason = np.array([], dtype=np.int64), np.array([]), np.array([], dtype=object)
    if spec.targeted_per_agent > 0 and rest.size:
        code = _risk_codes(c, rest, a, agent_codes, times, spec, complaints or set(), low_auto)
        flagged = rest[code > 0]
        if flagged.size:
            fa = agent_codes[flagged]
            prio = rng.random(flagged.size)
            o = np.lexsort((prio, fa))
            fa_o = fa[o]
            starts = np.r_[0, np.flatnonzero(np.diff(fa_o) != 0) + 1]
            rank = np.arange(fa_o.size) - np.repeat(starts, np.diff(np.r_[starts, fa_o.size]))
            sel = o[rank < spec.targeted_per_agent]
            n_flag = np.bincount(fa, minlength=n_agents)
            t_pos = flagged[sel]
            t_prob = np.minimum(spec.targeted_per_agent, n_flag[fa[sel]]) / n_flag[fa[sel]]
            t_reason = np.array(list(TARGET_RULES), dtype=object)[code[code > 0][sel] - 1]
    return t_pos, t_prob, t_reason


def _plan_contacts(c: pd.DataFrame, agent_codes: np.ndarray, agent_names: pd.Index, team: np.ndarray, random_arm: tuple, targeted_arm: tuple) -> pd.DataFrame:
    """The plan's contacts, one row per sampled contact of the random then the targeted arm, sorted by arm, agent and time."""
    r_pos, r_prob, r_stratum = random_arm
    t_pos, t_prob, t_reason = targeted_arm
    all_pos = np.r_[r_pos, t_pos]
    plan = pd.DataFrame({
        "contact_id": c["contact_id"].to_numpy(dtype=object)[all_pos],
        "agent_id": agent_names.to_numpy(dtype=object)[agent_codes[all_pos]],
        "team": team[agent_codes[all_pos]],
        "arm": np.r_[np.full(r_pos.size, "random", dtype=object), np.full(t_pos.size, "targeted", dtype=object)],
        "stratum": np.r_[r_stratum.astype(object), np.full(t_pos.size, "", dtype=object)],
        "inclusion_prob": np.r_[r_prob, t_prob],
        "reason": np.r_[np.full(r_pos.size, "", dtype=object), t_reason],
        "start_time": c["start_time"].to_numpy()[all_pos],
    })
    return plan.sort_values(["arm", "agent_id", "start_time"], ignore_index=True)


def _recheck_arm(c: pd.DataFrame, pool: np.ndarray, times: np.ndarray, rechecks: pd.DataFrame,
                 spec: PlanSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions, inclusion probabilities and reasons of the re-check contacts (see :func:`draw_plan`)."""
    by_card = "scorecard_id" in rechecks.columns
    need = ["action_id", "agent_id", "recheck_on"] + (["scorecard_id"] if by_card else [])
    missing = [col for col in need if col not in rechecks.columns]
    if missing:
        raise ParameterError(f"rechecks must have columns {need}; missing {missing}")
    if by_card and "scorecard_id" not in c.columns:
        raise ParameterError("contacts need a scorecard_id column (the card that applies to each) when rechecks name scorecards")
    on = pd.to_datetime(rechecks["recheck_on"], errors="coerce")
    if on.isna().any():
        raise ParameterError(f"rechecks.recheck_on must hold dates; got {rechecks.loc[on.isna(), 'recheck_on'].iloc[0]!r}")
    keys = ["agent_id"] + (["scorecard_id"] if by_card else [])
    acts = rechecks[["action_id"] + keys].assign(_on=on.dt.normalize().to_numpy().astype("datetime64[ns]").astype(np.int64))
    cand = pd.DataFrame({"_pos": pool, "_t": times[pool], "agent_id": c["agent_id"].to_numpy(dtype=object)[pool]})
    if by_card:
        cand["scorecard_id"] = c["scorecard_id"].to_numpy(dtype=object)[pool]
    pairs = acts.merge(cand, on=keys, how="inner")
    pairs = pairs[pairs["_t"].to_numpy() >= pairs["_on"].to_numpy()]
    none = np.array([], dtype=np.int64), np.array([]), np.array([], dtype=object)
    if pairs.empty:
        return none
    # a fixed order before drawing, so the draw depends on the data and the seed only
    pairs = pairs.drop_duplicates(["action_id", "_pos"]).sort_values(["action_id", "_t", "_pos"], ignore_index=True)
    u = np.random.default_rng([int(spec.seed), 0x7EC4]).random(len(pairs))
    act_codes = pd.factorize(pairs["action_id"], sort=True)[0]
    o = np.lexsort((u, act_codes))
    starts = np.r_[0, np.flatnonzero(np.diff(act_codes[o]) != 0) + 1]
    rank = np.empty(len(pairs), dtype=np.int64)
    rank[o] = np.arange(len(pairs)) - np.repeat(starts, np.diff(np.r_[starts, len(pairs)]))
    n_cand = np.bincount(act_codes)
    pick = pairs.assign(_rank=rank, _n=n_cand[act_codes])[rank < spec.recheck_per_action]
    # a contact two actions both picked goes to the one that ranked it higher (then the lower id)
    pick = pick.sort_values(["_rank", "action_id"], kind="stable").drop_duplicates("_pos")
    prob = np.minimum(spec.recheck_per_action, pick["_n"].to_numpy()) / pick["_n"].to_numpy()
    reason = ("recheck:" + pick["action_id"].astype(str)).to_numpy(dtype=object)
    return pick["_pos"].to_numpy(dtype=np.int64), prob.astype(float), reason


def _risk_codes(c: pd.DataFrame, rest: np.ndarray, a: pd.DataFrame, agent_codes: np.ndarray, times: np.ndarray,
                spec: PlanSpec, complaints: set, low_auto: np.ndarray | None = None) -> np.ndarray:
    """Index (1-based) into TARGET_RULES of the first enabled rule each contact at ``rest`` meets; 0 = none."""
    n = len(c)
    hired = pd.to_datetime(a["hire_date"]).to_numpy().astype("datetime64[ns]")
    hire = np.where(np.isnat(hired), np.nan, hired.astype(np.int64).astype(float))  # no hire date: never a new hire (NaN)
    day = 86400 * 10**9
    tenure_days = (times[rest] - hire[agent_codes[rest]]) / day
    cust_codes, _ = pd.factorize(c["customer_id"])
    o = np.lexsort((times, cust_codes))
    same = (cust_codes[o][1:] == cust_codes[o][:-1]) & (cust_codes[o][:-1] >= 0)
    soon = (times[o][1:] - times[o][:-1]) <= 7 * day
    repeat = np.zeros(n, bool)
    repeat[o[:-1][same & soon]] = True
    tier = c["customer_tier"].to_numpy(dtype=object)[rest]
    masks = {
        "new_hire": tenure_days < spec.new_hire_days,
        "complaint": c["contact_id"].iloc[rest].isin(complaints).to_numpy(dtype=bool) if complaints else np.zeros(rest.size, bool),
        "diamond": tier == "diamond",
        "long_hold": c["hold_seconds"].fillna(0).to_numpy(dtype=float)[rest] > spec.long_hold_seconds,
        "repeat_caller": repeat[rest],
        "low_auto_score": low_auto[rest] if low_auto is not None else np.zeros(rest.size, bool),
    }
    names = list(TARGET_RULES)
    enabled = [name for name in names if name in spec.rules]
    return np.select([masks[name] for name in enabled], [names.index(name) + 1 for name in enabled], 0)


def assign_inspectors(plan: pd.DataFrame, inspectors: pd.DataFrame, *, seed: int = 0, avoid_home_team: bool = True,
                      double_share: float = 0.0) -> pd.DataFrame:
    """Give every planned contact an inspector, balancing workloads; double-score a share of the random arm.

    An inspector never scores the team they came from (``home_team``) when
    ``avoid_home_team``. ``double_share`` of the random arm also gets a different second
    inspector (ongoing calibration). Adds ``inspector_id`` and ``second_inspector_id``.
    """
    active = inspectors[inspectors["active"].fillna(True).astype(bool)]
    if active.empty:
        raise ParameterError("there is no active inspector to assign the plan to")
    ids = active["inspector_id"].to_numpy()
    home = active["home_team"].fillna("").to_numpy()
    rng = np.random.default_rng(seed)
    out = plan.copy()
    order = rng.permutation(len(out))
    load = np.zeros(ids.size)
    first = np.empty(len(out), dtype=object)
    second = np.full(len(out), None, dtype=object)
    teams = out["team"].fillna("").to_numpy()
    double = np.zeros(len(out), bool)
    rnd = np.flatnonzero(out["arm"].to_numpy() == "random")
    k = int(round(double_share * rnd.size))
    if k:
        double[rng.choice(rnd, k, replace=False)] = True
    tie = rng.random(ids.size)
    for i in order:
        allowed = (home != teams[i]) if avoid_home_team else np.ones(ids.size, bool)
        if not allowed.any():
            raise ParameterError(f"no inspector may score team {teams[i]!r}: every active inspector came from it")
        cost = np.where(allowed, load + tie * 1e-6, np.inf)
        j = int(np.argmin(cost))
        first[i] = ids[j]
        load[j] += 1
        if double[i]:
            cost[j] = np.inf
            if np.isfinite(cost).any():
                j2 = int(np.argmin(cost))
                second[i] = ids[j2]
                load[j2] += 1
    out["inspector_id"] = first
    out["second_inspector_id"] = second
    return out


def within_agent_sd(evaluations: pd.DataFrame, value: str = "total_score") -> float:
    """Pooled within-agent SD of per-call scores (what varies from call to call for one agent).

    Used as ``sd`` when sizing samples: between-agent differences are what the plan is
    meant to detect, so they must not inflate it. NaN when no agent has two scores.
    """
    g = evaluations.dropna(subset=[value]).groupby("agent_id")[value]
    n, var = g.size(), g.var(ddof=1)
    ok = n >= 2
    if not ok.any():
        return float("nan")
    return float(np.sqrt(((n[ok] - 1) * var[ok]).sum() / (n[ok] - 1).sum()))


def precision_table(plan: DrawnPlan, sd: float, *, by: str = "agent_id", p: float = 0.9, gstudy: GStudy | None = None) -> pd.DataFrame:
    """What the random arm buys: per agent (or team), n, eligible N, and the ± margins.

    ``score_margin``: half-width of the t interval for the mean score (points), with the
    finite-population correction; ``rate_margin``: Wilson half-width for an item pass rate
    near ``p``. A margin of NaN means n < 2: no interval can be given. With a ``gstudy``
    (per agent only) a ``reliability`` column: the G-study's coefficient for the agent's n.
    """
    if by not in ("agent_id", "team"):
        raise ParameterError(f"by must be one of agent_id, team; got {by!r}")
    cells = plan.cells.groupby(by)[["N", "n"]].sum()
    n, N = cells["n"].to_numpy(dtype=float), cells["N"].to_numpy(dtype=float)
    ok = n >= 2
    score = np.full(n.size, np.nan)
    if ok.any():
        score[ok] = mean_margin(n[ok], sd, plan.spec.confidence, N[ok])
    rate = np.where(n > 0, proportion_margin(np.maximum(n, 1), p, plan.spec.confidence), np.nan)
    out = pd.DataFrame({by: cells.index, "N": N.astype(int), "n": n.astype(int), "score_margin": score, "rate_margin": rate})
    if gstudy is not None:
        if by != "agent_id":
            raise ParameterError(f"reliability is per agent: gstudy needs by='agent_id'; got by={by!r}")
        out["reliability"] = np.where(n > 0, gstudy.reliability(np.maximum(n, 1)), np.nan)
    return out


# --------------------------------------------------------------------------- how many calls
@dataclass(frozen=True)
class GStudy:
    """A G-study of month scores: ``components`` (:func:`qa_lib.stats.variance_components`), ``universe`` (variance of
    the agents' true month scores: agent + agent × month), ``error`` (what one call adds: inspector + call),
    ``inspector`` (the inspector part of ``error``), ``months`` and ``calls`` (median calls per agent and month)."""

    components: pd.DataFrame
    universe: float
    error: float
    inspector: float
    months: int
    calls: float

    def reliability(self, n):
        """Reliability of an agent's month mean over ``n`` calls, each scored by a randomly assigned inspector."""
        return g_coefficient(self.universe, self.error, n)

    def calls_for(self, reliability: float) -> int:
        """Calls per agent and month for ``reliability`` (e.g. 0.7, 0.8)."""
        return calls_for_reliability(self.universe, self.error, reliability)

    def calls_to_decide(self, distance: float, confidence: float = 0.95, power: float = 0.8) -> int:
        """Calls an agent ``distance`` points from the target needs for its interval to clear it with probability ``power``."""
        return calls_for_decision(self.error, distance, confidence, power)

    def table(self, n=(2, 3, 4, 6, 8, 12, 16, 24, 48), confidence: float = 0.95) -> pd.DataFrame:
        """The D-study: per n, ``reliability``, ``sem``, ``margin`` (points) and ``reliability_no_inspector``: what the
        same n would buy if inspector leniency were taken out (scores adjusted for it, or inspectors calibrated)."""
        out = d_study(self.universe, self.error, n, confidence)
        out["reliability_no_inspector"] = g_coefficient(self.universe, self.error - self.inspector, out["n"].to_numpy(dtype=float))
        return out


def month_gstudy(evaluations: pd.DataFrame, *, value: str = "total_score", month: str = "month") -> GStudy:
    """G-study of the random arm's evaluation scores: calls nested in agents, inspectors crossed with agents.

    ``evaluations``: one row per random-arm evaluation with ``agent_id``, ``inspector_id``, ``month`` and ``value``.
    Components: ``agent`` (stable differences), ``agent×month`` (an agent's month-to-month change; with two months
    or more), ``inspector`` (leniency) and ``residual`` (the call, and the inspector's reading of it). The reliability
    is that of an agent's month mean, the agent's true score in that month being what it measures.
    """
    require_columns(evaluations, ["agent_id", "inspector_id", month, value], "evaluations")
    ev = evaluations.dropna(subset=[value])
    months = int(ev[month].nunique())
    random = {"agent": "agent_id", "agent×month": ("agent_id", month), "inspector": "inspector_id"}
    if months < 2:
        del random["agent×month"]
    vc = variance_components(ev, value, random)
    v = dict(zip(vc["component"], vc["variance"]))
    calls = float(ev.groupby(["agent_id", month]).size().median())
    return GStudy(vc, v["agent"] + v.get("agent×month", 0.0), v["inspector"] + v["residual"], v["inspector"], months, calls)


def item_gstudy(credits: pd.DataFrame, *, value: str = "credit", month: str = "month") -> pd.DataFrame:
    """The same G-study on item credits (0, 0.5, 1 …): agent, agent × month, agent × item, inspector, call (the
    evaluation) and residual (item × call), the items being fixed effects. Where a month's noise comes from.

    ``credits``: one row per evaluation and item with ``evaluation_id``, ``agent_id``, ``inspector_id``, ``item_id``,
    ``month`` and ``value`` (e.g. the ``items`` table of :func:`qa_lib.rubric.score` joined to the headers).
    """
    require_columns(credits, ["evaluation_id", "agent_id", "inspector_id", "item_id", month, value], "credits")
    random = {"agent": "agent_id", "agent×month": ("agent_id", month), "agent×item": ("agent_id", "item_id"),
              "inspector": "inspector_id", "call": "evaluation_id"}
    if credits[month].nunique() < 2:
        del random["agent×month"]
    return variance_components(credits, value, random, fixed="item_id")


def adaptive_split(estimates: pd.DataFrame, target: float | None = None) -> pd.DataFrame:
    """Which agents last month's intervals settle: ``met`` (low ≥ target), ``missed`` (high < target) or ``open``
    (the interval straddles the target, or there is none).

    ``estimates``: ``agent_id``, ``low``, ``high`` of each agent's score interval (e.g. ``agent_scores.csv``) and a
    ``target`` column, or the ``target`` given here. Returns ``agent_id, low, high, target, status``. The settled
    (``met``, ``missed``) go into :class:`PlanSpec` ``settled`` for ``allocation="adaptive"``.
    """
    require_columns(estimates, ["agent_id", "low", "high"], "estimates")
    e = estimates.reset_index(drop=True)
    if target is None and "target" not in e.columns:
        raise ParameterError("estimates have no target column: give the target (e.g. the center's score_target)")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float)) or not np.isfinite(target)):
        raise ParameterError(f"target must be a number of points; got {target!r}")
    out = pd.DataFrame({"agent_id": e["agent_id"]})
    for col in ("low", "high") + (("target",) if target is None else ()):
        out[col] = pd.to_numeric(e[col], errors="coerce")
        bad = out[col].isna() & e[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ParameterError(f"estimates column {col!r} must hold numbers; row {row + 2} has {e[col].iloc[row]!r}")
    if target is not None:
        out["target"] = float(target)
    blank = out["agent_id"].isna() | out["agent_id"].duplicated()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise ParameterError(f"estimates column 'agent_id' must name each agent once; row {row + 2} is blank or repeats {e['agent_id'].iloc[row]!r}")
    flipped = out["low"] > out["high"]
    if flipped.any():
        row = int(np.flatnonzero(flipped)[0])
        raise ParameterError(f"estimates row {row + 2}: low {out['low'].iloc[row]} is above high {out['high'].iloc[row]}")
    out["status"] = np.select([out["low"] >= out["target"], out["high"] < out["target"]], ["met", "missed"], "open")
    return out


def load_random_scores(store, before: pd.Period, *, months: int = 3, scorecard_id: str | None = None,
                       items: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """The random arm of the ``months`` months before ``before`` on one scorecard (default: the center's headline),
    for :func:`month_gstudy`: ``(evaluations with a month column, item credits for item_gstudy or None, scorecard)``.

    Raises :class:`~qa_lib.errors.NotFoundError` when those months hold no random-arm evaluation.
    """
    from .errors import NotFoundError
    from .scores import headline_scorecard

    if not isinstance(months, (int, np.integer)) or isinstance(months, bool) or months < 1:
        raise ParameterError(f"months must be a whole number ≥ 1; got {months!r}")
    start = pd.Period(before.start_time, freq="M") - months
    frames = [store.evaluations(start + k).assign(month=str(start + k)) for k in range(months)]
    ev = pd.concat(frames, ignore_index=True)
    ev = ev[ev["arm"] == "random"] if len(ev) else ev
    if ev.empty:
        raise NotFoundError(f"no random-arm evaluations in the {months} months before {before}: nothing to base a G-study on")
    if scorecard_id is None:
        from .config import settings

        scorecard_id = headline_scorecard(ev, settings().headline_scorecard)
    ev = ev[ev["scorecard_id"] == scorecard_id].reset_index(drop=True)
    if ev.empty:
        raise NotFoundError(f"no random-arm evaluations of scorecard {scorecard_id!r} in the {months} months before {before}")
    credits = None
    if items:
        from .rubric import score

        answers = pd.concat([store.evaluation_items(start + k) for k in range(months)], ignore_index=True)
        answers = answers[answers["evaluation_id"].isin(set(ev["evaluation_id"]))]
        scored = score(store.scorecard(scorecard_id), answers).items.dropna(subset=["credit"])
        credits = scored.merge(ev[["evaluation_id", "agent_id", "inspector_id", "month"]], on="evaluation_id")
    return ev, credits, scorecard_id
