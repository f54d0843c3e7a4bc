"""Makes this interpreter lack the POSIX-only modules, as CPython on Windows does.

Put this folder first on ``PYTHONPATH``: ``site`` imports this file at startup, before any
mailguard code. Importing a blocked module (or a submodule) then raises
``ModuleNotFoundError``, exactly what Windows gives, so every ``try: import fcntl`` in the
standard library and in dependencies takes its non-POSIX branch.

One kind of import is let through: a third-party module that imports a POSIX-only module
only behind ``if sys.platform != "win32"`` (listed in :data:`GUARDED`, the guard checked in
the installed source by ``tests/mcp/test_posixless.py``). On Windows that line never runs; here
``sys.platform`` is still ``linux``, so blocking it would test something Windows never does.
The module it gets is then dropped from ``sys.modules`` at the next import, so nobody else
finds it cached.

With ``MAILGUARD_POSIXLESS_REPORT`` set, the interpreter writes at exit a JSON report to
``REPORT.<pid>``: which importer asked for which blocked module, refused or let through.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from importlib.abc import MetaPathFinder

BLOCKED = frozenset(
    {"fcntl", "pwd", "grp", "resource", "termios", "tty", "pty", "syslog", "crypt", "spwd",
     "nis", "_posixshmem", "curses", "_curses", "readline", "ossaudiodev"}
)  # fmt: skip
#: (importer, module) pairs whose import sits behind ``if sys.platform != "win32"``
GUARDED = frozenset({("mcp.server.stdio", "fcntl")})

_refused: list[str] = []
_let_through: list[str] = []


def _importer() -> str:
    frame = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_globals.get("__name__", "").startswith("importlib")
    ):
        frame = frame.f_back  # type: ignore[assignment]
    return "?" if frame is None else str(frame.f_globals.get("__name__", "?"))


def _purge() -> None:
    for name in [n for n in sys.modules if n.partition(".")[0] in BLOCKED]:
        del sys.modules[name]


class _Blocker(MetaPathFinder):
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        _purge()
        top = fullname.partition(".")[0]
        if top not in BLOCKED:
            return None
        importer = _importer()
        if (importer, top) in GUARDED:
            _let_through.append(f"{importer}:{fullname}")
            return None
        _refused.append(f"{importer}:{fullname}")
        raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


_purge()
sys.meta_path.insert(0, _Blocker())


def _report() -> None:
    target = os.environ.get("MAILGUARD_POSIXLESS_REPORT")
    if target:
        with open(f"{target}.{os.getpid()}", "w", encoding="utf-8") as out:
            json.dump(
                {"refused": sorted(set(_refused)), "let_through": sorted(set(_let_through)),
                 "argv": sys.argv},
                out,
            )  # fmt: skip


if os.environ.get("MAILGUARD_POSIXLESS_REPORT"):
    atexit.register(_report)
