"""The ``AuditSink`` port (issue 3 owns its final contract)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class AuditSink(Protocol):
    """Append-only store of audit records (see ``docs/audit-log.md``)."""

    def write(self, record: Mapping[str, object], *, durable: bool = False) -> None: ...

    def close(self) -> None: ...
