"""Per-scenario loss and duplication counts, recorded by the tests and summed at the end of the run.

A scenario records what it counted *before* it asserts, so a failing run still reports how much was
lost or duplicated. The summary (conftest.py) prints one line per scenario and a final JSON line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

AUDIT_FILE = "tests/integration/core/test_secrets_audit.py"


@dataclass
class ScenarioCount:
    """What one scenario counted: items lost and items present (or delivered) more than once."""

    name: str
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)

    def compare(self, what: str, expected: Iterable[Hashable], actual: Iterable[Hashable]) -> None:
        """Add the expected keys missing from `actual` and the extra copies in `actual`."""
        want, have = set(expected), Counter(actual)
        lost = len(want - set(have))
        duplicated = sum(n - 1 for n in have.values() if n > 1)
        self.lost += lost
        self.duplicated += duplicated
        self.notes.append(f"{what}: {len(have)} distinct of {len(want)} (lost {lost}, dup {duplicated})")

    def deliveries(self, what: str, delivered: int, at_most: int = 1, at_least: int = 0) -> None:
        """A send delivered `delivered` times: more than `at_most` is duplication, under `at_least` loss."""
        self.duplicated += max(0, delivered - at_most)
        self.lost += max(0, at_least - delivered)
        self.notes.append(f"{what}: delivered {delivered}x")


@dataclass
class Scoreboard:
    """Every scenario of the session by pytest node id, and the test outcomes once known."""

    counts: dict[str, ScenarioCount] = field(default_factory=dict)

    def scenario(self, nodeid: str) -> ScenarioCount:
        return self.counts.setdefault(nodeid, ScenarioCount(nodeid.split("::", 1)[-1]))

    def lines(self, outcomes: dict[str, str], audit_failures: int | None) -> list[str]:
        """One line per scenario, then the JSON summary (leaks: failed secrets-audit tests)."""
        out = []
        for nodeid, count in self.counts.items():
            outcome = outcomes.get(nodeid, "not run")
            detail = "; ".join(count.notes)
            out.append(
                f"scenario {count.name}: {outcome} lost={count.lost} duplicated={count.duplicated} ({detail})"
            )
        passed = sum(1 for nodeid in self.counts if outcomes.get(nodeid) == "passed")
        audit = (
            "secrets audit not run" if audit_failures is None else f"secrets audit failures={audit_failures}"
        )
        out.append(f"leaks: {audit}")
        summary = {
            "scenarios": len(self.counts),
            "passed": passed,
            "lost": sum(c.lost for c in self.counts.values()),
            "duplicated": sum(c.duplicated for c in self.counts.values()),
            "leaks": audit_failures or 0,
        }
        out.append(json.dumps(summary))
        return out


SCOREBOARD = Scoreboard()
