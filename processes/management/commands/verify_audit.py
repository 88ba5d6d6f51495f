"""Walk the audit hash chain and name the first bad row (exit status 1), or confirm it is intact."""

from django.core.management.base import BaseCommand, CommandError

from processes.models import AuditEvent
from processes.services.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; report the first edited or deleted row."

    def handle(self, *args, **options):
        problem = audit_verify()
        if problem is not None:
            raise CommandError(f"audit chain broken at {problem}")
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {AuditEvent.objects.count()} events"))
