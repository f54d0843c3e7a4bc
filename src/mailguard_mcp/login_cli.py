"""``mailguard-mcp login ACCOUNT``: store an account's password, or sign in with OAuth2, and
keep the credential in the OS keyring.

::

    mailguard-mcp login ACCOUNT [--config PATH]     prompt twice (no echo), then store
    mailguard-mcp login ACCOUNT --password-stdin    read one line from stdin (scripts)
    mailguard-mcp login ACCOUNT --delete            remove the stored credentials
    mailguard-mcp login audit-hmac                  generate the audit log's HMAC key

For an account with ``auth = "oauth2"`` (IMAP or SMTP), ``login`` runs the OAuth flow instead
of asking for a password: the authorization code grant with PKCE and a loopback redirect
(the browser opens; ``--no-browser`` only prints the address), or with ``--device`` the
device authorization grant for machines without a browser. The refresh token goes to the
keyring entry ``ACCOUNT:oauth``; a client secret (``--client-secret-stdin``, or asked for when
the provider is Google) to ``ACCOUNT:oauth-client``. ``--password-stdin`` still stores a
password, for an account that uses one on its other server.

Credentials go to the keyring service ``mailguard`` and are never printed, logged or
written anywhere else.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
import time
from collections.abc import Callable
from typing import TextIO

from mailguard_core.config import AUDIT_HMAC_ENTRY, AccountConfig, Config, load_config
from mailguard_core.model.errors import (
    AuthenticationFailed,
    ConfigError,
    MailguardError,
    SecretUnavailable,
)
from mailguard_core.model.oauth import client_secret_entry, refresh_token_entry
from mailguard_core.ports.secrets import Secret, SecretStore, env_var_name

PROG = "mailguard-mcp login"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Store an account's password, or sign in with OAuth2, in the OS keyring.",
    )
    parser.add_argument("account", help=f"an account name from the config, or {AUDIT_HMAC_ENTRY}")
    parser.add_argument("--config", help="configuration file (default: see docs)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    group.add_argument("--delete", action="store_true", help="remove the stored password")
    parser.add_argument(
        "--device",
        action="store_true",
        help="OAuth2 accounts: sign in with a code on another device (RFC 8628)",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="OAuth2 accounts: print the sign-in address instead of opening a browser",
    )
    parser.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="OAuth2 accounts: read the app's client secret from stdin and store it",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="OAuth2 accounts: seconds to wait for the browser sign-in (default 300)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help=f"with {AUDIT_HMAC_ENTRY}: replace an existing key (old logs then fail to verify)",
    )
    return parser


def _read_password(
    account: str, address: str, *, prompt: Callable[[str], str], stdin: TextIO | None
) -> str:
    if stdin is not None:
        return stdin.readline().rstrip("\r\n")
    first = prompt(f"Password for {account} ({address}): ")
    second = prompt("Repeat the password: ")
    if first != second:
        raise _Usage("the passwords do not match; nothing was stored")
    return first


class _Usage(Exception):
    """A problem the user can fix; its text is printed."""


def _audit_key(store: SecretStore, *, replace: bool, out: TextIO) -> None:
    try:
        store.get(AUDIT_HMAC_ENTRY)
        exists = True
    except SecretUnavailable:
        exists = False
    if exists and not replace:
        raise _Usage(
            "an audit HMAC key exists already; pass --replace to replace it "
            "(logs written with the old key will no longer verify)"
        )
    store.set(AUDIT_HMAC_ENTRY, Secret(secrets.token_hex(32)))
    print(f"Stored a new random audit HMAC key as {AUDIT_HMAC_ENTRY!r}.", file=out)


def _oauth_login(
    account: AccountConfig,
    args: argparse.Namespace,
    store: SecretStore,
    *,
    prompt: Callable[[str], str],
    stdin: TextIO,
    out: TextIO,
    open_browser: Callable[[str], object],
    sleep: Callable[[float], None],
) -> None:
    from mailguard_core.app.commands import authorization_code_login, device_login
    from mailguard_core.ports.secrets import optional_secret

    assert account.oauth is not None
    secret_entry = client_secret_entry(account.name)
    if args.client_secret_stdin:
        value = stdin.readline().rstrip("\r\n")
        if not value:
            raise _Usage("the client secret is empty; nothing was stored")
        store.set(secret_entry, Secret(value))
    client_secret = optional_secret(store, secret_entry)
    if client_secret is None and account.oauth.provider == "google":
        # Google's "Desktop app" clients come with a secret that the token endpoint requires
        value = prompt("Client secret of your Google OAuth client (stored in the keyring): ")
        if not value:
            raise _Usage("Google needs the OAuth client's secret; nothing was stored")
        client_secret = Secret(value)
        store.set(secret_entry, client_secret)
    if args.device:
        issued = device_login(account.oauth, client_secret, out=out, sleep=sleep)
    else:
        issued = authorization_code_login(
            account.oauth,
            client_secret,
            open_browser=(lambda url: None) if args.no_browser else open_browser,
            out=out,
            timeout=args.timeout,
        )
    if issued.refresh_token is None:
        raise AuthenticationFailed(
            "the token response has no refresh_token",
            public="the provider issued no refresh token (it needs the offline access scope, "
            "e.g. offline_access); nothing was stored",
        )
    store.set(refresh_token_entry(account.name), issued.refresh_token)


def _default_browser(url: str) -> object:
    import webbrowser

    return webbrowser.open(url)


def main(
    argv: list[str] | None = None,
    *,
    store: SecretStore | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    open_browser: Callable[[str], object] = _default_browser,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run the command; returns the exit status (0 ok, 1 failed, 2 bad usage or config)."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    if store is None:
        from mailguard_core.app.bootstrap import keyring_store as default_keyring

        store = default_keyring()
    keyring_store = store
    oauth = False
    try:
        if args.account == AUDIT_HMAC_ENTRY:
            if args.delete or args.password_stdin:
                raise _Usage(f"{AUDIT_HMAC_ENTRY} takes no --delete or --password-stdin")
            _audit_key(keyring_store, replace=args.replace, out=out)
            return 0
        config: Config = load_config(args.config)
        account = config.account(args.account)
        if args.delete:
            keyring_store.delete(account.name)
            if account.uses_oauth:
                keyring_store.delete(refresh_token_entry(account.name))
                keyring_store.delete(client_secret_entry(account.name))
            print(f"Removed the stored credentials of {account.name}.", file=out)
            return 0
        if account.uses_oauth and not args.password_stdin:
            oauth = True
            _oauth_login(
                account,
                args,
                keyring_store,
                prompt=prompt,
                stdin=stdin or sys.stdin,
                out=out,
                open_browser=open_browser,
                sleep=sleep,
            )
            print(
                f"Signed in. Stored the OAuth refresh token of {account.name} in the OS keyring "
                f"(service 'mailguard', entry {refresh_token_entry(account.name)!r}).",
                file=out,
            )
            return 0
        if args.device or args.client_secret_stdin:
            raise _Usage(f"{account.name} does not use OAuth2 (no auth = 'oauth2')")
        password = _read_password(
            account.name,
            account.address,
            prompt=prompt,
            stdin=(stdin or sys.stdin) if args.password_stdin else None,
        )
        if not password:
            raise _Usage("the password is empty; nothing was stored")
        keyring_store.set(account.name, Secret(password))
    except ConfigError as exc:
        print(f"{PROG}: {exc}", file=err)
        return 2
    except _Usage as exc:
        print(f"{PROG}: {exc}", file=err)
        return 2
    except MailguardError as exc:
        print(f"{PROG}: {exc.public_message}", file=err)
        if isinstance(exc, SecretUnavailable) and oauth:
            entry = refresh_token_entry(args.account)
            print(
                f"{PROG}: without a keyring, sign in on a machine that has one, read the "
                f"token there with `python -m keyring get mailguard {entry}` and set "
                f"{env_var_name(entry)} in the server's environment",
                file=err,
            )
        elif isinstance(exc, SecretUnavailable):
            print(
                f"{PROG}: without a keyring, set {env_var_name(args.account)} in the "
                "server's environment instead",
                file=err,
            )
        return 1
    except (KeyboardInterrupt, EOFError):
        print(f"\n{PROG}: cancelled; nothing was stored", file=err)
        return 1
    print(
        f"Stored the password of {account.name} in the OS keyring (service 'mailguard').",
        file=out,
    )
    return 0
