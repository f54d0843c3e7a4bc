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
from typing import TYPE_CHECKING, Any, Self

from mailguard_core.config import AccountConfig, Config
from mailguard_core.gate.breaker import CircuitBreaker
from mailguard_core.gate.clock import Clock, MonotonicClock
from mailguard_core.gate.folders import FolderGuard
from mailguard_core.gate.policy import effective_tools
from mailguard_core.gate.ratelimit import AccountRateLimiter
from mailguard_core.gate.records import end_record, start_record
from mailguard_core.gate.redaction import summarize_result
from mailguard_core.gate.request import ToolRequest
from mailguard_core.model.errors import (
    ConfigError,
    InputError,
    MailguardError,
    RateLimited,
    ToolDenied,
)
from mailguard_core.model.tools import INFRASTRUCTURE_TOOLS, ToolName, parse_tool_name
from mailguard_core.model.values import require_account
from mailguard_core.ports.audit import AuditSink

if TYPE_CHECKING:
    from mailguard_core.ports.gate_state import Breaker, GateState

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
        self.name = account.name
        self.tools = effective_tools(account.posture, account.tools)
        self.folders = FolderGuard(account.folders)
        self.limiter = AccountRateLimiter(account.limits, now=now)
        #: this process's own breaker, or the one shared through ``state`` (Redis)
        self.breaker: Breaker = (
            CircuitBreaker(account.breaker)
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
    """One admitted call (:meth:`Gate.admit`), until :meth:`Gate.finish` records its end."""

    __slots__ = ("account", "finished", "probe", "result", "seq", "started", "tool")

    def __init__(
        self, seq: int, tool: ToolName, account: str | None, *, started: float, probe: bool
    ) -> None:
        self.seq = seq
        self.tool = tool
        self.account = account
        self.started = started
        #: whether the call is its account's half-open breaker probe
        self.probe = probe
        self.finished = False
        self.result: dict[str, Any] | None = None

    def set_result(self, summary: Mapping[str, Any]) -> None:
        """Add a small, content-free summary (counts, refs, flags) to the end record."""
        self.result = summarize_result(summary)


class Guard:
    """``with gate.guarded(request) as call``: :meth:`Gate.admit` on entry, :meth:`Gate.finish`
    with how the body ended on exit (a plain sync context manager, so it can wrap an
    ``await``)."""

    __slots__ = ("_call", "_gate", "request")

    def __init__(self, gate: Gate, request: ToolRequest) -> None:
        self._gate = gate
        self.request = request
        self._call: GateCall | None = None

    def __enter__(self) -> GateCall:
        self._call = self._gate.admit(self.request)
        return self._call

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._call is not None:
            self._gate.finish(self._call, exc)


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
    ) -> Self:
        """The gate for ``config``'s accounts, writing to ``audit``; ``special_folders`` (if
        given) is asked for an account's special-use folders when a folder tool first needs
        them (see :meth:`set_special_folders_provider`).

        Raises:
            ConfigError: two accounts share a name.
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

    def guarded(self, request: ToolRequest) -> Guard:
        """``with gate.guarded(request) as call: ...``: :meth:`admit` on entry (raising the
        refusal), :meth:`finish` with how the body ended on exit. A caller with JSON
        arguments uses :meth:`ToolGate.guard <mailguard_core.services.dispatch.ToolGate.guard>`
        (``mailguard_core.Gate``), which reads them by the tool table first."""
        return Guard(self, request)

    # -- the two phases -----------------------------------------------------------------

    def admit(self, request: ToolRequest) -> GateCall:
        """Write the start record and run the checks in order; the admitted call.

        Pass it to :meth:`finish` exactly once, whatever happens next.

        Raises:
            ToolDenied: unknown tool, unknown account (or one outside the principal's list),
                or a tool the posture (or the principal's ceiling) does not allow.
            InputError: ``request.invalid``, or refs of another account.
            CircuitOpen, FolderProtected, LabelReserved, RateLimited: the checks' refusals.
            AuditError: the log cannot be written (nothing was checked).
            MailguardError: the special-folders provider failed.
        """
        started = self.clock.monotonic()
        seq = self.audit.write(start_record(request, self.clock.time(), self.audit.pseudonymize))
        try:
            probe = self._check(request)
        except BaseException as exc:
            self._write_end(seq, started, exc, None)
            raise
        assert request.tool is not None
        return GateCall(seq, request.tool, request.account, started=started, probe=probe)

    def finish(self, call: GateCall, error: BaseException | None = None) -> None:
        """Record how an admitted call ended (``error``: None for success) and feed the
        breaker. A second finish of the same call does nothing."""
        if call.finished:
            return
        call.finished = True
        try:
            if call.tool not in INFRASTRUCTURE_TOOLS and call.account is not None:
                self._feed_breaker(self._accounts[call.account], call.probe, error)
        finally:
            self._write_end(call.seq, call.started, error, call.result)

    def _write_end(
        self, seq: int, started: float, exc: BaseException | None, result: dict[str, Any] | None
    ) -> None:
        seconds = self.clock.monotonic() - started
        self.audit.write(end_record(seq, self.clock.time(), seconds, exc, result))

    def _check(self, request: ToolRequest) -> bool:
        """Run the checks in order; returns whether the call is the breaker's probe.

        ``request.invalid`` is raised after the posture check, before the breaker and the
        rate limiter.
        """
        tool, account, principal = request.tool, request.account, request.principal
        if tool is None:
            raise ToolDenied("unknown tool name")
        if tool in INFRASTRUCTURE_TOOLS:
            if request.invalid is not None:
                raise request.invalid
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
        if request.invalid is not None:  # no token, no probe slot, never counted
            raise request.invalid
        require_account(entry.name, request.named_refs)
        with self._lock:
            now = self.clock.monotonic()
            self._auth_lifted(entry, now)
            probe = entry.breaker.before_call(now)
        try:
            state = self.state
            self._check_folders(entry, request)
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

    def _check_folders(self, entry: _AccountGate, request: ToolRequest) -> None:
        """The folder guard; learns the special-use folders first when the check needs them
        and they are unknown (a call refused on INBOX or the configured folders asks nothing)."""
        with self._lock:
            entry.folders.check(request)
            provider = self._special_folders
        if entry.specials_known or provider is None or not FolderGuard.reads_special(request):
            return
        with entry.learning:  # one question per account at a time; the others wait for it
            if not entry.specials_known:
                found = provider(entry.name)
                folders = dict(found) if isinstance(found, Mapping) else list(found)
                with self._lock:
                    entry.folders.set_special_folders(folders)
                    entry.specials_known = True
        with self._lock:
            entry.folders.check(request)

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
