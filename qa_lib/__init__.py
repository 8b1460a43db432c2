"""qa_lib — quality assurance and coaching for customer-service centers.

Layers, bottom to top (docs/architecture.md; the import rules are checked by ``make test``):
:mod:`qa_lib.errors`; :mod:`qa_lib.stats` (array-level statistics); the domain modules (:mod:`qa_lib.model`,
:mod:`qa_lib.rubric`, :mod:`qa_lib.lifecycle`, :mod:`qa_lib.sampling`, :mod:`qa_lib.calibration`, :mod:`qa_lib.kpi`,
:mod:`qa_lib.scores`, :mod:`qa_lib.training`, :mod:`qa_lib.coaching`, :mod:`qa_lib.voc`, :mod:`qa_lib.ingest`,
:mod:`qa_lib.privacy`, :mod:`qa_lib.html`, :mod:`qa_lib.config` …); :mod:`qa_lib.store` (the one package that talks
to the database); the pages that read it (:mod:`qa_lib.reports`, with its runner and browser check,
:mod:`qa_lib.cases`, :mod:`qa_lib.digest`); the scoring widget (:mod:`qa_lib.workbench`); the sample generator
(:mod:`qa_lib.samples`, a tool); :mod:`qa_lib.cli` (``qa``) and ``notebooks/`` on top.
"""

from .errors import ConfigError, NotFoundError, ParameterError, Problem, QAError, StoreError, ValidationError

__version__ = "0.1.0"

__all__ = ["QAError", "ParameterError", "ConfigError", "StoreError", "NotFoundError", "ValidationError", "Problem", "__version__"]
