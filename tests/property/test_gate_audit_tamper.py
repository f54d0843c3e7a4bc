"""Property: any single-byte edit, deletion or insertion in an audit log is detected by verify,
at the line it touched (an edit of the very end is at worst reported as a torn last line)."""

from __future__ import annotations

import functools

from hypothesis import given
from hypothesis import strategies as st

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.config import AccountConfig, Config
from mailguard_core.gate import FakeClock
from mailguard_core.gate.audit import verify_chain
from mailguard_core.model.errors import MailguardError
from mailguard_core.model.tools import Posture
from mailguard_core.services.dispatch import ToolGate as Gate


@functools.cache
def reference_log() -> bytes:
    """A small log of mixed calls: allowed, refused, failed, with redacted arguments."""
    sink = InMemoryAuditSink()
    account = AccountConfig(name="w", address="w@x.example", posture=Posture.DRAFT_SAFE)
    gate = Gate.from_config(Config(accounts=(account,)), sink, clock=FakeClock())
    calls = [
        ("search", {"folder": "INBOX", "text": "invoice", "limit": 5}),
        ("send_email", {"to": ["a@b.example"], "subject": "hi", "body": "x"}),
        ("create_draft", {"to": ["a@b.example"], "subject": "Ré: ünïcode", "body": "y"}),
        ("mark_read", {"message_refs": ["w:INBOX:1:2", "w:INBOX:1:3"]}),
        ("Search", {}),
    ]
    for tool, args in calls:
        try:
            with gate.guard(tool, "w", args) as call:
                call.set_result({"count": 1})
        except MailguardError:
            pass
    return ("\n".join(sink.lines) + "\n").encode()


def line_of(data: bytes, position: int) -> int:
    """The 1-based line number holding byte ``position`` (a newline belongs to its line)."""
    return data.count(b"\n", 0, position) + 1


@given(data=st.data())
def test_any_single_byte_change_is_detected_at_its_line(data: st.DataObject) -> None:
    """Replacing, deleting or inserting one byte anywhere is reported, naming that line."""
    log = reference_log()
    op = data.draw(st.sampled_from(["replace", "delete", "insert"]))
    if op == "insert":
        position = data.draw(st.integers(0, len(log)))
        byte = data.draw(st.integers(0, 255))
        tampered = log[:position] + bytes([byte]) + log[position:]
    else:
        position = data.draw(st.integers(0, len(log) - 1))
        if op == "delete":
            tampered = log[:position] + log[position + 1 :]
        else:
            byte = data.draw(st.integers(0, 255).filter(lambda b: b != log[position]))
            tampered = log[:position] + bytes([byte]) + log[position + 1 :]
    report = verify_chain(["log"], lambda _: tampered)
    at_the_end = position >= len(log) - 1
    if report.problem is None:
        # only an edit of the final newline (or a byte appended after it) can pass: the last
        # line is then reported as incomplete (a crash), or as complete without its newline
        no_newline = any("has no newline" in note for note in report.notes)
        assert at_the_end and (report.torn_tail is not None or no_newline), (op, position)
        return
    assert report.problem.line == line_of(log, min(position, len(log) - 1)) or (
        at_the_end and report.problem.line == line_of(log, len(log) - 1) + 1
    ), (op, position, report.problem)


def test_the_reference_log_is_intact() -> None:
    """The untouched reference log verifies, so every failure above is due to the edit."""
    report = verify_chain(["log"], lambda _: reference_log())
    assert report.ok and report.records == 10
