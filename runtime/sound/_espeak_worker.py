"""espeak-ng server process: initialises the library once, then forks one child per request.

libespeak-ng keeps synthesis state between calls (oscillator phases, noise state), so the same
text spoken twice in one process gives different samples. Each request therefore runs in a
fork of a process that has never synthesised anything: every call starts from the same state
and the output is bit-for-bit reproducible.

Run as a script (it imports nothing from filmc). Protocol on stdin/stdout: each message is a
4-byte big-endian length followed by that many bytes. Requests are JSON. Replies are a JSON
header, then (for ``synth``) ``n_samples`` little-endian int16 samples in the same message.
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
import sys
from pathlib import Path

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
CHARS_UTF8 = 1
POS_CHARACTER = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
PARAM_RATE, PARAM_VOLUME, PARAM_PITCH, PARAM_RANGE, PARAM_PUNCTUATION, PARAM_WORDGAP = 1, 2, 3, 4, 5, 7
RAND_SEED = 1


class Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_void_p),
    ]


class Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(Event))


def load_library(lib_path: str, data_path: str) -> tuple[ctypes.CDLL, int]:
    lib = ctypes.CDLL(lib_path)
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(Voice))
    lib.espeak_Info.argtypes = [ctypes.c_void_p]
    lib.espeak_Info.restype = ctypes.c_char_p
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    # The path names the folder that holds espeak-ng-data.
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(Path(data_path).parent).encode(),
                                 INITIALIZE_DONT_EXIT)
    if rate <= 0:
        raise RuntimeError(f"espeak_Initialize failed ({rate}) with data at {data_path}")
    return lib, rate


def read_languages(addr: int | None) -> list[tuple[int, str]]:
    """espeak packs languages as [priority byte][name][NUL]... ending with a 0 priority byte."""
    out: list[tuple[int, str]] = []
    if not addr:
        return out
    offset = 0
    while True:
        priority = ctypes.string_at(addr + offset, 1)[0]
        if priority == 0:
            return out
        name = ctypes.string_at(addr + offset + 1)
        out.append((priority, name.decode("utf-8", "replace")))
        offset += len(name) + 2


def list_voices(lib: ctypes.CDLL) -> list[dict]:
    voices = lib.espeak_ListVoices(None)
    out, i = [], 0
    while voices[i]:
        v = voices[i].contents
        out.append({"name": v.name.decode("utf-8", "replace"), "identifier": v.identifier.decode(),
                    "languages": read_languages(v.languages)})
        i += 1
    return out


def synthesize(lib: ctypes.CDLL, request: dict) -> tuple[dict, bytes]:
    chunks: list[bytes] = []
    words: list[list[int]] = []

    def on_audio(wav, n, events):  # noqa: ANN001 - ctypes callback
        if n > 0:
            chunks.append(ctypes.string_at(wav, n * 2))
        j = 0
        while events[j].type != EVENT_LIST_TERMINATED:
            if events[j].type == EVENT_WORD:
                words.append([events[j].text_position, events[j].sample])
            j += 1
        return 0

    callback = SynthCallback(on_audio)
    lib.espeak_SetSynthCallback(callback)
    lib.espeak_ng_SetRandSeed(RAND_SEED)
    if lib.espeak_SetVoiceByName(request["voice"].encode()) != 0:
        return {"ok": False, "error": f"espeak-ng has no voice {request['voice']!r}"}, b""
    for param, key in ((PARAM_RATE, "rate"), (PARAM_VOLUME, "volume"), (PARAM_PITCH, "pitch"),
                       (PARAM_RANGE, "range")):
        lib.espeak_SetParameter(param, int(request[key]), 0)
    lib.espeak_SetParameter(PARAM_PUNCTUATION, 0, 0)
    lib.espeak_SetParameter(PARAM_WORDGAP, 0, 0)
    text = request["text"].encode("utf-8")
    err = lib.espeak_Synth(text, len(text) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
    if err != 0:
        return {"ok": False, "error": f"espeak_Synth failed with code {err}"}, b""
    audio = b"".join(chunks)
    return {"ok": True, "n_samples": len(audio) // 2, "words": words}, audio


def read_exact(stream, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        part = stream.read(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def send(stream, header: dict, payload: bytes = b"") -> None:
    head = json.dumps(header).encode()
    body = struct.pack(">I", len(head)) + head + payload
    stream.write(struct.pack(">I", len(body)) + body)
    stream.flush()


def in_child(lib: ctypes.CDLL, request: dict) -> tuple[dict, bytes]:
    if request["op"] == "voices":
        return {"ok": True, "voices": list_voices(lib)}, b""
    if request["op"] == "synth":
        return synthesize(lib, request)
    return {"ok": False, "error": f"unknown op {request['op']!r}"}, b""


def serve(lib: ctypes.CDLL, sample_rate: int) -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    version = lib.espeak_Info(None).decode()
    send(stdout, {"ok": True, "sample_rate": sample_rate, "version": version})
    while True:
        size = read_exact(stdin, 4)
        if size is None:
            return
        raw = read_exact(stdin, struct.unpack(">I", size)[0])
        if raw is None:
            return
        request = json.loads(raw)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                header, payload = in_child(lib, request)
            except Exception as exc:  # reported to the caller, never lost
                header, payload = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, b""
            with os.fdopen(w, "wb") as out:
                send(out, header, payload)
            os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as inp:
            reply = inp.read()
        _, status = os.waitpid(pid, 0)
        if len(reply) < 4 or status != 0:
            send(stdout, {"ok": False, "error": f"espeak-ng child failed (status {status})"})
        else:
            stdout.write(reply)
            stdout.flush()


def main() -> None:
    lib_path, data_path = sys.argv[1], sys.argv[2]
    lib, rate = load_library(lib_path, data_path)
    serve(lib, rate)


if __name__ == "__main__":
    main()
