"""``mailguard-mcp login ACCOUNT``: store an account's password in the OS keyring.

::

    mailguard-mcp login ACCOUNT [--config PATH]     prompt twice (no echo), then store
    mailguard-mcp login ACCOUNT --password-stdin    read one line from stdin (scripts)
    mailguard-mcp login ACCOUNT --delete            remove the stored password
    mailguard-mcp login audit-hmac                  generate the audit log's HMAC key

The password goes to the keyring service ``mailguard`` under the account's name and is never
printed, logged or written anywhere else.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Callable
from typing import TextIO

from mailguard_core.adapters.keyring_secrets import KeyringSecretStore, env_var_name
from mailguard_core.config import AUDIT_HMAC_ENTRY, Config, load_config
from mailguard_core.errors import ConfigError, MailguardError, SecretUnavailable
from mailguard_core.ports.secrets import Secret, SecretStore

PROG = "mailguard-mcp login"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Store an account's password in the OS keyring."
    )
    parser.add_argument("account", help=f"an account name from the config, or {AUDIT_HMAC_ENTRY}")
    parser.add_argument("--config", help="configuration file (default: see docs)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    group.add_argument("--delete", action="store_true", help="remove the stored password")
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


def main(
    argv: list[str] | None = None,
    *,
    store: SecretStore | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the command; returns the exit status (0 ok, 1 failed, 2 bad usage or config)."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    keyring_store = store if store is not None else KeyringSecretStore()
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
            print(f"Removed the stored password of {account.name}.", file=out)
            return 0
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
        if isinstance(exc, SecretUnavailable):
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
