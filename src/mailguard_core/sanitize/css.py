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
from lxml import etree

from mailguard_core.sanitize.css_declarations import Declarations, inline_declarations
from mailguard_core.sanitize.css_prefilter import ascii_lower
from mailguard_core.sanitize.css_selectors import (
    MARK_PREFIX,
    Compiled,
    Invalid,
    Skip,
    Unsupported,
    compile_selector,
    fallback_selector,
)
from mailguard_core.sanitize.css_sheets import SheetParser, Source

#: top-level delimiters no selector can hold
_NEVER_IN_SELECTORS = frozenset({";", "!", "{", "}"})
#: rule order values: sheets are numbered apart so a sheet's rules stay after earlier sheets'
_SHEET_STRIDE = 1_000_000


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


def compile_rules(sources: Iterable[Source], quirks: bool) -> list[Rule]:
    """Compile the selectors of ``sources`` for a document in quirks mode or not."""
    rules: list[Rule] = []
    invalid: set[int] = set()
    for source in sources:
        if any(t.type == "literal" and t.value in _NEVER_IN_SELECTORS for t in source.tokens):
            continue  # invalid in every browser: the rule is dropped (a stray ";" before it)
        unsupported = False
        try:
            compiled = compile_selector(source.tokens, str(source.order), quirks)
        except Skip as exc:
            if exc.unknown:
                invalid.add(source.group)
            continue
        except Invalid:
            invalid.add(source.group)  # the browser drops the whole list
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
    # A selector a browser does not know (or rejects) drops its whole list there: such lists
    # only possibly apply.
    doubtful = invalid | {r.group for r in rules if r.unsupported or r.compiled.unknown}
    if doubtful:
        rules = [
            attrs.evolve(r, possible=True) if r.group in doubtful and not r.possible else r
            for r in rules
        ]
    return rules


def parse_stylesheet(sheet: str, *, quirks: bool = True) -> list[Rule]:
    """Parse one ``<style>`` sheet into compiled rules with visibility-relevant declarations."""
    parser = SheetParser()
    parser.sheet(sheet, 0)
    return compile_rules(parser.sources, quirks)


# --- the document's cascade --------------------------------------------------------------

_XPATH_CACHE_SIZE = 4096
_local = threading.local()


def cached_xpath(expression: str) -> Any:
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


_STALE = f"//*[@*[starts-with(name(), '{MARK_PREFIX}')]]"


class StyleIndex:
    """A document's style sheets as rules, ready to be matched against a parsed document."""

    def __init__(self, sheets: Sequence[str]) -> None:
        parser = SheetParser()
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
        rules = self.rules(is_quirks(doc))
        # Without marks the tree does not change while the rules are matched, so rules with
        # the same selector (a sheet repeats them across media queries and selector lists)
        # share one evaluation; with marks a later selector may test marks set meanwhile.
        seen: dict[str, list[Any]] | None = {}
        if any(rule.compiled.marks for rule in rules):
            seen = None
            # mark attributes the message itself carries would make selectors match
            for el in cached_xpath(_STALE)(doc):
                for name in [k for k in el.attrib if k.startswith(MARK_PREFIX)]:
                    del el.attrib[name]
        marked: list[tuple[Any, str]] = []
        by_element = matched.rules
        names: str | None = None
        tags: set[Any] = set()
        if len(rules) >= _PREFILTER_RULES:
            names = _names_in(doc)
            tags = {el.tag for el in doc.iter()}
        for rule in rules:
            compiled = rule.compiled
            try:
                for mark, expressions in compiled.marks:
                    for expression in expressions:
                        for el in cached_xpath(expression)(doc):
                            if isinstance(el.tag, str) and el.get(mark) is None:
                                el.set(mark, "")
                                marked.append((el, mark))
                select = cached_xpath(compiled.xpath)
                if names is not None and (
                    any(need not in names for need in compiled.needs)
                    or any(tag not in tags for tag in compiled.tags)
                ):
                    elements = []  # a class, id or element it needs is not there: no match
                elif seen is None:
                    elements = select(doc)
                else:
                    found_before = seen.get(compiled.xpath)
                    if found_before is None:
                        found_before = seen[compiled.xpath] = select(doc)
                    elements = found_before
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


#: sheets with this many rules or more are matched with the class/id prefilter: a template's
#: sheet styles components most messages do not hold, and each rule costs an XPath pass
_PREFILTER_RULES = 16
_CLASS_AND_ID = "//@class | //@id"


def _names_in(doc: Any) -> str:
    """Every ``class`` and ``id`` value of the document in ASCII lower case, one string.

    A selector whose :attr:`Compiled.needs` are not all substrings of it matches no element
    (see :func:`css_prefilter.required_names`); its XPath is then not evaluated.
    """
    return "\x00".join(ascii_lower(value) for value in cached_xpath(_CLASS_AND_ID)(doc))


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
