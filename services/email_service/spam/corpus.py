"""Locate and read ham/ + spam/ corpora, and the deterministic held-out split used by train and tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from email_service.core.config_launch import load_launch_settings

HOLDOUT_MODULUS = 5  # one file in five (by name hash) is never trained on
LABELS = {"ham": 0, "spam": 1}


@dataclass(frozen=True)
class CorpusFile:
    """One message file with its label (1 = spam) and the original set its name starts with."""

    path: Path
    label: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def origin(self) -> str:
        """Original corpus set (easy-ham-1, spam-2, ...) from the file-name prefix."""
        return self.name.split(".", 1)[0]

    @property
    def source(self) -> str:
        """Collection the file came from (spamassassin, csdmc, linuxapi, foff): the unit of
        leave-one-source-out validation, since each collection has its own era and senders."""
        origin = self.origin
        if origin.startswith(("easy-ham", "hard-ham", "spam-")):
            return "spamassassin"
        return origin.split("-", 1)[0]


def default_corpus_dir() -> Path:
    """SPAM_CORPUS_DIR, else shared/corpora/spamassassin-dev beside the repository checkout."""
    configured = load_launch_settings().spam_corpus_dir
    if configured:
        return configured
    repo = Path(__file__).resolve().parents[3]
    return (repo / ".." / "shared" / "corpora" / "spamassassin-dev").resolve()


def training_corpus_dirs() -> list[Path]:
    """SPAM_CORPUS_DIR (one folder), else both shared development corpora: SpamAssassin and modern."""
    if load_launch_settings().spam_corpus_dir:
        return [default_corpus_dir()]
    root = default_corpus_dir().parent
    return [root / "spamassassin-dev", root / "modern-dev"]


def list_corpora(directories: list[Path]) -> list[CorpusFile]:
    """The files of several corpora, in the order given."""
    return [f for directory in directories for f in list_corpus(directory)]


def list_corpus(directory: Path) -> list[CorpusFile]:
    """All regular files under ham/ and spam/, sorted for reproducibility; missing folders are fine."""
    files: list[CorpusFile] = []
    for folder, label in LABELS.items():
        root = directory / folder
        if root.is_dir():
            paths = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
            files.extend(CorpusFile(p, label) for p in paths)
    return files


def is_holdout(name: str) -> bool:
    """Whether a file (by base name) belongs to the held-out split; stable across machines."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % HOLDOUT_MODULUS == 0
