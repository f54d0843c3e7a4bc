"""The tool table against the domain: every tool once, the posture matrix, the roles the gate
reads, and formats that are the domain parsers' own."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailguard_core.model.errors import InputError
from mailguard_core.model.tools import (
    GATED_TOOLS,
    INFRASTRUCTURE_TOOLS,
    MINIMUM_POSTURE,
    Posture,
    ToolName,
    posture_allows,
)
from mailguard_core.model.values import MessageRef, parse_keyword, validate_account_name
from mailguard_core.services.dispatch import describe
from mailguard_core.services.tooldefs import TOOL_DEFS, Role

T = ToolName


def test_the_table_has_one_spec_per_tool_of_the_enum_and_the_matrix_covers_the_rest() -> None:
    """Every ToolName has exactly one spec, keyed by its own name; the posture matrix names
    every gated tool and no infrastructure tool; exactly the infrastructure tools are
    answered by the face (no service call)."""
    assert list(TOOL_DEFS) == list(ToolName)
    assert all(spec.name is tool for tool, spec in TOOL_DEFS.items())
    assert set(MINIMUM_POSTURE) == GATED_TOOLS
    assert {t for t, spec in TOOL_DEFS.items() if spec.prepare is None} == INFRASTRUCTURE_TOOLS


def test_annotations_agree_with_the_posture_matrix() -> None:
    """A tool the readonly posture allows changes nothing but (for download) a local file; a
    destructive annotation is never on a readonly tool; the destructive posture holds only
    destructive tools."""
    for tool in GATED_TOOLS:
        spec = TOOL_DEFS[tool]
        if posture_allows(Posture.READONLY, tool):
            assert not spec.destructive and not spec.open_world, tool
        if MINIMUM_POSTURE[tool] is Posture.DESTRUCTIVE:
            assert spec.destructive, tool
        if spec.read_only:
            assert not spec.destructive and spec.idempotent, tool


def test_argument_names_are_unique_and_the_input_schema_is_derived_from_them() -> None:
    """One entry per argument; the schema's properties and required list come from it."""
    for tool, spec in TOOL_DEFS.items():
        names = [a.name for a in spec.args]
        assert len(names) == len(set(names)), tool
        assert list(spec.input_schema["properties"]) == names
        assert spec.input_schema.get("required", []) == [a.name for a in spec.args if a.required]


def test_the_tools_that_act_on_their_refs_account_are_the_ones_taking_message_refs() -> None:
    """The account of a ref tool is its refs' (no account argument to contradict them)."""
    for tool, spec in TOOL_DEFS.items():
        roles = {a.role for a in spec.args}
        assert spec.acts_on_refs == bool(roles & {Role.REF, Role.REFS}), tool
        if spec.acts_on_refs:
            assert Role.ACCOUNT not in roles, tool


@pytest.mark.parametrize(
    ("tool", "arguments", "field", "value"),
    [
        (T.CREATE_FOLDER, {"name": "New"}, "new_folder", "New"),
        (T.RENAME_FOLDER, {"folder": "Old", "new_name": "New"}, "folder", "Old"),
        (T.RENAME_FOLDER, {"folder": "Old", "new_name": "New"}, "new_folder", "New"),
        (T.DELETE_FOLDER, {"folder": "Old"}, "folder", "Old"),
        (T.MOVE_MESSAGE, {"message_refs": ["w:A:1:2"], "destination": "B"}, "destination", "B"),
        (T.ADD_LABEL, {"message_refs": ["w:A:1:2"], "label": "todo"}, "label", "todo"),
        (T.SEARCH, {"folder": "Old"}, "folder", None),  # searched, not renamed or deleted
    ],
)
def test_folder_arguments_reach_the_request_by_what_the_call_does_with_them(
    tool: ToolName, arguments: dict[str, object], field: str, value: object
) -> None:
    request = describe(tool.value, "w", arguments)
    assert request.invalid is None
    assert getattr(request, field) == value


def test_refs_reach_the_request_parsed() -> None:
    """message_ref(s) and in_reply_to become MessageRef values; a malformed one is invalid."""
    ref = MessageRef(account="w", folder="IN:BOX", uidvalidity=7, uid=9)
    assert describe("fetch_message", "w", {"message_ref": str(ref)}).refs == (ref,)
    assert describe("expunge", "w", {"message_refs": [str(ref)]}).refs == (ref,)
    draft = describe("create_draft", "w", {"in_reply_to": str(ref)})
    assert draft.reply_to == ref and draft.named_refs == (ref,)
    assert isinstance(describe("expunge", "w", {"message_refs": ["w:x"]}).invalid, InputError)


ACCOUNT_TEXT = st.text(alphabet=st.characters(codec="ascii"), max_size=70)


def _matches(pattern: str, text: str) -> bool:
    """JSON Schema (ECMA-262) semantics: its ``$`` is Python's ``\\Z`` (no newline before)."""
    assert pattern.startswith("^") and pattern.endswith("$")
    return re.search(pattern[:-1] + r"\Z", text) is not None


def _accepts(parse: object, text: str) -> bool:
    try:
        parse(text)  # type: ignore[operator]
    except InputError:
        return False
    return True


@given(ACCOUNT_TEXT)
def test_the_account_pattern_is_the_account_parsers(text: str) -> None:
    """The schema's account pattern accepts exactly what validate_account_name accepts."""
    pattern = TOOL_DEFS[T.LIST_FOLDERS].input_schema["properties"]["account"]["pattern"]
    assert _matches(pattern, text) == _accepts(validate_account_name, text)


@given(st.from_regex(r"[a-z]{1,3}:[A-Z:]{0,3}:[0-9]{1,11}:[0-9]{1,11}", fullmatch=True) | st.text())
def test_the_message_ref_pattern_is_the_ref_parsers(text: str) -> None:
    """The schema's message_ref pattern accepts exactly what MessageRef.parse accepts."""
    pattern = TOOL_DEFS[T.FETCH_MESSAGE].input_schema["properties"]["message_ref"]["pattern"]
    assert _matches(pattern, text) == _accepts(MessageRef.parse, text)


@given(st.text(max_size=140) | st.sampled_from(["todo\n", "\\Seen", "a b", "x" * 129]))
def test_the_label_pattern_is_the_keyword_parsers(text: str) -> None:
    """The schema's label pattern and length accept exactly what parse_keyword accepts."""
    schema = TOOL_DEFS[T.ADD_LABEL].input_schema["properties"]["label"]
    fits = schema["minLength"] <= len(text) <= schema["maxLength"]
    assert (fits and _matches(schema["pattern"], text)) == _accepts(parse_keyword, text)
