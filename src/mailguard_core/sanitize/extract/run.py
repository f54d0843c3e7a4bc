"""Run one extractor, in this process or in an isolated child process with hard limits.

The child is a fresh Python process (``python -m mailguard_core.sanitize.extract.child``).
Before it reads the document it sets POSIX resource limits: ``RLIMIT_CPU`` (the kernel stops
it with SIGXCPU) and ``RLIMIT_AS`` (allocations past the allowance fail). The parent waits at
most ``wall_seconds`` and kills it after that. Job and reply cross the boundary as one JSON
header line plus raw bytes, and JSON back: the parent never unpickles anything a process that
has read hostile bytes wrote. A child that dies (a crash in a C library, a limit) becomes a
typed error in the parent.

Where the ``resource`` module does not exist (Windows), only the wall-clock limit and the
kill apply: a hostile file can then use memory until the wall-clock limit ends it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

import attrs

from mailguard_core import errors
from mailguard_core.errors import (
    AttachmentUnreadable,
    ExtractionLimitExceeded,
    MailguardError,
)
from mailguard_core.sanitize.extract import Extracted, ExtractLimits
from mailguard_core.sanitize.warnings import SEVERITY, SecurityWarning

KINDS = ("pdf", "docx", "html", "text", "calendar", "message")
#: the reply may be at most this many bytes (text is bounded by max_chars before that)
_MAX_REPLY = 64_000_000
#: signals that end a child at a limit: CPU time (SIGXCPU), the kill, and SIGABRT, which is
#: how pdfium and the C allocators stop when an allocation fails under RLIMIT_AS
_LIMIT_SIGNALS = frozenset(
    getattr(signal, name) for name in ("SIGXCPU", "SIGKILL", "SIGABRT") if hasattr(signal, name)
)
_ERRORS: dict[str, type[MailguardError]] = {
    cls.__name__: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, MailguardError)
}


def extract(kind: str, data: bytes, charset: str | None, limits: ExtractLimits) -> Extracted:
    """Run the extractor for ``kind`` in this process; any failure is a typed error."""
    try:
        if kind == "pdf":
            from mailguard_core.sanitize.extract.pdf import extract_pdf

            return extract_pdf(data, limits)
        if kind == "docx":
            from mailguard_core.sanitize.extract.docx import extract_docx

            return extract_docx(data, limits)
        from mailguard_core.sanitize.extract import misc

        if kind == "html":
            return misc.extract_html(data, charset, limits)
        if kind == "calendar":
            return misc.extract_calendar(data, charset, limits)
        if kind == "message":
            return misc.extract_message(data, limits)
        return misc.extract_plain(data, charset, limits)
    except MailguardError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise ExtractionLimitExceeded(f"{kind}: {type(exc).__name__}") from None
    except Exception as exc:
        raise AttachmentUnreadable(f"{kind} extractor failed: {type(exc).__name__}") from None


def _set_limits(cpu_seconds: float, memory_bytes: int) -> None:
    """POSIX limits for this (child) process; nothing where ``resource`` does not exist."""
    try:
        import resource  # POSIX only: imported in the child, never at module level
    except ImportError:
        return
    cpu = max(1, int(cpu_seconds + 0.999))
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or hard > cpu + 1:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
        import os

        current = pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return  # no /proc: the address space in use is unknown, RLIMIT_AS is not set
    allowance = current + memory_bytes
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard >= allowance:
        resource.setrlimit(resource.RLIMIT_AS, (allowance, hard))


def to_json(extracted: Extracted) -> dict[str, Any]:
    """An :class:`Extracted` as JSON-ready data."""
    data = attrs.asdict(extracted, recurse=False)
    data["warnings"] = [w.to_dict() for w in extracted.warnings]
    data["links"] = [list(link) for link in extracted.links]
    return data


def from_json(data: Any) -> Extracted:
    """An :class:`Extracted` back from JSON written by a child, every field type-checked.

    Raises:
        AttachmentUnreadable: the reply is not what a child writes.
    """
    try:
        out = Extracted(
            text=_str(data["text"]),
            extractor=_str(data["extractor"])[:200],
            pages=None if data["pages"] is None else int(data["pages"]),
            truncated=bool(data["truncated"]),
            hidden={_str(k): int(v) for k, v in dict(data["hidden"]).items()},
            hidden_text={_str(k): _str(v) for k, v in dict(data["hidden_text"]).items()},
            links=[(_str(h), _str(t)) for h, t in list(data["links"])],
            warnings=[_warning(w) for w in list(data["warnings"])],
            limits_hit=[_str(x) for x in list(data["limits_hit"])],
            nested=None if data["nested"] is None else dict(data["nested"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise AttachmentUnreadable(f"malformed extractor reply: {type(exc).__name__}") from None
    return out


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _warning(item: Any) -> SecurityWarning:
    code = _str(item["code"])
    if code not in SEVERITY:
        raise ValueError("unknown warning code")
    return SecurityWarning(
        code=code, severity=SEVERITY[code], location=_str(item["location"])[:100],
        detail=dict(item["detail"]),
    )  # fmt: skip


def child_main() -> int:
    """The child process: read the job from stdin, set limits, extract, reply on stdout."""
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    try:
        job = json.loads(stdin.readline())
        _set_limits(float(job["cpu_seconds"]), int(job["memory_bytes"]))
        data = stdin.read()
        limits = ExtractLimits(**job["limits"])
        extracted = extract(str(job["kind"]), data, job["charset"], limits)
        reply: dict[str, Any] = {"ok": to_json(extracted)}
    except MailguardError as exc:
        reply = {"error": [type(exc).__name__, str(exc)[:500], exc.public_message]}
    except BaseException as exc:  # a limit hit outside the extractor (reading, setting up)
        reply = {"error": ["ExtractionLimitExceeded", f"child: {type(exc).__name__}", None]}
    try:
        stdout.write(json.dumps(reply, ensure_ascii=True).encode("ascii"))
        stdout.flush()
    except BaseException:
        return 1
    return 0


def extract_isolated(
    kind: str,
    data: bytes,
    charset: str | None,
    limits: ExtractLimits,
    *,
    cpu_seconds: float,
    memory_bytes: int,
    wall_seconds: float,
) -> Extracted:
    """Run the extractor for ``kind`` in a child process with CPU, memory and time limits.

    Raises:
        ExtractionLimitExceeded: a limit ended the child.
        AttachmentUnreadable: the extractor failed, or the child died.
        MailguardError: any other typed error the extractor raised.
    """
    header = {
        "kind": kind, "charset": charset, "limits": attrs.asdict(limits),
        "cpu_seconds": cpu_seconds, "memory_bytes": memory_bytes,
    }  # fmt: skip
    job = json.dumps(header).encode("ascii") + b"\n" + data
    process = subprocess.Popen(
        [sys.executable, "-m", "mailguard_core.sanitize.extract.child"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        output, _ = process.communicate(job, timeout=wall_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise ExtractionLimitExceeded(f"{kind}: over {wall_seconds} s wall clock") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    code = process.returncode
    if not output or len(output) > _MAX_REPLY:
        if code is not None and -code in _LIMIT_SIGNALS:
            raise ExtractionLimitExceeded(f"{kind}: ended by a limit (exit {code})")
        raise AttachmentUnreadable(f"{kind}: the extractor process died (exit {code})")
    try:
        reply = json.loads(output)
    except ValueError:
        raise AttachmentUnreadable(f"{kind}: unreadable extractor reply") from None
    if isinstance(reply, dict) and "ok" in reply:
        return from_json(reply["ok"])
    try:
        name, detail, public = reply["error"]
    except (KeyError, TypeError, ValueError):
        raise AttachmentUnreadable(f"{kind}: malformed extractor reply") from None
    cls = _ERRORS.get(str(name), AttachmentUnreadable)
    try:
        error = cls(str(detail)[:500], public=public if isinstance(public, str) else None)
    except TypeError:
        error = AttachmentUnreadable(str(detail)[:500])
    raise error
