"""``mailguard-mcp init``: a first run that writes a working configuration.

::

    mailguard-mcp init                       ask for everything (a terminal)
    mailguard-mcp init --non-interactive --address me@example.org --provider fastmail \\
        --password-stdin [--name N] [--posture P] [--pin SHA256] [--config PATH] [--force]

Steps: the address; a provider preset (Gmail, Fastmail, Outlook/Microsoft 365, iCloud, Yahoo,
Proton Mail Bridge) or a generic server: its host probed (``--host``: IMAP on 993 then 143,
SMTP on 465 then 587, or the ``--imap-port``/``--smtp-port`` given; implicit TLS or STARTTLS
detected, plaintext-only ports ignored, a few seconds at most) or host, port and TLS mode
given; the TLS certificate of each
server is checked, and one that does not verify (a self-signed Proton Bridge or home server)
is shown with its subject, issuer, dates and sha256 and trusted only when the user confirms
it (trust on first use: ``pin_sha256`` in ``[accounts.imap]`` or ``[accounts.smtp]``); in
scripts ``--pin`` must equal the presented sha256.
Then the TOML is written (mode 0600, never over an existing file without ``--force``), the
password stored in the OS keyring (``login``'s store; OAuth2 providers: run ``login`` to sign
in) and the dry run run. Exit code: the dry run's (0 every check passed), 1 when init itself
failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Callable
from typing import Literal, TextIO

from mailguard_core.model.errors import MailguardError
from mailguard_mcp.init_presets import PROVIDERS, Provider, Server

PROG = "mailguard-mcp init"


POSTURES = ("readonly", "draft-safe", "full", "destructive")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class _Usage(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Write a first configuration.")
    p.add_argument("--address")
    p.add_argument("--provider", choices=sorted(PROVIDERS))
    p.add_argument("--name", help="account name (default: the provider)")
    p.add_argument("--username", help="login name (default: the address)")
    p.add_argument("--posture", choices=POSTURES, default=None)
    p.add_argument("--host", help="probe this server for IMAP and SMTP (generic provider)")
    p.add_argument("--imap-host")
    p.add_argument("--imap-port", type=int)
    p.add_argument("--imap-tls", choices=("implicit", "starttls"))
    p.add_argument("--smtp-host")
    p.add_argument("--smtp-port", type=int)
    p.add_argument("--smtp-tls", choices=("implicit", "starttls"))
    p.add_argument("--client-id", help="OAuth2 app registration (Outlook / Microsoft 365)")
    p.add_argument("--pin", action="append", default=[], metavar="SHA256",
                   help="trust an unverifiable certificate whose sha256 is this")  # fmt: skip
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--no-password", action="store_true", help="store no password")
    p.add_argument("--config", metavar="PATH", help="where to write (default: see docs)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--non-interactive", action="store_true", help="never ask (scripts)")
    p.add_argument("--timeout", type=float, default=10.0, help=argparse.SUPPRESS)
    return p


class _Asker:
    def __init__(self, interactive: bool, ask: Callable[[str], str], out: TextIO) -> None:
        self.interactive = interactive
        self._ask = ask
        self.out = out

    def value(self, given: str | None, question: str, default: str | None = None) -> str:
        if given:
            return given
        if not self.interactive:
            if default is not None:
                return default
            raise _Usage(f"{question.rstrip(': ?')} is required with --non-interactive")
        suffix = f" [{default}]" if default else ""
        answer = self._ask(f"{question}{suffix}: ").strip()
        if not answer and default is not None:
            return default
        if not answer:
            raise _Usage(f"{question} is required")
        return answer

    def yes(self, question: str) -> bool:
        if not self.interactive:
            return False
        return self._ask(f"{question} [y/N]: ").strip().lower() in ("y", "yes")


def _choose_provider(args: argparse.Namespace, asker: _Asker) -> Provider:
    if args.provider:
        return PROVIDERS[args.provider]
    if not asker.interactive:
        raise _Usage("--provider is required with --non-interactive")
    keys = list(PROVIDERS)
    for i, key in enumerate(keys, start=1):
        asker.out.write(f"  {i}. {PROVIDERS[key].label} ({key})\n")
    answer = asker.value(None, "Provider (number or name)", "generic")
    if answer.isdigit() and 1 <= int(answer) <= len(keys):
        return PROVIDERS[keys[int(answer) - 1]]
    if answer in PROVIDERS:
        return PROVIDERS[answer]
    raise _Usage(f"unknown provider {answer!r}")


def _probe(kind: str, host: str, args: argparse.Namespace, out: TextIO) -> Server | None:
    """The first port of ``host`` answering as a ``kind`` server with TLS, None if none."""
    from mailguard_core.app.commands import DEFAULT_PORTS, probe_ports

    protocol: Literal["imap", "smtp"] = "imap" if kind == "imap" else "smtp"
    given = getattr(args, f"{kind}_port")
    ports = (given,) if given else DEFAULT_PORTS[protocol]
    found = probe_ports(host, protocol, ports, timeout=min(args.timeout, 3.0))
    listed = ", ".join(str(p) for p in ports)
    if not found:
        out.write(f"{kind.upper()} {host}: no server with TLS answered on port {listed}\n")
        return None
    out.write(f"{kind.upper()} {host}: found {found[0].tls} TLS on port {found[0].port}\n")
    return Server(host, found[0].port, found[0].tls)


def _server(
    kind: str, preset: Server | None, args: argparse.Namespace, asker: _Asker
) -> Server | None:
    explicit = getattr(args, f"{kind}_host")
    host = explicit or (preset.host if preset else None) or args.host
    if host is None:
        if kind == "smtp" and not asker.interactive:
            return None
        optional = kind == "smtp"
        question = f"{kind.upper()} host" + (" (empty: none)" if optional else "")
        host = asker.value(None, question, "" if optional else None)
        if not host:
            return None
    tls = getattr(args, f"{kind}_tls") or (preset.tls if preset else None)
    if tls is None:
        found = _probe(kind, host, args, asker.out)
        if found is not None:
            return found
        if not asker.interactive:
            if kind == "smtp" and not explicit:
                return None  # --host only: an account without SMTP (the dry run says so)
            raise _Usage(f"give --{kind}-port and --{kind}-tls for {host}")
        tls = asker.value(None, f"{kind.upper()} TLS (implicit or starttls)", "implicit")
    if tls not in ("implicit", "starttls"):
        raise _Usage(f"{kind} TLS must be implicit or starttls")
    default_port = {("imap", "implicit"): 993, ("imap", "starttls"): 143,
                    ("smtp", "implicit"): 465, ("smtp", "starttls"): 587}[(kind, tls)]  # fmt: skip
    port = getattr(args, f"{kind}_port") or (preset.port if preset else None)
    if port is None:
        port = int(asker.value(None, f"{kind.upper()} port", str(default_port)))
    return Server(host, int(port), tls)


def _trust(
    kind: str, server: Server, args: argparse.Namespace, asker: _Asker, out: TextIO
) -> str | None:
    """Check the server's certificate: the pin of a certificate that does not verify and was
    trusted; None when it verifies. Raises when refused."""
    from mailguard_core.app.commands import presented_certificate, verify_certificate
    from mailguard_core.config import normalize_pin
    from mailguard_core.model.errors import TLSError

    protocol: Literal["imap", "smtp"] = "imap" if kind == "imap" else "smtp"
    tls: Literal["implicit", "starttls"] = "implicit" if server.tls == "implicit" else "starttls"
    try:
        verify_certificate(server.host, server.port, tls=tls, protocol=protocol,
                           timeout=args.timeout)  # fmt: skip
        out.write(f"{kind.upper()} {server.host}:{server.port}: certificate verified\n")
        return None
    except TLSError as exc:
        failure = exc
    cert = presented_certificate(
        server.host, server.port, tls=tls, protocol=protocol, timeout=args.timeout
    )
    out.write(f"{kind.upper()} {server.host}:{server.port}: {failure.public_message}\n")
    out.write("The server presents this certificate:\n")
    out.writelines(f"  {line}\n" for line in cert.describe())
    pins = [normalize_pin(p) for p in args.pin]
    if cert.sha256 in pins:
        trusted = True
    elif asker.interactive:
        trusted = asker.yes("Is this your server's certificate (same sha256)? Trust it")
    else:
        trusted = False
    if not trusted:
        raise _Usage(
            f"the {kind.upper()} certificate was not trusted; compare its sha256 with the "
            f"server's and pass --pin {cert.sha256} (or set ca_file by hand)"
        )
    return cert.sha256


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(
    *,
    name: str,
    address: str,
    posture: str,
    username: str,
    imap: Server | None,
    smtp: Server | None,
    pin: str | None,
    smtp_pin: str | None,
    provider: Provider,
    client_id: str | None,
) -> str:
    """The TOML text of one account."""
    lines = [
        f"# written by mailguard-mcp init ({provider.label}); every key: docs/configuration.md",
        f"default_account = {_toml_string(name)}",
        "",
        "[[accounts]]",
        f"name = {_toml_string(name)}",
        f"address = {_toml_string(address)}",
        f"posture = {_toml_string(posture)}",
    ]
    if provider.oauth:
        lines += ["", "[accounts.oauth]", f"provider = {_toml_string(provider.oauth)}",
                  f"client_id = {_toml_string(client_id or '')}"]  # fmt: skip
        lines += ["", "[accounts.imap]", f"username = {_toml_string(username)}",
                  'auth = "oauth2"']  # fmt: skip
        lines += ["", "[accounts.smtp]", f"username = {_toml_string(username)}",
                  'auth = "oauth2"']  # fmt: skip
        return "\n".join(lines) + "\n"
    if imap is not None:
        lines += [
            "",
            "[accounts.imap]",
            f"host = {_toml_string(imap.host)}",
            f"port = {imap.port}",
            f"tls = {_toml_string(imap.tls)}",
            f"username = {_toml_string(username)}",
        ]
        if pin:
            lines.append(f"pin_sha256 = {_toml_string(pin)}")
    if smtp is not None:
        lines += [
            "",
            "[accounts.smtp]",
            f"host = {_toml_string(smtp.host)}",
            f"port = {smtp.port}",
            f"tls = {_toml_string(smtp.tls)}",
            f"username = {_toml_string(username)}",
        ]
        if smtp_pin:
            lines.append(f"pin_sha256 = {_toml_string(smtp_pin)}")
    return "\n".join(lines) + "\n"


def main(
    argv: list[str] | None = None,
    *,
    ask: Callable[[str], str] = input,
    secret: Callable[[str], str] = getpass.getpass,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    interactive = not args.non_interactive
    asker = _Asker(interactive, ask, out)
    try:
        from mailguard_core.config import config_path, load_config

        path = config_path(args.config)
        if path.exists() and not args.force:
            raise _Usage(f"{path} exists; pass --force to replace it (or --config PATH)")
        address = asker.value(args.address, "Email address")
        if "@" not in address:
            raise _Usage("the address needs an '@'")
        provider = _choose_provider(args, asker)
        if provider.note:
            out.write(f"{provider.label}: {provider.note}\n")
        name = args.name or (
            provider.key.replace("-bridge", "") if provider.key != "generic" else "mail"
        )
        if not _NAME.match(name):
            raise _Usage("--name: lower-case letters, digits, '-' and '_' (up to 32)")
        username = args.username or address
        posture = args.posture or asker.value(
            None, f"Posture ({', '.join(POSTURES)})", "draft-safe"
        )
        if posture not in POSTURES:
            raise _Usage(f"posture must be one of {', '.join(POSTURES)}")
        client_id = None
        imap = smtp = None
        pin = smtp_pin = None
        if provider.oauth:
            client_id = asker.value(args.client_id, "OAuth2 client_id (docs/oauth.md)")
        else:
            imap = _server("imap", provider.imap, args, asker)
            smtp = _server("smtp", provider.smtp, args, asker)
            assert imap is not None
            pin = _trust("imap", imap, args, asker, out)
            if smtp is not None:
                smtp_pin = _trust("smtp", smtp, args, asker, out)
        text = render(
            name=name, address=address, posture=posture, username=username, imap=imap,
            smtp=smtp, pin=pin, smtp_pin=smtp_pin, provider=provider,
            client_id=client_id,
        )  # fmt: skip
        import tomllib

        from mailguard_core.config import parse_config

        parse_config(tomllib.loads(text))  # never write a file that would not load
        password = None
        if not provider.oauth and not args.no_password:
            if args.password_stdin:
                password = (stdin or sys.stdin).readline().rstrip("\r\n")
            elif interactive:
                password = secret(f"Password for {address} (not echoed): ")
            if password == "":
                raise _Usage("the password is empty")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o600)
        out.write(f"Wrote {path}\n")
        if password is not None:
            from mailguard_core.app.bootstrap import keyring_store
            from mailguard_core.ports.secrets import Secret

            keyring_store().set(name, Secret(password))
            out.write(f"Stored the password of {name} in the OS keyring (service 'mailguard').\n")
        if provider.oauth:
            out.write(f"Next: mailguard-mcp login {name} (signs in with {provider.label}).\n")
            return 0
        out.write("\nDry run:\n")
        from mailguard_mcp.dry_run import dry_run

        return dry_run(load_config(str(path)), out)
    except _Usage as exc:
        print(f"{PROG}: {exc}", file=err)
        return 2
    except MailguardError as exc:
        print(f"{PROG}: {exc.public_message} ({exc})", file=err)
        return 1
    except (KeyboardInterrupt, EOFError):
        print(f"\n{PROG}: cancelled; nothing was written", file=err)
        return 1


__all__ = ["PROVIDERS", "main", "render"]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
