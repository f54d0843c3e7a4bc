"""Phishing signals a careful reader uses: brand impersonation, credential-harvest links,
deceptive link hosts, local phishing pages attached, and urgency (docs/sanitizer.md).

Every finding is a warning whose ``detail`` carries its evidence as *domains* (IDNA/ASCII,
checked against domain syntax, at most 100 characters), names from the bundled brand table
and rule names, never free message text: warnings are rendered outside the untrusted fence.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from mailguard_core.sanitize import lookalike
from mailguard_core.sanitize.brands import Brand, named_brands, owns, same_organisation
from mailguard_core.sanitize.warnings import WarningCollector


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EVIDENCE_RE = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,98}[a-z0-9])?")
_MAX_LINKS = 200
_WINDOW = 200

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
_HTML_EXT = _names("html htm shtml shtm xhtml xht svg svgz mht mhtml")
_HTML_TYPES = frozenset(
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
_URGENCY_RE = re.compile(
    r"\b(?:urgent(?:ly)?|immediately|within (?:24|48|72|12) hours|as soon as possible|asap"
    r"|final (?:notice|warning|reminder)|last (?:chance|warning)|action required"
    r"|immediate action|expires? today|will be (?:suspended|closed|deleted|terminated|locked"
    r"|disabled)|dringend|sofort|imm[ée]diatement|urgente|inmediatamente)\b",
    _F,
)
_PAYMENT_CHANGE_RE = re.compile(
    r"\b(?:(?:new|updated|changed?|different) (?:bank(?:ing)?|account|payment|wire"
    r"|remittance) (?:details|information|instructions|account|number)"
    r"|change (?:of|in|to) (?:our |the )?bank(?:ing)? (?:details|account)"
    r"|(?:wire|bank) transfer|gift ?cards?|iban|swift code|neue bankverbindung"
    r"|nouvelles? coordonn[ée]es bancaires|nuevos? datos bancarios)\b",
    _F,
)
#: a subject or heading about the reader's account, not news about a brand
_ACCOUNT_CONTEXT_RE = re.compile(
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


def evidence_domain(domain: str) -> str | None:
    """``domain`` as ASCII evidence for a warning's detail, or None when it is not one."""
    text = domain.strip().strip(".").lower()
    if not text:
        return None
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return None
    return text if _EVIDENCE_RE.fullmatch(text) and ".." not in text else None


@attrs.frozen
class Href:
    """A link the reader can follow, and the text it is shown with ("" for a bare URL)."""

    href: str
    text: str = ""


def _split(href: str) -> urllib.parse.SplitResult | None:
    try:
        parts = urllib.parse.urlsplit(href.strip())
        if parts.scheme.lower() not in ("http", "https"):
            return None
        parts.port  # noqa: B018 - raises ValueError on a bad port
        return parts
    except ValueError:
        return None


def _host(parts: urllib.parse.SplitResult) -> str:
    try:
        return (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def _numeric_host(host: str) -> bool:
    """A host browsers read as an IPv4 address: dotted, decimal, octal or hex forms."""
    labels = host.split(".")
    return 1 <= len(labels) <= 4 and all(
        re.fullmatch(r"0x[0-9a-f]{1,8}|[0-9]{1,10}", lab) for lab in labels
    )


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not host or not (host[-1].isdigit() or ":" in host):
        return None  # a name ends in a letter (its TLD); an address in a digit or has ':'
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def related(first: str, second: str, table: tuple[Brand, ...]) -> bool:
    """Registrable domains of one owner: equal, one brand's, or the same name elsewhere."""
    if first == second:
        return True
    if same_organisation(table, first, second) is not None:
        return True
    a, b = first.split(".", 1)[0], second.split(".", 1)[0]
    return len(a) >= 4 and a == b


def check_links(
    links: Iterable[Href], warnings: WarningCollector, location: str = "body"
) -> list[tuple[Href, str]]:
    """Deceptive link hosts; returns each followable link with its registrable domain."""
    out: list[tuple[Href, str]] = []
    seen: set[str] = set()
    ip_public: list[str] = []
    ip_private: list[str] = []
    userinfo: list[tuple[str | None, str | None]] = []
    shorteners: list[str] = []
    punycode: list[tuple[str, str]] = []
    for link in links:
        if len(seen) >= _MAX_LINKS:
            break
        parts = _split(link.href)
        if parts is None:
            continue
        host = _host(parts)
        if not host or len(host) > 253:
            continue  # no host, or not a host name at all (DNS names end at 253)
        key = link.href.strip()
        if key in seen:
            continue
        seen.add(key)
        address = _ip(host)
        if address is None and _numeric_host(host):
            ip_public.append("numeric")
            out.append((link, host))
            continue
        if address is not None:
            private = address.is_private or address.is_loopback or address.is_link_local
            (ip_private if private else ip_public).append(str(address))
            out.append((link, host))
            continue
        reg = lookalike.registrable(host)
        if "@" in parts.netloc:
            shown = parts.netloc.rsplit("@", 1)[0]
            userinfo.append((evidence_domain(shown.split(":", 1)[0]), evidence_domain(reg)))
        if reg in SHORTENERS or host in SHORTENERS:
            shorteners.append(reg)
        if lookalike.is_idn(host):
            sk = lookalike.skeleton(reg)
            if sk.isascii() and sk != lookalike.to_unicode(reg):
                punycode.append((reg, sk))
        out.append((link, reg))
    if ip_public:
        detail: dict[str, Any] = {"count": len(ip_public)}
        first = next((ip for ip in ip_public if ip != "numeric"), None)
        if first:
            detail["ip"] = first
        if "numeric" in ip_public:
            detail["reason"] = "numeric_host"
        warnings.add("link_ip_literal", location, detail)
    if ip_private:
        warnings.add(
            "link_ip_literal", location,
            {"count": len(ip_private), "ip": ip_private[0], "private": True},
            severity="informational",
        )  # fmt: skip
    if userinfo:
        shown_domain, real = userinfo[0]
        detail = {"count": len(userinfo)}
        if shown_domain:
            detail["shown_domain"] = shown_domain
        if real:
            detail["real_domain"] = real
        warnings.add("link_userinfo_trick", location, detail)
    if shorteners:
        warnings.add(
            "link_shortener", location,
            {"count": len(shorteners), "real_domain": evidence_domain(shorteners[0]) or ""},
        )  # fmt: skip
    if punycode:
        reg, sk = punycode[0]
        detail = {"count": len(punycode), "looks_like": evidence_domain(sk) or ""}
        real = evidence_domain(reg)
        if real:
            detail["real_domain"] = real
        warnings.add("link_punycode_lookalike", location, detail)
    return out


_PAGE_FEATURES: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("form", re.compile(rb"<form\b", re.I)),
    ("password_field", re.compile(rb"type\s*=\s*[\"']?password", re.I)),
    ("script", re.compile(rb"<script\b|\bon(?:load|error|click)\s*=|javascript:", re.I)),
    ("redirect", re.compile(
        rb"http-equiv\s*=\s*[\"']?refresh|(?:window|document|top)\.location|location\.(?:href|replace)",
        re.I)),
    ("decoder", re.compile(rb"\batob\s*\(|\bunescape\s*\(|fromCharCode|document\.write", re.I)),
)  # fmt: skip
PAGE_SCAN_BYTES = 500_000


def is_page(filename: str, content_type: str) -> bool:
    """True for an attachment an HTML engine would open: HTML, SVG, web archives."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return ext in _HTML_EXT or content_type.lower() in _HTML_TYPES


def page_features(data: bytes) -> list[str]:
    """What makes an attached page active: a form, a password field, script, a redirect."""
    sample = data[:PAGE_SCAN_BYTES]
    return [name for name, rx in _PAGE_FEATURES if rx.search(sample)]


def check_attachments(
    attachments: Sequence[dict[str, Any]],
    warnings: WarningCollector,
    features: dict[str, list[str]] | None = None,
) -> None:
    """HTML, SVG and web-archive attachments: the classic local phishing page.

    Adversarial when the page is an attachment (not an inline part of the message) and has
    a form, a password field, script or a redirect (``features``, by part id); otherwise
    informational: a saved web page or an SVG logo is ordinary.
    """
    features = features or {}
    for item in attachments[:100]:
        name = str(item.get("filename", ""))
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        ctype = str(item.get("content_type", "")).lower()
        if not is_page(name, ctype):
            continue
        found = features.get(str(item.get("part_id", "")), [])
        detail: dict[str, Any] = {"content_type": ctype[:100], "extension": ext[:10]}
        if found:
            detail["features"] = found
        active = bool(found) and not item.get("inline")
        severity: Any = None if active else "informational"
        warnings.add("attachment_html_page", f"attachment:{item.get('part_id', '')}", detail,
                     severity=severity)  # fmt: skip


def _heading(body_text: str) -> str:
    for line in body_text[:3_000].splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def check_brand(
    sender: dict[str, str] | None,
    subject: str,
    body_text: str,
    table: tuple[Brand, ...],
    warnings: WarningCollector,
) -> Brand | None:
    """A display name, subject or body heading naming a brand the sender's domain is not."""
    if sender is None:
        return None
    address = sender.get("address", "").lower()
    domain = address.rsplit("@", 1)[-1] if "@" in address else ""
    if not domain:
        return None
    sender_reg = lookalike.registrable(domain)
    heading = _heading(body_text)
    places: list[tuple[str, str, bool]] = [
        ("display_name", sender.get("name", ""), False),
        ("subject", subject, True),
        ("heading", heading, True),
    ]
    for where, text, needs_context in places:
        if not text:
            continue
        for brand in named_brands(text, table):
            if owns(brand, sender_reg):
                continue
            if needs_context and (where == "heading" and brand.strict):
                continue
            if needs_context and not _ACCOUNT_CONTEXT_RE.search(text):
                continue
            detail: dict[str, Any] = {"claimed_name": brand.name, "where": where}
            real = evidence_domain(sender_reg)
            if real:
                detail["real_domain"] = real
            detail["brand_domains"] = sorted(brand.domains)[:5]
            warnings.add(
                "brand_impersonation",
                "header:from"
                if where == "display_name"
                else ("header:subject" if where == "subject" else "body"),
                detail,
            )
            return brand
    return None


def _positions(text: str, needle: str) -> int:
    if not needle:
        return -1
    return text.find(needle[:80])


def check_credential_harvest(
    sender: dict[str, str] | None,
    body_text: str,
    links: list[tuple[Href, str]],
    brand: Brand | None,
    table: tuple[Brand, ...],
    warnings: WarningCollector,
) -> None:
    """A call to log in, verify, unlock or pay beside a link to an unrelated domain."""
    address = (sender or {}).get("address", "").lower()
    domain = address.rsplit("@", 1)[-1] if "@" in address else ""
    sender_reg = lookalike.registrable(domain) if domain else ""
    text = body_text[:50_000]
    for link, reg in links:
        address_ip = _ip(reg)
        if address_ip is not None and (address_ip.is_private or address_ip.is_loopback):
            continue  # an intranet server (link_ip_literal says so, informational)
        if reg in REDIRECTORS or reg in MAIL_PROVIDERS:
            continue  # a tracker or a help desk: says nothing about the destination
        if sender_reg and related(reg, sender_reg, table):
            continue
        if any(owns(b, reg) for b in table) and not _user_content(link.href, reg):
            continue  # a link to a well-known brand's own site is not a harvest
        if brand is not None and owns(brand, reg):
            continue
        cta = _cta(link.text)
        if cta is None:
            anchor = link.text if link.text.strip() else link.href
            at = _positions(text, anchor.strip())
            if at < 0:
                continue
            cta = _cta(text[max(0, at - _WINDOW) : at + len(anchor) + 40])
        if cta is None:
            continue
        detail: dict[str, Any] = {"cta": cta}
        real = evidence_domain(reg)
        if real:
            detail["real_domain"] = real
        sender_ev = evidence_domain(sender_reg) if sender_reg else None
        if sender_ev:
            detail["sender_domain"] = sender_ev
        if brand is not None:
            detail["claimed_name"] = brand.name
        warnings.add("credential_harvest_link", "body", detail)
        return


#: hosts of well-known brands that serve anyone's pages and forms (phishing kits use them)
USER_CONTENT = _names(
    "sites.google.com docs.google.com drive.google.com forms.gle storage.googleapis.com "
    "firebasestorage.googleapis.com script.google.com onedrive.live.com 1drv.ms "
    "forms.office.com forms.microsoft.com sharepoint.com dropbox.com dl.dropboxusercontent.com "
    "googleusercontent.com"
)


def _user_content(href: str, reg: str) -> bool:
    if reg in USER_CONTENT:
        return True
    parts = _split(href)
    return parts is not None and _host(parts) in USER_CONTENT


def _cta(text: str) -> str | None:
    if not text:
        return None
    for name, rx in CTA:
        if rx.search(text):
            return name
    return None


def check_urgency(subject: str, body_text: str, warnings: WarningCollector) -> None:
    """Urgency or payment-change language, reported only beside another adversarial signal."""
    if not any(w.code in COMPANIONS and w.severity == "adversarial" for w in warnings.items()):
        return
    sample = f"{subject}\n{body_text[:20_000]}"
    kinds = []
    if _URGENCY_RE.search(sample):
        kinds.append("urgency")
    if _PAYMENT_CHANGE_RE.search(sample):
        kinds.append("payment_change")
    if kinds:
        warnings.add("phishing_urgency_language", "body", {"kinds": kinds})
