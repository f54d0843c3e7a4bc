"""Visibility: find and remove HTML content a human would not see in a mail client.

The walk is top-down with an inherited state (text colour, effective background, font size,
visibility). Whole-subtree methods (``display:none``, ``hidden``, zero boxes, clipping,
off-screen positioning, opacity 0, ``mso-hide:all``) remove the element but keep its tail;
text-level methods (tiny font, transparent text, text colour near its background,
``visibility:hidden``) remove the text the element renders itself (its text and its
children's tails), because a child may legitimately override them.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Collection
from typing import Any, NamedTuple

import attrs
import tinycss2
import tinycss2.color4
from lxml import etree

from mailguard_core.sanitize.css import Declarations, inline_declarations

RGB = tuple[int, int, int]

_LENGTH_RE = re.compile(r"(-?\d*\.?\d+(?:e-?\d+)?)\s*(px|pt|em|rem|%|cm|mm|in|pc|ex|ch|vw|vh|q)?")
_NEAR = 40.0
_LINK_BLUE: RGB = (0, 0, 238)

TRANSPARENT = "transparent"
#: ``currentColor``: the element's own text colour
CURRENT = "currentcolor"
#: ``inherit``/``unset``/``revert``: the parent's value
_INHERIT = frozenset({"inherit", "unset", "revert", "revert-layer"})
#: XYZ (D65) to linear sRGB
_XYZ_TO_SRGB = (
    (3.2409699, -1.5373832, -0.4986108),
    (-0.9692436, 1.8759675, 0.0415551),
    (0.0556301, -0.2039770, 1.0569708),
)


def _gamma(linear: float) -> float:
    if linear <= 0.0031308:
        return 12.92 * linear
    return float(1.055 * abs(linear) ** (1 / 2.4) - 0.055)


def parse_color(value: str | Any) -> RGB | str | None:
    """Parse a CSS colour (tinycss2's CSS Color 4 parser): an RGB tuple, ``"transparent"``
    (alpha under 0.1), ``"currentcolor"``, or None if it is not a colour."""
    try:
        color = tinycss2.color4.parse_color(value)
    except (ValueError, TypeError, ZeroDivisionError, IndexError):
        return None
    if color is None:
        return None
    if isinstance(color, str):
        return CURRENT
    if color.alpha < 0.1:
        return TRANSPARENT
    channels: tuple[float, ...]
    try:
        channels = tuple(color.to("srgb"))[:3]
    except NotImplementedError:
        try:
            xyz = tuple(color.to("xyz-d65"))[:3]
            channels = tuple(_gamma(sum(m * c for m, c in zip(row, xyz, strict=True)))
                             for row in _XYZ_TO_SRGB)  # fmt: skip
        except NotImplementedError:
            params = tuple(color.params)
            if color.space in ("lab", "lch", "oklab", "oklch"):
                scale = 100.0 if color.space in ("lab", "lch") else 1.0
                channels = (float(params[0] or 0) / scale,) * 3  # lightness only
            else:
                channels = tuple(float(p or 0) for p in params[:3])
    r, g, b = (max(0, min(255, round(255 * (c or 0.0)))) for c in channels)
    return (r, g, b)


_NOT_FOUND = "not-found"


def _values(value: str) -> list[Any]:
    """The component values of a declaration value, without whitespace."""
    return [
        t
        for t in tinycss2.parse_component_value_list(value, skip_comments=True)
        if t.type != "whitespace"
    ]


def _decl_background(decl: Declarations) -> RGB | str | None:
    """The background the declarations alone decide, or ``_NOT_FOUND`` (attributes decide).

    ``background`` is expanded into its longhands by :func:`css.declarations_of`; the
    shorthand itself is read only when it could not be (a ``var()`` inside).
    """
    image = decl.get("background-image", ("", False))[0]
    shorthand = decl.get("background", ("", False))[0]
    values = [decl["background-color"][0]] if "background-color" in decl else [shorthand]
    found: RGB | str | None = _NOT_FOUND
    for value in values:
        if value in _INHERIT or value == "initial":
            found = None  # transparent over the parent's (attributes are overridden)
            continue
        for token in _values(value):
            if token.type == "literal":
                continue
            color = parse_color(token)
            if color is not None:
                if color != TRANSPARENT:
                    return color
                found = None
                break
    if (
        "url(" in image
        or "gradient" in image
        or ("background-color" not in decl and ("url(" in shorthand or "gradient" in shorthand))
    ):
        return "image"
    return found


def _attr_background(el: Any, names: Collection[str]) -> RGB | str | None:
    """The background the ``bgcolor``/``background`` attributes give (``names``: the
    element's attribute names), when the declarations do not decide it.

    Clients block remote images by default, so a background colour given beside an image is
    what the reader sees; an image or gradient without a colour makes the background unknown.
    """
    if "bgcolor" in names:
        color = parse_color(el.get("bgcolor") or "")
        if color is not None and color != TRANSPARENT and color != CURRENT:
            return color
    if "background" in names and el.get("background"):
        return "image"
    return None


def _number(token: Any) -> tuple[float, str] | None:
    """A number, dimension or percentage token as (value, unit); None for anything else."""
    if token.type == "number":
        return float(token.value), ""
    if token.type == "dimension":
        return float(token.value), str(token.lower_unit)
    if token.type == "percentage":
        return float(token.value), "%"
    return None


def _length(value: str) -> tuple[float, str] | None:
    """The first value of ``value`` as (number, unit), unit ``px`` for a bare number."""
    tokens = _values(value)
    if not tokens:
        return None
    found = _number(tokens[0])
    if found is None:
        return None
    return found[0], found[1] or "px"


def _is_tiny_font(value: str) -> bool:
    parsed = _length(value)
    if parsed is None:
        return False
    size, unit = parsed
    limits = {"px": 2.0, "pt": 1.5, "em": 0.15, "rem": 0.15, "%": 15.0, "ex": 0.3, "ch": 0.3}
    return size < limits.get(unit, 0.01)


def _is_tiny_box(value: str) -> bool:
    parsed = _length(value)
    if parsed is None:
        return False
    size, unit = parsed
    return size <= {"px": 1.0, "pt": 0.75, "em": 0.07, "rem": 0.07}.get(unit, 0.0)


def _is_far_negative(value: str) -> bool:
    parsed = _length(value)
    if parsed is None:
        return False
    size, unit = parsed
    return size <= {"px": -500.0, "pt": -375.0, "em": -30.0, "rem": -30.0, "%": -99.0}.get(
        unit, -500.0
    )


def _is_far(value: str) -> bool:
    """Far enough, either way, to leave a mail client's window."""
    parsed = _length(value)
    if parsed is None:
        return False
    size, unit = parsed
    return _is_far_negative(value) or size >= {"px": 5000.0, "pt": 3750.0, "em": 300.0}.get(
        unit, 5000.0
    )


def _numbers(fn: Any) -> list[float]:
    """The numeric arguments of a function token (percentages as fractions)."""
    out: list[float] = []
    for token in fn.arguments:
        found = _number(token)
        if found is not None:
            out.append(found[0] / 100 if found[1] == "%" else found[0])
    return out


def _angle(token: Any) -> float | None:
    found = _number(token)
    if found is None:
        return None
    value, unit = found
    return {"deg": value, "rad": math.degrees(value), "grad": value * 0.9, "turn": value * 360}.get(
        unit, value if unit == "" else None
    )


def transform_method(value: str) -> str | None:
    """``zero_size_box`` when a transform collapses the box, ``offscreen`` when it moves it far
    away, else None (scale, scaleX/Y/Z, scale3d, matrix, matrix3d, rotateX/Y, translate...)."""
    for fn in _values(value):
        if fn.type != "function":
            continue
        name = fn.lower_name
        args = _numbers(fn)
        if name in ("scale", "scale3d") and args:
            sx = args[0]
            sy = args[1] if len(args) > 1 else (args[0] if name == "scale" else 1.0)
            if abs(sx) < 0.01 or abs(sy) < 0.01:
                return "zero_size_box"
        elif name in ("scalex", "scaley") and args and abs(args[0]) < 0.01:
            return "zero_size_box"
        elif name == "matrix" and len(args) == 6:
            a, b, c, d = args[:4]
            if abs(a * d - b * c) < 1e-4:
                return "zero_size_box"
        elif name == "matrix3d" and len(args) == 16:
            a, b, c, d = args[0], args[1], args[4], args[5]
            if abs(a * d - b * c) < 1e-4:
                return "zero_size_box"
        elif name in ("rotatex", "rotatey"):
            angles = [x for x in (_angle(t) for t in fn.arguments) if x is not None]
            if angles and abs(math.cos(math.radians(angles[0]))) < 0.01:
                return "zero_size_box"
        elif name.startswith("translate"):
            lengths = [t.serialize() for t in fn.arguments if _number(t) is not None]
            if any(_is_far(x) for x in lengths):
                return "offscreen"
    return None


def _scale_property(value: str) -> bool:
    """The ``scale`` property collapses the box (``scale: 0``, ``scale: 1 0``)."""
    numbers = [n for n in (_number(t) for t in _values(value)) if n is not None]
    scales = [v / 100 if unit == "%" else v for v, unit in numbers]
    return bool(scales) and any(abs(x) < 0.01 for x in scales[:2])


_CLIP_PATH_NONE = frozenset({"", "none", "initial", "unset", "inherit", "revert"})


def _clip_path_hides(value: str) -> bool:
    """A ``clip-path`` that can hide text: any shape but ``inset(0)`` (how much of the text a
    partial clip leaves depends on the layout, so any clipping shape fails closed)."""
    for fn in _values(value):
        if fn.type == "url":
            return True
        if fn.type != "function":
            continue
        if fn.lower_name == "inset":
            values = [n for n in (_number(t) for t in fn.arguments) if n is not None]
            if all(v <= 0 for v, _ in values):
                continue
        return True
    return False


def _clip_hides(value: str) -> bool:
    """``clip: rect(...)`` with a zero width or height (``rect(0 0 0 0)``, commas or not)."""
    for fn in _values(value):
        if fn.type == "function" and fn.lower_name == "rect":
            sides = [n[0] for n in (_number(t) for t in fn.arguments) if n is not None]
            if len(sides) == 4 and (sides[1] <= sides[3] or sides[2] <= sides[0]):
                return True
    return False


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

    if v("display") == "none" or v("content-visibility") == "hidden":
        return "display_none"
    if v("mso-hide") == "all":
        return "mso_hide"
    for fn in _values(v("filter")):
        if fn.type == "function" and fn.lower_name == "opacity":
            amounts = _numbers(fn)
            if amounts and amounts[0] < 0.05:
                return "opacity_zero"
    opacity = _length(v("opacity"))
    if opacity is not None:
        amount = opacity[0] / 100 if opacity[1] == "%" else opacity[0]
        if amount < 0.05:
            return "opacity_zero"
    zoom = _length(v("zoom"))
    if zoom is not None and 0 < (zoom[0] / 100 if zoom[1] == "%" else zoom[0]) < 0.05:
        return "zero_size_box"
    position = v("position")
    positioned = position in ("absolute", "fixed")
    if (positioned and _clip_hides(v("clip"))) or (
        v("clip-path") not in _CLIP_PATH_NONE and _clip_path_hides(v("clip-path"))
    ):
        return "clip"
    moved = positioned or position in ("relative", "sticky")
    if moved and any(_is_far(v(p)) for p in ("left", "top", "right", "bottom", "inset")):
        return "offscreen"
    if _is_far_negative(v("margin-left")):
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
    if "scale" in decl and _scale_property(v("scale")):
        return "zero_size_box"
    if "translate" in decl and any(_is_far(t.serialize()) for t in _values(v("translate"))):
        return "offscreen"
    if _is_far_negative(v("margin-top")):
        return "offscreen"
    return None


def _clips_to_nothing(decl: Declarations) -> bool:
    """A zero width or height (or line height) with ``overflow`` hidden or clipped: applies
    to a block container only (not inline boxes, not table parts, which grow to fit)."""
    get = decl.get

    def v(prop: str) -> str:
        return get(prop, ("", False))[0]

    overflow_hidden = any(
        word in ("hidden", "clip")
        for p in ("overflow", "overflow-x", "overflow-y")
        for word in v(p).split()
    )
    return overflow_hidden and any(
        _is_tiny_box(v(p)) for p in ("width", "height", "max-height", "max-width", "line-height")
    )


#: elements laid out as table parts: sizes are minimums and overflow does not clip
TABLE_PARTS = frozenset({"table", "tbody", "thead", "tfoot", "tr", "td", "th"})
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


def _text_color(value: str) -> RGB | str | None:
    if value in _INHERIT:
        return None
    if value == "initial":
        return (0, 0, 0)
    return parse_color(value)


def _facts(decl: Declarations) -> Facts:
    color: RGB | str | None = None
    if "color" in decl:
        # inherit/unset and currentColor all give the parent's colour (over a link's blue)
        color = CURRENT if decl["color"][0] in _INHERIT else _text_color(decl["color"][0])
    fill: RGB | str | None = None
    if "-webkit-text-fill-color" in decl:
        fill = _text_color(decl["-webkit-text-fill-color"][0])
    tiny: bool | None = None
    if "font" in decl:
        for token in _values(decl["font"][0]):
            if _number(token) is not None and token.type != "number":
                tiny = _is_tiny_font(token.serialize())
                break
            if token.type == "number" and float(token.value) == 0:
                tiny = True
                break
    if "font-size" in decl and decl["font-size"][0] not in _INHERIT:
        tiny = _is_tiny_font(decl["font-size"][0])
    invisible: bool | None = None
    if "visibility" in decl and decl["visibility"][0] not in _INHERIT:
        invisible = decl["visibility"][0] in ("hidden", "collapse")
    custom = tuple((k, v) for k, (v, _) in decl.items() if k.startswith("--")) or None
    return Facts(
        method=_decl_method(decl),
        color=color,
        background=_decl_background(decl),
        tiny_font=tiny,
        invisible=invisible,
        custom=custom,
        box_method=_box_method(decl),
        clips=_clips_to_nothing(decl),
        display=decl["display"][0] if "display" in decl else None,
        blockified=decl.get("position", ("", False))[0] in _BLOCKIFIED,
        fill=fill,
        indent=(
            _is_far_negative(decl["text-indent"][0])
            if "text-indent" in decl and decl["text-indent"][0] not in _INHERIT
            else None
        ),
    )


_VAR_DEPTH = 16


def needs_context(decl: Declarations) -> bool:
    """Whether ``decl`` uses ``var()`` (its facts depend on inherited custom properties)."""
    return any("var(" in value for value, _ in decl.values())


def resolve_vars(decl: Declarations, inherited: tuple[tuple[str, str], ...]) -> Declarations:
    """``decl`` with every ``var()`` substituted from its own and inherited custom properties.

    A property whose substitution fails (undefined without fallback, a cycle, too deep) is
    dropped: it is invalid at computed-value time, so it computes to its unset value.
    """
    custom = dict(inherited)
    custom.update((k, v) for k, (v, _) in decl.items() if k.startswith("--"))
    out: Declarations = {}
    for prop, (value, important) in decl.items():
        if "var(" in value and not prop.startswith("--"):
            resolved = _substitute(value, custom, 0)
            # a failed substitution makes the property unset (invalid at computed-value time)
            value = "unset" if resolved is None else " ".join(resolved.split()).lower()
        out[prop] = (value, important)
    return out


def _substitute(value: str, custom: dict[str, str], depth: int) -> str | None:
    if depth > _VAR_DEPTH:
        return None
    out: list[str] = []
    for token in tinycss2.parse_component_value_list(value, skip_comments=True):
        if token.type == "function" and token.lower_name == "var":
            args = [t for t in token.arguments if t.type not in ("whitespace", "comment")]
            if not args or args[0].type != "ident":
                return None
            name = args[0].value
            found = custom.get(name)
            if found is not None:
                sub = _substitute(found, custom, depth + 1)
            else:
                text = tinycss2.serialize(token.arguments)
                _, comma, fallback = text.partition(",")
                sub = _substitute(fallback, custom, depth + 1) if comma else None
            if sub is None:
                return None
            out.append(f" {sub} ")
        elif token.type == "function" and "var(" in token.serialize():
            inner = _substitute(tinycss2.serialize(token.arguments), custom, depth + 1)
            if inner is None:
                return None
            out.append(f"{token.name}({inner})")
        else:
            out.append(token.serialize())
    return "".join(out)


_FACTS_CACHE_SIZE = 2048
_FACTS_CACHE_MAX_CHARS = 2000
_facts_cache: dict[tuple[tuple[str, tuple[str, bool]], ...], Facts] = {}
_facts_lock = threading.Lock()


def style_facts(decl: Declarations) -> Facts:
    """:class:`Facts` of ``decl``, cached by value (mail repeats the same inline styles)."""
    key = tuple(decl.items())
    found = _facts_cache.get(key)
    if found is not None:
        return found
    facts = _facts(decl)
    if sum(len(v) for v, _ in decl.values()) <= _FACTS_CACHE_MAX_CHARS:
        with _facts_lock:
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
        with _facts_lock:
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
    return facts.method or _box(facts, el.tag in INLINE_TAGS, el.tag in TABLE_PARTS)


def _box(facts: Facts, inline: bool, table_part: bool) -> str | None:
    """The method of ``facts`` that depends on the kind of box (see :class:`Facts`)."""
    if facts.box_method is None and not facts.clips:
        return None
    if facts.blockified:
        inline = table_part = False
    elif facts.display:
        inline = facts.display == "inline"
        table_part = table_part and facts.display not in _BLOCK_DISPLAYS
    if inline:
        return None
    if facts.clips and not table_part:
        return "zero_size_box"
    return facts.box_method


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


def child_state(state: State, facts: Facts | None, el: Any, names: Collection[str]) -> State:
    """The inherited state for ``el``'s own text and children.

    ``facts`` are the :class:`Facts` of the element's computed declarations (None when it has
    none), ``names`` its attribute names (``el`` may be None when ``names`` is empty and the tag
    plays no part). Returns ``state`` itself when nothing on the element changes it.
    """
    color: RGB | str = state.color
    background = state.background
    tiny = state.tiny_font
    invisible = state.invisible
    custom = state.custom
    fill = state.fill
    indent = state.indent
    tag = None if el is None else el.tag
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
    elif tag == "table" and state.quirks:
        color = state.body_color  # quirks mode: a table takes the body's colour, medium size
        tiny = False
        indent = False
    if facts is not None:
        if facts.color == CURRENT:
            color = state.color
        elif facts.color is not None:
            color = facts.color
        own_bg = _attr_background(el, names) if facts.background == _NOT_FOUND else facts.background
        if own_bg == CURRENT:
            own_bg = color
        if own_bg is not None:
            background = own_bg
        if facts.tiny_font is not None:
            tiny = facts.tiny_font
        if facts.invisible is not None:
            invisible = facts.invisible
        if facts.fill is not None:
            fill = None if facts.fill == CURRENT else facts.fill
        if facts.indent is not None:
            indent = facts.indent
        if facts.custom:
            merged = dict(custom)
            merged.update(facts.custom)
            custom = tuple(merged.items())
    elif "bgcolor" in names and el.get("bgcolor"):
        own_bg = _attr_background(el, names)
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
        and tag != "body"
    ):
        return state
    body_color = color if tag == "body" else state.body_color
    return State(color, background, tiny, invisible, custom, state.quirks, fill, indent, body_color)


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

    __slots__ = ("state", "styled", "text_method")

    def __init__(self, state: State) -> None:
        self.state = state
        self.text_method = text_method(state)
        self.styled: dict[tuple[str, bool, bool], str | Inherited] = {}

    def with_style(self, style: str, inline: bool, table_part: bool = False) -> str | Inherited:
        """The hiding method of an element with only ``style`` under this state, or the
        :class:`Inherited` its content gets (cached in :attr:`styled`). ``inline``: the
        element is laid out inline by default (its tag is in :data:`INLINE_TAGS`);
        ``table_part``: it is a table part (in :data:`TABLE_PARTS`)."""
        key = (style, inline, table_part)
        found = self.styled.get(key)
        if found is not None:
            return found
        facts = inline_facts(style)
        if facts is not None and needs_context(inline_declarations(style)):
            facts = facts_for(inline_declarations(style), self.state)
        result: str | Inherited
        if facts is None:
            result = self
        elif facts.method is not None:
            result = facts.method
        elif (box := _box(facts, inline, table_part)) is not None:
            result = box
        else:
            result = inherited(child_state(self.state, facts, None, ()))
        if len(self.styled) >= _STYLED_CACHE_SIZE:
            self.styled.clear()
        self.styled[key] = result
        return result


_STYLED_CACHE_SIZE = 512
_INHERITED_CACHE_SIZE = 1024
_inherited: dict[State, Inherited] = {}


def inherited(state: State) -> Inherited:
    """The interned :class:`Inherited` of ``state``."""
    found = _inherited.get(state)
    if found is not None:
        return found
    entry = Inherited(state)
    with _facts_lock:
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
