"""Hostile input against ImapMailStore and a real Dovecot: nothing can inject IMAP commands.

The store talks plaintext IMAP through a recording proxy here (a test-only client factory;
TLS is tested elsewhere) so the tests can read exactly what went over the wire.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.model.errors import FolderNotFound, InvalidFolderNameError, InvalidSearchError
from mailguard_core.model.values import MessageRef, SearchCriteria
from mailguard_core.ports.secrets import Secret
from tests.support.dovecot import DovecotServer
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.dovecot


@attrs.define
class Wire:
    store: ImapMailStore
    sent: list[bytes]
    server: DovecotServer
    user: str

    def text(self) -> bytes:
        return b"".join(self.sent)


@pytest.fixture
def wire(dovecot: DovecotServer, imap_user: tuple[str, str]) -> Iterator[Wire]:
    name, password = imap_user
    for i in range(3):
        dovecot.deliver(name, "INBOX", f"Subject: normal {i}\r\n\r\nplain body\r\n".encode())
    with TcpProxy(dovecot.host, dovecot.imap_port) as proxy:
        sent: list[bytes] = []
        proxy.on_client_data = sent.append
        store = ImapMailStore(
            "acct",
            dovecot.imap_settings(name, tls="starttls"),
            lambda: Secret(password),
            client_factory=lambda: IMAPClient(dovecot.host, port=proxy.port, ssl=False, timeout=10),
        )
        try:
            yield Wire(store=store, sent=sent, server=dovecot, user=name)
        finally:
            store.close()


def _names(store: ImapMailStore) -> set[str]:
    return {f.name for f in store.list_folders()}


BAD_NAMES = ["x\r\nA1 DELETE INBOX", "x\nA1 DELETE INBOX", "x\rA1", "x\x00y", "x\x1b[0m"]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_folder_names_with_control_characters_never_reach_the_wire(wire: Wire, bad: str) -> None:
    """Every folder-taking operation refuses the name before sending anything."""
    ref = MessageRef(account="acct", folder=bad, uidvalidity=1, uid=1)
    ops = [
        lambda: wire.store.create_folder(bad),
        lambda: wire.store.delete_folder(bad),
        lambda: wire.store.rename_folder("Archive", bad),
        lambda: wire.store.search(bad, SearchCriteria(), limit=5),
        lambda: wire.store.append(bad, b"Subject: x\r\n\r\nx\r\n"),
        lambda: wire.store.fetch(ref),
        lambda: wire.store.move([ref], "Archive"),
    ]
    for op in ops:
        with pytest.raises(InvalidFolderNameError):
            op()
    sent = wire.text()
    assert bad.encode() not in sent
    assert b"DELETE INBOX" not in sent
    assert not any(line.startswith(b"A1") for line in sent.split(b"\r\n"))


@pytest.mark.parametrize(
    "name",
    [
        'x" DELETE "INBOX',
        'INBOX" DELETE "Archive',
        "a) (b",
        "{4}",
        'back\\"slash',
        "*",
        "%",
        "home~etc",
    ],
)
def test_quotes_and_syntax_in_a_name_make_one_literal_folder(wire: Wire, name: str) -> None:
    """The name is created as exactly one folder with exactly that name; nothing else changes."""
    before = _names(wire.store)
    wire.store.create_folder(name)
    after = _names(wire.store)
    assert after == before | {name}
    ref = wire.store.append(name, b"Subject: inside\r\n\r\nx\r\n")
    assert ref is not None and wire.store.fetch(ref).data == b"Subject: inside\r\n\r\nx\r\n"
    assert wire.store.search("INBOX", SearchCriteria(), limit=10).total == 3
    wire.store.delete_folder(name)
    assert _names(wire.store) == before


def test_wildcards_in_a_name_never_select_other_folders(wire: Wire) -> None:
    """'Work*' and 'Work%' name no folder: deleting or renaming them touches nothing."""
    wire.store.create_folder("Work")
    wire.store.create_folder("Workshop")
    before = _names(wire.store)
    for pattern in ("Work*", "Work%", "*", "%", "W*rk"):
        with pytest.raises(FolderNotFound):
            wire.store.delete_folder(pattern)
        with pytest.raises(FolderNotFound):
            wire.store.rename_folder(pattern, "Renamed")
        with pytest.raises(FolderNotFound):
            wire.store.search(pattern, SearchCriteria(), limit=5)
    assert _names(wire.store) == before


@pytest.mark.parametrize(
    "term",
    ['x" OR ALL "', "x) OR (ALL", '\\" ALL', "*", "%", "{3}", "ALL", '"', "\\"],
)
def test_search_terms_cannot_break_out_of_their_string(wire: Wire, term: str) -> None:
    """A term that would widen the search if unquoted matches nothing here."""
    page = wire.store.search("INBOX", SearchCriteria(subject=term), limit=10)
    assert page.total == 0
    assert b"CHARSET" not in wire.text()


@pytest.mark.parametrize(
    "term", ["x\r\nA1 DELETE INBOX", "x\nA1 LOGOUT", "x\x00", "x\x7f", "{3}\r\nabc"]
)
def test_search_terms_with_line_breaks_never_reach_the_wire(wire: Wire, term: str) -> None:
    """Structured and raw searches refuse control characters before sending anything."""
    with pytest.raises(InvalidSearchError):
        wire.store.search("INBOX", SearchCriteria(text=term), limit=5)
    with pytest.raises(InvalidSearchError):
        wire.store.search_raw("INBOX", f"SUBJECT {term}", limit=5)
    assert b"DELETE" not in wire.text() and b"LOGOUT" not in wire.text()


def test_an_escaped_quote_in_a_raw_expression_stays_inside_the_string(wire: Wire) -> None:
    """'SUBJECT "x\\" OR ALL \\""' searches for the text  x" OR ALL "  and finds nothing."""
    page = wire.store.search_raw("INBOX", 'SUBJECT "x\\" OR ALL \\""', limit=10)
    assert page.total == 0
    assert wire.store.search_raw("INBOX", "SUBJECT normal", limit=10).total == 3


def test_non_ascii_terms_go_as_literals_with_charset_and_ascii_terms_without(wire: Wire) -> None:
    """CHARSET UTF-8 and a literal only when a term is not ASCII."""
    wire.store.search("INBOX", SearchCriteria(subject="normal"), limit=5)
    assert b"CHARSET" not in wire.text()
    wire.sent.clear()
    wire.store.search("INBOX", SearchCriteria(subject="grüße"), limit=5)
    sent = wire.text()
    assert b"CHARSET UTF-8" in sent
    assert b"{" + str(len("grüße".encode())).encode() + b"+}\r\n" + "grüße".encode() in sent
