"""The evaluation lifecycle: which action is allowed in which state, and what state follows.

::

    draft ──save──▶ draft ──submit──▶ submitted ──release──▶ released ──acknowledge──▶ acknowledged
                                        │        ▲             │
                                        └correct─┘             └─dispute──▶ disputed ──resolve──▶ resolved
                                     (with a reason)                              (upheld, or rescored)

Every action adds a version to the evaluation's history (who, when, why); nothing is
overwritten or deleted. This module is pure: :mod:`qa_lib.store` persists the result.

Changing answers (:data:`EDIT_ACTIONS`, :func:`edit_action`): a draft is saved (or submitted);
a submitted evaluation not yet released is corrected, with a reason, by an inspector; once
released the agent has seen it, so the answers change only through the agent's dispute and
its resolution (:data:`CORRECTION_ROUTES`), or not at all once acknowledged.

What counts and who sees it (:data:`AUDIENCES`; the store applies it in one place,
:meth:`qa_lib.store.Store.evaluations`, which every report and score reads evaluations through):

* ``draft``: never counted, never shown, except to the inspector editing it (the scoring
  workbench, ``qa evaluation show``).
* :data:`COUNTED` (``submitted`` and every later status): team and manager pages, KPI and
  score tables, training needs, the case library, calibration, sampling history (audience ``team``).
* :data:`AGENT_VISIBLE` (``released`` and later): the evaluated agent's own page shows only these
  and computes its score and item rates from them alone (audience ``agent``); a submitted
  evaluation not yet released is neither counted nor quoted there, only counted ("2 more
  evaluations are awaiting release").
* ``disputed``: counted as scored, on every page, until the dispute is resolved (then the
  resolution's score counts); pages flag it as under dispute. The case library is stricter and
  uses no evaluation under dispute (:mod:`qa_lib.cases`).

>>> statuses("agent")
('released', 'acknowledged', 'disputed', 'resolved')

>>> next_status("released", "dispute")
'disputed'
>>> next_status("draft", "acknowledge")
Traceback (most recent call last):
...
qa_lib.lifecycle.TransitionError: cannot acknowledge an evaluation that is draft; allowed now: save, submit
"""

from __future__ import annotations

from .errors import ParameterError, QAError

__all__ = ["TRANSITIONS", "ACTIONS", "AGENT_ACTIONS", "STATUSES", "COUNTED", "AGENT_VISIBLE", "AUDIENCES", "HISTORY_FILE", "TransitionError",
           "ConflictError", "next_status", "allowed_actions", "statuses", "EDIT_ACTIONS", "REASON_ACTIONS", "CORRECTION_ROUTES", "edit_action"]

#: (current status, action) → next status.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "save"): "draft",
    ("draft", "submit"): "submitted",
    ("submitted", "release"): "released",
    ("submitted", "correct"): "submitted",
    ("released", "acknowledge"): "acknowledged",
    ("released", "dispute"): "disputed",
    ("disputed", "resolve"): "resolved",
}
ACTIONS = ("create", "import", "save", "submit", "release", "acknowledge", "dispute", "resolve", "correct")
#: Actions only the evaluated agent may take.
AGENT_ACTIONS = ("acknowledge", "dispute")
OUTCOMES = ("upheld", "rescored")
#: The file of a samples folder listing the lifecycle actions taken after its evaluations were imported (written by
#: ``qa samples``, applied by :func:`qa_lib.store.load_samples`, each action a version): evaluation_id, action, actor, at,
#: item_id (a dispute's item), reason, outcome (a resolution's).
HISTORY_FILE = "evaluation_history.csv"
#: Every status, in lifecycle order.
STATUSES = ("draft", "submitted", "released", "acknowledged", "disputed", "resolved")
#: Statuses that count (team, manager and KPI pages, scores, training, cases, calibration, sampling history): all but drafts.
COUNTED = ("submitted", "released", "acknowledged", "disputed", "resolved")
#: Statuses the evaluated agent sees, and the only ones their own page scores from: released and after.
AGENT_VISIBLE = ("released", "acknowledged", "disputed", "resolved")
#: Who reads → the statuses they count and see. ``inspector``: every status, drafts included (the scoring workbench,
#: and a sampling draw, which must not pick a contact someone is scoring).
AUDIENCES: dict[str, tuple[str, ...]] = {"team": COUNTED, "agent": AGENT_VISIBLE, "inspector": STATUSES}
#: Status → the action that changes an evaluation's answers in it: a draft is saved, a submitted one corrected (with a
#: reason: the agent's team already counts it). No other status is edited by an inspector (:data:`CORRECTION_ROUTES`).
EDIT_ACTIONS: dict[str, str] = {"draft": "save", "submitted": "correct"}
#: Actions that need a reason (why the answers changed), stored in the version's history.
REASON_ACTIONS = ("correct",)
#: Status → why an inspector cannot change the answers now, and the way instead.
CORRECTION_ROUTES: dict[str, str] = {
    "released": "it is released to the agent (who has seen it): answers now change only through the agent's dispute and its "
                "resolution as rescored (with the corrected answers and a note), which the agent sees",
    "acknowledged": "the agent acknowledged it: it is final and its answers no longer change",
    "disputed": "it is under dispute: resolve the dispute as rescored, with the corrected answers and a note",
    "resolved": "its dispute is resolved: the resolution is final",
}


class TransitionError(QAError, ValueError):
    """An action that the evaluation's current status does not allow (e.g. acknowledging a draft)."""


class ConflictError(QAError):
    """Someone else changed the evaluation since it was read: reload and try again."""


def statuses(audience: str) -> tuple[str, ...]:
    """The statuses ``audience`` (``team``, ``agent`` or ``inspector``) counts and sees; see :data:`AUDIENCES`."""
    try:
        return AUDIENCES[audience]
    except (KeyError, TypeError):
        raise ParameterError(f"audience must be one of {', '.join(AUDIENCES)}; got {audience!r}") from None


def allowed_actions(status: str) -> list[str]:
    """Actions allowed from ``status``."""
    return [a for (s, a) in TRANSITIONS if s == status]


def edit_action(status: str, *, submit: bool = False) -> str:
    """The action that changes the answers of an evaluation that is ``status`` (``submit``: a draft is submitted too).

    >>> edit_action("submitted")
    'correct'
    >>> edit_action("released")
    Traceback (most recent call last):
    ...
    qa_lib.lifecycle.TransitionError: cannot change the answers of an evaluation that is released: it is released to the agent (who has seen it): answers now change only through the agent's dispute and its resolution as rescored (with the corrected answers and a note), which the agent sees
    """
    if status not in STATUSES:
        raise ParameterError(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
    if status not in EDIT_ACTIONS:
        raise TransitionError(f"cannot change the answers of an evaluation that is {status}: {CORRECTION_ROUTES[status]}")
    return "submit" if submit and status == "draft" else EDIT_ACTIONS[status]


def next_status(status: str, action: str) -> str:
    """The status after ``action``; :class:`TransitionError` when not allowed."""
    if action not in ACTIONS:
        raise TransitionError(f"action must be one of {', '.join(ACTIONS)}; got {action!r}")
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        allowed = ", ".join(allowed_actions(status)) or "nothing (final)"
        raise TransitionError(f"cannot {action} an evaluation that is {status}; allowed now: {allowed}") from None
