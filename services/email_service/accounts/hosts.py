"""Save-time outbound policy for an account's IMAP/POP3/SMTP hosts (the connect-time check is in mail/)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from email_service.core.errors import ValidationFailed
from email_service.core.net_policy import AllowList, HostNotAllowed, check_host

HOST_FIELDS = (("imap_host", "imap_port"), ("pop3_host", "pop3_port"), ("smtp_host", "smtp_port"))


def check_account_hosts(values: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Raise ValidationFailed (422) naming each host field the policy refuses; absent fields pass."""
    allow = AllowList(allowed)
    problems: list[dict[str, str]] = []
    for field, port_field in HOST_FIELDS:
        host = values.get(field)
        if host is None:
            continue
        try:
            check_host(str(host), int(values.get(port_field) or 0), allow)
        except HostNotAllowed as exc:
            problems.append({"field": field, "message": f"{field} {exc}", "type": "host_not_allowed"})
    if problems:
        message = "; ".join(p["message"] for p in problems)
        raise ValidationFailed(message, {"fields": problems})
