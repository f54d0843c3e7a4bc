"""Fast spellings of slow stdlib or regex steps give exactly the slow step's result."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.sanitize.body import URL_RE

#: the plain spelling URL_RE replaces (IGNORECASE folds U+017F to ``s``)
_REFERENCE_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.I)
_URLISH = st.lists(
    st.sampled_from([*"hHtTpPsSwW:/.ſ xy\n\u00a0\u2028é", "http", "HTTPS", "www.", "://"]),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_URLISH, st.text(max_size=20)), max_size=8).map("".join))
def test_url_pattern_matches_its_ignorecase_spelling(text: str) -> None:
    assert URL_RE.sub(" ", text) == _REFERENCE_URL_RE.sub(" ", text)


def test_url_pattern_cases() -> None:
    text = "a HTTPS://x.org/p b www.Example.org c httpſ://long-s d WwW.y e http:/no f xwww.z"
    assert URL_RE.sub(" ", text) == "a   b   c   d   e http:/no f x "
    assert _REFERENCE_URL_RE.sub(" ", text) == URL_RE.sub(" ", text)
