"""The one writer of rectifications 整改 (DESIGN §3.6).

The finance section issues a notice for one or more findings of one evaluation (or
monitoring report) to their department, with a deadline (default: settings). The
department acknowledges it, reports per finding — measure, person responsible, completion
date, how far — with evidence files, and submits; the finance section verifies it (closed,
销号) or rejects it back with reasons. The department may ask for a later deadline; a
supervisor grants (the deadline moves, the old one stays on record) or refuses.

Locks: project row (if any) → rectification row → audit chain head.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Role
from notifications.services import Message, board_changed

from .. import messages as msg
from ..errors import ActionNotAllowed, Conflict
from ..files import check_upload
from ..models import (
    BudgetProject,
    DeadlineExtension,
    Evidence,
    Finding,
    Rectification,
    RectificationItem,
)
from ..permissions import holds
from ..states import ExtensionStatus, ItemProgress, ProjectStage, RectificationStatus
from .audit import audit_and_notify, audit_record
from .pre_assessment import finance_officers
from .projects import department_members, project_system_transition
from .records import save_versioned

ISSUED = gettext_noop("整改通知：%(title)s，共 %(count)s 个问题，请于 %(deadline)s 前完成整改并提交整改报告")
SUBMITTED = gettext_noop("整改报告待验收：%(title)s（%(department)s）")
VERIFIED = gettext_noop("整改已验收销号：%(title)s")
REJECTED = gettext_noop("整改报告被退回：%(title)s。理由：%(reason)s")
EXTENSION_REQUESTED = gettext_noop("延期申请待审批：%(title)s，申请延至 %(proposed)s。理由：%(reason)s")
EXTENSION_GRANTED = gettext_noop("延期申请已同意：%(title)s，整改期限延至 %(deadline)s")
EXTENSION_REFUSED = gettext_noop("延期申请未同意：%(title)s，整改期限仍为 %(deadline)s。意见：%(comment)s")

MAX_TEXT = 2000


def rectification_url(rectification: Rectification) -> str:
    return f"/rectifications/{rectification.pk}/"


def default_deadline(now: datetime | None = None) -> datetime:
    days = settings.JIXIAO["RECTIFICATION"]["DEADLINE_DAYS"]
    return (now or timezone.now()) + timedelta(days=days)


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


# -- rights ------------------------------------------------------------------------------------


def can_issue(user: User) -> bool:
    return holds(user, "processes.issue_rectification")


def can_fill(rectification: Rectification, user: User) -> bool:
    return (
        holds(user, "processes.fill_rectification")
        and user.department_id is not None
        and user.department_id == rectification.department_id
    )


def can_decide_extension(user: User) -> bool:
    return holds(user, "processes.decide_extension")


def supervisors() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.SUPERVISOR).distinct())


def rectification_people(rectification: Rectification) -> list[User]:
    if rectification.project_id is not None:
        return department_members(rectification.project)  # type: ignore[arg-type]
    return list(
        User.objects.filter(
            is_active=True,
            department_id=rectification.department_id,
            groups__name__in=[Role.DEPT_STAFF, Role.DEPT_LEADER],
        ).distinct()
    )


def _lock(rectification: Rectification) -> Rectification:
    if rectification.project_id is not None:
        BudgetProject.objects.select_for_update().filter(pk=rectification.project_id).exists()
    return (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("department", "project")
        .get(pk=rectification.pk)
    )


def _require(rectification: Rectification, *statuses: str) -> None:
    if rectification.status not in statuses:
        raise ActionNotAllowed(
            _("整改当前为「%(status)s」，不能执行此操作。") % {"status": rectification.get_status_display()}
        )


def _record(
    rectification: Rectification,
    *,
    action: str,
    actor: User,
    role: str,
    before: str,
    comment: str = "",
    detail: dict | None = None,
    told: dict[User, Message] | None = None,
) -> None:
    audit_and_notify(
        obj=rectification,
        action=action,
        actor=actor,
        role=role,
        from_state=before,
        to_state=rectification.status,
        url=rectification_url(rectification),
        comment=comment,
        detail={"department": rectification.department_id, "project": rectification.project_id, **(detail or {})},
        told=told,
    )
    board_changed(action)  # open deadline boards refresh after commit


# -- issuing ---------------------------------------------------------------------------------


def _source_key(finding: Finding) -> tuple[str, int | None]:
    for name in ("self_evaluation_id", "recheck_id", "evaluation_id", "monitoring_report_id"):
        value = getattr(finding, name)
        if value is not None:
            return name, value
    return "", None


@transaction.atomic
def rectification_issue(
    *,
    actor: User,
    findings: Sequence[Finding],
    title: str,
    deadline: datetime | None = None,
    requirements: Mapping[int, str] | None = None,
) -> Rectification:
    """Issue one notice for ``findings`` — all of one evaluation (or report), hence of one
    department and project — each finding at most once, with ``deadline`` (default: the
    settings' days from now). ``requirements`` may restate a finding's requirement (by
    finding id). The project, if evaluated, moves to 整改中."""
    if not can_issue(actor):
        raise PermissionDenied(_("只有财政绩效科可以下达整改。"))
    errors: dict[str, str] = {}
    findings = list(findings)
    title = (title or "").strip()
    if not title:
        errors["title"] = _("请填写整改事项名称。")
    if not findings:
        errors["findings"] = _("请至少选择一个问题。")
    elif len({_source_key(f) for f in findings}) != 1:
        errors["findings"] = _("一份整改通知只能包含同一项评价（或监控报告）发现的问题。")
    deadline = deadline or default_deadline()
    if deadline <= timezone.now():
        errors["deadline"] = _("整改期限必须晚于现在。")
    taken = RectificationItem.objects.filter(finding__in=findings).values_list("finding_id", flat=True)
    if taken:
        errors["findings"] = _("所选问题中有 %(n)s 个已下达过整改。") % {"n": len(taken)}
    if errors:
        raise ValidationError(errors)
    first = findings[0]
    rectification = Rectification.objects.create(
        department_id=first.department_id,
        project_id=first.project_id,
        title=title[:200],
        deadline=deadline,
        original_deadline=deadline,
        issued_by=actor,
    )
    try:
        with transaction.atomic():
            RectificationItem.objects.bulk_create(
                [
                    RectificationItem(
                        rectification=rectification,
                        finding=f,
                        position=i,
                        problem=f.problem,
                        basis=f.basis,
                        requirement=((requirements or {}).get(f.pk) or f.requirement).strip(),
                    )
                    for i, f in enumerate(findings, start=1)
                ]
            )
    except IntegrityError as exc:  # the same finding issued by someone else meanwhile
        raise Conflict(_("所选问题已被他人下达整改。")) from exc
    if rectification.project_id is not None:
        project = BudgetProject.objects.get(pk=rectification.project_id)
        if project.stage == ProjectStage.EVALUATED:
            project_system_transition(
                project=project,
                actor=actor,
                name="open_rectification",
                role=Role.FINANCE_OFFICER,
                detail={"rectification": rectification.pk},
            )
    notice = msg.plain("task", ISSUED, title=rectification.title, count=len(findings), deadline=_when(deadline))
    _record(
        rectification,
        action="rectification_issue",
        actor=actor,
        role=Role.FINANCE_OFFICER,
        before="",
        detail={"findings": [f.pk for f in findings], "deadline": deadline},
        told=dict.fromkeys(rectification_people(rectification), notice),
    )
    return rectification


# -- the department's side ---------------------------------------------------------------------


@transaction.atomic
def rectification_acknowledge(*, rectification: Rectification, actor: User) -> Rectification:
    """签收: the department takes the notice on."""
    rectification = _lock(rectification)
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以签收整改通知。"))
    _require(rectification, RectificationStatus.ISSUED)
    before = rectification.status
    rectification.acknowledge()
    rectification.acknowledged_at = timezone.now()
    save_versioned(rectification)
    _record(rectification, action="rectification_acknowledge", actor=actor, role=Role.DEPT_STAFF, before=before)
    return rectification


def _date(raw: Any, key: str, errors: dict[str, list[str]]) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    parsed = parse_date(str(raw).strip()) if isinstance(raw, str) else None
    if parsed is None:
        errors.setdefault(key, []).append(_("请填写日期（年-月-日）。"))
    return parsed


@transaction.atomic
def rectification_report_save(
    *, rectification: Rectification, actor: User, items: Iterable[Mapping[str, Any]], revision: int | None = None
) -> Rectification:
    """Save the department's report (a draft): per item (by id) the measure, the person
    responsible, the completion date and the progress. Every problem at once, keyed
    ``items.<id>.<field>``; nothing is changed then."""
    rectification = _lock(rectification)
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以填报整改报告。"))
    _require(rectification, RectificationStatus.ACKNOWLEDGED)
    if revision is not None and int(revision) != rectification.revision:
        raise Conflict(_("整改报告已被他人修改，请刷新后重新填写。"))
    by_id = {item.pk: item for item in rectification.items.all()}
    errors: dict[str, list[str]] = {}
    changed: list[RectificationItem] = []
    for entry in items:
        try:
            item = by_id[int(entry.get("id"))]  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            errors.setdefault("items", []).append(_("整改问题无效。"))
            continue
        key = f"items.{item.pk}"
        for name in ("measure", "responsible"):
            if name in entry:
                text = str(entry.get(name) or "").strip()
                limit = 64 if name == "responsible" else MAX_TEXT
                if len(text) > limit:
                    errors.setdefault(f"{key}.{name}", []).append(_("最多 %(n)s 个字。") % {"n": limit})
                setattr(item, name, text)
        if "completed_on" in entry:
            item.completed_on = _date(entry.get("completed_on"), f"{key}.completed_on", errors)
        if "progress" in entry:
            progress = str(entry.get("progress") or "")
            if progress and progress not in ItemProgress.values:
                errors.setdefault(f"{key}.progress", []).append(_("请选择已完成、部分完成或未完成。"))
            item.progress = progress
        changed.append(item)
    if errors:
        raise ValidationError(errors)
    RectificationItem.objects.bulk_update(changed, ["measure", "responsible", "completed_on", "progress"])
    save_versioned(rectification)
    audit_record(
        obj=rectification,
        action="rectification_report_edit",
        actor=actor,
        role=Role.DEPT_STAFF,
        from_state=rectification.status,
        to_state=rectification.status,
        detail={"revision": rectification.revision},
    )
    return rectification


@transaction.atomic
def evidence_add(*, item: RectificationItem, actor: User, file) -> Evidence:
    """Attach a file to an item: PDF, image or Office, checked by content and size. A refused
    upload changes nothing."""
    rectification = _lock(item.rectification)
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以上传佐证材料。"))
    _require(rectification, RectificationStatus.ACKNOWLEDGED)
    kind = check_upload(file, field="file")
    name = (getattr(file, "name", "") or "evidence")[-200:]
    evidence = Evidence(item=item, name=name, kind=kind, size=file.size, uploaded_by=actor)
    evidence.file.save(name, file, save=False)
    evidence.save()
    audit_record(
        obj=rectification,
        action="evidence_add",
        actor=actor,
        role=Role.DEPT_STAFF,
        from_state=rectification.status,
        to_state=rectification.status,
        detail={"item": item.pk, "evidence": evidence.pk, "name": name, "size": evidence.size},
    )
    return evidence


@transaction.atomic
def evidence_remove(*, evidence: Evidence, actor: User) -> None:
    rectification = _lock(evidence.item.rectification)
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以删除佐证材料。"))
    _require(rectification, RectificationStatus.ACKNOWLEDGED)
    audit_record(
        obj=rectification,
        action="evidence_remove",
        actor=actor,
        role=Role.DEPT_STAFF,
        from_state=rectification.status,
        to_state=rectification.status,
        detail={"item": evidence.item_id, "evidence": evidence.pk, "name": evidence.name},
    )
    stored = evidence.file
    evidence.delete()
    transaction.on_commit(lambda: stored.delete(save=False), robust=True)


@transaction.atomic
def rectification_submit(*, rectification: Rectification, actor: User) -> Rectification:
    """Submit the report: every item needs its measure, person responsible, completion date
    (for a finished one) and progress."""
    rectification = _lock(rectification)
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以提交整改报告。"))
    _require(rectification, RectificationStatus.ACKNOWLEDGED)
    errors: dict[str, list[str]] = {}
    for item in rectification.items.all():
        key = f"items.{item.pk}"
        for name in ("measure", "responsible", "progress"):
            if not getattr(item, name):
                errors[f"{key}.{name}"] = [_("提交前请填写此项。")]
        if item.progress == ItemProgress.DONE and item.completed_on is None:
            errors[f"{key}.completed_on"] = [_("已完成的问题请填写完成时间。")]
    if errors:
        raise ValidationError(errors)
    before = rectification.status
    rectification.submit()
    rectification.submitted_at = timezone.now()
    save_versioned(rectification)
    notice = msg.plain("task", SUBMITTED, title=rectification.title, department=rectification.department.name)
    _record(
        rectification,
        action="rectification_submit",
        actor=actor,
        role=Role.DEPT_STAFF,
        before=before,
        told=dict.fromkeys(finance_officers(), notice),
    )
    return rectification


# -- the finance section's verification ----------------------------------------------------------


@transaction.atomic
def rectification_review(
    *, rectification: Rectification, actor: User, verify: bool, comment: str = ""
) -> Rectification:
    """验收: the finance section closes the rectification (销号), or rejects the report back
    to the department with reasons."""
    rectification = _lock(rectification)
    if not can_issue(actor):
        raise PermissionDenied(_("只有财政绩效科可以验收整改。"))
    _require(rectification, RectificationStatus.SUBMITTED)
    comment = (comment or "").strip()
    if not verify and not comment:
        raise ValidationError({"comment": _("退回整改报告时请说明理由。")})
    before = rectification.status
    if verify:
        rectification.verify(comment=comment)
        rectification.verified_by, rectification.verified_at = actor, timezone.now()
        notice = msg.plain("approved", VERIFIED, title=rectification.title)
    else:
        rectification.reject(comment=comment)
        notice = msg.plain("returned", REJECTED, title=rectification.title, reason=comment)
    save_versioned(rectification)
    if verify and rectification.project_id is not None:
        _close_project_if_done(rectification, actor)
    _record(
        rectification,
        action="rectification_verify" if verify else "rectification_reject",
        actor=actor,
        role=Role.FINANCE_OFFICER,
        before=before,
        comment=comment,
        told=dict.fromkeys(rectification_people(rectification), notice),
    )
    return rectification


def _close_project_if_done(rectification: Rectification, actor: User) -> None:
    """The project is 已关闭 once none of its rectifications is open."""
    project = BudgetProject.objects.get(pk=rectification.project_id)
    still_open = Rectification.objects.filter(
        project=project,
        status__in=[RectificationStatus.ISSUED, RectificationStatus.ACKNOWLEDGED, RectificationStatus.SUBMITTED],
    ).exists()
    if project.stage == ProjectStage.RECTIFYING and not still_open:
        project_system_transition(
            project=project,
            actor=actor,
            name="close",
            role=Role.FINANCE_OFFICER,
            detail={"rectification": rectification.pk},
        )


# -- extensions --------------------------------------------------------------------------------


@transaction.atomic
def extension_request(
    *, rectification: Rectification, actor: User, reason: str, proposed_deadline: datetime
) -> DeadlineExtension:
    """The department asks for a later deadline; supervisors are asked to decide. One pending
    request at a time."""
    rectification = _lock(rectification)
    if not can_fill(rectification, actor):
        raise PermissionDenied(_("只有被整改部门可以申请延期。"))
    _require(rectification, RectificationStatus.ISSUED, RectificationStatus.ACKNOWLEDGED)
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("请说明延期理由。")
    if proposed_deadline <= rectification.deadline:
        errors["proposed_deadline"] = _("申请的期限必须晚于现行整改期限 %(deadline)s。") % {
            "deadline": _when(rectification.deadline)
        }
    if rectification.extensions.filter(status=ExtensionStatus.REQUESTED).exists():
        errors["reason"] = _("已有一份延期申请待审批。")
    if errors:
        raise ValidationError(errors)
    extension = DeadlineExtension.objects.create(
        rectification=rectification,
        reason=reason,
        proposed_deadline=proposed_deadline,
        old_deadline=rectification.deadline,
        requested_by=actor,
    )
    notice = msg.plain(
        "task",
        EXTENSION_REQUESTED,
        title=rectification.title,
        proposed=_when(proposed_deadline),
        reason=reason,
    )
    _record(
        rectification,
        action="extension_request",
        actor=actor,
        role=Role.DEPT_STAFF,
        before=rectification.status,
        comment=reason,
        detail={"extension": extension.pk, "proposed": proposed_deadline},
        told=dict.fromkeys(supervisors(), notice),
    )
    return extension


@transaction.atomic
def extension_decide(
    *, extension: DeadlineExtension, actor: User, grant: bool, comment: str = "", new_deadline: datetime | None = None
) -> DeadlineExtension:
    """A supervisor grants the extension — the deadline moves to ``new_deadline`` (default:
    the one asked for); the old one stays on the request — or refuses it."""
    if not can_decide_extension(actor):
        raise PermissionDenied(_("只有分管领导可以审批整改延期。"))
    rectification = _lock(extension.rectification)
    extension = DeadlineExtension.objects.select_for_update().get(pk=extension.pk)
    if extension.status != ExtensionStatus.REQUESTED:
        raise Conflict(_("该延期申请已审批。"))
    comment = (comment or "").strip()
    if not grant and not comment:
        raise ValidationError({"comment": _("不同意延期时请说明理由。")})
    if grant:
        new_deadline = new_deadline or extension.proposed_deadline
        if new_deadline <= rectification.deadline:
            raise ValidationError({"new_deadline": _("新的整改期限必须晚于现行期限。")})
        extension.status, extension.new_deadline = ExtensionStatus.GRANTED, new_deadline
        rectification.deadline = new_deadline
        save_versioned(rectification)
        notice = msg.plain("approved", EXTENSION_GRANTED, title=rectification.title, deadline=_when(new_deadline))
    else:
        extension.status = ExtensionStatus.REFUSED
        notice = msg.plain(
            "returned",
            EXTENSION_REFUSED,
            title=rectification.title,
            deadline=_when(rectification.deadline),
            comment=comment,
        )
    extension.decided_by, extension.decided_at, extension.decision_comment = actor, timezone.now(), comment
    extension.save()
    _record(
        rectification,
        action="extension_grant" if grant else "extension_refuse",
        actor=actor,
        role=Role.SUPERVISOR,
        before=rectification.status,
        comment=comment,
        detail={
            "extension": extension.pk,
            "old_deadline": extension.old_deadline,
            "new_deadline": extension.new_deadline,
        },
        told=dict.fromkeys(rectification_people(rectification), notice),
    )
    return extension
