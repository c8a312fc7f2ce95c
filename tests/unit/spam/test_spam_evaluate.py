"""The evaluate CLI prints one JSON line with the agreed keys, also for one-class corpora."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KEYS = {"n", "ham", "spam", "tp", "fp", "tn", "fn", "precision", "recall", "f1", "fpr", "msgs_per_second"}
HAM = b"From: a@example.com\nTo: b@example.com\nSubject: minutes\nMessage-ID: <1@example.com>\n\nSee you.\n"
SPAM = (
    b"From: winner@lotto.example\nSubject: YOU HAVE WON $1,000,000 CLAIM NOW\n\n"
    b"Click here to claim your free money prize! Act now, limited offer, 100% guaranteed.\n"
)


def _run(corpus: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "email_service.spam.evaluate", "--corpus", str(corpus)],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout.decode()
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    result: dict[str, object] = json.loads(lines[0])
    assert set(result) == KEYS
    return result


def test_spam_only_corpus(tmp_path: Path) -> None:
    (tmp_path / "spam").mkdir()
    (tmp_path / "spam" / "a").write_bytes(SPAM)
    (tmp_path / "spam" / "b.eml").write_bytes(b"\x00\x01 not a message at all")
    result = _run(tmp_path)
    assert result["n"] == result["spam"] == 2
    assert result["ham"] == 0 and result["fpr"] is None
    assert result["tp"] + result["fn"] == 2  # type: ignore[operator]


def test_ham_only_corpus(tmp_path: Path) -> None:
    (tmp_path / "ham").mkdir()
    (tmp_path / "ham" / "1").write_bytes(HAM)
    result = _run(tmp_path)
    assert result["n"] == result["ham"] == 1
    assert result["recall"] is None and result["fp"] == 0 and result["fpr"] == 0.0
