"""The hand-written parsers sit behind their shims (issue 13): nothing in the package imports
``mimeparse``/``mimeparse_cursor`` but ``email_parser_shim``, nor ``encoded_words`` but
``email_header_shim``; nothing parses a whole message with ``email.message_from_bytes`` or
reads encoded words of a string with ``email.header.decode_header`` outside them. The
differential tests against the stdlib (test_mimeparse.py, test_mimeparse_differential.py,
test_sanitize_fast_paths.py) call the shims, so they test what the package runs."""

from __future__ import annotations

import ast
from pathlib import Path

import mailguard_core
from mailguard_core.sanitize import email_header_shim, email_parser_shim

SRC = Path(mailguard_core.__file__).resolve().parent.parent
SHIMS = {
    "mailguard_core.sanitize.mimeparse": {"mailguard_core.sanitize.email_parser_shim"},
    "mailguard_core.sanitize.mimeparse_cursor": {"mailguard_core.sanitize.mimeparse"},
    "mailguard_core.sanitize.encoded_words": {"mailguard_core.sanitize.email_header_shim"},
}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_only_the_shims_import_the_hand_written_parsers() -> None:
    importers: dict[str, set[str]] = {name: set() for name in SHIMS}
    for path in sorted(SRC.rglob("*.py")):
        imported = _imports(ast.parse(path.read_text(encoding="utf-8")))
        for name in SHIMS:
            if name in imported:
                importers[name].add(_module(path))
    assert importers == SHIMS


def test_no_module_calls_the_replaced_stdlib_parser_on_its_own() -> None:
    shim = Path(email_parser_shim.__file__).resolve()
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("message_from_bytes", "message_from_string")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "email"
                and path != shim
            ):
                offenders.append(f"{_module(path)}:{node.lineno}")
    assert offenders == []


def test_the_shims_return_the_stdlib_results_on_a_plain_message() -> None:
    import email
    import email.header
    from email.policy import compat32

    raw = b"Subject: =?utf-8?q?caf=C3=A9?= ok\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
    ours = email_parser_shim.message_from_bytes(raw)
    theirs = email.message_from_bytes(raw, policy=compat32)
    assert ours.as_bytes() == theirs.as_bytes() and ours.items() == theirs.items()
    value = "=?utf-8?q?caf=C3=A9?= ok"
    ours_words = email_header_shim.decode_header(value)
    theirs_words = email.header.decode_header(value)
    assert ours_words[0] == theirs_words[0] == (b"caf\xc3\xa9", "utf-8")
    text = "".join(email_header_shim.chunk_text(d, c) for d, c in ours_words)
    assert text == str(email.header.make_header(theirs_words)) == "café ok"
