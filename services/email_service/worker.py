"""Celery entry point: `celery -A email_service.worker worker -Q sync` (and beat, flower)."""

import sys

from email_service.core.config_launch import environ
from email_service.ops.flower_guard import require_flower_auth
from email_service.tasks.celery_app import celery_app

require_flower_auth(sys.argv, environ())

app = celery_app
