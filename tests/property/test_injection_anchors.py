"""The injection detector and the urgency check try a regex only where one of its anchors
occurs: that answers exactly what ``rx.search`` answers, on text wider than the rules (their
own vocabulary in any case, the characters the regex engine folds onto ASCII letters, noise)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.sanitize.anchors import (
    _MERGE_LENGTH,
    _merged,
    anchors,
    candidates,
    find_anchored,
    fold,
)
from mailguard_core.sanitize.injection.plan import RULES
from mailguard_core.sanitize.phishing.content import _CTA, _LANGUAGE

DATA = Path(__file__).resolve().parents[1] / "data" / "sanitizer"
#: every regex searched by its anchors: the injection rules, the phishing language checks and
#: the calls to action a credential-harvest link is read with
PATTERNS = [(name, rx) for name, _, rx in RULES] + [
    (name, rx) for name, rx, _ in (*_LANGUAGE, *_CTA)
]
ANCHORED = [(name, rx, starts) for name, rx in PATTERNS if (starts := anchors(rx)) is not None]


def _fixtures() -> list[str]:
    texts = []
    for path in ("injection_rules.jsonl", "injection_tasks.jsonl", "injection_labelled.jsonl"):
        for line in (DATA / path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


FIXTURES = _fixtures()
#: the literal runs of every rule's pattern (words, phrases, punctuation it looks for)
_LITERALS = sorted(
    {run for _, rx in PATTERNS for run in re.findall(r"[^\\()\[\]|?*+{}^$]{2,}", rx.pattern)}
)
_PIECES = st.sampled_from(
    [
        *_LITERALS,
        *(a for _, _, starts in ANCHORED for a, _ in starts),
        *[" ", "\n", ".", ",", "'s", ":", "@", "https://x.org/", "a@b.co", "`"],
    ]
)
#: the characters IGNORECASE matches to ASCII letters (ſ, ı, K, İ) and other case traps
_TRAPS = st.sampled_from(["\u017f", "\u0131", "\u212a", "\u0130", "\u00df", "\u00e9", "\u00c9"])


#: what the generated matches are spelled with: ASCII, the rules' own non-ASCII letters and
#: CJK, white space of several kinds, case traps (a smaller alphabet keeps generation fast)
_ALPHABET = sorted(
    {chr(c) for c in range(32, 127)}
    | {ch for _, rx in PATTERNS for ch in rx.pattern if not ch.isascii()}
    | set("\n\t\r\u00a0\u2003\u3000\u017f\u0131\u212a\u00df\u00c9")
)
#: each rule's regex with every ``\\b`` spelled as a space (the generator meets ``\\b`` only
#: by filtering): its strings mostly match the rule; those that do not check the search only
_GENERATORS = {
    name: st.from_regex(
        re.compile(rx.pattern.replace(r"\b", " "), rx.flags), fullmatch=True, alphabet=_ALPHABET
    ).map(lambda s: s.lstrip(" "))
    for name, rx, _ in ANCHORED
}
_FOLDS = str.maketrans({"s": "\u017f", "i": "\u0131", "k": "\u212a", "S": "\u017f"})


@st.composite
def _texts(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(_PIECES | st.sampled_from(FIXTURES) | _TRAPS | st.text(max_size=6), max_size=12)
    )
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.translate(_FOLDS)  # the letters IGNORECASE also matches to s, i, k
    # re-case some characters: the rules are case-insensitive, the anchors must be too
    flips = draw(st.lists(st.integers(0, max(0, len(text) - 1)), max_size=8))
    chars = list(text)
    for i in flips:
        if chars:
            chars[i] = chars[i].swapcase()
    return "".join(chars)


@settings(max_examples=60, deadline=None)
@given(_texts())
def test_anchored_search_answers_what_search_answers(text: str) -> None:
    folded = fold(text, text.lower())
    for name, rx, starts in ANCHORED:
        expected = rx.search(text) is not None
        if folded is None:
            continue  # the detector searches as before
        assert find_anchored(rx, starts, text, folded) == expected, (name, text)


@pytest.mark.parametrize("name", [name for name, _, _ in ANCHORED])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_match_of_a_rule_starts_with_one_of_its_anchors(
    name: str, data: st.DataObject
) -> None:
    """Strings the rule's own regex generates (every branch, any case), with the letters
    IGNORECASE also matches to s/i/k, behind arbitrary text: each match starts at an anchor,
    and the anchored search finds it."""
    [(rx, starts)] = [(rx, starts) for n, rx, starts in ANCHORED if n == name]
    whole = data.draw(_GENERATORS[name])
    if data.draw(st.booleans()):
        whole = whole.translate(_FOLDS)
    head = data.draw(st.sampled_from(["", " ", "x", "\n", "Re: ", "\u00e9t\u00e9 "]))
    text = head + whole
    folded = fold(text, text.lower())
    if folded is None:
        return  # İ: the detector searches as before
    if rx.match(text, len(head)) is not None:
        assert len(head) in set(candidates(starts, text, folded)), (name, whole)
    assert find_anchored(rx, starts, text, folded) == (rx.search(text) is not None), name


def test_anchored_search_finds_every_fixture_in_any_case() -> None:
    """Every rule that fires on a fixture is found there by its anchors, in the original
    case, upper-cased, and with ``s``/``i``/``k`` spelled ``ſ``/``ı``/``K``."""
    hits = 0
    for text in FIXTURES:
        for variant in (
            text,
            text.upper(),
            text.replace("s", "\u017f").replace("i", "\u0131").replace("k", "\u212a"),
        ):
            folded = fold(variant, variant.lower())
            assert folded is not None
            for name, rx, starts in ANCHORED:
                expected = rx.search(variant) is not None
                hits += expected
                assert find_anchored(rx, starts, variant, folded) == expected, (name, variant)
    assert hits > 100  # the fixtures do reach the rules


def test_fold_stands_for_every_character_an_anchor_character_matches() -> None:
    """Over every code point: a character the regex engine matches case-insensitively to an
    anchor character folds to that character (or makes :func:`fold` give up)."""
    chars = sorted({ch for _, _, starts in ANCHORED for pair in starts for ch in "".join(pair)})
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    candidates = re.compile("[" + re.escape("".join(chars)) + "]", re.I).findall(every)
    assert len(candidates) >= len(chars)
    for x in candidates:
        folded = fold(x, x.lower())
        for ch in chars:
            if re.fullmatch(re.escape(ch), x, re.I):
                assert folded is None or folded == ch, (x, ch)


def test_every_rule_has_anchors() -> None:
    """Every rule is searched by anchors; the line-anchored ones (``^[ \\t>]*system:``) walk
    back over their lead to the line start."""
    assert [name for name, _ in PATTERNS if anchors(_rx(name)) is None] == []
    assert all(len(a) >= 2 for _, _, starts in ANCHORED for a, _ in starts)
    leads = {name for name, _, starts in ANCHORED if any(lead for _, lead in starts)}
    assert leads == {"vocative_agent", "role_prefix_line"}


def _rx(name: str) -> re.Pattern[str]:
    return next(rx for n, rx in PATTERNS if n == name)


_ANCHOR_TEXT = st.builds(
    str.__add__,
    st.sampled_from(["", "your new ", "from now", "ai", "system", "note", "\u7cfb\u7edf"]),
    st.text(alphabet="abyou rnew\u00e9:", max_size=8),
).filter(lambda a: len(a) >= 2)


@settings(max_examples=500, deadline=None)
@given(st.sets(st.tuples(_ANCHOR_TEXT, st.sampled_from(["", "\t >"])), max_size=30))
def test_merged_anchors_cover_every_anchor_they_replace(found: set[tuple[str, str]]) -> None:
    """Each anchor begins with a merged anchor of its lead, and each merged anchor is the
    longest beginning of the anchors it stands for (so the places tried are the same or
    more, never fewer), at least :data:`_MERGE_LENGTH` long unless it stands for itself."""
    merged = _merged(found)
    assert len(merged) <= len(found)
    for anchor, lead in found:
        assert any(anchor.startswith(m) and lead == m_lead for m, m_lead in merged)
    for m, m_lead in merged:
        members = [
            a for a, lead in found if lead == m_lead and a[:_MERGE_LENGTH] == m[:_MERGE_LENGTH]
        ]
        assert members and all(a.startswith(m) for a in members)
        assert len(members) == 1 or len({a[len(m) : len(m) + 1] for a in members}) > 1
        assert len(m) >= _MERGE_LENGTH or (m, m_lead) in found
