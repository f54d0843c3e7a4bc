"""Custom properties: ``var()`` substituted from an element's own and inherited ones."""

from __future__ import annotations

import tinycss2

from mailguard_core.sanitize.css_declarations import Declarations

_VAR_DEPTH = 16


def needs_context(decl: Declarations) -> bool:
    """Whether ``decl`` uses ``var()`` (its facts depend on inherited custom properties)."""
    return any("var(" in value for value, _ in decl.values())


def resolve_vars(decl: Declarations, inherited: tuple[tuple[str, str], ...]) -> Declarations:
    """``decl`` with every ``var()`` substituted from its own and inherited custom properties.

    A property whose substitution fails (undefined without fallback, a cycle, too deep) is
    dropped: it is invalid at computed-value time, so it computes to its unset value.
    """
    custom = dict(inherited)
    custom.update((k, v) for k, (v, _) in decl.items() if k.startswith("--"))
    out: Declarations = {}
    for prop, (value, important) in decl.items():
        if "var(" in value and not prop.startswith("--"):
            resolved = _substitute(value, custom, 0)
            # a failed substitution makes the property unset (invalid at computed-value time)
            value = "unset" if resolved is None else " ".join(resolved.split()).lower()
        out[prop] = (value, important)
    return out


def _substitute(value: str, custom: dict[str, str], depth: int) -> str | None:
    if depth > _VAR_DEPTH:
        return None
    out: list[str] = []
    for token in tinycss2.parse_component_value_list(value, skip_comments=True):
        if token.type == "function" and token.lower_name == "var":
            args = [t for t in token.arguments if t.type not in ("whitespace", "comment")]
            if not args or args[0].type != "ident":
                return None
            name = args[0].value
            found = custom.get(name)
            if found is not None:
                sub = _substitute(found, custom, depth + 1)
            else:
                text = tinycss2.serialize(token.arguments)
                _, comma, fallback = text.partition(",")
                sub = _substitute(fallback, custom, depth + 1) if comma else None
            if sub is None:
                return None
            out.append(f" {sub} ")
        elif token.type == "function" and "var(" in token.serialize():
            inner = _substitute(tinycss2.serialize(token.arguments), custom, depth + 1)
            if inner is None:
                return None
            out.append(f"{token.name}({inner})")
        else:
            out.append(token.serialize())
    return "".join(out)
