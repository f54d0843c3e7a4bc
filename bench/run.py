"""One command for every mailguard benchmark, side by side with a floor and a peer server.

    python bench/run.py            # full run: folders of 1,000 / 10,000 / 100,000 messages
    python bench/run.py --quick    # quick run: 1,000 / 10,000, fewer iterations

What it does (details and how to read the output: docs/benchmarks.md):

1. starts a private Dovecot on 127.0.0.1 (free ports; ``tests/support/dovecot.py``) and
   gives it folders ``Bench1k`` / ``Bench10k`` / ``Bench100k``, hard-linked from a corpus the
   deterministic generator (``bench/generator.py``) writes once into ``bench/.work/corpus``
   (``--reseed`` regenerates it);
2. runs the benchmarks of earlier issues (``bench/sanitize.py``, ``bench/gate.py``,
   ``bench/imap.py``, ``bench/startup.py``) through their ``run(...)`` functions;
3. measures, on the same folders and messages, interleaved call by call: ``floor`` (raw
   imapclient + the sanitizer, in-process: the least work a sanitizing server must do),
   ``mailguard in-process`` (mailguard's call path without the MCP transport),
   ``mailguard`` (``mailguard-mcp serve`` over MCP stdio) and ``peer`` (mcp-email-server over
   MCP stdio, in its own venv, see ``bench/peer.py``): startup to the first ``tools/list``,
   the MCP round trip of a no-mail tool, a first search page of 20 per folder size (without
   and with a SINCE filter), 50 messages fetched one by one per folder size, and the
   servers' RSS after the whole run; ``--profile`` adds a py-spy profile of the server;
4. prints one Markdown table per benchmark (p50/p95/max in ms and ratios) and writes them
   with the raw numbers to ``bench/results/<stamp>-<mode>.json`` and ``.md``.

Targets are reported in a final table, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import grp
import importlib
import inspect
import json
import multiprocessing
import os
import pwd
import shutil
import ssl
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peer as peer_mod
from bench.common import (
    WORK_DIR,
    McpStdioSession,
    Results,
    fmt_ms,
    fmt_ratio,
    process_memory,
    ratio,
    result_payload,
    summarize,
)
from bench.generator import (
    GENERATOR_VERSION,
    generate_message,
    generate_messages,
    write_maildir_folder,
)

USER = "bench"
PASSWORD = "bench-password-not-secret"
ACCOUNT = "bench"
PAGE = 20
FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
SUBJECTS = ("floor", "mailguard in-process", "mailguard", "peer")
INPROC = "mailguard in-process"


def since_last_week(size: int) -> date:
    """The SINCE date that keeps about the last 7 days of a generated folder of ``size``."""
    newest = generate_message(size - 1).date
    return (newest - timedelta(days=7)).date()


def folder_name(size: int) -> str:
    return f"Bench{size // 1000}k" if size % 1000 == 0 else f"Bench{size}"


# --------------------------------------------------------------------------- Dovecot + seeding
def _mail_owner() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid


def _seed_range(args: tuple[str, int, int, int, tuple[int, int] | None]) -> int:
    folder_dir, start, count, seed, owner = args
    return write_maildir_folder(
        Path(folder_dir), generate_messages(count, seed=seed, start=start), owner=owner
    )


def _corpus_folder(size: int, seed: int, *, reseed: bool) -> tuple[Path, float | None]:
    """The generated Maildir folder of ``size`` messages, kept in ``bench/.work/corpus``.

    Generated once per (generator version, seed, size) by parallel writers; a ``complete``
    marker is written last, so an interrupted generation is redone. Returns the directory and
    the generation time (None when reused).
    """
    folder_dir = WORK_DIR / "corpus" / f"v{GENERATOR_VERSION}-seed{seed}" / folder_name(size)
    if (folder_dir / "complete").exists() and not reseed:
        return folder_dir, None
    if folder_dir.exists():
        shutil.rmtree(folder_dir)
    start = time.perf_counter()
    owner = _mail_owner()
    folder_dir.parent.mkdir(parents=True, exist_ok=True)
    write_maildir_folder(folder_dir, [], owner=owner)  # the layout first, then the writers
    workers = max(1, min(os.cpu_count() or 1, 4))
    chunk = -(-size // workers)
    jobs = [
        (str(folder_dir), lo, min(chunk, size - lo), seed, owner) for lo in range(0, size, chunk)
    ]
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        written = sum(pool.map(_seed_range, jobs))
    if written != size:
        raise RuntimeError(f"generated {written} messages for {folder_dir}, wanted {size}")
    (folder_dir / "complete").write_text(f"{size}\n")
    return folder_dir, time.perf_counter() - start


def seed_folders(server: Any, sizes: Sequence[int], *, seed: int, reseed: bool) -> dict[str, Any]:
    """Give the server's user one folder per size holding exactly the generated messages.

    The messages are hard-linked from the generated corpus (copied when the corpus is on
    another file system): the server only reads them, so a fresh server gets its folders in
    a second or two instead of regenerating 100,000 messages.
    """
    info: dict[str, Any] = {}
    owner = _mail_owner()
    for size in sizes:
        name = folder_name(size)
        corpus, generated_s = _corpus_folder(size, seed, reseed=reseed)
        target = server.folder_dir(USER, name)
        start = time.perf_counter()
        write_maildir_folder(target, [], owner=owner)
        cur = target / "cur"
        linked = 0
        for entry in os.scandir(corpus / "cur"):
            dest = cur / entry.name
            try:
                os.link(entry.path, dest)
            except OSError:
                shutil.copy2(entry.path, dest)
                if owner is not None:
                    os.chown(dest, *owner)
            linked += 1
        if linked != size:
            raise RuntimeError(f"{name}: {linked} messages in the corpus, wanted {size}")
        info[name] = {
            "messages": size,
            "generated_s": generated_s,
            "linked_s": time.perf_counter() - start,
        }
        what = f"generated in {generated_s:.1f} s, " if generated_s is not None else ""
        print(f"{name}: {size:,} messages ({what}linked in {info[name]['linked_s']:.1f} s)")
    return info


def ssl_context(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


# --------------------------------------------------------------------------- the floor
class Floor:
    """Raw imapclient + the sanitizer in this process: what any sanitizing server must do.

    One persistent connection; a folder is selected (read-only) only when it changes. A
    search page is ``UID SEARCH ALL`` + the 20 highest UIDs' headers, flags, size and date
    + ``sanitize_headers`` on each; a fetch is ``UID FETCH BODY.PEEK[]`` + ``sanitize_message``.
    """

    def __init__(self, server: Any) -> None:
        from imapclient import IMAPClient

        self.client = IMAPClient(
            server.host,
            port=server.imaps_port,
            ssl=True,
            ssl_context=ssl_context(server.cert_path),
            timeout=60,
        )
        self.client.login(USER, PASSWORD)
        self.selected: str | None = None
        self.uidvalidity: dict[str, int] = {}
        try:
            from mailguard_core.sanitize import SanitizeOptions, sanitize_headers, sanitize_message

            self.sanitize: Any = (SanitizeOptions, sanitize_headers, sanitize_message)
            self.label = "imapclient + sanitize_message"
        except ImportError:
            self.sanitize = None
            self.label = "imapclient only (sanitizer not importable)"

    def select(self, folder: str) -> None:
        if self.selected != folder:
            info = self.client.select_folder(folder, readonly=True)
            self.uidvalidity[folder] = int(info[b"UIDVALIDITY"])
            self.selected = folder

    def all_uids(self, folder: str) -> list[int]:
        self.select(folder)
        return sorted(self.client.search(["ALL"]))

    def search_all(self, folder: str) -> int:
        """Only the server's SEARCH (the cost no client can avoid)."""
        self.select(folder)
        return len(self.client.search(["ALL"]))

    def esearch_all(self, folder: str) -> Any:
        """``UID SEARCH RETURN (ALL) ALL`` (RFC 4731): the server's SEARCH with a compact
        answer (``1:100000``), so nearly no client-side parsing: the server's own cost."""
        self.select(folder)
        return self.client._raw_command_untagged(
            b"SEARCH", [b"RETURN", b"(ALL)", b"ALL"], uid=True, response_name="ESEARCH"
        )

    def _options(self, folder: str, uid: int, item: Mapping[bytes, Any]) -> Any:
        options_cls = self.sanitize[0]
        return options_cls(
            account=ACCOUNT,
            folder=folder,
            uid=uid,
            uidvalidity=self.uidvalidity[folder],
            flags=tuple(f.decode() if isinstance(f, bytes) else str(f) for f in item[b"FLAGS"]),
            internal_date=item.get(b"INTERNALDATE"),
        )

    def search_page(self, folder: str, since: date | None = None, limit: int = PAGE) -> list[int]:
        self.select(folder)
        criteria: list[Any] = ["SINCE", since] if since else ["ALL"]
        uids = sorted(self.client.search(criteria), reverse=True)[:limit]
        data = self.client.fetch(
            uids, [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"BODY.PEEK[HEADER]"]
        )
        if self.sanitize is not None:
            for uid in uids:
                item = data[uid]
                self.sanitize[1](item[b"BODY[HEADER]"], self._options(folder, uid, item))
        return uids

    def fetch(self, folder: str, uid: int) -> Any:
        self.select(folder)
        item = self.client.fetch([uid], [b"FLAGS", b"INTERNALDATE", b"BODY.PEEK[]"])[uid]
        raw = item[b"BODY[]"]
        if self.sanitize is None:
            return raw
        return self.sanitize[2](raw, self._options(folder, uid, item))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()


class InProcess:
    """mailguard's own code path without the MCP transport, in this process.

    The same steps the server runs for one ``tools/call``: argument validation, the gate
    (checks + two audit records), the service call (ImapMailStore + sanitizer), rendering the
    model-facing text and serializing the result the way the SDK sends it. What is left
    between this and the stdio server is the transport: JSON-RPC framing, stdio, the client.
    """

    def __init__(self, config_path: Path) -> None:
        from mailguard_core.app.bootstrap import open_app
        from mailguard_core.config import load_config

        self._manager = open_app(load_config(str(config_path)))
        self.app = self._manager.__enter__()
        self.service = self.app.service(ACCOUNT)

    def call(self, name: str, arguments: dict[str, Any]) -> str:
        from mailguard_core.model.tools import parse_tool_name
        from mailguard_core.services.dispatch import prepare_call, validate_arguments
        from mailguard_mcp.server import ok_result

        tool = parse_tool_name(name)
        assert tool is not None
        validate_arguments(tool, arguments)
        call = prepare_call(tool, arguments)
        with self.app.gate.guard(name, ACCOUNT, arguments) as guarded:
            result = call(self.service)
            guarded.set_result({})
        return str(ok_result(result).model_dump_json(by_alias=True, exclude_none=True))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._manager.__exit__(None, None, None)


# --------------------------------------------------------------------------- MCP servers
def write_mailguard_config(server: Any, work: Path, variant: str = "bench") -> Path:
    """A config with one read-only account on the bench Dovecot (TLS verified by ca_file)."""
    path = work / f"mailguard-{variant}.toml"
    path.write_text(
        f"""# generated by bench/run.py
default_account = "{ACCOUNT}"

[[accounts]]
name = "{ACCOUNT}"
address = "me@example.com"
posture = "readonly"

[accounts.imap]
host = "{server.host}"
port = {server.imaps_port}
username = "{USER}"
tls = "implicit"
ca_file = "{server.cert_path}"

# the bench calls far faster than an agent does; the default 10 calls/s would refuse calls
[accounts.limits]
calls_per_second = 100000.0
burst = 100000

[audit]
path = "{work / f"mailguard-{variant}-audit.jsonl"}"
""",
        encoding="utf-8",
    )
    return path


@dataclass
class ServerSpec:
    name: str
    command: str
    args: list[str]
    env: dict[str, str]
    search_tool: str
    fetch_tool: str
    search_args: Callable[[str, date | None], dict[str, Any]]
    fetch_args: Callable[[str, int], dict[str, Any]]
    stderr: Path
    #: a tool that touches no mail: its latency is the MCP round trip + the server's fixed cost
    noop_tool: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


#: the least an MCP 2.x stdio server can do per call: the SDK's own round-trip cost
ECHO_SERVER = """
import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

async def list_tools(ctx, params):
    schema = {"type": "object", "properties": {}}
    return types.ListToolsResult(tools=[types.Tool(name="noop", input_schema=schema)])

async def call_tool(ctx, params):
    return types.CallToolResult(content=[types.TextContent(type="text", text="ok")])

async def main():
    server = Server("echo", on_list_tools=list_tools, on_call_tool=call_tool)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(main)
"""


def echo_spec(work: Path) -> ServerSpec:
    return ServerSpec(
        name="mcp-sdk-echo",
        command=sys.executable,
        args=["-c", ECHO_SERVER],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        search_tool="",
        fetch_tool="",
        search_args=lambda folder, since: {},
        fetch_args=lambda folder, uid: {},
        stderr=work / "logs" / "echo.stderr.log",
        noop_tool="noop",
    )


def mailguard_spec(server: Any, work: Path, uidvalidity: Mapping[str, int]) -> ServerSpec:
    from mailguard_core.model.values import MessageRef

    config = write_mailguard_config(server, work)
    home = work / "mailguard-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        f"MAILGUARD_{ACCOUNT.upper()}_PASSWORD": PASSWORD,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    # the interpreter running the bench must be the one mailguard is installed in
    return ServerSpec(
        name="mailguard",
        command=sys.executable,
        args=["-m", "mailguard_mcp", "serve", "--config", str(config)],
        env=env,
        search_tool="search",
        fetch_tool="fetch_message",
        search_args=lambda folder, since: (
            {"folder": folder, "limit": PAGE} | ({"since": since.isoformat()} if since else {})
        ),
        fetch_args=lambda folder, uid: {
            "message_ref": str(
                MessageRef(account=ACCOUNT, folder=folder, uidvalidity=uidvalidity[folder], uid=uid)
            )
        },
        stderr=work / "logs" / "mailguard.stderr.log",
        noop_tool="list_accounts",
    )


def peer_spec(server: Any, work: Path, script: Path) -> ServerSpec:
    env = peer_mod.peer_environment(
        host=server.host,
        port=server.imaps_port,
        username=USER,
        password=PASSWORD,
        cert_file=server.cert_path,
        home=work / "peer-home",
    )
    return ServerSpec(
        name="peer",
        command=str(script),
        args=["stdio"],
        env=env,
        search_tool="list_emails_metadata",
        fetch_tool="get_emails_content",
        search_args=lambda folder, since: peer_mod.search_arguments(folder, PAGE, since=since),
        fetch_args=peer_mod.fetch_arguments,
        stderr=work / "logs" / "peer.stderr.log",
        noop_tool="list_available_accounts",
    )


def open_session(spec: ServerSpec) -> McpStdioSession:
    return McpStdioSession(spec.command, spec.args, env=spec.env, stderr_path=spec.stderr)


# --------------------------------------------------------------------------- benchmark steps
@dataclass
class Config:
    quick: bool
    sizes: tuple[int, ...]
    seed: int
    startup_repeat: int
    search_repeat: int
    fetch_count: int
    budget_s: float
    reseed: bool
    skip_peer: bool
    skip_mailguard: bool
    skip_folded: bool
    peer_version: str
    keep_logs: bool
    profile: bool


async def bench_startup(
    cfg: Config, specs: Mapping[str, ServerSpec], results: Results
) -> dict[str, Any]:
    samples: dict[str, list[float]] = {name: [] for name in specs}
    tools: dict[str, int] = {}
    memory: dict[str, Any] = {}
    errors: dict[str, str] = {}
    # what a startup is made of: the interpreter alone, and each side's MCP SDK import
    parts: dict[str, list[str]] = {"(part) python -c pass": [sys.executable, "-c", "pass"]}
    if "mailguard" in specs:
        parts["(part) import mcp, SDK of mailguard's env"] = [sys.executable, "-c", "import mcp"]
    if "peer" in specs:
        peer_python = str(peer_mod.peer_python())
        parts["(part) import mcp, SDK of the peer's venv"] = [peer_python, "-c", "import mcp"]
    for name in parts:
        samples[name] = []
    for _ in range(cfg.startup_repeat):
        for name, argv in parts.items():
            start = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(*argv)
            await proc.wait()
            samples[name].append(time.perf_counter() - start)
        for name, spec in specs.items():
            if name in errors:
                continue
            try:
                async with open_session(spec) as session:
                    assert session.startup_s is not None
                    samples[name].append(session.startup_s)
                    tools[name] = len(session.tools)
                    memory[name] = session.memory()
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
                results.note(f"startup of {name} failed: {errors[name]} (see {spec.stderr})")
    stats = {name: summarize(v) for name, v in samples.items() if v}
    rows = []
    for name in [*specs, *parts]:
        st = stats.get(name)
        rows.append(
            [
                name,
                st["n"] if st else 0,
                fmt_ms(st["p50"] if st else None),
                fmt_ms(st["p95"] if st else None),
                fmt_ms(st["max"] if st else None),
                tools.get(name, "-" if name in parts else "n/a"),
                fmt_ms((memory.get(name) or {}).get("rss_mb")) if name in specs else "-",
            ]
        )
    mg, pe = stats.get("mailguard"), stats.get("peer")
    notes = [
        "startup = spawn the server process, MCP initialize, first tools/list answered "
        "(the same handshake for both; neither logs in to IMAP before the first mail tool call)",
        "(part) rows: a process that only starts the interpreter, or only imports the MCP SDK "
        "its server is built on (mailguard: mcp 2.x; the peer: mcp 1.x in its venv)",
    ]
    if mg and pe:
        notes.append(f"mailguard / peer p50: {fmt_ratio(ratio(mg['p50'], pe['p50']))}")
    results.add(
        "startup",
        "Startup to first tools/list (ms)",
        ["server", "n", "p50", "p95", "max", "tools listed", "RSS after start (MB)"],
        rows,
        raw={"samples_s": samples, "stats": stats, "errors": errors},
        notes=notes,
    )
    return stats


async def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    if inspect.isawaitable(value):
        value = await value
    return time.perf_counter() - start, value


async def bench_mail(
    cfg: Config,
    floor: Floor,
    sessions: Mapping[str, McpStdioSession],
    specs: Mapping[str, ServerSpec],
    results: Results,
    inproc: InProcess | None = None,
) -> dict[str, Any]:
    """Search pages and fetches for every folder size, subjects interleaved call by call."""
    out: dict[str, Any] = {
        "search": {},
        "search_since": {},
        "fetch": {},
        "server_search": {},
        "server_esearch": {},
        "checks": {},
        "rpc": {},
    }
    failed: dict[str, str] = {}

    async def attempt(name: str, call: Callable[[], Any], what: str) -> tuple[float, Any] | None:
        """Time one call; after a failure that subject skips the rest of that operation on
        that folder (``what``), and the failure is reported in the tables and notes."""
        key = f"{name} {what}"
        if key in failed:
            return None
        try:
            return await _timed(call)
        except Exception as exc:
            failed[key] = f"{type(exc).__name__}: {exc}"
            results.note(f"{key} failed: {failed[key]}")
            return None

    def subject_calls(folder: str, since: date | None) -> dict[str, Callable[[], Any]]:
        calls: dict[str, Callable[[], Any]] = {"floor": lambda: floor.search_page(folder, since)}
        if inproc is not None:
            mg = specs["mailguard"]
            calls[INPROC] = lambda: inproc.call(mg.search_tool, mg.search_args(folder, since))
        for name, session in sessions.items():
            spec = specs[name]
            calls[name] = lambda s=session, sp=spec: s.call(
                sp.search_tool, sp.search_args(folder, since)
            )
        return calls

    async def search_variant(kind: str, folder: str, since: date | None) -> None:
        calls = subject_calls(folder, since)
        samples: dict[str, list[float]] = {n: [] for n in calls}
        cold: dict[str, float] = {}
        spent: dict[str, float] = dict.fromkeys(calls, 0.0)
        what = f"{kind} on {folder}"
        for name, call in calls.items():  # first call: selection and caches, reported apart
            got = await attempt(name, call, what)
            if got is None:
                continue
            elapsed, value = got
            cold[name] = elapsed
            out["checks"].setdefault(folder, {})[f"{name} {kind}"] = _check_search(
                name, value, uids
            )
        for _ in range(cfg.search_repeat):
            for name, call in calls.items():
                if spent[name] > cfg.budget_s and len(samples[name]) >= 3:
                    continue
                got = await attempt(name, call, what)
                if got is None:
                    continue
                samples[name].append(got[0])
                spent[name] += got[0]
        out[kind][folder] = {
            "size": size,
            "since": since.isoformat() if since else None,
            "cold_ms": {k: v * 1000 for k, v in cold.items()},
            "stats": {n: summarize(v) for n, v in samples.items() if v},
            "samples_s": samples,
            "failed": {n: failed[f"{n} {what}"] for n in calls if f"{n} {what}" in failed},
        }

    # -- the MCP round trip alone: a tool that touches no mail (and the SDK's own echo server)
    rpc_sessions = dict(sessions)
    async with contextlib.AsyncExitStack() as stack:
        echo = echo_spec(WORK_DIR)
        try:
            rpc_sessions[echo.name] = await stack.enter_async_context(open_session(echo))
            specs = {**specs, echo.name: echo}
        except Exception as exc:
            results.note(f"the MCP SDK echo server did not start: {type(exc).__name__}: {exc}")
        await _measure_rpc(rpc_sessions, specs, attempt, out)

    for size in cfg.sizes:
        folder = folder_name(size)
        uids = floor.all_uids(folder)
        assert len(uids) == size, (folder, len(uids))
        # -- the server's own SEARCH, for the scaling table
        search_only = [(await _timed(lambda f=folder: floor.search_all(f)))[0] for _ in range(5)]
        out["server_search"][folder] = summarize(search_only)
        esearch = [(await _timed(lambda f=folder: floor.esearch_all(f)))[0] for _ in range(5)]
        out["server_esearch"][folder] = summarize(esearch)
        # -- search page of 20: no criteria, and narrowed to the last week (SINCE)
        await search_variant("search", folder, None)
        await search_variant("search_since", folder, since_last_week(size))
        # -- fetch N messages one by one (spread over the folder), the same UIDs for everyone
        step = max(1, size // cfg.fetch_count)
        targets = [uids[min(len(uids) - 1, i * step + step // 2)] for i in range(cfg.fetch_count)]
        fsamples: dict[str, list[float]] = {
            n: [] for n in ("floor", *([INPROC] if inproc else []), *sessions)
        }
        for i, uid in enumerate(targets):
            fcalls: dict[str, Callable[[], Any]] = {
                "floor": lambda u=uid, f=folder: floor.fetch(f, u)
            }
            if inproc is not None:
                mg = specs["mailguard"]
                fcalls[INPROC] = lambda u=uid, f=folder, sp=mg: inproc.call(
                    sp.fetch_tool, sp.fetch_args(f, u)
                )
            for name, session in sessions.items():
                spec = specs[name]
                fcalls[name] = lambda s=session, sp=spec, u=uid, f=folder: s.call(
                    sp.fetch_tool, sp.fetch_args(f, u)
                )
            for name, call in fcalls.items():
                got = await attempt(name, call, f"fetch on {folder}")
                if got is None:
                    continue
                elapsed, value = got
                fsamples[name].append(elapsed)
                if i == 0:
                    out["checks"].setdefault(folder, {})[f"{name} fetch"] = _check_fetch(
                        name, value, floor, folder, uid
                    )
        out["fetch"][folder] = {
            "size": size,
            "uids": targets,
            "stats": {n: summarize(s) for n, s in fsamples.items() if s},
            "samples_s": fsamples,
            "failed": {
                n: failed[f"{n} fetch on {folder}"]
                for n in fsamples
                if f"{n} fetch on {folder}" in failed
            },
        }
    out["failed"] = failed
    return out


async def _measure_rpc(
    sessions: Mapping[str, McpStdioSession],
    specs: Mapping[str, ServerSpec],
    attempt: Callable[..., Any],
    out: dict[str, Any],
    calls: int = 30,
) -> None:
    """``calls`` no-mail tool calls per server, interleaved, after one warm-up call each."""
    samples: dict[str, list[float]] = {name: [] for name in sessions}
    for i in range(calls + 1):
        for name, session in sessions.items():
            spec = specs[name]
            got = await attempt(name, lambda s=session, sp=spec: s.call(sp.noop_tool, {}), "rpc")
            if got is not None and i > 0:
                samples[name].append(got[0])
    for name, values in samples.items():
        if values:
            out["rpc"][name] = {"tool": specs[name].noop_tool, **summarize(values)}


def _payload_text(value: Any) -> str:
    if isinstance(value, str):  # already JSON (the in-process subject)
        return value
    payload = result_payload(value) if hasattr(value, "content") else value
    return json.dumps(payload, ensure_ascii=False, default=str)


def _check_search(name: str, value: Any, uids: Sequence[int]) -> str:
    """Does a search answer hold the 20 newest messages? (a sanity check, reported)"""
    newest = sorted(uids, reverse=True)[:PAGE]
    if name == "floor":
        return "ok" if list(value) == newest else f"unexpected uids {list(value)[:5]}"
    text = _payload_text(value)
    if name == "peer":
        payload = result_payload(value)
        got = peer_mod.search_uids(payload) if isinstance(payload, dict) else []
        return "ok" if got == newest else f"uids {got[:5]}... vs newest {newest[:5]}..."
    found = sum(f':{uid}"' in text or f":{uid}'" in text for uid in newest)
    return "ok" if found == PAGE else f"{found}/{PAGE} newest refs found in the answer"


def _check_fetch(name: str, value: Any, floor: Floor, folder: str, uid: int) -> str:
    """Does a fetch answer carry the Message-ID of the message the floor fetched?"""
    item = floor.client.fetch([uid], [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])[uid]
    raw_id = next(iter(v for k, v in item.items() if k.startswith(b"BODY[")), b"")
    message_id = raw_id.decode("ascii", "replace").split(":", 1)[-1].strip().strip("<>")
    if name == "floor":
        return "ok"
    text = _payload_text(value)
    return "ok" if message_id and message_id in text else "Message-ID not found in the answer"


def _short_error(text: str) -> str:
    """The gist of a failure for a table cell (the whole text is in the notes)."""
    for marker in ("query_too_broad", "rate", "timeout", "Timeout"):
        if marker in text:
            return f"failed: {marker}"
    return "failed"


def report_mail(cfg: Config, data: Mapping[str, Any], results: Results) -> None:
    present = [
        s
        for s in SUBJECTS
        if any(
            s in v["stats"] or s in v.get("failed", {})
            for kind in ("search", "fetch")
            for v in data[kind].values()
        )
    ]
    for kind, title, extra_notes in (
        (
            "search",
            f"First search page of {PAGE}, newest first, no criteria (ms)",
            ["cold = the first call on the folder (SELECT and caches), not in the percentiles"],
        ),
        (
            "search_since",
            f"First search page of {PAGE}, newest first, SINCE one week before the newest (ms)",
            [
                "about 2,000 candidates in the large folders (all of Bench1k): a narrowed "
                "search every server can answer",
            ],
        ),
        (
            "fetch",
            f"Fetch {cfg.fetch_count} messages one by one (ms)",
            ["the same UIDs for every subject, spread evenly over the folder"],
        ),
    ):
        rows = []
        for folder, entry in data[kind].items():
            stats = entry["stats"]
            floor_p50 = stats.get("floor", {}).get("p50")
            peer_p50 = stats.get("peer", {}).get("p50")
            for subject in present:
                st = stats.get(subject)
                if st is None:
                    err = entry.get("failed", {}).get(subject)
                    cell = _short_error(err) if err else "n/a"
                    rows.append([folder, subject, 0, cell, "n/a", "n/a", "n/a", "n/a", "n/a"])
                    continue
                cold = entry.get("cold_ms", {}).get(subject)
                rows.append(
                    [
                        folder,
                        subject,
                        st["n"],
                        fmt_ms(st["p50"]),
                        fmt_ms(st["p95"]),
                        fmt_ms(st["max"]),
                        fmt_ms(cold) if cold is not None else "-",
                        fmt_ratio(ratio(st["p50"], floor_p50)) if subject != "floor" else "-",
                        fmt_ratio(ratio(st["p50"], peer_p50))
                        if subject != "peer" and peer_p50
                        else "-",
                    ]
                )
        failures = [
            f"{subject} on {folder}: {err[:300]}"
            for folder, entry in data[kind].items()
            for subject, err in entry.get("failed", {}).items()
        ]
        results.add(
            kind,
            title,
            ["folder", "subject", "n", "p50", "p95", "max", "cold", "p50 / floor", "p50 / peer"],
            rows,
            raw=dict(data[kind]),
            notes=[
                *extra_notes,
                f"floor = {data.get('floor_label', 'imapclient + sanitizer')}",
                *failures,
            ],
        )
    # the MCP round trip
    if data.get("rpc"):
        rows = [
            [name, e["tool"], e["n"], fmt_ms(e["p50"]), fmt_ms(e["p95"]), fmt_ms(e["max"])]
            for name, e in data["rpc"].items()
        ]
        results.add(
            "rpc",
            "MCP round trip with no mail work (ms)",
            ["server", "tool", "n", "p50", "p95", "max"],
            rows,
            raw=data["rpc"],
            notes=[
                "the fixed cost of one tool call: JSON-RPC over stdio on both sides, argument "
                "validation, dispatch (for mailguard also the gate and two audit records); "
                "the floor pays none of it",
            ],
        )
    # scaling
    rows = []
    first = cfg.sizes[0]
    for size in cfg.sizes:
        folder = folder_name(size)
        srow = data["search"].get(folder, {}).get("stats", {})
        frow = data["fetch"].get(folder, {}).get("stats", {})
        row: list[object] = [
            f"{size:,}",
            fmt_ms(data["server_esearch"][folder]["p50"]),
            fmt_ms(data["server_search"][folder]["p50"]),
        ]
        row.extend(fmt_ms(srow.get(subject, {}).get("p50")) for subject in present)
        row.extend(fmt_ms(frow.get(subject, {}).get("p50")) for subject in present)
        rows.append(row)
    growth: list[object] = [f"growth {cfg.sizes[-1]:,} / {first:,}"]

    def grow(kind: str, subject: str | None) -> str:
        def p50(size: int) -> float | None:
            folder = folder_name(size)
            if subject is None:
                return data[kind][folder]["p50"]
            return data[kind].get(folder, {}).get("stats", {}).get(subject, {}).get("p50")

        return fmt_ratio(ratio(p50(cfg.sizes[-1]), p50(first)))

    growth.append(grow("server_esearch", None))
    growth.append(grow("server_search", None))
    growth.extend(grow("search", s) for s in present)
    growth.extend(grow("fetch", s) for s in present)
    rows.append(growth)
    results.add(
        "scaling",
        "Scaling with folder size (p50, ms)",
        [
            "messages",
            "server ESEARCH ALL",
            "UID SEARCH ALL (imapclient)",
            *(f"search {s}" for s in present),
            *(f"fetch {s}" for s in present),
        ],
        rows,
        raw={"server_search": data["server_search"], "server_esearch": data["server_esearch"]},
        notes=[
            "fetch should stay flat; search should grow like the server's own SEARCH",
            "server ESEARCH ALL = UID SEARCH RETURN (ALL) ALL (RFC 4731): the answer is a "
            "compact range, so this is the server's SEARCH cost alone; UID SEARCH ALL "
            "(imapclient) adds receiving and parsing one number per message, as the floor does",
        ],
    )
    checks = [
        [folder, key, value]
        for folder, entries in data.get("checks", {}).items()
        for key, value in entries.items()
    ]
    if checks:
        results.add(
            "checks",
            "Same messages seen by every subject (sanity checks)",
            ["folder", "check", "result"],
            checks,
        )


# --------------------------------------------------------------------------- folded benches
def run_folded(cfg: Config, server: Any, results: Results) -> None:
    """Call ``run(...)`` of bench/sanitize.py, gate.py, imap.py and startup.py when present."""
    context = {
        "quick": cfg.quick,
        "server": server,
        "dovecot": server,
        "user": USER,
        "username": USER,
        "password": PASSWORD,
        "seed": cfg.seed,
    }
    for name in ("sanitize", "gate", "imap", "startup"):
        path = Path(__file__).resolve().parent / f"{name}.py"
        if not path.exists():
            results.note(f"bench/{name}.py is not in the tree; skipped")
            continue
        try:
            module = importlib.import_module(f"bench.{name}")
            run = module.run
            params = inspect.signature(run).parameters
            kwargs = {k: v for k, v in context.items() if k in params}
            start = time.perf_counter()
            value = run(**kwargs)
            if inspect.isawaitable(value):
                value = asyncio.run(value)
            elapsed = time.perf_counter() - start
        except Exception as exc:
            results.note(f"bench/{name}.py run() failed: {type(exc).__name__}: {exc}")
            traceback.print_exc()
            continue
        rows, headers = _folded_rows(value)
        title = f"bench/{name}.py ({elapsed:.1f} s)"
        if rows:
            results.add(f"folded_{name}", title, headers, rows, raw=value)
        else:
            results.add(f"folded_{name}", title, ["result"], [[str(value)[:200]]], raw=value)


def _folded_rows(value: Any) -> tuple[list[list[object]], list[str]]:
    """Turn a folded bench's result into table rows, whatever reasonable shape it has."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, Mapping) and {"headers", "rows"} <= set(value):
        return [list(r) for r in value["rows"]], [str(h) for h in value["headers"]]
    stats_keys = ("p50", "p95", "max")
    if isinstance(value, Mapping):
        rows: list[list[object]] = []
        for key, entry in value.items():
            if isinstance(entry, Mapping) and all(k in entry for k in stats_keys):
                rows.append(
                    [key, entry.get("n", "")] + [fmt_ms(float(entry[k])) for k in stats_keys]
                )
            elif isinstance(entry, int | float | str):
                rows.append([key, "", entry, "", ""])
        if rows:
            return rows, ["benchmark", "n", "p50 (ms)", "p95 (ms)", "max (ms)"]
    if isinstance(value, Sequence) and not isinstance(value, str):
        rows = []
        for entry in value:
            if isinstance(entry, Mapping):
                name = entry.get("name") or entry.get("benchmark") or ""
                rows.append(
                    [name, entry.get("n", "")]
                    + [fmt_ms(entry.get(k)) if entry.get(k) is not None else "" for k in stats_keys]
                )
        if rows:
            return rows, ["benchmark", "n", "p50 (ms)", "p95 (ms)", "max (ms)"]
    return [], []


# --------------------------------------------------------------------------- profiling
def _frame_name(frame: str) -> str:
    """``func (path/to/file.py:12)`` -> ``file.py:func`` (line numbers dropped)."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    if "mailguard_core" in parts or "mailguard_mcp" in parts:
        idx = max(i for i, p in enumerate(parts) if p in ("mailguard_core", "mailguard_mcp"))
        short = "/".join(parts[idx:])
    elif "site-packages" in parts:
        idx = parts.index("site-packages")
        short = "/".join(parts[idx + 1 : idx + 3])
    else:
        short = "/".join(parts[-2:])
    return f"{short}:{name}"


def summarize_profile(raw: Path, top: int = 15) -> tuple[list[list[object]], int]:
    """Self and inclusive sample shares per function from a py-spy ``--format raw`` file."""
    from collections import Counter

    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        self_counts[frames[-1]] += count
        for name in set(frames):
            incl_counts[name] += count
    rows: list[list[object]] = []
    interesting = [
        (name, n)
        for name, n in incl_counts.most_common()
        if name.startswith(("mailguard_core", "mailguard_mcp", "imapclient", "nh3", "lxml"))
    ][:top]
    for name, n in self_counts.most_common(top):
        rows.append(["self", name, f"{100 * n / max(total, 1):.1f}%"])
    for name, n in interesting:
        rows.append(["inclusive", name, f"{100 * n / max(total, 1):.1f}%"])
    return rows, total


async def profile_mailguard(
    cfg: Config,
    session: McpStdioSession,
    spec: ServerSpec,
    floor: Floor,
    results: Results,
    work: Path,
) -> None:
    """Sample the mailguard server with py-spy while it serves fetches, then search pages."""
    import signal
    import subprocess

    py_spy = shutil.which("py-spy")
    if py_spy is None or session.pid is None:
        results.note("profiling skipped: py-spy is not installed (pip install py-spy)")
        return
    folder = folder_name(cfg.sizes[-1])
    uids = floor.all_uids(folder)

    async def fetches() -> None:
        for i in range(200):
            uid = uids[(i * 7919) % len(uids)]
            await session.call(spec.fetch_tool, spec.fetch_args(folder, uid))

    async def searches() -> None:
        for _ in range(max(10, cfg.search_repeat)):
            await session.call(spec.search_tool, spec.search_args(folder, None))

    workloads: dict[str, Callable[[], Any]] = {"fetch": fetches, "search": searches}
    out_dir = work / "profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind, workload in workloads.items():
        raw = out_dir / f"mailguard-{kind}.txt"
        log = (out_dir / f"py-spy-{kind}.log").open("w")
        proc = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(session.pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(raw),
                "--nonblocking",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            start = time.perf_counter()
            await workload()
            elapsed = time.perf_counter() - start
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            log.close()
        if not raw.exists():
            results.note(f"py-spy wrote no profile for {kind}; see {out_dir}")
            continue
        rows, total = summarize_profile(raw)
        results.add(
            f"profile_{kind}",
            f"Profile of mailguard serving {kind} on {folder} (py-spy, {total} samples, "
            f"{elapsed:.1f} s)",
            ["kind", "function", "share of samples"],
            rows,
            notes=[f"raw stacks: {raw} (py-spy --format raw; e.g. flamegraph.pl renders them)"],
        )


# --------------------------------------------------------------------------- targets
def report_targets(
    cfg: Config,
    startup: Mapping[str, Any],
    mail: Mapping[str, Any] | None,
    memory: Mapping[str, Any],
    results: Results,
) -> None:
    def p50(kind: str, folder: str, subject: str) -> float | None:
        if not mail:
            return None
        entry = mail[kind].get(folder, {}).get("stats", {}).get(subject)
        return entry["p50"] if entry else None

    rows: list[list[object]] = []

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "MISSED")

    echo = ((mail or {}).get("rpc") or {}).get("mcp-sdk-echo", {}).get("p50")
    for size in cfg.sizes:
        folder = folder_name(size)
        r_floor = ratio(p50("fetch", folder, "mailguard"), p50("fetch", folder, "floor"))
        rows.append(
            [
                f"fetch p50 <= 1.5x floor ({folder})",
                fmt_ratio(r_floor),
                verdict(None if r_floor is None else r_floor <= 1.5),
            ]
        )
        floor_p50 = p50("fetch", folder, "floor")
        if echo is not None and floor_p50 is not None:
            r_sdk = ratio(p50("fetch", folder, "mailguard"), floor_p50 + echo)
            rows.append(
                [
                    f"(info) fetch p50 / (floor + MCP SDK round trip) ({folder})",
                    fmt_ratio(r_sdk),
                    "-",
                ]
            )
        r_peer = ratio(p50("fetch", folder, "mailguard"), p50("fetch", folder, "peer"))
        rows.append(
            [
                f"fetch p50 faster than peer ({folder})",
                fmt_ratio(r_peer),
                verdict(None if r_peer is None else r_peer < 1.0),
            ]
        )
    biggest = folder_name(cfg.sizes[-1])
    r_search = ratio(p50("search", biggest, "mailguard"), p50("search", biggest, "floor"))
    rows.append(
        [
            f"search page p50 <= 1.3x floor ({biggest})",
            fmt_ratio(r_search),
            verdict(None if r_search is None else r_search <= 1.3),
        ]
    )
    mg = startup.get("mailguard")
    pe = startup.get("peer")
    rows.append(
        [
            "startup p50 < 1.0 s",
            fmt_ms(mg["p50"]) + " ms" if mg else "n/a",
            verdict(None if not mg else mg["p50"] < 1000),
        ]
    )
    r_start = ratio(mg["p50"] if mg else None, pe["p50"] if pe else None)
    rows.append(
        [
            "startup no slower than peer",
            fmt_ratio(r_start),
            verdict(None if r_start is None else r_start <= 1.0),
        ]
    )
    rss = (memory.get("mailguard") or {}).get("rss_mb")
    rows.append(
        [
            "mailguard RSS after the run <= 100 MB",
            f"{rss:.1f} MB" if rss is not None else "n/a",
            verdict(None if rss is None else rss <= 100),
        ]
    )
    results.add(
        "targets",
        "Targets (measured in this run; reported, never asserted)",
        ["target", "measured", "verdict"],
        rows,
    )


# --------------------------------------------------------------------------- main
async def run_servers(
    cfg: Config, server: Any, results: Results, work: Path
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    floor = Floor(server)
    results.data["floor"] = floor.label
    specs: dict[str, ServerSpec] = {}
    uidvalidity: dict[str, int] = {}
    for size in cfg.sizes:
        floor.select(folder_name(size))
        uidvalidity[folder_name(size)] = floor.uidvalidity[folder_name(size)]
    if not cfg.skip_mailguard:
        try:
            specs["mailguard"] = mailguard_spec(server, work, uidvalidity)
        except Exception as exc:
            results.note(f"mailguard cannot be benchmarked: {type(exc).__name__}: {exc}")
    if not cfg.skip_peer:
        try:
            script = peer_mod.ensure_peer(cfg.peer_version)
            specs["peer"] = peer_spec(server, work, script)
            results.data["peer"] = {
                "name": peer_mod.PEER_NAME,
                "version": cfg.peer_version,
                "mcp": peer_mod.installed_version(dist="mcp"),
            }
        except Exception as exc:
            results.note(f"peer cannot be benchmarked: {type(exc).__name__}: {exc}")
    results.add(
        "matching",
        "Which tool was matched to which, and why",
        ["operation", "mailguard", f"{peer_mod.PEER_NAME} {cfg.peer_version}", "why"],
        peer_mod.TOOL_MATCHING,
    )
    startup = await bench_startup(cfg, specs, results)
    memory: dict[str, Any] = {}
    mail: dict[str, Any] | None = None
    async with contextlib.AsyncExitStack() as stack:
        sessions: dict[str, McpStdioSession] = {}
        for name, spec in specs.items():
            try:
                sessions[name] = await stack.enter_async_context(open_session(spec))
            except Exception as exc:
                results.note(f"{name} session failed to start: {type(exc).__name__}: {exc}")
        inproc: InProcess | None = None
        if "mailguard" in specs:
            try:
                os.environ[f"MAILGUARD_{ACCOUNT.upper()}_PASSWORD"] = PASSWORD
                os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
                inproc = InProcess(write_mailguard_config(server, work, "inprocess"))
            except Exception as exc:
                results.note(f"mailguard in-process failed: {type(exc).__name__}: {exc}")
        mail = await bench_mail(cfg, floor, sessions, specs, results, inproc)
        if inproc is not None:
            inproc.close()
        mail["floor_label"] = floor.label
        report_mail(cfg, mail, results)
        if cfg.profile and "mailguard" in sessions:
            await profile_mailguard(
                cfg, sessions["mailguard"], specs["mailguard"], floor, results, work
            )
        for name, session in sessions.items():
            memory[name] = session.memory()
        memory["bench process (floor)"] = process_memory(os.getpid())
    floor.close()
    rows = [
        [name, fmt_ms((m or {}).get("rss_mb")), fmt_ms((m or {}).get("hwm_mb"))]
        for name, m in memory.items()
    ]
    results.add(
        "memory",
        "Resident memory after the whole run (MB)",
        ["process", "RSS (VmRSS)", "peak (VmHWM)"],
        rows,
        raw=memory,
        notes=[
            "servers: the long-lived session that served every search and fetch above; "
            "the bench process holds the floor, the generator and the MCP clients"
        ],
    )
    return startup, mail, memory


def parse_args(argv: Sequence[str]) -> Config:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 1k/10k, fewer iterations")
    parser.add_argument("--sizes", help="comma-separated folder sizes (overrides the mode)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--startup-repeat", type=int)
    parser.add_argument("--search-repeat", type=int)
    parser.add_argument("--fetch-count", type=int)
    parser.add_argument(
        "--budget", type=float, default=60.0, help="max seconds per subject and folder for search"
    )
    parser.add_argument("--reseed", action="store_true", help="regenerate the seeded mail")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-mailguard", action="store_true")
    parser.add_argument("--skip-folded", action="store_true", help="skip bench/{sanitize,...}.py")
    parser.add_argument("--peer-version", default=peer_mod.PEER_VERSION)
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' stderr logs")
    parser.add_argument(
        "--profile", action="store_true", help="sample the mailguard server with py-spy at the end"
    )
    a = parser.parse_args(argv)
    sizes = tuple(int(s) for s in a.sizes.split(",")) if a.sizes else None
    return Config(
        quick=a.quick,
        sizes=sizes or (QUICK_SIZES if a.quick else FULL_SIZES),
        seed=a.seed,
        startup_repeat=a.startup_repeat or (5 if a.quick else 15),
        search_repeat=a.search_repeat or (8 if a.quick else 20),
        fetch_count=a.fetch_count or (20 if a.quick else 50),
        budget_s=a.budget,
        reseed=a.reseed,
        skip_peer=a.skip_peer,
        skip_mailguard=a.skip_mailguard,
        skip_folded=a.skip_folded,
        peer_version=a.peer_version,
        keep_logs=a.keep_logs,
        profile=a.profile,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cfg = parse_args(argv)
    from tests.support.dovecot import dovecot_available, start_dovecot

    if not dovecot_available():
        print("dovecot is not on PATH: apt-get install dovecot-imapd", file=sys.stderr)
        return 2
    work = WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    if logs.exists() and not cfg.keep_logs:
        shutil.rmtree(logs)
    for old in work.glob("mailguard-*audit.jsonl*"):  # each run starts a fresh audit log
        old.unlink()
    results = Results(mode="quick" if cfg.quick else "full", argv=argv)
    results.data["config"] = {
        k: v for k, v in cfg.__dict__.items() if isinstance(v, int | float | bool | str | tuple)
    }
    start = time.perf_counter()
    server = start_dovecot(work / "dovecot")
    try:
        server.add_user(USER, PASSWORD)
        results.data["seeding"] = seed_folders(server, cfg.sizes, seed=cfg.seed, reseed=cfg.reseed)
        # let Dovecot build its index for every folder now, so nobody pays it in a timed call
        warm = Floor(server)
        for size in cfg.sizes:
            warm.all_uids(folder_name(size))
        warm.close()
        if not cfg.skip_folded:
            run_folded(cfg, server, results)
        startup, mail, memory = asyncio.run(run_servers(cfg, server, results, work))
        report_targets(cfg, startup, mail, memory, results)
    finally:
        server.stop()
    results.data["wall_s"] = time.perf_counter() - start
    json_path, md_path = results.write()
    print(
        f"results: {json_path}\n         {md_path}\nwall time {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
