"""Open generated reports in headless Chromium: the DOM after scripts ran, screenshots, a CJK check.

The reports are static HTML with plotly.js beside them; what a reader sees is only known once a
browser has run their scripts. :func:`render` loads a page from disk (``file://``, no network: the
background services are off and every host name resolves to nothing) in a throw-away profile
and returns the DOM as serialized after scripts ran (``--dump-dom``), optionally writing a
screenshot in the same run. :func:`screenshots` writes one screenshot per report kind of a month's
folder; :func:`cjk_renders` tells whether Chinese text is drawn with real glyphs (not tofu).

Chromium is found with :func:`find_chromium` (``QA_CHROMIUM``, then ``chromium``,
``chromium-browser``, ``google-chrome`` on the PATH). Screenshots are decoded by a small PNG
reader (:func:`png_pixels`, NumPy only) so no imaging library is needed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import unicodedata
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import ConfigError, ParameterError, QAError

__all__ = ["FLAGS", "find_chromium", "render", "screenshot", "png_pixels", "is_blank", "cjk_renders", "report_pages", "screenshots",
           "Finding", "PageScan", "visible_text", "scan_text", "missing_glyphs", "month_labels", "month_pages", "scan_month", "scan_summary"]

#: Flags of every run: headless, no sandbox (containers), no GPU, no background traffic, no network.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND")
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium(path: str | os.PathLike | None = None) -> str | None:
    """The Chromium executable: ``path``, else ``$QA_CHROMIUM``, else the first of chromium / chromium-browser / google-chrome on the PATH; None if none."""
    from ..config import settings

    for cand in (path, settings().chromium, *_NAMES):
        if cand and (found := shutil.which(str(cand))):
            return found
    return None


def _url(page: str | os.PathLike) -> str:
    s = str(page)
    if s.startswith(("file://", "data:", "about:")):
        return s
    p = Path(s)
    if not p.is_file():
        raise ParameterError(f"page must be an existing file or a file:// URL; got {s!r}")
    return p.resolve().as_uri()


def render(page: str | os.PathLike, *, screenshot: str | os.PathLike | None = None, window: tuple[int, int] = (1200, 3000),
           budget_ms: int = 8000, timeout: float = 90, chromium: str | None = None) -> str:
    """Load ``page`` (a file or ``file://`` URL) in headless Chromium and return the DOM after its scripts ran.

    Parameters
    ----------
    page : path or str
        The HTML file (or a ``file://`` / ``data:`` URL).
    screenshot : path, optional
        Also write a PNG screenshot of the ``window`` (width, height) in the same run.
    budget_ms : int
        Virtual time the page's scripts get before the DOM is taken (``--virtual-time-budget``).
    timeout : float
        Seconds of real time before the browser (and its child processes) are killed.
    chromium : str, optional
        The executable (default :func:`find_chromium`).

    Returns
    -------
    str
        The serialized DOM (``document.documentElement.outerHTML``).

    Raises
    ------
    ConfigError
        No Chromium found.
    QAError
        The browser failed or timed out.
    """
    url = _url(page)
    if not (isinstance(window, tuple) and len(window) == 2 and all(isinstance(v, int) and 100 <= v <= 20000 for v in window)):
        raise ParameterError(f"window must be (width, height) in pixels, each 100-20000; got {window!r}")
    exe = find_chromium(chromium)
    if exe is None:
        raise ConfigError("Chromium is not installed: apt-get install chromium (or set QA_CHROMIUM to the executable)")
    with tempfile.TemporaryDirectory(prefix="qa-chromium-") as profile:
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={int(budget_ms)}", f"--window-size={window[0]},{window[1]}"]
        if screenshot is not None:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            cmd.append(f"--screenshot={Path(screenshot).resolve()}")
        cmd += ["--dump-dom", url]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, cwd=profile)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the browser's own process group: its renderers go too
            proc.communicate()
            raise QAError(f"Chromium did not finish {url} within {timeout} s") from None
    if proc.returncode != 0 or not out.strip():
        tail = [ln for ln in err.decode("utf-8", "replace").splitlines() if "dbus" not in ln][-5:]
        raise QAError(f"Chromium failed on {url} (exit {proc.returncode}): " + " | ".join(tail))
    if screenshot is not None and not Path(screenshot).is_file():
        raise QAError(f"Chromium wrote no screenshot for {url}")
    return out.decode("utf-8", "replace")


def screenshot(page: str | os.PathLike, path: str | os.PathLike, *, window: tuple[int, int] = (1200, 3000), **kw) -> Path:
    """Write a PNG screenshot of ``page`` to ``path`` (see :func:`render`); returns ``path``."""
    render(page, screenshot=path, window=window, **kw)
    return Path(path)


def _unfilter_row(f: int, line: list, prev: list, channels: int) -> np.ndarray:
    """Undo the Average (3) or Paeth (4) filter of one row (sequential within the row; plain ints are fastest here)."""
    cur = [0] * len(line)
    for i, v in enumerate(line):
        a = cur[i - channels] if i >= channels else 0
        b = prev[i]
        if f == 3:
            cur[i] = (v + ((a + b) >> 1)) & 255
        else:
            c = prev[i - channels] if i >= channels else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            cur[i] = (v + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return np.asarray(cur, dtype=np.int16)


def png_pixels(path: str | os.PathLike, rows: int | None = None) -> np.ndarray:
    """The pixels of an 8-bit, non-interlaced RGB / RGBA / grey PNG (what Chromium writes) as ``(height, width, channels)`` uint8.

    ``rows`` decodes only the top rows (faster for a region check).
    """
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ParameterError(f"path must be a PNG file; got {path}")
    pos, idat, head = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + n
    width, height, depth, color, _, _, interlace = head
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or interlace or channels is None:
        raise ParameterError(f"only 8-bit non-interlaced grey/RGB/RGBA PNGs are read; got depth {depth}, colour type {color}, interlace {interlace}")
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    stride = width * channels
    h = height if rows is None else min(int(rows), height)
    lines = raw[: (stride + 1) * height].reshape(height, stride + 1)[:h]
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int16)
    for y in range(h):  # PNG filters chain row to row; Average and Paeth also chain within a row, byte by byte
        f, line = lines[y, 0], lines[y, 1:].astype(np.int16)
        if f == 0:
            cur = line
        elif f == 1:
            cur = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1) % 256
        elif f == 2:
            cur = (line + prev) % 256
        elif f in (3, 4):
            cur = _unfilter_row(f, line.tolist(), prev.tolist(), channels)
        else:
            raise ParameterError(f"path must be a valid PNG; row {y} has filter type {f}")
        out[y] = cur
        prev = np.asarray(cur, dtype=np.int16)
    return out.reshape(h, width, channels)


def is_blank(pixels: np.ndarray, min_share: float = 0.002) -> bool:
    """True when fewer than ``min_share`` of the pixels differ from the most common colour (an empty region)."""
    rgb = pixels[..., :3].reshape(-1, 3).astype(np.int32)
    key = rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2]
    values, counts = np.unique(key, return_counts=True)
    background = values[counts.argmax()]
    return bool((key != background).mean() < min_share)


_CJK_PAGE = ("<html><head><meta charset='utf-8'><style>body{margin:0;background:#fff}div{position:absolute;left:10px;font:48px sans-serif;color:#000}"
             "</style></head><body><div style='top:10px'>质检报告客户之声</div><div style='top:110px'>\ue000\ue001\ue002\ue003\ue004\ue005\ue006\ue007</div></body></html>")


def cjk_renders(chromium: str | None = None, folder: str | os.PathLike | None = None) -> bool:
    """True when Chromium draws Chinese text with real glyphs: the text is not blank and differs from
    the same number of private-use characters (which every font lacks: tofu or nothing)."""
    with tempfile.TemporaryDirectory(prefix="qa-cjk-") as tmp:
        page = Path(tmp) / "cjk.html"
        page.write_text(_CJK_PAGE, encoding="utf-8")
        shot = Path(folder or tmp) / "cjk.png"
        render(page, screenshot=shot, window=(500, 200), budget_ms=1000, chromium=chromium)
        px = png_pixels(shot)[..., :3]
    zh, pua = px[5:95, :480], px[105:195, :480]
    return not is_blank(zh) and not np.array_equal(zh, pua)


def report_pages(folder: str | os.PathLike) -> dict[str, Path]:
    """One page per report kind found in a month's report folder (agents, teams, voc, training, cases, digest).

    The digest is looked for in ``folder/digest`` and in the ``digest`` folder beside ``folder``
    (``reports/digest`` is where ``qa digest`` writes it).
    """
    folder = Path(folder)
    globs = {"agents": ["agents/*.html"], "teams": ["teams/*.html"], "voc": ["voc_*.html"], "training": ["training/all_*.html", "training/*.html"],
             "cases": ["cases/index.html"], "digest": ["digest/digest_*.html", "../digest/digest_*.html", "digest_*.html"]}
    found = {}
    for kind, patterns in globs.items():
        for pattern in patterns:
            hits = sorted(folder.glob(pattern))
            if hits:
                found[kind] = hits[-1] if kind == "digest" else hits[0]
                break
    return found


def screenshots(folder: str | os.PathLike, out: str | os.PathLike | None = None, *, chromium: str | None = None,
                window: tuple[int, int] = (1200, 3000)) -> dict[str, Path]:
    """Write one screenshot per report kind of a month's report ``folder`` into ``out`` (default ``reports/screenshots``).

    Returns ``{kind: png}`` for the kinds found (see :func:`report_pages`); a folder without any
    report is a :class:`ParameterError`.
    """
    pages = report_pages(folder)
    if not pages:
        raise ParameterError(f"folder must hold generated reports (agents/, teams/, voc_*.html, training/, cases/, digest); none in {folder}")
    if out is None:
        from ..config import reports_dir

        out = reports_dir() / "screenshots"
    out = Path(out)
    return {kind: screenshot(page, out / f"{kind}.png", window=window, chromium=chromium) for kind, page in pages.items()}


# ------------------------------------------------------------------ what a reader sees, scanned
class Finding(NamedTuple):
    """One defect in a page's visible text: the ``rule`` it breaks and an ``excerpt`` around it."""

    rule: str
    excerpt: str


@dataclass
class PageScan:
    """One page of a month as :func:`scan_month` read it: its file, kind, language, screenshot and findings."""

    page: Path
    kind: str
    lang: str
    screenshot: Path | None
    findings: list[Finding] = field(default_factory=list)


#: Elements whose content no reader sees: code, styles, the document head, templates.
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "title", "defs", "clippath", "metadata", "iframe", "object"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
#: Block-level (and SVG text) elements: their text is separated from the text around them.
_BLOCKS = {"address", "article", "aside", "blockquote", "caption", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
           "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
           "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "text", "svg", "g", "option"}
_CELLS = {"td", "th"}
#: Plotly's machinery that is not part of a chart as drawn: the toolbar, hover labels, notices, drag handles.
_HIDDEN_CLASSES = {"modebar-container", "modebar", "hoverlayer", "plotly-notifier", "anchor-link", "jp-InputPrompt", "jp-OutputPrompt",
                   "drag", "zoomlayer", "menulayer"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden)

    def _hidden(self, tag: str, attrs: dict) -> bool:
        if tag in _SKIP_TAGS or "hidden" in attrs or attrs.get("aria-hidden") == "true":
            return True
        if _HIDDEN_STYLE.search(attrs.get("style") or ""):
            return True
        return bool(set((attrs.get("class") or "").split()) & _HIDDEN_CLASSES)

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        a = {k.lower(): v for k, v in attrs}
        hidden = (self.stack and self.stack[-1][1]) or self._hidden(tag, a)
        if not hidden:
            if tag in _BLOCKS or tag == "br":
                self.out.append("\n")
            elif tag in _CELLS:
                self.out.append("\t")
        if tag not in _VOID:
            self.stack.append((tag, bool(hidden)))

    def handle_startendtag(self, tag, attrs):
        if tag.lower() == "br" and not (self.stack and self.stack[-1][1]):
            self.out.append("\n")

    def handle_endtag(self, tag):
        tag = tag.lower()
        if not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            t, hidden = self.stack.pop()
            if t == tag:
                break
        if not hidden and (tag in _BLOCKS or tag in _CELLS):
            self.out.append("\n" if tag in _BLOCKS else "\t")

    def handle_data(self, data):
        if not (self.stack and self.stack[-1][1]):
            self.out.append(data)


def visible_text(page: str | os.PathLike, *, dom: str | None = None, chromium: str | None = None) -> str:
    """The text a reader sees on ``page`` after its scripts ran: the DOM Chromium dumps (:func:`render`), without
    scripts, styles, the head, hidden elements and plotly's toolbar and hover layer, but with the text plotly draws
    as SVG (titles, tick labels, legends, annotations). Collapsed ``<details>`` count as visible (one click away).

    ``dom``: an already dumped DOM (or any HTML) to read instead of rendering ``page``. Blocks are separated by
    line breaks, table cells by tabs; runs of blank lines are squeezed.
    """
    if dom is None:
        dom = render(page, chromium=chromium)
    p = _Visible()
    p.feed(dom)
    p.close()
    text = "".join(p.out).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", lambda m: "\t" if "\t" in m.group(0) else " ", ln).strip(" \t") for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


_A = r"A-Za-z0-9_"
#: Missing values printed as words (pandas/NumPy/Python/JavaScript spellings); "None" followed by a lowercase word is English prose.
_MISSING = re.compile(rf"(?<![{_A}])(?:nan|NaN|NAN|NaT|<NA>|[-+−]?inf|[-+−]?Infinity|None(?!\s+[a-z]))(?![{_A}])")
_MISSING_CELLS = {"undefined", "null", "NULL"}  # words of English prose too ("α undefined"): only as a whole cell
_LONG = re.compile(rf"(?<![{_A}.])\d+\.\d{{5,}}(?![{_A}])|(?<![{_A}.\-])\d+(?:\.\d+)?[eE][-+]\d{{1,3}}(?![{_A}.])")  # 1.6e-08, not EX-8423e953
_NUM = r"[-−+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−+]?\d+(?:\.\d+)?"
_SEP = r"\s*(?:–|~|～|至|到)\s*|\s+to\s+"
_RANGE = re.compile(rf"(?<![\w.:/\-−])({_NUM})\s*%?(?:{_SEP})({_NUM})\s*(%?)(?![\w.:/\-]\d|\d)")
_HYPHEN = re.compile(r"(?<![\w.:/\-−])(\d+\.\d+)-(\d+\.\d+)(%?)(?![\w.:/\-]\d|\d)")  # 79.7-117.8 (never a date: decimals)
_BRACKET = re.compile(rf"[\[［]\s*({_NUM})\s*%?\s*[,，]\s*({_NUM})\s*(%?)\s*[\]］]")
#: Units after an interval that are not on the 0–100 scale: counts, times (skip), or signed changes (−100…100).
_UNBOUNDED = re.compile(r"\s*(?:秒|分钟|小时|天|次|通|个(?!百分点)|名|人|条|件|元|位|周|月|年|s\b|ms\b|sec|min|h\b|hours?|days?|weeks?|months?|"
                        r"calls?|contacts?|evaluations?|agents?|verbatims?|comments?|times?|people|answers?|items?)", re.I)
_SIGNED = re.compile(r"\s*(?:个百分点|百分点|pts?\b|points?\b|pp\b)", re.I)
_NPS = re.compile(r"NPS|净推荐", re.I)
_CODE = re.compile(r"Traceback \(most recent call last\)|\b\w+(?:Warning|Error): |<(?:pandas|matplotlib|Figure|plotly)\b|object at 0x[0-9a-f]+|"
                   r"\bdtype: \w+|\bName: \w+, dtype")
#: Plain-word ids that are also the words a page shows as a value ("none": no focus items); never flagged.
_WORD_VALUES = {"none", "yes", "no", "partial", "na"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORDS = re.compile(r"\b[A-Za-z]{3,}\b")
_SNAKE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+")
_ANY_SNAKE = re.compile(r"(?<![A-Za-z0-9_./\\-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_/\\-]|\.[A-Za-z0-9])")
#: Characters no font of a page has (emoji above the BMP, variation selectors, private use) and the replacement character.
_TOFU = re.compile("[\ufffd\ue000-\uf8ff\ufe0e\ufe0f\U0001f000-\U0001faff\U000e0000-\U000e007f"
                   # the BMP characters drawn as emoji by default (Emoji_Presentation): ✅ ❌ ⭐ ⌛ …
                   "\u231a\u231b\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1\u26aa\u26ab"
                   "\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2705\u270a\u270b\u2728\u274c"
                   "\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55]")


def _excerpt(text: str, start: int, end: int, width: int = 40) -> str:
    a, b = max(0, start - width), min(len(text), end + width)
    return ("…" if a else "") + re.sub(r"\s+", " ", text[a:b]).strip() + ("…" if b < len(text) else "")


def _number(s: str) -> float:
    return float(s.replace(",", "").replace("−", "-"))


def _out_of_scale(text: str, m: re.Match, scale: tuple[float, float]) -> bool:
    a, b = _number(m.group(1)), _number(m.group(2))
    after = text[m.end():m.end() + 12]
    if _UNBOUNDED.match(after) and not m.group(3):
        return False
    if all(re.fullmatch(r"(19|20)\d\d", g) for g in (m.group(1), m.group(2))):
        return False  # years
    lo, hi = scale
    percent = bool(m.group(3)) or "%" in m.group(0)
    if _SIGNED.match(after) or _NPS.search(text[max(0, m.start() - 30):m.start()]) or (a < 0 and not percent):
        lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))  # a signed quantity (NPS, a change): −100…100
    return not (lo <= a <= hi and lo <= b <= hi) or a > b


def scan_text(text: str, *, labels: Iterable[str] = (), scale: tuple[float, float] = (0.0, 100.0), columns: bool = True) -> list[Finding]:
    """What a reader should never see in ``text`` (a page's visible text, see :func:`visible_text`), as findings.

    Rules (``Finding.rule``):

    * ``missing`` — a missing value printed as a word: ``nan``, ``NaN``, ``None``, ``NaT``, ``<NA>``, ``inf``
      (``None`` followed by a lowercase word is English prose and passes), and ``undefined`` / ``null`` as a whole cell;
    * ``long_decimal`` — a number with five or more decimals, or in scientific notation (a raw float);
    * ``out_of_scale`` — an interval ``a–b``, ``a to b``, ``a 至 b``, ``a~b`` or ``[a, b]`` with an end outside
      ``scale`` (scores and percentages: 0–100) or its ends reversed; intervals followed by a count or time unit
      (秒, calls, 次 …) are not on the scale and pass; changes in points (个百分点, pts), NPS and intervals without
      ``%`` starting below zero (a signed quantity) may be −100…100, a percentage never;
    * ``id`` — one of ``labels`` (ids that have a label: scorecard items, skill codes, …) shown instead of its label:
      an id with ``_`` anywhere as a word, a plain-word id (``empathy``) when it is a whole line or table cell;
    * ``snake_case`` (``columns``) — any other lowercase ``snake_case`` word: a data frame's column name or a code
      shown as it is (``team_rate``, ``start_time``); file names (``plan_2026-10.xlsx``) pass;
    * ``tofu`` — the replacement character, a private-use character or an emoji no page font draws;
    * ``bilingual`` — a "中文 / English" pair as a line of its own (a heading, a title, a header written twice): a page
      is in one language; flagged when a line is two parts around " / ", one Chinese, the other two English words or more;
    * ``code_output`` — Python output that leaked onto the page (a traceback, a warning, a Series' ``dtype``).
    """
    if not isinstance(text, str):
        raise ParameterError(f"text must be a str; got {type(text).__name__}")
    found: list[Finding] = []
    for m in _MISSING.finditer(text):
        found.append(Finding("missing", _excerpt(text, m.start(), m.end())))
    for cell in re.split(r"[\n\t]", text):
        if cell.strip() in _MISSING_CELLS:
            found.append(Finding("missing", cell.strip()))
    for m in _LONG.finditer(text):
        found.append(Finding("long_decimal", _excerpt(text, m.start(), m.end())))
    for rx in (_RANGE, _HYPHEN, _BRACKET):
        for m in rx.finditer(text):
            if _out_of_scale(text, m, scale):
                found.append(Finding("out_of_scale", _excerpt(text, m.start(), m.end())))
    ids = {str(i) for i in labels if isinstance(i, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(i))}
    snake = {i for i in ids if "_" in i}
    for m in _SNAKE.finditer(text):
        if m.group(0) in snake and not (m.start() and text[m.start() - 1] in "./\\-") and not re.match(r"\.[A-Za-z0-9]", text[m.end():m.end() + 2]):
            found.append(Finding("id", _excerpt(text, m.start(), m.end())))
    if columns:
        for m in _ANY_SNAKE.finditer(text):
            if m.group(0) not in snake:
                found.append(Finding("snake_case", _excerpt(text, m.start(), m.end())))
    plain = ids - snake - _WORD_VALUES
    if plain:
        for cell in re.split(r"[\n\t]", text):
            if cell.strip() in plain:
                found.append(Finding("id", cell.strip()))
    for m in _TOFU.finditer(text):
        found.append(Finding("tofu", f"U+{ord(m.group(0)):04X} " + _excerpt(text, m.start(), m.end())))
    for line in text.split("\n"):
        parts = re.split(r"\s/\s", line.strip())
        if len(parts) == 2 and len(line) <= 120:  # a heading or a title: "中文 / English" (not a list of keywords)
            zh, en = sorted(parts, key=lambda x: not _CJK.search(x))
            if _CJK.search(zh) and not _WORDS.search(zh) and not _CJK.search(en) and len(_WORDS.findall(en)) >= 2:
                found.append(Finding("bilingual", line.strip()))
    for m in _CODE.finditer(text):
        found.append(Finding("code_output", _excerpt(text, m.start(), m.end())))
    return found


_CHARSET: set[int] | None = None


def font_coverage() -> set[int] | None:
    """Every code point some installed font (fontconfig) draws; None when ``fc-list`` is missing."""
    global _CHARSET
    if _CHARSET is None:
        if not shutil.which("fc-list"):
            return None
        out = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True, text=True, check=False).stdout
        cover: set[int] = set()
        for tok in out.split():
            a, _, b = tok.partition("-")
            try:
                cover.update(range(int(a, 16), int(b or a, 16) + 1))
            except ValueError:
                continue
        _CHARSET = cover
    return _CHARSET


def missing_glyphs(text: str) -> list[Finding]:
    """Characters of ``text`` that no installed font draws (they show as empty boxes): one ``glyph`` finding per character."""
    cover = font_coverage()
    if not cover:
        return []
    out = []
    for ch in sorted({c for c in text if ord(c) > 0x7E and not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc", "Mn")
                      and not _TOFU.match(c)}):  # (the scan's ``tofu`` rule names those)
        if ord(ch) not in cover:
            i = text.index(ch)
            out.append(Finding("glyph", f"U+{ord(ch):04X} {unicodedata.name(ch, '?')} " + _excerpt(text, i, i + 1)))
    return out


#: Column names of the prepared tables that have words on the pages (they must never be shown as they are).
INTERNAL_IDS = ("p_below_target", "n_to_decide", "rank_low", "rank_high", "n_window", "shrunk_sd", "scorecard_id", "agent_id", "item_id",
                "evaluation_id", "contact_id", "customer_tier", "total_score", "fail_rate", "pass_rate", "trend_q", "prev_rate")


def month_labels(folder: str | os.PathLike) -> set[str]:
    """The ids that have a label on a month's pages, read from the folder's prepared tables (``_data``) and ``kpis.csv``:
    scorecard items and sections, skill codes, VOC topics, departments, channels and tiers, KPI ids, and the
    tables' column names (:data:`INTERNAL_IDS`). A tag written in the center's own language is its own label and is left out."""
    import pandas as pd

    folder = Path(folder)
    data = folder / "_data"
    wanted = {"cards.parquet": ["scorecard_id"], "card_items.parquet": ["item_id", "section"], "training/catalog.parquet": ["item_id", "skill"],
              "training/agent_skills.parquet": ["skill"], "voc/taxonomy.parquet": ["topic", "department"],
              "voc/department_labels.parquet": ["department"], "voc/by_channel.parquet": ["channel"], "voc/by_tier.parquet": ["customer_tier"]}
    ids: set[str] = set(INTERNAL_IDS)
    for name, cols in wanted.items():
        path = data / name
        if path.is_file():
            frame = pd.read_parquet(path, columns=None)
            for c in cols:
                if c in frame:
                    ids.update(str(v) for v in frame[c].dropna().unique())
    if (folder / "kpis.csv").is_file():
        ids.update(pd.read_csv(folder / "kpis.csv", usecols=["kpi"], encoding="utf-8-sig")["kpi"].dropna().astype(str))
    return {i for i in ids if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", i)}


_LANG_STEM = re.compile(r"^(?P<stem>.*?)(?:_(?P<lang>zh|en))?$")


def _by_lang(paths) -> dict[str, Path]:
    """``{lang: page}`` of the language variants of one page (``x_zh.html``, ``x_en.html``; a bare ``x.html`` is ``""``)."""
    out: dict[str, Path] = {}
    for p in sorted(paths):
        lang = _LANG_STEM.match(p.stem).group("lang") or ""
        out.setdefault(lang, p)
    return out


def _pick_agents(folder: Path) -> dict[str, str]:
    """The agents a scan reads: the weakest on the three-month item evidence (``weak``) and the latest hire before the month (``new_hire``)."""
    import pandas as pd

    data, out = folder / "_data", {}
    items = data / "training" / "agent_items.parquet"
    if items.is_file():
        ai = pd.read_parquet(items, columns=["agent_id", "p_value", "excess"]).dropna(subset=["p_value"])
        if len(ai):
            out["weak"] = str(ai.sort_values(["p_value", "excess"], ascending=[True, False])["agent_id"].iloc[0])
    scores = data / "card_scores.parquet"
    if "weak" not in out and scores.is_file():
        cs = pd.read_parquet(scores, columns=["agent_id", "p_below_target"]).dropna()
        if len(cs):
            out["weak"] = str(cs.sort_values("p_below_target", ascending=False)["agent_id"].iloc[0])
    agents = data / "agents.parquet"
    if agents.is_file():
        a = pd.read_parquet(agents, columns=["agent_id", "hire_date"])
        a["hire_date"] = pd.to_datetime(a["hire_date"], errors="coerce")
        start = pd.Timestamp(f"{folder.name}-01") if re.fullmatch(r"\d{4}-\d\d", folder.name) else pd.Timestamp.max
        pages = {_LANG_STEM.match(p.stem).group("stem") for p in (folder / "agents").glob("*.html")}
        a = a[a["agent_id"].astype(str).isin(pages) & a["hire_date"].notna()]
        before = a[a["hire_date"] < start]
        pool = before if len(before) else a
        if len(pool):
            out["new_hire"] = str(pool.sort_values(["hire_date", "agent_id"], ascending=[False, True])["agent_id"].iloc[0])
    return out


def month_pages(folder: str | os.PathLike, agents: dict[str, str] | None = None) -> dict[str, tuple[str, str, Path]]:
    """The pages a month's scan reads: ``{key: (kind, lang, page)}``, one page per kind in each language it exists in.

    Kinds: ``landing`` (index), ``agent_weak`` and ``agent_new_hire`` (``agents``: ``{"weak": id, "new_hire": id}``, default
    picked from the month's prepared tables), ``team`` (the weak agent's team, else the first), ``calibration`` (the first
    session, if any), ``voc``, ``autoqa`` (if written), ``training`` (the whole center), ``cases``, ``digest`` (the latest day). ``key`` is
    ``kind`` plus ``_zh`` / ``_en`` when the file name says the language.
    """
    import pandas as pd

    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"folder must be a month's report folder; {folder} does not exist")
    agents = dict(_pick_agents(folder), **(agents or {}))
    groups: dict[str, list[Path]] = {"landing": sorted(folder.glob("index*.html"))}
    for role, aid in agents.items():
        groups[f"agent_{role}"] = [p for p in (folder / "agents").glob("*.html") if _LANG_STEM.match(p.stem).group("stem") == aid]
    teams = sorted((folder / "teams").glob("*.html"))
    roster = folder / "_data" / "roster.parquet"
    if teams and agents.get("weak") and roster.is_file():
        r = pd.read_parquet(roster)
        mine = r.loc[r["agent_id"].astype(str) == agents["weak"], "team"].astype(str).tolist()
        teams = [p for p in teams if mine and _LANG_STEM.match(p.stem).group("stem") == mine[0]] or teams
    if teams:
        first = _LANG_STEM.match(teams[0].stem).group("stem")
        groups["team"] = [p for p in teams if _LANG_STEM.match(p.stem).group("stem") == first]
    cal = sorted([*folder.glob("calibration/*.html"), *folder.glob("calibration_*.html")])
    if cal:
        first = _LANG_STEM.match(cal[0].stem).group("stem")
        groups["calibration"] = [p for p in cal if _LANG_STEM.match(p.stem).group("stem") == first]
    groups["voc"] = sorted(folder.glob("voc_*.html"))
    autoqa = sorted(folder.glob("autoqa_*.html"))
    if autoqa:
        groups["autoqa"] = autoqa
    training = sorted(folder.glob("training/all*.html")) or sorted(folder.glob("training/*.html"))  # the center's, else a team's
    groups["training"] = [p for p in training if _LANG_STEM.match(p.stem).group("stem") == _LANG_STEM.match(training[0].stem).group("stem")]
    groups["cases"] = sorted(folder.glob("cases/index*.html"))
    digests = sorted([*folder.glob("digest/digest_*.html"), *folder.parent.glob("digest/digest_*.html")], key=lambda p: p.name)
    if digests:
        day = _LANG_STEM.match(digests[-1].stem).group("stem")
        groups["digest"] = [p for p in digests if _LANG_STEM.match(p.stem).group("stem") == day]
    out = {}
    for kind, paths in groups.items():
        for lang, page in _by_lang(paths).items():
            out[kind + (f"_{lang}" if lang else "")] = (kind, lang, page)
    return out


def scan_month(folder: str | os.PathLike, *, agents: dict[str, str] | None = None, labels: Iterable[str] | None = None,
               out: str | os.PathLike | None = None, chromium: str | None = None, workers: int = 2,
               window: tuple[int, int] = (1200, 3000), only: Iterable[str] | None = None) -> dict[str, PageScan]:
    """Read a month's pages as their readers see them and list what is wrong on each.

    Every page of :func:`month_pages` is opened in headless Chromium (after its scripts ran), its visible text
    (:func:`visible_text`) scanned (:func:`scan_text` with the month's labelled ids, :func:`month_labels`, unless
    ``labels`` is given) and checked for characters no installed font draws (:func:`missing_glyphs`); a page whose
    top is blank, or with Chinese text while Chromium draws Chinese as tofu (:func:`cjk_renders`), gets a finding
    too. One screenshot per page (``<key>.png``) goes to ``out`` (default ``<folder>/screenshots``).

    ``only``: read only these keys or kinds (``voc_en``, ``agent_weak``, ``team``).

    Returns ``{key: PageScan}``; a folder with no page is a :class:`ParameterError`.
    """
    folder = Path(folder)
    pages = month_pages(folder, agents)
    if only is not None:
        wanted = set(only)
        pages = {k: v for k, v in pages.items() if k in wanted or v[0] in wanted}
    if not pages:
        raise ParameterError(f"folder must hold generated reports; none in {folder}")
    if not (isinstance(workers, int) and 1 <= workers <= 16):
        raise ParameterError(f"workers must be 1-16; got {workers!r}")
    exe = find_chromium(chromium)
    if exe is None:
        raise ConfigError("Chromium is not installed: apt-get install chromium (or set QA_CHROMIUM to the executable)")
    ids = month_labels(folder) if labels is None else set(labels)
    shots = Path(out) if out is not None else folder / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    cjk_ok = cjk_renders(exe)

    def one(key: str) -> PageScan:
        kind, lang, page = pages[key]
        png = shots / f"{key}.png"
        dom = render(page, screenshot=png, window=window, chromium=exe)
        text = visible_text(page, dom=dom)
        found = scan_text(text, labels=ids) + missing_glyphs(text)
        if re.search(r"[\u4e00-\u9fff]", text) and not cjk_ok:
            found.append(Finding("cjk", "Chromium draws Chinese text as tofu (no CJK font: apt-get install fonts-wqy-microhei)"))
        if is_blank(png_pixels(png, rows=300)):
            found.append(Finding("blank", "the top 300 px of the page are empty"))
        return PageScan(page, kind, lang, png, found)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = dict(zip(pages, pool.map(one, pages)))
    return results


def scan_summary(scans: dict[str, PageScan], *, limit: int = 8, root: str | os.PathLike | None = None) -> str:
    """The findings of :func:`scan_month` as text, page by page (at most ``limit`` excerpts a page; ``root`` shortens paths)."""
    lines = []
    for key, s in scans.items():
        where = s.page.relative_to(root) if root and s.page.is_relative_to(root) else s.page
        if not s.findings:
            lines.append(f"{key} ({where}): clean")
            continue
        counts = {}
        for f in s.findings:
            counts[f.rule] = counts.get(f.rule, 0) + 1
        lines.append(f"{key} ({where}): {len(s.findings)} finding(s): " + ", ".join(f"{r} {n}" for r, n in counts.items()))
        for f in s.findings[:limit]:
            lines.append(f"  [{f.rule}] {f.excerpt}")
        if len(s.findings) > limit:
            lines.append(f"  … and {len(s.findings) - limit} more")
    return "\n".join(lines)
