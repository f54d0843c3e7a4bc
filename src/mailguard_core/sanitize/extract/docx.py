"""Word (OOXML ``.docx``) text with hidden runs removed, read with zipfile and lxml.

The main document part (``word/document.xml``) is read in document order: paragraphs,
tables, text boxes, hyperlinks, inserted revisions. ``mc:Fallback`` copies, deleted revisions
and field instructions are not text a reader sees and are skipped silently. Headers, footers,
footnotes and comments are not read.

A run is hidden, and removed, when its effective properties (document defaults, then the
paragraph style chain, then the character style chain, then the run's own ``w:rPr``) say:

- ``vanish``: ``w:vanish`` or ``w:webHidden`` ("hidden text" in Word);
- ``colour_matches_background``: its colour is within :data:`MIN_CONTRAST` of the
  background behind it (run shading or highlight, else paragraph shading, else table cell
  shading, else the page background, else white);
- ``tiny_text``: its size is under :data:`MIN_SIZE_PT` points.

The zip is read defensively: at most :data:`MAX_ENTRIES` entries, every part read through a
bounded stream (a zip bomb stops at ``max_xml_bytes``), XML parsed without DTDs, entities or
network, with lxml's depth and size limits.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from lxml import etree

from mailguard_core.model.errors import AttachmentUnreadable, ExtractionLimitExceeded
from mailguard_core.sanitize.extract import Extracted, ExtractLimits

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
MIN_SIZE_PT = 4.0
MIN_CONTRAST = 40
MAX_ENTRIES = 5_000
_MAX_STYLE_CHAIN = 20
_WHITE = (255, 255, 255)
#: Word's highlight colour names (ST_HighlightColor)
_HIGHLIGHT = {
    "black": (0, 0, 0), "blue": (0, 0, 255), "cyan": (0, 255, 255), "green": (0, 255, 0),
    "magenta": (255, 0, 255), "red": (255, 0, 0), "yellow": (255, 255, 0),
    "white": (255, 255, 255), "darkBlue": (0, 0, 128), "darkCyan": (0, 128, 128),
    "darkGreen": (0, 128, 0), "darkMagenta": (128, 0, 128), "darkRed": (128, 0, 0),
    "darkYellow": (128, 128, 0), "darkGray": (128, 128, 128), "lightGray": (192, 192, 192),
}  # fmt: skip
_SKIP = frozenset({f"{W}delText", f"{W}instrText", f"{W}rPr", f"{W}pPr"})

RGB = tuple[int, int, int]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )  # fmt: skip


def read_part(zf: zipfile.ZipFile, name: str, max_bytes: int) -> bytes | None:
    """A zip member, decompressed through a bounded stream (never more than ``max_bytes``)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > max_bytes:
        raise ExtractionLimitExceeded(f"{name}: {info.file_size} bytes declared > {max_bytes}")
    with zf.open(info) as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ExtractionLimitExceeded(f"{name}: over {max_bytes} bytes decompressed")
    return data


def open_zip(data: bytes) -> zipfile.ZipFile:
    """A zip archive with a bounded number of entries."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise AttachmentUnreadable(f"zip: {type(exc).__name__}") from None
    if len(zf.infolist()) > MAX_ENTRIES:
        raise ExtractionLimitExceeded(f"zip with {len(zf.infolist())} entries")
    return zf


def parse_xml(data: bytes, name: str) -> Any:
    """Parse one XML part safely."""
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise AttachmentUnreadable(f"{name}: XML error {str(exc)[:120]}") from None


def _color(value: str | None) -> RGB | None:
    if not value or len(value) != 6:
        return None
    try:
        n = int(value, 16)
    except ValueError:
        return None
    return (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF


def _on(el: Any) -> bool | None:
    """A toggle property: None when absent."""
    if el is None:
        return None
    return el.get(f"{W}val", "true").lower() not in ("0", "false", "off", "none")


class _Props:
    """The run properties that decide visibility; None means "not set here"."""

    __slots__ = ("color", "shade", "size", "vanish")

    def __init__(self) -> None:
        self.vanish: bool | None = None
        self.color: RGB | None = None
        self.size: float | None = None
        self.shade: RGB | None = None

    @classmethod
    def of(cls, rpr: Any) -> _Props:
        props = cls()
        if rpr is None:
            return props
        vanish = _on(rpr.find(f"{W}vanish"))
        web = _on(rpr.find(f"{W}webHidden"))
        if vanish is not None or web is not None:
            props.vanish = bool(vanish) or bool(web)
        color = rpr.find(f"{W}color")
        if color is not None:
            props.color = _color(color.get(f"{W}val"))
        size = rpr.find(f"{W}sz")
        if size is not None:
            try:
                props.size = int(size.get(f"{W}val", "")) / 2
            except ValueError:
                props.size = None
        highlight = rpr.find(f"{W}highlight")
        if highlight is not None and highlight.get(f"{W}val") in _HIGHLIGHT:
            props.shade = _HIGHLIGHT[highlight.get(f"{W}val", "")]
        shd = rpr.find(f"{W}shd")
        if shd is not None and props.shade is None:
            props.shade = _color(shd.get(f"{W}fill"))
        return props

    def over(self, base: _Props) -> _Props:
        """These properties laid over ``base``."""
        merged = _Props()
        for slot in self.__slots__:
            mine = getattr(self, slot)
            setattr(merged, slot, mine if mine is not None else getattr(base, slot))
        return merged


class _Styles:
    def __init__(self, root: Any) -> None:
        self.by_id: dict[str, tuple[str | None, _Props]] = {}
        self.default = _Props()
        if root is None:
            return
        default = root.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
        self.default = _Props.of(default)
        for style in root.iter(f"{W}style"):
            sid = style.get(f"{W}styleId")
            if not sid:
                continue
            based = style.find(f"{W}basedOn")
            parent = based.get(f"{W}val") if based is not None else None
            self.by_id[sid] = (parent, _Props.of(style.find(f"{W}rPr")))

    def chain(self, sid: str | None) -> _Props:
        """A style's run properties with its ``basedOn`` ancestors beneath (cycles cut)."""
        layers: list[_Props] = []
        seen: set[str] = set()
        while sid and sid not in seen and len(layers) < _MAX_STYLE_CHAIN:
            seen.add(sid)
            entry = self.by_id.get(sid)
            if entry is None:
                break
            sid, props = entry
            layers.append(props)
        result = _Props()
        for props in reversed(layers):
            result = props.over(result)
        return result


def _contrast(a: RGB, b: RGB) -> int:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def extract_docx(data: bytes, limits: ExtractLimits) -> Extracted:
    """The visible text of a Word document (see the module docstring).

    Raises:
        AttachmentUnreadable: not a zip, no ``word/document.xml``, or XML that does not parse.
        ExtractionLimitExceeded: too many entries or a part over ``max_xml_bytes``.
    """
    out = Extracted(extractor=f"docx lxml {etree.__version__}")
    with open_zip(data) as zf:
        doc_bytes = read_part(zf, "word/document.xml", limits.max_xml_bytes)
        if doc_bytes is None:
            raise AttachmentUnreadable("no word/document.xml")
        styles_bytes = read_part(zf, "word/styles.xml", limits.max_xml_bytes)
        rels_bytes = read_part(zf, "word/_rels/document.xml.rels", limits.max_xml_bytes)
    root = parse_xml(doc_bytes, "document.xml")
    styles = _Styles(parse_xml(styles_bytes, "styles.xml") if styles_bytes else None)
    rels: dict[str, str] = {}
    if rels_bytes:
        for rel in parse_xml(rels_bytes, "rels").iter(_RELS):
            if rel.get("TargetMode") == "External" and rel.get("Id"):
                rels[rel.get("Id", "")] = rel.get("Target", "")[:2000]
    for fallback in list(root.iter(_MC_FALLBACK)):
        parent = fallback.getparent()
        if parent is not None:
            parent.remove(fallback)
    page = _WHITE
    background = root.find(f"{W}background")
    if background is not None:
        page = _color(background.get(f"{W}color")) or _WHITE
    body = root.find(f"{W}body")
    if body is None:
        return out
    _Walker(out, styles, rels, page, limits.max_chars).run(body)
    return out


class _Walker:
    def __init__(
        self, out: Extracted, styles: _Styles, rels: dict[str, str], page: RGB, max_chars: int
    ) -> None:
        self.out = out
        self.styles = styles
        self.rels = rels
        self.page = page
        self.max_chars = max_chars
        self.pieces: list[str] = []
        self.size = 0
        self.para_cache: dict[int, tuple[_Props, RGB | None]] = {}

    def run(self, body: Any) -> None:
        for el in self._elements(body):
            if self.size > self.max_chars:
                self.out.truncated = True
                break
            tag = el.tag
            if tag == f"{W}p":
                self._emit("\n")
            elif tag == f"{W}r":
                self._run(el)
            elif tag == f"{W}tc":
                self._emit("\t")
        text = "".join(self.pieces)
        lines = [line.rstrip() for line in text.split("\n")]
        self.out.text = "\n".join(lines).strip("\n")

    def _elements(self, body: Any) -> Iterator[Any]:
        for _event, el in etree.iterwalk(body, events=("start",)):
            if isinstance(el.tag, str):
                yield el

    def _emit(self, text: str) -> None:
        self.pieces.append(text)
        self.size += len(text)

    def _paragraph(self, run: Any) -> tuple[_Props, RGB | None]:
        el = run.getparent()
        while el is not None and el.tag != f"{W}p":
            el = el.getparent()
        if el is None:
            return self.styles.default, None
        key = id(el)
        cached = self.para_cache.get(key)
        if cached is not None:
            return cached
        ppr = el.find(f"{W}pPr")
        style = None
        shade: RGB | None = None
        if ppr is not None:
            pstyle = ppr.find(f"{W}pStyle")
            style = pstyle.get(f"{W}val") if pstyle is not None else None
            shd = ppr.find(f"{W}shd")
            shade = _color(shd.get(f"{W}fill")) if shd is not None else None
        if shade is None:
            cell = el.getparent()
            while cell is not None and cell.tag != f"{W}tc":
                cell = cell.getparent()
            if cell is not None:
                shd = cell.find(f"{W}tcPr/{W}shd")
                shade = _color(shd.get(f"{W}fill")) if shd is not None else None
        props = self.styles.chain(style).over(self.styles.default)
        self.para_cache[key] = (props, shade)
        return props, shade

    def _run(self, run: Any) -> None:
        texts: list[str] = []
        for child in run:
            tag = child.tag
            if tag == f"{W}t":
                texts.append(child.text or "")
            elif tag == f"{W}tab":
                texts.append("\t")
            elif tag in (f"{W}br", f"{W}cr"):
                texts.append("\n")
            elif tag == f"{W}noBreakHyphen":
                texts.append("-")
        text = "".join(texts)
        if not text:
            return
        para, para_shade = self._paragraph(run)
        rpr = run.find(f"{W}rPr")
        style = None
        if rpr is not None:
            rstyle = rpr.find(f"{W}rStyle")
            style = rstyle.get(f"{W}val") if rstyle is not None else None
        props = _Props.of(rpr).over(self.styles.chain(style).over(para))
        method = self._method(props, para_shade)
        if method is not None:
            if text.strip():
                self.out.hide(method, text)
            return
        self._emit(text)
        parent = run.getparent()
        if parent is not None and parent.tag == f"{W}hyperlink":
            href = self.rels.get(parent.get(f"{_R}id", ""), "")
            if href and len(self.out.links) < 1_000:
                self.out.links.append((href, text))

    def _method(self, props: _Props, para_shade: RGB | None) -> str | None:
        if props.vanish:
            return "vanish"
        if props.size is not None and props.size < MIN_SIZE_PT:
            return "tiny_text"
        if props.color is not None:
            behind = props.shade or para_shade or self.page
            if _contrast(props.color, behind) < MIN_CONTRAST:
                return "colour_matches_background"
        return None
