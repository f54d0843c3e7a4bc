"""What an element's declarations decide about its visibility (:class:`Facts`), cached."""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any

import attrs

from mailguard_core.sanitize.colors import (
    CURRENT,
    INHERIT,
    RGB,
    decl_background,
    text_color,
)
from mailguard_core.sanitize.css_declarations import Declarations, inline_declarations
from mailguard_core.sanitize.css_values import (
    CLIP_PATH_NONE,
    clip_hides,
    clip_path_hides,
    clip_path_partial,
    component_values,
    first_length,
    fold_math,
    has_math,
    is_far,
    is_far_negative,
    is_tiny_box,
    is_tiny_font,
    numeric_arguments,
    numeric_token,
    scale_property,
    transform_method,
    transform_undecidable,
)


def subtree_method(decl: Declarations, el: Any) -> str | None:
    """The method hiding the whole element (and its descendants), or None."""
    if el.get("hidden") is not None:
        return "hidden_attribute"
    if el.tag in ("dialog", "datalist") and el.get("open") is None:
        return "display_none"  # the user-agent stylesheet hides these
    if not decl:
        return None
    return element_method(style_facts(decl), el, el.keys())


def _decl_method(decl: Declarations) -> str | None:
    """The whole-subtree method the declarations alone decide, or None."""
    get = decl.get

    def v(prop: str) -> str:
        return get(prop, ("", False))[0]

    if v("display") == "none":
        return "display_none"
    if v("mso-hide") == "all":
        return "mso_hide"
    for fn in component_values(v("filter")):
        if fn.type == "function" and fn.lower_name == "opacity":
            amounts = numeric_arguments(fn)
            if amounts and amounts[0] < 0.05:
                return "opacity_zero"
    opacity = first_length(v("opacity"))
    if opacity is not None:
        amount = opacity[0] / 100 if opacity[1] == "%" else opacity[0]
        if amount < 0.05:
            return "opacity_zero"
    zoom = first_length(v("zoom"))
    if zoom is not None and 0 < (zoom[0] / 100 if zoom[1] == "%" else zoom[0]) < 0.05:
        return "zero_size_box"
    position = v("position")
    positioned = position in ("absolute", "fixed")
    if (positioned and clip_hides(v("clip"))) or (
        v("clip-path") not in CLIP_PATH_NONE and clip_path_hides(v("clip-path"))
    ):
        return "clip"
    moved = positioned or position in ("relative", "sticky")
    if moved and any(is_far(v(p)) for p in ("left", "top", "right", "bottom", "inset")):
        return "offscreen"
    if is_far_negative(v("margin-left")):
        return "offscreen"
    return None


def _box_method(decl: Declarations) -> str | None:
    """The whole-subtree method that applies only to a box that is not inline (sizes,
    overflow, transforms, vertical margins), or None."""
    get = decl.get

    def v(prop: str) -> str:
        return get(prop, ("", False))[0]

    if "transform" in decl:
        method = transform_method(v("transform"))
        if method is not None:
            return method
    if "scale" in decl and scale_property(v("scale")):
        return "zero_size_box"
    if "translate" in decl and any(is_far(t.serialize()) for t in component_values(v("translate"))):
        return "offscreen"
    if is_far_negative(v("margin-top")):
        return "offscreen"
    return None


def _clips_to_nothing(decl: Declarations) -> bool:
    """A zero width or height (or line height) with ``overflow`` hidden or clipped: applies
    to a block container only (not inline boxes, not table parts: they grow to fit and do not
    clip)."""
    get = decl.get

    def v(prop: str) -> str:
        return get(prop, ("", False))[0]

    overflow_hidden = any(
        word in ("hidden", "clip")
        for p in ("overflow", "overflow-x", "overflow-y")
        for word in v(p).split()
    )
    return overflow_hidden and any(
        is_tiny_box(v(p)) for p in ("width", "height", "max-height", "max-width", "line-height")
    )


#: (1: a cell, 2: a table, row or row group; content-visibility does not apply to those)
TABLE_PARTS = {"td": 1, "th": 1, "table": 2, "tbody": 2, "thead": 2, "tfoot": 2, "tr": 2}
_BLOCK_DISPLAYS = frozenset({"block", "inline-block", "flow-root", "flex", "grid", "list-item"})
#: elements a browser lays out inline unless their style says otherwise
INLINE_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
        "label", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
        "time", "tt", "u", "var", "big", "nobr", "ins", "del",
    }
)  # fmt: skip
_BLOCKIFIED = frozenset({"absolute", "fixed"})


@attrs.frozen
class Facts:
    """What a set of declarations decides, independent of the element (cached by value)."""

    method: str | None
    color: RGB | str | None
    background: RGB | str | None
    tiny_font: bool | None
    invisible: bool | None
    #: the custom properties declared (``--name``, value), or None
    custom: tuple[tuple[str, str], ...] | None = None
    #: the method that applies only when the box is not inline
    box_method: str | None = None
    #: sizes and overflow clip the box to nothing (a block container only)
    clips: bool = False
    #: the ``display`` value given, or None
    display: str | None = None
    #: positioned absolutely (an inline element is then laid out as a block)
    blockified: bool = False
    #: ``-webkit-text-fill-color`` (painted instead of ``color``), CURRENT for none
    fill: RGB | str | None = None
    #: a far negative ``text-indent`` (inherited: first lines of blocks leave the window)
    indent: bool | None = None
    #: ``content-visibility: hidden``: the content is not rendered (it needs layout
    #: containment: not on inline boxes, tables, rows and row groups)
    skips: bool = False
    #: the opacity (``opacity`` times ``filter: opacity()``) when under 1: it multiplies
    #: down the tree
    opacity: float | None = None
    #: something that may hide text only layout decides (a rotation or skew, math that mixes
    #: units, a hiding animation): the message is flagged (``html_css_undecidable``)
    undecidable: bool = False


#: sizes whose unresolved math matters only with ``overflow`` hidden
_SIZES = frozenset({"width", "height", "max-height", "max-width", "line-height"})


def _fold(decl: Declarations) -> tuple[Declarations, bool]:
    """``decl`` with math functions folded, and whether one that could hide text could not
    be (it mixes units layout resolves, as ``calc(100% - 2px)``)."""
    if not any(has_math(value) for value, _ in decl.values()):
        return decl, False
    out: Declarations = {}
    undecidable = False
    overflow = any(p in decl for p in ("overflow", "overflow-x", "overflow-y"))
    for prop, (value, important) in decl.items():
        if not prop.startswith("--") and has_math(value):
            folded = fold_math(value)
            if folded is None:
                undecidable = undecidable or prop not in _SIZES or overflow
            else:
                value = folded
        out[prop] = (value, important)
    return out, undecidable


def _opacity(decl: Declarations) -> float | None:
    amount = 1.0
    for fn in component_values(decl["filter"][0]) if "filter" in decl else ():
        if fn.type == "function" and fn.lower_name == "opacity":
            amounts = numeric_arguments(fn)
            if amounts:
                amount *= max(0.0, min(1.0, amounts[0]))
    opacity = first_length(decl["opacity"][0]) if "opacity" in decl else None
    if opacity is not None:
        amount *= max(0.0, min(1.0, opacity[0] / 100 if opacity[1] == "%" else opacity[0]))
    return amount if amount < 1.0 else None


_NO_ANIMATION = frozenset({"", "none", "initial", "inherit", "unset", "revert", "revert-layer"})


def _animated(decl: Declarations) -> bool:
    """An animation runs: what its keyframes do to visibility is not evaluated (fail closed)."""
    return any(
        decl.get(p, ("", False))[0] not in _NO_ANIMATION for p in ("animation", "animation-name")
    )


def _overflows(decl: Declarations) -> bool:
    """A zero height without ``overflow`` hidden: the text overflows the box and what follows
    is laid over it (whether it covers the text only layout decides)."""
    if any(p in decl for p in ("overflow", "overflow-y")):
        return False
    return any(is_tiny_box(decl[p][0]) for p in ("height", "max-height") if p in decl)


def _facts(decl: Declarations) -> Facts:
    decl, undecidable = _fold(decl)
    color: RGB | str | None = None
    if "color" in decl:
        # inherit/unset and currentColor all give the parent's colour (over a link's blue)
        color = CURRENT if decl["color"][0] in INHERIT else text_color(decl["color"][0])
    fill: RGB | str | None = None
    if "-webkit-text-fill-color" in decl:
        fill = text_color(decl["-webkit-text-fill-color"][0])
    tiny: bool | None = None
    if "font" in decl:
        for token in component_values(decl["font"][0]):
            if numeric_token(token) is not None and token.type != "number":
                tiny = is_tiny_font(token.serialize())
                break
            if token.type == "number" and float(token.value) == 0:
                tiny = True
                break
    if "font-size" in decl and decl["font-size"][0] not in INHERIT:
        tiny = is_tiny_font(decl["font-size"][0])
    invisible: bool | None = None
    if "visibility" in decl and decl["visibility"][0] not in INHERIT:
        invisible = decl["visibility"][0] in ("hidden", "collapse")
    custom = tuple((k, v) for k, (v, _) in decl.items() if k.startswith("--")) or None
    # display:contents: the element has no box to clip, move, fade or transform (its
    # children are laid out in its place); what it passes on by inheritance still counts
    boxless = decl.get("display", ("", False))[0] == "contents"
    # padding keeps a box that clips its content some room: part of the text may show
    padded = any(
        (n := numeric_token(t)) is not None and n[0] > 0
        for prop in ("padding", "padding-top", "padding-bottom", "padding-left", "padding-right")
        if prop in decl
        for t in component_values(decl[prop][0])
    )
    return Facts(
        method=None if boxless else _decl_method(decl),
        color=color,
        background=None if boxless else decl_background(decl),
        tiny_font=tiny,
        invisible=invisible,
        custom=custom,
        box_method=None if boxless else _box_method(decl),
        clips=not boxless and not padded and _clips_to_nothing(decl),
        skips=not boxless and decl.get("content-visibility", ("", False))[0] == "hidden",
        display=decl["display"][0] if "display" in decl else None,
        blockified=decl.get("position", ("", False))[0] in _BLOCKIFIED,
        fill=fill,
        indent=(
            is_far_negative(decl["text-indent"][0])
            if "text-indent" in decl and decl["text-indent"][0] not in INHERIT
            else None
        ),
        opacity=None if boxless else _opacity(decl),
        undecidable=undecidable
        or (padded and _clips_to_nothing(decl))
        or _animated(decl)
        or (not boxless and _overflows(decl))
        or ("clip-path" in decl and clip_path_partial(decl["clip-path"][0]))
        or ("transform" in decl and transform_undecidable(decl["transform"][0]))
        or ("rotate" in decl and transform_undecidable(f"rotate({decl['rotate'][0]})")),
    )


_FACTS_CACHE_SIZE = 2048
_FACTS_CACHE_MAX_CHARS = 2000
_facts_cache: dict[tuple[tuple[str, tuple[str, bool]], ...], Facts] = {}
FACTS_LOCK = threading.Lock()


def style_facts(decl: Declarations) -> Facts:
    """:class:`Facts` of ``decl``, cached by value (mail repeats the same inline styles)."""
    key = tuple(decl.items())
    found = _facts_cache.get(key)
    if found is not None:
        return found
    facts = _facts(decl)
    if sum(len(v) for v, _ in decl.values()) <= _FACTS_CACHE_MAX_CHARS:
        with FACTS_LOCK:
            if len(_facts_cache) >= _FACTS_CACHE_SIZE:
                _facts_cache.clear()
            _facts_cache[key] = facts
    return facts


_inline_facts: dict[str, Facts | None] = {}


def inline_facts(style: str) -> Facts | None:
    """:class:`Facts` of a ``style`` attribute alone, or None when it declares nothing relevant.

    Cached by the attribute's text, as :func:`css.inline_declarations` is.
    """
    try:
        return _inline_facts[style]
    except KeyError:
        pass
    decl = inline_declarations(style)
    facts = style_facts(decl) if decl else None
    if len(style) <= _FACTS_CACHE_MAX_CHARS:
        with FACTS_LOCK:
            if len(_inline_facts) >= _FACTS_CACHE_SIZE:
                _inline_facts.clear()
            _inline_facts[style] = facts
    return facts


def element_method(facts: Facts | None, el: Any, names: Collection[str]) -> str | None:
    """:func:`subtree_method` given the element's :class:`Facts` (None: no declarations) and
    its attribute names."""
    if "hidden" in names and (facts is None or facts.display in (None, "none")):
        return "hidden_attribute"  # the user-agent's [hidden]{display:none}: a style beats it
    if el.tag in ("dialog", "datalist") and "open" not in names:
        return "display_none"  # the user-agent stylesheet hides these
    if facts is None:
        return None
    return facts.method or box_method(facts, el.tag in INLINE_TAGS, TABLE_PARTS.get(el.tag, 0))


def box_method(facts: Facts, inline: bool, table_part: int) -> str | None:
    """The method of ``facts`` that depends on the kind of box (see :class:`Facts`);
    ``table_part`` as in :data:`TABLE_PARTS` (0: not one)."""
    if facts.box_method is None and not facts.clips and not facts.skips:
        return None
    if facts.blockified:
        inline, table_part = False, 0
    elif facts.display:
        inline = facts.display == "inline"
        table_part = 0 if facts.display in _BLOCK_DISPLAYS else table_part
    if inline:
        return None
    if facts.skips and table_part < 2:
        return "display_none"  # content-visibility:hidden (layout containment)
    if facts.clips and not table_part:
        return "zero_size_box"
    return facts.box_method
