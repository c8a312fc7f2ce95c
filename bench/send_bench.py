"""Send throughput: N messages through the send_email task path vs. N raw aiosmtplib sends.

All go to the same local aiosmtpd server (STARTTLS + AUTH, in a process of its own as a real MTA
would be: see smtp_process) in the same run, repeated --runs times
(medians reported). Paths: "worker" = a real `celery worker -c 2` (prefork) on a private Redis,
tasks published as the API publishes them, timed from the first publish until the SMTP server
holds all N (what a user experiences); "apply" = the task run in-process with `.apply()`;
"drain" = the same worker with the N tasks already queued (its consumer paused while publishing),
so the worker side is timed without the publisher. Outbox rows (MIME built at queue time, as the
API does) are written beforehand and not timed. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib
from bench_env import bench_servers
from smtp_process import SmtpServerProcess

from tests.servers.processes import start_worker, stop_process

USER, PASSWORD = "alice@example.test", "alice-secret"
WORKER_NODE = f"bench-{os.getpid()}"
WORKER_NAME = f"{WORKER_NODE}@{socket.gethostname()}"
KEYS = "bench:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def prepare_rows(
    smtp: SmtpServerProcess, count: int, account_kwargs: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """A tenant, user and account on the SMTP server (or the given one), and `count` queued rows."""
    from email_service.accounts.service import create_account
    from email_service.core.crypto import get_secret_box
    from email_service.core.db import session_scope
    from email_service.core.tenancy.identity import ensure_tenant_user
    from email_service.sending.outbox import queue_send, validate_send

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


def run_task_path(kwargs: dict[str, Any], ids: list[str]) -> float:
    from email_service.sending.tasks import SMTP_CONNECTIONS, send_email

    started = time.perf_counter()
    for task_id in ids:
        result = send_email.apply(kwargs=kwargs, task_id=task_id)
        if not result.successful() or result.result["status"] != "sent":
            raise RuntimeError(f"task path failed: {result.result!r}")
    SMTP_CONNECTIONS.close()
    return time.perf_counter() - started


async def run_raw(smtp: SmtpServerProcess, raws: list[bytes]) -> float:
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
    from email_service.core.db import session_scope
    from email_service.sending.model import OutboxMessage

    with session_scope("bench-tenant") as session:
        return [bytes(session.get(OutboxMessage, i).mime or b"") for i in ids]  # type: ignore[union-attr]


def _publish(kwargs: dict[str, Any], ids: list[str]) -> None:
    """Publish like the API (task id = outbox id, tenant headers, task-sent event)."""
    from email_service.core.tasking.start import publish_task

    tenant, user = kwargs["tenant_id"], kwargs["user_id"]
    body = {k: v for k, v in kwargs.items() if k not in ("tenant_id", "user_id")}
    for task_id in ids:
        publish_task("send_email", task_id, tenant, user, body)


def _wait_delivered(smtp: SmtpServerProcess, target: int, started: float) -> float:
    deadline = started + 120
    while smtp.delivered < target:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"worker path delivered {smtp.delivered} of {target}")
        time.sleep(0.002)
    return time.perf_counter() - started


def _wait_results(ids: list[str], started: float) -> float:
    """Seconds from `started` until a poller would see every task's outcome.

    All result keys are read with one MGET every few ms (as many polling clients would); a task
    counts once its result is SUCCESS with status "sent", whichever run stored it.
    """
    from email_service.tasks.celery_app import celery_app

    backend: Any = celery_app.backend
    pending = {backend.get_key_for_task(task_id): task_id for task_id in ids}
    while pending:
        if time.perf_counter() > started + 120:
            raise RuntimeError(f"{len(pending)} task results still missing")
        keys = list(pending)
        for key, stored in zip(keys, backend.mget(keys), strict=True):
            meta = backend.decode_result(stored) if stored else {}
            if meta.get("status") == "SUCCESS":
                if meta["result"]["status"] != "sent":
                    raise RuntimeError(f"task {pending[key]} ended {meta['result']!r}")
                del pending[key]
            elif meta.get("status") in ("FAILURE", "REVOKED"):
                raise RuntimeError(f"task {pending[key]} ended {meta!r}")
        time.sleep(0.005)
    return time.perf_counter() - started


def run_worker_path(smtp: SmtpServerProcess, kwargs: dict[str, Any], ids: list[str]) -> dict[str, float]:
    """From the first publish until the SMTP server holds all N, and until all N results exist."""
    target = smtp.delivered + len(ids)
    started = time.perf_counter()
    _publish(kwargs, ids)
    delivered = _wait_delivered(smtp, target, started)
    return {"worker": delivered, "worker_results": _wait_results(ids, started)}


def run_drain_path(smtp: SmtpServerProcess, kwargs: dict[str, Any], ids: list[str]) -> dict[str, float]:
    """The worker side alone: N tasks already queued (consumer paused), timed from resuming."""
    from email_service.tasks.celery_app import celery_app

    worker = [WORKER_NAME]
    celery_app.control.cancel_consumer("send", destination=worker, reply=True, timeout=10)
    target = smtp.delivered + len(ids)
    started = time.perf_counter()
    _publish(kwargs, ids)
    publish = time.perf_counter() - started
    started = time.perf_counter()
    celery_app.control.add_consumer("send", destination=worker)
    delivered = _wait_delivered(smtp, target, started)
    return {"drain": delivered, "drain_results": _wait_results(ids, started), "publish": publish}


def one_round(smtp: SmtpServerProcess, count: int, kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """Seconds per path for `count` messages each, all in this run against the same server."""
    kwargs, ids = prepare_rows(smtp, count, account_kwargs=kwargs)
    seconds = run_worker_path(smtp, kwargs, ids)
    seconds["raw"] = asyncio.run(run_raw(smtp, stored_mimes(ids)))
    _kwargs, drain_ids = prepare_rows(smtp, count, account_kwargs=kwargs)
    seconds.update(run_drain_path(smtp, kwargs, drain_ids))
    _kwargs, apply_ids = prepare_rows(smtp, count, account_kwargs=kwargs)
    seconds["apply"] = run_task_path(kwargs, apply_ids)
    seconds["raw_again"] = asyncio.run(run_raw(smtp, stored_mimes(ids)))
    return {**seconds, "_kwargs": kwargs}


PATHS = {
    "worker": "real celery worker -c 2 (prefork); first publish (as the API) -> all N at the SMTP server",
    "worker_results": "same run: first publish -> every task's outcome visible to a poller (SUCCESS stored)",
    "drain": "same worker, N tasks published while its consumer was paused; resume -> all delivered",
    "drain_results": "same run: resume -> every task's outcome visible to a poller",
    "apply": "send_email.apply() in-process, one after another (the same batching path)",
    "raw": "aiosmtplib, one connection, same MIME bytes (best of the two raw runs per round)",
    "publish": "publishing N tasks from one thread as the API does (not a send path; for reference)",
}


def summarise(count: int, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over rounds; each ratio is computed per round against that round's best raw time."""
    report: dict[str, Any] = {"bench": "send", "messages": count, "runs": len(rounds)}
    for path in (*PATHS, "raw_again"):
        times = [r[path] for r in rounds]
        report[f"{path}_seconds"] = round(statistics.median(times), 4)
        report[f"{path}_msgs_per_s"] = round(count / statistics.median(times), 1)
    for path in ("worker", "worker_results", "drain", "drain_results", "apply"):
        ratios = [min(r["raw"], r["raw_again"]) / r[path] for r in rounds]
        report[f"{path}_ratio_median"] = round(statistics.median(ratios), 3)
        report[f"{path}_ratio_runs"] = [round(x, 3) for x in ratios]
    report["target_ratio"] = 0.7
    report["paths"] = PATHS
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20, help="messages per path in an untimed first round")
    args = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    bench_env = {"APP_ENV": "test", "ENCRYPTION_KEYS": KEYS, "LOG_LEVEL": "WARNING"}
    with (
        bench_servers(private=True, env=bench_env),
        SmtpServerProcess({USER: PASSWORD}) as smtp,
        tempfile.TemporaryDirectory() as log_dir,
    ):
        from email_service.core.logging_setup import configure_logging

        configure_logging("WARNING", True)
        env = {**os.environ, "LOG_LEVEL": "INFO"}  # the worker says "ready." at INFO
        worker = start_worker(env, Path(log_dir) / "worker.log", queues="send", name=WORKER_NODE)
        try:
            kwargs: dict[str, Any] | None = None
            if args.warmup > 0:  # a running service has warm workers: connections made, code loaded
                kwargs = one_round(smtp, args.warmup, None)["_kwargs"]
            for _ in range(args.runs):
                rounds.append(one_round(smtp, args.messages, kwargs))
                kwargs = rounds[-1].pop("_kwargs")
        finally:
            stop_process(worker)
    print(json.dumps({**summarise(args.messages, rounds), "warmup_messages": args.warmup}))


if __name__ == "__main__":
    main()
