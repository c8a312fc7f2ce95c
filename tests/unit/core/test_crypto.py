from __future__ import annotations

import base64

import pytest

from email_service.core.crypto import DecryptionError, SecretBox, generate_key

OLD = generate_key("old")
NEW = generate_key("new")


def test_round_trip_and_version_prefix() -> None:
    box = SecretBox((OLD,))
    token = box.encrypt("s3cret", "acct-1")
    assert token.startswith("v1.old.")
    assert "s3cret" not in token
    assert box.decrypt(token, "acct-1") == "s3cret"


def test_ciphertext_is_bound_to_its_row() -> None:
    box = SecretBox((OLD,))
    token = box.encrypt("s3cret", "acct-1")
    with pytest.raises(DecryptionError):
        box.decrypt(token, "acct-2")


def test_tampering_is_detected() -> None:
    box = SecretBox((OLD,))
    token = box.encrypt("s3cret", "a")
    prefix, payload = token.rsplit(".", 1)
    blob = bytearray(base64.urlsafe_b64decode(payload))
    blob[len(blob) // 2] ^= 0x01  # one bit of the ciphertext (editing base64 text may hit padding bits)
    flipped = f"{prefix}.{base64.urlsafe_b64encode(bytes(blob)).decode()}"
    with pytest.raises(DecryptionError):
        box.decrypt(flipped, "a")


def test_rotation_keeps_old_ciphertexts_readable() -> None:
    old_token = SecretBox((OLD,)).encrypt("pw", "a")
    rotated = SecretBox((NEW, OLD))
    assert rotated.needs_rotation(old_token)
    assert rotated.decrypt(old_token, "a") == "pw"
    new_token = rotated.encrypt("pw", "a")
    assert not rotated.needs_rotation(new_token)
    with pytest.raises(DecryptionError, match="no configured key"):
        SecretBox((OLD,)).decrypt(new_token, "a")


def test_malformed_and_unknown_version() -> None:
    box = SecretBox((OLD,))
    with pytest.raises(DecryptionError):
        box.decrypt("garbage", "a")
    with pytest.raises(DecryptionError):
        box.decrypt("v9.old.AAAA", "a")
