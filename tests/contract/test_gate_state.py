"""The GateState contract, run against the in-memory adapter and a real redis-server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from mailguard_core.adapters.memory_gate_state import InMemoryGateState
from mailguard_core.adapters.redis_gate_state import RedisGateState
from mailguard_core.model.errors import StateUnavailable
from mailguard_core.ports.gate_state import Bucket, GateState
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


def test_breaker_marks_open_and_never_shorten(state: GateState) -> None:
    assert state.breaker_open_for("a") == 0.0
    state.open_breaker("a", 60.0)
    assert 50.0 < state.breaker_open_for("a") <= 60.0
    state.open_breaker("a", 5.0)
    assert state.breaker_open_for("a") > 50.0
    assert state.breaker_open_for("b") == 0.0


def test_redis_going_away_raises_state_unavailable() -> None:
    with redis_server() as server:
        adapter = RedisGateState(server.url, timeout=0.5)
        assert adapter.take([_bucket(2)]) == 0.0
        server.stop()
        with pytest.raises(StateUnavailable):
            adapter.take([_bucket(2)])
        with pytest.raises(StateUnavailable):
            adapter.breaker_open_for("a")
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
