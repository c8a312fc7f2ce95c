"""deletion_imap with a fake session: the paths Dovecot cannot be made to take (no COPYUID at all)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from email_service.mail.imap import uidset
from email_service.mail.imap.transfer import Refused, expunge_exactly, quote_search_string, transfer
from email_service.mail.imap.types import FolderStatus, SelectInfo


class FakeMailbox:
    """Two folders of {uid: (message_id, flags)}; records commands; COPYUID only when `copyuid`."""

    def __init__(self, move: bool, uidplus: bool, copyuid: bool = True) -> None:
        self.move_supported, self.uidplus, self.copyuid = move, uidplus, copyuid
        self.gmail_ext = False
        self.folders: dict[str, dict[int, tuple[str, set[str]]]] = {"INBOX": {}, "Trash": {}}
        self.uidnext = {"INBOX": 1, "Trash": 1}
        self.selected = ""
        self.commands: list[str] = []

    def add(self, folder: str, message_id: str, *flags: str) -> int:
        uid = self.uidnext[folder]
        self.uidnext[folder] += 1
        self.folders[folder][uid] = (message_id, set(flags))
        return uid

    def select(self, name: str, readonly: bool = True) -> SelectInfo:
        self.commands.append(f"SELECT {name}")
        self.selected = name
        return SelectInfo(7, self.uidnext[name], None, len(self.folders[name]))

    def status(self, name: str) -> FolderStatus:
        self.commands.append(f"STATUS {name}")
        return FolderStatus(len(self.folders[name]), 0, 9, self.uidnext[name], None)

    def search_uids(self, criteria: str = "ALL") -> list[int]:
        self.commands.append(f"SEARCH {criteria}")
        box = self.folders[self.selected]
        if criteria == "DELETED":
            return sorted(u for u, (_, flags) in box.items() if "\\Deleted" in flags)
        if criteria.startswith("HEADER Message-ID "):
            wanted = criteria.removeprefix("HEADER Message-ID ").strip('"')
            return sorted(u for u, (mid, _) in box.items() if mid == wanted)
        ranges = criteria.removeprefix("UID ")
        top = max(box, default=0)
        return sorted(set(uidset.parse_sequence_set(ranges, star=top)) & set(box))

    def move(self, uids: Iterable[int], dest: str) -> dict[int, int] | None:
        self.commands.append("MOVE")
        mapping = self._copy(uids, dest)
        for uid in mapping:
            del self.folders[self.selected][uid]
        return mapping if self.copyuid else None

    def copy(self, uids: Iterable[int], dest: str) -> dict[int, int] | None:
        self.commands.append("COPY")
        mapping = self._copy(uids, dest)
        return mapping if self.copyuid else None

    def _copy(self, uids: Iterable[int], dest: str) -> dict[int, int]:
        box = self.folders[self.selected]
        return {uid: self.add(dest, box[uid][0]) for uid in sorted(uids) if uid in box}

    def add_flags(self, uids: Iterable[int], flags: Iterable[str]) -> None:
        self.commands.append("STORE")
        for uid in uids:
            if uid in self.folders[self.selected]:
                self.folders[self.selected][uid][1].update(flags)

    def uid_expunge(self, uids: Iterable[int]) -> None:
        self.commands.append("UID EXPUNGE")
        for uid in list(uids):
            self.folders[self.selected].pop(uid, None)

    def expunge_uids(self, uids: Iterable[int]) -> None:
        self.commands.append("STORE+UID EXPUNGE")
        wanted = set(uids)
        self.add_flags(wanted, ["\\Deleted"])
        self.commands.pop()
        box = self.folders[self.selected]
        for uid in [u for u, (_, flags) in box.items() if u in wanted and "\\Deleted" in flags]:
            del box[uid]

    def expunge_all(self) -> None:
        self.commands.append("EXPUNGE")
        box = self.folders[self.selected]
        for uid in [u for u, (_, flags) in box.items() if "\\Deleted" in flags]:
            del box[uid]


def mailbox(move: bool, uidplus: bool, copyuid: bool = True, count: int = 3) -> FakeMailbox:
    box = FakeMailbox(move, uidplus, copyuid)
    for i in range(1, count + 1):
        box.add("INBOX", f"<m{i}@x>")
    return box


def ids(count: int) -> dict[int, str | None]:
    return {i: f"<m{i}@x>" for i in range(1, count + 1)}


def test_move_with_copyuid_is_one_command_per_chunk() -> None:
    box = mailbox(move=True, uidplus=True)
    box.add("Trash", "<old@x>")
    moved = transfer(box, "INBOX", 7, [1, 3], "Trash", ids(3))
    assert moved.uidvalidity == 9 and moved.uids == {1: 2, 3: 3}
    assert box.commands == ["STATUS Trash", "SELECT INBOX", "MOVE"]


def test_without_copyuid_new_uids_come_from_the_arrivals() -> None:
    box = mailbox(move=True, uidplus=False, copyuid=False)
    box.add("Trash", "<old@x>")
    moved = transfer(box, "INBOX", 7, [1, 3], "Trash", ids(3))
    assert moved.uids == {1: 2, 3: 3}
    assert "SEARCH UID 2:*" in box.commands and not any("HEADER" in c for c in box.commands)


def deliver_during_move(box: FakeMailbox) -> None:
    """Another client puts mail into Trash just before our MOVE lands."""
    original_move = box.move

    def move_with_delivery(uids: Iterable[int], dest: str) -> dict[int, int] | None:
        box.add("Trash", "<delivered-meanwhile@x>")
        return original_move(uids, dest)

    box.move = move_with_delivery  # type: ignore[method-assign]


def test_arrivals_mixed_with_other_mail_fall_back_to_message_id() -> None:
    box = mailbox(move=True, uidplus=False, copyuid=False)
    deliver_during_move(box)
    moved = transfer(box, "INBOX", 7, [1, 2], "Trash", ids(2))
    assert moved.uids == {1: 2, 2: 3}
    assert 'SEARCH HEADER Message-ID "<m1@x>"' in box.commands


def test_message_without_message_id_and_no_copyuid_is_not_guessed() -> None:
    box = mailbox(move=True, uidplus=False, copyuid=False)
    deliver_during_move(box)  # arrivals do not match our count -> no positional guess
    moved = transfer(box, "INBOX", 7, [1], "Trash", {1: None})
    assert moved.uids == {}


def test_stale_uidvalidity_is_refused_before_any_change() -> None:
    box = mailbox(move=True, uidplus=True)
    with pytest.raises(Refused, match="UIDVALIDITY"):
        transfer(box, "INBOX", 6, [1], "Trash", ids(1))
    with pytest.raises(Refused, match="UIDVALIDITY"):
        expunge_exactly(box, "INBOX", 6, [1])
    assert "MOVE" not in box.commands and "STORE" not in box.commands
    assert len(box.folders["INBOX"]) == 3


def test_copy_fallback_refuses_when_others_are_deleted() -> None:
    box = mailbox(move=False, uidplus=False)
    box.add("INBOX", "<other@x>", "\\Deleted")
    with pytest.raises(Refused, match="UIDPLUS"):
        transfer(box, "INBOX", 7, [1], "Trash", ids(1))
    assert box.folders["Trash"] == {} and "\\Deleted" not in box.folders["INBOX"][1][1]


def test_expunge_exactly_with_and_without_uidplus() -> None:
    box = mailbox(move=False, uidplus=True)
    box.add("INBOX", "<other@x>", "\\Deleted")
    expunge_exactly(box, "INBOX", 7, [1, 2])
    assert sorted(box.folders["INBOX"]) == [3, 4]
    assert box.commands == ["SELECT INBOX", "STORE+UID EXPUNGE"]
    plain = mailbox(move=False, uidplus=False)
    expunge_exactly(plain, "INBOX", 7, [2])
    assert sorted(plain.folders["INBOX"]) == [1, 3] and plain.commands[-1] == "EXPUNGE"
    plain.add("INBOX", "<other@x>", "\\Deleted")
    with pytest.raises(Refused):
        expunge_exactly(plain, "INBOX", 7, [1])
    assert 1 in plain.folders["INBOX"]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("<a@b>", '"<a@b>"'),
        ('<a"b\\c@d>', '"<a\\"b\\\\c@d>"'),
        ("<ü@b>", None),
        ("<a@b>\r\nX", None),
    ],
)
def test_quote_search_string(text: str, quoted: str | None) -> None:
    assert quote_search_string(text) == quoted


def test_one_message_id_search_rule_for_moves_and_sent_copies() -> None:
    from email_service.mail.imap.transfer import message_id_search

    assert message_id_search("<a.1@example.test>") == 'HEADER Message-ID "<a.1@example.test>"'
    assert message_id_search('<odd"quote\\@x>') == 'HEADER Message-ID "<odd\\"quote\\\\@x>"'
    assert message_id_search("<ünï@x>") is None and message_id_search("<a\r\nb@x>") is None
