"""The auto-QA page (``autoqa_<lang>.html``): which items the automatic answers may be trusted on, and why.

For the QA lead and the manager: the first sentence says how many calls were answered automatically and which items
are accepted; then per item and source the acceptance gate (agreement with the human answers against the inspectors'
own agreement, with intervals), the confusion of answers (N/A errors apart), the drift check, the rules' precision from
inspectors' reviews, and the prediction-powered estimates beside the human-only ones. Reads the tables
:func:`qa_lib.autoqa.pipeline.prepare_autoqa` wrote; every text from a transcript or a reason is escaped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import NotFoundError
from ..fmt import DASH, check_lang, glossary, missing, num, pct
from ..html import escape
from .tables import _CSS, _tables_folder, page_lang, ppi_lines, ppi_official

__all__ = ["autoqa_folder", "autoqa_view", "autoqa_headline", "gate_html", "confusion_html", "drift_html", "precision_html", "ppi_html",
           "coverage_html", "autoqa_glossary"]

_T = {
    "zh": {
        "title": "自动质检 · {card} · {month}",
        "lead": "本月 {n:,} 通适用「{card}」且有转写的电话中，{answered:,} 通已经自动质检。",
        "scorer": "学习模型 {version}（{day} 用 {n:,} 通人工评分过的电话训练）。", "scorer_bare": "学习模型 {version}。",
        "no_scorer": "本月只用规则作答，没有学习模型的答案（`qa autoqa train`，再 `qa autoqa run`）。",
        "accepted": "{k} 个质检项通过验收（{items}）：自动判断与人工的一致性不低于质检员彼此之间；",
        "none_accepted": "还没有质检项通过验收；",
        "suggest": "{k} 个质检项仅作质检员的建议和定向抽检依据。自动判断不给任何人打分。",
        "suggest_named": "{k} 个质检项（{items}）仅作质检员的建议和定向抽检依据。自动判断不给任何人打分。",
        "yes_low": "通过验收（质检员之间一致性也低，先校准）", "abstained": "模型对 {p} 的验证电话弃答，可比对的太少，未通过验收",
        "no_gate": "还没有运行验收：运行 `qa autoqa validate`。",
        "gate": "验收：自动判断与人工答案的一致性", "item": "质检项", "source": "来源", "verdict": "结论", "calls": "比对通数",
        "ac1": "AC1（95% 区间）", "insp": "质检员之间 AC1", "kappa": "κ（95% 区间）", "abstain": "弃答", "na_err": "N/A 判错",
        "need": "区间宽 0.10 需通数", "why": "原因", "why_not": "未通过验收或已漂移的质检项及原因：",
        "all_why": "通过验收：自动判断与人工答案的一致性（AC1）的单侧下限不低于质检员彼此之间的一致性减 {margin}，且比对通数足够。", "rule": "规则", "model": "模型", "yes": "通过验收", "no": "仅作建议",
        "drifted": "已漂移，退回建议",
        "confusion": "答案对照（行：人工；列：自动）", "abstain_col": "弃答", "human": "人工",
        "drift": "漂移检查（人工随机抽检）", "month": "月份", "level": "验收时 AC1", "flag": "漂移",
        "drift_none": "没有已通过验收的质检项可供检查。", "drift_yes": "是", "drift_no": "否",
        "drift_note": "每格：当月人工随机抽检上的 AC1 · 比对通数；明显低于验收时水平（Benjamini–Hochberg 校正后单侧检验）标为漂移，该质检项退回建议。",
        "precision": "规则命中的复核（精确度）", "rule_id": "规则", "reviewed": "复核次数", "confirmed": "确认", "prec": "精确度（95% 区间）",
        "precision_none": "还没有质检员复核规则命中：用 `qa autoqa review FILE` 导入复核结果。",
        "ppi": "结合自动质检的估计（预测增强）", "center": "全中心均分", "team": "{team} 组均分",
        "ppi_none": "本月没有可用于预测增强估计的人工随机抽检与自动判断。",
        "answers": {"yes": "是", "partial": "部分", "no": "否", "na": "不适用"},
        "coverage": "本月自动判断分布", "answered_n": "已作答", "no_share": "答“否”占比",
    },
    "en": {
        "title": "Auto-QA · {card} · {month}",
        "lead": "Of this month's {n:,} calls with a transcript that “{card}” applies to, {answered:,} were answered automatically.",
        "scorer": " Learned scorer {version} (trained {day} on {n:,} human-scored calls).", "scorer_bare": " Learned scorer {version}.",
        "no_scorer": " Rules only this month: no learned scorer answered (`qa autoqa train`, then `qa autoqa run`).",
        "accepted": "{k} item(s) are accepted ({items}): their automatic answers agree with the human ones as well as inspectors agree with each other; ",
        "none_accepted": "No item is accepted yet; ",
        "suggest": "{k} item(s) are suggestions to inspectors and pick calls for the targeted arm only. Automatic answers score no one.",
        "suggest_named": "{k} item(s) ({items}) are suggestions to inspectors and pick calls for the targeted arm only. Automatic answers score no one.",
        "yes_low": "accepted (inspectors disagree among themselves too: calibrate first)",
        "abstained": "the model abstained on {p} of the validation calls: too few to compare, not accepted",
        "no_gate": "The acceptance gate has not run yet: run `qa autoqa validate`.",
        "gate": "Acceptance: agreement of the automatic answers with the human ones", "item": "Item", "source": "Source",
        "verdict": "Verdict", "calls": "Calls compared", "ac1": "AC1 (95 % interval)", "insp": "Inspectors' AC1", "kappa": "κ (95 % interval)",
        "abstain": "Abstained", "na_err": "N/A errors", "need": "Calls for ±0.05", "why": "Why",
        "why_not": "Items not accepted, or drifted, and why:",
        "all_why": "Accepted: the one-sided lower bound of the automatic answers' agreement (AC1) with the human ones is within "
                   "{margin} of the inspectors' agreement with each other, on enough calls.", "rule": "rule", "model": "model",
        "yes": "accepted", "no": "suggestion only", "drifted": "drifted: back to suggestions",
        "confusion": "Answers side by side (rows: human; columns: automatic)", "abstain_col": "abstained", "human": "human",
        "drift": "Drift check (human random sample)", "month": "Month", "level": "AC1 when accepted", "flag": "Drifted",
        "drift_none": "No accepted item to check.", "drift_yes": "yes", "drift_no": "no",
        "drift_note": "Each cell: the month's AC1 on the human random sample · calls compared; clearly below the accepted level "
                      "(one-sided test, Benjamini–Hochberg across items) is marked drifted and the item goes back to suggestions.",
        "precision": "Inspectors' reviews of rule hits (precision)", "rule_id": "Rule", "reviewed": "Reviewed", "confirmed": "Confirmed",
        "prec": "Precision (95 % interval)",
        "precision_none": "No inspector has reviewed rule hits yet: import reviews with `qa autoqa review FILE`.",
        "ppi": "Estimates with auto-QA (prediction-powered)", "center": "Center mean score", "team": "Team {team} mean score",
        "ppi_none": "No human random sample and automatic answers to combine this month.",
        "answers": {"yes": "yes", "partial": "partial", "no": "no", "na": "N/A"},
        "coverage": "This month's automatic answers", "answered_n": "Answered", "no_share": "Share “no”",
    },
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.parquet"
    if not path.exists():
        raise NotFoundError(f"{path} is missing: run `qa report autoqa` (prepare_autoqa) for this month first")
    return pd.read_parquet(path)


def autoqa_folder(db_url: str, month: str, folder: str) -> Path:
    """The month's report folder holding the auto-QA tables (``_data/autoqa``); prepared from the database if missing."""
    from ..autoqa.pipeline import autoqa_prepared, prepare_autoqa
    from ..config import models_dir

    def prepare(store, p, out):
        prepare_autoqa(store, p, out, models=models_dir())
        return Path(out)

    return _tables_folder(db_url, month, folder, autoqa_prepared, prepare)


def autoqa_view(folder: str | Path, lang: str = "") -> dict:
    """The page's tables from the month folder (``<month>/_data/autoqa``), labels in ``lang`` (default: the center's)."""
    lang = check_lang(page_lang(lang))
    d = Path(folder) / "_data" / "autoqa"
    view = {name: _read(d, name) for name in ("items", "gate", "drift", "coverage", "precision", "ppi")}
    view["meta"] = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    view["lang"] = lang
    items = view["items"]
    view["labels"] = dict(zip(items["item_id"], items["label_zh" if lang == "zh" else "label_en"])) if len(items) else {}
    return view


def _label(view: dict, item_id: str) -> str:
    return view["labels"].get(item_id, item_id)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Every cell escaped; a long cell (a reason) wraps instead of widening the table."""
    def td(c) -> str:
        text = escape(c)
        return f'<td class="qa-wrap">{text}</td>' if len(str(c)) > 24 else f"<td>{text}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(td(c) for c in r) + "</tr>" for r in rows)
    return f'<table class="qa-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _iv(est, lo, hi, digits: int = 2, lang: str = "zh") -> str:
    if missing(est):
        return DASH
    if missing(lo) or missing(hi):
        return num(est, digits)
    return f"{num(est, digits)}（{num(lo, digits)}–{num(hi, digits)}）" if lang == "zh" else f"{num(est, digits)} ({num(lo, digits)}–{num(hi, digits)})"


def _accepted(g: pd.DataFrame) -> pd.Series:
    return g["accepted"].astype(bool) & ~g["drifted"].fillna(False).astype(bool) if len(g) else pd.Series(dtype=bool)


def autoqa_headline(view: dict) -> str:
    """The page's opening (HTML): how many calls were answered, which items are accepted, which are suggestions only."""
    lang = view["lang"]
    T = _T[lang]
    m = view["meta"]
    card = m["name_zh"] if lang == "zh" else m["name_en"]
    head = _CSS + f"<h2>{escape(T['title'].format(card=card, month=m['month']))}</h2>"
    first = T["lead"].format(n=int(m["transcripts"]), answered=int(m["answered_contacts"]), card=card)
    sc = m.get("scorer") or {}
    if sc.get("version") and sc.get("n_train"):
        first += T["scorer"].format(version=sc["version"], day=str(sc.get("trained_at") or "")[:10], n=int(sc["n_train"]))
    elif sc.get("version"):
        first += T["scorer_bare"].format(version=sc["version"])
    else:
        first += T["no_scorer"]
    g = view["gate"]
    if g.empty:
        return head + f"<p>{escape(first)}{escape(T['no_gate'])}</p>"
    acc = g[_accepted(g)]
    sep = "、" if lang == "zh" else ", "
    names = sep.join(dict.fromkeys(_label(view, i) for i in acc["item_id"]))
    items_all = set(g["item_id"])
    k_acc = acc["item_id"].nunique()
    second = T["accepted"].format(k=k_acc, items=names) if k_acc else T["none_accepted"]
    only = sorted(items_all - set(acc["item_id"]))
    third = T["suggest"].format(k=len(only)) if not only else T["suggest_named"].format(k=len(only), items=sep.join(_label(view, i) for i in only))
    return head + f"<p>{escape(first)}<b>{escape(second)}</b>{escape(third)}</p>"


def gate_html(view: dict) -> str:
    """The acceptance gate per item and source: verdict, AC1 against the inspectors' AC1, κ, abstentions, N/A errors,
    the calls a 0.10-wide interval needs, and the reason in words."""
    lang = view["lang"]
    T = _T[lang]
    g = view["gate"]
    if g.empty:
        return f"<h3>{escape(T['gate'])}</h3><p>{escape(T['no_gate'])}</p>"
    g = g.assign(_acc=_accepted(g)).sort_values(["_acc", "item_id", "source"], ascending=[False, True, True])
    rows = []
    for r in g.to_dict("records"):
        low = not missing(r.get("inspectors_ac1")) and r["inspectors_ac1"] < 0.667
        verdict = T["drifted"] if r.get("drifted") and r["accepted"] else (T["yes_low"] if low else T["yes"]) if r["accepted"] else T["no"]
        if missing(r.get("answered")) or r["answered"] < 50:  # an AC1 on a handful of calls (1.00 on 5) says nothing
            r = {**r, "ac1": np.nan, "kappa": np.nan}
        na_err = int((r.get("na_auto_only") or 0) + (r.get("na_human_only") or 0)) if not missing(r.get("na_auto_only")) else 0
        rows.append([_label(view, r["item_id"]), T.get(r["source"], r["source"]), verdict, num(r.get("answered") if not missing(r.get("answered")) else r["n"]),
                     _iv(r["ac1"], r["ac1_lo"], r["ac1_hi"], lang=lang), _iv(r.get("inspectors_ac1"), r.get("inspectors_lo"), r.get("inspectors_hi"), lang=lang),
                     _iv(r.get("kappa"), r.get("kappa_lo"), r.get("kappa_hi"), lang=lang),
                     pct(r["abstain_rate"]) if not missing(r.get("abstain_rate")) else DASH, num(na_err),
                     num(r["n_needed"]) if not missing(r.get("n_needed")) else DASH])
    def reason(r) -> str:
        if not missing(r.get("abstain_rate")) and r["abstain_rate"] >= 0.5:
            return T["abstained"].format(p=pct(r["abstain_rate"]))
        return r.get("reason_zh" if lang == "zh" else "reason_en") or ""

    colon = "：" if lang == "zh" else ": "
    why = [f"<li>{escape(_label(view, r['item_id']))} · {escape(T.get(r['source'], r['source']))}{colon}{escape(reason(r))}</li>"
           for r in g.to_dict("records") if not r["_acc"]]
    return (f"<h3>{escape(T['gate'])}</h3>"
            + _table([T["item"], T["source"], T["verdict"], T["calls"], T["ac1"], T["insp"], T["kappa"], T["abstain"], T["na_err"], T["need"]], rows)
            + (f"<p>{escape(T['why_not'])}</p><ul>{''.join(why)}</ul>" if why else f"<p class='qa-note'>{escape(T['all_why'].format(margin=num(g['margin'].max(), 2)))}</p>"))


def confusion_html(view: dict) -> str:
    """Per item and source, the counts of human × automatic answers (N/A and abstentions in their own row/column), folded."""
    lang = view["lang"]
    T = _T[lang]
    g = view["gate"]
    if g.empty or "confusion" not in g.columns:
        return ""
    words = T["answers"]
    parts = []
    for r in g.sort_values(["item_id", "source"]).to_dict("records"):
        if not isinstance(r.get("confusion"), str) or not r["confusion"]:
            continue
        table = json.loads(r["confusion"])
        humans = list(table)
        autos = list(dict.fromkeys(a for row in table.values() for a in row))
        autos = [a for a in autos if a != "abstain"] + (["abstain"] if "abstain" in autos else [])
        body = [[words.get(h, h)] + [num(table[h].get(a, 0)) for a in autos] for h in humans]
        head = [T["human"]] + [T["abstain_col"] if a == "abstain" else words.get(a, a) for a in autos]
        parts.append(f"<details><summary>{escape(_label(view, r['item_id']))} · {escape(T.get(r['source'], r['source']))}</summary>"
                     + _table(head, body) + "</details>")
    return (f"<h3>{escape(T['confusion'])}</h3>" + "".join(parts)) if parts else ""


def _section(view: dict, table: str, title: str, none: str) -> tuple[str, dict, pd.DataFrame, str]:
    """A part's language, words and table, and what it shows when the table is empty ("" when it is not)."""
    T = _T[view["lang"]]
    df = view[table]
    return view["lang"], T, df, (f"<h3>{escape(T[title])}</h3><p>{escape(T[none])}</p>" if df.empty else "")


def drift_html(view: dict) -> str:
    """The drift check of accepted items: one row per item and source, one column per month (AC1, and whether it drifted)."""
    lang, T, d, empty = _section(view, "drift", "drift", "drift_none")
    if empty:
        return empty
    months = sorted(d["month"].astype(str).unique())
    rows = []
    for (item_id, source), g in d.assign(month=d["month"].astype(str)).groupby(["item_id", "source"], sort=True):
        by = g.set_index("month")
        cells = []
        for m in months:
            if m not in by.index or missing(by.loc[m, "ac1"]):
                cells.append(DASH)
                continue
            r = by.loc[m]
            flag = bool(r["drifted"]) if not missing(r["drifted"]) else False
            cells.append(f"{num(r['ac1'], 2)} · {num(r['n'])}" + (f"（{T['flag']}）" if flag and lang == "zh" else f" ({T['flag'].lower()})" if flag else ""))
        rows.append([_label(view, item_id), T.get(source, source), num(g["accepted_level"].iloc[0], 2)] + cells)
    note = T["drift_note"]
    return (f"<h3>{escape(T['drift'])}</h3><p class='qa-note'>{escape(note)}</p>"
            + _table([T["item"], T["source"], T["level"]] + months, rows))


def precision_html(view: dict) -> str:
    """Each rule's precision from inspectors' reviews of its hits."""
    lang, T, p, empty = _section(view, "precision", "precision", "precision_none")
    if empty:
        return empty
    cols = {c.lower(): c for c in p.columns}
    est = cols.get("precision")
    lo, hi = cols.get("low") or cols.get("lo"), cols.get("high") or cols.get("hi")
    rows = [[str(r.get("rule_id", "")), num(r.get("reviewed", r.get("n", np.nan))), num(r.get("confirmed", np.nan)),
             (f"{pct(r[est])}（{pct(r[lo])}–{pct(r[hi])}）" if lang == "zh" else f"{pct(r[est])} ({pct(r[lo])}–{pct(r[hi])})") if est and lo and hi else DASH]
            for r in p.to_dict("records")]
    return f"<h3>{escape(T['precision'])}</h3>" + _table([T["rule_id"], T["reviewed"], T["confirmed"], T["prec"]], rows)


def ppi_html(view: dict) -> str:
    """The center's and each team's prediction-powered mean score beside the human-only one."""
    lang = view["lang"]
    T = _T[lang]
    p = view["ppi"]
    if p.empty or not p["estimate"].notna().any():
        return f"<h3>{escape(T['ppi'])}</h3><p>{escape(T['ppi_none'])}</p>"
    lines = [ppi_lines(p, "", T["center"], lang)]
    for team in sorted(set(p["group"].dropna()) - {""}):
        lines.append(ppi_lines(p, team, T["team"].format(team=team), lang))
    return f"<h3>{escape(T['ppi'])}</h3>" + "".join(lines) + ppi_official(lang)


def coverage_html(view: dict) -> str:
    """This month's automatic answers per item and source: answered, abstained, share "no"."""
    lang = view["lang"]
    T = _T[lang]
    c = view["coverage"]
    if c.empty:
        return ""
    words = T["answers"]
    answer_cols = [a for a in ("yes", "partial", "no", "na", "abstain") if a in c.columns]
    rows = []
    for r in c.sort_values(["item_id", "source"]).to_dict("records"):
        answered = sum(int(r.get(a, 0)) for a in ("yes", "partial", "no", "na") if a in r)
        judged = sum(int(r.get(a, 0)) for a in ("yes", "partial", "no") if a in r)
        rows.append([_label(view, r["item_id"]), T.get(r["source"], r["source"]), num(answered)]
                    + [num(r[a]) for a in answer_cols] + [pct(r.get("no", 0) / judged) if judged else DASH])
    head = [T["item"], T["source"], T["answered_n"]] + [T["abstain_col"] if a == "abstain" else words[a] for a in answer_cols] + [T["no_share"]]
    return f"<h3>{escape(T['coverage'])}</h3>" + _table(head, rows)


def autoqa_glossary(view: dict) -> str:
    return glossary(view["lang"], ["ac1", "kappa", "acceptance", "abstain", "drift", "ppi", "interval"])
