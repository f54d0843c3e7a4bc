"""Visibility: find and remove HTML content a human would not see in a mail client.

The walk is top-down with an inherited state (text colour, effective background, font size,
visibility). Whole-subtree methods (``display:none``, ``hidden``, zero boxes, clipping,
off-screen positioning, opacity 0, ``mso-hide:all``) remove the element but keep its tail;
text-level methods (tiny font, transparent text, text colour near its background,
``visibility:hidden``) remove the text the element renders itself (its text and its
children's tails), because a child may legitimately override them.
"""

from __future__ import annotations

import colorsys
import re
import threading
from collections.abc import Callable, Collection
from typing import Any, NamedTuple

import attrs
from lxml import etree

from mailguard_core.sanitize.css import Declarations, inline_declarations

RGB = tuple[int, int, int]

_NAMED: dict[str, RGB] = {
    "white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0),
    "blue": (0, 0, 255), "yellow": (255, 255, 0), "gray": (128, 128, 128),
    "grey": (128, 128, 128), "silver": (192, 192, 192), "whitesmoke": (245, 245, 245),
    "snow": (255, 250, 250), "ivory": (255, 255, 240), "ghostwhite": (248, 248, 255),
    "azure": (240, 255, 255), "mintcream": (245, 255, 250), "floralwhite": (255, 250, 240),
    "aliceblue": (240, 248, 255), "seashell": (255, 245, 238), "linen": (250, 240, 230),
    "oldlace": (253, 245, 230), "honeydew": (240, 255, 240), "lavenderblush": (255, 240, 245),
    "navy": (0, 0, 128), "maroon": (128, 0, 0), "purple": (128, 0, 128), "teal": (0, 128, 128),
    "olive": (128, 128, 0), "lime": (0, 255, 0), "aqua": (0, 255, 255), "cyan": (0, 255, 255),
    "fuchsia": (255, 0, 255), "magenta": (255, 0, 255), "orange": (255, 165, 0),
    "lightgray": (211, 211, 211), "lightgrey": (211, 211, 211), "darkgray": (169, 169, 169),
    "gainsboro": (220, 220, 220), "beige": (245, 245, 220),
}  # fmt: skip
_HEX_RE = re.compile(r"#([0-9a-f]{3,8})\b")
_FUNC_RE = re.compile(r"rgba?\(\s*([^)]*)\)")
_LENGTH_RE = re.compile(r"(-?\d*\.?\d+)\s*(px|pt|em|rem|%|cm|mm|in|pc|ex|ch|vw|vh)?")
_NEAR = 40.0
_BG_TOKEN_RE = re.compile(r"\s+(?![^(]*\))")
_HSL_RE = re.compile(r"hsla?\(\s*([^)]*)\)")
_FONT_SIZE_IN_SHORTHAND_RE = re.compile(r"(?:^|\s)(-?\d*\.?\d+(?:px|pt|em|rem|%|ex|ch)?)(?=/|\s|$)")
_TRANSLATE_RE = re.compile(r"translate(?:x|y|3d)?\(\s*(-?\d*\.?\d+\w*)")
_LINK_BLUE: RGB = (0, 0, 238)

TRANSPARENT = "transparent"


def parse_color(value: str) -> RGB | str | None:
    """Parse a CSS colour: an RGB tuple, ``"transparent"`` (alpha ~0), or None if unknown."""
    value = value.strip().lower()
    if not value:
        return None
    if value == TRANSPARENT:
        return TRANSPARENT
    if value in _NAMED:
        return _NAMED[value]
    hex_match = _HEX_RE.search(value) if value.startswith("#") else None
    if hex_match:
        digits = hex_match.group(1)
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 8 and int(digits[6:8], 16) < 26:
            return TRANSPARENT
        if len(digits) in (6, 8):
            return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
        return None
    hsl = _HSL_RE.match(value)
    if hsl:
        return _parse_hsl(hsl.group(1))
    func = _FUNC_RE.match(value)
    if func:
        parts = [p for p in re.split(r"[\s,/]+", func.group(1)) if p]
        try:
            nums = [float(p[:-1]) * (2.55 if i < 3 else 0.01) if p.endswith("%") else float(p)
                    for i, p in enumerate(parts)]  # fmt: skip
        except ValueError:
            return None
        if len(nums) >= 4 and nums[3] < 0.1:
            return TRANSPARENT
        if len(nums) >= 3:
            r, g, b = (max(0, min(255, round(n))) for n in nums[:3])
            return (r, g, b)
    return None


def _parse_hsl(args: str) -> RGB | str | None:
    parts = [p for p in re.split(r"[\s,/]+", args) if p]
    try:
        hue = float(parts[0].removesuffix("deg")) / 360.0
        sat, light = (float(p.removesuffix("%")) / 100.0 for p in parts[1:3])
        alpha = (
            float(parts[3][:-1]) / 100
            if len(parts) > 3 and parts[3].endswith("%")
            else (float(parts[3]) if len(parts) > 3 else 1.0)
        )
    except (ValueError, IndexError):
        return None
    if alpha < 0.1:
        return TRANSPARENT
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, max(0.0, min(1.0, light)), max(0.0, min(1.0, sat)))
    return (round(r * 255), round(g * 255), round(b * 255))


_NOT_FOUND = "not-found"


def _decl_background(decl: Declarations) -> RGB | str | None:
    """The background the declarations alone decide, or ``_NOT_FOUND`` (attributes decide)."""
    image = decl.get("background-image", ("", False))[0]
    shorthand = decl.get("background", ("", False))[0]
    for value in (decl.get("background-color", ("", False))[0], shorthand):
        for token in _BG_TOKEN_RE.split(value):
            color = parse_color(token)
            if color is not None:
                return None if color == TRANSPARENT else color
    if "url(" in image or "url(" in shorthand or "gradient" in shorthand + image:
        return "image"
    return _NOT_FOUND


def _attr_background(el: Any, names: Collection[str]) -> RGB | str | None:
    """The background the ``bgcolor``/``background`` attributes give (``names``: the
    element's attribute names), when the declarations do not decide it.

    Clients block remote images by default, so a background colour given beside an image is
    what the reader sees; an image or gradient without a colour makes the background unknown.
    """
    if "bgcolor" in names:
        color = parse_color(el.get("bgcolor") or "")
        if color is not None and color != TRANSPARENT:
            return color
    if "background" in names and el.get("background"):
        return "image"
    return None


def _length(value: str) -> tuple[float, str] | None:
    match = _LENGTH_RE.match(value.strip())
    if not match:
        return None
    return float(match.group(1)), match.group(2) or "px"


def _is_tiny_font(value: str) -> bool:
    parsed = _length(value)
    if parsed is None:
        return False
    size, unit = parsed
    limits = {"px": 2.0, "pt": 1.5, "em": 0.15, "rem": 0.15, "%": 15.0, "ex": 0.3, "ch": 0.3}
    return size < limits.get(unit, 0.01)


def _is_tiny_box(value: str) -> bool:
    parsed = _length(value)
    if parsed is None or value.strip().startswith("auto"):
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


def subtree_method(decl: Declarations, el: Any) -> str | None:
    """The method hiding the whole element (and its descendants), or None."""
    if el.get("hidden") is not None:
        return "hidden_attribute"
    if el.tag in ("dialog", "datalist") and el.get("open") is None:
        return "display_none"  # the user-agent stylesheet hides these
    if not decl:
        return None
    return style_facts(decl).method


def _decl_method(decl: Declarations) -> str | None:
    """The whole-subtree method the declarations alone decide, or None."""
    get = decl.get

    def v(prop: str) -> str:
        return get(prop, ("", False))[0]

    if v("display") == "none" or v("content-visibility") == "hidden":
        return "display_none"
    if v("mso-hide") == "all":
        return "mso_hide"
    if "opacity(0)" in v("filter").replace(" ", "") or "opacity(0%)" in v("filter").replace(
        " ", ""
    ):
        return "opacity_zero"
    opacity = v("opacity")
    if opacity:
        try:
            amount = float(opacity[:-1]) / 100 if opacity.endswith("%") else float(opacity)
            if amount < 0.05:
                return "opacity_zero"
        except ValueError:
            pass
    overflow_hidden = any(
        v(p) in ("hidden", "clip") for p in ("overflow", "overflow-x", "overflow-y")
    )
    if overflow_hidden and any(
        _is_tiny_box(v(p)) for p in ("width", "height", "max-height", "max-width")
    ):
        return "zero_size_box"
    if "scale(0" in v("transform"):
        return "zero_size_box"
    positioned = v("position") in ("absolute", "fixed")
    clip = v("clip").replace(" ", "")
    clip_path = v("clip-path").replace(" ", "")
    if (positioned and clip.startswith("rect(0") and clip.count("0") >= 4) or clip_path in (
        "inset(50%)", "inset(100%)", "circle(0)", "circle(0px)", "polygon(0000)"
    ):  # fmt: skip
        return "clip"
    if (positioned and any(_is_far_negative(v(p)) for p in ("left", "top"))) or any(
        _is_far_negative(v(p)) for p in ("text-indent", "margin-left", "margin-top")
    ):
        return "offscreen"
    if positioned and any((_length(v(p)) or (0.0, ""))[0] >= 5000 for p in ("left", "top")):
        return "offscreen"
    translate = _TRANSLATE_RE.search(v("transform"))
    if translate and _is_far_negative(translate.group(1)):
        return "offscreen"
    return None


@attrs.frozen
class Facts:
    """What a set of declarations decides, independent of the element (cached by value)."""

    method: str | None
    color: RGB | str | None
    background: RGB | str | None
    tiny_font: bool | None
    invisible: bool | None


def _facts(decl: Declarations) -> Facts:
    color: RGB | str | None = None
    if "color" in decl:
        color = parse_color(decl["color"][0])
    if "-webkit-text-fill-color" in decl:
        fill = parse_color(decl["-webkit-text-fill-color"][0])
        if fill is not None:
            color = fill
    tiny: bool | None = None
    if "font" in decl:
        size = _FONT_SIZE_IN_SHORTHAND_RE.search(decl["font"][0])
        if size is not None:
            tiny = _is_tiny_font(size.group(1))
    if "font-size" in decl:
        tiny = _is_tiny_font(decl["font-size"][0])
    invisible = decl["visibility"][0] in ("hidden", "collapse") if "visibility" in decl else None
    return Facts(
        method=_decl_method(decl),
        color=color,
        background=_decl_background(decl),
        tiny_font=tiny,
        invisible=invisible,
    )


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
    if "hidden" in names:
        return "hidden_attribute"
    if el.tag in ("dialog", "datalist") and "open" not in names:
        return "display_none"  # the user-agent stylesheet hides these
    return None if facts is None else facts.method


class State(NamedTuple):
    """What an element inherits from its ancestors (a tuple: cheap to compare and to hash)."""

    color: RGB | str = (0, 0, 0)
    background: RGB | str = (255, 255, 255)
    tiny_font: bool = False
    invisible: bool = False


#: the inherited state at the document root: black text on white
ROOT_STATE = State()


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
    tag = None if el is None else el.tag
    if tag == "a" and "href" in names:
        color = _LINK_BLUE  # clients draw links in their own colour unless styled
    elif tag == "font" and "color" in names:
        parsed = parse_color(el.get("color") or "")
        if parsed is not None:
            color = parsed
    if facts is not None:
        if facts.color is not None:
            color = facts.color
        own_bg = _attr_background(el, names) if facts.background == _NOT_FOUND else facts.background
        if own_bg is not None:
            background = own_bg
        if facts.tiny_font is not None:
            tiny = facts.tiny_font
        if facts.invisible is not None:
            invisible = facts.invisible
    elif "bgcolor" in names and el.get("bgcolor"):
        own_bg = _attr_background(el, names)
        if own_bg is not None:
            background = own_bg
    if (
        color == state.color
        and background == state.background
        and tiny == state.tiny_font
        and invisible == state.invisible
    ):
        return state
    return State(color, background, tiny, invisible)


def text_method(state: State) -> str | None:
    """The method hiding text rendered under ``state``, or None."""
    if state.invisible:
        return "visibility_hidden"
    if state.tiny_font:
        return "tiny_font"
    if state.color == TRANSPARENT:
        return "transparent_text"
    if isinstance(state.color, tuple) and isinstance(state.background, tuple):
        dist = sum((a - b) ** 2 for a, b in zip(state.color, state.background, strict=True)) ** 0.5
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
        self.styled: dict[str, str | Inherited] = {}

    def with_style(self, style: str) -> str | Inherited:
        """The hiding method of an element with only ``style`` under this state, or the
        :class:`Inherited` its content gets (cached in :attr:`styled`)."""
        found = self.styled.get(style)
        if found is not None:
            return found
        facts = inline_facts(style)
        result: str | Inherited
        if facts is None:
            result = self
        elif facts.method is not None:
            result = facts.method
        else:
            result = inherited(child_state(self.state, facts, None, ()))
        if len(self.styled) >= _STYLED_CACHE_SIZE:
            self.styled.clear()
        self.styled[style] = result
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
