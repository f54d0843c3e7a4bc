"""The gate's shared state: token buckets and circuit breakers, per account.

In one process the gate keeps this in memory (its own buckets and
:class:`~mailguard_core.gate.breaker.CircuitBreaker` objects, or
:class:`~mailguard_core.adapters.memory_gate_state.InMemoryGateState`); replicas share it
through Redis (``[server.state] redis_url``, :mod:`mailguard_core.adapters.redis_gate_state`),
so N processes enforce one limit and one breaker per account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import attrs

if TYPE_CHECKING:
    from mailguard_core.model.breaker import BreakerSettings
    from mailguard_core.model.errors import BreakerKind


@attrs.frozen
class Bucket:
    """One token bucket: ``key`` names it (unique across accounts), ``burst`` tokens,
    refilled at ``rate`` per second, starts full."""

    key: str
    rate: float
    burst: int


class Breaker(Protocol):
    """One account's circuit breaker, as the gate drives it: the interface of
    :class:`~mailguard_core.gate.breaker.CircuitBreaker` (whose docstring states the states and
    transitions). Every method takes the caller's monotonic time ``now``; a shared breaker may
    use its store's own clock instead (Redis's), so replicas' clocks do not matter."""

    def before_call(self, now: float) -> bool: ...

    @property
    def auth_open(self) -> bool: ...

    def lift_auth(self, now: float) -> bool: ...

    def release_probe(self) -> None: ...

    def on_success(self, now: float, *, probe: bool) -> None: ...

    def on_failure(self, kind: BreakerKind | None, now: float, *, probe: bool) -> None: ...


class GateState(Protocol):
    """Token buckets and circuit breakers, shared by every process that uses the same state.

    Contract (``tests/contract/test_gate_state.py``, run against every adapter):

    - :meth:`take` takes one token from each of ``buckets`` or from none (all-or-none,
      atomic across processes) and returns 0.0, or returns the seconds until all of them would
      have a token (> 0) and takes nothing. Idle buckets expire on their own.
    - :meth:`breaker` is ``account``'s circuit breaker with ``settings``: every step of it
      (the failures counted in the window, opening with the doubled cooldown, the one
      half-open probe, closing) is one atomic step on the shared state, so failures seen by
      two processes add up, and a breaker opened, probing or closed by one is so for all. The
      probe slot is a lease: a process that dies while probing frees it after
      :data:`PROBE_LEASE_SECONDS`.
    - :meth:`take` and :meth:`Breaker.before_call` may raise
      :class:`~mailguard_core.errors.StateUnavailable` when the state cannot be reached; the
      gate then refuses the call (fails closed). Recording an outcome never raises: an outcome
      that cannot be recorded is logged and lost (the next admission asks the state again).
    """

    def take(self, buckets: Sequence[Bucket]) -> float: ...

    def breaker(self, account: str, settings: BreakerSettings) -> Breaker: ...

    def close(self) -> None: ...


#: a probe slot not released within this long is free again (its process died)
PROBE_LEASE_SECONDS = 300.0
