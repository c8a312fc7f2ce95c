"""Validation that predicts unseen sources: sender-grouped folds and leave-one-source-out.

Usage: python -m email_service.spam.validate [--corpus DIR ...] [--only loso|grouped]
Every split reruns the whole training recipe (train.fit_calibrated, its own inner folds, Platt and
threshold) on the training part only, then scores the held-out part at that threshold. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import GroupKFold

from email_service.spam.corpus import CorpusFile, list_corpora, training_corpus_dirs
from email_service.spam.train import Calibrated, extract_all, fit_calibrated, inner_groups, report


@dataclass(frozen=True)
class Dataset:
    """Features of a corpus extracted once and shared by every split."""

    X: sp.csr_matrix
    y: np.ndarray
    bumps: np.ndarray
    senders: np.ndarray
    sources: np.ndarray

    @classmethod
    def load(cls, files: Sequence[CorpusFile]) -> Dataset:
        X, y, bumps, senders = extract_all(files)
        return cls(X, y, bumps, senders, np.array([f.source for f in files]))

    def fit(self, train: np.ndarray) -> Calibrated:
        """The training recipe on the rows of a mask."""
        groups = inner_groups(self.sources[train], self.senders[train])
        return fit_calibrated(self.X[train], self.y[train], self.bumps[train], groups)

    def split(self, train: np.ndarray, test: np.ndarray) -> dict[str, Any]:
        """Train the recipe on the train mask, report the test mask at the chosen threshold."""
        trained = self.fit(train)
        logits = trained.logits(self.X[test], self.bumps[test])
        return {
            "train_n": int(train.sum()),
            "threshold": round(trained.threshold, 6),
            "test": report(logits, self.y[test], trained.threshold),
        }


def leave_one_source_out(data: Dataset) -> dict[str, Any]:
    """Train on all sources but one, test on that one: the best predictor of a new collection."""
    return {
        source: data.split(data.sources != source, data.sources == source)
        for source in sorted(set(data.sources))
    }


def sender_grouped(data: Dataset, folds: int = 5) -> dict[str, Any]:
    """5 folds by sender domain; the out-of-fold decisions are pooled and reported per source."""
    logits = np.zeros(len(data.y))
    thresholds = np.zeros(len(data.y))
    for train_idx, test_idx in GroupKFold(folds).split(data.X, data.y, data.senders):
        train = np.zeros(len(data.y), bool)
        train[train_idx] = True
        trained = data.fit(train)
        logits[test_idx] = trained.logits(data.X[test_idx], data.bumps[test_idx])
        thresholds[test_idx] = trained.threshold
    # Each fold's decision used its own threshold; compare in probability space per row.
    decided = 1.0 / (1.0 + np.exp(-logits)) >= thresholds
    out = {"all": _counts(decided, data.y)}
    for source in sorted(set(data.sources)):
        mask = data.sources == source
        out[source] = _counts(decided[mask], data.y[mask])
    return out


def _counts(decided: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """report() on decisions already made: a logit of +/-1 against threshold 0.5."""
    return report(np.where(decided, 1.0, -1.0), y, 0.5)


def validate(directories: list[Path], only: str | None = None) -> dict[str, Any]:
    """Both validations over the given corpora (the shared development corpora by default)."""
    data = Dataset.load(list_corpora(directories))
    result: dict[str, Any] = {}
    if only in (None, "loso"):
        result["leave_one_source_out"] = leave_one_source_out(data)
    if only in (None, "grouped"):
        result["sender_grouped_5fold"] = sender_grouped(data)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; prints one indented JSON document."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpus", type=Path, action="append", help="folder with ham/ and spam/ (repeatable)"
    )
    parser.add_argument("--only", choices=("loso", "grouped"), default=None)
    args = parser.parse_args(argv)
    json.dump(validate(args.corpus or training_corpus_dirs(), args.only), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
