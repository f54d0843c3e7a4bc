"""One request's view of the shared app in ``serve --http`` (:mod:`mailguard_mcp.http`): the
session's active account and, with ``[server.auth]``, only the accounts and tools of the caller's
principal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import attrs

from mailguard_core.app.bootstrap import MailguardApp
from mailguard_core.gate.principals import Principal
from mailguard_core.model.errors import InputError
from mailguard_core.model.tools import ToolName

if TYPE_CHECKING:
    from mailguard_core.gate import Gate, GateCall, ToolRequest


class _PrincipalGate:
    """The shared gate, with the caller's principal in every request it admits."""

    def __init__(self, gate: Gate, principal: Principal) -> None:
        self._gate = gate
        self._principal = principal

    def admit(self, request: ToolRequest) -> GateCall:
        return self._gate.admit(attrs.evolve(request, principal=self._principal))

    def allowed_tools(self, account: str) -> frozenset[ToolName]:
        tools = self._gate.allowed_tools(account)
        if not self._principal.may_use(account):
            return frozenset(t for t in tools if self._principal.may_call(t, None))
        return frozenset(t for t in tools if self._principal.may_call(t, account))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gate, name)


class SessionApp(MailguardApp):
    """One request's view of the shared app: the session's active account, and with a
    principal only its accounts (others are absent from ``config.accounts`` and refused by
    :meth:`account` exactly like unknown names, and by the gate)."""

    def __init__(self, base: MailguardApp, principal: Principal | None, active: str | None):
        # share everything (services, locks, gate, audit); never build or close anything here
        self.__dict__.update(base.__dict__)
        self.principal = principal
        if principal is not None:
            accounts = tuple(a for a in base.config.accounts if principal.may_use(a.name))
            self.config = attrs.evolve(base.config, accounts=accounts)
            self.gate = cast("Gate", _PrincipalGate(base.gate, principal))
        names = [a.name for a in self.config.accounts]
        default = base.config.default_account
        self.active = (
            active
            if active in names
            else default
            if default in names
            else names[0]
            if names
            else ""
        )

    def account(self, name: str) -> Any:
        if self.principal is not None and not self.principal.may_use(name):
            raise InputError(
                f"unknown account {name!r} (outside principal {self.principal.name[:80]})",
                public="no such account; see list_accounts",
            )
        return super().account(name)

    def has_account(self, name: str) -> bool:
        return super().has_account(name) and (
            self.principal is None or self.principal.may_use(name)
        )

    def close(self) -> None:  # pragma: no cover - the shared app is closed by the lifespan
        raise AssertionError("a session view is never closed")
