"""How folder and label names are compared: one rule for configuration, the gate and the
services.

Names are compared by their confusable skeleton (:func:`folder_key`), so that a look-alike
spelling of INBOX, of a protected folder or of a reserved keyword is the same name.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from mailguard_core.model.compose import DRAFT_FLAGS


def folder_key(name: str) -> str:
    """The case-insensitive comparison key of a folder name: its confusable skeleton
    (:func:`~mailguard_core.model.skeleton.skeleton`: NFKC, case folding, no default-ignorable code
    points or combining marks, look-alike characters mapped to one prototype, blanks collapsed
    and trimmed). ``ＩＮＢＯＸ``, ``Іnbox`` (Cyrillic І), ``İnbox``, ``Sent\u034f`` and
    ``D\u0336rafts`` get the key of ``INBOX``, ``Sent`` and ``Drafts``."""
    from mailguard_core.model.skeleton import skeleton  # its tables load on first use

    return skeleton(name)


def folder_keys(name: str) -> frozenset[str]:
    """Every key a folder name is compared by; two names collide when their sets meet.

    :func:`folder_key`, plus the case-*preserving* skeletons of the name as written, in lower
    and upper case and capitalised (marked with a leading NUL so they never meet a folded key):
    capital ``I`` and small ``l`` are confusable while small ``i`` is not, so ``lnbox`` meets
    ``Inbox`` (how clients show INBOX) only there.
    """
    from mailguard_core.model.skeleton import skeleton

    shapes = {name, name.lower(), name.upper(), name.capitalize()}
    return frozenset({folder_key(name)} | {"\0" + skeleton(s, fold=False) for s in shapes})


def folder_keys_of(names: Iterable[str]) -> frozenset[str]:
    """The union of :func:`folder_keys` of ``names``."""
    return frozenset(key for name in names for key in folder_keys(name))


def is_or_holds(name: str, keys: frozenset[str]) -> bool:
    """Whether ``name`` collides with a folder of ``keys`` or is an ancestor of one (``/`` or
    ``.`` as the hierarchy delimiter), so that renaming it, or renaming a folder *to* it,
    would move that folder."""
    mine = folder_keys(name)
    return not mine.isdisjoint(keys) or any(
        other.startswith(key + delimiter)
        for key in mine
        for other in keys
        for delimiter in FOLDER_DELIMITERS
    )


#: INBOX as the server names it and as clients show it
INBOX_NAMES = ("INBOX", "Inbox")
#: hierarchy delimiters servers commonly use; a name is checked against each
FOLDER_DELIMITERS = ("/", ".")
#: special-use flag -> the folder name mailguard's drafts and sent copies use when the server
#: announces none (``outgoing.py``); moves into these (and the announced ones) are refused
OUTGOING_FOLDERS = {"\\Drafts": "Drafts", "\\Sent": "Sent"}
#: the keywords mailguard's drafts rely on (the ``$`` keywords of ``DRAFT_FLAGS``):
#: ``add_label``/``remove_label`` refuse them and their look-alikes (compared by
#: :func:`folder_key`); the system flags (``\\Draft``) are refused as labels anyway
RESERVED_LABELS = tuple(flag for flag in DRAFT_FLAGS if flag.startswith("$"))


def is_reserved_label(label: str) -> bool:
    """Whether ``label`` is, or looks like, a keyword of :data:`RESERVED_LABELS`."""
    return folder_key(label) in _reserved_label_keys()


@functools.cache
def _reserved_label_keys() -> frozenset[str]:
    return frozenset(folder_key(label) for label in RESERVED_LABELS)
