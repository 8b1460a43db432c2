"""The package's exceptions: one root, :class:`QAError`, and a few clear subclasses.

Every error a user can cause (a bad file, a bad parameter, a missing database) is a
:class:`QAError`, so a caller (the ``qa`` CLI, a notebook) can catch one class and
print the message instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "QAError",
    "ParameterError",
    "ConfigError",
    "StoreError",
    "NotFoundError",
    "ValidationError",
    "Problem",
]


class QAError(Exception):
    """Root of every error raised on purpose by :mod:`qa_lib`."""


class ParameterError(QAError, ValueError):
    """A function argument has a value outside what the function accepts."""


class ConfigError(QAError):
    """The environment or a configuration file is unusable (bad URL, missing folder)."""


class StoreError(QAError):
    """The database cannot be opened, migrated or written."""


class NotFoundError(QAError, LookupError):
    """A requested record (agent, contact, scorecard version ...) does not exist."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input: where it is and what is wrong.

    ``row`` counts like a spreadsheet: the header is row 1, the first data row is row 2.
    ``row`` is 0 for a problem with the file as a whole, ``column`` is empty when no
    single column is at fault.
    """

    source: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.row}:{self.column}: {self.message}"


class ValidationError(QAError, ValueError):
    """An input failed validation; :attr:`problems` lists every problem found.

    Raised before anything is written, so the store is unchanged when it is seen.
    """

    max_shown = 50

    def __init__(self, problems: list[Problem], what: str = "input"):
        self.problems = sorted(problems)
        self.what = what
        n = len(self.problems)
        shown = "\n".join(f"  {p}" for p in self.problems[: self.max_shown])
        more = f"\n  ... and {n - self.max_shown} more" if n > self.max_shown else ""
        super().__init__(
            f"{what} rejected, nothing was stored: {n} problem{'s' * (n != 1)}\n{shown}{more}"
        )
