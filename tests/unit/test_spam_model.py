"""The shipped model on the dev corpus files that train.py held out (never trained on)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from email_service.spam.corpus import default_corpus_dir, is_holdout, list_corpus
from email_service.spam.evaluate import metrics
from email_service.spam.model import DATA_DIR, SETTINGS_FILE, WEIGHTS_FILE, global_model, score_message

# A floor under the shipped model, not the targets (FPR <= 0.003, recall >= 0.98), which no
# model trained on this corpus has reached here. Model v4 (linear SVM on char 3-5 grams + words +
# URL/header blocks, Platt, sender-grouped threshold) measured FPR 0.0087 (6 of 689, hard_ham
# newsletters) and recall 0.8875 (213 of 240); v3 the same, v2 0.0073 / 0.850.
MAX_HELD_OUT_FPR = 0.009
MIN_HELD_OUT_RECALL = 0.88


def test_shipped_files_are_small_and_pickle_free() -> None:
    assert (DATA_DIR / WEIGHTS_FILE).stat().st_size < 3_000_000
    settings = json.loads((DATA_DIR / SETTINGS_FILE).read_text())
    assert 0.5 < settings["threshold"] < 1.0
    assert settings["n_features"] == global_model().weights.shape[0]


def test_held_out_split_stays_above_the_floor() -> None:
    corpus = default_corpus_dir()
    files = [f for f in list_corpus(Path(corpus)) if is_holdout(f.name)]
    if not files:
        pytest.fail(f"dev corpus not found at {corpus}; set SPAM_CORPUS_DIR")
    labels = [f.label for f in files]
    predictions = [score_message(f.path.read_bytes()).is_spam for f in files]
    result = metrics(labels, predictions, 1.0)
    assert result["ham"] > 500 and result["spam"] > 150
    assert result["fpr"] <= MAX_HELD_OUT_FPR, result
    assert result["recall"] >= MIN_HELD_OUT_RECALL, result


def test_unparseable_bytes_are_scored() -> None:
    for raw in (b"\x00\xff" * 50, b"garbage without headers", b" "):
        verdict = score_message(raw)
        assert 0.0 <= verdict.spam_score <= 1.0
