"""The circuit breaker with a fake clock: window, cooldown doubling, auth, the single probe."""

from __future__ import annotations

import pytest

from mailguard_core.config import BreakerSettings
from mailguard_core.gate.breaker import BreakerState, CircuitBreaker
from mailguard_core.model.errors import CircuitOpen, ConfigError


def fail(breaker: CircuitBreaker, now: float, times: int = 1, kind: str = "transient") -> None:
    for _ in range(times):
        probe = breaker.before_call(now)
        breaker.on_failure(kind, now, probe=probe)  # type: ignore[arg-type]


def test_five_transient_failures_within_thirty_seconds_open_the_breaker() -> None:
    """The fifth counted failure inside the window opens it for 15 s."""
    breaker = CircuitBreaker()
    fail(breaker, 0.0, 4)
    assert breaker.state(0.0) is BreakerState.CLOSED
    fail(breaker, 29.0)
    assert breaker.state(29.0) is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as info:
        breaker.before_call(30.0)
    assert info.value.retry_after == pytest.approx(14.0)


def test_failures_that_leave_the_window_stop_counting() -> None:
    """Failures older than window_seconds do not add up to the threshold."""
    breaker = CircuitBreaker()
    fail(breaker, 0.0, 4)
    fail(breaker, 30.0)
    assert breaker.state(30.0) is BreakerState.CLOSED
    fail(breaker, 31.0, 3)
    assert breaker.state(31.0) is BreakerState.CLOSED
    fail(breaker, 31.0)
    assert breaker.state(31.0) is BreakerState.OPEN


def test_errors_that_do_not_count_never_open_the_breaker() -> None:
    """Errors without a breaker kind (input, not found, refusals) are ignored."""
    breaker = CircuitBreaker()
    for _ in range(50):
        breaker.on_failure(None, 0.0, probe=breaker.before_call(0.0))
    assert breaker.state(0.0) is BreakerState.CLOSED


def test_an_authentication_failure_opens_at_once_for_sixty_seconds() -> None:
    """One auth failure opens the breaker with the auth cooldown."""
    breaker = CircuitBreaker()
    fail(breaker, 0.0, kind="auth")
    assert breaker.state(59.9) is BreakerState.OPEN
    assert breaker.state(60.0) is BreakerState.HALF_OPEN


def test_half_open_lets_exactly_one_probe_through() -> None:
    """After the cooldown one call probes; the others are refused while it runs."""
    breaker = CircuitBreaker()
    fail(breaker, 0.0, 5)
    assert breaker.before_call(15.0) is True
    for _ in range(3):
        with pytest.raises(CircuitOpen) as info:
            breaker.before_call(15.5)
        assert info.value.retry_after == pytest.approx(1.0)


def test_a_successful_probe_closes_and_resets_the_cooldown() -> None:
    """Probe success closes the breaker; the next opening uses the base cooldown again."""
    breaker = CircuitBreaker()
    fail(breaker, 0.0, 5)
    fail(breaker, 15.0)  # failed probe: 30 s
    assert breaker.last_cooldown == 30.0
    probe = breaker.before_call(45.0)
    breaker.on_success(45.0, probe=probe)
    assert breaker.state(45.0) is BreakerState.CLOSED
    assert breaker.before_call(45.0) is False
    fail(breaker, 50.0, 5)
    assert breaker.last_cooldown == 15.0


def test_a_failing_probe_reopens_with_a_doubled_cooldown_up_to_the_maximum() -> None:
    """Cooldowns go 15, 30, 60, 120, 240, 300, 300 s while probes keep failing."""
    breaker = CircuitBreaker()
    now = 0.0
    fail(breaker, now, 5)
    seen = [breaker.last_cooldown]
    for _ in range(6):
        now += breaker.last_cooldown
        fail(breaker, now)
        seen.append(breaker.last_cooldown)
    assert seen == [15.0, 30.0, 60.0, 120.0, 240.0, 300.0, 300.0]


def test_auth_cooldowns_double_from_sixty_up_to_six_hundred_seconds() -> None:
    """Repeated auth failures on probes: 60, 120, 240, 480, 600 s."""
    breaker = CircuitBreaker()
    now = 0.0
    fail(breaker, now, kind="auth")
    seen = [breaker.last_cooldown]
    for _ in range(4):
        now += breaker.last_cooldown
        fail(breaker, now, kind="auth")
        seen.append(breaker.last_cooldown)
    assert seen == [60.0, 120.0, 240.0, 480.0, 600.0]


def test_a_probe_ending_in_a_non_counting_error_lets_the_next_call_probe() -> None:
    """A probe refused or failing with bad input proves nothing: another call may probe."""
    breaker = CircuitBreaker()
    fail(breaker, 0.0, 5)
    assert breaker.before_call(15.0) is True
    breaker.on_failure(None, 15.0, probe=True)
    assert breaker.before_call(15.0) is True
    breaker.release_probe()
    assert breaker.before_call(16.0) is True


def test_failures_of_calls_admitted_before_opening_do_not_extend_the_cooldown() -> None:
    """Late failures of calls already in flight while open are not counted again."""
    breaker = CircuitBreaker()
    fail(breaker, 0.0, 5)
    breaker.on_failure("transient", 1.0, probe=False)
    assert breaker.state(15.0) is BreakerState.HALF_OPEN


@pytest.mark.parametrize(
    "values",
    [
        {"failure_threshold": 0},
        {"window_seconds": 0},
        {"cooldown_seconds": 500},
        {"auth_cooldown_seconds": 0},
    ],
)
def test_breaker_settings_out_of_range_are_config_errors(values: dict[str, float]) -> None:
    """A threshold below one, an empty window, or cooldowns above their maximum are refused
    when the settings are built (the breaker trusts the settings it is given)."""
    with pytest.raises(ConfigError):
        BreakerSettings(**values)  # type: ignore[arg-type]
