"""Leave-one-source-out floor: the training recipe, retrained on a fixed subsample of the other
sources, must catch an unseen source's spam without flagging its ham.

The shipped model saw every source, so only a retrain can tell whether the features carry to a
collection it never saw; one shared extraction of a subsample keeps this under a minute.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from email_service.spam.corpus import list_corpora, training_corpus_dirs
from email_service.spam.validate import Dataset

SUBSAMPLE = 4  # every fourth file of the training sources
# Floors a little under what model v5's recipe measured on exactly these subsamples (foff: FPR
# 0.149 = 20/134, recall 0.578 = 89/154; csdmc: FPR 0.0033 = 4/1212, recall 0.763 = 585/767), so a
# change that stops features carrying to an unseen source fails here.
FLOORS = {
    "foff": {"max_fpr": 0.18, "min_recall": 0.52},
    "csdmc": {"max_fpr": 0.006, "min_recall": 0.72},
}


@pytest.fixture(scope="module")
def subsample() -> tuple[Dataset, np.ndarray]:
    """Features of every file of the floored sources and every SUBSAMPLE-th other one."""
    files = list_corpora(training_corpus_dirs())
    if not {f.source for f in files} >= set(FLOORS):
        pytest.fail(f"development corpora incomplete under {training_corpus_dirs()}")
    picked = [i for i, f in enumerate(files) if i % SUBSAMPLE == 0 or f.source in FLOORS]
    in_sample = np.array([i % SUBSAMPLE == 0 for i in picked])
    return Dataset.load([files[i] for i in picked]), in_sample


@pytest.mark.parametrize("source", sorted(FLOORS))
def test_unseen_source_stays_above_the_floor(source: str, subsample: tuple[Dataset, np.ndarray]) -> None:
    data, in_sample = subsample
    test = data.sources == source
    result: dict[str, Any] = data.split(in_sample & ~test, test)["test"]
    assert result["ham"] > 100 and result["spam"] > 100, result
    assert result["fpr"] <= FLOORS[source]["max_fpr"], result
    assert result["recall"] >= FLOORS[source]["min_recall"], result
