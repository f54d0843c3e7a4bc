"""``InMemorySender``: a :class:`~mailguard_core.ports.Sender` that keeps what it is given.

:class:`LocalSender` holds what every sender that plays the server here shares (this one and
:class:`~mailguard_core.adapters.outbox_sender.OutboxSender`): the refused recipients, the
injected failure and the accept/refuse rule; a subclass says only where an accepted message goes.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from mailguard_core.model.compose import message_id_of
from mailguard_core.model.errors import MailguardError, RecipientRefused
from mailguard_core.model.values import SendResult


@attrs.frozen(kw_only=True)
class SentMessage:
    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes = attrs.field(repr=False)


class LocalSender:
    """A sender that behaves like a server for the Sender contract, never touching the network.

    Args:
        refuse: recipients (case-insensitive) the "server" refuses.
        fail_with: raised by every ``send`` (e.g. ``AuthenticationFailed()``), nothing kept.
    """

    def __init__(
        self, *, refuse: Sequence[str] = (), fail_with: MailguardError | None = None
    ) -> None:
        self.refuse = {r.lower() for r in refuse}
        self.fail_with = fail_with

    def send(self, *, envelope_from: str, recipients: Sequence[str], data: bytes) -> SendResult:
        if self.fail_with is not None:
            raise self.fail_with
        accepted = tuple(r for r in recipients if r.lower() not in self.refuse)
        refused = tuple(r for r in recipients if r.lower() in self.refuse)
        if not accepted:
            raise RecipientRefused(f"all {len(refused)} recipient(s) refused")
        self._keep(SentMessage(envelope_from=envelope_from, recipients=accepted, data=bytes(data)))
        return SendResult(message_id=message_id_of(data), accepted=accepted, refused=refused)

    def _keep(self, message: SentMessage) -> None:  # pragma: no cover - abstract
        """Deliver one accepted message (its ``recipients`` are the accepted ones)."""
        raise NotImplementedError


class InMemorySender(LocalSender):
    """Records each submission in ``sent`` (``refuse``, ``fail_with``: as :class:`LocalSender`)."""

    def __init__(
        self, *, refuse: Sequence[str] = (), fail_with: MailguardError | None = None
    ) -> None:
        super().__init__(refuse=refuse, fail_with=fail_with)
        self.sent: list[SentMessage] = []

    def _keep(self, message: SentMessage) -> None:
        self.sent.append(message)
