"""The search AST: compiling to IMAP arguments, parsing raw expressions, cursor paging."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.model.errors import InputError, InvalidCursorError, InvalidSearchError
from mailguard_core.model.values import SearchCriteria
from mailguard_core.search.cursor import (
    CursorState,
    decode_cursor,
    encode_cursor,
    page_uids,
    validate_limit,
)
from mailguard_core.search.query import (
    And,
    Key,
    Not,
    Or,
    criteria_to_node,
    parse_expression,
    to_imap_args,
)


def test_structured_criteria_compile_to_quoted_ascii_arguments() -> None:
    """Each criterion becomes its IMAP key with a quoted string; no CHARSET for ASCII."""
    node = criteria_to_node(
        SearchCriteria(
            from_="ann@example.org",
            subject='say "hi" \\o/',
            since=dt.date(2026, 1, 5),
            seen=False,
            has_attachment=False,
        )
    )
    args, utf8 = to_imap_args(node)
    assert args == [
        b"FROM",
        b'"ann@example.org"',
        b"SUBJECT",
        b'"say \\"hi\\" \\\\o/"',
        b"SINCE",
        b"5-Jan-2026",
        b"UNSEEN",
        b"NOT",
        b"HEADER",
        b'"Content-Type"',
        b'"multipart/mixed"',
    ]
    assert utf8 is False


def test_empty_criteria_match_everything() -> None:
    """No criteria compile to ALL."""
    assert to_imap_args(criteria_to_node(SearchCriteria())) == ([b"ALL"], False)


def test_non_ascii_terms_are_raw_utf8_items_that_need_charset() -> None:
    """A non-ASCII term stays unquoted UTF-8 (imapclient sends it as a literal)."""
    args, utf8 = to_imap_args(criteria_to_node(SearchCriteria(text="Grüße")))
    assert args == [b"TEXT", "Grüße".encode()]
    assert utf8 is True


def test_a_group_ending_in_a_literal_is_closed_after_a_neutral_all() -> None:
    """')' cannot follow a literal, so 'ALL' (no-op under AND) closes the group."""
    args, _ = to_imap_args(parse_expression('NOT (FROM x SUBJECT "wörld")'))
    assert args == [b"NOT", b"(FROM", b'"x"', b"SUBJECT", "wörld".encode(), b"ALL)"]


def test_raw_expressions_parse_into_the_ast() -> None:
    """Keys are case-insensitive; OR/NOT/parentheses build the tree; dates parse both ways."""
    node = parse_expression('or from a (subject "b c" since 2026-02-01) not seen')
    assert node == And(
        (
            Or(
                Key("FROM", ("a",)),
                And((Key("SUBJECT", ("b c",)), Key("SINCE", (dt.date(2026, 2, 1),)))),
            ),
            Not(Key("SEEN")),
        )
    )
    assert parse_expression("SINCE 1-Feb-2026") == Key("SINCE", (dt.date(2026, 2, 1),))


@pytest.mark.parametrize(
    "expression",
    [
        "FROM {3}",
        "FROM x\r\nA1 LOGOUT",
        "FROM x\x00",
        "UID 1:2;DROP",
        "KEYWORD \\Seen",
        "HEADER Bad:Name x",
        "LARGER ten",
        "SINCE 2026-13-40",
        "(" * 12 + "ALL" + ")" * 12,
        "ALL " * 201,
        "X" * 1001,
        "RECENT",
        ")",
    ],
)
def test_raw_expressions_outside_the_grammar_are_refused(expression: str) -> None:
    """Literals, controls, bad arguments, unknown keys and over-limit input are refused."""
    with pytest.raises(InvalidSearchError):
        parse_expression(expression)


@settings(max_examples=150, deadline=None)
@given(
    st.text(min_size=1, max_size=60).filter(
        lambda t: not any(ord(c) < 32 or ord(c) == 127 for c in t)
    )
)
def test_any_term_round_trips_as_one_quoted_string_or_one_literal(term: str) -> None:
    """Whatever the term, it becomes exactly one argument that decodes back to itself."""
    args, utf8 = to_imap_args(criteria_to_node(SearchCriteria(subject=term)))
    assert args[0] == b"SUBJECT" and len(args) == 2
    item = args[1]
    if term.isascii():
        assert not utf8 and item.startswith(b'"') and item.endswith(b'"')
        inner = item[1:-1]
        assert inner.replace(b'\\"', b"").replace(b"\\\\", b"").count(b'"') == 0
        assert inner.replace(b'\\"', b'"').replace(b"\\\\", b"\\") == term.encode()
    else:
        assert utf8 and item == term.encode()
    assert b"\r" not in item and b"\n" not in item


def _state(**kw: object) -> CursorState:
    base = {
        "account": "a",
        "folder": "INBOX",
        "uidvalidity": 5,
        "query": "q",
        "high_uid": 10,
        "below_uid": 7,
        "total": 9,
    }
    base.update(kw)
    return CursorState(**base)  # type: ignore[arg-type]


def test_a_cursor_round_trips_only_for_its_own_account_folder_and_query() -> None:
    """decode(encode(s)) == s; any other account, folder or query is refused."""
    cursor = encode_cursor(_state())
    assert decode_cursor(cursor, account="a", folder="INBOX", query="q") == _state()
    for account, folder, query in (("b", "INBOX", "q"), ("a", "Sent", "q"), ("a", "INBOX", "r")):
        with pytest.raises(InvalidCursorError):
            decode_cursor(cursor, account=account, folder=folder, query=query)


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_an_edited_cursor_is_refused(position: int) -> None:
    """Changing any character breaks the signature."""
    cursor = encode_cursor(_state())
    chars = list(cursor)
    chars[position] = "A" if chars[position] != "A" else "B"
    with pytest.raises(InvalidCursorError):
        decode_cursor("".join(chars), account="a", folder="INBOX", query="q")


def test_paging_continues_below_the_last_uid_and_ignores_new_arrivals() -> None:
    """Page 2 holds uids below page 1's last; uids above the first page's high are new mail."""
    page, cursor, total = page_uids(
        [1, 3, 5, 7, 9], limit=2, state=None, account="a", folder="F", uidvalidity=1, query="q"
    )
    assert (list(page), total) == ([9, 7], 5)
    assert cursor is not None
    state = decode_cursor(cursor, account="a", folder="F", query="q")
    page2, cursor2, total2 = page_uids(
        [1, 3, 5, 7, 9, 11, 12],
        limit=5,
        state=state,
        account="a",
        folder="F",
        uidvalidity=1,
        query="q",
    )
    assert (list(page2), cursor2, total2) == ([5, 3, 1], None, 5)


def test_paging_refuses_a_cursor_after_a_uidvalidity_change() -> None:
    """The folder was renumbered since the first page: InvalidCursorError."""
    with pytest.raises(InvalidCursorError):
        page_uids(
            [1],
            limit=1,
            state=_state(uidvalidity=4),
            account="a",
            folder="INBOX",
            uidvalidity=5,
            query="q",
        )


@pytest.mark.parametrize("limit", [0, -3, 501, True, 2.5])
def test_page_sizes_out_of_range_are_refused(limit: object) -> None:
    """limit must be an int in 1..500."""
    with pytest.raises(InputError):
        validate_limit(limit)  # type: ignore[arg-type]
