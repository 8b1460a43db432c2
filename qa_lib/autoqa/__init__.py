"""Automatic QA of transcripts (issue #19).

Modules (import the one you need; this package imports none of them, so a light caller stays light):

* :mod:`qa_lib.autoqa.transcript` — transcripts to a turns frame (``row, turn, t, speaker, text``) and timing features
  (silences, overtalk, agent speech rate, holds) estimated from turn start times.
* :mod:`qa_lib.autoqa.rules` — rules declared per scorecard item under ``auto:`` (required phrases, forbidden words by
  category, regular expressions, timing, contact fields), validated with located problems, matched by one Aho–Corasick
  pass per chunk; and the precision of each rule from inspectors' reviews of its hits.
* :mod:`qa_lib.autoqa.scorer` — the learned item scorer.
* :mod:`qa_lib.autoqa.gate` — the acceptance gate against inspectors, drift, prediction-powered estimates.
"""
