"""The scoring workbench: an inspector's worklist and scoring form, in JupyterLab.

:class:`Workbench` holds all the form logic and is tested without a browser; :func:`build_ui`
wraps it in ipywidgets for ``notebooks/scoring_workbench.ipynb``. Transcripts are shown
with customer PII masked and HTML-escaped.

**Automatic answers as suggestions** (auto-QA, ``auto=``): per item the machine's answer in the center's language,
its source (the rule id, or the model version), its probability and whether the item's scorer passed the acceptance
gate ("accepted") or not ("suggestion only"), with the evidence turn and the matched words highlighted in the
transcript. **When** a suggestion shows depends on the call's arm:

* targeted calls (risk rules, re-checks of coaching actions, low automatic score): up front, as help;
* random-arm and calibration calls (and any call whose arm is not targeted, e.g. a worklist drawn without a plan,
  whose evaluations are stored as random): **withheld until the inspector has saved their own answer for that item**,
  then shown for comparison and marked as such.

Why: the inspectors' random arm is the ground truth for the acceptance gate (agreement of the machine with people) and
for the prediction-powered estimates (which correct the machine's answers on every call by its errors on the random
arm). An inspector who sees the machine's answer before answering is anchored by it; their answers then move towards
the machine's, and both the agreement and the estimates are biased upward (the machine would be graded on its own
homework). A suggestion is never an answer: nothing is stored unless the inspector picks it.
"""

from __future__ import annotations

import re

import pandas as pd

from .errors import NotFoundError, ParameterError
from .fmt import pct
from .html import escape
from .privacy import mask_pii
from .rubric import Scorecard
from .sheets import SHOWN_UP_FRONT, answer_word, evidence_text, pick_suggestions

__all__ = ["Workbench", "build_ui", "item_tag", "suggestion_html", "highlight_transcript", "HELP"]

#: The help shown at the top of the workbench, by language (what the suggestions are, and when they show).
HELP = {
    "zh": "<b>自动评分建议</b>：每个评分项下方显示规则或模型给出的答案、来源（规则编号或模型版本）、把握度，以及该项自动评分是否已通过验收"
          "（“已验收”）或尚未通过（“仅供参考”）；证据所在的轮次和命中的词在转写中以黄色标出。建议不是你的评分，只有你选中的答案才会保存。"
          "<br><b>随机抽检和校准的来电</b>：先独立评分，<b>保存答案之后</b>才显示建议，用于对照。这些来电是检验自动评分的标准答案，"
          "先看到机器的答案会让人不自觉地跟着它走，使一致性和基于随机样本的估计偏高。定向抽检（含复查）的来电直接显示建议。",
    "en": "<b>Automatic suggestions</b>: under each item, what the rules or the model answered, its source (rule id or model "
          "version), its probability, and whether the item's automatic answers passed the acceptance gate ('accepted') or "
          "not ('suggestion only'); the evidence turn and the matched words are highlighted in the transcript. A suggestion is "
          "not your answer: only what you pick is saved.<br><b>Random-arm and calibration calls</b>: score them on your own "
          "first; a suggestion shows <b>only after your answer is saved</b>, for comparison. These calls are the ground truth "
          "the automatic answers are checked against, and seeing the machine's answer first pulls yours towards it, which "
          "biases agreement and the random-arm estimates upward. Targeted calls (re-checks included) show suggestions up front.",
}
_SUGGEST_WORDS = {
    "zh": {"suggestion": "自动建议", "comparison": "自动判断（供对照，你已保存自己的答案）", "rule": "规则", "model": "模型",
           "accepted": "已验收", "only": "仅供参考", "evidence": "证据", "withheld": "随机抽检/校准来电：保存你的答案后显示自动判断，供对照。"},
    "en": {"suggestion": "Automatic suggestion", "comparison": "Automatic answer (for comparison; your answer is saved)", "rule": "rule",
           "model": "model", "accepted": "accepted", "only": "suggestion only", "evidence": "evidence",
           "withheld": "Random-arm / calibration call: the automatic answer shows after you save your own, for comparison."},
}
#: Style of suggestions and highlighted evidence, added once to the transcript and each suggestion block.
_STYLE = ("<style>.qa-suggest{border-left:3px solid #bf9000;background:#fff8e1;padding:2px 6px;margin:2px 0;font-size:90%}"
          ".qa-suggest.qa-after{border-left-color:#7f7f7f;background:#f3f3f3}.qa-withheld{color:#7f7f7f;font-size:85%;font-style:italic}"
          ".qa-accepted{color:#1e6b1e;font-weight:bold}.qa-only{color:#8a5a00}"
          ".qa-transcript .qa-evidence{background:#fff2cc;border-left:3px solid #bf9000;padding-left:4px}"
          ".qa-transcript mark{background:#ffd966;color:inherit;padding:0 1px}</style>")

#: The mark beside an item on the form, by language: critical for the whole evaluation or its section, bonus, conditional.
_TAGS = {
    "zh": {"evaluation": "致命项（整张评估）", "section": "致命项（本节）", "bonus": "加分项", "conditional": "视情况适用"},
    "en": {"evaluation": "critical (whole evaluation)", "section": "critical (section)", "bonus": "bonus", "conditional": "if applicable"},
}
_CONTACT_FIELDS = ["contact_id", "agent_id", "start_time", "channel", "direction", "contact_type", "topic", "queue",
                   "customer_tier", "talk_seconds", "hold_seconds", "transferred", "escalated", "recording_ref"]


class Workbench:
    """One inspector's scoring session over a month's contacts.

    Parameters
    ----------
    store : qa_lib.store.Store
    inspector_id : str
    month : str or Period, optional
        Month whose contacts are on the worklist (default: the latest month in the data).
    size : int
        How many unscored contacts per scorecard the worklist offers (drawn with ``seed``).
    auto : DataFrame, optional
        Automatic answers shown as suggestions (the auto answers frame of issue #19 with ``scorecard_id`` and
        ``accepted``, e.g. ``store.auto_answers(month=...)``); also :meth:`set_auto`. Withheld on random-arm and
        calibration calls until the inspector has saved their own answer for the item (see the module's docstring).
    """

    def __init__(self, store, inspector_id: str, month=None, *, size: int = 10, seed: int = 0, lang: str = "zh",
                 auto: pd.DataFrame | None = None):
        from .summary import parse_month

        inspectors = store.read("inspectors").set_index("inspector_id")
        if inspector_id not in inspectors.index:
            raise ParameterError(f"inspector_id must be one of {sorted(inspectors.index)}; got {inspector_id!r}")
        if lang not in ("zh", "en"):
            raise ParameterError(f"lang must be one of zh, en; got {lang!r}")
        self.store, self.inspector_id, self.lang = store, inspector_id, lang
        self.month = parse_month(month) if month else store.latest_month()
        self.size, self.seed = size, seed
        home = inspectors.loc[inspector_id, "home_team"]
        self.home_team = None if pd.isna(home) or home == "" else home
        cards = store.read("scorecards").sort_values("version").drop_duplicates("scorecard_id", keep="last")
        self.cards: dict[str, Scorecard] = {sid: store.scorecard(sid, int(v)) for sid, v in zip(cards["scorecard_id"], cards["version"])}
        self.auto: pd.DataFrame | None = None
        if auto is not None:
            self.set_auto(auto)

    def set_auto(self, auto: pd.DataFrame | None) -> None:
        """Use ``auto`` (an auto answers frame; None: no suggestions) for the suggestions: one per contact and item,
        accepted sources first, then rules, then the more probable (:func:`qa_lib.sheets.pick_suggestions`)."""
        self.auto = None if auto is None else pick_suggestions(auto)

    # ---- worklist ------------------------------------------------------------------------
    def worklist(self) -> pd.DataFrame:
        """Contacts to score: this inspector's open drafts first, then the month's plan.

        With a saved sampling plan for the month (``qa sample``), the contacts assigned to
        this inspector that they have not scored yet (``state`` = ``random`` / ``targeted``);
        without one, a draw of unscored contacts per scorecard (``new``). Contacts handled by
        the inspector's own former team (``home_team``) are left out.
        """
        from .worklists import card_for

        team = self.store.read("agents").set_index("agent_id")["team"]
        ev = self.store.read_month("evaluations", self.month)
        mine = ev[ev["inspector_id"] == self.inspector_id]
        drafts = mine[mine["status"] == "draft"]
        c = self.store.read_month("contacts", self.month).set_index("contact_id")
        rows = []
        if not drafts.empty:
            d = c.loc[drafts["contact_id"]].reset_index()
            rows.append(d.assign(scorecard_id=drafts["scorecard_id"].to_numpy(), evaluation_id=drafts["evaluation_id"].to_numpy(), state="draft"))
        plan_id = self.store.latest_plan(str(self.month))
        if plan_id is not None:
            pc = self.store.plan_contacts(plan_id)
            todo = pc[((pc["inspector_id"] == self.inspector_id) | (pc["second_inspector_id"] == self.inspector_id))
                      & ~pc["contact_id"].isin(mine["contact_id"])]
            if not todo.empty:
                d = c.loc[todo["contact_id"]].reset_index()
                rows.append(d.assign(scorecard_id=card_for(d, self.cards).to_numpy(), evaluation_id=None, state=todo["arm"].to_numpy()))
            return self._frame(rows)
        for sid, card in self.cards.items():
            pool = self.store.unscored_contacts(card, self.month)
            if self.home_team is not None:
                pool = pool[pool["agent_id"].map(team) != self.home_team]
            if pool.empty:
                continue
            pick = pool.sample(n=min(self.size, len(pool)), random_state=self.seed)
            rows.append(pick.assign(scorecard_id=sid, evaluation_id=None, state="new"))
        return self._frame(rows)

    @staticmethod
    def _frame(rows: list) -> pd.DataFrame:
        if not rows:
            return pd.DataFrame(columns=["state", "scorecard_id", "evaluation_id", *_CONTACT_FIELDS])
        out = pd.concat(rows, ignore_index=True)
        return out[["state", "scorecard_id", "evaluation_id", *[c for c in _CONTACT_FIELDS if c in out.columns]]].sort_values(
            ["state", "start_time"], ascending=[True, True], ignore_index=True)

    # ---- one contact ---------------------------------------------------------------------
    def contact(self, contact_id: str) -> dict:
        """A contact's metadata and its transcript with customer PII masked."""
        c = self.store.table("contacts")
        rows = self.store.read("contacts", c.c.contact_id == contact_id)
        if rows.empty:
            raise NotFoundError(f"no contact {contact_id!r}")
        rec = rows.iloc[0].to_dict()
        out = {k: rec.get(k) for k in _CONTACT_FIELDS}
        out["transcript"] = mask_pii(rec.get("transcript")) if isinstance(rec.get("transcript"), str) else None
        return out

    def transcript_html(self, contact_id: str, evidence: pd.DataFrame | None = None) -> str:
        """The masked transcript as escaped HTML, one turn per line (customer text is untrusted).

        ``evidence``: rows with ``evidence`` and ``turn`` (e.g. the shown rows of :meth:`suggestions`) whose turn is
        highlighted and whose matched words are marked (:func:`highlight_transcript`).
        """
        text = self.contact(contact_id)["transcript"]
        if not text:
            return "<p><i>No transcript: listen to the recording.</i></p>"
        return highlight_transcript(text, evidence)

    def arm(self, contact_id: str, evaluation_id: str | None = None) -> str:
        """The call's arm: the stored evaluation's (a calibration session's scoring says ``calibration``), else the
        month's plan's (random when the contact is in no plan)."""
        if evaluation_id:
            arm = self.store.evaluation(evaluation_id).get("arm")
            if isinstance(arm, str) and arm:
                return arm
        return self._arm(contact_id)

    def suggestions(self, contact_id: str, scorecard_id: str, evaluation_id: str | None = None) -> pd.DataFrame:
        """The automatic answers for one call, one row per item that has one, with when they may be shown.

        Columns: ``item_id, answer, word`` (the answer in the workbench's language), ``source, rule_id, version,
        probability, accepted, evidence, turn, arm`` and ``shown``: ``up_front`` (targeted call), ``after_answer`` (a
        random-arm or calibration call whose item this inspector has already answered in the saved evaluation
        ``evaluation_id``: shown for comparison) or ``withheld`` (not shown: the inspector answers first). Items the
        sources abstained on have no row; no ``auto`` gives no rows.
        """
        cols = ["item_id", "answer", "word", "source", "rule_id", "version", "probability", "accepted", "evidence", "turn", "arm", "shown"]
        if self.auto is None:
            return pd.DataFrame(columns=cols)
        a = self.auto[self.auto["contact_id"] == str(contact_id)]
        if "scorecard_id" in a.columns:
            a = a[a["scorecard_id"].astype(str) == str(scorecard_id)]
        card = self.cards.get(scorecard_id)
        if card is not None:
            order = {i: k for k, i in enumerate(card.item_ids)}
            a = a[a["item_id"].isin(order)].assign(_o=lambda d: d["item_id"].map(order)).sort_values("_o").drop(columns="_o")
        arm = self.arm(contact_id, evaluation_id)
        saved = self.store.evaluation(evaluation_id)["answers"] if evaluation_id else {}
        answered = a["item_id"].isin([k for k, v in saved.items() if v not in (None, "")]).to_numpy(dtype=bool)
        shown = "up_front" if arm in SHOWN_UP_FRONT else None
        out = a.assign(word=a["answer"].map(lambda v: answer_word(v, self.lang)), arm=arm,
                       shown=shown if shown else pd.Series(answered, index=a.index).map({True: "after_answer", False: "withheld"}))
        return out[cols].reset_index(drop=True)

    def form(self, scorecard_id: str, evaluation_id: str | None = None) -> pd.DataFrame:
        """The scoring form: one row per item with label, guidance, allowed answers and the current answer.

        ``critical`` is True only for an item the scorecard marks critical; ``critical_scope`` says what a failure zeroes
        (``evaluation`` or ``section``; "" for an item that is not critical).
        """
        if scorecard_id not in self.cards:
            raise ParameterError(f"scorecard_id must be one of {sorted(self.cards)}; got {scorecard_id!r}")
        current = self.store.evaluation(evaluation_id) if evaluation_id else {"answers": {}, "comments": {}}
        card = self.cards[scorecard_id]
        return pd.DataFrame([
            {
                "item_id": it.id, "section": it.section, "label": it.label.get(self.lang, it.id),
                "guidance": it.guidance.get(self.lang, ""), "options": list(it.options), "critical": it.critical is not None,
                "critical_scope": it.critical or "", "bonus": bool(it.bonus), "conditional": it.when is not None,
                "answer": current["answers"].get(it.id), "comment": current["comments"].get(it.id),
            }
            for it in card.items
        ])

    def _arm(self, contact_id: str) -> str:
        """The contact's arm in the month's plan (random when there is no plan)."""
        plan_id = self.store.latest_plan(str(self.month))
        if plan_id is None:
            return "random"
        pc = self.store.plan_contacts(plan_id).set_index("contact_id")["arm"]
        return str(pc.get(contact_id, "random"))

    def save(self, contact_id: str, scorecard_id: str, answers: dict, *, comments: dict | None = None, comment: str | None = None,
             submit: bool = False, evaluation_id: str | None = None, expected_version: int | None = None) -> dict:
        """Save as draft or submit; returns the stored evaluation (with its new version and score).

        Unanswered items (``None``) are left out; a submission must answer every required item.
        """
        answers = {k: v for k, v in answers.items() if v not in (None, "")}
        comments = {k: v for k, v in (comments or {}).items() if v}
        if evaluation_id is None:
            eid = self.store.create_evaluation(contact_id, self.inspector_id, scorecard_id, answers, comments=comments, comment=comment,
                                               submit=submit, arm=self._arm(contact_id))
        else:
            eid = evaluation_id
            act = self.store.submit if submit else self.store.save_draft
            act(eid, answers=answers, comments=comments, comment=comment, actor=self.inspector_id, expected_version=expected_version)
        return self.store.evaluation(eid)


def item_tag(item, lang: str = "zh") -> str:
    """The HTML mark beside an item of :meth:`Workbench.form`: critical (with its scope) only where the scorecard says so."""
    tags = _TAGS[lang]
    if _flag(item.critical):
        return f" <b class='qa-critical'>{tags[item.critical_scope]}</b>"
    return f" <i>{tags['bonus']}</i>" if _flag(item.bonus) else f" <i>{tags['conditional']}</i>" if _flag(item.conditional) else ""


def suggestion_html(row, lang: str = "zh") -> str:
    """One item's automatic answer as HTML (a row of :meth:`Workbench.suggestions`, or a mapping with its fields).

    ``withheld`` rows show only that the answer comes after the inspector's own (no answer, source or evidence);
    ``after_answer`` rows are marked as shown for comparison. Every value is escaped; the evidence is PII-masked.
    """
    get = row.get if isinstance(row, dict) else (lambda k, d=None: getattr(row, k, d))
    w = _SUGGEST_WORDS[lang]
    if get("shown") == "withheld":
        return f"<div class='qa-withheld'>{escape(w['withheld'])}</div>"
    source = get("source")
    label = f"{w['rule']} {get('rule_id') or ''}".strip() if source == "rule" else f"{w['model']} {get('version') or ''}".strip()
    ok = _flag(get("accepted"))
    status = f"<span class='qa-accepted'>{w['accepted']}</span>" if ok else f"<span class='qa-only'>{w['only']}</span>"
    head = w["comparison"] if get("shown") == "after_answer" else w["suggestion"]
    ev = evidence_text(get("evidence"), get("turn"), lang)
    ev_html = f"<br><small>{escape(w['evidence'])}：{escape(mask_pii(ev))}</small>" if ev else ""
    after = " qa-after" if get("shown") == "after_answer" else ""
    return (f"<div class='qa-suggest{after}'>{escape(head)}：<b class='qa-suggest-answer'>{escape(answer_word(get('answer'), lang))}</b>"
            f" · {escape(label)} · {escape(pct(get('probability'), 0))} · {status}{ev_html}</div>")


_QUOTED = re.compile(r"「([^」]+)」|“([^”]+)”|\"([^\"]+)\"")
_LEAD = re.compile(r"^\s*(?:turn\s*\d+|第\s*\d+\s*轮)?\s*[:：]?\s*(?:\[\d{1,2}:\d{2}(?::\d{2})?\])?\s*"
                   r"(?:(?:坐席|客服|客户|顾客|agent|customer)\s*[:：])?\s*", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:[,，;；|、/+]|\.\.\.|…)\s*")


def _evidence_words(evidence) -> list[str]:
    """The matched words of an evidence text (each part between `` · ``): its quoted phrases (「…」, “…”, "…"); else, in
    the rules' form ``words — turn k [mm:ss] speaker：text``, the words before `` — turn``; else the text after a leading
    ``turn N`` / ``第 N 轮``, time stamp and speaker. Words are split at ``+``, commas, semicolons, ``、``, ``/``, ``|``, ``…``.

    >>> _evidence_words("您好 + 工号 — turn 0 [00:01] 坐席：您好，工号001 · 再见 — turn 5 坐席：再见")
    ['再见', '工号', '您好']
    """
    if evidence is None or (isinstance(evidence, float) and pd.isna(evidence)):
        return []
    words: list[str] = []
    for piece in str(evidence).split(" · "):  # the rules join several rules' evidence with " · "
        quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(piece)]
        if quoted:
            words += quoted
        elif " — turn " in piece:  # the rules' form: "words — turn k [mm:ss] speaker：text"
            words += _SPLIT.split(piece.split(" — turn ")[0])
        else:
            words += _SPLIT.split(_LEAD.sub("", piece, count=1))
    return sorted({w.strip() for w in words if w.strip()}, key=lambda w: (-len(w), w))


def _marked_line(line: str, words: list[str]) -> str:
    """``line`` HTML-escaped, with every occurrence of ``words`` (longest first, not overlapping) in ``<mark>``."""
    spans: list[tuple[int, int]] = []
    low = line.casefold()
    for w in words:
        wl, start = w.casefold(), 0
        while (i := low.find(wl, start)) >= 0:
            if all(i + len(wl) <= a or i >= b for a, b in spans):
                spans.append((i, i + len(wl)))
            start = i + 1
    out, pos = [], 0
    for a, b in sorted(spans):
        out += [escape(line[pos:a]), "<mark>", escape(line[a:b]), "</mark>"]
        pos = b
    out.append(escape(line[pos:]))
    return "".join(out)


def highlight_transcript(text: str, evidence: pd.DataFrame | None = None) -> str:
    r"""A transcript as HTML, one turn per line, with the evidence of automatic answers highlighted.

    ``text`` must already be PII-masked (:meth:`Workbench.contact` does it); every piece of it is HTML-escaped here,
    and only the ``<div>`` / ``<mark>`` tags this function writes are markup. ``evidence``: rows with ``evidence`` and
    ``turn`` — the turn (0-based over the transcript's non-empty lines) gets the class ``qa-evidence``, and the
    evidence's matched words (masked like the transcript) are wrapped in ``<mark>`` in that turn, or in every turn when
    the evidence has none (``turn`` < 0).

    >>> highlight_transcript("坐席：您好<b>\n客户：谢谢", pd.DataFrame({"evidence": ["「您好」"], "turn": [0]})).split("</style>")[1]
    "<div class='qa-transcript'><div class='qa-evidence' id='turn-0'>坐席：<mark>您好</mark>&lt;b&gt;</div><div>客户：谢谢</div></div>"
    """
    lines = text.splitlines()
    turn_line = [i for i, line in enumerate(lines) if line.strip()]
    turn_of = {i: t for t, i in enumerate(turn_line)}
    marks: dict[int, list[str]] = {}
    everywhere: list[str] = []
    if evidence is not None and len(evidence):
        for ev, turn in zip(evidence["evidence"], evidence["turn"]):  # one per item with a suggestion
            words = [mask_pii(w) for w in _evidence_words(ev)]
            t = int(turn) if turn is not None and not pd.isna(turn) else -1
            if 0 <= t < len(turn_line):
                marks.setdefault(turn_line[t], []).extend(words)
            else:
                everywhere.extend(words)
    html = []
    for i, line in enumerate(lines):
        words = sorted(set(marks.get(i, []) + everywhere), key=len, reverse=True)
        body = _marked_line(line, words) if words else escape(line)
        html.append(f"<div class='qa-evidence' id='turn-{turn_of[i]}'>{body}</div>" if i in marks else f"<div>{body}</div>")
    return _STYLE + "<div class='qa-transcript'>" + "".join(html) + "</div>"


def _flag(value) -> bool:
    """A form flag: true only when set (a missing value, NaN or None, is false: NaN alone would read as true)."""
    return not pd.isna(value) and bool(value)


def _show_suggestions(bench: Workbench, hints: dict, transcript, row, eid: str | None) -> None:
    """Fill each item's suggestion widget with what the call's arm allows now (random arm: only the items this
    inspector's saved evaluation ``eid`` answers) and highlight the shown evidence in the transcript."""
    sug = bench.suggestions(row["contact_id"], row["scorecard_id"], eid)
    by_item = {r.item_id: suggestion_html(r, bench.lang) for r in sug.itertuples()}
    for item_id, hint in hints.items():
        hint.value = by_item.get(item_id, "")
    transcript.value = bench.transcript_html(row["contact_id"], sug[sug["shown"] != "withheld"])


def _help(W, lang: str):
    """The one-line reminder under the title and the help accordion (:data:`HELP`), in ``lang``."""
    box = W.Accordion(children=[W.HTML(f"<div style='font-size:90%'>{HELP[lang]}</div>")])
    box.set_title(0, "自动评分建议说明" if lang == "zh" else "About automatic suggestions")
    box.selected_index = None
    short = ("随机抽检/校准来电：先独立评分，保存后才显示自动建议（说明见页面底部）。" if lang == "zh"
             else "Random-arm / calibration calls: score on your own first; automatic suggestions show after you save (help at the bottom).")
    return short, box


def build_ui(bench: Workbench):
    """The workbench as ipywidgets: worklist, contact and transcript, item-by-item form with the automatic suggestions the
    call's arm allows (:meth:`Workbench.suggestions`; refreshed after each save), save / submit, and the help (:data:`HELP`)."""
    import ipywidgets as W

    state = {"row": None, "widgets": {}, "version": None, "suggest": {}}
    items = bench.worklist()
    labels = [(f"[{r.state}] {r.contact_id} · {r.agent_id} · {str(r.start_time)[:16]} · {r.scorecard_id}", i) for i, r in enumerate(items.itertuples())]
    picker = W.Select(options=labels, rows=8, layout=W.Layout(width="100%"), description="worklist")
    info, transcript, status = W.HTML(), W.HTML(layout=W.Layout(max_height="320px", overflow="auto")), W.HTML()
    form_box = W.VBox()
    overall = W.Textarea(description="comment", layout=W.Layout(width="100%"))
    save_btn, submit_btn = W.Button(description="Save draft", icon="save"), W.Button(description="Submit", button_style="primary", icon="check")

    def load(change=None):
        if picker.value is None:
            return
        row = items.iloc[picker.value]
        state["row"] = row
        meta = bench.contact(row["contact_id"])
        info.value = "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in meta.items() if k != "transcript") + "</table>"
        eid = row["evaluation_id"] if isinstance(row["evaluation_id"], str) else None
        state["version"] = bench.store.evaluation(eid)["version"] if eid else None
        rows = []
        state["widgets"], state["suggest"] = {}, {}
        for f in bench.form(row["scorecard_id"], eid).itertuples():
            choice = W.ToggleButtons(options=[("—", None)] + [(o, o) for o in f.options], value=f.answer if f.answer in f.options else None,
                                     style={"button_width": "64px"})
            note = W.Text(value=f.comment or "", placeholder="comment", layout=W.Layout(width="40%"))
            hint = W.HTML()
            rows.append(W.VBox([W.HTML(f"<b>{escape(f.label)}</b> <code>{escape(f.item_id)}</code>{item_tag(f, bench.lang)}<br><small>{escape(f.guidance)}</small>"),
                                W.HBox([choice, note]), hint]))
            state["widgets"][f.item_id] = (choice, note)
            state["suggest"][f.item_id] = hint
        form_box.children = rows
        _show_suggestions(bench, state["suggest"], transcript, row, eid)
        status.value = ""

    def save(submit: bool):
        if state["row"] is None:
            status.value = "<b>Pick a contact first.</b>"
            return
        row = items.iloc[picker.value]  # re-read: a first save gave the row its evaluation id
        if row is None:
            status.value = "<b>Pick a contact first.</b>"
            return
        answers = {k: w.value for k, (w, _) in state["widgets"].items()}
        comments = {k: n.value for k, (_, n) in state["widgets"].items()}
        eid = row["evaluation_id"] if isinstance(row["evaluation_id"], str) else None
        try:
            ev = bench.save(row["contact_id"], row["scorecard_id"], answers, comments=comments, comment=overall.value or None,
                            submit=submit, evaluation_id=eid, expected_version=state["version"])
        except Exception as exc:  # shown to the inspector; nothing was stored
            from .errors import QAError

            if not isinstance(exc, QAError):
                raise
            status.value = f"<pre style='color:#a00'>{escape(str(exc))}</pre>"
            return
        items.loc[picker.value, ["evaluation_id", "state"]] = [ev["evaluation_id"], ev["status"]]
        state["version"] = ev["version"]
        _show_suggestions(bench, state["suggest"], transcript, row, ev["evaluation_id"])  # a random-arm item answered and saved now shows its suggestion
        score = "—" if ev["total_score"] is None or pd.isna(ev["total_score"]) else f"{ev['total_score']:.1f}"
        so_far = " so far" if ev["status"] == "draft" else ""
        status.value = f"<b>{escape(ev['status'])}</b> {escape(ev['evaluation_id'])} (version {ev['version']}), score{so_far} {score}"

    picker.observe(load, names="value")
    save_btn.on_click(lambda _: save(False))
    submit_btn.on_click(lambda _: save(True))
    short, help_box = _help(W, bench.lang)
    ui = W.VBox([W.HTML(f"<h3>Scoring workbench — {escape(bench.inspector_id)}, {bench.month}</h3><small>{short}</small>"), picker,
                 W.HBox([W.VBox([info], layout=W.Layout(width="40%")), W.VBox([transcript], layout=W.Layout(width="60%"))]),
                 form_box, overall, W.HBox([save_btn, submit_btn]), status, help_box])
    load()
    ui.bench, ui.picker, ui.state, ui.buttons, ui.status, ui.overall = bench, picker, state, (save_btn, submit_btn), status, overall
    ui.transcript, ui.help = transcript, help_box
    return ui
