"""Diagnostics of `filmc plan --prompts` and `filmc export`: a golden per code, and its explain page.

The prompt linter (W0801-W0806, E0801) and the exporters (W0701-W0707) run after `filmc check`,
so their goldens run the command that prints them. `tests/golden/commands/CODE.cmd` holds that
command line, in which FILM stands for `CODE.film` and OUT for a fresh temporary folder; it runs
from the repository root with `--color never`, and its stderr is compared exactly with
`CODE.stderr`, the temporary folder shown as `$OUT` and the checkout as `$ROOT`. Regenerate after
an intended change with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_command_diagnostics_golden.py

and review the diff.

`W0706.otio` is the timeline `filmc build` writes for W0706.film (`build_timeline` with a media
file per shot, URLs made relative) with the second shot's media cut to exactly the shot: a clip
rendered or replaced without handle frames. `templates/` holds the style templates of W0805 and
E0801.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from filmc.compiler.check import check_file
from filmc.compiler.explain import CODES_DIR
from filmc.compiler.fmt import format_source
from test_diagnostics_golden import ROOT, UPDATE, command_codes, normalise, run_cli

GOLDEN = ROOT / "tests" / "golden" / "commands"
RENDERED_CODE = re.compile(r"^(?:error|warning)\[([EW]\d{4})\]", re.M)


def golden_commands() -> list[str]:
    return sorted(p.stem for p in GOLDEN.glob("*.cmd"))


def command_argv(code: str, out: Path) -> list[str]:
    """CODE.cmd as `filmc` arguments: FILM -> the golden film (relative, as a user types it),
    OUT/... -> a path in `out`."""
    words = shlex.split((GOLDEN / f"{code}.cmd").read_text(encoding="utf-8"))
    assert words[0] == "filmc" and words[1] in ("plan", "export"), f"{code}.cmd must run filmc plan or export"
    argv = []
    for word in words[1:]:
        if word == "FILM":
            word = f"tests/golden/commands/{code}.film"
        elif word.startswith("OUT/"):
            word = str(out / word.removeprefix("OUT/"))
        argv.append(word)
    return argv + ["--color", "never"]


def without_temp(text: str, out: Path) -> str:
    for path in {str(out.resolve()), str(out)}:
        text = text.replace(path + os.sep, "$OUT/")
    return normalise(text)


# --- golden renderings ----------------------------------------------------------------------


@pytest.mark.parametrize("code", golden_commands())
def test_command_golden(code: str, tmp_path: Path) -> None:
    argv = command_argv(code, tmp_path)
    status, stdout, stderr = run_cli(argv)
    actual = without_temp(stderr, tmp_path)
    expected_path = GOLDEN / f"{code}.stderr"
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.is_file(), f"no golden output for {code}; run with UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text(encoding="utf-8")
    assert code in RENDERED_CODE.findall(actual), f"{code} is not in its own golden output"
    has_errors = bool(re.search(r"^error\[", actual, re.M))
    if code.startswith("W"):
        assert not has_errors, f"{code}'s golden film should only warn"
    assert status == (1 if has_errors else 0)
    if status:
        assert not stdout, "a failed command prints no prompts and writes nothing"
    elif argv[0] == "export":
        written = Path(argv[argv.index("-o") + 1])
        assert written.is_file() and written.stat().st_size > 0
        assert stdout == f"wrote {written} ({argv[argv.index('--to') + 1]})\n"
    else:
        assert stdout.startswith("# ") and "\nimage: " in stdout, "the prompts are printed after the warnings"


def test_every_command_code_has_a_command() -> None:
    """A golden here runs only through CODE.cmd; a .film/.stderr pair without one would never run."""
    codes = command_codes()
    assert {"W0701", "W0707", "W0801", "W0806", "E0801"} <= set(codes)
    missing = [c for c in codes if (GOLDEN / f"{c}.film").is_file() and not (GOLDEN / f"{c}.cmd").is_file()]
    assert not missing, f"goldens without CODE.cmd: {missing}"
    stray = [c for c in golden_commands() if c not in codes]
    assert not stray, f"goldens for codes that neither the exporters nor the prompt linter emit: {stray}"


# --- filmc explain ------------------------------------------------------------------------------


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S)


@pytest.mark.parametrize("code", command_codes())
def test_command_explain_page(code: str) -> None:
    text = (CODES_DIR / f"{code}.md").read_text(encoding="utf-8")
    status, stdout, stderr = run_cli(["explain", code.lower()])
    assert status == 0 and not stderr
    assert stdout == text.rstrip() + "\n", "`filmc explain` prints the page, ending in exactly one newline"
    title = text.splitlines()[0]
    assert title.startswith(f"# {code}: ") and len(title) > len(code) + 8
    prose = [p for p in re.split(r"\n\s*\n", re.sub(r"^```.*?^```$", "", text, flags=re.M | re.S))
             if p.strip() and not p.startswith("#")]
    assert prose and len(prose[0].split()) >= 60, f"{code}: say what it means and why it matters to an editor"
    blocks = _blocks(text)
    assert any(lang == "console" for lang, _ in blocks), f"{code}: show the command that reports it"
    assert len(blocks) >= 3, f"{code}: needs an example, its command, and what to do instead"


def _run_example(film: str, command: str, folder: Path) -> tuple[int, list[str], str]:
    """Run a page's `$ filmc ...` line on its film, written under the name the command uses."""
    argv = shlex.split(command)[1:]
    name = next(a for a in argv if a.endswith(".film"))
    (folder / name).write_text(film, encoding="utf-8")
    argv = [str(folder / a) if a == name else a for a in argv]
    status, _, stderr = run_cli(argv + ["--color", "never"])
    return status, RENDERED_CODE.findall(stderr), stderr


@pytest.mark.parametrize("code", command_codes())
def test_command_explain_examples_behave(code: str, tmp_path: Path) -> None:
    """The first film under the first command reports the code; the last film under the last command
    does not. Examples that need other files (templates, a built timeline) are ```text, only read."""
    blocks = _blocks((CODES_DIR / f"{code}.md").read_text(encoding="utf-8"))
    films = [body for lang, body in blocks if lang == "film"]
    commands = [line.removeprefix("$ ") for lang, body in blocks if lang == "console"
                for line in body.splitlines() if line.startswith("$ filmc ")]
    if not films:
        pytest.skip(f"{code}'s examples need other files")
    for film in films:
        assert format_source(film, "example.film") == film, f"{code}: an example is not in `filmc fmt` layout"
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    status, found, stderr = _run_example(films[0], commands[0], tmp_path / "bad")
    assert code in found, f"{code}: the example reports {found} instead:\n{stderr}"
    assert status == (1 if code.startswith("E") else 0)
    status, found, stderr = _run_example(films[-1], commands[-1], tmp_path / "good")
    assert code not in found and status == 0, f"{code}: the fixed example still reports {found}:\n{stderr}"


# --- checker behaviour these pages and goldens rely on ------------------------------------------


def _codes(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "example.film"
    path.write_text(text, encoding="utf-8")
    return [d.code for d in check_file(path).diagnostics]


FILM_WITH_UNUSED_PROP = """film "Night Shift" {
  resolution 1920x1080
  fps 24
}

prop baton "Telescoping baton"
"""


def test_no_unused_warnings_when_the_file_has_syntax_errors(tmp_path: Path) -> None:
    """The item a syntax error makes the parser skip may be the one that uses a definition."""
    assert _codes(tmp_path, FILM_WITH_UNUSED_PROP) == ["W0305"]
    broken = FILM_WITH_UNUSED_PROP + "\nscene stakeout at lot night {\n}\n"
    codes = _codes(tmp_path, broken)
    assert codes and all(c.startswith("E01") for c in codes), codes


def test_an_extends_cycle_is_reported_once(tmp_path: Path) -> None:
    text = """style a extends c {
  lighting "one"
}

style b extends a {
  lighting "two"
}

style c extends b {
  lighting "three"
}

style d extends d {
  lighting "four"
}

style e extends a {
  lighting "five"
}
"""
    path = tmp_path / "example.film"
    path.write_text(text, encoding="utf-8")
    cycles = [d for d in check_file(path).diagnostics if d.code == "E0303"]
    assert [d.message for d in cycles] == ["`extends` cycle: style `a` extends `c` extends `b` extends `a`",
                                          "`extends` cycle: style `d` extends `d`"]
    assert [d.span.line for d in cycles] == [1, 13]
    assert [lb.span.line for lb in cycles[0].labels] == [9, 5]
