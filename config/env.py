"""Environment access for settings: one `env` object, one place that reads os.environ."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for production hosts, read by the prod settings only: a
# developer's .env must never point `make test` or `make run` at a production server.
# ENV_FILE names another file (a test points it at none).
ENV_FILE = Path(os.environ.get("ENV_FILE", BASE_DIR / ".env"))
if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".prod") and ENV_FILE.exists():
    environ.Env.read_env(ENV_FILE)
