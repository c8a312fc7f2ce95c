"""Hashed features: character n-grams and words of the text, sender/route structure, URLs and indicators.

Tokens are normalised (lower case, digits collapsed, no dates or exact hosts) so the model learns
what spam looks like rather than which 2002 mailing lists sent the training mail.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from email_service.spam.artefacts import is_anonymised, sender_hops
from email_service.spam.chargrams import MAX_CHARS, char_ngram_counts
from email_service.spam.domains import email_domain, is_ip, registrable, url_host
from email_service.spam.view import MessageView

N_FEATURES = 2**18
FEATURE_VERSION = 4
URL_SCALE = 1.0  # weight of the URL tokens' unit-norm block relative to the char grams'
HEADER_SCALE = 0.3  # header tokens memorise senders: low weight transfers better to unseen ones
INDICATOR_SCALE = 1.0  # each fired indicator is a 1.0 flag
CHAR_NORM_FLOOR = 8.0  # L2 floor (about 150 chars of text): a two-word mail must not weigh like a page
WORD_SCALE = 0.5  # word unigrams beside the char grams: better cross-set (train set 1, test set 2) ranking
WORD_NORM_FLOOR = 4.0  # L2 floor of the word block (about 16 distinct words), as CHAR_NORM_FLOOR
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]{2,20}|\d+|[$€£!]")
_HOST_IN_RECEIVED = re.compile(r"\bfrom\s+([\w.-]+)", re.IGNORECASE)
_DKIM_DOMAIN = re.compile(r"\bd=([\w.-]+)")


def _tld(host: str) -> str:
    return host.rsplit(".", 1)[-1] if "." in host else host


def _bucket(n: int) -> str:
    return str(min(int(math.log2(n + 1)), 6))


def _url_tokens(view: MessageView) -> Iterable[str]:
    hosts = [url_host(href) for href, _ in view.links]
    hosts = [h for h in hosts if h]
    if hosts:  # absence tokens would act as an intercept and call a two-line mail spam
        yield "url:n" + _bucket(len(hosts))
        yield "url:domains" + _bucket(len({registrable(h) for h in hosts}))
    sender = registrable(email_domain(view.from_email))
    sender = "" if is_anonymised(sender) else sender
    for href, _ in view.links[:100]:
        host = url_host(href)
        if not host:
            yield "url:scheme:" + href.split(":", 1)[0].lower()[:10]
            continue
        yield "url:tld:" + _tld(host)
        yield "url:ip" if is_ip(host) else "url:dom:" + registrable(host)
        if sender:
            yield "url:sender" if registrable(host) == sender else "url:foreign"
        yield "url:https" if href.lower().startswith("https") else "url:http"
        if "@" in href.split("?", 1)[0]:
            yield "url:at-sign"


def _auth_tokens(view: MessageView) -> Iterable[str]:
    """DKIM alignment and list structure: set by the sender, so they carry across collectors."""
    sender = registrable(email_domain(view.from_email))
    signer = _DKIM_DOMAIN.search(view.header("dkim-signature"))
    if signer and not is_anonymised(sender):
        yield "dkim:aligned" if registrable(signer.group(1).lower()) == sender else "dkim:foreign"
    for name in ("list-id", "list-unsubscribe", "precedence", "auto-submitted"):
        if view.header(name):
            yield "hdr:" + name


def _sender_tokens(view: MessageView, sender: str) -> Iterable[str]:
    yield "from:tld:" + _tld(sender)
    local = view.from_email.partition("@")[0]
    yield "from:local:" + _DIGITS.sub("#", local)[:3] if local else "from:no-local"
    yield "from:digits" + _bucket(sum(c.isdigit() for c in local))
    mid_domain = email_domain(view.message_id or view.header("message-id"))
    yield "mid:same" if registrable(mid_domain) == registrable(sender) else "mid:other"
    yield "mid:tld:" + _tld(mid_domain)


def _header_tokens(view: MessageView) -> Iterable[str]:
    yield "from:has-name" if view.from_name else "from:no-name"
    sender = email_domain(view.from_email)
    if not is_anonymised(sender):  # an anonymised address tells nothing about the sender
        yield from _sender_tokens(view, sender)
    mailer = (view.header("x-mailer") or view.header("user-agent")).lower()
    if mailer:
        yield "mailer:" + re.split(r"[\s/(;0-9]", mailer, maxsplit=1)[0][:20]
    received = sender_hops(view.headers.get("received", ()))  # hop counts and auth results are the
    # collector's (csdmc ham came through Gmail, its spam through the lab's relay), so neither is a token
    for line in received[:3]:
        match = _HOST_IN_RECEIVED.search(line)
        host = match.group(1).lower() if match else ""
        yield "rcvd:tld:" + (_tld(host) if host and not is_ip(host) else "ip-or-none")
    for content_type in sorted(set(view.content_types))[:12]:
        yield "ct:" + content_type
    yield "html" if view.has_html else "plain"
    for attachment in view.attachments[:10]:
        yield "att:ext:" + attachment.filename.lower().rsplit(".", 1)[-1][:8]
    yield from _auth_tokens(view)


def _unit_block(tokens: set[str], scale: float) -> dict[int, float]:
    """Hash a token set into one L2-normalised block so its size does not decide its influence."""
    if not tokens:
        return {}
    value = scale / math.sqrt(len(tokens))
    return {murmurhash3_32(token, seed=0, positive=True) % N_FEATURES: value for token in tokens}


def _word_block(text: str) -> dict[int, float]:
    """Hashed word unigrams of the text start (a digit run is one token), log tf, L2 with a floor."""
    counts: dict[str, int] = {}
    for word in _WORD.findall(text[:MAX_CHARS].lower()):
        key = "w:0" if word[0].isdigit() else "w:" + word
        counts[key] = counts.get(key, 0) + 1
    block: dict[int, float] = {}
    for key, count in counts.items():
        index = murmurhash3_32(key, seed=0, positive=True) % N_FEATURES
        block[index] = block.get(index, 0.0) + math.log1p(count)
    scale = WORD_SCALE / max(math.sqrt(sum(v * v for v in block.values())), WORD_NORM_FLOOR)
    return {index: value * scale for index, value in block.items()}


def feature_row(view: MessageView, indicators: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of one message: char grams and words (log tf, L2), URL and header blocks, flags.

    Indices may repeat (hash collisions across blocks); to_matrix sums them.
    """
    text = f"{view.subject}\n{view.text}"
    indices, counts = char_ngram_counts(text, N_FEATURES)
    values = np.log1p(counts)
    values /= max(float(np.sqrt((values * values).sum())), CHAR_NORM_FLOOR)
    extra = _word_block(text)
    for index, value in _unit_block(set(_url_tokens(view)), URL_SCALE).items():
        extra[index] = extra.get(index, 0.0) + value
    for index, value in _unit_block(set(_header_tokens(view)), HEADER_SCALE).items():
        extra[index] = extra.get(index, 0.0) + value
    for name in indicators:
        index = murmurhash3_32("ind:" + name, seed=0, positive=True) % N_FEATURES
        extra[index] = extra.get(index, 0.0) + INDICATOR_SCALE
    extra_idx = np.fromiter(extra.keys(), np.int64, len(extra))
    extra_val = np.fromiter(extra.values(), np.float64, len(extra))
    return np.concatenate([indices, extra_idx]), np.concatenate([values, extra_val])


def to_matrix(rows: list[tuple[np.ndarray, np.ndarray]]) -> sp.csr_matrix:
    """Stack feature rows into a CSR matrix over the fixed N_FEATURES space."""
    lengths = [len(indices) for indices, _ in rows]
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = np.concatenate([i for i, _ in rows]) if rows else np.zeros(0, np.int64)
    data = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
    matrix = sp.csr_matrix((data.astype(np.float32), indices, indptr), shape=(len(rows), N_FEATURES))
    matrix.sum_duplicates()
    return matrix
