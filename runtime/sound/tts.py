"""Text to speech: the engine interface, voice settings and the engine registry.

An engine turns one line of text into :class:`Speech` (48 kHz float32 mono plus word timings).
Engines are deterministic: the same text, voice and delivery give the same samples, so a
render plan can address speech by :func:`speech_cache_key`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from .delivery import Delivery
from .dsp import SAMPLE_RATE
from .errors import SoundError

DEFAULT_PITCH = 50
DEFAULT_RATE_WPM = 175
DEFAULT_AMPLITUDE = 100
PITCH_RANGE = (0, 99)
RATE_RANGE = (80, 450)
AMPLITUDE_RANGE = (0, 200)


@dataclass(frozen=True)
class VoiceParams:
    """A voice as a .film `voice` definition describes it (espeak scales)."""

    engine: str = "espeak"
    language: str = "en-us"
    pitch: int | None = None
    rate: int | None = None
    variant: str | None = None
    amplitude: int | None = None

    def check(self) -> None:
        """Raise :class:`SoundError` for values outside the documented ranges."""
        for name, value, (lo, hi) in (
            ("pitch", self.pitch, PITCH_RANGE),
            ("rate", self.rate, RATE_RANGE),
            ("amplitude", self.amplitude, AMPLITUDE_RANGE),
        ):
            if value is not None and not lo <= value <= hi:
                raise SoundError(f"voice {name} {value} is outside {lo}-{hi}")
        if not self.language.strip():
            raise SoundError("voice language is empty")


class WordTiming(NamedTuple):
    word: str
    start_s: float
    end_s: float


@dataclass(frozen=True, eq=False)
class Speech:
    """One spoken line: float32 mono samples at 48 kHz and when each word is heard."""

    samples: np.ndarray
    words: tuple[WordTiming, ...]
    sample_rate: int = SAMPLE_RATE
    engine: str = ""

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate


@runtime_checkable
class TTSEngine(Protocol):
    """What an engine plugin provides."""

    name: str
    version: str

    def synthesize(self, text: str, voice: VoiceParams, delivery: Delivery) -> Speech: ...


@dataclass(frozen=True)
class SpokenParams:
    """Pitch, rate and amplitude after a delivery is applied, clamped to engine ranges."""

    pitch: int
    rate: int
    amplitude: int


def spoken_params(voice: VoiceParams, delivery: Delivery) -> SpokenParams:
    pitch = (voice.pitch if voice.pitch is not None else DEFAULT_PITCH) + delivery.pitch_shift
    rate = (voice.rate if voice.rate is not None else DEFAULT_RATE_WPM) * delivery.rate_scale
    amplitude = (voice.amplitude if voice.amplitude is not None else DEFAULT_AMPLITUDE) * delivery.amplitude_scale
    return SpokenParams(
        pitch=int(np.clip(round(pitch), *PITCH_RANGE)),
        rate=int(np.clip(round(rate), *RATE_RANGE)),
        amplitude=int(np.clip(round(amplitude), *AMPLITUDE_RANGE)),
    )


_WORD_CHAR = re.compile(r"\w", re.UNICODE)
_EDGE_PUNCT = "\"'“”‘’«»()[]{}.,;:!?¿¡…-—–，。！？；：、「」"


def clean_word(token: str) -> str:
    return token.strip().strip(_EDGE_PUNCT).strip()


def text_words(text: str) -> list[str]:
    """The words of a line as timings report them: whitespace tokens that contain a letter/digit."""
    return [clean_word(t) for t in text.split() if _WORD_CHAR.search(t)]


def word_timings(
    samples: np.ndarray, sample_rate: int, starts: Sequence[tuple[str, int]], floor_db: float = -40.0
) -> tuple[WordTiming, ...]:
    """Turn word start positions (in samples) into (word, start, end) timings.

    A word ends where its sound ends: the last 10 ms frame above ``floor_db`` (relative to the
    line's loudest frame) before the next word starts, so pauses are not counted as speech.
    """
    n = samples.shape[0]
    frame = max(1, sample_rate // 100)
    n_frames = max(1, -(-n // frame))
    padded = np.zeros(n_frames * frame, dtype=np.float64)
    padded[:n] = samples
    rms = np.sqrt(np.mean(padded.reshape(n_frames, frame) ** 2, axis=1))
    loud = rms > (rms.max() * 10 ** (floor_db / 20.0) if rms.max() > 0 else np.inf)
    ordered = sorted(((w, min(max(0, s), n)) for w, s in starts if w), key=lambda ws: ws[1])
    out: list[WordTiming] = []
    for i, (word, start) in enumerate(ordered):
        stop = ordered[i + 1][1] if i + 1 < len(ordered) else n
        first, last = start // frame, max(start // frame, -(-stop // frame))
        voiced = np.nonzero(loud[first:last])[0]
        end = min(stop, (first + int(voiced[-1]) + 1) * frame) if voiced.size else min(stop, start + frame)
        end = max(end, start)
        out.append(WordTiming(word, start / sample_rate, end / sample_rate))
    return tuple(out)


def speech_cache_key(text: str, voice: VoiceParams, delivery: Delivery) -> str:
    """Content address of a line: changes when text, voice, delivery or engine version change."""
    engine = get_engine(voice.engine)
    payload = json.dumps(
        {"text": text, "voice": asdict(voice), "delivery": asdict(delivery),
         "engine": engine.name, "version": engine.version},
        sort_keys=True, ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _espeak_factory() -> TTSEngine:
    from .espeak_engine import EspeakEngine

    return EspeakEngine()


def _piper_factory() -> TTSEngine:
    from .piper_engine import PiperEngine

    return PiperEngine()


_FACTORIES: dict[str, Callable[[], TTSEngine]] = {"espeak": _espeak_factory, "piper": _piper_factory}
_ENGINES: dict[str, TTSEngine] = {}
_REGISTRY_LOCK = threading.Lock()


def register_engine(name: str, factory: Callable[[], TTSEngine]) -> None:
    """Add (or replace) an engine plugin; the factory runs on first use."""
    with _REGISTRY_LOCK:
        _FACTORIES[name] = factory
        _ENGINES.pop(name, None)


def engine_names() -> tuple[str, ...]:
    return tuple(sorted(_FACTORIES))


def get_engine(name: str) -> TTSEngine:
    with _REGISTRY_LOCK:
        if name not in _FACTORIES:
            raise SoundError(f"unknown speech engine {name!r}; available: {', '.join(sorted(_FACTORIES))}")
        if name not in _ENGINES:
            _ENGINES[name] = _FACTORIES[name]()
        return _ENGINES[name]


def speak(text: str, voice: VoiceParams, delivery: Delivery | None = None) -> Speech:
    """Synthesise one line with the engine the voice names."""
    if not text.strip():
        raise SoundError("cannot speak an empty line")
    voice.check()
    return get_engine(voice.engine).synthesize(text, voice, delivery or Delivery())
