"""Colours as a human sees them: CSS Color 4 values (tinycss2), backgrounds, legacy attributes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import tinycss2.color4

from mailguard_core.sanitize.css_declarations import Declarations
from mailguard_core.sanitize.css_values import component_values

RGB = tuple[int, int, int]

TRANSPARENT = "transparent"
#: ``currentColor``: the element's own text colour
CURRENT = "currentcolor"
#: ``inherit``/``unset``/``revert``: the parent's value
INHERIT = frozenset({"inherit", "unset", "revert", "revert-layer"})
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


_COLOR_CACHE_SIZE = 1024
_COLOR_CACHE_MAX_CHARS = 200
_color_cache: dict[str, RGB | str | None] = {}


def parse_color(value: str | Any) -> RGB | str | None:
    """Parse a CSS colour (tinycss2's CSS Color 4 parser): an RGB tuple, ``"transparent"``
    (alpha under 0.1), ``"currentcolor"``, or None if it is not a colour.

    Text values are cached (legacy mail repeats ``<font color>`` and ``bgcolor`` values on
    every cell); tokens are parsed each time.
    """
    if not isinstance(value, str):
        return _parse_color(value)
    try:
        return _color_cache[value]
    except KeyError:
        pass
    found = _parse_color(value)
    if len(value) <= _COLOR_CACHE_MAX_CHARS:
        if len(_color_cache) >= _COLOR_CACHE_SIZE:
            _color_cache.clear()
        _color_cache[value] = found
    return found


def _parse_color(value: str | Any) -> RGB | str | None:
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
            # tinycss2 1.5 names them ``coordinates`` (``params`` before): reading only
            # ``params`` raised on every lab()/lch()/display-p3 colour
            coordinates: Any = getattr(color, "coordinates", None) or getattr(color, "params", ())
            params = tuple(coordinates)
            if color.space in ("lab", "lch", "oklab", "oklch"):
                scale = 100.0 if color.space in ("lab", "lch") else 1.0
                channels = (float(params[0] or 0) / scale,) * 3  # lightness only
            else:
                channels = tuple(float(p or 0) for p in params[:3])
    r, g, b = (max(0, min(255, round(255 * (c or 0.0)))) for c in channels)
    return (r, g, b)


NOT_FOUND = "not-found"


#: ``background-color: inherit``: the parent's declared background
INHERITED = "inherited"


def decl_background(decl: Declarations) -> RGB | str | None:
    """The background the declarations alone decide, or ``NOT_FOUND`` (attributes decide).

    ``background`` is expanded into its longhands by :func:`css.declarations_of`; the
    shorthand itself is read only when it could not be (a ``var()`` inside).
    """
    image = decl.get("background-image", ("", False))[0]
    shorthand = decl.get("background", ("", False))[0]
    values = [decl["background-color"][0]] if "background-color" in decl else [shorthand]
    found: RGB | str | None = NOT_FOUND
    for value in values:
        if value == "inherit":
            found = INHERITED  # the parent's own background (currentColor stays a keyword)
            continue
        if value in INHERIT or value == "initial":
            found = None  # transparent over the parent's (attributes are overridden)
            continue
        for token in component_values(value):
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


def attr_background(el: Any, names: Collection[str]) -> RGB | str | None:
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


def text_color(value: str) -> RGB | str | None:
    if value in INHERIT:
        return None
    if value == "initial":
        return (0, 0, 0)
    return parse_color(value)
