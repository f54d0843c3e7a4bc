"""Shared helpers for the benchmarks: timing, statistics, Markdown tables, JSON results.

Every benchmark reports latencies in milliseconds as ``{"n", "p50", "p95", "max", "mean"}``
(see :func:`summarize`) so tables and the JSON results file look the same whichever module
measured them. Ratios are always "subject / reference" (``1.2`` = 20 % slower than the
reference). Nothing here asserts a target: numbers are reported, never enforced.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_DIR",
    "RESULTS_DIR",
    "WORK_DIR",
    "McpStdioSession",
    "Results",
    "child_pids",
    "environment_info",
    "fmt_ms",
    "fmt_ratio",
    "markdown_table",
    "percentile",
    "process_memory",
    "ratio",
    "result_payload",
    "summarize",
    "time_async",
    "time_calls",
]

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
WORK_DIR = BENCH_DIR / ".work"


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """Latency samples in seconds -> ``{"n", "p50", "p95", "max", "mean"}`` in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "max": max(ms),
        "mean": statistics.fmean(ms),
    }


def time_calls(fn: Callable[[], object], *, repeat: int, warmup: int = 1) -> list[float]:
    """Run ``fn`` ``warmup`` + ``repeat`` times; the wall time of each measured call (s)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


async def time_async(
    fn: Callable[[], Awaitable[object]], *, repeat: int, warmup: int = 1
) -> list[float]:
    """The async twin of :func:`time_calls`."""
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return samples


def ratio(subject: float | None, reference: float | None) -> float | None:
    """``subject / reference``, or None when either is missing or the reference is 0."""
    if subject is None or reference is None or reference == 0:
        return None
    return subject / reference


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, text left-aligned."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def numeric(col: int) -> bool:
        cells = [row[col] for row in body if row[col] not in ("n/a", "-", "")]
        return bool(cells) and all(
            c.replace(",", "")
            .replace(".", "")
            .replace("x", "")
            .replace("%", "")
            .lstrip("-")
            .isdigit()
            for c in cells
        )

    aligns = [numeric(i) for i in range(len(headers))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if right else (":" + "-" * (w + 1))
            for w, right in zip(widths, aligns, strict=True)
        )
        + "|"
    )
    out = [line, sep]
    for row in body:
        cells = [
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(row, widths, aligns, strict=True)
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def process_memory(pid: int) -> dict[str, float] | None:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process in MB, from /proc."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values: dict[str, float] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024.0  # kB -> MB
    if "VmRSS" not in values:
        return None
    return {"rss_mb": values["VmRSS"], "hwm_mb": values.get("VmHWM", values["VmRSS"])}


def child_pids(pid: int | None = None) -> set[int]:
    """Direct children of ``pid`` (default: this process), from /proc/<pid>/task/*/children."""
    pid = os.getpid() if pid is None else pid
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.update(int(x) for x in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def environment_info() -> dict[str, Any]:
    """What the numbers depend on: machine, Python, library versions, git commit, load."""

    def version(dist: str) -> str | None:
        from importlib import metadata

        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    try:
        dovecot = subprocess.run(
            ["dovecot", "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except OSError:
        dovecot = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
        "git_commit": commit or None,
        "dovecot": dovecot,
        "mailguard": version("mailguard"),
        "mcp": version("mcp"),
        "imapclient": version("imapclient"),
        "nh3": version("nh3"),
    }


class Results:
    """Collects every benchmark's tables and raw numbers; writes one JSON file per run."""

    def __init__(self, *, mode: str, argv: Sequence[str]) -> None:
        self.started = datetime.now(UTC)
        self.data: dict[str, Any] = {
            "started": self.started.isoformat(timespec="seconds"),
            "mode": mode,
            "argv": list(argv),
            "environment": environment_info(),
            "benchmarks": {},
            "notes": [],
        }
        self.markdown: list[str] = []

    def add(
        self,
        name: str,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[object]],
        raw: Mapping[str, Any] | Sequence[Any] | None = None,
        notes: Sequence[str] = (),
    ) -> str:
        """Record one benchmark; returns (and prints) its Markdown section."""
        table = markdown_table(headers, rows)
        section = f"### {title}\n\n{table}\n"
        if notes:
            section += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
        self.markdown.append(section)
        self.data["benchmarks"][name] = {
            "title": title,
            "headers": list(headers),
            "rows": [[_jsonable(c) for c in row] for row in rows],
            "raw": _jsonable(raw),
            "notes": list(notes),
        }
        print(section, flush=True)
        return section

    def note(self, text: str) -> None:
        self.data["notes"].append(text)
        print(f"note: {text}", flush=True)

    def write(self, directory: Path = RESULTS_DIR) -> tuple[Path, Path]:
        """Write ``<stamp>-<mode>.json`` and ``.md`` (plus ``latest-<mode>.*`` copies)."""
        directory.mkdir(parents=True, exist_ok=True)
        self.data["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.data["environment"]["loadavg_at_end"] = list(os.getloadavg())
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        mode = self.data["mode"]
        json_text = json.dumps(self.data, indent=2, ensure_ascii=False, sort_keys=False)
        md_text = "\n".join(self.markdown)
        json_path = directory / f"{stamp}-{mode}.json"
        md_path = directory / f"{stamp}-{mode}.md"
        json_path.write_text(json_text + "\n", encoding="utf-8")
        md_path.write_text(md_text, encoding="utf-8")
        (directory / f"latest-{mode}.json").write_text(json_text + "\n", encoding="utf-8")
        (directory / f"latest-{mode}.md").write_text(md_text, encoding="utf-8")
        return json_path, md_path


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    return repr(value)


class McpStdioSession:
    """One MCP client session with a server subprocess over stdio, timed from spawn.

    Uses the initialize handshake (``ClientSession``) for every server, so servers on MCP
    SDK 1.x and 2.x are measured with the same number of round trips. ``startup_s`` is the
    wall time from spawning the process to the answer of the first ``tools/list``; ``pid`` is
    the server process (for its RSS). The server's stderr goes to ``stderr_path``.
    """

    def __init__(
        self,
        command: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        stderr_path: Path,
        timeout_s: float = 120.0,
    ) -> None:
        self.command = command
        self.args = list(args)
        self.env = dict(env or {})
        self.cwd = cwd
        self.stderr_path = stderr_path
        self.timeout_s = timeout_s
        self.pid: int | None = None
        self.startup_s: float | None = None
        self.tools: list[Any] = []
        self._stack: Any = None
        self.session: Any = None

    async def __aenter__(self) -> McpStdioSession:
        from contextlib import AsyncExitStack

        from mcp.client.stdio import StdioServerParameters, stdio_client

        from mcp import ClientSession

        params = StdioServerParameters(
            command=self.command, args=self.args, env=self.env, cwd=self.cwd
        )
        self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
        stack = AsyncExitStack()
        await stack.__aenter__()
        self._stack = stack
        try:
            errlog = stack.enter_context(self.stderr_path.open("a", encoding="utf-8"))
            before = child_pids()
            start = time.perf_counter()
            read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
            new = child_pids() - before
            self.pid = min(new) if new else None
            session = await stack.enter_async_context(
                ClientSession(read, write, read_timeout_seconds=self.timeout_s)
            )
            await session.initialize()
            listed = await session.list_tools()
            self.startup_s = time.perf_counter() - start
            self.tools = list(listed.tools)
            self.session = session
        except BaseException:
            await stack.__aexit__(*sys.exc_info())
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.__aexit__(None, None, None)

    @property
    def tool_names(self) -> list[str]:
        return sorted(t.name for t in self.tools)

    async def call(self, name: str, arguments: Mapping[str, Any]) -> Any:
        """Call a tool; raise RuntimeError with the server's text when it reports an error."""
        result = await self.session.call_tool(name, dict(arguments))
        if result.is_error:
            texts = [getattr(c, "text", "") for c in result.content]
            raise RuntimeError(f"{name} failed: {' '.join(texts)[:500]}")
        return result

    def memory(self) -> dict[str, float] | None:
        return process_memory(self.pid) if self.pid else None


def result_payload(result: Any) -> Any:
    """The JSON payload of a tool result: structured content, else the first text parsed."""
    if getattr(result, "structured_content", None) is not None:
        return result.structured_content
    for content in result.content:
        text = getattr(content, "text", None)
        if text is None:
            continue
        try:
            return json.loads(text)
        except ValueError:
            return text
    return None
