"""The folder guard: protected folders, the allowlist for permanent deletion, the review queue.

Folder names are compared by :func:`~mailguard_core.model.folder_names.folder_keys` (shared with
config validation and the services): a confusable skeleton after NFKC, case folding and
removing default-ignorable code points and combining marks, so ``ＩＮＢＯＸ``, ``Іnbox``
(Cyrillic), ``İnbox``, ``Sent`` + U+FE0F or U+2800, ``D̶rafts`` all collide with the folder
they imitate.

- **Protected** folders are INBOX, the special-use folders the server reports (``\\Drafts``,
  ``\\Sent``, ``\\Trash`` ...) and the configured extras. They cannot be renamed or deleted,
  nor can a folder be created or renamed onto a name that collides with one. A folder that
  holds a protected folder (``Projects`` for ``Projects/Keep``) counts as protected too, since
  renaming or deleting it would move or remove the child.
- **The allowlist** (``expunge_allowed``, exact names): ``expunge`` and ``delete_folder`` act
  only there. Mail reaches an allowlisted folder only the way the server (or the user's own
  client) put it there: ``move_message`` and ``delete_message`` into it, and ``create_folder``
  or ``rename_folder`` producing it (or a folder above it), are refused. The configured
  protected list and the allowlist may not overlap, and INBOX is never allowed. A
  server-discovered special-use folder on the allowlist stays protected (``delete_folder`` is
  refused) while ``expunge`` of its messages is allowed (e.g. emptying Trash).
- **The review queue**: ``move_message`` into the Drafts or Sent folder (the server's
  ``\\Drafts``/``\\Sent``, and ``Drafts``/``Sent``, the names mailguard falls back to) is
  refused, as are ``create_folder``/``rename_folder`` onto those names, and
  ``add_label``/``remove_label`` of ``$PendingReview`` (or a look-alike): only
  ``create_draft`` makes a draft awaiting review, and only ``send_email`` writes to Sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from mailguard_core.config import FolderSettings
from mailguard_core.gate.request import ToolRequest
from mailguard_core.model.errors import FolderProtected, InputError, LabelReserved
from mailguard_core.model.folder_names import (
    INBOX_NAMES,
    OUTGOING_FOLDERS,
    folder_key,
    folder_keys,
    folder_keys_of,
    is_or_holds,
    is_reserved_label,
)
from mailguard_core.model.tools import ToolName

__all__ = ["FolderGuard", "folder_key"]

_DEFAULTS = FolderSettings()


@lru_cache(maxsize=256)
def _keys(names: tuple[str, ...]) -> frozenset[str]:
    """:func:`folder_keys_of` ``names``, computed on first use: the confusable tables behind it
    cost about 170 ms to load, which a server that is only listing its tools never needs."""
    return folder_keys_of(names)


_INBOX_NAMES = tuple(INBOX_NAMES)
_ALLOWLIST_PUBLIC = (
    "mail cannot be moved into a folder on the allowlist for permanent deletion, nor can "
    "such a folder be created or renamed into place"
)
_REVIEW_PUBLIC = "mail cannot be moved into the Drafts or Sent folder"


def _given(value: str | None, what: str) -> str:
    """A folder name the check needs: the describer sets ``invalid`` for a malformed one,
    so here only a missing one is left to refuse."""
    if value is None:
        raise InputError(f"the call names no {what}", public=f"the {what} is missing")
    return value


class FolderGuard:
    """The folder rules of one account (see the module docstring).

    Raises:
        ConfigError: the protected list and the allowlist overlap, or INBOX is allowlisted.
    """

    __slots__ = (
        "_allowed",
        "_allowed_names",
        "_outgoing_names",
        "_protected",
        "_special",
        "_trash",
    )

    def __init__(self, settings: FolderSettings = _DEFAULTS) -> None:
        # names only: their comparison keys are computed (and cached) when a check needs them
        self._protected = tuple(settings.protected)
        self._allowed = frozenset(settings.expunge_allowed)
        self._allowed_names = tuple(settings.expunge_allowed)
        self._special: tuple[str, ...] = ()
        self._outgoing_names = tuple(OUTGOING_FOLDERS.values())
        self._trash: str | None = None

    @property
    def _allowed_keys(self) -> frozenset[str]:
        return _keys(self._allowed_names)

    @property
    def _outgoing(self) -> frozenset[str]:
        return _keys(self._outgoing_names)

    def set_special_folders(self, folders: Mapping[str, str] | Iterable[str]) -> None:
        """Replace the server-discovered special-use folders (all protected).

        ``folders`` maps special-use flags to names (``{"\\Sent": "Sent"}``), as
        :meth:`~mailguard_core.ports.mail_store.MailStore.special_folders` returns them, or is
        a plain list of names (then Drafts and Sent are only the fallback names, and the Trash
        folder is unknown).
        """
        if isinstance(folders, Mapping):
            flags = {str(flag): str(name) for flag, name in folders.items()}
            names = list(flags.values())
            outgoing = [flags[flag] for flag in OUTGOING_FOLDERS if flag in flags]
            self._trash = flags.get("\\Trash")
        else:
            names = list(folders)
            outgoing = []
            self._trash = None
        self._special = tuple(names)
        self._outgoing_names = (*OUTGOING_FOLDERS.values(), *outgoing)

    def protected_keys(self) -> frozenset[str]:
        """Comparison keys (:func:`~mailguard_core.model.folder_names.folder_keys`) of every
        protected folder."""
        return _keys(self._protected) | _keys(self._special) | _keys(_INBOX_NAMES)

    def is_protected(self, name: str) -> bool:
        """Whether ``name`` is, looks like, or contains a protected folder."""
        return is_or_holds(name, self.protected_keys())

    def shadows_protected(self, name: str) -> bool:
        """Whether a new folder called ``name`` would collide with a protected one."""
        return not folder_keys(name).isdisjoint(self.protected_keys())

    def expunge_allowed(self, name: str) -> bool:
        """Whether ``name`` is, exactly, on the allowlist."""
        return name in self._allowed

    def reaches_allowlist(self, name: str) -> bool:
        """Whether a folder created, renamed or moved into as ``name`` would be (or look like,
        or hold) a folder on the allowlist."""
        return is_or_holds(name, self._allowed_keys)

    def is_allowlisted_lookalike(self, name: str) -> bool:
        """Whether ``name`` is (or looks like) a folder on the allowlist."""
        return not folder_keys(name).isdisjoint(self._allowed_keys)

    def is_outgoing(self, name: str) -> bool:
        """Whether ``name`` is (or looks like) the Drafts or Sent folder."""
        return not folder_keys(name).isdisjoint(self._outgoing)

    @staticmethod
    def reads_special(request: ToolRequest) -> bool:
        """Whether :meth:`check` of ``request`` depends on the server's special-use folders
        (a folder created, renamed, deleted or moved into; or a move to Trash): the gate
        learns them first."""
        return (
            request.folder is not None
            or request.new_folder is not None
            or request.destination is not None
            or request.tool is ToolName.DELETE_MESSAGE
        )

    def _check_new_name(self, tool: ToolName, name: str) -> None:
        """The rule of a name a call gives a folder (``create_folder``, ``rename_folder``'s
        new name): it shadows no protected folder, Drafts or Sent, and reaches no allowlisted
        folder."""
        if self.shadows_protected(name) or self.is_outgoing(name):
            raise FolderProtected(f"{tool.value} would shadow a protected folder: {name!r}")
        if self.reaches_allowlist(name):
            raise FolderProtected(
                f"{tool.value} onto an allowlisted folder: {name!r}", public=_ALLOWLIST_PUBLIC
            )

    def check(self, request: ToolRequest) -> None:
        """Refuse the call when its folder or label arguments break a rule.

        Raises:
            FolderProtected: a protected folder would be renamed, deleted or shadowed; a
                folder is not on the allowlist for ``expunge``/``delete_folder``; mail would be
                moved into an allowlisted folder, Drafts or Sent, or such a folder created.
            LabelReserved: ``add_label``/``remove_label`` of a keyword the drafts rely on.
            InputError: a folder the check needs is missing.
        """
        tool = request.tool
        if tool is ToolName.CREATE_FOLDER:
            self._check_new_name(tool, _given(request.new_folder, "new folder name"))
        elif tool is ToolName.RENAME_FOLDER:
            old = _given(request.folder, "folder")
            new = _given(request.new_folder, "new folder name")
            if self.is_protected(old):
                raise FolderProtected(f"rename_folder of protected folder {old!r}")
            self._check_new_name(tool, new)
        elif tool is ToolName.DELETE_FOLDER:
            name = _given(request.folder, "folder")
            if self.is_protected(name):
                raise FolderProtected(f"delete_folder of protected folder {name!r}")
            if not self.expunge_allowed(name):
                raise FolderProtected(
                    f"delete_folder of {name!r}: not on the allowlist",
                    public="this folder is not on the allowlist for permanent deletion",
                )
        elif tool is ToolName.EXPUNGE:
            if not request.refs:
                raise InputError("expunge of no messages", public="the message refs are missing")
            for ref in request.refs:
                if not self.expunge_allowed(ref.folder):
                    raise FolderProtected(
                        f"expunge in {ref.folder!r}: not on the allowlist",
                        public="this folder is not on the allowlist for permanent deletion",
                    )
        elif tool is ToolName.MOVE_MESSAGE:
            self.check_move(_given(request.destination, "destination"))
        elif tool is ToolName.DELETE_MESSAGE and self._trash is not None:
            if self.is_allowlisted_lookalike(self._trash):
                raise FolderProtected(
                    f"delete_message into the allowlisted {self._trash!r}",
                    public="Trash is on this account's allowlist for permanent deletion, so "
                    "delete_message cannot move mail into it; use move_message",
                )
        elif tool in (ToolName.ADD_LABEL, ToolName.REMOVE_LABEL):
            label = request.label
            if label is not None and is_reserved_label(label):
                raise LabelReserved(f"{tool.value} of the reserved keyword {label!r}")

    def check_move(self, destination: str) -> None:
        """Refuse moving mail into ``destination`` when it is (or looks like) an allowlisted
        folder, Drafts or Sent.

        Raises:
            FolderProtected: it is.
        """
        if self.is_allowlisted_lookalike(destination):
            raise FolderProtected(
                f"move_message into the allowlisted {destination!r}", public=_ALLOWLIST_PUBLIC
            )
        if self.is_outgoing(destination):
            raise FolderProtected(
                f"move_message into the review/sent folder {destination!r}", public=_REVIEW_PUBLIC
            )
