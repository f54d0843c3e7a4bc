"""The bundled demo mailbox: ordinary mail and attack mail, served with no account.

The messages live as ``.eml`` files in ``mail/<Folder>/`` (regenerate them with
``python -m mailguard_mcp.demo.build``). :func:`materialize` copies them into a fresh
Maildir++ directory, so the package data is never modified by a demo session.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

#: every folder of the demo Maildir (INBOX is the Maildir's root)
FOLDERS = ("INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive")
DEMO_ADDRESS = "you@demo.example"
#: the authserv-id whose Authentication-Results the demo account trusts
DEMO_AUTHSERV_ID = "mx.demo.example"
#: UIDVALIDITY of INBOX in every demo session (the other folders count up from it)
UIDVALIDITY_BASE = 1000
#: the per-folder UID map of ``MaildirMailStore`` (written so that refs are stable)
_UID_MAP = "mailguard-uidlist.json"


def _maildir(root: Path, folder: str) -> Path:
    path = root if folder == "INBOX" else root / f".{folder}"
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    if folder != "INBOX":
        (path / "maildirfolder").touch()
    return path


def materialize(target: Path) -> Path:
    """Write the demo messages as a Maildir++ under ``target`` (created) and return it.

    Every run gives the same message refs (``demo:INBOX:1000:1`` ...): the UID map that
    ``MaildirMailStore`` keeps per folder is written along with the messages.
    """
    source = resources.files("mailguard_mcp.demo") / "mail"
    flags: dict[str, str] = json.loads((source / "flags.json").read_text(encoding="utf-8"))
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for index, folder in enumerate(FOLDERS):
        maildir = _maildir(target, folder)
        folder_dir = source / folder
        entries = (
            sorted(
                (e for e in folder_dir.iterdir() if e.name.endswith(".eml")), key=lambda e: e.name
            )
            if folder_dir.is_dir()
            else []
        )
        uids: dict[str, int] = {}
        for uid, entry in enumerate(entries, start=1):
            letters = "".join(sorted(flags.get(f"{folder}/{entry.name}", "")))
            key = f"{1_795_000_000 + uid}.M{uid}P0.mailguard-demo"
            (maildir / "cur" / f"{key}:2,{letters}").write_bytes(entry.read_bytes())
            uids[key] = uid
        state = {
            "uidvalidity": UIDVALIDITY_BASE + index,
            "uidnext": len(uids) + 1,
            "uids": uids,
            "keywords": {},
        }
        (maildir / _UID_MAP).write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    return target
