"""The tool table moved to :mod:`mailguard_core.services.tooldefs` (the library describes its tools
to agent frameworks from the same table); kept so that old imports go on working."""

from mailguard_core.services.tooldefs import (
    ACCOUNT_PATTERN,
    TOOL_DEFS,
    JsonSchema,
    ToolDef,
    listed_input_schema,
    listed_output_schema,
    with_error,
)

__all__ = [
    "ACCOUNT_PATTERN",
    "TOOL_DEFS",
    "JsonSchema",
    "ToolDef",
    "listed_input_schema",
    "listed_output_schema",
    "with_error",
]
