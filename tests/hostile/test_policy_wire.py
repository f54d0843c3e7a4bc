"""Issue 12 items 3, 4 and 5 on the wire: ``mailguard-mcp serve`` as a subprocess, a real
Dovecot, the SDK's stdio client, and a caller that tries what the attack tried.

- item 3: the 11 look-alike folder names the attack created are refused for create and
  rename, and Dovecot has none of them afterwards; legitimate Cyrillic, CJK and accented
  Latin names are created, renamed, moved into and searched.
- item 4: no permanent deletion outside the allowlist by combining allowed steps: renaming
  or moving into an allowlisted folder, re-creating it, renaming a folder above it, and
  delete_message into an allowlisted Trash are refused; the INBOX message survives.
- item 5: a draft-safe agent can neither remove ``$PendingReview`` from its draft, nor put it
  on a stranger's message, nor move a draft into Sent or a stranger's message into Drafts.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from imapclient import imap_utf7

from mcp import Client, StdioServerParameters
from tests.mcp.harness import plain_message, structured
from tests.support.accounts import account_toml
from tests.support.dovecot import DovecotServer, dovecot  # noqa: F401  (fixture)

pytestmark = [pytest.mark.anyio, pytest.mark.dovecot]

PASSWORD = "policy-pass-12"
ATTACK_NAMES = (
    "Sent\u034f",
    "Sent\ufe0f",
    "Sent\u3164",
    "Sent\u115f",
    "Sent\u2800",
    "\u0406nbox",
    "Tr\u0430sh",
    "S\u0435nt",
    "K\u0435ep",
    "\u0130nbox",
    "D\u0336rafts",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> str:  # noqa: F811
    """A fresh Dovecot user: a stranger's mail in INBOX, and Scratch, Projects (with a child
    Bin), Keep and Trash holding one message each."""
    user, _ = dovecot.add_user(password=PASSWORD)
    dovecot.deliver(user, "INBOX", plain_message("Invoice", "Please approve and pay."))
    dovecot.deliver(user, "INBOX", plain_message("Lunch", "Noodles at 12?"))
    for folder in ("Scratch", "Projects", "Projects/Bin", "Keep", "Trash"):
        dovecot.deliver(user, folder, plain_message(f"In {folder}", "old"))
    return user


def _config(tmp_path: Path, server: DovecotServer, user: str) -> Path:
    accounts = {
        # name: (posture, protected, allowlist)
        "wire": ("destructive", '["Keep"]', '["Scratch", "Archive2/Bin"]'),
        "safe": ("draft-safe", '["Keep"]', "[]"),
        "trashy": ("destructive", "[]", '["Trash"]'),
    }
    text = f'default_account = "wire"\n[audit]\npath = "{tmp_path / "audit.jsonl"}"\n'
    for name, (posture, protected, allowed) in accounts.items():
        deny = '["send_email"]' if posture == "destructive" else "[]"
        text += account_toml(
            name,
            server,
            user,
            posture=posture,
            tables=f"""[accounts.folders]
protected = {protected}
expunge_allowed = {allowed}
[accounts.limits]
calls_per_second = 100.0
burst = 100
[accounts.tools]
deny = {deny}
[accounts.confirm]
tools = []
""",
        )
    path = tmp_path / "mailguard.toml"
    path.write_text(text)
    return path


@asynccontextmanager
async def serve(tmp_path: Path, server: DovecotServer, user: str) -> AsyncIterator[Client]:
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        **{f"MAILGUARD_{name}_PASSWORD": PASSWORD for name in ("WIRE", "SAFE", "TRASHY")},
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mailguard_mcp", "serve", "--config", str(_config(tmp_path, server, user))],
        env=env,
    )
    async with Client(params, mode="legacy") as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> Mapping[str, Any]:
    return structured(await client.call_tool(tool, arguments))


def code(result: Mapping[str, Any]) -> str | None:
    error = result.get("error")
    return error.get("code") if isinstance(error, Mapping) else None


async def ref(client: Client, folder: str, subject: str) -> str:
    page = await call(client, "search", folder=folder, subject=subject)
    [item] = page["items"]
    return str(item["meta"]["message_ref"])


async def folder_names(client: Client) -> set[str]:
    listed = await call(client, "list_folders")
    return {item["untrusted"]["exact_name"] for item in listed["items"]}


def dovecot_folders(server: DovecotServer, user: str) -> set[str]:
    """The folders as Dovecot stores them (Maildir++ directories, modified UTF-7, ``.`` for
    the hierarchy), read from disk: an oracle independent of mailguard."""
    return {
        imap_utf7.decode(p.name[1:].encode("ascii")).replace(".", "/")
        for p in server.maildir(user).iterdir()
        if p.name.startswith(".") and p.is_dir()
    }


async def test_look_alike_folders_are_refused_and_real_non_ascii_names_work(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
) -> None:
    """Item 3 over the wire: each attack name is refused for create_folder and rename_folder
    (folder_protected) and never reaches Dovecot; Cyrillic, CJK and accented Latin folders
    are created, renamed, moved into and searched as before."""
    before = dovecot_folders(dovecot, mailbox)
    outcomes: dict[str, tuple[str | None, str | None]] = {}
    with anyio.fail_after(90):
        async with serve(tmp_path, dovecot, mailbox) as client:
            for name in ATTACK_NAMES:
                created = await call(client, "create_folder", name=name)
                renamed = await call(client, "rename_folder", folder="Projects", new_name=name)
                outcomes[name] = (code(created), code(renamed))
            after_attack = await folder_names(client)
            legit = ["Проекты", "仕事", "Café Reçus", "Entwürfe"]
            for name in legit:
                assert code(await call(client, "create_folder", name=name)) is None, name
            renamed = await call(client, "rename_folder", folder="Проекты", new_name="Проекты 2026")
            assert code(renamed) is None
            lunch = await ref(client, "INBOX", "Lunch")
            moved = await call(client, "move_message", message_refs=[lunch], destination="仕事")
            assert code(moved) is None
            found = await call(client, "search", folder="仕事", subject="Lunch")
            listed = await folder_names(client)
    assert outcomes == dict.fromkeys(ATTACK_NAMES, ("folder_protected", "folder_protected"))
    assert not after_attack & set(ATTACK_NAMES)
    on_disk = dovecot_folders(dovecot, mailbox)
    assert not on_disk & set(ATTACK_NAMES)
    assert on_disk - before >= {"Проекты 2026", *legit[1:]}
    assert "Проекты" not in on_disk
    assert {"Проекты 2026", "仕事", "Café Reçus", "Entwürfe"} <= listed
    assert "Проекты" not in listed
    assert found["meta"]["total"] == 1


async def test_no_permanent_deletion_outside_the_allowlist(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
) -> None:
    """Item 4 over the wire, destructive account, allowlist Scratch and Archive2/Bin: every
    way of getting INBOX or Projects mail into an allowlisted folder is refused; expunge and
    delete_folder still work on what the server put there."""
    with anyio.fail_after(90):
        async with serve(tmp_path, dovecot, mailbox) as client:
            invoice = await ref(client, "INBOX", "Invoice")
            attempts = {
                "rename onto Scratch": await call(
                    client, "rename_folder", folder="Projects", new_name="Scratch"
                ),
                "rename onto a look-alike": await call(
                    client, "rename_folder", folder="Projects", new_name="scr\u0430tch"
                ),
                "rename above Archive2/Bin": await call(
                    client, "rename_folder", folder="Projects", new_name="Archive2"
                ),
                "move into Scratch": await call(
                    client, "move_message", message_refs=[invoice], destination="Scratch"
                ),
                "move into a look-alike": await call(
                    client, "move_message", message_refs=[invoice], destination="SCRATCH"
                ),
                "expunge in INBOX": await call(client, "expunge", message_refs=[invoice]),
            }
            in_scratch = await ref(client, "Scratch", "In Scratch")
            expunged = await call(client, "expunge", message_refs=[in_scratch])
            deleted = await call(client, "delete_folder", folder="Scratch")
            recreated = await call(client, "create_folder", name="Scratch")
            created_above = await call(client, "create_folder", name="Archive2")
            still = await call(client, "search", folder="INBOX", subject="Invoice")
            projects = await call(client, "search", folder="Projects/Bin")
            await call(client, "use_account", account="trashy")
            lunch = await ref(client, "INBOX", "Lunch")
            trash_delete = await call(client, "delete_message", message_refs=[lunch])
            in_trash = await ref(client, "Trash", "In Trash")
            emptied = await call(client, "expunge", message_refs=[in_trash])
    assert {what: code(result) for what, result in attempts.items()} == dict.fromkeys(
        attempts, "folder_protected"
    )
    assert code(expunged) is None and expunged["meta"]["expunged"] == 1
    assert code(deleted) is None
    assert code(recreated) == "folder_protected"
    assert code(created_above) == "folder_protected"  # a folder above an allowlisted one
    assert still["meta"]["total"] == 1
    assert projects["meta"]["total"] == 1
    assert code(trash_delete) == "folder_protected"
    assert "allowlist" in trash_delete["error"]["message"]
    assert code(emptied) is None and emptied["meta"]["expunged"] == 1


async def test_the_review_queue_cannot_be_faked_by_a_draft_safe_agent(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
) -> None:
    """Item 5 over the wire: `$PendingReview` can be neither removed from a draft nor put on
    a stranger's message (any spelling); drafts cannot be moved into Sent nor strangers'
    mail into Drafts (or a look-alike of it); other labels and moves keep working."""
    with anyio.fail_after(90):
        async with serve(tmp_path, dovecot, mailbox) as client:
            await call(client, "use_account", account="safe")
            draft = await call(
                client, "create_draft", to=["bob@example.org"], subject="Re", body="ok"
            )
            draft_ref = str(draft["meta"]["draft_ref"])
            stranger = await ref(client, "INBOX", "Invoice")
            attempts = {
                "remove from own draft": await call(
                    client, "remove_label", message_refs=[draft_ref], label="$PendingReview"
                ),
                "add to a stranger": await call(
                    client, "add_label", message_refs=[stranger], label="$PendingReview"
                ),
                "add, other case": await call(
                    client, "add_label", message_refs=[stranger], label="$pendingreview"
                ),
                "add, Cyrillic i": await call(
                    client, "add_label", message_refs=[stranger], label="$PendingRev\u0456ew"
                ),
            }
            moves = {
                "draft into Sent": await call(
                    client, "move_message", message_refs=[draft_ref], destination="Sent"
                ),
                "stranger into Drafts": await call(
                    client, "move_message", message_refs=[stranger], destination="Drafts"
                ),
                "stranger into a look-alike": await call(
                    client, "move_message", message_refs=[stranger], destination="Dr\u0430fts"
                ),
            }
            draft_labels = await call(client, "list_labels", message_ref=draft_ref)
            stranger_labels = await call(client, "list_labels", message_ref=stranger)
            todo = await call(client, "add_label", message_refs=[stranger], label="$Todo")
            archived = await call(
                client, "move_message", message_refs=[stranger], destination="Archive"
            )
            drafts = await call(client, "search", folder="Drafts")
            sent = await call(client, "search", folder="Sent")
    assert {what: code(result) for what, result in attempts.items()} == dict.fromkeys(
        attempts, "label_reserved"
    )
    assert {what: code(result) for what, result in moves.items()} == dict.fromkeys(
        moves, "folder_protected"
    )
    assert "$PendingReview" in draft_labels["untrusted"]["keywords"]
    assert "$PendingReview" not in stranger_labels["untrusted"]["keywords"]
    assert code(todo) is None and code(archived) is None
    assert drafts["meta"]["total"] == 1 and sent["meta"]["total"] == 0


def _generated_lookalikes(count: int) -> list[str]:
    """Look-alikes of the protected folders drawn (seeded) from the same wide tables as the
    property tests: letters swapped for any confusable or NFKC twin, invisible characters
    inserted, blanks appended."""
    from tests.hostile.test_policy_folder_key import BLANKS, INVISIBLE, LOOKALIKES, PROTECTED

    rng = random.Random(12)
    names: list[str] = []
    while len(names) < count:
        base = rng.choice(PROTECTED)
        letters = list(rng.choice([base, base.lower(), base.upper(), base.capitalize()]))
        for index in rng.sample(range(len(letters)), k=rng.randint(1, len(letters))):
            letters[index] = rng.choice(LOOKALIKES.get(letters[index], [letters[index]]))
        if rng.random() < 0.5:
            letters.insert(rng.randint(0, len(letters)), rng.choice(INVISIBLE))
        if rng.random() < 0.3:
            letters.append(rng.choice(BLANKS))
        name = "".join(letters)
        if name not in names and name != base:
            names.append(name)
    return names


async def test_generated_look_alikes_never_reach_dovecot(
    tmp_path: Path,
    dovecot: DovecotServer,  # noqa: F811
    mailbox: str,
) -> None:
    """80 generated look-alikes of INBOX, Drafts, Sent, Trash, Junk and Keep, sent as
    create_folder over the wire: none is created (the gate refuses each; a name the schema or
    IMAP cannot carry is refused as input), and Dovecot's disk shows no new folder."""
    names = _generated_lookalikes(80)
    codes: dict[str, str | None] = {}
    with anyio.fail_after(120):
        async with serve(tmp_path, dovecot, mailbox) as client:
            await folder_names(client)  # Dovecot creates its special folders on first use
            before = dovecot_folders(dovecot, mailbox)
            for name in names:
                codes[name] = code(await call(client, "create_folder", name=name))
    assert dovecot_folders(dovecot, mailbox) == before
    assert set(codes.values()) <= {"folder_protected", "invalid_input", "invalid_folder_name"}
    refused_by_guard = [n for n, c in codes.items() if c == "folder_protected"]
    assert len(refused_by_guard) >= 70, codes
