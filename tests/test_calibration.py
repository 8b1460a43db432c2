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
    with pytest.raises(ParameterError, match="weights must be None, 'linear' or 'quadratic'"):
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
    effects = leniency_adjustment(ev)
    assert effects.idxmax() == "Q03" and effects.idxmin() == "Q05" and effects.sum() == pytest.approx(0, abs=1e-9)


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
    effects = leniency_adjustment(ev)
    month = loaded_store.read_month("evaluations", "2026-10")
    rnd = month[month["arm"] == "random"]
    adj = adjusted_agent_scores(rnd, effects).set_index("agent_id")
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
    rep = session_report(same, items[items["evaluation_id"].isin(same["evaluation_id"])], card, expert="Q01", n_boot=20)
    it = rep["items"].set_index("item_id")
    assert it.loc["greeting", "reading"] == "no variation: α undefined (all 48 answers agree)"
    assert it.loc["greeting", "percent_agreement"] == 1.0 and np.isnan(it.loc["greeting", "alpha"])
    assert not rep["items"]["reading"].str.contains("not enough data").any()
    overall = rep["overall"].set_index("measure")["reading"]
    assert overall["total score (interval α)"] == "no variation: α undefined (all 48 total scores agree)"
    assert overall["item answers (ordinal α)"].startswith("no variation: α undefined (all ")
