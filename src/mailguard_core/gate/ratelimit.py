"""Token buckets: one per account, one per (account, tool) where a tool has its own limit.

A call takes one token from each bucket that applies, all or none: a refused call takes
nothing, so a client hammering a limit does not push its own retry time further out.
"""

from __future__ import annotations

import math

from mailguard_core.config.policy import RateLimitSettings, parse_rate
from mailguard_core.model.errors import ConfigError, RateLimited
from mailguard_core.model.tools import ToolName
from mailguard_core.ports.gate_state import Bucket

__all__ = ["AccountRateLimiter", "TokenBucket", "parse_rate"]


class TokenBucket:
    """``burst`` tokens, refilled continuously at ``rate`` per second; starts full."""

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, *, now: float) -> None:
        if not (rate > 0 and math.isfinite(rate)) or burst < 1:
            raise ConfigError(f"a rate limit needs rate > 0 and burst >= 1 (got {rate}, {burst})")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = now

    def available(self, now: float) -> float:
        """Tokens available at ``now`` (refills first)."""
        if now > self._stamp:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
        return self._tokens

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        missing = 1.0 - self.available(now)
        return 0.0 if missing <= 1e-9 else missing / self.rate

    def take(self, now: float) -> None:
        """Take one token; call only after :meth:`wait_time` returned 0."""
        self.available(now)
        self._tokens = max(0.0, self._tokens - 1.0)


class AccountRateLimiter:
    """The buckets of one account."""

    __slots__ = ("_account", "_tool_rates", "_tools")

    def __init__(self, settings: RateLimitSettings, *, now: float) -> None:
        self._account = TokenBucket(settings.calls_per_second, settings.burst, now=now)
        self._tool_rates = settings.tool_rates()
        self._tools: dict[ToolName, TokenBucket] = {
            tool: TokenBucket(rate.per_second, rate.count, now=now)
            for tool, rate in self._tool_rates.items()
        }

    def buckets(self, account: str, tool: ToolName) -> list[Bucket]:
        """The shared-state buckets a call of ``tool`` on ``account`` takes a token from."""
        found = [Bucket(f"{account}", self._account.rate, self._account.burst)]
        rate = self._tool_rates.get(tool)
        if rate is not None:
            found.append(Bucket(f"{account}:{tool.value}", rate.per_second, rate.count))
        return found

    def acquire(self, tool: ToolName, now: float) -> None:
        """Take a token from the account bucket and the tool's bucket, or none at all.

        Raises:
            RateLimited: a bucket is empty; ``retry_after`` says when all would have a token.
        """
        tool_bucket = self._tools.get(tool)
        wait = self._account.wait_time(now)
        if tool_bucket is not None:
            wait = max(wait, tool_bucket.wait_time(now))
        if wait > 0.0:
            raise RateLimited(wait, f"rate limit for {tool.value}: retry after {wait:.3f} s")
        self._account.take(now)
        if tool_bucket is not None:
            tool_bucket.take(now)
