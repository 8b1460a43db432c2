"""The month's landing page (``index.html``): a dashboard built from the whole month folder and the store.

One page a manager opens first, in the center's language (``index.html``) and the other language
(``index_<lang>.html``), with a switch between them: the month's state in one sentence, the KPIs against their targets
with their status, what needs attention — agents reliably below target (the quality model's ``missed``, from the
month's prepared tables under ``_data``), the VOC alerts (from the VOC report's prepared tables), coaching actions
overdue at the month's end (:func:`qa_lib.coaching.open_actions`), the items the month's calibration session agreed on
least (:func:`qa_lib.calibration.session_report`) — each with a link to its page, then links to every report in the
folder (agents with their names, teams, VOC, training, calibration, case library, digest), the worklists and the
downloads. The page is written from what exists in the folder, so running one kind of report never shrinks it to that
kind. Self-contained HTML (one inline style sheet, no script), every shown text escaped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import fmt
from ..html import escape

__all__ = ["DashboardFacts", "dashboard_facts", "dashboard_html", "write_dashboard", "team_stem", "TEXTS"]


def team_stem(team: str) -> str:
    """A team's file name stem; a team called ``all`` never takes the center-wide page's name."""
    from ..files import file_stem

    stem = file_stem(team)
    return stem if stem.lower() != "all" else file_stem(f"team {team}")

#: Words of the page, per language.
TEXTS = {
    "zh": {
        "title": "{center}质检月报 {month}", "switch": "English", "kpis": "话务与质量指标（中心）", "attention": "需要关注",
        "missed": "可靠地低于目标的坐席", "voc": "客户之声预警", "coaching": "逾期的辅导行动", "calibration": "校准会要讨论的质检项",
        "reports": "全部报告", "agents": "坐席报告", "teams": "团队报告", "voc_page": "客户之声（VOC）", "training": "培训需求",
        "autoqa_page": "自动质检", "ppi": "结合自动质检的质量估计", "center_score": "中心均分",
        "autoqa_link": "全中心：各质检项是否通过验收、一致性、漂移与结合估计", "voc_link": "全中心：话题、趋势、预警与新话题",
        "cases": "案例库", "digest": "每日质检简报", "calibration_pages": "校准会报告", "worklists": "抽检工作清单", "downloads": "下载",
        "other": "其他页面", "not_written": "未生成的报告", "kpi": "指标", "value": "本月", "interval": "95% 区间", "target": "目标",
        "status": "结论", "none_missed": "没有坐席可靠地低于目标。", "none_voc": "本月没有话题超出其正常波动范围。",
        "none_coaching": "截至 {day} 没有逾期的辅导行动。", "none_calibration": "本月没有校准会。", "no_scores": "还没有本月的坐席得分表：运行 `qa report agents`。",
        "no_voc": "还没有本月的客户之声数据：运行 `qa report voc`。", "unclear": "另有 {n} 名坐席证据不足（抽检通数还不够下结论），见各团队报告。",
        "score_line": "{name}（{agent}，{team}）：最佳估计 {shrunk} 分，95% 区间 {interval}，目标 {target}",
        "voc_line": "{topic}：本月占比 {share}（上月 {previous}，变化 {change}）", "coaching_line": "{agent_name}（{agent}）：{items}，{due} 到期，已逾期 {days} 天，辅导人 {coach}",
        "calibration_line": "{item}：{agreement} 的答案一致，{measure} {ac}", "calibration_session": "校准会 {session}（{day}，{calls} 通，{inspectors} 名质检员）",
        "make_calibration": "会议报告：运行 `qa calibrate --session {session} --out {folder}`。", "page": "查看",
        "state_kpis": "中心 {judged} 项有目标的指标中 {missed} 项未达标{which}", "state_ok": "中心 {judged} 项有目标的指标全部达标或证据不足",
        "state_agents": "{n} 名坐席可靠地低于目标", "state_voc": "{n} 个客户之声预警", "state_coaching": "{n} 项辅导逾期",
        "state_sep": "；", "state_end": "。", "no_kpis": "本月没有话务数据",
        "footer": "本页由 `qa report` 根据本月文件夹生成；每次生成报告时都会重写，列出文件夹里已有的全部报告。",
        "team_col": "团队", "other_topic": "其他",
        "abandon_note": "中心的放弃率包含在排队中、接通坐席之前放弃的来电；这些来电不属于任何团队，所以团队的放弃率只计接通坐席之后的放弃，中心未达标而各团队达标并不矛盾。",
    },
    "en": {
        "title": "{center}QA month {month}", "switch": "中文", "kpis": "Contact and quality KPIs (center)", "attention": "Needs attention",
        "missed": "Agents reliably below target", "voc": "Customer-voice alerts", "coaching": "Coaching actions overdue",
        "calibration": "Items to discuss at calibration", "reports": "All reports", "agents": "Agent reports", "teams": "Team reports",
        "voc_page": "Voice of the customer (VOC)", "training": "Training needs", "cases": "Case library", "digest": "Daily QA digest",
        "autoqa_page": "Auto-QA", "ppi": "Quality estimates with auto-QA", "center_score": "Center mean score",
        "autoqa_link": "Whole center: which items are accepted, agreement, drift, combined estimates",
        "voc_link": "Whole center: topics, trends, alerts and new themes",
        "calibration_pages": "Calibration meeting reports", "worklists": "Sampling worklists", "downloads": "Downloads", "other": "Other pages",
        "not_written": "Reports not written", "kpi": "KPI", "value": "this month", "interval": "95 % interval", "target": "target",
        "status": "verdict", "none_missed": "No agent is reliably below target.", "none_voc": "No topic moved beyond its normal range this month.",
        "none_coaching": "No coaching action was overdue on {day}.", "none_calibration": "No calibration session this month.",
        "no_scores": "The month's agent score tables are not there yet: run `qa report agents`.",
        "no_voc": "The month's VOC tables are not there yet: run `qa report voc`.",
        "unclear": "{n} more agents have not enough evidence yet (too few scored calls to decide): see the team reports.",
        "score_line": "{name} ({agent}, {team}): best estimate {shrunk}, 95 % interval {interval}, target {target}",
        "voc_line": "{topic}: {share} of this month's verbatims (last month {previous}, change {change})",
        "coaching_line": "{agent_name} ({agent}): {items}, due {due}, {days} days overdue, coach {coach}",
        "calibration_line": "{item}: {agreement} of answers agree, {measure} {ac}",
        "calibration_session": "Session {session} ({day}, {calls} calls, {inspectors} inspectors)",
        "make_calibration": "Meeting report: run `qa calibrate --session {session} --out {folder}`.", "page": "open",
        "state_kpis": "{missed} of the center's {judged} KPIs with a target are below target{which}",
        "state_ok": "every one of the center's {judged} KPIs with a target is met or not yet decided",
        "state_agents": "agents reliably below target: {n}", "state_voc": "customer-voice alerts: {n}", "state_coaching": "coaching actions overdue: {n}",
        "state_sep": "; ", "state_end": ".", "no_kpis": "no contacts this month",
        "footer": "Written by `qa report` from this month's folder; rewritten on every run, listing every report the folder holds.",
        "team_col": "team", "other_topic": "other",
        "abandon_note": "The center's abandon rate includes calls abandoned in the queue before an agent answered; those calls belong to no team, "
                        "so a team's abandon rate counts only abandons after reaching its agents: the center can miss its target while every team meets it.",
    },
}

_STYLE = """<style>
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1160px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:18px;margin:22px 0 8px;border-bottom:2px solid #ddd;padding-bottom:3px}
h3{font-size:15px;margin:12px 0 6px}.lead{font-size:16px;line-height:1.6;background:#fff;border-left:4px solid #35609b;padding:8px 12px}
.switch{float:right;font-size:14px;margin-top:12px}
table.kpi{border-collapse:collapse;font-size:14px;background:#fff;width:100%}
table.kpi th,table.kpi td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
table.kpi td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.st{font-weight:bold;white-space:nowrap}.st-missed{color:#b3261e}.st-met{color:#1e7b34}.st-unclear{color:#8a6d00}.st-none{color:#777}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}.card{background:#fff;border:1px solid #ddd;border-radius:4px;padding:8px 12px}
.card h3{margin-top:4px}.card ul,.links ul{margin:4px 0;padding-left:20px}.card li,.links li{margin:3px 0;line-height:1.45}
.count{display:inline-block;min-width:1.6em;text-align:center;background:#eee;border-radius:8px;padding:0 6px;font-size:13px}
.count.hot{background:#b3261e;color:#fff}.muted{color:#666;font-size:13px}
.agents{columns:3;column-gap:24px}.agents li{break-inside:avoid}
code{background:#f0f0f0;padding:0 3px}.inline{line-height:1.8}
</style>"""


@dataclass
class DashboardFacts:
    """What the page shows, language-free: read from the month folder and the store once, shown in every language."""

    month: str
    center: str = ""
    kpis: pd.DataFrame = field(default_factory=pd.DataFrame)  # center level: kpi, value, low, high, target, status, unit
    team_kpis: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame | None = None  # the model's scores (None: not prepared)
    target: float | None = None
    alerts: pd.DataFrame | None = None  # VOC alerts (None: not prepared)
    overdue: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: str = ""
    calibration: list = field(default_factory=list)  # per session: dict(session, day, calls, inspectors, items DataFrame)
    names: dict = field(default_factory=dict)  # agent_id → name
    teams: dict = field(default_factory=dict)  # agent_id → team
    item_labels: dict = field(default_factory=dict)  # item_id → {zh, en}
    ppi: pd.DataFrame | None = None  # prediction-powered estimates (None: no auto-QA this month)


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.exists() else None


def dashboard_facts(store, month, folder: str | os.PathLike) -> DashboardFacts:
    """The month's facts for the dashboard: KPIs (:func:`qa_lib.reports.monthly.month_kpis`), the prepared tables in
    ``folder/_data`` (scores, VOC alerts), overdue coaching actions and the calibration sessions of the month."""
    from ..coaching import open_actions
    from ..config import settings
    from .monthly import month_kpis

    p = pd.Period(month, freq="M")
    folder = Path(folder)
    s = settings()
    agents = store.read("agents")
    facts = DashboardFacts(month=str(p), center=s.name or "", names=agents.set_index("agent_id")["name"].astype(object).to_dict(),
                           teams=agents.set_index("agent_id")["team"].astype(object).to_dict())
    k = pd.DataFrame(columns=["level", "group", "kpi", "value", "low", "high", "n", "target", "status", "unit"])
    if not store.read_month("contacts", p).empty:  # a month without contacts has no KPI (the page says so)
        k = month_kpis(store, p)
    k = k[(k["n"] > 0)]
    facts.kpis = k[k["level"] == "center"].reset_index(drop=True)
    facts.team_kpis = k[k["level"] == "team"].reset_index(drop=True)
    data = folder / "_data"
    facts.scores = _read(data / "scores.parquet")
    facts.ppi = _read(data / "ppi.parquet")
    if (data / "headline.json").exists():
        import json

        facts.target = json.loads((data / "headline.json").read_text(encoding="utf-8")).get("target")
    facts.alerts = _read(data / "voc" / "alerts.parquet")
    if facts.alerts is not None:
        facts.alerts = facts.alerts[facts.alerts["alert"].astype(bool)].reset_index(drop=True)
    month_end = ((p + 1).start_time - pd.Timedelta(days=1)).date()
    facts.as_of = str(month_end)
    actions = store.read("coaching_actions")
    if len(actions):
        actions = actions[pd.to_datetime(actions["created_on"]).dt.date <= month_end]
    if len(actions):
        listing = open_actions(actions, agents, month_end)
        facts.overdue = listing[listing["overdue"]].sort_values(["days_overdue", "action_id"], ascending=[False, True], ignore_index=True)
    for card_id, version in store.read("scorecards", columns=["scorecard_id", "version"]).itertuples(index=False):
        for item in store.scorecard(card_id, int(version)).items:  # the newest version's label wins
            facts.item_labels[item.id] = dict(item.label)
    facts.calibration = _calibration(store, p, facts)
    return facts


def _calibration(store, p: pd.Period, facts: DashboardFacts) -> list:
    """Each calibration session of the month with its three least reliable items (lowest AC1/AC2, then agreement)."""
    from ..calibration import session_report
    from ..errors import NotFoundError

    try:
        ev, it, sessions = store.calibration_data(month=p)
    except NotFoundError:
        return []
    out = []
    for row in sessions.itertuples():
        e = ev[ev["calibration_session_id"] == row.session_id]
        if e["inspector_id"].nunique() < 2:
            continue
        card_id, version = e["scorecard_id"].iloc[0], int(e["scorecard_version"].max())
        card = store.scorecard(card_id, version)
        for item in card.items:
            facts.item_labels.setdefault(item.id, dict(item.label))
        rep = session_report(e, it[it["evaluation_id"].isin(e["evaluation_id"])], card, expert=row.expert_inspector_id, n_boot=0, lang="en")
        items = rep["items"].copy()
        items = items[items["ac"].notna()].sort_values(["ac", "percent_agreement"], kind="stable").head(3)
        out.append({"session": row.session_id, "day": str(row.held_on)[:10], "calls": int(e["contact_id"].nunique()),
                    "inspectors": int(e["inspector_id"].nunique()), "items": items.reset_index(drop=True)})
    return out


# ---------------------------------------------------------------------------------------------- the folder's pages
def _rel(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path, folder)).as_posix()


def _link(href: str, text: str, cls: str = "") -> str:
    return f'<a href="{escape(href)}"{f" class={cls}" if cls else ""}>{escape(text)}</a>'


def _lang_page(base: Path, stem: str, lang: str) -> Path | None:
    """``<stem>_<lang>.html`` in ``base``, else the other language's page, else ``<stem>.html`` (pages from before languages)."""
    for name in [f"{stem}_{lang}.html", *(f"{stem}_{other}.html" for other in fmt.LANGS if other != lang), f"{stem}.html"]:
        if (base / name).exists():
            return base / name
    return None


def _pages(folder: Path, facts: DashboardFacts, lang: str) -> dict:
    """Every page and download in the month folder, by kind (each a list of (path, text))."""
    from ..files import file_stem

    used: set[Path] = set()
    out: dict[str, list] = {}

    def take(kind, path, text):
        used.add(path.resolve())
        out.setdefault(kind, []).append((path, text))

    agents_dir = folder / "agents"
    for a in sorted(facts.names):
        page = _lang_page(agents_dir, file_stem(a), lang)
        if page is not None:
            take("agents", page, (a, facts.names.get(a) or "", facts.teams.get(a) or ""))
    teams = sorted({t for t in facts.teams.values() if isinstance(t, str)})
    for t in teams:
        page = _lang_page(folder / "teams", team_stem(t), lang)
        if page is not None:
            take("teams", page, t)
    voc = _lang_page(folder, "voc", lang)
    if voc is not None:
        take("voc_page", voc, TEXTS[lang]["voc_link"])
    autoqa = _lang_page(folder, "autoqa", lang)
    if autoqa is not None:
        take("autoqa_page", autoqa, TEXTS[lang]["autoqa_link"])
    center = _lang_page(folder / "training", "all", lang)
    if center is not None:
        take("training", center, fmt.word("center", lang))
    for t in teams:
        page = _lang_page(folder / "training", team_stem(t), lang)
        if page is not None:
            take("training", page, t)
    if (folder / "cases" / "index.html").exists():
        take("cases", folder / "cases" / "index.html", TEXTS[lang]["cases"])
    for path in sorted(folder.rglob("calibration_*.html")):
        if path.stem.endswith(f"_{lang}") or not any(path.stem.endswith(f"_{x}") for x in fmt.LANGS):
            take("calibration_pages", path, path.stem.removeprefix("calibration_").removesuffix(f"_{lang}"))
    digest = folder.parent / "digest"
    if digest.is_dir():
        for path in sorted(digest.glob("*.html"), reverse=True)[:10]:  # the latest days first
            take("digest", path, path.stem.removeprefix("digest_"))
    if (folder / "worklists").is_dir():
        for path in sorted((folder / "worklists").iterdir()):
            if path.is_file():
                take("worklists", path, path.name)
    for path in sorted([*folder.glob("*.xlsx"), *folder.glob("*.csv"), *folder.glob("*.md")]):
        take("downloads", path, path.name)
    other_lang = {f"_{x}.html" for x in fmt.LANGS if x != lang}
    top = {(folder / f"index{suffix}").resolve() for suffix in [".html", *(f"_{x}.html" for x in fmt.LANGS)]}
    for path in sorted([*folder.glob("*.html"), *folder.glob("*/*.html")]):
        r = path.resolve()
        if r in used or r in top or path.parent.name in ("screenshots", "_data") or any(path.name.endswith(s) for s in other_lang):
            continue
        if path.parent.name in ("agents", "teams", "training") and (path.parent / f"{path.stem}_{lang}.html").exists():
            continue  # an old page without a language, replaced by this language's
        take("other", path, _rel(path, folder))
    return out


# ---------------------------------------------------------------------------------------------- the page
def _status_class(status) -> str:
    return {"missed": "st-missed", "met": "st-met", "not enough evidence": "st-unclear"}.get(str(status), "st-none")


def _kpi_table(facts: DashboardFacts, lang: str) -> str:
    T = TEXTS[lang]
    if facts.kpis.empty:
        return f"<p>{escape(T['no_kpis'])}</p>"
    teams = sorted(facts.team_kpis["group"].unique()) if len(facts.team_kpis) else []
    tk = facts.team_kpis.set_index(["kpi", "group"]) if len(facts.team_kpis) else None
    head = "".join(f"<th>{escape(h)}</th>" for h in (T["kpi"], T["value"], T["interval"], T["target"], T["status"]))
    head += "".join(f"<th>{escape(T['team_col'])} {escape(t)}</th>" for t in teams)
    rows = []
    order = {k: i for i, k in enumerate(["answer_rate", "abandon_rate", "personal_abandon_rate", "fcr", "information_accuracy", "service_standard",
                                         "aht_seconds", "avg_talk_seconds", "avg_hold_seconds", "avg_acw_seconds", "contacts_per_staffed_hour"])}
    k = facts.kpis.assign(_o=facts.kpis["kpi"].map(order).fillna(99)).sort_values(["_o", "kpi"])
    for r in k.itertuples():
        judged = r.status in ("met", "missed", "not enough evidence")
        if r.unit == "rate":
            ci = fmt.pct_interval(r.low, r.high)
        elif r.unit == "seconds" and not fmt.missing(r.low):
            ci = f"{fmt.num(r.low)}–{fmt.num(r.high)}" + (" 秒" if lang == "zh" else " s")
        else:
            ci = fmt.DASH
        cells = [escape(fmt.kpi_label(r.kpi, lang)), escape(fmt.kpi_value(r.value, r.unit, lang)), escape(ci),
                 escape(fmt.kpi_value(r.target, r.unit, lang) if judged else fmt.DASH),
                 f'<span class="st {_status_class(r.status)}">{escape(fmt.status(r.status, lang) if judged else fmt.DASH)}</span>']
        for t in teams:
            if tk is not None and (r.kpi, t) in tk.index:
                x = tk.loc[(r.kpi, t)]
                x = x.iloc[0] if isinstance(x, pd.DataFrame) else x
                mark = f' <span class="st {_status_class(x["status"])}">{escape(fmt.status(x["status"], lang))}</span>' if x["status"] in ("met", "missed", "not enough evidence") else ""
                cells.append(escape(fmt.kpi_value(x["value"], x["unit"], lang)) + mark)
            else:
                cells.append(fmt.DASH)
        rows.append("<tr>" + "".join(f'<td{" class=n" if 0 < i < 4 else ""}>{c}</td>' for i, c in enumerate(cells)) + "</tr>")
    note = f'<p class="muted">{escape(T["abandon_note"])}</p>' if "abandon_rate" in set(facts.kpis["kpi"]) and teams else ""
    return f'<table class="kpi"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{note}'


def _item_label(facts: DashboardFacts, item_id: str, lang: str) -> str:
    label = facts.item_labels.get(item_id) or {}
    return str(label.get(lang) or label.get("zh") or label.get("en") or item_id)


def _topic_label(topic: str, lang: str) -> str:
    from ..config import settings

    if topic == "other":
        return TEXTS[lang]["other_topic"]
    try:
        return settings().label("topics", topic, lang)
    except Exception:  # noqa: BLE001  a label is a nicety: the topic's own name is still right
        return str(topic)


def _card(title: str, n: int | None, body: str, hot: bool = True) -> str:
    count = "" if n is None else f' <span class="count{" hot" if n and hot else ""}">{n}</span>'
    return f'<div class="card"><h3>{escape(title)}{count}</h3>{body}</div>'


def _ul(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _attention(facts: DashboardFacts, pages: dict, folder: Path, lang: str) -> tuple[str, dict]:
    from ..files import file_stem
    from ..html import escape_code

    T = TEXTS[lang]
    agent_pages = {p[1][0]: p[0] for p in pages.get("agents", [])}
    counts = {}
    # agents reliably below target
    if facts.scores is None:
        missed_body, counts["missed"] = f"<p>{escape_code(T['no_scores'])}</p>", None
    else:
        missed = facts.scores[facts.scores["status"] == "missed"].sort_values("shrunk")
        lines = []
        for r in missed.itertuples():
            text = escape(T["score_line"].format(name=facts.names.get(r.agent_id) or "", agent=r.agent_id, team=r.team or fmt.DASH,
                                                 shrunk=fmt.score(r.shrunk), interval=fmt.interval(r.low, r.high), target=fmt.score(facts.target)))
            page = agent_pages.get(r.agent_id)
            lines.append(text + (f" · {_link(_rel(page, folder), T['page'])}" if page else ""))
        unclear = int((facts.scores["status"] == "not enough evidence").sum())
        missed_body = (_ul(lines) if lines else f"<p>{escape(T['none_missed'])}</p>") + (f'<p class="muted">{escape(T["unclear"].format(n=unclear))}</p>' if unclear else "")
        counts["missed"] = len(lines)
    # VOC alerts
    voc_page = pages.get("voc_page", [(None, "")])[0][0]
    if facts.alerts is None:
        voc_body, counts["voc"] = f"<p>{escape_code(T['no_voc'])}</p>", None
    else:
        lines = [escape(T["voc_line"].format(topic=_topic_label(r.topic, lang), share=fmt.pct(r.share), previous=fmt.pct(r.previous_share),
                                             change=fmt.points(r.change, lang))) for r in facts.alerts.itertuples()]
        voc_body = (_ul(lines) if lines else f"<p>{escape(T['none_voc'])}</p>") + (f"<p>{_link(_rel(voc_page, folder), T['voc_page'])}</p>" if voc_page else "")
        counts["voc"] = len(lines)
    # overdue coaching
    lines = []
    for r in facts.overdue.itertuples():
        items = "、".join(_item_label(facts, i, lang) for i in str(r.items).split(",") if i) if lang == "zh" else ", ".join(
            _item_label(facts, i, lang) for i in str(r.items).split(",") if i)
        text = escape(T["coaching_line"].format(agent_name=facts.names.get(r.agent_id) or "", agent=r.agent_id, items=items, due=r.due_on,
                                                days=int(r.days_overdue), coach=r.coach))
        page = agent_pages.get(r.agent_id)
        lines.append(text + (f" · {_link(_rel(page, folder), T['page'])}" if page else ""))
    training = pages.get("training", [(None, "")])[0][0]
    coaching_body = (_ul(lines) if lines else f"<p>{escape(T['none_coaching'].format(day=facts.as_of))}</p>") + (
        f"<p>{_link(_rel(training, folder), T['training'])}</p>" if training else "")
    counts["coaching"] = len(lines)
    # calibration
    cal_pages = pages.get("calibration_pages", [])
    parts = []
    n_items = 0
    for sess in facts.calibration:
        lines = [escape(T["calibration_line"].format(item=_item_label(facts, r.item_id, lang), agreement=fmt.pct(r.percent_agreement),
                                                     measure=str(r.measure).split(" ")[0], ac=fmt.num(r.ac, 2))) for r in sess["items"].itertuples()]
        n_items += len(lines)
        page = next((p for p, _ in cal_pages if file_stem(sess["session"]) in p.name), None)
        link = (f"<p>{_link(_rel(page, folder), T['page'])}</p>" if page else
                f'<p class="muted">{escape_code(T["make_calibration"].format(session=sess["session"], folder=folder.as_posix()))}</p>')
        parts.append(f"<p>{escape(T['calibration_session'].format(session=sess['session'], day=sess['day'], calls=sess['calls'], inspectors=sess['inspectors']))}</p>"
                     + _ul(lines) + link)
    cal_body = "".join(parts) if parts else f"<p>{escape(T['none_calibration'])}</p>"
    counts["calibration"] = n_items
    html = ('<div class="grid">' + _card(T["missed"], counts["missed"], missed_body) + _card(T["voc"], counts["voc"], voc_body)
            + _card(T["coaching"], counts["coaching"], coaching_body) + _card(T["calibration"], counts["calibration"], cal_body, hot=False) + "</div>")
    return html, counts


def _state(facts: DashboardFacts, counts: dict, lang: str) -> str:
    """The page's first sentence: the month's state."""
    T = TEXTS[lang]
    judged = facts.kpis[facts.kpis["status"].isin(["met", "missed", "not enough evidence"])] if len(facts.kpis) else facts.kpis
    parts = []
    if len(judged):
        missed = judged[judged["status"] == "missed"]
        if len(missed):
            sep = "、" if lang == "zh" else ", "
            which = sep.join(f"{fmt.kpi_label(r.kpi, lang)} {fmt.kpi_value(r.value, r.unit, lang)}"
                             + (f"（目标 {fmt.kpi_value(r.target, r.unit, lang)}）" if lang == "zh" else f" (target {fmt.kpi_value(r.target, r.unit, lang)})")
                             for r in missed.itertuples())
            parts.append(T["state_kpis"].format(judged=len(judged), missed=len(missed), which=("：" if lang == "zh" else ": ") + which))
        else:
            parts.append(T["state_ok"].format(judged=len(judged)))
    else:
        parts.append(T["no_kpis"])
    for key in ("missed", "voc", "coaching"):
        if counts.get(key) is not None:
            parts.append(T[{"missed": "state_agents", "voc": "state_voc", "coaching": "state_coaching"}[key]].format(n=counts[key]))
    text = f"{facts.month}{'：' if lang == 'zh' else ': '}" + T["state_sep"].join(parts) + T["state_end"]
    return text[0].upper() + text[1:] if lang == "en" else text


def _links(pages: dict, folder: Path, lang: str) -> str:
    T = TEXTS[lang]
    out = []
    if pages.get("agents"):
        by_team: dict[str, list] = {}
        for path, (agent, name, team) in pages["agents"]:
            by_team.setdefault(team or fmt.DASH, []).append(_link(_rel(path, folder), f"{name} {agent}" if name else agent))
        body = "".join(f"<h3>{escape(T['team_col'])} {escape(t)} <span class=\"count\">{len(v)}</span></h3><ul class=\"agents\">"
                       + "".join(f"<li>{x}</li>" for x in v) + "</ul>" for t, v in sorted(by_team.items()))
        out.append(f"<h2>{escape(T['agents'])}</h2>{body}")
    for kind in ("teams", "voc_page", "autoqa_page", "training", "calibration_pages", "cases", "digest", "worklists", "downloads", "other"):
        if pages.get(kind):
            links = [_link(_rel(p, folder), t) for p, t in pages[kind]]
            out.append(f"<h2>{escape(T[kind])}</h2>" + (f'<p class="inline">{" · ".join(links)}</p>' if len(links) > 6 else _ul(links)))
    return '<div class="links">' + "".join(out) + "</div>"


def _ppi_section(facts: DashboardFacts, lang: str) -> str:
    """The center's prediction-powered mean score beside the human-only one (auto-QA corrected by the random arm)."""
    from .tables import ppi_lines, ppi_official

    if facts.ppi is None or facts.ppi.empty:
        return ""
    line = ppi_lines(facts.ppi, "", TEXTS[lang]["center_score"], lang)
    return f"<h2>{escape(TEXTS[lang]['ppi'])}</h2>{line}{ppi_official(lang)}" if line else ""


def dashboard_html(facts: DashboardFacts, folder: str | os.PathLike, lang: str, *, switch: str = "", failed=()) -> str:
    """The dashboard page in ``lang``; ``switch`` the file name of the other language's page; ``failed`` (title, why) pairs."""
    from ..html import escape_code

    fmt.check_lang(lang)
    folder = Path(folder)
    T = TEXTS[lang]
    pages = _pages(folder, facts, lang)
    attention, counts = _attention(facts, pages, folder, lang)
    title = T["title"].format(center=f"{facts.center} " if facts.center else "", month=facts.month)
    bad = "".join(f"<li>{escape(t)}: {escape(w)}</li>" for t, w in failed)
    return ("<!DOCTYPE html>" f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title>{_STYLE}</head><body><main>"
            + (f'<div class="switch">{_link(switch, T["switch"])}</div>' if switch else "")
            + f"<h1>{escape(title)}</h1><p class=\"lead\">{escape(_state(facts, counts, lang))}</p>"
            + f"<h2>{escape(T['attention'])}</h2>{attention}"
            + f"<h2>{escape(T['kpis'])}</h2>{_kpi_table(facts, lang)}"
            + _ppi_section(facts, lang)
            + (f"<h2>{escape(T['not_written'])}</h2><ul>{bad}</ul>" if bad else "")
            + f"<h2>{escape(T['reports'])}</h2>{_links(pages, folder, lang)}"
            + f'<p class="muted">{escape_code(T["footer"])}</p></main></body></html>')


def write_dashboard(store, month, folder: str | os.PathLike, *, failed=(), lang: str | None = None) -> list[Path]:
    """Write the month's dashboard: ``index.html`` in ``lang`` (default the center's language) and
    ``index_<other>.html`` in the other language, each linking the other; returns the paths."""
    from ..config import settings

    folder = Path(folder)
    first = fmt.check_lang(lang or settings().lang)
    facts = dashboard_facts(store, month, folder)
    names = {x: "index.html" if x == first else f"index_{x}.html" for x in fmt.LANGS}
    written = []
    for x in fmt.LANGS:
        other = next(y for y in fmt.LANGS if y != x)
        path = folder / names[x]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(dashboard_html(facts, folder, x, switch=names[other], failed=failed), encoding="utf-8")
        os.replace(tmp, path)
        written.append(path)
    return written
