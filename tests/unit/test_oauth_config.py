"""``[accounts.oauth]`` and ``auth = "oauth2"``: presets, validation, secret entry names."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailguard_core.adapters.keyring_secrets import env_var_name
from mailguard_core.config import ConfigValidationError, oauth_endpoints, parse_config
from mailguard_core.model.oauth import (
    PRESETS,
    client_secret_entry,
    oauth_mechanism,
    refresh_token_entry,
)


def _account(**extra: Any) -> dict[str, Any]:
    return {"name": "work", "address": "me@example.org", **extra}


def _problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigValidationError) as info:
        parse_config(document)
    return list(info.value.problems)


def test_a_microsoft_account_needs_only_usernames_the_preset_fills_in_the_servers() -> None:
    """provider = microsoft: Exchange Online's IMAP and SMTP hosts, ports and TLS modes."""
    config = parse_config(
        {
            "accounts": [
                _account(
                    posture="full",
                    imap={"username": "me@example.org", "auth": "oauth2"},
                    smtp={"username": "me@example.org", "auth": "oauth2"},
                    oauth={
                        "provider": "microsoft",
                        "client_id": "abc-123",
                        "tenant": "contoso.com",
                    },
                )
            ]
        }
    )
    account = config.accounts[0]
    assert account.imap is not None and account.smtp is not None and account.oauth is not None
    assert (account.imap.host, account.imap.port, account.imap.tls) == (
        "outlook.office365.com", 993, "implicit",
    )  # fmt: skip
    assert (account.smtp.host, account.smtp.port, account.smtp.tls) == (
        "smtp.office365.com", 587, "starttls",
    )  # fmt: skip
    endpoints = oauth_endpoints(account.oauth)
    assert endpoints.token_url == "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
    assert "offline_access" in endpoints.scopes
    assert endpoints.device_authorization_url is not None
    assert account.uses_oauth


def test_a_google_account_gets_gmail_servers_and_offline_access_but_no_device_grant() -> None:
    """Google: the full-mail scope, access_type=offline, implicit TLS on 993 and 465."""
    config = parse_config(
        {
            "accounts": [
                _account(
                    imap={"username": "me@gmail.com", "auth": "oauth2"},
                    oauth={"provider": "google", "client_id": "x.apps.googleusercontent.com"},
                )
            ]
        }
    )
    account = config.accounts[0]
    assert account.imap is not None and account.oauth is not None
    assert (account.imap.host, account.imap.port) == ("imap.gmail.com", 993)
    endpoints = oauth_endpoints(account.oauth)
    assert endpoints.scopes == ("https://mail.google.com/",)
    assert endpoints.authorization_params["access_type"] == "offline"
    assert endpoints.device_authorization_url is None


def test_keys_the_account_sets_win_over_the_preset() -> None:
    """An explicit host (a proxy, a national cloud) is kept; the preset does not overwrite."""
    config = parse_config(
        {
            "accounts": [
                _account(
                    imap={
                        "host": "imap.example.net", "port": 1993, "username": "u",
                        "auth": "oauth2",
                    },
                    oauth={"provider": "microsoft", "client_id": "abc"},
                )
            ]
        }
    )  # fmt: skip
    imap = config.accounts[0].imap
    assert imap is not None and (imap.host, imap.port, imap.tls) == (
        "imap.example.net",
        1993,
        "implicit",
    )


def test_password_is_the_default_and_needs_no_oauth_table() -> None:
    """Existing configurations are unchanged: auth defaults to password."""
    config = parse_config({"accounts": [_account(imap={"host": "h", "username": "u"})]})
    imap = config.accounts[0].imap
    assert imap is not None and imap.auth == "password"
    assert not config.accounts[0].uses_oauth and config.accounts[0].oauth is None


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (
            _account(imap={"host": "h", "username": "u", "auth": "oauth2"}),
            "accounts[0]: auth = 'oauth2' needs an [accounts.oauth] table (the provider)",
        ),
        (
            _account(
                imap={"host": "h", "username": "u"},
                oauth={"provider": "google", "client_id": "c"},
            ),
            "accounts[0].oauth: set, but neither [imap] nor [smtp] has auth = 'oauth2'",
        ),
        (
            _account(imap={"host": "h", "username": "u", "auth": "token"}),
            "accounts[0].imap.auth: must be one of: 'password', 'oauth2'",
        ),
        (
            _account(
                imap={"host": "h", "username": "u", "auth": "oauth2"},
                oauth={"provider": "yahoo", "client_id": "c"},
            ),
            "accounts[0].oauth.provider: must be one of: 'microsoft', 'google', 'custom'",
        ),
        (
            _account(
                imap={"host": "h", "username": "u", "auth": "oauth2"},
                oauth={"provider": "google", "client_id": "c", "tenant": "common"},
            ),
            "accounts[0].oauth.tenant: only for provider 'microsoft'",
        ),
        (
            _account(
                imap={"username": "u", "auth": "oauth2"},
                oauth={"provider": "microsoft", "client_id": "c", "tenant": "../evil"},
            ),
            "accounts[0].oauth.tenant: must be a tenant id or domain (letters, digits, - .)",
        ),
        (
            _account(
                imap={"username": "u", "auth": "oauth2"},
                oauth={"provider": "microsoft", "client_id": "has space"},
            ),
            "accounts[0].oauth.client_id: must be a non-empty client id (printable ASCII, "
            "no spaces)",
        ),
        (
            _account(
                imap={"username": "u", "auth": "oauth2"},
                oauth={
                    "provider": "microsoft", "client_id": "c",
                    "token_url": "https://evil.example/token",
                },
            ),
            "accounts[0].oauth.token_url: only for provider 'custom' (the preset sets it)",
        ),
        (
            _account(
                imap={"host": "h", "username": "u", "auth": "oauth2"},
                oauth={"provider": "custom", "client_id": "c"},
            ),
            "accounts[0].oauth.token_url: required with provider 'custom'",
        ),
        (
            _account(
                imap={"host": "h", "username": "u", "auth": "oauth2"},
                oauth={
                    "provider": "custom", "client_id": "c",
                    "authorization_url": "https://id.example/auth",
                    "token_url": "http://id.example/token", "scopes": ["mail"],
                },
            ),
            "accounts[0].oauth.token_url: must be an https:// URL (http:// only on 127.0.0.1 "
            "or localhost)",
        ),
        (
            _account(
                imap={"host": "h", "username": "u", "auth": "oauth2"},
                oauth={
                    "provider": "custom", "client_id": "c",
                    "authorization_url": "https://id.example/auth",
                    "token_url": "https://id.example/token",
                },
            ),
            "accounts[0].oauth.scopes: required with provider 'custom' (at least one scope)",
        ),
    ],
)  # fmt: skip
def test_invalid_oauth_settings_are_reported_at_their_key(
    account: dict[str, Any], expected: str
) -> None:
    """Each mistake names its key path, like every other configuration problem."""
    assert expected in _problems({"accounts": [account]})


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://",
        "https://id.example/a b",
        "https://id.example/\u0430uth",
        "https://id.example/token#frag",
        "ftp://id.example/token",
        "http://127.0.0.2.evil.example/token",
    ],
)
def test_custom_urls_must_be_https_or_loopback_http(url: str) -> None:
    """Anything but a clean https URL (or http on loopback) is refused."""
    account = _account(
        imap={"host": "h", "username": "u", "auth": "oauth2"},
        oauth={
            "provider": "custom",
            "client_id": "c",
            "authorization_url": url,
            "token_url": "https://id.example/token",
            "scopes": ["mail"],
        },
    )
    assert any(
        p.startswith("accounts[0].oauth.authorization_url:")
        for p in _problems({"accounts": [account]})
    )


def test_a_custom_provider_on_loopback_http_is_accepted() -> None:
    """Local test servers (and the test suite's authorization server) use http://127.0.0.1."""
    config = parse_config(
        {
            "accounts": [
                _account(
                    smtp={"host": "h", "username": "u", "auth": "oauth2"},
                    maildir="/tmp/m",
                    oauth={
                        "provider": "custom",
                        "client_id": "c",
                        "authorization_url": "http://127.0.0.1:8080/authorize",
                        "token_url": "http://localhost:8080/token",
                        "device_authorization_url": "https://id.example/device",
                        "scopes": ["mail", "offline_access"],
                    },
                )
            ]
        }
    )
    oauth = config.accounts[0].oauth
    assert oauth is not None and oauth_endpoints(oauth).scopes == ("mail", "offline_access")


def test_defaults_oauth_fills_in_only_accounts_that_sign_in_with_oauth() -> None:
    """One app registration in [defaults.oauth]; a password account is not given it."""
    config = parse_config(
        {
            "defaults": {"oauth": {"provider": "microsoft", "client_id": "shared"}},
            "accounts": [
                _account(name="a", imap={"username": "u", "auth": "oauth2"}),
                _account(name="b", imap={"host": "h", "username": "u"}),
            ],
        }
    )
    a, b = config.accounts
    assert a.oauth is not None and a.oauth.client_id == "shared"
    assert a.imap is not None and a.imap.host == "outlook.office365.com"
    assert b.oauth is None


def test_secret_entries_and_their_environment_names() -> None:
    """ACCOUNT:oauth -> _REFRESH_TOKEN, ACCOUNT:oauth-client -> _CLIENT_SECRET."""
    assert refresh_token_entry("my-box") == "my-box:oauth"
    assert env_var_name(refresh_token_entry("my-box")) == "MAILGUARD_MY_BOX_REFRESH_TOKEN"
    assert env_var_name(client_secret_entry("my.box")) == "MAILGUARD_MY_BOX_CLIENT_SECRET"
    assert env_var_name("my-box") == "MAILGUARD_MY_BOX_PASSWORD"


ACCOUNT_NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)


@given(a=ACCOUNT_NAMES, b=ACCOUNT_NAMES)
def test_a_password_name_never_equals_an_oauth_name(a: str, b: str) -> None:
    """Different kinds of secret never share an environment variable, whatever the names."""
    names = {
        env_var_name(a),
        env_var_name(refresh_token_entry(b)),
        env_var_name(client_secret_entry(b)),
    }
    assert len(names) == 3


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        (["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"], "OAUTHBEARER"),
        (["plain", "xoauth2"], "XOAUTH2"),
        (["oauthbearer"], "OAUTHBEARER"),
        (["PLAIN", "LOGIN"], None),
        ([], None),
    ],
)
def test_the_mechanism_follows_the_server_offer(offered: list[str], expected: str | None) -> None:
    """OAUTHBEARER (RFC 7628) where offered, else XOAUTH2, else none."""
    assert oauth_mechanism(offered) == expected


def test_every_preset_asks_for_a_refresh_token() -> None:
    """Microsoft via offline_access; Google via access_type=offline."""
    for name, preset in PRESETS.items():
        endpoints = preset.endpoints("common")
        assert "offline_access" in endpoints.scopes or (
            endpoints.authorization_params.get("access_type") == "offline"
        ), name
        assert endpoints.token_url.startswith("https://")


def test_accounts_whose_oauth_secrets_would_share_a_variable_are_refused() -> None:
    """my-box and my.box would read one MAILGUARD_MY_BOX_REFRESH_TOKEN: one problem, named."""
    oauth = {"provider": "microsoft", "client_id": "c"}
    problems = _problems(
        {
            "accounts": [
                _account(name="my-box", imap={"username": "u", "auth": "oauth2"}, oauth=oauth),
                _account(name="my.box", imap={"username": "u", "auth": "oauth2"}, oauth=oauth),
            ]
        }
    )
    clashes = [p for p in problems if "would share the secret" in p]
    assert len(clashes) == 1 and clashes[0].startswith("accounts[1].name: 'my.box' and 'my-box'")


def test_an_oauth_username_with_control_characters_is_refused() -> None:
    """XOAUTH2 separates its fields with \\x01 and has no escaping: no field smuggling."""
    problems = _problems(
        {
            "accounts": [
                _account(
                    imap={"username": "me\x01auth=Bearer x", "auth": "oauth2"},
                    oauth={"provider": "microsoft", "client_id": "c"},
                )
            ]
        }
    )
    assert "accounts[0].imap.username: must not contain control characters (OAuth2 sign-in)" in (
        problems
    )


@given(url=st.text(max_size=60) | st.from_regex(r"(https?|ftp)://[^/]{0,20}(/.{0,20})?"))
def test_any_accepted_custom_url_is_https_or_loopback_http(url: str) -> None:
    """Whatever text is offered, an accepted URL is clean https, or http to loopback."""
    import urllib.parse

    document = {
        "accounts": [
            _account(
                imap={"host": "h", "username": "u", "auth": "oauth2"},
                oauth={
                    "provider": "custom",
                    "client_id": "c",
                    "authorization_url": url,
                    "token_url": "https://id.example/token",
                    "scopes": ["mail"],
                },
            )
        ]
    }
    try:
        config = parse_config(document)
    except ConfigValidationError:
        return
    oauth = config.accounts[0].oauth
    assert oauth is not None and oauth.authorization_url == url
    parts = urllib.parse.urlsplit(url)
    assert url.isascii() and not any(c.isspace() or not c.isprintable() for c in url)
    assert parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
    )
    assert parts.hostname


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(
    answer=JSON
    | st.fixed_dictionaries(
        {"access_token": JSON, "expires_in": JSON},
        optional={"refresh_token": JSON, "token_type": JSON},
    )
)
def test_any_token_endpoint_answer_is_a_token_or_a_protocol_error(answer: object) -> None:
    """Hostile token responses: an IssuedToken with a non-empty access token, or ProtocolError."""
    from mailguard_core.adapters.oauth_tokens import issued_from
    from mailguard_core.model.errors import ProtocolError

    try:
        issued = issued_from(answer)
    except ProtocolError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(answer, dict) and issued.access_token.reveal() == answer["access_token"]
    assert issued.expires_in is None or 0.0 <= issued.expires_in <= 7 * 86400
