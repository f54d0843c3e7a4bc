"""sanitize/lookalike's registrable domains (publicsuffixlist) against tldextract, the library
it replaced (issue 13: tldextract's two suffix tries and its ``requests`` import cost the server
~10 MB; publicsuffixlist ~1.3 MB).

The oracle is tldextract's own bundled snapshot (no network). The two packages bundle the
Public Suffix List of different dates, so a rule one of them lacks is skipped (counted, and
bounded); on every rule both know, ``registrable`` and ``has_public_suffix`` answer as
tldextract did: for random labels under each rule, and for the edge cases (wildcards and
their exceptions, IDNs, IPs, unknown TLDs, bare suffixes, a trailing dot, upper case).
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import publicsuffixlist
import pytest
import tldextract  # type: ignore[import-untyped]

from mailguard_core.sanitize import lookalike


@functools.cache
def _oracle() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _expected(domain: str) -> tuple[str, bool]:
    """What lookalike answered with tldextract (its code before the change)."""
    host = lookalike.to_unicode(domain)
    result = _oracle()(host)
    return result.top_domain_under_public_suffix or host, bool(result.suffix and result.domain)


def _icann_rules() -> list[str]:
    dat = Path(publicsuffixlist.__file__).with_name("public_suffix_list.dat")
    text = dat.read_text(encoding="utf-8")
    icann = text.split("===BEGIN ICANN DOMAINS===", 1)[1].split("===END ICANN DOMAINS===", 1)[0]
    return [r for r in (line.strip() for line in icann.splitlines()) if r and r[0] != "/"]


EDGES = [
    "www.example.co.uk", "a.b.example.com", "xn--mnchen-3ya.de", "münchen.de", "localhost",
    "1.2.3.4", "foo.invalidtld", "co.uk", "uk", "example.com.", "EXAMPLE.COM", "www.ck",
    "a.www.ck", "a.b.ck", "x.kawasaki.jp", "city.kawasaki.jp", "a.city.kawasaki.jp",
    "xn--fiqs8s", "a.xn--fiqs8s", "例子.中国", "пример.рф", "a.b.c.d.e.example.org",
    "github.io", "user.github.io", "s3.amazonaws.com", "bucket.s3.amazonaws.com", "",
]  # fmt: skip


@pytest.mark.parametrize("domain", EDGES)
def test_edge_cases_answer_as_tldextract_did(domain: str) -> None:
    got = (lookalike.registrable(domain), lookalike.has_public_suffix(domain))
    assert got == _expected(domain)


def test_every_rule_both_lists_know_answers_as_tldextract_did() -> None:
    """One known difference, asserted as such: the bare parent of a wildcard rule (``nom.br``
    of ``*.nom.br``) is a public suffix to publicsuffixlist, a label under ``br`` to
    tldextract; its registrable domain is the same (``nom.br``), only ``has_public_suffix``
    differs (False now: a bare name no one can register is not listed by ``domains_in``)."""
    rules = _icann_rules()
    assert len(rules) > 6000  # the whole ICANN section, not an empty parse
    rng = random.Random(13)
    compared = skipped = wildcard_parents = 0
    for rule in rules:
        if rule.startswith("!"):
            continue  # exceptions: in EDGES (www.ck)
        wildcard = rule.startswith("*.")
        base = rule.removeprefix("*.")
        label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
        under = f"{label}.{base}"
        if _oracle()(under).suffix != (under if wildcard else base):
            skipped += 1  # tldextract's snapshot (older) lacks this rule or has another
            continue
        for domain in (under, f"www.{under}", base):
            got = (lookalike.registrable(domain), lookalike.has_public_suffix(domain))
            want = _expected(domain)
            if wildcard and domain == base and got != want:
                assert got == (want[0], False), (rule, got, want)
                wildcard_parents += 1
                continue
            assert got == want, (rule, domain)
            compared += 1
    assert skipped <= len(rules) // 20, skipped  # the two snapshots differ in a few rules
    assert compared > 3 * len(rules) * 0.9, compared
    assert wildcard_parents < 40, wildcard_parents
