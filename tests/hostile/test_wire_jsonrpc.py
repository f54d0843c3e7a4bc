"""Malformed JSON-RPC gets a JSON-RPC error reply over the real stdio transport (issue 12,
item 10): ``mailguard-mcp demo`` runs as a subprocess and the test writes raw lines to its
stdin. Before the fix the SDK dropped every such line silently and the client waited for its
own timeout."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard_mcp.stdio_guard import error_reply

TIMEOUT = 15.0


class Wire:
    """A raw line-oriented JSON-RPC session with a subprocess (bounded reads)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self._sel = selectors.DefaultSelector()
        self._sel.register(proc.stdout, selectors.EVENT_READ)
        self._buffer = b""
        self._ids = iter(range(1_000, 10**9))

    def send(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()

    def read(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sel.select(left):
                raise TimeoutError("no reply line in time")
            assert self.proc.stdout is not None
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            if not chunk:
                raise EOFError("server closed stdout")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def ping(self) -> int:
        request_id = next(self._ids)
        self.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"}).encode())
        return request_id

    def exchange(self, line: bytes, errors_expected: int) -> list[dict[str, Any]]:
        """Send ``line`` then a ping; the replies until the ping's and the errors expected."""
        self.send(line)
        ping = self.ping()
        replies: list[dict[str, Any]] = []
        got_ping = False
        for _ in range(50):
            if got_ping and sum("error" in r for r in replies) >= errors_expected:
                break
            reply = self.read()
            if reply.get("id") == ping and "result" in reply:
                got_ping = True
            else:
                replies.append(reply)
        assert got_ping
        return replies


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    """One server for the module: every test also proves the session is still in step."""
    tmp_path = tmp_path_factory.mktemp("jsonrpc")
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    with (tmp_path / "stderr.log").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailguard_mcp", "demo"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
        session = Wire(proc)
        try:
            session.send(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": 0,
                        "method": "initialize",
                        "params": {
                            "protocolVersion": "2025-11-25",
                            "capabilities": {},
                            "clientInfo": {"name": "hostile", "version": "0"},
                        },
                    }
                ).encode()
            )
            assert session.read()["id"] == 0
            session.send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
            yield session
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()


DEEP = b'{"jsonrpc": "2.0", "id": 8, "method": "ping", "params": {"x": ' + b"[" * 100_000
GARBAGE: list[tuple[str, bytes, int, object]] = [
    ("malformed JSON", b"{not json", -32700, None),
    ("truncated", b'{"jsonrpc": "2.0", "id": 3, "method": "pi', -32700, None),
    ("invalid UTF-8", b"\xff\xfe{\x80}", -32700, None),
    ("top-level array", b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', -32600, None),
    ("empty array", b"[]", -32600, None),
    ("a string", b'"hello"', -32600, None),
    ("a number", b"42", -32600, None),
    (
        "lone surrogate",
        b'{"jsonrpc": "2.0", "id": 7, "method": "ping", "params": {"x": "\\ud800"}}',
        -32600,
        7,
    ),
    ("lone surrogate id", b'{"jsonrpc": "2.0", "id": "\\udfff", "method": 1}', -32600, None),
    ("very deep nesting", DEEP + b"]" * 100_000 + b"}}", -32700, None),
    (
        "5000-digit integer",
        b'{"jsonrpc": "2.0", "id": ' + b"9" * 5000 + b', "method": "ping"}',
        -32700,
        None,
    ),
    ("method not a string", b'{"jsonrpc": "2.0", "id": 9, "method": 5}', -32600, 9),
    ("wrong version", b'{"jsonrpc": "1.0", "id": "x", "method": "ping"}', -32600, "x"),
    ("boolean id", b'{"jsonrpc": "2.0", "id": true, "method": 5}', -32600, None),
]


@pytest.mark.parametrize(
    ("what", "line", "code", "request_id"), GARBAGE, ids=[g[0] for g in GARBAGE]
)
def test_each_kind_of_garbage_gets_its_json_rpc_error(
    wire: Wire, what: str, line: bytes, code: int, request_id: object
) -> None:
    replies = wire.exchange(line, errors_expected=1)
    errors = [r for r in replies if "error" in r]
    assert len(errors) == 1, (what, replies)
    [error] = errors
    assert error["jsonrpc"] == "2.0"
    assert error["error"]["code"] == code, (what, error)
    assert error["id"] == request_id, (what, error)


def test_the_session_survives_all_the_garbage_in_a_row(wire: Wire) -> None:
    for _what, line, _code, _id in GARBAGE:
        wire.send(line)
    errors = [wire.read() for _ in GARBAGE]
    assert sorted(e["error"]["code"] for e in errors) == sorted(g[2] for g in GARBAGE)
    wire.send(b'{"jsonrpc": "2.0", "id": 99, "method": "tools/list"}')
    listed = wire.read()
    assert listed["id"] == 99 and listed["result"]["tools"]


def test_blank_lines_get_no_reply(wire: Wire) -> None:
    assert wire.exchange(b"", errors_expected=0) == []
    assert wire.exchange(b"   \t", errors_expected=0) == []


_LINE_TEXT = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=200
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _LINE_TEXT,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["jsonrpc", "id", "method", "params", "x"]), inner)
    ),
    max_leaves=12,
)
_GARBAGE_LINES = st.one_of(
    st.binary(max_size=200).filter(lambda b: b"\n" not in b and b"\r" not in b),
    _LINE_TEXT.map(str.encode),
    _JSON.map(lambda v: json.dumps(v).encode()),
)


def _expected_code(line: bytes) -> int | None:
    """An oracle that knows nothing of the SDK: -32700 unless Python's json reads the line,
    -32600 for JSON that is not an object; None where it cannot tell (an object: it may be
    a valid message)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", "replace")
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return -32700
    return None if isinstance(value, dict) else -32600


def test_garbage_lines_each_get_an_error_and_the_session_stays_in_step(wire: Wire) -> None:
    """Property: any line is followed by at most one error reply, exactly one of the
    expected code where an independent oracle says so, and the next ping is answered."""

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(_GARBAGE_LINES)
    def check(line: bytes) -> None:
        expected = _expected_code(line)
        if expected is None and error_reply(line.decode("utf-8", "replace")) is not None:
            expected_count = 1
        else:
            expected_count = 0 if expected is None else 1
        replies = wire.exchange(line, errors_expected=expected_count)
        errors = [r for r in replies if "error" in r]
        if expected is not None:
            assert [e["error"]["code"] for e in errors] == [expected], (line, replies)
        assert len(errors) <= 1, (line, replies)

    check()
