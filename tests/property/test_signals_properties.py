"""Properties of the phishing signals and the injection detector (issue 19): total over
arbitrary text, evidence is domain-shaped, and the fence and the envelope shape unchanged."""

from __future__ import annotations

import importlib
import itertools
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard_core.model.errors import MailguardError
from mailguard_core.sanitize import brands, phishing, render_text, sanitize_message
from mailguard_core.sanitize.body import hidden_destinations
from mailguard_core.sanitize.files import type_mismatch_severity
from mailguard_core.sanitize.html import Link
from mailguard_core.sanitize.injection import RuleBasedDetector, variants
from mailguard_core.sanitize.warnings import SEVERITY, WarningCollector

_links_module = importlib.import_module("mailguard_core.sanitize.phishing.links")
_variants_module = importlib.import_module("mailguard_core.sanitize.injection.variants")
FAST = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=600)
DOMAIN_RE = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,98}[a-z0-9])?")
DOMAIN_KEYS = ("real_domain", "sender_domain", "reply_to_domain", "shown_domain", "looks_like")
PIECES = st.sampled_from(
    [
        "PayPal", "Microsoft 365", "Apple", "verify your account", "log in", "Sign in",
        "http://", "https://", "@", "xn--pple-43d.com", "bit.ly/", "185.234.72.19", "0x7f.1",
        "paypal.com", "://[", "]", ":99999", "%", ".", "..", "аpple", "\u200b", " ", "\n",
        "urgent", "new bank details", "SYSTEM:", "Assistant:", "ignore previous instructions",
        "SWdub3JlIGFsbA==", "i g n o r e", "1gn0r3", "<", ">", "<<untrusted nonce=",
    ]
)  # fmt: skip
#: text built from the pieces the signals look for, glued with arbitrary text: wider than
#: what the code knows, narrow enough to reach its branches
MIXED = st.lists(PIECES | ANY_TEXT, max_size=12).map("".join)


@FAST
@given(text=MIXED | ANY_TEXT)
def test_injection_detector_and_its_readings_are_total(text: str) -> None:
    """detect and variants answer for any str, with names only."""
    for name in RuleBasedDetector().detect(text):
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name)
    for name, reading in variants(text):
        assert name.startswith("obfuscation_") and isinstance(reading, str)


@FAST
@given(hrefs=st.lists(MIXED | ANY_TEXT, max_size=8), name=MIXED, subject=MIXED, body=MIXED)
def test_phishing_checks_are_total_and_their_evidence_is_domains(
    hrefs: list[str], name: str, subject: str, body: str
) -> None:
    """Arbitrary links, names, subjects and bodies: no exception; domain details are domains."""
    warnings = WarningCollector()
    links = phishing.check_links(
        [phishing.Href(h, t) for h, t in itertools.pairwise(hrefs)], warnings
    )
    sender = {"name": name, "address": f"x@{subject[:40]}"}
    brand = phishing.check_brand(sender, subject, body, brands.BUNDLED, warnings)
    phishing.check_credential_harvest(sender, body, links, brand, brands.BUNDLED, warnings)
    phishing.check_attachments([{"filename": name, "content_type": subject}], warnings)
    phishing.check_urgency(subject, body, warnings)
    for w in warnings.items():
        assert w.code in SEVERITY
        for key in DOMAIN_KEYS:
            if key in w.detail:
                assert DOMAIN_RE.fullmatch(w.detail[key]), (w.code, key, w.detail[key])


@FAST
@given(display=MIXED, subject=MIXED, body=MIXED, reply=MIXED)
def test_envelope_shape_and_fence_are_unchanged_by_the_signals(
    display: str, subject: str, body: str, reply: str
) -> None:
    """Whatever the message, the envelope keeps its three keys, every warning its four
    (code, severity, location, detail) with a catalogued code, and the rendered text has
    exactly one fence pair per untrusted value: no warning detail opens or closes one."""
    raw = (
        f'From: "{display[:200]}" <a@{subject[:30] or "x.example"}>\r\n'
        f"Reply-To: r@{reply[:40] or 'y.example'}\r\nSubject: {subject[:300]}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode("utf-8", "surrogatepass")
    try:
        env = sanitize_message(raw).to_dict()
    except MailguardError:
        return
    assert set(env) == {"meta", "untrusted", "security_warnings"}
    for w in env["security_warnings"]:
        assert set(w) == {"code", "severity", "location", "detail"}
        assert w["code"] in SEVERITY and w["severity"] in ("adversarial", "informational")
    text = render_text(env, nonce="0123456789abcdef")
    # the preamble names the fence once, then the one untrusted value is fenced
    assert text.count("<<untrusted nonce=0123456789abcdef>>") == 2
    assert text.count("<</untrusted nonce=0123456789abcdef>>") == 2
    assert text.count("<<") == 4


@FAST
@given(
    plain=MIXED | ANY_TEXT,
    hrefs=st.lists(MIXED, max_size=4),
    declared=st.sampled_from(["text/html", "text/rtf", "image/png", "application/pdf", ""])
    | st.text(max_size=40),
    head=st.binary(max_size=24),
    name=MIXED,
)
def test_structural_grading_is_total(
    plain: str, hrefs: list[str], declared: str, head: bytes, name: str
) -> None:
    """The graders of mime_alternative_mismatch and mime_type_mismatch answer for anything:
    a count of destinations, and None or a catalogue severity."""
    links = [Link(href=h, text="") for h in hrefs]
    assert hidden_destinations(plain, links, frozenset({"example.com"})) >= 0
    for data in (head, b"\x89PNG\r\n\x1a\n" + head, b"MZ" + head, b"7z\xbc\xaf\x27\x1c" + head):
        assert type_mismatch_severity(declared, data, name) in (
            None,
            "adversarial",
            "informational",
        )


#: characters the encoded-fragment and letter-spacing scans care about, and whitespace of
#: every kind (``str.split`` and the regexes' ``\s`` must agree on it)
SCAN_PIECES = st.sampled_from(
    [
        "%", "%2F", "%zz", "=", "==", "+", "/", "_", "-", "*", ".", " ", "  ", "\t", "\n",
        "\x1c", "\x85", "\xa0", "\u2003", "\u3000", "·", "é", "ж", "AbCdEfGhIjKlMnOpQr",
        "QUJDREVGR0hJSktMTU5PUA", "a b c d", "i.g.n.o.r.e", "x-y-z-w", "0123456789abcdef",
    ]
)  # fmt: skip
SCAN_TEXT = st.lists(SCAN_PIECES | st.text(max_size=8), max_size=40).map("".join)


@FAST
@given(text=SCAN_TEXT | ANY_TEXT)
def test_fast_scans_find_what_the_regexes_find(text: str) -> None:
    """The detector's C-speed scans are exact rewrites: base64 tokens, percent tokens and the
    letter-spacing verdict are those of the regexes they replace, for any text."""
    assert list(_variants_module._b64_tokens(text)) == [
        m.group(0) for m in _variants_module._B64_RE.finditer(text)
    ]
    assert list(_variants_module._percent_tokens(text)) == [
        m.group(0) for m in _variants_module._PERCENT_RE.finditer(text)
    ]
    if text.isascii():
        classes = _variants_module._classes(text, _variants_module._CLASS_BYTES)
        spaced = _variants_module._SPACED_CLASS_RE.search(classes) is not None
        assert spaced == (_variants_module._SPACED_RE.search(text) is not None)


@FAST
@given(
    host=st.lists(
        st.sampled_from(["0x", "0x7f", "127", "1", "0", "ff", "x", ".", "..", "a", "12345678901"])
        | st.text(alphabet="0123456789abcdefx.", max_size=6),
        max_size=8,
    ).map("".join)
)
def test_numeric_host_regex_is_the_label_rule(host: str) -> None:
    """One compiled fullmatch says what the per-label rule says: 1-4 labels, each 0x + 1-8
    hex digits or 1-10 decimal digits."""
    labels = host.split(".")
    by_labels = 1 <= len(labels) <= 4 and all(
        re.fullmatch(r"0x[0-9a-f]{1,8}|[0-9]{1,10}", lab) for lab in labels
    )
    assert _links_module._numeric_host(host) is by_labels


_LABELS = st.sampled_from(["paypal", "amazon", "a.b", "x", "ex", "", "co"])
_SUFFIXES = st.sampled_from(["com", "co.uk", "de", "com.au", "ne.jp", "c", "com.x", "uk.", ""])


@st.composite
def _brand_tables(draw: st.DrawFn) -> tuple[Any, ...]:
    """Tables with shared domains, shared and dotted per-country labels, the bundled brands."""
    from mailguard_core.sanitize.brands import BUNDLED, Brand

    made = [
        Brand(
            f"b{i}", (f"b{i}",),
            frozenset(draw(st.lists(st.sampled_from(["x.com", "paypal.com", "a.b.de", "y.org"]),
                                    max_size=3))),
            draw(_LABELS),
        )
        for i in range(draw(st.integers(0, 5)))
    ]  # fmt: skip
    return tuple(draw(st.permutations([*made, *draw(st.sampled_from([(), BUNDLED[:6]]))])))


_REG_DOMAINS = st.one_of(
    st.tuples(_LABELS, _SUFFIXES).map(".".join),
    st.sampled_from(["x.com", "paypal.com", "a.b.de", "gmail.com", "office.com", "amazon.de"]),
    st.text(alphabet="ab.c", max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(_brand_tables(), _REG_DOMAINS, _REG_DOMAINS)
def test_owner_index_answers_as_asking_every_brand(
    table: tuple[Any, ...], first: str, second: str
) -> None:
    """``brands.owners`` (an index per table) and ``same_organisation`` built on it answer
    as the scan over every brand with ``owns`` did."""
    from mailguard_core.sanitize.brands import owners, owns, same_organisation

    assert owners(table, first) == tuple(b for b in table if owns(b, first))
    both = next((b for b in table if owns(b, first) and owns(b, second)), None)
    assert same_organisation(table, first, second) is both
