"""The imapclient internals the IMAP adapter uses, each in one function.

imapclient's public API lacks three things the adapter needs:

- :func:`uid_search`: ``IMAPClient._raw_command_untagged`` sends ``UID SEARCH`` with arguments
  ``search_query`` already quoted or sent as literals (the public ``search()`` re-quotes its
  criteria and cannot send a ``CHARSET UTF-8`` literal of our choosing);
- :func:`uid_esearch`: the same command with ``RETURN (ALL)`` (ESEARCH, RFC 4731, which
  imapclient has no API for): the untagged ``ESEARCH`` responses, unparsed, and the command's
  tag (``IMAPClient._imap``'s tag counter) for checking the correlator; stale ESEARCH
  responses left in imaplib's store are dropped before the command;
- :func:`take_copyuid`: ``IMAPClient._imap.response("COPYUID")`` reads (and clears) imaplib's
  stored untagged ``COPYUID`` response code (RFC 4315), which the public ``copy()`` and
  ``move()`` discard; the adapter needs it to map moved messages to their new UIDs.

Nothing else in the package touches an underscore name of imapclient; each is checked against
the installed imapclient by ``tests/unit/test_imap_session.py`` and used against Dovecot by the
contract suite. The client is typed as the adapter's ``ImapSession`` (what it is everywhere
else); the internals are reached through ``Any`` here and nowhere else. Errors are translated
by the caller (``imap_session.Edge``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from imapclient.response_parser import parse_message_list  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from mailguard_core.adapters.imap_session import ImapSession

__all__ = ["take_copyuid", "uid_esearch", "uid_search"]


def uid_search(client: ImapSession, args: Sequence[bytes]) -> list[int]:
    """``UID SEARCH <args>`` (arguments already on the wire's terms); the UIDs found."""
    raw: Any = client
    data = raw._raw_command_untagged(b"SEARCH", list(args))
    uids: list[int] = parse_message_list(data)
    return uids


def uid_esearch(client: ImapSession, args: Sequence[bytes]) -> tuple[bytes, list[object]]:
    """``UID SEARCH RETURN (ALL) <args>``: ``(tag, responses)``, the command's tag and the data
    of every untagged ``ESEARCH`` response it got (``[None]`` when none came); unparsed."""
    raw: Any = client
    imap = raw._imap
    imap.untagged_responses.pop("ESEARCH", None)  # a stale one must not answer this command
    data = raw._raw_command_untagged(
        b"SEARCH", [b"RETURN", b"(ALL)", *args], response_name="ESEARCH"
    )
    # _raw_command took one tag (imaplib's _new_tag) and sent nothing else since
    tag: bytes = imap.tagpre + str(imap.tagnum - 1).encode("ascii")
    return tag, list(data)


def take_copyuid(client: ImapSession) -> list[Any]:
    """The data of the last untagged ``COPYUID`` response code (``[None]`` when there was
    none), and forget it: called before a COPY/MOVE to clear a stale value, and after it."""
    raw: Any = client
    _code, data = raw._imap.response("COPYUID")
    return list(data or [None])
