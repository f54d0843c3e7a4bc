"""What a human is shown before a confirmed call runs (issue 21).

The summary is built by mailguard from what will actually happen, never from the model's
words: for a send, from the composed message (the bytes that are then submitted); for
deletions, moves and expunges, from the stored messages' headers; for folder operations,
from the folder names. Every value is made visible before it is shown:

- characters a reader cannot see or that reorder text (controls, format characters such as
  bidi overrides and zero-width joiners, separators other than the space, unassigned and
  private-use code points) are written as ``\\u{XXXX}``;
- an address is shown in ASCII: every non-ASCII character escaped the same way, so a Cyrillic
  ``а`` in ``pаypal.example`` reads ``p\\u{0430}ypal.example``; so is a display name whose
  words mix scripts (:func:`display_name`);
- every value is bounded (``…(N more characters)``), the body preview to its first lines.

The summary's text is what the face (the MCP server) sends in its elicitation request; its
SHA-256 goes to the audit log with the human's decision.
"""

from __future__ import annotations

import email.parser
import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import attrs

from mailguard_core.config import AccountConfig
from mailguard_core.model.compose import ComposedMessage
from mailguard_core.model.errors import ConfirmationUnavailable
from mailguard_core.model.tools import ToolName
from mailguard_core.model.values import MessageRef, MessageSummary
from mailguard_core.services.results import HeldForReview

if TYPE_CHECKING:
    from email.headerregistry import Address

    from mailguard_core.services.use_cases import MailboxService

#: at most this many characters of one value (subject, name, address, line)
VALUE_CHARS = 200
#: at most this many body lines, and this many characters of them together
BODY_LINES = 8
BODY_CHARS = 800
#: at most this many messages listed one by one
LISTED_MESSAGES = 20


@functools.cache
def _parser() -> email.parser.BytesParser[EmailMessage]:
    """The parser of the messages summarized; ``email.policy`` (with its header registry)
    loads on the first confirmation, not at the server's startup."""
    from email.policy import default

    return email.parser.BytesParser(policy=default)


@attrs.frozen(kw_only=True)
class ConfirmationSummary:
    """What the human approves: the tool, the account, and the text they are shown."""

    tool: str
    account: str
    text: str

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the UTF-8 text (what the audit log records)."""
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()


def _escape(char: str) -> str:
    return f"\\u{{{ord(char):04X}}}"


def _hidden(char: str) -> bool:
    category = unicodedata.category(char)
    return (category[0] in "CZ" and char != " ") or char == "\\"


def visible(text: str, limit: int = VALUE_CHARS) -> str:
    """``text`` with every invisible or reordering character (and the backslash, so that the
    escapes cannot be forged) escaped as ``\\u{XXXX}``, clipped to ``limit`` characters of
    the original."""
    clipped = text[:limit]
    shown = "".join(_escape(c) if _hidden(c) else c for c in clipped)
    if len(text) > limit:
        shown += f"…({len(text) - limit} more characters)"
    return shown


def ascii_visible(text: str, limit: int = VALUE_CHARS) -> str:
    """Like :func:`visible`, and every non-ASCII character escaped too (for addresses)."""
    clipped = text[:limit]
    shown = "".join(_escape(c) if _hidden(c) or not (0x20 <= ord(c) < 0x7F) else c for c in clipped)
    if len(text) > limit:
        shown += f"…({len(text) - limit} more characters)"
    return shown


def display_name(name: str) -> str:
    """A display name made visible; one whose words mix scripts (a Cyrillic ``а`` among Latin
    letters, UTS #39 highly restrictive) is shown like an address, every non-ASCII character
    escaped, so ``pаypal.example`` as a name cannot pass for ``paypal.example``. A name in
    one script (``José``, ``Иван``) is shown as it is."""
    from mailguard_core.sanitize.lookalike import is_mixed_script

    words = [w for w in re.split(r"[\s.@,;:<>()\[\]\"']+", name[:VALUE_CHARS]) if w]
    if any(not w.isascii() and is_mixed_script(w) for w in words):
        return ascii_visible(name)
    return visible(name)


def _mailbox(address: Address) -> str:
    shown = f"<{ascii_visible(address.addr_spec)}>"
    name = address.display_name
    return f'"{display_name(name)}" {shown}' if name else shown


def _addresses(message: EmailMessage, header: str) -> list[Address]:
    value = message.get(header)
    if value is None:
        return []
    return list(getattr(value, "addresses", ()))


def _body_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n")
    if text.endswith("\n"):  # a trailing newline is no line
        text = text[:-1]
    lines = text.split("\n")
    shown: list[str] = []
    budget = BODY_CHARS
    for line in lines[:BODY_LINES]:
        if budget <= 0:
            break
        shown.append(f"  | {visible(line, min(VALUE_CHARS, budget))}")
        budget -= min(len(line), VALUE_CHARS) + 1
    if len(lines) > len(shown):
        shown.append(f"  | …({len(lines) - len(shown)} more lines)")
    return shown


def _attachment_names(message: EmailMessage) -> list[str]:
    # get_filename() in linear time; imported here: the sanitizer package is heavy, and the
    # server lists its tools before loading it (tests/mcp/test_startup.py)
    from mailguard_core.sanitize.mime import filename_param

    names = []
    for part in message.walk():
        filename = filename_param(part)
        if filename is not None and not part.is_multipart():
            names.append(visible(filename, 100))
    return names


def _plain_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def summarize_send(account: str, composed: ComposedMessage) -> ConfirmationSummary:
    """The summary of a send, read back from the composed message's bytes."""
    message = _parser().parsebytes(composed.data)
    assert isinstance(message, EmailMessage)
    lines = ["Send this email?", ""]
    senders = _addresses(message, "From")
    lines.append("From: " + ", ".join(_mailbox(a) for a in senders))
    listed: set[str] = set()
    for header in ("To", "Cc"):
        found = _addresses(message, header)
        listed.update(a.addr_spec.lower() for a in found)
        if found:
            lines.append(f"{header}: " + ", ".join(_mailbox(a) for a in found))
    hidden = [r for r in composed.recipients if r.lower() not in listed]
    if hidden:
        lines.append("Bcc: " + ", ".join(f"<{ascii_visible(r)}>" for r in hidden))
    lines.append(f"Recipients in all: {len(composed.recipients)}")
    lines.append(f"Subject: {visible(str(message.get('Subject', '')))}")
    lines.append(f"Size: {len(composed.data)} bytes")
    names = _attachment_names(message)
    lines.append("Attachments: " + (", ".join(names) if names else "none"))
    lines.append("Body (first lines):")
    lines.extend(_body_lines(_plain_body(message)))
    return ConfirmationSummary(tool="send_email", account=account, text="\n".join(lines))


def _header(summary: MessageSummary) -> tuple[str, str]:
    """(sender, subject) of a stored message, made visible; unreadable headers say so."""
    try:
        message = _parser().parsebytes(summary.header_bytes, headersonly=True)
        subject = str(message.get("Subject", ""))
        found = _addresses(message, "From")
        sender = ", ".join(_mailbox(a) for a in found[:3]) or "(no sender)"
    except Exception:  # a hostile header must not stop the question; it is shown as such
        return "(unreadable sender)", "(unreadable subject)"
    return sender, visible(subject, 120) if subject else "(no subject)"


_VERBS = {
    "delete_message": "Move these messages to Trash?",
    "expunge": "Permanently erase these messages? This cannot be undone.",
    "move_message": "Move these messages?",
}


def summarize_messages(
    tool: str,
    account: str,
    refs: Sequence[MessageRef],
    found: Iterable[MessageSummary],
    *,
    destination: str | None = None,
) -> ConfirmationSummary:
    """The summary of a call acting on messages: how many, in which folders, and the sender
    and subject of each (the first :data:`LISTED_MESSAGES`)."""
    by_ref = {s.ref: s for s in found}
    folders = sorted({ref.folder for ref in refs})
    lines = [_VERBS.get(tool, f"{tool}?"), ""]
    lines.append(f"Messages: {len(refs)}")
    lines.append("Folders: " + ", ".join(visible(f, 100) for f in folders))
    if destination is not None:
        lines.append(f"Destination: {visible(destination, 100)}")
    for index, ref in enumerate(refs[:LISTED_MESSAGES], 1):
        summary = by_ref.get(ref)
        if summary is None:
            lines.append(f"{index}. (not found: {visible(str(ref), 120)})")
            continue
        sender, subject = _header(summary)
        lines.append(f"{index}. From {sender}, subject: {subject}")
    if len(refs) > LISTED_MESSAGES:
        lines.append(f"…and {len(refs) - LISTED_MESSAGES} more")
    return ConfirmationSummary(tool=tool, account=account, text="\n".join(lines))


def summarize_folder(
    tool: str,
    account: str,
    folder: str,
    *,
    new_name: str | None = None,
    messages: int | None = None,
) -> ConfirmationSummary:
    """The summary of a folder operation: the folder, its new name, how many messages."""
    if tool == "delete_folder":
        lines = ["Delete this folder and every message in it?", ""]
    else:
        lines = ["Rename this folder?", ""]
    lines.append(f"Folder: {visible(folder, 100)}")
    if new_name is not None:
        lines.append(f"New name: {visible(new_name, 100)}")
    lines.append(f"Messages in it: {'unknown' if messages is None else messages}")
    return ConfirmationSummary(tool=tool, account=account, text="\n".join(lines))


def audit_fields(summary: ConfirmationSummary, decision: str, seconds: float) -> dict[str, Any]:
    """The content-free record of one confirmation for the audit end record."""
    return {
        "confirm_sha256": summary.sha256,
        "confirm_decision": decision,
        "confirm_ms": round(seconds * 1000.0, 3),
    }


# --------------------------------------------------------------------------- the decision
#: answers a human (or a library caller's confirmer) can give; anything but accept refuses
DECISIONS = ("accept", "decline", "cancel", "timeout", "malformed", "error")


def needs_confirmation(account: AccountConfig, tool: ToolName | None) -> bool:
    """Whether ``tool`` on ``account`` asks a human before it runs (``[accounts.confirm]``)."""
    return tool is not None and tool.value in account.confirm.tools


def summary_call(
    tool: ToolName, args: Mapping[str, Any]
) -> Callable[[MailboxService], ConfirmationSummary]:
    """The service call that builds the summary of a confirmed call (arguments already
    validated against the tool's schema).

    Raises:
        InputError: an argument is malformed.
    """
    from mailguard_core.services.dispatch import outgoing_request_of, refs_of

    if tool is ToolName.SEND_EMAIL:
        request = outgoing_request_of(args)
        return lambda s: s.confirm_send(request)
    if tool in (ToolName.DELETE_MESSAGE, ToolName.EXPUNGE, ToolName.MOVE_MESSAGE):
        refs = refs_of(args)
        destination = args.get("destination")
        return lambda s: s.confirm_messages(tool, refs, destination)
    if tool is ToolName.DELETE_FOLDER:
        folder = args["folder"]
        return lambda s: s.confirm_folder(tool, folder)
    if tool is ToolName.RENAME_FOLDER:
        folder, new = args["folder"], args["new_name"]
        return lambda s: s.confirm_folder(tool, folder, new)
    raise AssertionError(f"no confirmation summary for {tool}")  # config refuses the rest


def unconfirmable_call(
    account: AccountConfig, tool: ToolName, args: Mapping[str, Any]
) -> Callable[[MailboxService], HeldForReview]:
    """What a confirmed call becomes when nobody can be asked (``on_unsupported``): a send
    saved as a ``$PendingReview`` draft (:class:`HeldForReview`; on the wire, the result's
    ``not_sent`` says so).

    Raises:
        ConfirmationUnavailable: ``on_unsupported = "refuse"``, or a tool other than a send.
    """
    if tool is not ToolName.SEND_EMAIL or account.confirm.on_unsupported != "draft":
        raise ConfirmationUnavailable(f"{tool.value}: nobody can be asked to confirm it")
    from mailguard_core.services.dispatch import outgoing_request_of

    request = outgoing_request_of(args)

    def draft(service: MailboxService) -> HeldForReview:
        made = service.create_draft(request)
        return HeldForReview(account=made.account, outcome=made.outcome)

    return draft
