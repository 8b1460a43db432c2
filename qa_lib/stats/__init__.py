"""Statistics: array-level functions with no knowledge of a center, a database or a report.

Each takes NumPy arrays (or a tidy DataFrame plus column names) and returns numbers or a tidy
DataFrame; each is checked in ``tests/`` against published values or a reference package. This
package imports only NumPy, SciPy, pandas and :mod:`qa_lib.errors` (an import-linter contract in
``pyproject.toml`` enforces it).

* :mod:`~qa_lib.stats.proportions` — Wilson, Clopper–Pearson and Newcombe intervals; the margin n buys; rates whose
  events cluster by day or carry design weights (effective n); the NPS score interval.
* :mod:`~qa_lib.stats.sample_size` — Cochran and Student-t sample sizes; ISO 2859-1 lot plans.
* :mod:`~qa_lib.stats.gstudy` — variance components (G-study) and what n calls buy (D-study).
* :mod:`~qa_lib.stats.survey` — Horvitz–Thompson estimates from a probability sample.
* :mod:`~qa_lib.stats.agreement` — Krippendorff's α, Fleiss' and Cohen's κ, Gwet's AC1/AC2, ICC, bootstrap.
* :mod:`~qa_lib.stats.shrinkage` — empirical Bayes for means and rates.
* :mod:`~qa_lib.stats.ppi` — prediction-powered means: automatic answers on every call corrected by the human sample.
* :mod:`~qa_lib.stats.spc` — p-charts (and Laney's p′), Western Electric rules, two-proportion tests.
"""

from .agreement import (
    LEVELS,
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
from .gstudy import calls_for_decision, calls_for_reliability, d_study, g_coefficient, variance_components
from .ppi import ppi_mean, ppi_means
from .proportions import (
    clopper_pearson_interval,
    clustered_wilson_interval,
    newcombe_interval,
    nps_interval,
    proportion_margin,
    weighted_wilson_interval,
    wilson_interval,
)
from .sample_size import cochran_sample_size, iso2859_code_letter, iso2859_plan, mean_margin, mean_sample_size
from .shrinkage import beta_binomial_shrinkage, normal_shrinkage, p_above
from .spc import p_chart, two_proportion_test, western_electric_rules
from .survey import ht_estimate

__all__ = [
    "LEVELS", "bootstrap_ci", "brennan_prediger", "cohen_kappa", "fleiss_kappa", "gwet_ac1", "gwet_ac2", "icc", "interpret_alpha",
    "krippendorff_alpha", "percent_agreement", "clopper_pearson_interval", "newcombe_interval", "proportion_margin",
    "wilson_interval", "cochran_sample_size", "iso2859_code_letter", "iso2859_plan", "mean_margin", "mean_sample_size",
    "beta_binomial_shrinkage", "normal_shrinkage", "p_above", "p_chart", "two_proportion_test", "western_electric_rules",
    "ht_estimate", "variance_components", "g_coefficient", "calls_for_reliability", "calls_for_decision", "d_study",
    "clustered_wilson_interval", "weighted_wilson_interval", "nps_interval", "ppi_mean", "ppi_means",
]
