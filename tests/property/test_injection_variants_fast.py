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


def _plain_leet(text: str) -> str:
    return variants_module._LEET_WORD_RE.sub(variants_module._unleet, text)


#: ASCII rich in what leet words are made of and what bounds them (``_`` is a word character
#: outside the words, ``2689`` digits inside them), plus the non-ASCII letters IGNORECASE
#: matches to ASCII ones and other word characters
_LEET_ASCII = st.sampled_from("aeoIsTgnrX0134572689@$_ -.,!\n\t")
_LEET_WIDE = st.one_of(
    _LEET_ASCII,
    st.sampled_from("\u0131\u0130\u017f\u212a\u00e9\u4e2d\u200b\u0663\u00a0\u00df\ud800"),
)
_LEET_WORDS = st.sampled_from(["1gn0r3", "pr3v10u5", "@ll", "$y5t3m", "a1b2c3", "h3ll0_w0rld"])


@settings(max_examples=2_000, deadline=None)
@given(st.lists(st.one_of(_LEET_WORDS, st.text(alphabet=_LEET_ASCII, max_size=8)), max_size=25))
def test_leet_reading_is_the_regex_reading_on_ascii(parts: list[str]) -> None:
    text = "".join(parts)
    assert variants_module._leet_reading(text) == _plain_leet(text)


@settings(max_examples=1_500, deadline=None)
@given(st.lists(st.one_of(_LEET_WORDS, st.text(alphabet=_LEET_WIDE, max_size=8)), max_size=25))
def test_leet_reading_is_the_regex_reading_on_any_text(parts: list[str]) -> None:
    text = "".join(parts)
    assert variants_module._leet_reading(text) == _plain_leet(text)


def test_leet_reading_edges_and_the_run_budget() -> None:
    leet = variants_module._leet_reading
    assert leet("1gn0r3 411 pr3v10u5") == "ignore 411 previous"  # 411: one letter short
    assert leet("x_1gn0r3 1gn0r3_") == "x_1gn0r3 1gn0r3_"  # bounded by a word character
    assert leet("1gn0r3") == "ignore" and leet("") == ""
    # more candidate runs than the budget: the regex over the whole text, the same answer
    many = " ".join(["a1b3"] * 400 + ["1gn0r3"])
    assert leet(many) == _plain_leet(many)
    assert leet(many).endswith(" ignore")
    numbers = " ".join(str(n) for n in range(5_000)) + " 1gn0r3"
    assert leet(numbers) == _plain_leet(numbers)
    assert leet("\u0131gn0r3 1gn0r3") == _plain_leet("\u0131gn0r3 1gn0r3")


@settings(max_examples=2_000, deadline=None)
@given(st.binary(max_size=40).map(lambda b: b.translate(bytes(b"as "[c % 3] for c in range(256)))))
def test_spaced_hint_is_the_two_substrings(classes: bytes) -> None:
    """The letter-spacing pre-check: ``sasas`` or ``sassas`` among letters (``a``),
    separators (``s``) and anything else (`` ``)."""
    hint = variants_module._SPACED_HINT_RE.search(classes) is not None
    assert hint == (b"sasas" in classes or b"sassas" in classes)
