"""Production: every secret and address comes from the environment (see .env.example)."""

from config.env import env

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
DATABASES = {"default": pooled(env.db("DATABASE_URL"), env.int("DATABASE_POOL_SIZE", default=10))}  # noqa: F405
DATABASES["default"]["ATOMIC_REQUESTS"] = False

REDIS_URL = env("REDIS_URL")
CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL)}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False
EMBEDDED_SCHEDULER = False
# One run per period of each periodic task however many beats run (config/beat_lock.py).
PERIODIC_TASK_LOCK = True
# The e-mail outbox's timings (config/settings/base.py explains them). A site may change
# them; the production suite shortens them so its recoveries fit in CI (docs/operations.md).
NOTIFICATION_EMAIL_LEASE_SECONDS = env.int("NOTIFICATION_EMAIL_LEASE_SECONDS", default=NOTIFICATION_EMAIL_LEASE_SECONDS)  # noqa: F405
NOTIFICATION_EMAIL_SWEEP_AFTER = env.int("NOTIFICATION_EMAIL_SWEEP_AFTER", default=NOTIFICATION_EMAIL_SWEEP_AFTER)  # noqa: F405
CELERY_BEAT_SCHEDULE = {  # noqa: F405
    **CELERY_BEAT_SCHEDULE,  # noqa: F405
    "sweep-notification-emails": {
        **CELERY_BEAT_SCHEDULE["sweep-notification-emails"],  # noqa: F405
        "schedule": env.float("NOTIFICATION_EMAIL_SWEEP_SECONDS", default=60.0),
    },
}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # whitenoise's compressed manifest, strict except for viewflow's unused font stylesheet
    # that names fonts its package does not ship (config/storage.py)
    "staticfiles": {"BACKEND": "config.storage.LenientThirdPartyManifestStorage"},
}
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))  # noqa: F405

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
