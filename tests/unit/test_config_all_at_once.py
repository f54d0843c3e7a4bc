"""Config errors arrive all at once (issue 15): a value cattrs refuses (a bad posture, a port
of the wrong kind) no longer hides the range, pin and timeout problems behind it; misspelt keys
get a did-you-mean; ``--version`` on both commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailguard_core.config import ConfigValidationError, load_config, parse_config


def _problems(doc: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigValidationError) as info:
        parse_config(doc)
    return str(info.value).splitlines()[1:]


def _account(**imap: object) -> dict[str, object]:
    return {"host": "imap.example.org", "username": "u", **imap}


def test_a_bad_posture_no_longer_hides_port_pin_and_timeout_problems() -> None:
    doc = {
        "accounts": [
            {
                "name": "a",
                "address": "a@example.org",
                "posture": "fulll",
                "imap": _account(port=70000, pin_sha256="zz", connect_timeout=-1),
            }
        ]
    }
    problems = [p.strip() for p in _problems(doc)]
    paths = [p.partition(": ")[0] for p in problems]
    assert paths == [
        "accounts[0].posture",
        "accounts[0].imap.port",
        "accounts[0].imap.connect_timeout",
        "accounts[0].imap.pin_sha256",
    ]


def test_every_account_reports_its_problems_together() -> None:
    doc = {
        "accounts": [
            {"name": "a", "address": "a@example.org", "imap": _account(port="x", tls="tls")},
            {"name": "b", "address": "b@example.org", "imap": _account(port=0)},
        ]
    }
    paths = {p.strip().partition(": ")[0] for p in _problems(doc)}
    assert {"accounts[0].imap.port", "accounts[0].imap.tls", "accounts[1].imap.port"} <= paths


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            {"accounts": [{"name": "a", "address": "a@example.org", "imap": _account(hots="x")}]},
            "accounts[0].imap: unknown key(s): hots (did you mean 'host'?)",
        ),
        (
            {"accounts": [{"name": "a", "address": "a@example.org", "postur": "full",
                           "imap": _account()}]},
            "accounts[0]: unknown key(s): postur (did you mean 'posture'?)",
        ),
        (
            {"audit": {"hmca": True},
             "accounts": [{"name": "a", "address": "a@example.org", "imap": _account()}]},
            "audit: unknown key(s): hmca (did you mean 'hmac'?)",
        ),
        (
            {"defaults": {"postre": "full"},
             "accounts": [{"name": "a", "address": "a@example.org", "imap": _account()}]},
            "defaults: unknown key(s): postre (did you mean 'posture'?)",
        ),
    ],
)  # fmt: skip
def test_a_misspelt_key_gets_a_did_you_mean(doc: dict[str, object], expected: str) -> None:
    assert expected in [p.strip() for p in _problems(doc)]


def test_an_unrelated_unknown_key_gets_no_suggestion() -> None:
    doc = {"accounts": [{"name": "a", "address": "a@example.org", "imap": _account(zzz=1)}]}
    assert "accounts[0].imap: unknown key(s): zzz" in [p.strip() for p in _problems(doc)]


def test_the_file_loader_lists_them_all_too(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[accounts]]\nname = "a"\naddress = "a@example.org"\nposture = "nope"\n'
        '[accounts.imap]\nhost = "imap.example.org"\nusername = "u"\nport = 0\n'
        "command_timeout = 0\n"
    )
    with pytest.raises(ConfigValidationError) as info:
        load_config(str(path))
    text = str(info.value)
    assert "posture" in text and "imap.port" in text and "imap.command_timeout" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "mailguard_mcp", "--version"],
        ["-m", "mailguard_mcp", "serve", "--version"],
        ["-m", "mailguard_core.app.cli", "--version"],
    ],
)
def test_version_on_both_commands(argv: list[str]) -> None:
    from importlib.metadata import version

    out = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(version("mailguard"))
