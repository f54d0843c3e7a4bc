"""The JWT check of ``serve --http`` (``mailguard_mcp.http_tokens.JwtVerifier``) with a JWKS fetched
from a URL: a rotated key is fetched again; audience lists, scopes and algorithms are checked;
a JWKS that cannot be fetched refuses tokens (fail closed) without a download per token.
Over real HTTP: ``tests/mcp/test_http_tokens_wire.py``."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from mailguard_core.config import ServerAuthSettings
from mailguard_core.gate.principals import Principal
from mailguard_mcp.http_tokens import JwtVerifier
from tests.support.http_server import ISSUER, Issuer

AUD = "https://mail.example/mcp"


def _everyone(claims: Any) -> Principal:
    return Principal(name=str(claims["sub"]), ceilings={"a": None})


def _verifier(keys: list[RSAKey], fetches: list[str], **auth: Any) -> JwtVerifier:
    def fetch(url: str) -> bytes:
        fetches.append(url)
        return json.dumps(KeySet(keys).as_dict(private=False)).encode()

    settings = ServerAuthSettings(
        issuer=ISSUER, audience=AUD, jwks_url="https://idp.example/jwks", **auth
    )
    return JwtVerifier(settings, _everyone, fetch=fetch)


def test_a_rotated_key_is_fetched_again_once() -> None:
    old, new = Issuer("old"), Issuer("new")
    keys, fetches = [old.key], []
    verifier = _verifier(keys, fetches)
    assert verifier.claims(old.token("u", AUD)) is not None
    keys.append(new.key)  # the issuer rotates; the cached JWKS lacks "new"
    assert verifier.claims(new.token("u", AUD)) is not None
    assert len(fetches) == 2
    assert verifier.claims(Issuer("unknown").token("u", AUD)) is None
    assert len(fetches) == 2  # at most one download a minute


def test_audience_lists_scopes_and_algorithms() -> None:
    issuer, fetches = Issuer(), []
    verifier = _verifier([issuer.key], fetches, required_scopes=("mail",))
    assert verifier.claims(issuer.token("u", AUD, scope="openid mail")) is not None
    listed = issuer.token("u", AUD, scope="mail")
    assert verifier.claims(listed) is not None
    now = 2_000_000_000
    both = jwt.encode(
        {"alg": "RS256", "kid": issuer.kid},
        {"iss": ISSUER, "aud": ["other", AUD], "sub": "u", "exp": now, "scope": "mail"},
        issuer.key,
    )
    assert verifier.claims(both) is not None
    # a missing required scope is not this check's: the SDK answers it with 403
    # insufficient_scope (tests/mcp/test_http.py)
    lacking = anyio.run(verifier.verify_token, issuer.token("u", AUD, scope="openid"))
    assert lacking is not None and lacking.scopes == ["openid"]
    assert verifier.claims(issuer.token("", AUD, scope="mail")) is None
    secret = OctKey.generate_key(256)
    forged = jwt.encode(
        {"alg": "HS256", "kid": issuer.kid},
        {"iss": ISSUER, "aud": AUD, "sub": "u", "exp": now, "scope": "mail"},
        secret,
    )
    assert verifier.claims(forged) is None


def test_verify_token_builds_the_sdk_access_token() -> None:
    issuer, fetches = Issuer(), []
    verifier = _verifier([issuer.key], fetches)
    token = issuer.token("alice", AUD, scope="mail read", client_id="app")
    access = anyio.run(verifier.verify_token, token)
    assert access is not None
    assert (access.subject, access.client_id, access.scopes) == ("alice", "app", ["mail", "read"])
    assert access.resource == AUD
    assert anyio.run(verifier.verify_token, "x" * 20_000) is None


@pytest.mark.parametrize("bad", ["", "a.b", "a.b.c", "e30.e30.", "....."])
def test_malformed_tokens_are_refused(bad: str) -> None:
    verifier = _verifier([Issuer().key], [])
    assert verifier.claims(bad) is None


def test_a_jwks_that_cannot_be_fetched_refuses_without_a_download_per_token() -> None:
    issuer, fetches = Issuer(), []
    failing = [True]

    def fetch(url: str) -> bytes:
        fetches.append(url)
        if failing[0]:
            raise OSError("connection refused")
        return json.dumps(KeySet([issuer.key]).as_dict(private=False)).encode()

    settings = ServerAuthSettings(issuer=ISSUER, audience=AUD, jwks_url="https://idp.example/j")
    verifier = JwtVerifier(settings, _everyone, fetch=fetch)
    token = issuer.token("u", AUD)
    assert [verifier.claims(token) for _ in range(20)] == [None] * 20
    assert len(fetches) == 1  # then no new try for JWKS_RETRY_SECONDS
    verifier._failed_at -= 60.0  # the retry delay passed
    failing[0] = False
    assert verifier.claims(token) is not None
    assert len(fetches) == 2
