"""``SmtpSender``: SMTP submission with smtplib over implicit TLS or STARTTLS, with AUTH.

One connection per message, closed before ``send`` returns; no retries (a retry could send
twice). Library, socket and TLS errors become ``mailguard_core.errors`` classes here; their
texts never include the password or the server's reply text.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from mailguard_core.compose import message_id_of, validate_header_text
from mailguard_core.config import SmtpSettings
from mailguard_core.domain import SendResult
from mailguard_core.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    OperationTimeout,
    RecipientRefused,
    SendFailed,
    TLSError,
)
from mailguard_core.ports.secrets import Secret

#: EHLO name: a fixed neutral name (the default, the machine's FQDN, leaks a host internal
#: and may cost a slow DNS lookup)
EHLO_NAME = "localhost"


def make_tls_context(ca_file: str | None) -> ssl.SSLContext:
    """System trust (plus ``ca_file``), hostname checked, TLS 1.2 or newer."""
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@contextmanager
def _smtp_errors() -> Iterator[None]:
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise AuthenticationFailed(f"SMTP AUTH refused (code {exc.smtp_code})") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise RecipientRefused(f"SMTP refused all {len(exc.recipients)} recipient(s)") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise SendFailed(f"SMTP refused the sender (code {exc.smtp_code})") from exc
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
        raise SendFailed(f"SMTP error reply (code {exc.smtp_code})") from exc
    except smtplib.SMTPException as exc:
        raise SendFailed(f"SMTP failure: {type(exc).__name__}") from exc
    except ssl.SSLError as exc:  # SSLCertVerificationError included
        raise TLSError(f"SMTP TLS failure: {type(exc).__name__}") from exc
    except ssl.CertificateError as exc:
        raise TLSError(f"SMTP certificate failure: {type(exc).__name__}") from exc
    except TimeoutError as exc:
        raise OperationTimeout("SMTP server did not answer in time") from exc
    except OSError as exc:
        raise ConnectionFailed(f"SMTP connection failed: {type(exc).__name__}") from exc


class SmtpSender:
    """Submits messages to one SMTP server.

    Args:
        settings: host, port, TLS mode, username, CA file, timeout.
        password: called once per send, after the TLS handshake, right before AUTH.
        ssl_context: overrides the default context built from ``settings.ca_file``.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        password: Callable[[], Secret],
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings
        self._password = password
        self._context = ssl_context

    def _connect(self, context: ssl.SSLContext) -> smtplib.SMTP:
        s = self._settings
        if s.tls == "implicit":
            return smtplib.SMTP_SSL(
                s.host, s.port, local_hostname=EHLO_NAME, timeout=s.timeout, context=context
            )
        smtp = smtplib.SMTP(s.host, s.port, local_hostname=EHLO_NAME, timeout=s.timeout)
        try:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise TLSError(
                    "the SMTP server does not offer STARTTLS",
                    public="the mail server does not offer STARTTLS",
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, *, envelope_from: str, recipients: Sequence[str], data: bytes) -> SendResult:
        """Submit ``data`` to ``recipients`` (see the ``Sender`` contract)."""
        if not recipients:
            raise RecipientRefused("no recipients", public="at least one recipient is required")
        # defence in depth: the envelope goes into SMTP command lines verbatim
        validate_header_text(envelope_from, field="sender address")
        for recipient in recipients:
            validate_header_text(recipient, field="recipient address")
        context = self._context or make_tls_context(self._settings.ca_file)
        with _smtp_errors():
            smtp = self._connect(context)
            try:
                smtp.login(self._settings.username, self._password().reveal())
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
