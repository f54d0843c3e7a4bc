"""The bundled demo mailbox: ordinary mail and attack mail, served with no account.

The messages live as ``.eml`` files in ``mail/<Folder>/`` (regenerate them with
``python -m mailguard_mcp.demo.build``). :func:`materialize` copies them into a fresh
Maildir++ directory, so the package data is never modified by a demo session.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

#: every folder of the demo Maildir (INBOX is the Maildir's root)
FOLDERS = ("INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive")
DEMO_ADDRESS = "you@demo.example"
#: the authserv-id whose Authentication-Results the demo account trusts
DEMO_AUTHSERV_ID = "mx.demo.example"


def _maildir(root: Path, folder: str) -> Path:
    path = root if folder == "INBOX" else root / f".{folder}"
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    if folder != "INBOX":
        (path / "maildirfolder").touch()
    return path


def materialize(target: Path) -> Path:
    """Write the demo messages as a Maildir++ under ``target`` (created) and return it."""
    source = resources.files("mailguard_mcp.demo") / "mail"
    flags: dict[str, str] = json.loads((source / "flags.json").read_text(encoding="utf-8"))
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    counter = 0
    for folder in FOLDERS:
        maildir = _maildir(target, folder)
        folder_dir = source / folder
        if not folder_dir.is_dir():
            continue
        for entry in sorted(folder_dir.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".eml"):
                continue
            counter += 1
            letters = "".join(sorted(flags.get(f"{folder}/{entry.name}", "")))
            name = f"{1_795_000_000 + counter}.M{counter}P{os.getpid()}.mailguard-demo:2,{letters}"
            (maildir / "cur" / name).write_bytes(entry.read_bytes())
    return target
