"""qa_lib — quality assurance and coaching for customer-service centers.

Modules: :mod:`qa_lib.model` (the data model), :mod:`qa_lib.ingest` (reading and
validating files), :mod:`qa_lib.store` (the database), :mod:`qa_lib.samples` (the
sample-center generator), :mod:`qa_lib.rubric` (scorecards), :mod:`qa_lib.cli` (``qa``).
"""

from .errors import ConfigError, NotFoundError, ParameterError, Problem, QAError, StoreError, ValidationError

__version__ = "0.1.0"

__all__ = ["QAError", "ParameterError", "ConfigError", "StoreError", "NotFoundError", "ValidationError", "Problem", "__version__"]
