"""HTML body: remove hidden and active content, extract visible text, clean returned HTML."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any

import attrs
import nh3
from lxml import etree

from mailguard_core.sanitize import css, hidden
from mailguard_core.sanitize.conditionals import strip_conditionals
from mailguard_core.sanitize.walk import walk
from mailguard_core.sanitize.warnings import WarningCollector

_ACTIVE = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet"})
_FORM = frozenset({"form", "input", "button", "select", "textarea"})
_DROP_SILENT = frozenset({"style", "meta", "link", "base"})
_XML_BAD_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: the control characters of _XML_BAD_RE, as bytes (UTF-8 encodes them as themselves)
_XML_BAD_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_XML_BAD_CHARS = tuple(_XML_BAD_BYTES.decode("ascii"))
_REMOTE_RE = re.compile(r"^\s*(?:https?:)?//", re.I)
_PREHEADER_CHARS = 300
#: elements x style-sheet rules past which a part's cascade is not computed (fail closed)
CSS_WORK_LIMIT = 2_000_000

#: comments and <head>/<title> are markup no client shows: removed always, but warned about
#: only when the removed text reads like instructions to an agent
_QUIET_METHODS = frozenset({"comment", "head"})


@attrs.frozen
class Link:
    href: str
    text: str


@attrs.define
class HtmlResult:
    text: str
    links: list[Link]
    clean_html: str | None


_CLEAN_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"img", "map", "area"}


def _cleaner_attributes() -> dict[str, set[str]]:
    attributes = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items() if k in _CLEAN_TAGS}
    attributes.setdefault("a", set()).update({"href", "title"})
    return attributes


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(_CLEAN_TAGS),
        attributes=_cleaner_attributes(),
        url_schemes={"http", "https", "mailto"},
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )


#: attributes nh3's default generic attributes allow on every tag
_GENERIC_ATTRIBUTES = frozenset({"lang", "title"})


def _allowed_attributes() -> frozenset[str]:
    """Every attribute name ``_cleaner`` keeps on some tag."""
    return frozenset().union(_GENERIC_ATTRIBUTES, *_cleaner_attributes().values())


#: frequent attributes of mail that ``_cleaner`` keeps on no tag: removing them before
#: serializing changes nothing nh3 returns, and leaves less to serialize and parse again
#: (``tests/property/test_html_fast_paths.py`` compares both)
_UNCLEAN_ATTRIBUTES = tuple(
    name
    for name in (
        "style", "class", "id", "bgcolor", "background", "cellpadding", "cellspacing", "border",
        "role", "valign", "face", "color", "target", "bordercolor", "name", "rel",
    )
    if name not in _allowed_attributes()
)  # fmt: skip


def _is_substantive(text: str, flagged: Callable[[str], bool]) -> bool:
    """Some non-whitespace text that the detector flags.

    ``not text.isspace()`` is ``bool(text.split())`` for non-empty text (both use Unicode
    whitespace) without building the list of words of what can be a megabyte of <title>.
    """
    return bool(text) and not text.isspace() and flagged(text)


class _Hidden:
    """Collects removed hidden text per method and turns it into warnings."""

    def __init__(self) -> None:
        self.by_method: dict[str, list[tuple[str, Any]]] = {}

    def __call__(self, method: str, text: str, el: Any) -> None:
        if text.strip():
            self.by_method.setdefault(method, []).append((text, el))


def has_xml_bad_chars(source: str) -> bool:
    """True if ``source`` holds a character libxml2 cannot take (``_XML_BAD_RE``).

    Same answer as ``_XML_BAD_RE.search``, several times faster: the string is encoded to UTF-8
    (which fails on lone surrogates), control characters are looked for with
    ``bytes.translate`` (UTF-8 never uses bytes below 0x80 inside a multi-byte character) and
    U+FFFE/U+FFFF by their encodings (0xEF only ever starts a character). ASCII text (most
    mail) can only hold the control characters, looked for one by one (``in`` is a memchr).
    """
    if source.isascii():
        return any(c in source for c in _XML_BAD_CHARS)
    try:
        data = source.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return (
        len(data.translate(None, _XML_BAD_BYTES)) != len(data)
        or b"\xef\xbf\xbe" in data
        or b"\xef\xbf\xbf" in data
    )


_local = threading.local()


def _parser() -> Any:
    """This thread's HTML parser (making one per body costs more than small bodies' parse)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.HTMLParser(
            no_network=True, huge_tree=True, remove_comments=False
        )
    return parser


def _parse(source: str) -> Any:
    """Parse HTML with libxml2 (plain etree elements: no Python class lookup per element)."""
    parser = _parser()
    try:
        root = etree.fromstring(source, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return root


_SCRIPT_SCHEMES = ("javascript:", "vbscript:")
_REMOVE_TAGS = frozenset({"style", "template", "head", "title", *_ACTIVE, *_DROP_SILENT})
_COMMENT_TAGS = (etree.Comment, etree.ProcessingInstruction)


def _prepass(doc: Any) -> tuple[dict[str, list[str]], int, int, int]:
    """Count active/remote content, drop what no client renders.

    Counted over the whole tree as parsed, in one pass: elements with an ``on*`` event handler
    and ``javascript:``/``vbscript:`` links or form actions (active content), form controls,
    and remote content (an ``<img>`` with a remote ``src``, a ``style`` with ``url(``, a
    ``background`` attribute, a ``<link rel=stylesheet>``).
    """
    active = remote = forms = 0
    comments: list[Any] = []
    removable: list[Any] = []
    closed: list[Any] = []
    # Attributes are counted in the whole document: the parser can leave elements beside the
    # root element (``<html></html><img ...>``). Everything else looks below the root only.
    for top in (*doc.itersiblings(preceding=True), doc, *doc.itersiblings()):
        main = top is doc
        for el in top.iter():
            tag = el.tag
            if not isinstance(tag, str):
                if main and tag in _COMMENT_TAGS:
                    comments.append(el)
                continue
            if main:
                if tag in _FORM:
                    forms += 1
                elif tag in _REMOVE_TAGS:
                    removable.append(el)
                elif tag == "details" and el.get("open") is None:
                    closed.append(el)
            handler = False
            for name, value in el.items():
                if name.startswith("on"):
                    handler = True
                elif name == "href" or name == "action":
                    active += "".join(value.split()).lower().startswith(_SCRIPT_SCHEMES)
                elif name == "style":
                    remote += "url(" in value
                elif name == "background":
                    remote += 1
                elif name == "src":
                    remote += tag == "img" and bool(_REMOTE_RE.match(value))
                elif name == "rel":
                    remote += tag == "link" and "stylesheet" in value.lower()
            active += handler
    quiet: dict[str, list[str]] = {}
    for el in comments:
        text = strip_conditionals(el.text or "")
        if text.strip() and "<" not in text:
            quiet.setdefault("comment", []).append(text)
        hidden.drop_keep_tail(el)
    for el in removable:
        tag = el.tag
        if tag in _ACTIVE:
            active += 1
        elif tag == "template":
            text = hidden.text_of(el)
            if text.strip():
                quiet.setdefault("template", []).append(text)
        elif tag == "title" and (el.text or "").strip():
            # browsers never render <head> or a <title>, wherever the parser put it; each
            # <title> is read once, as itself (also when it is inside a <head>, which is
            # dropped with it: reading the head's titles too counted each twice)
            quiet.setdefault("head", []).append(el.text or "")
        if el is not doc:
            hidden.drop_keep_tail(el)
    for el in closed:
        text = _close_details(el)
        if text.strip():
            quiet.setdefault("details_closed", []).append(text)
    return quiet, active, forms, remote


def _close_details(el: Any) -> str:
    """Remove what a closed ``<details>`` does not show (all but its first ``<summary>``)
    and return that text."""
    summary = next((c for c in el if c.tag == "summary"), None)
    parts = [el.text or ""]
    el.text = None
    for child in list(el):
        if summary is None or child is not summary:
            if isinstance(child.tag, str):
                parts.append(hidden.text_of(child))
            parts.append(child.tail or "")
            el.remove(child)
        else:
            parts.append(child.tail or "")
            summary.tail = None
    return "".join(parts)


def process_html(
    source: str,
    *,
    location: str,
    warnings: WarningCollector,
    flagged: Callable[[str], bool],
    want_html: bool,
) -> HtmlResult:
    """Run the HTML stages over one HTML body and return its visible text and clean HTML."""
    if has_xml_bad_chars(source):
        source = _XML_BAD_RE.sub("", source)
    if not source.strip():
        return HtmlResult(text="", links=[], clean_html="" if want_html else None)
    doc = _parse(source)
    if doc is None:
        return HtmlResult(text="", links=[], clean_html="" if want_html else None)
    _insert_tbody(doc)
    index = css.style_index([el.text or "" for el in doc.iter("style")])
    if index.size and index.size * sum(1 for _ in doc.iter()) > CSS_WORK_LIMIT:
        # Every rule is evaluated over the document: a document padded with both would cost
        # minutes. What its sheets hide cannot be known cheaply, so nothing of the part is
        # shown (fail closed) and the limit is named.
        quiet, active, forms, remote = _prepass(doc)
        warnings.add("mime_limit_exceeded", location, {"limit": "css_work"})
        _count_removed(warnings, location, active, forms, remote)
        return HtmlResult(text="", links=[], clean_html="" if want_html else None)
    # selectors see the document as parsed, as a browser's do (before anything is removed)
    matched = index.match(doc)
    quiet, active, forms, remote = _prepass(doc)
    collector = _Hidden()
    walked = walk(doc, matched, collector)
    if matched.unsupported or walked.undecidable:
        count = matched.unsupported + walked.undecidable
        warnings.add("html_css_undecidable", location, {"count": count})
    for method, texts in quiet.items():
        for text in texts:
            collector(method, text, None)
    _emit_hidden(collector, warnings, location, flagged, walked.preheader)
    _count_removed(warnings, location, active, forms, remote)
    clean_html = None
    if want_html:
        body = doc.find("body")  # again: a hidden <body> was removed with everything in it
        if body is None:
            body = doc
        # attributes the cleaner drops anyway are dropped first, in C: less to serialize and
        # for nh3 to parse again (same output, see _UNCLEAN_ATTRIBUTES)
        etree.strip_attributes(body, *_UNCLEAN_ATTRIBUTES)
        clean_html = _cleaner().clean(etree.tostring(body, method="html", encoding="unicode"))
    links = [Link(href=href, text=text) for href, text in walked.links]
    return HtmlResult(text=walked.text, links=links, clean_html=clean_html)


def _count_removed(
    warnings: WarningCollector, location: str, active: int, forms: int, remote: int
) -> None:
    """The counted warnings for what the prepass removed."""
    warnings.count("html_script_removed", location, active)
    warnings.count("html_form_removed", location, forms)
    warnings.count("html_remote_content_removed", location, remote)


def _insert_tbody(doc: Any) -> None:
    """Wrap table rows that are direct children of a ``<table>`` in a ``<tbody>``, as an HTML5
    parser does (libxml2 does not): selectors such as ``tbody td`` must match as in a browser."""
    for table in css.cached_xpath("//table[tr]")(doc):
        body: Any = None
        for child in list(table):
            if child.tag == "tr":
                if body is None:
                    # made in the table's own document: moving it into place is then cheap
                    body = etree.SubElement(table, "tbody")
                    child.addprevious(body)
                body.append(child)  # moves the row with its tail
            elif child.tag in ("tbody", "thead", "tfoot"):
                body = None


def _emit_hidden(
    collector: _Hidden,
    warnings: WarningCollector,
    location: str,
    flagged: Callable[[str], bool],
    preheader: Any,
) -> None:
    for method, items in collector.by_method.items():
        all_text = " ".join(t for t, _ in items)
        if method in _QUIET_METHODS and not _is_substantive(all_text, flagged):
            continue
        detail: dict[str, Any] = {"method": method, "count": len(items)}
        severity: Any = None
        el = items[0][1]
        if (
            len(items) == 1
            and el is not None
            and el is preheader
            and len(all_text.strip()) <= _PREHEADER_CHARS
            and not flagged(all_text)
        ):
            detail["preheader"] = True
            severity = "informational"
        warnings.add("html_hidden_content_removed", location, detail, severity=severity)
