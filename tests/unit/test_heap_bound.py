"""system.heap.bound_heap: after one large block was freed, later large blocks still go back to
the system (glibc's dynamic mmap/trim thresholds are what kept the server at 121-144 MB after
a search of 100,000 UIDs). Each case runs in a fresh interpreter: the thresholds are per process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: a 4 MiB block freed (glibc then raises its thresholds to 4 / 8 MiB), then 48 blocks of
#: 512 KiB, each followed by a small block that stays, then the large ones freed
SCRIPT = """
import json, os, sys
from mailguard_core.system.heap import bound_heap
done = bound_heap() if sys.argv[1] == "bound" else None
def rss():
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
big = b"x" * (4 << 20); del big
before = rss()
blocks, pins = [], []
for i in range(48):
    blocks.append(b"%d" % i * (512 << 10))
    pins.append(b"p" * (64 << 10))
del blocks
print(json.dumps({"done": done, "kept_mb": rss() - before}))
"""


def _run(mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux only")
def test_freed_large_blocks_go_back_to_the_system_once_the_heap_is_bounded() -> None:
    plain, bounded = _run("plain"), _run("bound")
    assert bounded["done"] is True
    assert plain["kept_mb"] > 20  # the failure this guards against: the 24 MiB kept
    assert bounded["kept_mb"] < 8  # the small blocks (3 MiB) stay: they are alive
