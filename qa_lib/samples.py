"""Deterministic generator of a realistic sample center, with planted effects.

``generate(SampleSpec())`` returns the tables as DataFrames in the import formats of
:mod:`qa_lib.model`; :func:`write_samples` writes them to ``data/samples`` together with
``PLANTED.md``, which lists every planted effect with its exact ids and months so later
analyses can be checked against them. Everything is vectorized NumPy and pandas (transcripts too) except
building verbatim strings; the same spec and seed give identical tables.

Planted effects (see :func:`planted`):

* one agent weak on one scorecard item (``identity_check``);
* a lenient and a strict inspector; one item (``needs_analysis``) that inspectors score
  inconsistently (the least reliable item);
* one team whose first-contact resolution is under the 95 % target;
* one VOC topic (``map_update``) that surges in the last month, and a new topic
  (``app_connect``) the labelled taxonomy does not know, appearing in the last two months
  and never labelled;
* new hires, hired in the first week, who start weak and improve month by month;
* coaching that works: after each coaching action's re-check date the coached agent fails the
  action's items half as often; one action still open at the end (the weak agent on the weak
  item) and one open and overdue;
* a late hire with exactly 3 evaluations in the last month; an agent on leave in the last month.

Evaluations go through the lifecycle as in a running center (:func:`_lifecycle`): months before the
last are released and mostly acknowledged (a few disputed and resolved); the last month is released
up to the last release, later ones await release (``submitted``) and a few are inspectors' drafts.
The evaluations file holds how each one started (``submitted`` or ``draft``, all an import may
start as); the actions taken since are :data:`qa_lib.lifecycle.HISTORY_FILE`, which loading the
samples applies, each action a version of the evaluation's history.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import text_templates as T
from .errors import ParameterError
from .lifecycle import HISTORY_FILE, TRANSITIONS
from .model import SAMPLE_FILES
from .rubric import Scorecard, load_scorecard

__all__ = ["SampleSpec", "Effects", "NULL_EFFECTS", "scoring_draw", "generate", "planted", "write_samples", "planted_markdown", "final_statuses", "transcript_steps", "SAMPLE_FILES",
           "TRANSCRIPT_MONTHS"]


TEAM_NAMES = ["North", "South", "East", "West", "Central"]

#: The sample center's settings (qa_lib.config reads them; a center writes its own center.yaml).
CENTER_YAML = """\
# The sample center's settings, written by `qa samples` beside its data (docs/center.md explains every key).
name: 示例客服中心 (sample center)
lang: zh
timezone: Asia/Shanghai
headline_scorecard:                   # the agents' headline score: random-arm evaluations on this scorecard
  inbound: inbound_service
  outbound: followup_call
score_target: 80                      # the headline score an agent should reach
item_target: 0.85                     # the pass rate an item should reach
answer_within_seconds: 10             # service level: answered within this many seconds
kpis:                                 # KPI targets (seed 000, section 3); a KPI without a target shows no status
  answer_rate: 0.80
  abandon_rate: 0.05
  personal_abandon_rate: 0.02
  information_accuracy: 0.95          # seed 000: >= 95 %
  service_standard: {target: 0.75, pass_score: 80}   # >= 75 % of checked contacts meet the standard
  fcr: 0.95                           # seed 000: >= 95 % of randomly sampled lines
records: {hold: true, after_call_work: true, fcr: true, csat: true}   # the fields this center records
voc_taxonomy: voc_taxonomy.yaml
voc_domain_words: voc_domain_words.txt
training_modules: training_modules.yaml
reports: {trend_months: 6, voc_history: 6, training_months: 3}
case_cues: case_cues.txt                # cue phrases per item: where the case library cuts its excerpts
labels:                               # how the scorecards' skill tags and the contacts' topics read on pages
  skills:
    etiquette: {zh: 服务礼仪, en: Etiquette}
    compliance: {zh: 合规与身份核实, en: Compliance}
    questioning: {zh: 提问与确认, en: Questioning and confirming}
    empathy: {zh: 倾听与同理心, en: Listening and empathy}
    product_knowledge: {zh: 产品知识, en: Product knowledge}
    process: {zh: 流程处理, en: Process}
    accuracy: {zh: 信息准确, en: Accuracy}
    efficiency: {zh: 通话效率, en: Efficiency}
  topics:
    navigation: {zh: 导航, en: Navigation}
    traffic_violation: {zh: 违章查询, en: Traffic violations}
    usage: {zh: 使用咨询, en: Usage}
    tariff: {zh: 资费, en: Tariff}
    map_update: {zh: 地图升级, en: Map update}
    device_fault: {zh: 设备故障, en: Device fault}
    record_update: {zh: 资料完善, en: Record update}
    activation: {zh: 激活, en: Activation}
    satisfaction_survey: {zh: 满意度回访, en: Satisfaction survey}
    repair_followup: {zh: 维修回访, en: Repair follow-up}
"""

#: Lifecycle of the sample evaluations: before the last month, the share released and not acknowledged, and the share of
#: those with a failed, commented item disputed (then resolved; the rest acknowledged); in the last month, the share made
#: after the last release (still ``submitted``) and the share of those that are drafts.
LIFECYCLE = {"released": 0.06, "disputed_of_failed": 0.08, "awaiting_release": 0.15, "drafts_of_awaiting": 0.15}
DISPUTE_REASON = "录音里这一项我做到了，请复核。"
RESOLVE_NOTE = "复核录音：评分维持。"

# Base failure probability of each scorecard item (inbound / follow-up).
ITEM_FAIL = {
    "greeting": 0.05, "identity_check": 0.07, "needs_analysis": 0.12, "empathy": 0.10, "correct_answer": 0.05,
    "escalation_handling": 0.10, "info_logged": 0.08, "confirmation": 0.10, "closing": 0.05,
    "owner_confirmed": 0.03, "introduction": 0.08, "prepared_questions": 0.10, "record_confirmed": 0.08,
    "complaint_opened": 0.15, "courtesy_faults": 0.30,
}


@dataclass(frozen=True)
class SampleSpec:
    """Size and seed of a generated center. Defaults give the committed sample."""

    seed: int = 20261031
    agents: int = 60
    teams: int = 3
    inspectors: int = 6
    months: int = 6
    end_month: str = "2026-10"
    contacts_per_agent_day: float = 11.0
    voc_per_month: int = 900
    random_evals_inbound: int = 6
    random_evals_outbound: int = 2

    def validate(self) -> None:
        if not isinstance(self.agents, int) or self.agents < 12:
            raise ParameterError(f"agents must be an integer ≥ 12; got {self.agents!r}")
        if not isinstance(self.teams, int) or not 1 <= self.teams <= self.agents // 4:
            raise ParameterError(f"teams must be an integer from 1 to agents/4 = {self.agents // 4}; got {self.teams!r}")
        if not isinstance(self.inspectors, int) or self.inspectors < 5:
            raise ParameterError(f"inspectors must be an integer ≥ 5 (expert, lenient, strict and two more); got {self.inspectors!r}")
        if not isinstance(self.months, int) or not 3 <= self.months <= 36:
            raise ParameterError(f"months must be an integer from 3 to 36; got {self.months!r}")
        try:
            pd.Period(self.end_month, freq="M")
        except (ValueError, TypeError):
            raise ParameterError(f"end_month must look like 2026-10; got {self.end_month!r}") from None
        if not 0 < self.contacts_per_agent_day <= 200:
            raise ParameterError(f"contacts_per_agent_day must be in (0, 200]; got {self.contacts_per_agent_day!r}")

    @property
    def periods(self) -> pd.PeriodIndex:
        end = pd.Period(self.end_month, freq="M")
        return pd.period_range(end - (self.months - 1), end, freq="M")


def _rng(spec: SampleSpec, part: int) -> np.random.Generator:
    """An independent stream per part, so changing one table never shifts another."""
    return np.random.default_rng([spec.seed, part])


def _width(n: int) -> int:
    return max(3, len(str(n)))


def planted(spec: SampleSpec = SampleSpec()) -> dict:
    """The planted effects of a spec: exact ids, items, teams and months."""
    spec.validate()
    w = _width(spec.agents)
    aid = lambda i: f"A{i + 1:0{w}d}"  # noqa: E731
    teams = TEAM_NAMES[: spec.teams] if spec.teams <= len(TEAM_NAMES) else [f"Team{i + 1:02d}" for i in range(spec.teams)]
    months = [str(p) for p in spec.periods]
    n_new = min(2 * spec.teams, max(2, spec.agents // 10))
    # agents are dealt to teams round-robin: agent i is in team i % teams
    new_hires = [aid(spec.agents - 2 - k) for k in range(n_new)]
    weak = aid(16 if spec.agents > 20 else 1)
    leave = aid(spec.agents - 2 - n_new)
    return {
        "teams": teams,
        "months": months,
        "weak_agent": weak,
        "weak_item": "identity_check",
        "weak_item_fail_rate": 0.55,
        "lenient_inspector": "Q03",
        "strict_inspector": "Q05",
        "expert_inspector": "Q01",
        "ambiguous_item": "needs_analysis",
        "low_fcr_team": teams[-1],
        "low_fcr_rate": 0.88,
        "fcr_rate_other_teams": 0.96,
        "surge_topic": "map_update",
        "surge_month": months[-1],
        "new_topic": "app_connect",
        "new_topic_shares": {m: sh for m, sh in zip(months[-2:], (0.015, 0.05))} if len(months) >= 2 else {months[-1]: 0.05},
        "new_hires": new_hires,
        "new_hire_date": str(_first_monday(spec.periods[0]).date()),
        "late_hire": aid(spec.agents - 1),
        "late_hire_evaluations": 3,
        "agent_on_leave": leave,
        "leave_month": months[-1],
        "coaching_factor": 0.5,
        "open_action_agent": weak,
        "open_action_item": "identity_check",
        "overdue_action_agent": aid(4),
        "overdue_action_item": "empathy",
    }


def _first_monday(p: pd.Period) -> pd.Timestamp:
    d = p.start_time.normalize()
    return d + pd.Timedelta(days=(7 - d.weekday()) % 7)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    sur = rng.choice(T.SURNAMES, n)
    g1 = rng.choice(T.GIVEN, n)
    g2 = rng.choice(T.GIVEN + [""] * 20, n)
    out, seen = [], set()
    for s, a, b in zip(sur, g1, g2):
        name = s + a + b
        while name in seen:
            name += "·"
        seen.add(name)
        out.append(name)
    return out


def _agents(spec: SampleSpec, pl: dict) -> pd.DataFrame:
    rng = _rng(spec, 1)
    n, w = spec.agents, _width(spec.agents)
    ids = np.array([f"A{i + 1:0{w}d}" for i in range(n)])
    team_idx = np.arange(n) % spec.teams
    teams = np.array(pl["teams"])[team_idx]
    sup = _names(_rng(spec, 2), spec.teams)
    start = spec.periods[0].start_time
    veteran_days = rng.integers(120, 365 * 7, n)
    hire = (start - pd.to_timedelta(veteran_days, unit="D")).normalize()
    hire = pd.Series(hire, index=ids)
    hire[pl["new_hires"]] = pd.Timestamp(pl["new_hire_date"])
    end = spec.periods[-1]
    hire[pl["late_hire"]] = _first_monday(end) + pd.Timedelta(days=14)
    status = pd.Series("active", index=ids)
    status[pl["agent_on_leave"]] = "leave"
    lang = np.where(np.arange(n) % 10 == 3, "zh,en", "zh")
    return pd.DataFrame(
        {
            "agent_id": ids,
            "name": _names(rng, n),
            "team": teams,
            "supervisor": np.array(sup)[team_idx],
            "hire_date": hire.dt.strftime("%Y-%m-%d").to_numpy(),
            "status": status.to_numpy(),
            "language": lang,
        }
    )


def _inspectors(spec: SampleSpec, pl: dict) -> pd.DataFrame:
    n = spec.inspectors
    ids = [f"Q{i + 1:02d}" for i in range(n)]
    home = [""] * n
    for k, i in enumerate(range(1, n, 2)):  # Q02, Q04, Q06 ... came from agent teams
        if k < len(pl["teams"]):
            home[i] = pl["teams"][k]
    return pd.DataFrame(
        {
            "inspector_id": ids,
            "name": _names(_rng(spec, 3), n),
            "home_team": home,
            "is_expert": [i == pl["expert_inspector"] for i in ids],
            "active": True,
        }
    )


# ------------------------------------------------------------------------- contacts
_HOUR_W = np.array([0, 0, 0, 0, 0, 0, 0, 0, 6, 10, 12, 11, 6, 7, 11, 11, 9, 7, 6, 4, 0, 0, 0, 0], float)
_DOW = np.array([1.2, 1.1, 1.0, 1.0, 1.05, 0.8, 0.65])

_IN_TYPES = np.array(["service", "consultation", "after_sales", "non_regular"])
_OUT_TYPES = np.array(["relationship", "service_quality"])
_TOPICS = {
    "service": (["navigation", "traffic_violation"], [0.7, 0.3]),
    "consultation": (["usage", "tariff", "map_update"], [0.4, 0.25, 0.35]),
    "after_sales": (["device_fault"], [1.0]),
    "non_regular": (["misdial", "hang_up", "silence", "harassment"], [0.35, 0.35, 0.22, 0.08]),
    "relationship": (["record_update", "activation"], [0.6, 0.4]),
    "service_quality": (["satisfaction_survey", "repair_followup"], [0.5, 0.5]),
}
_TALK_MEDIAN = {"service": 240, "consultation": 200, "after_sales": 330, "non_regular": 12, "relationship": 180, "service_quality": 150}
_TALK_SIGMA = {"service": 0.5, "consultation": 0.5, "after_sales": 0.5, "non_regular": 0.6, "relationship": 0.4, "service_quality": 0.15}


def _lognormal(rng, median, sigma, n):
    return np.round(np.exp(np.log(median) + sigma * rng.standard_normal(n)), 1)


def _customers(spec: SampleSpec) -> pd.DataFrame:
    rng = _rng(spec, 4)
    n = max(20000, 350 * spec.agents)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(1, n + 1)],
            "customer_tier": rng.choice(["diamond", "gold", "silver", "none"], n, p=[0.05, 0.2, 0.6, 0.15]),
            "lifecycle_stage": rng.choice(["new", "stable", "warning", "churn"], n, p=[0.1, 0.7, 0.15, 0.05]),
            "brand": rng.choice(T.BRANDS, n, p=[0.45, 0.35, 0.2]),
            "customer_opted_out": rng.random(n) < 0.03,
        }
    )


def _contacts(spec: SampleSpec, pl: dict, agents: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    rng = _rng(spec, 5)
    agent_idx, day_idx, d64 = _contact_slots(rng, spec, pl, agents)
    agent_idx, day_idx, channel, direction, ctype, queue_abandon = _contact_kinds(rng, agent_idx, day_idx)
    N = agent_idx.size
    start = _start_times(rng, channel, day_idx, d64)
    topic = _contact_topics(rng, ctype)

    regular = ctype != "non_regular"
    cust_idx = np.minimum((len(customers) * rng.random(N) ** 1.6).astype(int), len(customers) - 1)
    has_cust = regular | (rng.random(N) < 0.2)
    handling = _handling(rng, channel, direction, ctype, queue_abandon)
    served_inbound = handling["answered"] & regular & (direction == "inbound")
    fcr_known, fcr = _first_contact_resolution(rng, pl, agents, agent_idx, channel, served_inbound, handling["escalated"])

    df = pd.DataFrame(
        {
            "start_time": start,
            "channel": channel,
            "direction": direction,
            "contact_type": ctype,
            "topic": topic,
            "agent_idx": agent_idx,
            "cust_idx": np.where(has_cust, cust_idx, -1),
            **handling,
            "fcr": pd.array(np.where(fcr_known, fcr, False), dtype="boolean"),
        }
    )
    df.loc[~fcr_known, "fcr"] = pd.NA
    return _contact_details(rng, df, agents, customers)


def _contact_slots(rng: np.random.Generator, spec: SampleSpec, pl: dict, agents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Handled contacts per agent and day (rosters, weekly days off, weekday and monthly volume): agent and day of each, and the days."""
    periods = spec.periods
    days = pd.date_range(periods[0].start_time, periods[-1].end_time.normalize(), freq="D")
    n_ag = len(agents)
    hire = pd.to_datetime(agents["hire_date"]).to_numpy()
    d64 = days.to_numpy()
    on_roster = hire[:, None] <= d64[None, :]
    leave_idx = agents.index[agents["agent_id"] == pl["agent_on_leave"]][0]
    on_roster[leave_idx, d64 >= periods[-1].start_time.to_datetime64()] = False
    offset = rng.integers(0, 7, n_ag)
    dow = days.day_of_week.to_numpy()
    works = ((dow[None, :] + offset[:, None]) % 7) < 5
    # month-to-month volume drift
    month_of_day = days.to_period("M")
    drift = 1 + 0.04 * np.sin(np.arange(len(periods)))
    trend = drift[np.searchsorted(periods.asi8, month_of_day.asi8)]
    lam = spec.contacts_per_agent_day * _DOW[dow][None, :] * trend[None, :] * on_roster * works
    counts = rng.poisson(lam)
    ai, di = np.nonzero(counts)
    reps = counts[ai, di]
    agent_idx = np.repeat(ai, reps)
    day_idx = np.repeat(di, reps)
    return agent_idx, day_idx, d64


def _contact_kinds(rng: np.random.Generator, agent_idx: np.ndarray, day_idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """Channel, direction and type of the handled contacts, with queue-abandoned calls (agent -1) appended after them."""
    n = agent_idx.size
    channel = rng.choice(["hotline", "online", "email"], n, p=[0.82, 0.13, 0.05])
    hot = channel == "hotline"
    outbound = hot & (rng.random(n) < 0.22)
    direction = np.where(outbound, "outbound", "inbound")
    ctype = np.where(
        outbound,
        rng.choice(_OUT_TYPES, n, p=[0.4, 0.6]),
        np.where(hot, rng.choice(_IN_TYPES, n, p=[0.33, 0.33, 0.22, 0.12]), rng.choice(_IN_TYPES[:3], n, p=[0.35, 0.4, 0.25])),
    )
    # queue-abandoned calls: inbound hotline calls that never reached an agent
    n_ab = int(round(0.06 * np.sum(hot & ~outbound)))
    ab_day = rng.choice(day_idx[hot & ~outbound], n_ab)
    ab_type = rng.choice(_IN_TYPES, n_ab, p=[0.36, 0.36, 0.24, 0.04])

    agent_idx = np.concatenate([agent_idx, np.full(n_ab, -1)])
    day_idx = np.concatenate([day_idx, ab_day])
    channel = np.concatenate([channel, np.full(n_ab, "hotline")])
    direction = np.concatenate([direction, np.full(n_ab, "inbound")])
    ctype = np.concatenate([ctype, ab_type])
    queue_abandon = np.arange(agent_idx.size) >= n
    return agent_idx, day_idx, channel, direction, ctype, queue_abandon


def _start_times(rng: np.random.Generator, channel: np.ndarray, day_idx: np.ndarray, d64: np.ndarray) -> np.ndarray:
    """Start time of each contact: office hours on its day (any hour for e-mail)."""
    N = day_idx.size
    hour = rng.choice(24, N, p=_HOUR_W / _HOUR_W.sum())
    hour = np.where(channel == "email", rng.integers(0, 24, N), hour)
    secs = rng.integers(0, 3600, N)
    return d64[day_idx] + (hour * 3600 + secs).astype("timedelta64[s]")


def _contact_topics(rng: np.random.Generator, ctype: np.ndarray) -> np.ndarray:
    """A topic for each contact, drawn from its contact type's topics."""
    topic = np.empty(ctype.size, dtype=object)
    for t, (names, p) in _TOPICS.items():
        m = ctype == t
        topic[m] = rng.choice(names, m.sum(), p=p)
    return topic


def _handling(rng: np.random.Generator, channel: np.ndarray, direction: np.ndarray, ctype: np.ndarray, queue_abandon: np.ndarray) -> dict[str, np.ndarray]:
    """Waits, abandonment, talk, hold and after-call work, escalations and transfers, as contact columns."""
    N = channel.size
    hot = channel == "hotline"
    inbound = direction == "inbound"
    regular = ctype != "non_regular"
    # waits
    wait = np.where(
        channel == "email", _lognormal(rng, 4 * 3600, 0.7, N),
        np.where(channel == "online", _lognormal(rng, 20, 0.8, N), _lognormal(rng, 5, 1.1, N)),
    )
    wait = np.where(queue_abandon, _lognormal(rng, 45, 0.8, N), wait)
    wait = np.where(direction == "outbound", np.nan, wait)
    ring_abandon = ~queue_abandon & hot & inbound & (rng.random(N) < 0.015)
    abandoned = queue_abandon | ring_abandon
    answered = ~abandoned

    med = np.vectorize(_TALK_MEDIAN.get)(ctype).astype(float)
    sig = np.vectorize(_TALK_SIGMA.get)(ctype).astype(float)
    med = np.where(channel == "online", 420.0, np.where(channel == "email", 300.0, med))
    talk = np.round(np.exp(np.log(med) + sig * rng.standard_normal(N)), 1)
    talk = np.where(answered, talk, 0.0)
    has_hold = answered & hot & regular & (rng.random(N) < 0.28)
    hold = np.where(has_hold, _lognormal(rng, 40, 0.7, N), 0.0)
    acw = np.where(answered, np.where(regular, _lognormal(rng, 30, 0.6, N), _lognormal(rng, 5, 0.5, N)), 0.0)

    served = answered & regular
    esc_p = np.where(ctype == "after_sales", 0.06, 0.02)
    escalated = served & inbound & (rng.random(N) < esc_p)
    transferred = served & inbound & ~escalated & (rng.random(N) < 0.05)
    return {"wait_seconds": wait, "answered": answered, "abandoned": abandoned, "talk_seconds": talk, "hold_seconds": hold,
            "acw_seconds": acw, "transferred": transferred, "escalated": escalated}


def _first_contact_resolution(rng: np.random.Generator, pl: dict, agents: pd.DataFrame, agent_idx: np.ndarray, channel: np.ndarray,
                              served_inbound: np.ndarray, escalated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where first-contact resolution is known (served inbound calls and chats), and whether it happened (the low-FCR team less often)."""
    N = agent_idx.size
    team_of_agent = agents["team"].to_numpy()
    team = np.where(agent_idx >= 0, team_of_agent[np.maximum(agent_idx, 0)], "")
    p_fcr = np.where(team == pl["low_fcr_team"], 0.90, 0.99)
    p_fcr = np.where(escalated, 0.3, p_fcr)
    fcr_known = served_inbound & (channel != "email")
    fcr = np.where(fcr_known, rng.random(N) < p_fcr, False)
    return fcr_known, fcr


def _contact_details(rng: np.random.Generator, df: pd.DataFrame, agents: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """The contacts in time order with their ids, agent, customer, queue and recording columns (transcripts still empty)."""
    df = df.sort_values(["start_time", "agent_idx"], kind="stable").reset_index(drop=True)
    df.insert(0, "contact_id", [f"K{i:07d}" for i in range(1, len(df) + 1)])
    ids = agents["agent_id"].to_numpy()
    ai = df["agent_idx"].to_numpy()
    df["agent_id"] = pd.array(np.where(ai >= 0, ids[np.maximum(ai, 0)], None), dtype=object)
    ci = df["cust_idx"].to_numpy()
    has = ci >= 0
    for col in ("customer_id", "customer_tier", "lifecycle_stage", "brand", "customer_opted_out"):
        vals = customers[col].to_numpy()[np.maximum(ci, 0)]
        df[col] = pd.array(np.where(has, vals, None), dtype=object)
    df["customer_tier"] = df["customer_tier"].fillna("none")
    df["customer_opted_out"] = df["customer_opted_out"].fillna(False).astype(bool)
    en_agent = agents["language"].str.contains("en").to_numpy()[np.maximum(ai, 0)] & (ai >= 0)
    en_call = en_agent & (df["direction"] == "inbound").to_numpy() & (rng.random(len(df)) < 0.35)
    q = np.select(
        [df["channel"] == "online", df["channel"] == "email", df["direction"] == "outbound", en_call],
        ["online", "email", "outbound", "en_line"],
        default=df["contact_type"].map({"service": "service", "consultation": "consult", "after_sales": "after_sales", "non_regular": "service"}).to_numpy(),
    )
    df["queue"] = q
    rec = (df["channel"] == "hotline") & df["answered"]
    df["recording_ref"] = np.where(rec, "rec/" + df["start_time"].dt.strftime("%Y/%m/%d/") + df["contact_id"] + ".wav", None)
    df["transcript"] = None
    df["transcript_lang"] = None
    return df.drop(columns=["agent_idx", "cust_idx"])


# ---------------------------------------------------------------------- evaluations
def _pick(keys: pd.DataFrame, quota: np.ndarray, rng) -> np.ndarray:
    """Random rows per group: row i is picked when its random rank in its group < quota[i]."""
    quota = np.asarray(quota)
    live = np.flatnonzero(quota > 0)
    order = live[rng.permutation(live.size)]
    ranks = np.full(len(keys), np.iinfo(np.int64).max)
    ranks[order] = keys.iloc[order].groupby(list(keys.columns), sort=False).cumcount().to_numpy()
    return ranks < quota


def _tenure_factor(hire: np.ndarray, when: np.ndarray) -> np.ndarray:
    months = (when - hire).astype("timedelta64[D]").astype(float) / 30.4
    return 1 + 2.5 * np.exp(-np.clip(months, 0, None) / 1.5)


def _coached_since(coaching: pd.DataFrame, item_id: str) -> pd.Series:
    """Per agent, the earliest re-check date of a coaching action on ``item_id`` (the coaching effect starts then)."""
    items = coaching["items"].str.split(",")
    on = items.map(lambda v: item_id in v).to_numpy(dtype=bool)
    c = coaching.loc[on]
    since = pd.to_datetime(c["created_on"]) + pd.to_timedelta(c["recheck_after_days"].astype(int), unit="D")
    return since.groupby(c["agent_id"].to_numpy()).min()


def _true_answers(rng, cards: dict, ev: pd.DataFrame, pl: dict, agent_factor: pd.Series, hire: pd.Series,
                  coaching: pd.DataFrame) -> dict[str, np.ndarray]:
    """True item outcomes per evaluated contact, from agent skill, tenure and planted effects.

    Coaching changes only the failure probability ``p`` of the coached rows: every random
    draw is the same as without it, so every other row stays as it was."""
    n = len(ev)
    fac = agent_factor.reindex(ev["agent_id"]).to_numpy()
    new = ev["agent_id"].isin(pl["new_hires"] + [pl["late_hire"]]).to_numpy()
    ten = np.where(new, _tenure_factor(hire.reindex(ev["agent_id"]).to_numpy(), ev["start_time"].to_numpy()), 1.0)
    inbound = (ev["direction"] == "inbound").to_numpy()
    complained = ~inbound & (rng.random(n) < 0.12)
    out: dict[str, np.ndarray] = {"_complained": complained}
    all_items = {it.id: it for c in cards.values() for it in c.items}
    inbound_ids = set(cards["inbound_service"].item_ids)
    for item_id, it in all_items.items():
        applies = inbound if item_id in inbound_ids and item_id != "closing" else ~inbound
        if item_id == "closing":
            applies = np.ones(n, bool)
        p = np.clip(ITEM_FAIL.get(item_id, 0.08) * fac * ten, 0, 0.9)
        if item_id == pl["weak_item"]:
            p = np.where((ev["agent_id"] == pl["weak_agent"]).to_numpy(), pl["weak_item_fail_rate"], p)
        since = _coached_since(coaching, item_id)
        if len(since) and it.kind != "deduction":  # Poisson draws would shift the stream
            start = since.reindex(ev["agent_id"]).to_numpy(dtype="datetime64[ns]")
            coached = ~np.isnat(start) & (ev["start_time"].to_numpy() >= start)
            p = np.where(coached, p * pl["coaching_factor"], p)
        u = rng.random(n)
        kind = it.kind
        if kind == "deduction":
            ans = rng.poisson(p).clip(0, it.max_count).astype(str)
        elif kind == "yes_partial_no":
            ans = np.where(u < 0.4 * p, "no", np.where(u < p, "partial", "yes"))
        else:
            ans = np.where(u < p, "no", "yes")
        if item_id == "escalation_handling":
            ans = np.where((ev["escalated"] | ev["transferred"]).to_numpy(), ans, "na")
        if item_id == "complaint_opened":
            ans = np.where(complained, ans, "na")
        if item_id == "customer_complained":
            ans = np.where(complained, "yes", "no")
        if it.bonus:
            ans = np.where(u < 0.12, "yes", "no")
        if item_id == "duration_ok":
            t = ev["talk_seconds"].to_numpy()
            ans = np.where((t >= 120) & (t <= 180), "yes", "no")
        out[item_id] = np.where(applies, ans, None)
    return out


def _inspector_answers(rng, truth: np.ndarray, kinds: str, inspector: np.ndarray, item_id: str, pl: dict, max_count: int) -> np.ndarray:
    """What each inspector records, given the truth: noise, leniency, strictness, ambiguity."""
    n = truth.size
    ans = truth.copy()
    live = np.array([t is not None and t != "na" for t in truth])
    opts = {"yes_no": ["yes", "no"], "yes_partial_no": ["yes", "partial", "no"]}.get(kinds)
    noise = np.where(inspector == pl["expert_inspector"], 0.01, 0.03)
    if item_id == pl["ambiguous_item"]:
        noise = np.where(inspector == pl["expert_inspector"], 0.12, 0.35)
    flip = live & (rng.random(n) < noise)
    if opts is not None:
        ans = np.where(flip, rng.choice(opts, n), ans)
        len_ = (inspector == pl["lenient_inspector"]) & live & np.isin(ans, ["no", "partial"]) & (rng.random(n) < 0.55)
        ans = np.where(len_, "yes", ans)
        strict = (inspector == pl["strict_inspector"]) & live & (ans == "yes") & (rng.random(n) < 0.15)
        ans = np.where(strict, "partial" if kinds == "yes_partial_no" else "no", ans)
    else:  # fault counts
        cnt = np.array([int(t) if alive else 0 for t, alive in zip(truth, live)])
        cnt = cnt + np.where(flip, rng.integers(-1, 2, n), 0)
        cnt = cnt - ((inspector == pl["lenient_inspector"]) & (rng.random(n) < 0.5))
        cnt = cnt + ((inspector == pl["strict_inspector"]) & (rng.random(n) < 0.3))
        ans = np.where(live, np.clip(cnt, 0, max_count).astype(str), truth)
    return ans


def _evaluations(spec: SampleSpec, pl: dict, agents: pd.DataFrame, inspectors: pd.DataFrame, contacts: pd.DataFrame, cards: dict,
                 coaching: pd.DataFrame):
    rng = _rng(spec, 6)
    ev = _evaluated_contacts(rng, spec, pl, contacts)
    agent_factor = _agent_skill(spec, agents)
    hire = pd.Series(pd.to_datetime(agents["hire_date"]).to_numpy(), index=agents["agent_id"].to_numpy())
    truth = _true_answers(rng, cards, ev, pl, agent_factor, hire, coaching)
    sessions = _calibration_sessions(ev, pl)
    held = dict(zip(sessions["session_id"], sessions["held_on"]))
    E, rows_e = _evaluation_headers(rng, ev, agents, inspectors, pl, held)
    items = _recorded_answers(rng, _rng(spec, 8), E, rows_e, truth, cards, pl)
    header = E[["evaluation_id", "contact_id", "agent_id", "inspector_id", "scorecard_id", "scorecard_version", "evaluated_at", "arm", "calibration_session_id"]].copy()
    header["status"], history = _lifecycle(spec, pl, E, items)
    fails = items.assign(f=items["item_comment"] != "").groupby("evaluation_id", sort=False)["f"].sum()
    header["comment"] = np.where(fails.reindex(header["evaluation_id"]).to_numpy() > 0, "见各项说明", "整体规范，继续保持")
    long_df = header.merge(items, on="evaluation_id", how="inner", sort=False)
    long_df["evaluated_at"] = long_df["evaluated_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return long_df, sessions, ev, truth, history


def _release_day(E: pd.DataFrame, pl: dict) -> pd.Timestamp:
    """The last release: the day from which the last month's evaluations (not calibration) await release, leaving about
    ``LIFECYCLE["awaiting_release"]`` of them submitted."""
    scored = (E["month"] == pl["months"][-1]) & (E["arm"] != "calibration")
    return E.loc[scored, "evaluated_at"].quantile(1 - LIFECYCLE["awaiting_release"]).normalize()


def _lifecycle(spec: SampleSpec, pl: dict, E: pd.DataFrame, items: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """How each scoring starts (``submitted``, or ``draft``) and the lifecycle actions taken since (its own random stream).

    Released each morning with the previous day's evaluations (by the QA lead, the expert inspector). Months before the
    last: acknowledged by most agents a few days later, a few disputed on a failed item and resolved (upheld), some not
    acknowledged yet. Last month: released up to the last release (:func:`_release_day`); those made since await release,
    a share of them still drafts (never of a planted agent, so no planted figure moves). Calibration scorings are the
    inspectors' own: ``submitted``, never released.
    """
    rng = _rng(spec, 12)
    n = len(E)
    u, w, d = rng.random(n), rng.random(n), rng.random(n)
    lag_ack, lag_dispute, lag_resolve = rng.integers(1, 6, n), rng.integers(1, 4, n), rng.integers(2, 7, n)
    hour = pd.to_timedelta(rng.integers(9 * 3600, 18 * 3600, n), unit="s")
    last = (E["month"] == pl["months"][-1]).to_numpy()
    calibration = (E["arm"] == "calibration").to_numpy()
    at = E["evaluated_at"]
    awaiting = last & (at >= _release_day(E, pl)).to_numpy()
    planted_agents = {pl["weak_agent"], pl["late_hire"], pl["overdue_action_agent"], pl["agent_on_leave"], *pl["new_hires"]}
    draft = awaiting & ~calibration & ~E["agent_id"].isin(planted_agents).to_numpy() & (d < LIFECYCLE["drafts_of_awaiting"])
    start = np.where(draft, "draft", "submitted").astype(object)
    released = ~calibration & ~awaiting
    release_at = at.dt.normalize() + pd.Timedelta(days=1, hours=10)
    failed = items[items["item_comment"] != ""].drop_duplicates("evaluation_id").set_index("evaluation_id")["item_id"]  # a failed, commented item
    item = E["evaluation_id"].map(failed)
    earlier = released & ~last
    disputed = earlier & item.notna().to_numpy() & (w < LIFECYCLE["disputed_of_failed"])
    acknowledged = earlier & ~disputed & (u >= LIFECYCLE["released"])
    dispute_at = release_at.dt.normalize() + pd.to_timedelta(lag_dispute, unit="D") + hour
    lead, agent = pl["expert_inspector"], E["agent_id"].to_numpy()
    steps = [
        (released, "release", np.full(n, lead, dtype=object), release_at, None, None),
        (acknowledged, "acknowledge", agent, release_at.dt.normalize() + pd.to_timedelta(lag_ack, unit="D") + hour, None, None),
        (disputed, "dispute", agent, dispute_at, item, DISPUTE_REASON),
        (disputed, "resolve", np.full(n, lead, dtype=object), dispute_at.dt.normalize() + pd.to_timedelta(lag_resolve, unit="D") + hour, None, RESOLVE_NOTE),
    ]
    history = pd.concat([
        pd.DataFrame({"evaluation_id": E["evaluation_id"].to_numpy()[on], "action": action, "actor": actor[on],
                      "at": when[on].dt.floor("s").dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(),
                      "item_id": (what[on].to_numpy() if what is not None else None), "reason": reason,
                      "outcome": "upheld" if action == "resolve" else None, "_ord": np.flatnonzero(on), "_k": k})
        for k, (on, action, actor, when, what, reason) in enumerate(steps)
    ], ignore_index=True)
    history = history.sort_values(["_ord", "_k"], kind="stable", ignore_index=True).drop(columns=["_ord", "_k"])
    return start, history


def final_statuses(evaluations: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Each evaluation's status once ``history`` (the samples' lifecycle actions, in order) is applied, by evaluation id."""
    after = {a: s for (_, a), s in TRANSITIONS.items()}
    start = evaluations.drop_duplicates("evaluation_id").set_index("evaluation_id")["status"]
    last = history.drop_duplicates("evaluation_id", keep="last").set_index("evaluation_id")["action"].map(after)
    return last.reindex(start.index).fillna(start)


def _evaluated_contacts(rng: np.random.Generator, spec: SampleSpec, pl: dict, contacts: pd.DataFrame) -> pd.DataFrame:
    """The contacts chosen for evaluation, in time order, with their ``month`` and ``arm`` (random, targeted, calibration)."""
    c = contacts
    month = c["start_time"].dt.to_period("M")
    eligible = (c["answered"] & (c["contact_type"] != "non_regular") & (c["channel"] == "hotline") & c["agent_id"].notna()).to_numpy()
    pool = c.loc[eligible].assign(month=month[eligible].astype(str))
    # random arm: quota per agent, month and direction
    quota = np.where(pool["direction"] == "inbound", spec.random_evals_inbound, spec.random_evals_outbound)
    late = (pool["agent_id"] == pl["late_hire"]).to_numpy()
    quota = np.where(late, np.where(pool["direction"] == "inbound", pl["late_hire_evaluations"], 0), quota)
    rand = _pick(pool[["agent_id", "month", "direction"]], quota, rng)
    # targeted arm: one risky contact per agent and month (new hire, diamond, escalation, long hold)
    new = pool["agent_id"].isin(pl["new_hires"]).to_numpy()
    risky = ~rand & ~late & (new | (pool["customer_tier"] == "diamond").to_numpy() | pool["escalated"].to_numpy() | (pool["hold_seconds"] > 120).to_numpy())
    tq = np.where(risky, 1, 0)
    targ = risky & _pick(pool[["agent_id", "month"]], tq, rng)
    # calibration: per month, 8 inbound contacts from the first half of the month, scored by every inspector
    half = (pool["start_time"].dt.day <= 14).to_numpy() & (pool["direction"] == "inbound").to_numpy() & ~rand & ~targ & ~late
    cal = half & _pick(pool[["month"]], np.where(half, 8, 0), rng)

    return pd.concat(
        [pool.loc[rand].assign(arm="random"), pool.loc[targ].assign(arm="targeted"), pool.loc[cal].assign(arm="calibration")],
        ignore_index=True,
    ).sort_values(["start_time", "contact_id"], kind="stable", ignore_index=True)


def _calibration_sessions(ev: pd.DataFrame, pl: dict) -> pd.DataFrame:
    """One calibration session per month with calibration contacts, held on its third Wednesday (first Monday + 16 days)."""
    sessions = []
    for m in sorted(ev.loc[ev["arm"] == "calibration", "month"].unique()):
        p = pd.Period(m, freq="M")
        sessions.append({"session_id": f"CAL-{m}", "held_on": str((_first_monday(p) + pd.Timedelta(days=16)).date()),
                         "scorecard_id": "inbound_service", "expert_inspector_id": pl["expert_inspector"],
                         "note": f"Monthly calibration {m}: 8 inbound calls, all inspectors."})
    return pd.DataFrame(sessions)


def _evaluation_headers(rng: np.random.Generator, ev: pd.DataFrame, agents: pd.DataFrame, inspectors: pd.DataFrame, pl: dict,
                        held: dict) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per scoring (one inspector per contact, every inspector in calibration) with id, time and scorecard; and its row of ``ev``."""
    # who scores what: random/targeted -> one inspector (not from the agent's own team), calibration -> all
    insp = inspectors["inspector_id"].to_numpy()
    home = inspectors["home_team"].to_numpy()
    team_of = agents.set_index("agent_id")["team"]
    ev_team = team_of.reindex(ev["agent_id"]).to_numpy()
    w = np.where(insp == pl["expert_inspector"], 0.5, 1.0)
    allowed = home[None, :] != ev_team[:, None]
    prob = allowed * w[None, :]
    prob = prob / prob.sum(axis=1, keepdims=True)
    pick = (rng.random(len(ev))[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    is_cal = (ev["arm"] == "calibration").to_numpy()
    rows_e = np.concatenate([np.flatnonzero(~is_cal), np.repeat(np.flatnonzero(is_cal), len(insp))])
    rows_i = np.concatenate([insp[pick[~is_cal]], np.tile(insp, is_cal.sum())])
    order = np.lexsort((rows_i, rows_e))
    rows_e, rows_i = rows_e[order], rows_i[order]
    E = ev.iloc[rows_e].reset_index(drop=True)
    n = len(E)
    w_ev = _width(n)
    E["evaluation_id"] = [f"E{i + 1:0{w_ev + 1}d}" for i in range(n)]
    E["inspector_id"] = rows_i
    delay = pd.to_timedelta(rng.integers(1, 5, n), unit="D") + pd.to_timedelta(rng.integers(9 * 3600, 18 * 3600, n), unit="s")
    at = E["start_time"].dt.normalize() + delay
    cal_sid = np.where(E["arm"] == "calibration", "CAL-" + E["month"], None)
    at = np.where(E["arm"] == "calibration", pd.to_datetime(pd.Series(cal_sid).map(held)) + pd.Timedelta(hours=14), at)
    E["evaluated_at"] = pd.Series(pd.to_datetime(at)).dt.floor("s")
    E["calibration_session_id"] = cal_sid
    E["scorecard_id"] = np.where(E["direction"] == "inbound", "inbound_service", "followup_call")
    E["scorecard_version"] = 1
    return E, rows_e


def _recorded_answers(rng: np.random.Generator, comments_rng: np.random.Generator, E: pd.DataFrame, rows_e: np.ndarray, truth: dict,
                      cards: dict, pl: dict) -> pd.DataFrame:
    """The answers the inspectors record (``evaluation_id, item_id, answer, item_comment``), in scoring then item order."""
    long = []
    for sid, card in cards.items():
        on = (E["scorecard_id"] == sid).to_numpy()
        for it in card.items:
            t = truth[it.id][rows_e][on]
            if it.scored and not it.bonus:
                a = _inspector_answers(rng, t, it.kind, E.loc[on, "inspector_id"].to_numpy(), it.id, pl, it.max_count)
            else:  # context questions and bonus items are recorded as observed
                a = t
            failed = (np.isin(a, ["no", "partial"]) | ((it.kind == "deduction") & ~np.isin(a, ["0", "na"]))) & it.scored & ~it.bonus
            com = np.where(failed & (comments_rng.random(on.sum()) < 0.7), T.ITEM_COMMENTS.get(it.id, ""), "")
            long.append(pd.DataFrame({"evaluation_id": E.loc[on, "evaluation_id"].to_numpy(), "item_id": it.id, "answer": a, "item_comment": com, "_ord": np.flatnonzero(on), "_k": len(long)}))
    return pd.concat(long, ignore_index=True).sort_values(["_ord", "_k"], kind="stable").drop(columns=["_ord", "_k"])


# ---------------------------------------------------------------------- transcripts
#: The last months in which every contact a sampling plan can draw (answered, regular, hotline or online, with an agent)
#: has a transcript; in the months before, the evaluated calls and this share of the others have one.
TRANSCRIPT_MONTHS = 1
TRANSCRIPT_SHARE_BEFORE = 0.02
#: Speaking rate (characters a second) by which the turns share out the talk time, and the share of it they fill.
_RATE = {"zh": 4.5, "en": 15.0}
_FILLED = 0.96
_STAMP = r"^\[\d{2,}:\d{2}\]\s*"

#: Renderings the phrase banks lack: a half-right answer per topic (``correct_answer`` partial), the hold, proactive help.
_MORE_STEPS = {
    "zh": {
        "answer_partial": {
            "navigation": "请您在空旷处重新搜星试试。",
            "traffic_violation": "已为您查询，近30天没有新的违章，更早的记录我这边看不到。",
            "usage": "在设置里可以改播报语言，具体是哪一项我不太确定。",
            "tariff": "续费是每年120元，包含哪些服务您看一下说明书吧。",
            "map_update": "您连上Wi-Fi后重新下载地图升级包试试。",
            "device_fault": "您先长按电源键强制重启一下试试。",
        },
        "hold": ("请您稍等，我帮您查一下。", "感谢您的耐心等待。"),
        "proactive_help": "顺便提醒您，本季度车机软件可以免费更新，到店保养时可以顺带处理。",
    },
    "en": {
        "answer_partial": {
            "navigation": "Try re-acquiring satellites somewhere open.",
            "traffic_violation": "I've checked: nothing new in the last 30 days; older records I can't see.",
            "usage": "You can change it somewhere in Settings, I'm not sure exactly where.",
            "tariff": "The renewal is 120 yuan a year; what it includes is in the manual.",
            "map_update": "Try the map update again on Wi-Fi.",
            "device_fault": "Try holding the power button to restart it.",
        },
        "hold": ("Please hold a moment while I look into it.", "Thank you for holding."),
        "proactive_help": "By the way, this quarter's software update is free at any service visit.",
    },
}
#: Turns said by the customer (template keys and key prefixes); every other turn is the agent's.
_CUSTOMER_KEYS = ("need|", "identity_reply", "email", "confirmation_reply", "owner_reply", "customer_complained|")
#: Steps a call simply lacks when they were not done (``no``) or did not arise (``na``).
_ABSENT = {"identity_check": "no", "confirmation": "no", "owner_confirmed": "no", "record_confirmed": "no", "proactive_help": "no",
           "escalation_handling": "na", "complaint_opened": "na"}
#: The items each kind of call renders (the rest, e.g. ``info_logged``, ``duration_ok``, leave no trace in the dialogue).
_RENDERED = {
    "inbound": ("greeting", "identity_check", "needs_analysis", "empathy", "correct_answer", "proactive_help", "escalation_handling",
                "confirmation", "closing"),
    "outbound": ("owner_confirmed", "introduction", "prepared_questions", "customer_complained", "complaint_opened", "record_confirmed",
                 "courtesy_faults", "closing"),
}


def _templates() -> dict[str, str]:
    """Every turn of a sample transcript as ``lang|key`` → text with ``{…}`` fields; a step's key is ``item|outcome[|topic]``."""
    out = {}
    for lang, S in T.STEPS.items():
        more, ans = _MORE_STEPS[lang], T.ANSWER[lang]
        t = {"identity_reply": S["identity_reply"], "email": S["email"], "confirmation_reply": S["confirmation_reply"],
             "owner_reply": S["owner_reply"], "hold|start": more["hold"][0], "hold|end": more["hold"][1],
             "proactive_help|yes": more["proactive_help"], "customer_complained|yes": S["survey_reply_complaint"],
             "customer_complained|no": S["survey_reply_ok"], "courtesy_faults|1": S["courtesy_fault"],
             "fu_closing|yes": S["fu_closing"][0], "fu_closing|no": S["fu_closing"][1]}
        for item, partial in (("greeting", None), ("identity_check", None), ("needs_analysis", "needs_partial"), ("empathy", "empathy_partial"),
                              ("escalation_handling", None), ("confirmation", None), ("closing", None), ("owner_confirmed", None),
                              ("introduction", "introduction_partial"), ("prepared_questions", "prepared_partial"),
                              ("record_confirmed", None), ("complaint_opened", None)):
            good, bad = S[item]
            t.update({f"{item}|yes": good, f"{item}|no": bad, f"{item}|partial": S[partial] if partial else None})
        for topic in ans["good"]:
            t.update({f"answer|yes|{topic}": ans["good"][topic], f"answer|no|{topic}": ans["bad"][topic],
                      f"answer|partial|{topic}": more["answer_partial"][topic]})
        for topic, phrases in T.NEED[lang].items():
            t.update({f"need|{topic}|{i}": p for i, p in enumerate(phrases)})
        out.update({f"{lang}|{k}": v for k, v in t.items() if v is not None})
    return out


def _step_of(key: pd.Series) -> pd.DataFrame:
    """``item_id, outcome`` of template keys (``item|outcome[|topic]``); empty where the turn is no scorecard step."""
    part = key.str.split("|", expand=True).reindex(columns=[0, 1])
    item = part[0].replace({"answer": "correct_answer", "fu_closing": "closing"})
    step = part[1].isin(["yes", "partial", "no", "1"]) & ~part[0].isin(["need", "hold"])
    return pd.DataFrame({"item_id": item.where(step), "outcome": part[1].where(step)})


def _agent_skill(spec: SampleSpec, agents: pd.DataFrame) -> pd.Series:
    """Each agent's failure factor (lognormal, its own stream): the true outcomes of every call follow it."""
    return pd.Series(np.exp(0.35 * _rng(spec, 7).standard_normal(len(agents))), index=agents["agent_id"].to_numpy())


def _transcripts(spec: SampleSpec, pl: dict, cards: dict, ev: pd.DataFrame, truth: dict, contacts: pd.DataFrame, agents: pd.DataFrame,
                 coaching: pd.DataFrame) -> None:
    """Fill ``transcript`` and ``transcript_lang`` of the transcribed contacts (:func:`_transcribed`), each rendered from its true
    item outcomes: one turn per line, ``[mm:ss] 坐席：…`` / ``[mm:ss] 客户：…`` (``Agent: `` / ``Customer: `` in English)."""
    rng = _rng(spec, 9)
    R, outcomes = _transcribed(rng, spec, pl, cards, ev, truth, contacts, agents, coaching)
    lang = np.where(R["queue"].to_numpy() == "en_line", "en", "zh").astype(object)
    turns = _turn_keys(rng, R, outcomes, lang)
    turns["text"] = _turn_texts(rng, R, turns, lang, agents)
    text = _stamped_lines(rng, R, turns, lang)
    pos = pd.Index(contacts["contact_id"]).get_indexer(R["contact_id"])
    contacts.loc[pos, "transcript"] = text.reindex(np.arange(len(R))).to_numpy()
    contacts.loc[pos, "transcript_lang"] = lang


def _transcribed(rng: np.random.Generator, spec: SampleSpec, pl: dict, cards: dict, ev: pd.DataFrame, truth: dict, contacts: pd.DataFrame,
                 agents: pd.DataFrame, coaching: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The contacts to transcribe in contact order, and the true outcome of every item on each (a column per item).

    Evaluated calls keep the outcomes their evaluations were scored from; the others (every plannable contact of the last
    :data:`TRANSCRIPT_MONTHS` months, :data:`TRANSCRIPT_SHARE_BEFORE` before) get outcomes drawn the same way, by
    :func:`_true_answers` on their own stream: agent skill, tenure, the weak agent, coaching."""
    first = ~ev["contact_id"].duplicated().to_numpy()
    scored = pd.DataFrame({k: v[first] for k, v in truth.items() if not k.startswith("_")}, index=ev["contact_id"].to_numpy()[first])
    c = contacts
    plannable = (c["answered"] & (c["contact_type"] != "non_regular") & c["agent_id"].notna() & c["channel"].isin(["hotline", "online"])).to_numpy()
    recent = (c["start_time"] >= spec.periods[-min(TRANSCRIPT_MONTHS, spec.months)].start_time).to_numpy()
    evaluated = c["contact_id"].isin(scored.index).to_numpy()
    others = plannable & ~evaluated & (recent | (rng.random(len(c)) < TRANSCRIPT_SHARE_BEFORE))
    X = c.loc[others]
    hire = pd.Series(pd.to_datetime(agents["hire_date"]).to_numpy(), index=agents["agent_id"].to_numpy())
    drawn = _true_answers(_rng(spec, 16), cards, X, pl, _agent_skill(spec, agents), hire, coaching)
    drawn = pd.DataFrame({k: v for k, v in drawn.items() if not k.startswith("_")}, index=X["contact_id"].to_numpy())
    R = c.loc[evaluated | others].reset_index(drop=True)
    return R, pd.concat([scored, drawn]).reindex(R["contact_id"].to_numpy())


def _turn_keys(rng: np.random.Generator, R: pd.DataFrame, outcomes: pd.DataFrame, lang: np.ndarray) -> pd.DataFrame:
    """The turns of every call in order: ``pos`` (row of ``R``), ``who`` (A agent, C customer), ``key`` (:func:`_templates`), ``hold``."""
    n = len(R)
    o = {k: outcomes[k].to_numpy(dtype=object) for k in outcomes.columns}
    grade = lambda k: np.where(o[k] == "yes", "yes", np.where(o[k] == "partial", "partial", "no")).astype(object)  # noqa: E731
    when = lambda cond, key: np.where(cond, key, None)  # noqa: E731
    inbound = (R["direction"] == "inbound").to_numpy()
    tpl = _templates()
    n_need = pd.Series({k.rsplit("|", 1)[0]: int(k.rsplit("|", 1)[1]) + 1 for k in tpl if k.split("|")[1] == "need"})
    topic = R["topic"].to_numpy(dtype=object)
    topic = np.where(pd.Series(lang + "|need|" + topic).isin(n_need.index) & np.isin(topic, list(T.ANSWER["zh"]["good"])), topic, "navigation")
    need = (rng.random(n) * pd.Series(lang + "|need|" + topic).map(n_need).to_numpy()).astype(int).astype(str)
    hold = (R["hold_seconds"].fillna(0) > 0).to_numpy()
    email = rng.random(n) < 0.08
    esc = np.isin(o["escalation_handling"], ["yes", "no"])
    complaint = np.isin(o["complaint_opened"], ["yes", "no"])
    faults = pd.to_numeric(pd.Series(o["courtesy_faults"]), errors="coerce").fillna(0).to_numpy()
    call = [
        ("A", "greeting|" + grade("greeting")), ("C", "need|" + topic + "|" + need),
        ("A", when(o["identity_check"] == "yes", "identity_check|yes")), ("C", when(o["identity_check"] == "yes", "identity_reply")),
        ("A", "needs_analysis|" + grade("needs_analysis")), ("A", "empathy|" + grade("empathy")),
        ("A", when(hold, "hold|start")), ("A", when(hold, "hold|end")),
        ("A", "answer|" + grade("correct_answer") + "|" + topic), ("A", when(o["proactive_help"] == "yes", "proactive_help|yes")),
        ("C", when(email, "email")), ("A", when(esc, "escalation_handling|" + grade("escalation_handling"))),
        ("A", when(o["confirmation"] == "yes", "confirmation|yes")), ("C", when(o["confirmation"] == "yes", "confirmation_reply")),
        ("A", "closing|" + grade("closing")),
    ]
    followup = [
        ("A", when(o["owner_confirmed"] == "yes", "owner_confirmed|yes")), ("C", when(o["owner_confirmed"] == "yes", "owner_reply")),
        ("A", "introduction|" + grade("introduction")), ("A", "prepared_questions|" + grade("prepared_questions")),
        ("C", "customer_complained|" + grade("customer_complained")), ("A", when(hold, "hold|start")), ("A", when(hold, "hold|end")),
        ("A", when(complaint, "complaint_opened|" + grade("complaint_opened"))),
        ("A", when(o["record_confirmed"] == "yes", "record_confirmed|yes")),
        *[("A", when(faults > j, "courtesy_faults|1")) for j in range(5)],
        ("A", "fu_closing|" + grade("closing")),
    ]
    parts = []
    for k, (who, key) in enumerate([(w, when(inbound, key)) for w, key in call] + [(w, when(~inbound, key)) for w, key in followup]):
        at = np.flatnonzero(pd.notna(key))
        parts.append(pd.DataFrame({"pos": at, "k": k, "who": who, "key": key[at]}))
    turns = pd.concat(parts, ignore_index=True).sort_values(["pos", "k"], kind="stable", ignore_index=True)
    turns.attrs["slots"] = len(parts)
    turns["hold"] = np.where(turns["key"] == "hold|end", R["hold_seconds"].fillna(0).to_numpy()[turns["pos"]], 0.0)
    return turns


def _turn_texts(rng: np.random.Generator, R: pd.DataFrame, turns: pd.DataFrame, lang: np.ndarray, agents: pd.DataFrame) -> np.ndarray:
    """The words of each turn: its template with the call's details filled in (brand, agent, customer's name, phone, e-mail, city)."""
    n = len(R)
    en = lang == "en"
    pick = lambda options: np.asarray(options, dtype=object)[(rng.random(n) * len(options)).astype(int)]  # noqa: E731
    names = agents.set_index("agent_id")["name"]
    ctx = {
        "brand": R["brand"].fillna("Aurora").to_numpy(dtype=object), "agent_no": R["agent_id"].str[1:].to_numpy(dtype=object),
        "surname": np.where(en, pick(["Wang", "Li", "Zhang", "Chen", "Smith"]), pick(T.SURNAMES)),
        "agent_name": np.where(en, pick(T.EN_GIVEN), R["agent_id"].map(names).to_numpy(dtype=object)),
        "phone": ("1" + pd.Series(rng.integers(3, 10, n)).astype(str) + pd.Series(rng.integers(0, 10**9, n)).astype(str).str.zfill(9)).to_numpy(),
        "email": pick(["wang", "li", "driver", "owner", "zhang"]) + pd.Series(rng.integers(10, 999, n)).astype(str).to_numpy(dtype=object) + "@example.com",
        "city": np.where(en, pick(T.CITIES_EN), pick(T.CITIES)),
    }
    pos = turns["pos"].to_numpy()
    tpl = _templates()
    key = pd.Series(lang[pos] + "|" + turns["key"].to_numpy(dtype=object))
    text = key.map(tpl)
    if text.isna().any():
        raise AssertionError(f"no phrase for turns {sorted(set(turns['key'][text.isna().to_numpy()]))[:5]}")  # unreachable: every key is one of _templates()
    for field, values in ctx.items():
        on = key.isin([k for k, t in tpl.items() if "{" + field + "}" in t]).to_numpy()
        cut = text[on].str.partition("{" + field + "}")
        text[on] = cut[0] + values[pos[on]] + cut[2]
    return text.to_numpy(dtype=object)


def _stamped_lines(rng: np.random.Generator, R: pd.DataFrame, turns: pd.DataFrame, lang: np.ndarray) -> pd.Series:
    """Each call's transcript, indexed by row of ``R``: its turns ``[mm:ss] speaker：text``, the offset from the call start.

    Each turn takes the time its words need (:data:`_RATE`; less when the call is too short for them); the rest of
    :data:`_FILLED` of the talk time goes to the pauses between turns (random shares: the customer explaining, the agent
    looking something up); a hold is a silent gap of ``hold_seconds`` before the agent's thanks for holding. So the last
    turn ends before ``talk_seconds + hold_seconds``, the recording's length (before ``talk_seconds`` without a hold)."""
    pos = turns["pos"].to_numpy()
    lt = lang[pos]
    talk = R["talk_seconds"].fillna(0).to_numpy(dtype=float)[pos]
    say = turns["text"].str.len().to_numpy() / np.where(lt == "en", _RATE["en"], _RATE["zh"]) + 0.3
    first = ~pd.Series(pos).duplicated().to_numpy()
    # one draw per call and turn slot, so a call with other turns leaves every other call's pauses as they were
    pause = np.where(first, 0.0, rng.exponential(1.0, (len(R), turns.attrs["slots"]))[pos, turns["k"].to_numpy()])
    lead = np.minimum(1.0, 0.02 * talk)
    budget = np.clip(_FILLED * talk - lead, 0, None)
    said, paused = pd.Series(say).groupby(pos), pd.Series(pause).groupby(pos)
    speech = np.minimum(1.0, budget / said.transform("sum").to_numpy())
    slack = budget - speech * said.transform("sum").to_numpy()
    held = pd.Series(turns["hold"].to_numpy()).groupby(pos).cumsum().to_numpy()
    sec = lead + speech * (said.cumsum().to_numpy() - say) + slack * paused.cumsum().to_numpy() / np.maximum(paused.transform("sum").to_numpy(), 1e-9)
    sec = np.floor(sec + held).astype(int)
    stamp = "[" + pd.Series(sec // 60).astype(str).str.zfill(2) + ":" + pd.Series(sec % 60).astype(str).str.zfill(2) + "] "
    speaker = pd.Series(lt + "|" + turns["who"].to_numpy(dtype=object)).map(
        {f"{lg}|{w}": s[lg] for lg in ("zh", "en") for w, s in (("A", T.AGENT), ("C", T.CUSTOMER))})
    line = stamp + speaker + turns["text"].to_numpy(dtype=object)
    # the turns are in call order: join each call's lines in one Arrow pass
    starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    calls = pa.ListArray.from_arrays(pa.array(np.r_[starts, len(pos)], type=pa.int32()), pa.array(line.to_numpy(dtype=object), type=pa.string()))
    return pd.Series(pc.binary_join(calls, "\n").to_numpy(zero_copy_only=False), index=pos[starts], dtype=object)


def transcript_steps(contacts: pd.DataFrame) -> pd.DataFrame:
    """What each sample transcript shows of the scorecard steps its dialogue renders: ``contact_id, item_id, shown``.

    ``shown`` is ``yes`` / ``partial`` / ``no``, a fault count for ``courtesy_faults``, ``na`` where an escalation or a
    complaint step did not arise; ``None`` where the step's line is missing. Reads the generator's own phrases, so it checks
    generated samples (``contact_id, direction, transcript``), not a center's calls.
    """
    missing = [k for k in ("contact_id", "direction", "transcript") if k not in contacts.columns]
    if missing:
        raise ParameterError(f"contacts must have the columns contact_id, direction, transcript; missing {missing}")
    c = contacts.loc[contacts["transcript"].notna(), ["contact_id", "direction", "transcript"]]
    lines = c.set_index("contact_id")["transcript"].str.split("\n").explode().rename("line").reset_index()
    line = lines["line"].astype(str).str.replace(_STAMP, "", regex=True)
    agent, customer = tuple(T.AGENT.values()), tuple(T.CUSTOMER.values())
    who = np.where(line.str.startswith(agent), "A", np.where(line.str.startswith(customer), "C", "")).astype(object)
    body = line.str.replace("^(?:" + "|".join(map(re.escape, agent + customer)) + ")", "", regex=True)
    exact, fields = {}, []
    for lk, text in _templates().items():
        k = lk.split("|", 1)[1]
        speaker = "C" if k.startswith(_CUSTOMER_KEYS) else "A"
        if "{" not in text:
            exact[f"{speaker}|{text}"] = k
        elif _step_of(pd.Series([k]))["item_id"].notna().iloc[0]:  # a scorecard step with the call's details in it
            fields.append((speaker, k, "".join(".+?" if i % 2 else re.escape(p) for i, p in enumerate(re.split(r"\{(\w+)\}", text)))))
    key = (who + "|" + body).map(exact).to_numpy(dtype=object)
    for speaker, k, rx in fields:
        todo = np.flatnonzero(pd.isna(key) & (who == speaker))
        key[todo[body.iloc[todo].str.fullmatch(rx).to_numpy(dtype=bool)]] = k
    found = pd.notna(key)
    table = _step_of(pd.Series(pd.unique(key[found]), dtype=object))
    table.index = pd.unique(key[found])
    steps = table.reindex(key[found]).assign(contact_id=lines["contact_id"].to_numpy()[found]).dropna().reset_index(drop=True)
    faults = steps[steps["item_id"] == "courtesy_faults"].groupby("contact_id").size()
    seen = steps[steps["item_id"] != "courtesy_faults"].drop_duplicates(["contact_id", "item_id"]).set_index(["contact_id", "item_id"])["outcome"]
    grid = pd.concat([pd.DataFrame({"contact_id": c.loc[c["direction"] == d, "contact_id"].repeat(len(items)).to_numpy(),
                                    "item_id": np.tile(items, int((c["direction"] == d).sum()))}) for d, items in _RENDERED.items()],
                     ignore_index=True)
    shown = pd.Series(seen.reindex(pd.MultiIndex.from_frame(grid)).to_numpy(dtype=object))
    shown = shown.fillna(grid["item_id"].map(_ABSENT))
    cf = grid["item_id"] == "courtesy_faults"
    shown[cf] = grid.loc[cf, "contact_id"].map(faults).fillna(0).astype(int).astype(str).to_numpy()
    return grid.assign(shown=shown.to_numpy(dtype=object))


# ------------------------------------------------------------------------------ VOC
def _voc(spec: SampleSpec, pl: dict, contacts: pd.DataFrame) -> pd.DataFrame:
    rng = _rng(spec, 10)
    per_month = max(50, int(round(spec.voc_per_month * spec.agents / 60)))
    topics = np.array(T.VOC_TOPICS)
    base = np.array([0.17, 0.11, 0.19, 0.11, 0.11, 0.06, 0.25])
    frames = []
    for p in spec.periods:
        share = base.copy()
        if str(p) == pl["surge_month"]:
            share[list(topics).index(pl["surge_topic"])] *= 2.6
        share /= share.sum()
        n = int(rng.poisson(per_month))
        days = p.days_in_month
        at = p.start_time + pd.to_timedelta(rng.integers(0, days * 86400, n), unit="s")
        frames.append(pd.DataFrame({"received_at": at, "topic": rng.choice(topics, n, p=share)}))
    v = _voc_rows(rng, pd.concat(frames, ignore_index=True).sort_values("received_at", kind="stable", ignore_index=True), contacts)
    # the new topic: its own stream, so the rows above stay exactly as they were
    rng_new = _rng(spec, 15)
    new = []
    for p in spec.periods:
        share = pl["new_topic_shares"].get(str(p), 0.0)
        if share:
            k = int(rng_new.poisson(per_month * share))
            at = p.start_time + pd.to_timedelta(rng_new.integers(0, p.days_in_month * 86400, k), unit="s")
            new.append(pd.DataFrame({"received_at": at, "topic": pl["new_topic"]}))
    if new:
        extra = _voc_rows(rng_new, pd.concat(new, ignore_index=True).sort_values("received_at", kind="stable", ignore_index=True), contacts)
        extra["category"] = None  # nobody has a label for it yet
        v = pd.concat([v, extra], ignore_index=True).sort_values("received_at", kind="stable", ignore_index=True)
    v.insert(0, "feedback_id", [f"V{i:06d}" for i in range(1, len(v) + 1)])
    v["received_at"] = v["received_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return v[["feedback_id", "received_at", "channel", "customer_tier", "brand", "contact_id", "text", "lang", "csat", "nps", "category"]]


def _voc_rows(rng: np.random.Generator, v: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """Fill language, channel, tier, brand, scores, label, linked contact and text for (received_at, topic) rows."""
    n = len(v)
    v["lang"] = np.where(rng.random(n) < 0.85, "zh", "en")
    v["channel"] = rng.choice(["hotline", "online", "email"], n, p=[0.5, 0.35, 0.15])
    v["customer_tier"] = rng.choice(["diamond", "gold", "silver", "none"], n, p=[0.06, 0.2, 0.6, 0.14])
    v["brand"] = rng.choice(T.BRANDS, n, p=[0.45, 0.35, 0.2])
    mean = v["topic"].map(T.VOC_CSAT).to_numpy()
    v["csat"] = np.clip(np.round(mean + 0.8 * rng.standard_normal(n)), 1, 5).astype(int)
    nps = np.clip(np.round(2.2 * v["csat"].to_numpy() - 1 + 1.2 * rng.standard_normal(n)), 0, 10).astype(int)
    v["nps"] = pd.array(np.where(rng.random(n) < 0.6, nps, -1), dtype="Int64").astype(object)
    v.loc[v["nps"] == -1, "nps"] = None
    v["category"] = np.where(rng.random(n) < 0.7, v["topic"], None)
    # link 40 % to an answered contact of the same month, handled before the feedback
    answered = contacts.loc[contacts["answered"] & contacts["customer_id"].notna(), ["contact_id", "start_time"]]
    times = answered["start_time"].to_numpy()
    link = rng.random(n) < 0.4
    hi = np.searchsorted(times, v["received_at"].to_numpy())
    lo = np.searchsorted(times, (v["received_at"] - pd.Timedelta(days=7)).to_numpy())
    ok = link & (hi > lo)
    pick = lo + (rng.random(n) * np.maximum(hi - lo, 1)).astype(int)
    ids = answered["contact_id"].to_numpy()
    v["contact_id"] = np.where(ok, ids[np.minimum(pick, max(len(times) - 1, 0))] if len(ids) else None, None)
    texts = []
    for lang, topic in zip(v["lang"].to_numpy(), v["topic"].to_numpy()):
        body = rng.choice(T.VOC[lang][topic]).format(city=rng.choice(T.CITIES if lang == "zh" else T.CITIES_EN))
        opener, closer = rng.choice(T.VOC_OPENERS[lang]), rng.choice(T.VOC_CLOSERS[lang])
        t = body if topic == "praise" else opener + body + closer
        if rng.random() < 0.06:
            t += T.VOC_PII[lang].format(phone=f"13{rng.integers(0, 10**9):09d}", email=f"user{rng.integers(100, 9999)}@example.com")
        texts.append(t)
    v["text"] = texts
    return v


def _info_checks(spec: SampleSpec, contacts: pd.DataFrame, inspectors: pd.DataFrame) -> pd.DataFrame:
    rng = _rng(spec, 11)
    pool = contacts.loc[contacts["answered"] & (contacts["contact_type"] != "non_regular") & contacts["agent_id"].notna()]
    pool = pool.assign(month=pool["start_time"].dt.to_period("M").astype(str))
    pick = _pick(pool[["agent_id", "month"]], np.full(len(pool), 10), rng)
    s = pool.loc[pick].reset_index(drop=True)
    n = len(s)
    agent_p = pd.Series(np.exp(0.5 * rng.standard_normal(s["agent_id"].nunique())) * 0.03, index=s["agent_id"].unique())
    err = rng.random(n) < agent_p.reindex(s["agent_id"]).to_numpy()
    fields = np.array(["phone", "model", "category", "description", "address"])
    return pd.DataFrame(
        {
            "check_id": [f"IC{i:06d}" for i in range(1, n + 1)],
            "contact_id": s["contact_id"],
            "agent_id": s["agent_id"],
            "inspector_id": rng.choice(inspectors["inspector_id"].to_numpy(), n),
            "checked_on": (s["start_time"].dt.normalize() + pd.to_timedelta(rng.integers(1, 4, n), unit="D")).dt.strftime("%Y-%m-%d"),
            "has_error": err,
            "error_fields": np.where(err, rng.choice(fields, n), None),
        }
    )


def _coaching(spec: SampleSpec, pl: dict, agents: pd.DataFrame) -> pd.DataFrame:
    """Coaching actions: the new hires after their first month (done), the weak agent on the weak
    item 10 days before the end (open, due after the end), and one open action overdue at the end."""
    p = spec.periods[1]
    created = _first_monday(p)
    rows = [
        {
            "action_id": f"CA{i + 1:04d}", "agent_id": a, "coach": "Q01", "created_on": str(created.date()),
            "items": "needs_analysis,confirmation", "agreed_action": "跟听优秀录音3通，练习标准提问话术；三天后复听。",
            "due_on": str((created + pd.Timedelta(days=14)).date()), "recheck_after_days": 3, "status": "done",
            "closed_on": str((created + pd.Timedelta(days=17)).date()),
        }
        for i, a in enumerate(pl["new_hires"])
    ]
    end = spec.periods[-1].end_time.normalize()
    weak_on = end - pd.Timedelta(days=10)
    rows.append({
        "action_id": f"CA{len(rows) + 1:04d}", "agent_id": pl["open_action_agent"], "coach": "Q01", "created_on": str(weak_on.date()),
        "items": pl["open_action_item"], "agreed_action": "复习身份核实流程，每通来电先核实车主身份再办理；三天后复听。",
        "due_on": str((weak_on + pd.Timedelta(days=14)).date()), "recheck_after_days": 3, "status": "open", "closed_on": None,
    })
    late_on = _first_monday(spec.periods[-1])
    supervisor = agents.set_index("agent_id").loc[pl["overdue_action_agent"], "supervisor"]
    rows.append({
        "action_id": f"CA{len(rows) + 1:04d}", "agent_id": pl["overdue_action_agent"], "coach": supervisor, "created_on": str(late_on.date()),
        "items": pl["overdue_action_item"], "agreed_action": "学习安抚话术，客户抱怨时先表达理解再解决问题；三天后复听。",
        "due_on": str((late_on + pd.Timedelta(days=7)).date()), "recheck_after_days": 3, "status": "open", "closed_on": None,
    })
    return pd.DataFrame(rows)


def _load_cards() -> dict[str, Scorecard]:
    from .config import samples_dir

    folder = samples_dir() / "scorecards"
    cards = {c.id: c for c in (load_scorecard(p) for p in sorted(folder.glob("*.yaml")))}
    return {k: cards[k] for k in ("inbound_service", "followup_call")}


def generate(spec: SampleSpec = SampleSpec(), progress=None) -> dict[str, pd.DataFrame]:
    """Generate every sample table for ``spec``; keys are import kinds (see :data:`SAMPLE_FILES`), and
    ``evaluation_history``, the lifecycle actions after import (:data:`qa_lib.lifecycle.HISTORY_FILE`).

    ``progress`` is an optional callable taking a step name, called before each step.
    """
    spec.validate()
    step = progress or (lambda name: None)
    pl = planted(spec)
    cards = _load_cards()
    step("agents")
    agents = _agents(spec, pl)
    inspectors = _inspectors(spec, pl)
    step("contacts")
    contacts = _contacts(spec, pl, agents, _customers(spec))
    coaching = _coaching(spec, pl, agents)
    step("evaluations")
    evaluations, sessions, ev, truth, history = _evaluations(spec, pl, agents, inspectors, contacts, cards, coaching)
    step("transcripts")
    _transcripts(spec, pl, cards, ev, truth, contacts, agents, coaching)
    step("voc")
    voc = _voc(spec, pl, contacts)
    step("checks")
    checks = _info_checks(spec, contacts, inspectors)
    return {
        "agents": agents,
        "inspectors": inspectors,
        "contacts": contacts,
        "calibration_sessions": sessions,
        "evaluations": evaluations,
        "voc": voc,
        "info_checks": checks,
        "coaching": coaching,
        "evaluation_history": history,
    }


def planted_markdown(spec: SampleSpec, frames: dict[str, pd.DataFrame]) -> str:
    """PLANTED.md: the planted effects with exact ids and months, and what was measured on the data."""
    pl = planted(spec)
    ev = frames["evaluations"]
    c = frames["contacts"]
    m = c["start_time"].dt.to_period("M").astype(str)
    r = ev[(ev["arm"] != "calibration") & (ev["item_id"] == pl["weak_item"]) & (ev["answer"] != "na")]
    is_weak = r["agent_id"] == pl["weak_agent"]
    fail_weak = (r.loc[is_weak, "answer"] == "no").mean()
    fail_rest = (r.loc[~is_weak, "answer"] == "no").mean()
    fcr = c.loc[c["fcr"].notna()].assign(team=c["agent_id"].map(frames["agents"].set_index("agent_id")["team"]))
    fcr_by_team = fcr.groupby("team")["fcr"].mean()
    v = frames["voc"]
    vm = v["received_at"].str[:7]
    # the surge measured on the labelled rows (category = the generator's topic)
    lab = v[v["category"].notna()].assign(m=vm)
    surge_share = lab.groupby("m")["category"].apply(lambda s: (s == pl["surge_topic"]).mean())
    new_marker = r"App|\bapp\b"  # every app_connect phrase names the app; no other topic does
    nh = ev[ev["agent_id"].isin(pl["new_hires"]) & (ev["arm"] != "calibration") & ev["answer"].isin(["yes", "no", "partial"])]
    contact_month = m.set_axis(c["contact_id"])
    nh_pass = nh.assign(m=nh["contact_id"].map(contact_month)).groupby("m")["answer"].apply(lambda s: (s == "yes").mean())
    late_n = ev.loc[ev["agent_id"] == pl["late_hire"], "evaluation_id"].nunique()
    insp = ev[(ev["arm"] == "calibration") & ev["answer"].isin(["yes", "no", "partial"])]
    insp_pass = insp.groupby("inspector_id")["answer"].apply(lambda s: (s == "yes").mean())
    lines = [
        "# Planted effects in the sample data",
        "",
        f"Generated by `qa samples` with {', '.join(f'{k}={v!r}' for k, v in asdict(spec).items())}.",
        "Regenerating with the same parameters gives the same tables (a test checks the committed files).",
        "Each line below names what was planted and the figure measured on the generated data, so an analysis",
        "that finds the effect can be checked against it. Months are the center's calendar months.",
        "",
        "| effect | where | planted | measured on the generated data |",
        "|---|---|---|---|",
        f"| agent weak on one item | agent `{pl['weak_agent']}`, item `{pl['weak_item']}` (inbound_service), every month | fails the item with probability {pl['weak_item_fail_rate']:.0%} | recorded `no`: {fail_weak:.1%} of this agent's non-calibration evaluations vs {fail_rest:.1%} for all other agents |",
        f"| lenient inspector | `{pl['lenient_inspector']}` | turns half of true `no`/`partial` answers into `yes` | share of `yes` in calibration sessions: {insp_pass.get(pl['lenient_inspector'], float('nan')):.1%} (expert `{pl['expert_inspector']}`: {insp_pass.get(pl['expert_inspector'], float('nan')):.1%}) |",
        f"| strict inspector | `{pl['strict_inspector']}` | marks 15 % of true `yes` answers down | share of `yes` in calibration sessions: {insp_pass.get(pl['strict_inspector'], float('nan')):.1%} |",
        f"| least reliable item | `{pl['ambiguous_item']}` | every inspector records a random answer 35 % of the time (expert 12 %) | — (calibration statistics should rank it last) |",
        f"| calibration expert | `{pl['expert_inspector']}` (is_expert = true) | scores the truth with 1 % noise | sessions `CAL-<month>` in every month, 8 inbound calls scored by all {spec.inspectors} inspectors |",
        f"| team under the FCR target | team `{pl['low_fcr_team']}` | resolves at first contact with p = 0.90 (other teams 0.99; escalated calls 0.3) | FCR on contacts where known: " + ", ".join(f"{t} {r:.1%}" for t, r in fcr_by_team.items()) + " (target 95 %) |",
        f"| VOC topic surge | topic `{pl['surge_topic']}` in `{pl['surge_month']}` | share × 2.6 in that month | share of labelled verbatims: " + ", ".join(f"{k} {x:.1%}" for k, x in surge_share.items()) + " |",
        f"| new VOC topic nobody labelled | topic `{pl['new_topic']}` (phone app cannot connect to the car) in " + ", ".join(f"`{k}`" for k in pl["new_topic_shares"])
        + " | about " + ", ".join(f"{x:.1%}" for x in pl["new_topic_shares"].values()) + " of the month's verbatims; `category` always empty | verbatims: "
        + ", ".join(f"{k} {int(((vm == k) & v['text'].str.contains(new_marker)).sum())}" for k in pl["new_topic_shares"]) + " |",
        f"| new hires who improve | agents {', '.join(f'`{a}`' for a in pl['new_hires'])}, hired {pl['new_hire_date']} | fail rates × (1 + 2.5·e^(−tenure months/1.5)) | share of `yes` answers by month: " + ", ".join(f"{k} {x:.1%}" for k, x in nh_pass.items()) + " |",
        f"| late hire, little evidence | agent `{pl['late_hire']}`, hired {frames['agents'].set_index('agent_id').loc[pl['late_hire'], 'hire_date']} | exactly {pl['late_hire_evaluations']} random evaluations in `{pl['months'][-1]}` | evaluations stored: {late_n} |",
        f"| agent on leave | agent `{pl['agent_on_leave']}` (status `leave`) | no contacts in `{pl['leave_month']}` | contacts in that month: {int(((c['agent_id'] == pl['agent_on_leave']) & (m == pl['leave_month'])).sum())} |",
        *_coaching_rows(pl, frames),
        _lifecycle_row(pl, frames),
        _transcript_row(pl, frames),
        "",
        "## Other generated facts",
        "",
        f"- Contacts: {len(c):,} over {spec.months} months ({', '.join(pl['months'])}); daily volume follows the weekday "
        "(Mon ×1.2 … Sun ×0.65) and the hour (peaks 10:00 and 14:00–16:00); 82 % hotline (22 % of it outbound), "
        "13 % online, 5 % e-mail; 12 % of inbound hotline calls are non-regular; about 6 % of inbound hotline calls "
        "are abandoned in the queue (no agent) and 1.5 % while ringing at an agent.",
        "- Durations (seconds, lognormal): queue wait median 5 (e-mail first reply median 4 h), talk medians by type "
        "service 240 / consultation 200 / after-sales 330 / follow-up 150 (σ 0.15, so most follow-ups last 2–3 min), "
        "hold on 28 % of answered regular calls (median 40), after-call work median 30.",
        f"- Evaluations: {ev['evaluation_id'].nunique():,} ({(ev.drop_duplicates('evaluation_id')['arm'].value_counts().to_dict())}); "
        f"random arm {spec.random_evals_inbound} inbound + {spec.random_evals_outbound} outbound per agent and month; targeted arm "
        "one risky call (new hire, diamond customer, escalation, hold > 120 s) per agent and month; no inspector scores "
        "the team they came from (`home_team`).",
        f"- Transcripts: {int(c['transcript'].notna().sum()):,} contacts: every evaluated call, every answered regular hotline and "
        f"online contact with an agent in {', '.join(f'`{p}`' for p in pl['months'][-TRANSCRIPT_MONTHS:])} (all a sampling plan of "
        f"that month can draw but e-mails), {TRANSCRIPT_SHARE_BEFORE:.0%} of them before; zh, and en for the `en_line` queue. One turn "
        "a line, `[mm:ss] 坐席：…` / `[mm:ss] 客户：…` (`Agent: ` / `Customer: `), mm:ss the offset from the call start; the turns "
        f"fill {_FILLED:.0%} of `talk_seconds`, a hold is a silent gap of `hold_seconds` before the agent thanks the customer for holding. Each "
        "call's dialogue renders its true item outcomes (unevaluated calls: drawn like the evaluated ones, planted effects included); "
        "`info_logged` and `duration_ok` leave no trace in it. About 8 % of inbound transcripts and every identity check contain a "
        "customer phone number or e-mail (test material for masking).",
        f"- VOC: {len(v):,} verbatims ({(v['lang'] == 'zh').mean():.0%} Chinese), 70 % labelled with `category`, "
        "about 6 % containing a phone number and an e-mail; 40 % linked to a contact of the previous 7 days.",
        f"- Information checks: {len(frames['info_checks']):,} (10 per agent and month), error rate about 3 % varying by agent.",
        "",
    ]
    return "\n".join(lines)


def _lifecycle_row(pl: dict, frames: dict[str, pd.DataFrame]) -> str:
    """The PLANTED.md row for the evaluations' lifecycle, with the shares of each status measured per period."""
    ev = frames["evaluations"].drop_duplicates("evaluation_id")
    ev = ev[ev["arm"] != "calibration"].assign(status=lambda d: d["evaluation_id"].map(final_statuses(frames["evaluations"], frames["evaluation_history"])))
    month = pl["months"][-1]
    last = ev["contact_id"].map(frames["contacts"].set_index("contact_id")["start_time"]).dt.to_period("M").astype(str) == month
    waiting = last & ~ev["status"].isin(["released"])
    since = ev.loc[waiting, "evaluated_at"].min()[:10] if waiting.any() else "—"

    def shares(part: pd.DataFrame) -> str:
        counts = part["status"].value_counts()
        return ", ".join(f"`{k}` {v} ({v / len(part):.1%})" for k, v in counts.items())

    return (f"| evaluation lifecycle | every random and targeted evaluation, imported as `submitted` (or `draft`), then the actions of "
            f"`{HISTORY_FILE}`, each a version; calibration scorings stay `submitted` (the inspectors' own, never released) | released "
            f"each morning with the previous day's evaluations by `{pl['expert_inspector']}`; before `{month}` acknowledged by the agent "
            f"1–5 days later, except {LIFECYCLE['released']:.0%} not yet acknowledged and {LIFECYCLE['disputed_of_failed']:.0%} of those "
            f"with a failed, commented item disputed on it and resolved (upheld); in `{month}` those made from {since} on await release (`submitted`, about "
            f"{LIFECYCLE['awaiting_release']:.0%}), {LIFECYCLE['drafts_of_awaiting']:.0%} of them still drafts, never of a planted agent "
            f"| before `{month}`: {shares(ev[~last])}; `{month}`: {shares(ev[last])}. Agents' own pages show and score the released "
            "ones only; team pages count all but drafts |")


def _transcript_row(pl: dict, frames: dict[str, pd.DataFrame]) -> str:
    """The PLANTED.md row for the evaluated transcripts: how often a recorded answer differs from what the transcript shows."""
    ev = frames["evaluations"][["contact_id", "inspector_id", "item_id", "answer"]]
    shown = transcript_steps(frames["contacts"][frames["contacts"]["contact_id"].isin(ev["contact_id"])])
    m = ev.merge(shown, on=["contact_id", "item_id"], how="inner")
    m = m.assign(differs=(m["answer"].astype(object).fillna("") != m["shown"].astype(object).fillna("")).to_numpy())
    roles = {pl["expert_inspector"]: "expert", pl["lenient_inspector"]: "lenient", pl["strict_inspector"]: "strict"}
    role = m["inspector_id"].map(roles).fillna("others")
    clear = m["item_id"] != pl["ambiguous_item"]
    rates = m[clear].groupby(role[clear])["differs"].mean()
    weak = m[m["item_id"] == pl["weak_item"]]
    said_no = weak[weak["answer"] == "no"]
    done = said_no["shown"] == "yes"
    by = said_no.assign(done=done.to_numpy()).groupby(role[said_no.index])["done"].agg(["sum", "size"])
    pct = lambda v: f"{v:.1%}"  # noqa: E731
    return (f"| transcripts and inspector noise | every evaluated call: the scorecard steps its dialogue renders "
            f"({len(m):,} recorded answers of {m['contact_id'].nunique():,} calls) | the transcript shows what happened in the call "
            f"(the true outcome: a failed `{pl['weak_item']}` is skipped, a partial step half done); inspectors record it with the "
            f"planted noise above | recorded answer differs from the transcript: " + ", ".join(f"{r} {pct(rates.get(r, float('nan')))}"
                                                                                           for r in ("expert", "others", "lenient", "strict"))
            + f" of the answers on clear items, `{pl['ambiguous_item']}` {pct(m.loc[~clear, 'differs'].mean())}; of the "
            f"{len(said_no)} `no` recorded on `{pl['weak_item']}`, {int(done.sum())} ({pct(done.mean() if len(said_no) else float('nan'))}) are "
            f"calls whose transcript shows the check done (" + ", ".join(f"{r} {int(by.loc[r, 'sum'])} of {int(by.loc[r, 'size'])}"
                                                                        for r in ("strict", "others", "lenient", "expert") if r in by.index)
            + ") |")


def _coaching_rows(pl: dict, frames: dict[str, pd.DataFrame]) -> list[str]:
    """PLANTED.md rows for the coaching actions, measured with :func:`qa_lib.coaching.before_after` (random arm)."""
    from .coaching import before_after

    ev, c, ca = frames["evaluations"], frames["contacts"], frames["coaching"]
    answers = ev[["evaluation_id", "contact_id", "agent_id", "arm", "item_id", "answer"]].assign(
        handled_at=ev["contact_id"].map(c.set_index("contact_id")["start_time"]))
    ba = before_after(ca, answers)
    per, pooled = ba[ba["level"] == "action"].set_index("action_id"), ba[ba["level"] == "programme"].set_index("programme")
    pct = lambda v: "—" if v != v else f"{v:.1%}"  # noqa: E731

    def figures(r) -> str:
        return (f"pass rate on the coached items (random arm) 60 days before {pct(r['before_rate'])} (n = {r['before_n']}), "
                f"60 days from the re-check {pct(r['after_rate'])} (n = {r['after_n']}); difference {100 * r['diff']:+.1f} points "
                f"(95 % CI {100 * r['diff_low']:+.1f} to {100 * r['diff_high']:+.1f}): `{r['verdict']}`" if r["after_n"] and r["before_n"] else
                f"random-arm answers on the coached items: {r['before_n']} in the 60 days before, {r['after_n']} after the re-check date: `{r['verdict']}`")

    f = pl["coaching_factor"]
    nh = ca[ca["agent_id"].isin(pl["new_hires"])]
    rows = []
    if len(nh):
        prog = pooled.loc[per.loc[nh["action_id"], "programme"].iloc[0]]
        verdicts = per.loc[nh["action_id"], "verdict"].value_counts()
        rows.append(
            f"| coaching that works | actions {', '.join(f'`{a}`' for a in nh['action_id'])} (coach `{nh['coach'].iloc[0]}`) for the new hires, created {nh['created_on'].iloc[0]}, "
            f"status `done` | on `{nh['items'].iloc[0]}`: from the re-check date (created + {int(nh['recheck_after_days'].iloc[0])} days) the agent fails those items × {f:g} "
            f"(on top of the tenure effect) | pooled programme: {figures(prog)}; per action: "
            + ", ".join(f"{n} `{v}`" for v, n in verdicts.items()) + f"; the same agents' other items {pct(prog['others_before_rate'])} → {pct(prog['others_after_rate'])} |")
    for agent, item, what in ((pl["open_action_agent"], pl["open_action_item"], "open coaching action"),
                              (pl["overdue_action_agent"], pl["overdue_action_item"], "open coaching action, overdue")):
        r = ca[(ca["agent_id"] == agent) & (ca["items"] == item) & (ca["status"] == "open")]
        if r.empty:
            continue
        r = r.iloc[0]
        end = str(pd.Period(pl["months"][-1], freq="M").end_time.date())
        late = (pd.Timestamp(end) - pd.Timestamp(r["due_on"])).days
        state = f"overdue by {late} days on {end}" if late > 0 else f"not yet due on {end}"
        rows.append(
            f"| {what} | `{r['action_id']}`: agent `{agent}` on `{item}`, coach {r['coach']}, created {r['created_on']}, due {r['due_on']}, status `open` | "
            f"from the re-check date the agent fails `{item}` × {f:g}; {state}; the next plan for `{pl['months'][-1]}` re-checks it | {figures(per.loc[r['action_id']])} |")
    return rows


def write_samples(out_dir: str | Path, spec: SampleSpec = SampleSpec(), progress=None) -> list[Path]:
    """Generate and write the sample files and PLANTED.md into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = generate(spec, progress)
    paths = []
    for kind, name in SAMPLE_FILES:
        df = frames[kind]
        p = out / name
        if name.endswith(".parquet"):
            df.to_parquet(p, index=False, compression="zstd")
        else:
            # the VOC export is UTF-8 with BOM, as Excel writes it; the importer reads both
            df.to_csv(p, index=False, encoding="utf-8-sig" if kind == "voc" else "utf-8", lineterminator="\n")
        paths.append(p)
    frames["evaluation_history"].to_csv(out / HISTORY_FILE, index=False, encoding="utf-8", lineterminator="\n")
    paths.append(out / HISTORY_FILE)
    (out / "PLANTED.md").write_text(planted_markdown(spec, frames), encoding="utf-8")
    paths.append(out / "PLANTED.md")
    (out / "center.yaml").write_text(CENTER_YAML, encoding="utf-8")
    paths.append(out / "center.yaml")
    return paths


# ------------------------------------------------------------------ fresh draws (validity harness)
@dataclass(frozen=True)
class Effects:
    """Which planted effects a simulated center has (:func:`scoring_draw`). ``Effects()`` is the sample center's
    world; :data:`NULL_EFFECTS` a null center: every agent equally good, every inspector unbiased and every item as
    reliable as the others, so any agent, item, inspector or training flag in it is a false alarm.

    ``agent_spread``: SD of the agents' log failure factor (the sample center's 0.35; 0 = all equal).
    ``weak_agent``: the planted agent failing the weak item at :func:`planted`'s rate. ``new_hires``: new hires start
    weak and improve month by month (``_tenure_factor``). ``inspectors``: a lenient and a strict inspector.
    ``ambiguous_item``: one item scored inconsistently. ``coaching``: coached items fail half as often after re-check.
    """

    agent_spread: float = 0.35
    weak_agent: bool = True
    new_hires: bool = True
    inspectors: bool = True
    ambiguous_item: bool = True
    coaching: bool = True


NULL_EFFECTS = Effects(agent_spread=0.0, weak_agent=False, new_hires=False, inspectors=False, ambiguous_item=False, coaching=False)


def _switched(pl: dict, effects: Effects) -> dict:
    """The planted ids with the switched-off effects pointed at nobody."""
    pl = dict(pl)
    if not effects.weak_agent:
        pl["weak_agent"] = ""
    if not effects.new_hires:
        pl["new_hires"], pl["late_hire"] = [], ""  # tenure matters only for the agents the effect names: nobody
    if not effects.inspectors:
        pl["lenient_inspector"] = pl["strict_inspector"] = ""
    if not effects.ambiguous_item:
        pl["ambiguous_item"] = ""
    return pl


def scoring_draw(spec: SampleSpec = SampleSpec(), effects: Effects = Effects(), *, months: int = 3, calls: int | None = None,
                 seed: int = 0, scorecard: str = "inbound_service", every_agent: bool = False) -> dict[str, pd.DataFrame]:
    """A fresh random-arm sample of the center of ``spec``: ``calls`` inbound calls per agent in each of the last
    ``months`` months (default the spec's ``random_evals_inbound``), each scored on ``scorecard`` by one inspector not
    from the agent's team, through the generator's own truth model (agent skill, tenure, the weak agent, coaching) and
    inspector model (noise, leniency, strictness, the ambiguous item), with the effects ``effects`` switches on.

    The center (agents, their skill, inspectors) is the same for every ``seed``; the calls and their scoring are fresh.
    The late hire is scored only in the last month (the planted number of calls); the agent on leave not in it;
    ``every_agent=True`` gives every agent ``calls`` calls in every month (a truth run: many calls per agent).
    Returns ``evaluations`` (``evaluation_id, contact_id, agent_id, team, inspector_id, scorecard_id, month, arm,
    transferred, escalated``), ``answers`` (``evaluation_id, item_id, answer``) and ``agents`` (the roster).

    >>> d = scoring_draw(SampleSpec(), NULL_EFFECTS, months=1, calls=2, seed=1)
    >>> len(d["evaluations"]), sorted(d["answers"]["answer"].unique())[:3]
    (119, ['na', 'no', 'partial'])
    """
    spec.validate()
    calls = spec.random_evals_inbound if calls is None else calls
    if not isinstance(months, int) or not 1 <= months <= spec.months:
        raise ParameterError(f"months must be an integer from 1 to {spec.months}; got {months!r}")
    if not isinstance(calls, int) or calls < 1:
        raise ParameterError(f"calls must be a positive integer; got {calls!r}")
    pl = _switched(planted(spec), effects)
    cards = _load_cards()
    if scorecard not in cards:
        raise ParameterError(f"scorecard must be one of {sorted(cards)}; got {scorecard!r}")
    agents = _agents(spec, planted(spec))
    inspectors = _inspectors(spec, planted(spec))
    skill = _agent_skill(spec, agents) ** (effects.agent_spread / 0.35)
    coaching = _coaching(spec, planted(spec), agents) if effects.coaching else _coaching(spec, planted(spec), agents).iloc[:0]
    rng = np.random.default_rng([spec.seed, 99, seed])
    periods = spec.periods[-months:]
    ids, last = agents["agent_id"].to_numpy(), spec.periods[-1]
    per = np.array([[calls] * len(ids) for _ in periods])
    late = ids == planted(spec)["late_hire"]
    leave = ids == planted(spec)["agent_on_leave"]
    if not every_agent:
        per[:, late] = 0
        per[[k for k, p in enumerate(periods) if p == last], late] = planted(spec)["late_hire_evaluations"]
        per[[k for k, p in enumerate(periods) if p == last], leave] = 0
    month_idx, agent_idx = np.nonzero(per)
    reps = per[month_idx, agent_idx]
    m_i, a_i = np.repeat(month_idx, reps), np.repeat(agent_idx, reps)
    n = m_i.size
    starts = np.array([p.start_time for p in periods], dtype="datetime64[ns]")[m_i]
    days = np.array([p.days_in_month for p in periods])[m_i]
    hire = pd.to_datetime(agents["hire_date"]).to_numpy()[a_i]
    start_time = starts + (rng.random(n) * days * 86400).astype("timedelta64[s]")
    start_time = np.maximum(start_time, hire + np.timedelta64(1, "D"))  # the late hire: calls after the start day
    escalated = rng.random(n) < 0.06
    ev = pd.DataFrame({
        "contact_id": [f"S{i + 1:07d}" for i in range(n)], "agent_id": ids[a_i], "team": agents["team"].to_numpy()[a_i],
        "start_time": start_time, "direction": "inbound", "escalated": escalated, "transferred": ~escalated & (rng.random(n) < 0.05),
        "talk_seconds": 240.0, "month": np.array([str(p) for p in periods])[m_i],
    })
    hires = pd.Series(pd.to_datetime(agents["hire_date"]).to_numpy(), index=ids)
    truth = _true_answers(rng, cards, ev, pl, skill, hires, coaching)
    insp = inspectors["inspector_id"].to_numpy()
    allowed = inspectors["home_team"].to_numpy()[None, :] != ev["team"].to_numpy()[:, None]
    prob = allowed * np.where(insp == pl["expert_inspector"], 0.5, 1.0)[None, :]
    prob = prob / prob.sum(axis=1, keepdims=True)
    ev["inspector_id"] = insp[(rng.random(n)[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)]
    ev["evaluation_id"] = [f"SE{i + 1:07d}" for i in range(n)]
    ev["scorecard_id"], ev["arm"] = scorecard, "random"
    card = cards[scorecard]
    long = []
    for it in card.items:
        t = truth[it.id]
        a = _inspector_answers(rng, t, it.kind, ev["inspector_id"].to_numpy(), it.id, pl, it.max_count) if it.scored and not it.bonus else t
        long.append(pd.DataFrame({"evaluation_id": ev["evaluation_id"].to_numpy(), "item_id": it.id, "answer": a}))
    answers = pd.concat(long, ignore_index=True)
    answers = answers[answers["answer"].notna()].reset_index(drop=True)
    cols = ["evaluation_id", "contact_id", "agent_id", "team", "inspector_id", "scorecard_id", "month", "arm", "transferred", "escalated"]
    return {"evaluations": ev[cols], "answers": answers, "agents": agents}
