"""``mailguard-mcp [serve] [--config PATH] [--dry-run]`` and ``mailguard-mcp demo``.

- ``serve`` (the default): serve the configured accounts to one MCP client over stdio.
- ``--dry-run``: print the effective tool matrix per account, then connect to each account's
  server and print its capabilities and the TLS certificate fingerprint line to paste into the
  config for pinning; exit 0 when every account connected, 1 otherwise, 2 on a config error.
- ``demo``: serve a copy of the bundled demo mailbox (no account, no network).

Logs go to stderr (stdout carries the MCP protocol).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TextIO

from mailguard_core.config import AccountConfig, Config
from mailguard_core.errors import MailguardError
from mailguard_core.tools import GATED_TOOLS, ToolName

logger = logging.getLogger("mailguard_mcp")

CONNECT_HINT = (
    "mailguard-mcp: waiting for an MCP client on stdin/stdout (try: npx "
    "@modelcontextprotocol/inspector@0.15.0 {command}; see docs/clients.md; Ctrl-C quits)"
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mailguard-mcp",
        description="A security-first MCP server for IMAP email.",
        epilog="Other commands: 'mailguard-mcp login ACCOUNT', 'mailguard-mcp audit verify|show'.",
    )
    p.add_argument("command", nargs="?", choices=("serve", "demo"), default="serve")
    p.add_argument("--config", metavar="PATH", help="config file (default: see docs)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the tool matrix, connect to each account, print capabilities and exit",
    )
    p.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="stderr log level (default WARNING)",
    )
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mailguard")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0"


def _hint(command: str) -> None:
    if sys.stdin.isatty():
        print(CONNECT_HINT.format(command=command), file=sys.stderr)


def _mailguard_error(exc: BaseException) -> MailguardError | None:
    """The MailguardError inside ``exc`` (task groups wrap startup failures in groups)."""
    if isinstance(exc, MailguardError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _mailguard_error(inner)
            if found is not None:
                return found
    return None


def _serve(factory: Callable[[], AbstractContextManager[object]]) -> int:
    import anyio

    from mailguard_mcp.server import serve_stdio

    try:
        anyio.run(lambda: serve_stdio(factory, version=_version()))  # type: ignore[arg-type]
    except KeyboardInterrupt:
        return 0
    except BaseException as exc:
        error = _mailguard_error(exc)
        if error is None or isinstance(exc, KeyboardInterrupt):
            raise
        print(f"mailguard-mcp: {error.public_message} ({error})", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- demo
def demo_config(root: Path) -> Config:
    """The demo account over a materialized Maildir at ``root``."""
    from mailguard_core.config import AuditSettings, RateLimitSettings
    from mailguard_core.tools import Posture
    from mailguard_mcp.demo import DEMO_ADDRESS, DEMO_AUTHSERV_ID

    account = AccountConfig(
        name="demo",
        address=DEMO_ADDRESS,
        display_name="You",
        posture=Posture.DRAFT_SAFE,
        maildir=str(root / "Maildir"),
        trusted_authserv_id=DEMO_AUTHSERV_ID,
        known_domains=("paypal.example", "mybank.example", "colleagues.example"),
        download_dir=str(root / "downloads"),
        # a newcomer's client may read the whole demo inbox in one go
        limits=RateLimitSettings(calls_per_second=50.0, burst=200),
    )
    return Config(
        accounts=(account,),
        default_account="demo",
        audit=AuditSettings(path=str(root / "audit.jsonl")),
    )


@contextmanager
def demo_app(root: Path | None = None) -> Iterator[object]:
    """A demo app over a fresh copy of the bundled mailbox (removed afterwards when temporary)."""
    from mailguard_mcp.app import open_app
    from mailguard_mcp.demo import materialize

    temporary = root is None
    base = Path(tempfile.mkdtemp(prefix="mailguard-demo-")) if root is None else root
    try:
        materialize(base / "Maildir")
        with open_app(demo_config(base), senders={"demo": None}) as app:
            yield app
    finally:
        if temporary:
            shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- dry run
def print_matrix(config: Config, allowed: dict[str, frozenset[ToolName]], out: TextIO) -> None:
    names = [a.name for a in config.accounts]
    width = max(len(t.value) for t in ToolName)
    cols = [max(len(n), 3) for n in names]
    out.write(
        f"{'tool':<{width}}  "
        + "  ".join(f"{n:^{w}}" for n, w in zip(names, cols, strict=True))
        + "\n"
    )
    postures = [a.posture.value for a in config.accounts]
    out.write(
        f"{'(posture)':<{width}}  "
        + "  ".join(f"{p:^{w}}" for p, w in zip(postures, cols, strict=True))
        + "\n"
    )
    for tool in ToolName:
        marks = ["yes" if tool in allowed[n] else "-" for n in names]
        suffix = "" if tool in GATED_TOOLS else "  (always)"
        out.write(
            f"{tool.value:<{width}}  "
            + "  ".join(f"{m:^{w}}" for m, w in zip(marks, cols, strict=True))
            + suffix
            + "\n"
        )


def dry_run(config: Config, out: TextIO) -> int:
    from mailguard_core.adapters.memory_audit import InMemoryAuditSink
    from mailguard_core.gate import Gate
    from mailguard_mcp.app import _default_secrets, _default_store

    gate = Gate.from_config(config, InMemoryAuditSink())
    allowed = {a.name: gate.allowed_tools(a.name) for a in config.accounts}
    out.write("Effective tools per account (posture + overrides):\n")
    print_matrix(config, allowed, out)
    failures = 0
    secrets = None

    def get_secrets() -> object:
        nonlocal secrets
        if secrets is None:
            secrets = _default_secrets()
        return secrets

    for account in config.accounts:
        where = (
            f"maildir {account.maildir}"
            if account.maildir
            else f"imap {account.imap.host}:{account.imap.port} ({account.imap.tls} TLS)"
            if account.imap
            else "no mailbox"
        )
        out.write(f"\n[{account.name}] {account.address}: {where}\n")
        try:
            store = _default_store(account, get_secrets)  # type: ignore[arg-type]
            try:
                info = store.server_info()
            finally:
                store.close()
        except MailguardError as exc:
            failures += 1
            out.write(f"  FAILED: {exc.public_message} ({exc})\n")
            continue
        out.write(f"  capabilities: {' '.join(info.capabilities) or '-'}\n")
        if info.tls_version:
            out.write(f"  tls: {info.tls_version}\n")
        if info.certificate_sha256:
            out.write(
                "  # certificate fingerprint; to pin it, paste into [accounts.imap]:\n"
                f'  pin_sha256 = "{info.certificate_sha256}"\n'
            )
    out.write(
        "\nOK: every account connected\n" if not failures else f"\n{failures} account(s) failed\n"
    )
    return 0 if failures == 0 else 1


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        stream=sys.stderr,
        format="%(asctime)s mailguard %(levelname)s %(message)s",
    )
    if args.command == "demo":
        if args.dry_run:
            with tempfile.TemporaryDirectory(prefix="mailguard-demo-") as tmp:
                root = Path(tmp)
                from mailguard_mcp.demo import materialize

                materialize(root / "Maildir")
                return dry_run(demo_config(root), sys.stdout)
        _hint("mailguard-mcp demo")
        return _serve(demo_app)

    from mailguard_core.config import load_config

    try:
        config = load_config(args.config)
    except MailguardError as exc:
        print(f"mailguard-mcp: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        return dry_run(config, sys.stdout)
    _hint("mailguard-mcp serve")
    from mailguard_mcp.app import open_app

    return _serve(lambda: open_app(config))


if __name__ == "__main__":
    raise SystemExit(main())
