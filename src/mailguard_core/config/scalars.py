"""The structure hooks of single values: exact TOML types (``port = "993"`` is refused, not
converted), the literal choices, and :class:`Invalid`, whose text is the user-facing message."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, get_args

from mailguard_core.config.defaults import kind_of
from mailguard_core.config.mail import TlsMode
from mailguard_core.model.tools import Posture


class Invalid(ValueError):
    """A type or value problem whose text is the user-facing message."""


def structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    raise Invalid(f"expected a string, got {kind_of(value)}")


def structure_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise Invalid(f"expected an integer, got {kind_of(value)}")


def structure_float(value: object, _: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise Invalid("must be a finite number (not inf or nan)")
        return float(value)
    raise Invalid(f"expected a number, got {kind_of(value)}")


def structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise Invalid(f"expected true or false, got {kind_of(value)}")


def structure_str_tuple(value: object, _: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise Invalid(f"expected an array of strings, got {kind_of(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise Invalid(f"item {index}: expected a string, got {kind_of(item)}")
    return tuple(value)


def structure_str_dict(value: object, _: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a table, got {kind_of(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise Invalid(f"{key}: expected a string, got {kind_of(item)}")
    return dict(value)


def structure_brands(value: object, _: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a table, got {kind_of(value)}")
    return {str(key): structure_str_tuple(item, None) for key, item in value.items()}


def structure_tls(value: object, _: object) -> str:
    if isinstance(value, str) and value in get_args(TlsMode):
        return value
    raise Invalid("must be 'implicit' or 'starttls'")


def literal_hook(kind: Any) -> Callable[[object, object], str]:
    choices = get_args(kind)

    def structure(value: object, _: object) -> str:
        if isinstance(value, str) and value in choices:
            return value
        raise Invalid("must be one of: " + ", ".join(repr(c) for c in choices))

    return structure


def structure_posture(value: object, _: object) -> Posture:
    if isinstance(value, str) and value in {p.value for p in Posture}:
        return Posture(value)
    raise Invalid("must be one of: " + ", ".join(repr(p.value) for p in Posture))
