"""Pure sync decisions: when a folder can be skipped, when a full scan is due, how rows are built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from email_service.mail.imap.types import FetchedMessage, FolderStatus
from email_service.sync.mirror_check import plan_repair
from email_service.sync.plan import SyncOptions, full_scan_due, needs_count, needs_sync, recent_flags_due
from email_service.sync.rows import RowContext, build_rows, clean, flag_columns
from email_service.sync.store import FolderState

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
CTX = RowContext("t1", "u1", "a1", "f1", 77)


def state(**overrides: object) -> FolderState:
    values: dict[str, object] = {
        "id": "f1",
        "name": "INBOX",
        "role": "inbox",
        "uidvalidity": 77,
        "uidnext": 11,
        "highestmodseq": 500,
        "synced_uid": 10,
        "last_full_scan_at": NOW - timedelta(minutes=1),
    }
    values.update(overrides)
    return FolderState(**values)  # type: ignore[arg-type]


def status(**overrides: int | None) -> FolderStatus:
    values: dict[str, int | None] = {
        "messages": 10,
        "unseen": 2,
        "uidvalidity": 77,
        "uidnext": 11,
        "highestmodseq": 500,
    }
    values.update(overrides)
    return FolderStatus(**values)  # type: ignore[arg-type]


def test_unchanged_folder_is_skipped_with_condstore() -> None:
    assert needs_count(state(), status())
    assert not needs_sync(state(), status(), condstore=True, stored_count=10)


def test_any_state_difference_needs_a_sync() -> None:
    assert needs_sync(state(), status(uidnext=12), True, 10)
    assert needs_sync(state(), status(highestmodseq=501), True, 10)
    assert needs_sync(state(), status(uidvalidity=78), True, None)
    assert needs_sync(state(uidvalidity=None, uidnext=None), status(), True, None)
    assert not needs_count(state(), status(uidnext=12))


def test_the_message_count_decides_with_or_without_modseq() -> None:
    plain = status(highestmodseq=None)
    assert not needs_sync(state(highestmodseq=None), plain, False, stored_count=10)
    assert needs_sync(state(highestmodseq=None), plain, False, stored_count=11)
    # With mod-sequences too: a mirror that lost rows behind the sync's back is synced (and repaired).
    assert needs_sync(state(), status(), True, stored_count=8)


def test_recent_flags_window_runs_only_without_modseq() -> None:
    plain = status(highestmodseq=None)
    assert recent_flags_due(state(), plain, False, SyncOptions())
    assert recent_flags_due(state(), status(), False, SyncOptions())  # modseq in STATUS but not enabled
    assert not recent_flags_due(state(), status(), True, SyncOptions())
    assert not recent_flags_due(state(), plain, False, SyncOptions(recent_flags_window=0))
    assert not recent_flags_due(state(synced_uid=0), plain, False, SyncOptions())


def test_repair_drops_rows_only_when_the_server_list_is_complete() -> None:
    full = plan_repair([1, 2, 4, 5], [1, 2, 3, 4], exists=4)
    assert full.missing == [5] and full.gone == [3]
    # UID SEARCH answered fewer UIDs than EXISTS: fetch what it shows, drop nothing.
    short = plan_repair([], [1, 2, 3], exists=3)
    assert short.missing == [] and short.gone == []
    first = plan_repair(range(1, 51), [], exists=50)
    assert first.missing == list(range(1, 51)) and first.gone == []


def test_full_scan_rules() -> None:
    opts = SyncOptions()
    assert not full_scan_due(state(), status(), True, NOW, opts)
    assert full_scan_due(state(), status(), True, NOW, SyncOptions(force_full_sync=True))
    # An interrupted first sync (modseq not yet recorded) rescans the rows it already stored.
    assert full_scan_due(state(highestmodseq=None), status(), True, NOW, opts)
    assert not full_scan_due(state(highestmodseq=None, synced_uid=0), status(), True, NOW, opts)
    plain = status(highestmodseq=None)
    assert not full_scan_due(state(), plain, False, NOW, opts)
    assert full_scan_due(state(), plain, False, NOW + timedelta(hours=1), opts)
    assert full_scan_due(state(last_full_scan_at=None), plain, False, NOW, opts)


def test_flag_columns_and_clean() -> None:
    cols = flag_columns(["\\Seen", "$Work", "\\Flagged", "\\Seen"])
    assert cols == {
        "flags": ["$Work", "\\Flagged", "\\Seen"],
        "is_read": True,
        "is_flagged": True,
        "is_answered": False,
    }
    assert clean("a\x00b") == "ab"
    assert clean("x\udcff") == "x?"
    assert clean("abcdef", 3) == "abc"


def fetched(uid: int, raw: bytes) -> FetchedMessage:
    return FetchedMessage(uid=uid, flags=("\\Seen",), modseq=9, internaldate=NOW, size=len(raw), raw=raw)


def test_build_rows_parses_and_quarantines() -> None:
    good = (
        b"From: Ann <ann@example.test>\r\nTo: bob@example.test\r\nSubject: Hi\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nhello there\r\n"
        b"--XX\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n"
        b"--XX--\r\n"
    )
    built = build_rows(CTX, [fetched(3, good), fetched(4, b"  \r\n")])
    assert built.max_uid == 4 and len(built.messages) == 2
    row, bad = built.messages
    assert row["subject"] == "Hi" and row["from_address"] == "ann@example.test" and row["is_read"]
    assert row["date_sort"] == NOW and row["has_attachments"] and row["uidvalidity"] == 77
    assert row["to_addresses"] == [{"name": "", "email": "bob@example.test"}]
    assert built.attachments[0]["message_id"] == row["id"] and built.attachments[0]["filename"] == "a.pdf"
    assert bad["parse_error"] and bad["raw"] == b"  \r\n" and bad["date_sort"] == NOW


def test_json_fields_match_the_model() -> None:
    from email_service.sync.rows import JSON_FIELDS
    from email_service.sync.store import JSON_COLUMNS

    assert JSON_FIELDS == JSON_COLUMNS


def test_json_as_text_encodes_in_the_worker() -> None:
    raw = b"From: a@example.test\r\nSubject: x\r\n\r\nbody\r\n"
    row = build_rows(RowContext("t", "u", "a", "f", 1, json_as_text=True), [fetched(1, raw)]).messages[0]
    assert row["flags"] == '["\\\\Seen"]' and row["to_addresses"] == "[]"
