"""What sharing the gate's state through Redis costs per call (``[server.state] redis_url``).

    python bench/gate_state.py            # needs redis-server on PATH (started on loopback)
    python bench/gate_state.py --quick

One gate, an in-memory audit sink, one account; each scenario runs N admitted ``search``
calls (success) and N calls whose body fails with a counted error under a threshold that
never opens (so every failure is recorded). Printed: microseconds per call, and the ratio
to the same calls with the state in this process's memory (the baseline, same run).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.adapters.redis_gate_state import RedisGateState
from mailguard_core.config import AccountConfig, BreakerSettings, Config, RateLimitSettings
from mailguard_core.model.errors import ConnectionFailed
from mailguard_core.model.tools import Posture
from mailguard_core.ports.gate_state import GateState
from mailguard_core.services.dispatch import ToolGate as Gate


def _gate(state: GateState | None) -> Gate:
    account = AccountConfig(
        name="a",
        address="a@x.example",
        maildir="/tmp/none",
        posture=Posture.READONLY,
        limits=RateLimitSettings(calls_per_second=1e6, burst=1_000_000),
        breaker=BreakerSettings(failure_threshold=1_000_000),
    )
    return Gate.from_config(Config(accounts=(account,)), InMemoryAuditSink(), state=state)


def _ok(gate: Gate) -> None:
    with gate.guard("search", "a", {}):
        pass


def _failing(gate: Gate) -> None:
    try:
        with gate.guard("search", "a", {}):
            raise ConnectionFailed("down")
    except ConnectionFailed:
        pass


def _per_call(fn: Callable[[Gate], None], gate: Gate, n: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(n):
            fn(gate)
        times.append((time.perf_counter() - started) / n * 1e6)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, rounds = (200, 3) if args.quick else (2000, 5)
    if shutil.which("redis-server") is None:
        print("redis-server is not installed", file=sys.stderr)
        return 1
    from tests.support.redis_server import RedisServer

    server = RedisServer()
    server.start()
    try:
        local = _gate(None)
        state = RedisGateState(server.url, prefix="bench:")
        shared = _gate(state)
        print("| calls | in-process state (us/call) | Redis state (us/call) | ratio |")
        print("|---|---:|---:|---:|")
        for name, fn in (("admitted, ok", _ok), ("admitted, failure recorded", _failing)):
            base = _per_call(fn, local, n, rounds)
            redis = _per_call(fn, shared, n, rounds)
            print(f"| {name} | {base:.1f} | {redis:.1f} | {redis / base:.1f}x |")
        state.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
