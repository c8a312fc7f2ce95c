"""Folder choice: a `\\All` folder is never a second copy; on Gmail only All Mail, Spam and Trash sync."""

from __future__ import annotations

from email_service.sync.mirrored import for_request, mirrored, unmirrored_with_rows
from email_service.sync.store import FolderState


def _folder(name: str, role: str | None, synced_uid: int = 0) -> FolderState:
    return FolderState(name, name, role, 7 if synced_uid else None, None, None, synced_uid, None)


GMAIL_LIST = [
    _folder("INBOX", "inbox"),
    _folder("Work", None),
    _folder("[Gmail]/All Mail", "all"),
    _folder("[Gmail]/Sent Mail", "sent"),
    _folder("[Gmail]/Spam", "junk"),
    _folder("[Gmail]/Trash", "trash"),
]


def test_any_server_leaves_its_all_folder_out() -> None:
    assert [f.name for f in mirrored(GMAIL_LIST, gmail=False)] == [
        "INBOX",
        "Work",
        "[Gmail]/Sent Mail",
        "[Gmail]/Spam",
        "[Gmail]/Trash",
    ]


def test_gmail_syncs_all_mail_spam_and_trash_only() -> None:
    assert [f.name for f in mirrored(GMAIL_LIST, gmail=True)] == [
        "[Gmail]/All Mail",
        "[Gmail]/Spam",
        "[Gmail]/Trash",
    ]


def test_gmail_with_all_mail_hidden_from_imap_syncs_its_folders() -> None:
    hidden = [f for f in GMAIL_LIST if f.role != "all"]
    assert mirrored(hidden, gmail=True) == hidden


def test_a_one_folder_sync_maps_a_label_to_all_mail_on_gmail_only() -> None:
    inbox, work, all_mail, _sent, spam, _trash = GMAIL_LIST
    assert for_request(inbox, GMAIL_LIST, gmail=True) == [all_mail]
    assert for_request(spam, GMAIL_LIST, gmail=True) == [spam]
    assert for_request(work, GMAIL_LIST, gmail=False) == [work]
    assert for_request(all_mail, GMAIL_LIST, gmail=False) == []


def test_folders_synced_before_and_now_left_out_are_named_for_cleanup() -> None:
    listed = [_folder("INBOX", "inbox", 5), _folder("Work", None), _folder("All", "all", 9)]
    assert unmirrored_with_rows(listed, mirrored(listed, gmail=False)) == ["All"]
    gmail = [*listed, _folder("Trash", "trash", 2)]
    assert unmirrored_with_rows(gmail, mirrored(gmail, gmail=True)) == ["INBOX"]
