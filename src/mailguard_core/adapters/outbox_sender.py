"""``OutboxSender``: a :class:`~mailguard_core.ports.Sender` that delivers into a local folder,
never to the network (the demo's sends: ``mailguard-mcp demo``).

Each accepted submission becomes two files in ``directory``: ``NNNNNN.eml`` (the message,
byte for byte) and ``NNNNNN.envelope.json`` (``{"from": ..., "to": [...]}``), written to a
temporary name first and renamed, so a reader never sees half a message.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import attrs

from mailguard_core.model.compose import message_id_of
from mailguard_core.model.errors import MailguardError, RecipientRefused
from mailguard_core.model.values import SendResult


@attrs.frozen(kw_only=True)
class Delivered:
    """One message as the outbox holds it."""

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes = attrs.field(repr=False)


class OutboxSender:
    """Writes each submission to ``directory`` (created, mode 0700); behaves like a server for
    the Sender contract.

    Args:
        refuse: recipients (case-insensitive) the "server" refuses.
        fail_with: raised by every ``send`` (e.g. ``AuthenticationFailed()``), nothing kept.
    """

    def __init__(
        self,
        directory: Path,
        *,
        refuse: Sequence[str] = (),
        fail_with: MailguardError | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.refuse = {r.lower() for r in refuse}
        self.fail_with = fail_with
        self._lock = threading.Lock()

    def send(self, *, envelope_from: str, recipients: Sequence[str], data: bytes) -> SendResult:
        if self.fail_with is not None:
            raise self.fail_with
        accepted = tuple(r for r in recipients if r.lower() not in self.refuse)
        refused = tuple(r for r in recipients if r.lower() in self.refuse)
        if not accepted:
            raise RecipientRefused(f"all {len(refused)} recipient(s) refused")
        envelope = json.dumps({"from": envelope_from, "to": list(accepted)}).encode()
        with self._lock:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            number = len(list(self.directory.glob("*.eml"))) + 1
            stem = self.directory / f"{number:06d}"
            for suffix, content in ((".envelope.json", envelope), (".eml", bytes(data))):
                partial = stem.with_name(f".{stem.name}{suffix}.tmp")
                partial.write_bytes(content)
                os.replace(partial, stem.with_name(stem.name + suffix))
        return SendResult(message_id=message_id_of(data), accepted=accepted, refused=refused)

    def delivered(self) -> list[Delivered]:
        """Every message in the outbox, oldest first."""
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            envelope = json.loads(path.with_name(path.stem + ".envelope.json").read_text())
            found.append(
                Delivered(
                    envelope_from=envelope["from"],
                    recipients=tuple(envelope["to"]),
                    data=path.read_bytes(),
                )
            )
        return found
