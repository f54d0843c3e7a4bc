"""The cascade for mail: which declarations apply to which element, decided by maintained parsers.

Syntax is tinycss2's (style sheets, ``style`` attributes, comments, escapes, strings, at-rules,
nesting, ``!important``) and cssselect's (selectors, compiled to XPath through
``lxml.cssselect`` and evaluated by libxml2 once per document). This module only decides the
policy, failing closed:

- Rules come in two kinds. *Certain* rules apply as written. *Possible* rules might apply or
  not: everything inside a conditional group rule (``@media`` with any query, ``@supports``,
  ``@container``, ``@scope``, ``@document``, any unknown at-rule with a block), and rules whose
  selector holds something a static document cannot decide (``:hover``, ``:focus`` ...,
  ``::first-line``; an unknown pseudo-class). The cascade is computed twice: with the certain
  rules only and with all rules (an undecidable pseudo-class then matches where its polarity
  makes the selector match more, and never under ``:not``). :mod:`hidden` hides what either
  variant hides.
- ``@layer`` orders the cascade as browsers do (unlayered styles beat layered ones;
  ``!important`` reverses the layer order).
- CSS nesting is expanded (``&`` stands for ``:is(parent selectors)``; a nested selector without
  ``&`` is relative to its parent). ``:is``, ``:where``, ``:not`` and ``:matches`` take any
  selector list: each argument list is evaluated first and its matches are marked with an
  attribute the selector then tests (the mark attributes are removed afterwards).
- A rule that could hide text but whose selector cannot be compiled or evaluated is counted in
  :attr:`Matched.unsupported` (the caller warns that some text may be invisible to the human)
  and is applied to every element its rightmost compound could match, or to every element.

Pseudo-elements that draw a separate box (``::before``, ``::after``, ``::marker`` ...) do not
style the element's own text, so their rules are left out. Only the properties that decide
visibility (and custom properties, for ``var()``) are kept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import cssselect
import tinycss2
import tinycss2.ast
from lxml import etree

RELEVANT = frozenset(
    {
        "display", "visibility", "opacity", "font-size", "color", "background",
        "background-color", "background-image", "width", "height", "max-height", "max-width",
        "overflow", "overflow-x", "overflow-y", "clip", "clip-path", "position", "left", "top",
        "right", "bottom", "text-indent", "mso-hide", "line-height", "transform", "scale",
        "translate", "margin-left", "margin-top", "font", "filter", "content-visibility",
        "-webkit-text-fill-color", "zoom", "inset",
    }
)  # fmt: skip

Declarations = dict[str, tuple[str, bool]]

#: at-rules whose block holds no style rules for elements
_NO_RULES = frozenset(
    {
        "font-face", "keyframes", "-webkit-keyframes", "-moz-keyframes", "-o-keyframes", "page",
        "counter-style", "property", "font-feature-values", "font-palette-values",
        "color-profile", "viewport", "-ms-viewport", "position-try", "view-transition",
    }
)  # fmt: skip
#: pseudo-classes a static document decides and cssselect evaluates
_STATIC = frozenset(
    {
        "first-child", "last-child", "only-child", "first-of-type", "last-of-type",
        "only-of-type", "empty", "root", "link", "checked", "enabled", "disabled",
    }
)  # fmt: skip
_STATIC_FUNCTIONS = frozenset(
    {"nth-child", "nth-last-child", "nth-of-type", "nth-last-of-type", "lang"}
)
#: pseudo-elements that style the element's own text (applied to the element, as possible)
_TEXT_PSEUDO_ELEMENTS = frozenset({"first-line", "first-letter"})
#: legacy single-colon pseudo-elements
_LEGACY_PSEUDO_ELEMENTS = frozenset({"before", "after", "first-line", "first-letter"})
#: selector-list functions Chromium knows (``:matches`` and ``:-moz-any`` it does not)
_LIST_FUNCTIONS = frozenset({"is", "where", "not", "-webkit-any"})
#: pseudo-classes browsers know that a static document cannot decide
_DYNAMIC = frozenset(
    {
        "hover", "focus", "active", "visited", "target", "focus-within", "focus-visible",
        "target-within", "autofill", "-webkit-autofill", "playing", "paused", "current",
        "past", "future", "user-invalid", "user-valid", "placeholder-shown", "read-only",
        "read-write", "required", "optional", "valid", "invalid", "in-range", "out-of-range",
        "indeterminate", "default", "fullscreen", "modal", "popover-open", "open", "closed",
    }
)  # fmt: skip
#: the mark attributes; any the message itself carries are removed before matching
MARK_PREFIX = "data-mailguard-css-"
_NEVER = MARK_PREFIX + "never"
#: top-level delimiters no selector can hold
_NEVER_IN_SELECTORS = frozenset({";", "!", "{", "}"})
#: how deep selector functions and nested rules may go before a rule counts as unsupported
_MAX_DEPTH = 16
#: rule order values: sheets are numbered apart so a sheet's rules stay after earlier sheets'
_SHEET_STRIDE = 1_000_000
#: the cascade layer of unlayered rules (after every named layer)
UNLAYERED = 1 << 30


class Unsupported(Exception):
    """A selector this engine cannot compile."""


def _tokens(text: str) -> list[Any]:
    return list(tinycss2.parse_component_value_list(text, skip_comments=True))


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
    return out


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


# --- selectors ---------------------------------------------------------------------------


@attrs.frozen
class Compiled:
    """A selector compiled to XPath: marks to set first (inner selector lists), then the test.

    ``marks``: (attribute, XPath expressions of the argument list) in evaluation order;
    ``xpath``: the selector itself, testing the marks as attributes.
    """

    marks: tuple[tuple[str, tuple[str, ...]], ...]
    xpath: str
    specificity: tuple[int, int, int]
    #: the selector holds something a static document cannot decide (a possible rule)
    possible: bool
    #: the selector holds something browsers do not know
    unknown: bool = False


class _Compiler:
    """Rewrites one selector's tokens into a cssselect selector plus marks."""

    def __init__(self, key: str, quirks: bool) -> None:
        self.key = key
        self.quirks = quirks
        self.marks: list[tuple[str, tuple[str, ...]]] = []
        self.possible = False
        #: something browsers do not know (which drops a whole selector list in a browser)
        self.unknown = False
        #: specificity to add for marks (their own counts as one attribute selector)
        self.adjust = [0, 0, 0]

    def compile(self, tokens: Sequence[Any], negated: bool = False, depth: int = 0) -> str:
        """cssselect text for one complex selector's tokens (marks are recorded)."""
        if depth > _MAX_DEPTH:
            raise Unsupported("too deep")
        out: list[str] = []
        i, n = 0, len(tokens)
        while i < n:
            token = tokens[i]
            if token.type == "comment":
                i += 1
                continue
            if token.type == "literal" and token.value == ":" and i + 1 < n:
                nxt = tokens[i + 1]
                if nxt.type == "literal" and nxt.value == ":" and i + 2 < n:
                    # ::pseudo-element
                    name = _name_of(tokens[i + 2])
                    if name in _TEXT_PSEUDO_ELEMENTS and not negated:
                        self.possible = True
                        i += 3
                        continue
                    raise _Skip(name)
                name = _name_of(nxt)
                if nxt.type == "function":
                    out.append(self._function(nxt, negated, depth))
                elif name in _LEGACY_PSEUDO_ELEMENTS:
                    if name in _TEXT_PSEUDO_ELEMENTS and not negated:
                        self.possible = True
                    else:
                        raise _Skip(name)
                elif name in _STATIC:
                    out.append(":" + name)
                elif name == "any-link":
                    out.append(":link")
                elif name == "defined":
                    pass
                else:
                    self.unknown = self.unknown or name not in _DYNAMIC
                    out.append(self._undecidable(negated))
                i += 2
                continue
            out.append(token.serialize())
            i += 1
        return "".join(out)

    def _undecidable(self, negated: bool) -> str:
        """An undecidable pseudo-class: matches (a possible rule), or never under ``:not``."""
        self.possible = True
        return f"[{_NEVER}]" if negated else ""

    def _function(self, fn: Any, negated: bool, depth: int) -> str:
        name = fn.lower_name
        if name in _STATIC_FUNCTIONS:
            return ":" + str(fn.serialize())
        if name == "has":
            text = tinycss2.serialize(fn.arguments)
            if ":" in text or "&" in text:
                return self._undecidable(negated)
            return f":has({text})"
        if name not in _LIST_FUNCTIONS:
            self.unknown = self.unknown or name not in ("dir", "host", "host-context", "state")
            return self._undecidable(negated)
        inner_negated = negated != (name == "not")
        expressions: list[str] = []
        best = (0, 0, 0)
        for argument in split_list(fn.arguments):
            if not argument:
                continue
            adjust = list(self.adjust)
            try:
                text = self.compile(argument, inner_negated, depth + 1)
                selector = _parse_one(text)
                expressions.append(_translate(selector, self.quirks))
            except _Skip:
                self.adjust = adjust
                if name == "not":
                    raise
                continue  # :is/:where take forgiving selector lists
            # marks made inside this argument count with their own adjustments
            spec = _specificity(selector)
            spec = (
                spec[0] + self.adjust[0] - adjust[0],
                spec[1] + self.adjust[1] - adjust[1],
                spec[2] + self.adjust[2] - adjust[2],
            )
            self.adjust = adjust
            best = max(best, spec)
        if not expressions:
            if name == "not":
                raise Unsupported(":not()")
            return f"[{_NEVER}]"  # an empty forgiving list matches nothing
        mark = f"{MARK_PREFIX}{self.key}-{len(self.marks)}"
        self.marks.append((mark, tuple(expressions)))
        # the mark is an attribute selector (0, 1, 0); the function counts as its best argument
        if name == "where":
            best = (0, 0, 0)
        self.adjust = [
            self.adjust[0] + best[0],
            self.adjust[1] + best[1] - 1,
            self.adjust[2] + best[2],
        ]
        return f":not([{mark}])" if name == "not" else f"[{mark}]"


class _Skip(Exception):
    """A selector for a pseudo-element box: its rule does not style the element's text."""


def _name_of(token: Any) -> str:
    if token.type == "ident":
        return str(token.lower_value)
    if token.type == "function":
        return str(token.lower_name)
    return ""


def split_list(tokens: Sequence[Any]) -> list[list[Any]]:
    """Split a selector list at its top-level commas (tinycss2 keeps nested blocks whole)."""
    out: list[list[Any]] = [[]]
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            out.append([])
        else:
            out[-1].append(token)
    return [_strip(part) for part in out]


def _strip(tokens: list[Any]) -> list[Any]:
    start, end = 0, len(tokens)
    while start < end and tokens[start].type in ("whitespace", "comment"):
        start += 1
    while end > start and tokens[end - 1].type in ("whitespace", "comment"):
        end -= 1
    return tokens[start:end]


class _QuirksTranslator(cssselect.HTMLTranslator):
    """cssselect's HTML translator with ASCII case-insensitive class and id tests, as
    browsers match them in quirks mode (a document without ``<!DOCTYPE html>``: most mail)."""

    def xpath_class(self, class_selector: Any) -> Any:
        xpath = self.xpath(class_selector.selector)
        name = class_selector.class_name.lower()
        return xpath.add_condition(
            "@class and contains(concat(' ', normalize-space(translate(@class, "
            f"'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')), ' '), "
            f"{self.xpath_literal(' ' + name + ' ')})"
        )

    def xpath_hash(self, id_selector: Any) -> Any:
        xpath = self.xpath(id_selector.selector)
        return xpath.add_condition(
            "translate(@id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = "
            f"{self.xpath_literal(id_selector.id.lower())}"
        )


_TRANSLATORS = (cssselect.HTMLTranslator(), _QuirksTranslator())


def _parse_one(text: str) -> Any:
    try:
        selectors = cssselect.parse(text)
    except (cssselect.SelectorError, ValueError, IndexError, AttributeError) as exc:
        raise Unsupported(str(exc)) from exc
    if len(selectors) != 1:
        raise Unsupported("not one selector")
    if selectors[0].pseudo_element is not None:
        raise _Skip(str(selectors[0].pseudo_element))
    return selectors[0]


def _translate(selector: Any, quirks: bool) -> str:
    try:
        translator = _TRANSLATORS[quirks]
        return str(translator.selector_to_xpath(selector, prefix="descendant-or-self::"))
    except (cssselect.SelectorError, cssselect.xpath.ExpressionError, ValueError) as exc:
        raise Unsupported(str(exc)) from exc


def _specificity(selector: Any) -> tuple[int, int, int]:
    a, b, c = selector.specificity()
    return (int(a), int(b), int(c))


def compile_selector(tokens: Sequence[Any], key: str, quirks: bool) -> Compiled:
    """Compile one complex selector; raises :class:`Unsupported` or :class:`_Skip`."""
    compiler = _Compiler(key, quirks)
    text = compiler.compile(tokens).strip()
    if not text:
        text = "*"
    selector = _parse_one(text)
    xpath = _translate(selector, quirks)
    spec = _specificity(selector)
    adjust = compiler.adjust
    spec = (spec[0] + adjust[0], max(0, spec[1] + adjust[1]), spec[2] + adjust[2])
    return Compiled(
        marks=tuple(compiler.marks),
        xpath=xpath,
        specificity=spec,
        possible=compiler.possible,
        unknown=compiler.unknown,
    )


def fallback_selector(tokens: Sequence[Any], quirks: bool) -> Compiled:
    """A superset for an unsupported selector: its rightmost compound's type, id and classes
    when those compile, else every element."""
    last: list[Any] = []
    for token in tokens:
        if token.type == "whitespace" or (token.type == "literal" and token.value in ">+~"):
            last = []
        else:
            last.append(token)
    simple: list[str] = []
    for i, token in enumerate(last):
        prev = last[i - 1] if i else None
        after_colon = prev is not None and prev.type == "literal" and prev.value == ":"
        if (token.type == "ident" and not after_colon) or (
            token.type == "hash" and token.is_identifier
        ):
            simple.append(token.serialize())
        elif (
            token.type == "literal"
            and token.value == "."
            and i + 1 < len(last)
            and last[i + 1].type == "ident"
        ):
            simple.append("." + last[i + 1].serialize())
    for text in ("".join(simple), "*"):
        if not text:
            continue
        try:
            xpath = _translate(_parse_one(text), quirks)
        except (Unsupported, _Skip):
            continue
        return Compiled(marks=(), xpath=xpath, specificity=(0, 0, 0), possible=True)
    return Compiled(marks=(), xpath="descendant-or-self::*", specificity=(0, 0, 0), possible=True)


# --- style sheets ------------------------------------------------------------------------


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


@attrs.frozen
class Rule:
    compiled: Compiled
    declarations: Declarations
    order: int
    layer: int
    #: inside a conditional group rule, or a selector with undecidable parts
    possible: bool
    #: the selector could not be compiled (``compiled`` is a superset)
    unsupported: bool
    #: the selector list it came from
    group: int = 0


class _SheetParser:
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
        if depth > _MAX_DEPTH:
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
    for token in tokens:
        if token.type == "literal" and token.value == "&":
            out.extend(replacement)
        else:
            out.append(token)
    return out


def compile_rules(sources: Iterable[Source], quirks: bool) -> list[Rule]:
    """Compile the selectors of ``sources`` for a document in quirks mode or not."""
    rules: list[Rule] = []
    for source in sources:
        if any(t.type == "literal" and t.value in _NEVER_IN_SELECTORS for t in source.tokens):
            continue  # invalid in every browser: the rule is dropped (a stray ";" before it)
        unsupported = False
        try:
            compiled = compile_selector(source.tokens, str(source.order), quirks)
        except _Skip:
            continue
        except Unsupported:
            compiled = fallback_selector(source.tokens, quirks)
            unsupported = True
        rules.append(
            Rule(
                compiled=compiled,
                declarations=source.declarations,
                order=source.order,
                layer=source.layer,
                possible=source.conditional or compiled.possible,
                unsupported=unsupported,
                group=source.group,
            )
        )
    # A selector a browser does not know drops its whole list there: such lists only
    # possibly apply.
    doubtful = {r.group for r in rules if r.unsupported or r.compiled.unknown}
    if doubtful:
        rules = [
            attrs.evolve(r, possible=True) if r.group in doubtful and not r.possible else r
            for r in rules
        ]
    return rules


def parse_stylesheet(sheet: str, *, quirks: bool = True) -> list[Rule]:
    """Parse one ``<style>`` sheet into compiled rules with visibility-relevant declarations."""
    parser = _SheetParser()
    parser.sheet(sheet, 0)
    return compile_rules(parser.sources, quirks)


# --- the document's cascade --------------------------------------------------------------

_XPATH_CACHE_SIZE = 4096
_local = threading.local()


def _xpath(expression: str) -> Any:
    """A compiled XPath, cached per thread (an ``etree.XPath`` is not shared across threads)."""
    cache: dict[str, Any] | None = getattr(_local, "xpaths", None)
    if cache is None:
        cache = _local.xpaths = {}
    found = cache.get(expression)
    if found is None:
        if len(cache) >= _XPATH_CACHE_SIZE:
            cache.clear()
        found = cache[expression] = etree.XPath(expression)
    return found


#: public identifiers of doctypes that put a browser in quirks mode (prefixes, lowercase)
_QUIRKS_PUBLIC = (
    "-//w3c//dtd html 3", "-//w3c//dtd html 4.0 transitional", "-//w3c//dtd html 4.0 frameset",
    "-//w3c//dtd html 2", "-//ietf//", "-//netscape", "-//microsoft", "-//w3o//", "html",
)  # fmt: skip
_QUIRKS_WITHOUT_SYSTEM = ("-//w3c//dtd html 4.01 transitional", "-//w3c//dtd html 4.01 frameset")


def is_quirks(doc: Any) -> bool:
    """Whether a browser renders ``doc`` in quirks mode.

    libxml2 gives a document without a doctype the HTML 4.0 transitional one, itself a
    quirks doctype, so "no doctype" and "legacy doctype" are one case here.
    """
    info = doc.getroottree().docinfo
    public = (info.public_id or "").lower()
    if not public:
        return (info.doctype or "").lower().split()[:2] != ["<!doctype", "html>"] and not (
            (info.doctype or "").lower().startswith("<!doctype html ")
        )
    if public.startswith(_QUIRKS_WITHOUT_SYSTEM):
        return not info.system_url
    return public.startswith(_QUIRKS_PUBLIC)


class StyleIndex:
    """A document's style sheets as rules, ready to be matched against a parsed document."""

    def __init__(self, sheets: Sequence[str]) -> None:
        parser = _SheetParser()
        for i, sheet in enumerate(sheets):
            parser.sheet(sheet, i * _SHEET_STRIDE)
        self.sources = parser.sources
        self.empty = not self.sources
        #: how many (selector, declarations) rules the sheets gave
        self.size = len(self.sources)
        self._compiled: dict[bool, list[Rule]] = {}
        self._lock = threading.Lock()

    def rules(self, quirks: bool) -> list[Rule]:
        """The rules compiled for a document in quirks mode (or not)."""
        found = self._compiled.get(quirks)
        if found is None:
            found = compile_rules(self.sources, quirks)
            with self._lock:
                self._compiled[quirks] = found
        return found

    def match(self, doc: Any) -> Matched:
        """Evaluate every rule's selector over ``doc`` (the tree as parsed)."""
        matched = Matched()
        if self.empty:
            return matched
        stale = doc.xpath(f"//*[@*[starts-with(name(), '{MARK_PREFIX}')]]")
        for el in stale:
            for name in [k for k in el.attrib if k.startswith(MARK_PREFIX)]:
                del el.attrib[name]
        marked: list[tuple[Any, str]] = []
        by_element = matched.rules
        for rule in self.rules(is_quirks(doc)):
            compiled = rule.compiled
            try:
                for mark, expressions in compiled.marks:
                    for expression in expressions:
                        for el in _xpath(expression)(doc):
                            if isinstance(el.tag, str) and el.get(mark) is None:
                                el.set(mark, "")
                                marked.append((el, mark))
                elements = _xpath(compiled.xpath)(doc)
            except etree.XPathError:
                elements = doc.xpath("descendant-or-self::*")
                rule = attrs.evolve(rule, unsupported=True, possible=True)
            if rule.unsupported and _may_hide(rule.declarations):
                matched.unsupported += 1
            for el in elements:
                found = by_element.get(el)
                if found is None:
                    by_element[el] = [rule]
                else:
                    found.append(rule)
        for el, mark in marked:
            el.attrib.pop(mark, None)
        return matched


def _may_hide(decl: Declarations) -> bool:
    """Declarations that could hide text somewhere (conservative: any relevant one)."""
    return any(not name.startswith("--") for name in decl)


@attrs.define
class Matched:
    """The rules matching each element of one document."""

    rules: dict[Any, list[Rule]] = attrs.field(factory=dict)
    #: hiding rules whose selector could not be compiled or evaluated
    unsupported: int = 0

    def computed(self, el: Any) -> tuple[Declarations, Declarations | None]:
        """The cascaded declarations of ``el``: with certain rules only, and with all rules
        when a possible rule matches it (else None)."""
        rules = self.rules.get(el)
        inline = el.get("style")
        inline_decl = inline_declarations(inline) if inline else {}
        if not rules:
            return inline_decl, None
        certain = [r for r in rules if not r.possible]
        first = cascade(certain, inline_decl)
        if len(certain) == len(rules):
            return first, None
        return first, cascade(rules, inline_decl)


def cascade(rules: Sequence[Rule], inline: Declarations) -> Declarations:
    """Cascade sheet rules and an inline style: importance, inline, layer, specificity, order."""
    if not rules:
        return inline
    winners: dict[str, tuple[tuple[int, ...], str]] = {}
    for rule in rules:
        for prop, (value, important) in rule.declarations.items():
            if important:
                key: tuple[int, ...] = (2, 0, -rule.layer, *rule.compiled.specificity, rule.order)
            else:
                key = (0, 0, rule.layer, *rule.compiled.specificity, rule.order)
            found = winners.get(prop)
            if found is None or key > found[0]:
                winners[prop] = (key, value)
    for prop, (value, important) in inline.items():
        key = (2, 1) if important else (1, 0)
        found = winners.get(prop)
        if found is None or key > found[0]:
            winners[prop] = (key, value)
    return {prop: (value, key[0] == 2) for prop, (key, value) in winners.items()}


_INDEX_CACHE_SIZE = 64
_INDEX_CACHE_MAX_CHARS = 32_000
_index_cache: dict[tuple[str, ...], StyleIndex] = {}
_index_lock = threading.Lock()


def style_index(sheets: Sequence[str]) -> StyleIndex:
    """The :class:`StyleIndex` of a document's ``<style>`` sheets, in document order.

    Cached by the sheets' text: mail from one sender repeats the same sheet. Callers must not
    modify the returned index (it is shared).
    """
    key = tuple(sheets)
    found = _index_cache.get(key)
    if found is not None:
        return found
    index = StyleIndex(key)
    if sum(len(sheet) for sheet in key) <= _INDEX_CACHE_MAX_CHARS:
        with _index_lock:
            if len(_index_cache) >= _INDEX_CACHE_SIZE:
                _index_cache.clear()
            _index_cache[key] = index
    return index
