"""Token buckets with a fake clock: bursts, refills, per-tool limits, retry-after, parsing."""

from __future__ import annotations

import pytest

from mailguard_core.config import RateLimitSettings
from mailguard_core.gate.ratelimit import AccountRateLimiter, TokenBucket, parse_rate
from mailguard_core.model.errors import ConfigError, RateLimited
from mailguard_core.model.tools import ToolName

T = ToolName


def test_a_full_bucket_allows_a_burst_then_refuses() -> None:
    """A new bucket hands out exactly ``burst`` tokens at one instant."""
    bucket = TokenBucket(10.0, 20, now=0.0)
    for _ in range(20):
        assert bucket.wait_time(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.1)


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    """Tokens come back at ``rate`` per second and never exceed ``burst``."""
    bucket = TokenBucket(2.0, 3, now=0.0)
    for _ in range(3):
        bucket.take(0.0)
    assert bucket.available(0.5) == pytest.approx(1.0)
    assert bucket.available(100.0) == 3.0


def test_the_account_limit_defaults_to_ten_per_second_with_a_burst_of_twenty() -> None:
    """Defaults from the spec: 20 calls at once, then one more every 0.1 s."""
    limiter = AccountRateLimiter(RateLimitSettings(), now=0.0)
    for _ in range(20):
        limiter.acquire(T.SEARCH, 0.0)
    with pytest.raises(RateLimited) as info:
        limiter.acquire(T.SEARCH, 0.0)
    assert info.value.retry_after == pytest.approx(0.1)
    limiter.acquire(T.SEARCH, 0.1)


def test_send_email_is_limited_to_three_per_minute_by_default() -> None:
    """The per-tool default for send_email is 3/min; the refusal says when to retry."""
    limiter = AccountRateLimiter(RateLimitSettings(), now=0.0)
    for _ in range(3):
        limiter.acquire(T.SEND_EMAIL, 0.0)
    with pytest.raises(RateLimited) as info:
        limiter.acquire(T.SEND_EMAIL, 1.0)
    assert info.value.retry_after == pytest.approx(19.0)
    assert "retry after 19.0 s" in info.value.public_message
    limiter.acquire(T.SEND_EMAIL, 20.0)
    limiter.acquire(T.SEARCH, 20.0)


def test_create_draft_is_limited_to_five_per_minute_by_default() -> None:
    """The per-tool default for create_draft is 5/min, independent of other tools."""
    limiter = AccountRateLimiter(RateLimitSettings(), now=0.0)
    for _ in range(5):
        limiter.acquire(T.CREATE_DRAFT, 0.0)
    with pytest.raises(RateLimited):
        limiter.acquire(T.CREATE_DRAFT, 0.0)
    limiter.acquire(T.SEND_EMAIL, 0.0)


def test_a_refusal_by_the_tool_bucket_takes_no_account_token() -> None:
    """When the tool bucket refuses, the account bucket keeps its token (all or nothing)."""
    settings = RateLimitSettings(calls_per_second=1.0, burst=5, tools={"send_email": "1/h"})
    limiter = AccountRateLimiter(settings, now=0.0)
    limiter.acquire(T.SEND_EMAIL, 0.0)
    for _ in range(10):
        with pytest.raises(RateLimited):
            limiter.acquire(T.SEND_EMAIL, 0.0)
    for _ in range(4):
        limiter.acquire(T.SEARCH, 0.0)
    with pytest.raises(RateLimited):
        limiter.acquire(T.SEARCH, 0.0)


def test_configured_limits_replace_the_defaults() -> None:
    """calls_per_second, burst and per-tool strings come from the account's settings."""
    settings = RateLimitSettings(calls_per_second=0.5, burst=2, tools={"search": "2/s"})
    limiter = AccountRateLimiter(settings, now=0.0)
    limiter.acquire(T.SEARCH, 0.0)
    limiter.acquire(T.SEARCH, 0.0)
    with pytest.raises(RateLimited) as info:
        limiter.acquire(T.SEARCH, 0.0)
    assert info.value.retry_after == pytest.approx(2.0)
    for _ in range(3):
        limiter.acquire(T.SEND_EMAIL, 100.0 + _ * 2)


@pytest.mark.parametrize(
    ("text", "rate", "burst"),
    [("3/min", 0.05, 3), ("10/s", 10.0, 10), ("7200/h", 2.0, 7200), ("1/h", 1 / 3600, 1)],
)
def test_rate_strings_parse_to_tokens_per_second_and_burst(
    text: str, rate: float, burst: int
) -> None:
    """'N/s', 'N/min' and 'N/h' give N tokens of burst and N per period."""
    parsed = parse_rate(text)
    assert (parsed.per_second, parsed.count) == (pytest.approx(rate), burst)


@pytest.mark.parametrize("text", ["0/s", "3/m", "3 / min", "-1/s", "3/day", "", "1.5/s", "３/s"])
def test_malformed_rate_strings_are_config_errors(text: str) -> None:
    """Anything but 'N/s', 'N/min' or 'N/h' with N >= 1 is refused."""
    with pytest.raises(ConfigError):
        parse_rate(text)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Send_email", "unknown tool name"),
        ("nope", "unknown tool name"),
        ("list_accounts", "always available, never limited"),
    ],
)
def test_per_tool_limits_for_unknown_or_infrastructure_tools_are_config_errors(
    name: str, fragment: str
) -> None:
    """Per-tool limits must name a gated tool exactly."""
    with pytest.raises(ConfigError, match=fragment):
        RateLimitSettings(tools={name: "1/s"})


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (1.0, 0), (float("nan"), 1)])
def test_bucket_settings_out_of_range_are_config_errors(rate: float, burst: int) -> None:
    """A bucket needs a positive finite rate and a burst of at least one."""
    with pytest.raises(ConfigError):
        TokenBucket(rate, burst, now=0.0)
