"""filmc's colour pipeline: spaces, LUTs, grades, bakes for ffmpeg, shot matching.

The public API, re-exported here; see each module for the why:
- spaces:   convert(image, src, dst, rendering=...), space(), transform(), OUTPUT_SPACES
- tags:     FFMPEG_TAGS / tags_for(output): ffmpeg colour tags and filter tail per output
- cube:     read_cube / parse_cube / write_cube / apply_cube (OCIO, tetrahedral), LutError
- grade:    Grade (exposure, contrast+pivot, saturation, temperature/tint, LUT at strength)
- chain:    build_chain(grade, src, dst, ...) -> ColourChain: the exact per-shot pipeline
- bake:     bake_chain(chain, dir) -> Bake(cube, shaper, encoder, ffmpeg_filter);
            validate_bake / measure_bake against the exact chain
- match:    match_scene / match_shot -> ShotMatch (LabTransfer correction + ΔE2000 QC)
- delta_e:  delta_e_2000
- library:  resolve_lut("std.teal_orange"), stdlib_luts()
- sources:  footage colour: probe_tags / space_from_tags / decoding, conversion(space, output) -> Conversion
            (baked stages for ffmpeg + measured error); imported as filmc.runtime.colour.sources
"""

from .bake import Bake, BakeReport, apply_bake, bake_chain, measure_bake, validate_bake, validation_chart
from .chain import ColourChain, build_chain
from .cube import Cube, LutError, apply_cube, apply_cube_numpy, parse_cube, read_cube, write_cube
from .delta_e import delta_e_2000
from .grade import Grade, GradeError, white_balance_matrix
from .library import STDLIB_LUT_DIR, resolve_lut, stdlib_luts
from .match import LabTransfer, ShotMatch, match_scene, match_shot, mean_lab, working_to_lab
from .spaces import OUTPUT_SPACES, SPACES, WORKING_SPACES, ColourSpaceError, convert, space, transform
from .tags import FFMPEG_TAGS, OutputTags, content_light_levels, tags_for

__all__ = [
    "FFMPEG_TAGS",
    "OUTPUT_SPACES",
    "SPACES",
    "STDLIB_LUT_DIR",
    "WORKING_SPACES",
    "Bake",
    "BakeReport",
    "ColourChain",
    "ColourSpaceError",
    "Cube",
    "Grade",
    "GradeError",
    "LabTransfer",
    "LutError",
    "OutputTags",
    "ShotMatch",
    "apply_bake",
    "apply_cube",
    "apply_cube_numpy",
    "bake_chain",
    "build_chain",
    "content_light_levels",
    "convert",
    "delta_e_2000",
    "match_scene",
    "match_shot",
    "mean_lab",
    "measure_bake",
    "parse_cube",
    "read_cube",
    "resolve_lut",
    "space",
    "stdlib_luts",
    "tags_for",
    "validation_chart",
    "transform",
    "validate_bake",
    "white_balance_matrix",
    "write_cube",
    "working_to_lab",
]
