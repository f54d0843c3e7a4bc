"""The ``Sender`` port: SMTP submission of one already-built message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mailguard_core.model.values import SendResult


class Sender(Protocol):
    """Submits one message. Contract, checked by ``tests/contract/``:

    - ``data`` is sent byte for byte to exactly ``recipients``, with ``envelope_from`` as
      MAIL FROM; one connection per call, closed before returning.
    - Wrong credentials raise ``AuthenticationFailed``; all recipients refused raises
      ``RecipientRefused``; TLS, timeout and connection problems raise the matching
      ``BackendError`` subclass. Only ``MailguardError`` subclasses escape.
    - A call that raises sent nothing that the caller must count (no partial success is
      hidden: recipients refused while others were accepted are listed in the result).
    """

    def send(self, *, envelope_from: str, recipients: Sequence[str], data: bytes) -> SendResult: ...
