"""The one writer of the year's self-evaluation campaign, the score sheets and the sampled
re-checks (绩效自评 and 复核, DESIGN §3.5).

A campaign launches the self-evaluation of every project that executed in the year in
one action: the self-evaluations in one bulk INSERT, the projects moved to 评价中 in one
UPDATE with one audit event each (written in one batch), the departments told once each,
and one flow per project (the bulk start workflows registers, workflows.bulk).
Launching twice creates nothing twice; a later launch that adds latecomers tells their
departments, with its own due date.

A score sheet (processes.scoring) is filled by the department, or by the agency when it
re-checks; scores and grade are stored on every save.

Every transition of a self-evaluation or a re-check goes through
processes.transitions.apply (its declaration on the model says who may take it, the role
recorded and who is told); the self-evaluation's flow step is registered by workflows
(workflows.steps.evaluation), so calling these services moves the flow's task too.

Locks, as everywhere: project row → record row → flow rows → audit chain head.
"""

from __future__ import annotations

import os
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Agency, User
from accounts.roles import DEPARTMENT_ROLES, Role
from config.prepared import PreparedModels, PreparedModelsIn
from notifications.services import Message, notify

from .. import messages as msg
from .. import numbers, results, scoring, transitions
from ..bulk_insert import copies_of, insert_instances, insert_unless_exists
from ..errors import ActionNotAllowed, Conflict
from ..execution_selectors import paid_to, project_paid_to
from ..files import check_upload
from ..models import (
    AuditChainHead,
    BudgetProject,
    EvaluationCampaign,
    Recheck,
    RecheckSample,
    ScoreLine,
    ScoreSheet,
    SelfEvaluation,
    TargetRow,
)
from ..notices import agency_staff, department_members
from ..notices.evaluation import (  # noqa: F401  (the message ids, where they always were)
    CAMPAIGN_LAUNCHED,
    FED_BACK,
    RECHECK_FINAL,
    RESCORED,
    SAMPLED,
    SAMPLED_DEPARTMENT,
    SELF_EVALUATION_ACCEPTED,
    SELF_EVALUATION_RETURNED,
    campaign_launched,
    due_text,
)
from ..permissions.evaluation import (  # noqa: F401  (screens and API read the rights here)
    can_accept,
    can_dept_review,
    can_feed_back,
    can_fill,
    can_launch,
    can_rescore,
)
from ..results import Recommendation
from ..states import (
    SECTION_OF_LEVEL1,
    SELF_EVALUATION_OPEN,
    Grade,
    ProjectStage,
    QualitativeProgress,
    RecheckStatus,
    SampleMethod,
    SelfEvaluationStatus,
    TargetSetStatus,
)
from .audit import audit_and_notify, audit_record, audit_record_many
from .execution import executed_difference_error
from .projects import project_system_transition
from .records import save_versioned

#: The kind under which workflows registers the start of the new self-evaluations' flows
#: (processes.transitions.register_bulk_start): called inside campaign_launch as
#: ``start(campaign, evaluations, due_at)``.
CAMPAIGN_FLOWS = "evaluation_campaign"

LAUNCHING = gettext_noop("生成绩效自评")
MOVING = gettext_noop("项目转入评价中并记录审计")
DISPATCHING = gettext_noop("派发填报任务")
MAX_AMOUNT = Decimal(10) ** 14
# What a sheet's numbers may be: the columns' digits (processes.numbers), amounts ≥ 0 and a
# band's percent within 0–100.
EXECUTED_BOUNDS = numbers.decimal_bounds(ScoreSheet, "executed", min_value=0)
ACTUAL_BOUNDS = numbers.decimal_bounds(ScoreLine, "actual_value")
BAND_PCT_BOUNDS = numbers.decimal_bounds(ScoreLine, "band_pct", min_value=0, max_value=100)
MAX_TEXT = 2000


# -- the campaign --------------------------------------------------------------------------


@dataclass
class Launched:
    campaign: EvaluationCampaign
    created: list[SelfEvaluation]
    already: int = 0  # projects of the year already in the campaign


def campaign_check(*, actor: User, fiscal_year: int, due_at: datetime) -> None:
    """What launching would refuse, answered at once (before a background job is queued)."""
    if not can_launch(actor):
        raise PermissionDenied(_("只有财政绩效科可以发起绩效自评。"))
    errors: dict[str, str] = {}
    if due_at <= timezone.now():
        errors["due_at"] = _("自评截止时间必须晚于现在。")
    if not BudgetProject.objects.filter(fiscal_year=fiscal_year, stage=ProjectStage.EXECUTING).exists():
        errors["fiscal_year"] = _("%(year)s 年度没有待评价的执行中项目。") % {"year": fiscal_year}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_launch(
    *,
    actor: User,
    fiscal_year: int,
    due_at: datetime,
    title: str = "",
    progress=None,
) -> Launched:
    """Launch (or extend) the self-evaluation of ``fiscal_year``: one self-evaluation for
    every project of the year still executing that has none, due at ``due_at`` (a later
    launch that adds latecomers gives them its own due date). A project belongs to one
    year, so it is never launched in another year's campaign. Raises PermissionDenied or
    ValidationError (due date in the past)."""
    if not can_launch(actor):
        raise PermissionDenied(_("只有财政绩效科可以发起绩效自评。"))
    if due_at <= timezone.now():
        raise ValidationError({"due_at": _("自评截止时间必须晚于现在。")})
    title = (title or "").strip() or _("%(year)s 年度项目支出绩效自评") % {"year": fiscal_year}
    postgres = connection.vendor == "postgresql"
    campaign = EvaluationCampaign(fiscal_year=fiscal_year, title=title[:100], due_at=due_at, launched_by=actor)
    # PostgreSQL: a first launch inserts its campaign in the statement that issues
    issued = _issue_in_one_statement(campaign, progress, insert_campaign=True) if postgres else None
    created, already = issued is not None, 0  # a campaign created just now has no self-evaluations yet
    if issued is None:
        if postgres:  # the year has its campaign: lock it (one launcher at a time)
            campaign = EvaluationCampaign.objects.select_for_update().get(fiscal_year=fiscal_year)
        else:
            campaign, created = _campaign_locked(campaign)
        already = SelfEvaluation.objects.filter(campaign=campaign).count() if not created else 0
        issued = _issue_in_one_statement(campaign, progress) if postgres else _issue(campaign, progress)
    if issued is None:  # pragma: no cover - an existing campaign's statement always runs
        raise RuntimeError("campaign_launch: the locked campaign's statement did not run")
    projects, evaluations = issued.projects, issued.evaluations
    if issued.moved != len(projects):
        raise Conflict(_("有项目在发起过程中被他人改变了阶段，请重试。"))
    # the projects' stage changes and, last, the campaign's own event: one batch
    sequence = audit_record_many(
        [
            *(
                {
                    "object_type": "processes.budgetproject",
                    "object_id": str(pk),
                    "object_repr": f"{code} {name}",
                    "action": "start_evaluation",
                    "from_state": ProjectStage.EXECUTING,
                    "to_state": ProjectStage.EVALUATING,
                    "detail": {"campaign": campaign.pk},
                }
                for pk, _department, code, name in projects
            ),
            {
                "object_type": campaign._meta.label_lower,
                "object_id": str(campaign.pk),
                "object_repr": str(campaign),
                "action": "campaign_launch" if created else "campaign_extend",
                "to_state": campaign.status,
                "detail": {"created": len(evaluations), "already": already},
            },
        ],
        actor=actor,
        role=transitions.acting_role(actor, [Role.FINANCE_OFFICER]),
        head=issued.head,
    )
    _phase_done(progress, len(evaluations), DISPATCHING)
    start_flows = transitions.bulk_start_of(CAMPAIGN_FLOWS)
    if start_flows is not None and evaluations:
        start_flows(campaign, evaluations, due_at)
    _phase_done(progress, len(evaluations))
    per_department: dict[int, int] = defaultdict(int)
    for _pk, department_id, *_rest in projects:
        per_department[department_id] += 1
    _tell_departments(campaign, per_department, sequence, actor, due_at, members=issued.members)
    return Launched(campaign, evaluations, already)


def _campaign_locked(campaign: EvaluationCampaign) -> tuple[EvaluationCampaign, bool]:
    """The year's campaign row-locked for this launch (one launcher at a time), and whether
    it was created now: ``campaign`` (unsaved) is inserted unless its year has one."""
    if insert_unless_exists(campaign, unique=["fiscal_year"]):
        return campaign, True
    return EvaluationCampaign.objects.select_for_update().get(fiscal_year=campaign.fiscal_year), False


def _column(model: type[models.Model], attname: str) -> str:
    """The quoted column of ``model``'s concrete field ``attname``, for hand-written SQL."""
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    return connection.ops.quote_name(str(field.column))


@dataclass
class Issued:
    """What issuing the self-evaluations did: the projects' (pk, department, code, name) in
    department and code order, the new self-evaluations in the same order, how many
    projects moved to 评价中 (fewer if someone changed a project's stage meanwhile); on
    PostgreSQL also the audit chain head, row-locked by the same statement, and the
    launched departments' members (``_tell_departments`` reads them otherwise)."""

    projects: list[tuple[int, int, str, str]]
    evaluations: list[SelfEvaluation]
    moved: int
    head: AuditChainHead | None = None
    members: list[User] | None = None


def _issue(campaign: EvaluationCampaign, progress) -> Issued:
    """The self-evaluations of the campaign's year's executing projects that have none,
    and those projects moved to 评价中."""
    # Executing projects of the year without a self-evaluation (a project has at most one).
    projects = list(
        BudgetProject.objects.filter(
            fiscal_year=campaign.fiscal_year, stage=ProjectStage.EXECUTING, self_evaluation=None
        )
        .order_by("department_id", "code")
        .values_list("pk", "department_id", "code", "name")
    )
    if progress is not None:
        progress.start(LAUNCHING, len(projects))
    # one INSERT (bulk_create: one per ~60 rows on SQLite, and an instance prepared per row)
    evaluations = insert_instances(SelfEvaluation(campaign=campaign), {"project_id": [pk for pk, *_rest in projects]})
    _phase_done(progress, len(evaluations), MOVING)
    # The stage change of every launched project, in one UPDATE (the FSM field is protected
    # against attribute writes, not against a queryset update) and one batch of audit rows.
    # (The campaign's projects still executing are exactly the ones just launched; a
    # subquery, not a list of thousands of ids.)
    moved = BudgetProject.objects.filter(self_evaluation__campaign=campaign, stage=ProjectStage.EXECUTING).update(
        stage=ProjectStage.EVALUATING, version=F("version") + 1
    )
    return Issued(projects, evaluations, moved)


def _issue_in_one_statement(campaign: EvaluationCampaign, progress, *, insert_campaign: bool = False) -> Issued | None:
    """``_issue`` on PostgreSQL in one statement of data-modifying WITHs: the projects'
    SELECT, the self-evaluations' INSERT, the projects' UPDATE (it re-checks a project
    another transaction changed), then the audit chain head's row lock and the launched
    departments' members. With ``insert_campaign`` the unsaved ``campaign`` is inserted
    first (``ON CONFLICT DO NOTHING``): None, and nothing done, if its year has one.

    The same rows, column for column, as ``_issue`` (the self-evaluation's defaults and
    timestamps as ``bulk_create`` writes them), and the same lock order: the head is
    locked only once the projects' UPDATE has run (its lock waits on ``moved``)."""
    quote = connection.ops.quote_name
    evaluation_meta = SelfEvaluation._meta
    template = SelfEvaluation(campaign=campaign)
    fixed = [f for f in evaluation_meta.concrete_fields if f.attname not in ("id", "campaign_id", "project_id")]
    values = {f.attname: f.pre_save(template, True) for f in fixed}
    params: list[Any] = []
    if insert_campaign:
        fields = [f for f in EvaluationCampaign._meta.concrete_fields if not f.primary_key]
        source = (
            f"INSERT INTO {quote(EvaluationCampaign._meta.db_table)} "
            f"({', '.join(quote(str(f.column)) for f in fields)}) VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({_column(EvaluationCampaign, 'fiscal_year')}) DO NOTHING RETURNING id"
        )
        params += [f.get_db_prep_save(f.pre_save(campaign, True), connection) for f in fields]
    else:
        source, params = "SELECT %s::bigint AS id", [campaign.pk]
    project_table, evaluation_table = quote(BudgetProject._meta.db_table), quote(evaluation_meta.db_table)
    head_table = quote(AuditChainHead._meta.db_table)
    user_table, user_groups = quote(User._meta.db_table), quote(User.groups.through._meta.db_table)
    group_table = quote(Group._meta.db_table)
    project, stage, version = (
        _column(BudgetProject, "id"),
        _column(BudgetProject, "stage"),
        _column(BudgetProject, "version"),
    )
    department = _column(User, "department_id")
    sql = (
        f"WITH campaign AS ({source}), "
        "project AS MATERIALIZED ("
        f"SELECT p.{project} AS id, p.{_column(BudgetProject, 'department_id')} AS department_id, "
        f"p.{_column(BudgetProject, 'code')} AS code, p.{_column(BudgetProject, 'name')} AS name "
        f"FROM {project_table} p WHERE p.{_column(BudgetProject, 'fiscal_year')} = %s AND p.{stage} = %s "
        f"AND NOT EXISTS (SELECT 1 FROM {evaluation_table} s "
        f"WHERE s.{_column(SelfEvaluation, 'project_id')} = p.{project})), "
        f"issued AS (INSERT INTO {evaluation_table} ({', '.join(quote(str(f.column)) for f in fixed)}, "
        f"{_column(SelfEvaluation, 'campaign_id')}, {_column(SelfEvaluation, 'project_id')}) "
        f"SELECT {', '.join(['%s'] * len(fixed))}, campaign.id, project.id FROM project CROSS JOIN campaign "
        "ORDER BY project.department_id, project.code "
        f"RETURNING id, {_column(SelfEvaluation, 'project_id')} AS project_id), "
        f"moved AS (UPDATE {project_table} b SET {stage} = %s, {version} = b.{version} + 1 "
        f"FROM issued WHERE b.{project} = issued.project_id AND b.{stage} = %s RETURNING b.{project}), "
        # the head's lock waits until the projects' UPDATE has run (the condition reads it)
        f"head AS (SELECT h.id, h.last_sequence, h.last_hash FROM {head_table} h WHERE h.id = 1 "
        "AND (SELECT count(*) FROM moved) >= 0 AND EXISTS (SELECT 1 FROM campaign) FOR UPDATE OF h), "
        f"member AS (SELECT DISTINCT u.id, u.{department} AS department_id, u.{_column(User, 'email')} AS email, "
        f"u.{_column(User, 'email_notifications')} AS email_notifications FROM {user_table} u "
        f"JOIN {user_groups} ug ON ug.user_id = u.id JOIN {group_table} g ON g.id = ug.group_id "
        f"WHERE u.{_column(User, 'is_active')} AND g.name = ANY(%s) AND u.{department} IN "
        "(SELECT project.department_id FROM project) AND EXISTS (SELECT 1 FROM campaign)) "
        "SELECT 'campaign', campaign.id, NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::bigint "
        "FROM campaign "
        "UNION ALL SELECT 'head', head.id, head.last_sequence, head.last_hash, NULL, NULL, NULL FROM head "
        "UNION ALL SELECT 'member', member.id, member.department_id, member.email, NULL, "
        "member.email_notifications::int::bigint, NULL FROM member "
        # the projects and their self-evaluations apart: joined here (row estimates of a
        # WITH are blind) PostgreSQL compares every pair
        "UNION ALL SELECT 'project', project.id, project.department_id, project.code, project.name, NULL, "
        "(SELECT count(*) FROM moved) FROM project WHERE EXISTS (SELECT 1 FROM campaign) "
        "UNION ALL SELECT 'issued', issued.project_id, NULL, NULL, NULL, issued.id, NULL FROM issued "
        "ORDER BY 1, 3, 4, 2"
    )
    params += [
        campaign.fiscal_year,
        ProjectStage.EXECUTING,
        *(f.get_db_prep_save(values[f.attname], connection) for f in fixed),
        ProjectStage.EVALUATING,
        ProjectStage.EXECUTING,
        sorted(DEPARTMENT_ROLES),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    of_kind: dict[str, list[tuple]] = defaultdict(list)
    for kind, *row in rows:
        of_kind[kind].append(tuple(row))
    if not of_kind["campaign"]:
        return None  # the year has its campaign: nothing was written
    if insert_campaign:
        campaign.pk = of_kind["campaign"][0][0]
        campaign._state.adding, campaign._state.db = False, connection.alias
    head = None
    for pk, last_sequence, last_hash, *_rest in of_kind["head"]:
        head = AuditChainHead(pk=pk, last_sequence=last_sequence, last_hash=last_hash)
        head._state.adding, head._state.db = False, connection.alias
    # as ``.only(...)`` would load them (in field order): what notify reads of a recipient
    told = ("id", "is_active", "department_id", "email", "email_notifications")
    loaded = [f.attname for f in User._meta.concrete_fields if f.attname in told]
    members = [
        User.from_db(
            connection.alias,
            loaded,
            [
                {
                    "id": pk,
                    "is_active": True,
                    "department_id": dept,
                    "email": email,
                    "email_notifications": bool(wants),
                }[a]
                for a in loaded
            ],
        )
        for pk, dept, email, _none, wants, *_rest in of_kind["member"]
    ]
    issued = {project_id: evaluation_pk for project_id, _d, _c, _n, evaluation_pk, _m in of_kind["issued"]}
    launched = of_kind["project"]  # every one of them issued (the INSERT adds a row for each or fails)
    if progress is not None:
        progress.start(LAUNCHING, len(launched))
    projects = [(pk, department_id, code, name) for pk, department_id, code, name, _e, _m in launched]
    # copies of the template (its timestamps, as pre_save set them above), not an
    # instance built through __init__ per row (insert_instances' copies, as on SQLite)
    template.campaign = campaign  # its key, now that a new campaign has one
    project_ids = [pk for pk, *_rest in launched]
    evaluations = copies_of(template, {"project_id": project_ids}, [issued[pk] for pk in project_ids])
    _phase_done(progress, len(evaluations), MOVING)
    moved = launched[0][5] if launched else 0
    return Issued(projects, evaluations, moved, head=head, members=members)


def _phase_done(progress, n: int, next_phase: str | None = None) -> None:
    """The launch's progress: a phase of ``n`` projects done, and the next one started."""
    if progress is None:
        return
    progress.advance(n)
    if next_phase is not None:
        progress.start(next_phase, n)


def _tell_departments(
    campaign: EvaluationCampaign,
    per_department: dict[int, int],
    sequence: int,
    actor,
    due_at: datetime,
    members: list[User] | None = None,
) -> None:
    """One notice per department member for the whole launch (not one per project);
    ``members``: the active department staff and leaders of ``per_department``, if the
    caller has read them."""
    if not per_department:
        return
    if members is None:
        members = list(
            User.objects.filter(
                department_id__in=per_department, is_active=True, groups__name__in=DEPARTMENT_ROLES
            ).distinct()
        )
    told = {
        user: campaign_launched(campaign.title, per_department[user.department_id or 0], due_at)
        for user in members
        if user != actor
    }
    notify(
        messages=told,
        event_key=f"audit:{sequence}",
        url=campaign.get_absolute_url(),
        object_type="processes.evaluationcampaign",
        object_id=str(campaign.pk),
    )


# -- the score sheet -----------------------------------------------------------------------


def budget_of(project: BudgetProject) -> Decimal | None:
    """The budget a project is evaluated against: the adjusted budget if there is one."""
    return project.adjusted_amount if project.adjusted_amount is not None else project.approved_amount


def approved_rows(project: BudgetProject) -> list[TargetRow]:
    return list(
        TargetRow.objects.filter(target_set__project=project, target_set__status=TargetSetStatus.APPROVED).order_by(
            "position"
        )
    )


@dataclass
class SheetRow:
    """A row of the sheet as shown: the approved target and what was entered (if saved)."""

    row: TargetRow
    line: ScoreLine | None

    @property
    def section(self) -> str:
        return self.line.section if self.line else SECTION_OF_LEVEL1[self.row.level1]


#: a sheet's target rows by id, compiled once per number of rows (every answer on a sheet)
_ROWS_BY_ID = PreparedModelsIn(lambda ids: TargetRow.objects.filter(pk__in=ids).order_by("position"), most=40)


def sheet_rows(project: BudgetProject, sheet: ScoreSheet | None) -> list[SheetRow]:
    """The sheet's indicators: saved lines, else the approved targets prefilled (two queries)."""
    lines = {line.target_row_id: line for line in sheet.lines.all()} if sheet is not None else {}
    if lines:
        return [SheetRow(row, lines[row.pk]) for row in _ROWS_BY_ID(lines)]
    return [SheetRow(row, None) for row in approved_rows(project)]


def _scoring_line(line: ScoreLine) -> scoring.Line:
    return scoring.Line(
        key=line.target_row_id,
        section=line.section,
        direction=line.direction,
        weight=line.weight,
        target=line.target_value,
        actual=line.actual_value,
        band=line.band,
        band_pct=line.band_pct,
    )


def _score(sheet: ScoreSheet, lines: list[ScoreLine], *, strict: bool) -> scoring.SheetScore:
    weights = scoring.Weights.from_settings()
    score = (scoring.score_sheet_strict if strict else scoring.score_sheet)(
        budget=sheet.budget, executed=sheet.executed, lines=[_scoring_line(ln) for ln in lines], weights=weights
    )
    by_key = {ls.key: ls for ls in score.lines}
    for line in lines:
        line.points = by_key[line.target_row_id].points
        line.score = by_key[line.target_row_id].score
    sheet.execution_rate = score.execution_rate
    sheet.execution_score = score.execution
    sheet.output_score, sheet.outcome_score, sheet.satisfaction_score = score.output, score.outcome, score.satisfaction
    sheet.total = score.total if score.grade is not None else None
    sheet.grade = score.grade or ""
    sheet.weights = {k: str(getattr(weights, k)) for k in ("execution", "output", "outcome", "satisfaction")}
    return score


#: a sheet's lines in order, as ``sheet.lines.order_by("position")`` reads them, compiled once
_LINES_OF = PreparedModels(
    lambda sheet_id: ScoreLine.objects.filter(sheet_id=sheet_id).order_by("position"), sheet_id=int
)


def _lines_of(sheet: ScoreSheet) -> list[ScoreLine]:
    """``list(sheet.lines.order_by("position"))``: each line's ``sheet`` is ``sheet`` itself,
    as the related manager sets it."""
    lines = _LINES_OF(sheet_id=sheet.pk)
    for line in lines:
        line.sheet = sheet
    return lines


def _sheet_for(project: BudgetProject, sheet: ScoreSheet | None) -> tuple[ScoreSheet, list[ScoreLine]]:
    """The sheet and its lines, made from the approved targets on first save. The lines
    are left where ``sheet.lines.all()`` finds them (see _keep_lines)."""
    if sheet is not None:
        lines = _lines_of(sheet)
        if lines:
            return sheet, _keep_lines(sheet, lines)
    rows = approved_rows(project)
    if not rows:
        raise ValidationError({"lines": _("项目没有已批复的绩效目标，无法评分。")})
    if sheet is None:
        # The imported payments' year total where there are any (the prefill rule), else the project's.
        paid = project_paid_to(project, 12)
        sheet = ScoreSheet(
            project=project, budget=budget_of(project), executed=project.executed_amount if paid is None else paid
        )
    lines = [
        ScoreLine(
            target_row=row,
            position=row.position,
            section=SECTION_OF_LEVEL1[row.level1],
            name=row.name,
            direction=row.direction,
            target_value=row.target_value,
            target_text=row.target_text,
            unit=row.unit,
            weight=row.weight,
        )
        for row in rows
    ]
    return sheet, _keep_lines(sheet, lines)


def _keep_lines(sheet: ScoreSheet, lines: list[ScoreLine]) -> list[ScoreLine]:
    """Put ``lines`` in the sheet's prefetch cache, as ``prefetch_related("lines")`` would:
    the services change these very objects and store them, so the page or API answer that
    follows the action (sheet_rows) shows them without reading them again."""
    cached = ScoreLine.objects.all()
    cached._result_cache = lines
    cached._prefetch_done = True  # type: ignore[attr-defined]
    sheet._prefetched_objects_cache = {  # type: ignore[attr-defined]
        **getattr(sheet, "_prefetched_objects_cache", {}),
        "lines": cached,
    }
    return lines


def _apply_entries(
    sheet: ScoreSheet,
    lines: list[ScoreLine],
    *,
    executed: Any,
    summary: Any,
    entries: Iterable[Mapping[str, Any]],
    values: Mapping[str, Any],
) -> None:
    """Check every entry (all problems at once, keyed ``executed`` / ``lines.<row id>.<field>``)
    and set them on the unsaved sheet and lines. ValidationError: nothing is set."""
    unknown = set(values)
    if unknown:
        raise ValidationError({f: _("此字段不能填写。") for f in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    new_executed = sheet.executed
    if executed is not None:
        new_executed = numbers.parse_into(
            errors, "executed", executed, EXECUTED_BOUNDS, invalid=_("请填写数字金额（元）。")
        )
    by_row = {line.target_row_id: line for line in lines}
    changes: dict[int, dict[str, Any]] = {}
    if isinstance(entries, str | bytes | Mapping) or not isinstance(entries, Iterable):
        raise ValidationError({"lines": _("指标评分格式不正确。")})
    for item in entries:
        if not isinstance(item, Mapping):
            errors.setdefault("lines", []).append(_("指标评分格式不正确。"))
            continue
        raw_id = item.get("target_row")
        try:
            row_id = int(getattr(raw_id, "pk", raw_id))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors.setdefault("lines", []).append(_("指标行无效。"))
            continue
        line = by_row.get(row_id)
        if line is None:
            errors.setdefault("lines", []).append(_("第 %(id)s 号指标不在本评分表中。") % {"id": row_id})
            continue
        key = f"lines.{row_id}"
        change: dict[str, Any] = {}
        if line.direction == "qualitative":
            band = str(item.get("band") or "")
            if band and band not in QualitativeProgress.values:
                errors.setdefault(f"{key}.band", []).append(_("请选择达成、部分达成或未达成。"))
            change["band"] = band
            change["band_pct"] = numbers.parse_into(
                errors, f"{key}.band_pct", item.get("band_pct"), BAND_PCT_BOUNDS, invalid=_("得分比例必须是数字。")
            )
        else:
            change["actual_value"] = numbers.parse_into(
                errors, f"{key}.actual", item.get("actual"), ACTUAL_BOUNDS, invalid=_("实际完成值必须是数字。")
            )
        for name in ("deviation_reason", "measure"):
            if name in item:
                text = str(item.get(name) or "").strip()
                if len(text) > MAX_TEXT:
                    errors.setdefault(f"{key}.{name}", []).append(_("最多 %(n)s 个字。") % {"n": MAX_TEXT})
                change[name] = text
        changes[row_id] = change
    summary_text = sheet.summary if summary is None else str(summary).strip()
    if len(summary_text) > 4 * MAX_TEXT:
        errors["summary"] = [_("最多 %(n)s 个字。") % {"n": 4 * MAX_TEXT}]
    if errors:
        raise ValidationError(errors)
    sheet.executed = new_executed
    sheet.summary = summary_text
    for row_id, change in changes.items():
        for name, value in change.items():
            setattr(by_row[row_id], name, value)


def _store(sheet: ScoreSheet, lines: list[ScoreLine]) -> None:
    sheet.save()
    for line in lines:
        line.sheet = sheet
    ScoreLine.objects.bulk_create([ln for ln in lines if ln.pk is None])
    ScoreLine.objects.bulk_update(
        [ln for ln in lines if ln.pk is not None],
        ["actual_value", "band", "band_pct", "points", "score", "deviation_reason", "measure"],
    )


def _scored(sheet: ScoreSheet, lines: list[ScoreLine]) -> tuple | None:
    """What scoring sets on a stored sheet and its lines (None if any is new): storing them
    again is needed only when this changes."""
    if sheet.pk is None or any(line.pk is None for line in lines):
        return None
    return (
        tuple(getattr(sheet, name) for name in SCORED_SHEET_FIELDS),
        tuple((line.points, line.score) for line in lines),
    )


#: The sheet's fields that _score sets.
SCORED_SHEET_FIELDS = (
    "execution_rate",
    "execution_score",
    "output_score",
    "outcome_score",
    "satisfaction_score",
    "total",
    "grade",
    "weights",
)


def _require_reasons(lines: list[ScoreLine]) -> None:
    """On submission: every indicator short of full points needs its deviation reason and
    measure (偏差原因和改进措施)."""
    errors: dict[str, list[str]] = {}
    for line in lines:
        if line.score is not None and line.score < line.points:
            for name in ("deviation_reason", "measure"):
                if not getattr(line, name):
                    errors[f"lines.{line.target_row_id}.{name}"] = [_("未满分的指标请说明偏差原因和改进措施。")]
    if errors:
        raise ValidationError(errors)


# -- self-evaluation -----------------------------------------------------------------------


def _refuse_unless(record, *statuses: str) -> None:
    """A write that is no transition (a draft save) is allowed only in ``statuses``."""
    if record.status not in statuses:
        raise ActionNotAllowed(
            _("%(what)s当前为「%(status)s」，不能执行此操作。")
            % {"what": record._meta.verbose_name, "status": record.get_status_display()}
        )


def self_evaluation_save(
    *,
    evaluation: SelfEvaluation,
    actor: User,
    lines: Iterable[Mapping[str, Any]] = (),
    executed: Any = None,
    summary: Any = None,
    revision: int | None = None,
    submit: bool = False,
    **values: Any,
) -> SelfEvaluation:
    """Save the department's sheet (a draft; may be incomplete): the executed amount, the
    overall summary, and per indicator (by target row id) the actual value — or for a
    qualitative one the band and the percentage within it — with the deviation reason and
    measure. Scores and grade are recomputed and stored. Every problem is reported at once;
    nothing is changed then. With ``submit`` the saved sheet is submitted in the same
    transaction (保存并提交): a refused submission saves nothing either."""
    with transaction.atomic():
        evaluation = cast(SelfEvaluation, transitions.lock(evaluation))
        if not can_fill(evaluation, actor):
            raise PermissionDenied(_("只有本部门经办人可以填报绩效自评。"))
        _refuse_unless(evaluation, SelfEvaluationStatus.ISSUED)
        if revision is not None and int(revision) != evaluation.revision:
            raise Conflict(
                _("绩效自评已被他人修改（当前修订号 %(r)s），请刷新后重新填写。") % {"r": evaluation.revision}
            )
        sheet, sheet_lines = _sheet_for(evaluation.project, evaluation.sheet)
        reason = values.pop("executed_reason", None)
        _apply_entries(sheet, sheet_lines, executed=executed, summary=summary, entries=lines, values=values)
        _check_executed(sheet, reason=sheet.executed_reason if reason is None else str(reason).strip())
        _score(sheet, sheet_lines, strict=False)
        _store(sheet, sheet_lines)
        evaluation.sheet = sheet
        evaluation.score, evaluation.grade = sheet.total, sheet.grade
        save_versioned(evaluation)
        audit_record(
            obj=evaluation,
            action="self_evaluation_edit",
            actor=actor,
            role=transitions.acting_role(actor, [Role.DEPT_STAFF]),
            from_state=evaluation.status,
            to_state=evaluation.status,
            detail={"project": evaluation.project_id, "score": sheet.total, "revision": evaluation.revision},
        )
        if submit:
            evaluation = _submit(evaluation, actor, locked=True)
    return evaluation


def _check_executed(sheet: ScoreSheet, *, reason: str) -> None:
    """The prefill rule on a department's sheet: the executed amount is the year's imported
    payments unless the department gives another with a reason (ValidationError on
    ``executed_reason``). Records the imported amount and the reason on the sheet. Reads
    the payments by the sheet's project id: the project row itself is not needed."""
    imported = paid_to([sheet.project_id], 12).get(sheet.project_id)
    sheet.executed_imported = imported
    sheet.executed_reason = "" if imported is None or sheet.executed == imported else reason
    message = executed_difference_error(executed=sheet.executed, imported=imported, reason=sheet.executed_reason)
    if message:
        raise ValidationError({"executed_reason": [message]})


def self_evaluation_submit(*, evaluation: SelfEvaluation, actor: User) -> SelfEvaluation:
    """The department submits the sheet to its leader. It must be complete (every indicator
    scored, the executed amount given) and explain every indicator short of full points."""
    return _submit(evaluation, actor, locked=False)


def _submit(evaluation: SelfEvaluation, actor: User, *, locked: bool) -> SelfEvaluation:
    def complete(evaluation: SelfEvaluation) -> None:
        sheet, lines = _sheet_for(evaluation.project, evaluation.sheet)
        _check_executed(sheet, reason=sheet.executed_reason)  # payments imported since the last save count too
        stored = _scored(sheet, lines)
        _score(sheet, lines, strict=True)
        _require_reasons(lines)
        if stored is None or _scored(sheet, lines) != stored:  # else the last save stored them already
            _store(sheet, lines)
        evaluation.sheet = sheet
        evaluation.score, evaluation.grade = sheet.total, sheet.grade

    def stamp(evaluation: SelfEvaluation) -> None:
        evaluation.submitted_at = timezone.now()

    return transitions.apply(evaluation, "submit", actor=actor, validate=complete, before_save=stamp, locked=locked)


def self_evaluation_dept_review(
    *, evaluation: SelfEvaluation, actor: User, approve: bool, comment: str = ""
) -> SelfEvaluation:
    """The department leader passes the self-evaluation to the finance section or returns
    it (with a reason)."""
    comment = (comment or "").strip()
    return transitions.apply(
        evaluation,
        "dept_approve" if approve else "dept_return",
        actor=actor,
        comment=comment,
        arguments={"comment": comment},
    )


def self_evaluation_review(
    *, evaluation: SelfEvaluation, actor: User, accept: bool, comment: str = ""
) -> SelfEvaluation:
    """The finance section accepts the self-evaluation — its score and grade stand, the
    executed amount is recorded on the project, and the project is 已评价 — or returns it
    to the department with a reason."""
    comment = (comment or "").strip()
    if not accept:
        return transitions.apply(evaluation, "send_back", actor=actor, comment=comment, arguments={"comment": comment})

    with transaction.atomic():
        evaluation = transitions.apply(
            evaluation,
            "accept",
            actor=actor,
            comment=comment,
            arguments={"comment": comment},
            before_save=_acceptance_stamp(actor),
        )
        _record_executed([evaluation])
        project = BudgetProject.objects.get(pk=evaluation.project_id)
        if project.stage == ProjectStage.EVALUATING:
            project_system_transition(
                project=project,
                actor=actor,
                name="complete_evaluation",
                # the project moves under the role the acceptance was recorded with
                role=transitions.acting_role(actor, transitions.declared(SelfEvaluation, "accept").roles),
                detail=_acceptance_detail(evaluation),
            )
    return evaluation


# What an acceptance does besides its transition, the same for one (self_evaluation_review)
# and for many (self_evaluations_accept_many).


def _acceptance_stamp(actor: User):
    """Accepted by ``actor``, now — one instant for every item of a bulk acceptance."""
    now = timezone.now()

    def stamp(evaluation: SelfEvaluation) -> None:
        evaluation.accepted_by, evaluation.accepted_at = actor, now

    return stamp


def _acceptance_detail(evaluation: SelfEvaluation) -> dict[str, Any]:
    """The audit detail of the project's stage change an acceptance causes."""
    return {"self_evaluation": evaluation.pk, "score": evaluation.score, "grade": evaluation.grade}


def _record_executed(evaluations: list[SelfEvaluation]) -> None:
    """The accepted sheets' executed amounts recorded on their projects: one UPDATE."""
    amounts = {
        e.project_id: e.sheet.executed for e in evaluations if e.sheet is not None and e.sheet.executed is not None
    }
    if amounts:
        BudgetProject.objects.filter(pk__in=amounts).update(
            executed_amount=models.Case(
                *[models.When(pk=pk, then=models.Value(amount)) for pk, amount in amounts.items()],
                output_field=BudgetProject._meta.get_field("executed_amount"),
            )
        )


def self_evaluations_accept_many(
    *, evaluations: list[SelfEvaluation], actor: User, comment: str = "", progress=None
) -> transitions.BulkOutcome:
    """确认绩效自评 for many self-evaluations passed by their leaders (批量确认): the same
    declared transition ``accept`` as :func:`self_evaluation_review`, applied in bulk
    (processes.transitions.apply_many), each exactly as the single acceptance does it —
    accepted by and when, the executed amount recorded on the project, the project moved
    to 已评价 under the acceptance's role (its ``complete_evaluation`` cascade, in bulk),
    the self-evaluation flow ended, the department told (once per member per chunk). An
    item refused (its state, the actor's right) is listed with its reason and untouched."""
    comment = (comment or "").strip()
    role = transitions.acting_role(actor, transitions.declared(SelfEvaluation, "accept").roles)

    def cascade(steps: list[transitions.Step]) -> None:
        accepted = [s.obj for s in steps]
        _record_executed(accepted)
        of_project = {e.project_id: e for e in accepted}
        projects = list(
            BudgetProject.objects.filter(pk__in=list(of_project), stage=ProjectStage.EVALUATING)
            .select_related(*BudgetProject.lock_related)
            .order_by("pk")
        )
        if not projects:
            return
        moved = transitions.apply_many(
            projects,
            "complete_evaluation",
            actor=actor,
            role=role,
            detail=lambda project: _acceptance_detail(of_project[project.pk]),
            chunk=len(projects),
        )
        if moved.refused:  # as the single acceptance: the stage cannot follow, nothing is accepted
            project, reason = moved.refused[0]
            raise ActionNotAllowed(_("项目「%(project)s」：%(reason)s") % {"project": project.name, "reason": reason})

    return transitions.apply_many(
        evaluations,
        "accept",
        actor=actor,
        comment=comment,
        arguments={"comment": comment},
        before_save=_acceptance_stamp(actor),
        after=cascade,
        progress=progress,
    )


def self_evaluations_dept_approve_many(
    *, evaluations: list[SelfEvaluation], actor: User, comment: str = "", progress=None
) -> transitions.BulkOutcome:
    """The department leader passes many of the department's self-evaluations at once: the
    declared ``dept_approve`` of :func:`self_evaluation_dept_review`, in bulk."""
    comment = (comment or "").strip()
    return transitions.apply_many(
        evaluations, "dept_approve", actor=actor, comment=comment, arguments={"comment": comment}, progress=progress
    )


def self_evaluations_cancel_open(
    *, project: BudgetProject, actor: User | None, reason: str, role: str | None = None
) -> int:
    """The project ended (cancelled): its open self-evaluation ends too, recorded under the
    actor (and ``role``, else the actor's own) of the project's step."""
    open_ones = list(SelfEvaluation.objects.filter(project=project, status__in=SELF_EVALUATION_OPEN))
    with transaction.atomic():
        for evaluation in open_ones:
            transitions.apply(
                evaluation, "cancel", actor=actor, comment=reason, role=role, detail={"project": project.pk}
            )
    return len(open_ones)


# -- re-check 复核 ---------------------------------------------------------------------------


def recheck_pool(campaign: EvaluationCampaign, *, departments: Iterable[int] = (), grades: Iterable[str] = ()):
    """Accepted self-evaluations of the campaign not yet re-checked, filtered, in id order."""
    qs = SelfEvaluation.objects.filter(
        campaign=campaign, status=SelfEvaluationStatus.ACCEPTED, recheck__isnull=True
    ).order_by("pk")
    departments, grades = list(departments), list(grades)
    if departments:
        qs = qs.filter(project__department_id__in=departments)
    if grades:
        qs = qs.filter(grade__in=grades)
    return qs


def draw_sample(pool_ids: list[int], size: int, seed: int) -> list[int]:
    """The random draw: a function of the pool (in id order), the size and the seed alone,
    so storing them lets anyone replay it."""
    return sorted(random.Random(seed).sample(sorted(pool_ids), size))


@transaction.atomic
def recheck_sample(
    *,
    actor: User,
    campaign: EvaluationCampaign,
    agency: Agency,
    due_at: datetime,
    self_evaluation_ids: Iterable[int] | None = None,
    size: int | None = None,
    seed: int | None = None,
    departments: Iterable[int] = (),
    grades: Iterable[str] = (),
) -> RecheckSample:
    """The finance section samples accepted self-evaluations — chosen by hand
    (``self_evaluation_ids``) or ``size`` of them at random (a recorded ``seed``, with
    department and grade filters) — and commissions ``agency`` to re-check them."""
    if not can_launch(actor):
        raise PermissionDenied(_("只有财政绩效科可以抽取复核项目。"))
    if campaign.history_id is not None:
        raise ActionNotAllowed(_("历史导入的年度只读，不能再抽取复核。"))
    errors: dict[str, str] = {}
    if due_at <= timezone.now():
        errors["due_at"] = _("复核截止时间必须晚于现在。")
    if agency.status != Agency.Status.ACTIVE:
        errors["agency"] = _("该第三方机构已暂停，不能委托。")
    grades = [g for g in grades if g]
    if any(g not in Grade.values for g in grades):
        errors["grades"] = _("等次无效。")
    departments = [int(d) for d in departments]
    EvaluationCampaign.objects.select_for_update().filter(pk=campaign.pk).exists()  # one sampler at a time
    pool_qs = recheck_pool(campaign, departments=departments, grades=grades)
    pool = list(pool_qs.values_list("pk", flat=True))
    if self_evaluation_ids is not None:
        method = SampleMethod.MANUAL
        chosen = sorted({int(pk) for pk in self_evaluation_ids})
        if not chosen:
            errors["self_evaluations"] = _("请至少选择一个项目。")
        elif set(chosen) - set(pool):
            errors["self_evaluations"] = _("所选项目中有 %(n)s 个不能复核（须为本年度已确认且未被复核的自评）。") % {
                "n": len(set(chosen) - set(pool))
            }
        seed = None
    else:
        method = SampleMethod.RANDOM
        if not size or int(size) < 1:
            errors["size"] = _("请填写抽取数量。")
        elif int(size) > len(pool):
            errors["size"] = _("符合条件的自评只有 %(n)s 个，不能抽取 %(size)s 个。") % {"n": len(pool), "size": size}
        seed = secrets.randbits(62) if seed is None else int(seed)
        chosen = [] if errors else draw_sample(pool, int(size or 0), seed)
    if errors:
        raise ValidationError(errors)
    sample = RecheckSample.objects.create(
        campaign=campaign,
        agency=agency,
        method=method,
        seed=seed,
        filters={"departments": departments, "grades": grades, "size": len(chosen)},
        pool=pool if method == SampleMethod.RANDOM else [],
        due_at=due_at,
        created_by=actor,
    )
    picked = list(SelfEvaluation.objects.filter(pk__in=chosen).select_related("project"))
    rechecks = Recheck.objects.bulk_create(
        [
            Recheck(sample=sample, self_evaluation=se, project=se.project, self_score=se.score, self_grade=se.grade)
            for se in picked
        ]
    )
    due = due_text(due_at)
    told: dict[User, Message] = {
        user: msg.plain("task", SAMPLED, year=campaign.fiscal_year, count=len(rechecks), due=due)
        for user in agency_staff(agency.pk)
    }
    for se in picked:
        for member in department_members(se.project.department_id):
            told.setdefault(
                member, msg.plain("recheck", SAMPLED_DEPARTMENT, project=se.project.name, agency=agency.name)
            )
    audit_and_notify(
        obj=sample,
        action="recheck_sample",
        actor=actor,
        role=transitions.acting_role(actor, [Role.FINANCE_OFFICER]),
        from_state="",
        to_state="",
        url=sample.get_absolute_url(),
        detail={"method": method, "seed": seed, "chosen": chosen, "pool_size": len(pool), "agency": agency.pk},
        told=told,
    )
    return sample


def replay_sample(sample: RecheckSample) -> list[int]:
    """Re-run a random sample's draw from what was recorded: the ids it gives must be the sample's."""
    return draw_sample(sample.pool, sample.filters["size"], sample.seed or 0)


def recheck_save(
    *,
    recheck: Recheck,
    actor: User,
    lines: Iterable[Mapping[str, Any]] = (),
    executed: Any = None,
    summary: Any = None,
    revision: int | None = None,
    submit: bool = False,
    opinion: str = "",
    **values: Any,
) -> Recheck:
    """The agency rescores on the same sheet (a draft). Its sheet starts as a copy of the
    department's entries; the agency may correct them after the department's feedback too.
    With ``submit`` the saved sheet is submitted with ``opinion`` in the same transaction
    (保存并提交): a refused submission saves nothing either."""
    with transaction.atomic():
        recheck = cast(Recheck, transitions.lock(recheck))
        if not can_rescore(recheck, actor):
            raise PermissionDenied(_("只有受托第三方机构可以复核评分。"))
        _refuse_unless(recheck, RecheckStatus.ASSIGNED, RecheckStatus.FED_BACK)
        if revision is not None and int(revision) != recheck.revision:
            raise Conflict(_("复核已被他人修改（当前修订号 %(r)s），请刷新后重新填写。") % {"r": recheck.revision})
        sheet, sheet_lines = _recheck_sheet(recheck)
        _apply_entries(sheet, sheet_lines, executed=executed, summary=summary, entries=lines, values=values)
        _score(sheet, sheet_lines, strict=False)
        _store(sheet, sheet_lines)
        recheck.sheet = sheet
        save_versioned(recheck)
        audit_record(
            obj=recheck,
            action="recheck_edit",
            actor=actor,
            role=transitions.acting_role(actor, [Role.AGENCY_STAFF]),
            from_state=recheck.status,
            to_state=recheck.status,
            detail={"project": recheck.project_id, "score": sheet.total, "revision": recheck.revision},
        )
        if submit:
            recheck = _rescore(recheck, actor, opinion, locked=True)
    return recheck


def _recheck_sheet(recheck: Recheck) -> tuple[ScoreSheet, list[ScoreLine]]:
    """The agency's sheet; on first use a copy of the department's (same lines and entries)."""
    if recheck.sheet is not None:
        return recheck.sheet, list(recheck.sheet.lines.order_by("position"))
    source = recheck.self_evaluation.sheet
    if source is None:
        return _sheet_for(recheck.project, None)
    sheet = ScoreSheet(project=recheck.project, budget=source.budget, executed=source.executed, summary="")
    lines = []
    for line in source.lines.order_by("position"):
        line.pk = None
        line.sheet = None  # type: ignore[assignment]
        lines.append(line)
    return sheet, lines


def recheck_submit(*, recheck: Recheck, actor: User, opinion: str) -> Recheck:
    """The agency submits its rescoring with its opinion; the department is asked for
    feedback."""
    return _rescore(recheck, actor, opinion, locked=False)


def _rescore(recheck: Recheck, actor: User, opinion: str, *, locked: bool) -> Recheck:
    opinion = (opinion or "").strip()
    detail: dict[str, Any] = {}  # read by the engine after ``complete`` (the audit row's score)

    def complete(recheck: Recheck) -> None:
        if not opinion:
            raise ValidationError({"opinion": _("请填写复核意见。")})
        sheet, lines = _recheck_sheet(recheck)
        _score(sheet, lines, strict=True)
        _store(sheet, lines)
        recheck.sheet = sheet
        detail["score"] = sheet.total

    def stamp(recheck: Recheck) -> None:
        recheck.rescored_at = timezone.now()

    return transitions.apply(
        recheck,
        "rescore",
        actor=actor,
        comment=opinion,
        arguments={"opinion": opinion},
        validate=complete,
        before_save=stamp,
        detail=detail,
        locked=locked,
    )


def recheck_feedback(*, recheck: Recheck, actor: User, comment: str = "") -> Recheck:
    """The department comments on the rescoring (empty: no objection, 无异议)."""
    comment = (comment or "").strip()[: 4 * MAX_TEXT]
    return transitions.apply(recheck, "feed_back", actor=actor, comment=comment, arguments={"comment": comment})


def recheck_finalize(*, recheck: Recheck, actor: User, report: UploadedFile | None = None) -> Recheck:
    """The agency closes the re-check: its sheet's score (after any correction following the
    feedback) is the final score, kept beside the self-score. ``report`` is the agency's
    复核报告 (PDF, image or Office file, checked like every upload): optional, stored only
    when the re-check is finished (a refused call stores nothing). The public reads it once
    the finance section has approved the year's disclosure (decision 0028)."""
    name = (os.path.basename(report.name or "report")[-100:] or "report") if report is not None else ""
    # filled by ``complete`` under the lock; the engine reads both after it
    arguments: dict[str, Any] = {}
    detail: dict[str, Any] = {}

    def complete(recheck: Recheck) -> None:
        if report is not None:  # after the engine's checks, before any write
            check_upload(report, field="report")
        sheet, lines = _recheck_sheet(recheck)
        score = _score(sheet, lines, strict=True)
        _store(sheet, lines)
        arguments.update(score=score.total, grade=score.grade or "")
        detail.update(final_score=score.total, self_score=recheck.self_score)

    def stamp(recheck: Recheck) -> None:
        recheck.finalized_at = timezone.now()
        if report is not None:  # every check has passed
            recheck.report.save(name, report, save=False)
            detail["report"] = recheck.report.name

    return transitions.apply(
        recheck,
        "finalize",
        actor=actor,
        arguments=arguments,
        validate=complete,
        before_save=stamp,
        detail=detail,
    )


# -- results application 结果应用 (DESIGN §3.7) ----------------------------------------------


def recommendation_for(project: BudgetProject) -> Recommendation | None:
    """The project's grade of record — a finished key evaluation, else a final re-check,
    else an accepted self-evaluation — and the settings' recommendation for it. The rule
    lives in processes.results, which next year's submission reads too."""
    return results.recommendation_for(project)
