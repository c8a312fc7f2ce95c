"""Account creation from an address and credentials alone: the missing server fields from autoconfig."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from email_service.accounts.autoconfig.lookup import autoconfig
from email_service.core.errors import NotFound, ValidationFailed

FILLED = ("imap_host", "imap_port", "imap_security", "smtp_host", "smtp_port", "smtp_security")


def needs_autoconfig(fields: dict[str, Any]) -> bool:
    return fields.get("imap_host") is None and fields.get("smtp_host") is None


def fill_from_autoconfig(
    fields: dict[str, Any], given: Collection[str], nameservers: tuple[str, ...]
) -> dict[str, Any]:
    """The fields with hosts, ports and security from autoconfig (values the caller gave win, except
    the hosts, which were absent), provider_saves_sent unless given, username defaulting to the address.
    Nothing found → 422 naming imap_host and smtp_host; a bad address → 422 on email_address; DNS down
    → 503."""
    address = fields["email_address"]
    try:
        found = autoconfig(address, nameservers)
    except NotFound:
        message = f"no server settings found for {address}: give imap_host and smtp_host"
        problems = [
            {"field": name, "message": f"{name} is required: autoconfig found nothing", "type": "missing"}
            for name in ("imap_host", "smtp_host")
        ]
        raise ValidationFailed(message, {"fields": problems}) from None
    except ValidationFailed:
        message = "email_address has no domain that can be looked up"
        problem = {"field": "email_address", "message": message, "type": "value_error"}
        raise ValidationFailed(message, {"fields": [problem]}) from None
    found_values = {
        "imap_host": found.imap.host,
        "imap_port": found.imap.port,
        "imap_security": found.imap.security,
        "smtp_host": found.smtp.host,
        "smtp_port": found.smtp.port,
        "smtp_security": found.smtp.security,
        "provider_saves_sent": found.provider_saves_sent,
    }
    filled = dict(fields)
    for name, value in found_values.items():
        if name not in given or name.endswith("_host"):
            filled[name] = value
    if filled.get("username") is None:
        filled["username"] = address
    return filled
