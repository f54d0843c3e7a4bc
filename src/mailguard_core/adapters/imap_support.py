"""Pieces of the IMAP adapter that need no connection: login, TLS contexts,
BODYSTRUCTURE walking, transfer decoding and UIDPLUS response parsing."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import quopri
import re
import ssl
import urllib.parse
from collections.abc import Iterator
from typing import Any

import attrs

from mailguard_core.adapters.imap_errors import error_snippet
from mailguard_core.adapters.imap_session import Edge
from mailguard_core.adapters.mail_common import is_attachment
from mailguard_core.config import ImapSettings, normalize_pin
from mailguard_core.model.errors import (
    AuthenticationFailed,
    TLSError,
)
from mailguard_core.model.values import AttachmentInfo
from mailguard_core.sanitize.email_header_shim import chunk_text, decode_header

__all__ = [
    "BodyPart",
    "decode_transfer",
    "imap_login",
    "parse_uid_pairs",
    "tls_context",
    "to_utc",
    "walk_bodystructure",
]


def imap_login(client: Edge, username: str, password: str) -> None:
    """Log in: ``LOGIN`` when the credentials are ASCII, else ``AUTHENTICATE PLAIN`` (RFC 4616,
    UTF-8) when the server offers ``AUTH=PLAIN``.

    ``LOGIN`` cannot carry non-ASCII text (imaplib encodes its arguments as ASCII); PLAIN
    sends ``\\0username\\0password`` as UTF-8 in base64. No codec error is ever raised
    with the credentials (its text would name a password character and its position).

    Raises:
        AuthenticationFailed: refused, or non-ASCII credentials and no ``AUTH=PLAIN``.
    """
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    if not client.has_capability("AUTH=PLAIN"):
        raise AuthenticationFailed(
            "login: the username or password has non-ASCII characters and the server "
            "offers no AUTHENTICATE PLAIN (AUTH=PLAIN) to send them as UTF-8",
            public="authentication failed: the password has non-ASCII characters and the "
            "mail server offers no way to send them (AUTH=PLAIN)",
        )
    client.plain_login(username, password)


def tls_context(settings: ImapSettings) -> ssl.SSLContext:
    """TLS 1.2+ context: with a pin, CA checks are replaced by the exact-certificate check."""
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.pin_sha256:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the pin (checked right after the handshake) decides
    elif settings.ca_file:
        try:
            ctx.load_verify_locations(cafile=settings.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise TLSError(f"cannot load ca_file: {error_snippet(exc)}") from exc
    return ctx


def check_pin(has_tls: bool, der: bytes | None, pin: str | None) -> str | None:
    """SHA-256 (hex) of the peer's leaf certificate ``der``; TLSError when it differs from
    ``pin`` (or there is no TLS socket to check a pin on)."""
    if not has_tls:
        if pin:
            raise TLSError("no TLS socket to check the pin on")
        return None
    digest = hashlib.sha256(der).hexdigest() if der else None
    if pin and digest != normalize_pin(pin):
        raise TLSError(f"certificate sha256 {digest} does not match the pin")
    return digest


def to_utc(value: Any) -> dt.datetime | None:
    """An imapclient INTERNALDATE as an aware UTC datetime (None if it is not a datetime)."""
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _params(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, tuple | list):
        items = list(value)
        for key, val in zip(items[0::2], items[1::2], strict=False):
            out[_text(key).lower()] = _text(val)
    return out


def _decode_name(params: dict[str, str], key: str) -> str | None:
    if f"{key}*" in params:  # RFC 2231: charset'lang'percent-encoded
        charset, _, rest = params[f"{key}*"].partition("'")
        _lang, _, encoded = rest.partition("'")
        try:
            return urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="replace")
        except LookupError:
            return urllib.parse.unquote(encoded, errors="replace")
    raw = params.get(key)
    if not raw:
        return None
    if "=?" not in raw:
        return raw
    return "".join(chunk_text(data, charset) for data, charset in decode_header(raw))


@attrs.frozen
class BodyPart:
    part_id: str
    content_type: str
    encoding: str
    size: int
    disposition: str | None
    filename: str | None

    def attachment_info(self) -> AttachmentInfo | None:
        if not is_attachment(self.content_type, self.disposition, self.filename):
            return None
        return AttachmentInfo(
            part_id=self.part_id,
            filename=self.filename,
            content_type=self.content_type,
            size_bytes=self.size,
            inline=self.disposition == "inline",
        )


def _leaf(bs: Any, part_id: str) -> BodyPart:
    maintype, subtype = _text(bs[0]).lower(), _text(bs[1]).lower()
    params = _params(bs[2])
    encoding = _text(bs[5]).lower() or "7bit"
    size = int(bs[6]) if isinstance(bs[6], int) else 0
    # extension data starts after the type-specific fields
    ext = 7 + (1 if maintype == "text" else 0)
    if (maintype, subtype) == ("message", "rfc822"):
        ext = 10
    disposition: str | None = None
    disp_params: dict[str, str] = {}
    if len(bs) > ext + 1 and isinstance(bs[ext + 1], tuple | list) and bs[ext + 1]:
        disposition = _text(bs[ext + 1][0]).lower() or None
        disp_params = _params(bs[ext + 1][1]) if len(bs[ext + 1]) > 1 else {}
    filename = _decode_name(disp_params, "filename") or _decode_name(params, "name")
    return BodyPart(part_id, f"{maintype}/{subtype}", encoding, size, disposition, filename)


def walk_bodystructure(bs: Any, prefix: str = "") -> Iterator[BodyPart]:
    """Leaf parts of an imapclient BODYSTRUCTURE with IMAP part numbers."""
    if isinstance(bs, tuple | list) and bs and isinstance(bs[0], list):
        for i, child in enumerate(bs[0], start=1):
            yield from walk_bodystructure(child, f"{prefix}.{i}" if prefix else str(i))
    elif isinstance(bs, tuple | list) and len(bs) >= 7:
        yield _leaf(bs, prefix or "1")


def decode_transfer(data: bytes, encoding: str) -> bytes:
    """Undo base64 / quoted-printable; other encodings are returned as they are."""
    if encoding == "base64":
        try:
            return binascii.a2b_base64(re.sub(rb"[^A-Za-z0-9+/=]", b"", data) + b"==")
        except binascii.Error:
            cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
            return base64.b64decode(cleaned[: len(cleaned) // 4 * 4])
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


_UID_RANGE = re.compile(r"([0-9]{1,10})(?::([0-9]{1,10}))?")


def _expand(uid_set: str, limit: int) -> list[int] | None:
    """A UID set (``3,5:7``) as its UIDs in order; None when it is malformed or names more than
    ``limit`` UIDs (a server's ``1:4294967295`` is never expanded)."""
    out: list[int] = []
    for part in uid_set.split(","):
        m = _UID_RANGE.fullmatch(part)
        if m is None:
            return None
        a = int(m.group(1))
        b = int(m.group(2) or a)
        if len(out) + abs(b - a) + 1 > limit:
            return None
        step = 1 if b >= a else -1
        out.extend(range(a, b + step, step))
    return out


def parse_uid_pairs(data: Any, limit: int) -> tuple[int, dict[int, int]] | None:
    """``COPYUID <uidvalidity> <src set> <dst set>`` -> (uidvalidity, {src uid: dst uid}).

    Total over whatever the server sent: None unless both sets are well formed, name at most
    ``limit`` UIDs (the number of messages moved) and pair up one to one.
    """
    items = data if isinstance(data, list | tuple) else [data]
    for item in reversed(items):
        text = _text(item)
        m = re.search(r"(?:COPYUID\s+)?(\d+)\s+([\d:,]+)\s+([\d:,]+)", text)
        if m:
            src, dst = _expand(m.group(2), limit), _expand(m.group(3), limit)
            if src is not None and dst is not None and len(src) == len(dst):
                return int(m.group(1)), dict(zip(src, dst, strict=True))
    return None


def parse_appenduid(response: Any) -> tuple[int, int] | None:
    m = re.search(r"APPENDUID\s+(\d+)\s+(\d+)", _text(response))
    return (int(m.group(1)), int(m.group(2))) if m else None
