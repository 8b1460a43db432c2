"""Text for pages: untrusted values escaped for HTML and inline Markdown, plotly figures as offline fragments.

Every page kind (agent, team, VOC, training, case library, digest) shows customer and inspector text through
:func:`escape` or :func:`md_text`; nothing here knows a center or a database.
"""

from __future__ import annotations

import html
import re

import numpy as np

__all__ = ["escape", "md_text", "figure_html", "month_axis", "escape_code"]


def figure_html(fig) -> str:
    """A plotly figure as an HTML fragment that uses the shared plotly.min.js beside the reports (no CDN)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def month_axis(fig, months, axis: str = "x"):
    """Make ``fig``'s ``axis`` a month axis that plotly cannot read as dates: one category per calendar month from the
    first to the last of ``months`` ("2026-08", …), gaps kept as empty slots. One month then draws as one labelled
    point, never as a time axis of milliseconds around midnight. Returns ``fig``.

    >>> import plotly.graph_objects as go
    >>> month_axis(go.Figure(go.Scatter(x=["2026-10"], y=[80])), ["2026-10"]).layout.xaxis.categoryarray
    ('2026-10',)
    >>> month_axis(go.Figure(), ["2026-10", "2026-08"]).layout.xaxis.categoryarray
    ('2026-08', '2026-09', '2026-10')
    """
    import pandas as pd

    found = sorted({str(pd.Period(m, freq="M")) for m in months if m is not None and m == m})
    every = [str(m) for m in pd.period_range(found[0], found[-1], freq="M")] if found else []
    fig.update_layout({f"{axis}axis": dict(type="category", categoryorder="array", categoryarray=every)})
    return fig


def escape(value) -> str:
    """HTML-escape customer or inspector text for display."""
    return html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!|~{}])")


def escape_code(value) -> str:
    """``value`` escaped for HTML, its `backticked` commands shown as code (a page's "run `qa import voc FILE`").

    >>> escape_code("运行 `qa import voc 文件` <b>")
    '运行 <code>qa import voc 文件</code> &lt;b&gt;'
    """
    import re

    return re.sub(r"`([^`\n]+)`", r"<code>\1</code>", escape(value))


def md_text(value) -> str:
    """Untrusted text for inline Markdown (a name in a heading): HTML-escaped, Markdown specials backslash-escaped (``#`` stays: entities need it, and it is mid-line), one line.

    Without the second step ``[x](javascript:…)`` in an agent's name would become a live link.

    >>> print(md_text("王[x](javascript:alert(1)) <b>"))
    王\\[x\\]\\(javascript:alert\\(1\\)\\) &lt;b&gt;
    """
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"\s*[\r\n]+\s*", " ", escape(value)))
