"""The gate's state in this process's memory (one process, one limit, one breaker)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from mailguard_core.gate.breaker import CircuitBreaker
from mailguard_core.gate.ratelimit import TokenBucket
from mailguard_core.model.breaker import BreakerSettings
from mailguard_core.model.errors import BreakerKind
from mailguard_core.ports.gate_state import Breaker, Bucket


class _LockedBreaker:
    """A :class:`CircuitBreaker` shared by every gate over this state, one step at a time."""

    def __init__(self, breaker: CircuitBreaker, lock: threading.Lock) -> None:
        self._breaker = breaker
        self._lock = lock

    def before_call(self, now: float) -> bool:
        with self._lock:
            return self._breaker.before_call(now)

    @property
    def auth_open(self) -> bool:
        with self._lock:
            return self._breaker.auth_open

    def lift_auth(self, now: float) -> bool:
        with self._lock:
            return self._breaker.lift_auth(now)

    def release_probe(self) -> None:
        with self._lock:
            self._breaker.release_probe()

    def on_success(self, now: float, *, probe: bool) -> None:
        with self._lock:
            self._breaker.on_success(now, probe=probe)

    def on_failure(self, kind: BreakerKind | None, now: float, *, probe: bool) -> None:
        with self._lock:
            self._breaker.on_failure(kind, now, probe=probe)


class InMemoryGateState:
    """:class:`~mailguard_core.ports.gate_state.GateState` in dicts; ``now`` is a monotonic
    clock in seconds (the buckets'; the breakers take the gate's ``now``)."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self._breakers: dict[str, _LockedBreaker] = {}

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

    def breaker(self, account: str, settings: BreakerSettings) -> Breaker:
        with self._lock:
            found = self._breakers.get(account)
            if found is None:
                breaker = CircuitBreaker(settings)
                found = self._breakers[account] = _LockedBreaker(breaker, threading.Lock())
            return found

    def close(self) -> None:
        pass
