"""The whole document: :class:`Config`, and the error listing its problems."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from mailguard_core.config.accounts import AccountConfig, secret_name_problems
from mailguard_core.config.server import AuditSettings, ServerSettings
from mailguard_core.model.checks import Problem, raise_problems
from mailguard_core.model.errors import ConfigError


@attrs.frozen(kw_only=True)
class Config:
    accounts: tuple[AccountConfig, ...]
    default_account: str | None = None
    audit: AuditSettings = attrs.Factory(AuditSettings)
    server: ServerSettings = attrs.Factory(ServerSettings)

    def __attrs_post_init__(self) -> None:
        raise_problems(self._problems())

    def _problems(self) -> Iterator[Problem]:
        """The rules between the accounts."""
        if not self.accounts:
            yield "accounts", "at least one [[accounts]] entry is required"
        seen: dict[str, int] = {}
        for index, account in enumerate(self.accounts):
            first = seen.setdefault(account.name, index)
            if first != index:
                yield f"accounts[{index}].name", f"duplicate account name (also accounts[{first}])"
        yield from secret_name_problems(a.name for a in self.accounts)

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


def file_references(config: Config) -> Iterator[Problem]:
    """What a configuration *file* must also get right: the accounts it names elsewhere
    exist. (A view of a configuration, like an HTTP principal's subset of the accounts, may
    leave some of them out.)"""
    names = {a.name for a in config.accounts}
    if config.default_account is not None and config.default_account not in names:
        yield "default_account", f"no account named {config.default_account!r}"
    for index, principal in enumerate(config.server.principals):
        for name in principal.accounts:
            if name not in names:
                yield f"server.principals[{index}].accounts", f"no account named {name!r}"


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
