"""ESEARCH (RFC 4731) in the IMAP adapter: a strict parser of server input, paging without
naming every UID, and the same pages and cursors as the plain SEARCH path.

- the sequence-set / ESEARCH parser accepts what ``UID SEARCH RETURN (ALL)`` can get back and
  raises ``MalformedAnswer`` for everything else (hostile inputs: huge and reversed ranges,
  ``*``, garbage, unrequested data, a foreign correlator, several answers, a literal); it is
  total over arbitrary bytes and never expands a range;
- ``UidSet`` pages exactly as the list of its UIDs does (first page and every later one);
- a malformed answer through the store is a typed ``OutOfStep`` (connection dropped, not
  counted), a bug of ours in the parser is not mapped; on the wire (a scripted loopback
  server, through the real imaplib/imapclient): another command's tag, ``*``, a plain SEARCH
  answer, none, two, a literal, sequence numbers, and a stale answer left by a refused search;
- against the real Dovecot (which advertises ESEARCH): for random criteria over folders with
  gaps, the ESEARCH path and the plain path give identical pages, totals and cursors (so a
  cursor from one path pages on the other: it is the same string).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imapclient import IMAPClient  # type: ignore[import-untyped]

from mailguard_core.adapters import imap_session, imapclient_private
from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.adapters.imap_errors import MalformedAnswer, OutOfStep, answer_errors
from mailguard_core.adapters.imap_esearch import (
    MAX_ANSWER_BYTES,
    parse_esearch,
    parse_sequence_set,
)
from mailguard_core.config import ImapSettings
from mailguard_core.model.errors import UnreadableResponse
from mailguard_core.model.values import SearchCriteria, SearchPage
from mailguard_core.ports.secrets import Secret
from mailguard_core.search.cursor import decode_cursor, page_uids
from mailguard_core.search.uidset import MAX_UID, UidSet
from tests.support.dovecot import DovecotServer
from tests.support.fake_imap import FakeSession, fake_imap_store

TAG = b"KDFH12"


def _answer(data: bytes) -> UidSet:
    return parse_esearch([data], tag=TAG)


# ---------------------------------------------------------------- the parser: what it accepts
@pytest.mark.parametrize(
    ("data", "ranges"),
    [
        (b'(TAG "KDFH12") UID ALL 1:100000', ((1, 100000),)),
        (b'(TAG "KDFH12") UID', ()),  # nothing matched: ALL is omitted (RFC 4731)
        (b"UID ALL 4,2,3", ((2, 4),)),  # no correlator: allowed (one answer came)
        (b'(tag "KDFH12") uid all 7', ((7, 7),)),  # IMAP keywords are case-insensitive
        (b'(TAG "KDFH12") UID ALL 10:8,1', ((1, 1), (8, 10))),  # 10:8 is 8:10 (RFC 3501)
        (b'(TAG "KDFH12") UID ALL 5:9,1:6,20,21', ((1, 9), (20, 21))),  # overlaps merge
        (b"UID ALL 4294967295", ((MAX_UID, MAX_UID),)),
    ],
)
def test_well_formed_answers(data: bytes, ranges: tuple[tuple[int, int], ...]) -> None:
    assert _answer(data).ranges == ranges


def test_a_huge_range_is_two_numbers_and_pages_in_constant_time() -> None:
    """``1:4294967295`` would be 32 GB of ints if it were expanded; paging it costs a page."""
    uids = _answer(b'(TAG "KDFH12") UID ALL 4294967295:1')
    assert uids.count == MAX_UID and uids.highest == MAX_UID
    args = {"account": "a", "folder": "F", "uidvalidity": 7, "query": "q"}
    page, cursor, total = page_uids(uids, limit=3, state=None, **args)
    assert list(page) == [MAX_UID, MAX_UID - 1, MAX_UID - 2] and total == MAX_UID
    assert cursor is not None
    state = decode_cursor(cursor, account="a", folder="F", query="q")
    page2, _c, total2 = page_uids(uids, limit=2, state=state, **args)
    assert list(page2) == [MAX_UID - 3, MAX_UID - 4] and total2 == MAX_UID


HOSTILE = [
    b'(TAG "KDFH12") UID ALL 1:*',  # '*' is no UID
    b'(TAG "KDFH12") UID ALL *',
    b'(TAG "KDFH12") UID ALL 0',  # nz-number
    b'(TAG "KDFH12") UID ALL 0:5',
    b'(TAG "KDFH12") UID ALL 01',  # leading zero
    b'(TAG "KDFH12") UID ALL 4294967296',  # over 32 bits
    b'(TAG "KDFH12") UID ALL 99999999999',  # 11 digits: no int() of a long number
    b'(TAG "KDFH12") UID ALL ' + b"9" * 5000,  # a number longer than Python converts
    b'(TAG "KDFH12") UID ALL 1,,2',
    b'(TAG "KDFH12") UID ALL 1,2,',
    b'(TAG "KDFH12") UID ALL ,1',
    b'(TAG "KDFH12") UID ALL 1::2',
    b'(TAG "KDFH12") UID ALL 1:2:3',
    b'(TAG "KDFH12") UID ALL -1',
    b'(TAG "KDFH12") UID ALL 1 2',  # a plain SEARCH list is not a sequence set
    b'(TAG "KDFH12") UID ALL 1:3 ',  # trailing space
    b'(TAG "KDFH12") UID ALL',  # ALL without its set
    b'(TAG "KDFH12") UID ALL 1:3 ALL 5',  # twice
    b'(TAG "KDFH12") UID COUNT 3',  # data not asked for
    b'(TAG "KDFH12") UID MIN 1 MAX 3',
    b'(TAG "KDFH12") UID ALL 1:3 MODSEQ 5',
    b'(TAG "KDFH12") ALL 1:3',  # message sequence numbers, not UIDs
    b'(TAG "OTHER1") UID ALL 1:3',  # another command's answer
    b'(TAG "KDFH12")UID ALL 1:3',
    b"(TAG KDFH12) UID ALL 1:3",
    b'(TAG "KDFH12" UID ALL 1:3',
    b"( UID ALL 1:3",
    b"",
    b"UID  ALL 1:3",
    b"\x00\xff garbage",
    b'(TAG "KDFH12") UID ALL \xd9\xa1',  # a non-ASCII digit
    b'(TAG "KDFH12") UID ALL ' + b"1," * (MAX_ANSWER_BYTES // 2) + b"1",  # over the bound
]


@pytest.mark.parametrize("data", HOSTILE, ids=lambda d: repr(d[:40]))
def test_hostile_answers_are_a_typed_error(data: bytes) -> None:
    with pytest.raises(MalformedAnswer):
        _answer(data)


@pytest.mark.parametrize(
    "responses",
    [
        [None],  # no ESEARCH came (a server that answered with a plain SEARCH)
        [],
        [b"UID ALL 1", b"UID ALL 2"],  # two answers: which one is ours?
        [(b'(TAG "KDFH12") UID ALL {3}', b"1:3")],  # a literal (imaplib's tuple)
        ["UID ALL 1"],  # not bytes
    ],
    ids=repr,
)
def test_anything_but_one_answer_line_is_a_typed_error(responses: list[Any]) -> None:
    with pytest.raises(MalformedAnswer):
        parse_esearch(responses, tag=TAG)


@given(st.binary(max_size=200), st.booleans())
def test_the_parser_is_total_over_arbitrary_bytes(junk: bytes, prefixed: bool) -> None:
    data = b'(TAG "KDFH12") UID ALL ' + junk if prefixed else junk
    try:
        uids = _answer(data)
    except MalformedAnswer:
        return
    assert all(1 <= lo <= hi <= MAX_UID for lo, hi in uids.ranges)


# ---------------------------------------------------------------- the set and its pages
@st.composite
def _encoded(draw: st.DrawFn) -> tuple[list[int], bytes]:
    """A set of UIDs and one of its many sequence-set spellings (runs split, reversed,
    repeated, overlapping, in any order)."""
    uids = sorted(draw(st.sets(st.integers(1, 300), max_size=80)))
    items: list[bytes] = []
    i = 0
    while i < len(uids):
        j = i
        limit = draw(st.integers(0, 12))
        while j + 1 < len(uids) and uids[j + 1] == uids[j] + 1 and j - i < limit:
            j += 1
        lo, hi = uids[i], uids[j]
        if lo == hi and draw(st.booleans()):
            items.append(b"%d" % lo)
        else:
            a, b = (hi, lo) if draw(st.booleans()) else (lo, hi)
            items.append(b"%d:%d" % (a, b))
        if draw(st.integers(0, 5)) == 0:
            items.append(items[-1])  # said twice
        i = j + 1
    order = draw(st.permutations(items)) if items else []
    return uids, b",".join(order)


@given(_encoded(), st.integers(1, 400), st.integers(0, 30))
def test_a_uid_set_is_the_set_its_spelling_names(
    case: tuple[list[int], bytes], at_most: int, n: int
) -> None:
    uids, spelling = case
    parsed = parse_sequence_set(spelling) if spelling else UidSet()
    assert parsed.count == len(uids) and parsed.highest == (uids[-1] if uids else 0)
    assert all(u in parsed for u in uids)
    assert not any(u in parsed for u in range(302) if u not in uids)
    expected = sorted((u for u in uids if u <= at_most), reverse=True)[:n]
    assert parsed.top(n, at_most=at_most) == expected
    assert parsed == UidSet((u, u) for u in uids)


@given(_encoded(), st.integers(1, 25))
def test_a_uid_set_pages_as_the_list_of_its_uids(case: tuple[list[int], bytes], limit: int) -> None:
    uids, spelling = case
    parsed = parse_sequence_set(spelling) if spelling else UidSet()
    args = {"account": "a", "folder": "F", "uidvalidity": 7, "query": "q"}
    state = None
    for _ in range(400):
        below = state.below_uid if state is not None else None
        # the plain path's server narrows page 2+ to UIDs below the last one served (UID 1:n)
        listed = [u for u in uids if below is None or u < below]
        ranged = parsed if below is None else UidSet(r for r in parsed.ranges if r[0] < below)
        expected = page_uids(listed, limit=limit, state=state, **args)
        assert page_uids(ranged, limit=limit, state=state, **args) == expected
        assert page_uids(parsed, limit=limit, state=state, **args) == expected  # not narrowed
        cursor = expected[1]
        if cursor is None:
            break
        state = decode_cursor(cursor, account="a", folder="F", query="q")
    else:
        raise AssertionError("paging did not end")


@pytest.mark.parametrize("bad", [0, -1, MAX_UID + 1, True, 1.0, "1"])
def test_a_uid_set_refuses_what_is_no_uid(bad: Any) -> None:
    with pytest.raises(ValueError):
        UidSet([(1, bad)])


# ---------------------------------------------------------------- through the store
class _EsearchSession(FakeSession):
    """A fake session of a server that advertises ESEARCH."""

    CAPABILITIES = (b"IMAP4REV1", b"UIDPLUS", b"ESEARCH")


@pytest.fixture
def fake_store() -> Iterator[tuple[ImapMailStore, list[_EsearchSession]]]:
    yield from fake_imap_store(_EsearchSession)


def _answering(*responses: Any) -> Callable[[Any, Any], tuple[bytes, list[Any]]]:
    def uid_esearch(client: Any, args: Any) -> tuple[bytes, list[Any]]:
        return TAG, list(responses)

    return uid_esearch


def test_through_the_store_an_answer_pages(
    fake_store: tuple[ImapMailStore, list[_EsearchSession]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _made = fake_store
    monkeypatch.setattr(imapclient_private, "uid_esearch", _answering(b"UID ALL 1:100000"))
    page = store.search("INBOX", SearchCriteria(), limit=3)
    assert [r.uid for r in page.refs] == [100000, 99999, 99998] and page.total == 100000


@pytest.mark.parametrize("responses", [[b"UID ALL 1:*"], [None], [b"UID ALL 1", b"UID ALL 2"]])
def test_through_the_store_a_malformed_answer_is_out_of_step_and_drops_the_connection(
    fake_store: tuple[ImapMailStore, list[_EsearchSession]],
    monkeypatch: pytest.MonkeyPatch,
    responses: list[Any],
) -> None:
    store, made = fake_store
    monkeypatch.setattr(imapclient_private, "uid_esearch", _answering(*responses))
    with pytest.raises(OutOfStep) as caught:
        store.search("INBOX", SearchCriteria(), limit=3)
    assert isinstance(caught.value, UnreadableResponse) and caught.value.breaker is None
    assert isinstance(caught.value.__cause__, MalformedAnswer)
    assert "shutdown" in made[0].calls  # never reused: it is not trusted to be in step
    monkeypatch.setattr(imapclient_private, "uid_esearch", _answering(b"UID ALL 3"))
    assert [r.uid for r in store.search("INBOX", SearchCriteria(), limit=3).refs] == [3]
    assert len(made) == 2


def test_a_bug_in_the_parser_is_not_mapped(
    fake_store: tuple[ImapMailStore, list[_EsearchSession]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, made = fake_store
    monkeypatch.setattr(imapclient_private, "uid_esearch", _answering(b"UID ALL 1"))

    def broken(responses: Any, *, tag: bytes) -> UidSet:
        raise ValueError("a bug of ours")

    monkeypatch.setattr(imap_session, "parse_esearch", broken)
    with pytest.raises(ValueError, match="a bug of ours"):
        store.search("INBOX", SearchCriteria(), limit=3)
    assert "shutdown" not in made[0].calls


def test_answer_errors_maps_only_malformed_answers() -> None:
    with pytest.raises(OutOfStep), answer_errors("search"):
        raise MalformedAnswer("x")
    with pytest.raises(ValueError), answer_errors("search"):
        raise ValueError("x")


# ---------------------------------------------------------------- differential, on Dovecot
class _NoEsearch(IMAPClient):  # type: ignore[misc]
    """imapclient against a server that (as far as the adapter can tell) lacks ESEARCH."""

    def capabilities(self) -> tuple[bytes, ...]:
        return tuple(c for c in super().capabilities() if c != b"ESEARCH")


SUBJECTS = ("invoice", "lunch", "Grüße", "report", "Ärger im Büro")
WORDS = ("alpha", "zeta", "body", "Straße")
FOLDERS = ("INBOX", "Sparse", "Empty")


def _message(rng: random.Random, n: int) -> bytes:
    subject = f"{rng.choice(SUBJECTS)} {n}"
    head = f"From: s{n % 3}@example.org\r\nTo: t{n % 2}@example.net\r\nSubject: {subject}\r\n"
    body = f"{rng.choice(WORDS)} {n}\r\n"
    if rng.random() < 0.2:
        return (
            f'{head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}--b\r\n"
            "Content-Type: application/octet-stream\r\n\r\nAAAA\r\n--b--\r\n"
        ).encode()
    return f"{head}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}".encode()


@pytest.fixture(scope="module")
def two_paths(
    dovecot: DovecotServer,
) -> Iterator[tuple[ImapMailStore, ImapMailStore, dict[str, int]]]:
    """One mailbox (a dense INBOX, a folder with gaps, an empty folder) seen through the
    ESEARCH path and through the plain path, and a count of each path's commands."""
    user, password = dovecot.add_user(password="esearch-pass-1")
    rng = random.Random(4731)
    for folder, count in (("INBOX", 45), ("Sparse", 70)):
        for n in range(count):
            flags = rng.choice(("", "S", "F", "SF"))
            dovecot.deliver(user, folder, _message(rng, n), flags=flags)
    dovecot.deliver_many(user, "Empty", [])
    admin = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)
    admin.login(user, password)
    admin.select_folder("Sparse")
    gone = [u for u in admin.search(["ALL"]) if rng.random() < 0.5]  # gaps: many ranges
    admin.delete_messages(gone)
    admin.expunge()
    admin.logout()

    calls = {"esearch": 0, "search": 0}
    mp = pytest.MonkeyPatch()
    for name in calls:
        original = getattr(imapclient_private, f"uid_{name}")

        def counted(client: Any, args: Any, name: str = name, original: Any = original) -> Any:
            calls[name] += 1
            return original(client, args)

        mp.setattr(imapclient_private, f"uid_{name}", counted)

    def store(cls: type[IMAPClient]) -> ImapMailStore:
        def factory() -> Any:
            return cls(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)

        return ImapMailStore(
            "acct", dovecot.imap_settings(user), lambda: Secret(password), client_factory=factory
        )

    with_esearch, plain = store(IMAPClient), store(_NoEsearch)
    try:
        yield with_esearch, plain, calls
    finally:
        with_esearch.close()
        plain.close()
        mp.undo()


TODAY = dt.date.today()
CRITERIA = st.builds(
    SearchCriteria,
    from_=st.sampled_from([None, "s1@example.org", "example", "nobody"]),
    to=st.sampled_from([None, "t0@"]),
    subject=st.sampled_from([None, "invoice", "Grüße", "Ärger", "x"]),
    text=st.sampled_from([None, "zeta", "Straße"]),
    since=st.sampled_from([None, TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=2)]),
    before=st.sampled_from([None, TODAY + dt.timedelta(days=2)]),
    seen=st.sampled_from([None, True, False]),
    flagged=st.sampled_from([None, True, False]),
    has_attachment=st.sampled_from([None, True, False]),
)
EXPRESSIONS = st.sampled_from(
    ["ALL", "OR FLAGGED UNSEEN", "NOT SEEN", "UID 5:30", "OR FROM s0@example.org SUBJECT lunch"]
)


def _pages(first: Callable[[str | None], SearchPage]) -> list[SearchPage]:
    pages: list[SearchPage] = []
    cursor = None
    for _ in range(100):
        page = first(cursor)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("paging did not end")


@pytest.mark.dovecot
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    folder=st.sampled_from(FOLDERS),
    query=st.one_of(CRITERIA, EXPRESSIONS),
    limit=st.integers(2, 9),
)
def test_esearch_and_plain_search_give_the_same_pages_and_cursors(
    two_paths: tuple[ImapMailStore, ImapMailStore, dict[str, int]],
    folder: str,
    query: SearchCriteria | str,
    limit: int,
) -> None:
    with_esearch, plain, calls = two_paths
    before = dict(calls)

    def run(store_for: Callable[[int], ImapMailStore]) -> list[SearchPage]:
        served = iter(range(1000))

        def one(cursor: str | None) -> SearchPage:
            store = store_for(next(served))
            if isinstance(query, str):
                return store.search_raw(folder, query, limit=limit, cursor=cursor)
            return store.search(folder, query, limit=limit, cursor=cursor)

        return _pages(one)

    via_esearch = run(lambda _n: with_esearch)
    via_plain = run(lambda _n: plain)
    assert via_esearch == via_plain  # refs, totals and the cursors' very bytes
    served = len(via_esearch)
    assert calls["esearch"] - before["esearch"] >= served  # each path was the one used
    assert calls["search"] - before["search"] >= served
    if folder == "Empty":
        assert via_esearch[0].total == 0 and not via_esearch[0].refs


@pytest.mark.dovecot
def test_the_differential_covers_gaps_and_many_pages(
    two_paths: tuple[ImapMailStore, ImapMailStore, dict[str, int]],
) -> None:
    """The folders are what the property needs: several ranges, more than one page."""
    with_esearch, plain, _calls = two_paths
    page = with_esearch.search("Sparse", SearchCriteria(), limit=100)
    uids = sorted(r.uid for r in page.refs)
    assert sum(1 for a, b in itertools.pairwise(uids) if b != a + 1) >= 5
    assert with_esearch.search("INBOX", SearchCriteria(), limit=9).next_cursor is not None
    assert plain.search("Sparse", SearchCriteria(), limit=100) == page


# ---------------------------------------------------------------- hostile answers on the wire
class _ScriptedImap:
    """A loopback IMAP server (one thread, one connection at a time, every read bounded in
    count and time) that answers ``UID SEARCH`` with scripted lines: what Dovecot never sends
    reaches the real imaplib/imapclient and the adapter. ``{tag}`` in a line is the command's
    tag."""

    CAPS = b"IMAP4rev1 ESEARCH UIDPLUS"

    def __init__(self) -> None:
        import socket
        import threading

        self.answers: list[tuple[list[bytes], bytes]] = []  # (untagged lines, tagged status)
        self.searches: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _run(self) -> None:
        for _ in range(200):  # connections
            if self._stop.is_set():
                return
            try:
                conn, _addr = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    self._serve(conn)
                except OSError:
                    pass

    def _serve(self, conn: Any) -> None:
        conn.sendall(b"* OK [CAPABILITY " + self.CAPS + b"] scripted\r\n")
        reader = conn.makefile("rb")
        for _ in range(100):  # commands
            line = reader.readline(10_000)
            if not line or self._stop.is_set():
                return
            tag, _sp, rest = line.rstrip(b"\r\n").partition(b" ")
            verb = rest.split(b" ")[0].upper()
            if verb == b"LOGOUT":
                conn.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                return
            out = b""
            if verb == b"CAPABILITY":
                out = b"* CAPABILITY " + self.CAPS + b"\r\n"
            elif verb in (b"SELECT", b"EXAMINE"):
                out = b"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 4] ok\r\n"
            elif verb == b"UID" and rest.upper().startswith(b"UID SEARCH"):
                self.searches.append(rest)
                lines, status = self.answers.pop(0)
                out = b"".join(x.replace(b"{tag}", tag) + b"\r\n" for x in lines)
                conn.sendall(out + tag + b" " + status + b"\r\n")
                continue
            conn.sendall(out + tag + b" OK done\r\n")


@pytest.fixture(scope="module")
def scripted() -> Iterator[_ScriptedImap]:
    server = _ScriptedImap()
    yield server
    server.close()


@pytest.fixture
def scripted_store(scripted: _ScriptedImap) -> Iterator[ImapMailStore]:
    scripted.answers.clear()
    store = ImapMailStore(
        "acct",
        ImapSettings(host="127.0.0.1", username="u"),
        lambda: Secret("pw"),
        client_factory=lambda: IMAPClient("127.0.0.1", port=scripted.port, ssl=False, timeout=5),
    )
    yield store
    store.close()


def _uids(page: SearchPage) -> list[int]:
    return [r.uid for r in page.refs]


def test_on_the_wire_a_well_formed_answer_pages(
    scripted: _ScriptedImap, scripted_store: ImapMailStore
) -> None:
    scripted.answers.append(([b'* ESEARCH (TAG "{tag}") UID ALL 1:3'], b"OK done"))
    assert _uids(scripted_store.search("INBOX", SearchCriteria(), limit=2)) == [3, 2]
    assert scripted.searches[-1].upper().startswith(b"UID SEARCH RETURN (ALL) ALL")


WIRE_HOSTILE = [
    [b'* ESEARCH (TAG "ZZZZ9") UID ALL 1:3'],  # another command's answer
    [b'* ESEARCH (TAG "{tag}") UID ALL 1:*'],
    [b"* SEARCH 1 2 3"],  # a server that ignored RETURN: no ESEARCH came
    [],  # nothing at all
    [b'* ESEARCH (TAG "{tag}") UID ALL 1:3', b'* ESEARCH (TAG "{tag}") UID ALL 7'],
    [b"* ESEARCH (TAG {3}\r\nabc) UID ALL 1:3"],  # a literal: imaplib's tuple
    [b'* ESEARCH (TAG "{tag}") ALL 1:3'],  # sequence numbers
]


@pytest.mark.parametrize("lines", WIRE_HOSTILE, ids=lambda v: repr(v)[:50])
def test_on_the_wire_a_hostile_answer_is_out_of_step_and_the_next_connection_works(
    scripted: _ScriptedImap, scripted_store: ImapMailStore, lines: list[bytes]
) -> None:
    scripted.answers.append((lines, b"OK done"))
    with pytest.raises(OutOfStep):
        scripted_store.search("INBOX", SearchCriteria(), limit=2)
    scripted.answers.append(([b"* ESEARCH UID ALL 2"], b"OK done"))
    assert _uids(scripted_store.search("INBOX", SearchCriteria(), limit=2)) == [2]


def test_on_the_wire_a_stale_answer_never_answers_the_next_command(
    scripted: _ScriptedImap, scripted_store: ImapMailStore
) -> None:
    """An ESEARCH that came with a NO stays in imaplib's store; the next search drops it
    (else two answers, or the stale one, would be read)."""
    from mailguard_core.model.errors import RefusedByServer

    scripted.answers.append(([b"* ESEARCH UID ALL 1:3"], b"NO [CANNOT] refused"))
    with pytest.raises(RefusedByServer):
        scripted_store.search("INBOX", SearchCriteria(), limit=5)
    scripted.answers.append(([b"* ESEARCH UID ALL 2"], b"OK done"))
    assert _uids(scripted_store.search("INBOX", SearchCriteria(), limit=5)) == [2]
