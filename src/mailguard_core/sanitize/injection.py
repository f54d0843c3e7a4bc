"""The deterministic default :class:`InjectionDetector`: weighted regular-expression rules.

Each rule has a weight; the text is flagged when the weights of the rules that fired add up
to at least 2. Strong rules (weight 2) are phrases that have almost no business use
("ignore all previous instructions", chat-template tokens, text addressing an AI assistant,
mailguard's own tool names); weak rules (weight 1) need company (a request to use a tool,
to forward mailbox contents somewhere, to keep something from the user).
Measured by ``bench/injection.py`` over a labelled corpus.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_F = re.IGNORECASE
_AGENT = (
    r"(?:ai|a\.i\.|assistant|agent|llm|language model|chat ?bot|copilot|claude|chatgpt"
    r"|gpt(?:-\d)?|gemini|model)"
)
_MAX_SCAN = 200_000


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("".join(parts), _F)


RULES: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    (
        "ignore_previous_instructions",
        2,
        _rx(
            r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}?",
            r"\b(?:previous|prior|above|earlier|all|any|your|the|system|original)\b[^.\n]{0,30}?",
            r"\b(?:instructions?|prompts?|rules|directives?|guidelines|guardrails|programming",
            r"|system prompt)\b",
        ),
    ),
    (
        "chat_template_token",
        2,
        _rx(
            r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?(?:INST|SYS)\]",
            r"|<</?SYS>>|###\s*(?:system|instruction)s?\s*:?",
        ),
    ),
    (
        "system_prompt_reference",
        2,
        _rx(
            r"\b(?:system prompt|developer mode|jailbreak|DAN mode|admin override",
            r"|new (?:system )?instructions? (?:for|to) (?:the |you))\b",
        ),
    ),
    (
        "addresses_ai_agent",
        2,
        _rx(
            r"\b(?:dear|hey|hi|hello|attention|note (?:to|for)|instructions? for(?: the)?",
            rf"|message (?:to|for)(?: the)?)\s+(?:the\s+)?{_AGENT}s?\b",
            rf"|\bif you are an? {_AGENT}\b",
            rf"|\b(?:as|you are) an? {_AGENT} (?:reading|processing|summari[sz]ing)\b",
            rf"|\b{_AGENT}s? (?:reading|processing|summari[sz]ing) this\b",
        ),
    ),
    (
        "role_override",
        2,
        _rx(
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
        _rx(
            r"\b(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+|your\s+)?(?:\w+\s+)?",
            r"(?:tool|function|command)s?\b|\"(?:tool|function_call|tool_name)\"\s*:",
        ),
    ),
    (
        "exfiltration_request",
        1,
        _rx(
            r"\b(?:forward|send|e-?mail|upload|post|share|copy|exfiltrate|leak)\b[^.\n]{0,50}?",
            r"\b(?:all|every|the (?:last|previous|recent|latest)|these|your|the user'?s?)\b",
            r"[^.\n]{0,40}?\b(?:e-?mails?|messages?|inbox|contacts|passwords?|credentials",
            r"|api keys?|tokens?|secrets?|conversations?|correspondence)\b",
        ),
    ),
    (
        "conceal_from_user",
        1,
        _rx(
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
            _F,
        ),
    ),
    (
        "claims_authority",
        1,
        _rx(
            r"\b(?:as the (?:account )?owner|i (?:hereby )?authori[sz]e you|(?:the )?user has ",
            r"(?:authori[sz]ed|consented|approved))\b",
        ),
    ),
    (
        "mass_mailbox_action",
        1,
        _rx(
            r"\b(?:delete|erase|wipe|purge|expunge|forward|archive|move)\s+(?:all|every|each)\s+",
            r"(?:\w+\s+){0,2}(?:messages?|e-?mails?|folders?|mail|threads?)\b",
        ),
    ),
    (
        "urgent_override",
        1,
        _rx(
            r"\b(?:important|urgent|critical|priority)\s*(?:instructions?|notice|update)?\s*[:!]",
            r"\s*(?:you|assistant|ai|agent)\b",
        ),
    ),
)


_WORD_RE = re.compile(r"[a-z_]+")
#: bytes.translate table: ``[a-z_]`` kept, every other byte a space (see :func:`_words`)
_WORD_BYTES = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz_" else 0x20 for c in range(256))


def _words(lower: str) -> set[str]:
    """``set(_WORD_RE.findall(lower))``, computed in C: every non-ASCII character becomes
    ``?`` and every byte outside ``[a-z_]`` a space, so the runs ``split`` finds are the
    regex's matches."""
    data = lower.encode("ascii", "replace").translate(_WORD_BYTES)
    return set(data.decode("ascii").split())


def _w(text: str) -> frozenset[str]:
    return frozenset(text.split())


_AGENT_WORDS = _w(
    "ai assistant assistants agent agents llm llms model models chatbot "
    "chatbots bot copilot claude chatgpt gpt gemini language"
)
#: per rule: (words of which one must occur, words of which one must also occur, substrings)
#: a rule's regex runs only when its cheap trigger matches (the regexes are the slow part)
_TRIGGERS: dict[str, tuple[frozenset[str], frozenset[str], tuple[str, ...]]] = {
    "ignore_previous_instructions": (
        _w("ignore disregard forget override bypass skip"),
        _w(
            "instruction instructions prompt prompts rules directive directives "
            "guidelines guardrails programming"
        ),
        (),
    ),
    "chat_template_token": (
        frozenset(),
        frozenset(),
        ("<|", "[inst]", "[/inst]", "[sys]", "[/sys]", "<<sys>>", "<</sys>>", "###"),
    ),
    "system_prompt_reference": (
        _w("prompt developer jailbreak dan admin instruction instructions"),
        frozenset(),
        (),
    ),
    "addresses_ai_agent": (_AGENT_WORDS, frozenset(), ("a.i.",)),
    "role_override": (
        _w("now pretend role task goal instruction instructions"),
        _w("you your"),
        (),
    ),
    "mailguard_tool_name": (
        _w(
            "send_email delete_message move_message download_attachment "
            "create_draft mark_read mark_unread expunge delete_folder rename_folder "
            "use_account list_accounts search_advanced fetch_message"
        ),
        frozenset(),
        (),
    ),
    "tool_invocation": (
        _w("tool tools function functions command commands function_call tool_name"),
        frozenset(),
        (),
    ),
    "exfiltration_request": (
        _w("forward send email mail upload post share copy exfiltrate leak"),
        _w(
            "email emails mail mails messages message inbox contacts password "
            "passwords credentials api key keys token tokens secret secrets "
            "conversation conversations correspondence"
        ),
        (),
    ),
    "conceal_from_user": (
        _w(
            "tell telling inform informing mention mentioning reveal revealing "
            "notify notifying alert alerting asking show showing"
        ),
        _w("user human owner recipient operator"),
        (),
    ),
    "vocative_agent": (_AGENT_WORDS | _w("ai agent"), frozenset(), ()),
    "claims_authority": (
        _w("owner authorize authorise authorized authorised consented approved"),
        frozenset(),
        (),
    ),
    "mass_mailbox_action": (
        _w("delete erase wipe purge expunge forward archive move"),
        _w("all every each"),
        (),
    ),
    "urgent_override": (
        _w("important urgent critical priority"),
        _w("you assistant ai agent"),
        (),
    ),
}


def _triggered(name: str, words: set[str], lower: str) -> bool:
    any_of, also, substrings = _TRIGGERS[name]
    if substrings and any(sub in lower for sub in substrings):
        return True
    if not any_of:
        return False
    return not words.isdisjoint(any_of) and (not also or not words.isdisjoint(also))


#: RULES in order, each with its trigger sets unpacked (one tuple per rule, no lookups)
_PLAN = tuple((name, weight, rx, *_TRIGGERS[name]) for name, weight, rx in RULES)


class RuleBasedDetector:
    """Weighted rules over the first 200,000 characters; flagged at a total weight of 2."""

    threshold = 2

    def detect(self, text: str) -> Sequence[str]:
        """Names of the rules that fired when their weights reach the threshold, else ()."""
        sample = text[:_MAX_SCAN]
        lower = sample.lower()
        isdisjoint = _words(lower).isdisjoint
        candidates: list[tuple[str, int, re.Pattern[str]]] = []
        possible = 0
        for name, weight, rx, any_of, also, substrings in _PLAN:
            # inlined :func:`_triggered`
            if (substrings and any(sub in lower for sub in substrings)) or (
                any_of and not isdisjoint(any_of) and (not also or not isdisjoint(also))
            ):
                candidates.append((name, weight, rx))
                possible += weight
        if possible < self.threshold:
            return ()  # the rules that fire are among the triggered: they cannot reach it
        fired = [(name, weight) for name, weight, rx in candidates if rx.search(sample)]
        if sum(w for _, w in fired) >= self.threshold:
            return tuple(name for name, _ in fired)
        return ()
