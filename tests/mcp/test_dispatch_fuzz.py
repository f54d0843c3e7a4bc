"""Whatever arguments a client sends, dispatch answers with a result or a typed refusal."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import jsonschema
import mcp.types as types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.services.tooldefs import TOOL_DEFS
from mailguard_mcp.server import call_tool
from tests.mcp.harness import account, limits, make_harness

_NAMES = sorted({key for d in TOOL_DEFS.values() for key in d.input_schema["properties"]})
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(max_size=40),
    st.sampled_from(["INBOX", "Junk", "Scratch", "work:INBOX:1:1", "work:INBOX:0:0", "$Todo"]),
)
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=4))
_ARGUMENTS = st.dictionaries(
    st.one_of(st.sampled_from(_NAMES), st.text(max_size=10)), _VALUES, max_size=5
)


class _Session:
    async def send_tool_list_changed(self) -> None:
        return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.one_of(st.sampled_from([t.value for t in ToolName]), st.text(max_size=20)),
    arguments=_ARGUMENTS,
)
def test_random_calls_get_a_valid_result_or_a_typed_refusal(
    tmp_path_factory: Any, name: str, arguments: dict[str, Any]
) -> None:
    """No argument shape makes dispatch crash (internal_error) or return an invalid result."""
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    h = make_harness(tmp, account(posture=Posture.DESTRUCTIVE, limits=limits(1e6, 10**6)))
    h.seed()
    with ExitStack() as stack:
        app = stack.enter_context(h.open())
        ctx = SimpleNamespace(lifespan_context=app, session=_Session())
        params = types.CallToolRequestParams(name=name, arguments=arguments)
        result = anyio.run(call_tool, ctx, params)  # type: ignore[arg-type]
    content = result.structured_content
    assert isinstance(content, dict)
    if result.is_error:
        assert content["error"]["code"] != "internal_error", content
    else:
        jsonschema.validate(content, TOOL_DEFS[ToolName(name)].output_schema)
