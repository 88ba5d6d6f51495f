"""The audit trail: one row per transition, hash-chained, append-only, verifiable."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from processes.models import AuditEvent
from processes.services.audit import audit_verify
from processes.states import ProjectStage


def _raw(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)


def test_transition_writes_chained_row_when_submitted(district):
    project = district.project(ProjectStage.SUBMITTED)
    rows = list(AuditEvent.objects.filter(object_id=str(project.pk)).order_by("sequence"))
    assert [r.action for r in rows] == ["create", "submit"]
    submit = rows[-1]
    assert submit.actor == district.staff_a
    assert submit.actor_role == "dept_staff"
    assert (submit.from_state, submit.to_state) == ("draft", "submitted")
    assert submit.prev_hash == AuditEvent.objects.get(sequence=submit.sequence - 1).hash
    assert submit.occurred_at.utcoffset().total_seconds() == 0
    assert audit_verify() is None


def test_rows_cannot_be_changed_through_the_app_when_saved_or_deleted(district):
    district.project(ProjectStage.SUBMITTED)
    event = AuditEvent.objects.last()
    event.comment = "篡改"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(comment="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert audit_verify() is None


def test_verify_names_the_row_when_a_row_is_edited(district):
    district.project(ProjectStage.DEPT_APPROVED)
    target = AuditEvent.objects.order_by("sequence")[1]
    _raw("UPDATE processes_auditevent SET comment = %s WHERE id = %s", ["改过", target.pk])
    problem = audit_verify()
    assert problem is not None and problem.sequence == target.sequence
    assert "edited" in problem.reason
    with pytest.raises(CommandError, match=f"#{target.sequence}"):
        call_command("verify_audit")


def test_verify_names_the_row_when_a_row_is_deleted(district):
    district.project(ProjectStage.DEPT_APPROVED)
    rows = list(AuditEvent.objects.order_by("sequence"))
    _raw("DELETE FROM processes_auditevent WHERE id = %s", [rows[1].pk])
    problem = audit_verify()
    assert problem is not None and problem.sequence == rows[2].sequence
    assert "deleted" in problem.reason


def test_verify_detects_a_deleted_tail_when_the_last_row_is_removed(district):
    district.project(ProjectStage.SUBMITTED)
    last = AuditEvent.objects.order_by("sequence").last()
    _raw("DELETE FROM processes_auditevent WHERE id = %s", [last.pk])
    problem = audit_verify()
    assert problem is not None and "end" in problem.reason


def test_verify_command_reports_intact_when_untouched(district, capsys):
    district.project(ProjectStage.SUBMITTED)
    call_command("verify_audit")
    assert "intact" in capsys.readouterr().out


def test_audit_row_records_the_leaders_role_when_a_leader_withdraws(district):
    from workflows.services import project_act

    project = district.project(ProjectStage.SUBMITTED)
    project_act(project=project, actor=district.leader_a, action="withdraw", comment="不再实施")
    event = AuditEvent.objects.order_by("sequence").last()
    assert (event.action, event.actor_role, event.comment) == ("withdraw", "dept_leader", "不再实施")


def test_the_chain_head_read_compiled_once_continues_the_chain_and_a_missing_head_is_created(district):
    """audit_record reads the chain's head through a query compiled once (issue 20): each
    event continues from the head as the ORM reads it; with no head row at all (an empty chain
    whose head row is missing) the first event creates it, as get_or_create did."""
    from django.db import transaction

    from processes.models import AuditChainHead
    from processes.services.audit import audit_record

    project = district.project(ProjectStage.DRAFT)
    with transaction.atomic():
        first = audit_record(obj=project, action="t1")
        second = audit_record(obj=project, action="t2")
    head = AuditChainHead.objects.get(pk=1)
    assert second.sequence == first.sequence + 1 == head.last_sequence
    assert second.prev_hash == first.hash and head.last_hash == second.hash
    with connection.cursor() as cursor:  # an empty chain without its head row
        cursor.execute("DELETE FROM processes_auditevent")
        cursor.execute("DELETE FROM processes_auditchainhead")
    with transaction.atomic():
        again = audit_record(obj=project, action="t3")
    assert again.sequence == 1 and AuditChainHead.objects.get(pk=1).last_sequence == 1
