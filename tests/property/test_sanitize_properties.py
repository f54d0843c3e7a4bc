"""Properties of the sanitizer: total, idempotent, hides what is hidden, keeps what is visible."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard_core.model.errors import MailguardError, SanitizeError
from mailguard_core.sanitize import SanitizeOptions, render_text, sanitize_message
from mailguard_core.sanitize.text import _invisible_class, normalize_text
from mailguard_core.sanitize.warnings import WarningCollector
from tests import strategies

FAST = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
_FORBIDDEN = frozenset(
    [chr(c) for c in range(0x20) if chr(c) not in "\t\n"]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + list(
        "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u2060\ufeff"
    )
)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _no_strippable_left(text: str) -> bool:
    """Nothing in ``text`` would be stripped again (kept ZWJ/ZWNJ/flag tags excepted)."""
    warnings = WarningCollector()
    return normalize_text(text, "x", warnings) == text and not warnings.items()


@FAST
@given(raw=st.binary(max_size=3000))
def test_sanitizing_arbitrary_bytes_never_hits_the_fallback(raw: bytes) -> None:
    """Any bytes give an envelope or a typed limit error, never SanitizeError or a crash."""
    try:
        safe = sanitize_message(raw)
    except SanitizeError:
        raise
    except MailguardError:
        return
    assert safe.to_dict()["meta"]["schema"] == "mailguard.envelope/1"


@FAST
@given(html=strategies.hostile_html)
def test_sanitizing_arbitrary_html_is_total_and_output_is_clean(html: str) -> None:
    """Hostile HTML sanitizes; no untrusted string carries a stripped character class."""
    env = sanitize_message(
        strategies.html_message(html), SanitizeOptions(include_html=True)
    ).to_dict()
    for text in _strings(env["untrusted"]):
        assert not (set(text) & _FORBIDDEN), repr(text)
    assert "<script" not in (env["untrusted"]["html"] or "").lower()


@FAST
@given(text=strategies.salted_text)
def test_normalization_is_idempotent_and_leaves_no_stripped_class(text: str) -> None:
    """normalize(normalize(x)) == normalize(x) and no character of a stripped class survives."""
    once = normalize_text(text, "x", WarningCollector())
    assert _no_strippable_left(once)
    assert not (set(once) & _FORBIDDEN)
    pattern = _invisible_class()
    for match in pattern.finditer(once):
        assert (
            match.group() in "\u200c\u200d\ufe0e\ufe0f" or 0xE0000 <= ord(match.group()) <= 0xE007F
        )


@FAST
@given(text=strategies.salted_text)
def test_sanitizing_the_body_text_again_changes_nothing(text: str) -> None:
    """The body text of a sanitized message is a fixed point of the sanitizer."""
    first = sanitize_message(strategies.plain_message(text)).body_text
    second = sanitize_message(strategies.plain_message(first)).body_text
    assert second == first


@FAST
@given(case=strategies.hidden_and_visible_html())
def test_hidden_text_never_reaches_the_body_and_visible_text_survives(
    case: tuple[str, list[str], list[str]],
) -> None:
    """Text hidden by any method is absent from body_text and html; visible text is present."""
    html, hidden_words, visible_words = case
    safe = sanitize_message(strategies.html_message(html), SanitizeOptions(include_html=True))
    for word in hidden_words:
        assert word not in safe.body_text
        assert word not in (safe.html or "")
    for word in visible_words:
        assert word in safe.body_text


@FAST
@given(subject=st.text(max_size=60), body=st.text(max_size=200))
def test_rendered_text_has_exactly_one_fence_pair_per_untrusted_block(
    subject: str, body: str
) -> None:
    """Whatever the message says, the rendering's fences are exactly the renderer's own."""
    raw = strategies.plain_message(body, subject=subject.replace("\r", " ").replace("\n", " "))
    nonce = "00112233445566778899"
    text = render_text(sanitize_message(raw).to_dict(), nonce=nonce)
    assert text.count(f"<<untrusted nonce={nonce}>>") == 2
    assert text.count(f"<</untrusted nonce={nonce}>>") == 2


@FAST
@given(text=st.text(max_size=80))
def test_encoded_word_subjects_never_carry_a_line_break(text: str) -> None:
    """Whatever an RFC 2047 subject decodes to, the sanitized subject has no CR or LF."""
    import base64

    word = "=?utf-8?b?" + base64.b64encode(text.encode("utf-8", "surrogatepass")).decode() + "?="
    raw = f"From: a@example.org\r\nSubject: {word}\r\n\r\nbody\r\n".encode()
    safe = sanitize_message(raw)
    subject = safe.untrusted["subject"]
    assert "\r" not in subject and "\n" not in subject
    if "\r" in text or "\n" in text:
        assert "mime_header_smuggling_blocked" in safe.warning_codes


def _detail_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _detail_strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _detail_strings(v)]
    return []


@FAST
@given(raw=st.binary(max_size=2000) | strategies.hostile_html.map(strategies.html_message))
def test_warning_details_only_hold_tokens_never_prose(raw: bytes) -> None:
    """Warnings are rendered outside the fence: their strings are codes and tokens, no spaces."""
    try:
        safe = sanitize_message(raw, SanitizeOptions(include_html=True))
    except MailguardError as exc:
        assert not isinstance(exc, SanitizeError)
        return
    for warning in safe.to_dict()["security_warnings"]:
        for text in [warning["code"], warning["location"], *_detail_strings(warning["detail"])]:
            assert " " not in text and "<" not in text and len(text) <= 100, text


_HEADER_TOKENS = st.sampled_from(
    [
        "=?utf-8?b?", "=?UTF-8?Q?", "=?iso-8859-1?q?", "=?x-bad*en?B?", "=??q?", "?=", "=?",
        "A", "w6k", "=C3", "=A9", "=ZZ", "_", " ", "\t", "\r\n ", "<", ">", "@", '"', ",",
        "(", ")", ";", ":", "\\", "a@b.example", "Bob", "\u00e9", "\u4e2d", "\u202e",
        "name=", "filename*=utf-8''", "%C3%A9", "\x00",
    ]
)  # fmt: skip
#: an encoded word's shape with any charset, encoding letter and payload (often not base64)
_WORDISH = st.tuples(
    st.sampled_from(["utf-8", "UTF-8", "x-bad*en", "", "iso-8859-1"]),
    st.sampled_from("bBqQ"),
    st.lists(_HEADER_TOKENS, max_size=4).map("".join),
).map(lambda t: f"=?{t[0]}?{t[1]}?{t[2]}?=")
_HEADER_VALUE = st.lists(_HEADER_TOKENS | _WORDISH, max_size=10).map("".join)
_HEADER_NAMES = ("From", "To", "Reply-To", "Subject", "Date", "List-Id", "Sender")


@FAST
@given(
    fields=st.fixed_dictionaries(
        dict.fromkeys(
            ("From", "To", "Reply-To", "Subject", "Date", "List-Id", "Sender"), _HEADER_VALUE
        )
    ),
    filename=_HEADER_VALUE,
)
def test_hostile_header_values_are_total(fields: dict[str, str], filename: str) -> None:
    """Broken encoded words, address syntax and parameters in any header never reach the
    SanitizeError fallback (a bad base64 word once did)."""
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    raw = (
        head + 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
        f'Content-Type: application/pdf; name="{filename}"\r\n'
        f"Content-Disposition: attachment; filename={filename}\r\n\r\n%PDF-1.4\r\n--b--\r\n"
    ).encode("utf-8", "surrogateescape")
    try:
        safe = sanitize_message(raw)
    except MailguardError as exc:
        assert not isinstance(exc, SanitizeError)
        return
    assert "hello" in safe.body_text
    assert len(safe.untrusted["attachments"]) == 1
