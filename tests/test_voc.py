"""VOC analysis: taxonomy, classifier and topic discovery on real corpora, NPS, alerts on the planted surge,
new themes, the report (escaped, masked, with its .xlsx)."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from conftest import shared_path
from qa_lib import voc
from qa_lib.config import samples_dir
from qa_lib.errors import ConfigError, ParameterError
from qa_lib.store import Store
from qa_lib.text import Segmenter, prepare

STABLE = ["navigation", "device_fault", "billing", "delivery_delay", "rude_service", "praise"]
XSS = "地图升级失败<script>alert('voc')</script><img src=x onerror=alert(1)> 电话13812345678"


# ------------------------------------------------------------------ real corpora
@pytest.fixture(scope="module")
def segmenter():
    return Segmenter()


@pytest.fixture(scope="module")
def complaints(segmenter):
    """US CFPB complaints with a narrative (1,532), labelled by product (shared/data/README.md)."""
    c = pd.read_csv(shared_path("complaints", "cfpb_complaints_sample.csv")).dropna(subset=["Consumer complaint narrative"])
    return c.reset_index(drop=True), prepare(c["Consumer complaint narrative"].reset_index(drop=True), segmenter)


@pytest.fixture(scope="module")
def reviews(segmenter):
    """8,000 of the 62,774 Chinese online-shopping reviews (SophonPlus online_shopping_10_cats), stratified by category."""
    with zipfile.ZipFile(shared_path("reviews_zh", "online_shopping_10_cats.zip")) as z:
        r = pd.read_csv(z.open("online_shopping_10_cats.csv")).dropna(subset=["review"])
    r = r.sample(frac=1, random_state=0).groupby("cat").head(800).reset_index(drop=True)
    return r, prepare(r["review"], segmenter, lang=pd.Series("zh", index=r.index))


def test_classifier_macro_f1_on_english_complaints(complaints):
    """Measured 0.626 ± 0.045 with the text model (5-fold, seed 0, 1,526 narratives, 9 products with 5+ examples); the
    TF-IDF + calibrated linear SVM it replaced measured 0.676 ± 0.024 here (small English data is where it did better)."""
    c, p = complaints
    res = voc.evaluate_classifier(p["tokens"], c["Product"])
    assert res["macro_f1"] >= 0.60
    assert res["n"] >= 1500 and set(res["per_topic"]["topic"]) >= {"Mortgage", "Debt collection", "Student loan"}


def test_classifier_macro_f1_on_chinese_reviews(reviews):
    """All 62,586 reviews with words (10 categories, the same 5 folds, seed 0): the text model (qa_lib.textmodel) 0.875 ± 0.003
    vs 0.868 ± 0.005 for the TF-IDF + calibrated linear SVM it replaced (docs/autoqa.md); this stratified 8,000 gets a floor of 0.80."""
    r, p = reviews
    res = voc.evaluate_classifier(p["tokens"], r["cat"])
    assert res["macro_f1"] >= 0.80


def test_discovered_topics_line_up_with_human_labels(complaints, reviews):
    """NMI of NMF topics vs the labels: complaints 0.22 (products), reviews 0.26 on the full corpus — far above
    the NMI of the same topic sizes shuffled (~0.01)."""
    rng = np.random.default_rng(0)
    for (frame, p), label, k, floor in ((complaints, "Product", 8, 0.15), (reviews, "cat", 10, 0.15)):
        found = voc.discover_topics(p["tokens"], n_topics=k, seed=0)
        assign = found.assignments["topic"].to_numpy()
        nmi = normalized_mutual_info_score(frame[label], assign)
        assert nmi >= floor, (label, nmi)
        assert normalized_mutual_info_score(frame[label], rng.permutation(assign)) < 0.05


def test_discovery_is_stable_for_a_seed_and_under_permutation(complaints):
    _, p = complaints
    a = voc.discover_topics(p["tokens"], n_topics=8, seed=3)
    b = voc.discover_topics(p["tokens"], n_topics=8, seed=3)
    pd.testing.assert_frame_equal(a.topics, b.topics)
    assert (a.assignments["topic"] == b.assignments["topic"]).all()
    order = np.random.default_rng(1).permutation(len(p))
    c = voc.discover_topics(p["tokens"].iloc[order], n_topics=8, seed=3)
    back = np.empty(len(order), dtype=int)
    back[order] = c.assignments["topic"].to_numpy()
    assert normalized_mutual_info_score(a.assignments["topic"], back) > 0.95
    assert set(a.topics["label"]) == set(c.topics["label"]) or len(set(a.topics["label"]) & set(c.topics["label"])) >= 6


def test_unseen_words_go_to_other():
    tokens = ["地图 升级 失败"] * 20 + ["屏幕 黑屏 死机"] * 20 + ["客服 态度 差"] * 20
    labels = ["map_update"] * 20 + ["device_fault"] * 20 + ["rude_service"] * 20
    clf = voc.TopicClassifier().fit(tokens, labels)
    pred = clf.predict(["地图 升级 失败", "蓝牙 配对 远程 离线", ""])
    assert pred["topic"].tolist()[:2] == ["map_update", voc.OTHER]
    assert pred["coverage"].tolist()[:2] == [1.0, 0.0]
    with pytest.raises(ParameterError, match="threshold must be in"):
        voc.TopicClassifier(threshold=1.5)
    with pytest.raises(ParameterError, match="labels must hold at least 2 topics"):
        voc.TopicClassifier().fit(["a b"] * 10, ["x"] * 10)
    with pytest.raises(ParameterError, match="must be fitted first"):
        voc.TopicClassifier().predict(["a"])


# ------------------------------------------------------------------ NPS and taxonomy
def test_net_promoter_hand_worked():
    """4 promoters, 2 passives, 4 detractors of 10 → NPS 0; the bounds are where the trinomial score statistic
    n (0 − d)² / (p̃_P + p̃_D − d²) reaches 1.96², p̃ maximising the likelihood under p_P − p_D = d (solved here
    with scipy's bounded optimiser, independently of the library's bisection)."""
    from scipy.optimize import minimize_scalar
    from scipy.stats import norm

    nps, lo, hi, n = voc.net_promoter([10, 9, 9, 10, 7, 8, 0, 3, 6, 5, None])
    assert (nps, n) == (0.0, 10)
    assert lo == pytest.approx(-hi, abs=1e-6) and -60 < lo < -40  # symmetric; narrower than Wald's ±55.4 in the middle

    def score(d):
        nll = lambda t: -(4 * np.log(t + d) + 4 * np.log(t) + 2 * np.log(1 - 2 * t - d))  # noqa: E731  t = p_D
        t = minimize_scalar(nll, bounds=(max(0, -d) + 1e-12, (1 - d) / 2 - 1e-12), method="bounded", options={"xatol": 1e-12}).x
        return 10 * d**2 / (2 * t + d - d**2)

    assert score(hi / 100) == pytest.approx(norm.ppf(0.975) ** 2, rel=1e-4)
    assert voc.net_promoter([10] * 5)[0] == 100.0 and voc.net_promoter([10] * 5)[2] == 100.0  # never past +100
    assert voc.net_promoter([0] * 10)[1] == -100.0 and voc.net_promoter([0] * 10)[2] < -40  # all detractors: −100 with a real width
    with pytest.raises(ParameterError, match="scores must be 0-10"):
        voc.net_promoter([11, 3])


def test_net_promoter_interval_covers_the_truth():
    """Coverage of the interval net_promoter gives over 1,000 simulated surveys of n = 300 (true NPS = 0.45 − 0.25 =
    20): the surveys' counts go through nps_interval at once, the first ones through net_promoter too (same numbers)."""
    from qa_lib.stats.proportions import nps_interval

    rng = np.random.default_rng(7)
    counts = rng.multinomial(300, [0.45, 0.30, 0.25], size=1000)
    lo, hi = nps_interval(counts[:, 0], counts[:, 1], counts[:, 2])
    for k in range(3):
        _, lo_k, hi_k, _ = voc.net_promoter(np.repeat([10, 8, 3], counts[k]))
        assert (lo_k, hi_k) == pytest.approx((100 * lo[k], 100 * hi[k]))
    hits = int(((100 * lo <= 20) & (20 <= 100 * hi)).sum())
    assert 930 <= hits <= 970


def test_taxonomy_errors_name_file_and_entry(tmp_path):
    tax = voc.load_taxonomy(samples_dir() / "voc_taxonomy.yaml")
    assert tax.ids == ["navigation", "map_update", "device_fault", "billing", "delivery_delay", "rude_service", "praise"]
    assert set(tax.topics["department"]) <= {"after_sales", "sales", "product", "quality"}
    bad = tmp_path / "t.yaml"
    for body, message in (("topics:\n  - {id: a, department: nowhere}\n", r"topics\[0\]: department must be one of"),
                          ("topics:\n  - {id: a, department: sales}\n  - {id: a, department: sales}\n", r"topics\[1\]: id 'a' is used twice"),
                          ("topics:\n  - {id: other, department: sales}\n", "reserved"),
                          ("topics: [\n", "not valid YAML")):
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(ConfigError, match=message) as info:
            voc.load_taxonomy(bad)
        assert str(bad) in str(info.value)


# ------------------------------------------------------------------ the sample month
def voc_store(folder, extra: pd.DataFrame | None = None) -> Store:
    """A SQLite store holding only the sample VOC verbatims (contact links dropped), plus ``extra`` rows."""
    s = Store(f"sqlite:///{folder / 'voc.sqlite'}")
    s.migrate()
    v = pd.read_csv(samples_dir() / "voc.csv", encoding="utf-8-sig", dtype=str).assign(contact_id=None)
    if extra is not None:
        v = pd.concat([v, extra], ignore_index=True)
    s.import_frame("voc", v, source="voc.csv")
    return s


@pytest.fixture(scope="module")
def october(tmp_path_factory):
    folder = tmp_path_factory.mktemp("voc")
    extra = pd.DataFrame([{"feedback_id": "VX1", "received_at": "2026-10-31 23:59:59", "channel": "online", "customer_tier": "gold",
                           "brand": "Aurora", "text": XSS, "lang": "zh", "csat": "1", "nps": "0", "category": "map_update"}])
    store = voc_store(folder, extra)
    voc.prepare_voc(store, "2026-10", folder / "report")
    return store, folder / "report", voc.voc_view(folder / "report")


def test_planted_surge_alerts_and_stable_topics_do_not(october):
    _, _, view = october
    a = view["alerts"].set_index("topic")
    assert a.loc["map_update", "alert"] and a.loc["map_update", "chart_signal"] and a.loc["map_update", "change_signal"]
    assert a.loc["map_update", "share"] > 2 * a.loc["map_update", "center"]
    assert not a.loc[STABLE, "alert"].any()
    # praise falls in share only because maps surge: judged without the surging topics it is stable
    assert "map_update" in a.loc["praise", "judged_without"]


def test_no_alert_for_stable_topics_in_any_month(october):
    _, _, view = october
    polarity = view["taxonomy"].set_index("topic")["polarity"].to_dict()
    for month in ("2026-06", "2026-07", "2026-08", "2026-09"):
        a = voc.emerging_issues(view["monthly"], month, polarity=polarity).set_index("topic")
        assert not a.loc[STABLE + ["map_update"], "alert"].any(), (month, a[a["alert"]].index.tolist())


def test_new_topic_surfaces_from_discovery(october):
    """app_connect is never labelled: the classifier leaves it in 'other', discovery names it as a new theme."""
    _, _, view = october
    new = view["discovered"][view["discovered"]["new"]]
    assert len(new) >= 1 and new["size"].sum() >= 20
    assert new["examples"].str.contains("App|app").all()
    assert view["alerts"].set_index("topic").loc[voc.OTHER, "alert"]
    labelled = view["verbatims"][view["verbatims"]["source"] == "label"]
    assert not labelled["text"].str.contains("App一直|App绑定").any()


def test_examples_are_masked_and_every_alert_has_them(october):
    _, _, view = october
    ex = view["examples"]
    for topic in view["alerts"].loc[view["alerts"]["alert"], "topic"]:
        assert (ex["topic"] == topic).sum() >= 1
    assert not ex["text"].str.contains(r"1[3-9]\d{9}|@example\.com").any()
    assert ex["text"].str.contains(r"\*\*\*\*").any()  # the planted XSS verbatim carries a masked phone number


def test_bad_input_changes_nothing(october, tmp_path):
    store, folder, _ = october
    before = sorted(p.name for p in (folder / "_data" / "voc").iterdir())
    with pytest.raises(ParameterError, match="history must be an integer >= 2"):
        voc.prepare_voc(store, "2026-10", folder, history=1)
    with pytest.raises(ParameterError, match="lang must be one of"):
        voc.topic_table(voc.voc_view(folder), "fr")
    assert sorted(p.name for p in (folder / "_data" / "voc").iterdir()) == before
    assert not list(tmp_path.iterdir())


def test_xlsx_topic_table(october):
    _, folder, view = october
    book = pd.read_excel(folder / "voc_topics_2026-10.xlsx", sheet_name=None)
    assert set(book) == {"话题 topics (zh)", "部门 departments (zh)", "topics (en)", "departments (en)"}
    en = book["topics (en)"].set_index("topic")
    assert en.loc["Map updates", "alert"] == "alert" and en["verbatims"].sum() == view["meta"]["verbatims"]
    # numbers for people: shares in %, the change in points, NPS whole, no 0.13719...
    row = en.loc["Map updates"]
    assert row["change (points)"] == round(row["share (%)"] - row["last month (%)"], 1) or abs(row["change (points)"] - (row["share (%)"] - row["last month (%)"])) < 0.11
    assert row["NPS"] == round(row["NPS"]) and 10 < row["share (%)"] < 100


def test_report_html_escapes_customer_text(october):
    """The notebook runs under the runner; the XSS verbatim is shown as text, masked, never as markup."""
    from qa_lib.reports.runner import month_reports

    store, folder, _ = october
    out, results = month_reports(store, "2026-10", kinds=("voc",), folder=folder, lang="en", progress=False)
    assert [r.ok for r in results] == [True], [r.error for r in results]
    page = (out / "voc_en.html").read_text(encoding="utf-8")
    assert "<script>alert('voc')" not in page and "<img src=x onerror" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "13812345678" not in page and "138****5678" in page
    assert "Map updates" in page and 'src="plotly.min.js"' in page and "cdn.plot.ly" not in page
    assert "voc_en.html" in (out / "index.html").read_text(encoding="utf-8")


def test_trends_zero_fill_and_name_weeks_by_monday():
    d = pd.DataFrame({"received_at": ["2026-10-05 10:00", "2026-10-11 23:00", "2026-10-12 01:00"], "topic": ["a", "b", "a"], "channel": ["x", "y", "x"]})
    w = voc.topic_trends(d, freq="W")
    assert w["period"].tolist() == ["2026-10-05", "2026-10-05", "2026-10-12", "2026-10-12"]
    assert w["n"].tolist() == [1, 1, 1, 0] and w["share"].tolist() == [0.5, 0.5, 1.0, 0.0]
    m = voc.topic_trends(d, by="channel", topics=["a", "b", "c"])
    assert len(m) == 1 * 2 * 3 and m.loc[(m["channel"] == "x") & (m["topic"] == "a"), "share"].item() == 1.0
    with pytest.raises(ParameterError, match="freq must be 'M'"):
        voc.topic_trends(d, freq="D")
    with pytest.raises(ParameterError, match="by must be a column"):
        voc.topic_trends(d, by="brand")


def test_a_tiny_month_still_reports_without_themes(tmp_path):
    """Eight identical verbatims in the report month: no themes to find, but the tables (and alerts) are still there."""
    rows = [{"feedback_id": f"T{i}", "received_at": f"2026-{9 + i // 20:02d}-{1 + i % 20:02d} 10:00:00", "channel": "online",
             "text": ("地图升级失败" if i % 2 or i >= 20 else "客服态度很好"), "lang": "zh", "csat": "3", "nps": "5",
             "category": ("map_update" if i % 2 or i >= 20 else "praise")} for i in range(28)]
    s = Store(f"sqlite:///{tmp_path / 't.sqlite'}")
    s.migrate()
    s.import_frame("voc", pd.DataFrame(rows), source="tiny.csv")
    voc.prepare_voc(s, "2026-10", tmp_path / "r", history=2)
    view = voc.voc_view(tmp_path / "r")
    assert view["meta"]["verbatims"] == 8 and view["discovered"].empty
    assert set(view["alerts"]["topic"]) >= {"map_update", "praise"}
    assert "<table" in voc.themes_html(view, "en")


# ------------------------------------------------------------------ missing or degenerate parts
def _tiny_store(folder, rows) -> Store:
    s = Store(f"sqlite:///{folder / 'tiny.sqlite'}")
    s.migrate()
    s.import_frame("voc", pd.DataFrame(rows), source="tiny.csv")
    return s


def _no_nan(view, lang):
    import re

    figs = voc.charts(view, lang)
    parts = [voc.headline(view, lang), "".join(voc.actions(view, lang)), voc.html_table(voc.topic_table(view, lang)), voc.alerts_html(view, figs, lang),
             voc.html_table(voc.satisfaction_table(view, lang)), voc.html_table(voc.department_table(view, lang)), voc.themes_html(view, lang),
             voc.model_html(view, lang)] + [voc.html_table(voc.breakdown_table(view, "by_" + k, lang)) for k in ("channel", "tier", "brand")]
    for part in parts:
        assert not re.search(r"\bnan\b", part, re.I), part


PUNCTUATION = ["-", "——", "！！！", "...", "？", "~"]


def test_punctuation_only_verbatims_no_survey_and_a_first_month_still_report(tmp_path):
    """A first month (no baseline), six verbatims that are only punctuation, no CSAT or NPS, too few verbatims for themes."""
    words = {"map_update": "地图升级失败，导航一直报错", "praise": "客服态度很好，问题当场解决"}
    rows = [{"feedback_id": f"W{i}", "received_at": f"2026-10-{1 + i:02d} 10:00:00", "channel": "online", "text": words[t], "lang": "zh", "category": t}
            for i, t in enumerate(["map_update", "praise"] * 8)]
    rows += [{"feedback_id": f"P{i}", "received_at": f"2026-10-{20 + i:02d} 10:00:00", "channel": "hotline", "text": t}
             for i, t in enumerate(PUNCTUATION)]
    voc.prepare_voc(_tiny_store(tmp_path, rows), "2026-10", tmp_path / "r", history=2)
    view = voc.voc_view(tmp_path / "r")
    v = view["verbatims"].set_index("feedback_id")
    assert (v.loc[[f"P{i}" for i in range(6)], "source"] == "empty").all() and (v.loc[[f"P{i}" for i in range(6)], "topic"] == voc.OTHER).all()
    m = view["meta"]
    assert (m["empty"], m["themes_note"], m["themes_usable"], m["alerts_note"]) == (6, "few", 16, "baseline") and view["discovered"].empty
    en = voc.headline(view, "en")
    assert "No survey answers this month (no CSAT, no NPS)" in en and "6 verbatims have no words" in en and "/5" not in en
    assert "本月没有满意度调查回答" in voc.headline(view, "zh")
    assert "Only 16 verbatims with words this month: looking for themes needs at least 20" in voc.themes_html(view, "en")
    assert "No earlier month of verbatims" in voc.alerts_html(view, voc.charts(view, "en"), "en") and not view["alerts"]["alert"].any()
    for lang in ("en", "zh"):
        _no_nan(view, lang)


def test_empty_text_never_reaches_scikit_learn():
    tokens = ["地图 升级 失败"] * 6 + ["屏幕 黑屏 死机"] * 6 + ["", " "] * 3
    labels = ["map_update"] * 6 + ["device_fault"] * 6 + ["map_update", "device_fault"] * 3
    clf = voc.TopicClassifier().fit(tokens, labels)  # the wordless examples are left out, not an "empty vocabulary"
    assert clf.predict(["", "地图 升级 失败"])["topic"].tolist() == [voc.OTHER, "map_update"]
    with pytest.raises(ParameterError, match="with words"):
        voc.TopicClassifier().fit(["", "-"] * 10, ["a", "b"] * 10)
    found = voc.discover_topics(["地图 升级 失败 导航", "屏幕 黑屏 死机 重启"] * 10 + [""] * 5, n_topics=2, min_df=2, max_df=0.9)
    assert (found.assignments["topic"].iloc[-5:] == -1).all() and found.topics["size"].sum() == 20
    with pytest.raises(ParameterError, match="at least n_topics \\(2\\) verbatims with words; got 1 of 6"):
        voc.discover_topics(["地图"] + [""] * 5, n_topics=2)


def test_no_labelled_verbatims_means_no_classifier_said_so(tmp_path):
    rows = [{"feedback_id": f"U{i}", "received_at": f"2026-{9 + i // 20:02d}-{1 + i % 20:02d} 10:00:00", "channel": "online",
             "text": "地图升级失败" if i % 2 else "客服态度很好", "csat": "4", "nps": "9"} for i in range(40)]
    voc.prepare_voc(_tiny_store(tmp_path, rows), "2026-10", tmp_path / "r", history=2)
    view = voc.voc_view(tmp_path / "r")
    assert view["meta"]["model_note"] == "labels" and set(view["verbatims"]["source"]) == {"no model"}
    assert "No topic classifier this month" in voc.model_html(view, "en") and "20 unlabelled verbatims count as" in voc.headline(view, "en")
    _no_nan(view, "en")


def test_a_month_without_verbatims_is_a_page_saying_what_to_import(october, tmp_path):
    store, _, _ = october
    voc.prepare_voc(store, "2027-01", tmp_path)
    view = voc.voc_view(tmp_path)
    assert view == {"meta": view["meta"]} and view["meta"]["missing"] == "verbatims"
    assert not voc.voc_prepared(tmp_path, "2027-01")  # looked at again next time: the report follows once verbatims are imported
    en = voc.headline(view, "en")
    assert "No VOC verbatims in 2027-01" in en and "qa import voc" in en and "qa report voc --month 2027-01 --force" in en
    assert "<code>qa import voc FILE</code>" in en and "`" not in en  # the command reads as code, not with bare backticks
    assert "2027-01 没有客户反馈" in voc.headline(view, "zh")


# ------------------------------------------------------------------ multiplicity and overdispersion (issue #17)
def test_alert_page_says_the_error_rate_in_both_languages(october):
    _, _, view = october
    zh, en = voc.alerts_html(view, {}, "zh"), voc.alerts_html(view, {}, "en")
    assert "Benjamini–Hochberg" in zh and "平均误报不超过 5%" in zh
    assert "at most 5 % of the alerts listed are false alarms" in en
    a = view["alerts"]
    assert a["q_value"].notna().all() and (a.loc[a["alert"], "q_value"] < 0.05).all() and (a.loc[~a["alert"], "q_value"] >= 0.05).all()


def overdispersed_trends(last_share: float, months: int = 6) -> pd.DataFrame:
    """Two topics over ``months`` months of 1,000 verbatims: 'a' swings 10 % / 20 % month to month (far more than
    binomially), then ``last_share`` in the last month; 'b' takes the rest."""
    shares = [0.10 if i % 2 == 0 else 0.20 for i in range(months - 1)] + [last_share]
    rows = [(f"2026-{i + 1:02d}", t, n) for i, s in enumerate(shares) for t, n in (("a", round(1000 * s)), ("b", 1000 - round(1000 * s)))]
    t = pd.DataFrame(rows, columns=["period", "topic", "n"]).assign(total=1000)
    return t.assign(share=t["n"] / t["total"])


def test_overdispersed_topic_gets_laney_limits_not_an_alert():
    """A share of 21 % after months of 10 % / 20 %: beyond the p-chart's limits (center 14 %, UCL 17.3 %), inside the
    p′ chart's (sigma_z ≈ 12); no alert. A jump to 60 % still alerts."""
    calm = voc.emerging_issues(overdispersed_trends(0.21), "2026-06").set_index("topic").loc["a"]
    assert calm["sigma_z"] > 5 and not calm["alert"] and not calm["chart_signal"]
    plain = voc.p_chart(overdispersed_trends(0.21).query("topic == 'a'")["n"].to_numpy(), [1000] * 6, baseline=np.arange(6) < 5)
    assert plain["out_of_control"].iloc[-1]  # the plain p-chart would have called it
    jump = voc.emerging_issues(overdispersed_trends(0.60), "2026-06").set_index("topic").loc["a"]
    assert jump["alert"] and jump["chart_signal"]


# ------------------------------------------------------------------ the page as its reader sees it (issue #18)
EMOJI = "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]"


def _page(view, lang):
    """The page's text blocks (the charts' JSON left out: it is no visible text)."""
    return "".join([voc.headline(view, lang), "".join(voc.actions(view, lang)), voc.html_table(voc.topic_table(view, lang)),
                    voc.alerts_html(view, {}, lang), voc.html_table(voc.satisfaction_table(view, lang)),
                    voc.html_table(voc.department_table(view, lang)), voc.themes_html(view, lang), voc.model_html(view, lang), voc.glossary_html(lang)]
                   + [voc.html_table(voc.breakdown_table(view, "by_" + k, lang)) for k in ("channel", "tier", "brand")])


def test_changes_of_shares_are_in_points_not_percent(october):
    _, _, view = october
    zh, en = voc.topic_table(view, "zh"), voc.topic_table(view, "en")
    assert zh["占比变化"].str.match(r"^([+−]?\d+\.\d 个百分点|—)$").all(), zh["占比变化"].tolist()
    assert en["change in share"].str.match(r"^([+−]?\d+\.\d pts|—)$").all()
    surge = zh.set_index("话题").loc["地图升级"]
    assert surge["占比变化"].startswith("+") and surge["占比"].endswith("%")


def test_last_months_csat_and_nps_are_labelled_as_such(october):
    _, _, view = october
    zh, en = voc.satisfaction_table(view, "zh"), voc.satisfaction_table(view, "en")
    assert "上月满意度" in zh.columns and "上月 NPS" in zh.columns and not any("上月占比" in c for c in zh.columns)
    assert "CSAT last month" in en.columns and "NPS last month" in en.columns


def test_one_nps_value_rounded_the_same_everywhere(october):
    _, _, view = october
    s = view["satisfaction"].set_index("topic").loc["map_update"]
    t = voc.topic_table(view, "zh").set_index("话题").loc["地图升级", "NPS"]
    u = voc.satisfaction_table(view, "zh").set_index("话题").loc["地图升级", "NPS"]
    assert t == u and re.fullmatch(r"[−]?\d+", t) and int(t.replace("−", "-")) == round(s["nps"]), (t, u)
    m = view["meta"]
    assert f"NPS <b>{round(m['nps']):d}</b>".replace("-", "−") in voc.headline(view, "zh")


def test_channels_and_tiers_read_as_words_of_the_page(october):
    _, _, view = october
    zh = voc.breakdown_table(view, "by_channel", "zh")
    assert {"热线", "在线", "邮件"} <= set(zh.columns) and not {"hotline", "online", "email"} & set(zh.columns)
    assert {"钻石卡", "金卡", "银卡"} <= set(voc.breakdown_table(view, "by_tier", "zh").columns)
    assert "No tier" in voc.breakdown_table(view, "by_tier", "en").columns
    alerts = voc.alerts_html(view, {}, "zh")
    assert not re.search(r"· (online|hotline|email) ·", alerts) and re.search(r"· (在线|热线|邮件) ·", alerts)


def test_no_emoji_a_text_badge_and_no_nan(october):
    _, _, view = october
    for lang, badge in (("zh", "新"), ("en", "new")):
        page = _page(view, lang)
        assert not re.search(EMOJI, page), re.findall(EMOJI, page)
        assert f"<span class='badge'>{badge}</span>" in voc.themes_html(view, lang)
        assert not re.search(r"\bnan\b|\d\.\d{5,}", page, re.I)


def test_one_emerging_issue_is_shown_once(october):
    """The planted app_connect issue: NMF splits the unclassified pool into several themes by phrasing; they share the
    word "app" (rare elsewhere), so the page shows one new issue — once in the headline, once in the actions, one row."""
    _, _, view = october
    issues = voc.new_issues(view)
    assert len(issues) == 1 and issues.iloc[0]["size"] >= 20 and view["meta"]["new_issues"] == 1
    assert all(re.search("App|app", x) for x in issues.iloc[0]["examples"])
    for lang, word in (("zh", "新问题"), ("en", "new issue")):
        acts = voc.actions(view, lang)
        assert sum(word in a.lower() for a in acts) == 1, acts
        assert not any(re.search("新主题|new theme", a, re.I) for a in acts)  # not also as "new themes"
        head = voc.headline(view, lang)
        assert head.lower().count(word) == 1 and re.search(r"<b>2</b>", head)  # the surge and the new issue: two things
        assert voc.themes_html(view, lang).count("class='badge'") == 1


def test_theme_issues_group_only_themes_sharing_a_distinctive_word():
    d = pd.DataFrame({"topic": [0, 100, 101, 102], "new": [False, True, True, True], "pool": ["all", "other", "other", "other"]})
    cur = pd.DataFrame({"topic": ["navigation"] * 20 + ["other"] * 30, "theme": [0] * 20 + [100] * 10 + [101] * 10 + [102] * 10})
    tokens = pd.Series(["导航 卡顿 谢谢"] * 20 + ["手机app 连不上 谢谢"] * 10 + ["app 绑定 失败"] * 10 + ["发票 邮寄 慢"] * 10, index=cur.index)
    assert voc.theme_issues(d, cur, tokens).tolist() == [0, 100, 100, 102]  # "谢谢" is common elsewhere: it links nothing


def test_headline_without_csat_says_so(october):
    _, _, view = october
    v = dict(view, meta=dict(view["meta"], csat=float("nan"), csat_n=0))
    for lang, said in (("zh", "本月没有 CSAT 回答"), ("en", "No CSAT answers this month")):
        head = voc.headline(v, lang)
        assert said in head and "/5" not in head and not re.search(r"\bnan\b", head, re.I) and "NPS <b>" in head
    v = dict(view, meta=dict(view["meta"], csat=float("nan"), csat_n=0, nps=float("nan"), nps_n=0))
    assert "No survey answers this month" in voc.headline(v, "en") and not re.search(r"\bnan\b", voc.headline(v, "zh"), re.I)


def test_the_words_a_manager_does_not_know_are_explained(october):
    _, _, view = october
    zh, en = voc.glossary_html("zh"), voc.glossary_html("en")
    for word in ("西电判异规则", "q 值", "macro-F1", "百分点", "3σ"):
        assert word in zh, word
    for word in ("Western Electric rules", "q value", "macro-F1", "percentage points"):
        assert word in en, word
    assert "1 表示完全一致" in voc.model_html(view, "zh") and "1 = always the same topic" in voc.model_html(view, "en")
    reason = voc.topic_table(view, "zh").set_index("话题").loc["地图升级", "原因"]
    assert "单点超出 3σ" in reason and "西电判异规则 1" not in reason  # the rule in words, not its number


def test_tables_prepared_before_issues_were_grouped_are_prepared_again(october, tmp_path):
    _, folder, _ = october
    import shutil

    shutil.copytree(folder / "_data", tmp_path / "_data")
    assert voc.voc_prepared(tmp_path, "2026-10")
    meta = pd.read_parquet(tmp_path / "_data" / "voc" / "meta.parquet").drop(columns="new_issues")
    meta.to_parquet(tmp_path / "_data" / "voc" / "meta.parquet", index=False)
    assert not voc.voc_prepared(tmp_path, "2026-10")
