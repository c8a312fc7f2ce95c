"""Pairing expunges with arrivals: which moves count as spam / not-spam feedback."""

from __future__ import annotations

from email_service.sync.junk_moves import JunkMove, MoveWatch


def rows(*pairs: tuple[str, str | None]) -> list[dict[str, str | None]]:
    return [{"id": row_id, "message_id_header": header} for row_id, header in pairs]


def test_into_junk_from_any_folder_is_spam_and_back_to_inbox_is_ham() -> None:
    watch = MoveWatch()
    watch.inserted("junk", rows(("r1", "a@x"), ("r2", "b@x")), {"r1", "r2"})  # Junk synced first
    watch.vanished("inbox", ["a@x"])
    watch.vanished("archive", ["b@x"])
    watch.vanished("junk", ["c@x"])
    watch.inserted("inbox", rows(("r3", "c@x")), {"r3"})
    assert watch.moves() == [
        JunkMove("r1", "a@x", True),
        JunkMove("r2", "b@x", True),
        JunkMove("r3", "c@x", False),
    ]


def test_no_move_without_both_halves_or_in_other_directions() -> None:
    watch = MoveWatch()
    watch.vanished("inbox", ["a@x", None])
    watch.vanished("junk", ["b@x"])
    watch.inserted("inbox", rows(("r1", "a@x")), {"r1"})  # INBOX -> INBOX: no label
    watch.inserted("archive", rows(("r2", "b@x")), {"r2"})  # Junk -> Archive: not watched
    watch.inserted("junk", rows(("r3", "d@x"), ("r4", None)), {"r3", "r4"})  # new spam, nothing left
    watch.inserted("junk", rows(("r5", "a@x")), set())  # already known row (unique key): not an arrival
    assert watch.moves() == []
    assert [row_id for row_id, _, _ in watch.arrived] == ["r1", "r3"]


def test_on_gmail_all_mail_to_spam_is_spam_and_spam_back_to_all_mail_is_ham() -> None:
    """Gmail syncs All Mail, Spam and Trash: "report spam" and "not spam" move between the first two."""
    watch = MoveWatch()
    watch.vanished("all", ["a@x"])
    watch.inserted("junk", rows(("r1", "a@x")), {"r1"})
    watch.vanished("junk", ["b@x"])
    watch.inserted("all", rows(("r2", "b@x")), {"r2"})
    watch.vanished("trash", ["c@x"])
    watch.inserted("all", rows(("r3", "c@x")), {"r3"})  # restored from Trash: no label
    assert watch.moves() == [JunkMove("r1", "a@x", True), JunkMove("r2", "b@x", False)]
