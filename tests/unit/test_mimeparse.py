"""email_parser_shim.message_from_bytes (the transcription in mimeparse) builds the stdlib
parser's tree, attribute for attribute.

Real mail (the shared corpus, the sanitizer fixtures, the demo mailbox, generated bench mail)
and hand-written edge cases, one per FeedParser rule plus the nasty ones. The comparison
(tests/support/mimetree.py) covers headers, payloads, preamble, epilogue, unixfrom, default
type, policy, defects and ``as_bytes()``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mailguard_core.sanitize import email_parser_shim, mimeparse
from tests.support.mimetree import assert_same_tree, tree_difference

ROOT = Path(__file__).resolve().parents[2]
#: the shared corpus beside the checkout (/work/main) or beside a worktree (/work/wt/NAME)
CORPUS = next(
    (p for p in (ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus")
     if p.is_dir()),
    ROOT.parent / "shared" / "corpus",
)  # fmt: skip


def _load(paths: list[Path]) -> list[bytes]:
    from bench.sanitize import load_paths

    return load_paths(paths)


def _all_differences(messages: list[bytes]) -> list[tuple[int, str]]:
    out = []
    for i, raw in enumerate(messages):
        found = tree_difference(raw)
        if found:
            out.append((i, found))
    return out


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared mail corpus not present at {CORPUS}")
def test_same_tree_on_the_shared_corpus() -> None:
    messages = _load([CORPUS])
    assert len(messages) > 300
    assert _all_differences(messages) == []


def test_same_tree_on_the_sanitizer_fixtures() -> None:
    messages = [p.read_bytes() for p in sorted((ROOT / "tests/data/sanitizer").glob("*.eml"))]
    assert len(messages) > 50
    assert _all_differences(messages) == []


def test_same_tree_on_the_demo_mailbox() -> None:
    files = sorted((ROOT / "src/mailguard_mcp/demo/mail").rglob("*.eml"))
    assert len(files) > 20
    assert _all_differences([p.read_bytes() for p in files]) == []


def test_same_tree_on_generated_bench_mail() -> None:
    from bench.generator import generate_messages

    messages = [m.raw for m in generate_messages(600, seed=7)]
    assert _all_differences(messages) == []


def _multipart(boundary: str, parts: list[str], nl: str = "\n", close: bool = True) -> str:
    body = "".join(f"--{boundary}{nl}{part}{nl}" for part in parts)
    return body + (f"--{boundary}--{nl}" if close else "")


_LEAF = "Content-Type: text/plain\n\nhello\n"
_MP = 'Content-Type: multipart/mixed; boundary="b"\n\n'

EDGE_CASES: dict[str, bytes] = {
    "empty": b"",
    "only_newline": b"\n",
    "only_crlf": b"\r\n",
    "headers_only_no_newline": b"Subject: x",
    "headers_only": b"Subject: x\n",
    "body_no_final_newline": b"Subject: x\n\nbody",
    "no_headers_body": b"just a body line\nand another\n",
    "blank_first_line": b"\nSubject: looks like a header but is body\n",
    "unixfrom": b"From someone@example.com Mon Jan 1 00:00:00 2024\nSubject: x\n\nbody\n",
    "unixfrom_crlf": b"From a b\r\nSubject: x\r\n\r\nbody\r\n",
    "unixfrom_only": b"From a b",
    "from_line_last_header": b"Subject: x\nFrom a misplaced line\n\nbody\n",
    "from_line_last_no_blank": b"Subject: x\nFrom a misplaced line\nbody line\n",
    "from_line_middle": b"Subject: x\nFrom a misplaced line\nTo: y\n\nbody\n",
    "continuation_first": b" continued\nSubject: x\n\nbody\n",
    "continuations": b"Subject: a\n b\n\tc\nTo: y\n\nbody\n",
    "continuation_blank_value": b"Subject:   \n  b\n\nbody\n",
    "colon_first": b":novalue\nSubject: x\n\nbody\n",
    "no_separator": b"Subject: x\nnot a header line\nmore\n",
    "header_space_before_colon": b"Subject : x\nTo: y\n\nbody\n",
    "header_with_8bit": "Subject: caf\u00e9\n\nbody\n".encode(),
    "header_cr_only": b"Subject: x\rTo: y\r\rbody\r",
    "mixed_line_endings": b"Subject: x\r\nTo: y\n\rbody\r\nline\n",
    "cr_then_lf_separated": b"Subject: x\r\r\nbody\n",
    "nul_bytes": b"Subject: a\x00b\n\nbody\x00\x00\n",
    "form_feed_lines": b"Subject: a\x0cb\nTo: c\x0b\n\nbo\x1cdy\x1d\x1e\n",
    "form_feed_multipart": (_MP + "--b\nSubject: a\x0cb\n\nx\x0by\n--b--\n").encode(),
    "simple_multipart": (_MP + _multipart("b", [_LEAF, _LEAF])).encode(),
    "multipart_crlf": (
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + _multipart("b", [_LEAF.replace("\n", "\r\n")] * 2, nl="\r\n")
    ).encode(),
    "multipart_cr": (
        'Content-Type: multipart/mixed; boundary="b"\r\r'
        + _multipart("b", [_LEAF.replace("\n", "\r")] * 2, nl="\r")
    ).encode(),
    "multipart_preamble_epilogue": (
        _MP + "preamble line\n\n" + _multipart("b", [_LEAF]) + "epilogue\nmore\n"
    ).encode(),
    "multipart_epilogue_blank_first": (_MP + _multipart("b", [_LEAF]) + "\nepi\n").encode(),
    "multipart_close_no_newline": (_MP + "--b\n" + _LEAF + "--b--").encode(),
    "multipart_close_no_newline_epilogue": (_MP + "--b\n" + _LEAF + "--b--\r").encode(),
    "multipart_no_close": (_MP + "--b\n" + _LEAF + "--b\n" + _LEAF).encode(),
    "multipart_no_start": (_MP + "no delimiters at all\n--bx\n").encode(),
    "multipart_close_only": (_MP + "pre\n--b--\nepi\n").encode(),
    "multipart_no_boundary": b"Content-Type: multipart/mixed\n\n--b\nx\n--b--\n",
    "multipart_empty_boundary": (b'Content-Type: multipart/mixed; boundary=""\n\n--\nx\n----\n'),
    "multipart_bad_cte": (
        'Content-Type: multipart/mixed; boundary="b"\nContent-Transfer-Encoding: base64\n\n'
        + _multipart("b", [_LEAF])
    ).encode(),
    "delimiter_trailing_whitespace": (_MP + "--b  \t\n" + _LEAF + "--b-- \t \nepi\n").encode(),
    "delimiter_trailing_junk": (_MP + "--b x\n" + _LEAF + "--b\n" + _LEAF + "--b--x\n").encode(),
    "double_delimiters": (_MP + "--b\n--b\n" + _LEAF + "--b\n--b--\n" + _LEAF + "--b--\n").encode(),
    "empty_parts": (_MP + "--b\n\n--b\n--b--\n").encode(),
    "empty_part_no_headers": (_MP + "--b\n\nbody only\n--b--\n").encode(),
    "part_no_blank_line": (_MP + "--b\nSubject: x\n--b--\n").encode(),
    "part_body_without_headers": (_MP + "--b\nbody first\n--b--\n").encode(),
    "boundary_prefix_of_another": (
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
        'Content-Type: multipart/alternative; boundary="b1"\n\n'
        + _multipart("b1", [_LEAF, _LEAF])
        + "--b\n"
        + _LEAF
        + "--b--\n"
    ).encode(),
    "inner_boundary_prefix_of_outer": (
        'Content-Type: multipart/mixed; boundary="bb"\n\n--bb\n'
        'Content-Type: multipart/alternative; boundary="b"\n\n'
        + _multipart("b", [_LEAF, _LEAF])
        + "--bb\n"
        + _LEAF
        + "--bb--\n"
    ).encode(),
    "outer_boundary_ends_inner": (
        _MP + '--b\nContent-Type: multipart/alternative; boundary="i"\n\n'
        "--i\n" + _LEAF + "--b\n" + _LEAF + "--b--\n"
    ).encode(),
    "outer_close_ends_inner": (
        _MP + '--b\nContent-Type: multipart/alternative; boundary="i"\n\n'
        "--i\n" + _LEAF + "--b--\nepi\n"
    ).encode(),
    "nested_same_boundary": (_MP + "--b\n" + _MP + "--b\n" + _LEAF + "--b--\n--b--\n").encode(),
    "boundary_in_header": (_MP + "--b\nX-Note: --b\nSubject: x\n\nhello\n--b--\n").encode(),
    "boundary_line_in_headers": (_MP + "--b\nSubject: x\n--b\n" + _LEAF + "--b--\n").encode(),
    "boundary_with_colon": (
        'Content-Type: multipart/mixed; boundary="a:b"\n\n--a:b\nX: y\n--a:b\n'
        + _LEAF
        + "--a:b--\n"
    ).encode(),
    "boundary_with_regex_chars": (
        'Content-Type: multipart/mixed; boundary="(.*)+?[x]"\n\n'
        + _multipart("(.*)+?[x]", [_LEAF, _LEAF])
    ).encode(),
    "boundary_unquoted_spaces": (
        "Content-Type: multipart/mixed; boundary=b  \n\n" + _multipart("b", [_LEAF])
    ).encode(),
    "boundary_continuation": (
        'Content-Type: multipart/mixed;\n boundary="b"\n\n' + _multipart("b", [_LEAF])
    ).encode(),
    "boundary_8bit": (
        'Content-Type: multipart/mixed; boundary="\u00e9t\u00e9"\n\n'
        + _multipart("\u00e9t\u00e9", [_LEAF])
    ).encode(),
    "boundary_rfc2231": (
        "Content-Type: multipart/mixed; boundary*=utf-8''b%20c\n\n" + _multipart("b c", [_LEAF])
    ).encode(),
    "boundary_not_at_line_start": (_MP + "x--b\n--b\n" + _LEAF + " --b--\n--b--\n").encode(),
    "message_rfc822": (
        "Content-Type: message/rfc822\n\nSubject: inner\nContent-Type: multipart/mixed; "
        'boundary="c"\n\n' + _multipart("c", [_LEAF])
    ).encode(),
    "message_rfc822_in_multipart": (
        _MP + "--b\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n\n--b--\n"
    ).encode(),
    "message_rfc822_multipart_in_multipart": (
        _MP + "--b\nContent-Type: message/rfc822\n\nSubject: inner\n"
        'Content-Type: multipart/mixed; boundary="c"\n\n'
        + _multipart("c", [_LEAF])
        + "epi\n\n--b--\n"
    ).encode(),
    "message_other_subtype": b"Content-Type: message/partial\n\nSubject: x\n\nbody\n",
    "delivery_status": (
        b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
        b"Final-Recipient: rfc822; a@b\nAction: failed\n\nOriginal-Recipient: c\n"
    ),
    "delivery_status_trailing_blanks": (
        b"Content-Type: message/delivery-status\n\nA: b\n\n\n\nC: d\n\n"
    ),
    "delivery_status_crlf_in_multipart": (
        b'Content-Type: multipart/report; boundary="r"\r\n\r\n--r\r\n'
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
        b"Final-Recipient: rfc822; a@b\r\n\r\n--r--\r\n"
    ),
    "delivery_status_body_lines": (
        b"Content-Type: message/delivery-status\n\nA: b\nnot a header\n\nC: d\n"
    ),
    "delivery_status_nested_multipart": (
        b"Content-Type: message/delivery-status\n\nA: b\n"
        b'Content-Type: multipart/mixed; boundary="q"\n\n--q\nx\n\n--q--\n'
    ),
    "digest": (
        'Content-Type: multipart/digest; boundary="d"\n\n'
        + _multipart("d", ["Subject: one\n\nbody one\n", "Content-Type: text/plain\n\ntwo\n"])
    ).encode(),
    "digest_nested_multipart": (
        'Content-Type: multipart/digest; boundary="d"\n\n--d\n'
        'Content-Type: multipart/mixed; boundary="e"\n\n'
        + _multipart("e", ["\nbody\n"])
        + "--d--\n"
    ).encode(),
    "uppercase_content_type": (
        'Content-Type: MULTIPART/Mixed; BOUNDARY="b"\n\n' + _multipart("b", [_LEAF])
    ).encode(),
    "two_content_types": (
        'Content-Type: text/plain\nContent-Type: multipart/mixed; boundary="b"\n\n'
        + _multipart("b", [_LEAF])
    ).encode(),
    "content_type_surrogates": (
        b'Content-Type: multipart/mixed; boundary="\xff\xfe"\n\n--\xff\xfe\n\nx\n--\xff\xfe--\n'
    ),
    "content_type_no_slash": b"Content-Type: multipart\n\nbody\n",
    "eight_bit_body": b"Subject: x\n\n\xff\xfe\x80 caf\xc3\xa9\n",
    "huge_line_count": b"Subject: x\n\n" + b"line\n" * 100_000,
    "huge_multipart": (_MP + _multipart("b", ["\nline\n" * 3000] * 30)).encode(),
    "many_headers": b"".join(b"X-H%d: v\n" % i for i in range(5000)) + b"\nbody\n",
    "long_line_no_newline": b"Subject: x\n\n" + b"a" * 100_000,
    "crlf_split_at_chunk_edge": b"Subject: x\n\n" + b"a" * 8176 + b"\r\n--b\r\n" + b"x\r\n" * 10,
    "cr_at_chunk_edge_multipart": (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\n'
        + b"a" * (8192 - 57)
        + b"\r\n--b--\r\n"
    ),
    # shapes that would make a naive search quadratic (the parser searches each stretch once)
    "delivery_status_many_parts_no_blank": (
        b"Content-Type: message/delivery-status\n\nA: b\n"
        b"Content-Type: multipart/mixed; boundary=q\n\n" + b"--q\nx\n" * 3000 + b"z\n" * 3000
    ),
    "many_parts_outer_prefix_lookalikes": (
        b"Content-Type: multipart/mixed; boundary=a\n\n--a\n"
        b"Content-Type: multipart/mixed; boundary=aa\n\n" + b"--aa\nx\n--a x\n" * 3000
    ),
    "many_parts_deep_stack": (
        b"".join(
            b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(60)
        )
        + b"--b0 \nx\n" * 3000
    ),
    "long_delimiter_lookalike_lines": (
        b"Content-Type: multipart/mixed; boundary=a\n\n--a\n\n"
        + (b"--a" + b"x" * 20000 + b"\n") * 20
        + b"--a--\n"
    ),
}


def _straddling(prefix: bytes, suffix: bytes, shift: int) -> bytes:
    """``prefix``, filler, then ``suffix`` whose first byte sits at 8192 + shift."""
    return prefix + b"a" * (8192 + shift - len(prefix)) + suffix


@pytest.mark.parametrize("shift", range(-4, 3))
def test_same_tree_when_a_line_ending_straddles_the_stdlib_8192_chunk_edge(shift: int) -> None:
    """The stdlib feeds 8192-character chunks; a CRLF split between two is still one ending."""
    head = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\n'
    for suffix in (b"\r\n--b--\r\n", b"\r\r\n--b\r\n\r\nx", b"\r\n\r\n--b--\r"):
        assert_same_tree(_straddling(head, suffix, shift))
    assert_same_tree(_straddling(b"Subject: x\r\n", b"\r\n y\r\n\r\nbody\r", shift))


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_same_tree_on_edge_cases(name: str) -> None:
    assert_same_tree(EDGE_CASES[name])


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_same_tree_on_edge_cases_with_every_line_ending(name: str) -> None:
    raw = EDGE_CASES[name]
    for nl in (b"\r\n", b"\r"):
        assert_same_tree(raw.replace(b"\n", nl))


@pytest.mark.parametrize("name", sorted(k for k, v in EDGE_CASES.items() if len(v) <= 400))
def test_same_tree_on_every_truncation_of_small_edge_cases(name: str) -> None:
    """Every prefix of the small cases (the large ones are compared whole above)."""
    raw = EDGE_CASES[name]
    for end in range(len(raw)):
        assert_same_tree(raw[:end])


def _nested(depth: int) -> bytes:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    return head + b"\nleaf\n"


@pytest.mark.parametrize("depth", [mimeparse.MAX_DEPTH - 1, mimeparse.MAX_DEPTH + 1, 150])
def test_deep_nesting_is_the_stdlib_tree(depth: int) -> None:
    """Past MAX_DEPTH the stdlib parser does the work: the tree is the same either way."""
    assert_same_tree(_nested(depth))


def test_absurd_nesting_still_ends_in_recursion_error() -> None:
    """The sanitizer maps RecursionError to LimitExceeded; the fallback keeps raising it."""
    raw = _nested(sys.getrecursionlimit() + 100)
    with pytest.raises(RecursionError):
        email_parser_shim.message_from_bytes(raw)


def test_absurd_nesting_is_limit_exceeded_in_the_sanitizer() -> None:
    from mailguard_core.model.errors import LimitExceeded
    from mailguard_core.sanitize import sanitize_message

    with pytest.raises(LimitExceeded):
        sanitize_message(_nested(sys.getrecursionlimit() + 100))


_INNER = (
    b'From: a@example.org\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary="in"\r\n'
    b"\r\npre\r\n--in\r\nContent-Type: text/plain\r\n\r\nhello\r\n--in\r\n"
    b"Content-Type: message/rfc822\r\n\r\nSubject: deepest\r\n\r\nbye\r\n--in--\r\nepi\r\n"
)


def test_an_attached_message_size_is_its_source_octets() -> None:
    from mailguard_core.sanitize import sanitize_message
    from mailguard_core.sanitize.mime import message_size

    raw = (
        b'From: b@example.org\r\nContent-Type: multipart/mixed; boundary="out"\r\n\r\n'
        b"--out\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
        b"--out\r\nContent-Type: message/rfc822\r\n\r\n" + _INNER + b"\r\n--out--\r\n"
    )
    attachments = sanitize_message(raw).untrusted["attachments"]
    sizes = {a["part_id"]: a["size_bytes"] for a in attachments}
    assert sizes["2"] == len(_INNER)
    assert sizes["2.2"] == len(b"Subject: deepest\r\n\r\nbye")
    assert message_size(email_parser_shim.message_from_bytes(_INNER)) == len(_INNER)
    assert message_size(email_parser_shim.message_from_bytes(_INNER), max_parts=1) < len(_INNER)
