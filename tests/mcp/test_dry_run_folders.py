"""``--dry-run`` checks the folders the posture touches (issue 15 item 2), against a real
Dovecot whose users start with INBOX and Archive only (no Drafts, Sent, Trash): each missing
folder a tool needs is named with what to do, and once the folders exist (created by name,
without special-use flags: found by their conventional names) the same dry run passes. One Dovecot
for the module; the dry run runs in-process (its SMTP sign-in against aiosmtpd)."""

from __future__ import annotations

import imaplib
import io
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailguard_core.config import parse_config
from mailguard_mcp.dry_run import dry_run
from tests.support.dovecot import DovecotServer, dovecot_available, start_dovecot
from tests.support.smtpd import SmtpTestServer, smtpd_certificate, start_smtpd  # noqa: F401

pytestmark = pytest.mark.dovecot

PASSWORD = "folders-pass-7"


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    if not dovecot_available():
        pytest.skip("dovecot is not on PATH (install dovecot-imapd to run IMAP tests)")
    server = start_dovecot(tmp_path_factory.mktemp("bare-dovecot"), special_folders=())
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def user(bare: DovecotServer) -> str:
    name, _ = bare.add_user(password=PASSWORD)
    return name


@pytest.fixture
def smtp(
    tmp_path: Path,
    user: str,
    smtpd_certificate: tuple[Path, Path],  # noqa: F811
) -> Iterator[SmtpTestServer]:
    server = start_smtpd(tmp_path / "smtp", users={user: PASSWORD}, certificate=smtpd_certificate)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("MAILGUARD_ME_PASSWORD", PASSWORD)


def _run(
    tmp_path: Path,
    server: DovecotServer,
    user: str,
    smtp: SmtpTestServer | None,
    *,
    posture: str,
    expunge_allowed: list[str] | None = None,
) -> tuple[int, str]:
    account: dict[str, object] = {
        "name": "me",
        "address": f"{user}@bare.example",
        "posture": posture,
        "imap": {
            "host": "127.0.0.1",
            "port": server.imaps_port,
            "username": user,
            "ca_file": str(server.cert_path),
        },
    }
    if expunge_allowed:
        account["folders"] = {"expunge_allowed": expunge_allowed}
    if smtp is not None:
        account["smtp"] = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "tls": "starttls",
            "username": user,
            "ca_file": str(smtp.cert_path),
        }
    doc = {"audit": {"path": str(tmp_path / "audit.jsonl")}, "accounts": [account]}
    out = io.StringIO()
    code = dry_run(parse_config(doc), out)
    return code, out.getvalue()


def _create(server: DovecotServer, user: str, *names: str) -> None:
    ctx = ssl.create_default_context(cafile=str(server.cert_path))
    with imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ctx, timeout=10) as imap:
        imap.login(user, PASSWORD)
        for name in names:
            typ, data = imap.create(name)
            assert typ == "OK", data


def _failed(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("FAILED:")]


def test_every_missing_folder_the_posture_touches_is_named_and_then_found(
    tmp_path: Path, bare: DovecotServer, user: str, smtp: SmtpTestServer
) -> None:
    code, text = _run(tmp_path, bare, user, smtp, posture="destructive",
                      expunge_allowed=["Junck"])  # fmt: skip
    assert code == 1, text
    failed = _failed(text)
    [drafts] = [x for x in failed if "Drafts folder 'Drafts'" in x]
    assert "does not exist" in drafts and "create a folder named 'Drafts'" in drafts
    # send_email is confirmed by default: a client without elicitation gets a draft
    assert "create_draft and send_email's $PendingReview drafts will fail" in drafts
    [sent] = [x for x in failed if "Sent folder 'Sent'" in x]
    assert "the copy of each sent message will fail" in sent
    [trash] = [x for x in failed if "Trash" in x]
    assert "delete_message will fail" in trash
    [junk] = [x for x in failed if "expunge_allowed" in x]
    assert "'Junck' does not exist" in junk and "did you mean" not in junk  # no Junk yet
    assert "signed in (TLSv1." in text  # the SMTP check still runs and passes
    assert f"{len(failed)} check(s) failed" in text and len(failed) == 4

    _create(bare, user, "Drafts", "Sent", "Trash", "Junk")
    code, text = _run(tmp_path, bare, user, smtp, posture="destructive",
                      expunge_allowed=["Junck"])  # fmt: skip
    [junk] = _failed(text)
    assert "did you mean 'Junk'?" in junk, text
    assert code == 1

    code, text = _run(tmp_path, bare, user, smtp, posture="destructive",
                      expunge_allowed=["Junk"])  # fmt: skip
    assert code == 0, text
    assert (
        "folder: Drafts folder 'Drafts' for create_draft and send_email's $PendingReview drafts"
    ) in text
    assert "folder: Sent folder 'Sent' for the copy of each sent message" in text
    assert "folder: Trash folder 'Trash' for delete_message" in text
    assert "folder: expunge_allowed folder 'Junk'" in text


def test_a_readonly_posture_needs_no_folder_and_an_empty_allowlist_is_a_note(
    tmp_path: Path, bare: DovecotServer, user: str, smtp: SmtpTestServer
) -> None:
    code, text = _run(tmp_path, bare, user, None, posture="readonly")
    assert code == 0, text
    assert "folder:" not in text and "FAILED" not in text

    code, text = _run(tmp_path, bare, user, None, posture="draft-safe")
    assert code == 1  # create_draft needs Drafts
    assert [x for x in _failed(text) if "Drafts" in x]
    assert "Sent" not in text  # draft-safe cannot send

    _create(bare, user, "Drafts", "Sent", "Trash")
    code, text = _run(tmp_path, bare, user, smtp, posture="destructive")
    assert code == 0, text
    assert "note: expunge and delete_folder allowed but [accounts.folders] expunge_allowed" in text
