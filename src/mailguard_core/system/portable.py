"""The few file-system operations that differ between Linux, macOS and Windows.

mailguard writes three kinds of file itself: the audit log, its lock, and downloaded
attachments. Each must be private to the user and must never be written through a link an
attacker planted. This module gives each platform's strongest form of that and imports no
POSIX-only module (``fcntl``, ``pwd``, ``grp``, ``resource``, ``termios``), so that both
packages import on Windows (``tests/unit/test_portable.py`` and
``tests/mcp/test_posixless.py`` check it, the second with those modules made unimportable).

**Not following links.** Where ``os.O_NOFOLLOW`` exists (Linux, macOS, the BSDs) the kernel
refuses a symbolic link in the last path component: :func:`open_nofollow` passes it and adds
nothing. Where it does not (Windows) the check is ``lstat`` before the open (a symbolic link or
any reparse point, junctions included, is refused) and, after the open, the opened handle's
identity (``st_dev``, ``st_ino`` from ``fstat``) must equal the path's (``lstat`` again). That
detects a link swapped in between the check and the open, but only after the open: with
``O_CREAT`` such a race could leave an empty file where the link pointed. Creating symbolic
links on Windows needs a privilege or Developer Mode, and the directories are the user's own.

**Private modes.** ``0600`` files and ``0700`` directories where the mode bits are the access
control (POSIX). On Windows the bits only toggle read-only; privacy comes from the ACL of the
user's profile, under which the default paths (:mod:`mailguard_core.system.paths`) lie. A path
configured elsewhere on Windows gets that directory's ACL: documented in
``docs/platforms.md``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: the kernel refuses a symlink in the last component (0 where the flag does not exist)
O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
#: descriptors are not inherited by children (POSIX close-on-exec; Windows no-inherit) and
#: never translate newlines (Windows text mode)
_PRIVATE = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOINHERIT", 0) | getattr(os, "O_BINARY", 0)
#: the errno of a refused link (``ELOOP`` on POSIX, where the kernel reports it)
ELOOP: int = getattr(errno, "ELOOP", 40)
#: whether mode bits are the access control here (not on Windows)
POSIX_MODES: bool = os.name == "posix"


def is_link(st: os.stat_result) -> bool:
    """A symbolic link, or (Windows) any reparse point such as a junction."""
    attributes = getattr(st, "st_file_attributes", 0)
    return stat.S_ISLNK(st.st_mode) or bool(attributes & stat.FILE_ATTRIBUTE_REPARSE_POINT)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    if a.st_ino == 0 and b.st_ino == 0:  # a file system without file ids (FAT): cannot tell
        return a.st_dev == b.st_dev
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _refused(path: str | os.PathLike[str], why: str) -> OSError:
    return OSError(ELOOP, why, os.fspath(path))


def open_nofollow(path: str | os.PathLike[str], flags: int, mode: int = 0o600) -> int:
    """``os.open`` that never goes through a link in the last path component.

    ``O_CLOEXEC``/``O_NOINHERIT`` and ``O_BINARY`` are added where they exist.

    Raises:
        OSError: as ``os.open``; ``errno == ELOOP`` when the path is a link (or became one).
    """
    if O_NOFOLLOW:
        return os.open(path, flags | O_NOFOLLOW | _PRIVATE, mode)
    return open_checked(path, flags, mode)


def open_checked(path: str | os.PathLike[str], flags: int, mode: int = 0o600) -> int:
    """The check used where ``O_NOFOLLOW`` does not exist: ``lstat``, open, compare identity.

    Public so that the fallback is tested on every platform, not only where it is used.
    """
    try:
        before: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        before = None
    if before is not None and is_link(before):
        raise _refused(path, "refusing to open a symbolic link or reparse point")
    fd = os.open(path, flags | _PRIVATE, mode)
    try:
        opened = os.fstat(fd)
        now = os.lstat(path)
        if (
            is_link(now)
            or not _same_file(now, opened)
            or (before is not None and not _same_file(before, opened))
        ):
            raise _refused(path, "the path changed while it was being opened")
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_private(fd: int) -> None:
    """Set an open file to ``0600`` where mode bits are the access control (see the module)."""
    if POSIX_MODES:
        os.fchmod(fd, 0o600)


def pread(fd: int, size: int, offset: int) -> bytes:
    """``os.pread`` where it exists; elsewhere seek and read (the descriptor's position moves,
    so use it only on a descriptor no other thread reads)."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    chunks: list[bytes] = []
    while size > 0:
        chunk = os.read(fd, size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Make a rename in ``path`` durable: ``fsync`` of the directory where a directory can be
    opened (POSIX); nothing on Windows, whose NTFS journals the rename itself."""
    directory_flag = getattr(os, "O_DIRECTORY", None)
    if directory_flag is None:
        return
    fd = os.open(Path(path), os.O_RDONLY | directory_flag | _PRIVATE)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
