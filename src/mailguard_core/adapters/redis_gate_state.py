"""The gate's state in Redis, so that replicas enforce one limit (``[server.state]``).

Token buckets are hashes updated by one Lua script (atomic: all-or-none over the account's
and the tool's bucket, the time read from Redis itself, so replicas' clocks do not matter);
each key expires once its bucket would be full again. A breaker mark is a key whose expiry is
the cooldown. Any Redis error becomes :class:`~mailguard_core.model.errors.StateUnavailable` and the
gate refuses the call (fails closed); the audit log is a local file and records the refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailguard_core.model.errors import StateUnavailable
from mailguard_core.ports.gate_state import Bucket

#: KEYS: the buckets; ARGV: rate_1, burst_1, rate_2, burst_2, ...
#: returns "0" when a token was taken from each, else the seconds to wait (nothing taken)
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tokens, wait = {}, 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local b = redis.call('HMGET', key, 'tokens', 'ts')
  local have = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  have = math.min(burst, have + math.max(0, now - ts) / 1000.0 * rate)
  tokens[i] = have
  if have < 1 then wait = math.max(wait, (1 - have) / rate) end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('HSET', key, 'tokens', tostring(tokens[i] - 1), 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end
return "0"
"""

#: KEYS[1]: the mark; ARGV[1]: milliseconds; never shortens a longer mark
OPEN = """
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class RedisGateState:
    """:class:`~mailguard_core.ports.gate_state.GateState` in Redis at ``url``; keys start
    with ``prefix``."""

    def __init__(self, url: str, *, prefix: str = "mailguard:", timeout: float = 2.0) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
        )
        self._prefix = prefix
        self._take = self._redis.register_script(TAKE)
        self._open = self._redis.register_script(OPEN)

    def _call(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        import redis

        try:
            return fn(*args, **kw)
        except redis.RedisError as exc:
            raise StateUnavailable(f"redis {what}: {type(exc).__name__}: {exc}") from exc

    def take(self, buckets: Sequence[Bucket]) -> float:
        keys = [f"{self._prefix}rl:{b.key}" for b in buckets]
        args: list[float | int] = []
        for b in buckets:
            args += [b.rate, b.burst]
        if not keys:
            return 0.0
        return float(self._call("take", self._take, keys=keys, args=args))

    def open_breaker(self, account: str, seconds: float) -> None:
        ms = max(1, int(seconds * 1000))
        self._call("open_breaker", self._open, keys=[f"{self._prefix}br:{account}"], args=[ms])

    def breaker_open_for(self, account: str) -> float:
        left = self._call("breaker_open_for", self._redis.pttl, f"{self._prefix}br:{account}")
        return max(0.0, int(left) / 1000.0)

    def close(self) -> None:
        self._redis.close()
