"""The gate: every tool call passes here before anything touches a mailbox.

Order (``docs/security-model.md``): write the start record; the tool must be known and
allowed for the account (unknown tools, unknown accounts and denied tools get the same
refusal); arguments the caller found invalid are refused here (no token, not counted); the
account's circuit breaker; the folder guard, which may first ask the mail
server for the account's special-use folders (once per account, through the
:data:`SpecialFoldersProvider`); its rate limits (a refused call takes no tokens); then the
caller's body runs. The end record is always written, for refused and failed calls too, with
the outcome, the error code and detail, and a small result summary.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mailguard_core.config import AccountConfig, Config
from mailguard_core.gate.audit import (
    KIND_CALL_END,
    KIND_CALL_START,
    clip,
    format_ts,
    redact_arguments,
    summarize_result,
)
from mailguard_core.gate.breaker import CircuitBreaker
from mailguard_core.gate.clock import Clock, MonotonicClock
from mailguard_core.gate.folders import SPECIAL_FOLDER_TOOLS, FolderGuard
from mailguard_core.gate.policy import effective_tools
from mailguard_core.gate.ratelimit import AccountRateLimiter
from mailguard_core.model.errors import (
    ConfigError,
    InputError,
    MailguardError,
    PolicyViolation,
    RateLimited,
    ToolDenied,
)
from mailguard_core.model.tools import INFRASTRUCTURE_TOOLS, ToolName, parse_tool_name
from mailguard_core.ports.audit import AuditSink

if TYPE_CHECKING:
    from mailguard_core.gate.principals import Principal
    from mailguard_core.ports.gate_state import Breaker, GateState

_DETAIL_CHARS = 500
#: the one public refusal for unknown tools, unknown accounts and denied tools
DENIED_PUBLIC = ToolDenied.public

#: Asks an account's mail server for its special-use folders: a mapping of special-use flag
#: (``\Sent``, ``\Drafts``, ``\Trash`` ...) to folder name, or just the names (then only the
#: fallback names count as Drafts and Sent). Called with the account name, in the caller's
#: thread, and may block; it raises :class:`~mailguard_core.model.errors.MailguardError` subclasses
#: (a connection or login failure).
SpecialFoldersProvider = Callable[[str], Mapping[str, str] | Iterable[str]]


class _AccountGate:
    __slots__ = (
        "auth_version",
        "breaker",
        "folders",
        "learning",
        "limiter",
        "name",
        "specials_known",
        "tools",
    )

    def __init__(self, account: AccountConfig, now: float, state: GateState | None) -> None:
        where = f"accounts.{account.name}"
        self.name = account.name
        self.tools = effective_tools(account.posture, account.tools, where=f"{where}.tools")
        self.folders = FolderGuard(account.folders, where=f"{where}.folders")
        self.limiter = AccountRateLimiter(account.limits, now=now, where=f"{where}.limits")
        #: this process's own breaker, or the one shared through ``state`` (Redis)
        self.breaker: Breaker = (
            CircuitBreaker(account.breaker, where=f"{where}.breaker")
            if state is None
            else state.breaker(account.name, account.breaker)
        )
        #: the credential version when the breaker last opened for an auth failure
        self.auth_version: str | None = None
        #: whether the special-use folders are known (learned, or set by the caller)
        self.specials_known = False
        #: held while the provider runs, so concurrent calls ask the server once
        self.learning = threading.Lock()


class GateCall:
    """One admitted call, inside ``with gate.guard(...) as call``."""

    __slots__ = ("account", "result", "seq", "tool")

    def __init__(self, seq: int, tool: ToolName, account: str | None) -> None:
        self.seq = seq
        self.tool = tool
        self.account = account
        self.result: dict[str, Any] | None = None

    def set_result(self, summary: Mapping[str, Any]) -> None:
        """Add a small, content-free summary (counts, refs, flags) to the end record."""
        self.result = summarize_result(summary)


class Guard:
    """The context manager returned by :meth:`Gate.guard` (a plain sync one, so it can wrap
    an ``await``). ``__enter__`` runs the checks and raises the refusal; ``__exit__`` records
    how the body ended and feeds the breaker."""

    __slots__ = (
        "_account",
        "_arguments",
        "_call",
        "_gate",
        "_invalid",
        "_principal",
        "_probe",
        "_started",
        "_tool",
    )

    def __init__(
        self,
        gate: Gate,
        tool: str,
        account: str | None,
        arguments: Mapping[str, Any],
        invalid: MailguardError | None = None,
        principal: Principal | None = None,
    ):
        self._gate = gate
        self._principal = principal
        self._tool = tool
        self._account = account
        self._arguments = arguments
        self._invalid = invalid
        self._call: GateCall | None = None
        self._probe = False
        self._started = 0.0

    def __enter__(self) -> GateCall:
        gate = self._gate
        self._started = gate.clock.monotonic()
        tool = parse_tool_name(self._tool) if isinstance(self._tool, str) else None
        seq = gate.write_start(
            tool, self._tool, self._account, self._arguments, principal=self._principal
        )
        try:
            self._probe = gate.admit(
                tool, self._account, self._arguments, self._invalid, principal=self._principal
            )
        except BaseException as exc:
            gate.write_end(seq, self._started, exc, None)
            raise
        assert tool is not None
        self._call = GateCall(seq, tool, self._account)
        return self._call

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        call = self._call
        if call is None:
            return
        self._call = None
        gate = self._gate
        try:
            gate.settle(call, self._probe, exc)
        finally:
            gate.write_end(call.seq, self._started, exc, call.result)


class Gate:
    """Policy for every tool call: posture and overrides, breaker, folders, rate limits, audit.

    Build it with :meth:`from_config`. Thread-safe; cheap per call, except that the first
    folder tool call of an account that passes the posture check and the breaker asks
    ``special_folders`` (the provider) for the server's special-use folders.
    """

    def __init__(
        self,
        accounts: Iterable[AccountConfig],
        audit: AuditSink,
        *,
        clock: Clock | None = None,
        special_folders: SpecialFoldersProvider | None = None,
        state: GateState | None = None,
    ) -> None:
        self.clock: Clock = clock or MonotonicClock()
        #: shared token buckets and breakers (Redis, for replicas); None: this process only
        self.state = state
        self.audit = audit
        self._special_folders = special_folders
        self._credential_version: Callable[[str], str | None] | None = None
        now = self.clock.monotonic()
        self._accounts: dict[str, _AccountGate] = {}
        for account in accounts:
            if account.name in self._accounts:
                raise ConfigError(f"accounts: duplicate account name {account.name!r}")
            self._accounts[account.name] = _AccountGate(account, now, state)
        self._lock = threading.Lock()

    @classmethod
    def from_config(
        cls,
        config: Config,
        audit: AuditSink,
        *,
        clock: Clock | None = None,
        special_folders: SpecialFoldersProvider | None = None,
        state: GateState | None = None,
    ) -> Gate:
        """The gate for ``config``'s accounts, writing to ``audit``; ``special_folders`` (if
        given) is asked for an account's special-use folders when a folder tool first needs
        them (see :meth:`set_special_folders_provider`).

        Raises:
            ConfigError: an override or limit names an unknown tool, a rate is malformed, the
                folder lists overlap, or a breaker setting is out of range.
        """
        return cls(
            config.accounts, audit, clock=clock, special_folders=special_folders, state=state
        )

    # -- queries ------------------------------------------------------------------------

    def accounts(self) -> tuple[str, ...]:
        """The configured account names, in configuration order."""
        return tuple(self._accounts)

    def allowed_tools(self, account: str) -> frozenset[ToolName]:
        """The tools ``account`` may call (infrastructure tools always; only those for an
        unknown account)."""
        entry = self._accounts.get(account)
        return entry.tools if entry is not None else INFRASTRUCTURE_TOOLS

    def is_allowed(self, tool: str, account: str | None) -> bool:
        """Whether a call of ``tool`` (exact name) on ``account`` would pass the posture check."""
        parsed = parse_tool_name(tool)
        if parsed is None:
            return False
        if parsed in INFRASTRUCTURE_TOOLS:
            return True
        entry = self._accounts.get(account) if account is not None else None
        return entry is not None and parsed in entry.tools

    def set_special_folders(self, account: str, folders: Mapping[str, str] | Iterable[str]) -> None:
        """Record the special-use folders the server reported for ``account`` (all protected):
        flag to name, or just the names.

        The account then counts as learned: the provider is not asked for it.

        Raises:
            InputError: no account of that name.
        """
        entry = self._accounts.get(account)
        if entry is None:
            raise InputError(f"unknown account {account!r}", public="unknown account")
        found = dict(folders) if isinstance(folders, Mapping) else list(folders)
        with self._lock:
            entry.folders.set_special_folders(found)
            entry.specials_known = True

    def set_credential_version(self, provider: Callable[[str], str | None] | None) -> None:
        """``provider(account)``: an opaque version of the account's stored credential (a
        digest, never the secret), or None when it cannot be read. While an account's breaker
        is open for an auth failure, each call asks it; a version different from the one
        seen when the breaker opened ends the cooldown, so a password fixed with
        ``mailguard-mcp login`` works at once instead of after the cooldown."""
        self._credential_version = provider

    def _version_of(self, account: str) -> str | None:
        provider = self._credential_version
        if provider is None:
            return None
        try:
            return provider(account)
        except Exception:  # the provider's trouble must never open or close anything
            return None

    def _auth_lifted(self, entry: _AccountGate, now: float) -> None:
        if self._credential_version is None or not entry.breaker.auth_open:
            return
        version = self._version_of(entry.name)
        if version is not None and version != entry.auth_version:
            entry.breaker.lift_auth(now)

    def set_special_folders_provider(self, provider: SpecialFoldersProvider | None) -> None:
        """Learn special-use folders lazily through ``provider`` (``None``: never ask).

        The provider is called with the account name by the first call of a tool whose folder
        check reads the special-use folders (``create_folder``, ``rename_folder``,
        ``delete_folder``, ``move_message``, ``delete_message``) once that call has passed the
        posture check, the breaker and the folder check against INBOX and the configured
        folders, and before the rate limiter.
        Its answer is kept for the gate's lifetime; when it raises, that call fails with its
        error (audited, fed to the breaker) and the next such call asks again. Accounts whose
        folders are already known keep them.
        """
        with self._lock:
            self._special_folders = provider

    def guard(
        self,
        tool: str,
        account: str | None,
        arguments: Mapping[str, Any],
        *,
        invalid: MailguardError | None = None,
        principal: Principal | None = None,
    ) -> Guard:
        """Check and record one call: ``with gate.guard(tool, account, args) as call: ...``.

        ``account`` is the account the call acts on (for tools taking message refs: the
        account named in the refs). ``__enter__`` raises the refusal (``ToolDenied``,
        ``InputError``, ``CircuitOpen``, ``FolderProtected``, ``RateLimited``, or
        ``AuditError`` when the log cannot be written) or the error of the special-folders
        provider; an exception from the body is recorded and re-raised.

        ``invalid``: the caller found the arguments invalid (schema or parsing). The call is
        audited with its (redacted) arguments and refused with that error right after the
        posture check: before the breaker and the rate limiter, so it takes no token, no
        probe slot, and never counts.

        ``principal``: the authenticated caller (HTTP with ``[server.auth]``), recorded in the
        start record. An account outside its list is refused exactly like an unknown account,
        a tool above its ceiling for the account exactly like a denied tool.
        """
        return Guard(self, tool, account, arguments, invalid, principal)

    # -- the steps (called by Guard) ----------------------------------------------------

    def write_start(
        self,
        tool: ToolName | None,
        requested: object,
        account: str | None,
        arguments: Any,
        *,
        principal: Principal | None = None,
    ) -> int:
        args = arguments if isinstance(arguments, Mapping) else {}
        record: dict[str, Any] = {
            "kind": KIND_CALL_START,
            "ts": format_ts(self.clock.time()),
            "tool": tool.value if tool is not None else None,
            "account": clip(account, 64) if isinstance(account, str) else None,
            "args": redact_arguments(tool, args, self.audit.pseudonymize),
        }
        if tool is None:
            record["requested_tool"] = clip(str(requested), 64)
        if principal is not None:
            record["principal"] = clip(principal.name, 160)
        return self.audit.write(record)

    def write_end(
        self,
        start_seq: int,
        started: float,
        exc: BaseException | None,
        result: dict[str, Any] | None,
    ) -> None:
        record: dict[str, Any] = {
            "kind": KIND_CALL_END,
            "ts": format_ts(self.clock.time()),
            "start_seq": start_seq,
            "ms": round((self.clock.monotonic() - started) * 1000.0, 3),
        }
        if exc is None:
            record["outcome"] = "ok"
        elif isinstance(exc, MailguardError):
            record["outcome"] = "refused" if isinstance(exc, PolicyViolation) else "error"
            record["code"] = exc.code
            record["detail"] = clip(str(exc), _DETAIL_CHARS)
            retry = getattr(exc, "retry_after", None)
            if isinstance(retry, float):
                record["retry_after"] = round(retry, 3)
        elif isinstance(exc, Exception):
            record["outcome"] = "error"
            record["code"] = "internal_error"
            record["detail"] = type(exc).__name__
        else:
            record["outcome"] = "cancelled"
            record["code"] = type(exc).__name__
        if result is not None:
            record["result"] = result
        self.audit.write(record)

    def admit(
        self,
        tool: ToolName | None,
        account: str | None,
        arguments: Any,
        invalid: MailguardError | None = None,
        *,
        principal: Principal | None = None,
    ) -> bool:
        """Run the checks in order; returns whether the call is the breaker's probe.

        ``invalid`` (arguments the caller found invalid) is raised after the posture check,
        before the breaker and the rate limiter (see :meth:`guard`).
        """
        if tool is None:
            raise ToolDenied("unknown tool name")
        if not isinstance(arguments, Mapping):
            raise InputError("arguments must be an object", public="arguments must be an object")
        if tool in INFRASTRUCTURE_TOOLS:
            if invalid is not None:
                raise invalid
            return False
        if principal is not None and not principal.may_use(account):
            raise ToolDenied(f"{tool.value}: account outside principal {principal.name[:80]}")
        entry = self._accounts.get(account) if isinstance(account, str) else None
        if entry is None:
            raise ToolDenied(f"{tool.value}: unknown or missing account")
        if principal is not None and not principal.may_call(tool, entry.name):
            raise ToolDenied(f"{tool.value}: above the ceiling of principal {principal.name[:80]}")
        if tool not in entry.tools:
            raise ToolDenied(f"{tool.value}: denied for account {entry.name}")
        if invalid is not None:  # no token, no probe slot, never counted
            raise invalid
        _check_ref_accounts(entry.name, arguments)
        with self._lock:
            now = self.clock.monotonic()
            self._auth_lifted(entry, now)
            probe = entry.breaker.before_call(now)
        try:
            state = self.state
            self._check_folders(entry, tool, arguments)
            if state is None:
                with self._lock:
                    entry.limiter.acquire(tool, self.clock.monotonic())
            else:
                wait = state.take(entry.limiter.buckets(entry.name, tool))
                if wait > 0.0:
                    raise RateLimited(wait, f"shared rate limit for {tool.value}: {wait:.3f} s")
        except BaseException as exc:
            # a refusal frees the probe slot; a provider failure counts like a body's
            self._feed_breaker(entry, probe, exc)
            raise
        return probe

    def _check_folders(self, entry: _AccountGate, tool: ToolName, arguments: Any) -> None:
        """The folder guard; learns the special-use folders first when the check needs them
        and they are unknown (a call refused on INBOX or the configured folders asks nothing)."""
        with self._lock:
            entry.folders.check(tool, arguments)
            provider = self._special_folders
        if tool not in SPECIAL_FOLDER_TOOLS or entry.specials_known or provider is None:
            return
        with entry.learning:  # one question per account at a time; the others wait for it
            if not entry.specials_known:
                found = provider(entry.name)
                folders = dict(found) if isinstance(found, Mapping) else list(found)
                with self._lock:
                    entry.folders.set_special_folders(folders)
                    entry.specials_known = True
        with self._lock:
            entry.folders.check(tool, arguments)

    def settle(self, call: GateCall, probe: bool, exc: BaseException | None) -> None:
        """Feed the breaker with how an admitted call ended."""
        if call.tool in INFRASTRUCTURE_TOOLS or call.account is None:
            return
        self._feed_breaker(self._accounts[call.account], probe, exc)

    def _feed_breaker(self, entry: _AccountGate, probe: bool, exc: BaseException | None) -> None:
        with self._lock:
            now = self.clock.monotonic()
            if exc is None:
                entry.breaker.on_success(now, probe=probe)
            elif isinstance(exc, MailguardError):
                entry.breaker.on_failure(exc.breaker, now, probe=probe)
                if exc.breaker == "auth" and entry.breaker.auth_open:
                    entry.auth_version = self._version_of(entry.name)
            elif probe:
                entry.breaker.release_probe()


def _check_ref_accounts(account: str, arguments: Mapping[str, Any]) -> None:
    """Every message ref in the arguments must name the account the gate checked."""
    refs: list[Any] = []
    for key in ("message_ref", "in_reply_to"):
        value = arguments.get(key)
        if value is not None:
            refs.append(value)
    many = arguments.get("message_refs")
    if isinstance(many, list | tuple):
        refs.extend(many)
    for ref in refs:
        if not isinstance(ref, str) or ref.partition(":")[0] != account:
            raise InputError(
                f"message ref not of account {account!r}",
                public="all message refs of one call must belong to the account it acts on",
            )
