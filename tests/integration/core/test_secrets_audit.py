"""With a known IMAP password, run create, sync, a wrong-password test, a send, through the API, eager
tasks and a real worker at DEBUG; the password then appears nowhere in clear: DB, logs, Redis, API."""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller, ServerSet
from tests.integration.core.audit_support import database_dump, debug_worker, leaks, redis_dump, secret_forms
from tests.integration.sync.sync_support import message
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp_server import SmtpTestServer

FINISHED = {"success", "failed", "failure", "revoked"}


class Api:
    """The test client as the owner, keeping every response body for the audit."""

    def __init__(self, client: Any, caller: Caller) -> None:
        self.client, self.caller, self.bodies = client, caller, []  # type: list[str]

    def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        response = getattr(self.client, method)(url, headers=self.caller.headers, **kwargs)
        self.bodies.append(response.get_data(as_text=True))
        return response

    def wait(self, task_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self("get", f"/api/tasks/{task_id}").get_json()
            if status["status"] in FINISHED:
                return status
            time.sleep(0.2)
        raise AssertionError(f"task {task_id} did not finish: {status}")


def _account(username: str, password: str, dovecot: DovecotServer, smtp: SmtpTestServer) -> dict[str, Any]:
    return {
        "email_address": f"{username}@example.test",
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.imap_port,
        "imap_security": "none",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_security": "starttls",
        "username": username,
        "password": password,
        "pinned_cert_pem": smtp.cert_pem,
    }


def _wrong_password_round(api: Api, account_id: str, owner: Caller, wrong: str) -> None:
    """Connection test and an eager sync in this process (caplog sees them) with a wrong password."""
    assert api("patch", f"/api/accounts/{account_id}", json={"password": wrong}).status_code == 200
    tested = api("post", f"/api/accounts/{account_id}/test").get_json()
    assert tested["imap"]["reason"] == tested["smtp"]["reason"] == "authentication_failed", tested
    run = sync_emails.apply(
        kwargs={"email_client_id": account_id, "tenant_id": owner.tenant_id, "user_id": owner.user_id}
    )
    assert run.failed()
    api.bodies.append(repr(run.result) + str(run.traceback))


def test_password_appears_nowhere_in_clear(
    client: Any,
    owner: Caller,
    clean_db: ServerSet,
    dovecot: DovecotServer,
    smtp: SmtpTestServer,
    caplog: Any,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    username, password, wrong = (
        f"audit{secrets.token_hex(4)}",
        secrets.token_urlsafe(16),
        secrets.token_urlsafe(16),
    )
    dovecot.add_user(username, password)
    smtp.users[username] = password
    dovecot.append(username, "INBOX", [message(i) for i in range(3)])
    api = Api(client, owner)

    created = api("post", "/api/accounts", json=_account(username, password, dovecot, smtp))
    account_id = created.get_json()["id"]
    _wrong_password_round(api, account_id, owner, wrong)
    api("patch", f"/api/accounts/{account_id}", json={"password": password})
    assert api("post", f"/api/accounts/{account_id}/test").get_json()["ok"] is True
    sync_id = api("post", "/api/email/sync", json={"email_client_id": account_id}).get_json()["taskId"]
    # Issue 16 item 8: the mail's contents reach no log line, no result and no broker message.
    contents = [f"subject{secrets.token_hex(6)}", f"body{secrets.token_hex(6)}", f"bcc{secrets.token_hex(6)}"]
    send = {
        "email_client_id": account_id,
        "to": ["bob@example.test"],
        "bcc": [f"{contents[2]}@example.test"],
        "subject": f"audit {contents[0]}",
        "body_text": f"hi {contents[1]}",
    }
    send_id = api("post", "/api/email/send", json=send).get_json()["taskId"]
    settings = get_settings()
    queued = redis_dump(settings.broker_url)  # the task messages, before a worker takes them

    log = tmp_path / "worker.log"
    with debug_worker({**clean_db.env, "LOG_LEVEL": "DEBUG", "LOG_JSON": "false"}, log):
        assert api.wait(sync_id)["status"] == "success"
        assert api.wait(send_id)["status"] == "success"
        api("patch", f"/api/accounts/{account_id}", json={"password": wrong})
        bad_id = api("post", "/api/email/sync", json={"email_client_id": account_id}).get_json()["taskId"]
        failed = api.wait(bad_id)
        assert failed["status"] == "failed" and "login refused" in str(failed["error"]), failed

    with session_scope(owner.tenant_id) as session:
        inbox = select(func.count()).select_from(Message).join(Folder).where(Folder.name == "INBOX")
        assert session.scalar(inbox) == 3  # (Sent also holds the copy of the sent message)
    assert len(smtp.messages) == 1
    worker_log = log.read_text()
    assert "DEBUG" in worker_log and "login refused" in worker_log  # the log really was at DEBUG
    places: dict[str, list[str]] = {
        "API bodies": api.bodies,
        "caplog": [caplog.text, *(r.getMessage() for r in caplog.records)],
        "worker log": [worker_log],
    }
    for name, dump in (("queued", queued), ("broker", redis_dump(settings.broker_url))):
        places.update({f"{name} {key}": values for key, values in dump.items()})
    places.update({f"results {k}": v for k, v in redis_dump(settings.result_backend_url).items()})
    places.update({f"table {k}": v for k, v in database_dump(clean_db.db.admin_url).items()})
    assert any(key.startswith("table email_accounts") for key in places)
    assert any(account_id in v for vs in queued.values() for v in vs)  # the task messages were read
    # Task messages carry ids only: neither the recipient nor the text of the mail is in the broker.
    assert not any("bob@example.test" in v or "audit" in v for vs in queued.values() for v in vs)
    assert leaks(places, secret_forms(username, password) + secret_forms(username, wrong)) == []
    assert "received" in worker_log  # Celery's "Task ... received" line, which once printed kwargs
    logs = {
        "worker log": [worker_log],
        # (aiosmtpd, the test's SMTP server, logs what it receives: only our own records count.)
        "caplog": [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")],
    }
    assert leaks(logs, contents) == []
    # The broker and results: no subject or body (the send's result lists its accepted recipients for
    # the tenant's own /api/tasks/<id>, so the bcc address may be there).
    redis_places = {k: v for k, v in places.items() if k.startswith(("queued", "broker", "results"))}
    assert leaks(redis_places, contents[:2]) == []
    results = [v for k, vs in places.items() if k.startswith("results ") for v in vs]
    assert results and not any('"kwargs"' in v or '"args"' in v for v in results)  # result_extended off
