"""Structuring: the cattrs converter and its hooks, every rule run per field, problems with
their key paths."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, get_args

import attrs
import cattrs
import cattrs.gen
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from mailguard_core.config.accounts import AccountConfig, file_problems
from mailguard_core.config.defaults import _kind, _with_suggestion
from mailguard_core.config.document import Config, file_references
from mailguard_core.config.mail import (
    AuthMode,
    ImapSettings,
    OAuthSettings,
    ProviderName,
    SmtpSettings,
    TlsMode,
)
from mailguard_core.config.policy import (
    ConfirmSettings,
    FolderSettings,
    OnUnsupported,
    RateLimitSettings,
    SendSettings,
    ToolOverrides,
)
from mailguard_core.config.server import (
    AuditSettings,
    PrincipalSettings,
    ServerAuthSettings,
    ServerSettings,
    ServerStateSettings,
)
from mailguard_core.model.breaker import BreakerSettings
from mailguard_core.model.checks import Problem, Problems
from mailguard_core.model.errors import MailguardError
from mailguard_core.model.tools import Posture

# --- structuring ---------------------------------------------------------------------------


class _Invalid(ValueError):
    """A type or value problem whose text is the user-facing message."""


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid(f"expected a string, got {_kind(value)}")


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Invalid(f"expected an integer, got {_kind(value)}")


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _Invalid("must be a finite number (not inf or nan)")
        return float(value)
    raise _Invalid(f"expected a number, got {_kind(value)}")


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _Invalid(f"expected true or false, got {_kind(value)}")


def _structure_str_tuple(value: object, _: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise _Invalid(f"expected an array of strings, got {_kind(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _Invalid(f"item {index}: expected a string, got {_kind(item)}")
    return tuple(value)


def _structure_str_dict(value: object, _: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"expected a table, got {_kind(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise _Invalid(f"{key}: expected a string, got {_kind(item)}")
    return dict(value)


def _structure_brands(value: object, _: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"expected a table, got {_kind(value)}")
    return {str(key): _structure_str_tuple(item, None) for key, item in value.items()}


def _structure_tls(value: object, _: object) -> str:
    if isinstance(value, str) and value in get_args(TlsMode):
        return value
    raise _Invalid("must be 'implicit' or 'starttls'")


def _literal_hook(kind: Any) -> Callable[[object, object], str]:
    choices = get_args(kind)

    def structure(value: object, _: object) -> str:
        if isinstance(value, str) and value in choices:
            return value
        raise _Invalid("must be one of: " + ", ".join(repr(c) for c in choices))

    return structure


def _structure_posture(value: object, _: object) -> Posture:
    if isinstance(value, str) and value in {p.value for p in Posture}:
        return Posture(value)
    raise _Invalid("must be one of: " + ", ".join(repr(p.value) for p in Posture))


#: every table of the document, inner tables first (a class's structure function looks up
#: the hooks of its fields when it is generated)
_TABLES: tuple[type, ...] = (
    ImapSettings,
    SmtpSettings,
    OAuthSettings,
    ToolOverrides,
    FolderSettings,
    RateLimitSettings,
    BreakerSettings,
    SendSettings,
    ConfirmSettings,
    AccountConfig,
    AuditSettings,
    ServerAuthSettings,
    PrincipalSettings,
    ServerStateSettings,
    ServerSettings,
    Config,
)
#: rules of the file beyond the class's own (see :func:`~.accounts.file_problems`)
_FILE_RULES: dict[type, Callable[[Any], Iterable[Problem]]] = {
    AccountConfig: file_problems,
    Config: file_references,
}

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    return [int(i) if i else str(k) for k, i in _PATH_PART.findall(path)]


def _member(parts: list[str | int], message: str) -> Exception:
    """An exception cattrs' ``transform_error`` reports at ``parts`` below the group that
    holds it: each part is a note (an attribute name or a list index), each level a group."""
    head, rest = parts[0], parts[1:]
    exc: Exception
    if rest:
        group = IterableValidationError if isinstance(rest[0], int) else ClassValidationError
        exc = group("invalid", [_member(rest, message)], object)
    else:
        exc = _Invalid(message)
    note: IterableValidationNote | AttributeValidationNote
    if isinstance(head, int):
        note = IterableValidationNote(f"index {head}", head, object)
    else:
        note = AttributeValidationNote(f"attribute {head}", head, object)
    exc.__notes__ = [note]
    return exc


def _located(problems: Iterable[Problem]) -> list[Exception]:
    """The members of a group for ``problems`` (key paths relative to the group)."""
    return [
        _member(_parts(path), message) if path else _Invalid(message) for path, message in problems
    ]


def _checked(field: attrs.Attribute[Any], hook: Callable[[Any, Any], Any]) -> Any:
    """A field's structure hook followed by the field's own converter and validator, so that
    cattrs collects every field's problem (the class's ``__init__`` stops at the first)."""

    def structure(value: object, type_: object) -> object:
        result = hook(value, type_)
        try:
            if field.converter is not None:
                result = field.converter(result)  # type: ignore[operator]
            if field.validator is not None:
                field.validator(None, field, result)
        except Problems as exc:
            members = _located(exc.problems)
            if exc.problems[0][0].startswith("["):
                raise IterableValidationError("invalid", members, object) from None
            raise ClassValidationError("invalid", members, object) from None
        return result

    return structure


def _table_hook(converter: cattrs.Converter, cls: type) -> Callable[[object, object], Any]:
    attrs.resolve_types(cls)
    overrides = {
        field.name: cattrs.gen.override(
            struct_hook=_checked(field, converter.get_structure_hook(field.type))
        )
        for field in attrs.fields(cls)
        if field.converter is not None or field.validator is not None
    }
    generated: Callable[[Any, Any], Any] = cattrs.gen.make_dict_structure_fn(
        cls,
        converter,
        **overrides,  # type: ignore[arg-type]
    )
    file_rules = _FILE_RULES.get(cls)

    def structure(value: object, type_: object) -> Any:
        if not isinstance(value, Mapping):
            raise _Invalid(f"expected a table, got {_kind(value)}")
        try:
            instance = generated(value, type_)
        except ClassValidationError as exc:
            [*inner] = exc.exceptions
            if len(inner) == 1 and isinstance(inner[0], Problems):  # the rules between fields
                raise ClassValidationError(exc.message, _located(inner[0].problems), cls) from None
            raise
        if file_rules is not None:
            found = list(file_rules(instance))
            if found:
                raise ClassValidationError("invalid", _located(found), cls)
        return instance

    return structure


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_str_tuple)
    converter.register_structure_hook_func(lambda t: t == dict[str, str], _structure_str_dict)
    converter.register_structure_hook_func(
        lambda t: t == dict[str, tuple[str, ...]], _structure_brands
    )
    converter.register_structure_hook_func(lambda t: t == TlsMode, _structure_tls)
    converter.register_structure_hook_func(lambda t: t == AuthMode, _literal_hook(AuthMode))
    converter.register_structure_hook_func(lambda t: t == ProviderName, _literal_hook(ProviderName))
    converter.register_structure_hook_func(
        lambda t: t == OnUnsupported, _literal_hook(OnUnsupported)
    )
    converter.register_structure_hook(Posture, _structure_posture)
    for cls in _TABLES:
        converter.register_structure_hook(cls, _table_hook(converter, cls))
    return converter


@functools.cache
def _converter() -> cattrs.Converter:
    """The one converter for the configuration (built on first use: a configuration built in
    code, like the demo's, never needs it)."""
    return _make_converter()


def structure(document: Mapping[str, Any]) -> Config:
    """The :class:`Config` of a merged document.

    Raises:
        Exception: cattrs' ``ClassValidationError`` (and kin); :func:`problems_from` lists
            its problems.
    """
    return _converter().structure(document, Config)


def _format_exception(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, _Invalid):
        return str(exc)
    if isinstance(exc, MailguardError):  # a field's own rule (model.checks)
        return exc.public_message
    if isinstance(exc, ForbiddenExtraKeysError):
        known = [f.name for f in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        return "unknown key(s): " + ", ".join(
            _with_suggestion(key, known) for key in sorted(exc.extra_fields)
        )
    if isinstance(exc, KeyError):
        return "required key missing"
    return cattrs.v.format_exception(exc, type_)


def problems_from(exc: BaseException) -> list[str]:
    problems = []
    for line in cattrs.transform_error(exc, path="$", format_exception=_format_exception):
        message, _, path = line.rpartition(" @ ")
        path = path.removeprefix("$").removeprefix(".")
        problems.append(f"{path or '(top level)'}: {message}")
    return problems
