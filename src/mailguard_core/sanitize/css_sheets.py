"""Style sheets as rule sources: tinycss2 parses, this module walks at-rules and nesting.

Every conditional group rule counts as applying (its rules are marked ``conditional``),
``@layer`` names are numbered in order of appearance, and nested rules are expanded (``&`` is
``:is(parent selectors)``). See :mod:`css` for the policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import tinycss2
import tinycss2.ast

from mailguard_core.sanitize.css_declarations import Declarations, declarations_of
from mailguard_core.sanitize.css_selectors import MAX_DEPTH, split_list

#: at-rules whose block holds no style rules for elements
_NO_RULES = frozenset(
    {
        "font-face", "keyframes", "-webkit-keyframes", "-moz-keyframes", "-o-keyframes", "page",
        "counter-style", "property", "font-feature-values", "font-palette-values",
        "color-profile", "viewport", "-ms-viewport", "position-try", "view-transition",
    }
)  # fmt: skip
#: the cascade layer of unlayered rules (after every named layer)
UNLAYERED = 1 << 30


def _tokens(text: str) -> list[Any]:
    return list(tinycss2.parse_component_value_list(text, skip_comments=True))


@attrs.frozen
class Source:
    """One (selector, declarations) rule of a sheet, before its selector is compiled."""

    tokens: tuple[Any, ...]
    declarations: Declarations
    order: int
    layer: int
    #: inside a conditional group rule
    conditional: bool
    #: the selectors of one selector list share it
    group: int = 0


class SheetParser:
    def __init__(self) -> None:
        self.sources: list[Source] = []
        self.order = 0
        self.layers: dict[str, int] = {}

    def layer(self, name: str) -> int:
        if name not in self.layers:
            self.layers[name] = len(self.layers)
        return self.layers[name]

    def sheet(self, text: str, start_order: int) -> None:
        self.order = start_order
        self.nodes(
            tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True),
            None,
            False,
            None,
            0,
        )

    def nodes(
        self,
        nodes: Iterable[Any],
        parents: list[list[Any]] | None,
        conditional: bool,
        layer: str | None,
        depth: int,
    ) -> None:
        if depth > MAX_DEPTH:
            return
        own: list[Any] = []
        for node in nodes:
            if node.type == "declaration":
                own.append(node)
            elif node.type == "qualified-rule":
                self.qualified(node, parents, conditional, layer, depth)
            elif node.type == "at-rule":
                self.at_rule(node, parents, conditional, layer, depth)
        if own and parents is not None:
            self.add(parents, declarations_of(own), conditional, layer)

    def at_rule(
        self,
        node: Any,
        parents: list[list[Any]] | None,
        conditional: bool,
        layer: str | None,
        depth: int,
    ) -> None:
        name = node.lower_at_keyword
        if name in _NO_RULES or name in ("import", "charset", "namespace"):
            return
        if name == "layer":
            names = [
                ".".join(filter(None, [layer, tinycss2.serialize(part).strip()]))
                for part in split_list(node.prelude)
            ]
            if node.content is None:
                for layer_name in names:
                    self.layer(layer_name)
                return
            inner = names[0] if names and names[0] else f"{layer or ''}.#anonymous{self.order}"
            self.layer(inner)
            self.nodes(_contents(node.content), parents, conditional, inner, depth + 1)
            return
        if node.content is None:
            return
        # @media, @supports, @container, @scope, @document, unknown: counts as applying
        self.nodes(_contents(node.content), parents, True, layer, depth + 1)

    def qualified(
        self,
        node: Any,
        parents: list[list[Any]] | None,
        conditional: bool,
        layer: str | None,
        depth: int,
    ) -> None:
        selectors = [s for s in split_list(node.prelude) if s]
        if parents is not None:
            selectors = [_nest(s, parents) for s in selectors]
        if not selectors:
            return
        self.nodes(_contents(node.content), selectors, conditional, layer, depth + 1)

    def add(
        self, selectors: list[list[Any]], decl: Declarations, conditional: bool, layer: str | None
    ) -> None:
        if not decl:
            return
        rank = UNLAYERED if layer is None else self.layer(layer)
        group = self.order + 1
        for tokens in selectors:
            self.order += 1
            self.sources.append(Source(tuple(tokens), decl, self.order, rank, conditional, group))


def _contents(tokens: Sequence[Any] | None) -> list[Any]:
    if not tokens:
        return []
    return list(tinycss2.parse_blocks_contents(tokens, skip_comments=True, skip_whitespace=True))


def _nest(tokens: list[Any], parents: list[list[Any]]) -> list[Any]:
    """A nested selector with ``&`` replaced by ``:is(parents)`` (or prefixed by it)."""
    parent_text = ", ".join(tinycss2.serialize(p) for p in parents)
    replacement = _tokens(f":is({parent_text})")
    has_amp = any(t.type == "literal" and t.value == "&" for t in tokens)
    if not has_amp:
        return [*replacement, tinycss2.ast.WhitespaceToken(0, 0, " "), *tokens]
    out: list[Any] = []
    for i, token in enumerate(tokens):
        if token.type == "literal" and token.value == "&":
            out.extend(replacement)
        elif token.type == "ident" and out and _follows_amp(tokens, i):
            # "&div" is "div:is(...)": a type selector must lead its compound
            out.insert(len(out) - len(replacement), token)
        else:
            out.append(token)
    return out


def _follows_amp(tokens: list[Any], i: int) -> bool:
    prev = tokens[i - 1] if i else None
    return prev is not None and prev.type == "literal" and prev.value == "&"
