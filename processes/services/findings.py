"""Findings 评价发现的问题 (DESIGN §3.5): what an evaluation found wrong — problem, basis,
requirement — recorded on a self-evaluation, a re-check or a commissioned evaluation,
ready to be issued as a rectification (§3.6).

The finance section records findings on any evaluation; the commissioned agency records
them on its own re-checks and evaluations until they are final. The project's department
(staff and leaders) is told of each finding recorded (processes.notices.rectification).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role

from ..models import (
    CommissionedEvaluation,
    Finding,
    MonitoringReport,
    Recheck,
    SelfEvaluation,
    finding_categories,
)
from ..notices.rectification import finding_added
from ..permissions import holds
from ..states import EvaluationStatus, RecheckStatus
from .audit import audit_and_notify, audit_record

Source = SelfEvaluation | Recheck | CommissionedEvaluation | MonitoringReport

MAX_FINDINGS = 50


def _agency_of(source: Source) -> int | None:
    if isinstance(source, Recheck):
        return source.sample.agency_id
    if isinstance(source, CommissionedEvaluation):
        return source.agency_id
    return None


def _closed_for_agency(source: Source) -> bool:
    if isinstance(source, Recheck):
        return source.status == RecheckStatus.FINAL
    if isinstance(source, CommissionedEvaluation):
        return source.status in (EvaluationStatus.FINAL, EvaluationStatus.PUBLISHED)
    return True


def acting_role(source: Source, user: User) -> str | None:
    """The role in which ``user`` may record findings on ``source`` now; None if they may not."""
    if holds(user, "processes.launch_evaluation"):
        return Role.FINANCE_OFFICER
    agency_id = _agency_of(source)
    if (
        agency_id is not None
        and holds(user, "processes.conduct_evaluation")
        and user.agency_id == agency_id
        and not _closed_for_agency(source)
    ):
        return Role.AGENCY_STAFF
    return None


def can_record(source: Source, user: User) -> bool:
    return acting_role(source, user) is not None


def _source_fields(source: Source) -> dict:
    if isinstance(source, SelfEvaluation):
        return {
            "self_evaluation": source,
            "project_id": source.project_id,
            "department_id": source.project.department_id,
        }
    if isinstance(source, Recheck):
        return {"recheck": source, "project_id": source.project_id, "department_id": source.project.department_id}
    if isinstance(source, MonitoringReport):
        return {
            "monitoring_report": source,
            "project_id": source.project_id,
            "department_id": source.project.department_id,
        }
    assert isinstance(source, CommissionedEvaluation)
    return {"evaluation": source, "project_id": source.project_id, "department_id": source.department_id}


def _subject(source: Source) -> str:
    """What the department recognises the finding by: the evaluation's title or the project."""
    if isinstance(source, CommissionedEvaluation):
        return f"「{source.title}」"
    project = source.project
    return f"「{project.name}」" if project is not None else ""


def findings_of(source: Source):
    key = {
        SelfEvaluation: "self_evaluation",
        Recheck: "recheck",
        CommissionedEvaluation: "evaluation",
        MonitoringReport: "monitoring_report",
    }[type(source)]
    return Finding.objects.filter(**{key: source}).order_by("pk")


@transaction.atomic
def finding_add(
    *, source: Source, actor: User, problem: str, requirement: str, basis: str = "", category: str | None = None
) -> Finding:
    """Record one finding. ``category`` is a code of settings JIXIAO["FINDING_CATEGORIES"]
    (目标设置, 资金管理, …): the forms and the API always pass it, so a blank or unknown one is
    refused there; None (scripts written before categories) records it without one.
    ValidationError (keyed by field) when the problem, the requirement or the category is
    missing or wrong; PermissionDenied for anyone but the finance section or the source's
    own agency (before it is final)."""
    role = acting_role(source, actor)
    if role is None:
        raise PermissionDenied(_("只有财政绩效科或受托第三方机构可以记录评价发现的问题。"))
    problem, basis, requirement = (problem or "").strip(), (basis or "").strip(), (requirement or "").strip()
    errors = {}
    if not problem:
        errors["problem"] = [_("请填写存在的问题。")]
    if not requirement:
        errors["requirement"] = [_("请填写整改要求。")]
    if category is not None:
        category = category.strip()
        if category not in dict(finding_categories()):
            errors["category"] = [_("请选择问题类别。")]
    if errors:
        raise ValidationError(errors)
    if findings_of(source).count() >= MAX_FINDINGS:
        raise ValidationError({"problem": _("每项评价最多记录 %(n)s 个问题。") % {"n": MAX_FINDINGS}})
    finding = Finding.objects.create(
        **_source_fields(source),
        problem=problem,
        category=category or "",
        basis=basis,
        requirement=requirement,
        created_by=actor,
    )
    audit_and_notify(
        obj=finding,
        action="finding_add",
        actor=actor,
        role=role,
        from_state="",
        to_state="",
        url=source.get_absolute_url(),
        detail={
            "source": source._meta.label_lower,
            "source_id": source.pk,
            "project": finding.project_id,
            "category": finding.category,
        },
        told=finding_added(finding, _subject(source)),
    )
    return finding


@transaction.atomic
def finding_remove(*, finding: Finding, actor: User) -> None:
    """Withdraw a finding recorded in error (same rights as recording it)."""
    source = finding.self_evaluation or finding.recheck or finding.evaluation or finding.monitoring_report
    assert source is not None  # the check constraint: exactly one source
    role = acting_role(source, actor)
    if role is None:
        raise PermissionDenied(_("只有财政绩效科或受托第三方机构可以删除评价发现的问题。"))
    audit_record(
        obj=finding,
        action="finding_remove",
        actor=actor,
        role=role,
        comment=finding.problem[:200],
        detail={"source": source._meta.label_lower, "source_id": source.pk},
    )
    finding.delete()
