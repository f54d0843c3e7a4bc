"""Config errors arrive all at once (issue 15): a value cattrs refuses (a bad posture, a port
of the wrong kind) no longer hides the range, pin and timeout problems behind it; misspelt keys
get a did-you-mean; ``--version`` on both commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.config import (
    AccountConfig,
    BreakerSettings,
    ConfigValidationError,
    ImapSettings,
    ToolOverrides,
    load_config,
    parse_config,
)
from mailguard_core.model.errors import ConfigError


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


def test_a_refused_value_no_longer_hides_the_rules_between_fields() -> None:
    """A field's own problem and a rule between fields of the same table, and a rule between
    accounts, arrive together (issue 13: one validation, on the attrs classes)."""
    doc = {
        "accounts": [
            {
                "name": "a",
                "address": "a@example.org",
                "imap": _account(port=0),
                "breaker": {"failure_threshold": 0, "cooldown_seconds": 50,
                            "max_cooldown_seconds": 10},
            },
            {"name": "a", "address": "b@example.org", "imap": _account()},
        ]
    }  # fmt: skip
    problems = [p.strip() for p in _problems(doc)]
    assert "accounts[0].imap.port: must be 1-65535" in problems
    assert "accounts[0].breaker.failure_threshold: must be at least 1" in problems
    assert "accounts[0].breaker.max_cooldown_seconds: must be at least cooldown_seconds" in problems
    assert "accounts[1].name: duplicate account name (also accounts[0])" in problems


def test_rules_between_tables_name_the_nested_key_path() -> None:
    """A rule of the whole document reports the path of the value deep inside it."""
    doc = {
        "accounts": [{"name": "a", "address": "a@example.org", "imap": _account()}],
        "server": {
            "auth": {"issuer": "https://as.example", "audience": "https://mg.example",
                     "jwks_url": "https://as.example/jwks"},
            "principals": [{"name": "p", "subject": "s", "accounts": ["a", "zz"]}],
        },
    }  # fmt: skip
    assert "server.principals[0].accounts: no account named 'zz'" in [
        p.strip() for p in _problems(doc)
    ]


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: ImapSettings(host="h", username="u", port=0), "must be 1-65535"),
        (lambda: AccountConfig(name="audit-hmac", address="a@example.org"), "is reserved"),
        (lambda: AccountConfig(name="a", address="nope"), "invalid address"),
        (lambda: BreakerSettings(cooldown_seconds=9, max_cooldown_seconds=1), "at least"),
        (lambda: ToolOverrides(allow=("flag",), deny=("flag",)), "both allowed and denied"),
    ],
)
def test_the_same_rules_hold_for_settings_built_in_code(build: Any, fragment: str) -> None:
    """The rules live on the attrs classes: a library user building settings in code gets the
    same refusal as a file, before anything (the gate, an adapter) could use them."""
    with pytest.raises(ConfigError) as info:
        build()
    assert fragment in info.value.public_message


def test_a_problem_about_a_stand_in_is_not_reported() -> None:
    """A refused value's default stands in for the rules between fields; what they would say
    about the stand-in (no [imap] after a refused [imap], a cooldown below a refused one, a
    principal needing a [server.auth] that was given but refused) is not reported."""
    doc = {
        "accounts": [
            {"name": "a", "address": "a@example.org", "imap": "imap.example.org",
             "breaker": {"auth_cooldown_seconds": "x", "auth_max_cooldown_seconds": 10}},
        ],
        "server": {"auth": {"issuer": "https://as.example", "audience": "https://mg.example",
                            "jwks_url": 5},
                   "principals": [{"name": "p", "subject": "s", "accounts": ["a"]}]},
    }  # fmt: skip
    assert sorted(p.strip() for p in _problems(doc)) == [
        "accounts[0].breaker.auth_cooldown_seconds: expected a number, got a string",
        "accounts[0].imap: expected a table, got a string",
        "server.auth.jwks_url: expected a string, got an integer",
    ]


def test_an_unrelated_refusal_does_not_hide_the_documents_rules() -> None:
    """A refused [server.auth] and a bad port do not hide a default_account that names no
    account (the whole-document rules run over the stand-ins)."""
    doc = {
        "default_account": "nobody",
        "accounts": [{"name": "a", "address": "a@example.org", "imap": _account(port=0)}],
        "server": {"auth": {"issuer": "https://as.example", "audience": 5}},
    }
    problems = [p.strip() for p in _problems(doc)]
    assert "accounts[0].imap.port: must be 1-65535" in problems
    assert "server.auth.audience: expected a string, got an integer" in problems
    assert "default_account: no account named 'nobody'" in problems


def test_an_array_of_tables_of_the_wrong_kind_is_one_problem() -> None:
    """``accounts = "x"`` is one problem, not one per character."""
    assert [p.strip() for p in _problems({"accounts": "work"})] == [
        "accounts: expected an array of tables, got a string"
    ]


def test_every_value_is_structured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: one validation pass. Each string of the document goes through the string
    hook exactly once, also when problems are found (the rules between fields run on
    stand-ins, the document is not structured again with the refused values removed)."""
    from mailguard_core.config import structure

    calls: list[object] = []
    original = structure.structure_str

    def counting(value: object, type_: object) -> str:
        calls.append(value)
        return original(value, type_)

    monkeypatch.setattr(structure, "structure_str", counting)
    converter = structure._make_converter()
    doc = {
        "accounts": [
            {"name": "a", "address": "a@example.org", "imap": _account(port=0),
             "breaker": {"cooldown_seconds": 50, "max_cooldown_seconds": 10}},
            {"name": "a", "address": "b@example.org", "imap": _account(tls="x")},
        ]
    }  # fmt: skip
    monkeypatch.setattr(structure, "_converter", lambda: converter)
    problems = _problems(doc)
    strings = ["a", "a@example.org", "imap.example.org", "u"]  # name, address, host, user
    strings += ["a", "b@example.org", "imap.example.org", "u"]
    assert sorted(map(str, calls)) == sorted(strings)
    assert len(problems) == 4  # port, cooldown, tls, duplicate name
