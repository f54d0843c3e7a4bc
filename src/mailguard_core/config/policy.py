"""The per-account policy tables: tool overrides, folders, rate limits, sending, confirmation;
each with its rules (:mod:`mailguard_core.model.checks`). The breaker's table is a value of the
model (:class:`~mailguard_core.model.breaker.BreakerSettings`): the gate-state port takes it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal

import attrs

from mailguard_core.model.checks import (
    Problem,
    at_least_one,
    each,
    positive,
    raise_problems,
    within,
)
from mailguard_core.model.errors import ConfigError
from mailguard_core.model.tools import (
    GATED_TOOLS,
    INFRASTRUCTURE_TOOLS,
    Posture,
    ToolName,
    parse_tool_name,
    posture_allows,
)

#: per-tool rate limits that apply unless the configuration sets the same tool
DEFAULT_TOOL_RATES: Mapping[str, str] = {"create_draft": "5/min", "send_email": "3/min"}

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


def _tool_name_problem(name: str, infrastructure: str) -> str | None:
    tool = parse_tool_name(name)
    if tool is None:
        return f"unknown tool name {name!r}"
    if tool in INFRASTRUCTURE_TOOLS:
        return infrastructure
    return None


def _overridable(_instance: object, _attribute: object, names: tuple[str, ...]) -> None:
    """Each name is a gated tool's exact name (infrastructure tools are always available)."""
    raise_problems(
        (f"[{index}]", problem)
        for index, name in enumerate(names)
        if (problem := _tool_name_problem(name, f"{name!r} is always available")) is not None
    )


def _known_tools(names: Iterable[str]) -> frozenset[ToolName]:
    return frozenset(tool for tool in map(parse_tool_name, names) if tool is not None)


@attrs.frozen(kw_only=True)
class ToolOverrides:
    allow: tuple[str, ...] = attrs.field(default=(), validator=_overridable)
    deny: tuple[str, ...] = attrs.field(default=(), validator=_overridable)

    def __attrs_post_init__(self) -> None:
        raise_problems(
            ("", f"tool {name!r} is both allowed and denied")
            for name in sorted(set(self.allow) & set(self.deny))
        )

    def tools_for(self, posture: Posture) -> frozenset[ToolName]:
        """The posture's column of the matrix, plus ``allow``, minus ``deny``; the
        infrastructure tools are always included."""
        column = {tool for tool in GATED_TOOLS if posture_allows(posture, tool)}
        allow, deny = _known_tools(self.allow), _known_tools(self.deny)
        return frozenset((column | allow) - deny) | INFRASTRUCTURE_TOOLS


@attrs.frozen(kw_only=True)
class FolderSettings:
    #: protected in addition to INBOX and the server's special-use folders
    protected: tuple[str, ...] = ()
    #: the only folders ``expunge`` and ``delete_folder`` may act on
    expunge_allowed: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        # one rule over both lists, so that a look-alike name gets every problem it has
        problems = list(self._names())
        if self.expunge_allowed:
            problems.extend(self._overlaps())
        raise_problems(problems)

    def _names(self) -> Iterator[Problem]:
        for key, names in (
            ("protected", self.protected),
            ("expunge_allowed", self.expunge_allowed),
        ):
            for index, name in enumerate(names):
                if not name or any(not c.isprintable() for c in name):
                    yield f"{key}[{index}]", "must be a non-empty folder name"

    def _overlaps(self) -> Iterator[Problem]:
        """INBOX (or a look-alike) on the allowlist for permanent deletion, or a folder both
        protected and on it, compared by
        :func:`~mailguard_core.model.folder_names.folder_keys`."""
        from mailguard_core.model.folder_names import INBOX_NAMES, folder_keys, folder_keys_of

        inbox = folder_keys_of(INBOX_NAMES)
        protected = folder_keys_of(self.protected)
        for index, name in enumerate(self.expunge_allowed):
            keys = folder_keys(name)
            if not keys.isdisjoint(inbox):
                yield f"expunge_allowed[{index}]", "INBOX is always protected"
            elif not keys.isdisjoint(protected):
                yield f"expunge_allowed[{index}]", f"folder {name!r} is also in protected"


def _tool_rates(_instance: object, _attribute: object, rates: Mapping[str, str]) -> None:
    """Each key names a gated tool exactly and each value is a rate (:func:`parse_rate`)."""
    problems: list[Problem] = []
    for name, text in rates.items():
        problem = _tool_name_problem(name, f"{name!r} is always available, never limited")
        if problem is not None:
            problems.append((name, problem))
        try:
            parse_rate(text)
        except ConfigError as exc:
            problems.append((name, exc.public_message))
    raise_problems(problems)


@attrs.frozen(kw_only=True)
class RateLimitSettings:
    calls_per_second: float = attrs.field(default=10.0, validator=positive)
    burst: int = attrs.field(default=20, validator=at_least_one)
    #: per-tool limits as "N/s", "N/min" or "N/h"
    tools: dict[str, str] = attrs.field(
        factory=lambda: dict(DEFAULT_TOOL_RATES), validator=_tool_rates
    )

    def tool_rates(self) -> dict[ToolName, Rate]:
        """The per-tool limits, parsed."""
        return {
            tool: parse_rate(text)
            for name, text in self.tools.items()
            if (tool := parse_tool_name(name)) is not None
        }


def _allow_entry(entry: str) -> str:
    """An exact address or a bare domain, normalised (IDNA)."""
    from mailguard_core.model.compose import validate_address, validate_domain

    return validate_address(entry) if "@" in entry else validate_domain(entry)


def _allow_entries(entries: tuple[str, ...]) -> tuple[str, ...]:
    return each(_allow_entry)(entries)


@attrs.frozen(kw_only=True)
class SendSettings:
    max_recipients: int = attrs.field(default=50, validator=at_least_one)
    max_subject_chars: int = attrs.field(default=998, validator=within(1, 10_000))
    max_body_bytes: int = attrs.field(default=1_000_000, validator=at_least_one)
    #: exact addresses or bare domains; empty means no allowlist
    recipient_allowlist: tuple[str, ...] = attrs.field(default=(), converter=_allow_entries)


#: what happens to a confirmed call when the client cannot ask its user (no elicitation)
OnUnsupported = Literal["draft", "refuse"]

#: the tools a human can be asked to confirm (mailguard builds a summary for each)
CONFIRMABLE_TOOLS: tuple[str, ...] = (
    "send_email",
    "delete_message",
    "expunge",
    "move_message",
    "delete_folder",
    "rename_folder",
)

#: the tools that ask the human by default (issue 21)
DEFAULT_CONFIRM_TOOLS: tuple[str, ...] = (
    "send_email",
    "delete_message",
    "expunge",
    "delete_folder",
    "rename_folder",
)


def _confirmable(_instance: object, _attribute: object, names: tuple[str, ...]) -> None:
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, name in enumerate(names):
        if parse_tool_name(name) is None:
            problems.append((f"[{index}]", f"unknown tool {name[:64]!r}"))
        elif name not in CONFIRMABLE_TOOLS:
            problems.append(
                (
                    f"[{index}]",
                    f"{name!r} cannot be confirmed; one of: " + ", ".join(CONFIRMABLE_TOOLS),
                )
            )
        elif name in seen:
            problems.append((f"[{index}]", f"{name!r} is listed twice"))
        seen.add(name)
    raise_problems(problems)


@attrs.frozen(kw_only=True)
class ConfirmSettings:
    """``[accounts.confirm]``: tools the human confirms through MCP elicitation."""

    #: tool names; an empty list turns confirmation off for the account
    tools: tuple[str, ...] = attrs.field(default=DEFAULT_CONFIRM_TOOLS, validator=_confirmable)
    #: a client without elicitation: ``"draft"`` saves a send as a $PendingReview draft
    #: (every other confirmed tool is refused); ``"refuse"`` refuses every confirmed call
    on_unsupported: OnUnsupported = "draft"
    #: no answer within this many seconds is a decline
    timeout_seconds: float = attrs.field(default=120.0, validator=within(1, 3600))
