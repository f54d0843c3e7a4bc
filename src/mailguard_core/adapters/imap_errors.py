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
    "OutOfStep",
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


def _snippet(exc: BaseException) -> str:
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
    """Translate imapclient, imaplib, ssl and socket errors into mailguard errors.

    ``ConnectionLost``/``OperationTimeout``/``TLSError``/``OutOfStep`` mean the connection
    is unusable. A tagged ``BAD`` or ``NO`` is :class:`RefusedByServer` (it does not count
    towards the breaker) unless its response code is one of :data:`SERVER_TROUBLE_CODES` or
    the action sends no caller-chosen value (:data:`VALUELESS_ACTIONS`): then it is
    :class:`ProtocolError`, which counts; a response too long to read, or one that
    cannot be parsed, is :class:`OutOfStep` (does not count).
    """
    try:
        yield
    except MailguardError:
        raise
    except imap_exc.LoginError as exc:
        raise AuthenticationFailed(f"{action}: login refused") from exc
    except TimeoutError as exc:
        raise OperationTimeout(f"{action}: {_snippet(exc)}") from exc
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError) as exc:
        raise ConnectionLost(f"{action}: {_snippet(exc)}") from exc  # the peer went away
    except ssl.SSLError as exc:  # the public text names the likely cause (tls_probe)
        raise tls_failure(exc, action) from exc
    except UnicodeError as exc:  # a value imaplib could not encode (never shown: _snippet)
        if action == "login":
            raise AuthenticationFailed(f"{action}: {_snippet(exc)}") from None
        raise InputError(
            f"{action}: {_snippet(exc)}", public="a value has characters the server cannot take"
        ) from None
    except imaplib.IMAP4.readonly as exc:  # a subclass of abort: first
        raise RefusedByServer(
            f"{action}: folder is read-only", public="this folder is read-only on the server"
        ) from exc
    except (imaplib.IMAP4.abort, EOFError, OSError) as exc:
        raise ConnectionLost(f"{action}: {_snippet(exc)}") from exc
    except (imap_exc.ProtocolError, ValueError) as exc:  # unparseable server response
        raise OutOfStep(f"{action}: unparseable response: {_snippet(exc)}") from exc
    except imaplib.IMAP4.error as exc:  # imapclient's IMAPClientError is this class
        if is_line_too_long(exc):
            raise OutOfStep(f"{action}: a response line over imaplib's limit") from exc
        text = str(exc).upper()
        if any(marker in text for marker in _NOT_FOUND):
            raise FolderNotFound(f"{action}: {_snippet(exc)}") from exc
        if any(marker in text for marker in _EXISTS):
            raise InputError(
                f"{action}: {_snippet(exc)}", public="a folder with that name exists"
            ) from exc
        if action in VALUELESS_ACTIONS or response_code(str(exc)) in SERVER_TROUBLE_CODES:
            raise ProtocolError(f"{action}: {_snippet(exc)}") from exc
        raise RefusedByServer(f"{action}: {_snippet(exc)}") from exc
