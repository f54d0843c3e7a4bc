"""Phishing signals and injection detection (issue 19): false alarms on legitimate mail and
detection rates on phishing and injection sets.

    python bench/signals.py [--generated N] [--corpus DIR]

Legitimate mail (share with *any adversarial* warning, and with an adversarial identity,
link or phishing warning):

- the shared corpus's ``legit/`` (real MIME test mail from six projects; some of it is old
  spam kept as parser tests, see tests/unit/test_corpus.py's REVIEWED);
- the false-positive guard set ``tests/data/signals/legit`` (newsletters, receipts, password
  resets from real services, support tickets, list mail; written for the tests);
- the bench generator's ordinary mail (newsletters, attachments, non-Latin scripts).

Phishing (detection rate of each new signal, and of any adversarial identity/link/phishing
warning): the shared corpus's ``attacks/spamscope_mail_parser`` messages labelled phishing
or spam (real, public, Apache-2.0) and ``tests/data/signals/phish`` (written for the tests).

Injection (detection per category and language; false positives on the benign rows):
``bastioncorpus`` (PyPI, MIT: 181 rows, en/de/fr/es/it, benign traps included) and
``jailbreak-corpus-mini-py`` (PyPI, MIT: 15 prompts) when installed
(``pip install -e '.[bench]'``), the author-written labelled set and the task-style set in
``tests/data/sanitizer``. Sets that are not installed are named and skipped.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sanitize import load_paths  # noqa: E402

from mailguard_core.sanitize import RuleBasedDetector, sanitize_message  # noqa: E402

CORPUS = Path(os.environ.get("MAILGUARD_CORPUS") or (ROOT / ".." / "shared" / "corpus")).resolve()
SIGNALS = ROOT / "tests" / "data" / "signals"
SANITIZER = ROOT / "tests" / "data" / "sanitizer"
NEW_CODES = (
    "brand_impersonation", "credential_harvest_link", "link_ip_literal", "link_userinfo_trick",
    "link_punycode_lookalike", "link_shortener", "attachment_html_page",
    "phishing_urgency_language", "reply_to_mismatch",
)  # fmt: skip
IDENTITY = frozenset(
    {
        "display_name_spoof", "lookalike_mixed_script_domain", "lookalike_confusable_domain",
        "reply_to_mismatch", "sender_auth_failed", "html_link_text_mismatch",
        "brand_impersonation", "credential_harvest_link", "link_ip_literal",
        "link_userinfo_trick", "link_punycode_lookalike", "attachment_html_page",
    }
)  # fmt: skip


def _emls(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(folder.glob("*.eml"))]


def _warnings(raw: bytes) -> list[Any]:
    return list(sanitize_message(raw).warnings)


def legit_rates(name: str, messages: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Share of messages with any adversarial warning, and with an identity/phishing one;
    messages per adversarial code, and which messages were flagged with what."""
    any_adv = identity_adv = 0
    codes: collections.Counter[str] = collections.Counter()
    flagged: list[tuple[str, list[str]]] = []
    for label, raw in messages:
        adv = {w.code for w in _warnings(raw) if w.severity == "adversarial"}
        any_adv += bool(adv)
        identity_adv += bool(adv & IDENTITY)
        codes.update(adv)
        if adv:
            flagged.append((label, sorted(adv)))
    n = len(messages)
    return {"set": name, "messages": n, "any_adversarial": any_adv,
            "identity_adversarial": identity_adv, "codes": dict(codes),
            "flagged": flagged}  # fmt: skip


def _labelled(folder: Path) -> list[tuple[str, bytes]]:
    """Every message under ``folder`` named by its path (mbox members by ``#index``), chosen
    as :func:`bench.sanitize.load_paths` chooses them."""
    out: list[tuple[str, bytes]] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = str(path.relative_to(folder))
        found = load_paths([path])
        out.extend((rel if len(found) == 1 else f"{rel}#{i}", raw) for i, raw in enumerate(found))
    return out


def phishing_rates(name: str, messages: list[bytes]) -> dict[str, Any]:
    """Per new code: messages that got it; and messages with any identity/phishing warning."""
    per: collections.Counter[str] = collections.Counter()
    flagged = any_adv = 0
    for raw in messages:
        ws = _warnings(raw)
        per.update({w.code for w in ws if w.code in NEW_CODES})
        flagged += any(w.code in IDENTITY and w.severity == "adversarial" for w in ws)
        any_adv += any(w.severity == "adversarial" for w in ws)
    return {"set": name, "messages": len(messages), "flagged": flagged, "any": any_adv,
            "per_code": dict(per)}  # fmt: skip


def _spamscope() -> list[bytes]:
    folder = CORPUS / "attacks" / "spamscope_mail_parser"
    labels = folder / "labels.csv"
    if not labels.is_file():
        return []
    with labels.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    wanted = {r["file"] for r in rows if r["label"] in ("phishing", "spam", "suspicious")}
    return [(folder / f).read_bytes() for f in sorted(wanted) if (folder / f).is_file()]


def injection_sets() -> list[tuple[str, list[dict[str, str]]]]:
    """(name, rows with text, label 'injection'/'benign', group) for every available set."""
    sets: list[tuple[str, list[dict[str, str]]]] = []
    try:
        import bastioncorpus

        rows = [
            {"text": str(r.text).replace("{canary}", "ZX-4471"),
             "label": "injection" if r.label == "malicious" else "benign",
             "group": f"{r.category}/{r.lang}" if r.label == "malicious" else f"benign/{r.lang}"}
            for r in bastioncorpus.load_corpus()
        ]  # fmt: skip
        sets.append(("bastioncorpus 0.6.0 (PyPI)", rows))
    except ImportError:
        print("skipped: bastioncorpus not installed (pip install -e '.[bench]')")
    try:
        import jailbreak_corpus_mini

        rows = [
            {"text": str(f.prompt), "label": "injection", "group": str(f.category)}
            for f in jailbreak_corpus_mini.get_jailbreak_fixtures()
        ]
        sets.append(("jailbreak-corpus-mini-py 0.1.0 (PyPI)", rows))
    except ImportError:
        print("skipped: jailbreak-corpus-mini-py not installed (pip install -e '.[bench]')")
    for name, path in (
        ("labelled set (author-written)", SANITIZER / "injection_labelled.jsonl"),
        ("task-style + multilingual set (author-written)", SANITIZER / "injection_tasks.jsonl"),
    ):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        for r in rows:
            r["group"] = r.get("lang", "en") if r["label"] == "injection" else "benign"
        sets.append((name, rows))
    return sets


def injection_rates(rows: list[dict[str, str]]) -> dict[str, Any]:
    detector = RuleBasedDetector()
    groups: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for r in rows:
        hit = bool(detector.detect(r["text"]))
        g = groups[r["group"]]
        g[0] += hit
        g[1] += 1
    attacks = [r for r in rows if r["label"] == "injection"]
    benign = [r for r in rows if r["label"] == "benign"]
    return {
        "detected": sum(bool(detector.detect(r["text"])) for r in attacks),
        "attacks": len(attacks),
        "false_positives": sum(bool(detector.detect(r["text"])) for r in benign),
        "benign": len(benign),
        "groups": {k: tuple(v) for k, v in sorted(groups.items())},
    }


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} ({a / b:.1%})" if b else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generated", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=None, help="the shared corpus folder")
    args = parser.parse_args(argv)
    if args.corpus is not None:
        global CORPUS
        CORPUS = args.corpus.resolve()
    legit: list[tuple[str, list[tuple[str, bytes]]]] = []
    if (CORPUS / "legit").is_dir():
        legit.append(("shared corpus legit/", _labelled(CORPUS / "legit")))
    else:
        print(f"skipped: shared corpus not at {CORPUS} (--corpus DIR or MAILGUARD_CORPUS)")
    guard = [(p.name, p.read_bytes()) for p in sorted((SIGNALS / "legit").glob("*.eml"))]
    legit.append(("guard set tests/data/signals/legit", guard))
    if args.generated:
        from bench import generator

        ordinary = [
            (f"generated #{m.index}", m.raw) for m in generator.generate_messages(args.generated)
            if not m.injected
        ]  # fmt: skip
        legit.append((f"bench generator ordinary mail ({args.generated})", ordinary))
    print("## Legitimate mail: share with an adversarial warning (target <= 1%)\n")
    print("| set | messages | any adversarial | identity/link/phishing adversarial | codes |")
    print("|---|---|---|---|---|")
    results = [legit_rates(name, messages) for name, messages in legit]
    for r in results:
        print(f"| {r['set']} | {r['messages']} | {_pct(r['any_adversarial'], r['messages'])} | "
              f"{_pct(r['identity_adversarial'], r['messages'])} | {r['codes']} |")  # fmt: skip
    all_codes = sorted({c for r in results for c in r["codes"]})
    if all_codes:
        print("\nMessages per adversarial code:\n")
        print("| code | " + " | ".join(r["set"] for r in results) + " |")
        print("|---|" + "---|" * len(results))
        for code in all_codes:
            print(f"| {code} | " + " | ".join(str(r["codes"].get(code, 0)) for r in results) + " |")
    for r in results:
        if r["flagged"]:
            print(f"\nFlagged in {r['set']}:")
            for label, codes in r["flagged"]:
                print(f"- {label}: {', '.join(codes)}")
    print("\n## Phishing: detection per signal\n")
    phish = [
        ("spamscope phishing/spam (shared corpus)", _spamscope()),
        ("tests/data/signals/phish (author-written)", _emls(SIGNALS / "phish")),
    ]
    print(
        "| set | messages | any adversarial | any adversarial identity/link/phishing | "
        + " | ".join(NEW_CODES)
        + " |"
    )
    print("|---|---|---|---|" + "---|" * len(NEW_CODES))
    for name, messages in phish:
        r = phishing_rates(name, messages)
        cells = " | ".join(str(r["per_code"].get(c, 0)) for c in NEW_CODES)
        print(f"| {name} | {r['messages']} | {_pct(r['any'], r['messages'])} | "
              f"{_pct(r['flagged'], r['messages'])} | {cells} |")  # fmt: skip
    print("\n## Injection detection (RuleBasedDetector)\n")
    print("| set | attacks detected | benign flagged |")
    print("|---|---|---|")
    details = []
    for name, rows in injection_sets():
        r = injection_rates(rows)
        print(f"| {name} | {_pct(r['detected'], r['attacks'])} | "
              f"{_pct(r['false_positives'], r['benign'])} |")  # fmt: skip
        details.append((name, r["groups"]))
    for name, groups in details:
        print(f"\n{name}: " + ", ".join(f"{g} {h}/{n}" for g, (h, n) in groups.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
