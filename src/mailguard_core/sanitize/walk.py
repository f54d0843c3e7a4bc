"""One pass over a parsed HTML body: remove hidden content and extract the visible text.

Visibility and text extraction used to be two walks (remove, then read what is left). They
are one here, because the second walk only read back what the first had just decided. The
result is the same as the two walks, piece for piece:

- The tree is walked in document order with lxml's C iterator (``iterwalk``), carrying the
  inherited :class:`hidden.State`. An element hidden as a whole is reported, its subtree
  skipped, and it is removed (keeping its tail) at the next event, after the iterator has moved
  past it and before any later element's style is computed: later sibling selectors see the
  tree without it, as before. Text-level hiding clears the element's text and its children's
  tails when the element is entered.
- Text pieces are the element texts and tails as they are *after* removals. Removing an
  element appends its tail to the text before it (the previous sibling's tail, or the parent's
  text), so a piece is held back as ``pending`` until the next element that stays begins or
  ends: a removed element's tail joins the piece it would have joined in the tree. Only then is
  whitespace collapsed (``"a " + " b"`` collapses to one space, as one text node would).
- Text is gathered for the whole document with the span of each ``<body>`` child of the root
  noted; the visible text is the span of the first ``<body>`` that survives, or everything when
  none does (a hidden ``<body>`` leaves only what lies outside it).
- The *preheader* (the first element of the body, in document order, that is hidden as a whole,
  if no text comes before it) is found in the same walk.

``walk`` modifies the tree in place exactly as the removal walk did, so the tree can then be
serialized for ``include_html``.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
from lxml import etree

from mailguard_core.sanitize import css_vars, hidden, style_facts
from mailguard_core.sanitize.css import Matched, is_quirks
from mailguard_core.sanitize.css_declarations import inline_declarations

_PARAGRAPH = [
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dl",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "nav",
    "aside",
    "figure",
    "form",
    "fieldset",
    "address",
    "center",
    "details",
]
_LINE = ["div", "li", "tr", "dt", "dd", "caption", "summary", "figcaption", "body", "html"]
#: the break an element puts before and after itself: 2 a blank line, 1 a line break
_BREAKS: dict[str, int] = {**dict.fromkeys(_PARAGRAPH, 2), **dict.fromkeys(_LINE, 1)}
#: elements whose start emits something besides a break (or changes the extraction state)
_START_SPECIAL = frozenset({"br", "td", "th", "li", "pre", "a"})
_WS_RE = re.compile(r"[ \t\n\r\f\v]+")
_BLANKS_RE = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_LINE_SPACE_RE = re.compile(r"[ \t]+\n|\n[ \t]+")
#: the characters of _WS_RE
_ASCII_WS = " \t\n\r\f\v"
#: elements whose inherited state depends on more than their style (see ``hidden.child_state``)
_SPECIAL_TAGS = frozenset({"a", "font", "dialog", "datalist", "body", "table"})
_INLINE = style_facts.INLINE_TAGS
_TABLE_PARTS = style_facts.TABLE_PARTS
#: attributes that hide an element or give it a background (see ``hidden.child_state``):
#: without them (and a special tag or a sheet rule) only the ``style`` attribute matters
_LOUD_ATTRS = frozenset({"hidden", "bgcolor", "background"})
#: the walk decides visibility for at most this many elements (text is still extracted)
_MAX_STEPS = 50_000_000


@attrs.define
class Walked:
    """What :func:`walk` found: the visible text, its links (href, text) and the preheader."""

    text: str
    links: list[tuple[str, str]]
    preheader: Any
    #: elements whose style may hide text in a way only layout decides (see
    #: :attr:`style_facts.Facts.undecidable`)
    undecidable: int = 0


def collapse_ws(text: str) -> str:
    """Collapse each run of ASCII whitespace in ``text`` to one space (HTML text rendering).

    Same result as ``_WS_RE.sub(" ", text)``, without the regex (which tries a match at every
    space between words): each whitespace character becomes a space with ``str.replace``, then
    doubled spaces are halved until none is left (a run of n spaces takes log2(n) passes of
    ``str.replace``, each linear in C). Most pieces are either only whitespace (between tags)
    or words separated by single spaces, for which nothing is replaced.
    """
    if not text.strip(_ASCII_WS):
        return " " if text else text
    for blank in "\n\t\r\f\v":
        if blank in text:
            text = text.replace(blank, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def strip_line_space(text: str) -> str:
    """``_LINE_SPACE_RE.sub("\\n", text)``, line by line (the regex costs ~22 ns a character).

    The regex removes spaces and tabs before a line break together with the break, or after a
    break together with it, scanning left to right: a break consumed with the spaces before it
    cannot also take the spaces after it (they stay unless the line is only spaces and tabs
    and another break follows, which takes them as spaces before a break).
    """
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    last = len(lines) - 1
    after_break = False  # the break before this line was matched alone: it takes the indent
    for i, line in enumerate(lines):
        if after_break:
            line = line.lstrip(" \t")
        if i < last and line and (line[-1] == " " or line[-1] == "\t"):
            lines[i] = line.rstrip(" \t")
            after_break = False
        else:
            lines[i] = line
            after_break = True
    return "\n".join(lines)


def _join(out: list[str | int]) -> str:
    """Join text pieces; runs of break markers become their largest break."""
    pieces: list[str] = []
    pending = 0
    for item in out:
        if isinstance(item, int):
            if item > pending:
                pending = item
            continue
        if pending:
            pieces.append("\n" * pending)
            pending = 0
        pieces.append(item)
    return "".join(pieces)


def _decide(
    entry: hidden.Inherited, facts: style_facts.Facts | None, el: Any, names: Any
) -> tuple[str | None, hidden.Inherited, bool]:
    """:func:`hidden.decide`, and whether the facts are undecidable, in one variant."""
    method, child = hidden.decide(entry, facts, el, names)
    return method, child, facts is not None and facts.undecidable


def _styled(entry: hidden.Inherited, style: str, inline: bool, table_part: int) -> hidden.Styled:
    """:func:`_decide` for an element with only a ``style`` attribute (cached per state)."""
    found = entry.styled.get((style, inline, table_part))
    if found is None:
        found = entry.with_style(style, inline, table_part)
    return found


def walk(
    doc: Any,
    matched: Matched,
    removed: hidden.Removed,
) -> Walked:
    """Remove hidden content below ``doc`` in place and return the visible text.

    ``matched``: the sheet rules matching each element (evaluated on the tree as parsed).
    ``removed(method, text, element)`` is called with each removed text, in document order.
    Visible text follows the rules of the text extraction: paragraphs get a blank line;
    ``<br>``, list items, rows and divs a line break; table cells a space.

    Two variants of the cascade are carried down the tree (see :mod:`css`): with the certain
    rules only, and with the possible rules too. ``alt`` is the second variant's inherited
    state while it differs from the first; what either hides is removed.
    """
    body = doc.find("body")
    scan_root = doc if body is None else body
    preheader: Any = None
    # Visibility: what the current element's content inherits, and the parent's entry of each
    # open element.
    root = hidden.ROOT_QUIRKS if is_quirks(doc) else hidden.ROOT_STATE
    entry = hidden.inherited(root)
    alt: hidden.Inherited | None = None
    entries: list[tuple[hidden.Inherited, hidden.Inherited | None]] = []
    by_element = matched.rules
    has_rules = bool(by_element)  # most mail has no style sheet: no lookup per element
    computed = matched.computed
    facts_for = hidden.facts_for
    steps = 0
    undecidable = 0
    max_steps = _MAX_STEPS
    quiet = _LOUD_ATTRS.isdisjoint
    skipping: Any = None  # the hidden element whose subtree the iterator skips
    drop: Any = None  # the hidden element to remove at the next event
    # Preheader search: 0 before the scan root, 1 inside it and undecided, 2 decided.
    scan = 0
    # Text extraction.
    out: list[str | int] = []
    append = out.append
    pending = ""  # text not yet appended: a removed element's tail may still join it
    pre_depth = 0
    link_starts: list[tuple[Any, int]] = []
    links: list[tuple[Any, tuple[str, str]]] = []  # (the <body> it is in, or None; the link)
    spans: dict[Any, tuple[int, int]] = {}  # <body> element -> (start, end) in ``out``
    in_body: Any = None
    body_start = 0
    walker = etree.iterwalk(doc, events=("start", "end"))
    for event, el in walker:
        if drop is not None:
            hidden.drop_keep_tail(drop)
            drop = None
        if event == "start":
            tag = el.tag
            child = entry
            child_alt = alt
            if steps < max_steps:
                steps += 1
                method = None
                doubt = False
                names = el.keys()
                style = el.get("style") if names and "style" in names else None
                if has_rules and el in by_element:
                    first, second = computed(el)
                    method, child, doubt = _decide(entry, facts_for(first, entry.state), el, names)
                    if second is not None or alt is not None:
                        base = entry if alt is None else alt
                        decl = first if second is None else second
                        other, child_alt, doubt2 = _decide(
                            base, facts_for(decl, base.state), el, names
                        )
                        method = method or other
                        doubt = doubt or doubt2
                elif (
                    tag in _SPECIAL_TAGS
                    or not quiet(names)
                    or entry.pending
                    or (alt is not None and alt.pending)
                ):
                    facts = style_facts.inline_facts(style) if style else None
                    if (
                        style
                        and facts is not None
                        and css_vars.needs_context(inline_declarations(style))
                    ):
                        facts = facts_for(inline_declarations(style), entry.state)
                    method, child, doubt = _decide(entry, facts, el, names)
                    if alt is not None:
                        if style:
                            facts = facts_for(inline_declarations(style), alt.state)
                        other, child_alt, doubt2 = _decide(alt, facts, el, names)
                        method = method or other
                        doubt = doubt or doubt2
                elif style:
                    inline = tag in _INLINE
                    part = _TABLE_PARTS.get(tag, 0)
                    method, child, doubt = _styled(entry, style, inline, part)
                    if alt is not None:
                        other, child_alt, doubt2 = _styled(alt, style, inline, part)
                        method = method or other
                        doubt = doubt or doubt2
                if doubt:
                    undecidable += 1
                if child_alt is child:
                    child_alt = None
                if scan == 1 and el is not scan_root:
                    if method is not None:
                        preheader = el  # hidden, and before any visible text
                        scan = 2
                    elif (el.text or "").strip():
                        scan = 2
                if method is not None:
                    removed(method, hidden.text_of(el), el)
                    if el is doc:
                        el.clear()  # the whole document is hidden
                    walker.skip_subtree()
                    skipping = el
                    continue
                hide_text = child.text_method
                if hide_text is None and child_alt is not None:
                    hide_text = child_alt.text_method
                if hide_text is not None:
                    gone = "".join([el.text or ""] + [c.tail or "" for c in el])
                    if gone.strip():
                        removed(hide_text, gone, el)
                    el.text = None
                    for c in el:
                        c.tail = None
            entries.append((entry, alt))
            entry = child
            alt = child_alt
            if scan == 0 and el is scan_root:
                scan = 1
            # text
            if pending:
                append(pending if pre_depth else collapse_ws(pending))
                pending = ""
            if tag == "body" and len(entries) == 2:
                body_start = len(out)
                in_body = el
                pre_depth = 0  # the body's text is read as if it were the root
            brk = _BREAKS.get(tag)
            if brk is not None:
                append(brk)
            if tag in _START_SPECIAL:
                if tag == "br":
                    append("\n")
                elif tag == "td" or tag == "th":
                    append(" ")
                elif tag == "li":
                    append("- ")
                elif tag == "pre":
                    pre_depth += 1
                elif el.get("href"):  # a link
                    link_starts.append((el, len(out)))
            text = el.text
            if text:
                pending = text
            continue
        # event == "end"
        if el is skipping:
            skipping = None
            if el is not doc:
                tail = el.tail
                if tail:
                    pending += tail  # removing the element moves its tail here
                drop = el
            continue
        entry, alt = entries.pop()
        if pending:
            append(pending if pre_depth else collapse_ws(pending))
            pending = ""
        tag = el.tag
        brk = _BREAKS.get(tag)
        if brk is not None:
            append(brk)
        if tag == "pre":
            pre_depth -= 1
        if link_starts and link_starts[-1][0] is el:
            _, start = link_starts.pop()
            shown = "".join(x for x in out[start:] if isinstance(x, str)).strip()
            links.append((in_body, (el.get("href", ""), shown)))
        if scan == 1 and el is scan_root:
            scan = 2
        if tag == "body" and len(entries) == 1:
            spans[el] = (body_start, len(out))
            in_body = None
        if el is not doc:
            tail = el.tail
            if tail:
                pending = tail
    if drop is not None:
        hidden.drop_keep_tail(drop)
    final_body = doc.find("body")  # a hidden <body> was removed with everything in it
    if final_body is not None:
        start, end = spans[final_body]
        out = out[start:end]
        links = [(b, link) for b, link in links if b is final_body]
    text = strip_line_space(_join(out))
    text = _BLANKS_RE.sub("\n\n", text)
    return Walked(
        text=text.strip(),
        links=[link for _, link in links],
        preheader=preheader,
        undecidable=undecidable,
    )
