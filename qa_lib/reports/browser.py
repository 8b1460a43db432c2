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
import shutil
import signal
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import ConfigError, ParameterError, QAError

__all__ = ["FLAGS", "find_chromium", "render", "screenshot", "png_pixels", "is_blank", "cjk_renders", "report_pages", "screenshots"]

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
