"""Look-alike checks on sender, reply-to and link domains (duty 6 of the envelope spec).

Registrable domains come from the ``publicsuffixlist`` package's bundled Public Suffix List,
ICANN section only (no network). It replaced tldextract (same answers: the differential test
``tests/unit/test_lookalike_suffixes.py`` against tldextract's snapshot), which built two
suffix tries and imported ``requests``: ~10 MB of the server's memory against ~1.3 MB. One
known difference: the bare parent of a wildcard rule (``nom.br`` of ``*.nom.br``) is itself a
public suffix here, so :func:`has_public_suffix` is False for it (its registrable domain is
the same).
Mixed-script labels follow UTS #39's "highly restrictive" level: one script per label, or
Latin with Han + Hiragana/Katakana (Japanese), Han + Bopomofo (Chinese), Han + Hangul
(Korean); a label wholly in one non-Latin script is fine. The confusable skeleton is the one
of :mod:`mailguard_core.model.skeleton` (Unicode's confusables: Cyrillic ``а`` and Latin ``a``,
``0`` and ``O``, ``rn`` and ``m``) plus ``vv``/``w`` and ``cl``/``d``, and is compared with
the known domains.
"""

from __future__ import annotations

import functools
import re

from confusable_homoglyphs import categories
from publicsuffixlist import PublicSuffixList

from mailguard_core.model.skeleton import skeleton as name_skeleton

_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_IGNORED_SCRIPTS = frozenset({"COMMON", "INHERITED"})
DOMAIN_RE = re.compile(r"(?<![\w.@-])(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}(?![\w-])")
#: letters and the multi-letter look-alike Unicode's confusables do not map them to
_MULTI_LETTER = (("w", "vv"), ("d", "cl"))


@functools.cache
def _suffixes() -> PublicSuffixList:
    """The bundled list, ICANN rules only; a TLD it does not know is no public suffix."""
    return PublicSuffixList(only_icann=True, accept_unknown=False)


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
    found = _suffixes().privatesuffix(host) if host else None
    return found if isinstance(found, str) else host


@functools.lru_cache(maxsize=4096)
def has_public_suffix(domain: str) -> bool:
    """True when ``domain`` ends in a known public suffix and has a label before it."""
    host = to_unicode(domain)
    return bool(host) and _suffixes().privatesuffix(host) is not None


def is_idn(domain: str) -> bool:
    """True for a domain with an ``xn--`` label or non-ASCII characters."""
    if not domain.isascii():
        return True
    lower = domain.lower()
    return "xn--" in lower and any(lab.startswith("xn--") for lab in lower.split("."))


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
def ascii_prototype(ch: str) -> str:
    """The one ASCII letter or digit (lower case) that ``ch`` looks like, from the same
    skeleton (Cyrillic ``І``, Greek ``Β``, fullwidth ``ｂ``), else ``ch`` itself; accented
    letters keep their accent, so stay themselves."""
    if ch.isascii():
        return ch
    found = name_skeleton(ch, fold=False, marks=True)
    return found.lower() if len(found) == 1 and found.isascii() and found.isalnum() else ch


@functools.lru_cache(maxsize=4096)
def skeleton(domain: str) -> str:
    """A confusable skeleton of ``domain``: the one skeleton of names
    (:func:`mailguard_core.model.skeleton.skeleton`, Unicode's confusables, case folded, accents
    kept) with ``w`` and ``d`` spelled as their look-alikes ``vv`` and ``cl``, which Unicode's
    data does not list (it has ``m`` and ``rn``)."""
    text = name_skeleton(to_unicode(domain), marks=True)
    for letter, lookalike in _MULTI_LETTER:
        text = text.replace(letter, lookalike)
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
