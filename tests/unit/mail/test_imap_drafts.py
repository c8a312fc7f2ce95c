"""place_draft / drafts_folder on a fake folder: one copy of the current version survives retries,
duplicates and servers without APPENDUID; other messages are never touched."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from email_service.mail.imap.drafts import Version, drafts_folder, place_draft
from email_service.mail.imap.types import FolderInfo, FolderStatus, SelectInfo

FAMILY = "<draft.d1."


class FakeFolder:
    """One folder of {uid: Message-ID}; SEARCH HEADER is a substring match, as on real servers."""

    def __init__(self, messages: dict[int, str], appenduid: bool = True, uidvalidity: int = 7) -> None:
        self.messages = dict(messages)
        self.appenduid = appenduid
        self.uidvalidity = uidvalidity
        self.next_uid = max(messages, default=0) + 1
        self.appended: list[tuple[str, tuple[str, ...]]] = []
        self.created: list[str] = []
        self.folders = [FolderInfo("INBOX", "/", (), "inbox")]

    move_supported = True
    uidplus = True

    def select(self, name: str, readonly: bool = True) -> SelectInfo:
        return SelectInfo(self.uidvalidity, self.next_uid, None, len(self.messages))

    def status(self, name: str) -> FolderStatus:
        return FolderStatus(len(self.messages), 0, self.uidvalidity, self.next_uid, None)

    def search_uids(self, criteria: str = "ALL") -> list[int]:
        needle = criteria.removeprefix("HEADER Message-ID ").strip('"').lower()
        return sorted(uid for uid, mid in self.messages.items() if needle in mid.lower())

    def append(
        self, folder: str, raw: bytes, flags: Iterable[str] = (), internaldate: datetime | None = None
    ) -> int | None:
        message_id = raw.decode().split("Message-ID: ", 1)[1].split("\r\n", 1)[0]
        uid, self.next_uid = self.next_uid, self.next_uid + 1
        self.messages[uid] = message_id
        self.appended.append((message_id, tuple(flags)))
        return uid if self.appenduid else None

    def expunge_uids(self, uids: Iterable[int]) -> None:
        for uid in uids:
            self.messages.pop(uid, None)

    def noop(self) -> None:
        pass

    def list_folders(self) -> list[FolderInfo]:
        return self.folders

    def folder_exists(self, name: str) -> bool:
        return any(f.name == name for f in self.folders) or name in self.created

    def create_folder(self, name: str) -> None:
        self.created.append(name)

    # unused by place_draft, present for the protocol
    def move(self, uids: Iterable[int], dest: str) -> dict[int, int] | None:
        raise AssertionError("not used")

    def copy(self, uids: Iterable[int], dest: str) -> dict[int, int] | None:
        raise AssertionError("not used")

    def add_flags(self, uids: Iterable[int], flags: Iterable[str]) -> None:
        raise AssertionError("not used")

    def remove_flags(self, uids: Iterable[int], flags: Iterable[str]) -> None:
        raise AssertionError("not used")

    def uid_expunge(self, uids: Iterable[int]) -> None:
        raise AssertionError("not used")

    def expunge_all(self) -> None:
        raise AssertionError("bare EXPUNGE must never be used")


def version(n: int) -> Version:
    message_id = f"{FAMILY}{n}@example.test>"
    return Version(f"Message-ID: {message_id}\r\nSubject: v{n}\r\n\r\nbody\r\n".encode(), message_id)


def test_appends_then_removes_the_previous_version_and_leaves_others_alone() -> None:
    folder = FakeFolder({3: "<other@example.test>", 5: f"{FAMILY}1@example.test>"})
    placed = place_draft(folder, "Drafts", FAMILY, version(2), previous=[(7, 5)])
    assert folder.appended == [(f"{FAMILY}2@example.test>", ("\\Draft", "\\Seen"))]
    assert folder.messages == {3: "<other@example.test>", 6: f"{FAMILY}2@example.test>"}
    assert (placed.uid, placed.removed, placed.uidvalidity) == (6, [5], 7)


def test_a_rerun_appends_nothing_and_of_duplicates_keeps_the_lowest_uid() -> None:
    current = f"{FAMILY}2@example.test>"
    folder = FakeFolder({8: current, 9: current, 4: f"{FAMILY}1@example.test>"})
    placed = place_draft(folder, "Drafts", FAMILY, version(2))
    assert folder.appended == [] and folder.messages == {8: current}
    assert placed.removed == [4, 9]


def test_without_appenduid_the_copy_is_found_by_message_id() -> None:
    folder = FakeFolder({}, appenduid=False)
    placed = place_draft(folder, "Drafts", FAMILY, version(1))
    assert placed.uid == 1 and placed.removed == []


def test_removal_takes_every_version_and_ignores_uids_of_an_old_uidvalidity() -> None:
    folder = FakeFolder({2: f"{FAMILY}1@example.test>", 3: "<keep@example.test>"}, uidvalidity=9)
    placed = place_draft(folder, "Drafts", FAMILY, None, previous=[(7, 3)])
    assert folder.messages == {3: "<keep@example.test>"}
    assert (placed.uid, placed.removed) == (None, [2])


def test_drafts_folder_is_the_stored_one_the_servers_or_created() -> None:
    folder = FakeFolder({})
    assert drafts_folder(folder, "Entwürfe") == "Entwürfe" and folder.created == []
    folder.folders.append(FolderInfo("INBOX/Drafts", "/", ("\\Drafts",), "drafts"))
    assert drafts_folder(folder, None) == "INBOX/Drafts"
    folder.folders.pop()
    assert drafts_folder(folder, None) == "Drafts" and folder.created == ["Drafts"]
