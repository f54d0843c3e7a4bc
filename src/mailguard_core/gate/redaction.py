"""How the audit log keeps a call's arguments and result: by rule, clipped, never content.

The rules come with the request (:class:`~mailguard_core.gate.request.AuditArgument`, from the
tool table); this module applies them. Pure: no I/O (``docs/audit-log.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from mailguard_core.gate.request import AuditArgument, Redaction

REDACTED: Final = "[redacted]"

_MAX_KEPT_CHARS = 256
_MAX_ITEMS = 100
_MAX_UNKNOWN_KEYS = 20
_MAX_KEY_CHARS = 64


def clip(text: str, limit: int = _MAX_KEPT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with a marker when cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...[{len(text) - limit} more chars]"


def _keep(value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else REDACTED
    if isinstance(value, str):
        return clip(value)
    if isinstance(value, list | tuple) and depth == 0:
        kept = [_keep(item, 1) for item in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            kept.append(f"...[{len(value) - _MAX_ITEMS} more]")
        return kept
    return REDACTED


def _length(value: Any) -> Any:
    if isinstance(value, str):
        return {"len": len(value)}
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return {"len": sum(len(v) for v in value), "items": len(value)}
    if value is None or isinstance(value, bool):
        return value
    return REDACTED


def _pseudonym(value: Any, pseudonymize: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return pseudonymize(value.strip().lower())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        hashed = [pseudonymize(v.strip().lower()) for v in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            hashed.append(f"...[{len(value) - _MAX_ITEMS} more]")
        return hashed
    if value is None:
        return None
    return REDACTED


def redact_arguments(
    arguments: Iterable[AuditArgument], pseudonymize: Callable[[str], str]
) -> dict[str, Any]:
    """The arguments of a call as the audit log keeps them, each by its rule
    (:class:`~mailguard_core.gate.request.Redaction`, from the tool table).

    Message refs, folder names, labels, flags and limits are kept (clipped); subjects, bodies
    and search terms become length markers; recipients become pseudonyms (salted or keyed
    hashes, by the sink); every argument without a rule (unknown arguments, every argument
    of an unknown tool) is ``"[redacted]"``. Secrets are never arguments of any tool.
    """
    out: dict[str, Any] = {}
    unknown = 0
    for argument in arguments:
        key, rule, value = argument.key, argument.rule, argument.value
        if rule is None:
            unknown += 1
            if unknown <= _MAX_UNKNOWN_KEYS:
                out[clip(key, _MAX_KEY_CHARS)] = REDACTED
        elif rule is Redaction.NAME:
            out[key] = _keep(value) if isinstance(value, str) or value is None else REDACTED
        elif rule is Redaction.KEEP:
            out[key] = _keep(value)
        elif rule is Redaction.LENGTH:
            out[key] = _length(value)
        else:
            out[key] = _pseudonym(value, pseudonymize)
    if unknown > _MAX_UNKNOWN_KEYS:
        out["..."] = f"{unknown - _MAX_UNKNOWN_KEYS} more redacted arguments"
    return out


def summarize_result(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A caller's result summary, kept small: scalars and short lists of scalars only."""
    out: dict[str, Any] = {}
    for raw_key, value in list(summary.items())[:_MAX_UNKNOWN_KEYS]:
        kept = _keep(value)
        out[clip(str(raw_key), _MAX_KEY_CHARS)] = kept
    return out
