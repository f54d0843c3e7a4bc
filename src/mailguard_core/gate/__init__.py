"""The gate: postures and overrides, the folder guard, rate limits, the circuit breaker, and
the tamper-evident audit log's pure parts (see ``docs/security-model.md``)."""

from mailguard_core.gate.audit import VerifyReport, verify_chain
from mailguard_core.gate.breaker import BreakerState, CircuitBreaker
from mailguard_core.gate.clock import Clock, FakeClock, MonotonicClock
from mailguard_core.gate.folders import FolderGuard, folder_key
from mailguard_core.gate.gate import Gate, GateCall, Guard, SpecialFoldersProvider
from mailguard_core.gate.policy import effective_tools
from mailguard_core.gate.ratelimit import AccountRateLimiter, TokenBucket, parse_rate
from mailguard_core.gate.request import AuditArgument, Redaction, ToolRequest

__all__ = [
    "AccountRateLimiter",
    "AuditArgument",
    "BreakerState",
    "CircuitBreaker",
    "Clock",
    "FakeClock",
    "FolderGuard",
    "Gate",
    "GateCall",
    "Guard",
    "MonotonicClock",
    "Redaction",
    "SpecialFoldersProvider",
    "TokenBucket",
    "ToolRequest",
    "VerifyReport",
    "effective_tools",
    "folder_key",
    "parse_rate",
    "verify_chain",
]
