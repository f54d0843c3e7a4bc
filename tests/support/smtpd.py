"""A real SMTP server for tests: aiosmtpd in this process, TLS and AUTH required.

``start_smtpd(tmp, mode="starttls")`` starts one on 127.0.0.1 with a free port and a fresh
self-signed certificate (openssl); ``server.smtp_settings("alice")`` gives the matching
:class:`~mailguard_core.config.SmtpSettings` (with ``ca_file`` = the certificate). Every
accepted message lands in ``server.messages``. Recipients in ``server.refuse_recipients``
are refused with 550. The fixtures ``smtpd_starttls`` and ``smtpd_implicit`` (and one made by
``smtpd_for(user_fixture, password)``) stop the server at the end of the test;
``running_smtpd`` does the same for a ``with`` block.
"""

from __future__ import annotations

import contextlib
import email.message
import email.parser
import email.policy
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from mailguard_core.config import SmtpSettings
from tests.support.certs import make_self_signed

#: "plain" offers neither TLS nor AUTH (for testing that a client refuses such a server)
Mode = Literal["starttls", "implicit", "plain"]
# aiosmtpd logs a deprecation notice about its own Session.login_data on every AUTH
logging.getLogger("mail.log").setLevel(logging.ERROR)
DEFAULT_USERS = {"alice": "alicepass", "bob": "bobpass"}


@attrs.frozen
class Captured:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes = attrs.field(repr=False)
    #: the login the session authenticated as
    login: str | None

    @property
    def parsed(self) -> email.message.EmailMessage:
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(self.data)
        assert isinstance(message, email.message.EmailMessage)
        return message


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` and ``127.0.0.1``: (cert, key)."""
    return make_self_signed(directory)


class _BoundController(Controller):  # type: ignore[misc]
    """A Controller listening on a socket bound to port 0 beforehand (no port race)."""

    def __init__(self, handler: Any, *, implicit_tls: bool, **kwargs: Any) -> None:
        self._implicit_tls = implicit_tls
        #: SMTP sessions opened so far (aiosmtpd's own readiness probe included)
        self.connections = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        super().__init__(handler, port=self._sock.getsockname()[1], **kwargs)

    def factory(self) -> SMTP:
        self.connections += 1
        smtp: SMTP = super().factory()
        if self._implicit_tls:
            # the whole connection is TLS: AUTH needs no STARTTLS. (Passing
            # auth_require_tls=False instead makes aiosmtpd warn in its thread.)
            smtp._auth_require_tls = False
        return smtp

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class _Handler:
    def __init__(self, server: SmtpTestServer) -> None:
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in {a.lower() for a in self._server.refuse_recipients}:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else auth
        data = envelope.original_content or envelope.content
        with self._server.lock:
            self._server.messages.append(
                Captured(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=bytes(data),
                    login=login,
                )
            )
        return "250 Message accepted for delivery"


def _sasl_fields(raw: bytes) -> dict[str, str]:
    """``key=value`` fields of an XOAUTH2 / OAUTHBEARER initial response (\\x01-separated)."""
    text = raw.decode("utf-8", "replace")
    fields = dict(p.split("=", 1) for p in text.split("\x01") if "=" in p)
    gs2 = text.split("\x01", 1)[0]  # OAUTHBEARER: "n,a=user,"
    for part in gs2.split(","):
        if part.startswith("a="):
            fields["user"] = part[2:].replace("=2C", ",").replace("=3D", "=")
    return fields


class _OAuthHandler(_Handler):
    """Also offers AUTH XOAUTH2 and OAUTHBEARER, checking bearer tokens with
    ``server.oauth`` (token -> user or None, e.g. the local authorization server's
    ``user_of``)."""

    async def _bearer(self, server: SMTP, args: list[str], mechanism: str) -> AuthResult:
        import base64
        import json

        raw = base64.b64decode(args[1]) if len(args) == 2 else await server.challenge_auth("")
        if not isinstance(raw, bytes):
            return AuthResult(success=False, handled=True)
        fields = _sasl_fields(raw)
        auth = fields.get("auth", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        check = self._server.oauth
        user = check(token) if check is not None and token else None
        if user is not None and user == fields.get("user"):
            self._server.oauth_logins.append((mechanism, user))
            return AuthResult(success=True, auth_data=user)
        self._server.oauth_failures.append(mechanism)
        error = (
            {"status": "invalid_token", "scope": "mail"}
            if mechanism == "OAUTHBEARER"
            else {"status": "401", "schemes": "bearer", "scope": "mail"}
        )
        await server.challenge_auth(json.dumps(error))  # the client answers, then 535
        return AuthResult(success=False, handled=False)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer(server, args, "OAUTHBEARER")


class SmtpTestServer:
    """An aiosmtpd server on 127.0.0.1 requiring TLS (STARTTLS or implicit) and AUTH."""

    host = "127.0.0.1"

    def __init__(
        self,
        directory: Path,
        *,
        mode: Mode = "starttls",
        users: dict[str, str] | None = None,
        certificate: tuple[Path, Path] | None = None,
        oauth: Callable[[str], str | None] | None = None,
        oauth_mechanisms: tuple[str, ...] = ("XOAUTH2", "OAUTHBEARER"),
    ) -> None:
        self.mode: Mode = mode
        #: with ``oauth``: bearer-token logins accepted / mechanisms of refused attempts
        self.oauth = oauth
        self.oauth_logins: list[tuple[str, str]] = []
        self.oauth_failures: list[str] = []
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.messages: list[Captured] = []
        self.refuse_recipients: set[str] = set()
        self.lock = threading.Lock()
        self.cert_path, self.key_path = certificate or make_certificate(directory)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert_path, self.key_path)
        common: dict[str, Any] = {
            "hostname": self.host,
            "authenticator": self._authenticate,
            "auth_required": True,
            "auth_require_tls": True,
            "ready_timeout": 10,
        }
        handler_class = _Handler
        if oauth is not None:
            handler_class = _OAuthHandler
            common["auth_exclude_mechanism"] = [
                m for m in ("XOAUTH2", "OAUTHBEARER") if m not in oauth_mechanisms
            ]
        if mode == "starttls":
            self._controller = _BoundController(
                handler_class(self),
                implicit_tls=False,
                tls_context=tls,
                require_starttls=True,
                **common,
            )
        elif mode == "implicit":
            self._controller = _BoundController(
                handler_class(self), implicit_tls=True, ssl_context=tls, **common
            )
        else:
            self._controller = _BoundController(
                _Handler(self), implicit_tls=False, hostname=self.host, ready_timeout=10
            )
        self._controller.start()
        self.port: int = self._controller.port

    def _authenticate(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        # handled=False: on failure aiosmtpd then answers 535 (else the client would hang)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def smtp_settings(self, user: str = "alice", *, timeout: float = 10.0) -> SmtpSettings:
        return SmtpSettings(
            host=self.host,
            port=self.port,
            username=user,
            tls="implicit" if self.mode == "implicit" else "starttls",
            ca_file=str(self.cert_path),
            timeout=timeout,
        )

    def password(self, user: str = "alice") -> str:
        return self.users[user]

    @property
    def connections(self) -> int:
        """Client connections so far (not counting aiosmtpd's own start-up probe)."""
        return int(self._controller.connections) - 1

    def stop(self) -> None:
        self._controller.stop()


def start_smtpd(
    tmp: Path,
    *,
    mode: Mode = "starttls",
    users: dict[str, str] | None = None,
    certificate: tuple[Path, Path] | None = None,
    oauth: Callable[[str], str | None] | None = None,
    oauth_mechanisms: tuple[str, ...] = ("XOAUTH2", "OAUTHBEARER"),
) -> SmtpTestServer:
    """Start a server (its certificate is made in ``tmp`` unless given); ``stop()`` it.

    With ``oauth`` (token -> user or None) it also offers AUTH ``oauth_mechanisms``."""
    return SmtpTestServer(
        tmp,
        mode=mode,
        users=users,
        certificate=certificate,
        oauth=oauth,
        oauth_mechanisms=oauth_mechanisms,
    )


@pytest.fixture(scope="session")
def smtpd_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One self-signed certificate (cert, key) for every test server of the session."""
    return make_certificate(tmp_path_factory.mktemp("smtpd-cert"))


@contextlib.contextmanager
def running_smtpd(tmp: Path, **options: Any) -> Iterator[SmtpTestServer]:
    """``start_smtpd(tmp, **options)``, stopped when the block ends."""
    server = start_smtpd(tmp, **options)
    try:
        yield server
    finally:
        server.stop()


def smtpd_for(user_fixture: str, password: str) -> Any:
    """A fixture: a STARTTLS server whose one user is the value of the fixture ``user_fixture``
    (a Dovecot user, say), with ``password``, stopped at the end of the test. In a test module
    that also imports ``smtpd_certificate``: ``smtp = smtpd_for("user", PASSWORD)``."""

    @pytest.fixture
    def smtp(
        request: pytest.FixtureRequest, tmp_path: Path, smtpd_certificate: tuple[Path, Path]
    ) -> Iterator[SmtpTestServer]:
        users = {request.getfixturevalue(user_fixture): password}
        with running_smtpd(tmp_path / "smtp", users=users, certificate=smtpd_certificate) as server:
            yield server

    return smtp


def _default_users(mode: Mode, doc: str) -> Any:
    @pytest.fixture
    def fixture(tmp_path: Path, smtpd_certificate: tuple[Path, Path]) -> Iterator[SmtpTestServer]:
        with running_smtpd(tmp_path, mode=mode, certificate=smtpd_certificate) as server:
            yield server

    fixture.__doc__ = doc
    return fixture


smtpd_starttls = _default_users(
    "starttls", "An SMTP server requiring STARTTLS then AUTH (users alice/alicepass, bob/bobpass)."
)
smtpd_implicit = _default_users(
    "implicit",
    "An SMTP server on implicit TLS requiring AUTH (users alice/alicepass, bob/bobpass).",
)
