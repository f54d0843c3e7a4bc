"""A small CSS engine: just enough cascade to tell whether mail text is visible.

Handles inline ``style`` attributes and ``<style>`` sheets: comments, CSS escapes, case and
whitespace variants, ``!important``, specificity and source order, selector lists, type,
class, id, universal and attribute selectors, descendant/child/sibling combinators.
Dynamic pseudo-classes (``:hover`` ...) drop the rule (a reader does not see them at rest);
other pseudo-classes are ignored, so such a rule over-approximates (may hide more, never less).
``@media`` blocks are skipped except ``@media screen``/``all`` without conditions.
Only the properties that decide visibility are kept.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

RELEVANT = frozenset(
    {
        "display", "visibility", "opacity", "font-size", "color", "background",
        "background-color", "background-image", "width", "height", "max-height", "max-width",
        "overflow", "overflow-x", "overflow-y", "clip", "clip-path", "position", "left", "top",
        "right", "bottom", "text-indent", "mso-hide", "line-height", "transform",
        "margin-left", "margin-top", "font", "filter", "content-visibility",
        "-webkit-text-fill-color",
    }
)  # fmt: skip

_COMMENT_RE = re.compile(r"/\*.*?(?:\*/|\Z)", re.S)
_ESCAPE_RE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.S)
_DYNAMIC = ("hover", "focus", "active", "visited", "target", "focus-within", "focus-visible")
_COMPOUND_RE = re.compile(
    r"([a-zA-Z][\w-]*|\*)?((?:[.#][\w-]+|\[[^\]]*\]|::?[\w-]+(?:\([^)]*\))?)*)"
)
_PART_RE = re.compile(r"[.#][\w-]+|\[[^\]]*\]|::?[\w-]+(?:\([^)]*\))?")


def unescape(text: str) -> str:
    """Resolve CSS escapes (``\\64`` and ``\\d``) and drop comments."""
    if "/*" in text:
        text = _COMMENT_RE.sub(" ", text)
    if "\\" not in text:
        return text

    def repl(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return match.group(2)

    return _ESCAPE_RE.sub(repl, text)


Declarations = dict[str, tuple[str, bool]]


def parse_declarations(text: str) -> Declarations:
    """Parse ``prop: value [!important]; ...`` keeping only visibility-relevant properties."""
    out: Declarations = {}
    for chunk in unescape(text).split(";"):
        prop, sep, value = chunk.partition(":")
        if not sep:
            continue
        prop = prop.strip().lower()
        if prop not in RELEVANT:
            continue
        value = value.strip().lower()
        important = False
        if "!" in value:
            value, _, flag = value.partition("!")
            important = flag.strip() == "important"
            value = value.strip()
        if prop in out and out[prop][1] and not important:
            continue
        out[prop] = (value, important)
    return out


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


@attrs.frozen
class Compound:
    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    attrs_: tuple[tuple[str, str | None], ...]


@attrs.frozen
class Selector:
    #: compounds right to left, each with the combinator that links it to the next one left
    parts: tuple[tuple[Compound, str], ...]
    specificity: tuple[int, int, int]


@attrs.frozen
class Rule:
    selector: Selector
    declarations: Declarations
    order: int


def _parse_compound(text: str) -> Compound | None:
    match = _COMPOUND_RE.fullmatch(text)
    if not match:
        return None
    tag = match.group(1)
    ids: list[str] = []
    classes: list[str] = []
    attributes: list[tuple[str, str | None]] = []
    for part in _PART_RE.findall(match.group(2) or ""):
        if part[0] == "#":
            ids.append(part[1:].lower())
        elif part[0] == ".":
            classes.append(part[1:].lower())
        elif part[0] == "[":
            name, eq, value = part[1:-1].partition("=")
            attributes.append((name.strip().lower(), value.strip("'\" ") if eq else None))
        elif part.lstrip(":").split("(")[0].lower() in _DYNAMIC:
            return None
    return Compound(
        tag=None if tag in (None, "*") else tag.lower(),
        ids=tuple(ids),
        classes=tuple(classes),
        attrs_=tuple(attributes),
    )


def parse_selector(text: str) -> Selector | None:
    """Parse one complex selector; None when it cannot match at rest."""
    text = re.sub(r"\s*([>+~])\s*", r" \1 ", text.strip())
    tokens = text.split()
    if not tokens:
        return None
    parts: list[tuple[Compound, str]] = []
    combinator = " "
    spec = [0, 0, 0]
    for token in reversed(tokens):
        if token in (">", "+", "~"):
            combinator = token
            continue
        compound = _parse_compound(token)
        if compound is None:
            return None
        if parts:
            parts[-1] = (parts[-1][0], combinator)
        parts.append((compound, ""))
        combinator = " "
        spec[0] += len(compound.ids)
        spec[1] += len(compound.classes) + len(compound.attrs_)
        spec[2] += compound.tag is not None
    return Selector(parts=tuple(parts), specificity=(spec[0], spec[1], spec[2]))


def _blocks(sheet: str) -> Iterator[tuple[str, str]]:
    """Yield (prelude, body) for top-level rules, descending into plain @media blocks."""
    i, n, steps = 0, len(sheet), 0
    while i < n and steps < 100_000:
        steps += 1
        open_at = sheet.find("{", i)
        if open_at < 0:
            return
        prelude = sheet[i:open_at].strip()
        depth, j = 1, open_at + 1
        while j < n and depth:
            if sheet[j] == "{":
                depth += 1
            elif sheet[j] == "}":
                depth -= 1
            j += 1
        body = sheet[open_at + 1 : j - 1]
        i = j
        if prelude.startswith("@"):
            words = prelude.lower().split()
            if words[0] == "@media" and set(words[1:]) <= {"screen", "all", ","}:
                yield from _blocks(body)
            continue
        prelude = prelude.rsplit(";", 1)[-1]
        yield prelude, body


def parse_stylesheet(sheet: str, start_order: int = 0) -> list[Rule]:
    """Parse a ``<style>`` sheet into rules with visibility-relevant declarations only."""
    rules: list[Rule] = []
    order = start_order
    for prelude, body in _blocks(unescape(sheet)):
        declarations = parse_declarations(body)
        if not declarations:
            continue
        for text in prelude.split(","):
            selector = parse_selector(text)
            if selector is not None:
                order += 1
                rules.append(Rule(selector=selector, declarations=declarations, order=order))
    return rules


def _matches_compound(el: Any, compound: Compound) -> bool:
    if compound.tag is not None and el.tag != compound.tag:
        return False
    if compound.ids and (el.get("id") or "").lower() not in compound.ids:
        return False
    if compound.classes:
        have = (el.get("class") or "").lower().split()
        if not all(c in have for c in compound.classes):
            return False
    for name, value in compound.attrs_:
        got = el.get(name)
        if got is None or (value is not None and got != value):
            return False
    return True


def _element_parent(el: Any) -> Any:
    parent = el.getparent()
    return parent if parent is not None and isinstance(parent.tag, str) else None


def _previous_elements(el: Any) -> Iterator[Any]:
    sib = el.getprevious()
    while sib is not None:
        if isinstance(sib.tag, str):
            yield sib
        sib = sib.getprevious()


def _previous_element(el: Any) -> Any:
    sib = el.getprevious()
    while sib is not None and not isinstance(sib.tag, str):
        sib = sib.getprevious()
    return sib


#: how many ancestors a descendant combinator, and preceding siblings a ``~``, look at
_SEARCH_LIMIT = 256
#: a Matcher's memo entries before it starts afresh (about 100 bytes each, with the element)
_MATCHER_ENTRIES = 100_000


def matches(el: Any, selector: Selector, index: int = 0) -> bool:
    """Right-to-left match of ``selector.parts[index:]`` against element ``el``.

    The reference definition; :class:`Matcher` gives the same answers, memoized.
    """
    compound, combinator = selector.parts[index]
    if not _matches_compound(el, compound):
        return False
    if index + 1 == len(selector.parts):
        return True
    if combinator == ">":
        parent = _element_parent(el)
        return parent is not None and matches(parent, selector, index + 1)
    if combinator == " ":
        parent = _element_parent(el)
        depth = 0
        while parent is not None and depth < _SEARCH_LIMIT:
            if matches(parent, selector, index + 1):
                return True
            parent = _element_parent(parent)
            depth += 1
        return False
    siblings = list(_previous_elements(el))
    if combinator == "+":
        siblings = siblings[:1]
    return any(matches(s, selector, index + 1) for s in siblings[:_SEARCH_LIMIT])


class Matcher:
    """:func:`matches` for the elements of one document, memoized.

    Style sheets in mail repeat long descendant selectors (``#templateFooter .mcnTextContent p
    a``); matched one element at a time, each such rule walks every ancestor of every candidate
    element, again and again. Here each (element, selector position) is decided once, and a
    descendant or ``~`` combinator asks for the *distance* to the nearest ancestor (preceding
    sibling) matching the rest of the selector, which is memoized along the whole chain: the
    answer for an element's parent serves all its children. An element's id and classes are
    read once.

    The answers depend on an element's ancestors and preceding siblings, so a matcher is valid
    while those of the elements asked about do not change. :func:`walk.walk` asks in document
    order and removes an element only after its end, before anything later is asked about: an
    element once asked about keeps its ancestors and preceding siblings for the rest of the walk.
    Recursion depth is one frame per selector part, and a search looks at no more ancestors
    (siblings) than :func:`matches` does. The memo holds at most about ``_MATCHER_ENTRIES``
    entries: past that it starts afresh.
    """

    __slots__ = ("_features", "_memo", "_near", "_stored")

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        #: element -> (lowercase id or "", lowercase classes)
        self._features: dict[Any, tuple[str, frozenset[str]]] = {}
        #: (id(selector), index) -> element -> matches(element, selector, index)
        self._memo: dict[tuple[int, int], dict[Any, bool]] = {}
        #: (id(selector), index, by parent) -> element -> distance (capped at _SEARCH_LIMIT) to
        #: the nearest of the element itself and its ancestors (or preceding element siblings)
        #: that matches the selector from ``index``
        self._near: dict[tuple[int, int, bool], dict[Any, int]] = {}
        #: entries in the three memos (they are emptied past _MATCHER_ENTRIES)
        self._stored = 0

    def matches(self, el: Any, selector: Selector, index: int = 0) -> bool:
        """:func:`matches`; ``selector`` must stay alive while this matcher is used."""
        if index == 0 and self._stored > _MATCHER_ENTRIES:
            self._reset()  # bounded memory on huge documents (a memo is only a shortcut)
        compound, combinator = selector.parts[index]
        if compound.tag is not None and el.tag != compound.tag:
            return False
        if compound.ids or compound.classes:
            features = self._features.get(el)
            if features is None:
                features = (
                    (el.get("id") or "").lower(),
                    frozenset((el.get("class") or "").lower().split()),
                )
                self._features[el] = features
                self._stored += 1
            if compound.ids and features[0] not in compound.ids:
                return False
            if compound.classes and not features[1].issuperset(compound.classes):
                return False
        for name, value in compound.attrs_:
            got = el.get(name)
            if got is None or (value is not None and got != value):
                return False
        following = index + 1
        if following == len(selector.parts):
            return True
        if combinator == ">" or combinator == "+":
            other = _element_parent(el) if combinator == ">" else _previous_element(el)
            if other is None:
                return False
            key = (id(selector), following)
            memo = self._memo.get(key)
            if memo is None:
                memo = self._memo[key] = {}
            found = memo.get(other)
            if found is None:
                found = memo[other] = self.matches(other, selector, following)
                self._stored += 1
            return found
        # a descendant combinator (" ") or "~": the nearest match within _SEARCH_LIMIT steps
        up = combinator == " "
        step = _element_parent if up else _previous_element
        node = step(el)
        near_key = (id(selector), following, up)
        near = self._near.get(near_key)
        if near is None:
            near = self._near[near_key] = {}
        chain: list[Any] = []
        distance = _SEARCH_LIMIT  # past the last ancestor (sibling): no match
        tag = selector.parts[following][0].tag  # checked here first: most nodes fail on it
        while node is not None:
            known = near.get(node)
            if known is not None:
                distance = known
                break
            if (tag is None or node.tag == tag) and self.matches(node, selector, following):
                distance = 0
                near[node] = 0
                self._stored += 1
                break
            chain.append(node)
            if len(chain) == _SEARCH_LIMIT:
                # none of the first _SEARCH_LIMIT matches (as far as matches() looks): known
                # for step(el) only, the others' searches would go further
                near[chain[0]] = _SEARCH_LIMIT
                self._stored += 1
                return False
            node = step(node)
        for node in reversed(chain):
            if distance < _SEARCH_LIMIT:
                distance += 1
            near[node] = distance
        self._stored += len(chain)
        return distance < _SEARCH_LIMIT  # the distance of step(el), the last one set


class StyleIndex:
    """Rules bucketed by the rightmost compound's id, class, tag or universal."""

    def __init__(self, rules: list[Rule]) -> None:
        self.by_id: dict[str, list[Rule]] = {}
        self.by_class: dict[str, list[Rule]] = {}
        self.by_tag: dict[str, list[Rule]] = {}
        self.universal: list[Rule] = []
        for rule in rules:
            key = rule.selector.parts[0][0]
            if key.ids:
                self.by_id.setdefault(key.ids[0], []).append(rule)
            elif key.classes:
                self.by_class.setdefault(key.classes[0], []).append(rule)
            elif key.tag:
                self.by_tag.setdefault(key.tag, []).append(rule)
            else:
                self.universal.append(rule)
        self.empty = not rules
        #: how many (selector, declarations) rules the sheets gave
        self.size = len(rules)

    def computed(self, el: Any, matcher: Matcher | None = None) -> Declarations:
        """Cascade matching sheet rules and the inline style for ``el`` (no inheritance).

        ``matcher``: the :class:`Matcher` of ``el``'s document, to share its memo across calls.
        """
        candidates: list[Rule] = []
        if not self.empty:
            ident = el.get("id")
            if ident and self.by_id:
                candidates += self.by_id.get(ident.lower(), [])
            klass = el.get("class")
            if klass and self.by_class:
                for name in set(klass.lower().split()):
                    candidates += self.by_class.get(name, [])
            candidates += self.by_tag.get(el.tag, [])
            candidates += self.universal
        inline = el.get("style")
        if not candidates:
            return inline_declarations(inline) if inline else {}
        if matcher is None:
            matcher = Matcher()
        match = matcher.matches
        matched = [r for r in candidates if match(el, r.selector)]
        matched.sort(key=lambda r: (r.selector.specificity, r.order))
        out: Declarations = {}
        layers: list[Declarations] = [r.declarations for r in matched]
        if inline:
            layers.append(inline_declarations(inline))
        for layer in layers:
            for prop, (value, important) in layer.items():
                if prop in out and out[prop][1] and not important:
                    continue
                out[prop] = (value, important)
        return out


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
    index = StyleIndex(
        [rule for i, sheet in enumerate(key) for rule in parse_stylesheet(sheet, i * 100_000)]
    )
    if sum(len(sheet) for sheet in key) <= _INDEX_CACHE_MAX_CHARS:
        with _index_lock:
            if len(_index_cache) >= _INDEX_CACHE_SIZE:
                _index_cache.clear()
            _index_cache[key] = index
    return index
