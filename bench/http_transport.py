"""``serve --http`` vs stdio: throughput and p50/p95 of ``search`` and ``fetch_message`` with
1, 10 and 50 concurrent HTTP sessions on one replica, beside one stdio session; and the server's
resident memory per idle HTTP session.

    python bench/http_transport.py                 # prints a Markdown table
    python bench/http_transport.py --calls 100     # calls per concurrency level (default 200)

One server process per transport, over a copy of the demo Maildir (one account, rate limits
raised out of the way), no auth, on loopback. Every session alternates ``search`` and
``fetch_message``; latency is client-side wall time per call, throughput counts the calls
between the first and the last (session setup and teardown excluded). The account's mail store
serves one call at a time (``MailguardApp.with_service``); JSON, HTTP and rendering run beside
it. The numbers say what a team sharing one mailbox sees.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import McpStdioSession, markdown_table, process_memory, summarize

LEVELS = (1, 10, 50)
IDLE_SESSIONS = 50


def write_config(root: Path, port: int) -> Path:
    from mailguard_mcp.demo import DEMO_ADDRESS, DEMO_AUTHSERV_ID, materialize

    materialize(root / "Maildir")
    path = root / "config.toml"
    path.write_text(
        f"""
[audit]
path = "{root / "audit.jsonl"}"

[[accounts]]
name = "demo"
address = "{DEMO_ADDRESS}"
posture = "readonly"
maildir = "{root / "Maildir"}"
trusted_authserv_id = "{DEMO_AUTHSERV_ID}"
[accounts.limits]
calls_per_second = 100000.0
burst = 100000

[server]
port = {port}
max_sessions = 200
"""
    )
    return path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _one(call: Any, samples: dict[str, list[float]], ref: str, n: int) -> None:
    for i in range(n):
        if i % 2 == 0:
            name, args = "search", {"subject": "Quarterly"}
        else:
            name, args = "fetch_message", {"message_ref": ref}
        start = time.perf_counter()
        result = await call(name, args)
        samples[name].append(time.perf_counter() - start)
        if getattr(result, "is_error", False):
            raise RuntimeError(f"{name}: {result.content[0].text}")


async def _ref(call: Any) -> str:
    found = await call("search", {"subject": "Quarterly"})
    return str(found.structured_content["items"][0]["meta"]["message_ref"])


async def bench_http(url: str, sessions: int, calls: int) -> dict[str, Any]:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from mcp import Client

    samples: dict[str, list[float]] = {"search": [], "fetch_message": []}
    per_session = max(2, calls // sessions)
    go = anyio.Event()
    ready = 0
    all_ready = anyio.Event()

    finished = 0.0

    async def session() -> None:
        nonlocal ready, finished
        async with (
            httpx2.AsyncClient(timeout=120) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            ref = await _ref(client.call_tool)
            ready += 1
            if ready == sessions:
                all_ready.set()
            await go.wait()  # time the calls, not the session setup
            await _one(client.call_tool, samples, ref, per_session)
            finished = max(finished, time.perf_counter())  # nor its teardown

    async with anyio.create_task_group() as tg:
        for _ in range(sessions):
            tg.start_soon(session)
        await all_ready.wait()
        start = time.perf_counter()
        go.set()
    wall = finished - start
    total = sum(len(v) for v in samples.values())
    return {"samples": samples, "calls": total, "wall": wall}


async def bench_stdio(config: Path, calls: int, work: Path) -> dict[str, Any]:
    samples: dict[str, list[float]] = {"search": [], "fetch_message": []}
    async with McpStdioSession(
        sys.executable,
        ["-m", "mailguard_mcp", "serve", "--config", str(config)],
        env={**os.environ, "MAILGUARD_REPLICA": "stdio"},
        stderr_path=work / "stdio.log",
    ) as session:
        call = session.session.call_tool
        ref = await _ref(call)
        start = time.perf_counter()
        await _one(call, samples, ref, calls)
        wall = time.perf_counter() - start
    return {"samples": samples, "calls": sum(len(v) for v in samples.values()), "wall": wall}


async def idle_memory(url: str, pid: int, count: int) -> tuple[float, float]:
    """RSS (MB) before and after ``count`` legacy (2025-era) sessions are open and idle."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from mcp import Client

    before = (process_memory(pid) or {}).get("rss_mb", 0.0)
    opened = anyio.Event()
    ready = 0

    async def hold(done: anyio.Event) -> None:
        nonlocal ready
        async with (
            httpx2.AsyncClient(timeout=120) as http,
            Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
        ):
            await client.list_tools()
            ready += 1
            if ready == count:
                opened.set()
            await done.wait()

    done = anyio.Event()
    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(hold, done)
        with anyio.fail_after(120):
            await opened.wait()
        await anyio.sleep(1.0)
        after = (process_memory(pid) or {}).get("rss_mb", 0.0)
        done.set()
    return before, after


def _row(label: str, run: dict[str, Any]) -> list[object]:
    s, f = summarize(run["samples"]["search"]), summarize(run["samples"]["fetch_message"])
    return [
        label,
        run["calls"],
        f"{run['calls'] / run['wall']:.1f}",
        f"{s['p50']:.1f}",
        f"{s['p95']:.1f}",
        f"{f['p50']:.1f}",
        f"{f['p95']:.1f}",
    ]


async def main_async(calls: int) -> str:
    work = Path(tempfile.mkdtemp(prefix="bench-http-"))
    port = free_port()
    config = write_config(work, port)
    rows: list[list[object]] = []
    stdio = await bench_stdio(config, calls, work)
    rows.append(_row("stdio, 1 session", stdio))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mailguard_mcp",
            "serve",
            "--config",
            str(config),
            "--http",
            f"127.0.0.1:{port}",
        ],
        env={**os.environ, "MAILGUARD_REPLICA": "http"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(work / "http.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        import socket

        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the HTTP server did not start") from None
                time.sleep(0.1)
        await bench_http(url, 1, 10)  # warm-up
        for level in LEVELS:
            run = await bench_http(url, level, calls)
            rows.append(_row(f"HTTP, {level} session(s)", run))
        before, after = await idle_memory(url, server.pid, IDLE_SESSIONS)
    finally:
        server.terminate()
        server.wait(30)
    table = markdown_table(
        [
            "transport",
            "calls",
            "calls/s",
            "search p50 ms",
            "search p95 ms",
            "fetch p50 ms",
            "fetch p95 ms",
        ],
        rows,
    )
    per = (after - before) * 1024.0 / IDLE_SESSIONS
    return (
        table + f"\n\nidle sessions: {IDLE_SESSIONS} legacy sessions open: RSS {before:.1f} MB -> "
        f"{after:.1f} MB, {per:.0f} kB per idle session\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per level")
    args = parser.parse_args(argv)
    print(anyio.run(main_async, args.calls))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
