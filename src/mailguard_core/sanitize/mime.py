"""MIME walk with limits: which parts a reader sees, which are attachments, their part ids.

Part ids follow IMAP BODYSTRUCTURE numbering: children of a multipart are ``1``, ``2``, ...,
a single-part message's body is ``1``, and an attached ``message/rfc822`` part ``N`` has its
own parts numbered ``N.1``, ``N.2``, ....
"""

from __future__ import annotations

import re
import threading
from email import utils as email_utils
from email.message import Message
from email.policy import compat32
from typing import Any

import attrs

from mailguard_core.sanitize.envelope import MimeLimits
from mailguard_core.sanitize.warnings import WarningCollector

_TEXT_TYPES = ("text/plain", "text/html")
_PARAM_CACHE_SIZE = 2048
_PARAM_CACHE_MAX_CHARS = 1000
_param_cache: dict[tuple[str, str | None, str | None], Any] = {}
_param_lock = threading.Lock()
_MISSING = object()


def _cacheable(value: Any) -> bool:
    return value is None or (isinstance(value, str) and len(value) <= _PARAM_CACHE_MAX_CHARS)


def _remember(key: tuple[str, str | None, str | None], value: Any) -> None:
    with _param_lock:
        if len(_param_cache) >= _PARAM_CACHE_SIZE:
            _param_cache.clear()
        _param_cache[key] = value


def _first_field(part: Message, header: str) -> Any:
    """The raw value of the first field named ``header`` (lower case), the one
    ``Message.get`` reads, or ``_MISSING``."""
    for name, raw in vars(part)["_headers"]:
        # ``Message.get`` lower-cases every field name; only a name of the same length can
        # lower-case to ``header`` (``İ`` is the one character whose lower case is longer:
        # two characters, one of them U+0307, which no ASCII name holds)
        if len(name) == len(header) and name.lower() == header:
            return raw
    return _MISSING


def content_type(part: Message) -> str:
    """``part.get_content_type()``, cached by the raw Content-Type value it parses.

    The answer depends only on the first Content-Type field's raw value (the part's
    default type when there is none) under the sanitizer's parser policy (``compat32``;
    a part under another policy is asked directly); mail repeats a handful of them.
    """
    value = _first_field(part, "content-type")
    if value is _MISSING:
        return part.get_default_type()
    if (
        not isinstance(value, str)
        or len(value) > _PARAM_CACHE_MAX_CHARS
        or part.policy is not compat32  # the cache holds compat32's answers only
    ):
        return part.get_content_type()
    key = ("ctype", value, None)
    found = _param_cache.get(key, _MISSING)
    if found is _MISSING:
        found = part.get_content_type()
        _remember(key, found)
    return str(found)


_BLANK = "[ \t\r\n]*"
_BLANKS = "[ \t\r\n]*+"
#: a parameter value the stdlib reads as written: no quote, backslash, ``<>``, ``;`` or blank
_PLAIN_CHARS = "A-Za-z0-9'()+_,./:=?\\-"
#: a whole Content-Type / Content-Disposition value in the plain form: a token (the type),
#: then ``; name=value`` pairs, each value a run of plain characters or a quoted one (blanks
#: allowed inside the quotes), no RFC 2231 ``*`` in a name, at most one ``;`` at the end
#: (blanks possessive, ``_BLANKS``: what follows each run is a non-blank or another run, so
#: giving some back cannot help, and ``=`` + blanks + an empty value + blanks + ``;``, or
#: blanks + ``;?`` + blanks at the end, no longer split one run every way before failing:
#: ``text/plain`` + 20,000 blanks + ``x`` cost 1.1 s, quadratic; the same language, see
#: tests/property/test_redos_linear.py)
_PLAIN_PARAMS_RE = re.compile(
    rf"{_BLANKS}[A-Za-z0-9!#$%&'*+.^_`{{|}}~/-]+"
    rf"(?:{_BLANKS};{_BLANKS}[A-Za-z0-9_.-]+{_BLANKS}={_BLANKS}"
    rf'(?:"[{_PLAIN_CHARS} ]*"|[{_PLAIN_CHARS}]*))*{_BLANKS};?{_BLANKS}'
)
_PARAM_RE = re.compile(
    rf'(?:^{_BLANK}([^;\s]+)|;{_BLANK}([^\s=]+){_BLANK}={_BLANK}(?:"([^"]*)"|([^;\s]*)))'
)


def plain_params(value: Any) -> list[tuple[str, str]] | None:
    """The parameters ``Message.get_param`` reads from ``value``, when it is in the plain form
    (:data:`_PLAIN_PARAMS_RE`: ASCII, no quoting inside values, no RFC 2231 names), as
    ``(name, value)`` pairs in order: the type first with the value ``""``, then each
    parameter with its name lower-cased and its value unquoted; else None (the stdlib reads it).

    In that form every step of the stdlib's reading (``_parseparam``, ``decode_params``,
    ``_unquotevalue``, ``collapse_rfc2231_value``) leaves the value as written inside its
    quotes; ``tests/property/test_sanitize_fast_paths.py`` holds the two together on values
    generated far outside the form.
    """
    if not isinstance(value, str) or not value.isascii() or not _PLAIN_PARAMS_RE.fullmatch(value):
        return None
    pairs = []
    for ctype, name, quoted, token in _PARAM_RE.findall(value):
        pairs.append((ctype, "") if ctype else (name.lower(), quoted or token))
    return pairs


def split_params(value: str) -> list[str]:
    """The stdlib's ``email.message._parseparam(value)``, in linear time.

    The stdlib cuts the value at each ``;`` outside quotes, deciding "outside" by counting
    the quotes (less the escaped ones) from the start of the piece at every ``;`` it tries,
    and slices off what it took each time: quadratic in a value of many ``;`` inside one
    quote (``charset="`` + 40,000 ``;``: 1.8 s a message; a 1 MB header: ~20 minutes).
    Here the count runs on from the previous ``;`` (a ``\\"`` pair never holds a ``;``, so
    the counts of the stretches add up) and the pieces are sliced once.
    ``tests/property/test_sanitize_fast_paths.py`` compares it with the stdlib's.
    """
    pieces: list[str] = []
    start, size = 0, len(value)
    while True:
        end = value.find(";", start)
        counted, odd = start, False
        while end > start:
            quotes = value.count('"', counted, end) - value.count('\\"', counted, end)
            odd ^= bool(quotes % 2)
            if not odd:
                break
            counted = end
            end = value.find(";", end + 1)
        if end < 0:
            end = size
        piece = value[start:end]
        if "=" in piece:
            name, _, rest = piece.partition("=")
            piece = name.strip().lower() + "=" + rest.strip()
        pieces.append(piece.strip())
        if end >= size:
            return pieces
        start = end + 1


def _unquoted(value: Any) -> Any:
    """The stdlib's ``email.message._unquotevalue``: a string unquoted, an RFC 2231 tuple's
    value unquoted."""
    if isinstance(value, tuple):
        return value[0], value[1], email_utils.unquote(value[2])
    return email_utils.unquote(value)


def get_param(part: Message, param: str, header: str) -> tuple[bool, Any]:
    """``(True, part.get_param(param, header=header))`` when ``part`` has that parameter,
    else ``(False, None)``: the stdlib's reading (``_get_params_preserve``, then
    ``decode_params`` for RFC 2231, then the unquoting) with :func:`split_params` for its
    quadratic first step."""
    value = part.get(header, _MISSING)
    if value is _MISSING:
        return False, None
    params = []
    for piece in split_params(str(value)):
        name, equals, found = piece.partition("=")
        params.append((name.strip(), found.strip()) if equals else (piece.strip(), ""))
    wanted = param.lower()
    for key, decoded in email_utils.decode_params(params):
        if key.lower() == wanted:
            return True, _unquoted(decoded)
    return False, None


def _param(part: Message, param: str, header: str) -> tuple[bool, Any]:
    """:func:`get_param`, read with one regex when the first ``header`` field is in the plain
    form (:func:`plain_params`) under ``compat32`` (``param`` and ``header`` in lower case)."""
    if part.policy is compat32:
        raw = _first_field(part, header)
        if raw is _MISSING:
            return False, None
        pairs = plain_params(raw)
        if pairs is not None:
            for key, found in pairs:
                if key.lower() == param:
                    return True, found
            return False, None
    return get_param(part, param, header)


def boundary_param(part: Message) -> str | None:
    """``part.get_boundary()``: one regex when the Content-Type value is in the plain form
    (:func:`plain_params`), else the stdlib's reading in linear time (:func:`get_param`)."""
    found, boundary = _param(part, "boundary", "content-type")
    return email_utils.collapse_rfc2231_value(boundary).rstrip() if found else None


def charset_param(part: Message) -> Any:
    """``part.get_param("charset")``, cached by the Content-Type value it parses.

    The result (str, RFC 2231 tuple or None) depends only on the first Content-Type
    value; mail repeats a handful of them, and the stdlib parameter parser is slow. A value
    in the plain form (:func:`plain_params`) is read without it, any other as the stdlib
    reads it, in linear time (:func:`get_param`).
    """
    ctype = part.get("Content-Type")
    if not _cacheable(ctype):
        return _param(part, "charset", "content-type")[1]
    key = ("charset", ctype, None)
    found = _param_cache.get(key, _MISSING)
    if found is not _MISSING:
        return found
    value = _param(part, "charset", "content-type")[1]
    _remember(key, value)
    return value


def _filename(part: Message) -> str | None:
    """``part.get_filename()``: Content-Disposition's ``filename``, else Content-Type's
    ``name``, collapsed and stripped."""
    found, filename = _param(part, "filename", "content-disposition")
    if not found:
        found, filename = _param(part, "name", "content-type")
    return email_utils.collapse_rfc2231_value(filename).strip() if found else None


def filename_param(part: Message) -> Any:
    """``part.get_filename()``, cached by the Content-Disposition and Content-Type it reads
    (read without the stdlib's parameter parser when they are in the plain form, else as the
    stdlib reads them, in linear time: :func:`get_param`)."""
    disposition = part.get("Content-Disposition")
    ctype = part.get("Content-Type")
    if not (_cacheable(disposition) and _cacheable(ctype)):
        return _filename(part)
    key = ("filename", disposition, ctype)
    found = _param_cache.get(key, _MISSING)
    if found is not _MISSING:
        return found
    value = _filename(part)
    _remember(key, value)
    return value


@attrs.define
class Shown:
    """A text part a reader sees, with the plain alternative an HTML part came with."""

    part: Message
    part_id: str
    ctype: str
    plain_alternative: Message | None = None
    #: a heading for a forwarded (attached) message, built from its sanitized headers
    forwarded: Message | None = None


@attrs.define
class Attachment:
    part: Message
    part_id: str
    inline: bool
    ctype: str


@attrs.define
class Walk:
    shown: list[Shown] = attrs.Factory(list)
    attachments: list[Attachment] = attrs.Factory(list)
    parts: int = 0
    exceeded: set[str] = attrs.Factory(set)


def _disposition(part: Message) -> str:
    value = part.get("Content-Disposition")
    return str(value).split(";", 1)[0].strip().lower() if value else ""


def _child_id(parent_id: str, index: int) -> str:
    return f"{parent_id}.{index}" if parent_id else str(index)


def walk(msg: Message, limits: MimeLimits, warnings: WarningCollector) -> Walk:
    """Walk the MIME tree of ``msg`` within ``limits``."""
    result = Walk()
    _visit(msg, "", 0, limits, result, in_alternative=False)
    for limit in sorted(result.exceeded):
        warnings.add("mime_limit_exceeded", "mime", {"limit": limit})
    return result


def _payload_list(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    return []


def _count(result: Walk, limits: MimeLimits) -> bool:
    result.parts += 1
    if result.parts > limits.max_parts:
        result.exceeded.add("max_parts")
        return False
    return True


def _visit(
    msg: Message,
    part_id: str,
    depth: int,
    limits: MimeLimits,
    result: Walk,
    *,
    in_alternative: bool,
    ctype: str | None = None,
) -> None:
    if depth > limits.max_depth:
        result.exceeded.add("max_depth")
        return
    if not _count(result, limits):
        return
    ctype = ctype or content_type(msg)
    if msg.is_multipart() and ctype != "message/rfc822":
        children = _payload_list(msg)
        subtype = ctype.partition("/")[2]
        if subtype == "alternative":
            _alternative(children, part_id, depth, limits, result)
            return
        for i, child in enumerate(children, 1):
            child_id = _child_id(part_id, i)
            if subtype in ("related", "signed", "encrypted") and i > 1:
                _leaf_attachment(
                    child, child_id, result, inline=subtype == "related", limits=limits
                )
                continue
            _visit(child, child_id, depth + 1, limits, result, in_alternative=False)
        return
    if ctype == "message/rfc822":
        inner = _payload_list(msg)
        own_id = part_id or "1"
        result.attachments.append(Attachment(part=msg, part_id=own_id, inline=False, ctype=ctype))
        if inner:
            nested = inner[0]
            before = len(result.shown)
            if nested.is_multipart():
                _visit(nested, own_id, depth + 1, limits, result, in_alternative=False)
            else:
                _visit(
                    nested, _child_id(own_id, 1), depth + 1, limits, result, in_alternative=False
                )
            if len(result.shown) > before:
                result.shown[before].forwarded = nested
        return
    leaf_id = part_id or "1"
    if ctype in _TEXT_TYPES and _disposition(msg) != "attachment" and not filename_param(msg):
        result.shown.append(Shown(part=msg, part_id=leaf_id, ctype=ctype))
    else:
        disposition = _disposition(msg)
        result.attachments.append(
            Attachment(part=msg, part_id=leaf_id, inline=disposition == "inline", ctype=ctype)
        )


def _leaf_attachment(
    part: Message, part_id: str, result: Walk, *, inline: bool, limits: MimeLimits
) -> None:
    ctype = content_type(part)
    if part.is_multipart() or ctype == "message/rfc822":
        _visit(part, part_id, 1, limits, result, in_alternative=False, ctype=ctype)
        return
    result.attachments.append(Attachment(part=part, part_id=part_id, inline=inline, ctype=ctype))


def _alternative(
    children: list[Message], part_id: str, depth: int, limits: MimeLimits, result: Walk
) -> None:
    plain: tuple[Message, str] | None = None
    best: tuple[Message, str] | None = None
    for i, child in enumerate(children, 1):
        child_id = _child_id(part_id, i)
        ctype = content_type(child)
        if ctype == "text/plain" and plain is None:
            plain = (child, child_id)
        if ctype == "text/html" or child.is_multipart() or (ctype == "text/plain" and best is None):
            best = (child, child_id)
    if best is None:
        return
    part, best_id = best
    if part.is_multipart():
        before = len(result.shown)
        _visit(part, best_id, depth + 1, limits, result, in_alternative=True)
        if (
            plain is not None
            and len(result.shown) > before
            and result.shown[before].part is not plain[0]
        ):
            result.shown[before].plain_alternative = plain[0]
        return
    if not _count(result, limits):
        return
    alt = plain[0] if plain is not None and plain[0] is not part else None
    result.shown.append(
        Shown(part=part, part_id=best_id, ctype=content_type(part), plain_alternative=alt)
    )


def message_size(msg: Message, max_parts: int = 10_000) -> int:
    """The octets of ``msg`` in its source, counted from the parsed tree without serializing it.

    Header fields, the blank line and boundary lines count with CRLF endings; bodies, preambles
    and epilogues as they are (the parser keeps their line endings). For a message written with
    CRLF line endings this is its exact size. At most ``max_parts`` parts are counted.
    """
    size = 0
    stack = [msg]
    seen = 0
    while stack and seen < max_parts:
        part = stack.pop()
        seen += 1
        size += sum(len(name) + len(value) + 4 for name, value in part.raw_items()) + 2
        payload = part.get_payload()
        if isinstance(payload, str):
            size += len(payload)
            continue
        if not isinstance(payload, list):
            continue
        children = [p for p in payload if isinstance(p, Message)]
        if part.get_content_maintype() == "message":
            stack.extend(reversed(children))  # message/*: the payload is the inner message
            continue
        boundary = boundary_param(part) or ""
        if part.preamble is not None:
            size += len(part.preamble) + 2
        size += len(children) * (len(boundary) + 6) + len(boundary) + 4  # --b CRLF...CRLF, --b--
        if part.epilogue is not None:
            size += len(part.epilogue) + 2
        stack.extend(reversed(children))
    return size
