"""Auto-QA over a center's calls: rules and the learned scorer on every transcript, the acceptance gate, drift, and the
prediction-powered estimates that combine the automatic answers of all calls with the human random arm.

Functions take the store as an argument (the methods of :class:`qa_lib.store.Store`) — like
:func:`qa_lib.voc.prepare_voc` — so this module stays in the domain layer and never imports the database.

What each automatic answer may do (docs/autoqa.md):

* every automatic answer is a **suggestion** to inspectors and may pick calls for the **targeted** arm;
* an item is **accepted** by :func:`qa_lib.autoqa.gate.gate` only; even then automatic answers never replace the human
  random arm: they enter estimates through :func:`prediction_powered`, corrected by the random arm;
* the **prediction-powered** (PPI++) estimates are valid whatever the scorer's quality — a poor scorer only leaves the
  interval as wide as the human-only one — so they use every automatic answer, accepted or not.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import NotFoundError, ParameterError
from ..rubric import Scorecard, score
from .gate import gate
from .rules import auto_answers as rule_answers
from .rules import compile_rules

__all__ = ["RunSummary", "run_month", "human_answers", "calibration_scorings", "validate", "drift_check", "prepare_autoqa", "autoqa_prepared", "headline_card",
           "auto_scores", "prediction_powered", "train", "latest_scorer", "held_out_where_trained", "GATED_KINDS"]

#: The item kinds auto-QA answers (scales and fault counts are left to inspectors).
GATED_KINDS = ("yes_no", "yes_partial_no")


@dataclass(frozen=True)
class RunSummary:
    """What :func:`run_month` did: contacts read, answers stored per source, seconds."""

    scorecard_id: str
    month: str
    contacts: int
    rule_answers: int
    model_answers: int
    seconds: float

    def line(self) -> str:
        rate = self.contacts / self.seconds if self.seconds > 0 else float("nan")
        return (f"{self.scorecard_id} {self.month}: {self.contacts:,} transcripts, {self.rule_answers:,} rule answers, "
                f"{self.model_answers:,} scorer answers in {self.seconds:.1f} s ({rate:,.0f} a second)")


def _has_rules(card: Scorecard) -> bool:
    return any(getattr(it, "auto", None) for it in card.items)


def run_month(store, card: Scorecard, month, *, scorer=None, chunk: int = 20_000) -> RunSummary:
    """Answer every transcript of ``month`` that ``card`` applies to with the card's rules and, when given, the learned
    ``scorer`` (a :class:`qa_lib.autoqa.scorer.ScorerBundle`), ``chunk`` contacts at a time; store the answers
    (re-running replaces them)."""
    p = pd.Period(month, freq="M")
    rules = compile_rules(card) if _has_rules(card) else None
    if rules is None and scorer is None:
        raise ParameterError(f"scorecard {card.id!r} declares no rules (`auto:` on its items) and no scorer was given: "
                             f"add rules, or train one with `qa autoqa train --scorecard {card.id}`")
    t0 = time.perf_counter()
    n = n_rule = n_model = 0
    for df in store.transcript_contacts(p, chunk=chunk):
        df = df[card.applies(df)].reset_index(drop=True)
        if df.empty:
            continue
        n += len(df)
        parts = []
        if rules is not None:
            r = rule_answers(rules, df, chunk_size=chunk)
            n_rule += int(r["answer"].notna().sum())
            parts.append(r)
        if scorer is not None:
            m = held_out_where_trained(scorer, scorer.predict(df.set_index("contact_id")["transcript"]))
            n_model += int(m["answer"].notna().sum())
            parts.append(m)
        store.save_auto_answers(pd.concat(parts, ignore_index=True), scorecard_id=card.id)
    return RunSummary(card.id, str(p), n, n_rule, n_model, time.perf_counter() - t0)


def held_out_where_trained(scorer, answers: pd.DataFrame) -> pd.DataFrame:
    """``answers`` of the learned scorer with, on every call it was trained on, its cross-validated (out-of-fold) answer
    instead: a model answering its own training calls has seen their human answers, and the drift check and the
    prediction-powered estimates, which compare automatic with human answers on exactly those calls (the random arm),
    would then find agreement that is not there (a perfect 1.00, a bias correction of zero). Cross-fitting: held-out
    answers where a human answered, the model fitted on all of them elsewhere."""
    cvp = getattr(scorer, "cv_predictions", None)
    if cvp is None or cvp.empty or answers.empty:
        return answers
    oof = cvp.drop_duplicates(["contact_id", "item_id"]).set_index(["contact_id", "item_id"])
    key = pd.MultiIndex.from_frame(answers[["contact_id", "item_id"]].astype(str))
    hit = key.isin(oof.index)
    if not hit.any():
        return answers
    out = answers.copy()
    got = oof.reindex(key[hit])
    out.loc[hit, "answer"] = got["answer"].astype(object).where(got["answer"].notna(), None).to_numpy()
    out.loc[hit, "probability"] = got["probability"].astype(float).to_numpy()
    return out


def human_answers(store, card: Scorecard, month=None, *, arms: tuple[str, ...] = ("random",)) -> pd.DataFrame:
    """The counted human answers of ``card`` (``arms``; calibration scorings never), one row per contact × item:
    ``contact_id, item_id, answer, inspector_id, agent_id, arm``. A contact scored twice in the arm keeps its first
    evaluation (the second inspector of a double-scored call is calibration material, not a second vote)."""
    try:
        head, answers, _ = store.scored_evaluations(card.id, month=month, arms=arms)
    except NotFoundError:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ("contact_id", "item_id", "answer", "inspector_id", "agent_id", "arm", "month")})
    head = head[head["calibration_session_id"].isna()] if "calibration_session_id" in head.columns else head
    head = head.sort_values(["contact_id", "evaluated_at", "evaluation_id"]).drop_duplicates("contact_id")
    kinds = {it.id for it in card.items if it.kind in GATED_KINDS}
    out = answers[answers["item_id"].isin(kinds)].merge(head[["evaluation_id", "contact_id", "inspector_id", "agent_id", "arm", "evaluated_at"]],
                                                        on="evaluation_id")
    return out[["contact_id", "item_id", "answer", "inspector_id", "agent_id", "arm"]].reset_index(drop=True)


def calibration_scorings(store, card: Scorecard) -> pd.DataFrame:
    """Every calibration scoring of ``card``'s items: ``contact_id, item_id, answer, inspector_id`` (the gate's inspector
    benchmark)."""
    ev, items, _ = store.calibration_data()
    cols = ["contact_id", "item_id", "answer", "inspector_id"]
    if ev.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    ev = ev[ev["scorecard_id"] == card.id]
    return items.merge(ev[["evaluation_id", "contact_id", "inspector_id"]], on="evaluation_id")[cols].reset_index(drop=True)


def validate(store, card: Scorecard, *, scorer=None, margin: float = 0.10, n_boot: int = 2000, seed: int = 0, save: bool = True) -> pd.DataFrame:
    """Run the acceptance gate (:func:`qa_lib.autoqa.gate.gate`) for ``card``'s rules (their stored answers on the
    human random arm's calls) and, when given, the learned ``scorer`` (its cross-validated, held-out answers on the same
    calls); store the decisions (``save``). Returns the gate's table, both sources stacked, with the confusion counts
    in ``attrs["confusion"]``."""
    human = human_answers(store, card)
    if human.empty:
        raise NotFoundError(f"no human random-arm answers of scorecard {card.id!r}: the gate compares automatic answers with them")
    cal = calibration_scorings(store, card)
    human = human[~human["contact_id"].isin(set(cal["contact_id"]))]  # held-out and calibration calls must differ (independent bootstraps)
    parts, conf = [], []
    auto = store.auto_answers(scorecard_id=card.id, contact_ids=human["contact_id"].unique())
    rules = auto[auto["source"] == "rule"]
    current = rules[rules["version"] == f"{card.id}.v{card.version}"]
    rules = current if len(current) else rules[rules["version"] == rules["version"].max()] if len(rules) else rules
    if len(rules):
        g = gate(rules, human, cal if len(cal) else None, card=card, margin=margin, n_boot=n_boot, random_state=seed)
        version = str(rules["version"].iloc[0])
        if save:
            store.save_gate(g.assign(source="rule"), scorecard_id=card.id, source="rule", version=version)
        conf.append(g.attrs["confusion"])
        parts.append(_plain(g.assign(version=version)))
    if scorer is not None:
        held = scorer.cv_predictions  # out-of-fold: each answer from a model that never saw that call
        held = held[held["contact_id"].isin(set(human["contact_id"]))][["contact_id", "item_id", "answer", "probability"]]
        if len(held):
            g = gate(held.assign(source="model"), human, cal if len(cal) else None, card=card, margin=margin, n_boot=n_boot, random_state=seed)
            if save:
                store.save_gate(g.assign(source="model"), scorecard_id=card.id, source="model", version=scorer.version)
            conf.append(g.attrs["confusion"])
            parts.append(_plain(g.assign(version=scorer.version)))
    if not parts:
        raise NotFoundError(f"no automatic answers of scorecard {card.id!r} on human-scored calls: run `qa autoqa run` first")
    out = pd.concat(parts, ignore_index=True)
    out.attrs["confusion"] = pd.concat(conf, ignore_index=True)
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    df.attrs = {}
    return df


def drift_check(store, card: Scorecard, *, months: int = 6, alpha: float = 0.05, save: bool = True) -> pd.DataFrame:
    """The monthly drift check of accepted items on the random arm (:func:`qa_lib.autoqa.gate.drift`) over the last
    ``months`` months; an accepted item that drifted falls back (stored, ``save``)."""
    from .gate import drift

    decisions = store.gate_decisions(card.id)
    if decisions.empty:
        raise NotFoundError(f"no acceptance-gate decision for scorecard {card.id!r}: run `qa autoqa validate` first")
    acc = decisions[decisions["accepted"].astype(bool)]
    human = human_answers(store, card)
    cols = ["source", "version", "item_id", "month", "n", "agree", "ac1", "ac1_lo", "ac1_hi", "accepted_level", "p_value", "q_value", "drifted", "falls_back"]
    if acc.empty or human.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    when = store.read("contacts", store.table("contacts").c.contact_id.in_(sorted(set(human["contact_id"]))), columns=["contact_id", "start_time"])
    month = pd.to_datetime(when["start_time"]).dt.to_period("M")
    last = month.max()
    keep = month > last - months
    months_of = pd.Series(month[keep].astype(str).to_numpy(), index=when.loc[keep, "contact_id"].to_numpy())
    human = human[human["contact_id"].isin(months_of.index)]
    out = []
    for (source, version), d in acc.groupby(["source", "version"]):
        auto = store.auto_answers(scorecard_id=card.id, contact_ids=human["contact_id"].unique())
        auto = auto[(auto["source"] == source) & (auto["version"] == version) & auto["item_id"].isin(set(d["item_id"]))]
        if auto.empty:
            continue
        res = drift(auto, human, months_of, accepted_level=d.set_index("item_id")["ac1"], alpha=alpha, card=card)
        res = res.assign(source=source, version=version)
        out.append(res)
        fell = sorted(set(res.loc[res["drifted"].fillna(False).astype(bool), "item_id"]))
        if save and fell:
            store.mark_drifted(card.id, source, version, fell)
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def _one_auto(auto: pd.DataFrame) -> pd.DataFrame:
    """One automatic answer row per contact × item: the rule's where it answered, else the scorer's."""
    a = auto[auto["answer"].notna()].assign(_o=lambda d: (d["source"] != "rule").astype(int))
    return a.sort_values(["contact_id", "item_id", "_o"]).drop_duplicates(["contact_id", "item_id"])


def _wide_auto(auto: pd.DataFrame) -> pd.DataFrame:
    """One automatic answer per contact × item (:func:`_one_auto`), contacts × items."""
    return _one_auto(auto).pivot(index="contact_id", columns="item_id", values="answer")


def auto_scores(card: Scorecard, auto: pd.DataFrame, contacts: pd.DataFrame) -> pd.Series:
    """The automatic score of each contact (index contact_id): ``card``'s own roll-up (:func:`qa_lib.rubric.score`) of
    its automatic answers, an item without one taken as ``yes`` (a fixed rule, so the score is a function of the call
    alone, as prediction-powered inference requires). ``contacts`` gives the contact flags (transferred, escalated) the
    items' conditions read. NaN for a contact with no automatic answer at all."""
    if auto.empty:
        return pd.Series(dtype=float, name="auto_score")
    wide = _wide_auto(auto)
    cols = {}
    for it in card.items:
        if it.kind in GATED_KINDS:
            base = wide[it.id] if it.id in wide.columns else pd.Series(index=wide.index, dtype=object)
            cols[it.id] = base.fillna("yes")
        elif it.kind == "deduction":
            cols[it.id] = pd.Series("0", index=wide.index)
        else:  # a scale: its top
            cols[it.id] = pd.Series(f"{it.scale[1]:g}", index=wide.index)
    long = pd.DataFrame(cols).rename_axis("evaluation_id").reset_index().melt("evaluation_id", var_name="item_id", value_name="answer")
    ctx = contacts.set_index("contact_id").reindex(wide.index)
    context = pd.DataFrame({"evaluation_id": wide.index, "contact_id": wide.index,
                            "transferred": ctx["transferred"].to_numpy() if "transferred" in ctx else False,
                            "escalated": ctx["escalated"].to_numpy() if "escalated" in ctx else False})
    res = score(card, long, context=context)
    return res.totals.set_index("evaluation_id")["total"].astype(float).rename("auto_score").rename_axis("contact_id")


def prediction_powered(store, card: Scorecard, month, *, by: str = "team", alpha: float = 0.05) -> pd.DataFrame:
    """Prediction-powered estimates of ``month`` per ``by`` group (team) and for the center: the mean score and the pass
    rate of each always-applicable item, from the automatic answers on every call with a transcript, corrected by the
    human random arm (:func:`qa_lib.stats.ppi.ppi_means`, PPI++), beside the human-only estimate. The estimates are valid
    whether or not an item's automatic answers passed the acceptance gate (the random arm corrects their bias; a poor
    scorer only gains nothing over the human-only interval); ``accepted`` says, per item, whether most of its automatic answers this month are from an
    accepted source (NaN on the score rows).

    The random arm is stratified by agent with equal calls per agent, so its calls are weighted by N/n of their agent
    (contacts with a transcript the card applies to / random-arm calls among them): the weighted mean targets the mean
    over all calls. Returns ``group, metric, item_id, estimate, lo, hi, classical_estimate, classical_lo, classical_hi,
    n, N, n_effective, accepted``.
    """
    p = pd.Period(month, freq="M")
    chunks = list(store.transcript_contacts(p, chunk=200_000, text=False))
    if not chunks:
        raise NotFoundError(f"no transcripts in {p}")
    contacts = pd.concat(chunks, ignore_index=True)
    contacts = contacts[card.applies(contacts)]
    if contacts.empty:
        raise NotFoundError(f"no transcripts of {p} that scorecard {card.id!r} applies to")
    auto = store.auto_answers(scorecard_id=card.id, month=p)
    if auto.empty:
        raise NotFoundError(f"no automatic answers of scorecard {card.id!r} in {p}: run `qa autoqa run --month {p}`")
    agents = store.read("agents", columns=["agent_id", "team"])
    contacts = contacts.merge(agents, on="agent_id", how="left")
    contacts = contacts[contacts["contact_id"].isin(set(auto["contact_id"]))]
    human = human_answers(store, card, p)
    human = human[human["contact_id"].isin(set(contacts["contact_id"]))]
    if human.empty:
        raise NotFoundError(f"no random-arm evaluation of scorecard {card.id!r} on a call with a transcript in {p}")
    N_agent = contacts.groupby("agent_id").size()
    labeled_calls = human.drop_duplicates("contact_id")
    n_agent = labeled_calls.groupby("agent_id").size()
    weight = (N_agent / n_agent).reindex(labeled_calls["agent_id"]).to_numpy()
    w_of = pd.Series(weight, index=labeled_calls["contact_id"].to_numpy())
    pred_score = auto_scores(card, auto, contacts)
    # human scores of the labelled calls (the card's roll-up of the inspector's answers)
    head, answers, context = store.scored_evaluations(card.id, month=p, arms=("random",))
    head = head[head["contact_id"].isin(w_of.index)].drop_duplicates("contact_id")
    h_score = head.set_index("contact_id")["total_score"].astype(float)
    team_of = contacts.set_index("contact_id")["team"]
    frames = []
    lab = pd.DataFrame({"contact_id": h_score.index, "value": h_score.to_numpy()})
    lab["prediction"] = lab["contact_id"].map(pred_score)
    lab["w"] = lab["contact_id"].map(w_of)
    lab[by] = lab["contact_id"].map(team_of)
    lab = lab.dropna(subset=["value", "prediction", "w"])
    unl = pd.DataFrame({"contact_id": pred_score.index, "prediction": pred_score.to_numpy()})
    unl[by] = unl["contact_id"].map(team_of)
    frames.append(_ppi_rows(lab, unl, by, alpha, "score", None))
    one = _one_auto(auto)
    wide = one.pivot(index="contact_id", columns="item_id", values="answer")
    accepted = one.groupby("item_id")["accepted"].mean() > 0.5  # of the answers the estimate uses
    always = [it.id for it in card.items if it.kind in GATED_KINDS and it.when is None and not it.na_allowed and it.id in wide.columns]
    for item_id in always:
        hy = human[human["item_id"] == item_id].drop_duplicates("contact_id")
        y = hy.set_index("contact_id")["answer"].map({"yes": 1.0, "partial": 0.5, "no": 0.0})
        pred = wide[item_id].map({"yes": 1.0, "partial": 0.5, "no": 0.0}).fillna(1.0)
        lab = pd.DataFrame({"contact_id": y.index, "value": y.to_numpy()})
        lab["prediction"] = lab["contact_id"].map(pred).fillna(1.0)
        lab["w"] = lab["contact_id"].map(w_of)
        lab[by] = lab["contact_id"].map(team_of)
        lab = lab.dropna(subset=["value", "w"])
        unl = pd.DataFrame({"contact_id": contacts["contact_id"].to_numpy()})
        unl["prediction"] = unl["contact_id"].map(pred).fillna(1.0)
        unl[by] = unl["contact_id"].map(team_of)
        frames.append(_ppi_rows(lab, unl, by, alpha, "pass_rate", item_id).assign(accepted=bool(accepted.get(item_id, False))))
    return pd.concat(frames, ignore_index=True)


def _ppi_rows(lab: pd.DataFrame, unl: pd.DataFrame, by: str, alpha: float, metric: str, item_id) -> pd.DataFrame:
    from ..stats.ppi import ppi_means

    teams = ppi_means(lab, unl, value="value", prediction="prediction", by=by, weight="w", alpha=alpha).rename(columns={by: "group"})
    center = ppi_means(lab, unl, value="value", prediction="prediction", weight="w", alpha=alpha).assign(group="")
    out = pd.concat([center, teams], ignore_index=True)
    return out.assign(metric=metric, item_id=item_id)


def train(store, card: Scorecard, folder, *, seed: int = 0, **settings):
    """Train the learned scorer of ``card`` (:func:`qa_lib.autoqa.scorer.train_scorers`) on every human-scored call with a
    transcript (random, targeted and re-check arms; a call scored twice counts once), save it under ``folder``
    (``models/``) and return ``(bundle, path)``. The same data and seed give the same version."""
    from .scorer import train_scorers

    answers = human_answers(store, card, arms=("random", "targeted", "recheck"))
    if answers.empty:
        raise NotFoundError(f"no human-scored evaluation of scorecard {card.id!r} to learn from")
    texts = store.transcripts(answers["contact_id"].unique())
    if not texts:
        raise NotFoundError(f"none of the {answers['contact_id'].nunique():,} calls scored on {card.id!r} has a transcript to learn from")
    transcripts = pd.Series(texts, name="transcript").sort_index()
    answers = answers[answers["contact_id"].isin(transcripts.index)]
    bundle = train_scorers(transcripts, answers[["contact_id", "item_id", "answer"]], card, seed=seed, **settings)
    return bundle, bundle.save(folder)


def _latest_model(folder, scorecard_id: str) -> Path | None:
    """The folder of the newest saved scorer of ``scorecard_id`` under ``folder`` (``models/``; by its manifest's time), or None."""
    base = Path(folder) / scorecard_id
    found = sorted(base.glob("*/manifest.json"), key=lambda q: q.stat().st_mtime) if base.is_dir() else []
    return found[-1].parent if found else None


def latest_scorer(folder: Path, scorecard_id: str):
    """The newest saved scorer of ``scorecard_id`` under ``folder`` (``models/``), or None."""
    from .scorer import load

    path = _latest_model(folder, scorecard_id)
    return load(path) if path is not None else None


def headline_card(store) -> Scorecard:
    """The scorecard auto-QA pages are about: the center's headline scorecard, else the one with the most random-arm
    evaluations."""
    from ..config import settings

    sid = settings().scorecard_for()
    if sid is None:
        ev = store.evaluations(columns=["scorecard_id", "arm"])
        ev = ev[ev["arm"] == "random"]
        if ev.empty:
            raise NotFoundError("no headline scorecard in center.yaml and no random-arm evaluation to choose one from")
        sid = ev["scorecard_id"].value_counts().index[0]
    return store.scorecard(sid)


AUTOQA_TABLES = ("items", "gate", "drift", "coverage", "precision", "ppi")


def prepare_autoqa(store, month, folder, *, card: Scorecard | None = None, models=None) -> Path:
    """The auto-QA page's tables for ``month`` in ``folder/_data/autoqa`` (Parquet + ``meta.json``): the gate's decisions
    per item and source (with the confusion counts), the drift check of accepted items, the month's coverage (calls
    answered, abstained, the answers given), the rules' precision from inspectors' reviews, and the prediction-powered
    estimates. ``models``: the folder of the learned scorers (for the scorer's manifest)."""

    from .rules import rule_precision

    p = pd.Period(month, freq="M")
    card = card or headline_card(store)
    out = Path(folder) / "_data" / "autoqa"
    out.mkdir(parents=True, exist_ok=True)
    items = pd.DataFrame([{"item_id": it.id, "label_zh": it.label.get("zh") or it.id, "label_en": it.label.get("en") or it.id, "kind": it.kind,
                           "has_rules": bool(it.auto)} for it in card.items if it.kind in GATED_KINDS])
    gate_t = store.gate_decisions(card.id)
    try:
        drift_t = drift_check(store, card, save=False) if len(gate_t) else pd.DataFrame()
    except NotFoundError:
        drift_t = pd.DataFrame()
    auto = store.auto_answers(scorecard_id=card.id, month=p)
    chunks = list(store.transcript_contacts(p, chunk=200_000, text=False))
    contacts = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=["contact_id"])
    applicable = int(card.applies(contacts).sum()) if len(contacts) else 0
    if len(auto):
        ans = auto.assign(answer=auto["answer"].fillna("abstain"))
        coverage = ans.groupby(["item_id", "source", "answer"]).size().unstack("answer", fill_value=0).reset_index()
        coverage.columns.name = None
    else:
        coverage = pd.DataFrame(columns=["item_id", "source"])
    reviews = store.rule_reviews(card.id)
    precision = rule_precision(reviews, by_month=False) if len(reviews) else pd.DataFrame()
    try:
        ppi = prediction_powered(store, card, p)
    except NotFoundError:
        ppi = pd.DataFrame()
    for name, df in zip(AUTOQA_TABLES, (items, gate_t, drift_t, coverage, precision, ppi)):
        df.to_parquet(out / f"{name}.parquet", index=False)
    meta = {"month": str(p), "scorecard_id": card.id, "version": card.version, "name_zh": card.label("zh"), "name_en": card.label("en"),
            "transcripts": applicable, "answered_contacts": int(auto["contact_id"].nunique()) if len(auto) else 0,
            "rule_items": int(items["has_rules"].sum()) if len(items) else 0, "scorer": _scorer_meta(auto, models, card.id)}
    (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, default=str), encoding="utf-8")
    return out


def _scorer_meta(auto: pd.DataFrame, models, scorecard_id: str) -> dict:
    """The learned scorer whose answers the month holds (not merely the newest on disk): its version, the day it was
    trained and the calls it learnt from, from its manifest only (not its arrays); {} when only rules answered."""
    used = auto.loc[auto["source"] == "model", "version"].dropna() if len(auto) else pd.Series(dtype=object)
    if used.empty:
        return {}
    version = str(used.value_counts().index[0])
    manifest = Path(models) / scorecard_id / version / "manifest.json" if models is not None else None
    m = json.loads(manifest.read_text(encoding="utf-8")) if manifest is not None and manifest.is_file() else {}
    per_item = m.get("n_per_item") or {}  # item → {answer: calls}: the item answered on most calls is the training set's size
    n = max((sum(int(k) for k in v.values()) for v in per_item.values() if isinstance(v, dict)), default=None)
    return {"version": version, "trained_at": m.get("trained_at"), "n_train": n}


def autoqa_prepared(folder, month) -> bool:
    """True when ``folder/_data/autoqa`` holds ``month``'s auto-QA tables."""
    d = Path(folder) / "_data" / "autoqa"
    meta = d / "meta.json"
    return (meta.is_file() and all((d / f"{n}.parquet").is_file() for n in AUTOQA_TABLES)
            and json.loads(meta.read_text(encoding="utf-8")).get("month") == str(pd.Period(month, freq="M")))
