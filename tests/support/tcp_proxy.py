"""A loopback TCP proxy for fault tests: forwards, stalls (a silent server) or drops connections.

One background thread multiplexes every connection with ``selectors``; nothing blocks for long.
TLS passes through untouched (the proxy sees bytes only), so a client talks TLS to the real
server behind it::

    with TcpProxy("127.0.0.1", server_port) as proxy:
        settings = attrs.evolve(settings, port=proxy.port)
        proxy.stall()            # bytes stop flowing both ways: the server looks silent
        proxy.resume()
        proxy.drop_connections() # every open connection is reset
        proxy.on_client_data = hook  # called with each chunk the client sent, after forwarding
        proxy.on_server_data = hook  # the same for chunks from the server (before forwarding)
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType

__all__ = ["TcpProxy"]

_TICK = 0.05
_CHUNK = 65536


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``(target_host, target_port)``; see the module docstring."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._peers: dict[socket.socket, socket.socket] = {}
        self._clients: set[socket.socket] = set()
        #: called (in the proxy thread) with every chunk a client sent, after it was forwarded
        self.on_client_data: Callable[[bytes], None] | None = None
        #: called (in the proxy thread) with every chunk the server sent, *before* forwarding;
        #: it may kill the server, so the chunk that triggered it may never reach the client
        self.on_server_data: Callable[[bytes], None] | None = None
        self._lock = threading.Lock()
        self._stalled = threading.Event()
        self._drop = threading.Event()
        self._stop = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(
            target=self._run, name=f"tcp-proxy-{self.port}", daemon=True
        )
        self._thread.start()

    # ----------------------------------------------------------------- control
    def stall(self) -> None:
        """Stop moving bytes in both directions; connections stay open (a silent server)."""
        self._stalled.set()

    def resume(self) -> None:
        self._stalled.clear()

    def drop_connections(self) -> None:
        """Reset every open connection (RST), as if the network dropped them."""
        self._drop.set()
        for _ in range(100):  # bounded wait (<= 5 s) for the loop thread to act
            if not self._drop.is_set():
                return
            self._stop.wait(_TICK)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            for sock in list(self._peers):
                self._close_pair(sock)
        with contextlib.suppress(OSError):
            self._listener.close()
        self._sel.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ----------------------------------------------------------------- loop
    def _close_pair(self, sock: socket.socket, *, reset: bool = False) -> None:
        other = self._peers.pop(sock, None)
        for s in (sock, other):
            if s is None:
                continue
            self._peers.pop(s, None)
            self._clients.discard(s)
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(s)
            if reset:
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                s.close()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        try:
            upstream = socket.create_connection(self._target, timeout=2)
        except OSError:
            client.close()
            return
        client.setblocking(False)
        upstream.setblocking(False)
        self._peers[client] = upstream
        self._clients.add(client)
        self._peers[upstream] = client
        self._sel.register(client, selectors.EVENT_READ, "data")
        self._sel.register(upstream, selectors.EVENT_READ, "data")
        self.accepted += 1

    def _pump(self, sock: socket.socket) -> None:
        other = self._peers.get(sock)
        if other is None:
            return
        try:
            data = sock.recv(_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close_pair(sock)
            return
        server_hook = self.on_server_data
        if server_hook is not None and sock not in self._clients:
            server_hook(data)
        try:
            other.setblocking(True)
            other.settimeout(2)
            other.sendall(data)
            other.setblocking(False)
        except OSError:
            self._close_pair(sock)
            return
        hook = self.on_client_data
        if hook is not None and sock in self._clients:
            hook(data)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._drop.is_set():
                with self._lock:
                    for sock in list(self._peers):
                        self._close_pair(sock, reset=True)
                self._drop.clear()
            try:
                events = self._sel.select(timeout=_TICK)
            except (OSError, ValueError):
                return
            with self._lock:
                for key, _mask in events:
                    if key.data is None:
                        self._accept()
                    elif not self._stalled.is_set():
                        assert isinstance(key.fileobj, socket.socket)
                        self._pump(key.fileobj)
            if self._stalled.is_set() and events:
                # readable sockets stay readable while stalled: don't spin on them
                self._stop.wait(_TICK)
