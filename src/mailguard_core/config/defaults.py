"""Merging ``[defaults]`` into each account, the OAuth presets, and the did-you-mean of an
unknown key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, get_args

import attrs

from mailguard_core.config.accounts import AccountConfig
from mailguard_core.model.oauth import PRESETS


def kind_of(value: object) -> str:
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


# --- merging defaults ----------------------------------------------------------------------

_PER_ACCOUNT_ONLY = ("name", "address")
#: tables that [defaults] fills in only for accounts that have the table themselves
_OPTIONAL_TABLES = ("imap", "smtp")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_account(base: Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Any]:
    applicable = {
        k: v for k, v in base.items() if k not in (*_OPTIONAL_TABLES, "oauth") or k in account
    }
    merged = deep_merge(applicable, account)
    # [defaults.oauth] fills in accounts that sign in with OAuth2 (or have their own table)
    if "oauth" in base and "oauth" not in merged and _wants_oauth(merged):
        merged["oauth"] = base["oauth"]
    return merged


def _wants_oauth(account: Mapping[str, Any]) -> bool:
    return any(
        isinstance(account.get(k), Mapping) and account[k].get("auth") == "oauth2"
        for k in _OPTIONAL_TABLES
    )


def apply_preset(account: Mapping[str, Any]) -> dict[str, Any]:
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


def with_suggestion(key: str, known: Iterable[str]) -> str:
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
            problems.append(f"{path}: unknown key(s): {with_suggestion(key, fields)}")
            continue
        nested = _attrs_class(field.type)
        if nested is not None and isinstance(value, Mapping):
            problems.extend(_unknown_keys(value, nested, f"{path}.{key}"))
    return problems


def check_defaults(defaults: object) -> tuple[dict[str, Any], list[str]]:
    if not isinstance(defaults, Mapping):
        return {}, [f"defaults: expected a table, got {kind_of(defaults)}"]
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
