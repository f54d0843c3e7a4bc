"""Look-alike checks on sender, reply-to and link domains (duty 6 of the envelope spec).

Registrable domains come from tldextract's bundled public-suffix snapshot only (no network).
Mixed-script labels follow UTS #39's "highly restrictive" level: one script per label, or
Latin with Han + Hiragana/Katakana (Japanese), Han + Bopomofo (Chinese), Han + Hangul
(Korean); a label wholly in one non-Latin script is fine. The confusable skeleton maps each
character to an ASCII prototype (confusable-homoglyphs data plus the UTS #39 multi-letter
prototypes rn/vv/cl) and is compared with the known domains.
"""

from __future__ import annotations

import functools
import re

import tldextract
from confusable_homoglyphs import categories, confusables

_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_IGNORED_SCRIPTS = frozenset({"COMMON", "INHERITED"})
DOMAIN_RE = re.compile(r"(?<![\w.@-])(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}(?![\w-])")
_ASCII_FOLDS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("|", "l"))


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=4096)
def to_unicode(domain: str) -> str:
    """Lowercase; decode ``xn--`` labels (undecodable labels are kept as they are)."""
    labels = []
    for label in domain.strip().strip(".").lower().split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                pass
        labels.append(label)
    return ".".join(labels)


@functools.lru_cache(maxsize=4096)
def registrable(domain: str) -> str:
    """The registrable domain (``example.co.uk``), or the lowercased host when there is none."""
    host = to_unicode(domain)
    result = _extractor()(host)
    return result.top_domain_under_public_suffix or host


@functools.lru_cache(maxsize=4096)
def has_public_suffix(domain: str) -> bool:
    """True when ``domain`` ends in a known public suffix and has a label before it."""
    result = _extractor()(to_unicode(domain))
    return bool(result.suffix and result.domain)


def is_idn(domain: str) -> bool:
    """True for a domain with an ``xn--`` label or non-ASCII characters."""
    return not domain.isascii() or any(lab.startswith("xn--") for lab in domain.lower().split("."))


def _script(ch: str) -> str:
    try:
        return str(categories.aliases_categories(ch)[0])
    except (KeyError, IndexError, TypeError):
        return "COMMON"


@functools.lru_cache(maxsize=4096)
def is_mixed_script(domain: str) -> bool:
    """True when some label mixes scripts beyond UTS #39's highly restrictive level."""
    for label in to_unicode(domain).split("."):
        if label.isascii():
            continue
        scripts = {_script(ch) for ch in label if ch.isalpha()} - _IGNORED_SCRIPTS
        if len(scripts) > 1 and not any(scripts <= mix for mix in _ALLOWED_MIXES):
            return True
    return False


@functools.cache
def _prototype(ch: str) -> str:
    if ch.isascii():
        return ch
    for entry in confusables.confusables_data.get(ch, ()):
        candidate = str(entry.get("c", "")).strip("\u200e")
        if len(candidate) == 1 and candidate.isascii() and candidate.isalnum():
            return candidate.lower()
    return ch


@functools.lru_cache(maxsize=4096)
def skeleton(domain: str) -> str:
    """A confusable skeleton of ``domain``: look-alike characters map to one prototype."""
    text = "".join(_prototype(ch) for ch in to_unicode(domain).replace("I", "l")).lower()
    for seq, proto in _ASCII_FOLDS:
        text = text.replace(proto, seq) if proto in "mwd" else text.replace(seq, proto)
    return text


def confusable_with(domain: str, known: tuple[str, ...]) -> str | None:
    """The known domain that ``domain`` imitates (same skeleton, different domain), or None."""
    if not known:
        return None
    mine = registrable(domain)
    sk = skeleton(mine)
    for other in known:
        theirs = registrable(other)
        if theirs != mine and skeleton(theirs) == sk:
            return other
    return None


def domains_in(text: str) -> list[str]:
    """Domain-like tokens in ``text`` that end in a public suffix (lowercased)."""
    found = []
    for match in DOMAIN_RE.finditer(text.lower()):
        token = match.group(0)
        if has_public_suffix(token):
            found.append(token)
    return found
