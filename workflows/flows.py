"""Flows: who does which task when. Each node calls into processes.services; the project's
stage machine decides, the flow routes on what it decided."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import SelectForUpdateLock

from processes.states import ProjectStage

from .models import ProjectProcess
from .nodes import ProjectTask

#: SELECT ... FOR UPDATE that waits (no NOWAIT): it works inside an outer transaction,
#: where NOWAIT's retry loop cannot (docs/architecture.md, "Locks").
FLOW_LOCK = SelectForUpdateLock(nowait=False, attempts=1)


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
PROJECT_FLOWS = [ProjectIntakeFlow]
