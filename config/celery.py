"""Celery application. Production runs `celery -A config worker` and `celery -A config beat`;
the embedded default runs tasks eagerly and the beat schedule in-process (jixiao.scheduler)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("jixiao")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
