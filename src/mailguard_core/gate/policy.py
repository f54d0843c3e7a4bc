"""Which tools an account may call: its posture's column of the matrix, then its overrides.

Tool names are matched exactly (:func:`~mailguard_core.model.tools.parse_tool_name`): any other
spelling is an unknown tool, and unknown tools are refused like denied ones. The rule is
:meth:`~mailguard_core.config.ToolOverrides.tools_for`, the one configuration validation uses;
the overrides were checked when they were built.
"""

from __future__ import annotations

from mailguard_core.config import ToolOverrides
from mailguard_core.model.tools import Posture, ToolName

_NO_OVERRIDES = ToolOverrides()


def effective_tools(
    posture: Posture, overrides: ToolOverrides = _NO_OVERRIDES
) -> frozenset[ToolName]:
    """The tools allowed under ``posture`` with ``overrides`` applied, infrastructure included:
    ``allow`` turns a cell on, ``deny`` turns it off."""
    return overrides.tools_for(posture)
