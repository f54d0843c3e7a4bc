"""The ``SecretStore`` port and the ``Secret`` type that never shows its value."""

from __future__ import annotations

import re
from typing import Protocol, final

from mailguard_core.model.errors import SecretUnavailable
from mailguard_core.model.oauth import CLIENT_SECRET_SUFFIX, REFRESH_TOKEN_SUFFIX

__all__ = ["Secret", "SecretStore", "env_var_name", "optional_secret"]


#: environment-variable kind of the OAuth entries (``ACCOUNT`` + suffix, see
#: :mod:`mailguard_core.model.oauth`); any other entry is a password (``_PASSWORD``)
_ENV_KINDS = {REFRESH_TOKEN_SUFFIX: "REFRESH_TOKEN", CLIENT_SECRET_SUFFIX: "CLIENT_SECRET"}


def env_var_name(entry: str) -> str:
    """``MAILGUARD_<ENTRY>_PASSWORD``: the environment variable of a secret-store entry.

    The one derivation of these names (the environment store reads it, configuration
    validation refuses two entries that map to one name, messages tell the user to set it).
    The entry is upper-cased and every ``-`` and ``.`` becomes ``_``, so ``my-box``,
    ``my.box`` and ``MY_BOX`` share a name: the configuration refuses such pairs, and any
    account whose name maps onto the audit key's entry (``audit-hmac``).

    The OAuth entries of an account end in their own word instead of ``_PASSWORD``:
    ``ACCOUNT:oauth`` (refresh token) is ``MAILGUARD_<ACCOUNT>_REFRESH_TOKEN`` and
    ``ACCOUNT:oauth-client`` (client secret) is ``MAILGUARD_<ACCOUNT>_CLIENT_SECRET``.
    """
    name, kind = entry, "PASSWORD"
    for suffix, word in _ENV_KINDS.items():
        if entry.endswith(suffix):
            name, kind = entry.removesuffix(suffix), word
            break
    return f"MAILGUARD_{re.sub(r'[-.]', '_', name.upper())}_{kind}"


@final
class Secret:
    """A password or key. ``repr``, ``str`` and formatting never show the value.

    Call :meth:`reveal` at the last moment, where the value is handed to a protocol library.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


class SecretStore(Protocol):
    """Credentials per account. Contract, checked by ``tests/contract/``:

    - ``get`` returns the stored secret, or raises ``SecretUnavailable`` naming the account
      (never the value) when there is none.
    - ``set`` then ``get`` round-trips any non-empty string; ``set`` of an empty one raises
      ``InputError``; ``delete`` of a missing entry is a no-op. A read-only store (the
      environment) raises ``SecretUnavailable`` from ``set`` and ``delete`` instead.
    - Errors never contain a secret value.
    - Only ``MailguardError`` subclasses escape.

    Entries are named by account; the audit log's HMAC key is the entry ``audit-hmac``. Two
    entries whose :func:`env_var_name` is the same never coexist in a valid configuration.
    """

    def get(self, account: str) -> Secret: ...

    def set(self, account: str, secret: Secret) -> None: ...

    def delete(self, account: str) -> None: ...


def optional_secret(secrets: SecretStore, entry: str) -> Secret | None:
    """The secret ``entry``, or None when the store has none."""
    try:
        return secrets.get(entry)
    except SecretUnavailable:
        return None
