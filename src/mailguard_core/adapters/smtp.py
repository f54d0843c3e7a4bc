"""``SmtpSender``: SMTP submission with smtplib over implicit TLS or STARTTLS, with AUTH.

One connection per message, closed before ``send`` returns; no retries (a retry could send
twice). Library, socket and TLS errors become ``mailguard_core.model.errors`` classes here; their
texts never include the password or the server's reply text. A permanent (5xx) refusal of
the message or of a recipient does not count towards the circuit breaker (the caller chose
the content); a 4xx reply, a lost connection or a timeout does.
"""

from __future__ import annotations

import base64
import contextlib
import smtplib
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import overload

from mailguard_core.adapters.imap_support import check_pin
from mailguard_core.adapters.tls_probe import (
    GREETING_PROBE_SECONDS,
    implicit_tls_port,
    speaks_tls,
    tls_failure,
)
from mailguard_core.config import SmtpSettings
from mailguard_core.model.compose import message_id_of, validate_header_text
from mailguard_core.model.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    MessageRefused,
    OperationTimeout,
    RecipientRefused,
    SendFailed,
    TLSError,
)
from mailguard_core.model.oauth import oauth_mechanism, token_refused
from mailguard_core.model.values import SendResult
from mailguard_core.ports.secrets import Secret
from mailguard_core.ports.tokens import TokenProvider


class _BearerResponse:
    """smtplib's ``authobject`` for a bearer token: the initial response, then an empty reply
    to the server's error challenge (RFC 7628 3.2.3 wants %x01 for OAUTHBEARER)."""

    def __init__(self, mechanism: str, user: str, token: Secret) -> None:
        if mechanism == "OAUTHBEARER":
            escaped = user.replace("=", "=3D").replace(",", "=2C")
            self._initial = f"n,a={escaped},\x01auth=Bearer {token.reveal()}\x01\x01"
            self._after = "\x01"
        else:
            self._initial = f"user={user}\x01auth=Bearer {token.reveal()}\x01\x01"
            self._after = ""

    def __repr__(self) -> str:
        return "_BearerResponse(...)"

    @overload
    def __call__(self, challenge: None = None, /) -> str | None: ...
    @overload
    def __call__(self, challenge: bytes, /) -> str: ...
    def __call__(self, challenge: bytes | None = None, /) -> str | None:
        return self._initial if challenge is None else self._after


#: EHLO name: a fixed neutral name (the default, the machine's FQDN, leaks a host internal
#: and may cost a slow DNS lookup)
EHLO_NAME = "localhost"


def make_tls_context(ca_file: str | None, *, pinned: bool = False) -> ssl.SSLContext:
    """System trust (plus ``ca_file``), hostname checked, TLS 1.2 or newer. ``pinned``: no CA
    or host name check; the caller checks the pin right after the handshake, before AUTH."""
    context = ssl.create_default_context(cafile=None if pinned else ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if pinned:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the pin decides (SmtpSender._connect)
    return context


def _refusal(code: int, what: str) -> SendFailed:
    """A permanent (5xx) refusal answers this message and never counts towards the breaker;
    anything else (4xx: try later) is a transient failure of the server."""
    if 500 <= code <= 599:
        return MessageRefused(f"{what} (code {code})")
    return SendFailed(f"{what} (code {code})")


@contextmanager
def _smtp_errors() -> Iterator[None]:
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise AuthenticationFailed(f"SMTP AUTH refused (code {exc.smtp_code})") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise RecipientRefused(f"SMTP refused all {len(exc.recipients)} recipient(s)") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise _refusal(exc.smtp_code, "SMTP refused the sender") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise SendFailed(
            "the SMTP server lacks a required extension (AUTH)",
            public="the mail server does not offer authentication",
        ) from exc
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, TimeoutError):  # smtplib turns read timeouts into this
            raise OperationTimeout("SMTP server did not answer in time") from exc
        raise ConnectionFailed("SMTP server disconnected") from exc
    except smtplib.SMTPResponseException as exc:
        raise _refusal(exc.smtp_code, "SMTP error reply") from exc
    except smtplib.SMTPException as exc:
        raise SendFailed(f"SMTP failure: {type(exc).__name__}") from exc
    except UnicodeError:  # its text names a character and its position: never shown
        raise SendFailed("SMTP: a value could not be encoded") from None
    except ssl.SSLError as exc:  # SSLCertVerificationError included; names the cause
        raise tls_failure(exc, "SMTP") from exc
    except ssl.CertificateError as exc:
        raise TLSError(f"SMTP certificate failure: {type(exc).__name__}") from exc
    except TimeoutError as exc:
        raise OperationTimeout("SMTP server did not answer in time") from exc
    except OSError as exc:
        raise ConnectionFailed(f"SMTP connection failed: {type(exc).__name__}") from exc


def smtp_login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """Authenticate: smtplib's ``login`` (CRAM-MD5, PLAIN or LOGIN, as offered) when the
    credentials are ASCII, else ``AUTH PLAIN`` (RFC 4616) with them encoded as UTF-8.

    smtplib encodes every mechanism's credentials as ASCII, so a non-ASCII password would
    raise a codec error naming one of its characters; that error is never raised here.

    Raises:
        smtplib.SMTPNotSupportedError: the server offers no AUTH.
        smtplib.SMTPAuthenticationError: refused, or non-ASCII credentials and no PLAIN.
    """
    if username.isascii() and password.isascii():
        smtp.login(username, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPAuthenticationError(
            504, b"non-ASCII credentials need AUTH PLAIN, which the server does not offer"
        )
    token = b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")
    response = base64.b64encode(token).decode("ascii")
    code, _reply = smtp.docmd("AUTH", "PLAIN " + response)
    if code == 334:  # a server that wants the response after an empty challenge
        code, _reply = smtp.docmd(response)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, b"authentication refused")


class SmtpSender:
    """Submits messages to one SMTP server.

    Args:
        settings: host, port, TLS mode, username, CA file or certificate pin, timeout.
        password: called once per send, after the TLS handshake, right before AUTH.
        ssl_context: overrides the default context built from ``settings.ca_file``.
        tokens: with ``settings.auth == "oauth2"``: the account's access tokens, sent with AUTH
            OAUTHBEARER (RFC 7628) when offered, else XOAUTH2; a refused token is invalidated
            and a fresh one tried once on the same connection.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        password: Callable[[], Secret],
        *,
        ssl_context: ssl.SSLContext | None = None,
        tokens: TokenProvider | None = None,
    ) -> None:
        self._settings = settings
        self._password = password
        self._tokens = tokens
        self._context = ssl_context
        #: SHA-256 of the certificate the server presented on the last connection
        self.certificate_sha256: str | None = None

    def _context_for_settings(self) -> ssl.SSLContext:
        s = self._settings
        return self._context or make_tls_context(s.ca_file, pinned=bool(s.pin_sha256))

    def _connect(self, context: ssl.SSLContext) -> smtplib.SMTP:
        """Connected, TLS up, EHLO done; with ``pin_sha256`` the certificate checked against
        the pin before anything else is sent (and recorded in ``certificate_sha256``)."""
        s = self._settings
        if s.tls == "implicit":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, local_hostname=EHLO_NAME, timeout=s.timeout, context=context
            )
        else:
            smtp = self._open_plain()
        try:
            if s.tls != "implicit":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise TLSError(
                        "the SMTP server does not offer STARTTLS",
                        public="the mail server does not offer STARTTLS",
                    )
                smtp.starttls(context=context)
            sock = smtp.sock
            tls_up = isinstance(sock, ssl.SSLSocket)
            der = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
            self.certificate_sha256 = check_pin(tls_up, der, s.pin_sha256)
            if s.tls != "implicit":
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _open_plain(self) -> smtplib.SMTP:
        """Connect for STARTTLS and read the greeting. A greeting that has not come after
        ``GREETING_PROBE_SECONDS`` makes a second connection check whether the port speaks
        implicit TLS (a named error at once); if not, the connection is tried again with the
        full timeout (a slow server)."""
        s = self._settings
        if s.timeout > GREETING_PROBE_SECONDS:
            try:
                smtp = smtplib.SMTP(
                    s.host, s.port, local_hostname=EHLO_NAME, timeout=GREETING_PROBE_SECONDS
                )
            except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
                if isinstance(exc, smtplib.SMTPServerDisconnected) and not isinstance(
                    exc.__context__, TimeoutError
                ):
                    raise
                if speaks_tls(s.host, s.port):
                    raise implicit_tls_port("SMTP connect") from None
            else:
                smtp.timeout = s.timeout
                if smtp.sock is not None:
                    smtp.sock.settimeout(s.timeout)
                return smtp
        return smtplib.SMTP(s.host, s.port, local_hostname=EHLO_NAME, timeout=s.timeout)

    def check(self) -> str:
        """Connect, TLS, EHLO and AUTH exactly as :meth:`send` does, then QUIT: no mail is
        sent. Returns the TLS version. Raises what :meth:`send` would raise."""
        context = self._context_for_settings()
        with _smtp_errors():
            smtp = self._connect(context)
            try:
                self._authenticate(smtp)
                sock = smtp.sock
                version = sock.version() if isinstance(sock, ssl.SSLSocket) else None
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
            finally:
                smtp.close()
        return version or "?"

    def _authenticate(self, smtp: smtplib.SMTP) -> None:
        s = self._settings
        if s.auth != "oauth2":
            smtp_login(smtp, s.username, self._password().reveal())
            return
        if self._tokens is None:
            raise ConfigError("SMTP auth = 'oauth2' without a token source")
        smtp.ehlo_or_helo_if_needed()  # smtplib's auth() does not (login() does)
        if not smtp.has_extn("auth"):
            raise smtplib.SMTPNotSupportedError("no AUTH")
        mechanism = oauth_mechanism(smtp.esmtp_features.get("auth", "").split())
        if mechanism is None:
            raise AuthenticationFailed(
                "the SMTP server offers neither OAUTHBEARER nor XOAUTH2",
                public="the SMTP server offers no OAuth2 sign-in (AUTH OAUTHBEARER or "
                "XOAUTH2); use auth = 'password' for it",
            )
        for attempt in range(2):
            token = self._tokens.access_token()
            try:
                code, _ = smtp.auth(mechanism, _BearerResponse(mechanism, s.username, token))
            except smtplib.SMTPAuthenticationError:
                # the server refused the token: forget it, get a fresh one, try once more
                self._tokens.invalidate(token)
                if attempt == 0:
                    continue
                raise AuthenticationFailed(
                    f"SMTP {mechanism}: a freshly obtained token was refused",
                    public=token_refused(self._tokens.account, "SMTP"),
                ) from None
            if code != 235:  # smtplib returns 503 and the like instead of raising
                raise AuthenticationFailed(f"SMTP {mechanism}: unexpected reply code {code}")
            return

    def send(self, *, envelope_from: str, recipients: Sequence[str], data: bytes) -> SendResult:
        """Submit ``data`` to ``recipients`` (see the ``Sender`` contract)."""
        if not recipients:
            raise RecipientRefused("no recipients", public="at least one recipient is required")
        # defence in depth: the envelope goes into SMTP command lines verbatim
        validate_header_text(envelope_from, field="sender address")
        for recipient in recipients:
            validate_header_text(recipient, field="recipient address")
        context = self._context_for_settings()
        with _smtp_errors():
            smtp = self._connect(context)
            try:
                self._authenticate(smtp)
                refused = smtp.sendmail(envelope_from, list(recipients), data)
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    pass  # the message was accepted; a failed QUIT changes nothing
            finally:
                smtp.close()
        refused_set = {r.lower() for r in refused}
        return SendResult(
            message_id=message_id_of(data),
            accepted=tuple(r for r in recipients if r.lower() not in refused_set),
            refused=tuple(r for r in recipients if r.lower() in refused_set),
        )
