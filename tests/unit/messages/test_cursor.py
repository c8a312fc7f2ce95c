"""The listing cursor: opaque, round-trips exactly, and any tampering is a 400 naming the field."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from email_service.core.errors import BadRequest
from email_service.messages.service import Cursor, decode_cursor, encode_cursor, escape_like


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1999, 1, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(2030, 6, 1, 12, 0, 0, 1, tzinfo=UTC),
    ],
)
def test_round_trip_keeps_microseconds_and_offset(moment: datetime) -> None:
    cursor = Cursor(moment, "0f6b1c3e-8f1a-4d8e-9a55-3c1e2b7d9f00")
    decoded = decode_cursor(encode_cursor(cursor))
    assert decoded == cursor
    assert decoded.date_sort.utcoffset() == moment.utcoffset()


def test_token_is_url_safe_and_unpadded() -> None:
    token = encode_cursor(Cursor(datetime(2024, 1, 1, tzinfo=UTC), "id/with+odd?chars=="))
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(token).id == "id/with+odd?chars=="


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!!",
        "not base64 at all",
        "é" * 8,
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
        _b64("just a string"),
        _b64({"2024-01-01T00:00:00+00:00": 1, "x": 2}),
        _b64(["2024-01-01T00:00:00+00:00"]),
        _b64(["2024-01-01T00:00:00+00:00", "id", "extra"]),
        _b64(["yesterday", "id"]),
        _b64(["2024-01-01T00:00:00+00:00", ""]),
        _b64(["2024-01-01T00:00:00+00:00", 7]),
        _b64([20240101, "id"]),
        "A" * 600,
    ],
)
def test_invalid_tokens_are_bad_requests_naming_the_cursor(token: str) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_cursor(token)
    assert caught.value.details == {"field": "cursor"}


@pytest.mark.parametrize(
    ("term", "escaped"),
    [
        ("50%", "50\\%"),
        ("a_b", "a\\_b"),
        ("back\\slash", "back\\\\slash"),
        ("plain", "plain"),
        ("\\%_", "\\\\\\%\\_"),
    ],
)
def test_escape_like_makes_wildcards_literal(term: str, escaped: str) -> None:
    assert escape_like(term) == escaped
