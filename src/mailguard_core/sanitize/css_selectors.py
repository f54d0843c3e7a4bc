"""Selectors compiled to XPath by cssselect, with mailguard's fail-closed policy.

tinycss2 gives a selector's tokens; this module rewrites what cssselect cannot take
(``:is``/``:where``/``:not`` with selector lists become marks evaluated first, undecidable
pseudo-classes match or never match by polarity, pseudo-elements that draw their own box are
skipped) and lets cssselect compile the rest to XPath (see :mod:`css` for the policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import cssselect

from mailguard_core.sanitize.css_prefilter import ascii_lower, required_names

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
MAX_DEPTH = 16


class Unsupported(Exception):
    """A selector this engine cannot compile."""


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
    #: class names and ids (ASCII lower case) some element of the document must carry for
    #: the selector to match anything (see :func:`required_names`)
    needs: tuple[str, ...] = ()
    #: element names some element of the document must have (see :func:`required_names`)
    tags: tuple[str, ...] = ()


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
        if depth > MAX_DEPTH:
            raise Unsupported("too deep")
        if _pseudo_element_not_last(tokens):
            raise Invalid("a pseudo-element must end its selector")
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
                    raise Skip(name, self.unknown)
                name = _name_of(nxt)
                if nxt.type == "function":
                    out.append(self._function(nxt, negated, depth))
                elif name in _LEGACY_PSEUDO_ELEMENTS:
                    if name in _TEXT_PSEUDO_ELEMENTS and not negated:
                        self.possible = True
                    else:
                        raise Skip(name, self.unknown)
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

    def _has(self, fn: Any, negated: bool, depth: int) -> str:
        """``:has()`` with each relative selector's compound parts compiled (cssselect takes
        the leading combinator); undecidable when one cannot be."""
        parts: list[str] = []
        for argument in split_list(fn.arguments):
            lead = ""
            if argument and argument[0].type == "literal" and argument[0].value in ">+~":
                lead, argument = argument[0].value + " ", _strip(argument[1:])
            if not argument or any(t.type == "literal" and t.value == "&" for t in argument):
                return self._undecidable(negated)
            try:
                parts.append(lead + self.compile(argument, negated, depth + 1))
            except Skip as exc:  # a pseudo-element: invalid in :has(), the list is dropped
                raise Invalid(str(exc)) from exc
        return f":has({', '.join(parts)})" if parts else self._undecidable(negated)

    def _undecidable(self, negated: bool) -> str:
        """An undecidable pseudo-class: matches (a possible rule), or never under ``:not``."""
        self.possible = True
        return f"[{_NEVER}]" if negated else ""

    def _function(self, fn: Any, negated: bool, depth: int) -> str:
        name = fn.lower_name
        if name in _STATIC_FUNCTIONS:
            return ":" + str(fn.serialize())
        if name == "has":
            return self._has(fn, negated, depth)
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
            except Skip as exc:
                self.adjust = adjust
                if name == "not":  # not forgiving: the whole list is dropped
                    raise Invalid(str(exc)) from exc
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


class Invalid(Exception):
    """A selector every browser rejects: its whole selector list is dropped there."""


def _pseudo_element_not_last(tokens: Sequence[Any]) -> bool:
    """Something follows a pseudo-element (``::first-line > a``, ``::after .x``)."""
    n = len(tokens)
    for i, token in enumerate(tokens):
        if token.type != "literal" or token.value != ":" or i + 1 >= n:
            continue
        nxt = tokens[i + 1]
        if nxt.type == "literal" and nxt.value == ":":
            end = i + 3
        elif _name_of(nxt) in _LEGACY_PSEUDO_ELEMENTS:
            end = i + 2
        else:
            continue
        return any(t.type not in ("whitespace", "comment") for t in tokens[end:])
    return False


class Skip(Exception):
    """A selector for a pseudo-element box: its rule does not style the element's text.

    ``unknown``: the selector also holds something browsers do not know (its list is then
    dropped there, see :attr:`Compiled.unknown`)."""

    def __init__(self, name: str, unknown: bool = False) -> None:
        super().__init__(name)
        self.unknown = unknown


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
        name = ascii_lower(class_selector.class_name)
        return xpath.add_condition(
            "@class and contains(concat(' ', normalize-space(translate(@class, "
            f"'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')), ' '), "
            f"{self.xpath_literal(' ' + name + ' ')})"
        )

    def xpath_hash(self, id_selector: Any) -> Any:
        xpath = self.xpath(id_selector.selector)
        return xpath.add_condition(
            "translate(@id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = "
            f"{self.xpath_literal(ascii_lower(id_selector.id))}"
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
        raise Skip(str(selectors[0].pseudo_element))
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
    """Compile one complex selector; raises :class:`Unsupported` or :class:`Skip`."""
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
        **_requirements(compiler, text, selector),
    )


def _requirements(compiler: _Compiler, text: str, selector: Any) -> dict[str, tuple[str, ...]]:
    """:attr:`Compiled.needs` and :attr:`Compiled.tags` (none for a selector with marks or a
    namespace prefix)."""
    if compiler.marks or "|" in text:
        return {}
    needs, tags = required_names(selector.parsed_tree)
    return {"needs": needs, "tags": tags}


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
        except (Unsupported, Skip):
            continue
        return Compiled(marks=(), xpath=xpath, specificity=(0, 0, 0), possible=True)
    return Compiled(marks=(), xpath="descendant-or-self::*", specificity=(0, 0, 0), possible=True)
