"""Declaration values that hide a box: lengths, transforms, clips (tinycss2 tokens)."""

from __future__ import annotations

import math
from typing import Any

import tinycss2


def component_values(value: str) -> list[Any]:
    """The component values of a declaration value, without whitespace."""
    return [
        t
        for t in tinycss2.parse_component_value_list(value, skip_comments=True)
        if t.type != "whitespace"
    ]


def numeric_token(token: Any) -> tuple[float, str] | None:
    """A number, dimension or percentage token as (value, unit); None for anything else."""
    if token.type == "number":
        return float(token.value), ""
    if token.type == "dimension":
        return float(token.value), str(token.lower_unit)
    if token.type == "percentage":
        return float(token.value), "%"
    return None


def first_length(value: str) -> tuple[float, str] | None:
    """The first value of ``value`` as (number, unit), unit ``px`` for a bare number."""
    tokens = component_values(value)
    if not tokens:
        return None
    found = numeric_token(tokens[0])
    if found is None:
        return None
    return found[0], found[1] or "px"


def is_tiny_font(value: str) -> bool:
    parsed = first_length(value)
    if parsed is None:
        return False
    size, unit = parsed
    limits = {"px": 2.0, "pt": 1.5, "em": 0.15, "rem": 0.15, "%": 15.0, "ex": 0.3, "ch": 0.3}
    return size < limits.get(unit, 0.01)


def is_tiny_box(value: str) -> bool:
    parsed = first_length(value)
    if parsed is None:
        return False
    size, unit = parsed
    return size <= {"px": 1.0, "pt": 0.75, "em": 0.07, "rem": 0.07}.get(unit, 0.0)


def is_far_negative(value: str) -> bool:
    parsed = first_length(value)
    if parsed is None:
        return False
    size, unit = parsed
    return size <= {"px": -500.0, "pt": -375.0, "em": -30.0, "rem": -30.0, "%": -99.0}.get(
        unit, -500.0
    )


def is_far(value: str) -> bool:
    """Far enough, either way, to leave a mail client's window."""
    parsed = first_length(value)
    if parsed is None:
        return False
    size, unit = parsed
    return is_far_negative(value) or size >= {"px": 5000.0, "pt": 3750.0, "em": 300.0}.get(
        unit, 5000.0
    )


def numeric_arguments(fn: Any) -> list[float]:
    """The numeric arguments of a function token (percentages as fractions)."""
    out: list[float] = []
    for token in fn.arguments:
        found = numeric_token(token)
        if found is not None:
            out.append(found[0] / 100 if found[1] == "%" else found[0])
    return out


def _angle(token: Any) -> float | None:
    found = numeric_token(token)
    if found is None:
        return None
    value, unit = found
    return {"deg": value, "rad": math.degrees(value), "grad": value * 0.9, "turn": value * 360}.get(
        unit, value if unit == "" else None
    )


def transform_method(value: str) -> str | None:
    """``zero_size_box`` when a transform collapses the box, ``offscreen`` when it moves it far
    away, else None (scale, scaleX/Y/Z, scale3d, matrix, matrix3d, rotateX/Y, translate...)."""
    for fn in component_values(value):
        if fn.type != "function":
            continue
        name = fn.lower_name
        args = numeric_arguments(fn)
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
            lengths = [t.serialize() for t in fn.arguments if numeric_token(t) is not None]
            if any(is_far(x) for x in lengths):
                return "offscreen"
    return None


#: transform functions that turn a box: whether its text stays in the window is layout's
_TURNS = frozenset({"rotate", "rotatez", "skew", "skewx", "skewy", "rotate3d", "perspective"})


def transform_undecidable(value: str) -> bool:
    """A transform whose effect on visibility only layout decides: a rotation or skew by an
    angle that is not a multiple of 180 degrees (the box's corners swing out of the window),
    or math that does not fold (``scale(calc(100% - 1px))``)."""
    if has_math(value):
        folded = fold_math(value)
        if folded is None:
            return True
        value = folded
    for fn in component_values(value):
        if fn.type != "function" or fn.lower_name not in _TURNS:
            continue
        if fn.lower_name == "perspective":
            continue
        angles = [x for x in (_angle(t) for t in fn.arguments) if x is not None]
        if fn.lower_name == "rotate3d":
            angles = angles[-1:]
        if not angles or any(abs(math.sin(math.radians(a))) > 1e-6 for a in angles):
            return True
    return False


def scale_property(value: str) -> bool:
    """The ``scale`` property collapses the box (``scale: 0``, ``scale: 1 0``)."""
    numbers = [n for n in (numeric_token(t) for t in component_values(value)) if n is not None]
    scales = [v / 100 if unit == "%" else v for v, unit in numbers]
    return bool(scales) and any(abs(x) < 0.01 for x in scales[:2])


CLIP_PATH_NONE = frozenset({"", "none", "initial", "unset", "inherit", "revert"})


#: an ``inset()`` clip of less than this share on every side leaves a middle part of the box
#: whatever its size, but may cut words at its edges: flagged, not removed
_SMALL_INSET = 50.0


def clip_path_hides(value: str) -> bool:
    """A ``clip-path`` that can hide text: any shape but an ``inset()`` of nothing or of
    percentages under 50% (see :func:`clip_path_partial`): how much of the text any other
    clip leaves depends on the layout, so it fails closed."""
    for fn in component_values(value):
        if fn.type == "url":
            return True
        if fn.type != "function":
            continue
        if fn.lower_name == "inset" and _small_inset(fn) is not None:
            continue
        return True
    return False


def clip_path_partial(value: str) -> bool:
    """A ``clip-path: inset()`` of percentages under 50%: part of the box shows, but which
    words its edges cut only layout decides."""
    return any(
        fn.type == "function" and fn.lower_name == "inset" and _small_inset(fn)
        for fn in component_values(value)
    )


def _small_inset(fn: Any) -> bool | None:
    """None if the inset can hide the box; else whether it cuts anything."""
    values = [n for n in (numeric_token(t) for t in fn.arguments) if n is not None]
    if any(t.type == "ident" for t in fn.arguments):  # "round" radii
        return None
    if all(v <= 0 for v, _ in values):
        return False
    if all(v <= 0 or (unit == "%" and v < _SMALL_INSET) for v, unit in values):
        return True
    return None


def clip_hides(value: str) -> bool:
    """``clip: rect(...)`` with a zero width or height (``rect(0 0 0 0)``, commas or not)."""
    for fn in component_values(value):
        if fn.type == "function" and fn.lower_name == "rect":
            sides = [n[0] for n in (numeric_token(t) for t in fn.arguments) if n is not None]
            if len(sides) == 4 and (sides[1] <= sides[3] or sides[2] <= sides[0]):
                return True
    return False


# --- math functions ----------------------------------------------------------------------

#: math functions a value may hold; what :func:`fold_math` cannot fold stays undecided
MATH_FUNCTIONS = frozenset({"calc", "min", "max", "clamp", "-webkit-calc"})
#: absolute length units in px
_PX = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_PX["q"] = _PX["mm"] / 4
_Num = tuple[float, str]


def has_math(value: str) -> bool:
    """Whether a declaration value holds a math function (``calc()``, ``min()`` ...)."""
    return "(" in value and any(name + "(" in value for name in MATH_FUNCTIONS)


def fold_math(value: str) -> str | None:
    """``value`` with every math function replaced by its result, or None when one mixes
    units that only layout resolves (``calc(100% - 20px)``) or is not valid."""
    out: list[str] = []
    for token in tinycss2.parse_component_value_list(value, skip_comments=True):
        if token.type == "function" and token.lower_name in MATH_FUNCTIONS:
            found = _math_function(token)
            if found is None:
                return None
            number, unit = found
            out.append(f"{number:g}{unit}" if unit != "%" else f"{number:g}%")
        elif token.type == "function" and has_math(token.serialize()):
            inner = fold_math(tinycss2.serialize(token.arguments))
            if inner is None:
                return None
            out.append(f"{token.name}({inner})")
        else:
            out.append(token.serialize())
    return "".join(out)


def _math_function(fn: Any) -> _Num | None:
    args = _split_commas(fn.arguments)
    values = [_sum(arg) for arg in args]
    if any(v is None for v in values) or not values:
        return None
    nums = [v for v in values if v is not None]
    if len({unit for _, unit in nums}) > 1:
        return None
    name = fn.lower_name
    if name in ("calc", "-webkit-calc"):
        return nums[0] if len(nums) == 1 else None
    if name == "min":
        return min(nums)
    if name == "max":
        return max(nums)
    if len(nums) != 3:  # clamp(min, value, max)
        return None
    return max(nums[0], min(nums[1], nums[2]))


def _split_commas(tokens: list[Any]) -> list[list[Any]]:
    out: list[list[Any]] = [[]]
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            out.append([])
        elif token.type not in ("whitespace", "comment"):
            out[-1].append(token)
    return out


def _term(token: Any) -> _Num | None:
    if token.type == "() block":
        return _sum([t for t in token.content if t.type not in ("whitespace", "comment")])
    if token.type == "function" and token.lower_name in MATH_FUNCTIONS:
        return _math_function(token)
    found = numeric_token(token)
    if found is None:
        return None
    value, unit = found
    if unit in _PX:
        return value * _PX[unit], "px"
    return value, unit


def _sum(tokens: list[Any]) -> _Num | None:
    """A sum of products (``a * b / c + d - e``); signs come as separate literals or inside
    numbers (tinycss2 reads ``-5px`` as one token)."""
    total: _Num | None = None
    product: _Num | None = None
    op = "+"
    pending = "*"
    for token in tokens:
        if token.type == "literal" and token.value in "+-" and product is not None:
            total = _add(total, product, op)
            if total is None:
                return None
            product, op, pending = None, token.value, "*"
            continue
        if token.type == "literal" and token.value in "*/":
            pending = token.value
            continue
        term = _term(token)
        if term is None:
            return None
        product = term if product is None else _multiply(product, term, pending)
        if product is None:
            return None
    if product is None:
        return None
    return _add(total, product, op)


def _add(total: _Num | None, term: _Num, op: str) -> _Num | None:
    value = term[0] if op == "+" else -term[0]
    if total is None:
        return value, term[1]
    if total[1] != term[1]:
        return None
    return total[0] + value, total[1]


def _multiply(left: _Num, right: _Num, op: str) -> _Num | None:
    if op == "*":
        if left[1] and right[1]:
            return None
        return left[0] * right[0], left[1] or right[1]
    if right[1] or right[0] == 0:
        return None
    return left[0] / right[0], left[1]
