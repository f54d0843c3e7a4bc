"""Startup: spawn ``mailguard-mcp demo`` to an answered ``tools/list`` (target: under 1.0 s).

    python bench/startup.py            # 10 runs per subject, prints a Markdown table
    python bench/startup.py --runs 3

Subjects, each spawned fresh per run and interleaved (so load changes hit all alike), talking
raw JSON-RPC over stdin/stdout (no client library in the timed path):

- ``python -c pass``: the interpreter's own floor on this machine;
- ``import mcp_types.methods``: the floor of any server on SDK 2.x: the pydantic models of the
  version-free types and of both protocol revisions (the low-level server needs them all);
- ``import mcp.types``: what ``import mcp.<anything>`` costs the ordinary way, since the
  ``mcp`` package ``__init__`` binds the whole client side (and through it ``MCPServer``);
- ``mailguard-mcp demo``: spawn, initialize, notifications/initialized, tools/list answered
  (plain imports: the SDK's package inits run as they are; the sanitizer and the mail
  libraries load on the first call that needs them).

``run(runs=..., quick=...) -> dict`` is what ``bench/run.py`` calls.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

TARGET_S = 1.0
TIMEOUT_S = 30.0

_INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "bench-startup", "version": "0"},
    },
}
_INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_process(argv: Sequence[str]) -> tuple[float, float]:
    """Wall seconds from spawn to exit of a process that needs no input, and its CPU seconds."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(argv, check=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def time_tools_list(
    argv: Sequence[str], env: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """Wall seconds from spawn to the tools/list reply, the process's CPU seconds (to its exit
    once stdin closes: a measure load disturbs less), and how many tools it listed."""
    cpu = _children_cpu()
    elapsed, tools = 0.0, 0
    payload = b"".join(json.dumps(m).encode() + b"\n" for m in (_INIT, _INITIALIZED, _LIST))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    killer = threading.Timer(TIMEOUT_S, proc.kill)
    killer.start()
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(payload)
        proc.stdin.flush()
        for _ in range(100):
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{argv[0]} exited before answering tools/list")
            reply = json.loads(line)
            if reply.get("id") == 2:
                elapsed, tools = time.perf_counter() - start, len(reply["result"]["tools"])
                break
        else:
            raise RuntimeError("no tools/list reply in 100 lines")
    finally:
        killer.cancel()
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    return elapsed, _children_cpu() - cpu, tools


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "min": ordered[0],
        "p50": statistics.median(ordered),
        "p95": p95,
        "max": ordered[-1],
        "n": len(ordered),
    }


DEMO = "mailguard-mcp demo: spawn to tools/list"


def run(runs: int = 10, quick: bool = False) -> dict[str, Any]:
    """Measure every subject ``runs`` times (3 when ``quick``); returns headers/rows + stats."""
    runs = 3 if quick else runs
    py = sys.executable
    imports = {
        "python -c pass": "pass",
        "import mcp_types.methods (SDK floor)": "import mcp_types.methods",
        "import mcp.types (whole mcp package)": "import mcp.types",
    }
    subjects: dict[str, list[float]] = {name: [] for name in [*imports, DEMO]}
    cpu: dict[str, list[float]] = {name: [] for name in subjects}
    tools = 0
    load_before = os.getloadavg()
    for _ in range(runs):  # interleaved, so load changes hit every subject alike
        for name, code in imports.items():
            wall, used = _time_process([py, "-c", code])
            subjects[name].append(wall)
            cpu[name].append(used)
        wall, used, tools = time_tools_list([py, "-m", "mailguard_mcp", "demo"], env={})
        subjects[DEMO].append(wall)
        cpu[DEMO].append(used)
    load_after = os.getloadavg()
    stats = {name: _stats(samples) for name, samples in subjects.items()}
    cpu_stats = {name: _stats(samples) for name, samples in cpu.items()}
    rows = [
        [
            name,
            f"{s['min'] * 1000:.0f}",
            f"{s['p50'] * 1000:.0f}",
            f"{s['p95'] * 1000:.0f}",
            f"{s['max'] * 1000:.0f}",
            f"{cpu_stats[name]['p50'] * 1000:.0f}",
        ]
        for name, s in stats.items()
    ]
    return {
        "headers": ["subject", "min ms", "p50 ms", "p95 ms", "max ms", "cpu p50 ms"],
        "rows": rows,
        "stats": stats,
        "cpu_stats": cpu_stats,
        "tools_listed": tools,
        "target_s": TARGET_S,
        "meets_target": stats[DEMO]["p50"] < TARGET_S,
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    result = run(runs=max(1, args.runs))
    headers, rows = result["headers"], result["rows"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for i, row in enumerate([headers, *rows]):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    p50 = result["stats"][DEMO]["p50"]
    verdict = "meets" if result["meets_target"] else "MISSES"
    load = "/".join(f"{x:.1f}" for x in result["load_before"])
    load_after = "/".join(f"{x:.1f}" for x in result["load_after"])
    print(
        f"\n{result['tools_listed']} tools listed; p50 {p50 * 1000:.0f} ms {verdict} the "
        f"{TARGET_S:.1f} s target; {result['cpus']} CPUs, load average (1/5/15 min) "
        f"{load} before, {load_after} after"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
