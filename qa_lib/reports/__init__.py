"""Reports: the month's shared tables, the report notebooks' views and charts, the notebook runner, the browser check.

The views and charts the report notebooks call are importable from here (``from qa_lib.reports import agent_view``);
the runner (:mod:`qa_lib.reports.runner`), the browser check (:mod:`qa_lib.reports.browser`) and the monthly CSV and
Markdown tables (:mod:`qa_lib.reports.monthly`) are imported from their modules, so a report kernel does not load them.
"""

from ..html import md_text  # noqa: F401  (moved to qa_lib.html; still importable here)
from .tables import (  # noqa: F401
    agent_charts,
    agent_headline,
    agent_view,
    ensure_month,
    escape,
    figure_html,
    prepare_month,
    report_folder,
    team_chart,
    team_view,
    training_folder,
    voc_folder,
)

__all__ = ["md_text", "prepare_month", "ensure_month", "report_folder", "agent_headline", "agent_view", "voc_folder", "training_folder", "team_view", "agent_charts", "team_chart", "figure_html", "escape"]
