"""Beat schedule: periodic_sync every 5 minutes, cleanup_stale_results hourly."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "periodic-sync": {
        "task": "email_service.tasks.periodic_sync",
        "schedule": 300.0,
        "options": {"queue": "periodic", "expires": 290},
    },
    "cleanup-stale-results": {
        "task": "email_service.tasks.cleanup_stale_results",
        "schedule": crontab(minute=7),
        "options": {"queue": "periodic", "expires": 3500},
    },
}
