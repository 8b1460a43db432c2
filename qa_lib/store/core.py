"""The :class:`Store`: one object for a QA database, its parts by concern in the modules beside this one."""

from __future__ import annotations

from .autoqa import _AutoQA
from .base import _Database
from .evaluations import _Evaluations
from .imports import _Imports
from .plans import _PlansAndCoaching


class Store(_Imports, _Evaluations, _PlansAndCoaching, _AutoQA, _Database):
    """A QA database.

    Parameters
    ----------
    url : str or path, optional
        SQLAlchemy URL or SQLite file path; default ``$QA_DB_URL`` or ``data/qa.sqlite``.

    Examples
    --------
    >>> s = Store("sqlite://")          # in memory
    >>> s.migrate()
    '0006'
    >>> s.counts()["contacts"]
    0
    """
