"""What a TLS failure means, and what a server presents: used by the IMAP and SMTP adapters
to name the cause of a TLS error, by ``--dry-run`` and by ``mailguard-mcp init``.

- :func:`tls_failure` turns an ``ssl.SSLError`` into a :class:`TLSError` whose public text
  names the likely cause and the fix: a plaintext port set to implicit TLS, a certificate for
  another host name, an expired certificate, a self-signed or unknown issuer.
- :func:`speaks_tls` asks, on a fresh connection, whether a port completes a TLS handshake
  (a STARTTLS client waiting for a greeting on an implicit-TLS port would otherwise wait for
  its whole timeout).
- :func:`presented_certificate` connects WITHOUT verifying and returns the leaf certificate
  the server presents (fingerprint, subject, issuer, dates): never used to trust anything by
  itself; the user decides (trust on first use) and the fingerprint becomes ``pin_sha256``.

- :func:`probe_ports` finds which of a host's ports answer as an IMAP or SMTP server and
  with which TLS mode (a TLS handshake first: implicit TLS; else a plaintext greeting whose
  capabilities offer STARTTLS), all ports at once, for ``mailguard-mcp init``.

Every connection here is bounded by a timeout and closed before returning; no credential is
ever sent.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import imaplib
import smtplib
import socket
import ssl
import time
from typing import Literal

import attrs

from mailguard_core.model.errors import ConnectionFailed, OperationTimeout, TLSError

__all__ = [
    "DEFAULT_PORTS",
    "GREETING_PROBE_SECONDS",
    "CertificateInfo",
    "Found",
    "implicit_tls_port",
    "presented_certificate",
    "probe_ports",
    "speaks_tls",
    "tls_failure",
    "verify_certificate",
]

Protocol = Literal["imap", "smtp"]
#: a STARTTLS connection whose greeting has not come after this long is checked for a port
#: that speaks implicit TLS (the real wait then continues on a new connection)
GREETING_PROBE_SECONDS = 2.0

PLAINTEXT_PORT = (
    "TLS mismatch: the server answered in plaintext, so this port does not use implicit TLS; "
    'set tls = "starttls" for it (IMAP 143, SMTP 587) or use the implicit-TLS port '
    "(IMAP 993, SMTP 465)"
)
IMPLICIT_PORT = (
    'TLS mismatch: this port speaks implicit TLS but tls = "starttls" is set; set '
    'tls = "implicit" (or use the STARTTLS port: IMAP 143, SMTP 587)'
)
WRONG_HOST = (
    "the server's TLS certificate is not valid for this host name; check host (or pin the "
    "certificate: mailguard-mcp --dry-run prints its pin_sha256)"
)
EXPIRED = (
    "the server's TLS certificate has expired or is not yet valid; check the server's "
    "certificate and this computer's clock"
)
UNTRUSTED = (
    "the server's TLS certificate is not trusted (self-signed or unknown issuer); pin it "
    "(mailguard-mcp --dry-run prints the pin_sha256 line to add) or set ca_file"
)

#: OpenSSL X509 verify codes
_HOSTNAME_MISMATCH = 62
_EXPIRED_CODES = frozenset({9, 10})  # not yet valid, has expired
_UNTRUSTED_CODES = frozenset({2, 18, 19, 20, 21})
#: OpenSSL reasons when the peer's bytes are not a TLS record (plain text)
_NOT_TLS_REASONS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"})


def _reason(exc: ssl.SSLError) -> str:
    return str(getattr(exc, "reason", "") or type(exc).__name__)


def tls_failure(exc: ssl.SSLError, action: str) -> TLSError:
    """A :class:`TLSError` for ``exc`` whose public text names the likely cause and fix."""
    detail = f"{action}: {type(exc).__name__} ({_reason(exc)})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        detail = f"{detail}: verify code {code}"
        if code == _HOSTNAME_MISMATCH:
            return TLSError(detail, public=WRONG_HOST)
        if code in _EXPIRED_CODES:
            return TLSError(detail, public=EXPIRED)
        if code in _UNTRUSTED_CODES:
            return TLSError(detail, public=UNTRUSTED)
        return TLSError(detail)
    if _reason(exc) in _NOT_TLS_REASONS:
        return TLSError(detail, public=PLAINTEXT_PORT)
    return TLSError(detail)


def implicit_tls_port(action: str) -> TLSError:
    return TLSError(
        f"{action}: no greeting, and the port completes a TLS handshake", public=IMPLICIT_PORT
    )


def _unverified_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # only looks at what is presented; never trusts it
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def speaks_tls(host: str, port: int, timeout: float = GREETING_PROBE_SECONDS) -> bool:
    """Whether ``host:port`` completes a TLS handshake on a fresh connection within
    ``timeout`` seconds (nothing else is sent; the connection is closed at once)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            with _unverified_context().wrap_socket(raw, server_hostname=host):
                return True
    except (OSError, ValueError):
        return False


@attrs.frozen(kw_only=True)
class CertificateInfo:
    """The leaf certificate a server presented (not verified)."""

    sha256: str
    der: bytes = attrs.field(repr=False)
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def pem(self) -> str:
        return ssl.DER_cert_to_PEM_cert(self.der)

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer

    def describe(self) -> list[str]:
        """Lines for a person deciding whether to trust it."""
        return [
            f"subject: {self.subject}",
            f"issuer: {self.issuer}{' (self-signed)' if self.self_signed else ''}",
            f"valid: {self.not_before:%Y-%m-%d} to {self.not_after:%Y-%m-%d}",
            f"sha256: {self.sha256}",
        ]


def certificate_info(der: bytes) -> CertificateInfo:
    """Fingerprint, subject, issuer and dates of a DER certificate."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return CertificateInfo(
        sha256=hashlib.sha256(der).hexdigest(),
        der=der,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def presented_certificate(
    host: str,
    port: int,
    *,
    tls: Literal["implicit", "starttls"],
    protocol: Protocol,
    timeout: float = 10.0,
) -> CertificateInfo:
    """The certificate ``host:port`` presents (after STARTTLS for ``tls = "starttls"``),
    without verifying it and without logging in.

    Raises:
        TLSError: no TLS handshake (the message names a TLS mismatch where it can).
        ConnectionFailed / OperationTimeout: the server cannot be reached.
    """
    return _handshake(host, port, tls=tls, protocol=protocol, timeout=timeout)


def verify_certificate(
    host: str,
    port: int,
    *,
    tls: Literal["implicit", "starttls"],
    protocol: Protocol,
    timeout: float = 10.0,
    ca_file: str | None = None,
) -> CertificateInfo:
    """Like :func:`presented_certificate`, but verified against the system's trust (plus
    ``ca_file``) and the host name; raises TLSError naming the cause when it does not."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return _handshake(host, port, tls=tls, protocol=protocol, timeout=timeout, ctx=ctx)


def _handshake(
    host: str,
    port: int,
    *,
    tls: Literal["implicit", "starttls"],
    protocol: Protocol,
    timeout: float,
    ctx: ssl.SSLContext | None = None,
) -> CertificateInfo:
    ctx = ctx or _unverified_context()
    action = f"{protocol} certificate probe"
    try:
        if tls == "implicit":
            with socket.create_connection((host, port), timeout=timeout) as raw:
                raw.settimeout(timeout)
                with ctx.wrap_socket(raw, server_hostname=host) as sock:
                    der = sock.getpeercert(binary_form=True)
        elif protocol == "imap":
            client = imaplib.IMAP4(host, port, timeout=timeout)
            try:
                client.starttls(ssl_context=ctx)
                der = client.sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]
            finally:
                with contextlib.suppress(Exception):
                    client.shutdown()
        else:
            smtp = smtplib.SMTP(host, port, local_hostname="localhost", timeout=timeout)
            try:
                smtp.ehlo()
                smtp.starttls(context=ctx)
                der = smtp.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
            finally:
                smtp.close()
    except ssl.SSLError as exc:
        raise tls_failure(exc, action) from exc
    except TimeoutError as exc:
        raise OperationTimeout(f"{action}: no answer in {timeout} s") from exc
    except (OSError, imaplib.IMAP4.error, smtplib.SMTPException) as exc:
        raise ConnectionFailed(f"{action}: {type(exc).__name__}") from exc
    if not der:
        raise TLSError(f"{action}: no certificate presented")
    return certificate_info(der)


#: the usual ports, in the order they are preferred (implicit TLS first)
DEFAULT_PORTS: dict[Protocol, tuple[int, ...]] = {"imap": (993, 143), "smtp": (465, 587)}


@attrs.frozen
class Found:
    """A port that answered as a mail server of the protocol asked for."""

    port: int
    tls: Literal["implicit", "starttls"]


def _greeting_ok(protocol: Protocol, line: bytes) -> bool:
    return line.startswith(b"* OK") if protocol == "imap" else line.startswith(b"220")


def _read_line(sock: socket.socket | ssl.SSLSocket, deadline: float, limit: int = 4096) -> bytes:
    """One line (up to ``limit`` bytes), read before ``deadline`` (time.monotonic) or cut."""
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def _offers_starttls(
    protocol: Protocol, sock: socket.socket, greeting: bytes, deadline: float
) -> bool:
    """After a plaintext greeting: does the server offer STARTTLS (IMAP CAPABILITY, SMTP
    EHLO)? At most 50 lines are read."""
    if protocol == "imap":
        if b"[CAPABILITY" in greeting.upper():
            return b"STARTTLS" in greeting.upper()
        sock.sendall(b"p1 CAPABILITY\r\n")
    else:
        sock.sendall(b"EHLO localhost\r\n")
    for _ in range(50):
        line = _read_line(sock, deadline)
        if not line:
            return False
        if b"STARTTLS" in line.upper():
            return True
        last = line.startswith(b"p1 ") if protocol == "imap" else line[3:4] == b" "
        if last:
            return False
    return False


def _probe_one(host: str, port: int, protocol: Protocol, timeout: float) -> Found | None:
    """Implicit TLS, else STARTTLS, on one port; each attempt ends within ``timeout``."""
    try:
        deadline = time.monotonic() + timeout
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            with _unverified_context().wrap_socket(raw, server_hostname=host) as sock:
                if _greeting_ok(protocol, _read_line(sock, deadline)):
                    return Found(port, "implicit")
                return None
    except (OSError, ValueError):
        pass  # not implicit TLS (or nothing there): try a plaintext greeting
    try:
        deadline = time.monotonic() + timeout
        with socket.create_connection((host, port), timeout=timeout) as plain:
            greeting = _read_line(plain, deadline)
            if _greeting_ok(protocol, greeting) and _offers_starttls(
                protocol, plain, greeting, deadline
            ):
                return Found(port, "starttls")
    except (OSError, ValueError):
        pass
    return None


def probe_ports(
    host: str, protocol: Protocol, ports: tuple[int, ...] | None = None, *, timeout: float = 3.0
) -> list[Found]:
    """The ports of ``host`` (default :data:`DEFAULT_PORTS`) that answer as a ``protocol``
    server with TLS (implicit, or STARTTLS offered), in the order asked. A plaintext-only
    port is not listed (mailguard never logs in without TLS). All ports are tried at once,
    each with two attempts (implicit TLS, then plaintext) of at most ``timeout`` seconds
    each, so the probe ends within about ``2 * timeout`` even when nothing answers."""
    ports = ports or DEFAULT_PORTS[protocol]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(ports)) as pool:
        results = list(pool.map(lambda p: _probe_one(host, p, protocol, timeout), ports))
    return [found for found in results if found is not None]
