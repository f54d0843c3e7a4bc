"""The policy rules configuration validation and the gate share: one source of truth.

Rate strings, folder comparison keys, the tool set a posture and its overrides give, and the
checks of tool overrides, rate limits, circuit-breaker settings and folder lists.
``config.py`` reports every problem these find (with its key path); the gate raises the first
as a :class:`ConfigError` when it is built from settings that did not come through
``parse_config``. This module imports neither ``config`` nor ``gate``, so both can import it
without a cycle.

Problems are ``(sub_path, message)`` pairs: ``sub_path`` is relative to the checked table
(``"allow[0]"``, ``"send_email"``, or ``""`` for the table itself) and ``message`` is the
user-facing text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol

import attrs

from mailguard_core.errors import ConfigError
from mailguard_core.tools import (
    GATED_TOOLS,
    INFRASTRUCTURE_TOOLS,
    Posture,
    ToolName,
    parse_tool_name,
    posture_allows,
)

#: a problem found: (key path relative to the checked table, user-facing message)
Problem = tuple[str, str]

_RATE_RE = re.compile(r"([1-9][0-9]{0,8})/(s|min|h)")
_PERIOD_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0}


@attrs.frozen
class Rate:
    """A rate limit: ``count`` calls per ``per_seconds`` seconds (``count`` is also the burst)."""

    count: int
    per_seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.per_seconds


def parse_rate(text: str, *, where: str = "rate") -> Rate:
    """Parse ``"N/s"``, ``"N/min"`` or ``"N/h"`` (N a positive integer, at most 9 digits).

    Raises:
        ConfigError: anything else; ``where`` (a key path) prefixes the detail.
    """
    match = _RATE_RE.fullmatch(text)
    if match is None:
        raise ConfigError(
            f"{where}: expected 'N/s', 'N/min' or 'N/h', got {text!r}",
            public="a rate looks like '3/min' (N/s, N/min or N/h)",
        )
    return Rate(int(match.group(1)), _PERIOD_SECONDS[match.group(2)])


def folder_key(name: str) -> str:
    """The comparison key of a folder name: NFKC, case-folded, no format chars, trimmed."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", text.casefold())
    return text.strip()


INBOX_KEY = folder_key("INBOX")


def tool_set(
    posture: Posture, allow: Iterable[ToolName] = (), deny: Iterable[ToolName] = ()
) -> frozenset[ToolName]:
    """The posture's column of the matrix, plus ``allow``, minus ``deny``; the infrastructure
    tools are always included."""
    column = {tool for tool in GATED_TOOLS if posture_allows(posture, tool)}
    return frozenset((column | set(allow)) - set(deny)) | INFRASTRUCTURE_TOOLS


def known_tools(names: Iterable[str]) -> frozenset[ToolName]:
    """The tools among ``names`` (exact names); anything else is skipped."""
    return frozenset(tool for tool in map(parse_tool_name, names) if tool is not None)


def _tool_name_problem(name: str, infrastructure: str) -> str | None:
    tool = parse_tool_name(name)
    if tool is None:
        return f"unknown tool name {name!r}"
    if tool in INFRASTRUCTURE_TOOLS:
        return infrastructure
    return None


def override_problems(allow: Sequence[str], deny: Sequence[str]) -> Iterator[Problem]:
    """Problems of ``tools.allow``/``tools.deny``: unknown names, infrastructure tools (always
    available, not overridable), and tools in both lists."""
    for key, names in (("allow", allow), ("deny", deny)):
        for index, name in enumerate(names):
            problem = _tool_name_problem(name, f"{name!r} is always available")
            if problem is not None:
                yield f"{key}[{index}]", problem
    for name in sorted(set(allow) & set(deny)):
        yield "", f"tool {name!r} is both allowed and denied"


def tool_rate_problems(rates: Mapping[str, str]) -> Iterator[Problem]:
    """Problems of per-tool limits (``limits.tools``): each key must name a gated tool exactly
    and each value must be a rate (:func:`parse_rate`)."""
    for name, text in rates.items():
        problem = _tool_name_problem(name, f"{name!r} is always available, never limited")
        if problem is not None:
            yield name, problem
        try:
            parse_rate(text)
        except ConfigError as exc:
            yield name, exc.public_message


class RateLimitValues(Protocol):
    """What :func:`rate_limit_problems` reads (``config.RateLimitSettings``)."""

    @property
    def calls_per_second(self) -> float: ...
    @property
    def burst(self) -> int: ...
    @property
    def tools(self) -> Mapping[str, str]: ...


def rate_limit_problems(limits: RateLimitValues) -> Iterator[Problem]:
    """Problems of an account's rate limits: the account bucket needs a rate above 0 and a
    burst of at least 1; then :func:`tool_rate_problems` under ``tools``."""
    if not limits.calls_per_second > 0:  # also refuses nan
        yield "calls_per_second", "must be greater than 0"
    if not limits.burst >= 1:
        yield "burst", "must be at least 1"
    for sub_path, message in tool_rate_problems(limits.tools):
        yield f"tools.{sub_path}", message


class BreakerValues(Protocol):
    """What :func:`breaker_problems` reads (``config.BreakerSettings``)."""

    @property
    def failure_threshold(self) -> int: ...
    @property
    def window_seconds(self) -> float: ...
    @property
    def cooldown_seconds(self) -> float: ...
    @property
    def max_cooldown_seconds(self) -> float: ...
    @property
    def auth_cooldown_seconds(self) -> float: ...
    @property
    def auth_max_cooldown_seconds(self) -> float: ...


def breaker_problems(breaker: BreakerValues) -> Iterator[Problem]:
    """Problems of circuit-breaker settings: a threshold of at least 1, every duration above 0,
    and each maximum cooldown at least its starting cooldown."""
    if not breaker.failure_threshold >= 1:
        yield "failure_threshold", "must be at least 1"
    durations = {
        "window_seconds": breaker.window_seconds,
        "cooldown_seconds": breaker.cooldown_seconds,
        "max_cooldown_seconds": breaker.max_cooldown_seconds,
        "auth_cooldown_seconds": breaker.auth_cooldown_seconds,
        "auth_max_cooldown_seconds": breaker.auth_max_cooldown_seconds,
    }
    for key, value in durations.items():
        if not value > 0:  # also refuses nan
            yield key, "must be greater than 0"
    if breaker.max_cooldown_seconds < breaker.cooldown_seconds:
        yield "max_cooldown_seconds", "must be at least cooldown_seconds"
    if breaker.auth_max_cooldown_seconds < breaker.auth_cooldown_seconds:
        yield "auth_max_cooldown_seconds", "must be at least auth_cooldown_seconds"


def folder_list_problems(
    protected: Sequence[str], expunge_allowed: Sequence[str]
) -> Iterator[Problem]:
    """Problems of the folder lists, compared by :func:`folder_key`: INBOX on the allowlist for
    permanent deletion, or a folder both protected and on that allowlist."""
    protected_keys = {folder_key(name) for name in protected}
    for index, name in enumerate(expunge_allowed):
        key = folder_key(name)
        if key == INBOX_KEY:
            yield f"expunge_allowed[{index}]", "INBOX is always protected"
        elif key in protected_keys:
            yield f"expunge_allowed[{index}]", f"folder {name!r} is also in protected"


def raise_first(problems: Iterable[Problem], *, where: str) -> None:
    """Raise the first problem as a :class:`ConfigError` whose detail names its key path.

    Raises:
        ConfigError: there is a problem.
    """
    for sub_path, message in problems:
        path = f"{where}.{sub_path}" if sub_path else where
        raise ConfigError(f"{path}: {message}", public=message)
