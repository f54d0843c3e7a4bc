"""Self-signed TLS certificates for the loopback test servers (Dovecot, aiosmtpd)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` and ``127.0.0.1`` in ``directory``.

    Returns (cert, key); reuses the pair when it already exists. The key is mode 0600.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    if not cert.exists():
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        key.chmod(0o600)
    return cert, key
