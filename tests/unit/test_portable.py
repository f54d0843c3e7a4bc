"""Portability: the no-follow opens on both paths (O_NOFOLLOW and the lstat/identity check used
on Windows), the POSIX-less fallbacks, the per-platform folders, and a source scan that keeps
POSIX-only modules out of module level."""

from __future__ import annotations

import ast
import errno
import os
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mailguard_core.adapters.download_dir import default_download_dir
from mailguard_core.app import bootstrap
from mailguard_core.config import config_path
from mailguard_core.system import paths, portable

SRC = Path(__file__).resolve().parents[2] / "src"

#: modules that exist only on POSIX (what Windows's CPython lacks)
POSIX_ONLY = frozenset(
    {"fcntl", "pwd", "grp", "resource", "termios", "tty", "pty", "syslog", "crypt", "spwd",
     "nis", "posix", "_posixshmem", "curses", "_curses", "readline", "ossaudiodev"}
)  # fmt: skip

OPENERS = [
    pytest.param(portable.open_nofollow, id="open_nofollow"),
    pytest.param(portable.open_checked, id="lstat-identity-fallback"),
]


@pytest.mark.parametrize("opener", OPENERS)
@pytest.mark.parametrize(
    "flags",
    [
        os.O_WRONLY | os.O_APPEND | os.O_CREAT,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL,
        os.O_RDWR,
        os.O_RDONLY,
    ],
)
def test_a_symlink_is_refused_and_its_target_is_untouched(
    tmp_path: Path, opener, flags: int
) -> None:
    """Both openers refuse a link to an existing file and a dangling link; nothing is written
    or created where the link points."""
    target = tmp_path / "target"
    target.write_bytes(b"precious")
    link = tmp_path / "link"
    link.symlink_to(target)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    for path in (link, dangling):
        with pytest.raises(OSError) as info:
            fd = opener(path, flags)
            os.close(fd)
        assert info.value.errno in (portable.ELOOP, errno.EEXIST), info.value
    assert target.read_bytes() == b"precious"
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("opener", OPENERS)
def test_regular_files_are_created_private_and_reopened(tmp_path: Path, opener) -> None:
    """A new file is created 0600 (umask permitting less, never more); an existing one reopens."""
    path = tmp_path / "log"
    fd = opener(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"one\n")
        portable.make_private(fd)
    finally:
        os.close(fd)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fd = opener(path, os.O_RDONLY)
    try:
        assert os.read(fd, 100) == b"one\n"
        assert not os.get_inheritable(fd)
    finally:
        os.close(fd)


def test_the_fallback_detects_a_link_swapped_in_between_check_and_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race O_NOFOLLOW closes in the kernel: the path is a regular file at the lstat and a
    link at the open. The fallback notices from the opened handle's identity, closes the
    descriptor and refuses; nothing is written through it."""
    target = tmp_path / "elsewhere"
    target.write_bytes(b"precious")
    path = tmp_path / "log"
    path.write_bytes(b"")
    real_open = os.open
    opened: list[int] = []

    def swapping_open(file: os.PathLike[str] | str, flags: int, mode: int = 0o777) -> int:
        path.unlink()
        path.symlink_to(target)
        fd = real_open(file, flags, mode)
        opened.append(fd)
        return fd

    monkeypatch.setattr(os, "open", swapping_open)
    with pytest.raises(OSError) as info:
        portable.open_checked(path, os.O_WRONLY | os.O_APPEND)
    monkeypatch.undo()
    assert info.value.errno == portable.ELOOP
    assert "changed" in str(info.value)
    assert target.read_bytes() == b"precious"
    with pytest.raises(OSError):
        os.fstat(opened[0])  # closed by open_checked


def test_the_fallback_refuses_a_windows_reparse_point() -> None:
    """A junction is no symlink by st_mode; its FILE_ATTRIBUTE_REPARSE_POINT is enough."""
    junction = SimpleNamespace(
        st_mode=stat.S_IFDIR | 0o700, st_file_attributes=stat.FILE_ATTRIBUTE_REPARSE_POINT
    )
    plain = SimpleNamespace(st_mode=stat.S_IFREG | 0o600, st_file_attributes=0)
    posix = SimpleNamespace(st_mode=stat.S_IFREG | 0o600)
    assert portable.is_link(junction)  # type: ignore[arg-type]
    assert not portable.is_link(plain)  # type: ignore[arg-type]
    assert not portable.is_link(posix)  # type: ignore[arg-type]


def test_without_o_nofollow_open_nofollow_takes_the_checked_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the flag is missing (Windows), the link is still refused: by the fallback."""
    monkeypatch.setattr(portable, "O_NOFOLLOW", 0)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OSError) as info:
        portable.open_nofollow(link, os.O_WRONLY | os.O_CREAT)
    assert info.value.errno == portable.ELOOP
    assert "symbolic link" in str(info.value)
    assert not (tmp_path / "nowhere").exists()


def test_pread_without_os_pread_reads_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seek-and-read fallback (Windows has no os.pread) returns what os.pread returns."""
    path = tmp_path / "data"
    data = bytes(range(256)) * 300
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        wanted = [(size, offset) for size in (0, 1, 7, 70_000) for offset in (0, 5, 76_790, 76_800)]
        native = [os.pread(fd, size, offset) for size, offset in wanted]
        monkeypatch.delattr(os, "pread")
        assert [portable.pread(fd, size, offset) for size, offset in wanted] == native
        by_request = dict(zip(wanted, native, strict=True))
        assert by_request[(7, 76_800)] == b""
        assert by_request[(70_000, 0)] == data[:70_000]
        assert by_request[(70_000, 76_790)] == data[76_790:]
    finally:
        os.close(fd)


def test_without_o_directory_a_directory_sync_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows cannot open a directory with os.open: the sync is a no-op there, not an error."""
    portable.fsync_directory(tmp_path)  # POSIX: a real fsync
    monkeypatch.delattr(os, "O_DIRECTORY")
    monkeypatch.setattr(os, "open", lambda *a, **k: pytest.fail("opened a directory"))
    portable.fsync_directory(tmp_path)


def test_make_private_leaves_mode_bits_alone_where_they_are_not_the_access_control(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"")
    path.chmod(0o644)
    fd = os.open(path, os.O_RDONLY)
    try:
        monkeypatch.setattr(portable, "POSIX_MODES", False)
        portable.make_private(fd)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        monkeypatch.setattr(portable, "POSIX_MODES", True)
        portable.make_private(fd)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------ folders
ENV = {"HOME": "/home/me"}


@pytest.mark.parametrize("system", ["linux", "freebsd14", "sunos5", "cygwin"])
def test_on_linux_and_other_posix_systems_the_folders_are_the_xdg_ones_as_before(
    system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exactly the paths earlier versions used, so nothing moves for an existing user."""
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: Path("/home/me")))
    assert paths.config_dir(ENV, system=system) == Path("/home/me/.config/mailguard")
    assert paths.state_dir(ENV, system=system) == Path("/home/me/.local/state/mailguard")
    xdg = {**ENV, "XDG_CONFIG_HOME": "/x/c", "XDG_STATE_HOME": "/x/s"}
    assert paths.config_dir(xdg, system=system) == Path("/x/c/mailguard")
    assert paths.state_dir(xdg, system=system) == Path("/x/s/mailguard")


def test_the_running_platform_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    env = {"XDG_CONFIG_HOME": "/x/c", "XDG_STATE_HOME": "/x/s"}
    assert config_path(None, environ=env) == Path("/x/c/mailguard/config.toml")
    assert default_download_dir(env) == Path("/x/s/mailguard/downloads")
    assert bootstrap.state_dir(env) == Path("/x/s/mailguard")


def test_on_macos_the_folder_is_application_support(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~/Library/Application Support/mailguard for both; an explicit XDG variable still wins."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    env = {"HOME": str(tmp_path)}
    support = tmp_path / "Library" / "Application Support" / "mailguard"
    assert paths.config_dir(env, system="darwin") == support
    assert paths.state_dir(env, system="darwin") == support
    assert paths.state_dir({**env, "XDG_STATE_HOME": "/x/s"}, system="darwin") == Path(
        "/x/s/mailguard"
    )


def test_on_macos_an_existing_xdg_folder_of_an_earlier_version_stays_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A macOS user of an earlier version keeps their config and their audit log's chain."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    env = {"HOME": str(tmp_path)}
    (tmp_path / ".config" / "mailguard").mkdir(parents=True)
    assert paths.config_dir(env, system="darwin") == tmp_path / ".config" / "mailguard"
    assert paths.state_dir(env, system="darwin") == (
        tmp_path / "Library" / "Application Support" / "mailguard"
    )
    (tmp_path / ".local" / "state" / "mailguard").mkdir(parents=True)
    assert paths.state_dir(env, system="darwin") == tmp_path / ".local" / "state" / "mailguard"


def test_on_windows_the_folder_is_local_appdata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """%LOCALAPPDATA%\\mailguard (not the roaming profile) from platformdirs' Windows lookup."""
    import platformdirs.windows

    asked: list[str] = []

    def folder(csidl_name: str) -> str:
        asked.append(csidl_name)
        return "C:\\Users\\me\\AppData\\Local"

    monkeypatch.setattr(platformdirs.windows, "get_win_folder", folder)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    for found in (paths.config_dir({}, system="win32"), paths.state_dir({}, system="win32")):
        assert str(found).startswith("C:\\Users\\me\\AppData\\Local")
        assert found.name == "mailguard"
    assert set(asked) == {"CSIDL_LOCAL_APPDATA"}
    # an XDG folder of a POSIX habit is not a Windows user's existing setup
    (tmp_path / ".config" / "mailguard").mkdir(parents=True)
    assert paths.config_dir({}, system="win32").name == "mailguard"
    assert ".config" not in str(paths.config_dir({}, system="win32"))
    assert paths.config_dir({"XDG_CONFIG_HOME": "D:\\cfg"}, system="win32") == Path(
        "D:\\cfg", "mailguard"
    )


# ------------------------------------------------------------------------- source scan
def _module_level_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Imports that run when the module is imported: everything outside def/class bodies
    (inside module-level if/try/with too), except under ``if TYPE_CHECKING``."""
    found: list[tuple[int, str]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((node.lineno, node.module))
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, (ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, block, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(tree.body)
    return found


def test_no_module_of_either_package_imports_a_posix_only_module_at_module_level() -> None:
    """Static half of tests/mcp/test_posixless.py: a POSIX-only module may be imported inside
    a function (behind a platform check), never when the module itself is imported."""
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50
    offenders = [
        f"{file.relative_to(SRC)}:{line} imports {name}"
        for file in files
        for line, name in _module_level_imports(ast.parse(file.read_text(encoding="utf-8")))
        if name.partition(".")[0] in POSIX_ONLY
    ]
    assert offenders == []


def test_the_source_scan_sees_imports_in_module_level_blocks() -> None:
    """The scan itself: it finds what it must and ignores function bodies and TYPE_CHECKING."""
    tree = ast.parse(
        "import fcntl\n"
        "try:\n    import pwd\nexcept ImportError:\n    import grp\n"
        "if True:\n    from resource import setrlimit\n"
        "if TYPE_CHECKING:\n    import termios\n"
        "def f():\n    import tty\n"
        "class C:\n    import pty\n"
    )
    assert [name for _, name in _module_level_imports(tree)] == [
        "fcntl", "pwd", "grp", "resource"
    ]  # fmt: skip
