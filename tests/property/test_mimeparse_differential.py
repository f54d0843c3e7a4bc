"""email_parser_shim.message_from_bytes (mimeparse) against email.message_from_bytes on generated
hostile input.

MIME-like messages are built from a small pool of related boundaries (equal, prefix of one
another, with "--" or spaces inside) so that nested parts, delimiters of outer parts inside
inner ones, close delimiters, doubled delimiters and delimiter look-alikes all occur; every
line gets its own line ending (LF, CRLF or CR); then the bytes may be truncated anywhere and
have arbitrary bytes spliced in. Plus token soup and plain arbitrary bytes. Each example must
give the same tree (tests/support/mimetree.py). Example counts follow the hypothesis profile
(tests/conftest.py); the three tests together take a few seconds.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.mimetree import assert_same_tree

FAST = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

BOUNDARIES = ["b", "b1", "bb", "b--", "b-", "a b", "=_x", "b:c", ""]
ENDINGS = ["\n", "\r\n", "\r"]
#: what may follow "--boundary" on a line: delimiters, close delimiters, look-alikes
DELIMITER_TAILS = ["", "", "--", " ", "\t ", "-- ", "x", "--x", "-", " x"]
CONTENT_TYPES = [
    "text/plain",
    "text/html; charset=utf-8",
    "message/rfc822",
    "message/delivery-status",
    "message/partial",
    "application/octet-stream",
    "multipart/mixed",
    "multipart/mixed; boundary=b",
    'multipart/mixed; boundary="b1"',
]

boundaries = st.sampled_from(BOUNDARIES)
words = st.text(alphabet="ab -:\t=\xe9\x00\x0c", max_size=8)


@st.composite
def delimiter(draw: st.DrawFn, boundary: str | None = None) -> str:
    name = boundary if boundary is not None else draw(boundaries)
    return "--" + name + draw(st.sampled_from(DELIMITER_TAILS))


header_lines = st.one_of(
    st.sampled_from(
        [
            "Subject: x",
            "X-Note: --b",
            " folded",
            "\tfolded",
            "From someone",
            ":no name",
            "To:",
            "Content-Transfer-Encoding: base64",
            "MIME-Version: 1.0",
        ]
    ),
    st.sampled_from(CONTENT_TYPES).map(lambda t: "Content-Type: " + t),
    words.map(lambda w: "X-W: " + w),
    delimiter(),
)
body_lines = st.one_of(
    st.sampled_from(["", "", "text", "--", "From me", "A: b", " "]), words, delimiter()
)


def leaf() -> st.SearchStrategy[list[str]]:
    return st.builds(
        lambda head, blank, body: head + ([""] if blank else []) + body,
        st.lists(header_lines, max_size=4),
        st.booleans(),
        st.lists(body_lines, max_size=4),
    )


@st.composite
def multipart(draw: st.DrawFn, children: st.SearchStrategy[list[str]]) -> list[str]:
    boundary = draw(boundaries)
    subtype = draw(st.sampled_from(["mixed", "digest", "alternative", "report"]))
    quoted = draw(st.sampled_from(['"{}"', "{}", '"{}"  ']))
    lines = [f"Content-Type: multipart/{subtype}; boundary=" + quoted.format(boundary)]
    lines += draw(st.lists(header_lines, max_size=2))
    lines.append("")
    lines += draw(st.lists(body_lines, max_size=2))  # preamble
    for part in draw(st.lists(children, max_size=3)):
        lines.append(draw(delimiter(boundary)))
        lines += part
    if draw(st.booleans()):
        lines.append("--" + boundary + "--" + draw(st.sampled_from(["", " ", "\t"])))
    lines += draw(st.lists(body_lines, max_size=2))  # epilogue
    return lines


def wrapped(children: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    """message/rfc822 (or delivery-status blocks) around a child."""
    return st.builds(
        lambda ctype, child: [f"Content-Type: {ctype}", "", *child],
        st.sampled_from(["message/rfc822", "message/delivery-status", "message/news"]),
        children,
    )


mime_lines = st.recursive(
    leaf(), lambda children: st.one_of(multipart(children), wrapped(children)), max_leaves=8
)


@st.composite
def mime_bytes(draw: st.DrawFn) -> bytes:
    lines = draw(mime_lines)
    if draw(st.booleans()):
        lines = ["From sender@example.com Mon Jan  1 00:00:00 2024", *lines]
    if draw(st.booleans()):
        ending = draw(st.sampled_from(ENDINGS))
        text = "".join(line + ending for line in lines)
    else:
        endings = draw(st.lists(st.sampled_from(ENDINGS), min_size=len(lines), max_size=len(lines)))
        text = "".join(line + end for line, end in zip(lines, endings, strict=True))
    raw = text.encode("utf-8", "surrogateescape")
    if draw(st.booleans()):
        raw = raw[: draw(st.integers(0, len(raw)))]
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=6)) + raw[at:]
    return raw


TOKENS = [
    b"--b", b"--b--", b"--b1", b"--", b"\r", b"\n", b"\r\n", b"\n\n", b":", b" ", b"\t",
    b"From ", b"Subject: x", b"Content-Type: multipart/mixed; boundary=b",
    b"Content-Type: multipart/digest; boundary=b1", b"Content-Type: message/rfc822",
    b"Content-Type: message/delivery-status", b"x", b"\xff", b"\x00", b"\x0c", b"\x1c",
]  # fmt: skip


@FAST
@given(raw=mime_bytes())
def test_same_tree_on_mime_like_messages(raw: bytes) -> None:
    assert_same_tree(raw)


@FAST
@given(raw=st.lists(st.sampled_from(TOKENS), max_size=60).map(b"".join))
def test_same_tree_on_token_soup(raw: bytes) -> None:
    assert_same_tree(raw)


@FAST
@given(raw=st.binary(max_size=1500))
def test_same_tree_on_arbitrary_bytes(raw: bytes) -> None:
    assert_same_tree(raw)
