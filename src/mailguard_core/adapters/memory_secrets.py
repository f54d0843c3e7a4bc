"""``InMemorySecretStore``: a dict-backed :class:`~mailguard_core.ports.SecretStore`."""

from __future__ import annotations

from collections.abc import Mapping

from mailguard_core.model.errors import InputError, SecretUnavailable
from mailguard_core.ports.secrets import Secret


class InMemorySecretStore:
    """Secrets in a dict, for tests and for the demo mailbox."""

    def __init__(self, secrets: Mapping[str, str | Secret] | None = None) -> None:
        self._secrets: dict[str, Secret] = {
            name: value if isinstance(value, Secret) else Secret(value)
            for name, value in (secrets or {}).items()
        }

    def get(self, account: str) -> Secret:
        try:
            return self._secrets[account]
        except KeyError:
            raise SecretUnavailable(
                f"no secret stored for {account!r}",
                public=f"no credential stored for account {account!r}",
            ) from None

    def set(self, account: str, secret: Secret) -> None:
        if not secret.reveal():
            raise InputError("empty secret", public="the password must not be empty")
        self._secrets[account] = secret

    def delete(self, account: str) -> None:
        self._secrets.pop(account, None)
