"""Gate overhead per call: the checks plus the audit records (start + end), in microseconds.

    python bench/gate.py            # prints a Markdown table
    python bench/gate.py --quick

Target (issue 3): under 200 us per call with the JSONL audit log and fsync off for tool
records. ``run(quick=...) -> dict`` is what ``bench/run.py`` calls; it returns
``{"headers", "rows", "scenarios", "target_us", "meets_target"}``.

Scenarios (one admitted ``search`` call each unless said otherwise; limits set high so that
nothing is refused by the rate limiter, which still runs):

- ``checks only``: the gate with a sink that stores nothing (posture, folders, breaker, limits,
  redaction, record building);
- ``in-memory audit``: plus hash chaining into a list;
- ``jsonl audit``: plus one ``os.write`` per record to a real file (the target scenario);
- ``jsonl audit, hmac``: the same with an HMAC-keyed chain;
- ``jsonl, send_email args``: recipients pseudonymised, subject/body as lengths;
- ``jsonl, refused (denied tool)``: a call refused by the posture check;
- ``jsonl, fsync every record``: ``fsync_tool_records=True`` (depends on the disk).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mailguard_core.adapters.jsonl_audit import JsonlAuditSink
from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.config import AccountConfig, Config, RateLimitSettings
from mailguard_core.model.errors import ToolDenied
from mailguard_core.model.tools import Posture
from mailguard_core.ports.audit import AuditSink
from mailguard_core.ports.secrets import Secret
from mailguard_core.services.dispatch import ToolGate as Gate

TARGET_US = 200.0
SEARCH_ARGS: Mapping[str, Any] = {"folder": "INBOX", "subject": "invoice", "limit": 20}
SEND_ARGS: Mapping[str, Any] = {
    "to": ["alice@example.org", "bob@example.org"],
    "cc": ["carol@example.org"],
    "subject": "Quarterly numbers",
    "body": "Hello,\n" * 200,
}


class NullSink:
    """Counts records and stores nothing: the gate's own cost."""

    def __init__(self) -> None:
        self.seq = 0

    def write(self, record: Mapping[str, Any], *, durable: bool = False) -> int:
        self.seq += 1
        return self.seq

    def pseudonymize(self, value: str) -> str:
        return "p:" + value[:8]

    def close(self) -> None:
        pass


def _gate(sink: AuditSink) -> Gate:
    account = AccountConfig(
        name="bench",
        address="bench@example.org",
        posture=Posture.FULL,
        limits=RateLimitSettings(
            calls_per_second=1e9, burst=10**9, tools={"send_email": "999999999/s"}
        ),
    )
    return Gate.from_config(Config(accounts=(account,)), sink)


def _measure(call: Callable[[], None], n: int) -> list[float]:
    for _ in range(min(200, n)):
        call()
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        call()
        samples.append((clock() - start) / 1000.0)
    return samples


def _admitted(gate: Gate, tool: str, args: Mapping[str, Any]) -> Callable[[], None]:
    def call() -> None:
        with gate.guard(tool, "bench", args) as c:
            c.set_result({"count": 20})

    return call


def _refused(gate: Gate) -> Callable[[], None]:
    def call() -> None:
        try:
            with gate.guard("delete_folder", "bench", {"folder": "Old"}):
                pass
        except ToolDenied:
            return
        raise AssertionError("delete_folder must be refused under 'full'")

    return call


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": float(len(ordered)),
        "p50_us": ordered[len(ordered) // 2],
        "p95_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "max_us": ordered[-1],
        "mean_us": statistics.fmean(ordered),
    }


def run(quick: bool = False, calls: int | None = None) -> dict[str, Any]:
    """Measure every scenario; returns per-scenario stats and a table (microseconds)."""
    n = calls or (3_000 if quick else 20_000)
    scenarios: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="mailguard-bench-gate-") as tmp:
        root = Path(tmp)
        scenarios["checks only"] = _stats(
            _measure(_admitted(_gate(NullSink()), "search", SEARCH_ARGS), n)
        )
        memory = InMemoryAuditSink()
        scenarios["in-memory audit"] = _stats(
            _measure(_admitted(_gate(memory), "search", SEARCH_ARGS), n)
        )
        plans: list[tuple[str, dict[str, Any], str, int]] = [
            ("jsonl audit", {}, "search", n),
            ("jsonl audit, hmac", {"hmac_key": Secret("bench-key-0123456789abcdef")}, "search", n),
            ("jsonl, send_email args", {}, "send_email", n),
            ("jsonl, refused (denied tool)", {}, "refused", n),
            ("jsonl, fsync every record", {"fsync_tool_records": True}, "search", min(n, 300)),
        ]
        for index, (name, options, tool, count) in enumerate(plans):
            with JsonlAuditSink(root / f"audit-{index}.jsonl", **options) as sink:
                gate = _gate(sink)
                if tool == "refused":
                    call = _refused(gate)
                else:
                    call = _admitted(gate, tool, SEND_ARGS if tool == "send_email" else SEARCH_ARGS)
                scenarios[name] = _stats(_measure(call, count))
    headers = ["scenario", "calls", "p50 us", "p95 us", "max us", "mean us"]
    rows = [
        [
            name,
            int(s["n"]),
            f"{s['p50_us']:.1f}",
            f"{s['p95_us']:.1f}",
            f"{s['max_us']:.0f}",
            f"{s['mean_us']:.1f}",
        ]
        for name, s in scenarios.items()
    ]
    return {
        "headers": headers,
        "rows": rows,
        "scenarios": scenarios,
        "target_us": TARGET_US,
        "meets_target": scenarios["jsonl audit"]["p50_us"] < TARGET_US,
    }


def _table(result: Mapping[str, Any]) -> str:
    headers = result["headers"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in result["rows"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--calls", type=int, default=None)
    args = parser.parse_args(argv)
    result = run(quick=args.quick, calls=args.calls)
    print(_table(result))
    verdict = "meets" if result["meets_target"] else "MISSES"
    p50 = result["scenarios"]["jsonl audit"]["p50_us"]
    print(
        f"\njsonl audit p50 {p50:.1f} us {verdict} the {TARGET_US:.0f} us target", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
