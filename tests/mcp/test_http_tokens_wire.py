"""``serve --http`` as an OAuth resource server against a local identity provider over real
HTTP on loopback: its JWKS (``jwks_url``: key rotation fetched again, at most once a minute;
the last good keys kept while the IdP is down) and its RFC 7662 introspection endpoint
(``introspection_url``, authlib's server side: active, inactive, another audience, another
issuer, the endpoint down = refused), and the 403 ``insufficient_scope`` answer to a valid
token lacking a required scope (MCP authorization spec)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask
from joserfc.jwk import KeySet
from mcp.client.streamable_http import streamable_http_client
from werkzeug.serving import make_server

from mcp import Client
from tests.mcp.test_http import HEADERS, INIT, write_config
from tests.support.http_server import ISSUER, Issuer, free_port, http_server

pytestmark = pytest.mark.anyio

CLIENT_ID = "mailguard-rs"
CLIENT_SECRET = "rs-secret-" + base64.b32encode(b"introspect").decode()


class _Client(ClientMixin):  # type: ignore[misc]
    def get_client_id(self) -> str:
        return CLIENT_ID

    def check_client_secret(self, secret: str) -> bool:
        return secret == CLIENT_SECRET

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"


class _Token:
    def __init__(self, claims: dict[str, Any], *, revoked: bool = False) -> None:
        self.claims = claims
        self.revoked = revoked

    def is_expired(self) -> bool:
        return bool(self.claims["exp"] <= time.time())

    def is_revoked(self) -> bool:
        return self.revoked


class IdentityProvider:
    """A JWKS at ``/jwks`` (the keys of ``keys``; downloads counted) and authlib's RFC 7662
    endpoint at ``/introspect`` (client_secret_basic; opaque tokens of ``tokens``)."""

    def __init__(self) -> None:
        self.keys: list[Any] = []
        self.tokens: dict[str, _Token] = {}
        self.jwks_downloads = 0
        self.introspections = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app = self._build()

    def _build(self) -> Flask:
        outer = self
        app = Flask(__name__)
        server = AuthorizationServer(
            app, query_client=lambda cid: _Client() if cid == CLIENT_ID else None
        )

        class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
            def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
                return outer.tokens.get(token_string)

            def check_permission(self, token: Any, client: Any, request: Any) -> bool:
                return True

            def introspect_token(self, token: _Token) -> dict[str, Any]:
                return {"active": True, "token_type": "Bearer", **token.claims}

        server.register_endpoint(Introspection)

        @app.get("/jwks")
        def jwks() -> Any:
            outer.jwks_downloads += 1
            return KeySet(outer.keys).as_dict(private=False)

        @app.post("/introspect")
        def introspect() -> Any:
            outer.introspections += 1
            return server.create_endpoint_response("introspection")

        return app

    def opaque(self, sub: str, audience: str, *, ttl: int = 300, **claims: Any) -> str:
        token = "opaque-" + base64.b32encode(f"{sub}{len(self.tokens)}".encode()).decode()
        now = int(time.time())
        body = {"iss": ISSUER, "aud": audience, "sub": sub, "exp": now + ttl, "iat": now}
        self.tokens[token] = _Token({**body, **claims})
        return token

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


class Servers:
    def __init__(self, idp: IdentityProvider, jwt_port: int, opaque_port: int) -> None:
        self.idp = idp
        #: the IdP's signing key from the start, and the one it rotates to
        self.first, self.second = Issuer("k1"), Issuer("k2")
        idp.keys = [self.first.key]
        self.jwt_url = f"http://127.0.0.1:{jwt_port}/mcp"
        self.opaque_url = f"http://127.0.0.1:{opaque_port}/mcp"


def _config(root: Path, port: int, auth: str) -> Path:
    path = write_config(root, port)
    text = path.read_text()
    head, _, rest = text.partition("jwks_file = ")
    _, _, tail = rest.partition("\n")
    path.write_text(head + auth.strip() + "\n" + tail)
    return path


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    idp = IdentityProvider()
    idp.start()
    jwt_port, opaque_port = free_port(), free_port()
    jwt_root = tmp_path_factory.mktemp("jwt")
    opaque_root = tmp_path_factory.mktemp("opaque")
    jwt_config = _config(
        jwt_root, jwt_port, f'jwks_url = "{idp.url}/jwks"\nrequired_scopes = ["mail"]'
    )
    opaque_config = _config(
        opaque_root,
        opaque_port,
        f'introspection_url = "{idp.url}/introspect"\nclient_id = "{CLIENT_ID}"',
    )
    env = {
        "MAILGUARD_SERVER_INTROSPECTION_PASSWORD": CLIENT_SECRET,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    try:
        with (
            http_server(jwt_config, jwt_port, stderr=jwt_root / "stderr.log"),
            http_server(opaque_config, opaque_port, env=env, stderr=opaque_root / "stderr.log"),
        ):
            yield Servers(idp, jwt_port, opaque_port)
    finally:
        idp.stop()
    for root in (jwt_root, opaque_root):  # no token, secret or traceback in the server's log
        log = (root / "stderr.log").read_text()
        assert "Traceback" not in log and CLIENT_SECRET not in log and "opaque-" not in log, log


async def _post(url: str, token: str | None) -> httpx2.Response:
    headers = dict(HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(url, json=INIT, headers=headers)


async def _search(url: str, token: str) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        return await client.call_tool("search", {"subject": "Quarterly"})


def _refused(response: httpx2.Response, status: int, error: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and f'error="{error}"' in challenge, challenge
    assert "resource_metadata=" in challenge


async def test_jwks_url_rotation_is_fetched_again_and_bounded(servers: Servers) -> None:
    idp, url = servers.idp, servers.jwt_url
    first, second = servers.first, servers.second
    found = await _search(url, first.token("alice", url, scope="mail"))
    assert found.is_error is not True and found.structured_content["items"]
    assert idp.jwks_downloads == 1
    idp.keys = [first.key, second.key]  # the IdP rotates: a token names the new key
    assert (await _post(url, second.token("alice", url, scope="mail"))).status_code == 200
    assert idp.jwks_downloads == 2
    # a flood of tokens naming keys the IdP never had: refused, and no download each
    bogus = Issuer("bogus")
    for _ in range(15):
        _refused(await _post(url, bogus.token("alice", url, scope="mail")), 401, "invalid_token")
    assert idp.jwks_downloads == 2
    # a forged signature under a known kid is no reason to download either
    _refused(await _post(url, first.token("alice", url, scope="mail", forged=True)), 401,
             "invalid_token")  # fmt: skip
    assert idp.jwks_downloads == 2


async def test_a_token_lacking_the_required_scope_gets_403_insufficient_scope(
    servers: Servers,
) -> None:
    issuer, url = servers.first, servers.jwt_url
    response = await _post(url, issuer.token("alice", url, scope="openid profile"))
    _refused(response, 403, "insufficient_scope")
    assert 'error_description="Required scope: mail"' in response.headers["www-authenticate"]
    _refused(await _post(url, issuer.token("alice", url, scope="mail", ttl=-120)), 401,
             "invalid_token")  # fmt: skip
    assert (await _post(url, issuer.token("alice", url, scope="openid mail"))).status_code == 200


async def test_introspected_tokens_active_inactive_audience_issuer(servers: Servers) -> None:
    idp, url = servers.idp, servers.opaque_url
    good = idp.opaque("alice", url)
    found = await _search(url, good)
    assert found.is_error is not True and found.structured_content["items"]
    before = idp.introspections
    cases = {
        "unknown": "opaque-never-issued",
        "expired": idp.opaque("alice", url, ttl=-120),
        "revoked": idp.opaque("alice", url),
        "audience": idp.opaque("alice", "http://127.0.0.1:1/other"),
        "issuer": idp.opaque("alice", url, iss="http://127.0.0.1:9/evil"),
        "no subject": idp.opaque("", url),
        "unmapped": idp.opaque("mallory", url),
    }
    idp.tokens[cases["revoked"]].revoked = True
    for case, token in cases.items():
        response = await _post(url, token)
        assert response.status_code == 401, case
        _refused(response, 401, "invalid_token")
    assert idp.introspections - before == len(cases)  # each one asked the IdP
    # answers are not cached: a token revoked after use stops working at once
    assert (await _post(url, good)).status_code == 200
    idp.tokens[good].revoked = True
    assert (await _post(url, good)).status_code == 401


async def test_the_idp_down_fails_closed_and_keeps_the_last_jwks(servers: Servers) -> None:
    idp, issuer = servers.idp, servers.first
    active = idp.opaque("alice", servers.opaque_url)
    assert (await _post(servers.opaque_url, active)).status_code == 200
    idp.stop()
    try:
        started = time.monotonic()
        _refused(await _post(servers.opaque_url, active), 401, "invalid_token")
        assert time.monotonic() - started < 10
        # signed tokens under a key already known still verify; a new key cannot be fetched
        jwt_url = servers.jwt_url
        assert (await _post(jwt_url, issuer.token("bob", jwt_url, scope="mail"))).status_code == 200
        _refused(await _post(jwt_url, Issuer("k9").token("bob", jwt_url, scope="mail")), 401,
                 "invalid_token")  # fmt: skip
    finally:
        idp.start()
    assert (await _post(servers.opaque_url, active)).status_code == 200
