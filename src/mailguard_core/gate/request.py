"""What the gate sees of a call: one frozen :class:`ToolRequest`, built once by the face.

The face (the MCP server, the library's :class:`~mailguard_core.app.mailbox.Mailbox`, or
``mailguard_core.Gate.guard`` for a caller's own call) turns the tool's JSON arguments into
typed values by the tool table (``mailguard_core.services.tooldefs``): the parsed
:class:`~mailguard_core.model.values.MessageRef` values, the folder names by what the call
does with them, the label, and every argument with the rule by which the audit log keeps it.
The gate, the folder guard and the audit record read only this: no argument names, no
re-parsing.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import attrs

from mailguard_core.model.errors import MailguardError
from mailguard_core.model.tools import ToolName
from mailguard_core.model.values import MessageRef

if TYPE_CHECKING:
    from mailguard_core.gate.principals import Principal


class Redaction(enum.StrEnum):
    """How the audit log keeps one argument (``docs/audit-log.md``)."""

    #: the value, clipped (refs, folder names, labels, flags, limits)
    KEEP = "keep"
    #: a length marker (subjects, bodies, search terms, cursors)
    LENGTH = "length"
    #: a salted or keyed hash per address (recipients)
    PSEUDONYM = "pseudonym"
    #: a name: text or null kept (clipped), anything else ``[redacted]`` (the account)
    NAME = "name"


@attrs.frozen
class AuditArgument:
    """One argument as given, and its rule (None: unknown, logged as ``[redacted]``)."""

    key: str
    rule: Redaction | None
    value: Any = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ToolRequest:
    """One call as the gate checks and audits it.

    ``tool`` is None for a name that is no tool (``requested`` keeps the name as asked).
    ``invalid`` is the arguments' problem (schema, a malformed ref or folder), which the gate
    refuses right after the posture check: before the breaker and the rate limiter.
    """

    tool: ToolName | None
    requested: str
    #: the account the call acts on (None: none was named and there is no active one)
    account: str | None
    #: the messages the call acts on
    refs: tuple[MessageRef, ...] = ()
    #: the message a draft or send replies to
    reply_to: MessageRef | None = None
    #: an existing folder the call renames or deletes
    folder: str | None = None
    #: a folder name the call brings into being (a new folder, a rename's new name)
    new_folder: str | None = None
    #: where the call moves messages
    destination: str | None = None
    #: a keyword the call adds or removes
    label: str | None = None
    #: every argument, in the order given, with its audit rule
    arguments: tuple[AuditArgument, ...] = ()
    invalid: MailguardError | None = None
    #: the authenticated caller (HTTP with ``[server.auth]``), None over stdio and the library
    principal: Principal | None = None

    @property
    def named_refs(self) -> tuple[MessageRef, ...]:
        """Every message ref the call names (acted on, and the one replied to)."""
        return self.refs if self.reply_to is None else (*self.refs, self.reply_to)
