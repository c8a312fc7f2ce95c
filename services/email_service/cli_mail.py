"""Mail-related CLI commands: add-account, sync (foreground with a progress bar)."""

from __future__ import annotations

import click

from email_service.cli import main
from email_service.crypto import get_secret_box
from email_service.db import session_scope


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
    from email_service.api.schemas import AccountCreate
    from email_service.services.accounts import create_account
    from email_service.services.identity import ensure_tenant_user

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
