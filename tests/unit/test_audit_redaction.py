"""Redaction of tool arguments for the audit log, rule by rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from mailguard_core.gate.redaction import REDACTED, redact_arguments, summarize_result
from mailguard_core.model.tools import ToolName
from mailguard_core.services.dispatch import describe
from mailguard_core.services.tooldefs import TOOL_DEFS

T = ToolName


def fake_pseudonym(value: str) -> str:
    return f"P({value})"


def redact(
    tool: ToolName | None, arguments: Mapping[str, Any], pseudonymize: Callable[[str], str]
) -> dict[str, Any]:
    """The audit log's ``args`` of a call, by the rules the tool table gives its request."""
    request = describe(tool.value if tool else "no_such_tool", "w", arguments)
    return redact_arguments(request.arguments, pseudonymize)


def test_every_argument_a_schema_declares_is_logged_by_a_rule() -> None:
    """Each argument of the tool table carries its audit rule, so nothing a tool accepts
    falls through to '[redacted]' (the schema and the rule are one entry)."""
    for tool, spec in TOOL_DEFS.items():
        declared = set(spec.input_schema["properties"])
        assert declared == {a.name for a in spec.args}, tool
        request = describe(tool.value, "w", dict.fromkeys(declared, "x"))
        assert all(a.rule is not None for a in request.arguments), tool
        logged = redact_arguments(request.arguments, str)
        assert REDACTED not in logged.values(), tool


def test_message_content_becomes_lengths_and_recipients_pseudonyms() -> None:
    """create_draft keeps no subject, body or address in clear."""
    logged = redact(
        T.CREATE_DRAFT,
        {
            "account": "work",
            "to": [" Bob@Example.ORG", "c@d.example"],
            "cc": "single@x.example",
            "subject": "Payroll",
            "body": "line\n" * 10,
            "in_reply_to": "work:INBOX:1:2",
        },
        fake_pseudonym,
    )
    assert logged == {
        "account": "work",
        "to": ["P(bob@example.org)", "P(c@d.example)"],
        "cc": "P(single@x.example)",
        "subject": {"len": 7},
        "body": {"len": 50},
        "in_reply_to": "work:INBOX:1:2",
    }


def test_search_terms_become_lengths_and_filters_are_kept() -> None:
    """search keeps folder, dates, flags and limit; from/to/subject/text/cursor are lengths."""
    logged = redact(
        T.SEARCH,
        {
            "folder": "INBOX",
            "from": "boss",
            "text": "salary",
            "since": "2026-01-01",
            "seen": False,
            "limit": 20,
            "cursor": "abc",
        },
        fake_pseudonym,
    )
    assert logged == {
        "folder": "INBOX",
        "from": {"len": 4},
        "text": {"len": 6},
        "since": "2026-01-01",
        "seen": False,
        "limit": 20,
        "cursor": {"len": 3},
    }


def test_unknown_arguments_and_unknown_tools_are_redacted() -> None:
    """Anything without a rule is '[redacted]', keys clipped and counted beyond twenty."""
    logged = redact(T.FLAG, {"message_refs": ["w:I:1:1"], "password": "x"}, str)
    assert logged == {"message_refs": ["w:I:1:1"], "password": REDACTED}
    many = {f"k{i}": "v" for i in range(25)}
    logged = redact(None, {**many, "x" * 200: 1}, str)
    assert set(logged.values()) == {REDACTED, "6 more redacted arguments"}
    assert len(logged) == 21


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x" * 300, "x" * 256 + "...[44 more chars]"),
        ({"nested": "dict"}, REDACTED),
        ([["nested"]], [REDACTED]),
        (float("nan"), REDACTED),
        (None, None),
        (True, True),
    ],
)
def test_kept_values_are_clipped_and_only_simple_values_kept(
    value: object, expected: object
) -> None:
    """Kept arguments are scalars or flat lists, long strings clipped with a marker."""
    assert redact(T.CREATE_FOLDER, {"name": value}, str) == {"name": expected}


def test_long_ref_lists_are_cut_at_a_hundred_with_a_marker() -> None:
    """A list of 150 refs keeps 100 and says how many more there were."""
    refs = [f"w:INBOX:1:{i}" for i in range(1, 151)]
    logged = redact(T.MARK_READ, {"message_refs": refs}, str)["message_refs"]
    assert logged[:100] == refs[:100] and logged[100] == "...[50 more]"


def test_non_string_recipients_and_content_are_redacted_not_logged() -> None:
    """Values of the wrong type under a hashing or length rule are not logged raw."""
    logged = redact(T.SEND_EMAIL, {"to": [{"x": 1}], "body": {"a": "secret"}}, str)
    assert logged == {"to": REDACTED, "body": REDACTED}


def test_result_summaries_keep_scalars_only() -> None:
    """set_result summaries are clipped to simple values."""
    assert summarize_result({"count": 3, "refs": ["a", "b"], "deep": {"x": 1}}) == {
        "count": 3,
        "refs": ["a", "b"],
        "deep": REDACTED,
    }


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (0.0, "1970-01-01T00:00:00.000000Z"),
        (1_800_000_000.5, "2027-01-15T08:00:00.500000Z"),
        (1_800_000_001.25, "2027-01-15T08:00:01.250000Z"),
        (1_800_000_000.999999, "2027-01-15T08:00:00.999999Z"),
    ],
)
def test_timestamps_are_utc_iso_8601_with_microseconds(epoch: float, text: str) -> None:
    """Audit timestamps are UTC with a Z suffix, also across the per-second cache."""
    from mailguard_core.gate.audit import format_ts

    assert format_ts(epoch) == text
