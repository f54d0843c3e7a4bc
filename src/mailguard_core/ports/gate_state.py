"""The gate's shared state: token buckets and the "breaker is open" mark, per account.

In one process the gate keeps this in memory (:class:`~mailguard_core.adapters.memory_gate_state.
InMemoryGateState`); replicas share it through Redis (``[server.state] redis_url``,
:mod:`mailguard_core.adapters.redis_gate_state`), so N processes enforce one limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import attrs


@attrs.frozen
class Bucket:
    """One token bucket: ``key`` names it (unique across accounts), ``burst`` tokens,
    refilled at ``rate`` per second, starts full."""

    key: str
    rate: float
    burst: int


class GateState(Protocol):
    """Token buckets and breaker marks, shared by every process that uses the same state.

    Contract (``tests/contract/test_gate_state.py``, run against every adapter):

    - :meth:`take` takes one token from each of ``buckets`` or from none (all-or-none,
      atomic across processes) and returns 0.0, or returns the seconds until all of them would
      have a token (> 0) and takes nothing.
    - :meth:`open_breaker` marks ``account``'s breaker open for ``seconds`` (a later, longer
      mark wins; a shorter one never shortens it); :meth:`breaker_open_for` returns the seconds
      left (0.0 when not open). Marks and idle buckets expire on their own.
    - Every method may raise :class:`~mailguard_core.model.errors.StateUnavailable` when the state
      cannot be reached; the gate then refuses the call (fails closed).
    """

    def take(self, buckets: Sequence[Bucket]) -> float: ...

    def open_breaker(self, account: str, seconds: float) -> None: ...

    def breaker_open_for(self, account: str) -> float: ...

    def close(self) -> None: ...
