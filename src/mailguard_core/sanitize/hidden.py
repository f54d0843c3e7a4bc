"""Visibility: find and remove HTML content a human would not see in a mail client.

The walk is top-down with an inherited state (text colour, effective background, font size,
visibility). Whole-subtree methods (``display:none``, ``hidden``, zero boxes, clipping,
off-screen positioning, opacity 0, ``mso-hide:all``) remove the element but keep its tail;
text-level methods (tiny font, transparent text, text colour near its background,
``visibility:hidden``) remove the text the element renders itself (its text and its
children's tails), because a child may legitimately override them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, NamedTuple

from lxml import etree

from mailguard_core.sanitize.colors import (
    CURRENT,
    INHERITED,
    NOT_FOUND,
    RGB,
    TRANSPARENT,
    attr_background,
    parse_color,
)
from mailguard_core.sanitize.css_declarations import Declarations, inline_declarations
from mailguard_core.sanitize.css_vars import needs_context, resolve_vars
from mailguard_core.sanitize.style_facts import (
    FACTS_LOCK,
    INLINE_TAGS,
    Facts,
    box_method,
    element_method,
    inline_facts,
    style_facts,
)

_NEAR = 40.0
_LINK_BLUE: RGB = (0, 0, 238)


class State(NamedTuple):
    """What an element inherits from its ancestors (a tuple: cheap to compare and to hash)."""

    color: RGB | str = (0, 0, 0)
    background: RGB | str = (255, 255, 255)
    tiny_font: bool = False
    invisible: bool = False
    #: inherited custom properties (``--name``, value)
    custom: tuple[tuple[str, str], ...] = ()
    #: the document renders in quirks mode (tables do not inherit text colour and size)
    quirks: bool = False
    #: ``-webkit-text-fill-color``, painted instead of ``color`` (None: not set)
    fill: RGB | str | None = None
    #: a far negative ``text-indent`` is inherited
    indent: bool = False
    #: the ``<body>``'s text colour (a quirks-mode table takes it instead of its parent's)
    body_color: RGB | str = (0, 0, 0)
    #: the product of the ancestors' opacities
    opacity: float = 1.0
    #: the parent's own background is ``currentColor`` (``background-color: inherit`` then
    #: takes the element's own colour)
    bg_current: bool = False
    #: a far negative ``text-indent`` set on an inline element: the blocks inside it take it
    pending_indent: bool = False


#: the inherited state at the document root: black text on white
ROOT_STATE = State()
#: the same for a document in quirks mode
ROOT_QUIRKS = State(quirks=True)


def facts_for(decl: Declarations, state: State) -> Facts | None:
    """:class:`Facts` of an element's cascaded declarations under ``state`` (``var()``
    resolved from its custom properties), or None when there are none."""
    if not decl:
        return None
    if needs_context(decl):
        decl = resolve_vars(decl, state.custom)
    return style_facts(decl)


def child_state(
    state: State, facts: Facts | None, el: Any, names: Collection[str], inline: bool | None = None
) -> State:
    """The inherited state for ``el``'s own text and children.

    ``facts`` are the :class:`Facts` of the element's computed declarations (None when it has
    none), ``names`` its attribute names (``el`` may be None when ``names`` is empty and the tag
    plays no part; ``inline`` then says whether it is laid out inline by default). Returns
    ``state`` itself when nothing on the element changes it.
    """
    color: RGB | str = state.color
    background = state.background
    tiny = state.tiny_font
    invisible = state.invisible
    custom = state.custom
    fill = state.fill
    indent = state.indent
    tag = None if el is None else el.tag
    pending = state.pending_indent
    if pending and not _is_inline_box(facts, tag, inline):
        indent, pending = pending, False  # an inline ancestor's text-indent reaches a block
    if tag == "a" and "href" in names:
        color = _LINK_BLUE  # clients draw links in their own colour unless styled
    elif tag == "font" and "color" in names:
        parsed = parse_color(el.get("color") or "")
        if parsed is not None and parsed != CURRENT:
            color = parsed
    elif tag == "body" and "text" in names:
        parsed = parse_color(el.get("text") or "")
        if parsed is not None and parsed != CURRENT:
            color = parsed
    elif tag == "table":
        indent = pending = False  # the user-agent stylesheet resets text-indent on tables
        if state.quirks:
            color = state.body_color  # quirks mode: a table takes the body's colour, medium size
            tiny = False
    opacity = state.opacity
    bg_current = False
    if facts is not None:
        if facts.color == CURRENT:
            color = state.color
        elif facts.color is not None:
            color = facts.color
        own_bg = attr_background(el, names) if facts.background == NOT_FOUND else facts.background
        if own_bg == INHERITED:
            # the parent's computed background: currentColor computes to itself, so it takes
            # this element's colour; any other is what shows through already
            own_bg = CURRENT if state.bg_current else None
        if own_bg == CURRENT:
            own_bg = None if color == TRANSPARENT else color
            bg_current = True
        if own_bg is not None:
            background = own_bg
        if facts.tiny_font is not None:
            tiny = facts.tiny_font
        if facts.invisible is not None:
            invisible = facts.invisible
        if facts.fill is not None:
            fill = None if facts.fill == CURRENT else facts.fill
        if facts.indent is not None:
            # text-indent applies to block containers: on an inline element it only passes
            # on to the blocks inside it
            if _is_inline(facts, tag, inline):
                pending = facts.indent
            else:
                indent = facts.indent
        if facts.opacity is not None:
            opacity *= facts.opacity
        if facts.custom:
            merged = dict(custom)
            merged.update(facts.custom)
            custom = tuple(merged.items())
    elif "bgcolor" in names and el.get("bgcolor"):
        own_bg = attr_background(el, names)
        if own_bg is not None:
            background = own_bg
    if (
        color == state.color
        and background == state.background
        and tiny == state.tiny_font
        and invisible == state.invisible
        and custom is state.custom
        and fill == state.fill
        and indent == state.indent
        and pending == state.pending_indent
        and opacity == state.opacity
        and bg_current == state.bg_current
        and tag != "body"
    ):
        return state
    body_color = color if tag == "body" else state.body_color
    return State(
        color,
        background,
        tiny,
        invisible,
        custom,
        state.quirks,
        fill,
        indent,
        body_color,
        opacity,
        bg_current,
        pending,
    )


def _is_inline_box(facts: Facts | None, tag: str | None, inline: bool | None) -> bool:
    if facts is not None:
        return _is_inline(facts, tag, inline)
    return tag in INLINE_TAGS if inline is None else inline


def _is_inline(facts: Facts, tag: str | None, inline: bool | None) -> bool:
    if facts.blockified:
        return False
    if facts.display:
        return facts.display == "inline"
    return tag in INLINE_TAGS if inline is None else inline


#: opacity under which a box and everything in it is invisible
_FAINT = 0.05


def decide(
    entry: Inherited, facts: Facts | None, el: Any, names: Collection[str]
) -> tuple[str | None, Inherited]:
    """The hiding method of ``el`` (or None) and what its content inherits."""
    method = element_method(facts, el, names)
    if method is not None:
        return method, entry
    state = child_state(entry.state, facts, el, names)
    if state is entry.state:
        return None, entry
    if state.opacity < _FAINT:
        return "opacity_zero", entry
    return None, inherited(state)


def text_method(state: State) -> str | None:
    """The method hiding text rendered under ``state``, or None."""
    if state.invisible:
        return "visibility_hidden"
    if state.tiny_font:
        return "tiny_font"
    if state.indent:
        return "offscreen"
    color = state.color if state.fill is None else state.fill
    if color == TRANSPARENT:
        return "transparent_text"
    if isinstance(color, tuple) and isinstance(state.background, tuple):
        dist = sum((a - b) ** 2 for a, b in zip(color, state.background, strict=True)) ** 0.5
        if dist < _NEAR:
            return "color_match"
    return None


class Inherited:
    """A :class:`State` with its :func:`text_method`, and what a ``style`` attribute alone does
    to it (interned: one instance per state value, see :func:`inherited`).

    ``styled`` caches, per ``style`` text, the hiding method of an element that has only that
    style (no sheet rule, no attribute or tag that changes colours or hides) or else the
    state its text and children inherit. Most elements of a message are such elements.
    """

    __slots__ = ("pending", "state", "styled", "text_method")

    def __init__(self, state: State) -> None:
        self.state = state
        self.text_method = text_method(state)
        #: a block below takes an inline ancestor's text-indent (see State.pending_indent)
        self.pending = state.pending_indent
        self.styled: dict[tuple[str, bool, int], Styled] = {}

    def with_style(self, style: str, inline: bool, table_part: int = 0) -> Styled:
        """(hiding method or None, the :class:`Inherited` its content gets, undecidable) of
        an element with only ``style`` under this state (cached in :attr:`styled`).
        ``inline``: the element is laid out inline by default (its tag is in
        :data:`INLINE_TAGS`); ``table_part``: its level in :data:`TABLE_PARTS` (0: none)."""
        key = (style, inline, table_part)
        found = self.styled.get(key)
        if found is not None:
            return found
        facts = inline_facts(style)
        if facts is not None and needs_context(inline_declarations(style)):
            facts = facts_for(inline_declarations(style), self.state)
        result: Styled
        if facts is None:
            result = (None, self, False)
        elif facts.method is not None:
            result = (facts.method, self, facts.undecidable)
        elif (box := box_method(facts, inline, table_part)) is not None:
            result = (box, self, facts.undecidable)
        else:
            state = child_state(self.state, facts, None, (), inline)
            if state.opacity < _FAINT:
                result = ("opacity_zero", self, facts.undecidable)
            else:
                result = (None, inherited(state), facts.undecidable)
        if len(self.styled) >= _STYLED_CACHE_SIZE:
            self.styled.clear()
        self.styled[key] = result
        return result


#: (hiding method or None, what the content inherits, undecidable)
Styled = tuple[str | None, Inherited, bool]
_STYLED_CACHE_SIZE = 512
_INHERITED_CACHE_SIZE = 1024
_inherited: dict[State, Inherited] = {}


def inherited(state: State) -> Inherited:
    """The interned :class:`Inherited` of ``state``."""
    found = _inherited.get(state)
    if found is not None:
        return found
    entry = Inherited(state)
    with FACTS_LOCK:
        if len(_inherited) >= _INHERITED_CACHE_SIZE:
            _inherited.clear()
        _inherited[state] = entry
    return entry


Removed = Callable[[str, str, Any], None]


def text_of(el: Any) -> str:
    return "".join(t for t in el.itertext() if isinstance(t, str))


def drop_keep_tail(el: Any) -> None:
    """Remove ``el`` and its subtree from its parent, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def is_comment(el: Any) -> bool:
    """True for comments and processing instructions."""
    return el.tag is etree.Comment or el.tag is etree.ProcessingInstruction
