"""The IMAP adapter's edge (issue 13): the typed session, the private-call shim, and errors
mapped only where the library raised them.

- ``ImapSession`` names methods the installed ``IMAPClient`` really has, with these parameters;
  the two private calls of ``imapclient_private`` exist with the arguments they are given.
- every library exception class is translated at the call that raised it, most specific first;
- a bug in the adapter's own code (its parsing of a response) is never translated: it comes out
  as itself, keeps the connection (it was in step) and does not count towards the breaker; over
  a fake session and over the real imapclient against Dovecot.
"""

from __future__ import annotations

import imaplib
import inspect
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient import exceptions as imap_exc

from mailguard_core.adapters import imap_read, imapclient_private
from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.adapters.imap_errors import ConnectionLost, OutOfStep
from mailguard_core.adapters.imap_session import Edge, ImapSession
from mailguard_core.config import AccountConfig, BreakerSettings, Config
from mailguard_core.model.errors import (
    AuthenticationFailed,
    FolderNotFound,
    InputError,
    MailguardError,
    OperationTimeout,
    ProtocolError,
    RefusedByServer,
    TLSError,
)
from mailguard_core.model.values import MessageRef, SearchCriteria
from mailguard_core.ports.secrets import Secret
from tests.support.dovecot import DovecotServer
from tests.support.fake_imap import FakeSession, fake_imap_store


# ---------------------------------------------------------------- the Protocol is imapclient's
def _protocol_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(ImapSession).items()
        if callable(member) and not name.startswith("_")
    }


def test_every_session_method_exists_on_imapclient_with_these_parameters() -> None:
    methods = _protocol_methods()
    assert len(methods) == 29  # a new call must be added here and to the Protocol at once
    for name, declared in methods.items():
        real = inspect.signature(getattr(IMAPClient, name))
        real_params = list(real.parameters.values())
        for i, param in enumerate(list(declared.parameters.values())):
            # same name at the same position (so positional and keyword calls both fit)
            assert real_params[i].name == param.name, (name, param.name, real)
            if param.default is not param.empty:  # what we may omit, the library may too
                assert real_params[i].default is not param.empty, (name, param.name)
        required = [p for p in real_params[len(declared.parameters) :] if p.default is p.empty]
        assert not required, (name, required)  # the library needs nothing the Protocol omits
    assert "normalise_times" in inspect.getsource(IMAPClient.__init__)


def test_the_private_calls_exist_with_the_arguments_the_shim_gives() -> None:
    raw = inspect.signature(IMAPClient._raw_command_untagged)
    assert list(raw.parameters)[:3] == ["self", "command", "args"]
    assert "response_name" in raw.parameters  # uid_esearch collects ESEARCH, not SEARCH
    # uid_esearch's tag: _raw_command takes imaplib's next tag from these two
    assert "self._imap._new_tag()" in inspect.getsource(IMAPClient._raw_command)
    new_tag = inspect.getsource(imaplib.IMAP4._new_tag)
    assert "self.tagpre" in new_tag and "self.tagnum = self.tagnum + 1" in new_tag
    assert "self.untagged_responses = {}" in inspect.getsource(imaplib.IMAP4.__init__)
    assert "self._imap = self._create_IMAP4()" in inspect.getsource(IMAPClient.__init__)
    assert list(inspect.signature(imaplib.IMAP4.response).parameters) == ["self", "code"]
    # the shim is the only place: no other module of the package names an imapclient internal
    import pathlib

    src = pathlib.Path(imapclient_private.__file__).parent.parent
    users = {
        p.name
        for p in src.rglob("*.py")
        if "._raw_command" in p.read_text() or "._imap." in p.read_text()
    }
    assert users == {"imapclient_private.py"}


# ---------------------------------------------------------------- translation at the call
class _Raising:
    """A session whose every call raises ``exc``."""

    normalise_times = True

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise self.exc

        return call


LIBRARY_ERRORS: list[tuple[BaseException, type[MailguardError]]] = [
    (imap_exc.LoginError("[AUTHENTICATIONFAILED] no"), AuthenticationFailed),
    (imaplib.IMAP4.readonly("folder is read-only"), RefusedByServer),
    (imaplib.IMAP4.abort("socket error: EOF"), ConnectionLost),
    (imap_exc.ProtocolError("unexpected EOF"), OutOfStep),
    (imaplib.IMAP4.error("command: FETCH => got more than 1000000 bytes"), OutOfStep),
    (imaplib.IMAP4.error("select failed: Mailbox doesn't exist: X"), FolderNotFound),
    (imaplib.IMAP4.error("select failed: [SERVERBUG] Internal error"), ProtocolError),
    (imaplib.IMAP4.error("UID command error: BAD [b'Invalid UID']"), RefusedByServer),
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), ConnectionLost),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), TLSError),
    (TimeoutError("timed out"), OperationTimeout),
    (TimeoutError("timed out"), OperationTimeout),
    (ConnectionResetError(104, "Connection reset by peer"), ConnectionLost),
    (BrokenPipeError(32, "Broken pipe"), ConnectionLost),
    (socket.gaierror(-2, "Name or service not known"), ConnectionLost),
    (EOFError(), ConnectionLost),
    (UnicodeEncodeError("ascii", "\u00e9", 0, 1, "ordinal not in range"), InputError),
    (ValueError("No closing '\"'"), OutOfStep),  # imapclient's response lexer
]


@pytest.mark.parametrize(("exc", "expected"), LIBRARY_ERRORS, ids=lambda v: type(v).__name__)
def test_each_library_exception_is_translated_where_the_library_raised_it(
    exc: BaseException, expected: type[MailguardError]
) -> None:
    edge = Edge(_Raising(exc), "fetch")
    with pytest.raises(MailguardError) as caught:
        edge.fetch([1], [b"FLAGS"])
    assert isinstance(caught.value, expected), caught.value
    # most specific first: a read-only folder is not a lost connection, a line too long is
    # not a refusal of the values sent, a lexer's ValueError is not a codec error
    for other in {ConnectionLost, OutOfStep, RefusedByServer, InputError} - {expected}:
        if not issubclass(expected, other):
            assert not isinstance(caught.value, other), (caught.value, other)
    assert caught.value.__cause__ is (None if isinstance(exc, UnicodeError) else exc)


@pytest.mark.parametrize("exc", [KeyError("x"), IndexError("y"), TypeError("z"), AssertionError()])
def test_an_exception_no_library_raises_for_the_server_passes_unchanged(exc: Exception) -> None:
    with pytest.raises(type(exc)) as caught:
        Edge(_Raising(exc), "fetch").fetch([1], [b"FLAGS"])
    assert caught.value is exc


# ---------------------------------------------------------------- a bug of ours is not mapped
class _Session(FakeSession):
    """A fake session with one message whose BODYSTRUCTURE is fine."""

    CAPABILITIES = (b"IMAP4REV1", b"UIDPLUS", b"MOVE")

    def fetch(self, messages: list[int], data: list[bytes]) -> dict[int, dict[bytes, Any]]:
        self.calls.append("fetch")
        leaf = (b"text", b"plain", (b"charset", b"utf-8"), None, None, b"7bit", 10, 1)
        return {1: {b"BODYSTRUCTURE": leaf, b"FLAGS": (b"\\Seen",)}}


BUGS = [ValueError("our parser"), KeyError("our parser"), OSError("our own code"), IndexError()]


@pytest.fixture
def fake() -> Iterator[tuple[ImapMailStore, list[_Session]]]:
    yield from fake_imap_store(_Session)


REF = MessageRef(account="acct", folder="INBOX", uidvalidity=7, uid=1)


@pytest.mark.parametrize("bug", BUGS, ids=lambda e: type(e).__name__)
def test_a_bug_in_our_parsing_comes_out_as_itself_and_keeps_the_connection(
    fake: tuple[ImapMailStore, list[_Session]], bug: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, made = fake
    assert store.get_flags(REF) == frozenset({"\\Seen"})

    def broken(bs: Any, prefix: str = "") -> Iterator[Any]:
        raise bug

    monkeypatch.setattr(imap_read, "walk_bodystructure", broken)
    with pytest.raises(type(bug)) as caught:
        store.attachments(REF)
    assert caught.value is bug  # not an OutOfStep / ConnectionLost (the old mapping)
    assert not isinstance(caught.value, MailguardError)
    assert store.get_flags(REF) == frozenset({"\\Seen"})
    assert len(made) == 1 and "shutdown" not in made[0].calls  # the connection was in step


def test_a_bug_in_our_parsing_never_counts_towards_the_breaker(
    fake: tuple[ImapMailStore, list[_Session]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the gate with a threshold of 1: before issue 13 the OSError was a
    ConnectionLost (counted: the breaker opened); now every bug leaves it closed."""
    from mailguard_core.adapters.memory_audit import InMemoryAuditSink
    from mailguard_core.gate import FakeClock
    from mailguard_core.services.dispatch import ToolGate as Gate

    store, _ = fake
    account = AccountConfig(
        name="acct", address="a@x.example", breaker=BreakerSettings(failure_threshold=1)
    )
    gate = Gate.from_config(Config(accounts=(account,)), InMemoryAuditSink(), clock=FakeClock())
    args = {"message_ref": str(REF)}
    for bug in BUGS:

        def broken(bs: Any, prefix: str = "", bug: Exception = bug) -> Iterator[Any]:
            raise bug

        monkeypatch.setattr(imap_read, "walk_bodystructure", broken)
        with pytest.raises(type(bug)), gate.guard("list_attachments", "acct", args):
            store.attachments(REF)
    monkeypatch.undo()
    with gate.guard("list_attachments", "acct", args):  # admitted: the breaker is closed
        assert store.attachments(REF) == []


# ---------------------------------------------------------------- the same over imapclient
@pytest.fixture(scope="module")
def mailbox(dovecot: DovecotServer) -> tuple[str, str]:
    user, password = dovecot.add_user(password="edge-pass-1")
    dovecot.deliver(user, "INBOX", b"From: a@x.example\r\nSubject: s\r\n\r\nbody\r\n")
    return user, password


@pytest.mark.dovecot
def test_over_imapclient_a_parsing_bug_is_itself_and_a_server_refusal_is_typed(
    dovecot: DovecotServer, mailbox: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, password = mailbox
    opened: list[Any] = []

    def factory() -> Any:
        opened.append(IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10))
        return opened[-1]

    store = ImapMailStore(
        "acct", dovecot.imap_settings(user), lambda: Secret(password), client_factory=factory
    )
    try:
        [ref] = store.search("INBOX", SearchCriteria(), limit=5).refs

        def broken(data: Any) -> Any:
            raise OSError("a bug of ours that looks like a socket error")

        monkeypatch.setattr("mailguard_core.adapters.imap.parse_appenduid", broken)
        with pytest.raises(OSError, match="a bug of ours"):
            store.append("INBOX", b"Subject: appended\r\n\r\nx\r\n")
        monkeypatch.undo()
        assert store.fetch(ref).data.endswith(b"body\r\n")  # the same connection, in step
        with pytest.raises(FolderNotFound):  # the server's own NO is still translated
            store.search("No such folder", SearchCriteria(), limit=5)
        assert len(opened) == 1
    finally:
        store.close()


# ---------------------------------------------------------------- our parsers are total
@pytest.mark.parametrize(
    ("data", "limit", "expected"),
    [
        ([b"7 1:3 10:12"], 3, (7, {1: 10, 2: 11, 3: 12})),
        ([b"COPYUID 7 3,1 5,4"], 2, (7, {3: 5, 1: 4})),
        ([b"7 1:4294967295 1:4294967295"], 3, None),  # never expanded: not a memory bomb
        ([b"7 1::2 3:4"], 2, None),  # malformed: None, not a ValueError of ours
        ([b"7 1,,2 3,4"], 2, None),
        ([b"7 1:2 3"], 2, None),  # sets of different sizes
        ([None], 1, None),
        (["7 12345678901 1"], 1, None),  # a number of more than 10 digits is no UID
    ],
)
def test_copyuid_parsing_is_total_and_bounded(
    data: list[Any], limit: int, expected: tuple[int, dict[int, int]] | None
) -> None:
    from mailguard_core.adapters.imap_support import parse_uid_pairs

    assert parse_uid_pairs(data, limit) == expected
