"""Declaration values that hide a box: lengths, transforms, clips (tinycss2 tokens)."""

from __future__ import annotations

import math
from typing import Any

import tinycss2


def _values(value: str) -> list[Any]:
    """The component values of a declaration value, without whitespace."""
    return [
        t
        for t in tinycss2.parse_component_value_list(value, skip_comments=True)
        if t.type != "whitespace"
    ]


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
