"""``mailguard`` command line (issue 2 fills in ``mailguard sanitize``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("mailguard: not yet implemented", file=sys.stderr)
    return 2
