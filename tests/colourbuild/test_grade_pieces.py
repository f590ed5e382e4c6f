"""The grade op's shortcuts give what the plain ways give: the middle frame decoded from its keyframe,
distinct colours found by one sort, and stills written as unfiltered PNGs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from filmc.runtime.colour.chain import build_chain
from filmc.runtime.colour.grade import Grade
from filmc.runtime.media_tools import ffmpeg_exe
from filmc.runtime.preview import grading
from filmc.runtime.preview.drawing import save_png
from PIL import Image


def _every_frame_middle(clip: Path) -> np.ndarray:
    with av.open(str(clip)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames[len(frames) // 2]


CLIPS = [
    ("ffv1_gop12.mov", ["-c:v", "ffv1", "-level", "3", "-g", "12", "-pix_fmt", "gbrp"]),
    ("ffv1_gop7.mov", ["-c:v", "ffv1", "-level", "3", "-g", "7", "-pix_fmt", "gbrp"]),
    ("ffv1.mkv", ["-c:v", "ffv1", "-g", "5"]),  # Matroska states no frame count: every frame is decoded
    ("bframes.mp4", ["-c:v", "libx264", "-bf", "2", "-g", "10", "-pix_fmt", "yuv420p"]),  # reorders
]


@pytest.mark.parametrize("frames", [1, 2, 37])
@pytest.mark.parametrize(("name", "codec"), CLIPS)
def test_middle_frame_is_the_one_full_decoding_gives(tmp_path: Path, name: str, codec: list[str],
                                                      frames: int) -> None:
    clip = tmp_path / name
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s=96x54:r=24:d={frames / 24}",
                    *codec, str(clip)], check=True)
    expected = grading._small(Image.fromarray(_every_frame_middle(clip)))
    np.testing.assert_array_equal(grading._middle_frame(clip), expected)


def _chain():
    return build_chain(Grade(exposure=0.3, saturation=1.2, temperature=0.1), "rec709", "rec709",
                       rendering="colorimetric")


def _per_colour_reference(chain, codes: np.ndarray) -> np.ndarray:
    colours, index = np.unique(codes, axis=0, return_inverse=True)
    graded = np.clip(chain.apply(colours.astype(np.float32) / 255.0), 0.0, 1.0) * 255.0 + 0.5
    return graded.astype(np.uint8)[index.reshape(-1)]


@pytest.mark.parametrize("distinct", [1, 300, 70_000])  # 70k: more colours than the uint16 table holds
def test_grade_codes_match_grading_each_colour(distinct: int) -> None:
    rng = np.random.default_rng(distinct)
    palette = rng.integers(0, 256, (distinct, 3), dtype=np.uint8)
    codes = palette[rng.integers(0, distinct, 200_000)]
    chain = _chain()
    np.testing.assert_array_equal(grading.grade_codes(chain, codes), _per_colour_reference(chain, codes))


def test_graded_still_keeps_alpha_and_grades_visible_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (40, 64, 4), dtype=np.uint8)
    rgba[..., 3] = np.where(rng.random((40, 64)) < 0.5, 0, rgba[..., 3])
    empty = rgba.copy()
    empty[..., 3] = 0
    chain = _chain()
    for name, pixels in (("some", rgba), ("none", empty)):
        Image.fromarray(pixels, "RGBA").save(tmp_path / f"{name}.png")
        grading._grade_still(chain, tmp_path / f"{name}.png", tmp_path / f"{name}_graded.png")
        out = np.asarray(Image.open(tmp_path / f"{name}_graded.png"))
        visible = pixels[..., 3] > 0
        np.testing.assert_array_equal(out[..., 3], pixels[..., 3])
        np.testing.assert_array_equal(out[~visible], pixels[~visible])
        if visible.any():
            np.testing.assert_array_equal(out[visible, :3], _per_colour_reference(chain, pixels[visible, :3]))


FFMPEG_PIX = {"L": "gray", "LA": "ya8", "RGB": "rgb24", "RGBA": "rgba"}


@pytest.mark.parametrize("mode", list(FFMPEG_PIX))
def test_saved_png_reads_back_identical_in_pillow_and_ffmpeg(tmp_path: Path, mode: str) -> None:
    rng = np.random.default_rng(7)
    for width, height in ((1, 1), (7, 3), (321, 179)):
        shape = (height, width) if mode == "L" else (height, width, len(mode))
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        path = save_png(Image.fromarray(pixels, mode), tmp_path / f"{mode}_{width}.png")
        with Image.open(path) as back:
            assert back.mode == mode
            np.testing.assert_array_equal(np.asarray(back), pixels)
        raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt",
                              FFMPEG_PIX[mode], "-"], capture_output=True, check=True).stdout
        assert raw == pixels.tobytes()


def test_pictures_pillow_must_write_keep_their_palette_and_transparency(tmp_path: Path) -> None:
    palette = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3)).convert("P")
    with Image.open(save_png(palette, tmp_path / "p.png")) as back:
        assert back.mode == "P"
        np.testing.assert_array_equal(np.asarray(back.convert("RGB")), np.asarray(palette.convert("RGB")))
    keyed = Image.new("RGB", (4, 4), (10, 20, 30))
    keyed.info["transparency"] = (10, 20, 30)
    with Image.open(save_png(keyed, tmp_path / "t.png")) as back:
        assert back.info.get("transparency") == (10, 20, 30)
