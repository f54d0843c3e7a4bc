"""Checks and MIME helpers shared by every MailStore adapter (IMAP, in-memory, Maildir)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from email.message import Message

from mailguard_core.model.errors import InputError, InvalidFolderNameError
from mailguard_core.model.values import AttachmentInfo, MessageRef, require_account

__all__ = [
    "SYSTEM_FLAGS",
    "attachment_parts",
    "check_refs",
    "find_part",
    "is_attachment",
    "part_filename",
    "validate_flags",
    "validate_folder_name",
    "validate_part_id",
]

#: flags a caller may set or clear (``\\Recent`` is session state, never settable)
SYSTEM_FLAGS = frozenset({"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"})
_KEYWORD = re.compile(r"^[A-Za-z0-9$_.\-+&'!#~^`|]{1,100}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PART_ID = re.compile(r"^[1-9][0-9]{0,3}(\.[1-9][0-9]{0,3}){0,9}$")
MAX_FOLDER_NAME = 255


def validate_folder_name(name: str) -> str:
    """Return ``name`` if usable as a folder name, else raise ``InvalidFolderNameError``.

    Refused: non-strings, empty names, names over 255 characters, CR, LF, NUL and other C0/C1
    control characters. Everything else (quotes, ``*``, ``%``, brackets, non-ASCII) is a
    legitimate name character that adapters quote or encode.
    """
    if not isinstance(name, str) or not name:
        raise InvalidFolderNameError("empty folder name", public="the folder name is empty")
    if len(name) > MAX_FOLDER_NAME:
        raise InvalidFolderNameError(
            "folder name too long", public=f"folder names are limited to {MAX_FOLDER_NAME} chars"
        )
    if _CONTROL.search(name):
        raise InvalidFolderNameError(
            f"control character in folder name {name!r}",
            public="folder names must not contain line breaks, NUL or control characters",
        )
    return name


def validate_flags(flags: Iterable[str]) -> list[str]:
    """Each flag must be a settable system flag or a keyword atom, else ``InputError``."""
    out = []
    for flag in flags:
        if not isinstance(flag, str) or not (flag in SYSTEM_FLAGS or _KEYWORD.fullmatch(flag)):
            raise InputError(
                f"invalid flag {flag!r}",
                public="flags are \\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft or a "
                "keyword atom (letters, digits, $_.-+)",
            )
        out.append(flag)
    return out


def check_refs(account: str, refs: Sequence[MessageRef]) -> None:
    """Every ref is a :class:`MessageRef` of this store's account
    (:func:`~mailguard_core.model.values.require_account`, the one rule) in a valid folder."""
    for ref in refs:
        if not isinstance(ref, MessageRef):
            raise InputError(f"not a MessageRef: {ref!r}", public="invalid message ref")
        require_account(account, (ref,))
        validate_folder_name(ref.folder)


def validate_part_id(part_id: str) -> str:
    if not isinstance(part_id, str) or not _PART_ID.fullmatch(part_id):
        raise InputError(
            f"malformed part id {part_id!r}",
            public="part_id looks like 2 or 1.2 (as list_attachments reports it)",
        )
    return part_id


def is_attachment(content_type: str, disposition: str | None, filename: str | None) -> bool:
    """The one rule every adapter uses to call a leaf part an attachment."""
    maintype = content_type.split("/", 1)[0].lower()
    if maintype == "multipart":
        return False
    if disposition == "attachment" or filename:
        return True
    return maintype != "text"


def _walk(msg: Message, prefix: str) -> Iterator[tuple[str, Message]]:
    """Leaf parts with IMAP part numbers (message/rfc822 parts are leaves)."""
    if msg.is_multipart() and msg.get_content_maintype() == "multipart":
        payload = msg.get_payload()
        assert isinstance(payload, list)
        for i, child in enumerate(payload, start=1):
            if isinstance(child, Message):
                yield from _walk(child, f"{prefix}.{i}" if prefix else str(i))
    else:
        yield (prefix or "1"), msg


def part_filename(part: Message) -> str | None:
    """The part's file name (Content-Disposition or Content-Type name), None if unreadable."""
    try:
        # get_filename() in linear time; imported here: the sanitizer package is heavy, and
        # the server lists its tools before loading it (tests/mcp/test_startup.py)
        from mailguard_core.sanitize.mime import filename_param

        name = filename_param(part)
    except (ValueError, LookupError, UnicodeError):  # pragma: no cover - defensive
        return None
    return str(name) if name else None


def _disposition(part: Message) -> str | None:
    value = part.get("Content-Disposition")
    if not value:
        return None
    return str(value).split(";", 1)[0].strip().lower() or None


def _encoded_size(part: Message) -> int:
    payload = part.get_payload(decode=False)
    if isinstance(payload, str):
        return len(payload.encode("utf-8", "surrogateescape"))
    if isinstance(payload, list):
        return sum(len(p.as_bytes()) for p in payload if isinstance(p, Message))
    return 0


def attachment_parts(msg: Message) -> list[AttachmentInfo]:
    """Attachments of a parsed message, numbered as IMAP BODYSTRUCTURE numbers them."""
    out = []
    for part_id, part in _walk(msg, ""):
        ctype = part.get_content_type()
        disposition = _disposition(part)
        name = part_filename(part)
        if not is_attachment(ctype, disposition, name):
            continue
        out.append(
            AttachmentInfo(
                part_id=part_id,
                filename=name,
                content_type=ctype,
                size_bytes=_encoded_size(part),
                inline=disposition == "inline",
            )
        )
    return out


def find_part(msg: Message, part_id: str) -> Message | None:
    """The leaf part with this IMAP part number, or None."""
    for pid, part in _walk(msg, ""):
        if pid == part_id:
            return part
    return None
