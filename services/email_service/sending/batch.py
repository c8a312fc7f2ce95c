"""send_email's one path: a run sends its own row and, on PostgreSQL, the account's other due rows.

A durable commit per message caps throughput far below raw SMTP, so the run that claims its row
also claims up to `batch_limit` queued siblings (same tenant, user and account, MIME built by the
API) in the same transaction: all go to 'sending' in ONE commit before any SMTP, are sent over the
reused connection, and all outcomes are recorded in ONE commit. Each sibling's own task then finds
its row finished and answers the stored result (a failed row fails that task, so its notification
fires); while the batch is still sending it first sends the account's other free rows as a batch
of its own (so tasks queued behind a batch's siblings add a second connection instead of idling),
then waits on the row's send lock (see send_locks). Transient errors stop a batch and put its
unsent rows back to 'queued' for their own tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.accounts.service import load_account_for_task
from email_service.core.db import session_scope
from email_service.core.tenancy.scoping import scoped
from email_service.mail.smtp.client import SmtpError
from email_service.sending.build import (
    AccountContext,
    Prepared,
    account_context,
    context_of,
    mark_parent_answered,
)
from email_service.sending.delivery import SmtpConnections, write_back_many
from email_service.sending.locks import SendLocks, send_locks
from email_service.sending.model import OutboxMessage
from email_service.sending.service import (
    IN_PROGRESS,
    Outcome,
    SendFailed,
    SendJob,
    answer,
    attempt,
    claim_in,
    claim_row,
    finish_row,
    finished_result,
    recover,
    stored_result,
)

log = logging.getLogger(__name__)
BATCH_LIMIT = 100
SEND_WAIT_SECONDS = 60.0
Claimed = list[tuple[SendJob, Prepared]]
# Told {outbox id: stored answer} of the sibling rows a run just finished (sent or uncertain), right
# after their commit: the task layer stores them as those tasks' results, so a client polling a
# sibling sees its outcome now rather than when that sibling's own task gets a worker.
Announce = Callable[[dict[str, dict[str, Any]]], None]


@dataclass(frozen=True)
class _Run:
    job: SendJob
    locks: SendLocks
    smtp: SmtpConnections
    announce: Announce | None


class SendBusy(Exception):
    """Another live run still holds this row after the wait; the task retries shortly."""


def send_outbox_message(
    job: SendJob, smtp: SmtpConnections, batch_limit: int = BATCH_LIMIT, announce: Announce | None = None
) -> dict[str, Any]:
    """Run one send attempt; returns the task result, raises SendFailed / SmtpError / SendBusy."""
    done = finished_result(job)
    if done is not None:
        return answer(done)
    with send_locks() as locks:
        run = _Run(job, locks, smtp, announce)
        if not locks.try_run(job.outbox_id):
            return dict(IN_PROGRESS)  # a duplicate delivery of this very task is running
        if locks.try_send_many([job.outbox_id]) != {job.outbox_id}:
            _help_meanwhile(run, batch_limit)
            if not locks.wait_send(job.outbox_id, SEND_WAIT_SECONDS):
                raise SendBusy(f"outbox row {job.outbox_id} is still being sent by another run")
        claimed = _claim_batch(job, locks, batch_limit)
        if isinstance(claimed, dict):
            return answer(claimed)
        if claimed[0][1].recovering:
            return recover(job, claimed[0][1])
        return _transmit(run, claimed)


def _claim_batch(job: SendJob, locks: SendLocks, limit: int) -> Claimed | dict[str, Any]:
    """The own row, then free siblings, all 'sending' in this one (durable) commit."""
    with session_scope(job.tenant_id) as session:
        step = claim_in(session, job)
        if isinstance(step, dict):
            return step
        claimed = [(job, step)]
        if not step.recovering and locks.batching and limit > 0:
            account = session.get(EmailAccount, job.account_id)
            assert account is not None  # claim_in loaded it in this session
            claimed += _claim_siblings(session, job, account, context_of(step), locks, limit)
        return claimed


def _help_meanwhile(run: _Run, limit: int) -> None:
    """Our row is in another live run's batch: send the account's free queued rows while we wait."""
    job = run.job
    with session_scope(job.tenant_id) as session:
        account = load_account_for_task(session, job.account_id, job.tenant_id, job.user_id)
        ctx = account_context(session, account)
        claimed = _claim_siblings(session, job, account, ctx, run.locks, limit)
    if claimed:
        _deliver(run, claimed)


def _claim_siblings(
    session: Session, job: SendJob, account: EmailAccount, ctx: AccountContext, locks: SendLocks, limit: int
) -> Claimed:
    """Queued, due, pre-built rows of the account that no other run has locked or is running for.

    Row locks first (SKIP LOCKED: a concurrent leader's rows are passed over, so two leaders split
    the queue), then rows whose own task runs right now are left to it, then the send locks.
    """
    query = scoped(OutboxMessage, job.tenant_id, job.user_id).where(
        OutboxMessage.account_id == job.account_id,
        OutboxMessage.status == "queued",
        OutboxMessage.id != job.outbox_id,
        OutboxMessage.mime.is_not(None),
        OutboxMessage.message_id_header.is_not(None),
        or_(OutboxMessage.send_at.is_(None), OutboxMessage.send_at <= datetime.now(UTC)),
    )
    query = query.order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit)
    rows = list(session.scalars(query.with_for_update(skip_locked=True)))
    busy = locks.running(row.id for row in rows)
    got = locks.try_send_many(row.id for row in rows if row.id not in busy)
    claimed: Claimed = []
    for row in (r for r in rows if r.id in got):
        step = claim_row(session, row, account, ctx)
        if isinstance(step, Prepared):  # a dict: stored as failed (MIME unusable); its task reports it
            claimed.append((SendJob(row.id, job.account_id, job.tenant_id, job.user_id), step))
    return claimed


def _transmit(run: _Run, claimed: Claimed) -> dict[str, Any]:
    """Deliver the batch whose first row is the job's own; its errors are raised last."""
    own = _deliver(run, claimed)[0]
    if own.exc is not None:
        raise own.exc
    return own.result


def _deliver(run: _Run, claimed: Claimed) -> list[Outcome]:
    """SMTP for each claimed row, ONE commit of every outcome, the send locks freed, the write-back."""
    outcomes: list[Outcome] = []
    for row_job, step in claimed:
        outcomes.append(attempt(row_job, step, run.smtp))
        if outcomes[-1].status == "queued":
            break  # transient: the server or the connection is unwell; the rest stay for their tasks
    answers = _record_outcomes(run.job, claimed, outcomes)
    run.locks.release_send(row_job.outbox_id for row_job, _ in claimed)
    answers.pop(run.job.outbox_id, None)  # the run's own answer is its return value
    if run.announce is not None and answers:
        run.announce(answers)
    _write_backs(claimed, outcomes)
    return outcomes


def _record_outcomes(job: SendJob, claimed: Claimed, outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Outcomes of the attempted rows; rows never attempted go back to 'queued' as they were.

    Returns the stored answers of the rows that ended sent or uncertain (what their tasks will answer).
    """
    ids = [row_job.outbox_id for row_job, _ in claimed]
    answers: dict[str, dict[str, Any]] = {}
    with session_scope(job.tenant_id) as session:
        query = scoped(OutboxMessage, job.tenant_id, job.user_id).where(OutboxMessage.id.in_(ids))
        rows = {row.id: row for row in session.scalars(query.with_for_update())}
        for index, (row_job, step) in enumerate(claimed):
            row = rows[row_job.outbox_id]
            if index >= len(outcomes):
                row.status, row.attempts = "queued", max((row.attempts or 1) - 1, 0)
                continue
            outcome = outcomes[index]
            finish_row(row, outcome.status, outcome.result, outcome.error, outcome.sent_at)
            if outcome.status in ("sent", "uncertain"):
                answers[row.id] = stored_result(row)
            if outcome.status == "sent" and step.parent_id:
                mark_parent_answered(session, step.parent_id, job.tenant_id, job.user_id)
    return answers


def _write_backs(claimed: Claimed, outcomes: list[Outcome]) -> None:
    """Copies to Sent (and \\Answered) of the delivered rows over one IMAP connection; best effort."""
    sent = [(i, o, o.sent_at) for i, o in enumerate(outcomes) if o.status == "sent" and o.sent_at]
    items = [(claimed[i][1].write_back, claimed[i][1].raw, at) for i, _, at in sent]
    try:
        reports = write_back_many(items)  # connects only when some copy or flag is needed
    except Exception as exc:  # the messages are delivered; nothing here may undo that
        log.warning("write-back after send failed unexpectedly: %s", exc)
        reports = [{"sent_copy": "failed", "parent_flag": "failed"}] * len(items)
    for (index, outcome, _), report in zip(sent, reports, strict=True):
        if report.get("sent_copy") not in ("saved", "skipped"):
            log.warning("send %s: copy to Sent: %s", claimed[index][0].outbox_id, report["sent_copy"])
        outcome.result["write_back"] = report


def send_outbox_batch(
    tenant_id: str, jobs: Sequence[SendJob], smtp: SmtpConnections, batch_limit: int = BATCH_LIMIT
) -> dict[str, dict[str, Any]]:
    """Results by outbox id for callers outside Celery (CLI, benchmarks), through the same path."""
    results: dict[str, dict[str, Any]] = {}
    for job in jobs:
        assert job.tenant_id == tenant_id
        try:
            results[job.outbox_id] = send_outbox_message(job, smtp, batch_limit)
        except SendFailed as exc:
            results[job.outbox_id] = exc.result
        except (SmtpError, SendBusy) as exc:
            results[job.outbox_id] = {"status": "queued", "error": str(exc)}
    return results
