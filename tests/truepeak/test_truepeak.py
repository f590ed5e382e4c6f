"""Every delivered programme measures at or under -1 dBTP with FFmpeg's ebur128 meter, and QC says so.

Two minutes of dense, music-like material mastered by the sound engine to -14 LUFS at the -1 dBTP
ceiling (no lossy margin) go through the real encode op for an AAC and an Opus profile; the
delivered files are measured with ebur128 (peak=true). Both encoders overshoot this master on their
first pass, so the encode's measure-and-re-limit loop is what keeps them under the ceiling. QC is
fed a file made hot on purpose and must fail it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import av
import pytest
from filmc.compiler.plan import AUDIO_STREAM_SUFFIX
from filmc.runtime.backend import NodeError, NodeOutputs
from filmc.runtime.build import qc_summary
from filmc.runtime.media_tools import ffmpeg_exe, stream_digest
from filmc.runtime.preview import encode_audio
from filmc.runtime.preview.encode import encode, encode_video
from filmc.runtime.preview.encode import encode_audio as encode_audio_op
from filmc.runtime.preview.encode_audio import REPORT_NAME, plan_audio
from filmc.runtime.preview.qc import run_qc
from filmc.runtime.profiles import encode_args
from filmc.runtime.sound import (
    EbuR128Measurement,
    integrated_loudness,
    measure_ebur128,
    read_wav,
    true_peak_dbtp,
    write_wav,
)
from tp_programme import dense_programme

SECONDS = 120
FPS = "24"
FRAMES = SECONDS * 24
SIZE = [64, 36]
TARGET = -14.0
CEILING = -1.0
PROFILES = {
    # stdlib/profiles.film's web_mp4 and web_vp9, as the plan hands them to the encode op
    "std.web_mp4": {"container": "mp4", "video": "h264", "video_profile": "high", "pixel_format": "yuv420p",
                    "crf": 20, "preset": "veryfast", "audio": "aac", "audio_bitrate": 192, "audio_rate": 48000,
                    "colour": "rec709", "loudness": TARGET},
    "std.web_vp9": {"container": "webm", "video": "vp9", "pixel_format": "yuv420p", "crf": 32, "preset": 8,
                    "audio": "opus", "audio_bitrate": 128, "audio_rate": 48000, "colour": "rec709",
                    "loudness": TARGET},
}


def node(directory: Path, op: str, names: list[str]) -> NodeOutputs:
    return NodeOutputs(directory.name, op, op, directory, {n: directory / n for n in names})


@pytest.fixture(scope="session")
def mastered(tmp_path_factory) -> tuple[NodeOutputs, NodeOutputs]:
    """The mix node (mix.wav + loudness.json) and a picture node (a grey filtergraph), in a cache-like tree."""
    objects = tmp_path_factory.mktemp("objects")
    mix_dir, pic_dir = objects / "aa" / "aamix", objects / "bb" / "bbpicture"
    mix_dir.mkdir(parents=True)
    pic_dir.mkdir(parents=True)
    samples = dense_programme(SECONDS, TARGET, CEILING)
    write_wav(mix_dir / "mix.wav", samples)
    info = {"target_lufs": TARGET, "integrated_lufs": integrated_loudness(samples),
            "true_peak_dbtp": true_peak_dbtp(samples)}
    (mix_dir / "loudness.json").write_text(json.dumps(info), encoding="utf-8")
    (pic_dir / "filtergraph.txt").write_text(
        f"color=c=gray:s={SIZE[0]}x{SIZE[1]}:r={FPS},trim=end_frame={FRAMES},format=gbrp[v];\n", encoding="utf-8")
    return node(mix_dir, "mix", ["mix.wav", "loudness.json"]), node(pic_dir, "assemble", ["filtergraph.txt"])


def run_encode(profile: str, mastered: tuple[NodeOutputs, NodeOutputs], workdir: Path) -> Path:
    mix, picture = mastered
    settings = PROFILES[profile]
    name = f"dense.{settings['container']}"
    params = {"profile": profile, "settings": settings, "title": "Dense", "frames": FRAMES, "fps": FPS,
              "resolution": SIZE}
    scratch = workdir.parent / f"{workdir.name}_scratch"
    video_dir = picture.directory.parent / f"{workdir.name}_video"
    for folder in (workdir, scratch, video_dir):
        folder.mkdir()
    audio_dir = picture.directory.parent / f"{workdir.name}_audio"
    audio_dir.mkdir()
    video_name = f"video.{settings['container']}"
    encode_video(params, [video_name], picture, None, video_dir, scratch, 2)
    video = node(video_dir, "encode_video", [video_name])
    audio_outputs = [f"audio.{AUDIO_STREAM_SUFFIX[settings['audio']]}", REPORT_NAME]
    encode_audio_op(params, audio_outputs, mix, audio_dir, scratch)
    audio = node(audio_dir, "encode_audio", audio_outputs)
    encode(params, [name, REPORT_NAME], video, audio, None, None, workdir, scratch, 2)
    return workdir / name


@pytest.fixture(scope="module")
def deliveries(mastered, tmp_path_factory) -> dict[str, Path]:
    """Each profile's delivered film, encoded once for the module."""
    root = tmp_path_factory.mktemp("enc")
    return {profile: run_encode(profile, mastered, root / profile.replace(".", "_")) for profile in PROFILES}


@pytest.fixture(params=sorted(PROFILES))
def delivered(request, deliveries) -> tuple[str, Path]:
    return request.param, deliveries[request.param]


def test_master_itself_is_on_target(mastered) -> None:
    m = measure_ebur128(mastered[0].path("mix.wav"))
    assert abs(m.integrated_lufs - TARGET) <= 0.1 and m.true_peak_dbtp <= CEILING, m


def test_delivered_audio_meets_true_peak_and_loudness(delivered) -> None:
    profile, path = delivered
    m = measure_ebur128(path)
    assert m.true_peak_dbtp <= CEILING, (profile, m)
    assert abs(m.integrated_lufs - TARGET) <= 0.5, (profile, m)


def test_encode_records_the_loop_and_delivers_what_it_measured(delivered) -> None:
    profile, path = delivered
    record = json.loads((path.parent / REPORT_NAME).read_text(encoding="utf-8"))
    attempts = record["attempts"]
    # This master sits at the ceiling: both encoders overshoot it on the first pass (measured
    # 0.0 dBTP for AAC, -0.5 for Opus), so the loop had to re-limit at least once.
    assert attempts[0]["limiter_ceiling_dbtp"] is None and attempts[0]["true_peak_dbtp"] > CEILING, attempts
    assert record["relimited"] and 2 <= record["encodes"] <= encode_audio.MAX_ENCODES
    assert record["limiter_ceiling_dbtp"] < CEILING
    # The delivered stream is the measured one: the meter reads the film as the encode read its audio.
    m = measure_ebur128(path)
    assert (m.true_peak_dbtp, m.integrated_lufs) == (record["true_peak_dbtp"], record["integrated_lufs"])


def test_delivered_audio_is_the_profiles_codec_and_as_long_as_the_picture(delivered) -> None:
    profile, path = delivered
    with av.open(str(path)) as c:
        a, v = c.streams.audio[0], c.streams.video[0]
        assert a.codec_context.name == ("aac" if profile == "std.web_mp4" else "opus")
        if profile == "std.web_mp4":
            assert a.codec_context.profile == "LC"
        assert a.sample_rate == 48000 and a.channels == 2
        frames = sum(1 for p in c.demux(v) if p.size)
    assert frames == FRAMES
    with av.open(str(path)) as c:
        decoded = sum(f.samples for f in c.decode(c.streams.audio[0]))
    assert abs(decoded - SECONDS * 48000) <= 2048, decoded  # encoder padding at most


def test_aac_args_use_the_fast_coder() -> None:
    args = encode_args("x", PROFILES["std.web_mp4"])
    assert args.audio[args.audio.index("-aac_coder") + 1] == "fast"
    assert args.lossy_audio and not encode_args("x", {"container": "mov", "video": "prores", "audio": "pcm"}).lossy_audio


def test_encode_is_deterministic(deliveries, mastered, tmp_path) -> None:
    """The measure-and-re-limit loop (it re-limits this master) gives the same bytes again."""
    again = run_encode("std.web_mp4", mastered, tmp_path / "again")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(deliveries["std.web_mp4"].read_bytes()).digest()


def test_a_loop_that_cannot_get_under_fails_with_the_numbers(mastered, tmp_path, monkeypatch) -> None:
    """An encoder that stays hot whatever the limiter does: the node fails, naming profile and readings."""
    monkeypatch.setattr(encode_audio, "measure_ebur128", lambda path: EbuR128Measurement(-14.0, 5.0, -0.9))
    args = encode_args("x", PROFILES["std.web_mp4"])
    short = excerpt(mastered[0], 5, tmp_path / "short.wav")
    with pytest.raises(NodeError) as caught:
        plan_audio("std.web_mp4", args, short, {"target_lufs": TARGET, "true_peak_dbtp": -1.3}, 0.0, TARGET,
                   tmp_path)
    text = caught.value.message
    assert text.startswith("profile std.web_mp4: aac audio still measures -0.9 dBTP over the -1.0 dBTP ceiling")
    assert f"after {encode_audio.MAX_ENCODES} encodes (measured -0.9, -0.9, -0.9, -0.9 dBTP" in text
    last = float(text.split("last limiter ceiling ")[1].split(" dBTP")[0])
    assert last < -1.3 - 3 * (0.1 + encode_audio.RELIMIT_STEP_DB) + 0.01  # lowered on every pass


def excerpt(mix: NodeOutputs, seconds: float, path: Path) -> Path:
    samples, rate = read_wav(mix.path("mix.wav"))
    return write_wav(path, samples[: int(rate * seconds)], rate)


def test_pcm_profile_louder_than_the_mix_is_limited_not_clipped(mastered, tmp_path) -> None:
    """A PCM profile 1 dB louder than the mix: the plain gain would put peaks at -0.3 dBTP."""
    args = encode_args("x", {"container": "mov", "video": "prores", "audio": "pcm"})
    source = excerpt(mastered[0], 20, tmp_path / "excerpt.wav")
    m = measure_ebur128(source)
    info = {"target_lufs": TARGET, "integrated_lufs": m.integrated_lufs, "true_peak_dbtp": m.true_peak_dbtp}
    plan = plan_audio("pcm", args, source, info, 1.0, TARGET + 1.0, tmp_path)
    assert plan.report["relimited"] and plan.report["input_true_peak_dbtp"] <= CEILING
    assert plan.codec[:2] == ["-c:a", "pcm_s24le"]  # the limited master itself, no second gain
    m = measure_ebur128(plan.inputs[1])
    assert m.true_peak_dbtp <= CEILING and abs(m.integrated_lufs - (TARGET + 1.0)) <= 0.5, m


def test_a_target_out_of_the_limiters_reach_fails_with_the_numbers(mastered, tmp_path) -> None:
    """4 dB louder than this dense master under the same ceiling: no peak limiter gets there."""
    args = encode_args("x", {"container": "mov", "video": "prores", "audio": "pcm"})
    source = excerpt(mastered[0], 10, tmp_path / "excerpt.wav")
    info = {"target_lufs": TARGET, "integrated_lufs": TARGET, "true_peak_dbtp": -1.3}
    with pytest.raises(NodeError) as caught:
        plan_audio("prores", args, source, info, 4.0, TARGET + 4.0, tmp_path)
    text = caught.value.message
    assert text.startswith("profile prores: limited to -1.00 dBTP its audio reaches only"), text
    assert "from -10.0 LUFS (the mix +4.00 dB louder)" in text


# --- QC ------------------------------------------------------------------------------------------


def qc_params(profile: str) -> dict:
    settings = PROFILES[profile]
    return {"expect": {"fps": FPS, "frames": FRAMES, "resolution": SIZE, "loudness_lufs": TARGET,
                       "loudness_tolerance_lu": 1.0, "true_peak_dbtp": CEILING},
            "profiles": [{"profile": profile, "container": settings["container"], "video": settings["video"],
                          "colour": "rec709", "loudness_lufs": TARGET, "input": 0}]}


def checks_named(report: dict, name: str) -> list[dict]:
    return [c for c in report["profiles"][0]["checks"] if c["name"] == name]


def test_qc_fails_a_hot_lossy_file(mastered, tmp_path) -> None:
    """The master straight through AAC (no loop) reads over -1 dBTP: an error, no lossy margin."""
    mix, _ = mastered
    enc = tmp_path / "cc" / "cchot"
    enc.mkdir(parents=True)
    hot = enc / "hot.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c=gray:s={SIZE[0]}x{SIZE[1]}:r={FPS}:d={SECONDS}", "-i", str(mix.path("mix.wav")),
                    "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k", str(hot)], check=True)
    measured = measure_ebur128(hot)
    assert CEILING < measured.true_peak_dbtp <= 0.0, measured  # over the ceiling, within the old 1 dB margin
    report = run_qc(qc_params("std.web_mp4"), [node(enc, "encode", ["hot.mp4"])], mix, None, tmp_path / "qc.json")
    (peak,) = checks_named(report, "true peak")
    assert not peak["ok"] and peak["severity"] == "error" and peak["measured"] == measured.true_peak_dbtp
    (loud,) = checks_named(report, "integrated loudness")
    assert loud["ok"], loud
    assert report["status"] == "fail"
    saved = json.loads((tmp_path / "qc.json").read_text(encoding="utf-8"))
    assert any(c["name"] == "true peak" and not c["ok"] for c in saved["profiles"][0]["checks"])
    assert "error: true peak: expected -1.0, measured" in qc_summary(report)


def test_qc_passes_the_delivered_file_and_lists_the_encode_record(delivered, mastered, tmp_path) -> None:
    profile, path = delivered
    mix, _ = mastered
    report = run_qc(qc_params(profile), [node(path.parent, "encode", [path.name])], mix, None, tmp_path / "qc.json")
    (peak,) = checks_named(report, "true peak")
    (loud,) = checks_named(report, "integrated loudness")
    assert peak["ok"] and loud["ok"], (peak, loud)
    (record,) = checks_named(report, "encode true-peak control")
    assert record["measured"] == peak["measured"]
    assert "re-limited to" in record["detail"]
    mix_checks = {c["name"]: c for c in report["mix"]["checks"]}
    assert mix_checks["true peak"]["ok"] and mix_checks["integrated loudness"]["ok"]


def test_qc_reports_a_loudness_miss(deliveries, mastered, tmp_path) -> None:
    """Judged against a -16 LUFS target the -14 LUFS film fails its loudness check, in qc.json and the summary."""
    path = deliveries["std.web_mp4"]
    params = qc_params("std.web_mp4")
    params["profiles"][0]["loudness_lufs"] = -16.0
    report = run_qc(params, [node(path.parent, "encode", [path.name])], mastered[0], None, tmp_path / "qc.json")
    (loud,) = checks_named(report, "integrated loudness")
    assert not loud["ok"] and loud["expected"] == -16.0 and loud["detail"] == "LUFS, tolerance 0.5 LU"
    assert "integrated loudness: expected -16.0, measured -14." in qc_summary(report)
    (peak,) = checks_named(report, "true peak")
    assert peak["ok"]


def test_the_encode_params_can_name_a_lower_ceiling(mastered, tmp_path) -> None:
    """`true_peak_dbtp` in the encode's params moves the ceiling the loop holds (here Opus under -2.5)."""
    args = encode_args("x", PROFILES["std.web_vp9"])
    source = excerpt(mastered[0], 10, tmp_path / "excerpt.wav")
    before = measure_ebur128(source)
    info = {"target_lufs": TARGET, "integrated_lufs": before.integrated_lufs, "true_peak_dbtp": before.true_peak_dbtp}
    plan = plan_audio("std.web_vp9", args, source, info, 0.0, TARGET, tmp_path, ceiling_dbtp=-2.5)
    m = measure_ebur128(plan.inputs[1])
    assert plan.report["ceiling_dbtp"] == -2.5 and plan.report["relimited"]
    assert m.true_peak_dbtp <= -2.5 and abs(m.integrated_lufs - before.integrated_lufs) <= 0.5, (before, m)


def test_qc_reads_the_encode_measurement_only_for_the_packets_it_measured(deliveries, mastered, tmp_path) -> None:
    """QC takes the audio encode's ebur128 reading when the delivered file carries the very packets it
    measured (a stream copy), and meters the file itself when they differ."""
    path = deliveries["std.web_mp4"]
    record = json.loads((path.parent / REPORT_NAME).read_text(encoding="utf-8"))
    assert record["stream_sha256"] == stream_digest(path, "audio")
    fresh = measure_ebur128(path)
    report = run_qc(qc_params("std.web_mp4"), [node(path.parent, "encode", [path.name])], mastered[0], None,
                    tmp_path / "qc.json")
    (peak,) = checks_named(report, "true peak")
    assert peak["measured"] == fresh.true_peak_dbtp and "by the audio encode" in peak["detail"]
    # The same file beside a record of other packets (and a made-up reading): QC measures it.
    other = tmp_path / "dd" / "ddother"
    other.mkdir(parents=True)
    shutil.copyfile(path, other / path.name)
    (other / REPORT_NAME).write_text(json.dumps({**record, "stream_sha256": "0" * 64, "true_peak_dbtp": -9.9}),
                                     encoding="utf-8")
    report = run_qc(qc_params("std.web_mp4"), [node(other, "encode", [path.name])], mastered[0], None,
                    tmp_path / "qc2.json")
    (peak,) = checks_named(report, "true peak")
    assert peak["measured"] == fresh.true_peak_dbtp and "by the audio encode" not in peak["detail"]
