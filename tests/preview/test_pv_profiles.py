"""Every export profile of stdlib/profiles.film, encoded from a tiny two-shot film and probed with PyAV.

DNxHR cannot encode under 256x120 (ffmpeg's dnxhd refuses), so it is checked at 256x144 and
its refusal at 128x72 is checked as a build error at the profile's line. Bitrates: at 128x72
no encoder can spend the stdlib's 12 or 20 Mbps (raw 4:2:0 video is 2.6 Mbps), so rate control
is checked with profiles extending them at a feasible rate (200 kbps), +-5%, on 12 s of footage
with fresh grain in every frame. (On the animatic's own pictures, which are easy to compress,
both encoders undershoot: 70-90% of the target at this size.)
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest
from filmc.runtime.media_tools import ffmpeg_exe
from pv_support import TWO_SHOTS, decoded_frames, run_build, write_film

FRAMES = 42  # 24 + 24 - a 6-frame dissolve
BT709 = (1, 1, 1, 1)  # primaries, transfer, matrix (ITU-R BT.709), range (tv)
HDR10 = (9, 16, 9, 1)  # BT.2020 primaries, SMPTE ST 2084, BT.2020 NCL, tv
EXPECT = {
    "web_mp4": ("mp4", "two_shots_web_mp4.mp4", "h264", {"High"}, {"yuv420p"}, BT709, ("aac", 48000, 2)),
    "streaming_hq": ("mp4", "two_shots_streaming_hq.mp4", "hevc", {"Main"}, {"yuv420p"}, BT709, ("aac", 48000, 2)),
    "prores_422": ("mov", "two_shots_prores_422.mov", "prores", {"Standard"}, {"yuv422p10le"}, BT709,
                   ("pcm_s24le", 48000, 2)),
    # The ProRes decoder hands 4444 out as 12-bit whatever the encoder was fed.
    "prores_4444": ("mov", "two_shots_prores_4444.mov", "prores", {"4444"}, {"yuv444p10le", "yuv444p12le"}, BT709,
                    ("pcm_s24le", 48000, 2)),
    "web_vp9": ("webm", "two_shots_web_vp9.webm", "vp9", {"Profile 0"}, {"yuv420p"}, BT709, ("opus", 48000, 2)),
    "web_av1": ("webm", "two_shots_web_av1.webm", "libdav1d", {"Main"}, {"yuv420p"}, BT709, ("opus", 48000, 2)),
    "hdr10_hevc": ("mp4", "two_shots_hdr10_hevc.mp4", "hevc", {"Main 10"}, {"yuv420p10le"}, HDR10,
                   ("aac", 48000, 2)),
}
SEQUENCES = {"exr_seq": ("exr", {"gbrpf32le", "gbrapf32le"}), "dpx_seq": ("dpx", {"gbrp10le"})}


def _video_checks(path: Path, container: str, codec: str, profiles: set[str], pix_fmts: set[str],
                  tags: tuple[int, int, int, int], audio: tuple[str, int, int] | None, frames: int,
                  size: tuple[int, int]) -> None:
    with av.open(str(path)) as c:
        assert container in c.format.name.split(","), (path.name, c.format.name)
        v = c.streams.video[0]
        cc = v.codec_context
        assert cc.name == codec, (path.name, cc.name)
        assert cc.profile in profiles, (path.name, cc.profile)
        assert cc.pix_fmt in pix_fmts, (path.name, cc.pix_fmt)
        assert (cc.width, cc.height) == size
        assert (int(cc.color_primaries), int(cc.color_trc), int(cc.colorspace), int(cc.color_range)) == tags, path.name
        assert v.average_rate == Fraction(24), (path.name, v.average_rate)
        duration = float(v.duration * v.time_base) if v.duration else c.duration / 1e6
        assert abs(duration - frames / 24) <= 1 / 48 + 0.01, (path.name, duration)
        if audio is None:
            assert not c.streams.audio
        else:
            a = c.streams.audio[0]
            assert (a.codec_context.name, a.sample_rate, a.channels) == audio, path.name
    assert len(decoded_frames(path, "yuv420p")) == frames, path.name


@pytest.mark.slow
def test_every_stdlib_profile(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "two.film", TWO_SHOTS)
    names = [*EXPECT, *SEQUENCES]
    built = run_build(film, tmp_path / "out", tmp_path / "cache", profiles=names)
    assert built.code == 0, built.stderr
    for container, file, codec, profiles, pix, tags, audio in EXPECT.values():
        _video_checks(built.file(file), container, codec, profiles, pix, tags, audio, FRAMES, (128, 72))
    for name, (ext, pix_fmts) in SEQUENCES.items():
        folder = built.file(f"two_shots_{name}")
        frames = sorted(folder.glob(f"frame_*.{ext}"))
        assert len(frames) == FRAMES, name
        with av.open(str(frames[0])) as c:
            cc = c.streams.video[0].codec_context
            assert (cc.name, cc.width, cc.height) == (ext, 128, 72)
            assert cc.pix_fmt in pix_fmts, (name, cc.pix_fmt)
        wav = folder / "two_shots.wav"
        with av.open(str(wav)) as c:
            a = c.streams.audio[0]
            assert (a.sample_rate, a.channels) == (48000, 2)
            assert abs(a.duration * a.time_base - Fraction(FRAMES, 24)) < Fraction(1, 1000)
    # Every output's picture was scanned as it was encoded, and QC judged each scan.
    qc = json.loads(built.file("qc.json").read_text())
    assert sorted(p["profile"].removeprefix("std.") for p in qc["profiles"]) == sorted(names)
    for p in qc["profiles"]:
        assert p["picture_scan"]["method"] in ("loopback decode", "decode of the written stream"), p["profile"]
        assert [c["ok"] for c in p["checks"] if c["name"].endswith("outside intended")] == [True, True], p
    # Sidecar subtitles sit beside each film that asks for them.
    assert built.file("two_shots_web_mp4.srt").is_file() and built.file("two_shots_web_vp9.vtt").is_file()


@pytest.mark.slow
def test_dnxhr(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "two.film", TWO_SHOTS)
    refused = run_build(film, tmp_path / "small", tmp_path / "cache", profiles=["dnxhr_hq"])
    assert refused.code == 1
    assert "profiles.film:" in refused.stderr and "256x120" in refused.stderr
    assert not (tmp_path / "small").exists()
    built = run_build(film, tmp_path / "out", tmp_path / "cache", profiles=["dnxhr_hq"], scale=2.0)
    assert built.code == 0, built.stderr
    _video_checks(built.file("two_shots.mxf"), "mxf", "dnxhd", {"DNXHR HQ"}, {"yuv422p"}, BT709,
                  ("pcm_s24le", 48000, 2), FRAMES, (256, 144))


RATE_FILM = """\
film "Rate" {
  resolution 128x72
  fps 24
  loudness -14 LUFS
  export small_hevc, small_h264
}

profile small_hevc "HEVC at a rate 128x72 can use" extends std.streaming_hq {
  bitrate 200kbps
}

profile small_h264 "H.264 at a rate 128x72 can use" extends std.web_mp4 {
  bitrate 200kbps
}

location lot "Noise" {
  look "grain"
}

scene first "First" at lot, night {
  shot wide 12s {
    media "noise.mp4" from 0s to 12s
  }
}
"""


@pytest.mark.slow
def test_bitrate_profiles(tmp_path: Path) -> None:
    folder = tmp_path / "film"
    folder.mkdir()
    # Fresh grain every frame: content hard enough that rate control has to work for its bits.
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "color=gray:s=128x72:r=24:d=12,noise=alls=40:allf=t+u", "-c:v", "libx264", "-qp", "0",
                    "-pix_fmt", "yuv420p", str(folder / "noise.mp4")], check=True)
    film = write_film(folder, "rate.film", RATE_FILM)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 0, built.stderr
    for name in ("rate_small_hevc.mp4", "rate_small_h264.mp4"):
        with av.open(str(built.file(name))) as c:
            v = c.streams.video[0]
            size = sum(p.size for p in c.demux(v) if p.size)
            kbps = size * 8 / float(v.duration * v.time_base) / 1000
        assert abs(kbps - 200) <= 200 * 0.05, (name, kbps)
