"""Delivering events: claim a due delivery, POST it signed, record the attempt, schedule the next.

Work is by delivery id (the task's only arguments). A claim is a conditional update that moves the
row's next_attempt_at past the attempt's timeout, so the after-commit publish, a retry and the beat
sweep never post the same attempt twice at once; a worker that dies mid-attempt leaves the row due
again once that lease passes (the receiver then sees the same webhook-id again: at least once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.model_base import utcnow
from email_service.events.webhooks import http_post, schedule, signing, slots
from email_service.events.webhooks.model import DELIVERED, FAILED, PENDING, Webhook, WebhookDelivery
from email_service.events.webhooks.notice import notify_disabled

log = logging.getLogger(__name__)
TASK_KIND = "deliver_webhooks"
BATCH = 50  # delivery ids per task message
LEASE_MARGIN_SECONDS = 30
BUSY_RETRY_SECONDS = 1.0
MAX_COUNTDOWN_SECONDS = 600  # longer waits are left to the sweep (a countdown is held unacked)
# A countdown's message can fire a few milliseconds before the row's next_attempt_at: without this
# slack its claim would miss and the retry wait until the next sweep.
EARLY_SLACK_SECONDS = 1.0
SWEEP_LIMIT = 5000


def secret_context(webhook_id: str) -> str:
    return f"webhook:{webhook_id}"


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    webhook_id: str
    url: str
    secret: str
    body: bytes
    timestamp: int
    attempt: int


def publish_deliveries(delivery_ids: Iterable[str], countdown: float | None = None) -> None:
    """Queue deliveries; a broker that is down only delays them until the sweep (never raises)."""
    from email_service.core.tasking.start import BROKER_DOWN, publish_system_task  # Celery

    ids = list(delivery_ids)
    options = {"countdown": countdown} if countdown else {}
    for start in range(0, len(ids), BATCH):
        try:
            publish_system_task(TASK_KIND, {"delivery_ids": ids[start : start + BATCH]}, **options)
        except BROKER_DOWN as exc:
            log.warning("%d webhook deliveries not queued (the sweep will): %s", len(ids), exc)
            return


def _claim(delivery_id: str, lease_seconds: float) -> Claimed | None:
    """The claimed attempt, or None when the delivery is not (or no longer) this run's to make."""
    now = utcnow()
    with session_scope(system=True) as session:
        row = session.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now + timedelta(seconds=EARLY_SLACK_SECONDS),
                Webhook.enabled.is_(True),
            )
        ).first()
        if row is None:
            return None  # delivered, failed, not yet due, claimed elsewhere or endpoint disabled
        delivery, hook = row
        attempt_no = delivery.attempts + 1  # before the update (it refreshes the loaded row)
        claimed = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.attempts == attempt_no - 1)
            .where(WebhookDelivery.status == PENDING)
            .values(
                attempts=attempt_no,
                next_attempt_at=now + timedelta(seconds=lease_seconds),
                last_attempt_at=now,
                updated_at=now,
            )
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        secret = get_secret_box().decrypt(hook.secret_ciphertext, secret_context(hook.id))
        event = {"type": delivery.type, "timestamp": now.isoformat(), "data": delivery.payload}
        body = json.dumps(event, separators=(",", ":")).encode()
        return Claimed(delivery.id, hook.id, hook.url, secret, body, int(now.timestamp()), attempt_no)


def _record(claimed: Claimed, outcome: http_post.Outcome) -> float | None:
    """Store the attempt's result; returns the countdown of the next attempt (None: none is queued)."""
    settings = get_settings()
    waits = settings.webhook_retry_seconds
    now = utcnow()
    values: dict[str, object] = {
        "last_status_code": outcome.status_code,
        "last_latency_ms": outcome.latency_ms,
        "last_error": outcome.error,
        "updated_at": now,
    }
    delay = None if outcome.delivered else schedule.retry_delay(waits, claimed.attempt)
    disabled_after: int | None = None
    hook_where = Webhook.id == claimed.webhook_id
    with session_scope(system=True) as session:
        if outcome.delivered:
            values.update(status=DELIVERED, next_attempt_at=None)
            session.execute(
                update(Webhook)
                .where(hook_where, Webhook.consecutive_failures > 0)
                .values(consecutive_failures=0)
            )
        elif delay is None:  # every attempt failed
            values.update(status=FAILED, next_attempt_at=None)
            failures = session.scalar(
                update(Webhook)
                .where(hook_where)
                .values(consecutive_failures=Webhook.consecutive_failures + 1)
                .returning(Webhook.consecutive_failures)
            )
            if failures is not None and failures >= settings.webhook_disable_after_failures:
                reason = f"{failures} events in a row failed every attempt"
                disabling = session.execute(
                    update(Webhook)
                    .where(hook_where, Webhook.enabled.is_(True))
                    .values(enabled=False, disabled_reason=reason, updated_at=now)
                )
                disabled_after = failures if getattr(disabling, "rowcount", 0) else None  # once
        else:
            values.update(next_attempt_at=now + timedelta(seconds=delay))
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == claimed.delivery_id).values(**values)
        )
        owner = session.execute(select(Webhook.tenant_id, Webhook.user_id).where(hook_where)).first()
    if disabled_after is not None and owner is not None:
        notify_disabled(owner[0], owner[1], claimed.webhook_id, disabled_after, outcome.error)
    return delay


def attempt(delivery_id: str) -> tuple[str, float | None]:
    """One attempt of one delivery: (what happened, countdown of a retry to queue or None)."""
    settings = get_settings()
    timeout = settings.webhook_timeout_seconds
    claimed = _claim(delivery_id, timeout + LEASE_MARGIN_SECONDS)
    if claimed is None:
        return "skipped", None
    token = slots.acquire(claimed.webhook_id, settings.webhook_max_in_flight, timeout + LEASE_MARGIN_SECONDS)
    if token is None:  # the endpoint has its share in flight: give the attempt back, try again shortly
        _give_back(claimed)
        return "busy", BUSY_RETRY_SECONDS
    try:
        headers = signing.headers(claimed.secret, claimed.delivery_id, claimed.timestamp, claimed.body)
        outcome = http_post.post(claimed.url, claimed.body, headers, timeout, settings.allowed_private_hosts)
    finally:
        slots.release(claimed.webhook_id, token)
    delay = _record(claimed, outcome)
    return ("delivered" if outcome.delivered else "failed"), delay


def _give_back(claimed: Claimed) -> None:
    now = utcnow()
    with session_scope(system=True) as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == claimed.delivery_id, WebhookDelivery.attempts == claimed.attempt)
            .values(
                attempts=claimed.attempt - 1,
                next_attempt_at=now + timedelta(seconds=BUSY_RETRY_SECONDS),
                updated_at=now,
            )
        )


def deliver(delivery_ids: list[str]) -> dict[str, int]:
    """The task's use case: attempt each, queue each retry with its countdown; counts by outcome."""
    counts = {"delivered": 0, "failed": 0, "skipped": 0, "busy": 0}
    retries: dict[float, list[str]] = {}
    for delivery_id in delivery_ids:
        what, delay = attempt(delivery_id)
        counts[what] += 1
        if delay is not None and delay <= MAX_COUNTDOWN_SECONDS:
            retries.setdefault(round(delay, 2), []).append(delivery_id)
    for countdown, ids in retries.items():
        publish_deliveries(ids, countdown=countdown)
    return counts


def due_deliveries(limit: int = SWEEP_LIMIT) -> list[str]:
    """Pending deliveries of enabled endpoints whose attempt is due (lost messages, long waits)."""
    query = (
        select(WebhookDelivery.id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= utcnow(),
            Webhook.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    with session_scope(system=True) as session:
        return [str(i) for i in session.scalars(query)]


def sweep() -> dict[str, int]:
    """The beat's sweep: queue every due delivery again (the claim keeps a duplicate from posting)."""
    ids = due_deliveries()
    publish_deliveries(ids)
    return {"requeued": len(ids)}
