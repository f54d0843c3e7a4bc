"""Secret stores for real use: the OS keyring, environment variables, and a chain of both.

- :class:`KeyringSecretStore`: service ``mailguard``, one entry per account (username = the
  account name); the audit HMAC key is the entry ``audit-hmac``.
- :class:`EnvSecretStore`: ``MAILGUARD_<ACCOUNT>_PASSWORD`` (account upper-cased, ``-`` and
  ``.`` become ``_``; ``_REFRESH_TOKEN`` / ``_CLIENT_SECRET`` for the OAuth entries
  ``ACCOUNT:oauth`` / ``ACCOUNT:oauth-client``; :func:`~mailguard_core.ports.secrets.env_var_name`),
  read-only, for headless machines.
- :class:`ChainSecretStore`: the first store that has the entry wins; writes go to the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import keyring
import keyring.backend
import keyring.errors

from mailguard_core.model.errors import InputError, SecretUnavailable
from mailguard_core.ports.secrets import Secret, SecretStore, env_var_name

__all__ = ["SERVICE", "ChainSecretStore", "EnvSecretStore", "KeyringSecretStore", "env_var_name"]

SERVICE = "mailguard"


def _missing(account: str, where: str) -> SecretUnavailable:
    return SecretUnavailable(
        f"no secret for {account!r} in {where}",
        public=f"no credential stored for account {account!r}",
    )


@contextmanager
def _keyring_errors(account: str, action: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # backends raise their own (dbus, file) errors besides keyring's
        raise SecretUnavailable(
            f"keyring {action} for {account!r} failed: {type(exc).__name__}",
            public=f"the OS keyring is unavailable ({action} for account {account!r})",
        ) from exc


class KeyringSecretStore:
    """The OS keyring through the ``keyring`` library.

    Args:
        service: the keyring service name.
        backend: a specific backend (tests); default: ``keyring.get_keyring()`` at each call.
    """

    def __init__(
        self, service: str = SERVICE, *, backend: keyring.backend.KeyringBackend | None = None
    ) -> None:
        self.service = service
        self._backend = backend

    def _keyring(self) -> keyring.backend.KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    @property
    def backend_name(self) -> str:
        """The backend's class name, e.g. ``Keyring`` of ``keyring.backends.SecretService``."""
        backend = self._keyring()
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def get(self, account: str) -> Secret:
        with _keyring_errors(account, "lookup"):
            value = self._keyring().get_password(self.service, account)
        if not value:
            raise _missing(account, "the keyring")
        return Secret(value)

    def set(self, account: str, secret: Secret) -> None:
        if not secret.reveal():
            raise InputError("empty secret", public="the password must not be empty")
        with _keyring_errors(account, "store"):
            self._keyring().set_password(self.service, account, secret.reveal())

    def delete(self, account: str) -> None:
        try:
            with _keyring_errors(account, "delete"):
                self._keyring().delete_password(self.service, account)
        except SecretUnavailable as exc:
            if not isinstance(exc.__cause__, keyring.errors.PasswordDeleteError):
                raise


class EnvSecretStore:
    """Read-only secrets from environment variables (``MAILGUARD_<ACCOUNT>_PASSWORD``)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, account: str) -> Secret:
        value = self._environ.get(env_var_name(account))
        if not value:
            raise _missing(account, f"${env_var_name(account)}")
        return Secret(value)

    def set(self, account: str, secret: Secret) -> None:
        raise SecretUnavailable(
            "the environment secret store is read-only",
            public=f"cannot store a credential in the environment; set {env_var_name(account)}",
        )

    def delete(self, account: str) -> None:
        raise SecretUnavailable(
            "the environment secret store is read-only",
            public=f"cannot delete a credential from the environment; unset "
            f"{env_var_name(account)}",
        )


class ChainSecretStore:
    """Asks each store in turn; ``set`` writes to the first, ``delete`` to every writable one."""

    def __init__(self, *stores: SecretStore) -> None:
        if not stores:
            raise ValueError("ChainSecretStore needs at least one store")
        self._stores = stores

    def get(self, account: str) -> Secret:
        details = []
        for store in self._stores:
            try:
                return store.get(account)
            except SecretUnavailable as exc:
                details.append(str(exc))
        raise SecretUnavailable(
            "; ".join(details),
            public=f"no credential for account {account.partition(':')[0]!r}: run "
            f"`mailguard-mcp login {account.partition(':')[0]}` or set {env_var_name(account)}",
        )

    def set(self, account: str, secret: Secret) -> None:
        self._stores[0].set(account, secret)

    def delete(self, account: str) -> None:
        for store in self._stores:
            try:
                store.delete(account)
            except SecretUnavailable:
                if store is self._stores[0]:
                    raise
