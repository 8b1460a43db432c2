"""The data model: every entity the suite stores, as plain data.

This module is the single source of truth for the schema. The store builds its tables
from it (:mod:`qa_lib.store`), the importer validates files against it
(:mod:`qa_lib.ingest`), and ``docs/data-model.md`` is generated from it
(:func:`markdown`), so the three cannot drift apart.

Times are the center's local wall-clock time, stored without a time zone
(:data:`CENTER_TZ`); durations are whole or fractional seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Field", "Entity", "ENTITIES", "IMPORT_KINDS", "entity", "markdown", "CENTER_TZ"]

#: Time zone of the center: timestamps that arrive with an offset are converted to it.
CENTER_TZ = "Asia/Shanghai"

Kind = Literal["id", "str", "text", "int", "float", "bool", "date", "datetime"]


@dataclass(frozen=True)
class Field:
    """One column of an entity.

    ``choices`` maps each allowed value to the aliases accepted on import (Chinese labels,
    other spellings); values are stored in their canonical English form.
    """

    name: str
    kind: Kind
    doc: str
    required: bool = True
    unit: str = ""
    choices: dict[str, tuple[str, ...]] | None = None
    min: float | None = None
    max: float | None = None
    references: str | None = None  # "table.column"
    default: object = None  # value used when an optional column is absent or empty
    #: The default holds even for a center's mapped file (qa_lib.mapping), where an absent value otherwise stays
    #: missing: a bookkeeping value (a new evaluation is version 1, submitted; an agent is active), not a measurement.
    always_default: bool = False

    @property
    def sql_length(self) -> int:
        return 64 if self.kind == "id" else 200


@dataclass(frozen=True)
class Entity:
    name: str
    doc: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    import_kind: str | None = None  # name used by ``qa import KIND``; None = not importable
    extra_doc: str = ""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


def _c(*pairs: str | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Build a choices mapping: ``_c(("hotline", "热线", "phone"), "email")``."""
    out: dict[str, tuple[str, ...]] = {}
    for p in pairs:
        if isinstance(p, str):
            out[p] = ()
        else:
            out[p[0]] = tuple(p[1:])
    return out


CHANNELS = _c(("hotline", "热线", "电话", "phone"), ("online", "在线", "wechat", "微信", "forum", "论坛", "weibo", "微博"), ("email", "邮件", "电子邮件", "e-mail", "mail"))
DIRECTIONS = _c(("inbound", "呼入", "in"), ("outbound", "呼出", "out"))
CONTACT_TYPES = _c(
    ("service", "服务", "业务办理", "办理"),
    ("consultation", "咨询"),
    ("after_sales", "售后", "after-sales"),
    ("non_regular", "非常规", "非常规来电", "无效来电", "无效", "non-regular"),
    ("relationship", "客户关系", "关系维护", "客户关怀"),
    ("service_quality", "服务质量", "回访", "follow_up", "follow-up"),
)
TIERS = _c(("diamond", "钻石卡", "钻石"), ("gold", "金卡"), ("silver", "银卡"), ("none", "无", "普通"))
STAGES = _c(("new", "新客户", "新"), ("stable", "稳定", "稳定期"), ("warning", "预警", "预警期"), ("churn", "流失", "流失期"))
AGENT_STATUS = _c(("active", "在岗", "在职"), ("leave", "休假", "on_leave"), ("left", "离职"))
ARMS = _c(("random", "随机", "随机抽检", "随机抽样"), ("targeted", "定向", "重点", "定向抽检", "专项抽检", "重点抽检"), ("calibration", "校准", "校准抽检"))
EVAL_STATUS = _c(("draft", "草稿"), ("submitted", "已提交"), ("released", "已发布"), ("acknowledged", "已确认"), ("disputed", "申诉中"), ("resolved", "已处理"))
SCORING_STYLES = _c(("weighted", "加权"), ("deduction", "扣分"))
LANGS = _c(("zh", "中文", "chinese"), ("en", "英文", "english"))
COACHING_STATUS = _c(("open", "进行中"), ("done", "完成", "closed"), ("cancelled", "取消"))

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "agents",
        "Customer-service agents (客服专员), one row per agent.",
        (
            Field("agent_id", "id", "Stable agent id (e.g. the employee number)."),
            Field("name", "str", "Display name."),
            Field("team", "str", "Team the agent belongs to."),
            Field("supervisor", "str", "Team leader / supervisor name.", required=False),
            Field("hire_date", "date", "First working day; tenure and new-hire rules count from it. Empty when the center's "
                  "records do not say: the agent is then never counted as a new hire.", required=False),
            Field("status", "str", "Current employment status.", choices=AGENT_STATUS, required=False, default="active", always_default=True),
            Field("language", "str", "Languages the agent serves, comma-separated.", required=False, default="zh"),
        ),
        ("agent_id",),
        import_kind="agents",
    ),
    Entity(
        "inspectors",
        "QA inspectors (质检专员) who score contacts; one of them is usually the calibration expert.",
        (
            Field("inspector_id", "id", "Stable inspector id."),
            Field("name", "str", "Display name."),
            Field("home_team", "str", "Agent team the inspector came from, if any (rules may forbid scoring it).", required=False),
            Field("is_expert", "bool", "True for the calibration expert whose scores are the reference.", required=False, default=False,
                  always_default=True),
            Field("active", "bool", "False once the inspector no longer scores.", required=False, default=True, always_default=True),
        ),
        ("inspector_id",),
        import_kind="inspectors",
    ),
    Entity(
        "contacts",
        "Every customer contact: calls on the hotline (inbound and outbound), online chats and e-mails.",
        (
            Field("contact_id", "id", "Stable contact id from the telephony / ticket system."),
            Field("start_time", "datetime", "When the contact started (entered the queue, or the chat / e-mail arrived); local time."),
            Field("channel", "str", "Channel of the contact.", choices=CHANNELS),
            Field("direction", "str", "Who initiated it.", choices=DIRECTIONS),
            Field("contact_type", "str", "Contact type from the service manual (seed 000, 5.1-5.3). Non-regular calls (misdial, one-ring hang-up, silence, harassment) are logged but never evaluated.", choices=CONTACT_TYPES),
            Field("topic", "str", "Finer subject, e.g. refund, password_reset, 退换货.", required=False),
            Field("queue", "str", "Routing queue / skill group.", required=False),
            Field("agent_id", "id", "Agent who handled the contact; empty when abandoned before reaching an agent.", required=False, references="agents.agent_id"),
            Field("customer_id", "id", "Customer id; empty when unknown (e.g. a misdial).", required=False),
            Field("customer_tier", "str", "Customer tier (seed 001).", choices=TIERS, required=False, default="none"),
            Field("lifecycle_stage", "str", "Customer lifecycle stage (seed 001).", choices=STAGES, required=False),
            Field("brand", "str", "Product / vehicle brand the contact is about (per-brand reports, seed 000).", required=False),
            Field("wait_seconds", "float", "Hotline / online: time in queue before an agent answered or the customer gave up. E-mail: time to first reply.", unit="s", min=0, required=False),
            Field("answered", "bool", "An agent took the contact."),
            Field("abandoned", "bool", "The customer gave up before an agent answered. With an agent_id: abandoned while ringing at that agent (personal abandon rate); without: abandoned in the queue."),
            Field("talk_seconds", "float", "Talk (or chat) time.", unit="s", min=0, max=6 * 3600, required=False),
            Field("hold_seconds", "float", "Time the customer was on hold.", unit="s", min=0, max=6 * 3600, required=False),
            Field("acw_seconds", "float", "After-call work (wrap-up) time.", unit="s", min=0, max=6 * 3600, required=False),
            Field("transferred", "bool", "Handed to a third party or another department.", required=False, default=False),
            Field("escalated", "bool", "Escalated with an agreed call-back time.", required=False, default=False),
            Field("fcr", "bool", "Resolved at first contact, where known (from line checks or the CRM); empty when unknown.", required=False),
            Field("recording_ref", "str", "Where the recording is (path or URL in the recording system).", required=False),
            Field("transcript", "text", "Transcript text where available, one turn per line: '[mm:ss] 坐席：…' / '[mm:ss] 客户：…' (or 'Agent: ' / 'Customer: '), mm:ss the turn's offset from the call start (minutes may pass 59); the '[mm:ss] ' prefix is optional. May contain customer PII: every output masks it.", required=False),
            Field("transcript_lang", "str", "Language of the transcript.", choices=LANGS, required=False),
            Field("customer_opted_out", "bool", "The customer asked not to be called back (excluded from follow-up and sampling of outbound calls).", required=False, default=False),
        ),
        ("contact_id",),
        import_kind="contacts",
    ),
    Entity(
        "scorecards",
        "Scorecard versions. The definition (items, weights, rules) is the YAML text, see docs/scorecards.md; a version is never changed once used.",
        (
            Field("scorecard_id", "id", "Stable scorecard id, e.g. my_inbound_card."),
            Field("version", "int", "Version number, 1, 2, ...", min=1),
            Field("name", "str", "Display name."),
            Field("style", "str", "Scoring style: weighted percentage, or deduction from 100.", choices=SCORING_STYLES),
            Field("definition", "text", "The scorecard YAML as loaded."),
            Field("created_at", "datetime", "When this version was stored."),
        ),
        ("scorecard_id", "version"),
    ),
    Entity(
        "calibration_sessions",
        "Calibration meetings (质监校准会议): several inspectors score the same contacts.",
        (
            Field("session_id", "id", "Stable session id."),
            Field("held_on", "date", "Date of the meeting."),
            Field("scorecard_id", "id", "Scorecard used in the session."),
            Field("expert_inspector_id", "id", "The expert whose scores are the reference; empty = compare with the consensus.", required=False, references="inspectors.inspector_id"),
            Field("note", "text", "Free text.", required=False),
        ),
        ("session_id",),
        import_kind="calibration_sessions",
    ),
    Entity(
        "evaluations",
        "One inspector's scoring of one contact (header). Item answers are in evaluation_items.",
        (
            Field("evaluation_id", "id", "Stable evaluation id."),
            Field("contact_id", "id", "The contact scored.", references="contacts.contact_id"),
            Field("agent_id", "id", "The agent scored (the contact's agent).", references="agents.agent_id"),
            Field("inspector_id", "id", "Who scored it.", references="inspectors.inspector_id"),
            Field("scorecard_id", "id", "Scorecard used."),
            Field("scorecard_version", "int", "Scorecard version used (scores keep the version they were made with).", min=1),
            Field("evaluated_at", "datetime", "When the evaluation was made."),
            Field("arm", "str", "Why the contact was scored: random sample (feeds headline numbers), targeted review (coaching only), or a calibration session.", choices=ARMS),
            Field("calibration_session_id", "id", "Calibration session, for arm = calibration.", required=False, references="calibration_sessions.session_id"),
            Field("status", "str", "Lifecycle state.", choices=EVAL_STATUS, required=False, default="submitted", always_default=True),
            Field("total_score", "float", "Total score 0-100 as computed by the scoring engine; empty until scored.", unit="points", min=0, max=200, required=False),
            Field("comment", "text", "Inspector's overall comment.", required=False),
            Field("version", "int", "Current version: 1 when created or imported, plus one for every change (see evaluation_versions). Writers pass the version they read; a stale one is refused (no lost update).", min=1, required=False, default=1,
                  always_default=True),
        ),
        ("evaluation_id",),
        extra_doc="This row and its evaluation_items always hold the latest version; the full history is in `evaluation_versions`, which is append-only.",
    ),
    Entity(
        "evaluation_items",
        "The answer to each scorecard item in an evaluation.",
        (
            Field("evaluation_id", "id", "The evaluation.", references="evaluations.evaluation_id"),
            Field("item_id", "id", "Scorecard item id."),
            Field("answer", "str", "The answer: yes / partial / no / na, a number on the item's scale, or a fault count for deduction items."),
            Field("item_comment", "text", "Inspector's comment on this item.", required=False),
        ),
        ("evaluation_id", "item_id"),
        extra_doc="Imported together with `evaluations` (`qa import evaluations FILE`): one row per item, the evaluation's header columns repeated on each row and identical within an evaluation.",
    ),
    Entity(
        "evaluation_versions",
        "Append-only history of every evaluation: one row per version, with who, when, why and the full answers.",
        (
            Field("evaluation_id", "id", "The evaluation.", references="evaluations.evaluation_id"),
            Field("version", "int", "Version number, from 1.", min=1),
            Field("action", "str", "What made this version.", choices=_c("create", "import", "save", "submit", "release", "acknowledge", "dispute", "resolve", "correct")),
            Field("status", "str", "Status after the action.", choices=EVAL_STATUS),
            Field("total_score", "float", "Total score of this version.", unit="points", required=False),
            Field("answers", "text", "All item answers of this version as JSON: {item_id: [answer, comment]}."),
            Field("comment", "text", "Overall comment of this version.", required=False),
            Field("actor", "str", "Who acted: inspector, agent or supervisor id."),
            Field("at", "datetime", "When."),
            Field("reason", "text", "Why (required for disputes and resolutions).", required=False),
        ),
        ("evaluation_id", "version"),
    ),
    Entity(
        "evaluation_disputes",
        "Items an agent disputed, with the agent's reason and how each was resolved.",
        (
            Field("evaluation_id", "id", "The evaluation.", references="evaluations.evaluation_id"),
            Field("item_id", "id", "The disputed item."),
            Field("raised_version", "int", "Version created by the dispute.", min=1),
            Field("reason", "text", "The agent's reason."),
            Field("raised_by", "id", "The agent.", references="agents.agent_id"),
            Field("raised_at", "datetime", "When it was raised."),
            Field("outcome", "str", "upheld (score stands) or rescored; empty while open.", choices=_c("upheld", "rescored"), required=False),
            Field("resolved_by", "str", "Who resolved it.", required=False),
            Field("resolved_at", "datetime", "When it was resolved.", required=False),
            Field("note", "text", "Resolution note.", required=False),
        ),
        ("evaluation_id", "item_id", "raised_version"),
    ),
    Entity(
        "sampling_plans",
        "Saved sampling plans: the period, the seed and every parameter, so the same inputs give the same plan.",
        (
            Field("plan_id", "id", "Plan id: period plus a hash of the parameters and the drawn contacts."),
            Field("period", "str", "The month (2026-10) or ISO week (2026-W41) sampled."),
            Field("created_at", "datetime", "When the plan was saved."),
            Field("created_by", "str", "Who drew it.", required=False),
            Field("seed", "int", "Random seed."),
            Field("params", "text", "All parameters as JSON (PlanSpec)."),
            Field("eligible", "int", "Contacts eligible after the exclusions.", min=0),
            Field("excluded", "text", "Contacts removed per exclusion rule, as JSON."),
            Field("n_random", "int", "Contacts in the random arm.", min=0),
            Field("n_targeted", "int", "Contacts in the targeted arm.", min=0),
        ),
        ("plan_id",),
    ),
    Entity(
        "plan_contacts",
        "The contacts of a plan, each with its arm, inclusion probability and inspector(s).",
        (
            Field("plan_id", "id", "The plan.", references="sampling_plans.plan_id"),
            Field("contact_id", "id", "The sampled contact.", references="contacts.contact_id"),
            Field("agent_id", "id", "The contact's agent.", references="agents.agent_id"),
            Field("arm", "str", "random: probability sample, feeds headline numbers; targeted: chosen by a risk rule, coaching only.", choices=_c("random", "targeted")),
            Field("stratum", "str", "Stratum inside the agent (random arm).", required=False),
            Field("inclusion_prob", "float", "Probability the contact was drawn (random arm: n/N of its cell; targeted: among the agent's flagged contacts, not a design weight).", min=0, max=1),
            Field("reason", "str", "Targeted rule that selected it.", required=False),
            Field("inspector_id", "id", "Assigned inspector.", required=False, references="inspectors.inspector_id"),
            Field("second_inspector_id", "id", "Second inspector, for double scoring (ongoing calibration).", required=False, references="inspectors.inspector_id"),
        ),
        ("plan_id", "contact_id"),
    ),
    Entity(
        "plan_cells",
        "The design of a plan's random arm: eligible contacts N and sampled n per agent and stratum (for Horvitz-Thompson estimates).",
        (
            Field("plan_id", "id", "The plan.", references="sampling_plans.plan_id"),
            Field("agent_id", "id", "The agent.", references="agents.agent_id"),
            Field("stratum", "str", "The stratum."),
            Field("team", "str", "The agent's team.", required=False),
            Field("population", "int", "Eligible contacts N in the cell.", min=0),
            Field("sampled", "int", "Contacts n drawn from the cell.", min=0),
        ),
        ("plan_id", "agent_id", "stratum"),
    ),
    Entity(
        "voc_feedback",
        "Voice of the customer: survey answers, complaints and comments from every channel.",
        (
            Field("feedback_id", "id", "Stable feedback id."),
            Field("received_at", "datetime", "When it was received."),
            Field("channel", "str", "Where it came from.", choices=CHANNELS),
            Field("customer_tier", "str", "Customer tier.", choices=TIERS, required=False, default="none"),
            Field("brand", "str", "Product / vehicle brand.", required=False),
            Field("contact_id", "id", "The contact it is about, if linked.", required=False, references="contacts.contact_id"),
            Field("text", "text", "The verbatim as written or transcribed. Untrusted: escaped and PII-masked in every output."),
            Field("lang", "str", "Language of the text.", choices=LANGS, required=False),
            Field("csat", "int", "Satisfaction score.", unit="1-5", min=1, max=5, required=False),
            Field("nps", "int", "Likelihood to recommend.", unit="0-10", min=0, max=10, required=False),
            Field("category", "str", "Topic label where someone labelled it.", required=False),
        ),
        ("feedback_id",),
        import_kind="voc",
    ),
    Entity(
        "info_checks",
        "Information-registration checks (信息准确率): one row per checked record logged by an agent.",
        (
            Field("check_id", "id", "Stable check id."),
            Field("contact_id", "id", "The contact whose record was checked.", references="contacts.contact_id"),
            Field("agent_id", "id", "Agent who logged the record.", references="agents.agent_id"),
            Field("inspector_id", "id", "Who checked it.", required=False, references="inspectors.inspector_id"),
            Field("checked_on", "date", "Date of the check."),
            Field("has_error", "bool", "The record had at least one error."),
            Field("error_fields", "str", "Which fields were wrong, comma-separated.", required=False),
        ),
        ("check_id",),
        import_kind="info_checks",
    ),
    Entity(
        "coaching_actions",
        "Coaching actions agreed with an agent, re-checked after N days (督办闭环, seed 001).",
        (
            Field("action_id", "id", "Stable action id."),
            Field("agent_id", "id", "The agent coached.", references="agents.agent_id"),
            Field("coach", "str", "Who coached (supervisor or inspector)."),
            Field("created_on", "date", "When the action was agreed."),
            Field("items", "str", "Scorecard item ids the action is about, comma-separated."),
            Field("agreed_action", "text", "What was agreed."),
            Field("due_on", "date", "When it should be done.", required=False),
            Field("recheck_after_days", "int", "Re-check after this many days.", unit="days", min=0, max=365, required=False, default=3),
            Field("status", "str", "State of the action.", choices=COACHING_STATUS, required=False, default="open"),
            Field("closed_on", "date", "When it was closed.", required=False),
        ),
        ("action_id",),
        import_kind="coaching",
    ),
    Entity(
        "auto_answers",
        "Automatic answers (auto-QA): what the scorecard's rules and the learned scorer answered on a contact's transcript, "
        "with the evidence. Suggestions and targeted-arm picks until the item is accepted; they never score an agent.",
        (
            Field("contact_id", "id", "The contact.", references="contacts.contact_id"),
            Field("scorecard_id", "id", "The scorecard."),
            Field("item_id", "id", "The scorecard item."),
            Field("source", "str", "Who answered: the item's rules or the learned scorer.", choices=_c("rule", "model")),
            Field("answer", "str", "yes / partial / no / na; empty when the source abstained.", required=False),
            Field("probability", "float", "The source's confidence in the answer (1 for a rule hit).", min=0, max=1, required=False),
            Field("rule_id", "str", "The rule that decided (rules only).", required=False),
            Field("evidence", "text", "The matched words and the turn. Untrusted: escaped and PII-masked in every output.", required=False),
            Field("turn", "int", "The transcript turn of the evidence (0-based).", required=False),
            Field("version", "str", "Scorecard version (rules) or model version (scorer) that answered."),
            Field("scored_at", "datetime", "When it was answered."),
        ),
        ("contact_id", "scorecard_id", "item_id", "source"),
    ),
    Entity(
        "rule_reviews",
        "An inspector's review of a rule hit (复核): confirmed or rejected. Measures each rule's precision over time.",
        (
            Field("review_id", "id", "Stable review id."),
            Field("contact_id", "id", "The contact.", references="contacts.contact_id"),
            Field("scorecard_id", "id", "The scorecard."),
            Field("item_id", "id", "The scorecard item."),
            Field("rule_id", "str", "The rule whose hit was reviewed."),
            Field("verdict", "str", "The inspector's verdict on the hit.", choices=_c(("confirmed", "确认", "correct"), ("rejected", "驳回", "wrong"))),
            Field("inspector_id", "id", "Who reviewed.", references="inspectors.inspector_id"),
            Field("reviewed_at", "datetime", "When."),
            Field("note", "text", "Why, in the inspector's words.", required=False),
        ),
        ("review_id",),
    ),
    Entity(
        "autoqa_gate",
        "The acceptance gate's decision per scorecard item and automatic source: agreement with the human answers "
        "against the inspectors' own agreement; only an accepted item's automatic answers enter estimates.",
        (
            Field("scorecard_id", "id", "The scorecard."),
            Field("item_id", "id", "The scorecard item."),
            Field("source", "str", "rule or model.", choices=_c("rule", "model")),
            Field("version", "str", "Scorecard version (rules) or model version (scorer) validated."),
            Field("validated_at", "datetime", "When the gate ran."),
            Field("reference", "str", "Whose answers the automatic ones were compared with: single inspectors or the expert.", required=False),
            Field("n", "int", "Held-out human-scored calls compared.", min=0),
            Field("answered", "int", "Of those, calls the automatic source answered (did not abstain).", min=0, required=False),
            Field("abstain_rate", "float", "Share of the calls where it abstained.", min=0, max=1, required=False),
            Field("ac1", "float", "Gwet's AC1 with the human answers.", required=False),
            Field("ac1_lo", "float", "Lower 95 % bound of AC1.", required=False),
            Field("ac1_hi", "float", "Upper 95 % bound of AC1.", required=False),
            Field("kappa", "float", "Cohen's kappa with the human answers.", required=False),
            Field("kappa_lo", "float", "Lower 95 % bound of kappa.", required=False),
            Field("kappa_hi", "float", "Upper 95 % bound of kappa.", required=False),
            Field("inspectors_ac1", "float", "The inspectors' own AC1 (calibration).", required=False),
            Field("inspectors_lo", "float", "Lower 95 % bound of the inspectors' AC1.", required=False),
            Field("inspectors_hi", "float", "Upper 95 % bound of the inspectors' AC1.", required=False),
            Field("diff_lo", "float", "One-sided lower bound of AC1 minus the inspectors' AC1.", required=False),
            Field("n_needed", "int", "Validation calls that would narrow the AC1 interval to the chosen width.", required=False),
            Field("na_auto_only", "int", "Calls the automatic source called N/A where the human answered.", required=False),
            Field("na_human_only", "int", "Calls the human called N/A where the automatic source answered.", required=False),
            Field("confusion", "text", "The confusion counts as JSON: {human answer: {automatic answer or abstain: calls}}.", required=False),
            Field("margin", "float", "Non-inferiority margin in AC1."),
            Field("accepted", "bool", "Accepted: not worse than the inspectors by more than the margin."),
            Field("drifted", "bool", "Fell back: the random arm shows it drifted below the accepted level.", required=False, default=False),
            Field("reason_zh", "text", "Why, in Chinese.", required=False),
            Field("reason_en", "text", "Why, in English.", required=False),
        ),
        ("scorecard_id", "item_id", "source", "version"),
    ),
)

#: ``qa import KIND`` names; ``evaluations`` covers evaluations + evaluation_items.
IMPORT_KINDS: dict[str, str] = {e.import_kind: e.name for e in ENTITIES if e.import_kind}
IMPORT_KINDS["evaluations"] = "evaluations"

_BY_NAME = {e.name: e for e in ENTITIES}


def entity(name: str) -> Entity:
    """Return the entity called ``name`` (a table name)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        from .errors import ParameterError

        raise ParameterError(f"entity must be one of {sorted(_BY_NAME)}; got {name!r}") from None


_TYPE_DOC = {
    "id": "id (text ≤ 64)",
    "str": "text ≤ 200",
    "text": "long text",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "date": "date",
    "datetime": "date-time (local)",
}


def markdown() -> str:
    """The data-model reference as Markdown (written to ``docs/data-model.md``)."""
    out = [
        "# Data model",
        "",
        "Generated from `qa_lib/model.py` by `qa docs` — do not edit by hand; a test checks it is current.",
        "",
        f"Times are the center's local wall-clock time ({CENTER_TZ}), stored without a zone; values that arrive "
        "with a UTC offset are converted. Durations are seconds. Choice values are stored in the English form; "
        "on import the listed aliases (Chinese labels, other spellings) are accepted, case-insensitively. "
        "Booleans accept true/false, yes/no, 1/0, y/n, 是/否.",
        "",
        "Import a file with `qa import KIND FILE` (CSV in UTF-8, UTF-8 with BOM or GBK; Excel; Parquet). Row numbers "
        "in errors count like a spreadsheet: the header is row 1.",
        "",
    ]
    for e in ENTITIES:
        out += [f"## `{e.name}`", "", e.doc, ""]
        key = ", ".join(f"`{k}`" for k in e.key)
        imp = f"`qa import {e.import_kind}`" if e.import_kind else ("`qa import evaluations`" if e.name == "evaluation_items" else "not imported from files")
        out += [f"Key: {key}. Import: {imp}.", ""]
        if e.extra_doc:
            out += [e.extra_doc, ""]
        out += ["| column | type | unit / range | required | meaning |", "|---|---|---|---|---|"]
        for f in e.fields:
            rng = f.unit
            if f.min is not None or f.max is not None:
                lo = "" if f.min is None else f"{f.min:g}"
                hi = "" if f.max is None else f"{f.max:g}"
                rng = f"{rng} [{lo}, {hi}]".strip()
            meaning = f.doc
            if f.choices:
                opts = "; ".join(f"`{k}`" + (f" ({', '.join(v)})" if v else "") for k, v in f.choices.items())
                meaning += f" One of: {opts}."
            if f.references:
                meaning += f" Refers to `{f.references}`."
            if f.default is not None:
                meaning += f" Default `{f.default}`."
            req = "yes" if f.required else "no"
            out.append(f"| `{f.name}` | {_TYPE_DOC[f.kind]} | {rng} | {req} | {meaning} |")
        out.append("")
    return "\n".join(out)

#: A samples folder (``qa samples`` writes one, ``qa init`` and ``qa demo`` load one): import kind and file, in load order.
SAMPLE_FILES = (
    ("agents", "agents.csv"),
    ("inspectors", "inspectors.csv"),
    ("contacts", "contacts.parquet"),
    ("calibration_sessions", "calibration_sessions.csv"),
    ("evaluations", "evaluations.csv"),
    ("voc", "voc.csv"),
    ("info_checks", "info_checks.csv"),
    ("coaching", "coaching.csv"),
)
