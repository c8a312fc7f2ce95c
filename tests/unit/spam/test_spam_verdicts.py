"""Three verdicts: the bands are ordered, only spam means is_spam, stored rows read back the same."""

from __future__ import annotations

from email_service.spam.model import global_model, score_message
from email_service.spam.verdicts import VERDICTS, Bands, shipped_bands, stored_verdict

LURE = (
    b"From: PayPal Security <service@paypal-secure-login.com>\nTo: sam@mail.test\n"
    b"Subject: Your account has been limited\nMIME-Version: 1.0\nContent-Type: text/html\n\n"
    b"<p>We noticed unusual sign-in activity. Verify your account within 24 hours or it will be closed."
    b" <a href='http://198.51.100.7/paypal/login'>https://www.paypal.com/signin</a></p>\n"
)


def test_bands_label_in_order() -> None:
    bands = Bands(threshold=0.9, uncertain=0.6)
    assert [bands.label(s) for s in (0.1, 0.6, 0.89, 0.9, 1.0)] == [
        "ham",
        "uncertain",
        "uncertain",
        "spam",
        "spam",
    ]


def test_uncertain_edge_never_above_the_spam_threshold() -> None:
    assert Bands.from_settings({"threshold": 0.8, "uncertain_threshold": 0.95}).uncertain == 0.8
    assert Bands.from_settings({"threshold": 0.8}).label(0.79) == "ham"  # no band in an old model


def test_shipped_model_has_an_uncertain_band() -> None:
    bands = shipped_bands()
    assert 0.0 < bands.uncertain < bands.threshold < 1.0
    assert global_model().bands == bands


def test_verdict_agrees_with_is_spam() -> None:
    result = score_message(LURE)
    assert result.verdict in VERDICTS
    assert result.is_spam == (result.verdict == "spam")
    assert result.verdict == "spam", result


def test_stored_verdict() -> None:
    bands = shipped_bands()
    assert stored_verdict(None, None) is None
    assert stored_verdict(True, 0.0) == "spam"  # the user's label wins
    assert stored_verdict(False, 0.0) == "ham"
    assert stored_verdict(False, bands.uncertain) == "uncertain"
    assert stored_verdict(False, 1.0) == "uncertain"  # never spam without is_spam
