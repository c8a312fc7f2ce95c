"""The bearer SASL payloads byte for byte (Google's XOAUTH2 documentation, RFC 7628 §3.1) and the choice
of mechanism by what the server advertises."""

from __future__ import annotations

import base64

import pytest

from email_service.mail.sasl import NoBearerMechanism, choose_mechanism, oauthbearer_payload, xoauth2_payload


def test_xoauth2_matches_googles_example() -> None:
    # https://developers.google.com/gmail/imap/xoauth2-protocol: the base64 of the example
    encoded = base64.b64encode(
        xoauth2_payload("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
    )
    assert encoded == (
        b"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRH"
        b"RXVZMjl0Q2cBAQ=="
    )


def test_oauthbearer_matches_rfc_7628() -> None:
    # RFC 7628 §4.1, with the GS2 authzid escaped as RFC 5801 says
    payload = oauthbearer_payload(
        "user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com", 143
    )
    assert payload == (
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
        b"auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
    )
    assert oauthbearer_payload("a,b=c", "t").startswith(b"n,a=a=2Cb=3Dc,\x01auth=Bearer t")


def test_oauthbearer_is_preferred_then_xoauth2() -> None:
    assert choose_mechanism(["PLAIN", "XOAUTH2", "OAUTHBEARER"]) == "OAUTHBEARER"
    assert choose_mechanism(["login", "plain", "xoauth2"]) == "XOAUTH2"
    with pytest.raises(NoBearerMechanism):
        choose_mechanism(["PLAIN", "LOGIN"])


@pytest.mark.parametrize("token", ["a\r\nA1 LOGOUT", "a\x01auth=Bearer other", "a\x00"])
def test_separators_inside_values_are_refused(token: str) -> None:
    with pytest.raises(ValueError):
        xoauth2_payload("user", token)
    with pytest.raises(ValueError):
        oauthbearer_payload("user", token)
