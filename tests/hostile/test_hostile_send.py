"""Issue 16 item 6: a `to` built from thousands of copies of one address costs the API almost nothing
(bounded before parsing: a 422) and, within the bounds, copies are sent and written once."""

from __future__ import annotations

import time
from typing import Any

import pytest

from email_service.sending.schemas import MAX_ADDRESS_CHARS
from tests.attack_report import Attack
from tests.conftest import Caller
from tests.integration.sending.send_support import SendAccount, make_send_account, parse, post_send, run_task
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer

# The finding: 6.5 s of API CPU for one request. A refusal must take a small part of that.
REFUSAL_BOUND_SECONDS = 0.5


@pytest.fixture
def account(owner: Caller, smtp: SmtpTestServer, imap_user: ImapUser) -> SendAccount:
    return make_send_account(owner, smtp, imap_user)


@pytest.mark.parametrize(
    "fields",
    [
        {"to": [", ".join(["bob@example.test"] * 40_000)]},  # the finding: one string, 40,000 copies
        {"to": ["bob@example.test"], "bcc": [", ".join(["b@example.test"] * 60)] * 300},  # many entries
    ],
    ids=["one-string", "many-entries"],
)
def test_oversized_address_fields_are_refused_before_parsing(
    client: Any, account: SendAccount, fields: dict[str, Any], attack: Attack
) -> None:
    started = time.process_time()
    response = post_send(client, account, **fields)
    spent = time.process_time() - started
    assert response.status_code == 422, response.get_json()
    assert "error" in response.get_json()
    chars = sum(map(len, fields.get("to", []) + fields.get("bcc", [])))
    attack(f"send with {chars} characters of addresses: refused (422) in, CPU", spent, REFUSAL_BOUND_SECONDS)


def test_copies_of_one_address_are_sent_once(
    client: Any, account: SendAccount, smtp: SmtpTestServer, attack: Attack
) -> None:
    entry = ", ".join(["Bob <bob@example.test>", "BOB@example.test", "bob@EXAMPLE.test"] * 15)
    entries = [entry] * (MAX_ADDRESS_CHARS // (len(entry) + 1))
    assert len(entries) * 45 > 1_000  # over a thousand copies, inside the bounds
    started = time.process_time()
    response = post_send(client, account, to=entries, cc=["bob@example.test"])
    spent = time.process_time() - started
    assert response.status_code == 202, response.get_json()
    attack(
        f"send to one address copied {len(entries) * 45} times: accepted in, CPU",
        spent,
        REFUSAL_BOUND_SECONDS,
    )
    result = run_task(account, response.get_json()["taskId"]).result
    assert result["recipients_sent"] == 1
    sent = smtp.messages[-1]
    assert [r.lower() for r in sent.rcpt_tos] == ["bob@example.test"]
    message = parse(sent.data)
    assert str(message["To"]).lower().count("bob@example.test") == 1
    assert len(sent.data) < 5_000
