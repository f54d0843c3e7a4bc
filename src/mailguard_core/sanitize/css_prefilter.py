"""The names a compiled selector needs in a document (its class names, ids and element
names): what lets :mod:`css` skip, in a large style sheet, the rules that cannot match (the
prefilter; see :func:`required_names` for why it is conservative)."""

from __future__ import annotations

from typing import Any

import cssselect

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """``text`` with A-Z lowered and nothing else changed (as XPath ``translate`` lowers
    class names in quirks mode; ``str.lower`` also folds other letters)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def required_names(tree: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The class names and ids (ASCII lower case), and the element names (as cssselect's
    HTML translator writes them in the XPath), in the compounds of a parsed selector.

    An element matching a compound has its element name, carries each of its class names in
    its ``class`` attribute and its id as its ``id``; the compounds left of a combinator must
    match some other element. So a document where one of the names appears in no ``class``
    or ``id`` attribute (compared in ASCII lower case, as a substring: a weaker test than the
    selector's), or where no element has one of the element names, has no element the
    selector matches. Only the chain of the selector itself is read (not the arguments of
    ``:not()``, ``:has()`` or other functions); callers leave out selectors with marks (their
    argument lists are evaluated apart) and with namespace prefixes (``|``: an undefined
    prefix is an XPath error, which has its own fallback).
    """
    out: list[str] = []
    tags: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, cssselect.parser.CombinedSelector):
            stack.append(node.selector)
            stack.append(node.subselector)
        elif isinstance(node, cssselect.parser.Class):
            out.append(ascii_lower(node.class_name))
            stack.append(node.selector)
        elif isinstance(node, cssselect.parser.Hash):
            out.append(ascii_lower(node.id))
            stack.append(node.selector)
        elif isinstance(node, cssselect.parser.Element):
            if node.element and node.namespace is None:
                tags.append(node.element.lower())  # cssselect's lower_case_element_names
        else:
            inner = getattr(node, "selector", None)
            if inner is not None:
                stack.append(inner)
    return tuple(dict.fromkeys(out)), tuple(dict.fromkeys(tags))
