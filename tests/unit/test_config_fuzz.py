"""parse_config is total: any TOML-shaped document gives a Config or a ConfigError."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.config import Config, ConfigValidationError, parse_config

KEYS = st.sampled_from(
    ["name", "address", "imap", "smtp", "host", "username", "port", "tls", "posture",
     "maildir", "tools", "allow", "deny", "folders", "protected", "expunge_allowed",
     "limits", "burst", "send", "pin_sha256", "known_domains", "x"]
)  # fmt: skip
SCALARS = st.one_of(
    st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["implicit", "starttls", "full", "me@example.com", "h.example.com", "3/s"]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
ACCOUNT = st.fixed_dictionaries(
    {"name": st.sampled_from(["work", "home", "bad name", ""]),
     "address": st.sampled_from(["me@example.com", "broken"])},
    optional={"imap": st.dictionaries(KEYS, VALUES, max_size=4) | VALUES, "maildir": VALUES,
              "posture": VALUES, "tools": VALUES, "limits": VALUES, "smtp": VALUES},
)  # fmt: skip


@settings(max_examples=100)
@given(
    document=st.fixed_dictionaries(
        {"accounts": st.lists(ACCOUNT, max_size=3) | VALUES},
        optional={
            "defaults": st.dictionaries(KEYS, VALUES, max_size=4) | VALUES,
            "default_account": VALUES,
            "audit": VALUES,
            "extra": VALUES,
        },
    )
)
def test_any_document_yields_a_config_or_a_config_error(document: dict[str, Any]) -> None:
    """No other exception escapes, and every reported problem names a path."""
    try:
        config = parse_config(document)
    except ConfigValidationError as exc:
        assert exc.problems
        assert all(": " in problem for problem in exc.problems)
    else:
        assert isinstance(config, Config) and config.accounts
