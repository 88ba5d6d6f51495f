"""Reminders and escalation with the clock moved (time-machine): the exact schedule, no
second send on a rerun, catch-up after a gap with one summary per person, an extension
moving the schedule."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from notifications.models import Notification
from processes.models import ReminderSent
from processes.services.reminders import reminders_send

from .test_rectification import findings, issue  # noqa: F401  (fixtures)


def told(user):
    return list(Notification.objects.filter(recipient=user, kind__in=["reminder", "escalation"]).order_by("pk"))


def test_reminders_follow_the_schedule_once_each_and_escalate_when_overdue(district, findings):  # noqa: F811
    start = timezone.now()
    rectification = issue(district, findings, deadline=start + timedelta(days=10))
    deadline = rectification.deadline
    with time_machine.travel(start, tick=False):
        assert reminders_send().sent == 0
    with time_machine.travel(deadline - timedelta(days=7), tick=False):
        assert reminders_send().sent == 1
        assert reminders_send().sent == 0  # a rerun sends nothing
    assert [n.verb for n in told(district.staff_a)] == ["提醒：%(title)s 将于 %(deadline)s 到期"]
    with time_machine.travel(deadline - timedelta(days=3), tick=False):
        reminders_send()
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        reminders_send()
    kinds = [n.params.get("days") for n in told(district.staff_a)]
    assert len(kinds) == 3 and kinds[-1] == 1
    escalations = told(district.supervisor)
    assert [n.kind for n in escalations] == ["escalation"]
    assert escalations[0].params["department"] == district.dept_a.name
    # before-1 and due-day were passed over by the jump: recorded as caught up, not sent
    caught = set(ReminderSent.objects.filter(caught_up=True).values_list("slot", flat=True))
    assert caught == {"before-1", "due-day"}


def test_a_scheduler_back_after_a_gap_sends_one_summary_per_person(district, findings):  # noqa: F811
    start = timezone.now()
    first = issue(district, findings[:1], deadline=start + timedelta(days=5))
    issue(district, findings[1:], deadline=start + timedelta(days=6))
    with time_machine.travel(first.deadline + timedelta(days=4), tick=False):
        sweep = reminders_send()
    assert sweep.sent == 2 and sweep.caught_up > 0
    staff = told(district.staff_a)
    assert len(staff) == 1 and staff[0].params["count"] == 2
    assert len(told(district.supervisor)) == 1


def test_an_extension_moves_the_schedule(district, findings):  # noqa: F811
    from processes.services.rectification import extension_decide, extension_request

    start = timezone.now()
    rectification = issue(district, findings, deadline=start + timedelta(days=8))
    with time_machine.travel(rectification.deadline - timedelta(days=7), tick=False):
        reminders_send()
    ask = extension_request(
        rectification=rectification,
        actor=district.staff_a,
        reason="待决算",
        proposed_deadline=rectification.deadline + timedelta(days=30),
    )
    extension_decide(extension=ask, actor=district.supervisor, grant=True)
    rectification.refresh_from_db()
    with time_machine.travel(rectification.original_deadline + timedelta(hours=1), tick=False):
        assert reminders_send().sent == 0  # the old deadline passed: nothing, it no longer counts
    with time_machine.travel(rectification.deadline - timedelta(days=7), tick=False):
        assert reminders_send().sent == 1
    assert len(told(district.staff_a)) == 2 and told(district.supervisor) == []


def test_a_recheck_reminds_whoever_moves_next(district):
    from accounts.models import Agency
    from processes.services.evaluation import recheck_sample, recheck_submit
    from processes.states import ProjectStage

    from .test_evaluation import accepted, agency, launch  # noqa: F401

    firm = Agency.objects.create(name="评价事务所", credit_code="91440101MA59PJ0020")
    district.agency_staff.agency = firm
    district.agency_staff.save(update_fields=["agency"])
    project = district.project(ProjectStage.EXECUTING)
    campaign = launch(district).campaign
    se = accepted(district, project)
    due = timezone.now() + timedelta(days=10)
    sample = recheck_sample(
        actor=district.finance, campaign=campaign, agency=firm, due_at=due, self_evaluation_ids=[se.pk]
    )
    with time_machine.travel(due - timedelta(days=7), tick=False):
        reminders_send()
    assert [n.params["title"] for n in told(district.agency_staff)] == [f"复核：{project.name}"]
    assert told(district.staff_a) == []
    recheck_submit(recheck=sample.rechecks.get(), actor=district.agency_staff, opinion="意见")
    with time_machine.travel(due - timedelta(days=3), tick=False):
        reminders_send()
    assert len(told(district.staff_a)) == 1 and len(told(district.agency_staff)) == 1
