"""Domain helpers and the small, hand-kept lists the phishing indicators compare against."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# Second-level labels under which registrations happen one level deeper (example.co.uk).
_SECOND_LEVEL = frozenset(
    {"co", "com", "net", "org", "gov", "edu", "ac", "gob", "or", "ne", "go", "mil", "nom", "ltd", "plc"}
)
_HOST_IN_TEXT = re.compile(r"(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,24})(?=[/:\s]|$)", re.IGNORECASE)

SHORTENERS = frozenset(
    {
        "bit.ly", "tinyurl.com", "goo.gl", "t.co", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly",
        "shorturl.at", "rb.gy", "tiny.cc", "t.ly", "s.id", "bit.do", "v.gd", "shorte.st", "adf.ly",
        "bl.ink", "short.io", "tr.im", "qrco.de", "u.to", "clck.ru", "x.co", "lnk.to", "urlz.fr",
    }
)  # fmt: skip

# Free hosting, storage and form services where phishing pages are commonly parked.
# Webmail providers anyone can sign up at: sharing one with the recipient says nothing about who sent it.
FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "aol.com",
        "icloud.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "proton.me",
        "protonmail.com",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "uol.com.br",
        "bol.com.br",
    ]
)
FREE_HOSTS = frozenset(
    {
        "firebaseapp.com", "web.app", "appspot.com", "googleapis.com", "blogspot.com", "weebly.com",
        "wixsite.com", "000webhostapp.com", "sites.google.com", "forms.gle", "github.io", "glitch.me",
        "netlify.app", "vercel.app", "pages.dev", "workers.dev", "r2.dev", "ipfs.io", "dweb.link",
        "herokuapp.com", "azurewebsites.net", "windows.net", "square.site", "godaddysites.com",
        "webflow.io", "repl.co", "ngrok.io", "ngrok-free.app", "typeform.com", "jotform.com",
        "formstack.com", "surge.sh", "myshopify.com", "wordpress.com", "yolasite.com", "mystrikingly.com",
        "site123.me", "webnode.page", "backblazeb2.com", "amazonaws.com", "digitaloceanspaces.com",
        "translate.goog", "business.site", "carrd.co", "linktr.ee", "ead.me", "canva.site",
    }
)  # fmt: skip

# Brand word in a display name -> registrable domains that may legitimately use it.
BRANDS: dict[str, tuple[str, ...]] = {
    "microsoft": (
        "microsoft.com",
        "office.com",
        "outlook.com",
        "live.com",
        "office365.com",
        "sharepoint.com",
    ),
    "office 365": ("microsoft.com", "office.com", "office365.com", "outlook.com"),
    "outlook": ("microsoft.com", "outlook.com", "live.com", "office.com"),
    "onedrive": ("microsoft.com", "onedrive.com", "live.com", "sharepoint.com"),
    "paypal": ("paypal.com", "paypal.co.uk", "paypal.de", "paypal.com.br"),
    "apple": ("apple.com", "icloud.com", "me.com"),
    "icloud": ("apple.com", "icloud.com"),
    "amazon": ("amazon.com", "amazon.co.uk", "amazon.de", "amazon.com.br", "amazonses.com", "aws.com"),
    "netflix": ("netflix.com",),
    "dhl": ("dhl.com", "dhl.de"),
    "fedex": ("fedex.com",),
    "usps": ("usps.com", "usps.gov"),
    "wells fargo": ("wellsfargo.com",),
    "chase": ("chase.com", "jpmorgan.com"),
    "bank of america": ("bankofamerica.com", "bofa.com"),
    "docusign": ("docusign.com", "docusign.net"),
    "dropbox": ("dropbox.com", "dropboxmail.com"),
    "adobe": ("adobe.com",),
    "coinbase": ("coinbase.com",),
    "binance": ("binance.com",),
    "metamask": ("metamask.io",),
    "american express": ("americanexpress.com", "aexp.com"),
    "instagram": ("instagram.com", "facebookmail.com", "meta.com"),
    "facebook": ("facebook.com", "facebookmail.com", "meta.com"),
    "linkedin": ("linkedin.com",),
    "whatsapp": ("whatsapp.com", "meta.com"),
    "netflix support": ("netflix.com",),
    "bradesco": ("bradesco.com.br",),
    "itau": ("itau.com.br",),
    "caixa": ("caixa.gov.br",),
    "santander": ("santander.com.br", "santander.com", "santander.co.uk"),
    "banco do brasil": ("bb.com.br",),
    "nubank": ("nubank.com.br",),
    "mercado livre": ("mercadolivre.com.br", "mercadolibre.com"),
    "correios": ("correios.com.br",),
    "mercado pago": ("mercadopago.com", "mercadopago.com.br", "mercadolivre.com.br", "mercadolibre.com"),
    "sharepoint": ("microsoft.com", "sharepoint.com", "office.com"),
    "google": ("google.com", "gmail.com", "youtube.com", "googlemail.com"),
    "gmail": ("google.com", "gmail.com", "googlemail.com"),
    "youtube": ("youtube.com", "google.com"),
    "yahoo": ("yahoo.com", "yahoo.co.uk", "yahoo.com.br", "yahoo-inc.com"),
    "ebay": ("ebay.com", "ebay.co.uk", "ebay.de"),
    "spotify": ("spotify.com",),
    "zoom": ("zoom.us", "zoom.com"),
    "wetransfer": ("wetransfer.com",),
    "ups": ("ups.com",),
    "royal mail": ("royalmail.com", "royalmail.co.uk"),
    "irs": ("irs.gov",),
    "hmrc": ("hmrc.gov.uk", "gov.uk"),
    "hsbc": ("hsbc.com", "hsbc.co.uk", "us.hsbc.com"),
    "citibank": ("citi.com", "citibank.com"),
    "capital one": ("capitalone.com",),
    "ledger": ("ledger.com",),
    "trust wallet": ("trustwallet.com",),
    "mcafee": ("mcafee.com",),
    "geek squad": ("bestbuy.com", "geeksquad.com"),
    "walmart": ("walmart.com",),
    "at&t": ("att.com", "att.net"),
    "verizon": ("verizon.com", "verizonwireless.com"),
    "webmail": (),
    "mailbox": (),
    "help desk": (),
    "helpdesk": (),
    "it support": (),
}


def registrable(host: str) -> str:
    """Approximate registrable domain (example.co.uk, example.com) without a public-suffix list."""
    host = host.strip().strip(".").lower()
    labels = [p for p in host.split(".") if p]
    if len(labels) <= 2:
        return ".".join(labels)
    if labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def email_domain(address: str) -> str:
    """Lower-cased domain of an email address, '' if it has none."""
    _, _, domain = address.rpartition("@")
    return domain.strip().strip(">").lower() if "@" in address else ""


def url_host(href: str) -> str:
    """Host of an absolute http(s) URL, '' for mailto:, relative or unparseable links."""
    href = href.strip()
    if not href.lower().startswith(("http://", "https://", "//")):
        return ""
    try:
        host = urlsplit(href if not href.startswith("//") else "http:" + href).hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


def is_ip(host: str) -> bool:
    """True for IPv4/IPv6 literals, including the dotless-integer form browsers accept."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.isdigit() and len(host) >= 8
    return True


def domain_in_text(text: str) -> str:
    """The host a link's visible text claims to point to, '' when the text is not a URL/domain."""
    text = text.strip()
    if " " in text or len(text) > 200:
        return ""
    match = _HOST_IN_TEXT.match(text)
    if not match or "." not in match.group(1):
        return ""
    host = match.group(1).lower()
    if host.rsplit(".", 1)[-1] in {"html", "htm", "php", "asp", "aspx", "pdf", "jpg", "png", "gif"}:
        return ""
    return host


def host_matches(host: str, domains: frozenset[str]) -> bool:
    """True when host equals or is a subdomain of one of domains."""
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts) - 1))
