"""The whole document: :class:`Config`, and the error listing its problems."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from mailguard_core.config.accounts import AccountConfig
from mailguard_core.config.server import AuditSettings, ServerSettings
from mailguard_core.model.errors import ConfigError


@attrs.frozen(kw_only=True)
class Config:
    accounts: tuple[AccountConfig, ...]
    default_account: str | None = None
    audit: AuditSettings = attrs.Factory(AuditSettings)
    server: ServerSettings = attrs.Factory(ServerSettings)

    def account(self, name: str) -> AccountConfig:
        """The account called exactly ``name``.

        Raises:
            ConfigError: no such account.
        """
        for account in self.accounts:
            if account.name == name:
                return account
        raise ConfigError(f"no account named {name!r}", public="no such account")

    @property
    def default(self) -> AccountConfig:
        """``default_account`` if set, else the first account."""
        if self.default_account is not None:
            return self.account(self.default_account)
        return self.accounts[0]


class ConfigValidationError(ConfigError):
    """The configuration has problems; ``problems`` lists each as ``"key.path: message"``."""

    def __init__(self, problems: Iterable[str], *, source: str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        listing = "\n  ".join(self.problems)
        where = f" in {source}" if source else ""
        super().__init__(
            f"invalid configuration{where}:\n  {listing}",
            public=f"invalid configuration:\n  {listing}",
        )
