"""The Pythons the package claims are the ones CI tests, and on each of them the differential
tests of sanitize/mimeparse.py test the transcribed parser (not the stdlib against itself)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from mailguard_core.sanitize import email_parser_shim

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CLASSIFIER = "Programming Language :: Python :: "


def _classified() -> list[str]:
    return [
        c.removeprefix(CLASSIFIER)
        for c in PROJECT["classifiers"]
        if c.startswith(CLASSIFIER) and c.removeprefix(CLASSIFIER).startswith("3.")
    ]


def test_requires_python_admits_exactly_the_classified_versions() -> None:
    """requires-python and the version classifiers (which scripts/pythons.sh reads) agree."""
    spec = SpecifierSet(PROJECT["requires-python"])
    admitted = [f"3.{minor}" for minor in range(40) if Version(f"3.{minor}.0") in spec]
    assert admitted == _classified() == ["3.11", "3.12", "3.13"]


def test_this_interpreter_is_a_claimed_version() -> None:
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in _classified()


def test_the_mime_differential_tests_exercise_the_transcription_here() -> None:
    """email_parser_shim uses the stdlib parser above the versions mimeparse transcribes: on every
    claimed version the transcription must be active, or test_mimeparse compares the stdlib
    with itself."""
    assert email_parser_shim.TRANSCRIBED


def test_ci_finds_an_interpreter_for_every_claimed_version() -> None:
    """scripts/pythons.sh (what scripts/test.sh runs pytest with) lists each claimed version
    with a working interpreter of that version and its own virtualenv (./.venv for python3's,
    ./.venv-3.X for the others)."""
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pythons.sh")], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    assert [r[0] for r in rows] == _classified()
    assert [r[2] for r in rows].count(".venv") == 1
    for version, interpreter, venv in rows:
        assert venv in (".venv", f".venv-{version}")
        check = subprocess.run(
            [interpreter, "-c", "import sys, venv, ensurepip; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.stdout.strip() == str(tuple(int(n) for n in version.split(".")))
