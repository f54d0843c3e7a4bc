"""Detection and false-positive rates of the default injection detector.

    python bench/injection.py

Corpora:

- ``tests/data/sanitizer/injection_labelled.jsonl``: short texts labelled ``injection``
  (instructions aimed at an AI agent reading the mail) or ``benign`` (ordinary business
  mail and newsletter sentences, several chosen to look close: "ignore my previous email",
  "the agent will call you", "use the new expense tool").
- every legitimate message of the shared corpus (``../shared/corpus/legit``), sanitized, as
  negatives: the detector sees exactly the ``body_text`` a model would see.
- the bench generator's messages: its ~2% injected messages as positives, the rest negatives.

The labelled set was written by the detector's author, so its rates are optimistic; the
corpus and generator rates are the more honest false-positive numbers.
``run(quick=...) -> dict`` returns ``headers``/``rows`` for ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mailguard_core.sanitize import RuleBasedDetector, sanitize_message  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "sanitizer" / "injection_labelled.jsonl"
#: the shared corpus beside the checkout; MAILGUARD_CORPUS names another place (a worktree)
CORPUS = (
    Path(os.environ.get("MAILGUARD_CORPUS") or (ROOT / ".." / "shared" / "corpus")) / "legit"
).resolve()


def _rates(positives: list[str], negatives: list[str]) -> dict[str, Any]:
    detector = RuleBasedDetector()
    start = time.process_time()
    caught = sum(bool(detector.detect(t)) for t in positives)
    flagged = [t for t in negatives if detector.detect(t)]
    elapsed = time.process_time() - start
    return {
        "positives": len(positives),
        "negatives": len(negatives),
        "detected": caught,
        "false_positives": len(flagged),
        "detection_rate": caught / len(positives) if positives else None,
        "false_positive_rate": len(flagged) / len(negatives) if negatives else None,
        "seconds": elapsed,
        "false_positive_samples": [t[:120] for t in flagged[:5]],
    }


def _corpus_bodies() -> list[str]:
    from bench.sanitize import load_paths

    if not CORPUS.is_dir():
        return []
    return [sanitize_message(raw).body_text for raw in load_paths([CORPUS])]


def _generated(count: int) -> tuple[list[str], list[str], int]:
    """Generated mail: positives are bodies whose visible text carries an injection."""
    from bench import generator

    markers = [str(i)[:30] for i in getattr(generator, "_INJECTIONS", ())]
    positives: list[str] = []
    negatives: list[str] = []
    hidden = 0
    for message in generator.generate_messages(count):
        text = sanitize_message(message.raw).body_text
        if any(m in text for m in markers):
            positives.append(text)
        elif any(m.encode() in message.raw for m in markers):
            hidden += 1  # injected but hidden in the HTML: removed before detection
        else:
            negatives.append(text)
    return positives, negatives, hidden


def run(*, quick: bool = False) -> dict[str, Any]:
    """Rates over the labelled set, the shared corpus (negatives) and generated mail."""
    rows_data = [
        json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line
    ]
    labelled = _rates(
        [r["text"] for r in rows_data if r["label"] == "injection"],
        [r["text"] for r in rows_data if r["label"] == "benign"],
    )
    corpus = _rates([], _corpus_bodies())
    gen_pos, gen_neg, gen_hidden = _generated(300 if quick else 2_000)
    generated = _rates(gen_pos, gen_neg)
    generated["hidden_injections_removed"] = gen_hidden
    rows = []
    for name, r in (
        ("labelled set (author-written)", labelled),
        ("shared corpus legit mail (negatives)", corpus),
        ("bench generator mail", generated),
    ):
        rows.append(
            [
                name, r["positives"], r["negatives"],
                "n/a" if r["detection_rate"] is None else f"{r['detection_rate']:.1%}",
                "n/a" if r["false_positive_rate"] is None else f"{r['false_positive_rate']:.1%}",
                f"{r['seconds'] * 1000:.1f}",
            ]
        )  # fmt: skip
    return {
        "headers": ["corpus", "positives", "negatives", "detection", "false positives", "ms"],
        "rows": rows,
        "labelled": labelled,
        "corpus": corpus,
        "generated": generated,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    result = run(quick=args.quick)
    headers = result["headers"]
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in result["rows"]:
        print("| " + " | ".join(str(c) for c in row) + " |")
    for key in ("labelled", "corpus", "generated"):
        for sample in result[key]["false_positive_samples"]:
            print(f"false positive ({key}): {sample!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
