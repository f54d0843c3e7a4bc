"""Structuring: the cattrs converter and its hooks, merging ``[defaults]``, did-you-mean."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, get_args

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError

from mailguard_core.config.accounts import AccountConfig
from mailguard_core.config.mail import (
    AuthMode,
    ImapSettings,
    OAuthSettings,
    ProviderName,
    SmtpSettings,
    TlsMode,
)
from mailguard_core.config.policy import (
    BreakerSettings,
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
from mailguard_core.model.oauth import PRESETS
from mailguard_core.model.tools import Posture

# --- structuring ---------------------------------------------------------------------------


class _Invalid(ValueError):
    """A type or value problem whose text is the user-facing message."""


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


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


_T = TypeVar("_T")


def _table_first(
    hook: Callable[[Any, Any], _T],
) -> Callable[[object, object], _T]:
    def structure(value: object, type_: object) -> _T:
        if not isinstance(value, Mapping):
            raise _Invalid(f"expected a table, got {_kind(value)}")
        return hook(value, type_)

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
    for cls in (
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
    ):
        converter.register_structure_hook(cls, _table_first(converter.get_structure_hook(cls)))
    return converter


#: the one converter for the configuration
CONVERTER = _make_converter()


def _format_exception(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, _Invalid):
        return str(exc)
    if isinstance(exc, ForbiddenExtraKeysError):
        known = [f.name for f in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        return "unknown key(s): " + ", ".join(
            _with_suggestion(key, known) for key in sorted(exc.extra_fields)
        )
    if isinstance(exc, KeyError):
        return "required key missing"
    return cattrs.v.format_exception(exc, type_)


def _problems_from(exc: BaseException) -> list[str]:
    problems = []
    for line in cattrs.transform_error(exc, path="$", format_exception=_format_exception):
        message, _, path = line.rpartition(" @ ")
        path = path.removeprefix("$").removeprefix(".")
        problems.append(f"{path or '(top level)'}: {message}")
    return problems


# --- merging defaults ----------------------------------------------------------------------

_PER_ACCOUNT_ONLY = ("name", "address")
#: tables that [defaults] fills in only for accounts that have the table themselves
_OPTIONAL_TABLES = ("imap", "smtp")


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _merge_account(base: Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Any]:
    applicable = {
        k: v for k, v in base.items() if k not in (*_OPTIONAL_TABLES, "oauth") or k in account
    }
    merged = _deep_merge(applicable, account)
    # [defaults.oauth] fills in accounts that sign in with OAuth2 (or have their own table)
    if "oauth" in base and "oauth" not in merged and _wants_oauth(merged):
        merged["oauth"] = base["oauth"]
    return merged


def _wants_oauth(account: Mapping[str, Any]) -> bool:
    return any(
        isinstance(account.get(k), Mapping) and account[k].get("auth") == "oauth2"
        for k in _OPTIONAL_TABLES
    )


def _apply_preset(account: Mapping[str, Any]) -> dict[str, Any]:
    """Fill ``host``/``port``/``tls`` of ``[imap]``/``[smtp]`` from the OAuth provider's
    preset where the account leaves them out (keys it sets win)."""
    result = dict(account)
    oauth = account.get("oauth")
    provider = oauth.get("provider") if isinstance(oauth, Mapping) else None
    preset = PRESETS.get(provider) if isinstance(provider, str) else None
    if preset is None:
        return result
    for key, server in (("imap", preset.imap), ("smtp", preset.smtp)):
        table = result.get(key)
        if isinstance(table, Mapping):
            filled = {"host": server.host, "port": server.port, "tls": server.tls}
            if "port" in table or "tls" in table:  # a deliberate choice: keep the pair apart
                filled = {"host": server.host}
            result[key] = {**filled, **table}
    return result


def _attrs_class(type_: Any) -> type | None:
    """The attrs class in ``type_`` (``X`` or ``X | None``), else None."""
    candidates = get_args(type_) or (type_,)
    for candidate in candidates:
        if isinstance(candidate, type) and attrs.has(candidate):
            return candidate
    return None


def _with_suggestion(key: str, known: Iterable[str]) -> str:
    """``key``, with ``(did you mean 'x'?)`` when a known key is close to it."""
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    return f"{key} (did you mean {close[0]!r}?)" if close else key


def _unknown_keys(data: Mapping[str, Any], cls: type, path: str) -> list[str]:
    fields = {f.name: f for f in attrs.fields(cls)}
    problems = []
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            problems.append(f"{path}: unknown key(s): {_with_suggestion(key, fields)}")
            continue
        nested = _attrs_class(field.type)
        if nested is not None and isinstance(value, Mapping):
            problems.extend(_unknown_keys(value, nested, f"{path}.{key}"))
    return problems


def _check_defaults(defaults: object) -> tuple[dict[str, Any], list[str]]:
    if not isinstance(defaults, Mapping):
        return {}, [f"defaults: expected a table, got {_kind(defaults)}"]
    problems = [
        f"defaults.{key}: must be set in each account, not in [defaults]"
        for key in _PER_ACCOUNT_ONLY
        if key in defaults
    ]
    usable = {k: v for k, v in defaults.items() if k not in _PER_ACCOUNT_ONLY}
    problems.extend(_unknown_keys(usable, AccountConfig, "defaults"))
    if problems:
        return {}, problems
    return usable, []
