"""MessageRef parsing and the Secret type."""

from __future__ import annotations

import pytest

from mailguard_core.model.errors import InputError
from mailguard_core.model.values import MessageRef
from mailguard_core.ports import Secret


def test_ref_round_trips_through_its_text_form() -> None:
    """str() then parse() gives the same ref."""
    ref = MessageRef(account="work", folder="INBOX", uidvalidity=17, uid=4182)
    assert str(ref) == "work:INBOX:17:4182"
    assert MessageRef.parse(str(ref)) == ref


def test_ref_folder_may_contain_colons() -> None:
    """The folder is parsed from the right, so ':' inside it survives."""
    ref = MessageRef.parse("work:Projects:2024:Q1:9:12")
    assert (ref.account, ref.folder) == ("work", "Projects:2024:Q1")
    assert (ref.uidvalidity, ref.uid) == (9, 12)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "work",
        "work:INBOX",
        "work:INBOX:1",
        "work::1:2",
        "work:INBOX:x:2",
        "work:INBOX:1:0",
        "bad account:INBOX:1:2",
        "work:INBOX:1:²",
        "work:INBOX:-1:2",
    ],
)
def test_malformed_refs_are_input_errors(text: str) -> None:
    """Anything that is not account:folder:uidvalidity:uid is refused with InputError."""
    with pytest.raises(InputError):
        MessageRef.parse(text)


def test_secret_never_shows_its_value() -> None:
    """repr, str, format and f-strings hide the value; reveal() returns it."""
    s = Secret("hunter2")
    for shown in (repr(s), str(s), f"{s}", f"{s!r}", str([s])):
        assert "hunter2" not in shown
    assert s.reveal() == "hunter2"
