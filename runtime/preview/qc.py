"""The `qc` op: measure every deliverable against what the plan promised -> qc.json.

Per profile (probed with PyAV, frames counted by demuxing): container and codec,
frame count and duration (exact), frame rate, resolution and colour tags against
the plan; video bitrate and the audio stream as measured; the audio/video length
difference (at most one frame); loudness and true peak with FFmpeg's ebur128
meter (the sound engine's independent meter): every delivered programme (each
export's audio, a sequence's sidecar WAV, the mix) must read at or under the
true-peak ceiling, lossy or not, and within LOUDNESS_TOLERANCE_LU of its target.
The meter runs where each programme is made: the mix node reads its mix.wav,
the audio encode the stream it delivers (QC checks the delivered file carries
those very packets); QC meters only what came without a reading (another
backend's, a sequence's sidecar WAV). Each encode's own true-peak record (what
the encoder measured, how often it re-limited) is listed beside QC's reading. Each output's picture was scanned
for black (blackdetect: 98% of pixels under 5% luma) and frozen stretches
(freezedetect: -60 dB for 2 s) as it was encoded (picture_scan.py); QC checks
each stretch against the edit's intended black (fades, dips) and stills (shots
where nothing moves) when the plan gives QC the assembled edit; without it they
are listed, unjudged. An encode without a scan (another backend's) is scanned here.

Severity: `error` for what the plan fixes exactly (frames, duration, rate, size,
codec, tags) and for the delivery's true peak, `warning` for measurements with
tolerances (loudness among them: see LOUDNESS_SEVERITY).
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from filmc.runtime.backend import NodeOutputs
from filmc.runtime.colour.cube import atomic_write_text
from filmc.runtime.colour.tags import FFMPEG_TAGS
from filmc.runtime.media_tools import probe, stream_digest
from filmc.runtime.profiles import SEQUENCE_CONTAINERS
from filmc.runtime.sound import SoundError, measure_ebur128
from filmc.runtime.sound.meter import EBUR128_RECORD

from .encode_audio import read_report
from .picture_scan import read_scan, scan_input, scan_picture
from .tools import fps_fraction

VIDEO_DECODERS = {"h264": {"h264"}, "h265": {"hevc"}, "prores": {"prores"}, "dnxhr": {"dnxhd"},
                  "vp9": {"vp9", "libvpx-vp9"}, "av1": {"av1", "libdav1d", "libaom-av1"}, "exr": {"exr"},
                  "dpx": {"dpx"}}
AUDIO_DECODERS = {"aac": {"aac"}, "opus": {"opus", "libopus"}, "pcm": {"pcm_s24le", "pcm_s16le", "pcm_s32le"}}
CONTAINER_FORMATS = {"mp4": "mp4", "mov": "mov", "mxf": "mxf", "webm": "webm", "mkv": "matroska"}
LOUDNESS_TOLERANCE_LU = 0.5
"""Integrated loudness of every delivered programme within this of its target (a stricter plan wins)."""
LOUDNESS_SEVERITY = "warning"
"""A true peak over the ceiling is an error: the encode guarantees the ceiling, so a miss is a defect.
A loudness miss is reported as a failed check but not an error: a sparse programme (a lone click in
silence) cannot reach its target under the ceiling at all, and the sound engine caps its gain."""


@dataclass
class Check:
    name: str
    ok: bool
    severity: str
    expected: Any = None
    measured: Any = None
    detail: str = ""


def _check(checks: list[Check], name: str, ok: bool, expected: Any, measured: Any, severity: str = "error",
           detail: str = "") -> None:
    checks.append(Check(name, bool(ok), severity, expected, measured, detail))


def _sequence_files(folder: Path, container: str) -> list[Path]:
    return sorted(folder.glob(f"frame_*.{container}"))


def video_packets(path: Path) -> tuple[int, int]:
    """(packets, bytes) of the first video stream."""
    count = size = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.size:
                count += 1
                size += packet.size
    return count, size


def uncovered(interval: list[int], allowed: list[list[int]], slack: int = 1) -> int:
    """How many frames of `interval` lie outside every allowed range (each widened by `slack`)."""
    start, end = interval
    covered = [False] * max(0, end - start)
    for a, b in allowed:
        for f in range(max(start, a - slack), min(end, b + slack)):
            covered[f - start] = True
    return covered.count(False)


def judge_picture(scan: dict[str, list[list[int]]], edit: dict[str, Any] | None, fps: str) -> list[Check]:
    checks: list[Check] = []
    if edit is None:
        for kind in ("black", "frozen"):
            _check(checks, f"{kind} frames", True, None, scan[kind], "info",
                   "no edit given to QC: intervals listed, not judged")
        return checks
    black_ok = edit.get("intended_black", [])
    still_ok = edit.get("intended_still", []) + edit.get("slow_move_still", []) + black_ok
    for kind, allowed in (("black", black_ok), ("frozen", still_ok)):
        bad = [iv for iv in scan[kind] if uncovered(iv, allowed) > 0]
        _check(checks, f"{kind} frames outside intended", not bad, [], bad, "warning",
               f"{len(scan[kind])} {kind} stretch(es), {len(bad)} unintended")
    return checks


def check_profile(entry: dict[str, Any], encode: NodeOutputs, expect: dict[str, Any]) -> dict[str, Any]:
    """Checks of one encode against its qc entry (container, codec, colour) and the plan's expectations."""
    container, video_codec = str(entry.get("container") or "mp4"), str(entry.get("video") or "")
    fps, frames = expect["fps"], int(expect["frames"])
    width, height = expect["resolution"]
    rate = fps_fraction(fps)
    checks: list[Check] = []
    outputs = sorted(encode.files)
    result: dict[str, Any] = {"profile": entry["profile"], "checks": checks}
    if container in SEQUENCE_CONTAINERS:
        name = next(o for o in outputs if o.endswith("/"))
        folder = encode.path(name)
        files = _sequence_files(folder, container)
        result["file"] = name
        _check(checks, "frames", len(files) == frames, frames, len(files))
        if not files:
            return result
        v = probe(files[0]).video()
        _check(checks, "codec", v is not None and v.codec in VIDEO_DECODERS.get(video_codec, {video_codec}),
               video_codec, v.codec if v else None)
        _check(checks, "resolution", v is not None and [v.width, v.height] == [width, height], [width, height],
               [v.width, v.height] if v else None)
        wavs = sorted(folder.glob("*.wav"))
        result["sidecar_audio"] = wavs[0].name if wavs else None
        _check(checks, "sidecar audio", bool(wavs), "a WAV beside the frames", result["sidecar_audio"])
        result["scan"] = read_scan(encode.directory) or scan_input(folder / f"frame_%06d.{container}", fps, True)
        if wavs:
            result["loudness_file"] = wavs[0]
        return result
    path = encode.path(next(o for o in outputs if not o.endswith((".srt", ".vtt", ".json"))))
    result["file"] = path.name
    info = probe(path, count_frames=True)
    v, a = info.video(), info.audio()
    wanted_format = CONTAINER_FORMATS.get(container, container)
    _check(checks, "container", wanted_format in info.format.split(","), wanted_format, info.format)
    if v is None:
        _check(checks, "video stream", False, video_codec, None)
        return result
    _check(checks, "codec", v.codec in VIDEO_DECODERS.get(video_codec, {video_codec}), video_codec, v.codec)
    _check(checks, "frames", v.frames == frames, frames, v.frames)
    _check(checks, "frame rate", v.frame_rate == rate, str(rate), str(v.frame_rate))
    expected_s = float(Fraction(frames) / rate)
    duration = v.duration if v.duration is not None else info.duration  # WebM streams carry no duration
    _check(checks, "duration", duration is not None and abs(duration - expected_s) <= 0.5 / float(rate),
           round(expected_s, 6), round(duration, 6) if duration is not None else None)
    _check(checks, "resolution", [v.width, v.height] == [width, height], [width, height], [v.width, v.height])
    colour = str(entry.get("colour") or "rec709")
    if colour in FFMPEG_TAGS:
        tags = FFMPEG_TAGS[colour]
        measured_tags = [v.color_primaries, v.color_trc, v.color_space, v.color_range]
        _check(checks, "colour tags", measured_tags == [tags.primaries, tags.trc, tags.matrix, tags.range],
               [tags.primaries, tags.trc, tags.matrix, tags.range], measured_tags)
    if duration:
        _, size = video_packets(path)
        _check(checks, "video bitrate", True, None, round(size * 8 / duration / 1000, 1), "info", "kbps")
    if a is not None:
        _check(checks, "audio", True, None, {"codec": a.codec, "rate": a.sample_rate, "channels": a.channels},
               "info")
        if a.duration is not None and duration is not None:
            diff = abs(a.duration - duration)
            _check(checks, "A/V length difference", diff <= 1 / float(rate) + 1e-6,
                   f"<= {1 / float(rate):.4f} s", round(diff, 4), "warning")
        result["loudness_file"] = path
        record = read_report(encode.directory)
        if record is not None:
            result["audio_true_peak"] = record
            _check(checks, "encode true-peak control", True, None, record.get("true_peak_dbtp"), "info",
                   encode_record_text(record))
            measured = recorded_measurement(record, path)
            if measured is not None:
                result["loudness_measured"] = measured
    result["scan"] = read_scan(encode.directory) or scan_input(path, fps, False)
    return result


@dataclass(frozen=True)
class RecordedLoudness:
    """An ebur128 reading the node that made a programme took of the very bytes delivered."""

    integrated_lufs: float
    true_peak_dbtp: float
    by: str = "by the audio encode, of these packets"


def recorded_measurement(record: dict[str, Any], delivered: Path) -> RecordedLoudness | None:
    """The encode's measurement when the delivered file's audio packets are the ones it measured
    (same bytes, same reading), else None: QC then meters the file itself."""
    digest = record.get("stream_sha256")
    if digest is None or record.get("integrated_lufs") is None or record.get("true_peak_dbtp") is None:
        return None
    if stream_digest(delivered, "audio") != digest:
        return None
    return RecordedLoudness(float(record["integrated_lufs"]), float(record["true_peak_dbtp"]))


def _mix_measurement(mix: NodeOutputs, pool: ThreadPoolExecutor) -> Future:
    """The ebur128 reading the mix node made of its own mix.wav (the file delivered), else a fresh one."""
    try:
        info = json.loads(mix.path("loudness.json").read_text(encoding="utf-8"))
        reading = info[EBUR128_RECORD]
        done: Future = Future()
        done.set_result(RecordedLoudness(float(reading["integrated_lufs"]), float(reading["true_peak_dbtp"]),
                                         "by the mix"))
        return done
    except (KeyError, OSError, ValueError, TypeError):
        return pool.submit(measure_ebur128, mix.path("mix.wav"))


SILENT_LUFS = -69.0
"""ebur128 reports -70 LUFS when everything is under its absolute gate: nothing to measure."""


def encode_record_text(record: dict[str, Any]) -> str:
    """One line of what an encode's true-peak control did."""
    codec = record.get("codec")
    if "encodes" not in record:
        limited = f"limited to {record['limiter_ceiling_dbtp']:+.2f} dBTP" if record.get("relimited") else "as mixed"
        return f"{codec}: master {limited}, gain {record.get('gain_db', 0):+.2f} dB"
    peaks = ", ".join(f"{a['true_peak_dbtp']:+.1f}" for a in record.get("attempts", []))
    ceiling = record.get("limiter_ceiling_dbtp")
    how = f"re-limited to {ceiling:+.2f} dBTP" if ceiling is not None else "master as mixed"
    return (f"{codec}: {record['encodes']} encode(s) measured {peaks} dBTP, {how}, "
            f"delivered {record['true_peak_dbtp']:+.1f} dBTP / {record['integrated_lufs']:.1f} LUFS")


def _loudness(checks: list[Check], measured: Future, target: float, tolerance: float, peak: float) -> None:
    """True peak (strict: an error over the ceiling) and integrated loudness of a delivered programme,
    from its ebur128 measurement (`measured`, running beside the other QC measurements)."""
    try:
        m = measured.result()
    except SoundError as exc:
        _check(checks, "loudness", False, target, None, "error", str(exc))
        return
    meter = f"ebur128 {m.by}" if isinstance(m, RecordedLoudness) else "ebur128"
    _check(checks, "true peak", m.true_peak_dbtp <= peak, peak, m.true_peak_dbtp, "error",
           f"dBTP ({meter}), ceiling {peak:+.1f}")
    if m.integrated_lufs <= SILENT_LUFS:
        _check(checks, "integrated loudness", True, target, m.integrated_lufs, "info", "silent programme")
        return
    _check(checks, "integrated loudness", abs(m.integrated_lufs - target) <= tolerance, target, m.integrated_lufs,
           LOUDNESS_SEVERITY, f"LUFS, tolerance {tolerance} LU")


MEASUREMENTS_AT_ONCE = 3
"""ffmpeg measurements QC runs at once (loudness of the mix and of each output its encode did not
measure, the picture of an encode that came without a scan)."""
BAKE_TARGET_CODES = 2.0
"""The most a grade's bake may err on in-gamut chart colours, in 10-bit codes."""
MATCH_TARGET_DELTA_E = 3.0
"""The most a matched shot's mean colour may differ from its scene's reference (CIEDE2000)."""


def colour_report(grades: list[tuple[dict[str, Any], NodeOutputs]]) -> tuple[dict[str, Any], list[Check]]:
    """Per distinct grade bake: its max error in 10-bit codes; per matched shot: ΔE2000 of its mean colour
    to the reference before and after matching (from each grade node's grade.json)."""
    bakes: dict[str, dict[str, Any]] = {}
    shots = []
    checks: list[Check] = []
    for entry, node in grades:
        info = json.loads(node.path("grade.json").read_text(encoding="utf-8"))
        accuracy = info.get("accuracy")
        name = (info.get("grade") or {}).get("name") or "neutral"
        match = info.get("match")
        shot = {"shot": entry["shot"], "scene": entry.get("scene"), "grade": name,
                "identity": bool(info.get("identity")), "bake_max_10bit_codes": None, "match": match}
        if accuracy is not None:
            shot["bake_max_10bit_codes"] = accuracy["max_10bit_codes"]
            key = f"{name} + match of {entry['shot']} to {match['reference']}" if match else name
            bakes.setdefault(key, {"grade": name, "matched_to": match["reference"] if match else None,
                                   "shots": [], **accuracy})["shots"].append(entry["shot"])
        shots.append(shot)
    for key, bake in bakes.items():
        codes = bake["max_10bit_codes"]
        ok = codes <= BAKE_TARGET_CODES
        # Passing colour checks are "info" so the build's summary prints their figures.
        _check(checks, f"grade bake {key}", ok, BAKE_TARGET_CODES, codes, "info" if ok else "warning",
               f"bake max error {codes:.2f} 10-bit codes on {bake['in_gamut']} in-gamut chart colours "
               f"({len(bake['shots'])} shot(s))")
    for shot in shots:
        m = shot["match"]
        if m is None:
            continue
        ok = m["delta_e_after"] <= MATCH_TARGET_DELTA_E
        _check(checks, f"shot match {shot['shot']}", ok, MATCH_TARGET_DELTA_E, m["delta_e_after"],
               "info" if ok else "warning",
               f"mean colour ΔE2000 to reference {m['reference']}: {m['delta_e_before']:.2f} before, "
               f"{m['delta_e_after']:.2f} after matching")
    return {"bakes": list(bakes.values()), "shots": shots}, checks


def footage_report(conforms: list[tuple[dict[str, Any], NodeOutputs]]) -> tuple[list[dict[str, Any]], list[Check]]:
    """Per footage shot: the colour space its clip was read as (and why), and the error of the baked
    conversion into the output space (from each conform node's conform.json)."""
    entries = []
    checks: list[Check] = []
    for entry, node in conforms:
        info = json.loads(node.path("conform.json").read_text(encoding="utf-8"))
        conversion = info.get("conversion")
        accuracy = (conversion or {}).get("accuracy")
        entries.append({"shot": entry["shot"], "space": info.get("space"), "space_from": info.get("space_from"),
                        "output_space": info.get("output_space"), "decoding": info.get("decoding"),
                        "converted": conversion is not None,
                        "rendering": (conversion or {}).get("rendering"),
                        "bake_max_10bit_codes": accuracy["max_10bit_codes"] if accuracy else None})
        if accuracy:
            codes = float(accuracy["max_10bit_codes"])
            ok = codes <= BAKE_TARGET_CODES
            _check(checks, f"footage colour {entry['shot']}", ok, BAKE_TARGET_CODES, codes,
                   "info" if ok else "warning",
                   f"{info.get('space')} -> {info.get('output_space')} ({info.get('space_from')}): bake max error "
                   f"{codes:.2f} 10-bit codes on {accuracy.get('in_gamut')} in-gamut chart colours")
    return entries, checks


def run_qc(params: dict[str, Any], encodes: list[NodeOutputs], mix: NodeOutputs, edit: dict[str, Any] | None,
           out: Path, grades: list[tuple[dict[str, Any], NodeOutputs]] | None = None,
           conforms: list[tuple[dict[str, Any], NodeOutputs]] | None = None) -> dict[str, Any]:
    """Measure every encode and the mix; write qc.json to `out` and return the report.

    `grades` (qc entry, grade node) adds the colour section: bake accuracy and shot-match ΔE;
    `conforms` (qc entry, conform node) adds each footage shot's source space and conversion error."""
    expect = params["expect"]
    tolerance = min(float(expect.get("loudness_tolerance_lu", LOUDNESS_TOLERANCE_LU)), LOUDNESS_TOLERANCE_LU)
    peak = float(expect.get("true_peak_dbtp", -1.0))
    profiles = []
    # Each measurement is one single-threaded ffmpeg run: started together, they share the cores
    # QC has at the end of a build instead of queueing behind each other.
    with ThreadPoolExecutor(max_workers=MEASUREMENTS_AT_ONCE) as pool:
        mix_measured = _mix_measurement(mix, pool)
        checked = []
        for entry, encode in zip(params["profiles"], encodes, strict=True):
            result = check_profile(entry, encode, expect)
            measured: Future | None = None
            if "loudness_measured" in result:
                measured = Future()
                measured.set_result(result.pop("loudness_measured"))
                result.pop("loudness_file", None)
            elif "loudness_file" in result:
                measured = pool.submit(measure_ebur128, result.pop("loudness_file"))
            scan = result.pop("scan", None)
            if isinstance(scan, list):  # no scan came with the encode: decode its picture here
                scan = pool.submit(scan_picture, scan, expect["fps"], int(expect["frames"]))
            checked.append((entry, result, measured, scan))
        for entry, result, measured, scan in checked:
            if measured is not None:
                target = float(entry.get("loudness_lufs") or expect["loudness_lufs"])
                _loudness(result["checks"], measured, target, tolerance, peak)
            if scan is not None:
                result["picture_scan"] = scan.result() if isinstance(scan, Future) else scan
                result["checks"] += judge_picture(result["picture_scan"], edit, expect["fps"])
            profiles.append(result)
        mix_checks: list[Check] = []
        _loudness(mix_checks, mix_measured, float(expect["loudness_lufs"]), tolerance, peak)
    picture_checks: list[Check] = []
    colour, colour_checks = colour_report(grades or [])
    colour["footage"], footage_checks = footage_report(conforms or [])
    picture_checks += colour_checks + footage_checks
    everything = [c for p in profiles for c in p["checks"]] + mix_checks + picture_checks
    errors = sum(1 for c in everything if not c.ok and c.severity == "error")
    warnings = sum(1 for c in everything if not c.ok and c.severity == "warning")
    report = {
        "status": "fail" if errors else "warn" if warnings else "pass",
        "errors": errors,
        "warnings": warnings,
        "expect": expect,
        "profiles": [{**p, "checks": [asdict(c) for c in p["checks"]]} for p in profiles],
        "mix": {"checks": [asdict(c) for c in mix_checks]},
        "colour": colour,
        "picture": {"judged_against_edit": edit is not None,
                    "checks": [asdict(c) for c in picture_checks]},
    }
    atomic_write_text(out, json.dumps(report, indent=1, sort_keys=True, default=str))
    return report
