"""Security warnings: what the sanitizer found and did, in the stable catalogue of codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

Severity = Literal["adversarial", "informational"]

#: every warning code and its severity (docs/sanitizer.md has the catalogue)
SEVERITY: Mapping[str, Severity] = {
    "html_hidden_content_removed": "adversarial",
    "html_script_removed": "adversarial",
    "html_form_removed": "adversarial",
    "html_remote_content_removed": "informational",
    "html_link_text_mismatch": "adversarial",
    "mime_alternative_mismatch": "adversarial",
    "mime_header_smuggling_blocked": "adversarial",
    "mime_limit_exceeded": "adversarial",
    "mime_type_mismatch": "adversarial",
    "body_truncated": "informational",
    "charset_fallback": "informational",
    "unicode_zero_width_stripped": "adversarial",
    "unicode_bidi_control_stripped": "adversarial",
    "unicode_control_stripped": "adversarial",
    "unicode_tag_chars_stripped": "adversarial",
    "lookalike_mixed_script_domain": "adversarial",
    "lookalike_confusable_domain": "adversarial",
    "lookalike_punycode_domain": "informational",
    "display_name_spoof": "adversarial",
    "reply_to_mismatch": "adversarial",
    "filename_spoof": "adversarial",
    "filename_rewritten": "informational",
    "injection_suspected": "adversarial",
    "sender_auth_failed": "adversarial",
}


@attrs.frozen(kw_only=True)
class SecurityWarning:
    """One finding. ``detail`` holds counts, methods and rule names, never message text."""

    code: str
    severity: Severity
    location: str
    detail: Mapping[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form used in the envelope's ``security_warnings``."""
        return {
            "code": self.code,
            "severity": self.severity,
            "location": self.location,
            "detail": dict(self.detail),
        }


class WarningCollector:
    """Collects warnings in order; counted warnings with the same key are merged."""

    def __init__(self) -> None:
        self._items: list[SecurityWarning] = []
        self._counted: dict[tuple[str, str, str], int] = {}

    def add(
        self,
        code: str,
        location: str,
        detail: Mapping[str, Any] | None = None,
        *,
        severity: Severity | None = None,
    ) -> None:
        """Add one warning; its severity comes from the catalogue unless given."""
        self._items.append(
            SecurityWarning(
                code=code,
                severity=severity or SEVERITY[code],
                location=location,
                detail=dict(detail or {}),
            )
        )

    def count(self, code: str, location: str, n: int, *, method: str = "") -> None:
        """Add ``n`` to the counted warning ``(code, location, method)``; n <= 0 is ignored."""
        if n <= 0:
            return
        key = (code, location, method)
        if key in self._counted:
            index = self._counted[key]
            old = self._items[index]
            detail = dict(old.detail)
            detail["count"] = int(detail["count"]) + n
            self._items[index] = attrs.evolve(old, detail=detail)
            return
        self._counted[key] = len(self._items)
        detail = {"method": method, "count": n} if method else {"count": n}
        self.add(code, location, detail)

    def extend(self, warnings: list[SecurityWarning]) -> None:
        """Append warnings produced elsewhere."""
        self._items.extend(warnings)

    def codes(self) -> set[str]:
        """The set of codes collected so far."""
        return {w.code for w in self._items}

    def items(self) -> list[SecurityWarning]:
        """The collected warnings, in the order found."""
        return list(self._items)
