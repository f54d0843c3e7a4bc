"""An account's circuit-breaker settings (``[accounts.breaker]``), with their rules.

A value of the model, not of the configuration alone: the configuration builds it
(:class:`~mailguard_core.config.AccountConfig` ``.breaker``), the gate-state port takes it
(:meth:`~mailguard_core.ports.gate_state.GateState.breaker`) and the breakers use it as
given (:class:`~mailguard_core.gate.breaker.CircuitBreaker`, the Redis one).
"""

from __future__ import annotations

import attrs

from mailguard_core.model.checks import Problem, at_least_one, positive, raise_problems


@attrs.frozen(kw_only=True)
class BreakerSettings:
    """``failure_threshold`` transient failures within ``window_seconds`` open the breaker;
    its cooldown starts at ``cooldown_seconds`` and doubles up to ``max_cooldown_seconds``
    (after an authentication failure: ``auth_cooldown_seconds`` up to
    ``auth_max_cooldown_seconds``)."""

    failure_threshold: int = attrs.field(default=5, validator=at_least_one)
    window_seconds: float = attrs.field(default=30.0, validator=positive)
    cooldown_seconds: float = attrs.field(default=15.0, validator=positive)
    max_cooldown_seconds: float = attrs.field(default=300.0, validator=positive)
    auth_cooldown_seconds: float = attrs.field(default=60.0, validator=positive)
    auth_max_cooldown_seconds: float = attrs.field(default=600.0, validator=positive)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        if self.max_cooldown_seconds < self.cooldown_seconds:
            problems.append(("max_cooldown_seconds", "must be at least cooldown_seconds"))
        if self.auth_max_cooldown_seconds < self.auth_cooldown_seconds:
            problems.append(("auth_max_cooldown_seconds", "must be at least auth_cooldown_seconds"))
        raise_problems(problems)
