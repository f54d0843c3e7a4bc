"""``MaildirMailStore``: a local Maildir++ mailbox (mail synced by mbsync/offlineimap, the demo).

Layout (Dovecot-compatible Maildir++): the top directory is INBOX; folder ``A/B`` lives in
``.A.B`` (non-ASCII names in modified UTF-7, as Dovecot writes them). Because ``.`` is the
on-disk separator, folder names containing ``.`` are refused. Special use comes from the
conventional names Drafts, Sent, Trash, Junk (or Spam) and Archive.

Maildir has no UIDs, so each folder keeps ``mailguard-uidlist.json`` beside ``cur/``: its
UIDVALIDITY, the next UID, and ``maildir key -> uid``; new files get the next UIDs in arrival
order, vanished ones are dropped, UIDs are never reused. Keywords live in the same file (Maildir
info letters only carry the system flags). A mailbox we cannot write (e.g. the packaged demo)
still works: the UID map is then kept in memory for the life of the store.

Messages are read and added byte for byte with the stdlib ``mailbox`` module; flags are changed
by renaming the file (``:2,FRS``), never by rewriting it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import mailbox
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

import attrs
from imapclient import imap_utf7  # type: ignore[import-untyped]

from mailguard_core.adapters.local_store import LocalMailStore, StoredMessage
from mailguard_core.model.errors import BackendError, InvalidFolderNameError

__all__ = ["MaildirMailStore"]

_STATE = "mailguard-uidlist.json"
_SPECIAL = {
    "Drafts": "\\Drafts",
    "Sent": "\\Sent",
    "Trash": "\\Trash",
    "Junk": "\\Junk",
    "Spam": "\\Junk",
    "Archive": "\\Archive",
}
_LETTER_OF = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}
_FLAG_OF = {v: k for k, v in _LETTER_OF.items()}
_uidvalidity_floor = [0]


def _new_uidvalidity() -> int:
    """Time-based and strictly increasing within the process (a recreated folder differs)."""
    value = max(int(time.time()), _uidvalidity_floor[0] + 1)
    _uidvalidity_floor[0] = value
    return value


@attrs.define
class _State:
    uidvalidity: int
    uidnext: int = 1
    uids: dict[str, int] = attrs.Factory(dict)
    keywords: dict[str, list[str]] = attrs.Factory(dict)


P = ParamSpec("P")
R = TypeVar("R")


def _io(fn: Callable[P, R]) -> Callable[P, R]:
    """Translate OSError from the file system into BackendError (only MailguardError escapes)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except OSError as exc:
            raise BackendError(
                f"maildir {fn.__name__}: {type(exc).__name__} {exc.strerror or ''}".strip(),
                public="the local mailbox could not be read or written",
            ) from exc

    return wrapper


def _encode(name: str) -> str:
    if "." in name:
        raise InvalidFolderNameError(
            f"'.' in Maildir folder name {name!r}",
            public="folder names in a Maildir cannot contain '.'",
        )
    wire: bytes = imap_utf7.encode(name)
    return "." + wire.decode("ascii").replace("/", ".")


def _decode(dirname: str) -> str:
    decoded: str = imap_utf7.decode(dirname[1:].replace(".", "/").encode("ascii"))
    return decoded


class _MaildirBackend:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._states: dict[str, _State] = {}

    # ------------------------------------------------------------------ paths
    def _dir(self, name: str) -> Path:
        return self.root if name == "INBOX" else self.root / _encode(name)

    def _md(self, name: str) -> mailbox.Maildir:
        return mailbox.Maildir(self._dir(name), factory=None, create=False)

    @_io
    def folder_names(self) -> list[str]:
        names = ["INBOX"]
        with contextlib.suppress(OSError):
            for entry in sorted(os.listdir(self.root)):
                if entry.startswith(".") and entry not in (".", "..") and self._is_maildir(entry):
                    with contextlib.suppress(ValueError, UnicodeError):
                        names.append(_decode(entry))
        return names

    def _is_maildir(self, entry: str) -> bool:
        return (self.root / entry / "cur").is_dir()

    @_io
    def special_use(self, name: str) -> str | None:
        return _SPECIAL.get(name)

    @_io
    def exists(self, name: str) -> bool:
        if name == "INBOX":
            return (self.root / "cur").is_dir()
        return (self._dir(name) / "cur").is_dir()

    # ------------------------------------------------------------------ state
    def _load(self, name: str) -> _State:
        state = self._states.get(name)
        if state is None:
            path = self._dir(name) / _STATE
            try:
                raw = json.loads(path.read_text())
                state = _State(
                    uidvalidity=int(raw["uidvalidity"]),
                    uidnext=int(raw["uidnext"]),
                    uids={str(k): int(v) for k, v in raw["uids"].items()},
                    keywords={str(k): [str(x) for x in v] for k, v in raw["keywords"].items()},
                )
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                state = _State(uidvalidity=_new_uidvalidity())
            self._states[name] = state
        return state

    def _save(self, name: str) -> None:
        state = self._states[name]
        path = self._dir(name) / _STATE
        data = {
            "uidvalidity": state.uidvalidity,
            "uidnext": state.uidnext,
            "uids": state.uids,
            "keywords": state.keywords,
        }
        tmp = path.with_name(f".{_STATE}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(data, sort_keys=True))
            os.replace(tmp, path)
        except OSError:  # read-only mailbox: keep the map in memory
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _sync(self, name: str) -> tuple[_State, dict[str, Path]]:
        """Assign UIDs to new files, drop vanished ones; returns the state and key -> path."""
        state = self._load(name)
        folder = self._dir(name)
        paths: dict[str, Path] = {}
        for sub in ("new", "cur"):
            with contextlib.suppress(OSError):
                for entry in os.listdir(folder / sub):
                    if not entry.startswith("."):
                        paths[entry.split(":", 1)[0]] = folder / sub / entry
        changed = False
        fresh = [k for k in paths if k not in state.uids]
        fresh.sort(key=lambda k: (paths[k].stat().st_mtime, k))
        for key in fresh:
            state.uids[key] = state.uidnext
            state.uidnext += 1
            changed = True
        for key in [k for k in state.uids if k not in paths]:
            del state.uids[key]
            state.keywords.pop(key, None)
            changed = True
        if changed:
            self._save(name)
        return state, paths

    @_io
    def uidvalidity(self, name: str) -> int:
        return self._load(name).uidvalidity

    # ------------------------------------------------------------------ messages
    @_io
    def messages(self, name: str) -> dict[int, StoredMessage]:
        state, paths = self._sync(name)
        out = {}
        for key, path in paths.items():
            info = path.name.split(":2,", 1)[1] if ":2," in path.name else ""
            flags = {_FLAG_OF[c] for c in info if c in _FLAG_OF}
            flags.update(state.keywords.get(key, ()))
            try:
                data = path.read_bytes()
                mtime = path.stat().st_mtime
            except OSError:  # vanished between listing and reading
                continue
            uid = state.uids[key]
            out[uid] = StoredMessage(
                uid=uid,
                data=data,
                flags=frozenset(flags),
                internal_date=dt.datetime.fromtimestamp(int(mtime), dt.UTC),
            )
        return out

    def _key_of(self, name: str, uid: int) -> tuple[_State, str, Path]:
        state, paths = self._sync(name)
        for key, value in state.uids.items():
            if value == uid:
                return state, key, paths[key]
        raise KeyError(uid)  # pragma: no cover - callers check existence first

    @_io
    def add(self, name: str, data: bytes, flags: frozenset[str], internal_date: dt.datetime) -> int:
        md = self._md(name)
        key = md.add(data)  # bytes are written unchanged into new/
        state, paths = self._sync(name)
        self._write_flags(name, state, key, paths[key], flags)
        ts = internal_date.timestamp()
        _state, _key, path = self._key_of(name, state.uids[key])
        os.utime(path, (ts, ts))
        return state.uids[key]

    def _write_flags(
        self, name: str, state: _State, key: str, path: Path, flags: frozenset[str]
    ) -> None:
        letters = "".join(sorted(_LETTER_OF[f] for f in flags if f in _LETTER_OF))
        target = self._dir(name) / "cur" / f"{key}:2,{letters}"
        if path != target:
            os.rename(path, target)
        keywords = sorted(f for f in flags if not f.startswith("\\"))
        if keywords:
            state.keywords[key] = keywords
        else:
            state.keywords.pop(key, None)
        self._save(name)

    @_io
    def set_flags(self, name: str, uid: int, flags: frozenset[str]) -> None:
        state, key, path = self._key_of(name, uid)
        self._write_flags(name, state, key, path, flags)

    @_io
    def remove(self, name: str, uids: Sequence[int]) -> None:
        for uid in uids:
            with contextlib.suppress(KeyError, FileNotFoundError):
                _state, _key, path = self._key_of(name, uid)
                path.unlink()
        self._sync(name)

    # ------------------------------------------------------------------ folders
    @_io
    def create(self, name: str) -> None:
        folder = self._dir(name)
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / "maildirfolder").touch()
        self._states.pop(name, None)
        self._states[name] = _State(uidvalidity=_new_uidvalidity())
        self._save(name)

    @_io
    def rename(self, old: str, new: str) -> None:
        old_dir, new_dir = _encode(old), _encode(new)
        for entry in sorted(os.listdir(self.root)):
            if entry == old_dir or entry.startswith(old_dir + "."):
                os.rename(self.root / entry, self.root / (new_dir + entry[len(old_dir) :]))
        self._states = {}

    @_io
    def delete(self, name: str) -> None:
        shutil.rmtree(self._dir(name))
        self._states.pop(name, None)


class MaildirMailStore(LocalMailStore):
    """A ``MailStore`` over a Maildir++ directory (see the module docstring).

    Args:
        account: the account name refs carry.
        path: the Maildir's top directory (INBOX: it has ``cur/ new/ tmp/``).
        create: create an empty Maildir when ``path`` does not exist (default: refuse).

    Raises:
        BackendError: ``path`` is not a Maildir and ``create`` is False.
    """

    def __init__(self, account: str, path: str | Path, *, create: bool = False) -> None:
        root = Path(path)
        if not (root / "cur").is_dir():
            if not create:
                raise BackendError(
                    f"{root} is not a Maildir (no cur/ directory)",
                    public="the local mailbox is unavailable",
                )
            try:
                for sub in ("cur", "new", "tmp"):
                    (root / sub).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BackendError(
                    f"cannot create a Maildir at {root}: {exc.strerror}",
                    public="the local mailbox is unavailable",
                ) from exc
        self.path = root
        super().__init__(account, _MaildirBackend(root))
