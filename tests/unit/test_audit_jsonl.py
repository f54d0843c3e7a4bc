"""The JSONL audit adapter: file mode, lock, fsync, rotation, reopening, torn tails, HMAC keys."""

from __future__ import annotations

import errno
import itertools
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.adapters import jsonl_audit
from mailguard_core.adapters.jsonl_audit import JsonlAuditSink, log_files, verify_log
from mailguard_core.model.errors import AuditError, AuditLocked
from mailguard_core.ports.secrets import Secret

KEY = Secret("k" * 32)


def records(path: Path) -> list[dict[str, Any]]:
    out = []
    for file in log_files(path):
        out.extend(json.loads(line) for line in file.read_text().splitlines())
    return out


def write_calls(sink: JsonlAuditSink, n: int) -> None:
    for i in range(n):
        start = sink.write({"kind": "call_start", "tool": "search", "args": {"i": i}})
        sink.write({"kind": "call_end", "start_seq": start, "outcome": "ok"})


def test_the_log_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    """A new log and its lock file are readable by the owner only."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "audit.jsonl.lock").stat().st_mode) == 0o600


def test_an_existing_log_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    """Opening an existing world-readable log sets it to 0600."""
    path = tmp_path / "audit.jsonl"
    JsonlAuditSink(path).close()
    path.chmod(0o644)
    JsonlAuditSink(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_symlinked_log_path_is_refused(tmp_path: Path) -> None:
    """The log is never opened through a symlink (someone could point it anywhere)."""
    target = tmp_path / "elsewhere"
    target.write_text("")
    (tmp_path / "audit.jsonl").symlink_to(target)
    with pytest.raises(AuditError):
        JsonlAuditSink(tmp_path / "audit.jsonl")
    assert target.read_text() == ""


def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    """The lock file is not followed either (filelock opens it with O_NOFOLLOW): a link
    planted at PATH.lock neither gets written through nor stands in for the lock."""
    target = tmp_path / "elsewhere"
    target.write_bytes(b"precious")
    (tmp_path / "audit.jsonl.lock").symlink_to(target)
    with pytest.raises(AuditError) as info:
        JsonlAuditSink(tmp_path / "audit.jsonl")
    assert not isinstance(info.value, AuditLocked)
    assert target.read_bytes() == b"precious"
    assert not (tmp_path / "audit.jsonl").exists()


def test_the_lock_file_names_its_holder_after_byte_zero(tmp_path: Path) -> None:
    """The holder's pid starts at byte 1: Windows locks byte 0 (LockFileEx), which the refused
    process could not read; the refusal message reads it from there on every platform."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path):
        assert (tmp_path / "audit.jsonl.lock").read_bytes() == f"\n{os.getpid()}\n".encode()


def test_a_session_starts_with_log_open_and_ends_with_log_close(tmp_path: Path) -> None:
    """Lifecycle records bracket the records of one process, and seq counts from 1."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path) as sink:
        write_calls(sink, 2)
    kinds = [r["kind"] for r in records(path)]
    assert kinds == ["log_open", "call_start", "call_end", "call_start", "call_end", "log_close"]
    assert [r["seq"] for r in records(path)] == [1, 2, 3, 4, 5, 6]
    assert verify_log(path).ok


def test_reopening_continues_the_same_chain(tmp_path: Path) -> None:
    """A second session links its first record to the last record of the first."""
    path = tmp_path / "audit.jsonl"
    for _ in range(3):
        with JsonlAuditSink(path) as sink:
            write_calls(sink, 2)
    report = verify_log(path)
    assert report.ok and report.records == 18 and report.last_seq == 18


def test_lifecycle_records_are_fsynced_and_tool_records_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """log_open/log_close are always fsynced; tool records only with fsync_tool_records."""
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(jsonl_audit.os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    with JsonlAuditSink(tmp_path / "a.jsonl") as sink:
        write_calls(sink, 5)
    assert len(calls) == 2
    calls.clear()
    with JsonlAuditSink(tmp_path / "b.jsonl", fsync_tool_records=True) as sink:
        write_calls(sink, 5)
    assert len(calls) == 12
    calls.clear()
    with JsonlAuditSink(tmp_path / "c.jsonl") as sink:
        sink.write({"kind": "call_start"}, durable=True)
    assert len(calls) == 3


def test_the_log_rotates_by_size_and_the_chain_spans_the_files(tmp_path: Path) -> None:
    """Past rotate_bytes the file becomes PATH.000001 and PATH continues the chain."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path, rotate_bytes=4096) as sink:
        write_calls(sink, 60)
    files = log_files(path)
    assert len(files) >= 3
    assert [f.name for f in files[:2]] == ["audit.jsonl.000001", "audit.jsonl.000002"]
    for older, newer in itertools.pairwise(files):
        last = json.loads(older.read_text().splitlines()[-1])
        first = json.loads(newer.read_text().splitlines()[0])
        assert last["kind"] == "rotate_out" and first["kind"] == "rotate_in"
        assert first["prev"] == last["hash"] and first["seq"] == last["seq"] + 1
    report = verify_log(path)
    assert report.ok and report.records == 60 * 2 + 2 + 2 * (len(files) - 1)


def test_a_crash_between_rotation_steps_is_recovered_on_reopen(tmp_path: Path) -> None:
    """With PATH missing but rotated files present, a new session continues their chain."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path, rotate_bytes=4096) as sink:
        write_calls(sink, 30)
    files = log_files(path)
    path.rename(path.with_name(f"audit.jsonl.{len(files):06d}"))
    with JsonlAuditSink(path) as sink:
        write_calls(sink, 1)
    assert verify_log(path).ok


def test_a_torn_last_line_is_cut_off_on_reopen_and_recorded(tmp_path: Path) -> None:
    """After a crash mid-write, reopening removes the fragment and says so in log_open."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path) as sink:
        write_calls(sink, 2)
    with path.open("ab") as f:
        f.write(b'{"kind":"call_start","tool":"sea')
    with JsonlAuditSink(path) as sink:
        write_calls(sink, 1)
    opening = [r for r in records(path) if r["kind"] == "log_open"][-1]
    assert opening["torn_tail_removed"]["bytes"] == 32
    assert verify_log(path).ok


def test_a_second_sink_on_the_same_path_in_this_process_is_locked_out(tmp_path: Path) -> None:
    """The lock holds against another open of the same path, with a clear error."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path) as first:
        with pytest.raises(AuditLocked) as info:
            JsonlAuditSink(path)
        assert f"pid {os.getpid()}" in str(info.value)
        assert info.value.public_message == "the audit log is locked by another mailguard process"
        write_calls(first, 1)
    JsonlAuditSink(path).close()
    assert verify_log(path).ok


def test_a_second_process_fails_clearly_and_the_first_keeps_working(tmp_path: Path) -> None:
    """A real second process gets AuditLocked; the first process's log stays intact."""
    path = tmp_path / "audit.jsonl"
    code = textwrap.dedent(
        """
        import sys
        from mailguard_core.adapters.jsonl_audit import JsonlAuditSink
        from mailguard_core.model.errors import AuditLocked
        try:
            JsonlAuditSink(sys.argv[1])
        except AuditLocked as exc:
            print(exc.code, exc)
            raise SystemExit(3)
        raise SystemExit(0)
        """
    )
    with JsonlAuditSink(path) as first:
        write_calls(first, 1)
        second = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
        )
        write_calls(first, 1)
    assert second.returncode == 3, second.stderr
    assert second.stdout.startswith("audit_locked ")
    assert f"pid {os.getpid()}" in second.stdout
    report = verify_log(path)
    assert report.ok and report.records == 6


def test_an_hmac_keyed_log_verifies_only_with_its_key(tmp_path: Path) -> None:
    """Without the key verify asks for it; with a wrong key it fails; with the key it passes."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path, hmac_key=KEY) as sink:
        write_calls(sink, 2)
    assert verify_log(path, key=KEY.reveal().encode()).ok
    assert verify_log(path).needs_key
    wrong = verify_log(path, key=b"w" * 32)
    assert wrong.problem is not None and wrong.problem.line == 1


def test_reopening_with_another_key_is_refused(tmp_path: Path) -> None:
    """A log written with one key (or none) cannot be extended with another."""
    path = tmp_path / "audit.jsonl"
    JsonlAuditSink(path, hmac_key=KEY).close()
    with pytest.raises(AuditError, match="does not verify with this audit key"):
        JsonlAuditSink(path)
    with pytest.raises(AuditError):
        JsonlAuditSink(path, hmac_key=Secret("x" * 32))
    JsonlAuditSink(path, hmac_key=KEY).close()


def test_a_short_hmac_key_is_refused(tmp_path: Path) -> None:
    """HMAC keys under 16 bytes are rejected and nothing is created."""
    with pytest.raises(AuditError, match="too short"):
        JsonlAuditSink(tmp_path / "a.jsonl", hmac_key=Secret("short"))
    assert not (tmp_path / "a.jsonl").exists()


def test_pseudonyms_are_stable_per_sink_and_keyed_ones_hide_the_salt(tmp_path: Path) -> None:
    """The same address gives the same token in one sink; a keyed sink's token differs."""
    with (
        JsonlAuditSink(tmp_path / "a.jsonl") as a,
        JsonlAuditSink(tmp_path / "b.jsonl", hmac_key=KEY) as b,
    ):
        assert a.pseudonymize("x@y.example") == a.pseudonymize("x@y.example")
        assert a.pseudonymize("x@y.example") != a.pseudonymize("z@y.example")
        assert a.pseudonymize("x@y.example") != b.pseudonymize("x@y.example")
        assert "x@y" not in a.pseudonymize("x@y.example")


def test_a_failed_write_breaks_the_sink_so_later_calls_fail_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk error becomes AuditError, and the sink refuses every later write."""
    sink = JsonlAuditSink(tmp_path / "a.jsonl")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(jsonl_audit.os, "write", full)
    with pytest.raises(AuditError, match="No space left"):
        sink.write({"kind": "call_start"})
    monkeypatch.undo()
    with pytest.raises(AuditError):
        sink.write({"kind": "call_start"})
    sink.close()


def test_records_are_ascii_lines_whatever_the_arguments_hold(tmp_path: Path) -> None:
    """Non-ASCII, bidi and control characters are escaped: one clean ASCII line per record."""
    path = tmp_path / "audit.jsonl"
    with JsonlAuditSink(path) as sink:
        sink.write({"kind": "call_start", "args": {"name": "Ré\u202eport\n\x1b[2J\u2028"}})
    data = path.read_bytes()
    assert data.isascii()
    assert data.count(b"\n") == 3
    assert json.loads(data.splitlines()[1])["args"]["name"] == "Ré\u202eport\n\x1b[2J\u2028"
