"""Environment access for settings: one `env` object, one place that reads os.environ."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for production hosts; the embedded default needs none.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")
