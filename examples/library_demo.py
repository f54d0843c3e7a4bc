"""mailguard as a Python library, with no agent framework: the bundled demo mailbox, a search,
a fetch and a refused send, then the audit records those calls wrote.

    python examples/library_demo.py

Runs offline: the demo Maildir is copied into a temporary folder and the audit log is kept in
memory. With your own mailbox, pass the path of your config file to ``open_mailbox`` instead
(the same file ``mailguard-mcp --config`` reads).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mailguard_core import (
    AccountConfig,
    Config,
    InMemoryAuditSink,
    PolicyViolation,
    Posture,
    open_mailbox,
)
from mailguard_mcp.demo import materialize  # the bundled demo mailbox (not library API)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mailguard-example-") as tmp:
        root = Path(tmp)
        materialize(root / "Maildir")
        config = Config(
            accounts=(
                AccountConfig(
                    name="demo",
                    address="you@demo.example",
                    posture=Posture.DRAFT_SAFE,  # read, flag, move, draft: never send
                    maildir=str(root / "Maildir"),
                    # whose mail can be authenticated, and which brands a lookalike imitates
                    trusted_authserv_id="mx.demo.example",
                    known_domains=("paypal.example", "mybank.example", "colleagues.example"),
                    download_dir=str(root / "downloads"),
                ),
            ),
        )
        audit = InMemoryAuditSink()  # default: the JSONL log of the config's [audit] section
        with open_mailbox(config, audit=audit) as mailbox:
            page = mailbox.search("INBOX", limit=10)
            print(f"search: {page['meta']['count']} of {page['meta']['total']} messages")
            for item in page["items"]:
                codes = ", ".join(w["code"] for w in item["security_warnings"]) or "-"
                print(f"  {item['meta']['message_ref']}  {item['untrusted']['subject']!r}")
                print(f"      warnings: {codes}")

            # the hit that carries the most warnings
            worst = max(page["items"], key=lambda item: len(item["security_warnings"]))
            ref = worst["meta"]["message_ref"]
            message = mailbox.fetch_message(ref, max_body_chars=400)
            print(f"fetch: {ref}")
            for warning in message["security_warnings"]:
                print(f"  warning {warning['severity']}: {warning['code']}")
            print("  body (untrusted):", message["untrusted"]["body_text"][:120].replace("\n", " "))

            try:
                mailbox.send_email(["someone@example.org"], "Hello", "Sent by an agent?")
            except PolicyViolation as refusal:
                print(f"send: refused: {refusal.code}: {refusal.public_message}")
            else:  # pragma: no cover - the posture forbids it
                raise SystemExit("send_email was not refused")

        print("audit:")
        starts = {r["seq"]: r for r in audit.of_kind("call_start")}
        for record in audit.of_kind("call_end"):
            start = starts[record["start_seq"]]
            print(f"  {start['tool']}: {record['outcome']} {record.get('code', '')}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
