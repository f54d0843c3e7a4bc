"""``mailguard-mcp serve --http`` as a subprocess on a free loopback port, and the signed JWTs
(``joserfc``) of a local test issuer whose JWKS file the server reads."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

ISSUER = "http://127.0.0.1:9/issuer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Issuer:
    """A signing key (and a second, unpublished one with the same kid, for forgeries)."""

    def __init__(self, kid: str = "test-key") -> None:
        self.kid = kid
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256"})
        self.other = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256"})

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(KeySet([self.key]).as_dict(private=False)))
        return path

    def token(
        self,
        sub: str,
        audience: str,
        *,
        issuer: str = ISSUER,
        ttl: int = 300,
        forged: bool = False,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body = {"iss": issuer, "aud": audience, "sub": sub, "iat": now, "exp": now + ttl, **claims}
        header = {"alg": "RS256", "kid": self.kid}
        return jwt.encode(header, body, self.other if forged else self.key)


@contextmanager
def http_server(
    config: Path,
    port: int,
    *,
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    stderr: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start the server, wait (10 s at most) until the port accepts, stop it with SIGTERM."""
    err = stderr.open("wb") if stderr is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mailguard_mcp",
            "serve",
            "--config",
            str(config),
            "--http",
            f"127.0.0.1:{port}",
            *extra,
        ],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not listen within 15 s") from None
                time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if stderr is not None and hasattr(err, "close"):
            err.close()
