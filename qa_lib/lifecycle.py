"""The evaluation lifecycle: which action is allowed in which state, and what state follows.

::

    draft ──save──▶ draft ──submit──▶ submitted ──release──▶ released ──acknowledge──▶ acknowledged
                                                               │
                                                               └─dispute──▶ disputed ──resolve──▶ resolved
                                                                                  (upheld, or rescored)

Every action adds a version to the evaluation's history (who, when, why); nothing is
overwritten or deleted. This module is pure: :mod:`qa_lib.store` persists the result.

>>> next_status("released", "dispute")
'disputed'
>>> next_status("draft", "acknowledge")
Traceback (most recent call last):
...
qa_lib.lifecycle.TransitionError: cannot acknowledge an evaluation that is draft; allowed now: save, submit
"""

from __future__ import annotations

from .errors import QAError

__all__ = ["TRANSITIONS", "ACTIONS", "AGENT_ACTIONS", "TransitionError", "ConflictError", "next_status", "allowed_actions"]

#: (current status, action) → next status.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "save"): "draft",
    ("draft", "submit"): "submitted",
    ("submitted", "release"): "released",
    ("released", "acknowledge"): "acknowledged",
    ("released", "dispute"): "disputed",
    ("disputed", "resolve"): "resolved",
}
ACTIONS = ("create", "import", "save", "submit", "release", "acknowledge", "dispute", "resolve")
#: Actions only the evaluated agent may take.
AGENT_ACTIONS = ("acknowledge", "dispute")
OUTCOMES = ("upheld", "rescored")


class TransitionError(QAError, ValueError):
    """An action that the evaluation's current status does not allow (e.g. acknowledging a draft)."""


class ConflictError(QAError):
    """Someone else changed the evaluation since it was read: reload and try again."""


def allowed_actions(status: str) -> list[str]:
    """Actions allowed from ``status``."""
    return [a for (s, a) in TRANSITIONS if s == status]


def next_status(status: str, action: str) -> str:
    """The status after ``action``; :class:`TransitionError` when not allowed."""
    if action not in ACTIONS:
        raise TransitionError(f"action must be one of {', '.join(ACTIONS)}; got {action!r}")
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        allowed = ", ".join(allowed_actions(status)) or "nothing (final)"
        raise TransitionError(f"cannot {action} an evaluation that is {status}; allowed now: {allowed}") from None
