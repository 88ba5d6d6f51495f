"""绩效自评 and 复核 on the one transition engine (issue 17): every transition of their models
declared; the processes services move the flow's task by themselves (the flow step
workflows registers); save-then-submit is one call that saves nothing when refused; a
relaunch tells the departments it concerns anew, with its due date; the audit trail names
the role the actor acted in; the screens and the API offer what the declarations allow."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from viewflow.workflow.models import Task

from notifications.models import Notification
from processes import transitions
from processes.models import AuditEvent, Recheck, SelfEvaluation
from processes.notices.evaluation import CAMPAIGN_LAUNCHED, due_text
from processes.services import evaluation
from processes.states import ProjectStage, RecheckStatus, SelfEvaluationStatus
from tests.factories import AgencyFactory, make_user
from workflows.flows import SelfEvaluationFlow
from workflows.selectors import task_inbox_for
from workflows.services import project_act

pytestmark = pytest.mark.django_db


def due(days=20):
    return timezone.now() + timedelta(days=days)


def launch(district, when=None):
    return evaluation.campaign_launch(actor=district.finance, fiscal_year=2021, due_at=when or due())


def entries(se, *, explained=True):
    """A complete sheet of TARGET_ROWS (≥12.5 km, ≤300 天, qualitative) at full marks."""
    lines = []
    for row in evaluation.approved_rows(se.project):
        item = {"target_row": row.pk}
        if row.direction == "qualitative":
            item.update(band="achieved", band_pct="100")
        else:
            item["actual"] = "12.5" if row.direction == "gte" else "280"
        if explained:
            item.update(deviation_reason="征地滞后", measure="加快进度")
        lines.append(item)
    return {"executed": "1200000", "lines": lines, "summary": "总体完成"}


def open_tasks(se):
    return set(
        Task.objects.filter(process__data__self_evaluation=se.pk, status__in=["NEW", "ASSIGNED"]).values_list(
            "flow_task", flat=True
        )
    )


def test_every_transition_of_self_evaluation_and_recheck_is_declared_when_the_registry_is_read():
    mine = [d for d in transitions.declared_transitions() if d.model in (SelfEvaluation, Recheck)]
    assert {(d.model.__name__, d.name) for d in mine} == {
        ("SelfEvaluation", name) for name in ("submit", "dept_approve", "dept_return", "accept", "send_back", "cancel")
    } | {("Recheck", name) for name in ("rescore", "feed_back", "finalize")}
    assert all(d.declared for d in mine)
    # every one tells someone or says why it is silent; the audit names are the old ones
    assert all(bool(d.custom["tells"]) != bool(d.custom["silent"]) for d in mine)
    assert {d.audit_action for d in mine} == {
        "self_evaluation_submit",
        "self_evaluation_dept_approve",
        "self_evaluation_dept_return",
        "self_evaluation_accept",
        "self_evaluation_return",
        "self_evaluation_cancel",
        "recheck_rescore",
        "recheck_feedback",
        "recheck_finalize",
    }


def test_processes_service_moves_the_flow_task_when_called_directly(district):
    district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    assert open_tasks(se) == {SelfEvaluationFlow.fill}

    se = evaluation.self_evaluation_save(evaluation=se, actor=district.staff_a, **entries(se))
    se = evaluation.self_evaluation_submit(evaluation=se, actor=district.staff_a)

    assert se.status == SelfEvaluationStatus.SUBMITTED
    assert open_tasks(se) == {SelfEvaluationFlow.leader_review}
    assert [t.flow_task for t in task_inbox_for(district.leader_a)] == [SelfEvaluationFlow.leader_review]
    # the leader is told once: the flow's task notice (with its due date) replaces the declared one
    told = Notification.objects.filter(recipient=district.leader_a, object_type="processes.selfevaluation")
    assert told.count() == 1 and told.get().kind == "task" and told.get().params.get("due")

    se = evaluation.self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=True)
    assert open_tasks(se) == {SelfEvaluationFlow.finance_review}
    se = evaluation.self_evaluation_review(evaluation=se, actor=district.finance, accept=True)
    assert se.status == SelfEvaluationStatus.ACCEPTED and open_tasks(se) == set()
    assert se.project.__class__.objects.get(pk=se.project_id).stage == ProjectStage.EVALUATED


def test_return_tells_the_department_the_reason_not_a_bare_task_when_the_leader_returns(district):
    district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    se = evaluation.self_evaluation_save(evaluation=se, actor=district.staff_a, submit=True, **entries(se))

    evaluation.self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=False, comment="数据不全")

    notice = Notification.objects.filter(recipient=district.staff_a, object_type="processes.selfevaluation").latest(
        "pk"
    )
    assert notice.kind == "returned" and notice.params["reason"] == "数据不全"
    assert open_tasks(se) == {SelfEvaluationFlow.fill}


def test_save_and_submit_is_one_call_that_saves_nothing_when_the_submission_is_refused(district):
    district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    before = (AuditEvent.objects.count(), se.revision)
    data = entries(se, explained=False)
    data["lines"][0]["actual"] = "10"  # short of full points, and not explained

    with pytest.raises(ValidationError):
        evaluation.self_evaluation_save(evaluation=se, actor=district.staff_a, submit=True, **data)

    se.refresh_from_db()
    assert se.sheet_id is None and se.status == SelfEvaluationStatus.ISSUED
    assert (AuditEvent.objects.count(), se.revision) == before
    assert open_tasks(se) == {SelfEvaluationFlow.fill}

    se = evaluation.self_evaluation_save(evaluation=se, actor=district.staff_a, submit=True, **entries(se))
    assert se.status == SelfEvaluationStatus.SUBMITTED and se.sheet_id is not None
    assert list(
        AuditEvent.objects.filter(object_type="processes.selfevaluation", object_id=str(se.pk))
        .order_by("sequence")
        .values_list("action", "actor_role")
    ) == [("self_evaluation_edit", "dept_staff"), ("self_evaluation_submit", "dept_staff")]
    assert open_tasks(se) == {SelfEvaluationFlow.leader_review}


def test_relaunch_tells_the_newly_concerned_department_with_its_due_date_when_latecomers_are_added(district):
    district.project(ProjectStage.EXECUTING)  # department A
    launch(district, due(10))
    told_a = Notification.objects.filter(recipient=district.staff_a).count()
    district.project(ProjectStage.EXECUTING, dept="b", code="2021-LATE1")
    district.project(ProjectStage.EXECUTING, dept="b", code="2021-LATE2")
    later = due(30)

    again = launch(district, later)

    assert len(again.created) == 2 and again.already == 1
    for member in (district.staff_b, district.leader_b):
        notice = Notification.objects.get(recipient=member, object_type="processes.evaluationcampaign")
        assert notice.verb == CAMPAIGN_LAUNCHED and notice.kind == "task"
        assert notice.params["count"] == 2 and notice.params["due"] == due_text(later)
        assert notice.url == again.campaign.get_absolute_url()
    # department A has nothing new: not told again
    assert Notification.objects.filter(recipient=district.staff_a).count() == told_a
    assert AuditEvent.objects.get(action="campaign_extend").actor_role == "finance_officer"


def test_open_self_evaluation_ends_with_the_project_under_the_cancellers_role_when_the_project_is_cancelled(district):
    project = district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]

    project_act(project=project, actor=district.finance, action="cancel", comment="项目终止")

    se.refresh_from_db()
    assert se.status == SelfEvaluationStatus.CANCELLED
    event = AuditEvent.objects.get(action="self_evaluation_cancel", object_id=str(se.pk))
    assert (event.actor_id, event.actor_role, event.comment) == (district.finance.pk, "finance_officer", "项目终止")
    assert open_tasks(se) == set()


@pytest.fixture
def rescored(district):
    """A re-check of an accepted self-evaluation, rescored by the agency: the department's turn."""
    agency = AgencyFactory(name="广州某会计师事务所")
    district.agency_staff.agency = agency
    district.agency_staff.save(update_fields=["agency"])
    district.project(ProjectStage.EXECUTING)
    se = launch(district).created[0]
    se = evaluation.self_evaluation_save(evaluation=se, actor=district.staff_a, submit=True, **entries(se))
    se = evaluation.self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=True)
    evaluation.self_evaluation_review(evaluation=se, actor=district.finance, accept=True)
    sample = evaluation.recheck_sample(
        actor=district.finance, campaign=se.campaign, agency=agency, due_at=due(), self_evaluation_ids=[se.pk]
    )
    recheck = sample.rechecks.get()
    recheck = evaluation.recheck_save(
        recheck=recheck, actor=district.agency_staff, submit=True, opinion="基本属实", lines=entries(se)["lines"]
    )
    assert recheck.status == RecheckStatus.RESCORED
    return recheck


def test_recheck_feedback_is_recorded_under_the_leaders_role_when_a_leader_gives_it(district, rescored):
    evaluation.recheck_feedback(recheck=rescored, actor=district.leader_a, comment="无异议")

    event = AuditEvent.objects.get(action="recheck_feedback")
    assert (event.actor_id, event.actor_role) == (district.leader_a.pk, "dept_leader")
    told = Notification.objects.get(recipient=district.agency_staff, object_type="processes.recheck")
    assert told.kind == "recheck" and told.url == rescored.get_absolute_url()
    # the sample's audit row and the agency's rescoring carry the roles their actors acted in
    assert AuditEvent.objects.get(action="recheck_sample").actor_role == "finance_officer"
    assert AuditEvent.objects.get(action="recheck_rescore").actor_role == "agency_staff"


def test_recheck_actions_offered_are_the_declared_ones_the_user_may_take_when_listed(district, rescored):
    assert [d.name for d in transitions.available(rescored, district.staff_a)] == ["feed_back"]
    assert [d.name for d in transitions.available(rescored, district.leader_a)] == ["feed_back"]
    assert transitions.available(rescored, district.agency_staff) == []
    assert transitions.available(rescored, district.staff_b) == []  # another department
    other_agency = make_user("agency_staff", agency=AgencyFactory(name="另一家事务所"))
    recheck = evaluation.recheck_feedback(recheck=rescored, actor=district.staff_a)
    assert [d.name for d in transitions.available(recheck, district.agency_staff)] == ["finalize"]
    assert transitions.available(recheck, other_agency) == []
