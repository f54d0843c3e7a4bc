"""PDF text with hidden text removed, through pdfium (Chromium's PDF engine, via pypdfium2).

Every character of pdfium's text page is checked; a character is hidden, and removed, when:

- ``invisible_render_mode``: its text object draws neither fill nor stroke (render mode 3,
  or 7 = clip only), which is also how OCR layers over scanned images are made;
- ``transparent``: its fill colour has alpha 0;
- ``tiny_text``: its loose glyph box (font ascent to descent, after every transformation)
  is under :data:`MIN_GLYPH_PT` points tall and wide;
- ``off_page``: its box lies wholly outside the page's crop box;
- ``no_contrast``: the page as pdfium renders it shows nothing inside the character's box:
  every pixel there is within :data:`MIN_CONTRAST` of every other. This one test covers
  white or near-white text on white, text in the background colour of a coloured box, text
  clipped away by a clipping path and text painted over by an opaque rectangle or image;
  the warning's method says ``colour_matches_background`` when the character's own fill
  colour is that of the box, else ``covered_or_clipped``.

The rendering is the oracle: what pdfium paints is what a reader of the PDF sees. Known
limits (docs/sanitizer.md): invisible text laid over other visible text, and text whose
colour differs from its background only in hue at equal lightness, are judged by the pixels
of that spot.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

from mailguard_core.errors import AttachmentUnreadable
from mailguard_core.sanitize.extract import Extracted, ExtractLimits

#: glyph boxes smaller than this (points, both ways) are unreadable
MIN_GLYPH_PT = 4.0
#: the smallest difference (0-255, any channel) between pixels of a box that counts as ink
MIN_CONTRAST = 40
#: pixels per rendered page at most (the render scale drops for large pages)
MAX_RENDER_PIXELS = 4_000_000
_RENDER_SCALE = 2.0
_INVISIBLE_MODES = frozenset({3, 7})


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

    def spread(self, box: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        """The largest per-channel difference between pixels in ``box``, and one pixel."""
        xa, ya, xb, yb = box
        n = self.channels
        lows = [255] * n
        highs = [0] * n
        for y in range(ya, yb):
            start = y * self.stride
            row = self.buf[start + xa * n : start + xb * n]
            for c in range(n):
                channel = row[c::n]
                lows[c] = min(lows[c], min(channel))
                highs[c] = max(highs[c], max(channel))
        return max(h - lo for h, lo in zip(highs, lows, strict=True)), tuple(lows)


def _page_text(page: Any, out: Extracted, budget: int) -> str:
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        handle = textpage.raw
        count = raw.FPDFText_CountChars(handle)
        if count <= 0:
            return ""
        pixels = _Pixels(page)
        crop = page.get_cropbox()
        rect = raw.FS_RECTF()
        red, green, blue, alpha = (ctypes.c_uint() for _ in range(4))
        chars: list[str] = []
        runs: dict[str, list[str]] = {}
        last_hidden: dict[str, int] = {}
        modes: dict[int, int] = {}
        visible = 0
        for i in range(count):
            code = raw.FPDFText_GetUnicode(handle, i)
            if not 0 < code < 0x110000 or 0xD800 <= code <= 0xDFFF:
                continue
            ch = chr(code)
            if ch.isspace() or raw.FPDFText_IsGenerated(handle, i) == 1:
                chars.append(ch)
                continue
            method = _hidden_method(
                raw, handle, i, pixels, crop, rect, (red, green, blue, alpha), modes
            )
            if method is None:
                chars.append(ch)
                visible += 1
                if visible > budget:
                    break
                continue
            run = runs.setdefault(method, [])
            if last_hidden.get(method, -2) != i - 1 and run:
                run.append(" ")
            run.append(ch)
            last_hidden[method] = i
        for method, run in runs.items():
            out.hide(method, "".join(run), count=len(run) - run.count(" "))
        return _tidy("".join(chars))
    finally:
        textpage.close()


def _hidden_method(
    raw: Any,
    handle: Any,
    i: int,
    pixels: _Pixels,
    crop: tuple[float, float, float, float],
    rect: Any,
    color: tuple[ctypes.c_uint, ...],
    modes: dict[int, int],
) -> str | None:
    obj = raw.FPDFText_GetTextObject(handle, i)
    if obj:
        key = ctypes.cast(obj, ctypes.c_void_p).value or 0
        mode = modes.get(key)
        if mode is None:
            mode = modes[key] = int(raw.FPDFTextObj_GetTextRenderMode(obj))
        if mode in _INVISIBLE_MODES:
            return "invisible_render_mode"
    red, green, blue, alpha = color
    has_color = raw.FPDFText_GetFillColor(
        handle, i, ctypes.byref(red), ctypes.byref(green), ctypes.byref(blue), ctypes.byref(alpha)
    )
    if has_color and alpha.value == 0:
        return "transparent"
    if not raw.FPDFText_GetLooseCharBox(handle, i, ctypes.byref(rect)):
        return "off_page"
    left, right = sorted((float(rect.left), float(rect.right)))
    bottom, top = sorted((float(rect.bottom), float(rect.top)))
    if max(right - left, top - bottom) < MIN_GLYPH_PT:
        return "tiny_text"
    c_left, c_bottom, c_right, c_top = crop
    if right <= c_left or left >= c_right or top <= c_bottom or bottom >= c_top:
        return "off_page"
    # a margin inside the box: the ink of a neighbouring glyph must not count for this one
    dx = (right - left) * 0.15
    dy = (top - bottom) * 0.08
    box = pixels.box(left + dx, bottom + dy, right - dx, top - dy)
    if box[0] >= box[2] or box[1] >= box[3]:
        return "off_page"
    spread, pixel = pixels.spread(box)
    if spread >= MIN_CONTRAST:
        return None
    if has_color and len(pixel) >= 3:
        fill = (red.value, green.value, blue.value)
        if max(abs(a - b) for a, b in zip(fill, pixel[:3], strict=True)) < MIN_CONTRAST:
            return "colour_matches_background"
    return "covered_or_clipped"


def _tidy(text: str) -> str:
    """pdfium's line ends as newlines, runs of spaces left by removed text collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
