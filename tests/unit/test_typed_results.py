"""Use cases return frozen values, never wire dicts (issue 13): every tool's service call,
run over the in-memory adapters, returns a frozen attrs value of ``results.ToolResult``, and
only ``app/wire.py`` turns it into the envelope."""

from __future__ import annotations

import inspect
import types
import typing
from pathlib import Path

import attrs
import pytest

from mailguard_core.app import wire
from mailguard_core.config import Config
from mailguard_core.model.tools import ToolName
from mailguard_core.services import dispatch, results
from mailguard_core.services.confirm import ConfirmationSummary, unconfirmable_call
from mailguard_core.services.tooldefs import TOOL_DEFS
from mailguard_core.services.use_cases import MailboxService
from tests.mcp.harness import account, limits, make_harness
from tests.mcp.test_server_tools import arguments_for

#: MailboxService's public methods that no tool calls (the gate's provider, the lifecycle)
_NOT_USE_CASES = {"special_folders", "close"}


def _members(alias: object) -> set[type]:
    """The classes of a union alias of ``results`` (string aliases resolved there)."""
    from mailguard_core.sanitize import SafeMessage

    if isinstance(alias, str):
        names = {**vars(results), "SafeMessage": SafeMessage}
        return set().union(*(_members(names[part.strip()]) for part in alias.split("|")))
    if isinstance(alias, types.UnionType):
        return set().union(*(_members(arg) for arg in typing.get_args(alias)))
    assert isinstance(alias, type), alias
    return {alias}


TOOL_RESULTS = _members(results.ToolResult)


def _is_frozen_value(value: object) -> bool:
    cls = type(value)
    if not attrs.has(cls) or isinstance(value, dict):
        return False
    first = attrs.fields(cls)[0].name
    try:
        setattr(value, first, getattr(value, first))
    except attrs.exceptions.FrozenInstanceError:
        return True
    return False


def test_every_member_of_tool_result_is_a_frozen_attrs_class() -> None:
    assert len(TOOL_RESULTS) >= 16
    for cls in TOOL_RESULTS:
        assert attrs.has(cls) and cls.__setattr__ is not object.__setattr__, cls


def test_every_use_case_is_annotated_to_return_a_tool_result() -> None:
    """The annotations mypy checks: no public MailboxService method returns a dict."""
    checked = 0
    for name, method in inspect.getmembers(MailboxService, inspect.isfunction):
        if name.startswith("_") or name in _NOT_USE_CASES:
            continue
        returned = typing.get_type_hints(method)["return"]
        if name.startswith("confirm_"):  # what a human approves first (not a tool's result)
            assert returned is ConfirmationSummary, f"MailboxService.{name} returns {returned}"
            continue
        assert returned in TOOL_RESULTS, f"MailboxService.{name} returns {returned}"
        checked += 1
    assert checked >= 18  # the 18 use cases the tool table binds


@pytest.fixture
def harness_app(tmp_path: Path) -> typing.Iterator[typing.Any]:
    h = make_harness(tmp_path, account(limits=limits(100, 100)))
    refs = h.seed()
    with h.open() as app:
        yield app, refs


def test_every_tool_returns_a_frozen_value_that_only_the_wire_module_shapes(
    harness_app: typing.Any,
) -> None:
    """Each tool's service call, prepared from its JSON arguments by the tool table and run
    on the in-memory store, returns a frozen ToolResult; the wire envelope is made of it."""
    app, refs = harness_app
    seen: set[type] = set()
    for tool in ToolName:
        if TOOL_DEFS[tool].prepare is None:
            continue
        prepared = dispatch.prepare("work", tool.value, arguments_for(tool, refs))
        assert prepared.call is not None, (tool, prepared.request.invalid)
        result = app.with_service(prepared.account, prepared.call)
        assert _is_frozen_value(result), (tool, type(result))
        assert type(result) in TOOL_RESULTS, (tool, type(result))
        shaped = wire.envelope(result)
        assert isinstance(shaped, dict) and "security_warnings" in shaped
        seen.add(type(result))
    config = Config(accounts=(account(),))
    unconfirmed = unconfirmable_call(
        config.accounts[0],
        ToolName.SEND_EMAIL,
        {"to": ["bob@example.org"], "subject": "s", "body": "b"},
    )
    others = [
        dispatch.accounts_result(config, "work"),
        dispatch.use_account_result(config.accounts[0].posture, "work", [ToolName.SEARCH]),
        app.with_service("work", unconfirmed),
    ]
    for result in others:
        assert _is_frozen_value(result) and type(result) in TOOL_RESULTS, type(result)
        seen.add(type(result))
    assert seen == TOOL_RESULTS


def test_the_audit_summary_counts_from_the_value_what_the_envelope_shows(
    harness_app: typing.Any,
) -> None:
    """audit_summary (read from the value) says what the envelope says: its warnings, items'
    warnings included, and its counts."""
    app, refs = harness_app
    reading = (ToolName.LIST_FOLDERS, ToolName.SEARCH, ToolName.FETCH_MESSAGE_HTML)
    for tool in (*reading, ToolName.DOWNLOAD_ATTACHMENT):
        prepared = dispatch.prepare("work", tool.value, arguments_for(tool, refs))
        assert prepared.call is not None
        result = app.with_service(prepared.account, prepared.call)
        shaped = wire.envelope(result)
        warnings = len(shaped["security_warnings"]) + sum(
            len(item["security_warnings"]) for item in shaped.get("items", [])
        )
        summary = results.audit_summary(result)
        assert summary["warnings"] == warnings
        for key in ("count", "total", "size_bytes"):
            assert summary.get(key) == shaped["meta"].get(key), (tool, key)


def test_the_wire_module_is_the_only_place_that_writes_an_envelope() -> None:
    """No module of services/ builds ``security_warnings`` for the wire (schemas describe it)."""
    services = Path(results.__file__).parent
    writers = [
        p.name
        for p in services.glob("*.py")
        if '"security_warnings":' in p.read_text(encoding="utf-8") and p.name != "schemas.py"
    ]
    assert writers == []


def test_a_result_nobody_taught_the_faces_is_refused_not_shaped_as_a_message() -> None:
    """The catch-all of envelope and audit_summary accepts only the sanitizer's SafeMessage."""
    from mailguard_core.app.wire import envelope
    from mailguard_core.services.results import audit_summary

    for shape in (envelope, audit_summary):
        with pytest.raises(TypeError, match="not a tool result: dict"):
            shape({"count": 1})  # type: ignore[arg-type]
