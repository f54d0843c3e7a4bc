"""CSS declarations, parsed by tinycss2: the visibility-relevant properties of a block.

Only the properties that decide visibility (and custom properties, for ``var()``) are kept;
``style`` attributes are parsed once per distinct text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import tinycss2

RELEVANT = frozenset(
    {
        "display", "visibility", "opacity", "font-size", "color", "background",
        "background-color", "background-image", "width", "height", "max-height", "max-width",
        "overflow", "overflow-x", "overflow-y", "clip", "clip-path", "position", "left", "top",
        "right", "bottom", "text-indent", "mso-hide", "line-height", "transform", "scale",
        "translate", "margin-left", "margin-top", "font", "filter", "content-visibility",
        "-webkit-text-fill-color", "zoom", "inset", "rotate", "animation", "animation-name",
        "padding", "padding-top", "padding-bottom", "padding-left", "padding-right",
    }
)  # fmt: skip

Declarations = dict[str, tuple[str, bool]]


def _value_text(tokens: Iterable[Any]) -> str:
    """A declaration value as normalized text: comments dropped, whitespace collapsed."""
    parts = []
    for token in tokens:
        if token.type == "comment":
            continue
        parts.append(" " if token.type == "whitespace" else token.serialize())
    return " ".join("".join(parts).split())


def declarations_of(nodes: Iterable[Any]) -> Declarations:
    """The visibility-relevant and custom declarations of parsed declaration nodes.

    The ``background`` shorthand is also expanded into ``background-color`` (its colour, else
    ``transparent``) and ``background-image``, so that the cascade orders it against those
    longhands as a browser does.
    """
    out: Declarations = {}

    def put(name: str, value: str, important: bool) -> None:
        if name in out and out[name][1] and not important:
            return
        out[name] = (value, important)

    for node in nodes:
        if node.type != "declaration":
            continue
        name = node.name if node.name.startswith("--") else node.lower_name
        if name not in RELEVANT and not name.startswith("--"):
            continue
        value = _value_text(node.value)
        if not name.startswith("--"):
            value = value.lower()
        put(name, value, node.important)
        if name == "background":
            if "var(" in value:  # expanded once var() is substituted: both read the colour
                color = image = value
            else:
                color, image = _background_parts(node.value)
            put("background-color", color, node.important)
            put("background-image", image, node.important)
        elif name == "font" and "var(" not in value:
            size = _font_size(node.value)
            if size is not None:  # the shorthand sets font-size: they cascade as one
                put("font-size", size, node.important)
    return out


def _font_size(tokens: Iterable[Any]) -> str | None:
    """The size a ``font`` shorthand gives (``0/0 a`` -> ``0``), or None."""
    for token in tokens:
        if token.type in ("dimension", "percentage") or (
            token.type == "number" and token.value == 0
        ):
            return str(token.serialize()).lower()
    return None


def _background_parts(tokens: Iterable[Any]) -> tuple[str, str]:
    """(colour, image) of a ``background`` shorthand's final layer."""
    color, image = "transparent", "none"
    for token in tokens:
        if token.type == "url" or (
            token.type == "function"
            and (token.lower_name.endswith("gradient") or token.lower_name == "url")
        ):
            image = token.serialize().lower()
        elif token.type in ("hash", "function") or (
            token.type == "ident" and token.lower_value not in _BACKGROUND_WORDS
        ):
            color = token.serialize().lower()
    return color, image


#: keywords of the background shorthand that are not colours
_BACKGROUND_WORDS = frozenset(
    {
        "none", "repeat", "no-repeat", "repeat-x", "repeat-y", "space", "round", "scroll",
        "fixed", "local", "top", "bottom", "left", "right", "center", "border-box",
        "padding-box", "content-box", "text", "cover", "contain", "auto", "inherit",
        "initial", "unset", "revert",
    }
)  # fmt: skip


def parse_declarations(text: str) -> Declarations:
    """Parse ``prop: value [!important]; ...`` keeping only visibility-relevant properties."""
    return declarations_of(
        tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True)
    )


_INLINE_CACHE_SIZE = 4096
_INLINE_CACHE_MAX_CHARS = 2000
_inline_cache: dict[str, Declarations] = {}
_inline_lock = threading.Lock()


def inline_declarations(text: str) -> Declarations:
    """:func:`parse_declarations` of a ``style`` attribute, cached by its text.

    Callers must not modify the returned dict (it is shared).
    """
    found = _inline_cache.get(text)
    if found is not None:
        return found
    decl = parse_declarations(text)
    if len(text) <= _INLINE_CACHE_MAX_CHARS:
        with _inline_lock:
            if len(_inline_cache) >= _INLINE_CACHE_SIZE:
                _inline_cache.clear()
            _inline_cache[text] = decl
    return decl
