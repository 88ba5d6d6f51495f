"""Embedded default: SQLite, in-process channel layer, console e-mail, eager background work."""

from .base import *  # noqa: F403

DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
EMBEDDED_SCHEDULER = True
# Background jobs (imports, launches) run in a thread: no broker in the embedded default.
JOBS_IN_THREAD = True

# runserver (daphne's) serves static files itself in DEBUG; WhiteNoise is for production.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405
