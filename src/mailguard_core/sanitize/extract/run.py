"""Run one extractor, in this process or in an isolated child process with hard limits.

The child is a fresh Python process (``python -m mailguard_core.sanitize.extract.child``),
used for one document only. To keep its start-up (Python and the extractors' imports) off the
caller's path, the next child is started as a standby right after each call, loads the
extractors and waits on stdin; it is ended at exit (:func:`discard_standby`). Before it reads
the document it sets POSIX resource limits: ``RLIMIT_CPU`` (its CPU time so far plus
``cpu_seconds``; the kernel stops it with SIGXCPU) and ``RLIMIT_AS`` (its address space so
far plus ``memory_bytes``; allocations past it fail). The parent waits at
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
import threading
from typing import Any

import attrs

from mailguard_core.model import errors
from mailguard_core.model.errors import (
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # the limit counts from the process's start: the imports before the job are added
    cpu = max(1, int(usage.ru_utime + usage.ru_stime + cpu_seconds + 0.999))
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


def _preload() -> None:
    """Import every extractor's libraries before the job arrives (a standby child is ready)."""
    import charset_normalizer  # noqa: F401
    import icalendar  # noqa: F401
    import pypdfium2
    import pypdfium2.raw  # noqa: F401

    from mailguard_core.sanitize import api  # noqa: F401
    from mailguard_core.sanitize.extract import docx, misc, pdf  # noqa: F401


def child_main() -> int:
    """The child process: load the extractors, read the job from stdin, set limits, extract,
    reply on stdout."""
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    try:
        _preload()
        line = stdin.readline()
        if not line:
            return 0  # a standby that was never used: the parent closed its stdin
        job = json.loads(line)
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


_standby_lock = threading.Lock()
_standby: subprocess.Popen[bytes] | None = None


def _start_child() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mailguard_core.sanitize.extract.child"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _take_child() -> subprocess.Popen[bytes]:
    """A child for this call: the standby started after the previous call (its imports done
    while nobody waited), or a fresh one."""
    global _standby
    with _standby_lock:
        child, _standby = _standby, None
        if child is not None and child.poll() is not None:
            _close(child)
            child = None
        return child if child is not None else _start_child()


def _start_standby() -> None:
    """Start the next call's child now, after this call (not competing with it for CPU)."""
    global _standby
    with _standby_lock:
        if _standby is None:
            _standby = _start_child()
        if not _registered:
            _register_exit()


def _close(child: subprocess.Popen[bytes]) -> None:
    for stream in (child.stdin, child.stdout):
        if stream is not None:
            stream.close()


_registered = False


def _register_exit() -> None:
    """End the standby when this process exits."""
    global _registered
    import atexit

    atexit.register(discard_standby)
    _registered = True


def discard_standby() -> None:
    """End the standby child, if any (at exit, and for benchmarks of a cold start)."""
    with _standby_lock:
        discard_standby_locked()


def discard_standby_locked() -> None:
    """:func:`discard_standby` with the lock held."""
    global _standby
    child, _standby = _standby, None
    if child is None:
        return
    try:
        child.kill()  # a standby holds no work: no need to wait for it to see end of input
        child.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        pass
    finally:
        _close(child)


def _exchange(process: subprocess.Popen[bytes], job: bytes, wall_seconds: float) -> bytes | None:
    """Send ``job``, read at most ``_MAX_REPLY + 1`` bytes of reply; None past the wall clock.

    Writing and reading run in threads so that neither a child that does not read nor one
    that writes without end can block the caller beyond ``wall_seconds`` or fill its memory.
    """
    replies: list[bytes] = []
    stdin, stdout = process.stdin, process.stdout
    assert stdin is not None and stdout is not None

    def write() -> None:
        try:
            stdin.write(job)
            stdin.close()
        except (OSError, ValueError):
            pass

    def read() -> None:
        try:
            replies.append(stdout.read(_MAX_REPLY + 1))
        except (OSError, ValueError):
            replies.append(b"")

    writer = threading.Thread(target=write, daemon=True)
    reader = threading.Thread(target=read, daemon=True)
    writer.start()
    reader.start()
    reader.join(wall_seconds)
    if reader.is_alive():
        process.kill()
        reader.join(5)
        writer.join(5)
        return None
    if len(replies[0]) > _MAX_REPLY:
        process.kill()
    writer.join(5)
    return replies[0]


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
    process = _take_child()
    try:
        output = _exchange(process, job, wall_seconds)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        _close(process)
        _start_standby()
    if output is None:
        raise ExtractionLimitExceeded(f"{kind}: over {wall_seconds} s wall clock")
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
