"""UID-set helpers, folder roles and the fast IMAP response parser on hand-written server bytes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from email_service.mail.imap import uidset
from email_service.mail.imap.folders import assign_roles, quote_mailbox
from email_service.mail.imap.types import ImapConnectionError
from email_service.mail.imap.wire import (
    Response,
    fetch_items,
    parse_internaldate,
    parse_tokens,
    read_response,
    to_flag_update,
    to_message,
)
from email_service.mail.wire_text import has_line_break


def _read_all(data: bytes) -> list[Response]:
    stream = io.BytesIO(data)
    out = []
    while stream.tell() < len(data):
        out.append(read_response(stream.readline, stream.read))
    return out


# -- uidset ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uids", "expected"),
    [
        ([1, 2, 3, 4, 5, 7, 9, 10, 11, 12], "1:5,7,9:12"),
        ([12, 3, 1, 2, 3], "1:3,12"),
        ([42], "42"),
        ([], ""),
        (range(1, 10001), "1:10000"),
    ],
)
def test_to_ranges_compresses_sorted_unique_runs(uids: list[int], expected: str) -> None:
    assert uidset.to_ranges(uids) == expected


def test_to_ranges_rejects_non_positive() -> None:
    with pytest.raises(ValueError):
        uidset.to_ranges([0, 1])


def test_chunks_stay_under_limit_and_cover_everything() -> None:
    uids = list(range(1, 200_000, 2))  # 100k isolated UIDs: one long list would be ~600 KB
    parts = list(uidset.chunks(uids, max_len=1000))
    assert all(len(p) <= 1000 for p in parts)
    assert len(parts) > 100
    back = [u for p in parts for u in uidset.parse_sequence_set(p)]
    assert back == uids


def test_chunks_single_run_is_one_chunk() -> None:
    assert list(uidset.chunks(range(1, 50_001))) == ["1:50000"]
    assert list(uidset.chunks([])) == []


def test_batches_keep_order() -> None:
    assert list(uidset.batches([9, 8, 7, 6, 5], 2)) == [[9, 8], [7, 6], [5]]


def test_parse_sequence_set() -> None:
    assert uidset.parse_sequence_set("1:5,7") == [1, 2, 3, 4, 5, 7]
    assert uidset.parse_sequence_set("9:7,8") == [7, 8, 9]
    assert uidset.parse_sequence_set("5:*", star=7) == [5, 6, 7]
    assert uidset.parse_sequence_set("") == []
    with pytest.raises(ValueError):
        uidset.parse_sequence_set("1:*")
    with pytest.raises(ValueError):
        uidset.parse_sequence_set("1 2")


def test_iter_sequence_set_keeps_written_order() -> None:
    assert list(uidset.iter_sequence_set("10,3:4,1")) == [10, 3, 4, 1]


# -- folders --------------------------------------------------------------------------------


def test_roles_from_special_use_flags_win_over_names() -> None:
    rows = [
        (("\\HasNoChildren",), ".", "INBOX"),
        (("\\Sent",), ".", "Gesendet"),
        ((), ".", "Sent Items"),
        (("\\Noselect",), ".", "Spam"),
        ((), ".", "Bulk Mail"),
    ]
    roles = {f.name: f.role for f in assign_roles(rows)}
    assert roles == {"INBOX": "inbox", "Gesendet": "sent", "Sent Items": None, "Bulk Mail": "junk"}


def test_roles_from_names_without_special_use() -> None:
    rows = [((), ".", n) for n in ("INBOX", "INBOX.Sent Messages", "Deleted Items", "Work.Drafts", "Drafts")]
    roles = {f.name: f.role for f in assign_roles(rows)}
    assert roles["INBOX.Sent Messages"] == "sent"
    assert roles["Deleted Items"] == "trash"
    assert roles["Work.Drafts"] is None  # nested folders are not guessed
    assert roles["Drafts"] == "drafts"


def test_quote_mailbox_utf7_and_escapes() -> None:
    assert quote_mailbox("inbox") == b'"INBOX"'
    assert quote_mailbox('a"b\\c') == b'"a\\"b\\\\c"'
    assert quote_mailbox("Entwürfe") == b'"Entw&APw-rfe"'


# -- wire parser ----------------------------------------------------------------------------

TRICKY = b'Subject: x\r\n\r\nA ) closes {5}\r\nand "quotes" (open\r\n'


def _fetch_bytes(body: bytes, uid: int = 7) -> bytes:
    return (
        b"* 3 FETCH (UID %d FLAGS (\\Seen \\Recent $Forwarded) MODSEQ (42) "
        b'INTERNALDATE " 7-Jul-2021 02:44:25 -0700" RFC822.SIZE %d BODY[] {%d}\r\n'
        % (uid, len(body), len(body))
        + body
        + b")\r\n"
    )


def test_fetch_with_tricky_literal_is_exact() -> None:
    [resp] = _read_all(_fetch_bytes(TRICKY))
    items = fetch_items(resp)
    assert items is not None
    msg = to_message(items)
    assert msg is not None
    assert msg.raw == TRICKY
    assert msg.uid == 7 and msg.modseq == 42 and msg.size == len(TRICKY)
    assert msg.flags == ("\\Seen", "$Forwarded")
    assert msg.internaldate == datetime(2021, 7, 7, 2, 44, 25, tzinfo=timezone(timedelta(hours=-7)))


def test_literal_ending_like_a_literal_marker() -> None:
    body = b"Subject: y\r\n\r\nlooks like a marker {12}\r\n"
    responses = _read_all(_fetch_bytes(body, uid=8) + b"* 9 EXISTS\r\n")
    items = fetch_items(responses[0])
    assert items is not None
    msg = to_message(items)
    assert msg is not None and msg.raw == body and msg.uid == 8
    assert responses[1].head == b"* 9 EXISTS"


def test_interleaved_untagged_responses_are_separate() -> None:
    data = (
        b"* 12 EXISTS\r\n"
        + _fetch_bytes(b"one\r\n", uid=1)
        + b"* 2 EXPUNGE\r\n* 4 FETCH (FLAGS (\\Deleted) UID 9)\r\n"
        + _fetch_bytes(b"{3}\r\nabc", uid=2)
        + b"A1 OK Fetch completed.\r\n"
    )
    responses = _read_all(data)
    assert [r.head[:6] for r in responses] == [
        b"* 12 E",
        b"* 3 FE",
        b"* 2 EX",
        b"* 4 FE",
        b"* 3 FE",
        b"A1 OK ",
    ]
    messages = [to_message(i) for r in responses if (i := fetch_items(r))]
    assert [(m.uid, m.raw) for m in messages if m] == [(1, b"one\r\n"), (2, b"{3}\r\nabc")]
    flag_only = fetch_items(responses[3])
    assert flag_only is not None and to_message(flag_only) is None
    update = to_flag_update(flag_only)
    assert update is not None and (update.uid, update.flags, update.modseq) == (9, ("\\Deleted",), None)


def test_general_parser_handles_nesting_escapes_and_sections() -> None:
    data = (
        b'* 1 FETCH (UID 5 X-LIST ((a "b\\"c") NIL) BODY[HEADER.FIELDS (SUBJECT)] {4}\r\nab)\n'
        b' INTERNALDATE "01-Jan-2020 00:00:00 +0000")\r\n'
    )
    [resp] = _read_all(data)
    items = fetch_items(resp)
    assert items is not None
    assert items[b"X-LIST"] == [[b"a", b'b"c'], None]
    assert items[b"BODY[HEADER.FIELDS (SUBJECT)]"] == b"ab)\n"
    assert parse_tokens(resp)[0] == b"*"


def test_empty_body_literal_and_empty_flags() -> None:
    [resp] = _read_all(b"* 1 FETCH (UID 3 FLAGS () BODY[] {0}\r\n)\r\n")
    items = fetch_items(resp)
    assert items is not None
    msg = to_message(items)
    assert msg is not None and msg.raw == b"" and msg.flags == () and msg.internaldate is None


def test_truncated_literal_is_a_connection_error() -> None:
    stream = io.BytesIO(b"* 1 FETCH (UID 3 BODY[] {10}\r\nshort")
    with pytest.raises(ImapConnectionError):
        read_response(stream.readline, stream.read)


def test_unbalanced_parens_rejected() -> None:
    [resp] = _read_all(b"* 1 FETCH (UID 3 FLAGS (\\Seen)\r\n")
    with pytest.raises(ValueError):
        fetch_items(resp)


def test_internaldate_space_padded_day_and_utc() -> None:
    assert parse_internaldate(b" 1-Feb-2024 10:00:00 +0000") == datetime(2024, 2, 1, 10, tzinfo=UTC)


def test_quote_mailbox_never_splits_the_command_line() -> None:
    assert quote_mailbox("a\r\nb DELETE INBOX") == b'"a&AA0ACg-b DELETE INBOX"'
    for name in ("a\nb", "a\x00b", "a\rb"):
        assert not has_line_break(quote_mailbox(name)), name
