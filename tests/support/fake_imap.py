"""A fake imapclient session and an ``ImapMailStore`` over it, for the unit tests that drive
the adapter's own code paths (error mapping, ESEARCH paging) without a server. The contract
suites run the same store against a real Dovecot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.config import ImapSettings
from mailguard_core.ports.secrets import Secret


class FakeSession:
    """The calls a store makes to connect and select; subclasses add what a test answers."""

    normalise_times = True
    #: what the fake server advertises
    CAPABILITIES: tuple[bytes, ...] = (b"IMAP4REV1", b"UIDPLUS")

    def __init__(self) -> None:
        self.calls: list[str] = []

    def capabilities(self) -> tuple[bytes, ...]:
        return self.CAPABILITIES

    def login(self, username: str, password: str) -> None:
        self.calls.append("login")

    def shutdown(self) -> None:
        self.calls.append("shutdown")

    def logout(self) -> None: ...

    def select_folder(self, folder: str, readonly: bool = False) -> dict[bytes, Any]:
        return {b"UIDVALIDITY": 7}


S = TypeVar("S", bound=FakeSession)


def fake_imap_store(session: type[S]) -> Iterator[tuple[ImapMailStore, list[S]]]:
    """A store whose every connection is a new ``session()``, and the list of them (a
    generator for a pytest fixture: the store is closed afterwards)."""
    made: list[S] = []

    def factory() -> S:
        made.append(session())
        return made[-1]

    store = ImapMailStore(
        "acct", ImapSettings(host="fake.invalid", username="u"), lambda: Secret("pw"),
        client_factory=factory,
    )  # fmt: skip
    yield store, made
    store.close()
