"""The detector's cheap gate (word triggers, substrings, ASCII needs, anchors) is conservative
under case folding: a rule whose own regex matches a text is reported exactly as a gate-less
``rx.search`` of every rule would report it, also when the text spells its ASCII letters with
any character ``re.IGNORECASE`` matches to them (``ı``/``İ`` for ``i``, ``ſ`` for ``s``,
Kelvin ``K`` for ``k``, the other ASCII case), a set asked of the regex engine here over all
code points, independently of the detector's fold table."""

from __future__ import annotations

import re
import string
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.sanitize import RuleBasedDetector
from mailguard_core.sanitize.anchors import ASCII_FOLDS, ascii_fold, fold
from mailguard_core.sanitize.injection import variants
from mailguard_core.sanitize.injection.plan import RULES
from tests.property.test_injection_anchors import _GENERATORS


def _every_code_point() -> str:
    return "".join(map(chr, range(sys.maxunicode + 1)))


_EVERY = _every_code_point()
#: per ASCII letter, every code point IGNORECASE matches to it (both ASCII cases included)
_SPELLINGS = {
    letter: tuple(re.compile(letter, re.IGNORECASE).findall(_EVERY))
    for letter in string.ascii_lowercase
}
#: other case traps that match no ASCII letter (sharp s, ligatures, Angstrom, accented)
_OTHER_TRAPS = "\u00df\u1e9e\ufb01\ufb06\u212b\u00e9\u00c9\u0307"
_WEIGHTS = {name: weight for name, weight, _ in RULES}


def _gateless(sample: str, threshold: int) -> tuple[str, ...]:
    names = tuple(name for name, _, rx in RULES if rx.search(sample))
    return names if sum(_WEIGHTS[n] for n in names) >= threshold else ()


def _reference(text: str, threshold: int) -> tuple[str, ...]:
    """:meth:`RuleBasedDetector.detect` with every rule's regex searched, no gate at all."""
    sample = text[:200_000]
    found = _gateless(sample, threshold)
    if found:
        return found
    for name, variant in variants(sample):
        reading = variant[:200_000]
        if reading != sample and (found := _gateless(reading, threshold)):
            return (*found, name)
    return ()


_DEFAULT = RuleBasedDetector()
#: threshold 1: every rule that fires is reported, so each rule's gate is checked on its own
_EVERY_RULE = RuleBasedDetector()
_EVERY_RULE.threshold = 1


@st.composite
def _respelled(draw: st.DrawFn, name: str) -> str:
    """A string the rule's regex generates, its ASCII letters respelled at random with the
    characters IGNORECASE matches to them, some other traps put in, behind a short head."""
    chars = list(draw(_GENERATORS[name]))
    respell = draw(st.floats(0.0, 1.0))
    for i, ch in enumerate(chars):
        if ch.lower() in _SPELLINGS and draw(st.floats(0.0, 1.0)) < respell:
            chars[i] = draw(st.sampled_from(_SPELLINGS[ch.lower()]))
    for _ in range(draw(st.integers(0, 2))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(_OTHER_TRAPS)))
    head = draw(st.sampled_from(["", " ", "Re: ", "\n", "\u0130 "]))
    return head + "".join(chars)


@pytest.mark.parametrize("name", [name for name, _, _ in RULES])
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_the_gate_reports_what_a_gateless_search_reports(name: str, data: st.DataObject) -> None:
    text = data.draw(_respelled(name))
    assert _EVERY_RULE.detect(text) == _reference(text, 1), (name, text)
    assert _DEFAULT.detect(text) == _reference(text, _DEFAULT.threshold), (name, text)


def test_the_generators_cover_every_rule() -> None:
    assert {name for name, _, _ in RULES} <= set(_GENERATORS)


def test_the_fold_table_is_every_non_ascii_spelling_of_an_ascii_letter() -> None:
    """Asked of the regex engine letter by letter: ``İ ı ſ K`` on Python 3.11-3.13."""
    expected = {
        ord(ch): letter
        for letter, spellings in _SPELLINGS.items()
        for ch in spellings
        if not ch.isascii()
    }
    assert expected == ASCII_FOLDS
    assert set(ASCII_FOLDS) >= {0x130, 0x131, 0x17F, 0x212A}


def test_folded_lower_text_keeps_its_length_and_needs_no_more_folding() -> None:
    """Over every code point: ``ascii_fold`` then ``lower()`` keeps one character per
    character (so positions line up with the text for the anchors) and leaves nothing
    ``ascii_fold`` would change, so the detector's ``lower`` is :func:`fold`'s answer."""
    lower = ascii_fold(_EVERY).lower()
    assert len(lower) == len(_EVERY)
    assert ascii_fold(lower) == lower
    assert fold(_EVERY, _EVERY.lower()) == lower
