"""JSON-RPC error replies for stdin lines the SDK cannot parse, on the SDK's own stdio transport.

The SDK's ``stdio_server`` turns a line it cannot validate as a JSON-RPC message (malformed
JSON, a top-level array, lone surrogates, nesting too deep, a 5000-digit integer...) into an
exception on its read stream, and its dispatcher drops it (``jsonrpc_dispatcher._dispatch``
logs "transport yielded exception" at debug level): the client hears nothing and waits for
its own timeout. JSON-RPC 2.0 asks for an error reply: ``-32700`` (parse error) when the line
is not JSON, ``-32600`` (invalid request) when it is JSON but not a message, with the
request's ``id`` when one can be read, else ``null``.

:func:`checked_stdio` wraps ``stdio_server`` without changing the SDK: it hands it a stdin
that passes through exactly the lines the SDK's own parser
(``mcp_types.jsonrpc_message_adapter``) accepts, and sends the error reply for every other
line through the SDK's write stream (so replies never interleave with the SDK's own output).
Blank lines are skipped without a reply. stdin is read from a private duplicate of fd 0, and
fd 0 points at the null device while serving (as the SDK does when it owns stdin); stdout is
still claimed by the SDK.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from io import TextIOWrapper
from typing import IO, Any, cast

import anyio
import mcp.types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

__all__ = ["checked_stdio", "error_reply"]

#: JSON-RPC 2.0 error codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
#: the largest integer id echoed back (beyond it a client may not read it exactly)
_MAX_ID = 2**53 - 1


def _echoable_id(value: object) -> int | str | None:
    """The request id to echo in an error reply, or None when it cannot be sent back as is."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) <= _MAX_ID:
        return value
    if isinstance(value, str) and len(value) <= 256:
        try:
            value.encode("utf-8")  # a lone surrogate cannot be written back
        except UnicodeEncodeError:
            return None
        return value
    return None


def error_reply(line: str) -> types.JSONRPCError | None:
    """None when the SDK accepts ``line`` as a JSON-RPC message (or it is blank); otherwise
    the error reply JSON-RPC asks for."""
    if not line.strip():
        return None
    try:
        types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except Exception:  # whatever the SDK's parser refuses gets a reply
        pass
    else:
        return None
    try:
        value: Any = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, too deep, a number too long to read
        return types.JSONRPCError(
            jsonrpc="2.0",
            id=None,
            error=types.ErrorData(code=PARSE_ERROR, message="Parse error"),
        )
    request_id = _echoable_id(value.get("id")) if isinstance(value, dict) else None
    return types.JSONRPCError(
        jsonrpc="2.0",
        id=request_id,
        error=types.ErrorData(
            code=INVALID_REQUEST,
            message="Invalid Request: not a JSON-RPC 2.0 message this server accepts",
        ),
    )


class _CheckedLines:
    """The stdin the SDK iterates: every line its parser accepts; others become replies."""

    def __init__(
        self, source: AsyncIterator[str], replies: MemoryObjectSendStream[types.JSONRPCError]
    ) -> None:
        self._source = source
        self._replies = replies

    def __aiter__(self) -> _CheckedLines:
        return self

    async def __anext__(self) -> str:
        while True:
            try:
                line = await self._source.__anext__()
            except StopAsyncIteration:
                self._replies.close()
                raise
            reply = error_reply(line)
            if reply is None:
                return line
            if line.strip():
                await self._replies.send(reply)  # waits while the client is not reading


@contextlib.contextmanager
def _private_stdin() -> Iterator[IO[bytes]]:
    """stdin's bytes from a private duplicate of fd 0; fd 0 reads the null device meanwhile.

    The duplicate is never closed (a worker thread may still be blocked reading it when
    serving ends); fd 0 is restored on exit.
    """
    try:
        fd = sys.stdin.fileno()
        private = os.dup(fd)
    except (AttributeError, OSError, ValueError):  # no real stdin (embedded, tests)
        yield sys.stdin.buffer
        return
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)
    try:
        yield os.fdopen(private, "rb", closefd=False)
    finally:
        with contextlib.suppress(OSError):
            os.dup2(private, fd)


async def _forward(replies: MemoryObjectReceiveStream[types.JSONRPCError], write: Any) -> None:
    async with replies, write:  # closing the clone lets the SDK's writer finish
        async for reply in replies:
            await write.send(SessionMessage(reply))


@contextlib.asynccontextmanager
async def checked_stdio() -> AsyncIterator[tuple[Any, Any]]:
    """``stdio_server()``'s ``(read, write)`` streams, with an error reply for every line it
    would drop (see the module docstring)."""
    send, receive = anyio.create_memory_object_stream[types.JSONRPCError](0)
    with _private_stdin() as raw:
        text = TextIOWrapper(raw, encoding="utf-8", errors="replace")
        lines = _CheckedLines(aiter(anyio.wrap_file(text)), send)
        async with (
            stdio_server(stdin=cast(Any, lines)) as (read, write),
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(_forward, receive, write.clone())
            try:
                yield read, write
            finally:
                tg.cancel_scope.cancel()
