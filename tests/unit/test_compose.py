"""compose: address and header validation, limits, allowlist, threading, encoding."""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
from email.message import EmailMessage

import pytest

from mailguard_core.model.compose import (
    MAX_REFERENCES,
    Limits,
    Mailbox,
    Threading,
    compose,
    message_id_of,
    parse_mailbox,
    recipient_allowed,
    threading_from_headers,
    validate_address,
    validate_domain,
    validate_header_text,
)
from mailguard_core.model.errors import (
    HeaderInjectionError,
    InputError,
    LimitExceeded,
    RecipientNotAllowed,
)

ME = Mailbox(address="me@example.com", display_name="Me")


def parse(data: bytes) -> EmailMessage:
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def body_of(message: EmailMessage) -> str:
    """The decoded body with the wire's CRLF line ends turned back into LF."""
    content = message.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("bob@example.org", "bob@example.org"),
        ("Bob.Smith+tag@Example.ORG", "Bob.Smith+tag@example.org"),
        ("o'hara@example.org", "o'hara@example.org"),
        ("x@bücher.example", "x@xn--bcher-kva.example"),
        ("x@sub.domain-1.example.co.uk", "x@sub.domain-1.example.co.uk"),
    ],
)
def test_valid_addresses_are_returned_with_an_ascii_lower_case_domain(
    text: str, address: str
) -> None:
    """Plain dot-atom addresses pass; the domain is IDNA-encoded and lower-cased."""
    assert validate_address(text) == address


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bob",
        "@example.org",
        "bob@",
        "bob@localhost",
        "bob@example",
        "bob@@example.org",
        "b ob@example.org",
        '"bob"@example.org',
        "bob(comment)@example.org",
        "a,b@example.org",
        "group:bob@example.org;",
        ".bob@example.org",
        "bob.@example.org",
        "bo..b@example.org",
        "bob@-example.org",
        "bob@exa_mple.org",
        "bob@example.123",
        "bob@[127.0.0.1]",
        "x" * 65 + "@example.org",
        "bob@" + "a" * 64 + ".org",
        "bob@" + ("a" * 60 + ".") * 5 + "org",
    ],
)
def test_anything_but_one_plain_address_is_refused(text: str) -> None:
    """Comments, groups, quoting, lists, IP literals and bad domains are InputErrors."""
    with pytest.raises(InputError):
        validate_address(text)


def test_a_non_ascii_local_part_says_smtputf8_is_not_supported() -> None:
    """The error explains the limitation instead of a generic refusal."""
    with pytest.raises(InputError) as info:
        validate_address("jürgen@example.org")
    assert "SMTPUTF8" in info.value.public_message


@pytest.mark.parametrize(
    "bad", ["\r", "\n", "\r\n", "\x00", "\t", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]
)
def test_line_breaks_and_controls_in_header_text_are_injection(bad: str) -> None:
    """CR, LF, NUL, other C0/C1 controls, DEL and Unicode line separators are refused."""
    with pytest.raises(HeaderInjectionError) as info:
        validate_header_text(f"Hello{bad}Bcc: evil@example.com", field="subject")
    assert "subject" in info.value.public_message
    assert "evil" not in info.value.public_message


def test_validate_domain_encodes_idn_and_refuses_spaces() -> None:
    """Domains are IDNA-encoded; surrounding whitespace is not tolerated."""
    assert validate_domain("Bücher.Example") == "xn--bcher-kva.example"
    with pytest.raises(InputError):
        validate_domain(" example.org")


@pytest.mark.parametrize(
    ("text", "name", "address"),
    [
        ("bob@example.org", "", "bob@example.org"),
        ("Bob <bob@example.org>", "Bob", "bob@example.org"),
        ('"Smith, Bob" <bob@example.org>', "Smith, Bob", "bob@example.org"),
        ("  Zoë Ærø   <zoe@example.org> ", "Zoë Ærø", "zoe@example.org"),
        ("<bob@example.org>", "", "bob@example.org"),
    ],
)
def test_parse_mailbox_reads_name_and_address(text: str, name: str, address: str) -> None:
    """A bare address or ``Name <address>`` (name optionally quoted)."""
    assert parse_mailbox(text) == Mailbox(address=address, display_name=name)


@pytest.mark.parametrize(
    "text",
    [
        "Bob <bob@example.org",
        "Bob bob@example.org>",
        "Bob <a@example.org>, Eve <e@example.org>",
        'Bo"b <bob@example.org>',
        "Bob <<bob@example.org>>",
        "Bob\\ <bob@example.org>",
    ],
)
def test_parse_mailbox_refuses_ambiguous_input(text: str) -> None:
    """Unbalanced brackets, lists, quotes or backslashes inside names are refused."""
    with pytest.raises(InputError):
        parse_mailbox(text)


def test_parse_mailbox_refuses_an_injected_display_name() -> None:
    """A CRLF in the display name is header injection, not a parse quirk."""
    with pytest.raises(HeaderInjectionError):
        parse_mailbox("Bob\r\nBcc: eve@example.com <bob@example.org>")


def test_recipient_allowed_matches_exact_addresses_and_exact_domains() -> None:
    """Domain entries do not cover subdomains; matching ignores case."""
    allow = ("boss@example.org", "example.net")
    assert recipient_allowed("Boss@Example.org", allow)
    assert recipient_allowed("anyone@example.net", allow)
    assert not recipient_allowed("other@example.org", allow)
    assert not recipient_allowed("x@sub.example.net", allow)
    assert not recipient_allowed("x@evilexample.net", allow)


def test_compose_writes_from_to_cc_subject_date_message_id_and_body() -> None:
    """The message carries exactly the expected headers and the body round-trips."""
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    built = compose(
        sender=ME,
        to=["Bob <bob@example.org>"],
        cc=["carol@example.org"],
        bcc=["dave@example.org"],
        subject="Hello",
        body="Line 1\nLine 2\n",
        now=when,
    )
    message = parse(built.data)
    assert [k.lower() for k in message] == [
        "from", "to", "cc", "subject", "date", "message-id",
        "content-type", "content-transfer-encoding", "mime-version",
    ]  # fmt: skip
    assert str(message["From"]) == "Me <me@example.com>"
    assert str(message["To"]) == "Bob <bob@example.org>"
    assert str(message["Cc"]) == "carol@example.org"
    assert message["Subject"] == "Hello"
    assert message["Date"].datetime == when
    assert message["Message-ID"] == built.message_id
    assert built.message_id.endswith("@example.com>")
    assert body_of(message) == "Line 1\nLine 2\n"
    assert built.envelope_from == "me@example.com"
    assert built.recipients == ("bob@example.org", "carol@example.org", "dave@example.org")
    assert b"dave" not in built.data


def test_drafts_keep_bcc_in_the_headers_for_the_reviewer() -> None:
    """A draft shows its Bcc; a message to be sent does not."""
    draft = compose(sender=ME, to=["a@example.org"], bcc=["b@example.org"], subject="s",
                    body="b", draft=True)  # fmt: skip
    assert str(parse(draft.data)["Bcc"]) == "b@example.org"


def test_non_ascii_names_subject_and_body_round_trip_as_7bit_on_the_wire() -> None:
    """UTF-8 content is RFC 2047 / quoted-printable encoded and decodes back exactly."""
    built = compose(
        sender=Mailbox(address="me@example.com", display_name="Jürgen Ørsted"),
        to=["Zoë 山田 <zoe@example.org>"],
        subject="Grüße – 请 ✓" + " long" * 30,
        body="Hällo wörld ✓\n日本語のテキスト\n" + "x" * 2000 + "\n",
    )
    assert built.data.isascii()
    assert all(len(line) <= 998 for line in built.data.split(b"\r\n"))
    message = parse(built.data)
    assert message["From"].addresses[0].display_name == "Jürgen Ørsted"
    assert message["To"].addresses[0].display_name == "Zoë 山田"
    assert message["Subject"] == "Grüße – 请 ✓" + " long" * 30
    assert body_of(message) == "Hällo wörld ✓\n日本語のテキスト\n" + "x" * 2000 + "\n"


def test_message_ids_are_fresh_for_every_message() -> None:
    """Two builds never share a Message-ID."""
    ids = {compose(sender=ME, to=["a@example.org"], subject="s", body="b").message_id
           for _ in range(50)}  # fmt: skip
    assert len(ids) == 50


def test_duplicate_recipients_are_sent_once() -> None:
    """The envelope lists each address once whatever header it came from."""
    built = compose(sender=ME, to=["a@example.org", "A@example.org"], cc=["a@example.org"],
                    subject="s", body="b")  # fmt: skip
    assert built.recipients == ("a@example.org",)


def test_no_recipients_is_an_input_error() -> None:
    """to, cc and bcc all empty is refused."""
    with pytest.raises(InputError):
        compose(sender=ME, to=[], subject="s", body="b")


def test_too_many_recipients_counts_to_cc_and_bcc_together() -> None:
    """The limit applies to the sum of all three lists."""
    limits = Limits(max_recipients=3)
    compose(sender=ME, to=["a@example.org"], cc=["b@example.org"], bcc=["c@example.org"],
            subject="s", body="b", limits=limits)  # fmt: skip
    with pytest.raises(LimitExceeded):
        compose(sender=ME, to=["a@example.org", "d@example.org"], cc=["b@example.org"],
                bcc=["c@example.org"], subject="s", body="b", limits=limits)  # fmt: skip


def test_subject_and_body_sizes_are_bounded() -> None:
    """Subject characters and body UTF-8 bytes are checked against the limits."""
    limits = Limits(max_subject_chars=5, max_body_bytes=4)
    compose(sender=ME, to=["a@example.org"], subject="12345", body="ää", limits=limits)
    with pytest.raises(LimitExceeded):
        compose(sender=ME, to=["a@example.org"], subject="123456", body="", limits=limits)
    with pytest.raises(LimitExceeded):
        compose(sender=ME, to=["a@example.org"], subject="s", body="äää", limits=limits)


def test_a_nul_or_lone_surrogate_in_the_body_is_refused() -> None:
    """Bodies must be encodable text without NUL."""
    with pytest.raises(InputError):
        compose(sender=ME, to=["a@example.org"], subject="s", body="a\x00b")
    with pytest.raises(InputError):
        compose(sender=ME, to=["a@example.org"], subject="s", body="a\ud800b")


def test_the_allowlist_refuses_any_recipient_outside_it() -> None:
    """One recipient outside the allowlist refuses the whole message."""
    limits = Limits(recipient_allowlist=("example.org",))
    compose(sender=ME, to=["a@example.org"], subject="s", body="b", limits=limits)
    with pytest.raises(RecipientNotAllowed):
        compose(sender=ME, to=["a@example.org"], bcc=["eve@evil.example"], subject="s",
                body="b", limits=limits)  # fmt: skip


PARENT = (
    b"Message-ID: <parent@example.org>\r\n"
    b"References: <root@example.org> <mid@example.org>\r\n"
    b"In-Reply-To: <mid@example.org>\r\n"
    b"Subject: hi\r\n\r\n"
)


def test_threading_appends_the_parent_id_to_its_references() -> None:
    """In-Reply-To is the parent's id; References is the parent's chain plus its id."""
    threading = threading_from_headers(PARENT)
    assert threading == Threading(
        in_reply_to="<parent@example.org>",
        references=("<root@example.org>", "<mid@example.org>", "<parent@example.org>"),
    )
    built = compose(sender=ME, to=["a@example.org"], subject="Re: hi", body="b",
                    threading=threading)  # fmt: skip
    message = parse(built.data)
    assert message["In-Reply-To"] == "<parent@example.org>"
    assert message["References"] == "<root@example.org> <mid@example.org> <parent@example.org>"


def test_threading_falls_back_to_in_reply_to_without_references() -> None:
    """A parent without References contributes its In-Reply-To."""
    threading = threading_from_headers(
        b"Message-ID: <p@example.org>\r\nIn-Reply-To: <q@example.org>\r\n\r\n"
    )
    assert threading is not None
    assert threading.references == ("<q@example.org>", "<p@example.org>")


def test_threading_ignores_malformed_or_hostile_ids_from_the_parent() -> None:
    """Ids with spaces, quotes or missing brackets are dropped; the chain is capped."""
    many = b" ".join(b"<r%d@example.org>" % i for i in range(100))
    headers = (
        b"Message-ID: <p@example.org>\r\n"
        b"References: " + many + b' <bad id@x> "<q@x>" nobrackets@x <a<b@x>\r\n\r\n'
    )
    threading = threading_from_headers(headers)
    assert threading is not None
    assert len(threading.references) == MAX_REFERENCES
    assert threading.references[-1] == "<p@example.org>"
    assert all(" " not in r and '"' not in r for r in threading.references)


def test_threading_is_none_without_a_usable_message_id() -> None:
    """No Message-ID (or a garbage one) means no threading headers."""
    assert threading_from_headers(b"Subject: x\r\n\r\n") is None
    assert threading_from_headers(b"Message-ID: garbage\r\n\r\n") is None
    assert threading_from_headers(b"Message-ID: <a@x>\r\nMessage-ID: <b@x>\r\n\r\n") is None


def test_message_id_of_reads_the_header_back() -> None:
    """message_id_of returns the id compose generated."""
    built = compose(sender=ME, to=["a@example.org"], subject="s", body="b")
    assert message_id_of(built.data) == built.message_id
    assert message_id_of(b"Subject: x\r\n\r\n") == ""


def test_leading_and_trailing_subject_whitespace_is_trimmed() -> None:
    """Header unfolding would lose it anyway; compose drops it up front."""
    built = compose(sender=ME, to=["a@example.org"], subject="  Hi there   ", body="b")
    assert parse(built.data)["Subject"] == "Hi there"


def test_values_that_are_not_text_are_input_errors() -> None:
    """Numbers or None where text belongs are refused cleanly, not with a TypeError."""
    with pytest.raises(InputError):
        compose(sender=ME, to=[42], subject="s", body="b")  # type: ignore[list-item]
    with pytest.raises(InputError):
        compose(sender=ME, to=["a@example.org"], subject=None, body="b")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        compose(sender=ME, to=["a@example.org"], subject="s", body=b"x")  # type: ignore[arg-type]


def test_non_ascii_header_text_is_encoded_whole_in_short_encoded_words() -> None:
    """No encoded word touches plain text, each stays within 75 characters, lines are short."""
    import re

    built = compose(
        sender=ME, to=["0 \xa00 <bob@example.org>"], subject="Grüße " * 40 + "✓", body="b"
    )
    header_block = built.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    matches = list(re.finditer(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=", header_block))
    assert matches and all(len(m.group()) <= 75 for m in matches)
    for m in matches:  # whitespace on both sides (a comma may follow in an address list)
        assert header_block[m.start() - 1] == " "
        assert header_block[m.end() : m.end() + 1] in ("\r", ",")
    assert max(len(line) for line in header_block.split("\r\n")) <= 78
    assert built.data.isascii()


def test_ascii_names_that_need_quoting_are_quoted_and_escaped() -> None:
    """Commas, quotes and backslashes in the account's display name survive as one phrase."""
    sender = Mailbox(address="me@example.com", display_name='Smith, "J" \\ Co')
    built = compose(sender=sender, to=["a@example.org"], subject="s", body="b")
    [address] = parse(built.data)["From"].addresses
    assert address.display_name == 'Smith, "J" \\ Co' and address.addr_spec == "me@example.com"
