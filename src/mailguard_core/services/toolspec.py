"""The shape of a tool table entry: :class:`ToolSpec`, its :class:`Arg` list and their
:class:`Role` for the gate. The table itself is :mod:`mailguard_core.services.tooldefs`."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mailguard_core.gate.request import Redaction, ToolRequest
from mailguard_core.model.tools import ToolName
from mailguard_core.services.schemas import JsonSchema, obj, with_error

if TYPE_CHECKING:
    from mailguard_core.services.use_cases import MailboxService

Result = dict[str, Any]
ServiceCall = Callable[["MailboxService"], Result]
#: builds the service call from the typed request and the (schema-valid) JSON arguments;
#: parses what is left to parse now, so a malformed value is refused before the gate admits
Prepare = Callable[[ToolRequest, Mapping[str, Any]], ServiceCall]


class Role(enum.Enum):
    """What an argument means to the gate (:class:`ToolRequest`'s field it fills)."""

    PLAIN = "plain"
    #: the account the call acts on
    ACCOUNT = "account"
    #: one message the call acts on (``refs``)
    REF = "ref"
    #: 1-100 messages the call acts on (``refs``)
    REFS = "refs"
    #: the message a draft or send replies to (``reply_to``)
    REPLY_TO = "reply_to"
    #: an existing folder the call renames or deletes (``folder``)
    FOLDER = "folder"
    #: a folder the call brings into being (``new_folder``)
    NEW_FOLDER = "new_folder"
    #: where the call moves messages (``destination``)
    DESTINATION = "destination"
    #: a keyword added or removed (``label``)
    LABEL = "label"


@attrs.frozen
class Arg:
    """One argument: its JSON schema, its audit rule, its meaning to the gate."""

    name: str
    schema: JsonSchema
    audit: Redaction
    role: Role = Role.PLAIN
    required: bool = False


def _input_schema(spec: ToolSpec) -> JsonSchema:
    return obj(
        {a.name: a.schema for a in spec.args}, tuple(a.name for a in spec.args if a.required)
    )


@attrs.frozen(kw_only=True)
class ToolSpec:
    """One tool (the output schema gains the error shape).

    ``input_schema`` and ``output_schema`` are the full schemas: arguments are validated
    against the first and results are tested against the second. ``tools/list`` shows their
    compact forms (:func:`listed_input_schema`, :func:`listed_output_schema`). ``prepare`` is
    None for the infrastructure tools, which the face answers itself.
    """

    name: ToolName
    title: str
    description: str
    args: tuple[Arg, ...]
    output_schema: JsonSchema = attrs.field(converter=with_error)
    prepare: Prepare | None
    read_only: bool
    destructive: bool = False
    idempotent: bool = True
    open_world: bool = False
    input_schema: JsonSchema = attrs.field(
        init=False, default=attrs.Factory(_input_schema, takes_self=True)
    )

    def arg(self, name: str) -> Arg | None:
        """The argument called exactly ``name``, or None."""
        return next((a for a in self.args if a.name == name), None)

    @property
    def acts_on_refs(self) -> bool:
        """Whether the call acts on the account named in its message refs."""
        return any(a.role in (Role.REF, Role.REFS) for a in self.args)


#: the public name of a table entry (``mailguard_core.ToolDef``)
ToolDef = ToolSpec
