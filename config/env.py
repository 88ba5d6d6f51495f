"""Environment access for settings: one `env` object, one place that reads os.environ."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for production hosts, read by the prod settings only: a
# developer's .env must never point `make test` or `make run` at a production server.
if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".prod") and (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")
