"""Audit records, pure: argument redaction, the hash chain, and its verification.

The storage lives behind the :class:`~mailguard_core.ports.audit.AuditSink` port; this module
does no I/O. The format is described in ``docs/audit-log.md``. In short, each record is one
line of canonical JSON (sorted keys, no spaces, ASCII only) with ``seq`` (1, 2, 3 ... across
rotated files), ``prev`` (the previous record's hash; 64 zeros for the first) and, as the last
key, ``hash`` = SHA-256 (or HMAC-SHA-256 with the log's key) of the line without ``hash``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from mailguard_core.gate.redaction import clip

FORMAT_VERSION: Final = 1
GENESIS: Final = "0" * 64
RESERVED_KEYS: Final = frozenset({"v", "seq", "prev", "hash"})

#: record kinds written by the gate and by the sinks
KIND_CALL_START: Final = "call_start"
KIND_CALL_END: Final = "call_end"
KIND_OPEN: Final = "log_open"
KIND_CLOSE: Final = "log_close"
KIND_ROTATE_OUT: Final = "rotate_out"
KIND_ROTATE_IN: Final = "rotate_in"
KNOWN_KINDS: Final = frozenset(
    {KIND_CALL_START, KIND_CALL_END, KIND_OPEN, KIND_CLOSE, KIND_ROTATE_OUT, KIND_ROTATE_IN}
)
#: kinds that start a file or a session and state whether the chain is keyed
SESSION_KINDS: Final = frozenset({KIND_OPEN, KIND_ROTATE_IN})

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
)


# --------------------------------------------------------------------------- the chain


def canonical(record: Mapping[str, Any]) -> str:
    """The canonical JSON text of a record: sorted keys, no spaces, ASCII only."""
    return _encoder.encode(record)


def record_hash(body: str, key: bytes | None) -> str:
    """SHA-256 of ``body`` (the canonical text without ``hash``), or HMAC-SHA-256 with ``key``."""
    data = body.encode("ascii")
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def seal_line(body: str, digest: str) -> str:
    """The stored line (without newline): ``body`` with ``"hash"`` appended as the last key."""
    return f'{body[:-1]},"hash":"{digest}"}}'


class Chain:
    """The running state of a hash chain: the last sequence number and hash.

    Args:
        key: HMAC key, or None for plain SHA-256.
        seq: the sequence number of the last record already in the log (0 for a new log).
        prev: the hash of that record (:data:`GENESIS` for a new log).
    """

    __slots__ = ("key", "prev", "seq")

    def __init__(self, key: bytes | None = None, *, seq: int = 0, prev: str = GENESIS) -> None:
        self.key = key
        self.seq = seq
        self.prev = prev

    def seal(self, record: Mapping[str, Any]) -> tuple[int, str]:
        """Number and hash ``record``; returns (seq, line without newline) and advances.

        Raises:
            ValueError: the record uses a reserved key or is not JSON-serialisable.
        """
        if not RESERVED_KEYS.isdisjoint(record):
            raise ValueError(f"audit records may not set {sorted(RESERVED_KEYS & set(record))}")
        seq = self.seq + 1
        body = canonical({**record, "v": FORMAT_VERSION, "seq": seq, "prev": self.prev})
        digest = record_hash(body, self.key)
        self.seq = seq
        self.prev = digest
        return seq, seal_line(body, digest)


def pseudonym(value: str, *, salt: bytes, key: bytes | None = None) -> str:
    """A token for ``value``: HMAC-SHA-256 with ``key`` when given, else SHA-256 of salt+value.

    The salt of an unkeyed log is written in its ``log_open`` records, so tokens only hide
    values that cannot be guessed; a keyed log's tokens cannot be checked without the key.
    """
    data = value.encode("utf-8", "surrogatepass")
    if key is not None:
        digest = hmac.new(key, b"mailguard-pseudonym\x00" + data, hashlib.sha256).hexdigest()
    else:
        digest = hashlib.sha256(salt + data).hexdigest()
    return "p:" + digest[:32]


_last_second: tuple[int, str] = (-(2**62), "")


def format_ts(epoch_seconds: float) -> str:
    """An audit timestamp: UTC, ISO 8601, microseconds, ``Z`` suffix.

    The date-and-time part is cached per second: formatting it is most of the cost.
    """
    global _last_second
    whole = math.floor(epoch_seconds)
    micros = min(999_999, int((epoch_seconds - whole) * 1_000_000))
    cached_second, prefix = _last_second
    if cached_second != whole:
        prefix = dt.datetime.fromtimestamp(whole, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second = (whole, prefix)
    return f"{prefix}.{micros:06d}Z"


# --------------------------------------------------------------------------- verification


@attrs.frozen(kw_only=True)
class Problem:
    """The first bad record: where it is and why it is bad."""

    file: str
    line: int
    seq: int | None
    reason: str

    def describe(self) -> str:
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"{self.file} line {self.line}{seq}: {self.reason}"


@attrs.frozen(kw_only=True)
class TornTail:
    """An incomplete last line: a crash in the middle of a write, not tampering."""

    file: str
    line: int
    size: int


@attrs.frozen(kw_only=True)
class VerifyReport:
    """What :func:`verify_chain` found. ``ok`` means every record read is intact and linked."""

    files: tuple[str, ...]
    records: int
    first_seq: int | None
    last_seq: int | None
    problem: Problem | None = None
    torn_tail: TornTail | None = None
    #: the log is HMAC-keyed and no key was given: nothing after this could be checked
    needs_key: bool = False
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.needs_key


class _Verifier:
    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self.records = 0
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.prev: str | None = None
        self.open_calls: set[int] = set()
        self.problem: Problem | None = None
        self.torn: TornTail | None = None
        self.needs_key = False
        self.notes: list[str] = []
        self.last_kind: str | None = None

    def fail(self, file: str, line: int, seq: int | None, reason: str) -> None:
        self.problem = Problem(file=file, line=line, seq=seq, reason=reason)

    def check_file(self, name: str, data: bytes, *, last_file: bool) -> None:
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        for number, line in enumerate(lines, start=1):
            self.check_line(name, number, line)
            if self.problem is not None or self.needs_key:
                return
        if tail:
            number = len(lines) + 1
            try:
                json.loads(tail)
            except ValueError:
                if last_file:
                    self.torn = TornTail(file=name, line=number, size=len(tail))
                else:
                    self.fail(name, number, None, "incomplete record at the end of a rotated file")
                return
            self.check_line(name, number, tail)
            if self.problem is None and not self.needs_key:
                self.notes.append(f"{name} line {number}: the last record has no newline")

    def check_line(self, file: str, number: int, line: bytes) -> None:
        try:
            text = line.decode("ascii")
            record = json.loads(text)
        except ValueError:
            self.fail(file, number, None, "not a valid JSON record (edited or cut)")
            return
        if not isinstance(record, dict):
            self.fail(file, number, None, "not a JSON object")
            return
        raw_seq = record.get("seq")
        seq = raw_seq if isinstance(raw_seq, int) and not isinstance(raw_seq, bool) else None
        digest = record.pop("hash", None)
        if not isinstance(digest, str) or not _HASH_RE.fullmatch(digest):
            self.fail(file, number, seq, "missing or malformed hash")
            return
        if record.get("v") != FORMAT_VERSION or seq is None or "prev" not in record:
            self.fail(file, number, seq, "missing fields (v, seq, prev)")
            return
        if (
            self.key is not None
            and record.get("kind") in SESSION_KINDS
            and record.get("keyed") is not True
        ):
            self.fail(
                file,
                number,
                seq,
                "the log says it is not HMAC-keyed, but a key is expected (a keyed log "
                "rewritten without its key, or another log)",
            )
            return
        if record.get("keyed") is True and self.key is None and record.get("kind") in SESSION_KINDS:
            self.needs_key = True
            self.notes.append(
                f"{file} line {number} (seq {seq}): the log is HMAC-keyed from here on; "
                "give the key to verify it"
            )
            return
        body = canonical(record)
        if seal_line(body, digest) != text:
            self.fail(file, number, seq, "not in canonical form (the line was edited)")
            return
        if not hmac.compare_digest(record_hash(body, self.key), digest):
            why = "the hash does not match the content (the record was edited"
            why += ", or the key is wrong)" if self.key is not None else ")"
            self.fail(file, number, seq, why)
            return
        expected = 1 if self.last_seq is None else self.last_seq + 1
        if self.last_seq is None and seq != 1:
            self.fail(
                file,
                number,
                seq,
                f"the chain starts at seq {seq}, not 1: earlier records or files are missing",
            )
            return
        if seq > expected:
            self.fail(
                file,
                number,
                seq,
                f"expected seq {expected}: records before this one were deleted or reordered",
            )
            return
        if seq < expected:
            self.fail(
                file,
                number,
                seq,
                f"expected seq {expected}: this record is duplicated, reordered or inserted",
            )
            return
        if record["prev"] != (self.prev or GENESIS):
            self.fail(
                file,
                number,
                seq,
                "does not link to the previous record (a record was inserted or replaced)",
            )
            return
        kind = record.get("kind")
        if kind not in KNOWN_KINDS:
            self.fail(file, number, seq, f"unknown record kind {clip(str(kind), 40)!r}")
            return
        if kind == KIND_CALL_START:
            self.open_calls.add(seq)
        elif kind == KIND_CALL_END:
            start = record.get("start_seq")
            if not isinstance(start, int) or start not in self.open_calls:
                self.fail(file, number, seq, "an end record without a matching start record")
                return
            self.open_calls.discard(start)
        if self.first_seq is None:
            self.first_seq = seq
        self.last_seq = seq
        self.prev = digest
        self.records += 1
        self.last_kind = kind


def verify_chain(
    files: Sequence[str], read: Callable[[str], bytes], *, key: bytes | None = None
) -> VerifyReport:
    """Verify a log made of ``files`` (oldest first), each read with ``read(name)``.

    The first bad record is named by file, line and seq. An incomplete last line of the last
    file is reported as :class:`TornTail` (a crash mid-write), not as a problem. No files, or
    files holding no complete record, are a problem: every log starts with ``log_open``.

    With a ``key`` the log must be keyed throughout: every hash must be that key's HMAC and a
    ``log_open``/``rotate_in`` record that says ``keyed: false`` is a problem, so a keyed log
    rewritten as a plain SHA-256 chain fails. Without a key, a keyed log stops the check
    (``needs_key``) rather than passing.
    """
    verifier = _Verifier(key)
    for index, name in enumerate(files):
        verifier.check_file(name, read(name), last_file=index == len(files) - 1)
        if verifier.problem is not None or verifier.needs_key:
            break
    if not files:
        verifier.fail("", 0, None, "there is no log file")
    elif verifier.problem is None and not verifier.needs_key and verifier.records == 0:
        verifier.fail(
            files[-1],
            1,
            None,
            "the log has no records: every log starts with a log_open record, so it was "
            "emptied or cut",
        )
    notes = list(verifier.notes)
    intact = verifier.problem is None and not verifier.needs_key
    if intact and verifier.records and verifier.last_kind != KIND_CLOSE:
        notes.append(
            "the log does not end with a log_close record: the writer is still running "
            "or stopped without closing (records cut from the very end cannot be detected)"
        )
    return VerifyReport(
        files=tuple(files),
        records=verifier.records,
        first_seq=verifier.first_seq,
        last_seq=verifier.last_seq,
        problem=verifier.problem,
        torn_tail=verifier.torn,
        needs_key=verifier.needs_key,
        notes=tuple(notes),
    )


def iter_records(files: Iterable[str], read: Callable[[str], bytes]) -> Iterable[dict[str, Any]]:
    """Every parseable record of the files in order (for ``audit show``; verifies nothing)."""
    for name in files:
        for line in read(name).split(b"\n"):
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record
