"""Fault tests for ImapMailStore against a real Dovecot: restarts, drops, silence, crashes."""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.model.errors import ConnectionFailed, OperationTimeout
from mailguard_core.model.values import SearchCriteria
from mailguard_core.ports.secrets import Secret
from tests.support.dovecot import DovecotServer, dovecot_available, start_dovecot
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.dovecot

FAST = {"connect_timeout": 1.0, "command_timeout": 1.0}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    """A Dovecot of this module's own: these tests kill and restart it."""
    if not dovecot_available():
        pytest.skip("dovecot is not on PATH (install dovecot-imapd to run IMAP tests)")
    srv = start_dovecot(Path(tmp_path_factory.mktemp("faults")), tmpfs_bytes=256 << 20)
    yield srv
    srv.destroy()


@pytest.fixture
def user(server: DovecotServer) -> tuple[str, str]:
    server.start()  # a previous test may have left it stopped
    return server.add_user()


def _store(server: DovecotServer, user: tuple[str, str], port: int | None = None) -> ImapMailStore:
    name, password = user
    settings = server.imap_settings(name, **FAST)
    if port is not None:
        settings = attrs.evolve(settings, port=port)
    return ImapMailStore("acct", settings, lambda: Secret(password))


def _msg(i: int) -> bytes:
    return f"Message-ID: <m{i}@test>\r\nSubject: message {i}\r\n\r\nbody {i}\r\n".encode()


def test_a_restarted_server_is_reconnected_on_the_next_call(
    server: DovecotServer, user: tuple[str, str]
) -> None:
    """After the server is killed and restarted, the next call reconnects and succeeds."""
    server.deliver_many(user[0], "INBOX", [_msg(i) for i in range(3)])
    store = _store(server, user)
    try:
        assert store.search("INBOX", SearchCriteria(), limit=10).total == 3
        server.restart()
        assert store.search("INBOX", SearchCriteria(), limit=10).total == 3
    finally:
        store.close()


def test_an_append_after_an_idle_restart_reconnects_instead_of_failing(
    server: DovecotServer, user: tuple[str, str]
) -> None:
    """A non-repeatable command on a long-idle connection is preceded by a NOOP probe."""
    store = _store(server, user)
    try:
        store.list_folders()
        store.probe_after = 0.0  # treat the connection as long idle
        server.restart()
        ref = store.append("INBOX", _msg(1))
        assert ref is not None and store.fetch(ref).data == _msg(1)
    finally:
        store.close()


def test_a_call_while_the_server_is_down_fails_typed_and_the_next_one_recovers(
    server: DovecotServer, user: tuple[str, str]
) -> None:
    """With the server down a call raises ConnectionFailed; once it is back, calls work."""
    store = _store(server, user)
    try:
        store.list_folders()
        server.stop()
        with pytest.raises(ConnectionFailed) as info:
            store.list_folders()
        assert "Errno" not in info.value.public_message
        server.start()
        assert any(f.name == "INBOX" for f in store.list_folders())
    finally:
        store.close()


def test_a_dropped_connection_is_reopened_on_the_next_call(
    server: DovecotServer, user: tuple[str, str]
) -> None:
    """A connection reset between calls is replaced transparently."""
    server.deliver_many(user[0], "INBOX", [_msg(1)])
    with TcpProxy(server.host, server.imaps_port) as proxy:
        store = _store(server, user, proxy.port)
        try:
            assert store.search("INBOX", SearchCriteria(), limit=5).total == 1
            proxy.drop_connections()
            assert store.search("INBOX", SearchCriteria(), limit=5).total == 1
            assert proxy.accepted == 2
        finally:
            store.close()


def test_a_silent_server_times_out_at_connect(server: DovecotServer, user: tuple[str, str]) -> None:
    """A server that never greets makes the call fail with OperationTimeout, promptly."""
    with TcpProxy(server.host, server.imaps_port) as proxy:
        proxy.stall()
        store = _store(server, user, proxy.port)
        started = time.monotonic()
        with pytest.raises(OperationTimeout):
            store.list_folders()
        assert time.monotonic() - started < 5


def test_a_server_that_stops_answering_mid_session_times_out_then_recovers(
    server: DovecotServer, user: tuple[str, str]
) -> None:
    """A command with no answer fails with OperationTimeout; after that, a new call works."""
    with TcpProxy(server.host, server.imaps_port) as proxy:
        store = _store(server, user, proxy.port)
        try:
            store.list_folders()
            proxy.stall()
            started = time.monotonic()
            with pytest.raises(OperationTimeout):
                store.search("INBOX", SearchCriteria(), limit=5)
            assert time.monotonic() - started < 5
            proxy.resume()
            assert store.search("INBOX", SearchCriteria(), limit=5).total == 0
        finally:
            store.close()


def _message_ids(server: DovecotServer, user: tuple[str, str], folder: str) -> list[str]:
    import ssl

    ctx = ssl.create_default_context(cafile=str(server.cert_path))
    c = IMAPClient(server.host, port=server.imaps_port, ssl=True, ssl_context=ctx, timeout=10)
    try:
        c.login(*user)
        c.select_folder(folder, readonly=True)
        uids = c.search(["ALL"])
        if not uids:
            return []
        data = c.fetch(uids, [b"BODY.PEEK[HEADER]"])
        return [
            str(email.message_from_bytes(v[b"BODY[HEADER]"])["Message-ID"]) for v in data.values()
        ]
    finally:
        c.logout()


@pytest.mark.parametrize("kill_after", [0.0, 0.03, 0.08])
def test_a_server_killed_during_a_move_leaves_every_message_exactly_once(
    server: DovecotServer, user: tuple[str, str], kill_after: float
) -> None:
    """Killed at some point of a large MOVE, then restarted: no message is lost or doubled.

    Dovecot's Maildir MOVE is copy-then-expunge, so a kill can leave both copies; the store
    repairs that on its next connection. The client talks plaintext IMAP through the proxy
    here (TLS is tested elsewhere) so that the proxy can see the MOVE command go by.
    """
    count = 1500
    server.deliver_many(user[0], "INBOX", [_msg(i) for i in range(count)])
    with TcpProxy(server.host, server.imap_port) as proxy:
        name, password = user
        store = ImapMailStore(
            "acct",
            server.imap_settings(name, tls="starttls"),
            lambda: Secret(password),
            client_factory=lambda: IMAPClient(server.host, port=proxy.port, ssl=False, timeout=10),
        )
        try:
            refs = []
            cursor = None
            for _ in range(10):
                page = store.search("INBOX", SearchCriteria(), limit=500, cursor=cursor)
                refs.extend(page.refs)
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert len(refs) == count
            timers: list[threading.Timer] = []

            def kill_on_move(data: bytes) -> None:
                if b"MOVE" in data:
                    proxy.on_client_data = None
                    timer = threading.Timer(kill_after, server.stop)
                    timers.append(timer)
                    timer.start()

            proxy.on_client_data = kill_on_move
            try:  # the kill may land before, during or (rarely, on a fast machine) after the move
                store.move(refs, "Archive")
            except ConnectionFailed:
                pass
            assert len(timers) == 1
            for timer in timers:
                timer.join(timeout=10)
            assert not server.running
            server.start()
            store.list_folders()  # the next call on the store repairs the interrupted move
        finally:
            store.close()
    ids = _message_ids(server, user, "INBOX") + _message_ids(server, user, "Archive")
    assert sorted(ids) == sorted(f"<m{i}@test>" for i in range(count))


def test_calls_from_several_threads_are_serialized_on_one_connection(
    server: DovecotServer, user: tuple[str, str]
) -> None:
    """Concurrent callers each get a correct answer (the store holds one IMAP conversation)."""
    server.deliver_many(user[0], "INBOX", [_msg(i) for i in range(5)])
    store = _store(server, user)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                results.append(store.search("INBOX", SearchCriteria(), limit=5).total)
                store.list_folders()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    store.close()
    assert not errors and results == [5] * 40
