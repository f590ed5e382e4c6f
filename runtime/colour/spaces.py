"""Colour spaces by the names the film header uses, converted through OCIO.

One pinned built-in config (no file, no download): the ACES 1.3 studio
config, because the ACES 2.x configs lack SDR Rec.2020 and P3-D65 displays.

Two renderings between scene-referred and display-referred spaces:
- ``"colorimetric"``: the plain, invertible conversion (matrix + encoding);
  what colour-science computes, and what `convert` does by default.
- ``"aces"``: the ACES output transform (RRT + ODT view) scene -> display,
  and its inverse display -> scene. This is the film's `colour ACEScg -> rec709`:
  `build_chain` and `bake_chain` use it by default.
Scene<->scene and display<->display conversions are colorimetric either way.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import PyOpenColorIO as ocio

CONFIG_URI = "ocio://studio-config-v2.2.0_aces-v1.3_ocio-v2.4"

Rendering = Literal["colorimetric", "aces"]
RENDERINGS: tuple[str, ...] = ("colorimetric", "aces")


@dataclass(frozen=True)
class Space:
    """A filmc colour-space name and what it is in the OCIO config."""

    name: str
    ocio_name: str
    kind: Literal["scene-linear", "log", "display"]
    primaries: str
    """Key of colorimetry.PRIMARIES (for source-only spaces, the gamut's name)."""
    description: str
    display: str | None = None
    """For display spaces: the OCIO display, and the ACES view used by rendering='aces'."""
    aces_view: str | None = None


SPACES: dict[str, Space] = {
    s.name: s
    for s in (
        Space("ACEScg", "ACEScg", "scene-linear", "AP1", "ACES AP1 scene-linear: the working space."),
        Space("ACES2065-1", "ACES2065-1", "scene-linear", "AP0", "ACES AP0 scene-linear: interchange."),
        Space("ACEScct", "ACEScct", "log", "AP1", "ACES AP1 log with a toe: for grading operators."),
        Space(
            "lin_rec709", "Linear Rec.709 (sRGB)", "scene-linear", "rec709", "Linear Rec.709/sRGB primaries."
        ),
        Space("lin_rec2020", "Linear Rec.2020", "scene-linear", "rec2020", "Linear Rec.2020 primaries."),
        Space("lin_p3d65", "Linear P3-D65", "scene-linear", "p3d65", "Linear P3 primaries, D65 white."),
        Space(
            "rec709",
            "Rec.1886 Rec.709 - Display",
            "display",
            "rec709",
            "Rec.709 primaries, BT.1886 (gamma 2.4) display encoding: HD video.",
            "Rec.1886 Rec.709 - Display",
            "ACES 1.0 - SDR Video",
        ),
        Space(
            "srgb",
            "sRGB - Display",
            "display",
            "rec709",
            "sRGB primaries and piecewise sRGB encoding: computer displays, web.",
            "sRGB - Display",
            "ACES 1.0 - SDR Video",
        ),
        Space(
            "rec2020",
            "Rec.1886 Rec.2020 - Display",
            "display",
            "rec2020",
            "Rec.2020 primaries, BT.1886 (gamma 2.4) encoding: SDR UHD video.",
            "Rec.1886 Rec.2020 - Display",
            "ACES 1.0 - SDR Video",
        ),
        Space(
            "p3d65",
            "P3-D65 - Display",
            "display",
            "p3d65",
            "DCI-P3 primaries, D65 white, gamma 2.6: P3-D65 cinema mastering (48 nit view).",
            "P3-D65 - Display",
            "ACES 1.0 - SDR Cinema",
        ),
        Space(
            "hdr10",
            "Rec.2100-PQ - Display",
            "display",
            "rec2020",
            "Rec.2020 primaries, SMPTE ST 2084 (PQ): HDR10, 1000 nit view (1.0 = 100 nits colorimetric).",
            "Rec.2100-PQ - Display",
            "ACES 1.1 - HDR Video (1000 nits & Rec.2020 lim)",
        ),
    )
}

# Spaces footage may arrive in (runtime/colour/sources.py), beyond the outputs above: only ever a
# conversion's source, so display ones carry no ACES view and camera gamuts no PRIMARIES key.
SOURCE_ONLY_SPACES: tuple[Space, ...] = (
    Space("rec2020_hlg", "Rec.2100-HLG - Display", "display", "rec2020",
          "Rec.2020 primaries, ARIB STD-B67 (HLG) for a 1000 nit display (1.0 = 100 nits colorimetric).",
          "Rec.2100-HLG - Display"),
    Space("p3d65_pq", "ST2084-P3-D65 - Display", "display", "p3d65",
          "P3 primaries, D65 white, SMPTE ST 2084 (PQ) (1.0 = 100 nits colorimetric).", "ST2084-P3-D65 - Display"),
    Space("display_p3", "Display P3 - Display", "display", "p3d65",
          "P3 primaries, D65 white, sRGB encoding: Apple Display P3.", "Display P3 - Display"),
    Space("p3dci", "P3-DCI - Display", "display", "p3dci", "P3 primaries, DCI white, gamma 2.6.",
          "P3-DCI - Display"),
    Space("arri_logc3", "ARRI LogC3 (EI800)", "log", "AWG3", "ARRI LogC3 (EI 800), ALEXA Wide Gamut 3."),
    Space("arri_logc4", "ARRI LogC4", "log", "AWG4", "ARRI LogC4, ARRI Wide Gamut 4."),
    Space("slog3_sgamut3cine", "S-Log3 S-Gamut3.Cine", "log", "S-Gamut3.Cine", "Sony S-Log3, S-Gamut3.Cine."),
    Space("slog3_sgamut3", "S-Log3 S-Gamut3", "log", "S-Gamut3", "Sony S-Log3, S-Gamut3."),
    Space("vlog_vgamut", "V-Log V-Gamut", "log", "V-Gamut", "Panasonic V-Log, V-Gamut."),
    Space("log3g10_rwg", "Log3G10 REDWideGamutRGB", "log", "RWG", "RED Log3G10, REDWideGamutRGB."),
    Space("canonlog3_cgamut", "CanonLog3 CinemaGamut D55", "log", "CinemaGamut",
          "Canon Log 3, Cinema Gamut (daylight)."),
    Space("bmdfilm_gen5", "BMDFilm WideGamut Gen5", "log", "BMDWG5",
          "Blackmagic Film Gen 5, Blackmagic Wide Gamut Gen 5."),
    Space("apple_log", "Apple Log", "log", "rec2020", "Apple Log (iPhone), Rec.2020 primaries."),
    Space("davinci_intermediate", "DaVinci Intermediate WideGamut", "log", "DWG",
          "DaVinci Intermediate, DaVinci Wide Gamut."),
)
SPACES.update({s.name: s for s in SOURCE_ONLY_SPACES})

OUTPUT_SPACES: tuple[str, ...] = ("rec709", "srgb", "rec2020", "p3d65", "hdr10")
"""Names a film's `colour WORKING -> OUTPUT` and a profile's `colour` may give as output."""
WORKING_SPACES: tuple[str, ...] = (
    "ACEScg",
    "ACES2065-1",
    "ACEScct",
    "lin_rec709",
    "lin_rec2020",
    "lin_p3d65",
)

_ALIASES = {
    "aces": "ACES2065-1",
    "ap0": "ACES2065-1",
    "ap1": "ACEScg",
    "linearrec709": "lin_rec709",
    "linsrgb": "lin_rec709",
    "linearsrgb": "lin_rec709",
    "linearrec2020": "lin_rec2020",
    "linearp3d65": "lin_p3d65",
    "bt709": "rec709",
    "bt1886": "rec709",
    "bt2020": "rec2020",
    "dcip3d65": "p3d65",
    "p3": "p3d65",
    "pq": "hdr10",
    "rec2100pq": "hdr10",
    "rec2020pq": "hdr10",
}


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


_LOOKUP = {_key(n): n for n in SPACES} | _ALIASES


class ColourSpaceError(ValueError):
    """An unknown colour-space name or unsupported conversion, phrased for the user."""


def space(name: str) -> Space:
    """Look a space up by filmc name, case- and punctuation-insensitively (`ACEScg`, `sRGB`, `Rec.709`)."""
    found = _LOOKUP.get(_key(name))
    if found is None:
        known = ", ".join(SPACES)
        raise ColourSpaceError(f"unknown colour space {name!r}; known: {known}")
    return SPACES[found]


@lru_cache(maxsize=1)
def config() -> ocio.Config:
    return ocio.Config.CreateFromFile(CONFIG_URI)


def transform(src: str, dst: str, rendering: Rendering = "colorimetric") -> ocio.Transform:
    """The OCIO transform taking `src` to `dst` (for composing into larger chains)."""
    if rendering not in RENDERINGS:
        raise ColourSpaceError(f"unknown rendering {rendering!r}; use one of {', '.join(RENDERINGS)}")
    s, d = space(src), space(dst)
    if rendering == "aces" and s.kind != "display" and d.kind == "display":
        return ocio.DisplayViewTransform(src=s.ocio_name, display=d.display, view=d.aces_view)
    if rendering == "aces" and s.kind == "display" and d.kind != "display":
        return ocio.DisplayViewTransform(
            src=d.ocio_name, display=s.display, view=s.aces_view, direction=ocio.TRANSFORM_DIR_INVERSE
        )
    # The config's default view transform is "Un-tone-mapped", so a plain
    # colour-space transform across reference spaces stays colorimetric.
    return ocio.ColorSpaceTransform(src=s.ocio_name, dst=d.ocio_name)


@lru_cache(maxsize=64)
def processor(src: str, dst: str, rendering: Rendering = "colorimetric") -> ocio.CPUProcessor:
    """A cached, optimised 32-bit float CPU processor for `src` -> `dst`."""
    return cpu_processor(transform(src, dst, rendering))


def cpu_processor(tr: ocio.Transform) -> ocio.CPUProcessor:
    return config().getProcessor(tr).getDefaultCPUProcessor()


def apply_processor(cpu: ocio.CPUProcessor, image: np.ndarray, threads: int | None = None) -> np.ndarray:
    """Apply a CPU processor to a copy of `image` (..., 3), splitting rows across threads.

    OCIO releases the GIL while it works, so bands of rows run in parallel.
    """
    out = np.array(image, dtype=np.float32, order="C", copy=True)
    if out.shape[-1] != 3:
        raise ValueError(f"expected an image with 3 channels in the last axis, got shape {out.shape}")
    flat = out.reshape(-1, 3)
    workers = threads or os.cpu_count() or 1
    if workers == 1 or flat.shape[0] < 65536:
        cpu.applyRGB(flat)
        return out
    bands = np.array_split(np.arange(flat.shape[0]), workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda idx: cpu.applyRGB(flat[idx[0] : idx[-1] + 1]), [b for b in bands if len(b)]))
    return out


def convert(image: np.ndarray, src: str, dst: str, *, rendering: Rendering = "colorimetric") -> np.ndarray:
    """Convert a float image (H x W x 3, or any ... x 3) from `src` to `dst`; returns float32.

    Names are the film header's: ACEScg, ACES2065-1, ACEScct, lin_rec709,
    lin_rec2020, lin_p3d65, and the outputs rec709, srgb, rec2020, p3d65, hdr10.
    With the default colorimetric rendering a scene-linear value of 1.0 is
    display peak (100 nits for hdr10); pass rendering="aces" for the ACES
    output transform (or its inverse when `src` is a display space).
    """
    return apply_processor(processor(space(src).name, space(dst).name, rendering), image)
