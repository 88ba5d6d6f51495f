from django.core.management.base import BaseCommand

from accounts.roles import ROLE_PERMISSIONS, sync_role_groups


class Command(BaseCommand):
    help = "Create or update the role groups and their permissions (DESIGN §1)."

    def handle(self, *args, **options):
        sync_role_groups()
        self.stdout.write(self.style.SUCCESS(f"{len(ROLE_PERMISSIONS)} role groups in step"))
