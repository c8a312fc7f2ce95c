"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.

Written here rather than taken from the `standardwebhooks` package: it is a dozen lines, and the
package would bring its own HTTP client and attrs pins for nothing else. The published example vector
of the specification is a unit test (tests/unit/events/test_webhook_signing.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 24


def new_secret() -> str:
    """`whsec_` + base64 of random bytes, as the specification's secrets look."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after `whsec_`."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, event_id, timestamp, body),
    }


def verify(secret: str, event_id: str, timestamp: str, body: bytes, signature_header: str) -> bool:
    """What a receiver does (used by the tests' receiver): any listed v1 signature matching."""
    try:
        expected = sign(secret, event_id, int(timestamp), body)
    except ValueError:
        return False
    return any(hmac.compare_digest(expected, sig) for sig in signature_header.split())
