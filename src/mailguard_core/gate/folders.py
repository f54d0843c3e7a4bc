"""The folder guard: protected folders, and the allowlist for permanent deletion.

Protected folders are INBOX, the special-use folders the server reports (``\\Drafts``,
``\\Sent``, ``\\Trash`` ...) and the configured extras. They cannot be renamed or deleted,
nor can a folder be created or renamed onto a name that *looks* like one of them: names are
compared after NFKC, case folding, dropping invisible format characters and trimming
whitespace (:func:`~mailguard_core.policy_rules.folder_key`, shared with config validation),
so ``ＩＮＢＯＸ``, ``inbox`` and ``Sent\\u200b`` all collide. A folder that holds a protected
folder (``Projects`` for ``Projects/Keep``) counts as protected too, since renaming or deleting
it would move or remove the child.

``expunge`` and ``delete_folder`` act only on folders on the account's allowlist (exact names).
The configured protected list and the allowlist may not overlap, and INBOX is never allowed.
A server-discovered special-use folder on the allowlist stays protected (``delete_folder``
is refused) while ``expunge`` of its messages is allowed (e.g. emptying Trash).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mailguard_core.config import FolderSettings
from mailguard_core.domain import MessageRef
from mailguard_core.errors import FolderProtected, InputError
from mailguard_core.policy_rules import INBOX_KEY, folder_key, folder_list_problems, raise_first
from mailguard_core.tools import ToolName

__all__ = ["SPECIAL_FOLDER_TOOLS", "FolderGuard", "folder_key"]

#: the tools whose check reads the server's special-use folders (the gate learns them first)
SPECIAL_FOLDER_TOOLS = frozenset(
    {ToolName.CREATE_FOLDER, ToolName.RENAME_FOLDER, ToolName.DELETE_FOLDER}
)

#: hierarchy delimiters servers commonly use; a name is checked against each
_DELIMITERS = ("/", ".")
_MAX_REFS = 100
_DEFAULTS = FolderSettings()


def _name_argument(arguments: Mapping[str, Any], key: str) -> str:
    value = arguments.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(
            f"argument {key!r} must be a non-empty string", public=f"{key} is required"
        )
    return value


def _refs_argument(arguments: Mapping[str, Any]) -> list[str]:
    value = arguments.get("message_refs")
    if not isinstance(value, list | tuple) or not value or len(value) > _MAX_REFS:
        raise InputError(
            "message_refs must be a list of 1..100 refs",
            public="message_refs must be a list of 1 to 100 message refs",
        )
    if not all(isinstance(item, str) for item in value):
        raise InputError("message_refs must be strings", public="message_refs must be strings")
    return list(value)


class FolderGuard:
    """The folder rules of one account.

    Raises:
        ConfigError: the protected list and the allowlist overlap, or INBOX is allowlisted.
    """

    __slots__ = ("_allowed", "_configured", "_special")

    def __init__(self, settings: FolderSettings = _DEFAULTS, *, where: str = "folders") -> None:
        raise_first(folder_list_problems(settings.protected, settings.expunge_allowed), where=where)
        self._configured = frozenset(folder_key(name) for name in settings.protected)
        self._allowed = frozenset(settings.expunge_allowed)
        self._special: frozenset[str] = frozenset()

    def set_special_folders(self, folders: Iterable[str]) -> None:
        """Replace the server-discovered special-use folders (all protected)."""
        self._special = frozenset(folder_key(name) for name in folders)

    def protected_keys(self) -> frozenset[str]:
        """Comparison keys of every protected folder."""
        return self._configured | self._special | {INBOX_KEY}

    def is_protected(self, name: str) -> bool:
        """Whether ``name`` is, looks like, or contains a protected folder."""
        key = folder_key(name)
        protected = self.protected_keys()
        return key in protected or any(
            p.startswith(key + d) for p in protected for d in _DELIMITERS
        )

    def shadows_protected(self, name: str) -> bool:
        """Whether a new folder called ``name`` would collide with a protected one."""
        return folder_key(name) in self.protected_keys()

    def expunge_allowed(self, name: str) -> bool:
        """Whether ``name`` is, exactly, on the allowlist."""
        return name in self._allowed

    def check(self, tool: ToolName, arguments: Mapping[str, Any]) -> None:
        """Refuse the call when its folder arguments break a rule.

        Raises:
            FolderProtected: a protected folder would be renamed, deleted or shadowed, or a
                folder is not on the allowlist for ``expunge``/``delete_folder``.
            InputError: a folder argument is missing or malformed.
        """
        if tool is ToolName.CREATE_FOLDER:
            name = _name_argument(arguments, "name")
            if self.shadows_protected(name):
                raise FolderProtected(f"create_folder would shadow a protected folder: {name!r}")
        elif tool is ToolName.RENAME_FOLDER:
            old = _name_argument(arguments, "folder")
            new = _name_argument(arguments, "new_name")
            if self.is_protected(old):
                raise FolderProtected(f"rename_folder of protected folder {old!r}")
            if self.shadows_protected(new):
                raise FolderProtected(f"rename_folder onto a protected name: {new!r}")
        elif tool is ToolName.DELETE_FOLDER:
            name = _name_argument(arguments, "folder")
            if self.is_protected(name):
                raise FolderProtected(f"delete_folder of protected folder {name!r}")
            if not self.expunge_allowed(name):
                raise FolderProtected(
                    f"delete_folder of {name!r}: not on the allowlist",
                    public="this folder is not on the allowlist for permanent deletion",
                )
        elif tool is ToolName.EXPUNGE:
            for text in _refs_argument(arguments):
                folder = MessageRef.parse(text).folder
                if not self.expunge_allowed(folder):
                    raise FolderProtected(
                        f"expunge in {folder!r}: not on the allowlist",
                        public="this folder is not on the allowlist for permanent deletion",
                    )
        elif tool is ToolName.MOVE_MESSAGE:
            _name_argument(arguments, "destination")
