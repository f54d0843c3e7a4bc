"""Startup: the CLI server defers the SDK's re-exporting package inits (``mcp``, ``mcp.server``),
loads nothing heavy before ``tools/list``, and answers exactly like the ordinary import."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailguard_mcp import serve_cli
from mailguard_mcp.serve_cli import EAGER_IMPORTS_ENV, NotPureReexports, reexports
from tests.mcp.wire import RawSession, raw_session

#: loaded by the first call that needs them, never by startup
HEAVY = (
    "mcp.client",
    "mcp.server.mcpserver",
    "mailguard_core.sanitize",
    "lxml",
    "nh3",
    "tldextract",
    "jsonschema",
    "imapclient",
    "imaplib",
    "keyring",
    "smtplib",
)

#: logs every module the server process imports (a meta path finder sees importlib's too)
_SITECUSTOMIZE = """
import os, sys
_log = open(os.environ["MAILGUARD_TEST_IMPORT_LOG"], "a", buffering=1, encoding="utf-8")
class _Recorder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        _log.write(name + "\\n")
sys.meta_path.insert(0, _Recorder)
"""

_NONCE = re.compile(r"nonce=[0-9A-Za-z_-]+")
#: the demo copy's internal dates are the time it was materialized
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def _import_logging_env(tmp_path: Path, name: str, *, eager: bool) -> tuple[dict[str, str], Path]:
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / f"{name}.imports"
    path = os.pathsep.join(p for p in (str(hook_dir), os.environ.get("PYTHONPATH", "")) if p)
    env = {
        "PYTHONPATH": path,
        "MAILGUARD_TEST_IMPORT_LOG": str(log),
        EAGER_IMPORTS_ENV: "1" if eager else "",
    }
    return env, log


def _imported(log: Path) -> set[str]:
    return set(log.read_text(encoding="utf-8").split())


def _loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


async def _exchange(session: RawSession) -> list[Any]:
    """A newcomer's first calls: search the demo inbox, then read the first message."""
    search = await session.request(
        "tools/call", {"name": "search", "arguments": {"subject": "Quarterly"}}
    )
    ref = search["structuredContent"]["items"][0]["meta"]["message_ref"]
    fetched = await session.request(
        "tools/call", {"name": "fetch_message", "arguments": {"message_ref": ref}}
    )
    denied = await session.request(
        "tools/call", {"name": "send_email", "arguments": {"to": ["a@b.example"]}}
    )
    return [search, fetched, denied]


def _normalized(replies: list[Any]) -> str:
    return _STAMP.sub("T", _NONCE.sub("nonce=N", repr(replies)))


@pytest.mark.anyio
async def test_the_cli_server_answers_like_the_ordinary_import_without_loading_heavy_modules(
    tmp_path: Path,
) -> None:
    """``mailguard-mcp demo`` (the CLI path) lists its tools before importing the SDK client,
    MCPServer, the sanitizer or any mail/keyring library, then initialize, tools/list and
    tools/call replies are identical to those of a server importing the SDK the ordinary way."""
    replies: dict[str, list[Any]] = {}
    before_list: dict[str, set[str]] = {}
    for name, eager in (("deferred", False), ("eager", True)):
        env, log = _import_logging_env(tmp_path, name, eager=eager)
        async with raw_session(["demo"], env=env, stderr=tmp_path / f"{name}.err") as session:
            init = await session.initialize()
            listed = await session.request("tools/list")
            before_list[name] = _imported(log)
            replies[name] = [init, listed, *await _exchange(session)]
    deferred = before_list["deferred"]
    assert "mailguard_mcp.server" in deferred and "mcp.server.lowlevel" in deferred
    assert [m for m in HEAVY if _loaded(deferred, m)] == []
    # the ordinary import does load the client: the escape hatch really is the "before"
    assert _loaded(before_list["eager"], "mcp.client")
    assert len(replies["deferred"][1]["tools"]) == len(replies["eager"][1]["tools"]) > 0
    assert _normalized(replies["deferred"]) == _normalized(replies["eager"])


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this one has the SDK imported already)."""
    env = {k: v for k, v in os.environ.items() if k != EAGER_IMPORTS_ENV}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_name_of_the_lazy_sdk_packages_is_the_object_their_own_init_binds() -> None:
    """Each re-exported name of the lazy ``mcp`` and ``mcp.server`` resolves to the very object
    the package's real ``__init__`` binds, and ``__all__`` is the real one."""
    out = _python(
        """
        import sys
        from mailguard_mcp.serve_cli import LAZY_PACKAGES, LazyPackage, import_server

        import_server()
        assert "mcp.client" not in sys.modules and "mcp.server.mcpserver" not in sys.modules
        assert all(isinstance(sys.modules[p], LazyPackage) for p in LAZY_PACKAGES)
        lazy = {}
        for p in LAZY_PACKAGES:
            module = sys.modules[p]
            lazy[p] = {n: getattr(module, n) for n in module.__dict__["_lazy_exports"]}
            assert set(module.__all__) <= set(lazy[p]) and set(lazy[p]) <= set(dir(module))
        for p in LAZY_PACKAGES:  # now run each real __init__ into a scratch namespace
            module = sys.modules[p]
            spec = module.__spec__
            scratch = {"__name__": p, "__package__": p, "__spec__": spec,
                       "__path__": module.__path__}
            exec(compile(spec.loader.get_source(p), spec.origin, "exec"), scratch)
            assert scratch["__all__"] == module.__all__, p
            for name, value in lazy[p].items():
                assert scratch[name] is value, (p, name)
        print(sum(len(v) for v in lazy.values()))
        """
    )
    assert int(out) > 50


def test_when_the_deferred_import_fails_the_server_is_imported_the_ordinary_way() -> None:
    """A failure while importing under the lazy packages is retried with the ordinary import,
    which then serves the real ``mcp`` package (client included)."""
    out = _python(
        """
        import importlib, sys
        from mailguard_mcp import serve_cli

        real, failed = importlib.import_module, []
        def flaky(name, package=None):
            if name == "mcp.server.stdio" and not failed:
                failed.append(name)
                raise ImportError("simulated")
            return real(name, package)
        importlib.import_module = flaky
        server = serve_cli.import_server()
        import mcp, mcp.server
        assert failed and callable(server.serve_stdio)
        assert not isinstance(mcp, serve_cli.LazyPackage)
        assert not isinstance(mcp.server, serve_cli.LazyPackage)
        assert "mcp.client" in sys.modules and mcp.Client is not None
        print("ordinary")
        """
    )
    assert out.strip() == "ordinary"


def test_the_escape_hatch_variable_keeps_the_ordinary_sdk_import() -> None:
    """With MAILGUARD_MCP_EAGER_IMPORTS=1 nothing is deferred: ``mcp`` is the real package."""
    out = _python(
        f"""
        import os, sys
        os.environ[{EAGER_IMPORTS_ENV!r}] = "1"
        from mailguard_mcp import serve_cli
        serve_cli.import_server()
        import mcp
        print(type(mcp).__name__, "mcp.client" in sys.modules)
        """
    )
    assert out.split() == ["module", "True"]


# ---------------------------------------------------------------- reexports / LazyPackage
def _package(root: Path, name: str, init: str, **modules: str) -> None:
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(init), encoding="utf-8")
    for module, text in modules.items():
        (pkg / f"{module}.py").write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A sys.path entry for throwaway packages (removed from sys.modules afterwards)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("mg_startup_"):
            del sys.modules[name]


def test_a_pure_reexporting_package_resolves_each_name_only_when_first_used(
    packages: Path,
) -> None:
    """The lazy package imports a submodule on first access of a name it re-exports, binds
    the same object the real ``__init__`` would, and knows nothing else."""
    _package(
        packages,
        "mg_startup_pure",
        '''
        """docstring"""
        from __future__ import annotations
        from .heavy import Thing as Alias
        from . import light
        from os.path import join
        __all__ = ["Alias", "light"]
        ''',
        heavy="class Thing: ...\n",
        light="VALUE = 1\n",
    )
    assert serve_cli.defer_package_inits(("mg_startup_pure",)) == ["mg_startup_pure"]
    module = sys.modules["mg_startup_pure"]
    assert isinstance(module, serve_cli.LazyPackage)
    assert module.__all__ == ["Alias", "light"]
    assert "mg_startup_pure.heavy" not in sys.modules
    thing = module.Alias
    assert thing is sys.modules["mg_startup_pure.heavy"].Thing
    assert module.light.VALUE == 1
    assert module.join is os.path.join
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = module.missing
    assert serve_cli.defer_package_inits(("mg_startup_pure",)) == []  # already imported


@pytest.mark.parametrize(
    "init",
    [
        "from .a import *\n",
        "X = 1\n",
        "import os\n",
        "__all__ = sorted(['a'])\n",
        "if True:\n    from .a import b\n",
    ],
)
def test_a_package_init_doing_more_than_reexporting_is_left_to_the_ordinary_import(
    packages: Path, init: str
) -> None:
    """Star imports, assignments, plain imports, computed ``__all__`` or statements: the
    package is not deferred, and nothing of the attempt stays in sys.modules."""
    _package(packages, "mg_startup_impure", init, a="b = 1\n")
    spec = importlib.util.find_spec("mg_startup_impure")
    assert spec is not None
    with pytest.raises(NotPureReexports):
        reexports(spec)
    assert serve_cli.defer_package_inits(("mg_startup_impure",)) == []
    assert "mg_startup_impure" not in sys.modules


def test_a_failure_on_a_later_package_undoes_the_earlier_ones(packages: Path) -> None:
    """When the second package cannot be deferred the first is removed again: all or none."""
    _package(packages, "mg_startup_first", "from .a import b\n", a="b = 1\n")
    assert serve_cli.defer_package_inits(("mg_startup_first", "mg_startup_absent")) == []
    assert "mg_startup_first" not in sys.modules
