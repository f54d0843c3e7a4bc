"""The GateState contract, run against the in-memory adapter and a real redis-server."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import attrs
import pytest

from mailguard_core.adapters.memory_gate_state import InMemoryGateState
from mailguard_core.adapters.redis_gate_state import RedisGateState
from mailguard_core.config import BreakerSettings
from mailguard_core.model.errors import CircuitOpen, StateUnavailable
from mailguard_core.ports.gate_state import Breaker, Bucket, GateState
from tests.support.redis_server import RedisServer, redis_server

#: refills so slowly that the tests' own duration never adds a token
SLOW = 0.001
_names = itertools.count()


@pytest.fixture(scope="module")
def redis_instance() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
def state(request: pytest.FixtureRequest) -> Iterator[GateState]:
    if request.param == "memory":
        now = [1000.0]
        yield InMemoryGateState(lambda: now[0])
        return
    server: RedisServer = request.getfixturevalue("redis_instance")
    adapter = RedisGateState(server.url, prefix=f"t{next(_names)}:")
    yield adapter
    adapter.close()


def _bucket(burst: int, name: str = "acct") -> Bucket:
    return Bucket(name, SLOW, burst)


def test_a_bucket_gives_its_burst_then_says_how_long_to_wait(state: GateState) -> None:
    results = [state.take([_bucket(3)]) for _ in range(5)]
    assert results[:3] == [0.0, 0.0, 0.0]
    assert all(wait > 0.0 for wait in results[3:])
    assert results[3] == pytest.approx(1 / SLOW, rel=0.01)


def test_all_or_none_over_several_buckets(state: GateState) -> None:
    account, tool = _bucket(5, "a"), _bucket(1, "a:search")
    assert state.take([account, tool]) == 0.0
    assert state.take([account, tool]) > 0.0  # the tool bucket is empty: nothing taken
    assert [state.take([account]) for _ in range(5)] == [0.0] * 4 + [
        pytest.approx(1 / SLOW, rel=0.01)
    ]


def test_buckets_are_independent(state: GateState) -> None:
    assert state.take([_bucket(1, "x")]) == 0.0
    assert state.take([_bucket(1, "x")]) > 0.0
    assert state.take([_bucket(1, "y")]) == 0.0


# ---------------------------------------------------------------- breakers
#: short durations: the tests wait for cooldowns in real time (Redis times with its own clock)
FAST = BreakerSettings(
    failure_threshold=3,
    window_seconds=30.0,
    cooldown_seconds=0.3,
    max_cooldown_seconds=5.0,
    auth_cooldown_seconds=60.0,
    auth_max_cooldown_seconds=600.0,
)


@pytest.fixture(params=["memory", "redis"])
def replicas(request: pytest.FixtureRequest) -> Iterator[tuple[GateState, GateState]]:
    """Two views of one state, as two replicas have: the same in-memory state twice, or two
    adapters (two connection pools) on one redis-server and one key prefix."""
    if request.param == "memory":
        shared = InMemoryGateState(time.monotonic)
        yield shared, shared
        return
    server: RedisServer = request.getfixturevalue("redis_instance")
    prefix = f"b{next(_names)}:"
    first, second = (
        RedisGateState(server.url, prefix=prefix),
        RedisGateState(server.url, prefix=prefix),
    )
    yield first, second
    first.close()
    second.close()


def _now() -> float:
    return time.monotonic()


def _refused(breaker: Breaker) -> float:
    with pytest.raises(CircuitOpen) as refused:
        breaker.before_call(_now())
    return refused.value.retry_after


def test_failures_through_two_replicas_add_up_and_open_it_for_both(
    replicas: tuple[GateState, GateState],
) -> None:
    a, b = (state.breaker("acct", FAST) for state in replicas)
    other = replicas[1].breaker("other", FAST)
    for breaker in (a, b):  # 2 failures: under the threshold of 3
        assert breaker.before_call(_now()) is False
        breaker.on_failure("transient", _now(), probe=False)
    assert a.before_call(_now()) is False and b.before_call(_now()) is False
    a.on_failure(None, _now(), probe=False)  # a refusal or bad input: never counted
    b.on_success(_now(), probe=False)  # a success outside a probe changes nothing
    b.on_failure("transient", _now(), probe=False)  # the third, through b
    assert 0.0 < _refused(a) <= 0.3 and 0.0 < _refused(b) <= 0.3
    assert other.before_call(_now()) is False  # per account


def test_one_probe_for_all_then_closed_for_all(replicas: tuple[GateState, GateState]) -> None:
    a, b = (state.breaker("acct", FAST) for state in replicas)
    for _ in range(3):
        a.on_failure("transient", _now(), probe=False)
    _refused(b)
    time.sleep(0.35)  # the cooldown ends: exactly one call is the probe
    assert b.before_call(_now()) is True
    assert _refused(a) > 0.0  # a probe is in flight (through the other replica)
    assert _refused(b) > 0.0
    b.on_success(_now(), probe=True)
    assert a.before_call(_now()) is False and b.before_call(_now()) is False


def test_a_failed_probe_reopens_with_the_doubled_cooldown(
    replicas: tuple[GateState, GateState],
) -> None:
    a, b = (state.breaker("acct", FAST) for state in replicas)
    for _ in range(3):
        b.on_failure("transient", _now(), probe=False)
    time.sleep(0.35)
    assert a.before_call(_now()) is True
    a.on_failure("transient", _now(), probe=True)
    assert 0.3 < _refused(b) <= 0.6  # 0.6 s: doubled
    time.sleep(0.65)
    assert b.before_call(_now()) is True
    b.release_probe()  # the probe proved nothing (a refusal): the next call probes
    assert a.before_call(_now()) is True
    a.on_success(_now(), probe=True)
    assert b.before_call(_now()) is False


def test_an_auth_failure_opens_at_once_and_a_lift_ends_it(
    replicas: tuple[GateState, GateState],
) -> None:
    a, b = (state.breaker("acct", FAST) for state in replicas)
    a.on_failure("auth", _now(), probe=False)
    assert a.auth_open
    assert 55.0 < _refused(b) <= 60.0
    assert a.lift_auth(_now()) is True  # the credential changed where the failure was seen
    assert b.before_call(_now()) is True  # the next call, on any replica, is the probe
    b.on_success(_now(), probe=True)
    assert a.before_call(_now()) is False and not a.auth_open


def test_failures_outside_the_window_do_not_add_up(
    replicas: tuple[GateState, GateState],
) -> None:
    window = attrs.evolve(FAST, failure_threshold=2, window_seconds=0.3)
    a, b = (state.breaker("acct", window) for state in replicas)
    a.on_failure("transient", _now(), probe=False)
    time.sleep(0.4)
    b.on_failure("transient", _now(), probe=False)
    assert a.before_call(_now()) is False
    a.on_failure("transient", _now(), probe=False)  # two within 0.3 s
    _refused(b)


def test_redis_going_away_raises_state_unavailable() -> None:
    """Admission fails closed; recording an outcome never raises (it is logged and lost)."""
    with redis_server() as server:
        adapter = RedisGateState(server.url, timeout=0.5)
        breaker = adapter.breaker("a", FAST)
        assert adapter.take([_bucket(2)]) == 0.0
        assert breaker.before_call(_now()) is False
        server.stop()
        with pytest.raises(StateUnavailable):
            adapter.take([_bucket(2)])
        with pytest.raises(StateUnavailable):
            breaker.before_call(_now())
        breaker.on_failure("transient", _now(), probe=False)
        breaker.on_failure("auth", _now(), probe=True)
        breaker.on_success(_now(), probe=True)
        breaker.release_probe()
        assert breaker.lift_auth(_now()) is False
        adapter.close()


def test_the_app_closes_its_redis_connections() -> None:
    """``open_app`` with ``[server.state] redis_url``: leaving it closes the Redis pool (no
    ResourceWarning for an unclosed socket, the server sees the client go)."""
    import gc
    import tempfile
    import warnings
    from pathlib import Path

    import redis

    from mailguard_core.app.bootstrap import open_app
    from mailguard_core.config import (
        AccountConfig,
        AuditSettings,
        Config,
        ServerSettings,
        ServerStateSettings,
    )
    from mailguard_core.model.tools import Posture
    from mailguard_mcp.demo import materialize

    with redis_server() as server, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        materialize(root / "Maildir")
        config = Config(
            accounts=(
                AccountConfig(
                    name="a", address="a@b.example", posture=Posture.READONLY,
                    maildir=str(root / "Maildir"),
                ),
            ),
            audit=AuditSettings(path=str(root / "audit.jsonl")),
            server=ServerSettings(state=ServerStateSettings(redis_url=server.url)),
        )  # fmt: skip
        watcher = redis.Redis.from_url(server.url, decode_responses=True)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with open_app(config) as app:
                    app.call("list_folders", {})
                    during = len(watcher.client_list())
                gc.collect()
            after = len(watcher.client_list())
        finally:
            watcher.close()
    assert during == after + 1  # the app's connection was open, and is closed
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], caught
