"""Score messages with the shipped global linear model, rule bumps and an optional per-user model.

The weights live in spam/data as .npz + JSON (no pickle); they are loaded once per process.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from email_service.mail.mime.parse import MimeParseError, ParsedMessage, parse_message
from email_service.spam.artefacts import normalise_view
from email_service.spam.features import N_FEATURES, feature_row, to_matrix
from email_service.spam.indicators import detect_indicators
from email_service.spam.verdicts import DATA_DIR as DATA_DIR
from email_service.spam.verdicts import SETTINGS_FILE as SETTINGS_FILE
from email_service.spam.verdicts import Bands, read_settings
from email_service.spam.view import MessageView, view_from_parsed, view_from_raw

if TYPE_CHECKING:
    from email_service.spam.user_model import UserWeights

WEIGHTS_FILE = "global_model.npz"
_TEXT_URL = re.compile(r"https?://|\bwww\.", re.IGNORECASE)
MIN_TEXT_FOR_SPAM = 150  # characters of text that may be judged spam without a link or an indicator


@dataclass(frozen=True)
class SpamVerdict:
    """What the sync stores per message: decision, calibrated score, three-way verdict, indicators."""

    is_spam: bool
    spam_score: float
    indicators: tuple[str, ...]
    verdict: str = "ham"


@dataclass(frozen=True)
class Analysis:
    """A message reduced to what every scorer needs, computed once per message."""

    view: MessageView
    indicators: tuple[str, ...]
    features: sp.csr_matrix


@dataclass(frozen=True)
class GlobalModel:
    """Dense float32 weights over the hashed space, Platt scaling and the decision settings."""

    weights: np.ndarray
    intercept: float
    threshold: float
    bumps: dict[str, float]
    settings: dict[str, Any]
    platt: tuple[float, float] = (1.0, 0.0)
    bands: Bands | None = None

    def label(self, score: float) -> str:
        """ham / uncertain / spam for a calibrated score."""
        return (self.bands or Bands(self.threshold, self.threshold)).label(score)

    def logit(self, analysis: Analysis) -> float:
        """Platt-calibrated linear margin plus the hand-set indicator bumps, before any user model."""
        margin = float((analysis.features @ self.weights)[0]) + self.intercept
        calibrated = self.platt[0] * margin + self.platt[1]
        return calibrated + sum(self.bumps.get(name, 0.0) for name in analysis.indicators)

    @classmethod
    def load(cls, directory: Path = DATA_DIR) -> GlobalModel:
        """Read the npz (sparse non-zero weights) and the JSON settings written by train.py."""
        settings = read_settings(directory)
        if settings["n_features"] != N_FEATURES:
            raise ValueError("model was trained for a different hashing dimension")
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as data:
            weights = np.zeros(N_FEATURES, dtype=np.float32)
            weights[data["indices"]] = data["values"]
            intercept = float(data["intercept"][0])
        platt = settings.get("platt", [1.0, 0.0])
        threshold = float(settings["threshold"])
        bands = Bands.from_settings(settings)
        return cls(
            weights, intercept, threshold, dict(settings["bumps"]), settings, (platt[0], platt[1]), bands
        )


@functools.lru_cache(maxsize=1)
def global_model() -> GlobalModel:
    """The shipped model, loaded lazily once per process (each Celery worker child loads its own)."""
    return GlobalModel.load()


def sigmoid(logit: float) -> float:
    """Numerically safe logistic function."""
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    z = math.exp(logit)
    return z / (1.0 + z)


def analyse_view(view: MessageView) -> Analysis:
    """Indicators and hashed features of a prepared view, after anonymiser artefacts are neutralised."""
    view = normalise_view(view)
    indicators = detect_indicators(view)
    return Analysis(view, indicators, to_matrix([feature_row(view, indicators)]))


def analyse_raw(raw: bytes) -> Analysis:
    """Parse with the sync's MIME parser; fall back to raw tokens when it cannot parse."""
    try:
        view = view_from_parsed(parse_message(raw, sanitize=False), raw)
    except MimeParseError:
        view = view_from_raw(raw)
    return analyse_view(view)


def _has_evidence(analysis: Analysis) -> bool:
    """Moving mail to Junk needs more than a few plain words: a link (also one in the text), HTML, an
    attachment or an indicator. The corpora's short mails are mostly spam, so a two-line note to a
    friend would otherwise go; without evidence the verdict stops at uncertain."""
    view = analysis.view
    if view.links or view.attachments or view.has_html or analysis.indicators:
        return True
    return len(view.text) >= MIN_TEXT_FOR_SPAM or bool(_TEXT_URL.search(view.text))


def verdict(analysis: Analysis, user_weights: UserWeights | None = None) -> SpamVerdict:
    """Combine global logit, indicator bumps and (once trained enough) the user's logit."""
    model = global_model()
    logit = model.logit(analysis)
    if user_weights is not None and user_weights.is_active:
        logit += user_weights.weight * user_weights.logit(analysis.features)
    score = round(sigmoid(logit), 6)
    label = model.label(score)
    if label == "spam" and not _has_evidence(analysis):
        label = "uncertain"
    return SpamVerdict(label == "spam", score, analysis.indicators, label)


def score_message(raw: bytes) -> SpamVerdict:
    """Score raw RFC 822 bytes with the global model; never raises on malformed mail."""
    return verdict(analyse_raw(raw))


def score_parsed(
    parsed: ParsedMessage, raw: bytes | None = None, user_weights: UserWeights | None = None
) -> SpamVerdict:
    """Score an already-parsed message; pass raw to let the scorer read Received/auth headers."""
    return verdict(analyse_view(view_from_parsed(parsed, raw)), user_weights)
