"""Set a temporary password for an account from the server's shell."""

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.passwords import acting_operator


class Command(BaseCommand):
    help = (
        "Set a temporary password for USERNAME (a random one unless --password is given). "
        "The user must change it at the next login and is told by e-mail; the act is an "
        "audit event naming the operating-system user who ran this command; the user's API "
        "tokens are revoked."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="the temporary password (default: a random one, printed once)")

    def handle(self, *args, **options):
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"no account named {options['username']!r}") from None
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        with acting_operator():
            user.set_password(password)
            user.save()
        self.stdout.write(
            self.style.SUCCESS(f"temporary password set for {user.username}; it must be changed at the next login")
        )
        if not options["password"]:
            self.stdout.write(password)
