"""Demo rectifications (DESIGN §3.6) for `manage.py load_demo`, on the 2020 evaluation year's
findings (workflows/demo_evaluation.py): one closed, one extended, one due soon, one
overdue and one on time.

Everything goes through the real services, except that the overdue one is issued "earlier"
than the load: a deadline cannot be set in the past, and time has to pass for a
rectification to be overdue. So its dates are moved back after it is issued, and the audit
trail says so.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from processes.models import BudgetProject, Finding, Recheck, Rectification, SelfEvaluation
from processes.services.audit import audit_record
from processes.services.closeout import close_out_candidates, projects_close_out
from processes.services.findings import finding_add
from processes.services.rectification import (
    extension_decide,
    extension_request,
    rectification_acknowledge,
    rectification_issue,
    rectification_report_save,
    rectification_review,
    rectification_submit,
)
from processes.states import RectificationStatus

from . import demo_evaluation

YEAR = demo_evaluation.YEAR
OVERDUE_BY_DAYS = 15


def _self_evaluation(code: str) -> SelfEvaluation:
    return SelfEvaluation.objects.get(project__fiscal_year=YEAR, project__code=code)


def _finding(source, users, problem: str, requirement: str, basis: str = "") -> Finding:
    """The source's finding with this problem, recorded once."""
    existing = next((f for f in source.findings.all() if f.problem == problem), None)
    return existing or finding_add(
        source=source, actor=users["finance1"], problem=problem, requirement=requirement, basis=basis
    )


def _issued(findings: list[Finding], users, title: str, days: int) -> Rectification | None:
    """A notice for ``findings``, issued once (None when they already are)."""
    if any(hasattr(f, "rectification_item") for f in findings):
        return None
    return rectification_issue(
        actor=users["finance1"], findings=findings, title=title, deadline=timezone.now() + timedelta(days=days)
    )


def _report(rectification: Rectification, staff: User, *, done: bool = True) -> Rectification:
    items = [
        {
            "id": item.pk,
            "measure": "已修订项目绩效目标并补充佐证材料，建立按月调度台账。",
            "responsible": "项目科室负责人",
            "completed_on": timezone.localdate().isoformat() if done else "",
            "progress": "done" if done else "partly",
        }
        for item in rectification.items.all()
    ]
    return rectification_report_save(rectification=rectification, actor=staff, items=items)


def load(users: dict[str, User]) -> dict[str, int]:
    # closed: the re-check's finding, reported, verified (销号)
    recheck = Recheck.objects.filter(project__fiscal_year=YEAR, status="final").first()
    if recheck is not None:
        findings = list(recheck.findings.all())
        closed = _issued(findings, users, "2020 年度自评复核发现问题整改", 30) if findings else None
        if closed is not None:
            staff = users[f"{demo_evaluation.DEPARTMENT_KEY}_staff"]
            closed = rectification_acknowledge(rectification=closed, actor=staff)
            closed = _report(closed, staff)
            closed = rectification_submit(rectification=closed, actor=staff)
            rectification_review(
                rectification=closed, actor=users["finance1"], verify=True, comment="整改到位，予以销号。"
            )

    # extended: the 中 project's finding; the supervisor grants 30 more days
    renshe = _self_evaluation("2020-LW103-001")
    finding = _finding(
        renshe, users, "培训补贴发放进度滞后，部分学员补贴未及时到账。", "2021 年 6 月底前完成补贴发放。"
    )
    extended = _issued([finding], users, "职业技能提升培训补贴整改", 30)
    if extended is not None:
        staff = users["renshe_staff"]
        extended = rectification_acknowledge(rectification=extended, actor=staff)
        ask = extension_request(
            rectification=extended,
            actor=staff,
            reason="补贴发放需待省级系统升级后完成核验。",
            proposed_deadline=extended.deadline + timedelta(days=30),
        )
        extension_decide(extension=ask, actor=users["supervisor"], grant=True, comment="同意延期 30 天。")

    # due soon: the key evaluation's two findings in one notice, due in two days
    key = demo_evaluation.KEY_PROJECT
    project = BudgetProject.objects.get(fiscal_year=YEAR, code=key)
    key_findings = list(Finding.objects.filter(evaluation__project=project).order_by("pk"))
    soon = _issued(key_findings, users, "老旧小区微改造重点评价发现问题整改", 2) if key_findings else None
    if soon is not None:
        rectification_acknowledge(rectification=soon, actor=users["zhujian_staff"])

    # overdue: the 差 project's finding, issued 45 days "ago" with 30 days to rectify
    minzheng = _self_evaluation("2020-LW107-001")
    finding = _finding(
        minzheng,
        users,
        "服务对象覆盖率低，补贴标准与服务内容不匹配。",
        "重新核定补贴对象和标准，完善服务评价机制。",
    )
    overdue = _issued([finding], users, "居家养老服务补贴整改", 30)
    if overdue is not None:
        deadline = timezone.now() - timedelta(days=OVERDUE_BY_DAYS)
        Rectification.objects.filter(pk=overdue.pk).update(deadline=deadline, original_deadline=deadline)
        audit_record(
            obj=overdue,
            action="demo_backdate",
            actor=users["finance1"],
            from_state=overdue.status,
            to_state=overdue.status,
            comment="演示数据：整改期限前移，使其处于逾期状态。",
            detail={"deadline": deadline},
        )

    # on time: the submitted self-evaluation's finding, the default 30 days
    weijian = _self_evaluation("2020-LW106-001")
    finding = _finding(weijian, users, "设备采购验收资料不齐全。", "补齐设备验收资料并归档。")
    _issued([finding], users, "基层医疗卫生机构能力提升整改", 30)

    # 年度关账: the year's evaluated projects with nothing left open close (issue 18); the
    # others stay, each refused with its reason — as the finance section's bulk action does
    closed_out = projects_close_out(
        actor=users["finance1"], projects=close_out_candidates(fiscal_year=YEAR), comment="2020 年度关账"
    )

    rectifications = Rectification.objects.filter(project__fiscal_year=YEAR)
    return {
        "closed_out": len(closed_out.done),
        "left_open": len(closed_out.refused),
        "rectifications": rectifications.count(),
        "closed": rectifications.filter(status=RectificationStatus.VERIFIED).count(),
        "overdue": rectifications.exclude(status=RectificationStatus.VERIFIED)
        .filter(deadline__lt=timezone.now())
        .count(),
    }
