"""Parsing: :func:`parse_config` (structure, validate, report all at once) and the file lookup."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mailguard_core.config.document import Config, ConfigValidationError
from mailguard_core.model.errors import ConfigError
from mailguard_core.system.paths import config_dir


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
        apply_preset,
        check_defaults,
        deep_merge,
        kind_of,
        merge_account,
    )
    from mailguard_core.config.policy import DEFAULT_TOOL_RATES
    from mailguard_core.config.structure import problems_from, structure

    if not isinstance(data, Mapping):
        raise ConfigValidationError([f"(top level): expected a table, got {kind_of(data)}"])
    document = dict(data)
    defaults, problems = check_defaults(document.pop("defaults", {}))
    base = deep_merge({"limits": {"tools": dict(DEFAULT_TOOL_RATES)}}, defaults)
    accounts = document.get("accounts", [])
    if isinstance(accounts, list):
        document["accounts"] = [
            apply_preset(merge_account(base, account)) if isinstance(account, Mapping) else account
            for account in accounts
        ]
    try:
        config = structure(document)
    except Exception as exc:  # cattrs raises ExceptionGroups of mixed kinds
        problems.extend(problems_from(exc))
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
    import tomllib  # only a configuration file needs it (the demo builds its Config)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file} is not valid TOML: {exc}", public=f"configuration is not valid TOML: {exc}"
        ) from None
    return parse_config(data, source=str(file))
