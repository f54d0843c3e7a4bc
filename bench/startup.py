"""Startup: spawn ``mailguard-mcp demo`` to an answered ``tools/list`` (target: under 1.0 s).

    python bench/startup.py            # 10 runs per subject, prints a Markdown table
    python bench/startup.py --runs 3

Subjects, each spawned fresh per run, talking raw JSON-RPC over stdin/stdout (no client
library in the timed path):

- ``python -c pass``: the interpreter's own floor on this machine;
- ``import mcp.types``: the MCP SDK's own import floor (pydantic models of two protocol
  revisions), which any server on SDK 2.x pays;
- ``import mailguard_mcp.server``: the import cost of the MCP adapter and everything it pulls;
- ``mailguard-mcp demo``: spawn, initialize, notifications/initialized, tools/list answered.

``run(runs=..., quick=...) -> dict`` is what ``bench/run.py`` calls.
"""

from __future__ import annotations

import argparse
import json
import os
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


def _time_process(argv: Sequence[str]) -> float:
    """Seconds from spawn to exit of a process that needs no input."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_tools_list(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Seconds from spawn to the tools/list reply, and how many tools it listed."""
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
                elapsed = time.perf_counter() - start
                return elapsed, len(reply["result"]["tools"])
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


def run(runs: int = 10, quick: bool = False) -> dict[str, Any]:
    """Measure every subject ``runs`` times (3 when ``quick``); returns headers/rows + stats."""
    runs = 3 if quick else runs
    py = sys.executable
    subjects: dict[str, list[float]] = {
        "python -c pass": [],
        "import mcp.types (SDK floor)": [],
        "import mailguard_mcp.server": [],
    }
    subjects["mailguard-mcp demo: spawn to tools/list"] = []
    tools = 0
    for _ in range(runs):  # interleaved, so load changes hit every subject alike
        subjects["python -c pass"].append(_time_process([py, "-c", "pass"]))
        subjects["import mcp.types (SDK floor)"].append(
            _time_process([py, "-c", "import mcp.types"])
        )
        subjects["import mailguard_mcp.server"].append(
            _time_process([py, "-c", "import mailguard_mcp.server, mailguard_mcp.serve_cli"])
        )
        elapsed, tools = time_tools_list([py, "-m", "mailguard_mcp", "demo"])
        subjects["mailguard-mcp demo: spawn to tools/list"].append(elapsed)
    stats = {name: _stats(samples) for name, samples in subjects.items()}
    rows = [
        [name, f"{s['p50'] * 1000:.0f}", f"{s['p95'] * 1000:.0f}", f"{s['max'] * 1000:.0f}"]
        for name, s in stats.items()
    ]
    main = stats["mailguard-mcp demo: spawn to tools/list"]
    return {
        "headers": ["subject", "p50 ms", "p95 ms", "max ms"],
        "rows": rows,
        "stats": stats,
        "tools_listed": tools,
        "target_s": TARGET_S,
        "meets_target": main["p50"] < TARGET_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    result = run(runs=max(1, args.runs))
    widths = [max(len(str(r[i])) for r in [result["headers"], *result["rows"]]) for i in range(4)]
    for i, row in enumerate([result["headers"], *result["rows"]]):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    p50 = result["stats"]["mailguard-mcp demo: spawn to tools/list"]["p50"]
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(
        f"\n{result['tools_listed']} tools listed; p50 {p50 * 1000:.0f} ms {verdict} "
        f"the {TARGET_S:.1f} s target; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
