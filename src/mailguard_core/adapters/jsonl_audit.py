"""``JsonlAuditSink``: the audit log as an append-only, hash-chained JSON Lines file.

See ``docs/audit-log.md``. The file is created with mode 0600 (and set to 0600 if it exists),
never through a symlink (:mod:`mailguard_core.system.portable`). A lock file (``PATH.lock``, taken
with ``filelock``: ``flock`` on POSIX, ``LockFileEx`` on Windows) is held for the sink's
lifetime: a second process (or a second sink) on the same path gets :class:`AuditLocked`.
Each record is one ``os.write`` of a whole line on an ``O_APPEND`` descriptor; lifecycle
records (``log_open``, ``rotate_*``, ``log_close``) are always fsynced, tool records only
with ``fsync_tool_records``. When the file reaches ``rotate_bytes`` it is renamed to
``PATH.NNNNNN`` (1, 2, ...) and a new ``PATH`` continues the same chain.

Reopening continues the chain of the existing log. An incomplete last line (a crash in the
middle of a write) is cut off, and the ``log_open`` record says how many bytes were cut and
their SHA-256. If the last record does not verify with this sink's key (another key, no key,
or an edit), opening fails rather than extending a chain that cannot be verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mailguard_core.gate.audit import (
    GENESIS,
    KIND_CLOSE,
    KIND_OPEN,
    KIND_ROTATE_IN,
    KIND_ROTATE_OUT,
    Chain,
    VerifyReport,
    canonical,
    format_ts,
    pseudonym,
    record_hash,
    verify_chain,
)
from mailguard_core.gate.clock import Clock, MonotonicClock
from mailguard_core.model.errors import AuditError, AuditLocked
from mailguard_core.ports.secrets import Secret
from mailguard_core.system.portable import fsync_directory, make_private, open_nofollow, pread

with warnings.catch_warnings():
    # Off Windows and without fcntl.flock, filelock falls back to its soft lock (a marker
    # file naming the holder's pid, broken when that process is gone) and warns once at
    # import; the soft lock still keeps one writer (docs/platforms.md).
    warnings.filterwarnings("ignore", "only soft file lock is available", UserWarning)
    import filelock

_ROTATED_RE = re.compile(r"\.([0-9]{6})")
_TAIL_CHUNK = 65_536
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT
#: filelock's own kernel locks (not its soft fallback) hand the lock's descriptor to us
_NATIVE_LOCK = issubclass(filelock.FileLock, (filelock.UnixFileLock, filelock.WindowsFileLock))


def log_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files of the log at ``path``, oldest first: ``PATH.000001`` ... then ``PATH``."""
    base = Path(path)
    rotated: list[tuple[int, Path]] = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in base.parent.iterdir():
            name = entry.name
            if name.startswith(base.name):
                match = _ROTATED_RE.fullmatch(name[len(base.name) :])
                if match:
                    rotated.append((int(match.group(1)), entry))
    files = [entry for _, entry in sorted(rotated)]
    if base.exists():
        files.append(base)
    return files


def verify_log(path: str | os.PathLike[str], *, key: bytes | None = None) -> VerifyReport:
    """Verify the log at ``path`` with its rotated files.

    Raises:
        AuditError: a file cannot be read.
    """
    files = log_files(path)
    by_name = {str(f): f for f in files}
    try:
        return verify_chain(list(by_name), lambda name: by_name[name].read_bytes(), key=key)
    except OSError as exc:
        raise AuditError(f"cannot read the audit log: {exc.strerror}") from exc


def _key_bytes(key: Secret | None) -> bytes | None:
    if key is None:
        return None
    value = key.reveal().encode("utf-8")
    if len(value) < 16:
        raise AuditError("the audit HMAC key is too short (16 bytes at least)")
    return value


def _last_line(fd: int, size: int) -> tuple[bytes, int]:
    """(the last complete line, the offset just after it); (b"", 0) when there is none."""
    buffer = b""
    position = size
    while position > 0:
        start = max(0, position - _TAIL_CHUNK)
        buffer = pread(fd, position - start, start) + buffer
        position = start
        stop = buffer.rfind(b"\n")
        if stop == -1:
            continue
        begin = buffer.rfind(b"\n", 0, stop)
        if begin == -1 and position > 0:
            continue
        return buffer[begin + 1 : stop], position + stop + 1
    return b"", 0


def _write_holder(fd: int) -> None:
    """Write ``"\\n<pid>\\n"`` into the locked file: the pid starts at byte 1 because Windows
    locks byte 0 (``LockFileEx``), which the refused process then cannot read."""
    data = f"\n{os.getpid()}\n".encode("ascii")
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.ftruncate(fd, len(data))


def _holder(lock: filelock.BaseFileLock, lock_path: Path) -> str:
    """The pid of the process holding ``lock_path``, or ``unknown``."""
    try:
        pid = lock.pid  # type: ignore[attr-defined]  # a soft lock's marker names its holder
    except (AttributeError, OSError, ValueError):
        pid = None
    if isinstance(pid, int):
        return str(pid)
    try:
        fd = open_nofollow(lock_path, os.O_RDONLY)
    except OSError:
        return "unknown"
    try:
        text = pread(fd, 32, 1).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    finally:
        os.close(fd)
    return text if text.isdigit() else "unknown"


class JsonlAuditSink:
    """The JSONL audit log adapter (see the module docstring).

    Args:
        path: the active log file.
        hmac_key: key for HMAC-SHA-256 chaining (from the secret store, entry ``audit-hmac``).
        rotate_bytes: rotate when the active file reaches this size.
        fsync_tool_records: fsync every record, not just lifecycle records.
        clock: wall clock for the lifecycle records' timestamps.

    Raises:
        AuditLocked: another process (or sink) holds the log.
        AuditError: the log cannot be opened, or its last record does not verify.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        hmac_key: Secret | None = None,
        rotate_bytes: int = 50_000_000,
        fsync_tool_records: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self.path = Path(path)
        self._key = _key_bytes(hmac_key)
        self._rotate_bytes = max(4096, rotate_bytes)
        self._fsync_all = fsync_tool_records
        self._clock = clock or MonotonicClock()
        self._salt = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._fd = -1
        self._file_lock: filelock.BaseFileLock | None = None
        self._closed = False
        self._broken = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._acquire_lock()
            chain, repaired = self._recover()
            self._chain = chain
            self._fd = open_nofollow(self.path, _OPEN_FLAGS, 0o600)
            make_private(self._fd)
            self._size = os.fstat(self._fd).st_size
            opening: dict[str, Any] = {"kind": KIND_OPEN, "pid": os.getpid(), **self._session()}
            if repaired is not None:
                opening["torn_tail_removed"] = repaired
            self._append(opening, durable=True)
        except OSError as exc:
            self._release()
            raise AuditError(f"cannot open the audit log {self.path}: {exc.strerror}") from exc
        except AuditError:
            self._release()
            raise

    # -- port ---------------------------------------------------------------------------

    def write(self, record: Mapping[str, Any], *, durable: bool = False) -> int:
        with self._lock:
            seq = self._append(record, durable=durable or self._fsync_all)
            if self._size >= self._rotate_bytes:
                self._rotate()
            return seq

    def pseudonymize(self, value: str) -> str:
        return pseudonym(value, salt=self._salt, key=self._key)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                if not self._broken and self._fd >= 0:
                    self._append({"kind": KIND_CLOSE, "pid": os.getpid()}, durable=True)
            finally:
                self._closed = True
                self._release()

    def __enter__(self) -> JsonlAuditSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _session(self) -> dict[str, Any]:
        return {
            "keyed": self._key is not None,
            "salt": self._salt.hex(),
            "format": "mailguard-audit",
        }

    def _acquire_lock(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock = filelock.FileLock(
            lock_path,
            timeout=0,
            mode=0o600,
            thread_local=False,  # taken at open, released by close, whichever thread
            on_acquired=_write_holder if _NATIVE_LOCK else None,
        )
        try:
            lock.acquire()
        except filelock.Timeout as exc:
            raise AuditLocked(
                f"the audit log {self.path} is locked by another mailguard process "
                f"(pid {_holder(lock, lock_path)}); stop it or configure another audit path"
            ) from exc
        self._file_lock = lock

    def _release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        if self._file_lock is not None:
            with contextlib.suppress(OSError):
                self._file_lock.release(force=True)
            self._file_lock = None

    def _recover(self) -> tuple[Chain, dict[str, Any] | None]:
        """The chain state to continue from, cutting a torn last line off the active file."""
        repaired: dict[str, Any] | None = None
        files = log_files(self.path)
        for file in reversed(files):
            active = file == self.path
            mode = os.O_RDWR if active else os.O_RDONLY
            fd = open_nofollow(file, mode)
            try:
                size = os.fstat(fd).st_size
                line, complete_end = _last_line(fd, size)
                if complete_end < size and active:
                    torn = pread(fd, size - complete_end, complete_end)
                    repaired = {"bytes": len(torn), "sha256": hashlib.sha256(torn).hexdigest()}
                    os.ftruncate(fd, complete_end)
                    os.fsync(fd)
            finally:
                os.close(fd)
            if line:
                return self._chain_after(line, file), repaired
        return Chain(self._key, seq=0, prev=GENESIS), repaired

    def _chain_after(self, line: bytes, file: Path) -> Chain:
        try:
            record = json.loads(line)
            digest = record.pop("hash")
            seq = record["seq"]
            ok = isinstance(seq, int) and record_hash(canonical(record), self._key) == digest
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise AuditError(
                f"the last record of {file} does not verify with this audit key (another key, "
                "no key, or an edit): run 'mailguard-mcp audit verify' and use a new audit path"
            )
        return Chain(self._key, seq=seq, prev=digest)

    def _append(self, record: Mapping[str, Any], *, durable: bool) -> int:
        if self._closed or self._broken:
            raise AuditError("the audit log is closed" if self._closed else "the audit log failed")
        record = dict(record)
        record.setdefault("ts", format_ts(self._clock.time()))
        try:
            seq, line = self._chain.seal(record)
        except (TypeError, ValueError) as exc:
            raise AuditError(f"unserialisable audit record: {exc}") from exc
        data = (line + "\n").encode("ascii")
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if durable:
                os.fsync(self._fd)
        except OSError as exc:
            self._broken = True
            raise AuditError(f"audit log write failed: {exc.strerror}") from exc
        self._size += len(data)
        return seq

    def _rotate(self) -> None:
        existing = [
            int(m.group(1))
            for f in log_files(self.path)
            if (m := _ROTATED_RE.fullmatch(f.name[len(self.path.name) :]))
        ]
        rotated = self.path.with_name(f"{self.path.name}.{max(existing, default=0) + 1:06d}")
        self._append({"kind": KIND_ROTATE_OUT, "renamed_to": rotated.name}, durable=True)
        try:
            os.close(self._fd)
            self._fd = -1
            os.rename(self.path, rotated)
            self._fd = open_nofollow(self.path, _OPEN_FLAGS | os.O_EXCL, 0o600)
            make_private(self._fd)
            self._sync_directory()
        except OSError as exc:
            self._broken = True
            raise AuditError(f"audit log rotation failed: {exc.strerror}") from exc
        self._size = 0
        self._append(
            {"kind": KIND_ROTATE_IN, "previous_file": rotated.name, **self._session()},
            durable=True,
        )

    def _sync_directory(self) -> None:
        fsync_directory(self.path.parent)
