"""`filmc fmt`: golden layouts, meaning kept, idempotence, and the command's behaviour on disk."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
from pathlib import Path

import pytest
from filmc.compiler import cli
from filmc.compiler.diagnostics import render_all
from filmc.compiler.fmt import FormatError, ast_shape, format_paths, format_source
from filmc.compiler.source import SourceFile
from filmc.compiler.syntax import parse_source, parse_text

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "fmt"
PAIRS = sorted(p.name.removesuffix(".input.film") for p in GOLDEN.glob("*.input.film"))
EXAMPLE_DIRS = sorted({p.parent for p in (ROOT / "examples").rglob("*.film")})
STDLIB = sorted((ROOT / "stdlib").glob("*.film"))

UNFORMATTED = 'film "T" { resolution 640x360; fps 24 }\nprop a "A"  # kept\n'
FORMATTED = 'film "T" {\n  resolution 640x360\n  fps 24\n}\n\nprop a "A" # kept\n'
BROKEN = 'film "T" {\n  resolution 640x360\n}\nscene s at lot night {\n}\n'


def run_fmt(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["fmt", "--color", "never", *args])
    return status, out.getvalue(), err.getvalue()


# --- layout -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAIRS)
def test_golden_layout(name: str) -> None:
    source = (GOLDEN / f"{name}.input.film").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{name}.expected.film").read_text(encoding="utf-8")
    assert format_source(source, f"{name}.film") == expected
    assert format_source(expected, f"{name}.film") == expected


@pytest.mark.parametrize("name", PAIRS)
def test_golden_layout_keeps_meaning(name: str, tmp_path: Path, film_meaning) -> None:
    path = tmp_path / "film.film"
    source = (GOLDEN / f"{name}.input.film").read_text(encoding="utf-8")
    path.write_text(source, encoding="utf-8")
    before = film_meaning(path)
    path.write_text(format_source(source, str(path)), encoding="utf-8")
    assert film_meaning(path) == before


@pytest.mark.parametrize("folder", EXAMPLE_DIRS, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_format_without_changing_meaning(folder: Path, tmp_path: Path, film_meaning) -> None:
    """Each example folder is copied, every file formatted in place, and its films checked again."""
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    roots = cli.film_files([str(copy)])
    before = [film_meaning(r) for r in roots]
    for f in sorted(copy.rglob("*.film")):
        once = format_source(f.read_text(encoding="utf-8"), str(f))
        assert format_source(once, str(f)) == once
        f.write_text(once, encoding="utf-8")
    assert [film_meaning(r) for r in roots] == before


@pytest.mark.parametrize("path", STDLIB, ids=lambda p: p.name)
def test_stdlib_formats_idempotently(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = format_source(text, path.name)
    assert format_source(once, path.name) == once
    assert ast_shape(parse_text(once)[0]) == ast_shape(parse_text(text)[0])


def test_comments_survive_in_order() -> None:
    source = (GOLDEN / "comments.input.film").read_text(encoding="utf-8")
    before, _ = parse_text(source)
    after, _ = parse_text(format_source(source))
    assert [c.text for c in after.comments] == [c.text for c in before.comments]
    assert [c.trailing for c in after.comments] == [c.trailing for c in before.comments]


def test_crlf_tabs_and_continuations_normalise() -> None:
    source = 'prop\ta "A"\r\nprop b \\\r\n  "B"\r\n'
    assert format_source(source) == 'prop a "A"\nprop b "B"\n'


def test_number_then_db_name_stays_two_tokens() -> None:
    """`at 5` then the name `dB` on a continued line must not become the quantity `5 dB`."""
    source = "scene s at l, night {\n  sfx std.click at 5 \\\n  dB\n}\n"
    out = format_source(source)
    before, _ = parse_text(source)
    after, _ = parse_text(out)
    assert ast_shape(after) == ast_shape(before)
    assert [a.text for a in after.items[0].block.stmts[0].atoms] == ["std.click", "at", "5", "dB"]


def test_empty_and_comment_only_files() -> None:
    assert format_source("") == ""
    assert format_source("\n\n  \n;\n") == ""
    assert format_source("# only a comment\n\n\n# and another") == "# only a comment\n\n# and another\n"


def test_syntax_error_raises_with_the_checkers_diagnostics() -> None:
    with pytest.raises(FormatError) as caught:
        format_source(BROKEN, "broken.film")
    src = SourceFile("broken.film", BROKEN)
    _, diags = parse_source(src)
    assert [d.code for d in caught.value.diagnostics] == ["E0101"]
    assert caught.value.render() == render_all(diags, {"broken.film": src})


# --- format_paths and the CLI ----------------------------------------------------------------------


def test_check_mode_reports_and_writes_nothing(tmp_path: Path, capsys) -> None:
    path = tmp_path / "a.film"
    path.write_text(UNFORMATTED, encoding="utf-8")
    assert format_paths([path], check=True, colour=False) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"would reformat {path}\n")
    assert "-film \"T\" { resolution 640x360; fps 24 }" in out and "+  resolution 640x360" in out
    assert path.read_text(encoding="utf-8") == UNFORMATTED


def test_write_mode_rewrites_atomically_and_keeps_permissions(tmp_path: Path, capsys) -> None:
    path = tmp_path / "a.film"
    path.write_text(UNFORMATTED, encoding="utf-8")
    os.chmod(path, 0o640)
    assert format_paths([path], check=False, colour=False) == 0
    assert capsys.readouterr().out == f"reformatted {path}\n"
    assert path.read_text(encoding="utf-8") == FORMATTED
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.film"]
    assert format_paths([path], check=True, colour=False) == 0
    assert capsys.readouterr().out == ""


def test_syntax_errors_are_reported_and_the_file_left_alone(tmp_path: Path, capsys) -> None:
    broken, fine = tmp_path / "broken.film", tmp_path / "fine.film"
    broken.write_text(BROKEN, encoding="utf-8")
    fine.write_text(UNFORMATTED, encoding="utf-8")
    assert format_paths([broken, fine], check=False, colour=False) == 1
    captured = capsys.readouterr()
    assert "error[E0101]: unexpected name `night`" in captured.err
    assert captured.err.rstrip().endswith("1 error emitted")
    assert captured.out == f"reformatted {fine}\n"
    assert broken.read_text(encoding="utf-8") == BROKEN
    assert fine.read_text(encoding="utf-8") == FORMATTED


def test_byte_order_mark_is_dropped(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bom.film"
    path.write_bytes(b"\xef\xbb\xbf" + FORMATTED.encode("utf-8"))
    assert format_paths([path], check=False, colour=False) == 0
    assert path.read_bytes() == FORMATTED.encode("utf-8")


def test_not_utf8_is_refused(tmp_path: Path, capsys) -> None:
    path = tmp_path / "latin1.film"
    path.write_bytes('prop a "café"\n'.encode("latin-1"))
    assert format_paths([path], check=False, colour=False) == 2
    assert "not valid UTF-8" in capsys.readouterr().err
    assert path.read_bytes() == 'prop a "café"\n'.encode("latin-1")


def test_cli_fmt_on_a_directory(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.film").write_text(UNFORMATTED, encoding="utf-8")
    (tmp_path / "b.film").write_text(FORMATTED, encoding="utf-8")
    status, out, err = run_fmt("--check", str(tmp_path))
    assert (status, err) == (1, "")
    assert out.startswith("would reformat ") and "a.film" in out.splitlines()[0]
    assert "b.film" not in out
    status, out, err = run_fmt(str(tmp_path))
    assert (status, err) == (0, "") and out.startswith("reformatted ")
    assert run_fmt("--check", str(tmp_path)) == (0, "", "")
    status, _, err = run_fmt(str(tmp_path / "missing.film"))
    assert status == 2 and "no such file" in err


def test_a_layout_that_would_change_the_film_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    """The safety net: output that parses to a different AST is never written."""
    from filmc.compiler import fmt

    monkeypatch.setattr(fmt._Printer, "run", lambda self: 'prop a "B"\n')
    path = tmp_path / "a.film"
    path.write_text('prop a "A"\n', encoding="utf-8")
    assert format_paths([path], check=False, colour=False) == 3
    assert "internal error" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == 'prop a "A"\n'
