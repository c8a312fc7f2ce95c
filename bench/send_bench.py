"""Send throughput: N messages through the send_email task path vs. N raw aiosmtplib sends.

Both go to the same local aiosmtpd server (STARTTLS + AUTH) in the same run. The task path is
the real Celery task executed in-process with `.apply()` (no broker hop): claim on PostgreSQL,
SMTP over the worker's reused per-account connection, outcome committed. The outbox rows are
written beforehand through the API's service function (not timed). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib

from tests.servers.postgres import create_test_database, drop_test_database
from tests.servers.redis_server import RedisServer
from tests.servers.smtp_server import SmtpTestServer

USER, PASSWORD = "alice@example.test", "alice-secret"
KEYS = "bench:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def configure(app_url: str, admin_url: str, redis_url: str) -> None:
    os.environ.update(
        {
            "APP_ENV": "test",
            "DATABASE_URL": app_url,
            "MIGRATION_DATABASE_URL": admin_url,
            "REDIS_URL": redis_url,
            "ENCRYPTION_KEYS": KEYS,
            "LOG_LEVEL": "WARNING",
        }
    )
    from email_service.config import reset_settings
    from email_service.db import dispose_engine
    from email_service.logging_setup import configure_logging
    from email_service.migrate import upgrade
    from email_service.tasks.celery_app import reconfigure

    reset_settings()
    dispose_engine()
    reconfigure()
    configure_logging("WARNING", True)
    upgrade()


def prepare_rows(
    smtp: SmtpTestServer, count: int, account_kwargs: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """A tenant, user and account on the SMTP server (or the given one), and `count` queued rows."""
    from email_service.crypto import get_secret_box
    from email_service.db import session_scope
    from email_service.services.accounts import create_account
    from email_service.services.identity import ensure_tenant_user
    from email_service.services.outbox import queue_send, validate_send

    tenant, user = "bench-tenant", "bench-user"
    if account_kwargs is None:
        with session_scope(system=True) as session:
            ensure_tenant_user(session, tenant, user, "bench@example.test")
    data = {
        "email_address": USER,
        "imap_host": "127.0.0.1",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "starttls",
        "username": USER,
        "password": PASSWORD,
        "pinned_cert_pem": smtp.cert_pem,
        "provider_saves_sent": True,  # no IMAP server in this bench; see --help
    }
    ids = []
    with session_scope(tenant) as session:
        if account_kwargs is None:
            account_id = create_account(session, get_secret_box(), tenant, user, data).id
        else:
            account_id = account_kwargs["email_client_id"]
        for i in range(count):
            request = {
                "email_client_id": account_id,
                "to": ["Bob <bob@example.test>"],
                "subject": f"bench {i}",
                "body_text": "Hello Bob,\n" + "lorem ipsum dolor sit amet " * 40,
            }
            validate_send(session, request, tenant, user)
            ids.append(queue_send(session, tenant, user, request, None).task_id)
    kwargs = {"email_client_id": account_id, "tenant_id": tenant, "user_id": user, "to": ["bob@example.test"]}
    return kwargs, ids


def run_batch_path(kwargs: dict[str, Any], ids: list[str]) -> float:
    from email_service.services.send_batch import send_outbox_batch
    from email_service.services.send_delivery import SmtpConnections
    from email_service.services.send_service import SendJob

    tenant, user, account = kwargs["tenant_id"], kwargs["user_id"], kwargs["email_client_id"]
    jobs = [SendJob(i, account, tenant, user) for i in ids]
    smtp = SmtpConnections()
    started = time.perf_counter()
    results = send_outbox_batch(tenant, jobs, smtp)
    smtp.close()
    elapsed = time.perf_counter() - started
    if any(r["status"] != "sent" for r in results.values()):
        raise RuntimeError("batch path failed")
    return elapsed


def run_task_path(kwargs: dict[str, Any], ids: list[str]) -> float:
    from email_service.tasks.send import SMTP_CONNECTIONS, send_email

    started = time.perf_counter()
    for task_id in ids:
        result = send_email.apply(kwargs=kwargs, task_id=task_id)
        if not result.successful() or result.result["status"] != "sent":
            raise RuntimeError(f"task path failed: {result.result!r}")
    SMTP_CONNECTIONS.close()
    return time.perf_counter() - started


async def run_raw(smtp: SmtpTestServer, raws: list[bytes]) -> float:
    import ssl

    context = ssl.create_default_context(cadata=smtp.cert_pem)
    started = time.perf_counter()
    client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, start_tls=True, tls_context=context)
    await client.connect()
    await client.login(USER, PASSWORD)
    for raw in raws:
        await client.sendmail(USER, ["bob@example.test"], raw)
    await client.quit()
    return time.perf_counter() - started


def stored_mimes(ids: list[str]) -> list[bytes]:
    from email_service.db import session_scope
    from email_service.models import OutboxMessage

    with session_scope("bench-tenant") as session:
        return [bytes(session.get(OutboxMessage, i).mime or b"") for i in ids]  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    pg = create_test_database()
    redis = RedisServer().start()
    try:
        with SmtpTestServer({USER: PASSWORD}) as smtp:
            configure(pg.app_url, pg.admin_url, redis.url)
            kwargs, ids = prepare_rows(smtp, args.messages)
            task_seconds = run_task_path(kwargs, ids)
            _kwargs, batch_ids = prepare_rows(smtp, args.messages, account_kwargs=kwargs)
            batch_seconds = run_batch_path(kwargs, batch_ids)
            raws = stored_mimes(ids)
            raw_seconds = asyncio.run(run_raw(smtp, raws))
            delivered = len(smtp.messages)
    finally:
        from email_service.db import dispose_engine

        dispose_engine()
        redis.cleanup()
        drop_test_database(pg)
    report = {
        "bench": "send",
        "messages": args.messages,
        "task_path": "send_email.apply() in-process per message, PostgreSQL outbox, reused SMTP connection",
        "batch_path": "services.send_batch.send_outbox_batch in-process, same rows/rules, commits per 50",
        "task_seconds": round(task_seconds, 4),
        "batch_seconds": round(batch_seconds, 4),
        "raw_seconds": round(raw_seconds, 4),
        "task_msgs_per_s": round(args.messages / task_seconds, 1),
        "batch_msgs_per_s": round(args.messages / batch_seconds, 1),
        "raw_msgs_per_s": round(args.messages / raw_seconds, 1),
        "task_throughput_ratio": round(raw_seconds / task_seconds, 3),
        "batch_throughput_ratio": round(raw_seconds / batch_seconds, 3),
        "target_ratio": 0.7,
        "delivered_total": delivered,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
