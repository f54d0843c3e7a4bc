"""``mailguard sanitize``: files, mbox, Maildir and stdin in, JSON Lines out, errors per message."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from mailguard_core.app.cli import main

MSG = b"From: a@example.org\r\nSubject: one\r\n\r\nfirst body\r\n"
MSG2 = b"From: b@example.org\r\nSubject: two\r\n\r\nsecond body\r\n"


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_sanitize_prints_one_envelope_per_eml_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each .eml path gives one JSON line with the envelope shape."""
    (tmp_path / "a.eml").write_bytes(MSG)
    (tmp_path / "b.eml").write_bytes(MSG2)
    assert main(["sanitize", str(tmp_path / "a.eml"), str(tmp_path / "b.eml")]) == 0
    lines = _lines(capsys.readouterr().out)
    assert [line["untrusted"]["subject"] for line in lines] == ["one", "two"]  # type: ignore[index]
    assert lines[0]["meta"]["schema"] == "mailguard.envelope/1"  # type: ignore[index]


def test_sanitize_reads_every_message_of_an_mbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An mbox file is split into its messages."""
    box = tmp_path / "box.mbox"
    box.write_bytes(
        b"From a@x Fri Nov 20 09:00:00 2026\n"
        + MSG.replace(b"\r\n", b"\n")
        + b"\nFrom b@x Fri Nov 20 09:00:00 2026\n"
        + MSG2.replace(b"\r\n", b"\n")
    )
    assert main(["sanitize", str(box)]) == 0
    assert [line["untrusted"]["subject"] for line in _lines(capsys.readouterr().out)] == [
        "one",
        "two",
    ]  # type: ignore[index]


def test_sanitize_reads_a_maildir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Maildir folder's new/ and cur/ messages are all printed."""
    for sub in ("new", "cur", "tmp"):
        (tmp_path / sub).mkdir()
    (tmp_path / "new" / "1.host").write_bytes(MSG)
    (tmp_path / "cur" / "2.host:2,S").write_bytes(MSG2)
    assert main(["sanitize", "--html", str(tmp_path)]) == 0
    subjects = sorted(line["untrusted"]["subject"] for line in _lines(capsys.readouterr().out))  # type: ignore[index]
    assert subjects == ["one", "two"]


def test_sanitize_reads_stdin_for_dash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-`` reads one message from standard input."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MSG)))
    assert main(["sanitize", "-"]) == 0
    assert _lines(capsys.readouterr().out)[0]["untrusted"]["body_text"] == "first body"  # type: ignore[index]


def test_unreadable_path_exits_nonzero_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing path is reported on stderr, the other paths still run, and the exit is 2."""
    (tmp_path / "a.eml").write_bytes(MSG)
    assert main(["sanitize", str(tmp_path / "missing.eml"), str(tmp_path / "a.eml")]) == 2
    captured = capsys.readouterr()
    assert "cannot read" in captured.err and "missing.eml" in captured.err
    assert len(_lines(captured.out)) == 1


def test_a_bad_message_gets_an_error_line_and_the_rest_are_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A message over the size limit gives an error line; the mailbox continues; exit is 1."""
    big = MSG + b"x" * 500
    box = tmp_path / "box.mbox"
    box.write_bytes(
        b"From a@x Fri Nov 20 09:00:00 2026\n"
        + big
        + b"\nFrom b@x Fri Nov 20 09:00:00 2026\n"
        + MSG2
    )
    assert main(["sanitize", "--max-message-bytes", "200", str(box)]) == 1
    lines = _lines(capsys.readouterr().out)
    assert lines[0]["error"]["code"] == "message_too_large"  # type: ignore[index]
    assert lines[0]["source"].endswith("#1")  # type: ignore[union-attr]
    assert lines[1]["untrusted"]["subject"] == "two"  # type: ignore[index]


def test_sanitize_attachments_prints_one_line_per_attachment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--attachments: the envelope, then each attachment's sanitized text or typed error."""
    from email.message import EmailMessage

    from tests.support.documents import DOCX_HIDING, HIDDEN, VISIBLE

    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["Subject"] = "docs"
    msg.set_content("see attached")
    msg.add_attachment(
        DOCX_HIDING["vanish"][0](), maintype="application", subtype="octet-stream",
        filename="contract.docx",
    )  # fmt: skip
    msg.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, maintype="image", subtype="png")
    (tmp_path / "a.eml").write_bytes(bytes(msg))
    assert main(["sanitize", "--attachments", str(tmp_path / "a.eml")]) == 0
    envelope, docx_line, png_line = _lines(capsys.readouterr().out)
    assert envelope["meta"]["schema"] == "mailguard.envelope/1"  # type: ignore[index]
    assert docx_line["part_id"] == "2" and png_line["part_id"] == "3"
    text = docx_line["untrusted"]["text"]  # type: ignore[index]
    assert VISIBLE in text and HIDDEN not in text
    assert docx_line["untrusted"]["filename"] == "contract.docx"  # type: ignore[index]
    codes = {w["code"] for w in docx_line["security_warnings"]}  # type: ignore[attr-defined]
    assert "document_hidden_content_removed" in codes
    assert png_line["error"]["code"] == "unsupported_attachment"  # type: ignore[index]


def test_sanitize_without_attachments_flag_prints_envelopes_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = "docs"
    msg.set_content("see attached")
    msg.add_attachment(b"hello", maintype="text", subtype="plain", filename="a.txt")
    (tmp_path / "a.eml").write_bytes(bytes(msg))
    assert main(["sanitize", str(tmp_path / "a.eml")]) == 0
    assert len(_lines(capsys.readouterr().out)) == 1


def test_sanitize_walks_maildir_plus_plus_subfolders_and_names_each_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15: a Maildir's subfolders were skipped silently (27 of 28 messages) and lines
    did not say where they came from."""
    for folder in (tmp_path, tmp_path / ".Work", tmp_path / ".Work.Projects"):
        for sub in ("new", "cur", "tmp"):
            (folder / sub).mkdir(parents=True)
    (tmp_path / "new" / "1.host").write_bytes(MSG)
    (tmp_path / ".Work" / "cur" / "2.host:2,S").write_bytes(MSG2)
    (tmp_path / ".Work.Projects" / "new" / "3.host").write_bytes(MSG)
    assert main(["sanitize", str(tmp_path)]) == 0
    lines = _lines(capsys.readouterr().out)
    sources = [str(line["source"]) for line in lines]
    assert sources == [
        str(tmp_path / "new" / "1.host"),
        str(tmp_path / ".Work" / "cur" / "2.host:2,S"),
        str(tmp_path / ".Work.Projects" / "new" / "3.host"),
    ]
    assert [line["untrusted"]["subject"] for line in lines] == ["one", "two", "one"]  # type: ignore[index]
