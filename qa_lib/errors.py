"""The package's exceptions: one root, :class:`QAError`, and a few clear subclasses.

Every error a user can cause (a bad file, a bad parameter, a missing database) is a
:class:`QAError`, so a caller (the ``qa`` CLI, a notebook) can catch one class and
print the message instead of a traceback.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = [
    "require_columns",
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
    #: Rows this line stands for: 1, or N for a line that sums up N rows not listed one by one.
    count: int = field(default=1, compare=False)

    def __str__(self) -> str:
        return f"{self.source}:{self.row}:{self.column}: {self.message}"

    @property
    def check(self) -> tuple[str, str]:
        """(column, what is wrong without the value): the rule this problem broke, e.g. ``("talk_seconds", "not a number")``."""
        return self.column, _STEM.split(self.message, maxsplit=1)[0].strip()


_STEM = re.compile(r": |[;'\"(]| got ")  # where the value starts: "not a number: 'x'", "must be ≤ 5; got 9" (hh:mm:ss stays whole)


class ValidationError(QAError, ValueError):
    """An input failed validation; :attr:`problems` lists every problem found.

    Raised before anything is written, so the store is unchanged when it is seen.
    """

    max_shown = 50
    max_checks = 20

    def __init__(self, problems: list[Problem], what: str = "input"):
        self.problems = sorted(problems)
        self.what = what
        #: The true number of problems: lines that sum up rows not listed count for those rows.
        self.total = sum(p.count for p in self.problems)
        listed = self.problems[: self.max_shown]
        shown = "\n".join(f"  {p}" for p in listed)
        more = self.total - sum(p.count for p in listed)
        head = f"{what} rejected, nothing was stored: {self.total:,} problem{'s' * (self.total != 1)}"
        if more or len(listed) < self.total:
            head += self._by_check() + f"\nthe first {len(listed)} listed:"
        tail = f"\n  ... and {more:,} more" if more else ""
        super().__init__(f"{head}\n{shown}{tail}")

    def _by_check(self) -> str:
        """Per check (column and rule): the true number of rows and the first row, most rows first."""
        rows, first = Counter(), {}
        for p in self.problems:
            rows[p.check] += p.count
            first.setdefault(p.check, p.row)
        lines = [f"\n  {col or '(file)'}: {rule}: {n:,} row{'s' * (n != 1)} (first: row {first[col, rule]})"
                 for (col, rule), n in rows.most_common(self.max_checks)]
        extra = f"\n  ... and {len(rows) - self.max_checks:,} more checks" if len(rows) > self.max_checks else ""
        return f" in {len(rows):,} check{'s' * (len(rows) != 1)}:" + "".join(lines) + extra


def require_columns(frame, cols, what: str) -> None:
    """Refuse a frame that is not a DataFrame or lacks a column, naming what is missing and what there is."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{what} must be a DataFrame; got {type(frame).__name__}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ParameterError(f"{what} must have columns {list(cols)}; missing {missing} (it has {list(frame.columns)})")
