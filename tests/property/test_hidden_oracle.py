"""Headless Chromium decides what a human sees; the sanitizer must agree (or warn).

A hypothesis strategy writes HTML mail from a CSS grammar much wider than the engine's own list:
at-rules of every kind (matching and not), selector forms (type, class in any case, id,
attributes with any quoting, combinators, :is/:where/:not/:has, structural and dynamic
pseudo-classes, pseudo-elements, nesting, escapes, comments), declarations that hide or reveal
in varied spellings (transforms, clips, zero boxes, off-screen, tiny fonts, colours by name,
hex, rgb(), hsl(), currentColor, var() and custom properties, !important), inline styles and
legacy attributes (bgcolor, <font color>, hidden), nested tables with and without a doctype.
Every text node carries a unique marker word.

Chromium renders each mail in its own iframe and reports for each marker whether a human sees
it (``tests/support/chromium.py``). Then, for every marker:

- hidden by Chromium: it must not be in ``body_text`` unless the message carries
  ``html_css_undecidable`` (none may leak: ``test_the_sanitizer_does_not_show_...``);
- shown by Chromium: the sanitizer must keep at least 99% of them over the run.

The markers are tallied by the first test and checked by the two that follow (they skip when
run alone, and fail when the first was collected but ran in another process: under pytest-xdist
the module must stay on one worker, as scripts/test.sh's ``--dist loadfile`` keeps it).

Hypothesis draws one seed per example; the grammar below builds ``CASES_PER_EXAMPLE`` mails
from it with a seeded ``random.Random`` (cheap: the browser's rendering is most of the time),
rendered in one browser round trip. The ``ci`` profile's 200 examples make 2,000 mails per CI
run (about 40 s on an idle 2-core machine); ``--hypothesis-profile=oracle`` runs 2,000 examples
(20,000 mails) locally.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import time
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mailguard_core.sanitize import css, sanitize_message
from tests import strategies
from tests.support.chromium import Chromium

CASES_PER_EXAMPLE = 10
#: the share of the markers Chromium shows that must survive (the issue's bound), of those
#: the fail-closed policy does not remove on purpose (see test_the_sanitizer_keeps_...)
RETENTION = 0.99
#: the same over all of them: the generator wraps a third of its rules in conditional groups,
#: half of which do not apply at 800 px, and writes :hover rules; the issue's policy removes
#: what those hide (measured 98.9% over 5,000 mails)
RETENTION_ALL = 0.98
#: the ci profile's 200 examples make 2,000 mails; the dev profile's 100 make 1,000
MIN_MAILS = 2000 if os.environ.get("CI") else 1000

pytestmark = pytest.mark.slow

#: over the whole run: markers Chromium shows, how many of them the sanitizer kept, mails seen
TALLY = {
    "shown": 0, "kept": 0, "policy": 0, "hidden": 0, "leaked": 0, "mails": 0, "seconds": 0.0,
}  # fmt: skip
LOST: list[str] = []
LEAKED: list[str] = []


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    if shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/setup.sh --test installs it)")
        pytest.skip("chromium is not installed (scripts/setup.sh --test installs it)")
    browser = Chromium()
    try:
        yield browser
    finally:
        browser.close()


# --- the grammar ---------------------------------------------------------------------------
#
# Written over a ``random.Random`` seeded by hypothesis (one seed per batch): drawing each choice
# through hypothesis cost ~75 ms a mail, most of the test's time; a seeded Random costs well
# under 1 ms. Hypothesis still chooses the seeds (and replays failing ones from its database);
# a failure prints the mail itself, so shrinking the seed would add nothing.

R = random.Random

CLASSES = ["h", "k", "c1", "wrap", "x-y", "\u00e9", "caf\u00e9", "\u0131"]
IDS = ["a1", "main"]
TAGS_BLOCK = ["div", "p", "td", "table", "center", "section"]
TAGS_INLINE = ["span", "b", "font", "a", "em"]
ATTR_SELECTORS = [
    '[title="a b"]', "[title='a b']", "[title~=a]", '[title^="a"]', "[data-x]", '[data-x="1"]',
    "[title|=a]", "[TITLE='a b' i]", "[data-x='2']",
]  # fmt: skip
PSEUDO = [
    ":first-child", ":last-child", ":nth-child(2)", ":nth-of-type(odd)", ":only-child",
    ":empty", ":hover", ":focus", ":active", ":focus-within", ":visited", ":link",
    ":any-link", ":root", "::first-line", "::before", "::after", ":first-letter",
]  # fmt: skip


def _case_class(r: R) -> str:
    c = r.choice(CLASSES)
    return r.choice([c, c.upper(), c.capitalize()])


def _class_sel(r: R) -> str:
    kind = r.randrange(3)
    return "." + _case_class(r) if kind == 0 else (".c\\31 " if kind == 1 else ".h/**/")


def _compound(r: R, depth: int = 0) -> str:
    parts = [r.choice(["", "", *TAGS_BLOCK, *TAGS_INLINE])]
    for _ in range(r.randint(1, 2)):
        kind = r.randrange(4)
        if kind < 2:
            parts.append(_class_sel(r))
        elif kind == 2:
            parts.append("#" + r.choice(IDS))
        else:
            parts.append(r.choice(ATTR_SELECTORS))
    if depth < 1 and r.randint(0, 4) == 0:
        inner = [_complex(r, depth + 1) for _ in range(r.randint(1, 2))]
        fn = r.choice([":is", ":where", ":not", ":matches", ":not", ":has"])
        if fn == ":has":
            inner = [r.choice(["", "> ", "+ ", "~ "]) + x for x in inner]
        parts.append(f"{fn}({', '.join(inner)})")
    if r.randint(0, 5) == 0:
        parts.append(r.choice(PSEUDO))
    return "".join(parts) or "*"


def _complex(r: R, depth: int = 0) -> str:
    out = _compound(r, depth)
    for _ in range(r.randint(0, 2)):
        comb = r.choice([" ", " > ", ">", " + ", " ~ ", " /* c */ "])
        out = _compound(r, depth) + comb + out
    return out


def _selector_list(r: R) -> str:
    return ", ".join(_complex(r) for _ in range(r.randint(1, 3)))


WHITE = ["#fff", "#FFF", "white", "WHITE", "#ffffff", "rgb(255,255,255)", "rgb(255 255 255)",
         "hsl(0, 0%, 100%)", "#fefefe", "rgba(255,255,255,1)", "#fffe",
         "rgb(calc(255), 255, 255)"]  # fmt: skip
BLACK = ["#000", "black", "rgb(0,0,0)", "#010101", "hsl(0 0% 0%)"]
OTHER = ["red", "#333", "#1a73e8", "navy", "rgb(20 120 40)", "lavender", "#eee", "green"]
TRANSPARENT = ["transparent", "rgba(0,0,0,0)", "#0000", "rgb(0 0 0 / 0%)", "hsla(0,0%,0%,0)"]
COLORS = [*WHITE, *BLACK, *OTHER, *TRANSPARENT, "currentColor", "var(--c)", "var(--nope, #fff)",
          "inherit"]  # fmt: skip

DECLARATIONS = [
    "display:none", "display: NONE", "display:/*x*/none", "display:\\6e one", "display:block",
    "display:inline", "display:contents", "visibility:hidden", "visibility: collapse",
    "visibility:visible", "opacity:0", "opacity:.0", "opacity:0%", "opacity:0.01", "opacity:0.5",
    "opacity:1", "opacity:0.2", "opacity:0.15", "filter:opacity(0.2)", "opacity:calc(0)",
    "opacity:min(1, 0)", "content-visibility:hidden", "content-visibility:visible",
    "transform:scale(0)", "transform:scale(0,0)", "transform:scale( 0 , 1 )",
    "transform:scaleX(0)", "transform:scaley(0)", "transform:scale3d(0,1,1)",
    "transform:matrix(0,0,0,0,0,0)", "transform:matrix(1, 0, 0, 0, 0, 0)",
    "transform:matrix(1,0,0,1,0,0)", "transform:scale(1)", "transform:rotate(10deg)",
    "transform:translateX(-9999px)", "transform: rotateX(90deg)", "transform:scale(0.0)",
    "transform:scale(calc(0))", "transform:translateX(calc(-100px * 100))",
    "transform:rotate(180deg)", "transform:skewX(20deg)", "rotate:10deg", "scale:0", "scale:1",
    "position:absolute;clip:rect(0 0 0 0)", "position:absolute;clip:rect(0,0,0,0)",
    "clip-path:inset(50%)", "clip-path:circle(0)", "clip-path:inset(10%)",
    "clip-path:inset(5%)", "clip-path:inset(30%)", "clip-path:none",
    "width:0;height:0;overflow:hidden", "max-height:0;overflow:hidden",
    "height:0px;overflow:hidden", "height:0", "width:1px;overflow:hidden;white-space:nowrap",
    "height:calc(0px);overflow:hidden", "width:calc(100% - 20px)",
    "position:absolute;left:-9999px", "position:absolute;top:-9999px",
    "position:relative;left:-9999px", "position:absolute;left:calc(-9999px)",
    "text-indent:-9999px;overflow:hidden", "position:fixed;left:-200em", "font-size:0",
    "font-size:0px", "font-size:1px", "font-size:12px", "font-size:0.1em", "font-size:16px",
    "font-size:calc(0px)", "font-size:max(0px, 0px)", "font:0/0 a", "font:12px Arial",
    "line-height:0;overflow:hidden;height:0", "line-height:1.5", "filter:opacity(0)",
    "padding:4px", "margin:0", "--c:#fff", "--c:#000", "--c: red", "--z:0",
    "animation:f 1s", "animation-name:f", "animation:none",
    "opacity:var(--z)", "display:var(--d, none)", "font-size:var(--z)",
]  # fmt: skip


def _declaration(r: R) -> str:
    kind = r.randrange(5)
    if kind == 0:
        return r.choice(DECLARATIONS)
    if kind == 1:
        return r.choice(DECLARATIONS)
    prop = r.choice(["color", "background-color", "background", "-webkit-text-fill-color"])
    return f"{prop}:{r.choice(COLORS)}"


def _block(r: R) -> str:
    decls = [_declaration(r) for _ in range(r.randint(1, 3))]
    important = [r.choice(["", "", "", " !important", "!IMPORTANT", " ! important"]) for _ in decls]
    return "; ".join(d + i for d, i in zip(decls, important, strict=True))


def _rule(r: R, depth: int = 0) -> str:
    body = _block(r)
    if depth < 1 and r.randint(0, 5) == 0:
        prefix = r.choice(["& ", "&", "& > ", "", "> "])
        body += "; " + prefix + _rule(r, depth + 1)
    return f"{_selector_list(r)} {{ {body} }}"


AT_WRAPPERS = [
    "@media only screen {{{}}}", "@media all and (min-width:1px) {{{}}}", "@media screen {{{}}}",
    "@media (max-width:600px) {{{}}}", "@media print {{{}}}", "@media (min-width: 3000px) {{{}}}",
    "@supports (display:grid) {{{}}}", "@supports not (display:block) {{{}}}",
    "@layer x {{{}}}", "@layer {{{}}}", "@container (min-width: 1px) {{{}}}",
    "@scope (body) {{{}}}", "@-moz-document url-prefix() {{{}}}", "@unknown foo {{{}}}",
    "@media screen {{ @supports (color:red) {{{}}} }}", "@layer a.b {{{}}}",
]  # fmt: skip


def _sheet(r: R) -> str:
    rules = []
    if r.random() < 0.5:
        rules.append("@layer x, a;")
    for _ in range(r.randint(0, 4)):
        rule = _rule(r)
        if r.randint(0, 2) == 0:
            rule = r.choice(AT_WRAPPERS).format(rule)
        rules.append(rule)
    if r.randint(0, 6) == 0:
        rules.append("@keyframes f { from { opacity: 0 } to { opacity: 1 } }")
    return "\n".join(rules)


#: where a marker word goes (numbered after the mail is drawn)
SLOT = "\x00"


def _attrs(r: R) -> str:
    out = []
    classes = list(dict.fromkeys(_case_class(r) for _ in range(r.randint(0, 2))))
    if classes:
        out.append(f'class="{" ".join(classes)}"')
    if r.randint(0, 5) == 0:
        out.append(f'id="{r.choice(IDS)}"')
    if r.randint(0, 4) == 0:
        out.append(r.choice(['title="a b"', 'data-x="1"', 'data-x="2"', 'title="a"']))
    if r.randint(0, 3) == 0:
        out.append(f'style="{_block(r).replace(chr(34), chr(39))}"')
    if r.randint(0, 25) == 0:
        out.append("hidden")
    return (" " + " ".join(out)) if out else ""


def _inline(r: R, depth: int) -> str:
    tag = r.choice(TAGS_INLINE)
    extra = ""
    if tag == "font" and r.random() < 0.5:
        extra = f' color="{r.choice(["#ffffff", "white", "red", "#000000"])}"'
    if tag == "a":
        extra = ' href="https://example.org/"'
    inner = SLOT
    if depth < 2 and r.randint(0, 2) == 0:
        nested = _inline(r, depth + 1)
        if tag != "a" or "<a " not in nested:  # an HTML5 parser splits nested links
            inner += " " + nested
    return f"<{tag}{extra}{_attrs(r)}>{inner}</{tag}> {SLOT}"


def _blocks(r: R, depth: int) -> str:
    out = []
    for _ in range(r.randint(1, 3 if depth == 0 else 1)):
        kind = r.choice(["p", "div", "table", "center", "details"] if depth < 2 else ["p"])
        if kind == "p":
            parts = [SLOT] + [_inline(r, 0) for _ in range(r.randint(0, 2))]
            out.append(f"<p{_attrs(r)}>{' '.join(parts)}</p>")
        elif kind == "table":
            bg = ""
            if r.randint(0, 2) == 0:
                bg = f' bgcolor="{r.choice(["#ffffff", "#000000", "white", "black"])}"'
            rows = []
            for _ in range(r.randint(1, 2 if depth == 0 else 1)):
                cells = [
                    f"<td{_attrs(r)}>{SLOT} {_blocks(r, depth + 1)}</td>"
                    for _ in range(r.randint(1, 2))
                ]
                rows.append(f"<tr>{''.join(cells)}</tr>")
            inner = "".join(rows)
            if r.random() < 0.5:
                inner = f"<tbody>{inner}</tbody>"
            out.append(f"<table{bg}{_attrs(r)}>{inner}</table>")
        elif kind == "details":
            opened = r.choice(["", " open"])
            summary = f"<summary{_attrs(r)}>{SLOT}</summary>" if r.random() < 0.8 else ""
            out.append(f"<details{opened}>{summary}{SLOT} {_blocks(r, depth + 1)}</details>")
        else:
            out.append(f"<{kind}{_attrs(r)}>{SLOT} {_blocks(r, depth + 1)}</{kind}>")
    return "\n".join(out)


def mail_case(r: R, prefix: str) -> tuple[str, list[str]]:
    """One HTML mail and its marker words."""
    doctype = r.choice(["", "<!DOCTYPE html>"])
    sheet = _sheet(r)
    body_attrs = r.choice(["", "", ' bgcolor="#000000"', ' style="color:#fff"', ' bgcolor="white"'])
    body = _blocks(r, 0)
    style = f"<style>{sheet}</style>" if sheet else ""
    head = f"<head>{style}</head>" if r.random() < 0.5 else ""
    if not head and style:
        body = style + body
    html = f"{doctype}<html>{head}<body{body_attrs}>{body}</body></html>"
    pieces = html.split(SLOT)
    words = [f"{prefix}q{i}z" for i in range(len(pieces) - 1)]
    return "".join(p + w for p, w in zip(pieces, [*words, ""], strict=True)), words


def mail_batch(seed: int) -> list[tuple[str, list[str]]]:
    """``CASES_PER_EXAMPLE`` mails from one seed."""
    r = random.Random(seed)
    return [mail_case(r, prefix=f"m{i}") for i in range(CASES_PER_EXAMPLE)]


def _decide(html: str) -> tuple[str, set[str]]:
    safe = sanitize_message(strategies.html_message(html))
    return safe.body_text, set(safe.warning_codes)


@contextlib.contextmanager
def _possible_rules_as(certain: bool | None) -> Iterator[None]:
    """Sanitize with the cascade's *possible* rules (conditional groups, :hover ...) left out
    (``None``) or taken as certain (``True``): the two readings whose disagreement the
    fail-closed policy settles by removing what either hides."""
    compile_rules = css.compile_rules

    def variant(sources: Any, quirks: bool) -> list[css.Rule]:
        rules = compile_rules(sources, quirks)
        if certain is None:
            return [r for r in rules if not r.possible]
        return [attrs.evolve(r, possible=False) for r in rules]

    css._index_cache.clear()
    css.compile_rules = variant
    try:
        yield
    finally:
        css.compile_rules = compile_rules
        css._index_cache.clear()


def _policy_texts(html: str) -> tuple[str, str]:
    """body_text under each reading of the possible rules (see _possible_rules_as)."""
    with _possible_rules_as(None):
        without = _decide(html)[0]
    with _possible_rules_as(True):
        certain = _decide(html)[0]
    return without, certain


@pytest.mark.timeout(900)
@given(seed=st.integers(0, 2**64 - 1))
@settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
def test_chromium_renders_the_generated_mail(chromium: Chromium, seed: int) -> None:
    """Each batch is rendered and sanitized; every marker is tallied (the checks follow)."""
    started = time.monotonic()
    batch = mail_batch(seed)
    verdicts = chromium.visibility(batch)
    for (html, markers), (_, seen) in zip(batch, verdicts, strict=True):
        assert len(seen) == len(markers)
        text, codes = _decide(html)
        TALLY["mails"] += 1
        policy: tuple[str, str] | None = None
        for marker, shown in zip(markers, seen, strict=True):
            kept = marker in text  # markers are m<case>q<n>z: never inside one another
            if shown:
                TALLY["shown"] += 1
                TALLY["kept"] += kept
                if kept:
                    continue
                policy = policy or _policy_texts(html)
                if marker in policy[0] or marker in policy[1]:
                    TALLY["policy"] += 1  # removed because the two readings disagree
                elif len(LOST) < 50:
                    LOST.append(f"{marker} in {html}")
            else:
                TALLY["hidden"] += 1
                if kept and "html_css_undecidable" not in codes:
                    TALLY["leaked"] += 1
                    if len(LEAKED) < 50:
                        LEAKED.append(f"{marker} in {html}")
    TALLY["seconds"] += time.monotonic() - started


def _ran(request: pytest.FixtureRequest) -> None:
    if TALLY["mails"] == 0:
        collected = {item.name for item in request.session.items}
        if "test_chromium_renders_the_generated_mail" in collected and shutil.which("chromium"):
            # it was to run in this session, yet not first in this process: the module was split
            # (pytest-xdist must keep it on one worker: scripts/test.sh's --dist loadfile)
            pytest.fail(
                "test_chromium_renders_the_generated_mail did not run first in this process"
            )
        pytest.skip("runs after test_chromium_renders_the_generated_mail")
    print(f"oracle: {TALLY}")


def test_the_sanitizer_does_not_show_what_chromium_hides(request: pytest.FixtureRequest) -> None:
    """No marker Chromium hides reaches body_text without html_css_undecidable."""
    _ran(request)
    assert TALLY["hidden"] > 0
    assert TALLY["leaked"] == 0, LEAKED[:5]


def test_the_sanitizer_keeps_what_chromium_shows(request: pytest.FixtureRequest) -> None:
    """Over the generated mails above, at least RETENTION of the markers Chromium shows
    survive, leaving out those the fail-closed policy removes on purpose (``policy``: kept
    when the possible rules are left out, or when they are taken as certain, so removed only
    because the two readings disagree); counting those too, at least RETENTION_ALL."""
    _ran(request)
    assert TALLY["shown"] > 0 and TALLY["mails"] >= MIN_MAILS
    ratio = TALLY["kept"] / (TALLY["shown"] - TALLY["policy"])
    assert ratio >= RETENTION, (ratio, LOST[:10])
    assert TALLY["kept"] / TALLY["shown"] >= RETENTION_ALL, TALLY


def test_the_attack_corpus_agrees_with_chromium(chromium: Chromium) -> None:
    """tests/data/css/attacks.json's ``browser_hides`` column is what Chromium does."""
    from tests.unit.test_css_attacks import CORPUS

    cases = [
        (c["html"], ["VISIBLE", "SECRET" if "SECRET" in c["html"] else "SHOWN"]) for c in CORPUS
    ]
    wrong = [
        c["name"]
        for c, (_, (visible, other)) in zip(CORPUS, chromium.visibility(cases), strict=True)
        if not visible or other == c["browser_hides"]
    ]
    assert not wrong
