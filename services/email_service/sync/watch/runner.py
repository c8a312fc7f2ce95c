"""The watcher loop: lease accounts, hold one IDLE connection per (account, folder), and start a
debounced sync of the folder when the server announces a change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from email_service.accounts.autoconfig.providers import idle_refresh_seconds
from email_service.core.config import get_settings
from email_service.core.model_base import new_id
from email_service.mail.imap.idle import IdleSession, Untagged
from email_service.mail.imap.types import ImapAuthError, ImapCommandError, ImapError, ImapThrottled
from email_service.sync.watch.accounts import (
    WatchedAccount,
    login_settings,
    park,
    start_folder_sync,
    watched_accounts,
)
from email_service.sync.watch.backoff import MAX_SECONDS, StartPacer, reconnect_delay
from email_service.sync.watch.leases import Leases, rendezvous_owner

log = logging.getLogger(__name__)
RETRIGGER_SECONDS = 2.0  # a change met a sync already running: start another once it is done


@dataclass
class WatchOptions:
    lease_seconds: float
    poll_seconds: float
    debounce_seconds: float
    host_cap: int
    starts_per_second: float
    folders: tuple[str, ...] = ("INBOX",)

    @classmethod
    def from_settings(cls) -> WatchOptions:
        s = get_settings()
        return cls(
            s.watch_lease_seconds,
            s.watch_poll_seconds,
            s.watch_debounce_ms / 1000,
            s.watch_host_connection_cap,
            s.watch_starts_per_second,
            ("INBOX", *s.watch_extra_folders),
        )


@dataclass
class _Held:
    account: WatchedAccount
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Watcher:
    """One process's share of the accounts (see leases.py for the split)."""

    def __init__(self, options: WatchOptions, member: str | None = None) -> None:
        self.options = options
        self.member = member or f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}"
        self.held: dict[str, _Held] = {}
        self.connected: set[tuple[str, str]] = set()
        self.triggered = 0
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._pending: set[tuple[str, str]] = set()
        self._last_fire: dict[tuple[str, str], float] = {}
        self._fires: set[asyncio.Task[None]] = set()
        self._pacer = StartPacer(options.starts_per_second)
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self, on_tick: Callable[[], None] | None = None) -> None:
        client = aioredis.Redis.from_url(get_settings().broker_url, socket_timeout=10)
        leases = Leases(client, self.member, self.options.lease_seconds)
        tick = min(self.options.poll_seconds, self.options.lease_seconds / 3)
        try:
            while not self._stop.is_set():
                try:
                    await self._tick(leases)
                except Exception:  # Redis or the database away: keep what we hold, try again
                    log.exception("watcher tick failed")
                if on_tick is not None:
                    on_tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), tick)
        finally:
            held = list(self.held)
            for account_id in held:
                await self._drop(account_id)
            for task in list(self._fires):  # syncs already started stay started; waiting ones go
                task.cancel()
            await asyncio.gather(*self._fires, return_exceptions=True)
            try:
                await leases.release(held)  # a graceful stop hands its accounts over at the next tick
                await leases.leave()
            finally:
                await client.aclose()

    async def _tick(self, leases: Leases) -> None:
        members = await leases.heartbeat()
        accounts = {a.id: a for a in await asyncio.to_thread(watched_accounts)}
        kept = await leases.renew(list(self.held))
        for account_id in list(self.held):
            account = accounts.get(account_id)
            gone = (
                account is None
                or account_id not in kept
                or rendezvous_owner(account_id, members) != self.member
            )
            if gone:
                await self._drop(account_id)
                if account_id in kept:
                    await leases.release([account_id])
            elif account is not None and account.version != self.held[account_id].account.version:
                await self._drop(account_id)  # new credentials or host: reconnect with them
                self._hold(account)
        wanted = [i for i in accounts if i not in self.held and rendezvous_owner(i, members) == self.member]
        for account_id in await leases.acquire(wanted):
            self._hold(accounts[account_id])

    def _hold(self, account: WatchedAccount) -> None:
        held = _Held(account)
        for folder in self.options.folders:
            held.tasks.append(asyncio.create_task(self._connection(account, folder)))
        self.held[account.id] = held

    async def _drop(self, account_id: str) -> None:
        held = self.held.pop(account_id, None)
        if held is None:
            return
        for folder in self.options.folders:
            self._last_fire.pop((account_id, folder), None)
        for task in held.tasks:
            task.cancel()
        await asyncio.gather(*held.tasks, return_exceptions=True)

    async def _connection(self, account: WatchedAccount, folder: str) -> None:
        """Connect, EXAMINE, IDLE; on failure back off with jitter and reconnect; park on refusal."""
        attempt, reconnecting = 0, False
        slots = self._host_slots.setdefault(account.host, asyncio.Semaphore(self.options.host_cap))
        while True:
            suggested: float | None = None
            try:
                async with slots:
                    await self._pacer.wait()
                    session = await self._login(account)
                    try:
                        await session.examine(folder)
                        attempt = 0
                        self.connected.add((account.id, folder))
                        if reconnecting:  # changes while we were away
                            self._changed(account, folder, None)
                        await session.idle(
                            lambda reply: self._changed(account, folder, reply),
                            idle_refresh_seconds(account.host),
                        )
                    finally:
                        self.connected.discard((account.id, folder))
                        await session.close()
            except ImapAuthError as exc:
                log.warning("watch: account %s parked: %s", account.id, exc)
                await asyncio.to_thread(park, account, str(exc))
                return
            except ImapThrottled as exc:
                suggested = exc.retry_after
            except ImapCommandError as exc:  # e.g. an extra folder that does not exist
                log.warning("watch: account %s folder %s: %s", account.id, folder, exc)
                suggested = MAX_SECONDS
            except (ImapError, OSError) as exc:
                log.info("watch: account %s disconnected: %s", account.id, exc)
            reconnecting = True
            await asyncio.sleep(reconnect_delay(attempt, suggested))
            attempt += 1

    async def _login(self, account: WatchedAccount) -> IdleSession:
        settings = await asyncio.to_thread(login_settings, account)
        try:
            return await IdleSession.open(settings)
        except ImapAuthError:
            if settings.access_token is None:
                raise
            retry = await asyncio.to_thread(login_settings, account, after_refusal=settings)
            return await IdleSession.open(retry)

    def _changed(self, account: WatchedAccount, folder: str, _reply: Untagged | None) -> None:
        """Leading-edge debounce: the first change in a while syncs at once (new mail in well under a
        second); what follows within the window is one more sync at its end (EXISTS, then FETCH, ...)."""
        key = (account.id, folder)
        if key in self._pending:
            return
        self._pending.add(key)
        loop = asyncio.get_running_loop()
        last = self._last_fire.get(key)
        wait = 0.0 if last is None else max(0.0, last + self.options.debounce_seconds - loop.time())
        self._fire_later(account, folder, wait)

    def _fire_later(self, account: WatchedAccount, folder: str, delay: float) -> None:
        def start() -> None:
            task = asyncio.create_task(self._fire(account, folder))
            self._fires.add(task)
            task.add_done_callback(self._fires.discard)

        asyncio.get_running_loop().call_later(delay, start)

    async def _fire(self, account: WatchedAccount, folder: str) -> None:
        key = (account.id, folder)
        self._pending.discard(key)
        self._last_fire[key] = asyncio.get_running_loop().time()
        mine = new_id()
        try:
            started = await asyncio.to_thread(start_folder_sync, account, folder, mine)
        except Exception as exc:  # Redis/DB away or the account gone: the next change or tick retries
            log.warning("watch: sync of account %s not started: %s", account.id, exc)
            return
        self.triggered += 1
        if started != mine and account.id in self.held:  # one ran already: it may have passed the change
            self._pending.add(key)
            self._fire_later(account, folder, RETRIGGER_SECONDS)


def run_watcher(options: WatchOptions | None = None) -> None:
    """`email-service watch`: run until SIGINT/SIGTERM."""
    import signal

    async def main() -> None:
        watcher = Watcher(options or WatchOptions.from_settings())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, watcher.stop)
        log.info("watcher %s started", watcher.member)
        await watcher.run()

    asyncio.run(main())
