"""constraints.txt, the lock of the development environment (issue 15 item 5), is consistent:
every line an exact pin; every runtime and test dependency of pyproject.toml pinned to a
version its specifier allows; every package ``mailguard[test]`` pulls in (transitively, on
this Python) pinned; and the environment these tests run in holds exactly the pinned
versions (scripts/setup.sh installs with ``-c constraints.txt``)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        assert match, f"not an exact pin: {line!r}"
        key = _key(match.group(1))
        assert key not in pins, f"pinned twice: {line!r}"
        pins[key] = Version(match.group(2))
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(r) for r in declared]


def test_every_declared_dependency_is_pinned_to_a_version_it_allows() -> None:
    pins = _pins()
    for requirement in _declared():
        key = _key(requirement.name)
        assert key in pins, f"{requirement} is not in constraints.txt (run scripts/lock.sh)"
        assert requirement.specifier.contains(pins[key], prereleases=True), (
            f"constraints.txt pins {requirement.name}=={pins[key]}, pyproject.toml wants "
            f"{requirement}: run scripts/lock.sh"
        )


def _closure() -> dict[str, str]:
    """Every distribution ``mailguard[test]`` needs on this Python: name -> who needs it."""
    needed: dict[str, str] = {}
    todo: list[tuple[Requirement, str]] = [(r, "pyproject.toml") for r in _declared()]
    while todo:
        requirement, parent = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = _key(requirement.name)
        if key in needed:
            continue
        needed[key] = parent
        try:
            requires = metadata.distribution(requirement.name).requires or []
        except metadata.PackageNotFoundError:
            raise AssertionError(
                f"{requirement.name} (needed by {parent}) is not installed: run "
                "scripts/setup.sh --test"
            ) from None
        for line in requires:
            child = Requirement(line)
            marker = child.marker
            wanted = marker is None or any(
                marker.evaluate({"extra": extra}) for extra in ("", *requirement.extras)
            )
            if wanted:
                child.marker = None
                todo.append((child, requirement.name))
    return needed


def test_the_tested_environment_is_the_locked_one() -> None:
    pins = _pins()
    needed = _closure()
    assert len(needed) > 50  # the closure really was walked (53 runtime packages alone)
    for key, parent in sorted(needed.items()):
        assert key in pins, f"{key} (needed by {parent}) is not in constraints.txt"
        installed = Version(metadata.version(key))
        assert installed == pins[key], (
            f"{key} {installed} is installed, constraints.txt pins {pins[key]}: run "
            "scripts/setup.sh --test (or scripts/lock.sh after a deliberate upgrade)"
        )


def test_setup_installs_with_the_lock() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    installs = [line for line in setup.splitlines() if "pip install" in line and " -e " in line]
    assert len(installs) == 2  # the runtime and the test install
    assert all("-c constraints.txt" in line for line in installs)
    assert "constraints.txt" in (ROOT / "scripts" / "demo.sh").read_text()  # reinstalls on change
