"""X-GM-THRID on a Gmail-style FETCH transcript: parsed into FetchedMessage, asked for only on X-GM-EXT-1.

Dovecot (the suite's server) does not offer X-GM-EXT-1, so this path is checked on server bytes here.
"""

from __future__ import annotations

import io

from email_service.mail.imap.messages import message_items
from email_service.mail.imap.wire import Response, fetch_items, read_response, to_message

BODY = b"Subject: lunch\r\nMessage-ID: <a@example.test>\r\n\r\nhi\r\n"


def _fetch(extra: bytes) -> Response:
    data = (
        b"* 1 FETCH (X-GM-THRID " + extra + b' UID 4 FLAGS (\\Seen) INTERNALDATE " 7-Jul-2021 02:44:25 +0000"'
        b" RFC822.SIZE %d BODY[] {%d}\r\n" % (len(BODY), len(BODY)) + BODY + b")\r\n"
    )
    stream = io.BytesIO(data)
    return read_response(stream.readline, stream.read)


def test_gmail_thread_id_is_parsed() -> None:
    items = fetch_items(_fetch(b"1278455344230334865"))
    assert items is not None
    message = to_message(items)
    assert message is not None and message.uid == 4 and message.raw == BODY
    assert message.gm_thread_id == "1278455344230334865"


def test_a_malformed_or_absent_thread_id_falls_back_to_headers() -> None:
    for bad in (b"NIL", b"-5", b"12ab", b"0", b"99999999999999999999999"):
        items = fetch_items(_fetch(bad))
        assert items is not None
        message = to_message(items)
        assert message is not None and message.gm_thread_id is None, bad


def test_thread_id_is_fetched_only_when_advertised() -> None:
    assert b"X-GM-THRID" in message_items(condstore=True, gmail=True)
    assert b"X-GM-THRID" not in message_items(condstore=True, gmail=False)
    assert message_items(condstore=False, gmail=False) == b"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"
