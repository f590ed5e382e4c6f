"""Definitions pass: AST definitions -> typed `ir.Definition`s, with `extends` merged.

Checks each property against `schema.py` (unknown key, duplicate key, type
and unit), required properties after inheritance, and `extends` cycles.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from . import ast, ir
from .diagnostics import Diagnostic, Label, Sink, did_you_mean
from .modules import Program
from .schema import DEFINITION_KINDS, EXTENDABLE, Prop
from .symbols import KIND_WORDS, Symbol, Symbols
from .values import ValueParser


def parse_properties(
    block: ast.Block | None, schema: dict[str, Prop], values: ValueParser, sink: Sink, what: str,
    symbols: Symbols, unknown_ok: bool = False,
) -> dict:
    """Typed values of a block's `key value...` lines (other statement kinds are ignored).

    With `unknown_ok`, keys outside the schema are left for the caller (scene
    bodies, where they are transitions)."""
    props: dict = {}
    seen: dict[str, ast.Property] = {}
    if block is None:
        return props
    for stmt in block.stmts:
        if not isinstance(stmt, ast.Property):
            continue
        spec = schema.get(stmt.key)
        if spec is None and unknown_ok:
            continue
        if spec is None:
            guess = did_you_mean(stmt.key, schema)
            sink.error("E0306", f"{what} has no property `{stmt.key}`", stmt.key_span, label="unknown property",
                       hint=f"did you mean `{guess}`?" if guess else "properties: " + ", ".join(schema))
            continue
        if stmt.key in seen and not spec.repeated:
            sink.add(Diagnostic("E0308", f"`{stmt.key}` is set twice", stmt.key_span, label="set again here",
                                labels=(Label(seen[stmt.key].key_span, "first set here"),),
                                hint="keep one of them"))
            continue
        seen[stmt.key] = stmt
        if spec.type == "variant":
            value = _variant(stmt, values, sink, symbols)
            if value is not None:
                props.setdefault(stmt.key, {}).update(value)
            continue
        value = values.parse(spec.type, stmt)
        if value is None:
            continue
        if spec.repeated:
            props.setdefault(stmt.key, []).append(value)
        else:
            props[stmt.key] = value
    return props


def _a(word: str) -> str:
    """`a style`, `an angle`."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


_VARIANT_SCHEMA = {
    "look": Prop("text", "How the place looks at this time of day."),
    "plate": Prop("path", "A user image for this time of day."),
}


def _variant(stmt: ast.Property, values: ValueParser, sink: Sink, symbols: Symbols) -> dict | None:
    if len(stmt.atoms) != 1 or stmt.block is None:
        sink.error("E0401", "`when` takes a time of day and a block", stmt.span, label="malformed",
                   hint='e.g. `when night { look "wet asphalt" }`')
        return None
    time = values.name(stmt.atoms[0], "time_of_day")
    if time is None:
        return None
    return {time: parse_properties(stmt.block, _VARIANT_SCHEMA, values, sink, "`when`", symbols)}


def lower_definitions(
    program: Program, symbols: Symbols, fps: Fraction, sink: Sink
) -> dict[str, dict[str, ir.Definition]]:
    out: dict[str, dict[str, ir.Definition]] = {k: {} for k in DEFINITION_KINDS}
    own: dict[tuple[str, str], dict] = {}

    def base_dir(sym: Symbol) -> Path:
        return program.directory_of(sym.module)

    def own_props(sym: Symbol) -> dict:
        cache_key = (sym.kind, sym.key)
        if cache_key not in own:
            values = ValueParser(
                sink, fps, lambda kind, atom: symbols.resolve(kind, atom.text, atom.span, sink, sym.std),
                base_dir(sym))
            own[cache_key] = parse_properties(sym.node.block, DEFINITION_KINDS[sym.kind], values, sink,
                                              _a(KIND_WORDS[sym.kind]), symbols)
        return own[cache_key]

    resolving: list[tuple[str, str]] = []
    """The `extends` chain being merged, outermost first."""
    reported: set[frozenset[tuple[str, str]]] = set()

    def report_cycle(cycle: list[tuple[str, str]]) -> None:
        """One E0303 per cycle, whichever of its members the merge started from."""
        if frozenset(cycle) in reported:
            return
        reported.add(frozenset(cycle))
        kind = cycle[0][0]
        nodes = [symbols.tables[kind][key].node for _, key in cycle]
        path = " extends ".join(f"`{n.name}`" for n in nodes + nodes[:1])
        sink.error("E0303", f"`extends` cycle: {KIND_WORDS[kind]} {path}", nodes[0].extends.span,
                   label="extends itself, directly or indirectly",
                   labels=tuple(Label(n.extends.span, "part of the cycle") for n in nodes[1:]),
                   hint="break the cycle: one of these must not extend the other" if len(nodes) > 1
                   else f"a {KIND_WORDS[kind]} cannot extend itself; extend another one, or nothing")

    def merged(sym: Symbol) -> tuple[dict, str | None]:
        node = sym.node
        parent_key = None
        props: dict = {}
        resolving.append((sym.kind, sym.key))
        if node.extends is not None:
            if sym.kind not in EXTENDABLE:
                sink.error("E0304", f"{_a(KIND_WORDS[sym.kind])} cannot `extends`", node.extends.span,
                           label="not extendable", hint="only " + ", ".join(sorted(EXTENDABLE)) + " can extend")
            else:
                parent_key = symbols.resolve(sym.kind, node.extends.dotted, node.extends.span, sink, sym.std)
                if parent_key is not None:
                    if (sym.kind, parent_key) in resolving:
                        report_cycle(resolving[resolving.index((sym.kind, parent_key)):])
                        parent_key = None
                    else:
                        parent = symbols.tables[sym.kind][parent_key]
                        props.update(merged(parent)[0])
        resolving.pop()
        props.update(own_props(sym))
        return props, parent_key

    for kind, table in symbols.tables.items():
        schema = DEFINITION_KINDS[kind]
        for key, sym in table.items():
            props, parent = merged(sym)
            for prop_name, spec in schema.items():
                if spec.required and prop_name not in props:
                    sink.error("E0307", f"{KIND_WORDS[kind]} `{sym.node.name}` is missing `{prop_name}`",
                               sym.node.name_span, label=f"needs `{prop_name}`", hint=f"add `{prop_name}`: {spec.doc}")
            out[kind][key] = ir.Definition(kind=kind, name=key, title=sym.node.title, extends=parent, props=props,
                                           std=sym.std, span=sym.node.span)
    return out
