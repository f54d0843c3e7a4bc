"""The one error tree of mailguard.

Every error that leaves ``mailguard_core`` is a :class:`MailguardError`. Adapters translate
library, socket and TLS errors into these at their edge and chain the original with ``from``.

The circuit breaker counts only errors whose class says so (``breaker``): the mail server
failing (no connection, no answer in time, broken TLS, a response code naming its own trouble)
or refusing the login. Whatever a caller or an email can provoke with a value (a server's BAD
or NO to it, an answer too large to read, a missing extension) does not count.

Each error has two texts:

- ``public_message``: short, safe to show to a language model or a remote caller. It never
  contains a password, a host's internals, a stack trace or a raw library message.
- ``str(error)``: the detail, for stderr logs and the audit log (still never a secret).

::

    MailguardError
    ├── ConfigError (ValueError)
    ├── InputError (ValueError)                 caller's argument is invalid
    │   ├── HeaderInjectionError                CR/LF/NUL smuggled into a header value
    │   ├── InvalidSearchError                  search term or raw expression refused
    │   ├── InvalidFolderNameError
    │   ├── InvalidCursorError                  a cursor that no longer applies
    │   ├── RefusedByServer                     the server answered BAD / NO to this request
    │   ├── LimitExceeded                       a size or count over its bound
    │   │   ├── MessageTooLarge
    │   │   └── ExtractionLimitExceeded         attachment extraction over time/memory/size
    │   ├── UnsupportedAttachment               no text extraction for this type
    │   └── AttachmentUnreadable                a damaged or encrypted document
    ├── PolicyViolation                         refused by policy (not an error of the server)
    │   ├── ToolDenied                          posture / override / unknown tool
    │   ├── RateLimited                         .retry_after seconds
    │   ├── CircuitOpen                         .retry_after seconds
    │   ├── FolderProtected
    │   ├── RecipientNotAllowed
    │   ├── LabelReserved                       $PendingReview in add_label/remove_label
    │   ├── ConfirmationDeclined                the human declined, cancelled or did not answer
    │   └── ConfirmationUnavailable             the client cannot ask its human (no elicitation)
    ├── NotFound (LookupError)
    │   ├── MessageNotFound
    │   ├── FolderNotFound
    │   └── AttachmentNotFound
    ├── StaleReference                          UIDVALIDITY changed: search again
    ├── BackendError                            the mail server or a local service failed
    │   ├── ConnectionFailed       breaker: transient
    │   ├── OperationTimeout       breaker: transient
    │   ├── TLSError               breaker: transient
    │   ├── ProtocolError          breaker: transient
    │   ├── UnreadableResponse     one message's answer could not be read (does not count)
    │   ├── UnsupportedByServer    the server lacks a needed extension (does not count)
    │   ├── AuthenticationFailed   breaker: auth (opens at once)
    │   └── SendFailed             breaker: transient
    │       ├── MessageRefused     a permanent (5xx) refusal of this message (does not count)
    │       └── RecipientRefused   (does not count)
    ├── SecretUnavailable
    ├── StateUnavailable                        the shared gate state (Redis) is unreachable
    └── AuditError
        ├── AuditLocked                         another process holds the log
        └── AuditTampered
"""

from __future__ import annotations

from typing import ClassVar, Literal

BreakerKind = Literal["transient", "auth"]


class MailguardError(Exception):
    """Root of every mailguard error.

    Args:
        detail: text for logs and the audit log; defaults to the public message.
        public: overrides the class's public message for this instance. Only pass text that
            mailguard itself wrote (never content from a message or a server reply).
    """

    public: ClassVar[str] = "mailguard error"
    #: stable machine-readable code, shown to callers beside the public message
    code: ClassVar[str] = "error"
    #: how the circuit breaker counts this error (None: it does not count)
    breaker: ClassVar[BreakerKind | None] = None

    def __init__(self, detail: str | None = None, *, public: str | None = None) -> None:
        self._public = public
        super().__init__(detail if detail is not None else (public or self.public))

    @property
    def public_message(self) -> str:
        """A short message that is safe to show to a model."""
        return self._public or self.public


class ConfigError(MailguardError, ValueError):
    public = "invalid configuration"
    code = "config_error"


class InputError(MailguardError, ValueError):
    """The caller's input is invalid. The public message explains what to change."""

    public = "invalid input"
    code = "invalid_input"


class HeaderInjectionError(InputError):
    public = "a header value contains a line break or control character"
    code = "header_injection"


class InvalidSearchError(InputError):
    public = "invalid search"
    code = "invalid_search"


class InvalidFolderNameError(InputError):
    public = "invalid folder name"
    code = "invalid_folder_name"


class InvalidCursorError(InputError):
    public = "this cursor no longer applies; run the search again"
    code = "invalid_cursor"


class RefusedByServer(InputError):
    """The mail server answered ``BAD`` or ``NO`` to a request (without a response code that
    names the server's own trouble): an answer to the values sent, so it never counts
    towards the circuit breaker, whoever chose the values."""

    public = "the mail server refused this request (a value it does not accept)"
    code = "refused_by_server"


class LimitExceeded(InputError):
    public = "a size or count limit was exceeded"
    code = "limit_exceeded"


class MessageTooLarge(LimitExceeded):
    public = "the message is larger than the configured limit"
    code = "message_too_large"


class ExtractionLimitExceeded(LimitExceeded):
    public = "the attachment is too large or too costly to read"
    code = "extraction_limit"


class UnsupportedAttachment(InputError):
    public = "no text extraction for this type of attachment"
    code = "unsupported_attachment"


class AttachmentUnreadable(InputError):
    public = "the attachment could not be read (damaged, encrypted or not what it claims to be)"
    code = "attachment_unreadable"


class PolicyViolation(MailguardError):
    public = "refused by policy"
    code = "policy_refused"


class ToolDenied(PolicyViolation):
    public = "this tool is not available"
    code = "tool_denied"


class _RetryLater(PolicyViolation):
    def __init__(self, retry_after: float, detail: str | None = None) -> None:
        self.retry_after = max(0.0, retry_after)
        super().__init__(detail, public=f"{self.public}; retry after {self.retry_after:.1f} s")


class RateLimited(_RetryLater):
    public = "rate limit reached"
    code = "rate_limited"


class CircuitOpen(_RetryLater):
    public = "the mail server is failing; calls are paused"
    code = "circuit_open"


class StateUnavailable(MailguardError):
    """The shared gate state (Redis) cannot be reached: the call is refused (fails closed)."""

    public = "the rate-limit store is unavailable; try again shortly"
    code = "state_unavailable"


class FolderProtected(PolicyViolation):
    public = "this folder is protected"
    code = "folder_protected"


class RecipientNotAllowed(PolicyViolation):
    public = "a recipient is not on this account's allowlist"
    code = "recipient_not_allowed"


class LabelReserved(PolicyViolation):
    public = "this keyword is reserved for drafts awaiting review; it cannot be added or removed"
    code = "label_reserved"


class ConfirmationDeclined(PolicyViolation):
    """The human did not accept a confirmed call: declined, cancelled, no answer in time, or an
    answer that was not a clear yes. Nothing was done; never counts towards the breaker."""

    public = "the user did not approve this action; nothing was done"
    code = "confirmation_declined"


class ConfirmationUnavailable(PolicyViolation):
    """A confirmed call from a client that cannot ask its user (no elicitation capability),
    on an account whose ``on_unsupported`` refuses it. Nothing was done."""

    public = (
        "this action needs the user's confirmation and this client cannot ask for it; "
        "nothing was done"
    )
    code = "confirmation_unavailable"


class NotFound(MailguardError, LookupError):
    public = "not found"
    code = "not_found"


class MessageNotFound(NotFound):
    public = "no such message"
    code = "message_not_found"


class FolderNotFound(NotFound):
    public = "no such folder"
    code = "folder_not_found"


class AttachmentNotFound(NotFound):
    public = "no such attachment"
    code = "attachment_not_found"


class StaleReference(MailguardError):
    public = "this message reference is stale (the folder's UIDVALIDITY changed); search again"
    code = "stale_reference"


class BackendError(MailguardError):
    public = "mail backend unavailable"
    code = "backend_error"


class ConnectionFailed(BackendError):
    public = "could not reach the mail server"
    code = "connection_failed"
    breaker: ClassVar[BreakerKind | None] = "transient"


class OperationTimeout(BackendError):
    public = "the mail server did not answer in time"
    code = "timeout"
    breaker: ClassVar[BreakerKind | None] = "transient"


class TLSError(BackendError):
    public = "the mail server's TLS could not be verified"
    code = "tls_error"
    breaker: ClassVar[BreakerKind | None] = "transient"


class ProtocolError(BackendError):
    public = "the mail server refused the command"
    code = "protocol_error"
    breaker: ClassVar[BreakerKind | None] = "transient"


class UnreadableResponse(BackendError):
    """The server's answer about one message or request could not be read (a line over the
    IMAP library's limit, say, for a message with thousands of parts). An email can cause
    this, so it does not count towards the breaker; the connection it left out of step is
    dropped, never reused."""

    public = "the mail server's answer could not be read (too large or malformed)"
    code = "unreadable_response"


class UnsupportedByServer(BackendError):
    """The server lacks an extension this operation needs (it answers every such call the
    same way, so it does not count towards the breaker)."""

    public = "the mail server does not support this operation"
    code = "unsupported_by_server"


class AuthenticationFailed(BackendError):
    public = "authentication with the mail server failed"
    code = "auth_failed"
    breaker: ClassVar[BreakerKind | None] = "auth"


class SendFailed(BackendError):
    public = "the message could not be sent"
    code = "send_failed"
    breaker: ClassVar[BreakerKind | None] = "transient"


class MessageRefused(SendFailed):
    """A permanent (5xx) SMTP refusal of this message: an answer to its content, not a
    failing server, so it does not count towards the breaker."""

    public = "the mail server refused the message"
    code = "message_refused"
    breaker = None


class RecipientRefused(SendFailed):
    public = "the mail server refused a recipient"
    code = "recipient_refused"
    breaker = None


class SecretUnavailable(MailguardError):
    public = "credential unavailable"
    code = "secret_unavailable"


class AuditError(MailguardError):
    public = "audit log unavailable"
    code = "audit_error"


class AuditLocked(AuditError):
    public = "the audit log is locked by another mailguard process"
    code = "audit_locked"


class AuditTampered(AuditError):
    public = "the audit log failed verification"
    code = "audit_tampered"


class SanitizeError(MailguardError):
    """The sanitizer failed on an input it should have handled (a bug; tests keep it unhit)."""

    public = "the message could not be sanitized"
    code = "sanitize_error"
