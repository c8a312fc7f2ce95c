"""Credential encryption at rest: AES-256-GCM with a key id in a versioned ciphertext.

Format: ``v1.<key_id>.<base64url(nonce || ciphertext+tag)>``. The row id is bound as associated data,
so a ciphertext copied onto another account does not decrypt. The first configured key encrypts;
every configured key can decrypt, which is what makes rotation possible without downtime.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"


class DecryptionError(Exception):
    """The ciphertext is malformed, was made with an unknown key, or was tampered with."""


class SecretBox:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._keys: dict[str, AESGCM] = {}
        for entry in keys:
            kid, _, material = entry.partition(":")
            self._keys[kid] = AESGCM(base64.b64decode(material))
        self.primary_key_id = keys[0].partition(":")[0]

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.primary_key_id].encrypt(nonce, plaintext.encode(), context.encode())
        payload = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{VERSION}.{self.primary_key_id}.{payload}"

    def decrypt(self, token: str, context: str) -> str:
        version, kid, payload = self._split(token)
        if version != VERSION:
            raise DecryptionError(f"unsupported ciphertext version {version!r}")
        aead = self._keys.get(kid)
        if aead is None:
            raise DecryptionError(f"no configured key with id {kid!r}")
        try:
            blob = base64.urlsafe_b64decode(payload.encode())
            return aead.decrypt(blob[:12], blob[12:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError("ciphertext does not authenticate") from exc

    def needs_rotation(self, token: str) -> bool:
        return self._split(token)[1] != self.primary_key_id

    @staticmethod
    def _split(token: str) -> tuple[str, str, str]:
        parts = token.split(".", 2)
        if len(parts) != 3:
            raise DecryptionError("malformed ciphertext")
        return parts[0], parts[1], parts[2]


def generate_key(key_id: str) -> str:
    """A new 'id:base64' entry for ENCRYPTION_KEYS."""
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def get_secret_box() -> SecretBox:
    from email_service.core.config import get_settings

    return SecretBox(get_settings().encryption_keys)
