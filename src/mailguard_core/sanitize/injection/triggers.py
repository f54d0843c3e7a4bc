"""The cheap trigger of each rule: words and substrings without which its regex cannot fire."""

from __future__ import annotations

from mailguard_core.sanitize.injection.patterns import AGENT_WORDS, ws

#: per rule: (words of which one must occur, words of which one must also occur, substrings)
#: a rule's regex runs only when its cheap trigger matches (the regexes are the slow part)
TRIGGERS: dict[str, tuple[frozenset[str], frozenset[str], tuple[str, ...]]] = {
    "ignore_previous_instructions": (
        ws("ignore disregard forget override bypass skip"),
        ws(
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
        ws("prompt developer jailbreak dan admin instruction instructions"),
        frozenset(),
        (),
    ),
    "addresses_ai_agent": (AGENT_WORDS, frozenset(), ("a.i.",)),
    "role_override": (
        ws("now pretend role task goal instruction instructions"),
        ws("you your be"),  # "pretend to be"
        (),
    ),
    "mailguard_tool_name": (
        ws(
            "send_email delete_message move_message download_attachment "
            "create_draft mark_read mark_unread expunge delete_folder rename_folder "
            "use_account list_accounts search_advanced fetch_message"
        ),
        frozenset(),
        (),
    ),
    "tool_invocation": (
        ws("tool tools function functions command commands function_call tool_name"),
        frozenset(),
        (),
    ),
    "exfiltration_request": (
        ws("forward send email mail upload post share copy exfiltrate leak"),
        ws(
            "email emails mail mails messages message inbox contacts password "
            "passwords credentials api key keys token tokens secret secrets "
            "conversation conversations correspondence"
        ),
        (),
    ),
    "conceal_from_user": (
        ws(
            "tell telling inform informing mention mentioning reveal revealing "
            "notify notifying alert alerting asking show showing"
        ),
        ws("user human owner recipient operator"),
        (),
    ),
    "vocative_agent": (AGENT_WORDS | ws("ai agent"), frozenset(), ()),
    "claims_authority": (
        ws("owner authorize authorise authorized authorised consented approved"),
        frozenset(),
        (),
    ),
    "mass_mailbox_action": (
        ws("delete erase wipe purge expunge forward archive move"),
        ws("all every each"),
        (),
    ),
    "urgent_override": (
        # "urgentinstruction:" (the regex allows no space there) is one word
        ws("important urgent critical priority")
        | frozenset(
            a + b
            for a in ("important", "urgent", "critical", "priority")
            for b in ("instruction", "instructions", "notice", "update")
        ),
        ws("you assistant ai agent"),
        (),
    ),
    "role_prefix_line": (
        ws(
            "system systemhinweis assistant ai developer admin operator sistema user tool"
            " systemnote systemmessage systemprompt systemupdate systeme"
        ),
        frozenset(),
        ("<user>", "</user>", "<tool>", "système", "系统"),
    ),
    "assistant_output_request": (
        ws(
            "answer answers summary summaries output report reply replies response responses"
            " summarize summarise summarizing summarising process processing read reading search"
        ),
        ws("include add append insert put mention end start when search every each all user"),
        (),
    ),
    "output_request_reply": (ws("include add append insert put mention"), ws("reply response"), ()),
    "secret_code_request": (
        ws(
            "code codes password passwords pin pins token tokens otp otps credential credentials"
            " key keys"
        ),
        ws("reply respond answer send forward give share paste include tell provide"),
        (),
    ),
    "user_secret_reference": (
        ws("user users owner owners"),
        ws("password passwords code codes otp otps credentials key keys token tokens"),
        (),
    ),
    "forward_all_mail": (
        ws("forward redirect send copy bcc cc autoforward auto rule filter"),
        frozenset(),
        (),
    ),
    "exfiltration_url": (
        ws(
            "append add encode include put insert http_post httppost http_get httpget"
            " http_request httprequest"
        ),
        ws("url link query request http_post httppost http_get httpget http_request httprequest"),
        ("](",),  # "![x](  http..." (blanks allowed before the URL)
    ),
    "send_to_external_address": (
        ws("send forward upload transfer submit"),
        frozenset(),
        (),
    ),
    "conceal_instruction": (
        ws(
            "mention reveal disclose show tell say include quote repeat refer knowing noticing"
            " aware informed notified silently secretly quietly covertly sans ohne nicht sin"
        ),
        frozenset(),
        ("不要告诉用户", "不要让用户知道"),
    ),
    "reveal_instructions": (
        ws(
            "print reveal repeat output show tell list dump display give recite context hidden"
            " initial words"
        ),
        ws("instructions prompt rules guidelines message configuration window above"),
        (),
    ),
    "safety_disabled": (
        ws("safety uncensored unrestricted unfiltered whatsoever limits restrictions filters"),
        frozenset(),
        ("content polic", "content filter"),
    ),
    "decode_and_follow": (
        ws("decode decrypt translate convert rot base hex hexadecimal binary"),
        ws("follow execute comply obey run act carry do"),
        (),
    ),
    "memory_persistence": (ws("memory remember every"), frozenset(), ()),
    "named_tool_call": (ws("call invoke trigger execute run use"), frozenset(), ()),
    "ignore_everything_above": (ws("ignore disregard forget"), ws("everything anything all"), ()),
    "no_restrictions": (
        ws(
            "restrictions filters limits rules uncensored unrestricted unfiltered developer"
            " desarrollador entwicklermodus developpeur veloppeur"
        ),
        frozenset(),
        (),
    ),
    "ignore_previous_instructions_ml": (
        # accented words reach the word set cut at the accent (``r`` ``gles``): the ASCII
        # spellings and stems are enough for a trigger, the regex decides
        ws(
            "ignoriere ignorier ignorieren ignore ignorez ignorer ignora ignorar vergiss"
            " vergessen missachte oublie oubliez oublier olvida olvidar olvide descarta dimentica"
        ),
        frozenset(),
        ("忽略", "无视", "忽视", "忘记", "忘掉", "不要理会"),
    ),
    "role_override_ml": (
        ws("bist sofort jetzt maintenant desormais sormais partir ahora ora"),
        frozenset(),
        ("你现在", "从现在开始", "你的新"),
    ),
    "system_prompt_reference_ml": (
        ws("systemanweisung systemanweisungen systemprompt sistema systeme syst"),
        frozenset(),
        ("system-prompt", "系统", "开发者模式", "越狱"),
    ),
    "addresses_ai_agent_ml": (
        # "cheria", "chèreassistant" (no blank needed between): one word, or cut at the è
        ws(
            "ki ia assistent assistentin asistente modelo ai assistant"
            " cheria cherassistant chereia chereassistant"
        ),
        frozenset(),
        ("chère", "人工智能", "助手", "智能助理", "大模型", "语言模型"),
    ),
    "exfiltration_request_ml": (
        ws(
            "leite sende schicke envoie envoiez envoier envoyez reenvia envia manda transfere"
            " transferez transferer transf reenv env"
        ),
        frozenset(),
        ("转发", "发送", "发给"),
    ),
    "reveal_instructions_ml": (
        ws("verrate zeige gib revela rivela revele revelez reveler"),
        frozenset(),
        ("vèle", "évele", "告诉我", "显示", "输出", "重复", "泄露"),
    ),
}


def _triggered(name: str, words: set[str], lower: str) -> bool:
    any_of, also, substrings = TRIGGERS[name]
    if substrings and any(sub in lower for sub in substrings):
        return True
    if not any_of:
        return False
    return not words.isdisjoint(any_of) and (not also or not words.isdisjoint(also))


#: a substring without which a rule cannot match at all (checked before its trigger)
REQUIRES: dict[str, str] = {"named_tool_call": "_"}


def _g(*groups: str) -> tuple[frozenset[str], ...]:
    return tuple(ws(group) for group in groups)


#: for ASCII text, a finer necessary condition of the heaviest rules: one of the
#: alternatives, each (word groups that must all meet the text's words, substrings that must
#: all occur in the lower-cased text), read off the rule's regex branch by branch.
#: In ASCII text a ``\bword\b`` of a regex is exactly a run of :func:`plan.text_words`
#: (``[a-z_]`` between characters outside ``[A-Za-z0-9_]``), ``e-mail`` leaves ``mail``,
#: ``don't`` leaves ``don``, ``the user's`` leaves ``user``; a word a branch reaches only as
#: a prefix (``forward`` of ``forwarding``) is left out. The detector reads every trigger
#: off :func:`anchors.ascii_fold` of the text (``ı``, ``İ``, ``ſ``, Kelvin ``K`` as the ASCII
#: letters IGNORECASE matches them to: letters as well, so ``\b`` falls in the same places);
#: text still non-ASCII after that keeps the triggers alone.
ASCII_NEEDS: dict[str, tuple[tuple[tuple[frozenset[str], ...], tuple[str, ...]], ...]] = {
    "tool_invocation": (
        (_g("call invoke use run execute trigger",
            "tool tools function functions command commands"), ()),
        ((), ('"tool"',)),
        ((), ('"function_call"',)),
        ((), ('"tool_name"',)),
    ),
    "named_tool_call": (
        (_g("call invoke run trigger execute use", "on with to and before without"), ("_",)),
    ),
    "conceal_instruction": (
        (_g("not never don",
            "mention reveal disclose show tell say include quote repeat refer",
            "this these above",
            "instruction instructions note notes request requests step steps comment comments"
            " directive directives"), ()),
        (_g("without", "user users recipient recipients owner owners human humans",
            "knowing noticing aware informed notified"), ()),
        (_g("silently secretly quietly covertly",
            "forward send delete call execute run include add append email copy share"), ()),
        (_g("sans", "utilisateur"), ()),
        (_g("ohne", "benutzer nutzer"), ()),
        (_g("erwahne erwahnen", "nicht"), ()),
        (_g("sin", "usuario"), ()),
    ),
    "forward_all_mail": (
        (_g("forward redirect send copy bcc cc autoforward",
            "all every each any future incoming new",
            "email emails mail mails message messages correspondence inbox", "to"), ("@",)),
        (_g("create set setup add make configure", "rule filter"), ()),
    ),
    "exfiltration_request": (
        (_g("forward send email mail upload post share copy exfiltrate leak",
            "all every last previous recent latest these your user users",
            "email emails mail mails message messages inbox contacts password passwords"
            " credentials key keys token tokens secret secrets conversation conversations"
            " correspondence"), ()),
    ),
    "send_to_external_address": (
        (_g("send forward upload transfer submit", "to at"), ("@",)),
        (_g("send forward upload transfer submit", "to at"), ("://",)),
        (_g("send forward upload transfer submit", "to at", "webhook"), ()),
    ),
}  # fmt: skip
