"""A second generated center that is not the samples: what a real center brings, for proving the product works for one.

``qa samples --second-center FOLDER`` writes the exports of an imaginary center, 华信客服中心, as its own systems
would produce them — nothing in them is in our format or uses the sample center's names:

* its own scorecard, ``hotline_check`` (呼入通话质检表): **deduction style only**, item ids of its own, two **scale**
  items (服务态度 −2…2, 专业能力 1…5) and a fault-count item;
* Chinese team names (华东一组 …), employee numbers ``GH1001`` …, inspector numbers ``ZJ01`` …;
* a call log with Chinese headers, encoded GB18030, durations written ``00:02:23``, 是/否 flags, 呼入/呼出, and **no hold
  time** (this center does not record it);
* evaluations in a wide sheet (one row per evaluation, one column per item), the way a 质检 spreadsheet looks;
* **no VOC, no coaching, no information checks**.

Each export comes with the mapping file (``mappings/*.yaml``) that imports it with ``qa import KIND FILE --map`` — the
only configuration a center writes — and ``center.yaml`` settings to merge into the folder ``qa new`` made.

The data are the sample generator's calls and answers (same seed, fewer agents), renamed and re-coded, so their
planted effects carry over under the new names (``ANSWERS`` says how each answer was re-coded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .samples import SampleSpec, generate

__all__ = ["SECOND_SPEC", "SCORECARD", "TEAMS", "write_second_center"]

#: The second center's size: small enough for a test, three teams, the generator's minimum of three months.
SECOND_SPEC = SampleSpec(seed=7, agents=18, teams=3, inspectors=5, months=3, end_month="2026-10", voc_per_month=30)

#: Chinese team names, in the order of the generator's teams.
TEAMS = ["华东一组", "华南二组", "西北三组", "华北四组", "西南五组"]

#: The center's scorecard: deduction from 100, its own ids, two scale items and a fault count.
SCORECARD = {
    "id": "hotline_check", "version": 1, "style": "deduction",
    "name": {"zh": "呼入通话质检表", "en": "Inbound call check"},
    "applies_to": {"direction": "inbound"},
    "bands": [95, 85, 75, 60],
    "sections": [
        {"id": "kc", "name": {"zh": "开场与核实", "en": "Opening and verification"}, "items": [
            {"id": "kc_hello", "kind": "yes_no", "deduct": 5, "skills": ["礼仪"], "label": {"zh": "标准开场白", "en": "Standard greeting"}},
            {"id": "kc_verify", "kind": "yes_no", "deduct": 15, "critical": "section", "skills": ["合规"],
             "label": {"zh": "核实客户身份", "en": "Customer identity verified"}},
        ]},
        {"id": "fw", "name": {"zh": "服务过程", "en": "Service"}, "items": [
            {"id": "fw_probe", "kind": "yes_no", "deduct": 10, "skills": ["沟通"], "label": {"zh": "问清客户需求", "en": "Need clarified"}},
            {"id": "fw_attitude", "kind": "scale", "scale": [-2, 2], "deduct": 10, "skills": ["沟通"],
             "label": {"zh": "服务态度（-2 很差 … 2 很好）", "en": "Attitude (-2 very poor … 2 very good)"}},
            {"id": "fw_expertise", "kind": "scale", "scale": [1, 5], "deduct": 20, "skills": ["业务"],
             "label": {"zh": "专业能力（1–5 分）", "en": "Expertise (1–5)"}},
            {"id": "fw_transfer", "kind": "yes_no", "deduct": 5, "na": "exclude", "when": {"contact": ["transferred", "escalated"]},
             "skills": ["业务"], "label": {"zh": "转接/升级规范", "en": "Transfer or escalation done right"}},
        ]},
        {"id": "js", "name": {"zh": "记录与结束", "en": "Records and closing"}, "items": [
            {"id": "js_record", "kind": "yes_no", "deduct": 10, "skills": ["合规"], "label": {"zh": "工单记录完整", "en": "Ticket complete"}},
            {"id": "js_faults", "kind": "deduction", "max_count": 3, "deduct": 5, "skills": ["礼仪"],
             "label": {"zh": "服务禁语次数", "en": "Forbidden phrases used"}},
            {"id": "js_bye", "kind": "yes_no", "deduct": 5, "skills": ["礼仪"], "label": {"zh": "标准结束语", "en": "Standard closing"}},
        ]},
    ],
}

#: The sample generator's inbound card, whose answers the second card's are re-coded from (ANSWERS).
SOURCE_CARD = "inbound_service"

#: How each item of the second card is re-coded from the generator's inbound answers: its source item, and for a scale
#: item the value of yes / partial / no (a scale answer is that value, moved one step up or down 20 % of the time).
ANSWERS = {
    "kc_hello": ("greeting", None), "kc_verify": ("identity_check", None), "fw_probe": ("needs_analysis", None),
    "fw_attitude": ("empathy", {"yes": 2, "partial": 0, "no": -2}), "fw_expertise": ("correct_answer", {"yes": 5, "partial": 3, "no": 1}),
    "fw_transfer": ("escalation_handling", None), "js_record": ("info_logged", None), "js_bye": ("closing", None),
}

#: The center's settings for center.yaml (merged into the file ``qa new`` writes).
CENTER = {
    "name": "华信客服中心", "lang": "zh", "headline_scorecard": {"inbound": "hotline_check"}, "score_target": 85,
    "item_target": 0.9, "answer_within_seconds": 15,
    "kpis": {"answer_rate": 0.85, "abandon_rate": 0.06, "fcr": 0.9, "service_standard": {"target": 0.7, "pass_score": 85}},
    "records": {"hold": False, "after_call_work": True, "fcr": True, "csat": False},
}

#: The mapping files that import the exports (``qa import KIND FILE --map mappings/KIND.yaml``): the center's only
#: configuration besides its scorecard and center.yaml.
MAPPINGS = {
    "agents.yaml": """\
# 坐席名单.csv: 工号, 姓名, 班组, 班组长, 入职日期 (2020/06/14), 在职状态 (在职/休假/离职)
kind: agents
fields:
  agent_id: 工号
  name: 姓名
  team: 班组
  supervisor: 班组长
  hire_date: {column: 入职日期, format: "%Y/%m/%d"}
  status: {column: 在职状态, map: {在职: active, 休假: leave, 离职: left}}
""",
    "inspectors.yaml": """\
# 质检员.csv: 质检员编号, 姓名, 原班组 (the team an inspector came from), 校准专家 (是/否)
kind: inspectors
fields:
  inspector_id: 质检员编号
  name: 姓名
  home_team: 原班组
  is_expert: {column: 校准专家, map: {是: true, 否: false}}
""",
    "contacts.yaml": """\
# 通话记录.csv (GB18030): one row per call. This center records no hold time: hold_seconds is not mapped (stored
# empty, "not recorded" on the pages, never 0).
kind: contacts
fields:
  contact_id: 通话流水号
  start_time: {column: 开始时间, format: "%Y/%m/%d %H:%M:%S"}
  channel: {column: 渠道, map: {电话: hotline, 在线: online, 邮件: email}}
  direction: {column: 呼叫方向, map: {呼入: inbound, 呼出: outbound}}
  contact_type:
    column: 来电类型
    map: {业务办理: service, 咨询: consultation, 售后: after_sales, 无效来电: non_regular, 客户关怀: relationship, 回访: service_quality}
  agent_id: {column: 坐席工号, missing: [""]}
  wait_seconds: {column: 排队时长(秒), unit: seconds}
  answered: {column: 是否接通, map: {是: true, 否: false}}
  abandoned: {column: 是否放弃, map: {是: true, 否: false}}
  talk_seconds: {column: 通话时长, unit: "hh:mm:ss"}
  acw_seconds: {column: 话后处理(秒), unit: seconds}
  transferred: {column: 是否转接, map: {是: true, 否: false}}
  escalated: {column: 是否升级, map: {是: true, 否: false}}
  fcr: {column: 一次解决, map: {是: true, 否: false, "": null}}
  recording_ref: 录音位置
  transcript: 通话文本
""",
    "calibration_sessions.yaml": """\
# 校准场次.csv: 场次编号, 校准日期, 专家, 说明. Every session scores with the center's card.
kind: calibration_sessions
fields:
  session_id: 场次编号
  held_on: 校准日期
  scorecard_id: {value: hotline_check}
  expert_inspector_id: 专家
  note: 说明
""",
    "evaluations.yaml": """\
# 质检明细.csv: one row per evaluation and item. 结果 is 是/否/不适用, a scale value (-2…2, 1…5) or a count of faults.
kind: evaluations
fields:
  evaluation_id: 质检单号
  contact_id: 通话流水号
  agent_id: 坐席工号
  inspector_id: 质检员
  scorecard_id: {value: hotline_check}
  scorecard_version: {value: 1}
  evaluated_at: {column: 质检时间, format: "%Y-%m-%d %H:%M"}
  arm: {column: 抽检方式, map: {随机抽检: random, 专项抽检: targeted, 校准: calibration}}
  calibration_session_id: {column: 校准场次, missing: [""]}
  status: {column: 状态, map: {已提交: submitted, 草稿: draft}}
  comment: 总评
  item_id: 质检项编号
  answer:
    column: 结果
    map: {是: "yes", 否: "no", 不适用: na, "-2": "-2", "-1": "-1", "0": "0", "1": "1", "2": "2", "3": "3", "4": "4", "5": "5"}
""",
}


def _ids(frames: dict) -> dict:
    """New ids for the generator's: employee numbers, inspector numbers, call serials, evaluation numbers."""
    agents, inspectors = frames["agents"]["agent_id"], frames["inspectors"]["inspector_id"]
    return {"agent": dict(zip(agents, [f"GH{1001 + i}" for i in range(len(agents))])),
            "inspector": dict(zip(inspectors, [f"ZJ{1 + i:02d}" for i in range(len(inspectors))])),
            "team": dict(zip(sorted(frames["agents"]["team"].unique()), TEAMS))}


def _agents(frames: dict, ids: dict) -> pd.DataFrame:
    a = frames["agents"]
    status = a["status"].map({"active": "在职", "leave": "休假", "left": "离职"})
    return pd.DataFrame({"工号": a["agent_id"].map(ids["agent"]), "姓名": a["name"], "班组": a["team"].map(ids["team"]),
                         "班组长": a["supervisor"], "入职日期": pd.to_datetime(a["hire_date"]).dt.strftime("%Y/%m/%d"), "在职状态": status})


def _inspectors(frames: dict, ids: dict) -> pd.DataFrame:
    q = frames["inspectors"]
    return pd.DataFrame({"质检员编号": q["inspector_id"].map(ids["inspector"]), "姓名": q["name"],
                         "原班组": q["home_team"].map(ids["team"]), "校准专家": q["is_expert"].map({True: "是", False: "否"})})


def _hms(seconds: pd.Series) -> pd.Series:
    s = seconds.round().astype("Int64")
    text = (s // 3600).astype(str).str.zfill(2) + ":" + (s % 3600 // 60).astype(str).str.zfill(2) + ":" + (s % 60).astype(str).str.zfill(2)
    return text.where(s.notna(), "")


def _contacts(frames: dict, ids: dict) -> pd.DataFrame:
    c = frames["contacts"]
    flag = {True: "是", False: "否"}
    return pd.DataFrame({
        "通话流水号": "LS" + c["contact_id"].str[1:],
        "开始时间": c["start_time"].dt.strftime("%Y/%m/%d %H:%M:%S"),
        "渠道": c["channel"].map({"hotline": "电话", "online": "在线", "email": "邮件"}),
        "呼叫方向": c["direction"].map({"inbound": "呼入", "outbound": "呼出"}),
        "来电类型": c["contact_type"].map({"service": "业务办理", "consultation": "咨询", "after_sales": "售后", "non_regular": "无效来电",
                                          "relationship": "客户关怀", "service_quality": "回访"}),
        "坐席工号": c["agent_id"].map(ids["agent"]).fillna(""),
        "排队时长(秒)": c["wait_seconds"].round(1),
        "是否接通": c["answered"].map(flag), "是否放弃": c["abandoned"].map(flag),
        "通话时长": _hms(c["talk_seconds"].where(c["answered"])),
        "话后处理(秒)": c["acw_seconds"].where(c["answered"]).round(),
        "是否转接": c["transferred"].map(flag), "是否升级": c["escalated"].map(flag),
        "一次解决": c["fcr"].map({True: "是", False: "否"}).fillna(""),
        "录音位置": c["recording_ref"].str.replace("/K", "/LS", regex=False), "通话文本": c["transcript"].fillna(""),
    })


def _answers(frames: dict, rng: np.random.Generator) -> pd.DataFrame:
    """The inbound evaluations' answers re-coded for the second card: one row per evaluation, one column per item."""
    ev = frames["evaluations"]
    ev = ev[ev["scorecard_id"] == SOURCE_CARD]
    wide = ev.pivot_table(index="evaluation_id", columns="item_id", values="answer", aggfunc="first")
    out = pd.DataFrame(index=wide.index)
    for item, (source, scale) in ANSWERS.items():
        a = wide[source]
        if scale is None:
            out[item] = a.map({"yes": "是", "no": "否", "partial": "否", "na": "不适用"})
        else:
            value = a.map(scale).astype(float)
            lo, hi = min(scale.values()), max(scale.values())
            step = np.where(rng.random(len(a)) < 0.2, rng.choice([-1, 1], len(a)), 0)
            out[item] = pd.Series(np.clip(value + step, lo, hi), index=a.index).map(lambda v: "" if np.isnan(v) else f"{v:.0f}")
    courtesy = wide["needs_analysis"].map({"yes": 0, "partial": 1, "no": 2}).fillna(0).astype(int)
    out["js_faults"] = np.minimum(courtesy + (rng.random(len(courtesy)) < 0.05), 3).astype(str)
    return out.fillna("")


def _evaluations(frames: dict, ids: dict, rng: np.random.Generator) -> pd.DataFrame:
    """The evaluations as the center's QA system exports them: one row per evaluation and item (质检明细)."""
    ev = frames["evaluations"]
    head = ev[ev["scorecard_id"] == SOURCE_CARD].drop_duplicates("evaluation_id").set_index("evaluation_id")
    answers = _answers(frames, rng).reindex(head.index)
    labels = {it["id"]: it["label"]["zh"] for s in SCORECARD["sections"] for it in s["items"]}
    arm = {"random": "随机抽检", "targeted": "专项抽检", "calibration": "校准"}
    header = pd.DataFrame({
        "质检单号": "PJ" + head.index.str[1:],
        "通话流水号": "LS" + head["contact_id"].str[1:],
        "坐席工号": head["agent_id"].map(ids["agent"]),
        "质检员": head["inspector_id"].map(ids["inspector"]),
        "质检时间": pd.to_datetime(head["evaluated_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        "抽检方式": head["arm"].map(arm),
        "校准场次": head["calibration_session_id"].fillna("").str.replace("CAL-", "JZ-", regex=False),
        "状态": head["status"].map({"submitted": "已提交", "draft": "草稿"}).fillna("已提交"),
        "总评": head["comment"].fillna(""),
    }).reset_index(drop=True)
    long = answers.reset_index(drop=True).melt(ignore_index=False, var_name="质检项编号", value_name="结果")
    out = header.loc[long.index].assign(质检项编号=long["质检项编号"].to_numpy(), 质检项=long["质检项编号"].map(labels).to_numpy(),
                                        结果=long["结果"].to_numpy())
    out = out[out["结果"] != ""]  # an item not asked (its condition did not hold) is not exported
    order = {item: i for i, item in enumerate(labels)}
    return out.assign(_o=out["质检项编号"].map(order)).rename_axis("_e").sort_values(["_e", "_o"]).drop(columns="_o").reset_index(drop=True)


def _sessions(frames: dict, ids: dict) -> pd.DataFrame:
    s = frames["calibration_sessions"]
    return pd.DataFrame({"场次编号": s["session_id"].str.replace("CAL-", "JZ-", regex=False), "校准日期": s["held_on"],
                         "专家": s["expert_inspector_id"].map(ids["inspector"]), "说明": "月度校准会：8 通呼入电话，全体质检员打分。"})


def write_second_center(out: str | Path, spec: SampleSpec = SECOND_SPEC) -> list[Path]:
    """Write the second center's exports (``exports/``), its scorecard and its center settings into ``out``.

    ``exports/`` holds ``坐席名单.csv``, ``质检员.csv``, ``通话记录.csv`` (GB18030), ``质检明细.csv`` (one row per evaluation
    and item) and ``校准场次.csv``; ``mappings/`` the mapping file of each; ``hotline_check.yaml`` the scorecard;
    ``center_settings.yaml`` what to merge into ``center.yaml``.
    """
    folder = Path(out)
    exports = folder / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    frames = generate(spec)
    ids = _ids(frames)
    rng = np.random.default_rng(spec.seed + 1)
    files = {
        exports / "坐席名单.csv": (_agents(frames, ids), "utf-8-sig"),
        exports / "质检员.csv": (_inspectors(frames, ids), "utf-8-sig"),
        exports / "通话记录.csv": (_contacts(frames, ids), "gb18030"),
        exports / "质检明细.csv": (_evaluations(frames, ids, rng), "utf-8-sig"),
        exports / "校准场次.csv": (_sessions(frames, ids), "utf-8-sig"),
    }
    for path, (df, encoding) in list(files.items()):
        df.to_csv(path, index=False, encoding=encoding, lineterminator="\n")
    maps = folder / "mappings"
    maps.mkdir(exist_ok=True)
    for name, text in MAPPINGS.items():
        (maps / name).write_text(text, encoding="utf-8")
        files[maps / name] = None
    card = folder / "hotline_check.yaml"
    card.write_text("# 华信客服中心的呼入通话质检表 (deduction style)\n" + yaml.safe_dump(SCORECARD, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = folder / "center_settings.yaml"
    settings.write_text(yaml.safe_dump(CENTER, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [*files, card, settings]
