"""When the next attempt of a delivery comes: the configured waits, jittered so retries spread."""

from __future__ import annotations

import random
from collections.abc import Sequence


def max_attempts(waits: Sequence[float]) -> int:
    """The first attempt plus one retry per configured wait."""
    return len(waits) + 1


def retry_delay(waits: Sequence[float], attempts_made: int, rng: random.Random | None = None) -> float | None:
    """Seconds until the next attempt after `attempts_made` attempts (None: no attempt is left).

    ±20 % jitter; the default first wait (30 s) thus comes within 36 s, inside the 60 s the contract gives.
    """
    if attempts_made < 1 or attempts_made > len(waits):
        return None
    return float(waits[attempts_made - 1]) * (rng or random).uniform(0.8, 1.2)
