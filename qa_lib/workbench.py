"""The scoring workbench: an inspector's worklist and scoring form, in JupyterLab.

:class:`Workbench` holds all the form logic and is tested without a browser; :func:`build_ui`
wraps it in ipywidgets for ``notebooks/scoring_workbench.ipynb``. Transcripts are shown
with customer PII masked and HTML-escaped.
"""

from __future__ import annotations

import pandas as pd

from .errors import NotFoundError, ParameterError
from .html import escape
from .privacy import mask_pii
from .rubric import Scorecard

__all__ = ["Workbench", "build_ui", "item_tag"]

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
    """

    def __init__(self, store, inspector_id: str, month=None, *, size: int = 10, seed: int = 0, lang: str = "zh"):
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

    def transcript_html(self, contact_id: str) -> str:
        """The masked transcript as escaped HTML, one turn per line (customer text is untrusted)."""
        text = self.contact(contact_id)["transcript"]
        if not text:
            return "<p><i>No transcript: listen to the recording.</i></p>"
        lines = [f"<div>{escape(line)}</div>" for line in text.splitlines()]
        return "<div class='qa-transcript'>" + "".join(lines) + "</div>"

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


def _flag(value) -> bool:
    """A form flag: true only when set (a missing value, NaN or None, is false: NaN alone would read as true)."""
    return not pd.isna(value) and bool(value)


def build_ui(bench: Workbench):
    """The workbench as ipywidgets: worklist, contact and transcript, item-by-item form, save / submit."""
    import ipywidgets as W

    state = {"row": None, "widgets": {}, "version": None}
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
        transcript.value = bench.transcript_html(row["contact_id"])
        eid = row["evaluation_id"] if isinstance(row["evaluation_id"], str) else None
        state["version"] = bench.store.evaluation(eid)["version"] if eid else None
        rows = []
        state["widgets"] = {}
        for f in bench.form(row["scorecard_id"], eid).itertuples():
            choice = W.ToggleButtons(options=[("—", None)] + [(o, o) for o in f.options], value=f.answer if f.answer in f.options else None,
                                     style={"button_width": "64px"})
            note = W.Text(value=f.comment or "", placeholder="comment", layout=W.Layout(width="40%"))
            rows.append(W.VBox([W.HTML(f"<b>{escape(f.label)}</b> <code>{escape(f.item_id)}</code>{item_tag(f, bench.lang)}<br><small>{escape(f.guidance)}</small>"),
                                W.HBox([choice, note])]))
            state["widgets"][f.item_id] = (choice, note)
        form_box.children = rows
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
        score = "—" if ev["total_score"] is None or pd.isna(ev["total_score"]) else f"{ev['total_score']:.1f}"
        so_far = " so far" if ev["status"] == "draft" else ""
        status.value = f"<b>{escape(ev['status'])}</b> {escape(ev['evaluation_id'])} (version {ev['version']}), score{so_far} {score}"

    picker.observe(load, names="value")
    save_btn.on_click(lambda _: save(False))
    submit_btn.on_click(lambda _: save(True))
    ui = W.VBox([W.HTML(f"<h3>Scoring workbench — {escape(bench.inspector_id)}, {bench.month}</h3>"), picker,
                 W.HBox([W.VBox([info], layout=W.Layout(width="40%")), W.VBox([transcript], layout=W.Layout(width="60%"))]),
                 form_box, overall, W.HBox([save_btn, submit_btn]), status])
    load()
    ui.bench, ui.picker, ui.state, ui.buttons, ui.status, ui.overall = bench, picker, state, (save_btn, submit_btn), status, overall
    return ui
