"""docs/deployment.md tells the truth: its configuration snippets are valid configuration."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from mailguard_core.config import parse_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
ACCOUNTS = [
    {"name": n, "address": f"{n}@x.example", "maildir": f"/tmp/{n}", "posture": "draft-safe"}
    for n in ("alice", "support-inbox")
]


def test_every_toml_snippet_is_valid_together_with_accounts() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    merged: dict[str, Any] = {"accounts": ACCOUNTS}
    for block in blocks:
        data = tomllib.loads(block.replace("…", ""))
        server = data.pop("server", {})
        merged.setdefault("server", {}).update(server)
        merged.update(data)
    config = parse_config(merged)
    assert config.server.auth is not None
    assert [p.name for p in config.server.principals] == ["alice", "support"]
