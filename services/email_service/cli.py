"""Console script `email-service`: administration commands that translate arguments into service calls."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from email_service.core.config import ConfigError, get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope


@click.group()
def main() -> None:
    """email_service administration."""
    try:
        get_settings()
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)


@main.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision."""
    from email_service.migrate import upgrade

    upgrade()
    click.echo("database is at the newest revision")


@main.command("create-token")
@click.option("--tenant", "tenant_id", required=True, help="tenant id (created when missing)")
@click.option("--user", "user_id", required=True, help="user id (created when missing)")
@click.option("--email", default="", help="the user's address, for notifications")
@click.option("--ttl", default=None, type=int, help="lifetime in seconds (default JWT_TTL_SECONDS)")
def create_token(tenant_id: str, user_id: str, email: str, ttl: int | None) -> None:
    """Create tenant and user when missing and print a bearer token for them."""
    from email_service.core.tenancy.identity import ensure_tenant_user
    from email_service.core.tenancy.tokens import issue_token

    try:
        with session_scope(system=True) as session:
            ensure_tenant_user(session, tenant_id, user_id, email)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(issue_token(get_settings(), tenant_id, user_id, ttl))


@main.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored secret with the first key of ENCRYPTION_KEYS."""
    from email_service.accounts.model import EmailAccount
    from email_service.accounts.oauth.secrets import rotate_keys
    from email_service.accounts.service import account_password

    box = get_secret_box()
    rotated = 0
    with session_scope(system=True) as session:
        for account in session.scalars(select(EmailAccount)):
            if box.needs_rotation(account.secret_ciphertext):
                account.secret_ciphertext = box.encrypt(account_password(box, account), account.id)
                rotated += 1
            rotated += rotate_keys(box, account)  # OAuth2 tokens and client secret
    click.echo(f"re-encrypted {rotated} secret(s) with key {box.primary_key_id!r}")


@main.command("generate-key")
@click.argument("key_id")
def generate_key(key_id: str) -> None:
    """Print a new ENCRYPTION_KEYS entry (put it first, keep the old ones, then rotate-key)."""
    from email_service.core.crypto import generate_key as make

    click.echo(make(key_id))


@main.command()
def watch() -> None:
    """Hold IMAP IDLE on every push-enabled account's INBOX and sync a folder when it changes."""
    from email_service.core.logging_setup import configure_logging
    from email_service.sync.watch.runner import run_watcher

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    run_watcher()


from email_service import cli_mail  # noqa: E402,F401  (registers add-account, sync, sandbox)
