"""The rules in order with their triggers as bit masks and the anchors of their regexes
(see :mod:`mailguard_core.sanitize.injection.detector`)."""

from __future__ import annotations

import re
from typing import Any

from mailguard_core.sanitize.anchors import anchors
from mailguard_core.sanitize.injection.patterns import IGNORE_CASE
from mailguard_core.sanitize.injection.rules_core import CORE
from mailguard_core.sanitize.injection.rules_multilingual import MULTILINGUAL
from mailguard_core.sanitize.injection.rules_tasks import TASKS
from mailguard_core.sanitize.injection.triggers import ASCII_NEEDS, REQUIRES, TRIGGERS

RULES: tuple[tuple[str, int, re.Pattern[str]], ...] = CORE + TASKS + MULTILINGUAL


_WORD_RE = re.compile(r"[a-z_]+")
#: bytes.translate table: ``[a-z_]`` kept, every other byte a space (see :func:`text_words`)
_WORD_BYTES = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz_" else 0x20 for c in range(256))


def text_words(lower: str) -> frozenset[str]:
    """``set(_WORD_RE.findall(lower)) & VOCABULARY``: the words of the text that the detector
    asks about (triggers, needs, the secret-code check); the words split in C: every
    non-ASCII character becomes ``?`` and every byte outside ``[a-z_]`` a space, so the runs
    ``split`` finds are the regex's matches. Only the vocabulary's words are hashed into the
    answer (a set of every word of a long text costs more than the split)."""
    data = lower.encode("ascii", "replace").translate(_WORD_BYTES)
    return VOCABULARY.intersection(data.decode("ascii").split())


#: RULES in order with their triggers: (name, weight, regex, any_of, also, substrings, the
#: ASCII ones among them (all an ASCII text can hold), required substring)
_PLAN = tuple(
    (
        name, weight, rx, TRIGGERS[name][0], TRIGGERS[name][1],
        TRIGGERS[name][2], tuple(sub for sub in TRIGGERS[name][2] if sub.isascii()),
        REQUIRES.get(name, ""),
    )
    for name, weight, rx in RULES
)  # fmt: skip


def _masks() -> tuple[Any, ...]:
    """``_PLAN``'s triggers as bit masks (bit ``i`` is rule ``i``), for :meth:`_detect`."""
    any_mask: dict[str, int] = {}
    also_mask: dict[str, int] = {}
    no_also = 0
    subs: dict[str, int] = {}
    required: dict[str, int] = {}
    for i, (_, _, _, any_of, also, all_subs, _, needed) in enumerate(_PLAN):
        bit = 1 << i
        for word in any_of:
            any_mask[word] = any_mask.get(word, 0) | bit
        for word in also:
            also_mask[word] = also_mask.get(word, 0) | bit
        if not also:
            no_also |= bit
        for sub in all_subs:
            subs[sub] = subs.get(sub, 0) | bit
        if needed:
            required[needed] = required.get(needed, 0) | bit

    def grouped(
        items: list[tuple[str, int]],
    ) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
        # a substring is looked for only when its first character is in the text
        groups: dict[str, list[tuple[str, int]]] = {}
        for sub, sub_mask in items:
            groups.setdefault(sub[0], []).append((sub, sub_mask))
        return tuple((guard, tuple(group)) for guard, group in groups.items())

    return (
        any_mask,
        also_mask,
        no_also,
        frozenset(any_mask) | frozenset(also_mask),
        grouped([(sub, m) for sub, m in subs.items() if sub.isascii()]),
        grouped(list(subs.items())),
        tuple(required.items()),
        tuple((1 << i, plan[1]) for i, plan in enumerate(_PLAN)),
        tuple(
            (1 << i, plan[0], plan[1], plan[2], anchors(plan[2])) for i, plan in enumerate(_PLAN)
        ),
    )


(
    ANY_MASK, ALSO_MASK, NO_ALSO_MASK, TRIGGER_WORDS, ASCII_SUBSTRINGS, ALL_SUBSTRINGS,
    REQUIRED_MASKS, WEIGHTS, BITS,
) = _masks()  # fmt: skip

#: (bit, alternatives) of the rules with a finer necessary condition for ASCII text
#: (:data:`triggers.ASCII_NEEDS`)
NEEDS_BITS = tuple(
    (1 << i, ASCII_NEEDS[plan[0]]) for i, plan in enumerate(_PLAN) if plan[0] in ASCII_NEEDS
)
assert len(NEEDS_BITS) == len(ASCII_NEEDS)


def needs_met(
    alternatives: tuple[tuple[tuple[frozenset[str], ...], tuple[str, ...]], ...],
    words: frozenset[str],
    lower: str,
) -> bool:
    """True when one alternative has every word group meeting ``words`` and every substring
    in ``lower``."""
    return any(
        all(not words.isdisjoint(group) for group in groups) and all(s in lower for s in subs)
        for groups, subs in alternatives
    )


def _top_level_alternatives(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|`` (the rules' patterns escape no ``|``)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(pattern):
        if ch == "(" and pattern[i - 1 : i] != "\\":
            depth += 1
        elif ch == ")" and pattern[i - 1 : i] != "\\":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


SECRET_CODE_BIT = next(bit for bit, name, *_ in BITS if name == "secret_code_request")
_SECRET_CODE_RX = next(rx for name, _, rx in RULES if name == "secret_code_request")
#: secret_code_request's two alternatives ("reply with ... code", "send ... the user's code")
_SECRET_REPLY_RX, _SECRET_SEND_RX = (
    re.compile(alt, IGNORE_CASE) for alt in _top_level_alternatives(_SECRET_CODE_RX.pattern)
)
assert f"{_SECRET_REPLY_RX.pattern}|{_SECRET_SEND_RX.pattern}" == _SECRET_CODE_RX.pattern


def secret_code_requested(sample: str, lower: str, words: frozenset[str]) -> bool:
    """``_SECRET_CODE_RX.search(sample)`` for an ASCII ``sample``: an alternative runs only
    when the words or the literal phrase it cannot match without are in the text (in ASCII
    ``\\b`` bounds exactly the ``[a-z_]`` runs :func:`text_words` splits, and the pattern's
    spaces are literal)."""
    if (
        "with" in words
        and not words.isdisjoint(_SECRET_REPLY_VERBS)
        and _SECRET_REPLY_RX.search(sample)
    ):
        return True
    if any(phrase in lower for phrase in _SECRET_OWNERS):
        return _SECRET_SEND_RX.search(sample) is not None
    return False


_SECRET_OWNERS = ("the user", "the owner", "the recipient", "the account holder")
_SECRET_REPLY_VERBS = ("reply", "respond", "answer")

#: every word the detector asks a text's word set about (:func:`text_words` keeps only
#: these): the trigger words, the words of the ASCII needs, the secret-code check's words
VOCABULARY: frozenset[str] = (
    TRIGGER_WORDS
    | frozenset(
        word for alts in ASCII_NEEDS.values() for groups, _ in alts for g in groups for word in g
    )
    | frozenset(("with", *_SECRET_REPLY_VERBS))
)
