"""A human says yes: MCP elicitation before a confirmed call (issue 21).

For a tool in the account's ``[accounts.confirm] tools``, once the gate has admitted the call
and before the service runs it, :func:`confirm_call`:

1. builds the summary in ``mailguard_core.services.confirm`` (from the composed message or the
   stored messages; never from the model's words) in a worker thread;
2. asks the client's user with ``elicitation/create`` (form mode: the summary as the message
   and one required boolean, ``approve``), bounded by ``timeout_seconds``;
3. returns the service call to run only for an ``accept`` whose content is exactly
   ``{"approve": true}``. Decline, cancel, no answer in time, an error reply, or any other
   answer raise :class:`~mailguard_core.model.errors.ConfirmationDeclined` (a refusal; the breaker
   does not count it).

A client that did not declare form elicitation in ``initialize`` is never asked: a send with
``on_unsupported = "draft"`` becomes a ``$PendingReview`` draft (the result says it was not
sent), anything else raises :class:`~mailguard_core.model.errors.ConfirmationUnavailable`.

The audit end record gets the summary's SHA-256, the decision and how long it took
(``confirm_sha256``, ``confirm_decision``, ``confirm_ms``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio
import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import NoBackChannelError

from mailguard_core.model.errors import ConfirmationDeclined, ConfirmationUnavailable
from mailguard_core.model.tools import ToolName
from mailguard_core.services.confirm import (
    ConfirmationSummary,
    audit_fields,
    summary_call,
    unconfirmable_call,
)
from mailguard_core.services.confirm import needs_confirmation as core_needs_confirmation
from mailguard_core.services.toolspec import ServiceCall

if TYPE_CHECKING:
    from mailguard_core.app.bootstrap import MailguardApp
    from mailguard_core.gate import GateCall

logger = logging.getLogger("mailguard_mcp")


#: the one field of the form: a required yes/no, so a bare "accept" is not a yes
APPROVE = "approve"
REQUESTED_SCHEMA: types.ElicitRequestedSchema = {
    "type": "object",
    "properties": {
        APPROVE: {
            "type": "boolean",
            "title": "Approve",
            "description": "Tick to let mailguard do exactly what is shown above.",
            "default": False,
        }
    },
    "required": [APPROVE],
}


def client_can_elicit(ctx: ServerRequestContext[Any]) -> bool:
    """Whether the client declared form-mode elicitation in ``initialize`` (an empty
    ``elicitation`` object means form mode; a URL-only client cannot show a form)."""
    capabilities = ctx.session.client_capabilities
    elicitation = None if capabilities is None else capabilities.elicitation
    if elicitation is None:
        return False
    return elicitation.form is not None or elicitation.url is None


async def ask(ctx: ServerRequestContext[Any], summary: ConfirmationSummary, timeout: float) -> str:
    """Ask the human; the decision: ``accept``, ``decline``, ``cancel``, ``timeout``,
    ``malformed`` (an answer that is not exactly ``approve: true``) or ``error``."""
    try:
        with anyio.fail_after(timeout):
            result = await ctx.session.elicit_form(
                summary.text, REQUESTED_SCHEMA, related_request_id=ctx.request_id
            )
    except TimeoutError:
        return "timeout"
    except NoBackChannelError:  # declared, but this transport cannot carry the request
        return "unsupported"
    except Exception as exc:  # an error reply, a result that does not parse: not a yes
        logger.info("elicitation failed: %s", type(exc).__name__)
        return "error"
    if result.action == "accept":
        content = result.content
        if isinstance(content, dict) and set(content) == {APPROVE} and content[APPROVE] is True:
            return "accept"
        return "malformed" if content is None or content.get(APPROVE) is not False else "decline"
    if result.action in ("decline", "cancel"):
        return str(result.action)
    return "malformed"  # pragma: no cover - the SDK's model admits only the three actions


async def confirm_call(
    ctx: ServerRequestContext[Any],
    app: MailguardApp,
    tool: ToolName,
    account: str,
    args: Mapping[str, Any],
    guarded: GateCall,
    call: ServiceCall,
) -> tuple[ServiceCall, dict[str, Any]]:
    """The call to run once the human accepted (or the draft fallback), and the fields for
    the audit end record. Call it after the gate admitted the call.

    Raises:
        ConfirmationDeclined: anything but a clear yes (the audit fields are already set on
            ``guarded``).
        ConfirmationUnavailable: the client cannot ask and ``on_unsupported`` refuses.
        MailguardError: building the summary failed (bad input, the store failed).
    """
    config = app.account(account)
    decision = "unsupported"
    if client_can_elicit(ctx):
        summary = await anyio.to_thread.run_sync(
            app.with_service, account, summary_call(tool, args)
        )
        started = time.monotonic()
        decision = await ask(ctx, summary, config.confirm.timeout_seconds)
        fields = audit_fields(summary, decision, time.monotonic() - started)
    if decision == "unsupported":
        try:
            fallback = unconfirmable_call(config, tool, args)
        except ConfirmationUnavailable:
            guarded.set_result({"confirm_decision": "unsupported_refused"})
            raise
        return fallback, {"confirm_decision": "unsupported_draft"}
    if decision != "accept":
        guarded.set_result(fields)
        raise ConfirmationDeclined(f"{tool.value}: the user's answer was {decision}")
    return call, fields


def needs_confirmation(app: MailguardApp, tool: ToolName | None, account: str) -> bool:
    """Whether ``tool`` on ``account`` asks the human first (unknown accounts: no; the gate
    refuses them)."""
    return app.has_account(account) and core_needs_confirmation(app.account(account), tool)
