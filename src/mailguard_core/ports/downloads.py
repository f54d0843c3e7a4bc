"""The ``DownloadStore`` port: where ``download_attachment`` puts an attachment's bytes."""

from __future__ import annotations

from typing import Protocol

import attrs


@attrs.frozen
class Saved:
    """Where a saved attachment is: ``location`` as a user would open it (a path for the
    filesystem), ``name`` the entry's own name (the file name it was given)."""

    location: str
    name: str


class DownloadStore(Protocol):
    """Keeps saved attachments. Contract, checked by ``tests/contract/test_download_store.py``:

    - ``save(name, content)`` stores ``content`` byte for byte under a new entry named
      ``name``, or ``stem-1.ext``, ``stem-2.ext`` ... when that name is taken; it never
      replaces or changes an existing entry, and never follows a link.
    - It returns where the entry is (:class:`Saved`): its location as a user would open it (a
      path for the filesystem) and the name it got.
    - A ``name`` that is not one plain file name (empty, ``.``, ``..``, a path separator or a
      NUL) raises ``InputError``; nothing is stored. Callers pass ``safe_filename`` output.
    - After ``MAX_NAME_ATTEMPTS`` taken names it raises ``LimitExceeded``; a storage failure
      raises ``MailguardError`` with a public message that names no path.
    """

    def save(self, name: str, content: bytes) -> Saved: ...


#: how many numbered names ``save`` tries before it gives up
MAX_NAME_ATTEMPTS = 1000


def candidate_names(name: str, attempts: int = MAX_NAME_ATTEMPTS) -> list[str]:
    """``name``, then ``stem-1.ext``, ``stem-2.ext`` ...: the names ``save`` tries, in order
    (one rule for every adapter)."""
    stem, dot, suffix = name.rpartition(".")
    if not stem:
        stem, dot, suffix = name, "", ""
    return [name if i == 0 else f"{stem}-{i}{dot}{suffix}" for i in range(attempts)]


def is_plain_name(name: str) -> bool:
    """Whether ``name`` is one file name: not empty, not ``.``/``..``, no separator, no NUL."""
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\x00")
