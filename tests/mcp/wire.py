"""A raw JSON-RPC session with ``mailguard-mcp`` over a subprocess's stdin/stdout.

No SDK client in between: the test sees exactly the bytes on the wire and validates them
itself against the SDK's pydantic models and the tools' output schemas.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

PROTOCOL_VERSION = "2025-11-25"
TIMEOUT = 20.0
MAX_LINE = 8 * 1024 * 1024


class RawSession:
    def __init__(self, process: Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._process = process
        self._out = BufferedByteReceiveStream(process.stdout)
        self._next_id = 1
        self.notifications: list[dict[str, Any]] = []

    async def send(self, message: Mapping[str, Any]) -> None:
        assert self._process.stdin is not None
        await self._process.stdin.send(json.dumps(message).encode() + b"\n")

    async def request(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send one request; return its raw ``result`` (notifications are kept aside)."""
        request_id = self._next_id
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = dict(params)
        await self.send(message)
        with anyio.fail_after(TIMEOUT):
            for _ in range(1000):
                line = await self._out.receive_until(b"\n", MAX_LINE)
                reply = json.loads(line)
                if reply.get("id") != request_id:
                    self.notifications.append(reply)
                    continue
                assert "error" not in reply, reply
                result: dict[str, Any] = reply["result"]
                return result
        raise AssertionError("no reply")  # pragma: no cover

    async def initialize(self) -> dict[str, Any]:
        result = await self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "mailguard-tests", "version": "0"},
            },
        )
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result


@asynccontextmanager
async def raw_session(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, stderr: Path | None = None
) -> AsyncIterator[RawSession]:
    """Start ``python -m mailguard_mcp ARGS`` and speak JSON-RPC with it; the process is
    ended (stdin closed, then killed if it lingers) when the block exits."""
    environment = {**os.environ, **(env or {})}
    err = stderr.open("wb") if stderr is not None else None
    try:
        async with await anyio.open_process(
            [sys.executable, "-m", "mailguard_mcp", *args],
            env=environment,
            stderr=err if err is not None else subprocess.DEVNULL,
        ) as process:
            try:
                yield RawSession(process)
            finally:
                assert process.stdin is not None
                await process.stdin.aclose()
                with anyio.move_on_after(5):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    finally:
        if err is not None:
            err.close()
