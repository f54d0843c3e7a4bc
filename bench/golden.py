"""Golden check for changes that must not change a single result (speed-ups, pure moves).

    python bench/golden.py write BEFORE.tsv [--corpus DIR] [--generated N]
    ... change the code ...
    python bench/golden.py check BEFORE.tsv [same options]

``write`` records, per input, a SHA-256 of what the sanitizer and the detector answer:

- every JSON envelope (``sanitize_message`` text only, with ``include_html``, and
  ``sanitize_headers``; an error is recorded by its type and text) of every message of the
  shared corpus (``legit/`` and ``attacks/``, mbox members split), of ``tests/data`` (every
  ``.eml``), of the demo mailbox, and of ``--generated`` bench-generator messages (two seeds);
- ``RuleBasedDetector().detect`` and ``variants()`` of every text the sanitizer hands the
  detector for those messages (subject, visible body text), of every text in the labelled
  and task-style sets (and bastioncorpus / jailbreak-corpus-mini-py when installed), and of
  mutations of the fixtures that reach the obfuscation readings and the case folding:
  upper-cased, ``i``/``s``/``k`` as ``ı``/``ſ``/``K`` (Kelvin), zero-width characters between
  letters, leetspeak, letter spacing, and the text base64-encoded inside a sentence.

``check`` computes the same and lists every input whose answer differs (exit status 1), so a
speed-up can be shown to change nothing. Nothing here is timed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sanitize import load_paths  # noqa: E402

from mailguard_core.sanitize import (  # noqa: E402
    RuleBasedDetector,
    SanitizeOptions,
    sanitize_headers,
    sanitize_message,
)
from mailguard_core.sanitize.injection import variants  # noqa: E402

CORPUS = Path(os.environ.get("MAILGUARD_CORPUS") or (ROOT / ".." / "shared" / "corpus"))
HTML = SanitizeOptions(include_html=True)


def _digest(value: object) -> str:
    data = json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def messages(corpus: Path, generated: int) -> Iterator[tuple[str, bytes]]:
    """(name, raw) of every message the check covers, in a stable order."""
    for kind in ("legit", "attacks"):
        folder = corpus / kind
        if not folder.is_dir():
            print(f"skipped: {folder} (no corpus)", file=sys.stderr)
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            for i, raw in enumerate(load_paths([path])):
                yield f"corpus/{path.relative_to(corpus)}#{i}", raw
    for path in sorted((ROOT / "tests" / "data").rglob("*.eml")):
        yield f"{path.relative_to(ROOT)}", path.read_bytes()
    demo = ROOT / "src" / "mailguard_mcp" / "demo" / "mail"
    for path in sorted(p for p in demo.rglob("*") if p.is_file() and p.suffix != ".json"):
        yield f"{path.relative_to(ROOT)}", path.read_bytes()
    if generated:
        from bench.generator import generate_messages

        for seed, count in ((0, generated), (7, max(1, generated // 6))):
            for m in generate_messages(count, seed=seed):
                yield f"generated/{seed}/{m.index}", m.raw


def _envelopes(raw: bytes) -> tuple[list[object], list[str]]:
    """The three envelopes (or errors) and the texts the detector was handed."""
    out: list[object] = []
    texts: list[str] = []
    for call in (
        lambda: sanitize_message(raw),
        lambda: sanitize_message(raw, HTML),
        lambda: sanitize_headers(raw),
    ):
        try:
            env = call().to_dict()
        except Exception as exc:  # recorded, not hidden: a change of error is a difference
            out.append(f"{type(exc).__name__}: {exc}")
            continue
        out.append(env)
        untrusted = env.get("untrusted", {})
        for key in ("subject", "body_text"):
            value = untrusted.get(key)
            if isinstance(value, str) and value and value not in texts:
                texts.append(value)
    return out, texts


_LEET = str.maketrans("oieastOIEAST", "013457013457")
_ZW = "\u200b"


def mutations(text: str) -> list[str]:
    """Readings of ``text`` that reach the detector's folding and de-obfuscation paths."""
    short = text[:2_000]
    spaced = " ".join(short[:200])
    encoded = base64.b64encode(short[:300].encode("utf-8")).decode("ascii")
    return [
        short.upper(),
        short.replace("i", "\u0131").replace("s", "\u017f").replace("k", "\u212a"),
        _ZW.join(short[:400]),
        short.translate(_LEET),
        spaced,
        f"Please read this: {encoded} and thanks.",
    ]


def detector_texts() -> Iterator[tuple[str, str]]:
    """(name, text) of the labelled sets and the installed public sets."""
    for path in sorted((ROOT / "tests" / "data").rglob("*.jsonl")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                row = json.loads(line)
                text = row.get("text") if isinstance(row, dict) else None
                if isinstance(text, str):
                    yield f"{path.relative_to(ROOT)}#{i}", text
    try:
        import bastioncorpus

        for i, r in enumerate(bastioncorpus.load_corpus()):
            yield f"bastioncorpus#{i}", str(r.text)
    except ImportError:
        print("skipped: bastioncorpus (pip install -e '.[bench]')", file=sys.stderr)
    try:
        import jailbreak_corpus_mini

        for i, f in enumerate(jailbreak_corpus_mini.get_jailbreak_fixtures()):
            yield f"jailbreak-corpus-mini#{i}", str(f.prompt)
    except ImportError:
        print("skipped: jailbreak-corpus-mini-py (pip install -e '.[bench]')", file=sys.stderr)


def compute(corpus: Path, generated: int) -> dict[str, str]:
    """name -> digest for every input."""
    detector = RuleBasedDetector()
    out: dict[str, str] = {}
    seen_texts: set[str] = set()

    def text_entry(name: str, text: str) -> None:
        if text in seen_texts:
            return
        seen_texts.add(text)
        out[f"detect:{name}"] = _digest([list(detector.detect(text)), variants(text)])

    for name, raw in messages(corpus, generated):
        envelopes, texts = _envelopes(raw)
        out[f"message:{name}"] = _digest(envelopes)
        for j, text in enumerate(texts):
            text_entry(f"{name}/text{j}", text)
    fixtures = list(detector_texts())
    for name, text in fixtures:
        text_entry(name, text)
        for j, variant in enumerate(mutations(text)):
            text_entry(f"{name}/mutation{j}", variant)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("write", "check"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--generated", type=int, default=1200)
    args = parser.parse_args(argv)
    result = compute(args.corpus.resolve(), args.generated)
    if args.mode == "write":
        args.file.write_text("".join(f"{k}\t{v}\n" for k, v in result.items()), encoding="utf-8")
        print(f"wrote {len(result)} digests to {args.file}")
        return 0
    before = dict(
        line.split("\t", 1) for line in args.file.read_text(encoding="utf-8").splitlines()
    )
    before = {k: v.strip() for k, v in before.items()}
    differ = sorted(k for k in before.keys() | result.keys() if before.get(k) != result.get(k))
    for key in differ[:50]:
        print(f"DIFFERS {key}: {before.get(key, '-')} -> {result.get(key, '-')}")
    messages_n = sum(k.startswith("message:") for k in result)
    texts_n = len(result) - messages_n
    if differ:
        print(f"{len(differ)} of {len(result)} differ")
        return 1
    print(f"identical: {messages_n} messages x 3 envelopes, {texts_n} detector texts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
