"""Agreement statistics against published worked examples and reference implementations.

Sources:
- Krippendorff K (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for Communication, pp. 4-8:
  4 observers x 12 units with missing values; alpha nominal .743, ordinal .815, interval .849, ratio .797.
- Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychol Bull 76:378-382;
  the 30 patients x 6 psychiatrists data (R irr "diagnoses"): kappa = 0.430.
- Shrout PE, Fleiss JL (1979). Intraclass correlations. Psychol Bull 86:420-428, Table 2 data, Table 4:
  ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71, ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91.
- Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed.; R irrCAC gwet.ac1.raw(cac.raw4raters) = 0.7754
  (cac.raw4raters is Krippendorff's 2011 example above).
- Kundel & Polansky (2003) mammography table as shipped by R vcdExtra ("Mammograms"): vcd::Kappa gives
  unweighted 0.3713 and equal-spacing (linear) weighted 0.5964.
Reference implementations (test-only): the krippendorff package, pingouin.intraclass_corr, sklearn cohen_kappa_score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from qa_lib.calibration import inspector_bias, item_reliability, leniency_adjustment, session_report, widest_disagreement
from qa_lib.errors import ParameterError
from qa_lib.stats import (
    bootstrap_ci,
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    icc,
    interpret_alpha,
    krippendorff_alpha,
    percent_agreement,
)

NAN = np.nan
K2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
])
SF1979 = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])


@pytest.mark.parametrize("level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_worked_example(level, published):
    assert krippendorff_alpha(K2011, level) == pytest.approx(published, abs=5e-4)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_the_krippendorff_package(level):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(7)
    data = rng.integers(1, 6, size=(7, 300)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    assert krippendorff_alpha(data, level) == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement=level), abs=1e-9)
    assert krippendorff_alpha(K2011, level) == pytest.approx(krippendorff.alpha(reliability_data=K2011, level_of_measurement=level), abs=1e-9)


def test_fleiss_1971_diagnoses_and_counts_table():
    d = pd.read_csv(shared_path("interrater", "pyirr", "diagnoses.csv"), index_col=0)
    raw = d.T.to_numpy(dtype=object)  # raters x patients, text labels
    assert fleiss_kappa(raw) == pytest.approx(0.430, abs=5e-4)
    counts = d.apply(lambda r: r.value_counts(), axis=1).fillna(0).to_numpy()
    assert fleiss_kappa(counts=counts) == pytest.approx(fleiss_kappa(raw))
    with pytest.raises(ParameterError, match="not both"):
        fleiss_kappa(raw, counts=counts)


def test_alpha_on_real_multi_rater_data_matches_reference():
    krippendorff = pytest.importorskip("krippendorff")
    d = pd.read_csv(shared_path("interrater", "pyirr", "diagnoses.csv"), index_col=0)
    codes = d.apply(lambda col: col.str[0].astype(float)).T.to_numpy()
    assert krippendorff_alpha(codes, "nominal") == pytest.approx(krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal"), abs=1e-9)
    vision = pd.read_csv(shared_path("interrater", "pyirr", "vision.csv"), index_col=0)
    v = vision.apply(lambda col: col.astype(str).str[0].astype(float)).T.to_numpy()
    assert krippendorff_alpha(v, "ordinal") == pytest.approx(krippendorff.alpha(reliability_data=v, level_of_measurement="ordinal"), abs=1e-9)


def test_shrout_fleiss_1979_all_six_forms_and_pingouin():
    long = pd.DataFrame([(t, r, SF1979[t, r]) for t in range(6) for r in range(4)], columns=["target", "judge", "score"])
    res = icc(long, "target", "judge", "score")
    published = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}
    for form, value in published.items():
        assert round(res.loc[form, "ICC"], 2) == value
    pg = pytest.importorskip("pingouin")
    ref = pg.intraclass_corr(long, "target", "judge", "score").set_index("Type")
    names = {"ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)", "ICC1k": "ICC(1,k)", "ICC2k": "ICC(A,k)", "ICC3k": "ICC(C,k)"}
    for ours, theirs in names.items():
        assert res.loc[ours, "ICC"] == pytest.approx(ref.loc[theirs, "ICC"], abs=1e-9)
        assert res.loc[ours, "F"] == pytest.approx(ref.loc[theirs, "F"], abs=1e-9)
        assert res.loc[ours, "pval"] == pytest.approx(ref.loc[theirs, "pval"], abs=1e-9)
        assert [res.loc[ours, "ci_low"], res.loc[ours, "ci_high"]] == pytest.approx(list(ref.loc[theirs, "CI95"]), abs=0.006)  # pingouin rounds CIs to 2 d.p.
    assert list(res.columns) == ["ICC", "F", "df1", "df2", "pval", "ci_low", "ci_high"]


def test_icc_on_pingouin_wine_data():
    pg = pytest.importorskip("pingouin")
    wine = pd.read_csv(shared_path("interrater", "pingouin", "icc.csv"))
    ours = icc(wine, "Wine", "Judge", "Scores")
    ref = pg.intraclass_corr(wine, "Wine", "Judge", "Scores").set_index("Type")
    assert ours["ICC"].to_numpy() == pytest.approx(ref["ICC"].to_numpy(), abs=1e-9)


def test_gwet_and_brennan_prediger():
    assert gwet_ac1(K2011) == pytest.approx(0.7754, abs=5e-5)  # irrCAC gwet.ac1.raw(cac.raw4raters)
    assert percent_agreement(K2011) == pytest.approx(0.8182, abs=5e-5)  # irrCAC pa = 0.8181818
    assert brennan_prediger(K2011) == pytest.approx((0.8181818 - 0.2) / 0.8, abs=1e-6)
    # AC2 with identity weights is AC1; weights make near-misses count
    assert gwet_ac2(K2011, weights=None) == pytest.approx(gwet_ac1(K2011))
    assert gwet_ac2(K2011, weights="quadratic") > gwet_ac1(K2011)
    # declared labels: an unused category changes AC2's chance term
    labels = [1, 2, 3, 4, 5, 6]
    assert gwet_ac2(K2011, "linear", labels=labels) != pytest.approx(gwet_ac2(K2011, "linear"))


def test_cohen_kappa_published_and_sklearn():
    m = pd.read_csv(shared_path("interrater", "rdatasets", "vcdExtra_Mammograms.csv"), index_col=0)
    a = np.repeat(np.arange(4), m.sum(axis=1).to_numpy())
    b = np.concatenate([np.repeat(np.arange(4), row) for row in m.to_numpy()])
    assert cohen_kappa(a, b) == pytest.approx(0.3713, abs=5e-5)
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(0.5964, abs=5e-5)
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    y[:120] = x[:120]
    for w in (None, "linear", "quadratic"):
        assert cohen_kappa(x, y, weights=w) == pytest.approx(cohen_kappa_score(x, y, weights=w), abs=1e-12)
        assert cohen_kappa(x, y, weights=w, labels=range(7)) == pytest.approx(cohen_kappa_score(x, y, weights=w, labels=list(range(7))), abs=1e-12)


@pytest.mark.parametrize("stat", [percent_agreement, lambda d: krippendorff_alpha(d, "nominal"), lambda d: krippendorff_alpha(d, "ordinal"),
                                  fleiss_kappa, gwet_ac1, brennan_prediger])
def test_invariances(stat):
    rng = np.random.default_rng(11)
    data = rng.integers(0, 4, size=(5, 60)).astype(float)
    data[:, :40] = data[0, :40]  # real agreement on most units
    data[rng.random(data.shape) < 0.1] = np.nan
    base = stat(data)
    assert stat(data[:, rng.permutation(60)]) == pytest.approx(base)  # permute units
    assert stat(data[rng.permutation(5)]) == pytest.approx(base)  # swap raters
    perfect = np.tile(rng.integers(0, 4, 30).astype(float), (3, 1))
    assert stat(perfect) == pytest.approx(1.0)


def test_relabelling_nominal_categories_leaves_values_unchanged():
    labels = np.array(["yes", "no", "partial"], dtype=object)
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 3, size=(4, 50))
    codes[:, :30] = codes[0, :30]
    words = labels[codes]
    renamed = np.array(["是", "否", "部分"], dtype=object)[codes]
    for f in (lambda d: krippendorff_alpha(d, "nominal"), fleiss_kappa, gwet_ac1):
        assert f(words) == pytest.approx(f(codes.astype(float))) == pytest.approx(f(renamed))
    assert cohen_kappa(words[0], words[1]) == pytest.approx(cohen_kappa(renamed[0], renamed[1]))


def test_edge_cases_are_clear():
    with pytest.raises(ParameterError, match="at least 2 raters"):
        krippendorff_alpha([[1, 2, 3]])
    with pytest.raises(ParameterError, match="no ratings"):
        krippendorff_alpha([[NAN, NAN], [NAN, NAN]])
    with pytest.raises(ParameterError, match="no unit has two or more ratings"):
        krippendorff_alpha([[1, NAN], [NAN, 2]])
    with pytest.raises(ParameterError, match="level must be one of"):
        krippendorff_alpha(K2011, "cardinal")
    assert np.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, 1]]))  # a single category: no variation, documented NaN
    assert np.isnan(gwet_ac1([[1, 1], [1, 1]]))
    with pytest.raises(ParameterError, match="same length"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ParameterError, match="weights must be None, 'linear', 'quadratic' or 'ordinal'"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")
    assert interpret_alpha(0.81) == "reliable" and interpret_alpha(0.7) == "tentative" and interpret_alpha(0.5) == "not reliable"


def test_bootstrap_ci_is_seeded_and_brackets_alpha():
    rng = np.random.default_rng(2)
    data = rng.integers(1, 4, size=(4, 80)).astype(float)
    data[:, :60] = data[0, :60]
    a = krippendorff_alpha(data, "ordinal")
    lo, hi = bootstrap_ci(krippendorff_alpha, data, n_boot=300, random_state=1, level="ordinal")
    assert lo < a < hi
    assert bootstrap_ci(krippendorff_alpha, data, n_boot=300, random_state=1, level="ordinal") == (lo, hi)
    with pytest.raises(ParameterError, match="n_boot must be an integer ≥ 10"):
        bootstrap_ci(krippendorff_alpha, data, n_boot=5)


# ------------------------------------------------------- calibration sessions (samples)
@pytest.fixture(scope="module")
def sessions(loaded_store):
    ev, items, sess = loaded_store.calibration_data()
    card = loaded_store.scorecard("inbound_service", 1)
    return ev, items, sess, card


def test_planted_lenient_and_strict_inspectors_are_found(sessions):
    ev, items, sess, card = sessions
    bias = inspector_bias(ev, expert="Q01").set_index("inspector_id")
    assert bias.loc["Q03", "verdict"] == "lenient" and bias.loc["Q05", "verdict"] == "strict"  # PLANTED.md
    assert set(bias.index[bias["verdict"].isin(["lenient", "strict"])]) == {"Q03", "Q05"}
    consensus = inspector_bias(ev).set_index("inspector_id")  # without an expert, against the others
    assert consensus.loc["Q03", "verdict"] == "lenient" and consensus.loc["Q05", "verdict"] == "strict"
    effects = leniency_adjustment(ev, n_boot=200).set_index("inspector_id")
    assert effects["effect"].idxmax() == "Q03" and effects["effect"].idxmin() == "Q05" and effects["effect"].sum() == pytest.approx(0, abs=1e-9)
    assert effects.loc["Q03", "ci_low"] > 0 and effects.loc["Q05", "ci_high"] < 0  # the planted ones, with intervals clear of 0
    assert (effects["ci_low"] <= effects["effect"]).all() and (effects["effect"] <= effects["ci_high"]).all()
    vs_expert = leniency_adjustment(ev, expert="Q01", n_boot=200).set_index("inspector_id")
    assert vs_expert.loc["Q01", ["effect", "ci_low", "ci_high"]].tolist() == [0, 0, 0]
    bias = inspector_bias(ev, expert="Q01").set_index("inspector_id")["mean_difference"]  # every call scored by all: effect = mean difference
    assert vs_expert.loc[bias.index, "effect"].to_numpy() == pytest.approx(bias.to_numpy(), abs=1e-9)


def test_least_reliable_item_is_the_planted_one(sessions):
    ev, items, sess, card = sessions
    rep = session_report(ev, items, card, expert="Q01", n_boot=100)
    assert rep["items"].iloc[0]["item_id"] == "needs_analysis"  # PLANTED.md: inspectors score it inconsistently
    assert set(rep["critical"]["item_id"]) == {"identity_check", "correct_answer"}
    assert "customer_complained" not in set(rep["items"]["item_id"]) and "proactive_help" not in set(rep["items"]["item_id"])
    top = widest_disagreement(ev, top=3)
    assert len(top) == 3 and (top["range"].diff().dropna() <= 0).all()


def test_item_reliability_tidy_input_errors():
    with pytest.raises(ParameterError, match="missing \\['inspector_id', 'item_id', 'answer'\\]"):
        item_reliability(pd.DataFrame({"contact_id": [1]}))


def test_adjusted_agent_scores_sit_beside_the_raw(sessions, loaded_store):
    from qa_lib.calibration import adjusted_agent_scores

    ev, *_ = sessions
    month = loaded_store.read_month("evaluations", "2026-10")
    rnd = month[month["arm"] == "random"]
    adj = adjusted_agent_scores(rnd, ev, n_boot=200).set_index("agent_id")
    assert (adj["adjustment_low"] <= adj["adjustment"] + 1e-9).all() and (adj["adjustment"] <= adj["adjustment_high"] + 1e-9).all()
    raw = rnd.groupby("agent_id")["total_score"].mean()
    assert np.allclose(adj.loc[raw.index, "raw_mean"], raw)  # the raw score is kept as is
    q03 = rnd.groupby("agent_id").apply(lambda d: (d["inspector_id"] == "Q03").mean(), include_groups=False)
    mostly_q03 = q03.idxmax()
    assert adj.loc[mostly_q03, "adjustment"] < 0  # scored by the lenient inspector: adjusted down


# ------------------------------------------------------- degenerate sessions (one inspector, everyone agrees)
def test_why_alpha_is_undefined_is_told_apart():
    from qa_lib.stats.agreement import undefined_reason

    assert undefined_reason([[1, 2, 3]]) == ("raters", 1)  # one rater
    assert undefined_reason([[1, 2, NAN], [NAN, NAN, NAN]]) == ("raters", 1)  # a second row that rated nothing
    assert undefined_reason([[1, NAN], [NAN, 2]]) == ("units", 0)  # no unit rated twice
    assert undefined_reason([[1, 2, NAN], [1, NAN, 3]], min_units=2) == ("units", 1)
    assert undefined_reason([[1, 1, 1], [1, 1, NAN]]) == ("no variation", 4)  # the 4 pairable answers agree: α = 0/0, not "no data"
    assert np.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, NAN]]))
    assert undefined_reason(K2011) is None
    with pytest.raises(ParameterError, match="min_units must be an integer ≥ 1; got 0"):
        undefined_reason(K2011, min_units=0)


@pytest.fixture(scope="module")
def degenerate(sessions):
    """The samples with CAL-2026-07 scored by Q02 alone and CAL-2026-08 where every inspector gives every call full marks."""
    ev, items, sess, card = sessions
    lone = (ev["calibration_session_id"] == "CAL-2026-07") & (ev["inspector_id"] != "Q02")
    ev = ev[~lone].copy()
    items = items[items["evaluation_id"].isin(ev["evaluation_id"])].copy()
    agree = set(ev.loc[ev["calibration_session_id"] == "CAL-2026-08", "evaluation_id"])
    ev.loc[ev["evaluation_id"].isin(agree), "total_score"] = 100.0
    mine = items["evaluation_id"].isin(agree)
    items.loc[mine & items["answer"].isin(["no", "partial"]), "answer"] = "yes"
    items.loc[mine & items["answer"].astype(str).str.fullmatch(r"\d+"), "answer"] = "0"
    return ev, items, card


def test_one_inspector_session_is_named_and_the_others_are_computed(degenerate):
    from qa_lib.calibration import drift, session_check

    ev, items, card = degenerate
    d = drift(ev, expert="Q01").set_index("calibration_session_id")
    assert d.loc["CAL-2026-07", "note"] == "needs ≥ 2 inspectors: only Q02 scored" and np.isnan(d.loc["CAL-2026-07", "alpha_total"])
    assert d.loc["CAL-2026-08", "note"] == "no variation: α undefined (all 48 total scores agree)"
    others = d.drop(index=["CAL-2026-07", "CAL-2026-08"])
    assert others["alpha_total"].notna().all() and (others["note"] == "").all() and len(others) == 4
    lone = ev[ev["calibration_session_id"] == "CAL-2026-07"]
    assert session_check(lone) == "needs ≥ 2 inspectors: only Q02 scored"
    assert session_check(ev[ev["contact_id"] == ev["contact_id"].iloc[0]]) == "needs ≥ 2 calls scored by 2+ inspectors: 1 so far"
    rep = session_report(lone, items[items["evaluation_id"].isin(lone["evaluation_id"])], card, expert="Q01", n_boot=20)
    assert set(rep["overall"]["reading"].iloc[:2]) == {"needs ≥ 2 inspectors (1 scored)"} and rep["overall"]["alpha"].isna().all()
    assert (rep["items"]["reading"] == "needs ≥ 2 inspectors (1 scored)").all()
    assert rep["bias"][["inspector_id", "units", "verdict"]].values.tolist() == [["Q02", 0, "unclear"]]  # no one to compare with
    alone = inspector_bias(lone, expert="Q02")  # the expert alone: no row, the table's columns
    assert alone.empty and list(alone.columns) == ["inspector_id", "units", "mean_difference", "ci_low", "ci_high", "verdict"]


def test_a_session_where_everyone_agrees_reads_no_variation_not_no_data(degenerate):
    ev, items, card = degenerate
    same = ev[ev["calibration_session_id"] == "CAL-2026-08"]
    rep = session_report(same, items[items["evaluation_id"].isin(same["evaluation_id"])], card, expert="Q01", n_boot=20, min_calls=2)
    it = rep["items"].set_index("item_id")
    assert it.loc["greeting", "ac"] == 1.0  # AC1 over the declared yes/no: everyone agreeing is full agreement
    assert it.loc["greeting", "reading"] == "no variation: α undefined (all 48 answers agree)"
    assert it.loc["greeting", "percent_agreement"] == 1.0 and np.isnan(it.loc["greeting", "alpha"])
    assert not rep["items"]["reading"].str.contains("not enough data").any()
    overall = rep["overall"].set_index("measure")["reading"]
    assert overall["total score (interval α)"] == "no variation: α undefined (all 48 total scores agree)"
    assert overall["item answers (ordinal α)"].startswith("no variation: α undefined (all ")


# ------------------------------------------------------- Fleiss' κ with unequal raters (Gwet), irrCAC's published examples
# Datasets of irrCAC (github.com/afergadis/irrCAC, irrCAC/datasets.py: raw_4raters, raw_5observers, raw_g1g2, raw_gender,
# raw_ben_gerry; Gwet 2014), units × raters. Expected values: irrCAC's docs/source/usage/usage_raw_data.ipynb prints
# fleiss() = 0.76117 (pe 0.23872) and gwet() = 0.77544 on raw_4raters; its test/unit/irrCAC/raw/test_fleiss.py and
# test_gwet.py publish 3 decimals (0.761, 0.458, 0.657, 0.129, 0.649; ordinal AC2 0.899, ordinal κ 0.850). The 4-decimal
# values below are irrCAC 0.4.4 ``CAC(data, digits=8)`` rounded, which round to those published figures.
_N = None
IRR = {
    "raw_4raters": [[1, 2, 3, 3, 2, 1, 4, 1, 2, _N, _N, _N], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _N, _N],
                    [_N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _N]],
    "raw_5observers": [[1, 1, 2, _N, 0, 0, 1, 1, 2, 2, _N, 0, 1, 3, 1], [1, 1, 3, 0, 0, 0, 0, _N, 2, 1, 1, 0, 2, 3, 1],
                       [2, 0, 3, 0, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 1], [_N, 1, 3, _N, _N, _N, _N, 0, _N, 1, 0, 0, 2, 2, _N],
                       [2, _N, _N, 0, 0, 0, 1, _N, 2, _N, _N, _N, _N, 3, 1]],
    "raw_g1g2": [list("abccbadab") + [_N, _N, _N, "b", "b"], list("abccbbdabe") + [_N, _N, "b", "a"], [_N] + list("cccbcdbbeaccc"),
                 list("abccbddabea") + [_N, "b", "b"]],
    "raw_gender": ["a a a a a b b b c a a a a a b".split(), "a a a a b a b c c a a a a b a".split(),
                   "a b b c a a b b c a b b c a a".split(), "c c c c a a b b c c c c c a a".split()],
    "raw_ben_gerry": [list("aabbdcccedda"), list("babbbccce") + [_N, "d", "d"]],
}
# (Fleiss' κ, published 3-decimal κ, AC1)
IRR_FLEISS = {"raw_4raters": (0.7612, 0.761, 0.7754), "raw_5observers": (0.4576, 0.458, 0.4966), "raw_g1g2": (0.6572, 0.657, 0.6846),
              "raw_gender": (0.1289, 0.129, 0.2081), "raw_ben_gerry": (0.6494, 0.649, 0.6614)}


def _irr(name):
    return np.array(IRR[name], dtype=object)  # raters × units


@pytest.mark.parametrize("name", sorted(IRR_FLEISS))
def test_fleiss_kappa_with_unequal_raters_matches_irrcac(name):
    data = _irr(name)
    kappa, published, ac1 = IRR_FLEISS[name]
    assert fleiss_kappa(data) == pytest.approx(kappa, abs=5e-5)
    assert round(fleiss_kappa(data), 3) == published
    assert gwet_ac1(data) == pytest.approx(ac1, abs=5e-5)


def test_fleiss_kappa_published_digits_and_weights():
    data = _irr("raw_4raters")
    assert fleiss_kappa(data) == pytest.approx(0.76117, abs=5e-6)  # irrCAC usage_raw_data.ipynb
    assert fleiss_kappa(data, weights="ordinal") == pytest.approx(0.850, abs=5e-4)  # test_fleiss.py, ordinal weights
    assert fleiss_kappa(data, weights="quadratic") == pytest.approx(0.865, abs=5e-4)
    assert fleiss_kappa(data, weights="linear") == pytest.approx(0.818, abs=5e-4)
    assert gwet_ac2(data, weights="ordinal") == pytest.approx(0.899, abs=5e-4)  # test_gwet.py, ordinal weights
    assert gwet_ac2(data, weights="quadratic") == pytest.approx(0.914, abs=5e-4)
    # the pooled proportions the old code used give a different κ here (0.7608): the raters per unit vary from 1 to 4
    counts = np.array([[(row == c).sum() for c in range(1, 6)] for row in data.T.astype(float)])
    assert fleiss_kappa(counts=counts) == pytest.approx(fleiss_kappa(data), abs=1e-12)
    assert fleiss_kappa(counts=counts) != pytest.approx(0.7608, abs=5e-5)


def test_fast_bootstrap_equals_the_statistic_on_each_resample():
    from qa_lib.stats.agreement import _resampled

    rng = np.random.default_rng(4)
    d = rng.integers(0, 3, (6, 40)).astype(float)
    d[:, :25] = d[0, :25]
    d[rng.random(d.shape) < 0.15] = NAN
    idx = rng.integers(0, 40, (60, 40))
    cases = [(krippendorff_alpha, {"level": lv}) for lv in ("nominal", "ordinal", "interval", "ratio")]
    cases += [(gwet_ac1, {}), (gwet_ac1, {"labels": [0.0, 1.0, 2.0]}), (gwet_ac2, {"weights": "ordinal", "labels": [0.0, 1.0, 2.0, 3.0]})]
    for stat, kw in cases:
        fast = _resampled(stat, d, idx, kw)
        slow = np.array([stat(d[:, i], **kw) for i in idx])
        assert fast == pytest.approx(slow, abs=1e-12, nan_ok=True), (stat.__name__, kw)


# ------------------------------------------------------- item ranking: AC1/AC2, α beside it, a minimum of calls
def _long(mat: dict, kind_words=("no", "yes")) -> pd.DataFrame:
    """Tidy answers from {item: inspectors × calls codes} (0/1 → no/yes)."""
    rows = []
    for item, m in mat.items():
        m = np.asarray(m)
        for r in range(m.shape[0]):
            for c in range(m.shape[1]):
                rows.append((f"K{c:03d}", f"Q{r + 1:02d}", item, kind_words[int(m[r, c])]))
    return pd.DataFrame(rows, columns=["contact_id", "inspector_id", "item_id", "answer"])


def test_near_constant_item_is_not_ranked_below_a_real_disagreement():
    rng = np.random.default_rng(8)
    n = 60
    truth = (rng.random(n) > 0.04).astype(int)  # 96 % yes
    steady = np.tile(truth, (4, 1))
    steady[rng.random(steady.shape) < 0.02] ^= 1  # 2 % slips
    split = np.tile((rng.random(n) > 0.3).astype(int), (4, 1))
    split[rng.random(split.shape) < 0.3] ^= 1  # inspectors really disagree
    few = np.tile(truth[:6], (4, 1))
    out = item_reliability(pd.concat([_long({"steady": steady, "split": split}), _long({"few": few})]), n_boot=50).set_index("item_id")
    assert out.loc["split", "rank"] == 1 and out.loc["steady", "rank"] == 2  # AC1 does
    assert pd.isna(out.loc["few", "rank"]) and out.loc["few", "reading"] == "too few calls to rank (6 < 10)"
    assert out.index[-1] == "few"
    assert out.loc["steady", "measure"] == "AC1" and out.loc["steady", "ac_low"] < out.loc["steady", "ac"] < out.loc["steady", "ac_high"]
    read = out.loc["steady", "reading"]
    if out.loc["steady", "alpha"] < 0.667:
        assert read.startswith("α is low because 9") and "% of answers are 'yes'; AC1 0.9" in read and read.endswith("says inspectors agree")
    zh = item_reliability(_long({"steady": steady}), n_boot=0, lang="zh").iloc[0]["reading"]
    assert ("α 偏低只因" in zh and "“是”" in zh) or zh.startswith("质检员意见一致")
    with pytest.raises(ParameterError, match="min_calls must be an integer ≥ 2; got 1"):
        item_reliability(_long({"steady": steady}), min_calls=1)
    with pytest.raises(ParameterError, match="lang must be 'zh' or 'en'; got 'fr'"):
        item_reliability(_long({"steady": steady}), lang="fr")


def test_dominance_reading_is_the_audit_case():
    m = np.ones((6, 12), dtype=int)
    m[0, 0] = 0  # 71 of 72 answers yes: α ≈ 0 although inspectors agree
    out = item_reliability(_long({"x": m}), n_boot=0).iloc[0]
    assert out["alpha"] < 0.1 and out["ac"] > 0.95 and out["top_share"] == pytest.approx(71 / 72)
    assert out["reading"] == f"α is low because 99 % of answers are 'yes'; AC1 {out['ac']:.2f} says inspectors agree"
    zh = item_reliability(_long({"x": m}), n_boot=0, lang="zh").iloc[0]["reading"]
    assert zh == f"α 偏低只因 99 % 的答案都是“是”；AC1 {out['ac']:.2f} 表明质检员意见一致"


def test_item_bias_finds_a_lenient_inspector_on_one_item():
    from qa_lib.calibration import item_bias

    rng = np.random.default_rng(3)
    n = 80
    truth = (rng.random(n) > 0.35).astype(int)
    m = np.tile(truth, (5, 1))
    m[2, truth == 0] = (rng.random((truth == 0).sum()) < 0.8).astype(int)  # Q03 passes 80 % of the true fails
    out = item_bias(_long({"x": m}), expert="Q01").set_index("inspector_id")
    assert out.loc["Q03", "verdict"] == "lenient" and out.loc["Q03", "ci_low"] > 0.10
    assert (out.drop(index="Q03")["verdict"] == "within tolerance").all()
    consensus = item_bias(_long({"x": m})).set_index("inspector_id")
    assert consensus.loc["Q03", "verdict"] == "lenient"
    with pytest.raises(ParameterError, match="expert 'Q09' scored none"):
        item_bias(_long({"x": m}), expert="Q09")


# ------------------------------------------------------- which evaluation of a contact counts
def test_counted_once_keeps_one_evaluation_per_contact_and_no_calibration():
    from qa_lib.calibration import counted_once

    ev = pd.DataFrame({
        "evaluation_id": ["E1", "E2", "E3", "E4", "E5", "E6", "E7"],
        "contact_id": ["K1", "K1", "K2", "K2", "K3", "K4", "K4"],
        "inspector_id": ["Q02", "Q01", "Q03", "Q02", "Q02", "Q04", "Q05"],
        "arm": ["random", "random", "targeted", "random", "calibration", "random", "random"],
        "calibration_session_id": [None, None, None, None, "CAL-1", None, None],
        "evaluated_at": pd.to_datetime(["2026-10-02", "2026-10-05", "2026-10-01", "2026-10-03", "2026-10-04", "2026-10-09", "2026-10-08"]),
        "total_score": [90, 80, 70, 60, 50, 40, 30],
    })
    kept = counted_once(ev, experts={"Q01"})
    assert kept["evaluation_id"].tolist() == ["E2", "E4", "E7"]  # expert's; random before targeted; earliest; K3 only calibrated
    assert counted_once(ev)["evaluation_id"].tolist() == ["E1", "E4", "E7"]  # without experts: the earliest
    assert counted_once(ev[["contact_id", "total_score"]])["total_score"].tolist() == [90, 70, 50, 40]  # only contact_id: first row
    with pytest.raises(ParameterError, match="contact_id"):
        counted_once(ev.drop(columns="contact_id"))


def test_calibration_calls_stay_out_of_the_service_standard_kpi(loaded_store):
    from qa_lib.kpi import service_standard_kpi

    ev = loaded_store.evaluations("2026-10")
    base = service_standard_kpi(ev).set_index("group").loc["center", "n"]
    cal = ev[ev["arm"] == "calibration"]
    twice = pd.concat([ev, ev[ev["arm"] == "random"].head(5).assign(evaluation_id=lambda d: d["evaluation_id"] + "b"),
                       cal.assign(arm="random")], ignore_index=True)  # a double-scored call, calibration scorings mislabelled
    assert service_standard_kpi(twice).set_index("group").loc["center", "n"] == base


# ------------------------------------------------------- the validity part
def test_validity_part_ranks_the_planted_item_and_rarely_flags_a_fair_inspector():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.validity_parts import calibration as part

    out = pd.DataFrame(part.rows(draws=6, seed=3))
    assert set(out.columns) == {"analysis", "scenario", "measure", "target", "value", "ok", "draws", "note"}
    first = out.iloc[0]
    assert "ranked least reliable" in first["measure"] and first["value"] >= 5 / 6 and first["draws"] == 6
    fair = out[out["scenario"].str.startswith("no lenient or strict inspector, expert as noisy")]
    assert fair.iloc[0]["value"] <= 0.2  # per-inspector false flags on the total, 30 verdicts
    assert pd.DataFrame(part.rows(draws=6, seed=3)).equals(out)  # seeded


# ------------------------------------------------------- the calibration-meeting report (issue #18, part 5)
def _meeting():
    """Two calls, two items, the expert E and inspectors A and B; A's name and the transcript are hostile."""
    from qa_lib.config import samples_dir
    from qa_lib.rubric import load_scorecard

    card = load_scorecard(samples_dir() / "scorecards" / "inbound_service.v1.yaml")
    answers = {("K1", "greeting"): ("yes", "yes", "no"), ("K1", "needs_analysis"): ("partial", "yes", "partial"),
               ("K2", "greeting"): ("no", "no", "no"), ("K2", "needs_analysis"): ("yes", "yes", "yes"),
               ("K2", "escalation_handling"): ("na", "na", "na")}
    ev = pd.DataFrame([{"evaluation_id": f"{c}-{i}", "contact_id": c, "agent_id": "A9", "inspector_id": i, "total_score": s}
                       for c, scores in (("K1", (80, 90, 70)), ("K2", (90, 90, 85))) for i, s in zip("EAB", scores)])
    items = pd.DataFrame([{"evaluation_id": f"{c}-{i}", "item_id": item, "answer": a}
                          for (c, item), row in answers.items() for i, a in zip("EAB", row)])
    names = {"E": "专家甲", "A": "<script>alert(1)</script>", "B": "乙"}
    return ev, items, card, names


def test_meeting_grid_shape_and_highlighting():
    from qa_lib.calibration import DIFF_MARK, grid_html, grid_wide, session_grid

    ev, items, card, names = _meeting()
    g = session_grid(ev, items, card, expert="E", lang="zh")
    assert len(g) == 5 * 3 and set(g["reference"]) == {"expert"}
    assert g.loc[g["differs"], ["contact_id", "item_id", "inspector_id"]].values.tolist() == [["K1", "greeting", "B"], ["K1", "needs_analysis", "A"]]
    assert g["contact_id"].iloc[0] == "K1"  # the call with the most disagreement first
    words, diff = grid_wide(g, "zh", names=names)
    assert words.shape == (5, 4 + 3) and list(words.columns[4:]) == ["专家 专家甲（E）", "<script>alert(1)</script>（A）", "乙（B）"]
    assert words["item"].tolist()[:2] == ["标准问候语并报工号", "准确了解客户需求"]  # scorecard order, labels not ids
    assert words.iloc[1, 4:].tolist() == ["部分", "是", "部分"] and words.iloc[4, 4:].tolist() == ["不适用"] * 3
    assert int(diff.iloc[:, 4:].to_numpy().sum()) == 2 and bool(diff.iat[0, 6]) and bool(diff.iat[1, 5])
    page = grid_html(g, "zh", names=names, transcripts={"K1": "[00:01] 坐席：您好 <b>\n[00:02] 客户：手机号是13812345678"})
    assert page.count('class="qa-ans qa-diff"') == 2 and f"{DIFF_MARK} 否" in page and f"{DIFF_MARK} 是" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;" in page  # hostile text escaped
    assert "13812345678" not in page and "138****5678" in page  # the excerpt is masked
    assert page.count('class="qa-transcript"') == 2 and "（无通话文本）" in page  # K2 has none
    en = grid_wide(session_grid(ev, items, card, expert="E", lang="en"), "en", names=names)[0]
    assert en["item"].tolist()[:2] == ["Standard greeting with agent number", "Customer's need understood"]
    assert en.iloc[1, 4:].tolist() == ["partial", "yes", "partial"] and en.iloc[4, 4].startswith("N/A") and en.columns[4] == "expert 专家甲 (E)"


def test_meeting_grid_against_the_consensus_marks_a_tie():
    from qa_lib.calibration import grid_wide, session_grid

    ev, items, card, names = _meeting()
    g = session_grid(ev, items, card, expert=None, lang="en")  # no expert: the majority answer
    assert set(g["reference"]) == {"consensus"} and not g["is_reference"].any()
    assert sorted(g.loc[g["differs"], "inspector_id"]) == ["A", "B"]  # yes,yes,no → B; partial,yes,partial → A
    two = session_grid(ev[ev["inspector_id"] != "E"], items, card, expert="E", lang="zh")  # the expert scored none: consensus of A and B
    tie = two[(two["contact_id"] == "K1") & (two["item_id"] == "greeting")]
    assert tie["split"].all() and not tie["differs"].any()
    words, diff = grid_wide(two, "zh", names=names)
    assert words.columns[4] == "共识" and words.iat[0, 4] == "无多数" and bool(diff.iat[0, 4])


def test_meeting_summary_says_how_well_they_agreed_and_what_to_discuss():
    from qa_lib.calibration import meeting_summary, session_grid

    ev, items, card, names = _meeting()
    rep = session_report(ev, items, card, expert="E", n_boot=20, min_calls=2, lang="zh")
    lead, points = meeting_summary(session_grid(ev, items, card, expert="E", lang="zh"), rep, "zh", names=names, session="S1")
    assert lead.startswith("本次校准（S1）3 名质检员共评 2 通电话，80.0% 的答案与专家一致") and "建议讨论：1）质检项“标准问候语并报工号”" in lead
    assert len(points) == 3 and points[2] == "通话 K1：2 个答案不同" and "nan" not in lead.lower()
    same = items.assign(answer=items.groupby(["evaluation_id"]).cumcount().map(lambda _: "yes"))
    lead_en, none = meeting_summary(session_grid(ev, same, card, expert="E", lang="en"), rep, "en")
    assert none == [] and "100.0% of the answers matched the expert's" in lead_en and lead_en.endswith("no disagreement to discuss.")


def test_meeting_tables_are_formatted_with_labels():
    from qa_lib.calibration import bias_table, item_bias_matrix, reliability_table

    ev, items, card, names = _meeting()
    rep = session_report(ev, items, card, expert="E", n_boot=20, min_calls=2, lang="en")
    rel = reliability_table(rep["items"], card, "en")
    assert set(rel["item"]) == {"Standard greeting with agent number", "Customer's need understood", "Transfer or escalation with an agreed call-back"}
    text = " ".join(rel.astype(str).to_numpy().ravel())
    assert "nan" not in text.lower() and not __import__("re").search(r"\d\.\d{3,}", text)
    b = bias_table(rep["bias"], "zh", names=names)
    assert list(b.columns) == ["质检员", "通话数", "总分差（分）", "95% 区间", "结论"] and set(b["总分差（分）"]) == {"+5.0", "−7.5"}
    m, v = item_bias_matrix(rep["item_bias"], card, "zh", names=names)
    assert m.iloc[:, 0].tolist()[:2] == ["标准问候语并报工号", "准确了解客户需求"] and "−0.0" not in m.to_numpy()


def test_meeting_workbook_cells_are_neutralised(tmp_path):
    from openpyxl import load_workbook

    from qa_lib.calibration import session_grid, write_session_xlsx

    ev, items, card, names = _meeting()
    rep = session_report(ev, items, card, expert="E", n_boot=20, min_calls=2, lang="zh")
    agents = {"A9": "=HYPERLINK(\"http://x\",\"点我\")"}
    path = write_session_xlsx(tmp_path / "c.xlsx", session_grid(ev, items, card, expert="E", lang="zh"), rep, card, "zh", names=names,
                              agents=agents, transcripts={"K1": "[00:01] 客户：手机号是13812345678"})
    wb = load_workbook(path)
    assert wb.sheetnames == ["答案对照", "质检项一致性", "质检员偏差", "通话"]
    grid = wb["答案对照"]
    head = [c.value for c in grid[1]]
    assert head[:5] == ["通话", "坐席", "环节", "质检项", "专家 专家甲（E）"] and head[-1] == "不一致数"
    cells = [c for row in grid.iter_rows(min_row=2) for c in row]
    marked = [c for c in cells if isinstance(c.value, str) and c.value.startswith("≠")]
    assert sorted(c.value for c in marked) == ["≠ 否", "≠ 是"] and all(c.fill.fgColor.rgb.endswith("FDE0DC") for c in marked)
    agent = grid.cell(row=2, column=2).value
    assert agent.startswith("'=HYPERLINK") and "（A9）" in agent  # a formula is stored as text
    every = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not any(isinstance(v, str) and v[:1] in "=+-@" for v in every)
    assert "13812345678" not in str(every) and "138****5678" in str(every)
    numbers = [v for v in every if isinstance(v, (int, float)) and not isinstance(v, bool)]
    assert numbers and all(round(v, 1) == v for v in numbers)  # rounded for people


def test_calibrate_out_writes_the_meeting_report(loaded_store, tmp_path):
    import re

    from click.testing import CliRunner
    from openpyxl import load_workbook

    from qa_lib.cli import main

    for lang, title, item in (("zh", "校准会议报告 CAL-2026-10", "准确了解客户需求"), ("en", "Calibration meeting CAL-2026-10", "s need understood")):
        r = CliRunner().invoke(main, ["calibrate", "--session", "CAL-2026-10", "--out", str(tmp_path), "--lang", lang, "--boot", "20", "--db", loaded_store.url])
        assert r.exit_code == 0, r.output
        page = (tmp_path / f"calibration_CAL-2026-10_{lang}.html").read_text(encoding="utf-8")
        assert title in page and item in page and page.count('class="qa-ans qa-diff"') >= 10 and "qa-transcript" in page
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S))
        assert "needs_analysis" not in visible and not re.search(r"\b(nan|NaN|None|NaT)\b|\d\.\d{5,}", visible)
        assert load_workbook(tmp_path / f"calibration_CAL-2026-10_{lang}.xlsx").sheetnames[0] == {"zh": "答案对照", "en": "Answers"}[lang]
    r = CliRunner().invoke(main, ["calibrate", "--out", str(tmp_path), "--db", loaded_store.url])
    assert r.exit_code == 2 and "--session" in r.output
