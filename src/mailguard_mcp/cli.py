"""``mailguard-mcp`` command line: a thin dispatcher.

Each sub-command lives in its own module with its own ``main(argv) -> int``:

- ``mailguard-mcp [serve] [--config PATH] [--dry-run]``, ``mailguard-mcp demo``: ``serve_cli``
- ``mailguard-mcp init [...]``: ``init_cli`` (a first configuration)
- ``mailguard-mcp login ACCOUNT [--config PATH]``: ``login_cli``
- ``mailguard-mcp audit verify|show PATH ...``: ``audit_cli``
- ``mailguard-mcp --version`` (anywhere before ``--``): the installed version
"""

from __future__ import annotations

import importlib
import sys

_COMMANDS = {
    "audit": "mailguard_mcp.audit_cli",
    "init": "mailguard_mcp.init_cli",
    "login": "mailguard_mcp.login_cli",
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options = args[: args.index("--")] if "--" in args else args
    if "--version" in options or options[:1] == ["-V"]:
        from mailguard_core.app.cli import package_version

        print(f"mailguard-mcp {package_version()}")
        return 0
    if args and args[0] in _COMMANDS:
        module = importlib.import_module(_COMMANDS[args[0]])
        result: int = module.main(args[1:])
        return result
    serve = importlib.import_module("mailguard_mcp.serve_cli")
    code: int = serve.main(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
