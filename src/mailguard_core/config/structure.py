"""Structuring: the cattrs converter and its hooks, every rule run per field, problems with
their key paths."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from mailguard_core.config.accounts import AccountConfig, file_problems
from mailguard_core.config.defaults import kind_of, with_suggestion
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
from mailguard_core.config.scalars import (
    Invalid,
    literal_hook,
    structure_bool,
    structure_brands,
    structure_float,
    structure_int,
    structure_posture,
    structure_str,
    structure_str_dict,
    structure_str_tuple,
    structure_tls,
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
        exc = Invalid(message)
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
        _member(_parts(path), message) if path else Invalid(message) for path, message in problems
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


#: the attribute of a refused table's error holding its stand-in (see :func:`_table_hook`)
_STAND_IN = "mailguard_stand_in"
#: the stand-in of a table that could not be built (the rules above it cannot run)
_NONE = object()


def _under(path: str, reported: Iterable[str]) -> bool:
    """Whether ``path`` is one of the ``reported`` key paths or inside one of them."""
    return any(
        path == done or path.startswith((f"{done}.", f"{done}["))
        for done in reported
        if done != "(top level)"
    )


def _head(path: str) -> str:
    """The field a problem's key path starts at (``""`` for the table itself)."""
    parts = _parts(path)
    return parts[0] if parts and isinstance(parts[0], str) else ""


def _noted(exc: Exception, note: AttributeValidationNote | IterableValidationNote) -> Exception:
    exc.__notes__ = [*getattr(exc, "__notes__", []), note]
    return exc


def _build(
    cls: type,
    kwargs: dict[str, Any],
    file_rules: Callable[[Any], Iterable[Problem]] | None,
) -> tuple[object | None, list[Problem]]:
    """``cls(**kwargs)`` and the problems of its rules between fields (then the file's
    rules); the instance is None when they refused it."""
    try:
        instance = cls(**kwargs)
    except Problems as exc:
        return None, list(exc.problems)
    return instance, list(file_rules(instance)) if file_rules is not None else []


def _table_hook(converter: cattrs.Converter, cls: type) -> Callable[[object, object], Any]:
    """Structure a table once: every field by its hook and its own rules (:func:`_checked`),
    then the rules between the fields (``__attrs_post_init__``) and the file's rules
    (``_FILE_RULES``), all problems together with their key paths.

    The rules between fields run even when a field was refused, so a bad port does not hide
    a cooldown rule, nor a bad account the duplicate names: a refused table is replaced by its
    stand-in (its good values, the refused ones at their defaults), any other refused value
    by its default; a refused required value leaves the rules unrun. A problem they find is
    not reported when a refused value already was at its path (or above it), or when it names
    a key whose default stood in (``set either [imap] or maildir`` after ``imap: expected a
    table``): it would be about the stand-in, not the file. The table's own stand-in, for the table
    above, also has the values its rules refused at their defaults. Every value is
    structured once (this replaces structuring the whole document again, up to four rounds,
    with the refused values removed).
    """
    attrs.resolve_types(cls)
    fields = attrs.fields(cls)
    hooks = {
        field.name: (
            _checked(field, converter.get_structure_hook(field.type))
            if field.converter is not None or field.validator is not None
            else converter.get_structure_hook(field.type)
        )
        for field in fields
    }
    known = frozenset(field.name for field in fields)
    required = [field for field in fields if field.default is attrs.NOTHING]
    file_rules = _FILE_RULES.get(cls)

    def structure(value: object, _type: object) -> Any:
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a table, got {kind_of(value)}")
        errors: list[Exception] = []
        kwargs: dict[str, Any] = {}
        defaulted: list[str] = []  # refused, with no stand-in: the default stands in
        for field in fields:
            note = AttributeValidationNote(f"attribute {field.name}", field.name, field.type)
            if field.name not in value:
                if field.default is attrs.NOTHING:
                    errors.append(_noted(KeyError(field.name), note))
                continue
            try:
                kwargs[field.alias] = hooks[field.name](value[field.name], field.type)
            except Exception as exc:
                errors.append(_noted(exc, note))
                stand_in = getattr(exc, _STAND_IN, _NONE)
                if stand_in is _NONE:
                    defaulted.append(field.name)
                else:
                    kwargs[field.alias] = stand_in
        extra = set(value) - known
        if extra:
            errors.append(ForbiddenExtraKeysError("", cls, extra))
        if any(field.alias not in kwargs for field in required):
            group = ClassValidationError("invalid", errors, cls)  # the rules cannot run
            setattr(group, _STAND_IN, _NONE)
            raise group
        instance, problems = _build(cls, kwargs, file_rules)
        if errors and problems:  # not about a refused value's stand-in
            group = ClassValidationError("", errors, cls)
            reported = [problem.partition(": ")[0] for problem in problems_from(group)]
            names = re.compile("|".join(rf"\b{re.escape(name)}\b" for name in defaulted))
            problems = [
                (path, text)
                for path, text in problems
                if not _under(path, reported) and not (defaulted and names.search(text))
            ]
        if not errors and not problems:
            return instance
        errors.extend(_located(problems))
        if instance is None:  # the values the rules refused at their defaults, if that holds
            heads = {_head(path) for path, _ in problems} - {""}
            optional = {f.alias for f in fields if f.name in heads and f not in required}
            if len(optional) == len(heads):
                kept = {k: v for k, v in kwargs.items() if k not in optional}
                instance, _ = _build(cls, kept, None)
        group = ClassValidationError("invalid", errors, cls)
        setattr(group, _STAND_IN, _NONE if instance is None else instance)
        raise group

    return structure


def _tables_hook(converter: cattrs.Converter, cls: type) -> Callable[[object, object], Any]:
    """A list of tables (``[[accounts]]``, ``[[server.principals]]``): each element
    structured once, every element's problems reported; its stand-in is the tuple of the
    elements' stand-ins when each refused element has one."""

    def structure(value: object, _type: object) -> tuple[Any, ...]:
        element = converter.get_structure_hook(cls)  # the table's, registered with the lists
        if not isinstance(value, list | tuple):
            raise Invalid(f"expected an array of tables, got {kind_of(value)}")
        items: list[Any] = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                items.append(element(item, cls))
            except Exception as exc:
                errors.append(_noted(exc, IterableValidationNote(f"index {index}", index, cls)))
                items.append(getattr(exc, _STAND_IN, _NONE))
        if not errors:
            return tuple(items)
        group = IterableValidationError("invalid", errors, tuple)
        setattr(group, _STAND_IN, _NONE if any(i is _NONE for i in items) else tuple(items))
        raise group

    return structure


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, structure_str)
    converter.register_structure_hook(int, structure_int)
    converter.register_structure_hook(float, structure_float)
    converter.register_structure_hook(bool, structure_bool)
    converter.register_structure_hook_func(lambda t: t == tuple[str, ...], structure_str_tuple)
    converter.register_structure_hook_func(lambda t: t == dict[str, str], structure_str_dict)
    converter.register_structure_hook_func(
        lambda t: t == dict[str, tuple[str, ...]], structure_brands
    )
    converter.register_structure_hook_func(lambda t: t == TlsMode, structure_tls)
    converter.register_structure_hook_func(lambda t: t == AuthMode, literal_hook(AuthMode))
    converter.register_structure_hook_func(lambda t: t == ProviderName, literal_hook(ProviderName))
    converter.register_structure_hook_func(
        lambda t: t == OnUnsupported, literal_hook(OnUnsupported)
    )
    converter.register_structure_hook(Posture, structure_posture)
    for table in (AccountConfig, PrincipalSettings):  # before the tables that hold them
        converter.register_structure_hook_func(
            lambda t, table=table: t == tuple[table, ...],  # type: ignore[misc, valid-type]
            _tables_hook(converter, table),
        )
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
    if isinstance(exc, Invalid):
        return str(exc)
    if isinstance(exc, MailguardError):  # a field's own rule (model.checks)
        return exc.public_message
    if isinstance(exc, ForbiddenExtraKeysError):
        known = [f.name for f in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        return "unknown key(s): " + ", ".join(
            with_suggestion(key, known) for key in sorted(exc.extra_fields)
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
