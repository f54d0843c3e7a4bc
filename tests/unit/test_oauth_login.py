"""``mailguard-mcp login`` for OAuth2 accounts, end to end against the local authlib
authorization server: the authorization code grant with PKCE and a loopback redirect (the
test plays the browser) and the device grant (the test approves the code). The stored
refresh token then signs in for real; nothing secret is printed."""

from __future__ import annotations

import io
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from mailguard_core.adapters.memory_secrets import InMemorySecretStore
from mailguard_core.adapters.oauth_tokens import AuthlibTokenProvider
from mailguard_core.config import load_config
from mailguard_core.model.errors import SecretUnavailable
from mailguard_mcp import login_cli
from tests.support.oauth_server import (
    SECRET_CLIENT_ID,
    SECRET_CLIENT_SECRET,
    LocalAuthorizationServer,
)

USER = "dave"


@pytest.fixture
def server() -> Iterator[LocalAuthorizationServer]:
    server = LocalAuthorizationServer(user=USER).start()
    try:
        yield server
    finally:
        server.stop()


def _config(tmp_path: Path, server: LocalAuthorizationServer, **overrides: str) -> str:
    table = {**server.oauth_table(), **overrides}
    scopes = ", ".join(f'"{s}"' for s in table["scopes"])
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[[accounts]]
name = "cloud"
address = "{USER}@example.org"
[accounts.imap]
host = "127.0.0.1"
username = "{USER}"
auth = "oauth2"
[accounts.oauth]
provider = "custom"
client_id = "{table["client_id"]}"
authorization_url = "{table["authorization_url"]}"
token_url = "{table["token_url"]}"
device_authorization_url = "{table["device_authorization_url"]}"
scopes = [{scopes}]
"""
    )
    return str(path)


def _browser(visits: list[str]) -> Callable[[str], object]:
    """A browser that follows the authorization server's redirect to the loopback listener."""

    def browse(url: str) -> None:
        visits.append(url)
        visits.append(requests.get(url, timeout=10).url)

    def open_url(url: str) -> object:
        # in its own thread, so that its HTTP log lines (the code is in the redirect URL a
        # browser follows) are told apart from mailguard's
        thread = threading.Thread(target=browse, args=(url,), name="test-browser")
        thread.start()
        thread.join(20)
        return None

    return open_url


def _run(
    argv: list[str],
    store: InMemorySecretStore,
    *,
    browser: Callable[[str], object] | None = None,
    sleep: Callable[[float], None] | None = None,
    stdin: str | None = None,
    prompt: Callable[[str], str] | None = None,
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def no_prompt(text: str) -> str:
        raise AssertionError(f"unexpected prompt {text!r}")

    code = login_cli.main(
        argv,
        store=store,
        out=out,
        err=err,
        stdin=io.StringIO(stdin) if stdin is not None else None,
        prompt=prompt or no_prompt,
        open_browser=browser or (lambda url: None),
        sleep=sleep or (lambda seconds: None),
    )
    return code, out.getvalue(), err.getvalue()


def _client_log(caplog: pytest.LogCaptureFixture) -> str:
    """Every log record of this process except the test authorization server's own (its
    request threads: authlib's server side logs the tokens it issues at DEBUG) and the test
    browser's."""
    records = [
        r
        for r in caplog.records
        if "process_request_thread" not in r.threadName and r.threadName != "test-browser"
    ]
    assert records  # urllib3 and authlib's client side did log (at DEBUG)
    return "\n".join(f"{r.name} {r.getMessage()}" for r in records)


def _signs_in(config: str, store: InMemorySecretStore, server: LocalAuthorizationServer) -> None:
    """The stored refresh token yields an access token the server accepts for the user."""
    account = load_config(config).account("cloud")
    assert account.oauth is not None
    provider = AuthlibTokenProvider("cloud", account.oauth, store, timeout=5)
    assert server.user_of(provider.access_token().reveal()) == USER


def test_the_browser_flow_uses_pkce_and_a_loopback_redirect_and_stores_the_refresh_token(
    tmp_path: Path, server: LocalAuthorizationServer, caplog: pytest.LogCaptureFixture
) -> None:
    """S256 challenge, http://127.0.0.1:PORT redirect, state checked, refresh token stored;
    no token or code in the output or in any log record (DEBUG)."""
    config = _config(tmp_path, server)
    store = InMemorySecretStore()
    visits: list[str] = []
    with caplog.at_level(logging.DEBUG):
        code, out, err = _run(["cloud", "--config", config], store, browser=_browser(visits))
    assert code == 0, err
    [request] = server.authorization_requests
    assert request["code_challenge_method"] == "S256" and len(request["code_challenge"]) == 43
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", request["redirect_uri"])
    assert request["scope"] == "mail offline_access" and request["state"]
    assert visits[1].startswith(request["redirect_uri"])  # the browser landed on the listener
    refresh = store.get("cloud:oauth").reveal()
    assert server.refresh_token_valid(refresh)
    assert "Stored the OAuth refresh token of cloud" in out
    callback = urllib.parse.parse_qs(urllib.parse.urlsplit(visits[1]).query)
    authorization_code = callback["code"][0]
    for value in [*server.issued_secrets, authorization_code]:
        assert value not in out + err + _client_log(caplog)
    _signs_in(config, store, server)


def test_a_redirect_with_a_forged_state_stores_nothing(
    tmp_path: Path, server: LocalAuthorizationServer
) -> None:
    """Another page calling the listener with its own code is refused (CSRF, RFC 6749 10.12)."""
    config = _config(tmp_path, server)
    store = InMemorySecretStore()

    def attacker(url: str) -> object:
        redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0]
        return requests.get(redirect + "/?code=stolen&state=forged", timeout=10)

    code, _out, err = _run(["cloud", "--config", config], store, browser=attacker)
    assert code == 1
    assert "did not match this login (state)" in err
    with pytest.raises(SecretUnavailable):
        store.get("cloud:oauth")
    assert server.token_requests == 0


def test_a_declined_consent_and_a_browser_that_never_returns_fail_cleanly(
    tmp_path: Path, server: LocalAuthorizationServer
) -> None:
    """error=access_denied is named; no redirect at all times out; nothing is stored."""
    config = _config(tmp_path, server)
    store = InMemorySecretStore()

    def declines(url: str) -> object:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        target = f"{query['redirect_uri'][0]}/?error=access_denied&state={query['state'][0]}"
        return requests.get(target, timeout=10)

    code, _out, err = _run(["cloud", "--config", config], store, browser=declines)
    assert code == 1 and "(access_denied)" in err
    code, _out, err = _run(["cloud", "--config", config, "--no-browser", "--timeout", "0.5"], store)
    assert code == 1 and "did not finish within" in err
    with pytest.raises(SecretUnavailable):
        store.get("cloud:oauth")


def test_the_device_flow_waits_for_the_approval_then_stores_the_refresh_token(
    tmp_path: Path, server: LocalAuthorizationServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The printed code is pending until the test, as the user, approves it."""
    config = _config(tmp_path, server)
    store = InMemorySecretStore()
    out = io.StringIO()
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:  # one authorization_pending answer first, then approve
            code = re.search(r"enter the code\s+(\S+)", out.getvalue())
            assert code is not None
            requests.get(f"{server.url}/device", params={"user_code": code[1]}, timeout=10)

    err = io.StringIO()
    with caplog.at_level(logging.DEBUG):
        status = login_cli.main(
            ["cloud", "--config", config, "--device"],
            store=store,
            out=out,
            err=err,
            prompt=lambda text: "",
            sleep=sleep,
        )
    assert status == 0, err.getvalue()
    assert len(polls) == 2 and polls[0] == 1.0  # the server's interval
    assert f"{server.url}/device" in out.getvalue()
    assert server.token_requests == 2  # pending, then the tokens
    for value in server.issued_secrets:
        assert value not in out.getvalue() + err.getvalue() + _client_log(caplog)
    _signs_in(config, store, server)


def test_the_device_flow_gives_up_when_nobody_approves(
    tmp_path: Path, server: LocalAuthorizationServer
) -> None:
    """Bounded: after the code's lifetime the login fails and nothing is stored."""
    config = _config(tmp_path, server)
    store = InMemorySecretStore()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += 60.0

    import mailguard_core.app.commands as flows  # where login_cli gets it

    original = flows.device_login

    def device_login(*args: object, **kwargs: object) -> object:
        return original(*args, clock=lambda: now[0], **kwargs)  # type: ignore[arg-type]

    flows.device_login = device_login  # type: ignore[assignment]
    try:
        code, _out, err = _run(["cloud", "--config", config, "--device"], store, sleep=sleep)
    finally:
        flows.device_login = original
    assert code == 1 and "expired before the sign-in was approved" in err
    # the code lives 1800 s (authlib's default), capped at MAX_WAIT = 900 s: 15 polls, 60 s apart
    assert server.token_requests == 15
    with pytest.raises(SecretUnavailable):
        store.get("cloud:oauth")


def test_a_confidential_client_stores_its_secret_and_uses_it(
    tmp_path: Path, server: LocalAuthorizationServer
) -> None:
    """--client-secret-stdin stores the secret as cloud:oauth-client; the flow sends it."""
    config = _config(tmp_path, server, client_id=SECRET_CLIENT_ID)
    store = InMemorySecretStore()
    code, out, err = _run(
        ["cloud", "--config", config, "--client-secret-stdin"],
        store,
        browser=_browser([]),
        stdin=SECRET_CLIENT_SECRET + "\n",
    )
    assert code == 0, err
    assert store.get("cloud:oauth-client").reveal() == SECRET_CLIENT_SECRET
    assert SECRET_CLIENT_SECRET not in out + err
    _signs_in(config, store, server)


def test_google_has_no_device_sign_in_and_says_so(tmp_path: Path) -> None:
    """Google does not allow the mail scope on its device grant: a clear refusal, exit 2."""
    path = tmp_path / "config.toml"
    path.write_text(
        """
[[accounts]]
name = "gmail"
address = "me@gmail.com"
[accounts.imap]
username = "me@gmail.com"
auth = "oauth2"
[accounts.oauth]
provider = "google"
client_id = "x.apps.googleusercontent.com"
"""
    )
    store = InMemorySecretStore({"gmail:oauth-client": "s"})
    code, _out, err = _run(["gmail", "--config", str(path), "--device"], store)
    assert code == 2 and "no device authorization endpoint" in err


def test_delete_removes_the_oauth_entries(tmp_path: Path, server: LocalAuthorizationServer) -> None:
    """--delete forgets the refresh token and the client secret."""
    config = _config(tmp_path, server)
    store = InMemorySecretStore({"cloud:oauth": "r", "cloud:oauth-client": "s"})
    code, _out, _err = _run(["cloud", "--config", config, "--delete"], store)
    assert code == 0
    for entry in ("cloud:oauth", "cloud:oauth-client"):
        with pytest.raises(SecretUnavailable):
            store.get(entry)


def test_without_a_writable_keyring_the_login_says_how_to_use_the_environment(
    tmp_path: Path, server: LocalAuthorizationServer
) -> None:
    """The sign-in works but nothing can store the token: exit 1, the refresh-token variable
    named, the token itself never printed."""
    from mailguard_core.adapters.keyring_secrets import EnvSecretStore

    config = _config(tmp_path, server)
    out, err = io.StringIO(), io.StringIO()
    code = login_cli.main(
        ["cloud", "--config", config],
        store=EnvSecretStore({}),
        out=out,
        err=err,
        prompt=lambda text: "",
        open_browser=_browser([]),
    )
    assert code == 1
    assert "MAILGUARD_CLOUD_REFRESH_TOKEN" in err.getvalue()
    assert "python -m keyring get mailguard cloud:oauth" in err.getvalue()
    for value in server.issued_secrets:
        assert value not in out.getvalue() + err.getvalue()
