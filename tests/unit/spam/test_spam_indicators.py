"""Each rule indicator fires on a hand-written positive and stays quiet on a close negative."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from email_service.spam.indicators import DEFAULT_BUMPS, INDICATOR_NAMES, INDICATORS, detect_indicators
from email_service.spam.view import AttachmentInfo, MessageView, view_from_raw

BASE = MessageView(
    subject="Lunch on Friday?",
    text="Are you free for lunch on Friday? The usual place is fine.",
    from_name="Bob Smith",
    from_email="bob@example.com",
    reply_to=(),
    message_id="<1@example.com>",
    headers={"message-id": ("<1@example.com>",), "return-path": ("<bob@example.com>",)},
    links=(("https://www.example.com/menu", "www.example.com/menu"),),
    attachments=(AttachmentInfo("menu.pdf", "application/pdf", 1000),),
    content_types=("text/plain",),
    has_html=False,
    has_form=False,
    parse_failed=False,
)

CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "potential_phishing_url": (
        {"links": (("http://login.evil-host.net/x", "https://www.paypal.com/signin"),)},
        {"links": (("https://www.paypal.com/signin?x=1", "https://www.paypal.com/signin"),)},
    ),
    "ip_literal_url": ({"links": (("http://192.0.2.7/login", "Log in"),)}, {}),
    "punycode_url": ({"links": (("https://xn--pypal-4ve.com/", "PayPal"),)}, {}),
    "url_shortener": (
        {"links": (("https://bit.ly/abc", "click"),)},
        {"links": (("https://bitly.example/", "x"),)},
    ),
    "free_host_link": ({"links": (("https://x-login.web.app/", "Sign in"),)}, {}),
    "reply_to_mismatch": ({"reply_to": ("pay@other.ru",)}, {"reply_to": ("bob@mail.example.com",)}),
    "return_path_mismatch": ({"headers": {"return-path": ("<b@bounce.other.net>",)}}, {}),
    "display_name_spoof": ({"from_name": "ceo@company.com"}, {"from_name": "bob@example.com"}),
    "brand_impersonation": (
        {"from_name": "PayPal Security"},
        {"from_name": "PayPal Security", "from_email": "service@paypal.com"},
    ),
    "dangerous_attachment": (
        {"attachments": (AttachmentInfo("invoice.pdf.exe", "application/octet-stream", 9),)},
        {"attachments": (AttachmentInfo("invoice.v2.pdf", "application/pdf", 9),)},
    ),
    "auth_failed": (
        {"headers": {"authentication-results": ("mx; spf=softfail smtp.mailfrom=x; dkim=none",)}},
        {"headers": {"authentication-results": ("mx; spf=pass; dkim=pass; dmarc=pass",)}},
    ),
    "missing_message_id": ({"message_id": "", "headers": {}}, {}),
    "all_caps_subject": ({"subject": "FREE MONEY WAITING NOW"}, {"subject": "Meeting at NASA HQ"}),
    "credential_request": (
        {"text": "Please verify your account to avoid interruption."},
        {"text": "Please verify the numbers in the attached budget."},
    ),
    "urgent_action": ({"text": "Respond within 24 hours or lose access."}, {}),
    "html_form": ({"has_form": True}, {}),
    "unparseable": ({"parse_failed": True}, {}),
}


def test_vocabulary_is_documented_and_fixed() -> None:
    assert len(INDICATOR_NAMES) == len(set(INDICATOR_NAMES)) >= 10
    assert all(description.endswith(".") for _, description in INDICATORS)
    assert set(DEFAULT_BUMPS) == set(INDICATOR_NAMES)
    assert set(CASES) == set(INDICATOR_NAMES)


def test_plain_message_fires_nothing() -> None:
    assert detect_indicators(BASE) == ()


@pytest.mark.parametrize("name", sorted(CASES))
def test_indicator_positive_and_negative(name: str) -> None:
    positive, negative = CASES[name]
    assert name in detect_indicators(replace(BASE, **positive))
    assert name not in detect_indicators(replace(BASE, **negative))


def test_raw_fallback_still_finds_links() -> None:
    raw = b"From: x@y.com\nSubject: hi\n\n<html><a href='http://10.1.2.3/a'>here</a></html>"
    view = view_from_raw(raw)
    assert view.parse_failed
    assert "ip_literal_url" in detect_indicators(view)


def test_brand_look_alike_domains_impersonate_but_the_brands_other_domains_do_not() -> None:
    def fires(name: str, sender: str) -> bool:
        return "brand_impersonation" in detect_indicators(replace(BASE, from_name=name, from_email=sender))

    assert fires("DHL Express", "noreply@dhl-parcel-track.xyz")
    assert fires("PayPal", "service@paypal-secure-login.com")
    assert not fires("DHL Express", "noreply@dhl-news.com")  # brand word alone: not enough
    assert not fires("Apple Hill Farm", "shop@applehillfarm.com")
    assert not fires("DHL Express", "noreply@dhl.de")


RESET = {
    "text": "Someone asked to reset your password. Click the link to reset your password.",
    "from_email": "no-reply@dropbox.com",
    "links": (("https://www.dropbox.com/password_reset?t=1", "Reset password"),),
}
TOP_PASS = "mx.example.net; spf=pass smtp.mailfrom=dropbox.com; dkim=pass header.d=dropbox.com; dmarc=pass"


@pytest.mark.parametrize(
    ("results", "links", "counted"),
    [
        ((TOP_PASS,), RESET["links"], False),  # authenticated, links on its own domain
        (("mx.example.net; spf=pass; dkim=pass header.d=dropbox.com",), RESET["links"], False),
        ((), RESET["links"], True),  # nothing proves who sent it
        (("mx.example.net; spf=pass; dkim=pass header.d=sendgrid.net",), RESET["links"], True),  # not aligned
        ((TOP_PASS,), (("https://dropbox-reset.web.app/x", "Reset password"),), True),  # links elsewhere
        (("mx.example.net; spf=fail; dmarc=fail", TOP_PASS), RESET["links"], True),  # only the top one counts
    ],
)
def test_credential_request_is_not_counted_for_an_authenticated_senders_own_links(
    results: tuple[str, ...], links: tuple[tuple[str, str], ...], counted: bool
) -> None:
    view = replace(BASE, **{**RESET, "links": links, "headers": {"authentication-results": results}})
    assert ("credential_request" in detect_indicators(view)) is counted


@pytest.mark.parametrize(
    ("name", "sender", "fires"),
    [
        ("Google Security", "alerts@secure-mail.top", True),
        ("Google", "no-reply@accounts.google.com", False),
        ("IRS Refund Department", "refund@irs-gov.help", True),
        ("Geek Squad", "billing@support-center.xyz", True),
        ("The Ledger", "news@theledger.com", False),  # a newspaper, no look-alike words
    ],
)
def test_more_commonly_impersonated_brands(name: str, sender: str, fires: bool) -> None:
    view = replace(BASE, from_name=name, from_email=sender)
    assert ("brand_impersonation" in detect_indicators(view)) is fires


@pytest.mark.parametrize(
    ("sender", "to", "fires"),
    [
        ("helpdesk@acme-corp.com", ("bob@acme-corp.com",), False),  # the organisation's own help desk
        ("helpdesk@mail.acme-corp.com", ("bob@acme-corp.com",), False),
        ("helpdesk@acme-support.net", ("bob@acme-corp.com",), True),  # outside the organisation
        ("it.support.team@gmail.com", ("bob@gmail.com",), True),  # a shared webmail domain proves nothing
        ("helpdesk@acme-corp.com", (), True),  # no recipient to compare with
    ],
)
def test_role_names_fire_only_from_outside_the_recipients_organisation(
    sender: str, to: tuple[str, ...], fires: bool
) -> None:
    view = replace(BASE, from_name="IT Help Desk", from_email=sender, to=to)
    assert ("brand_impersonation" in detect_indicators(view)) is fires


@pytest.mark.parametrize(
    ("name", "fires"),
    [
        ("Chase", True),
        ("Chase Alerts", True),
        ("JPMorgan Chase Bank", True),
        ("Chase.com", True),
        ("Chase Miller", False),
        ('"Miller, Chase"', False),
    ],
)
def test_a_brand_that_is_also_a_given_name_needs_a_service_name(name: str, fires: bool) -> None:
    view = replace(BASE, from_name=name, from_email="alerts@secure-notice.top")
    assert ("brand_impersonation" in detect_indicators(view)) is fires
