"""BaseTask: tenant context required, carried into headers and logs, and exponential retries."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from typing import Any

from celery import Task
from celery.exceptions import Ignore

from email_service.core.logging_setup import log_context
from email_service.core.tasking.outcomes import REVOKED_ERROR, record_outcome_quietly
from email_service.mail.imap.types import ImapConnectionError
from email_service.ops import worker_metrics

log = logging.getLogger(__name__)
BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 600


def retry_countdown(exc: BaseException, retries: int, rng: random.Random | None = None) -> float:
    """Our backoff, or the wait the error asks for (`retry_after` seconds) when that is longer."""
    asked = getattr(exc, "retry_after", None)
    backoff = backoff_countdown(retries, rng)
    if isinstance(asked, int | float) and asked > backoff:
        return float(asked) * (rng or random).uniform(1.0, 1.1)  # spread, never sooner than asked
    return backoff


def backoff_countdown(retries: int, rng: random.Random | None = None) -> float:
    """5, 10, 20, 40, 80 … seconds, capped at 600, with ±20 % jitter so retries do not stampede."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2**retries))
    jitter = (rng or random).uniform(0.8, 1.2)
    return float(min(BACKOFF_CAP_SECONDS, base * jitter))


class TenantTask(Task):
    """A task that acts for one tenant and user; both are mandatory keyword arguments."""

    abstract = True
    requires_tenant = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tenant_id, user_id = kwargs.get("tenant_id"), kwargs.get("user_id")
        if self.requires_tenant and (not tenant_id or not user_id):
            raise ValueError(f"{self.name} requires tenant_id and user_id")
        account_id = kwargs.get("email_client_id")
        with log_context(
            tenant_id=tenant_id,
            user_id=user_id,
            account_id=account_id,
            task_id=self.request.id,
            task_name=self.name,
        ):
            return super().__call__(*args, **kwargs)

    def retry_later(self, exc: BaseException) -> Exception:
        """Schedule a retry with our backoff; past max_retries Celery re-raises exc (final failure).

        An error that carries `retry_after` (a server that named its wait, e.g. a throttled IMAP
        login) is retried no sooner than that."""
        return self.retry(exc=exc, countdown=retry_countdown(exc, self.request.retries or 0))

    def retry_if_attempts_remain(self, retryable: bool, reasons: Iterable[str]) -> None:
        """For batch results: retry a partial IMAP failure while attempts remain; the last one reports."""
        if retryable and (self.request.retries or 0) < (self.max_retries or 0):
            raise self.retry_later(ImapConnectionError("; ".join(sorted(set(reasons)))[:500]))

    def defer(self, countdown: float) -> Ignore:
        """For a run that may not start yet (its tenant's slots are taken): `raise self.defer(s)`.

        The same task (id, arguments, retry count) is published again to run in `countdown` seconds
        and this delivery ends without an outcome, so waiting costs no worker time and no attempt.
        """
        if self.request.called_directly:
            raise RuntimeError("defer() needs a task run by a worker")
        self.signature_from_request(countdown=countdown, retries=self.request.retries or 0).apply_async()
        return Ignore()

    def end_revoked(self, partial: Any, tenant_id: str) -> Ignore:
        """For a run that stopped itself after a cancel: `raise self.end_revoked(...)`.

        Stores the partial result on the task record, then REVOKED in the result backend (as a revoke
        that terminates would; it cannot hold a result, so the record goes first and a poll that sees
        REVOKED finds it); Ignore then ends the run without Celery storing a success.
        """
        task_id = self.request.id
        record_outcome_quietly(tenant_id, task_id, "revoked", result=partial, error=REVOKED_ERROR)
        worker_metrics.task_finished(self.name, "revoked", None)  # task_revoked fires only for terminate
        if task_id and not self.request.called_directly:
            try:
                self.backend.mark_as_revoked(task_id, reason="cancelled", request=self.request)
            except Exception as exc:  # the record still tells the truth
                log.warning("revoked state not stored: %s", type(exc).__name__)
        return Ignore()

    def report_progress(self, **meta: Any) -> None:
        """Progress visible through GET /api/tasks/<id> while the task runs (no-op when called directly).

        Best effort: a result backend that is briefly down must not abort the work it describes.
        """
        if self.request.id and not self.request.called_directly:
            try:
                self.update_state(state="PROGRESS", meta=meta)
            except Exception as exc:  # any backend failure; the next report or the result says more
                log.warning("progress not recorded: %s", type(exc).__name__)


class SystemTask(TenantTask):
    """Beat-driven work across tenants (periodic_sync, cleanup); no tenant arguments."""

    abstract = True
    requires_tenant = False
