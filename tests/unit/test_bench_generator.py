"""The benchmark mail generator: deterministic, a realistic mix, and parseable mail."""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from pathlib import Path

from bench.generator import KINDS, generate_message, generate_messages, write_maildir_folder

_SAMPLE = 400


def test_same_seed_and_index_give_identical_bytes() -> None:
    """A message is a pure function of (seed, index), so every run sees the same mailbox."""
    first = [m.raw for m in generate_messages(50, seed=7)]
    second = [generate_message(i, seed=7).raw for i in range(50)]
    assert first == second


def test_different_seeds_give_different_mailboxes() -> None:
    """The seed changes the content, not only the order."""
    assert generate_message(3, seed=1).raw != generate_message(3, seed=2).raw


def test_a_few_hundred_messages_contain_every_kind() -> None:
    """Plain, newsletter, attachment and non-Latin mail all appear in a small folder."""
    counts = Counter(m.kind for m in generate_messages(_SAMPLE))
    assert set(counts) == set(KINDS)
    assert all(counts[kind] >= _SAMPLE // 20 for kind in KINDS)


def test_every_message_parses_without_defects_and_decodes() -> None:
    """The stdlib parser finds no defects and every leaf part decodes to text or bytes."""
    for msg in generate_messages(_SAMPLE, seed=3):
        parsed = email.message_from_bytes(msg.raw, policy=email.policy.default)
        defects = list(parsed.defects)
        for part in parsed.walk():
            defects.extend(part.defects)
            if not part.is_multipart():
                assert part.get_content() is not None
        assert defects == [], (msg.index, msg.kind, defects)
        assert parsed["Message-ID"] == msg.message_id
        assert str(parsed["Subject"]).strip()


def test_the_mix_has_attachments_html_and_non_latin_text() -> None:
    """Attachments have file names, newsletters have HTML, non-Latin mail decodes to its script."""
    seen_attachment = seen_html = seen_non_latin = False
    for msg in generate_messages(_SAMPLE):
        parsed = email.message_from_bytes(msg.raw, policy=email.policy.default)
        if msg.kind == "attachments":
            names = [p.get_filename() for p in parsed.iter_attachments()]
            seen_attachment = seen_attachment or any(names)
        elif msg.kind == "newsletter":
            html = parsed.get_body(preferencelist=("html",))
            seen_html = seen_html or (html is not None and "<table" in html.get_content())
        elif msg.kind == "non_latin":
            body = parsed.get_body(preferencelist=("plain",))
            assert body is not None
            seen_non_latin = seen_non_latin or any(ord(c) > 0x370 for c in body.get_content())
    assert seen_attachment and seen_html and seen_non_latin


def test_dates_increase_with_the_index() -> None:
    """Higher indexes are newer, so 'the newest page' is the highest indexes."""
    dates = [m.date for m in generate_messages(100)]
    assert dates == sorted(dates)


def test_write_maildir_folder_writes_one_file_per_message_dated_by_mtime(tmp_path: Path) -> None:
    """The Maildir writer creates the folder layout, one file per message, mtime = Date."""
    folder = tmp_path / "Maildir" / ".Bench"
    messages = list(generate_messages(25))
    assert write_maildir_folder(folder, messages) == 25
    files = sorted((folder / "cur").iterdir())
    assert len(files) == 25
    assert (folder / "maildirfolder").exists()
    for path in files:
        index = int(path.name.split(".M", 1)[1].split("P", 1)[0])
        msg = messages[index]
        assert path.read_bytes() == msg.raw
        assert int(path.stat().st_mtime) == int(msg.date.timestamp())
        assert path.name.endswith(":2," + msg.flags)
