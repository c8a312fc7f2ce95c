"""Modern legitimate mail must stay ham; lures with two strong indicators must be caught."""

from __future__ import annotations

import pytest

from email_service.spam.model import score_message

_PASS = "Authentication-Results: mx.example.org; spf=pass; dkim=pass; dmarc=pass\n"


def _mail(sender: str, subject: str, html: str, headers: str = _PASS, ctype: str = "text/html") -> bytes:
    """A single-part modern message with a Message-ID and the given extra headers."""
    return (
        f"From: {sender}\nTo: sam@example.org\nSubject: {subject}\nDate: Wed, 05 Mar 2025 08:00:00 +0000\n"
        f"Message-ID: <20250305.k9@mail.example.net>\n{headers}MIME-Version: 1.0\n"
        f'Content-Type: {ctype}; charset="utf-8"\n\n{html}\n'
    ).encode()


NEWSLETTER = _mail(
    '"The Weekly Dev" <news@weeklydev.io>',
    "This week: Python 3.13 performance, Rust in the kernel and more",
    "<p>Hi Sam, here are this week's top stories.</p><p><a href='https://click.weeklydev.io/t/abc123'>"
    "Python 3.13: what the new JIT means for you</a></p><p><a href='https://click.weeklydev.io/t/def456'>"
    "Rust for Linux: a status report</a></p><p>You receive this because you subscribed at weeklydev.io. "
    "<a href='https://weeklydev.io/unsubscribe?u=42'>Unsubscribe</a></p>",
    _PASS
    + "List-Unsubscribe: <https://weeklydev.io/unsubscribe?u=42>\n"
    + "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n",
)
BANK_NOTICE = _mail(
    '"Chase" <no-reply@alertsp.chase.com>',
    "Your March statement is ready",
    "<p>Your statement for the account ending in 4821 is now available. Sign in at "
    "<a href='https://secure.chase.com/statements'>chase.com</a> to view it.</p>"
    "<p>Please don't reply to this automated message.</p>",
)
SHIPPING = _mail(
    '"Amazon.com" <shipment-tracking@amazon.com>',
    "Your package has shipped",
    "<p>Hello Sam, your order #112-4821931-2231 has shipped and arrives Friday, March 7.</p>"
    "<p><a href='https://www.amazon.com/gp/your-account/order-details?orderID=112'>Track package</a></p>",
)
GITHUB = _mail(
    '"Jane Doe" <notifications@github.com>',
    "Re: [acme/api] Fix race in token refresh (PR #512)",
    "@sam I pushed a fix for the failing test; can you take another look?\n\n-- \nReply to this email "
    "directly, view it on GitHub: https://github.com/acme/api/pull/512#issuecomment-1",
    _PASS + "List-ID: acme/api <api.acme.github.com>\n",
    ctype="text/plain",
)
CALENDAR = _mail(
    '"Priya Shah" <priya@example.org>',
    "Invitation: Quarterly planning @ Thu Mar 13, 2025 10am - 11am (CET)",
    "Priya Shah has invited you to Quarterly planning.\nWhen: Thursday 13 March 2025 10:00 - 11:00 CET\n"
    "Where: Room 4.02 / https://meet.google.com/abc-defg-hij\nGoing? Yes - Maybe - No",
    ctype="text/plain",
)
MAILBOX_LURE = _mail(
    '"IT Help Desk" <admin@univ-mail-support.xyz>',
    "Mailbox storage full - action needed",
    "<p>Your mailbox is full. Verify your account to keep receiving mail.</p>"
    "<p><a href='https://mail-upgrade-4821.web.app/login'>Upgrade storage</a></p>",
    headers="",
)
INVOICE_LURE = _mail(
    '"Accounts" <billing@quickpay-invoices.online>',
    "Invoice INV-88213 overdue",
    "<p>Please find the overdue invoice attached. Open the secure document below to view it.</p>"
    "<p><a href='http://203.0.113.77/invoice/view'>https://quickbooks.intuit.com/invoice/88213</a></p>",
    headers="",
)


@pytest.mark.parametrize(
    "raw",
    [NEWSLETTER, BANK_NOTICE, SHIPPING, GITHUB, CALENDAR],
    ids=["news", "bank", "ship", "github", "cal"],
)
def test_modern_legitimate_mail_is_ham(raw: bytes) -> None:
    verdict = score_message(raw)
    assert not verdict.is_spam, verdict


@pytest.mark.parametrize("raw", [MAILBOX_LURE, INVOICE_LURE], ids=["mailbox", "invoice"])
def test_lures_with_two_strong_indicators_are_spam(raw: bytes) -> None:
    verdict = score_message(raw)
    assert verdict.is_spam, verdict
    assert len(set(verdict.indicators) - {"urgent_action", "missing_message_id"}) >= 2


def _short(sender: str, subject: str, body: str) -> bytes:
    """A short plain-text modern message: few words, so the model's prior (intercept) decides much."""
    return _mail(sender, subject, body, ctype="text/plain")


# Short personal and transactional mail sits nearest the threshold: a word-bigram block trained on the
# 2002 corpus pushed LUNCH over it (and SHIPPING from 0.38 to 0.74) while gaining on the corpus splits.
SHORT_HAM = {
    "lunch": _short(
        "Bob <bob@example.org>",
        "lunch tomorrow?",
        "Are you free for lunch tomorrow at noon? Let me know.\nBob",
    ),
    "ride": _short(
        "Uber Receipts <noreply@uber.com>",
        "Your Thursday evening trip with Uber",
        "Thanks for riding, Sam. Total $18.42. Trip from Market St to Mission St, 4.2 miles, 16 min.",
    ),
    "signin": _short(
        "Netflix <info@account.netflix.com>",
        "New sign-in to your account",
        "We noticed a new sign-in to your Netflix account from a TV in Berlin, Germany. If this was you, "
        "you can ignore this message.",
    ),
    "recording": _short(
        "Zoom <no-reply@zoom.us>",
        "Cloud recording is now available",
        "Hi Sam, your cloud recording of Weekly Sync is now available. Recording duration 42 minutes.",
    ),
    "payment": _short(
        "PayPal <service@paypal.com>",
        "You sent a payment to Anna Meyer",
        "You sent $25.00 USD to Anna Meyer. Transaction ID 7XJ23. Note: concert tickets.",
    ),
}


@pytest.mark.parametrize("raw", list(SHORT_HAM.values()), ids=list(SHORT_HAM))
def test_short_modern_mail_is_ham(raw: bytes) -> None:
    verdict = score_message(raw)
    assert not verdict.is_spam, verdict
