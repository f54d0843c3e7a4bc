"""One tool call, face-independent: check the arguments, build the typed request the gate
sees, find the account, build the service call, and summarize the result for the audit log.

Both faces use these: the MCP server (``mailguard_mcp.server``, async, in worker threads) and
the library's :class:`~mailguard_core.app.mailbox.Mailbox` (sync), through :func:`prepare`.
Arguments are the JSON-shaped ``dict`` a tool takes over MCP, validated against the tool's
full input schema (:data:`mailguard_core.services.tooldefs.TOOL_DEFS`), so both faces accept and
refuse the same calls and the gate audits the same arguments. Everything per tool comes from
the tool table; nothing here names a tool's arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mailguard_core.config import Config
from mailguard_core.gate import Gate, Guard
from mailguard_core.gate.request import AuditArgument, Redaction, ToolRequest
from mailguard_core.model.errors import InputError, MailguardError
from mailguard_core.model.tools import INFRASTRUCTURE_TOOLS, Posture, ToolName, parse_tool_name
from mailguard_core.model.values import MessageRef
from mailguard_core.services.results import AccountList, AccountUsed
from mailguard_core.services.toolcalls import (
    criteria_of,
    outgoing_request_of,
    read_ref,
    read_refs,
    refs_of,
)
from mailguard_core.services.tooldefs import ACCOUNT_ARG, TOOL_DEFS, Role, ServiceCall

if TYPE_CHECKING:
    from mailguard_core.gate.principals import Principal

__all__ = [
    "Prepared",
    "ServiceCall",
    "ToolGate",
    "criteria_of",
    "describe",
    "outgoing_request_of",
    "prepare",
    "prepare_call",
    "refs_of",
    "validate_arguments",
]


# ---------------------------------------------------------------- argument handling
@functools.cache
def _validator(name: ToolName) -> Any:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    return Draft202012Validator(TOOL_DEFS[name].input_schema)


def validate_arguments(name: ToolName, arguments: Mapping[str, Any]) -> None:
    """Check the arguments against the tool's input schema.

    Raises:
        InputError: with the first problem (argument path and what is wrong).
    """
    errors = sorted(_validator(name).iter_errors(dict(arguments)), key=lambda e: list(e.path))
    if not errors:
        return
    error = errors[0]
    where = "/".join(str(p) for p in error.path) or "arguments"
    what = {
        "required": "a required argument is missing",
        "additionalProperties": "an unknown argument was given",
        "pattern": "has an invalid format",
        "type": "has the wrong type",
        "maxLength": "is too long",
        "minLength": "is too short",
        "maximum": "is too large",
        "minimum": "is too small",
        "maxItems": "has too many items",
        "minItems": "has too few items",
        "uniqueItems": "has duplicate items",
    }.get(str(error.validator), "is invalid")
    detail = error.message[:300]
    if error.validator in ("required", "additionalProperties"):
        public = f"{what}: {detail[:160]}"
    else:
        public = f"argument {where[:80]} {what}"
    raise InputError(f"{name}: {where}: {detail}", public=public)


def _name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(
            f"argument {key!r} must be a non-empty string", public=f"{key} is required"
        )
    return value


def _ref_tuple(key: str, value: Any) -> tuple[MessageRef, ...]:
    return (read_ref(key, value),)


#: the ToolRequest field each role fills, and how its value is read
_FIELDS: dict[Role, tuple[str, Callable[[str, Any], object]]] = {
    Role.REF: ("refs", _ref_tuple),
    Role.REFS: ("refs", read_refs),
    Role.REPLY_TO: ("reply_to", read_ref),
    Role.FOLDER: ("folder", _name),
    Role.NEW_FOLDER: ("new_folder", _name),
    Role.DESTINATION: ("destination", _name),
    Role.LABEL: ("label", _name),
}


def describe(
    requested: object,
    account: str | None,
    arguments: object,
    *,
    invalid: MailguardError | None = None,
    principal: Principal | None = None,
) -> ToolRequest:
    """The typed request of a call (by the tool table): refs parsed, folder names by role,
    every argument with its audit rule. A value that cannot be read becomes ``invalid`` (the
    first problem wins; ``invalid`` given by the caller comes first), which the gate refuses.
    Arguments of an unknown tool, and unknown arguments, are audited as ``[redacted]``; any
    tool's ``account`` argument as a name.
    """
    tool = parse_tool_name(requested) if isinstance(requested, str) else None
    name = requested if isinstance(requested, str) else str(requested)
    if not isinstance(arguments, Mapping):
        problem = InputError("arguments must be an object", public="arguments must be an object")
        return ToolRequest(
            tool=tool,
            requested=name,
            account=account,
            invalid=invalid or problem,
            principal=principal,
        )
    spec = TOOL_DEFS[tool] if tool is not None else None
    audited: list[AuditArgument] = []
    fields: dict[str, Any] = {}
    for raw_key, value in arguments.items():
        key = str(raw_key)
        arg = spec.arg(key) if spec is not None else None
        rule = Redaction.NAME if key == ACCOUNT_ARG else arg.audit if arg is not None else None
        audited.append(AuditArgument(key, rule, value))
        if arg is None or arg.role not in _FIELDS:
            continue
        field, read = _FIELDS[arg.role]
        try:
            fields[field] = read(key, value)
        except InputError as exc:
            invalid = invalid or exc
    return ToolRequest(
        tool=tool,
        requested=name,
        account=account,
        arguments=tuple(audited),
        invalid=invalid,
        principal=principal,
        **fields,
    )


# ---------------------------------------------------------------- one call
@attrs.frozen
class Prepared:
    """A call ready for the gate: its typed request, and the service call to run once the
    gate admits it (None: an infrastructure tool, or ``request.invalid`` is set)."""

    request: ToolRequest
    call: ServiceCall | None

    @property
    def tool(self) -> ToolName | None:
        return self.request.tool

    @property
    def account(self) -> str:
        assert self.request.account is not None
        return self.request.account


def _account_of(active: str, request: ToolRequest, arguments: Mapping[str, Any]) -> str:
    """The account a call acts on: its ``account`` argument, else the account of its refs
    (the gate refuses refs of any other account), else ``active``."""
    explicit = arguments.get(ACCOUNT_ARG)
    if request.tool in INFRASTRUCTURE_TOOLS:
        return active
    if isinstance(explicit, str):
        return explicit
    named = request.named_refs
    return named[0].account if named else active


def prepare(
    active: str, name: str, arguments: Mapping[str, Any], *, principal: Principal | None = None
) -> Prepared:
    """Validate, describe and resolve one call (never raises: a problem is ``invalid``).

    A call with invalid arguments acts on ``active`` and is refused by the gate after the
    posture check (audited with its arguments, no rate-limit token taken).
    """
    tool = parse_tool_name(name)
    early: MailguardError | None = None
    if tool is not None:
        try:
            validate_arguments(tool, arguments)
        except MailguardError as exc:
            early = exc
    request = describe(name, active, arguments, invalid=early, principal=principal)
    if tool is None or request.invalid is not None:
        return Prepared(request, None)
    request = attrs.evolve(request, account=_account_of(active, request, arguments))
    spec = TOOL_DEFS[tool]
    if spec.prepare is None:
        return Prepared(request, None)
    try:
        return Prepared(request, spec.prepare(request, arguments))
    except MailguardError as exc:
        return Prepared(attrs.evolve(request, account=active, invalid=exc), None)


def prepare_call(tool: ToolName, arguments: Mapping[str, Any]) -> ServiceCall:
    """The service call of a (schema-valid) call of a gated tool.

    Raises:
        InputError: an argument is malformed.
    """
    request = describe(tool.value, None, arguments)
    if request.invalid is not None:
        raise request.invalid
    spec_prepare = TOOL_DEFS[tool].prepare
    assert spec_prepare is not None, f"{tool} is answered by the face"
    return spec_prepare(request, arguments)


# ---------------------------------------------------------------- the gate, by JSON arguments
class ToolGate(Gate):
    """The gate for calls given by their JSON arguments: ``mailguard_core.Gate`` for a
    library caller's own calls, and the composition root's gate. It reads the arguments by
    the tool table (:func:`describe`), which the gate itself never imports (it sits below the
    services)."""

    def guard(
        self,
        tool: str,
        account: str | None,
        arguments: Mapping[str, Any],
        *,
        invalid: MailguardError | None = None,
        principal: Principal | None = None,
    ) -> Guard:
        """Check and record one call: ``with gate.guard(tool, account, args) as call: ...``.

        ``account`` is the account the call acts on (for tools taking message refs: the
        account named in the refs). ``__enter__`` raises the refusal (``ToolDenied``,
        ``InputError``, ``CircuitOpen``, ``FolderProtected``, ``RateLimited``, or
        ``AuditError`` when the log cannot be written) or the error of the special-folders
        provider; an exception from the body is recorded and re-raised.

        ``invalid``: the caller found the arguments invalid (schema or parsing). The call is
        audited with its (redacted) arguments and refused with that error right after the
        posture check: before the breaker and the rate limiter, so it takes no token, no
        probe slot, and never counts. A malformed ref or folder argument is refused the same
        way.

        ``principal``: the authenticated caller (HTTP with ``[server.auth]``), recorded in the
        start record. An account outside its list is refused exactly like an unknown account,
        a tool above its ceiling for the account exactly like a denied tool.
        """
        request = describe(tool, account, arguments, invalid=invalid, principal=principal)
        return self.guarded(request)


# ---------------------------------------------------------------- infrastructure results
def accounts_result(config: Config, active: str) -> AccountList:
    """The ``list_accounts`` result."""
    return AccountList(active=active, accounts=config.accounts)


def use_account_result(posture: Posture, target: str, tools: Iterable[ToolName]) -> AccountUsed:
    """The ``use_account`` result: the now active account, its posture and tools."""
    return AccountUsed(active=target, posture=posture, tools=frozenset(tools))
