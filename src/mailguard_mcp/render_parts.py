"""The pieces of a result's text: untrusted values written as safe single-line (or body)
text, the warning lines that come first, trusted ``meta`` lines, addresses, sizes and dates.
Used by :mod:`mailguard_mcp.render`, whose docstring states the guarantees (no ``<<`` from
content, no line breaks or reordering characters)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mailguard_core.sanitize.warnings import ADVICE

LT_LT_RE = re.compile(r"<(?=<)")
#: a detail value shown as it is; anything else is shown as ASCII-escaped JSON
_TOKEN_RE = re.compile(r"[\w.@:/+=-]{1,120}", re.ASCII)
_ZWJ = "\u200d"
_MAX_VALUES = 8
_SEVERITY_ORDER = {"adversarial": 0, "informational": 1}


# ---------------------------------------------------------------- escaping
def _escape_char(ch: str) -> str:
    return f"\\u{ord(ch):04x}"


def _unsafe(ch: str, keep: str) -> bool:
    """Controls, line and paragraph separators, format characters (bidi, zero-width; the
    joiner of emoji sequences excepted), surrogates, private-use and unassigned code points:
    everything ``str.isprintable`` refuses except spaces (``Zs``) and ``keep``."""
    if ch in keep or ch == _ZWJ or ch.isprintable():
        return False
    return unicodedata.category(ch) != "Zs"


def clean(value: Any, *, keep: str = "") -> str:
    """One value as plain text that cannot break a line, reorder text or write ``<<``."""
    text = str(value)
    if not text.isprintable():
        text = "".join(_escape_char(ch) if _unsafe(ch, keep) else ch for ch in text)
    if "<<" in text:
        text = LT_LT_RE.sub(r"\\u003c", text)
    return text


def clean_block(text: str) -> str:
    """A body: line feeds and tabs kept (``\\r\\n`` becomes ``\\n``), the rest as :func:`clean`."""
    return clean(str(text).replace("\r\n", "\n"), keep="\n\t")


def token_text(value: Any) -> str:
    """A warning detail value: plain when it is a simple token, else ASCII-escaped JSON."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _TOKEN_RE.fullmatch(text):
        return text
    quoted = json.dumps(text[:120], ensure_ascii=True)
    return quoted.replace("<", "\\u003c").replace(">", "\\u003e")


# ---------------------------------------------------------------- warnings
def _flatten(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        yield (
            "("
            + " ".join(f"{token_text(k)}={v}" for k, vs in value.items() for v in _flatten(vs))
            + ")"
        )
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    else:
        yield token_text(value)


def _count(warning: Mapping[str, Any]) -> int:
    detail = warning.get("detail") or {}
    n = detail.get("count") if isinstance(detail, Mapping) else None
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def warning_lines(
    warnings: Sequence[Mapping[str, Any]], where: Mapping[int, str] | None = None
) -> list[str]:
    """One line per warning code: severity, code, how many, where, merged detail values.

    ``where`` maps a warning's index to a label of the item it belongs to (a search hit).
    Adversarial codes come first; within a severity, the order found.
    """
    groups: dict[str, dict[str, Any]] = {}
    for i, w in enumerate(warnings):
        code = str(w.get("code", "?"))
        g = groups.setdefault(
            code,
            {"severity": str(w.get("severity", "?")), "n": 0, "loc": [], "detail": {}},
        )
        g["n"] += _count(w)
        if str(w.get("severity")) == "adversarial":
            g["severity"] = "adversarial"
        loc = (where or {}).get(i) or w.get("location")
        if loc and loc not in g["loc"]:
            g["loc"].append(loc)
        detail = w.get("detail") or {}
        if isinstance(detail, Mapping):
            for key, value in detail.items():
                if key == "count":
                    continue
                seen = g["detail"].setdefault(str(key), [])
                for shown in _flatten(value):
                    if shown not in seen:
                        seen.append(shown)
    lines = []
    ordered = sorted(groups.items(), key=lambda kv: _SEVERITY_ORDER.get(kv[1]["severity"], 2))
    for code, g in ordered:
        line = f"- {token_text(g['severity'])} {token_text(code)}"
        if g["n"] > 1:
            line += f" x{g['n']}"
        if g["loc"]:
            locs = [token_text(x) for x in g["loc"][:_MAX_VALUES]]
            line += " at " + ",".join(locs) + (",..." if len(g["loc"]) > _MAX_VALUES else "")
        parts = []
        for key, values in g["detail"].items():
            if not values:
                continue
            more = ",..." if len(values) > _MAX_VALUES else ""
            joined = ",".join(values[:_MAX_VALUES])
            parts.append(f"{token_text(key)}={joined}{more}")
        if parts:
            line += ": " + " ".join(parts)
        advice = ADVICE.get(code)
        if advice:  # the catalogue's one line for a model (trusted text)
            line += " -- " + clean(advice.strip())
        lines.append(line)
    return lines


# ---------------------------------------------------------------- meta
def is_set(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(scalar_text(v) for v in value)
    if isinstance(value, Mapping):
        return " ".join(f"{clean(k)}={scalar_text(v)}" for k, v in value.items() if is_set(v))
    return clean(value)


def meta_lines(meta: Mapping[str, Any], *, skip: Iterable[str] = (), prefix: str = "") -> list[str]:
    """``key: value`` lines for the keys that are set; nested objects flattened (``a.b``)."""
    lines = []
    skipped = set(skip)
    for key, value in meta.items():
        if key in skipped or not is_set(value):
            continue
        name = f"{prefix}{clean(key)}"
        if isinstance(value, Mapping):
            lines.extend(meta_lines(value, prefix=f"{name}."))
        elif isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value):
            lines.append(f"{name}:")
            lines.extend(f"  - {scalar_text(v)}" for v in value)
        else:
            lines.append(f"{name}: {scalar_text(value)}")
    return lines


# ---------------------------------------------------------------- untrusted parts
def address_text(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return clean(entry)
    name, address = clean(entry.get("name") or ""), clean(entry.get("address") or "")
    if name and address:
        return f"{name} <{address}>"
    return name or address


def addresses_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(address_text(v) for v in value)
    return address_text(value)


def size_text(n: Any) -> str:
    if not isinstance(n, int) or isinstance(n, bool):
        return clean(n)
    if n < 10_000:
        return f"{n} B"
    if n < 10_000_000:
        return f"{round(n / 1000)} KB"
    return f"{round(n / 1_000_000)} MB"


def attachment_line(a: Mapping[str, Any]) -> str:
    name = clean(a.get("filename") or "(no name)")
    facts = [clean(a.get("content_type") or "?"), size_text(a.get("size_bytes"))]
    if a.get("inline"):
        facts.append("inline")
    return f"part {clean(a.get('part_id', '?'))}: {name} ({', '.join(facts)})"


def short_date(value: Any) -> str:
    """``2026-11-23T07:30:00+00:00`` as ``2026-11-23 07:30Z``; other text as it is."""
    text = clean(value)
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(Z|[+-]\d\d:\d\d)?", text)
    if not m:
        return text
    zone = m.group(3) or ""
    return f"{m.group(1)} {m.group(2)}{'Z' if zone in ('+00:00', 'Z') else zone}"
