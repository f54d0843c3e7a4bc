"""The AuditSink contract, run against the JSONL adapter and the in-memory fake."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.adapters.jsonl_audit import JsonlAuditSink, log_files
from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.gate.audit import verify_chain
from mailguard_core.model.errors import AuditError
from mailguard_core.ports.audit import AuditSink

Opened = tuple[AuditSink, Callable[[], bytes]]


class AuditSinkContract:
    """Behaviour every AuditSink must show; subclasses provide ``opened``."""

    @pytest.fixture
    def opened(self, tmp_path: Path) -> Iterator[Opened]:
        raise NotImplementedError

    def records(self, read: Callable[[], bytes]) -> list[dict[str, Any]]:
        return [json.loads(line) for line in read().splitlines()]

    def test_write_returns_consecutive_sequence_numbers(self, opened: Opened) -> None:
        """Each stored record takes the next number."""
        sink, _ = opened
        first = sink.write({"kind": "call_start", "tool": "search"})
        assert [sink.write({"kind": "call_start"}) for _ in range(5)] == list(
            range(first + 1, first + 6)
        )

    def test_written_fields_come_back_with_the_chain_fields_added(self, opened: Opened) -> None:
        """A record is stored as given, plus v, seq, prev and hash."""
        sink, read = opened
        seq = sink.write({"kind": "call_start", "tool": "search", "args": {"limit": 3}})
        stored = next(r for r in self.records(read) if r["seq"] == seq)
        assert stored["tool"] == "search" and stored["args"] == {"limit": 3}
        assert {"v", "seq", "prev", "hash"} <= set(stored)

    def test_the_stored_records_form_a_verifiable_chain(self, opened: Opened) -> None:
        """What the sink stored passes verify_chain."""
        sink, read = opened
        for _ in range(10):
            start = sink.write({"kind": "call_start"}, durable=True)
            sink.write({"kind": "call_end", "start_seq": start})
        sink.close()
        report = verify_chain(["log"], lambda _: read())
        assert report.ok and report.problem is None

    @pytest.mark.parametrize("key", ["seq", "prev", "hash", "v"])
    def test_a_record_setting_a_chain_field_is_refused_and_not_written(
        self, opened: Opened, key: str
    ) -> None:
        """Reserved keys raise AuditError and the sequence does not advance."""
        sink, _ = opened
        before = sink.write({"kind": "call_start"})
        with pytest.raises(AuditError):
            sink.write({"kind": "call_start", key: 1})
        assert sink.write({"kind": "call_start"}) == before + 1

    @pytest.mark.parametrize("value", [object(), float("nan"), {1, 2}, b"bytes"])
    def test_a_record_that_is_not_json_is_refused_and_not_written(
        self, opened: Opened, value: object
    ) -> None:
        """Unserialisable values raise AuditError and nothing is stored."""
        sink, _ = opened
        before = sink.write({"kind": "call_start"})
        with pytest.raises(AuditError):
            sink.write({"kind": "call_start", "x": value})
        assert sink.write({"kind": "call_start"}) == before + 1

    def test_writing_after_close_raises_and_close_is_idempotent(self, opened: Opened) -> None:
        """A closed sink refuses writes; closing twice is fine."""
        sink, _ = opened
        sink.close()
        sink.close()
        with pytest.raises(AuditError):
            sink.write({"kind": "call_start"})

    def test_pseudonyms_are_stable_distinct_and_opaque(self, opened: Opened) -> None:
        """Same value, same token; other value, other token; the value does not show."""
        sink, _ = opened
        a = sink.pseudonymize("alice@example.org")
        assert a == sink.pseudonymize("alice@example.org")
        assert a != sink.pseudonymize("bob@example.org")
        assert "alice" not in a and "example" not in a

    def test_concurrent_writers_get_unique_numbers_and_an_intact_chain(
        self, opened: Opened
    ) -> None:
        """Four threads writing at once neither share a number nor break the chain."""
        sink, read = opened
        seqs: list[int] = []
        lock = threading.Lock()

        def work() -> None:
            for _ in range(50):
                seq = sink.write({"kind": "call_start"})
                with lock:
                    seqs.append(seq)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(set(seqs)) == 200
        sink.close()
        assert verify_chain(["log"], lambda _: read()).ok


class TestJsonlAuditSink(AuditSinkContract):
    @pytest.fixture
    def opened(self, tmp_path: Path) -> Iterator[Opened]:
        path = tmp_path / "audit.jsonl"
        sink = JsonlAuditSink(path)

        def read() -> bytes:
            return b"".join(f.read_bytes() for f in log_files(path))

        yield sink, read
        sink.close()


class TestJsonlAuditSinkRotatingAndKeyed(AuditSinkContract):
    @pytest.fixture
    def opened(self, tmp_path: Path) -> Iterator[Opened]:
        from mailguard_core.ports.secrets import Secret

        path = tmp_path / "audit.jsonl"
        sink = JsonlAuditSink(path, rotate_bytes=4096, hmac_key=Secret("k" * 20))
        self.key = b"k" * 20

        def read() -> bytes:
            return b"".join(f.read_bytes() for f in log_files(path))

        yield sink, read
        sink.close()

    def test_the_stored_records_form_a_verifiable_chain(self, opened: Opened) -> None:
        """What the sink stored (rotated, keyed) passes verify_chain with the key."""
        sink, read = opened
        for _ in range(60):
            start = sink.write({"kind": "call_start"})
            sink.write({"kind": "call_end", "start_seq": start})
        sink.close()
        assert verify_chain(["log"], lambda _: read(), key=self.key).ok

    def test_concurrent_writers_get_unique_numbers_and_an_intact_chain(
        self, opened: Opened
    ) -> None:
        """Four threads writing at once, across rotations, keep one keyed chain."""
        sink, read = opened
        threads = [
            threading.Thread(target=lambda: [sink.write({"kind": "call_start"}) for _ in range(50)])
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        sink.close()
        report = verify_chain(["log"], lambda _: read(), key=self.key)
        assert report.ok and report.records >= 202


class TestInMemoryAuditSink(AuditSinkContract):
    @pytest.fixture
    def opened(self, tmp_path: Path) -> Iterator[Opened]:
        sink = InMemoryAuditSink()
        yield sink, lambda: ("\n".join(sink.lines) + "\n").encode()
