"""The domain's dependencies point inward: checked by import-linter and by this import test."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

FORBIDDEN = (
    "imapclient", "keyring", "smtplib", "mcp", "imaplib", "redis", "authlib", "mailguard_mcp",
)  # fmt: skip


def test_importing_the_domain_loads_no_adapter_or_io_library() -> None:
    """A fresh interpreter importing every module outside ``adapters`` and ``app`` (the
    composition root) must not pull in adapters or I/O libs."""
    code = textwrap.dedent(
        f"""
        import sys, importlib, pathlib
        import mailguard_core
        root = pathlib.Path(mailguard_core.__file__).parent
        for f in sorted(root.rglob("*.py")):
            parts = f.relative_to(root.parent).with_suffix("").parts
            if parts[1:2] in (("adapters",), ("app",)):
                continue
            importlib.import_module(".".join(p for p in parts if p != "__init__"))
        bad = sorted(n for n in sys.modules
                     if n.split(".")[0] in {FORBIDDEN!r}
                     or n.startswith("mailguard_core.adapters"))
        print(",".join(bad))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"domain imported: {out.stdout.strip()}"


def test_import_linter_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml (docs/architecture.md) are kept."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _data_members(protocol: type) -> set[str]:
    """A Protocol's members when all of them are data (properties, annotated attributes);
    empty when it has a method (a behaviour contract, not a mirror of a value)."""
    members: set[str] = set()
    for klass in protocol.__mro__:
        if klass in (object, typing.Protocol, typing.Generic):
            continue
        names = set(vars(klass)) | set(getattr(klass, "__annotations__", {}))
        for name in names:
            if name.startswith("_"):
                continue
            value = vars(klass).get(name)
            if value is not None and not isinstance(value, property):
                return set()  # a method or a constant: not a mirror of a value
            members.add(name)
    return members


def test_no_protocol_mirrors_an_attrs_class() -> None:
    """Issue 13: the gate trusts the settings it is given, so no ``Protocol`` restates the
    fields of an attrs value (as ``ports.gate_state.BreakerTimings`` restated
    ``BreakerSettings``); a port takes the value type itself (``model.breaker``)."""
    import attrs

    import mailguard_core
    import mailguard_mcp

    protocols: dict[str, type] = {}
    fields: dict[str, set[str]] = {}
    for package in (mailguard_core, mailguard_mcp):
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root.parent).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            module = importlib.import_module(".".join(p for p in parts if p != "__init__"))
            for obj in vars(module).values():
                if not isinstance(obj, type) or obj.__module__ != module.__name__:
                    continue
                name = f"{obj.__module__}.{obj.__qualname__}"
                if getattr(obj, "_is_protocol", False):
                    protocols[name] = obj
                elif attrs.has(obj):
                    fields[name] = {f.name for f in attrs.fields(obj)}
    assert len(protocols) > 5 and len(fields) > 20  # the walk found the code
    mirrors = [
        (protocol, value)
        for protocol, cls in protocols.items()
        if (members := _data_members(cls))
        for value, names in fields.items()
        if members <= names
    ]
    assert mirrors == []


def test_no_private_name_is_imported_from_another_module() -> None:
    """A name another module needs is public in the module that owns it (issue 13): no
    ``from mailguard_core.x import _name`` anywhere in src/, also inside functions."""
    import ast

    src = Path(__file__).resolve().parents[2] / "src"
    found = set()
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mailguard"):
                found.update(
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                )
    assert sorted(found) == []
