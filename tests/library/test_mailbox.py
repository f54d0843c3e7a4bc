"""``open_mailbox``: the library's entry point, against Maildir (from a config file), the
in-memory store and a real Dovecot; every call gated and audited, refusals typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mailguard_core
from mailguard_core import (
    InMemoryAuditSink,
    InputError,
    MailguardError,
    Posture,
    ToolDenied,
    ToolName,
    open_mailbox,
)
from mailguard_core.adapters.memory_secrets import InMemorySecretStore
from mailguard_core.adapters.memory_sender import InMemorySender
from mailguard_core.config import AccountConfig, Config
from mailguard_core.model.errors import AuditLocked, ConfigError, FolderProtected
from mailguard_core.model.tools import posture_allows
from mailguard_mcp.demo import materialize
from tests.mcp.harness import account, limits, make_harness, plain_message
from tests.support.dovecot import DovecotServer


def _demo_config_file(tmp: Path, posture: str = "draft-safe") -> Path:
    materialize(tmp / "Maildir")
    path = tmp / "config.toml"
    path.write_text(
        f"""
default_account = "demo"
[audit]
path = "{tmp / "audit.jsonl"}"
[[accounts]]
name = "demo"
address = "you@demo.example"
posture = "{posture}"
maildir = "{tmp / "Maildir"}"
download_dir = "{tmp / "downloads"}"
""",
        encoding="utf-8",
    )
    return path


def _audit_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_config_file_opens_the_maildir_gated_and_audited_in_the_jsonl_log(
    tmp_path: Path,
) -> None:
    config = _demo_config_file(tmp_path)
    with open_mailbox(config) as mailbox:
        assert mailbox.account == "demo" and mailbox.posture() is Posture.DRAFT_SAFE
        page = mailbox.search(limit=5)
        assert page["meta"]["account"] == "demo" and 0 < page["meta"]["count"] <= 5
        ref = page["items"][0]["meta"]["message_ref"]
        message = mailbox.fetch_message(ref)
        assert message["meta"]["message_ref"] == ref
        assert isinstance(message["untrusted"]["body_text"], str)
        with pytest.raises(ToolDenied) as denied:
            mailbox.send_email(["bob@example.org"], "Hi", "Hello")
        assert denied.value.public_message == "this tool is not available"
    records = _audit_lines(tmp_path / "audit.jsonl")
    ends = [r for r in records if r["kind"] == "call_end"]
    assert [(r["outcome"], r.get("code")) for r in ends] == [
        ("ok", None),
        ("ok", None),
        ("refused", "tool_denied"),
    ]
    starts = [r["tool"] for r in records if r["kind"] == "call_start"]
    assert starts == ["search", "fetch_message", "send_email"]


def test_the_mailbox_closes_the_audit_log_so_a_second_one_can_open_it(tmp_path: Path) -> None:
    config = _demo_config_file(tmp_path)
    first = open_mailbox(config)
    with pytest.raises(AuditLocked):
        open_mailbox(config)  # one writer per log, as with two servers
    first.close()
    first.close()  # idempotent
    assert first.closed
    with pytest.raises(InputError):
        first.list_folders()
    with open_mailbox(config) as second:
        assert second.list_folders()["meta"]["count"] >= 1


def test_an_unknown_account_or_a_bad_file_is_a_typed_error(tmp_path: Path) -> None:
    config = _demo_config_file(tmp_path)
    with pytest.raises(InputError):
        open_mailbox(config, account="nobody")
    with open_mailbox(config) as mailbox:  # the failed open released the audit log
        assert mailbox.account == "demo"
    with pytest.raises(ConfigError):
        open_mailbox(tmp_path / "missing.toml")


def test_the_in_memory_store_every_refusal_is_the_servers_typed_error(tmp_path: Path) -> None:
    h = make_harness(
        tmp_path,
        account(posture=Posture.FULL, limits=limits(100, 100), download_dir=str(tmp_path)),
        account("ro", posture=Posture.READONLY, download_dir=str(tmp_path)),
    )
    refs = h.seed()
    with open_mailbox(h.config, stores=h.stores, senders=h.senders, audit=h.audit) as mailbox:
        assert mailbox.allowed_tools("ro") == {
            t for t in ToolName if posture_allows(Posture.READONLY, t)
        }
        attack = mailbox.fetch_message_html(refs["attack"])
        codes = {w["code"] for w in attack["security_warnings"]}
        assert {"html_hidden_content_removed", "html_script_removed"} <= codes
        assert "ignore all previous instructions" not in attack["untrusted"]["body_text"]
        assert "<script" not in json.dumps(attack["untrusted"])
        sent = mailbox.send_email(["bob@example.org"], "Hi", "Hello Bob")
        assert sent["meta"]["account"] == "work"
        assert len(h.senders["work"].sent) == 1
        with pytest.raises(FolderProtected):
            mailbox.rename_folder("INBOX", "Elsewhere")
        mailbox.use_account("ro")
        assert mailbox.account == "ro"
        with pytest.raises(ToolDenied):
            mailbox.create_draft(["bob@example.org"], "Hi", "Hello")
        with pytest.raises(ToolDenied):
            mailbox.call("no_such_tool", {})
    ends = h.audit.of_kind("call_end")
    assert [r["outcome"] for r in ends] == ["ok", "ok", "refused", "ok", "refused", "refused"]
    assert h.audit.closed


def test_public_names_are_exactly_all_and_all_resolve() -> None:
    for name in mailguard_core.__all__:
        assert getattr(mailguard_core, name) is not None
    assert ToolName.SEND_EMAIL.value == "send_email"


@pytest.mark.dovecot
def test_a_real_dovecot_account_through_the_library(tmp_path: Path, dovecot: DovecotServer) -> None:
    user, password = dovecot.add_user(password="lib-pass-3")
    dovecot.deliver(user, "INBOX", plain_message("Lunch", "Noodles at 12?"))
    dovecot.deliver(user, "Junk", plain_message("Spam", "Buy now"))
    config = Config(
        accounts=(
            AccountConfig(
                name="imap",
                address=f"{user}@lib.example",
                posture=Posture.DRAFT_SAFE,
                imap=dovecot.imap_settings(user),
                download_dir=str(tmp_path / "downloads"),
            ),
        ),
    )
    audit = InMemoryAuditSink()
    with open_mailbox(
        config,
        secrets=InMemorySecretStore({"imap": password}),
        senders={"imap": InMemorySender()},
        audit=audit,
    ) as mailbox:
        page = mailbox.search(subject="Lunch")
        assert page["meta"]["count"] == 1
        ref = page["items"][0]["meta"]["message_ref"]
        assert "Noodles at 12?" in mailbox.fetch_message(ref)["untrusted"]["body_text"]
        mailbox.flag(ref)
        assert "\\Flagged" in mailbox.fetch_message(ref)["meta"]["flags"]
        draft = mailbox.create_draft(["bob@example.org"], "Re: Lunch", "Yes", in_reply_to=ref)
        assert draft["meta"]["account"] == "imap"
        with pytest.raises(MailguardError) as denied:
            mailbox.send_email(["bob@example.org"], "Hi", "Hello")
        assert denied.value.code == "tool_denied"
    outcomes = [(r["outcome"], r.get("code")) for r in audit.of_kind("call_end")]
    assert outcomes == [("ok", None)] * 5 + [("refused", "tool_denied")]
