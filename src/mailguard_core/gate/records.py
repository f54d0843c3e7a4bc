"""The gate's two audit records of a call: ``call_start`` and ``call_end`` (``docs/audit-log.md``).

Built from the typed request and the outcome only; the sink numbers, chains and writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from mailguard_core.gate.audit import KIND_CALL_END, KIND_CALL_START, format_ts
from mailguard_core.gate.redaction import clip, redact_arguments
from mailguard_core.gate.request import ToolRequest
from mailguard_core.model.errors import MailguardError, PolicyViolation

_DETAIL_CHARS: Final = 500


def start_record(
    request: ToolRequest, ts: float, pseudonymize: Callable[[str], str]
) -> dict[str, Any]:
    """The ``call_start`` record: tool, account, the arguments by their audit rules, and the
    name as asked when it is no tool; the principal's name when there is one."""
    tool = request.tool
    account = request.account
    record: dict[str, Any] = {
        "kind": KIND_CALL_START,
        "ts": format_ts(ts),
        "tool": tool.value if tool is not None else None,
        "account": clip(account, 64) if isinstance(account, str) else None,
        "args": redact_arguments(request.arguments, pseudonymize),
    }
    if tool is None:
        record["requested_tool"] = clip(request.requested, 64)
    if request.principal is not None:
        record["principal"] = clip(request.principal.name, 160)
    return record


def end_record(
    start_seq: int,
    ts: float,
    seconds: float,
    exc: BaseException | None,
    result: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ``call_end`` record: how the call ended (``ok``, ``refused``, ``error``,
    ``cancelled``), the error's code and detail, and the result summary."""
    record: dict[str, Any] = {
        "kind": KIND_CALL_END,
        "ts": format_ts(ts),
        "start_seq": start_seq,
        "ms": round(seconds * 1000.0, 3),
    }
    if exc is None:
        record["outcome"] = "ok"
    elif isinstance(exc, MailguardError):
        record["outcome"] = "refused" if isinstance(exc, PolicyViolation) else "error"
        record["code"] = exc.code
        record["detail"] = clip(str(exc), _DETAIL_CHARS)
        retry = getattr(exc, "retry_after", None)
        if isinstance(retry, float):
            record["retry_after"] = round(retry, 3)
    elif isinstance(exc, Exception):
        record["outcome"] = "error"
        record["code"] = "internal_error"
        record["detail"] = type(exc).__name__
    else:
        record["outcome"] = "cancelled"
        record["code"] = type(exc).__name__
    if result is not None:
        record["result"] = result
    return record
