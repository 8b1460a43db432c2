"""The learned item scorer: one :class:`qa_lib.textmodel.TextModel` per scorecard item, trained on human-scored calls.

:func:`train_scorers` fits, per yes/no and yes/partial/no item of a scorecard, a text model on the transcripts of the
calls inspectors scored (the answer per call: the inspectors' most frequent answer), cross-validates it (stratified
k-fold) so the acceptance gate can use the out-of-fold answers as held-out ones, and picks each item's abstention
threshold on those out-of-fold predictions (:func:`qa_lib.textmodel.choose_threshold`: the lowest probability whose
answered calls reach ``target_accuracy``). Items whose answers have a class with fewer than ``min_per_class`` calls are
not trained (the bundle's ``skipped`` says which and why): a class seen a handful of times can be neither learnt nor
validated.

:class:`ScorerBundle` answers new transcripts in the auto-answers frame (``source="model"``, ``version`` = the
bundle's version id), and is saved as ``<folder>/<scorecard_id>/<version>/`` with ``model.npz`` (NumPy arrays only:
loaded with ``allow_pickle=False``, so a model file cannot run code, unlike a joblib/pickle file), ``cv.parquet``
(the out-of-fold answers) and ``manifest.json`` (version, data hashes, settings, per-item counts and agreement,
library versions, the SHA-256 of the two files: :func:`load` refuses a folder whose files do not match).

The version id is a short SHA-256 of the training data (scorecard id and version, each call's id and answers,
transcript text) and the settings: the same data and settings always give the same version, any changed answer a new one.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..textmodel import TextModel, calibration_error, choose_threshold

__all__ = ["train_scorers", "ScorerBundle", "load", "agent_turns", "AUTO_COLUMNS", "KINDS"]

#: Item kinds the scorer answers (scale and deduction items are out of scope).
KINDS = ("yes_no", "yes_partial_no")
#: The auto-answers frame's columns (shared with the rules).
AUTO_COLUMNS = ["contact_id", "item_id", "answer", "probability", "source", "rule_id", "evidence", "turn", "version"]
TURNS = ("all", "agent")
_AGENT_LINE = re.compile(r"^\s*(?:\[[0-9:]+\]\s*)?(?:坐席|客服|agent)\s*[：:].*$", re.IGNORECASE | re.MULTILINE)
FILES = ("model.npz", "cv.parquet")


def agent_turns(transcripts: pd.Series) -> pd.Series:
    """Only the agent's lines of each transcript (speaker 坐席, 客服 or Agent; the stamp and marker kept), index kept."""
    s = pd.Series(transcripts, dtype=object).fillna("").astype(str)
    return s.str.findall(_AGENT_LINE).str.join("\n")


def _short_hash(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()[:12]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class ScorerBundle:
    """Per-item text models of one scorecard, with their cross-validated answers and agreement.

    ``models``: item id → fitted :class:`TextModel` (its ``threshold`` is the item's abstention threshold);
    ``agreement``: per item n, accuracy, Cohen's κ, Gwet's AC1 (out-of-fold, all calls), ``abstain`` share,
    ``answered_kappa`` / ``answered_accuracy`` on the calls answered, ``ece``, ``threshold``;
    ``cv_predictions``: the out-of-fold answers in the auto-answers frame plus ``truth`` and ``fold``;
    ``skipped``: item id, reason.
    """

    scorecard_id: str
    scorecard_version: int
    version: str
    settings: dict
    models: dict
    agreement: pd.DataFrame
    cv_predictions: pd.DataFrame
    skipped: pd.DataFrame
    data_hash: str
    evaluation_ids_hash: str | None
    trained_at: str
    n_per_item: dict = field(default_factory=dict)

    def text(self, transcripts: pd.Series) -> pd.Series:
        """The model input for transcripts (all turns, or the agent's only, per the bundle's ``turns`` setting)."""
        s = pd.Series(transcripts, dtype=object).fillna("").astype(str)
        return agent_turns(s) if self.settings["turns"] == "agent" else s

    def predict(self, transcripts: pd.Series, *, chunk: int = 50_000) -> pd.DataFrame:
        """Auto answers for transcripts (a Series indexed by contact id): one row per contact × trained item.

        ``answer`` is None where the item's model abstains (its probability under the item's threshold);
        ``probability`` is the best answer's probability either way. Hashed features are computed once per chunk of
        ``chunk`` transcripts and shared by every item (the items' models use the same hashing), so memory is bounded.
        """
        if not isinstance(transcripts, pd.Series):
            raise ParameterError(f"transcripts must be a pandas Series indexed by contact_id; got {type(transcripts).__name__}")
        if not isinstance(chunk, int) or chunk < 1:
            raise ParameterError(f"chunk must be an integer >= 1; got {chunk!r}")
        if transcripts.index.has_duplicates:
            raise ParameterError(f"transcripts' index (contact_id) must be unique; {int(transcripts.index.duplicated().sum())} are repeated")
        out = []
        text = self.text(transcripts)
        ids = transcripts.index.astype(str).to_numpy(dtype=object)
        for start in range(0, len(text), chunk):
            part = text.iloc[start:start + chunk].tolist()
            X = {}  # features per hashing setting: one for all items
            for item_id, m in self.models.items():
                if m.feature_key not in X:
                    X[m.feature_key] = m.features(part)
                p = m.predict_proba_features(X[m.feature_key])
                k = p.argmax(axis=1)
                best = p[np.arange(len(p)), k]
                ans = m.classes_[k].astype(object)
                ans[best < m.threshold] = None
                out.append(pd.DataFrame({"contact_id": ids[start:start + chunk], "item_id": item_id, "answer": ans, "probability": best}))
        if not out:
            return _empty_auto()
        res = pd.concat(out, ignore_index=True)
        return res.assign(source="model", rule_id=None, evidence="", turn=-1, version=self.version)[AUTO_COLUMNS]

    # ------------------------------------------------------------ files
    def save(self, folder) -> Path:
        """Write ``<folder>/<scorecard_id>/<version>/`` (``folder`` is the models root, e.g. ``<center>/models``); returns it."""
        path = Path(folder) / self.scorecard_id / self.version
        path.mkdir(parents=True, exist_ok=True)
        arrays, items = {}, {}
        for item_id, m in self.models.items():
            settings, arr = m.to_arrays()
            items[item_id] = settings
            for k, v in arr.items():
                arrays[f"{item_id}__{k}"] = v
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        (path / "model.npz").write_bytes(buf.getvalue())
        self.cv_predictions.to_parquet(path / "cv.parquet", index=False)
        manifest = {"format": 1, "version": self.version, "scorecard_id": self.scorecard_id, "scorecard_version": self.scorecard_version,
                    "trained_at": self.trained_at, "settings": self.settings, "data_hash": self.data_hash,
                    "evaluation_ids_hash": self.evaluation_ids_hash, "n_per_item": self.n_per_item, "items": items,
                    "agreement": json.loads(self.agreement.to_json(orient="records")),
                    "skipped": self.skipped.to_dict(orient="records"), "libraries": _libraries(),
                    "sha256": {f: _sha256(path / f) for f in FILES}}
        (path / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        return path


def _libraries() -> dict:
    import scipy
    import sklearn

    return {"numpy": np.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__, "scipy": scipy.__version__}


def load(path) -> ScorerBundle:
    """Read a bundle saved by :meth:`ScorerBundle.save`. Refuses (``ParameterError``) a folder without a manifest, or whose
    model or cross-validation file does not match the SHA-256 in its manifest (changed or replaced since it was saved).
    The model file holds arrays only and is read with ``allow_pickle=False``."""
    path = Path(path)
    mf = path / "manifest.json"
    if not mf.is_file():
        raise ParameterError(f"path must be a model folder holding manifest.json; got {str(path)!r}")
    manifest = json.loads(mf.read_text(encoding="utf-8"))
    for f in FILES:
        if not (path / f).is_file():
            raise ParameterError(f"the model folder {str(path)!r} lacks {f}")
        if _sha256(path / f) != manifest.get("sha256", {}).get(f):
            raise ParameterError(f"{f} in {str(path)!r} does not match the SHA-256 in its manifest: the file was changed after training; refusing to load it")
    with np.load(path / "model.npz", allow_pickle=False) as z:
        models = {item_id: TextModel.from_arrays(s, {k: z[f"{item_id}__{k}"] for k in ("cols", "coef", "idf", "intercept")})
                  for item_id, s in manifest["items"].items()}
    agreement = pd.DataFrame(manifest["agreement"])
    skipped = pd.DataFrame(manifest["skipped"], columns=["item_id", "reason"])
    return ScorerBundle(manifest["scorecard_id"], manifest["scorecard_version"], manifest["version"], manifest["settings"], models, agreement,
                        pd.read_parquet(path / "cv.parquet"), skipped, manifest["data_hash"], manifest["evaluation_ids_hash"],
                        manifest["trained_at"], manifest["n_per_item"])


def _empty_auto() -> pd.DataFrame:
    return pd.DataFrame({"contact_id": pd.Series(dtype=object), "item_id": pd.Series(dtype=object), "answer": pd.Series(dtype=object),
                         "probability": pd.Series(dtype=float), "source": pd.Series(dtype=object), "rule_id": pd.Series(dtype=object),
                         "evidence": pd.Series(dtype=object), "turn": pd.Series(dtype=int), "version": pd.Series(dtype=object)})


def _one_answer(answers: pd.DataFrame) -> pd.DataFrame:
    """One answer per contact × item: the most frequent among its inspectors (a tie goes to the answer sorted first)."""
    n = answers.groupby(["contact_id", "item_id", "answer"], sort=False).size().rename("n").reset_index()
    n = n.sort_values(["contact_id", "item_id", "n", "answer"], ascending=[True, True, False, True], kind="stable")
    return n.drop_duplicates(["contact_id", "item_id"]).drop(columns="n").reset_index(drop=True)


def _check_inputs(transcripts, answers, card) -> tuple[pd.Series, pd.DataFrame]:
    if not isinstance(transcripts, pd.Series):
        raise ParameterError(f"transcripts must be a pandas Series indexed by contact_id; got {type(transcripts).__name__}")
    if not isinstance(answers, pd.DataFrame):
        raise ParameterError(f"answers must be a DataFrame with contact_id, item_id, answer; got {type(answers).__name__}")
    missing = {"contact_id", "item_id", "answer"} - set(answers.columns)
    if missing:
        raise ParameterError(f"answers must have the columns contact_id, item_id, answer; missing {sorted(missing)}")
    if not hasattr(card, "items") or not hasattr(card, "id"):
        raise ParameterError(f"card must be a Scorecard (qa_lib.rubric.load_scorecard); got {type(card).__name__}")
    t = transcripts.copy()
    t.index = t.index.astype(str)
    if t.index.has_duplicates:
        raise ParameterError(f"transcripts' index (contact_id) must be unique; {int(t.index.duplicated().sum())} are repeated")
    a = answers.dropna(subset=["answer"]).astype({"contact_id": str, "item_id": str, "answer": str})
    return t, a


def train_scorers(transcripts: pd.Series, answers: pd.DataFrame, card, *, folds: int = 5, seed: int = 0, min_per_class: int = 10,
                  target_accuracy: float = 0.95, turns: str = "all", alpha: float = 1e-5, ngram_range: tuple[int, int] = (1, 2),
                  words: bool = True, epochs: int = 20, calibrate: str = "temperature") -> ScorerBundle:
    """Train one text model per yes/no and yes/partial/no item of ``card`` on the calls inspectors scored.

    Parameters
    ----------
    transcripts : Series indexed by contact_id
        Transcript text (one turn per line with speaker markers); calls without one are left out.
    answers : DataFrame
        ``contact_id, item_id, answer`` (and optionally ``evaluation_id``): the human answers, one row per inspector's
        answer; a call scored by several inspectors counts once, with their most frequent answer.
    card : Scorecard
        The items' kinds and options (answers outside an item's options are refused).
    folds, seed : int
        Stratified k-fold cross-validation giving the out-of-fold answers and agreement; the seed also seeds the fits.
    min_per_class : int
        An item with an observed answer given to fewer than this many calls (or fewer than ``folds``) is not trained.
    target_accuracy : float
        Each item's abstention threshold is the lowest probability at which its out-of-fold answers reach this accuracy.
    turns : "all" or "agent"
        Model input: the whole transcript, or the agent's turns only.
    alpha, ngram_range, words, epochs, calibrate
        :class:`qa_lib.textmodel.TextModel` settings (a few thousand calls need more epochs than VOC's tens of thousands
        of verbatims, and temperature scaling: measured in docs/autoqa.md).
    """
    from datetime import UTC, datetime


    t, a = _check_inputs(transcripts, answers, card)
    _check_settings(turns, folds, min_per_class, target_accuracy)
    items = {it.id: it for it in card.items if it.kind in KINDS}
    unknown = sorted(set(a["item_id"]) - {it.id for it in card.items})
    if unknown:
        raise ParameterError(f"answers' item_id must be items of scorecard {card.id!r}; got {unknown[:10]}")
    a = a[a["item_id"].isin(list(items))]
    for item_id, part in a.groupby("item_id"):
        bad = sorted(set(part["answer"]) - set(items[item_id].options))
        if bad:
            raise ParameterError(f"answers for item {item_id!r} must be one of {list(items[item_id].options)}; got {bad[:10]}")
    has_text = t.reindex(a["contact_id"]).fillna("").astype(str).str.strip().ne("").to_numpy()
    a = a[has_text]
    one = _one_answer(a).sort_values(["item_id", "contact_id"], ignore_index=True)
    settings = {"folds": folds, "seed": seed, "min_per_class": min_per_class, "target_accuracy": target_accuracy, "turns": turns,
                "alpha": alpha, "ngram_range": list(ngram_range), "words": words, "epochs": epochs, "calibrate": calibrate}
    used = t.reindex(pd.Index(one["contact_id"].unique()).sort_values())
    data_hash, version, ev_hash = _hashes(card, a, one, used, settings)
    text = agent_turns(used) if turns == "agent" else used.fillna("").astype(str)  # the calls learnt from only
    params = {"ngram_range": tuple(ngram_range), "words": words, "alpha": alpha, "epochs": epochs, "calibrate": calibrate, "seed": seed}
    # every item's models read the same transcripts: hash them once (3/4 of the training time was re-hashing them)
    X_all = TextModel(**params).features(text.tolist())  # (0 rows when no call has an answer to learn)
    row_of = pd.Series(np.arange(len(text)), index=text.index)
    models, rows, cv, skipped, n_per = {}, [], [], [], {}
    for item_id, item in items.items():
        part = one[one["item_id"] == item_id]
        counts = part["answer"].value_counts()
        n_per[item_id] = {str(k): int(v) for k, v in counts.items()}
        need = max(min_per_class, folds)
        if len(counts) < 2:
            skipped.append({"item_id": item_id, "reason": f"only one answer observed ({', '.join(counts.index) or 'none'}): nothing to learn"})
            continue
        if counts.min() < need:
            few = ", ".join(f"{k!r}: {v}" for k, v in counts[counts < need].items())
            skipped.append({"item_id": item_id, "reason": f"too few calls for {few} (min_per_class {need})"})
            continue
        row, oof, models[item_id] = _train_item(item, part, X_all[row_of.loc[part["contact_id"]].to_numpy()], folds, seed, target_accuracy, params)
        rows.append(row)
        cv.append(oof)
    agreement = pd.DataFrame(rows, columns=["item_id", "kind", "n", "accuracy", "kappa", "ac1", "ece", "threshold", "abstain",
                                            "answered_accuracy", "answered_kappa"])
    cvp = pd.concat(cv, ignore_index=True) if cv else pd.DataFrame(columns=["contact_id", "item_id", "answer", "probability", "truth", "fold", "predicted"])
    cvp = cvp.assign(source="model", rule_id=None, evidence="", turn=-1, version=version)
    return ScorerBundle(card.id, int(getattr(card, "version", 0) or 0), version, settings, models, agreement, cvp,
                        pd.DataFrame(skipped, columns=["item_id", "reason"]), data_hash, ev_hash,
                        datetime.now(UTC).isoformat(timespec="seconds"), n_per)


def _hashes(card, a: pd.DataFrame, one: pd.DataFrame, used: pd.Series, settings: dict) -> tuple[str, str, str | None]:
    """The data hash (scorecard, answers, transcripts), the version (data + settings) and the evaluations' hash."""
    data_hash = _short_hash(f"{card.id}\x1f{getattr(card, 'version', '')}".encode(),
                            one.to_csv(index=False).encode(), pd.util.hash_pandas_object(used, index=True).to_numpy().tobytes())
    version = _short_hash(data_hash.encode(), json.dumps(settings, sort_keys=True).encode())
    ev_hash = None
    if "evaluation_id" in a.columns:
        ev_hash = hashlib.sha256("\n".join(sorted(a["evaluation_id"].astype(str).unique())).encode()).hexdigest()[:12]
    return data_hash, version, ev_hash


def _check_settings(turns, folds, min_per_class, target_accuracy) -> None:
    if turns not in TURNS:
        raise ParameterError(f"turns must be one of {TURNS}; got {turns!r}")
    if not isinstance(folds, int) or folds < 2:
        raise ParameterError(f"folds must be an integer >= 2; got {folds!r}")
    if not isinstance(min_per_class, int) or min_per_class < 1:
        raise ParameterError(f"min_per_class must be an integer >= 1; got {min_per_class!r}")
    if not 0 < target_accuracy <= 1:
        raise ParameterError(f"target_accuracy must be in (0, 1]; got {target_accuracy!r}")


def _train_item(item, part: pd.DataFrame, x, folds: int, seed: int, target_accuracy: float, params: dict):
    """One item: cross-validate (out-of-fold answers), choose the abstention threshold on them, fit on all calls.
    ``x``: the features (:meth:`TextModel.features`) of ``part``'s calls, row for row.
    Returns the agreement row, the out-of-fold answers and the fitted model."""
    from ..stats.agreement import cohen_kappa, gwet_ac1

    item_id = item.id
    y = part["answer"].to_numpy()
    oof_l, oof_p, fold_of = _cross_validate(x, y, folds, seed, params)
    ok = oof_l == y
    thr = choose_threshold(oof_p, ok, target_accuracy)
    keep = oof_p >= thr
    labels = list(item.options)
    row = {"item_id": item_id, "kind": item.kind, "n": len(y), "accuracy": float(ok.mean()),
           "kappa": cohen_kappa(y, oof_l, labels=labels), "ac1": gwet_ac1(np.vstack([y, oof_l]), labels=labels),
           "ece": calibration_error(oof_p, ok), "threshold": thr, "abstain": float(1 - keep.mean()),
           "answered_accuracy": float(ok[keep].mean()) if keep.any() else float("nan"),
           "answered_kappa": cohen_kappa(y[keep], oof_l[keep], labels=labels) if keep.sum() > 1 else float("nan")}
    oof = pd.DataFrame({"contact_id": part["contact_id"].to_numpy(), "item_id": item_id, "answer": np.where(keep, oof_l, None),
                        "probability": oof_p, "truth": y, "fold": fold_of, "predicted": oof_l})
    return row, oof, TextModel(threshold=min(thr, 1.0 + 1e-9), **params).fit_features(x, y)


def _cross_validate(x, y: np.ndarray, folds: int, seed: int, params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold best answer, its probability and the fold of each call (stratified k-fold, shuffled with ``seed``)."""
    from sklearn.model_selection import StratifiedKFold

    lab = np.empty(len(y), dtype=object)
    prob = np.empty(len(y))
    fold_of = np.empty(len(y), dtype=int)
    for f, (tr, te) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)):
        out = TextModel(**params).fit_features(x[tr], y[tr]).predict_features(x[te])
        lab[te], prob[te], fold_of[te] = out["label"].to_numpy(dtype=object), out["probability"].to_numpy(), f
    return lab, prob, fold_of
