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
    from mailguard_core.services.results import ToolResult
    from mailguard_core.services.use_cases import MailboxService

#: one use case call, run once the gate admitted the call; it returns a frozen result
#: (:mod:`mailguard_core.services.results`), which the faces shape for the wire
ServiceCall = Callable[["MailboxService"], "ToolResult"]
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


# ----------------------------------------------------------------- what tools/list shows
#: keywords the server enforces but a model needs not read: the bounds and formats are
#: checked against the full ``input_schema`` and refused with a clear error naming the
#: argument, so the listed schema leaves them out (issue 14: every character of
#: ``tools/list`` is in every request's context)
_UNLISTED_KEYWORDS = frozenset(
    {"pattern", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minimum"}
)


def listed_input_schema(schema: JsonSchema) -> JsonSchema:
    """The input schema as ``tools/list`` shows it: the full one without the keywords of
    :data:`_UNLISTED_KEYWORDS` (types, required, enums, defaults, maxima and descriptions kept).
    """
    out: JsonSchema = {}
    for key, value in schema.items():
        if key in _UNLISTED_KEYWORDS:
            continue
        if key == "properties":
            out[key] = {name: listed_input_schema(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = listed_input_schema(value)
        else:
            out[key] = value
    return out


def listed_output_schema(schema: JsonSchema) -> JsonSchema:
    """The output schema as ``tools/list`` shows it: the top-level keys and their types.

    A model never reads structured output against a schema, and a client checks only that
    ``structuredContent`` conforms: the top level (``meta``, ``untrusted``, ``items``,
    ``security_warnings``, ``error``, each with its type) says what a program gets; the full
    schema (``ToolDef.output_schema``) is what the tests hold every result to, and the
    envelope is documented in docs/clients.md and docs/sanitizer.md.
    """
    props = {
        name: {"type": sub["type"]} if "type" in sub else {}
        for name, sub in schema.get("properties", {}).items()
    }
    return {"type": "object", "properties": props}
