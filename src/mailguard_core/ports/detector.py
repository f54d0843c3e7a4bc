"""The ``InjectionDetector`` port: flags text that reads like instructions to an AI agent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class InjectionDetector(Protocol):
    """Decides whether untrusted text tries to instruct an AI agent.

    Contract:
    - ``detect`` is total over any ``str`` (it may be long: cap work linearly) and pure.
    - It returns the names of the rules that fired (stable snake_case identifiers, never the
      text itself); an empty sequence means "nothing suspicious".
    - It never deletes or rewrites content; the sanitizer only turns a non-empty answer
      into an ``injection_suspected`` warning.
    """

    def detect(self, text: str) -> Sequence[str]: ...
