"""``InMemoryAuditSink``: the audit log as a list, hash-chained like the JSONL file."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from mailguard_core.gate.audit import Chain, pseudonym
from mailguard_core.model.errors import AuditError


class InMemoryAuditSink:
    """Keeps every record in :attr:`records` (dicts with ``seq``/``prev``/``hash`` added).

    :attr:`lines` holds the same records as the JSONL adapter would write them, so
    ``verify_chain`` applies; :attr:`durable` holds the seqs written with ``durable=True``.
    """

    def __init__(self, *, hmac_key: bytes | None = None) -> None:
        self.records: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.durable: list[int] = []
        self.closed = False
        self._chain = Chain(hmac_key)
        self._salt = secrets.token_bytes(16)
        self._key = hmac_key
        self._lock = threading.Lock()

    def write(self, record: Mapping[str, Any], *, durable: bool = False) -> int:
        with self._lock:
            if self.closed:
                raise AuditError("write to a closed audit sink")
            try:
                seq, line = self._chain.seal(record)
            except (TypeError, ValueError) as exc:
                raise AuditError(f"unserialisable audit record: {exc}") from exc
            self.lines.append(line)
            self.records.append(json.loads(line))
            if durable:
                self.durable.append(seq)
            return seq

    def pseudonymize(self, value: str) -> str:
        return pseudonym(value, salt=self._salt, key=self._key)

    def close(self) -> None:
        self.closed = True

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """The records whose ``kind`` is ``kind``, in order."""
        return [r for r in self.records if r.get("kind") == kind]
