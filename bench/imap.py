"""IMAP adapter overhead: ImapMailStore beside raw imapclient, on one large Dovecot folder.

    python bench/imap.py                      # 100,000 messages (default)
    python bench/imap.py --messages 10000 --repeat 50

Seeds a folder by writing Maildir files straight into a private Dovecot (seconds, not
minutes), then measures, interleaved call by call over the same TLS connection kind:

* ``search page``: the first page of 20, newest first, with headers/flags/size/date of those 20
  (adapter: ``search`` + ``summaries``; raw: ``UID SEARCH`` + top 20 + one ``UID FETCH``),
  for ``ALL`` and for a ``SUBJECT`` term;
* ``fetch one``: one whole message by UID (adapter: ``fetch`` with and without ``max_bytes``;
  raw: one ``UID FETCH BODY.PEEK[] FLAGS INTERNALDATE``), random UIDs, the same for both.

Reports p50/p95 per call and the adapter/raw ratio (target <= 1.3). ``run(...)`` is what
``bench/run.py`` calls; targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import shutil
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``tests`` and ``mailguard_core`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from imapclient import IMAPClient  # type: ignore[import-untyped]
from tests.support.dovecot import start_dovecot

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.model.values import MessageRef, SearchCriteria
from mailguard_core.ports.secrets import Secret

FOLDER = "BenchImap"
PAGE = 20
TARGET = 1.3
_WORDS = [
    *[
        "invoice",
        "meeting",
        "report",
        "budget",
        "release",
        "travel",
        "offer",
        "update",
        "review",
        "schedule",
    ],
    *[
        "question",
        "payment",
        "order",
        "support",
        "ticket",
        "security",
        "notice",
        "agenda",
        "summary",
        "feedback",
    ],
]
_LINES = [" ".join(_WORDS[(k * 7 + j * 3) % len(_WORDS)] for j in range(12)) for k in range(64)]


def _message(i: int) -> bytes:
    """A ~1-3 KB text message, a cheap pure function of ``i`` (no RNG: 100k in ~1 s)."""
    n = len(_WORDS)
    subject = " ".join(_WORDS[(i * p) % n] for p in (1, 3, 7, 11))
    body = "\r\n".join(_LINES[(i + k * 5) % len(_LINES)] for k in range(8 + i % 23))
    return (
        f"From: Sender {i % 997} <sender{i % 997}@example.org>\r\n"
        f"To: me@example.net\r\nSubject: {subject} #{i}\r\n"
        f"Date: Mon, 2 Nov 2026 09:{i % 60:02d}:00 +0000\r\n"
        f"Message-ID: <bench{i}@example.org>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(s * 1000 for s in samples)

    def pct(q: float) -> float:
        pos = (len(ordered) - 1) * q
        lo = int(pos)
        hi = min(lo + 1, len(ordered) - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

    return {
        "n": len(ordered),
        "p50": pct(0.5),
        "p95": pct(0.95),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def _bind(fn: Callable[[Any], object], arg: Any) -> Callable[[], object]:
    return lambda: fn(arg)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(
    *,
    messages: int = 100_000,
    repeat: int = 60,
    quick: bool = False,
    seed: int = 1,
) -> dict[str, Any]:
    """Seed, measure, and return ``{"headers", "rows", ...raw numbers}`` for bench/run.py.

    Starts its own Dovecot with the mail on tmpfs when ``/dev/shm`` has room (seeding then
    takes seconds), else in the system temp dir.
    """
    if quick:
        messages, repeat = min(messages, 10_000), min(repeat, 30)
    server = start_dovecot(
        Path(tempfile.mkdtemp(prefix="mg-bench-imap-")) / "d",
        tmpfs_bytes=messages * 4096 + (64 << 20),
    )
    try:
        user, password = server.add_user()
        t0 = time.perf_counter()
        server.deliver_many(user, FOLDER, (_message(i) for i in range(messages)), flags="S")
        seed_s = time.perf_counter() - t0

        ctx = ssl.create_default_context(cafile=str(server.cert_path))
        raw = IMAPClient(server.host, port=server.imaps_port, ssl=True, ssl_context=ctx, timeout=60)
        raw.normalise_times = False
        raw.login(user, password)
        t0 = time.perf_counter()
        raw.select_folder(FOLDER, readonly=True)
        first_select_s = time.perf_counter() - t0
        store = ImapMailStore("bench", server.imap_settings(user, command_timeout=60.0),
                              lambda: Secret(password))  # fmt: skip
        uidvalidity = store.search(FOLDER, SearchCriteria(), limit=1).refs[0].uidvalidity

        rnd = random.Random(seed)
        term = "invoice"
        header_items = [b"BODY.PEEK[HEADER]", b"FLAGS", b"RFC822.SIZE", b"INTERNALDATE"]

        def raw_page(criteria: list[Any]) -> None:
            uids = raw.search(criteria)
            top = heapq.nlargest(PAGE, uids)
            if top:
                raw.fetch(top, header_items)

        def raw_fetch(uid: int) -> None:
            raw.fetch([uid], [b"BODY.PEEK[]", b"FLAGS", b"INTERNALDATE"])

        def mg_fetch_bounded(ref: MessageRef) -> None:
            store.fetch(ref, max_bytes=25_000_000)

        def mg_page(criteria: SearchCriteria) -> None:
            page = store.search(FOLDER, criteria, limit=PAGE)
            store.summaries(page.refs)

        samples: dict[str, list[float]] = {}

        def measure(group: list[tuple[str, Callable[[], object]]], rotate: int) -> None:
            """Time each call of ``group``, starting at a different member every round."""
            k = rotate % len(group)
            for name, fn in group[k:] + group[:k]:
                samples.setdefault(name, []).append(_timed(fn))

        # warm both paths (Dovecot caches, imapclient parsers)
        raw_page(["ALL"])
        mg_page(SearchCriteria())
        for i in range(repeat):
            uid = rnd.randint(1, messages)
            ref = MessageRef(account="bench", folder=FOLDER, uidvalidity=uidvalidity, uid=uid)
            measure(
                [
                    ("raw search ALL", lambda: raw_page(["ALL"])),
                    ("adapter search ALL", lambda: mg_page(SearchCriteria())),
                ],
                i,
            )
            measure(
                [
                    ("raw search SUBJECT", lambda: raw_page(["SUBJECT", term])),
                    ("adapter search SUBJECT", lambda: mg_page(SearchCriteria(subject=term))),
                ],
                i,
            )
            measure(
                [
                    ("raw fetch", _bind(raw_fetch, uid)),
                    ("adapter fetch", _bind(store.fetch, ref)),
                    ("adapter fetch max_bytes", _bind(mg_fetch_bounded, ref)),
                ],
                i,
            )
        raw.logout()
        store.close()
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)  # frees the tmpfs now, not at exit

    stats = {name: _ms(values) for name, values in samples.items()}
    comparisons = [
        ("search page ALL", "raw search ALL", "adapter search ALL"),
        ("search page SUBJECT", "raw search SUBJECT", "adapter search SUBJECT"),
        ("fetch one", "raw fetch", "adapter fetch"),
        ("fetch one (max_bytes)", "raw fetch", "adapter fetch max_bytes"),
    ]
    rows = []
    ratios = {}
    for label, raw_key, mg_key in comparisons:
        r, m = stats[raw_key], stats[mg_key]
        ratio = m["p50"] / r["p50"] if r["p50"] else float("nan")
        ratios[label] = ratio
        rows.append(
            [
                label,
                f"{r['p50']:.2f}",
                f"{r['p95']:.2f}",
                f"{m['p50']:.2f}",
                f"{m['p95']:.2f}",
                f"{ratio:.2f}x",
                "yes" if ratio <= TARGET else "NO",
            ]
        )
    return {
        "headers": [
            f"{messages:,} msgs",
            "raw p50 ms",
            "raw p95 ms",
            "adapter p50 ms",
            "adapter p95 ms",
            "p50 ratio",
            f"<= {TARGET}x",
        ],
        "rows": rows,
        "messages": messages,
        "repeat": repeat,
        "seed_seconds": seed_s,
        "first_select_seconds": first_select_s,
        "stats": stats,
        "ratios": ratios,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    args = parser.parse_args(argv)
    result = run(messages=args.messages, repeat=args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"seeded {result['messages']:,} messages in {result['seed_seconds']:.1f} s; "
        f"first SELECT {result['first_select_seconds'] * 1000:.0f} ms; {result['repeat']} rounds"
    )
    table = [result["headers"], *result["rows"]]
    widths = [max(len(str(x)) for x in col) for col in zip(*table, strict=True)]
    for line in [result["headers"], *result["rows"]]:
        print(" | ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
