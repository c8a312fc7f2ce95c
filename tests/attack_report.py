"""Pytest plugin: hostile-load tests report what they measured against their bound.

`attack("what", figure, bound, "unit")` records one attack's figure and fails the test when it is over
the bound. At the end of the run one line per attack is printed, then
{"attacks": N, "within_bound": N} (`make reliability` shows them; so does any run that includes them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Measured:
    what: str
    figure: float
    bound: float
    unit: str

    @property
    def within(self) -> bool:
        return self.figure <= self.bound

    def line(self) -> str:
        verdict = "within bound" if self.within else "OVER BOUND"
        return f"attack {self.what}: {self.figure:g} {self.unit} (bound {self.bound:g} {self.unit}) {verdict}"


BOARD: list[Measured] = []
Attack = Callable[[str, float, float, str], None]


@pytest.fixture
def attack() -> Attack:
    """Record (and assert) one attack's measured figure against its bound."""

    def measured(what: str, figure: float, bound: float, unit: str = "s") -> None:
        row = Measured(what, round(figure, 3), bound, unit)
        BOARD.append(row)
        assert row.within, row.line()

    return measured


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not BOARD:
        return
    terminalreporter.section("attacks")
    for row in BOARD:
        terminalreporter.write_line(row.line())
    summary = {"attacks": len(BOARD), "within_bound": sum(1 for row in BOARD if row.within)}
    terminalreporter.write_line(json.dumps(summary))
