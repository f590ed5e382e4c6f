"""Every diagnostic code: a golden rendering, a `filmc explain` page, and examples that behave.

`tests/golden/diagnostics/CODE.film` is checked with `filmc check --color
never` from the repository root and its stderr compared exactly with
`CODE.stderr`. Regenerate after an intended change with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_diagnostics_golden.py

and review the diff. The absolute checkout path, which appears in "file not
found" hints, is shown as `$ROOT`.
"""

from __future__ import annotations

import ast as pyast
import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from filmc.compiler import cli
from filmc.compiler.check import check_file
from filmc.compiler.explain import CODES_DIR
from filmc.compiler.fmt import format_source

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "diagnostics"
COMMAND_GOLDEN = ROOT / "tests" / "golden" / "commands"
CODE_RE = re.compile(r'"([EW]0\d{3})"')
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))


def front_end_modules() -> list[Path]:
    """The compiler modules `filmc check` runs: check.py and everything it imports, transitively.

    Found from the import statements, so a new pass (and its codes) is picked up
    as soon as check.py imports it; later stages (prompts, export) have codes of
    their own that `filmc check` never emits."""
    compiler = ROOT / "compiler"
    todo, seen = [compiler / "check.py"], set()
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for node in pyast.walk(pyast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, pyast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                todo.extend(compiler / f"{n.replace('.', '/')}.py" for n in names)
    return sorted(seen)


def codes_in(paths: list[Path]) -> set[str]:
    return {c for p in paths for c in CODE_RE.findall(p.read_text(encoding="utf-8"))}


def emitted_codes() -> list[str]:
    """Every code `filmc check` can emit: a literal "E0xxx"/"W0xxx" in a front-end module."""
    return sorted(codes_in(front_end_modules()))


def command_codes() -> list[str]:
    """Codes of the later stages (prompts, export), which `filmc plan` and `filmc export` print;
    their goldens are in tests/golden/commands (tests/test_command_diagnostics_golden.py)."""
    compiler = ROOT / "compiler"
    return sorted(codes_in([compiler / "prompts.py", *sorted((compiler / "export").glob("*.py"))]))


def golden_codes() -> list[str]:
    return sorted(p.stem for p in GOLDEN.glob("*.film") if re.fullmatch(r"[EW]0\d{3}", p.stem))


def normalise(stderr: str) -> str:
    """The checker's output with the checkout path replaced, so goldens hold on any machine."""
    return stderr.replace(str(ROOT) + os.sep, "$ROOT/")


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """`filmc ARGV` in this process, from the repository root: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(argv)
    finally:
        os.chdir(cwd)
    return status, out.getvalue(), err.getvalue()


def check_golden(code: str) -> tuple[int, str]:
    status, _, stderr = run_cli(["check", "--color", "never", f"tests/golden/diagnostics/{code}.film"])
    return status, stderr


# --- golden renderings ----------------------------------------------------------------------


@pytest.mark.parametrize("code", golden_codes())
def test_golden_rendering(code: str) -> None:
    status, stderr = check_golden(code)
    actual = normalise(stderr)
    expected_path = GOLDEN / f"{code}.stderr"
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.is_file(), f"no golden output for {code}; run with UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text(encoding="utf-8")
    assert re.search(rf"^(error|warning)\[{code}\]", actual, re.M), f"{code} is not in its own golden output"
    has_errors = bool(re.search(r"^error\[", actual, re.M))
    if code.startswith("W"):
        assert not has_errors, f"{code}'s golden film should only warn"
    assert status == (1 if has_errors else 0)


def test_every_emitted_code_has_a_page_and_a_golden_film() -> None:
    codes = emitted_codes() + command_codes()
    assert len(codes) >= 55
    no_page = [c for c in codes if not (CODES_DIR / f"{c}.md").is_file()]
    no_golden = [c for c in codes if not any((d / f"{c}.film").is_file() and (d / f"{c}.stderr").is_file()
                                             for d in (GOLDEN, COMMAND_GOLDEN))]
    assert not no_page, f"codes without compiler/error_codes/CODE.md: {no_page}"
    assert not no_golden, f"codes without a golden film and output: {no_golden}"
    anywhere = codes_in(list((ROOT / "compiler").rglob("*.py")))
    stale = sorted({p.stem for p in CODES_DIR.glob("*.md")} - anywhere)
    assert not stale, f"pages for codes the compiler no longer emits: {stale}"


# --- filmc explain ------------------------------------------------------------------------------


def _page_parts(code: str) -> tuple[str, list[tuple[str, str]]]:
    text = (CODES_DIR / f"{code}.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S)
    return text, blocks


@pytest.mark.parametrize("code", emitted_codes())
def test_explain_page(code: str) -> None:
    status, stdout, stderr = run_cli(["explain", code.lower()])
    assert status == 0 and not stderr
    text, blocks = _page_parts(code)
    assert stdout.rstrip("\n") == text.rstrip()
    title = text.splitlines()[0]
    assert title.startswith(f"# {code}: ") and len(title) > len(code) + 8
    prose = [p for p in re.split(r"\n\s*\n", re.sub(r"^```.*?^```$", "", text, flags=re.M | re.S))
             if p.strip() and not p.startswith("#")]
    assert prose and len(prose[0].split()) >= 25, f"{code}: explain the rule and why it matters in a paragraph"
    assert len(blocks) >= 2, f"{code}: needs an erroneous example and a fixed one"


def _check_text(tmp_path: Path, text: str) -> list:
    path = tmp_path / "example.film"
    path.write_text(text, encoding="utf-8")
    return check_file(path).diagnostics


@pytest.mark.parametrize("code", emitted_codes())
def test_explain_examples_behave(code: str, tmp_path: Path) -> None:
    """The first example must raise the code; the last must check clean and be `filmc fmt` output.

    Examples that need other files (imports, footage) are marked ```text and only read."""
    _, blocks = _page_parts(code)
    (bad_lang, bad), (good_lang, good) = blocks[0], blocks[-1]
    if bad_lang != "film" and good_lang != "film":
        pytest.skip(f"{code}'s examples need other files")
    if bad_lang == "film":
        found = {d.code for d in _check_text(tmp_path, bad)}
        assert code in found, f"{code}: the erroneous example raises {sorted(found)} instead"
    if good_lang == "film":
        left = [f"{d.code} {d.message}" for d in _check_text(tmp_path, good)]
        assert not left, f"{code}: the fixed example still reports {left}"
        assert format_source(good, "fixed.film") == good, f"{code}: the fixed example is not in `filmc fmt` layout"


def test_explain_unknown_code_fails_cleanly() -> None:
    status, stdout, stderr = run_cli(["explain", "E9999"])
    assert status == 2 and not stdout
    assert stderr.startswith("filmc: error: no such diagnostic code `E9999`") and "Traceback" not in stderr


def test_explain_through_the_installed_command() -> None:
    exe = Path(sys.executable).with_name("filmc")
    ok = subprocess.run([str(exe), "explain", "E0402"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("# E0402: ")
    bad = subprocess.run([str(exe), "explain", "nonsense"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert bad.returncode == 2 and "no such diagnostic code" in bad.stderr and not bad.stdout


# --- the standard library -----------------------------------------------------------------------


def test_stdlib_checks_clean(tmp_path: Path) -> None:
    """The standard library is loaded into every film: it must itself check without a diagnostic."""
    empty = tmp_path / "empty.film"
    empty.write_text("", encoding="utf-8")
    assert [f"{d.code} {d.span}: {d.message}" for d in check_file(empty).diagnostics] == []
