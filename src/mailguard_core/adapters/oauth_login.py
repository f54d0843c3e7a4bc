"""Interactive OAuth2 sign-in for ``mailguard-mcp login``: the authorization code grant with
PKCE and a loopback redirect (RFC 8252), and the device authorization grant (RFC 8628).

Both end with a token response whose refresh token the caller stores. authlib builds the
authorization URL (state, S256 code challenge), checks the returned state and makes every
token request; what it has no client helper for (the loopback listener, the device
authorization request and the polling loop around authlib's ``fetch_token``) is here.
Everything is bounded: the listener and the polling stop at their deadline.

What the provider sends back is untrusted: the verification URI and user code of the
device grant are shown only when they have a safe shape, and its error descriptions are
never shown (only RFC 6749 error codes of a known shape).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TextIO

from mailguard_core.adapters.oauth_tokens import (
    HTTP_TIMEOUT,
    IssuedToken,
    issued_from,
    oauth_session,
)
from mailguard_core.config import OAuthSettings, oauth_endpoints
from mailguard_core.model.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    OperationTimeout,
    ProtocolError,
)
from mailguard_core.ports.secrets import Secret

__all__ = ["authorization_code_login", "device_login"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: the longest a login waits for the browser or for the device code's approval
MAX_WAIT = 900.0
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
_USER_CODE = re.compile(r"[A-Za-z0-9-]{4,32}")
_DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>mailguard</title>"
    b"<p>mailguard: sign-in finished. You can close this window.</p>"
)


def _code(value: object) -> str:
    return value if isinstance(value, str) and _ERROR_CODE.fullmatch(value) else "unknown"


@contextlib.contextmanager
def _flow_errors(what: str) -> Iterator[None]:
    """authlib and requests errors of a login flow -> mailguard errors (codes only)."""
    import requests
    from authlib.common.errors import AuthlibBaseError

    try:
        yield
    except AuthlibBaseError as exc:
        code = _code(getattr(exc, "error", None))
        raise AuthenticationFailed(
            f"{what}: {code}", public=f"the sign-in failed at the OAuth provider ({code})"
        ) from None
    except requests.Timeout:
        raise OperationTimeout(f"{what}: the OAuth provider did not answer in time") from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        raise ConnectionFailed(
            f"{what}: HTTP {status}", public="the OAuth provider is unavailable"
        ) from None
    except (requests.ConnectionError, OSError) as exc:
        raise ConnectionFailed(
            f"{what}: {type(exc).__name__}", public="could not reach the OAuth provider"
        ) from None
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"{what}: unusable answer ({type(exc).__name__})") from None


def _safe_url(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 2000:
        return None
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        return None
    if any(c.isspace() or not c.isprintable() or not c.isascii() for c in value):
        return None
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "https" or (parts.scheme == "http" and loopback):
        return value
    return None


# ---------------------------------------------------------------- loopback redirect
class _Callback:
    """What the loopback listener received: the first request to the redirect path."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.done = threading.Event()


def _listener(callback: _Callback) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if path != "/" or callback.done.is_set():
                self.send_error(404)
                return
            callback.url = self.path
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(_DONE_PAGE)))
            self.end_headers()
            self.wfile.write(_DONE_PAGE)
            callback.done.set()

        def log_message(self, *args: object) -> None:  # the query holds the code: no log
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 0.2
    return server


def authorization_code_login(
    oauth: OAuthSettings,
    client_secret: Secret | None,
    *,
    open_browser: Callable[[str], object],
    out: TextIO,
    timeout: float = 300.0,
) -> IssuedToken:
    """Sign in with the authorization code grant, PKCE (S256) and a loopback redirect.

    Prints the authorization URL, calls ``open_browser`` with it, waits (at most ``timeout``
    seconds) for the provider's redirect to ``http://127.0.0.1:PORT`` (``localhost`` for
    Microsoft), then exchanges the code.

    Raises:
        AuthenticationFailed: the provider or the user refused, or the state did not match.
        OperationTimeout: no redirect arrived in time.
        ConnectionFailed, ProtocolError: the token endpoint failed.
    """
    from authlib.common.security import generate_token

    endpoints = oauth_endpoints(oauth)
    callback = _Callback()
    server = _listener(callback)
    port = server.server_address[1]
    redirect_uri = f"http://{endpoints.loopback_host}:{port}"
    thread = threading.Thread(target=_serve_until, args=(server, callback, timeout), daemon=True)
    thread.start()
    session: Any = oauth_session(
        oauth,
        client_secret,
        timeout=HTTP_TIMEOUT,
        scope=" ".join(endpoints.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    try:
        verifier = generate_token(64)
        url, state = session.create_authorization_url(
            endpoints.authorization_url, code_verifier=verifier, **endpoints.authorization_params
        )
        print(
            "Sign in in your browser. If it does not open, open this address:\n\n"
            f"  {url}\n\nWaiting for the sign-in (up to {int(timeout)} s)...",
            file=out,
            flush=True,
        )
        with contextlib.suppress(Exception):  # no browser: the printed URL still works
            open_browser(url)
        if not callback.done.wait(timeout) or callback.url is None:
            raise OperationTimeout(
                "login: no redirect reached the loopback listener",
                public=f"the sign-in did not finish within {int(timeout)} s; run login again",
            )
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(callback.url).query)
        if "error" in query:
            code = _code(query["error"][0])
            raise AuthenticationFailed(
                f"login: the authorization endpoint answered {code}",
                public=f"the sign-in was not completed ({code})",
            )
        if query.get("state", [None])[0] != state:
            raise AuthenticationFailed(
                "login: the redirect carried the wrong state (another page called it?)",
                public="the sign-in answer did not match this login (state); run login again",
            )
        with _flow_errors("login token request"):
            token = session.fetch_token(
                endpoints.token_url,
                authorization_response=redirect_uri + callback.url,
                code_verifier=verifier,
                state=state,
            )
            return issued_from(dict(token))
    finally:
        callback.done.set()
        thread.join(timeout=5)
        server.server_close()
        session.close()


def _serve_until(server: HTTPServer, callback: _Callback, timeout: float) -> None:
    deadline = time.monotonic() + min(timeout, MAX_WAIT) + 1
    while not callback.done.is_set() and time.monotonic() < deadline:
        server.handle_request()  # returns after server.timeout without a request


# ---------------------------------------------------------------- device grant
def device_login(
    oauth: OAuthSettings,
    client_secret: Secret | None,
    *,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = MAX_WAIT,
) -> IssuedToken:
    """Sign in with the device authorization grant: print where to enter which code, then
    poll the token endpoint (authlib's ``fetch_token``) at the provider's interval until
    the user approved, declined, or the code expired (at most ``timeout`` seconds).

    Raises:
        ConfigError: the provider has no device authorization endpoint.
        AuthenticationFailed: declined, expired, or refused.
        OperationTimeout: not approved in time.
        ConnectionFailed, ProtocolError: the provider failed.
    """
    endpoints = oauth_endpoints(oauth)
    if endpoints.device_authorization_url is None:
        raise ConfigError(
            f"provider {oauth.provider!r} has no device authorization endpoint",
            public=f"provider {oauth.provider!r} offers no device sign-in for mail; run "
            "login without --device (on a machine with a browser)",
        )
    session: Any = oauth_session(
        oauth, client_secret, timeout=HTTP_TIMEOUT, scope=" ".join(endpoints.scopes)
    )
    try:
        form = {"client_id": oauth.client_id, "scope": " ".join(endpoints.scopes)}
        if client_secret is not None:
            form["client_secret"] = client_secret.reveal()
        with _flow_errors("device authorization request"):
            response = session.post(
                endpoints.device_authorization_url, data=form, withhold_token=True
            )
            response.raise_for_status()
            grant = response.json()
            if not isinstance(grant, dict):
                raise ValueError("not an object")
            device_code = grant["device_code"]
            if not isinstance(device_code, str) or not device_code:
                raise ValueError("no device_code")
        user_code = grant.get("user_code")
        uri = _safe_url(grant.get("verification_uri") or grant.get("verification_url"))
        if not isinstance(user_code, str) or not _USER_CODE.fullmatch(user_code) or uri is None:
            raise ProtocolError("device authorization: no usable user_code / verification_uri")
        complete = _safe_url(grant.get("verification_uri_complete"))
        interval = _number(grant.get("interval"), 5.0, 1.0, 60.0)
        expires = _number(grant.get("expires_in"), 600.0, 1.0, MAX_WAIT)
        print(
            f"To sign in, open {uri} on any device and enter the code\n\n  {user_code}\n",
            file=out,
            flush=True,
        )
        if complete:
            print(f"(or open {complete} directly)\n", file=out, flush=True)
        print("Waiting for the approval...", file=out, flush=True)
        deadline = clock() + min(expires, timeout)
        for _ in range(int(MAX_WAIT) + 1):  # bounded: at least one second per round
            if clock() >= deadline:
                break
            sleep(interval)
            try:
                with _flow_errors("device token request"):
                    token = session.fetch_token(
                        endpoints.token_url, grant_type=DEVICE_GRANT, device_code=device_code
                    )
                    return issued_from(dict(token))
            except AuthenticationFailed as exc:
                code = str(exc).rpartition(": ")[2]
                if code == "authorization_pending":
                    continue
                if code == "slow_down":
                    interval = min(interval + 5.0, 60.0)
                    continue
                if code == "access_denied":
                    raise AuthenticationFailed(
                        "device login declined", public="the sign-in was declined"
                    ) from None
                if code == "expired_token":
                    break
                raise
        raise OperationTimeout(
            "device login: the code was not approved in time",
            public="the code expired before the sign-in was approved; run login again",
        )
    finally:
        session.close()


def _number(value: object, default: float, low: float, high: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(max(float(value), low), high)
    return default
