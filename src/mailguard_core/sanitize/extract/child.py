"""The isolated child: ``python -m mailguard_core.sanitize.extract.child`` (see ``run.py``)."""

from __future__ import annotations

import sys

from mailguard_core.sanitize.extract.run import child_main

if __name__ == "__main__":
    sys.exit(child_main())
