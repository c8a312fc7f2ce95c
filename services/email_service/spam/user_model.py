"""Per-user learning from "mark spam / not spam": an SGD logistic model on the global hashed features.

State is plain npz bytes (sparse float32 weights + label counters) that the caller stores per user;
it only joins the global score once the user has labelled enough mail of each class.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

from email_service.mail.mime.parse import ParsedMessage
from email_service.spam.features import N_FEATURES
from email_service.spam.model import analyse_view
from email_service.spam.view import view_from_parsed

MIN_LABELS_PER_CLASS = 5  # the user model stays silent until it has this many spam AND ham labels
USER_WEIGHT = 1.0  # multiplier on the user's logit when added to the global logit
ALPHA = 1e-4  # L2 strength of the per-user SGD
LEARNING_RATE = 2.0  # constant step: a handful of labels must be able to move the score
FORMAT_VERSION = 1


@dataclass(frozen=True)
class UserWeights:
    """One user's linear model over the global feature space, plus how many labels it has seen."""

    coef: np.ndarray
    intercept: float = 0.0
    n_spam: int = 0
    n_ham: int = 0
    min_labels: int = MIN_LABELS_PER_CLASS
    weight: float = USER_WEIGHT

    @property
    def is_active(self) -> bool:
        """Whether the user model has enough of both classes to be trusted."""
        return self.n_spam >= self.min_labels and self.n_ham >= self.min_labels

    def logit(self, features: sp.csr_matrix) -> float:
        """The user's own log-odds for one hashed feature row."""
        return float((features @ self.coef)[0]) + self.intercept

    @classmethod
    def empty(cls, min_labels: int = MIN_LABELS_PER_CLASS) -> UserWeights:
        """A fresh user: zero weights, no labels."""
        return cls(np.zeros(N_FEATURES, dtype=np.float32), min_labels=min_labels)

    @classmethod
    def from_bytes(cls, data: bytes | None, min_labels: int = MIN_LABELS_PER_CLASS) -> UserWeights:
        """Load state written by to_bytes; None or b'' means a fresh user."""
        if not data:
            return cls.empty(min_labels)
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            if int(npz["meta"][3]) != FORMAT_VERSION or int(npz["meta"][4]) != N_FEATURES:
                return cls.empty(min_labels)  # feature space changed: start the user over
            coef = np.zeros(N_FEATURES, dtype=np.float32)
            coef[npz["indices"]] = npz["values"]
            meta = npz["meta"]
        return cls(coef, float(meta[0]), int(meta[1]), int(meta[2]), min_labels)

    def to_bytes(self) -> bytes:
        """Compressed npz: only non-zero weights, so a user with few labels costs a few KB."""
        indices = np.flatnonzero(self.coef).astype(np.int32)
        meta = np.array(
            [self.intercept, self.n_spam, self.n_ham, FORMAT_VERSION, N_FEATURES], dtype=np.float64
        )
        buffer = io.BytesIO()
        np.savez_compressed(buffer, indices=indices, values=self.coef[indices], meta=meta)
        return buffer.getvalue()


def _classifier(state: UserWeights) -> SGDClassifier:
    """An SGDClassifier primed with the stored weights so partial_fit continues from them."""
    clf = SGDClassifier(loss="log_loss", alpha=ALPHA, learning_rate="constant", eta0=LEARNING_RATE)
    clf.classes_ = np.array([0, 1])
    clf.coef_ = state.coef.astype(np.float64).reshape(1, -1)
    clf.intercept_ = np.array([state.intercept])
    clf.t_ = 1.0 + state.n_spam + state.n_ham
    clf.n_features_in_ = N_FEATURES
    return clf


def update_weights(state: UserWeights, features: sp.csr_matrix, is_spam: bool) -> UserWeights:
    """One partial_fit step on one labelled message."""
    clf = _classifier(state)
    clf.partial_fit(features.astype(np.float64), np.array([int(is_spam)]))
    return UserWeights(
        clf.coef_.ravel().astype(np.float32),
        float(clf.intercept_[0]),
        state.n_spam + int(is_spam),
        state.n_ham + int(not is_spam),
        state.min_labels,
        state.weight,
    )


def update_user_model(weights_npz: bytes | None, parsed: ParsedMessage, is_spam: bool) -> bytes:
    """Learn from one user label; returns the new state to store in place of weights_npz."""
    state = UserWeights.from_bytes(weights_npz)
    features = analyse_view(view_from_parsed(parsed)).features
    return update_weights(state, features, is_spam).to_bytes()
