"""Numbers and words for people: one place that formats what every report page shows, in Chinese or English.

Pages show a pass rate as ``87.6%``, a change of a rate in percentage points (``+1.2 个百分点`` / ``+1.2 pts``), counts
with thousands separators, seconds as seconds, scores with one decimal, intervals clipped to their scale, and a dash
for a missing value — never ``nan``, ``None`` or a float with 16 digits. :func:`glossary` explains the statistical
words the pages use in plain language; :func:`status` and :func:`word` give the shared labels.

>>> pct(0.8761), pct(None), points(0.0123, "zh"), points(-0.004, "en")
('87.6%', '—', '+1.2 个百分点', '−0.4 pts')
>>> num(12345.6), score(84.96), seconds(245.4, "zh"), interval(-3.2, 104.0)
('12,346', '85.0', '245 秒', '0.0–100.0')
>>> status("not enough evidence", "zh"), status("missed", "en")
('证据不足', 'below target')
"""

from __future__ import annotations

import html as _html
import math

import pandas as pd

from .errors import ParameterError

__all__ = ["LANGS", "DASH", "check_lang", "pct", "points", "num", "score", "seconds", "interval", "pct_interval", "status", "word",
           "glossary", "format_frame", "missing", "kpi_label", "kpi_value"]

#: The languages every page is written in; Chinese first.
LANGS = ("zh", "en")
#: What a page shows where there is no value.
DASH = "—"
_MINUS = "−"


def check_lang(lang) -> str:
    """``lang`` if it is one of :data:`LANGS`, else a ParameterError naming them."""
    if lang not in LANGS:
        raise ParameterError(f"lang must be one of {list(LANGS)}; got {lang!r}")
    return lang


def missing(x) -> bool:
    """True for None, NaN, NaT, pd.NA and ±inf."""
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _signed(text: str, x: float) -> str:
    return ("+" if x > 0 else _MINUS if x < 0 else "") + text


def pct(x, digits: int = 1, *, signed: bool = False) -> str:
    """A share (0–1) as a percentage: ``0.8761`` → ``87.6%``."""
    if missing(x):
        return DASH
    v = 100 * float(x)
    text = f"{abs(v) if signed else v:,.{digits}f}%"
    return _signed(text, round(v, digits)) if signed else text.replace("-", _MINUS)


def points(x, lang: str = "zh", digits: int = 1) -> str:
    """A change of a share in percentage points, signed: ``0.0123`` → ``+1.2 个百分点`` / ``+1.2 pts``."""
    if missing(x):
        return DASH
    v = round(100 * float(x), digits)
    unit = " 个百分点" if check_lang(lang) == "zh" else " pts"
    return _signed(f"{abs(v):.{digits}f}{unit}", v)


def num(x, digits: int = 0) -> str:
    """A count or amount with thousands separators: ``12345.6`` → ``12,346``."""
    if missing(x):
        return DASH
    return f"{float(x):,.{digits}f}".replace("-", _MINUS)


def score(x, digits: int = 1) -> str:
    """A score on its scale, one decimal: ``84.96`` → ``85.0``."""
    return num(x, digits)


def seconds(x, lang: str = "zh") -> str:
    """A duration in whole seconds: ``245.4`` → ``245 秒`` / ``245 s``."""
    if missing(x):
        return DASH
    return f"{float(x):,.0f}" + (" 秒" if check_lang(lang) == "zh" else " s")


def interval(low, high, lo: float = 0.0, hi: float = 100.0, digits: int = 1) -> str:
    """An interval on a bounded scale (default 0–100), clipped to it: ``(-3.2, 104)`` → ``0.0–100.0``."""
    if missing(low) or missing(high):
        return DASH
    a, b = min(max(float(low), lo), hi), min(max(float(high), lo), hi)
    return f"{a:,.{digits}f}–{b:,.{digits}f}"


def pct_interval(low, high, digits: int = 1) -> str:
    """An interval of a share, clipped to 0–1, in percent: ``(0.71, 1.02)`` → ``71.0%–100.0%``."""
    if missing(low) or missing(high):
        return DASH
    a, b = min(max(float(low), 0.0), 1.0), min(max(float(high), 0.0), 1.0)
    return f"{pct(a, digits)}–{pct(b, digits)}"


_STATUS = {
    "met": ("达标", "met"),
    "missed": ("未达标", "below target"),
    "not enough evidence": ("证据不足", "not enough evidence"),
    "no target": ("无目标", "no target"),
    "above": ("高于目标", "above target"),
}

_WORDS = {
    "target": ("目标", "target"), "team": ("团队", "team"), "center": ("中心", "center"), "agent": ("坐席", "agent"),
    "month": ("月份", "month"), "calls": ("通", "calls"), "score": ("得分", "score"), "interval": ("95% 区间", "95 % interval"),
    "estimate": ("最佳估计", "best estimate"), "status": ("结论", "verdict"), "item": ("质检项", "item"),
    "pass_rate": ("通过率", "pass rate"), "rank": ("排名", "rank"), "rank_range": ("排名范围", "rank range"),
    "calls_to_decide": ("还需抽检通数", "calls still needed"), "value": ("数值", "value"), "kpi": ("指标", "KPI"),
    "inspector": ("质检员", "inspector"), "expert": ("专家", "expert"), "consensus": ("共识", "consensus"),
    "glossary": ("名词解释", "What the words mean"), "download": ("下载", "download"), "none": ("无", "none"),
}


def status(value, lang: str = "zh") -> str:
    """A verdict in the reader's language (``met`` / ``missed`` / ``not enough evidence`` / ``no target``)."""
    k = 0 if check_lang(lang) == "zh" else 1
    if missing(value):
        return DASH
    return _STATUS.get(str(value), (str(value), str(value)))[k]


def word(key: str, lang: str = "zh") -> str:
    """A shared label (``target``, ``interval``, ``calls_to_decide`` …) in the reader's language."""
    if key not in _WORDS:
        raise ParameterError(f"word must be one of {sorted(_WORDS)}; got {key!r}")
    return _WORDS[key][0 if check_lang(lang) == "zh" else 1]


_GLOSSARY = {
    "interval": (
        "95% 区间", "在目前的抽检量下，真实水平有 95% 的把握落在这个范围内。抽检的通话越多，范围越窄。",
        "95 % interval", "With the calls scored so far, the true level lies in this range with 95 % confidence. More scored calls make it narrower."),
    "not_enough_evidence": (
        "证据不足", "区间同时包含目标以上和以下的值：目前的抽检量还不能判断是否达标，不代表表现不好。",
        "not enough evidence", "The interval holds values both above and below the target: the calls scored so far cannot tell yet. It does not mean the work is poor."),
    "borrowed_strength": (
        "借力估计", "每人每月只抽检几通，单看这几通波动很大。模型把同一团队、同一质检项和近三个月的证据合在一起，近月权重更大，所以估计比单月平均更稳，极端值会被拉向团队水平。",
        "borrowed strength", "A few scored calls a month swing widely. The model combines the team, the item and the last three months (recent ones weigh more), so the estimate is steadier than one month's mean and extreme values are pulled toward the team."),
    "rank_range": (
        "排名范围", "在 95% 的把握下，这个人在中心里的排名可能落在的位置。范围重叠的人无法真正分出先后。",
        "rank range", "Where this person's rank in the center could lie, with 95 % confidence. People whose ranges overlap cannot really be told apart."),
    "family_wise": (
        "整体误判控制", "同时判断很多人时，本页保证把任何一个达标的人误判为未达标的概率不超过 5%（Holm 校正）。",
        "family-wise control", "When many people are judged at once, this page keeps the chance of wrongly calling anyone below target at 5 % or less (Holm correction)."),
    "fdr": (
        "错误发现率（FDR）", "列表中很多项同时检验时，控制被标出的项里误报所占比例平均不超过 5%（Benjamini–Hochberg）。q 值越小越可靠。",
        "false discovery rate (FDR)", "When a list tests many things at once, on average at most 5 % of the flagged ones are false alarms (Benjamini–Hochberg). The smaller the q value, the surer the flag."),
    "points": (
        "百分点", "两个百分比之差，例如从 85% 到 87% 是上升 2 个百分点（不是 2%）。",
        "percentage points", "The difference of two percentages: from 85 % to 87 % is 2 points up (not 2 %)."),
    "ac1": (
        "AC1 / AC2（一致性系数）", "质检员给同一通电话同一答案的程度，已扣除碰巧一致的部分：1 为完全一致，0.8 以上为高度一致。几乎所有答案都是“是”时它仍然可靠。",
        "AC1 / AC2 (agreement)", "How far inspectors give the same call the same answer, beyond agreement by chance: 1 is full agreement, 0.8 or more is strong. It stays meaningful when almost every answer is 'yes'."),
    "kappa": (
        "κ（Cohen）", "两方（例如自动判断与质检员）一致的程度，扣除碰巧一致的部分。答案几乎都相同时 κ 会偏低，所以与 AC1 一起看。",
        "κ (Cohen)", "How far two raters (say the automatic answer and the inspector) agree beyond chance. It reads low when almost every answer is the same, so read it beside AC1."),
    "acceptance": (
        "验收（非劣效）", "自动判断与人工答案的一致性（AC1）不比质检员彼此之间的一致性低超过容差（默认 0.10），且有足够的电话支撑这个结论，才算通过验收。通过前只作建议、只用于挑选定向抽检电话。",
        "acceptance (non-inferiority)", "An automatic item is accepted when its agreement with the human answers (AC1) is not worse than the inspectors' agreement with each other by more than the margin (0.10 by default), with enough calls behind it. Until then it is a suggestion and only picks calls for the targeted arm."),
    "abstain": (
        "弃答", "模型没有把握时不作答，交给质检员；弃答不算一致也不算不一致，单独报告。",
        "abstain", "When the model is not sure it gives no answer and leaves the call to inspectors; abstentions are neither agreement nor disagreement and are reported apart."),
    "ppi": (
        "预测增强估计（PPI++）", "用全部电话的自动评分，再以人工随机抽检纠正其偏差得到的估计。无论自动评分好坏，区间都有效；自动评分越准，区间越窄，相当于多评了若干通电话。",
        "prediction-powered estimate (PPI++)", "An estimate from the automatic answers on every call, corrected for their bias by the human random sample. The interval is valid however good the automatic answers are; the better they are, the narrower it is — worth a number of extra scored calls."),
    "drift": (
        "漂移", "已通过验收的质检项，每月在人工随机抽检上复查一致性；明显低于验收时的水平就退回为建议，直到重新验收。",
        "drift", "Each month an accepted item's agreement is checked again on the human random sample; when it is clearly below the level it was accepted at, it goes back to suggestions until accepted again."),
    "alpha": (
        "α（Krippendorff）", "另一种一致性系数，0.8 以上可靠。几乎所有答案都相同时，少数几个分歧就会把 α 压到 0 附近，此时应看 AC1/AC2。",
        "α (Krippendorff)", "Another agreement coefficient, reliable from 0.8. When almost every answer is the same, a few disagreements push α towards 0: read AC1/AC2 then."),
}


def glossary(lang: str = "zh", terms=None) -> str:
    """A short HTML glossary of the statistical words a page uses (``terms``: keys of the glossary; default all)."""
    k = 0 if check_lang(lang) == "zh" else 2
    keys = list(_GLOSSARY) if terms is None else list(terms)
    bad = [t for t in keys if t not in _GLOSSARY]
    if bad:
        raise ParameterError(f"terms must be among {sorted(_GLOSSARY)}; got {bad!r}")
    rows = "".join(f"<dt><b>{_html.escape(_GLOSSARY[t][k])}</b></dt><dd>{_html.escape(_GLOSSARY[t][k + 1])}</dd>" for t in keys)
    return f'<details class="qa-glossary"><summary>{_html.escape(word("glossary", lang))}</summary><dl>{rows}</dl></details>'


_FORMATTERS = {"pct": pct, "score": score, "num": num}


def format_frame(df: pd.DataFrame, formats: dict, lang: str = "zh") -> pd.DataFrame:
    """A copy of ``df`` with the columns of ``formats`` as text: ``pct``, ``points``, ``score``, ``num``, ``seconds``,
    ``status`` or a callable; missing values become :data:`DASH`. Other columns keep their values."""
    out = df.copy()
    for col, kind in formats.items():
        if col not in out.columns:
            raise ParameterError(f"formats names column {col!r}, which is not in the table; columns: {list(out.columns)}")
        if callable(kind):
            f = kind
        elif kind in _FORMATTERS:
            f = _FORMATTERS[kind]
        elif kind in ("points", "seconds", "status"):
            f = {"points": lambda x: points(x, lang), "seconds": lambda x: seconds(x, lang), "status": lambda x: status(x, lang)}[kind]
        else:
            raise ParameterError(f"format for {col!r} must be one of pct, points, score, num, seconds, status or a function; got {kind!r}")
        out[col] = out[col].map(f).astype(object)
    return out


_KPIS = {
    "answer_rate": ("接通率", "answer rate"), "abandon_rate": ("放弃率", "abandon rate"),
    "personal_abandon_rate": ("坐席侧放弃率", "abandons after reaching an agent"), "fcr": ("首次解决率", "first-contact resolution"),
    "information_accuracy": ("信息准确率", "information accuracy"), "service_standard": ("服务规范达标率", "service standard met"),
    "aht_seconds": ("平均处理时长", "average handling time"), "avg_talk_seconds": ("平均通话时长", "average talk time"),
    "avg_hold_seconds": ("平均保持时长", "average hold time"), "avg_acw_seconds": ("平均话后处理时长", "average after-call work"),
    "contacts_per_staffed_hour": ("每在岗小时接待量", "contacts per staffed hour"), "csat_mean": ("客户满意度（均分）", "CSAT (mean)"),
    "csat_satisfied": ("满意客户占比", "satisfied customers"),
}


def kpi_label(kpi: str, lang: str = "zh") -> str:
    """A KPI's name in the reader's language (``fcr`` → 首次解决率 / first-contact resolution); an unknown KPI keeps its id."""
    k = 0 if check_lang(lang) == "zh" else 1
    return _KPIS[kpi][k] if kpi in _KPIS else str(kpi)


def kpi_value(value, unit: str, lang: str = "zh") -> str:
    """A KPI value by its unit: a ``rate`` in %, ``seconds`` as seconds, anything else with one decimal."""
    if unit == "rate":
        return pct(value)
    if unit == "seconds":
        return seconds(value, lang)
    return num(value, 1 if not missing(value) and abs(float(value)) < 100 else 0)
