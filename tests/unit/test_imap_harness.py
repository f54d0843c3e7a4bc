"""The test harness itself: the private Dovecot and the fault-injecting TCP proxy."""

from __future__ import annotations

import socket
import ssl

import pytest
from imapclient import IMAPClient

from tests.support.dovecot import DovecotServer
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.dovecot


def _client(server: DovecotServer, port: int) -> IMAPClient:
    ctx = ssl.create_default_context(cafile=str(server.cert_path))
    return IMAPClient(server.host, port=port, ssl=True, ssl_context=ctx, timeout=5)


def _greeting(s: socket.socket) -> bytes:
    buf = b""
    for _ in range(20):  # the greeting is one line; bounded reads
        buf += s.recv(4096)
        if b"\r\n" in buf:
            break
    return buf


def test_a_fresh_user_sees_delivered_messages_with_their_flags(
    dovecot: DovecotServer, imap_user: tuple[str, str]
) -> None:
    """deliver() writes Maildir files that Dovecot serves with the requested flags."""
    user, password = imap_user
    dovecot.deliver(user, "INBOX", b"Subject: one\r\n\r\nbody\r\n", flags="\\Seen \\Flagged")
    dovecot.deliver(user, "Entwürfe/Sub", b"Subject: two\r\n\r\nbody\r\n")
    c = _client(dovecot, dovecot.imaps_port)
    try:
        c.login(user, password)
        names = {name for _flags, _delim, name in c.list_folders()}
        assert {"INBOX", "Entwürfe/Sub", "Drafts", "Sent", "Trash"} <= names
        c.select_folder("INBOX", readonly=True)
        [uid] = c.search(["ALL"])
        assert set(c.fetch([uid], ["FLAGS"])[uid][b"FLAGS"]) >= {b"\\Seen", b"\\Flagged"}
        c.select_folder("Entwürfe/Sub", readonly=True)
        assert len(c.search(["ALL"])) == 1
    finally:
        c.logout()


def test_the_certificate_fingerprint_matches_what_the_server_presents(
    dovecot: DovecotServer,
) -> None:
    """cert_sha256 is the SHA-256 of the DER leaf certificate the server sends."""
    import hashlib

    c = _client(dovecot, dovecot.imaps_port)
    try:
        der = c._imap.sock.getpeercert(binary_form=True)
        assert hashlib.sha256(der).hexdigest() == dovecot.cert_sha256
    finally:
        c.logout()


def test_a_stalled_proxy_silences_the_server_until_resumed(dovecot: DovecotServer) -> None:
    """While stalled no byte arrives (the greeting waits); after resume it flows again."""
    with TcpProxy(dovecot.host, dovecot.imap_port) as proxy:
        proxy.stall()
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s:
            s.settimeout(0.3)
            with pytest.raises(TimeoutError):
                s.recv(100)
            proxy.resume()
            s.settimeout(5)
            assert _greeting(s).startswith(b"* OK")


def test_dropping_connections_resets_open_sockets(dovecot: DovecotServer) -> None:
    """drop_connections() ends every open connection at once."""
    with (
        TcpProxy(dovecot.host, dovecot.imap_port) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s,
    ):
        assert _greeting(s).startswith(b"* OK")
        proxy.drop_connections()
        s.settimeout(5)
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        assert data == b""


def test_restart_keeps_the_ports_and_the_mail(
    tmp_path: object, dovecot: DovecotServer, imap_user: tuple[str, str]
) -> None:
    """A stopped server is gone; started again it serves the same mailbox on the same ports."""
    from pathlib import Path

    from tests.support.dovecot import start_dovecot

    assert isinstance(tmp_path, Path)
    server = start_dovecot(tmp_path / "own")
    try:
        user, password = server.add_user()
        server.deliver(user, "INBOX", b"Subject: kept\r\n\r\nx\r\n")
        port = server.imaps_port
        server.stop()
        assert not server.running
        server.start()
        assert server.running and server.imaps_port == port
        c = _client(server, port)
        c.login(user, password)
        c.select_folder("INBOX")
        assert len(c.search(["ALL"])) == 1
        c.logout()
    finally:
        server.stop()
