"""Mail-related CLI commands: add-account, sync (foreground with a progress bar)."""

from __future__ import annotations

from typing import Any

import click

from email_service.cli import main
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope


@main.command("add-account")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--user", "user_id", required=True)
@click.option("--email", "email_address", required=True)
@click.option("--imap-host", required=True)
@click.option("--imap-port", default=993, type=int)
@click.option("--imap-security", default="ssl", type=click.Choice(["ssl", "starttls", "none"]))
@click.option("--smtp-host", required=True)
@click.option("--smtp-port", default=465, type=int)
@click.option("--smtp-security", default="ssl", type=click.Choice(["ssl", "starttls", "none"]))
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, help="prompted for when omitted")
def add_account(tenant_id: str, user_id: str, **fields: object) -> None:
    """Add an email account for a user (tenant and user are created when missing); prints its id."""
    from email_service.accounts.schemas import AccountCreate
    from email_service.accounts.service import create_account
    from email_service.core.tenancy.identity import ensure_tenant_user

    data = AccountCreate.model_validate(fields).model_dump()
    with session_scope(system=True) as session:
        ensure_tenant_user(session, tenant_id, user_id)
    with session_scope(tenant_id) as session:
        account = create_account(session, get_secret_box(), tenant_id, user_id, data)
        click.echo(account.id)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def sandbox(ctx: click.Context) -> None:
    """Run the local IMAP + SMTP mail sandbox in the foreground (options: see --help of the module)."""
    from email_service.sandbox.__main__ import main as run_sandbox

    run_sandbox(list(ctx.args))


class _ProgressBars:
    """One click progress bar per folder that has new mail, fed by the sync's progress reports."""

    def __init__(self) -> None:
        self._folder: str | None = None
        self._bar: Any = None
        self._done = 0

    def __call__(self, meta: dict[str, Any]) -> None:
        if meta["folder"] != self._folder:
            self.close()
            self._folder, self._done = meta["folder"], 0
            self._bar = click.progressbar(length=int(meta["total"]), label=str(meta["folder"]))
            self._bar.__enter__()
        self._bar.update(int(meta["done"]) - self._done)
        self._done = int(meta["done"])

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@main.command("sync")
@click.argument("account_id")
@click.option("--folder-id", default=None, help="sync only this folder")
@click.option("--full", "force_full_sync", is_flag=True, help="rescan all flags and UIDs")
def sync(account_id: str, folder_id: str | None, force_full_sync: bool) -> None:
    """Sync one account in the foreground with a progress bar; prints the result as JSON."""
    import json

    from sqlalchemy import select

    from email_service.accounts.model import EmailAccount
    from email_service.sync.service import run_account_sync

    with session_scope(system=True) as session:  # the operator names an account; find its owner
        owner = session.execute(
            select(EmailAccount.tenant_id, EmailAccount.user_id).where(EmailAccount.id == account_id)
        ).first()
    if owner is None:
        raise click.ClickException(f"no account {account_id}")
    bars = _ProgressBars()
    try:
        result = run_account_sync(
            account_id,
            owner[0],
            owner[1],
            folder_id=folder_id,
            force_full_sync=force_full_sync,
            progress=bars,
        )
    except Exception as exc:  # any failure: a message and a non-zero exit, no traceback for operators
        raise click.ClickException(f"sync failed: {type(exc).__name__}: {exc}") from exc
    finally:
        bars.close()
    click.echo(json.dumps(result.as_dict()))
