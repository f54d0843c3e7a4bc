"""The consumer module (``consumer.py``): public API only, ``mypy --strict`` clean, and it
works against the demo Maildir, the sanitizer alone and the gate alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import mailguard_core
from mailguard_core import Posture
from mailguard_mcp.demo import materialize
from tests.library import consumer

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def test_the_consumer_imports_only_public_names_of_the_top_level_package() -> None:
    tree = ast.parse((HERE / "consumer.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("mailguard") for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mailguard"):
            assert node.module == "mailguard_core", node.module
            imported |= {a.name for a in node.names}
    assert imported and imported <= set(mailguard_core.__all__)


def test_the_consumer_is_mypy_strict_clean() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(HERE / "consumer.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_the_consumer_reads_the_demo_mailbox_and_is_refused_a_send(tmp_path: Path) -> None:
    materialize(tmp_path / "Maildir")
    config = consumer.demo_config(tmp_path / "Maildir", tmp_path / "downloads")
    audit = mailguard_core.InMemoryAuditSink()
    subjects, refusal, records = consumer.read_newest(config, audit)
    assert len(subjects) == 5 and all(isinstance(s, str) and s for s in subjects)
    assert refusal == "tool_denied"
    assert records == 4  # search and send: a start and an end record each


def test_the_sanitizer_and_the_gate_work_alone(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "PayPal <service@p\u0430ypal.com>"
    msg["To"] = "me@example.org"
    msg["Subject"] = "Ac\u200bcount limited"
    msg.set_content("Please confirm.")
    codes = consumer.sanitize_only(bytes(msg))
    assert "unicode_zero_width_stripped" in codes
    config = consumer.demo_config(tmp_path, tmp_path, Posture.READONLY)
    assert consumer.gate_only(config) == (True, "tool_denied", 4)
