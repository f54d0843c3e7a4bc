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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol

import attrs

from mailguard_core.model.compose import DRAFT_FLAGS
from mailguard_core.model.errors import ConfigError
from mailguard_core.model.skeleton import skeleton
from mailguard_core.model.tools import (
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
    """The case-insensitive comparison key of a folder name: its confusable skeleton
    (:func:`~mailguard_core.model.skeleton.skeleton`: NFKC, case folding, no default-ignorable code
    points or combining marks, look-alike characters mapped to one prototype, blanks collapsed
    and trimmed). ``ＩＮＢＯＸ``, ``Іnbox`` (Cyrillic І), ``İnbox``, ``Sent\u034f`` and
    ``D\u0336rafts`` get the key of ``INBOX``, ``Sent`` and ``Drafts``."""
    return skeleton(name)


def folder_keys(name: str) -> frozenset[str]:
    """Every key a folder name is compared by; two names collide when their sets meet.

    :func:`folder_key`, plus the case-*preserving* skeletons of the name as written, in lower
    and upper case and capitalised (marked with a leading NUL so they never meet a folded key):
    capital ``I`` and small ``l`` are confusable while small ``i`` is not, so ``lnbox`` meets
    ``Inbox`` (how clients show INBOX) only there.
    """
    shapes = {name, name.lower(), name.upper(), name.capitalize()}
    return frozenset({folder_key(name)} | {"\0" + skeleton(s, fold=False) for s in shapes})


def folder_keys_of(names: Iterable[str]) -> frozenset[str]:
    """The union of :func:`folder_keys` of ``names``."""
    return frozenset(key for name in names for key in folder_keys(name))


def is_or_holds(name: str, keys: frozenset[str]) -> bool:
    """Whether ``name`` collides with a folder of ``keys`` or is an ancestor of one (``/`` or
    ``.`` as the hierarchy delimiter), so that renaming it, or renaming a folder *to* it,
    would move that folder."""
    mine = folder_keys(name)
    return not mine.isdisjoint(keys) or any(
        other.startswith(key + delimiter)
        for key in mine
        for other in keys
        for delimiter in FOLDER_DELIMITERS
    )


INBOX_KEY = folder_key("INBOX")
#: INBOX as the server names it and as clients show it
INBOX_NAMES = ("INBOX", "Inbox")
#: hierarchy delimiters servers commonly use; a name is checked against each
FOLDER_DELIMITERS = ("/", ".")
#: special-use flag -> the folder name mailguard's drafts and sent copies use when the server
#: announces none (``outgoing.py``); moves into these (and the announced ones) are refused
OUTGOING_FOLDERS = {"\\Drafts": "Drafts", "\\Sent": "Sent"}
#: the keywords mailguard's drafts rely on (the ``$`` keywords of ``DRAFT_FLAGS``):
#: ``add_label``/``remove_label`` refuse them and their look-alikes (compared by
#: :func:`folder_key`); the system flags (``\\Draft``) are refused as labels anyway
RESERVED_LABELS = tuple(flag for flag in DRAFT_FLAGS if flag.startswith("$"))
_RESERVED_LABEL_KEYS = frozenset(folder_key(label) for label in RESERVED_LABELS)


def is_reserved_label(label: str) -> bool:
    """Whether ``label`` is, or looks like, a keyword of :data:`RESERVED_LABELS`."""
    return folder_key(label) in _RESERVED_LABEL_KEYS


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
    """Problems of the folder lists, compared by :func:`folder_keys`: INBOX (or a look-alike)
    on the allowlist for permanent deletion, or a folder both protected and on that
    allowlist."""
    inbox = folder_keys_of(INBOX_NAMES)
    protected_keys = folder_keys_of(protected)
    for index, name in enumerate(expunge_allowed):
        keys = folder_keys(name)
        if not keys.isdisjoint(inbox):
            yield f"expunge_allowed[{index}]", "INBOX is always protected"
        elif not keys.isdisjoint(protected_keys):
            yield f"expunge_allowed[{index}]", f"folder {name!r} is also in protected"


def raise_first(problems: Iterable[Problem], *, where: str) -> None:
    """Raise the first problem as a :class:`ConfigError` whose detail names its key path.

    Raises:
        ConfigError: there is a problem.
    """
    for sub_path, message in problems:
        path = f"{where}.{sub_path}" if sub_path else where
        raise ConfigError(f"{path}: {message}", public=message)
