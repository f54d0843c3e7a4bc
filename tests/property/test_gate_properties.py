"""Properties of the gate: no spelling, override or account switch reaches a denied tool, and
refused calls never take rate-limit tokens."""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mailguard_core.adapters.memory_audit import InMemoryAuditSink
from mailguard_core.config import AccountConfig, Config, RateLimitSettings, ToolOverrides
from mailguard_core.gate import FakeClock
from mailguard_core.model.errors import FolderProtected, RateLimited, ToolDenied
from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.services.dispatch import ToolGate as Gate
from tests.unit.test_gate_policy import MATRIX

NAMES = sorted(MATRIX)
GATED = sorted(n for n in NAMES if n not in {"list_accounts", "use_account"})
POSTURES = list(Posture)
ARGS: dict[str, Any] = {
    "message_ref": "acct0:INBOX:1:1",
    "message_refs": ["acct0:Spam:1:1"],
    "name": "New",
    "folder": "Spam",
    "new_name": "Other",
    "destination": "Archive",
}

#: characters that look like ASCII letters, underscores or nothing at all
LOOKALIKES = {
    "a": ["а", "ɑ", "ａ"],  # Cyrillic a, Latin alpha, fullwidth
    "e": ["е", "ｅ", "ℯ"],
    "o": ["о", "ο", "０"],
    "s": ["ѕ", "ｓ"],
    "l": ["ӏ", "ⅼ", "1"],
    "i": ["і", "ｉ"],
    "_": ["＿", "-", " ", "‗", "_\u200b"],
}


@st.composite
def spellings(draw: st.DrawFn) -> str:
    """Variants of a real tool name: case, whitespace, look-alikes, prefixes, invisibles."""
    name = draw(st.sampled_from(NAMES))
    how = draw(st.sampled_from(["case", "space", "lookalike", "prefix", "invisible", "compat"]))
    if how == "case":
        flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
        return "".join(c.upper() if f else c for c, f in zip(name, flips, strict=True))
    if how == "space":
        pad = st.sampled_from([" ", "\t", "\n", "\u00a0", "\u3000", "\r"])
        return draw(pad) * draw(st.integers(0, 2)) + name + draw(pad) * draw(st.integers(0, 2))
    if how == "lookalike":
        positions = [i for i, c in enumerate(name) if c in LOOKALIKES]
        i = draw(st.sampled_from(positions))
        return name[:i] + draw(st.sampled_from(LOOKALIKES[name[i]])) + name[i + 1 :]
    if how == "prefix":
        affix = draw(st.sampled_from(["mailguard.", "mailguard:", "tools/", "x", "_", "/"]))
        return draw(st.sampled_from([affix + name, name + affix, name[:-1], name + name[-1]]))
    if how == "invisible":
        i = draw(st.integers(0, len(name)))
        mark = draw(st.sampled_from(["\u200b", "\u200d", "\ufeff", "\u00ad", "\u2060", "\x00"]))
        return name[:i] + mark + name[i:]
    # combining marks and compatibility forms that NFKC would fold back to the ASCII name
    return draw(
        st.sampled_from(
            [
                name + "\u0301",
                unicodedata.normalize("NFKC", name) + "\u200c",
                name.replace("fl", "\ufb02"),
                name.replace("_", "\ufe4d"),
            ]
        )
    )


def build(postures: list[Posture], overrides: list[tuple[list[str], list[str]]]) -> Gate:
    accounts = tuple(
        AccountConfig(
            name=f"acct{i}",
            address=f"a{i}@x.example",
            posture=posture,
            tools=ToolOverrides(allow=tuple(allow), deny=tuple(deny)),
            limits=RateLimitSettings(burst=10_000, calls_per_second=1000.0, tools={}),
        )
        for i, (posture, (allow, deny)) in enumerate(zip(postures, overrides, strict=True))
    )
    return Gate.from_config(Config(accounts=accounts), InMemoryAuditSink(), clock=FakeClock())


def oracle(posture: Posture, allow: list[str], deny: list[str], tool: str) -> bool:
    """The spec's matrix with the overrides applied, computed from the literal table."""
    if tool in deny:
        return False
    return tool in allow or posture in MATRIX[tool]


def admitted(gate: Gate, tool: str, account: str | None) -> bool:
    try:
        args = dict(ARGS)
        if account is not None:
            args["message_refs"] = [f"{account}:Spam:1:1"]
            args["message_ref"] = f"{account}:INBOX:1:1"
        with gate.guard(tool, account, args):
            return True
    except ToolDenied:
        return False
    except FolderProtected:
        return True  # got past the posture check (folder rules are tested elsewhere)


overrides_st = st.lists(st.sampled_from(GATED), max_size=6, unique=True).flatmap(
    lambda allow: st.tuples(
        st.just(allow),
        st.lists(st.sampled_from([g for g in GATED if g not in allow]), max_size=6, unique=True),
    )
)


@given(
    postures=st.lists(st.sampled_from(POSTURES), min_size=1, max_size=3),
    data=st.data(),
)
def test_no_sequence_of_calls_and_account_switches_reaches_a_denied_tool(
    postures: list[Posture], data: st.DataObject
) -> None:
    """Whatever the overrides and the order of calls across accounts, each call is admitted
    exactly when the literal matrix plus that account's overrides allow it."""
    overrides = [data.draw(overrides_st) for _ in postures]
    gate = build(postures, [(list(a), list(d)) for a, d in overrides])
    steps = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(postures)), st.sampled_from(NAMES)),
            min_size=1,
            max_size=40,
        )
    )
    for index, tool in steps:
        if index == len(postures):  # an account switch, then a call without an account
            assert admitted(gate, "use_account", None)
            assert admitted(gate, tool, None) is (tool in {"list_accounts", "use_account"})
            continue
        allow, deny = overrides[index]
        expected = tool in {"list_accounts", "use_account"} or oracle(
            postures[index], list(allow), list(deny), tool
        )
        assert admitted(gate, tool, f"acct{index}") is expected, (tool, postures[index])


@given(
    posture=st.sampled_from(POSTURES),
    spelling=st.one_of(spellings(), st.text(max_size=30)),
)
def test_no_other_spelling_of_a_tool_name_is_admitted(posture: Posture, spelling: str) -> None:
    """Only exact tool names pass; case, whitespace, look-alikes and affixes are unknown tools."""
    gate = build([posture], [([], [])])
    result = admitted(gate, spelling, "acct0")
    if spelling in MATRIX:
        assert result is (posture in MATRIX[spelling])
    else:
        assert result is False
        assert gate.is_allowed(spelling, "acct0") is False


@given(
    account_spelling=st.sampled_from(["ACCT0", "acct0 ", " acct0", "аcct0", "acct0\u200b", "acct"]),
    tool=st.sampled_from(GATED),
)
def test_look_alike_account_names_are_unknown_accounts(account_spelling: str, tool: str) -> None:
    """An account name is matched exactly too; a look-alike is refused like a denied tool."""
    gate = build([Posture.DESTRUCTIVE], [([], [])])
    assert admitted(gate, tool, account_spelling) is False


# --------------------------------------------------------------------------- rate limits

RATE, BURST = 2.0, 3
TOOL_RATES = {"send_email": (1.0, 1), "create_draft": (4.0, 4)}


class ModelBuckets:
    """A reference token-bucket model: all or nothing, refused calls take nothing."""

    def __init__(self) -> None:
        self.tokens = {"*": float(BURST), **{t: float(b) for t, (_, b) in TOOL_RATES.items()}}
        self.now = 0.0

    def advance(self, dt: float) -> None:
        self.now += dt
        self.tokens["*"] = min(float(BURST), self.tokens["*"] + dt * RATE)
        for tool, (rate, burst) in TOOL_RATES.items():
            self.tokens[tool] = min(float(burst), self.tokens[tool] + dt * rate)

    def call(self, tool: str) -> bool:
        keys = ["*"] + ([tool] if tool in TOOL_RATES else [])
        if all(self.tokens[k] >= 1.0 for k in keys):
            for k in keys:
                self.tokens[k] -= 1.0
            return True
        return False


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.0, 0.125, 0.25, 0.5, 1.0, 3.0]),
            st.sampled_from(["search", "send_email", "create_draft", "denied", "protected"]),
        ),
        max_size=60,
    )
)
def test_refused_calls_never_consume_tokens(steps: list[tuple[float, str]]) -> None:
    """Against a reference bucket model that never sees refused calls, every admitted or
    rate-limited outcome agrees: denied, folder-protected and rate-limited calls take nothing."""
    account = AccountConfig(
        name="acct0",
        address="a@x.example",
        posture=Posture.FULL,
        tools=ToolOverrides(deny=("flag",)),
        limits=RateLimitSettings(
            calls_per_second=RATE, burst=BURST, tools={"send_email": "1/s", "create_draft": "4/s"}
        ),
    )
    clock = FakeClock(start=0.0)
    gate = Gate.from_config(Config(accounts=(account,)), InMemoryAuditSink(), clock=clock)
    model = ModelBuckets()
    for dt, kind in steps:
        clock.advance(dt)
        model.advance(dt)
        if kind == "denied":
            assert not admitted(gate, ToolName.FLAG.value, "acct0")
            continue
        if kind == "protected":
            try:
                with gate.guard("create_folder", "acct0", {"name": "INBOX"}):
                    raise AssertionError("a protected name passed")
            except FolderProtected:
                pass
            continue
        expected = model.call(kind)
        try:
            with gate.guard(kind, "acct0", {}):
                pass
            got = True
        except RateLimited as exc:
            assert exc.retry_after > 0
            got = False
        assert got is expected, (kind, model.tokens)
