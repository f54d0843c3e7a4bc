"""The tool definitions: valid schemas, bounds, and annotations that tell the truth."""

from __future__ import annotations

import json

import jsonschema
import mcp.types as types
import pytest

from mailguard_core.model.errors import InputError
from mailguard_core.model.tools import Posture, ToolName, posture_allows
from mailguard_core.services.dispatch import validate_arguments
from mailguard_core.services.tooldefs import TOOL_DEFS, listed_input_schema, listed_output_schema
from mailguard_mcp.server import listed_tools

_T = ToolName
ALL = frozenset(ToolName)


@pytest.mark.parametrize("tool", list(ToolName))
def test_each_schema_is_a_valid_closed_object_schema(tool: ToolName) -> None:
    """Input and output schemas are Draft 2020-12 object schemas; inputs reject extra keys and
    every required argument is a declared property."""
    d = TOOL_DEFS[tool]
    jsonschema.Draft202012Validator.check_schema(d.input_schema)
    jsonschema.Draft202012Validator.check_schema(d.output_schema)
    assert d.input_schema["type"] == d.output_schema["type"] == "object"
    assert d.input_schema["additionalProperties"] is False
    assert set(d.input_schema.get("required", [])) <= set(d.input_schema["properties"])
    assert "error" in d.output_schema["properties"]


def test_the_listed_tools_are_valid_mcp_tool_objects_on_the_wire() -> None:
    """Each Tool survives a round trip through its camelCase JSON form."""
    for tool in listed_tools(ALL):
        raw = tool.model_dump(by_alias=True, mode="json", exclude_none=True)
        assert {"inputSchema", "outputSchema", "annotations"} <= set(raw)
        assert types.Tool.model_validate(raw) == tool


def test_read_only_hints_mark_exactly_the_tools_that_change_nothing() -> None:
    """readOnlyHint is set for reading tools and the two infrastructure tools only."""
    read_only = {t for t, d in TOOL_DEFS.items() if d.read_only}
    readers = {t for t in ToolName if posture_allows(Posture.READONLY, t)} - {
        _T.DOWNLOAD_ATTACHMENT  # writes a file
    }
    assert read_only == readers | {_T.SEARCH_ADVANCED, _T.FETCH_MESSAGE_HTML}


def test_destructive_and_open_world_hints_name_the_irreversible_tools() -> None:
    """Destructive: send, delete to Trash, expunge, delete_folder; open world: send only."""
    destructive = {t for t, d in TOOL_DEFS.items() if d.destructive}
    assert destructive == {_T.SEND_EMAIL, _T.DELETE_MESSAGE, _T.EXPUNGE, _T.DELETE_FOLDER}
    assert {t for t, d in TOOL_DEFS.items() if d.open_world} == {_T.SEND_EMAIL}
    assert {t for t, d in TOOL_DEFS.items() if not d.idempotent} == {
        _T.DOWNLOAD_ATTACHMENT,
        _T.CREATE_DRAFT,
        _T.SEND_EMAIL,
    }


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        (_T.SEARCH, {"limit": 0}),
        (_T.SEARCH, {"limit": 101}),
        (_T.SEARCH, {"since": "23/11/2026"}),
        (_T.SEARCH, {"folder": "IN\r\nBOX"}),
        (_T.MARK_READ, {"message_refs": []}),
        (_T.MARK_READ, {"message_refs": ["w:INBOX:1:1"] * 2}),
        (_T.MARK_READ, {"message_refs": [f"w:INBOX:1:{i}" for i in range(1, 102)]}),
        (_T.ADD_LABEL, {"message_refs": ["w:INBOX:1:1"], "label": "\\Seen"}),
        (_T.SEND_EMAIL, {"to": ["Bob <bob@example.org>, eve@x.org"], "subject": "s", "body": "b"}),
        (
            _T.SEND_EMAIL,
            {"to": ["Bob\r\nBcc: x@y.z <bob@example.org>"], "subject": "s", "body": "b"},
        ),
        (_T.CREATE_DRAFT, {"to": ["a <b@c.d> <e@f.g>"], "subject": "s", "body": "b"}),
        (_T.SEND_EMAIL, {"to": ["bob@example.org"], "subject": "a\r\nBcc: x@y.z", "body": "b"}),
        (_T.DOWNLOAD_ATTACHMENT, {"message_ref": "w:INBOX:1:1", "part_id": "../1"}),
        (_T.USE_ACCOUNT, {}),
    ],
)
def test_out_of_bounds_arguments_are_refused_by_the_schema(
    tool: ToolName, arguments: dict[str, object]
) -> None:
    """Bounds, patterns and required arguments are enforced before anything runs."""
    with pytest.raises(InputError):
        validate_arguments(tool, arguments)


@pytest.mark.parametrize("tool", list(ToolName))
def test_the_listed_schemas_are_the_full_ones_without_the_enforced_bounds(tool: ToolName) -> None:
    """tools/list leaves out formats and bounds the server enforces (pattern, lengths, item
    counts) and shows the output's top level only; every property, type, required list and
    default of the input stays, and arguments are still validated against the full schema."""
    d = TOOL_DEFS[tool]
    listed = listed_input_schema(d.input_schema)
    assert listed["properties"].keys() == d.input_schema["properties"].keys()
    assert listed.get("required") == d.input_schema.get("required")
    assert listed["additionalProperties"] is False
    for name, sub in d.input_schema["properties"].items():
        assert listed["properties"][name]["type"] == sub["type"]
        assert listed["properties"][name].get("default") == sub.get("default")
    assert "pattern" not in json.dumps(listed)
    out = listed_output_schema(d.output_schema)
    assert out["properties"].keys() == d.output_schema["properties"].keys()
    jsonschema.Draft202012Validator.check_schema(listed)
    jsonschema.Draft202012Validator.check_schema(out)
    if "message_ref" in d.input_schema["properties"]:
        with pytest.raises(InputError):  # the full schema's pattern still applies
            validate_arguments(tool, {"message_ref": "not a ref"})
