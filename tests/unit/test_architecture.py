"""The domain's dependencies point inward: checked by import-linter and by this import test."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

FORBIDDEN = (
    "imapclient", "keyring", "smtplib", "mcp", "imaplib", "redis", "authlib", "mailguard_mcp",
)  # fmt: skip


def test_importing_the_domain_loads_no_adapter_or_io_library() -> None:
    """A fresh interpreter importing every module outside ``adapters`` and ``app`` (the
    composition root) must not pull in adapters or I/O libs."""
    code = textwrap.dedent(
        f"""
        import sys, importlib, pathlib
        import mailguard_core
        root = pathlib.Path(mailguard_core.__file__).parent
        for f in sorted(root.rglob("*.py")):
            parts = f.relative_to(root.parent).with_suffix("").parts
            if parts[1:2] in (("adapters",), ("app",)):
                continue
            importlib.import_module(".".join(p for p in parts if p != "__init__"))
        bad = sorted(n for n in sys.modules
                     if n.split(".")[0] in {FORBIDDEN!r}
                     or n.startswith("mailguard_core.adapters"))
        print(",".join(bad))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"domain imported: {out.stdout.strip()}"


def test_import_linter_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml (docs/architecture.md) are kept."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
