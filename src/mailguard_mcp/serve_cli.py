"""``mailguard-mcp [serve] [--config PATH] [--dry-run]`` and ``mailguard-mcp demo``.

- ``serve`` (the default): serve the configured accounts to one MCP client over stdio.
- ``--dry-run``: check everything ``serve`` needs and exit (:mod:`mailguard_mcp.dry_run`):
  exit 0 when every check passed, 1 otherwise, 2 on a config error.
- ``demo``: serve a copy of the bundled demo mailbox (no account, no network).

Logs go to stderr (stdout carries the MCP protocol). Every app is wired by the composition
root (:func:`mailguard_core.app.bootstrap.open_app`). The MCP SDK, the server and the
composition root are imported inside the functions that run them, so that ``--version``,
``--help`` and a config error answer without loading them.
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
from typing import TYPE_CHECKING, Any

from mailguard_core.config import AccountConfig, Config
from mailguard_core.model.errors import MailguardError

if TYPE_CHECKING:
    from mailguard_core.app.bootstrap import MailguardApp

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
        "--http",
        metavar="HOST:PORT",
        help="serve over streamable HTTP instead of stdio (docs/deployment.md)",
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


def _serve(factory: Callable[[], AbstractContextManager[MailguardApp]]) -> int:
    import anyio

    from mailguard_core.system.heap import bound_heap
    from mailguard_mcp.server import serve_stdio

    bound_heap()  # a long-lived server: the C heap gives large blocks back (docs/benchmarks.md)

    try:
        anyio.run(lambda: serve_stdio(factory, version=_version()))
    except KeyboardInterrupt:
        return 0
    except BaseException as exc:
        error = _mailguard_error(exc)
        if error is None or isinstance(exc, KeyboardInterrupt):
            raise
        print(f"mailguard-mcp: {error.public_message} ({error})", file=sys.stderr)
        return 1
    return 0


def _serve_http(
    config: Config, bind: str | None, factory: Callable[[], AbstractContextManager[Any]]
) -> int:
    """``serve --http``: the SDK's streamable HTTP transport (``mailguard_mcp.http``)."""
    import attrs

    from mailguard_core.system.heap import bound_heap
    from mailguard_mcp.http import parse_bind, serve_http

    bound_heap()  # a long-lived server: the C heap gives large blocks back (docs/benchmarks.md)
    try:
        if bind is not None:
            host, port = parse_bind(bind)
            config = attrs.evolve(config, server=attrs.evolve(config.server, host=host, port=port))
        serve_http(config, factory, version=_version())
    except KeyboardInterrupt:
        return 0
    except BaseException as exc:
        error = _mailguard_error(exc)
        if error is None:
            raise
        print(f"mailguard-mcp: {error.public_message} ({error})", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- demo
def demo_config(root: Path) -> Config:
    """The demo account over a materialized Maildir at ``root``."""
    from mailguard_core.config import (
        DEFAULT_CONFIRM_TOOLS,
        AuditSettings,
        ConfirmSettings,
        RateLimitSettings,
        ToolOverrides,
    )
    from mailguard_core.model.tools import Posture
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
        # draft-safe, and send_email, whose messages go to a local outbox (demo_app), never
        # the network: a send and a move ask the human first (docs/security-model.md); a
        # client without elicitation gets a $PendingReview draft, or a refused move
        tools=ToolOverrides(allow=("send_email",)),
        confirm=ConfirmSettings(tools=(*DEFAULT_CONFIRM_TOOLS, "move_message")),
    )
    return Config(
        accounts=(account,),
        default_account="demo",
        audit=AuditSettings(path=str(root / "audit.jsonl")),
    )


@contextmanager
def demo_app(root: Path | None = None) -> Iterator[MailguardApp]:
    """A demo app over a fresh copy of the bundled mailbox (removed afterwards when temporary);
    ``send_email`` delivers into its ``outbox`` folder (``bootstrap.outbox_sender``), never
    the network."""
    from mailguard_core.app.bootstrap import open_app, outbox_sender
    from mailguard_mcp.demo import materialize

    temporary = root is None
    base = Path(tempfile.mkdtemp(prefix="mailguard-demo-")) if root is None else root
    try:
        materialize(base / "Maildir")
        outbox = outbox_sender(base / "outbox")  # sends are written here, never sent
        with open_app(demo_config(base), senders={"demo": outbox}) as app:
            yield app
    finally:
        if temporary:
            shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- main
#: libraries whose DEBUG records carry mail: imapclient logs every IMAP response line (whole
#: raw messages on FETCH), the MCP SDK every JSON-RPC message (tool results with bodies)
CHATTY_LOGGERS = ("imapclient", "mcp", "httpx", "httpcore")


def quiet_libraries() -> None:
    """Keep ``--log-level DEBUG`` to mailguard's own records: the libraries that would log
    message contents stay at INFO or above (stderr ends up in client log files)."""
    for name in CHATTY_LOGGERS:
        library = logging.getLogger(name)
        if library.getEffectiveLevel() < logging.INFO:
            library.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        stream=sys.stderr,
        format="%(asctime)s mailguard %(levelname)s %(message)s",
    )
    quiet_libraries()
    if args.command == "demo":
        if args.dry_run:
            with tempfile.TemporaryDirectory(prefix="mailguard-demo-") as tmp:
                root = Path(tmp)
                from mailguard_mcp.demo import materialize

                materialize(root / "Maildir")
                from mailguard_mcp.dry_run import dry_run

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
        from mailguard_mcp.dry_run import dry_run

        return dry_run(config, sys.stdout)
    from mailguard_core.app.bootstrap import open_app

    if args.http or config.server.transport == "http":
        return _serve_http(config, args.http, lambda: open_app(config))
    _hint("mailguard-mcp serve")
    return _serve(lambda: open_app(config))


if __name__ == "__main__":
    raise SystemExit(main())
