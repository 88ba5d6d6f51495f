"""Test settings. SQLite in memory unless DATABASE_URL names a real server (CI's PostgreSQL run)."""

from config.env import env

from .base import *  # noqa: F403

SECRET_KEY = "test-secret-key-not-for-production"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES = {"default": server_prepared(env.db("DATABASE_URL", default="sqlite://:memory:"))}  # noqa: F405 (as production)
if env("REDIS_URL", default=""):
    CHANNEL_LAYERS = {"default": redis_channel_layer(env("REDIS_URL"))}  # noqa: F405
AXES_ENABLED = True
SESSION_WEBSOCKET_CHECK_SECONDS = 1
LANGUAGE_CODE = "zh-hans"
# Uploads of a test run go to a throw-away directory.
PRIVATE_MEDIA_ROOT = str(__import__("tempfile").mkdtemp(prefix="jixiao-private-"))

MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405
