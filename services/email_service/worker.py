"""Celery entry point: `celery -A email_service.worker worker -Q sync` (and beat, flower)."""

import os
import sys

from email_service.ops.flower_guard import require_flower_auth
from email_service.tasks.celery_app import celery_app

require_flower_auth(sys.argv, os.environ)

app = celery_app
