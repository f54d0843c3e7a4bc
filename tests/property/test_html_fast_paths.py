"""Fast spellings of the HTML stages give exactly what the plain spelling gives.

The plain spellings live here as the reference; the HTML is generated from a grammar wider
than what the stages look for: every tag they count, drop or clean, mixed case, attributes that
only look like the ones they read (``xlink:href``, ``ON-x``, ``data-src``), values with Unicode
white space and case tricks, elements the parser leaves beside the root element, comments and
processing instructions anywhere.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from mailguard_core.sanitize import colors, css, walk
from mailguard_core.sanitize import html as H

_TAGS = [
    "p", "div", "span", "a", "img", "table", "tr", "td", "tbody", "thead", "form", "input",
    "button", "select", "textarea", "style", "template", "head", "title", "script", "iframe",
    "object", "embed", "meta", "link", "base", "details", "summary", "body", "html", "font",
    "Style", "TITLE", "Details", "frame", "applet", "caption", "x-y", "o:p",
]  # fmt: skip
_NAMES = [
    "href", "HREF", "action", "style", "background", "src", "rel", "onclick", "ONLOAD", "on",
    "one", "xlink:href", "data-src", "open", "class", "id", "title", "lang", "bgcolor", "color",
    "face", "target", "name", "role", "border", "cellpadding", "valign", "width", "align",
    "alt", "dir", "xml:lang", "hreflang", "colspan",
]  # fmt: skip
_VALUES = [
    "", "x", "javascript:alert(1)", " JavaScript:x", "java\tscript:x", "java\u00a0script:x",
    "vbscript:x", "VBSCRIPT :x", "javascr\u0130pt:x", "http://e.example/a.png", "//e.example/a",
    " HTTPS://e.example/", "cid:x", "data:image/png;base64,AA", "a url(x) b", "URL(x)",
    "color:red", "stylesheet", "StyleSheet alternate", "styleſheet", "#fff", "red", "b c",
    "1", "&amp;", "\"q\"", "'",
]  # fmt: skip
_TEXT = st.sampled_from(["", "text", " ", "a\nb", "Ünï", "<", "&lt;", "\u200b", "[if mso]>x"])


@st.composite
def _attrs(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(_NAMES), max_size=4))
    out = []
    for name in names:
        if draw(st.booleans()):
            value = draw(st.sampled_from(_VALUES))
            quote = draw(st.sampled_from(['"', "'"]))
            value = value.replace(quote, "")
            out.append(f" {name}={quote}{value}{quote}")
        else:
            out.append(f" {name}")
    return "".join(out)


@st.composite
def _html(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4 if depth < 3 else 1))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            parts.append(f"<!--{draw(_TEXT)}-->")
        elif kind == 1:
            parts.append(f"<?pi {draw(_TEXT)}?>")
        elif kind <= 3:
            parts.append(draw(_TEXT))
        else:
            tag = draw(st.sampled_from(_TAGS))
            inner = draw(_html(depth + 1)) if depth < 3 else draw(_TEXT)
            close = f"</{tag}>" if draw(st.integers(0, 4)) else ""
            parts.append(f"<{tag}{draw(_attrs())}>{inner}{close}")
    return "".join(parts)


_DOCUMENTS = st.builds(
    lambda prefix, body, after: prefix + body + after,
    st.sampled_from(["", "<!DOCTYPE html>", "<html>", "<html><body>", "<?xml x?>", "<!--c-->"]),
    _html(),
    st.sampled_from(["", "</html><img src=//e.example/a onload=x>", "</body></html>x<p a>"]),
)

# --- the plain spellings ------------------------------------------------------------------


def _reference_insert_tbody(doc: Any) -> None:
    for table in doc.xpath("//table[tr]"):
        body: Any = None
        for child in list(table):
            if child.tag == "tr":
                if body is None:
                    body = etree.Element("tbody")
                    child.addprevious(body)
                body.append(child)
            elif child.tag in ("tbody", "thead", "tfoot"):
                body = None


def _whole(doc: Any) -> bytes:
    return etree.tostring(doc.getroottree(), method="html", encoding="utf-8")


def _parse(source: str) -> Any:
    if H.has_xml_bad_chars(source):
        source = H._XML_BAD_RE.sub("", source)
    return H._parse(source) if source.strip() else None


# --- the differentials --------------------------------------------------------------------


def test_prepass_counts_what_the_parser_left_beside_the_root() -> None:
    source = (
        "<!--before--><p onclick=x ONLOAD=y>a<!--note--><a href=' java\tscript:x'>b</a>"
        "<a xlink:href='javascript:x' data-src=//e.example/a>c</a>"
        "<img src=' HTTPS://e.example/a'><img data-src=//e.example/b>"
        "<form action='VBScript:x'><input></form><div style='x:url(a)' background=b>d</div>"
        "<details>e<summary>f</summary>g</details><template>h</template><script>i</script>"
        "</p></html><img src=//e.example/c onerror=z>"
    )
    quiet, active, forms, remote = H._prepass(_parse(source))
    # libxml2 puts the first comment before the root element and the last <img> in a second
    # <html> beside it. Active: the handlers of <p> and of that <img>, ' java\tscript:x', the
    # form's action, the <script>. Forms: <form>, <input>. Remote: the HTTPS <img>, url(,
    # background, the <img> beside the root. Only the comment below the root is removed.
    assert (active, forms, remote) == (5, 2, 4)
    assert quiet == {"comment": ["note"], "template": ["h"], "details_closed": ["eg"]}


@settings(max_examples=60, deadline=None)
@given(_DOCUMENTS)
def test_the_reused_parser_builds_the_tree_a_new_parser_builds(source: str) -> None:
    """Parsing with the thread's parser, after other documents (and failures) went through it,
    gives the tree a parser made for the document gives."""
    if H.has_xml_bad_chars(source):
        source = H._XML_BAD_RE.sub("", source)
    if not source.strip():
        return
    H._parse("<p>before</p>")
    H._parse("\x00")  # a document the parser rejects
    fresh = etree.HTMLParser(no_network=True, huge_tree=True, remove_comments=False)
    try:
        made = etree.fromstring(source, fresh)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        made = None
    expected = None if made is None else _whole(made)
    reused = H._parse(source)
    assert (None if reused is None else _whole(reused)) == expected


@settings(max_examples=60, deadline=None)
@given(_DOCUMENTS)
def test_tbody_insertion_builds_the_same_tree(source: str) -> None:
    fast, slow = _parse(source), _parse(source)
    if fast is None:
        return
    H._insert_tbody(fast)
    _reference_insert_tbody(slow)
    assert _whole(fast) == _whole(slow)


@settings(max_examples=80, deadline=None)
@given(_DOCUMENTS)
def test_dropping_unclean_attributes_changes_nothing_the_cleaner_returns(source: str) -> None:
    doc = _parse(source)
    if doc is None:
        return
    plain = etree.tostring(doc, method="html", encoding="unicode")
    etree.strip_attributes(doc, *H._UNCLEAN_ATTRIBUTES)
    stripped = etree.tostring(doc, method="html", encoding="unicode")
    assert H._cleaner().clean(stripped) == H._cleaner().clean(plain)


def test_unclean_attributes_are_never_kept_by_the_cleaner() -> None:
    assert set(H._UNCLEAN_ATTRIBUTES).isdisjoint(H._allowed_attributes())
    assert "style" in H._UNCLEAN_ATTRIBUTES
    for name in H._UNCLEAN_ATTRIBUTES:
        for tag in ("a", "td", "table", "img", "p", "bdo", "span"):
            html = f'<{tag} {name}="v">x</{tag}>'
            assert f'{name}="v"' not in H._cleaner().clean(html), (tag, name)


_COLOR_WORDS = st.sampled_from(
    ["red", "#fff", "#FFFFFF", "rgb(1,2,3)", "rgba(0 0 0 / 0.05)", "transparent", "currentColor",
     "hsl(120 50% 50%)", "lab(50 0 0)", "oklch(0.5 0.1 30)", "color(display-p3 1 0 0)", "inherit",
     "#12345", "", " ", "/**/red", "var(--x)", "ﬀ0000", "RED", "#f00f"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(_COLOR_WORDS, st.text(max_size=12), _COLOR_WORDS.map(lambda w: f" {w} ")))
def test_cached_colours_are_the_parsed_colours(value: str) -> None:
    first = colors.parse_color(value)
    again = colors.parse_color(value)  # from the cache
    assert first == again == colors._parse_color(value)


def test_colour_cache_stays_bounded() -> None:
    for i in range(colors._COLOR_CACHE_SIZE + 10):
        colors.parse_color(f"#{i:06x}")
    assert len(colors._color_cache) <= colors._COLOR_CACHE_SIZE
    assert colors.parse_color("#000010") == (0, 0, 16)
    assert colors.parse_color("x" * 300) is None
    assert "x" * 300 not in colors._color_cache


def test_generator_reaches_every_counted_form() -> None:
    """The grammar can spell each attribute and tag the stages read (so the differentials are
    not vacuous)."""
    counted = {"href", "action", "style", "background", "src", "rel", "onclick", "open"}
    assert counted <= {n.lower() for n in _NAMES}
    assert set(H._FORM) | {"details", "template", "title", "head"} <= {t.lower() for t in _TAGS}
    assert any(re.match(r"\s*java\s*script:", v, re.I) for v in _VALUES)


# --- the class/id/element prefilter of the cascade -----------------------------------------

_WORDS = ["a", "A", "b", "k", "\u212a", "K", "\u017f", "s", "\u0130", "i", "\u03a3", "x-y", "n1"]
_SELECTOR_TAGS = ["p", "div", "span", "td", "table", "tbody", "tr", "h1", "o:p", "svg", "P", "B"]


@st.composite
def _compound(draw: st.DrawFn) -> str:
    parts = [draw(st.sampled_from(["", "*", *_SELECTOR_TAGS]))]
    for _ in range(draw(st.integers(0, 3))):
        word = draw(st.sampled_from(_WORDS))
        parts.append(
            draw(
                st.sampled_from(
                    [
                        f".{word}", f"#{word}", f":not(.{word})", f":is(.{word}, #{word})",
                        f":where(.{word})", f":has(.{word})", f"[class~='{word}']",
                        "[data-mailguard-css-3-0]", ":hover", ":first-child", "::before",
                        f".\\{ord(word[0]):x} ", "[id]", f":nth-child(2).{word}",
                    ]
                )
            )
        )  # fmt: skip
    compound = "".join(parts)
    return compound or "*"


def _joined(parts: list[str], combinators: list[str]) -> str:
    return parts[0] + "".join(c + p for c, p in zip(combinators, parts[1:], strict=False))


_SELECTORS = st.lists(_compound(), min_size=1, max_size=3).flatmap(
    lambda parts: st.lists(
        st.sampled_from([" ", " > ", " + ", " ~ "]), min_size=len(parts) - 1,
        max_size=len(parts) - 1,
    ).map(lambda combinators: _joined(parts, combinators))
)  # fmt: skip
_SHEETS = st.lists(
    st.one_of(
        _SELECTORS.map(lambda s: f"{s}{{display:none}}"),
        _SELECTORS.map(lambda s: f"@media screen{{{s}{{color:red}}}}"),
        st.sampled_from(["svg|rect.a{display:none}", "*|p.k{opacity:0}", "b{&.a{color:red}}"]),
    ),
    min_size=16,
    max_size=24,
).map(" ".join)


@st.composite
def _styled_document(draw: st.DrawFn) -> str:
    body = []
    for _ in range(draw(st.integers(1, 6))):
        tag = draw(st.sampled_from(["p", "div", "span", "table", "h1", "o:p", "b", "svg"]))
        classes = " ".join(draw(st.lists(st.sampled_from(_WORDS), max_size=3)))
        ident = draw(st.sampled_from(["", *_WORDS]))
        inner = draw(st.sampled_from(["t", "<tr><td class=a>c</td></tr>", "<span id=k>s</span>"]))
        body.append(f"<{tag} class='{classes}' id='{ident}'>{inner}</{tag}>")
    doctype = draw(st.sampled_from(["", "<!DOCTYPE html>"]))
    return f"{doctype}<html><head><style>{draw(_SHEETS)}</style></head><body>{''.join(body)}"


def _matches(source: str) -> list[tuple[list[tuple[str, list[int]]], int]]:
    """The rules per element (by path) and the unsupported count, with the prefilter and
    with every rule's XPath evaluated (one compiled index for both)."""
    doc = _parse(source)
    H._insert_tbody(doc)
    index = css.StyleIndex([el.text or "" for el in doc.iter("style")])
    tree = doc.getroottree()
    out = []
    limit = css._PREFILTER_RULES
    for prefilter in (limit, 10**9):
        css._PREFILTER_RULES = prefilter
        try:
            matched = index.match(doc)
        finally:
            css._PREFILTER_RULES = limit
        rules = sorted(
            (tree.getpath(el), [r.order for r in found]) for el, found in matched.rules.items()
        )
        out.append((rules, matched.unsupported))
    return out


#: a quirks-mode document (no DOCTYPE) where one selector names a class or id with a non-ASCII
#: letter: the prefilter and the full engine must agree (both ASCII case-insensitive only)
_QUIRKS_CASE = "<html><head><style>{sheet}</style></head><body><p {attr}='{value}'>t</p>"
_FILLER = " ".join(f".absent{i}{{color:red}}" for i in range(20))


@settings(max_examples=50, deadline=None)
@example(_QUIRKS_CASE.format(sheet=".\u212a{display:none} " + _FILLER, attr="class", value="k"))
@example(
    _QUIRKS_CASE.format(
        sheet=".CAF\u00c9{display:none} " + _FILLER, attr="class", value="caf\u00e9"
    )
)
@example(
    _QUIRKS_CASE.format(sheet=".\u03a3{display:none} " + _FILLER, attr="class", value="\u03c3")
)
@example(_QUIRKS_CASE.format(sheet="#\u00c9{display:none} " + _FILLER, attr="id", value="\u00e9"))
@example(
    _QUIRKS_CASE.format(sheet=".\u00c9{display:none} " + _FILLER, attr="class", value="\u00c9")
)
@example(_QUIRKS_CASE.format(sheet="#\u00d6{display:none} " + _FILLER, attr="id", value="\u00d6"))
@given(_styled_document())
def test_the_prefilter_skips_only_rules_the_full_engine_finds_no_element_for(source: str) -> None:
    """Matching with the class/id/element prefilter gives exactly the rules per element (and
    the unsupported count) that evaluating every rule's XPath gives."""
    with_prefilter, without = _matches(source)
    assert with_prefilter == without


@pytest.mark.parametrize("rules", [1, 20])
@pytest.mark.parametrize(
    ("selector", "attr", "value", "matches"),
    [(".\u00c9", "class", "\u00c9", True), ("#\u00d6", "id", "\u00d6", True),
     (".CAF\u00c9", "class", "caf\u00c9", True), (".CAF\u00c9", "class", "caf\u00e9", False),
     (".\u212a", "class", "k", False), (".\u0130", "class", "\u0130", True)],
)  # fmt: skip
def test_quirks_class_and_id_fold_ascii_letters_only(
    selector: str, attr: str, value: str, matches: bool, rules: int
) -> None:
    """In quirks mode browsers compare class names and ids ASCII case-insensitively: a
    non-ASCII letter must be the same letter (a full Unicode lower() made ``.\u00c9`` miss
    ``class=\u00c9``, so text it hid reached body_text); the same with and without the
    prefilter."""
    filler = " ".join(f".absent{i}{{color:red}}" for i in range(rules - 1))
    doc = _parse(
        _QUIRKS_CASE.format(sheet=f"{selector}{{display:none}} {filler}", attr=attr, value=value)
    )
    matched = css.StyleIndex([el.text or "" for el in doc.iter("style")]).match(doc)
    found = [el.tag for el in matched.rules]
    assert ("p" in found) is matches


def _match_recording(doc: Any) -> tuple[Any, list[str]]:
    """``StyleIndex.match`` of the document's sheets, and every XPath expression it evaluated."""
    evaluated: list[str] = []
    real = css.cached_xpath

    def spy(expression: str) -> Any:
        select = real(expression)

        def evaluate(doc: Any) -> Any:
            evaluated.append(expression)
            return select(doc)

        return evaluate

    css.cached_xpath = spy
    try:
        matched = css.StyleIndex([el.text or "" for el in doc.iter("style")]).match(doc)
    finally:
        css.cached_xpath = real
    return matched, evaluated


def test_the_prefilter_is_taken_and_skips_absent_names() -> None:
    rules = " ".join(f".absent{i}{{display:none}}" for i in range(20))
    source = f"<html><head><style>{rules} h2{{display:none}} .Here{{display:none}}</style>"
    source += "</head><body><p class=here>x</p></body></html>"
    doc = _parse(source)
    compiled = css.StyleIndex([el.text or "" for el in doc.iter("style")]).rules(True)
    assert compiled[0].compiled.needs == ("absent0",)
    assert compiled[20].compiled.tags == ("h2",)
    matched, evaluated = _match_recording(doc)
    body_xpaths = [e for e in evaluated if e.startswith("descendant-or-self::")]
    assert len(body_xpaths) == 1  # only .Here (quirks: any case) was evaluated
    assert [r.order for rs in matched.rules.values() for r in rs] == [22]


# --- one evaluation per distinct selector ----------------------------------------------------

_REPEATED_SHEETS = st.lists(_SELECTORS, min_size=1, max_size=3).flatmap(
    lambda selectors: st.lists(
        st.tuples(st.sampled_from(selectors), st.booleans(), st.sampled_from(["", ", p", ", .k"])),
        min_size=2,
        max_size=20,
    ).map(
        lambda rules: " ".join(
            f"@media screen{{{s}{more}{{color:red}}}}" if media else f"{s}{more}{{display:none}}"
            for s, media, more in rules
        )
    )
)


@st.composite
def _repeated_document(draw: st.DrawFn) -> str:
    source = draw(_styled_document())
    sheet = draw(_REPEATED_SHEETS)
    return source.replace("<style>", f"<style>{sheet} ", 1)


def _reference_match(index: css.StyleIndex, doc: Any) -> css.Matched:
    """Every rule's selector evaluated on its own (the plain spelling of StyleIndex.match)."""
    matched = css.Matched()
    rules = index.rules(css.is_quirks(doc))
    if any(rule.compiled.marks for rule in rules):
        for el in doc.xpath(css._STALE):
            for name in [k for k in el.attrib if k.startswith(css.MARK_PREFIX)]:
                del el.attrib[name]
    marked: list[tuple[Any, str]] = []
    for rule in rules:
        try:
            for mark, expressions in rule.compiled.marks:
                for expression in expressions:
                    for el in etree.XPath(expression)(doc):
                        if isinstance(el.tag, str) and el.get(mark) is None:
                            el.set(mark, "")
                            marked.append((el, mark))
            elements = etree.XPath(rule.compiled.xpath)(doc)
        except etree.XPathError:
            elements = doc.xpath("descendant-or-self::*")
            rule = attrs.evolve(rule, unsupported=True, possible=True)
        if rule.unsupported and css._may_hide(rule.declarations):
            matched.unsupported += 1
        for el in elements:
            matched.rules.setdefault(el, []).append(rule)
    for el, mark in marked:
        el.attrib.pop(mark, None)
    return matched


@settings(max_examples=80, deadline=None)
@given(_repeated_document())
def test_rules_sharing_a_selector_match_what_each_rule_alone_matches(source: str) -> None:
    """StyleIndex.match evaluates a selector once for all the rules that repeat it (when no
    rule sets marks): the same rules per element, in the same order, as evaluating each."""
    doc = _parse(source)
    H._insert_tbody(doc)
    index = css.StyleIndex([el.text or "" for el in doc.iter("style")])
    tree = doc.getroottree()
    shared, alone = index.match(doc), _reference_match(index, doc)

    def by_path(matched: css.Matched) -> list[tuple[str, list[int]]]:
        return sorted((tree.getpath(el), [r.order for r in rs]) for el, rs in matched.rules.items())

    assert by_path(shared) == by_path(alone)
    assert shared.unsupported == alone.unsupported


def test_a_repeated_selector_is_evaluated_once_and_applies_to_every_rule() -> None:
    sheet = ".a{display:none} @media screen{.a{color:red}} .a, p{opacity:0}"
    doc = _parse(f"<html><head><style>{sheet}</style></head><body><p class=a>x</p></body></html>")
    matched, evaluated = _match_recording(doc)
    assert len(evaluated) == 2  # .a once for three rules, p once
    assert [len(rs) for rs in matched.rules.values()] == [4]  # .a three times, p once


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x85\u00a0\u2003a\u00e9\u4e00", max_size=300),
        st.text(max_size=50),
        st.integers(0, 5000).map(lambda n: "a" + " " * n + "\n\t" * (n % 7) + "b"),
    )
)
def test_collapse_ws_equals_the_regex_on_long_runs(text: str) -> None:
    """collapse_ws halves doubled spaces until none is left: the regex's answer on runs of any
    length and on other white space (U+00A0, U+2003, U+0085, U+001C stay)."""
    assert walk.collapse_ws(text) == re.sub(r"[ \t\n\r\f\v]+", " ", text)
