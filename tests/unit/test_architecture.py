"""The domain's dependencies point inward: checked by import-linter and by this import test."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

FORBIDDEN = ("imapclient", "keyring", "smtplib", "mcp", "imaplib", "mailguard_mcp")


def test_importing_the_domain_loads_no_adapter_or_io_library() -> None:
    """A fresh interpreter importing every domain module must not pull in adapters or I/O libs."""
    code = textwrap.dedent(
        f"""
        import sys, pkgutil, importlib
        import mailguard_core
        for m in pkgutil.walk_packages(mailguard_core.__path__, "mailguard_core."):
            if m.name.startswith("mailguard_core.adapters") or m.name == "mailguard_core.cli":
                continue
            importlib.import_module(m.name)
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
    """import-linter's forbidden-import contracts in pyproject.toml are kept."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
