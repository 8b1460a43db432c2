"""One model of quality: agents, inspectors, items, tenure and months in one fit, rolled up to the scorecard's score.

Commercial tools average 3–10 scored calls and rank agents on it. Here every failed item answer (``no`` or ``partial``
on a yes/no item, each fault of a fault count, each step below the top of a scale) is a count in a multiplicative
Poisson model on aggregated cells (agent × item × inspector × month)::

    expected failures = answers × item rate (month) × tenure band × inspector severity × team × agent × agent-on-item

* **item × month** rates carry the time effect (a center-wide change from one month to the next);
* **tenure bands** (first, second, third month, 3–6 months, longer) carry the new hires' learning, so older months'
  evidence on a new hire is not read as this month's;
* **inspector severity** comes from the crossed design (every inspector scores agents of several teams; calibration
  sessions, where inspectors score the same calls, are evaluations too when passed in);
* the **team** factor is fixed; the **agent** factor is partially pooled (a t prior on its log, df 30), the
  **agent-on-item** factor within the item (a Cauchy prior): strength is borrowed only as far as the data show the
  agents alike (each prior's scale σ integrated over its grid posterior, :mod:`qa_lib.stats.pooling`), so an
  item-specific weakness stands out where the data support it;
* the last ``months`` months count, each weighted ``0.5 ** (age / half_life)``: recent months weigh more.

The agent's **score** is then what a random call of theirs this month would score with an average inspector, on the
scorecard's own rules (weights, N/A, critical items, bonus): calls are drawn from the fitted model and scored by
:func:`qa_lib.rubric.score`, once per agent, and re-weighted for each posterior draw (the likelihood ratio of the
draw's answer probabilities), so every posterior draw is a score on the scorecard's scale and the interval can never
leave it. From the draws: the estimate and its 95 % interval, P(below target), the rank with its interval, the verdict
with family-wise error control across the agents (Holm), and the calls still needed to decide.

Its coverage, error rates and power are measured by ``benchmarks/validity.py`` (``docs/validity.md``); its choice over
statsmodels' mixed models and its speed are in ``docs/model.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ParameterError, require_columns
from .rubric import Scorecard, normalize_answers, score
from .stats.fdr import q_values
from .stats.pooling import pooled_factors

__all__ = ["QualityFit", "fit_quality", "model_scores", "MODEL_MONTHS", "TENURE_BANDS", "holm_flags"]

#: Months of evidence the reports' model uses (the month and the two before it, recent ones weighing more).
MODEL_MONTHS = 3

#: Degrees of freedom of the t priors on the log factors: agents (moderate tails) and agent-on-item cells (Cauchy: one
#: agent failing one item far more often than the rest is the pattern a QA program exists to find).
AGENT_DF, ITEM_DF = 30.0, 1.0

#: Tenure bands in months since hire at mid-month (unknown hire dates count as the last band).
TENURE_BANDS = (0, 1, 2, 3, 6)
_BAND_NAMES = ["0-1", "1-2", "2-3", "3-6", "6+"]
_FAIL_ANSWERS = {"no", "partial"}


@dataclass
class QualityFit:
    """What :func:`fit_quality` found. ``agents``: one row per agent (score, interval, verdict, rank, calls to
    decide); ``items``: agent × item pass rates with intervals and verdicts; ``inspectors``: severity factors;
    ``components``: the fitted spread parameters and settings; ``draws``: agents × posterior draws of the score."""

    agents: pd.DataFrame
    items: pd.DataFrame
    inspectors: pd.DataFrame
    components: dict = field(default_factory=dict)
    draws: np.ndarray | None = None


def holm_flags(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down procedure: which of the hypotheses with p-values ``p`` are rejected, controlling the
    family-wise error rate at ``alpha`` (NaN never rejected).

    >>> holm_flags(np.array([0.01, 0.04, 0.03, 0.005])).tolist()  # 0.005·4, 0.01·3 ≤ .05; 0.03·2 > .05 stops
    [True, False, False, True]
    """
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    out = np.zeros(p.shape, bool)
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(p[idx], kind="stable")]
    m = order.size
    thresholds = alpha / (m - np.arange(m))
    passed = p[order] <= thresholds
    k = m if passed.all() else int(np.argmin(passed))
    out[order[:k]] = True
    return out


def _failure_counts(card: Scorecard, answers: pd.DataFrame) -> pd.DataFrame:
    """One row per counted answer of a scored, non-bonus item: ``fail`` (failures in the answer) and ``kind``."""
    items = [it for it in card.items if it.scored and not it.bonus]
    meta = pd.DataFrame({"item_id": [it.id for it in items], "kind": [it.kind for it in items],
                         "top": [it.scale[1] if it.kind == "scale" else 0.0 for it in items]})
    a = answers[answers["item_id"].isin(meta["item_id"])].merge(meta, on="item_id")
    canon = a["answer"].astype(str).str.strip().str.lower()
    binary = a["kind"].isin(["yes_no", "yes_partial_no"]).to_numpy()
    num = pd.to_numeric(canon, errors="coerce").to_numpy()
    fail = np.where(binary, np.where(canon.isin(["yes", *_FAIL_ANSWERS]), canon.isin(_FAIL_ANSWERS).astype(float), np.nan),
                    np.where(a["kind"].to_numpy() == "scale", a["top"].to_numpy() - num, num))
    return a.assign(fail=fail, answered=~np.isnan(fail))


def _bands(hire: pd.Series, month: pd.Series) -> np.ndarray:
    """Tenure band index of each row: months from hire to mid-month (unknown hire: the last band)."""
    mid = pd.PeriodIndex(month, freq="M").to_timestamp() + pd.Timedelta(days=14)
    months = (mid - pd.to_datetime(hire, errors="coerce")).dt.days.to_numpy(dtype=float) / 30.44 if hire is not None else np.full(len(month), np.nan)
    band = np.searchsorted(np.asarray(TENURE_BANDS, float), months, side="right") - 1
    return np.where(np.isfinite(months), np.clip(band, 0, len(TENURE_BANDS) - 1), len(TENURE_BANDS) - 1)


def _ratio(o: np.ndarray, e: np.ndarray, prior: float) -> np.ndarray:
    """(obs + k) / (E + k): a factor near 1 when little is expected (k pseudo-failures of prior at 1)."""
    return (o + prior) / (e + prior)


def fit_quality(evaluations: pd.DataFrame, answers: pd.DataFrame, card: Scorecard, *, month=None, target: float | None = None,
                item_target: float | None = None, months: int = 3, half_life: float = 1.0, n_draws: int = 400,
                calls: int | None = None, alpha: float = 0.05, random_state=0) -> QualityFit:
    """Fit the quality model to random-arm evaluations of one scorecard and estimate every agent's month.

    Parameters
    ----------
    evaluations : DataFrame
        ``evaluation_id, agent_id, team, inspector_id, month`` (a month string or Period), optionally ``hire_date``
        and ``total_score`` (the raw score shown beside the model's). Random arm only, each call once.
    answers : DataFrame
        ``evaluation_id, item_id, answer`` of those evaluations.
    card : Scorecard
        The scorecard the evaluations are scored on.
    month : the month to estimate (default the latest in ``evaluations``); ``months`` months up to it count.
    target, item_target : the score and the item pass rate an agent should reach (None: no verdict).
    half_life : months after which a month's evidence counts half.
    n_draws, calls : posterior draws, and calls simulated per agent to roll items up to the score (default: 1,000
        for up to 200 agents, fewer above, at least 250).
    alpha : the family-wise error rate of the agent verdicts (Holm) and the false discovery rate of the item verdicts
        (Benjamini–Hochberg).
    """
    require_columns(evaluations, ["evaluation_id", "agent_id", "team", "inspector_id", "month"], "evaluations")
    require_columns(answers, ["evaluation_id", "item_id", "answer"], "answers")
    if not isinstance(card, Scorecard):
        raise ParameterError(f"card must be a Scorecard; got {type(card).__name__}")
    if not isinstance(months, int) or not 1 <= months <= 12:
        raise ParameterError(f"months must be an integer from 1 to 12; got {months!r}")
    if not (isinstance(half_life, (int, float)) and half_life > 0):
        raise ParameterError(f"half_life must be a positive number of months; got {half_life!r}")
    if not 0 < alpha < 0.5:
        raise ParameterError(f"alpha must be between 0 and 0.5; got {alpha!r}")
    if evaluations["evaluation_id"].duplicated().any():
        raise ParameterError("evaluations must hold each evaluation once; got "
                             f"{evaluations.loc[evaluations['evaluation_id'].duplicated(), 'evaluation_id'].iloc[0]!r} twice")
    ev = evaluations.assign(month=pd.PeriodIndex(evaluations["month"].astype(str), freq="M"))
    last = ev["month"].max() if month is None else pd.Period(str(month), freq="M")
    ev = ev[(ev["month"] <= last) & (ev["month"] > last - months)].reset_index(drop=True)
    if ev["agent_id"].nunique() < 3:
        raise ParameterError(f"the model needs evaluations of at least 3 agents in the {months} months to {last}; got {ev['agent_id'].nunique()}")
    rng = np.random.default_rng(random_state)
    a = answers[answers["evaluation_id"].isin(ev["evaluation_id"])]
    a = a.assign(answer=normalize_answers(card, a.reset_index(drop=True)).to_numpy())
    f = _failure_counts(card, a).merge(ev[["evaluation_id", "agent_id", "team", "inspector_id", "month"]], on="evaluation_id")
    counted = f[f["answered"]]
    if counted.empty:
        raise ParameterError(f"no counted answers of scorecard {card.id!r} in the {months} months to {last}")

    m = _Model(ev, counted, card, last, half_life)
    m.backfit()
    p_fail, agent_post, item_post = m.draw_rates(n_draws, rng)
    agents_tab = _agent_table(ev, m.agents, m.team_of, last, half_life)
    items_tab = _item_table(counted, m.agents, m.items, m.kinds, p_fail, last, item_target, alpha)
    ins = pd.DataFrame({"inspector_id": m.inspectors, "answers": m.sums(m.qi, m.N, len(m.inspectors)).astype(int), "severity": m.sev})
    scores = _score_draws(card, f, m.agents, m.items, m.kinds, p_fail, rng, calls)
    agents_tab = _verdicts(agents_tab, scores, target, alpha, w_calls=agents_tab["n_weighted"].to_numpy())
    components = {"month": str(last), "months": months, "half_life": half_life, "agent_scale": agent_post.scale,
                  "item_scales": {k: p.scale for k, p in zip(m.items, item_post)}, "tenure_factors": dict(zip(_BAND_NAMES, m.tenure)),
                  "team_factors": dict(zip(m.teams, m.team_f)), "n_draws": n_draws}
    return QualityFit(agents=agents_tab, items=items_tab, inspectors=ins, components=components, draws=scores)


class _Model:
    """The multiplicative model on aggregated cells (agent × item × inspector × month): its data, factors and fit."""

    def __init__(self, ev: pd.DataFrame, counted: pd.DataFrame, card: Scorecard, last: pd.Period, half_life: float) -> None:
        self.team_of = ev.drop_duplicates("agent_id").set_index("agent_id")["team"].astype(str)
        self.hire = ev.drop_duplicates("agent_id").set_index("agent_id")["hire_date"] if "hire_date" in ev.columns else None
        cell = counted.groupby(["agent_id", "item_id", "inspector_id", "month"], observed=True).agg(obs=("fail", "sum"), N=("fail", "size")).reset_index()
        self.bi = _bands(self.hire.reindex(cell["agent_id"]).reset_index(drop=True) if self.hire is not None else None, cell["month"])
        cell["team"] = self.team_of.reindex(cell["agent_id"]).to_numpy()
        codes = {k: pd.factorize(cell[k], sort=True) for k in ("agent_id", "item_id", "inspector_id", "month", "team")}
        self.ai, self.ii, self.qi, self.mi, self.ti = (codes[k][0] for k in ("agent_id", "item_id", "inspector_id", "month", "team"))
        self.agents, self.items, self.inspectors, self.months, self.teams = (codes[k][1] for k in ("agent_id", "item_id", "inspector_id", "month", "team"))
        self.obs, self.N = cell["obs"].to_numpy(float), cell["N"].to_numpy(float)
        self.A, self.n_items, self.M = len(self.agents), len(self.items), len(self.months)
        self.B = len(TENURE_BANDS)
        self.last = last
        self.w = (0.5 ** (np.array([(last - p).n for p in self.months], float) / half_life))[self.mi]
        self.ai_idx = self.ai * self.n_items + self.ii
        self.kinds = pd.Series({it.id: it.kind for it in card.items}).reindex(self.items).to_numpy()
        self.binary = np.isin(self.kinds, ["yes_no", "yes_partial_no"])
        base_i = self.sums(self.ii, self.obs, self.n_items) / np.maximum(self.sums(self.ii, self.N, self.n_items), 1)
        self.base = np.tile(np.maximum(base_i, 1e-4)[:, None], (1, self.M))
        self.tenure, self.sev, self.team_f = np.ones(self.B), np.ones(len(self.inspectors)), np.ones(len(self.teams))
        self.theta, self.phi = np.ones(self.A), np.ones(self.A * self.n_items)

    @staticmethod
    def sums(idx, values, size):
        return np.bincount(idx, weights=values, minlength=size)

    def expected(self, skip=()) -> np.ndarray:
        """Expected failures of each cell from every factor but those in ``skip``."""
        parts = {"base": self.base[self.ii, self.mi], "tenure": self.tenure[self.bi], "sev": self.sev[self.qi], "team": self.team_f[self.ti],
                 "theta": self.theta[self.ai], "phi": self.phi[self.ai_idx]}
        out = self.N.copy()
        for k, v in parts.items():
            if k not in skip:
                out *= v
        return out

    def agent_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Each agent's effective failures and expectation (all items), before the agent's own factors."""
        e, ai, A = self.expected(("theta", "phi")), self.ai, self.A
        return _effective(self.sums(ai, self.w * self.obs, A), self.sums(ai, self.w * e, A), self.sums(ai, self.w * self.w * e, A))

    def item_posteriors(self) -> list:
        Oai, Eai, Nai = _cells(self.obs, self.N, self.expected(("phi",)), self.w, self.ai_idx, self.A, self.n_items)
        return [_item_factors(Oai, Eai, Nai, k, self.binary) for k in range(self.n_items)]

    def backfit(self, rounds: int = 12) -> None:
        """Each factor in turn given the others (a few rounds settle them): item × month, tenure, inspector, team — the
        centre-level ones, lightly pooled toward 1 — then the agents' main effects, then agent-on-item effects."""
        s, obs, M, n_items = self.sums, self.obs, self.M, self.n_items
        cell_im = self.ii * M + self.mi
        for _ in range(rounds):
            e = self.expected(("base",))
            Oim, Eim = s(cell_im, obs, n_items * M).reshape(n_items, M), s(cell_im, e, n_items * M).reshape(n_items, M)
            pooled = (Oim.sum(1) + 0.5) / np.maximum(Eim.sum(1), 1e-9)
            base = (Oim + 5 * pooled[:, None] * np.minimum(Eim, 1)) / np.maximum(Eim + 5 * np.minimum(Eim, 1), 1e-9)  # months pooled toward the item
            self.base = np.where(Eim > 0, base, pooled[:, None])
            tenure = _ratio(s(self.bi, obs, self.B), s(self.bi, self.expected(("tenure",)), self.B), 2.0)
            self.tenure = tenure / tenure[-1]
            sev = _ratio(s(self.qi, obs, len(self.sev)), s(self.qi, self.expected(("sev",)), len(self.sev)), 10.0)
            self.sev = sev / (np.sum(sev[self.qi] * self.N) / self.N.sum())  # the average inspector (as often as each scores) is 1
            self.team_f = _ratio(s(self.ti, obs, len(self.team_f)), s(self.ti, self.expected(("team",)), len(self.team_f)), 2.0)
            self.theta = pooled_factors(*self.agent_counts(), df=AGENT_DF).mean  # the main effect first
            self.phi = np.column_stack([p.mean for p in self.item_posteriors()]).ravel()

    def draw_rates(self, n_draws: int, rng: np.random.Generator):
        """Posterior draws (draws × agents × items) of each agent's failure rates this month with an average inspector;
        the centre-level factors drawn with their own uncertainty (Gamma, the failures behind each as its shape)."""
        s, obs, M, n_items, A, B = self.sums, self.obs, self.M, self.n_items, self.A, self.B
        cur_band = _bands(self.hire.reindex(self.agents).reset_index(drop=True) if self.hire is not None else None, pd.Series([str(self.last)] * A))
        m_last = int(np.flatnonzero(self.months == self.last)[0]) if self.last in set(self.months) else M - 1
        team_a = pd.Series(self.ti, index=self.ai).groupby(level=0).first().reindex(range(A)).to_numpy()
        o_last = s(self.ii * M + self.mi, obs, n_items * M).reshape(n_items, M)[:, m_last] + 1.0
        base_d = self.base[None, :, m_last] * rng.gamma(o_last, 1 / o_last, size=(n_draws, n_items))
        o_band = s(self.bi, obs, B) + 2.0
        ten_d = self.tenure[None, :] * np.where(np.arange(B) == B - 1, 1.0, rng.gamma(o_band, 1 / o_band, size=(n_draws, B)))
        o_team = s(self.ti, obs, len(self.team_f)) + 2.0
        team_d = self.team_f[None, :] * rng.gamma(o_team, 1 / o_team, size=(n_draws, len(self.team_f)))
        mean_rate = base_d[:, None, :] * ten_d[:, cur_band][:, :, None] * team_d[:, team_a][:, :, None]
        agent_post = pooled_factors(*self.agent_counts(), df=AGENT_DF)
        item_post = self.item_posteriors()
        ph = np.stack([p.draw(n_draws, rng) for p in item_post], axis=2)
        rates = mean_rate * agent_post.draw(n_draws, rng)[:, :, None] * ph
        return np.where(self.binary[None, None, :], np.minimum(rates, 0.995), rates), agent_post, item_post


def _cells(obs, N, e, w, ai_idx, A, n_items):
    """Agent × item effective failures, expectations and answers (A × n_items each)."""
    size = A * n_items
    o_w, e_w, e_ww = (np.bincount(ai_idx, weights=v, minlength=size) for v in (w * obs, w * e, w * w * e))
    c = _noise_scale(e_w, e_ww)
    n_w = np.bincount(ai_idx, weights=w * N, minlength=size)
    return (o_w * c).reshape(A, n_items), (e_w * c).reshape(A, n_items), (n_w * c).reshape(A, n_items)


def _item_factors(Oai, Eai, Nai, k: int, binary) -> object:
    """The agent-on-item factors of item ``k``: binomial for yes/no items, Poisson for counts."""
    return pooled_factors(Oai[:, k], Eai[:, k], trials=Nai[:, k] if binary[k] else None, df=ITEM_DF)


def _effective(o_w: np.ndarray, e_w: np.ndarray, e_ww: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recency-weighted counts as Poisson counts with the right noise: a weighted sum Σ w·obs has mean Σ w·E but variance
    Σ w²·E, so both are scaled by :func:`_noise_scale` (the effective number of failures behind them)."""
    c = _noise_scale(e_w, e_ww)
    return o_w * c, e_w * c


def _noise_scale(e_w: np.ndarray, e_ww: np.ndarray) -> np.ndarray:
    """Σ w·E / Σ w²·E: what makes a recency-weighted count as noisy as a Poisson count (1 where nothing is expected)."""
    return np.where(e_ww > 0, e_w / np.where(e_ww > 0, e_ww, 1.0), 1.0)


def _agent_table(ev, agents_c, team_of, last, half_life: float) -> pd.DataFrame:
    """Per agent: calls this month and in the window (weighted), the raw mean score this month."""
    this = ev[ev["month"] == last]
    n_month = this.groupby("agent_id").size().reindex(agents_c, fill_value=0).to_numpy()
    n_win = ev.groupby("agent_id").size().reindex(agents_c, fill_value=0).to_numpy()
    mw = ev.assign(w=0.5 ** ((last - ev["month"]).map(lambda d: d.n).astype(float) / half_life)).groupby("agent_id")["w"].sum().reindex(agents_c).to_numpy()
    raw = this.groupby("agent_id")["total_score"].mean().reindex(agents_c).to_numpy() if "total_score" in ev.columns else np.full(len(agents_c), np.nan)
    return pd.DataFrame({"agent_id": agents_c, "team": team_of.reindex(agents_c).to_numpy(), "n": n_month, "n_window": n_win,
                         "n_weighted": mw, "mean": raw})


def _item_table(counted, agents_c, items_c, kinds, p_fail, last, item_target, alpha) -> pd.DataFrame:
    """Agent × item (yes/no kinds): pass rate this month, the model's pass rate with its interval, and the verdict.

    The verdict is a test, not the model: an exact one-sided binomial test of the window's answers (every month the
    model uses, unweighted: ``fails_window`` of ``n_window``) against the item target, and Benjamini–Hochberg across
    every agent × item cell of the scorecard (``q``), so at most ``alpha`` of the ``missed`` flags are expected to be
    false alarms. (The model's pooled prior, built to shrink, is too cautious for a single weak cell.)"""
    binary = np.isin(kinds, ["yes_no", "yes_partial_no"])
    D, A, n_items = p_fail.shape
    this = counted[counted["month"] == last]
    g = this.groupby(["agent_id", "item_id"])["fail"].agg(fails="sum", n="size")
    idx = pd.MultiIndex.from_product([agents_c, items_c], names=["agent_id", "item_id"])
    g = g.reindex(idx, fill_value=0).reset_index()
    passed = 1 - p_fail.reshape(D, A * n_items)
    out = g.assign(passes=g["n"] - g["fails"], rate=np.where(g["n"] > 0, 1 - g["fails"] / g["n"].clip(lower=1), np.nan),
                   estimate=passed.mean(0), low=np.quantile(passed, 0.025, axis=0), high=np.quantile(passed, 0.975, axis=0))
    keep = np.tile(binary, A)
    out = out[keep].reset_index(drop=True)
    if item_target is None:
        out["p_below_target"], out["status"] = np.nan, "no target"
        return out
    win = counted.groupby(["agent_id", "item_id"])["fail"].agg(fails_window="sum", n_window="size").reindex(idx, fill_value=0)
    win = win.reset_index()[keep].reset_index(drop=True)
    k, n = win["fails_window"].to_numpy(float), win["n_window"].to_numpy(float)
    fail_target = 1 - item_target
    p_missed = np.where(n > 0, stats.binom.sf(k - 1, n, fail_target), np.nan)
    p_met = np.where(n > 0, stats.binom.cdf(k, n, fail_target), np.nan)
    out["p_below_target"] = (passed[:, keep] < item_target).mean(0)
    out["fails_window"], out["n_window"] = k, n.astype(int)
    out["p_value"], out["q"] = p_missed, q_values(p_missed)
    out["status"] = np.where(out["q"] <= alpha, "missed", np.where(q_values(p_met) <= alpha, "met", "not enough evidence"))
    return out


def _score_draws(card: Scorecard, f: pd.DataFrame, agents_c, items_c, kinds, p_fail, rng, calls) -> np.ndarray:
    """Each agent's expected score under each posterior draw (draws × agents), by simulated calls scored on the card.

    Calls are simulated once per agent at the posterior-mean failure rates and scored by :func:`qa_lib.rubric.score`;
    for each draw they are re-weighted by the likelihood ratio of the draw's answer probabilities to the simulated
    ones (self-normalised importance weights), so every draw's value is a score under the card's own rules.

    A few hundred simulated calls leave a Monte Carlo error of about a point in each agent's score (a wrong answer on a
    critical item zeroes a call), the same for every draw, so it would shift the whole interval. Control variates remove
    most of it: the call's failures per item (and its ``no`` answers) have known expectations under every draw, so the
    score's regression on them (per agent) is subtracted from each call and added back at its exact expectation."""
    D, A, n_items = p_fail.shape
    C = calls or int(np.clip(150_000 // max(A, 1), 200, 600))
    p_hat = p_fail.mean(0)  # A × n_items
    items = [card.item(i) for i in items_c]
    # N/A and partial shares per item, from the answers of the window (a property of the calls and the card)
    na_share = f.groupby("item_id")["answered"].apply(lambda s: 1 - s.mean()).reindex(items_c).fillna(0).to_numpy()
    fails = f[f["answered"] & (f["fail"] > 0)]
    # of a failed yes/partial/no answer, the share that is "no" (what a critical item zeroes on): the agent's own, pooled
    # toward the item's with the weight of 5 failures
    fails = fails.assign(no=(fails["answer"] == "no").astype(float))
    item_no = fails.groupby("item_id")["no"].mean().reindex(items_c).fillna(0.4).to_numpy()
    own = fails.groupby(["agent_id", "item_id"])["no"].agg(["sum", "size"]).reindex(pd.MultiIndex.from_product([agents_c, items_c]), fill_value=0)
    no_share = ((own["sum"].to_numpy() + 5 * np.tile(item_no, len(agents_c))) / (own["size"].to_numpy() + 5)).reshape(len(agents_c), -1)
    u = rng.random((A, C, n_items))
    na = rng.random((A, C, n_items)) < na_share[None, None, :]
    binary = np.isin(kinds, ["yes_no", "yes_partial_no"])
    fail = u < p_hat[:, None, :]
    counts = rng.poisson(np.repeat(p_hat[:, None, :], C, 1))
    answers = np.empty((A, C, n_items), dtype=object)
    for k, it in enumerate(items):
        if binary[k]:
            partial = (it.kind == "yes_partial_no") & (rng.random((A, C)) >= no_share[:, k][:, None])
            answers[:, :, k] = np.where(fail[:, :, k], np.where(partial, "partial", "no"), "yes")
        elif it.kind == "scale":
            lo, hi = it.scale
            answers[:, :, k] = (hi - np.minimum(counts[:, :, k], hi - lo)).astype(int).astype(str) if float(lo).is_integer() else (hi - np.minimum(counts[:, :, k], hi - lo)).astype(str)
        else:
            answers[:, :, k] = np.minimum(counts[:, :, k], it.max_count).astype(str)
    answers = np.where(na, "na", answers)
    eval_ids = np.arange(A * C)
    long = pd.DataFrame({"evaluation_id": np.repeat(eval_ids, n_items), "item_id": np.tile(np.asarray(items_c, dtype=object), A * C),
                         "answer": answers.reshape(-1)})
    totals = score(card, long).totals.set_index("evaluation_id")["total"].reindex(eval_ids).to_numpy().reshape(A, C)
    totals = np.nan_to_num(totals, nan=np.nanmean(totals))
    # likelihood ratio of each call's answers under each draw versus the simulation (N/A answers: ratio 1)
    live = ~na
    bin3 = binary[None, None, :]
    # per call: failed binary items or fault counts, and counted items (A × C × 2I); float32 is ample for weights
    X = np.concatenate([np.where(bin3, fail, counts) * live, live], axis=2).astype(np.float32)
    # control variates (A × C × F): failed answers per item, and "no" answers on yes/partial/no items; their expectation
    # under draw d is (1 − N/A share) × rate (× the "no" share)
    ypn = np.asarray([it.kind == "yes_partial_no" for it in items])
    no_ans = (answers == "no") & live & ypn[None, None, :]
    Z = np.concatenate([np.where(bin3, fail, counts) * live, no_ans[:, :, ypn]], axis=2).astype(float)
    Zc = Z - Z.mean(axis=1, keepdims=True)
    tc = totals - totals.mean(axis=1, keepdims=True)
    F = Z.shape[2]
    beta = np.linalg.solve(np.einsum("acf,acg->afg", Zc, Zc) + 1e-6 * np.eye(F)[None], np.einsum("acf,ac->af", Zc, tc)[:, :, None])[:, :, 0]
    totals = totals - np.einsum("acf,af->ac", Z, beta)
    live_share = 1 - na_share
    mu_scale = np.concatenate([np.tile(live_share, (A, 1)), (live_share[ypn][None, :] * no_share[:, ypn])], axis=1)  # A × F
    ph = np.clip(p_hat, 1e-9, None)
    out = np.empty((D, A))
    for s in range(0, A, 64):
        sl = slice(s, min(s + 64, A))
        pd_ = np.clip(p_fail[:, sl, :], 1e-9, None)  # D × a × n_items
        lf = np.log(pd_ / ph[None, sl, :])
        lp = np.log(np.clip(1 - pd_, 1e-9, None) / np.clip(1 - ph[None, sl, :], 1e-9, None))
        # binary: fail·log(p/p̂) + (1 − fail)·log((1−p)/(1−p̂)); counts: k·log(λ/λ̂) − (λ − λ̂)
        coef = np.concatenate([np.where(bin3, lf - lp, lf), np.where(bin3, lp, -(pd_ - ph[None, sl, :]))], axis=2).astype(np.float32)
        llr = np.matmul(coef.transpose(1, 0, 2), X[sl].transpose(0, 2, 1))  # a × D × C
        llr -= llr.max(axis=2, keepdims=True)
        wts = np.exp(llr)
        out[:, sl] = (np.matmul(wts, totals[sl][:, :, None].astype(np.float32))[:, :, 0] / wts.sum(axis=2)).T
    rate_f = np.concatenate([p_fail, p_fail[:, :, ypn]], axis=2)  # D × A × F
    return out + np.einsum("daf,af->da", rate_f * mu_scale[None], beta)


def _verdicts(t: pd.DataFrame, draws: np.ndarray, target: float | None, alpha: float, *, w_calls: np.ndarray) -> pd.DataFrame:
    """Estimate, interval, P(below target), family-wise verdict, rank with interval and calls to decide, from the draws."""
    t = t.copy()
    t["estimate"] = draws.mean(0)
    t["sd"] = draws.std(0)
    t["low"], t["high"] = np.quantile(draws, 0.025, axis=0), np.quantile(draws, 0.975, axis=0)
    ranks = (-draws).argsort(axis=1).argsort(axis=1) + 1
    t["rank"] = np.median(ranks, axis=0).round().astype(int)
    t["rank_low"] = np.floor(np.quantile(ranks, 0.025, axis=0)).astype(int)
    t["rank_high"] = np.ceil(np.quantile(ranks, 0.975, axis=0)).astype(int)
    if target is None:
        t["p_below_target"], t["status"], t["n_to_decide"] = np.nan, "no target", np.nan
        return t.drop(columns=["n_weighted"]).sort_values(["rank", "estimate"], ascending=[True, False], ignore_index=True)
    below = (draws < target).mean(0)
    t["p_below_target"] = below
    missed = holm_flags(1 - below, alpha)
    met = holm_flags(below, alpha)
    t["status"] = np.where(missed, "missed", np.where(met, "met", "not enough evidence"))
    # calls to decide: the posterior SD shrinks like 1/√(calls); the family-wise z the verdict needs at this gap
    z = _holm_z(len(t), alpha)
    gap = np.abs(t["estimate"] - target).to_numpy()
    need = w_calls * ((z * t["sd"].to_numpy() / np.maximum(gap, 1e-9)) ** 2 - 1)
    undecided = t["status"].to_numpy() == "not enough evidence"
    t["n_to_decide"] = np.where(undecided, np.where(need > 200, np.inf, np.ceil(np.maximum(need, 1))), 0)
    return t.drop(columns=["n_weighted"]).sort_values(["rank", "estimate"], ascending=[True, False], ignore_index=True)


def _holm_z(m: int, alpha: float) -> float:
    return float(stats.norm.isf(alpha / max(m, 1)))


def model_scores(evaluations: pd.DataFrame, answers: pd.DataFrame, card: Scorecard, *, month, target: float | None,
                 item_target: float | None, months: int = MODEL_MONTHS, random_state=0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The report tables of :func:`fit_quality` for the agents scored in ``month``: scores (``agent_id, team, n,
    mean`` — this month's calls and their plain mean — ``low, high, shrunk, shrunk_sd`` — the model's interval and
    estimate — ``p_below_target, status, n_to_decide, rank, rank_low, rank_high, n_window, months``) and agent × item
    pass rates (``item_id, agent_id, passes, n, rate, low, high, shrunk, status``: the model's for yes/no items)."""
    fit = fit_quality(evaluations, answers, card, month=month, target=target, item_target=item_target, months=months,
                      n_draws=300, random_state=random_state)
    a = fit.agents[fit.agents["n"] > 0].rename(columns={"estimate": "shrunk", "sd": "shrunk_sd"}).assign(months=months)
    cols = ["agent_id", "team", "n", "mean", "low", "high", "shrunk", "shrunk_sd", "p_below_target", "status", "n_to_decide",
            "rank", "rank_low", "rank_high", "n_window", "months"]
    it = fit.items[fit.items["agent_id"].isin(a["agent_id"]) & (fit.items["n"] > 0)].rename(columns={"estimate": "shrunk"})
    it = it.astype({"passes": int, "n": int})  # counts of answers (the model's sums are floats)
    return a[cols].reset_index(drop=True), it[["item_id", "agent_id", "passes", "n", "rate", "low", "high", "shrunk", "status"]].reset_index(drop=True)
