"""Leave-one-source-out floor: the training recipe, retrained on a fixed subsample of the other
sources, must catch an unseen source's spam without flagging its ham.

The shipped model saw every source, so only a retrain can tell whether the features carry to a
collection it never saw; a subsample keeps this under a minute.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from email_service.spam.corpus import list_corpora, training_corpus_dirs
from email_service.spam.validate import Dataset

SUBSAMPLE = 3  # every third file of the training sources
# Floors below what the recipe measured on these exact subsamples (see the issue 20 note), so a
# change that stops features carrying across sources fails here.
FLOORS = {
    "foff": {"max_fpr": 0.05, "min_recall": 0.80},
    "csdmc": {"max_fpr": 0.01, "min_recall": 0.75},
}


def _held_out(source: str) -> dict[str, Any]:
    files = list_corpora(training_corpus_dirs())
    if not any(f.source == source for f in files):
        pytest.fail(f"no {source} files in {training_corpus_dirs()}; set SPAM_CORPUS_DIR's parent")
    train = [f for i, f in enumerate(files) if f.source != source and i % SUBSAMPLE == 0]
    test = [f for f in files if f.source == source]
    data = Dataset.load(train + test)
    mask = np.arange(len(train) + len(test)) < len(train)
    result: dict[str, Any] = data.split(mask, ~mask)["test"]
    return result


@pytest.mark.parametrize("source", sorted(FLOORS))
def test_unseen_source_stays_above_the_floor(source: str) -> None:
    result = _held_out(source)
    assert result["ham"] > 100 and result["spam"] > 100, result
    assert result["fpr"] <= FLOORS[source]["max_fpr"], result
    assert result["recall"] >= FLOORS[source]["min_recall"], result
