"""Redaction of tool arguments for the audit log, rule by rule."""

from __future__ import annotations

import pytest

from mailguard_core.gate.audit import (
    REDACTED,
    REDACTION_RULES,
    redact_arguments,
    summarize_result,
)
from mailguard_core.model.tools import ToolName

T = ToolName


def fake_pseudonym(value: str) -> str:
    return f"P({value})"


def test_every_tool_has_a_rule_for_exactly_the_arguments_its_schema_declares() -> None:
    """The MCP input schemas and the redaction rules name the same arguments, so nothing a
    tool accepts falls through to '[redacted]' and no rule is stale."""
    from mailguard_core.services.tooldefs import TOOL_DEFS

    assert set(REDACTION_RULES) == set(ToolName)
    for name, definition in TOOL_DEFS.items():
        declared = set(definition.input_schema.get("properties", {})) - {"account"}
        assert declared == set(REDACTION_RULES[ToolName(name)]), name


def test_message_content_becomes_lengths_and_recipients_pseudonyms() -> None:
    """create_draft keeps no subject, body or address in clear."""
    logged = redact_arguments(
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
    logged = redact_arguments(
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
    logged = redact_arguments(T.FLAG, {"message_refs": ["w:I:1:1"], "password": "x"}, str)
    assert logged == {"message_refs": ["w:I:1:1"], "password": REDACTED}
    many = {f"k{i}": "v" for i in range(25)}
    logged = redact_arguments(None, {**many, "x" * 200: 1}, str)
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
    assert redact_arguments(T.CREATE_FOLDER, {"name": value}, str) == {"name": expected}


def test_long_ref_lists_are_cut_at_a_hundred_with_a_marker() -> None:
    """A list of 150 refs keeps 100 and says how many more there were."""
    refs = [f"w:INBOX:1:{i}" for i in range(1, 151)]
    logged = redact_arguments(T.MARK_READ, {"message_refs": refs}, str)["message_refs"]
    assert logged[:100] == refs[:100] and logged[100] == "...[50 more]"


def test_non_string_recipients_and_content_are_redacted_not_logged() -> None:
    """Values of the wrong type under a hashing or length rule are not logged raw."""
    logged = redact_arguments(T.SEND_EMAIL, {"to": [{"x": 1}], "body": {"a": "secret"}}, str)
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
