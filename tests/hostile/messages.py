"""Hostile messages for the hostile-caller suite."""

from __future__ import annotations


def many_attachments(count: int = 9000, name_chars: int = 60) -> bytes:
    """A multipart/mixed message with ``count`` tiny named attachments: its BODYSTRUCTURE
    response line (about ``count * (120 + 2 * name_chars)`` bytes) is over imaplib's 1 MB
    line limit for the default arguments. Dovecot folds parts past 10,000 into one."""
    boundary = "b-many-parts"
    head = (
        "From: Many <many@example.org>\r\n"
        "To: me@example.com\r\n"
        "Subject: ten thousand attachments\r\n"
        "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
        "Message-ID: <many-parts@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    )
    parts = [head]
    for i in range(count):
        name = f"{i:06d}-".ljust(name_chars, "x") + ".bin"
        parts.append(
            f"--{boundary}\r\n"
            f'Content-Type: application/octet-stream; name="{name}"\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
            "AAAA\r\n"
        )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode("ascii")
