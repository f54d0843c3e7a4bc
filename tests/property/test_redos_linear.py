"""Regexes that retried a near-miss at every position (quadratic time on a crafted message)
are replaced by linear scans: each scan gives exactly the regex's matches (hypothesis compares
them on text wider than the regex knows), and the hostile input is answered correctly.
``bench/redos.py`` measures the time; no test here times anything."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.sanitize.encoded_words import _ENCODED_WORD, encoded_words, split_words
from mailguard_core.sanitize.headers import _ADDR, _SIMPLE_ENTRY_RE, _simple_addresses

#: the spelling _SIMPLE_ENTRY_RE replaces (cubic on a run of blanks)
_REFERENCE_ENTRY_RE = re.compile(
    rf'\s*(?:"([^"]*)"\s*<({_ADDR})>|([^<>@,"]*?)\s*<({_ADDR})>|({_ADDR}))?\s*(?:,|$)'
)
_ENTRY_PIECES = st.lists(
    st.sampled_from(
        [
            " ",
            "  ",
            "\t",
            "\n",
            "\r",
            "\u3000",
            "\x1c",
            "\u00a0",
            '"',
            "<",
            ">",
            "@",
            ",",
            "a",
            "Bob",
            "b.c",
            "x@y",
            "<a@b>",
            '"N"',
            "é",
            "\u2028",
            "-",
        ]
    )
    | st.text(max_size=2),
    max_size=20,
).map("".join)

#: the pieces an encoded word is made of, and the near-misses around them
_ENCODED_PIECES = st.lists(
    st.sampled_from(
        [
            "=?",
            "?=",
            "?",
            "=",
            "q",
            "Q",
            "b",
            "B",
            "?q?",
            "?B?",
            "utf-8",
            "=?a?q?",
            "\n",
            "\r",
            " ",
            "_",
            "=41",
            "QUE=",
            "x",
            "é",
            "\u2028",
            "*en",
            "=??=",
            "?q?=",
        ]
    )
    | st.text(max_size=3),
    max_size=24,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_ENCODED_PIECES)
def test_encoded_words_are_the_regex_matches(value: str) -> None:
    expected = [(m.start(), m.end(), *m.groups()) for m in _ENCODED_WORD.finditer(value)]
    assert list(encoded_words(value)) == expected


def test_encoded_words_cases() -> None:
    value = "=?=?utf-8?q?x?= a =?a?Q?\n?= =?cs?b?QUE=?==?x?q??= =?x?q?"
    expected = [(m.start(), m.end(), *m.groups()) for m in _ENCODED_WORD.finditer(value)]
    assert len(expected) == 3
    assert list(encoded_words(value)) == expected


def test_unclosed_encoded_words_then_a_real_one() -> None:
    # 40,000 characters of words that nothing closes (the regex read each to the line's end)
    # on one line, then a real word on the next: the real word is still decoded
    value = "=?a?q?a" * 6_000 + "\n =?utf-8?q?Caf=C3=A9?="
    chunks = split_words(value)
    assert chunks[-1] == ("Café".encode(), "utf-8")
    assert chunks[0] == ("=?a?q?a" * 6_000 + "\n ", None)


@settings(max_examples=1500, deadline=None)
@given(_ENTRY_PIECES)
def test_simple_entry_is_its_reference_spelling(value: str) -> None:
    for pos in range(len(value) + 1):
        new = _SIMPLE_ENTRY_RE.match(value, pos)
        old = _REFERENCE_ENTRY_RE.match(value, pos)
        assert (new and (new.span(), new.groups())) == (old and (old.span(), old.groups()))


def test_blank_runs_in_an_address_list() -> None:
    # 100,000 blanks before a name: the name and address come back (the old spelling read
    # every split of the run: cubic); a run with no address is not a plain list
    assert _simple_addresses([" " * 100_000 + "Bob   <bob@example.org>"]) == [
        ("Bob", "bob@example.org")
    ]
    assert _simple_addresses([" " * 100_000 + "x"]) is None
    assert _simple_addresses(["x" + " " * 100_000 + "y <a@b>"]) == [
        ("x" + " " * 100_000 + "y", "a@b")
    ]
