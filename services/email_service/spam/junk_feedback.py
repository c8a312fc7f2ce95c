"""Moves into or out of Junk made with another mail client count as spam / not-spam feedback.

The product's own INBOX → Junk moves (spam_junk) must not teach the user's model: they are marked
in Redis for a short while before the MOVE and unmarked once the rows follow. A sync that sees such
a move anyway (the rows did not follow, e.g. the worker died in between) skips it by that mark.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import redis

from email_service.core.db import session_scope
from email_service.core.errors import NotFound
from email_service.sync.junk_moves import JunkMove

log = logging.getLogger(__name__)
MARK_PREFIX = "email_service:junk_moved:"
MARK_TTL_SECONDS = 24 * 3600  # long enough for a sync to run after a failed re-point, short enough to forget


class ProductMoves:
    """Message-IDs the product is moving to Junk, per account (a Redis set with a TTL)."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @staticmethod
    def key(account_id: str) -> str:
        return MARK_PREFIX + account_id

    def mark(self, account_id: str, headers: Iterable[str | None]) -> None:
        wanted = [h for h in headers if h]
        if wanted:
            key = self.key(account_id)
            pipe = self._client.pipeline()
            pipe.sadd(key, *wanted)
            pipe.expire(key, MARK_TTL_SECONDS)
            pipe.execute()

    def unmark(self, account_id: str, headers: Iterable[str | None]) -> None:
        wanted = [h for h in headers if h]
        if wanted:
            self._client.srem(self.key(account_id), *wanted)

    def take(self, account_id: str, header: str) -> bool:
        """True (and forget the mark) when the product made this move itself."""
        return bool(self._client.srem(self.key(account_id), header))


def record_junk_moves(owner: tuple[str, str, str], moves: Sequence[JunkMove], marks: ProductMoves) -> int:
    """One label per move the user made (product moves skipped); returns the labels recorded."""
    tenant_id, user_id, account_id = owner
    recorded = 0
    if not moves:
        return 0
    # Imported here: the model pulls in scikit-learn and NumPy (about 150 MB and 1 s), which a sync
    # needs only when the user moved mail into or out of Junk.
    from email_service.spam.service import record_feedback

    with session_scope(tenant_id) as session:
        for move in moves:
            if move.is_spam and marks.take(account_id, move.header):
                continue
            try:
                record_feedback(session, move.message_id, tenant_id, user_id, move.is_spam)
            except NotFound:  # removed again since it arrived: nothing left to learn from
                log.info("moved message %s is gone; no feedback", move.message_id)
                continue
            recorded += 1
    return recorded
