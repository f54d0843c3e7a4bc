"""Issue 12 items 4 and 5 in the domain: the gate and the services (defence in depth) refuse
every way of combining allowed steps into a permanent deletion outside the allowlist, and
every way of faking the review queue. The wire tests (``test_policy_wire.py``) run the same
attacks through Dovecot; these run them against the gate with the server's special-use
folders as a mapping or as bare names, and against the services directly, where the gate is
not in front."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.adapters.memory_store import InMemoryMailStore
from mailguard_core.config import AccountConfig, FolderSettings
from mailguard_core.gate import FakeClock
from mailguard_core.gate.folders import FolderGuard
from mailguard_core.model.errors import FolderProtected, LabelReserved
from mailguard_core.model.folder_names import RESERVED_LABELS
from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.services.dispatch import ToolGate as Gate
from mailguard_core.services.dispatch import describe
from mailguard_core.services.outgoing import OutgoingRequest, OutgoingService
from mailguard_core.services.use_cases import MailboxService
from tests.mcp.harness import plain_message


def check(g: FolderGuard, tool: ToolName, arguments: Mapping[str, Any]) -> None:
    """The folder check of a call with these JSON arguments, read as the gate reads them
    (a malformed value is the request's ``invalid``, raised first)."""
    request = describe(tool.value, "w", arguments)
    if request.invalid is not None:
        raise request.invalid
    g.check(request)


SPECIAL = {"\\Drafts": "Entwürfe", "\\Sent": "Gesendet", "\\Trash": "Papierkorb"}
FOLDERS = FolderSettings(protected=("Keep",), expunge_allowed=("Scratch", "Old/Bin"))


def gate_for(special: object) -> Gate:
    account = AccountConfig(
        name="work", address="me@work.example", posture=Posture.DESTRUCTIVE, folders=FOLDERS
    )
    return Gate(
        [account], InMemoryAuditSink(), clock=FakeClock(), special_folders=lambda _: special
    )


def refused(gate: Gate, tool: str, args: dict[str, object]) -> str:
    with pytest.raises((FolderProtected, LabelReserved)) as caught, gate.guard(tool, "work", args):
        pass
    return caught.value.code


def allowed(gate: Gate, tool: str, args: dict[str, object]) -> None:
    with gate.guard(tool, "work", args):
        pass


MOVE = {"message_refs": ["work:INBOX:1:1"]}


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("move_message", {**MOVE, "destination": "Scratch"}),
        ("move_message", {**MOVE, "destination": "Old/Bin"}),
        ("move_message", {**MOVE, "destination": "old/bin"}),
        ("create_folder", {"name": "Scratch"}),
        ("create_folder", {"name": "Old"}),  # above Old/Bin
        ("create_folder", {"name": "Old/Bin"}),
        ("rename_folder", {"folder": "Projects", "new_name": "Scratch"}),
        ("rename_folder", {"folder": "Projects", "new_name": "Old"}),
        ("rename_folder", {"folder": "Projects", "new_name": "OLD"}),
        ("rename_folder", {"folder": "Projects", "new_name": "S\u0441ratch"}),  # Cyrillic с
    ],
)
def test_nothing_can_be_put_into_an_allowlisted_folder(tool: str, args: dict[str, object]) -> None:
    """Item 4: a move, create or rename whose target is (or looks like, or sits above) an
    allowlisted folder is refused, before anything reaches the server."""
    assert refused(gate_for(SPECIAL), tool, args) == "folder_protected"


def test_what_the_allowlist_still_allows() -> None:
    """Expunge and delete_folder in allowlisted folders, moving out of them, renaming them
    away, and moves anywhere else keep working."""
    gate = gate_for(SPECIAL)
    allowed(gate, "expunge", {"message_refs": ["work:Scratch:1:1"]})
    allowed(gate, "delete_folder", {"folder": "Scratch"})
    allowed(gate, "move_message", {"message_refs": ["work:Scratch:1:1"], "destination": "Archiv"})
    allowed(gate, "rename_folder", {"folder": "Scratch", "new_name": "Scratch-kept"})
    allowed(gate, "delete_message", MOVE)  # Papierkorb is not allowlisted
    allowed(gate, "move_message", {**MOVE, "destination": "Papierkorb"})


def test_delete_message_into_an_allowlisted_trash_is_refused() -> None:
    """With the server's Trash allowlisted, delete_message + expunge would delete anything:
    delete_message is refused (expunge of what is already in Trash still works)."""
    account = AccountConfig(
        name="work",
        address="me@work.example",
        posture=Posture.DESTRUCTIVE,
        folders=FolderSettings(expunge_allowed=("Papierkorb",)),
    )
    gate = Gate(
        [account], InMemoryAuditSink(), clock=FakeClock(), special_folders=lambda _: SPECIAL
    )
    assert refused(gate, "delete_message", MOVE) == "folder_protected"
    allowed(gate, "expunge", {"message_refs": ["work:Papierkorb:1:1"]})


@pytest.mark.parametrize("special", [SPECIAL, list(SPECIAL.values())])
@pytest.mark.parametrize(
    "destination", ["Entwürfe", "Gesendet", "Drafts", "Sent", "SENT", "Dr\u0430fts", "Sent\u200b"]
)
def test_nothing_can_be_moved_into_drafts_or_sent(special: object, destination: str) -> None:
    """Item 5: the server's Drafts and Sent (whatever they are called), the fallback names
    mailguard uses when the server names none, and their look-alikes are refused as move
    destinations, whether the provider gives flags or bare names."""
    if isinstance(special, list) and destination in ("Entwürfe", "Gesendet"):
        # bare names: these are protected special folders, not known to be Drafts/Sent;
        # moving into a protected folder that is not Drafts or Sent stays allowed
        allowed(gate_for(special), "move_message", {**MOVE, "destination": destination})
        return
    assert refused(gate_for(special), "move_message", {**MOVE, "destination": destination}) == (
        "folder_protected"
    )


@given(
    label=st.sampled_from(RESERVED_LABELS).flatmap(
        lambda base: st.sampled_from([base, base.lower(), base.upper(), base + "\u200b"])
    ),
    tool=st.sampled_from(["add_label", "remove_label"]),
)
def test_reserved_keywords_are_refused_in_any_spelling(label: str, tool: str) -> None:
    """Item 5: `$PendingReview` in any case, or with an invisible character, is refused for
    both label tools."""
    assert refused(gate_for(SPECIAL), tool, {**MOVE, "label": label}) == "label_reserved"


def _service(folders: FolderSettings = FOLDERS) -> tuple[MailboxService, InMemoryMailStore]:
    store = InMemoryMailStore("work")  # with Drafts, Sent, Trash, Junk, Archive
    for name in ("Scratch", "Projects", "Archiv"):
        store.add_folder(name)
    account = AccountConfig(name="work", address="me@work.example", folders=folders)
    outgoing = OutgoingService(account, store, None)
    return MailboxService(account, store, outgoing=outgoing), store


def test_the_services_refuse_the_same_without_the_gate() -> None:
    """Defence in depth: called directly, the services apply the gate's own FolderGuard."""
    service, store = _service()
    ref = store.add_message("INBOX", plain_message("Invoice", "pay"))
    with pytest.raises(FolderProtected):
        service.move([ref], "Scratch")
    with pytest.raises(FolderProtected):
        service.move([ref], "Drafts")
    with pytest.raises(FolderProtected):
        service.move([ref], "S\u0435nt")
    with pytest.raises(FolderProtected):
        service.rename_folder("Projects", "Scratch")
    with pytest.raises(FolderProtected):
        service.create_folder("Scr\u0430tch")
    with pytest.raises(LabelReserved):
        service.set_label([ref], "$PendingReview", add=True)
    draft = service.create_draft(OutgoingRequest(to=("bob@example.org",), subject="s", body="b"))
    draft_ref = draft.outcome.ref
    assert draft_ref is not None and str(draft_ref).startswith("work:Drafts:")
    with pytest.raises(LabelReserved):
        service.set_label([draft_ref], "$PendingReview", add=False)
    assert len(service.set_label([ref], "$Todo", add=True).refs) == 1
    assert len(service.move([ref], "Archiv").moved) == 1


def test_list_folders_marks_look_alikes_of_protected_folders_by_the_same_key() -> None:
    """A look-alike some other client created (the guard stops only mailguard) is shown as
    protected, by the same comparison the guard uses (not a plain casefold)."""
    service, store = _service()
    store.add_folder("\u0406nbox")
    store.add_folder("K\u0435ep")
    listed = {f.info.name: f.protected for f in service.list_folders().folders}
    assert listed["\u0406nbox"] is True and listed["K\u0435ep"] is True
    assert listed["Archiv"] is False and listed["Scratch"] is False


def test_one_function_decides_the_folder_key() -> None:
    """The guard's public checks and the config validation agree on a look-alike."""
    guard = FolderGuard(FOLDERS)
    guard.set_special_folders(SPECIAL)
    for name in ("Keep", "K\u0435ep", "KEEP\u2800"):
        assert guard.shadows_protected(name)
        with pytest.raises(FolderProtected):
            check(guard, ToolName.CREATE_FOLDER, {"name": name})
