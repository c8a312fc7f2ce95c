"""The sandbox IMAP server: pymap's maildir backend, plain LOGIN on loopback, one demo user.

pymap is a pure-Python IMAP4rev1 server (UIDPLUS, MOVE, IDLE, MULTIAPPEND); its maildir backend
keeps the mailbox on disk under VAR/sandbox, so a restart keeps the user's mail and flags.
"""

from __future__ import annotations

import os
from argparse import Namespace
from contextlib import AsyncExitStack

from pymap.backend.maildir import MaildirBackend
from pymap.backend.maildir.users import PasswordsFile, UsersFile
from pymap.imap import IMAPService
from pysasl.hashing import BuiltinHash

from email_service.core.config_launch import export
from email_service.sandbox.settings import SandboxSettings

# Cheap hashing is fine for a loopback demo account and keeps every LOGIN fast.
_HASH = BuiltinHash(rounds=1000)
MAILDIR_NAME = "maildir"


def _pymap_args(settings: SandboxSettings) -> Namespace:
    """The namespace pymap's own command line would build for `pymap --no-tls maildir DIR`."""
    return Namespace(
        host=[settings.host],
        port=str(settings.imap_port),
        debug=False,
        cert=None,
        key=None,
        tls=False,
        passlib_cfg=None,
        proxy_protocol=None,
        inherited_sockets=None,
        base_dir=str(settings.data_dir / MAILDIR_NAME),
        concurrency=None,
        layout="++",
        colon=None,
    )


async def write_user(settings: SandboxSettings) -> None:
    """(Re)write the demo user so a changed SANDBOX_PASSWORD takes effect on restart."""
    base_dir = str(settings.data_dir / MAILDIR_NAME)
    os.makedirs(base_dir, exist_ok=True)
    name = settings.address
    async with UsersFile.with_write(base_dir) as users, PasswordsFile.with_write(base_dir) as passwords:
        users.set(users.build_record(name, name.split("@", 1)[0]))
        passwords.set(passwords.build_record(name, _HASH.hash(settings.password)))


async def start_imap(settings: SandboxSettings, stack: AsyncExitStack) -> None:
    """Listen on settings.host:imap_port until the stack closes."""
    export("FQDN", "sandbox.local", overwrite=False)  # pymap's greeting; avoids a DNS lookup per connection
    await write_user(settings)
    backend, config = await MaildirBackend.init(_pymap_args(settings))
    config.apply_context()
    await backend.start(stack)
    await IMAPService(backend, config).start(stack)
