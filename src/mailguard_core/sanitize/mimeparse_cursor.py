"""FeedParser's ``BufferedSubFile`` for :mod:`mimeparse`: one decoded string read line by line,
with pushed-back lines and the stack of false-EOF predicates (see mimeparse's docstring)."""

from __future__ import annotations

import re

__all__ = ["NL_RE", "Cursor", "boundary_delimiter"]

#: feedparser.NLCRE: a line ending (``match`` at a line start: the line is blank)
NL_RE = re.compile(r"\r\n|\r|\n")
#: a run of lines each of which _HEADER_LINE accepts (the whole header block in one match)
_HEADER_BLOCK = re.compile(r"(?:(?:From |[\041-\071\073-\176]*:|[\t ])[^\r\n]*(?:\r\n|\r|\n)?)*")
#: a line ending followed by a blank line; the blank line starts one character before the end
_BLANK_AFTER = re.compile(r"(?:\r\n|\r(?!\n)|\n)[\r\n]")
#: one line, as StringIO(newline="").readlines() cuts them
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
#: characters str.splitlines() also breaks at (the others it knows cannot follow an ASCII decode)
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e"


def boundary_delimiter(line: str, sep: str) -> tuple[bool, str | None] | None:
    """What feedparser's ``boundaryre.match(line)`` finds for separator ``sep``.

    None if the line is not a delimiter line, else ``(is_close, linesep)``: the line is
    ``sep``, then ``--`` for a close delimiter, then only spaces and tabs, then the line ending
    (``linesep``, None on a last line without one).
    """
    if not line.startswith(sep):
        return None
    rest = line[len(sep) :]
    close = rest.startswith("--")
    if close:
        rest = rest[2:]
    body = rest.rstrip("\r\n")
    if body.strip(" \t"):
        return None
    return close, rest[len(body) :] or None


class Cursor:
    """FeedParser's BufferedSubFile over one string: a position, pushed-back lines, false EOFs.

    ``stops`` is the stack of false-EOF predicates: a separator string (the line is a delimiter
    of that boundary, see :func:`boundary_delimiter`) or None (the line is blank).
    """

    __slots__ = (
        "_blank",
        "_found",
        "_read",
        "_read_end",
        "back",
        "end",
        "plain",
        "pos",
        "stops",
        "text",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.end = len(text)
        #: lines pushed back (unreadline); the next one to read is last
        self.back: list[str] = []
        self.stops: list[str | None] = []
        #: separator -> (searched from, first delimiter line at or after it, or end)
        self._found: dict[str, tuple[int, int]] = {}
        #: the same for blank lines
        self._blank = (-1, -1)
        #: the line readline() just took from the text (pos is right after it), if any
        self._read: str | None = None
        self._read_end = -1
        self.plain = not any(char in text for char in _OTHER_BREAKS)

    def at_stop(self, line: str) -> bool:
        first = line[:1]
        if first == "-":  # only a "--..." line can be a delimiter
            return any(stop is not None and boundary_delimiter(line, stop) for stop in self.stops)
        return first in ("\r", "\n") and None in self.stops  # NLCRE.match: a blank line

    def readline(self) -> str:
        """The next line, or "" at the end or at a false EOF (that line stays unread)."""
        if self.back:
            line = self.back.pop()
            if self.stops and self.at_stop(line):
                self.back.append(line)
                return ""
            return line
        pos = self.pos
        if pos >= self.end:
            return ""
        found = NL_RE.search(self.text, pos)
        nxt = found.end() if found is not None else self.end
        line = self.text[pos:nxt]
        if self.stops and self.at_stop(line):
            return ""
        self.pos = self._read_end = nxt
        self._read = line
        return line

    def unread(self, line: str) -> None:
        """Push ``line`` back; the line just read from the text is simply read again."""
        if line is self._read and self.pos == self._read_end and not self.back:
            self.pos -= len(line)
            self._read = None
        else:
            self.back.append(line)

    def _next_delimiter(self, sep: str, pos: int) -> int:
        """Start of the first delimiter line of ``sep`` at or after line start ``pos``."""
        hit = self._found.get(sep)
        if hit is not None and hit[0] <= pos <= hit[1]:  # each stretch of text searched once
            return hit[1]
        text = self.text
        k = pos
        while True:
            k = text.find(sep, k)
            if k < 0:
                found = self.end
                break
            if k == pos or text[k - 1] in "\r\n":
                eol = NL_RE.search(text, k)
                line = text[k : eol.end()] if eol is not None else text[k:]
                if boundary_delimiter(line, sep) is not None:
                    found = k
                    break
            k += 1
        self._found[sep] = (pos, found)
        return found

    def _next_blank(self, pos: int) -> int:
        """Start of the first blank line at or after line start ``pos``."""
        hit = self._blank
        if hit[0] <= pos <= hit[1]:  # remembered: each stretch of text is searched once
            return hit[1]
        if pos < self.end and self.text[pos] in "\r\n":
            found = pos
        else:
            blank = _BLANK_AFTER.search(self.text, pos)
            found = blank.end() - 1 if blank is not None else self.end
        self._blank = (pos, found)
        return found

    def next_stop(self, sep: str | None = None) -> int:
        """Start of the first line at or after ``pos`` that a stop (or ``sep``) matches."""
        pos = self.pos
        best = self.end
        for stop in self.stops:
            k = self._next_blank(pos) if stop is None else self._next_delimiter(stop, pos)
            best = min(best, k)
        if sep is not None:
            best = min(best, self._next_delimiter(sep, pos))
        return best

    def take_rest(self) -> list[str]:
        """FeedParser's ``for line in self._input``: every line up to the (false) EOF.

        Returned as chunks: pushed-back lines one by one, then one slice of the text.
        """
        chunks: list[str] = []
        back = self.back
        while back:
            line = back.pop()
            if not line:  # a pushed-back "" reads as the end, and is consumed
                return chunks
            if self.stops and self.at_stop(line):
                back.append(line)
                return chunks
            chunks.append(line)
        stop = self.next_stop()
        if stop > self.pos:
            chunks.append(self.text[self.pos : stop])
            self.pos = stop
        return chunks

    def take_header_run(self) -> tuple[str, bool]:
        """The run of header-looking lines at ``pos`` (no pushed-back lines pending).

        Returns the run (whole lines) and whether a false EOF cut it short.
        """
        pos = self.pos
        block = _HEADER_BLOCK.match(self.text, pos)
        stop = block.end() if block is not None else pos
        stopped = False
        if stop > pos and self.stops:
            first_stop = self.next_stop()
            if first_stop < stop:
                stop, stopped = first_stop, True
        self.pos = stop
        return self.text[pos:stop], stopped

    def split_lines(self, run: str) -> list[str]:
        return run.splitlines(True) if self.plain else _LINE.findall(run)
