"""The gate's state in Redis, so that replicas enforce one limit (``[server.state]``).

Token buckets are hashes updated by one Lua script (atomic: all-or-none over the account's
and the tool's bucket, the time read from Redis itself, so replicas' clocks do not matter);
each key expires once its bucket would be full again. Each account's circuit breaker is a
hash (state, open-until, the doubling counters, the probe lease) and a sorted set of failure
times, changed only by scripts (:class:`RedisBreaker`), so failures seen by every replica add
up in one window and one probe runs for all. Any Redis error becomes
:class:`~mailguard_core.model.errors.StateUnavailable` and the gate refuses the call (fails
closed); the audit log is a local file and records the refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from mailguard_core.model.breaker import BreakerSettings
from mailguard_core.model.errors import BreakerKind, CircuitOpen, StateUnavailable
from mailguard_core.ports.gate_state import PROBE_LEASE_SECONDS, Breaker, Bucket

logger = logging.getLogger(__name__)

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

#: the time in Redis, in milliseconds (every breaker script starts with it)
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

#: KEYS[1]: the breaker's hash; ARGV[1]: the probe lease (ms), ARGV[2]: the hash's TTL (ms).
#: returns {code, seconds, auth}: 0 closed (pass), 1 this call is the probe, 2 open (seconds
#: left), 3 a probe is in flight; auth: 1 when open for an authentication failure
BEFORE = (
    _NOW
    + """
local h = KEYS[1]
local b = redis.call('HMGET', h, 'state', 'open_until', 'probe_until', 'auth_open')
local state = b[1] or 'closed'
local auth = tonumber(b[4]) or 0
if state == 'closed' then return {0, '0', 0} end
local open_until = tonumber(b[2]) or 0
if state == 'open' and now < open_until then
  return {2, tostring((open_until - now) / 1000.0), auth}
end
if (tonumber(b[3]) or 0) > now then return {3, '0', auth} end
redis.call('HSET', h, 'state', 'half_open', 'probe_until', now + tonumber(ARGV[1]))
redis.call('PEXPIRE', h, ARGV[2])
return {1, '0', auth}
"""
)

#: KEYS[1]: the hash, KEYS[2]: the failure times (a sorted set); ARGV: outcome ('success',
#: 'none', 'transient', 'auth'), probe (0/1), failure_threshold, window, cooldown,
#: max_cooldown, auth_cooldown, auth_max_cooldown (ms), the hash's TTL (ms).
#: returns the cooldown in seconds when this outcome opened the breaker, else '0'
RECORD = (
    _NOW
    + """
local h, f = KEYS[1], KEYS[2]
local outcome, probe = ARGV[1], tonumber(ARGV[2])
local threshold, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local function open(kind)
  local field, base, cap = 'transient_opens', tonumber(ARGV[5]), tonumber(ARGV[6])
  if kind == 'auth' then field, base, cap = 'auth_opens', tonumber(ARGV[7]), tonumber(ARGV[8]) end
  local opens = tonumber(redis.call('HGET', h, field)) or 0
  local cooldown = math.min(base * 2 ^ math.min(opens, 30), cap)
  redis.call('HSET', h, field, opens + 1, 'state', 'open', 'open_until', now + cooldown,
             'probe_until', 0, 'auth_open', kind == 'auth' and 1 or 0)
  redis.call('PEXPIRE', h, ARGV[9])
  redis.call('DEL', f)
  return tostring(cooldown / 1000.0)
end
if outcome == 'success' then
  if probe == 1 then
    redis.call('HSET', h, 'state', 'closed', 'probe_until', 0, 'transient_opens', 0,
               'auth_opens', 0, 'auth_open', 0)
    redis.call('DEL', f)
  end
  return '0'
end
if outcome == 'none' then
  if probe == 1 then redis.call('HSET', h, 'probe_until', 0) end
  return '0'
end
if probe == 1 then return open(outcome) end
local state = redis.call('HGET', h, 'state') or 'closed'
if state ~= 'closed' then return '0' end
if outcome == 'auth' then return open('auth') end
redis.call('ZREMRANGEBYSCORE', f, '-inf', now - window)
local n = redis.call('HINCRBY', h, 'seq', 1)
redis.call('ZADD', f, now, now .. ':' .. n)
redis.call('PEXPIRE', h, ARGV[9])
redis.call('PEXPIRE', f, window + 1000)
if redis.call('ZCARD', f) >= threshold then return open('transient') end
return '0'
"""
)

#: KEYS[1]: the hash. Ends an auth cooldown now; returns 1 when there was one to end
LIFT = (
    _NOW
    + """
local b = redis.call('HMGET', KEYS[1], 'state', 'auth_open', 'open_until')
if b[1] ~= 'open' or tonumber(b[2]) ~= 1 then return 0 end
if (tonumber(b[3]) or 0) > now then redis.call('HSET', KEYS[1], 'open_until', now) end
return 1
"""
)

#: how long a breaker's hash outlives its last change (its doubled cooldowns are remembered)
BREAKER_TTL_MS = 24 * 3600 * 1000


class RedisBreaker:
    """One account's :class:`~mailguard_core.ports.gate_state.Breaker` in Redis: the state,
    the open-until time, the doubling counters and the probe lease in one hash, the failure
    times in a sorted set; every step one script (atomic), timed by Redis's clock.

    :attr:`auth_open` is this replica's view: true after this replica saw the authentication
    failure that opened the breaker (so only a credential changed where the failure was seen
    ends the cooldown early, ``Gate.set_credential_version``); it ends when a later admission
    finds the breaker closed.
    """

    def __init__(self, state: RedisGateState, account: str, settings: BreakerSettings) -> None:
        self._state = state
        self._keys = [f"{state.prefix}br:{account}", f"{state.prefix}brf:{account}"]
        self._settings = settings
        self._auth_open = False

    def before_call(self, now: float) -> bool:
        from mailguard_core.gate.breaker import PROBE_RETRY_SECONDS

        lease = int(PROBE_LEASE_SECONDS * 1000)
        code, seconds, auth = self._state.call(
            "breaker", self._state.before, keys=self._keys[:1], args=[lease, BREAKER_TTL_MS]
        )
        if int(code) == 0:
            self._auth_open = False
            return False
        if not int(auth):
            self._auth_open = False
        if int(code) == 1:
            return True
        if int(code) == 2:
            wait = float(seconds)
            raise CircuitOpen(wait, f"circuit open (shared) for another {wait:.3f} s")
        raise CircuitOpen(PROBE_RETRY_SECONDS, "circuit half-open (shared): a probe is in flight")

    @property
    def auth_open(self) -> bool:
        return self._auth_open

    def lift_auth(self, now: float) -> bool:
        try:
            return bool(self._state.call("lift", self._state.lift, keys=self._keys[:1]))
        except StateUnavailable as error:
            logger.warning("breaker lift not shared: %s", error)
            return False

    def release_probe(self) -> None:
        self._record("none", probe=True)

    def on_success(self, now: float, *, probe: bool) -> None:
        if probe:  # a success outside a probe changes nothing (no round trip)
            self._record("success", probe=True)

    def on_failure(self, kind: BreakerKind | None, now: float, *, probe: bool) -> None:
        if kind is None:
            if probe:
                self._record("none", probe=True)
            return
        opened = self._record(kind, probe=probe)
        if opened and kind == "auth":
            self._auth_open = True

    def _record(self, outcome: str, *, probe: bool) -> bool:
        s = self._settings
        args: list[float | int | str] = [
            outcome,
            1 if probe else 0,
            s.failure_threshold,
            *(
                int(seconds * 1000)
                for seconds in (
                    s.window_seconds,
                    s.cooldown_seconds,
                    s.max_cooldown_seconds,
                    s.auth_cooldown_seconds,
                    s.auth_max_cooldown_seconds,
                )
            ),
            BREAKER_TTL_MS,
        ]
        try:
            opened = self._state.call("record", self._state.record, keys=self._keys, args=args)
        except StateUnavailable as error:  # the next admission asks Redis again (fails closed)
            logger.warning("breaker outcome %s not recorded: %s", outcome, error)
            return False
        return float(opened) > 0.0


class RedisGateState:
    """:class:`~mailguard_core.ports.gate_state.GateState` in Redis at ``url``; keys start
    with ``prefix``."""

    def __init__(self, url: str, *, prefix: str = "mailguard:", timeout: float = 2.0) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
        )
        self.prefix = prefix
        self._take = self._redis.register_script(TAKE)
        self.before = self._redis.register_script(BEFORE)
        self.record = self._redis.register_script(RECORD)
        self.lift = self._redis.register_script(LIFT)
        self._breakers: dict[str, RedisBreaker] = {}

    def call(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        """``fn(*args, **kw)``; a Redis error becomes ``StateUnavailable``."""
        import redis

        try:
            return fn(*args, **kw)
        except redis.RedisError as exc:
            raise StateUnavailable(f"redis {what}: {type(exc).__name__}: {exc}") from exc

    def take(self, buckets: Sequence[Bucket]) -> float:
        keys = [f"{self.prefix}rl:{b.key}" for b in buckets]
        args: list[float | int] = []
        for b in buckets:
            args += [b.rate, b.burst]
        if not keys:
            return 0.0
        return float(self.call("take", self._take, keys=keys, args=args))

    def breaker(self, account: str, settings: BreakerSettings) -> Breaker:
        found = self._breakers.get(account)
        if found is None:
            found = self._breakers[account] = RedisBreaker(self, account, settings)
        return found

    def close(self) -> None:
        self._redis.close()
