"""The de-obfuscation readings' fast spellings answer what the plain regexes answer, on text
wider than mail: ASCII letters beside Greek, Cyrillic, Cherokee, letterlike and full-width
look-alikes and beside other non-ASCII letters (accented Latin, ``ı``/``İ``/``ſ``/Kelvin
``K``, CJK), zero-width characters, digits, line starts, surrogates."""

from __future__ import annotations

import importlib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

variants_module = importlib.import_module("mailguard_core.sanitize.injection.variants")
_H = variants_module._HOMOGLYPH_CLASS
#: the regex ``_MIXED_WORD_RE`` stands for (an ASCII letter and a look-alike, either order)
_PLAIN_MIXED = re.compile(f"[a-zA-Z][{_H}]|[{_H}][a-zA-Z]")

_CHARS = st.one_of(
    st.sampled_from("aZgnorIe \n\t.-_0134"),
    st.sampled_from("\u0456\u043e\u0435\u0391\u03bf\u13a0\u13ff\u2100\u2122\u214f\uff21\uff5a"),
    st.sampled_from("\u036f\u0370\u03ff\u0400\u052f\u0530\u139f\u2150\uff20\uff5b\u20ff"),
    st.sampled_from("\u0131\u0130\u017f\u212a\u00e9\u00df\u4e2d\u200b\u200d\ufeff\ud800"),
    st.characters(),
)


@settings(max_examples=2_000, deadline=None)
@given(st.text(alphabet=_CHARS, max_size=60))
def test_mixed_word_regex_finds_what_the_plain_one_finds(text: str) -> None:
    fast = variants_module._MIXED_WORD_RE.search(text) is not None
    assert fast == (_PLAIN_MIXED.search(text) is not None)


def test_mixed_word_regex_both_orders_and_edges() -> None:
    rx = variants_module._MIXED_WORD_RE
    assert rx.search("\u0456gnore")  # look-alike first
    assert rx.search("ign\u043ere")  # look-alike after the letter
    assert rx.search("x\u2122")  # the letterlike block counts
    assert rx.search("\uff21b")
    assert not rx.search("\u0456\u0433\u043d")  # no ASCII letter
    assert not rx.search("caf\u00e9 \u0131\u017f")  # accented Latin and folds are not look-alikes
    assert not rx.search("a \u0456 b")  # separated by blanks
    assert not rx.search("1\u0456_")  # digits and _ are not letters
