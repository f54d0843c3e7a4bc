"""Which tools an account may call: its posture's column of the matrix, then its overrides.

Tool names are matched exactly (:func:`~mailguard_core.tools.parse_tool_name`): any other
spelling is an unknown tool, and unknown tools are refused like denied ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailguard_core.config import ToolOverrides
from mailguard_core.errors import ConfigError
from mailguard_core.tools import (
    GATED_TOOLS,
    INFRASTRUCTURE_TOOLS,
    Posture,
    ToolName,
    parse_tool_name,
    posture_allows,
)

_NO_OVERRIDES = ToolOverrides()


def _tool_names(names: Iterable[str], *, where: str) -> frozenset[ToolName]:
    tools: set[ToolName] = set()
    for name in names:
        tool = parse_tool_name(name)
        if tool is None:
            raise ConfigError(f"{where}: unknown tool name {name!r}")
        if tool in INFRASTRUCTURE_TOOLS:
            raise ConfigError(
                f"{where}: {name!r} is an infrastructure tool: always available, not overridable"
            )
        tools.add(tool)
    return frozenset(tools)


def effective_tools(
    posture: Posture, overrides: ToolOverrides = _NO_OVERRIDES, *, where: str = "tools"
) -> frozenset[ToolName]:
    """The tools allowed under ``posture`` with ``overrides`` applied, infrastructure included.

    ``allow`` turns a cell on, ``deny`` turns it off; a tool in both lists is a contradiction.

    Raises:
        ConfigError: an unknown tool name, an infrastructure tool, or a tool both allowed and
            denied. ``where`` prefixes the message (a config key path).
    """
    allow = _tool_names(overrides.allow, where=f"{where}.allow")
    deny = _tool_names(overrides.deny, where=f"{where}.deny")
    both = allow & deny
    if both:
        raise ConfigError(f"{where}: tools both allowed and denied: {sorted(both)}")
    column = {tool for tool in GATED_TOOLS if posture_allows(posture, tool)}
    return frozenset((column | allow) - deny) | INFRASTRUCTURE_TOOLS
