"""Hypothesis strategies shared by the property tests (others may add theirs here)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

#: every way the sanitizer must recognise to hide a piece of HTML text: (name, sheet, wrap)
HIDING_METHODS: list[tuple[str, str, Callable[[str], str]]] = [
    ("display_none", "", lambda t: f'<div style="display:none">{t}</div>'),
    ("display_none_upper", "", lambda t: f'<div style="DISPLAY : NONE ">{t}</div>'),
    ("sheet_class", ".hx{display:none}", lambda t: f'<p class="hx">{t}</p>'),
    ("sheet_id_important", "#hy{display:none!important}", lambda t: f'<p id="hy" style="display:block">{t}</p>'),  # noqa: E501
    ("sheet_descendant", "div.w span{visibility:hidden}", lambda t: f'<div class="w"><span>{t}</span></div>'),  # noqa: E501
    ("sheet_escape", ".h\\7a{display:none}", lambda t: f'<p class="hz">{t}</p>'),
    ("hidden_attr", "", lambda t: f"<p hidden>{t}</p>"),
    ("visibility", "", lambda t: f'<span style="visibility:hidden">{t}</span>'),
    ("font_zero", "", lambda t: f'<span style="font-size:0px">{t}</span>'),
    ("font_tiny", "", lambda t: f'<span style="font-size:0.5pt">{t}</span>'),
    ("zero_box", "", lambda t: f'<div style="height:0;overflow:hidden">{t}</div>'),
    ("max_height", "", lambda t: f'<div style="max-height:0;overflow:hidden">{t}</div>'),
    ("clip", "", lambda t: f'<div style="position:absolute;clip:rect(0,0,0,0)">{t}</div>'),
    ("offscreen", "", lambda t: f'<div style="position:fixed;top:-5000px">{t}</div>'),
    ("indent", "", lambda t: f'<p style="text-indent:-9999em">{t}</p>'),
    ("opacity", "", lambda t: f'<p style="opacity:0.0">{t}</p>'),
    ("white", "", lambda t: f'<p style="color:#fff">{t}</p>'),
    ("near_bg", "", lambda t: f'<table bgcolor="#123456"><tr><td><font color="#123457">{t}</font></td></tr></table>'),  # noqa: E501
    ("rgba", "", lambda t: f'<span style="color:rgba(10,10,10,0)">{t}</span>'),
    ("inherited_bg", "", lambda t: f'<div style="background-color:black"><p><span style="color:#010101">{t}</span></p></div>'),  # noqa: E501
    ("template", "", lambda t: f"<template>{t}</template>"),
    ("comment", "", lambda t: f"<!-- {t} -->"),
    ("title", "", lambda t: f"<title>{t}</title>"),
    ("mso", "", lambda t: f'<div style="mso-hide:all">{t}</div>'),
    ("script", "", lambda t: f"<script>var x = '{t}';</script>"),
    ("font_shorthand", "", lambda t: f'<p style="font:0/0 a">{t}</p>'),
    ("one_px_box", "", lambda t: f'<div style="height:1px;overflow:hidden">{t}</div>'),
    ("translate", "", lambda t: f'<p style="transform:translateX(-9999px)">{t}</p>'),
    ("hsl_white", "", lambda t: f'<p style="color:hsl(0, 0%, 100%)">{t}</p>'),
    ("filter_opacity", "", lambda t: f'<p style="filter: opacity(0)">{t}</p>'),
    ("content_visibility", "", lambda t: f'<p style="content-visibility:hidden">{t}</p>'),
    ("bg_image_fallback", "", lambda t: f'<div style="background:url(x.png) #fff"><p style="color:#fff">{t}</p></div>'),  # noqa: E501
    ("text_fill", "", lambda t: f'<p style="-webkit-text-fill-color:transparent">{t}</p>'),
    ("hidden_body_sheet", "", lambda t: f'<dialog><p>{t}</p></dialog>'),
]  # fmt: skip

VISIBLE_WRAPPERS: list[Callable[[str], str]] = [
    lambda t: f"<p>{t}</p>",
    lambda t: f'<div style="color:#333333;font-size:14px">{t}</div>',
    lambda t: f"<td>{t}</td>",
    lambda t: f"<li><b>{t}</b></li>",
    lambda t: f'<a href="https://example.org/">{t}</a>',
    lambda t: f'<span style="color:white;background:#000">{t}</span>',
    lambda t: f'<div style="display:none"></div><p>{t}</p>',
    lambda t: f'<p style="font-size:0"><span style="font-size:16px">{t}</span></p>',
]

markers = st.text(alphabet="bcdfghjkmnpqrstvwxz", min_size=6, max_size=10)


@st.composite
def hidden_and_visible_html(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """An HTML document mixing visible and hidden segments; returns (html, hidden, visible)."""
    count = draw(st.integers(min_value=1, max_value=6))
    hidden_words: list[str] = []
    visible_words: list[str] = []
    sheets: list[str] = []
    parts: list[str] = []
    for i in range(count):
        word = f"{draw(markers)}{i}x"
        if draw(st.booleans()):
            _, sheet, wrap = draw(st.sampled_from(HIDING_METHODS))
            sheets.append(sheet)
            hidden_words.append("hid" + word)
            parts.append(wrap("hid" + word))
        else:
            wrap_visible = draw(st.sampled_from(VISIBLE_WRAPPERS))
            visible_words.append("vis" + word)
            parts.append(wrap_visible("vis" + word))
    html = (
        f"<html><head><style>{' '.join(sheets)}</style></head><body>{' '.join(parts)}</body></html>"
    )
    return html, hidden_words, visible_words


_HTML_TOKENS = st.sampled_from(
    [
        "<p>", "</p>", "<div>", "</div>", "<span style='", "'>", "display:none", "color:#fff",
        "<style>", "</style>", ".a{", "}", "<!--", "-->", "<script>", "</script>", "<a href=",
        "javascript:x()", "<table>", "<td>", "<br>", "<img src=http://x/>", "&amp;", "&#0;",
        "<template>", "<title>", "\x00", "\u202e", "\u200b", "<", ">", "\"", "'", "/*", "*/",
        "\\", "@media{", "<![CDATA[", "<?xml?>", "<svg><script>", "<math>", "<noscript>",
    ]
)  # fmt: skip

hostile_html = st.lists(st.one_of(_HTML_TOKENS, st.text(max_size=8)), max_size=40).map("".join)

#: text salted with characters of every class the sanitizer strips or keeps specially
salted_text = st.lists(
    st.one_of(
        st.text(max_size=6),
        st.sampled_from(
            [
                "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202a", "\u202e",
                "\u2066", "\u2069", "\u200e", "\u200f", "\u061c", "\x00", "\x1b", "\x7f", "\x85",
                "\U000e0041", "\U000e007f", "\U0001f3f4", "\U0001f468", "\ufe0f", "\u0301",
                "\r", "\r\n", "\t", "\ufb01", "\uff21", "\U000e0100", "\ufe00", "\u180e",
                "\U0001f1e9", "\U0001f1ea", "ش", "ی", "e",
            ]
        ),
    ),
    max_size=30,
).map("".join)  # fmt: skip


def plain_message(body: str, subject: str = "s") -> bytes:
    """A minimal single-part UTF-8 message around ``body``."""
    return (
        f"From: a@example.org\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + body.encode("utf-8", "surrogatepass")


def html_message(html: str) -> bytes:
    """A minimal single-part UTF-8 HTML message around ``html``."""
    return (
        b"From: a@example.org\r\nSubject: s\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    ) + html.encode("utf-8", "surrogatepass")
