"""How a line is delivered, read from a dialogue's parentheticals.

Parentheticals such as ``(whispering)``, ``(shouting)``, ``(slowly)`` change how the engine
speaks; ``(V.O.)`` and ``(O.S.)`` change where the line sits in the mix: a voice-over is dry
and dead centre, an off-screen line is quieter and muffled as if heard through the set.
Unrecognised parentheticals are acting notes: they are kept but change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from .dsp import SAMPLE_RATE, db_to_gain

OFF_SCREEN_ATTENUATION_DB = -6.0
OFF_SCREEN_LOWPASS_HZ = 2_500.0

_WHISPER = {"whisper", "whispers", "whispering", "whispered", "under breath", "sotto voce"}
_SOFT = {"softly", "quietly", "quiet", "soft", "murmuring", "murmurs"}
_SHOUT = {"shout", "shouts", "shouting", "shouted", "yell", "yells", "yelling", "yelled", "screaming",
          "screams", "scream"}
_SLOW = {"slow", "slowly"}
_FAST = {"fast", "quickly", "quick", "rapidly", "hurried", "hurriedly", "rushed"}
_VOICE_OVER = {"vo", "v.o.", "v.o", "voice over", "voiceover", "voice-over"}
_OFF_SCREEN = {"os", "o.s.", "o.s", "oc", "o.c.", "o.c", "off screen", "offscreen", "off-screen"}
_IGNORED = {"cont'd", "contd", "cont’d", "continuing", "continued"}


@dataclass(frozen=True)
class Delivery:
    """Adjustments for one line. Scales multiply the voice's own settings."""

    amplitude_scale: float = 1.0
    pitch_shift: int = 0
    rate_scale: float = 1.0
    voice_over: bool = False
    off_screen: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def _phrases(parenthetical: str) -> list[str]:
    text = parenthetical.strip().strip("()").strip().lower()
    return [p.strip() for p in re.split(r"[,;/]| and ", text) if p.strip()]


def parse_delivery(parentheticals: Iterable[str]) -> Delivery:
    """Build a :class:`Delivery` from parentheticals like ``["V.O.", "whispering"]``."""
    amplitude, pitch, rate = 1.0, 0, 1.0
    voice_over = off_screen = False
    notes: list[str] = []
    for raw in parentheticals:
        for phrase in _phrases(raw):
            words = set(phrase.split()) | {phrase}
            matched = False
            if words & _VOICE_OVER:
                voice_over = matched = True
            if words & _OFF_SCREEN:
                off_screen = matched = True
            if words & _WHISPER:
                amplitude *= 0.4
                rate *= 0.95
                matched = True
            if words & _SOFT:
                amplitude *= 0.6
                matched = True
            if words & _SHOUT:
                amplitude *= 1.6
                pitch += 20
                rate *= 1.05
                matched = True
            if words & _SLOW:
                rate *= 0.75
                matched = True
            if words & _FAST:
                rate *= 1.3
                matched = True
            if not matched and phrase not in _IGNORED:
                notes.append(phrase)
    return Delivery(amplitude, pitch, rate, voice_over, off_screen, tuple(notes))


def apply_off_screen(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Attenuate and low-pass a line so it sounds like it comes from outside the frame."""
    sos = signal.butter(2, OFF_SCREEN_LOWPASS_HZ, btype="low", fs=sample_rate, output="sos")
    filtered = signal.sosfilt(sos, samples, axis=0)
    return (filtered * db_to_gain(OFF_SCREEN_ATTENUATION_DB)).astype(np.float32)


def place_line(samples: np.ndarray, delivery: Delivery, pan: float) -> tuple[np.ndarray, float]:
    """Apply a delivery's placement to a spoken line: returns the processed samples and pan.

    V.O. stays dry and centred (pan 0); O.S. is filtered and attenuated.
    """
    if delivery.voice_over:
        return samples.astype(np.float32, copy=False), 0.0
    if delivery.off_screen:
        return apply_off_screen(samples), pan
    return samples.astype(np.float32, copy=False), pan
