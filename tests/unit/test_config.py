"""Configuration: structuring, defaults merging, validation with key paths, file lookup."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import attrs
import pytest

from mailguard_core.config import (
    DEFAULT_TOOL_RATES,
    AccountConfig,
    BreakerSettings,
    Config,
    ConfigValidationError,
    FolderSettings,
    RateLimitSettings,
    config_path,
    effective_tools,
    load_config,
    normalize_pin,
    parse_config,
)
from mailguard_core.config.policy import Rate, parse_rate
from mailguard_core.gate.breaker import CircuitBreaker
from mailguard_core.gate.folders import FolderGuard
from mailguard_core.gate.ratelimit import AccountRateLimiter
from mailguard_core.model.errors import ConfigError
from mailguard_core.model.tools import INFRASTRUCTURE_TOOLS, Posture, ToolName

PIN = "AB:" * 31 + "AB"


def account(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "work",
        "address": "me@example.com",
        "imap": {"host": "imap.example.com", "username": "me"},
    }
    base.update(overrides)
    return base


def problems_of(data: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigValidationError) as info:
        parse_config(data)
    return info.value.problems


def test_a_minimal_account_gets_every_documented_default() -> None:
    """One account with only name, address and imap host/username loads with defaults."""
    config = parse_config({"accounts": [account()]})
    [acc] = config.accounts
    assert acc.posture is Posture.DRAFT_SAFE
    assert acc.imap is not None and acc.imap.port == 993 and acc.imap.tls == "implicit"
    assert acc.imap.connect_timeout == 10.0 and acc.imap.command_timeout == 30.0
    assert acc.smtp is None and acc.maildir is None
    assert acc.limits.calls_per_second == 10.0 and acc.limits.burst == 20
    assert acc.limits.tools == dict(DEFAULT_TOOL_RATES)
    assert acc.breaker.failure_threshold == 5
    assert acc.send.max_recipients == 50 and acc.send.recipient_allowlist == ()
    assert acc.max_body_chars == 20_000 and acc.max_message_bytes == 25_000_000
    assert config.default_account is None and config.default is acc
    assert config.audit.path is None and config.audit.hmac is False


def test_every_key_given_explicitly_is_structured() -> None:
    """Every documented key can be set and arrives with its value and type."""
    data = {
        "default_account": "work",
        "audit": {
            "path": "/var/log/mg.jsonl",
            "hmac": True,
            "rotate_bytes": 1000,
            "fsync_tool_records": True,
        },
        "accounts": [
            {
                "name": "work",
                "address": "me@example.com",
                "display_name": "Me Myself",
                "posture": "full",
                "imap": {
                    "host": "imap.example.com",
                    "username": "me",
                    "port": 143,
                    "tls": "starttls",
                    "pin_sha256": PIN,
                    "ca_file": "/etc/ca.pem",
                    "connect_timeout": 3,
                    "command_timeout": 4.5,
                },
                "smtp": {
                    "host": "smtp.example.com",
                    "username": "me",
                    "port": 587,
                    "tls": "starttls",
                    "ca_file": "/etc/ca.pem",
                    "timeout": 7,
                },
                "tools": {"allow": ["expunge"], "deny": ["delete_message"]},
                "folders": {"protected": ["Important"], "expunge_allowed": ["Junk"]},
                "limits": {"calls_per_second": 2, "burst": 4, "tools": {"search": "30/min"}},
                "breaker": {
                    "failure_threshold": 3,
                    "window_seconds": 10,
                    "cooldown_seconds": 5,
                    "max_cooldown_seconds": 50,
                    "auth_cooldown_seconds": 20,
                    "auth_max_cooldown_seconds": 200,
                },
                "send": {
                    "max_recipients": 5,
                    "max_subject_chars": 100,
                    "max_body_bytes": 2000,
                    "recipient_allowlist": ["boss@example.org", "example.net"],
                },
                "trusted_authserv_id": "mx.example.com",
                "known_domains": ["example.org"],
                "download_dir": "/tmp/dl",
                "max_body_chars": 500,
                "max_message_bytes": 9000,
            }
        ],
    }
    config = parse_config(data)
    acc = config.accounts[0]
    assert acc.display_name == "Me Myself" and acc.posture is Posture.FULL
    assert acc.imap is not None and acc.imap.port == 143 and acc.imap.tls == "starttls"
    assert acc.imap.pin_sha256 == "ab" * 32
    assert acc.imap.connect_timeout == 3.0 and isinstance(acc.imap.connect_timeout, float)
    assert acc.smtp is not None and acc.smtp.port == 587 and acc.smtp.timeout == 7.0
    assert acc.tools.allow == ("expunge",) and acc.tools.deny == ("delete_message",)
    assert acc.folders.protected == ("Important",) and acc.folders.expunge_allowed == ("Junk",)
    assert acc.limits.tools == {**DEFAULT_TOOL_RATES, "search": "30/min"}
    assert acc.breaker.auth_max_cooldown_seconds == 200.0
    assert acc.send.recipient_allowlist == ("boss@example.org", "example.net")
    assert acc.trusted_authserv_id == "mx.example.com" and acc.known_domains == ("example.org",)
    assert acc.download_dir == "/tmp/dl" and acc.max_body_chars == 500
    assert acc.max_message_bytes == 9000
    assert config.audit.hmac and config.audit.rotate_bytes == 1000
    assert config.audit.fsync_tool_records and config.audit.path == "/var/log/mg.jsonl"
    assert config.account("work") is acc


def test_defaults_are_deep_merged_key_by_key_into_each_account() -> None:
    """[defaults] tables merge into the account's tables; the account's own keys win."""
    config = parse_config(
        {
            "defaults": {
                "posture": "readonly",
                "imap": {"port": 1993, "connect_timeout": 2},
                "limits": {"burst": 7, "tools": {"search": "9/s"}},
                "known_domains": ["example.org"],
            },
            "accounts": [
                account(),
                account(
                    name="home",
                    posture="full",
                    imap={"host": "h.example.com", "username": "u", "port": 993},
                    smtp={"host": "smtp.example.com", "username": "u"},
                    limits={"tools": {"search": "1/s"}},
                ),
            ],
        }
    )
    work, home = config.accounts
    assert work.posture is Posture.READONLY and home.posture is Posture.FULL
    assert work.imap is not None and work.imap.port == 1993 and work.imap.connect_timeout == 2
    assert home.imap is not None and home.imap.port == 993 and home.imap.connect_timeout == 2
    assert work.limits.burst == 7 and home.limits.burst == 7
    assert work.limits.tools["search"] == "9/s" and home.limits.tools["search"] == "1/s"
    assert home.limits.tools["send_email"] == "3/min"
    assert work.known_domains == home.known_domains == ("example.org",)


def test_defaults_imap_and_smtp_tables_only_fill_accounts_that_have_them() -> None:
    """A [defaults.smtp] does not give an SMTP server to an account without [smtp]."""
    config = parse_config(
        {
            "defaults": {"smtp": {"host": "smtp.example.com", "port": 587, "tls": "starttls"}},
            "accounts": [
                account(smtp={"username": "me"}),
                {"name": "demo", "address": "demo@example.com", "maildir": "/tmp/m"},
            ],
        }
    )
    work, demo = config.accounts
    assert work.smtp is not None and work.smtp.host == "smtp.example.com"
    assert work.smtp.port == 587
    assert demo.smtp is None and demo.imap is None


def test_merging_defaults_does_not_mutate_the_input_document() -> None:
    """parse_config leaves the caller's dict as it was."""
    data = {"defaults": {"limits": {"burst": 3}}, "accounts": [account()]}
    before = copy.deepcopy(data)
    parse_config(data)
    assert data == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"accounts": [account(imap={"host": "h", "username": "u", "port": "993"})]},
         "accounts[0].imap.port: expected an integer, got a string"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "port": True})]},
         "accounts[0].imap.port: expected an integer, got a boolean"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "tls": "ssl"})]},
         "accounts[0].imap.tls: must be 'implicit' or 'starttls'"),
        ({"accounts": [account(posture="admin")]}, "accounts[0].posture: must be one of"),
        ({"accounts": [account(extra=1)]}, "accounts[0]: unknown key(s): extra"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "password": "x"})]},
         "accounts[0].imap: unknown key(s): password"),
        ({"accounts": [account(imap="imap.example.com")]},
         "accounts[0].imap: expected a table, got a string"),
        ({"accounts": [account(known_domains="example.org")]},
         "accounts[0].known_domains: expected an array of strings, got a string"),
        ({"accounts": [account(known_domains=["a.org", 3])]},
         "accounts[0].known_domains: item 1: expected a string, got an integer"),
        ({"accounts": [account(display_name=5)]},
         "accounts[0].display_name: expected a string, got an integer"),
        ({"accounts": [account(imap={"host": "h", "username": "u",
                                     "command_timeout": float("nan")})]},
         "accounts[0].imap.command_timeout: must be a finite number"),
        ({"accounts": [account(limits={"calls_per_second": float("inf")})]},
         "accounts[0].limits.calls_per_second: must be a finite number"),
        ({"accounts": [account(limits={"calls_per_second": "fast"})]},
         "accounts[0].limits.calls_per_second: expected a number, got a string"),
        ({"accounts": [account(limits={"tools": {"search": 3}})]},
         "accounts[0].limits.tools: search: expected a string, got an integer"),
        ({"accounts": [account()], "audit": {"hmac": "yes"}},
         "audit.hmac: expected true or false, got a string"),
        ({"accounts": [{"name": "x"}]}, "accounts[0].address: required key missing"),
        ({"accounts": [account()], "colour": "blue"}, "(top level): unknown key(s): colour"),
        ({"accounts": [account(), account(name="b", imap={"host": "h"})]},
         "accounts[1].imap.username: required key missing"),
    ],
)  # fmt: skip
def test_type_errors_name_the_key_path(data: dict[str, Any], expected: str) -> None:
    """A wrong type, unknown key or missing key is reported at its path."""
    assert any(p.startswith(expected) for p in problems_of(data)), problems_of(data)


SMTP = {"host": "smtp.example.com", "username": "me"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"accounts": [account(posture="full")]},
         "accounts[0]: send_email is allowed"),
        ({"accounts": [account(tools={"allow": ["send_email"]})]},
         "accounts[0]: send_email is allowed"),
        ({"accounts": [account(tools={"allow": ["sendmail"]})]},
         "accounts[0].tools.allow[0]: unknown tool name 'sendmail'"),
        ({"accounts": [account(tools={"deny": ["Search"]})]},
         "accounts[0].tools.deny[0]: unknown tool name 'Search'"),
        ({"accounts": [account(tools={"deny": ["list_accounts"]})]},
         "accounts[0].tools.deny[0]: 'list_accounts' is always available"),
        ({"accounts": [account(tools={"allow": ["flag"], "deny": ["flag"]})]},
         "accounts[0].tools: tool 'flag' is both allowed and denied"),
        ({"accounts": [account(folders={"protected": ["A"], "expunge_allowed": ["A"]})]},
         "accounts[0].folders.expunge_allowed[0]: folder 'A' is also in protected"),
        ({"accounts": [account(folders={"protected": ["Archive"],
                                        "expunge_allowed": ["X", "ＡＲＣＨＩＶＥ "]})]},
         "accounts[0].folders.expunge_allowed[1]: folder 'ＡＲＣＨＩＶＥ ' is also in protected"),
        ({"accounts": [account(limits={"tools": {"use_account": "1/s"}})]},
         "accounts[0].limits.tools.use_account: 'use_account' is always available"),
        ({"accounts": [account(folders={"expunge_allowed": ["inbox"]})]},
         "accounts[0].folders.expunge_allowed[0]: INBOX is always protected"),
        ({"accounts": [account(folders={"expunge_allowed": ["In\u200bBox"]})]},
         "accounts[0].folders.expunge_allowed[0]: INBOX is always protected"),
        ({"accounts": [account(folders={"protected": [""]})]},
         "accounts[0].folders.protected[0]: must be a non-empty folder name"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "pin_sha256": "ab" * 31})]},
         "accounts[0].imap.pin_sha256: must be a SHA-256 fingerprint"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "pin_sha256": "zz" * 32})]},
         "accounts[0].imap.pin_sha256: must be a SHA-256 fingerprint"),
        ({"accounts": [account(), account()]},
         "accounts[1].name: duplicate account name (also accounts[0])"),
        ({"accounts": [account()], "default_account": "home"},
         "default_account: no account named 'home'"),
        ({"accounts": [account(name="my account")]}, "accounts[0].name: account names are"),
        ({"accounts": [account(name="audit-hmac")]}, "accounts[0].name: 'audit-hmac' is reserved"),
        ({"accounts": [account(address="not-an-address")]}, "accounts[0].address: invalid address"),
        ({"accounts": [account(address="a@b@c.com")]}, "accounts[0].address: invalid address"),
        ({"accounts": [account(display_name="Me\r\nBcc: x@evil.com")]},
         "accounts[0].display_name: the display name contains a line break"),
        ({"accounts": [account(limits={"tools": {"search": "3/day"}})]},
         "accounts[0].limits.tools.search: a rate looks like '3/min'"),
        ({"accounts": [account(limits={"tools": {"search": "0/s"}})]},
         "accounts[0].limits.tools.search: a rate looks like"),
        ({"accounts": [account(limits={"tools": {"serch": "3/s"}})]},
         "accounts[0].limits.tools.serch: unknown tool name 'serch'"),
        ({"accounts": [account(limits={"calls_per_second": 0})]},
         "accounts[0].limits.calls_per_second: must be greater than 0"),
        ({"accounts": [account(limits={"burst": 0})]},
         "accounts[0].limits.burst: must be at least 1"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "port": 0})]},
         "accounts[0].imap.port: must be 1-65535"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "port": 65536})]},
         "accounts[0].imap.port: must be 1-65535"),
        ({"accounts": [account(posture="full", smtp={**SMTP, "port": 70000})]},
         "accounts[0].smtp.port: must be 1-65535"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "connect_timeout": 0})]},
         "accounts[0].imap.connect_timeout: must be greater than 0"),
        ({"accounts": [account(imap={"host": "h", "username": "u", "command_timeout": -1})]},
         "accounts[0].imap.command_timeout: must be greater than 0"),
        ({"accounts": [account(posture="full", smtp={**SMTP, "timeout": 0})]},
         "accounts[0].smtp.timeout: must be greater than 0"),
        ({"accounts": [account(imap={"host": "bad host", "username": "u"})]},
         "accounts[0].imap.host: must be a host name"),
        ({"accounts": [account(imap={"host": "h", "username": ""})]},
         "accounts[0].imap.username: must not be empty"),
        ({"accounts": [{"name": "x", "address": "x@example.com"}]},
         "accounts[0]: set either [imap] or maildir"),
        ({"accounts": [account(maildir="/tmp/m")]},
         "accounts[0]: set either [imap] or maildir, not both"),
        ({"accounts": []}, "accounts: at least one [[accounts]] entry is required"),
        ({"accounts": [account(breaker={"failure_threshold": 0})]},
         "accounts[0].breaker.failure_threshold: must be at least 1"),
        ({"accounts": [account(breaker={"window_seconds": 0})]},
         "accounts[0].breaker.window_seconds: must be greater than 0"),
        ({"accounts": [account(breaker={"cooldown_seconds": 50, "max_cooldown_seconds": 10})]},
         "accounts[0].breaker.max_cooldown_seconds: must be at least cooldown_seconds"),
        ({"accounts": [account(breaker={"auth_max_cooldown_seconds": 1})]},
         "accounts[0].breaker.auth_max_cooldown_seconds: must be at least"),
        ({"accounts": [account(send={"max_recipients": 0})]},
         "accounts[0].send.max_recipients: must be at least 1"),
        ({"accounts": [account(send={"max_subject_chars": 0})]},
         "accounts[0].send.max_subject_chars: must be 1-10000"),
        ({"accounts": [account(send={"max_body_bytes": 0})]},
         "accounts[0].send.max_body_bytes: must be at least 1"),
        ({"accounts": [account(send={"recipient_allowlist": ["not a domain"]})]},
         "accounts[0].send.recipient_allowlist[0]: invalid domain name"),
        ({"accounts": [account(known_domains=["-bad-.com"])]},
         "accounts[0].known_domains[0]: invalid domain name"),
        ({"accounts": [account(trusted_authserv_id="mx example")]},
         "accounts[0].trusted_authserv_id: must be a host name"),
        ({"accounts": [account(max_body_chars=0)]},
         "accounts[0].max_body_chars: must be at least 1"),
        ({"accounts": [account(max_message_bytes=0)]},
         "accounts[0].max_message_bytes: must be at least 1"),
        ({"accounts": [account()], "audit": {"rotate_bytes": 0}},
         "audit.rotate_bytes: must be at least 1"),
        ({"defaults": {"name": "x"}, "accounts": [account()]},
         "defaults.name: must be set in each account"),
        ({"defaults": {"imap": {"prot": 1}}, "accounts": [account()]},
         "defaults.imap: unknown key(s): prot"),
        ({"defaults": [], "accounts": [account()]}, "defaults: expected a table, got an array"),
    ],
)  # fmt: skip
def test_every_contradiction_is_an_error_naming_its_path(
    data: dict[str, Any], expected: str
) -> None:
    """Each validation rule reports its problem with the key path first."""
    found = problems_of(data)
    assert any(p.startswith(expected) for p in found), found


@pytest.mark.parametrize(
    ("protected", "allowed", "refused"),
    [
        ((), ("INBOX",), True),
        ((), ("ＩＮＢＯＸ ",), True),
        (("Archive",), ("ＡＲＣＨＩＶＥ",), True),
        (("ǅ",), ("Ǆ",), True),
        (("Straße",), ("STRASSE",), True),
        (("Archive",), ("Junk", "Trash"), False),
        ((), ("Archive",), False),
    ],
)
def test_config_refuses_exactly_the_folder_lists_the_gate_refuses(
    protected: tuple[str, ...], allowed: tuple[str, ...], refused: bool
) -> None:
    """Validation and FolderGuard agree on INBOX and protected/allowlist overlaps."""
    folders = {"protected": list(protected), "expunge_allowed": list(allowed)}
    try:
        parse_config({"accounts": [account(folders=folders)]})
    except ConfigValidationError as exc:
        config_refuses = any(p.startswith("accounts[0].folders") for p in exc.problems)
    else:
        config_refuses = False
    try:
        FolderGuard(FolderSettings(protected=protected, expunge_allowed=allowed))
    except ConfigError:
        gate_refuses = True
    else:
        gate_refuses = False
    assert config_refuses is gate_refuses is refused


def _refusals(table: str, values: dict[str, Any], build: Any) -> tuple[bool, bool]:
    """(config validation refuses ``[accounts.table]`` = values, the gate part refuses them)."""
    try:
        parse_config({"accounts": [account(**{table: values})]})
    except ConfigValidationError as exc:
        config_refuses = any(p.startswith(f"accounts[0].{table}") for p in exc.problems)
    else:
        config_refuses = False
    try:
        build()
    except ConfigError:
        return config_refuses, True
    return config_refuses, False


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({"failure_threshold": 0}, True),
        ({"window_seconds": 0}, True),
        ({"cooldown_seconds": 500}, True),
        ({"auth_cooldown_seconds": 0}, True),
        ({"auth_max_cooldown_seconds": 30.0}, True),
        ({"cooldown_seconds": 1, "max_cooldown_seconds": 1}, False),
        ({}, False),
    ],
)
def test_config_refuses_exactly_the_breaker_settings_the_gate_refuses(
    values: dict[str, Any], refused: bool
) -> None:
    """Validation and CircuitBreaker agree on which breaker settings are out of range."""
    found = _refusals("breaker", values, lambda: CircuitBreaker(BreakerSettings(**values)))
    assert found == (refused, refused)


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({"calls_per_second": 0}, True),
        ({"burst": 0}, True),
        ({"tools": {"search": "3/m"}}, True),
        ({"tools": {"Search": "3/min"}}, True),
        ({"tools": {"use_account": "3/min"}}, True),
        ({"tools": {"search": "60/min", "expunge": "1/h"}}, False),
        ({"calls_per_second": 0.5, "burst": 1}, False),
    ],
)
def test_config_refuses_exactly_the_rate_limits_the_gate_refuses(
    values: dict[str, Any], refused: bool
) -> None:
    """Validation and AccountRateLimiter agree on which rate limits are malformed."""
    found = _refusals(
        "limits", values, lambda: AccountRateLimiter(RateLimitSettings(**values), now=0.0)
    )
    assert found == (refused, refused)


def test_all_problems_are_reported_at_once() -> None:
    """Several independent problems arrive in one error, each on its own line."""
    with pytest.raises(ConfigError) as info:
        parse_config(
            {
                "default_account": "nobody",
                "accounts": [account(imap={"host": "h", "username": "u", "port": 0})],
            }
        )
    text = info.value.public_message
    assert "accounts[0].imap.port: must be 1-65535" in text
    assert "default_account: no account named 'nobody'" in text


def test_send_email_allowed_with_smtp_is_valid_and_denied_without_smtp_is_valid() -> None:
    """SMTP is only required when the effective tool set contains send_email."""
    with_smtp = parse_config({"accounts": [account(posture="full", smtp=SMTP)]})
    assert ToolName.SEND_EMAIL in effective_tools(with_smtp.accounts[0])
    denied = parse_config({"accounts": [account(posture="full", tools={"deny": ["send_email"]})]})
    assert ToolName.SEND_EMAIL not in effective_tools(denied.accounts[0])


def test_effective_tools_apply_posture_then_overrides_and_keep_infrastructure() -> None:
    """allow adds single cells, deny removes them, infrastructure tools stay."""
    acc = AccountConfig(name="a", address="a@example.com", maildir="/m", posture=Posture.READONLY)
    assert ToolName.FLAG not in effective_tools(acc)
    tuned = attrs.evolve(acc, tools=type(acc.tools)(allow=("flag",), deny=("search",)))
    tools = effective_tools(tuned)
    assert ToolName.FLAG in tools and ToolName.SEARCH not in tools
    assert tools >= INFRASTRUCTURE_TOOLS


def test_addresses_and_domains_are_normalised_to_idna() -> None:
    """A Unicode domain in address, allowlist and known_domains is IDNA-encoded."""
    config = parse_config(
        {
            "accounts": [
                account(
                    address="me@Bücher.example",
                    known_domains=["bücher.example"],
                    send={"recipient_allowlist": ["Ärger.example", "x@Ärger.example"]},
                )
            ]
        }
    )
    acc = config.accounts[0]
    assert acc.address == "me@xn--bcher-kva.example"
    assert acc.domain == "xn--bcher-kva.example"
    assert acc.known_domains == ("xn--bcher-kva.example",)
    assert acc.send.recipient_allowlist == ("xn--rger-koa.example", "x@xn--rger-koa.example")


def test_paths_are_expanded_from_tilde(monkeypatch: pytest.MonkeyPatch) -> None:
    """maildir, download_dir, ca_file and audit.path accept ~."""
    monkeypatch.setenv("HOME", "/home/tester")
    config = parse_config(
        {
            "accounts": [
                {"name": "d", "address": "d@example.com", "maildir": "~/Mail",
                 "download_dir": "~/dl"},
            ],
            "audit": {"path": "~/audit.jsonl"},
        }
    )  # fmt: skip
    assert config.accounts[0].maildir == "/home/tester/Mail"
    assert config.accounts[0].download_dir == "/home/tester/dl"
    assert config.audit.path == "/home/tester/audit.jsonl"


def test_unknown_account_lookup_raises_config_error() -> None:
    """Config.account of an unknown name is a ConfigError."""
    config = parse_config({"accounts": [account()]})
    with pytest.raises(ConfigError):
        config.account("other")


@pytest.mark.parametrize(
    ("text", "rate"),
    [("3/min", Rate(3, 60.0)), ("10/s", Rate(10, 1.0)), ("100/h", Rate(100, 3600.0))],
)
def test_parse_rate_reads_count_and_period(text: str, rate: Rate) -> None:
    """Rates are N per second, minute or hour."""
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "3", "3/m", "-1/s", "0/s", "1.5/s", " 3/s", "3/S", "3/min "])
def test_parse_rate_refuses_anything_else(text: str) -> None:
    """Malformed rates are ConfigErrors."""
    with pytest.raises(ConfigError):
        parse_rate(text)


def test_config_path_prefers_argument_then_env_then_xdg_then_home() -> None:
    """The lookup order is --config, MAILGUARD_CONFIG, XDG_CONFIG_HOME, ~/.config."""
    env = {"MAILGUARD_CONFIG": "/e/c.toml", "XDG_CONFIG_HOME": "/x", "HOME": "/h"}
    assert config_path("/a/c.toml", environ=env) == Path("/a/c.toml")
    assert config_path(None, environ=env) == Path("/e/c.toml")
    del env["MAILGUARD_CONFIG"]
    assert config_path(None, environ=env) == Path("/x/mailguard/config.toml")
    del env["XDG_CONFIG_HOME"]
    assert config_path(None, environ=env) == Path("/h/.config/mailguard/config.toml")


TOML = """
[[accounts]]
name = "work"
address = "me@example.com"
[accounts.imap]
host = "imap.example.com"
username = "me"
"""


def test_load_config_reads_the_file_named_by_the_environment(tmp_path: Path) -> None:
    """MAILGUARD_CONFIG points load_config at a TOML file."""
    file = tmp_path / "c.toml"
    file.write_text(TOML)
    config = load_config(environ={"MAILGUARD_CONFIG": str(file)})
    assert isinstance(config, Config) and config.accounts[0].name == "work"


def test_load_config_reads_the_xdg_location(tmp_path: Path) -> None:
    """Without --config or MAILGUARD_CONFIG, $XDG_CONFIG_HOME/mailguard/config.toml is read."""
    (tmp_path / "mailguard").mkdir()
    (tmp_path / "mailguard" / "config.toml").write_text(TOML)
    config = load_config(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config.accounts[0].address == "me@example.com"


def test_a_missing_file_is_a_config_error_without_the_path_in_public(tmp_path: Path) -> None:
    """The public message does not reveal the host's file system."""
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "nope.toml"))
    assert "not found" in info.value.public_message
    assert str(tmp_path) not in info.value.public_message
    assert str(tmp_path) in str(info.value)


def test_invalid_toml_is_a_config_error_with_the_line(tmp_path: Path) -> None:
    """A TOML syntax error names its line."""
    file = tmp_path / "c.toml"
    file.write_text("[[accounts]]\nname = \n")
    with pytest.raises(ConfigError) as info:
        load_config(str(file))
    assert "line 2" in info.value.public_message


def test_validation_errors_from_a_file_name_the_file_in_the_detail(tmp_path: Path) -> None:
    """The detail (for stderr) says which file; problems list the key paths."""
    file = tmp_path / "c.toml"
    file.write_text(TOML.replace('"me"', "5"))
    with pytest.raises(ConfigValidationError) as info:
        load_config(str(file))
    assert str(file) in str(info.value)
    assert info.value.problems == ("accounts[0].imap.username: expected a string, got an integer",)


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are refused cleanly."""
    file = tmp_path / "c.toml"
    file.write_bytes(b"name = '\xff'\n")
    with pytest.raises(ConfigError):
        load_config(str(file))


def test_brands_extend_the_phishing_brand_table_and_are_checked() -> None:
    """[accounts.brands]: names to domains (IDNA-encoded); bad names or domains are named."""
    config = parse_config(
        {"accounts": [account(brands={"Acme Bank": ["acmebank.example", "bücher.example"]})]}
    )
    assert config.accounts[0].brands == {"Acme Bank": ("acmebank.example", "xn--bcher-kva.example")}
    found = problems_of(
        {"accounts": [account(brands={"Acme": ["not a domain"], "": ["a.example"], "X": []})]}
    )
    joined = "\n".join(found)
    assert "brands.Acme[0]" in joined and "brands.X" in joined
    assert "brand name" in joined
    assert problems_of({"accounts": [account(brands={"Acme": "acme.example"})]})


@pytest.mark.parametrize("raw", ["AB:" * 31 + "AB", "ab" * 32, f"  {'Ab' * 32}\n"])
def test_normalize_pin_is_the_one_pin_rule(raw: str) -> None:
    # the configuration, the adapters' check_pin and `init --pin` all go through this
    assert normalize_pin(raw) == "ab" * 32


@pytest.mark.parametrize("raw", ["ab" * 31, "zz" * 32, "ab" * 32 + ":ab", "", "ab " * 32])
def test_normalize_pin_refuses_what_is_not_a_sha256(raw: str) -> None:
    with pytest.raises(ConfigError, match="bad certificate pin"):
        normalize_pin(raw)
