"""Phishing signals (issue 19): each fires on the mail it was written for, none fires
adversarially on the guard set of legitimate mail, and the evidence is domains, not text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mailguard_core.sanitize import SanitizeOptions, brands, phishing, sanitize_message
from mailguard_core.sanitize.identity import check_identity
from mailguard_core.sanitize.warnings import ADVICE, SEVERITY, WarningCollector

DATA = Path(__file__).resolve().parents[1] / "data" / "signals"
PHISH = sorted(p.stem for p in (DATA / "phish").glob("*.eml"))
LEGIT = sorted(p.stem for p in (DATA / "legit").glob("*.eml"))
NEW_CODES = (
    "brand_impersonation", "credential_harvest_link", "link_ip_literal", "link_userinfo_trick",
    "link_punycode_lookalike", "link_shortener", "attachment_html_page",
    "phishing_urgency_language",
)  # fmt: skip
DOMAIN_RE = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,98}[a-z0-9])?")


def _run(folder: str, name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    raw = (DATA / folder / f"{name}.eml").read_bytes()
    expect = json.loads((DATA / folder / f"{name}.json").read_text(encoding="utf-8"))
    return sanitize_message(raw).to_dict()["security_warnings"], expect


def test_both_sets_are_present() -> None:
    """A missing directory must not pass silently."""
    assert len(PHISH) >= 12 and len(LEGIT) >= 15


@pytest.mark.parametrize("name", PHISH)
def test_phishing_fixture_gets_its_signals(name: str) -> None:
    """Every code (with its severity) the fixture was written for is raised."""
    warnings, expect = _run("phish", name)
    got = {(w["code"], w["severity"]) for w in warnings}
    for wanted in expect["warnings"]:
        assert (wanted["code"], wanted["severity"]) in got, (wanted, warnings)


@pytest.mark.parametrize("name", LEGIT)
def test_legitimate_mail_gets_no_adversarial_warning(name: str) -> None:
    """Newsletters, receipts, password resets, tickets, list mail: nothing adversarial."""
    warnings, expect = _run("legit", name)
    assert [w for w in warnings if w["severity"] == "adversarial"] == []
    got = {(w["code"], w["severity"]) for w in warnings}
    for wanted in expect["warnings"]:
        assert (wanted["code"], wanted["severity"]) in got, (wanted, warnings)


def test_every_new_signal_has_a_phishing_fixture() -> None:
    """Each new code is demonstrated by at least one fixture."""
    seen: set[str] = set()
    for name in PHISH:
        seen |= {w["code"] for w in _run("phish", name)[0]}
    assert set(NEW_CODES) <= seen


@pytest.mark.parametrize("folder", ["phish", "legit"])
def test_evidence_in_details_is_domains_and_table_names_only(folder: str) -> None:
    """No message text outside the fence: domain-valued keys hold ASCII domains."""
    table_names = {b.name for b in brands.BUNDLED}
    for name in PHISH if folder == "phish" else LEGIT:
        for w in _run(folder, name)[0]:
            if w["code"] not in NEW_CODES and w["code"] != "reply_to_mismatch":
                continue
            for key, value in w["detail"].items():
                if key.endswith("domain") or key == "looks_like":
                    assert DOMAIN_RE.fullmatch(value), (key, value)
                elif key == "claimed_name":
                    assert value in table_names
                elif key == "brand_domains":
                    assert all(DOMAIN_RE.fullmatch(d) for d in value)


def test_every_code_has_a_severity_and_advice_and_a_catalogue_row() -> None:
    """The catalogue, the advice a model acts on and the docs agree on every code."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sanitizer.md").read_text()
    assert set(ADVICE) == set(SEVERITY)
    for code in SEVERITY:
        assert f"| `{code}` |" in docs, code


def _reply(sender: str, reply_to: str, lists: tuple[str, ...] = ()) -> list[Any]:
    warnings = WarningCollector()
    check_identity(
        {"name": "", "address": sender}, [{"name": "", "address": reply_to}], list(lists),
        [], (), warnings,
    )  # fmt: skip
    return [w for w in warnings.items() if w.code == "reply_to_mismatch"]


@pytest.mark.parametrize(
    ("sender", "reply_to", "severity", "reason"),
    [
        ("ceo@northwind-traders.com", "ceo.office@gmail.com", "adversarial", None),
        ("billing@acme.com", "billing@acme-payments.net", "adversarial", None),
        ("news@acme.com", "editor@acme.co.uk", "informational", "same_name"),
        ("noreply@google.com", "team@gmail.com", "informational", "same_organisation"),
        ("help@initech.com", "help@initech.freshdesk.com", "informational", "mail_provider"),
        ("service@paypal.com", "help@paypal.help", "adversarial", None),
        ("ann@example.org", "ann@example.org", None, None),
        ("ann@example.org", "list@lists.example.net", None, None),
        ("ceo@northwind-traders.com", "ceo@northwind-traders.gmail.com", "adversarial", None),
    ],
)
def test_reply_to_rule(
    sender: str, reply_to: str, severity: str | None, reason: str | None
) -> None:
    """Adversarial only for an unrelated domain; related domains are informational."""
    found = _reply(sender, reply_to, ("lists.example.net",))
    if severity is None:
        assert found == []
        return
    assert len(found) == 1 and found[0].severity == severity
    assert found[0].detail.get("reason") == reason
    assert found[0].detail["count"] == 1


def test_brand_table_is_extendable_by_options() -> None:
    """A configured brand is impersonated like a bundled one; its domains are its own."""
    raw = (
        b'From: "Acme Bank Security" <alerts@acme-bank-secure.example>\r\nTo: d@example.com\r\n'
        b"Subject: Your account is locked\r\n\r\nSign in to unlock your account: "
        b"https://acme-unlock.example.net/login\r\n"
    )
    plain = sanitize_message(raw)
    assert "brand_impersonation" not in plain.warning_codes
    options = SanitizeOptions(brands=(("Acme Bank", ("acmebank.example",)),))
    safe = sanitize_message(raw, options)
    (w,) = [w for w in safe.warnings if w.code == "brand_impersonation"]
    assert w.detail["claimed_name"] == "Acme Bank" and w.detail["where"] == "display_name"
    own = raw.replace(b"acme-bank-secure.example", b"acmebank.example")
    assert "brand_impersonation" not in sanitize_message(own, options).warning_codes


@pytest.mark.parametrize(
    ("href", "code"),
    [
        ("http://203.0.113.9/login", "link_ip_literal"),
        ("http://[2001:db8::1]/x", "link_ip_literal"),
        ("http://0xCB.0x00.0x71.0x09/", "link_ip_literal"),
        ("https://paypal.com@evil.example.net/", "link_userinfo_trick"),
        ("https://tinyurl.com/abc", "link_shortener"),
        ("https://xn--pple-43d.com/", "link_punycode_lookalike"),
    ],
)
def test_link_signals(href: str, code: str) -> None:
    """Each deceptive host shape gives its code."""
    warnings = WarningCollector()
    phishing.check_links([phishing.Href(href)], warnings)
    assert code in warnings.codes()


@pytest.mark.parametrize(
    "href",
    ["https://www.example.com/a", "https://例え.jp/", "https://xn--mnchen-3ya.de/", "mailto:a@b.c",
     "https://user@", "http://[::1", "https://bücher.example/"],
)  # fmt: skip
def test_ordinary_and_broken_links_give_no_adversarial_link_signal(href: str) -> None:
    """A real IDN (münchen.de), a plain link or a broken URL is not deceptive."""
    warnings = WarningCollector()
    phishing.check_links([phishing.Href(href)], warnings)
    assert [w for w in warnings.items() if w.severity == "adversarial"] == []


def test_urgency_alone_is_not_reported() -> None:
    """Pressure words in ordinary mail count only beside another adversarial signal."""
    raw = (
        b"From: Ann <ann@example.org>\r\nTo: d@example.com\r\nSubject: Urgent: lunch order\r\n"
        b"\r\nPlease send your lunch order immediately, the wire transfer for the caterer is "
        b"due.\r\n"
    )
    assert "phishing_urgency_language" not in sanitize_message(raw).warning_codes
