"""The two imapclient internals the IMAP adapter uses, each in one function.

imapclient's public API lacks two things the adapter needs:

- :func:`uid_search`: ``IMAPClient._raw_command_untagged`` sends ``UID SEARCH`` with arguments
  ``search_query`` already quoted or sent as literals (the public ``search()`` re-quotes its
  criteria and cannot send a ``CHARSET UTF-8`` literal of our choosing);
- :func:`take_copyuid`: ``IMAPClient._imap.response("COPYUID")`` reads (and clears) imaplib's
  stored untagged ``COPYUID`` response code (RFC 4315), which the public ``copy()`` and
  ``move()`` discard; the adapter needs it to map moved messages to their new UIDs.

Nothing else in the package touches an underscore name of imapclient; both are checked against
the installed imapclient by ``tests/unit/test_imap_session.py`` and used against Dovecot by the
contract suite. Errors are translated by the caller (``imap_session.Edge``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imapclient.response_parser import parse_message_list  # type: ignore[import-untyped]

__all__ = ["take_copyuid", "uid_search"]


def uid_search(client: object, args: Sequence[bytes]) -> list[int]:
    """``UID SEARCH <args>`` (arguments already on the wire's terms); the UIDs found."""
    raw: Any = client
    data = raw._raw_command_untagged(b"SEARCH", list(args))
    uids: list[int] = parse_message_list(data)
    return uids


def take_copyuid(client: object) -> list[Any]:
    """The data of the last untagged ``COPYUID`` response code (``[None]`` when there was
    none), and forget it: called before a COPY/MOVE to clear a stale value, and after it."""
    raw: Any = client
    _code, data = raw._imap.response("COPYUID")
    return list(data or [None])
