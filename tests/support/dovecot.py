"""A private Dovecot 2.3 IMAP server for tests, started from a temp dir on 127.0.0.1.

Installs nothing: it expects ``dovecot`` on PATH (CI installs ``dovecot-imapd``). Each server
gets its own config, self-signed certificate, per-user passwd files (one file per user, so a
new user is visible at once without a reload), Maildir storage and free high ports found at
runtime. The master runs in the foreground under ``subprocess.Popen`` in its own process group
and is stopped with SIGKILL of that group, so nothing is left behind.

Usage in a test module (or a conftest of a test directory)::

    from tests.support.dovecot import dovecot, imap_user  # noqa: F401  (pytest fixtures)

    def test_x(dovecot: DovecotServer, imap_user: tuple[str, str]) -> None:
        user, password = imap_user
        settings = dovecot.imap_settings(user)

The session-scoped ``dovecot`` fixture is one server per test session even when several
modules import it. Tests that kill or reconfigure a server start their own with
:func:`start_dovecot`.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import itertools
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs
import pytest
from imapclient import imap_utf7  # type: ignore[import-untyped]

from tests.support.certs import make_self_signed
from tests.support.dovecot_conf import mail_owner, write_config

if TYPE_CHECKING:
    from mailguard_core.config import ImapSettings

__all__ = [
    "DovecotServer",
    "dovecot",
    "dovecot_available",
    "free_port",
    "imap_user",
    "start_dovecot",
]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0
_FLAG_LETTERS = {
    "\\Draft": "D",
    "\\Flagged": "F",
    "\\Answered": "R",
    "\\Seen": "S",
    "\\Deleted": "T",
}
_counter = itertools.count(1)


def _maildir_letters(flags: str) -> str:
    if "\\" in flags:
        return "".join(sorted({_FLAG_LETTERS[f] for f in flags.split()}))
    return "".join(sorted(set(flags)))


def _tmpfs_dir(min_free: int) -> str | None:
    """``/dev/shm`` when it is a writable directory with ``min_free`` bytes free, else None."""
    shm = "/dev/shm"
    try:
        st = os.statvfs(shm)
    except OSError:
        return None
    if not os.access(shm, os.W_OK) or st.f_bavail * st.f_frsize < min_free:
        return None
    return shm


def _private_root(requested: Path, *, tmpfs_bytes: int | None = None) -> Path:
    """Where the server really lives.

    As root, Dovecot's mail processes run as ``nobody`` and must traverse every parent of
    the mail directory. pytest's temp dirs sit under ``/tmp/pytest-of-root`` (mode 0700,
    and every pytest session resets that mode, even another one running concurrently), so
    the server gets its own world-traversable dir under the system temp dir instead;
    ``requested`` becomes a symlink to it, and the dir is removed when the process exits.

    With ``tmpfs_bytes`` the dir goes to ``/dev/shm`` when that much is free there: file
    creation on some virtual disks costs milliseconds, on tmpfs microseconds.
    """
    base = _tmpfs_dir(tmpfs_bytes) if tmpfs_bytes is not None else None
    if os.geteuid() != 0 and base is None:
        requested.mkdir(parents=True, exist_ok=True)
        return requested
    real = Path(tempfile.mkdtemp(prefix="mailguard-dovecot-", dir=base))
    real.chmod(0o755)
    atexit.register(shutil.rmtree, real, True)
    requested.parent.mkdir(parents=True, exist_ok=True)
    if requested.is_symlink():  # left by an earlier run (its target is gone): point it here
        requested.unlink()
    if not requested.exists():
        requested.symlink_to(real, target_is_directory=True)
    return real


def dovecot_available() -> bool:
    """True when a ``dovecot`` binary is on PATH."""
    return shutil.which("dovecot") is not None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _greets_with(port: int, token: str) -> bool:
    """True when 127.0.0.1:port answers with an IMAP greeting that contains ``token``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.settimeout(0.5)
            data = b""
            for _ in range(16):  # the greeting is one line; bounded reads
                chunk = s.recv(4096)
                data += chunk
                if not chunk or b"\r\n" in data:
                    break
    except OSError:
        return False
    return token.encode() in data


def _port_accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@attrs.define
class DovecotServer:
    """One private Dovecot instance. Ports are fixed for its lifetime (restart reuses them).

    ``imaps_port`` is 0 for an instance started with ``starttls=False`` (that instance has
    TLS disabled entirely, so its plain port offers no STARTTLS).
    """

    root: Path
    imap_port: int
    imaps_port: int
    cert_path: Path
    key_path: Path
    cert_sha256: str
    starttls: bool = True
    host: str = "127.0.0.1"
    #: when set: XOAUTH2/OAUTHBEARER logins are checked by the oauth2 passdb, which asks this
    #: RFC 7662 introspection URL (tests/support/oauth_server.py) about each token
    oauth_introspection_url: str | None = None
    #: the SASL mechanisms for bearer tokens the server offers (with an introspection URL)
    oauth_mechanisms: tuple[str, ...] = ("xoauth2", "oauthbearer")
    #: the folders created for every user with their special-use flag
    special_folders: tuple[str, ...] = ("Drafts", "Sent", "Trash", "Junk")
    _proc: subprocess.Popen[bytes] | None = attrs.field(default=None, init=False, repr=False)
    #: unique per instance, in the greeting: proves that the process answering is ours
    _token: str = attrs.field(factory=lambda: secrets.token_hex(8), init=False, repr=False)

    # ----------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def config_path(self) -> Path:
        return self.root / "conf" / "dovecot.conf"

    def start(self) -> None:
        """Start the master in the foreground and wait (bounded) until it greets."""
        if self.running:
            return
        self._write_config()
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            log = (self.root / "master.log").open("ab")
            try:
                self._proc = subprocess.Popen(
                    ["dovecot", "-F", "-c", str(self.config_path)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            finally:
                log.close()
            while time.monotonic() < deadline and self._proc.poll() is None:
                # our own greeting on the plain port: another program that grabbed the port
                # meanwhile cannot pass for us (Dovecot binds all its listeners or exits)
                if _greets_with(self.imap_port, self._token):
                    return
                time.sleep(0.02)
            if self._proc.poll() is None:
                self.stop()
                raise RuntimeError(
                    f"dovecot did not listen within {_START_TIMEOUT}s\n{self.log_tail()}"
                )
            # exited early: most likely the old listeners are still closing (restart); retry
            self._proc = None
            if time.monotonic() >= deadline:
                raise RuntimeError(f"dovecot failed to start\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGKILL the master's process group and reap it; the ports are closed afterwards."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=_STOP_TIMEOUT)
        deadline = time.monotonic() + _STOP_TIMEOUT
        ports = [p for p in (self.imap_port, self.imaps_port) if p]
        while time.monotonic() < deadline and any(_port_accepts(p) for p in ports):
            time.sleep(0.02)

    def destroy(self) -> None:
        """Stop the server and delete its directory (mail included)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for name in ("master.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                out.extend(path.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(out)

    # ----------------------------------------------------------------- users and mail
    def add_user(self, name: str | None = None, password: str = "secret") -> tuple[str, str]:
        """Create a user with a fresh, empty mailbox; returns ``(name, password)``."""
        if name is None:
            name = f"u{next(_counter)}x{secrets.token_hex(3)}"
        if not name.isalnum() or not name.isascii():
            raise ValueError("test user names are ASCII letters and digits")
        users = self.root / "conf" / "users"
        (users / f"{name}.passwd").write_text(f"{name}:{{PLAIN}}{password}\n")
        return name, password

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user / "Maildir"

    def folder_dir(self, user: str, folder: str) -> Path:
        """The Maildir++ directory of ``folder`` (``/`` is the IMAP hierarchy separator)."""
        base = self.maildir(user)
        if folder.upper() == "INBOX":
            return base
        wire: str = imap_utf7.encode(folder).decode("ascii")
        return base / ("." + wire.replace("/", "."))

    def deliver(self, user: str, folder: str, raw: bytes, flags: str = "") -> None:
        """Write one message straight into the user's Maildir (Dovecot indexes it on SELECT).

        ``flags`` is Maildir info letters (``"S"`` seen, ``"F"`` flagged, ``"D"`` draft, ...)
        or IMAP flags separated by spaces (``"\\\\Seen \\\\Flagged"``).
        """
        self.deliver_many(user, folder, [raw], flags=flags)

    def deliver_many(self, user: str, folder: str, raws: Iterable[bytes], flags: str = "") -> int:
        """Write many messages into one folder; returns how many were written."""
        letters = _maildir_letters(flags)
        target = self.folder_dir(user, folder)
        created = self._ensure_folder(target, is_inbox=folder.upper() == "INBOX")
        stamp = int(time.time())
        count = 0
        pid = os.getpid()
        owner = mail_owner() if os.geteuid() == 0 else None
        cur = os.open(target / "cur", os.O_RDONLY)
        try:
            for n, raw in enumerate(raws, start=1):
                count = n
                name = f"{stamp}.M{next(_counter)}P{pid}.mailguardtest,S={len(raw)}:2,{letters}"
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=cur)
                try:
                    view = memoryview(raw)
                    while view:
                        view = view[os.write(fd, view) :]
                    if owner is not None:
                        os.fchown(fd, *owner)
                finally:
                    os.close(fd)
        finally:
            os.close(cur)
        if owner is not None:
            for path in created:
                os.chown(path, *mail_owner())
        return count

    def _ensure_folder(self, target: Path, *, is_inbox: bool) -> list[Path]:
        created: list[Path] = []
        chain = [target.parents[i] for i in (2, 1, 0)] + [target]  # mail/, mail/user, Maildir
        for p in chain[1:]:
            if not p.exists():
                p.mkdir()
                created.append(p)
        for sub in ("cur", "new", "tmp"):
            d = target / sub
            if not d.exists():
                d.mkdir()
                created.append(d)
        if not is_inbox and not (target / "maildirfolder").exists():
            (target / "maildirfolder").touch()
            created.append(target / "maildirfolder")
        return created

    def imap_settings(
        self,
        user: str,
        *,
        tls: Literal["implicit", "starttls"] = "implicit",
        pin_sha256: str | None = None,
        trust_cert: bool = True,
        connect_timeout: float = 5.0,
        command_timeout: float = 10.0,
    ) -> ImapSettings:
        """Settings for :class:`ImapMailStore` reaching this server as ``user``."""
        from mailguard_core.config import ImapSettings  # lazy: the plugin loads for every test

        port = self.imaps_port if tls == "implicit" else self.imap_port
        return ImapSettings(
            host=self.host,
            username=user,
            port=port,
            tls=tls,
            pin_sha256=pin_sha256,
            ca_file=str(self.cert_path) if trust_cert else None,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
        )

    # ----------------------------------------------------------------- config
    def _write_config(self) -> None:
        write_config(self, self._token)


def start_dovecot(
    root: Path,
    *,
    starttls: bool = True,
    tmpfs_bytes: int | None = None,
    oauth_introspection_url: str | None = None,
    oauth_mechanisms: tuple[str, ...] = ("xoauth2", "oauthbearer"),
    special_folders: tuple[str, ...] = ("Drafts", "Sent", "Trash", "Junk"),
) -> DovecotServer:
    """Start a new private server under ``root`` on free ports; the caller must ``stop()`` it.

    With ``starttls=False`` the server has TLS switched off: its plain port offers no
    STARTTLS and there is no implicit-TLS port (``imaps_port == 0``). With ``tmpfs_bytes``
    the mail lives in ``/dev/shm`` when that much space is free there (see ``root`` then:
    a symlink to it). ``special_folders``: the folders every user gets with their special-use
    flag (``()``: INBOX and Archive only).
    """
    root = _private_root(root, tmpfs_bytes=tmpfs_bytes)
    conf = root / "conf"
    conf.mkdir(exist_ok=True)
    cert, key = make_self_signed(conf)
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    last: Exception | None = None
    for _attempt in range(5):  # a port found free may be taken before dovecot binds it
        server = DovecotServer(
            root=root,
            imap_port=free_port(),
            imaps_port=free_port() if starttls else 0,
            cert_path=cert,
            key_path=key,
            cert_sha256=hashlib.sha256(der).hexdigest(),
            starttls=starttls,
            oauth_introspection_url=oauth_introspection_url,
            oauth_mechanisms=oauth_mechanisms,
            special_folders=special_folders,
        )
        try:
            server.start()
        except RuntimeError as exc:
            last = exc
            continue
        return server
    raise RuntimeError(f"could not start dovecot: {last}")


_SESSION: DovecotServer | None = None


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    """One private Dovecot for the whole session (skips visibly without the binary)."""
    global _SESSION
    if not dovecot_available():
        pytest.skip("dovecot is not on PATH (install dovecot-imapd to run IMAP tests)")
    if _SESSION is not None and _SESSION.running:
        yield _SESSION  # another module's fixture started it and will stop it
        return
    server = start_dovecot(tmp_path_factory.mktemp("dovecot"), tmpfs_bytes=512 << 20)
    _SESSION = server
    try:
        yield server
    finally:
        _SESSION = None
        server.destroy()


@pytest.fixture
def imap_user(dovecot: DovecotServer) -> tuple[str, str]:
    """A fresh user with an empty mailbox on the session server: ``(name, password)``."""
    return dovecot.add_user()
