"""An in-memory :class:`~mailguard_core.ports.downloads.DownloadStore` for tests."""

from __future__ import annotations

import threading

from mailguard_core.model.errors import InputError, LimitExceeded
from mailguard_core.ports.downloads import (
    MAX_NAME_ATTEMPTS,
    Saved,
    candidate_names,
    is_plain_name,
)


class InMemoryDownloads:
    """Saved attachments in a dict (``files``: name to bytes); entries read ``memory:NAME``."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def save(self, name: str, content: bytes) -> Saved:
        if not is_plain_name(name):
            raise InputError(f"download name is not a file name: {name!r}")
        with self._lock:
            for candidate in candidate_names(name):
                if candidate not in self.files:
                    self.files[candidate] = bytes(content)
                    return Saved(location=f"memory:{candidate}", name=candidate)
        raise LimitExceeded(
            f"{MAX_NAME_ATTEMPTS} files named like {name!r} exist",
            public="too many downloads with this name; clean up the download directory",
        )
