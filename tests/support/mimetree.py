"""Compare ``email_parser_shim.message_from_bytes`` (the transcribed parser, ``mimeparse``)
with the stdlib parser: whole trees, every attribute."""

from __future__ import annotations

import email
import random
from email import policy
from email.message import Message

from mailguard_core.sanitize.email_parser_shim import message_from_bytes as parse_bytes

_ATTRS = ("_headers", "_unixfrom", "_charset", "preamble", "epilogue", "_default_type")


def _diff(ours: Message, theirs: Message, path: str) -> str | None:
    """The first difference between two trees, described, or None."""
    if type(ours) is not type(theirs):
        return f"{path}: type {type(ours).__name__} != {type(theirs).__name__}"
    if sorted(vars(ours)) != sorted(vars(theirs)):
        return f"{path}: attributes {sorted(vars(ours))} != {sorted(vars(theirs))}"
    if ours.policy is not theirs.policy:
        return f"{path}: policy {ours.policy!r} != {theirs.policy!r}"
    for name in _ATTRS:
        a, b = getattr(ours, name), getattr(theirs, name)
        if type(a) is not type(b) or a != b:
            return f"{path}: {name} {a!r:.300} != {b!r:.300}"
    defects_a = [(type(d), d.args) for d in ours.defects]
    defects_b = [(type(d), d.args) for d in theirs.defects]
    if defects_a != defects_b:
        return f"{path}: defects {defects_a!r:.300} != {defects_b!r:.300}"
    pa, pb = ours._payload, theirs._payload
    if type(pa) is not type(pb):
        return f"{path}: payload type {type(pa).__name__} != {type(pb).__name__}"
    if isinstance(pa, list) and isinstance(pb, list):
        if len(pa) != len(pb):
            return f"{path}: {len(pa)} parts != {len(pb)}"
        for i, (a, b) in enumerate(zip(pa, pb, strict=True)):
            found = _diff(a, b, f"{path}.{i + 1}")
            if found:
                return found
    elif pa != pb:
        return f"{path}: payload {pa!r:.300} != {pb!r:.300}"
    return None


def _as_bytes(msg: Message) -> bytes | str:
    """``msg.as_bytes()`` (the same random boundary for a multipart without one), or the error."""
    state = random.getstate()
    random.seed(0)
    try:
        return msg.as_bytes()
    except Exception as exc:  # the stdlib's serializer can fail on odd trees: so must ours
        return f"{type(exc).__name__}: {exc}"
    finally:
        random.setstate(state)


def tree_difference(raw: bytes) -> str | None:
    """Where ``parse_bytes(raw)`` differs from ``email.message_from_bytes`` (None: nowhere)."""
    theirs = email.message_from_bytes(raw, policy=policy.compat32)
    ours = parse_bytes(raw)
    found = _diff(ours, theirs, "root")
    if found:
        return found
    # serializing can set a missing boundary: compare the trees first, then the bytes
    if _as_bytes(ours) != _as_bytes(theirs):
        return "as_bytes() differs"
    return None


def assert_same_tree(raw: bytes) -> None:
    found = tree_difference(raw)
    assert found is None, f"{found}\nmessage: {raw[:2000]!r}"
