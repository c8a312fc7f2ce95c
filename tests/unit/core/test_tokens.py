from __future__ import annotations

import time

import jwt
import pytest

from email_service.core.config import load_settings
from email_service.core.errors import Unauthorized
from email_service.core.tenancy.tokens import issue_token, verify_token

SETTINGS = load_settings({"APP_ENV": "development", "JWT_SECRET": "k" * 40})


def test_issue_and_verify() -> None:
    identity = verify_token(SETTINGS, issue_token(SETTINGS, "t1", "u1"))
    assert (identity.tenant_id, identity.user_id) == ("t1", "u1")


@pytest.mark.parametrize(
    ("claims", "secret", "reason"),
    [
        ({"sub": "u", "tenant_id": "t", "exp": -10}, "k" * 40, "expired"),
        ({"sub": "u", "tenant_id": "t", "exp": 60}, "other" * 10, "invalid"),
        ({"sub": "u", "exp": 60}, "k" * 40, "tenant_id"),
        ({"tenant_id": "t", "exp": 60}, "k" * 40, "sub"),
        ({"sub": "u", "tenant_id": "t"}, "k" * 40, "exp"),
        ({"sub": "", "tenant_id": "t", "exp": 60}, "k" * 40, "non-empty"),
        ({"sub": "u", "tenant_id": 5, "exp": 60}, "k" * 40, "non-empty"),
    ],
)
def test_refused_tokens(claims: dict[str, object], secret: str, reason: str) -> None:
    if "exp" in claims:  # relative seconds in the table, absolute time when the test runs
        claims = {**claims, "exp": int(time.time()) + int(str(claims["exp"]))}
    token = jwt.encode(claims, secret, algorithm="HS256")
    with pytest.raises(Unauthorized, match=reason):
        verify_token(SETTINGS, token)


def test_alg_none_refused() -> None:
    token = jwt.encode({"sub": "u", "tenant_id": "t", "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(Unauthorized):
        verify_token(SETTINGS, token)


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(SETTINGS, "t1", "u1", ttl_seconds=30)
    verify_token(SETTINGS, token)  # verified once, then answered from memory
    later = time.time() + 31
    monkeypatch.setattr("email_service.core.tenancy.tokens.time.time", lambda: later)
    with pytest.raises(Unauthorized, match="expired"):
        verify_token(SETTINGS, token)


def test_a_remembered_token_is_checked_again_under_another_secret() -> None:
    token = issue_token(SETTINGS, "t1", "u1")
    verify_token(SETTINGS, token)
    with pytest.raises(Unauthorized, match="invalid"):
        verify_token(load_settings({"APP_ENV": "development", "JWT_SECRET": "r" * 40}), token)


def test_a_tampered_copy_of_a_remembered_token_is_refused() -> None:
    token = issue_token(SETTINGS, "t1", "u1")
    verify_token(SETTINGS, token)
    header, _claims, signature = token.split(".")
    forged = jwt.encode({"sub": "u1", "tenant_id": "t2", "exp": int(time.time()) + 60}, "x" * 40).split(".")
    with pytest.raises(Unauthorized, match="invalid"):
        verify_token(SETTINGS, f"{header}.{forged[1]}.{signature}")
