"""Rules declared per scorecard item (``auto:``), checked on transcripts: answers with evidence.

An item answers from its rules (``docs/autoqa.md`` "Rules" documents the YAML with zh and en examples)::

    - id: item_a
      kind: yes_no
      auto:
        rules:
          - {kind: require, phrases: {zh: [您好, 你好], en: [hello, good morning]}, within_turns: 2}
          - {kind: forbid, categories: {推诿: {zh: [自己去], en: [yourself]}}}

Rule kinds: ``require`` (phrases: a synonym list, or ``all`` groups, optionally ``ordered``; ``within_turns``,
``within_seconds``, ``last_turns``, ``speaker``), ``forbid`` (words by category; a hit answers ``no``), ``regex``
(``expect: present|absent``), ``silence``, ``overtalk``, ``speech_rate``, ``holds`` (timing, from
:mod:`qa_lib.autoqa.transcript`) and ``contact`` (a contact field in a range or set). Each rule answers pass / fail /
undecided; an item is ``yes`` when all its rules pass, ``no`` when one fails (``partial`` when its ``partial`` rules pass
instead), ``na`` when its ``when`` condition does not hold for the contact, and no answer (None) when a rule cannot be
decided (no transcript, no timestamps, a missing contact field).

Matching: the phrases of every rule of a scorecard go into one Aho–Corasick automaton per language (``pyahocorasick``);
a chunk of transcripts is joined into one string and searched in one pass; hits are mapped back to their turn with
``np.searchsorted`` and every rule is decided with grouped array operations — no loop over transcripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from ..errors import ParameterError, Problem, require_columns
from ..rubric import CONTACT_FLAGS, Scorecard, _lines
from .transcript import RATE, detect_lang, parse_turns, timing_features, turn_timing

__all__ = ["Rule", "CompiledRules", "RULE_KINDS", "check_rules", "compile_rules", "apply_rules", "auto_answers", "rule_precision",
           "ANSWER_COLUMNS"]

RULE_KINDS = ("require", "forbid", "regex", "silence", "overtalk", "speech_rate", "holds", "contact")
LANGS = tuple(RATE)
SPEAKER_CHOICES = ("agent", "customer", "any")
ANSWER_COLUMNS = ["contact_id", "item_id", "answer", "probability", "source", "rule_id", "evidence", "turn", "version", "scorecard_id"]
#: Evidence is cut to this many characters (the turn's line).
EVIDENCE_CHARS = 120

_COMMON = {"id", "kind", "note"}
_WHERE = {"speaker", "within_turns", "within_seconds", "last_turns"}
_KEYS = {
    "require": _COMMON | _WHERE | {"phrases", "all", "ordered", "same_turn"},
    "forbid": _COMMON | {"speaker", "words", "categories"},
    "regex": _COMMON | _WHERE | {"pattern", "expect", "ignore_case"},
    "silence": _COMMON | {"max_seconds", "max_count"},
    "overtalk": _COMMON | {"max_count", "tolerance"},
    "speech_rate": _COMMON | {"range"},
    "holds": _COMMON | {"phrases", "gap_seconds", "max_count"},
    "contact": _COMMON | {"field", "between", "min", "max", "in"},
}
_TEXT_KINDS = ("require", "forbid", "regex", "silence", "overtalk", "speech_rate", "holds")
_TIMING_KINDS = ("silence", "overtalk", "speech_rate", "holds")
_RULE_ID = re.compile(r"^\S{1,64}$")
PASS, FAIL, UNDECIDED = 1, 0, -1


@dataclass(frozen=True)
class Rule:
    """One checked rule: its id, the item it answers, whether it is a ``partial`` rule, its kind and settings."""

    id: str
    item_id: str
    kind: str
    partial: bool
    spec: dict = field(hash=False, compare=False)
    path: str = ""


@dataclass
class CompiledRules:
    """A scorecard's rules ready to run: one automaton per language over every phrase, regexes compiled once."""

    card: Scorecard
    rules: list[Rule]
    version: str
    automata: dict = field(default_factory=dict)
    #: per language: phrase id → (rule index, group, category, word); lengths of the phrases by phrase id
    phrase_map: dict = field(default_factory=dict)
    phrase_len: dict = field(default_factory=dict)
    regexes: dict = field(default_factory=dict)

    @property
    def items(self) -> list[str]:
        return list(dict.fromkeys(r.item_id for r in self.rules))


# ------------------------------------------------------------------------------------------------------------ validation
def _is_int(v, lo: int = 1) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def _is_num(v, lo: float = 0.0, strict: bool = False) -> bool:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
    return ok and (v > lo if strict else v >= lo)


def _phrases(spec, path: str, bad) -> dict[str, list[str]] | None:
    """A synonym list (every language) or ``{zh: [...], en: [...]}`` → {lang: [phrases]}; None (recorded) when malformed."""
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, list):
        spec = {lang: spec for lang in LANGS}
    if not isinstance(spec, dict) or not spec:
        bad(path, f"must be a list of phrases or a mapping {{zh: [...], en: [...]}}; got {spec!r}")
        return None
    out = {}
    for lang, words in spec.items():
        if lang not in LANGS:
            bad(f"{path}.{lang}", f"language must be one of {', '.join(LANGS)}; got {lang!r}")
            continue
        words = [words] if isinstance(words, str) else words
        if not (isinstance(words, list) and words and all(isinstance(w, str) and w.strip() and "\n" not in w for w in words)):
            bad(f"{path}.{lang}", f"must be a non-empty list of one-line phrases; got {words!r}")
            continue
        out[lang] = [w.strip().lower() for w in words]
    return out or None


def _check_where(r: dict, rp: str, bad) -> None:
    if "speaker" in r and r["speaker"] not in SPEAKER_CHOICES:
        bad(f"{rp}.speaker", f"must be one of {', '.join(SPEAKER_CHOICES)}; got {r['speaker']!r}")
    for k in ("within_turns", "last_turns"):
        if k in r and not _is_int(r[k]):
            bad(f"{rp}.{k}", f"must be a positive integer; got {r[k]!r}")
    if "within_seconds" in r and not _is_num(r["within_seconds"], strict=True):
        bad(f"{rp}.within_seconds", f"must be a number of seconds > 0; got {r['within_seconds']!r}")


def _check_numbers(r: dict, rp: str, kind: str, bad) -> None:
    """The numeric settings of timing and contact rules."""
    if kind == "silence":
        if not _is_num(r.get("max_seconds"), strict=True):
            bad(f"{rp}.max_seconds", f"must be a number of seconds > 0; got {r.get('max_seconds')!r}")
    elif kind == "speech_rate":
        rng = r.get("range")
        if not isinstance(rng, dict) or not rng:
            bad(f"{rp}.range", f"must map a language to [min, max] per minute, e.g. {{zh: [180, 330], en: [110, 190]}}; got {rng!r}")
        else:
            for lang, lohi in rng.items():
                if lang not in LANGS or not (isinstance(lohi, list) and len(lohi) == 2 and all(_is_num(v) for v in lohi) and lohi[0] < lohi[1]):
                    bad(f"{rp}.range.{lang}", f"must be [min, max] with min < max for zh or en; got {lohi!r}")
    elif kind == "holds":
        if "gap_seconds" in r and not _is_num(r["gap_seconds"]):
            bad(f"{rp}.gap_seconds", f"must be a number of seconds ≥ 0; got {r['gap_seconds']!r}")
    elif kind == "contact":
        if not (isinstance(r.get("field"), str) and r["field"]):
            bad(f"{rp}.field", f"must name a contact field, e.g. talk_seconds; got {r.get('field')!r}")
        conds = [k for k in ("between", "min", "max", "in") if k in r]
        if len(conds) != 1 and set(conds) != {"min", "max"}:
            bad(rp, "a contact rule needs between: [lo, hi], min and/or max, or in: [values]")
        if "between" in r and not (isinstance(r["between"], list) and len(r["between"]) == 2 and all(_is_num(v, -np.inf) for v in r["between"])
                                   and r["between"][0] <= r["between"][1]):
            bad(f"{rp}.between", f"must be [lo, hi] with lo ≤ hi; got {r['between']!r}")
        for k in ("min", "max"):
            if k in r and not _is_num(r[k], -np.inf):
                bad(f"{rp}.{k}", f"must be a number; got {r[k]!r}")
        if "in" in r and not (isinstance(r["in"], list) and r["in"]):
            bad(f"{rp}.in", f"must be a non-empty list of values; got {r['in']!r}")
    if kind in ("silence", "overtalk", "holds") and "max_count" in r and not _is_int(r["max_count"], 0):
        bad(f"{rp}.max_count", f"must be a whole number ≥ 0; got {r['max_count']!r}")
    if kind == "overtalk" and "tolerance" in r and not _is_num(r["tolerance"]):
        bad(f"{rp}.tolerance", f"must be a number of seconds ≥ 0; got {r['tolerance']!r}")


def _check_rule(r, rp: str, item, bad) -> dict | None:
    """One rule's settings checked; the normalised spec (phrases per language, compiled regexes) or None."""
    if not isinstance(r, dict):
        bad(rp, f"a rule is a mapping with a kind ({', '.join(RULE_KINDS)}); got {r!r}")
        return None
    kind = r.get("kind")
    if kind not in RULE_KINDS:
        bad(f"{rp}.kind", f"must be one of {', '.join(RULE_KINDS)}; got {kind!r}")
        return None
    for k in r:
        if k not in _KEYS[kind]:
            bad(f"{rp}.{k}", f"unknown key for a {kind} rule; allowed: {', '.join(sorted(_KEYS[kind]))}")
    if "id" in r and not (isinstance(r["id"], str) and _RULE_ID.match(r["id"])):
        bad(f"{rp}.id", f"must be a non-empty text without spaces (≤ 64 characters); got {r['id']!r}")
    spec = dict(r)
    if kind in ("require", "regex"):
        _check_where(r, rp, bad)
    if kind == "forbid" and "speaker" in r and r["speaker"] not in SPEAKER_CHOICES:
        bad(f"{rp}.speaker", f"must be one of {', '.join(SPEAKER_CHOICES)}; got {r['speaker']!r}")
    if kind == "require":
        if ("phrases" in r) == ("all" in r):
            bad(rp, "a require rule needs exactly one of phrases (a synonym list) or all (a list of synonym lists)")
            return None
        groups = [r["phrases"]] if "phrases" in r else r["all"]
        key = "phrases" if "phrases" in r else "all"
        if not isinstance(groups, list) or not groups:
            bad(f"{rp}.all", f"must be a non-empty list of synonym lists; got {groups!r}")
            return None
        spec["groups"] = [_phrases(g, f"{rp}.{key}" if key == "phrases" else f"{rp}.all[{i}]", bad) for i, g in enumerate(groups)]
        for k in ("ordered", "same_turn"):
            if k in r and not isinstance(r[k], bool):
                bad(f"{rp}.{k}", f"must be true or false; got {r[k]!r}")
        if r.get("ordered") is True and r.get("same_turn") is True:
            bad(rp, "a require rule is either ordered (groups in turn order) or same_turn (all groups in one turn), not both")
    elif kind == "forbid":
        if ("words" in r) == ("categories" in r):
            bad(rp, "a forbid rule needs exactly one of words (a list) or categories (name: words)")
            return None
        cats = {"": r["words"]} if "words" in r else r["categories"]
        if not isinstance(cats, dict) or not cats:
            bad(f"{rp}.categories", f"must map a category name to its words, e.g. {{辱骂: [滚]}}; got {cats!r}")
            return None
        spec["groups"] = [_phrases(w, f"{rp}.words" if c == "" else f"{rp}.categories.{c}", bad) for c, w in cats.items()]
        spec["categories"] = [str(c) for c in cats]
    elif kind == "regex":
        pat = r.get("pattern")
        pats = {lang: pat for lang in LANGS} if isinstance(pat, str) else pat
        if not isinstance(pats, dict) or not pats:
            bad(f"{rp}.pattern", f"must be a regular expression or {{zh: ..., en: ...}}; got {pat!r}")
            return None
        ic = r.get("ignore_case", True)
        if not isinstance(ic, bool):
            bad(f"{rp}.ignore_case", f"must be true or false; got {ic!r}")
        spec["compiled"] = {}
        for lang, p in pats.items():
            if lang not in LANGS or not isinstance(p, str) or not p:
                bad(f"{rp}.pattern.{lang}" if isinstance(pat, dict) else f"{rp}.pattern", f"must be a non-empty regular expression for zh or en; got {p!r}")
                continue
            try:
                spec["compiled"][lang] = re.compile(p, re.IGNORECASE if ic is not False else 0)
            except re.error as e:
                bad(f"{rp}.pattern" + (f".{lang}" if isinstance(pat, dict) else ""), f"is not a valid regular expression ({e}); got {p!r}")
        if r.get("expect", "present") not in ("present", "absent"):
            bad(f"{rp}.expect", f"must be present or absent; got {r.get('expect')!r}")
    elif kind == "holds":
        spec["groups"] = [_phrases(r.get("phrases"), f"{rp}.phrases", bad)]
    _check_numbers(r, rp, kind, bad)
    if any(g is None for g in spec.get("groups", [])):
        return None
    return spec


def _walk(card: Scorecard, source: str | None) -> tuple[list[Rule], list[Problem]]:
    name = source or f"{card.id}.v{card.version}.yaml"
    try:
        node = yaml.compose(card.text) if card.text else None
        lines = _lines(node) if node is not None else {}
    except yaml.YAMLError:
        lines = {}
    problems: list[Problem] = []

    def bad(path: str, msg: str) -> None:
        probe, line = path, lines.get(path)
        while line is None and probe:
            shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
            if shorter == probe:
                break
            probe, line = shorter, lines.get(shorter)
        problems.append(Problem(name, line or 0, path, msg))

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for i, sec in enumerate(card.sections):
        for j, item in enumerate(sec.items):
            auto = getattr(item, "auto", None)
            if auto is None:
                continue
            ap = f"sections[{i}].items[{j}].auto"
            if not isinstance(auto, dict):
                bad(ap, f"must be a mapping with rules (and partial); got {auto!r}")
                continue
            for k in auto:
                if k not in ("rules", "partial", "note"):
                    bad(f"{ap}.{k}", "unknown key; allowed: note, partial, rules")
            if item.kind not in ("yes_no", "yes_partial_no"):
                bad(ap, f"rules answer yes_no and yes_partial_no items only; item {item.id!r} is {item.kind}")
                continue
            if "partial" in auto and item.kind != "yes_partial_no":
                bad(f"{ap}.partial", f"only a yes_partial_no item has partial rules; item {item.id!r} is {item.kind}")
            for part in ("rules", "partial"):
                lst = auto.get(part)
                if lst is None and part == "partial":
                    continue
                if not isinstance(lst, list) or not lst:
                    bad(f"{ap}.{part}", f"must be a non-empty list of rules; got {lst!r}")
                    continue
                for k, r in enumerate(lst):
                    rp = f"{ap}.{part}[{k}]"
                    spec = _check_rule(r, rp, item, bad)
                    if spec is None:
                        continue
                    rid = spec.get("id") or f"{item.id}.{'partial' if part == 'partial' else ''}{k}"
                    if rid in seen:
                        bad(f"{rp}.id", f"duplicate rule id {rid!r} (first at {seen[rid]})")
                    seen.setdefault(rid, rp)
                    rules.append(Rule(str(rid), item.id, spec["kind"], part == "partial", spec, rp))
            when = item.when or {}
            if "contact" in when and not set(when["contact"]) <= set(CONTACT_FLAGS):
                bad(f"sections[{i}].items[{j}].when", "unknown contact flag")
    return rules, problems


def check_rules(card: Scorecard, source: str | None = None) -> list[Problem]:
    """Problems with the ``auto:`` rules of a scorecard, each at its YAML path and line (empty when they are fine).

    ``source`` names the file in the problems (default ``<id>.v<version>.yaml``).
    """
    if not isinstance(card, Scorecard):
        raise ParameterError(f"card must be a Scorecard (rubric.load_scorecard); got {type(card).__name__}")
    return _walk(card, source)[1]


def compile_rules(card: Scorecard, source: str | None = None) -> CompiledRules:
    """The scorecard's rules checked and compiled: one Aho–Corasick automaton per language over every phrase of every rule.

    Raises :class:`ParameterError` listing every problem (``card.yaml:12:sections[0].items[1].auto.rules[2].within_turns:
    must be a positive integer; got 'x'``).
    """
    if not isinstance(card, Scorecard):
        raise ParameterError(f"card must be a Scorecard (rubric.load_scorecard); got {type(card).__name__}")
    rules, problems = _walk(card, source)
    if problems:
        raise ParameterError(f"the auto rules of scorecard {card.id} v{card.version} have {len(problems)} problem(s):\n"
                             + "\n".join(f"  {p}" for p in sorted(problems)))
    import ahocorasick

    out = CompiledRules(card=card, rules=rules, version=f"{card.id}.v{card.version}")
    for lang in LANGS:
        rows = [(ri, g, (r.spec.get("categories") or [""] * 99)[g] if r.kind == "forbid" else "", w)
                for ri, r in enumerate(rules) for g, group in enumerate(r.spec.get("groups") or []) for w in group.get(lang, [])]
        if rows:
            pm = pd.DataFrame(rows, columns=["rule", "group", "category", "word"])
            words = pd.Index(pd.unique(pm["word"]))
            pm["pid"] = words.get_indexer(pm["word"])
            A = ahocorasick.Automaton()
            for pid, w in enumerate(words):
                A.add_word(w, pid)
            A.make_automaton()
            out.automata[lang] = A
            out.phrase_map[lang] = pm
            out.phrase_len[lang] = np.array([len(w) for w in words], dtype=np.int64)
    for ri, r in enumerate(rules):
        if r.kind == "regex":
            out.regexes[ri] = r.spec["compiled"]
    return out


# ------------------------------------------------------------------------------------------------------------- running
def _clock(t: np.ndarray) -> np.ndarray:
    s = np.nan_to_num(t, nan=0).astype(np.int64)
    mm = pd.Series(s // 60).astype(str).str.zfill(2) + ":" + pd.Series(s % 60).astype(str).str.zfill(2)
    return np.where(np.isnan(t), "", "[" + mm.to_numpy(dtype=object) + "] ")


def _evidence(words: np.ndarray, tidx: np.ndarray, turns: pd.DataFrame, lines: np.ndarray) -> np.ndarray:
    """``words — turn k [mm:ss] speaker：text`` per hit, the line cut to :data:`EVIDENCE_CHARS`."""
    if len(tidx) == 0:
        return np.array([], dtype=object)
    line = pd.Series(lines[tidx], dtype=object)
    line = line.where(line.str.len() <= EVIDENCE_CHARS, line.str.slice(0, EVIDENCE_CHARS - 1) + "…")
    k = turns["turn"].to_numpy()[tidx].astype(str)
    return (pd.Series(words, dtype=object).astype(str) + " — turn " + k + " " + line).to_numpy(dtype=object)


def _hits(cr: CompiledRules, turns: pd.DataFrame, tlang: np.ndarray) -> pd.DataFrame:
    """Every phrase hit of the chunk: ``tix`` (turn index), ``rule``, ``group``, ``category``, ``word``, ``start`` — one
    automaton pass per language over the chunk's turns joined by newlines, positions mapped back by ``searchsorted``."""
    parts = []
    low = turns["text"].astype(str).str.lower()
    for lang, A in cr.automata.items():
        tix = np.flatnonzero(tlang == lang)
        if not len(tix):
            continue
        texts = low.to_numpy(dtype=object)[tix]
        lens = np.fromiter((len(x) for x in texts), dtype=np.int64, count=len(texts))
        starts = np.r_[0, np.cumsum(lens + 1)[:-1]]
        big = "\n".join(texts)
        found = np.array(list(A.iter(big)), dtype=np.int64).reshape(-1, 2)
        if not len(found):
            continue
        end, pid = found[:, 0], found[:, 1]
        start = end - cr.phrase_len[lang][pid] + 1
        # a phrase that begins or ends with an ASCII letter/digit must not sit inside a longer word ("hello" in "othello")
        codes = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32)
        alnum = ((codes >= 48) & (codes <= 57)) | ((codes >= 97) & (codes <= 122))
        first_an, last_an = alnum[start], alnum[end]
        before = np.where(start > 0, alnum[np.maximum(start - 1, 0)], False)
        after = np.where(end + 1 < len(codes), alnum[np.minimum(end + 1, len(codes) - 1)], False)
        ok = ~(first_an & before) & ~(last_an & after)
        at = np.searchsorted(starts, start[ok], side="right") - 1
        pm = cr.phrase_map[lang]
        h = pd.DataFrame({"tix": tix[at], "pid": pid[ok], "start": start[ok]})
        parts.append(h.merge(pm, on="pid", how="inner").drop(columns="pid"))
    if not parts:
        return pd.DataFrame({"tix": pd.Series([], dtype=np.int64), "start": pd.Series([], dtype=np.int64), "rule": pd.Series([], dtype=np.int64),
                             "group": pd.Series([], dtype=np.int64), "category": pd.Series([], dtype=object), "word": pd.Series([], dtype=object)})
    return pd.concat(parts, ignore_index=True)


def _where_ok(cr: CompiledRules, rule_ix: np.ndarray, tix: np.ndarray, turns: pd.DataFrame, nturns: np.ndarray, timed: np.ndarray) -> np.ndarray:
    """Which (rule, turn) pairs satisfy the rule's speaker / within_turns / within_seconds / last_turns."""
    rules = cr.rules
    spk = np.array([r.spec.get("speaker", "agent") for r in rules], dtype=object)
    wt = np.array([r.spec.get("within_turns", np.inf) for r in rules], dtype=float)
    ws = np.array([r.spec.get("within_seconds", np.inf) for r in rules], dtype=float)
    lt = np.array([r.spec.get("last_turns", np.inf) for r in rules], dtype=float)
    row = turns["row"].to_numpy()[tix]
    k = turns["turn"].to_numpy()[tix]
    t = turns["t"].to_numpy(dtype=float)[tix]
    s = spk[rule_ix]
    ok = (s == "any") | (turns["speaker"].to_numpy()[tix] == s)
    ok &= k < wt[rule_ix]
    ok &= k >= nturns[row] - lt[rule_ix]
    # within_seconds: checked where the turn has a stamp; an unstamped transcript leaves it to within_turns (else undecided)
    with np.errstate(invalid="ignore"):
        ok &= np.isinf(ws[rule_ix]) | (t <= ws[rule_ix]) | (np.isnan(t) & ~np.isinf(wt[rule_ix]))
    return ok


def apply_rules(cr: CompiledRules, contacts: pd.DataFrame) -> pd.DataFrame:
    """The auto answers (:data:`ANSWER_COLUMNS`) of one chunk of contacts: one row per contact × item with rules.

    ``contacts`` needs ``contact_id`` and ``transcript`` (text or missing); ``transcript_lang`` (zh/en) is used when
    present (else detected); other columns feed ``contact`` rules and ``when: {contact: [...]}`` conditions. Call it on
    chunks (:func:`auto_answers` does) to keep memory bounded.
    """
    if not isinstance(cr, CompiledRules):
        raise ParameterError(f"cr must be compile_rules(card)'s result; got {type(cr).__name__}")
    require_columns(contacts, ["contact_id", "transcript"], "contacts")
    n = len(contacts)
    tr = pd.Series(contacts["transcript"].to_numpy(dtype=object), index=np.arange(n))
    turns = parse_turns(tr)
    lines = _clock(turns["t"].to_numpy(dtype=float)) + turns["speaker"].map({"agent": "坐席：", "customer": "客户："}).fillna("").to_numpy(dtype=object) \
        + turns["text"].to_numpy(dtype=object)
    if "transcript_lang" in contacts.columns:
        lg = pd.Series(contacts["transcript_lang"].to_numpy(dtype=object), index=np.arange(n))
        miss = ~lg.isin(LANGS).to_numpy()
        if miss.any():
            lg[miss] = detect_lang(tr[miss]).to_numpy()
    else:
        lg = detect_lang(tr)
    lang = lg.to_numpy(dtype=object)
    en_line = lang[turns["row"].to_numpy()] == "en"
    lines = np.where(en_line, pd.Series(lines).str.replace("坐席：", "Agent: ", n=1).str.replace("客户：", "Customer: ", n=1).to_numpy(dtype=object), lines)
    row_of = turns["row"].to_numpy().astype(np.int64)
    nturns = np.bincount(row_of, minlength=n)
    has_text = nturns > 0
    timed = np.bincount(row_of, weights=turns["t"].notna().to_numpy(dtype=float), minlength=n) >= 2
    R = len(cr.rules)
    res = np.full((n, R), UNDECIDED, dtype=np.int8)
    ev = np.full((n, R), "", dtype=object)
    tn = np.full((n, R), -1, dtype=np.int64)
    tlang = lang[row_of] if len(row_of) else np.array([], dtype=object)
    hits = _hits(cr, turns, tlang)
    if len(hits):
        hits = hits[_where_ok(cr, hits["rule"].to_numpy(), hits["tix"].to_numpy(), turns, nturns, timed)]
    hits = hits.assign(row=row_of[hits["tix"].to_numpy()] if len(hits) else np.array([], dtype=np.int64)).sort_values(["row", "tix", "start"], kind="stable")
    tt = None
    for ri, r in enumerate(cr.rules):
        kind = r.kind
        if kind == "require":
            _require(ri, r, hits[hits["rule"] == ri], has_text, timed, res, ev, tn, turns, lines)
        elif kind == "forbid":
            h = hits[hits["rule"] == ri].drop_duplicates("row")
            res[has_text, ri] = PASS
            rows = h["row"].to_numpy()
            res[rows, ri] = FAIL
            cat = h["category"].to_numpy(dtype=object)
            words = np.where(cat == "", h["word"].to_numpy(dtype=object), cat + ": " + h["word"].to_numpy(dtype=object))
            ev[rows, ri] = _evidence(words, h["tix"].to_numpy(), turns, lines)
            tn[rows, ri] = turns["turn"].to_numpy()[h["tix"].to_numpy()]
        elif kind == "regex":
            _regex(cr, ri, r, turns, tlang, nturns, timed, has_text, res, ev, tn, lines)
        elif kind in _TIMING_KINDS:
            if tt is None:
                tt = turn_timing(turns, pd.Series(lang, index=np.arange(n)))
            _timing(ri, r, turns, tt, hits, lang, timed, res, ev)
        elif kind == "contact":
            _contact(ri, r, contacts, res, ev)
    return _combine(cr, contacts, res, ev, tn, has_text)


def _require(ri, r, h, has_text, timed, res, ev, tn, turns, lines) -> None:
    sp = r.spec
    ng = len(sp["groups"])
    res[has_text, ri] = FAIL
    if "within_seconds" in sp and "within_turns" not in sp:
        res[has_text & ~timed, ri] = UNDECIDED
    missing = " + ".join("/".join(g.get("zh", g.get("en", []))[:2] + ([] if "zh" not in g or "en" not in g else g["en"][:1])) for g in sp["groups"])
    ev[has_text, ri] = "not found: " + missing[: EVIDENCE_CHARS - 11]
    if not len(h):
        return
    if sp.get("ordered") and ng > 1:
        # greedy chain: each group's first hit after the previous group's chosen hit (position = turn index, then offset)
        pos = h["tix"].to_numpy() * 1_000_000 + h["start"].to_numpy()
        h = h.assign(pos=pos.astype(np.int64))
        cur = h[h["group"] == 0].drop_duplicates("row")[["row", "pos", "tix", "word"]]
        chain_words = cur.set_index("row")["word"]
        first_tix = cur.set_index("row")["tix"]
        for g in range(1, ng):
            nxt = h[h["group"] == g].sort_values("pos")[["row", "pos", "word"]]
            cur = pd.merge_asof(cur.sort_values("pos")[["row", "pos"]], nxt.rename(columns={"pos": "npos"}).assign(pos=lambda d: d["npos"] - 1).sort_values("pos"),
                                on="pos", by="row", direction="forward", allow_exact_matches=False).dropna(subset=["npos"])
            cur = cur.assign(pos=cur["npos"].astype(np.int64))
            chain_words = chain_words.reindex(cur["row"]).astype(str) + " → " + cur.set_index("row")["word"].astype(str)
        ok_rows = cur["row"].to_numpy()
        words = chain_words.reindex(ok_rows).to_numpy(dtype=object)
        tix = first_tix.reindex(ok_rows).to_numpy().astype(np.int64)
    elif sp.get("same_turn") and ng > 1:
        first = h.drop_duplicates(["tix", "group"])
        cnt = first.groupby("tix", sort=False)["group"].size()
        good = cnt.index[cnt.to_numpy() == ng]
        f = first[first["tix"].isin(good)]
        f = f[f["row"].map(f.drop_duplicates("row").set_index("row")["tix"]).to_numpy() == f["tix"].to_numpy()]  # each row's first such turn
        ok_rows = pd.unique(f["row"])
        words = _joined(f, ok_rows, ng)
        tix = f.drop_duplicates("row").set_index("row")["tix"].reindex(ok_rows).to_numpy().astype(np.int64)
    else:
        first = h.drop_duplicates(["row", "group"])
        cnt = first.groupby("row", sort=False)["group"].size()
        ok_rows = cnt.index[cnt.to_numpy() == ng].to_numpy()
        f = first[first["row"].isin(ok_rows)]
        words = _joined(f, ok_rows, ng)
        tix = f.drop_duplicates("row").set_index("row")["tix"].reindex(ok_rows).to_numpy().astype(np.int64)
    res[ok_rows, ri] = PASS
    ev[ok_rows, ri] = _evidence(words, tix, turns, lines)
    tn[ok_rows, ri] = turns["turn"].to_numpy()[tix]


def _joined(f: pd.DataFrame, rows: np.ndarray, ng: int) -> np.ndarray:
    """Each row's words of groups 0..ng−1 joined with `` + `` (one word per row and group in ``f``)."""
    wide = f.pivot(index="row", columns="group", values="word").reindex(index=rows, columns=range(ng))
    out = wide[0].astype(object).fillna("")
    for g in range(1, ng):
        out = out + " + " + wide[g].astype(object).fillna("")
    return out.to_numpy(dtype=object)


def _regex(cr, ri, r, turns, tlang, nturns, timed, has_text, res, ev, tn, lines) -> None:
    sp = r.spec
    present = sp.get("expect", "present") == "present"
    res[has_text, ri] = FAIL if present else PASS
    for lang, rx in cr.regexes[ri].items():
        tix = np.flatnonzero(tlang == lang)
        tix = tix[_where_ok(cr, np.full(len(tix), ri), tix, turns, nturns, timed)]
        if not len(tix):
            continue
        text = pd.Series(turns["text"].to_numpy(dtype=object)[tix], dtype=object)
        m = text.str.contains(rx, regex=True).to_numpy(dtype=bool)
        tix = tix[m]
        rows = turns["row"].to_numpy()[tix]
        first = ~pd.Series(rows).duplicated().to_numpy()
        tix, rows = tix[first], rows[first]
        found = text[m][first].str.extract(f"({rx.pattern})", flags=rx.flags & ~re.UNICODE)[0].to_numpy(dtype=object)
        res[rows, ri] = PASS if present else FAIL
        ev[rows, ri] = _evidence(found, tix, turns, lines)
        tn[rows, ri] = turns["turn"].to_numpy()[tix]
    if "within_seconds" in sp and "within_turns" not in sp:
        res[has_text & ~timed, ri] = UNDECIDED


def _timing(ri, r, turns, tt, hits, lang, timed, res, ev) -> None:
    """silence / overtalk / speech_rate / holds from the turns' estimated timing (undecided where the transcript has no stamps)."""
    sp = r.spec
    n = len(res)
    row = turns["row"].to_numpy().astype(np.int64)
    count = lambda flags: np.bincount(row, weights=np.asarray(flags, dtype=float), minlength=n)  # noqa: E731
    if r.kind == "silence":
        with np.errstate(invalid="ignore"):
            v = count(np.nan_to_num(tt["gap"].to_numpy(), nan=0) > sp["max_seconds"])
        fail, what = v > sp.get("max_count", 0), pd.Series(v).astype(int).astype(str).to_numpy(dtype=object) + f" silence(s) > {sp['max_seconds']} s"
    elif r.kind == "overtalk":
        over = tt["overtalk"] if sp.get("tolerance", 1.0) == 1.0 else turn_timing(turns, pd.Series(lang, index=np.arange(n)), tolerance=sp["tolerance"])["overtalk"]
        v = count(over.to_numpy())
        fail, what = v > sp.get("max_count", 0), pd.Series(v).astype(int).astype(str).to_numpy(dtype=object) + " overtalk(s)"
    elif r.kind == "speech_rate":
        f = timing_features(turns, pd.Series(lang, index=np.arange(n))).reindex(np.arange(n))
        rate = f["agent_rate"].to_numpy(dtype=float)
        lo = np.array([sp["range"].get(lg, [-np.inf, np.inf])[0] for lg in lang], dtype=float)
        hi = np.array([sp["range"].get(lg, [-np.inf, np.inf])[1] for lg in lang], dtype=float)
        fail = (rate < lo) | (rate > hi)
        what = "agent rate " + pd.Series(np.nan_to_num(rate)).round(0).astype(int).astype(str).to_numpy(dtype=object) + np.where(lang == "en", " words/min", " chars/min")
        timed = timed & np.isfinite(rate)
    else:  # holds
        is_hold = np.zeros(len(turns), bool)
        is_hold[hits.loc[hits["rule"] == ri, "tix"].to_numpy()] = True
        gap = np.nan_to_num(tt["gap"].to_numpy(), nan=-1)
        v = count(is_hold & (gap >= sp.get("gap_seconds", 10.0)))
        fail, what = v > sp.get("max_count", 0), pd.Series(v).astype(int).astype(str).to_numpy(dtype=object) + " hold(s)"
    res[timed, ri] = np.where(fail[timed], FAIL, PASS)
    ev[timed, ri] = what[timed]


def _contact(ri, r, contacts: pd.DataFrame, res, ev) -> None:
    """A contact field in a range or set; undecided where the field is missing."""
    sp = r.spec
    f = sp["field"]
    if f not in contacts.columns:
        ev[:, ri] = f"no field {f}"
        return
    raw = contacts[f].to_numpy(dtype=object)
    known = pd.notna(raw)
    if "in" in sp:
        ok = pd.Series(raw).astype(str).isin([str(v) for v in sp["in"]]).to_numpy()
        what = f + " = " + pd.Series(raw).astype(str).to_numpy(dtype=object)
    else:
        v = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
        known &= ~np.isnan(v)
        lo, hi = sp.get("between", [sp.get("min", -np.inf), sp.get("max", np.inf)])
        with np.errstate(invalid="ignore"):
            ok = (v >= lo) & (v <= hi)
        what = f + " = " + pd.Series(v).map("{:g}".format).to_numpy(dtype=object)
    res[known, ri] = np.where(ok[known], PASS, FAIL)
    ev[known, ri] = what[known]


def _decide(idx: list[int], res, ev, tn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Combine rules (columns ``idx``): (state 1 all pass / 0 one fails / −1 undecided, deciding rule column, evidence, turn)."""
    sub = res[:, idx]
    fail = (sub == FAIL).any(axis=1)
    undec = (sub == UNDECIDED).any(axis=1)
    state = np.where(fail, FAIL, np.where(undec, UNDECIDED, PASS)).astype(np.int8)
    first_fail = np.argmax(sub == FAIL, axis=1)
    first_undec = np.argmax(sub == UNDECIDED, axis=1)
    col = np.asarray(idx)[np.where(state == FAIL, first_fail, np.where(state == UNDECIDED, first_undec, 0))]
    rows = np.arange(len(res))
    e = ev[rows, col]
    if len(idx) > 1:  # a yes shows every rule's evidence
        joined = pd.Series(ev[:, idx[0]], dtype=object)
        for c in idx[1:]:
            joined = joined + " · " + pd.Series(ev[:, c], dtype=object)
        e = np.where(state == PASS, joined.str.slice(0, 2 * EVIDENCE_CHARS).to_numpy(dtype=object), e)
    return state, col, e, tn[rows, col]


def _combine(cr: CompiledRules, contacts: pd.DataFrame, res, ev, tn, has_text) -> pd.DataFrame:
    n = len(contacts)
    cid = contacts["contact_id"].astype(str).to_numpy(dtype=object)
    rule_ids = np.array([r.id for r in cr.rules], dtype=object)
    out, answered = [], {}
    for item_id in cr.items:
        item = cr.card.item(item_id)
        main = [i for i, r in enumerate(cr.rules) if r.item_id == item_id and not r.partial]
        part = [i for i, r in enumerate(cr.rules) if r.item_id == item_id and r.partial]
        state, col, e, turn = _decide(main, res, ev, tn)
        answer = np.where(state == PASS, "yes", np.where(state == FAIL, "no", None)).astype(object)
        if part:
            pstate, pcol, pe, pturn = _decide(part, res, ev, tn)
            to_p = state == FAIL
            answer = np.where(to_p, np.where(pstate == PASS, "partial", np.where(pstate == FAIL, "no", None)), answer).astype(object)
            use_p = to_p & (pstate != FAIL)
            col, e, turn = np.where(use_p, pcol, col), np.where(use_p, pe, e), np.where(use_p, pturn, turn)
        when = item.when or {}
        if "contact" in when:
            flags = [f for f in when["contact"] if f in contacts.columns]
            if flags:
                vals = contacts[flags]
                known = vals.notna().any(axis=1).to_numpy()
                on = vals.fillna(False).astype(bool).any(axis=1).to_numpy()
                na = known & ~on
                answer = np.where(na, "na", answer).astype(object)
                e = np.where(na, "not applicable: " + " / ".join(flags) + " false", e)
                turn = np.where(na, -1, turn)
        elif "item" in when:
            other = answered.get(when["item"])
            values = {str(v).lower() for v in when.get("in", ["yes"])}
            if other is None:
                answer = np.full(n, None, dtype=object)
                e = np.full(n, f"condition on {when['item']} has no automatic answer", dtype=object)
                turn = np.full(n, -1)
            else:
                unknown = pd.isna(other)
                na = ~unknown & ~pd.Series(other).isin(values).to_numpy()
                answer = np.where(unknown, None, np.where(na, "na", answer)).astype(object)
                e = np.where(unknown, f"condition on {when['item']} undecided", np.where(na, f"not applicable: {when['item']} not in {sorted(values)}", e))
                turn = np.where(unknown | na, -1, turn)
        text_rules = any(cr.rules[i].kind in _TEXT_KINDS for i in main + part)
        if text_rules:
            e = np.where(~has_text & pd.isna(answer), "no transcript", e)
        answered[item_id] = answer
        decided = pd.notna(answer)
        out.append(pd.DataFrame({
            "contact_id": cid, "item_id": item_id, "answer": pd.Series(answer, dtype=object), "probability": np.where(decided, 1.0, np.nan),
            "source": "rule", "rule_id": rule_ids[col], "evidence": e, "turn": turn.astype(np.int64), "version": cr.version,
            "scorecard_id": cr.card.id,
        }))
    if not out:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in ANSWER_COLUMNS})
    return pd.concat(out, ignore_index=True)[ANSWER_COLUMNS]


def auto_answers(card_or_rules, contacts: pd.DataFrame, *, chunk_size: int = 20_000) -> pd.DataFrame:
    """:func:`apply_rules` over ``contacts`` in chunks of ``chunk_size`` (bounded memory); the auto answers of all of them.

    ``card_or_rules`` is a :class:`Scorecard` (compiled here, raising :class:`ParameterError` on bad rules) or
    :func:`compile_rules`'s result.
    """
    cr = card_or_rules if isinstance(card_or_rules, CompiledRules) else compile_rules(card_or_rules)
    if not _is_int(chunk_size):
        raise ParameterError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    require_columns(contacts, ["contact_id", "transcript"], "contacts")
    parts = [apply_rules(cr, contacts.iloc[i:i + chunk_size]) for i in range(0, len(contacts), chunk_size)]
    return pd.concat(parts, ignore_index=True) if parts else _combine(cr, contacts.iloc[:0], np.zeros((0, len(cr.rules)), np.int8),
                                                                       np.zeros((0, len(cr.rules)), object), np.zeros((0, len(cr.rules)), np.int64), np.zeros(0, bool))


# ------------------------------------------------------------------------------------------------------------ precision
def rule_precision(reviews: pd.DataFrame, *, by_month: bool = False, method: str = "wilson", confidence: float = 0.95) -> pd.DataFrame:
    """Each rule's precision from inspectors' reviews of its hits: ``rule_id`` [, ``month``], ``n``, ``confirmed``,
    ``precision``, ``low``, ``high`` (Wilson or Clopper–Pearson ``exact`` interval, :mod:`qa_lib.stats.proportions`).

    ``reviews``: ``rule_id``, ``verdict`` (``confirmed`` / ``rejected``), ``reviewed_at`` (needed with ``by_month``).

    >>> r = pd.DataFrame({"rule_id": ["r1"] * 263, "verdict": ["confirmed"] * 81 + ["rejected"] * 182, "reviewed_at": "2026-05-02"})
    >>> rule_precision(r).round(4).to_dict("records")
    [{'rule_id': 'r1', 'n': 263, 'confirmed': 81, 'precision': 0.308, 'low': 0.2553, 'high': 0.3662}]
    """
    from ..stats.proportions import clopper_pearson_interval, wilson_interval

    require_columns(reviews, ["rule_id", "verdict"] + (["reviewed_at"] if by_month else []), "reviews")
    if method not in ("wilson", "exact"):
        raise ParameterError(f"method must be one of wilson, exact; got {method!r}")
    v = reviews["verdict"].astype(str).str.strip().str.lower()
    bad = ~v.isin(["confirmed", "rejected"])
    if bad.any():
        raise ParameterError(f"reviews.verdict must be confirmed or rejected; got {reviews['verdict'][bad].iloc[0]!r} (and {int(bad.sum()) - 1} more)")
    keys = ["rule_id"]
    df = pd.DataFrame({"rule_id": reviews["rule_id"].astype(str).to_numpy(), "ok": (v == "confirmed").to_numpy()})
    if by_month:
        when = pd.to_datetime(reviews["reviewed_at"], errors="coerce")
        if when.isna().any():
            raise ParameterError(f"reviews.reviewed_at must be dates; got {reviews['reviewed_at'][when.isna()].iloc[0]!r}")
        df["month"] = when.dt.to_period("M").astype(str).to_numpy()
        keys.append("month")
    g = df.groupby(keys, sort=True)["ok"].agg(n="size", confirmed="sum").reset_index()
    k, m = g["confirmed"].to_numpy(), g["n"].to_numpy()
    lo, hi = (wilson_interval if method == "wilson" else clopper_pearson_interval)(k, m, confidence)
    return g.assign(n=m.astype(np.int64), confirmed=k.astype(np.int64), precision=k / m, low=np.asarray(lo, float), high=np.asarray(hi, float))
