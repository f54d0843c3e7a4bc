"""The ``AuditSink`` port: where the gate's audit records go (format: ``docs/audit-log.md``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class AuditSink(Protocol):
    """Append-only, hash-chained store of audit records. Contract, checked by
    ``tests/contract/test_audit_sink.py``:

    - ``write`` appends one record and returns its sequence number: exactly one more than the
      record stored before it (the first record of a new log is 1; a sink's own lifecycle
      records, such as ``log_open``, take numbers too), continuing across rotation and reopening.
      The sink adds ``v``, ``seq``, ``prev`` and ``hash`` (see ``mailguard_core.gate.audit``);
      a record that sets one of them, or holds something that is not JSON (str keys; str,
      int, finite float, bool, None, lists and mappings of those), raises ``AuditError`` and
      nothing is written.
    - ``durable=True`` returns only once the record is on stable storage (fsync); the sink
      may make other records durable too.
    - ``pseudonymize(value)`` maps a value (a recipient address) to a stable token: the same
      value gives the same token for the sink's lifetime, different values give different
      tokens, and the value cannot be read back from the token (salted or keyed SHA-256).
    - After ``close`` (idempotent), ``write`` raises ``AuditError``.
    - Only ``AuditError`` (and its subclasses such as ``AuditLocked``) escapes.
    - Safe to call from several threads.
    """

    def write(self, record: Mapping[str, Any], *, durable: bool = False) -> int: ...

    def pseudonymize(self, value: str) -> str: ...

    def close(self) -> None: ...
