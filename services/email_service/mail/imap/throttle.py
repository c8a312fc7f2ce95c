"""Providers' "slow down" replies, told apart from refused credentials and plain failures.

Gmail answers a login over its per-account limit with `NO [ALERT] Too many simultaneous connections`
and a heavy user with `... exceeded command or bandwidth limits`; Microsoft 365 with `NO Request is
throttled. Suggested Backoff Time: N milliseconds`; others with an RFC 5530-style `[THROTTLED]` or
`[LIMIT]`. Each means "the same request later will work": retry after the suggested time (or the
task's own backoff), never park the account as if its password were wrong.
"""

from __future__ import annotations

import re

THROTTLED = re.compile(
    r"\[(THROTTLED|LIMIT|OVERQUOTA)\]|too many simultaneous connections|request is throttled"
    r"|exceeded command or bandwidth limits|rate limit",
    re.IGNORECASE,
)
SUGGESTED = re.compile(
    r"suggested backoff time:?\s*(\d{1,12})\s*(milliseconds|ms|seconds|s)\b", re.IGNORECASE
)
MAX_SUGGESTED_SECONDS = 3600.0  # a server asking for more is capped: the task still retries within the hour


def is_throttled(text: str) -> bool:
    return THROTTLED.search(text) is not None


def suggested_seconds(text: str) -> float | None:
    """The wait the server asked for, in seconds (capped), or None when it named none."""
    found = SUGGESTED.search(text)
    if found is None:
        return None
    value = float(found.group(1))
    if found.group(2).lower() in ("milliseconds", "ms"):
        value /= 1000
    return min(value, MAX_SUGGESTED_SECONDS)
