"""The detectors: :class:`RuleBasedDetector` (the weighted rules) and :class:`AnyDetector`."""

from __future__ import annotations

from collections.abc import Sequence

from mailguard_core.ports.detector import InjectionDetector
from mailguard_core.sanitize.anchors import ascii_fold, find_anchored
from mailguard_core.sanitize.injection.plan import (
    ALL_SUBSTRINGS,
    ALSO_MASK,
    ANY_MASK,
    ASCII_SUBSTRINGS,
    BITS,
    NEEDS_BITS,
    NO_ALSO_MASK,
    REQUIRED_MASKS,
    SECRET_CODE_BIT,
    TRIGGER_WORDS,
    WEIGHTS,
    needs_met,
    secret_code_requested,
    text_words,
)
from mailguard_core.sanitize.injection.variants import variants

_MAX_SCAN = 200_000


class RuleBasedDetector:
    """Weighted rules over the first 200,000 characters; flagged at a total weight of 2.

    When the text as written reaches no verdict, each de-obfuscated reading of it
    (:func:`variants`) is checked the same way; a hit there answers the rules that fired
    plus the name of the trick (``obfuscation_base64``, ``obfuscation_homoglyphs``, ...).
    """

    threshold = 2

    def detect(self, text: str) -> Sequence[str]:
        """Names of the rules that fired when their weights reach the threshold, else ()."""
        sample = text[:_MAX_SCAN]
        found = self._detect(sample)
        if found:
            return found
        for name, variant in variants(sample):
            reading = variant[:_MAX_SCAN]
            if reading == sample:
                continue  # the same text: the same () as above
            found = self._detect(reading)
            if found:
                return (*found, name)
        return ()

    def _detect(self, sample: str) -> tuple[str, ...]:
        # the triggers, needs and anchors read the text with the letters IGNORECASE also
        # matches to ASCII ones (ı, İ, ſ, K) spelled as those: "ıgnore" triggers as "ignore"
        # (the regexes still run on ``sample`` as written); ASCII text is returned as is
        lower = ascii_fold(sample).lower()
        # the rules whose trigger holds, as a bit mask over _PLAN (see :func:`_triggered`):
        # one set intersection with every trigger word, then the masks of the words found
        any_mask = 0
        also_mask = NO_ALSO_MASK
        words = text_words(lower)
        for word in words & TRIGGER_WORDS:
            any_mask |= ANY_MASK.get(word, 0)
            also_mask |= ALSO_MASK.get(word, 0)
        mask = any_mask & also_mask
        for guard, group in ASCII_SUBSTRINGS if lower.isascii() else ALL_SUBSTRINGS:
            if guard in lower:
                for sub, sub_mask in group:
                    if sub_mask & ~mask and sub in lower:
                        mask |= sub_mask
        for required, required_mask in REQUIRED_MASKS:
            if mask & required_mask and required not in lower:
                mask &= ~required_mask
        ascii_text = lower.isascii()
        if ascii_text:
            for bit, alternatives in NEEDS_BITS:
                if mask & bit and not needs_met(alternatives, words, lower):
                    mask &= ~bit
        if not mask:
            return ()
        possible = 0
        for bit, weight in WEIGHTS:
            if mask & bit:
                possible += weight
        if possible < self.threshold:
            return ()  # the rules that fire are among the triggered: they cannot reach it
        # each triggered rule's regex, tried only where one of its anchors occurs (see
        # :mod:`anchors`); stopped as soon as the rules left cannot reach the threshold
        # ``lower`` is what :func:`anchors.fold` answers: the same length as ``sample`` (İ,
        # the one character whose lower() is two, is folded first) and nothing left to fold
        folded = lower if len(lower) == len(sample) else None
        fired: list[str] = []
        weight_fired = 0
        left = possible
        for bit, name, weight, rx, starts in BITS:
            if not mask & bit:
                continue
            if bit == SECRET_CODE_BIT and ascii_text:
                hit = secret_code_requested(sample, lower, words)
            elif starts is not None and folded is not None:
                hit = find_anchored(rx, starts, sample, folded)
            else:
                hit = rx.search(sample) is not None
            left -= weight
            if hit:
                fired.append(name)
                weight_fired += weight
            elif weight_fired + left < self.threshold:
                return ()
        if weight_fired >= self.threshold:
            return tuple(fired)
        return ()


class AnyDetector:
    """Several detectors as one: the names every one of them answered, in order, each once.

    For plugging a second opinion (a local classifier) beside the rules:
    ``SanitizeOptions(detector=AnyDetector(RuleBasedDetector(), MyClassifier()))``.
    """

    def __init__(self, *detectors: InjectionDetector) -> None:
        self.detectors = detectors

    def detect(self, text: str) -> Sequence[str]:
        """The union of the detectors' answers (``()`` when none of them flags ``text``)."""
        names: list[str] = []
        for detector in self.detectors:
            for name in detector.detect(text):
                if name not in names:
                    names.append(name)
        return tuple(names)
