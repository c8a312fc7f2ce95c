"""The SMTP adapter against a real aiosmtpd server over TLS sockets, including scripted faults."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import cast

import aiosmtplib
import pytest

from email_service.mail.mime.compose import ComposedMessage, ComposeRequest, build_message
from email_service.mail.smtp.client import (
    SmtpAuthError,
    SmtpError,
    SmtpPermanentError,
    SmtpSettings,
    SmtpTlsError,
    SmtpTransientError,
    SmtpUncertainError,
    check_login,
    open_smtp,
)
from tests.servers.smtp_fixtures import SMTP_USERS
from tests.servers.smtp_server import SmtpTestServer, free_port

USER = "alice@example.test"
BOB, CAROL = "bob@example.test", "carol@example.test"


def settings_for(server: SmtpTestServer, **changes: object) -> SmtpSettings:
    base = SmtpSettings(
        host=server.host,
        port=server.port,
        security="starttls",
        username=USER,
        password=SMTP_USERS[USER],
        timeout=10,
        pinned_cert_pem=server.cert_pem,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def message(subject: str = "Hello", **changes: object) -> ComposedMessage:
    request = ComposeRequest(
        from_address=USER, from_name="Alice", to=[f"Bob <{BOB}>"], subject=subject, body_text="Hi Bob\n"
    )
    return build_message(replace(request, **changes))  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))


def test_starttls_auth_delivery_round_trip(smtp: SmtpTestServer) -> None:
    attachment = bytes(range(256)) * 40
    composed = message(
        "Grüße ✓",
        body_html="<p>Hi <b>Bob</b></p>",
        cc=[CAROL],
        bcc=["Hidden <hidden@example.test>"],
        attachments=[("naïve.bin", "application/octet-stream", attachment)],
    )
    with open_smtp(settings_for(smtp)) as session:
        result = session.send(composed.envelope_from, composed.recipients, composed.raw)
    assert result.accepted == (BOB, CAROL, "hidden@example.test")
    assert result.refused == {}
    assert result.reply.startswith("250")
    [received] = smtp.messages
    assert (received.mail_from, received.user, received.tls) == (USER, USER, True)
    assert received.rcpt_tos == (BOB, CAROL, "hidden@example.test")
    assert received.data == composed.raw
    delivered = parse(received.data)
    assert "Bcc" not in delivered and b"hidden@example.test" not in received.data
    assert delivered["Subject"] == "Grüße ✓"
    assert delivered["Message-ID"] == composed.message_id
    body = cast(EmailMessage, delivered.get_body(("plain",))).get_content()
    assert body.replace("\r\n", "\n") == "Hi Bob\n"
    [part] = delivered.iter_attachments()
    assert (part.get_filename(), part.get_content()) == ("naïve.bin", attachment)


def test_dot_lines_and_bare_newlines_survive(smtp: SmtpTestServer) -> None:
    raw = b"Subject: dots\n\n.\n..two\n.leading\nend"
    with open_smtp(settings_for(smtp)) as session:
        session.send(USER, [BOB], raw)
    assert smtp.messages[0].data == b"Subject: dots\r\n\r\n.\r\n..two\r\n.leading\r\nend\r\n"


def test_implicit_tls(smtp: SmtpTestServer) -> None:
    composed = message()
    with open_smtp(settings_for(smtp, port=smtp.tls_port, security="ssl")) as session:
        session.send(composed.envelope_from, composed.recipients, composed.raw)
    assert [(m.user, m.tls) for m in smtp.messages] == [(USER, True)]


def test_self_signed_cert_rejected_without_pin(smtp: SmtpTestServer) -> None:
    for security, port in (("starttls", smtp.port), ("ssl", smtp.tls_port)):
        with pytest.raises(SmtpTlsError):
            check_login(settings_for(smtp, security=security, port=port, pinned_cert_pem=None))
    check_login(settings_for(smtp, pinned_cert_pem=None, verify_cert=False))
    assert smtp.messages == []


def test_check_login_and_bad_password(smtp: SmtpTestServer) -> None:
    check_login(settings_for(smtp))
    with pytest.raises(SmtpAuthError) as info:
        check_login(settings_for(smtp, password="wrong"))
    assert info.value.code == 535
    assert "credentials invalid" in info.value.server_reply.lower()


def test_no_auth_offered_without_tls(smtp: SmtpTestServer) -> None:
    with pytest.raises(SmtpAuthError):
        check_login(settings_for(smtp, security="none"))


def test_connection_refused_is_transient() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=5)
    with pytest.raises(SmtpTransientError) as info:
        check_login(settings)
    assert not isinstance(info.value, SmtpUncertainError)


def test_451_on_data_is_transient_and_session_survives(smtp: SmtpTestServer) -> None:
    smtp.script_reply("DATA", "451 4.3.0 Mailbox busy, try later")
    composed = message()
    with open_smtp(settings_for(smtp)) as session:
        with pytest.raises(SmtpTransientError) as info:
            session.send(composed.envelope_from, composed.recipients, composed.raw)
        session.send(composed.envelope_from, composed.recipients, composed.raw)
    assert type(info.value) is SmtpTransientError
    assert info.value.code == 451
    assert info.value.server_reply == "4.3.0 Mailbox busy, try later"
    assert len(smtp.messages) == 1
    assert smtp.connections == 1


def test_mail_from_rejections(smtp: SmtpTestServer) -> None:
    smtp.script_reply("MAIL", "452 4.3.1 Insufficient storage")
    smtp.script_reply("MAIL", "553 5.7.1 Sender not allowed")
    with open_smtp(settings_for(smtp)) as session:
        with pytest.raises(SmtpTransientError) as transient:
            session.send(USER, [BOB], b"Subject: x\r\n\r\nx\r\n")
        with pytest.raises(SmtpPermanentError) as permanent:
            session.send(USER, [BOB], b"Subject: x\r\n\r\nx\r\n")
    assert (transient.value.code, permanent.value.code) == (452, 553)
    assert smtp.messages == []


def test_one_recipient_refused_gives_partial_result(smtp: SmtpTestServer) -> None:
    smtp.script_reply("RCPT", "550 5.1.1 No such user", rcpt=CAROL)
    with open_smtp(settings_for(smtp)) as session:
        result = session.send(USER, [BOB, CAROL], b"Subject: x\r\n\r\nx\r\n")
    assert result.accepted == (BOB,)
    assert result.refused == {CAROL: (550, "5.1.1 No such user")}
    assert [m.rcpt_tos for m in smtp.messages] == [(BOB,)]


def test_all_recipients_refused_is_permanent(smtp: SmtpTestServer) -> None:
    smtp.script_reply("RCPT", "550 5.1.1 No such user", rcpt=BOB)
    smtp.script_reply("RCPT", "550 5.1.1 No such user", rcpt=CAROL)
    with open_smtp(settings_for(smtp)) as session:
        with pytest.raises(SmtpPermanentError) as info:
            session.send(USER, [BOB, CAROL], b"Subject: x\r\n\r\nx\r\n")
        session.send(USER, [BOB], b"Subject: after\r\n\r\nx\r\n")
    assert set(info.value.refused) == {BOB, CAROL}
    assert info.value.code == 550
    assert [m.rcpt_tos for m in smtp.messages] == [(BOB,)]


def test_all_recipients_deferred_is_transient(smtp: SmtpTestServer) -> None:
    smtp.script_reply("RCPT", "450 4.2.0 Greylisted", rcpt=BOB)
    with open_smtp(settings_for(smtp)) as session, pytest.raises(SmtpTransientError) as info:
        session.send(USER, [BOB], b"Subject: x\r\n\r\nx\r\n")
    assert info.value.refused == {BOB: (450, "4.2.0 Greylisted")}


def test_drop_after_data_is_uncertain_then_reconnects(smtp: SmtpTestServer) -> None:
    smtp.script_reply("DATA", None, close=True)
    composed = message()
    with open_smtp(settings_for(smtp)) as session:
        with pytest.raises(SmtpUncertainError):
            session.send(composed.envelope_from, composed.recipients, composed.raw)
        session.send(composed.envelope_from, composed.recipients, composed.raw)
    assert len(smtp.messages) == 2  # the server did take the first copy: resending duplicated it
    assert smtp.connections == 2


def test_uncertain_is_its_own_class_not_a_transient_error(smtp: SmtpTestServer) -> None:
    """Whoever retries transient errors can never resend a message the server may already have."""
    smtp.script_reply("DATA", None, close=True)
    with open_smtp(settings_for(smtp)) as session, pytest.raises(SmtpUncertainError) as info:
        session.send(USER, [BOB], b"Subject: once\r\n\r\nx\r\n")
    assert not isinstance(info.value, SmtpTransientError)
    assert len(smtp.messages) == 1


def test_an_unexpected_exception_inside_the_adapter_is_a_bug_and_fails_loudly(smtp: SmtpTestServer) -> None:
    """A programming error (here a str body) surfaces as itself: no transient retry, no delivery failure."""
    with open_smtp(settings_for(smtp)) as session, pytest.raises(TypeError) as info:
        session.send(USER, [BOB], cast(bytes, "Subject: x\r\n\r\nnot bytes\r\n"))
    assert not isinstance(info.value, SmtpError)
    assert smtp.messages == []


def test_line_breaks_in_the_envelope_or_credentials_never_reach_the_server(smtp: SmtpTestServer) -> None:
    raw = b"Subject: x\r\n\r\nx\r\n"
    with open_smtp(settings_for(smtp)) as session:
        for sender, rcpt in [
            (USER, f"{BOB}>\r\nRCPT TO:<{CAROL}"),
            (f"{USER}\nRSET", BOB),
            (USER, f"{BOB}\x00"),
        ]:
            with pytest.raises(SmtpPermanentError, match="CR, LF or NUL"):
                session.send(sender, [rcpt], raw)
        session.send(USER, [BOB], raw)  # nothing was written: the session is as good as before
    assert [m.rcpt_tos for m in smtp.messages] == [(BOB,)]
    for changes in ({"username": USER + "\r\nQUIT"}, {"password": "pw\nQUIT"}):
        with pytest.raises(SmtpAuthError, match="CR, LF or NUL"):
            check_login(settings_for(smtp, **changes))


def test_stall_after_data_beyond_timeout_is_uncertain(smtp: SmtpTestServer) -> None:
    smtp.script_reply("DATA", stall=3.0)
    with open_smtp(settings_for(smtp, timeout=0.5)) as session:
        started = time.monotonic()
        with pytest.raises(SmtpUncertainError):
            session.send(USER, [BOB], b"Subject: slow\r\n\r\nx\r\n")
    assert time.monotonic() - started < 2.5


def test_421_and_close_after_data_is_transient_not_uncertain(smtp: SmtpTestServer) -> None:
    smtp.script_reply("DATA", "421 4.3.2 Shutting down", close=True)
    with open_smtp(settings_for(smtp)) as session:
        with pytest.raises(SmtpTransientError) as info:
            session.send(USER, [BOB], b"Subject: x\r\n\r\nx\r\n")
        session.send(USER, [BOB], b"Subject: again\r\n\r\nx\r\n")
    assert not isinstance(info.value, SmtpUncertainError)
    assert info.value.code == 421
    assert len(smtp.messages) == 1
    assert smtp.connections == 2


def test_421_on_rcpt_aborts_transaction(smtp: SmtpTestServer) -> None:
    smtp.script_reply("RCPT", "421 4.7.0 Too many errors", close=True)
    with open_smtp(settings_for(smtp)) as session, pytest.raises(SmtpTransientError) as info:
        session.send(USER, [BOB, CAROL], b"Subject: x\r\n\r\nx\r\n")
    assert info.value.code == 421
    assert smtp.messages == []


def test_connection_reuse(smtp: SmtpTestServer) -> None:
    with open_smtp(settings_for(smtp)) as session:
        for index in range(3):
            composed = message(f"message {index}")
            session.send(composed.envelope_from, composed.recipients, composed.raw)
    assert smtp.connections == 1
    assert [parse(m.data)["Subject"] for m in smtp.messages] == ["message 0", "message 1", "message 2"]


async def _raw_aiosmtplib(server: SmtpTestServer, messages: list[ComposedMessage]) -> None:
    context = ssl.create_default_context(cadata=server.cert_pem)
    client = aiosmtplib.SMTP(hostname=server.host, port=server.port, start_tls=True, tls_context=context)
    await client.connect()
    await client.login(USER, SMTP_USERS[USER])
    for composed in messages:
        await client.sendmail(composed.envelope_from, list(composed.recipients), composed.raw)
    await client.quit()


def _adapter(server: SmtpTestServer, messages: list[ComposedMessage]) -> None:
    with open_smtp(settings_for(server)) as session:
        for composed in messages:
            session.send(composed.envelope_from, composed.recipients, composed.raw)


def test_adapter_sends_many_over_one_connection_like_the_raw_client(smtp: SmtpTestServer) -> None:
    """200 messages over one connection each, adapter and raw aiosmtplib: the same bytes arrive.

    Their speed is compared in bench/send_bench.py, not here.
    """
    messages = [message(f"bench {index}", body_text="x" * 2000 + "\n") for index in range(200)]
    asyncio.run(_raw_aiosmtplib(smtp, messages))
    _adapter(smtp, messages)
    assert len(smtp.messages) == 400 and smtp.connections == 2
    assert [m.data for m in smtp.messages[200:]] == [m.data for m in smtp.messages[:200]]
    assert smtp.messages[200].data == messages[0].raw
