"""Loading a film: the root file, its imports (depth first), and the standard library.

Every file is parsed once; import cycles and missing files are diagnostics.
The standard library (`stdlib/*.film`) is always loaded and is addressed as
`std.<name>`; `import std.<module>` only checks that the module exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import ast
from .diagnostics import Diagnostic, Label
from .source import SourceFile
from .syntax import parse_source

_HERE = Path(__file__).resolve().parent


def stdlib_dir() -> Path:
    """The shipped standard library: beside the sources in a checkout, or packaged."""
    for candidate in (_HERE.parent / "stdlib", _HERE / "stdlib"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("filmc's standard library (stdlib/) is missing from this installation")


def display_path(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


@dataclass
class Program:
    """All parsed modules of one film, std first, each import before its importer."""

    root: Path
    modules: list[ast.Module] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    std_files: set[str] = field(default_factory=set)
    paths: dict[str, Path] = field(default_factory=dict)
    """display path -> absolute path."""

    def user_modules(self) -> list[ast.Module]:
        return [m for m in self.modules if m.path not in self.std_files]

    def directory_of(self, module_path: str) -> Path:
        return self.paths[module_path].parent


def _read(path: Path, display: str, program: Program, diags: list[Diagnostic]) -> ast.Module:
    src = SourceFile.read(path, display)
    program.sources[display] = src
    program.paths[display] = path
    module, parse_diags = parse_source(src)
    diags.extend(parse_diags)
    return module


def load_stdlib(program: Program, diags: list[Diagnostic]) -> None:
    std = stdlib_dir()
    for path in sorted(std.glob("*.film")):
        display = f"<std>/{path.name}"
        program.std_files.add(display)
        program.modules.append(_read(path, display, program, diags))


def load_program(root: Path) -> tuple[Program, list[Diagnostic]]:
    """Parse `root`, everything it imports, and std. Never raises for user errors."""
    root = root.resolve()
    program = Program(root)
    diags: list[Diagnostic] = []
    load_stdlib(program, diags)
    std_modules = {Path(p).stem for p in program.std_files}
    done: set[Path] = set()
    stack: list[tuple[Path, ast.Import | None]] = []

    def visit(path: Path, via: ast.Import | None) -> None:
        if path in done:
            return
        if any(p == path for p, _ in stack):
            start = next(i for i, (p, _) in enumerate(stack) if p == path)
            chain = [display_path(p) for p, _ in stack[start:]] + [display_path(path)]
            assert via is not None
            diags.append(Diagnostic(
                "E0202", "import cycle: " + " -> ".join(chain), via.span, label="this import closes the cycle",
                labels=tuple(Label(imp.span, "imported here") for _, imp in stack[start + 1:] if imp),
                hint="move the shared definitions into a file that both import",
            ))
            return
        stack.append((path, via))
        module = _read(path, display_path(path), program, diags)
        for item in module.items:
            if not isinstance(item, ast.Import):
                continue
            if item.is_std:
                parts = item.target.split(".")
                if parts[0] != "std" or len(parts) != 2 or parts[1] not in std_modules:
                    diags.append(Diagnostic(
                        "E0203", f"no standard library module `{item.target}`", item.span,
                        label="not in std",
                        hint="std modules: " + ", ".join(f"std.{m}" for m in sorted(std_modules)),
                    ))
                continue
            target = (path.parent / item.target).resolve()
            if not target.is_file():
                diags.append(Diagnostic(
                    "E0201", f"cannot find imported file `{item.target}`", item.span, label="no such file",
                    hint=f"looked for {display_path(target)}; paths are relative to the importing file",
                ))
                continue
            visit(target, item)
        stack.pop()
        done.add(path)
        program.modules.append(module)

    if root.parent != stdlib_dir().resolve():  # a std file checked directly is already loaded
        visit(root, None)
    return program, diags
