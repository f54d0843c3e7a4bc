"""Shared pieces of the injection rules: the flags, the names of an AI agent, the helpers."""

from __future__ import annotations

import re

IGNORE_CASE = re.IGNORECASE
AGENT = (
    r"(?:ai|a\.i\.|assistant|agent|llm|language model|chat ?bot|copilot|claude|chatgpt"
    r"|gpt(?:-\d)?|gemini|model)"
)


def compile_rule(*parts: str) -> re.Pattern[str]:
    return re.compile("".join(parts), IGNORE_CASE)


def ws(text: str) -> frozenset[str]:
    """The words of ``text`` (split at white space), as a set."""
    return frozenset(text.split())


AGENT_WORDS = ws(
    "ai assistant assistants agent agents llm llms model models chatbot "
    "chatbots bot bots copilot copilots claude claudes chatgpt chatgpts gpt gpts gemini geminis"
    " language ais"
)
