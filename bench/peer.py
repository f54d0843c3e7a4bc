"""The peer server: mcp-email-server (PyPI), installed into its own virtualenv by the bench.

mcp-email-server is the most used Python email MCP server. It pins ``mcp<2`` while mailguard
needs ``mcp>=2.3``, so it cannot share an environment with mailguard: the bench creates
``bench/.work/peer-venv`` and installs one pinned version there (``PEER_VERSION``; change it
with ``--peer-version``). The account is configured the way its documentation describes for
headless use, by environment variables (``MCP_EMAIL_SERVER_*``, read by
``mcp_email_server.config.EmailSettings.from_env``). ``MCP_EMAIL_SERVER_CONFIG_PATH`` points to a
file that does not exist and ``HOME`` to a private directory, so no configuration or keyring
of the machine is read or written. TLS is verified: the venv's ``ssl.create_default_context()``
trusts the bench Dovecot's self-signed certificate through ``SSL_CERT_FILE`` (the peer has no
CA-file option; its only other choice, ``IMAP_VERIFY_SSL=false``, would skip verification and
make it look cheaper than it is).

Tool matching (same mailbox, same folder, same messages):

* search page: mailguard ``search(folder, limit=20)`` <-> peer
  ``list_emails_metadata(mailbox, page=1, page_size=20, order="desc")``. Both return the 20
  newest messages of the folder with sender, recipients, subject, date and flags and no body.
  mailguard orders by UID (arrival order), the peer by INTERNALDATE; in the bench mailbox
  the two orders are the same (file mtimes follow the generation order).
* fetch one message: mailguard ``fetch_message(message_ref)`` <-> peer
  ``get_emails_content(mailbox, email_ids=[uid])`` (with its default ``mark_as_read=false``,
  so neither sets ``\\Seen``). Both return the decoded text body of one message, capped at
  20,000 characters by default on both sides, with its headers. The peer's ``email_id`` is
  the IMAP UID (checked in the bench: it returns the same Message-ID).
* startup: both processes are spawned the same way (console script of their environment,
  stdio transport) and timed until the first ``tools/list`` answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import WORK_DIR

__all__ = [
    "PEER_NAME",
    "PEER_VERSION",
    "TOOL_MATCHING",
    "ensure_peer",
    "fetch_arguments",
    "peer_environment",
    "search_arguments",
]

PEER_NAME = "mcp-email-server"
#: the version measured; pinned so a run is repeatable (newest on PyPI when this was written)
PEER_VERSION = "1.13.3"
PEER_ACCOUNT = "bench"

TOOL_MATCHING: list[tuple[str, str, str, str]] = [
    (
        "startup",
        "spawn + initialize + tools/list",
        "spawn + initialize + tools/list",
        "same stdio transport, same handshake (initialize) for both",
    ),
    (
        "search page of 20",
        "search(folder=F, limit=20)",
        'list_emails_metadata(mailbox=F, page=1, page_size=20, order="desc")',
        "both: the 20 newest messages of F, headers only (from, to, subject, date, flags)",
    ),
    (
        "fetch one message",
        "fetch_message(message_ref)",
        "get_emails_content(mailbox=F, email_ids=[uid])",
        "both: one message's decoded text body (20,000-char cap) + headers; no \\Seen set",
    ),
]


def _venv_dir() -> Path:
    return WORK_DIR / "peer-venv"


def peer_python(venv: Path | None = None) -> Path:
    return (venv or _venv_dir()) / "bin" / "python"


def installed_version(venv: Path | None = None, dist: str = PEER_NAME) -> str | None:
    """The version of ``dist`` (default: the peer) installed in the venv, or None."""
    python = peer_python(venv)
    if not python.exists():
        return None
    proc = subprocess.run(
        [
            str(python),
            "-c",
            f"import importlib.metadata as m; print(m.version({dist!r}))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def ensure_peer(version: str = PEER_VERSION, *, venv: Path | None = None) -> Path:
    """Create the peer venv and install the pinned version when needed; its console script."""
    venv = venv or _venv_dir()
    if installed_version(venv) != version:
        if not peer_python(venv).exists():
            venv.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        print(f"installing {PEER_NAME}=={version} into {venv} ...", flush=True)
        subprocess.run(
            [str(peer_python(venv)), "-m", "pip", "install", "-q", f"{PEER_NAME}=={version}"],
            check=True,
            timeout=900,
        )
    script = venv / "bin" / PEER_NAME
    if not script.exists():
        raise RuntimeError(f"{script} missing after installing {PEER_NAME}")
    return script


def peer_environment(
    *,
    host: str,
    port: int,
    username: str,
    password: str,
    cert_file: Path,
    home: Path,
    address: str = "me@example.com",
) -> dict[str, str]:
    """Environment variables that configure one peer account on the bench Dovecot."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "MCP_EMAIL_SERVER_CONFIG_PATH": str(home / "no-such-config.toml"),
        "MCP_EMAIL_SERVER_ACCOUNT_NAME": PEER_ACCOUNT,
        "MCP_EMAIL_SERVER_EMAIL_ADDRESS": address,
        "MCP_EMAIL_SERVER_USER_NAME": username,
        "MCP_EMAIL_SERVER_PASSWORD": password,
        "MCP_EMAIL_SERVER_IMAP_HOST": host,
        "MCP_EMAIL_SERVER_IMAP_PORT": str(port),
        "MCP_EMAIL_SERVER_IMAP_SSL": "true",
        "MCP_EMAIL_SERVER_IMAP_START_SSL": "false",
        "MCP_EMAIL_SERVER_IMAP_VERIFY_SSL": "true",
        "SSL_CERT_FILE": str(cert_file),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }


def search_arguments(folder: str, limit: int = 20, *, since: date | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {
        "account_name": PEER_ACCOUNT,
        "mailbox": folder,
        "page": 1,
        "page_size": limit,
        "order": "desc",
    }
    if since is not None:  # a timezone-aware datetime, as its schema asks
        args["since"] = f"{since.isoformat()}T00:00:00Z"
    return args


def fetch_arguments(folder: str, uid: int) -> dict[str, Any]:
    return {"account_name": PEER_ACCOUNT, "mailbox": folder, "email_ids": [str(uid)]}


def search_uids(payload: Mapping[str, Any]) -> list[int]:
    """The UIDs (``email_id``) of a ``list_emails_metadata`` answer, in order."""
    return [int(e["email_id"]) for e in payload.get("emails", [])]


def fetched_message_ids(payload: Mapping[str, Any]) -> list[str]:
    """The Message-IDs of a ``get_emails_content`` answer (to check the match)."""
    return [str(e.get("message_id")) for e in payload.get("emails", [])]
