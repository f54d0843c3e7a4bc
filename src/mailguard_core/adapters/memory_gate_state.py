"""The gate's state in this process's memory (the default; one process, one limit)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from mailguard_core.gate.ratelimit import TokenBucket
from mailguard_core.ports.gate_state import Bucket


class InMemoryGateState:
    """:class:`~mailguard_core.ports.gate_state.GateState` in a dict; ``now`` is a monotonic
    clock in seconds."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self._open_until: dict[str, float] = {}

    def take(self, buckets: Sequence[Bucket]) -> float:
        with self._lock:
            now = self._now()
            live = []
            for spec in buckets:
                bucket = self._buckets.get(spec.key)
                if bucket is None or bucket.rate != spec.rate or bucket.burst != spec.burst:
                    bucket = self._buckets[spec.key] = TokenBucket(spec.rate, spec.burst, now=now)
                live.append(bucket)
            wait = max((b.wait_time(now) for b in live), default=0.0)
            if wait > 0.0:
                return wait
            for bucket in live:
                bucket.take(now)
            return 0.0

    def open_breaker(self, account: str, seconds: float) -> None:
        with self._lock:
            until = self._now() + seconds
            self._open_until[account] = max(until, self._open_until.get(account, 0.0))

    def breaker_open_for(self, account: str) -> float:
        with self._lock:
            return max(0.0, self._open_until.get(account, 0.0) - self._now())

    def close(self) -> None:
        pass
