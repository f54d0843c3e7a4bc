"""Property tests for the breaker's input rules (issue 12, item 1): one rule decides each bound
(UIDs, UIDVALIDITY, search dates, 32-bit numbers) in the schema and in the domain, and whatever
passes them is never refused by the real Dovecot; whatever the server refuses does not count.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard_core.adapters.imap import ImapMailStore
from mailguard_core.adapters.imap_errors import SERVER_TROUBLE_CODES, imap_errors
from mailguard_core.model.errors import (
    InputError,
    InvalidSearchError,
    MailguardError,
    ProtocolError,
)
from mailguard_core.model.tools import ToolName
from mailguard_core.model.values import (
    SEARCH_YEAR_MAX,
    SEARCH_YEAR_MIN,
    UID_MAX,
    MessageRef,
    SearchCriteria,
    decimal_pattern,
)
from mailguard_core.ports.secrets import Secret
from mailguard_core.search.query import parse_expression
from mailguard_core.services.dispatch import prepare_call, validate_arguments
from tests.support.dovecot import DovecotServer

EDGES = [0, 1, 2, 9, 10, 99, 100, 2**31 - 1, 2**31, UID_MAX - 1, UID_MAX, UID_MAX + 1, 2**33]
#: numbers around every edge that matters, and far past them
NUMBERS = st.one_of(
    st.sampled_from(EDGES),
    st.integers(min_value=0, max_value=2**64),
    st.integers(min_value=UID_MAX - 1000, max_value=UID_MAX + 1000),
)
#: a number's text: plain, with leading zeros, signed, padded, non-ASCII digits
NUMBER_TEXT = st.one_of(
    NUMBERS.map(str),
    NUMBERS.map(lambda n: "0" + str(n)),
    NUMBERS.map(lambda n: f"-{n}"),
    NUMBERS.map(lambda n: f"{n} "),
    st.text("0123456789\u0660\u0661\uff11+-_ ", min_size=1, max_size=12),
)


# ---------------------------------------------------------------- the schema pieces
@given(st.sampled_from([0, 1]), st.one_of(st.sampled_from(EDGES[2:]), NUMBERS), NUMBER_TEXT)
def test_decimal_pattern_matches_exactly_the_range_without_leading_zeros(
    low: int, high: int, text: str
) -> None:
    if high < low:
        return
    pattern = re.compile(decimal_pattern(low, high))
    canonical = re.fullmatch(r"0|[1-9][0-9]*", text, flags=re.ASCII) is not None
    expected = canonical and low <= int(text) <= high
    assert (pattern.fullmatch(text) is not None) == expected


def _schema_accepts(tool: ToolName, arguments: dict[str, object]) -> bool:
    try:
        validate_arguments(tool, arguments)
    except InputError:
        return False
    return True


@given(NUMBER_TEXT, NUMBER_TEXT)
def test_a_ref_passes_the_schema_exactly_when_the_domain_parses_it(
    uidvalidity: str, uid: str
) -> None:
    """UID 1..4294967295, UIDVALIDITY 0..4294967295, no leading zeros: both decide alike."""
    ref = f"acct:INBOX:{uidvalidity}:{uid}"
    try:
        parsed = MessageRef.parse(ref)
    except InputError:
        parsed = None
    assert _schema_accepts(ToolName.FETCH_MESSAGE, {"message_ref": ref}) == (parsed is not None)
    if parsed is not None:
        assert str(parsed) == ref
        assert 1 <= parsed.uid <= UID_MAX and 0 <= parsed.uidvalidity <= UID_MAX


DATES = st.builds(
    lambda y, m, d, form: form.format(y=y, m=m, d=d),
    st.one_of(st.integers(0, 99_999), st.sampled_from([1, 999, 1899, 1900, 1970, 9999, 10000])),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["{y:04d}-{m:02d}-{d:02d}", "{y}-{m:02d}-{d:02d}", "{y:04d}{m:02d}{d:02d}"]),
)


@given(st.one_of(DATES, st.text(string.digits + "-W T:", max_size=12)))
def test_a_search_date_passes_the_schema_and_the_domain_alike(text: str) -> None:
    """A real calendar date passes the schema exactly when the domain takes it (years
    1900-9999); the schema never lets through a date the domain would refuse but for the
    calendar (30 February) and then the domain refuses it as input, never a crash."""
    schema = _schema_accepts(ToolName.SEARCH, {"since": text})
    try:
        prepare_call(ToolName.SEARCH, {"since": text})
        domain = True
    except InputError:
        domain = False
    if domain:
        assert schema
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text)
    if schema:
        assert m is not None and SEARCH_YEAR_MIN <= int(m.group(1)) <= SEARCH_YEAR_MAX


# ---------------------------------------------------------------- against the real Dovecot
@pytest.fixture(scope="module")
def store(dovecot: DovecotServer) -> Iterator[ImapMailStore]:
    user, password = dovecot.add_user()
    dovecot.deliver(
        user, "INBOX", b"Subject: one\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nx\r\n"
    )
    s = ImapMailStore("acct", dovecot.imap_settings(user), lambda: Secret(password))
    try:
        yield s
    finally:
        s.close()


_UID_SET = st.lists(
    st.one_of(
        NUMBERS.map(str),
        st.just("*"),
        st.tuples(NUMBERS, st.one_of(NUMBERS.map(str), st.just("*"))).map(
            lambda t: f"{t[0]}:{t[1]}"
        ),
    ),
    min_size=1,
    max_size=3,
).map(",".join)
_MONTHS = ["Jan", "feb", "MAR", "Dec", "Foo"]
_IMAP_DATE = st.builds(
    lambda d, mon, y: f"{d}-{mon}-{y}",
    st.integers(0, 40),
    st.sampled_from(_MONTHS),
    st.one_of(st.integers(0, 99_999).map(str), st.integers(0, 9999).map(lambda y: f"{y:04d}")),
)
_EXPRESSION = st.one_of(
    _UID_SET.map(lambda s: f"UID {s}"),
    st.tuples(
        st.sampled_from(["SINCE", "BEFORE", "ON", "SENTSINCE", "SENTBEFORE", "SENTON"]),
        st.one_of(_IMAP_DATE, DATES),
    ).map(" ".join),
    st.tuples(st.sampled_from(["LARGER", "SMALLER"]), NUMBERS.map(str)).map(" ".join),
)


@pytest.mark.dovecot
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_EXPRESSION)
def test_whatever_the_search_parser_accepts_dovecot_accepts(
    store: ImapMailStore, expression: str
) -> None:
    """UID sets, dates and sizes at and past every edge: refused locally as input, or
    answered by Dovecot; never a server BAD (which a caller could otherwise repeat)."""
    try:
        parse_expression(expression)
    except InvalidSearchError as exc:
        assert exc.breaker is None
        return
    store.search_raw("INBOX", expression, limit=5)  # raises on any server refusal


_FOLDER_CHARS = (
    "~./&%*#\\\"' -_+[]{}()!$^|`aAzZ09"
    "\u00e4\u00df\u0130\u0131\u0410\u0430\u0435\u0456\u4e2d\u6587"  # accented, Cyrillic, CJK
    "\u200b\u200d\u034f\ufe0f\u3164\u115f\u2800\u00ad\u2028\ufeff"  # ignorables and blanks
    "\U0001f600\U00010348"  # astral
)


@pytest.mark.dovecot
@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(_FOLDER_CHARS, min_size=1, max_size=24))
def test_no_folder_name_makes_a_counted_error(store: ImapMailStore, name: str) -> None:
    """Selecting, creating and deleting any folder name ends in success or in an error that
    does not count towards the breaker."""
    for op in (
        lambda: store.search(name, SearchCriteria(), limit=1),
        lambda: store.create_folder(name),
        lambda: store.delete_folder(name),
    ):
        try:
            op()
        except MailguardError as exc:
            assert exc.breaker is None, (name, type(exc).__name__, str(exc))


# ---------------------------------------------------------------- classification
@pytest.mark.parametrize(
    ("message", "counts"),
    [
        ("select failed: [UNAVAILABLE] Temporary failure", True),
        ("UID command error: BAD [b'[SERVERBUG] Internal error']", True),
        ("create failed: [CANNOT] Invalid mailbox name: Begins with '~'", False),
        ("UID command error: BAD [b'Error in IMAP command UID SEARCH: Invalid UID']", False),
        ("create failed: [CANNOT] x [SERVERBUG] y", False),  # a code later in the text
        ("create failed: Mailbox name [UNAVAILABLE] is not valid mUTF-7", False),
        ("rename failed: [LIMIT] Too many mailboxes", False),
        ("command: FETCH => got more than 1000000 bytes", False),
    ],
)
def test_only_a_response_code_naming_server_trouble_counts(message: str, counts: bool) -> None:
    import imaplib

    with pytest.raises(MailguardError) as caught, imap_errors("search"):
        raise imaplib.IMAP4.error(message)
    assert (caught.value.breaker == "transient") == counts
    assert isinstance(caught.value, ProtocolError) == counts
    assert {"UNAVAILABLE", "SERVERBUG"} <= SERVER_TROUBLE_CODES


@pytest.mark.parametrize("action", ["connect", "starttls", "noop", "capability"])
def test_a_refusal_of_a_command_without_caller_values_counts(action: str) -> None:
    """STARTTLS, NOOP... carry nothing a caller chose: a NO to them is the server failing."""
    import imaplib

    with pytest.raises(ProtocolError) as caught, imap_errors(action):
        raise imaplib.IMAP4.error("starttls failed: [CANNOT] not now")
    assert caught.value.breaker == "transient"


def test_a_permanent_smtp_refusal_does_not_count_and_a_temporary_one_does() -> None:
    import smtplib

    from mailguard_core.adapters.smtp import _smtp_errors

    for exc, counts in (
        (smtplib.SMTPDataError(554, b"content rejected"), False),
        (smtplib.SMTPSenderRefused(550, b"no", "me@example.com"), False),
        (smtplib.SMTPDataError(451, b"try later"), True),
        (smtplib.SMTPResponseException(421, b"closing"), True),
    ):
        with pytest.raises(MailguardError) as caught, _smtp_errors():
            raise exc
        assert (caught.value.breaker == "transient") == counts, exc
