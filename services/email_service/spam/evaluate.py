"""Evaluate the shipped global model on a ham/ + spam/ folder; prints exactly one JSON line.

Usage: python -m email_service.spam.evaluate --corpus DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from email_service.spam.corpus import list_corpus
from email_service.spam.model import global_model, score_message


def metrics(labels: Sequence[int], predictions: Sequence[bool], seconds: float) -> dict[str, Any]:
    """Confusion counts and rates; a rate whose denominator is zero is null, not 0."""
    tp = sum(1 for y, p in zip(labels, predictions, strict=True) if y and p)
    fn = sum(1 for y, p in zip(labels, predictions, strict=True) if y and not p)
    fp = sum(1 for y, p in zip(labels, predictions, strict=True) if not y and p)
    tn = sum(1 for y, p in zip(labels, predictions, strict=True) if not y and not p)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    if precision is not None and recall is not None and not (precision and recall):
        f1 = 0.0
    n = len(labels)
    return {
        "n": n,
        "ham": tn + fp,
        "spam": tp + fn,
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "precision": _round(precision),
        "recall": _round(recall),
        "f1": _round(f1),
        "fpr": _round(fp / (fp + tn)) if fp + tn else None,
        "msgs_per_second": round(n / seconds, 1) if seconds > 0 else None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


def evaluate_dir(directory: Path) -> dict[str, Any]:
    """Score every file (unparseable ones included) and time the whole read+parse+score loop."""
    files = list_corpus(directory)
    global_model()  # load outside the timed loop, as a long-lived worker would
    labels: list[int] = []
    predictions: list[bool] = []
    start = time.perf_counter()
    for item in files:
        labels.append(item.label)
        predictions.append(score_message(item.path.read_bytes()).is_spam)
    return metrics(labels, predictions, time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="folder with ham/ and/or spam/")
    args = parser.parse_args(argv)
    if not (args.corpus / "ham").is_dir() and not (args.corpus / "spam").is_dir():
        print(f"no ham/ or spam/ folder in {args.corpus}", file=sys.stderr)
        return 2
    print(json.dumps(evaluate_dir(args.corpus)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
