"""The frontend's write-back path over HTTP with a real worker: mark read, move, create a folder; each
answers at once, the task ends `success` through GET /api/tasks/<id>, and Dovecot shows the change."""

from __future__ import annotations

from imapclient import IMAPClient

from tests.conftest import make_caller
from tests.e2e.http import call, poll_task
from tests.e2e.test_sync_flow import _mail


def _server(imap_user, folder: str) -> dict[str, set[bytes]]:
    client = IMAPClient(imap_user.host, imap_user.port, ssl=False, timeout=30)
    try:
        client.login(imap_user.username, imap_user.password)
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        data = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) if uids else {}
        return {
            d[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip().removeprefix("Subject: "): set(d[b"FLAGS"])
            - {b"\\Recent"}
            for d in data.values()
        }
    finally:
        client.logout()


def test_write_backs_through_worker_and_api(api_url, worker, clean_db, dovecot, imap_user) -> None:
    dovecot.seed_maildir(imap_user.username, "INBOX", [_mail(n) for n in range(2)])
    owner = make_caller()
    status, account = call("POST", f"{api_url}/api/accounts", owner.token, imap_user.account_data())
    assert status == 201, account
    status, started = call(
        "POST", f"{api_url}/api/email/sync", owner.token, {"email_client_id": account["id"]}
    )
    assert poll_task(api_url, owner.token, started["taskId"])["status"] == "success"
    status, page = call("GET", f"{api_url}/api/email/messages?account_id={account['id']}", owner.token)
    by_subject = {m["subject"]: m["id"] for m in page["items"]}

    status, view = call(
        "PATCH", f"{api_url}/api/email/messages/{by_subject['e2e message 0']}", owner.token, {"is_read": True}
    )
    assert status == 200 and view["is_read"] is True, view
    done = poll_task(api_url, owner.token, view["taskId"])
    assert done["status"] == "success" and done["result"]["done_count"] == 1, done
    assert _server(imap_user, "INBOX")["e2e message 0"] == {b"\\Seen"}

    status, listed = call("GET", f"{api_url}/api/accounts/{account['id']}/folders", owner.token)
    archive = next(f["id"] for f in listed["items"] if f["role"] == "archive")
    body = {"email_ids": [by_subject["e2e message 1"]], "folder_id": archive}
    status, moved = call("POST", f"{api_url}/api/email/move", owner.token, body)
    assert status == 202, moved
    assert poll_task(api_url, owner.token, moved["taskId"])["status"] == "success"
    assert set(_server(imap_user, "Archive")) == {"e2e message 1"}
    assert set(_server(imap_user, "INBOX")) == {"e2e message 0"}

    status, created = call(
        "POST", f"{api_url}/api/accounts/{account['id']}/folders", owner.token, {"name": "Later"}
    )
    assert status == 202, created
    finished = poll_task(api_url, owner.token, created["taskId"])
    assert finished["status"] == "success" and finished["result"]["folder_id"] == created["folder_id"]
    assert _server(imap_user, "Later") == {}
