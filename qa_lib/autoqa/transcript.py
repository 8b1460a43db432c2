"""Transcripts as a frame of turns, and timing features estimated from the turns' start times.

A transcript is text, one turn per line: ``[mm:ss] 坐席：…`` / ``[hh:mm:ss] Customer: …`` (the stamp is optional, the
colon after the speaker full- or half-width). :func:`parse_turns` splits a whole Series of them in a few vectorised
pandas passes (``str.split`` → ``explode`` → ``str.extract``) into ``row, turn, t, speaker, text``.

Timing (:func:`turn_timing`, :func:`timing_features`, :func:`hold_count`) — what the features mean
------------------------------------------------------------------------------------------------------
Transcripts carry **start times only**, to the second. A turn's end is therefore *estimated*: its start plus its length
at a speaking rate (:data:`RATE`: 4.5 characters a second in Chinese, 15 in English, punctuation and spaces counted —
about 270 characters or 160 words a minute, the conversational rates of both languages: Pellegrino, Coupé & Marsico 2011,
*Language* 87:539, measured Mandarin at 5.2 syllables/s, and 150–160 words a minute is the usual figure for English
conversation; the sample generator renders its timestamps with the same rates). Hence:

* **silence** — the gap from a turn's estimated end (or the next turn's start, when that is earlier) to the next turn's
  start. A gap longer than N s is a silence. It is exact only as far as the rate is right for the speaker; a slow speaker
  makes silences look longer.
* **overtalk** — the next turn is by the *other* speaker and starts more than ``tolerance`` seconds (default 1 s, the stamps'
  resolution) before this turn's estimated end. It is an *indication* that the two spoke at once (or that this speaker is
  faster than the rate); start-only transcripts cannot measure overlap exactly, and stereo recordings or word timings would.
* **agent speech rate** — the agent's characters (Chinese: CJK characters and ASCII letters/digits) or words (English) per
  minute, over agent turns followed by another turn within ``max_pause`` seconds of their estimated end; the time of a turn
  is its start to the next start, which includes the pause after it, so the rate is a *lower bound* of the true one.
* **hold** — a turn the rule marks as a hold phrase (``请您稍等`` …) followed by a gap of at least ``gap_seconds``.

A transcript with fewer than two stamped turns has no timing: its features are NaN (and timing rules abstain).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ParameterError, require_columns

__all__ = ["parse_turns", "turn_timing", "timing_features", "hold_count", "RATE", "SPEAKERS", "detect_lang"]

#: Speaking rate (characters a second, punctuation and spaces counted) by which a turn's end is estimated.
RATE = {"zh": 4.5, "en": 15.0}
#: Speaker words (lower-cased) → role; any other word before the colon is ``other``.
SPEAKERS = {"坐席": "agent", "客服": "agent", "agent": "agent", "客户": "customer", "顾客": "customer", "customer": "customer"}

_LINE = (r"^\s*(?:\[(?:(?P<h>\d{1,3}):)?(?P<m>\d{1,3}):(?P<s>\d{2})\]\s*)?"
         "(?:(?P<who>[A-Za-z\u4e00-\u9fff][A-Za-z\u4e00-\u9fff ]{0,11}?)\\s*[:\uff1a]\\s*)?(?P<text>.*?)\\s*$")  # RE2 (Arrow): literal CJK bounds
_CJK = r"[\u4e00-\u9fff]"


def parse_turns(transcripts: pd.Series) -> pd.DataFrame:
    """The turns of every transcript: ``row`` (the Series' index label), ``turn`` (0-based), ``t`` (seconds from the
    start, NaN without a stamp), ``speaker`` (``agent``/``customer``/``other``), ``text``.

    Blank lines are skipped (they are no turn); a missing or empty transcript has no rows.

    >>> parse_turns(pd.Series({"Z001": "[00:01] 坐席：您好\\n[01:02:03] Customer: hi", "Z002": None})).to_dict("records")
    [{'row': 'Z001', 'turn': 0, 't': 1.0, 'speaker': 'agent', 'text': '您好'}, {'row': 'Z001', 'turn': 1, 't': 3723.0, 'speaker': 'customer', 'text': 'hi'}]
    """
    if not isinstance(transcripts, pd.Series):
        raise ParameterError(f"transcripts must be a pandas Series of transcript texts; got {type(transcripts).__name__}")
    s = transcripts.astype(object).where(transcripts.notna(), "")
    bad = ~s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if bad.any():
        raise ParameterError(f"transcripts must hold text (or missing); got {type(s[bad].iloc[0]).__name__} at {s.index[bad][0]!r}")
    # one Arrow pass each (C++, RE2): split into lines, drop blank ones, extract stamp / speaker / text
    parts = pc.split_pattern_regex(pa.array(s.to_numpy(dtype=object), type=pa.large_string()), r"\r?\n")
    flat, parent = pc.list_flatten(parts), pc.list_parent_indices(parts)
    keep = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(flat)), 0)
    flat, parent = pc.filter(flat, keep), pc.filter(parent, keep).to_numpy()
    if len(flat) == 0:
        return pd.DataFrame({"row": pd.Series([], dtype=object), "turn": pd.Series([], dtype=np.int64), "t": pd.Series([], dtype=float),
                             "speaker": pd.Series([], dtype=object), "text": pd.Series([], dtype=object)})
    part = pc.extract_regex(flat, _LINE)
    num = lambda f: pc.cast(pc.if_else(pc.equal(f, ""), pa.scalar(None, f.type), f), pa.float64()).to_numpy(zero_copy_only=False)  # noqa: E731
    h, m, sec = (num(part.field(k)) for k in ("h", "m", "s"))
    t = np.nan_to_num(h) * 3600 + m * 60 + sec
    who = pc.utf8_lower(pc.utf8_trim_whitespace(part.field("who"))).to_pandas()
    speaker = who.map(SPEAKERS).fillna("other")
    row = s.index.to_numpy()[parent]
    starts = np.r_[0, np.flatnonzero(parent[1:] != parent[:-1]) + 1]
    turn = np.arange(len(parent)) - np.repeat(starts, np.diff(np.r_[starts, len(parent)]))
    return pd.DataFrame({"row": row, "turn": turn.astype(np.int64), "t": t, "speaker": speaker.to_numpy(dtype=object),
                         "text": part.field("text").to_numpy(zero_copy_only=False).astype(object)})


def detect_lang(transcripts: pd.Series) -> pd.Series:
    """``zh`` where at least 20 % of the non-space characters are CJK, else ``en`` (for transcripts without ``transcript_lang``)."""
    s = transcripts.astype(object).where(transcripts.notna(), "").astype(str)
    cjk = s.str.count(_CJK)
    total = s.str.count(r"\S").clip(lower=1)
    return pd.Series(np.where(cjk / total >= 0.2, "zh", "en"), index=transcripts.index, dtype=object)


def _lang_per_turn(turns: pd.DataFrame, lang) -> np.ndarray:
    if lang is None:
        lang = detect_lang(turns.groupby("row", sort=False)["text"].agg(" ".join))
    if isinstance(lang, str):
        if lang not in RATE:
            raise ParameterError(f"lang must be one of {sorted(RATE)} or a Series of them per row; got {lang!r}")
        return np.full(len(turns), lang, dtype=object)
    out = pd.Series(lang).reindex(turns["row"].to_numpy()).to_numpy(dtype=object)
    return np.where(pd.isna(out), "zh", out)


def _check_turns(turns) -> None:
    require_columns(turns, ["row", "turn", "t", "speaker", "text"], "turns")


def turn_timing(turns: pd.DataFrame, lang=None, *, tolerance: float = 1.0) -> pd.DataFrame:
    """Per turn: ``est_end`` (start + length / :data:`RATE`), ``next_t`` (the next turn's start), ``gap`` (silence after the turn:
    next start − min(estimated end, next start), NaN for the last turn or without stamps), ``overtalk`` (the next turn is the
    other party's and starts more than ``tolerance`` s before this one's estimated end).

    ``lang``: ``"zh"``/``"en"``, a Series indexed by row, or None (detected from the text). Turns must be in call order
    (as :func:`parse_turns` returns them).

    >>> tt = turn_timing(parse_turns(pd.Series(["[00:00] 坐席：您好，请问有什么可以帮您？\\n[00:01] 客户：我的导航坏了\\n[00:20] 坐席：好的"])), "zh")
    >>> tt[["est_end", "gap", "overtalk"]].round(2).to_dict("list")
    {'est_end': [2.89, 2.33, 20.44], 'gap': [0.0, 17.67, nan], 'overtalk': [True, False, False]}
    """
    _check_turns(turns)
    if not (isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool) and tolerance >= 0):
        raise ParameterError(f"tolerance must be a number of seconds ≥ 0; got {tolerance!r}")
    lg = _lang_per_turn(turns, lang)
    t = turns["t"].to_numpy(dtype=float)
    rate = np.where(lg == "en", RATE["en"], RATE["zh"])
    est_end = t + turns["text"].str.len().to_numpy(dtype=float) / rate
    row = turns["row"].to_numpy()
    same_next = np.r_[row[1:] == row[:-1], False] if len(row) else np.zeros(0, bool)
    next_t = np.where(same_next, np.r_[t[1:], np.nan], np.nan)
    spk = turns["speaker"].to_numpy(dtype=object)
    next_spk = np.where(same_next, np.r_[spk[1:], None], None)
    gap = next_t - np.minimum(est_end, next_t)
    other = same_next & (next_spk != spk) & np.isin(spk, ["agent", "customer"]) & np.isin(next_spk, ["agent", "customer"])
    with np.errstate(invalid="ignore"):
        overtalk = other & (next_t < est_end - tolerance)
    return pd.DataFrame({"row": row, "turn": turns["turn"].to_numpy(), "est_end": est_end, "next_t": next_t, "gap": gap,
                         "overtalk": overtalk, "lang": lg})


def timing_features(turns: pd.DataFrame, lang=None, *, silence_seconds: float = 5.0, tolerance: float = 1.0,
                    max_pause: float = 3.0) -> pd.DataFrame:
    """Timing features per transcript (index ``row``): ``timed`` (≥ 2 stamped turns), ``silences`` (gaps longer than
    ``silence_seconds``), ``max_silence`` (s), ``overtalks`` (count), ``agent_rate`` (characters a minute in Chinese,
    words a minute in English; a lower bound — see the module notes) and ``rate_unit``. NaN where not ``timed``.

    >>> f = timing_features(parse_turns(pd.Series({"Z1": "[00:00] Agent: hello there\\n[00:09] Customer: hi", "Z2": "Agent: hi"})), "en")
    >>> [float(v) for v in f.loc["Z1", ["timed", "silences", "max_silence", "overtalks"]]], bool(f.loc["Z2", "timed"])
    ([1.0, 1.0, 8.2666..., 0.0], False)
    """
    for name, v in (("silence_seconds", silence_seconds), ("max_pause", max_pause)):
        if not (isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0):
            raise ParameterError(f"{name} must be a number of seconds ≥ 0; got {v!r}")
    tt = turn_timing(turns, lang, tolerance=tolerance)
    key = pd.Index(pd.unique(turns["row"]), name="row")
    stamped = turns["t"].notna().groupby(turns["row"].to_numpy(), sort=False).sum().reindex(key)
    timed = (stamped >= 2).to_numpy()
    g = tt.groupby("row", sort=False)
    silences = (tt["gap"] > silence_seconds).groupby(tt["row"], sort=False).sum()
    max_sil = g["gap"].max()
    overtalks = tt["overtalk"].groupby(tt["row"], sort=False).sum()
    text = turns["text"].astype(str)
    en = tt["lang"].to_numpy() == "en"
    units = np.where(en, text.str.count(r"[A-Za-z0-9']+").to_numpy(dtype=float),
                     text.str.count(_CJK + r"|[A-Za-z0-9]").to_numpy(dtype=float))
    dur = tt["next_t"].to_numpy() - turns["t"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        use = (turns["speaker"].to_numpy() == "agent") & (dur > 0) & (tt["next_t"].to_numpy() <= tt["est_end"].to_numpy() + max_pause)
    per = pd.DataFrame({"u": np.where(use, units, 0.0), "d": np.where(use, dur, 0.0)}).groupby(tt["row"].to_numpy(), sort=False).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (60 * per["u"] / per["d"]).where(per["d"] > 0)
    unit = pd.Series(np.where(en, "words/min", "chars/min"), index=tt.index).groupby(tt["row"].to_numpy(), sort=False).first()
    out = pd.DataFrame({
        "timed": timed,
        "silences": silences.reindex(key).to_numpy(dtype=float),
        "max_silence": max_sil.reindex(key).to_numpy(dtype=float),
        "overtalks": overtalks.reindex(key).to_numpy(dtype=float),
        "agent_rate": rate.reindex(key).to_numpy(dtype=float),
        "rate_unit": unit.reindex(key).to_numpy(dtype=object),
    }, index=key)
    out.loc[~timed, ["silences", "max_silence", "overtalks", "agent_rate"]] = np.nan
    return out


def hold_count(turns: pd.DataFrame, is_hold: np.ndarray, lang=None, *, gap_seconds: float = 10.0) -> pd.Series:
    """Holds per transcript (index ``row``): agent turns marked ``is_hold`` (a hold phrase matched in them) followed by a gap
    (:func:`turn_timing`) of at least ``gap_seconds``. NaN for a transcript with fewer than two stamped turns.

    >>> tr = parse_turns(pd.Series({"Z1": "[00:00] 坐席：请您稍等\\n[00:40] 坐席：感谢您的耐心等待"}))
    >>> hold_count(tr, tr["text"].str.contains("稍等").to_numpy(), "zh").to_dict()
    {'Z1': 1.0}
    """
    _check_turns(turns)
    is_hold = np.asarray(is_hold, dtype=bool)
    if is_hold.shape != (len(turns),):
        raise ParameterError(f"is_hold must be one boolean per turn ({len(turns)}); got shape {is_hold.shape}")
    if not (isinstance(gap_seconds, (int, float)) and not isinstance(gap_seconds, bool) and gap_seconds >= 0):
        raise ParameterError(f"gap_seconds must be a number of seconds ≥ 0; got {gap_seconds!r}")
    tt = turn_timing(turns, lang)
    hold = is_hold & (turns["speaker"].to_numpy() == "agent") & (np.nan_to_num(tt["gap"].to_numpy(), nan=-1) >= gap_seconds)
    key = pd.Index(pd.unique(turns["row"]), name="row")
    n = pd.Series(hold).groupby(turns["row"].to_numpy(), sort=False).sum().reindex(key).astype(float)
    stamped = turns["t"].notna().groupby(turns["row"].to_numpy(), sort=False).sum().reindex(key)
    return n.where(stamped >= 2).rename("holds")
