"""The InjectionDetector contract for the default rules and for a combination of detectors."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mailguard_core.ports.detector import InjectionDetector
from mailguard_core.sanitize.injection import AnyDetector, RuleBasedDetector
from tests.contract.injection_detector_contract import InjectionDetectorContract


class TestRuleBasedDetector(InjectionDetectorContract):
    """The default deterministic rules meet the whole contract, at stricter rates."""

    min_detection = 1.0
    max_false_positive = 0.0

    @pytest.fixture
    def detector(self) -> InjectionDetector:
        return RuleBasedDetector()


class _Nothing:
    """A detector that flags nothing (a classifier whose model says 'benign' to everything)."""

    def detect(self, text: str) -> Sequence[str]:
        return ()


class TestAnyDetector(InjectionDetectorContract):
    """The rules beside a second opinion: the union keeps the rules' rates."""

    min_detection = 1.0
    max_false_positive = 0.0

    @pytest.fixture
    def detector(self) -> InjectionDetector:
        return AnyDetector(_Nothing(), RuleBasedDetector())


def test_a_detector_that_flags_nothing_fails_the_contract() -> None:
    """The contract can fail: a do-nothing detector misses the canonical attacks."""
    contract = InjectionDetectorContract()
    with pytest.raises(AssertionError):
        contract.test_canonical_mail_injections_are_recognised(_Nothing())
