"""``scripts/demo.sh`` runs setup.sh (pip) only when ./.venv is missing or pyproject.toml,
constraints.txt or setup.sh changed since it last ran (issue 15: it re-ran pip on every
start, 4.7 s). Run on a copy of the script in a scratch tree whose setup.sh and
mailguard-mcp are stand-ins that record each call (no pip, no server)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_SETUP = """#!/usr/bin/env bash
echo setup >> calls.log
mkdir -p .venv/bin
printf '#!/usr/bin/env bash\\necho "served $*" >> calls.log\\n' > .venv/bin/mailguard-mcp
chmod +x .venv/bin/mailguard-mcp
"""


def _demo(tree: Path) -> list[str]:
    out = subprocess.run(["bash", "scripts/demo.sh", "--x"], cwd=tree, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    calls = (tree / "calls.log").read_text().split("\n")
    (tree / "calls.log").unlink()
    return [c for c in calls if c]


def test_demo_sh_runs_setup_only_when_needed(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "demo.sh", tmp_path / "scripts" / "demo.sh")
    (tmp_path / "scripts" / "setup.sh").write_text(FAKE_SETUP)
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)

    assert _demo(tmp_path) == ["setup", "served demo --x"]  # no .venv yet
    assert _demo(tmp_path) == ["served demo --x"]  # nothing changed: no pip
    for name in ("pyproject.toml", "constraints.txt", "scripts/setup.sh"):
        with (tmp_path / name).open("a") as f:
            f.write("\n# changed\n")
        assert _demo(tmp_path) == ["setup", "served demo --x"], name
        assert _demo(tmp_path) == ["served demo --x"], name
    shutil.rmtree(tmp_path / ".venv")
    assert _demo(tmp_path) == ["setup", "served demo --x"]
