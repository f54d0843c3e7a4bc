"""``mailguard`` command line: ``mailguard sanitize [--html] [--attachments] PATH...``.

Reads ``.eml`` files, mbox files, Maildir folders with their Maildir++ subfolders
(``.Folder``), or any directory of message files, and ``-`` (stdin), and prints one envelope
per message as JSON Lines, each with ``"source"``: the file it came from (``PATH#N`` for the
Nth message of an mbox, ``-`` for stdin). A message that cannot be
sanitized gets an error line (``{"source": ..., "error": {"code": ..., "message": ...}}``)
and the rest are processed. Exit status: 0 all fine, 1 some message failed, 2 some input
could not be read (with a message on stderr). With ``--attachments`` each envelope line is
followed by one line per attachment: ``{"source", "part_id", ...}`` with the attachment's
sanitized text (``extract_attachment_text``: ``meta``, ``untrusted``, ``security_warnings``)
or its ``error`` (an attachment without text extraction is not a failure of the message).
"""

from __future__ import annotations

import argparse
import json
import mailbox
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mailguard_core.model.errors import MailguardError
from mailguard_core.sanitize import MimeLimits, SanitizeOptions, sanitize_message

_MAX_FILES = 1_000_000


def package_version() -> str:
    """The installed distribution's version ("unknown" from a bare source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mailguard")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailguard", description="mailguard library tools")
    parser.add_argument("--version", action="version", version=f"mailguard {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    san = sub.add_parser("sanitize", help="print sanitized envelopes as JSON Lines")
    san.add_argument("paths", nargs="+", metavar="PATH", help=".eml, mbox, Maildir or - (stdin)")
    san.add_argument("--html", action="store_true", help="include the sanitized HTML")
    san.add_argument("--max-body-chars", type=int, default=20_000, metavar="N")
    san.add_argument(
        "--max-message-bytes", type=int, default=MimeLimits().max_message_bytes, metavar="N",
        help="messages larger than this get an error line",
    )  # fmt: skip
    san.add_argument(
        "--attachments", action="store_true",
        help="also print the sanitized text of each attachment (one line per attachment)",
    )  # fmt: skip
    san.add_argument(
        "--known-domain", action="append", default=[], metavar="DOMAIN",
        help="a domain to protect against look-alikes (repeatable)",
    )  # fmt: skip
    return parser


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _messages(path_text: str, stdin: BinaryIO) -> Iterator[tuple[str, bytes | Exception]]:
    """Yield (source label, raw bytes or the error reading it) for every message in a path."""
    if path_text == "-":
        yield "-", stdin.read()
        return
    path = Path(path_text)
    if path.is_dir():
        if _is_maildir(path):
            # Maildir++: the root, then each ".Folder" (".Work.Projects"...) beside new/cur
            subfolders = (d for d in path.iterdir() if d.name.startswith(".") and _is_maildir(d))
            folders = [path, *sorted(subfolders)]
            files = [
                p
                for folder in folders
                for p in sorted(
                    q for sub in ("new", "cur") for q in (folder / sub).glob("*") if q.is_file()
                )
            ]
        else:
            files = sorted(p for p in path.rglob("*") if p.is_file())
        for file in files[:_MAX_FILES]:
            yield from _file_messages(file)
        return
    if not path.exists():
        raise FileNotFoundError(path_text)
    yield from _file_messages(path)


def _file_messages(path: Path) -> Iterator[tuple[str, bytes | Exception]]:
    if _is_mbox(path):
        box = mailbox.mbox(path, create=False)
        try:
            for index, key in enumerate(box.iterkeys()):
                label = f"{path}#{index + 1}"
                try:
                    yield label, box.get_bytes(key)
                except (OSError, ValueError, KeyError) as exc:
                    yield label, exc
        finally:
            box.close()
        return
    yield str(path), path.read_bytes()


def _write(out: BinaryIO, record: object) -> None:
    out.write(json.dumps(record, ensure_ascii=False).encode("utf-8", "replace") + b"\n")


def _attachment_lines(out: BinaryIO, label: str, raw: bytes, options: SanitizeOptions) -> None:
    from mailguard_core.sanitize.attachment import (
        ExtractOptions,
        extract_attachment_text,
        message_attachments,
    )

    extract = ExtractOptions(max_chars=options.max_body_chars, known_domains=options.known_domains)
    for part_id, ctype, name, data in message_attachments(raw):
        record: dict[str, object] = {"source": label, "part_id": part_id}
        try:
            record.update(
                extract_attachment_text(
                    data, content_type=ctype, filename=name, options=extract
                ).to_dict()
            )
        except MailguardError as exc:
            record["error"] = {"code": exc.code, "message": exc.public_message}
        _write(out, record)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mailguard`` console script."""
    args = _parser().parse_args(argv)
    options = SanitizeOptions(
        include_html=args.html,
        max_body_chars=max(0, args.max_body_chars),
        known_domains=tuple(args.known_domain),
        limits=MimeLimits(max_message_bytes=max(0, args.max_message_bytes)),
    )
    out = sys.stdout.buffer
    status = 0
    for path_text in args.paths:
        try:
            for label, raw in _messages(path_text, sys.stdin.buffer):
                if isinstance(raw, Exception):
                    _write(
                        out,
                        {
                            "source": label,
                            "error": {
                                "code": "unreadable",
                                "message": "could not read this message",
                            },
                        },
                    )
                    status = max(status, 1)
                    continue
                try:
                    envelope = sanitize_message(raw, options).to_dict()
                except MailguardError as exc:
                    _write(
                        out,
                        {
                            "source": label,
                            "error": {"code": exc.code, "message": exc.public_message},
                        },
                    )
                    status = max(status, 1)
                    continue
                _write(out, {"source": label, **envelope})
                if args.attachments:
                    _attachment_lines(out, label, raw, options)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            if isinstance(exc, FileNotFoundError):
                reason = "No such file or directory"
            print(f"mailguard: cannot read {path_text}: {reason}", file=sys.stderr)
            status = 2
    out.flush()
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
