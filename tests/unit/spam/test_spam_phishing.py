"""Hand-made modern phishing lures and ordinary modern mail, scored by the shipped model."""

from __future__ import annotations

import pytest

from email_service.spam.model import score_message


def _mail(sender: str, subject: str, html: str, extra_headers: str = "", attachment: str = "") -> bytes:
    """A multipart/mixed message with one HTML body and an optional attachment part."""
    parts = [f'--b1\nContent-Type: text/html; charset="utf-8"\n\n{html}\n']
    if attachment:
        parts.append(attachment)
    return (
        f"From: {sender}\nTo: victim@example.org\nSubject: {subject}\n"
        "Date: Tue, 04 Mar 2025 09:12:44 +0000\nMessage-ID: <a1b2c3@mailer.example.net>\n"
        f'{extra_headers}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n'
        + "".join(parts)
        + "--b1--\n"
    ).encode()


M365 = _mail(
    '"Microsoft 365 Admin" <no-reply@secure-m365-support.top>',
    "Action required: your password expires today",
    "<p>Dear user, your mailbox password expires today. To keep access, verify your account "
    "within 24 hours.</p><p><a href='http://185.243.112.9/owa/login.php'>https://outlook.office.com/login</a>"
    "</p>",
    "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=secure-m365-support.top; dmarc=fail\n",
)
PAYPAL = _mail(
    '"PayPal Service" <service@paypa1-resolution.com>',
    "Your account has been limited",
    "<p>We noticed unusual activity. Your account has been temporarily limited. Please confirm your "
    "identity immediately.</p><a href='https://xn--paypl-7ve.com/signin'>www.paypal.com/signin</a>",
    "Reply-To: help@resolution-desk.ru\n",
)
BANK = _mail(
    '"Wells Fargo Online" <alerts@wf-notify-secure.com>',
    "Suspicious sign-in attempt",
    "<p>A suspicious sign-in was detected. Update your information to avoid suspension.</p>"
    "<a href='https://bit.ly/3xYz9Qa'>Review activity</a>",
    attachment='--b1\nContent-Type: text/html; name="Statement.pdf.html"\n'
    'Content-Disposition: attachment; filename="Statement.pdf.html"\n\n'
    "<form action='https://wf-verify.web.app/post'><input name=pw type=password></form>\n",
)
DOCUSIGN = _mail(
    '"DocuSign via invoice@contoso-billing.com" <share@mail-doc-share.xyz>',
    "Completed: Invoice #44817 - please review and sign",
    "<p>You have received a document to review and sign. Sign in with your email credentials to "
    "view the document.</p><a href='https://storage.googleapis.com/docu-4481/index.html'>REVIEW DOCUMENT</a>",
)
MODERN_HAM = _mail(
    '"Alice Martin" <alice@example.org>',
    "Notes from Tuesday's planning meeting",
    "<p>Hi all, thanks for joining. Attached are the notes; the next review is on Friday. "
    "Let me know if I missed anything about the migration schedule.</p><p>Alice</p>",
)


@pytest.mark.parametrize("raw", [M365, PAYPAL, BANK, DOCUSIGN], ids=["m365", "paypal", "bank", "docusign"])
def test_modern_phishing_is_flagged(raw: bytes) -> None:
    verdict = score_message(raw)
    assert verdict.is_spam, verdict
    assert len(verdict.indicators) >= 2


def test_expected_indicators_on_lures() -> None:
    assert {"ip_literal_url", "potential_phishing_url", "auth_failed", "credential_request"} <= set(
        score_message(M365).indicators
    )
    assert {"punycode_url", "reply_to_mismatch", "brand_impersonation"} <= set(
        score_message(PAYPAL).indicators
    )
    assert {"dangerous_attachment", "url_shortener", "html_form"} <= set(score_message(BANK).indicators)
    assert {"display_name_spoof", "free_host_link"} <= set(score_message(DOCUSIGN).indicators)


def test_ordinary_mail_is_not_flagged() -> None:
    verdict = score_message(MODERN_HAM)
    assert not verdict.is_spam, verdict
    assert verdict.indicators == ()
