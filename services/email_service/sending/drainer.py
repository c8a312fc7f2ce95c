"""send_email's one path: one outbox drainer per account.

The task that gets the account's send lock drains the account's outbox: its own row first, then
every other due row (MIME built by the API), `batch_limit` at a time, over one reused SMTP
connection, until nothing is left or the server turns transiently unwell. A batch goes to 'sending'
in ONE commit before any SMTP and its outcomes are recorded in ONE commit after; the answers of the
other rows are stored as their tasks' results at once (a poller sees them before those tasks run),
and each of those tasks, when it runs, answers its own row. A task that finds the lock held waits
for the drainer, then answers its row (or drains what is left). A transient error puts the rows not
yet attempted back to 'queued' for their own tasks' retries.

The row states are drawn in the package docstring (sending/__init__.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth.refresh import ensure_fresh_token
from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.core.tenancy.scoping import scoped
from email_service.mail.smtp.client import SmtpError
from email_service.sending.account_lock import account_send_lock
from email_service.sending.build import (
    AccountContext,
    Prepared,
    account_context,
    context_of,
    mark_parent_answered,
)
from email_service.sending.delivery import SmtpConnections, write_back_many
from email_service.sending.model import OutboxMessage
from email_service.sending.service import (
    Attempt,
    SendFailed,
    SendJob,
    answer,
    attempt,
    claim_in,
    finish_row,
    finished_result,
    prepare_claimed,
    recover,
    stored_result,
)

log = logging.getLogger(__name__)
BATCH_LIMIT = 100
# Batches one drainer sends before it lets its worker go (the tasks of the rest drain them next).
MAX_BATCHES = 50
Claimed = list[tuple[SendJob, Prepared]]
# Told {outbox id: stored answer} of the other rows a drainer just finished (sent or uncertain), right
# after their commit: the task layer stores them as those tasks' results.
Announce = Callable[[dict[str, dict[str, Any]]], None]


@dataclass(frozen=True)
class _Run:
    job: SendJob
    smtp: SmtpConnections
    announce: Announce | None
    batch_limit: int


class SendBusy(Exception):
    """The account's drainer is still running after the wait; the task retries shortly."""


def send_outbox_message(
    job: SendJob, smtp: SmtpConnections, batch_limit: int = BATCH_LIMIT, announce: Announce | None = None
) -> dict[str, Any]:
    """Answer the job's row; returns the task result, raises SendFailed / SmtpError / SendBusy."""
    done = finished_result(job)
    if done is not None:
        return answer(done)
    # OAuth2: a token about to expire is refreshed before the claim (OAuthRefreshUnavailable retries;
    # a refused refresh token parks the account and fails the send, the rows stay queued).
    ensure_fresh_token(job.tenant_id, job.user_id, job.account_id)
    with account_send_lock(job.account_id) as lock:
        if not lock.acquire():
            if not lock.acquire(get_settings().send_lock_wait_seconds):
                raise SendBusy(f"account {job.account_id} is still being drained by another run")
            done = finished_result(job)  # the drainer we waited for most likely sent it
            if done is not None:
                return answer(done)
        return _drain(_Run(job, smtp, announce, batch_limit))


def _drain(run: _Run) -> dict[str, Any]:
    """The own row with the first batch, then the rest of the account's queue; the own answer last."""
    claimed = _claim_own(run)
    if isinstance(claimed, dict):
        return answer(claimed)
    if claimed[0][1].recovering:  # our row was left in 'sending' by a drainer that died
        return recover(run.job, claimed[0][1])
    outcomes = _deliver(run, claimed)
    own, batches = outcomes[0], 1
    # A transient error (the last outcome 'queued') means the server is unwell: stop there.
    while outcomes[-1].status != "queued" and batches < MAX_BATCHES:
        more = _claim_more(run)
        if not more:
            break
        outcomes, batches = _deliver(run, more), batches + 1
    if own.exc is not None:
        raise own.exc
    return own.result


def _claim_own(run: _Run) -> Claimed | dict[str, Any]:
    """The own row (its stored answer when finished) and free due rows of the account, in one commit."""
    job = run.job
    with session_scope(job.tenant_id) as session:
        step = claim_in(session, job)
        if isinstance(step, dict):
            return step
        if step.recovering:
            return [(job, step)]
        account = session.get(EmailAccount, job.account_id)
        assert account is not None  # claim_in checked it belongs to the job's tenant and user
        others = _claim_others(session, job, account, context_of(step), run.batch_limit - 1)
        return [(job, step), *others]


def _claim_more(run: _Run) -> Claimed:
    """The next batch of the account's due rows, 'sending' in one commit."""
    job = run.job
    with session_scope(job.tenant_id) as session:
        account = session.get(EmailAccount, job.account_id)
        assert account is not None
        return _claim_others(session, job, account, account_context(session, account), run.batch_limit)


def _claim_others(
    session: Session, job: SendJob, account: EmailAccount, ctx: AccountContext, limit: int
) -> Claimed:
    """Queued, due, pre-built rows of the account other than the job's own, 'sending' by ONE UPDATE.

    Under the account's lock no other drainer takes them; the row locks keep a cancel from racing
    the claim. The ids are SELECTed FOR UPDATE first (an IN (subquery with LIMIT) may be re-run by
    PostgreSQL's planner and claim more than the limit), then one UPDATE ... RETURNING moves them
    all: an UPDATE per row cost a third of the claim, which sits between every two batches.
    """
    if limit <= 0:
        return []
    due = scoped(OutboxMessage, job.tenant_id, job.user_id).where(
        OutboxMessage.account_id == job.account_id,
        OutboxMessage.status == "queued",
        OutboxMessage.id != job.outbox_id,
        OutboxMessage.mime.is_not(None),
        OutboxMessage.message_id_header.is_not(None),
        or_(OutboxMessage.send_at.is_(None), OutboxMessage.send_at <= datetime.now(UTC)),
    )
    due = due.with_only_columns(OutboxMessage.id).order_by(OutboxMessage.created_at, OutboxMessage.id)
    ids = list(session.scalars(due.limit(limit).with_for_update()))
    if not ids:
        return []
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(status="sending", attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    order = {row_id: index for index, row_id in enumerate(ids)}
    rows = sorted(session.scalars(claim), key=lambda row: order[row.id])  # RETURNING has no order
    claimed: Claimed = []
    for row in rows:
        step = prepare_claimed(session, row, account, ctx)
        if isinstance(step, Prepared):  # a dict: stored as failed (MIME unusable); its task reports it
            claimed.append((SendJob(row.id, job.account_id, job.tenant_id, job.user_id), step))
    return claimed


def _deliver(run: _Run, claimed: Claimed) -> list[Attempt]:
    """SMTP for each claimed row, ONE commit of every outcome, the answers announced, the write-back."""
    outcomes: list[Attempt] = []
    for row_job, step in claimed:
        outcomes.append(attempt(row_job, step, run.smtp))
        if outcomes[-1].status == "queued":
            break  # transient: the server or the connection is unwell; the rest stay for their tasks
    answers = _record_outcomes(run.job, claimed, outcomes)
    answers.pop(run.job.outbox_id, None)  # the run's own answer is its return value
    if run.announce is not None and answers:
        run.announce(answers)
    _write_backs(claimed, outcomes)
    return outcomes


def _record_outcomes(job: SendJob, claimed: Claimed, outcomes: list[Attempt]) -> dict[str, dict[str, Any]]:
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


def _write_backs(claimed: Claimed, outcomes: list[Attempt]) -> None:
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
