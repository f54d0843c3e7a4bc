"""The connection side of ``ImapMailStore``: connect, log in, run one command at a time, reconnect.

Connections: implicit TLS or STARTTLS only. STARTTLS must be offered before login, else the
connection is refused (never downgraded); credentials are sent only after TLS is up and, when
``pin_sha256`` is set, after the leaf certificate matched the pin (with a pin, CA validation is
replaced by that exact-certificate check). Connect (and greeting) and command timeouts come from
the settings. The store connects lazily; a connection that broke or timed out is dropped and
the next call opens a new one (read-only calls retry once at once on a connection that turned
out to be dead). A response that could not be read whole (a line over imaplib's limit) or
parsed drops the connection too: the rest of it must never be read as the next answer.

Errors and the circuit breaker (``imap_errors.imap_errors``, applied at each library call by
``imap_session.Edge``; the adapter's own code is never wrapped): a server's BAD or NO is an
answer to the values sent (``RefusedByServer``, never counted) unless its response code names
the server's own trouble (UNAVAILABLE, SERVERBUG, CORRUPTION, INUSE); an unreadable response is
``UnreadableResponse`` (not counted: an email can cause it); connection loss, timeouts, TLS
failures and those response codes count.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import imapclient  # type: ignore[import-untyped]

from mailguard_core.adapters.imap_errors import ConnectionLost, OutOfStep, imap_errors
from mailguard_core.adapters.imap_repair import PendingMove, repair_move
from mailguard_core.adapters.imap_session import Edge, ImapSession
from mailguard_core.adapters.imap_support import (
    check_pin,
    imap_login,
    tls_context,
)
from mailguard_core.adapters.mail_common import (
    check_refs,
    validate_folder_name,
)
from mailguard_core.adapters.tls_probe import (
    GREETING_PROBE_SECONDS,
    implicit_tls_port,
    speaks_tls,
)
from mailguard_core.config import ImapSettings
from mailguard_core.model.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    MailguardError,
    MessageNotFound,
    OperationTimeout,
    StaleReference,
    TLSError,
)
from mailguard_core.model.oauth import oauth_mechanism, token_refused
from mailguard_core.model.values import (
    MessageRef,
)
from mailguard_core.ports.secrets import Secret
from mailguard_core.ports.tokens import TokenProvider

__all__ = ["ImapConnection"]

T = TypeVar("T")
_GMAIL = "X-GM-EXT-1"


def as_text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def flag_set(raw: Iterable[Any]) -> frozenset[str]:
    return frozenset(as_text(f) for f in raw if as_text(f).lower() != "\\recent")


class ImapConnection:
    """``MailStore`` over IMAP. See the module docstring for the connection rules.

    Args:
        account: the account name carried by refs.
        settings: host, port, TLS mode, optional pin / CA file, timeouts, username.
        password: called at (re)connect time; its value goes only to LOGIN, or to
            AUTHENTICATE PLAIN (UTF-8) when it is not ASCII (see ``imap_login``).
        tokens: with ``settings.auth == "oauth2"``: the account's access tokens, sent with
            OAUTHBEARER (RFC 7628) when the server offers it, else XOAUTH2; a refused token
            is invalidated and a fresh one tried once on the same connection.
        client_factory: tests only: returns an already connected client-like object
            (TLS and pin checks are then the factory's business).
    """

    def __init__(
        self,
        account: str,
        settings: ImapSettings,
        password: Callable[[], Secret],
        *,
        client_factory: Callable[[], ImapSession] | None = None,
        tokens: TokenProvider | None = None,
    ) -> None:
        self._account = account
        self._settings = settings
        self._password = password
        self._tokens = tokens
        #: the SASL mechanism (or LOGIN) of the current connection
        self._mechanism: str | None = None
        self._factory = client_factory
        self._client: ImapSession | None = None
        self._selected: tuple[str, bool, int] | None = None  # folder, read-only, uidvalidity
        self._caps: frozenset[str] = frozenset()
        self._tls_version: str | None = None
        self._cert_sha256: str | None = None
        self._last_used = time.monotonic()
        self._lock = threading.RLock()
        #: seconds of idleness after which a non-repeatable command is preceded by a NOOP
        self.probe_after = 10.0
        #: moves interrupted by a broken connection, repaired on the next connection
        self._pending: list[PendingMove] = []

    # ------------------------------------------------------------------ connection
    @property
    def account(self) -> str:
        return self._account

    def _connect(self) -> ImapSession:
        s = self._settings
        if self._factory is not None:
            with imap_errors("connect"):
                client = self._factory()
        else:
            ctx = tls_context(s)
            client = self._open(ctx)
            try:
                edge = Edge(client, "starttls")
                if s.tls == "starttls":
                    if not edge.has_capability("STARTTLS"):
                        raise TLSError("the server does not offer STARTTLS; refusing plaintext")
                    edge.starttls(ctx)
                has_tls, der, self._tls_version = edge.tls_facts()
                self._cert_sha256 = check_pin(has_tls, der, s.pin_sha256)
            except BaseException:
                self._kill(client)
                raise
        client.normalise_times = False
        try:
            edge = Edge(client, "login")
            self._login(edge)
            self._caps = frozenset(as_text(c).upper() for c in edge.capabilities())
        except BaseException:
            self._kill(client)
            raise
        return client

    def _open(self, ctx: ssl.SSLContext) -> ImapSession:
        """Connect and read the greeting. With STARTTLS, a greeting that has not come after
        ``GREETING_PROBE_SECONDS`` makes a second connection check whether the port speaks
        implicit TLS (a named error at once, instead of waiting out the whole timeout); if it
        does not, the connection is tried again with the full timeout (a slow server)."""
        s = self._settings

        def connect(connect_timeout: float) -> ImapSession:
            with imap_errors("connect"):
                timeout = imapclient.SocketTimeout(connect=connect_timeout, read=s.command_timeout)
                client: ImapSession = imapclient.IMAPClient(
                    s.host, port=s.port, ssl=s.tls == "implicit", ssl_context=ctx, timeout=timeout
                )
                return client

        if s.tls != "starttls" or s.connect_timeout <= GREETING_PROBE_SECONDS:
            return connect(s.connect_timeout)
        try:
            return connect(GREETING_PROBE_SECONDS)
        except OperationTimeout:
            if speaks_tls(s.host, s.port):
                raise implicit_tls_port("connect") from None
        return connect(s.connect_timeout)

    def _login(self, client: Edge) -> None:
        s = self._settings
        if s.auth != "oauth2":
            imap_login(client, s.username, self._password().reveal())
            self._mechanism = "LOGIN"
            return
        if self._tokens is None:
            raise ConfigError(f"account {self._account!r}: auth = 'oauth2' without a token source")
        caps = [as_text(c).upper() for c in client.capabilities()]
        mechanism = oauth_mechanism(c.removeprefix("AUTH=") for c in caps if c.startswith("AUTH="))
        if mechanism is None:
            raise AuthenticationFailed(
                "the IMAP server offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2",
                public="the IMAP server offers no OAuth2 sign-in (AUTH=OAUTHBEARER or "
                "AUTH=XOAUTH2); use auth = 'password' for it",
            )
        for attempt in range(2):
            token = self._tokens.access_token()
            try:
                if mechanism == "OAUTHBEARER":
                    client.oauthbearer_login(s.username, token.reveal())
                else:
                    client.oauth2_login(s.username, token.reveal())
            except AuthenticationFailed:
                # the server refused the token: forget it, get a fresh one, try once more
                self._tokens.invalidate(token)
                if attempt == 0:
                    continue
                raise AuthenticationFailed(
                    f"IMAP {mechanism}: a freshly obtained token was refused",
                    public=token_refused(self._account, "IMAP"),
                ) from None
            self._mechanism = mechanism
            return

    @staticmethod
    def _kill(client: ImapSession) -> None:
        try:
            client.shutdown()
        except Exception:  # closing a connection given up on: whatever happens, it is gone
            pass

    def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            self._kill(client)

    def _probe(self) -> None:
        """Before a non-repeatable command on a long-idle connection, check it still lives.

        A server restarted while we were idle would otherwise fail the APPEND/MOVE/EXPUNGE
        itself, which cannot be retried blindly; a failed NOOP just means "reconnect".
        """
        if self._client is None or time.monotonic() - self._last_used < self.probe_after:
            return
        try:
            Edge(self._client, "noop").noop()
        except (ConnectionLost, OperationTimeout, TLSError, OutOfStep):
            self._drop()

    def _run(self, action: str, fn: Callable[[Edge], T], *, idempotent: bool = False) -> T:
        with self._lock:  # one IMAP conversation at a time, whatever thread calls
            return self._run_locked(action, fn, idempotent=idempotent)

    def _run_locked(self, action: str, fn: Callable[[Edge], T], *, idempotent: bool) -> T:
        """``fn`` over the connection (opened if needed), with library errors translated at
        each call (:class:`Edge`); a connection error drops the connection, and an idempotent
        call whose idle connection turned out dead is tried once more on a new one. Any other
        exception (a bug of ours) propagates as itself and leaves the connection in place."""
        if not idempotent:
            self._probe()
        try:
            for attempt in range(2):
                client = self._client
                fresh = client is None
                if client is None:
                    client = self._client = self._connect()
                try:
                    if fresh and self._pending:
                        self._repair_moves(Edge(client, "repair move"))
                    return fn(Edge(client, action))
                except (ConnectionLost, OperationTimeout, TLSError, OutOfStep) as exc:
                    self._drop()  # never reused: it may hold the rest of a response
                    if (
                        isinstance(exc, ConnectionLost)
                        and idempotent
                        and not fresh
                        and attempt == 0
                    ):
                        continue  # the connection had died while idle: one new try
                    raise
            raise ConnectionFailed(f"{action}: no usable connection")  # pragma: no cover
        finally:
            self._last_used = time.monotonic()

    # ------------------------------------------------------------------ move repair
    def _repair_moves(self, client: Edge) -> None:
        """Finish the bookkeeping of moves a broken connection interrupted.

        A server killed mid-MOVE (Dovecot's Maildir MOVE is copy-then-expunge) or mid
        COPY/EXPUNGE can leave a message both in the source and as a fresh copy in the
        destination. For each message still in the source, the copy we made (a destination
        UID at or above the UIDNEXT seen before the move, with the same size, internal date
        and header) is expunged, and a ``\\Deleted`` we set is cleared: every message ends up
        exactly once. Originals are never deleted here.
        """
        for journal in list(self._pending):
            try:
                repair_move(client, journal, self._select, has_uidplus="UIDPLUS" in self._caps)
            except (ConnectionLost, OperationTimeout, TLSError, OutOfStep):
                raise  # the connection failed again: keep the journal for the next one
            except MailguardError:
                pass  # e.g. a folder deleted since: nothing left that could be repaired
            self._pending.remove(journal)

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            try:
                client.logout()
            except Exception:  # a last goodbye: whatever happens, the connection is closed
                self._kill(client)

    # ------------------------------------------------------------------ helpers
    def _select(self, client: Edge, folder: str, *, readonly: bool) -> int:
        """Select (or EXAMINE) ``folder`` unless it already is; returns its UIDVALIDITY."""
        validate_folder_name(folder)
        current = self._selected
        if current is not None and current[0] == folder and (readonly or not current[1]):
            return current[2]
        self._selected = None
        info = client.select_folder(folder, readonly=readonly)
        uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        self._selected = (folder, readonly, uidvalidity)
        return uidvalidity

    def _checked(
        self, client: Edge, refs: Sequence[MessageRef], *, readonly: bool
    ) -> dict[str, list[int]]:
        """Select each folder, check UIDVALIDITY and that every uid exists; uids per folder."""
        return {f: list(flags) for f, flags in self._checked_flags(client, refs, readonly).items()}

    def _checked_flags(
        self, client: Edge, refs: Sequence[MessageRef], readonly: bool
    ) -> dict[str, dict[int, frozenset[str]]]:
        """As :meth:`_checked`, with each message's current flags."""
        check_refs(self._account, refs)
        by_folder: dict[str, list[int]] = {}
        flags_of: dict[str, dict[int, frozenset[str]]] = {}
        for ref in refs:
            uids = by_folder.setdefault(ref.folder, [])
            if ref.uid not in uids:
                uids.append(ref.uid)
        for folder, uids in by_folder.items():
            uidvalidity = self._select(client, folder, readonly=readonly)
            for ref in refs:
                if ref.folder == folder and ref.uidvalidity != uidvalidity:
                    raise StaleReference(f"{ref}: UIDVALIDITY is now {uidvalidity}")
            found = client.fetch(uids, [b"FLAGS"])
            missing = [u for u in uids if u not in found]
            if missing:
                raise MessageNotFound(f"{folder}: no uid {missing[0]}")
            flags_of[folder] = {u: flag_set(found[u].get(b"FLAGS", ())) for u in uids}
        return flags_of

    def _ref(self, folder: str, uidvalidity: int, uid: int) -> MessageRef:
        return MessageRef(account=self._account, folder=folder, uidvalidity=uidvalidity, uid=uid)

    def _gmail(self) -> bool:
        return _GMAIL in self._caps
