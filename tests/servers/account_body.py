"""The POST /api/accounts body for a private test mailbox: plain IMAP, SMTP unused unless overridden."""

from __future__ import annotations


def plain_account_body(
    email: str, host: str, port: int, username: str, password: str, /, **overrides: object
) -> dict[str, object]:
    data: dict[str, object] = {
        "email_address": email,
        "imap_host": host,
        "imap_port": port,
        "imap_security": "none",
        "smtp_host": host,
        "smtp_port": 25,
        "smtp_security": "none",
        "username": username,
        "password": password,
    }
    return {**data, **overrides}
