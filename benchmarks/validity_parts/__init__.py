"""Parts of the validity harness (benchmarks/validity.py): each module simulates one analysis many times.

Contract: every module here defines ``rows(draws: int, seed: int) -> list[dict]``; each dict is one line of
docs/validity.md with the keys ``analysis`` (what is judged, e.g. "coaching verdict"), ``scenario`` (the simulated
world, e.g. "no effect, tenure drift"), ``measure`` (e.g. "share declared improved"), ``target`` (text, e.g. "≤ 5 %"),
``value`` (the measured number, a float), ``ok`` (True / False / None when there is no target), ``draws`` (how many
simulated draws the value rests on) and ``note`` (one plain sentence; "" when nothing to add). Seeded: the same
``seed`` gives the same rows. Keep a part fast enough that ``rows(draws=small)`` runs in a test in a few seconds.
"""
