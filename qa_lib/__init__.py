"""qa_lib — quality assurance and coaching for customer-service centers.

Statistics (pure): :mod:`qa_lib.sampling` (intervals, sample sizes, plans),
:mod:`qa_lib.calibration` (agreement statistics), :mod:`qa_lib.scores` (empirical-Bayes
agent scores), :mod:`qa_lib.kpi` (seed-000 KPIs with intervals). Domain: :mod:`qa_lib.model` (the data
model), :mod:`qa_lib.ingest` (reading and validating files), :mod:`qa_lib.rubric`
(scorecards and scoring), :mod:`qa_lib.lifecycle` (evaluation states),
:mod:`qa_lib.privacy` (PII masking), :mod:`qa_lib.samples` (the sample center),
:mod:`qa_lib.summary`, :mod:`qa_lib.sheets` (Excel scoring sheets). Store and glue:
:mod:`qa_lib.store` (the one module that touches the database), :mod:`qa_lib.worklists`,
:mod:`qa_lib.monthly`, :mod:`qa_lib.workbench`. Front ends: :mod:`qa_lib.cli` (``qa``) and ``notebooks/``.
"""

from .errors import ConfigError, NotFoundError, ParameterError, Problem, QAError, StoreError, ValidationError

__version__ = "0.1.0"

__all__ = ["QAError", "ParameterError", "ConfigError", "StoreError", "NotFoundError", "ValidationError", "Problem", "__version__"]
