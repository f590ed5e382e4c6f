"""Symbol tables: one namespace per definition kind, user names shadowing std.

`std.x` always means the standard library's `x`; a bare `x` is the user's
definition if there is one, else std's. Lookups record use, so unused user
definitions can be reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ast
from .diagnostics import Diagnostic, Label, Sink, did_you_mean
from .modules import Program
from .schema import DEFINITION_KINDS

KIND_WORDS = {k: k.replace("_", " ") for k in DEFINITION_KINDS}


@dataclass
class Symbol:
    kind: str
    key: str
    """Qualified key: `std.noir` or `sodium`."""
    node: ast.Definition
    module: str
    std: bool


@dataclass
class Symbols:
    tables: dict[str, dict[str, Symbol]] = field(default_factory=lambda: {k: {} for k in DEFINITION_KINDS})
    used: set[tuple[str, str]] = field(default_factory=set)

    def lookup(self, kind: str, name: str, from_std: bool = False) -> str | None:
        """The qualified key `name` refers to; inside std, bare names mean std's own."""
        table = self.tables[kind]
        if from_std and not name.startswith("std."):
            name = f"std.{name}"
        if name.startswith("std."):
            key = name if name in table else None
        elif name in table:
            key = name
        else:
            key = f"std.{name}" if f"std.{name}" in table else None
        if key:
            self.used.add((kind, key))
        return key

    def candidates(self, kind: str) -> list[str]:
        names = set()
        for key in self.tables[kind]:
            names.add(key)
            names.add(key.removeprefix("std."))
        return sorted(names)

    def resolve(self, kind: str, name: str, span, sink: Sink, from_std: bool = False) -> str | None:
        key = self.lookup(kind, name, from_std)
        if key is None:
            guess = did_you_mean(name, self.candidates(kind))
            known = [k.removeprefix("std.") for k in self.tables[kind]]
            hint = f"did you mean `{guess}`?" if guess else (
                f"define it with `{kind} {name.removeprefix('std.')} {{ ... }}`" if kind in (
                    "character", "location", "prop", "style", "voice", "grade") or not known
                else "known: " + ", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else ""))
            sink.error("E0301", f"unknown {KIND_WORDS[kind]} `{name}`", span, label=f"no such {KIND_WORDS[kind]}",
                       hint=hint)
        return key


def collect(program: Program, sink: Sink) -> Symbols:
    """Enter every definition into its kind's table; report duplicates with both spans."""
    symbols = Symbols()
    for module in program.modules:
        is_std = module.path in program.std_files
        for item in module.items:
            if not isinstance(item, ast.Definition):
                continue
            key = f"std.{item.name}" if is_std else item.name
            table = symbols.tables[item.kind]
            if key in table:
                first = table[key]
                sink.add(Diagnostic(
                    "E0302", f"{KIND_WORDS[item.kind]} `{item.name}` is defined twice", item.name_span,
                    label="defined again here", labels=(Label(first.node.name_span, "first defined here"),),
                    hint="rename one of them, or delete the duplicate",
                ))
                continue
            table[key] = Symbol(item.kind, key, item, module.path, is_std)
    return symbols
