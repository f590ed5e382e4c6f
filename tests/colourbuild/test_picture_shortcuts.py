"""The picture-preparation shortcuts give what the plain ways give: the lossless intermediate clips,
kept decodes and tables, cached backgrounds and the contact sheet's opaque layers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from filmc.runtime.colour.chain import build_chain
from filmc.runtime.colour.grade import Grade
from filmc.runtime.media_tools import ffmpeg_exe
from filmc.runtime.preview import compose, contact_sheet, grading
from filmc.runtime.preview.conform import INTERMEDIATE
from filmc.runtime.preview.drawing import png_bytes, save_png
from PIL import Image


def _raw(path: Path) -> bytes:
    return subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gbrp", "-"],
                          capture_output=True, check=True).stdout


def test_intermediate_clip_is_lossless_intra_and_the_same_bytes_at_any_thread_count(tmp_path: Path) -> None:
    source = ["-f", "lavfi", "-i", "testsrc2=s=160x90:r=24:d=1", "-vf", "format=gbrp"]
    ffv1 = tmp_path / "ffv1.mov"
    subprocess.run([ffmpeg_exe(), "-v", "error", *source, "-c:v", "ffv1", "-level", "3", "-pix_fmt", "gbrp",
                    str(ffv1)], check=True)
    clips = []
    for threads in (1, 3):
        clip = tmp_path / f"intermediate_{threads}.mov"
        subprocess.run([ffmpeg_exe(), "-v", "error", *source, *INTERMEDIATE, "-threads", str(threads),
                        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-f", "mov", str(clip)], check=True)
        clips.append(clip)
    assert clips[0].read_bytes() == clips[1].read_bytes()
    assert _raw(clips[0]) == _raw(ffv1)
    with av.open(str(clips[0])) as container:
        stream = container.streams.video[0]
        assert stream.frames == 24 and not stream.codec_context.codec.reorder
        assert all(p.is_keyframe for p in container.demux(stream) if p.size)
    middle = grading._middle_frame(clips[0])
    with av.open(str(clips[0])) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    np.testing.assert_array_equal(middle, grading._small(Image.fromarray(frames[12])))
    for index in (0, 12, 23, 40):  # 40: past the end, the last frame
        np.testing.assert_array_equal(contact_sheet._clip_frame(clips[0], index), frames[min(index, 23)])


def _per_colour(chain, codes: np.ndarray) -> np.ndarray:
    colours, index = np.unique(codes, axis=0, return_inverse=True)
    graded = np.clip(chain.apply(colours.astype(np.float32) / 255.0), 0.0, 1.0) * 255.0 + 0.5
    return graded.astype(np.uint8)[index.reshape(-1)]


def test_the_kept_colour_table_carries_nothing_from_one_still_to_the_next() -> None:
    chain = build_chain(Grade(exposure=-0.4, saturation=0.7), "rec709", "rec709", rendering="colorimetric")
    rng = np.random.default_rng(11)
    first = rng.integers(0, 256, (5000, 3), dtype=np.uint8)
    second = np.concatenate([first[::3], rng.integers(0, 256, (4000, 3), dtype=np.uint8)])
    for codes in (first, second, first[:7]):
        np.testing.assert_array_equal(grading.grade_codes(chain, codes), _per_colour(chain, codes))


def test_a_kept_decoded_picture_is_read_again_when_its_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "layer.png"
    save_png(Image.new("RGB", (8, 4), (10, 20, 30)), path)
    assert grading._loaded(path).getpixel((0, 0)) == (10, 20, 30)
    save_png(Image.new("RGB", (9, 4), (40, 50, 60)), path)
    os.utime(path, ns=(1, 1))
    assert grading._loaded(path).getpixel((0, 0)) == (40, 50, 60)


def test_opaque_layers_framed_in_rgb_equal_framing_in_rgba() -> None:
    """Pillow resamples RGBA premultiplied: at full alpha that is the RGB arithmetic, so the contact
    sheet frames an RGB background without the two conversions."""
    rng = np.random.default_rng(5)
    picture = Image.fromarray(rng.integers(0, 256, (90, 160, 3), dtype=np.uint8), "RGB")
    for box in ((0.0, 0.0, 160.0, 90.0), (13.37, 7.5, 141.2, 80.1), (2.0, 2.25, 150.5, 88.0), (40.0, 20.0, 60.0, 31.0)):
        for size in ((64, 36), (160, 90), (300, 170)):
            direct = picture.resize(size, Image.Resampling.BILINEAR, box=box)
            via_rgba = picture.convert("RGBA").resize(size, Image.Resampling.BILINEAR, box=box).convert("RGB")
            assert direct.tobytes() == via_rgba.tobytes(), (box, size)


def test_layer_frame_of_an_opaque_picture(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    path = save_png(Image.fromarray(rng.integers(0, 256, (45, 80, 3), dtype=np.uint8), "RGB"), tmp_path / "b.png")
    layer = {"zoom": "1.1", "x": "3", "y": "-2"}
    rgb = contact_sheet._layer_frame(path, layer, 0, 64, 36, opaque=True)
    rgba = contact_sheet._layer_frame(path, layer, 0, 64, 36)
    assert (rgb.mode, rgba.mode) == ("RGB", "RGBA")
    assert rgb.tobytes() == rgba.convert("RGB").tobytes()


@pytest.mark.parametrize("angle", ["", "low", "high", "dutch"])
def test_a_kept_background_is_the_one_drawn_afresh(tmp_path: Path, angle: str) -> None:
    rng = np.random.default_rng(8)
    plate = save_png(Image.fromarray(rng.integers(0, 256, (72, 128, 3), dtype=np.uint8), "RGB"), tmp_path / "p.png")

    def fresh() -> bytes:
        with Image.open(plate) as img:
            background = compose._background(img.convert("RGB"), 100, 56, angle)
        return png_bytes(compose._tilt(background, fill=None) if angle == "dutch" else background)

    first = compose.background_png(plate, 100, 56, angle)
    assert first == fresh()
    assert compose.background_png(plate, 100, 56, angle) is first  # kept
    save_png(Image.new("RGB", (128, 72), (200, 10, 10)), plate)
    os.utime(plate, ns=(2, 2))
    assert compose.background_png(plate, 100, 56, angle) == fresh() != first
