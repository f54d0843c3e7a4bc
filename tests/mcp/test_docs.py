"""The README and docs/clients.md tell the truth: their snippets parse and validate."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from mailguard_core.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _blocks(name: str, language: str) -> list[str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return [body for lang, body in _BLOCK.findall(text) if lang == language]


def test_the_readme_opens_with_the_demo_and_test_commands() -> None:
    """The first code block is the two commands the lead's CI runs."""
    first = _blocks("README.md", "bash")[0]
    assert "bash scripts/demo.sh" in first and "bash scripts/test.sh" in first


@pytest.mark.parametrize("index", range(8))
def test_every_config_example_in_the_readme_is_a_valid_config(index: int) -> None:
    """The Gmail (app password), Microsoft 365 (OAuth2), Gmail (OAuth2), Fastmail, Dovecot,
    Proton Mail Bridge, iCloud and Yahoo snippets load with the real config parser."""
    blocks = _blocks("README.md", "toml")
    assert len(blocks) == 8
    config = parse_config(tomllib.loads(blocks[index]))
    assert len(config.accounts) == 1


@pytest.mark.parametrize("name", ["README.md", "docs/clients.md"])
def test_every_json_snippet_in_the_docs_parses(name: str) -> None:
    """Client configuration snippets are valid JSON naming mailguard-mcp."""
    blocks = _blocks(name, "json")
    assert blocks
    for body in blocks:
        assert "mailguard-mcp" in json.dumps(json.loads(body))


def test_every_document_the_readme_links_to_exists() -> None:
    """The README's links into docs/ (clients and troubleshooting among them) all resolve."""
    links = set(re.findall(r"\((docs/[\w.-]+\.md)\)", (ROOT / "README.md").read_text()))
    assert {"docs/clients.md", "docs/troubleshooting.md", "docs/configuration.md"} <= links
    assert [link for link in sorted(links) if not (ROOT / link).is_file()] == []
