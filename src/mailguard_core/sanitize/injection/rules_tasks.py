"""Issue 19's rules: task-style requests, role lines, exfiltration, concealment."""

from __future__ import annotations

import re

from mailguard_core.sanitize.injection.patterns import compile_rule

#: (name, weight, regex)
TASKS: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    # --- issue 19: task-style requests, role lines, exfiltration, concealment ---------------
    (
        "role_prefix_line",
        2,
        compile_rule(
            r"(?m)^[ \t>*#\-\[(]*(?:",
            r"(?:assistant|ai|ai assistant|developer|admin|operator)(?:\s+(?:note",
            r"|message|notice))?",
            r"|(?-i:SYSTEM|SYSTEM ?NOTE|SYSTEM ?MESSAGE|SYSTEM ?PROMPT",
            r"|SYSTEM ?UPDATE|SYSTEMHINWEIS)",
            r"|system\s+(?:note|message|prompt|notice|override|instruction)s?",
            r"|note\s+syst[eè]me|nota\s+del\s+sistema|nota\s+di\s+sistema|mensaje\s+del\s+sistema",
            r")[\])]*[ \t]*[:：]",
            r"|^[ \t>]*system[ \t]*:[^\n]{0,80}?\b(?:you|your|assistant|ai|agent|model|must",
            r"|ignore|call|forward|send|include|reveal|new instructions?|override)\b",
            r"|</?(?:system|assistant|user|tool)>|^[ \t]*系统[:：]",
        ),
    ),
    (
        "assistant_output_request",
        2,
        compile_rule(
            r"\b(?:include|add|append|insert|put|mention|end with|start with)\b",
            r"[^.\n]{0,80}?\b(?:in|to|into|at the (?:end|start|beginning) of)",
            r"\s+(?:your|the|any|every|each)\s+(?:(?:future|final|next)\s+)?",
            r"(?:answers?|summary|summaries|output|report|responses? to the user",
            r"|(?:reply|replies|response|responses) (?:to|for) the user)\b",
            r"|\bwhen (?:you )?(?:summari[sz](?:e|ing)|process(?:ing)?|read(?:ing)?) this\b",
            r"[^.\n]{0,60}?\b(?:include|add|append|mention|say|tell|call|send",
            r"|forward|reply|recommend)\b",
            r"|\b(?:in|into) your (?:reply|response|answer|summary) (?:to|for) the user\b",
            r"|\bsearch\b[^.\n]{0,30}?\b(?:the (?:mailbox|inbox)|all (?:e-?mails|messages)",
            r"|the user'?s? (?:mailbox|inbox|e-?mails|messages))\b[^.\n]{0,80}?\b(?:send|forward",
            r"|email|share|post)\b",
            r"|\b(?:in|at the end of) (?:every|each|all) (?:future )?(?:repl(?:y|ies)|responses?",
            r"|answers?|summar(?:y|ies))\b",
        ),
    ),
    (
        "output_request_reply",
        1,
        compile_rule(
            r"\b(?:include|add|append|insert|put|mention)\b[^.\n]{0,60}?\bin your ",
            r"(?:reply|response)\b",
        ),
    ),
    (
        "secret_code_request",
        2,
        compile_rule(
            r"\b(?:reply|respond|answer)\s+(?:back\s+)?with\b[^.\n]{0,50}?\b(?:codes?|passwords?",
            r"|pins?|tokens?|otps?|credentials?|api keys?)\b",
            r"|\b(?:send|forward|give|share|paste|include|tell|provide)\b[^.\n]{0,30}?",
            r"\b(?:the user'?s?|the owner'?s?|the recipient'?s?|the account holder'?s?)",
            r"\s+(?:\w+\s+){0,2}(?:codes?|passwords?|pins?|tokens?|otps?|credentials|api keys?)\b",
        ),
    ),
    (
        "user_secret_reference",
        1,
        compile_rule(
            r"\b(?:the user'?s?|the mailbox owner'?s?|the account owner'?s?)\s+(?:\w+\s+){0,2}",
            r"(?:passwords?|reset codes?|verification codes?|security codes?|one-time codes?",
            r"|otps?|credentials|api keys?|tokens?|2fa codes?|private keys?)\b",
        ),
    ),
    (
        "forward_all_mail",
        2,
        compile_rule(
            r"\b(?:forward|redirect|send|copy|bcc|cc",
            r"|auto-?forward)\b[^.\n]{0,30}?\b(?:all|every|each",
            r"|any|future|incoming|new)\b[^.\n]{0,30}?\b(?:e-?mails?|messages?|mail|correspondence",
            r"|inbox)\b[^.\n]{0,40}?\bto\s+\S+@\S+",
            r"|\b(?:create|set up|setup|add|make|configure)\b[^.\n]{0,30}?\b(?:rule|filter)\b",
            r"[^.\n]{0,60}?\b(?:forward|redirect|copies|copy|send)",
        ),
    ),
    (
        "exfiltration_url",
        2,
        compile_rule(
            r"!\[[^\]\n]{0,100}\]\(\s*https?://[^)\s]*[?&][^)\s]*=",
            r"|\b(?:append|add|encode|include|put|insert)\b[^.\n]{0,60}?\b(?:to|in|into|as)\s+",
            r"(?:the\s+|a\s+)?(?:url|link|query string|query parameter|request|image url)\b",
            r"|\bcall\s+(?:the\s+)?http_?(?:post|get|request)\b",
        ),
    ),
    (
        "send_to_external_address",
        1,
        compile_rule(
            r"\b(?:send|forward|upload|transfer|submit)\b[^\n]{0,80}?",
            r"\b(?:to|at)\s+(?:[\w.+-]+@[\w-]+\.[\w.]+|https?://\S+|the (?:\w+ )?webhook)",
        ),
    ),
    (
        "conceal_instruction",
        2,
        compile_rule(
            r"\b(?:do not|don't|never)\s+(?:mention|reveal|disclose|show|tell|say|include|quote",
            r"|repeat|refer to)\b[^.\n]{0,30}?\b(?:this|these|the above)\s+(?:instructions?|notes?",
            r"|requests?|steps?|comments?|directives?)\b",
            r"|\bwithout\s+(?:the\s+)?(?:user|recipient|owner|human)s?\s+(?:knowing|noticing",
            r"|being (?:aware|informed|notified))\b",
            r"|\b(?:silently|secretly|quietly|covertly)\b[^.\n]{0,20}?\b(?:forward|send|delete",
            r"|call|execute|run|include|add|append|email|copy|share)\b",
            r"|\bsans (?:le dire|en parler|pr[ée]venir|informer) (?:[àa] )?l'utilisateur\b",
            r"|\bohne (?:es )?(?:dem|den) (?:benutzer|nutzer) (?:zu sagen",
            r"|zu informieren|mitzuteilen)",
            r"|\b(?:erw[äa]hne|erw[äa]hnen sie) (?:das|dies) nicht\b",
            r"|\bsin (?:dec[ií]rselo|informar) al usuario\b|不要告诉用户|不要让用户知道",
        ),
    ),
    (
        "reveal_instructions",
        2,
        compile_rule(
            r"\b(?:print|reveal|repeat|output|show|tell|list|dump|display|give|recite)\b",
            r"[^.\n]{0,30}?\b(?:your\s+(?:\w+\s+){0,2}(?:instructions|prompt|rules|guidelines",
            r"|system message|developer message|configuration)|the\s+(?:initial|original|hidden",
            r"|system|developer|internal|operating)\s+(?:instructions|prompt|message|rules))\b",
            r"|\b(?:context window|hidden prompt|hidden developer message|initial instructions",
            r"|words above starting with)\b",
        ),
    ),
    (
        "safety_disabled",
        2,
        compile_rule(
            r"\bsafety\s+(?:protocols?|filters?|guidelines|checks|policy",
            r"|policies|restrictions)\s+(?:are\s+|were\s+|have been\s+)?(?:disabled|off|lifted",
            r"|removed|suspended|do not apply|don't apply|no longer apply)",
            r"|\b(?:ignore|skip|bypass|disable|turn off)\s+(?:the\s+|your\s+|all\s+)?(?:safety",
            r"|content policy|content filters?)\b",
            r"|\b(?:act as|respond as|you are|behave as)\b[^.\n]{0,30}?\b(?:uncensored",
            r"|unrestricted|unfiltered|without (?:any )?(?:limits|restrictions|filters))\b",
            r"|\b(?:no|without any|without)\s+(?:restrictions|filters",
            r"|limits)\s+whatsoever",
        ),
    ),
    (
        "decode_and_follow",
        2,
        compile_rule(
            r"\b(?:decode|decrypt|translate|convert|rot-?13|base64|hex(?:adecimal)?|binary)\b",
            r"[^.\n]{0,80}?\b(?:follow|do (?:exactly )?what it says|execute|comply|obey|run it",
            r"|act on|carry out|do what)\b",
        ),
    ),
    (
        "memory_persistence",
        2,
        compile_rule(
            r"\bsave\b[^.\n]{0,40}?\bto your (?:long-term |persistent )?memory\b",
            r"|\bremember (?:this )?for (?:all )?future (?:tasks|replies|conversations|sessions)\b",
            r"|\b(?:in|to) every (?:future )?(?:reply|response|answer|report)\b",
            r"[^.\n]{0,40}?\b(?:from now on|going forward)\b",
        ),
    ),
    (
        "named_tool_call",
        2,
        compile_rule(
            r"\b(?:call|invoke|run|trigger|execute|use)\s+(?:the\s+)?`?[a-z]+_[a-z_]+`?",
            r"(?:\s+(?:tool|function))?\s+(?:on|with|to|and|before|without)\b",
        ),
    ),
    (
        "ignore_everything_above",
        1,
        compile_rule(
            r"\b(?:ignore|disregard|forget)\s+(?:everything|anything|all(?: of)?(?: that| this)?)",
            r"\s+(?:above|before|prior|previously|earlier|you (?:were",
            r"|have been) told|we discussed)",
        ),
    ),
    (
        "no_restrictions",
        1,
        compile_rule(
            r"\b(?:no|without|free of)\s+(?:any\s+)?(?:restrictions|filters|limits|rules)\b",
            r"|\b(?:uncensored|unrestricted|unfiltered|developer mode|modo desarrollador",
            r"|entwicklermodus|mode d[ée]veloppeur)\b",
        ),
    ),
)
