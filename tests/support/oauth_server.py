"""A local OAuth 2.0 authorization server for tests: authlib's server side on Flask, served by
werkzeug in a thread on 127.0.0.1 (a free port).

Grants: authorization code with PKCE (S256 required; loopback redirect URIs on any port,
RFC 8252 7.3), refresh token (rotation optional: ``server.rotate``) and the device
authorization grant (RFC 8628). ``POST /introspect`` answers RFC 7662 introspection for
Dovecot's oauth2 passdb (no client authentication; Dovecot posts ``token=``).

Time comes from ``clock`` (a callable giving seconds): tokens expire ``expires_in`` seconds
after issue by that clock, so a test that advances it expires tokens at the server and in
mailguard's cache alike. The control methods (``grant``, ``user_of``, ``revoke_access``,
``revoke_grants``, ``token_requests``, ``rotate``, ``expires_in``, ``reachable``) are those of
:class:`mailguard_core.adapters.memory_tokens.InMemoryIssuer`, so one contract suite drives
both.

Every token and secret this server issues is recorded in ``issued_secrets`` (tests check that
none of them shows up in a log, an audit record, an error or a result).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # http:// on loopback (server side)

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialDict,
)
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines on stderr

__all__ = ["CLIENT_ID", "SCOPE", "LocalAuthorizationServer", "oauth_server"]

CLIENT_ID = "mailguard-test-client"
#: a confidential client (client_secret_post), like Google's installed-app clients
SECRET_CLIENT_ID = "mailguard-secret-client"
SECRET_CLIENT_SECRET = "test-client-secret-" + generate_token(12)
SCOPE = "mail offline_access"


@attrs.define
class _Token:
    access_token: str
    refresh_token: str | None
    client_id: str
    user: str
    scope: str
    expires_at: float
    revoked: bool = False


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, client_id: str, secret: str | None) -> None:
        self.client_id = client_id
        self.secret = secret

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(SCOPE.split())
        return " ".join(s for s in (scope or SCOPE).split() if s in allowed)

    def check_redirect_uri(self, uri: str) -> bool:
        u = urllib.parse.urlsplit(uri)
        return u.scheme == "http" and u.hostname in ("127.0.0.1", "::1", "localhost")

    def check_client_secret(self, secret: str) -> bool:
        return self.secret is not None and secret == self.secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.secret is None:
            return method == "none"
        return method == "client_secret_post"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        )


class _TokenView(TokenMixin):  # type: ignore[misc]
    def __init__(self, token: _Token) -> None:
        self.token = token

    def check_client(self, client: _Client) -> bool:
        return client.get_client_id() == self.token.client_id

    def get_scope(self) -> str:
        return self.token.scope

    def get_expires_in(self) -> int:
        return 0

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.token.revoked

    def get_user(self) -> str:
        return self.token.user

    def get_client(self) -> _Client:
        raise NotImplementedError


class _S256Required(CodeChallenge):  # type: ignore[misc]
    """``CodeChallenge(required=True)`` alone still issues codes without a challenge."""

    def validate_code_challenge(self, grant: Any, redirect_uri: Any = None) -> None:
        if grant.request.payload.data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
        super().validate_code_challenge(grant, redirect_uri)


class LocalAuthorizationServer:
    """See the module docstring. Start with :meth:`start`, stop with :meth:`stop`."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        expires_in: float = 3600.0,
        rotate: bool = False,
        user: str = "alice",
    ) -> None:
        self.clock = clock
        self.expires_in = expires_in
        self.rotate = rotate
        #: the user the authorization endpoint signs in (auto-approve)
        self.user = user
        self.reachable = True  # kept for the shared control interface (tests stop() instead)
        self.token_requests = 0
        #: introspection requests (Dovecot's)
        self.introspections = 0
        self.issued_secrets: list[str] = [SECRET_CLIENT_SECRET]
        self.clients = {
            CLIENT_ID: _Client(CLIENT_ID, None),
            SECRET_CLIENT_ID: _Client(SECRET_CLIENT_ID, SECRET_CLIENT_SECRET),
        }
        self._lock = threading.RLock()
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self._device: dict[str, DeviceCredentialDict] = {}
        self._device_grants: dict[str, tuple[str, bool]] = {}
        #: authorization requests received (their query parameters)
        self.authorization_requests: list[dict[str, str]] = []
        self.app = self._build_app()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ------------------------------------------------------------------ control interface
    def grant(self, user: str, *, client_id: str = CLIENT_ID) -> str:
        """A new grant for ``user`` as if ``login`` had run; returns its refresh token."""
        refresh = generate_token(32)
        with self._lock:
            token = _Token(
                access_token="",
                refresh_token=refresh,
                client_id=client_id,
                user=user,
                scope=SCOPE,
                expires_at=0.0,
            )
            self._refresh[refresh] = token
            self.issued_secrets.append(refresh)
        return refresh

    def user_of(self, access_token: str) -> str | None:
        with self._lock:
            token = self._access.get(access_token)
            if token is None or token.revoked or self.clock() >= token.expires_at:
                return None
            return token.user

    def revoke_access(self, access_token: str) -> None:
        with self._lock:
            token = self._access.get(access_token)
            if token is not None:
                token.revoked = True

    def revoke_grants(self) -> None:
        """Revoke every refresh and access token (the user withdrew consent)."""
        with self._lock:
            for token in [*self._access.values(), *self._refresh.values()]:
                token.revoked = True

    def refresh_token_valid(self, refresh_token: str) -> bool:
        with self._lock:
            token = self._refresh.get(refresh_token)
            return token is not None and not token.revoked

    # ------------------------------------------------------------------ authlib server
    def _save_token(self, token: dict[str, Any], req: Any) -> None:
        with self._lock:
            record = _Token(
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                client_id=req.client.get_client_id(),
                user=req.user,
                scope=token.get("scope", SCOPE),
                expires_at=self.clock() + float(token["expires_in"]),
            )
            self._access[record.access_token] = record
            self.issued_secrets.append(record.access_token)
            if record.refresh_token:
                self._refresh[record.refresh_token] = record
                self.issued_secrets.append(record.refresh_token)

    def _build_app(self) -> Flask:
        outer = self
        app = Flask(__name__)
        app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
        server = AuthorizationServer(
            app, query_client=self.clients.get, save_token=self._save_token
        )
        server.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **kw: generate_token(40),
                lambda **kw: generate_token(48),
                lambda client, grant_type: int(outer.expires_in),
            ),
        )

        class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ("none", "client_secret_post")

            def save_authorization_code(self, code: str, req: Any) -> None:
                outer._codes[code] = {
                    "code": code,
                    "client_id": req.client.get_client_id(),
                    "user": req.user,
                    "redirect_uri": req.payload.redirect_uri,
                    "scope": req.payload.scope,
                    "code_challenge": req.payload.data.get("code_challenge"),
                    "code_challenge_method": req.payload.data.get("code_challenge_method"),
                }

            def query_authorization_code(self, code: str, client: _Client) -> Any:
                item = outer._codes.get(code)
                if item is None or item["client_id"] != client.get_client_id():
                    return None
                return _AuthCode(item)

            def delete_authorization_code(self, code: Any) -> None:
                outer._codes.pop(code.item["code"], None)

            def authenticate_user(self, code: Any) -> str:
                return str(code.item["user"])

        class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ("none", "client_secret_post")

            @property
            def INCLUDE_NEW_REFRESH_TOKEN(self) -> bool:
                return outer.rotate

            def authenticate_refresh_token(self, refresh_token: str) -> Any:
                with outer._lock:
                    token = outer._refresh.get(refresh_token)
                    if token is None or token.revoked:
                        return None
                    return _TokenView(token)

            def authenticate_user(self, credential: Any) -> str:
                return str(credential.token.user)

            def revoke_old_credential(self, credential: Any) -> None:
                if not outer.rotate:
                    return
                with outer._lock:
                    credential.token.revoked = True  # rotation: the old one stops working
                    outer._refresh.pop(credential.token.refresh_token or "", None)

        class DeviceGrant(DeviceCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ("none", "client_secret_post")

            def query_device_credential(self, device_code: str) -> Any:
                return outer._device.get(device_code)

            def query_user_grant(self, user_code: str) -> Any:
                return outer._device_grants.get(user_code)

            def should_slow_down(self, credential: Any) -> bool:
                return False

        class DeviceEndpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
            CLIENT_AUTH_METHODS = ("none", "client_secret_post")
            INTERVAL = 1

            def get_verification_uri(self) -> str:
                return outer.url + "/device"

            def save_device_credential(self, client_id: str, scope: str, data: Any) -> None:
                outer._device[data["device_code"]] = DeviceCredentialDict(
                    client_id=client_id,
                    scope=scope,
                    expires_at=time.time() + data["expires_in"],
                    **data,
                )

        server.register_grant(CodeGrant, [_S256Required(required=True)])
        server.register_grant(RefreshGrant)
        server.register_grant(DeviceGrant)
        server.register_endpoint(DeviceEndpoint)

        @app.get("/authorize")
        def authorize() -> Any:
            outer.authorization_requests.append(dict(request.args))
            try:
                grant = server.get_consent_grant(end_user=outer.user)
            except OAuth2Error as exc:
                return server.handle_error_response(None, exc)
            return server.create_authorization_response(grant_user=outer.user, grant=grant)

        @app.post("/token")
        def token() -> Any:
            with outer._lock:
                outer.token_requests += 1
            return server.create_token_response()

        @app.post("/device_authorization")
        def device_authorization() -> Any:
            return server.create_endpoint_response("device_authorization")

        @app.get("/device")
        def device() -> Any:
            outer._device_grants[request.args["user_code"]] = (outer.user, True)
            return "approved"

        @app.post("/introspect")
        def introspect() -> Any:
            with outer._lock:
                outer.introspections += 1
            user = outer.user_of(request.form.get("token", ""))
            if user is None:
                return jsonify({"active": False})
            return jsonify({"active": True, "username": user, "scope": SCOPE})

        return app

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalAuthorizationServer:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def oauth_table(self, *, client_id: str = CLIENT_ID, device: bool = True) -> dict[str, Any]:
        """An ``[accounts.oauth]`` table (provider ``custom``) pointing at this server."""
        table: dict[str, Any] = {
            "provider": "custom",
            "client_id": client_id,
            "authorization_url": self.url + "/authorize",
            "token_url": self.url + "/token",
            "scopes": SCOPE.split(),
        }
        if device:
            table["device_authorization_url"] = self.url + "/device_authorization"
        return table


class _AuthCode:
    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item

    def get_redirect_uri(self) -> str:
        return str(self.item["redirect_uri"])

    def get_scope(self) -> str:
        return str(self.item["scope"] or "")

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> None:
        return None

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:  # code_challenge, code_challenge_method
        try:
            return self.item[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def oauth_server() -> Iterator[LocalAuthorizationServer]:
    """A running local authorization server (real clock, tokens valid for an hour)."""
    server = LocalAuthorizationServer().start()
    try:
        yield server
    finally:
        server.stop()
