"""Benchmarks (`make bench`, bench/run.py): the production code paths on the benchmark's
own throwaway database, served by daphne as in production.

Differs from base only where a benchmark must:
- DATABASE_URL is required: bench/run.py points it at the database it created (a temp
  SQLite file, or ``jixiao_bench`` on the PostgreSQL server of the caller's DATABASE_URL);
- passwords use a fast hasher: logins are set up before the clock starts, never measured;
- e-mail goes to memory; its Celery task runs eagerly in the request, except in the
  servers bench/http.py starts with REDIS_URL set, which queue it on Redis for the
  worker started beside them, as production does, and in the benchmark's own process
  inside bench/mail.py's ``Mail.production()`` (REDIS_URL set: published, then purged);
- the channel layer is Redis when REDIS_URL is set (as in production), else in memory;
- the servers it starts (BENCH_SERVER=1) borrow PostgreSQL connections from a pool, as
  production does; the benchmark process itself does not (an open connection would
  keep it from copying and dropping its snapshot databases);
- the outermost middleware counts each request's SQL statements into a response header
  (``X-Bench-Statements``), read by the HTTP scenarios. It exists in these settings only.
"""

from config.env import env

from .base import *  # noqa: F403

SECRET_KEY = "bench-secret-key-not-for-production"
DATABASES = {"default": sqlite_tuned(env.db("DATABASE_URL"))}  # noqa: F405 (as base.py)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if env.bool("BENCH_SERVER", default=False):  # the servers bench/http.py starts: as production
    pooled(DATABASES["default"], env.int("DATABASE_POOL_SIZE", default=10))  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if env("REDIS_URL", default=""):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [env("REDIS_URL")]},
        }
    }
    if env.bool("BENCH_SERVER", default=False):  # bench/http.py starts a worker beside them
        CELERY_BROKER_URL = env("REDIS_URL")
        CELERY_TASK_ALWAYS_EAGER = False
MEDIA_ROOT = env("MEDIA_ROOT", default=MEDIA_ROOT)  # noqa: F405
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT", default=PRIVATE_MEDIA_ROOT)  # noqa: F405

# No static files are requested (and var/static need not exist): WhiteNoise is left out.
MIDDLEWARE = [
    "bench.middleware.StatementCountMiddleware",
    *(m for m in MIDDLEWARE if not m.startswith("whitenoise")),  # noqa: F405
]
if env.bool("BENCH_PROFILE", default=False):  # bench/profile.py's servers: the profiler, not the counter
    MIDDLEWARE = ["bench.profiling.ProfileMiddleware", *MIDDLEWARE[1:]]
