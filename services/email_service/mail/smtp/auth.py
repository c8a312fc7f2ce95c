"""SMTP AUTH with an OAuth2 access token: OAUTHBEARER when the server advertises it, else XOAUTH2.

aiosmtplib has XOAUTH2 (auth_xoauth2); OAUTHBEARER goes through its public execute_command. A refused
token gets a base64 JSON error as a 334 challenge; an empty line (OAUTHBEARER: ^A) ends the exchange and
brings the final 5xx.
"""

from __future__ import annotations

import base64

import aiosmtplib

from email_service.mail.sasl import NoBearerMechanism, choose_mechanism, oauthbearer_payload
from email_service.mail.smtp.types import SmtpAuthError

AUTH_CONTINUE = 334
AUTH_SUCCESSFUL = 235


async def bearer_auth(client: aiosmtplib.SMTP, username: str, token: str, host: str, port: int) -> str:
    """Log in with the token; returns the mechanism used (SmtpAuthError when refused or not offered)."""
    try:
        mechanism = choose_mechanism(client.server_auth_methods)
        if mechanism == "XOAUTH2":
            await client.auth_xoauth2(username, token)
            return mechanism
        payload = base64.b64encode(oauthbearer_payload(username, token, host, port))
    except (ValueError, NoBearerMechanism) as exc:
        raise SmtpAuthError(str(exc)) from exc
    response = await client.execute_command(b"AUTH", b"OAUTHBEARER", payload)
    if response.code == AUTH_CONTINUE:
        response = await client.execute_command(base64.b64encode(b"\x01"))
    if response.code != AUTH_SUCCESSFUL:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)
    return mechanism
