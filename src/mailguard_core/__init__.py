"""mailguard_core: the sanitizer and policy services of mailguard, as a library.

The public API is exactly ``__all__``; everything else is private. See ``docs/``.
"""

from mailguard_core.domain import MessageRef
from mailguard_core.errors import MailguardError
from mailguard_core.gate import Clock, FakeClock, Gate, GateCall, MonotonicClock

__all__ = [
    "Clock",
    "FakeClock",
    "Gate",
    "GateCall",
    "MailguardError",
    "MessageRef",
    "MonotonicClock",
]
