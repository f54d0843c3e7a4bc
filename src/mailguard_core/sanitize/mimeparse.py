"""A transcription of the stdlib's ``FeedParser._parsegen``: the same ``Message`` tree, faster.

Only ``email_parser_shim`` calls it (the shim for ``email.message_from_bytes(raw,
policy=compat32)``, which also decides when the stdlib parser runs instead); see the shim for
why it exists and which differential tests hold it to the stdlib on every CI run.

What it guarantees: :func:`parse_text` returns a tree that is indistinguishable from the
stdlib's: the same ``_headers`` (names and raw values, in order, as
``compat32.header_source_parse`` gives them), ``_payload`` (the same strings, or lists of
``Message``), ``preamble``, ``epilogue``, ``_unixfrom``, ``_default_type``, ``policy``, the
same ``defects`` (same classes, same order), and so the same ``as_bytes()``. A parser
differential is an attack vector (a part one component sees and another does not), so this is
not "the same on real mail" but the same algorithm: :class:`_Parser` is a transcription of
``FeedParser._parsegen`` (3.11), decision by decision, over one decoded string instead of a
line deque (``mimeparse_cursor``: the stdlib's ``BufferedSubFile``). Where the stdlib collects
a run of lines only to join them (a leaf body, a preamble, an epilogue, a header block), the
run is taken as one slice: it ends at the first line that a "false EOF" predicate (an
enclosing ``--boundary`` delimiter line, or a blank line inside ``message/delivery-status``)
matches, found with ``str.find`` and then checked with the stdlib's own rule (``--boundary``,
optional ``--``, spaces/tabs, a line ending). Everything else (lines pushed back, the boundary
lines themselves, delivery-status blocks) goes through a line-at-a-time ``readline`` with the
stdlib's semantics.

Lines are what ``io.StringIO(newline="")`` yields: split after ``\\r\\n``, ``\\r`` or
``\\n`` only. The stdlib feeds the text in 8192-character chunks, but its buffer rejoins a line
(and a ``\\r\\n`` pair) split across chunks, so the line sequence is that of the whole text.
Nesting deeper than :data:`MAX_DEPTH` raises :class:`TooDeep` (the shim then hands the message
to the stdlib parser).
"""

from __future__ import annotations

import re
from email import errors
from email.message import Message
from email.policy import compat32

from mailguard_core.sanitize.mime import boundary_param, content_type
from mailguard_core.sanitize.mimeparse_cursor import NL_RE, Cursor, boundary_delimiter

__all__ = ["MAX_DEPTH", "TooDeep", "parse_text"]

#: Messages nested deeper than this (multipart / message/* levels) go to the stdlib parser.
MAX_DEPTH = 64

#: feedparser.headerRE: a line the header loop accepts
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")
_MULTIPART_CTE = ("7bit", "8bit", "binary")
#: one header field: the name before the first colon, the value without leading blanks,
#: with its continuation lines (the trailing line ending is stripped after)
_FIELD = re.compile(
    r"([\041-\071\073-\176]+):[ \t]*"
    r"([^\r\n]*(?:\r\n|\r|\n)?(?:[ \t][^\r\n]*(?:\r\n|\r|\n)?)*)"
)
#: a line starting with one of these needs FeedParser's line-by-line header rules
_SLOW_HEADER_MARKS = ("\nFrom ", "\rFrom ", "\n:", "\r:")


class TooDeep(Exception):
    """Nesting over MAX_DEPTH: the caller falls back to the stdlib parser."""


def parse_text(text: str) -> Message:
    """The stdlib's tree for ``text`` (a message's bytes decoded as ASCII with
    ``surrogateescape``, as ``email.message_from_bytes`` does).

    Raises:
        TooDeep: nesting over :data:`MAX_DEPTH`.
        RecursionError: Python's own limit, before that depth.
    """
    return _Parser(text).parse()


def _strip_eol(value: str) -> str:
    """``value`` without one trailing line ending (feedparser's NLCRE_eol trim)."""
    if value.endswith("\r\n"):
        return value[:-2]
    if value.endswith(("\r", "\n")):
        return value[:-1]
    return value


def _header(lines: list[str]) -> tuple[str, str]:
    """``compat32.header_source_parse(lines)``."""
    name, value = lines[0].split(":", 1)
    if len(lines) > 1:
        value = value.lstrip(" \t") + "".join(lines[1:])
        return name, value.rstrip("\r\n")
    return name, value.lstrip(" \t").rstrip("\r\n")


class _Parser:
    """``FeedParser._parsegen`` over a :class:`Cursor`; comments name the stdlib's steps."""

    def __init__(self, text: str) -> None:
        self.cur = Cursor(text)
        #: FeedParser._last: the message whose trailing line ending a delimiter takes
        self.last: Message | None = None
        #: whether ``last`` is a multipart (its content type, computed once)
        self.last_multipart = False
        self.root_multipart = False

    def parse(self) -> Message:
        root = self._parsegen(None, None, 0)
        # FeedParser.close()
        if self.root_multipart and not root.is_multipart():
            root.defects.append(errors.MultipartInvariantViolationDefect())
        return root

    def _parsegen(self, parent: Message | None, parent_type: str | None, depth: int) -> Message:
        if depth > MAX_DEPTH:
            raise TooDeep
        cur = self.cur
        # _new_message
        msg = Message(policy=compat32)
        if parent_type == "multipart/digest":
            msg.set_default_type("message/rfc822")
        if parent is not None:
            parent.attach(msg)
        self.last = msg
        # the header loop: lines until one headerRE does not match (a blank one is eaten)
        lines: list[str] = []  # whole lines, or runs of them
        while True:
            if not cur.back:
                run, stopped = cur.take_header_run()
                if run:
                    lines.append(run)
                if stopped:
                    break
            line = cur.readline()
            if not line:
                break
            if not _HEADER_LINE.match(line):
                if not NL_RE.match(line):
                    msg.defects.append(errors.MissingHeaderBodySeparatorDefect())
                    cur.unread(line)
                break
            lines.append(line)
        self._parse_headers(msg, "".join(lines))
        ctype = content_type(msg)  # msg.get_content_type()
        maintype = ctype.split("/")[0]  # msg.get_content_maintype()
        self.last_multipart = maintype == "multipart"  # no child was made yet: last is msg
        if parent is None:
            self.root_multipart = self.last_multipart
        if ctype == "message/delivery-status":
            # blocks of headers separated by blank lines, one sub-message each
            while True:
                cur.stops.append(None)
                self._parsegen(msg, ctype, depth + 1)
                cur.stops.pop()
                cur.readline()  # the blank line (or nothing, at the end)
                line = cur.readline()
                if not line:
                    break
                cur.unread(line)
            return msg
        if maintype == "message":
            self._parsegen(msg, ctype, depth + 1)
            return msg
        if maintype == "multipart":
            self._multipart(msg, ctype, depth)
            return msg
        msg.set_payload("".join(cur.take_rest()))
        return msg

    def _multipart(self, msg: Message, ctype: str, depth: int) -> None:
        cur = self.cur
        boundary = boundary_param(msg)  # msg.get_boundary()
        if boundary is None:
            msg.defects.append(errors.NoBoundaryInMultipartDefect())
            msg.set_payload("".join(cur.take_rest()))
            return
        if str(msg.get("content-transfer-encoding", "8bit")).lower() not in _MULTIPART_CTE:
            msg.defects.append(errors.InvalidMultipartContentTransferEncodingDefect())
        sep = "--" + boundary
        capturing_preamble = True
        preamble: list[str] = []
        linesep: str | None = None
        close_boundary_seen = False
        while True:
            if capturing_preamble and not cur.back:
                # the preamble runs to the first delimiter line or false EOF
                stop = cur.next_stop(sep)
                if stop > cur.pos:
                    preamble.append(cur.text[cur.pos : stop])
                    cur.pos = stop
            line = cur.readline()
            if not line:
                break
            delimiter = boundary_delimiter(line, sep)
            if delimiter is None:
                if not capturing_preamble:  # the stdlib asserts this
                    raise AssertionError("line outside a part after the preamble")
                preamble.append(line)
                continue
            if delimiter[0]:
                close_boundary_seen = True
                linesep = delimiter[1]
                break
            if capturing_preamble:
                if preamble:
                    # the line ending before the delimiter belongs to the delimiter
                    preamble[-1] = _strip_eol(preamble[-1])
                    msg.preamble = "".join(preamble)
                capturing_preamble = False
                cur.unread(line)
                continue
            # consecutive delimiter lines make no empty parts: skip them
            while True:
                line = cur.readline()
                if boundary_delimiter(line, sep) is None:
                    cur.unread(line)
                    break
            cur.stops.append(sep)
            self._parsegen(msg, ctype, depth + 1)
            # the line ending before the delimiter belongs to the delimiter
            last = self.last
            assert last is not None
            if self.last_multipart:
                epilogue = last.epilogue
                if epilogue == "":
                    last.epilogue = None
                elif epilogue is not None:
                    last.epilogue = _strip_eol(epilogue)
            else:
                payload = vars(last)["_payload"]  # raw: get_payload() would decode
                if isinstance(payload, str):
                    last.set_payload(_strip_eol(payload))
            cur.stops.pop()
            self.last, self.last_multipart = msg, True
        if capturing_preamble:
            # no first delimiter: the text is the payload; the stdlib then skips to the EOF
            msg.defects.append(errors.StartBoundaryNotFoundDefect())
            msg.set_payload("".join(preamble))
            cur.take_rest()
            msg.epilogue = ""
            return
        if not close_boundary_seen:
            msg.defects.append(errors.CloseBoundaryNotFoundDefect())
            return
        # the epilogue: what follows the close delimiter, less a first blank line's ending
        chunks = cur.take_rest()
        if chunks and not linesep:
            blank = NL_RE.match(chunks[0])
            if blank is not None:
                chunks[0] = chunks[0][blank.end() :]
        msg.epilogue = "".join(chunks)

    def _parse_headers(self, msg: Message, block: str) -> None:
        """``FeedParser._parse_headers`` on the header lines ``block``.

        When every line is a ``name:`` line or a continuation of one (the first is not), no
        line starts with "From " and no name is empty, one regex takes every field.
        """
        if not block:
            return
        if (
            block[0] not in " \t"
            and not block.startswith(("From ", ":"))
            and not any(mark in block for mark in _SLOW_HEADER_MARKS)
        ):
            vars(msg)["_headers"].extend(
                [(name, value.rstrip("\r\n")) for name, value in _FIELD.findall(block)]
            )
            return
        lines = self.cur.split_lines(block)
        lastheader = ""
        lastvalue: list[str] = []
        for lineno, line in enumerate(lines):
            if line[0] in " \t":
                if not lastheader:
                    msg.defects.append(errors.FirstHeaderLineIsContinuationDefect(line))
                    continue
                lastvalue.append(line)
                continue
            if lastheader:
                msg.set_raw(*_header(lastvalue))
                lastheader, lastvalue = "", []
            if line.startswith("From "):
                if lineno == 0:
                    msg.set_unixfrom(_strip_eol(line))
                    continue
                if lineno == len(lines) - 1:
                    # probably the body's first line: push it back and stop
                    self.cur.unread(line)
                    return
                msg.defects.append(errors.MisplacedEnvelopeHeaderDefect(line))
                continue
            i = line.find(":")
            if i == 0:
                msg.defects.append(errors.InvalidHeaderDefect("Missing header name."))
                continue
            lastheader = line[:i]
            lastvalue = [line]
        if lastheader:
            msg.set_raw(*_header(lastvalue))
