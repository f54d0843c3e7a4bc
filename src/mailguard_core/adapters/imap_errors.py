"""Translation of imapclient, imaplib, ssl and socket errors into mailguard errors, and how
each counts towards the circuit breaker (see :func:`imap_errors`)."""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator

from imapclient import exceptions as imap_exc  # type: ignore[import-untyped]

from mailguard_core.adapters.tls_probe import tls_failure
from mailguard_core.model.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    FolderNotFound,
    InputError,
    MailguardError,
    OperationTimeout,
    ProtocolError,
    RefusedByServer,
    UnreadableResponse,
)

__all__ = [
    "SERVER_TROUBLE_CODES",
    "VALUELESS_ACTIONS",
    "ConnectionLost",
    "MalformedAnswer",
    "OutOfStep",
    "answer_errors",
    "imap_errors",
    "is_line_too_long",
    "response_code",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_NOT_FOUND = (
    "NONEXISTENT",
    "TRYCREATE",
    "DOESN'T EXIST",
    "DOES NOT EXIST",
    "NO SUCH",
    "UNKNOWN MAILBOX",
)
_EXISTS = ("ALREADYEXISTS", "ALREADY EXISTS")
#: RFC 5530 response codes by which a server names its own trouble: only these make a tagged
#: NO count towards the circuit breaker (every other BAD or NO answers the values sent)
SERVER_TROUBLE_CODES = frozenset({"UNAVAILABLE", "SERVERBUG", "CORRUPTION", "INUSE"})
#: actions that send no value a caller or an email chose: any BAD or NO to them is the
#: server's own failure and counts
VALUELESS_ACTIONS = frozenset({"connect", "starttls", "noop", "capability"})
#: the response code at the start of the server's text, after imaplib's or imapclient's own
#: prefix ("select failed: [CODE] ...", "UID command error: BAD [b'[CODE] ...']"); text the
#: server echoes later (a folder name, say) is never read as a code
_CODE_AT_START = re.compile(
    r"(?:[\w -]{0,40}?(?:failed|command error): (?:(?:BAD|NO|OK) \[b['\"])?)?"
    r"\[([A-Za-z0-9-]{1,40})[\] ]"
)
#: imaplib's error for a response line over its limit (``imaplib._MAXLINE``), as raised by
#: ``readline`` or re-raised by ``_command_complete`` ("command: FETCH => got more than ...");
#: the rest of the response is still unread on the socket
_LINE_TOO_LONG = re.compile(r"(?:command: \w+ => )?got more than \d+ bytes")


def error_snippet(exc: BaseException) -> str:
    """Type and a short, control-free excerpt of a library message (for logs, never public).

    A codec error gives only its type and codec: its own text names the character and its
    position in the value, which may be a password.
    """
    if isinstance(exc, UnicodeError):
        return f"{type(exc).__name__} ({getattr(exc, 'encoding', '?')})"
    return f"{type(exc).__name__}: {_CONTROL.sub(' ', str(exc))[:200]}"


class ConnectionLost(ConnectionFailed):
    """The connection broke during a command; the store drops it and reconnects next time."""


class OutOfStep(UnreadableResponse):
    """A response could not be read or parsed whole: the store drops the connection (what is
    left of the response must never be read as the answer to the next command). Like every
    :class:`UnreadableResponse` it does not count towards the breaker: an email can cause it."""


class MalformedAnswer(Exception):
    """An answer read whole that breaks the grammar its command allows, found by one of the
    adapter's own strict parsers of server input (``imap_esearch``). Never leaves the adapter:
    :func:`answer_errors` maps it to :class:`OutOfStep` (not a ``ValueError``, so a bug of
    ours in such a parser is never mistaken for it)."""


@contextlib.contextmanager
def answer_errors(action: str) -> Iterator[None]:
    """Map :class:`MalformedAnswer` from a strict parser of a server's answer, and nothing
    else, to :class:`OutOfStep`: a typed error, and the connection is dropped (a server that
    answers outside the grammar is not trusted to be in step). Like every unreadable answer it
    does not count towards the breaker."""
    try:
        yield
    except MalformedAnswer as exc:
        raise OutOfStep(f"{action}: malformed answer: {error_snippet(exc)}") from exc


def response_code(message: str) -> str | None:
    """The response code (``CANNOT``, ``SERVERBUG``...) at the start of the server's text in
    an imaplib / imapclient error message, upper-cased; None when there is none."""
    m = _CODE_AT_START.match(message)
    return m.group(1).upper() if m else None


def is_line_too_long(exc: BaseException) -> bool:
    """Whether ``exc`` is imaplib's error for a response line over its limit."""
    return isinstance(exc, imaplib.IMAP4.error) and bool(_LINE_TOO_LONG.fullmatch(str(exc)))


@contextlib.contextmanager
def imap_errors(action: str) -> Iterator[None]:
    """Translate the exceptions of imapclient, imaplib, ssl and socket calls; nothing else.

    Wrap library calls only (``imap_session.Edge`` wraps each one): an exception from the
    adapter's own code is never translated, so a bug is not mistaken for the server's fault.
    Every clause names a library exception, most specific first:

    - ``LoginError`` is :class:`AuthenticationFailed`; a read-only folder is
      :class:`RefusedByServer`; imaplib's ``abort`` (the connection broke), a TLS connection
      closed under us and any other socket ``OSError`` (``EOFError`` too) are
      :class:`ConnectionLost`; a timeout is :class:`OperationTimeout`; other ssl errors are
      ``TLSError`` (``tls_probe.tls_failure`` names the likely cause);
    - a response that is too long to read (a line over imaplib's limit) or that imapclient
      cannot parse (its ``ProtocolError``, or the ``ValueError`` its lexer and parsers raise)
      is :class:`OutOfStep`: the connection is dropped, and it does not count;
    - a value imaplib cannot encode (``UnicodeError``) is :class:`InputError`
      (:class:`AuthenticationFailed` at login), without the codec's text;
    - any other ``IMAP4.error`` is a tagged ``BAD`` or ``NO``: :class:`FolderNotFound`, a
      folder that exists, else :class:`RefusedByServer` (it does not count towards the
      breaker) unless its response code is one of :data:`SERVER_TROUBLE_CODES` or the action
      sends no caller-chosen value (:data:`VALUELESS_ACTIONS`): then :class:`ProtocolError`,
      which counts.

    A :class:`MailguardError` passes unchanged (one raised inside a wrapped block is already
    translated).
    """
    try:
        yield
    except MailguardError:
        raise
    except imap_exc.LoginError as exc:  # an IMAP4.error: before it
        raise AuthenticationFailed(f"{action}: login refused") from exc
    except imaplib.IMAP4.readonly as exc:  # an IMAP4.abort: before it
        raise RefusedByServer(
            f"{action}: folder is read-only", public="this folder is read-only on the server"
        ) from exc
    except imaplib.IMAP4.abort as exc:  # an IMAP4.error: before it
        raise ConnectionLost(f"{action}: {error_snippet(exc)}") from exc
    except imap_exc.ProtocolError as exc:  # an IMAP4.error: before it
        raise OutOfStep(f"{action}: unparseable response: {error_snippet(exc)}") from exc
    except imaplib.IMAP4.error as exc:  # imapclient's IMAPClientError is this class
        raise _refusal(action, exc) from exc
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError) as exc:
        raise ConnectionLost(f"{action}: {error_snippet(exc)}") from exc  # the peer went away
    except ssl.SSLError as exc:  # an OSError: before it
        raise tls_failure(exc, action) from exc
    except TimeoutError as exc:  # an OSError (socket.timeout): before it
        raise OperationTimeout(f"{action}: {error_snippet(exc)}") from exc
    except (OSError, EOFError) as exc:  # the socket
        raise ConnectionLost(f"{action}: {error_snippet(exc)}") from exc
    except UnicodeError as exc:  # a ValueError: before it (never shown: error_snippet)
        if action == "login":
            raise AuthenticationFailed(f"{action}: {error_snippet(exc)}") from None
        raise InputError(
            f"{action}: {error_snippet(exc)}",
            public="a value has characters the server cannot take",
        ) from None
    except ValueError as exc:  # imapclient's lexer and parsers (response_lexer, datetime_util)
        raise OutOfStep(f"{action}: unparseable response: {error_snippet(exc)}") from exc


def _refusal(action: str, exc: imaplib.IMAP4.error) -> MailguardError:
    """What a tagged ``BAD``/``NO`` (or another ``IMAP4.error``) means; see imap_errors."""
    if is_line_too_long(exc):
        return OutOfStep(f"{action}: a response line over imaplib's limit")
    text = str(exc).upper()
    if any(marker in text for marker in _NOT_FOUND):
        return FolderNotFound(f"{action}: {error_snippet(exc)}")
    if any(marker in text for marker in _EXISTS):
        return InputError(
            f"{action}: {error_snippet(exc)}", public="a folder with that name exists"
        )
    if action in VALUELESS_ACTIONS or response_code(str(exc)) in SERVER_TROUBLE_CODES:
        return ProtocolError(f"{action}: {error_snippet(exc)}")
    return RefusedByServer(f"{action}: {error_snippet(exc)}")
