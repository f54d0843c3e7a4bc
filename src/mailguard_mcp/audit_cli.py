"""``mailguard-mcp audit verify|show PATH``: check and read the audit log (``docs/audit-log.md``).

- ``verify [PATH] [--config FILE] [--key-env VAR | --keyring]``: checks the hash chain of the
  log and its rotated files (``PATH.000001`` ...). The configuration (``--config``, else
  ``$MAILGUARD_CONFIG``, else the default file, when it exists) sets the expectation: its
  ``[audit] path`` is the log when no PATH is given, and ``[audit] hmac = true`` means the log
  must verify with the key (read from the secret store unless ``--key-env`` names another
  source), so a keyed log rewritten as a plain chain fails. Exit 0 when intact (an incomplete
  last line from a crash is reported but is not tampering), 1 naming the first bad record and
  why (an empty log is one: every log starts with ``log_open``), 2 when the log is missing or
  cannot be read, the configuration is broken, or a key is needed and not available. The key
  is the secret store's ``audit-hmac`` entry: ``--keyring`` reads it like the server does (OS
  keyring, else ``$MAILGUARD_AUDIT_HMAC_PASSWORD``), ``--key-env VAR`` from another variable.
- ``show [PATH] [--config FILE] [--tool NAME] [--since WHEN] [--json]``: prints the records
  of PATH (default: the configured ``[audit]`` log), one per line
  (``--since`` takes an ISO 8601 date or time, UTC unless an offset is given).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from mailguard_core.app.commands import log_files, verify_log
from mailguard_core.config import Config, config_path, load_config
from mailguard_core.gate.audit import KIND_CALL_END, KIND_CALL_START, iter_records
from mailguard_core.model.errors import AuditError, ConfigError, SecretUnavailable
from mailguard_core.ports.secrets import SecretStore

EXIT_OK = 0
EXIT_TAMPERED = 1
EXIT_ERROR = 2
#: the secret store entry holding the audit HMAC key
HMAC_ENTRY = "audit-hmac"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"mailguard-mcp audit: {message}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mailguard-mcp audit", description="Check and read the audit log.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify the hash chain (exit 0 when intact)")
    verify.add_argument(
        "path",
        type=Path,
        nargs="*",
        help="the log, or the logs of several replicas (default: the configured [audit] path)",
    )
    verify.add_argument(
        "--config",
        metavar="FILE",
        help="configuration whose [audit] settings the log must meet (default: see docs)",
    )
    keys = verify.add_mutually_exclusive_group()
    keys.add_argument("--key-env", metavar="VAR", help="environment variable holding the HMAC key")
    keys.add_argument(
        "--keyring",
        action="store_true",
        help="read the HMAC key from the secret store entry 'audit-hmac'",
    )
    show = commands.add_parser("show", help="print the records")
    show.add_argument(
        "path", type=Path, nargs="?", help="the log (default: the configured [audit] path)"
    )
    show.add_argument("--config", metavar="FILE", help="configuration naming the log")
    show.add_argument("--tool", help="only calls of this tool")
    show.add_argument("--since", help="only records at or after this ISO 8601 date/time")
    show.add_argument("--json", action="store_true", help="print the raw JSON records")
    return parser


def _secret_store() -> SecretStore:
    """The server's secret store (:func:`~mailguard_core.app.bootstrap.default_secrets`)."""
    from mailguard_core.app.bootstrap import default_secrets

    return default_secrets()


def _key(var: str | None, from_store: bool) -> bytes | None:
    if from_store:
        try:
            return _secret_store().get(HMAC_ENTRY).reveal().encode("utf-8")
        except SecretUnavailable as exc:
            raise AuditError(f"no audit HMAC key: {exc.public_message}") from exc
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        raise AuditError(f"environment variable {var} is not set or empty")
    return value.encode("utf-8")


def _configuration(explicit: str | None) -> Config | None:
    """The configuration to hold the log to: ``explicit``, else ``$MAILGUARD_CONFIG``, else
    the default file if it exists.

    Raises:
        ConfigError: a named file (``--config`` or ``$MAILGUARD_CONFIG``) is missing, or the
            file is unreadable or invalid.
    """
    named = explicit is not None or bool(os.environ.get("MAILGUARD_CONFIG"))
    if not named and not config_path(None).is_file():
        return None
    return load_config(explicit)


def _default_log(config: Config) -> Path:
    """The log the server writes (:func:`~mailguard_core.app.bootstrap.audit_log_path`)."""
    from mailguard_core.app.bootstrap import audit_log_path

    return audit_log_path(config)


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    try:
        config = _configuration(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    paths: list[Path] = list(args.path or [])
    if not paths:
        if config is None:
            print("error: no PATH given and no configuration file found", file=sys.stderr)
            return EXIT_ERROR
        paths = [_default_log(config)]
    worst = EXIT_OK
    for path in paths:  # replicas: one chain each, all must verify
        if len(paths) > 1:
            print(f"{path}:", file=out)
        worst = max(worst, _verify_one(path, args, config, out))
    return worst


def _verify_one(path: Path, args: argparse.Namespace, config: Any, out: TextIO) -> int:
    if not log_files(path):
        print(f"error: no audit log at {path}", file=sys.stderr)
        return EXIT_ERROR
    expect_key = config is not None and config.audit.hmac
    try:
        key = _key(args.key_env, args.keyring or (expect_key and args.key_env is None))
    except AuditError as exc:
        why = " ([audit] hmac = true: the log only verifies with its key)" if expect_key else ""
        print(f"error: {exc}{why}", file=sys.stderr)
        return EXIT_ERROR
    report = verify_log(path, key=key)
    for note in report.notes:
        print(f"note: {note}", file=out)
    if report.torn_tail is not None:
        torn = report.torn_tail
        print(
            f"note: {torn.file} line {torn.line}: incomplete last record ({torn.size} bytes), "
            "left by a crash in the middle of a write; not tampering",
            file=out,
        )
    if report.problem is not None:
        print(f"TAMPERED: {report.problem.describe()}", file=out)
        print(f"({report.records} records verified before it)", file=out)
        return EXIT_TAMPERED
    if report.needs_key:
        print("error: the log is HMAC-keyed: pass --keyring or --key-env VAR", file=sys.stderr)
        return EXIT_ERROR
    print(
        f"OK: {report.records} records in {len(report.files)} file(s), chain intact "
        f"(seq {report.first_seq}..{report.last_seq}){', HMAC-keyed' if key else ''}",
        file=out,
    )
    if key is None:
        print(
            "note: verified without a key: an unkeyed chain shows edits by someone who "
            "cannot write the file, not by someone who can ([audit] hmac = true stops that)",
            file=out,
        )
    return EXIT_OK


def _parse_time(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def _since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    when = _parse_time(text)
    if when is None:
        raise AuditError(f"--since: not an ISO 8601 date or time: {text!r}")
    return when


def _selected(
    records: Iterable[dict[str, Any]], tool: str | None, since: dt.datetime | None
) -> Iterable[dict[str, Any]]:
    starts: set[int] = set()
    for record in records:
        if since is not None:
            ts = record.get("ts")
            when = _parse_time(ts) if isinstance(ts, str) else None
            if when is None or when < since:
                continue
        if tool is not None:
            kind = record.get("kind")
            if kind == KIND_CALL_START and record.get("tool") == tool:
                starts.add(record.get("seq", -1))
            elif not (kind == KIND_CALL_END and record.get("start_seq") in starts):
                continue
        yield record


def _line(record: dict[str, Any]) -> str:
    head = f"#{record.get('seq')} {record.get('ts')} {record.get('kind')}"
    rest = {k: v for k, v in record.items() if k not in {"v", "seq", "ts", "kind", "prev", "hash"}}
    # json.dumps escapes every control and non-ASCII character: safe for a terminal
    fields = " ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(rest.items()))
    return f"{head} {fields}".rstrip()


def _show(path: Path, tool: str | None, since_text: str | None, raw: bool, out: TextIO) -> int:
    files = [str(f) for f in log_files(path)]
    if not files:
        print(f"error: no audit log at {path}", file=sys.stderr)
        return EXIT_ERROR
    since = _since(since_text)
    for record in _selected(iter_records(files, lambda n: Path(n).read_bytes()), tool, since):
        print(json.dumps(record, sort_keys=True) if raw else _line(record), file=out)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        if args.command == "verify":
            return _verify(args, out)
        path = args.path
        if path is None:
            try:
                config = _configuration(args.config)
            except ConfigError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_ERROR
            if config is None:
                print("error: no PATH given and no configuration file found", file=sys.stderr)
                return EXIT_ERROR
            path = _default_log(config)
        return _show(path, args.tool, args.since, args.json, out)
    except AuditError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"error: cannot read the audit log: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
