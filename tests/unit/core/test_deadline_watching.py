"""core.deadline.watching: one command's budget on an open socket; progress extends it, and when it
runs out the socket is shut down so a blocked read returns at once."""

from __future__ import annotations

import socket
import time

from email_service.core.deadline import watching


def test_a_blocked_read_returns_when_the_budget_runs_out() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        started = time.monotonic()
        with watching(ours, 0.5) as budget:
            assert ours.recv(1) == b""  # the peer never writes: the shutdown ends the read
        assert budget.expired
        assert 0.4 < time.monotonic() - started < 2.0


def test_progress_moves_the_end_and_a_finished_command_is_left_alone() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        with watching(ours, 0.5) as budget:
            for _ in range(4):  # 1.2 s in all, each step earning more than it spends
                time.sleep(0.3)
                budget.extend(0.5)
            assert not budget.expired
            theirs.sendall(b"x")
            assert ours.recv(1) == b"x"
        time.sleep(1.5)  # past every end: the timer was cancelled with the block
        assert not budget.expired
        theirs.sendall(b"y")
        assert ours.recv(1) == b"y"
