"""``ImapMailStore``: the MailStore port over imapclient (IMAP4rev1 + UIDPLUS/MOVE/SPECIAL-USE).

Connections: implicit TLS or STARTTLS only. STARTTLS must be offered before login, else the
connection is refused (never downgraded); credentials are sent only after TLS is up and, when
``pin_sha256`` is set, after the leaf certificate matched the pin (with a pin, CA validation is
replaced by that exact-certificate check). Connect (and greeting) and command timeouts come from
the settings. The store connects lazily; a connection that broke or timed out is dropped and
the next call opens a new one (read-only calls retry once at once on a connection that turned
out to be dead). A response that could not be read whole (a line over imaplib's limit) or
parsed drops the connection too: the rest of it must never be read as the next answer.

Errors and the circuit breaker (``imap_support.imap_errors``): a server's BAD or NO is an
answer to the values sent (``RefusedByServer``, never counted) unless its response code names
the server's own trouble (UNAVAILABLE, SERVERBUG, CORRUPTION, INUSE); an unreadable response is
``UnreadableResponse`` (not counted: an email can cause it); connection loss, timeouts, TLS
failures and those response codes count.

Wire safety: folder names go through imapclient's modified UTF-7 encoding and quoting after
control characters were refused; search terms are compiled by ``search_query`` into quoted
strings or literals; flags are validated atoms; part ids are validated digits.

Moves use UID MOVE when offered; otherwise UID COPY + STORE \\Deleted + UID EXPUNGE of exactly
the moved UIDs (UIDPLUS); without either the move is refused, never done with a bare EXPUNGE.
Gmail (X-GM-EXT-1): keywords are set and read as X-GM-LABELS.

A few imapclient internals are used where its public API lacks a feature, all in this module:
``_raw_command_untagged`` (SEARCH with our own quoting/literals) and ``_imap.response``
(COPYUID of MOVE/COPY).
"""

from __future__ import annotations

import imaplib
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import imapclient  # type: ignore[import-untyped]
from imapclient import exceptions as imap_exc
from imapclient.response_parser import parse_message_list  # type: ignore[import-untyped]

from mailguard_core.adapters.imap_repair import PendingMove, repair_move
from mailguard_core.adapters.imap_support import (
    ConnectionLost,
    OutOfStep,
    check_pin,
    decode_transfer,
    imap_errors,
    imap_login,
    is_line_too_long,
    parse_appenduid,
    parse_uid_pairs,
    tls_context,
    to_utc,
    walk_bodystructure,
)
from mailguard_core.adapters.mail_common import (
    SYSTEM_FLAGS,
    check_refs,
    validate_flags,
    validate_folder_name,
    validate_part_id,
)
from mailguard_core.adapters.tls_probe import (
    GREETING_PROBE_SECONDS,
    implicit_tls_port,
    speaks_tls,
)
from mailguard_core.config import ImapSettings
from mailguard_core.model.errors import (
    AttachmentNotFound,
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    InputError,
    MailguardError,
    MessageNotFound,
    MessageTooLarge,
    OperationTimeout,
    StaleReference,
    TLSError,
    UnsupportedByServer,
)
from mailguard_core.model.oauth import oauth_mechanism, token_refused
from mailguard_core.model.values import (
    AttachmentInfo,
    FolderInfo,
    Labels,
    MessageRef,
    MessageSummary,
    PartData,
    RawMessage,
    SearchCriteria,
    SearchPage,
    ServerInfo,
)
from mailguard_core.ports.secrets import Secret
from mailguard_core.ports.tokens import TokenProvider
from mailguard_core.search.cursor import (
    decode_cursor,
    page_uids,
    query_fingerprint,
    validate_limit,
)
from mailguard_core.search.query import (
    Key,
    Node,
    criteria_to_node,
    describe,
    flatten_and,
    parse_expression,
    to_imap_args,
)

__all__ = ["ImapMailStore"]

T = TypeVar("T")
_SPECIAL_USES = ("\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged")
_CONVENTIONAL = {
    "\\Drafts": ("drafts", "draft"),
    "\\Sent": ("sent", "sent items", "sent mail"),
    "\\Trash": ("trash", "deleted items", "deleted messages"),
    "\\Junk": ("junk", "spam"),
    "\\Archive": ("archive",),
}
_GMAIL = "X-GM-EXT-1"


def _s(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _flags(raw: Iterable[Any]) -> frozenset[str]:
    return frozenset(_s(f) for f in raw if _s(f).lower() != "\\recent")


class ImapMailStore:
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
        client_factory: Callable[[], Any] | None = None,
        tokens: TokenProvider | None = None,
    ) -> None:
        self._account = account
        self._settings = settings
        self._password = password
        self._tokens = tokens
        #: the SASL mechanism (or LOGIN) of the current connection
        self._mechanism: str | None = None
        self._factory = client_factory
        self._client: Any = None
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

    def _connect(self) -> Any:
        s = self._settings
        if self._factory is not None:
            with imap_errors("connect"):
                client = self._factory()
        else:
            ctx = tls_context(s)
            client = self._open(ctx)
            try:
                with imap_errors("starttls"):
                    if s.tls == "starttls":
                        if not client.has_capability("STARTTLS"):
                            raise TLSError("the server does not offer STARTTLS; refusing plaintext")
                        client.starttls(ctx)
                    sock = client.socket()
                    self._cert_sha256 = check_pin(sock, s.pin_sha256)
                    version = getattr(sock, "version", None)
                    self._tls_version = version() if callable(version) else None
            except BaseException:
                self._kill(client)
                raise
        client.normalise_times = False
        try:
            with imap_errors("login"):
                self._login(client)
                self._caps = frozenset(_s(c).upper() for c in client.capabilities())
        except BaseException:
            self._kill(client)
            raise
        return client

    def _open(self, ctx: Any) -> Any:
        """Connect and read the greeting. With STARTTLS, a greeting that has not come after
        ``GREETING_PROBE_SECONDS`` makes a second connection check whether the port speaks
        implicit TLS (a named error at once, instead of waiting out the whole timeout); if it
        does not, the connection is tried again with the full timeout (a slow server)."""
        s = self._settings

        def connect(connect_timeout: float) -> Any:
            timeout = imapclient.SocketTimeout(connect=connect_timeout, read=s.command_timeout)
            with imap_errors("connect"):
                return imapclient.IMAPClient(
                    s.host, port=s.port, ssl=s.tls == "implicit", ssl_context=ctx, timeout=timeout
                )

        if s.tls != "starttls" or s.connect_timeout <= GREETING_PROBE_SECONDS:
            return connect(s.connect_timeout)
        try:
            return connect(GREETING_PROBE_SECONDS)
        except OperationTimeout:
            if speaks_tls(s.host, s.port):
                raise implicit_tls_port("connect") from None
        return connect(s.connect_timeout)

    def _login(self, client: Any) -> None:
        s = self._settings
        if s.auth != "oauth2":
            imap_login(client, s.username, self._password().reveal())
            self._mechanism = "LOGIN"
            return
        if self._tokens is None:
            raise ConfigError(f"account {self._account!r}: auth = 'oauth2' without a token source")
        caps = [_s(c).upper() for c in client.capabilities()]
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
            except imap_exc.LoginError:
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
    def _kill(client: Any) -> None:
        try:
            client.shutdown()
        except Exception:
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
            with imap_errors("noop"):
                self._client.noop()
        except (ConnectionLost, OperationTimeout, TLSError, OutOfStep):
            self._drop()

    def _run(self, action: str, fn: Callable[[Any], T], *, idempotent: bool = False) -> T:
        with self._lock:  # one IMAP conversation at a time, whatever thread calls
            return self._run_locked(action, fn, idempotent=idempotent)

    def _run_locked(self, action: str, fn: Callable[[Any], T], *, idempotent: bool) -> T:
        if not idempotent:
            self._probe()
        try:
            for attempt in range(2):
                fresh = self._client is None
                if fresh:
                    self._client = self._connect()
                try:
                    with imap_errors(action):
                        if fresh and self._pending:
                            self._repair_moves(self._client)
                        return fn(self._client)
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
    def _repair_moves(self, client: Any) -> None:
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
                with imap_errors("repair move"):
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
            except Exception:
                self._kill(client)

    # ------------------------------------------------------------------ helpers
    def _select(self, client: Any, folder: str, *, readonly: bool) -> int:
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
        self, client: Any, refs: Sequence[MessageRef], *, readonly: bool
    ) -> dict[str, list[int]]:
        """Select each folder, check UIDVALIDITY and that every uid exists; uids per folder."""
        return {f: list(flags) for f, flags in self._checked_flags(client, refs, readonly).items()}

    def _checked_flags(
        self, client: Any, refs: Sequence[MessageRef], readonly: bool
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
            flags_of[folder] = {u: _flags(found[u].get(b"FLAGS", ())) for u in uids}
        return flags_of

    def _ref(self, folder: str, uidvalidity: int, uid: int) -> MessageRef:
        return MessageRef(account=self._account, folder=folder, uidvalidity=uidvalidity, uid=uid)

    def _gmail(self) -> bool:
        return _GMAIL in self._caps

    # ------------------------------------------------------------------ reading
    def server_info(self) -> ServerInfo:
        def op(client: Any) -> ServerInfo:
            caps = tuple(sorted(_s(c).upper() for c in client.capabilities()))
            return ServerInfo(
                capabilities=caps,
                tls_version=self._tls_version,
                certificate_sha256=self._cert_sha256,
                login_mechanism=self._mechanism,
            )

        return self._run("capability", op, idempotent=True)

    def _list(self, client: Any) -> list[tuple[tuple[str, ...], str | None, str]]:
        out = []
        for flags, delim, name in client.list_folders():
            out.append((tuple(_s(f) for f in flags), _s(delim) if delim else None, _s(name)))
        return out

    def list_folders(self) -> Sequence[FolderInfo]:
        def op(client: Any) -> list[FolderInfo]:
            folders = []
            for flags, delim, name in self._list(client):
                selectable = not any(f.lower() in ("\\noselect", "\\nonexistent") for f in flags)
                counts: dict[bytes, Any] = {}
                if selectable:
                    try:
                        counts = client.folder_status(
                            name, [b"MESSAGES", b"UNSEEN", b"UIDVALIDITY"]
                        )
                    except imaplib.IMAP4.abort:
                        raise
                    except imaplib.IMAP4.error as exc:  # one odd folder: its counts unknown
                        if is_line_too_long(exc):
                            raise  # the connection is out of step: imap_errors drops it
                        counts = {}
                special = next((f for f in flags if f in _SPECIAL_USES), None)
                folders.append(
                    FolderInfo(
                        name=name,
                        delimiter=delim,
                        flags=flags,
                        special_use=special,
                        messages=counts.get(b"MESSAGES"),
                        unseen=counts.get(b"UNSEEN"),
                        uidvalidity=counts.get(b"UIDVALIDITY"),
                        selectable=selectable,
                    )
                )
            return folders

        return self._run("list", op, idempotent=True)

    def special_folders(self) -> Mapping[str, str]:
        def op(client: Any) -> dict[str, str]:
            listing = self._list(client)
            out: dict[str, str] = {}
            for flags, _delim, name in listing:
                for flag in flags:
                    if flag in _SPECIAL_USES and flag not in out:
                        out[flag] = name
            for use, names in _CONVENTIONAL.items():  # servers without SPECIAL-USE
                if use not in out:
                    match = next((n for _f, _d, n in listing if n.lower() in names), None)
                    if match is not None:
                        out[use] = match
            return out

        return self._run("list", op, idempotent=True)

    def _search(self, folder: str, node: Node, *, limit: int, cursor: str | None) -> SearchPage:
        validate_folder_name(folder)
        validate_limit(limit)
        query = query_fingerprint("q", describe(node))
        state = None
        if cursor is not None:
            state = decode_cursor(cursor, account=self._account, folder=folder, query=query)

        def op(client: Any) -> SearchPage:
            uidvalidity = self._select(client, folder, readonly=True)
            uids: list[int] = []
            if state is None or state.below_uid > 1:
                wire = node
                if state is not None:  # page 2+: only UIDs below the last one served
                    wire = flatten_and([Key("UID", (f"1:{state.below_uid - 1}",)), node])
                args, utf8 = to_imap_args(wire)
                prefix = [b"CHARSET", b"UTF-8"] if utf8 else []
                data = client._raw_command_untagged(b"SEARCH", prefix + args)
                uids = parse_message_list(data)  # already ints
            page, next_cursor, total = page_uids(
                uids,
                limit=limit,
                state=state,
                account=self._account,
                folder=folder,
                uidvalidity=uidvalidity,
                query=query,
            )
            refs = tuple(self._ref(folder, uidvalidity, u) for u in page)
            return SearchPage(refs=refs, next_cursor=next_cursor, total=total)

        return self._run("search", op, idempotent=True)

    def search(
        self, folder: str, criteria: SearchCriteria, *, limit: int, cursor: str | None = None
    ) -> SearchPage:
        return self._search(folder, criteria_to_node(criteria), limit=limit, cursor=cursor)

    def search_raw(
        self, folder: str, expression: str, *, limit: int, cursor: str | None = None
    ) -> SearchPage:
        return self._search(folder, parse_expression(expression), limit=limit, cursor=cursor)

    def summaries(self, refs: Sequence[MessageRef]) -> Sequence[MessageSummary]:
        check_refs(self._account, refs)

        def op(client: Any) -> list[MessageSummary]:
            found: dict[MessageRef, MessageSummary] = {}
            folders: dict[str, list[MessageRef]] = {}
            for ref in refs:
                folders.setdefault(ref.folder, []).append(ref)
            for folder, group in folders.items():
                uidvalidity = self._select(client, folder, readonly=True)
                stale = [r for r in group if r.uidvalidity != uidvalidity]
                if stale:
                    raise StaleReference(f"{stale[0]}: UIDVALIDITY is now {uidvalidity}")
                items = [b"BODY.PEEK[HEADER]", b"FLAGS", b"RFC822.SIZE", b"INTERNALDATE"]
                data = client.fetch(sorted({r.uid for r in group}), items)
                for ref in group:
                    item = data.get(ref.uid)
                    if item is None:
                        continue
                    found[ref] = MessageSummary(
                        ref=ref,
                        header_bytes=bytes(item.get(b"BODY[HEADER]") or b""),
                        flags=_flags(item.get(b"FLAGS", ())),
                        size_bytes=int(item.get(b"RFC822.SIZE", 0)),
                        internal_date=to_utc(item.get(b"INTERNALDATE")),
                    )
            return [found[r] for r in refs if r in found]

        return self._run("fetch", op, idempotent=True)

    def _fetch_one(self, client: Any, ref: MessageRef, items: list[bytes]) -> dict[bytes, Any]:
        check_refs(self._account, [ref])
        uidvalidity = self._select(client, ref.folder, readonly=True)
        if uidvalidity != ref.uidvalidity:
            raise StaleReference(f"{ref}: UIDVALIDITY is now {uidvalidity}")
        item: dict[bytes, Any] | None = client.fetch([ref.uid], items).get(ref.uid)
        if item is None:
            raise MessageNotFound(f"{ref} does not exist")
        return item

    def fetch(self, ref: MessageRef, *, max_bytes: int | None = None) -> RawMessage:
        def op(client: Any) -> RawMessage:
            body = b"BODY.PEEK[]"
            if max_bytes is not None:  # one round trip, never more than max_bytes + 1 read
                body = f"BODY.PEEK[]<0.{max(0, max_bytes) + 1}>".encode("ascii")
            items = [body, b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"]
            item = self._fetch_one(client, ref, items)
            size = int(item.get(b"RFC822.SIZE", 0))
            data = bytes(next((v for k, v in item.items() if k.startswith(b"BODY[")), b"") or b"")
            if max_bytes is not None and max(size, len(data)) > max_bytes:
                raise MessageTooLarge(f"{ref} has {max(size, len(data))} bytes > {max_bytes}")
            return RawMessage(
                ref=ref,
                data=data,
                flags=_flags(item.get(b"FLAGS", ())),
                internal_date=to_utc(item.get(b"INTERNALDATE")),
            )

        return self._run("fetch", op, idempotent=True)

    def attachments(self, ref: MessageRef) -> Sequence[AttachmentInfo]:
        def op(client: Any) -> list[AttachmentInfo]:
            bs = self._fetch_one(client, ref, [b"BODYSTRUCTURE"]).get(b"BODYSTRUCTURE")
            infos = (part.attachment_info() for part in walk_bodystructure(bs))
            return [info for info in infos if info is not None]

        return self._run("fetch", op, idempotent=True)

    def fetch_part(self, ref: MessageRef, part_id: str) -> PartData:
        validate_part_id(part_id)

        def op(client: Any) -> PartData:
            bs = self._fetch_one(client, ref, [b"BODYSTRUCTURE"]).get(b"BODYSTRUCTURE")
            part = next((p for p in walk_bodystructure(bs) if p.part_id == part_id), None)
            if part is None:
                raise AttachmentNotFound(f"{ref} has no part {part_id}")
            section = f"BODY.PEEK[{part_id}]".encode("ascii")
            item = self._fetch_one(client, ref, [section])
            raw = next((v for k, v in item.items() if k.startswith(b"BODY[")), b"") or b""
            return PartData(
                part_id=part_id,
                content=decode_transfer(bytes(raw), part.encoding),
                content_type=part.content_type,
                filename=part.filename,
            )

        return self._run("fetch", op, idempotent=True)

    def get_flags(self, ref: MessageRef) -> frozenset[str]:
        def op(client: Any) -> frozenset[str]:
            return _flags(self._fetch_one(client, ref, [b"FLAGS"]).get(b"FLAGS", ()))

        return self._run("fetch", op, idempotent=True)

    def labels(self, ref: MessageRef) -> Labels:
        def op(client: Any) -> Labels:
            items = [b"FLAGS", b"X-GM-LABELS"] if self._gmail() else [b"FLAGS"]
            item = self._fetch_one(client, ref, items)
            keywords = tuple(sorted(f for f in _flags(item.get(b"FLAGS", ())) if f[:1] != "\\"))
            gmail = None
            if self._gmail():
                gmail = tuple(sorted(_s(x) for x in item.get(b"X-GM-LABELS", ()) or ()))
            return Labels(keywords=keywords, gmail_labels=gmail)

        return self._run("fetch", op, idempotent=True)

    # ------------------------------------------------------------------ changing
    def set_flags(
        self, refs: Sequence[MessageRef], *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> None:
        add_l, remove_l = validate_flags(add), validate_flags(remove)

        def op(client: Any) -> None:
            for folder, uids in self._checked(client, refs, readonly=False).items():
                self._select(client, folder, readonly=False)
                for flags, adding in ((add_l, True), (remove_l, False)):
                    system = [f for f in flags if f in SYSTEM_FLAGS]
                    keywords = [f for f in flags if f not in SYSTEM_FLAGS]
                    if self._gmail() and keywords:
                        (client.add_gmail_labels if adding else client.remove_gmail_labels)(
                            uids, keywords, silent=True
                        )
                    else:
                        system += keywords
                    if system:
                        (client.add_flags if adding else client.remove_flags)(
                            uids, system, silent=True
                        )

        self._run("store", op, idempotent=True)

    def move(
        self, refs: Sequence[MessageRef], destination: str
    ) -> Mapping[MessageRef, MessageRef | None]:
        validate_folder_name(destination)
        check_refs(self._account, refs)
        if any(ref.folder == destination for ref in refs):
            raise InputError("move to the same folder", public="the message is already there")

        def op(client: Any) -> dict[MessageRef, MessageRef | None]:
            if "MOVE" not in self._caps and "UIDPLUS" not in self._caps:
                raise UnsupportedByServer(
                    "server has neither MOVE nor UIDPLUS: refusing a move that would need a "
                    "bare EXPUNGE",
                    public="this mail server cannot move messages safely",
                )
            status = client.folder_status(destination, [b"UIDVALIDITY", b"UIDNEXT"])
            dest_validity = int(status.get(b"UIDVALIDITY", 0))
            out: dict[MessageRef, MessageRef | None] = {}
            for folder, flags in self._checked_flags(client, refs, False).items():
                uids = list(flags)
                source_validity = self._select(client, folder, readonly=False)
                journal = PendingMove(
                    source=folder,
                    source_validity=source_validity,
                    uids=tuple(uids),
                    deleted_before=frozenset(u for u, f in flags.items() if "\\Deleted" in f),
                    dest=destination,
                    dest_validity=dest_validity,
                    dest_uidnext=int(status.get(b"UIDNEXT", 1)),
                    used_copy="MOVE" not in self._caps,
                )
                self._pending.append(journal)  # until the move is known to be complete
                client._imap.response("COPYUID")  # clear a stale value
                if journal.used_copy:
                    client.copy(uids, destination)
                    client.add_flags(uids, [b"\\Deleted"], silent=True)
                    client.uid_expunge(uids)
                else:
                    client.move(uids, destination)
                self._pending.remove(journal)
                _code, data = client._imap.response("COPYUID")
                pairs = parse_uid_pairs(data) if data and data[0] is not None else None
                mapping = pairs[1] if pairs and pairs[0] == dest_validity else {}
                for ref in refs:
                    if ref.folder == folder:
                        new = mapping.get(ref.uid)
                        out[ref] = self._ref(destination, dest_validity, new) if new else None
            return out

        return self._run("move", op)

    def append(self, folder: str, data: bytes, *, flags: Sequence[str] = ()) -> MessageRef | None:
        validate_folder_name(folder)
        checked = validate_flags(flags)
        if not isinstance(data, bytes) or not data:
            raise InputError("append needs message bytes", public="the message is empty")

        def op(client: Any) -> MessageRef | None:
            response = client.append(folder, data, flags=checked)
            parsed = parse_appenduid(response)
            return self._ref(folder, parsed[0], parsed[1]) if parsed else None

        return self._run("append", op)

    def expunge(self, refs: Sequence[MessageRef]) -> int:
        def op(client: Any) -> int:
            if "UIDPLUS" not in self._caps:
                raise UnsupportedByServer(
                    "server lacks UIDPLUS: UID EXPUNGE of exact messages is impossible",
                    public="this mail server cannot expunge single messages safely",
                )
            count = 0
            for folder, uids in self._checked(client, refs, readonly=False).items():
                self._select(client, folder, readonly=False)
                client.add_flags(uids, [b"\\Deleted"], silent=True)
                client.uid_expunge(uids)
                count += len(uids)
            return count

        return self._run("expunge", op)

    def _folder_op(self, action: str, fn: Callable[[Any], None]) -> None:
        def op(client: Any) -> None:
            if self._selected is not None:
                self._selected = None
                if "UNSELECT" in self._caps:
                    client.unselect_folder()
                else:
                    client.close_folder()
            fn(client)

        self._run(action, op)

    def create_folder(self, name: str) -> None:
        validate_folder_name(name)
        if name.upper() == "INBOX":
            raise InputError("create INBOX", public="a folder with that name exists")
        self._folder_op("create", lambda c: c.create_folder(name))

    def rename_folder(self, old: str, new: str) -> None:
        validate_folder_name(old)
        validate_folder_name(new)
        if "INBOX" in (old.upper(), new.upper()):
            raise InputError("rename of INBOX", public="INBOX cannot be renamed")

        def op(client: Any) -> None:
            # exact match in the full listing (never LIST with the name: * and % would match)
            if any(name == new for _f, _d, name in self._list(client)):
                raise InputError(f"folder {new!r} exists", public="a folder with that name exists")
            client.rename_folder(old, new)

        self._folder_op("rename", op)

    def delete_folder(self, name: str) -> None:
        validate_folder_name(name)
        if name.upper() == "INBOX":
            raise InputError("delete of INBOX", public="INBOX cannot be deleted")

        self._folder_op("delete", lambda c: c.delete_folder(name))
