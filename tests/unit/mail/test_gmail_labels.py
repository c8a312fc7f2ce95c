"""X-GM-LABELS and X-GM-MSGID in FETCH responses shaped as Google's IMAP extension documentation shows them.

The transcripts are written here after the documented format (labels as atoms, quoted strings with
escapes, literals, an empty list); both the fast path and the full parser of mail/imap/wire.py are
driven, since a quoted label or a literal sends a response to the full parser.
"""

from __future__ import annotations

import io

from email_service.mail.imap.gmail import MAX_LABELS, gm_labels
from email_service.mail.imap.messages import flag_items, message_items
from email_service.mail.imap.wire import Response, fetch_items, read_response, to_flag_update, to_message

BODY = b"Subject: lunch\r\nMessage-ID: <a@example.test>\r\n\r\nhi\r\n"


def _read(data: bytes) -> Response:
    stream = io.BytesIO(data)
    return read_response(stream.readline, stream.read)


def _message(labels: bytes) -> Response:
    return _read(
        b"* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 X-GM-LABELS "
        + labels
        + b' UID 4 FLAGS (\\Seen) INTERNALDATE " 7-Jul-2021 02:44:25 +0000"'
        b" RFC822.SIZE %d BODY[] {%d}\r\n" % (len(BODY), len(BODY)) + BODY + b")\r\n"
    )


def _labels_of(line: bytes) -> tuple[str, ...] | None:
    items = fetch_items(_read(line))
    assert items is not None
    update = to_flag_update(items)
    assert update is not None
    return update.gm_labels


def test_documented_labels_with_a_quoted_one_and_the_message_id() -> None:
    items = fetch_items(_message(b'(\\Inbox \\Sent Important "Muy Importante")'))
    assert items is not None
    message = to_message(items)
    assert message is not None and message.uid == 4 and message.raw == BODY
    assert message.gm_labels == ("\\Inbox", "\\Sent", "Important", "Muy Importante")
    assert message.gm_msgid == "1278455344230334865"
    assert message.gm_thread_id == "1278455344230334865"


def test_atoms_only_take_the_fast_path_and_parse_the_same() -> None:
    assert _labels_of(b"* 2 FETCH (X-GM-LABELS (foo \\Important) UID 9 FLAGS ())\r\n") == (
        "foo",
        "\\Important",
    )


def test_an_empty_label_list_is_no_labels_not_unknown() -> None:
    assert _labels_of(b"* 3 FETCH (X-GM-LABELS () UID 10 FLAGS (\\Seen))\r\n") == ()
    message = to_message(fetch_items(_message(b"()")) or {})
    assert message is not None and message.gm_labels == ()


def test_quoted_labels_with_escapes_and_a_literal() -> None:
    line = b'* 4 FETCH (UID 11 FLAGS () X-GM-LABELS ("\\\\Important" "say \\"hi\\"" {7}\r\nwork/q1 NIL))\r\n'
    assert _labels_of(line) == ("\\Important", 'say "hi"', "work/q1")


def test_non_ascii_labels_are_modified_utf7() -> None:
    # "Entwürfe" and "日本語" as mailbox names, as Gmail sends label names
    line = b"* 5 FETCH (UID 12 FLAGS () X-GM-LABELS (Entw&APw-rfe &ZeVnLIqe-))\r\n"
    assert _labels_of(line) == ("Entwürfe", "日本語")


def test_flags_without_labels_leave_them_unknown() -> None:
    assert _labels_of(b"* 6 FETCH (UID 13 FLAGS (\\Seen) MODSEQ (9))\r\n") is None


def test_a_malformed_message_id_is_dropped_and_labels_are_bounded() -> None:
    line = b"* 7 FETCH (X-GM-MSGID -3 UID 14 FLAGS () BODY[] {%d}\r\n" % len(BODY) + BODY + b")\r\n"
    message = to_message(fetch_items(_read(line)) or {})
    assert message is not None and message.gm_msgid is None and message.gm_labels == ()
    many = [b"l%d" % i for i in range(MAX_LABELS + 50)] + [b"l1"]
    labels = gm_labels([*many])
    assert labels is not None and len(labels) == MAX_LABELS
    assert gm_labels(b"notalist") is None


def test_labels_are_fetched_only_when_advertised() -> None:
    assert b"X-GM-LABELS" in message_items(condstore=True, gmail=True)
    assert b"X-GM-MSGID" in message_items(condstore=False, gmail=True)
    assert flag_items(condstore=True, gmail=True) == b"(UID FLAGS MODSEQ X-GM-LABELS)"
    assert flag_items(condstore=False, gmail=False) == b"(UID FLAGS)"
