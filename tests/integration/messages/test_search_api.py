"""q= full-text search through the HTTP API, on PostgreSQL (tsvector + GIN) and SQLite (FTS5).

Rows are inserted as the sync writes them (attachment_names set by its row builder); the search index
is kept by the database's own triggers, so every assertion here goes through the real index.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update

from email_service.core.db import session_scope
from email_service.messages.model import Message
from email_service.messages.search.query import MAX_QUERY_CHARS, MAX_TERMS
from tests.conftest import Caller, apply_environment, make_caller
from tests.integration.messages.test_messages_api import Mailbox, add_message, ids, listing, make_mailbox

DAY = datetime(2026, 3, 15, tzinfo=UTC)


@pytest.fixture
def box(owner: Caller) -> Mailbox:
    return make_mailbox(owner)


def search(client: Any, caller: Caller, q: str, **params: Any) -> set[str]:
    return ids(client, caller, q=q, **params)


def test_a_bare_word_matches_subject_addresses_body_and_attachment_names(
    client: Any, box: Mailbox, owner: Caller
) -> None:
    subject = add_message(box, subject="Kangaroo sightings")
    sender = add_message(box, from_name="Kangaroo Club", from_address="club@zoo.example")
    to = add_message(box, to_addresses=[{"name": "", "email": "kangaroo@zoo.example"}])
    cc = add_message(box, cc_addresses=[{"name": "Kangaroo Fan", "email": "fan@zoo.example"}])
    body = add_message(box, body_text="We saw a kangaroo near the river.\nIt was large.")
    attached = add_message(box, attachment_names="kangaroo-photo.JPG notes.txt", has_attachments=True)
    add_message(box, subject="Koala sightings", body_text="no marsupial of that name here")
    assert search(client, owner, "kangaroo") == {subject, sender, to, cc, body, attached}
    assert search(client, owner, "KANGAROO") == {subject, sender, to, cc, body, attached}
    assert search(client, owner, "jpg") == {attached}  # file names split on punctuation
    assert search(client, owner, "photo.jpg") == {attached}
    assert search(client, owner, "river large") == {body}  # terms are ANDed
    assert search(client, owner, "river koala") == set()


def test_bare_words_match_longer_words_they_begin_and_phrases_match_exactly(
    client: Any, box: Mailbox, owner: Caller
) -> None:
    plural = add_message(box, subject="Invoices for March")
    exact = add_message(box, body_text="the quarterly report is ready")
    reversed_ = add_message(box, body_text="report: quarterly numbers, not a quarterly-report")
    apart = add_message(box, body_text="quarterly numbers and the yearly report")
    assert search(client, owner, "invoice") == {plural}
    assert search(client, owner, "invoi") == {plural}
    assert search(client, owner, '"invoice"') == set()  # quoted: the word itself
    assert search(client, owner, '"quarterly report"') == {exact, reversed_}
    assert search(client, owner, "quarterly report") == {exact, reversed_, apart}
    assert search(client, owner, '"report quarterly"') == {reversed_}
    assert search(client, owner, '"quarterly report') == {exact, reversed_}  # unclosed: to the end
    assert search(client, owner, "in") == set()  # under three characters: whole words only


def test_from_to_and_subject_narrow_the_field(client: Any, box: Mailbox, owner: Caller) -> None:
    from_alice = add_message(box, from_name="Alice Liddell", from_address="alice@wonder.example")
    to_alice = add_message(box, to_addresses=[{"name": "Alice", "email": "alice@wonder.example"}])
    cc_alice = add_message(box, cc_addresses=[{"name": "Alice", "email": "alice@wonder.example"}])
    about_alice = add_message(box, subject="Lunch with Alice", body_text="alice@wonder.example")
    assert search(client, owner, "alice") == {from_alice, to_alice, cc_alice, about_alice}
    assert search(client, owner, "from:alice") == {from_alice}
    assert search(client, owner, "from:ALICE@wonder.example") == {from_alice}
    assert search(client, owner, "from:wonder.example") == {from_alice}
    assert search(client, owner, 'from:"alice liddell"') == {from_alice}
    assert search(client, owner, "from:lidd") == {from_alice}
    assert search(client, owner, "to:alice") == {to_alice}  # To only; Cc is not To
    assert search(client, owner, "to:alice@wonder.example") == {to_alice}
    assert search(client, owner, "subject:alice") == {about_alice}
    assert search(client, owner, 'subject:"lunch with"') == {about_alice}
    assert search(client, owner, "From:alice Subject:lunch") == set()


def test_flag_and_attachment_operators(client: Any, box: Mailbox, owner: Caller) -> None:
    unread = add_message(box, subject="status", is_read=False)
    read_flagged = add_message(box, subject="status", is_read=True, is_flagged=True)
    with_file = add_message(
        box, subject="status", is_read=True, has_attachments=True, attachment_names="a.pdf"
    )
    assert search(client, owner, "is:unread") == {unread}
    assert search(client, owner, "is:flagged") == {read_flagged}
    assert search(client, owner, "has:attachment") == {with_file}
    assert search(client, owner, "status is:unread") == {unread}
    assert search(client, owner, "is:flagged is:unread") == set()
    assert search(client, owner, "HAS:ATTACHMENT pdf") == {with_file}


def test_after_is_from_the_start_of_the_day_and_before_up_to_it(
    client: Any, box: Mailbox, owner: Caller
) -> None:
    last_moment = add_message(box, date_sort=DAY - timedelta(microseconds=1))
    midnight = add_message(box, date_sort=DAY)
    late = add_message(box, date_sort=DAY + timedelta(hours=23, minutes=59))
    next_day = add_message(box, date_sort=DAY + timedelta(days=1))
    assert search(client, owner, "after:2026-03-15") == {midnight, late, next_day}
    assert search(client, owner, "before:2026-03-15") == {last_moment}
    assert search(client, owner, "after:2026-03-15 before:2026-03-16") == {midnight, late}
    assert search(client, owner, "after:2026-03-16 before:2026-03-15") == set()
    assert search(client, owner, "after:2026-03-14 after:2026-03-16") == {next_day}  # the later one


def test_search_pages_with_the_cursor(client: Any, box: Mailbox, owner: Caller) -> None:
    wanted = [
        add_message(box, subject=f"weekly digest {i}", date_sort=DAY + timedelta(hours=i)) for i in range(7)
    ]
    add_message(box, subject="something else", date_sort=DAY + timedelta(hours=3, minutes=30))
    first = listing(client, owner, q="digest", limit=4)
    second = listing(client, owner, q="digest", limit=4, cursor=first["next_cursor"])
    seen = [m["id"] for m in first["items"] + second["items"]]
    assert seen == list(reversed(wanted)) and second["next_cursor"] is None


def test_non_latin_text_is_searchable(client: Any, box: Mailbox, owner: Caller) -> None:
    russian = add_message(box, subject="Привет из Москвы", body_text="Счёт за март")
    greek = add_message(box, body_text="Καλημέρα κόσμε")
    assert search(client, owner, "привет") == {russian}
    assert search(client, owner, "МОСКВЫ") == {russian}
    assert search(client, owner, "счёт") == {russian}
    assert search(client, owner, "καλημέρα") == {greek}


def test_edits_and_deletes_reach_the_index(client: Any, box: Mailbox, owner: Caller) -> None:
    kept = add_message(box, subject="draft agenda")
    gone = add_message(box, subject="agenda for friday")
    hidden = add_message(box, subject="agenda, soft-deleted", deleted_at=DAY)
    assert search(client, owner, "agenda") == {kept, gone}
    with session_scope(owner.tenant_id) as session:
        session.execute(update(Message).where(Message.id == kept).values(subject="final minutes"))
        session.execute(update(Message).where(Message.id == gone).values(is_read=True, flags=["\\Seen"]))
    assert search(client, owner, "agenda") == {gone}
    assert search(client, owner, "minutes") == {kept}
    with session_scope(owner.tenant_id) as session:
        session.execute(delete(Message).where(Message.id == gone))
    assert search(client, owner, "agenda") == set()
    assert hidden not in search(client, owner, "soft")


@pytest.mark.parametrize("who", ["same_tenant_other_user", "other_tenant"])
def test_someone_elses_mail_never_matches(
    client: Any, box: Mailbox, owner: Caller, request: pytest.FixtureRequest, who: str
) -> None:
    stranger: Caller = request.getfixturevalue(who)
    theirs = make_mailbox(stranger)
    add_message(
        theirs, subject="confidential merger", body_text="confidential", attachment_names="merger.pdf"
    )
    mine = add_message(box, subject="public notice")
    assert search(client, owner, "confidential") == set()
    assert search(client, owner, "merger has:attachment") == set()
    assert search(client, owner, "notice") == {mine}
    assert search(client, stranger, "notice") == set()
    assert len(search(client, stranger, "confidential")) == 1


def test_the_largest_stored_message_is_indexed(client: Any, box: Mailbox, owner: Caller) -> None:
    """A hostile message within the stored bounds (sync/rows.py) never fails the insert (tsvector <= 1 MB)."""
    # 34,000 distinct two-letter CJK words: ~102,000 characters, the most lexemes a body can give.
    words = " ".join(chr(0x4E00 + i % 20_000) + chr(0x4E00 + i // 20_000) for i in range(34_000))
    addresses = [{"name": f"Имя{i}" * 40, "email": f"u{i}@{'д' * 60}{i}.example"} for i in range(100)]
    big = add_message(
        box,
        subject="Ω" * 2000,
        body_text="needle " + words + " beyond the indexed part",
        to_addresses=addresses,
        cc_addresses=addresses,
        attachment_names="x" * 10_000,
    )
    assert search(client, owner, "needle") == {big}
    assert search(client, owner, chr(0x4E00 + 7) + chr(0x4E00)) == {big}
    assert search(client, owner, "beyond") == set()  # the body is indexed up to 100,000 characters


@pytest.mark.parametrize(
    "q",
    [
        "label:work",
        "in:inbox hello",
        "before:2026-13-01",
        "after:2026-02-30",
        "before:yesterday",
        "after:2026-3-1",
        "has:pdf",
        "is:important",
        "from:",
        'from:""',
        "subject:...",
        "x" * (MAX_QUERY_CHARS + 1),
        " ".join(["word"] * (MAX_TERMS + 1)),
    ],
)
def test_a_malformed_query_is_422_with_the_error_json(client: Any, owner: Caller, q: str) -> None:
    body = listing(client, owner, 422, q=q)
    assert body["error"]["code"] and body["error"]["message"]
    assert body["error"]["details"]["field"] == "q"


@pytest.fixture
def substring_mode() -> Iterator[None]:
    os.environ["SEARCH_MODE"] = "substring"
    apply_environment()
    try:
        yield
    finally:
        del os.environ["SEARCH_MODE"]
        apply_environment()


def test_substring_mode_keeps_the_earlier_ilike(
    client: Any, box: Mailbox, owner: Caller, substring_mode: None
) -> None:
    """SEARCH_MODE=substring: q= as before issue 17 (the benchmark's baseline)."""
    read = add_message(box, is_read=True, from_name="Alice Liddell", from_address="alice@wonder.land")
    flagged = add_message(box, is_flagged=True, from_address="BOB@Example.com", subject="Quarterly REPORT")
    percent = add_message(box, subject="100% off", snippet="cheap_pills today")
    archived = add_message(box, folder_id=box.archive_id, snippet="the report is attached", is_read=True)
    assert search(client, owner, "report") == {flagged, archived}
    assert search(client, owner, "wonder") == {read}
    assert search(client, owner, "%") == {percent}
    assert search(client, owner, "_") == {percent}
    assert search(client, owner, "0% o") == {percent}
    assert search(client, owner, "h%y") == set()
    assert search(client, owner, "from:x") == set()  # no operators: plain text


def test_a_word_with_more_matches_than_the_probe_takes_pages_alike(
    client: Any, box: Mailbox, owner: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over PROBE_CAP matches, PostgreSQL walks the newest-first index instead: the same answers."""
    from email_service.messages.search import filters

    wanted = [
        add_message(box, body_text=f"common word {i}", date_sort=DAY + timedelta(hours=i)) for i in range(6)
    ]
    add_message(box, body_text="something else", date_sort=DAY + timedelta(hours=2, minutes=30))
    stranger = make_mailbox(make_caller(tenant_id=owner.tenant_id))
    add_message(stranger, body_text="common word too")
    for cap in (100, 2):  # the ids path, then the walk
        monkeypatch.setattr(filters, "PROBE_CAP", cap)
        first = listing(client, owner, q="common", limit=4)
        second = listing(client, owner, q="common", limit=4, cursor=first["next_cursor"])
        assert [m["id"] for m in first["items"] + second["items"]] == list(reversed(wanted)), cap
        assert search(client, owner, '"common word" is:unread') == set(wanted)


@pytest.mark.pg_only
def test_the_probe_is_for_the_app_roles_only(clean_db: Any) -> None:
    """messages_search_probe answers ids on the index past RLS: no role without a grant may call it."""
    import psycopg

    with psycopg.connect(clean_db.pg.admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT p.prosecdef, has_function_privilege('public', p.oid, 'EXECUTE'),"
            " has_function_privilege(%s, p.oid, 'EXECUTE')"
            " FROM pg_proc AS p WHERE p.proname = 'messages_search_probe'",
            [psycopg.conninfo.conninfo_to_dict(clean_db.pg.app_url)["user"]],
        ).fetchone()
    assert row == (True, False, True)


PIECES = [
    "from:",
    "to:",
    "subject:",
    "has:attachment",
    "is:unread",
    "after:2026-01-01",
    '"',
    "'",
    "\\",
    "*",
    "(",
    ")",
    "&",
    "|",
    "!",
    ":",
    "-",
    "NEAR",
    "AND",
    "OR",
    "NOT",
    "^",
    "{",
    "}",
    "%",
    "_",
    "\x00",
    "\x1f",
    "\u200b",
    "\ufeff",
    "①",
    "☃",
    "😀",
    "é",
    "e\u0301",
    "ß",
    "İ",
    "漢字",
    "Привет",
    "שלום",
    "مرحبا",
    "x" * 300,
]


def test_any_text_answers_200_or_422_never_500(client: Any, box: Mailbox, owner: Caller) -> None:
    add_message(box, subject="Привет 漢字 e\u0301 ß", body_text="x" * 300)
    rng = random.Random(6)
    for _ in range(150):
        q = "".join(rng.choice(PIECES) + rng.choice(["", " ", " ", "  "]) for _ in range(rng.randint(1, 8)))
        response = client.get("/api/email/messages", query_string={"q": q}, headers=owner.headers)
        assert response.status_code in (200, 422), (q, response.get_json())
        if response.status_code == 422:
            assert response.get_json()["error"]["details"]["field"] == "q"
