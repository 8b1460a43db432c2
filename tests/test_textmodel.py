"""The one text model (qa_lib.textmodel): calibration and macro-F1 on real Chinese reviews, determinism, files without
pickle, abstention, and texts that are empty, not Chinese or hostile."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from qa_lib.errors import ParameterError
from qa_lib.textmodel import TextModel, calibration_error, choose_threshold, evaluate_text_model


@pytest.fixture(scope="module")
def reviews():
    """4,000 of the 62,774 real Chinese online-shopping reviews (SophonPlus online_shopping_10_cats), 400 per category."""
    with zipfile.ZipFile(shared_path("reviews_zh", "online_shopping_10_cats.zip")) as z:
        r = pd.read_csv(z.open("online_shopping_10_cats.csv")).dropna(subset=["review"])
    return r.sample(frac=1, random_state=0).groupby("cat").head(400).reset_index(drop=True)


def test_calibrated_and_accurate_on_real_reviews(reviews):
    """This 4,000 subset, 3-fold, seed 0, default settings (α 1e-5, temperature scaling): measured macro-F1 0.864 and
    ECE 0.017 (without the temperature 0.083). All 62,773 reviews, 5-fold (docs/autoqa.md): macro-F1 0.892, ECE 0.020."""
    res = evaluate_text_model(reviews["review"], reviews["cat"], folds=3, seed=0, target_accuracy=0.95)
    assert res["macro_f1"] >= 0.82
    assert res["ece"] <= 0.04
    assert res["n"] == 4000 and len(res["oof"]) == 4000 and set(res["oof"]["fold"]) == {0, 1, 2}
    # the threshold picked for 95 % accuracy does reach it on the answered reviews, and answers fewer than all
    assert res["answered_accuracy"] >= 0.95 and 0.2 < res["answered"] < 1
    assert res["answered_accuracy"] > res["accuracy"]


def test_deterministic_for_a_seed_and_round_trips_without_pickle(reviews):
    x, y = reviews["review"].head(1500), reviews["cat"].head(1500)
    a = TextModel(seed=3).fit(x, y).predict_proba(x.head(50))
    m = TextModel(seed=3).fit(x, y)
    np.testing.assert_array_equal(a, m.predict_proba(x.head(50)))
    settings, arrays = m.to_arrays()
    back = TextModel.from_arrays(settings, arrays)
    np.testing.assert_allclose(back.predict_proba(x.head(50)), a, rtol=1e-6)
    assert arrays["cols"].size < m.n_features / 4  # only the columns seen in training are stored
    assert not np.array_equal(TextModel(seed=4).fit(x, y).predict_proba(x.head(50)), a)  # the seed shuffles the SGD


def test_empty_english_and_hostile_texts():
    x = ["地图升级失败，导航报错"] * 10 + ["客服态度很好，谢谢"] * 10 + ["the map update failed"] * 5 + ["thanks, great service"] * 5
    y = ["fault"] * 10 + ["praise"] * 10 + ["fault"] * 5 + ["praise"] * 5
    m = TextModel(words=True, epochs=20).fit(x, y)
    odd = ["", None, float("nan"), "<script>alert(1)</script>", "\x00\ufeff", "💥" * 50, "x" * 100_000, "MAP UPDATE FAILED", "地图升级失败"]
    out = m.predict(odd)
    assert len(out) == len(odd) and list(out.columns) == ["label", "probability", "abstain"]
    assert out["probability"].between(0, 1).all() and np.allclose(m.predict_proba(odd).sum(axis=1), 1)
    assert out["label"].iloc[-2:].tolist() == ["fault", "fault"]  # English lower-cased; Chinese without segmentation
    assert m.predict([]).empty
    with pytest.raises(ParameterError, match="not a single string"):
        m.predict("地图")
    with pytest.raises(ParameterError, match="same length"):
        TextModel().fit(["a", "b"], ["x"])
    with pytest.raises(ParameterError, match="at least 2 classes"):
        TextModel().fit(["a", "b"], ["x", "x"])
    with pytest.raises(ParameterError, match="must not be missing"):
        TextModel().fit(["a", "b"], ["x", None])
    with pytest.raises(ParameterError, match="fitted first"):
        TextModel().predict(["a"])
    with pytest.raises(ParameterError, match="calibrate must be one of"):
        TextModel(calibrate="isotonic")


def test_abstention_threshold_is_applied():
    x = ["好评 很好"] * 30 + ["差评 很差"] * 30 + ["一般"] * 10
    y = ["pos"] * 30 + ["neg"] * 30 + ["pos", "neg"] * 5
    m = TextModel(alpha=1e-3, epochs=20, calibrate="none", threshold=0.8).fit(x, y)  # measured 0.986 and 0.531
    out = m.predict(["好评 很好", "一般"])
    assert out["abstain"].tolist() == [False, True]


def test_calibration_error_and_threshold_hand_worked():
    # bins: 0.9 (2 right: gap 0.1), 0.6 (1 of 2 right: gap 0.1) → 0.1
    assert calibration_error([0.9, 0.9, 0.6, 0.6], [True, True, True, False]) == pytest.approx(0.1)
    assert calibration_error([1.0, 1.0], [True, True]) == 0.0
    # top-3 are right (100 %), top-4 75 %, top-5 60 %: for 75 % the threshold keeps four answers
    assert choose_threshold([0.95, 0.9, 0.8, 0.7, 0.6], [1, 1, 1, 0, 0], 0.75) == 0.7
    assert choose_threshold([0.95, 0.9, 0.8, 0.7, 0.6], [1, 1, 1, 0, 0], 0.5) == 0.6
    assert choose_threshold([0.9, 0.8], [0, 0], 0.5) > 1  # never reached: abstain on all
    assert choose_threshold([0.9, 0.9, 0.5], [1, 0, 1], 1.0) > 1  # ties are kept together
    with pytest.raises(ParameterError, match="target_accuracy"):
        choose_threshold([0.5], [1], 0)


def test_features_computed_once_give_the_same_model_as_texts():
    """Several models (one per scorecard item) on the same transcripts share one hashed matrix: same fit, same answers."""
    rng = np.random.default_rng(3)
    words = np.array(["您好", "请问", "身份证", "核实", "谢谢", "再见", "稍等", "抱歉", "退款", "账单"])
    texts = [" ".join(rng.choice(words, 12)) for _ in range(300)]
    y = np.where([("核实" in t) for t in texts], "yes", "no")
    a = TextModel(epochs=8).fit(texts, y)
    m = TextModel(epochs=8)
    X = m.features(texts)
    assert X.shape == (300, m.n_features) and m.feature_key == a.feature_key
    b = m.fit_features(X[50:], y[50:])
    a2 = TextModel(epochs=8).fit(texts[50:], y[50:])
    np.testing.assert_array_equal(b.predict_proba_features(X[:50]), a2.predict_proba(texts[:50]))
    pd.testing.assert_frame_equal(b.predict_features(X[:50]), a2.predict(texts[:50]))
    assert TextModel(words=True).feature_key != a.feature_key
    with pytest.raises(ParameterError, match="X must be a sparse matrix of 1048576 columns"):
        TextModel().fit_features(np.zeros((3, 4)), ["a", "b", "a"])
    with pytest.raises(ParameterError, match="X must be a sparse matrix"):
        TextModel().fit_features(TextModel(n_features=2**12).features(texts), y)
    with pytest.raises(ParameterError, match="same length"):
        TextModel().fit_features(X, y[:10])
    assert b.predict_proba_features(X[:0]).shape == (0, 2)
    assert TextModel().features([]).shape == (0, 2**20)  # sklearn's hasher alone raises StopIteration here
