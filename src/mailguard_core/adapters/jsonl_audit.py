"""``JsonlAuditSink``: the audit log as an append-only, hash-chained JSON Lines file.

See ``docs/audit-log.md``. The file is created with mode 0600 (and set to 0600 if it exists),
never through a symlink. A lock file (``PATH.lock``, ``flock``) is held for the sink's
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
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mailguard_core.errors import AuditError, AuditLocked
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
from mailguard_core.ports.secrets import Secret

_ROTATED_RE = re.compile(r"\.([0-9]{6})")
_TAIL_CHUNK = 65_536
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


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
        buffer = os.pread(fd, position - start, start) + buffer
        position = start
        stop = buffer.rfind(b"\n")
        if stop == -1:
            continue
        begin = buffer.rfind(b"\n", 0, stop)
        if begin == -1 and position > 0:
            continue
        return buffer[begin + 1 : stop], position + stop + 1
    return b"", 0


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
        self._lock_fd = -1
        self._closed = False
        self._broken = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._acquire_lock()
            chain, repaired = self._recover()
            self._chain = chain
            self._fd = os.open(self.path, _OPEN_FLAGS, 0o600)
            os.fchmod(self._fd, 0o600)
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
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise AuditLocked(
                    f"the audit log {self.path} is locked by another mailguard process "
                    f"(pid {holder}); stop it or configure another audit path"
                ) from exc
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = -1

    def _recover(self) -> tuple[Chain, dict[str, Any] | None]:
        """The chain state to continue from, cutting a torn last line off the active file."""
        repaired: dict[str, Any] | None = None
        files = log_files(self.path)
        for file in reversed(files):
            active = file == self.path
            mode = os.O_RDWR if active else os.O_RDONLY
            fd = os.open(file, mode | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                size = os.fstat(fd).st_size
                line, complete_end = _last_line(fd, size)
                if complete_end < size and active:
                    torn = os.pread(fd, size - complete_end, complete_end)
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
            self._fd = os.open(self.path, _OPEN_FLAGS | os.O_EXCL, 0o600)
            os.fchmod(self._fd, 0o600)
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
        fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
