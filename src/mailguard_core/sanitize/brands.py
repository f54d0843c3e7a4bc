"""The bundled brand table: well-known names phishing mail impersonates, and their domains.

Each entry is a brand name (as shown in warnings: ``detail.claimed_name``), the names that
mean it in a display name, subject or heading, and the registrable domains it really sends
mail and links from. ``cc_label`` extends a brand to ``<label>.<country suffix>`` (``amazon.de``,
``google.co.uk``): retailers and search engines with one site per country. Names marked
``strict`` are ordinary words too ("Apple", "Chase", "Target"): they count only when written
with the brand's capitalisation (or all capitals) and never in a body heading alone.

Users extend the table with ``SanitizeOptions.brands`` (``brands`` in an account's config):
``{"Acme Bank": ["acmebank.example", "acme-secure.example"]}``; an entry with a bundled name
adds domains to it.
"""

from __future__ import annotations

import functools
import re

import attrs

from mailguard_core.sanitize import lookalike


@attrs.frozen(eq=False)
class Brand:
    """One brand: its name, the names that mean it, its registrable domains.

    Compared by identity (``eq=False``): the tables are built once and cached, and hashing a
    table of brands by value cost more than the matching itself.
    """

    name: str
    #: an alias starting with ``=`` is matched with its capitalisation (or all capitals) only
    aliases: tuple[str, ...]
    domains: frozenset[str]
    cc_label: str = ""
    #: an ordinary word too: never counted from a body heading alone
    strict: bool = False


def _b(name: str, aliases: str, domains: str, *, cc_label: str = "", strict: bool = False) -> Brand:
    names = tuple(a.strip() for a in aliases.split("|") if a.strip()) or (name,)
    return Brand(name, names, frozenset(domains.split()), cc_label, strict)


#: the bundled table (docs/sanitizer.md lists it); registrable domains only
BUNDLED: tuple[Brand, ...] = (
    _b("PayPal", "PayPal", "paypal.com paypal.me paypalobjects.com paypal-communication.com "
       "paypal-community.com xoom.com", cc_label="paypal"),
    _b("Microsoft", "Microsoft|Microsoft 365|Office 365|Office365|OneDrive|SharePoint|=Outlook"
       "|Hotmail|Windows Live|=Azure|=Microsoft Teams|Xbox",
       "microsoft.com office.com office365.com outlook.com live.com hotmail.com msn.com "
       "microsoftonline.com sharepoint.com onedrive.com azure.com xbox.com skype.com "
       "microsoftstore.com windows.com bing.com linkedin.com sharepointonline.com "
       "cloud.microsoft", strict=False),
    _b("Apple", "=Apple|iCloud|=Apple ID|iTunes|=App Store",
       "apple.com icloud.com me.com mac.com itunes.com apple.news", strict=True),
    _b("Google", "=Google|Gmail|Google Drive|Google Workspace|YouTube",
       "google.com gmail.com googlemail.com youtube.com googleusercontent.com withgoogle.com "
       "google.dev goo.gl g.co", cc_label="google"),
    _b("Amazon", "=Amazon|=Amazon Prime|=Prime Video|=AWS|=Amazon Web Services",
       "amazon.com amazonses.com amazonaws.com aws.amazon.com amazon.jobs primevideo.com "
       "a2z.com amazontrust.com audible.com", cc_label="amazon", strict=True),
    _b("Netflix", "Netflix", "netflix.com netflix.net nflxext.com"),
    _b("DHL", "DHL|DHL Express", "dhl.com dhl.de dhl.co.uk dhl.fr dhl.es dhlparcel.nl "
       "deutschepost.de dpdhl.com", cc_label="dhl"),
    _b("FedEx", "FedEx", "fedex.com"),
    _b("UPS", "=UPS", "ups.com", strict=True),
    _b("USPS", "USPS|U.S. Postal Service|US Postal Service", "usps.com usps.gov"),
    _b("DocuSign", "DocuSign|Docusign", "docusign.com docusign.net"),
    _b("Dropbox", "Dropbox", "dropbox.com dropboxmail.com"),
    _b("Adobe", "=Adobe|Adobe Sign|=Acrobat", "adobe.com adobesign.com echosign.com"),
    _b("Meta", "Facebook|Instagram|WhatsApp|=Meta", "facebook.com facebookmail.com fb.com "
       "instagram.com whatsapp.com meta.com messenger.com", strict=False),
    _b("LinkedIn", "LinkedIn", "linkedin.com"),
    _b("eBay", "eBay", "ebay.com ebay.co.uk ebay.de", cc_label="ebay"),
    _b("Wells Fargo", "Wells Fargo", "wellsfargo.com wf.com"),
    _b("Chase", "=Chase|JPMorgan Chase|J.P. Morgan", "chase.com jpmorgan.com jpmchase.com",
       strict=True),
    _b("Bank of America", "Bank of America|BofA", "bankofamerica.com bofa.com"),
    _b("Citibank", "Citibank|=Citi", "citi.com citibank.com", strict=True),
    _b("HSBC", "=HSBC", "hsbc.com hsbc.co.uk", cc_label="hsbc"),
    _b("Coinbase", "Coinbase", "coinbase.com"),
    _b("Binance", "Binance", "binance.com"),
    _b("Steam", "=Steam|=Valve", "steampowered.com steamcommunity.com valvesoftware.com",
       strict=True),
    _b("Spotify", "Spotify", "spotify.com"),
    _b("Zoom", "=Zoom", "zoom.us zoom.com zoomgov.com", strict=True),
    _b("Norton", "=Norton|NortonLifeLock", "norton.com nortonlifelock.com gen.digital"),
    _b("McAfee", "McAfee", "mcafee.com"),
    _b("Geek Squad", "Geek Squad", "geeksquad.com bestbuy.com"),
    _b("IRS", "=IRS|Internal Revenue Service", "irs.gov", strict=True),
    _b("HMRC", "HMRC", "hmrc.gov.uk gov.uk"),
    _b("Yahoo", "Yahoo|Yahoo Mail", "yahoo.com yahoo.net yahoo-inc.com", cc_label="yahoo"),
    _b("AOL", "=AOL", "aol.com", strict=True),
    _b("Booking.com", "Booking.com", "booking.com"),
    _b("Airbnb", "Airbnb", "airbnb.com", cc_label="airbnb"),
    _b("Stripe", "=Stripe", "stripe.com", strict=True),
    _b("Intuit", "Intuit|QuickBooks|TurboTax", "intuit.com quickbooks.com turbotax.com"),
    _b("Wise", "=Wise|TransferWise", "wise.com transferwise.com", strict=True),
    _b("Revolut", "Revolut", "revolut.com"),
    _b("Walmart", "Walmart", "walmart.com"),
    _b("Twitter", "=Twitter", "twitter.com x.com"),
    _b("GitHub", "GitHub", "github.com githubusercontent.com"),
    _b("Salesforce", "Salesforce", "salesforce.com force.com"),
    _b("American Express", "American Express|AmEx", "americanexpress.com aexp.com"),
    _b("Visa", "=Visa", "visa.com", strict=True),
    _b("Mastercard", "Mastercard|MasterCard", "mastercard.com"),
    _b("BBVA", "=BBVA", "bbva.com bbva.mx bbva.es bbva.com.mx bbvanet.com.mx", cc_label="bbva"),
    _b("Santander", "=Santander", "santander.com santander.co.uk santander.es santander.de",
       cc_label="santander"),
    _b("Sberbank", "Sberbank|=Сбербанк|=Сбер", "sberbank.ru sber.ru sberbank.com"),
    _b("ФНС России", "=ФНС|=ФНС России|Федеральная налоговая служба", "nalog.ru nalog.gov.ru"),
    _b("Deutsche Bank", "Deutsche Bank", "deutsche-bank.de db.com"),
    _b("Sparkasse", "Sparkasse", "sparkasse.de"),
    _b("La Poste", "=La Poste|Colissimo", "laposte.fr laposte.net colissimo.fr"),
    _b("Correos", "=Correos", "correos.es"),
    _b("Royal Mail", "Royal Mail", "royalmail.com"),
    _b("Alipay", "Alipay|=支付宝", "alipay.com"),
    _b("WeChat", "WeChat|=微信", "wechat.com qq.com"),
)  # fmt: skip


@functools.lru_cache(maxsize=16)
def extended(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[Brand, ...]:
    """The bundled table plus ``extra`` ((brand name, registrable domains) pairs)."""
    if not extra:
        return BUNDLED
    table = {b.name.lower(): b for b in BUNDLED}
    for name, domains in extra:
        doms = frozenset(lookalike.registrable(d) for d in domains if d.strip())
        key = name.strip().lower()
        if not key:
            continue
        if key in table:
            old = table[key]
            table[key] = attrs.evolve(old, domains=old.domains | doms)
        else:
            table[key] = Brand(name.strip(), (name.strip(),), doms)
    return tuple(table.values())


_WORD_RE = re.compile(r"\w+")
#: bytes.translate table: ``[a-z0-9_]`` kept, every other byte a space
_WORD_BYTES = bytes(
    c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789_" else 0x20 for c in range(256)
)


@functools.lru_cache(maxsize=32)
def _matcher(
    table: tuple[Brand, ...],
) -> tuple[re.Pattern[str], dict[str, Brand], frozenset[str]]:
    """One regex over every alias spelling, and the brand of each spelling."""
    spellings: dict[str, Brand] = {}
    for brand in table:
        for alias in brand.aliases:
            if alias.startswith("="):
                spellings.setdefault(alias[1:], brand)
                spellings.setdefault(alias[1:].upper(), brand)
            else:
                for form in (alias, alias.lower(), alias.upper(), alias.title()):
                    spellings.setdefault(form, brand)
    ordered = sorted(spellings, key=len, reverse=True)
    body = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in ordered) or "(?!)"
    # not inside a word, an address or a host name (``www.paypal.com``, ``x@paypal``)
    rx = re.compile(rf"(?<![\w.@-])(?:{body})(?![\w@-])")
    firsts = frozenset(_WORD_RE.findall(" ".join(n.split()[0].lower() for n in spellings)))
    return rx, spellings, firsts


def named_brands(text: str, table: tuple[Brand, ...]) -> list[Brand]:
    """The brands ``text`` names (each once, in order of first mention; first 2,000 chars)."""
    rx, spellings, firsts = _matcher(table)
    sample = text[:2_000]
    # in ASCII, ``\w+`` runs of the lower-cased text are the ``[a-z0-9_]`` runs: split in C
    if sample.isascii() and firsts.isdisjoint(
        sample.lower().encode("ascii").translate(_WORD_BYTES).decode("ascii").split()
    ):
        return []  # no word a spelling starts with (non-ASCII text is always matched)
    out: list[Brand] = []
    for match in rx.finditer(sample):
        brand = spellings.get(" ".join(match.group(0).split()))
        if brand is not None and brand not in out:
            out.append(brand)
    return out


_CC_SUFFIX_RE = re.compile(r"(?:co\.|com\.|ne\.|or\.)?[a-z]{2}")


def owns(brand: Brand, registrable_domain: str) -> bool:
    """True when ``registrable_domain`` is one of the brand's (or its per-country site)."""
    if registrable_domain in brand.domains:
        return True
    if brand.cc_label and registrable_domain.startswith(brand.cc_label + "."):
        return bool(_CC_SUFFIX_RE.fullmatch(registrable_domain[len(brand.cc_label) + 1 :]))
    return False


@functools.lru_cache(maxsize=32)
def _owner_index(
    table: tuple[Brand, ...],
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """The positions in ``table`` of the brands owning each domain, and of the brands with
    each per-country label (what :func:`owns` reads, indexed once per table)."""
    by_domain: dict[str, list[int]] = {}
    by_label: dict[str, list[int]] = {}
    for i, brand in enumerate(table):
        for domain in brand.domains:
            by_domain.setdefault(domain, []).append(i)
        if brand.cc_label:
            by_label.setdefault(brand.cc_label, []).append(i)
    return (
        {k: tuple(v) for k, v in by_domain.items()},
        {k: tuple(v) for k, v in by_label.items()},
    )


def owners(table: tuple[Brand, ...], registrable_domain: str) -> tuple[Brand, ...]:
    """The brands of ``table`` that :func:`owns` ``registrable_domain``, in table order,
    found in the table's index instead of asking every brand."""
    by_domain, by_label = _owner_index(table)
    found = set(by_domain.get(registrable_domain, ()))
    dot = registrable_domain.find(".")
    while dot >= 0:  # every label that can stand before the per-country suffix
        if registrable_domain[:dot] in by_label and _CC_SUFFIX_RE.fullmatch(
            registrable_domain[dot + 1 :]
        ):
            found.update(by_label[registrable_domain[:dot]])
        dot = registrable_domain.find(".", dot + 1)
    return tuple(table[i] for i in sorted(found))


def same_organisation(table: tuple[Brand, ...], first: str, second: str) -> Brand | None:
    """The brand owning both registrable domains, if one does (the first in table order)."""
    for brand in owners(table, first):
        if owns(brand, second):
            return brand
    return None
