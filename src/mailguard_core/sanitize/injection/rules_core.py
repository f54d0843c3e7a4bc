"""The original rules: overrides, chat templates, addressing an AI, tools, exfiltration."""

from __future__ import annotations

import re

from mailguard_core.sanitize.injection.patterns import AGENT, IGNORE_CASE, compile_rule

#: (name, weight, regex): see the package docstring for how weights add up
CORE: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    (
        "ignore_previous_instructions",
        2,
        compile_rule(
            r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}?",
            r"\b(?:previous|prior|above|earlier|all|any|your|the|system|original)\b[^.\n]{0,30}?",
            r"\b(?:instructions?|prompts?|rules|directives?|guidelines|guardrails|programming",
            r"|system prompt)\b",
        ),
    ),
    (
        "chat_template_token",
        2,
        compile_rule(
            r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?(?:INST|SYS)\]",
            r"|<</?SYS>>|###\s*(?:system|instruction)s?\s*:?",
        ),
    ),
    (
        "system_prompt_reference",
        2,
        compile_rule(
            r"\b(?:system prompt|developer mode|jailbreak|DAN mode|admin override",
            r"|new (?:system )?instructions? (?:for|to) (?:the |you))\b",
        ),
    ),
    (
        "addresses_ai_agent",
        2,
        compile_rule(
            r"\b(?:dear|hey|hi|hello|attention|note (?:to|for)|instructions? for(?: the)?",
            rf"|message (?:to|for)(?: the)?)\s+(?:the\s+)?{AGENT}s?\b",
            rf"|\bif you are an? {AGENT}\b",
            rf"|\b(?:as|you are) an? {AGENT} (?:reading|processing|summari[sz]ing)\b",
            rf"|\b{AGENT}s? (?:reading|processing|summari[sz]ing) this\b",
        ),
    ),
    (
        "role_override",
        2,
        compile_rule(
            r"\byou are now\b|\bfrom now on,? you (?:are|will|must)\b",
            r"|\bpretend (?:to be|you are)\b",
            r"|\byour new (?:role|task|instructions?|goal) (?:is|are)\b",
        ),
    ),
    (
        "mailguard_tool_name",
        2,
        re.compile(
            r"\b(?:send_email|delete_message|move_message|download_attachment|create_draft"
            r"|mark_read|mark_unread|expunge|delete_folder|rename_folder|use_account"
            r"|list_accounts|search_advanced|fetch_message)\b"
        ),
    ),
    (
        "tool_invocation",
        1,
        compile_rule(
            r"\b(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+|your\s+)?(?:\w+\s+)?",
            r"(?:tool|function|command)s?\b|\"(?:tool|function_call|tool_name)\"\s*:",
        ),
    ),
    (
        "exfiltration_request",
        1,
        compile_rule(
            r"\b(?:forward|send|e-?mail|upload|post|share|copy|exfiltrate|leak)\b[^.\n]{0,50}?",
            r"\b(?:all|every|the (?:last|previous|recent|latest)|these|your|the user'?s?)\b",
            r"[^.\n]{0,40}?\b(?:e-?mails?|messages?|inbox|contacts|passwords?|credentials",
            r"|api keys?|tokens?|secrets?|conversations?|correspondence)\b",
        ),
    ),
    (
        "conceal_from_user",
        1,
        compile_rule(
            r"\b(?:do not|don't|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?",
            r"|reveal(?:ing)?|notify(?:ing)?|alert(?:ing)?|asking|show(?:ing)?)\s+",
            r"(?:this\s+(?:to\s+)?)?(?:the\s+|your\s+)?(?:user|human|owner|recipient|operator)\b",
        ),
    ),
    (
        "vocative_agent",
        2,
        re.compile(
            r"(?m)^[ \t>]*(?:dear\s+)?(?:ai|ai agent|assistant|agent|llm|copilot|claude|chatgpt"
            r"|gemini)\s*,",
            IGNORE_CASE,
        ),
    ),
    (
        "claims_authority",
        1,
        compile_rule(
            r"\b(?:as the (?:account )?owner|i (?:hereby )?authori[sz]e you|(?:the )?user has ",
            r"(?:authori[sz]ed|consented|approved))\b",
        ),
    ),
    (
        "mass_mailbox_action",
        1,
        compile_rule(
            r"\b(?:delete|erase|wipe|purge|expunge|forward|archive|move)\s+(?:all|every|each)\s+",
            r"(?:\w+\s+){0,2}(?:messages?|e-?mails?|folders?|mail|threads?)\b",
        ),
    ),
    (
        "urgent_override",
        1,
        compile_rule(
            # not ``\s*(?:...)?\s*[:!]``: with the group absent, its two blank runs split one
            # run every way before failing (40,000 blanks after "important": 8.5 s); the same
            # language, one split (tests/property/test_redos_linear.py)
            r"\b(?:important|urgent|critical|priority)",
            r"\s*(?:(?:instructions?|notice|update)\s*)?[:!]",
            r"\s*(?:you|assistant|ai|agent)\b",
        ),
    ),
)
