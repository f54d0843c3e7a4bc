"""Building outgoing messages with the stdlib ``email`` API (issue 5).

Pure functions, no I/O. Everything a caller supplies is checked before a message exists:

- display names, addresses and the subject may not contain CR, LF, NUL, any other C0 or C1
  control, DEL, or U+2028/U+2029 (:class:`HeaderInjectionError`);
- an address is exactly one ``local@domain`` (optionally ``Name <local@domain>``): no
  comments, groups, quoted or non-ASCII local parts (SMTPUTF8 is not supported); an IDN
  domain is encoded with the ``idna`` codec;
- recipient count, subject length and body size are bounded (:class:`LimitExceeded`);
- an optional allowlist of exact addresses and domains (:class:`RecipientNotAllowed`).

The built message has ``From`` = the account's address, a fresh ``Message-ID`` on the
account's domain, ``Date``, and, for a reply, ``In-Reply-To``/``References`` derived from the
parent's (untrusted, so strictly filtered) headers. As a last line of defence the bytes are
parsed back and must hold exactly the headers mailguard wrote.

The address and subject headers are written here rather than by the ``email`` package: a
non-ASCII display name or subject becomes a run of whole base64 encoded words (RFC 2047), so
every reader decodes it to exactly the text given; the package's own folding can put an
encoded word right next to plain text, which readers decode differently. The body and its
MIME headers come from ``EmailMessage.set_content`` (UTF-8, quoted-printable when not ASCII).
"""

from __future__ import annotations

import base64
import datetime as dt
import email.parser
import email.utils
import re
import secrets
from collections.abc import Sequence
from email.message import EmailMessage

import attrs

from mailguard_core.model.addresses import (
    Mailbox,
    clean_display_name,
    parse_mailbox,
    recipient_allowed,
    validate_address,
    validate_domain,
    validate_header_text,
)
from mailguard_core.model.errors import (
    HeaderInjectionError,
    InputError,
    LimitExceeded,
    RecipientNotAllowed,
)

#: this module's API, with the address checks it re-exports from ``model/addresses.py``
__all__ = [
    "DRAFT_FLAGS",
    "MAX_REFERENCES",
    "SENT_FLAGS",
    "ComposedMessage",
    "Limits",
    "Mailbox",
    "Threading",
    "clean_display_name",
    "compose",
    "encoded_words",
    "message_id_of",
    "new_message_id",
    "parse_mailbox",
    "recipient_allowed",
    "threading_from_headers",
    "validate_address",
    "validate_domain",
    "validate_header_text",
]

#: a message id mailguard accepts from a parent message: <left@right>, printable ASCII
_MSGID = re.compile(r"^<[\x21-\x3b\x3d\x3f-\x7e]{1,250}@[\x21-\x3b\x3d\x3f-\x7e]{1,250}>$")
#: at most this many ids are carried over into References
MAX_REFERENCES = 30

DRAFT_FLAGS: tuple[str, ...] = ("\\Draft", "$PendingReview")
SENT_FLAGS: tuple[str, ...] = ("\\Seen",)


@attrs.frozen(kw_only=True)
class Limits:
    max_recipients: int = 50
    max_subject_chars: int = 998
    max_body_bytes: int = 1_000_000
    recipient_allowlist: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Threading:
    """What a reply carries over from its parent (both already filtered)."""

    in_reply_to: str
    references: tuple[str, ...]


def threading_from_headers(header_bytes: bytes) -> Threading | None:
    """Threading headers for a reply to the message whose raw headers are given.

    The parent is untrusted: only ids that look exactly like ``<left@right>`` (printable
    ASCII, no spaces) are used; the last :data:`MAX_REFERENCES` are kept. Returns None when
    the parent has no usable Message-ID.
    """
    from email.policy import compat32  # with the header registry: loaded on first use

    parsed = email.parser.BytesHeaderParser(policy=compat32).parsebytes(header_bytes)
    message_ids = _ids(parsed.get_all("Message-ID") or [])
    if len(message_ids) != 1:
        return None
    references = _ids(parsed.get_all("References") or [])
    if not references:
        references = _ids(parsed.get_all("In-Reply-To") or [])[:1]
    chain = [r for r in references if r != message_ids[0]]
    chain.append(message_ids[0])
    return Threading(in_reply_to=message_ids[0], references=tuple(chain[-MAX_REFERENCES:]))


def _ids(values: Sequence[object]) -> list[str]:
    found: list[str] = []
    for value in values:
        text = str(value)
        for token in re.split(r"[\s,]+", text):
            if _MSGID.fullmatch(token) and token not in found:
                found.append(token)
    return found


#: folding whitespace between the parts of a long header (unfolding removes the CRLF only)
_FOLD = "\r\n "
#: UTF-8 bytes per encoded word: 56 base64 characters, a 68-character word, so even
#: ``Subject: <word>`` stays within the recommended 78-character line
_WORD_BYTES = 42
#: plain ASCII header text longer than this is sent as encoded words (keeps lines < 998)
_PLAIN_MAX = 900


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 base64 encoded words (``=?utf-8?b?...?=``), split between
    characters, each at most 68 characters long (RFC 2047 allows 75).

    A reader joins adjacent encoded words without the whitespace between them, so the text
    (spaces included) decodes exactly.
    """
    chunks: list[bytes] = [b""]
    for char in text:
        encoded = char.encode("utf-8")
        if len(chunks[-1]) + len(encoded) > _WORD_BYTES:
            chunks.append(b"")
        chunks[-1] += encoded
    return [f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=" for chunk in chunks]


def _plain(text: str, *, limit: int) -> bool:
    """Whether ``text`` can be written as is: printable ASCII that cannot be mistaken for an
    encoded word, and short."""
    return text.isascii() and text.isprintable() and "=?" not in text and len(text) <= limit


def _unstructured(text: str) -> str:
    """A Subject value. Non-ASCII text is encoded whole (never mixed with plain words: the
    email package's mixed form is decoded differently by different readers)."""
    return text if _plain(text, limit=_PLAIN_MAX) else _FOLD.join(encoded_words(text))


def _mailbox(mailbox: Mailbox) -> str:
    name = mailbox.display_name
    if not name:
        return mailbox.address
    if _plain(name, limit=200):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{mailbox.address}>'
    return f"{_FOLD.join(encoded_words(name))}{_FOLD}<{mailbox.address}>"


def _address_list(mailboxes: Sequence[Mailbox]) -> str:
    return f",{_FOLD}".join(_mailbox(m) for m in mailboxes)


@attrs.frozen(kw_only=True)
class ComposedMessage:
    """A built message, ready for SMTP or APPEND."""

    data: bytes = attrs.field(repr=False)
    message_id: str
    envelope_from: str
    #: every envelope recipient (To, Cc, Bcc), deduplicated, in order
    recipients: tuple[str, ...]


def new_message_id(domain: str) -> str:
    """A fresh, unguessable ``<...@domain>``."""
    return f"<{secrets.token_hex(16)}@{domain}>"


def compose(
    *,
    sender: Mailbox,
    to: Sequence[str],
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    subject: str,
    body: str,
    limits: Limits = Limits(),
    threading: Threading | None = None,
    draft: bool = False,
    now: dt.datetime | None = None,
) -> ComposedMessage:
    """Check every input and build the message.

    ``sender`` is the account's own mailbox (From and the envelope sender). ``Bcc`` is
    written only into drafts (so the person reviewing one sees it); a sent message carries
    Bcc recipients in the envelope only.

    Raises:
        HeaderInjectionError, InputError, LimitExceeded, RecipientNotAllowed: nothing built.
    """
    if not isinstance(subject, str) or not isinstance(body, str):
        raise InputError("subject or body is not a string", public="subject and body are text")
    validate_header_text(subject, field="subject")
    # leading and trailing whitespace does not survive header unfolding: drop it here
    subject = subject.strip()
    if len(subject) > limits.max_subject_chars:
        raise LimitExceeded(
            "subject too long",
            public=f"the subject is longer than {limits.max_subject_chars} characters",
        )
    if "\x00" in body:
        raise InputError("NUL in body", public="the body contains a NUL character")
    body_bytes = len(body.encode("utf-8", "surrogatepass"))
    if body_bytes > limits.max_body_bytes:
        raise LimitExceeded(
            "body too large", public=f"the body is larger than {limits.max_body_bytes} bytes"
        )
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("lone surrogate in body", public="the body is not valid text") from None
    total = len(to) + len(cc) + len(bcc)
    if total > limits.max_recipients:
        raise LimitExceeded(
            f"{total} recipients",
            public=f"at most {limits.max_recipients} recipients (to, cc and bcc together)",
        )
    groups = {
        key: [parse_mailbox(text) for text in values]
        for key, values in (("to", to), ("cc", cc), ("bcc", bcc))
    }
    if not (groups["to"] or groups["cc"] or groups["bcc"]):
        raise InputError("no recipients", public="at least one recipient is required")
    recipients: list[str] = []
    for mailbox in (*groups["to"], *groups["cc"], *groups["bcc"]):
        if limits.recipient_allowlist and not recipient_allowed(
            mailbox.address, limits.recipient_allowlist
        ):
            raise RecipientNotAllowed("a recipient is not on the allowlist")
        if mailbox.address.lower() not in (r.lower() for r in recipients):
            recipients.append(mailbox.address)

    domain = sender.address.rpartition("@")[2]
    message_id = new_message_id(domain)
    headers = [("From", _address_list([sender]))]
    for name, key in (("To", "to"), ("Cc", "cc")) + ((("Bcc", "bcc"),) if draft else ()):
        if groups[key]:
            headers.append((name, _address_list(groups[key])))
    headers += [
        ("Subject", _unstructured(subject)),
        ("Date", email.utils.format_datetime((now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))),
        ("Message-ID", message_id),
    ]
    if threading is not None:
        headers.append(("In-Reply-To", threading.in_reply_to))
        headers.append(("References", _FOLD.join(threading.references)))
    from email.policy import SMTP

    # the body part and its MIME headers come from the email package; non-ASCII bodies go out
    # quoted-printable (8bit would need the server's 8BITMIME)
    part = EmailMessage(policy=SMTP)
    part.set_content(body, charset="utf-8", cte=None if body.isascii() else "quoted-printable")
    data = b"".join(f"{name}: {value}\r\n".encode("ascii") for name, value in headers)
    data += part.as_bytes(policy=SMTP)
    _check_headers(data, expected=[name for name, _ in headers] + list(part.keys()))
    return ComposedMessage(
        data=data,
        message_id=message_id,
        envelope_from=sender.address,
        recipients=tuple(recipients),
    )


def message_id_of(data: bytes) -> str:
    """The Message-ID header of a built message ("" when it has none)."""
    from email.policy import compat32  # with the header registry: loaded on first use

    headers = email.parser.BytesHeaderParser(policy=compat32).parsebytes(data)
    return str(headers.get("Message-ID", "")).strip()


def _check_headers(data: bytes, *, expected: Sequence[str]) -> None:
    """Parse the built bytes back: the header names must be exactly the ones written."""
    from email.policy import compat32  # with the header registry: loaded on first use

    parsed = email.parser.BytesHeaderParser(policy=compat32).parsebytes(data)
    found = [name.lower() for name in parsed]
    if found != [name.lower() for name in expected] or parsed.defects:
        raise HeaderInjectionError("built message headers differ from the ones written")
