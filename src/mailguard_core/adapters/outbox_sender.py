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

from mailguard_core.adapters.memory_sender import LocalSender, SentMessage
from mailguard_core.model.errors import MailguardError

#: one message as the outbox holds it
Delivered = SentMessage


class OutboxSender(LocalSender):
    """Writes each submission to ``directory`` (created, mode 0700); behaves like a server for
    the Sender contract (``refuse``, ``fail_with``: as
    :class:`~mailguard_core.adapters.memory_sender.LocalSender`).
    """

    def __init__(
        self,
        directory: Path,
        *,
        refuse: Sequence[str] = (),
        fail_with: MailguardError | None = None,
    ) -> None:
        super().__init__(refuse=refuse, fail_with=fail_with)
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def _keep(self, message: SentMessage) -> None:
        envelope = json.dumps({"from": message.envelope_from, "to": list(message.recipients)})
        with self._lock:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            number = len(list(self.directory.glob("*.eml"))) + 1
            stem = self.directory / f"{number:06d}"
            for suffix, content in ((".envelope.json", envelope.encode()), (".eml", message.data)):
                partial = stem.with_name(f".{stem.name}{suffix}.tmp")
                partial.write_bytes(content)
                os.replace(partial, stem.with_name(stem.name + suffix))

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
