"""Regenerate the bundled demo mailbox: ``python -m mailguard_mcp.demo.build``.

Writes one ``.eml`` file per message into ``mail/<Folder>/`` next to this file, plus
``mail/flags.json``. :func:`mailguard_mcp.demo.materialize` turns them into a Maildir++ at
start. Ordinary mail (several languages and charsets, a newsletter, attachments, a thread) sits
beside attack mail that triggers every warning code of the sanitizer. All names and domains
are fictitious (``*.example``, ``*.test``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mailguard_mcp.demo.attacks import attacks
from mailguard_mcp.demo.ordinary import ordinary

HERE = Path(__file__).parent
MAIL = HERE / "mail"


#: maildir flag letters per message (others are unseen)
FLAGS = {
    "INBOX/01-welcome.eml": "S",
    "INBOX/08-reply.eml": "S",
    "Sent/01-project-plan.eml": "S",
    "Archive/01-receipt.eml": "S",
    "INBOX/03-invoice.eml": "F",
}


def write(target: Path) -> int:
    """Write every demo message and ``flags.json`` under ``target`` (replaced); return the count."""
    if target.exists():
        shutil.rmtree(target)
    messages = {**ordinary(), **attacks()}
    for rel, data in messages.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (target / "flags.json").write_text(json.dumps(FLAGS, indent=1, sort_keys=True) + "\n")
    return len(messages)


def main() -> None:
    print(f"wrote {write(MAIL)} messages into {MAIL}")


if __name__ == "__main__":
    main()
