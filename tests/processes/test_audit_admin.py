from django.urls import reverse

from processes.models import AuditEvent
from processes.states import ProjectStage
from tests.factories import make_user


def test_auditor_reads_but_cannot_change_audit_rows_when_in_admin(client, district):
    district.project(ProjectStage.SUBMITTED)
    auditor = make_user("auditor", is_staff=True)
    client.force_login(auditor)
    event = AuditEvent.objects.first()
    assert client.get(reverse("admin:processes_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:processes_auditevent_change", args=[event.pk])).status_code == 200
    assert (
        client.post(reverse("admin:processes_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_sysadmin_cannot_read_audit_rows_when_in_admin(client, district):
    sysadmin = make_user("sysadmin", is_staff=True)
    client.force_login(sysadmin)
    assert client.get(reverse("admin:processes_auditevent_changelist")).status_code == 403
