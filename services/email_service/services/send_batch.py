"""Send many outbox rows of one tenant in one go: one claim transaction, one SMTP connection per
account, outcomes committed every `record_every` messages.

Per-message tasks pay two durable commits each; a batch pays two per chunk, which is what lets
throughput approach raw SMTP. The same rules hold per row (claimed 'sending' before any SMTP,
stored MIME, terminal rows untouched); a crash mid-chunk leaves at most that chunk to resolve as
'uncertain' (or 'sent' when the Sent folder proves it) on redelivery.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text

from email_service.db import get_engine, session_scope
from email_service.services.send_build import Prepared
from email_service.services.send_delivery import SmtpConnections
from email_service.services.send_service import (
    Outcome,
    SendJob,
    attempt,
    claim_in,
    lock_key,
    record_outcome,
    write_back_safely,
)

IN_PROGRESS = {"status": "in_progress", "message_id": None, "sent_timestamp": None, "recipients_sent": 0}


@contextmanager
def exclusive_runs(outbox_ids: Sequence[str]) -> Iterator[set[str]]:
    """The ids no other live run holds, locked on one connection for the whole batch (PostgreSQL)."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        yield set(outbox_ids)
        return
    keys = {lock_key(i): i for i in outbox_ids}
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT k, pg_try_advisory_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": list(keys)},
        )
        held = {keys[k] for k, ok in rows if ok}
        conn.commit()
        try:
            yield held
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock_all()"))
                conn.commit()
            except Exception:
                conn.invalidate()
                raise


def send_outbox_batch(
    tenant_id: str, jobs: Sequence[SendJob], smtp: SmtpConnections, record_every: int = 50
) -> dict[str, dict[str, Any]]:
    """Results by outbox id; transient failures leave rows 'queued' for the caller to retry."""
    results: dict[str, dict[str, Any]] = {}
    with exclusive_runs([job.outbox_id for job in jobs]) as held:
        claimed: list[tuple[SendJob, Prepared]] = []
        with session_scope(tenant_id) as session:
            for job in jobs:
                if job.outbox_id not in held:
                    results[job.outbox_id] = dict(IN_PROGRESS)
                    continue
                step = claim_in(session, job)
                if isinstance(step, dict):
                    results[job.outbox_id] = step
                elif step.recovering:
                    results[job.outbox_id] = {"status": "sending", "message_id": step.message_id}
                else:
                    claimed.append((job, step))
        for start in range(0, len(claimed), record_every):
            chunk = claimed[start : start + record_every]
            outcomes = [(job, step, attempt(job, step, smtp)) for job, step in chunk]
            _record_chunk(tenant_id, outcomes, results)
    return results


def _record_chunk(
    tenant_id: str, outcomes: list[tuple[SendJob, Prepared, Outcome]], results: dict[str, dict[str, Any]]
) -> None:
    with session_scope(tenant_id) as session:
        for job, step, outcome in outcomes:
            record_outcome(session, job, step, outcome)
    for job, step, outcome in outcomes:
        if outcome.status == "sent" and outcome.sent_at is not None and step.write_back.needed:
            outcome.result["write_back"] = write_back_safely(job, step.write_back, step.raw, outcome.sent_at)
        results[job.outbox_id] = outcome.result
