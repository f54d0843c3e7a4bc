"""Shared test configuration: hypothesis profiles. Fixtures live in tests/support/."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# the `dovecot` (session) and `imap_user` fixtures, available to every test directory
pytest_plugins = ["tests.support.dovecot"]

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
#: the Chromium oracle's local run (tests/property/test_hidden_oracle.py): 20,000 mails
settings.register_profile(
    "oracle", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
