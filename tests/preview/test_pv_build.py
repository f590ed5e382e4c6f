"""End-to-end preview builds: frame-exact pictures, transitions, A/V sync, determinism, incremental rebuilds."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from filmc.runtime.media_tools import ffmpeg_exe
from filmc.runtime.preview.picture_scan import has_loopback_decoding, scan_picture
from filmc.runtime.preview.qc import judge_picture
from filmc.runtime.sound import measure_ebur128
from pv_support import (
    REPO,
    TWO_SHOTS,
    decoded_frames,
    executed_since,
    frame_hashes,
    last_run,
    query,
    run_build,
    timeline_frames,
    write_film,
)


@pytest.mark.slow
def test_short_example_matches_its_timeline(tmp_path: Path) -> None:
    film = REPO / "examples" / "short" / "blackout.film"
    built = run_build(film, tmp_path / "out", tmp_path / "cache", scale=0.125)
    assert built.code == 0, built.stderr
    frames, fps = timeline_frames(film)
    movie = built.file("blackout.mp4")
    with av.open(str(movie)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (160, 90)
        assert v.average_rate == Fraction(fps)
        duration = v.duration * v.time_base
    assert len(decoded_frames(movie, "yuv420p")) == frames
    assert duration == Fraction(frames) / Fraction(fps)
    qc = json.loads(built.file("qc.json").read_text())
    assert qc["errors"] == 0, qc
    assert {p.name for p in built.out.iterdir()} >= {"blackout.mp4", "blackout.otio", "contact_sheet.png", "qc.json",
                                                    "mix.wav", "stems", "blackout.srt", "blackout.vtt", "audio"}
    timeline = otio.adapters.read_from_file(str(built.file("blackout.otio")))
    video = timeline.video_tracks()[0]
    assert video.duration().value == frames
    urls = {clip.media_reference.target_url for clip in video.find_clips()}
    assert urls == {movie.resolve().as_uri()}
    dialogue = timeline.audio_tracks()[0]
    assert all(Path(c.media_reference.target_url.removeprefix("file://")).is_file() for c in dialogue.find_clips())


TRANSITIONS = """\
film "Cuts" {
  resolution 128x72
  fps 23.976
  loudness -14 LUFS
  export web_mp4
}

location red "Red room" {
  look "solid red"
  plate "red.png"
}

location blue "Blue room" {
  look "solid blue"
  plate "blue.png"
}

location green "Green room" {
  look "solid green"
  plate "green.png"
}

scene one "One" at red, day {
  fade_in 6f
  shot a: wide 24f
}

scene two "Two" at blue, day {
  dissolve 12f
  shot b: wide 24f
}

scene three "Three" at green, day {
  wipe left 6f
  shot c: wide 24f
}

scene four "Four" at red, day {
  dip_to_black 8f
  shot d: wide 24f
}

scene five "Five" at blue, day {
  match_cut
  shot e: wide 24f
  fade_out 6f
}
"""
RED, BLUE, GREEN = np.array([220, 30, 30]), np.array([30, 30, 220]), np.array([30, 200, 30])


def _centre(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return frame[h // 2 - 2:h // 2 + 2, w // 2 - 2:w // 2 + 2].reshape(-1, 3).mean(axis=0)


def test_transitions_are_frame_accurate(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "cuts.film", TRANSITIONS, solids=True)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 0, built.stderr
    frames, fps = timeline_frames(film)
    assert frames == 5 * 24 - (12 + 6 + 8)
    movie = built.file("cuts.mp4")
    with av.open(str(movie)) as c:
        assert c.streams.video[0].average_rate == Fraction(24000, 1001)
    pictures = [_centre(f) for f in decoded_frames(movie)]
    assert len(pictures) == frames

    def near(k: int, colour: np.ndarray, tol: float = 14) -> bool:
        return bool(np.abs(pictures[k] - colour).max() <= tol)

    assert pictures[0].max() <= 12  # the fade in starts from black
    assert near(6, RED) and near(11, RED)
    # Dissolve a->b over record frames 12..23: the middle frame is an even blend.
    assert near(18, (RED + BLUE) / 2, tol=16)
    assert near(24, BLUE) and near(29, BLUE)
    # b runs 12..35, the wipe to c over 30..35; c runs 30..53, the dip to d over 46..53 is black midway.
    row = decoded_frames(movie)[32][36].astype(int)  # mid-wipe: part of the row is green, part still blue
    greenish = int((np.abs(row - GREEN).max(axis=1) <= 20).sum())
    blueish = int((np.abs(row - BLUE).max(axis=1) <= 20).sum())
    assert greenish > 20 and blueish > 20 and greenish + blueish >= 120, (greenish, blueish)
    assert near(36, GREEN) and near(45, GREEN)
    assert min(pictures[k].max() for k in range(46, 54)) <= 20 < pictures[45].min() + pictures[54].max()
    assert near(54, RED) and near(69, RED)
    # Match cut: a plain cut to e at 70, then the fade out over the last 6 frames (88..93).
    assert near(69, RED) and near(70, BLUE) and near(frames - 7, BLUE)
    assert pictures[-1].max() <= 12 < pictures[frames - 7].max()
    # QC finds the black of the fades and the dip, and the edit says each was meant.
    (assemble,) = [r[0] for r in query(built.cache, "SELECT id FROM nodes WHERE op = 'assemble'")]
    edit = json.loads((built.cache / "objects" / assemble[:2] / assemble / "edit.json").read_text())
    scan = scan_picture(["-i", str(movie)], fps, frames)
    assert len(scan["black"]) == 3 and scan["black"][0][0] == 0 and scan["black"][-1][1] == frames, scan
    assert 46 <= scan["black"][1][0] < scan["black"][1][1] <= 54, scan
    assert all(c.ok for c in judge_picture(scan, edit, fps))
    unplanned = {**edit, "intended_black": []}
    assert not all(c.ok for c in judge_picture(scan, unplanned, fps))
    # The scan the encode made of its own stream as it encoded it is the scan of the delivered file,
    # and QC judged it.
    recorded = json.loads(built.file("picture_scan.json").read_text())
    assert recorded.pop("method") == ("loopback decode" if has_loopback_decoding() else "decode of the written stream")
    assert recorded == scan
    qc = json.loads(built.file("qc.json").read_text())
    (profile,) = qc["profiles"]
    assert profile["picture_scan"]["black"] == scan["black"]
    assert [c["ok"] for c in profile["checks"] if c["name"].endswith("outside intended")] == [True, True]
    # The mix measured its own mix.wav with ffmpeg's meter as it was made; QC reports that reading.
    (mix,) = [r[0] for r in query(built.cache, "SELECT id FROM nodes WHERE op = 'mix'")]
    mix_dir = built.cache / "objects" / mix[:2] / mix
    reading = json.loads((mix_dir / "loudness.json").read_text())["ebur128"]
    fresh = measure_ebur128(mix_dir / "mix.wav")
    assert (reading["integrated_lufs"], reading["true_peak_dbtp"]) == (fresh.integrated_lufs, fresh.true_peak_dbtp)
    (peak,) = [c for c in qc["mix"]["checks"] if c["name"] == "true peak"]
    assert peak["measured"] == fresh.true_peak_dbtp and "by the mix" in peak["detail"]


CLAP = """\
film "Clap" {
  resolution 128x72
  fps 24
  loudness -14 LUFS
  export web_mp4
}

location dark "Dark" {
  look "black"
  plate "black.png"
}

location flash "Flash" {
  look "white"
  plate "white.png"
}

scene before "Before" at dark, night {
  shot wide 30f
}

scene bang "Bang" at flash, night {
  shot flash: wide 1f {
    sfx std.click at 0s 0 dB
  }
}

scene after "After" at dark, night {
  shot wide 29f
}
"""


def test_clap_flash_and_click_in_sync(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "clap.film", CLAP, solids=True)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 0, built.stderr
    movie = built.file("clap.mp4")
    with av.open(str(movie)) as c:
        stamps = [(float(f.pts * f.time_base), f.to_ndarray(format="gray").mean()) for f in c.decode(video=0)]
    flash = int(np.argmax([luma for _, luma in stamps]))
    assert flash == 30 and stamps[flash][1] > 150 > max(stamps[flash - 1][1], stamps[flash + 1][1])
    # Decode the audio as a player does (ffmpeg applies the AAC priming edit list).
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(movie), "-map", "0:a", "-ac", "1", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    samples = np.abs(np.frombuffer(raw, np.float32))
    onset = int(np.argmax(samples > 0.5 * samples.max())) / 48000
    assert abs(onset - stamps[flash][0]) <= 1 / 24, (onset, stamps[flash][0])


MOTION = """\
film "Moves" {
  resolution 128x72
  fps 24
  loudness -14 LUFS
  export web_mp4
}

character ada "Ada" {
  look "young keeper, red knitted hat"
  voice std.en_gb_female
  wears "yellow oilskin coat"
}

location street "Street" {
  look "city street, shopfronts"
}

scene moves "Moves" at street, night with ada {
  shot wide 12f on ada { camera static }
  shot wide 12f on ada { camera zoom_in }
  shot wide 12f on ada { camera zoom_out fast }
  shot wide 12f on ada { camera pan_left fast }
  shot wide 12f on ada { camera tilt_up }
  shot medium 12f on ada { camera push_in fast }
  shot medium 12f on ada { camera pull_out }
  shot full 12f on ada { camera truck_right fast }
  shot full 12f on ada { camera crane_up }
  shot medium 12f on ada { camera handheld fast }
  shot medium 12f on ada { camera orbit }
}
"""


def test_frames_are_identical_across_builds_and_cameras_move(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "moves.film", MOTION)
    first = run_build(film, tmp_path / "out1", tmp_path / "cache1")
    second = run_build(film, tmp_path / "out2", tmp_path / "cache2")
    assert first.code == 0 and second.code == 0, first.stderr + second.stderr
    a, b = frame_hashes(first.file("moves.mp4")), frame_hashes(second.file("moves.mp4"))
    assert len(a) == 11 * 12 and a == b
    frames = [f.astype(np.int16) for f in decoded_frames(first.file("moves.mp4"))]
    still = np.abs(frames[11] - frames[1]).mean()
    assert still <= 0.5  # static: nothing moves (lossy coding noise only)
    for shot in range(1, 11):
        start = shot * 12
        assert np.abs(frames[start + 11] - frames[start]).mean() > 2, f"shot {shot + 1} does not move"


def test_edit_reruns_exactly_that_shots_chain(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "two.film", TWO_SHOTS)
    first = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert first.code == 0, first.stderr
    before = last_run(first.cache)
    film.write_text(TWO_SHOTS.replace("Ada looks up.", "Ada looks out to sea."), encoding="utf-8")
    second = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert second.code == 0, second.stderr
    ran = executed_since(second.cache, before)
    assert Counter(op for op, _ in ran) == Counter(
        {"compose": 1, "animate": 1, "grade": 1, "assemble": 1, "encode_video": 1, "encode": 1, "qc": 1,
         "contact_sheet": 1})
    assert {label for op, label in ran if op in ("compose", "animate", "grade")} == {"s01_002"}
    third = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert third.code == 0 and executed_since(third.cache, last_run(second.cache)) == []


def test_corrupt_object_is_detected_and_rebuilt(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "two.film", TWO_SHOTS)
    first = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert first.code == 0, first.stderr
    (node_id,) = [r[0] for r in query(first.cache, "SELECT id FROM nodes WHERE op = 'compose' AND label = 's01_002'")]
    layer = first.cache / "objects" / node_id[:2] / node_id / "background.png"
    original = layer.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0xFF  # same size: only the hash can tell
    layer.write_bytes(bytes(damaged))
    before = last_run(first.cache)
    second = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert second.code == 0, second.stderr
    corrupt = [e for e in second.events() if e["event"] == "node_corrupt"]
    assert [e["node"]["id"] for e in corrupt] == [node_id]
    assert executed_since(second.cache, before) == [("compose", "s01_002")]
    assert layer.read_bytes() == original


BURN = TWO_SHOTS.replace("  export web_mp4\n}\n", '''  export web_mp4, burnt
}

profile burnt "Burnt-in subtitles" extends std.web_mp4 {
  subtitles burn
}
''').replace('''    action "Ada looks up."
''', '''    action "Ada looks up."
    ada: "Ship ahead."
''')


def test_burnt_in_subtitles_appear_during_their_cue(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "two.film", BURN)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 0, built.stderr
    srt = built.file("two_shots.srt").read_text()
    start_s, end_s = [sum(float(x) * m for x, m in zip(t.replace(",", ".").split(":"), (3600, 60, 1), strict=True))
                      for t in srt.splitlines()[1].split(" --> ")]
    first, last = round(start_s * 24), min(41, round(end_s * 24) - 1)
    assert 18 <= first < last
    plain = [f.astype(int) for f in decoded_frames(built.file("two_shots_web_mp4.mp4"))]
    burnt = [f.astype(int) for f in decoded_frames(built.file("two_shots_burnt.mp4"))]
    assert len(plain) == len(burnt) == 42
    band = slice(72 - 72 // 6, 72)
    during = np.abs(burnt[(first + last) // 2][band] - plain[(first + last) // 2][band]).mean()
    before = np.abs(burnt[first - 4][band] - plain[first - 4][band]).mean()
    assert during > 8 and during > 4 * before, (during, before)  # before: lossy coding noise only


LAYOUTS = """\
film "Layouts" {
  resolution 160x90
  fps 24
  loudness -14 LUFS
  export web_mp4
}

transition fade_to_rust "Fade to rust" {
  effect fade_out
  colour #b04020
}

character ana "Ana" {
  look "a woman in a green coat"
}

location yard "Yard" {
  look "a courtyard at dusk"
}

scene one "One" at yard, dusk with ana {
  fade_in 6f
  shot a: medium 24f on ana { camera handheld; action "Ana waits." }
  dip_to_white 8f
  shot b: wide 24f { camera push_in; action "The yard." }
  wipe right 6f
  shot c: close_up 24f on ana { camera pan_left; action "Ana turns." }
  dip_to_black 6f
  shot d: wide 24f { camera static; action "Empty." }
  fade_to_rust 8f
}
"""


def _yuv_frames(graph: Path, tail: str, objects: Path, out: Path) -> np.ndarray:
    script = out.with_suffix(".txt")
    script.write_text(graph.read_text().rstrip().rstrip(";") + f";\n[v]{tail}[vout]\n")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-/filter_complex", str(script), "-map", "[vout]",
                    "-f", "rawvideo", str(out)], cwd=objects, check=True)
    return np.fromfile(out, dtype=np.uint8)


def test_the_yuv_layout_composites_the_rgb_picture(tmp_path: Path) -> None:
    """A 4:2:0 BT.709 profile's picture is composited in YUV (filtergraph_yuv420p.txt): its frames match
    the RGB graph's converted at the end, through a handheld move, a push-in, a pan, a wipe, dips to
    white and black (made in RGB: xfade dips YUV to full-range black) and a fade to a colour (made in
    RGB: older ffmpeg fades take BT.601 weights), and stay within legal levels."""
    from filmc.runtime.profiles import encode_args

    film = write_film(tmp_path / "film", "layouts.film", LAYOUTS)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 0, built.stderr
    (assemble,) = [r[0] for r in query(built.cache, "SELECT id FROM nodes WHERE op = 'assemble'")]
    objects = built.cache / "objects"
    folder = objects / assemble[:2] / assemble
    args = encode_args("x", {"video": "h264", "pixel_format": "yuv420p", "colour": "rec709"})
    assert args.yuv420p_tail is not None
    rgb = _yuv_frames(folder / "filtergraph.txt", args.filter_tail, objects, tmp_path / "rgb.yuv")
    yuv = _yuv_frames(folder / "filtergraph_yuv420p.txt", args.yuv420p_tail, objects, tmp_path / "yuv.yuv")
    w, h = 160, 90
    size = w * h * 3 // 2
    frames, _ = timeline_frames(film)
    assert rgb.size == yuv.size == frames * size
    rgb, yuv = rgb.reshape(frames, size).astype(np.float64), yuv.reshape(frames, size).astype(np.float64)
    luma = slice(0, w * h)
    mse = ((rgb[:, luma] - yuv[:, luma]) ** 2).mean(axis=1)
    psnr = 10 * np.log10(255**2 / np.maximum(mse, 1e-10))
    assert psnr.min() >= 35, (psnr.argmin(), psnr.min())
    assert np.median(psnr) >= 45, np.median(psnr)
    assert yuv[:, luma].min() >= 16 and yuv[:, luma].max() <= 235  # legal levels, dips included
    # The last frame is the fade's colour in both layouts (rust, within a code or two).
    assert np.abs(rgb[-1] - yuv[-1]).max() <= 2
    # The delivered film was composited in YUV.
    movie = decoded_frames(built.file("layouts.mp4"), "yuv420p")
    assert len(movie) == frames
