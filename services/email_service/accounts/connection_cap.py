"""At most N IMAP connections to one mailbox at once, across every worker, API and watcher process.

Providers refuse or throttle past their own per-account limit (Gmail: "Too many simultaneous
connections"), and a sync, a write-back, a raw fetch and a draft save of one account can all run at
once. Each connection holds a core.slots lease on a key derived from the server and login, taken
before the socket opens and given back when the session ends; a killed process's lease lapses with
the sync lock's TTL. A login that finds every slot taken waits up to IMAP_CONNECTION_WAIT_SECONDS,
then fails as throttled (transient: the task retries later, the account is never parked).
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from email_service.accounts.autoconfig.providers import by_imap_host
from email_service.core.config import get_settings
from email_service.core.slots import LeasedSlots
from email_service.mail.imap.types import ImapThrottled
from email_service.sync.lock import shared_client

CAP_PREFIX = "email_service:imap_connections:"
RETRY_AFTER_SECONDS = 30.0


def connection_limit(host: str) -> int:
    """The provider's budget for its server, else IMAP_MAX_CONNECTIONS."""
    provider = by_imap_host(host)
    if provider is not None and provider.max_connections is not None:
        return provider.max_connections
    return get_settings().imap_max_connections


def cap_key(host: str, username: str) -> str:
    """One key per mailbox; hashed, so no address is written into Redis."""
    mailbox = f"{host.strip().lower()}\0{username.strip().lower()}".encode()
    return CAP_PREFIX + hashlib.sha256(mailbox).hexdigest()[:32]


def mailbox_slot(host: str, username: str) -> Callable[[], AbstractContextManager[None]]:
    """What ImapSettings.slot holds: entered around each connection's life."""
    return lambda: _held(host, username)


@contextmanager
def _held(host: str, username: str) -> Iterator[None]:
    settings = get_settings()
    slots = LeasedSlots(
        shared_client(settings.broker_url),  # a login costs a round trip, not a socket
        cap_key(host, username),
        connection_limit(host),
        settings.sync_lock_ttl_seconds,
    )
    member = uuid.uuid4().hex
    give_up = time.monotonic() + settings.imap_connection_wait_seconds
    while not slots.take(member):
        if time.monotonic() >= give_up:
            raise ImapThrottled(
                f"{slots.limit} connections to this mailbox are open already; trying again later",
                retry_after=RETRY_AFTER_SECONDS,
            )
        time.sleep(random.uniform(0.1, 0.4))
    try:
        yield
    finally:
        slots.give_back(member)
