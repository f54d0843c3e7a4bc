"""Where mailguard keeps its configuration and state on each platform.

- Linux and every other POSIX system: configuration in ``$XDG_CONFIG_HOME/mailguard``, else
  ``~/.config/mailguard``; state in ``$XDG_STATE_HOME/mailguard``, else
  ``~/.local/state/mailguard``.
- macOS: both in ``~/Library/Application Support/mailguard``.
- Windows: both in ``%LOCALAPPDATA%\\mailguard``.

The configuration folder holds ``config.toml``; the state folder ``audit.jsonl`` and
``downloads/``.

On Linux (and any platform that is neither macOS nor Windows) these are exactly the paths of
earlier versions, so nothing moves. On macOS and Windows the folder is the platform's own
(``platformdirs``), with two exceptions that keep a user's choice or an existing setup: an
``XDG_CONFIG_HOME`` / ``XDG_STATE_HOME`` set in the environment is honoured everywhere, and on
macOS an existing ``~/.config/mailguard`` (``~/.local/state/mailguard``) written by an earlier
version stays in use.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

APP = "mailguard"

Kind = Literal["config", "state"]

_XDG_VAR = {"config": "XDG_CONFIG_HOME", "state": "XDG_STATE_HOME"}
_XDG_DEFAULT = {"config": (".config",), "state": (".local", "state")}


def _home(kind: Kind, env: Mapping[str, str]) -> Path:
    # The configuration path has always honoured $HOME from the given environment; the state
    # path used Path.home(). Both kept as they were.
    if kind == "config" and env.get("HOME"):
        return Path(env["HOME"])
    return Path.home()


def _platform_dir(kind: Kind, system: str) -> Path:
    if system == "darwin":
        from platformdirs.macos import MacOS

        mac = MacOS(APP, appauthor=False)
        return Path(mac.user_config_dir if kind == "config" else mac.user_state_dir)
    from platformdirs.windows import Windows

    win = Windows(APP, appauthor=False, roaming=False)
    return Path(win.user_config_dir if kind == "config" else win.user_state_dir)


def user_dir(
    kind: Kind, environ: Mapping[str, str] | None = None, *, system: str | None = None
) -> Path:
    """The folder for ``kind`` (see the module's table).

    Args:
        kind: ``"config"`` or ``"state"``.
        environ: the environment to read (``os.environ`` when None).
        system: ``sys.platform`` to answer for (the running one when None).
    """
    env = os.environ if environ is None else environ
    system = sys.platform if system is None else system
    explicit = env.get(_XDG_VAR[kind])
    if explicit:
        return Path(explicit) / APP
    xdg = _home(kind, env).joinpath(*_XDG_DEFAULT[kind]) / APP
    if system not in ("darwin", "win32"):
        return xdg
    if system == "darwin" and xdg.is_dir():
        return xdg
    return _platform_dir(kind, system)


def config_dir(environ: Mapping[str, str] | None = None, *, system: str | None = None) -> Path:
    """Where ``config.toml`` is looked for when neither ``--config`` nor ``MAILGUARD_CONFIG``
    names it."""
    return user_dir("config", environ, system=system)


def state_dir(environ: Mapping[str, str] | None = None, *, system: str | None = None) -> Path:
    """The default home of the audit log and of downloaded attachments."""
    return user_dir("state", environ, system=system)
