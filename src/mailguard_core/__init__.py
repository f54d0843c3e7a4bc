"""mailguard_core: the sanitizer and policy services of mailguard, as a library.

The public API is exactly ``__all__``; everything else is private. See ``docs/``.
"""

from mailguard_core.domain import MessageRef
from mailguard_core.errors import MailguardError

__all__ = [
    "MailguardError",
    "MessageRef",
]
