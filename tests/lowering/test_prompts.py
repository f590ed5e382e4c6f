"""Prompts: content, lint rules, token budgets, template overrides, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from filmc.compiler import prompts as P
from filmc.compiler.check import CheckResult
from filmc.compiler.prompts import (
    IMAGE_FAMILIES,
    VIDEO_FAMILIES,
    Family,
    build_prompts,
    clip_tokens_approx,
    count_tokens,
    lint,
)
from lowering_support import FILM_NAME, REPO, checked

SD = IMAGE_FAMILIES["sd"]
LTX = VIDEO_FAMILIES["ltx"]


def test_shot_prompts_combine_the_film(small: CheckResult) -> None:
    ps = build_prompts(small.film)
    assert set(ps.shots) == {s.id for s in small.film.shots()}
    std = small.film.definitions
    p = ps.shots["s01_002"]
    medium = std["shot_type"]["std.medium"].props["prompt"]
    assert p.image.startswith(f"{medium}, Ana lifts the mug, young woman, short red hair, wearing green raincoat")
    assert "small tidy kitchen" in p.image and std["time_of_day"]["std.morning"].props["prompt"] in p.image
    push_in = std["camera_move"]["std.push_in"].props["prompt"]
    slow = std["camera_speed"]["std.slow"].props["prompt"]
    assert p.motion.startswith(f"Ana lifts the mug, {push_in}, {slow}")
    assert p.negative.startswith("cartoon, text, blurry")
    tired = ps.shots["s02_003"]
    assert "Ana looking tired" in tired.image  # the shot's end-state, for characters in frame
    night = ps.shots["s03_001"]
    assert "dark kitchen, fridge light" in night.image and "small tidy kitchen" not in night.image
    for shot_prompts in ps.shots.values():
        assert count_tokens(shot_prompts.image, "clip") <= SD.budget
        assert count_tokens(shot_prompts.negative, "clip") <= SD.budget
        assert count_tokens(shot_prompts.motion, "t5") <= LTX.budget
        assert shot_prompts.motion


def test_fixture_prompts_lint_clean(small: CheckResult) -> None:
    ps = build_prompts(small.film)
    assert [(d.code, d.message) for d in ps.diagnostics] == []


def test_dedupe_is_case_insensitive() -> None:
    out = lint("wide shot, Rainy street\nrainy street, neon\n~\nNEON", "image", SD)
    assert out.text == "wide shot, Rainy street, neon"
    assert [w[0] for w in out.warnings] == ["W0801"]
    assert "`rainy street`" in out.warnings[0][1] and "`NEON`" in out.warnings[0][1]


def test_budget_drops_whole_lines_from_the_end() -> None:
    essential = "\n".join(f"subject number {i} standing in the rain" for i in range(12))
    out = lint(essential + "\n~\nfilm grain\nsoft light", "image", SD)
    assert count_tokens(out.text, "clip") <= 77
    assert out.text.endswith("standing in the rain")  # whole phrases only: nothing cut mid-phrase
    assert "film grain" not in out.text and "soft light" in out.dropped
    assert [w[0] for w in out.warnings] == ["W0803"]
    optional_only = lint("wide shot\n~\n" + "\n".join(f"texture {i} with fine grain" for i in range(40)), "image",
                         SD)
    assert optional_only.warnings == [] and optional_only.dropped  # optional lines go silently


def test_over_budget_codes_per_kind() -> None:
    long = "\n".join(f"avoid thing number {i} in the picture" for i in range(60))
    assert [w[0] for w in lint(long, "negative", SD).warnings] == ["W0806"]
    assert [w[0] for w in lint(long, "motion", LTX).warnings] == ["W0804"]


def test_an_essential_line_keeps_the_phrases_that_fit() -> None:
    out = lint("two-shot\nAna waves, Ben nods, the dog barks at the mailman, rain starts\nkitchen", "image",
               Family("tiny", "clip", 14))
    assert out.text == "two-shot, Ana waves, Ben nods"
    assert out.dropped == ["the dog barks at the mailman, rain starts", "kitchen"]
    assert [w[0] for w in out.warnings] == ["W0803"]


def test_a_single_long_phrase_is_cut_without_a_dangling_word() -> None:
    words = " ".join(["the lighthouse keeper walks"] * 30) + " towards the"
    out = lint(words, "image", SD)
    assert count_tokens(out.text, "clip") <= 77
    assert out.text.split()[-1].lower() not in P.DANGLING
    assert [w[0] for w in out.warnings] == ["W0802", "W0803"]


def test_empty_motion_prompt_gets_a_default() -> None:
    out = lint("\n \n~\n", "motion", LTX)
    assert out.text == P.EMPTY_MOTION_DEFAULT and [w[0] for w in out.warnings] == ["W0805"]


def test_clip_token_counts() -> None:
    if P._REAL_CLIP is None:
        pytest.skip("instant-clip-tokenizer is not installed; the approximation is used")
    assert count_tokens("a photo of a cat", "clip") == 7  # 5 BPE tokens + start + end
    assert "exact" in P.TOKENIZERS["clip"]


def test_clip_approximation_tracks_the_real_tokenizer(small: CheckResult) -> None:
    if P._REAL_CLIP is None:
        pytest.skip("instant-clip-tokenizer is not installed; nothing to compare with")
    texts = [t for p in build_prompts(small.film).shots.values() for t in (p.image, p.motion, p.negative)]
    for text in texts:
        real, approx = P._REAL_CLIP(text), clip_tokens_approx(text)
        assert abs(approx - real) <= max(3, real // 8), (text, real, approx)


def _style_film(tmp_path: Path, template: str) -> Path:
    (tmp_path / "image.j2").write_text(template)
    film = tmp_path / "t.film"
    film.write_text('film "T" { resolution 64x64; fps 24 }\n'
                    'style custom { look "ink"; image_template "image.j2" }\n'
                    'location room { look "bare room" }\n'
                    'scene one at room, day {\n  style custom\n  shot wide 1s { action "A door opens." }\n}\n')
    return film


def test_style_template_override(tmp_path: Path) -> None:
    film = _style_film(tmp_path, "custom: {{ shot.action }}\n{{ style.look }}, ink\n{{ location.look }}\n")
    ps = build_prompts(checked(film).film)
    assert ps.shots["s01_001"].image == "custom: A door opens, ink, bare room"
    assert [d.code for d in ps.diagnostics] == ["W0801"]


def test_broken_template_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    film = _style_film(tmp_path, "{{ no_such_thing }}\n")
    ps = build_prompts(checked(film).film)
    (diag,) = [d for d in ps.diagnostics if d.code == "E0801"]
    assert "no_such_thing" in diag.message and diag.is_error
    assert diag.span is not None and diag.span.file.endswith("t.film")


def test_sandbox_blocks_unsafe_templates(tmp_path: Path) -> None:
    film = _style_film(tmp_path, "{{ shot.__class__.__mro__ }}\n")
    ps = build_prompts(checked(film).film)
    assert [d.code for d in ps.diagnostics if d.is_error] == ["E0801"]


def test_prompts_are_identical_across_processes(small: CheckResult, film_dir: Path) -> None:
    script = ("import json, sys; from pathlib import Path; from filmc.compiler.check import check_file;"
              "from filmc.compiler.prompts import build_prompts;"
              "ps = build_prompts(check_file(Path(sys.argv[1])).film);"
              "print(json.dumps({k: v.as_dict() for k, v in ps.shots.items()}, sort_keys=True))")
    out = subprocess.run([sys.executable, "-c", script, str(film_dir / FILM_NAME)], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    here = {k: v.as_dict() for k, v in build_prompts(small.film).shots.items()}
    assert out.strip() == json.dumps(here, sort_keys=True)
