"""The deterministic default :class:`InjectionDetector`: weighted regular-expression rules.

Each rule has a weight; the text is flagged when the weights of the rules that fired add up
to at least 2. Strong rules (weight 2) are phrases that have almost no business use
("ignore all previous instructions", chat-template tokens, text addressing an AI assistant,
mailguard's own tool names); weak rules (weight 1) need company (a request to use a tool,
to forward mailbox contents somewhere, to keep something from the user).
Measured by ``bench/injection.py`` over a labelled corpus.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import re
import urllib.parse
from collections.abc import Sequence
from typing import Any

from mailguard_core.ports.detector import InjectionDetector

#: the stdlib's regex parser (3.11-3.13; typeshed has no stubs for it), read by :func:`_guarded`
_sre: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")

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
    # --- issue 19: task-style requests, role lines, exfiltration, concealment ---------------
    (
        "role_prefix_line",
        2,
        _rx(
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
        _rx(
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
        _rx(
            r"\b(?:include|add|append|insert|put|mention)\b[^.\n]{0,60}?\bin your ",
            r"(?:reply|response)\b",
        ),
    ),
    (
        "secret_code_request",
        2,
        _rx(
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
        _rx(
            r"\b(?:the user'?s?|the mailbox owner'?s?|the account owner'?s?)\s+(?:\w+\s+){0,2}",
            r"(?:passwords?|reset codes?|verification codes?|security codes?|one-time codes?",
            r"|otps?|credentials|api keys?|tokens?|2fa codes?|private keys?)\b",
        ),
    ),
    (
        "forward_all_mail",
        2,
        _rx(
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
        _rx(
            r"!\[[^\]\n]{0,100}\]\(\s*https?://[^)\s]*[?&][^)\s]*=",
            r"|\b(?:append|add|encode|include|put|insert)\b[^.\n]{0,60}?\b(?:to|in|into|as)\s+",
            r"(?:the\s+|a\s+)?(?:url|link|query string|query parameter|request|image url)\b",
            r"|\bcall\s+(?:the\s+)?http_?(?:post|get|request)\b",
        ),
    ),
    (
        "send_to_external_address",
        1,
        _rx(
            r"\b(?:send|forward|upload|transfer|submit)\b[^\n]{0,80}?",
            r"\b(?:to|at)\s+(?:[\w.+-]+@[\w-]+\.[\w.]+|https?://\S+|the (?:\w+ )?webhook)",
        ),
    ),
    (
        "conceal_instruction",
        2,
        _rx(
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
        _rx(
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
        _rx(
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
        _rx(
            r"\b(?:decode|decrypt|translate|convert|rot-?13|base64|hex(?:adecimal)?|binary)\b",
            r"[^.\n]{0,80}?\b(?:follow|do (?:exactly )?what it says|execute|comply|obey|run it",
            r"|act on|carry out|do what)\b",
        ),
    ),
    (
        "memory_persistence",
        2,
        _rx(
            r"\bsave\b[^.\n]{0,40}?\bto your (?:long-term |persistent )?memory\b",
            r"|\bremember (?:this )?for (?:all )?future (?:tasks|replies|conversations|sessions)\b",
            r"|\b(?:in|to) every (?:future )?(?:reply|response|answer|report)\b",
            r"[^.\n]{0,40}?\b(?:from now on|going forward)\b",
        ),
    ),
    (
        "named_tool_call",
        2,
        _rx(
            r"\b(?:call|invoke|run|trigger|execute|use)\s+(?:the\s+)?`?[a-z]+_[a-z_]+`?",
            r"(?:\s+(?:tool|function))?\s+(?:on|with|to|and|before|without)\b",
        ),
    ),
    (
        "ignore_everything_above",
        1,
        _rx(
            r"\b(?:ignore|disregard|forget)\s+(?:everything|anything|all(?: of)?(?: that| this)?)",
            r"\s+(?:above|before|prior|previously|earlier|you (?:were",
            r"|have been) told|we discussed)",
        ),
    ),
    (
        "no_restrictions",
        1,
        _rx(
            r"\b(?:no|without|free of)\s+(?:any\s+)?(?:restrictions|filters|limits|rules)\b",
            r"|\b(?:uncensored|unrestricted|unfiltered|developer mode|modo desarrollador",
            r"|entwicklermodus|mode d[ée]veloppeur)\b",
        ),
    ),
    # --- multilingual variants of the common ones (de, fr, es, it, zh) -----------------------
    (
        "ignore_previous_instructions_ml",
        2,
        _rx(
            r"\b(?:ignorier(?:e|en sie)?|vergiss|vergessen sie|missachte)\b[^.\n]{0,40}?",
            r"\b(?:anweisungen|instruktionen|regeln|richtlinien|vorgaben|befehle|alles)\b",
            r"|\b(?:ignore[zr]?|oublie[zr]?)\b[^.\n]{0,40}?\b(?:instructions|consignes",
            r"|r[eè]gles|directives)\b",
            r"|\b(?:ignora(?:r)?|olvida(?:r)?|olvide|descarta)\b[^.\n]{0,40}?\b(?:instrucciones",
            r"|indicaciones|reglas|directrices|istruzioni|regole|direttive)\b",
            r"|\bdimentica\b[^.\n]{0,40}?\b(?:istruzioni|regole|direttive|tutto)\b",
            r"|(?:忽略|无视|忽视|忘记|忘掉|不要理会)[^。\n]{0,20}?(?:指令|指示|说明|提示|规则|要求)",
        ),
    ),
    (
        "role_override_ml",
        2,
        _rx(
            r"\bdu bist (?:jetzt|nun|ab jetzt|ab sofort)\b|\bab (?:jetzt",
            r"|sofort) (?:bist|hast|gibst",
            r"|antwortest) du\b|\b(?:tu es|vous [êe]tes) (?:maintenant|d[ée]sormais)\b",
            r"|\b[àa] partir de maintenant,? (?:tu|vous)\b|\bahora eres\b",
            r"|\ba partir de ahora,? (?:eres|est[aá]s|tienes|responde)",
            r"|\bahora est[aá]s en modo\b|\bora sei\b|\bda ora in poi\b",
            r"|你现在是|从现在开始[，,]?你|你的新(?:任务|角色|指令)",
        ),
    ),
    (
        "system_prompt_reference_ml",
        2,
        _rx(
            r"\bsystem-prompt\b|\bsystemanweisung(?:en)?\b|\bsystemprompt\b",
            r"|\bprompt syst[eè]me\b|\binstructions syst[eè]me\b",
            r"|\bprompt (?:del|de) sistema\b|\binstrucciones del sistema\b",
            r"|\bprompt di sistema\b|\bistruzioni di sistema\b",
            r"|系统提示|系统指令|开发者模式|越狱模式",
        ),
    ),
    (
        "addresses_ai_agent_ml",
        2,
        _rx(
            r"\b(?:liebe|lieber|hallo|an die|an den|hinweis f[üu]r (?:die|den))\s+(?:ki|assistent",
            r"|assistentin|ki-assistent(?:en)?)\b|\bwenn du eine ki bist\b",
            r"|\b(?:cher|ch[eè]re|note pour l'|[àa] l')\s*(?:ia|assistant)\b",
            r"|\bsi (?:tu es|vous [êe]tes) une ia\b",
            r"|\b(?:querido|hola|nota para el|para el)\s+(?:asistente|modelo)\b|\bsi eres una ia\b",
            r"|(?:如果你是|致|给)(?:一个)?(?:AI|人工智能|助手|智能助理|大模型|语言模型)",
            r"|(?:AI|人工智能)助手[，,：:]",
        ),
    ),
    (
        "exfiltration_request_ml",
        1,
        _rx(
            r"\b(?:leite|sende|schicke)\b[^.\n]{0,40}?\b(?:alle|s[äa]mtliche)\b[^.\n]{0,30}?",
            r"\b(?:e-?mails|nachrichten|daten|passw[öo]rter)\b",
            r"|\b(?:transf[eéè]re[zr]?|envoie[zr]?",
            r"|envoie-les)\b[^.\n]{0,40}?\b(?:tous|toutes|les)\b",
            r"[^.\n]{0,30}?(?:e-?mails|messages|donn[ée]es|courriels|mots de passe|adresse)",
            r"|\b(?:reenv[ií]a|env[ií]a|manda)\b[^.\n]{0,40}?\b(?:todos|todas|los|las)\b",
            r"[^.\n]{0,30}?\b(?:correos|mensajes|datos|emails|contraseñas)\b",
            r"|(?:转发|发送|发给)[^。\n]{0,20}?(?:所有|全部)[^。\n]{0,10}?(?:邮件|消息|数据|密码)",
        ),
    ),
    (
        "reveal_instructions_ml",
        2,
        _rx(
            r"\b(?:verrate|zeige|gib)\b[^.\n]{0,30}?\b(?:deine|die)\s+(?:system)?(?:anweisungen",
            r"|instruktionen)\b|\br[ée]v[eè]le[zr]?(?:-moi)?\b[^.\n]{0,30}?\b(?:tes|vos)",
            r"\s+instructions\b|\brevela\b[^.\n]{0,30}?\b(?:tus|sus|le tue)\s+(?:instrucciones",
            r"|istruzioni)\b|\brivela\b[^.\n]{0,30}?\bistruzioni\b",
            r"|(?:告诉我|显示|输出|重复|泄露)[^。\n]{0,10}?(?:你的)?(?:系统)?(?:提示词?|指令)",
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
    "role_prefix_line": (
        _w("system systemhinweis assistant ai developer admin operator sistema user tool"),
        frozenset(),
        ("<user>", "</user>", "<tool>", "système", "系统"),
    ),
    "assistant_output_request": (
        _w(
            "answer answers summary summaries output report reply replies response responses"
            " summarize summarise summarizing summarising process processing read reading search"
        ),
        _w("include add append insert put mention end start when search every each user"),
        (),
    ),
    "output_request_reply": (_w("include add append insert put mention"), _w("reply response"), ()),
    "secret_code_request": (
        _w("code codes password passwords pin pins token tokens otp otps credentials key keys"),
        _w("reply respond answer s"),
        (),
    ),
    "user_secret_reference": (
        _w("user owner"),
        _w("s"),
        (),
    ),
    "forward_all_mail": (
        _w("forward redirect send copy bcc cc autoforward auto rule filter"),
        frozenset(),
        (),
    ),
    "exfiltration_url": (
        _w("append add encode include put insert http_post httppost http_get http_request"),
        _w("url link query request http_post httppost http_get http_request"),
        ("](http",),
    ),
    "send_to_external_address": (
        _w("send forward upload transfer submit"),
        frozenset(),
        (),
    ),
    "conceal_instruction": (
        _w(
            "mention reveal disclose show tell say include quote repeat refer knowing noticing"
            " aware informed notified silently secretly quietly covertly sans ohne nicht sin"
        ),
        frozenset(),
        ("不要告诉用户", "不要让用户知道"),
    ),
    "reveal_instructions": (
        _w(
            "print reveal repeat output show tell list dump display give recite context hidden"
            " initial words"
        ),
        _w("instructions prompt rules guidelines message configuration window above"),
        (),
    ),
    "safety_disabled": (
        _w("safety uncensored unrestricted unfiltered whatsoever"),
        frozenset(),
        ("content polic", "content filter"),
    ),
    "decode_and_follow": (
        _w("decode decrypt translate convert rot rot13 base64 hex hexadecimal binary"),
        _w("follow execute comply obey run act carry do"),
        (),
    ),
    "memory_persistence": (_w("memory remember every"), frozenset(), ()),
    "named_tool_call": (_w("call invoke trigger execute run use"), frozenset(), ()),
    "ignore_everything_above": (_w("ignore disregard forget"), _w("everything anything all"), ()),
    "no_restrictions": (
        _w(
            "restrictions filters limits rules uncensored unrestricted unfiltered developer"
            " desarrollador entwicklermodus veloppeur"
        ),
        frozenset(),
        (),
    ),
    "ignore_previous_instructions_ml": (
        # accented words reach the word set cut at the accent (``r`` ``gles``): the ASCII
        # spellings and stems are enough for a trigger, the regex decides
        _w(
            "ignoriere ignorier ignorieren ignore ignorez ignorer ignora ignorar vergiss"
            " vergessen missachte oublie oubliez oublier olvida olvidar olvide descarta dimentica"
        ),
        frozenset(),
        ("忽略", "无视", "忽视", "忘记", "忘掉", "不要理会"),
    ),
    "role_override_ml": (
        _w("bist sofort jetzt maintenant sormais partir ahora ora"),
        frozenset(),
        ("你现在", "从现在开始", "你的新"),
    ),
    "system_prompt_reference_ml": (
        _w("systemanweisung systemanweisungen systemprompt sistema syst"),
        frozenset(),
        ("system-prompt", "系统", "开发者模式", "越狱"),
    ),
    "addresses_ai_agent_ml": (
        _w("ki ia assistent assistentin asistente modelo ai assistant"),
        frozenset(),
        ("人工智能", "助手", "智能助理", "大模型", "语言模型"),
    ),
    "exfiltration_request_ml": (
        _w(
            "leite sende schicke envoie envoyez reenvia envia manda transfere transferez transf"
            " reenv env"
        ),
        frozenset(),
        ("转发", "发送", "发给"),
    ),
    "reveal_instructions_ml": (
        _w("verrate zeige gib revela rivela revele revelez"),
        frozenset(),
        ("vèle", "véle", "告诉我", "显示", "输出", "重复", "泄露"),
    ),
}


def _triggered(name: str, words: set[str], lower: str) -> bool:
    any_of, also, substrings = _TRIGGERS[name]
    if substrings and any(sub in lower for sub in substrings):
        return True
    if not any_of:
        return False
    return not words.isdisjoint(any_of) and (not also or not words.isdisjoint(also))


#: a substring without which a rule cannot match at all (checked before its trigger)
_REQUIRES: dict[str, str] = {"named_tool_call": "_"}


#: RULES in order with their triggers: (name, weight, regex, any_of, also, substrings, the
#: ASCII ones among them (all an ASCII text can hold), required substring)
_PLAN = tuple(
    (
        name, weight, rx, _TRIGGERS[name][0], _TRIGGERS[name][1],
        _TRIGGERS[name][2], tuple(sub for sub in _TRIGGERS[name][2] if sub.isascii()),
        _REQUIRES.get(name, ""),
    )
    for name, weight, rx in RULES
)  # fmt: skip


def _masks() -> tuple[Any, ...]:
    """``_PLAN``'s triggers as bit masks (bit ``i`` is rule ``i``), for :meth:`_detect`."""
    any_mask: dict[str, int] = {}
    also_mask: dict[str, int] = {}
    no_also = 0
    subs: dict[str, int] = {}
    required: dict[str, int] = {}
    for i, (_, _, _, any_of, also, all_subs, _, needed) in enumerate(_PLAN):
        bit = 1 << i
        for word in any_of:
            any_mask[word] = any_mask.get(word, 0) | bit
        for word in also:
            also_mask[word] = also_mask.get(word, 0) | bit
        if not also:
            no_also |= bit
        for sub in all_subs:
            subs[sub] = subs.get(sub, 0) | bit
        if needed:
            required[needed] = required.get(needed, 0) | bit

    def grouped(
        items: list[tuple[str, int]],
    ) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
        # a substring is looked for only when its first character is in the text
        groups: dict[str, list[tuple[str, int]]] = {}
        for sub, sub_mask in items:
            groups.setdefault(sub[0], []).append((sub, sub_mask))
        return tuple((guard, tuple(group)) for guard, group in groups.items())

    return (
        any_mask,
        also_mask,
        no_also,
        frozenset(any_mask) | frozenset(also_mask),
        grouped([(sub, m) for sub, m in subs.items() if sub.isascii()]),
        grouped(list(subs.items())),
        tuple(required.items()),
        tuple((1 << i, plan[1]) for i, plan in enumerate(_PLAN)),
        tuple((1 << i, plan[0], plan[1], _guarded(plan[2])) for i, plan in enumerate(_PLAN)),
    )


def _first_chars(items: Any) -> set[str] | None:
    """The characters a match of the parsed pattern ``items`` can start with, when every
    branch starts (after zero-width ``\\b``/``^``) with a literal; else None."""
    for op, av in items:
        if op is _sre.AT:
            continue
        if op is _sre.LITERAL:
            return {chr(av)}
        if op is _sre.SUBPATTERN and not av[1] and not av[2]:
            return _first_chars(av[-1])
        if op is _sre.BRANCH:
            out: set[str] = set()
            for branch in av[1]:
                first = _first_chars(branch)
                if first is None:
                    return None
                out |= first
            return out
        return None
    return None


def _guarded(rx: re.Pattern[str]) -> re.Pattern[str]:
    """``rx`` with a lookahead for the characters its matches start with: the same matches
    (the lookahead, compiled with the same flags, holds at every place a match starts),
    found faster because the engine skips the other positions quickly."""
    first = _first_chars(_sre_parse.parse(rx.pattern, rx.flags))
    if not first:
        return rx
    chars = "".join(re.escape(ch) for ch in sorted(first))
    return re.compile(f"(?=[{chars}])(?:{rx.pattern})", rx.flags)


(
    _ANY_MASK, _ALSO_MASK, _NO_ALSO_MASK, _TRIGGER_WORDS, _ASCII_SUBSTRINGS, _ALL_SUBSTRINGS,
    _REQUIRED_MASKS, _WEIGHTS, _BITS,
) = _masks()  # fmt: skip


def _top_level_alternatives(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|`` (the rules' patterns escape no ``|``)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(pattern):
        if ch == "(" and pattern[i - 1 : i] != "\\":
            depth += 1
        elif ch == ")" and pattern[i - 1 : i] != "\\":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


_SECRET_CODE_BIT = next(bit for bit, name, _, _ in _BITS if name == "secret_code_request")
_SECRET_CODE_RX = next(rx for name, _, rx in RULES if name == "secret_code_request")
#: secret_code_request's two alternatives ("reply with ... code", "send ... the user's code")
_SECRET_REPLY_RX, _SECRET_SEND_RX = (
    re.compile(alt, _F) for alt in _top_level_alternatives(_SECRET_CODE_RX.pattern)
)
assert f"{_SECRET_REPLY_RX.pattern}|{_SECRET_SEND_RX.pattern}" == _SECRET_CODE_RX.pattern


def _secret_code_request(sample: str, lower: str, words: set[str]) -> bool:
    """``_SECRET_CODE_RX.search(sample)`` for an ASCII ``sample``: an alternative runs only
    when the words or the literal phrase it cannot match without are in the text (in ASCII
    ``\\b`` bounds exactly the ``[a-z_]`` runs :func:`_words` splits, and the pattern's
    spaces are literal)."""
    if (
        "with" in words
        and not words.isdisjoint(("reply", "respond", "answer"))
        and _SECRET_REPLY_RX.search(sample)
    ):
        return True
    if any(phrase in lower for phrase in _SECRET_OWNERS):
        return _SECRET_SEND_RX.search(sample) is not None
    return False


_SECRET_OWNERS = ("the user", "the owner", "the recipient", "the account holder")


_INVISIBLE_RE = re.compile("[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff\U000e0000-\U000e007f]")
_TAG_RE = re.compile("[\U000e0020-\U000e007e]")
_SPACED_RE = re.compile(r"(?<![A-Za-z])(?:[A-Za-z][ .\-_*·]{1,2}){3,}[A-Za-z](?![A-Za-z])")
_SPACED_SEP_RE = re.compile(r"(?<=\w)[ .\-_*·](?=\w)")


def _unspace(run: str) -> str:
    """``i g n o r e  a l l`` -> ``ignore all``: single separators go, wider gaps are spaces."""
    return " ".join(_SPACED_SEP_RE.sub("", run).split())


#: a word of 4+ characters with at least two letters and two of the digits leetspeak uses
_LEET_WORD_RE = re.compile(
    r"(?<![\w@$])(?=(?:[a-z@$]*[013457]){2})(?=(?:[0-9@$]*[a-z]){2})[a-z0-9@$]{4,}(?![\w@$])",
    re.I,
)
#: a leet digit between two letters (``n0r``, ``r3v``): the cheap sign that leetspeak is there
_LEET_PAIR_RE = re.compile(r"[a-zA-Z][013457@$][a-zA-Z]")
_LEET = str.maketrans("0134578@$", "oieastbas")
#: anchored at a token start, so a short token is tried once, not once per character
_B64_RE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX_RE = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}){12,}")
#: a whole token holding a percent escape (anchored at the token start: linear)
_PERCENT_RE = re.compile(r"(?<!\S)\S*?%[0-9A-Fa-f]{2}\S*")
_UNICODE_ESCAPE_RE = re.compile(r"(?:\\u[0-9a-fA-F]{4}){4,}")
_MAX_FRAGMENTS = 20
#: encoded-looking tokens tried per kind (tracking URLs are full of them)
_MAX_ATTEMPTS = 60
#: an ASCII letter beside a non-ASCII letter inside one word (``іgnоrе``)
_HOMOGLYPH_CLASS = "\u0370-\u03ff\u0400-\u052f\u13a0-\u13ff\u2100-\u214f\uff21-\uff5a"
_MIXED_WORD_RE = re.compile(f"[a-zA-Z][{_HOMOGLYPH_CLASS}]|[{_HOMOGLYPH_CLASS}][a-zA-Z]")
_HOMOGLYPH_RE = re.compile(f"[{_HOMOGLYPH_CLASS}]")
_MIXED_TOKEN_RE = re.compile(
    f"[^\\W\\d_]*(?:[a-zA-Z][{_HOMOGLYPH_CLASS}]|[{_HOMOGLYPH_CLASS}][a-zA-Z])[^\\W\\d_]*"
)
_MAX_FRAGMENT = 8_000


def _table(classes: dict[str, bytes]) -> bytes:
    """A ``bytes.translate`` table: each character of a key becomes that key's byte, every
    other byte (the bytes of non-ASCII characters among them) a space."""
    table = bytearray(b" " * 256)
    for chars, byte in classes.items():
        for ch in chars:
            table[ord(ch)] = byte[0]
    return bytes(table)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: ASCII letters ``a``, the spacing separators ``s`` (``·`` is replaced by ``.`` first), the
#: leet characters ``0``: what :data:`_SPACED_RE` and :data:`_LEET_PAIR_RE` look at
_CLASS_BYTES = _table({_LETTERS: b"a", " .-_*": b"s", "013457@$": b"0"})
#: the characters :data:`_B64_RE` runs over
_B64_BYTES = _table({_LETTERS + "0123456789+/_-": b"b"})


def _classes(text: str, table: bytes) -> bytes:
    """``text`` as bytes with every ASCII character replaced by its class in ``table``;
    a non-ASCII character becomes one to four spaces (the patterns read ASCII only), so
    two ASCII characters are adjacent here exactly when they are adjacent in ``text``."""
    return text.encode("utf-8", "surrogatepass").translate(table)


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n\t"
_ASCII_LETTERS = _LETTERS.encode("ascii")


def _printable(data: bytes) -> str | None:
    """``data`` as text when it reads as text (at least 85% printable ASCII or valid UTF-8)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    if data.isascii():
        # the same counts in C: printable ASCII is `` `` to ``~``, ASCII letters are A-Za-z
        printable = len(data) - len(data.translate(None, _PRINTABLE_ASCII))
        letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    else:
        printable = sum(c.isprintable() or c in "\n\t" for c in text)
        letters = sum(c.isalpha() for c in text)
    if printable < 0.85 * len(text):
        return None
    return text if letters >= 0.5 * len(text.replace(" ", "")) else None


_URL_RE = re.compile(
    r"[HhFfWw](?:(?<=[Hh])[Tt][Tt][Pp][Ss]?://|(?<=[Ff])[Tt][Pp]://|(?<=[Ww])[Ww][Ww]\.)\S+"
)


def _decoded_fragments(sample: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """Encoded fragments that decode to text; URLs are left out (their tokens and percent
    escapes are addresses, and mail is full of them)."""
    if "://" in sample or "www." in sample:
        sample = _URL_RE.sub(" ", sample)
    b64: list[str] = []
    hexes: list[str] = []
    # one scan for both: a hex run of 24+ digits is also a base64-alphabet token
    # no run of 16 base64-alphabet characters: _B64_RE finds nothing (and no hex run)
    tokens = _B64_RE.finditer(sample) if b"b" * 16 in _classes(sample, _B64_BYTES) else ()
    for _, match in zip(range(_MAX_ATTEMPTS), tokens, strict=False):
        if len(b64) + len(hexes) >= _MAX_FRAGMENTS:
            break
        token = match.group(0)[:_MAX_FRAGMENT]
        hex_run = _HEX_RE.search(token)
        if hex_run is not None:
            text = _printable(bytes.fromhex(hex_run.group(0)))
            if text:
                hexes.append(text)
                continue
        if token.islower() or token.isupper():
            continue  # a long word, a slug or a hex id: base64 of text mixes cases
        raw = token.replace("-", "+").replace("_", "/").rstrip("=")
        try:
            data = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        text = _printable(data)
        if text:
            b64.append(text)
    percent: list[str] = []
    if sample.count("%") >= 3:  # a token is kept only with 3 escapes or more
        for _, m in zip(range(_MAX_ATTEMPTS), _PERCENT_RE.finditer(sample), strict=False):
            token = m.group(0)[:_MAX_FRAGMENT]
            if token.count("%") >= 3:
                percent.append(urllib.parse.unquote(token))
    escapes = []
    matches = _UNICODE_ESCAPE_RE.finditer(sample) if "\\u" in sample else iter(())
    for _, m in zip(range(_MAX_FRAGMENTS), matches, strict=False):
        escapes.append("".join(chr(int(u, 16)) for u in re.findall(r"[0-9a-fA-F]{4}", m.group(0))))
    return b64, hexes, percent, escapes


def _fold_homoglyphs(sample: str) -> str | None:
    """Words mixing ASCII letters with Greek, Cyrillic, Cherokee, letterlike or fullwidth
    look-alikes (``іgnоrе``) folded to ASCII, else None. Accented Latin is left alone."""
    changed = False

    def fold(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(0)
        folded = _HOMOGLYPH_RE.sub(lambda c: _homoglyph(c.group(0)), word)
        changed = changed or folded != word
        return folded

    out = _MIXED_TOKEN_RE.sub(fold, sample)
    return out if changed else None


def _homoglyph(ch: str) -> str:
    from mailguard_core.sanitize.lookalike import ascii_prototype

    return ascii_prototype(ch)


def variants(sample: str) -> list[tuple[str, str]]:
    """De-obfuscated readings of ``sample``, each with the name of the trick it undoes.

    Only tricks whose trace is present are undone: invisible characters (zero-width, soft
    hyphens, Unicode tag characters, which also spell ASCII), look-alike letters inside ASCII
    words, letter spacing (``i g n o r e``), leetspeak (``1gn0r3``), and encoded fragments
    (base64, hex, percent-encoding, ``\\uXXXX`` escapes) that decode to text.
    """
    out: list[tuple[str, str]] = []
    if _INVISIBLE_RE.search(sample):
        tags = "".join(chr(ord(c) - 0xE0000) for c in _TAG_RE.findall(sample))
        cleaned = _INVISIBLE_RE.sub("", sample)
        out.append(("obfuscation_invisible_chars", cleaned + ("\n" + tags if tags else "")))
    if not sample.isascii() and _MIXED_WORD_RE.search(sample):
        folded = _fold_homoglyphs(sample)
        if folded is not None:
            out.append(("obfuscation_homoglyphs", folded))
    classes = _classes(sample.replace("\u00b7", "."), _CLASS_BYTES)
    # every _SPACED_RE match holds two single letters between separators (its 2nd and 3rd
    # repetitions): without ``sasas`` or ``sassas`` here, the regex cannot match
    if (b"sasas" in classes or b"sassas" in classes) and _SPACED_RE.search(sample):
        out.append(
            ("obfuscation_letter_spacing",
             _SPACED_RE.sub(lambda m: _unspace(m.group(0)), sample))
        )  # fmt: skip
    # ``len(_LEET_PAIR_RE.findall(sample[:20_000]))``: both count non-overlapping matches
    # from the left, and a non-ASCII character separates here as it does in the text
    if _classes(sample[:20_000], _CLASS_BYTES).count(b"a0a") >= 3:
        leet = _LEET_WORD_RE.sub(lambda m: m.group(0).lower().translate(_LEET), sample)
        out.append(("obfuscation_leetspeak", leet))
    b64, hexes, percent, escapes = _decoded_fragments(sample)
    for name, texts in (
        ("obfuscation_base64", b64), ("obfuscation_hex", hexes),
        ("obfuscation_percent_encoding", percent), ("obfuscation_unicode_escapes", escapes),
    ):  # fmt: skip
        if texts:
            out.append((name, "\n".join(texts)))
    return out


class RuleBasedDetector:
    """Weighted rules over the first 200,000 characters; flagged at a total weight of 2.

    When the text as written reaches no verdict, each de-obfuscated reading of it
    (:func:`variants`) is checked the same way; a hit there answers the rules that fired
    plus the name of the trick (``obfuscation_base64``, ``obfuscation_homoglyphs``, ...).
    """

    threshold = 2

    def detect(self, text: str) -> Sequence[str]:
        """Names of the rules that fired when their weights reach the threshold, else ()."""
        sample = text[:_MAX_SCAN]
        found = self._detect(sample)
        if found:
            return found
        for name, variant in variants(sample):
            found = self._detect(variant[:_MAX_SCAN])
            if found:
                return (*found, name)
        return ()

    def _detect(self, sample: str) -> tuple[str, ...]:
        lower = sample.lower()
        # the rules whose trigger holds, as a bit mask over _PLAN (see :func:`_triggered`):
        # one set intersection with every trigger word, then the masks of the words found
        any_mask = 0
        also_mask = _NO_ALSO_MASK
        words = _words(lower)
        for word in words & _TRIGGER_WORDS:
            any_mask |= _ANY_MASK.get(word, 0)
            also_mask |= _ALSO_MASK.get(word, 0)
        mask = any_mask & also_mask
        for guard, group in _ASCII_SUBSTRINGS if lower.isascii() else _ALL_SUBSTRINGS:
            if guard in lower:
                for sub, sub_mask in group:
                    if sub_mask & ~mask and sub in lower:
                        mask |= sub_mask
        for required, required_mask in _REQUIRED_MASKS:
            if mask & required_mask and required not in lower:
                mask &= ~required_mask
        if not mask:
            return ()
        possible = 0
        for bit, weight in _WEIGHTS:
            if mask & bit:
                possible += weight
        if possible < self.threshold:
            return ()  # the rules that fire are among the triggered: they cannot reach it
        ascii_text = lower.isascii()
        fired = [
            (name, weight)
            for bit, name, weight, rx in _BITS
            if mask & bit
            and (
                _secret_code_request(sample, lower, words)
                if bit == _SECRET_CODE_BIT and ascii_text
                else rx.search(sample)
            )
        ]
        if sum(w for _, w in fired) >= self.threshold:
            return tuple(name for name, _ in fired)
        return ()


class AnyDetector:
    """Several detectors as one: the names every one of them answered, in order, each once.

    For plugging a second opinion (a local classifier) beside the rules:
    ``SanitizeOptions(detector=AnyDetector(RuleBasedDetector(), MyClassifier()))``.
    """

    def __init__(self, *detectors: InjectionDetector) -> None:
        self.detectors = detectors

    def detect(self, text: str) -> Sequence[str]:
        """The union of the detectors' answers (``()`` when none of them flags ``text``)."""
        names: list[str] = []
        for detector in self.detectors:
            for name in detector.detect(text):
                if name not in names:
                    names.append(name)
        return tuple(names)
