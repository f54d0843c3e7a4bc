"""Multilingual variants of the common rules (de, fr, es, it, zh)."""

from __future__ import annotations

import re

from mailguard_core.sanitize.injection.patterns import compile_rule

#: (name, weight, regex)
MULTILINGUAL: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    # --- multilingual variants of the common ones (de, fr, es, it, zh) -----------------------
    (
        "ignore_previous_instructions_ml",
        2,
        compile_rule(
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
        compile_rule(
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
        compile_rule(
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
        compile_rule(
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
        compile_rule(
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
        compile_rule(
            r"\b(?:verrate|zeige|gib)\b[^.\n]{0,30}?\b(?:deine|die)\s+(?:system)?(?:anweisungen",
            r"|instruktionen)\b|\br[ée]v[eè]le[zr]?(?:-moi)?\b[^.\n]{0,30}?\b(?:tes|vos)",
            r"\s+instructions\b|\brevela\b[^.\n]{0,30}?\b(?:tus|sus|le tue)\s+(?:instrucciones",
            r"|istruzioni)\b|\brivela\b[^.\n]{0,30}?\bistruzioni\b",
            r"|(?:告诉我|显示|输出|重复|泄露)[^。\n]{0,10}?(?:你的)?(?:系统)?(?:提示词?|指令)",
        ),
    ),
)
