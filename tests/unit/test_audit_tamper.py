"""Tampering with the audit log is detected by verify, which names the first bad record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.adapters.jsonl_audit import JsonlAuditSink, log_files, verify_log
from mailguard_core.config import AccountConfig, Config
from mailguard_core.gate import FakeClock
from mailguard_core.gate.audit import Chain, VerifyReport, canonical, record_hash, seal_line
from mailguard_core.model.errors import ToolDenied
from mailguard_core.model.tools import Posture
from mailguard_core.ports.secrets import Secret
from mailguard_core.services.dispatch import ToolGate as Gate

CALLS = 5
RECORDS = 2 + 2 * CALLS  # log_open, 5 x (start, end), log_close


def build_log(path: Path, *, key: Secret | None = None) -> list[str]:
    """A log of one session with five gated calls (one of them refused); returns its lines."""
    with JsonlAuditSink(path, hmac_key=key, clock=FakeClock()) as sink:
        account = AccountConfig(name="w", address="w@x.example", posture=Posture.FULL)
        gate = Gate.from_config(Config(accounts=(account,)), sink, clock=FakeClock())
        for i in range(CALLS):
            tool = "expunge" if i == 2 else "send_email" if i == 3 else "search"
            args = {"folder": "INBOX", "to": ["a@b.example"], "subject": "s", "limit": i}
            try:
                with gate.guard(tool, "w", args) as call:
                    call.set_result({"count": i})
            except ToolDenied:
                pass
    return path.read_text().splitlines()


def rewrite(path: Path, lines: list[str], *, newline: bool = True) -> VerifyReport:
    path.write_text("\n".join(lines) + ("\n" if newline else ""))
    return verify_log(path)


def resealed(record: dict[str, Any], key: bytes | None = None) -> str:
    """``record`` (without hash) serialised and hashed exactly as a writer would."""
    body = canonical(record)
    return seal_line(body, record_hash(body, key))


def edited(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("0" if value[-1:] != "0" else "1")
    if isinstance(value, list):
        return [*value, "x"]
    if isinstance(value, dict):
        return {**value, "x": 1}
    return "x"


def assert_bad(report: VerifyReport, line: int, seq: int | None, fragment: str) -> None:
    assert report.problem is not None, report
    assert (report.problem.line, report.problem.seq) == (line, seq), report.problem
    assert fragment in report.problem.reason


def test_an_untouched_log_verifies(tmp_path: Path) -> None:
    """The reference log itself is intact and ends with log_close."""
    path = tmp_path / "audit.jsonl"
    assert len(build_log(path)) == RECORDS
    report = verify_log(path)
    assert report.ok and report.records == RECORDS and report.notes == ()


@pytest.mark.parametrize("index", range(RECORDS))
def test_editing_any_field_of_any_record_is_detected_at_that_record(
    tmp_path: Path, index: int
) -> None:
    """Each field of record ``index``, edited and re-serialised canonically, fails there."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    record = json.loads(lines[index])
    for field in record:
        changed = dict(record)
        changed[field] = edited(record[field])
        digest = changed.pop("hash")
        tampered = [*lines]
        tampered[index] = seal_line(canonical(changed), digest)
        report = rewrite(path, tampered)
        assert not report.ok, field
        if report.problem is None:
            # claiming a key the log never had: verify refuses to pass it without the key
            assert field == "keyed" and report.needs_key
        else:
            assert report.problem.line == index + 1, (field, report.problem)


def test_reformatting_a_record_without_changing_values_is_detected(tmp_path: Path) -> None:
    """Even a whitespace-only edit is reported: records must stay in canonical form."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    lines[4] = lines[4].replace(",", ", ", 1)
    assert_bad(rewrite(path, lines), 5, 5, "canonical")


def test_deleting_a_record_is_detected_at_the_record_after_the_gap(tmp_path: Path) -> None:
    """With record 6 gone, line 6 holds seq 7 where 6 was expected."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    del lines[5]
    assert_bad(rewrite(path, lines), 6, 7, "expected seq 6")


def test_deleting_the_first_record_is_detected(tmp_path: Path) -> None:
    """A log that no longer starts at seq 1 is reported at its first line."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    assert_bad(rewrite(path, lines[1:]), 1, 2, "starts at seq 2")


def test_reordering_two_records_is_detected_at_the_first_moved_one(tmp_path: Path) -> None:
    """Swapping records 4 and 5 is reported at line 4."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    lines[3], lines[4] = lines[4], lines[3]
    assert_bad(rewrite(path, lines), 4, 5, "expected seq 4")


def test_duplicating_a_record_is_detected_at_the_copy(tmp_path: Path) -> None:
    """A copy of record 3 placed after it is reported at line 4."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    lines.insert(3, lines[2])
    assert_bad(rewrite(path, lines), 4, 3, "duplicated")


def test_inserting_a_raw_record_is_detected_at_the_insert(tmp_path: Path) -> None:
    """A made-up line with a made-up hash is reported where it was inserted."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    forged = json.loads(lines[5])
    forged["tool"] = "send_email"
    lines.insert(6, json.dumps(forged))
    assert_bad(rewrite(path, lines), 7, 6, "canonical")


def test_inserting_a_correctly_hashed_record_breaks_the_link_of_the_next(tmp_path: Path) -> None:
    """Without the key an attacker can hash a record, but the next record no longer follows."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    prev = json.loads(lines[5])
    forged = {"kind": "call_start", "tool": "search", "v": 1, "seq": 7, "prev": prev["hash"]}
    lines.insert(6, resealed(forged))
    assert_bad(rewrite(path, lines), 8, 7, "duplicated, reordered or inserted")


def test_replacing_a_record_with_a_correctly_hashed_one_breaks_the_next_link(
    tmp_path: Path,
) -> None:
    """A re-hashed replacement of record 6 is caught at record 7, whose prev no longer matches."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    record = json.loads(lines[5])
    record.pop("hash")
    record["outcome"] = "error" if record.get("outcome") == "ok" else "ok"
    record["extra"] = 1
    lines[5] = resealed(record)
    assert_bad(rewrite(path, lines), 7, 7, "does not link")


def test_a_forged_record_in_a_keyed_log_fails_at_the_forgery(tmp_path: Path) -> None:
    """With an HMAC key, a record hashed without the key is caught at that very record."""
    key = Secret("secret-key-0123456789")
    path = tmp_path / "audit.jsonl"
    lines = build_log(path, key=key)
    record = json.loads(lines[5])
    record.pop("hash")
    record["outcome"] = "forged"
    lines[5] = resealed(record)
    path.write_text("\n".join(lines) + "\n")
    report = verify_log(path, key=key.reveal().encode())
    assert_bad(report, 6, 6, "hash does not match")


def test_cutting_bytes_out_of_the_middle_is_detected_where_the_cut_starts(tmp_path: Path) -> None:
    """Truncating the middle (from inside record 4 to inside record 8) is reported at line 4."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    text = "\n".join(lines) + "\n"
    start = text.index(lines[3]) + 20
    end = text.index(lines[7]) + 30
    path.write_text(text[:start] + text[end:])
    report = verify_log(path)
    assert report.problem is not None and report.problem.line == 4


def test_a_torn_last_line_is_reported_as_a_crash_not_as_tampering(tmp_path: Path) -> None:
    """An incomplete final line without newline leaves the log intact, with a torn-tail note."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    report = rewrite(path, [*lines, lines[-1][:40]], newline=False)
    assert report.ok
    assert report.torn_tail is not None and report.torn_tail.line == RECORDS + 1
    assert report.torn_tail.size == 40


def test_an_incomplete_line_in_the_middle_is_tampering(tmp_path: Path) -> None:
    """A cut line followed by more records is not a crash: verify names it."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    lines[6] = lines[6][:50]
    assert_bad(rewrite(path, lines), 7, None, "not a valid JSON record")


def test_an_end_record_without_its_start_is_detected(tmp_path: Path) -> None:
    """A chain whose call_end names no open call_start is reported at the end record."""
    chain = Chain()
    lines = [
        chain.seal({"kind": "log_open"})[1],
        chain.seal({"kind": "call_start", "tool": "search"})[1],
        chain.seal({"kind": "call_end", "start_seq": 1})[1],
    ]
    path = tmp_path / "audit.jsonl"
    assert_bad(rewrite(path, lines), 3, 3, "without a matching start")


def test_a_missing_rotated_file_is_detected(tmp_path: Path) -> None:
    """Deleting a rotated file from the middle of the set is reported at the next file."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path, rotate_bytes=4096) as sink:
        for i in range(60):
            start = sink.write({"kind": "call_start", "tool": "search", "args": {"i": i}})
            sink.write({"kind": "call_end", "start_seq": start, "outcome": "ok"})
    files = log_files(path)
    assert len(files) >= 3
    assert verify_log(path).ok
    files[1].unlink()
    report = verify_log(path)
    assert report.problem is not None
    assert report.problem.file == str(files[2]) and report.problem.line == 1
    files[0].unlink()
    report = verify_log(path)
    assert report.problem is not None and "earlier records or files are missing" in (
        report.problem.reason
    )


def test_a_log_cut_at_the_end_is_noted_as_not_closed(tmp_path: Path) -> None:
    """Records cut from the very end cannot be proven missing; verify notes the missing close."""
    path = tmp_path / "audit.jsonl"
    lines = build_log(path)
    report = rewrite(path, lines[:-3])
    assert report.ok
    assert any("log_close" in note for note in report.notes)
