"""The ``SecretStore`` port and the ``Secret`` type that never shows its value."""

from __future__ import annotations

from typing import Protocol, final


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

    Entries are named by account; the audit log's HMAC key is the entry ``audit-hmac``.
    """

    def get(self, account: str) -> Secret: ...

    def set(self, account: str, secret: Secret) -> None: ...

    def delete(self, account: str) -> None: ...
