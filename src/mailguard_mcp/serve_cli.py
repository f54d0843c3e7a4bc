"""``mailguard-mcp [serve] [--config PATH] [--dry-run]`` and ``mailguard-mcp demo``.

- ``serve`` (the default): serve the configured accounts to one MCP client over stdio.
- ``--dry-run``: print the effective tool matrix per account, then connect to each account's
  server (an OAuth2 account: with a token from its stored grant) and print how it signed in,
  its capabilities and the TLS certificate fingerprint line to paste into the config for
  pinning; when the posture can send, sign in to SMTP (no mail is sent); check that the
  audit log can be written and its HMAC key read. On a certificate that does not verify it
  prints the certificate the server presents and the exact line to add. Exit 0 when every
  check passed, 1 otherwise, 2 on a config error.
- ``demo``: serve a copy of the bundled demo mailbox (no account, no network).

Logs go to stderr (stdout carries the MCP protocol). The server process imports the MCP SDK
with its re-exporting package inits deferred (:func:`import_server`): a stdio server needs
neither the client side nor ``MCPServer``; ``MAILGUARD_MCP_EAGER_IMPORTS=1`` turns that off.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any, TextIO

from mailguard_core.config import AccountConfig, Config, ImapSettings, SmtpSettings
from mailguard_core.model.errors import MailguardError, TLSError
from mailguard_core.model.tools import GATED_TOOLS, ToolName

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


# ---------------------------------------------------------------- SDK import
#: set to 1 to import the MCP SDK packages the ordinary way (escape hatch; the tests compare)
EAGER_IMPORTS_ENV = "MAILGUARD_MCP_EAGER_IMPORTS"
#: SDK packages whose ``__init__`` only re-exports names: ``mcp`` binds the whole client side
#: and ``mcp.server`` the high-level ``MCPServer`` (resources, prompts, HTTP), which a stdio
#: server of the low-level ``Server`` never uses; together about a third of our startup.
LAZY_PACKAGES = ("mcp", "mcp.server")


class NotPureReexports(Exception):
    """A package ``__init__`` does more than re-export names (so it must run as it is)."""


class LazyPackage(types.ModuleType):
    """A package whose ``__init__`` only re-exports names, each imported on first access.

    The name resolves exactly as the ``__init__``'s own ``from X import a as b`` would have
    bound it (same object); submodules import through the real ``__path__`` as usual.
    """

    def __getattr__(self, name: str) -> Any:
        exports: dict[str, tuple[str, str]] = self.__dict__.get("_lazy_exports", {})
        if name not in exports:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, attribute = exports[name]
        if module == self.__name__:  # ``from . import sub``: the submodule itself
            value: Any = importlib.import_module(f"{module}.{attribute}")
        else:
            source = importlib.import_module(module)
            try:
                value = getattr(source, attribute)
            except AttributeError:  # ``from pkg import sub`` of a submodule not yet imported
                value = importlib.import_module(f"{module}.{attribute}")
        setattr(self, name, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("_lazy_exports", {})))


def reexports(spec: ModuleSpec) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """``{bound name: (module, attribute)}`` and ``__all__`` of a pure re-exporting package
    ``__init__``; raises :class:`NotPureReexports` for anything else in it."""
    loader = spec.loader
    get_source = getattr(loader, "get_source", None)
    source = get_source(spec.name) if get_source is not None else None
    if not isinstance(source, str) or spec.submodule_search_locations is None:
        raise NotPureReexports(f"{spec.name}: no package source")
    exports: dict[str, tuple[str, str]] = {}
    names: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and not any(a.name == "*" for a in node.names):
            module = importlib.util.resolve_name("." * node.level + (node.module or ""), spec.name)
            if module != "__future__":
                for alias in node.names:
                    exports[alias.asname or alias.name] = (module, alias.name)
        elif (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            names = [str(n) for n in ast.literal_eval(node.value)]
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            raise NotPureReexports(f"{spec.name}: line {node.lineno} is not a re-export")
    return exports, names


def defer_package_inits(packages: tuple[str, ...] = LAZY_PACKAGES) -> list[str]:
    """Register a :class:`LazyPackage` for each of ``packages`` not imported yet, in order;
    returns the names registered (none, and nothing changed, if any of them is not a pure
    re-exporting package)."""
    installed: list[str] = []
    try:
        for name in packages:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None:
                raise NotPureReexports(f"{name}: not found")
            exports, names = reexports(spec)
            module = LazyPackage(name)
            module.__spec__ = spec
            module.__loader__ = spec.loader
            module.__file__ = spec.origin
            module.__path__ = list(spec.submodule_search_locations or ())
            module.__package__ = name
            module.__dict__.update(__cached__=spec.cached, __all__=names, _lazy_exports=exports)
            sys.modules[name] = module
            installed.append(name)
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, module)
    except Exception as exc:  # anything unexpected: the ordinary import, unchanged
        logger.debug("importing the MCP SDK the ordinary way: %r", exc)
        _forget(installed)
        return []
    return installed


def _forget(packages: list[str]) -> None:
    for name in list(sys.modules):
        if any(name == p or name.startswith(p + ".") for p in packages):
            del sys.modules[name]


def import_server() -> types.ModuleType:
    """``mailguard_mcp.server`` (and the stdio transport) with the SDK's re-exporting package
    inits deferred; the ordinary import when ``MAILGUARD_MCP_EAGER_IMPORTS`` is set or when
    anything about the deferred one fails."""
    installed = [] if os.environ.get(EAGER_IMPORTS_ENV) else defer_package_inits()
    try:
        importlib.import_module("mcp.server.stdio")
        return importlib.import_module("mailguard_mcp.server")
    except Exception as exc:
        if not installed:
            raise
        logger.debug("deferred SDK import failed, importing it the ordinary way: %r", exc)
        _forget([*installed, "mailguard_mcp.server"])
        importlib.import_module("mcp.server.stdio")
        return importlib.import_module("mailguard_mcp.server")


def _serve(factory: Callable[[], AbstractContextManager[object]]) -> int:
    import anyio

    from mailguard_core.system.heap import bound_heap

    bound_heap()  # a long-lived server: the C heap gives large blocks back (docs/benchmarks.md)
    serve_stdio = import_server().serve_stdio

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
def demo_app(root: Path | None = None) -> Iterator[object]:
    """A demo app over a fresh copy of the bundled mailbox (removed afterwards when temporary);
    ``send_email`` delivers into its ``outbox`` folder (:class:`OutboxSender`), never the
    network."""
    from mailguard_core.adapters.outbox_sender import OutboxSender
    from mailguard_core.app.bootstrap import open_app
    from mailguard_mcp.demo import materialize

    temporary = root is None
    base = Path(tempfile.mkdtemp(prefix="mailguard-demo-")) if root is None else root
    try:
        materialize(base / "Maildir")
        outbox = OutboxSender(base / "outbox")  # sends are written here, never sent
        with open_app(demo_config(base), senders={"demo": outbox}) as app:
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


def _offer_certificate(settings: ImapSettings | SmtpSettings, protocol: str, out: TextIO) -> None:
    """After a TLS failure: the certificate the server presents and exactly what to add."""
    from mailguard_core.adapters.tls_probe import presented_certificate

    if settings.pin_sha256:
        return  # a pin mismatch: never offer to replace a pin from here
    timeout = settings.connect_timeout if isinstance(settings, ImapSettings) else settings.timeout
    try:
        cert = presented_certificate(
            settings.host,
            settings.port,
            tls=settings.tls,
            protocol="imap" if protocol == "imap" else "smtp",
            timeout=timeout,
        )
    except MailguardError:
        return  # the failure above already says what is wrong
    out.write("  the server presents this certificate (not verified):\n")
    out.writelines(f"    {line}\n" for line in cert.describe())
    out.write(
        "  if it is your server's certificate (compare the sha256 with the server's own),\n"
        f"  trust exactly this certificate by adding to [accounts.{protocol}]:\n"
        f'  pin_sha256 = "{cert.sha256}"\n'
    )


def _check_smtp(
    account: AccountConfig, get_secrets: Callable[[], object], tokens: object, out: TextIO
) -> bool:
    """Connect, TLS, EHLO, AUTH and QUIT on the account's SMTP server; no mail is sent."""
    from mailguard_core.app.bootstrap import default_sender

    smtp = account.smtp
    assert smtp is not None
    out.write(f"  smtp {smtp.host}:{smtp.port} ({smtp.tls} TLS): ")
    try:
        sender = default_sender(account, get_secrets, tokens)  # type: ignore[arg-type]
        check = getattr(sender, "check", None)
        version = check() if callable(check) else "?"
    except MailguardError as exc:
        out.write(f"FAILED: {exc.public_message} ({exc})\n")
        if isinstance(exc, TLSError):
            _offer_certificate(smtp, "smtp", out)
        return False
    out.write(f"signed in ({version}), no mail sent\n")
    fingerprint = getattr(sender, "certificate_sha256", None)
    if fingerprint:
        out.write(
            "  # certificate fingerprint; to pin it, paste into [accounts.smtp]:\n"
            f'  pin_sha256 = "{fingerprint}"\n'
        )
    return True


def _check_audit(config: Config, get_secrets: Callable[[], object], out: TextIO) -> bool:
    """The audit log's folder can be created and written, and its HMAC key can be read."""
    from mailguard_core.app.bootstrap import state_dir

    path = (
        Path(config.audit.path).expanduser() if config.audit.path else state_dir() / "audit.jsonl"
    )
    out.write(f"\naudit log {path}: ")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = path if path.exists() else path.parent
        if not os.access(target, os.W_OK):
            raise PermissionError(f"{target} is not writable")
    except OSError as exc:
        out.write(f"FAILED: cannot write it ({type(exc).__name__}: {exc})\n")
        return False
    if config.audit.hmac:
        try:
            get_secrets().get("audit-hmac")  # type: ignore[attr-defined]
        except MailguardError as exc:
            out.write(f"FAILED: [audit] hmac = true but {exc.public_message}\n")
            return False
        out.write("writable, HMAC key found\n")
    else:
        out.write("writable\n")
    return True


def dry_run(config: Config, out: TextIO) -> int:
    from mailguard_core.adapters.keyring_secrets import env_var_name
    from mailguard_core.adapters.memory_audit import InMemoryAuditSink
    from mailguard_core.app.bootstrap import default_secrets, default_store, default_tokens
    from mailguard_core.gate import Gate
    from mailguard_mcp.preflight import folder_report

    gate = Gate.from_config(config, InMemoryAuditSink())
    allowed = {a.name: gate.allowed_tools(a.name) for a in config.accounts}
    out.write("Effective tools per account (posture + overrides):\n")
    print_matrix(config, allowed, out)
    failures = 0
    secrets = None

    def get_secrets() -> object:
        nonlocal secrets
        if secrets is None:
            secrets = default_secrets()
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
        if account.oauth is not None and account.uses_oauth:
            servers = [
                k
                for k, s in (("imap", account.imap), ("smtp", account.smtp))
                if s and s.auth == "oauth2"
            ]
            out.write(
                f"  auth: oauth2 for {' and '.join(servers)} (provider {account.oauth.provider}, "
                f"client_id {account.oauth.client_id}); refresh token: keyring entry "
                f"{account.name}:oauth or ${env_var_name(account.name + ':oauth')}\n"
            )
        try:
            tokens = default_tokens(account, get_secrets)  # type: ignore[arg-type]
            store = default_store(account, get_secrets, tokens)  # type: ignore[arg-type]
            try:
                info = store.server_info()
                folders = folder_report(account, allowed[account.name], store)
            finally:
                store.close()
        except MailguardError as exc:
            failures += 1
            out.write(f"  FAILED: {exc.public_message} ({exc})\n")
            if isinstance(exc, TLSError) and account.imap is not None:
                _offer_certificate(account.imap, "imap", out)
            continue
        if info.login_mechanism:
            out.write(f"  signed in with: {info.login_mechanism}\n")
        out.write(f"  capabilities: {' '.join(info.capabilities) or '-'}\n")
        if info.tls_version:
            out.write(f"  tls: {info.tls_version}\n")
        if info.certificate_sha256:
            out.write(
                "  # certificate fingerprint; to pin it, paste into [accounts.imap]:\n"
                f'  pin_sha256 = "{info.certificate_sha256}"\n'
            )
        failures += folders.write(out)
        can_send = account.smtp is not None and ToolName.SEND_EMAIL in allowed[account.name]
        if can_send and not _check_smtp(account, get_secrets, tokens, out):
            failures += 1
    if not _check_audit(config, get_secrets, out):
        failures += 1
    out.write(
        "\nOK: every account connected (and SMTP and the audit log checked)\n"
        if not failures
        else f"\n{failures} check(s) failed\n"
    )
    return 0 if failures == 0 else 1


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
    from mailguard_core.app.bootstrap import open_app

    if args.http or config.server.transport == "http":
        return _serve_http(config, args.http, lambda: open_app(config))
    _hint("mailguard-mcp serve")
    return _serve(lambda: open_app(config))


if __name__ == "__main__":
    raise SystemExit(main())
