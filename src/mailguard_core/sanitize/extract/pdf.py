"""PDF text with hidden text removed, through pdfium (Chromium's PDF engine, via pypdfium2).

Every character of pdfium's text page is checked; a character is hidden, and removed, when:

- ``invisible_render_mode``: its text object draws neither fill nor stroke (render mode 3,
  or 7 = clip only), which is also how OCR layers over scanned images are made;
- ``transparent``: its fill colour has alpha 0;
- ``tiny_text``: its loose glyph box (font ascent to descent, after every transformation)
  is under :data:`MIN_GLYPH_PT` points tall and wide;
- ``off_page``: its box lies wholly outside the page's crop box;
- no contrast: the page as pdfium renders it shows nothing inside the box of the
  character's segment (a run of non-space characters of one text object on one line): every
  pixel there is within :data:`MIN_CONTRAST` of the box's first pixel. This one test covers
  white or near-white text on white, text in the background colour of a coloured box, text
  clipped away by a clipping path and text painted over by an opaque rectangle or image;
  the warning's method says ``colour_matches_background`` when the character's own fill
  colour is that of the box, else ``covered_or_clipped``.

The rendering is the oracle: what pdfium paints is what a reader of the PDF sees. Known
limits (docs/sanitizer.md): invisible text laid over other visible text is judged by the pixels
of that spot.
"""

from __future__ import annotations

import ctypes
import math
import re
from typing import Any

from mailguard_core.model.errors import AttachmentUnreadable
from mailguard_core.sanitize.extract import Extracted, ExtractLimits

#: glyph boxes smaller than this (points, both ways) are unreadable
MIN_GLYPH_PT = 4.0
#: the smallest difference (0-255, any channel) from a box's first pixel that counts as ink
MIN_CONTRAST = 32
#: per value v, a bytes.translate table marking (1) the values at least MIN_CONTRAST from v
_FAR = [bytes(1 if abs(x - v) >= MIN_CONTRAST else 0 for x in range(256)) for v in range(256)]
#: pixels per rendered page at most (the render scale drops for large pages)
MAX_RENDER_PIXELS = 4_000_000
_RENDER_SCALE = 2.0
_INVISIBLE_MODES = frozenset({3, 7})
#: pdfium's parser stops at this nesting depth of arrays and dictionaries
#: (``kParserMaxRecursionDepth`` in core/fpdfapi/parser/cpdf_syntax_parser.cpp) and drops what
#: lies deeper without an error; a file nested deeper may therefore not be read whole
PDFIUM_MAX_DEPTH = 64
_TOKEN = re.compile(rb"<<|>>|[\[\]()%]|\bstream\b")
_STRING_TOKEN = re.compile(rb"[()\\]")
_NEWLINE = re.compile(rb"[\r\n]")


def extract_pdf(data: bytes, limits: ExtractLimits) -> Extracted:
    """The visible text of a PDF (see the module docstring for what counts as hidden).

    Raises:
        AttachmentUnreadable: pdfium cannot open it (damaged, encrypted, not a PDF).
    """
    import pypdfium2 as pdfium

    out = Extracted(extractor=f"pdfium {pdfium.PDFIUM_INFO.build}")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise AttachmentUnreadable(f"pdfium: {str(exc)[:200]}") from None
    try:
        if nesting_depth(data, stop_above=PDFIUM_MAX_DEPTH) > PDFIUM_MAX_DEPTH:
            out.limits_hit.append("pdf_nesting_depth")
        count = len(pdf)
        out.pages = count
        if count > limits.max_pages:
            out.limits_hit.append("max_pages")
        pieces: list[str] = []
        total = 0
        for index in range(min(count, limits.max_pages)):
            page = pdf[index]
            try:
                text = _page_text(page, out, limits.max_chars - total + 1)
            finally:
                page.close()
            pieces.append(text)
            total += len(text) + 2
            if total > limits.max_chars:
                out.truncated = index + 1 < count or total > limits.max_chars
                break
        out.text = "\n\n".join(p for p in pieces if p)
    finally:
        pdf.close()
    return out


def nesting_depth(data: bytes, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays and dictionaries in the file's uncompressed syntax
    (returned as soon as it exceeds ``stop_above``, when given).

    One pass over the bytes: literal strings (with escapes and balanced parentheses),
    comments and stream data (``stream`` to ``endstream``) are skipped, so brackets inside
    them do not count. Objects inside compressed object streams are not seen (a known
    limit, docs/sanitizer.md).
    """
    depth = deepest = 0
    pos, end = 0, len(data)
    while pos < end:
        match = _TOKEN.search(data, pos)
        if match is None:
            break
        token = match.group()
        pos = match.end()
        if token in (b"[", b"<<"):
            depth += 1
            deepest = max(deepest, depth)
            if stop_above is not None and deepest > stop_above:
                break
        elif token in (b"]", b">>"):
            depth = max(0, depth - 1)
        elif token == b"%":
            newline = _NEWLINE.search(data, pos)
            pos = end if newline is None else newline.end()
        elif token == b"stream":
            stop = data.find(b"endstream", pos)
            pos = end if stop < 0 else stop + len(b"endstream")
        elif token == b"(":
            pos = _skip_string(data, pos)
    return deepest


def _skip_string(data: bytes, pos: int) -> int:
    """The position after the literal string whose opening parenthesis ends before ``pos``."""
    level = 1
    while level:
        match = _STRING_TOKEN.search(data, pos)
        if match is None:
            return len(data)
        pos = match.end()
        char = match.group()
        if char == b"\\":
            pos += 1
        elif char == b"(":
            level += 1
        else:
            level -= 1
    return pos


class _Pixels:
    """A rendered page and the transform from page space to its pixels."""

    def __init__(self, page: Any) -> None:
        width, height = page.get_size()
        area = max(1.0, float(width) * float(height))
        self.scale = min(_RENDER_SCALE, math.sqrt(MAX_RENDER_PIXELS / area))
        bitmap = page.render(scale=self.scale, rev_byteorder=True, prefer_bgrx=False)
        try:
            self.width = int(bitmap.width)
            self.height = int(bitmap.height)
            self.stride = int(bitmap.stride)
            self.channels = max(1, self.stride // max(1, self.width))
            self.buf = bytes(bitmap.buffer)
            self.conv = bitmap.get_posconv(page)
        finally:
            bitmap.close()

    def box(self, left: float, bottom: float, right: float, top: float) -> tuple[int, ...]:
        """The pixel box of a page-space box, clipped to the bitmap (may be empty)."""
        x0, y0 = self.conv.to_bitmap(left, top)
        x1, y1 = self.conv.to_bitmap(right, bottom)
        xa, xb = sorted((x0, x1))
        ya, yb = sorted((y0, y1))
        xa = max(0, min(self.width, math.floor(xa)))
        xb = max(0, min(self.width, math.ceil(xb)))
        ya = max(0, min(self.height, math.floor(ya)))
        yb = max(0, min(self.height, math.ceil(yb)))
        return xa, ya, xb, yb

    def uniform(self, box: tuple[int, ...]) -> tuple[int, ...] | None:
        """The colour of ``box`` when every pixel in it is within :data:`MIN_CONTRAST` of its
        first pixel in every channel (nothing drawn there shows), else None."""
        xa, ya, xb, yb = box
        n = self.channels
        start, stop, stride = xa * n, xb * n, self.stride
        buf = self.buf
        pixels = b"".join([buf[y * stride + start : y * stride + stop] for y in range(ya, yb)])
        first = tuple(pixels[:n])
        for c in range(n):
            if 1 in pixels[c::n].translate(_FAR[first[c]]):
                return None
        return first


Box = tuple[float, float, float, float]


class _PageReader:
    """One page: characters grouped into segments (a run of non-space characters of one
    text object on one line), each judged once; tiny and off-page judged per character."""

    def __init__(self, raw: Any, handle: Any, page: Any, out: Extracted) -> None:
        self.raw = raw
        self.handle = handle
        self.out = out
        self.pixels = _Pixels(page)
        self.crop = page.get_cropbox()
        self.color = tuple(ctypes.c_uint() for _ in range(4))
        self.modes: dict[int, int] = {}
        self.chars: list[str] = []
        self.visible = 0
        self.runs: dict[str, list[str]] = {}
        self.last_hidden: dict[str, int] = {}
        self.segment: list[tuple[int, str, Box]] = []
        self.segment_obj: Any = None

    def read(self, count: int, budget: int) -> str:
        raw, handle = self.raw, self.handle
        rect = raw.FS_RECTF()
        crop_left, crop_bottom, crop_right, crop_top = self.crop
        for i in range(count):
            code = raw.FPDFText_GetUnicode(handle, i)
            if not 0 < code < 0x110000 or 0xD800 <= code <= 0xDFFF:
                continue
            ch = chr(code)
            if ch.isspace() or raw.FPDFText_IsGenerated(handle, i) == 1:
                self.flush()
                self.chars.append(ch)
                continue
            if not raw.FPDFText_GetLooseCharBox(handle, i, ctypes.byref(rect)):
                self.flush()
                self.hide("off_page", i, ch)
                continue
            left, right = sorted((float(rect.left), float(rect.right)))
            bottom, top = sorted((float(rect.bottom), float(rect.top)))
            if max(right - left, top - bottom) < MIN_GLYPH_PT:
                self.flush()
                self.hide("tiny_text", i, ch)
                continue
            if (
                right <= crop_left or left >= crop_right
                or top <= crop_bottom or bottom >= crop_top
            ):  # fmt: skip
                self.flush()
                self.hide("off_page", i, ch)
                continue
            obj = raw.FPDFText_GetTextObject(handle, i)
            key = ctypes.cast(obj, ctypes.c_void_p).value or 0 if obj else 0
            if self.segment and (
                key != self.segment_obj
                or abs(bottom - self.segment[-1][2][1]) > 0.5 * (top - bottom)
            ):
                self.flush()
            self.segment_obj = key
            self.segment.append((i, ch, (left, bottom, right, top)))
            if self.visible > budget:
                break
        self.flush()
        for method, run in self.runs.items():
            self.out.hide(method, "".join(run), count=len(run) - run.count(" "))
        return _tidy("".join(self.chars))

    def hide(self, method: str, i: int, ch: str) -> None:
        run = self.runs.setdefault(method, [])
        if self.last_hidden.get(method, -2) != i - 1 and run:
            run.append(" ")
        run.append(ch)
        self.last_hidden[method] = i

    def flush(self) -> None:
        if not self.segment:
            return
        method = self._method()
        if method is None:
            self.chars.extend(ch for _, ch, _ in self.segment)
            self.visible += len(self.segment)
        else:
            for i, ch, _ in self.segment:
                self.hide(method, i, ch)
        self.segment = []

    def _method(self) -> str | None:
        raw, handle = self.raw, self.handle
        first = self.segment[0][0]
        obj = raw.FPDFText_GetTextObject(handle, first)
        if obj:
            mode = self.modes.get(self.segment_obj)
            if mode is None:
                mode = self.modes[self.segment_obj] = int(raw.FPDFTextObj_GetTextRenderMode(obj))
            if mode in _INVISIBLE_MODES:
                return "invisible_render_mode"
        red, green, blue, alpha = self.color
        has_color = raw.FPDFText_GetFillColor(
            handle, first, ctypes.byref(red), ctypes.byref(green), ctypes.byref(blue),
            ctypes.byref(alpha),
        )  # fmt: skip
        if has_color and alpha.value == 0:
            return "transparent"
        left = min(b[0] for _, _, b in self.segment)
        bottom = min(b[1] for _, _, b in self.segment)
        right = max(b[2] for _, _, b in self.segment)
        top = max(b[3] for _, _, b in self.segment)
        # a margin inside the box: the ink of a neighbouring glyph must not count for this one
        dx = min((right - left) * 0.15, (top - bottom) * 0.1)
        dy = (top - bottom) * 0.08
        box = self.pixels.box(left + dx, bottom + dy, right - dx, top - dy)
        if box[0] >= box[2] or box[1] >= box[3]:
            return "off_page"
        pixel = self.pixels.uniform(box)
        if pixel is None:
            return None
        if has_color and len(pixel) >= 3:
            fill = (red.value, green.value, blue.value)
            if max(abs(a - b) for a, b in zip(fill, pixel[:3], strict=True)) < MIN_CONTRAST:
                return "colour_matches_background"
        return "covered_or_clipped"


def _page_text(page: Any, out: Extracted, budget: int) -> str:
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        count = raw.FPDFText_CountChars(textpage.raw)
        if count <= 0:
            return ""
        return _PageReader(raw, textpage.raw, page, out).read(count, budget)
    finally:
        textpage.close()


def _tidy(text: str) -> str:
    """pdfium's line ends as newlines, runs of spaces left by removed text collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
