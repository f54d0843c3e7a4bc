"""The rules of single setting values, as attrs validators and converters, and the error for
rules that span fields (in ``model`` so that a setting's value type that a port takes,
:class:`~mailguard_core.model.breaker.BreakerSettings`, carries them too).

Every configuration rule is written once, on the attrs class it belongs to: a field's own rule
as its ``validator`` (or ``converter``, when the value is also normalised), a rule between
fields in the class's ``__attrs_post_init__`` (raising :class:`Problems`). Both run whenever an
instance is built, in code or from TOML; :mod:`mailguard_core.config.structure` runs each
field's rules while cattrs structures it, so that every problem of a document is reported at
once with its key path. Nothing checks the values again later: the gate trusts a built
:class:`~mailguard_core.config.Config`.

A validator raises :class:`~mailguard_core.model.errors.ConfigError` whose public message is
the user-facing text (``"must be 1-65535"``); the key path is added where it is reported.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from mailguard_core.model.errors import ConfigError, MailguardError

_T = TypeVar("_T")

#: a problem of a rule between fields: (key path relative to the class, user-facing message)
Problem = tuple[str, str]


class Problems(ConfigError):
    """Rules between the fields of one class failed; ``problems`` lists each with its key
    path relative to the class (``""`` for the class itself)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        text = "; ".join(f"{path}: {message}" if path else message for path, message in problems)
        super().__init__(text, public=text)


def raise_problems(problems: Iterable[Problem]) -> None:
    """Raise :class:`Problems` when there is any."""
    found = list(problems)
    if found:
        raise Problems(found)


def fail(message: str) -> ConfigError:
    """The error a validator raises: ``message`` is the public text."""
    return ConfigError(message, public=message)


def check(rule: Callable[[Any], object]) -> Callable[[object, object, Any], None]:
    """An attrs validator from ``rule(value)``: any MailguardError it raises is reported with
    its public message."""

    def validator(_instance: object, _attribute: object, value: Any) -> None:
        try:
            rule(value)
        except ConfigError:
            raise
        except MailguardError as exc:
            raise fail(exc.public_message) from None

    return validator


def converting(rule: Callable[[_T], _T]) -> Callable[[_T], _T]:
    """An attrs converter from a normalising rule (``validate_address`` ...): its
    MailguardError becomes a ConfigError with the same public message."""

    def convert(value: _T) -> _T:
        try:
            return rule(value)
        except ConfigError:
            raise
        except MailguardError as exc:
            raise fail(exc.public_message) from None

    return convert


def each(rule: Callable[[str], str]) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """An attrs converter applying ``rule`` to every item; each failing item is named by its
    index (``[2]: invalid domain name``)."""
    convert_one = converting(rule)

    def convert(values: tuple[str, ...]) -> tuple[str, ...]:
        result, problems = [], []
        for index, value in enumerate(values):
            try:
                result.append(convert_one(value))
            except ConfigError as exc:
                problems.append((f"[{index}]", exc.public_message))
        raise_problems(problems)
        return tuple(result)

    return convert


def optional(
    rule: Callable[[object, object, Any], None],
) -> Callable[[object, object, Any], None]:
    def validator(instance: object, attribute: object, value: Any) -> None:
        if value is not None:
            rule(instance, attribute, value)

    return validator


def port(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= 65535:
        raise fail("must be 1-65535")


def host(_instance: object, _attribute: object, value: str) -> None:
    if not value or any(c.isspace() or not c.isprintable() or c in "/@" for c in value):
        raise fail("must be a host name or IP address")


def not_empty(_instance: object, _attribute: object, value: str) -> None:
    if not value:
        raise fail("must not be empty")


def positive(_instance: object, _attribute: object, value: float) -> None:
    if not value > 0:  # also refuses nan
        raise fail("must be greater than 0")


def not_negative(_instance: object, _attribute: object, value: float) -> None:
    if not value >= 0:
        raise fail("must not be negative")


def at_least_one(_instance: object, _attribute: object, value: int) -> None:
    if not value >= 1:
        raise fail("must be at least 1")


def within(low: float, high: float) -> Callable[[object, object, float], None]:
    def validator(_instance: object, _attribute: object, value: float) -> None:
        if not (math.isfinite(value) and low <= value <= high):
            raise fail(f"must be {low:g}-{high:g}")

    return validator


def expand(path: str | None) -> str | None:
    """A converter: ``~`` expanded."""
    return None if path is None else os.path.expanduser(path)


TOKEN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)


def token_text(what: str) -> Callable[[object, object, str], None]:
    def validator(_instance: object, _attribute: object, value: str) -> None:
        if not value or any(c not in TOKEN_CHARS for c in value):
            raise fail(f"must be a non-empty {what} (printable ASCII, no spaces)")

    return validator


def url(_instance: object, _attribute: object, value: str) -> None:
    """https URLs only; plain http only to a loopback address (a local test server)."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        parts, hostname = None, None
    if (
        parts is None
        or not hostname
        or any(c not in TOKEN_CHARS for c in value)
        or parts.fragment
        or not (
            parts.scheme == "https"
            or (parts.scheme == "http" and hostname in ("127.0.0.1", "::1", "localhost"))
        )
    ):
        raise fail("must be an https:// URL (http:// only on 127.0.0.1 or localhost)")
