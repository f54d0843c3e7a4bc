"""Fast spellings of slow stdlib or regex steps give exactly the slow step's result."""

from __future__ import annotations

import base64
import email.errors
import email.header
import email.message
import email.utils
import re
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailguard_core.sanitize.body import URL_RE
from mailguard_core.sanitize.email_header_shim import decode_header as split_words
from mailguard_core.sanitize.headers import (
    _BARE_ADDRESS_RE,
    _bare_addresses,
    decode_bytes,
    nests_past_recursion_limit,
)
from mailguard_core.sanitize.mime import content_type

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


_CHARSETS = st.sampled_from(
    ["utf-8", "UTF-8", "iso-8859-1", "ISO-8859-15", "windows-1252", "x-bad"]
)
_WORD_TEXT = st.binary(max_size=12)


@st.composite
def _encoded_word(draw: st.DrawFn) -> str:
    data = draw(_WORD_TEXT)
    charset = draw(_CHARSETS)
    if draw(st.booleans()):
        return f"=?{charset}?{draw(st.sampled_from('bB'))}?{base64.b64encode(data).decode()}?="

    def q_char(b: int) -> str:
        if b == 32:
            return draw(st.sampled_from(["_", "=20"]))
        if b > 126 or b < 33 or chr(b) in "=?_":
            return draw(st.sampled_from([f"={b:02X}", f"={b:02x}"]))
        return chr(b)

    quoted = "".join(q_char(b) for b in data)
    return f"=?{charset}?{draw(st.sampled_from('qQ'))}?{quoted}?="


_TEXT = st.text(alphabet=st.sampled_from(list("ab =?_-\u00e9\u00f6\t")), max_size=8)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_encoded_word(), _TEXT), min_size=1, max_size=6).map("".join))
def test_encoded_words_decode_as_the_stdlib_decodes_them(value: str) -> None:
    """Where the stdlib succeeds, the text is the same (bar its raw-unicode-escape of plain
    text, which only shows for characters the strategy does not draw)."""
    try:
        reference = email.header.decode_header(value)
    except email.errors.HeaderParseError:
        return  # the stdlib fails: split_words keeps such words as text (unit-tested)
    assert _joined(split_words(value)) == _joined(reference)


def _joined(chunks: Sequence[tuple[bytes | str, str | None]]) -> str:
    """The chunks decoded as ``decode_value`` decodes them."""
    return "".join(decode_bytes(p, c)[0] if isinstance(p, bytes) else p for p, c in chunks)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_split_words_is_total(value: str) -> None:
    chunks = split_words(value)
    assert all(isinstance(p, str) == (c is None) for p, c in chunks)


_ADDRESS_BITS = st.sampled_from(
    ["@", "a", "b.c", "x-y", "_", "+", " ", ",", "<", ">", "\u00e9", "1" * 70, "w" * 65, "."]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ADDRESS_BITS | st.text(max_size=4), max_size=30).map("".join))
def test_bare_addresses_find_what_the_regex_finds(value: str) -> None:
    assert _bare_addresses(value) == _BARE_ADDRESS_RE.findall(value)


_PLAIN = st.sampled_from(['"Ann" <a@b.org>,', "c@d.net,", ' "B, C" <x.y@z.io> ,', "\te@f,"])
#: phrase text: atoms of any characters but the parser's specials, dots, blanks
_PHRASE = st.text(
    alphabet=st.characters(blacklist_characters='"()<>[]\\@,;:', blacklist_categories=("Cs",)),
    max_size=6,
)
#: characters that end a group or open something the parser reads differently
_BREAKERS = st.sampled_from(list('";()<>[]\\@,'))


@st.composite
def _group_chains(draw: st.DrawFn) -> str:
    head = "".join(draw(st.lists(_PLAIN, max_size=3)))
    colons = draw(st.sampled_from([5, 990, 1000, 1001, 1100, 2000]))
    phrases = draw(st.lists(_PHRASE, min_size=1, max_size=4))
    chain = "".join(f"{phrases[i % len(phrases)]}:" for i in range(colons))
    if draw(st.booleans()):  # one breaker somewhere: the prediction must not hold blindly
        at = draw(st.integers(0, len(chain)))
        chain = chain[:at] + draw(_BREAKERS) + chain[at:]
    return head + chain


@settings(max_examples=60, deadline=None)
@given(_group_chains())
def test_predicted_recursion_is_what_the_stdlib_parser_does(value: str) -> None:
    """When ``nests_past_recursion_limit`` says the stdlib address parser cannot finish, it
    raises RecursionError (so the sanitizer's fallback is the same as before)."""
    if nests_past_recursion_limit(value):
        try:
            email.utils.getaddresses([value])
        except RecursionError:
            return
        raise AssertionError("predicted a RecursionError the parser did not raise")


def test_the_corpus_case_is_predicted() -> None:
    """The shape found in the shared corpus: a To header of encoded words holding times."""
    word = "=?utf-8?Q?date=3E2017-08-20T10:08:28.617=3C/pr?="
    value = '"test" <test@test.com>, ' + " ".join([word] * 600)
    assert nests_past_recursion_limit(value)
    assert not nests_past_recursion_limit(value.replace(word, word + ";", 1))
    assert not nests_past_recursion_limit('"x' + value)


_FIELD_NAMES = st.sampled_from(
    [
        *("Content-Type", "content-type", "CONTENT-TYPE", "Content-Typ", "Content-Types"),
        *("Content-Disposition", "Subject", "Content-\u0130ype", "\u212aontent-Type"),
    ]
)
_CTYPE_BITS = [
    *("text", "TEXT", "/", "plain", "HTML", "multipart", "mixed", "message", "rfc822"),
    *(";", " ", "\t", "charset=utf-8", '"', "a/b/c", "\r\n ", "\udcff", "\u00e9"),
]
_CTYPE_VALUES = st.one_of(
    st.lists(st.sampled_from(_CTYPE_BITS), max_size=8).map("".join), st.text(max_size=12)
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_FIELD_NAMES, _CTYPE_VALUES), max_size=4),
    st.sampled_from(["text/plain", "message/rfc822"]),
)
def test_content_type_is_get_content_type(fields: list[tuple[str, str]], default: str) -> None:
    """``mime.content_type`` (a cache keyed by the raw value) answers as the stdlib does,
    also for names only the stdlib's lower-casing matches, 8-bit values and a repeat."""
    msg = email.message.Message()
    msg.set_default_type(default)
    for name, value in fields:
        msg.set_raw(name, value)
    try:
        expected = msg.get_content_type()
    except UnicodeError as exc:  # a surrogate beside a non-ASCII letter: the stdlib raises
        with pytest.raises(type(exc)):
            content_type(msg)
        return
    assert content_type(msg) == expected
    assert content_type(msg) == expected  # from the cache


def test_content_type_cache_answers_for_the_sanitizers_policy_only() -> None:
    """The cache holds compat32's answers: the same raw value under another policy (which
    decodes the encoded word here) is asked directly, not answered from the cache."""
    import email
    from email import policy

    from mailguard_core.sanitize.mime import content_type

    raw = b"Content-Type: =?utf-8?q?text/html?=\r\n\r\nx"
    old = email.message_from_bytes(raw, policy=policy.compat32)
    new = email.message_from_bytes(raw, policy=policy.default)
    assert content_type(old) == old.get_content_type() == "=?utf-8?q?text/html?="
    assert content_type(new) == new.get_content_type() == "text/html"


#: pieces of Content-Type / Content-Disposition values: the plain form and every way out of
#: it the stdlib's parameter reader has a rule for (quotes, escapes, ``<>``, RFC 2231 ``*``
#: names and continuations, empty pieces, blanks of every kind, 8-bit, encoded words)
_PARAM_BITS = st.sampled_from(
    [
        *("multipart/mixed", "text/plain", "attachment", "inline", "Boundary", "boundary"),
        *(";", "; ", ";\r\n\t", " ", "\t", "\r\n ", "=", " = ", '"', "'", "\\", "<", ">", "*"),
        *("boundary=", "BOUNDARY=", "charset=", "filename=", "name=", "NAME=", "name*=", "x="),
        *("filename*0=", "filename*1*=", "boundary*=", "utf-8''a%20b", "us-ascii'en'x"),
        *('"a b"', '"----=_Part_1"', "abc", "a=b", "(c)", "0123", "=?utf-8?q?a?=", '"<x>"'),
        *("\u00e9", "\udcff", "\x0b", "\x1c", "\u00a0", "\u2028", ",", ".", "/", "?", ":"),
    ]
)
_BLANKS = st.sampled_from(["", " ", "\t", "\r\n\t", "  "])
#: value characters of the plain form (the wrapper and the insertion below add the others)
_VALUE_TEXT = st.lists(st.sampled_from([*"aZ09'()+_,./:=?- ", "  "]), max_size=8).map("".join)


@st.composite
def _plain_form(draw: st.DrawFn) -> str:
    """A value in the plain form (type, then ``; name=value`` pairs), then maybe one
    character from outside it inserted somewhere: both sides of the fast path's border."""
    out = draw(_BLANKS) + draw(st.sampled_from(["multipart/mixed", "attachment", "Boundary", "x"]))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(
            st.sampled_from(
                ["boundary", "Boundary", "boundary", "charset", "filename", "name", "a.b-c"]
            )
        )
        value = draw(_VALUE_TEXT)
        # wrapped the way the stdlib's unquote() strips (``<>``, ``""``) or almost
        head, tail = draw(
            st.sampled_from(
                [("", ""), ("", " "), (" ", ""), ("<", ">"), ('"', '"'), ("<", ""), ("\\", '"')]
            )
        )
        value = head + value + tail
        if draw(st.booleans()) or " " in value:
            value = f'"{value}"'
        out += f"{draw(_BLANKS)};{draw(_BLANKS)}{name}{draw(_BLANKS)}={draw(_BLANKS)}{value}"
    out += draw(st.sampled_from(["", ";", " ; ", "\r\n"]))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(out)))
        out = out[:at] + draw(st.sampled_from(list(';"\\<>* =\x0b\u00a0\u00e9\udcff'))) + out[at:]
    return out


_PARAM_VALUES = st.one_of(
    _plain_form(),
    st.lists(_PARAM_BITS, max_size=10).map("".join),
    st.text(alphabet=st.sampled_from(list(";=\"' \\*<>ab/\r\n\t")), max_size=16),
)


def _with_fields(fields: list[tuple[str, str]]) -> email.message.Message:
    msg = email.message.Message()
    for name, value in fields:
        msg.set_raw(name, value)
    return msg


_PARAM_FIELDS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "Content-Type",
                "content-disposition",
                "CONTENT-TYPE",
                "Content-Dispositio",
                "Content-Type",
                "Content-Disposition",
                "Content-Type",
                "Content-Type",
                "Content-\u0130ype",
                "Content-Disposit\u0130on",
                "\u212aontent-Type",
            ]
        ),
        _PARAM_VALUES,
    ),
    max_size=3,
)


def _same(fast: object, slow: object) -> None:
    assert fast == slow and type(fast) is type(slow)


@settings(max_examples=600, deadline=None)
@given(_PARAM_FIELDS)
def test_plain_parameters_read_as_the_stdlib_reads_them(fields: list[tuple[str, str]]) -> None:
    """``boundary_param``, ``charset_param`` and ``filename_param`` (which skip the stdlib's
    parameter parser for values in the plain form) answer as ``get_boundary``,
    ``get_param("charset")`` and ``get_filename`` do, on values far outside that form."""
    from mailguard_core.sanitize.mime import boundary_param, charset_param, filename_param

    msg = _with_fields(fields)
    for fast, slow in (
        (boundary_param, msg.get_boundary),
        (charset_param, lambda: msg.get_param("charset")),
        (filename_param, msg.get_filename),
    ):
        try:
            expected = slow()
        except (UnicodeError, ValueError, LookupError) as exc:
            with pytest.raises(type(exc)):
                fast(msg)
            continue
        _same(fast(msg), expected)


def test_plain_parameters_cases() -> None:
    """The plain form is read without the stdlib, and values outside it are not."""
    from mailguard_core.sanitize.mime import plain_params

    assert plain_params('multipart/mixed;\r\n\tBoundary="a b=c "; x=y;') == [
        ("multipart/mixed", ""), ("boundary", "a b=c "), ("x", "y"),
    ]  # fmt: skip
    assert plain_params("attachment; filename=") == [("attachment", ""), ("filename", "")]
    for outside in ('a; b="c;d"', 'a; b="\\""', "a; b*=x", "a; b=<c>", "a;; b=c", "a; b=c d", "é"):
        assert plain_params(outside) is None
    cases = [
        ("Content-Type", 'multipart/alternative; boundary="----=_Part_1 "'),
        ("Content-Disposition", 'attachment; filename=" report (1).pdf "'),
        ("Content-Type", "text/plain; charset=UTF-8; name=a.txt"),
    ]
    msg = _with_fields(cases)
    from mailguard_core.sanitize.mime import boundary_param, charset_param, filename_param

    assert boundary_param(msg) == msg.get_boundary() == "----=_Part_1"
    assert charset_param(msg) == msg.get_param("charset") is None  # the first Content-Type
    assert filename_param(msg) == msg.get_filename() == "report (1).pdf"


#: address-ish text: runs of the local part's class, @, dots, +, -, _, non-ASCII letters and
#: digits (``\w`` is Unicode), blanks, and characters outside every class
_ADDRESS_TEXT = st.lists(
    st.sampled_from(
        [*"ab1_.+-@ ,<>", "\u00e9", "\u0661", "\u4e2d", "\u200b", "x@y.z", "a.b@c-d.e", "@@", ".."]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(_ADDRESS_TEXT, st.text(max_size=30)))
def test_address_spans_are_the_regex_matches(text: str) -> None:
    """``text_addresses`` (the ``@`` walk) finds what ``re.finditer`` finds, and
    ``find_addresses`` / ``blank_addresses`` answer ``findall`` / ``sub``."""
    from mailguard_core.sanitize.text_addresses import (
        ADDRESS_RE,
        address_spans,
        blank_addresses,
        find_addresses,
    )

    assert list(address_spans(text)) == [m.span() for m in ADDRESS_RE.finditer(text)]
    assert find_addresses(text) == ADDRESS_RE.findall(text)
    assert blank_addresses(text) == ADDRESS_RE.sub(" ", text)


def test_address_spans_read_a_long_run_once() -> None:
    """The text the regex needed seconds for (a 40,000-letter run beside an address; the
    regex's time grows with the square of the run) is answered as the regex answers it."""
    from mailguard_core.sanitize.text_addresses import ADDRESS_RE, address_spans

    short = "x" * 2_000 + " a+b@c.d.e x" + "y" * 2_000 + "@f"
    assert list(address_spans(short)) == [m.span() for m in ADDRESS_RE.finditer(short)]
    long = "Hello " + "a" * 40_000 + " x@evil.example visit " + "b" * 40_000 + "@no-dot"
    assert list(address_spans(long)) == [(40_007, 40_021)]


_HREF_BITS = st.sampled_from(
    [
        *("http://", "HTTPS://", "hTtP://", "https:/", "ftp://", "http:", "//", " ", "\t", "\n"),
        *("Example.COM", "a-b.c", "x.", ".", "-", "0", "user@", ":80", ":", "[::1]", "@", "%41"),
        *("/path", "?q=1", "#frag", "/a b", "\u00e9", "\u0130", "\uff0e", "\u200b", "\x00", "\\"),
    ]
)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.lists(_HREF_BITS, max_size=8).map("".join), st.text(max_size=30)))
def test_link_host_is_what_urlsplit_reads(href: str) -> None:
    """``identity._host`` (a regex for plain http(s) links, else ``urlsplit``) answers
    ``urlsplit(href.strip()).hostname`` for http(s) links and None otherwise."""
    from mailguard_core.sanitize.identity import _host, _urlsplit_host

    assert _host(href) == _urlsplit_host(href)


#: parameter lists far outside the plain form: quotes, escaped quotes, ``;`` inside quotes,
#: ``=`` runs, RFC 2231 names and continuations, blanks of every kind
_SPLIT_PIECES = st.lists(
    st.sampled_from(
        [*';;="\\ \t', '\\"', "a", "B", "name*0*=", "name*1=", "x*=", "us-ascii'en'%41", "\u00e9"]
    )
    | st.text(max_size=3),
    max_size=30,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_SPLIT_PIECES)
def test_split_params_is_the_stdlib_parseparam(value: str) -> None:
    """``mime.split_params`` (the quote count carried from one ``;`` to the next) cuts a
    value where the stdlib's ``_parseparam`` does (recounting from each piece's start)."""
    from email.message import _parseparam  # type: ignore[attr-defined]

    from mailguard_core.sanitize.mime import split_params

    assert split_params(value) == _parseparam(value)


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["Content-Type", "Content-Disposition"]), _SPLIT_PIECES),
             max_size=3),
    st.sampled_from(["charset", "boundary", "filename", "name", "NAME", "x"]),
)  # fmt: skip
def test_get_param_is_the_stdlib_reading(fields: list[tuple[str, str]], param: str) -> None:
    """``mime.get_param`` answers ``Message.get_param`` (RFC 2231 tuples, unquoting, the
    errors ``decode_params`` raises), for both headers."""
    from mailguard_core.sanitize.mime import get_param

    msg = _with_fields(fields)
    for header in ("content-type", "content-disposition"):
        missing = object()
        try:
            expected = msg.get_param(param, missing, header)
        except (ValueError, TypeError, LookupError, UnicodeError) as exc:
            with pytest.raises(type(exc)):
                get_param(msg, param, header)
            continue
        found, value = get_param(msg, param, header)
        assert (found, value) == ((False, None) if expected is missing else (True, expected))


def test_a_long_quoted_parameter_is_read_once() -> None:
    """``charset="`` + 40,000 ``;``: the stdlib recounts the quotes at each ``;`` (1.8 s a
    message, four times more per doubling); read in one pass, with the stdlib's answer."""
    from mailguard_core.sanitize.mime import boundary_param, charset_param, filename_param

    value = 'text/plain; charset="' + ";" * 40_000 + '"; name="a.txt"'
    msg = _with_fields([("Content-Type", value)])
    assert charset_param(msg) == ";" * 40_000
    assert filename_param(msg) == "a.txt"
    assert boundary_param(msg) is None
    multipart = _with_fields([("Content-Type", 'multipart/mixed; boundary="' + ";" * 40_000)])
    assert boundary_param(multipart) == '"' + ";" * 40_000
