"""Hashed features: robust word tokens, sender/route structure, URLs and the rule indicators.

Tokens are normalised (lower case, digits collapsed, no dates or exact hosts) so the model learns
what spam looks like rather than which 2002 mailing lists sent the training mail.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher

from email_service.spam.domains import email_domain, is_ip, registrable, url_host
from email_service.spam.view import MessageView

N_FEATURES = 2**18
FEATURE_VERSION = 1
META_SCALE = 1.0  # weight of the structure tokens' unit-norm block relative to the words'
_WORD = re.compile(r"[^\W_][\w'$€£%!-]*", re.UNICODE)
_DIGITS = re.compile(r"\d+")
_HOST_IN_RECEIVED = re.compile(r"\bfrom\s+([\w.-]+)", re.IGNORECASE)
_hasher = FeatureHasher(n_features=N_FEATURES, input_type="dict", alternate_sign=False)


def _norm_word(word: str) -> str | None:
    word = word.lower().strip("'-!")
    if not 2 <= len(word) <= 24:
        return None
    return _DIGITS.sub(lambda m: "#" * min(len(m.group()), 4), word)


def words(text: str) -> list[str]:
    """Lower-cased word tokens with numbers reduced to their length, so years and prices generalise."""
    out = []
    for match in _WORD.finditer(text):
        word = _norm_word(match.group())
        if word:
            out.append(word)
    return out


def _tld(host: str) -> str:
    return host.rsplit(".", 1)[-1] if "." in host else host


def _bucket(n: int) -> str:
    return str(min(int(math.log2(n + 1)), 6))


def _url_tokens(view: MessageView) -> Iterable[str]:
    hosts = [url_host(href) for href, _ in view.links]
    hosts = [h for h in hosts if h]
    yield "url:n" + _bucket(len(hosts))
    yield "url:domains" + _bucket(len({registrable(h) for h in hosts}))
    sender = registrable(email_domain(view.from_email))
    for href, _ in view.links[:100]:
        host = url_host(href)
        if not host:
            yield "url:scheme:" + href.split(":", 1)[0].lower()[:10]
            continue
        yield "url:tld:" + _tld(host)
        yield "url:ip" if is_ip(host) else "url:dom:" + registrable(host)
        yield "url:sender" if registrable(host) == sender else "url:foreign"
        yield "url:https" if href.lower().startswith("https") else "url:http"
        if "@" in href.split("?", 1)[0]:
            yield "url:at-sign"


def _header_tokens(view: MessageView) -> Iterable[str]:
    sender = email_domain(view.from_email)
    yield "from:tld:" + _tld(sender)
    yield "from:has-name" if view.from_name else "from:no-name"
    local = view.from_email.partition("@")[0]
    yield "from:local:" + _DIGITS.sub("#", local)[:3] if local else "from:no-local"
    yield "from:digits" + _bucket(sum(c.isdigit() for c in local))
    mid_domain = email_domain(view.message_id or view.header("message-id"))
    yield "mid:same" if registrable(mid_domain) == registrable(sender) else "mid:other"
    yield "mid:tld:" + _tld(mid_domain)
    mailer = (view.header("x-mailer") or view.header("user-agent")).lower()
    yield "mailer:" + (re.split(r"[\s/(;0-9]", mailer, maxsplit=1)[0][:20] if mailer else "none")
    received = view.headers.get("received", ())
    yield "rcvd:n" + _bucket(len(received))
    for line in received[:3]:
        match = _HOST_IN_RECEIVED.search(line)
        host = match.group(1).lower() if match else ""
        yield "rcvd:tld:" + (_tld(host) if host and not is_ip(host) else "ip-or-none")
    for content_type in sorted(set(view.content_types))[:12]:
        yield "ct:" + content_type
    yield "html" if view.has_html else "plain"
    for attachment in view.attachments[:10]:
        yield "att:ext:" + attachment.filename.lower().rsplit(".", 1)[-1][:8]


def feature_dict(view: MessageView, indicators: tuple[str, ...]) -> dict[str, float]:
    """Token -> value; text and structure share one L2 budget, indicators are fixed 1.0 flags."""
    tokens: set[str] = set()
    subject = words(view.subject)
    tokens.update("s:" + w for w in subject)
    tokens.update(f"s2:{a}_{b}" for a, b in itertools.pairwise(subject))
    tokens.update("b:" + w for w in words(view.text))
    text_scale = 1.0 / math.sqrt(max(len(tokens), 1))
    values = dict.fromkeys(tokens, text_scale)
    meta = set(_url_tokens(view)) | set(_header_tokens(view))
    values.update(dict.fromkeys(meta, META_SCALE / math.sqrt(max(len(meta), 1))))
    caps = sum(c.isupper() for c in view.text[:5000]) / max(sum(c.isalpha() for c in view.text[:5000]), 1)
    values["text:caps"] = caps
    values["text:short"] = 1.0 if len(view.text) < 200 else 0.0
    for name in indicators:
        values["ind:" + name] = 1.0
    return values


def hash_features(rows: list[dict[str, float]]) -> sp.csr_matrix:
    """Hash feature dicts into the fixed N_FEATURES space (murmurhash3, seed 0, non-negative)."""
    matrix = _hasher.transform(rows)
    return sp.csr_matrix(matrix, dtype=np.float32)
