"""The edge of the IMAP adapter: the imapclient methods it uses, typed, and where errors are mapped.

:class:`ImapSession` is a Protocol over exactly the ``imapclient.IMAPClient`` methods the adapter
calls, with the types imapclient documents (imapclient ships no type information, so without it
mypy checked nothing in the adapter). ``tests/unit/test_imap_session.py`` checks that the
installed ``IMAPClient`` has every one of them with these parameters.

:class:`Edge` is the only way the adapter talks to a session: one object per store action
(``"search"``, ``"move"``...), each method one library call inside
``imap_errors.imap_errors(action)``. So imapclient, imaplib, ssl and socket exceptions are
translated exactly where the library raised them, and nothing else is: an exception raised by
the adapter's own code between two calls (a bug in our parsing of a response: ``ValueError``,
``KeyError``, ``IndexError``...) propagates as itself. It is then an internal error, which
never counts towards the circuit breaker and does not drop a connection that is in step.
The imapclient internals the adapter needs are called here too, through
``imapclient_private``; the one answer the adapter parses from raw server data (ESEARCH) is
parsed here, after the library call, and only its own typed ``MalformedAnswer`` is mapped
(``imap_errors.answer_errors``).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from typing import Any, Protocol

from mailguard_core.adapters import imapclient_private
from mailguard_core.adapters.imap_errors import answer_errors, imap_errors
from mailguard_core.adapters.imap_esearch import parse_esearch
from mailguard_core.search.uidset import UidSet

__all__ = ["Edge", "ImapSession"]

#: one fetched message's items (``b"FLAGS"``, ``b"BODY[HEADER]"``...) as imapclient parses them
FetchItems = dict[bytes, Any]


class ImapSession(Protocol):
    """The ``imapclient.IMAPClient`` methods the adapter calls, and nothing else.

    Results are what imapclient returns; values inside a FETCH or STATUS response stay ``Any``
    (imapclient's parser decides their types; the adapter reads them defensively).
    """

    normalise_times: bool

    def has_capability(self, capability: str) -> bool: ...
    def capabilities(self) -> tuple[bytes, ...]: ...
    def starttls(self, ssl_context: ssl.SSLContext | None = None) -> Any: ...
    def socket(self) -> socket.socket: ...
    def login(self, username: str, password: str) -> Any: ...
    def plain_login(self, identity: str, password: str) -> Any: ...
    def oauthbearer_login(self, identity: str, access_token: str) -> Any: ...
    def oauth2_login(self, user: str, access_token: str) -> Any: ...
    def noop(self) -> Any: ...
    def logout(self) -> Any: ...
    def shutdown(self) -> None: ...
    def list_folders(self) -> list[tuple[tuple[bytes, ...], bytes | None, Any]]: ...
    def folder_status(self, folder: str, what: Sequence[bytes]) -> dict[bytes, Any]: ...
    def select_folder(self, folder: str, readonly: bool = False) -> dict[bytes, Any]: ...
    def unselect_folder(self) -> Any: ...
    def close_folder(self) -> Any: ...
    def create_folder(self, folder: str) -> Any: ...
    def rename_folder(self, old_name: str, new_name: str) -> Any: ...
    def delete_folder(self, folder: str) -> Any: ...
    def search(self, criteria: list[str]) -> list[int]: ...
    def fetch(self, messages: Sequence[int], data: Sequence[bytes]) -> dict[int, FetchItems]: ...
    def add_flags(self, messages: Sequence[int], flags: Sequence[Any], silent: bool) -> Any: ...
    def remove_flags(self, messages: Sequence[int], flags: Sequence[Any], silent: bool) -> Any: ...
    def add_gmail_labels(
        self, messages: Sequence[int], labels: Sequence[str], silent: bool
    ) -> Any: ...
    def remove_gmail_labels(
        self, messages: Sequence[int], labels: Sequence[str], silent: bool
    ) -> Any: ...
    def copy(self, messages: Sequence[int], folder: str) -> Any: ...
    def move(self, messages: Sequence[int], folder: str) -> Any: ...
    def uid_expunge(self, messages: Sequence[int]) -> Any: ...
    def append(self, folder: str, msg: bytes, flags: Sequence[str] = ()) -> Any: ...


class Edge:
    """An :class:`ImapSession` for one action: every call's library errors are translated by
    ``imap_errors(action)``; see the module docstring."""

    __slots__ = ("_session", "action")

    def __init__(self, session: ImapSession, action: str) -> None:
        self._session = session
        self.action = action

    # --------------------------------------------------------------- connection
    def has_capability(self, capability: str) -> bool:
        with imap_errors(self.action):
            return self._session.has_capability(capability)

    def capabilities(self) -> tuple[bytes, ...]:
        with imap_errors(self.action):
            return tuple(self._session.capabilities())

    def starttls(self, context: ssl.SSLContext) -> None:
        with imap_errors(self.action):
            self._session.starttls(context)

    def tls_facts(self) -> tuple[bool, bytes | None, str | None]:
        """Whether the socket speaks TLS, the server's leaf certificate (DER) and the TLS
        version (a test's plain socket: ``(False, None, None)``)."""
        with imap_errors(self.action):
            sock = self._session.socket()
            getpeercert = getattr(sock, "getpeercert", None)
            if getpeercert is None:
                return False, None, None
            der: bytes | None = getpeercert(binary_form=True)
            version = getattr(sock, "version", None)
            return True, der, version() if callable(version) else None

    def login(self, username: str, password: str) -> None:
        with imap_errors(self.action):
            self._session.login(username, password)

    def plain_login(self, identity: str, password: str) -> None:
        with imap_errors(self.action):
            self._session.plain_login(identity, password)

    def oauthbearer_login(self, identity: str, access_token: str) -> None:
        with imap_errors(self.action):
            self._session.oauthbearer_login(identity, access_token)

    def oauth2_login(self, user: str, access_token: str) -> None:
        with imap_errors(self.action):
            self._session.oauth2_login(user, access_token)

    def noop(self) -> None:
        with imap_errors(self.action):
            self._session.noop()

    # --------------------------------------------------------------- folders
    def list_folders(self) -> list[tuple[tuple[bytes, ...], bytes | None, Any]]:
        with imap_errors(self.action):
            return self._session.list_folders()

    def folder_status(self, folder: str, what: Sequence[bytes]) -> dict[bytes, Any]:
        with imap_errors(self.action):
            return self._session.folder_status(folder, what)

    def select_folder(self, folder: str, *, readonly: bool) -> dict[bytes, Any]:
        with imap_errors(self.action):
            return self._session.select_folder(folder, readonly=readonly)

    def unselect_folder(self) -> None:
        with imap_errors(self.action):
            self._session.unselect_folder()

    def close_folder(self) -> None:
        with imap_errors(self.action):
            self._session.close_folder()

    def create_folder(self, folder: str) -> None:
        with imap_errors(self.action):
            self._session.create_folder(folder)

    def rename_folder(self, old_name: str, new_name: str) -> None:
        with imap_errors(self.action):
            self._session.rename_folder(old_name, new_name)

    def delete_folder(self, folder: str) -> None:
        with imap_errors(self.action):
            self._session.delete_folder(folder)

    # --------------------------------------------------------------- messages
    def search(self, criteria: list[str]) -> list[int]:
        with imap_errors(self.action):
            return self._session.search(criteria)

    def uid_search(self, args: Sequence[bytes]) -> list[int]:
        """``UID SEARCH`` with arguments already on the wire's terms (imapclient_private)."""
        with imap_errors(self.action):
            return imapclient_private.uid_search(self._session, args)

    def uid_esearch(self, args: Sequence[bytes]) -> UidSet:
        """``UID SEARCH RETURN (ALL)`` (ESEARCH, RFC 4731; imapclient_private) with arguments
        already on the wire's terms; the answer parsed strictly (``imap_esearch``)."""
        with imap_errors(self.action):
            tag, responses = imapclient_private.uid_esearch(self._session, args)
        with answer_errors(self.action):
            return parse_esearch(responses, tag=tag)

    def fetch(self, uids: Sequence[int], items: Sequence[bytes]) -> dict[int, FetchItems]:
        with imap_errors(self.action):
            return self._session.fetch(uids, items)

    def add_flags(self, uids: Sequence[int], flags: Sequence[Any]) -> None:
        with imap_errors(self.action):
            self._session.add_flags(uids, flags, silent=True)

    def remove_flags(self, uids: Sequence[int], flags: Sequence[Any]) -> None:
        with imap_errors(self.action):
            self._session.remove_flags(uids, flags, silent=True)

    def add_gmail_labels(self, uids: Sequence[int], labels: Sequence[str]) -> None:
        with imap_errors(self.action):
            self._session.add_gmail_labels(uids, labels, silent=True)

    def remove_gmail_labels(self, uids: Sequence[int], labels: Sequence[str]) -> None:
        with imap_errors(self.action):
            self._session.remove_gmail_labels(uids, labels, silent=True)

    def take_copyuid(self) -> list[Any]:
        """The last ``COPYUID`` response code's data, cleared (imapclient_private)."""
        with imap_errors(self.action):
            return imapclient_private.take_copyuid(self._session)

    def copy(self, uids: Sequence[int], folder: str) -> None:
        with imap_errors(self.action):
            self._session.copy(uids, folder)

    def move(self, uids: Sequence[int], folder: str) -> None:
        with imap_errors(self.action):
            self._session.move(uids, folder)

    def uid_expunge(self, uids: Sequence[int]) -> None:
        with imap_errors(self.action):
            self._session.uid_expunge(uids)

    def append(self, folder: str, data: bytes, flags: Sequence[str]) -> Any:
        with imap_errors(self.action):
            return self._session.append(folder, data, flags=flags)
