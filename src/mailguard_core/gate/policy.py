"""Which tools an account may call: its posture's column of the matrix, then its overrides.

Tool names are matched exactly (:func:`~mailguard_core.model.tools.parse_tool_name`): any other
spelling is an unknown tool, and unknown tools are refused like denied ones. The rules live in
:mod:`mailguard_core.config.policy_rules`, shared with configuration validation.
"""

from __future__ import annotations

from mailguard_core.config import ToolOverrides
from mailguard_core.config.policy_rules import known_tools, override_problems, raise_first, tool_set
from mailguard_core.model.tools import Posture, ToolName

_NO_OVERRIDES = ToolOverrides()


def effective_tools(
    posture: Posture, overrides: ToolOverrides = _NO_OVERRIDES, *, where: str = "tools"
) -> frozenset[ToolName]:
    """The tools allowed under ``posture`` with ``overrides`` applied, infrastructure included.

    ``allow`` turns a cell on, ``deny`` turns it off; a tool in both lists is a contradiction.

    Raises:
        ConfigError: an unknown tool name, an infrastructure tool, or a tool both allowed and
            denied. ``where`` prefixes the message (a config key path).
    """
    raise_first(override_problems(overrides.allow, overrides.deny), where=where)
    return tool_set(posture, known_tools(overrides.allow), known_tools(overrides.deny))
