"""Property: what the human approves is what is sent (issue 21).

The agent's arguments are drawn wider than what mailguard accepts: look-alike letters
(Cyrillic, Greek, fullwidth), bidi overrides and isolates, zero-width characters, combining
marks, line separators, controls, and values far over the display bounds. Over the real
``mcp`` client (in process) with an elicitation callback:

- nothing is sent unless the human accepted;
- when it is sent, the summary the human saw names exactly the envelope recipients, each
  To/Cc mailbox with the display name and address the message carries, and its
  subject and body lines, with the ``\\u{XXXX}`` escapes undone and the clip marker checked,
  are the sent message's subject and body lines (whole, or a prefix whose clipped length the
  marker states exactly);
- the summary contains no character a reader cannot see or that reorders text.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mcp.client.context import ClientRequestContext

from mailguard_core.config import ConfirmSettings, SendSettings
from mailguard_core.model.tools import Posture
from mcp import Client
from tests.mcp.harness import account, limits, make_harness

LOOK_ALIKES = (
    "\u0430\u0435\u043e\u0440\u0441\u0455\u0456"  # Cyrillic a e o p c s i
    "\u03bf\u03b1\u0391"  # Greek omicron alpha Alpha
    "\uff41\uff50\uff59"  # fullwidth a p y
)
INVISIBLE = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"  # bidi
    "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width, soft hyphen
    "\u0301\u0338"  # combining
    "\u00a0\u3000\ue000\U000e0041"  # spaces, private use, a tag character
    "\u2026()\\"  # the clip marker's own characters and the escape's backslash
)
#: what mailguard refuses in a header (and a body's NUL): rarely drawn, so most calls get through
HOSTILE = "\x00\x07\x1b\x7f\r\t\n\u2028\u2029\u0085"
char = st.one_of(
    st.sampled_from(LOOK_ALIKES + INVISIBLE),
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    st.just("x"),
)
text = st.one_of(
    st.text(alphabet=char, max_size=40),
    st.text(alphabet=st.one_of(char, st.sampled_from(HOSTILE)), max_size=40),
)
long_text = st.one_of(text, st.builds(lambda t, n: (t * n)[:990], text, st.integers(5, 80)))
body_text = st.text(alphabet=st.one_of(char, st.sampled_from("\n\r\t\u2028\x0b")), max_size=300)
label = st.one_of(
    st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True),
    st.text(alphabet=st.sampled_from("abcxyz-0\u0430\u043e\u03bf\uff41"), min_size=1, max_size=12),
)
wild_address = st.builds(
    lambda local, name, tld: f"{local}@{name}.{tld}",
    st.one_of(
        st.from_regex(r"[a-z][a-z0-9._+]{0,18}[a-z0-9]", fullmatch=True),
        st.text(alphabet=st.sampled_from("abc.xyz_+-\u0430"), min_size=1, max_size=20),
    ),
    label,
    st.sampled_from(["example", "org", "xn--p1ai", "\u0440\u0444"]),
)
#: mostly addresses mailguard takes (a look-alike domain among them), sometimes wild ones
address = st.one_of(
    st.builds(
        lambda local, name, tld: f"{local}@{name}.{tld}",
        st.from_regex(r"[a-z][a-z0-9]{0,8}([._+-][a-z0-9]{1,8}){0,2}", fullmatch=True),
        st.sampled_from(["example", "p\u0430ypal", "xn--pypal-4ve", "\u0440\u0444", "b\u043ek"]),
        st.sampled_from(["org", "example", "\u0440\u0444"]),
    ),
    st.builds(lambda a: a.upper(), st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.org", fullmatch=True)),
    wild_address,
)

#: a display name as the agent may give it (``Name <addr>``, accepted since 69a40e6):
#: look-alikes, bidi and zero-width characters, quotes, commas, at signs; up to 150
#: characters, so that the summary shows it unclipped
name = st.text(
    alphabet=st.one_of(
        st.sampled_from(LOOK_ALIKES + INVISIBLE + "\",.@;:'x "),
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    ),
    min_size=1,
    max_size=150,
).filter(lambda n: "<" not in n and ">" not in n)
recipient = st.one_of(address, st.builds(lambda n, a: f"{n} <{a}>", name, address))

_ESCAPE = re.compile(r"\\u\{([0-9A-F]{4,6})\}")
_CLIP = re.compile(r"…\((\d+) more characters\)$")
_PARSER = email.parser.BytesParser(policy=email.policy.default)


def _unescape(shown: str) -> tuple[str, int]:
    """The original text of a shown value and how many characters were clipped."""
    clipped = 0
    match = _CLIP.search(shown)
    if match is not None:
        clipped = int(match.group(1))
        shown = shown[: match.start()]
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), shown), clipped


def _matches(shown: str, actual: str) -> bool:
    original, clipped = _unescape(shown)
    if clipped:
        return actual.startswith(original) and len(actual) - len(original) == clipped
    return original == actual


def _line(summary: str, key: str) -> str | None:
    for line in summary.split("\n"):
        if line.startswith(key + ": "):
            return line[len(key) + 2 :]
    return None


def _shown_addresses(summary: str) -> list[str]:
    found: list[str] = []
    for key in ("To", "Cc", "Bcc"):
        value = _line(summary, key)
        if value is not None:
            found += [_unescape(a)[0] for a in re.findall(r"<([^<>]*)>", value)]
    return found


def _invisible(char: str) -> bool:
    return char != "\n" and (unicodedata.category(char)[0] == "C" or char in "\u2028\u2029")


async def _send(tmp: Path, args: dict[str, Any], accept: bool) -> tuple[list[str], Any, Any]:
    h = make_harness(
        tmp,
        account(
            posture=Posture.FULL,
            display_name="Me \u202eEvil",
            confirm=ConfirmSettings(tools=("send_email",), timeout_seconds=5),
            limits=limits(1000.0, 1000, send_email="1000/s"),
            send=SendSettings(max_recipients=50),
        ),
    )
    shown: list[str] = []

    async def human(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        shown.append(params.message)
        if accept:
            return types.ElicitResult(action="accept", content={"approve": True})
        return types.ElicitResult(action="decline")

    async with Client(h.server(), mode="legacy", elicitation_callback=human) as client:
        result = await client.call_tool("send_email", args)
    return shown, result, h.senders["work"].sent


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    to=st.lists(recipient, min_size=1, max_size=3),
    cc=st.lists(recipient, max_size=2),
    bcc=st.lists(recipient, max_size=2),
    subject=long_text,
    body=st.one_of(body_text, long_text, st.lists(long_text, max_size=15).map("\n".join)),
    accept=st.booleans(),
)
def test_the_summary_the_human_approves_is_what_is_sent(
    tmp_path: Path,
    to: list[str],
    cc: list[str],
    bcc: list[str],
    subject: str,
    body: str,
    accept: bool,
) -> None:
    args = {"to": to, "cc": cc, "bcc": bcc, "subject": subject, "body": body}
    shown, result, sent = anyio.run(_send, tmp_path, args, accept)
    event("sent" if sent else "asked, declined" if shown else "refused before asking")
    if result.is_error:
        event(result.structured_content["error"]["message"][:60])
    if not accept or result.is_error:
        assert sent == []
        if shown:  # asked and declined: refused as such
            assert not accept
            assert result.structured_content["error"]["code"] == "confirmation_declined"
        return
    [summary] = shown
    [message] = sent
    check_shown_is_sent(summary, message.recipients, message.data)


def check_shown_is_sent(summary: str, recipients: Sequence[str], data: bytes) -> None:
    """The summary the human approved names exactly the envelope ``recipients`` and shows the
    subject and body lines of the message ``data`` (whole, or a prefix whose clipped length
    its marker states), with no character a reader cannot see."""
    assert not any(_invisible(c) for c in summary), ascii(summary)
    parsed = _PARSER.parsebytes(data)
    # every envelope recipient, and nobody else
    # (an address in both To and Cc is shown in both, as the headers carry it)
    assert {a.lower() for a in _shown_addresses(summary)} == {r.lower() for r in recipients}
    assert len(recipients) == len({r.lower() for r in recipients})
    # each To and Cc mailbox as the message carries it: display name and address
    for header in ("To", "Cc"):
        field = parsed[header]
        line = _line(summary, header)
        if field is None:
            assert line is None
            continue
        carried = ", ".join(
            f'"{a.display_name}" <{a.addr_spec}>' if a.display_name else f"<{a.addr_spec}>"
            for a in field.addresses
        )
        assert line is not None and _unescape(line)[0] == carried, (line, carried)
    subject_line = _line(summary, "Subject")
    assert subject_line is not None and _matches(subject_line, str(parsed["Subject"]))
    plain = parsed.get_body(preferencelist=("plain",))
    sent_body = plain.get_content().replace("\r\n", "\n") if plain is not None else ""
    if sent_body.endswith("\n"):
        sent_body = sent_body[:-1]
    sent_lines = sent_body.split("\n")
    body_part = summary.split("Body (first lines):\n", 1)[1].split("\n")
    shown_lines = [line[4:] for line in body_part if line.startswith("  | ")]
    for index, line in enumerate(shown_lines):
        if re.fullmatch(r"…\(\d+ more lines\)", line) and index == len(shown_lines) - 1:
            assert int(line[2:].split()[0]) == len(sent_lines) - index
            break
        assert _matches(line, sent_lines[index]), (index, line, sent_lines[index])
    assert shown_lines, "the body preview is never empty"
