"""page_uids' fast path for a SEARCH answer (a list of strictly rising UIDs) pages exactly as
the general path (a set and a sort) does, first page and every later one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailguard_core.search.cursor import decode_cursor, page_uids

ARGS = {"account": "a", "folder": "F", "uidvalidity": 7, "query": "q"}


@given(
    st.lists(st.integers(min_value=1, max_value=400), max_size=120),
    st.integers(min_value=1, max_value=25),
    st.booleans(),
)
def test_rising_lists_page_as_any_iterable_does(uids: list[int], limit: int, ordered: bool) -> None:
    matching = sorted(set(uids)) if ordered else uids  # rising (fast path) or not
    state = None
    for _ in range(200):
        fast = page_uids(matching, limit=limit, state=state, **ARGS)
        slow = page_uids(iter(matching), limit=limit, state=state, **ARGS)  # never the fast path
        assert fast == slow
        _page, cursor, _total = fast
        if cursor is None:
            break
        state = decode_cursor(cursor, account="a", folder="F", query="q")
    else:
        raise AssertionError("paging did not end")
