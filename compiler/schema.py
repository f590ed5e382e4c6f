"""The type of every property a definition, scene or shot may carry.

This is the language's type system for `key value...` lines: the vocabulary
itself (which shot types, styles, profiles exist) lives in `stdlib/*.film`;
only the *kinds* of things and their property types are declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

# Value types a property can take. Each is parsed and checked by `values.py`.
#   text        "a string"
#   texts       "a", "b", "c"
#   name:K      a reference to a definition of kind K (std.x allowed)
#   names:K     comma-separated references of kind K
#   word        a bare identifier from an open set (e.g. a language tag `en-us`)
#   enum:a|b|c  one of the listed bare words
#   number      a unitless number
#   duration    s | ms | f
#   length      mm
#   level       dB
#   loudness    LUFS
#   percent     %
#   rate        wpm
#   bitrate     kbps | Mbps
#   frequency   Hz | kHz
#   hexes       #rrggbb, #rrggbb
#   resolution  1920x1080
#   timecode    01:00:00:00
#   path        "relative/or/absolute/file" (must exist)
#   spaces      working -> output colour space
#   graded      name:grade [at percent]
#   bed         name:K [at level]
#   cue         name:sfx at duration [level]
#   camera      name:camera_move [name:camera_speed]
#   media       path [from duration] [to duration] [colour name] (names: MEDIA_COLOUR_SPACES)
#   flag        no value
#   variant     name:time_of_day { look, plate }


@dataclass(frozen=True)
class Prop:
    type: str
    doc: str
    required: bool = False
    repeated: bool = False


FILM = {
    "resolution": Prop("resolution", "Frame size in pixels; both sides even.", required=True),
    "fps": Prop("number", "Frame rate: 23.976, 24, 25, 29.97, 30, 48, 50, 59.94 or 60.", required=True),
    "colour": Prop("spaces", "Working and output colour spaces, e.g. `ACEScg -> rec709`."),
    "loudness": Prop("loudness", "Integrated loudness target of the mix, e.g. `-14 LUFS`."),
    "export": Prop("names:profile", "Export profiles to deliver, e.g. `web_mp4, prores_422`."),
    "start": Prop("timecode", "Record timecode of the first frame (default 01:00:00:00)."),
    "audio": Prop("enum:stereo|5.1", "Channel layout of the mix (default stereo)."),
    "style": Prop("name:style", "Default style for scenes that name none."),
    "seed": Prop("number", "Base random seed for generation."),
}

STYLE = {
    "look": Prop("text", "Overall look, added to every image prompt."),
    "palette": Prop("hexes", "Key colours of the style."),
    "lighting": Prop("text", "Lighting description."),
    "lens": Prop("length", "Default lens focal length (8-1200 mm)."),
    "texture": Prop("text", "Film texture: grain, halation, ..."),
    "avoid": Prop("texts", "Things that must not appear (negative prompt)."),
    "grade": Prop("graded", "Colour grade applied to shots in this style, with strength."),
    "image_template": Prop("path", "Jinja2 template overriding the image prompt."),
    "motion_template": Prop("path", "Jinja2 template overriding the motion prompt."),
    "negative_template": Prop("path", "Jinja2 template overriding the negative prompt."),
}

GRADE = {
    "lut": Prop("lut", "A LUT: a stdlib LUT name (`std.teal_orange`) or a `.cube` file path."),
    "strength": Prop("percent", "Blend of the LUT with the ungraded image (0-100%)."),
    "exposure": Prop("number", "Exposure change in stops."),
    "contrast": Prop("number", "Contrast around the pivot; 1 is neutral."),
    "pivot": Prop("number", "Contrast pivot in scene-linear (default 0.18)."),
    "saturation": Prop("number", "Saturation; 1 is neutral, 0 is black and white."),
    "temperature": Prop("number", "White balance shift, -100 (cool) to 100 (warm)."),
    "tint": Prop("number", "White balance tint, -100 (green) to 100 (magenta)."),
}

VOICE = {
    "engine": Prop("enum:espeak|piper", "Speech engine.", required=True),
    "language": Prop("word", "Language tag, e.g. `en-us`, `fr-fr`, `cmn-latn-pinyin`.", required=True),
    "pitch": Prop("number", "Base pitch, 0-99 (espeak scale)."),
    "rate": Prop("rate", "Speaking rate in words per minute (80-450)."),
    "variant": Prop("word", "Engine voice variant, e.g. `m3`, `f2`."),
    "amplitude": Prop("number", "Loudness of the voice, 0-200 (espeak scale, 100 normal)."),
}

CHARACTER = {
    "look": Prop("text", "How the character looks; goes into every prompt they appear in.", required=True),
    "voice": Prop("name:voice", "The voice their lines are spoken in."),
    "wears": Prop("text", "Starting wardrobe."),
}

LOCATION = {
    "look": Prop("text", "How the place looks.", required=True),
    "plate": Prop("path", "A user image to use as the setting plate instead of generating one."),
    "when": Prop("variant", "Look and plate for one time of day: `when night { look \"...\" }`.", repeated=True),
    "colour": Prop("word", "Colour space of the plate image (default sRGB)."),
}

PROP = {
    "look": Prop("text", "How the prop looks."),
}

SHOT_TYPE = {
    "framing": Prop("number", "Subject height as a fraction of frame height (0.05-1.5)."),
    "prompt": Prop("text", "Words for the prompt, e.g. `wide shot`."),
    "abbrev": Prop("word", "Abbreviation used on burn-ins and contact sheets (WS, MCU...)."),
    "subjects": Prop("number", "How many subjects the framing is for (e.g. 2 for a two-shot)."),
}

CAMERA_MOVE = {
    "motion": Prop("enum:static|zoom|pan|tilt|dolly|truck|crane|handheld|orbit", "The primitive motion.",
                   required=True),
    "amount": Prop("number", "Size of the move: zoom factor, or fraction of frame travelled."),
    "prompt": Prop("text", "Words for the motion prompt."),
}

CAMERA_SPEED = {
    "factor": Prop("number", "Multiplier applied to a move's amount.", required=True),
    "prompt": Prop("text", "Words for the motion prompt."),
}

ANGLE = {
    "prompt": Prop("text", "Words for the prompt, e.g. `low angle`.", required=True),
}

TRANSITION = {
    "effect": Prop("enum:cut|dissolve|fade_in|fade_out|dip|wipe|match_cut", "What the transition does.",
                   required=True),
    "colour": Prop("hexes", "Colour dipped through (dip) or faded from/to (fades)."),
    "duration": Prop("duration", "Default duration when a use gives none."),
}

PROFILE = {
    "container": Prop("enum:mp4|mov|mxf|webm|mkv|exr|dpx", "File container or image sequence.", required=True),
    "video": Prop("enum:h264|h265|prores|dnxhr|vp9|av1|exr|dpx", "Video codec.", required=True),
    "video_profile": Prop("word", "Codec profile, e.g. `high`, `hq`, `4444`, `dnxhr_hq`."),
    "pixel_format": Prop("word", "Pixel format, e.g. `yuv420p`, `yuv422p10le`."),
    "bitrate": Prop("bitrate", "Target video bitrate."),
    "crf": Prop("number", "Constant quality factor (when no bitrate is set)."),
    "preset": Prop("word", "Encoder speed preset."),
    "audio": Prop("enum:aac|opus|pcm|none", "Audio codec."),
    "audio_bitrate": Prop("bitrate", "Audio bitrate."),
    "audio_rate": Prop("frequency", "Audio sample rate."),
    "colour": Prop("enum:rec709|srgb|rec2020|p3d65|hdr10", "Output colour space and tags."),
    "loudness": Prop("loudness", "Loudness target overriding the film's."),
    "subtitles": Prop("enum:none|sidecar|burn", "Subtitles: none, sidecar files or burnt in."),
    "extension": Prop("word", "File extension override."),
    "tag": Prop("word", "Codec tag, e.g. `hvc1`."),
}

BED = {
    "synth": Prop("word", "Name of a generator built into filmc (rain, wind, city_night, ...)."),
    "file": Prop("path", "An audio file to use instead of a generator."),
    "level": Prop("level", "Default level."),
    "description": Prop("text", "What it sounds like."),
}

SFX = {
    "synth": Prop("word", "Name of a synthesised effect built into filmc (impact, glass, ...)."),
    "file": Prop("path", "An audio file to use instead."),
    "level": Prop("level", "Default level."),
    "description": Prop("text", "What it sounds like."),
}

TIME_OF_DAY = {
    "prompt": Prop("text", "Words for the prompt, e.g. `at night`.", required=True),
    "palette": Prop("hexes", "Sky and light colours for procedural plates."),
    "brightness": Prop("number", "Overall brightness for procedural plates, 0-1."),
}

SCENE = {
    "style": Prop("name:style", "Style of the scene."),
    "target": Prop("duration", "Target running time; pacing is checked against it (±5%)."),
    "ambience": Prop("bed:ambience", "Ambience bed and its level, e.g. `std.city_night at -28 dB`.",
                     repeated=True),
    "music": Prop("bed:music", "Music bed and its level.", repeated=True),
    "grade": Prop("graded", "Grade overriding the style's."),
    "seed": Prop("number", "Random seed for this scene."),
    "note": Prop("text", "A note for the crew; does not affect the film.", repeated=True),
}

SHOT = {
    "camera": Prop("camera", "Camera move and optional speed: `camera push_in slow`."),
    "lens": Prop("length", "Lens focal length (8-1200 mm)."),
    "angle": Prop("name:angle", "Camera angle."),
    "action": Prop("text", "What happens in the shot."),
    "media": Prop("media", "Use footage instead of generating: `media \"take3.mov\" from 2s to 6s`; "
                           "`colour rec2020_pq` overrides the colour space the file's tags give."),
    "sfx": Prop("cue", "A sound effect at an offset into the shot: `sfx std.glass_break at 1.5s`.",
                repeated=True),
    "seed": Prop("number", "Random seed for this shot."),
    "note": Prop("text", "A note for the crew; does not affect the film.", repeated=True),
    "style": Prop("name:style", "Style overriding the scene's."),
    "grade": Prop("graded", "Grade overriding the style's."),
    "reference": Prop("flag", "This shot is the scene's colour reference for shot matching."),
}

DEFINITION_KINDS: dict[str, dict[str, Prop]] = {
    "style": STYLE,
    "grade": GRADE,
    "voice": VOICE,
    "character": CHARACTER,
    "location": LOCATION,
    "prop": PROP,
    "shot_type": SHOT_TYPE,
    "camera_move": CAMERA_MOVE,
    "camera_speed": CAMERA_SPEED,
    "angle": ANGLE,
    "transition": TRANSITION,
    "profile": PROFILE,
    "ambience": BED,
    "music": BED,
    "sfx": SFX,
    "time_of_day": TIME_OF_DAY,
}

# Kinds a definition may `extends` (others have nothing worth inheriting).
EXTENDABLE = {"style", "grade", "voice", "profile", "character", "location"}

UNITS = {
    "duration": {"s", "ms", "f"},
    "length": {"mm"},
    "level": {"dB"},
    "loudness": {"LUFS"},
    "percent": {"%"},
    "rate": {"wpm"},
    "bitrate": {"kbps", "Mbps"},
    "frequency": {"Hz", "kHz"},
    "number": {""},
}
ALL_UNITS = set().union(*UNITS.values()) - {""}

TRANSITION_DIRECTIONS = ("left", "right", "up", "down")
CONTINUOUS = "continuous"

MEDIA_COLOUR_SPACES: dict[str, str] = {
    # Display-referred: code values meant for a display (video, stills, masters).
    "rec709": "Rec.709 primaries, BT.1886 (gamma 2.4): HD video; untagged footage is taken to be this.",
    "srgb": "Rec.709 primaries, sRGB curve: screen recordings, web video.",
    "rec2020": "Rec.2020 primaries, BT.1886 (gamma 2.4): SDR UHD video.",
    "rec2020_pq": "Rec.2100 PQ (SMPTE ST 2084), Rec.2020 primaries: HDR10 video.",
    "rec2020_hlg": "Rec.2100 HLG (1000-nit display), Rec.2020 primaries: broadcast and phone HDR.",
    "p3d65": "P3 primaries, D65 white, gamma 2.6: P3-D65 cinema masters.",
    "p3d65_pq": "P3 primaries, D65 white, PQ (SMPTE ST 2084): HDR cinema and streaming masters.",
    "display_p3": "P3 primaries, D65 white, sRGB curve: Apple Display P3.",
    "p3dci": "P3 primaries, DCI white, gamma 2.6: DCI cinema masters.",
    # Scene-referred: camera log encodings and linear light (rendered through the ACES output transform).
    "arri_logc3": "ARRI LogC3 (EI 800), ALEXA Wide Gamut 3.",
    "arri_logc4": "ARRI LogC4, ARRI Wide Gamut 4.",
    "slog3_sgamut3cine": "Sony S-Log3, S-Gamut3.Cine.",
    "slog3_sgamut3": "Sony S-Log3, S-Gamut3.",
    "vlog_vgamut": "Panasonic V-Log, V-Gamut.",
    "log3g10_rwg": "RED Log3G10, REDWideGamutRGB.",
    "canonlog3_cgamut": "Canon Log 3, Cinema Gamut (daylight).",
    "bmdfilm_gen5": "Blackmagic Film Gen 5, Blackmagic Wide Gamut Gen 5.",
    "apple_log": "Apple Log (iPhone), Rec.2020 primaries.",
    "davinci_intermediate": "DaVinci Intermediate, DaVinci Wide Gamut.",
    "acescct": "ACEScct: ACES AP1 log.",
    "acescg": "ACEScg: scene-linear ACES AP1 (EXR renders).",
    "aces2065_1": "ACES2065-1: scene-linear ACES AP0 (ACES interchange EXR).",
    "lin_rec709": "Scene-linear light, Rec.709 primaries (linear EXR).",
    "lin_rec2020": "Scene-linear light, Rec.2020 primaries.",
}
"""The colour spaces a `media` clip may declare (`media "x.mov" colour rec2020_pq`), with what they are.
Without a declaration the runtime reads the file's colour tags; runtime/colour/sources.py maps each
name to the colour library and the tags to a name."""


def media_colour_key(text: str) -> str:
    """How a written space name is looked up: case-insensitive, `-` same as `_` (`ACES2065-1`)."""
    return text.lower().replace("-", "_")
