"""Clocks for the gate: one monotonic reading for limits and breakers, one wall reading for logs.

Rate limiters and circuit breakers only ever read :meth:`Clock.monotonic`, so a
:class:`FakeClock` makes their tests exact and instant.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where the gate reads the time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for limits, breakers, durations)."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch, UTC (for audit timestamps)."""
        ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``time.time``."""

    __slots__ = ()

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told to.

    Args:
        start: the initial monotonic reading.
        wall: the initial wall-clock reading (epoch seconds); it moves with :meth:`advance`.
    """

    __slots__ = ("_mono", "_wall")

    def __init__(self, start: float = 1_000.0, wall: float = 1_800_000_000.0) -> None:
        self._mono = start
        self._wall = wall

    def monotonic(self) -> float:
        return self._mono

    def time(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        """Move both readings forward by ``seconds`` (never backwards)."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._mono += seconds
        self._wall += seconds
