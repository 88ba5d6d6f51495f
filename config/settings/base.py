"""Settings shared by every mode. dev/test/prod override only what they must."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = False
ALLOWED_HOSTS: list[str] = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "viewflow",
    "viewflow.workflow",
    # ours; imports point workflows -> processes -> notifications -> accounts; reports -> processes
    "accounts",
    "notifications",
    "processes",
    "reports",
    "workflows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "processes.audit_context.AuditContextMiddleware",
    # a domain error a screen did not catch: 409/503/400 with its message, as the API answers
    "processes.middleware.DomainErrorMiddleware",
    # after authentication: who changes accounts; a temporary password must be changed first
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    # the congress reader (人大预算工委) reads the reports and nothing else (decision 0026)
    "accounts.middleware.CongressReaderScopeMiddleware",
    # the request's WebSocket pushes (after commit) sent together at its end: one thread hop
    "notifications.middleware.PushesTogetherMiddleware",
    # axes last, as its documentation asks
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # flows take their own locks; see docs/architecture.md


def sqlite_tuned(database: dict) -> dict:
    """SQLite (the embedded default), for concurrent requests:
    - a transaction takes the write lock when it begins and waits for it (up to 20 s):
      with SQLite's deferred BEGIN, two requests writing at once failed at once with
      "database is locked" (500), as the benchmark's concurrent completions did;
    - writers take turns in a queue before they BEGIN (config/sqlite/base.py): SQLite's
      own waiting, a sleep-and-retry, left one writer in twenty waiting seconds;
    - write-ahead logging: pages are read while a transaction writes (the rollback
      journal made every reader wait for each commit), and a commit is one append and
      one fsync of the log; synchronous=FULL keeps every committed transaction across a
      power cut.
    PostgreSQL: unchanged."""
    if database["ENGINE"].endswith("sqlite3"):
        database["ENGINE"] = "config.sqlite"
        database.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
            }
        )
    return database


sqlite_tuned(DATABASES["default"])


def pooled(database: dict, max_size: int) -> dict:
    """PostgreSQL through a pool of open connections (psycopg_pool; Django ≥ 5.1). Under
    ASGI every request runs in a thread of its own, so a persistent connection
    (CONN_MAX_AGE) is never handed to the next request: each one opened a connection —
    a server process and a password exchange, about 13 ms of the 21 ms a trivial
    signed-in page took on PostgreSQL (docs/performance.md). A request borrows one from
    the pool instead, waiting up to 30 s when all ``max_size`` are busy. SQLite: unchanged."""
    if database["ENGINE"].endswith("postgresql"):
        database["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django may not
        database.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": max_size, "timeout": 30}
    return server_prepared(database)


def server_prepared(database: dict) -> dict:
    """PostgreSQL: parameters bound by the server, and a statement a connection has run
    ``prepare_threshold`` times kept prepared on it (psycopg 3; Django's default is
    neither: parameters inlined by the client, nothing prepared). A pooled connection
    runs the same few statements for every page, and PostgreSQL parsed and planned each
    one every time — 2–3 ms of the inbox's, project list's and board's 4–9 ms of SQL
    (issue 20, docs/performance.md "pages on PostgreSQL (fourth pass)"). psycopg keeps
    up to 100 per connection and forgets them itself after a DROP or ALTER on that
    connection; the threshold (psycopg's own default) leaves one-off statements
    unprepared. The tests on PostgreSQL run with it too (config/settings/test.py).
    SQLite: unchanged."""
    if database["ENGINE"].endswith("postgresql"):
        database.setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
    return database


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workflows:inbox"
LOGOUT_REDIRECT_URL = "login"

# An idle session ends after SESSION_IDLE_MINUTES: a request renews it, at most once every
# SESSION_RENEW_SECONDS (accounts.middleware.SessionRenewalMiddleware).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_RENEW_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# How often an open WebSocket re-checks that its session is still alive.
SESSION_WEBSOCKET_CHECK_SECONDS = 60
# API tokens (accounts.authentication) end after API_TOKEN_IDLE_MINUTES unused, and
# API_TOKEN_MAX_AGE_HOURS after they were issued, whichever is first; logout and a
# password change end them too. Last use is written at most once every
# API_TOKEN_RENEW_SECONDS (docs/decisions/0016-accounts-separation-of-duties.md).
API_TOKEN_IDLE_MINUTES = env.int("API_TOKEN_IDLE_MINUTES", default=30)
API_TOKEN_MAX_AGE_HOURS = env.int("API_TOKEN_MAX_AGE_HOURS", default=12)
API_TOKEN_RENEW_SECONDS = 60

# django-axes: repeated login failures lock the account for a while.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Every upload (reports, evidence, job input files) lives in PRIVATE_MEDIA_ROOT, outside
# the web root, and is served only by views that check who may see its object
# (processes.files, decision 0015); no URL serves MEDIA_ROOT. MEDIA_ROOT is only where
# files uploaded before that were kept: migration processes.0017 moves them to the private
# root. MEDIA_URL stays unused (Django wants one different from STATIC_URL).
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="jixiao@localhost")

# Any: test and prod add a "CONFIG" dict beside "BACKEND".
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def redis_channel_layer(url: str) -> dict[str, Any]:
    """The Channels layer on Redis at ``url`` (production, and the tests marked redis).

    channels-redis waits for a socket's next message with a blocking read (BZPOPMIN) of
    ``brpop_timeout`` (5 s), on a connection whose ``socket_timeout`` redis-py 8 sets to 5 s
    by default: the read timed out first and every idle WebSocket was closed with 1011
    ("Timeout reading from …") after ~5.7 s. The socket timeout is kept well above the
    blocking read; TCP keepalive (redis-py's idle 30 s / interval 5 s / 3 probes) and a
    PING before a command on a connection idle for 15 s find a dead connection (a Redis
    restart) before a push is written into it; connecting gives up after 5 s. A command
    that meets a connection the server closed (a pooled connection from before a Redis
    restart) is sent once more on a new one: redis-py retries nothing by default, and every
    socket's first join after a restart failed until the pool's stale connections were used
    up (tests/infra/test_redis_outage.py)."""
    from channels_redis.core import RedisChannelLayer
    from redis.exceptions import ConnectionError as RedisConnectionError

    host = {
        "address": url,
        "socket_timeout": RedisChannelLayer.brpop_timeout + 10,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": 15,
        "retry_on_error": [RedisConnectionError],
    }
    return {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}


# Celery: production runs a worker and beat on Redis; the embedded default runs tasks
# eagerly and fires the periodic ones from an in-process scheduler (jixiao scheduler).
CELERY_BROKER_URL = env("REDIS_URL", default="memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged when it has run, not when a worker takes it: a worker killed
# mid-task leaves it in the broker's unacked set, redelivered after the visibility timeout
# (a child process lost: at once). A worker reserves one task at a time beyond those it
# runs. Every task is idempotent (e-mails: the outbox's leases; jobs: their queued →
# running claim), since a task still running after the visibility timeout is delivered
# again. See docs/decisions/0012.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # > NOTIFICATION_EMAIL_LEASE_SECONDS: a redelivered e-mail task finds its leases expired
    "visibility_timeout": 300,
    # kombu's blocking read is 1 s; a publish to a Redis that hangs gives up after 5 s
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
}
# Queuing after a commit is not worth a long wait: the outbox's sweep sends what failed to queue.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.25, "interval_max": 0.5}
# The e-mail outbox (notifications.tasks): a sender leases a chunk of notices for this long
# while it sends them; one SMTP exchange may take up to EMAIL_TIMEOUT, so a chunk of
# NOTIFICATION_EMAIL_CHUNK takes at most 10 × 10 s = 100 s < 120 s. The sweep takes a notice
# NOTIFICATION_EMAIL_SWEEP_AFTER seconds after it was written, when its task has not sent it.
NOTIFICATION_EMAIL_LEASE_SECONDS = 120
NOTIFICATION_EMAIL_CHUNK = 10
NOTIFICATION_EMAIL_SWEEP_AFTER = 30
EMAIL_TIMEOUT = 10
CELERY_BEAT_SCHEDULE = {
    # E-mails of notifications whose task was never queued, lost or failed (outbox).
    "sweep-notification-emails": {"task": "notifications.tasks.sweep_notification_emails", "schedule": 60.0},
    "fire-workflow-timers": {"task": "workflows.tasks.fire_timers", "schedule": 60.0},
    "sweep-pre-assessments": {"task": "workflows.tasks.sweep_pre_assessments", "schedule": 300.0},
    # Deadline reminders and escalation (the browser test shortens the interval).
    "send-reminders": {
        "task": "processes.tasks.send_reminders",
        "schedule": env.float("REMINDER_SWEEP_SECONDS", default=60.0),
    },
}
# The embedded scheduler (dev) runs the same schedule in a thread of the web process.
EMBEDDED_SCHEDULER = False

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an unauthenticated request a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "processes.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # Decimals as strings everywhere, also those no DecimalField rendered (processes/api/renderers.py).
    "DEFAULT_RENDERER_CLASSES": [
        "processes.api.renderers.DecimalStringJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Jixiao 绩效 API",
    "DESCRIPTION": "Budget performance workflow of a district finance bureau.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # processes/converters.py: <id:pk> is an integer of at most 18 digits, <year:year> of 4.
    # processes/api/schema.py: the 404 of a page past the end, on every paginated list.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "processes.api.schema.document_page_not_found",
    ],
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
        "year": {"type": "integer", "minimum": 0, "maximum": 9999},
    },
}

# Content-Security-Policy (django-csp 4; decision 0015): scripts and styles from this site's
# files only — no inline <script>, no on*= handlers, no style attributes or <style> blocks
# in templates/ (data goes to static/js through json_script or data- attributes). The
# middleware (config.csp) adds this host's ws:/wss: origin to connect-src for the live
# notifications' WebSocket. The Swagger UI's init script is a file (config.csp.SwaggerView).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "config.csp.JixiaoCSPMiddleware"
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # Django's own "django" logger has a console handler of its own; stopping propagation
    # keeps each line (e.g. daphne's request log) from printing twice.
    "loggers": {
        "jixiao": {"level": "INFO"},
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def gettext_noop(message: str) -> str:
    """Marks a message id for makemessages. Django's own gettext_noop reads settings, which
    must not happen while settings load (it would swallow a missing SECRET_KEY)."""
    return message


# Business settings of the bureau (DESIGN §3.1). Amounts are yuan, Decimal.
JIXIAO: dict[str, Any] = {
    # Fiscal years (预算年度) a project, campaign, round or imported history may have, both
    # ends included; every form, API and service refuses others (processes/fiscal_years.py).
    "FISCAL_YEAR_RANGE": (2000, 2100),
    # Pre-assessment is required at or above these amounts (Yuexiu: 400万 / 500万).
    "PRE_ASSESSMENT_THRESHOLD": {
        "recurring": Decimal("4000000.00"),
        "one_off": Decimal("5000000.00"),
    },
    # Pre-assessment review panel (DESIGN §3.2): size and make-up. Sector experts (specialty =
    # the project's category) are at least `sector_share` of the panel; experts whose
    # specialty is one of `general_specialties` fit any project without counting as sector.
    "PANEL": {
        "size": 5,
        "min_experts": 3,
        "min_deputies": 1,
        "sector_share": Decimal("0.5"),
        "general_specialties": ["finance"],
    },
    # Opinion score sheet (DESIGN §3.2): dimension code, label (a message id), points.
    "OPINION_DIMENSIONS": [
        {"code": "necessity", "label": gettext_noop("立项必要性"), "points": 20},
        {"code": "economy", "label": gettext_noop("投入经济性"), "points": 20},
        {"code": "targets", "label": gettext_noop("绩效目标合理性"), "points": 20},
        {"code": "feasibility", "label": gettext_noop("实施方案可行性"), "points": 20},
        {"code": "funding", "label": gettext_noop("筹资合规性"), "points": 20},
    ],
    # At the opinion due date the review moves on once this many opinions are in.
    "OPINION_QUORUM": 3,
    # Working time given to each human task of the intake flow, in days.
    "TASK_DUE_DAYS": {
        "dept_review": 5,
        "finance_intake": 10,
        "draw_panel": 3,
        "propose_conclusion": 10,
        "confirm_conclusion": 5,
        "fill_targets": 10,
        "review_targets": 5,
        "rate_targets": 10,
        "fill_monitoring": 10,
        "review_monitoring_dept": 3,
        "review_monitoring": 7,
        "dispose_monitoring": 7,
        "fill_self_evaluation": 10,  # after a return; the first is the campaign's due date
        "review_self_evaluation_dept": 5,
        "accept_self_evaluation": 10,
    },
    # Monitoring lights (DESIGN §3.4), in percent of the time pace: below red_below red,
    # below yellow_below yellow, else green; ≥ indicators at or above blue_from blue.
    "MONITORING": {
        "LIGHTS": {"red_below": Decimal("60"), "yellow_below": Decimal("80"), "blue_from": Decimal("120")},
    },
    # Target rows (DESIGN §3.3): weights sum to WEIGHT_TOTAL; quantitative (≥ ≤ =) and
    # qualitative rows together take a share of it within these bounds; every version
    # needs at least one row of each REQUIRED_LEVEL1 (产出, 效益).
    "TARGETS": {
        "WEIGHT_TOTAL": Decimal("100"),
        "WEIGHTS": {
            "quantitative": {"min": Decimal("60"), "max": Decimal("100")},
            "qualitative": {"min": Decimal("0"), "max": Decimal("40")},
        },
        "REQUIRED_LEVEL1": ["output", "effect"],
        "MAX_ROWS": 60,
    },
    # Evaluation (DESIGN §3.5, §3.7). Score-sheet section weights (points of 100); the
    # default framework of a key or department evaluation (决策 / 过程 / 产出 / 效益); the
    # next year's budget recommendation of each grade (action, label, cut in percent).
    "EVALUATION": {
        "WEIGHTS": {
            "execution": Decimal("10"),
            "output": Decimal("50"),
            "outcome": Decimal("30"),
            "satisfaction": Decimal("10"),
        },
        "FRAMEWORK": {
            "decision": Decimal("20"),
            "process": Decimal("20"),
            "output": Decimal("30"),
            "outcome": Decimal("30"),
        },
        "RECOMMENDATIONS": {
            "excellent": {"action": "priority", "label": gettext_noop("优先保障"), "cut_percent": Decimal("0")},
            "good": {"action": "keep", "label": gettext_noop("保持预算规模"), "cut_percent": Decimal("0")},
            "fair": {"action": "cut", "label": gettext_noop("压减预算"), "cut_percent": Decimal("10")},
            "poor": {"action": "cancel", "label": gettext_noop("取消或调整用途"), "cut_percent": Decimal("100")},
        },
    },
    # Reminders (DESIGN §3.6): days before a deadline, then every EVERY_DAYS once overdue;
    # an item due within SOON_DAYS shows as due soon. Overdue rectifications always escalate
    # to the supervisors; overdue flow tasks, re-checks and commissioned evaluations too
    # unless ESCALATE_TASKS is off (env ESCALATE_OVERDUE_TASKS=false; on by default, issue 17).
    # PANEL_REMIND_HOURS: an agency reminds a panel member of a missing opinion at most once
    # in this many hours (decision 0018).
    "REMINDERS": {
        "BEFORE_DAYS": [7, 3, 1],
        "EVERY_DAYS": 3,
        "SOON_DAYS": 3,
        "ESCALATE_TASKS": env.bool("ESCALATE_OVERDUE_TASKS", default=True),
        "PANEL_REMIND_HOURS": 24,
    },
    # Results application (DESIGN §3.7): an earlier one-off project graded 差 warns a new
    # submission whose name is this alike (difflib ratio, 0–1, years and spaces ignored),
    # and only within the same category when SIMILAR_SAME_CATEGORY.
    "RESULTS": {"SIMILAR_NAME_RATIO": 0.6, "SIMILAR_SAME_CATEGORY": True},
    # Rectification (DESIGN §3.6): the deadline given when none is chosen, in days.
    "RECTIFICATION": {"DEADLINE_DAYS": 30},
    # The district whose bureau runs the system, as its reports and summary tables name it
    # ("2020 年度荔湾区财政支出项目绩效自评复核汇总表"); shown through gettext, so a catalog
    # may give its English name.
    "DISTRICT_NAME": gettext_noop("荔湾区"),
    # The categories of a finding (评价发现问题的类别, issue 19): code and label (a message id).
    # The finding forms and API ask for one; the annual report counts findings by them
    # (存在的问题). A code once used should stay in the list (past findings keep it).
    "FINDING_CATEGORIES": [
        {"code": "targets", "label": gettext_noop("目标设置")},
        {"code": "funds", "label": gettext_noop("资金管理")},
        {"code": "implementation", "label": gettext_noop("项目实施")},
        {"code": "management", "label": gettext_noop("绩效管理")},
    ],
    # Uploaded files (reports, evidence): largest accepted, in bytes.
    "UPLOAD_MAX_BYTES": 20 * 1024 * 1024,
    # Indicator library imports (DESIGN §2): largest file accepted, in bytes.
    "INDICATOR_IMPORT_MAX_BYTES": 20 * 1024 * 1024,
}
# Long actions (imports, campaign launches) run as background jobs: in a thread of the web
# process when True (the embedded default, no broker), else as Celery tasks (production),
# or inline when Celery is eager and this is False (tests).
JOBS_IN_THREAD = False
# Execution data from the budget system (docs/processes/execution-data.md): a periodic task
# imports each treasury file dropped in this folder once (payments-*.xlsx|csv, payment-plans-*),
# as this finance officer, and moves it to done/ or failed/ (with its errors). Empty: off.
JIXIAO_PAYMENTS_DROP_DIR = env("JIXIAO_PAYMENTS_DROP_DIR", default="")
JIXIAO_PAYMENTS_IMPORT_USER = env("JIXIAO_PAYMENTS_IMPORT_USER", default="")
CELERY_BEAT_SCHEDULE["import-payment-drops"] = {
    "task": "processes.tasks.import_payment_drops",
    "schedule": env.float("JIXIAO_PAYMENTS_DROP_SECONDS", default=3600.0),
}
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# axes.W006 asks to lock by IP address too. A bureau's staff share a few NAT addresses,
# so an IP lock would shut out a whole department after one person's typos; we lock the
# account (username) as the issue asks. See docs/decisions/0003-login-lockout.md.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
