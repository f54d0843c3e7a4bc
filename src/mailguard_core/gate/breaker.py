"""A circuit breaker per account: stop calling a mail server that keeps failing.

- **closed**: calls pass. Errors whose class says ``breaker = "transient"`` (connection,
  timeout, TLS, protocol) are kept in a sliding window; ``failure_threshold`` of them within
  ``window_seconds`` open the breaker. One ``"auth"`` error opens it at once.
- **open**: calls are refused with :class:`~mailguard_core.model.errors.CircuitOpen` until the
  cooldown ends. The cooldown doubles each time the breaker opens again without a success in
  between (transient: 15 s up to 300 s; auth: 60 s up to 600 s, by default).
- **half-open**: after the cooldown exactly one call (the probe) goes through; the others are
  refused. A successful probe closes the breaker and resets the cooldowns; a failing one reopens
  it with the doubled cooldown. A probe that ends with an error that does not count (bad input,
  not found, a refusal) proves nothing: the next call probes instead.
- **credentials changed**: an auth cooldown is for a credential the server refused; when the
  stored credential changes (``mailguard-mcp login``), :meth:`CircuitBreaker.lift_auth` ends
  the cooldown at once so the next call probes with the new one (the gate asks, see
  ``Gate.set_credential_version``).
"""

from __future__ import annotations

import enum
from collections import deque

from mailguard_core.model.breaker import BreakerSettings
from mailguard_core.model.errors import BreakerKind, CircuitOpen

_DEFAULTS = BreakerSettings()
#: how long callers are told to wait while a probe is in flight
PROBE_RETRY_SECONDS = 1.0


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """The breaker of one account; every method takes the monotonic time ``now``."""

    __slots__ = (
        "_auth_open",
        "_auth_opens",
        "_failures",
        "_open_until",
        "_probe_in_flight",
        "_settings",
        "_state",
        "_transient_opens",
        "last_cooldown",
    )

    def __init__(self, settings: BreakerSettings = _DEFAULTS) -> None:
        self._settings = settings
        self._state = BreakerState.CLOSED
        self._failures: deque[float] = deque()
        self._open_until = 0.0
        self._transient_opens = 0
        self._auth_opens = 0
        #: whether the breaker is open because of an authentication failure
        self._auth_open = False
        self._probe_in_flight = False
        #: the cooldown chosen when the breaker last opened (seconds)
        self.last_cooldown = 0.0

    def state(self, now: float) -> BreakerState:
        """The state at ``now`` (an open breaker whose cooldown ended reads as half-open)."""
        if self._state is BreakerState.OPEN and now >= self._open_until:
            return BreakerState.HALF_OPEN
        return self._state

    def before_call(self, now: float) -> bool:
        """Let a call through or refuse it. Returns True when the call is the half-open probe.

        Raises:
            CircuitOpen: the breaker is open, or a probe is already in flight.
        """
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.OPEN:
            wait = self._open_until - now
            raise CircuitOpen(wait, f"circuit open for another {wait:.3f} s")
        if self._probe_in_flight:
            raise CircuitOpen(PROBE_RETRY_SECONDS, "circuit half-open: a probe is in flight")
        self._state = BreakerState.HALF_OPEN
        self._probe_in_flight = True
        return True

    @property
    def auth_open(self) -> bool:
        """Open (or half-open) because the server refused the credentials."""
        return self._auth_open and self._state is not BreakerState.CLOSED

    def lift_auth(self, now: float) -> bool:
        """End an auth cooldown now (the credentials changed): the next call is the probe.
        Returns whether there was one to end."""
        if not self.auth_open or self._state is not BreakerState.OPEN:
            return False
        self._open_until = min(self._open_until, now)
        return True

    def release_probe(self) -> None:
        """The probe ended without proving anything (refused, or a non-counting error)."""
        self._probe_in_flight = False

    def on_success(self, now: float, *, probe: bool) -> None:
        """A call that got through succeeded."""
        if probe:
            self._probe_in_flight = False
            self._state = BreakerState.CLOSED
            self._failures.clear()
            self._transient_opens = 0
            self._auth_opens = 0

    def on_failure(self, kind: BreakerKind | None, now: float, *, probe: bool) -> None:
        """A call that got through failed; ``kind`` is the error class's ``breaker``."""
        if kind is None:
            if probe:
                self.release_probe()
            return
        if probe:
            self._probe_in_flight = False
            self._open(kind, now)
            return
        if self._state is not BreakerState.CLOSED:
            # a call admitted before the breaker opened: the breaker already knows
            return
        if kind == "auth":
            self._open(kind, now)
            return
        window_start = now - self._settings.window_seconds
        failures = self._failures
        failures.append(now)
        while failures and failures[0] <= window_start:
            failures.popleft()
        if len(failures) >= self._settings.failure_threshold:
            self._open(kind, now)

    def _open(self, kind: BreakerKind, now: float) -> None:
        s = self._settings
        if kind == "auth":
            base, cap = s.auth_cooldown_seconds, s.auth_max_cooldown_seconds
            cooldown = min(base * 2 ** min(self._auth_opens, 30), cap)
            self._auth_opens += 1
        else:
            base, cap = s.cooldown_seconds, s.max_cooldown_seconds
            cooldown = min(base * 2 ** min(self._transient_opens, 30), cap)
            self._transient_opens += 1
        self._state = BreakerState.OPEN
        self._auth_open = kind == "auth"
        self._open_until = now + cooldown
        self._failures.clear()
        self.last_cooldown = cooldown
