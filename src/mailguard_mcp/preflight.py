"""The folders an account's posture touches, checked by ``--dry-run`` before ``serve`` needs
them (issue 15 item 2): each one must exist and be selectable, and a missing one is named with
what to do.

- ``create_draft``, and ``send_email`` confirmed by a person (a client without elicitation
  saves the send as a ``$PendingReview`` draft): the Drafts folder (special-use ``\\Drafts``,
  else a folder named ``Drafts``, as the outgoing service picks it).
- ``send_email``: the Sent folder for the copy of each sent message (``\\Sent``, else ``Sent``).
- ``delete_message``: the Trash folder (``\\Trash`` or its conventional names).
- ``expunge`` and ``delete_folder``: every folder of ``[accounts.folders] expunge_allowed``
  (a misspelt entry gets a did-you-mean from the server's folder names); an empty allowlist
  is reported (those tools then refuse every folder), not counted as a failure.

Only the folder listing is read (names, flags, counts); nothing is selected or changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from typing import TextIO

import attrs

from mailguard_core.config import AccountConfig
from mailguard_core.model.tools import ToolName
from mailguard_core.model.values import FolderInfo
from mailguard_core.ports.mail_store import MailStore
from mailguard_core.services.outgoing import FALLBACK_FOLDERS

__all__ = ["FolderReport", "folder_problems", "folder_report"]


def _find(folders: Sequence[FolderInfo], name: str) -> FolderInfo | None:
    for info in folders:
        if info.name == name or (name.upper() == "INBOX" and info.name.upper() == "INBOX"):
            return info
    return None


def _outgoing(
    use: str, special: Mapping[str, str], folders: Sequence[FolderInfo], why: str
) -> tuple[str, str | None]:
    """(line, problem) for the Drafts or Sent folder the outgoing service will use."""
    label = use.lstrip("\\")
    name = special.get(use) or FALLBACK_FOLDERS[use]
    info = _find(folders, name)
    where = f"{label} folder {name!r}" + ("" if use in special else f" (no {use} special-use)")
    if info is None:
        return "", (
            f"{where} does not exist; {why} will fail: create a folder named "
            f"{FALLBACK_FOLDERS[use]!r} (or give one the {use} special-use flag on the server)"
        )
    if not info.selectable:
        return "", f"{where} cannot be selected (\\Noselect); {why} will fail"
    return f"{where} for {why}", None


def folder_problems(
    account: AccountConfig,
    allowed: Collection[ToolName],
    folders: Sequence[FolderInfo],
    special: Mapping[str, str],
) -> tuple[list[str], list[str], list[str]]:
    """(folders checked, problems that will make a tool fail, notes) for ``account``, from the
    server's folder listing and special-use map."""
    checked: list[str] = []
    problems: list[str] = []
    notes: list[str] = []

    def add(line: str, problem: str | None) -> None:
        if problem:
            problems.append(problem)
        else:
            checked.append(line)

    drafts_for = []
    if ToolName.CREATE_DRAFT in allowed:
        drafts_for.append("create_draft")
    confirm = account.confirm
    if (
        ToolName.SEND_EMAIL in allowed
        and ToolName.SEND_EMAIL.value in confirm.tools
        and confirm.on_unsupported == "draft"
    ):
        drafts_for.append("send_email's $PendingReview drafts")
    if drafts_for:
        add(*_outgoing("\\Drafts", special, folders, " and ".join(drafts_for)))
    if ToolName.SEND_EMAIL in allowed and account.smtp is not None:
        add(*_outgoing("\\Sent", special, folders, "the copy of each sent message"))
    if ToolName.DELETE_MESSAGE in allowed:
        trash = special.get("\\Trash")
        info = _find(folders, trash) if trash else None
        if info is None:
            problems.append(
                "no Trash folder (no \\Trash special-use and none named Trash, Deleted Items "
                "or Deleted Messages); delete_message will fail: create a folder named 'Trash'"
            )
        elif not info.selectable:
            problems.append(f"Trash folder {trash!r} cannot be selected; delete_message will fail")
        else:
            checked.append(f"Trash folder {trash!r} for delete_message")
    destructive = [t.value for t in (ToolName.EXPUNGE, ToolName.DELETE_FOLDER) if t in allowed]
    if destructive:
        allowlist = account.folders.expunge_allowed
        if not allowlist:
            notes.append(
                f"{' and '.join(destructive)} allowed but [accounts.folders] expunge_allowed "
                "is empty: they refuse every folder"
            )
        names = [f.name for f in folders]
        for name in allowlist:
            info = _find(folders, name)
            if info is not None and info.selectable:
                checked.append(f"expunge_allowed folder {name!r}")
                continue
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            state = "does not exist" if info is None else "cannot be selected"
            problems.append(f"expunge_allowed folder {name!r} {state}{hint}")
    return checked, problems, notes


@attrs.frozen
class FolderReport:
    checked: list[str]
    problems: list[str]
    notes: list[str]

    def write(self, out: TextIO) -> int:
        """Print under the account's lines; returns the number of problems."""
        out.writelines(f"  folder: {line}\n" for line in self.checked)
        out.writelines(f"  note: {line}\n" for line in self.notes)
        out.writelines(f"  FAILED: {line}\n" for line in self.problems)
        return len(self.problems)


def folder_report(
    account: AccountConfig, allowed: Collection[ToolName], store: MailStore
) -> FolderReport:
    """The folder checks of ``account`` over its (open) store (its folder listing and
    special-use map); raises what the store raises."""
    listing = store.list_folders()
    return FolderReport(*folder_problems(account, allowed, listing, store.special_folders()))
