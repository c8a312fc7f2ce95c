"""IMAP UID/sequence-set helpers: compress UIDs to ranges so command lines stay short.

Dovecot rejects command lines over 64 KB, so callers send "1:500,600:900" instead of long UID lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Leaves ample room under Dovecot's 64 KB line limit for the command verb, items and modifiers.
DEFAULT_MAX_LEN = 8000
_SEQ_SET_RE = re.compile(r"^(?:\d+|\*)(?::(?:\d+|\*))?(?:,(?:\d+|\*)(?::(?:\d+|\*))?)*$")


def _runs(uids: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Yield (first, last) runs of consecutive values from the sorted, de-duplicated UIDs."""
    start = prev = -1
    for uid in sorted(set(uids)):
        if uid <= 0:
            raise ValueError(f"UIDs are positive integers, got {uid}")
        if uid == prev + 1:
            prev = uid
            continue
        if start > 0:
            yield start, prev
        start = prev = uid
    if start > 0:
        yield start, prev


def _fmt(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}:{last}"


def to_ranges(uids: Iterable[int]) -> str:
    """Compress UIDs to an IMAP sequence set, e.g. [1,2,3,4,5,7,9,10,11,12] -> "1:5,7,9:12"."""
    return ",".join(_fmt(a, b) for a, b in _runs(uids))


def chunks(uids: Iterable[int], max_len: int = DEFAULT_MAX_LEN) -> Iterator[str]:
    """Yield sequence sets of at most max_len characters that together cover all UIDs."""
    if max_len < 21:  # one "a:b" of two 10-digit UIDs must always fit
        raise ValueError("max_len too small")
    parts: list[str] = []
    length = 0
    for first, last in _runs(uids):
        part = _fmt(first, last)
        extra = len(part) + (1 if parts else 0)
        if parts and length + extra > max_len:
            yield ",".join(parts)
            parts, length, extra = [], 0, len(part)
        parts.append(part)
        length += extra
    if parts:
        yield ",".join(parts)


def batches(uids: Iterable[int], size: int) -> Iterator[list[int]]:
    """Split UIDs (kept in the given order) into lists of at most `size` for bounded FETCH batches."""
    batch: list[int] = []
    for uid in uids:
        batch.append(uid)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def is_sequence_set(text: str) -> bool:
    """True when text is syntactically an IMAP sequence set such as "1:5,7,9:*"."""
    return bool(_SEQ_SET_RE.match(text))


def parse_sequence_set(text: str, star: int | None = None) -> list[int]:
    """Expand "1:5,7" to [1, 2, 3, 4, 5, 7] (sorted, unique); `*` needs `star` (the largest UID)."""
    text = text.strip()
    if not text:
        return []
    if not is_sequence_set(text):
        raise ValueError(f"not an IMAP sequence set: {text!r}")
    out: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition(":")
        lo, hi = _bound(first, star), _bound(last or first, star)
        if lo > hi:
            lo, hi = hi, lo
        out.update(range(lo, hi + 1))
    return sorted(out)


def iter_sequence_set(text: str) -> Iterator[int]:
    """Expand a set in the order written (COPYUID pairs source and destination UIDs by position)."""
    if not is_sequence_set(text) or "*" in text:
        raise ValueError(f"not a concrete IMAP sequence set: {text!r}")
    for part in text.split(","):
        first, _, last = part.partition(":")
        lo, hi = sorted((int(first), int(last or first)))
        yield from range(lo, hi + 1)


def _bound(text: str, star: int | None) -> int:
    if text == "*":
        if star is None:
            raise ValueError("'*' in a sequence set needs the largest UID")
        return star
    return int(text)
