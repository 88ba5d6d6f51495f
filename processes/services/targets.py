"""The one writer of performance targets (绩效目标, DESIGN §3.3): drafting a version, its
review by the department leader and the finance section, change requests, and the
budget gate they open together with pre-assessment.

Every function runs in one transaction. Each state change goes through
processes.transitions.apply (locks in the one order, permission, audit row, the declared
notices, and the flow step workflows registered for it); who may take each transition
and who is told are declared on TargetSet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role

from .. import transitions
from ..errors import ActionNotAllowed, Conflict
from ..models import BudgetProject, Indicator, TargetRow, TargetSet
from ..permissions.targets import can_fill, can_rate, can_review
from ..results_ledger import decided_cap
from ..states import (
    LEVEL2_PARENT,
    QUANTITATIVE,
    TARGET_SET_OPEN,
    Direction,
    IndicatorLevel1,
    IndicatorLevel2,
    IndicatorScope,
    IndicatorStatus,
    ProjectStage,
    TargetRating,
    TargetSetStatus,
)
from .audit import audit_record
from .pre_assessment import pre_assessment_cancel_open
from .projects import project_system_transition
from .records import save_versioned

__all__ = ["can_fill", "can_rate", "can_review"]  # the rights live in processes.permissions.targets

#: Project stages in which the first version may be drafted, and submitted.
DRAFTABLE_STAGES = [
    ProjectStage.DRAFT,
    ProjectStage.SUBMITTED,
    ProjectStage.DEPT_APPROVED,
    ProjectStage.PRE_ASSESSMENT,
    ProjectStage.TARGET_REVIEW,
]
SUBMITTABLE_STAGES = [ProjectStage.PRE_ASSESSMENT, ProjectStage.TARGET_REVIEW]
#: Project stages in which approved targets may be changed (变更).
CHANGEABLE_STAGES = [ProjectStage.BUDGETED, ProjectStage.EXECUTING]

ROW_FIELDS = ("indicator", "level1", "level2", "name", "direction", "target_value", "target_text", "unit", "weight")
#: What the finance section may change in a row when it rates 良 (the agreed edits).
EDITABLE_ON_RATING = ("target_value", "target_text", "unit", "weight")
MAX_VALUE = Decimal("1e14")


def targets_settings() -> dict[str, Any]:
    return settings.JIXIAO["TARGETS"]


# -- reads the services and screens share -------------------------------------------------


def target_set_open_for(project: BudgetProject) -> TargetSet | None:
    """The version being worked on (draft … under the finance section's review), if any."""
    return project.target_sets.filter(status__in=TARGET_SET_OPEN).first()


def target_set_approved_for(project: BudgetProject) -> TargetSet | None:
    """The version in force."""
    return project.target_sets.filter(status=TargetSetStatus.APPROVED).first()


def pickable_indicators(project: BudgetProject):
    """Library indicators the project's department may pick: the active approved general
    ones and its own department-specific ones (never another department's)."""
    return Indicator.objects.filter(status=IndicatorStatus.APPROVED, active=True).filter(
        Q(scope=IndicatorScope.GENERAL) | Q(scope=IndicatorScope.DEPARTMENT, department_id=project.department_id)
    )


# -- validation ---------------------------------------------------------------------------


@dataclass
class CleanRow:
    indicator: Indicator | None
    level1: str
    level2: str
    name: str
    direction: str
    target_value: Decimal | None
    target_text: str
    unit: str
    weight: Decimal

    @property
    def quantitative(self) -> bool:
        return self.direction in QUANTITATIVE

    def as_model(self, target_set: TargetSet, position: int) -> TargetRow:
        return TargetRow(target_set=target_set, position=position, **self.__dict__)


def _decimal(raw: Any) -> Decimal | None:
    """A Decimal from what a form, the API or a spreadsheet gives; None if empty; raises
    ValueError if it is not a finite number."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValueError from None
    if not value.is_finite():
        raise ValueError
    return value


def clean_rows(project: BudgetProject, rows: Iterable[Mapping[str, Any]]) -> list[CleanRow]:
    """Check each row on its own; raise ValidationError keyed ``rows.<i>.<field>`` (i from 0)
    listing every problem at once. A row picked from the library takes its levels, name,
    direction and unit from the library."""
    rows = list(rows)
    errors: dict[str, list[str]] = {}

    def err(i: int, field: str, message: str) -> None:
        errors.setdefault(f"rows.{i}.{field}", []).append(message)

    if len(rows) > targets_settings()["MAX_ROWS"]:
        raise ValidationError({"rows": _("指标不能超过 %(n)s 行。") % {"n": targets_settings()["MAX_ROWS"]}})
    wanted = {r.get("indicator") for r in rows if r.get("indicator") not in (None, "")}
    library: dict[int, Indicator] = {}
    if wanted:
        try:
            ids = {int(getattr(x, "pk", x)) for x in wanted}  # type: ignore[arg-type]
        except (TypeError, ValueError):
            ids = set()
        library = {i.pk: i for i in Indicator.objects.filter(pk__in=ids)}
        pickable = set(pickable_indicators(project).filter(pk__in=ids).values_list("pk", flat=True))
    clean: list[CleanRow] = []
    names: dict[str, int] = {}
    for i, raw in enumerate(rows):
        indicator = None
        ref = raw.get("indicator")
        if ref not in (None, ""):
            try:
                indicator = library.get(int(getattr(ref, "pk", ref)))
            except (TypeError, ValueError):
                indicator = None
            if indicator is None:
                err(i, "indicator", _("指标库中没有这个指标。"))
                continue
            if indicator.pk not in pickable:
                # never name another department's indicator: its content is not this department's to read
                if indicator.scope == IndicatorScope.DEPARTMENT and indicator.department_id != project.department_id:
                    err(i, "indicator", _("不能选用其他部门的个性化指标。"))
                else:
                    err(i, "indicator", _("指标「%(name)s」未启用或未入库，不能选用。") % {"name": indicator.name})
                continue
        if indicator is not None:
            level1, level2, name, direction = indicator.level1, indicator.level2, indicator.name, indicator.direction
            unit = indicator.unit or str(raw.get("unit") or "").strip()
        else:
            level1 = str(raw.get("level1") or "").strip()
            level2 = str(raw.get("level2") or "").strip()
            name = str(raw.get("name") or "").strip()
            direction = str(raw.get("direction") or "").strip()
            unit = str(raw.get("unit") or "").strip()
        if level1 not in IndicatorLevel1.values:
            err(i, "level1", _("请选择一级指标。"))
        if level2 not in IndicatorLevel2.values:
            err(i, "level2", _("请选择二级指标。"))
        elif level1 in IndicatorLevel1.values and LEVEL2_PARENT[level2] != level1:
            err(
                i,
                "level2",
                _("二级指标「%(level2)s」不属于一级指标「%(level1)s」。")
                % {"level2": IndicatorLevel2(level2).label, "level1": IndicatorLevel1(level1).label},
            )
        if not name:
            err(i, "name", _("请填写三级指标名称。"))
        elif len(name) > 200:
            err(i, "name", _("三级指标名称不能超过 200 个字。"))
        elif name in names:
            err(i, "name", _("与第 %(n)s 行指标重复。") % {"n": names[name] + 1})
        else:
            names[name] = i
        if direction not in Direction.values:
            err(i, "direction", _("请选择指标性质（≥、≤、= 或定性）。"))
        value: Decimal | None = None
        text = str(raw.get("target_text") or "").strip()
        try:
            value = _decimal(raw.get("target_value"))
        except ValueError:
            err(i, "target_value", _("指标值必须是数字。"))
        if direction in QUANTITATIVE:
            if value is None and f"rows.{i}.target_value" not in errors:
                err(i, "target_value", _("定量指标必须填写数值型指标值。"))
            elif value is not None and value < 0:
                err(i, "target_value", _("指标值不能为负数。"))
            elif value is not None and (abs(value) >= MAX_VALUE or value != value.quantize(Decimal("0.0001"))):
                err(i, "target_value", _("指标值最多 14 位整数、4 位小数。"))
            if not unit:
                err(i, "unit", _("定量指标必须填写计量单位。"))
            text = ""
        elif direction == Direction.QUALITATIVE:
            if value is not None:
                err(i, "target_value", _("定性指标不填数值，请在「定性指标值」中描述目标。"))
            if not text:
                err(i, "target_text", _("请描述定性指标的目标（如：达成、明显提升）。"))
        try:
            weight = _decimal(raw.get("weight"))
        except ValueError:
            weight = None
            err(i, "weight", _("权重必须是数字。"))
        total = targets_settings()["WEIGHT_TOTAL"]
        if weight is None:
            errors.setdefault(f"rows.{i}.weight", [_("请填写权重。")])
        elif weight <= 0 or weight > total:
            err(i, "weight", _("权重必须大于 0 且不超过 %(total)s。") % {"total": _plain(total)})
        elif weight != weight.quantize(Decimal("0.01")):
            err(i, "weight", _("权重最多保留两位小数。"))
        if not any(k.startswith(f"rows.{i}.") for k in errors):
            assert weight is not None
            clean.append(CleanRow(indicator, level1, level2, name, direction, value, text, unit[:32], weight))
    if errors:
        raise ValidationError(errors)
    return clean


def _plain(value: Decimal) -> str:
    """A number as people write it: 90, 12.5 (no exponent, no trailing zeros)."""
    return f"{value.normalize():f}"


def check_complete(rows: list[CleanRow] | list[TargetRow], *, overall_goal: str, change_reason: str | None) -> None:
    """The rules a version must meet to be submitted or approved (settings TARGETS)."""
    conf = targets_settings()
    problems: list[str] = []
    if not overall_goal.strip():
        raise ValidationError({"overall_goal": _("请填写年度总体目标。")})
    if change_reason is not None and not change_reason.strip():
        raise ValidationError({"change_reason": _("请填写变更理由。")})
    if not rows:
        raise ValidationError({"rows": _("请至少填写一个绩效指标。")})
    total = sum((r.weight for r in rows), Decimal(0))
    if total != conf["WEIGHT_TOTAL"]:
        problems.append(
            _("各指标权重之和应为 %(total)s，现为 %(sum)s。")
            % {"total": _plain(conf["WEIGHT_TOTAL"]), "sum": _plain(total)}
        )
    for kind, label in (("quantitative", _("定量指标")), ("qualitative", _("定性指标"))):
        share = sum((r.weight for r in rows if r.quantitative == (kind == "quantitative")), Decimal(0))
        bounds = conf["WEIGHTS"][kind]
        if not bounds["min"] <= share <= bounds["max"]:
            problems.append(
                _("%(kind)s权重合计应在 %(min)s 至 %(max)s 之间，现为 %(share)s。")
                % {"kind": label, "min": _plain(bounds["min"]), "max": _plain(bounds["max"]), "share": _plain(share)}
            )
    present = {r.level1 for r in rows}
    for level1 in conf["REQUIRED_LEVEL1"]:
        if level1 not in present:
            problems.append(_("至少应设置一个%(level1)s。") % {"level1": IndicatorLevel1(level1).label})
    if problems:
        raise ValidationError({"rows": problems})


# -- internals ----------------------------------------------------------------------------


def _rows_detail(rows: Iterable[TargetRow | CleanRow]) -> list[dict]:
    return [
        {
            "name": r.name,
            "direction": r.direction,
            "value": r.target_value if r.quantitative else r.target_text,
            "unit": r.unit,
            "weight": r.weight,
        }
        for r in rows
    ]


def _replace_rows(target_set: TargetSet, rows: list[CleanRow]) -> None:
    target_set.rows.all().delete()
    TargetRow.objects.bulk_create([row.as_model(target_set, i + 1) for i, row in enumerate(rows)])


# -- drafting -----------------------------------------------------------------------------


@transaction.atomic
def target_draft_open(*, project: BudgetProject, actor: User | None = None) -> TargetSet:
    """The version the department works on: the open one, else a new first version with
    the project's overall goal (only before the project is budgeted). ``actor`` None is
    the system opening it when the project is routed (the project's filer owns it)."""
    BudgetProject.objects.select_for_update().filter(pk=project.pk).exists()
    project.refresh_from_db()
    if actor is not None and not can_fill(project, actor):
        raise PermissionDenied(_("只有本部门经办人可以填报绩效目标。"))
    existing = target_set_open_for(project)
    if existing is not None:
        return existing
    if project.target_sets.exists():
        raise ActionNotAllowed(_("该项目的绩效目标已审核；如需调整请提出变更申请。"))
    if project.stage not in DRAFTABLE_STAGES:
        raise ActionNotAllowed(
            _("项目当前处于「%(stage)s」阶段，不能填报绩效目标。") % {"stage": project.get_stage_display()}
        )
    target_set = TargetSet.objects.create(
        project=project, number=1, overall_goal=project.overall_goal, created_by=actor or project.created_by
    )
    audit_record(
        obj=target_set,
        action="targets_open",
        actor=actor,
        role=Role.DEPT_STAFF if actor else "",
        to_state=target_set.status,
        detail={"project": project.pk, "number": 1},
    )
    return target_set


@transaction.atomic
def target_set_save(
    *,
    target_set: TargetSet,
    actor: User,
    overall_goal: str,
    rows: Iterable[Mapping[str, Any]],
    change_reason: str | None = None,
    revision: int | None = None,
) -> TargetSet:
    """Save the draft: the overall goal and all rows (replacing the previous rows). Each
    row is checked on its own; the weights' totals are checked when submitting.
    ``revision`` (if given) must be the revision the editor started from."""
    target_set = cast(TargetSet, transitions.lock(target_set))
    project = target_set.project
    if not can_fill(project, actor):
        raise PermissionDenied(_("只有本部门经办人可以填报绩效目标。"))
    if not target_set.editable:
        raise ActionNotAllowed(
            _("绩效目标当前为「%(status)s」，不能修改。") % {"status": target_set.get_status_display()}
        )
    if revision is not None and revision != target_set.revision:
        raise Conflict(_("绩效目标已被他人修改（当前修订号 %(r)s），请刷新后重新编辑。") % {"r": target_set.revision})
    clean = clean_rows(project, rows)
    target_set.overall_goal = (overall_goal or "").strip()
    if target_set.is_change and change_reason is not None:
        target_set.change_reason = change_reason.strip()
    _replace_rows(target_set, clean)
    save_versioned(target_set)
    audit_record(
        obj=target_set,
        action="targets_edit",
        actor=actor,
        role=Role.DEPT_STAFF,
        from_state=target_set.status,
        to_state=target_set.status,
        detail={
            "project": project.pk,
            "number": target_set.number,
            "rows": len(clean),
            "revision": target_set.revision,
        },
    )
    return target_set


@transaction.atomic
def target_change_open(*, project: BudgetProject, actor: User, reason: str) -> TargetSet:
    """A change request (变更): a new version, copied from the approved one, to edit and
    submit through the same review. The approved version stays in force until then."""
    BudgetProject.objects.select_for_update().filter(pk=project.pk).exists()
    project.refresh_from_db()
    if not can_fill(project, actor):
        raise PermissionDenied(_("只有本部门经办人可以申请变更绩效目标。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"change_reason": _("请填写变更理由。")})
    if project.stage not in CHANGEABLE_STAGES:
        raise ActionNotAllowed(
            _("项目当前处于「%(stage)s」阶段，不能变更绩效目标。") % {"stage": project.get_stage_display()}
        )
    if target_set_open_for(project) is not None:
        raise Conflict(_("该项目已有正在办理的绩效目标变更。"))
    current = target_set_approved_for(project)
    if current is None:
        raise ActionNotAllowed(_("该项目还没有审核通过的绩效目标。"))
    number = (project.target_sets.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    target_set = TargetSet.objects.create(
        project=project, number=number, overall_goal=current.overall_goal, change_reason=reason, created_by=actor
    )
    TargetRow.objects.bulk_create(
        [
            TargetRow(
                target_set=target_set,
                position=row.position,
                indicator_id=row.indicator_id,
                level1=row.level1,
                level2=row.level2,
                name=row.name,
                direction=row.direction,
                target_value=row.target_value,
                target_text=row.target_text,
                unit=row.unit,
                weight=row.weight,
            )
            for row in current.rows.all()
        ]
    )
    audit_record(
        obj=target_set,
        action="targets_change_open",
        actor=actor,
        role=Role.DEPT_STAFF,
        to_state=target_set.status,
        comment=reason,
        detail={"project": project.pk, "number": number, "from_number": current.number},
    )
    return target_set


# -- review -------------------------------------------------------------------------------


def target_submit(*, target_set: TargetSet, actor: User) -> TargetSet:
    """Department staff submit the version to their leader. It must be complete (weights,
    required levels, overall goal; a change needs its reason)."""
    detail: dict[str, Any] = {}  # filled under the lock (apply reads it after validate)

    def validate(target_set: TargetSet) -> None:
        project = target_set.project
        allowed = CHANGEABLE_STAGES if target_set.is_change else SUBMITTABLE_STAGES
        if project.stage not in allowed:
            raise ActionNotAllowed(
                _("项目当前处于「%(stage)s」阶段，绩效目标还不能提交审核（项目须先经财政受理）。")
                % {"stage": project.get_stage_display()}
            )
        rows = list(target_set.rows.all())
        check_complete(
            rows,
            overall_goal=target_set.overall_goal,
            change_reason=target_set.change_reason if target_set.is_change else None,
        )
        detail["rows"] = _rows_detail(rows)

    def before_save(target_set: TargetSet) -> None:
        target_set.submitted_at = timezone.now()

    return transitions.apply(
        target_set,
        "submit",
        actor=actor,
        validate=validate,
        before_save=before_save,
        detail=detail,
    )


@transaction.atomic
def target_save_and_submit(
    *,
    target_set: TargetSet,
    actor: User,
    overall_goal: str,
    rows: Iterable[Mapping[str, Any]],
    change_reason: str | None = None,
    revision: int | None = None,
) -> TargetSet:
    """Save the draft and submit it, in one transaction: a refused submission leaves the
    draft as it was (the screen's 「保存并提交」)."""
    saved = target_set_save(
        target_set=target_set,
        actor=actor,
        overall_goal=overall_goal,
        rows=rows,
        change_reason=change_reason,
        revision=revision,
    )
    return target_submit(target_set=saved, actor=actor)


def target_dept_review(*, target_set: TargetSet, actor: User, approve: bool, comment: str = "") -> TargetSet:
    """The department leader passes the version to the finance section, or returns it to
    the staff with a reason."""
    comment = (comment or "").strip()
    return transitions.apply(
        target_set,
        "dept_approve" if approve else "dept_return",
        actor=actor,
        comment=comment,
        arguments={"comment": comment},
    )


def target_sets_dept_approve_many(
    *, target_sets: list[TargetSet], actor: User, comment: str = "", progress=None
) -> transitions.BulkOutcome:
    """The department leader passes many of the department's submitted target versions at
    once: the declared ``dept_approve`` of :func:`target_dept_review`, in bulk."""
    comment = (comment or "").strip()
    return transitions.apply_many(
        target_sets, "dept_approve", actor=actor, comment=comment, arguments={"comment": comment}, progress=progress
    )


@transaction.atomic
def target_rate(
    *,
    target_set: TargetSet,
    actor: User,
    rating: str,
    comment: str = "",
    row_comments: Mapping[int, str] | None = None,
    edits: Mapping[int, Mapping[str, Any]] | None = None,
) -> TargetSet:
    """The finance section rates the version (DESIGN §3.3):

    - 优: approved as submitted (no edits);
    - 良: approved with the agreed edits (``edits`` by row position: new target value,
      text, unit or weight; the version must still be complete after them);
    - 中: returned to the department to revise and resubmit;
    - 差: rejected — the first version's project cannot be budgeted (it is rejected, and an
      open pre-assessment ends); a rejected change leaves the version in force.

    ``row_comments`` by row position; ``comment`` overall (required except for 优).
    Approval budgets the project when its pre-assessment (if required) is confirmed; an
    approved change supersedes the version in force.
    """
    comment = (comment or "").strip()
    edits = {int(k): v for k, v in (edits or {}).items() if v}
    approving = rating in (TargetRating.EXCELLENT, TargetRating.GOOD)
    # an unknown rating is refused under the lock, after the right and the state (validate)
    name = {TargetRating.FAIR: "send_back", TargetRating.POOR: "reject"}.get(rating, "approve")  # type: ignore[call-overload]
    arguments: dict[str, Any] = {"comment": comment}
    if approving:
        arguments["rating"] = rating
    rows: dict[int, TargetRow] = {}
    detail: dict[str, Any] = {
        "rating": rating,
        "edits": {},
        "row_comments": {str(k): v for k, v in (row_comments or {}).items() if v},
        "superseded": None,
    }

    def validate(target_set: TargetSet) -> None:
        if rating not in TargetRating.values:
            raise ValidationError({"rating": _("请选择审核等次（优、良、中、差）。")})
        if rating == TargetRating.GOOD and not comment:
            raise ValidationError({"comment": _("评为良、中、差时请填写审核意见。")})
        if edits and rating != TargetRating.GOOD:
            raise ValidationError({"rating": _("只有评为「良」时才能修改指标（按商定意见修改后通过）。")})
        rows.update({row.position: row for row in target_set.rows.all()})
        unknown = sorted((set(edits) | {int(k) for k in (row_comments or {})}) - set(rows))
        if unknown:
            raise ValidationError({"rows": _("没有第 %(n)s 行指标。") % {"n": unknown[0]}})
        detail["edits"].update(_apply_edits(target_set.project, rows, edits))
        for position, text in (row_comments or {}).items():
            rows[int(position)].review_comment = (text or "").strip()
        if approving:
            check_complete(
                list(rows.values()),
                overall_goal=target_set.overall_goal,
                change_reason=target_set.change_reason if target_set.is_change else None,
            )

    def before_save(target_set: TargetSet) -> None:
        TargetRow.objects.bulk_update(list(rows.values()), [*EDITABLE_ON_RATING, "review_comment", "edits"])
        target_set.rated_by = actor
        target_set.rated_at = timezone.now()
        previous = target_set_approved_for(target_set.project) if approving and target_set.is_change else None
        if previous is not None:  # before this version's save: one approved version per project
            # a cascade: recorded under the role the rating is taken in
            role = transitions.acting_role(actor, transitions.declared(TargetSet, name).roles)
            transitions.apply(previous, "supersede", actor=actor, role=role, detail={"by_number": target_set.number})
            detail["superseded"] = previous.number

    target_set = transitions.apply(
        target_set,
        name,
        actor=actor,
        comment=comment,
        arguments=arguments,
        validate=validate,
        before_save=before_save,
        detail=detail,
    )
    _move_project(target_set, actor=actor, rating=rating)
    return target_set


def _apply_edits(
    project: BudgetProject, rows: dict[int, TargetRow], edits: Mapping[int, Mapping[str, Any]]
) -> dict[str, dict]:
    """Apply the 良 edits to the rows (in memory), checking each edited row again."""
    changed: dict[str, dict] = {}
    for position, change in edits.items():
        row = rows[position]
        bad = set(change) - set(EDITABLE_ON_RATING)
        if bad:
            raise ValidationError(
                {f"rows.{position - 1}.{sorted(bad)[0]}": _("审核时只能修改指标值、计量单位和权重。")}
            )
        proposed = {f: getattr(row, f) for f in ROW_FIELDS if f != "indicator"} | {"indicator": None}
        proposed.update({f: v for f, v in change.items()})
        # indicator None: the row's library fields are kept as they are (copied at filing)
        (clean,) = _clean_at(project, proposed, position)
        diff = {}
        for field in EDITABLE_ON_RATING:
            old, new = getattr(row, field), getattr(clean, field)
            if old != new:
                diff[field] = [old, new]
                setattr(row, field, new)
        if diff:
            row.edits = {
                k: [str(v[0]) if v[0] is not None else None, str(v[1]) if v[1] is not None else None]
                for k, v in diff.items()
            }
            changed[str(position)] = row.edits
    return changed


def _clean_at(project: BudgetProject, row: Mapping[str, Any], position: int) -> list[CleanRow]:
    """clean_rows for one row, its errors keyed by the row's own index."""
    try:
        return clean_rows(project, [row])
    except ValidationError as exc:
        raise ValidationError(
            {key.replace("rows.0.", f"rows.{position - 1}.", 1): msgs for key, msgs in exc.message_dict.items()}
        ) from exc


def _move_project(target_set: TargetSet, *, actor: User, rating: str) -> None:
    """The budget gate: approval budgets a project waiting in target review; 差 on the
    first version rejects the project (its open pre-assessment ends with it)."""
    if target_set.is_change:
        return
    project = BudgetProject.objects.get(pk=target_set.project_id)
    detail = {"target_set": target_set.pk, "rating": rating}
    if rating in (TargetRating.EXCELLENT, TargetRating.GOOD):
        if project.stage == ProjectStage.TARGET_REVIEW and project.pre_assessment_settled():
            project_system_transition(
                project=project,
                actor=actor,
                name="approve_targets",
                role=Role.FINANCE_OFFICER,
                detail=detail,
                approved_amount=decided_cap(project, project.requested_amount),
            )
    elif rating == TargetRating.POOR:
        project_system_transition(
            project=project,
            actor=actor,
            name="reject",
            role=Role.FINANCE_OFFICER,
            comment=target_set.review_comment,
            detail=detail,
        )
        pre_assessment_cancel_open(project=project, actor=actor, reason=target_set.review_comment)


def target_cancel_open(*, project: BudgetProject, actor: User | None, reason: str) -> TargetSet | None:
    """The project ended (withdrawn, cancelled, rejected): its open version ends too.
    Runs inside the project's transition, under its actor (the role recorded is the one
    they acted in there)."""
    open_set = target_set_open_for(project)
    if open_set is None:
        return None
    return transitions.apply(open_set, "cancel", actor=actor, comment=reason)
