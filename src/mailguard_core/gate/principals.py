"""Principals: who is calling, over an authenticated transport, and what they may reach.

A :class:`Principal` is resolved from a verified access token's claims by the
``[[server.principals]]`` entries (:func:`resolve_principal`). The gate refuses a principal's
call on an account outside its list exactly as it refuses an unknown account, and a call above
its posture ceiling exactly as a denied tool; the audit records the principal of every call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mailguard_core.config import PrincipalSettings
from mailguard_core.gate.policy import effective_tools
from mailguard_core.model.tools import INFRASTRUCTURE_TOOLS, Posture, ToolName


@attrs.frozen
class Principal:
    """An authenticated caller: a name for the audit and, per account it may use, the tools
    its posture ceiling allows there (``None``: no ceiling beyond the account's own)."""

    name: str
    ceilings: Mapping[str, frozenset[ToolName] | None] = attrs.field(hash=False)

    @property
    def accounts(self) -> frozenset[str]:
        return frozenset(self.ceilings)

    def may_use(self, account: str | None) -> bool:
        return account is not None and account in self.ceilings

    def may_call(self, tool: ToolName, account: str | None) -> bool:
        if tool in INFRASTRUCTURE_TOOLS:
            return True
        if account is None or account not in self.ceilings:
            return False
        ceiling = self.ceilings[account]
        return ceiling is None or tool in ceiling


def _claim_values(value: object) -> list[str]:
    if isinstance(value, str):
        return value.split() if " " in value else [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def resolve_principal(
    entries: Iterable[PrincipalSettings], claims: Mapping[str, Any]
) -> Principal | None:
    """The principal for a token's ``claims``: every matching entry's accounts, each under
    the most permissive ceiling of the entries granting it; ``None`` when no entry matches
    (the token is refused).

    An entry matches by ``subject`` (the ``sub`` claim, exactly) or by ``claim`` and ``value``
    (the value is one of the claim's: a string, a space-separated string, or a list)."""
    matched: list[PrincipalSettings] = []
    for entry in entries:
        if entry.subject is not None:
            if claims.get("sub") == entry.subject:
                matched.append(entry)
        elif entry.claim is not None and entry.value in _claim_values(claims.get(entry.claim)):
            matched.append(entry)
    if not matched:
        return None
    order = list(Posture)
    best: dict[str, Posture | None] = {}
    for entry in matched:  # several entries granting one account: the most permissive wins
        for account in entry.accounts:
            if account in best and (best[account] is None or entry.posture is None):
                best[account] = None
            elif account in best:
                current = best[account]
                assert current is not None and entry.posture is not None
                best[account] = max(current, entry.posture, key=order.index)
            else:
                best[account] = entry.posture
    ceilings = {a: None if p is None else effective_tools(p) for a, p in best.items()}
    subject = claims.get("sub")
    name = "+".join(e.name for e in matched)
    if isinstance(subject, str) and subject:
        name = f"{name}:{subject[:64]}"
    return Principal(name=name, ceilings=ceilings)
