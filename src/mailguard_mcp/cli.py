"""``mailguard-mcp`` command line (issue 6 fills in serve/demo/--dry-run)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("mailguard-mcp: not yet implemented", file=sys.stderr)
    return 2
