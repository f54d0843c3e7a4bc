"""Parsing: :func:`parse_config` (structure, validate, report all at once) and the file lookup."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mailguard_core.config.document import Config, ConfigValidationError
from mailguard_core.model.errors import ConfigError
from mailguard_core.system.paths import config_dir

#: rounds of removing the values cattrs refused to find the problems behind them
_ROUNDS = 4


def _drop(document: Any, problem: str) -> bool:
    """Remove from ``document`` the value a problem names (an unknown key, a refused value);
    True when something was removed."""
    from mailguard_core.config.structure import _parts

    path, _, message = problem.partition(": ")
    if path == "(top level)":
        return False
    parts = _parts(path)
    node = document
    if message.startswith("unknown key(s): "):
        keys = [k.strip() for k in message.removeprefix("unknown key(s): ").split(",")]
        keys = [k.split(" (did you mean")[0] for k in keys]
        last: str | int | None = None
    else:
        last = parts.pop()
        keys = []
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if last is not None:
        keys = [last]  # type: ignore[list-item]
    removed = False
    for key in keys:
        if isinstance(node, dict) and key in node:
            del node[key]
            removed = True
    return removed


def _problems_behind(document: dict[str, Any], found: list[str]) -> list[str]:
    """The problems a refused value hid (the rules between the fields of a table run only
    once each of its fields passed): the refused values are removed (their keys fall back to
    defaults) and the rest structured again, a few rounds at most, so that every problem is
    reported at once. Problems at paths already reported, and "required" ones caused by a
    removal, are not repeated."""
    import copy

    from mailguard_core.config.structure import problems_from, structure

    reported = {p.partition(": ")[0] for p in found}
    working = copy.deepcopy(document)
    extra: list[str] = []
    pending = list(found)
    for _ in range(_ROUNDS):
        dropped = [_drop(working, p) for p in pending]  # every one, not the first only
        if not any(dropped):
            return extra
        try:
            structure(working)
        except Exception as exc:
            pending = [p for p in problems_from(exc) if p.partition(": ")[0] not in reported]
            extra.extend(p for p in pending if not p.endswith(": required key missing"))
            reported.update(p.partition(": ")[0] for p in pending)
            continue
        return extra
    return extra


def parse_config(data: Mapping[str, Any], *, source: str | None = None) -> Config:
    """Structure a decoded TOML document into a :class:`Config`; every rule runs as its
    table is built (:mod:`mailguard_core.model.checks`).

    Args:
        data: the document (``tomllib.loads`` output or an equivalent dict).
        source: where it came from, for the error's detail (not its public message).

    Raises:
        ConfigValidationError: with every problem found, each naming its key path.
    """
    from mailguard_core.config.defaults import (
        _apply_preset,
        _check_defaults,
        _deep_merge,
        _kind,
        _merge_account,
    )
    from mailguard_core.config.policy import DEFAULT_TOOL_RATES
    from mailguard_core.config.structure import problems_from, structure

    if not isinstance(data, Mapping):
        raise ConfigValidationError([f"(top level): expected a table, got {_kind(data)}"])
    document = dict(data)
    defaults, problems = _check_defaults(document.pop("defaults", {}))
    base = _deep_merge({"limits": {"tools": dict(DEFAULT_TOOL_RATES)}}, defaults)
    accounts = document.get("accounts", [])
    if isinstance(accounts, list):
        document["accounts"] = [
            _apply_preset(_merge_account(base, account))
            if isinstance(account, Mapping)
            else account
            for account in accounts
        ]
    try:
        config = structure(document)
    except Exception as exc:  # cattrs raises ExceptionGroups of mixed kinds
        found = problems_from(exc)
        problems.extend(found)
        problems.extend(_problems_behind(document, found))
    if problems:
        raise ConfigValidationError(problems, source=source)
    return config


def config_path(path: str | None = None, *, environ: Mapping[str, str] | None = None) -> Path:
    """The file :func:`load_config` reads: ``path``, else ``$MAILGUARD_CONFIG``, else
    ``config.toml`` in :func:`mailguard_core.system.paths.config_dir` (on Linux
    ``$XDG_CONFIG_HOME/mailguard``, ``~/.config/mailguard`` when XDG_CONFIG_HOME is unset)."""
    env = os.environ if environ is None else environ
    if path:
        return Path(path).expanduser()
    if env.get("MAILGUARD_CONFIG"):
        return Path(env["MAILGUARD_CONFIG"]).expanduser()
    return config_dir(env) / "config.toml"


def load_config(path: str | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Find, read and parse the configuration file (see :func:`config_path`).

    Raises:
        ConfigError: the file is missing, unreadable or not TOML, or any problem of
            :func:`parse_config`.
    """
    file = config_path(path, environ=environ)
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {file} not found",
            public="configuration file not found (use --config PATH or MAILGUARD_CONFIG)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read configuration file {file}: {type(exc).__name__}",
            public="configuration file unreadable",
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file} is not valid TOML: {exc}", public=f"configuration is not valid TOML: {exc}"
        ) from None
    return parse_config(data, source=str(file))
