"""espeak-ng speech engine, driven through the ``espeakng-loader`` wheel's library.

The library runs in a small server process (see ``_espeak_worker.py``) that forks a fresh child
per line, which is what makes the output reproducible. Samples come back at espeak's 22050 Hz
with WORD events, and are resampled to 48 kHz here.
"""

from __future__ import annotations

import atexit
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

import espeakng_loader
import numpy as np

from .delivery import Delivery
from .dsp import SAMPLE_RATE, resample
from .errors import SoundError
from .tts import Speech, VoiceParams, clean_word, spoken_params, word_timings

ENGINE_REVISION = "1"  # bump when this module changes how samples are produced
PITCH_RANGE_PARAM = 50
UNCLIPPED_AMPLITUDE = 100


class _Worker:
    """Owns the espeak server process; one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._owner_pid = 0
        self._stderr: IO[bytes] | None = None
        self.sample_rate = 0
        self.version = ""

    def _alive(self) -> bool:
        # A forked caller must not share the parent's pipes: it starts its own server.
        return self._proc is not None and self._proc.poll() is None and self._owner_pid == os.getpid()

    def _start(self) -> None:
        script = Path(__file__).with_name("_espeak_worker.py")
        # stderr goes to a file, not a pipe nobody reads (a full pipe would block the server).
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self._proc = subprocess.Popen(
            [sys.executable, "-P", str(script), espeakng_loader.get_library_path(),
             espeakng_loader.get_data_path()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
        )
        self._owner_pid = os.getpid()
        hello, _ = self._read()
        if not hello.get("ok"):
            raise SoundError(f"espeak-ng failed to start: {hello.get('error')}")
        self.sample_rate = int(hello["sample_rate"])
        self.version = str(hello["version"])

    def _read(self) -> tuple[dict, bytes]:
        assert self._proc is not None and self._proc.stdout is not None
        size = self._proc.stdout.read(4)
        if len(size) < 4:
            err = ""
            if self._stderr is not None:
                self._stderr.seek(0)
                err = self._stderr.read().decode(errors="replace")
            raise SoundError(f"espeak-ng server stopped unexpectedly: {err.strip()[-500:]}")
        body = self._proc.stdout.read(struct.unpack(">I", size)[0])
        head_len = struct.unpack(">I", body[:4])[0]
        return json.loads(body[4 : 4 + head_len]), body[4 + head_len :]

    def ensure_started(self) -> None:
        with self._lock:
            if not self._alive():
                self._start()

    def request(self, message: dict) -> tuple[dict, bytes]:
        raw = json.dumps(message).encode()
        with self._lock:
            for attempt in range(2):
                if not self._alive():
                    self._start()
                assert self._proc is not None and self._proc.stdin is not None
                try:
                    self._proc.stdin.write(struct.pack(">I", len(raw)) + raw)
                    self._proc.stdin.flush()
                    return self._read()
                except (BrokenPipeError, SoundError):
                    self._proc = None
                    if attempt:
                        raise
        raise SoundError("espeak-ng server could not be reached")

    def close(self) -> None:
        with self._lock:
            if self._alive():
                assert self._proc is not None
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
            if self._stderr is not None and self._owner_pid == os.getpid():
                self._stderr.close()
            self._proc, self._stderr = None, None


def espeak_variants() -> tuple[str, ...]:
    """Voice variants shipped with the bundled data (m1..m8, f1..f5, whisper, ...)."""
    folder = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    return tuple(sorted(p.name for p in folder.iterdir() if p.is_file()))


class EspeakEngine:
    """espeak-ng: many languages, formant synthesis, about a thousand times real time."""

    name = "espeak"

    def __init__(self) -> None:
        self._worker = _Worker()
        self._worker.ensure_started()
        atexit.register(self._worker.close)
        self.version = f"espeak-ng {self._worker.version} r{ENGINE_REVISION}"
        self._voices: list[dict] | None = None
        self._variants = {v.lower(): v for v in espeak_variants()}

    def voices(self) -> list[dict]:
        """Voices as espeak lists them: name, identifier, [(priority, language)]."""
        if self._voices is None:
            reply, _ = self._worker.request({"op": "voices"})
            if not reply.get("ok"):
                raise SoundError(f"espeak-ng could not list voices: {reply.get('error')}")
            self._voices = reply["voices"]
        return self._voices

    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({lang for v in self.voices() for _, lang in v["languages"]}))

    def resolve_language(self, language: str) -> str:
        """Map a language tag (``en-gb``, ``cmn-latn-pinyin``) to an espeak voice identifier."""
        tag = language.strip().lower().replace("_", "-")
        best: tuple[int, str] | None = None
        for v in self.voices():
            for priority, lang in v["languages"]:
                if lang.lower() == tag and (best is None or priority < best[0]):
                    best = (priority, v["identifier"])
        if best is not None:
            return best[1]
        for v in self.voices():
            ident = v["identifier"]
            if tag in (ident.lower(), ident.rsplit("/", 1)[-1].lower(), v["name"].lower()):
                return ident
        close = [lang for lang in self.languages() if lang.split("-")[0] == tag.split("-")[0]]
        hint = f" (did you mean {', '.join(close[:8])}?)" if close else ""
        raise SoundError(f"espeak-ng has no voice for language {language!r}{hint}")

    def voice_name(self, voice: VoiceParams) -> str:
        ident = self.resolve_language(voice.language)
        if not voice.variant:
            return ident
        variant = self._variants.get(voice.variant.lower())
        if variant is None:
            raise SoundError(
                f"unknown espeak variant {voice.variant!r}; try one of m1-m8, f1-f5, whisper, croak, klatt"
            )
        return f"{ident}+{variant}"

    def synthesize(self, text: str, voice: VoiceParams, delivery: Delivery) -> Speech:
        voice.check()
        params = spoken_params(voice, delivery)
        reply, payload = self._worker.request({
            "op": "synth", "text": text, "voice": self.voice_name(voice),
            "rate": params.rate, "pitch": params.pitch, "volume": min(params.amplitude, UNCLIPPED_AMPLITUDE),
            "range": PITCH_RANGE_PARAM,
        })
        if not reply.get("ok"):
            raise SoundError(f"espeak-ng could not speak {text[:40]!r}: {reply.get('error')}")
        raw = np.frombuffer(payload, dtype="<i2").astype(np.float32) / 32768.0
        if params.amplitude > UNCLIPPED_AMPLITUDE:
            # espeak clips its 16-bit output above ~130; louder voices are scaled here in float.
            raw *= params.amplitude / UNCLIPPED_AMPLITUDE
        samples = resample(raw, self._worker.sample_rate, SAMPLE_RATE)
        scale = SAMPLE_RATE / self._worker.sample_rate
        events = sorted({(int(pos), int(sample)) for pos, sample in reply["words"]})
        starts: list[tuple[str, int]] = []
        for i, (pos, sample) in enumerate(events):
            stop = events[i + 1][0] - 1 if i + 1 < len(events) else len(text)
            word = clean_word(text[max(0, pos - 1) : max(pos - 1, stop)])
            if word:
                starts.append((word, int(round(sample * scale))))
        return Speech(samples=samples, words=word_timings(samples, SAMPLE_RATE, starts), engine=self.version)
