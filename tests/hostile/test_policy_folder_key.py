"""Issue 12 item 3: look-alike folder names do not get through the folder guard.

The guard compares names by :func:`~mailguard_core.model.folder_names.folder_keys` (a confusable
skeleton after removing default-ignorable code points and combining marks). The generators
here are wider than what the code knows: ignorables, marks and blanks are enumerated from
``unicodedata2`` (categories Cf, Mn, Me, Zs and every ``isspace`` character) as well as from
the ``regex`` Default_Ignorable property the code uses; look-alikes come from every entry of
the confusables data, both directions, not only the direction the code's table keeps.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import pytest
import regex
import unicodedata2
from confusable_homoglyphs import confusables
from hypothesis import given
from hypothesis import strategies as st

from mailguard_core.config import FolderSettings
from mailguard_core.gate.folders import FolderGuard
from mailguard_core.model.errors import ConfigError, FolderProtected
from mailguard_core.model.folder_names import folder_key, folder_keys
from mailguard_core.model.skeleton import prototype_table, skeleton
from mailguard_core.model.tools import ToolName
from mailguard_core.services.dispatch import describe


def check(g: FolderGuard, tool: ToolName, arguments: Mapping[str, Any]) -> None:
    """The folder check of a call with these JSON arguments, read as the gate reads them
    (a malformed value is the request's ``invalid``, raised first)."""
    request = describe(tool.value, "w", arguments)
    if request.invalid is not None:
        raise request.invalid
    g.check(request)


SPECIAL = {"\\Drafts": "Drafts", "\\Sent": "Sent", "\\Trash": "Trash", "\\Junk": "Junk"}
PROTECTED = ("INBOX", "Drafts", "Sent", "Trash", "Junk", "Keep")
#: the 11 names the attack created (issue 12, item 3)
ATTACK_NAMES = {
    "Sent\u034f": "Sent",  # COMBINING GRAPHEME JOINER
    "Sent\ufe0f": "Sent",  # VARIATION SELECTOR-16
    "Sent\u3164": "Sent",  # HANGUL FILLER
    "Sent\u115f": "Sent",  # HANGUL CHOSEONG FILLER
    "Sent\u2800": "Sent",  # BRAILLE PATTERN BLANK
    "\u0406nbox": "INBOX",  # Cyrillic І
    "Tr\u0430sh": "Trash",  # Cyrillic а
    "S\u0435nt": "Sent",  # Cyrillic е
    "K\u0435ep": "Keep",  # Cyrillic е, a configured protected folder
    "\u0130nbox": "INBOX",  # Latin İ (dotted capital I)
    "D\u0336rafts": "Drafts",  # COMBINING LONG STROKE OVERLAY
}
#: legitimate non-ASCII names: none may collide with a protected folder
LEGITIMATE = (
    "Входящие архив",
    "Проекты",
    "Черновики старые",
    "仕事",
    "受信トレイ2",
    "보관함",
    "Café Reçus",
    "Entwürfe",
    "Überweisungen",
    "Ελληνικά",
    "Rechnungen 2026",
    "Sent items archive",
    "Projects/Keep-old",
)


def guard() -> FolderGuard:
    g = FolderGuard(FolderSettings(protected=("Keep",), expunge_allowed=("Scratch",)))
    g.set_special_folders(SPECIAL)
    return g


_DI = regex.compile(r"\p{Default_Ignorable_Code_Point}")
INVISIBLE: list[str] = []  # format characters, marks, default-ignorables (two sources)
BLANKS: list[str] = ["\u2800"]  # every space character, and the Braille blank
_NFKC_TIES: list[tuple[str, str]] = []  # (character, its NFKC form) where they differ
for _code in range(sys.maxunicode + 1):
    _ch = chr(_code)
    if unicodedata2.category(_ch) in ("Cf", "Mn", "Me") or _DI.match(_ch):
        INVISIBLE.append(_ch)
    if _ch.isspace():
        BLANKS.append(_ch)
    _folded = unicodedata2.normalize("NFKC", _ch)
    if _folded != _ch and len(_folded) == 1:
        _NFKC_TIES.append((_ch, _folded))


def _confusable_pairs() -> list[tuple[str, str]]:
    marks = regex.compile(r"[\p{Mn}\p{Me}]")
    pairs = []
    for key, entries in confusables.confusables_data.items():
        a = key.replace("\u200e", "").replace("\u200f", "")
        for entry in entries:
            b = str(entry["c"]).replace("\u200e", "").replace("\u200f", "")
            involved = unicodedata2.normalize("NFD", a + b)
            if not marks.search(involved):
                pairs.append((a, b))
    return pairs


PAIRS = _confusable_pairs()


def _lookalikes() -> Mapping[str, list[str]]:
    """For each character of the protected names: every character the data calls
    confusable with it, in either direction, and every character that NFKC-folds to it."""
    wanted = {ch for name in PROTECTED for ch in name + name.lower() + name.upper()}
    found: dict[str, set[str]] = {ch: set() for ch in wanted}
    for a, b in PAIRS:
        if len(a) == 1 and len(b) == 1:
            if a in found:
                found[a].add(b)
            if b in found:
                found[b].add(a)
    in_data = {ch for pair in PAIRS for ch in pair if len(ch) == 1}
    for ch, folded in _NFKC_TIES:
        # a character the data calls confusable is taken by how it looks (U+017F long s
        # folds to s but looks like f), so only the data's pairs use it
        if folded in found and ch not in in_data:
            found[folded].add(ch)
    return {ch: sorted(alts) for ch, alts in found.items() if alts}


LOOKALIKES = _lookalikes()


@pytest.mark.parametrize(("name", "imitated"), ATTACK_NAMES.items())
def test_every_attack_name_is_refused_for_create_and_rename(name: str, imitated: str) -> None:
    """Each name the attack created collides with the folder it imitates: create_folder
    and rename_folder onto it are refused, and its key is the imitated folder's key."""
    g = guard()
    assert not folder_keys(name).isdisjoint(folder_keys(imitated))
    with pytest.raises(FolderProtected):
        check(g, ToolName.CREATE_FOLDER, {"name": name})
    with pytest.raises(FolderProtected):
        check(g, ToolName.RENAME_FOLDER, {"folder": "Projects", "new_name": name})


@pytest.mark.parametrize("name", LEGITIMATE)
def test_legitimate_non_ascii_names_pass(name: str) -> None:
    """Cyrillic, CJK, Korean, Greek and accented Latin names that imitate nothing can be
    created and renamed to."""
    g = guard()
    check(g, ToolName.CREATE_FOLDER, {"name": name})
    check(g, ToolName.RENAME_FOLDER, {"folder": "Projects", "new_name": name})
    check(g, ToolName.MOVE_MESSAGE, {"message_refs": ["w:INBOX:1:1"], "destination": name})


def test_every_confusable_pair_of_the_data_collides() -> None:
    """The table recovered from the package data, checked against all of the data: for
    every `a <-> b` entry (both directions) the two sides' folder keys meet, except where a
    combining mark is involved (marks are removed before mapping, by design)."""
    assert len(PAIRS) > 11_000  # of 12,614 entries; the rest involve a combining mark
    misses = [(a, b) for a, b in PAIRS if folder_keys(a).isdisjoint(folder_keys(b))]
    assert misses == []
    unfolded = [(a, b) for a, b in PAIRS if skeleton(a, fold=False) != skeleton(b, fold=False)]
    assert unfolded == []


def test_the_recovered_table_maps_single_sources_to_stable_prototypes() -> None:
    """Every table entry is a single character mapping to a prototype with the same
    skeleton (the mapping is idempotent where it matters), except sources with a combining
    mark, which is removed before the mapping (ả is a, not the hook-above prototype)."""
    marks = regex.compile(r"[\p{Mn}\p{Me}]")
    table = prototype_table()
    assert len(table) > 6000
    assert all(len(source) == 1 for source in table)
    assert table["\u0430"] == "a" and table["\u0406"] == "l" and table["m"] == "rn"
    drifting = [
        s
        for s, p in table.items()
        if skeleton(p, fold=False) != skeleton(s, fold=False)
        and not marks.search(unicodedata2.normalize("NFD", s + p))
    ]
    assert drifting == []


@given(
    name=st.sampled_from(PROTECTED),
    inserts=st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from(INVISIBLE)), min_size=1, max_size=4
    ),
)
def test_invisible_characters_anywhere_collide(name: str, inserts: list[tuple[int, str]]) -> None:
    """A protected name with default-ignorable characters, format characters or combining
    marks (from the whole code space) inserted anywhere is refused."""
    text = name
    for position, ch in inserts:
        at = position % (len(text) + 1)
        text = text[:at] + ch + text[at:]
    with pytest.raises(FolderProtected):
        check(guard(), ToolName.CREATE_FOLDER, {"name": text})


@given(
    name=st.sampled_from(PROTECTED),
    before=st.lists(st.sampled_from(BLANKS), max_size=3),
    after=st.lists(st.sampled_from(BLANKS), min_size=1, max_size=3),
)
def test_blanks_around_a_name_collide(name: str, before: list[str], after: list[str]) -> None:
    """Leading and trailing blanks of every kind (all White_Space, U+2800) change nothing."""
    text = "".join(before) + name + "".join(after)
    with pytest.raises(FolderProtected):
        check(guard(), ToolName.CREATE_FOLDER, {"name": text})


@given(data=st.data(), name=st.sampled_from(PROTECTED))
def test_look_alike_letters_collide(data: st.DataObject, name: str) -> None:
    """Any letters replaced by any character the confusables data (either direction) or
    NFKC ties to them, in any case, still collide (the shapes of the case variants are
    compared too)."""
    shape = data.draw(st.sampled_from([name, name.lower(), name.upper(), name.capitalize()]))
    letters = list(shape)
    for index in data.draw(st.sets(st.integers(0, len(letters) - 1), min_size=1)):
        alternatives = LOOKALIKES.get(letters[index])
        if alternatives:
            letters[index] = data.draw(st.sampled_from(alternatives))
    text = "".join(letters)
    with pytest.raises(FolderProtected):
        check(guard(), ToolName.CREATE_FOLDER, {"name": text})


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12))
def test_the_key_is_stable_and_total(name: str) -> None:
    """Any text has a key, the same every time, and the key of the key is the key (so a
    name cannot be built that collides with itself only sometimes)."""
    assert folder_key(name) == folder_key(name)
    assert folder_key(folder_key(name)) == folder_key(name)


def test_config_refuses_a_look_alike_of_inbox_on_the_allowlist() -> None:
    """The configuration's folder lists use the same keys: a Cyrillic `Іnbox` (or `lnbox`,
    which looks like `Inbox`) cannot be allowlisted for permanent deletion."""
    for name in ("\u0406nbox", "lnbox", "I\u200bNBOX"):
        with pytest.raises(ConfigError, match="INBOX is always protected"):
            FolderGuard(FolderSettings(expunge_allowed=(name,)))
    with pytest.raises(ConfigError, match="also in protected"):
        FolderGuard(FolderSettings(protected=("Keep",), expunge_allowed=("K\u0435ep",)))
