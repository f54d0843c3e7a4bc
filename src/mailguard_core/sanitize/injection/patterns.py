"""Shared pieces of the injection rules: the flags, the names of an AI agent, the helpers."""

from __future__ import annotations

import re

_F = re.IGNORECASE
_AGENT = (
    r"(?:ai|a\.i\.|assistant|agent|llm|language model|chat ?bot|copilot|claude|chatgpt"
    r"|gpt(?:-\d)?|gemini|model)"
)


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("".join(parts), _F)


def _w(text: str) -> frozenset[str]:
    return frozenset(text.split())


_AGENT_WORDS = _w(
    "ai assistant assistants agent agents llm llms model models chatbot "
    "chatbots bot copilot claude chatgpt gpt gemini language"
)
