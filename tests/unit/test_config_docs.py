"""The shipped example loads, and docs/configuration.md documents every key of the model."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from mailguard_core.config import (
    AccountConfig,
    AuditSettings,
    BreakerSettings,
    Config,
    ConfirmSettings,
    FolderSettings,
    ImapSettings,
    OAuthSettings,
    PrincipalSettings,
    RateLimitSettings,
    SendSettings,
    ServerAuthSettings,
    ServerSettings,
    ServerStateSettings,
    SmtpSettings,
    ToolOverrides,
    effective_tools,
    load_config,
)
from mailguard_core.model.tools import Posture, ToolName

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "config.toml"
DOCS = ROOT / "docs" / "configuration.md"


def test_the_example_config_loads_and_means_what_its_comments_say() -> None:
    """examples/config.toml is valid and its two accounts come out as described."""
    config = load_config(str(EXAMPLE), environ={})
    work, home = config.accounts
    assert config.default is work
    assert work.posture is Posture.FULL and work.smtp is not None
    assert ToolName.SEND_EMAIL in effective_tools(work)
    assert ToolName.DELETE_MESSAGE not in effective_tools(work)
    assert work.send.recipient_allowlist == ("example.com", "partner@example.org")
    assert work.limits.tools["search"] == "60/min" and work.limits.tools["send_email"] == "3/min"
    assert home.posture is Posture.READONLY and home.smtp is None
    assert home.imap is not None and home.imap.tls == "starttls"
    assert home.known_domains == ("example.org",)
    assert config.audit.path is not None and not config.audit.path.startswith("~")


SECTIONS = {
    "## Top level": Config,
    "## Accounts": AccountConfig,
    "### `[accounts.imap]`": ImapSettings,
    "### `[accounts.smtp]`": SmtpSettings,
    "### `[accounts.oauth]`": OAuthSettings,
    "### `[accounts.tools]`": ToolOverrides,
    "### `[accounts.folders]`": FolderSettings,
    "### `[accounts.limits]`": RateLimitSettings,
    "### `[accounts.breaker]`": BreakerSettings,
    "### `[accounts.send]`": SendSettings,
    "### `[accounts.confirm]`": ConfirmSettings,
    "## Audit": AuditSettings,
    "## Server": ServerSettings,
    "### `[server.auth]`": ServerAuthSettings,
    "### `[[server.principals]]`": PrincipalSettings,
    "### `[server.state]`": ServerStateSettings,
}
ROW = re.compile(r"^\| `\[{0,2}(?:[a-z]+\.)*([a-z0-9_]+)\]{0,2}` \| [^|]* \| ([^|]*) \|", re.M)


def documented() -> dict[type, dict[str, str]]:
    """For each config class: key -> the default cell of its section's table."""
    text = DOCS.read_text(encoding="utf-8")
    result: dict[type, dict[str, str]] = {}
    for heading, cls in SECTIONS.items():
        start = text.index(heading + "\n")
        end = text.find("\n#", start + len(heading))
        section = text[start : end if end != -1 else len(text)]
        result[cls] = {key: default.strip() for key, default in ROW.findall(section)}
    return result


def test_every_key_of_the_data_model_is_documented_in_its_section() -> None:
    """Each attrs field of every config class is a row of its section's table."""
    docs = documented()
    missing = {
        f"{cls.__name__}.{field.name}"
        for cls, rows in docs.items()
        for field in attrs.fields(cls)
        if field.name not in rows
    }
    assert missing == set()
    assert "defaults" in docs[Config]


def test_documented_numeric_defaults_match_the_code() -> None:
    """Every number in a default column equals the class's default."""
    for cls, rows in documented().items():
        for field in attrs.fields(cls):
            default = field.default
            if isinstance(default, int | float) and not isinstance(default, bool):
                assert float(rows[field.name].strip("`")) == float(default), field.name
            elif isinstance(default, str) and default:
                assert rows[field.name] == f'`"{default}"`', field.name


def test_config_and_outgoing_names_are_part_of_the_public_api() -> None:
    """load_config, parse_config, Config and the outgoing service are in __all__."""
    import mailguard_core

    for name in ("AccountConfig", "Config", "load_config", "parse_config", "OutgoingService",
                 "OutgoingRequest", "DraftOutcome", "SendOutcome"):  # fmt: skip
        assert name in mailguard_core.__all__
        assert getattr(mailguard_core, name) is not None


def test_the_example_config_builds_a_gate_whose_tools_match_effective_tools() -> None:
    """What config validation accepts, the gate accepts too, with the same tool sets."""
    from mailguard_core.adapters.memory_audit import InMemoryAuditSink
    from mailguard_core.gate import Gate

    config = load_config(str(EXAMPLE), environ={})
    gate = Gate.from_config(config, InMemoryAuditSink())
    for account in config.accounts:
        assert gate.allowed_tools(account.name) == effective_tools(account)


def test_the_sanitizer_names_at_the_top_level_are_the_sanitizer_package_objects() -> None:
    """Every public name of the sanitizer package is public at the top level and resolves to
    the sanitizer's own object (loaded on first use; which names are public is __all__, which
    tests/library/test_examples.py holds to docs/library.md)."""
    import mailguard_core
    import mailguard_core.sanitize as sanitize

    for name in sanitize.__all__:
        assert name in mailguard_core.__all__
        assert getattr(mailguard_core, name) is getattr(sanitize, name)
    assert not hasattr(mailguard_core, "sanitize_nothing")


def test_each_public_name_is_the_object_of_the_module_that_defines_it() -> None:
    """Resolved in a fresh interpreter, a deferred public name is its defining module's own
    object, never a same-spelled name another module imports (services.outgoing imports a
    ``Mailbox`` of its own)."""
    import subprocess
    import sys

    code = (
        "import mailguard_core as m\n"
        "from mailguard_core.app.mailbox import Envelope, Mailbox, open_mailbox\n"
        "assert (m.Mailbox, m.Envelope, m.open_mailbox) == (Mailbox, Envelope, open_mailbox)\n"
        "for name in m.__all__:\n"
        "    value = getattr(m, name)\n"
        "    home = getattr(value, '__module__', None)\n"
        "    assert home is None or home.startswith(('mailguard_core.', 'builtins')), name\n"
        "print(len(m.__all__))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 40
