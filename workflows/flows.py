"""Flows: who does which task when. The nodes call no service: the domain decides (a
declared transition, applied by processes.transitions.apply), and the flow step that
workflows/steps registered for that transition completes, starts or cancels the tasks
inside the same transaction; an ``If`` node routes on the state the transition produced
(decision 0020)."""

from contextlib import contextmanager

from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.lock import SelectForUpdateLock

from processes.models import MonitoringReport, PreAssessment, SelfEvaluation, TargetSet
from processes.services.pre_assessment import pre_assessment_open_for
from processes.states import (
    REPORT_OPEN,
    PreAssessmentStatus,
    ProjectStage,
    ReportStatus,
    SelfEvaluationStatus,
    TargetSetStatus,
)

from .models import ProjectProcess
from .nodes import ForEachSplit, ProjectTask, SeatTask


class ProcessRowLock(SelectForUpdateLock):
    """viewflow's lock on the process row (SELECT … FOR UPDATE), taken in the caller's
    transaction when one is open — every service step runs in one — rather than in a
    savepoint of its own: the savepoint cost two statements per task and protected
    nothing, since a failed lock ends the whole step anyway. Outside a transaction
    (viewflow's own timers and cancels) it is viewflow's lock unchanged. Inside one on a
    database without row locks (SQLite, whose BEGIN IMMEDIATE already holds the one write
    lock) there is nothing to take: no statement."""

    @contextmanager
    def __call__(self, flow_class, process_pk):
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            with super().__call__(flow_class, process_pk):
                yield
            return
        if not connection.features.has_select_for_update:
            yield
            return
        try:
            flow_class.process_class._default_manager.filter(pk=process_pk).select_for_update(
                nowait=self.nowait
            ).exists()
        except DatabaseError as exc:
            raise FlowLockFailed(f"Lock failed for {flow_class}") from exc
        yield


#: SELECT ... FOR UPDATE that waits (no NOWAIT): it works inside an outer transaction,
#: where NOWAIT's retry loop cannot (docs/architecture.md, "Locks").
FLOW_LOCK = ProcessRowLock(nowait=False, attempts=1)


class ProjectIntakeFlow(flow.Flow):
    """Submission and intake (DESIGN §3.1): the department leader reviews what staff
    submitted; the finance section routes it to pre-assessment or target review."""

    process_class = ProjectProcess
    lock_impl = FLOW_LOCK
    process_title = _("项目申报与受理")

    start = flow.StartHandle(this.start_intake).Next(this.dept_review)

    dept_review = ProjectTask(
        title=_("部门审核"),
        permission="processes.review_project",
        actions=["approve", "send_back"],
        due_key="dept_review",
    ).Next(this.dept_decided)

    dept_decided = flow.If(this.is_dept_approved).Then(this.finance_intake).Else(this.returned)

    finance_intake = ProjectTask(
        title=_("财政受理"),
        permission="processes.intake_project",
        actions=["route_to_pre_assessment", "route_to_target_review"],
        due_key="finance_intake",
    ).Next(this.routed)

    routed = flow.End()
    returned = flow.End()

    def start_intake(self, activation, project):
        activation.process.project = project
        return activation.process

    def is_dept_approved(self, activation):
        return activation.process.project.stage == ProjectStage.DEPT_APPROVED


#: Flows whose human tasks are completed by project actions.
PROJECT_FLOWS: list[type[flow.Flow]] = [ProjectIntakeFlow]


class PreAssessmentFlow(flow.Flow):
    """事前绩效评估 (DESIGN §3.2): the agency draws the panel; each member gets an opinion
    task; when all are in (or the quorum at the due date) the agency proposes the
    conclusion; the finance section confirms it or returns it to the agency.

    Every decision is taken by processes.services.pre_assessment; the flow hands out the
    tasks and routes on the pre-assessment's status.
    """

    process_class = ProjectProcess
    lock_impl = FLOW_LOCK
    process_title = _("事前绩效评估")

    start = flow.StartHandle(this.start_review).Next(this.draw)

    draw = ProjectTask(
        title=_("组建评审组"),
        permission="processes.organise_review",
        actions=["form_panel"],
        labels={"form_panel": _("抽取评审组")},
        due_key="draw_panel",
        page=this.pre_assessment_page,
    ).Next(this.fan_out)

    fan_out = ForEachSplit(this.seats).Next(this.opinion)

    opinion = SeatTask(
        title=_("专家评审意见"),
        kind_titles={"deputy": _("人大代表评审意见")},
        actions=["submit_opinion"],
        labels={"submit_opinion": _("提交评审意见")},
        page=this.opinion_page,
    ).Next(this.join)

    join = flow.Join().Next(this.conclude)

    conclude = ProjectTask(
        title=_("提出评估结论"),
        permission="processes.organise_review",
        actions=["conclude"],
        labels={"conclude": _("提出评估结论")},
        due_key="propose_conclusion",
        page=this.pre_assessment_page,
    ).Next(this.confirm)

    confirm = ProjectTask(
        title=_("确认评估结论"),
        permission="processes.confirm_pre_assessment",
        actions=["confirm", "return"],
        labels={"confirm": _("确认结论"), "return": _("退回结论")},
        due_key="confirm_conclusion",
        page=this.pre_assessment_page,
    ).Next(this.confirmed)

    confirmed = flow.If(this.is_confirmed).Then(this.end).Else(this.conclude)
    end = flow.End()

    def start_review(self, activation, project):
        activation.process.project = project
        return activation.process

    def seats(self, activation):
        """One opinion task per seated panel member, due at the review's due date."""
        pa = pre_assessment_open_for(activation.process.project)
        if pa is None:
            return []
        return [
            {"seat": m.seat, "user_id": m.user_id, "kind": m.kind, "due_at": pa.due_at.isoformat()}
            for m in pa.panel.filter(active=True).order_by("seat")
        ]

    def pre_assessment_page(self, project, task=None):
        pa = project.pre_assessments.order_by("-pk").first()
        return reverse("workflows:pre_assessment", args=[pa.pk]) if pa else None

    def opinion_page(self, project, task=None):
        pa = project.pre_assessments.order_by("-pk").first()
        return reverse("workflows:pre_assessment_opinion", args=[pa.pk]) if pa else None

    def is_confirmed(self, activation):
        pa = PreAssessment.objects.filter(project=activation.process.project).order_by("-pk").first()
        return pa is not None and pa.status == PreAssessmentStatus.CONFIRMED


class TargetReviewFlow(flow.Flow):
    """绩效目标审核 (DESIGN §3.3): the department files its targets (or a change to them),
    its leader passes them on, the finance section rates them; 中 sends them back to be
    revised, 优 / 良 / 差 end the review. One process per version.

    Every decision is taken by processes.services.targets; the flow hands out the tasks
    and routes on the version's status.
    """

    process_class = ProjectProcess
    lock_impl = FLOW_LOCK
    process_title = _("绩效目标审核")

    start = flow.StartHandle(this.start_review).Next(this.fill)

    fill = ProjectTask(
        title=_("填报绩效目标"),
        permission="processes.submit_targets",
        actions=["targets_submit"],
        labels={"targets_submit": _("提交绩效目标")},
        due_key="fill_targets",
        page=this.targets_page,
    ).Next(this.leader_review)

    leader_review = ProjectTask(
        title=_("部门审核绩效目标"),
        permission="processes.review_targets",
        actions=["targets_dept_review"],
        labels={"targets_dept_review": _("审核绩效目标")},
        due_key="review_targets",
        page=this.targets_page,
    ).Next(this.leader_decided)

    leader_decided = flow.If(this.passed_by_leader).Then(this.finance_review).Else(this.fill)

    finance_review = ProjectTask(
        title=_("财政审核绩效目标"),
        permission="processes.rate_targets",
        actions=["targets_rate"],
        labels={"targets_rate": _("评定审核等次")},
        due_key="rate_targets",
        page=this.targets_page,
    ).Next(this.rated)

    rated = flow.If(this.sent_back).Then(this.fill).Else(this.end)
    end = flow.End()

    def start_review(self, activation, project, target_set):
        activation.process.project = project
        activation.process.data = {"target_set": target_set.pk}
        return activation.process

    def targets_page(self, project, task=None):
        return reverse("workflows:targets", args=[project.pk])

    def _target_set(self, activation) -> TargetSet:
        return TargetSet.objects.get(pk=activation.process.data["target_set"])

    def passed_by_leader(self, activation):
        return self._target_set(activation).status == TargetSetStatus.DEPT_APPROVED

    def sent_back(self, activation):
        return self._target_set(activation).status == TargetSetStatus.RETURNED


class MonitoringFlow(flow.Flow):
    """绩效运行监控 (DESIGN §3.4): one process per report. The department fills it, its
    leader passes it, the finance section clears it, returns it, or warns — and a warned
    report waits for the finance section's disposal. Started in bulk for a whole round
    (workflows.bulk); every decision is taken by processes.services.monitoring."""

    process_class = ProjectProcess
    lock_impl = FLOW_LOCK
    process_title = _("绩效运行监控")

    start = flow.StartHandle(this.start_report).Next(this.fill)

    fill = ProjectTask(
        title=_("填报绩效监控报告"),
        permission="processes.fill_monitoring",
        actions=["report_submit"],
        labels={"report_submit": _("提交监控报告")},
        due_key="fill_monitoring",
        page=this.report_page,
    ).Next(this.leader_review)

    leader_review = ProjectTask(
        title=_("部门审核绩效监控报告"),
        permission="processes.review_monitoring_dept",
        actions=["report_dept_review"],
        labels={"report_dept_review": _("审核监控报告")},
        due_key="review_monitoring_dept",
        page=this.report_page,
    ).Next(this.leader_decided)

    leader_decided = flow.If(this.passed_by_leader).Then(this.finance_review).Else(this.fill)

    finance_review = ProjectTask(
        title=_("财政审核绩效监控报告"),
        permission="processes.review_monitoring",
        actions=["report_review"],
        labels={"report_review": _("审核监控报告")},
        due_key="review_monitoring",
        page=this.report_page,
    ).Next(this.reviewed)

    reviewed = flow.If(this.is_warned).Then(this.dispose).Else(this.cleared_or_returned)
    cleared_or_returned = flow.If(this.is_returned).Then(this.fill).Else(this.end)

    dispose = ProjectTask(
        title=_("处置预警项目"),
        permission="processes.review_monitoring",
        actions=["report_dispose"],
        labels={"report_dispose": _("处置")},
        due_key="dispose_monitoring",
        page=this.report_page,
    ).Next(this.end)

    end = flow.End()

    def start_report(self, activation, project, report):
        activation.process.project = project
        activation.process.data = {"report": report.pk}
        return activation.process

    def report_page(self, project, task=None):
        report_id = task.process.data.get("report") if task is not None else None
        if report_id is None:
            report = MonitoringReport.objects.filter(project=project, status__in=REPORT_OPEN).order_by("-pk").first()
            report_id = report.pk if report else None
        return reverse("workflows:monitoring_report", args=[report_id]) if report_id else None

    def _report(self, activation) -> MonitoringReport:
        return MonitoringReport.objects.get(pk=activation.process.data["report"])

    def passed_by_leader(self, activation):
        return self._report(activation).status == ReportStatus.DEPT_APPROVED

    def is_warned(self, activation):
        return self._report(activation).status == ReportStatus.WARNED

    def is_returned(self, activation):
        return self._report(activation).status == ReportStatus.ISSUED


class SelfEvaluationFlow(flow.Flow):
    """绩效自评 (DESIGN §3.5): one process per project of the year's campaign. The department
    fills the score sheet, its leader passes it, the finance section accepts it or returns
    it. Started in bulk for the whole campaign (workflows.bulk); every decision is taken by
    processes.services.evaluation."""

    process_class = ProjectProcess
    lock_impl = FLOW_LOCK
    process_title = _("绩效自评")

    start = flow.StartHandle(this.start_evaluation).Next(this.fill)

    fill = ProjectTask(
        title=_("填报绩效自评"),
        permission="processes.fill_self_evaluation",
        actions=["self_evaluation_submit"],
        labels={"self_evaluation_submit": _("提交绩效自评")},
        due_key="fill_self_evaluation",
        page=this.evaluation_page,
    ).Next(this.leader_review)

    leader_review = ProjectTask(
        title=_("部门审核绩效自评"),
        permission="processes.review_self_evaluation_dept",
        actions=["self_evaluation_dept_review"],
        labels={"self_evaluation_dept_review": _("审核绩效自评")},
        due_key="review_self_evaluation_dept",
        page=this.evaluation_page,
    ).Next(this.leader_decided)

    leader_decided = flow.If(this.passed_by_leader).Then(this.finance_review).Else(this.fill)

    finance_review = ProjectTask(
        title=_("财政确认绩效自评"),
        permission="processes.accept_self_evaluation",
        actions=["self_evaluation_review"],
        labels={"self_evaluation_review": _("确认绩效自评")},
        due_key="accept_self_evaluation",
        page=this.evaluation_page,
    ).Next(this.reviewed)

    reviewed = flow.If(this.is_returned).Then(this.fill).Else(this.end)
    end = flow.End()

    def start_evaluation(self, activation, project, evaluation):
        activation.process.project = project
        activation.process.data = {"self_evaluation": evaluation.pk}
        return activation.process

    def evaluation_page(self, project, task=None):
        # the process names its self-evaluation: no query per inbox row
        evaluation_id = task.process.data.get("self_evaluation") if task is not None else None
        if evaluation_id is None:
            evaluation = SelfEvaluation.objects.filter(project=project).only("pk").first()
            evaluation_id = evaluation.pk if evaluation else None
        return reverse("workflows:self_evaluation", args=[evaluation_id]) if evaluation_id else None

    def _evaluation(self, activation) -> SelfEvaluation:
        return SelfEvaluation.objects.get(pk=activation.process.data["self_evaluation"])

    def passed_by_leader(self, activation):
        return self._evaluation(activation).status == SelfEvaluationStatus.DEPT_APPROVED

    def is_returned(self, activation):
        return self._evaluation(activation).status == SelfEvaluationStatus.ISSUED
