"""Phishing signals a careful reader uses: brand impersonation, credential-harvest links,
deceptive link hosts, local phishing pages attached, and urgency (docs/sanitizer.md).

Every finding is a warning whose ``detail`` carries its evidence as *domains* (IDNA/ASCII,
checked against domain syntax, at most 100 characters), names from the bundled brand table
and rule names, never free message text: warnings are rendered outside the untrusted fence.

The package: ``tables`` (the bundled domain lists and phrase patterns), ``links`` (deceptive
link hosts, the evidence form of a domain) and ``content`` (brand impersonation, credential
harvest, attached pages, urgency).
"""

from mailguard_core.sanitize.phishing.content import (
    check_attachments,
    check_brand,
    check_credential_harvest,
    check_urgency,
    is_page,
    page_features,
)
from mailguard_core.sanitize.phishing.links import Href, check_links, evidence_domain, related
from mailguard_core.sanitize.phishing.tables import (
    COMPANIONS,
    CTA,
    FREEMAIL,
    MAIL_PROVIDERS,
    PAGE_SCAN_BYTES,
    REDIRECTORS,
    SHORTENERS,
    USER_CONTENT,
)

__all__ = [
    "COMPANIONS",
    "CTA",
    "FREEMAIL",
    "MAIL_PROVIDERS",
    "PAGE_SCAN_BYTES",
    "REDIRECTORS",
    "SHORTENERS",
    "USER_CONTENT",
    "Href",
    "check_attachments",
    "check_brand",
    "check_credential_harvest",
    "check_links",
    "check_urgency",
    "evidence_domain",
    "is_page",
    "page_features",
    "related",
]
