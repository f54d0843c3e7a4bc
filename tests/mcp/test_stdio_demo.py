"""The wire: ``mailguard-mcp demo`` as a subprocess, every message checked against the MCP
schema (the SDK's own pydantic models) and every result against its tool's outputSchema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import mcp.types as types
import pytest

from mailguard_core.model.tools import ToolName
from mailguard_core.services.tooldefs import TOOL_DEFS
from tests.mcp.wire import raw_session

pytestmark = pytest.mark.anyio

_HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


async def test_demo_over_stdio_speaks_valid_mcp(tmp_path: Path) -> None:
    """initialize, tools/list and tools/call replies validate against the MCP types; each
    structuredContent, errors included, validates against its outputSchema; text is fenced."""
    async with raw_session(["demo"], stderr=tmp_path / "stderr.log") as session:
        init = await session.initialize()
        listed = await session.request("tools/list")
        search = await session.request(
            "tools/call", {"name": "search", "arguments": {"subject": "Quarterly"}}
        )
        ref = search["structuredContent"]["items"][0]["meta"]["message_ref"]
        fetched = await session.request(
            "tools/call", {"name": "fetch_message", "arguments": {"message_ref": ref}}
        )
        stale = await session.request(
            "tools/call",
            {"name": "fetch_message", "arguments": {"message_ref": "demo:INBOX:999:1"}},
        )
        denied = await session.request(
            "tools/call",
            {"name": "delete_message", "arguments": {"message_refs": ["demo:INBOX:1:1"]}},
        )
    types.InitializeResult.model_validate(init)
    assert init["capabilities"]["tools"]["listChanged"] is True
    types.ListToolsResult.model_validate(listed)
    schemas: dict[str, Any] = {}
    for raw in listed["tools"]:
        types.Tool.model_validate(raw)
        assert raw["inputSchema"]["type"] == "object"
        assert raw["outputSchema"]["type"] == "object"
        assert set(_HINTS) <= set(raw["annotations"])
        jsonschema.Draft202012Validator.check_schema(raw["inputSchema"])
        schemas[raw["name"]] = raw["outputSchema"]
    for name, result in (("search", search), ("fetch_message", fetched)):
        parsed = types.CallToolResult.model_validate(result)
        assert parsed.is_error is not True
        jsonschema.validate(result["structuredContent"], schemas[name])
        jsonschema.validate(result["structuredContent"], TOOL_DEFS[ToolName(name)].output_schema)
    warnings = {w["code"] for w in fetched["structuredContent"]["security_warnings"]}
    assert "html_hidden_content_removed" in warnings
    text = fetched["content"][0]["text"]
    assert "<<untrusted nonce=" in text
    assert "ignore all previous instructions" not in text
    assert stale["isError"] is True
    assert stale["structuredContent"]["error"]["code"] == "stale_reference"
    jsonschema.validate(stale["structuredContent"], schemas["fetch_message"])
    refused = types.CallToolResult.model_validate(denied)
    assert refused.is_error is True
    assert denied["structuredContent"]["error"]["code"] == "tool_denied"
