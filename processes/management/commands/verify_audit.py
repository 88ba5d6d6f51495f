"""Walk the audit hash chain and name the first bad row (exit status 1), or confirm it is intact.

The result is stored (AuditVerification) so the auditor's screen shows when the chain was
last verified and what was found.
"""

from django.core.management.base import BaseCommand, CommandError

from processes.audit_trail import record_verification
from processes.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; report the first edited or deleted row."

    def handle(self, *args, **options):
        result = record_verification()
        if not result.intact:
            where = f"#{result.bad_sequence}" if result.bad_sequence is not None else "chain head"
            raise CommandError(f"audit chain broken at {where}: {result.reason}")
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {AuditEvent.objects.count()} events"))
