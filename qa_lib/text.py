"""Text preparation for verbatims in Chinese, English or both: language, masking, tokens.

* :func:`detect_lang` — ``zh`` or ``en`` per verbatim from its share of CJK characters
  (vectorized over a Series; no model to download).
* :class:`Segmenter` — jieba segmentation for Chinese (rjieba: jieba-rs, the Rust port of
  jieba — jieba's dictionary and HMM, 20× faster; a private dictionary, so domain words added
  for one project never leak into another), lower-cased word tokens for
  English, one stop-word list for both (``resources/stopwords_zh.txt`` plus scikit-learn's
  English list), domain words from a file (:func:`read_word_list`). Mixed-language text
  in one verbatim is handled: jieba keeps Latin words whole.
* :func:`prepare` — one call for a corpus: masked text (PII masked before anything is
  shown or stored), language, and space-joined tokens ready for a TF-IDF vectorizer.

>>> seg = Segmenter(domain_words=["车机"])
>>> seg.tokens("车机屏幕经常黑屏，重启也没用。")
['车机', '屏幕', '黑屏', '重启', '没用']
>>> seg.tokens("The head unit screen keeps going black!")
['head', 'unit', 'screen', 'keeps', 'going', 'black']
>>> detect_lang(pd.Series(["地图升级失败", "map update failed", "App一直连不上车"])).tolist()
['zh', 'en', 'zh']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParameterError
from .privacy import mask_pii

__all__ = ["detect_lang", "Segmenter", "prepare", "read_word_list", "STOPWORDS_ZH"]

_RESOURCES = Path(__file__).parent / "resources"
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_LATIN = r"[A-Za-z]"
_MASKED = r"[A-Za-z0-9.+@\-]*\*+[A-Za-z0-9.+@\-]*"
# a token worth keeping: 2+ characters of letters, digits or hanzi, at least one letter or hanzi, not a
# redaction mark (XX, XXXX: how public complaint data hides names and dates)
_WORD = re.compile(r"^(?!x+$)(?=.*[a-z\u3400-\u9fff\uf900-\ufaff])[a-z0-9\u3400-\u9fff\uf900-\ufaff'\-]{2,}$")


def read_word_list(path: str | os.PathLike) -> list[str]:
    """Words from a text file, one per line (a jieba user dictionary works: the first field is taken);
    blank lines and lines starting with ``#`` are ignored. UTF-8, with or without BOM."""
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"word list file not found: {p}")
    words = []
    for line in p.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.append(line.split()[0])
    return words


STOPWORDS_ZH = frozenset(read_word_list(_RESOURCES / "stopwords_zh.txt"))


def detect_lang(texts: pd.Series, threshold: float = 0.3) -> pd.Series:
    """``"zh"`` where at least ``threshold`` of a text's letters are CJK characters, else ``"en"``.

    A Chinese sentence with a brand name in Latin letters (``App一直连不上车``) counts as
    Chinese; an empty text counts as English.
    """
    if not 0 < threshold <= 1:
        raise ParameterError(f"threshold must be in (0, 1]; got {threshold!r}")
    s = pd.Series(texts, dtype=object).fillna("").astype(str)
    cjk = s.str.count(_CJK).to_numpy()
    # a Latin *word* weighs like one character: words, not letters, compare with hanzi
    latin = s.str.count(_LATIN + r"+").to_numpy()
    share = np.divide(cjk, cjk + latin, out=np.zeros(len(s)), where=(cjk + latin) > 0)
    return pd.Series(np.where(share >= threshold, "zh", "en"), index=s.index, name="lang")


class Segmenter:
    """Tokens for topic analysis: jieba for Chinese, words for English, stop words removed.

    Parameters
    ----------
    domain_words : iterable of str, optional
        Words jieba must keep whole (product names, fault names: ``地图升级``, ``车机``).
    domain_words_file : path, optional
        The same, read from a file (:func:`read_word_list`).
    stop_words : iterable of str, optional
        Extra stop words on top of the built-in Chinese and English lists.
    """

    def __init__(self, domain_words: Iterable[str] = (), domain_words_file: str | os.PathLike | None = None,
                 stop_words: Iterable[str] = ()):
        import rjieba
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        self._jieba = rjieba.Jieba()  # private dictionary: added words stay in this segmenter
        words = list(domain_words) + (read_word_list(domain_words_file) if domain_words_file else [])
        for w in words:
            if not isinstance(w, str) or not w.strip():
                raise ParameterError(f"domain_words must be non-empty strings; got {w!r}")
            self._jieba.add_word(w.strip().lower(), 100000, None)  # text is lower-cased before segmentation
        self.domain_words = tuple(words)
        self.stop_words = frozenset(STOPWORDS_ZH | ENGLISH_STOP_WORDS | {w.lower() for w in stop_words})

    def tokens(self, text: str) -> list[str]:
        """The content words of one text, in order."""
        out = []
        stop = self.stop_words
        for tok in self._jieba.cut(str(text).lower()):
            tok = tok.strip()
            if tok and tok not in stop and _WORD.match(tok):
                out.append(tok)
        return out

    def tokenize(self, texts: Iterable[str]) -> list[str]:
        """Space-joined tokens per text (feed to ``TfidfVectorizer(token_pattern=r"\\S+")``)."""
        return [" ".join(self.tokens(t)) for t in texts]


def prepare(texts: pd.Series, segmenter: Segmenter | None = None, lang: pd.Series | None = None) -> pd.DataFrame:
    """Masked text, language and tokens for a corpus, index kept.

    Masking comes first, so no later step (topics, examples, exports) can see a phone
    number, ID-card number, e-mail address, plate or order number. ``lang`` given (a
    column of the data) is used where present and detected elsewhere.
    """
    s = pd.Series(texts, dtype=object).fillna("").astype(str)
    masked = pd.Series([mask_pii(t) for t in s.tolist()], index=s.index, dtype=object)
    detected = detect_lang(masked)
    if lang is not None:
        given = pd.Series(lang, index=s.index, dtype=object)
        detected = given.where(given.isin(["zh", "en"]), detected)
    seg = segmenter or Segmenter()
    bare = masked.str.replace(_MASKED, " ", regex=True)  # a masked number or address is not a topic word
    return pd.DataFrame({"text": masked, "lang": detected.astype(object), "tokens": seg.tokenize(bare.tolist())}, index=s.index)
