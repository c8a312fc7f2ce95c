"""Beat schedule: periodic_sync every 5 minutes, cleanup_stale_results hourly."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

PERIODIC_SYNC_SECONDS = 300
# Ticks closer together than this count as duplicates (a second beat). 80 % of the interval: a tick
# that ran more than a minute late can make the next regular one a duplicate, delaying syncs one tick.
PERIODIC_SYNC_WINDOW_SECONDS = PERIODIC_SYNC_SECONDS * 4 // 5
CLEANUP_WINDOW_SECONDS = 3000

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "periodic-sync": {
        "task": "email_service.tasks.periodic_sync",
        "schedule": float(PERIODIC_SYNC_SECONDS),
        "options": {"queue": "periodic", "expires": PERIODIC_SYNC_SECONDS - 10},
    },
    # Webhook deliveries whose attempt is due but whose message is not queued (broker down, long waits).
    "sweep-webhooks": {
        "task": "email_service.tasks.sweep_webhooks",
        "schedule": 30.0,
        "options": {"queue": "periodic", "expires": 25},
    },
    "cleanup-stale-results": {
        "task": "email_service.tasks.cleanup_stale_results",
        "schedule": crontab(minute=7),
        "options": {"queue": "periodic", "expires": 3500},
    },
}
