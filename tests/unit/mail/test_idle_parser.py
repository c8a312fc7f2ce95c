"""The IDLE client's reply parser and bounded reader against hostile input (no server needed)."""

from __future__ import annotations

import asyncio

import pytest

from email_service.mail.imap.idle import (
    MAX_LINE,
    MAX_LITERAL,
    IdleProtocolError,
    Untagged,
    parse_untagged,
    read_reply,
)
from email_service.mail.imap.types import ImapConnectionError


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"* 23 EXISTS\r\n", Untagged("EXISTS", 23)),
        (b"* 5 expunge\r\n", Untagged("EXPUNGE", 5)),
        (b"* 3 FETCH (FLAGS (\\Seen))\r\n", Untagged("FETCH", 3)),
        (b"* VANISHED (EARLIER) 1:3\r\n", Untagged("VANISHED")),
        (b"* BYE shutting down\r\n", Untagged("BYE")),
        (b"* OK Still here\r\n", Untagged("OK")),
    ],
)
def test_untagged_replies_are_named(line: bytes, expected: Untagged) -> None:
    assert parse_untagged(line) == expected


@pytest.mark.parametrize(
    "line", [b"", b"+ idling\r\n", b"W1 OK done\r\n", b"\x00\xff\xfe garbage", b"*", b"* 99999999999 EXISTS"]
)
def test_garbage_is_not_a_change(line: bytes) -> None:
    reply = parse_untagged(line)
    assert reply is None or not reply.is_change


def test_change_kinds() -> None:
    assert Untagged("EXISTS", 1).is_change and not Untagged("RECENT", 1).is_change


def _read(data: bytes) -> bytes:
    async def go() -> bytes:
        reader = asyncio.StreamReader(limit=MAX_LINE)
        reader.feed_data(data)
        reader.feed_eof()
        return await read_reply(reader)

    return asyncio.run(go())


def test_overlong_line_is_a_protocol_error_not_a_buffer() -> None:
    with pytest.raises(IdleProtocolError):
        _read(b"* 1 FETCH (" + b"x" * (MAX_LINE * 4) + b")\r\n")


def test_literal_is_skipped_and_the_first_line_returned() -> None:
    assert _read(b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n* 2 EXISTS\r\n") == b"* 1 FETCH (BODY[] {5}\r\n"


def test_huge_literal_is_refused() -> None:
    with pytest.raises(IdleProtocolError):
        _read(b"* 1 FETCH (BODY[] {%d}\r\n" % (MAX_LITERAL + 1))


def test_eof_mid_line_is_a_closed_connection() -> None:
    with pytest.raises(ImapConnectionError):
        _read(b"* 1 EXI")
