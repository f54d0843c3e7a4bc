"""The attack and false-positive corpus in tests/data/sanitizer: each case meets its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.sanitize import SanitizeOptions, sanitize_message

DATA = Path(__file__).resolve().parents[1] / "data" / "sanitizer"
CASES = sorted(p.stem for p in DATA.glob("*.eml"))


def _load(name: str) -> tuple[bytes, dict[str, Any]]:
    expect = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return (DATA / f"{name}.eml").read_bytes(), expect


def test_the_fixture_corpus_is_present() -> None:
    """The corpus has its cases (a missing directory must not pass silently)."""
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", CASES)
def test_fixture_case_meets_its_expectations(name: str) -> None:
    """Body strings, warning codes and warning details are as the case's JSON says."""
    raw, expect = _load(name)
    options = SanitizeOptions(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in expect.get("options", {}).items()}
    )
    safe = sanitize_message(raw, options)
    env = safe.to_dict()
    body = env["untrusted"]["body_text"]
    codes = {w["code"] for w in env["security_warnings"]}
    for text in expect.get("must", []):
        assert text in body, f"{text!r} missing from body"
    for text in expect.get("must_not", []):
        assert text not in body, f"{text!r} reached the body"
    for code in expect.get("warnings", []):
        assert code in codes, f"expected warning {code}; got {sorted(codes)}"
    for code in expect.get("no_warnings", []):
        assert code not in codes, f"unexpected warning {code}"
    for wanted in expect.get("details", []):
        found = [
            w for w in env["security_warnings"]
            if w["code"] == wanted["code"]
            and all(
                (w["severity"] if k == "severity" else w["detail"].get(k)) == v
                for k, v in wanted.items() if k != "code"
            )
        ]  # fmt: skip
        assert found, f"no warning matching {wanted}; got {env['security_warnings']}"
    for text in expect.get("subject_must_not", []):
        assert text not in env["untrusted"]["subject"]
    if "body_max_chars" in expect:
        assert len(body) <= expect["body_max_chars"]
    if "attachment_names" in expect:
        names = [a["filename"] for a in env["untrusted"]["attachments"]]
        assert names == expect["attachment_names"]
