"""Production settings, as an operator would start them: `manage.py check --deploy` with
config.settings.prod and an environment built from .env.example.

Each check runs in a subprocess with a clean environment (no DATABASE_URL or REDIS_URL
leaking in from the test run), so what is tested is exactly what a host would get.
"""

from __future__ import annotations

import os
import re
import secrets
import string
import subprocess
import sys
from pathlib import Path

from config.env import BASE_DIR

ENV_EXAMPLE = BASE_DIR / ".env.example"
DEPLOYMENT_DOC = BASE_DIR / "docs" / "deployment.md"
SETTINGS_READING_ENV = [BASE_DIR / "config" / "settings" / "base.py", BASE_DIR / "config" / "settings" / "prod.py"]

CHECK_ID = re.compile(r"\(([a-z_]+\.[CEIW]\d{3})\)")
ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["'](\w+)["']""")
# No "$": django-environ would treat the value as a reference to another variable.
SECRET_ALPHABET = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def documented_check_ids() -> set[str]:
    """The check ids the deployment doc's `check --deploy` section accounts for."""
    text = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    match = re.search(r"^## `manage\.py check --deploy`\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "docs/deployment.md has no '## `manage.py check --deploy`' section"
    return set(re.findall(r"`([a-z_]+\.[CEIW]\d{3})`", match.group(1)))


def sample_environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT") if k in os.environ}
    env.update(env_example())
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        SECRET_KEY="".join(secrets.choice(SECRET_ALPHABET) for _ in range(60)),
        ALLOWED_HOSTS="jixiao.example.gov.cn",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DEFAULT_FROM_EMAIL="jixiao@example.gov.cn",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        ENV_FILE=str(tmp_path / "no.env"),  # a developer's own .env must not leak in
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def deploy_check(env: dict[str, str]) -> tuple[set[str], str]:
    result = manage(env, "check", "--deploy")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified" in output, output
    return set(CHECK_ID.findall(output)), output


def test_deploy_check_reports_only_documented_warning_when_env_is_the_example(tmp_path):
    reported, output = deploy_check(sample_environment(tmp_path))

    assert reported == {"security.W021"}, output  # SECURE_HSTS_PRELOAD=false, by choice
    assert reported <= documented_check_ids(), output
    assert "(1 silenced)" in output, output  # axes.W006, decision 0003


def test_deploy_check_reports_nothing_when_hsts_preload_is_on(tmp_path):
    reported, output = deploy_check(sample_environment(tmp_path, SECURE_HSTS_PRELOAD="true"))

    assert reported == set(), output
    assert "no issues (1 silenced)" in output, output


def test_silenced_checks_are_documented():
    from django.conf import settings

    assert set(settings.SILENCED_SYSTEM_CHECKS) <= documented_check_ids()


def test_prod_refuses_to_start_when_secret_key_is_missing(tmp_path):
    env = sample_environment(tmp_path)
    del env["SECRET_KEY"]

    # every process (daphne, celery, manage.py) starts with django.setup(); manage.py itself
    # swallows a settings error for some commands, so the start-up is tested directly
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_env_example_lists_exactly_the_variables_settings_read():
    read = {name for path in SETTINGS_READING_ENV for name in ENV_READ.findall(path.read_text(encoding="utf-8"))}
    listed = set(env_example())

    assert read - listed == set(), "read by settings but missing from .env.example"
    assert listed - read == set(), "listed in .env.example but read by no setting"
