"""The permanent corpus of CSS hiding forms (tests/data/css/attacks.json), each with its result.

``hidden``: whether the sanitizer must remove the SECRET (else the SHOWN text must stay);
``undecidable``: the SECRET stays but the message carries ``html_css_undecidable`` (what hides
it, a rotation or an animation, only layout or time decides);
``browser_hides``: what Chromium does with it (differs only where the sanitizer fails closed on
purpose: a narrow-screen media query, a :hover rule, ::first-line, an @container without a
container, @-moz-document and unknown at-rules, which Chromium ignores; ``&p`` nesting, which
Chromium drops and the sanitizer reads as ``p&``). The oracle test checks the
``browser_hides`` column against a real browser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.sanitize.html import process_html
from mailguard_core.sanitize.warnings import WarningCollector

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "css" / "attacks.json").read_text()
)


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_every_attack_form_gets_its_expected_result(case: dict[str, Any]) -> None:
    warnings = WarningCollector()
    out = process_html(
        case["html"], location="body:html", warnings=warnings, flagged=lambda t: False,
        want_html=True,
    )  # fmt: skip
    assert "VISIBLE" in out.text, out.text
    if case["hidden"]:
        assert "SECRET" not in out.text and "SECRET" not in (out.clean_html or "")
        assert "html_hidden_content_removed" in warnings.codes()
    elif case.get("undecidable"):
        # kept, but the model is told some text may be invisible to the human
        assert "SECRET" in out.text
        assert "html_css_undecidable" in warnings.codes()
    else:
        assert "SHOWN" in out.text
        assert "html_css_undecidable" not in warnings.codes()


def test_the_corpus_names_every_form_once() -> None:
    names = [c["name"] for c in CORPUS]
    assert len(names) == len(set(names)) >= 60
