"""Saved attachments as files in one directory (the account's ``download_dir``, else
``downloads`` in the state folder: on Linux ``$XDG_STATE_HOME/mailguard/downloads``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mailguard_core.model.errors import InputError, LimitExceeded, MailguardError
from mailguard_core.ports.downloads import (
    MAX_NAME_ATTEMPTS,
    Saved,
    candidate_names,
    is_plain_name,
)
from mailguard_core.system.paths import state_dir
from mailguard_core.system.portable import ELOOP, open_nofollow


def default_download_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``downloads`` in :func:`mailguard_core.system.paths.state_dir` (on Linux
    ``$XDG_STATE_HOME/mailguard/downloads``, ``~/.local/state/...`` when unset)."""
    return state_dir(environ) / "downloads"


class DirectoryDownloads:
    """A :class:`~mailguard_core.ports.downloads.DownloadStore` over one directory, created
    (mode 0700) on the first save. Each file is created new (``O_EXCL``, mode 0600, never
    through a link) inside the directory, whatever the name says."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, name: str, content: bytes) -> Saved:
        if not is_plain_name(name):
            raise InputError(f"download name is not a file name: {name!r}")
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        root = self.root.resolve()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        for candidate in candidate_names(name):
            path = root / candidate
            if path.parent != root:
                raise InputError(f"download name escapes its directory: {name!r}")
            if path.is_symlink():
                continue
            try:
                fd = open_nofollow(path, flags, 0o600)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno == ELOOP:
                    continue
                raise MailguardError(
                    f"cannot write download {path}: {exc.strerror}",
                    public="the attachment could not be saved",
                ) from exc
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            return Saved(location=str(path), name=candidate)
        raise LimitExceeded(
            f"{MAX_NAME_ATTEMPTS} files named like {name!r} exist",
            public="too many downloads with this name; clean up the download directory",
        )
