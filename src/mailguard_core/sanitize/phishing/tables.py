"""The phishing signals' bundled tables: domain lists and the phrases they look for."""

from __future__ import annotations

import re


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: link shorteners: the destination is hidden from the reader (and from mailguard)
SHORTENERS = _names(
    "bit.ly bitly.com tinyurl.com t.co goo.gl ow.ly is.gd buff.ly rebrand.ly cutt.ly "
    "shorturl.at rb.gy t.ly tiny.cc bl.ink s.id lnkd.in qrco.de v.gd clck.ru x.co surl.li "
    "urlz.fr shorte.st adf.ly tiny.one short.gy 2u.pm u.to rotf.lol t.me"
)
#: bulk-mail senders' click trackers and security gateways: a link through them says nothing
#: about where it really goes, so it is neither related nor unrelated to the sender
REDIRECTORS = _names(
    "sendgrid.net list-manage.com mailchimp.com mcusercontent.com mandrillapp.com mailgun.org "
    "sparkpostmail.com exacttarget.com rs6.net constantcontact.com hubspotlinks.com "
    "hubspot.com hs-sites.com createsend.com createsend1.com cmail19.com cmail20.com "
    "mailjet.com mjt.lu sendinblue.com brevo.com sibforms.com awstrack.me klaviyomail.com "
    "klaviyo.com mktoweb.com mkt.com postmarkapp.com mlsend.com customeriomail.com "
    "substack.com beehiiv.com convertkit-mail.com ck.page emlnk.com "
    "proofpoint.com urldefense.com mimecast.com cudasvc.com trendmicro.com fireeye.com "
    "barracudanetworks.com safelinks.protection.outlook.com"
)
#: help desks, CRMs and bulk senders that legitimately take replies for another domain
MAIL_PROVIDERS = _names(
    "zendesk.com freshdesk.com helpscout.net helpscout.com zohodesk.com zoho.com zohomail.com "
    "kayako.com desk.com intercom.io intercom-mail.com intercom.com hubspot.com "
    "hubspotemail.net salesforce.com force.com mailchimp.com list-manage.com sendgrid.net "
    "mandrillapp.com mailgun.org amazonses.com sparkpostmail.com createsend.com "
    "constantcontact.com mailjet.com sendinblue.com brevo.com frontapp.com groovehq.com "
    "gorgias.com gorgias.io helpshift.com happyfox.com jitbit.com freshservice.com "
    "servicenowservices.com service-now.com atlassian.net atlassian.com jira.com "
    "github.com gitlab.com googlegroups.com groups.io freelists.org lists.sourceforge.net "
    "substack.com beehiiv.com convertkit.com postmarkapp.com"
)
#: free mail: never "the sender's mail provider" (anyone can get an address there)
FREEMAIL = _names(
    "gmail.com googlemail.com yahoo.com ymail.com hotmail.com outlook.com live.com msn.com "
    "aol.com icloud.com me.com mac.com gmx.com gmx.de gmx.net web.de mail.ru yandex.ru "
    "yandex.com protonmail.com proton.me pm.me tutanota.com zoho.com mail.com qq.com "
    "163.com 126.com naver.com hotmail.fr hotmail.co.uk yahoo.co.uk yahoo.fr libero.it "
    "orange.fr free.fr laposte.net t-online.de"
)
HTML_EXT = _names("html htm shtml shtm xhtml xht svg svgz mht mhtml")
HTML_TYPES = frozenset(
    ("text/html", "application/xhtml+xml", "image/svg+xml", "multipart/related+html",
     "message/html", "application/x-mimearchive")
)  # fmt: skip

_F = re.IGNORECASE
#: calls to act that credential phishing needs; names are the ``detail.cta`` values
CTA: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "log_in",
        re.compile(
            r"\b(?:log ?in|sign ?in|login|log on|anmelden|einloggen|connectez|connexion"
            r"|inicia(?:r)? sesi[oó]n)\b",
            _F,
        ),
    ),
    (
        "verify_account",
        re.compile(
            r"\b(?:verify|confirm|validate|authenticate|re-?confirm|best[äa]tigen|verifizieren"
            r"|v[ée]rifie[rz]?|confirme[rz]?|verifica[r]?|confirma[r]?)\b[^.\n]{0,40}?"
            r"\b(?:account|identity|e-?mail|address|information|details|login|credentials|"
            r"mailbox|password|billing|payment|konto|identit[äa]t|compte|identit[ée]|cuenta"
            r"|identidad|datos)\b",
            _F,
        ),
    ),
    (
        "unlock_account",
        re.compile(
            r"\b(?:unlock|restore|reactivate|re-activate|recover|reinstate|entsperren"
            r"|d[ée]bloque[rz]?|desbloquea[r]?)\b[^.\n]{0,30}?\b(?:account|access|mailbox"
            r"|konto|zugang|compte|acc[eè]s|cuenta|acceso)\b"
            r"|\b(?:account|mailbox|konto|compte|cuenta)\b[^.\n]{0,30}?"
            r"\b(?:has been |was |is |will be )?"
            r"(?:suspended|locked|limited|disabled|on hold|restricted|deactivated|gesperrt"
            r"|suspendu|bloqu[ée]|suspendida|bloqueada)\b",
            _F,
        ),
    ),
    (
        "pay",
        re.compile(
            r"\b(?:pay (?:now|the (?:outstanding|overdue|remaining) (?:balance|amount|invoice))"
            r"|settle (?:the|your) (?:balance|invoice|payment)|update (?:your )?(?:payment|billing"
            r"|card|bank) (?:details|information|info|method)"
            r"|payment (?:failed|declined|was declined|could not be processed)"
            r"|jetzt bezahlen|payer maintenant|pagar ahora)\b",
            _F,
        ),
    ),
    (
        "reset_password",
        re.compile(
            r"\b(?:reset|change|update|expire[sd]?)\b[^.\n]{0,20}?\bpassword\b"
            r"|\bpassword\b[^.\n]{0,20}?\b(?:expire[sd]?|reset)\b",
            _F,
        ),
    ),
)
URGENCY_RE = re.compile(
    r"\b(?:urgent(?:ly)?|immediately|within (?:24|48|72|12) hours|as soon as possible|asap"
    r"|final (?:notice|warning|reminder)|last (?:chance|warning)|action required"
    r"|immediate action|expires? today|will be (?:suspended|closed|deleted|terminated|locked"
    r"|disabled)|dringend|sofort|imm[ée]diatement|urgente|inmediatamente)\b",
    _F,
)
PAYMENT_CHANGE_RE = re.compile(
    r"\b(?:(?:new|updated|changed?|different) (?:bank(?:ing)?|account|payment|wire"
    r"|remittance) (?:details|information|instructions|account|number)"
    r"|change (?:of|in|to) (?:our |the )?bank(?:ing)? (?:details|account)"
    r"|(?:wire|bank) transfer|gift ?cards?|iban|swift code|neue bankverbindung"
    r"|nouvelles? coordonn[ée]es bancaires|nuevos? datos bancarios)\b",
    _F,
)
#: a subject or heading about the reader's account, not news about a brand
ACCOUNT_CONTEXT_RE = re.compile(
    r"\byour\b[^.\n]{0,30}?\b(?:account|ID|password|order|payment|invoice|billing"
    r"|subscription|package|parcel|delivery|shipment|mailbox|storage|card|membership|refund"
    r"|statement|document|sign-?in|login|profile|wallet)s?\b"
    r"|\b(?:account|ID|password|payment|sign-?in|login|mailbox|card)\b[^.\n]{0,25}?"
    r"\b(?:suspend\w*|lock\w*|limit\w*|verif\w*|confirm\w*|expir\w*|fail\w*|declin\w*"
    r"|unusual|disabled|on hold|restricted|update required)"
    r"|\b(?:action required|verify now|unusual (?:sign-?in|activity)|security alert)\b",
    _F,
)
#: the codes one of which must be present for urgency language to count
COMPANIONS = frozenset(
    {
        "brand_impersonation", "credential_harvest_link", "link_ip_literal",
        "link_userinfo_trick", "link_punycode_lookalike", "attachment_html_page",
        "reply_to_mismatch", "display_name_spoof", "lookalike_confusable_domain",
        "lookalike_mixed_script_domain", "html_link_text_mismatch", "html_form_removed",
        "sender_auth_failed", "filename_spoof",
    }
)  # fmt: skip

PAGE_FEATURES: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("form", re.compile(rb"<form\b", re.I)),
    ("password_field", re.compile(rb"type\s*=\s*[\"']?password", re.I)),
    ("script", re.compile(rb"<script\b|\bon(?:load|error|click)\s*=|javascript:", re.I)),
    ("redirect", re.compile(
        rb"http-equiv\s*=\s*[\"']?refresh|(?:window|document|top)\.location|location\.(?:href|replace)",
        re.I)),
    ("decoder", re.compile(rb"\batob\s*\(|\bunescape\s*\(|fromCharCode|document\.write", re.I)),
)  # fmt: skip
PAGE_SCAN_BYTES = 500_000

#: hosts of well-known brands that serve anyone's pages and forms (phishing kits use them)
USER_CONTENT = _names(
    "sites.google.com docs.google.com drive.google.com forms.gle storage.googleapis.com "
    "firebasestorage.googleapis.com script.google.com onedrive.live.com 1drv.ms "
    "forms.office.com forms.microsoft.com sharepoint.com dropbox.com dl.dropboxusercontent.com "
    "googleusercontent.com"
)
