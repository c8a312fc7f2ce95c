"""Three verdicts from a calibrated score: ham, uncertain ("possibly spam") and spam.

Only spam moves mail to Junk; uncertain lets a frontend flag mail without hiding it. Reads the
thresholds from the model's JSON settings only, so the message listing never loads the weights.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERDICTS = ("ham", "uncertain", "spam")
DATA_DIR = Path(__file__).resolve().parent / "data"
SETTINGS_FILE = "global_model.json"


@dataclass(frozen=True)
class Bands:
    """Score edges: spam at or above threshold, uncertain at or above uncertain (never above threshold)."""

    threshold: float
    uncertain: float

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Bands:
        threshold = float(settings["threshold"])
        return cls(threshold, min(float(settings.get("uncertain_threshold", threshold)), threshold))

    def label(self, score: float) -> str:
        """ham / uncertain / spam for a calibrated score."""
        if score >= self.threshold:
            return "spam"
        return "uncertain" if score >= self.uncertain else "ham"


def read_settings(directory: Path = DATA_DIR) -> dict[str, Any]:
    """The JSON settings train.py wrote beside the weights."""
    settings: dict[str, Any] = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
    return settings


@functools.lru_cache(maxsize=1)
def shipped_bands() -> Bands:
    """The shipped model's bands, read once per process."""
    return Bands.from_settings(read_settings())


def stored_verdict(is_spam: bool | None, spam_score: float | None) -> str | None:
    """The verdict of a stored row: a spam decision (or the user's spam label) is spam, else the score's
    band, never spam without is_spam; None when never scored. "Not spam" feedback stores score 0."""
    if is_spam:
        return "spam"
    if spam_score is None:
        return None if is_spam is None else "ham"
    return "ham" if shipped_bands().label(spam_score) == "ham" else "uncertain"
