"""filmc's sound engine: speech, beds, effects, mixing, loudness, stems and subtitles.

All audio is float32 numpy at 48 kHz: ``(n,)`` mono or ``(n, channels)``. Functions are pure
apart from the ones that write files (atomically) or run the speech engines' helper processes.
Bad user input raises :class:`SoundError` with a readable message.

A scene, end to end::

    voice = VoiceParams(engine="espeak", language="en-us", pitch=40, rate=150)
    line = speak("Not tonight.", voice, parse_delivery(["whispering"]))
    lines = [dialogue_track(line, start_s=2.0, delivery=parse_delivery(["whispering"]))]
    beds = bed_tracks([BedCue("ambience", 0.0, 45.0, bed_gain_db(-28), name="city_night"),
                       BedCue("music", 0.0, 45.0, bed_gain_db(-20), name="tension")])
    sfx = [Track("sfx", render_sfx("glass_break"), start_s=9.5, pan=0.3)]
    mixed = mix_tracks(beds + lines + sfx, 45.0, layout="stereo",
                       dialogue_spans=spans_from_tracks(lines), ducking=Ducking(depth_db=12))
    write_mix("out/sound", master(mixed, target_lufs=-14.0))   # dialogue/ambience/music/sfx/mix.wav
    write_srt("out/film.srt", [(2.0, 2.0 + line.duration_s, "Rae", "Not tonight.")])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The names below are loaded on first use (PEP 562): an op that only meters a file (QC, the
# encodes) imports `meter` alone, not the DSP modules and their scipy (half a second a process).
_MODULES: dict[str, tuple[str, ...]] = {
    "audio_files": ("decode_audio",),
    "beds": (
        "AMBIENCE", "BED_REFERENCE_LUFS", "MUSIC", "bed_gain_db", "bed_loop", "bed_names", "file_bed",
        "loop_seam_step", "render_bed",
    ),
    "delivery": ("Delivery", "apply_off_screen", "parse_delivery", "place_line",),
    "dsp": ("SAMPLE_RATE",),
    "errors": ("SoundError",),
    "loudness": (
        "DEFAULT_CEILING_DBTP", "DEFAULT_TARGET_LUFS", "NormalisedAudio", "PROFILES", "integrated_loudness",
        "limit_true_peak", "normalise_loudness", "target_for_profile", "true_peak_dbtp",
    ),
    "meter": ("EbuR128Measurement", "measure_ebur128",),
    "mix": (
        "BUSES", "BedCue", "Ducking", "LAYOUTS", "MixResult", "Track", "bed_tracks", "dialogue_track",
        "duck_gain", "iter_bed_tracks", "master", "mix_tracks", "pan_gains", "spans_from_tracks",
        "write_mix",
    ),
    "sfx": ("SFX_PEAK_DBFS", "file_sfx", "render_sfx", "sfx_names",),
    "subtitles": ("SubtitleLine", "to_srt", "to_webvtt", "write_srt", "write_webvtt",),
    "tts": (
        "Speech", "TTSEngine", "VoiceParams", "WordTiming", "engine_names", "get_engine", "register_engine",
        "speak", "speech_cache_key",
    ),
    "wav": ("read_wav", "write_stems", "write_wav",),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

if TYPE_CHECKING:
    from .audio_files import decode_audio
    from .beds import (
        AMBIENCE,
        BED_REFERENCE_LUFS,
        MUSIC,
        bed_gain_db,
        bed_loop,
        bed_names,
        file_bed,
        loop_seam_step,
        render_bed,
    )
    from .delivery import Delivery, apply_off_screen, parse_delivery, place_line
    from .dsp import SAMPLE_RATE
    from .errors import SoundError
    from .loudness import (
        DEFAULT_CEILING_DBTP,
        DEFAULT_TARGET_LUFS,
        PROFILES,
        NormalisedAudio,
        integrated_loudness,
        limit_true_peak,
        normalise_loudness,
        target_for_profile,
        true_peak_dbtp,
    )
    from .meter import EbuR128Measurement, measure_ebur128
    from .mix import (
        BUSES,
        LAYOUTS,
        BedCue,
        Ducking,
        MixResult,
        Track,
        bed_tracks,
        dialogue_track,
        duck_gain,
        iter_bed_tracks,
        master,
        mix_tracks,
        pan_gains,
        spans_from_tracks,
        write_mix,
    )
    from .sfx import SFX_PEAK_DBFS, file_sfx, render_sfx, sfx_names
    from .subtitles import SubtitleLine, to_srt, to_webvtt, write_srt, write_webvtt
    from .tts import (
        Speech,
        TTSEngine,
        VoiceParams,
        WordTiming,
        engine_names,
        get_engine,
        register_engine,
        speak,
        speech_cache_key,
    )
    from .wav import read_wav, write_stems, write_wav


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


__all__ = [
    "AMBIENCE", "BED_REFERENCE_LUFS", "BUSES", "DEFAULT_CEILING_DBTP", "DEFAULT_TARGET_LUFS", "LAYOUTS", "MUSIC",
    "PROFILES", "SAMPLE_RATE", "SFX_PEAK_DBFS", "BedCue", "Delivery", "Ducking", "EbuR128Measurement", "MixResult",
    "NormalisedAudio", "SoundError", "Speech", "SubtitleLine", "TTSEngine", "Track", "VoiceParams", "WordTiming",
    "apply_off_screen", "bed_gain_db", "bed_loop", "bed_names", "bed_tracks", "decode_audio", "dialogue_track",
    "duck_gain", "engine_names", "file_bed", "file_sfx", "get_engine", "integrated_loudness", "iter_bed_tracks", "limit_true_peak",
    "loop_seam_step", "master", "measure_ebur128", "mix_tracks", "normalise_loudness", "pan_gains",
    "parse_delivery", "place_line", "read_wav", "register_engine", "render_bed", "render_sfx", "sfx_names",
    "spans_from_tracks", "speak", "speech_cache_key", "target_for_profile", "to_srt", "to_webvtt",
    "true_peak_dbtp", "write_mix", "write_srt", "write_stems", "write_wav", "write_webvtt",
]
